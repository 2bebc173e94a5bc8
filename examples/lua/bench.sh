#!/usr/bin/env bash
# Lua workloads on an rcgc heap against the system allocator (realloc/free,
# what the stock `lua` uses), in the same run, interleaved.
#
#   examples/lua/bench.sh [RCGC_LUA] [RUNS]
#
# RCGC_LUA: the rcgc-lua binary (default: build/examples/lua/rcgc-lua).
# RUNS: runs per workload and allocator (default 5).  WORKLOADS="a b" picks
# workloads; SIZE passes a size argument to each.
# Prints, per workload, the median wall and CPU (user+sys) times, the ratio
# system/rcgc (above 1: rcgc faster) and the median peak RSS of each.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
lua="${1:-$here/../../build/examples/lua/rcgc-lua}"
runs="${2:-5}"
workloads="${WORKLOADS:-binarytrees strings tables closures json}"
size="${SIZE:-}"
if [ ! -x "$lua" ]; then
  echo "bench.sh: no rcgc-lua at $lua (build it, or pass its path)" >&2
  exit 1
fi

median() {
  printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
    END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# one run: prints "wall cpu maxrss_kib"
one() {
  local out
  if ! out="$("$lua" --rusage "$@" 2>&1 >/dev/null)"; then
    echo "bench.sh: run failed: $lua --rusage $*" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "$out" | awk '/rusage/ {
      for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      printf "%s %.3f %s\n", v["wall_s"], v["user_s"] + v["sys_s"], v["maxrss_kib"] }'
}

echo "rcgc-lua benchmark: $runs runs each, medians; ratio = system / rcgc (above 1: rcgc faster)"
echo "binary: $lua"
printf '%-12s %9s %9s %6s   %9s %9s %6s   %10s %10s %6s\n' workload "rcgc s" "system s" ratio \
  "rcgc cpu" "sys cpu" ratio "rcgc KiB" "system KiB" ratio
for w in $workloads; do
  script="$here/workloads/$w.lua"
  rw=() rc=() rm=() sw=() sc=() sm=()
  for ((i = 1; i <= runs; i++)); do
    # alternate the order so neither allocator always runs first
    if ((i % 2)); then order="rcgc system"; else order="system rcgc"; fi
    for a in $order; do
      if [ "$a" = rcgc ]; then
        read -r t c m < <(one "$script" $size)
        rw+=("$t") rc+=("$c") rm+=("$m")
      else
        read -r t c m < <(one --system "$script" $size)
        sw+=("$t") sc+=("$c") sm+=("$m")
      fi
    done
  done
  mrw=$(median "${rw[@]}") msw=$(median "${sw[@]}")
  mrc=$(median "${rc[@]}") msc=$(median "${sc[@]}")
  mrm=$(median "${rm[@]}") msm=$(median "${sm[@]}")
  awk -v w="$w" -v rw="$mrw" -v sw="$msw" -v rc="$mrc" -v sc="$msc" -v rm="$mrm" -v sm="$msm" 'BEGIN {
    printf "%-12s %9.3f %9.3f %5.2fx   %9.3f %9.3f %5.2fx   %10d %10d %6.3f\n",
      w, rw, sw, sw / rw, rc, sc, sc / rc, rm, sm, rm / sm }'
done
