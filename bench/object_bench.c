/*
 * object_bench.c — micro-benchmarks of the object layer: the cost of a
 * reference-count pair and of creating and destroying a small object,
 * against the allocator's bare alloc+free pair of the same size (rc_malloc
 * and glibc malloc).  bench/object_run.sh runs it several times, next to
 * CPython doing the same (bench/object_bench.py), and prints one table.
 *
 *   object_bench OP|all [--ops N] [--repeat R]
 *
 *   OP           incdec       rc_incref + rc_decref on a live object (1 -> 2 -> 1)
 *                new_plain    rc_new + rc_decref of a plain object whose struct
 *                             is 16 bytes (24-byte block: 8-byte header)
 *                new_gc       the same for an RC_TYPE_GC type (40-byte block:
 *                             24-byte header)
 *                rc_pair24    rc_malloc(24) + rc_free: the allocator's bare pair
 *                rc_pair40    rc_malloc(40) + rc_free
 *                malloc24     glibc malloc(24) + free (or whatever LD_PRELOAD puts first)
 *                malloc40     malloc(40) + free
 *                all          each of the above in turn, in one process
 *   --ops N      operations per timed loop (default 2,000,000)
 *   --repeat R   rounds (default 15): each round times every OP once, in turn,
 *                so a noisy moment hits them all alike; the fastest round of
 *                each OP is reported
 *
 * Every loop body writes 8 bytes into what it made (as a caller would) and
 * hides the pointer from the optimiser, so no pair is elided.  The heap is
 * an RC_MODE_POOL heap; before timing, each OP runs a short warm-up (the
 * type registered, the size class's pool carved, the caches warm).
 *
 * Output: one line per OP on stdout,
 *   result op=new_plain ns_per_op=12.345 ops=2000000 repeat=15
 *
 * Functions whose names start with "loop_" are the timed regions: bench/
 * object_run.sh --callgrind counts instructions only inside them
 * (--toggle-collect=loop_*), like bench/callgrind.sh for alloc_bench.
 */
#include "rcgc/heap.h"
#include "rcgc/object.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_NOINLINE __attribute__((noinline))
#define BENCH_UNLIKELY(x) __builtin_expect(!!(x), 0)
/* Make the compiler believe p is used (and memory changed), so that pairs
 * are not elided and counts are really loaded and stored each time. */
#define BENCH_ESCAPE(p) __asm__ volatile("" : : "r"(p) : "memory")

/* ---- The objects ------------------------------------------------------------ */

typedef struct small16 {
    uint64_t a, b;
} small16;

static void no_refs(void *o, rc_visit_fn visit, void *arg)
{
    (void)o;
    (void)visit;
    (void)arg;
}

static const rc_type plain_type = {.name = "small16", .size = sizeof(small16)};
static const rc_type gc_type = {
    .name = "gc_small16", .size = sizeof(small16), .flags = RC_TYPE_GC, .traverse = no_refs};

/* Block sizes of the two objects: the bare pairs ask for exactly these. */
#define PLAIN_BLOCK (8 + sizeof(small16))
#define GC_BLOCK (24 + sizeof(small16))

static _Noreturn void bench_oom(const char *what)
{
    fprintf(stderr, "object_bench: %s failed\n", what);
    exit(3);
}

/* ---- The timed loops ---------------------------------------------------------- */

static BENCH_NOINLINE void loop_incdec(void *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rc_incref(o);
        BENCH_ESCAPE(o);
        rc_decref(o);
        BENCH_ESCAPE(o);
    }
}

static BENCH_NOINLINE void loop_new_plain(rc_heap *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        small16 *o = rc_new(h, &plain_type, 0);
        if (BENCH_UNLIKELY(o == NULL))
            bench_oom("rc_new");
        o->a = i;
        BENCH_ESCAPE(o);
        rc_decref(o);
    }
}

static BENCH_NOINLINE void loop_new_gc(rc_heap *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        small16 *o = rc_new(h, &gc_type, 0);
        if (BENCH_UNLIKELY(o == NULL))
            bench_oom("rc_new");
        o->a = i;
        BENCH_ESCAPE(o);
        rc_decref(o);
    }
}

static BENCH_NOINLINE void loop_rc_pair(rc_heap *h, size_t size, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t *p = rc_malloc(h, size);
        if (BENCH_UNLIKELY(p == NULL))
            bench_oom("rc_malloc");
        *p = i;
        BENCH_ESCAPE(p);
        rc_free(p);
    }
}

static BENCH_NOINLINE void loop_malloc_pair(size_t size, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t *p = malloc(size);
        if (BENCH_UNLIKELY(p == NULL))
            bench_oom("malloc");
        *p = i;
        BENCH_ESCAPE(p);
        free(p);
    }
}

/* ---- Driver ---------------------------------------------------------------------- */

enum op { OP_INCDEC, OP_NEW_PLAIN, OP_NEW_GC, OP_RC24, OP_RC40, OP_MALLOC24, OP_MALLOC40, NOPS };
static const char *const op_names[NOPS] = {"incdec",    "new_plain", "new_gc",  "rc_pair24",
                                           "rc_pair40", "malloc24",  "malloc40"};

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void run_op(rc_heap *h, void *live, enum op op, size_t n)
{
    switch (op) {
    case OP_INCDEC: loop_incdec(live, n); break;
    case OP_NEW_PLAIN: loop_new_plain(h, n); break;
    case OP_NEW_GC: loop_new_gc(h, n); break;
    case OP_RC24: loop_rc_pair(h, PLAIN_BLOCK, n); break;
    case OP_RC40: loop_rc_pair(h, GC_BLOCK, n); break;
    case OP_MALLOC24: loop_malloc_pair(PLAIN_BLOCK, n); break;
    case OP_MALLOC40: loop_malloc_pair(GC_BLOCK, n); break;
    case NOPS: break;
    }
}

/* Untimed (and outside the loop_ functions): register the types, carve the
 * pools, warm the caches, without calling the timed loops themselves. */
static void warm_up(rc_heap *h)
{
    for (int i = 0; i < 10000; i++) {
        void *a = rc_new(h, &plain_type, 0), *b = rc_new(h, &gc_type, 0);
        void *c = rc_malloc(h, PLAIN_BLOCK), *d = rc_malloc(h, GC_BLOCK);
        void *e = malloc(PLAIN_BLOCK), *f = malloc(GC_BLOCK);
        if (!a || !b || !c || !d || !e || !f)
            bench_oom("warm-up");
        BENCH_ESCAPE(e);
        BENCH_ESCAPE(f);
        rc_decref(a);
        rc_decref(b);
        rc_free(c);
        rc_free(d);
        free(e);
        free(f);
    }
}

static size_t parse_size(const char *opt, const char *s)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v == 0) {
        fprintf(stderr, "object_bench: %s wants a positive number, got '%s'\n", opt, s);
        exit(2);
    }
    return (size_t)v;
}

static _Noreturn void usage(void)
{
    fprintf(stderr, "usage: object_bench incdec|new_plain|new_gc|rc_pair24|rc_pair40|malloc24|"
                    "malloc40|all [--ops N] [--repeat R]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    int first = -1, last = -1;
    if (strcmp(argv[1], "all") == 0) {
        first = 0;
        last = NOPS - 1;
    } else {
        for (int i = 0; i < NOPS; i++)
            if (strcmp(argv[1], op_names[i]) == 0)
                first = last = i;
    }
    if (first < 0)
        usage();
    size_t ops = 2000000, repeat = 15;
    for (int i = 2; i < argc; i += 2) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--ops") == 0)
            ops = parse_size(argv[i], argv[i + 1]);
        else if (strcmp(argv[i], "--repeat") == 0)
            repeat = parse_size(argv[i], argv[i + 1]);
        else
            usage();
    }

    rc_heap_config cfg;
    rc_heap_config_init(&cfg);
    cfg.mode = RC_MODE_POOL;
    rc_heap *h = rc_heap_new(&cfg);
    if (h == NULL)
        bench_oom("rc_heap_new");
    warm_up(h);
    small16 *live = rc_new(h, &plain_type, 0); /* the incdec target */
    if (live == NULL)
        bench_oom("rc_new");

    /* Rounds: every OP once per round, so that a slow phase of a noisy
     * machine hits all of them alike; each OP's fastest round is reported. */
    double best[NOPS] = {0};
    for (size_t r = 0; r < repeat; r++)
        for (int op = first; op <= last; op++) {
            const double t0 = now_ns();
            run_op(h, live, (enum op)op, ops);
            const double t = now_ns() - t0;
            if (r == 0 || t < best[op])
                best[op] = t;
        }
    for (int op = first; op <= last; op++)
        printf("result op=%s ns_per_op=%.3f ops=%zu repeat=%zu\n", op_names[op],
               best[op] / (double)ops, ops, repeat);

    if (rc_refcount(live) != 1 || rc_live_objects(h) != 1) {
        fprintf(stderr, "object_bench: wrong counts at the end (refcount %ld, live %zu)\n",
                (long)rc_refcount(live), rc_live_objects(h));
        return 1;
    }
    rc_decref(live);
    rc_heap_destroy(h);
    return 0;
}
