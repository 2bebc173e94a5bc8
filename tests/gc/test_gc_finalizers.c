/*
 * test_gc_finalizers.c — cycles through finalizers (PEP 442): every
 * finalizer runs exactly once, before any object of the garbage is
 * cleared; what a finalizer resurrects survives with everything it reaches
 * and is not finalized again; resurrection does not keep other garbage
 * alive; collections started from finalizers (inside a collection: refused
 * with 0; outside: a real collection in the middle of a deallocation).
 *
 * test_gc.py counterparts: test_is_finalized, test_resurrection_only_
 * happens_once_per_object, test_resurrection_is_transitive,
 * test_resurrection_does_not_block_cleanup_of_other_objects, test_del /
 * test_del_newclass (collection triggered from __del__), test_trashcan
 * (__del__ calling gc.collect() during deep deallocations), test_bug21435
 * (a finalizer mutating its object during the collection).
 */
#include "gctest.h"

/* ---- Once each, before any clear ---------------------------------------------------- */

static long g_cleared_seen_by_finalizers;

static void note_clears(tnode *self) {
    (void)self;
    g_cleared_seen_by_finalizers += gct_clear_total;
}

static void check_slots_whole(tnode *self) {
    /* the finalizer sees its object whole: nothing in the group is cleared */
    note_clears(self);
    if (!self->ref[0])
        g_cleared_seen_by_finalizers += 1000;
}

static void test_cycle_of_finalizers(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    gct_reset_counters();
    g_cleared_seen_by_finalizers = 0;
    tnode *ring[10];
    tnode *first = tn_ring(h, &tfin_type, 10, 0, ring);
    for (int i = 0; i < 10; i++) {
        ring[i]->on_finalize = check_slots_whole;
        tn_set(ring[i], 1, ring[(i + 3) % 10]);
    }
    rc_decref(first);
    CHECK_EQ(rc_gc_collect(h, 2), 10);
    CHECK_EQ(gct_fin_total, 10);
    CHECK_GE(gct_clear_total, 1); /* the rest may die by refcount meanwhile */
    CHECK_EQ(g_cleared_seen_by_finalizers, 0);
    CHECK_EQ(rc_live_objects(h), 0);
    CHECK_EQ(rc_gc_garbage_count(h), 0);
    GCT_END_HEAP(h);
}

/* Mixed group: finalizer objects, plain ones, a non-container with a
 * finalizer hanging off the cycle (it dies by refcount when the cycle is
 * cleared, and its finalizer runs then, once). */
static void test_mixed_group(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    gct_reset_counters();
    tnode *a = tn_new(h, &tfin_type, 1), *b = tn_new(h, &tnode_type, 2);
    tnode *c = tn_new(h, &tfin_type, 3), *leaf = tn_new(h, &tleaf_type, 4);
    tn_set(a, 0, b);
    tn_set(b, 0, c);
    tn_set(c, 0, a);
    tn_set(b, 1, leaf);
    rc_decref(leaf);
    rc_decref(a);
    rc_decref(b);
    rc_decref(c);
    CHECK_EQ(rc_gc_collect(h, 2), 3); /* containers only */
    CHECK_EQ(gct_fin_total, 3);
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* ---- is_finalized ------------------------------------------------------------------- */

static void lazarus(tnode *self) { gct_save_ref(self); }

/* test_is_finalized: by reference counting, then by the collector. */
static void test_is_finalized(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    gct_reset_counters();
    tnode *leaf = tn_new(h, &tleaf_type, 1);
    CHECK(!rc_gc_is_finalized(leaf));
    CHECK(!rc_is_finalized(leaf));
    rc_decref(leaf);

    tnode *laz = tn_new(h, &tfin_type, 2);
    laz->on_finalize = lazarus;
    CHECK(!rc_gc_is_finalized(laz));
    rc_decref(laz); /* finalizer runs and resurrects */
    CHECK_EQ(gct_nsaved, 1);
    CHECK_PTR_EQ(gct_saved[0], laz);
    CHECK(rc_gc_is_finalized(laz));
    CHECK_EQ(laz->fin_calls, 1);
    gct_drop_saved(); /* second death: no finalizer */
    CHECK_EQ(gct_fin_total, 2); /* the leaf's and laz's */
    CHECK_EQ(rc_live_objects(h), 0);

    /* in a cycle: the collector runs the finalizer */
    tnode *cyc = tn_new(h, &tfin_type, 3);
    tn_set(cyc, 0, cyc);
    cyc->on_finalize = lazarus;
    rc_decref(cyc);
    CHECK(!rc_gc_is_finalized(cyc));
    CHECK_EQ(rc_gc_collect(h, 2), 0); /* resurrected: nothing collected */
    CHECK_EQ(gct_nsaved, 1);
    CHECK(rc_gc_is_finalized(cyc));
    CHECK_EQ(cyc->fin_calls, 1);
    CHECK_PTR_EQ(cyc->ref[0], cyc); /* not cleared */
    CHECK_EQ(cyc->clear_calls, 0);
    gct_drop_saved();
    CHECK_EQ(rc_gc_collect(h, 2), 1);
    CHECK_EQ(gct_fin_total, 3);
    GCT_END_HEAP(h);
}

/* ---- Resurrection ---------------------------------------------------------------------- */

/* test_resurrection_only_happens_once_per_object. */
static void test_resurrection_only_once(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    gct_reset_counters();
    tnode *laz = tn_new(h, &tfin_type, 1);
    tn_set(laz, 0, laz);
    laz->on_finalize = lazarus;
    rc_decref(laz);
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    CHECK_EQ(gct_fin_total, 1);
    CHECK_EQ(gct_nsaved, 1);
    gct_drop_saved();
    CHECK_EQ(rc_gc_collect(h, 2), 1);
    CHECK_EQ(gct_fin_total, 1); /* not resurrected again */
    CHECK_EQ(gct_nsaved, 0);
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* A finalizer that resurrects its object and takes it out of the collector
 * while the collection is still going on (the object is in the unreachable
 * set, with the collection's marks on it).  Tracked again later, it must
 * behave as any container: survive while held, be found in a cycle once
 * dropped, and leave the generations consistent. */
static void lazarus_untracked(tnode *self) {
    gct_save_ref(self);
    rc_gc_untrack(self);
}

static void test_untracked_by_its_finalizer(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    gct_reset_counters();
    tnode *laz = tn_new(h, &tfin_type, 1);
    tnode *mate = tn_new(h, &tnode_type, 2);
    tn_set(laz, 0, mate); /* a 2-cycle, garbage once dropped */
    tn_set(mate, 0, laz);
    laz->on_finalize = lazarus_untracked;
    rc_decref(mate);
    rc_decref(laz);
    CHECK_EQ(rc_gc_collect(h, 2), 0); /* resurrected: nothing found */
    CHECK_EQ(gct_nsaved, 1);
    CHECK(!rc_gc_is_tracked(laz));
    CHECK(rc_gc_is_tracked(mate)); /* it came back with laz, still tracked */
    CHECK_EQ(rc_live_objects(h), 2);
    /* Tracked again, and the mate held from outside too, so that a full
     * collection meets the mate first (it has been in generation 2 since the
     * first collection) and marks laz through it before laz's own turn:
     * laz must carry none of the first collection's marks by then. */
    gct_save_ref(mate);
    rc_gc_track(laz);
    CHECK(rc_gc_is_tracked(laz));
    for (int gen = 2; gen >= 0; gen--) {
        CHECK_EQ(rc_gc_collect(h, gen), 0);
        CHECK_EQ(rc_live_objects(h), 2);
    }
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    CHECK_EQ(gct_in_generation(h, 2, laz), 1);
    /* Dropped: the cycle is garbage now (the finalizer already ran once). */
    gct_drop_saved();
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(gct_fin_total, 1);
    CHECK_EQ(rc_live_objects(h), 0);
    CHECK_EQ(rc_gc_generation_size(h, 0) + rc_gc_generation_size(h, 1) +
                 rc_gc_generation_size(h, 2),
             0);
    GCT_END_HEAP(h);
}

/* test_resurrection_is_transitive: Lazarus <-> cargo (a self-loop too);
 * Lazarus resurrects itself; the cargo comes back with it, intact. */
static void test_resurrection_is_transitive(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    gct_reset_counters();
    tnode *laz = tn_new(h, &tfin_type, 1);
    tnode *cargo = tn_new(h, &tnode_type, 2);
    tn_set(cargo, 0, cargo);
    tn_set(laz, 1, cargo);
    tn_set(cargo, 1, laz);
    laz->on_finalize = lazarus;
    rc_decref(laz);
    rc_decref(cargo);
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    CHECK_EQ(gct_nsaved, 1);
    CHECK_PTR_EQ(gct_saved[0], laz);
    CHECK_PTR_EQ(laz->ref[1], cargo);
    CHECK_PTR_EQ(cargo->ref[0], cargo);
    CHECK_PTR_EQ(cargo->ref[1], laz);
    CHECK_EQ(cargo->clear_calls + laz->clear_calls, 0);
    CHECK_EQ(rc_live_objects(h), 2);
    /* the survivors are tracked (in the oldest generation) */
    CHECK(rc_gc_is_tracked(laz));
    CHECK(rc_gc_is_tracked(cargo));
    CHECK_EQ(gct_in_generation(h, 2, cargo), 1);
    gct_drop_saved();
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(gct_fin_total, 1);
    GCT_END_HEAP(h);
}

/* A finalizer resurrects one object of a cycle (not itself): nothing
 * reachable from it is freed or cleared; a later collection after dropping
 * it frees everything without calling any finalizer again. */
static void resurrect_user(tnode *self) { gct_save_ref(self->user); }

static void test_resurrect_one_object_of_cycle(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    gct_reset_counters();
    /* ring of 6 finalizer objects: r0 -> r1 -> ... -> r5 -> r0; r3 also
     * points to a tail self-loop; r2's finalizer resurrects r4. */
    tnode *r[6];
    tnode *first = tn_ring(h, &tfin_type, 6, 0, r);
    tnode *tail = tn_new(h, &tnode_type, 10);
    tn_set(tail, 0, tail);
    tn_set(r[3], 1, tail);
    rc_decref(tail);
    r[2]->user = r[4];
    r[2]->on_finalize = resurrect_user;
    /* unrelated garbage in the same collection */
    tn_garbage_self(h, &tfin_type, 20);
    tn_garbage_self(h, &tnode_type, 21);
    rc_decref(first);
    CHECK_EQ(rc_live_objects(h), 9);
    /* r4 reaches the whole ring and the tail: all 7 survive */
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(rc_live_objects(h), 7);
    CHECK_EQ(gct_fin_total, 7); /* the 6 of the ring, and #20 */
    for (int i = 0; i < 6; i++) {
        CHECK_EQ(r[i]->fin_calls, 1);
        CHECK_EQ(r[i]->clear_calls, 0);
        CHECK_NOT_NULL(r[i]->ref[0]);
        CHECK_PTR_EQ(r[i]->ref[0], r[(i + 1) % 6]);
    }
    CHECK_PTR_EQ(r[3]->ref[1], tail);
    CHECK_PTR_EQ(tail->ref[0], tail);
    CHECK_EQ(tail->clear_calls, 0);
    /* a second collection while r4 is held: nothing happens */
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    CHECK_EQ(gct_fin_total, 7);
    gct_drop_saved();
    CHECK_EQ(rc_gc_collect(h, 2), 7);
    CHECK_EQ(gct_fin_total, 7); /* no finalizer ran again */
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* A finalizer resurrects an object that only part of the garbage reaches:
 * the rest is collected in the same collection. */
static void test_partial_resurrection(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    gct_reset_counters();
    /* a <-> b, b -> c (c self-loop), and c's finalizer resurrects c: a and
     * b still go, c stays */
    tnode *a = tn_new(h, &tfin_type, 1), *b = tn_new(h, &tnode_type, 2);
    tnode *c = tn_new(h, &tfin_type, 3);
    tn_set(a, 0, b);
    tn_set(b, 0, a);
    tn_set(b, 1, c);
    tn_set(c, 0, c);
    c->on_finalize = lazarus;
    rc_decref(a);
    rc_decref(b);
    rc_decref(c);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(rc_live_objects(h), 1);
    CHECK_EQ(gct_nsaved, 1);
    CHECK_PTR_EQ(gct_saved[0], c);
    CHECK_PTR_EQ(c->ref[0], c);
    CHECK_EQ(c->clear_calls, 0);
    CHECK_EQ(rc_refcount(c), 2); /* saved + self; b's reference went */
    gct_drop_saved();
    CHECK_EQ(rc_gc_collect(h, 2), 1);
    CHECK_EQ(gct_fin_total, 2);
    GCT_END_HEAP(h);
}

/* test_resurrection_does_not_block_cleanup_of_other_objects: collect()'s
 * result and the statistics count only what was really collected. */
static size_t collected2(rc_heap *h) {
    rc_gc_gen_stats s[3];
    rc_gc_get_stats(h, s);
    return s[2].collected;
}

static void test_resurrection_does_not_block_cleanup(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    gct_reset_counters();
    enum { N = 100 };
    size_t c0 = collected2(h);
    for (int i = 0; i < N; i++)
        tn_garbage_self(h, &tnode_type, i);
    CHECK_EQ(rc_gc_collect(h, 2), N);
    CHECK_EQ(collected2(h) - c0, N);
    /* a resurrecting self-loop alone: nothing collected */
    c0 = collected2(h);
    tnode *z = tn_new(h, &tfin_type, 100);
    tn_set(z, 0, z);
    z->on_finalize = lazarus;
    rc_decref(z);
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    CHECK_EQ(collected2(h) - c0, 0);
    /* with other garbage: the others go */
    c0 = collected2(h);
    for (int i = 0; i < N; i++)
        tn_garbage_self(h, &tnode_type, i);
    tnode *z2 = tn_new(h, &tfin_type, 101);
    tn_set(z2, 0, z2);
    z2->on_finalize = lazarus;
    rc_decref(z2);
    CHECK_EQ(rc_gc_collect(h, 2), N);
    CHECK_EQ(collected2(h) - c0, N);
    CHECK_EQ(rc_gc_garbage_count(h), 0);
    /* the two resurrected ones, once dropped */
    c0 = collected2(h);
    CHECK_EQ(gct_nsaved, 2);
    gct_drop_saved();
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(collected2(h) - c0, 2);
    CHECK_EQ(gct_fin_total, 2);
    GCT_END_HEAP(h);
}

/* A finalizer resurrects its object by storing it in a brand-new container
 * (made during the collection) that the program keeps. */
static tnode *g_box;

static void resurrect_into_new_box(tnode *self) {
    g_box = tn_new(rc_heap_of(self), &tnode_type, 99);
    tn_set(g_box, 0, self);
}

static void test_resurrect_into_new_container(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    gct_reset_counters();
    tnode *a = tn_new(h, &tfin_type, 1), *b = tn_new(h, &tfin_type, 2);
    tn_set(a, 0, b);
    tn_set(b, 0, a);
    a->on_finalize = resurrect_into_new_box;
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    CHECK_NOT_NULL(g_box);
    CHECK_EQ(rc_live_objects(h), 3);
    CHECK_EQ(gct_in_generation(h, 0, g_box), 1);
    CHECK_PTR_EQ(a->ref[0], b);
    CHECK_PTR_EQ(b->ref[0], a);
    rc_decref(g_box);
    g_box = NULL;
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(gct_fin_total, 2);
    GCT_END_HEAP(h);
}

/* The first marking pass notes objects that refer to nothing in the set
 * (docs/gc.md, "Childless objects"), so the second need not list their
 * references.  A finalizer may give such an object a reference and
 * resurrect it: the marking after finalizers must list it again, or what it
 * now refers to would be freed under it.  F (self-loop) -> A (no
 * references); B (self-loop).  F's finalizer stores B into A and saves A. */
static void give_a_child_and_save(tnode *self) {
    tnode *a = self->ref[0];
    tn_set(a, 0, self->user);
    gct_save_ref(a);
}

static void test_finalizer_gives_childless_object_a_child(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    gct_reset_counters();
    tnode *f = tn_new(h, &tfin_type, 1);
    tnode *a = tn_new(h, &tnode_type, 2);
    tnode *b = tn_new(h, &tnode_type, 3);
    tn_set(f, 0, a);
    tn_set(f, 1, f);
    tn_set(b, 0, b);
    f->user = b;
    f->on_finalize = give_a_child_and_save;
    rc_decref(f);
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(rc_gc_collect(h, 2), 1); /* F alone */
    CHECK_EQ(gct_fin_total, 1);
    CHECK_EQ(gct_nsaved, 1);
    CHECK_PTR_EQ(gct_saved[0], a);
    CHECK_EQ(rc_live_objects(h), 2);
    CHECK_PTR_EQ(a->ref[0], b);
    CHECK_PTR_EQ(b->ref[0], b);
    CHECK_EQ(a->clear_calls + b->clear_calls, 0);
    CHECK(rc_gc_is_tracked(a));
    CHECK(rc_gc_is_tracked(b));
    gct_drop_saved();
    CHECK_EQ(rc_live_objects(h), 1); /* A died by refcount; B's self-loop stays */
    CHECK_EQ(rc_gc_collect(h, 2), 1);
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* Finalizers that change the garbage graph: one breaks the cycle (its
 * partner then dies by refcount in the middle of the finalization pass), one
 * drops a reference to an object whose finalizer has not run yet. */
static void break_my_cycle(tnode *self) {
    for (int i = 0; i < TN_SLOTS; i++) {
        void *r = self->ref[i];
        self->ref[i] = NULL;
        rc_decref(r);
    }
}

static void test_finalizer_breaks_cycle(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    for (int variant = 0; variant < 4; variant++) {
        gct_reset_counters();
        /* a ring of 5; variant picks which one breaks its link */
        tnode *r[5];
        tnode *first = tn_ring(h, &tfin_type, 5, 0, r);
        r[variant]->on_finalize = break_my_cycle;
        if (variant == 3) /* and another one too */
            r[0]->on_finalize = break_my_cycle;
        rc_decref(first);
        intptr_t found = rc_gc_collect(h, 2);
        /* everything freed by refcounting during finalization: what is left
         * to count is at most the 5 */
        CHECK_LE(found, 5);
        CHECK_EQ(gct_fin_total, 5);
        CHECK_EQ(rc_live_objects(h), 0);
        CHECK_EQ(rc_gc_garbage_count(h), 0);
    }
    GCT_END_HEAP(h);
}

/* test_bug21435: B's finalizer assigns to B during the collection; B holds
 * an A; a <-> b. */
static void set_attr_none(tnode *self) { tn_set(self, 2, NULL); }

static void test_bug21435(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    gct_reset_counters();
    for (int round = 0; round < 10; round++) {
        tnode *a = tn_new(h, &tnode_type, 1);
        tnode *b = tn_new(h, &tfin_type, 2);
        tnode *x = tn_new(h, &tnode_type, 3);
        tn_set(b, 1, x); /* B(A()) */
        rc_decref(x);
        tn_set(b, 2, a);
        b->on_finalize = set_attr_none;
        tn_set(a, 0, b);
        tn_set(b, 0, a);
        rc_decref(a);
        rc_decref(b);
        rc_gc_collect(h, 2);
        CHECK_EQ(rc_live_objects(h), 0);
    }
    CHECK_EQ(gct_fin_total, 10);
    GCT_END_HEAP(h);
}

/* ---- Collections started from finalizers ---------------------------------------------- */

static intptr_t g_nested_result[16];
static int g_nested_calls;

static void collect_from_finalizer(tnode *self) {
    intptr_t r = rc_gc_collect(rc_heap_of(self), 2);
    if (g_nested_calls < 16)
        g_nested_result[g_nested_calls] = r;
    g_nested_calls++;
}

/* Inside a collection: refused (0), and the outer collection completes. */
static void test_collect_in_finalizer_during_collection(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    gct_reset_counters();
    g_nested_calls = 0;
    tnode *r[4];
    tnode *first = tn_ring(h, &tfin_type, 4, 0, r);
    for (int i = 0; i < 4; i++)
        r[i]->on_finalize = collect_from_finalizer;
    rc_decref(first);
    tn_garbage_self(h, &tnode_type, 10);
    size_t colls = gct_collections(h, 2);
    CHECK_EQ(rc_gc_collect(h, 2), 5);
    CHECK_EQ(g_nested_calls, 4);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(g_nested_result[i], 0);
    CHECK_EQ(gct_collections(h, 2), colls + 1); /* the nested calls did not count */
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* Outside a collection (the finalizer runs because a count reached zero):
 * a real collection runs in the middle of the deallocation and must not
 * disturb it — the dying object, its children, other garbage. */
static void test_collect_in_finalizer_refcount(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    gct_reset_counters();
    g_nested_calls = 0;
    for (int i = 0; i < 7; i++)
        tn_garbage_self(h, &tnode_type, i);
    /* the dying object holds a cycle member and is held by nothing else */
    tnode *dying = tn_new(h, &tfin_type, 100);
    tnode *child = tn_new(h, &tnode_type, 101);
    tn_set(child, 0, child);
    tn_set(dying, 0, child);
    rc_decref(child);
    dying->on_finalize = collect_from_finalizer;
    rc_decref(dying);
    CHECK_EQ(g_nested_calls, 1);
    CHECK_EQ(g_nested_result[0], 7); /* the old garbage, not the child */
    CHECK_EQ(rc_live_objects(h), 1); /* the child, now garbage */
    CHECK_EQ(rc_gc_collect(h, 2), 1);
    CHECK_EQ(gct_fin_total, 1);
    GCT_END_HEAP(h);
}

/* test_trashcan: deep structures whose elements' finalizers call
 * rc_gc_collect every 17th time, with automatic collection on and a tiny
 * threshold, so collections happen during deferred (trashcan)
 * deallocation. */
static long g_ouch;

static void ouch(tnode *self) {
    if (++g_ouch % 17 == 0)
        rc_gc_collect(rc_heap_of(self), 2);
}

static void build_and_drop(rc_heap *h, size_t depth) {
    /* t = [t, Ouch()] nested `depth` times, plus a self-loop every 10 levels */
    tnode *t = tn_new(h, &tnode_type, 0);
    for (size_t i = 0; i < depth; i++) {
        tnode *o = tn_new(h, &tfin_type, (long)i);
        o->on_finalize = ouch;
        if (i % 10 == 0)
            tn_set(o, 1, o);
        tnode *n = tn_new(h, &tnode_type, (long)i);
        n->ref[0] = t; /* steal */
        n->ref[1] = o; /* steal */
        t = n;
    }
    rc_decref(t);
}

static void test_trashcan(void) {
    rc_heap *h = gct_heap();
    gct_reset_counters();
    g_ouch = 0;
    rc_gc_set_threshold(h, 1, 1, 1);
    for (int round = 0; round < 2; round++) {
        build_and_drop(h, 150);
        build_and_drop(h, 150);
    }
    rc_gc_set_threshold(h, 700, 10, 10);
    rc_gc_collect(h, 2);
    CHECK_EQ(gct_fin_total, 600);
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

static void *deep_trashcan_thread(void *arg) {
    size_t depth = *(size_t *)arg;
    rc_heap *h = gct_heap();
    gct_reset_counters();
    g_ouch = 0;
    rc_gc_set_threshold(h, 50, 5, 5);
    build_and_drop(h, depth);
    rc_gc_collect(h, 2);
    CHECK_EQ(gct_fin_total, (long)depth);
    GCT_END_HEAP(h);
    return NULL;
}

/* The same, deep enough for deferred deallocation, on a small stack. */
static void test_trashcan_deep(void) {
    size_t depth = gct_scale(20000);
    CHECK_EQ(gct_run_on_stack(deep_trashcan_thread, &depth, GCT_SMALL_STACK), 0);
}

/* ---- Finalizers that allocate ------------------------------------------------------------ */

static void make_more_garbage(tnode *self) {
    for (int i = 0; i < 3; i++)
        tn_garbage_self(rc_heap_of(self), &tfin_type, 1000 + i);
}

/* Garbage made by finalizers during a collection is young and collected by a
 * later collection (its own finalizers run then, once). */
static void test_finalizer_makes_garbage(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    gct_reset_counters();
    tnode *first = tn_ring(h, &tfin_type, 4, 0, NULL);
    tnode *n = first;
    for (int i = 0; i < 4; i++, n = n->ref[0])
        n->on_finalize = make_more_garbage;
    rc_decref(first);
    CHECK_EQ(rc_gc_collect(h, 2), 4);
    CHECK_EQ(rc_live_objects(h), 12);
    CHECK_EQ(rc_gc_generation_size(h, 0), 12);
    CHECK_EQ(gct_fin_total, 4);
    CHECK_EQ(rc_gc_collect(h, 0), 12);
    CHECK_EQ(gct_fin_total, 16);
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* ---- The gc API called from finalizers during a collection ------------------------------------ */

static int g_api_mode;

static void count_obj(void *o, void *arg) {
    (void)o;
    (*(size_t *)arg)++;
}

static void call_the_api(tnode *self) {
    rc_heap *h = rc_heap_of(self);
    size_t n = 0;
    switch (g_api_mode) {
    case 0: rc_gc_freeze(h); break;
    case 1: rc_gc_unfreeze(h); break;
    case 2:
        rc_gc_set_threshold(h, 1, 1, 1);
        rc_gc_enable(h);
        for (int i = 0; i < 50; i++)
            tn_garbage_self(h, &tnode_type, i);
        break;
    case 3: rc_gc_garbage_clear(h); break;
    case 4: rc_gc_get_objects(h, -1, count_obj, &n); break;
    case 5: {
        void *objs[] = {self};
        rc_gc_get_referrers(h, objs, 1, count_obj, &n);
        break;
    }
    case 6:
        rc_gc_untrack(self);
        rc_gc_track(self);
        break;
    case 7: rc_gc_set_debug(h, RC_GC_DEBUG_SAVEALL, NULL); break;
    case 8: rc_gc_set_debug(h, 0, NULL); break;
    }
}

/* freeze, unfreeze, thresholds, garbage_clear, get_objects, get_referrers,
 * untrack/track, set_debug — each called from the finalizers of a
 * collection of each generation, with frozen garbage and an uncollectable
 * object around: nothing breaks, and once things are back to normal
 * everything is collected. */
static void test_gc_api_from_finalizers(void) {
    for (g_api_mode = 0; g_api_mode < 9; g_api_mode++) {
        rc_heap *h = gct_heap();
        rc_gc_disable(h);
        if (g_api_mode == 8)
            rc_gc_set_debug(h, RC_GC_DEBUG_SAVEALL, NULL);
        rc_decref(tn_ring(h, &tnode_type, 3, 0, NULL));
        rc_gc_freeze(h); /* frozen garbage */
        tn_garbage_self(h, &tnoclear_type, 5);
        rc_gc_collect(h, 2);
        for (int gen = 0; gen < 3; gen++) {
            tnode *r[4];
            tnode *first = tn_ring(h, &tfin_type, 4, 0, r);
            for (int i = 0; i < 4; i++)
                r[i]->on_finalize = call_the_api;
            rc_decref(first);
            CHECK_GE(rc_gc_collect(h, gen), 0);
        }
        rc_gc_set_debug(h, 0, NULL);
        rc_gc_unfreeze(h);
        rc_gc_set_threshold(h, 700, 10, 10);
        for (int i = 0; i < 3; i++) {
            gct_release_garbage(h);
            rc_gc_collect(h, 2);
        }
        CHECK_MSG(rc_live_objects(h) == 0, "mode %d: %zu objects left", g_api_mode,
                  rc_live_objects(h));
        GCT_END_HEAP(h);
    }
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_cycle_of_finalizers);
    RUN_TEST(test_mixed_group);
    RUN_TEST(test_is_finalized);
    RUN_TEST(test_resurrection_only_once);
    RUN_TEST(test_resurrection_is_transitive);
    RUN_TEST(test_resurrect_one_object_of_cycle);
    RUN_TEST(test_partial_resurrection);
    RUN_TEST(test_resurrection_does_not_block_cleanup);
    RUN_TEST(test_resurrect_into_new_container);
    RUN_TEST(test_finalizer_breaks_cycle);
    RUN_TEST(test_finalizer_gives_childless_object_a_child);
    RUN_TEST(test_bug21435);
    RUN_TEST(test_collect_in_finalizer_during_collection);
    RUN_TEST(test_collect_in_finalizer_refcount);
    RUN_TEST(test_trashcan);
    RUN_TEST(test_trashcan_deep);
    RUN_TEST(test_finalizer_makes_garbage);
    RUN_TEST(test_gc_api_from_finalizers);
    RUN_TEST(test_untracked_by_its_finalizer);
    return check_summary();
}
