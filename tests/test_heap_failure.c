/*
 * test_heap_failure.c — running out of memory: raw hooks that fail on
 * command, the max_bytes cap, and the promise that a failure is an ordinary
 * NULL after which the heap stays fully usable.  The counting hooks also
 * prove that a heap takes every byte through them and gives every byte back.
 */
#include "check.h"
#include "test_hooks.h"
#include "testutil.h"

#include <rcgc/heap.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* After destroy: every successful alloc hook call was matched by a free of the
 * same pointer, size and kind. */
static void check_balanced(const test_hooks *t) {
    CHECK_EQ(t->nlive, 0);
    CHECK_EQ(test_hooks_live(t, HOOK_ARENA), 0);
    CHECK_EQ(test_hooks_live(t, HOOK_LARGE), 0);
    CHECK_EQ(t->bytes_live, 0);
    CHECK_EQ(t->mismatches, 0);
    CHECK_EQ(t->bad_requests, 0);
    CHECK_EQ(t->arena_frees, t->arena.calls - t->arena.failures);
    CHECK_EQ(t->large_frees, t->large.calls - t->large.failures);
}

/* ---- Configuration ------------------------------------------------------- */

static void test_partial_hooks_rejected(void) {
    /* Each subset of the four required hooks that is not all of them. */
    for (unsigned mask = 0; mask < 15; mask++) {
        test_hooks t;
        test_hooks_init(&t, true);
        if (!(mask & 1))
            t.hooks.arena_alloc = NULL;
        if (!(mask & 2))
            t.hooks.arena_free = NULL;
        if (!(mask & 4))
            t.hooks.large_alloc = NULL;
        if (!(mask & 8))
            t.hooks.large_free = NULL;
        rc_heap *h = test_hooked_heap(&t, RC_MODE_POOL, 0);
        CHECK_MSG(h == NULL, "rc_heap_new accepted partial hooks (mask %u)", mask);
        if (h)
            rc_heap_destroy(h);
        CHECK_EQ(t.nlive, 0);
        test_hooks_fini(&t);
    }
    /* An out-of-range mode is an invalid configuration too. */
    {
        rc_heap_config cfg;
        rc_heap_config_init(&cfg);
        cfg.mode = (rc_alloc_mode)42;
        rc_heap *h = rc_heap_new(&cfg);
        CHECK_NULL(h);
        if (h)
            rc_heap_destroy(h);
    }
    /* All four (the resize hook is optional). */
    for (int with_realloc = 0; with_realloc < 2; with_realloc++) {
        test_hooks t;
        test_hooks_init(&t, with_realloc);
        rc_heap *h = test_hooked_heap(&t, RC_MODE_POOL, 0);
        if (CHECK_NOT_NULL(h)) {
            void *p = rc_malloc(h, 10), *q = rc_malloc(h, 10000);
            CHECK_NOT_NULL(p);
            CHECK_NOT_NULL(q);
            rc_free(p);
            rc_free(q);
            rc_heap_destroy(h);
        }
        check_balanced(&t);
        test_hooks_fini(&t);
    }
}

/* The heap structure itself comes from the hooks: with every alloc hook
 * failing, no heap can be made, and nothing is left behind. */
static void test_heap_new_without_memory(void) {
    const rc_alloc_mode modes[] = {RC_MODE_POOL, RC_MODE_MALLOC, RC_MODE_DEBUG};
    for (size_t m = 0; m < 3; m++) {
        test_hooks t;
        test_hooks_init(&t, true);
        t.arena.fail_all = t.large.fail_all = t.resize.fail_all = true;
        rc_heap *h = test_hooked_heap(&t, modes[m], 0);
        CHECK_NULL(h);
        CHECK_GT(t.arena.calls + t.large.calls, 0); /* it did ask */
        if (h)
            rc_heap_destroy(h);
        check_balanced(&t);
        test_hooks_fini(&t);
    }
    /* Failing exactly the k-th call of either hook: rc_heap_new either fails
     * cleanly or gives a working heap. */
    for (unsigned long k = 1; k <= 4; k++) {
        for (int which = 0; which < 2; which++) {
            test_hooks t;
            test_hooks_init(&t, false);
            hook_fail_nth(which ? &t.large : &t.arena, k);
            rc_heap *h = test_hooked_heap(&t, RC_MODE_POOL, 0);
            if (h) {
                void *p = NULL;
                for (int tries = 0; tries < 3 && p == NULL; tries++)
                    p = rc_malloc(h, 24);
                CHECK_NOT_NULL(p);
                rc_free(p);
                rc_heap_destroy(h);
            }
            check_balanced(&t);
            test_hooks_fini(&t);
        }
    }
}

/* ---- Arena failures ---------------------------------------------------- */

static void test_arena_alloc_failure(void) {
    test_hooks t;
    test_hooks_init(&t, false);
    rc_heap *h = test_hooked_heap(&t, RC_MODE_POOL, 0);
    if (!CHECK_NOT_NULL(h)) {
        test_hooks_fini(&t);
        return;
    }
    rc_heap_stats st = test_stats(h);
    uint64_t failed0 = st.failed_allocs;
    t.arena.fail_all = true;
    if (st.arenas == 0) {
        /* Nothing to carve from: the very first small request fails. */
        CHECK_NULL(rc_malloc(h, 16));
        CHECK_NULL(rc_calloc(h, 2, 8));
        CHECK_NULL(rc_malloc(h, 0));
        st = test_stats(h);
        CHECK_EQ(st.failed_allocs, failed0 + 3);
        CHECK_GE(t.arena.failures, 1);
    }
    t.arena.fail_all = false;

    /* Hold some blocks, then fail arenas: allocation runs dry within one
     * arena's worth of blocks. */
    enum { HELD = 3000 };
    static unsigned char *held[HELD];
    for (int i = 0; i < HELD; i++) {
        held[i] = rc_malloc(h, 48);
        if (CHECK_NOT_NULL(held[i]))
            test_fill(held[i], 48, (uint32_t)i);
    }
    t.arena.fail_all = true;
    size_t limit = RC_ARENA_SIZE / 16 + 1000, got = 0;
    unsigned char **extra = calloc(limit, sizeof *extra);
    if (!CHECK_NOT_NULL(extra))
        goto out;
    int saw_null = 0;
    for (size_t i = 0; i < limit; i++) {
        extra[got] = rc_malloc(h, 16);
        if (extra[got] == NULL) {
            saw_null = 1;
            break;
        }
        memset(extra[got], 0x11, 16);
        got++;
    }
    CHECK_MSG(saw_null, "rc_malloc never failed although every arena_alloc fails");
    CHECK_GE(t.arena.failures, 1);
    st = test_stats(h);
    CHECK_GT(st.failed_allocs, failed0);

    /* Large blocks do not need arenas: still fine. */
    void *big = rc_malloc(h, 100000);
    CHECK_NOT_NULL(big);
    rc_free(big);

    /* Recover: the heap works as if nothing happened. */
    t.arena.fail_all = false;
    void *p = rc_malloc(h, 16);
    CHECK_NOT_NULL(p);
    rc_free(p);
    for (int i = 0; i < HELD; i++)
        if (held[i])
            CHECK_PATTERN(held[i], 48, (uint32_t)i);
    /* Plenty more, across many arenas. */
    test_rng r = test_rng_seed(99);
    enum { MORE = 40000 };
    static unsigned char *more[MORE];
    static size_t more_sz[MORE];
    for (int i = 0; i < MORE; i++) {
        more_sz[i] = test_rng_range(&r, 1, RC_SMALL_MAX);
        more[i] = rc_malloc(h, more_sz[i]);
        if (CHECK_NOT_NULL(more[i]))
            test_fill(more[i], more_sz[i], (uint32_t)i + 7);
    }
    for (int i = 0; i < MORE; i++) {
        if (more[i]) {
            CHECK_PATTERN(more[i], more_sz[i], (uint32_t)i + 7);
            rc_free(more[i]);
        }
    }
    for (size_t i = 0; i < got; i++)
        rc_free(extra[i]);
    free(extra);
out:
    for (int i = 0; i < HELD; i++)
        rc_free(held[i]);
    st = test_stats(h);
    CHECK_EQ(test_small_used(&st), 0);
    rc_heap_destroy(h);
    check_balanced(&t);
    test_hooks_fini(&t);
}

/* One arena request in the middle of growth fails: exactly one rc_malloc
 * returns NULL, everything before and after is fine. */
static void test_arena_fail_nth(void) {
    test_hooks t;
    test_hooks_init(&t, false);
    rc_heap *h = test_hooked_heap(&t, RC_MODE_POOL, 0);
    if (!CHECK_NOT_NULL(h)) {
        test_hooks_fini(&t);
        return;
    }
    enum { N = 50000 }; /* 256-byte blocks: about 13 arenas */
    static unsigned char *p[N];
    hook_fail_nth(&t.arena, 3);
    size_t nulls = 0;
    for (int i = 0; i < N; i++) {
        p[i] = rc_malloc(h, 256);
        if (p[i] == NULL) {
            nulls++;
            continue;
        }
        test_fill(p[i], 256, (uint32_t)i);
    }
    CHECK_EQ(nulls, 1);
    CHECK_EQ(t.arena.failures, 1);
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(st.failed_allocs, 1);
    CHECK_EQ(st.classes[test_class_of(256)].blocks_used, (size_t)N - nulls);
    for (int i = 0; i < N; i++) {
        if (p[i]) {
            CHECK_PATTERN(p[i], 256, (uint32_t)i);
            rc_free(p[i]);
        }
    }
    rc_heap_destroy(h);
    check_balanced(&t);
    test_hooks_fini(&t);
}

/* ---- Large-block failures ---------------------------------------------- */

static void test_large_alloc_failure(void) {
    test_hooks t;
    test_hooks_init(&t, true);
    rc_heap *h = test_hooked_heap(&t, RC_MODE_POOL, 0);
    if (!CHECK_NOT_NULL(h)) {
        test_hooks_fini(&t);
        return;
    }
    uint64_t failed0 = test_stats(h).failed_allocs;
    hook_fail_next(&t.large, 1);
    CHECK_NULL(rc_malloc(h, 5000));
    CHECK_EQ(test_stats(h).failed_allocs, failed0 + 1);
    void *p = rc_malloc(h, 5000); /* the next call succeeds */
    CHECK_NOT_NULL(p);
    rc_free(p);

    t.large.fail_all = true;
    CHECK_NULL(rc_malloc(h, 1u << 20));
    CHECK_NULL(rc_calloc(h, 100, 100));
    CHECK_NULL(rc_realloc(h, NULL, 600));
    CHECK_EQ(test_stats(h).failed_allocs, failed0 + 4);
    /* Small blocks do not need large_alloc. */
    void *s = rc_malloc(h, 100);
    CHECK_NOT_NULL(s);
    rc_free(s);
    t.large.fail_all = false;

    unsigned char *q = rc_calloc(h, 100, 100);
    if (CHECK_NOT_NULL(q)) {
        CHECK_ALL_BYTES(q, 10000, 0); /* hook memory is dirty: calloc zeroes */
        rc_free(q);
    }
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(st.large_blocks, 0);
    rc_heap_destroy(h);
    check_balanced(&t);
    test_hooks_fini(&t);
}

/* A failed rc_realloc returns NULL and leaves the old block as it was. */
static void test_realloc_failure(void) {
    for (int with_realloc = 0; with_realloc < 2; with_realloc++) {
        test_hooks t;
        test_hooks_init(&t, with_realloc);
        rc_heap *h = test_hooked_heap(&t, RC_MODE_POOL, 0);
        if (!CHECK_NOT_NULL(h)) {
            test_hooks_fini(&t);
            continue;
        }
        /* small -> large */
        unsigned char *p = rc_malloc(h, 100);
        if (CHECK_NOT_NULL(p)) {
            test_fill(p, 100, 1);
            size_t u = rc_usable_size(p);
            t.large.fail_all = t.resize.fail_all = true;
            unsigned char *bad = rc_realloc(h, p, 5000);
            CHECK_NULL(bad);
            if (bad) /* p is gone: carry on with the new block */
                p = bad;
            CHECK_PATTERN(p, 100, 1);
            CHECK_EQ(rc_usable_size(p), u);
            CHECK_PTR_EQ(rc_heap_of_block(p), h);
            CHECK_EQ(test_stats(h).classes[test_class_of(100)].blocks_used, 1);
            t.large.fail_all = t.resize.fail_all = false;
            unsigned char *q = rc_realloc(h, p, 5000);
            if (CHECK_NOT_NULL(q)) {
                CHECK_PATTERN(q, 100, 1);
                p = q;
            }
            rc_free(p);
        }
        /* large -> larger */
        p = rc_malloc(h, 6000);
        if (CHECK_NOT_NULL(p)) {
            test_fill(p, 6000, 2);
            t.large.fail_all = t.resize.fail_all = true;
            unsigned char *bad = rc_realloc(h, p, 300000);
            CHECK_NULL(bad);
            if (bad)
                p = bad;
            CHECK_PATTERN(p, 6000, 2);
            CHECK_GE(rc_usable_size(p), 6000);
            CHECK_EQ(test_stats(h).large_blocks, 1);
            t.large.fail_all = t.resize.fail_all = false;
            unsigned char *q = rc_realloc(h, p, 300000);
            if (CHECK_NOT_NULL(q)) {
                CHECK_PATTERN(q, 6000, 2);
                p = q;
            }
            rc_free(p);
        }
        rc_heap_destroy(h);
        check_balanced(&t);
        test_hooks_fini(&t);
    }

    /* large -> small on a heap that has no arena and cannot get one. */
    test_hooks t;
    test_hooks_init(&t, false);
    rc_heap *h = test_hooked_heap(&t, RC_MODE_POOL, 0);
    if (CHECK_NOT_NULL(h)) {
        unsigned char *p = rc_malloc(h, 8000);
        if (CHECK_NOT_NULL(p)) {
            test_fill(p, 8000, 3);
            rc_heap_stats st = test_stats(h);
            t.arena.fail_all = true;
            unsigned char *q = rc_realloc(h, p, 100);
            if (st.arenas == 0)
                CHECK_NULL(q); /* no pool can be had */
            if (q == NULL) {
                CHECK_PATTERN(p, 8000, 3);
                CHECK_GE(rc_usable_size(p), 8000);
            } else {
                CHECK_PATTERN(q, 100, 3);
                p = q;
            }
            t.arena.fail_all = false;
            rc_free(p);
        }
        rc_heap_destroy(h);
    }
    check_balanced(&t);
    test_hooks_fini(&t);
}

/* ---- The max_bytes cap ---------------------------------------------------- */

static void test_max_bytes_cap(void) {
    const size_t cap = 2 * RC_ARENA_SIZE; /* 2 MiB with the default sizes */
    test_hooks t;
    test_hooks_init(&t, false);
    rc_heap *h = test_hooked_heap(&t, RC_MODE_POOL, cap);
    if (!CHECK_NOT_NULL(h)) {
        test_hooks_fini(&t);
        return;
    }
    size_t base = t.bytes_live; /* the heap structure itself */
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(st.max_bytes, cap);
    uint64_t failed0 = st.failed_allocs;
    uint64_t nulls = 0;

    /* Some large blocks first (about 40% of the cap), so that both kinds of
     * refusal below happen with the other kind already holding memory. */
    enum { LSZ = 20000, LMAX = 200 };
    static unsigned char *lg[LMAX];
    size_t nlg = 0;
    while (nlg < 40) {
        unsigned char *p = rc_malloc(h, LSZ);
        if (!CHECK_NOT_NULL(p))
            break;
        test_fill(p, LSZ, (uint32_t)(100000 + nlg));
        lg[nlg++] = p;
    }

    /* Small blocks until refused. */
    size_t limit = cap / 64 * 2;
    unsigned char **sm = calloc(limit, sizeof *sm);
    if (!CHECK_NOT_NULL(sm))
        goto out;
    size_t nsm = 0;
    size_t over_cap = 0;
    while (nsm < limit) {
        unsigned char *p = rc_malloc(h, 64);
        if (p == NULL) {
            nulls++;
            break;
        }
        test_fill(p, 64, (uint32_t)nsm);
        sm[nsm++] = p;
        over_cap += t.bytes_live - base > cap;
        if (nsm % 256 == 0) {
            st = test_stats(h);
            over_cap += st.bytes_from_os > cap;
        }
    }
    CHECK_EQ(over_cap, 0);
    CHECK_MSG(nsm < limit, "allocation never stopped under a %zu-byte cap", cap);
    st = test_stats(h);
    CHECK_LE(st.bytes_from_os, cap);
    CHECK_LE(t.bytes_live - base, cap);
    CHECK_GT(st.bytes_from_os + RC_ARENA_SIZE, cap); /* no room for one more arena */
    CHECK_GE(nsm * 64, cap / 4);                     /* it did use the room it had */
    CHECK_EQ(st.failed_allocs, failed0 + nulls);

    /* Large blocks until refused. */
    size_t nlg_before = nlg;
    while (nlg < LMAX) {
        unsigned char *p = rc_malloc(h, LSZ);
        if (p == NULL) {
            nulls++;
            break;
        }
        test_fill(p, LSZ, (uint32_t)(100000 + nlg));
        lg[nlg++] = p;
        over_cap += t.bytes_live - base > cap;
    }
    CHECK_EQ(over_cap, 0);
    CHECK_LT(nlg, (size_t)LMAX);
    CHECK_GE(nlg, nlg_before);
    st = test_stats(h);
    CHECK_LE(st.bytes_from_os, cap);
    CHECK_LE(t.bytes_live - base, cap);
    CHECK_GT(st.bytes_from_os + LSZ + 4096, cap); /* the next one would not fit */
    CHECK_EQ(st.failed_allocs, failed0 + nulls);

    /* Growing past the cap with realloc fails and keeps the block. */
    if (nlg > 0) {
        unsigned char *bad = rc_realloc(h, lg[0], cap);
        CHECK_NULL(bad);
        if (bad)
            lg[0] = bad;
        else
            nulls++;
        CHECK_PATTERN(lg[0], LSZ, 100000);
        CHECK_EQ(test_stats(h).failed_allocs, failed0 + nulls);
    }

    /* Freeing makes room again. */
    for (size_t i = 0; i < 10 && i < nsm; i++) {
        rc_free(sm[i]);
        sm[i] = NULL;
    }
    for (size_t i = 0; i < 10 && i < nsm; i++) {
        sm[i] = rc_malloc(h, 64);
        CHECK_NOT_NULL(sm[i]);
        if (sm[i])
            test_fill(sm[i], 64, (uint32_t)i);
    }
    if (nlg > 0) {
        rc_free(lg[nlg - 1]);
        lg[nlg - 1] = rc_malloc(h, LSZ);
        CHECK_NOT_NULL(lg[nlg - 1]);
        if (lg[nlg - 1])
            test_fill(lg[nlg - 1], LSZ, (uint32_t)(100000 + nlg - 1));
    }
    st = test_stats(h);
    CHECK_LE(st.bytes_from_os, cap);
    CHECK_LE(st.bytes_high_water, cap);

    /* Everything held is intact. */
    for (size_t i = 0; i < nsm; i++)
        if (sm[i]) {
            CHECK_PATTERN(sm[i], 64, (uint32_t)i);
            rc_free(sm[i]);
        }
    for (size_t i = 0; i < nlg; i++)
        if (lg[i]) {
            CHECK_PATTERN(lg[i], LSZ, (uint32_t)(100000 + i));
            rc_free(lg[i]);
        }
    free(sm);
out:
    rc_heap_destroy(h);
    check_balanced(&t);
    test_hooks_fini(&t);
}

static void test_set_max_bytes(void) {
    test_hooks t;
    test_hooks_init(&t, false);
    rc_heap *h = test_hooked_heap(&t, RC_MODE_POOL, 0);
    if (!CHECK_NOT_NULL(h)) {
        test_hooks_fini(&t);
        return;
    }
    enum { N = 300, SZ = 10000 };
    static void *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = rc_malloc(h, SZ);
        CHECK_NOT_NULL(p[i]);
    }
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(st.max_bytes, 0);
    CHECK_GE(st.bytes_from_os, (size_t)N * SZ);

    /* Cap at what is held now: nothing more can be had. */
    size_t held = st.bytes_from_os;
    rc_heap_set_max_bytes(h, held);
    st = test_stats(h);
    CHECK_EQ(st.max_bytes, held);
    uint64_t failed0 = st.failed_allocs;
    CHECK_NULL(rc_malloc(h, SZ));
    CHECK_EQ(test_stats(h).failed_allocs, failed0 + 1);

    /* Lift the cap. */
    rc_heap_set_max_bytes(h, 0);
    CHECK_EQ(test_stats(h).max_bytes, 0);
    void *extra = rc_malloc(h, SZ);
    CHECK_NOT_NULL(extra);
    rc_free(extra);

    /* A cap below what is held: existing blocks stay valid and can be freed;
     * new memory is refused until usage drops under the cap. */
    const size_t low = (size_t)1 << 20;
    rc_heap_set_max_bytes(h, low);
    CHECK_NULL(rc_malloc(h, SZ));
    int i = 0;
    for (; i < N; i++) {
        rc_free(p[i]);
        p[i] = NULL;
        if (test_stats(h).bytes_from_os + 2 * SZ < low)
            break;
    }
    CHECK_LT(i, N);
    void *again = rc_malloc(h, SZ);
    CHECK_NOT_NULL(again);
    st = test_stats(h);
    CHECK_LE(st.bytes_from_os, low);
    rc_free(again);
    for (int k = 0; k < N; k++)
        rc_free(p[k]);
    rc_heap_destroy(h);
    check_balanced(&t);
    test_hooks_fini(&t);
}

/* ---- rc_heap_fail_at: injected failures (debug and malloc modes) ---------- */

static void test_fail_at(void) {
    const rc_alloc_mode modes[] = {RC_MODE_DEBUG, RC_MODE_MALLOC};
    for (int m = 0; m < 2; m++) {
        rc_heap *h = test_heap_new(modes[m]);
        if (!CHECK_NOT_NULL(h))
            return;
        uint64_t failed0 = test_stats(h).failed_allocs;

        /* The third allocation from now fails; the others succeed. */
        rc_heap_fail_at(h, 3);
        void *a = rc_malloc(h, 10), *b = rc_malloc(h, 2000);
        void *c = rc_malloc(h, 30);
        void *d = rc_malloc(h, 40), *e = rc_malloc(h, 50);
        CHECK_NOT_NULL(a);
        CHECK_NOT_NULL(b);
        CHECK_NULL(c);
        CHECK_NOT_NULL(d);
        CHECK_NOT_NULL(e);
        CHECK_EQ(test_stats(h).failed_allocs, failed0 + 1);

        /* rc_calloc and large requests count too. */
        rc_heap_fail_at(h, 1);
        CHECK_NULL(rc_calloc(h, 4, 4));
        void *z = rc_calloc(h, 4, 4);
        CHECK_NOT_NULL(z);
        rc_heap_fail_at(h, 1);
        CHECK_NULL(rc_malloc(h, 100000));
        CHECK_EQ(test_stats(h).failed_allocs, failed0 + 3);

        /* A realloc that must grow fails and leaves the block alone. */
        unsigned char *p = rc_malloc(h, 64);
        if (CHECK_NOT_NULL(p)) {
            test_fill(p, 64, 12);
            rc_heap_fail_at(h, 1);
            unsigned char *q = rc_realloc(h, p, 5000);
            CHECK_NULL(q);
            if (q)
                p = q;
            CHECK_PATTERN(p, 64, 12);
            CHECK_GE(rc_usable_size(p), 64);
            q = rc_realloc(h, p, 5000);
            if (CHECK_NOT_NULL(q)) {
                CHECK_PATTERN(q, 64, 12);
                p = q;
            }
            rc_free(p);
        }

        /* 0 turns it off. */
        rc_heap_fail_at(h, 2);
        rc_heap_fail_at(h, 0);
        void *many[8];
        for (int i = 0; i < 8; i++) {
            many[i] = rc_malloc(h, 24);
            CHECK_NOT_NULL(many[i]);
        }
        for (int i = 0; i < 8; i++)
            rc_free(many[i]);
        CHECK_EQ(test_stats(h).failed_allocs, failed0 + 4);

        rc_free(a);
        rc_free(b);
        rc_free(d);
        rc_free(e);
        rc_free(z);
        CHECK_EQ(test_stats(h).bytes_requested, 0);
        rc_heap_destroy(h);
    }

    /* In malloc mode a realloc that stays in place neither moves nor grows:
     * it does not use up the countdown. */
    rc_heap *h = test_heap_new(RC_MODE_MALLOC);
    if (CHECK_NOT_NULL(h)) {
        unsigned char *p = rc_malloc(h, 1000);
        if (CHECK_NOT_NULL(p)) {
            test_fill(p, 1000, 13);
            rc_heap_fail_at(h, 1);
            unsigned char *q = rc_realloc(h, p, 1000);
            if (CHECK_NOT_NULL(q)) {
                CHECK_PATTERN(q, 1000, 13);
                p = q;
            }
            CHECK_NULL(rc_malloc(h, 8)); /* the countdown is still armed */
            rc_free(p);
        }
        rc_heap_destroy(h);
    }

    /* Pool-mode heaps ignore it. */
    h = test_heap_new(RC_MODE_POOL);
    if (CHECK_NOT_NULL(h)) {
        rc_heap_fail_at(h, 1);
        void *p = rc_malloc(h, 16), *q = rc_malloc(h, 16);
        CHECK_NOT_NULL(p);
        CHECK_NOT_NULL(q);
        CHECK_EQ(test_stats(h).failed_allocs, 0);
        rc_free(p);
        rc_free(q);
        rc_heap_destroy(h);
    }
}

/* ---- Everything goes through the hooks and comes back -------------------- */

static void workload(rc_heap *h, uint64_t seed) {
    test_rng r = test_rng_seed(seed);
    enum { SLOTS = 2000, OPS = 30000 };
    static unsigned char *slot[SLOTS];
    static size_t size[SLOTS];
    memset(slot, 0, sizeof slot);
    for (int op = 0; op < OPS; op++) {
        size_t i = test_rng_below(&r, SLOTS);
        if (slot[i] == NULL) {
            size[i] = test_random_size(&r);
            slot[i] = (test_rng_below(&r, 4) == 0) ? rc_calloc(h, 1, size[i])
                                                   : rc_malloc(h, size[i]);
            if (CHECK_NOT_NULL(slot[i]))
                test_fill(slot[i], size[i], (uint32_t)i);
        } else if (test_rng_below(&r, 3) == 0) {
            size_t n = test_random_size(&r);
            unsigned char *q = rc_realloc(h, slot[i], n);
            if (CHECK_NOT_NULL(q)) {
                size_t keep = n < size[i] ? n : size[i];
                CHECK_PATTERN(q, keep, (uint32_t)i);
                test_fill(q, n, (uint32_t)i);
                slot[i] = q;
                size[i] = n;
            }
        } else {
            CHECK_PATTERN(slot[i], size[i], (uint32_t)i);
            rc_free(slot[i]);
            slot[i] = NULL;
        }
    }
    /* Leave half of them live for destroy to reclaim. */
    for (size_t i = 0; i < SLOTS; i += 2)
        rc_free(slot[i]);
}

static void test_destroy_returns_everything(void) {
    const rc_alloc_mode modes[] = {RC_MODE_POOL, RC_MODE_MALLOC, RC_MODE_DEBUG};
    for (size_t m = 0; m < 3; m++) {
        for (int with_realloc = 0; with_realloc < 2; with_realloc++) {
            test_hooks t;
            test_hooks_init(&t, with_realloc);
            rc_heap *h = test_hooked_heap(&t, modes[m], 0);
            if (!CHECK_NOT_NULL(h)) {
                test_hooks_fini(&t);
                continue;
            }
            CHECK_EQ(rc_heap_mode(h), modes[m]);
            /* Blocks come from the hooks, whatever the mode. */
            unsigned long calls0 = t.arena.calls + t.large.calls;
            size_t live0 = t.nlive;
            void *p = rc_malloc(h, 10);
            void *q = rc_malloc(h, 50000);
            CHECK_NOT_NULL(p);
            CHECK_NOT_NULL(q);
            CHECK_GT(t.arena.calls + t.large.calls, calls0);
            CHECK_GT(t.nlive, live0);
            workload(h, 1000 + m * 10 + (uint64_t)with_realloc);
            rc_heap_destroy(h);
            CHECK_GE(t.arena.calls + t.large.calls, 2);
            check_balanced(&t);
            test_hooks_fini(&t);
        }
    }
}

/* Random hook failures under a random workload: every NULL is clean, no live
 * block is ever damaged, and destroy still balances. */
static void test_random_failures(void) {
    test_hooks t;
    test_hooks_init(&t, true);
    rc_heap *h = test_hooked_heap(&t, RC_MODE_POOL, 0);
    if (!CHECK_NOT_NULL(h)) {
        test_hooks_fini(&t);
        return;
    }
    test_rng r = test_rng_seed(4242);
    enum { SLOTS = 3000, OPS = 100000 };
    static unsigned char *slot[SLOTS];
    static size_t size[SLOTS];
    uint64_t nulls = 0;
    for (int op = 0; op < OPS; op++) {
        if (test_rng_below(&r, 40) == 0) {
            hook_fault *f = test_rng_below(&r, 3) == 0   ? &t.arena
                            : test_rng_below(&r, 2) == 0 ? &t.large
                                                         : &t.resize;
            hook_fail_nth(f, 1);
        }
        size_t i = test_rng_below(&r, SLOTS);
        if (slot[i] == NULL) {
            size[i] = test_rng_below(&r, 8) == 0 ? test_rng_range(&r, 513, 20000)
                                                 : test_rng_range(&r, 1, RC_SMALL_MAX);
            slot[i] = rc_malloc(h, size[i]);
            if (slot[i] == NULL) {
                nulls++;
                continue;
            }
            test_fill(slot[i], size[i], (uint32_t)i);
        } else if (test_rng_below(&r, 2) == 0) {
            size_t n = test_rng_below(&r, 8) == 0 ? test_rng_range(&r, 513, 20000)
                                                  : test_rng_range(&r, 1, RC_SMALL_MAX);
            unsigned char *q = rc_realloc(h, slot[i], n);
            if (q == NULL) {
                nulls++;
                CHECK_PATTERN(slot[i], size[i], (uint32_t)i);
                continue;
            }
            size_t keep = n < size[i] ? n : size[i];
            CHECK_PATTERN(q, keep, (uint32_t)i);
            test_fill(q, n, (uint32_t)i);
            slot[i] = q;
            size[i] = n;
        } else {
            CHECK_PATTERN(slot[i], size[i], (uint32_t)i);
            rc_free(slot[i]);
            slot[i] = NULL;
        }
    }
    CHECK_GT(nulls, 0); /* the injection did bite */
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(st.failed_allocs, nulls);
    for (int i = 0; i < SLOTS; i++) {
        if (slot[i]) {
            CHECK_PATTERN(slot[i], size[i], (uint32_t)i);
            rc_free(slot[i]);
        }
    }
    st = test_stats(h);
    CHECK_EQ(test_small_used(&st), 0);
    CHECK_EQ(st.large_blocks, 0);
    rc_heap_destroy(h);
    check_balanced(&t);
    test_hooks_fini(&t);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_partial_hooks_rejected);
    RUN_TEST(test_heap_new_without_memory);
    RUN_TEST(test_arena_alloc_failure);
    RUN_TEST(test_arena_fail_nth);
    RUN_TEST(test_large_alloc_failure);
    RUN_TEST(test_realloc_failure);
    RUN_TEST(test_max_bytes_cap);
    RUN_TEST(test_set_max_bytes);
    RUN_TEST(test_fail_at);
    RUN_TEST(test_destroy_returns_everything);
    RUN_TEST(test_random_failures);
    return check_summary();
}
