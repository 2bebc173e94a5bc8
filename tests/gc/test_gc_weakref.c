/*
 * test_gc_weakref.c — weak references and the collector: rc_weakref_get
 * before and after a death (by refcount and by collection), weakrefs
 * cleared before finalizers run, callbacks only for weakrefs that are
 * themselves reachable, callbacks that allocate and start collections,
 * many weakrefs to one object, weakrefs to non-containers, rc_weakref_count,
 * churn of the weakref table, a callback that resurrects garbage without
 * any finalizer.
 *
 * test_gc.py counterparts: test_bug1055820b (callbacks see cleared
 * weakrefs), test_bug1055820c (a callback run for an old object freed when
 * young garbage is cleared sees the young garbage's weakrefs cleared),
 * test_bug1055820d (the same with a finalizer), test_trash_weakref_clear
 * (bpo-38006: a weakref that is itself garbage never calls back), and
 * GH-91636 / GH-136401 (weakrefs to garbage made by finalizers are cleared
 * before any clear() runs); also weakrefs made by the callbacks of a
 * refcount death (cleared before the object is freed).
 */
#include "gctest.h"

/* ---- Callback bookkeeping ------------------------------------------------------------ */

typedef struct cb_log {
    int calls;
    void *last_weakref;
    void *got_in_callback; /* rc_weakref_get(weakref) inside the callback */
} cb_log;

static void cb_record(void *w, void *arg) {
    cb_log *l = arg;
    l->calls++;
    l->last_weakref = w;
    void *t = rc_weakref_get(w);
    l->got_in_callback = t;
    rc_decref(t);
}

static int g_calls;
static void cb_count(void *w, void *arg) {
    (void)w;
    (void)arg;
    g_calls++;
}

/* ---- By reference counting ------------------------------------------------------------ */

static void test_get_before_and_after_refcount_death(void) {
    rc_heap *h = gct_heap();
    const rc_type *types[] = {&tnode_type, &tleaf_type};
    for (int k = 0; k < 2; k++) {
        tnode *t = tn_new(h, types[k], 1);
        cb_log log = {0, NULL, NULL};
        void *w = rc_weakref_new(t, cb_record, &log);
        if (!CHECK_NOT_NULL(w))
            return;
        CHECK_EQ(rc_refcount(t), 1); /* weak: no reference taken */
        CHECK_EQ(rc_weakref_count(t), 1);
        void *got = rc_weakref_get(w);
        CHECK_PTR_EQ(got, t);
        CHECK_EQ(rc_refcount(t), 2); /* a new strong reference */
        rc_decref(got);
        CHECK_EQ(log.calls, 0);
        rc_decref(t);
        CHECK_EQ(log.calls, 1);
        CHECK_PTR_EQ(log.last_weakref, w);
        CHECK_NULL(log.got_in_callback);
        CHECK_NULL(rc_weakref_get(w));
        CHECK_EQ(rc_live_objects(h), 1); /* the weakref itself */
        rc_decref(w);
    }
    CHECK_NULL(rc_weakref_new(NULL, cb_count, NULL));
    /* not a weakref: NULL, and no reference taken */
    CHECK_NULL(rc_weakref_get(NULL));
    tnode *other = tn_new(h, &tleaf_type, 2);
    for (int k = 0; k < 2; k++) {
        /* its first field, where a weakref keeps its target, points to an
         * object: read as a weakref, o would hand out `other` */
        tnode *o = tn_new(h, types[k], 1);
        tn_set(o, 0, other);
        CHECK_NULL(rc_weakref_get(o));
        CHECK_EQ(rc_refcount(o), 1);
        CHECK_EQ(rc_refcount(other), 2);
        rc_decref(o);
    }
    rc_decref(other);
    GCT_END_HEAP(h);
}

/* Many weakrefs to one object: each callback once; count goes down as
 * weakrefs die first. */
static void test_many_weakrefs_to_one_object(void) {
    rc_heap *h = gct_heap();
    enum { N = 1000 };
    static void *w[N];
    static cb_log logs[N];
    tnode *t = tn_new(h, &tleaf_type, 1);
    for (int i = 0; i < N; i++) {
        memset(&logs[i], 0, sizeof logs[i]);
        w[i] = rc_weakref_new(t, cb_record, &logs[i]);
        if (!CHECK_NOT_NULL(w[i]))
            return;
    }
    CHECK_EQ(rc_weakref_count(t), N);
    /* drop every third weakref before the target */
    size_t kept = N;
    for (int i = 0; i < N; i += 3) {
        rc_decref(w[i]);
        w[i] = NULL;
        kept--;
    }
    CHECK_EQ(rc_weakref_count(t), kept);
    rc_decref(t);
    for (int i = 0; i < N; i++) {
        if (w[i]) {
            CHECK_EQ(logs[i].calls, 1);
            CHECK_NULL(logs[i].got_in_callback);
            CHECK_NULL(rc_weakref_get(w[i]));
            rc_decref(w[i]);
        } else {
            CHECK_EQ(logs[i].calls, 0); /* died before the target */
        }
    }
    GCT_END_HEAP(h);
}

/* A weakref to a weakref, and weakrefs without callback. */
static void test_weakref_to_weakref(void) {
    rc_heap *h = gct_heap();
    tnode *t = tn_new(h, &tnode_type, 1);
    void *w1 = rc_weakref_new(t, NULL, NULL);
    cb_log log = {0, NULL, NULL};
    void *w2 = rc_weakref_new(w1, cb_record, &log);
    CHECK_EQ(rc_weakref_count(w1), 1);
    rc_decref(t);
    CHECK_NULL(rc_weakref_get(w1));
    CHECK_EQ(log.calls, 0);
    void *g = rc_weakref_get(w2);
    CHECK_PTR_EQ(g, w1);
    rc_decref(g);
    rc_decref(w1);
    CHECK_EQ(log.calls, 1);
    CHECK_NULL(rc_weakref_get(w2));
    rc_decref(w2);
    GCT_END_HEAP(h);
}

/* ---- In a collection ------------------------------------------------------------------- */

/* A weakref held from outside to a cycle member: cleared, callback once. */
static void test_weakref_to_cycle_member(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    tnode *a = tn_new(h, &tnode_type, 1), *b = tn_new(h, &tnode_type, 2);
    tn_set(a, 0, b);
    tn_set(b, 0, a);
    cb_log la = {0, NULL, NULL}, lb = {0, NULL, NULL};
    void *wa = rc_weakref_new(a, cb_record, &la);
    void *wb = rc_weakref_new(b, cb_record, &lb);
    rc_decref(a);
    rc_decref(b);
    void *g = rc_weakref_get(wa); /* still there before the collection */
    CHECK_PTR_EQ(g, a);
    rc_decref(g);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(la.calls, 1);
    CHECK_EQ(lb.calls, 1);
    CHECK_NULL(la.got_in_callback);
    CHECK_NULL(lb.got_in_callback);
    CHECK_NULL(rc_weakref_get(wa));
    CHECK_NULL(rc_weakref_get(wb));
    CHECK_EQ(rc_live_objects(h), 2);
    rc_decref(wa);
    rc_decref(wb);
    GCT_END_HEAP(h);
}

/* A weakref held only by the cycle it points into dies with it, silently. */
static void test_weakref_in_its_own_cycle_is_silent(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    g_calls = 0;
    tnode *a = tn_new(h, &tnode_type, 1), *b = tn_new(h, &tnode_type, 2);
    tn_set(a, 0, b);
    tn_set(b, 0, a);
    a->ref[1] = rc_weakref_new(b, cb_count, NULL); /* a owns it */
    b->ref[1] = rc_weakref_new(b, cb_count, NULL); /* b owns one to itself */
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(rc_gc_collect(h, 2), 4);
    CHECK_EQ(g_calls, 0);
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* A weakref in one garbage cycle pointing into another garbage cycle:
 * both unreachable, so no callback either. */
static void test_weakref_between_garbage_cycles_is_silent(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    g_calls = 0;
    tnode *x = tn_new(h, &tnode_type, 1), *y = tn_new(h, &tnode_type, 2);
    tn_set(x, 0, x);
    tn_set(y, 0, y);
    x->ref[1] = rc_weakref_new(y, cb_count, NULL);
    y->ref[1] = rc_weakref_new(x, cb_count, NULL);
    rc_decref(x);
    rc_decref(y);
    CHECK_EQ(rc_gc_collect(h, 2), 4);
    CHECK_EQ(g_calls, 0);
    GCT_END_HEAP(h);
}

/* Weakrefs to garbage are cleared before finalizers run: a finalizer sees
 * rc_weakref_get == NULL for every weakref into the garbage. */
static void *g_wa, *g_wb, *g_wlive;
static int g_fin_saw_live, g_fin_saw_garbage, g_fin_runs;

static void look_at_weakrefs(tnode *self) {
    (void)self;
    g_fin_runs++;
    void *x = rc_weakref_get(g_wa), *y = rc_weakref_get(g_wb), *z = rc_weakref_get(g_wlive);
    g_fin_saw_garbage += (x != NULL) + (y != NULL);
    g_fin_saw_live += z != NULL;
    rc_decref(x);
    rc_decref(y);
    rc_decref(z);
}

static void test_weakrefs_cleared_before_finalizers(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    g_fin_saw_live = g_fin_saw_garbage = g_fin_runs = 0;
    tnode *a = tn_new(h, &tfin_type, 1), *b = tn_new(h, &tfin_type, 2);
    tnode *live = tn_new(h, &tnode_type, 3);
    tn_set(a, 0, b);
    tn_set(b, 0, a);
    tn_set(b, 1, live); /* garbage pointing to a live object */
    a->on_finalize = look_at_weakrefs;
    b->on_finalize = look_at_weakrefs;
    g_wa = rc_weakref_new(a, NULL, NULL);
    g_wb = rc_weakref_new(b, NULL, NULL);
    g_wlive = rc_weakref_new(live, NULL, NULL);
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(g_fin_runs, 2);
    CHECK_EQ(g_fin_saw_garbage, 0);
    CHECK_EQ(g_fin_saw_live, 2);
    CHECK_EQ(rc_weakref_count(live), 1);
    rc_decref(live);
    rc_decref(g_wa);
    rc_decref(g_wb);
    rc_decref(g_wlive);
    GCT_END_HEAP(h);
}

/* A finalizer that resurrects its object: the weakrefs to it were already
 * cleared (and their callbacks ran), the object itself lives on. */
static tnode *g_lazarus;

static void lazarus_fin(tnode *self) {
    rc_incref(self);
    g_lazarus = self;
}

static void test_resurrected_object_weakrefs_stay_cleared(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    g_lazarus = NULL;
    tnode *l = tn_new(h, &tfin_type, 1);
    tn_set(l, 0, l);
    l->on_finalize = lazarus_fin;
    cb_log log = {0, NULL, NULL};
    void *w = rc_weakref_new(l, cb_record, &log);
    rc_decref(l);
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    CHECK_PTR_EQ(g_lazarus, l);
    CHECK_EQ(log.calls, 1);
    CHECK_NULL(rc_weakref_get(w));
    CHECK_EQ(rc_weakref_count(l), 0);
    /* a new weakref to the resurrected object works as usual */
    void *w2 = rc_weakref_new(l, cb_count, NULL);
    g_calls = 0;
    rc_decref(g_lazarus);
    CHECK_EQ(rc_gc_collect(h, 2), 1);
    CHECK_EQ(g_calls, 1);
    CHECK_NULL(rc_weakref_get(w2));
    rc_decref(w);
    rc_decref(w2);
    GCT_END_HEAP(h);
}

/* test_bug1055820b: callbacks of weakrefs to garbage see every weakref to
 * that garbage already cleared. */
static void *g_wrs[2];
static void *g_ouch[2];
static int g_ouch_calls;

static void ouch_callback(void *w, void *arg) {
    (void)w;
    (void)arg;
    g_ouch_calls++;
    for (int i = 0; i < 2; i++) {
        g_ouch[i] = rc_weakref_get(g_wrs[i]);
        rc_decref(g_ouch[i]); /* keep only the observation */
    }
}

static void test_bug1055820b(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    g_ouch_calls = 0;
    tnode *cs[2];
    for (int i = 0; i < 2; i++) {
        cs[i] = tn_new(h, &tnode_type, i);
        tn_set(cs[i], 0, cs[i]);
        g_wrs[i] = rc_weakref_new(cs[i], ouch_callback, NULL);
    }
    rc_gc_collect(h, 2);
    CHECK_EQ(g_ouch_calls, 0);
    for (int i = 0; i < 2; i++)
        rc_decref(cs[i]);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(g_ouch_calls, 2);
    CHECK_NULL(g_ouch[0]);
    CHECK_NULL(g_ouch[1]);
    for (int i = 0; i < 2; i++)
        rc_decref(g_wrs[i]);
    GCT_END_HEAP(h);
}

/* test_bug1055820c / d: c0 lives in gen 2, kept alive only by c1, young
 * garbage.  c2 is young garbage with a weakref c2wr (no callback).  When
 * a gen-0 collection clears c1, c0 dies by refcount and its weakref
 * callback (c) or finalizer (d) runs in the middle of the deletion: it must
 * see c2wr cleared already.  The collection happens "naturally", by
 * allocation. */
static void *g_c2wr;
static int g_c0_events;
static void *g_c0_saw;
static int g_detector_fired;

static void c0_callback(void *w, void *arg) {
    (void)w;
    (void)arg;
    g_c0_events++;
    g_c0_saw = rc_weakref_get(g_c2wr);
    rc_decref(g_c0_saw);
}

static void c0_finalizer(tnode *self) { c0_callback(self, NULL); }

static void detector(void *w, void *arg) {
    (void)w;
    (void)arg;
    g_detector_fired = 1;
}

static void bug1055820_cd(int use_finalizer) {
    rc_heap *h = gct_heap();
    g_c0_events = 0;
    g_c0_saw = NULL;
    g_detector_fired = 0;
    tnode *c0 = tn_new(h, use_finalizer ? &tfin_type : &tnode_type, 0);
    tn_set(c0, 0, c0);
    rc_gc_collect(h, 2); /* c0 -> gen 2 */
    CHECK_EQ(gct_in_generation(h, 2, c0), 1);
    tnode *c1 = tn_new(h, &tnode_type, 1);
    tn_set(c1, 0, c1);
    tn_set(c1, 1, c0); /* keeps c0 alive */
    tn_set(c0, 0, NULL); /* c0's own loop goes */
    tnode *c2 = tn_new(h, &tnode_type, 2);
    tn_set(c2, 0, c2);
    g_c2wr = rc_weakref_new(c2, NULL, NULL);
    void *c0wr = NULL;
    if (use_finalizer)
        c0->on_finalize = c0_finalizer;
    else
        c0wr = rc_weakref_new(c0, c0_callback, NULL);
    rc_decref(c0);
    rc_decref(c1);
    rc_decref(c2);
    /* a piece of young cyclic trash with a callback: tells when gen 0 was
     * collected */
    tnode *d = tn_new(h, &tnode_type, 666);
    tn_set(d, 0, d);
    void *dwr = rc_weakref_new(d, detector, NULL);
    rc_decref(d);
    enum { MAXJ = 10000 };
    static tnode *junk[MAXJ];
    int nj = 0;
    while (!g_detector_fired && nj < MAXJ) {
        CHECK_EQ(g_c0_events, 0);
        junk[nj] = tn_new(h, &tnode_type, 1000 + nj);
        nj++;
    }
    CHECK(g_detector_fired);
    CHECK_EQ(g_c0_events, 1);
    CHECK_NULL(g_c0_saw);
    CHECK_NULL(rc_weakref_get(g_c2wr));
    for (int i = 0; i < nj; i++)
        rc_decref(junk[i]);
    rc_decref(dwr);
    rc_decref(g_c2wr);
    rc_decref(c0wr);
    GCT_END_HEAP(h);
}

static void test_bug1055820c(void) { bug1055820_cd(0); }
static void test_bug1055820d(void) { bug1055820_cd(1); }

/* test_trash_weakref_clear (bpo-38006).  WZ is a weakref with a callback
 * to Z, a non-container the collector cannot see; Z and WZ are held only
 * by the self-loop A (WZ also by a second cycle, to keep it alive longer).
 * A, WZ and the second cycle are garbage; clearing A frees Z by refcount.
 * WZ is itself garbage, so its callback must not run (it would run in the
 * middle of the deletion, able to reach objects already cleared). */
static void test_trash_weakref_never_calls_back(void) {
    /* order 0: A is older than WZ, so the collector clears A (freeing Z)
     * before it gets to WZ; order 1: WZ first (cleared before Z dies) */
    for (int order = 0; order < 2; order++) {
        rc_heap *h = gct_heap();
        rc_gc_disable(h);
        g_calls = 0;
        tnode *a = NULL, *z, *cyc;
        void *wz;
        if (order == 0)
            a = tn_new(h, &tnode_type, 1);
        z = tn_new(h, &tleaf_type, 2);
        wz = rc_weakref_new(z, cb_count, NULL);
        cyc = tn_new(h, &tnode_type, 3);
        if (order == 1)
            a = tn_new(h, &tnode_type, 1);
        tn_set(a, 0, a);
        tn_set(a, 1, z); /* cleared before ref[2] */
        tn_set(a, 2, wz);
        tn_set(cyc, 0, cyc);
        tn_set(cyc, 1, wz);
        rc_decref(z);
        rc_decref(wz);
        rc_decref(cyc);
        rc_decref(a);
        CHECK_EQ(rc_gc_collect(h, 2), 3);
        CHECK_MSG(g_calls == 0, "order %d: the callback of a garbage weakref ran %d time(s)",
                  order, g_calls);
        CHECK_EQ(rc_live_objects(h), 0);
        GCT_END_HEAP(h);
    }
}

/* GH-91636: a finalizer creates a weakref to garbage (itself); later in the
 * same collection, code run by the deletion (the finalizer of an object the
 * garbage held) reads it.  It must find it cleared: otherwise it gets a
 * strong reference to an object that clear() is tearing down. */
static void *g_created_wr;
static int g_observer_runs;
static int g_observer_saw_garbage;

static void create_weakref_to_self(tnode *self) {
    if (!g_created_wr)
        g_created_wr = rc_weakref_new(self, NULL, NULL);
}

static void observer_fin(tnode *self) {
    (void)self;
    g_observer_runs++;
    void *o = rc_weakref_get(g_created_wr);
    if (o) {
        g_observer_saw_garbage++;
        rc_decref(o);
    }
}

static void test_weakref_created_by_finalizer_is_cleared(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    g_created_wr = NULL;
    g_observer_runs = g_observer_saw_garbage = 0;
    tnode *c = tn_new(h, &tfin_type, 1);
    tnode *obs = tn_new(h, &tleaf_type, 2);
    tn_set(c, 0, c);
    tn_set(c, 1, obs);
    rc_decref(obs);
    obs->on_finalize = observer_fin;
    c->on_finalize = create_weakref_to_self;
    rc_decref(c);
    CHECK_EQ(rc_gc_collect(h, 2), 1);
    CHECK_NOT_NULL(g_created_wr);
    CHECK_EQ(g_observer_runs, 1);
    CHECK_MSG(g_observer_saw_garbage == 0,
              "rc_weakref_get on a weakref made by a finalizer returned the garbage object "
              "while it was being cleared");
    CHECK_NULL(rc_weakref_get(g_created_wr));
    CHECK_EQ(rc_live_objects(h), 1); /* the weakref */
    rc_decref(g_created_wr);
    g_created_wr = NULL;
    GCT_END_HEAP(h);
}

/* The same with the weakrefs' targets freed by a neighbour's clear before
 * the collector gets to them: A -> B -> C -> A, all garbage; A's finalizer
 * makes wB (with a callback) and wC.  Clearing A frees B by refcount; if wB
 * was not cleared yet its callback runs in the middle of the deletion and
 * rc_weakref_get(wC) hands it C, garbage whose cycle is being torn down (A
 * is already cleared).  Every weakref made by finalizers to the garbage
 * must be cleared (silently, as for the first object) before any clear()
 * runs (CPython GH-136401 clears them all in one pass). */
static void *g_wb, *g_wc;
static tnode *g_b, *g_c;
static int g_wb_calls, g_wb_saw_c;

static void wb_callback(void *w, void *arg) {
    (void)w;
    (void)arg;
    g_wb_calls++;
    void *c = rc_weakref_get(g_wc);
    if (c) {
        g_wb_saw_c++;
        rc_decref(c);
    }
}

static void make_weakrefs_to_neighbours(tnode *self) {
    (void)self;
    if (!g_wb) {
        g_wb = rc_weakref_new(g_b, wb_callback, NULL);
        g_wc = rc_weakref_new(g_c, NULL, NULL);
    }
}

static void test_weakrefs_made_by_finalizer_all_cleared_first(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    g_wb = g_wc = NULL;
    g_wb_calls = g_wb_saw_c = 0;
    tnode *r[3];
    tnode *first = tn_ring(h, &tfin_type, 3, 0, r);
    g_b = r[1];
    g_c = r[2];
    r[0]->on_finalize = make_weakrefs_to_neighbours;
    rc_decref(first);
    CHECK_EQ(rc_gc_collect(h, 2), 3);
    CHECK_NOT_NULL(g_wb);
    CHECK_MSG(g_wb_saw_c == 0,
              "a callback during the deletion got garbage (C) from a weakref made by a "
              "finalizer");
    CHECK_MSG(g_wb_calls == 0,
              "the callback of a weakref made by a finalizer to garbage ran (%d) — it does "
              "not when its target is the first object cleared",
              g_wb_calls);
    CHECK_NULL(rc_weakref_get(g_wb));
    CHECK_NULL(rc_weakref_get(g_wc));
    CHECK_EQ(rc_live_objects(h), 2);
    rc_decref(g_wb);
    rc_decref(g_wc);
    GCT_END_HEAP(h);
}

/* ---- Callbacks doing things ------------------------------------------------------------------ */

static intptr_t g_nested = -5;
static tnode *g_made;

static void callback_collects_and_allocates(void *w, void *arg) {
    rc_heap *h = arg;
    g_calls++;
    g_nested = rc_gc_collect(h, 2); /* refused inside a collection */
    /* new objects: some garbage, one kept */
    for (int i = 0; i < 3; i++)
        tn_garbage_self(h, &tnode_type, 500 + i);
    if (!g_made)
        g_made = tn_new(h, &tnode_type, 600);
    rc_decref(w); /* drop the program's reference to its own weakref */
}

static void test_callback_collects_and_allocates(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    g_calls = 0;
    g_made = NULL;
    g_nested = -5;
    tnode *a = tn_new(h, &tnode_type, 1);
    tn_set(a, 0, a);
    rc_weakref_new(a, callback_collects_and_allocates, h); /* owned by the callback */
    rc_decref(a);
    size_t colls = gct_collections(h, 2);
    CHECK_EQ(rc_gc_collect(h, 2), 1);
    CHECK_EQ(g_calls, 1);
    CHECK_EQ(g_nested, 0);
    CHECK_EQ(gct_collections(h, 2), colls + 1);
    CHECK_NOT_NULL(g_made);
    CHECK_EQ(rc_live_objects(h), 4); /* the three new self-loops and g_made */
    CHECK_EQ(rc_gc_collect(h, 2), 3);
    rc_decref(g_made);
    GCT_END_HEAP(h);
}

/* A weakref callback may resurrect garbage without any finalizer: here the
 * callback of a reachable weakref to `a` takes a reference to `b` (which it
 * holds borrowed), in the cycle a <-> b -> c.  The collection checks the
 * group again after the callbacks, so a, b and c survive untouched (no
 * clear ran), while an unrelated garbage cycle collected alongside is freed;
 * dropping the resurrected reference makes the group garbage again. */
static tnode *g_raised;

static void callback_resurrects(void *w, void *arg) {
    (void)w;
    rc_incref(arg);
    g_raised = arg;
}

static void test_callback_resurrects_garbage(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    g_raised = NULL;
    tnode *a = tn_new(h, &tnode_type, 1), *b = tn_new(h, &tnode_type, 2);
    tnode *c = tn_new(h, &tnode_type, 3);
    tn_set(a, 0, b);
    tn_set(b, 0, a);
    tn_set(b, 1, c);
    rc_decref(c);
    void *w = rc_weakref_new(a, callback_resurrects, b); /* held by the test: reachable */
    if (!CHECK_NOT_NULL(w))
        return;
    tn_garbage_self(h, &tnode_type, 4); /* garbage that stays garbage */
    tn_garbage_self(h, &tnode_type, 5);
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(rc_live_objects(h), 6);
    CHECK_EQ(rc_gc_collect(h, 2), 2); /* only the two self-loops */
    CHECK_PTR_EQ(g_raised, b);
    CHECK_NULL(rc_weakref_get(w)); /* cleared before its callback ran */
    CHECK_EQ(rc_live_objects(h), 4); /* a, b, c and the weakref */
    CHECK_PTR_EQ(b->ref[0], a);
    CHECK_PTR_EQ(a->ref[0], b);
    CHECK_PTR_EQ(b->ref[1], c);
    CHECK_EQ(a->clear_calls + b->clear_calls + c->clear_calls, 0);
    CHECK_EQ(rc_refcount(a), 1);
    CHECK_EQ(rc_refcount(c), 1);
    CHECK(rc_gc_is_tracked(a) && rc_gc_is_tracked(b) && rc_gc_is_tracked(c));
    /* the survivors moved up with the collection's other survivors (the
     * weakref among them when it is tracked) */
    CHECK_EQ(rc_gc_generation_size(h, 2), (size_t)(3 + (rc_gc_is_tracked(w) != 0)));
    rc_decref(g_raised);
    CHECK_EQ(rc_gc_collect(h, 2), 3);
    CHECK_EQ(rc_live_objects(h), 1);
    rc_decref(w);
    GCT_END_HEAP(h);
}

/* A callback run by a refcount death (outside any collection) may start a
 * real collection: the dying target is still alive meanwhile and keeps
 * what it references. */
static intptr_t g_cb_collect_result;

static void callback_real_collect(void *w, void *arg) {
    (void)w;
    g_cb_collect_result = rc_gc_collect(arg, 2);
}

static void test_callback_collects_outside_collection(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    tn_garbage_self(h, &tnode_type, 1);
    tn_garbage_self(h, &tnode_type, 2);
    tnode *t = tn_new(h, &tnode_type, 3);
    tnode *child = tn_new(h, &tnode_type, 4);
    tn_set(child, 0, child);
    tn_set(t, 0, child);
    rc_decref(child);
    void *w = rc_weakref_new(t, callback_real_collect, h);
    g_cb_collect_result = -5;
    rc_decref(t);
    CHECK_EQ(g_cb_collect_result, 2);
    CHECK_EQ(rc_live_objects(h), 2); /* w, and child (now garbage) */
    CHECK_PTR_EQ(child->ref[0], child);
    CHECK_EQ(rc_gc_collect(h, 2), 1);
    rc_decref(w);
    GCT_END_HEAP(h);
}

/* A callback run by a refcount death makes a new weakref to the dying
 * object (its arg points to it: the callbacks of a refcount death may even
 * resurrect the object, so they may reach it).  The object is freed after
 * the callbacks: the new weakref must be cleared too, not left pointing to
 * freed memory.  (CPython clears weakrefs created during finalization in
 * subtype_dealloc.)  Run in a child process: the failure is a use after
 * free. */
static void *g_late_wr;

static void cb_make_weakref_to_target(void *w, void *arg) {
    (void)w;
    if (!g_late_wr)
        g_late_wr = rc_weakref_new(arg, NULL, NULL);
}

static int late_weakref_scenario(void) {
    rc_heap *h = gct_heap();
    int bad = 0;
    const rc_type *types[] = {&tleaf_type, &tnode_type};
    for (int k = 0; k < 2; k++) {
        g_late_wr = NULL;
        tnode *o = tn_new(h, types[k], 1);
        void *w = rc_weakref_new(o, cb_make_weakref_to_target, o);
        rc_decref(o); /* dies: w's callback runs, then o is freed */
        if (!g_late_wr)
            return 10;
        if (rc_weakref_get(g_late_wr) != NULL) {
            fprintf(stderr, "%s target: a weakref made by a death's callback outlives "
                            "its target\n", types[k]->name);
            return 20 + k; /* and do not touch anything more */
        }
        rc_decref(g_late_wr);
        rc_decref(w);
    }
    if (rc_live_objects(h) != 0)
        bad = 30;
    rc_heap_destroy(h);
    return bad;
}

/* A weakref whose deallocation was deferred (the chain dropping it is more
 * than RC_DEALLOC_DEPTH deep) has count 0 but is still on its target's
 * list; when the target then dies in the same cascade, the weakref must stay
 * silent and not be revived (it used to be freed twice).  A chain of
 * RC_DEALLOC_DEPTH containers: its last node is destroyed at the deepest
 * level, so the weakref it drops first is deferred; then it drops the target. */
static void test_deferred_weakref_stays_silent(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    g_calls = 0;
    tnode *head = tn_new(h, &tnode_type, 0), *cur = head;
    for (int i = 1; i < RC_DEALLOC_DEPTH; i++) {
        tnode *n = tn_new(h, &tnode_type, i);
        tn_set(cur, 0, n);
        rc_decref(n);
        cur = n;
    }
    tnode *target = tn_new(h, &tleaf_type, 1000);
    void *w = rc_weakref_new(target, cb_count, NULL);
    if (CHECK_NOT_NULL(w)) {
        tn_set(cur, 0, w);   /* dropped first: its deallocation is deferred */
        tn_set(cur, 1, target); /* then the target dies, with w on its list */
        rc_decref(w);
        rc_decref(target);
        rc_decref(head);
        CHECK_EQ(g_calls, 0);
        CHECK_EQ(rc_live_objects(h), 0);
    }
    GCT_END_HEAP(h);
}

static void test_weakref_made_by_death_callback(void) {
    int r = gct_in_child(late_weakref_scenario);
    CHECK_MSG(r == 0,
              "child exit status %d, want 0 (20: rc_weakref_get returned the freed "
              "non-container, 21: the freed container; 1 under ASan: see its report above; "
              "above 128: killed by a signal)",
              r);
}

/* ---- The table under churn ---------------------------------------------------------------------- */

/* Many targets, each with 0..3 weakrefs, dying in random order by
 * refcount and by collection, weakrefs dying too; every query stays right. */
static void test_weakref_table_churn(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    test_rng rng = test_rng_seed(42);
    size_t n = gct_scale(20000);
    tnode **t = calloc(n, sizeof *t);
    void **w = calloc(n * 3, sizeof *w);
    size_t *nw = calloc(n, sizeof *nw);
    if (!CHECK(t && w && nw))
        return;
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < n; i++) {
            t[i] = tn_new(h, test_rng_below(&rng, 2) ? &tnode_type : &tleaf_type, (long)i);
            nw[i] = test_rng_below(&rng, 4);
            for (size_t k = 0; k < nw[i]; k++)
                w[i * 3 + k] = rc_weakref_new(t[i], cb_count, NULL);
            if (rc_type_of(t[i]) == &tnode_type && test_rng_below(&rng, 3) == 0)
                tn_set(t[i], 0, t[i]); /* will need the collector */
        }
        size_t bad = 0;
        for (size_t i = 0; i < n; i++)
            bad += rc_weakref_count(t[i]) != nw[i];
        CHECK_EQ(bad, 0);
        /* drop some weakrefs early */
        for (size_t i = 0; i < n; i++) {
            if (nw[i] && test_rng_below(&rng, 2)) {
                rc_decref(w[i * 3 + nw[i] - 1]);
                nw[i]--;
            }
        }
        bad = 0;
        for (size_t i = 0; i < n; i++)
            bad += rc_weakref_count(t[i]) != nw[i];
        CHECK_EQ(bad, 0);
        g_calls = 0;
        size_t expected_calls = 0;
        for (size_t i = 0; i < n; i++)
            expected_calls += nw[i];
        for (size_t i = 0; i < n; i++)
            rc_decref(t[i]);
        rc_gc_collect(h, 2);
        CHECK_EQ(g_calls, expected_calls);
        bad = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < nw[i]; k++) {
                void *g = rc_weakref_get(w[i * 3 + k]);
                bad += g != NULL;
                rc_decref(g);
                rc_decref(w[i * 3 + k]);
            }
        CHECK_EQ(bad, 0);
        CHECK_EQ(rc_live_objects(h), 0);
    }
    free(t);
    free(w);
    free(nw);
    GCT_END_HEAP(h);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_get_before_and_after_refcount_death);
    RUN_TEST(test_many_weakrefs_to_one_object);
    RUN_TEST(test_weakref_to_weakref);
    RUN_TEST(test_weakref_to_cycle_member);
    RUN_TEST(test_weakref_in_its_own_cycle_is_silent);
    RUN_TEST(test_weakref_between_garbage_cycles_is_silent);
    RUN_TEST(test_weakrefs_cleared_before_finalizers);
    RUN_TEST(test_resurrected_object_weakrefs_stay_cleared);
    RUN_TEST(test_bug1055820b);
    RUN_TEST(test_bug1055820c);
    RUN_TEST(test_bug1055820d);
    RUN_TEST(test_trash_weakref_never_calls_back);
    RUN_TEST(test_weakref_created_by_finalizer_is_cleared);
    RUN_TEST(test_weakrefs_made_by_finalizer_all_cleared_first);
    RUN_TEST(test_callback_collects_and_allocates);
    RUN_TEST(test_callback_resurrects_garbage);
    RUN_TEST(test_callback_collects_outside_collection);
    RUN_TEST(test_weakref_made_by_death_callback);
    RUN_TEST(test_deferred_weakref_stays_silent);
    RUN_TEST(test_weakref_table_churn);
    return check_summary();
}
