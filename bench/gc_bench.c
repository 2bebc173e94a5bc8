/*
 * gc_bench.c — cycle-collector benchmarks, the rcgc side (and the plain
 * malloc/free variant of GCBench).  One measurement per process, so peak RSS
 * (VmHWM) belongs to exactly one variant.  bench/gc_bench.py is the CPython
 * side and bench/gcbench_boehm.c the Boehm GC variant of GCBench; they take
 * the same options and print the same result lines.  bench/gc_run.sh runs
 * them all and prints one table.
 *
 *   gc_bench traversal [--n N] [--reps R] [--types custom|builtin]
 *       A balanced tree of N list-like containers (fan-out 4, no garbage),
 *       built with automatic collection off; then R full collections
 *       (rc_gc_collect(h, 2)), each timed alone.  Reports ns per tracked
 *       object: the median collection, and the first one.
 *   gc_bench collect [--n N] [--types custom|builtin]
 *       N containers in 2-object cycles (a -> b -> a), all dropped, built
 *       with automatic collection off; then one full collection, timed:
 *       ns per object collected, freeing included.
 *   gc_bench pause [--objects M] [--window W] [--long-lived L]
 *       Default thresholds (700, 10, 10), automatic collection on.  A
 *       long-lived tree of L containers, then a loop allocating M containers
 *       in total: each step puts a new one in a ring of W slots (dropping the
 *       one it replaces); every 4th step it is a 2-object cycle, so dropped
 *       cycles are garbage only the collector frees.  A gc callback timestamps
 *       START and STOP of every collection (CLOCK_MONOTONIC): count, median,
 *       p99 and max pause per generation.  Then the noise floor (noise_*):
 *       the same statistics for as many chunks of pure computation as there
 *       were gen-0 pauses, each as long as their median.
 *   gc_bench gcbench rcgc|rcgc-nogc|malloc [--stretch-depth S]
 *                [--long-lived-depth L] [--min-depth A] [--max-depth B] [--array N]
 *       Boehm's GCBench (Ellis, Kovac, Boehm): a temporary tree of depth S,
 *       a long-lived tree of depth L and an array of N doubles kept to the
 *       end, then for depth A..B step 2, NumIters(d) = 2 * TreeSize(S) /
 *       TreeSize(d) trees built top-down and as many bottom-up, each dropped
 *       at once.  rcgc: nodes are RC_TYPE_GC objects (tracked, so the
 *       collector runs with its default thresholds), trees are freed by
 *       reference counting when dropped.  rcgc-nogc: the same with automatic
 *       collection off (rc_gc_disable), to show what the collector costs;
 *       GCBench makes no cycles, so nothing leaks.  malloc: malloc/free, an
 *       explicit recursive free per tree.
 *
 * The containers are types of this file, not rcgc's built-in list (which
 * --types builtin selects, for traversal and collect): a "blist" has
 * CPython's list layout, a struct with a size, a capacity and a separately
 * allocated item array, so both sides chase the same pointers.
 *
 * Output: one line of key=value pairs starting with "result".  Times are
 * wall clock (CLOCK_MONOTONIC); the cpu_* keys are the same intervals in CPU
 * time of the thread (CLOCK_THREAD_CPUTIME_ID), or of the process for
 * cpu_ms of pause and gcbench: on a shared machine they leave out what other
 * processes took.  peak_rss_kib is VmHWM.  Every rcgc heap is created with
 * RC_MODE_POOL, so RCGC_MALLOC does not change what is measured.  Functions
 * named run_* contain the timed regions (callgrind --toggle-collect=run_*
 * profiles only them).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "rcgc/gc.h"
#include "rcgc/heap.h"
#include "rcgc/object.h"

#if defined(__has_include)
#if __has_include("rcgc/types.h")
#include "rcgc/types.h"
#define GCB_HAVE_TYPES 1
#endif
#endif
#ifndef GCB_HAVE_TYPES
#define GCB_HAVE_TYPES 0
#endif

#define BENCH_PROG "gc_bench"
#include "gc_bench_common.h"

#define GCB_NOINLINE __attribute__((noinline))

/* ---- helpers ------------------------------------------------------------ */

/* CPU time of the calling thread (user + system), ns.  Unlike wall time it
 * leaves out the time other processes of a shared machine took the CPU. */
static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static rc_heap *new_heap(void)
{
    rc_heap_config cfg;
    rc_heap_config_init(&cfg);
    cfg.mode = RC_MODE_POOL;
    rc_heap *h = rc_heap_new(&cfg);
    if (h == NULL)
        die("rc_heap_new failed");
    return h;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile (q in 0..100) of v[0..n) sorted ascending. */
static uint64_t percentile(const uint64_t *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)((q / 100.0) * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

static double median_u64(uint64_t *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_u64);
    return n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2;
}

/* ---- the containers ------------------------------------------------------ */

/* A list-like container laid out as CPython's list: the object holds the
 * size, the capacity and a pointer to an item array allocated apart. */
typedef struct blist {
    size_t n, cap;
    void **items;
} blist;

static void blist_traverse(void *o, rc_visit_fn visit, void *arg)
{
    blist *l = o;
    for (size_t i = 0; i < l->n; i++)
        visit(l->items[i], arg);
}

/* The same references as one array, for the collector's inline loop. */
static rc_refs blist_refs(const void *o)
{
    const blist *l = o;
    return (rc_refs){(void *const *)l->items, l->n};
}

/* Used as clear (to break cycles) and destroy: the list is emptied before
 * its items are dropped. */
static void blist_clear(void *o)
{
    blist *l = o;
    void **items = l->items;
    size_t n = l->n;
    l->items = NULL;
    l->n = l->cap = 0;
    if (!items) /* already cleared (destroy after a collection's clear), as CPython's list */
        return;
    for (size_t i = 0; i < n; i++)
        rc_decref(items[i]);
    rc_free(items);
}

static const rc_type blist_type = {
    .name = "blist",
    .size = sizeof(blist),
    .flags = RC_TYPE_GC | RC_TYPE_UNHASHABLE,
    .traverse = blist_traverse,
    .refs = blist_refs,
    .clear = blist_clear,
    .destroy = blist_clear,
};

/* A new blist with room for cap items (no item array when cap is 0). */
static blist *blist_new(rc_heap *h, size_t cap)
{
    blist *l = rc_new(h, &blist_type, 0);
    if (l == NULL)
        die("rc_new failed");
    if (cap) {
        l->items = rc_malloc(h, cap * sizeof(void *));
        if (l->items == NULL)
            die("rc_malloc failed");
        l->cap = cap;
    }
    return l;
}

/* Append, stealing the reference to item. */
static void blist_push_steal(blist *l, void *item)
{
    if (l->n == l->cap)
        die("blist full"); /* the benchmarks size their lists exactly */
    l->items[l->n++] = item;
}

static void gnode_traverse(void *o, rc_visit_fn visit, void *arg)
{
    gnode *n = o;
    visit(n->left, arg);
    visit(n->right, arg);
}

/* left and right are adjacent: the node's references as an array of 2. */
static rc_refs gnode_refs(const void *o)
{
    return (rc_refs){(void *const *)&((const gnode *)o)->left, 2};
}

static void gnode_clear(void *o)
{
    gnode *n = o;
    gnode *l = n->left, *r = n->right;
    n->left = n->right = NULL;
    rc_decref(l);
    rc_decref(r);
}

static const rc_type gnode_type = {
    .name = "node",
    .size = sizeof(gnode),
    .flags = RC_TYPE_GC | RC_TYPE_UNHASHABLE,
    .traverse = gnode_traverse,
    .refs = gnode_refs,
    .clear = gnode_clear,
    .destroy = gnode_clear,
};

/* GCBench's array of doubles: not a container (no references). */
static const rc_type doubles_type = {
    .name = "doubles",
    .size = 0,
    .flags = 0,
};

/* ---- which list type ----------------------------------------------------- */

enum list_impl { LIST_CUSTOM, LIST_BUILTIN };

/* A new list of one of the two kinds with room for cap items. */
static void *list_new(rc_heap *h, enum list_impl impl, size_t cap)
{
#if GCB_HAVE_TYPES
    if (impl == LIST_BUILTIN) {
        void *l = rc_list_new(h, cap);
        if (l == NULL)
            die("rc_list_new failed");
        return l;
    }
#endif
    (void)impl;
    return blist_new(h, cap);
}

static void list_push_steal(enum list_impl impl, void *l, void *item)
{
#if GCB_HAVE_TYPES
    if (impl == LIST_BUILTIN) {
        if (rc_list_append_steal(l, item) != RC_OK)
            die("rc_list_append_steal failed");
        return;
    }
#endif
    (void)impl;
    blist_push_steal(l, item);
}

/* A balanced tree of exactly n lists, fan-out 4, built depth first (each
 * node before its children), as gc_bench.py's build_tree. */
static void *build_tree(rc_heap *h, enum list_impl impl, size_t n)
{
    size_t rest = n - 1;
    size_t k = rest < 4 ? rest : 4;
    void *node = list_new(h, impl, k);
    for (size_t c = 0; c < k; c++)
        list_push_steal(impl, node, build_tree(h, impl, rest / k + (c < rest % k ? 1 : 0)));
    return node;
}

/* ---- gc_traversal ----------------------------------------------------------- */

/* One full collection: wall time returned, thread CPU time in *cpu. */
static GCB_NOINLINE uint64_t run_full_collection(rc_heap *h, intptr_t *found, uint64_t *cpu)
{
    uint64_t c0 = thread_cpu_ns();
    uint64_t t0 = now_ns();
    *found = rc_gc_collect(h, 2);
    uint64_t t = now_ns() - t0;
    *cpu = thread_cpu_ns() - c0;
    return t;
}

/* reps full collections of h, which holds no garbage, timed, and the result
 * line: "result <label> n=... tracked=...", then times per `per` units
 * (records; 0: per object examined): medians and the first collection's. */
static void report_full_collections(rc_heap *h, int reps, const char *label, size_t n, size_t per)
{
    size_t tracked = rc_gc_generation_size(h, 0) + rc_gc_generation_size(h, 1) +
                     rc_gc_generation_size(h, 2);
    uint64_t *t = calloc((size_t)reps, sizeof *t), *c = calloc((size_t)reps, sizeof *c);
    if (t == NULL || c == NULL)
        die("out of memory");
    for (int r = 0; r < reps; r++) {
        intptr_t found;
        t[r] = run_full_collection(h, &found, &c[r]);
        if (found != 0)
            die("the collector found garbage in a heap that has none");
    }
    double med = median_u64(t, (size_t)reps), med_cpu = median_u64(c, (size_t)reps);
    double np = (double)(per ? per : tracked);
    printf("result %s n=%zu tracked=%zu reps=%d"
           " ns_per_obj=%.2f cpu_ns_per_obj=%.2f first_ns_per_obj=%.2f first_cpu_ns_per_obj=%.2f"
           " ms=%.3f cpu_ms=%.3f peak_rss_kib=%ld\n",
           label, n, tracked, reps, med / np, med_cpu / np, (double)t[0] / np, (double)c[0] / np,
           med / 1e6, med_cpu / 1e6, peak_rss_kib());
    free(t);
    free(c);
}

static int bench_traversal(size_t n, int reps, enum list_impl impl)
{
    rc_heap *h = new_heap();
    rc_gc_disable(h);
    void *root = build_tree(h, impl, n);
    report_full_collections(h, reps,
                            impl == LIST_BUILTIN ? "bench=traversal impl=rcgc types=builtin"
                                                 : "bench=traversal impl=rcgc types=custom",
                            n, 0);
    rc_decref(root);
    rc_heap_destroy(h);
    return 0;
}

/* ---- gc_collect ---------------------------------------------------------------- */

static int bench_collect(size_t n, enum list_impl impl)
{
    if (n % 2)
        n++;
    rc_heap *h = new_heap();
    rc_gc_disable(h);
    for (size_t i = 0; i < n; i += 2) {
        void *a = list_new(h, impl, 1);
        void *b = list_new(h, impl, 1);
        rc_incref(a);
        list_push_steal(impl, b, a); /* b -> a */
        list_push_steal(impl, a, b); /* a -> b, our reference to b moves there */
        rc_decref(a);                /* now only the cycle holds them */
    }
    size_t live_before = rc_live_objects(h);
    intptr_t found;
    uint64_t cpu;
    uint64_t ns = run_full_collection(h, &found, &cpu);
    size_t live_after = rc_live_objects(h);
    if ((size_t)found != n || live_after != 0) {
        fprintf(stderr, "gc_bench: collect found %ld of %zu, %zu objects left\n", (long)found, n,
                live_after);
        return 1;
    }
    printf("result bench=collect impl=rcgc types=%s n=%zu found=%ld live_before=%zu"
           " ns_per_obj=%.2f cpu_ns_per_obj=%.2f ms=%.3f cpu_ms=%.3f peak_rss_kib=%ld\n",
           impl == LIST_BUILTIN ? "builtin" : "custom", n, (long)found, live_before,
           (double)ns / (double)n, (double)cpu / (double)n, (double)ns / 1e6, (double)cpu / 1e6,
           peak_rss_kib());
    rc_heap_destroy(h);
    return 0;
}

/* ---- young pauses ---------------------------------------------------------------- */

typedef struct pause_log {
    uint64_t start, start_cpu;
    int gen;
    uint64_t *ns[RC_GC_GENERATIONS], *cpu[RC_GC_GENERATIONS];
    size_t n[RC_GC_GENERATIONS], cap[RC_GC_GENERATIONS];
} pause_log;

/* Wall time of each collection, and its thread CPU time (the CPU clock is
 * read outside the wall interval, so the wall figures do not pay for it). */
static void pause_cb(rc_heap *h, rc_gc_phase phase, const rc_gc_info *info, void *arg)
{
    (void)h;
    pause_log *log = arg;
    if (phase == RC_GC_START) {
        log->gen = info->generation;
        log->start_cpu = thread_cpu_ns();
        log->start = now_ns();
        return;
    }
    uint64_t d = now_ns() - log->start;
    uint64_t dc = thread_cpu_ns() - log->start_cpu;
    int g = log->gen;
    if (log->n[g] == log->cap[g]) { /* malloc, not the heap: not the collector's cost */
        size_t cap = log->cap[g] ? log->cap[g] * 2 : 4096;
        uint64_t *p = realloc(log->ns[g], cap * sizeof *p);
        uint64_t *q = p ? realloc(log->cpu[g], cap * sizeof *q) : NULL;
        if (p == NULL || q == NULL)
            die("out of memory");
        log->ns[g] = p;
        log->cpu[g] = q;
        log->cap[g] = cap;
    }
    log->ns[g][log->n[g]] = d;
    log->cpu[g][log->n[g]++] = dc;
}

/* The allocation loop; returns the containers it allocated. */
static GCB_NOINLINE size_t run_pause_loop(rc_heap *h, void **ring, size_t window, size_t objects)
{
    size_t made = 0;
    for (size_t step = 0; made < objects; step++) {
        size_t j = step % window;
        void *o;
        if ((step & 3) == 0) { /* a 2-cycle: garbage once dropped */
            blist *a = blist_new(h, 1), *b = blist_new(h, 1);
            rc_incref(a);
            blist_push_steal(b, a);
            blist_push_steal(a, b);
            o = a;
            made += 2;
        } else {
            o = blist_new(h, 0);
            made += 1;
        }
        void *old = ring[j];
        ring[j] = o;
        rc_decref(old);
    }
    return made;
}

/* The machine's own noise, as a control for the max pauses: n chunks of
 * pure computation (no memory traffic, no calls) of about target_ns each,
 * timed exactly as the collections are, in thread CPU time.  On a VM,
 * interrupts and the hypervisor add tens of microseconds to a few of any
 * such intervals, so the control's max is a floor under every max pause
 * measured here.  Results in microseconds: median, p99, max. */
static volatile uint64_t noise_sink; /* the chunks' work lands here, so it is not dead */

static void noise_floor(uint64_t target_ns, size_t n, double out_us[3])
{
    uint64_t iters = 1000, t;
    for (;;) { /* calibrate: iterations for target_ns */
        uint64_t t0 = thread_cpu_ns();
        for (uint64_t i = 0; i < iters; i++)
            noise_sink += i * i;
        t = thread_cpu_ns() - t0;
        if (t >= 200000 || iters > ((uint64_t)1 << 40))
            break;
        iters *= 2;
    }
    iters = t ? (uint64_t)((double)iters * (double)target_ns / (double)t) + 1 : 1;
    uint64_t *v = malloc((n ? n : 1) * sizeof *v);
    if (v == NULL)
        die("out of memory");
    for (size_t k = 0; k < n; k++) {
        uint64_t t0 = thread_cpu_ns();
        for (uint64_t i = 0; i < iters; i++)
            noise_sink += i * i;
        v[k] = thread_cpu_ns() - t0;
    }
    out_us[0] = median_u64(v, n) / 1e3; /* sorts v */
    out_us[1] = (double)percentile(v, n, 99) / 1e3;
    out_us[2] = n ? (double)v[n - 1] / 1e3 : 0.0;
    free(v);
}

static int bench_pause(size_t objects, size_t window, size_t long_lived)
{
    rc_heap *h = new_heap(); /* default thresholds, automatic collection on */
    long th[RC_GC_GENERATIONS];
    rc_gc_get_threshold(h, th);
    void *keep = long_lived ? build_tree(h, LIST_CUSTOM, long_lived) : NULL;
    rc_gc_collect(h, 2); /* untimed: the long-lived tree settles in generation 2 */
    void **ring = calloc(window, sizeof *ring);
    pause_log log;
    memset(&log, 0, sizeof log);
    if (ring == NULL || rc_gc_callback_add(h, pause_cb, &log) != 0)
        die("out of memory");

    double cpu0 = cpu_seconds();
    uint64_t t0 = now_ns();
    size_t made = run_pause_loop(h, ring, window, objects);
    uint64_t loop_ns = now_ns() - t0;
    double cpu = cpu_seconds() - cpu0;
    rc_gc_callback_remove(h, pause_cb, &log);

    double noise[3] = {0, 0, 0};
    if (log.n[0]) { /* as many chunks as gen-0 pauses, each as long as their median */
        uint64_t *copy = malloc(log.n[0] * sizeof *copy);
        if (copy == NULL)
            die("out of memory");
        memcpy(copy, log.cpu[0], log.n[0] * sizeof *copy);
        uint64_t med = (uint64_t)median_u64(copy, log.n[0]);
        free(copy);
        noise_floor(med, log.n[0], noise);
    }

    printf("result bench=pause impl=rcgc objects=%zu window=%zu long_lived=%zu"
           " threshold=%ld,%ld,%ld loop_ms=%.1f cpu_ms=%.1f ns_per_alloc=%.2f",
           made, window, long_lived, th[0], th[1], th[2], (double)loop_ns / 1e6, cpu * 1e3,
           (double)loop_ns / (double)made);
    uint64_t total = 0;
    for (int g = 0; g < RC_GC_GENERATIONS; g++) {
        size_t n = log.n[g];
        uint64_t sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += log.ns[g][i];
        total += sum;
        printf(" g%d_n=%zu g%d_total_ms=%.2f", g, n, g, (double)sum / 1e6);
        for (int k = 0; k < 2; k++) { /* wall, then cpu */
            uint64_t *v = k ? log.cpu[g] : log.ns[g];
            double med = median_u64(v, n); /* sorts v */
            printf(" g%d_%smed_us=%.2f g%d_%sp99_us=%.2f g%d_%smax_us=%.2f", g, k ? "cpu_" : "",
                   med / 1e3, g, k ? "cpu_" : "", (double)percentile(v, n, 99) / 1e3, g,
                   k ? "cpu_" : "", n ? (double)v[n - 1] / 1e3 : 0.0);
        }
        free(log.ns[g]);
        free(log.cpu[g]);
    }
    printf(" noise_med_us=%.2f noise_p99_us=%.2f noise_max_us=%.2f", noise[0], noise[1], noise[2]);
    printf(" gc_share=%.3f peak_rss_kib=%ld\n", (double)total / (double)loop_ns, peak_rss_kib());

    for (size_t j = 0; j < window; j++)
        rc_decref(ring[j]);
    free(ring);
    rc_decref(keep);
    rc_heap_destroy(h);
    return 0;
}

/* ---- GCBench ------------------------------------------------------------------ */


/* rcgc: new nodes are owned by their parent; dropping a root frees the tree. */
static gnode *rnode(rc_heap *h, gnode *l, gnode *r)
{
    gnode *n = rc_new(h, &gnode_type, 0);
    if (n == NULL)
        die("rc_new failed");
    n->left = l; /* steals */
    n->right = r;
    return n;
}

static void r_populate(rc_heap *h, int depth, gnode *node)
{
    if (depth <= 0)
        return;
    depth--;
    node->left = rnode(h, NULL, NULL);
    node->right = rnode(h, NULL, NULL);
    r_populate(h, depth, node->left);
    r_populate(h, depth, node->right);
}

static gnode *r_make_tree(rc_heap *h, int depth)
{
    if (depth <= 0)
        return rnode(h, NULL, NULL);
    gnode *l = r_make_tree(h, depth - 1);
    return rnode(h, l, r_make_tree(h, depth - 1));
}

/* The data GCBench keeps alive to its end: released after the clock stops,
 * as in gcbench_boehm.c, where it is never freed at all. */
typedef struct gcb_kept {
    void *long_lived, *array;
} gcb_kept;

static GCB_NOINLINE int run_gcbench_rcgc(const gcb_params *p, rc_heap *h, gcb_kept *kept)
{
    rc_decref(r_make_tree(h, p->stretch)); /* stretch the heap */

    gnode *long_lived = rnode(h, NULL, NULL);
    r_populate(h, p->long_lived, long_lived);
    double *array = rc_new(h, &doubles_type, p->array * sizeof(double));
    if (array == NULL)
        die("rc_new failed");
    for (size_t i = 0; i < p->array / 2; i++)
        array[i] = 1.0 / (double)i;

    for (int d = p->min_depth; d <= p->max_depth; d += 2) {
        long iters = num_iters(p, d);
        for (long i = 0; i < iters; i++) { /* top down */
            gnode *t = rnode(h, NULL, NULL);
            r_populate(h, d, t);
            rc_decref(t);
        }
        for (long i = 0; i < iters; i++) /* bottom up */
            rc_decref(r_make_tree(h, d));
    }
    int ok = long_lived != NULL && (p->array / 2 <= 1000 || array[1000] == 1.0 / 1000);
    kept->long_lived = long_lived;
    kept->array = array;
    return ok;
}

/* plain malloc/free */
static gnode *mnode(gnode *l, gnode *r)
{
    gnode *n = malloc(sizeof *n);
    if (n == NULL)
        die("malloc failed");
    n->left = l;
    n->right = r;
    n->i = n->j = 0;
    return n;
}

static void m_free_tree(gnode *n)
{
    if (n == NULL)
        return;
    m_free_tree(n->left);
    m_free_tree(n->right);
    free(n);
}

static void m_populate(int depth, gnode *node)
{
    if (depth <= 0)
        return;
    depth--;
    node->left = mnode(NULL, NULL);
    node->right = mnode(NULL, NULL);
    m_populate(depth, node->left);
    m_populate(depth, node->right);
}

static gnode *m_make_tree(int depth)
{
    if (depth <= 0)
        return mnode(NULL, NULL);
    gnode *l = m_make_tree(depth - 1);
    return mnode(l, m_make_tree(depth - 1));
}

static GCB_NOINLINE int run_gcbench_malloc(const gcb_params *p, gcb_kept *kept)
{
    m_free_tree(m_make_tree(p->stretch));

    gnode *long_lived = mnode(NULL, NULL);
    m_populate(p->long_lived, long_lived);
    double *array = malloc(p->array * sizeof(double) + 1);
    if (array == NULL)
        die("malloc failed");
    for (size_t i = 0; i < p->array / 2; i++)
        array[i] = 1.0 / (double)i;

    for (int d = p->min_depth; d <= p->max_depth; d += 2) {
        long iters = num_iters(p, d);
        for (long i = 0; i < iters; i++) {
            gnode *t = mnode(NULL, NULL);
            m_populate(d, t);
            m_free_tree(t);
        }
        for (long i = 0; i < iters; i++)
            m_free_tree(m_make_tree(d));
    }
    int ok = long_lived != NULL && (p->array / 2 <= 1000 || array[1000] == 1.0 / 1000);
    kept->long_lived = long_lived;
    kept->array = array;
    return ok;
}

/* Time spent in collections, per generation (rcgc variant). */
typedef struct gc_clock {
    uint64_t start;
    int gen;
    uint64_t ns[RC_GC_GENERATIONS];
} gc_clock;

static void gc_clock_cb(rc_heap *h, rc_gc_phase phase, const rc_gc_info *info, void *arg)
{
    (void)h;
    gc_clock *c = arg;
    if (phase == RC_GC_START) {
        c->gen = info->generation;
        c->start = now_ns();
    } else {
        c->ns[c->gen] += now_ns() - c->start;
    }
}

static int bench_gcbench(const char *impl, const gcb_params *p)
{
    int nogc = strcmp(impl, "rcgc-nogc") == 0;
    int rcgc = nogc || strcmp(impl, "rcgc") == 0;
    if (!rcgc && strcmp(impl, "malloc") != 0) {
        fprintf(stderr, "gc_bench: gcbench wants rcgc, rcgc-nogc or malloc, got '%s'\n", impl);
        return 2;
    }
    long nodes = tree_size(p->stretch) + tree_size(p->long_lived);
    for (int d = p->min_depth; d <= p->max_depth; d += 2)
        nodes += 2 * num_iters(p, d) * tree_size(d);

    rc_heap *h = rcgc ? new_heap() : NULL;
    gc_clock clk;
    memset(&clk, 0, sizeof clk);
    if (rcgc && rc_gc_callback_add(h, gc_clock_cb, &clk) != 0)
        die("out of memory");
    if (nogc)
        rc_gc_disable(h);
    double cpu0 = cpu_seconds();
    uint64_t t0 = now_ns();
    gcb_kept kept = {NULL, NULL};
    int ok = rcgc ? run_gcbench_rcgc(p, h, &kept) : run_gcbench_malloc(p, &kept);
    uint64_t ns = now_ns() - t0;
    double cpu = cpu_seconds() - cpu0;
    long rss = peak_rss_kib();
    if (rcgc) { /* the long-lived data, untimed (see gcb_kept) */
        rc_decref(kept.long_lived);
        rc_decref(kept.array);
    } else {
        m_free_tree(kept.long_lived);
        free(kept.array);
    }
    if (!ok) {
        fprintf(stderr, "gc_bench: gcbench %s: the long-lived data was damaged\n", impl);
        return 1;
    }
    printf("result bench=gcbench impl=%s stretch=%d long_lived=%d min_depth=%d max_depth=%d"
           " array=%zu nodes=%ld ms=%.1f cpu_ms=%.1f peak_rss_kib=%ld",
           impl, p->stretch, p->long_lived, p->min_depth, p->max_depth, p->array, nodes,
           (double)ns / 1e6, cpu * 1e3, rss);
    if (rcgc) {
        rc_gc_gen_stats st[RC_GC_GENERATIONS];
        rc_gc_get_stats(h, st);
        printf(" collections=%zu,%zu,%zu gc_ms=%.1f,%.1f,%.1f", st[0].collections,
               st[1].collections, st[2].collections, (double)clk.ns[0] / 1e6,
               (double)clk.ns[1] / 1e6, (double)clk.ns[2] / 1e6);
        rc_heap_destroy(h);
    }
    printf("\n");
    return 0;
}

/* ---- records -------------------------------------------------------------------- */

#if GCB_HAVE_TYPES
/* The heap an interpreter has: n instances of one class, each with three
 * attributes (an int, a str, a tuple of two ints), held by one list; no
 * garbage.  Time per record of a full collection.  Dicts and tuples of
 * atomic values are untracked here as in CPython (gc_bench.py records), so
 * both examine about one object per record.  Not a target of the issue: a
 * check that the built-in types cost the collector what CPython's do. */
static void set_attr_steal(void *o, const char *name, void *v)
{
    if (v == NULL || rc_instance_setattr(o, name, v) != RC_OK)
        die("rc_instance_setattr failed");
    rc_decref(v);
}

static int bench_records(size_t n, int reps)
{
    rc_heap *h = new_heap();
    rc_gc_disable(h);
    void *cls = rc_class_new(h, "Record", NULL);
    void *all = rc_list_new(h, n);
    if (cls == NULL || all == NULL)
        die("records: out of memory");
    for (size_t i = 0; i < n; i++) {
        void *r = rc_instance_new(h, cls);
        if (r == NULL)
            die("records: out of memory");
        set_attr_steal(r, "id", rc_int_new(h, (int64_t)i * 1000));
        set_attr_steal(r, "name", rc_str_from_cstr(h, "name"));
        void *x = rc_int_new(h, (int64_t)i), *y = rc_int_new(h, (int64_t)i + 1);
        set_attr_steal(r, "pt", rc_tuple_pack(h, 2, x, y));
        rc_decref(x);
        rc_decref(y);
        if (rc_list_append_steal(all, r) != RC_OK)
            die("records: rc_list_append_steal failed");
    }
    report_full_collections(h, reps, "bench=records impl=rcgc", n, n);
    rc_decref(all);
    rc_decref(cls);
    rc_heap_destroy(h);
    return 0;
}
#endif

/* ---- main ---------------------------------------------------------------------- */

static _Noreturn void usage(void)
{
    fprintf(stderr,
            "usage: gc_bench traversal [--n N] [--reps R] [--types custom|builtin]\n"
            "       gc_bench collect [--n N] [--types custom|builtin]\n"
            "       gc_bench records [--n N] [--reps R]   (with the built-in types)\n"
            "       gc_bench pause [--objects M] [--window W] [--long-lived L]\n"
            "       gc_bench gcbench rcgc|rcgc-nogc|malloc [--stretch-depth S]\n"
            "                [--long-lived-depth L] [--min-depth A] [--max-depth B] [--array N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    const char *bench = argv[1];
    int first_opt = 2;
    const char *impl = NULL;
    if (strcmp(bench, "gcbench") == 0) {
        if (argc < 3)
            usage();
        impl = argv[2];
        first_opt = 3;
    }
    size_t n = 0, reps = 3, objects = 10000000, window = 10000, long_lived = 100000;
    enum list_impl types = LIST_CUSTOM;
    gcb_params gp = GCB_DEFAULT_PARAMS;
    for (int i = first_opt; i < argc; i += 2) {
        if (i + 1 >= argc)
            usage();
        const char *o = argv[i], *v = argv[i + 1];
        if (strcmp(o, "--n") == 0)
            n = parse_num(o, v);
        else if (strcmp(o, "--reps") == 0)
            reps = parse_num(o, v);
        else if (strcmp(o, "--objects") == 0)
            objects = parse_num(o, v);
        else if (strcmp(o, "--window") == 0)
            window = parse_num(o, v);
        else if (strcmp(o, "--long-lived") == 0)
            long_lived = parse_num(o, v);
        else if (strcmp(o, "--stretch-depth") == 0)
            gp.stretch = (int)parse_num(o, v);
        else if (strcmp(o, "--long-lived-depth") == 0)
            gp.long_lived = (int)parse_num(o, v);
        else if (strcmp(o, "--min-depth") == 0)
            gp.min_depth = (int)parse_num(o, v);
        else if (strcmp(o, "--max-depth") == 0)
            gp.max_depth = (int)parse_num(o, v);
        else if (strcmp(o, "--array") == 0)
            gp.array = parse_num(o, v);
        else if (strcmp(o, "--types") == 0) {
            if (strcmp(v, "custom") == 0)
                types = LIST_CUSTOM;
            else if (strcmp(v, "builtin") == 0 && GCB_HAVE_TYPES)
                types = LIST_BUILTIN;
            else {
                fprintf(stderr, "gc_bench: --types custom%s\n", GCB_HAVE_TYPES ? "|builtin" : "");
                return 2;
            }
        } else
            usage();
    }
    if (n == 0)
        n = 100000;
    if (reps < 1 || reps > 1000 || window < 1 || gp.stretch > 30 || gp.long_lived > 30 ||
        gp.max_depth > 30 || gp.min_depth < 0)
        usage();

    if (strcmp(bench, "traversal") == 0)
        return bench_traversal(n, (int)reps, types);
    if (strcmp(bench, "collect") == 0)
        return bench_collect(n, types);
#if GCB_HAVE_TYPES
    if (strcmp(bench, "records") == 0)
        return bench_records(n, (int)reps);
#endif
    if (strcmp(bench, "pause") == 0)
        return bench_pause(objects, window, long_lived);
    if (strcmp(bench, "gcbench") == 0)
        return bench_gcbench(impl, &gp);
    usage();
}
