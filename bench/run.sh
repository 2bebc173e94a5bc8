#!/usr/bin/env bash
# bench/run.sh — run alloc_bench for every (workload, allocator) pair, each
# in its own process, several times, and print one table of medians.
#
#   bench/run.sh [BUILD_DIR]          (default: build; `make bench` passes it)
#
# Allocators: rcgc (private heap, RC_MODE_POOL) and glibc always; jemalloc,
# mimalloc and tcmalloc when their shared libraries are installed, measured
# by running the same "system" binary under LD_PRELOAD; CPython's pymalloc
# (PyObject_Malloc, from libpython loaded at run time) when a libpython3 is
# installed (Debian: libpython3-dev or libpython3.11).  A missing peer is
# listed as "not installed"; a failing peer is listed as failed; neither makes
# this script fail.  It exits non-zero only if an rcgc or glibc run fails.
#
# Environment knobs:
#   BENCH_RUNS=5        runs per small workload (median reported)
#   BENCH_RUNS_1M=3     runs per W=1,000,000 workload
#   BENCH_ONLY=REGEX    only workloads whose id matches (churn-1k
#                       churn-1k-sized churn-1m churn-1m-sized fixed32
#                       fixed32-sized refill-1k refill-1m), e.g. BENCH_ONLY=1m
#
# The -sized workloads free with each allocator's sized free (rcgc
# rc_free_sized, jemalloc sdallocx, mimalloc mi_free_size, tcmalloc
# tc_free_sized); an allocator without one (glibc 2.36) is listed as
# "no sized free".  The plain rows stay: they are the rc_free figures.
#   BENCH_CPU=N         pin every run to CPU N with taskset
#   BENCH_JEMALLOC / BENCH_MIMALLOC / BENCH_TCMALLOC / BENCH_PYTHON_LIB =
#                       path to a .so to use instead of the one found, or
#                       "none" to skip it
set -u

BUILD=${1:-build}
BIN=$BUILD/bench/alloc_bench
RUNS=${BENCH_RUNS:-5}
RUNS_1M=${BENCH_RUNS_1M:-3}
ONLY=${BENCH_ONLY:-}

if [ ! -x "$BIN" ]; then
    echo "run.sh: $BIN not found; build first (make build)" >&2
    exit 2
fi

# ---- peers ------------------------------------------------------------------

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# Parallel arrays: display name, alloc_bench allocator, LD_PRELOAD, marker
# that must appear in the reported malloc_lib (proves the preload worked),
# extra environment.  rcgc is the default heap (huge pages once it holds 64
# arenas: RC_HUGE_AUTO, see rc_huge_pages in heap.h); rcgc+huge the same with
# huge pages for every growing heap (RCGC_HUGE_PAGES=1), rcgc-small with none
# (RCGC_HUGE_PAGES=0); their "vs rcgc" compares each with the default.
A_NAME=(rcgc rcgc+huge rcgc-small glibc)
A_KIND=(rcgc rcgc rcgc system)
A_LIB=("" "" "" "")
A_MARK=("" "" "" "")
A_ENV=("" "RCGC_HUGE_PAGES=1" "RCGC_HUGE_PAGES=0" "")
MISSING=()

add_peer() { # NAME MARK PATH
    if [ -n "$3" ]; then
        A_NAME+=("$1"); A_KIND+=(system); A_LIB+=("$3"); A_MARK+=("$2"); A_ENV+=("")
    else
        MISSING+=("$1")
    fi
}
add_peer jemalloc jemalloc "$(peer_lib jemalloc "${BENCH_JEMALLOC:-}" libjemalloc.so.2 libjemalloc.so)"
add_peer mimalloc mimalloc "$(peer_lib mimalloc "${BENCH_MIMALLOC:-}" libmimalloc.so.2 libmimalloc.so)"
add_peer tcmalloc tcmalloc "$(peer_lib tcmalloc "${BENCH_TCMALLOC:-}" \
    libtcmalloc_minimal.so.4 libtcmalloc.so.4 libtcmalloc_minimal.so libtcmalloc.so)"
# CPython's own allocator, whose design rcgc's pools follow: alloc_bench
# loads libpython itself (BENCH_PYTHON_LIB overrides which), so it is there
# when a probe run finds one.
if [ "${BENCH_PYTHON_LIB:-}" != none ] && "$BIN" pymalloc fixed32 --steps 1 >/dev/null 2>&1; then
    A_NAME+=(pymalloc); A_KIND+=(pymalloc); A_LIB+=(""); A_MARK+=(libpython); A_ENV+=("")
else
    MISSING+=(pymalloc)
fi

# ---- workloads ---------------------------------------------------------------

W_ID=(churn-1k churn-1k-sized churn-1m churn-1m-sized fixed32 fixed32-sized refill-1k refill-1m)
W_LABEL=("churn W=1K" "  sized free" "churn W=1M" "  sized free" "fixed 32 B" "  sized free" \
         "refill W=1K" "refill W=1M")
W_ARGS=("churn --live 1000" "churn --live 1000 --sized" "churn --live 1000000" \
        "churn --live 1000000 --sized" "fixed32" "fixed32 --sized" "refill --live 1000" \
        "refill --live 1000000")
W_RUNS=("$RUNS" "$RUNS" "$RUNS_1M" "$RUNS_1M" "$RUNS" "$RUNS" "$RUNS" "$RUNS_1M")

# ---- header -------------------------------------------------------------------

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
btype=$(awk -F= '/^CMAKE_BUILD_TYPE:/ { print $2 }' "$BUILD/CMakeCache.txt" 2>/dev/null)
thp=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)
echo "rcgc allocator benchmarks — $(date '+%Y-%m-%d %H:%M')"
echo "  cpu: ${cpu:-?} x $(nproc 2>/dev/null || echo ?)   kernel: $(uname -r)   THP: ${thp:-?}"
echo "  $(ldd --version 2>/dev/null | head -n1)   build: $BUILD (${btype:-?})"
case "$btype" in
    Debug|"") echo "  WARNING: the library is not built with optimisation; figures are meaningless" ;;
esac
for i in "${!A_NAME[@]}"; do
    [ -n "${A_LIB[$i]}" ] && echo "  ${A_NAME[$i]}: LD_PRELOAD=${A_LIB[$i]}"
done
for m in "${MISSING[@]+"${MISSING[@]}"}"; do echo "  $m: not installed"; done
echo "  runs: $RUNS per workload, $RUNS_1M for W=1M; medians shown"
echo

# ---- run ------------------------------------------------------------------------

RAW=$BUILD/bench/alloc_bench-raw.txt
: >"$RAW"
PIN=()
if [ -n "${BENCH_CPU:-}" ] && command -v taskset >/dev/null 2>&1; then
    PIN=(taskset -c "$BENCH_CPU")
fi
TIMEOUT=()
command -v timeout >/dev/null 2>&1 && TIMEOUT=(timeout 300)

start=$SECONDS
for w in "${!W_ID[@]}"; do
    if [ -n "$ONLY" ] && ! [[ ${W_ID[$w]} =~ $ONLY ]]; then continue; fi
    printf '  running %-12s' "${W_LABEL[$w]}" >&2
    # Interleave allocators inside each repetition so that slow phases of a
    # noisy machine hit every allocator alike.
    for ((rep = 1; rep <= W_RUNS[w]; rep++)); do
        for a in "${!A_NAME[@]}"; do
            # LD_PRELOAD is set last (env), so only alloc_bench gets the peer.
            cmd=("${TIMEOUT[@]+"${TIMEOUT[@]}"}" "${PIN[@]+"${PIN[@]}"}" env)
            [ -n "${A_ENV[$a]}" ] && cmd+=("${A_ENV[$a]}")
            [ -n "${A_LIB[$a]}" ] && cmd+=("LD_PRELOAD=${A_LIB[$a]}")
            # shellcheck disable=SC2206  # W_ARGS is a word list on purpose
            cmd+=("$BIN" "${A_KIND[$a]}" ${W_ARGS[$w]})
            out=$("${cmd[@]}" 2>&1)
            rc=$?
            line=$(printf '%s\n' "$out" | grep '^result ' | tail -n1)
            status=ok
            if [ $rc -eq 4 ] && [[ $out == nosized* ]]; then
                status=nosized   # this allocator has no sized free
            elif [ $rc -ne 0 ] || [ -z "$line" ]; then
                status=failed
                printf '\n  %s/%s run %d failed (exit %d): %s\n' "${W_ID[$w]}" \
                    "${A_NAME[$a]}" "$rep" "$rc" "$(printf '%s' "$out" | tail -n3)" >&2
            elif [ -n "${A_MARK[$a]}" ] && [[ $line != *"malloc_lib="*"${A_MARK[$a]}"* ]]; then
                status=nopreload
            fi
            echo "${W_ID[$w]} ${A_NAME[$a]} $status ${line#result }" >>"$RAW"
        done
        printf '.' >&2
    done
    printf '\n' >&2
done
echo "  ($((SECONDS - start)) s; raw results in $RAW)" >&2
echo >&2

# ---- table -------------------------------------------------------------------------

TABLE=$BUILD/bench/alloc_bench-table.txt
awk -v walls="${W_ID[*]}" -v wlabels="$(IFS='|'; echo "${W_LABEL[*]}")" \
    -v aalls="${A_NAME[*]}" -v missing="${MISSING[*]+"${MISSING[*]}"}" '
function median(list,    v, n, i, j, t) {
    n = split(list, v, " ")
    for (i = 2; i <= n; i++) {          # insertion sort (mawk has no asort)
        t = v[i] + 0
        for (j = i - 1; j >= 1 && v[j] + 0 > t; j--) v[j + 1] = v[j]
        v[j + 1] = t
    }
    if (n == 0) return ""
    return (n % 2) ? v[(n + 1) / 2] + 0 : (v[n / 2] + v[n / 2 + 1]) / 2
}
function extreme(list, want_max,    v, n, i, r) {
    n = split(list, v, " ")
    r = v[1] + 0
    for (i = 2; i <= n; i++)
        if ((want_max && v[i] + 0 > r) || (!want_max && v[i] + 0 < r)) r = v[i] + 0
    return r
}
function add(key, val) { vals[key] = (key in vals) ? vals[key] " " val : val }
{
    w = $1; a = $2; st = $3; seen[w] = 1
    if (st != "ok") { bad[w, a] = st; next }
    good[w, a] = 1
    for (i = 4; i <= NF; i++) {
        eq = index($i, "=")
        if (eq > 0) add(w SUBSEP a SUBSEP substr($i, 1, eq - 1), substr($i, eq + 1))
    }
}
function v(w, a, k) { return median(vals[w, a, k]) }
END {
    nw = split(walls, W, " "); split(wlabels, WL, "|")
    na = split(aalls, A, " "); nm = split(missing, M, " ")
    fmt = "%-12s %-9s %9s %7s %9s %9s %8s  %s\n"
    printf fmt, "workload", "allocator", "ns/pair", "spread", "peak RSS", "heap", "vs rcgc", "notes"
    printf fmt, "", "", "(median)", "", "MiB", "MiB", "", ""
    printf "%s\n", "------------------------------------------------------------------------------------------"
    for (i = 1; i <= nw; i++) {
        w = W[i]
        if (!(w in seen)) continue
        base = ((w, "rcgc") in good) ? v(w, "rcgc", "ns_per_pair") : ""
        label = WL[i]
        for (j = 1; j <= na; j++) {
            a = A[j]
            if (!((w, a) in good)) {
                why = ((w, a) in bad) ? bad[w, a] : "no result"
                if (why == "nopreload") why = "LD_PRELOAD did not take effect"
                if (why == "nosized") why = "no sized free"
                printf fmt, label, a, "-", "-", "-", "-", "-", why
                label = ""
                continue
            }
            ns = v(w, a, "ns_per_pair")
            lo = extreme(vals[w, a, "ns_per_pair"], 0); hi = extreme(vals[w, a, "ns_per_pair"], 1)
            spread = (ns > 0) ? sprintf("%.0f%%", 100 * (hi - lo) / ns) : "-"
            ratio = (base != "" && base > 0) ? sprintf("%.2f", ns / base) : "-"
            notes = ""
            if ((w, a) in bad) notes = "some runs " bad[w, a] "; "
            if ((w, a, "held_after_free_kib") in vals)
                notes = notes sprintf("RSS held after free-all %.1f MiB",
                                      v(w, a, "held_after_free_kib") / 1024)
            if ((w, a, "arenas_after_free") in vals) {
                af = extreme(vals[w, a, "arenas_after_free"], 1)
                al = extreme(vals[w, a, "arenas_after_free_last"], 1)
                notes = notes sprintf("; arenas after free-all %d (last round %d)%s", af, al,
                                      (af > 1 || al > 1) ? " ABOVE TARGET 1" : "")
            }
            printf fmt, label, a, sprintf("%.2f", ns), spread,
                   sprintf("%.1f", v(w, a, "peak_rss_kib") / 1024),
                   sprintf("%.1f", v(w, a, "heap_kib") / 1024), ratio, notes
            label = ""
        }
        for (j = 1; j <= nm; j++) printf fmt, "", M[j], "-", "-", "-", "-", "-", "not installed"
    }
    print ""
    print "ns/pair: one allocation plus one free.  spread: (max-min)/median over the runs."
    print "sized free: the row above, freeing with the allocator sized free (rc_free_sized,"
    print "sdallocx, mi_free_size, tc_free_sized); its vs rcgc compares with rc_free_sized."
    print "peak RSS: getrusage ru_maxrss of the whole process (baseline included;"
    print "pymalloc: libpython loaded too, some 3.5 MiB of it resident, so compare its heap)."
    print "heap: growth of the process peak RSS (VmHWM) during the workload, i.e. over"
    print "its state with the inputs generated and nothing allocated yet."
    print "vs rcgc: allocator time / rcgc time (>1: rcgc faster)."
}' "$RAW" | tee "$TABLE"

# Fail `make bench` only if rcgc or glibc could not run.
if grep -Eq '^[^ ]+ (rcgc|glibc) failed' "$RAW"; then
    echo "run.sh: rcgc or glibc runs failed (see above)" >&2
    exit 1
fi
exit 0
