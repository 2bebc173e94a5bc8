# bench/lib.sh — shell helpers shared by the benchmark scripts (sourced:
# bench/run.sh, bench/threads_run.sh, bench/sizes.sh, examples/lua/bench.sh,
# examples/sqlite/bench.sh).

# median N...: the median of the numbers given (the mean of the middle two
# for an even count).
median() {
  printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
    END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# rusage_run PROG ARGS...: one run of a client host (rcgc-lua, rcgc-sqlite)
# with --rusage; prints "wall cpu maxrss_kib anon_kib" (anon_kib: the
# process's anonymous memory while the client still holds its data,
# examples/common/host.h host_anon_kib).  A failed run stops the
# script with its output.  BENCH_CPU=N pins the run to CPU N (taskset): on
# a VM whose CPUs differ in speed from one process to the next (seen here:
# 2026-12-07, one of two vCPUs 1.5x slower at times), both sides of a
# comparison then run on the same one.
rusage_run() {
  local prog="$1" out pin=()
  shift
  if [ -n "${BENCH_CPU:-}" ] && command -v taskset >/dev/null 2>&1; then
    pin=(taskset -c "$BENCH_CPU")
  fi
  if ! out="$("${pin[@]}" "$prog" --rusage "$@" 2>&1 >/dev/null)"; then
    echo "bench.sh: run failed: $prog --rusage $*" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "$out" | awk '/rusage/ {
      for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      printf "%s %.3f %s %s\n", v["wall_s"], v["user_s"] + v["sys_s"], v["maxrss_kib"], v["anon_kib"] }'
}

# The header of compare_pairs' rows; $1: what the first column names,
# $2: what the C library's allocator is called in the headings (libc).
compare_header() {
  printf '%-12s %10s %10s %6s   %10s %10s %6s   %10s %10s %6s   %10s %10s %6s\n' "$1" \
    "rcgc s" "$2 s" ratio "rcgc cpu" "$2 cpu" ratio \
    "rcgc KiB" "$2 KiB" ratio "rcgc anon" "$2 anon" ratio
}

# compare_pairs LABEL RUNS RUN_FN: RUNS pairs of runs, rcgc and the C
# library's allocator, alternating which goes first so that neither always
# does; `RUN_FN i rcgc|system` makes run i with that allocator and prints
# rusage_run's line.  Prints one row: the median wall and CPU times, their
# ratios system/rcgc (above 1: rcgc faster), the median peak RSS and the
# median anonymous memory with their ratios rcgc/system (below 1: rcgc
# smaller).
compare_pairs() {
  local label=$1 runs=$2 run_fn=$3 i a t c m n order
  if ! [ "$runs" -ge 1 ] 2>/dev/null; then
    echo "compare_pairs: RUNS must be a number of runs, 1 or more, not '$runs'" >&2
    exit 2
  fi
  local rw=() rc=() rm=() rn=() sw=() sc=() sm=() sn=()
  for ((i = 1; i <= runs; i++)); do
    if ((i % 2)); then order="rcgc system"; else order="system rcgc"; fi
    for a in $order; do
      read -r t c m n < <("$run_fn" "$i" "$a")
      if [ "$a" = rcgc ]; then
        rw+=("$t") rc+=("$c") rm+=("$m") rn+=("$n")
      else
        sw+=("$t") sc+=("$c") sm+=("$m") sn+=("$n")
      fi
    done
  done
  awk -v w="$label" -v rw="$(median "${rw[@]}")" -v sw="$(median "${sw[@]}")" \
      -v rc="$(median "${rc[@]}")" -v sc="$(median "${sc[@]}")" \
      -v rm="$(median "${rm[@]}")" -v sm="$(median "${sm[@]}")" \
      -v rn="$(median "${rn[@]}")" -v sn="$(median "${sn[@]}")" 'BEGIN {
    printf "%-12s %10.3f %10.3f %5.2fx   %10.3f %10.3f %5.2fx   %10d %10d %6.3f   %10d %10d %6.3f\n",
      w, rw, sw, sw / rw, rc, sc, sc / rc, rm, sm, rm / sm, rn, sn, (sn > 0 ? rn / sn : 0) }'
}

# find_lib SONAME...: print the path of the first soname that is installed.
find_lib() {
    local name dir path
    for name in "$@"; do
        path=$( { /sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null; } |
            awk -v n="$name" '$1 == n && /x86-64|x86_64|64bit|AArch64/ { print $NF; exit }')
        if [ -z "$path" ]; then
            path=$( { /sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null; } |
                awk -v n="$name" '$1 == n { print $NF; exit }')
        fi
        if [ -n "$path" ] && [ -e "$path" ]; then
            echo "$path"
            return 0
        fi
        for dir in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib64 /usr/lib \
                   /usr/local/lib /usr/lib/aarch64-linux-gnu; do
            if [ -e "$dir/$name" ]; then
                echo "$dir/$name"
                return 0
            fi
        done
    done
    return 1
}

# peer_lib NAME OVERRIDE SONAME...: the .so to preload, "" if absent.
peer_lib() {
    local override=$2
    shift 2
    if [ "$override" = none ]; then
        return 0
    elif [ -n "$override" ]; then
        [ -e "$override" ] && echo "$override"
        return 0
    fi
    find_lib "$@" || true
}
