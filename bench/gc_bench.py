#!/usr/bin/env python3
"""gc_bench.py -- the CPython side of bench/gc_bench.c: the same benchmarks on
CPython's own collector, with lists where gc_bench.c uses its list-like
containers, so that the two can be read side by side.  One measurement per
process; the output is one "result" line with the keys gc_bench.c prints.

  gc_bench.py traversal [--n N] [--reps R]
  gc_bench.py collect [--n N]
  gc_bench.py records [--n N] [--reps R]
  gc_bench.py pause [--objects M] [--window W] [--long-lived L]
  gc_bench.py gcbench [--stretch-depth S] [--long-lived-depth L]
                      [--min-depth A] [--max-depth B] [--array N]

traversal, collect: the interpreter's own objects are collected once and
frozen (gc.freeze) before anything is built, so a full collection examines
the benchmark's objects and not the ~10,000 of the interpreter (the
"tracked" key says how many it examined).  Construction runs with
gc.disable(); each gc.collect() is timed alone, wall time with
time.perf_counter_ns and thread CPU time with time.thread_time_ns (the
cpu_* keys), as gc_bench.c does with CLOCK_MONOTONIC and
CLOCK_THREAD_CPUTIME_ID.

pause: default thresholds, automatic collection on; a gc.callbacks entry
takes time.perf_counter_ns() at "start" and "stop".  The interval includes
part of the callback machinery itself (building the info dict, calling the
Python function), about a microsecond, which gc_bench.c's C callback does
not pay.

gcbench: a gc.callbacks entry sums the time spent in collections (gc_ms;
it costs a few microseconds per collection, well under 1% here).  Nodes are
instances of a class with __slots__ (left, right, i, j),
the array an array.array of doubles (not tracked, as C's double[]); the
collector runs with its defaults and reference counting frees each tree
when it is dropped, as in the rcgc variant.
"""

import array
import gc
import sys
import time


def peak_rss_kib():
    """VmHWM (this process image's own peak), else ru_maxrss."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    try:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    except (ImportError, OSError):
        return -1


def cpu_seconds():
    return time.process_time()


def tracked_objects():
    """Objects the next full collection examines (the permanent generation,
    which it skips, excluded)."""
    objs = gc.get_objects()  # leaves itself out
    n = len(objs)
    del objs
    return n


def build_tree(n):
    """A balanced tree of exactly n lists, fan-out 4, built depth first (each
    node before its children): gc_bench.c's build_tree."""
    node = []
    rest = n - 1
    k = rest if rest < 4 else 4
    for c in range(k):
        node.append(build_tree(rest // k + (1 if c < rest % k else 0)))
    return node


def median(v):
    s = sorted(v)
    n = len(s)
    if n == 0:
        return 0.0
    return float(s[n // 2]) if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


class Record:
    pass


def bench_records(n, reps):
    """gc_bench.c's records: n instances with an int, a str and a tuple of
    two ints as attributes, held by one list; time per record of a full
    collection."""
    settle()
    allr = []
    for i in range(n):
        r = Record()
        r.id = i * 1000
        r.name = "name"
        r.pt = (i, i + 1)
        allr.append(r)
    report_full_collections(reps, "bench=records impl=cpython", n, n)
    del allr


def percentile(s, q):
    """Nearest-rank percentile of s, sorted ascending (as gc_bench.c)."""
    n = len(s)
    if n == 0:
        return 0
    rank = int((q / 100.0) * n + 0.999999)
    rank = min(max(rank, 1), n)
    return s[rank - 1]


def settle():
    """Collect what start-up left and freeze the survivors."""
    gc.collect()
    gc.freeze()
    gc.disable()


def report_full_collections(reps, label, n, per):
    """reps full collections of a heap with no garbage, timed, and the result
    line: "result <label> n=... tracked=...", then times per `per` units
    (objects examined, or records), medians and the first collection's (as
    gc_bench.c's report_full_collections)."""
    tracked = tracked_objects()
    times, cpus = [], []
    for _ in range(reps):
        c0 = time.thread_time_ns()
        t0 = time.perf_counter_ns()
        found = gc.collect()
        times.append(time.perf_counter_ns() - t0)
        cpus.append(time.thread_time_ns() - c0)
        if found != 0:
            sys.exit("gc_bench.py: the collector found garbage in a heap that has none")
    med, med_cpu = median(times), median(cpus)
    per = per or tracked
    print("result %s n=%d tracked=%d reps=%d"
          " ns_per_obj=%.2f cpu_ns_per_obj=%.2f first_ns_per_obj=%.2f first_cpu_ns_per_obj=%.2f"
          " ms=%.3f cpu_ms=%.3f peak_rss_kib=%d"
          % (label, n, tracked, reps, med / per, med_cpu / per, times[0] / per, cpus[0] / per,
             med / 1e6, med_cpu / 1e6, peak_rss_kib()))


def bench_traversal(n, reps):
    settle()
    root = build_tree(n)
    report_full_collections(reps, "bench=traversal impl=cpython types=list", n, 0)  # per object
    del root


def bench_collect(n):
    if n % 2:
        n += 1
    settle()
    for _ in range(n // 2):
        a = [None]
        b = [a]
        a[0] = b
    del a, b
    c0 = time.thread_time_ns()
    t0 = time.perf_counter_ns()
    found = gc.collect()
    t = time.perf_counter_ns() - t0
    c = time.thread_time_ns() - c0
    if found < n:
        sys.exit("gc_bench.py: collect found %d of %d" % (found, n))
    print("result bench=collect impl=cpython types=list n=%d found=%d"
          " ns_per_obj=%.2f cpu_ns_per_obj=%.2f ms=%.3f cpu_ms=%.3f peak_rss_kib=%d"
          % (n, found, t / n, c / n, t / 1e6, c / 1e6, peak_rss_kib()))


def run_pause_loop(ring, window, objects):
    made = 0
    step = 0
    while made < objects:
        j = step % window
        if step & 3 == 0:  # a 2-cycle: garbage once dropped
            a = [None]
            b = [a]
            a[0] = b
            ring[j] = a
            made += 2
        else:
            ring[j] = []
            made += 1
        step += 1
    del a, b
    return made


def bench_pause(objects, window, long_lived):
    th = gc.get_threshold()
    keep = build_tree(long_lived) if long_lived else None
    gc.collect()  # the long-lived tree settles in the oldest generation
    ring = [None] * window
    start = [0, 0, 0]
    durs = [array.array("q") for _ in range(3)]  # untracked
    cpus = [array.array("q") for _ in range(3)]
    clock = time.perf_counter_ns
    cpu_clock = time.thread_time_ns

    def cb(phase, info):
        # the CPU clock is read outside the wall interval, as in gc_bench.c
        if phase == "start":
            start[1] = info["generation"]
            start[2] = cpu_clock()
            start[0] = clock()
        else:
            d = clock() - start[0]
            cpus[start[1]].append(cpu_clock() - start[2])
            durs[start[1]].append(d)

    gc.callbacks.append(cb)
    c0 = cpu_seconds()
    t0 = time.perf_counter_ns()
    made = run_pause_loop(ring, window, objects)
    loop_ns = time.perf_counter_ns() - t0
    cpu = cpu_seconds() - c0
    gc.callbacks.remove(cb)

    out = ["result bench=pause impl=cpython objects=%d window=%d long_lived=%d"
           " threshold=%d,%d,%d loop_ms=%.1f cpu_ms=%.1f ns_per_alloc=%.2f"
           % (made, window, long_lived, th[0], th[1], th[2], loop_ns / 1e6,
              cpu * 1e3, loop_ns / made)]
    total = 0
    for g in range(3):
        total += sum(durs[g])
        out.append("g%d_n=%d g%d_total_ms=%.2f" % (g, len(durs[g]), g, sum(durs[g]) / 1e6))
        for pre, v in (("", durs[g]), ("cpu_", cpus[g])):
            s = sorted(v)
            out.append("g%d_%smed_us=%.2f g%d_%sp99_us=%.2f g%d_%smax_us=%.2f"
                       % (g, pre, median(s) / 1e3, g, pre, percentile(s, 99) / 1e3,
                          g, pre, (s[-1] if s else 0) / 1e3))
    out.append("gc_share=%.3f peak_rss_kib=%d" % (total / loop_ns, peak_rss_kib()))
    print(" ".join(out))
    del ring, keep


class Node:
    __slots__ = ("left", "right", "i", "j")

    def __init__(self, left=None, right=None):
        self.left = left
        self.right = right


def tree_size(depth):
    return (1 << (depth + 1)) - 1


def populate(depth, node):
    if depth <= 0:
        return
    depth -= 1
    node.left = Node()
    node.right = Node()
    populate(depth, node.left)
    populate(depth, node.right)


def make_tree(depth):
    if depth <= 0:
        return Node()
    return Node(make_tree(depth - 1), make_tree(depth - 1))


def run_gcbench(stretch, long_lived_depth, min_depth, max_depth, array_size):
    temp = make_tree(stretch)
    temp = None
    long_lived = Node()
    populate(long_lived_depth, long_lived)
    arr = array.array("d", bytes(8 * array_size))
    for i in range(1, array_size // 2):
        arr[i] = 1.0 / i
    if array_size > 0:
        arr[0] = float("inf")  # 1.0 / 0 in C
    for d in range(min_depth, max_depth + 1, 2):
        iters = 2 * tree_size(stretch) // tree_size(d)
        for _ in range(iters):
            temp = Node()
            populate(d, temp)
            temp = None
        for _ in range(iters):
            temp = make_tree(d)
            temp = None
    ok = long_lived is not None and (array_size // 2 <= 1000 or arr[1000] == 1.0 / 1000)
    # the long-lived data is kept alive to the end and released after the
    # clock stops, as in every other variant (the Boehm GC never frees it)
    return ok, (long_lived, arr)


def bench_gcbench(stretch, long_lived_depth, min_depth, max_depth, array_size):
    nodes = tree_size(stretch) + tree_size(long_lived_depth)
    for d in range(min_depth, max_depth + 1, 2):
        nodes += 2 * (2 * tree_size(stretch) // tree_size(d)) * tree_size(d)
    start = [0, 0]
    gc_ns = [0, 0, 0]
    clock = time.perf_counter_ns

    def cb(phase, info):
        if phase == "start":
            start[1] = info["generation"]
            start[0] = clock()
        else:
            gc_ns[start[1]] += clock() - start[0]

    gc.callbacks.append(cb)
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    ok, kept = run_gcbench(stretch, long_lived_depth, min_depth, max_depth, array_size)
    t = time.perf_counter() - t0
    cpu = cpu_seconds() - c0
    del kept
    gc.callbacks.remove(cb)
    if not ok:
        sys.exit("gc_bench.py: gcbench: the long-lived data was damaged")
    st = gc.get_stats()
    print("result bench=gcbench impl=cpython stretch=%d long_lived=%d min_depth=%d"
          " max_depth=%d array=%d nodes=%d ms=%.1f cpu_ms=%.1f peak_rss_kib=%d"
          " collections=%d,%d,%d gc_ms=%.1f,%.1f,%.1f"
          % (stretch, long_lived_depth, min_depth, max_depth, array_size, nodes,
             t * 1e3, cpu * 1e3, peak_rss_kib(),
             st[0]["collections"], st[1]["collections"], st[2]["collections"],
             gc_ns[0] / 1e6, gc_ns[1] / 1e6, gc_ns[2] / 1e6))


USAGE = """usage: gc_bench.py traversal [--n N] [--reps R]
       gc_bench.py collect [--n N]
       gc_bench.py records [--n N] [--reps R]
       gc_bench.py pause [--objects M] [--window W] [--long-lived L]
       gc_bench.py gcbench [--stretch-depth S] [--long-lived-depth L]
                           [--min-depth A] [--max-depth B] [--array N]"""


def main(argv):
    if len(argv) < 2:
        sys.exit(USAGE)
    bench = argv[1]
    opts = {"n": 100000, "reps": 3, "objects": 10000000, "window": 10000,
            "long-lived": 100000, "stretch-depth": 18, "long-lived-depth": 18,
            "min-depth": 4, "max-depth": 18, "array": 500000}
    args = argv[2:]
    if bench == "gcbench" and args and args[0] == "cpython":
        args = args[1:]  # the implementation name gc_bench.c takes there
    if len(args) % 2:
        sys.exit(USAGE)
    for i in range(0, len(args), 2):
        key = args[i][2:] if args[i].startswith("--") else None
        if key not in opts or key == "types" or not args[i + 1].isdigit():
            sys.exit(USAGE)
        opts[key] = int(args[i + 1])
    # gcbench recurses up to the tree depth plus a few frames; deep trees
    # would need more than the default limit
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000 + 2 * opts["stretch-depth"]))
    if bench == "traversal":
        bench_traversal(opts["n"], opts["reps"])
    elif bench == "collect":
        bench_collect(opts["n"])
    elif bench == "records":
        bench_records(opts["n"], opts["reps"])
    elif bench == "pause":
        bench_pause(opts["objects"], opts["window"], opts["long-lived"])
    elif bench == "gcbench":
        bench_gcbench(opts["stretch-depth"], opts["long-lived-depth"], opts["min-depth"],
                      opts["max-depth"], opts["array"])
    else:
        sys.exit(USAGE)


if __name__ == "__main__":
    main(sys.argv)
