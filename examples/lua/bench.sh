#!/usr/bin/env bash
# Lua workloads on an rcgc heap against the system allocator (realloc/free,
# what the stock `lua` uses), in the same run, interleaved.
#
#   examples/lua/bench.sh [RCGC_LUA] [RUNS]
#
# RCGC_LUA: the rcgc-lua binary (default: build/examples/lua/rcgc-lua).
# RUNS: runs per workload and allocator (default 5).  BENCH_CPU=N pins every
# run to CPU N (bench/lib.sh, rusage_run).  WORKLOADS="a b" picks
# workloads; SIZE passes a size argument to each; GC=generational runs Lua's
# collector in the mode the lua command sets (--gc; default: incremental,
# lua_newstate's).
# Prints, per workload, the median wall and CPU (user+sys) times, the ratio
# system/rcgc (above 1: rcgc faster), the median peak RSS of each and the
# median anonymous memory at the script's end, before lua_close (bench/lib.sh,
# compare_pairs).  The peak also counts pages of the program's files, which
# move it by up to +-100 KiB between runs of either allocator on the small
# workloads (examples/common/host.h, host_anon_kib); the anonymous memory
# is what the allocators hold.
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
gc="${GC:-incremental}"
if [ ! -x "$lua" ]; then
  echo "bench.sh: no rcgc-lua at $lua (build it, or pass its path)" >&2
  exit 1
fi
tmp="$(mktemp -d "${TMPDIR:-/tmp}/rcgc-lua-bench.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=../../bench/lib.sh
. "$here/../../bench/lib.sh"

# run_one I rcgc|system: run I of workload $w (the script reached through a
# path I characters longer, see above), with --alloc=rcgc or --alloc=libc
run_one() {
  local pad alloc=rcgc
  pad="$tmp/$(printf '%*s' "$1" '' | tr ' ' p)"
  [ -e "$pad/w" ] || { mkdir -p "$pad" && ln -s "$here/workloads" "$pad/w"; }
  [ "$2" = system ] && alloc=libc
  # shellcheck disable=SC2086 # $size: empty or one number
  rusage_run "$lua" --alloc=$alloc --gc="$gc" "$pad/w/$w.lua" $size
}

echo "rcgc-lua benchmark: $runs runs each, medians; time ratios system / rcgc (above 1: rcgc faster),"
echo "memory ratios rcgc / system (below 1: rcgc smaller); anon: anonymous memory at the script's end"
echo "binary: $lua; Lua's collector: $gc"
compare_header workload libc
for w in $workloads; do
  compare_pairs "$w" "$runs" run_one
done
