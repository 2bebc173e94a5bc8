/*
 * test_gc_failure.c — allocation failure around the collector, on
 * debug-mode heaps (guard bytes, double-free detection; rc_heap_fail_at
 * injects the failures).  A collection itself allocates only to grow the
 * garbage list: when that fails, the objects concerned must stay alive and
 * tracked (never lost, never freed twice), and a later collection with
 * memory available must find them again.  User code run by a collection
 * (finalizers, callbacks) may see its own allocations fail; the collection
 * must still complete and leave a consistent heap.
 */
#include "gctest.h"

static rc_heap *debug_heap(void) { return gct_heap_mode(RC_MODE_DEBUG); }

/* Every object of the test types in h (tracked ones), checked: in the
 * garbage list or tracked in generation 2. */
typedef struct where {
    rc_heap *h;
    size_t tracked_gen2;
} where;

static void count_gen2(void *o, void *arg) {
    (void)o;
    ((where *)arg)->tracked_gen2++;
}

/* 20 uncollectable self-loops; the garbage list's growth fails at the
 * fail_at-th allocation of the collection. */
static void uncollectable_selfloops(uint64_t fail_at) {
    rc_heap *h = debug_heap();
    rc_gc_disable(h);
    enum { N = 20 };
    tnode *n[N];
    for (int i = 0; i < N; i++) {
        n[i] = tn_new(h, &tnoclear_type, i);
        tn_set(n[i], 0, n[i]);
        rc_decref(n[i]);
    }
    rc_heap_fail_at(h, fail_at);
    intptr_t found = rc_gc_collect(h, 2);
    rc_heap_fail_at(h, 0);
    CHECK_EQ(found, N);
    /* nothing lost, nothing freed */
    CHECK_EQ(rc_live_objects(h), N);
    where w = {h, 0};
    rc_gc_get_objects(h, 2, count_gen2, &w);
    CHECK_EQ(w.tracked_gen2, N);
    size_t listed = rc_gc_garbage_count(h);
    CHECK_MSG(listed < N, "fail_at %llu: the failure did not hit the garbage list",
              (unsigned long long)fail_at);
    size_t missing = 0;
    for (int i = 0; i < N; i++) {
        CHECK(rc_gc_is_tracked(n[i]));
        CHECK_PTR_EQ(n[i]->ref[0], n[i]);
        if (!gct_in_garbage(h, n[i])) {
            missing++;
            CHECK_EQ(rc_refcount(n[i]), 1);
        } else {
            CHECK_EQ(rc_refcount(n[i]), 2);
        }
    }
    CHECK_EQ(listed + missing, N);
    /* with memory: the missing ones are found again (the listed ones are
     * held by the list, so they are not) */
    CHECK_EQ(rc_gc_collect(h, 2), missing);
    CHECK_EQ(rc_gc_garbage_count(h), N);
    for (int i = 0; i < N; i++)
        CHECK_EQ(gct_in_garbage(h, n[i]), 1);
    GCT_END_HEAP(h);
}

static void test_garbage_list_growth_fails(void) {
    /* 1: the list's first block; 2: its growth from 16 to 32 entries */
    for (uint64_t k = 1; k <= 2; k++)
        uncollectable_selfloops(k);
}

/* An uncollectable group of two whose first member cannot be listed: the
 * group stays whole; once the list is emptied, the next collection finds
 * the whole group again. */
static void test_partial_group_listed(void) {
    rc_heap *h = debug_heap();
    rc_gc_disable(h);
    tnode *a = tn_new(h, &tnoclear_type, 1), *b = tn_new(h, &tnoclear_type, 2);
    tn_set(a, 0, b);
    tn_set(b, 0, a);
    rc_decref(a);
    rc_decref(b);
    rc_heap_fail_at(h, 1);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    rc_heap_fail_at(h, 0);
    CHECK_EQ(rc_live_objects(h), 2);
    CHECK(rc_gc_is_tracked(a));
    CHECK(rc_gc_is_tracked(b));
    CHECK_PTR_EQ(a->ref[0], b);
    CHECK_PTR_EQ(b->ref[0], a);
    CHECK_LT(rc_gc_garbage_count(h), 2);
    rc_gc_garbage_clear(h);
    CHECK_EQ(rc_live_objects(h), 2);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(rc_gc_garbage_count(h), 2);
    GCT_END_HEAP(h);
}

/* SAVEALL: an object the list cannot take survives, tracked, and is saved
 * by a later collection. */
static void test_saveall_append_fails(void) {
    rc_heap *h = debug_heap();
    rc_gc_disable(h);
    rc_gc_set_debug(h, RC_GC_DEBUG_SAVEALL, NULL);
    enum { N = 20 };
    tnode *n[N];
    for (int i = 0; i < N; i++) {
        n[i] = tn_new(h, &tnode_type, i);
        tn_set(n[i], 0, n[i]);
        rc_decref(n[i]);
    }
    rc_heap_fail_at(h, 2);
    CHECK_EQ(rc_gc_collect(h, 2), N);
    rc_heap_fail_at(h, 0);
    CHECK_EQ(rc_live_objects(h), N);
    size_t listed = rc_gc_garbage_count(h);
    CHECK_LT(listed, N);
    for (int i = 0; i < N; i++) {
        CHECK(rc_gc_is_tracked(n[i]));
        CHECK_EQ(n[i]->clear_calls, 0);
    }
    CHECK_EQ(rc_gc_collect(h, 2), N - listed);
    CHECK_EQ(rc_gc_garbage_count(h), N);
    rc_gc_set_debug(h, 0, NULL);
    rc_gc_garbage_clear(h);
    CHECK_EQ(rc_gc_collect(h, 2), N);
    GCT_END_HEAP(h);
}

/* rc_gc_callback_add reports a failure and leaves the table as it was. */
static int g_cb_calls;
static void cb(rc_heap *h, rc_gc_phase phase, const rc_gc_info *info, void *arg) {
    (void)h;
    (void)phase;
    (void)info;
    (void)arg;
    g_cb_calls++;
}

static void test_callback_add_fails(void) {
    rc_heap *h = debug_heap();
    CHECK_EQ(rc_gc_set_threshold(h, 700, 10, 10), 0); /* the collector's state exists */
    int args[8];
    int added = 0;
    for (int i = 0; i < 8; i++) {
        rc_heap_fail_at(h, 1);
        int r = rc_gc_callback_add(h, cb, &args[i]);
        rc_heap_fail_at(h, 0);
        if (r == 0) {
            added++;
        } else {
            CHECK_EQ(r, -1);
            /* with memory it works */
            if (CHECK_EQ(rc_gc_callback_add(h, cb, &args[i]), 0))
                added++;
        }
    }
    CHECK_EQ(added, 8);
    g_cb_calls = 0;
    rc_gc_collect(h, 0);
    CHECK_EQ(g_cb_calls, 16);
    for (int i = 0; i < 8; i++)
        CHECK_EQ(rc_gc_callback_remove(h, cb, &args[i]), 0);
    GCT_END_HEAP(h);
}

/* ---- A sweep: the n-th allocation fails, for every n ------------------------------------------ */

/* Hooks that allocate and tolerate failure. */
static void fin_allocates(tnode *self) {
    rc_heap *h = rc_heap_of(self);
    tnode *x = rc_new(h, &tnode_type, 0);
    if (x) {
        tn_set(x, 0, x); /* new garbage */
        rc_decref(x);
    }
    void *w = rc_weakref_new(self, NULL, NULL);
    rc_decref(w);
}

static int g_wr_calls;
static void wr_callback_allocates(void *w, void *arg) {
    (void)w;
    g_wr_calls++;
    tnode *x = rc_new(arg, &tnode_type, 0);
    rc_decref(x);
}

static void gc_cb_allocates(rc_heap *h, rc_gc_phase phase, const rc_gc_info *info, void *arg) {
    (void)phase;
    (void)info;
    (void)arg;
    tnode *x = rc_new(h, &tfin_type, 0);
    rc_decref(x);
}

typedef struct scenario {
    void *weakrefs[8];
    int nweak;
} scenario;

/* Build (with memory): cycles with finalizers, weakrefs with callbacks,
 * uncollectable pairs, a resurrecting finalizer, deep-ish chains. */
static tnode *g_resurrected;
static void resurrect(tnode *self) {
    if (!g_resurrected) {
        rc_incref(self);
        g_resurrected = self;
    }
}

static void build(rc_heap *h, scenario *s) {
    s->nweak = 0;
    for (int k = 0; k < 3; k++) {
        tnode *r[5];
        tnode *first = tn_ring(h, &tfin_type, 5, k * 10, r);
        for (int i = 0; i < 5; i++)
            r[i]->on_finalize = fin_allocates;
        s->weakrefs[s->nweak++] = rc_weakref_new(r[k], wr_callback_allocates, h);
        rc_decref(first);
    }
    tnode *a = tn_new(h, &tnoclear_type, 100), *b = tn_new(h, &tnoclear_type, 101);
    tn_set(a, 0, b);
    tn_set(b, 0, a);
    tn_garbage_self(h, &tnode_type, 102);
    rc_decref(a);
    rc_decref(b);
    tnode *l = tn_new(h, &tfin_type, 200);
    tn_set(l, 0, l);
    l->on_finalize = resurrect;
    s->weakrefs[s->nweak++] = rc_weakref_new(l, wr_callback_allocates, h);
    rc_decref(l);
    /* a chain of 300 hanging off a cycle */
    tnode *head = tn_new(h, &tnode_type, 300);
    tn_set(head, 0, head);
    tnode *cur = head;
    for (int i = 0; i < 300; i++) {
        tnode *x = tn_new(h, &tfin_type, 301 + i);
        cur->ref[1] = x; /* steal */
        cur = x;
    }
    rc_decref(head);
}

static void test_failure_sweep(void) {
    size_t max_n = GCTEST_ON_VALGRIND() ? 40 : 400;
    size_t completed_without_failure = 0, failed_runs = 0, n;
    for (n = 1; n <= max_n; n++) {
        rc_heap *h = debug_heap();
        rc_gc_disable(h);
        rc_gc_callback_add(h, gc_cb_allocates, NULL);
        g_resurrected = NULL;
        g_wr_calls = 0;
        scenario s;
        build(h, &s);
        rc_heap_fail_at(h, n);
        intptr_t found = rc_gc_collect(h, 2);
        rc_heap_stats st;
        rc_heap_get_stats(h, &st);
        rc_heap_fail_at(h, 0);
        CHECK_GE(found, 0);
        if (st.failed_allocs == 0)
            completed_without_failure++;
        else
            failed_runs++;
        /* clean up with memory available: everything must go */
        rc_gc_callback_remove(h, gc_cb_allocates, NULL);
        rc_decref(g_resurrected);
        g_resurrected = NULL;
        for (int i = 0; i < s.nweak; i++) {
            void *t = rc_weakref_get(s.weakrefs[i]);
            rc_decref(t);
            rc_decref(s.weakrefs[i]);
        }
        gct_release_garbage(h);
        rc_gc_collect(h, 2);
        gct_release_garbage(h);
        rc_gc_collect(h, 2);
        CHECK_MSG(rc_live_objects(h) == 0, "fail_at %zu: %zu objects left", n,
                  rc_live_objects(h));
        CHECK_EQ(gct_heap_errors, 0);
        rc_heap_destroy(h);
        if (completed_without_failure > 3)
            break; /* n is past the collection's last allocation */
    }
    printf("    %zu collections with an allocation failure in them\n", failed_runs);
    CHECK_GT(failed_runs, 20);
    CHECK_GT(completed_without_failure, 0);
}

/* The collector's state and the first container: failures at each step of
 * a fresh heap's first rc_new of a container. */
static void test_first_container_failure(void) {
    for (uint64_t n = 1; n <= 8; n++) {
        rc_heap *h = debug_heap();
        rc_heap_fail_at(h, n);
        tnode *a = rc_new(h, &tnode_type, 0);
        rc_heap_fail_at(h, 0);
        if (a)
            rc_decref(a);
        CHECK_EQ(rc_live_objects(h), 0);
        tnode *b = tn_new(h, &tnode_type, 1); /* works now */
        CHECK(rc_gc_is_tracked(b));
        tn_set(b, 0, b);
        rc_decref(b);
        CHECK_EQ(rc_gc_collect(h, 2), 1);
        GCT_END_HEAP(h);
    }
}

/* A fresh heap has no collector state.  The queries answer without making
 * one (the injected failure is still pending after them); the settings that
 * need one report its failure (-1) and leave the defaults in force, and work
 * once memory is there. */
static void test_settings_without_state(void) {
    rc_heap *h = debug_heap();
    rc_heap_fail_at(h, 1);
    long t[RC_GC_GENERATIONS], c[RC_GC_GENERATIONS];
    rc_gc_get_threshold(h, t);
    CHECK_EQ(t[0], 700);
    CHECK_EQ(t[1], 10);
    CHECK_EQ(t[2], 10);
    rc_gc_get_count(h, c);
    CHECK_EQ(c[0] + c[1] + c[2], 0);
    CHECK_EQ(rc_gc_is_enabled(h), 1);
    CHECK_EQ(rc_gc_get_debug(h), 0u);
    CHECK_EQ(rc_gc_garbage_count(h), 0u);
    CHECK_EQ(rc_gc_generation_size(h, 0), 0u);
    CHECK_EQ(rc_gc_callback_remove(h, cb, NULL), -1);
    rc_gc_enable(h);
    rc_gc_freeze(h);
    rc_gc_unfreeze(h);
    CHECK_EQ(rc_gc_freeze_count(h), 0u);
    rc_gc_garbage_clear(h);
    /* none of that allocated: the first allocation still fails */
    void *p = rc_malloc(h, 16);
    CHECK_PTR_EQ(p, NULL);
    /* a collection makes the state, to count itself: if it cannot, it
     * finds nothing and counts nothing */
    rc_heap_fail_at(h, 1);
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    rc_gc_gen_stats gst[RC_GC_GENERATIONS];
    rc_gc_get_stats(h, gst);
    CHECK_EQ(gst[2].collections, 0u);

    rc_heap_fail_at(h, 1);
    CHECK_EQ(rc_gc_disable(h), -1);
    CHECK_EQ(rc_gc_is_enabled(h), 1); /* still the default: on */
    rc_heap_fail_at(h, 1);
    CHECK_EQ(rc_gc_set_threshold(h, 5, 6, 7), -1);
    rc_gc_get_threshold(h, t);
    CHECK_EQ(t[0], 700);
    rc_heap_fail_at(h, 1);
    CHECK_EQ(rc_gc_set_debug(h, RC_GC_DEBUG_SAVEALL, NULL), -1);
    CHECK_EQ(rc_gc_get_debug(h), 0u);

    rc_heap_fail_at(h, 0);
    CHECK_EQ(rc_gc_disable(h), 0);
    CHECK_EQ(rc_gc_is_enabled(h), 0);
    CHECK_EQ(rc_gc_set_threshold(h, 5, 6, -7), 0);
    rc_gc_get_threshold(h, t);
    CHECK_EQ(t[0], 5);
    CHECK_EQ(t[1], 6);
    CHECK_EQ(t[2], 0); /* negative counts as 0 */
    CHECK_EQ(rc_gc_set_debug(h, RC_GC_DEBUG_SAVEALL, NULL), 0);
    CHECK_EQ(rc_gc_get_debug(h), RC_GC_DEBUG_SAVEALL);
    rc_gc_enable(h);
    CHECK_EQ(rc_gc_is_enabled(h), 1);
    GCT_END_HEAP(h);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_garbage_list_growth_fails);
    RUN_TEST(test_partial_group_listed);
    RUN_TEST(test_saveall_append_fails);
    RUN_TEST(test_callback_add_fails);
    RUN_TEST(test_failure_sweep);
    RUN_TEST(test_first_container_failure);
    RUN_TEST(test_settings_without_state);
    return check_summary();
}
