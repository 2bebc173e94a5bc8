/*
 * tests/gc/test_gc_bulk.c — collections whose whole set is garbage, which
 * the collector deletes without marking (gc.c: "All garbage").
 *
 * Which way a collection went is read from the RC_GC_DEBUG_STATS output:
 * "gc: all N objects unreachable, found by the first pass" for the bulk
 * deletion.  During it, the set's list has its forward links only; the
 * backward ones are put back by a frontier running ahead of the deletion,
 * or, for an object the frontier has not reached, when that object leaves
 * the list.  The tests make objects leave in every way a clear can cause:
 * dying next to the one cleared, dying far ahead of the frontier (alone or
 * in a long cascade), untracked far ahead, kept alive by the clear (near
 * and far), or left in the list for want of a clear.  Each checks what was
 * found, what is left alive and where it is listed, and that the lists are
 * whole afterwards (GCT_END_HEAP collects and checks nothing leaked).
 *
 * Each shape runs on two container types of the same layout: tnode, whose
 * type has traverse only, and rnode, whose type also has refs (the
 * collector's first pass reads its references as an array: the other loop).
 */
#include "gctest.h"


/* rc_gc_collect(h, gen) with `flags` (plus STATS) set; true if the
 * collection deleted its set in bulk.  *found its result; *out_text (if
 * not NULL) receives the debug output (good until the next collection). */
static bool collect_bulk_flags(rc_heap *h, int gen, unsigned flags, intptr_t *found,
                               const char **out_text) {
    const char *out = gct_collect_debug(h, gen, flags, found);
    int lines = gct_count_lines(out, "unreachable, found by the first pass");
    CHECK_LE(lines, 1);
    if (out_text)
        *out_text = out;
    return lines == 1;
}

static bool collect_bulk(rc_heap *h, int gen, intptr_t *found) {
    return collect_bulk_flags(h, gen, 0, found, NULL);
}

/* Many rings of 2 and 3 and one long ring, nothing else: deleted in bulk,
 * every object found and freed, the clears called on what the deletion
 * met alive (the first of each ring: the rest die by their counts). */
static void test_rings(const rc_type *t) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    gct_reset_counters();
    size_t n = 0, rings = 0;
    for (int i = 0; i < 500; i++, rings++) {
        rc_decref(tn_ring(h, t, 2 + (size_t)(i % 2), 100 * i, NULL));
        n += 2 + (size_t)(i % 2);
    }
    rc_decref(tn_ring(h, t, 3000, 100000, NULL));
    n += 3000;
    rings++;
    CHECK_EQ(rc_live_objects(h), n);
    intptr_t found = -1;
    CHECK(collect_bulk(h, 2, &found));
    CHECK_EQ(found, (intptr_t)n);
    CHECK_EQ(rc_live_objects(h), 0);
    CHECK_EQ(gct_clear_total, (long)rings);
    for (int g = 0; g < RC_GC_GENERATIONS; g++)
        CHECK_EQ(rc_gc_generation_size(h, g), 0);
    rc_gc_gen_stats st[RC_GC_GENERATIONS];
    rc_gc_get_stats(h, st);
    CHECK_EQ(st[2].collected, n);
    CHECK_EQ(st[2].uncollectable, 0);
    GCT_END_HEAP(h);
}

/* A young collection whose generation is all garbage, with a live tree in
 * the older generations (outside the set): bulk, and the tree untouched. */
static void test_young_all_garbage(const rc_type *t) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    long id = 0;
    tnode *tree = tn_tree(h, t, 6, false, &id);
    intptr_t found = -1;
    CHECK(!collect_bulk(h, 0, &found)); /* the tree: reachable */
    CHECK_EQ(found, 0);
    CHECK_EQ(rc_gc_generation_size(h, 1), 127);
    for (int i = 0; i < 100; i++) {
        tnode *a = tn_new(h, t, 1000 + i);
        tn_set(a, 0, tree); /* a reference out of the set */
        tn_set(a, 1, a);
        rc_decref(a);
    }
    CHECK(collect_bulk(h, 0, &found));
    CHECK_EQ(found, 100);
    CHECK_EQ(tn_tree_count(tree), 127);
    CHECK_EQ(rc_refcount(tree), 1);
    CHECK_EQ(rc_gc_generation_size(h, 0), 0);
    CHECK_EQ(rc_gc_generation_size(h, 1), 127);
    CHECK_EQ(gct_in_generation(h, 1, tree), 1);
    rc_decref(tree);
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* One object of the set referred to from outside, wherever it lies: no
 * bulk deletion; marking finds the rest. */
static void test_one_reachable_object(const rc_type *t) {
    for (int where = 0; where < 3; where++) {
        rc_heap *h = gct_heap();
        rc_gc_disable(h);
        tnode *ring[50];
        tnode *held = NULL;
        for (int r = 0; r < 3; r++) {
            tnode *first = tn_ring(h, t, 50, 100 * r, ring);
            if (r == where) {
                held = ring[where * 20];
                rc_incref(held);
            }
            rc_decref(first);
        }
        intptr_t found = -1;
        CHECK(!collect_bulk(h, 2, &found));
        CHECK_EQ(found, 100);
        CHECK_EQ(rc_live_objects(h), 50);
        CHECK_EQ(rc_gc_generation_size(h, 2), 50);
        rc_decref(held);
        CHECK(collect_bulk(h, 2, &found));
        CHECK_EQ(found, 50);
        GCT_END_HEAP(h);
    }
}

/* x0 made first, each later x[k] refers to x[k-1], and x0 to the last:
 * clearing x0 (the first of the list) drops the last object of the list,
 * far past the frontier, whose death drops the one before it, and so on:
 * a cascade back down the whole list (deferred past the deallocation's
 * depth limit), every death of an object whose backward link is not back
 * yet when it starts. */
static void test_far_cascade(const rc_type *t) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    gct_reset_counters();
    const size_t n = 5000;
    tnode *x0 = tn_new(h, t, 0), *prev = x0;
    for (size_t k = 1; k < n; k++) {
        tnode *x = tn_new(h, t, (long)k);
        if (prev == x0)
            tn_set(x, 0, x0); /* we still hold x0 */
        else
            x->ref[0] = prev; /* steals: prev is held by x alone */
        prev = x;
    }
    x0->ref[0] = prev; /* steals our reference to the last */
    rc_decref(x0);
    intptr_t found = -1;
    CHECK(collect_bulk(h, 2, &found));
    CHECK_EQ(found, (intptr_t)n);
    CHECK_EQ(rc_live_objects(h), 0);
    CHECK_EQ(gct_clear_total, 1);
    GCT_END_HEAP(h);
}

/* on_clear hooks */
static void untrack_user(tnode *self) { rc_gc_untrack(self->user); }
static void save_self(tnode *self) { gct_save_ref(self); }
static void save_user(tnode *self) { gct_save_ref(self->user); }

/* The first object's clear untracks an object of its ring far ahead (or
 * next to it): it leaves the list before its death, and dies untracked
 * when the ring falls apart. */
static void test_clear_untracks(const rc_type *t) {
    for (size_t at = 1; at < 200; at += 148) {
        rc_heap *h = gct_heap();
        rc_gc_disable(h);
        tnode *ring[200];
        tnode *first = tn_ring(h, t, 200, 0, ring);
        first->on_clear = untrack_user;
        first->user = ring[at];
        rc_decref(first);
        rc_decref(tn_ring(h, t, 2, 1000, NULL)); /* more of the list after the ring */
        intptr_t found = -1;
        CHECK(collect_bulk(h, 2, &found));
        CHECK_EQ(found, 202);
        CHECK_EQ(rc_live_objects(h), 0);
        CHECK_EQ(rc_gc_generation_size(h, 2), 0);
        GCT_END_HEAP(h);
    }
}

/* A clear that keeps an object alive: the object itself (the first of the
 * list, the deletion's own), or one far ahead, which the deletion then
 * meets alive and clears too.  Either survives, emptied, in the oldest
 * generation (the collection was full), listed once; found counts it (as
 * CPython's does: it was garbage when found); dropped, it is freed. */
static void test_clear_keeps_alive(const rc_type *t) {
    for (int far = 0; far < 2; far++) {
        rc_heap *h = gct_heap();
        rc_gc_disable(h);
        tnode *ring[300];
        tnode *first = tn_ring(h, t, 300, 0, ring);
        first->on_clear = far ? save_user : save_self;
        first->user = ring[250];
        tnode *kept = far ? ring[250] : first;
        rc_decref(first);
        intptr_t found = -1;
        CHECK(collect_bulk(h, 2, &found));
        CHECK_EQ(found, 300);
        CHECK_EQ(rc_live_objects(h), 1);
        CHECK_EQ(rc_refcount(kept), 1);
        CHECK_EQ(kept->clear_calls, 1);
        CHECK_PTR_EQ(kept->ref[0], NULL);
        CHECK_EQ(rc_gc_generation_size(h, 2), 1);
        CHECK_EQ(gct_in_generation(h, 2, kept), 1);
        CHECK_EQ(rc_gc_is_tracked(kept), 1);
        /* the lists are whole: new garbage next to it is found */
        rc_decref(tn_ring(h, t, 4, 1000, NULL));
        CHECK(!collect_bulk(h, 2, &found)); /* kept is reachable */
        CHECK_EQ(found, 4);
        CHECK_EQ(rc_gc_generation_size(h, 2), 1);
        gct_drop_saved();
        CHECK_EQ(rc_live_objects(h), 0);
        CHECK_EQ(rc_gc_generation_size(h, 2), 0);
        GCT_END_HEAP(h);
    }
}

/* Objects without a clear in an all-garbage set: a ring made only of them
 * is uncollectable (it goes to the garbage list); one among clearable
 * objects is freed when a neighbour's clear frees it. */
static void test_unclearable(const rc_type *t) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    rc_decref(tn_ring(h, &tnoclear_type, 3, 0, NULL));
    intptr_t found = -1;
    CHECK(collect_bulk(h, 2, &found));
    CHECK_EQ(found, 3);
    CHECK_EQ(rc_gc_garbage_count(h), 3);
    CHECK_EQ(rc_live_objects(h), 3);
    rc_gc_gen_stats st[RC_GC_GENERATIONS];
    rc_gc_get_stats(h, st);
    CHECK_EQ(st[2].uncollectable, 3);
    gct_release_garbage(h);
    CHECK_EQ(rc_live_objects(h), 0);

    tnode *a = tn_new(h, &tnoclear_type, 1), *b = tn_new(h, t, 2), *c = tn_new(h, &tnoclear_type, 3);
    a->ref[0] = b; /* steal */
    b->ref[0] = c;
    tn_set(c, 0, a);
    rc_decref(a);
    CHECK(collect_bulk(h, 2, &found));
    CHECK_EQ(found, 3);
    CHECK_EQ(rc_gc_garbage_count(h), 0);
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* What makes a collection mark even though all its set is garbage: a live
 * object with a finalizer anywhere in the heap, a live weakref, saving
 * everything, reporting each collectable object.  The results are the
 * same. */
static void test_no_bulk_when(const rc_type *t) {
    for (int why = 0; why < 4; why++) {
        rc_heap *h = gct_heap();
        rc_gc_disable(h);
        tnode *fin = why == 0 ? tn_new(h, &tfin_type, 99) : NULL;
        tnode *target = why == 1 ? tn_new(h, &tleaf_type, 98) : NULL;
        void *w = why == 1 ? rc_weakref_new(target, NULL, NULL) : NULL;
        if (why == 1)
            CHECK_NOT_NULL(w);
        for (int i = 0; i < 10; i++)
            rc_decref(tn_ring(h, t, 2, 10 * i, NULL));
        unsigned flags = why == 2 ? RC_GC_DEBUG_SAVEALL : why == 3 ? RC_GC_DEBUG_COLLECTABLE : 0;
        intptr_t found = -1;
        const char *out = NULL;
        CHECK(!collect_bulk_flags(h, 2, flags, &found, &out));
        CHECK_EQ(found, 20);
        if (why == 2) {
            CHECK_EQ(rc_gc_garbage_count(h), 20);
            gct_release_garbage(h);
        }
        if (why == 3)
            CHECK_EQ(gct_count_lines(out, "gc: collectable <"), 20);
        if (fin)
            rc_decref(fin);
        if (w)
            rc_decref(w);
        if (target)
            rc_decref(target);
        CHECK_EQ(rc_live_objects(h), 0);
        GCT_END_HEAP(h);
    }
}

/* 40 long-lived objects (a root and 39 objects in cycles with it) made
 * and kept by a full collection; then, with automatic collection at
 * thresholds (1, 1, 1), young objects (kept) until the first automatic
 * full collection, which the 25% rule holds back until enough objects
 * have reached the oldest generation.  Returns how many young objects
 * that took, after freeing everything. */
static int allocs_until_full(rc_heap *h, const rc_type *t) {
    tnode *root = tn_new(h, t, 0);
    for (int i = 1; i < 40; i++) {
        tnode *x = tn_new(h, t, i);
        tn_set(x, 0, root);
        tn_set(root, 1, x); /* root -> the newest, each x -> root and itself */
        tn_set(x, 1, x);
        gct_save_ref(x);
        rc_decref(x);
    }
    intptr_t found = -1;
    CHECK(!collect_bulk(h, 2, &found));
    CHECK_EQ(found, 0);
    CHECK_EQ(rc_gc_generation_size(h, 2), 40);
    size_t full0 = gct_collections(h, 2);
    rc_gc_set_threshold(h, 1, 1, 1);
    rc_gc_enable(h);
    tnode *young[200];
    int n = 0;
    while (n < 200 && gct_collections(h, 2) == full0) {
        young[n] = tn_new(h, t, 100 + n);
        n++;
    }
    rc_gc_disable(h);
    for (int i = 0; i < n; i++)
        rc_decref(young[i]);
    gct_drop_saved();
    rc_decref(root);
    return n;
}

/* Survivors of a full collection are old; dropped, they are garbage of the
 * oldest generation, deleted in bulk, and the collector's count of old
 * objects must not keep them: the 25% rule then times the next automatic
 * full collection exactly as in a heap that never had them. */
static void test_old_objects(const rc_type *t) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    tnode *keep[400];
    for (int i = 0; i < 400; i++)
        keep[i] = tn_ring(h, t, 2, 10 * i, NULL);
    intptr_t found = -1;
    CHECK(!collect_bulk(h, 2, &found));
    CHECK_EQ(found, 0);
    CHECK_EQ(rc_gc_generation_size(h, 2), 800);
    for (int i = 0; i < 400; i++)
        rc_decref(keep[i]);
    CHECK(collect_bulk(h, 2, &found));
    CHECK_EQ(found, 800);
    CHECK_EQ(rc_live_objects(h), 0);
    int after_bulk = allocs_until_full(h, t);
    GCT_END_HEAP(h);

    h = gct_heap();
    rc_gc_disable(h);
    int fresh = allocs_until_full(h, t);
    GCT_END_HEAP(h);
    CHECK_EQ(after_bulk, fresh);
    CHECK_GT(fresh, 1);
    CHECK_LT(fresh, 200);
}


TN_FOR_BOTH_TYPES(test_rings)
TN_FOR_BOTH_TYPES(test_young_all_garbage)
TN_FOR_BOTH_TYPES(test_one_reachable_object)
TN_FOR_BOTH_TYPES(test_far_cascade)
TN_FOR_BOTH_TYPES(test_clear_untracks)
TN_FOR_BOTH_TYPES(test_clear_keeps_alive)
TN_FOR_BOTH_TYPES(test_unclearable)
TN_FOR_BOTH_TYPES(test_no_bulk_when)
TN_FOR_BOTH_TYPES(test_old_objects)

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_rings_both);
    RUN_TEST(test_young_all_garbage_both);
    RUN_TEST(test_one_reachable_object_both);
    RUN_TEST(test_far_cascade_both);
    RUN_TEST(test_clear_untracks_both);
    RUN_TEST(test_clear_keeps_alive_both);
    RUN_TEST(test_unclearable_both);
    RUN_TEST(test_no_bulk_when_both);
    RUN_TEST(test_old_objects_both);
    return check_summary();
}
