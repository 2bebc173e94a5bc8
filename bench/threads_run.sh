#!/usr/bin/env bash
# bench/threads_run.sh — do threads that each drive their own heap slow each
# other down?  Runs alloc_bench with --threads 1 and --threads 2 for each
# allocator, in separate processes, interleaved, several times, and prints
# one table of medians.
#
#   bench/threads_run.sh [BUILD_DIR]      (default: build; `make bench` passes it)
#
# Allocators: rcgc (one private heap per thread), glibc (per-thread arenas
# and tcache), and jemalloc, mimalloc and tcmalloc when installed (LD_PRELOAD,
# as in bench/run.sh).  "none" is the control: the same number of steps of a
# multiply-add chain that touches no memory, so its slowdown is what a second
# busy thread costs on this machine whatever the code (a shared VM's other
# guests, clock frequency, SMT siblings on the host).  An allocator whose
# threads do not interfere slows down no more than the control.
#
# Environment: BENCH_RUNS=5 (runs per cell, median shown); BENCH_JEMALLOC /
# BENCH_MIMALLOC / BENCH_TCMALLOC as in bench/run.sh.
set -u

BUILD=${1:-build}
BIN=$BUILD/bench/alloc_bench
RUNS=${BENCH_RUNS:-5}
if [ ! -x "$BIN" ]; then
    echo "threads_run.sh: $BIN not found; build first (make build)" >&2
    exit 2
fi
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

A_NAME=(none rcgc glibc)
A_KIND=(none rcgc system)
A_LIB=("" "" "")
MISSING=()
add_peer() { # NAME PATH
    if [ -n "$2" ]; then
        A_NAME+=("$1"); A_KIND+=(system); A_LIB+=("$2")
    else
        MISSING+=("$1")
    fi
}
add_peer jemalloc "$(peer_lib jemalloc "${BENCH_JEMALLOC:-}" libjemalloc.so.2 libjemalloc.so)"
add_peer mimalloc "$(peer_lib mimalloc "${BENCH_MIMALLOC:-}" libmimalloc.so.2 libmimalloc.so)"
add_peer tcmalloc "$(peer_lib tcmalloc "${BENCH_TCMALLOC:-}" \
    libtcmalloc_minimal.so.4 libtcmalloc.so.4 libtcmalloc_minimal.so libtcmalloc.so)"

W_ID=(churn-1k fixed32)
W_ARGS=("churn --live 1000" "fixed32")

echo "rcgc threads benchmark — $(date '+%Y-%m-%d %H:%M')"
echo "  cpu: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null) x $(nproc 2>/dev/null)"
for m in "${MISSING[@]+"${MISSING[@]}"}"; do echo "  $m: not installed"; done
echo "  runs: $RUNS per cell; medians shown"
echo

RAW=$BUILD/bench/threads-raw.txt
: >"$RAW"
failed=0
for w in "${!W_ID[@]}"; do
    printf '  running %-9s' "${W_ID[$w]}" >&2
    for ((rep = 1; rep <= RUNS; rep++)); do
        for a in "${!A_NAME[@]}"; do
            for t in 1 2; do
                cmd=(env)
                [ -n "${A_LIB[$a]}" ] && cmd+=("LD_PRELOAD=${A_LIB[$a]}")
                # shellcheck disable=SC2206  # W_ARGS is a word list on purpose
                cmd+=("$BIN" "${A_KIND[$a]}" ${W_ARGS[$w]} --threads "$t")
                line=$("${cmd[@]}" 2>&1 | grep '^result ' | tail -n1)
                if [ -z "$line" ]; then
                    echo "  ${W_ID[$w]}/${A_NAME[$a]}/$t threads failed" >&2
                    [ "${A_NAME[$a]}" = rcgc ] && failed=1
                    continue
                fi
                echo "${W_ID[$w]} ${A_NAME[$a]} $t ${line#result }" >>"$RAW"
            done
        done
        printf '.' >&2
    done
    printf '\n' >&2
done
echo >&2

# one cell: median of a key over the runs of (workload, allocator, threads)
cell() { # W A T KEY
    local vals
    vals=$(awk -v w="$1" -v a="$2" -v t="$3" -v k="$4" '$1 == w && $2 == a && $3 == t {
        for (i = 4; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$RAW")
    # shellcheck disable=SC2086  # one argument per value, on purpose
    [ -n "$vals" ] && median $vals
}

printf '%-10s %-9s %10s %10s %10s %8s %10s\n' workload allocator "1 thread" "2 threads" slowest \
    "2 / 1" "vs none"
printf '%-10s %-9s %10s %10s %10s %8s %10s\n' "" "" "ns/pair" "ns/pair" "ns/pair" "" ""
echo "------------------------------------------------------------------------"
for w in "${W_ID[@]}"; do
    label=$w
    control=""
    for a in "${A_NAME[@]}"; do
        one=$(cell "$w" "$a" 1 ns_per_pair)
        two=$(cell "$w" "$a" 2 ns_per_pair)
        slow=$(cell "$w" "$a" 2 ns_per_pair_max)
        if [ -z "$one" ] || [ -z "$two" ]; then
            printf '%-10s %-9s %10s\n' "$label" "$a" "failed"
            label=""
            continue
        fi
        ratio=$(awk -v a="$two" -v b="$one" 'BEGIN { printf "%.2f", a / b }')
        [ "$a" = none ] && control=$ratio
        vs="-"
        [ -n "$control" ] && [ "$a" != none ] &&
            vs=$(awk -v r="$ratio" -v c="$control" 'BEGIN { printf "%.2f", r / c }')
        printf '%-10s %-9s %10.2f %10.2f %10.2f %8s %10s\n' "$label" "$a" "$one" "$two" "$slow" \
            "$ratio" "$vs"
        label=""
    done
done
echo
echo "1 thread, 2 threads: each thread's loop time per alloc+free pair (2 threads: their mean;"
echo "slowest: the slower thread's).  2 / 1: the slowdown a second busy thread causes."
echo "vs none: that slowdown over the control's (1.00: no more than any code suffers here)."
echo "Each rcgc thread drives a heap of its own; the others share their allocator's global state"
echo "as they are built to (glibc: per-thread arenas; jemalloc, mimalloc, tcmalloc: thread caches)."
exit $failed
