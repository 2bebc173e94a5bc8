#!/usr/bin/env bash
# bench/gc_run.sh — run the cycle-collector benchmarks on rcgc and its peers,
# each measurement in its own process, several times, and print one table of
# medians.
#
#   bench/gc_run.sh [BUILD_DIR]          (default: build)
#
# Benchmarks (docs/benchmarks.md, "GC benchmarks"):
#   gc_traversal N=100K, 1M   full collection of N live containers: ns/object
#   gc_collect   N=100K, 1M   full collection of N containers in 2-cycles,
#                             all garbage: ns/object, freeing included
#   young pause               collection pauses per generation while a loop
#                             allocates 10M containers (default thresholds)
#   GCBench                   Boehm's binary trees: total time, peak RSS
#   gc_records   N=100K       full collection of N instances with three
#                             atomic attributes in a list: ns/record (no
#                             target; with the built-in types only)
# Implementations: rcgc (containers defined in bench/gc_bench.c), rcgc-list
# (rcgc's built-in list, where the library has it), CPython (python3), the
# Boehm GC (GCBench only, when gcbench_boehm was built: libgc-dev),
# malloc/free (GCBench only) and rcgc-nogc (GCBench with automatic collection
# off: what the collector costs; not a target configuration).  A missing peer is listed as "not available";
# a failing peer as failed; neither makes this script fail.  It exits
# non-zero only if an rcgc run fails.
#
# Environment knobs:
#   GC_BENCH_RUNS=5        runs per measurement (median reported)
#   GC_BENCH_ONLY=REGEX    only benchmarks whose id matches (trav-100k trav-1m
#                          coll-100k coll-1m rec-100k pause gcbench gcbench-16), e.g.
#                          GC_BENCH_ONLY=trav
#   GC_BENCH_CPU=N         pin every run to CPU N with taskset
#   GC_BENCH_PYTHON=PATH   the CPython to compare with (default python3), or none
#   GC_BENCH_BOEHM=none    skip the Boehm GC even when built
#   GC_BENCH_DEPTH=18      GCBench's long-lived tree depth (classic GCBench: 16)
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
BIN=$BUILD/bench/gc_bench
BOEHM=$BUILD/bench/gcbench_boehm
PYSCRIPT=$ROOT/bench/gc_bench.py
RUNS=${GC_BENCH_RUNS:-5}
ONLY=${GC_BENCH_ONLY:-}
DEPTH=${GC_BENCH_DEPTH:-18}

if [ ! -x "$BIN" ]; then
    echo "gc_run.sh: $BIN not found; build first (make build)" >&2
    exit 2
fi
case "$RUNS$DEPTH" in
    *[!0-9]*) echo "gc_run.sh: GC_BENCH_RUNS and GC_BENCH_DEPTH must be numbers" >&2; exit 2 ;;
esac

# ---- peers ----------------------------------------------------------------------

PY=${GC_BENCH_PYTHON:-python3}
PY_NOTE=""
if [ "$PY" = none ]; then
    PY=""; PY_NOTE="skipped (GC_BENCH_PYTHON=none)"
elif ! command -v "$PY" >/dev/null 2>&1; then
    PY_NOTE="not available ($PY not found)"; PY=""
elif ! "$PY" -c 'import gc, sys; sys.exit(sys.version_info < (3, 4))' >/dev/null 2>&1; then
    PY_NOTE="not available ($PY is not a CPython 3.4+)"; PY=""
elif [ ! -r "$PYSCRIPT" ]; then
    PY_NOTE="not available ($PYSCRIPT missing)"; PY=""
fi
BOEHM_NOTE=""
if [ "${GC_BENCH_BOEHM:-}" = none ]; then
    BOEHM_NOTE="skipped (GC_BENCH_BOEHM=none)"
elif [ ! -x "$BOEHM" ]; then
    BOEHM_NOTE="not available (libgc-dev was not found when $BUILD was configured)"
fi
HAVE_LIST=0
"$BIN" collect --n 2 --types builtin >/dev/null 2>&1 && HAVE_LIST=1

# ---- header ------------------------------------------------------------------------

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
btype=$(awk -F= '/^CMAKE_BUILD_TYPE:/ { print $2 }' "$BUILD/CMakeCache.txt" 2>/dev/null)
# An empty cache entry means the top-level CMakeLists.txt's default.
[ -z "$btype" ] && [ -f "$BUILD/CMakeCache.txt" ] && btype="RelWithDebInfo, the default"
echo "rcgc GC benchmarks — $(date '+%Y-%m-%d %H:%M')"
echo "  cpu: ${cpu:-?} x $(nproc 2>/dev/null || echo ?)   kernel: $(uname -r)   build: $BUILD (${btype:-?})"
case "$btype" in
    Debug|"") echo "  WARNING: the library is not built with optimisation; figures are meaningless" ;;
esac
if [ -n "$PY" ]; then
    echo "  CPython: $("$PY" -c 'import sys; print(sys.version.split()[0])') ($(command -v "$PY"))"
else
    echo "  CPython: $PY_NOTE"
fi
if [ -z "$BOEHM_NOTE" ]; then
    echo "  Boehm GC: $BOEHM"
else
    echo "  Boehm GC: $BOEHM_NOTE"
fi
[ $HAVE_LIST = 0 ] && echo "  rcgc-list: not available (this build has no rc_list)"
echo "  runs: $RUNS per measurement, medians shown; GCBench long-lived tree depth $DEPTH"
echo

# ---- what to run -------------------------------------------------------------------

# Parallel arrays, one entry per (benchmark, implementation).
J_W=(); J_IMPL=(); J_CMD=()
MISSING=() # "wid impl why"
job() { # WID IMPL CMD...
    local w=$1 i=$2
    shift 2
    J_W+=("$w"); J_IMPL+=("$i"); J_CMD+=("$*")
}
GCB_ARGS="--stretch-depth 18 --long-lived-depth $DEPTH --min-depth 4 --max-depth 18 --array 500000"
for spec in trav-100k:traversal:100000 trav-1m:traversal:1000000 \
            coll-100k:collect:100000 coll-1m:collect:1000000; do
    IFS=: read -r w b n <<<"$spec"
    job "$w" rcgc "$BIN $b --n $n"
    if [ $HAVE_LIST = 1 ]; then
        job "$w" rcgc-list "$BIN $b --n $n --types builtin"
    fi
    if [ -n "$PY" ]; then job "$w" cpython "$PY $PYSCRIPT $b --n $n"; else MISSING+=("$w cpython"); fi
done
if [ $HAVE_LIST = 1 ]; then # the built-in types are there
    job rec-100k rcgc "$BIN records --n 100000 --reps 7"
    if [ -n "$PY" ]; then job rec-100k cpython "$PY $PYSCRIPT records --n 100000 --reps 7"; else MISSING+=("rec-100k cpython"); fi
fi
job pause rcgc "$BIN pause --objects 10000000 --window 10000 --long-lived 100000"
if [ -n "$PY" ]; then
    job pause cpython "$PY $PYSCRIPT pause --objects 10000000 --window 10000 --long-lived 100000"
else
    MISSING+=("pause cpython")
fi
job gcbench rcgc "$BIN gcbench rcgc $GCB_ARGS"
job gcbench rcgc-nogc "$BIN gcbench rcgc-nogc $GCB_ARGS"
job gcbench malloc "$BIN gcbench malloc $GCB_ARGS"
if [ -z "$BOEHM_NOTE" ]; then job gcbench boehm "$BOEHM $GCB_ARGS"; else MISSING+=("gcbench boehm"); fi
if [ -n "$PY" ]; then job gcbench cpython "$PY $PYSCRIPT gcbench $GCB_ARGS"; else MISSING+=("gcbench cpython"); fi
# The classic GCBench keeps a long-lived tree of depth 16, not 18: the Boehm
# GC then marks a smaller heap at each of its collections, and the balance
# between the two collectors is different.  Both are shown (CPython, at
# several seconds a run, only at the default depth).
if [ "$DEPTH" != 16 ]; then
    GCB16_ARGS="--stretch-depth 18 --long-lived-depth 16 --min-depth 4 --max-depth 18 --array 500000"
    job gcbench-16 rcgc "$BIN gcbench rcgc $GCB16_ARGS"
    job gcbench-16 rcgc-nogc "$BIN gcbench rcgc-nogc $GCB16_ARGS"
    job gcbench-16 malloc "$BIN gcbench malloc $GCB16_ARGS"
    if [ -z "$BOEHM_NOTE" ]; then job gcbench-16 boehm "$BOEHM $GCB16_ARGS"; else MISSING+=("gcbench-16 boehm"); fi
fi

# ---- run ------------------------------------------------------------------------------

RAW=$BUILD/bench/gc_bench-raw.txt
: >"$RAW"
PIN=()
if [ -n "${GC_BENCH_CPU:-}" ] && command -v taskset >/dev/null 2>&1; then
    PIN=(taskset -c "$GC_BENCH_CPU")
fi
TIMEOUT=()
command -v timeout >/dev/null 2>&1 && TIMEOUT=(timeout 300)

WIDS=(trav-100k trav-1m coll-100k coll-1m rec-100k pause gcbench gcbench-16)
start=$SECONDS
for w in "${WIDS[@]}"; do
    if [ -n "$ONLY" ] && ! [[ $w =~ $ONLY ]]; then continue; fi
    printf '  running %-10s' "$w" >&2
    # Interleave implementations inside each repetition, so a noisy moment of
    # a shared machine hits them alike.
    for ((rep = 1; rep <= RUNS; rep++)); do
        for j in "${!J_W[@]}"; do
            [ "${J_W[$j]}" = "$w" ] || continue
            # shellcheck disable=SC2206  # J_CMD is a word list on purpose
            cmd=("${TIMEOUT[@]+"${TIMEOUT[@]}"}" "${PIN[@]+"${PIN[@]}"}" ${J_CMD[$j]})
            out=$("${cmd[@]}" 2>&1)
            rc=$?
            line=$(printf '%s\n' "$out" | grep '^result ' | tail -n1)
            status=ok
            if [ $rc -ne 0 ] || [ -z "$line" ]; then
                status=failed
                printf '\n  %s/%s run %d failed (exit %d): %s\n' "$w" "${J_IMPL[$j]}" "$rep" "$rc" \
                    "$(printf '%s' "$out" | tail -n3)" >&2
            fi
            echo "$w ${J_IMPL[$j]} $status ${line#result }" >>"$RAW"
        done
        printf '.' >&2
    done
    printf '\n' >&2
done
for m in "${MISSING[@]+"${MISSING[@]}"}"; do
    read -r mw mi <<<"$m"
    if [ -n "$ONLY" ] && ! [[ $mw =~ $ONLY ]]; then continue; fi
    why=$PY_NOTE
    [ "$mi" = boehm ] && why=$BOEHM_NOTE
    echo "$mw $mi missing $why" >>"$RAW"
done
echo "  ($((SECONDS - start)) s; raw results in $RAW)" >&2
echo >&2

# ---- table ------------------------------------------------------------------------------

TABLE=$BUILD/bench/gc_bench-table.txt
awk -v walls="${WIDS[*]}" '
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
function spread(list,    v, n, i, lo, hi, m) {
    n = split(list, v, " ")
    if (n < 2) return "-"
    lo = hi = v[1] + 0
    for (i = 2; i <= n; i++) { if (v[i] + 0 < lo) lo = v[i] + 0; if (v[i] + 0 > hi) hi = v[i] + 0 }
    m = median(list)
    return (m > 0) ? sprintf("%.0f%%", 100 * (hi - lo) / m) : "-"
}
function add(key, val) { vals[key] = (key in vals) ? vals[key] " " val : val }
function has(w, a) { return ((w, a) in good) }
function v(w, a, k) { return median(vals[w, a, k]) }
function f(x, d) { return sprintf("%." d "f", x) }
function ratio(x, y) { return (y > 0) ? sprintf("%.2fx", x / y) : "-" }
{
    w = $1; a = $2; st = $3
    if (!((w, a) in order)) { order[w, a] = ++nimpl[w]; impl[w, nimpl[w]] = a }
    if (st == "missing") { $1 = $2 = $3 = ""; why[w, a] = substr($0, 4); next }
    if (st != "ok") { nbad[w, a]++; next }
    good[w, a] = 1
    for (i = 4; i <= NF; i++) {
        eq = index($i, "=")
        if (eq > 0) add(w SUBSEP a SUBSEP substr($i, 1, eq - 1), substr($i, eq + 1))
    }
}
function row(label, a, fig, unit, spr, details, vs, target,    line) {
    line = sprintf("%-18s %-9s %8s %-6s %6s  %-56s %6s  %s", label, a, fig, unit, spr, details, vs, target)
    sub(/ +$/, "", line)
    print line
}
function unavailable(w, label, a) {
    if ((w, a) in why) row(label, a, "-", "", "", why[w, a], "", "")
    else row(label, a, "-", "", "", "failed (" nbad[w, a] " runs); see the raw file", "", "")
}
function collection(w, label,    j, a, ns, wall, py, pyw, details, vs, target) {
    py = has(w, "cpython") ? v(w, "cpython", "cpu_ns_per_obj") : ""
    pyw = has(w, "cpython") ? v(w, "cpython", "ns_per_obj") : ""
    for (j = 1; j <= nimpl[w]; j++) {
        a = impl[w, j]
        if (!has(w, a)) { unavailable(w, label, a); label = ""; continue }
        ns = v(w, a, "cpu_ns_per_obj"); wall = v(w, a, "ns_per_obj")
        details = sprintf("wall %s ns/obj", f(wall, 1))
        if (pyw != "" && a != "cpython") details = details sprintf(" (%s)", ratio(wall, pyw))
        if (w ~ /^(trav|rec)/)
            details = details sprintf("; %s ms; first %s; %d objs", f(v(w, a, "cpu_ms"), 2),
                                      f(v(w, a, "first_cpu_ns_per_obj"), 1), v(w, a, "tracked"))
        else
            details = details sprintf("; %s ms; %d collected", f(v(w, a, "cpu_ms"), 2), v(w, a, "found"))
        vs = (py != "" && a != "cpython") ? ratio(ns, py) : ""
        target = ""
        if (py != "" && a ~ /^rcgc/ && w !~ /^rec/)
            target = (ns <= 0.25 * py) ? "<= 0.25x: MET" : "<= 0.25x: MISSED"
        row(label, a, f(ns, 1), "ns/obj", spread(vals[w, a, "cpu_ns_per_obj"]), details, vs, target)
        label = ""
    }
}
function pauses(w,    g, j, a, label, mx, wmx, details, vs, target, pymax) {
    for (g = 0; g <= 2; g++) {
        label = "young pause gen" g
        if (g > 0) label = "pause gen" g
        pymax = has(w, "cpython") ? v(w, "cpython", "g" g "_cpu_max_us") : ""
        for (j = 1; j <= nimpl[w]; j++) {
            a = impl[w, j]
            if (!has(w, a)) { unavailable(w, label, a); label = ""; continue }
            mx = v(w, a, "g" g "_cpu_max_us"); wmx = v(w, a, "g" g "_max_us")
            details = sprintf("n=%d p50 %s p99 %s; wall p50 %s p99 %s max %s", v(w, a, "g" g "_n"),
                              f(v(w, a, "g" g "_cpu_med_us"), 1), f(v(w, a, "g" g "_cpu_p99_us"), 1),
                              f(v(w, a, "g" g "_med_us"), 1), f(v(w, a, "g" g "_p99_us"), 1), f(wmx, 0))
            vs = (pymax != "" && a != "cpython") ? ratio(mx, pymax) : ""
            target = ""
            if (g == 0 && a == "rcgc")
                target = sprintf("< 100 us: %s (wall max: %s)", (mx < 100) ? "MET" : "MISSED",
                                 (wmx < 100) ? "met" : "missed")
            row(label, a, f(mx, 1), "us max", spread(vals[w, a, "g" g "_cpu_max_us"]), details, vs, target)
            label = ""
        }
        if (g == 0 && has(w, "rcgc") && v(w, "rcgc", "noise_max_us") != "")
            row("  noise floor", "machine", f(v(w, "rcgc", "noise_max_us"), 1), "us max",
                spread(vals[w, "rcgc", "noise_max_us"]),
                sprintf("as many compute chunks, p50 %s p99 %s (no gc, no memory)",
                        f(v(w, "rcgc", "noise_med_us"), 1), f(v(w, "rcgc", "noise_p99_us"), 1)), "", "")
    }
    label = "pause: whole loop"
    for (j = 1; j <= nimpl[w]; j++) {
        a = impl[w, j]
        if (!has(w, a)) continue
        details = sprintf("wall %s ms for %d allocs, %s%% in gc", f(v(w, a, "loop_ms"), 0),
                          v(w, a, "objects"), f(100 * v(w, a, "gc_share"), 0))
        vs = (has(w, "cpython") && a != "cpython") ? ratio(v(w, a, "cpu_ms"), v(w, "cpython", "cpu_ms")) : ""
        row(label, a, f(v(w, a, "cpu_ms"), 0), "ms", spread(vals[w, a, "cpu_ms"]), details, vs, "")
        label = ""
    }
}
function gcbench(w, label,    j, a, ms, wall, rss, bms, bwall, brss, details, vs, target, gm, n, parts, i, runs) {
    bms = has(w, "boehm") ? v(w, "boehm", "cpu_ms") : ""
    bwall = has(w, "boehm") ? v(w, "boehm", "ms") : ""
    brss = has(w, "boehm") ? v(w, "boehm", "peak_rss_kib") : ""
    for (j = 1; j <= nimpl[w]; j++) {
        a = impl[w, j]
        if (!has(w, a)) { unavailable(w, label, a); label = ""; continue }
        ms = v(w, a, "cpu_ms"); wall = v(w, a, "ms"); rss = v(w, a, "peak_rss_kib")
        details = sprintf("wall %s ms, peak RSS %s MiB", f(wall, 0), f(rss / 1024, 1))
        if ((w, a, "gc_ms") in vals) {  # "g0,g1,g2" per run: sum, then median
            n = split(vals[w, a, "gc_ms"], runs, " "); gm = ""
            for (i = 1; i <= n; i++) { split(runs[i], parts, ","); gm = gm " " (parts[1] + parts[2] + parts[3]) }
            details = details sprintf(", %s ms in gc", f(median(substr(gm, 2)), 0))
        }
        if (a == "boehm") details = details sprintf(", %d gcs, %d marker(s)", v(w, a, "collections"), v(w, a, "markers"))
        vs = (has(w, "cpython") && a != "cpython") ? ratio(ms, v(w, "cpython", "cpu_ms")) : ""
        target = ""
        if (a == "rcgc" && bms != "")
            target = sprintf("vs boehm: time %s %s (wall %s), RSS %s %s", ratio(ms, bms),
                             (ms < bms) ? "MET" : "MISSED", ratio(wall, bwall),
                             ratio(rss, brss), (rss < brss) ? "MET" : "MISSED")
        else if (a != "boehm" && bms != "")
            target = sprintf("(vs boehm: time %s, RSS %s)", ratio(ms, bms), ratio(rss, brss))
        row(label, a, f(ms, 0), "ms cpu", spread(vals[w, a, "cpu_ms"]), details, vs, target)
        label = ""
    }
}
END {
    nw = split(walls, W, " ")
    row("benchmark", "impl", "cpu", "unit", "spread", "details (medians)", "vs py", "target")
    print "-------------------------------------------------------------------------------------------------------------------------------------------"
    for (i = 1; i <= nw; i++) {
        w = W[i]
        if (!(w in nimpl)) continue
        if (w == "trav-100k") collection(w, "gc_traversal 100K")
        else if (w == "trav-1m") collection(w, "gc_traversal 1M")
        else if (w == "coll-100k") collection(w, "gc_collect 100K")
        else if (w == "coll-1m") collection(w, "gc_collect 1M")
        else if (w == "rec-100k") collection(w, "gc_records 100K")
        else if (w == "pause") pauses(w)
        else if (w == "gcbench") gcbench(w, "GCBench")
        else if (w == "gcbench-16") gcbench(w, "GCBench ll=16")
    }
    print ""
    print "Figures (\"cpu\" column) are medians of CPU time: of the measuring thread for the collections"
    print "  and pauses, of the whole process (all threads) for the pause loop and GCBench.  On a shared"
    print "  machine wall time also counts other processes; the wall medians are in the details.  On an"
    print "  idle machine the two agree.  Targets are judged on CPU time."
    print "gc_traversal: one full collection of N live containers (a fan-out-4 tree, no garbage), time per"
    print "  object examined; gc_collect: one full collection of N containers in 2-object cycles, all"
    print "  garbage, time per object collected, freeing included.  CPython: lists, its start-up objects"
    print "  frozen first.  rcgc: list-like containers of gc_bench.c; rcgc-list: the built-in rc_list."
    print "gc_records: one full collection of N instances (an int, a str and a tuple of two ints as"
    print "  attributes) in one list, time per record (ns/obj here means per record); \"objs\" is what"
    print "  the collector tracks (CPython untracks the tuples at its first collection).  No target."
    print "pause: per-collection times from a gc callback while 10M containers are allocated (a ring of"
    print "  10,000 live ones, every 4th a 2-cycle; a long-lived tree of 100,000), default thresholds."
    print "  gen0 is the young generation the target is about.  CPython times include ~1 us of its"
    print "  Python callback.  Max pauses are the least repeatable figure on a shared machine; the"
    print "  max of each run is taken, then the median over the runs.  noise floor: right after the"
    print "  loop, as many chunks of pure computation as there were gen-0 pauses, each as long as their"
    print "  median, timed the same way: what the machine itself adds to a max (interrupts, hypervisor)."
    print "GCBench: a temporary tree of depth 18, a long-lived tree and 500,000 doubles, then trees of depth"
    print "  4..18 step 2 built top-down and bottom-up.  Peak RSS: VmHWM of the process (the interpreter"
    print "  included for CPython).  rcgc frees trees by reference counting and runs its collector;"
    print "  rcgc-nogc is the same with automatic collection off (GCBench makes no cycles), to show"
    print "  what the collector costs.  \"in gc\": wall time inside collections, from a gc callback."
    print "  GCBench: long-lived tree of depth GC_BENCH_DEPTH (default 18); GCBench ll=16: depth 16,"
    print "  as in the classic program (the Boehm GC then marks a smaller heap each time)."
    print "vs py: figure / CPython figure in the same invocation (below 1: faster than CPython)."
    print "spread: (max - min) / median over the runs."
}' "$RAW" | tee "$TABLE"

if grep -Eq '^[^ ]+ (rcgc|rcgc-list) failed' "$RAW"; then
    echo "gc_run.sh: rcgc runs failed (see above)" >&2
    exit 1
fi
exit 0
