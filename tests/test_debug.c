/*
 * test_debug.c — debug mode (fill patterns, guard bytes, serials and the
 * error reports for overruns, underruns, double frees, wrong heaps and wrong
 * threads), the default error handler (which must abort: checked in forked
 * children), the RCGC_MALLOC environment variable (checked in re-executed
 * children, so it does not matter when the library reads it) and a smoke
 * test of malloc mode.
 */
#include "check.h"
#include "test_child.h"
#include "testutil.h"

#include <rcgc/heap.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- A debug heap whose reports are recorded (testutil.h) ---------------- */

static rc_heap *debug_heap(test_report_log *log) {
    rc_heap *h = test_heap_with_log(RC_MODE_DEBUG, log);
    if (h)
        CHECK_EQ(rc_heap_mode(h), RC_MODE_DEBUG);
    return h;
}

/* A debug heap (see debug_heap) and a block of n bytes from it; NULL, with
 * nothing left behind, if either cannot be had. */
static rc_heap *debug_heap_with_block(test_report_log *log, size_t n, unsigned char **p) {
    rc_heap *h = debug_heap(log);
    if (!CHECK_NOT_NULL(h))
        return NULL;
    *p = rc_malloc(h, n);
    if (!CHECK_NOT_NULL(*p)) {
        rc_heap_destroy(h);
        return NULL;
    }
    return h;
}

/* The log holds exactly one report, of this kind, about this pointer. */
static const rc_error_report *expect_one(test_report_log *log, rc_error_kind kind, const void *ptr,
                                         rc_heap *heap) {
    if (!CHECK_EQ(log->count, 1))
        return log->count > 0 ? &log->r[0] : NULL;
    const rc_error_report *r = &log->r[0];
    CHECK_EQ(r->kind, kind);
    CHECK_PTR_EQ(r->ptr, ptr);
    if (heap)
        CHECK_PTR_EQ(r->heap, heap);
    CHECK_EQ(log->bad_message, 0);
    CHECK_GT(strlen(r->message), 0);
    return r;
}

/* Bytes the caller holds (debug mode counts exactly what was asked for).
 * Block counts are no use here: freed blocks sit in a quarantine for a while
 * and still occupy their pool slots. */
static size_t bytes_held(const rc_heap *h) {
    return test_stats(h).bytes_requested;
}

static const size_t test_sizes[] = {1, 7, 16, 37, 100, 255, 480, 512, 513, 2000, 70000};
#define NSIZES (sizeof test_sizes / sizeof test_sizes[0])

/* ---- Fill patterns and guards -------------------------------------------- */

static void test_fresh_and_guard_bytes(void) {
    test_report_log log;
    rc_heap *h = debug_heap(&log);
    if (!CHECK_NOT_NULL(h))
        return;
    for (size_t i = 0; i < NSIZES; i++) {
        size_t n = test_sizes[i];
        unsigned char *p = rc_malloc(h, n);
        if (!CHECK_NOT_NULL(p))
            continue;
        CHECK(test_aligned(p));
        CHECK_GE(rc_usable_size(p), n);
        CHECK_PTR_EQ(rc_heap_of_block(p), h);
        CHECK_ALL_BYTES(p, n, RC_DEBUG_FRESH_BYTE);
#if TEST_ASAN
        if (i == 0)
            CHECK_SKIP("guard bytes are not read under AddressSanitizer");
#else
        CHECK_ALL_BYTES(p + n, RC_DEBUG_GUARD_SIZE, RC_DEBUG_GUARD_BYTE);
        CHECK_ALL_BYTES(p - RC_DEBUG_GUARD_SIZE, RC_DEBUG_GUARD_SIZE, RC_DEBUG_GUARD_BYTE);
#endif
        /* Using every usable byte is legal and must not be reported. */
        memset(p, 0x42, rc_usable_size(p));
        /* A realloc moves the guard with the size. */
        size_t m = n + 50;
        unsigned char *q = rc_realloc(h, p, m);
        if (CHECK_NOT_NULL(q)) {
            CHECK_ALL_BYTES(q, n, 0x42);
#if !TEST_ASAN
            CHECK_ALL_BYTES(q + m, RC_DEBUG_GUARD_SIZE, RC_DEBUG_GUARD_BYTE);
#endif
            p = q;
        }
        rc_free(p);

        unsigned char *z = rc_calloc(h, 1, n);
        if (CHECK_NOT_NULL(z)) {
            CHECK_ALL_BYTES(z, n, 0);
#if !TEST_ASAN
            CHECK_ALL_BYTES(z + n, RC_DEBUG_GUARD_SIZE, RC_DEBUG_GUARD_BYTE);
#endif
            rc_free(z);
        }
    }
    CHECK_EQ(log.count, 0);
    CHECK_EQ(bytes_held(h), 0);
    rc_heap_destroy(h);
}

/* bytes_requested counts exactly what was asked for in debug mode. */
static void test_debug_stats(void) {
    test_report_log log;
    rc_heap *h = debug_heap(&log);
    if (!CHECK_NOT_NULL(h))
        return;
    void *a = rc_malloc(h, 37), *b = rc_malloc(h, 100), *c = rc_malloc(h, 3000);
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(st.bytes_requested, 37 + 100 + 3000);
    CHECK_GE(st.bytes_in_use, st.bytes_requested);
    rc_free(b);
    st = test_stats(h);
    CHECK_EQ(st.bytes_requested, 37 + 3000);
    rc_free(a);
    rc_free(c);
    st = test_stats(h);
    CHECK_EQ(st.bytes_requested, 0);
    CHECK_EQ(log.count, 0);
    rc_heap_destroy(h);
}

/* ---- Corruption reports ---------------------------------------------------- */

/* Allocate n bytes on a fresh debug heap, write one byte at offset `at`
 * from the block (in a guard), free it: exactly one report of `kind`, with
 * the block's size and serial.  With check_held, the reported block is
 * also seen to stay held (abandoned, not freed). */
static void corrupt_guard_and_free(size_t n, ptrdiff_t at, rc_error_kind kind, bool check_held) {
    test_report_log log;
    unsigned char *p;
    rc_heap *h = debug_heap_with_block(&log, n, &p);
    if (!h)
        return;
    size_t held = bytes_held(h);
    if (check_held)
        CHECK_EQ(held, n);
    p[at] = 'x';
    rc_free(p);
    const rc_error_report *r = expect_one(&log, kind, p, h);
    if (r) {
        CHECK_EQ(r->size, n);
        CHECK_GT(r->serial, 0);
    }
    if (check_held) /* reported, so abandoned: the block is still held */
        CHECK_EQ(bytes_held(h), held);
    rc_heap_destroy(h);
}

static void test_overrun(void) {
    const size_t sizes[] = {37, 16, 512, 2000};
    for (size_t i = 0; i < 4; i++) {
        /* one byte past the end, or the last guard byte */
        corrupt_guard_and_free(sizes[i], (ptrdiff_t)sizes[i], RC_ERR_OVERRUN, true);
        corrupt_guard_and_free(sizes[i], (ptrdiff_t)(sizes[i] + RC_DEBUG_GUARD_SIZE - 1),
                               RC_ERR_OVERRUN, true);
    }
}

static void test_underrun(void) {
    const size_t sizes[] = {40, 2000};
    for (size_t i = 0; i < 2; i++) {
        /* the byte before the block, or the first guard byte */
        corrupt_guard_and_free(sizes[i], -1, RC_ERR_UNDERRUN, false);
        corrupt_guard_and_free(sizes[i], -(ptrdiff_t)RC_DEBUG_GUARD_SIZE, RC_ERR_UNDERRUN, false);
    }
}

static void test_double_free(void) {
    const size_t sizes[] = {77, 2001};
    for (size_t i = 0; i < 2; i++) {
        test_report_log log;
        rc_heap *h = debug_heap(&log);
        if (!CHECK_NOT_NULL(h))
            return;
        void *keep = rc_malloc(h, 77); /* a neighbour that must survive */
        unsigned char *p = rc_malloc(h, sizes[i]);
        if (!CHECK_NOT_NULL(p) || !CHECK_NOT_NULL(keep)) {
            rc_heap_destroy(h);
            return;
        }
        memset(keep, 0x21, 77);
        rc_free(p);
        CHECK_EQ(log.count, 0);
        rc_free(p);
        const rc_error_report *r = expect_one(&log, RC_ERR_DOUBLE_FREE, p, NULL);
        if (r && r->heap)
            CHECK_PTR_EQ(r->heap, h);
        CHECK_ALL_BYTES(keep, 77, 0x21);
        rc_free(keep);
        CHECK_EQ(log.count, 1);
        CHECK_EQ(bytes_held(h), 0);
        rc_heap_destroy(h);
    }
}

static void test_realloc_reports_overrun(void) {
    const size_t sizes[] = {40, 2000};
    for (size_t i = 0; i < 2; i++) {
        size_t n = sizes[i];
        test_report_log log;
        unsigned char *p;
        rc_heap *h = debug_heap_with_block(&log, n, &p);
        if (!h)
            return;
        p[n] = 1;
        void *q = rc_realloc(h, p, n * 2);
        const rc_error_report *r = expect_one(&log, RC_ERR_OVERRUN, p, h);
        if (r)
            CHECK_EQ(r->size, n);
        CHECK_NULL(q); /* the faulty operation is abandoned */
        rc_heap_destroy(h);
    }
}

/* A double free is reported with the block's requested size and its
 * allocation serial.  The serial is the one the block carried while live,
 * as an RC_ERR_WRONG_SIZE report (which leaves the block alone) shows it:
 * non-zero, different for two blocks and growing with allocation order. */
static void test_double_free_reports_size_and_serial(void) {
    test_report_log log;
    rc_heap *h = debug_heap(&log);
    if (!CHECK_NOT_NULL(h))
        return;
    enum { K = 3 };
    const size_t sizes[K] = {77, 2001, 77}; /* a pool block, a large one, another pool block */
    unsigned char *p[K];
    uint64_t serial[K];
    for (int i = 0; i < K; i++) {
        p[i] = rc_malloc(h, sizes[i]);
        if (!CHECK_NOT_NULL(p[i])) {
            rc_heap_destroy(h);
            return;
        }
    }
    /* what each block's serial is, before any free */
    for (int i = 0; i < K; i++) {
        rc_free_sized(h, p[i], sizes[i] + 1);
        if (!CHECK_EQ(log.count, i + 1)) {
            rc_heap_destroy(h);
            return;
        }
        CHECK_EQ(log.r[i].kind, RC_ERR_WRONG_SIZE);
        CHECK_PTR_EQ(log.r[i].ptr, p[i]);
        CHECK_EQ(log.r[i].size, sizes[i]);
        serial[i] = log.r[i].serial;
        CHECK_GT(serial[i], 0);
        if (i > 0)
            CHECK_GT(serial[i], serial[i - 1]);
    }
    for (int i = 0; i < K; i++)
        rc_free(p[i]);
    CHECK_EQ(log.count, K); /* the real frees are clean */
    CHECK_EQ(bytes_held(h), 0);
    /* the second frees, in another order than the allocations */
    static const int order[K] = {1, 0, 2};
    for (int j = 0; j < K; j++) {
        int i = order[j];
        rc_free(p[i]);
        if (!CHECK_EQ(log.count, K + j + 1))
            break;
        const rc_error_report *r = &log.r[K + j];
        CHECK_EQ(r->kind, RC_ERR_DOUBLE_FREE);
        CHECK_PTR_EQ(r->ptr, p[i]);
        CHECK_PTR_EQ(r->heap, h);
        CHECK_EQ(r->size, sizes[i]);
        CHECK_EQ(r->serial, serial[i]);
        CHECK_STR_CONTAINS(r->message, "double free");
    }
    CHECK_EQ(log.bad_message, 0);
    rc_heap_destroy(h);
}

/* rc_realloc of a block whose guard bytes in front were overwritten is an
 * RC_ERR_UNDERRUN report, with the block's size and serial, and the
 * realloc is abandoned: NULL, nothing allocated or freed, the data in
 * place.  The block is still live: with its guard repaired it resizes and
 * frees without a report. */
static void test_realloc_reports_underrun(void) {
    const size_t sizes[] = {40, 2000};
    const ptrdiff_t at[] = {-1, -(ptrdiff_t)RC_DEBUG_GUARD_SIZE};
    for (size_t i = 0; i < 2; i++) {
        for (size_t k = 0; k < 2; k++) {
            for (int zero = 0; zero < 2; zero++) {
                size_t n = sizes[i];
                size_t to = zero ? 0 : 2 * n;
                test_report_log log;
                unsigned char *p;
                rc_heap *h = debug_heap_with_block(&log, n, &p);
                if (!h)
                    return;
                test_fill(p, n, 19);
                size_t held = bytes_held(h);
                rc_heap_stats before = test_stats(h);
                p[at[k]] = 'u';
                void *q = rc_realloc(h, p, to);
                const rc_error_report *r = expect_one(&log, RC_ERR_UNDERRUN, p, h);
                if (r) {
                    CHECK_EQ(r->size, n);
                    CHECK_GT(r->serial, 0);
                }
                CHECK_NULL(q);
                CHECK_EQ(bytes_held(h), held);
                rc_heap_stats after = test_stats(h);
                CHECK_EQ(after.bytes_in_use, before.bytes_in_use);
                CHECK_EQ(after.large_blocks, before.large_blocks);
                CHECK_PATTERN(p, n, 19);
                CHECK_PTR_EQ(rc_heap_of_block(p), h);

                p[at[k]] = RC_DEBUG_GUARD_BYTE;
                unsigned char *m = rc_realloc(h, p, 2 * n);
                if (CHECK_NOT_NULL(m)) {
                    CHECK_PATTERN(m, n, 19);
                    rc_free(m);
                }
                CHECK_EQ(log.count, 1);
                CHECK_EQ(bytes_held(h), 0);
                rc_heap_destroy(h);
            }
        }
    }
}

/* rc_realloc of a block already freed (still in the quarantine, so still
 * recognised) is an RC_ERR_DOUBLE_FREE report with the block's size and
 * serial, and is abandoned: NULL, no block allocated, nothing written to
 * the freed one (it leaves the quarantine without a write-after-free
 * report), and it is still a freed block (another free is reported too). */
static void test_realloc_of_freed_block(void) {
    const size_t sizes[] = {77, 2001};
    for (size_t i = 0; i < 2; i++) {
        const size_t n = sizes[i];
        const size_t targets[] = {2 * n, n / 2, 0};
        for (size_t t = 0; t < 3; t++) {
            test_report_log log;
            rc_heap *h = debug_heap(&log);
            if (!CHECK_NOT_NULL(h))
                return;
            unsigned char *keep = rc_malloc(h, 50);
            unsigned char *p = rc_malloc(h, n);
            if (!CHECK_NOT_NULL(keep) || !CHECK_NOT_NULL(p)) {
                rc_heap_destroy(h);
                return;
            }
            memset(keep, 0x21, 50);
            memset(p, 0x37, n);
            rc_free(p);
            CHECK_EQ(log.count, 0);
            rc_heap_stats before = test_stats(h);
            void *q = rc_realloc(h, p, targets[t]);
            const rc_error_report *r = expect_one(&log, RC_ERR_DOUBLE_FREE, p, h);
            if (r) {
                CHECK_EQ(r->size, n);
                CHECK_GT(r->serial, 0);
            }
            CHECK_NULL(q);
            rc_heap_stats after = test_stats(h);
            CHECK_EQ(after.bytes_requested, before.bytes_requested);
            CHECK_EQ(after.bytes_in_use, before.bytes_in_use);
            CHECK_EQ(after.large_blocks, before.large_blocks);
            CHECK_ALL_BYTES(keep, 50, 0x21);

            rc_free(p);
            if (CHECK_EQ(log.count, 2)) {
                CHECK_EQ(log.r[1].kind, RC_ERR_DOUBLE_FREE);
                CHECK_EQ(log.r[1].serial, log.r[0].serial);
            }
            rc_free(keep);
            rc_heap_trim(h); /* empties the quarantine, checking each block */
            CHECK_EQ(log.count, 2);
            CHECK_EQ(bytes_held(h), 0);
            rc_heap_destroy(h);
        }
    }
}

/* An underrun that reaches past the front guard into the debug header (17
 * or more bytes before the block) is still an RC_ERR_UNDERRUN report to the
 * block's heap, through its handler, for pool and large blocks alike: the
 * large-block header in front of a large block's debug header says whose it
 * is.  rc_free, rc_realloc and rc_usable_size report it and leave the block
 * alone; rc_heap_of_block still finds the heap. */
static void test_underrun_into_debug_header(void) {
    const size_t sizes[] = {40, 2000, 70000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        test_report_log log;
        unsigned char *p;
        rc_heap *h = debug_heap_with_block(&log, n, &p);
        if (!h)
            return;
        test_fill(p, n, 23);
        size_t held = bytes_held(h);
        p[-(ptrdiff_t)RC_DEBUG_GUARD_SIZE - 1] ^= 0xFF;
        CHECK_PTR_EQ(rc_heap_of_block(p), h);

        CHECK_NULL(rc_realloc(h, p, 2 * n));
        expect_one(&log, RC_ERR_UNDERRUN, p, h);
        log.count = 0;
        rc_free(p);
        expect_one(&log, RC_ERR_UNDERRUN, p, h);
        log.count = 0;
        if (n > RC_SMALL_MAX) { /* without its debug header, its size is unknown */
            CHECK_EQ(rc_usable_size(p), 0);
            expect_one(&log, RC_ERR_UNDERRUN, p, h);
        }
        CHECK_EQ(bytes_held(h), held); /* left alone: a leak, never corruption */
        CHECK_PATTERN(p, n, 23);
        rc_heap_destroy(h); /* gives it back with the rest */
    }
}

/* A pointer that is not the start of a block, given with the heap or inside
 * an arena (so that the report can reach the heap's handler): 16 bytes into
 * the block, or its raw start DEBUG_PREFIX bytes before it (for a large
 * block, what the large-block layer handed the debug allocator, whose
 * large-block header checks out).  rc_free, rc_free_sized, rc_realloc and
 * rc_usable_size report each as RC_ERR_FOREIGN to the heap and leave the
 * block alone.  (rc_free and rc_usable_size of a large block's inner pointer
 * find no heap to report to: the default handler, test_foreign_pointer_aborts.)
 * The raw start of a large block was freed by rc_free without a report,
 * bypassing the checks and the quarantine (and bytes_requested kept its
 * size); rc_realloc and rc_free_sized sent it to the default handler, which
 * aborted; rc_usable_size gave the raw block's size, and of a pool block's
 * inner pointer a size read from the middle of the block. */
#define DEBUG_PREFIX (4 * 8 + RC_DEBUG_GUARD_SIZE) /* heap size serial check, guard */
#define DEBUG_SIZE_WORD (DEBUG_PREFIX - 8)         /* the header's size, before p */
static void test_pointer_not_block_start(void) {
    const size_t sizes[] = {40, 2000, 70000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        bool large = n > RC_SMALL_MAX;
        test_report_log log;
        unsigned char *p;
        rc_heap *h = debug_heap_with_block(&log, n, &p);
        if (!h)
            return;
        test_fill(p, n, 41);
        size_t held = bytes_held(h);
        unsigned char *bad[] = {p + 16, p - DEBUG_PREFIX};
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            unsigned char *b = bad[k];
            bool heap_known = !large || b < p; /* see above */
            if (heap_known) {
                log.count = 0;
                rc_free(b);
                expect_one(&log, RC_ERR_FOREIGN, b, h);
                log.count = 0;
                CHECK_EQ(rc_usable_size(b), 0);
                expect_one(&log, RC_ERR_FOREIGN, b, h);
            }
            log.count = 0;
            rc_free_sized(h, b, n);
            expect_one(&log, RC_ERR_FOREIGN, b, h);
            log.count = 0;
            CHECK_NULL(rc_realloc(h, b, 2 * n));
            expect_one(&log, RC_ERR_FOREIGN, b, h);
            log.count = 0;
            CHECK_NULL(rc_realloc(h, b, 0));
            expect_one(&log, RC_ERR_FOREIGN, b, h);
            CHECK_EQ(bytes_held(h), held);
            CHECK_PATTERN(p, n, 41);
        }
        /* the block itself is intact and frees without a report */
        log.count = 0;
        CHECK_EQ(rc_usable_size(p), n);
        rc_free(p);
        CHECK_EQ(log.count, 0);
        CHECK_EQ(bytes_held(h), 0);
        rc_heap_trim(h);
        rc_heap_stats st = test_stats(h);
        CHECK_EQ(st.large_blocks, 0);
        CHECK_EQ(test_small_used(&st), 0);
        CHECK_EQ(log.count, 0);
        rc_heap_destroy(h);
    }
}

/* Serials grow from block to block (seen through the reports). */
static void test_serials_increase(void) {
    test_report_log log;
    rc_heap *h = debug_heap(&log);
    if (!CHECK_NOT_NULL(h))
        return;
    const size_t sizes[] = {24, 2000, 24, 300, 5000};
    enum { K = 5 };
    unsigned char *p[K];
    for (int i = 0; i < K; i++) {
        p[i] = rc_malloc(h, sizes[i]);
        if (!CHECK_NOT_NULL(p[i])) {
            rc_heap_destroy(h);
            return;
        }
        void *other = rc_malloc(h, 64); /* allocations in between */
        rc_free(other);
    }
    for (int i = 0; i < K; i++) {
        p[i][sizes[i]] = 0;
        rc_free(p[i]);
    }
    if (CHECK_EQ(log.count, K)) {
        for (int i = 0; i < K; i++) {
            CHECK_EQ(log.r[i].kind, RC_ERR_OVERRUN);
            CHECK_PTR_EQ(log.r[i].ptr, p[i]);
            CHECK_EQ(log.r[i].size, sizes[i]);
            CHECK_GT(log.r[i].serial, 0);
            if (i > 0)
                CHECK_GT(log.r[i].serial, log.r[i - 1].serial);
        }
    }
    rc_heap_destroy(h);
}

static void test_wrong_heap(void) {
    const size_t sizes[] = {50, 2000};
    for (size_t i = 0; i < 2; i++) {
        size_t n = sizes[i];
        test_report_log log1, log2;
        rc_heap *h1 = debug_heap(&log1);
        rc_heap *h2 = debug_heap(&log2);
        if (!CHECK_NOT_NULL(h1) || !CHECK_NOT_NULL(h2)) {
            if (h1)
                rc_heap_destroy(h1);
            if (h2)
                rc_heap_destroy(h2);
            return;
        }
        unsigned char *p = rc_malloc(h1, n);
        if (CHECK_NOT_NULL(p)) {
            test_fill(p, n, 31);
            void *q = rc_realloc(h2, p, n + 100);
            if (!CHECK_NULL(q)) {
                /* p was resized into h2 (so it is gone): nothing more to see */
                rc_heap_destroy(h1);
                rc_heap_destroy(h2);
                continue;
            }
            /* Exactly one report, through one of the two heaps' handlers. */
            CHECK_EQ(log1.count + log2.count, 1);
            test_report_log *log = log1.count ? &log1 : &log2;
            if (log->count == 1) {
                CHECK_EQ(log->r[0].kind, RC_ERR_WRONG_HEAP);
                CHECK_PTR_EQ(log->r[0].ptr, p);
                CHECK(log->r[0].heap == h1 || log->r[0].heap == h2);
                CHECK_GT(strlen(log->r[0].message), 0);
            }
            /* The block is untouched and still h1's. */
            CHECK_PATTERN(p, n, 31);
            CHECK_PTR_EQ(rc_heap_of_block(p), h1);
            /* Resizing through the right heap works. */
            unsigned char *r = rc_realloc(h1, p, n + 100);
            if (CHECK_NOT_NULL(r)) {
                CHECK_PATTERN(r, n, 31);
                p = r;
            }
            rc_free(p);
            CHECK_EQ(log1.count + log2.count, 1);
        }
        CHECK_EQ(bytes_held(h1), 0);
        CHECK_EQ(bytes_held(h2), 0);
        rc_heap_destroy(h1);
        rc_heap_destroy(h2);
    }
}

/* Freed blocks are filled with RC_DEBUG_DEAD_BYTE and kept in a quarantine
 * of RC_DEBUG_QUARANTINE blocks; a write into one is reported when it leaves
 * the quarantine. */
static void test_quarantine(void) {
#if TEST_ASAN
    CHECK_SKIP("reads and writes freed (quarantined) blocks: not under ASan");
#else
    const size_t sizes[] = {70, 2003};
    for (size_t i = 0; i < 2; i++) {
        size_t n = sizes[i];
        test_report_log log;
        unsigned char *p;
        rc_heap *h = debug_heap_with_block(&log, n, &p);
        if (!h)
            return;
        memset(p, 0x33, n);
        rc_free(p);
        CHECK_ALL_BYTES(p, n, RC_DEBUG_DEAD_BYTE);
        CHECK_EQ(log.count, 0);
        p[n / 2] = 0x44; /* write after free */
        /* Push it out of the quarantine with other frees. */
        for (int k = 0; k < RC_DEBUG_QUARANTINE; k++) {
            void *q = rc_malloc(h, 24);
            rc_free(q);
        }
        const rc_error_report *r = expect_one(&log, RC_ERR_WRITE_AFTER_FREE, p, h);
        if (r) {
            CHECK_EQ(r->size, n);
            CHECK_GT(r->serial, 0);
        }
        rc_heap_destroy(h);
    }
    /* A clean freed block leaves the quarantine silently. */
    test_report_log log;
    rc_heap *h = debug_heap(&log);
    if (!CHECK_NOT_NULL(h))
        return;
    for (int k = 0; k < 4 * RC_DEBUG_QUARANTINE; k++) {
        void *q = rc_malloc(h, (size_t)(k % 700) + 1);
        rc_free(q);
    }
    rc_heap_trim(h);
    CHECK_EQ(log.count, 0);
    rc_heap_destroy(h);
#endif
}

/* A write after free into a quarantined block's guard bytes or debug header
 * is reported too when it leaves the quarantine (RC_ERR_WRITE_AFTER_FREE;
 * with its size and serial unless the header itself was hit).  Damaged
 * guards went unnoticed, and a damaged header was reported with whatever
 * size it then held, or not at all when that size had become 0. */
static void test_quarantine_guards_and_header(void) {
#if TEST_ASAN
    CHECK_SKIP("writes freed (quarantined) blocks: not under ASan");
#else
    const size_t sizes[] = {70, 2003};
    const ptrdiff_t where[] = {-1, -(ptrdiff_t)RC_DEBUG_GUARD_SIZE, 0 /* p[n] */, -DEBUG_SIZE_WORD};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
            for (unsigned v = 0; v < 2; v++) {
                size_t n = sizes[i];
                test_report_log log;
                unsigned char *p;
                rc_heap *h = debug_heap_with_block(&log, n, &p);
                if (!h)
                    return;
                rc_free(p);
                bool header = where[w] == -DEBUG_SIZE_WORD;
                unsigned char *at = where[w] ? p + where[w] : p + n;
                if (header) /* the size word: 0, or one more */
                    at[0] = v ? (unsigned char)(at[0] + 1) : 0;
                else
                    at[0] = v ? 0 : RC_DEBUG_DEAD_BYTE;
                CHECK_EQ(log.count, 0);
                rc_heap_trim(h);
                const rc_error_report *r = expect_one(&log, RC_ERR_WRITE_AFTER_FREE, p, h);
                if (r) {
                    CHECK_EQ(r->size, header ? 0 : n);
                    CHECK_EQ(r->serial > 0, !header);
                }
                rc_heap_destroy(h);
            }
        }
    }
#endif
}

/* A double free of a pool block that has already left the quarantine (its
 * memory back on a free list, not yet handed out again) is still a double
 * free, with the block's size and serial: the free list's link lands on the
 * header's heap word, outside the check.  It was reported as an underrun
 * when the link overwrote the size. */
static void test_double_free_after_quarantine(void) {
#if TEST_ASAN
    CHECK_SKIP("reads a freed pool block's header: not under ASan");
#else
    test_report_log log;
    unsigned char *p;
    rc_heap *h = debug_heap_with_block(&log, 70, &p);
    if (!h)
        return;
    rc_free(p);
    /* push it out with blocks of another class, which cannot reuse it */
    for (int k = 0; k < RC_DEBUG_QUARANTINE + 1; k++)
        rc_free(rc_malloc(h, 24));
    CHECK_EQ(log.count, 0);
    rc_free(p);
    const rc_error_report *r = expect_one(&log, RC_ERR_DOUBLE_FREE, p, h);
    if (r) {
        CHECK_EQ(r->size, 70);
        CHECK_EQ(r->serial, 1); /* the heap's first block */
    }
    /* the heap goes on, and hands the block out again intact */
    log.count = 0;
    unsigned char *q = rc_malloc(h, 70);
    if (CHECK_NOT_NULL(q)) {
        test_fill(q, 70, 3);
        CHECK_PATTERN(q, 70, 3);
        rc_free(q);
    }
    CHECK_EQ(log.count, 0);
    rc_heap_destroy(h);
#endif
}

/* rc_realloc(h, p, 0) frees p, so it must check p like rc_realloc to any
 * other size (and like rc_free) does. */
static void test_realloc_zero_checks(void) {
    test_report_log log1, log2;
    rc_heap *h1 = debug_heap(&log1);
    rc_heap *h2 = debug_heap(&log2);
    if (CHECK_NOT_NULL(h1) && CHECK_NOT_NULL(h2)) {
        unsigned char *p = rc_malloc(h1, 50);
        if (CHECK_NOT_NULL(p)) {
            test_fill(p, 50, 8);
            void *q = rc_realloc(h2, p, 0);
            CHECK_EQ(log1.count + log2.count, 1);
            test_report_log *log = log1.count ? &log1 : &log2;
            if (log->count >= 1) {
                CHECK_EQ(log->r[0].kind, RC_ERR_WRONG_HEAP);
                CHECK_PTR_EQ(log->r[0].ptr, p);
            }
            CHECK_NULL(q); /* abandoned */
            CHECK_EQ(bytes_held(h1), 50);
            rc_free(q);
        }
    }
    if (h1)
        rc_heap_destroy(h1);
    if (h2)
        rc_heap_destroy(h2);

    test_report_log log;
    rc_heap *h = debug_heap(&log);
    if (!CHECK_NOT_NULL(h))
        return;
    unsigned char *p = rc_malloc(h, 40);
    if (CHECK_NOT_NULL(p)) {
        p[40] = 0;
        void *q = rc_realloc(h, p, 0);
        const rc_error_report *r = expect_one(&log, RC_ERR_OVERRUN, p, h);
        if (r)
            CHECK_EQ(r->size, 40);
        CHECK_NULL(q); /* abandoned, as for any other size */
        rc_free(q);
    }
    rc_heap_destroy(h);
}

/* ---- Threads ------------------------------------------------------------- */

typedef struct thread_job {
    rc_heap *heap;
    void *blocks[4];
    int nblocks;
    int claim;
} thread_job;

static void *free_in_thread(void *arg) {
    thread_job *job = arg;
    if (job->claim)
        rc_heap_claim(job->heap);
    for (int i = 0; i < job->nblocks; i++)
        rc_free(job->blocks[i]);
    if (job->claim) {
        /* The new owner can use the heap normally. */
        void *p = rc_malloc(job->heap, 100);
        void *q = rc_malloc(job->heap, 3000);
        rc_free(p);
        rc_free(q);
    }
    return NULL;
}

static int run_thread(thread_job *job) {
    pthread_t t;
    if (pthread_create(&t, NULL, free_in_thread, job) != 0)
        return 0;
    return pthread_join(t, NULL) == 0;
}

static void test_wrong_thread(void) {
    test_report_log log;
    rc_heap *h = debug_heap(&log);
    if (!CHECK_NOT_NULL(h))
        return;
    void *small = rc_malloc(h, 60);
    void *large = rc_malloc(h, 2000);
    if (!CHECK_NOT_NULL(small) || !CHECK_NOT_NULL(large)) {
        rc_heap_destroy(h);
        return;
    }
    size_t held = bytes_held(h);
    CHECK_EQ(held, 60 + 2000);

    thread_job job = {h, {small, large}, 2, 0};
    CHECK(run_thread(&job));
    if (CHECK_EQ(log.count, 2)) {
        CHECK_EQ(log.r[0].kind, RC_ERR_WRONG_THREAD);
        CHECK_PTR_EQ(log.r[0].ptr, small);
        CHECK_PTR_EQ(log.r[0].heap, h);
        CHECK_EQ(log.r[1].kind, RC_ERR_WRONG_THREAD);
        CHECK_PTR_EQ(log.r[1].ptr, large);
        CHECK_PTR_EQ(log.r[1].heap, h);
        CHECK_EQ(log.bad_message, 0);
    }
    CHECK_EQ(bytes_held(h), held); /* not freed */

    /* After rc_heap_claim() the other thread is the owner: no report. */
    job.claim = 1;
    CHECK(run_thread(&job));
    CHECK_EQ(log.count, 2);
    CHECK_EQ(bytes_held(h), 0);

    /* Take it back; the main thread is the owner again. */
    rc_heap_claim(h);
    void *p = rc_malloc(h, 10);
    rc_free(p);
    CHECK_EQ(log.count, 2);
    rc_heap_destroy(h);
}

/* ---- No false positives ------------------------------------------------- */

static void test_clean_workload_no_reports(void) {
    test_report_log log;
    rc_heap *h = debug_heap(&log);
    if (!CHECK_NOT_NULL(h))
        return;
    test_rng r = test_rng_seed(77);
    enum { SLOTS = 1000, OPS = 60000 };
    static unsigned char *slot[SLOTS];
    static size_t size[SLOTS];
    for (int op = 0; op < OPS; op++) {
        size_t i = test_rng_below(&r, SLOTS);
        if (slot[i] == NULL) {
            size[i] = test_random_size(&r);
            slot[i] = rc_malloc(h, size[i]);
            if (CHECK_NOT_NULL(slot[i]))
                test_fill(slot[i], size[i], (uint32_t)i);
        } else if (test_rng_below(&r, 3) == 0) {
            size_t n = test_rng_below(&r, 10) ? test_rng_range(&r, 0, 600) : test_random_size(&r);
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
    for (int i = 0; i < SLOTS; i++)
        rc_free(slot[i]);
    CHECK_EQ(log.count, 0);
    CHECK_EQ(bytes_held(h), 0);
    rc_heap_destroy(h);
}

/* ---- The default handler aborts (in a child process) ------------------- */

static rc_heap *debug_heap_default_handler(void) {
    rc_heap_config cfg;
    rc_heap_config_init(&cfg);
    cfg.mode = RC_MODE_DEBUG;
    return rc_heap_new(&cfg);
}

static void child_double_free(void) {
    rc_heap *h = debug_heap_default_handler();
    if (h == NULL)
        _exit(3);
    void *p = rc_malloc(h, 93);
    rc_free(p);
    rc_free(p);
}

static void child_overrun(void) {
    rc_heap *h = debug_heap_default_handler();
    if (h == NULL)
        _exit(3);
    unsigned char *p = rc_malloc(h, 45);
    p[45] = 0;
    rc_free(p);
}

#if !TEST_ASAN
static void child_free_malloc_pointer(void) {
    rc_heap *h = debug_heap_default_handler();
    if (h == NULL)
        _exit(3);
    void *m = malloc(64);
    memset(m, 0, 64);
    rc_free(m);
}
#endif

/* A pointer into the middle of a zeroed buffer: the bytes in front of it are
 * ours to read, so this one also runs under AddressSanitizer. */
static void child_free_interior_pointer(void) {
    rc_heap *h = debug_heap_default_handler();
    if (h == NULL)
        _exit(3);
    unsigned char *buf = aligned_alloc(16, 4096);
    if (buf == NULL)
        _exit(4);
    memset(buf, 0, 4096);
    rc_free(buf + 2048);
}


static void test_default_handler_aborts(void) {
    child_result res;
    run_child(child_double_free, &res);
    expect_abort(&res, "double free");
    run_child(child_overrun, &res);
    expect_abort(&res, "rcgc");
}

static void test_foreign_pointer_aborts(void) {
    child_result res;
#if TEST_ASAN
    CHECK_SKIP("freeing a malloc() pointer reads malloc's memory: not under ASan");
#else
    run_child(child_free_malloc_pointer, &res);
    expect_abort(&res, "rcgc");
#endif
    run_child(child_free_interior_pointer, &res);
    expect_abort(&res, "rcgc");
}

/* ---- RCGC_MALLOC --------------------------------------------------------- */

static const char *self_exe = "/proc/self/exe";

/* In the re-executed child: report the mode a heap gets, as the exit code. */
static int env_child_main(const char *explicit_mode) {
    rc_heap_config cfg;
    rc_heap_config_init(&cfg);
    cfg.mode = (rc_alloc_mode)atoi(explicit_mode);
    rc_heap *h = cfg.mode == RC_MODE_DEFAULT ? rc_heap_new(NULL) : rc_heap_new(&cfg);
    if (h == NULL)
        return 90;
    int mode = (int)rc_heap_mode(h);
    /* The heap works in that mode. */
    void *p = rc_malloc(h, 100);
    if (p == NULL)
        return 91;
    memset(p, 1, 100);
    rc_free(p);
    rc_heap_destroy(h);
    return mode;
}

/* Under an emulator (qemu-user running a build for another architecture,
 * which this kernel cannot execute), the program is run again through the
 * emulator: tests/CMakeLists.txt passes ctest's emulator command, words
 * separated by spaces, in RCGC_TEST_EMULATOR.  Returns only if there is
 * none. */
static void exec_self_through_emulator(char *arg) {
    const char *emulator = getenv("RCGC_TEST_EMULATOR");
    if (emulator == NULL || *emulator == '\0')
        return;
    /* the program's path: the emulator answers for the program it runs */
    char self[4096];
    ssize_t len = readlink(self_exe, self, sizeof self - 1);
    if (len <= 0)
        _exit(126);
    self[len] = '\0';
    char words[1024];
    snprintf(words, sizeof words, "%s", emulator);
    char *argv[16];
    size_t n = 0;
    for (char *w = strtok(words, " "); w != NULL && n < 12; w = strtok(NULL, " "))
        argv[n++] = w;
    argv[n++] = self;
    argv[n++] = (char *)"--env-child";
    argv[n++] = arg;
    argv[n] = NULL;
    execvp(argv[0], argv);
    _exit(127);
}

/* Run this program again with RCGC_MALLOC = value (NULL: unset) and return
 * the mode a heap got there, or -1. */
static int mode_in_child(const char *value, rc_alloc_mode explicit_mode) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (value)
            setenv("RCGC_MALLOC", value, 1);
        else
            unsetenv("RCGC_MALLOC");
        char arg[16];
        snprintf(arg, sizeof arg, "%d", (int)explicit_mode);
        exec_self_through_emulator(arg);
        char *argv[] = {(char *)"test_debug", (char *)"--env-child", arg, NULL};
        execv(self_exe, argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (!WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static void test_env_mode(void) {
    CHECK_EQ(mode_in_child("debug", RC_MODE_DEFAULT), RC_MODE_DEBUG);
    CHECK_EQ(mode_in_child("malloc", RC_MODE_DEFAULT), RC_MODE_MALLOC);
    CHECK_EQ(mode_in_child("pool", RC_MODE_DEFAULT), RC_MODE_POOL);
    CHECK_EQ(mode_in_child(NULL, RC_MODE_DEFAULT), RC_MODE_POOL);
    CHECK_EQ(mode_in_child("", RC_MODE_DEFAULT), RC_MODE_POOL);
    CHECK_EQ(mode_in_child("no-such-mode", RC_MODE_DEFAULT), RC_MODE_POOL);
    /* An explicit mode beats the environment. */
    CHECK_EQ(mode_in_child("debug", RC_MODE_POOL), RC_MODE_POOL);
    CHECK_EQ(mode_in_child("malloc", RC_MODE_DEBUG), RC_MODE_DEBUG);
    CHECK_EQ(mode_in_child("pool", RC_MODE_MALLOC), RC_MODE_MALLOC);
    CHECK_EQ(mode_in_child(NULL, RC_MODE_DEBUG), RC_MODE_DEBUG);
    /* In this process too, a heap never reports RC_MODE_DEFAULT. */
    rc_heap *h = rc_heap_new(NULL);
    if (CHECK_NOT_NULL(h)) {
        rc_alloc_mode m = rc_heap_mode(h);
        CHECK(m == RC_MODE_POOL || m == RC_MODE_MALLOC || m == RC_MODE_DEBUG);
        rc_heap_destroy(h);
    }
}

/* ---- Malloc mode ------------------------------------------------------------ */

static void test_malloc_mode(void) {
    rc_heap *h = test_heap_new(RC_MODE_MALLOC);
    if (!CHECK_NOT_NULL(h))
        return;
    CHECK_EQ(rc_heap_mode(h), RC_MODE_MALLOC);
    enum { N = 1200 };
    static unsigned char *p[N];
    for (size_t n = 0; n < N; n++) {
        p[n] = rc_malloc(h, n);
        if (!CHECK_NOT_NULL(p[n]))
            continue;
        CHECK(test_aligned(p[n]));
        CHECK_GE(rc_usable_size(p[n]), n);
        CHECK_PTR_EQ(rc_heap_of_block(p[n]), h);
        test_fill(p[n], n, (uint32_t)n);
    }
    for (size_t n = 0; n < N; n++) {
        if (p[n] == NULL)
            continue;
        CHECK_PATTERN(p[n], n, (uint32_t)n);
        unsigned char *q = rc_realloc(h, p[n], N - n);
        if (CHECK_NOT_NULL(q)) {
            size_t keep = n < N - n ? n : N - n;
            CHECK_PATTERN(q, keep, (uint32_t)n);
            p[n] = q;
        }
    }
    for (size_t n = 0; n < N; n += 2)
        rc_free(p[n]);
    unsigned char *z = rc_calloc(h, 300, 7);
    if (CHECK_NOT_NULL(z)) {
        CHECK_ALL_BYTES(z, 2100, 0);
        rc_free(z);
    }
    CHECK_NULL(rc_calloc(h, SIZE_MAX / 2, 3));
    unsigned char *big = rc_malloc(h, 1 << 20);
    if (CHECK_NOT_NULL(big)) {
        memset(big, 3, 1 << 20);
        unsigned char *q = rc_realloc(h, big, 10);
        if (CHECK_NOT_NULL(q)) {
            CHECK_ALL_BYTES(q, 10, 3);
            big = q;
        }
        rc_free(big);
    }
    void *a = rc_malloc(h, 0), *b = rc_malloc(h, 0);
    CHECK_NOT_NULL(a);
    CHECK_PTR_NE(a, b);
    rc_free(a);
    rc_free(b);
    rc_free(NULL);
    /* The odd half is still live: destroy reclaims it. */
    rc_heap_destroy(h);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--env-child") == 0)
        return env_child_main(argv[2]);
    check_main_init(argc, argv);
    RUN_TEST(test_fresh_and_guard_bytes);
    RUN_TEST(test_debug_stats);
    RUN_TEST(test_overrun);
    RUN_TEST(test_underrun);
    RUN_TEST(test_double_free);
    RUN_TEST(test_realloc_reports_overrun);
    RUN_TEST(test_double_free_reports_size_and_serial);
    RUN_TEST(test_realloc_reports_underrun);
    RUN_TEST(test_realloc_of_freed_block);
    RUN_TEST(test_underrun_into_debug_header);
    RUN_TEST(test_pointer_not_block_start);
    RUN_TEST(test_serials_increase);
    RUN_TEST(test_wrong_heap);
    RUN_TEST(test_quarantine);
    RUN_TEST(test_quarantine_guards_and_header);
    RUN_TEST(test_double_free_after_quarantine);
    RUN_TEST(test_realloc_zero_checks);
    RUN_TEST(test_wrong_thread);
    RUN_TEST(test_clean_workload_no_reports);
    RUN_TEST(test_default_handler_aborts);
    RUN_TEST(test_foreign_pointer_aborts);
    RUN_TEST(test_env_mode);
    RUN_TEST(test_malloc_mode);
    return check_summary();
}
