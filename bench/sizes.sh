#!/usr/bin/env bash
# bench/sizes.sh — measure rcgc's allocator with other pool and arena sizes,
# to justify the default (16 KiB pools, 1 MiB arenas; docs/allocator.md).
#
#   bench/sizes.sh [SHIFTS] [RUNS]
#
# SHIFTS: log2 pool sizes to try (default "13 14 15 16": 8, 16, 32 and
# 64 KiB pools, so 512 KiB, 1, 2 and 4 MiB arenas, an arena being 64 pools).
# RUNS: runs per figure (default 3; the median is printed).
#
# Each size gets its own build tree under build-sizes/ (CMake option
# RCGC_POOL_SHIFT; only the allocator benchmark is built), and the same
# alloc_bench workloads as bench/run.sh are run on rcgc alone: churn W=1K
# and W=1M, the fixed 32-byte loop and refill W=1M.  Printed per size:
# ns per alloc+free pair and the heap's own peak (heap_kib: the growth of
# the process's peak RSS over the workload).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shifts="${1:-13 14 15 16}"
runs="${2:-3}"
# shellcheck source=lib.sh
. "$root/bench/lib.sh"

case "$runs" in ''|*[!0-9]*) echo "sizes.sh: RUNS must be a number" >&2; exit 2 ;; esac

# field NAME LINE: the value of key NAME in an alloc_bench result line
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

printf '%-6s %-7s' pool arena
for w in churn-1k churn-1m fixed32 refill-1m; do printf ' %16s' "$w ns | KiB"; done
printf '\n'

for s in $shifts; do
  case "$s" in 1[3-6]) ;; *) echo "sizes.sh: shift $s outside 13..16" >&2; exit 2 ;; esac
  dir="$root/build-sizes/pool$s"
  cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRCGC_POOL_SHIFT="$s" \
    -DRCGC_BUILD_TESTS=OFF -DRCGC_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build "$dir" --target alloc_bench -j 2 >/dev/null
  bin="$dir/bench/alloc_bench"
  printf '%-6s %-7s' "$(( (1 << s) / 1024 ))K" "$(( (64 << s) / 1024 ))K"
  for w in "churn --live 1000" "churn --live 1000000" "fixed32" "refill --live 1000000"; do
    ns=(); kib=()
    for _ in $(seq "$runs"); do
      # shellcheck disable=SC2086  # $w holds the workload and its options
      line="$("$bin" rcgc $w | grep '^result')"
      ns+=("$(field ns_per_pair "$line")")
      kib+=("$(field heap_kib "$line")")
    done
    printf ' %8s | %6s' "$(median "${ns[@]}")" "$(median "${kib[@]}")"
  done
  printf '\n'
done
