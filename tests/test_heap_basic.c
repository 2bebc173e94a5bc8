/*
 * test_heap_basic.c — the allocation API's observable behaviour: sizes,
 * alignment, usable size, zero-size requests, calloc, realloc, block
 * ownership, several heaps, destroy with live blocks, and a large randomized
 * workload whose contents are verified before every free.
 */
#include "check.h"
#include "testutil.h"

#include <rcgc/heap.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SMALL_TEST 600

/* Every size 1..600 at once: all blocks live together, each filled over its
 * whole usable size, then verified (overlapping blocks would show). */
static void test_every_size_1_to_600(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    static unsigned char *blocks[MAX_SMALL_TEST + 1];
    static size_t usable[MAX_SMALL_TEST + 1];
    for (size_t n = 1; n <= MAX_SMALL_TEST; n++) {
        blocks[n] = rc_malloc(h, n);
        if (!CHECK_NOT_NULL(blocks[n]))
            continue;
        CHECK_MSG(test_aligned(blocks[n]), "block of %zu bytes at %p is not 16-aligned", n,
                  (void *)blocks[n]);
        usable[n] = rc_usable_size(blocks[n]);
        CHECK_GE(usable[n], n);
        if (n <= RC_SMALL_MAX) {
            CHECK_EQ(usable[n], rc_good_size(n));
            CHECK_EQ(usable[n], test_round_up(n, RC_ALIGNMENT));
        }
        CHECK_PTR_EQ(rc_heap_of_block(blocks[n]), h);
        test_fill(blocks[n], usable[n], (uint32_t)n);
    }
    for (size_t n = 1; n <= MAX_SMALL_TEST; n++) {
        if (blocks[n] == NULL)
            continue;
        CHECK_PATTERN(blocks[n], usable[n], (uint32_t)n);
        CHECK_EQ(rc_usable_size(blocks[n]), usable[n]);
    }
    /* Free in an order unrelated to allocation. */
    for (size_t k = 0; k < MAX_SMALL_TEST; k++) {
        size_t n = 1 + (k * 7919) % MAX_SMALL_TEST;
        rc_free(blocks[n]);
        blocks[n] = NULL;
    }
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(test_small_used(&st), 0);
    CHECK_EQ(st.large_blocks, 0);
    rc_heap_destroy(h);
}

/* One at a time, malloc/free of every small size: the freed block is reusable. */
static void test_malloc_free_each_size(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    for (int round = 0; round < 3; round++) {
        for (size_t n = 1; n <= MAX_SMALL_TEST; n++) {
            unsigned char *p = rc_malloc(h, n);
            if (!CHECK_NOT_NULL(p))
                break;
            CHECK(test_aligned(p));
            size_t u = rc_usable_size(p);
            CHECK_GE(u, n);
            memset(p, 0xEE, u);
            rc_free(p);
        }
    }
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(test_small_used(&st), 0);
    CHECK_EQ(st.large_blocks, 0);
    rc_heap_destroy(h);
}

static void test_large_sizes(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    const size_t sizes[] = {RC_SMALL_MAX + 1, 1000, 4095, 4096, 4097, 65536, 100000, (size_t)1 << 20,
                            ((size_t)1 << 20) + 1, (size_t)3 << 20};
    enum { NS = sizeof sizes / sizeof sizes[0] };
    unsigned char *p[NS];
    for (size_t i = 0; i < NS; i++) {
        p[i] = rc_malloc(h, sizes[i]);
        if (!CHECK_NOT_NULL(p[i]))
            continue;
        CHECK(test_aligned(p[i]));
        CHECK_GE(rc_usable_size(p[i]), sizes[i]);
        CHECK_PTR_EQ(rc_heap_of_block(p[i]), h);
        test_fill(p[i], rc_usable_size(p[i]), (uint32_t)(1000 + i));
    }
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(st.large_blocks, (size_t)NS);
    for (size_t i = 0; i < NS; i++) {
        if (p[i] == NULL)
            continue;
        CHECK_PATTERN(p[i], rc_usable_size(p[i]), (uint32_t)(1000 + i));
        rc_free(p[i]);
    }
    st = test_stats(h);
    CHECK_EQ(st.large_blocks, 0);
    CHECK_EQ(st.large_bytes, 0);
    rc_heap_destroy(h);
}

static void test_good_size(void) {
    for (size_t n = 1; n <= RC_SMALL_MAX; n++)
        CHECK_EQ(rc_good_size(n), test_round_up(n, RC_ALIGNMENT));
    CHECK_EQ(rc_good_size(16), 16);
    CHECK_EQ(rc_good_size(17), 32);
    CHECK_EQ(rc_good_size(RC_SMALL_MAX), RC_SMALL_MAX);
    const size_t big[] = {RC_SMALL_MAX + 1, 513, 600, 1001, 4096, 1 << 20, SIZE_MAX / 2};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        CHECK_EQ(rc_good_size(big[i]), big[i]);
}

static void test_malloc_zero(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    void *a = rc_malloc(h, 0);
    void *b = rc_malloc(h, 0);
    void *c = rc_malloc(h, 1);
    CHECK_NOT_NULL(a);
    CHECK_NOT_NULL(b);
    CHECK_PTR_NE(a, b);
    CHECK_PTR_NE(a, c);
    CHECK_PTR_NE(b, c);
    CHECK(test_aligned(a));
    CHECK(test_aligned(b));
    CHECK_PTR_EQ(rc_heap_of_block(a), h);
    /* Many zero-size blocks are all distinct. */
    enum { NZ = 1000 };
    static void *z[NZ];
    for (int i = 0; i < NZ; i++)
        z[i] = rc_malloc(h, 0);
    int dup = 0, nulls = 0;
    for (int i = 0; i < NZ; i++) {
        nulls += z[i] == NULL;
        for (int j = i + 1; j < NZ; j++)
            dup += z[i] != NULL && z[i] == z[j];
    }
    CHECK_EQ(nulls, 0);
    CHECK_EQ(dup, 0);
    for (int i = 0; i < NZ; i++)
        rc_free(z[i]);
    rc_free(a);
    rc_free(b);
    rc_free(c);
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(test_small_used(&st), 0);
    rc_heap_destroy(h);
}

static void test_null_pointer(void) {
    rc_free(NULL); /* must do nothing */
    CHECK_EQ(rc_usable_size(NULL), 0);
    CHECK_NULL(rc_heap_of_block(NULL));
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    rc_free(NULL);
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(test_small_used(&st), 0);
    CHECK_EQ(st.large_blocks, 0);
    rc_heap_destroy(h);
}

static void test_calloc(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    /* Dirty many blocks of several classes, free them, then calloc the same
     * sizes: the reused blocks must come back zeroed. */
    const size_t sizes[] = {1, 8, 16, 24, 48, 100, 256, 500, 512, 513, 3000, 70000};
    enum { NS = sizeof sizes / sizeof sizes[0], PER = 200 };
    static void *blk[PER];
    for (size_t s = 0; s < NS; s++) {
        size_t n = sizes[s];
        for (int i = 0; i < PER; i++) {
            blk[i] = rc_malloc(h, n);
            if (blk[i])
                memset(blk[i], 0xAB, rc_usable_size(blk[i]));
        }
        for (int i = 0; i < PER; i++)
            rc_free(blk[i]);
        for (int i = 0; i < PER; i++) {
            blk[i] = rc_calloc(h, 1, n);
            if (!CHECK_NOT_NULL(blk[i]))
                continue;
            CHECK(test_aligned(blk[i]));
            CHECK_ALL_BYTES(blk[i], n, 0);
            memset(blk[i], 0xCC, n);
        }
        for (int i = 0; i < PER; i++)
            rc_free(blk[i]);
    }
    /* count * n split differently. */
    unsigned char *q = rc_calloc(h, 37, 11);
    if (CHECK_NOT_NULL(q)) {
        CHECK_GE(rc_usable_size(q), 37 * 11);
        CHECK_ALL_BYTES(q, 37 * 11, 0);
        rc_free(q);
    }
    q = rc_calloc(h, 1000, 100);
    if (CHECK_NOT_NULL(q)) {
        CHECK_ALL_BYTES(q, 100000, 0);
        rc_free(q);
    }
    /* Overflow of count * n. */
    CHECK_NULL(rc_calloc(h, SIZE_MAX / 2, 3));
    CHECK_NULL(rc_calloc(h, 3, SIZE_MAX / 2));
    CHECK_NULL(rc_calloc(h, SIZE_MAX, SIZE_MAX));
    CHECK_NULL(rc_calloc(h, (SIZE_MAX >> 4) + 2, 16));
    /* The heap is fine afterwards. */
    void *ok = rc_calloc(h, 4, 4);
    CHECK_NOT_NULL(ok);
    rc_free(ok);
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(test_small_used(&st), 0);
    CHECK_EQ(st.large_blocks, 0);
    rc_heap_destroy(h);
}

static void test_realloc_null_is_malloc(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    unsigned char *p = rc_realloc(h, NULL, 40);
    if (CHECK_NOT_NULL(p)) {
        CHECK(test_aligned(p));
        CHECK_GE(rc_usable_size(p), 40);
        CHECK_PTR_EQ(rc_heap_of_block(p), h);
        memset(p, 1, 40);
        rc_heap_stats st = test_stats(h);
        CHECK_EQ(st.classes[test_class_of(40)].blocks_used, 1);
        rc_free(p);
    }
    unsigned char *big = rc_realloc(h, NULL, 10000);
    if (CHECK_NOT_NULL(big)) {
        CHECK(test_aligned(big));
        CHECK_GE(rc_usable_size(big), 10000);
        memset(big, 2, 10000);
        rc_free(big);
    }
    rc_heap_destroy(h);
}

static void test_realloc_keeps_contents(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    /* Grow step by step through every small class and into large sizes. */
    size_t cur = 5;
    unsigned char *p = rc_malloc(h, cur);
    if (!CHECK_NOT_NULL(p)) {
        rc_heap_destroy(h);
        return;
    }
    test_fill(p, cur, 77);
    const size_t steps[] = {17, 33, 100, 250, 511, 512, 513, 800, 4096, 5000, 70000, 1 << 20,
                            (1 << 20) + 12345, 70000, 600, 512, 300, 64, 16, 3, 1};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        size_t n = steps[i];
        unsigned char *q = rc_realloc(h, p, n);
        if (!CHECK_NOT_NULL(q))
            break;
        CHECK(test_aligned(q));
        CHECK_GE(rc_usable_size(q), n);
        CHECK_PTR_EQ(rc_heap_of_block(q), h);
        size_t keep = cur < n ? cur : n;
        CHECK_MSG(test_verify(q, keep, 77) == keep, "realloc %zu -> %zu lost contents", cur, n);
        test_fill(q, n, 77);
        p = q;
        cur = n;
    }
    rc_free(p);
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(test_small_used(&st), 0);
    CHECK_EQ(st.large_blocks, 0);
    rc_heap_destroy(h);
}

/* Within one size class a realloc stays in place. */
static void test_realloc_same_class_in_place(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    unsigned char *p = rc_malloc(h, 20);
    if (CHECK_NOT_NULL(p)) {
        test_fill(p, 20, 5);
        unsigned char *q = rc_realloc(h, p, 30);
        CHECK_PTR_EQ(q, p);
        CHECK_PATTERN(q, 20, 5);
        q = rc_realloc(h, q, 17);
        CHECK_PTR_EQ(q, p);
        CHECK_PATTERN(q, 17, 5);
        q = rc_realloc(h, q, 32);
        CHECK_PTR_EQ(q, p);
        rc_free(q);
    }
    /* Every class: from the smallest to the largest request it serves. */
    for (size_t top = RC_ALIGNMENT; top <= RC_SMALL_MAX; top += RC_ALIGNMENT) {
        size_t lo = top - RC_ALIGNMENT + 1;
        unsigned char *a = rc_malloc(h, lo);
        if (!CHECK_NOT_NULL(a))
            continue;
        test_fill(a, lo, (uint32_t)top);
        unsigned char *b = rc_realloc(h, a, top);
        CHECK_PTR_EQ(b, a);
        CHECK_PATTERN(b, lo, (uint32_t)top);
        b = rc_realloc(h, b, lo);
        CHECK_PTR_EQ(b, a);
        rc_free(b);
    }
    rc_heap_destroy(h);
}

/* small -> large -> small, checking stats follow the block. */
static void test_realloc_class_transitions(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    unsigned char *p = rc_malloc(h, 100);
    if (!CHECK_NOT_NULL(p)) {
        rc_heap_destroy(h);
        return;
    }
    test_fill(p, 100, 9);
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(st.classes[test_class_of(100)].blocks_used, 1);
    CHECK_EQ(st.large_blocks, 0);

    unsigned char *q = rc_realloc(h, p, 3000);
    if (CHECK_NOT_NULL(q)) {
        CHECK_PATTERN(q, 100, 9);
        test_fill(q, 3000, 10);
        st = test_stats(h);
        CHECK_EQ(st.classes[test_class_of(100)].blocks_used, 0);
        CHECK_EQ(st.large_blocks, 1);
        p = q;
    }
    q = rc_realloc(h, p, 200);
    if (CHECK_NOT_NULL(q)) {
        CHECK_PATTERN(q, 200, 10);
        st = test_stats(h);
        CHECK_EQ(st.large_blocks, 0);
        CHECK_EQ(st.classes[test_class_of(200)].blocks_used, 1);
        p = q;
    }
    rc_free(p);
    st = test_stats(h);
    CHECK_EQ(test_small_used(&st), 0);
    rc_heap_destroy(h);
}

static void test_realloc_to_zero(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    void *other = rc_malloc(h, 0);
    void *p = rc_malloc(h, 100);
    if (CHECK_NOT_NULL(p) && CHECK_NOT_NULL(other)) {
        void *q = rc_realloc(h, p, 0);
        CHECK_NOT_NULL(q);
        CHECK_PTR_NE(q, other);
        CHECK(test_aligned(q));
        /* the 100-byte block was freed */
        rc_heap_stats st = test_stats(h);
        CHECK_EQ(st.classes[test_class_of(100)].blocks_used, 0);
        rc_free(q);
    }
    void *big = rc_malloc(h, 20000);
    if (CHECK_NOT_NULL(big)) {
        void *q = rc_realloc(h, big, 0);
        CHECK_NOT_NULL(q);
        CHECK_PTR_NE(q, other);
        rc_heap_stats st = test_stats(h);
        CHECK_EQ(st.large_blocks, 0);
        rc_free(q);
    }
    rc_free(other);
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(test_small_used(&st), 0);
    rc_heap_destroy(h);
}

/* Blocks know their heap, and rc_free() returns them to it. */
static void test_two_heaps(void) {
    rc_heap *a = test_heap_new(RC_MODE_POOL);
    rc_heap *b = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(a) || !CHECK_NOT_NULL(b)) {
        if (a)
            rc_heap_destroy(a);
        if (b)
            rc_heap_destroy(b);
        return;
    }
    CHECK_PTR_NE(a, b);
    enum { NA = 300, NB = 120 };
    static void *pa[NA], *pb[NB];
    for (int i = 0; i < NA; i++) {
        pa[i] = rc_malloc(a, 32);
        CHECK_PTR_EQ(rc_heap_of_block(pa[i]), a);
    }
    for (int i = 0; i < NB; i++) {
        pb[i] = rc_malloc(b, 32);
        CHECK_PTR_EQ(rc_heap_of_block(pb[i]), b);
    }
    void *la = rc_malloc(a, 5000), *lb = rc_malloc(b, 5000);
    CHECK_PTR_EQ(rc_heap_of_block(la), a);
    CHECK_PTR_EQ(rc_heap_of_block(lb), b);

    rc_heap_stats sa = test_stats(a), sb = test_stats(b);
    CHECK_EQ(sa.classes[1].blocks_used, NA);
    CHECK_EQ(sb.classes[1].blocks_used, NB);
    CHECK_EQ(sa.large_blocks, 1);
    CHECK_EQ(sb.large_blocks, 1);

    for (int i = 0; i < NA / 2; i++)
        rc_free(pa[i]);
    rc_free(la);
    sa = test_stats(a);
    sb = test_stats(b);
    CHECK_EQ(sa.classes[1].blocks_used, NA - NA / 2);
    CHECK_EQ(sa.large_blocks, 0);
    CHECK_EQ(sb.classes[1].blocks_used, NB);
    CHECK_EQ(sb.large_blocks, 1);

    /* The freed blocks of A are reused by A, never handed out by B. */
    for (int i = 0; i < NA / 2; i++) {
        void *p = rc_malloc(b, 32);
        CHECK_PTR_EQ(rc_heap_of_block(p), b);
        rc_free(p);
    }
    sa = test_stats(a);
    CHECK_EQ(sa.classes[1].blocks_used, NA - NA / 2);

    for (int i = 0; i < NB; i++)
        rc_free(pb[i]);
    sb = test_stats(b);
    CHECK_EQ(sb.classes[1].blocks_used, 0);
    sa = test_stats(a);
    CHECK_EQ(sa.classes[1].blocks_used, NA - NA / 2);
    for (int i = NA / 2; i < NA; i++)
        rc_free(pa[i]);
    rc_free(lb);
    sa = test_stats(a);
    sb = test_stats(b);
    CHECK_EQ(test_small_used(&sa), 0);
    CHECK_EQ(test_small_used(&sb), 0);
    CHECK_EQ(sb.large_blocks, 0);
    rc_heap_destroy(a);
    rc_heap_destroy(b);
}

/* Destroy gives everything back, live blocks included; run under ASan or
 * valgrind to see that nothing leaks. */
static void test_destroy_with_live_blocks(void) {
    for (int round = 0; round < 5; round++) {
        rc_heap *h = test_heap_new(RC_MODE_POOL);
        if (!CHECK_NOT_NULL(h))
            return;
        test_rng r = test_rng_seed(1234 + (uint64_t)round);
        for (int i = 0; i < 5000; i++) {
            size_t n = test_random_size(&r);
            unsigned char *p = rc_malloc(h, n);
            if (!CHECK_NOT_NULL(p))
                break;
            p[0] = 1;
            p[n - 1] = 2;
            if (i % 3 == 0)
                rc_free(p);
        }
        void *big = rc_malloc(h, 2u << 20);
        CHECK_NOT_NULL(big);
        rc_heap_stats st = test_stats(h);
        CHECK_GT(test_small_used(&st), 0);
        CHECK_GT(st.large_blocks, 0);
        rc_heap_destroy(h);
    }
    /* An empty heap and a heap that never allocated. */
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    CHECK_NOT_NULL(h);
    if (h)
        rc_heap_destroy(h);
}

/* 200k blocks of random sizes, contents verified before every free, frees in
 * shuffled order, with a refill phase in the middle. */
static void test_many_blocks(void) {
    enum { N = 200000 };
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    unsigned char **p = calloc(N, sizeof *p);
    size_t *sz = calloc(N, sizeof *sz);
    uint32_t *order = calloc(N, sizeof *order);
    uint32_t *seed = calloc(N, sizeof *seed);
    if (p == NULL || sz == NULL || order == NULL || seed == NULL) {
        CHECK(!"out of memory in the test itself");
        goto out;
    }
    test_rng r = test_rng_seed(0xC0FFEE);
    size_t bad_align = 0, bad_usable = 0, bad_heap = 0, bad_content = 0, nulls = 0;
    for (uint32_t i = 0; i < N; i++) {
        sz[i] = test_random_size(&r);
        p[i] = rc_malloc(h, sz[i]);
        if (p[i] == NULL) {
            nulls++;
            continue;
        }
        bad_align += !test_aligned(p[i]);
        bad_usable += rc_usable_size(p[i]) < sz[i];
        seed[i] = i;
        test_fill(p[i], sz[i], seed[i]);
        order[i] = i;
    }
    CHECK_EQ(nulls, 0);
    {
        rc_heap_stats st = test_stats(h);
        CHECK_LE(st.bytes_in_use, st.bytes_from_os);
        CHECK_GE(test_small_used(&st) + st.large_blocks, (size_t)N);
    }
    /* Shuffle, free and reallocate the first half of the order. */
    for (uint32_t i = N; i > 1; i--) {
        uint32_t j = (uint32_t)test_rng_below(&r, i);
        uint32_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    for (uint32_t k = 0; k < N / 2; k++) {
        uint32_t i = order[k];
        if (p[i] == NULL)
            continue;
        bad_heap += rc_heap_of_block(p[i]) != h;
        bad_content += test_verify(p[i], sz[i], seed[i]) != sz[i];
        rc_free(p[i]);
        p[i] = NULL;
    }
    for (uint32_t k = 0; k < N / 2; k++) {
        uint32_t i = order[k];
        sz[i] = test_random_size(&r);
        p[i] = rc_malloc(h, sz[i]);
        if (p[i] == NULL) {
            nulls++;
            continue;
        }
        bad_align += !test_aligned(p[i]);
        seed[i] = i ^ 0x5555u;
        test_fill(p[i], sz[i], seed[i]);
    }
    CHECK_EQ(nulls, 0);
    /* Free everything in a new random order. */
    for (uint32_t i = N; i > 1; i--) {
        uint32_t j = (uint32_t)test_rng_below(&r, i);
        uint32_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    for (uint32_t k = 0; k < N; k++) {
        uint32_t i = order[k];
        if (p[i] == NULL)
            continue;
        bad_heap += rc_heap_of_block(p[i]) != h;
        bad_content += test_verify(p[i], sz[i], seed[i]) != sz[i];
        rc_free(p[i]);
        p[i] = NULL;
    }
    CHECK_EQ(bad_align, 0);
    CHECK_EQ(bad_usable, 0);
    CHECK_EQ(bad_heap, 0);
    CHECK_EQ(bad_content, 0);
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(test_small_used(&st), 0);
    CHECK_EQ(st.large_blocks, 0);
    CHECK_EQ(st.bytes_in_use, 0);
out:
    free(p);
    free(sz);
    free(order);
    free(seed);
    rc_heap_destroy(h);
}

/* Requests no machine can satisfy fail cleanly, before any arithmetic on the
 * size can wrap around. */
static void test_impossible_sizes(void) {
    const rc_alloc_mode modes[] = {RC_MODE_POOL, RC_MODE_MALLOC, RC_MODE_DEBUG};
    for (int m = 0; m < 3; m++) {
        rc_heap *h = test_heap_new(modes[m]);
        if (!CHECK_NOT_NULL(h))
            return;
        uint64_t failed0 = test_stats(h).failed_allocs;
        const size_t huge[] = {SIZE_MAX, SIZE_MAX - 15, SIZE_MAX - 100, SIZE_MAX / 2 + 1};
        for (int i = 0; i < 4; i++) {
            CHECK_NULL(rc_malloc(h, huge[i]));
            CHECK_NULL(rc_calloc(h, 1, huge[i]));
        }
        CHECK_GE(test_stats(h).failed_allocs, failed0 + 4);
        const size_t start[] = {40, 5000};
        for (int i = 0; i < 2; i++) {
            unsigned char *p = rc_malloc(h, start[i]);
            if (!CHECK_NOT_NULL(p))
                continue;
            test_fill(p, start[i], 6);
            unsigned char *bad = rc_realloc(h, p, SIZE_MAX);
            CHECK_NULL(bad);
            if (bad == NULL) {
                bad = rc_realloc(h, p, SIZE_MAX - 15);
                CHECK_NULL(bad);
            }
            if (bad) /* p is gone: carry on with the new block */
                p = bad;
            CHECK_PATTERN(p, start[i], 6);
            CHECK_GE(rc_usable_size(p), start[i]);
            rc_free(p);
        }
        rc_heap_destroy(h);
    }
}

/* The same functional battery in every mode (malloc and debug modes must
 * behave identically through the API). */
static void battery(rc_alloc_mode mode) {
    rc_heap *h = test_heap_new(mode);
    if (!CHECK_NOT_NULL(h))
        return;
    CHECK_EQ(rc_heap_mode(h), mode);
    enum { NB = 700 };
    static unsigned char *b[NB];
    for (size_t n = 0; n < NB; n++) {
        b[n] = rc_malloc(h, n);
        if (!CHECK_NOT_NULL(b[n]))
            continue;
        CHECK(test_aligned(b[n]));
        CHECK_GE(rc_usable_size(b[n]), n);
        CHECK_PTR_EQ(rc_heap_of_block(b[n]), h);
        test_fill(b[n], n, (uint32_t)n);
    }
    for (size_t n = 0; n < NB; n++) {
        if (b[n] == NULL)
            continue;
        CHECK_PATTERN(b[n], n, (uint32_t)n);
        size_t m = n * 3 + 1;
        unsigned char *q = rc_realloc(h, b[n], m);
        if (CHECK_NOT_NULL(q)) {
            CHECK(test_aligned(q));
            CHECK_GE(rc_usable_size(q), m);
            CHECK_PATTERN(q, n, (uint32_t)n);
            b[n] = q;
        }
    }
    for (size_t n = 0; n < NB; n++)
        rc_free(b[n]);
    unsigned char *c = rc_calloc(h, 50, 3);
    if (CHECK_NOT_NULL(c)) {
        CHECK_ALL_BYTES(c, 150, 0);
        rc_free(c);
    }
    CHECK_NULL(rc_calloc(h, SIZE_MAX / 2, 3));
    void *z = rc_malloc(h, 0), *z2 = rc_malloc(h, 0);
    CHECK_NOT_NULL(z);
    CHECK_PTR_NE(z, z2);
    rc_free(z);
    rc_free(z2);
    rc_heap_destroy(h);
}

/* The library reports the version its headers give, in both forms, and the
 * string spells out the three numbers. */
static void test_version(void) {
    CHECK_NOT_NULL(rc_version());
    CHECK_MSG(strcmp(rc_version(), RCGC_VERSION_STRING) == 0, "rc_version() %s, headers %s",
              rc_version(), RCGC_VERSION_STRING);
    CHECK_EQ(rc_version_number(), RCGC_VERSION_NUMBER);
    char spelled[32];
    snprintf(spelled, sizeof spelled, "%d.%d.%d", RCGC_VERSION_MAJOR, RCGC_VERSION_MINOR,
             RCGC_VERSION_PATCH);
    CHECK_MSG(strcmp(spelled, RCGC_VERSION_STRING) == 0, "RCGC_VERSION_STRING %s, numbers %s",
              RCGC_VERSION_STRING, spelled);
    CHECK_EQ(RCGC_VERSION_NUMBER,
             RCGC_VERSION_MAJOR * 10000 + RCGC_VERSION_MINOR * 100 + RCGC_VERSION_PATCH);
    CHECK(RCGC_VERSION_MINOR < 100 && RCGC_VERSION_PATCH < 100); /* the number stays unambiguous */
}

static void test_battery_pool(void) { battery(RC_MODE_POOL); }
static void test_battery_malloc(void) { battery(RC_MODE_MALLOC); }
static void test_battery_debug(void) { battery(RC_MODE_DEBUG); }

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_every_size_1_to_600);
    RUN_TEST(test_malloc_free_each_size);
    RUN_TEST(test_large_sizes);
    RUN_TEST(test_good_size);
    RUN_TEST(test_malloc_zero);
    RUN_TEST(test_null_pointer);
    RUN_TEST(test_calloc);
    RUN_TEST(test_realloc_null_is_malloc);
    RUN_TEST(test_realloc_keeps_contents);
    RUN_TEST(test_realloc_same_class_in_place);
    RUN_TEST(test_realloc_class_transitions);
    RUN_TEST(test_realloc_to_zero);
    RUN_TEST(test_two_heaps);
    RUN_TEST(test_destroy_with_live_blocks);
    RUN_TEST(test_many_blocks);
    RUN_TEST(test_impossible_sizes);
    RUN_TEST(test_battery_pool);
    RUN_TEST(test_battery_malloc);
    RUN_TEST(test_battery_debug);
    RUN_TEST(test_version);
    return check_summary();
}
