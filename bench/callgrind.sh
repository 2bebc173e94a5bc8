#!/usr/bin/env bash
# bench/callgrind.sh — instructions per alloc+free pair, counted by
# valgrind's callgrind: repeatable where wall-clock time on a shared machine
# is not.
#
#   bench/callgrind.sh [STEPS [WORKLOAD [BUILD_DIR]]]
#
#   STEPS     alloc+free pairs per run (default 200000); refill runs at least
#             two rounds of W, so its W=1M variant ignores small values
#   WORKLOAD  churn-1k | churn-1k-sized | churn-1m | churn-1m-sized | fixed32 |
#             fixed32-sized | refill-1k | refill-1m | all (default: all).  The
#             -sized ones free with the allocator's sized free (rc_free_sized,
#             sdallocx, mi_free_size, tc_free_sized; glibc has none)
#   BUILD_DIR default: build-callgrind, configured and (re)built here with
#             -DRCGC_VALGRIND=OFF.  That matters: a library built with the
#             valgrind client requests notices it runs under valgrind and
#             switches every heap to its instrumented (slow) path, so its
#             counts would not describe the native fast path.  An existing
#             tree given here is used as it is (with a warning if it has
#             the client requests compiled in).
#
# Only the timed loops (functions named loop_* in bench/alloc_bench_loops.h)
# are counted: input generation, the churn fill and clean-up are excluded
# with --collect-atstart=no --toggle-collect=loop_*.  Allocators: rcgc and
# glibc; set CALLGRIND_PEERS=1 to add jemalloc/mimalloc/tcmalloc (LD_PRELOAD)
# and CPython's pymalloc (libpython, loaded by alloc_bench) when installed.  The callgrind output files are kept in
# BUILD_DIR/bench/callgrind/ for callgrind_annotate.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STEPS=${1:-200000}
WHICH=${2:-all}
BUILD=${3:-}

case "$STEPS" in
    '' | *[!0-9]*) echo "callgrind.sh: STEPS must be a number, got '$STEPS'" >&2; exit 2 ;;
esac
if ! command -v valgrind >/dev/null 2>&1; then
    echo "callgrind.sh: valgrind is not installed" >&2
    exit 2
fi
if [ -z "$BUILD" ]; then
    BUILD=$ROOT/build-callgrind
    echo "callgrind.sh: building alloc_bench in $BUILD (RCGC_VALGRIND=OFF)" >&2
    mkdir -p "$BUILD"
    if ! { cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRCGC_VALGRIND=OFF \
               -DRCGC_BUILD_TESTS=OFF -DRCGC_BUILD_EXAMPLES=OFF &&
           cmake --build "$BUILD" --target alloc_bench -j "$(nproc 2>/dev/null || echo 2)"; \
         } >"$BUILD/callgrind-build.log" 2>&1; then
        echo "callgrind.sh: build failed, see $BUILD/callgrind-build.log" >&2
        exit 2
    fi
elif grep -q '^RCGC_HAVE_VALGRIND_H:INTERNAL=1' "$BUILD/CMakeCache.txt" 2>/dev/null &&
     grep -q '^RCGC_VALGRIND:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; then
    echo "callgrind.sh: WARNING: $BUILD has valgrind client requests; rcgc heaps run" >&2
    echo "  their instrumented path under valgrind.  Omit BUILD_DIR for a clean build." >&2
fi
BIN=$BUILD/bench/alloc_bench
OUT=$BUILD/bench/callgrind
if [ ! -x "$BIN" ]; then
    echo "callgrind.sh: $BIN not found; build first (make build)" >&2
    exit 2
fi
mkdir -p "$OUT"

declare -A ARGS=(
    [churn-1k]="churn --live 1000"
    [churn-1k-sized]="churn --live 1000 --sized"
    [churn-1m]="churn --live 1000000"
    [churn-1m-sized]="churn --live 1000000 --sized"
    [fixed32]="fixed32"
    [fixed32-sized]="fixed32 --sized"
    [refill-1k]="refill --live 1000"
    [refill-1m]="refill --live 1000000"
)
ORDER=(churn-1k churn-1k-sized churn-1m churn-1m-sized fixed32 fixed32-sized refill-1k refill-1m)
if [ "$WHICH" != all ]; then
    if [ -z "${ARGS[$WHICH]+x}" ]; then
        echo "callgrind.sh: unknown workload '$WHICH' (${ORDER[*]} all)" >&2
        exit 2
    fi
    ORDER=("$WHICH")
fi

NAMES=(rcgc glibc)
KINDS=(rcgc system)
LIBS=("" "")
if [ "${CALLGRIND_PEERS:-0}" = 1 ]; then
    for peer in jemalloc:libjemalloc.so.2 mimalloc:libmimalloc.so.2 \
                tcmalloc:libtcmalloc_minimal.so.4; do
        so=${peer#*:}
        path=$( { /sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null; } |
            awk -v n="$so" '$1 == n { print $NF; exit }')
        if [ -n "$path" ]; then
            NAMES+=("${peer%%:*}"); KINDS+=(system); LIBS+=("$path")
        else
            echo "callgrind.sh: ${peer%%:*} not installed, skipped" >&2
        fi
    done
    if "$BIN" pymalloc fixed32 --steps 1 >/dev/null 2>&1; then
        NAMES+=(pymalloc); KINDS+=(pymalloc); LIBS+=("")
    else
        echo "callgrind.sh: pymalloc (libpython3) not installed, skipped" >&2
    fi
fi

status=0
printf '%-14s %-9s %12s %14s %10s\n' workload allocator pairs instructions "Ir/pair"
for w in "${ORDER[@]}"; do
    base=""
    for i in "${!NAMES[@]}"; do
        file=$OUT/callgrind.out.$w.${NAMES[$i]}
        # shellcheck disable=SC2086  # ARGS holds a word list on purpose
        res=$(env ${LIBS[$i]:+LD_PRELOAD="${LIBS[$i]}"} \
              valgrind --tool=callgrind --callgrind-out-file="$file" \
                       --collect-atstart=no --toggle-collect='loop_*' \
                       "$BIN" "${KINDS[$i]}" ${ARGS[$w]} --steps "$STEPS" 2>"$file.log")
        if [[ $res == nosized* ]]; then
            printf '%-14s %-9s  no sized free\n' "$w" "${NAMES[$i]}"
            continue
        fi
        pairs=$(printf '%s\n' "$res" | sed -n 's/^result .* pairs=\([0-9]*\) .*/\1/p')
        ir=$(awk '/^(totals|summary):/ { print $2; exit }' "$file" 2>/dev/null)
        if [ -z "$pairs" ] || [ -z "$ir" ] || [ "$pairs" -eq 0 ]; then
            printf '%-14s %-9s  failed, see %s\n' "$w" "${NAMES[$i]}" "$file.log"
            status=1
            continue
        fi
        per=$(awk -v i="$ir" -v p="$pairs" 'BEGIN { printf "%.1f", i / p }')
        [ -z "$base" ] && [ "${NAMES[$i]}" = rcgc ] && base=$per
        ratio=""
        [ -n "$base" ] && ratio=$(awk -v a="$per" -v b="$base" 'BEGIN { printf "(%.2fx rcgc)", a / b }')
        printf '%-14s %-9s %12s %14s %10s %s\n' "$w" "${NAMES[$i]}" "$pairs" "$ir" "$per" "$ratio"
    done
done
echo
echo "Ir/pair: instructions executed in the timed loop (loop body included) per alloc+free."
echo "Profiles: $OUT/callgrind.out.<workload>.<allocator> (callgrind_annotate FILE)"
exit $status
