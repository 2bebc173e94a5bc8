/*
 * test_gc_generations.c — the generational machinery: get_count, thresholds
 * and automatic collection, enable/disable, the long-lived (25%) rule for
 * full collections, statistics per generation, freeze/unfreeze.
 *
 * test_gc.py counterparts: test_get_count, test_collect_generations,
 * test_get_stats, test_freeze, test_del (automatic collection with
 * threshold 1), and the collector's scheduling (gc.set_threshold).
 */
#include "gctest.h"

/* ---- get_count ------------------------------------------------------------------------ */

/* test_get_count: container allocations minus deallocations since the last
 * gen-0 collection; non-containers do not count. */
static void test_get_count_allocations(void) {
    rc_heap *h = gct_heap();
    rc_gc_set_threshold(h, 100000, 10, 10);
    rc_gc_collect(h, 2);
    long c[3];
    rc_gc_get_count(h, c);
    CHECK_EQ(c[0], 0);
    CHECK_EQ(c[1], 0);
    CHECK_EQ(c[2], 0);
    tnode *n[5];
    for (int i = 0; i < 5; i++)
        n[i] = tn_new(h, &tnode_type, i);
    CHECK_EQ(gct_count(h, 0), 5);
    tnode *leaf = tn_new(h, &tleaf_type, 9); /* not a container */
    CHECK_EQ(gct_count(h, 0), 5);
    rc_decref(leaf);
    CHECK_EQ(gct_count(h, 0), 5);
    rc_decref(n[0]);
    rc_decref(n[1]);
    CHECK_EQ(gct_count(h, 0), 3);
    rc_gc_get_count(h, c);
    CHECK_EQ(c[1], 0);
    CHECK_EQ(c[2], 0);
    for (int i = 2; i < 5; i++)
        rc_decref(n[i]);
    CHECK_EQ(gct_count(h, 0), 0);
    /* deallocations of objects from before the last collection do not push
     * the count below zero */
    tnode *old = tn_new(h, &tnode_type, 1);
    rc_gc_collect(h, 0);
    CHECK_EQ(gct_count(h, 0), 0);
    rc_decref(old);
    CHECK_EQ(gct_count(h, 0), 0);
    GCT_END_HEAP(h);
}

/* test_collect_generations: collect(0) -> (_, 1, 0); collect(1) -> (_, 0, 1);
 * collect(2) -> (_, 0, 0). */
static void test_get_count_collections(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    rc_gc_collect(h, 2);
    tnode *x = tn_new(h, &tnode_type, 1);
    rc_gc_collect(h, 0);
    long c[3];
    rc_gc_get_count(h, c);
    CHECK_EQ(c[0], 0);
    CHECK_EQ(c[1], 1);
    CHECK_EQ(c[2], 0);
    rc_gc_collect(h, 0);
    rc_gc_collect(h, 0);
    rc_gc_get_count(h, c);
    CHECK_EQ(c[1], 3);
    rc_gc_collect(h, 1);
    rc_gc_get_count(h, c);
    CHECK_EQ(c[0], 0);
    CHECK_EQ(c[1], 0);
    CHECK_EQ(c[2], 1);
    rc_gc_collect(h, 2);
    rc_gc_get_count(h, c);
    CHECK_EQ(c[0], 0);
    CHECK_EQ(c[1], 0);
    CHECK_EQ(c[2], 0);
    rc_decref(x);
    GCT_END_HEAP(h);
}

/* Untracking changes nothing in the count: it counts allocations minus
 * deallocations of containers, tracked or not (CPython decrements it in
 * PyObject_GC_Del whatever the object's tracking state).  A container made,
 * untracked and freed leaves the count where it was. */
static void test_get_count_untracked_containers(void) {
    rc_heap *h = gct_heap();
    rc_gc_set_threshold(h, 100000, 10, 10);
    rc_gc_collect(h, 2);
    tnode *keep = tn_new(h, &tnode_type, 0);
    long before = gct_count(h, 0);
    CHECK_EQ(before, 1);
    tnode *n = tn_new(h, &tnode_type, 1);
    CHECK_EQ(gct_count(h, 0), before + 1);
    rc_gc_untrack(n);
    rc_gc_track(n);
    rc_gc_untrack(n);
    rc_decref(n);
    CHECK_EQ(gct_count(h, 0), before);
    /* in bulk: 1000 containers untracked at birth and dropped must not add
     * up to a gen-0 collection's worth of count */
    rc_gc_set_threshold(h, 700, 10, 10);
    size_t c0 = gct_collections(h, 0);
    for (int i = 0; i < 1000; i++) {
        tnode *t = tn_new(h, &tnode_type, i);
        rc_gc_untrack(t);
        rc_decref(t);
    }
    CHECK_EQ(gct_count(h, 0), before);
    CHECK_EQ(gct_collections(h, 0), c0);
    rc_decref(keep);
    GCT_END_HEAP(h);
}

/* ---- Thresholds and automatic collection ------------------------------------------------------ */

static void test_default_threshold_and_setters(void) {
    rc_heap *h = gct_heap();
    long t[3];
    rc_gc_get_threshold(h, t);
    CHECK_EQ(t[0], 700);
    CHECK_EQ(t[1], 10);
    CHECK_EQ(t[2], 10);
    CHECK(rc_gc_is_enabled(h));
    rc_gc_set_threshold(h, 5, 6, 7);
    rc_gc_get_threshold(h, t);
    CHECK_EQ(t[0], 5);
    CHECK_EQ(t[1], 6);
    CHECK_EQ(t[2], 7);
    rc_gc_set_threshold(h, -3, -1, 0); /* negative: taken as 0 */
    rc_gc_get_threshold(h, t);
    CHECK_EQ(t[0], 0);
    CHECK_EQ(t[1], 0);
    CHECK_EQ(t[2], 0);
    rc_gc_disable(h);
    CHECK(!rc_gc_is_enabled(h));
    rc_gc_disable(h);
    CHECK(!rc_gc_is_enabled(h));
    rc_gc_enable(h);
    CHECK(rc_gc_is_enabled(h));
    GCT_END_HEAP(h);
}

/* The trigger point: allocating threshold-0 containers collects nothing;
 * the next one (the count exceeds the threshold) starts a gen-0
 * collection. */
static void test_threshold_trigger_point(void) {
    static const long thresholds[] = {1, 10, 50};
    for (size_t ti = 0; ti < 3; ti++) {
        long t0 = thresholds[ti];
        rc_heap *h = gct_heap();
        rc_gc_set_threshold(h, t0, 1000, 1000);
        rc_gc_collect(h, 2);
        size_t c0 = gct_collections(h, 0);
        tnode **keep = malloc((size_t)(t0 + 1) * sizeof *keep);
        for (long i = 0; i < t0; i++)
            keep[i] = tn_new(h, &tnode_type, i);
        CHECK_EQ(gct_count(h, 0), t0);
        CHECK_MSG(gct_collections(h, 0) == c0, "threshold %ld: collected after %ld allocations",
                  t0, t0);
        keep[t0] = tn_new(h, &tnode_type, t0);
        CHECK_MSG(gct_collections(h, 0) == c0 + 1,
                  "threshold %ld: allocation %ld (count %ld > threshold) did not collect "
                  "(count now %ld)",
                  t0, t0 + 1, t0 + 1, gct_count(h, 0));
        for (long i = 0; i <= t0; i++)
            rc_decref(keep[i]);
        free(keep);
        GCT_END_HEAP(h);
    }
}

/* What an automatic gen-0 collection does: frees the young garbage, moves
 * the young survivors to gen 1, resets count 0 and bumps count 1. */
static void test_automatic_gen0_collection(void) {
    rc_heap *h = gct_heap();
    rc_gc_set_threshold(h, 10, 1000, 1000);
    rc_gc_collect(h, 2);
    size_t c0 = gct_collections(h, 0);
    /* 5 self-loops dropped (garbage) + 5 kept = 10 allocations */
    tnode *keep[5];
    for (int i = 0; i < 5; i++) {
        tn_garbage_self(h, &tnode_type, i);
        keep[i] = tn_new(h, &tnode_type, 100 + i);
    }
    CHECK_EQ(gct_collections(h, 0), c0);
    CHECK_EQ(rc_live_objects(h), 10);
    /* allocate until a collection happens (see test_threshold_trigger_point
     * for exactly when) */
    tnode *extra[4];
    int nextra = 0;
    while (gct_collections(h, 0) == c0 && nextra < 4) {
        extra[nextra] = tn_new(h, &tnode_type, 200 + nextra);
        nextra++;
    }
    if (!CHECK_EQ(gct_collections(h, 0), c0 + 1))
        return;
    tnode *trigger = extra[nextra - 1];
    CHECK_EQ(gct_collections(h, 1), 0);
    CHECK_EQ(gct_collections(h, 2), 1); /* the explicit one */
    CHECK_LE(gct_count(h, 0), 1);      /* reset (the new object may count) */
    CHECK_EQ(gct_count(h, 1), 1);
    CHECK_EQ(rc_live_objects(h), 5 + (size_t)nextra); /* the garbage went */
    rc_gc_gen_stats s[3];
    rc_gc_get_stats(h, s);
    CHECK_EQ(s[0].collected, 5);
    CHECK_EQ(s[0].uncollectable, 0);
    /* the survivors moved up; the object that triggered it is young */
    for (int i = 0; i < 5; i++)
        CHECK_EQ(gct_in_generation(h, 1, keep[i]), 1);
    CHECK_EQ(gct_in_generation(h, 0, trigger), 1);
    for (int i = 0; i < 5; i++)
        rc_decref(keep[i]);
    for (int i = 0; i < nextra; i++)
        rc_decref(extra[i]);
    GCT_END_HEAP(h);
}

/* Deallocations lower the count: allocate/free pairs never collect. */
static void test_deallocations_lower_the_count(void) {
    rc_heap *h = gct_heap();
    rc_gc_set_threshold(h, 10, 10, 10);
    rc_gc_collect(h, 2);
    size_t c0 = gct_collections(h, 0);
    for (int i = 0; i < 10000; i++)
        rc_decref(tn_new(h, &tnode_type, i));
    CHECK_EQ(gct_collections(h, 0), c0);
    CHECK_EQ(gct_count(h, 0), 0);
    GCT_END_HEAP(h);
}

/* Older generations: every threshold-1 collections of gen 0, gen 1 is
 * collected (instead of gen 0) when its count exceeds threshold 1. */
static void test_threshold_triggers_gen1_and_gen2(void) {
    rc_heap *h = gct_heap();
    rc_gc_set_threshold(h, 10, 3, 2);
    rc_gc_collect(h, 2);
    rc_gc_gen_stats base[3];
    rc_gc_get_stats(h, base);
    /* allocate garbage one object at a time and watch collections happen */
    size_t autos = 0, allocs = 0, last_at = 0;
    size_t gen_seq[64];
    rc_gc_gen_stats prev[3];
    rc_gc_get_stats(h, prev);
    while (autos < 40 && allocs < 100000) {
        tn_garbage_self(h, &tnode_type, (long)allocs);
        allocs++;
        rc_gc_gen_stats now[3];
        rc_gc_get_stats(h, now);
        for (int g = 0; g < 3; g++) {
            if (now[g].collections != prev[g].collections) {
                CHECK_EQ(now[g].collections, prev[g].collections + 1);
                gen_seq[autos++] = (size_t)g;
                /* spacing: threshold 0 (+1) allocations between collections */
                if (autos > 1)
                    CHECK_MSG(allocs - last_at == 10 || allocs - last_at == 11,
                              "collection %zu came %zu allocations after the last", autos,
                              allocs - last_at);
                last_at = allocs;
            }
        }
        memcpy(prev, now, sizeof prev);
    }
    CHECK_EQ(autos, 40);
    /* The pattern with thresholds (10, 3, 2), as CPython schedules it: the
     * oldest generation whose count exceeds its threshold is collected.
     * count[1] > 3 after four gen-0 collections, so the fifth is a gen-1
     * collection; count[2] > 2 after three gen-1 collections, so the next
     * one is a full collection (the 25% rule does not hold it back: gen 2
     * holds nothing long-lived).  Then all counts are zero again. */
    static const size_t want[16] = {0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2};
    for (size_t i = 0; i < 40; i++)
        CHECK_MSG(gen_seq[i] == want[i % 16], "collection %zu: generation %zu, want %zu", i,
                  gen_seq[i], want[i % 16]);
    CHECK_LT(rc_live_objects(h), 12);
    GCT_END_HEAP(h);
}

/* test_del: threshold 1 — collections during a finalizer's allocations. */
static void alloc_in_finalizer(tnode *self) {
    rc_heap *h = rc_heap_of(self);
    for (int i = 0; i < 5; i++)
        tn_garbage_self(h, &tnode_type, 500 + i);
}

static void test_threshold_one(void) {
    rc_heap *h = gct_heap();
    gct_fin_total = 0;
    rc_gc_set_threshold(h, 1, 1, 1);
    for (int i = 0; i < 200; i++) {
        tnode *a = tn_new(h, &tfin_type, i);
        a->on_finalize = alloc_in_finalizer;
        if (i % 3 == 0)
            tn_set(a, 0, a); /* some in cycles, the others die by refcount */
        rc_decref(a);
    }
    CHECK_GT(gct_collections(h, 0), 100);
    CHECK_GT(gct_collections(h, 1), 10);
    rc_gc_set_threshold(h, 700, 10, 10);
    rc_gc_collect(h, 2);
    CHECK_EQ(gct_fin_total, 200);
    gct_fin_total = 0;
    GCT_END_HEAP(h);
}

/* Threshold 0 disables automatic collection; so does rc_gc_disable;
 * rc_gc_collect still works in both cases. */
static void test_disable_automatic(void) {
    rc_heap *h = gct_heap();
    rc_gc_set_threshold(h, 0, 10, 10);
    for (int i = 0; i < 20000; i++)
        tn_garbage_self(h, &tnode_type, i);
    CHECK_EQ(gct_collections(h, 0) + gct_collections(h, 1) + gct_collections(h, 2), 0);
    CHECK_EQ(rc_live_objects(h), 20000);
    CHECK_EQ(gct_count(h, 0), 20000);
    CHECK_EQ(rc_gc_collect(h, 2), 20000);

    rc_gc_set_threshold(h, 50, 10, 10);
    rc_gc_disable(h);
    for (int i = 0; i < 20000; i++)
        tn_garbage_self(h, &tnode_type, i);
    CHECK_EQ(gct_collections(h, 0) + gct_collections(h, 1), 0);
    CHECK_EQ(rc_live_objects(h), 20000);
    CHECK_EQ(rc_gc_collect(h, 0), 20000);
    CHECK_EQ(rc_live_objects(h), 0);
    /* enabled again: collections resume */
    rc_gc_enable(h);
    for (int i = 0; i < 1000; i++)
        tn_garbage_self(h, &tnode_type, i);
    CHECK_GT(gct_collections(h, 0), 10);
    CHECK_LE(rc_live_objects(h), 51);
    GCT_END_HEAP(h);
}

/* ---- The long-lived rule ------------------------------------------------------------------- */

typedef struct full_watch {
    rc_heap *h;
    size_t fulls;          /* gen-2 collections seen */
    size_t last_total;     /* gen-2 size right after the last one */
    size_t too_early;      /* full collections started with < 25% growth */
} full_watch;

static void watch_full(rc_heap *h, rc_gc_phase phase, const rc_gc_info *info, void *arg) {
    full_watch *w = arg;
    if (info->generation != 2)
        return;
    size_t gen2 = rc_gc_generation_size(h, 2);
    if (phase == RC_GC_START) {
        /* everything survives in this test, so gen 2 only grows: the objects
         * awaiting this collection are what came since the last one */
        if (w->fulls > 0 && gen2 - w->last_total < w->last_total / 4)
            w->too_early++;
        w->fulls++;
    } else {
        w->last_total = gen2;
    }
}

/* Many long-lived objects: full collections must not run on every overflow
 * of gen 1's count, only when the objects awaiting one reach 25% of those
 * in gen 2 — so their number grows with the logarithm of the heap, not
 * linearly. */
static void test_long_lived_rule(void) {
    rc_heap *h = gct_heap();
    rc_gc_set_threshold(h, 100, 1, 1);
    rc_gc_collect(h, 2);
    full_watch w = {h, 0, 0, 0};
    CHECK_EQ(rc_gc_callback_add(h, watch_full, &w), 0);
    size_t n = GCTEST_ON_VALGRIND() ? 40000 : gct_scale(200000);
    tnode **keep = malloc(n * sizeof *keep);
    if (!CHECK_NOT_NULL(keep))
        return;
    for (size_t i = 0; i < n; i++)
        keep[i] = tn_new(h, &tnode_type, (long)i);
    size_t fulls = gct_collections(h, 2) - 1; /* minus the explicit one */
    size_t gen1s = gct_collections(h, 1);
    printf("    %zu long-lived objects: %zu gen-0, %zu gen-1, %zu full collections\n", n,
           gct_collections(h, 0), gen1s, fulls);
    CHECK_EQ(fulls, w.fulls);
    CHECK_EQ(w.too_early, 0);
    CHECK_GE(fulls, 3);
    /* log_1.25(n / 100) + a few: about 30 for 200000 objects; without the
     * rule it would be about n / 400 */
    CHECK_LE(fulls, 45);
    CHECK_GT(gen1s, 4 * fulls);
    rc_gc_callback_remove(h, watch_full, &w);
    for (size_t i = 0; i < n; i++)
        rc_decref(keep[i]);
    free(keep);
    GCT_END_HEAP(h);
}

/* The control: the same thresholds with nothing long-lived — full
 * collections come at every overflow of gen 1's count. */
static void test_long_lived_rule_control(void) {
    rc_heap *h = gct_heap();
    rc_gc_set_threshold(h, 100, 1, 1);
    rc_gc_collect(h, 2);
    size_t n = GCTEST_ON_VALGRIND() ? 40000 : gct_scale(200000);
    for (size_t i = 0; i < n; i++)
        tn_garbage_self(h, &tnode_type, (long)i);
    size_t fulls = gct_collections(h, 2) - 1;
    size_t gen1s = gct_collections(h, 1);
    printf("    %zu garbage objects: %zu gen-0, %zu gen-1, %zu full collections\n", n,
           gct_collections(h, 0), gen1s, fulls);
    CHECK_GT(fulls, n / 1000);
    CHECK_LT(rc_live_objects(h), 102);
    GCT_END_HEAP(h);
}

/* ---- Statistics --------------------------------------------------------------------------- */

/* test_get_stats: collections per generation, and what they found. */
static void test_get_stats(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    rc_gc_gen_stats s[3], t[3];
    rc_gc_get_stats(h, s);
    for (int g = 0; g < 3; g++) {
        CHECK_EQ(s[g].collections, 0);
        CHECK_EQ(s[g].collected, 0);
        CHECK_EQ(s[g].uncollectable, 0);
    }
    rc_gc_collect(h, 0);
    rc_gc_get_stats(h, t);
    CHECK_EQ(t[0].collections, 1);
    CHECK_EQ(t[1].collections, 0);
    CHECK_EQ(t[2].collections, 0);
    rc_gc_collect(h, 2);
    rc_gc_get_stats(h, t);
    CHECK_EQ(t[0].collections, 1);
    CHECK_EQ(t[1].collections, 0);
    CHECK_EQ(t[2].collections, 1);
    /* what was found goes to the collecting generation's entry */
    for (int i = 0; i < 3; i++)
        tn_garbage_self(h, &tnode_type, i);
    tn_garbage_self(h, &tnoclear_type, 10);
    CHECK_EQ(rc_gc_collect(h, 1), 4);
    rc_gc_get_stats(h, t);
    CHECK_EQ(t[1].collections, 1);
    CHECK_EQ(t[1].collected, 3);
    CHECK_EQ(t[1].uncollectable, 1);
    CHECK_EQ(t[0].collected, 0);
    CHECK_EQ(t[2].collected, 0);
    CHECK_EQ(rc_gc_garbage_count(h), 1);
    GCT_END_HEAP(h);
}

/* ---- Freeze -------------------------------------------------------------------------------- */

/* test_freeze, and more: frozen objects leave the generations, are ignored
 * by collections (a frozen cycle is not collected), and come back in the
 * oldest generation with unfreeze. */
static void test_freeze(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    CHECK_EQ(rc_gc_freeze_count(h), 0);
    tnode *a = tn_new(h, &tnode_type, 1);
    rc_gc_collect(h, 1);
    tnode *b = tn_new(h, &tnode_type, 2);
    rc_gc_collect(h, 0);
    tnode *c = tn_new(h, &tnode_type, 3);
    tnode *cyc = tn_ring(h, &tnode_type, 4, 10, NULL);
    CHECK_GT(gct_count(h, 0), 0);
    rc_gc_freeze(h);
    CHECK_EQ(rc_gc_freeze_count(h), 7);
    CHECK_EQ(rc_gc_generation_size(h, 3), 7);
    for (int g = 0; g < 3; g++)
        CHECK_EQ(rc_gc_generation_size(h, g), 0);
    CHECK_EQ(gct_count(h, 0), 0);
    CHECK(rc_gc_is_tracked(a));
    /* the frozen cycle, now garbage, is ignored */
    rc_decref(cyc);
    for (int g = 0; g < 3; g++)
        CHECK_EQ(rc_gc_collect(h, g), 0);
    CHECK_EQ(rc_live_objects(h), 7);
    CHECK_EQ(rc_gc_freeze_count(h), 7);
    /* a frozen object freed by refcount leaves the permanent generation */
    rc_decref(c);
    CHECK_EQ(rc_gc_freeze_count(h), 6);
    /* young objects referenced only by frozen ones survive */
    tnode *y = tn_new(h, &tnode_type, 20);
    tn_set(a, 0, y);
    rc_decref(y);
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    CHECK_EQ(rc_live_objects(h), 7);
    /* freezing twice adds the new objects */
    rc_gc_freeze(h);
    CHECK_EQ(rc_gc_freeze_count(h), 7);
    rc_gc_unfreeze(h);
    CHECK_EQ(rc_gc_freeze_count(h), 0);
    CHECK_EQ(rc_gc_generation_size(h, 2), 7);
    CHECK_EQ(gct_in_generation(h, 2, a), 1);
    CHECK_EQ(gct_in_generation(h, 2, y), 1);
    CHECK_EQ(rc_gc_collect(h, 0), 0); /* gen 2 is not young */
    CHECK_EQ(rc_gc_collect(h, 2), 4); /* the cycle, at last */
    CHECK_EQ(rc_live_objects(h), 3);
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(rc_live_objects(h), 0);
    rc_gc_unfreeze(h); /* nothing frozen: no-op */
    CHECK_EQ(rc_gc_freeze_count(h), 0);
    GCT_END_HEAP(h);
}

/* Automatic collections with a big frozen heap do not look at it. */
static void test_freeze_automatic(void) {
    rc_heap *h = gct_heap();
    size_t n = gct_scale(100000);
    tnode *first = tn_ring(h, &tnode_type, n, 0, NULL);
    rc_gc_collect(h, 2);
    rc_gc_freeze(h);
    rc_decref(first); /* a frozen giant cycle: garbage nobody will look at */
    size_t fulls = gct_collections(h, 2);
    for (int i = 0; i < 100000; i++)
        tn_garbage_self(h, &tnode_type, i);
    CHECK_GT(gct_collections(h, 0), 100);
    (void)fulls;
    CHECK_EQ(rc_gc_freeze_count(h), n);
    CHECK_LE(rc_live_objects(h), n + 701);
    rc_gc_unfreeze(h);
    size_t live = rc_live_objects(h);
    CHECK_EQ(rc_gc_collect(h, 2), live);
    GCT_END_HEAP(h);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_get_count_allocations);
    RUN_TEST(test_get_count_collections);
    RUN_TEST(test_get_count_untracked_containers);
    RUN_TEST(test_default_threshold_and_setters);
    RUN_TEST(test_threshold_trigger_point);
    RUN_TEST(test_automatic_gen0_collection);
    RUN_TEST(test_deallocations_lower_the_count);
    RUN_TEST(test_threshold_triggers_gen1_and_gen2);
    RUN_TEST(test_threshold_one);
    RUN_TEST(test_disable_automatic);
    RUN_TEST(test_long_lived_rule);
    RUN_TEST(test_long_lived_rule_control);
    RUN_TEST(test_get_stats);
    RUN_TEST(test_freeze);
    RUN_TEST(test_freeze_automatic);
    return check_summary();
}
