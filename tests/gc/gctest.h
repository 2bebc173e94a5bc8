/*
 * tests/gc/gctest.h — helpers shared by the cycle-collector tests: small
 * container types of our own (so the collector is tested independently of
 * the built-in types), heaps, a reader for the debug output, a thread with a
 * small stack, and size scaling for the sanitizer and valgrind runs.
 *
 * The types, all with the same struct (tnode):
 *
 *   tnode_type    RC_TYPE_GC container with three reference slots and clear;
 *                 no finalizer
 *   tfin_type     the same plus a finalizer: counts its calls (per object
 *                 and in total) and runs the object's on_finalize hook
 *   tnoclear_type RC_TYPE_GC container without clear: a cycle made only of
 *                 these is uncollectable and goes to the garbage list
 *   tleaf_type    not a container (no GC head, never tracked); it may hold
 *                 references (dropped when it dies) and has a finalizer
 *
 * Every test goes through the public API only.
 */
#ifndef RCGC_TESTS_GCTEST_H
#define RCGC_TESTS_GCTEST_H

#include "../check.h"
#include "../testutil.h"

#include <rcgc/gc.h>
#include <rcgc/heap.h>
#include <rcgc/object.h>
#include <rcgc/weakref.h>

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- Sizes -------------------------------------------------------------------- */

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define GCTEST_ON_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef GCTEST_ON_VALGRIND
#define GCTEST_ON_VALGRIND() 0
#endif

/* n normally, n/4 under ASan, n/100 under valgrind, unless the environment
 * variable RCGC_TEST_FULL_SIZE is set (full size passes under ASan too, in
 * 5-10 s for the million-object cases). */
static inline size_t gct_scale(size_t n) {
    const char *full = getenv("RCGC_TEST_FULL_SIZE");
    if (full && *full && *full != '0')
        return n;
    if (GCTEST_ON_VALGRIND())
        return n / 100 ? n / 100 : 1;
    if (TEST_ASAN)
        return n / 4 ? n / 4 : 1;
    return n;
}

/* ---- The test types ------------------------------------------------------------ */

#define TN_SLOTS 3

typedef struct tnode {
    void *ref[TN_SLOTS];               /* owned references (or NULL) */
    long id;                           /* the test's label */
    int fin_calls;                     /* times this object's finalizer ran */
    int clear_calls;                   /* times this object's clear ran */
    void (*on_finalize)(struct tnode *self); /* run by the finalizer (tfin, tleaf) */
    void (*on_clear)(struct tnode *self);    /* run by clear before the slots drop */
    void *user;                        /* borrowed, for the hooks */
} tnode;

static long gct_fin_total;   /* finalizer calls, all objects */
static long gct_clear_total; /* clear calls, all objects */

/* References stored by resurrecting finalizers and other hooks; a test
 * drops them when it is done with the objects (gct_drop_saved). */
static void *gct_saved[64];
static size_t gct_nsaved;

static inline void gct_save_ref(void *o) {
    rc_incref(o);
    gct_saved[gct_nsaved++] = o;
}

static inline void gct_drop_saved(void) {
    while (gct_nsaved)
        rc_decref(gct_saved[--gct_nsaved]);
}

static inline void gct_reset_counters(void) {
    gct_fin_total = 0;
    gct_clear_total = 0;
}

static void tn_traverse(void *o, rc_visit_fn visit, void *arg) {
    tnode *n = o;
    for (int i = 0; i < TN_SLOTS; i++)
        if (n->ref[i])
            visit(n->ref[i], arg);
}

/* Drop the slots in order 0, 1, 2, each set to NULL before its reference
 * goes (so the object is consistent whatever the drop runs). */
static void tn_clear(void *o) {
    tnode *n = o;
    n->clear_calls++;
    gct_clear_total++;
    if (n->on_clear)
        n->on_clear(n);
    for (int i = 0; i < TN_SLOTS; i++) {
        void *r = n->ref[i];
        n->ref[i] = NULL;
        rc_decref(r);
    }
}

static void tn_finalize(void *o) {
    tnode *n = o;
    n->fin_calls++;
    gct_fin_total++;
    if (n->on_finalize)
        n->on_finalize(n);
}

/* destroy: as clear, without counting */
static void tn_destroy(void *o) {
    tnode *n = o;
    for (int i = 0; i < TN_SLOTS; i++) {
        void *r = n->ref[i];
        n->ref[i] = NULL;
        rc_decref(r);
    }
}

static const rc_type tnode_type = {
    .name = "tnode",
    .size = sizeof(tnode),
    .flags = RC_TYPE_GC,
    .traverse = tn_traverse,
    .clear = tn_clear,
    .destroy = tn_destroy,
};

static const rc_type tfin_type = {
    .name = "tfin",
    .size = sizeof(tnode),
    .flags = RC_TYPE_GC,
    .traverse = tn_traverse,
    .clear = tn_clear,
    .finalize = tn_finalize,
    .destroy = tn_destroy,
};

static const rc_type tnoclear_type = {
    .name = "tnoclear",
    .size = sizeof(tnode),
    .flags = RC_TYPE_GC,
    .traverse = tn_traverse,
    .destroy = tn_destroy,
};

static const rc_type tleaf_type = {
    .name = "tleaf",
    .size = sizeof(tnode),
    .traverse = tn_traverse,
    .finalize = tn_finalize,
    .destroy = tn_destroy,
};

/* tnode's layout and behaviour, with refs as well: the collector reads its
 * references as an array (its other loop). */
static rc_refs rn_refs(const void *o) {
    const tnode *n = o;
    return (rc_refs){n->ref, TN_SLOTS};
}

static const rc_type rnode_type = {
    .name = "rnode",
    .size = sizeof(tnode),
    .flags = RC_TYPE_GC,
    .traverse = tn_traverse,
    .refs = rn_refs,
    .clear = tn_clear,
    .destroy = tn_destroy,
};

/* Both loops of the collector: a test over node types runs on these. */
static const rc_type *const tn_both_types[] = {&tnode_type, &rnode_type};

/* fn_both(): fn(t) for t in tn_both_types (a test function taking a type,
 * made into one RUN_TEST can run). */
#define TN_FOR_BOTH_TYPES(fn)                                                   \
    static void fn##_both(void) {                                              \
        for (size_t k = 0; k < sizeof tn_both_types / sizeof *tn_both_types; k++) \
            fn(tn_both_types[k]);                                              \
    }

/* A new object of type t labelled id (aborts the test program on failure:
 * the tests that inject failures call rc_new themselves). */
static inline tnode *tn_new(rc_heap *h, const rc_type *t, long id) {
    tnode *n = rc_new(h, t, 0);
    if (!n) {
        fprintf(stderr, "rc_new(%s) failed\n", t->name);
        exit(2);
    }
    n->id = id;
    return n;
}

/* a->ref[i] = b (taking a reference to b, dropping the old one). */
static inline void tn_set(tnode *a, int i, void *b) { rc_setref(&a->ref[i], b); }

/* A cycle of n objects of type t: obj[k]->ref[0] = obj[k+1], the last one
 * back to the first.  Returns the first (a new reference); the others are
 * held only by the cycle.  out (optional) receives borrowed pointers. */
static inline tnode *tn_ring(rc_heap *h, const rc_type *t, size_t n, long id0, tnode **out) {
    tnode *first = tn_new(h, t, id0), *prev = first;
    if (out)
        out[0] = first;
    for (size_t k = 1; k < n; k++) {
        tnode *x = tn_new(h, t, id0 + (long)k);
        prev->ref[0] = x; /* steals the new reference */
        if (out)
            out[k] = x;
        prev = x;
    }
    tn_set(prev, 0, first);
    return first;
}

/* A complete binary tree of type t, depth d (2^(d+1) - 1 nodes), ids from
 * *id; bottom-up makes both children before their parent (every child
 * older), top-down the parent first.  Returns a new reference. */
static inline tnode *tn_tree(rc_heap *h, const rc_type *t, int d, bool bottom_up, long *id) {
    tnode *n = NULL, *l = NULL, *r = NULL;
    if (!bottom_up)
        n = tn_new(h, t, (*id)++);
    if (d > 0) {
        l = tn_tree(h, t, d - 1, bottom_up, id);
        r = tn_tree(h, t, d - 1, bottom_up, id);
    }
    if (bottom_up)
        n = tn_new(h, t, (*id)++);
    n->ref[0] = l; /* steal */
    n->ref[1] = r;
    return n;
}

/* Nodes of the tree under n, checking none was cleared. */
static inline size_t tn_tree_count(const tnode *n) {
    if (!n)
        return 0;
    CHECK_EQ(n->clear_calls, 0);
    return 1 + tn_tree_count(n->ref[0]) + tn_tree_count(n->ref[1]);
}

/* Make a self-loop of type t and drop it: garbage for the collector. */
static inline void *tn_garbage_self(rc_heap *h, const rc_type *t, long id) {
    tnode *n = tn_new(h, t, id);
    tn_set(n, 0, n);
    rc_decref(n);
    return n; /* borrowed and dangling once collected: compare only */
}

/* ---- Heaps ------------------------------------------------------------------------ */

static unsigned long gct_heap_errors;

static void gct_count_error(const rc_error_report *r, void *ctx) {
    (void)ctx;
    gct_heap_errors++;
    fprintf(stderr, "heap error: %s\n", r->message ? r->message : "(no message)");
}

/* A heap in `mode` whose allocator errors are counted (gct_heap_errors),
 * not fatal. */
static inline rc_heap *gct_heap_mode(rc_alloc_mode mode) {
    rc_heap_config cfg;
    rc_heap_config_init(&cfg);
    cfg.mode = mode;
    cfg.on_error = gct_count_error;
    rc_heap *h = rc_heap_new(&cfg);
    if (!h) {
        fprintf(stderr, "cannot create a heap\n");
        exit(2);
    }
    return h;
}

/* The default heap of the tests (mode from RCGC_MALLOC, else pool). */
static inline rc_heap *gct_heap(void) { return gct_heap_mode(RC_MODE_DEFAULT); }

/* Empty the garbage list after breaking the cycles of the test types in
 * it (their slots are emptied; other objects are just released). */
static inline void gct_release_garbage(rc_heap *h) {
    for (size_t i = 0; i < rc_gc_garbage_count(h); i++) {
        void *o = rc_gc_garbage_get(h, i);
        const rc_type *t = rc_type_of(o);
        if (t == &tnode_type || t == &rnode_type || t == &tfin_type || t == &tnoclear_type)
            tn_destroy(o);
    }
    rc_gc_garbage_clear(h);
}

/* Destroy h after checking that nothing leaked and no error was reported. */
#define GCT_END_HEAP(h)                                   \
    do {                                                  \
        gct_release_garbage(h);                           \
        rc_gc_collect(h, 2);                              \
        CHECK_EQ(rc_live_objects(h), 0);                  \
        CHECK_EQ(gct_heap_errors, 0);                     \
        rc_heap_destroy(h);                               \
    } while (0)

/* ---- Small queries ------------------------------------------------------------------ */

static inline long gct_count(rc_heap *h, int i) {
    long c[RC_GC_GENERATIONS];
    rc_gc_get_count(h, c);
    return c[i];
}

static inline size_t gct_collections(rc_heap *h, int gen) {
    rc_gc_gen_stats s[RC_GC_GENERATIONS];
    rc_gc_get_stats(h, s);
    return s[gen].collections;
}

typedef struct gct_find {
    const void *want;
    int found;
    size_t seen;
} gct_find;

static void gct_find_fn(void *o, void *arg) {
    gct_find *f = arg;
    f->seen++;
    if (o == f->want)
        f->found++;
}

/* How many times rc_gc_get_objects(h, gen) lists o. */
static inline int gct_in_generation(rc_heap *h, int gen, const void *o) {
    gct_find f = {o, 0, 0};
    rc_gc_get_objects(h, gen, gct_find_fn, &f);
    return f.found;
}

/* Is o in the garbage list? */
static inline int gct_in_garbage(rc_heap *h, const void *o) {
    for (size_t i = 0; i < rc_gc_garbage_count(h); i++)
        if (rc_gc_garbage_get(h, i) == o)
            return 1;
    return 0;
}

/* ---- Debug output ------------------------------------------------------------------- */

/* Everything written to f (rewound and read; f stays open), in a static
 * buffer. */
static inline const char *gct_read_file(FILE *f) {
    static char buf[1 << 16];
    fflush(f);
    long end = ftell(f);
    rewind(f);
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    buf[got] = '\0';
    if (end >= 0)
        fseek(f, end, SEEK_SET);
    return buf;
}

/* rc_gc_collect(h, gen) with the debug flags RC_GC_DEBUG_STATS | flags,
 * their output going to a temporary file; *found its result.  Returns the
 * output (gct_read_file's buffer: good until its next call). */
static inline const char *gct_collect_debug(rc_heap *h, int gen, unsigned flags,
                                            intptr_t *found) {
    FILE *f = tmpfile();
    if (!f) {
        fprintf(stderr, "tmpfile failed\n");
        exit(2);
    }
    rc_gc_set_debug(h, RC_GC_DEBUG_STATS | flags, f);
    *found = rc_gc_collect(h, gen);
    rc_gc_set_debug(h, 0, NULL);
    const char *out = gct_read_file(f);
    fclose(f);
    return out;
}

/* Number of lines of text that contain needle. */
static inline int gct_count_lines(const char *text, const char *needle) {
    int n = 0;
    size_t len = strlen(needle);
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += len)
        n++;
    return n;
}

/* ---- Threads with a small stack --------------------------------------------------------- */

#define GCT_SMALL_STACK ((size_t)256 * 1024)

/* Run fn(arg) on a thread with `stack` bytes of stack; 0 on success. */
static inline int gct_run_on_stack(void *(*fn)(void *), void *arg, size_t stack) {
    pthread_attr_t attr;
    pthread_t t;
    if (pthread_attr_init(&attr) != 0)
        return -1;
    if (pthread_attr_setstacksize(&attr, stack) != 0) {
        pthread_attr_destroy(&attr);
        return -1;
    }
    int rc = pthread_create(&t, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        return -1;
    return pthread_join(t, NULL) == 0 ? 0 : -1;
}

/* Run fn in a child process, for scenarios that may corrupt memory when the
 * library misbehaves.  Returns fn's result (0: as expected), or 128 + the
 * signal that killed the child, or -1 if fork failed. */
static inline int gct_in_child(int (*fn)(void)) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        _exit(fn() & 0x7f);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static inline double gct_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
