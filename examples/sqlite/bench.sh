#!/usr/bin/env bash
# The SQLite workload on an rcgc heap against SQLite's default allocator
# (malloc), in the same run, interleaved.
#
#   examples/sqlite/bench.sh [RCGC_SQLITE] [RUNS] [ROWS]
#
# RCGC_SQLITE: the rcgc-sqlite binary (default: build/examples/sqlite/rcgc-sqlite).
# RUNS: runs per configuration and allocator (default 5).  ROWS: default 200000.
# BENCH_CPU=N pins every run to CPU N (bench/lib.sh, rusage_run).
# Two configurations (CONFIGS="memory file" picks): the database in memory,
# and in a file (synchronous=OFF, in $TMPDIR or /tmp).  Prints the median wall
# and CPU (user+sys) times, the ratio default/rcgc (above 1: rcgc faster) and
# the median peak RSS of each, then the heap's statistics table
# (rc_heap_print_stats) after one more rcgc run of the in-memory workload
# (STATS=0 leaves it out).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
prog="${1:-$here/../../build/examples/sqlite/rcgc-sqlite}"
runs="${2:-5}"
rows="${3:-200000}"
if [ ! -x "$prog" ]; then
  echo "bench.sh: no rcgc-sqlite at $prog (build it, or pass its path)" >&2
  exit 1
fi
tmp="$(mktemp -d "${TMPDIR:-/tmp}/rcgc-sqlite-bench.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=../../bench/lib.sh
. "$here/../../bench/lib.sh"

# one run: prints "wall cpu maxrss_kib"
one() { rusage_run "$prog" "$@"; }

echo "rcgc-sqlite benchmark: $rows rows, $runs runs each, medians; ratio = default / rcgc (above 1: rcgc faster)"
echo "binary: $prog"
printf '%-8s %9s %9s %6s   %9s %9s %6s   %10s %10s %6s\n' database "rcgc s" "default s" ratio \
  "rcgc cpu" "def cpu" ratio "rcgc KiB" "def KiB" ratio
for config in ${CONFIGS:-memory file}; do
  db=()
  [ "$config" = file ] && db=(--db "$tmp/bench.db")
  rw=() rc=() rm=() sw=() sc=() sm=()
  for ((i = 1; i <= runs; i++)); do
    if ((i % 2)); then order="rcgc system"; else order="system rcgc"; fi
    for a in $order; do
      if [ "$a" = rcgc ]; then
        read -r t c m < <(one "${db[@]}" "$rows")
        rw+=("$t") rc+=("$c") rm+=("$m")
      else
        read -r t c m < <(one --system "${db[@]}" "$rows")
        sw+=("$t") sc+=("$c") sm+=("$m")
      fi
    done
  done
  mrw=$(median "${rw[@]}") msw=$(median "${sw[@]}")
  mrc=$(median "${rc[@]}") msc=$(median "${sc[@]}")
  mrm=$(median "${rm[@]}") msm=$(median "${sm[@]}")
  awk -v w="$config" -v rw="$mrw" -v sw="$msw" -v rc="$mrc" -v sc="$msc" -v rm="$mrm" -v sm="$msm" 'BEGIN {
    printf "%-8s %9.3f %9.3f %5.2fx   %9.3f %9.3f %5.2fx   %10d %10d %6.3f\n",
      w, rw, sw, sw / rw, rc, sc, sc / rc, rm, sm, rm / sm }'
done

if [ "${STATS:-1}" != 0 ]; then
  echo
  echo "rcgc heap after the in-memory workload ($rows rows): rcgc-sqlite --stats"
  "$prog" --stats "$rows" 2>&1 >/dev/null
fi
