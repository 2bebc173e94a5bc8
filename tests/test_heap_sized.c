/*
 * test_heap_sized.c — rc_free_sized: correct use in every mode (pool,
 * malloc, debug; small and large blocks, NULL, rc_malloc(h, 0), rc_calloc,
 * rc_realloc), any size from the requested one up to the usable size, and
 * misuse: a wrong size or a wrong heap falls back to rc_free in pool and
 * malloc modes (the block goes back to its real heap and class, nothing is
 * corrupted) and is reported in debug mode (the block is left alone).
 */
#include "check.h"
#include "testutil.h"

#include <rcgc/heap.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reports are recorded with testutil.h's test_heap_with_log. */

static const rc_alloc_mode modes[] = {RC_MODE_POOL, RC_MODE_MALLOC, RC_MODE_DEBUG};

static size_t bytes_in_use(const rc_heap *h) { return test_stats(h).bytes_in_use; }

/* ---- Correct use -------------------------------------------------------- */

/* Every small size, and some large ones, freed with their exact size. */
static void test_exact_sizes_every_mode(void) {
    static const size_t large[] = {513, 600, 1000, 4096, 70000};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        test_report_log log;
        rc_heap *h = test_heap_with_log(modes[m], &log);
        if (!CHECK_NOT_NULL(h))
            return;
        for (size_t n = 1; n <= RC_SMALL_MAX; n++) {
            unsigned char *p = rc_malloc(h, n);
            if (!CHECK_NOT_NULL(p))
                break;
            test_fill(p, n, (uint32_t)n);
            CHECK_PATTERN(p, n, (uint32_t)n);
            rc_free_sized(h, p, n);
        }
        for (size_t i = 0; i < sizeof large / sizeof large[0]; i++) {
            unsigned char *p = rc_malloc(h, large[i]);
            if (!CHECK_NOT_NULL(p))
                break;
            test_fill(p, large[i], 7);
            rc_free_sized(h, p, large[i]);
        }
        rc_heap_trim(h); /* debug mode: empty the quarantine */
        rc_heap_stats st = test_stats(h);
        CHECK_EQ(test_small_used(&st), 0);
        CHECK_EQ(st.large_blocks, 0);
        CHECK_EQ(st.bytes_in_use, 0);
        CHECK_EQ(log.count, 0);
        rc_heap_destroy(h);
    }
}

/* Many live blocks at once, freed sized in random order. */
static void test_many_live_blocks(void) {
    enum { N = 20000 };
    void **p = calloc(N, sizeof *p);
    size_t *n = calloc(N, sizeof *n);
    if (!CHECK_NOT_NULL(p) || !CHECK_NOT_NULL(n)) {
        free(p);
        free(n);
        return;
    }
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        test_report_log log;
        rc_heap *h = test_heap_with_log(modes[m], &log);
        if (!CHECK_NOT_NULL(h))
            break;
        test_rng r = test_rng_seed(42 + m);
        for (size_t i = 0; i < N; i++) {
            n[i] = test_random_size(&r);
            p[i] = rc_malloc(h, n[i]);
            if (!CHECK_NOT_NULL(p[i]))
                n[i] = 0;
            else
                test_fill(p[i], n[i], (uint32_t)i);
        }
        /* free a random half sized, a quarter plainly, and check the rest */
        for (size_t i = 0; i < N; i++) {
            if (!p[i])
                continue;
            size_t k = test_rng_below(&r, 4);
            if (k < 2) {
                CHECK_PATTERN(p[i], n[i], (uint32_t)i);
                rc_free_sized(h, p[i], n[i]);
                p[i] = NULL;
            } else if (k == 2) {
                rc_free(p[i]);
                p[i] = NULL;
            }
        }
        for (size_t i = 0; i < N; i++) {
            if (!p[i])
                continue;
            CHECK_PATTERN(p[i], n[i], (uint32_t)i);
            rc_free_sized(h, p[i], n[i]);
        }
        rc_heap_trim(h);
        rc_heap_stats st = test_stats(h);
        CHECK_EQ(test_small_used(&st), 0);
        CHECK_EQ(st.large_blocks, 0);
        CHECK_EQ(log.count, 0);
        rc_heap_destroy(h);
    }
    free(p);
    free(n);
}

/* A heap that frees everything with rc_free_sized keeps at most one arena,
 * as one that uses rc_free does. */
static void test_free_all_keeps_one_arena(void) {
    /* ~8 MiB of blocks (of 16..512 bytes) with the default 1 MiB arenas */
    const size_t N = 30000 * (RC_ARENA_SIZE / 4096) / 256;
    void **p = calloc(N, sizeof *p);
    if (!CHECK_NOT_NULL(p))
        return;
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (CHECK_NOT_NULL(h)) {
        for (int round = 0; round < 3; round++) {
            for (size_t i = 0; i < N; i++)
                p[i] = rc_malloc(h, 16 + (i % 32) * 16);
            CHECK_GT(test_stats(h).arenas, 4);
            for (size_t i = 0; i < N; i++)
                rc_free_sized(h, p[i], 16 + (i % 32) * 16);
            rc_heap_stats st = test_stats(h);
            CHECK_EQ(test_small_used(&st), 0);
            CHECK_LE(st.arenas, 1);
        }
        rc_heap_destroy(h);
    }
    free(p);
}

/* Pool mode accepts any size from the requested one up to the usable size. */
static void test_any_size_up_to_usable(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    for (size_t n = 1; n <= RC_SMALL_MAX; n += 7) {
        void *p = rc_malloc(h, n);
        if (!CHECK_NOT_NULL(p))
            break;
        size_t usable = rc_usable_size(p);
        CHECK_GE(usable, n);
        rc_free_sized(h, p, usable);
        CHECK_EQ(bytes_in_use(h), 0);
    }
    void *big = rc_malloc(h, 1000);
    if (CHECK_NOT_NULL(big)) {
        rc_free_sized(h, big, rc_usable_size(big));
        CHECK_EQ(test_stats(h).large_blocks, 0);
    }
    rc_heap_destroy(h);
}

/* NULL is ignored whatever the size and mode; rc_malloc(h, 0) is freed with 0
 * (or 1); rc_calloc with count * n; rc_realloc with the last size. */
static void test_null_zero_calloc_realloc(void) {
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        test_report_log log;
        rc_heap *h = test_heap_with_log(modes[m], &log);
        if (!CHECK_NOT_NULL(h))
            return;
        rc_free_sized(h, NULL, 0);
        rc_free_sized(h, NULL, 32);
        rc_free_sized(h, NULL, 100000);
        void *z = rc_malloc(h, 0);
        CHECK_NOT_NULL(z);
        rc_free_sized(h, z, 0);
        z = rc_malloc(h, 0);
        CHECK_NOT_NULL(z);
        rc_free_sized(h, z, 1);
        void *c = rc_calloc(h, 12, 10);
        if (CHECK_NOT_NULL(c)) {
            CHECK_ALL_BYTES(c, 120, 0);
            rc_free_sized(h, c, 120);
        }
        void *q = rc_malloc(h, 24);
        if (CHECK_NOT_NULL(q)) {
            void *q2 = rc_realloc(h, q, 300);
            if (CHECK_NOT_NULL(q2))
                q = q2;
            void *q3 = rc_realloc(h, q, 3000);
            if (CHECK_NOT_NULL(q3)) {
                q = q3;
                rc_free_sized(h, q, 3000);
            }
        }
        rc_heap_trim(h);
        CHECK_EQ(bytes_in_use(h), 0);
        CHECK_EQ(log.count, 0);
        rc_heap_destroy(h);
    }
}

/* ---- Misuse: pool and malloc modes fall back to rc_free ------------------- */

static void test_wrong_size_falls_back(void) {
    static const rc_alloc_mode fallback_modes[] = {RC_MODE_POOL, RC_MODE_MALLOC};
    for (size_t m = 0; m < 2; m++) {
        test_report_log log;
        rc_heap *h = test_heap_with_log(fallback_modes[m], &log);
        if (!CHECK_NOT_NULL(h))
            return;
        /* a 32-byte block freed as 100, as 4096 and as 0 bytes */
        static const size_t wrong[] = {100, 4096, 0, 512, SIZE_MAX};
        for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
            void *p = rc_malloc(h, 32);
            if (!CHECK_NOT_NULL(p))
                break;
            rc_free_sized(h, p, wrong[i]);
            rc_heap_stats st = test_stats(h);
            CHECK_EQ(test_small_used(&st), 0);
            CHECK_EQ(st.bytes_in_use, 0);
        }
        /* a large block freed as a small one */
        void *big = rc_malloc(h, 5000);
        if (CHECK_NOT_NULL(big)) {
            rc_free_sized(h, big, 32);
            CHECK_EQ(test_stats(h).large_blocks, 0);
        }
        /* the classes involved still hand out distinct, usable blocks */
        void *a[64];
        for (int i = 0; i < 64; i++) {
            a[i] = rc_malloc(h, i % 2 ? 32 : 100);
            if (CHECK_NOT_NULL(a[i]))
                test_fill(a[i], i % 2 ? 32 : 100, (uint32_t)i);
        }
        for (int i = 0; i < 64; i++) {
            if (a[i]) {
                CHECK_PATTERN(a[i], i % 2 ? 32u : 100u, (uint32_t)i);
                rc_free(a[i]);
            }
        }
        CHECK_EQ(bytes_in_use(h), 0);
        CHECK_EQ(log.count, 0);
        rc_heap_destroy(h);
    }
}

static void test_wrong_heap_falls_back(void) {
    static const rc_alloc_mode fallback_modes[] = {RC_MODE_POOL, RC_MODE_MALLOC};
    for (size_t m = 0; m < 2; m++) {
        test_report_log log1, log2;
        rc_heap *h1 = test_heap_with_log(fallback_modes[m], &log1);
        rc_heap *h2 = test_heap_with_log(fallback_modes[m], &log2);
        if (!CHECK_NOT_NULL(h1) || !CHECK_NOT_NULL(h2)) {
            rc_heap_destroy(h1);
            rc_heap_destroy(h2);
            return;
        }
        void *keep = rc_malloc(h2, 48); /* h2 has a pool of the same class */
        for (int i = 0; i < 1000; i++) {
            void *p = rc_malloc(h1, 48);
            if (!CHECK_NOT_NULL(p))
                break;
            CHECK_PTR_EQ(rc_heap_of_block(p), h1);
            rc_free_sized(h2, p, 48); /* wrong heap: goes back to h1 */
        }
        void *big = rc_malloc(h1, 2000);
        if (CHECK_NOT_NULL(big))
            rc_free_sized(h2, big, 2000);
        CHECK_EQ(bytes_in_use(h1), 0);
        CHECK_EQ(test_stats(h1).large_blocks, 0);
        CHECK_EQ(bytes_in_use(h2), 48);
        /* h2's cache did not receive h1's block */
        for (int i = 0; i < 100; i++) {
            void *q = rc_malloc(h2, 48);
            if (!CHECK_NOT_NULL(q))
                break;
            CHECK_PTR_EQ(rc_heap_of_block(q), h2);
            rc_free_sized(h2, q, 48);
        }
        rc_free_sized(h2, keep, 48);
        CHECK_EQ(bytes_in_use(h2), 0);
        CHECK_EQ(log1.count + log2.count, 0);
        rc_heap_destroy(h1); /* h1 first: h2's heap must not hold h1 memory */
        rc_heap_destroy(h2);
    }
}

/* A pool-mode call for a debug heap's block: rc_free's checks apply. */
static void test_pool_heap_given_debug_block(void) {
    test_report_log dlog, plog;
    rc_heap *d = test_heap_with_log(RC_MODE_DEBUG, &dlog);
    rc_heap *p = test_heap_with_log(RC_MODE_POOL, &plog);
    if (CHECK_NOT_NULL(d) && CHECK_NOT_NULL(p)) {
        void *b = rc_malloc(d, 40);
        if (CHECK_NOT_NULL(b)) {
            rc_free_sized(p, b, 40); /* falls back to rc_free: freed on d */
            CHECK_EQ(dlog.count, 0);
            rc_free(b); /* now a double free, caught by d */
            CHECK_EQ(dlog.count, 1);
            CHECK_EQ(dlog.r[0].kind, RC_ERR_DOUBLE_FREE);
        }
    }
    rc_heap_destroy(d);
    rc_heap_destroy(p);
}

/* ---- Misuse: debug mode reports --------------------------------------------- */

static void test_debug_reports_wrong_size(void) {
    static const size_t sizes[] = {1, 17, 32, 100, 512, 513, 5000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        test_report_log log;
        rc_heap *h = test_heap_with_log(RC_MODE_DEBUG, &log);
        if (!CHECK_NOT_NULL(h))
            return;
        size_t n = sizes[i];
        unsigned char *p = rc_malloc(h, n);
        if (!CHECK_NOT_NULL(p)) {
            rc_heap_destroy(h);
            return;
        }
        test_fill(p, n, 3);
        /* debug mode wants the exact requested size: one more, one less,
         * the class size, far off */
        size_t wrong[] = {n + 1, n - 1, rc_good_size(n) + 16, n * 3 + 1000};
        for (size_t k = 0; k < sizeof wrong / sizeof wrong[0]; k++) {
            if (wrong[k] == n || (n == 1 && wrong[k] == 0))
                continue;
            int before = log.count;
            rc_free_sized(h, p, wrong[k]);
            if (CHECK_EQ(log.count, before + 1) && before < TEST_LOG_MAX) {
                CHECK_EQ(log.r[before].kind, RC_ERR_WRONG_SIZE);
                CHECK_PTR_EQ(log.r[before].ptr, p);
                CHECK_PTR_EQ(log.r[before].heap, h);
                CHECK_EQ(log.r[before].size, n);
            }
            /* left alone: still live and intact */
            CHECK_PATTERN(p, n, 3);
            CHECK_EQ(rc_usable_size(p), n);
        }
        int reports = log.count;
        rc_free_sized(h, p, n); /* the right size frees it */
        CHECK_EQ(log.count, reports);
        rc_free_sized(h, p, n); /* and a second time is a double free */
        if (CHECK_EQ(log.count, reports + 1) && reports < TEST_LOG_MAX)
            CHECK_EQ(log.r[reports].kind, RC_ERR_DOUBLE_FREE);
        rc_heap_trim(h);
        CHECK_EQ(bytes_in_use(h), 0);
        rc_heap_destroy(h);
    }
}

static void test_debug_reports_wrong_heap(void) {
    test_report_log log1, log2;
    rc_heap *h1 = test_heap_with_log(RC_MODE_DEBUG, &log1);
    rc_heap *h2 = test_heap_with_log(RC_MODE_DEBUG, &log2);
    rc_heap *hp = test_heap_new(RC_MODE_POOL);
    if (CHECK_NOT_NULL(h1) && CHECK_NOT_NULL(h2) && CHECK_NOT_NULL(hp)) {
        static const size_t sizes[] = {64, 3000};
        for (size_t i = 0; i < 2; i++) {
            void *p = rc_malloc(h1, sizes[i]);
            if (!CHECK_NOT_NULL(p))
                continue;
            int before = log2.count;
            rc_free_sized(h2, p, sizes[i]);
            if (CHECK_EQ(log2.count, before + 1) && before < TEST_LOG_MAX) {
                CHECK_EQ(log2.r[before].kind, RC_ERR_WRONG_HEAP);
                CHECK_PTR_EQ(log2.r[before].ptr, p);
                CHECK_PTR_EQ(log2.r[before].heap, h2);
                /* a report's size is the block's, 0 if unknown (heap.h): h2
                 * does not know it, and the caller's claim is not it */
                CHECK_EQ(log2.r[before].size, 0);
            }
            CHECK_EQ(log1.count, 0);
            CHECK_PTR_EQ(rc_heap_of_block(p), h1); /* still h1's, still live */
            rc_free_sized(h1, p, sizes[i]);
            CHECK_EQ(log1.count, 0);
        }
        /* a pool-mode heap's block handed to a debug heap */
        void *q = rc_malloc(hp, 64);
        if (CHECK_NOT_NULL(q)) {
            int before = log2.count;
            rc_free_sized(h2, q, 64);
            if (CHECK_EQ(log2.count, before + 1) && before < TEST_LOG_MAX)
                CHECK_EQ(log2.r[before].kind, RC_ERR_WRONG_HEAP);
            rc_free_sized(hp, q, 64);
            CHECK_EQ(bytes_in_use(hp), 0);
        }
        /* a pointer that is nobody's */
        static uint64_t foreign[32];
        int before = log2.count;
        rc_free_sized(h2, &foreign[16], 16);
        if (CHECK_EQ(log2.count, before + 1) && before < TEST_LOG_MAX) {
            CHECK_EQ(log2.r[before].kind, RC_ERR_FOREIGN);
            CHECK_EQ(log2.r[before].size, 0); /* no block, no size */
        }
        rc_heap_trim(h1);
        CHECK_EQ(bytes_in_use(h1), 0);
    }
    rc_heap_destroy(h1);
    rc_heap_destroy(h2);
    rc_heap_destroy(hp);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_exact_sizes_every_mode);
    RUN_TEST(test_many_live_blocks);
    RUN_TEST(test_free_all_keeps_one_arena);
    RUN_TEST(test_any_size_up_to_usable);
    RUN_TEST(test_null_zero_calloc_realloc);
    RUN_TEST(test_wrong_size_falls_back);
    RUN_TEST(test_wrong_heap_falls_back);
    RUN_TEST(test_pool_heap_given_debug_block);
    RUN_TEST(test_debug_reports_wrong_size);
    RUN_TEST(test_debug_reports_wrong_heap);
    return check_summary();
}
