/*
 * test_gc_callbacks.c — the gc callbacks (START/STOP, generation, collected,
 * uncollectable; adding and removing, also from inside a callback), the
 * garbage list and uncollectable groups (types without clear), SAVEALL,
 * the debug flags and their output.
 *
 * test_gc.py counterparts: GCCallbackTests (test_collect,
 * test_collect_generation, test_collect_garbage with its cleanup callback),
 * test_legacy_finalizer / test_legacy_finalizer_newclass (uncollectable
 * objects in gc.garbage, removed by hand), test_saveall,
 * test_garbage_at_shutdown's DEBUG_UNCOLLECTABLE / DEBUG_SAVEALL output.
 */
#include "gctest.h"

/* ---- A visit log ------------------------------------------------------------------------ */

typedef struct visit {
    int who;
    rc_gc_phase phase;
    rc_gc_info info;
    size_t garbage_at_call;
} visit;

static visit g_visits[256];
static size_t g_nvisits;

static void record(int who, rc_heap *h, rc_gc_phase phase, const rc_gc_info *info) {
    if (g_nvisits < 256) {
        visit *v = &g_visits[g_nvisits];
        v->who = who;
        v->phase = phase;
        v->info = *info;
        v->garbage_at_call = rc_gc_garbage_count(h);
    }
    g_nvisits++;
}

static void cb1(rc_heap *h, rc_gc_phase phase, const rc_gc_info *info, void *arg) {
    (void)arg;
    record(1, h, phase, info);
}

static void cb2(rc_heap *h, rc_gc_phase phase, const rc_gc_info *info, void *arg) {
    (void)arg;
    record(2, h, phase, info);
}

static size_t count_visits(int who, int phase) {
    size_t n = 0;
    for (size_t i = 0; i < g_nvisits && i < 256; i++)
        if ((who < 0 || g_visits[i].who == who) && (phase < 0 || (int)g_visits[i].phase == phase))
            n++;
    return n;
}

/* ---- Callbacks ------------------------------------------------------------------------------ */

/* GCCallbackTests.test_collect: each callback once at START, once at STOP,
 * in registration order. */
static void test_callbacks_collect(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    CHECK_EQ(rc_gc_callback_add(h, cb1, NULL), 0);
    CHECK_EQ(rc_gc_callback_add(h, cb2, NULL), 0);
    g_nvisits = 0;
    rc_gc_collect(h, 2);
    CHECK_EQ(g_nvisits, 4);
    CHECK_EQ(g_visits[0].who, 1);
    CHECK_EQ(g_visits[0].phase, RC_GC_START);
    CHECK_EQ(g_visits[1].who, 2);
    CHECK_EQ(g_visits[1].phase, RC_GC_START);
    CHECK_EQ(g_visits[2].who, 1);
    CHECK_EQ(g_visits[2].phase, RC_GC_STOP);
    CHECK_EQ(g_visits[3].who, 2);
    CHECK_EQ(g_visits[3].phase, RC_GC_STOP);
    for (size_t i = 0; i < 4; i++) {
        CHECK_EQ(g_visits[i].info.generation, 2);
        CHECK_EQ(g_visits[i].info.collected, 0);
        CHECK_EQ(g_visits[i].info.uncollectable, 0);
    }
    CHECK_EQ(rc_gc_callback_remove(h, cb1, NULL), 0);
    CHECK_EQ(rc_gc_callback_remove(h, cb2, NULL), 0);
    CHECK_EQ(rc_gc_callback_remove(h, cb2, NULL), -1);
    g_nvisits = 0;
    rc_gc_collect(h, 2);
    CHECK_EQ(g_nvisits, 0);
    GCT_END_HEAP(h);
}

/* test_collect_generation, and automatic collections. */
static void test_callbacks_generation(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    rc_gc_callback_add(h, cb1, NULL);
    for (int g = 0; g < 3; g++) {
        g_nvisits = 0;
        rc_gc_collect(h, g);
        CHECK_EQ(g_nvisits, 2);
        CHECK_EQ(g_visits[0].info.generation, g);
        CHECK_EQ(g_visits[1].info.generation, g);
    }
    /* an automatic collection reports its generation too */
    rc_gc_enable(h);
    rc_gc_set_threshold(h, 10, 1, 1000);
    g_nvisits = 0;
    for (int i = 0; i < 100; i++)
        tn_garbage_self(h, &tnode_type, i);
    CHECK_GE(g_nvisits, 8);
    CHECK_EQ(g_nvisits % 2, 0);
    size_t gen1 = 0;
    for (size_t i = 0; i < g_nvisits && i < 256; i += 2) {
        CHECK_EQ(g_visits[i].phase, RC_GC_START);
        CHECK_EQ(g_visits[i + 1].phase, RC_GC_STOP);
        CHECK_EQ(g_visits[i].info.generation, g_visits[i + 1].info.generation);
        CHECK_LE(g_visits[i].info.generation, 1);
        gen1 += g_visits[i].info.generation == 1;
    }
    CHECK_GT(gen1, 0);
    rc_gc_callback_remove(h, cb1, NULL);
    GCT_END_HEAP(h);
}

/* GCCallbackTests.test_collect_garbage: two uncollectable pairs and one
 * collectable self-loop; the STOP info tells them apart.  Then a STOP
 * callback cleans up the uncollectables itself (breaks their cycles and
 * empties the garbage list, from inside the collection). */
static int g_cleanup;

static void cb_cleanup(rc_heap *h, rc_gc_phase phase, const rc_gc_info *info, void *arg) {
    (void)arg;
    record(2, h, phase, info);
    if (phase == RC_GC_STOP && g_cleanup) {
        for (size_t i = 0; i < rc_gc_garbage_count(h); i++) {
            tnode *e = rc_gc_garbage_get(h, i);
            if (rc_type_of(e) == &tnoclear_type)
                tn_set(e, 0, NULL); /* e.partner = None */
        }
        rc_gc_garbage_clear(h);
    }
}

static void make_uncollectable_pair(rc_heap *h) {
    tnode *a = tn_new(h, &tnoclear_type, 1), *b = tn_new(h, &tnoclear_type, 2);
    tn_set(a, 0, b);
    tn_set(b, 0, a);
    rc_decref(a);
    rc_decref(b);
}

static void test_callbacks_collect_garbage(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    rc_gc_callback_add(h, cb1, NULL);
    rc_gc_callback_add(h, cb_cleanup, NULL);
    g_cleanup = 0;
    make_uncollectable_pair(h);
    make_uncollectable_pair(h);
    tn_garbage_self(h, &tnode_type, 666);
    g_nvisits = 0;
    CHECK_EQ(rc_gc_collect(h, 2), 5);
    CHECK_EQ(g_nvisits, 4);
    for (size_t i = 0; i < 4; i++) {
        if (g_visits[i].phase != RC_GC_STOP)
            continue;
        CHECK_EQ(g_visits[i].info.collected, 1);
        CHECK_EQ(g_visits[i].info.uncollectable, 4);
        CHECK_EQ(g_visits[i].garbage_at_call, 4); /* the list is filled by STOP */
    }
    CHECK_EQ(rc_gc_garbage_count(h), 4);
    for (size_t i = 0; i < rc_gc_garbage_count(h); i++)
        CHECK_PTR_EQ(rc_type_of(rc_gc_garbage_get(h, i)), &tnoclear_type);
    CHECK_EQ(rc_live_objects(h), 4);
    /* let the callback handle them */
    g_cleanup = 1;
    g_nvisits = 0;
    rc_gc_garbage_clear(h);
    CHECK_EQ(rc_gc_collect(h, 2), 4);
    for (size_t i = 0; i < 4; i++) {
        if (g_visits[i].phase != RC_GC_STOP)
            continue;
        CHECK_EQ(g_visits[i].info.collected, 0);
        CHECK_EQ(g_visits[i].info.uncollectable, 4);
    }
    CHECK_EQ(rc_gc_garbage_count(h), 0);
    CHECK_EQ(rc_live_objects(h), 0);
    rc_gc_callback_remove(h, cb1, NULL);
    rc_gc_callback_remove(h, cb_cleanup, NULL);
    GCT_END_HEAP(h);
}

static void test_callback_add_remove(void) {
    rc_heap *h = gct_heap();
    int x, y;
    CHECK_EQ(rc_gc_callback_add(h, NULL, NULL), -1);
    CHECK_EQ(rc_gc_callback_remove(h, cb1, NULL), -1);
    /* the same callback with different args counts separately; the same
     * pair twice is called twice and removed one at a time */
    CHECK_EQ(rc_gc_callback_add(h, cb1, &x), 0);
    CHECK_EQ(rc_gc_callback_add(h, cb1, &y), 0);
    CHECK_EQ(rc_gc_callback_add(h, cb1, &x), 0);
    g_nvisits = 0;
    rc_gc_collect(h, 0);
    CHECK_EQ(g_nvisits, 6);
    CHECK_EQ(rc_gc_callback_remove(h, cb1, &x), 0);
    g_nvisits = 0;
    rc_gc_collect(h, 0);
    CHECK_EQ(g_nvisits, 4);
    CHECK_EQ(rc_gc_callback_remove(h, cb1, &x), 0);
    CHECK_EQ(rc_gc_callback_remove(h, cb1, &x), -1);
    CHECK_EQ(rc_gc_callback_remove(h, cb2, &y), -1);
    CHECK_EQ(rc_gc_callback_remove(h, cb1, &y), 0);
    g_nvisits = 0;
    rc_gc_collect(h, 0);
    CHECK_EQ(g_nvisits, 0);
    /* many callbacks (the table grows) */
    static int args[100];
    for (int i = 0; i < 100; i++)
        CHECK_EQ(rc_gc_callback_add(h, cb2, &args[i]), 0);
    g_nvisits = 0;
    rc_gc_collect(h, 0);
    CHECK_EQ(g_nvisits, 200);
    for (int i = 99; i >= 0; i -= 2)
        CHECK_EQ(rc_gc_callback_remove(h, cb2, &args[i]), 0);
    g_nvisits = 0;
    rc_gc_collect(h, 0);
    CHECK_EQ(g_nvisits, 100);
    for (int i = 0; i < 100; i += 2)
        CHECK_EQ(rc_gc_callback_remove(h, cb2, &args[i]), 0);
    GCT_END_HEAP(h);
}

/* A callback removes itself from inside the callback: it is not called
 * again, and the callbacks registered after it still see every phase of
 * every collection (START and STOP in pairs). */
static rc_gc_phase g_remove_at;

static void cb_remove_self(rc_heap *h, rc_gc_phase phase, const rc_gc_info *info, void *arg) {
    (void)arg;
    record(9, h, phase, info);
    if (phase == g_remove_at)
        rc_gc_callback_remove(h, cb_remove_self, NULL);
}

static void test_callback_removes_itself(void) {
    for (int at = 0; at < 2; at++) {
        rc_heap *h = gct_heap();
        g_remove_at = at == 0 ? RC_GC_START : RC_GC_STOP;
        rc_gc_callback_add(h, cb1, NULL);
        rc_gc_callback_add(h, cb_remove_self, NULL);
        rc_gc_callback_add(h, cb2, NULL);
        g_nvisits = 0;
        rc_gc_collect(h, 2);
        rc_gc_collect(h, 2);
        CHECK_EQ(count_visits(9, -1), at == 0 ? 1 : 2);
        CHECK_EQ(count_visits(1, RC_GC_START), 2);
        CHECK_EQ(count_visits(1, RC_GC_STOP), 2);
        CHECK_MSG(count_visits(2, RC_GC_START) == 2 && count_visits(2, RC_GC_STOP) == 2,
                  "removal at %s: the next callback saw %zu START and %zu STOP in two "
                  "collections (want 2 and 2)",
                  at == 0 ? "START" : "STOP", count_visits(2, RC_GC_START),
                  count_visits(2, RC_GC_STOP));
        rc_gc_callback_remove(h, cb1, NULL);
        rc_gc_callback_remove(h, cb2, NULL);
        GCT_END_HEAP(h);
    }
}

/* A callback removes another one (registered after it) at START: the
 * removed one is not called after its removal — not even later in the same
 * phase (its owner may free its arg right after removing it). */
static void cb_remove_cb2(rc_heap *h, rc_gc_phase phase, const rc_gc_info *info, void *arg) {
    (void)arg;
    record(9, h, phase, info);
    if (phase == RC_GC_START)
        rc_gc_callback_remove(h, cb2, NULL);
}

static void test_callback_removes_another(void) {
    rc_heap *h = gct_heap();
    rc_gc_callback_add(h, cb_remove_cb2, NULL);
    rc_gc_callback_add(h, cb2, NULL);
    g_nvisits = 0;
    rc_gc_collect(h, 2);
    rc_gc_collect(h, 2);
    CHECK_MSG(count_visits(2, -1) == 0,
              "a callback removed at START by an earlier one was still called %zu time(s) "
              "(%zu START, %zu STOP)",
              count_visits(2, -1), count_visits(2, RC_GC_START), count_visits(2, RC_GC_STOP));
    CHECK_EQ(count_visits(9, -1), 4);
    rc_gc_callback_remove(h, cb_remove_cb2, NULL);
    GCT_END_HEAP(h);
}

/* A callback adds another: from the next collection on, the new one gets
 * START and STOP; in the collection where it was added it gets both or
 * neither (never a STOP without its START). */
static int g_added;

static void cb_add_cb2(rc_heap *h, rc_gc_phase phase, const rc_gc_info *info, void *arg) {
    (void)arg;
    record(9, h, phase, info);
    if (phase == RC_GC_START && !g_added) {
        g_added = 1;
        /* force the table to grow while it is being walked */
        for (int i = 0; i < 20; i++)
            rc_gc_callback_add(h, cb2, NULL);
    }
}

static void test_callback_adds_another(void) {
    rc_heap *h = gct_heap();
    g_added = 0;
    rc_gc_callback_add(h, cb_add_cb2, NULL);
    g_nvisits = 0;
    rc_gc_collect(h, 2);
    CHECK_MSG(count_visits(2, RC_GC_START) == count_visits(2, RC_GC_STOP),
              "callbacks added at START: %zu START and %zu STOP calls in that collection",
              count_visits(2, RC_GC_START), count_visits(2, RC_GC_STOP));
    g_nvisits = 0;
    rc_gc_collect(h, 2);
    CHECK_EQ(count_visits(2, RC_GC_START), 20);
    CHECK_EQ(count_visits(2, RC_GC_STOP), 20);
    CHECK_EQ(count_visits(9, -1), 2);
    while (rc_gc_callback_remove(h, cb2, NULL) == 0)
        ;
    rc_gc_callback_remove(h, cb_add_cb2, NULL);
    GCT_END_HEAP(h);
}

/* Re-entrancy: rc_gc_collect from a gc callback returns 0 and changes
 * nothing. */
static intptr_t g_reentrant[2];

static void cb_collects(rc_heap *h, rc_gc_phase phase, const rc_gc_info *info, void *arg) {
    (void)info;
    (void)arg;
    g_reentrant[phase == RC_GC_STOP] = rc_gc_collect(h, 2);
    /* and allocating garbage is fine too */
    tn_garbage_self(h, &tnode_type, 77);
}

static void test_collect_from_callback(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    rc_gc_callback_add(h, cb_collects, NULL);
    tn_garbage_self(h, &tnode_type, 1);
    g_reentrant[0] = g_reentrant[1] = -5;
    size_t c2 = gct_collections(h, 2);
    /* START made one more self-loop before the collection looked: 2 found */
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(g_reentrant[0], 0);
    CHECK_EQ(g_reentrant[1], 0);
    CHECK_EQ(gct_collections(h, 2), c2 + 1);
    CHECK_EQ(rc_live_objects(h), 1); /* the one made at STOP */
    rc_gc_callback_remove(h, cb_collects, NULL);
    CHECK_EQ(rc_gc_collect(h, 2), 1);
    GCT_END_HEAP(h);
}

/* ---- The garbage list and uncollectable groups ---------------------------------------------------- */

/* test_legacy_finalizer: an uncollectable self-loop goes to the garbage
 * list (which holds a reference), a collectable one does not; the program
 * breaks the cycle by hand and empties the list. */
static void test_uncollectable_in_garbage(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    tnode *a = tn_new(h, &tnoclear_type, 1);
    tn_set(a, 0, a);
    tnode *b = tn_new(h, &tnode_type, 2);
    tn_set(b, 0, b);
    rc_gc_collect(h, 2);
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(rc_gc_garbage_count(h), 1);
    CHECK_PTR_EQ(rc_gc_garbage_get(h, 0), a);
    CHECK_NULL(rc_gc_garbage_get(h, 1));
    CHECK_NULL(rc_gc_garbage_get(h, (size_t)-1));
    CHECK_EQ(rc_refcount(a), 2); /* its own, and the list's */
    CHECK(rc_gc_is_tracked(a));
    CHECK_EQ(gct_in_generation(h, 2, a), 1);
    /* while in the list it is reachable: not found again */
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    CHECK_EQ(rc_gc_garbage_count(h), 1);
    /* del obj.a; gc.garbage.remove(obj) */
    tn_set(a, 0, NULL);
    rc_gc_garbage_clear(h);
    CHECK_EQ(rc_gc_garbage_count(h), 0);
    CHECK_EQ(rc_live_objects(h), 0);
    rc_gc_garbage_clear(h); /* empty: no-op */
    GCT_END_HEAP(h);
}

/* Emptying the list without breaking the cycle: the next collection finds
 * the group again and puts it back. */
static void test_uncollectable_found_again(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    make_uncollectable_pair(h);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(rc_gc_garbage_count(h), 2);
    rc_gc_garbage_clear(h);
    CHECK_EQ(rc_live_objects(h), 2);
    CHECK_EQ(rc_gc_collect(h, 0), 0); /* they are in gen 2 */
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(rc_gc_garbage_count(h), 2);
    rc_gc_gen_stats s[3];
    rc_gc_get_stats(h, s);
    CHECK_EQ(s[2].uncollectable, 4);
    CHECK_EQ(s[2].collected, 0);
    GCT_END_HEAP(h);
}

/* Which groups are uncollectable: only those where nothing has a clear. */
static void test_uncollectable_groups(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    /* 1. a ring of 3 without clear: all 3 uncollectable */
    rc_decref(tn_ring(h, &tnoclear_type, 3, 0, NULL));
    CHECK_EQ(rc_gc_collect(h, 2), 3);
    CHECK_EQ(rc_gc_garbage_count(h), 3);
    gct_release_garbage(h);
    CHECK_EQ(rc_live_objects(h), 0);
    /* 2. the same ring with one clearable member: collectable */
    tnode *r[4];
    tnode *first = tn_ring(h, &tnoclear_type, 4, 0, r);
    {
        /* swap r[2] for a clearable object in the ring */
        tnode *c = tn_new(h, &tnode_type, 99);
        tn_set(c, 0, r[3]);
        tn_set(r[1], 0, c); /* r[2] dies here, by refcount */
        rc_decref(c);
    }
    rc_decref(first);
    CHECK_EQ(rc_gc_collect(h, 2), 4);
    CHECK_EQ(rc_gc_garbage_count(h), 0);
    CHECK_EQ(rc_live_objects(h), 0);
    /* 3. unclearable objects hanging off a collectable cycle (no cycle of
     * their own) are freed with it */
    tnode *cyc = tn_new(h, &tnode_type, 1);
    tn_set(cyc, 0, cyc);
    for (int i = 0; i < 2; i++) {
        tnode *nc = tn_new(h, &tnoclear_type, 10 + i);
        tn_set(cyc, 1 + i, nc);
        rc_decref(nc);
    }
    rc_decref(cyc);
    CHECK_EQ(rc_gc_collect(h, 2), 3);
    CHECK_EQ(rc_gc_garbage_count(h), 0);
    CHECK_EQ(rc_live_objects(h), 0);
    /* 4. an unclearable cycle hanging off a collectable one: it alone is
     * uncollectable */
    cyc = tn_new(h, &tnode_type, 1);
    tn_set(cyc, 0, cyc);
    tnode *u1 = tn_new(h, &tnoclear_type, 2), *u2 = tn_new(h, &tnoclear_type, 3);
    tn_set(u1, 0, u2);
    tn_set(u2, 0, u1);
    tn_set(cyc, 1, u1);
    rc_decref(u1);
    rc_decref(u2);
    rc_decref(cyc);
    CHECK_EQ(rc_gc_collect(h, 2), 3);
    CHECK_EQ(rc_gc_garbage_count(h), 2);
    CHECK_EQ(gct_in_garbage(h, u1) + gct_in_garbage(h, u2), 2);
    CHECK_EQ(rc_live_objects(h), 2);
    gct_release_garbage(h);
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* An uncollectable object with a finalizer: the finalizer runs once (all
 * unreachable objects are finalized before the collector tries to break
 * their cycles), the object goes to the garbage list, and later
 * collections never run it again. */
static void fin_count(void *o) { ((tnode *)o)->fin_calls++; }

static const rc_type tnoclear_fin_type = {
    .name = "tnoclear_fin",
    .size = sizeof(tnode),
    .flags = RC_TYPE_GC,
    .traverse = tn_traverse,
    .finalize = fin_count,
    .destroy = tn_destroy,
};

static void test_uncollectable_with_finalizer(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    tnode *a = tn_new(h, &tnoclear_fin_type, 1);
    tn_set(a, 0, a);
    rc_decref(a);
    CHECK_EQ(rc_gc_collect(h, 2), 1);
    CHECK_EQ(a->fin_calls, 1);
    CHECK(rc_gc_is_finalized(a));
    CHECK_EQ(gct_in_garbage(h, a), 1);
    for (int i = 0; i < 3; i++) {
        rc_gc_garbage_clear(h);
        CHECK_EQ(rc_gc_collect(h, 2), 1);
    }
    CHECK_EQ(a->fin_calls, 1);
    tn_destroy(a); /* break the cycle by hand */
    rc_gc_garbage_clear(h);
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* test_saveall: with SAVEALL every unreachable object goes to the garbage
 * list without being cleared, and stays tracked. */
static void test_saveall(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    rc_gc_collect(h, 2);
    CHECK_EQ(rc_gc_garbage_count(h), 0);
    tnode *l = tn_new(h, &tnode_type, 1);
    tn_set(l, 0, l);
    unsigned debug = rc_gc_get_debug(h);
    rc_gc_set_debug(h, debug | RC_GC_DEBUG_SAVEALL, NULL);
    CHECK_EQ(rc_gc_get_debug(h), debug | RC_GC_DEBUG_SAVEALL);
    rc_decref(l);
    tnode *nc = tn_new(h, &tnoclear_type, 2);
    tn_set(nc, 0, nc);
    rc_decref(nc);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    rc_gc_set_debug(h, debug, NULL);
    CHECK_EQ(rc_gc_garbage_count(h), 2);
    CHECK_EQ(gct_in_garbage(h, l), 1);
    CHECK_EQ(gct_in_garbage(h, nc), 1);
    CHECK_PTR_EQ(l->ref[0], l); /* not cleared */
    CHECK_EQ(l->clear_calls, 0);
    CHECK(rc_gc_is_tracked(l));
    rc_gc_gen_stats s[3];
    rc_gc_get_stats(h, s);
    CHECK_EQ(s[2].collected, 2); /* "freed or saved" */
    /* saved objects are held by the list: not found again */
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    /* gc.garbage[:] = []: now they are ordinary garbage */
    rc_gc_garbage_clear(h);
    CHECK_EQ(rc_live_objects(h), 2);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(rc_live_objects(h), 1); /* the unclearable one went back */
    CHECK_EQ(rc_gc_garbage_count(h), 1);
    GCT_END_HEAP(h);
}

/* ---- Debug output ---------------------------------------------------------------------------------- */

static FILE *open_tmp(void) {
    FILE *f = tmpfile();
    if (!f) {
        fprintf(stderr, "tmpfile failed\n");
        exit(2);
    }
    return f;
}

static void test_debug_stats(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    FILE *f = open_tmp();
    rc_gc_set_debug(h, RC_GC_DEBUG_STATS, f);
    CHECK_EQ(rc_gc_get_debug(h), RC_GC_DEBUG_STATS);
    tn_garbage_self(h, &tnode_type, 1);
    make_uncollectable_pair(h);
    rc_gc_collect(h, 1);
    rc_gc_set_debug(h, 0, NULL);
    const char *out = gct_read_file(f);
    CHECK_STR_CONTAINS(out, "gc: collecting generation 1");
    CHECK_STR_CONTAINS(out, "gc: objects in each generation:");
    CHECK_STR_CONTAINS(out, "gc: done, 3 unreachable, 2 uncollectable");
    CHECK_EQ(gct_count_lines(out, "gc: collectable <"), 0);
    CHECK_EQ(gct_count_lines(out, "gc: uncollectable <"), 0);
    /* with the flags off nothing more is written */
    long size = ftell(f);
    rc_gc_collect(h, 2);
    fflush(f);
    CHECK_EQ(ftell(f), size);
    fclose(f);
    GCT_END_HEAP(h);
}

static void test_debug_collectable_uncollectable(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    FILE *f = open_tmp();
    rc_gc_set_debug(h, RC_GC_DEBUG_COLLECTABLE, f);
    tn_garbage_self(h, &tnode_type, 1);
    tn_garbage_self(h, &tnode_type, 2);
    rc_gc_collect(h, 2);
    const char *out = gct_read_file(f);
    CHECK_EQ(gct_count_lines(out, "gc: collectable <tnode "), 2);
    CHECK_EQ(gct_count_lines(out, "gc: uncollectable <"), 0);
    CHECK_EQ(gct_count_lines(out, "gc: collecting generation"), 0);
    fclose(f);

    f = open_tmp();
    rc_gc_set_debug(h, RC_GC_DEBUG_UNCOLLECTABLE, f);
    tn_garbage_self(h, &tnode_type, 1);
    make_uncollectable_pair(h);
    rc_gc_collect(h, 2);
    out = gct_read_file(f);
    CHECK_EQ(gct_count_lines(out, "gc: uncollectable <tnoclear "), 2);
    CHECK_EQ(gct_count_lines(out, "gc: collectable <"), 0);
    fclose(f);
    gct_release_garbage(h);
    rc_gc_set_debug(h, 0, NULL);
    GCT_END_HEAP(h);
}

/* With both flags, each unreachable object is reported once, as what it
 * turned out to be (as CPython does: its "collectable" lines exclude the
 * objects it reports as uncollectable). */
static void test_debug_each_object_reported_once(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    FILE *f = open_tmp();
    rc_gc_set_debug(h, RC_GC_DEBUG_COLLECTABLE | RC_GC_DEBUG_UNCOLLECTABLE, f);
    tn_garbage_self(h, &tnode_type, 1);
    make_uncollectable_pair(h);
    rc_gc_collect(h, 2);
    const char *out = gct_read_file(f);
    CHECK_EQ(gct_count_lines(out, "gc: uncollectable <tnoclear "), 2);
    CHECK_EQ(gct_count_lines(out, "gc: collectable <tnode "), 1);
    CHECK_MSG(gct_count_lines(out, "gc: collectable <tnoclear ") == 0,
              "uncollectable objects also reported as collectable:\n%s", out);
    fclose(f);
    gct_release_garbage(h);
    rc_gc_set_debug(h, 0, NULL);
    GCT_END_HEAP(h);
}

/* Every object of the garbage is reported, also those freed through the
 * deferred-deallocation path (a chain deeper than RC_DEALLOC_DEPTH). */
static void test_debug_collectable_deep(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    FILE *f = open_tmp();
    rc_gc_set_debug(h, RC_GC_DEBUG_COLLECTABLE, f);
    enum { DEPTH = 1000 };
    tnode *head = tn_new(h, &tnode_type, 0);
    tn_set(head, 0, head);
    tnode *cur = head;
    for (int i = 0; i < DEPTH; i++) {
        tnode *x = tn_new(h, &tnode_type, i + 1);
        cur->ref[1] = x; /* steal */
        cur = x;
    }
    rc_decref(head);
    CHECK_EQ(rc_gc_collect(h, 2), DEPTH + 1);
    rc_gc_set_debug(h, 0, NULL);
    const char *out = gct_read_file(f);
    CHECK_MSG(gct_count_lines(out, "gc: collectable <tnode ") == DEPTH + 1,
              "%d \"collectable\" lines for %d garbage objects",
              gct_count_lines(out, "gc: collectable <tnode "), DEPTH + 1);
    fclose(f);
    GCT_END_HEAP(h);
}

/* Objects outside the collected set that die as a consequence (an old
 * object held only by young garbage, a non-container) are not reported as
 * collectable: only the garbage found is. */
static void test_debug_collectable_only_the_set(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    FILE *f = open_tmp();
    tnode *old = tn_new(h, &tnode_type, 1);
    rc_gc_collect(h, 1); /* gen 2 */
    tnode *y = tn_new(h, &tnode_type, 2);
    tn_set(y, 0, y);
    tn_set(y, 1, old);
    tnode *leaf = tn_new(h, &tleaf_type, 3);
    tn_set(y, 2, leaf);
    rc_decref(leaf);
    rc_decref(old);
    rc_decref(y);
    rc_gc_set_debug(h, RC_GC_DEBUG_COLLECTABLE, f);
    CHECK_EQ(rc_gc_collect(h, 0), 1);
    rc_gc_set_debug(h, 0, NULL);
    const char *out = gct_read_file(f);
    CHECK_EQ(gct_count_lines(out, "gc: collectable <"), 1);
    CHECK_EQ(rc_live_objects(h), 0);
    fclose(f);
    GCT_END_HEAP(h);
}

/* DEBUG_LEAK = COLLECTABLE | UNCOLLECTABLE | SAVEALL: everything reported
 * and kept. */
static void test_debug_leak(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    FILE *f = open_tmp();
    rc_gc_set_debug(h, RC_GC_DEBUG_LEAK | RC_GC_DEBUG_STATS, f);
    CHECK_EQ(rc_gc_get_debug(h), RC_GC_DEBUG_LEAK | RC_GC_DEBUG_STATS);
    for (int i = 0; i < 3; i++)
        tn_garbage_self(h, &tnode_type, i);
    CHECK_EQ(rc_gc_collect(h, 2), 3);
    const char *out = gct_read_file(f);
    CHECK_STR_CONTAINS(out, "gc: collecting generation 2");
    CHECK_EQ(gct_count_lines(out, "gc: collectable <tnode "), 3);
    CHECK_EQ(rc_gc_garbage_count(h), 3);
    CHECK_EQ(rc_live_objects(h), 3);
    fclose(f);
    rc_gc_set_debug(h, 0, NULL);
    GCT_END_HEAP(h);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_callbacks_collect);
    RUN_TEST(test_callbacks_generation);
    RUN_TEST(test_callbacks_collect_garbage);
    RUN_TEST(test_callback_add_remove);
    RUN_TEST(test_callback_removes_itself);
    RUN_TEST(test_callback_removes_another);
    RUN_TEST(test_callback_adds_another);
    RUN_TEST(test_collect_from_callback);
    RUN_TEST(test_uncollectable_in_garbage);
    RUN_TEST(test_uncollectable_found_again);
    RUN_TEST(test_uncollectable_groups);
    RUN_TEST(test_uncollectable_with_finalizer);
    RUN_TEST(test_saveall);
    RUN_TEST(test_debug_stats);
    RUN_TEST(test_debug_collectable_uncollectable);
    RUN_TEST(test_debug_each_object_reported_once);
    RUN_TEST(test_debug_collectable_deep);
    RUN_TEST(test_debug_collectable_only_the_set);
    RUN_TEST(test_debug_leak);
    return check_summary();
}
