#!/usr/bin/env bash
# Lua workloads on an rcgc heap against the system allocator (realloc/free,
# what the stock `lua` uses), in the same run, interleaved.
#
#   examples/lua/bench.sh [RCGC_LUA] [RUNS]
#
# RCGC_LUA: the rcgc-lua binary (default: build/examples/lua/rcgc-lua).
# RUNS: runs per workload and allocator (default 5).  BENCH_CPU=N pins every
# run to CPU N (bench/lib.sh, rusage_run).  WORKLOADS="a b" picks
# workloads; SIZE passes a size argument to each.
# Prints, per workload, the median wall and CPU (user+sys) times, the ratio
# system/rcgc (above 1: rcgc faster) and the median peak RSS of each.
#
# Peak RSS depends on where Lua's collection cycles fall relative to the
# program's own peak, and a few bytes more or less in any allocation move
# them (on binarytrees, by up to 1.2 MiB for either allocator).  So:
#  - the allocator is chosen with --alloc=rcgc or --alloc=libc, two arguments
#    of the same length, and the two runs of a pair are otherwise identical:
#    Lua makes the same allocations and collects at the same points in both;
#  - run i reaches the script through a symlink in a directory whose name is
#    i characters long, which shifts those points from one pair to the next
#    (the path is in `arg` and in every function's source name), so the
#    medians are taken over different phases instead of one lucky or
#    unlucky one.
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
tmp="$(mktemp -d "${TMPDIR:-/tmp}/rcgc-lua-bench.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=../../bench/lib.sh
. "$here/../../bench/lib.sh"

# one run: prints "wall cpu maxrss_kib"
one() { rusage_run "$lua" "$@"; }

echo "rcgc-lua benchmark: $runs runs each, medians; ratio = system / rcgc (above 1: rcgc faster)"
echo "binary: $lua"
printf '%-12s %9s %9s %6s   %9s %9s %6s   %10s %10s %6s\n' workload "rcgc s" "system s" ratio \
  "rcgc cpu" "sys cpu" ratio "rcgc KiB" "system KiB" ratio
for w in $workloads; do
  rw=() rc=() rm=() sw=() sc=() sm=()
  for ((i = 1; i <= runs; i++)); do
    pad="$tmp/$(printf '%*s' "$i" '' | tr ' ' p)"
    [ -e "$pad/w" ] || { mkdir -p "$pad" && ln -s "$here/workloads" "$pad/w"; }
    script="$pad/w/$w.lua"
    # alternate the order so neither allocator always runs first
    if ((i % 2)); then order="rcgc system"; else order="system rcgc"; fi
    for a in $order; do
      if [ "$a" = rcgc ]; then
        read -r t c m < <(one --alloc=rcgc "$script" $size)
        rw+=("$t") rc+=("$c") rm+=("$m")
      else
        read -r t c m < <(one --alloc=libc "$script" $size)
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
