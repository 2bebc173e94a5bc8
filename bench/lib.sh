# bench/lib.sh — shell helpers shared by the benchmark scripts (sourced:
# bench/sizes.sh, examples/lua/bench.sh, examples/sqlite/bench.sh).

# median N...: the median of the numbers given (the mean of the middle two
# for an even count).
median() {
  printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
    END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# rusage_run PROG ARGS...: one run of a client host (rcgc-lua, rcgc-sqlite)
# with --rusage; prints "wall cpu maxrss_kib".  A failed run stops the
# script with its output.
rusage_run() {
  local prog="$1" out
  shift
  if ! out="$("$prog" --rusage "$@" 2>&1 >/dev/null)"; then
    echo "bench.sh: run failed: $prog --rusage $*" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "$out" | awk '/rusage/ {
      for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      printf "%s %.3f %s\n", v["wall_s"], v["user_s"] + v["sys_s"], v["maxrss_kib"] }'
}
