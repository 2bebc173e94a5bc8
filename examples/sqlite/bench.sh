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
# and CPU (user+sys) times, the ratio default/rcgc (above 1: rcgc faster),
# the median peak RSS of each and the median anonymous memory just before the
# database is closed (bench/lib.sh, compare_pairs), then the heap's statistics table
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

# run_one I rcgc|system: one run of the workload in $config
run_one() {
  local args=()
  [ "$config" = file ] && args=(--db "$tmp/bench.db")
  [ "$2" = system ] && args+=(--system)
  rusage_run "$prog" "${args[@]}" "$rows"
}

echo "rcgc-sqlite benchmark: $rows rows, $runs runs each, medians; libc: SQLite's default allocator (malloc);"
echo "time ratios libc / rcgc (above 1: rcgc faster), memory ratios rcgc / libc (below 1: rcgc smaller);"
echo "anon: anonymous memory before sqlite3_close"
echo "binary: $prog"
compare_header database libc
for config in ${CONFIGS:-memory file}; do
  compare_pairs "$config" "$runs" run_one
done

if [ "${STATS:-1}" != 0 ]; then
  echo
  echo "rcgc heap after the in-memory workload ($rows rows): rcgc-sqlite --stats"
  "$prog" --stats "$rows" 2>&1 >/dev/null
fi
