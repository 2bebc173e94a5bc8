/*
 * gcbench_boehm.c — GCBench on the Boehm-Demers-Weiser collector (libgc), the
 * tracing peer of bench/gc_bench.c's rcgc and malloc variants.  Built only
 * where libgc-dev is installed (bench/CMakeLists.txt looks for gc.h and
 * libgc).
 *
 *   gcbench_boehm [--stretch-depth S] [--long-lived-depth L] [--min-depth A]
 *                 [--max-depth B] [--array N]
 *
 * The same program as gc_bench.c's run_gcbench_*: a temporary tree of depth
 * S, a long-lived tree of depth L and an array of N doubles kept to the end,
 * then for depth A..B step 2, NumIters(d) = 2 * TreeSize(S) / TreeSize(d)
 * trees built top-down and as many bottom-up.  Nodes come from GC_MALLOC
 * (zeroed, scanned), the array from GC_MALLOC_ATOMIC (not scanned); nothing
 * is freed explicitly, the collector finds the dropped trees.  libgc runs
 * with its defaults (the environment may set GC_MARKERS, GC_INITIAL_HEAP_SIZE
 * ...); the result line says how many marker threads it used, and cpu_ms
 * counts all of them.
 *
 * Output: one "result" line with the same keys as gc_bench gcbench.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

/* libgc is built with thread support on the usual distributions (its
 * parallel marker needs it); GC_THREADS declares the matching API. */
#ifndef GC_THREADS
#define GC_THREADS
#endif
#include <gc.h>

#define BENCH_PROG "gcbench_boehm"
#include "gc_bench_common.h"

static gnode *node(gnode *l, gnode *r)
{
    gnode *n = GC_MALLOC(sizeof *n); /* zeroed: i = j = 0 */
    if (n == NULL)
        die("GC_MALLOC failed");
    n->left = l;
    n->right = r;
    return n;
}

static void populate(int depth, gnode *n)
{
    if (depth <= 0)
        return;
    depth--;
    n->left = node(NULL, NULL);
    n->right = node(NULL, NULL);
    populate(depth, n->left);
    populate(depth, n->right);
}

static gnode *make_tree(int depth)
{
    if (depth <= 0)
        return node(NULL, NULL);
    gnode *l = make_tree(depth - 1);
    return node(l, make_tree(depth - 1));
}

static __attribute__((noinline)) int run_gcbench_boehm(const gcb_params *p)
{
    gnode *volatile temp = make_tree(p->stretch);
    temp = NULL;

    gnode *long_lived = node(NULL, NULL);
    populate(p->long_lived, long_lived);
    double *array = GC_MALLOC_ATOMIC(p->array * sizeof(double) + 1);
    if (array == NULL)
        die("GC_MALLOC_ATOMIC failed");
    for (size_t i = 0; i < p->array / 2; i++)
        array[i] = 1.0 / (double)i;

    for (int d = p->min_depth; d <= p->max_depth; d += 2) {
        long iters = num_iters(p, d);
        for (long i = 0; i < iters; i++) {
            temp = node(NULL, NULL);
            populate(d, temp);
            temp = NULL;
        }
        for (long i = 0; i < iters; i++) {
            temp = make_tree(d);
            temp = NULL;
        }
    }
    (void)temp;
    int ok = long_lived != NULL && (p->array / 2 <= 1000 || array[1000] == 1.0 / 1000);
    GC_reachable_here(long_lived); /* keep both alive to the end, as the classic */
    GC_reachable_here(array);
    return ok;
}

int main(int argc, char **argv)
{
    gcb_params p = GCB_DEFAULT_PARAMS;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc) {
            fprintf(stderr, "gcbench_boehm: %s wants a value\n", argv[i]);
            return 2;
        }
        const char *o = argv[i], *v = argv[i + 1];
        if (strcmp(o, "--stretch-depth") == 0)
            p.stretch = (int)parse_num(o, v);
        else if (strcmp(o, "--long-lived-depth") == 0)
            p.long_lived = (int)parse_num(o, v);
        else if (strcmp(o, "--min-depth") == 0)
            p.min_depth = (int)parse_num(o, v);
        else if (strcmp(o, "--max-depth") == 0)
            p.max_depth = (int)parse_num(o, v);
        else if (strcmp(o, "--array") == 0)
            p.array = parse_num(o, v);
        else {
            fprintf(stderr,
                    "usage: gcbench_boehm [--stretch-depth S] [--long-lived-depth L]"
                    " [--min-depth A] [--max-depth B] [--array N]\n");
            return 2;
        }
    }
    if (p.stretch > 30 || p.long_lived > 30 || p.max_depth > 30 || p.min_depth < 0)
        die("depths must be 0..30");
    long nodes = tree_size(p.stretch) + tree_size(p.long_lived);
    for (int d = p.min_depth; d <= p.max_depth; d += 2)
        nodes += 2 * num_iters(&p, d) * tree_size(d);

    GC_INIT(); /* untimed, as the other variants' heap creation */
    double cpu0 = cpu_seconds();
    uint64_t t0 = now_ns();
    int ok = run_gcbench_boehm(&p);
    uint64_t ns = now_ns() - t0;
    double cpu = cpu_seconds() - cpu0;
    long rss = peak_rss_kib();
    if (!ok) {
        fprintf(stderr, "gcbench_boehm: the long-lived data was damaged\n");
        return 1;
    }
    printf("result bench=gcbench impl=boehm stretch=%d long_lived=%d min_depth=%d max_depth=%d"
           " array=%zu nodes=%ld ms=%.1f cpu_ms=%.1f peak_rss_kib=%ld collections=%lu"
           " heap_kib=%zu markers=%d gc_version=%d.%d.%d\n",
           p.stretch, p.long_lived, p.min_depth, p.max_depth, p.array, nodes, (double)ns / 1e6,
           cpu * 1e3, rss, (unsigned long)GC_get_gc_no(), GC_get_heap_size() / 1024,
           GC_get_parallel() + 1, GC_VERSION_MAJOR, GC_VERSION_MINOR,
           GC_VERSION_MICRO);
    return 0;
}
