/*
 * test_gc_basic.c — the collector's core job, on containers of our own:
 * cycles leak under reference counting alone and rc_gc_collect frees them;
 * whatever is reachable from outside survives with everything it reaches;
 * untracked objects are never collected; the introspection API
 * (is_tracked, get_objects, get_referrers, get_referents) and the argument
 * checks of rc_gc_collect.
 *
 * test_gc.py counterparts: test_list, test_dict, test_tuple, test_instance
 * (self-loops), test_function (two-object cycle), test_boom / test_boom2
 * (a clear that mutates the rest of the garbage), test_is_tracked,
 * test_get_objects, test_get_objects_arguments, test_get_referents.
 */
#include "gctest.h"

/* ---- Cycles ------------------------------------------------------------------------ */

/* The seed's `a['ref'] = b; b['ref'] = a` with pair objects. */
static void test_pair_cycle_leaks_then_collected(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    tnode *a = tn_new(h, &tnode_type, 1), *b = tn_new(h, &tnode_type, 2);
    tn_set(a, 0, b);
    tn_set(b, 0, a);
    rc_decref(a);
    rc_decref(b);
    /* reference counting alone cannot free them */
    CHECK_EQ(rc_live_objects(h), 2);
    CHECK_EQ(rc_refcount(a), 1);
    CHECK_EQ(rc_refcount(b), 1);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(rc_live_objects(h), 0);
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    GCT_END_HEAP(h);
}

/* test_list / test_dict: one object referring to itself. */
static void test_self_loop(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    tnode *n = tn_new(h, &tnode_type, 1);
    tn_set(n, 0, n);
    CHECK_EQ(rc_gc_collect(h, 2), 0); /* still held */
    rc_decref(n);
    CHECK_EQ(rc_live_objects(h), 1);
    CHECK_EQ(rc_gc_collect(h, 2), 1);
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* test_tuple: a "tuple" (no clear needed: its partner has one) and a list. */
static void test_two_object_cycle_one_clearable(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    tnode *l = tn_new(h, &tnode_type, 1);
    tnode *t = tn_new(h, &tnoclear_type, 2);
    tn_set(t, 0, l);
    tn_set(l, 0, t);
    rc_gc_collect(h, 2);
    rc_decref(t);
    rc_decref(l);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(rc_live_objects(h), 0);
    CHECK_EQ(rc_gc_garbage_count(h), 0);
    GCT_END_HEAP(h);
}

/* A cycle of every length 1..40, each with extra chords, all in one go. */
static void test_many_shapes(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    size_t total = 0;
    tnode *ring[40];
    for (size_t n = 1; n <= 40; n++) {
        tnode *first = tn_ring(h, &tnode_type, n, 0, ring);
        for (size_t k = 0; k < n; k++) /* chords: k -> (k*7) mod n */
            tn_set(ring[k], 1, ring[(k * 7) % n]);
        rc_decref(first);
        total += n;
    }
    CHECK_EQ(rc_live_objects(h), total);
    CHECK_EQ(rc_gc_collect(h, 2), total);
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* Objects reachable from outside survive, with everything they reach, even
 * when they also sit in cycles; unrelated garbage goes. */
static void test_reachable_survives(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    /* root -> ring of 5 -> (each) a self-loop tail */
    tnode *ring[5];
    tnode *root = tn_new(h, &tnode_type, 100);
    tnode *first = tn_ring(h, &tnode_type, 5, 0, ring);
    tn_set(root, 0, first);
    rc_decref(first);
    for (int k = 0; k < 5; k++) {
        tnode *tail = tn_new(h, &tnode_type, 10 + k);
        tn_set(tail, 0, tail);
        tn_set(ring[k], 1, tail);
        rc_decref(tail);
    }
    /* a non-container in the middle: root -> leaf -> x, x -> root */
    tnode *leaf = tn_new(h, &tleaf_type, 200);
    tnode *x = tn_new(h, &tnode_type, 201);
    tn_set(leaf, 0, x);
    tn_set(x, 0, root);
    tn_set(root, 1, leaf);
    rc_decref(leaf);
    rc_decref(x);
    /* unrelated garbage */
    tn_garbage_self(h, &tnode_type, 300);
    tn_garbage_self(h, &tnode_type, 301);
    size_t live = rc_live_objects(h);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(rc_live_objects(h), live - 2);
    for (int k = 0; k < 5; k++) {
        CHECK_EQ(ring[k]->id, k);
        CHECK_NOT_NULL(ring[k]->ref[0]);
        CHECK_NOT_NULL(ring[k]->ref[1]);
        CHECK_EQ(ring[k]->clear_calls, 0);
    }
    CHECK_EQ(leaf->fin_calls, 0);
    /* Drop our reference to root.  root -> leaf -> x -> root is a cycle, but
     * it passes through a non-container the collector cannot see into: the
     * leaf's reference to x counts as one from outside, so x, root and all
     * root reaches stay alive. */
    rc_decref(root);
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    CHECK_EQ(rc_live_objects(h), live - 2);
    /* Breaking the leaf's link frees x, root and the leaf by refcount; the
     * ring and its tails are left as garbage for the collector. */
    tn_set(leaf, 0, NULL);
    CHECK_EQ(rc_live_objects(h), 10);
    CHECK_EQ(rc_gc_collect(h, 2), 10); /* 5 ring nodes, 5 tails */
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* Garbage that refers to live objects: the live ones lose a reference and
 * survive. */
static void test_garbage_pointing_to_live(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    tnode *live = tn_new(h, &tnode_type, 1);
    tnode *g = tn_new(h, &tnode_type, 2);
    tn_set(g, 0, g);
    tn_set(g, 1, live);
    rc_decref(g);
    CHECK_EQ(rc_refcount(live), 2);
    CHECK_EQ(rc_gc_collect(h, 2), 1);
    CHECK_EQ(rc_refcount(live), 1);
    CHECK_EQ(live->clear_calls, 0);
    rc_decref(live);
    GCT_END_HEAP(h);
}

/* test_boom: clearing one object of a garbage group also empties the
 * others' slots (the graph changes under the collector's feet). */
static void clear_partner_too(tnode *self) {
    tnode *p = self->user;
    if (p && p->ref[0]) {
        void *r = p->ref[0];
        p->ref[0] = NULL;
        rc_decref(r);
    }
}

static void test_boom_clear_mutates_others(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    tnode *a = tn_new(h, &tnode_type, 1), *b = tn_new(h, &tnode_type, 2);
    tn_set(a, 0, b);
    tn_set(b, 0, a);
    a->user = b;
    b->user = a;
    a->on_clear = clear_partner_too;
    b->on_clear = clear_partner_too;
    rc_decref(a);
    rc_decref(b);
    size_t garbage = rc_gc_garbage_count(h);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(rc_gc_garbage_count(h), garbage);
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* test_boom2: the clear breaks the cycle only the second time it runs. */
static void clear_second_time(tnode *self) {
    tnode *p = self->user;
    if (self->clear_calls >= 2 && p && p->ref[0]) {
        void *r = p->ref[0];
        p->ref[0] = NULL;
        rc_decref(r);
    }
}

static void test_boom2(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    tnode *a = tn_new(h, &tnode_type, 1), *b = tn_new(h, &tnode_type, 2);
    tn_set(a, 0, b);
    tn_set(b, 0, a);
    a->user = b;
    b->user = a;
    a->on_clear = clear_second_time;
    b->on_clear = clear_second_time;
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(rc_live_objects(h), 0);
    CHECK_EQ(rc_gc_garbage_count(h), 0);
    GCT_END_HEAP(h);
}

/* A clear that stores a new reference to an object of the garbage (its own
 * object, or the one in self->user): that object survives the collection,
 * tracked, in the oldest generation, and dies by reference counting once
 * the stored reference goes. */
static void clear_saves_user(tnode *self) { gct_save_ref(self->user); }

static void test_object_survives_clear(void) {
    for (int variant = 0; variant < 2; variant++) {
        rc_heap *h = gct_heap();
        rc_gc_disable(h);
        tnode *a = tn_new(h, &tnode_type, 1), *b = tn_new(h, &tnode_type, 2);
        tn_set(a, 0, b);
        tn_set(b, 0, a);
        /* variant 0: a (cleared first) keeps itself; variant 1: a keeps b,
         * which is cleared after it */
        tnode *kept = variant == 0 ? a : b;
        a->user = kept;
        a->on_clear = clear_saves_user;
        rc_decref(a);
        rc_decref(b);
        CHECK_EQ(rc_gc_collect(h, 2), 2);
        CHECK_EQ(rc_gc_garbage_count(h), 0);
        CHECK_EQ(rc_live_objects(h), 1);
        CHECK(rc_gc_is_tracked(kept));
        CHECK_EQ(gct_in_generation(h, 2, kept), 1);
        CHECK_EQ(rc_gc_generation_size(h, 2), 1);
        CHECK_EQ(rc_gc_generation_size(h, 0) + rc_gc_generation_size(h, 1), 0);
        CHECK_EQ(kept->clear_calls, 1);
        CHECK_EQ(rc_refcount(kept), 1); /* the stored reference alone */
        CHECK_EQ(rc_gc_collect(h, 2), 0); /* held from outside now */
        gct_drop_saved();
        CHECK_EQ(rc_live_objects(h), 0);
        GCT_END_HEAP(h);
    }
}

/* A clear that untracks its own object and tracks it again (keeping it
 * alive): the object is new to generation 0, not left for the collection to
 * file among the survivors. */
static void clear_retracks_self(tnode *self) {
    gct_save_ref(self);
    rc_gc_untrack(self);
    rc_gc_track(self);
}

static void test_object_retracked_by_its_clear(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    tnode *a = tn_new(h, &tnode_type, 1), *b = tn_new(h, &tnode_type, 2);
    tn_set(a, 0, b);
    tn_set(b, 0, a);
    a->on_clear = clear_retracks_self;
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(rc_live_objects(h), 1);
    CHECK(rc_gc_is_tracked(a));
    CHECK_EQ(gct_in_generation(h, 0, a), 1);
    CHECK_EQ(gct_in_generation(h, -1, a), 1); /* listed once */
    CHECK_EQ(rc_gc_generation_size(h, 0), 1);
    CHECK_EQ(rc_gc_generation_size(h, 1) + rc_gc_generation_size(h, 2), 0);
    CHECK_EQ(a->clear_calls, 1);
    gct_drop_saved();
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* ---- Tracking ----------------------------------------------------------------------- */

static void test_is_tracked(void) {
    rc_heap *h = gct_heap();
    tnode *leaf = tn_new(h, &tleaf_type, 1);
    tnode *n = tn_new(h, &tnode_type, 2);
    tnode *w = rc_weakref_new(n, NULL, NULL);
    CHECK(!rc_gc_is_tracked(leaf)); /* not a container */
    CHECK(rc_gc_is_tracked(n));
    CHECK(rc_gc_is_tracked(w)); /* weakrefs are containers */
    rc_gc_untrack(n);
    CHECK(!rc_gc_is_tracked(n));
    rc_gc_untrack(n); /* twice: harmless */
    CHECK(!rc_gc_is_tracked(n));
    rc_gc_track(n);
    CHECK(rc_gc_is_tracked(n));
    CHECK_EQ(gct_in_generation(h, 0, n), 1);
    rc_gc_track(n); /* already tracked: no-op, listed once */
    CHECK_EQ(gct_in_generation(h, -1, n), 1);
    rc_gc_track(leaf); /* not a container: no-op */
    CHECK(!rc_gc_is_tracked(leaf));
    rc_gc_untrack(leaf);
    CHECK(!rc_gc_is_tracked(leaf));
    CHECK_EQ(gct_in_generation(h, -1, leaf), 0);
    rc_decref(w);
    rc_decref(n);
    rc_decref(leaf);
    GCT_END_HEAP(h);
}

/* An untracked cycle is never collected; tracked again, it is. */
static void test_untracked_cycle_never_collected(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    tnode *a = tn_new(h, &tnode_type, 1), *b = tn_new(h, &tnode_type, 2);
    tn_set(a, 0, b);
    tn_set(b, 0, a);
    rc_gc_untrack(a);
    rc_gc_untrack(b);
    rc_decref(a);
    rc_decref(b);
    for (int gen = 0; gen < 3; gen++)
        CHECK_EQ(rc_gc_collect(h, gen), 0);
    CHECK_EQ(rc_live_objects(h), 2);
    CHECK_EQ(a->clear_calls + b->clear_calls, 0);
    /* one of the two tracked again: the other is reachable from outside the
     * set the collector sees (the untracked one's reference counts as
     * outside), so nothing is collected yet */
    rc_gc_track(a);
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    CHECK_EQ(rc_live_objects(h), 2);
    rc_gc_track(b);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* An untracked object pointing into a tracked cycle keeps it alive. */
static void test_untracked_referrer_keeps_cycle(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    tnode *holder = tn_new(h, &tnode_type, 1);
    rc_gc_untrack(holder);
    tnode *first = tn_ring(h, &tnode_type, 3, 10, NULL);
    tn_set(holder, 0, first);
    rc_decref(first);
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    CHECK_EQ(rc_live_objects(h), 4);
    rc_decref(holder); /* freed by refcount; the ring becomes garbage */
    CHECK_EQ(rc_live_objects(h), 3);
    CHECK_EQ(rc_gc_collect(h, 2), 3);
    GCT_END_HEAP(h);
}

/* ---- Generations and get_objects ------------------------------------------------------------ */

/* test_get_objects: an object trickles up one generation per collection of
 * its generation, and stays in the oldest. */
static void test_get_objects_generations(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    rc_gc_collect(h, 2);
    tnode *l = tn_new(h, &tnode_type, 1);
    tn_set(l, 0, l);
    CHECK_EQ(gct_in_generation(h, 0, l), 1);
    CHECK_EQ(gct_in_generation(h, 1, l), 0);
    CHECK_EQ(gct_in_generation(h, 2, l), 0);
    CHECK_EQ(gct_in_generation(h, 3, l), 0);
    CHECK_EQ(gct_in_generation(h, -1, l), 1);
    rc_gc_collect(h, 0);
    CHECK_EQ(gct_in_generation(h, 0, l), 0);
    CHECK_EQ(gct_in_generation(h, 1, l), 1);
    CHECK_EQ(gct_in_generation(h, 2, l), 0);
    rc_gc_collect(h, 1);
    CHECK_EQ(gct_in_generation(h, 0, l), 0);
    CHECK_EQ(gct_in_generation(h, 1, l), 0);
    CHECK_EQ(gct_in_generation(h, 2, l), 1);
    rc_gc_collect(h, 2);
    CHECK_EQ(gct_in_generation(h, 2, l), 1);
    CHECK_EQ(gct_in_generation(h, -1, l), 1);
    /* a gen-0 collection does not move gen-1 objects */
    tnode *m = tn_new(h, &tnode_type, 2);
    rc_gc_collect(h, 0);
    CHECK_EQ(gct_in_generation(h, 1, m), 1);
    rc_gc_collect(h, 0);
    CHECK_EQ(gct_in_generation(h, 1, m), 1);
    /* a gen-1 collection takes gen 0 along */
    tnode *y = tn_new(h, &tnode_type, 3);
    rc_gc_collect(h, 1);
    CHECK_EQ(gct_in_generation(h, 2, m), 1);
    CHECK_EQ(gct_in_generation(h, 2, y), 1);
    CHECK_EQ(rc_gc_generation_size(h, 0), 0);
    CHECK_EQ(rc_gc_generation_size(h, 1), 0);
    CHECK_EQ(rc_gc_generation_size(h, 2), 3);
    rc_decref(l);
    rc_decref(m);
    rc_decref(y);
    CHECK_EQ(rc_gc_collect(h, 2), 1);
    GCT_END_HEAP(h);
}

/* Survivors move up: generation sizes after each kind of collection. */
static void test_generation_sizes(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    rc_gc_collect(h, 2);
    enum { N = 50 };
    tnode *keep[N + 3];
    for (int i = 0; i < N; i++)
        keep[i] = tn_new(h, &tnode_type, i);
    for (int i = 0; i < 7; i++)
        tn_garbage_self(h, &tnode_type, 1000 + i);
    CHECK_EQ(rc_gc_generation_size(h, 0), N + 7);
    CHECK_EQ(rc_gc_collect(h, 0), 7);
    CHECK_EQ(rc_gc_generation_size(h, 0), 0);
    CHECK_EQ(rc_gc_generation_size(h, 1), N);
    for (int i = N; i < N + 3; i++)
        keep[i] = tn_new(h, &tnode_type, i);
    CHECK_EQ(rc_gc_generation_size(h, 0), 3);
    CHECK_EQ(rc_gc_collect(h, 1), 0);
    CHECK_EQ(rc_gc_generation_size(h, 0), 0);
    CHECK_EQ(rc_gc_generation_size(h, 1), 0);
    CHECK_EQ(rc_gc_generation_size(h, 2), N + 3);
    CHECK_EQ(rc_gc_generation_size(h, 3), 0);
    CHECK_EQ(rc_gc_generation_size(h, 4), 0);  /* out of range */
    CHECK_EQ(rc_gc_generation_size(h, -1), 0); /* out of range */
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    CHECK_EQ(rc_gc_generation_size(h, 2), N + 3);
    /* objects freed by reference counting leave their generation */
    for (int i = 0; i < N; i++)
        rc_decref(keep[i]);
    CHECK_EQ(rc_gc_generation_size(h, 2), 3);
    for (int i = N; i < N + 3; i++)
        rc_decref(keep[i]);
    CHECK_EQ(rc_gc_generation_size(h, 2), 0);
    GCT_END_HEAP(h);
}

/* test_get_objects_arguments: bad generations list nothing; -1 lists every
 * tracked object (each once), the permanent generation included. */
static void test_get_objects_arguments(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    tnode *a = tn_new(h, &tnode_type, 1);
    rc_gc_collect(h, 1); /* a -> gen 2 */
    tnode *b = tn_new(h, &tnode_type, 2);
    rc_gc_collect(h, 0); /* b -> gen 1 */
    tnode *c = tn_new(h, &tnode_type, 3);
    tnode *leaf = tn_new(h, &tleaf_type, 4);
    gct_find f = {NULL, 0, 0};
    rc_gc_get_objects(h, -1, gct_find_fn, &f);
    CHECK_EQ(f.seen, 3);
    size_t per_gen = 0;
    for (int g = 0; g <= 3; g++) {
        gct_find fg = {NULL, 0, 0};
        rc_gc_get_objects(h, g, gct_find_fn, &fg);
        per_gen += fg.seen;
    }
    CHECK_EQ(per_gen, 3);
    CHECK_EQ(gct_in_generation(h, 2, a), 1);
    CHECK_EQ(gct_in_generation(h, 1, b), 1);
    CHECK_EQ(gct_in_generation(h, 0, c), 1);
    CHECK_EQ(gct_in_generation(h, -1, leaf), 0);
    int bad[] = {4, 1000, -2, -1000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gct_find fb = {NULL, 0, 0};
        rc_gc_get_objects(h, bad[i], gct_find_fn, &fb);
        CHECK_EQ(fb.seen, 0);
    }
    rc_gc_freeze(h);
    CHECK_EQ(gct_in_generation(h, 3, a), 1);
    CHECK_EQ(gct_in_generation(h, 3, c), 1);
    CHECK_EQ(gct_in_generation(h, -1, b), 1);
    rc_gc_unfreeze(h);
    rc_decref(a);
    rc_decref(b);
    rc_decref(c);
    rc_decref(leaf);
    GCT_END_HEAP(h);
}

/* rc_gc_collect's arguments and return value. */
static void test_collect_arguments(void) {
    rc_heap *h = gct_heap();
    CHECK_EQ(rc_gc_collect(h, -1), -1);
    CHECK_EQ(rc_gc_collect(h, 3), -1);
    CHECK_EQ(rc_gc_collect(h, 1000), -1);
    CHECK_EQ(gct_collections(h, 0) + gct_collections(h, 1) + gct_collections(h, 2), 0);
    CHECK_EQ(rc_gc_collect(h, 0), 0); /* a heap without any container */
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    CHECK_EQ(gct_collections(h, 0), 1);
    CHECK_EQ(gct_collections(h, 2), 1);
    /* each generation collects the younger ones too */
    tn_garbage_self(h, &tnode_type, 1);
    CHECK_EQ(rc_gc_collect(h, 1), 1);
    tn_garbage_self(h, &tnode_type, 2);
    CHECK_EQ(rc_gc_collect(h, 2), 1);
    /* a bad generation did not count as a collection */
    CHECK_EQ(gct_collections(h, 0), 1);
    CHECK_EQ(gct_collections(h, 1), 1);
    CHECK_EQ(gct_collections(h, 2), 2);
    GCT_END_HEAP(h);
}

/* A gen-0 collection does not see garbage that has reached gen 1 or 2. */
static void test_young_collection_ignores_old_garbage(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    tnode *old = tn_new(h, &tnode_type, 1);
    tn_set(old, 0, old);
    rc_gc_collect(h, 1); /* old -> gen 2 */
    tnode *mid = tn_new(h, &tnode_type, 2);
    tn_set(mid, 0, mid);
    rc_gc_collect(h, 0); /* mid -> gen 1 */
    rc_decref(old);
    rc_decref(mid);
    tn_garbage_self(h, &tnode_type, 3);
    CHECK_EQ(rc_gc_collect(h, 0), 1);
    CHECK_EQ(rc_live_objects(h), 2);
    CHECK_EQ(rc_gc_collect(h, 1), 1); /* mid */
    CHECK_EQ(rc_live_objects(h), 1);
    CHECK_EQ(rc_gc_collect(h, 2), 1); /* old */
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* A young object referenced only by an old one survives a young collection
 * (the old reference counts as outside), and so does an old object whose
 * only referrer is young garbage — until the young garbage is collected. */
static void test_cross_generation_references(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    tnode *old = tn_new(h, &tnode_type, 1);
    rc_gc_collect(h, 1); /* gen 2 */
    tnode *young = tn_new(h, &tnode_type, 2);
    tn_set(young, 0, young);
    tn_set(old, 0, young);
    rc_decref(young);
    CHECK_EQ(rc_gc_collect(h, 0), 0);
    CHECK_EQ(rc_live_objects(h), 2);
    /* now the other way round: old2 (gen 2) held only by young garbage */
    tnode *old2 = tn_new(h, &tnode_type, 3);
    rc_gc_collect(h, 1);
    tnode *yg = tn_new(h, &tnode_type, 4);
    tn_set(yg, 0, yg);
    tn_set(yg, 1, old2);
    rc_decref(old2);
    rc_decref(yg);
    CHECK_EQ(rc_gc_collect(h, 0), 1); /* yg; old2 then dies by refcount */
    CHECK_EQ(rc_live_objects(h), 2);
    rc_decref(old);
    CHECK_EQ(rc_gc_collect(h, 2), 1); /* young's self-loop */
    GCT_END_HEAP(h);
}

/* ---- Referrers and referents -------------------------------------------------------------- */

typedef struct gct_list {
    void *items[64];
    size_t n;
} gct_list;

static void gct_list_add(void *o, void *arg) {
    gct_list *l = arg;
    if (l->n < 64)
        l->items[l->n++] = o;
}

static int gct_list_has(const gct_list *l, const void *o) {
    int k = 0;
    for (size_t i = 0; i < l->n; i++)
        k += l->items[i] == o;
    return k;
}

static void test_get_referents(void) {
    rc_heap *h = gct_heap();
    tnode *a = tn_new(h, &tnode_type, 1);
    tnode *x = tn_new(h, &tnode_type, 2), *y = tn_new(h, &tleaf_type, 3);
    tn_set(a, 0, x);
    tn_set(a, 2, y);
    gct_list l = {{0}, 0};
    rc_gc_get_referents(a, gct_list_add, &l);
    CHECK_EQ(l.n, 2);
    CHECK_EQ(gct_list_has(&l, x), 1);
    CHECK_EQ(gct_list_has(&l, y), 1);
    /* nothing for an object without references, container or not */
    l.n = 0;
    rc_gc_get_referents(x, gct_list_add, &l);
    rc_gc_get_referents(y, gct_list_add, &l);
    CHECK_EQ(l.n, 0);
    /* a self-reference is reported */
    tn_set(x, 1, x);
    rc_gc_get_referents(x, gct_list_add, &l);
    CHECK_EQ(l.n, 1);
    CHECK_EQ(gct_list_has(&l, x), 1);
    /* a weakref reports no referent (it holds no strong reference) */
    void *w = rc_weakref_new(x, NULL, NULL);
    l.n = 0;
    rc_gc_get_referents(w, gct_list_add, &l);
    CHECK_EQ(l.n, 0);
    rc_decref(w);
    tn_set(x, 1, NULL);
    rc_decref(x);
    rc_decref(y);
    rc_decref(a);
    GCT_END_HEAP(h);
}

static void test_get_referrers(void) {
    rc_heap *h = gct_heap();
    tnode *x = tn_new(h, &tnode_type, 1), *y = tn_new(h, &tleaf_type, 2);
    tnode *a = tn_new(h, &tnode_type, 10), *b = tn_new(h, &tnode_type, 11);
    tnode *c = tn_new(h, &tnode_type, 12), *d = tn_new(h, &tnode_type, 13);
    tnode *u = tn_new(h, &tnode_type, 14);   /* untracked referrer: not reported */
    tnode *lf = tn_new(h, &tleaf_type, 15);  /* non-container referrer: not reported */
    tn_set(a, 0, x);
    tn_set(b, 1, x);
    tn_set(b, 2, x); /* twice from b: b reported once */
    tn_set(c, 0, y);
    tn_set(u, 0, x);
    rc_gc_untrack(u);
    tn_set(lf, 0, x);
    rc_gc_collect(h, 1); /* spread over generations */
    tn_set(d, 0, y);
    void *objs1[] = {x};
    gct_list l = {{0}, 0};
    rc_gc_get_referrers(h, objs1, 1, gct_list_add, &l);
    CHECK_EQ(l.n, 2);
    CHECK_EQ(gct_list_has(&l, a), 1);
    CHECK_EQ(gct_list_has(&l, b), 1);
    void *objs2[] = {x, y};
    l.n = 0;
    rc_gc_get_referrers(h, objs2, 2, gct_list_add, &l);
    CHECK_EQ(l.n, 4);
    CHECK_EQ(gct_list_has(&l, a) + gct_list_has(&l, b) + gct_list_has(&l, c) +
                 gct_list_has(&l, d),
             4);
    /* frozen referrers are still referrers */
    rc_gc_freeze(h);
    l.n = 0;
    rc_gc_get_referrers(h, objs2, 2, gct_list_add, &l);
    CHECK_EQ(l.n, 4);
    rc_gc_unfreeze(h);
    /* no objects: nothing */
    l.n = 0;
    rc_gc_get_referrers(h, objs2, 0, gct_list_add, &l);
    CHECK_EQ(l.n, 0);
    /* an object referring to itself is its own referrer */
    tn_set(x, 0, x);
    l.n = 0;
    rc_gc_get_referrers(h, objs1, 1, gct_list_add, &l);
    CHECK_EQ(l.n, 3);
    CHECK_EQ(gct_list_has(&l, x), 1);
    tn_set(x, 0, NULL);
    tnode *all[] = {x, y, a, b, c, d, u, lf};
    for (size_t i = 0; i < 8; i++)
        rc_decref(all[i]);
    GCT_END_HEAP(h);
}

/* A type whose traverse also passes its NULL slots (allowed: "NULL
 * children may be skipped or passed; NULL is ignored").  The collector
 * copes, and get_referents reports only real objects. */
static void traverse_with_nulls(void *o, rc_visit_fn visit, void *arg) {
    tnode *n = o;
    for (int i = 0; i < TN_SLOTS; i++)
        visit(n->ref[i], arg);
}

static const rc_type tnulls_type = {
    .name = "tnulls",
    .size = sizeof(tnode),
    .flags = RC_TYPE_GC,
    .traverse = traverse_with_nulls,
    .clear = tn_clear,
};

static void test_traverse_passing_null(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    tnode *a = tn_new(h, &tnulls_type, 1), *b = tn_new(h, &tnulls_type, 2);
    tn_set(a, 0, b);
    tn_set(b, 2, a);
    gct_list l = {{0}, 0};
    rc_gc_get_referents(a, gct_list_add, &l);
    CHECK_EQ(l.n, 1);
    CHECK_EQ(gct_list_has(&l, b), 1);
    CHECK_EQ(gct_list_has(&l, NULL), 0);
    void *objs[] = {a};
    l.n = 0;
    rc_gc_get_referrers(h, objs, 1, gct_list_add, &l);
    CHECK_EQ(l.n, 1);
    CHECK_EQ(gct_list_has(&l, b), 1);
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    GCT_END_HEAP(h);
}

/* A collection of one heap from a finalizer running in another heap's
 * collection is a real, independent collection. */
static rc_heap *g_other_heap;
static intptr_t g_other_result = -5;

static void collect_other_heap(tnode *self) {
    (void)self;
    g_other_result = rc_gc_collect(g_other_heap, 2);
}

static void test_collect_other_heap_from_finalizer(void) {
    rc_heap *h = gct_heap();
    g_other_heap = gct_heap();
    rc_gc_disable(h);
    rc_gc_disable(g_other_heap);
    for (int i = 0; i < 3; i++)
        tn_garbage_self(g_other_heap, &tnode_type, i);
    tnode *a = tn_new(h, &tfin_type, 1);
    tn_set(a, 0, a);
    a->on_finalize = collect_other_heap;
    rc_decref(a);
    CHECK_EQ(rc_gc_collect(h, 2), 1);
    CHECK_EQ(g_other_result, 3);
    CHECK_EQ(rc_live_objects(g_other_heap), 0);
    GCT_END_HEAP(g_other_heap);
    GCT_END_HEAP(h);
}

/* RC_TYPE_UNTRACKED: objects are made untracked, on the slow path (the
 * first of its type in a heap) and the fast one alike, yet counted as
 * allocations; a cycle of them is found once the type tracks its objects. */
static const rc_type tuntracked_type = {
    .name = "tuntracked",
    .size = sizeof(tnode),
    .flags = RC_TYPE_GC | RC_TYPE_UNTRACKED,
    .traverse = tn_traverse,
    .clear = tn_clear,
    .destroy = tn_destroy,
};

static void test_type_born_untracked(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    rc_gc_collect(h, 2);
    long before = gct_count(h, 0);
    tnode *a = tn_new(h, &tuntracked_type, 1); /* new_slow: the type's first */
    tnode *b = tn_new(h, &tuntracked_type, 2); /* the fast path */
    CHECK(!rc_gc_is_tracked(a));
    CHECK(!rc_gc_is_tracked(b));
    CHECK_EQ(gct_count(h, 0), before + 2);
    CHECK_EQ(rc_gc_generation_size(h, 0), 0);
    tn_set(a, 0, b);
    tn_set(b, 0, a);
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(rc_gc_collect(h, 2), 0); /* untracked: invisible, kept */
    CHECK_EQ(rc_live_objects(h), 2);
    rc_gc_track(a);
    rc_gc_track(b);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* ---- Marking in both directions ------------------------------------------- */

/* The marking walks a generation oldest first or newest first, whichever
 * brought fewer objects back from the unreachable list the last time
 * (gc.c, mark); trees built bottom-up and top-down in turn make it change
 * direction in generations 0 and 1.  In each direction the garbage
 * (a tree with a reference from a leaf back to its root) is found exactly,
 * the live trees are untouched, and the lists stay whole: every object is
 * in its generation, and the trees, dropped at the end, free themselves. */
static void test_marking_in_both_directions(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    enum { ROUNDS = 12, LIVE_DEPTH = 6, GARBAGE_DEPTH = 5 };
    const size_t live_nodes = (1u << (LIVE_DEPTH + 1)) - 1;
    const intptr_t garbage_nodes = (1 << (GARBAGE_DEPTH + 1)) - 1;
    tnode *live[ROUNDS];
    long id = 0;
    for (int round = 0; round < ROUNDS; round++) {
        bool bottom_up = (round / 2) % 2 == 0; /* two rounds each way, in turn */
        int gen = round % 3;
        live[round] = tn_tree(h, &tnode_type, LIVE_DEPTH, bottom_up, &id);
        tnode *g = tn_tree(h, &tnode_type, GARBAGE_DEPTH, bottom_up, &id);
        tnode *leaf = g;
        while (leaf->ref[0])
            leaf = leaf->ref[0];
        tn_set(leaf, 2, g); /* the cycle */
        rc_decref(g);
        CHECK_EQ(rc_gc_collect(h, gen), garbage_nodes);
        CHECK_EQ(tn_tree_count(live[round]), live_nodes);
        size_t tracked = 0;
        for (int k = 0; k < RC_GC_GENERATIONS; k++)
            tracked += rc_gc_generation_size(h, k);
        CHECK_EQ(tracked, (size_t)(round + 1) * live_nodes);
        CHECK_EQ(rc_live_objects(h), tracked);
        CHECK_EQ(rc_gc_generation_size(h, 0), 0);
    }
    for (int round = 0; round < ROUNDS; round++)
        CHECK_EQ(tn_tree_count(live[round]), live_nodes);
    /* a full collection of everything, in whichever direction, finds nothing */
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    for (int round = 0; round < ROUNDS; round++)
        rc_decref(live[round]);
    CHECK_EQ(rc_live_objects(h), 0);
    for (int k = 0; k < RC_GC_GENERATIONS; k++)
        CHECK_EQ(rc_gc_generation_size(h, k), 0);
    GCT_END_HEAP(h);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_pair_cycle_leaks_then_collected);
    RUN_TEST(test_self_loop);
    RUN_TEST(test_two_object_cycle_one_clearable);
    RUN_TEST(test_many_shapes);
    RUN_TEST(test_reachable_survives);
    RUN_TEST(test_garbage_pointing_to_live);
    RUN_TEST(test_boom_clear_mutates_others);
    RUN_TEST(test_boom2);
    RUN_TEST(test_object_survives_clear);
    RUN_TEST(test_object_retracked_by_its_clear);
    RUN_TEST(test_is_tracked);
    RUN_TEST(test_untracked_cycle_never_collected);
    RUN_TEST(test_untracked_referrer_keeps_cycle);
    RUN_TEST(test_get_objects_generations);
    RUN_TEST(test_generation_sizes);
    RUN_TEST(test_get_objects_arguments);
    RUN_TEST(test_collect_arguments);
    RUN_TEST(test_young_collection_ignores_old_garbage);
    RUN_TEST(test_cross_generation_references);
    RUN_TEST(test_get_referents);
    RUN_TEST(test_get_referrers);
    RUN_TEST(test_traverse_passing_null);
    RUN_TEST(test_collect_other_heap_from_finalizer);
    RUN_TEST(test_type_born_untracked);
    RUN_TEST(test_marking_in_both_directions);
    return check_summary();
}
