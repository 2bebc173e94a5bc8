#!/usr/bin/env python3
"""object_bench.py -- the CPython side of bench/object_run.sh.

Times, in one process, loops that do in Python what object_bench does in C,
each minus the interpreter's empty loop (`for _ in range(n): pass`), so what
is left is the operation itself plus the dispatch of its bytecodes:

  py_incdec   `y = x` in the loop: LOAD_FAST x (incref) + STORE_FAST y (decref
              of the previous value): one incref/decref pair
  py_object   `object()`: create and destroy a plain object (type call,
              PyObject_Malloc, dealloc, PyObject_Free)
  py_list     `[]`: create and destroy an empty list (a GC container; 3.11
              takes it from the list free list, not from the allocator)

The loops are functions, so their variables are fast locals, and each
iteration does its operation ten times (the empty loop's cost, subtracted,
is then a tenth per operation).  The cyclic GC is disabled while timing (as
timeit does).  Every (empty, op) pair is timed `--repeat` times,
interleaved, and the fastest of each is used.

  python3 bench/object_bench.py [--ops N] [--repeat R]

  --ops N     loop iterations (default 500,000: 5,000,000 operations)
  --repeat R  timings of each loop (default 9)

Output: one line per operation, in object_bench's format:
  result op=py_object ns_per_op=31.234 ops=5000000 repeat=9 empty_ns=9.876 python=3.11.7
(ops: operations; empty_ns: the empty loop's time per iteration)
"""
import gc
import platform
import sys
import time


# Each loop body does its operation UNROLL times, so that the empty loop
# subtracted is spread over UNROLL operations (less noise on small figures).
UNROLL = 10


def loop_empty(n):
    for _ in range(n):
        pass


def loop_incdec(n, x):
    for _ in range(n):
        y = x; y = x; y = x; y = x; y = x; y = x; y = x; y = x; y = x; y = x  # noqa


def loop_object(n):
    for _ in range(n):
        object(); object(); object(); object(); object()  # noqa: E702
        object(); object(); object(); object(); object()  # noqa: E702


def loop_list(n):
    for _ in range(n):
        []; []; []; []; []; []; []; []; []; []  # noqa: E702


OPS = [
    ("py_incdec", lambda n: loop_incdec(n, object())),
    ("py_object", loop_object),
    ("py_list", loop_list),
]


def timed(fn, n):
    t0 = time.perf_counter_ns()
    fn(n)
    return time.perf_counter_ns() - t0


def main(argv):
    ops, repeat = 500_000, 9
    args = list(argv)
    while args:
        opt = args.pop(0)
        if opt in ("--ops", "--repeat") and args:
            value = int(args.pop(0))
            if value <= 0:
                sys.exit("object_bench.py: %s wants a positive number" % opt)
            if opt == "--ops":
                ops = value
            else:
                repeat = value
        else:
            sys.exit("usage: object_bench.py [--ops N] [--repeat R]")

    version = platform.python_version()
    gc.disable()
    # warm-up: the first calls specialise the bytecode (3.11's adaptive
    # interpreter) and fill the free lists
    for _, fn in OPS:
        fn(100_000)
    loop_empty(100_000)

    for name, fn in OPS:
        best_empty = best_op = None
        for _ in range(repeat):
            e = timed(loop_empty, ops)
            t = timed(fn, ops)
            best_empty = e if best_empty is None else min(best_empty, e)
            best_op = t if best_op is None else min(best_op, t)
        per_op = (best_op - best_empty) / (ops * UNROLL)
        print("result op=%s ns_per_op=%.3f ops=%d repeat=%d empty_ns=%.3f python=%s"
              % (name, per_op, ops * UNROLL, repeat, best_empty / ops, version))
        sys.stdout.flush()
    gc.enable()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
