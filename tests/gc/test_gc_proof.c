/*
 * tests/gc/test_gc_proof.c — collections that prove everything reachable
 * from the scan order instead of marking (gc.c: "Proof by scan order" and
 * "The quick proof").
 *
 * Which way a collection went is read from the RC_GC_DEBUG_STATS output:
 * "gc: all N objects reachable, proved by scan order (first pass)" or
 * "(quick proof)", and no such line when the collection marked.  Each test
 * checks the answer (what was found), that every object is still in the
 * generation it should be in, listed once, with its references, and that
 * the lists are whole afterwards (each object, dropped, unlinks itself,
 * and later collections find garbage made of objects a proof went over).
 *
 * Each shape runs on two container types of the same layout: tnode, whose
 * type has traverse only, and rnode, whose type also has refs (the
 * collector reads its references as an array: the other loop).
 */
#include "gctest.h"


enum { MARKED, FIRST_PASS, QUICK };

/* rc_gc_collect(h, gen), and how it settled reachability (MARKED,
 * FIRST_PASS, QUICK), read from the STATS output; *found its result. */
static int collect_how(rc_heap *h, int gen, intptr_t *found) {
    const char *out = gct_collect_debug(h, gen, 0, found);
    int how = MARKED;
    if (strstr(out, "proved by scan order (first pass)"))
        how = FIRST_PASS;
    else if (strstr(out, "proved by scan order (quick proof)"))
        how = QUICK;
    CHECK_LE(gct_count_lines(out, "proved by scan order"), 1);
    return how;
}

static size_t listed(rc_heap *h, int gen) {
    gct_find f = {NULL, 0, 0};
    rc_gc_get_objects(h, gen, gct_find_fn, &f);
    return f.seen;
}

/* A tree made top-down is proved reachable by the first pass of its first
 * full collection, and by the quick proof from the second on; it stays
 * whole, in the oldest generation, and frees itself when dropped. */
static void test_tree_proved(const rc_type *t) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    long id = 0;
    tnode *root = tn_tree(h, t, 8, false, &id);
    const size_t nodes = 511;
    intptr_t found = -1;
    CHECK_EQ(collect_how(h, 2, &found), FIRST_PASS);
    CHECK_EQ(found, 0);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(collect_how(h, 2, &found), QUICK);
        CHECK_EQ(found, 0);
        CHECK_EQ(tn_tree_count(root), nodes);
        CHECK_EQ(rc_gc_generation_size(h, 2), nodes);
        CHECK_EQ(rc_gc_generation_size(h, 0), 0);
        CHECK_EQ(listed(h, 2), nodes);
        CHECK_EQ(gct_in_generation(h, 2, root), 1);
    }
    rc_decref(root);
    CHECK_EQ(rc_live_objects(h), 0);
    CHECK_EQ(rc_gc_generation_size(h, 2), 0);
    CHECK_EQ(collect_how(h, 2, &found), QUICK); /* an empty set proves itself */
    CHECK_EQ(found, 0);
    GCT_END_HEAP(h);
}

/* Garbage makes the quick proof fail wherever it lies in the list (first,
 * or after the live tree): the collection then marks and finds exactly the
 * garbage, the next one proves by its first pass, the one after by the
 * quick proof. */
static void test_garbage_fails_the_proof(const rc_type *t) {
    for (int garbage_first = 0; garbage_first < 2; garbage_first++) {
        rc_heap *h = gct_heap();
        rc_gc_disable(h);
        long id = 0;
        tnode *ring[3];
        tnode *early = garbage_first ? tn_ring(h, t, 3, 1000, ring) : NULL;
        tnode *root = tn_tree(h, t, 6, false, &id);
        const size_t nodes = 127;
        intptr_t found = -1;
        CHECK_EQ(collect_how(h, 2, &found), FIRST_PASS);
        CHECK_EQ(collect_how(h, 2, &found), QUICK);
        if (garbage_first)
            rc_decref(early); /* the ring, oldest of all, is garbage now */
        else
            rc_decref(tn_ring(h, t, 3, 1000, ring)); /* newest of all */
        CHECK_EQ(collect_how(h, 2, &found), MARKED);
        CHECK_EQ(found, 3);
        CHECK_EQ(tn_tree_count(root), nodes);
        CHECK_EQ(rc_gc_generation_size(h, 2), nodes);
        CHECK_EQ(listed(h, 2), nodes);
        CHECK_EQ(collect_how(h, 2, &found), FIRST_PASS);
        CHECK_EQ(collect_how(h, 2, &found), QUICK);
        CHECK_EQ(found, 0);
        CHECK_EQ(tn_tree_count(root), nodes);
        rc_decref(root);
        CHECK_EQ(rc_live_objects(h), 0);
        GCT_END_HEAP(h);
    }
}

/* A young generation, scanned oldest first: the quick proof goes over a
 * new tree (giving each node its next generation as it goes) and fails
 * only at the garbage ring made after it, three of whose four objects it
 * went over too.  Everything it changed is put back before marking, which
 * finds exactly the ring, and moves the trees up. */
static void test_young_garbage_after_proof(const rc_type *t) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    long id = 0;
    tnode *first = tn_tree(h, t, 5, false, &id);
    intptr_t found = -1;
    CHECK_EQ(collect_how(h, 0, &found), FIRST_PASS);
    tnode *second = tn_tree(h, t, 5, false, &id);
    rc_decref(tn_ring(h, t, 4, 5000, NULL));
    CHECK_EQ(collect_how(h, 0, &found), MARKED);
    CHECK_EQ(found, 4);
    CHECK_EQ(rc_gc_generation_size(h, 0), 0);
    CHECK_EQ(rc_gc_generation_size(h, 1), 2 * 63);
    CHECK_EQ(listed(h, 1), 2 * 63);
    CHECK_EQ(tn_tree_count(first) + tn_tree_count(second), 2 * 63);
    rc_decref(first);
    rc_decref(second);
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* a <-> b, a made first.  While both are referred to from outside, a's
 * count outlasts b's reference back to it, and the proofs hold (the quick
 * one keeps a's count in a's link meanwhile).  With only b referred to from
 * outside, a, taken for a root, has no count left once b's reference is
 * counted: the proof fails, and marking keeps both (reached through b).
 * Marking puts a after b, so the next collections prove again.  Dropped,
 * the pair is garbage and found. */
static void test_cycle_reached_through_later_object(const rc_type *t) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    tnode *a = tn_new(h, t, 1), *b = tn_new(h, t, 2);
    tn_set(a, 0, b);
    tn_set(b, 0, a);
    intptr_t found = -1;
    CHECK_EQ(collect_how(h, 2, &found), FIRST_PASS);
    CHECK_EQ(collect_how(h, 2, &found), QUICK);
    CHECK_EQ(collect_how(h, 2, &found), QUICK);
    CHECK_EQ(found, 0);
    CHECK_EQ(listed(h, 2), 2);
    rc_decref(a); /* a is reached through b alone */
    CHECK_EQ(collect_how(h, 2, &found), MARKED);
    CHECK_EQ(found, 0);
    CHECK_PTR_EQ(b->ref[0], a);
    CHECK_PTR_EQ(a->ref[0], b);
    CHECK_EQ(a->id, 1);
    CHECK_EQ(a->clear_calls + b->clear_calls, 0);
    CHECK_EQ(rc_gc_generation_size(h, 2), 2);
    CHECK_EQ(collect_how(h, 2, &found), FIRST_PASS);
    CHECK_EQ(collect_how(h, 2, &found), QUICK);
    CHECK_EQ(found, 0);
    rc_decref(b);
    CHECK_EQ(rc_live_objects(h), 2);
    CHECK_EQ(collect_how(h, 2, &found), MARKED);
    CHECK_EQ(found, 2);
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* In a full collection, an object touched and done with can be reached
 * again by a later object (c, shared by a and b, and referring to itself):
 * the quick proof then cleans up with a walk over the whole list.  Nothing
 * of the proof may stay on c: once a and b are gone, c is a garbage
 * self-loop, and a collection must find it. */
static void test_object_reached_after_its_turn(const rc_type *t) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    tnode *a = tn_new(h, t, 1), *c = tn_new(h, t, 3);
    tn_set(a, 0, c);
    tn_set(c, 0, c);
    tnode *b = tn_new(h, t, 2);
    tn_set(b, 0, c);
    rc_decref(c);
    intptr_t found = -1;
    CHECK_EQ(collect_how(h, 2, &found), FIRST_PASS);
    CHECK_EQ(collect_how(h, 2, &found), QUICK);
    CHECK_EQ(collect_how(h, 2, &found), QUICK);
    CHECK_EQ(found, 0);
    CHECK_EQ(listed(h, 2), 3);
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(rc_live_objects(h), 1);
    CHECK_EQ(collect_how(h, 2, &found), MARKED);
    CHECK_EQ(found, 1);
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* More objects taken for roots than the quick proof remembers (64): young
 * objects each held from outside, a child each, and the last referring
 * back to the 151st, whose count is then kept in its link.  Young and full
 * collections prove them reachable (the first pass, then the quick proof,
 * which cleans up with a walk), young ones move them up a generation, and
 * everything frees itself at the end. */
static void test_many_taken_roots(const rc_type *t) {
    enum { N = 200 };
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    tnode *held[N];
    intptr_t found = -1;
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            held[i] = tn_new(h, t, i);
            held[i]->ref[0] = tn_new(h, t, 1000 + i); /* steal */
        }
        tn_set(held[N - 1], 1, held[150]);
        CHECK_EQ(collect_how(h, 0, &found), round == 0 ? FIRST_PASS : QUICK);
        CHECK_EQ(found, 0);
        CHECK_EQ(rc_gc_generation_size(h, 0), 0);
        CHECK_EQ(rc_gc_generation_size(h, 1), 2 * N);
        CHECK_EQ(listed(h, 1), 2 * N);
        if (round == 1)
            break;
        for (int i = 0; i < N; i++)
            rc_decref(held[i]);
        CHECK_EQ(rc_live_objects(h), 0);
        CHECK_EQ(rc_gc_generation_size(h, 1), 0);
    }
    CHECK_EQ(collect_how(h, 2, &found), FIRST_PASS);
    CHECK_EQ(collect_how(h, 2, &found), QUICK);
    CHECK_EQ(found, 0);
    CHECK_EQ(rc_gc_generation_size(h, 2), 2 * N);
    CHECK_EQ(listed(h, 2), 2 * N);
    CHECK_PTR_EQ(held[N - 1]->ref[1], held[150]);
    for (int i = 0; i < N; i++)
        rc_decref(held[i]);
    CHECK_EQ(rc_live_objects(h), 0);
    CHECK_EQ(rc_gc_generation_size(h, 2), 0);
    GCT_END_HEAP(h);
}

/* Trees built bottom-up turn a young generation's scan around (newest
 * first); proofs then hold in that direction too, and garbage found in it
 * is found exactly. */
static void test_proof_newest_first(const rc_type *t) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    long id = 0;
    enum { ROUNDS = 6 };
    tnode *live[ROUNDS];
    const size_t nodes = 63;
    intptr_t found = -1;
    int hows[ROUNDS];
    for (int round = 0; round < ROUNDS; round++) {
        live[round] = tn_tree(h, t, 5, true, &id);
        if (round == 4)
            rc_decref(tn_ring(h, t, 4, 5000, NULL));
        hows[round] = collect_how(h, 0, &found);
        CHECK_EQ(found, round == 4 ? 4 : 0);
        CHECK_EQ(rc_gc_generation_size(h, 1), (size_t)(round + 1) * nodes);
        CHECK_EQ(listed(h, 1), (size_t)(round + 1) * nodes);
    }
    /* the first scan went oldest first and marked (children before their
     * parents), then newest first: the first pass proved, then the quick
     * proof, until the garbage; then the first pass again */
    CHECK_EQ(hows[0], MARKED);
    CHECK_EQ(hows[1], FIRST_PASS);
    CHECK_EQ(hows[2], QUICK);
    CHECK_EQ(hows[3], QUICK);
    CHECK_EQ(hows[4], MARKED);
    CHECK_EQ(hows[5], FIRST_PASS);
    for (int round = 0; round < ROUNDS; round++)
        CHECK_EQ(tn_tree_count(live[round]), nodes);
    for (int round = 0; round < ROUNDS; round++)
        rc_decref(live[round]);
    CHECK_EQ(rc_live_objects(h), 0);
    CHECK_EQ(rc_gc_generation_size(h, 1), 0);
    GCT_END_HEAP(h);
}


TN_FOR_BOTH_TYPES(test_tree_proved)
TN_FOR_BOTH_TYPES(test_garbage_fails_the_proof)
TN_FOR_BOTH_TYPES(test_young_garbage_after_proof)
TN_FOR_BOTH_TYPES(test_cycle_reached_through_later_object)
TN_FOR_BOTH_TYPES(test_object_reached_after_its_turn)
TN_FOR_BOTH_TYPES(test_many_taken_roots)
TN_FOR_BOTH_TYPES(test_proof_newest_first)

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_tree_proved_both);
    RUN_TEST(test_garbage_fails_the_proof_both);
    RUN_TEST(test_young_garbage_after_proof_both);
    RUN_TEST(test_cycle_reached_through_later_object_both);
    RUN_TEST(test_object_reached_after_its_turn_both);
    RUN_TEST(test_many_taken_roots_both);
    RUN_TEST(test_proof_newest_first_both);
    return check_summary();
}
