/*
 * test_heap_misuse.c — what the allocator does with pointers it never handed
 * out, and with frees from a thread that does not own the heap:
 *
 *   1. pool and debug modes: rc_free, rc_free_sized, rc_realloc and
 *      rc_usable_size given a pointer that lies in one of the heap's arenas
 *      but in a pool holding no blocks are reported (RC_ERR_FOREIGN, to the
 *      arena's heap) and change nothing;
 *   2. a pointer in no arena that is not a large block: rc_realloc (every
 *      mode, every size, 0 included) reports it to the heap it was given and
 *      returns NULL, rc_heap_of_block answers NULL; rc_free and
 *      rc_usable_size, which are given no heap and so have no handler but
 *      the default one, abort (checked in forked children);
 *   3. debug mode: a large block freed (rc_free, rc_free_sized, rc_realloc) by
 *      a thread that does not own the heap is reported RC_ERR_WRONG_THREAD and
 *      left alone, then freed by the owner;
 *   4. malloc mode: rc_realloc to 0, small and large blocks.  (Pool mode's
 *      realloc to 0 and growth and shrink across RC_SMALL_MAX in pool and
 *      malloc modes are covered by test_heap_basic.c and test_debug.c.)
 *   5. a debug heap's block given to a pool or malloc heap's rc_realloc is
 *      resized by the debug heap, with its checks.
 *
 * After every misuse the heap must still work and give every byte back.
 * The misused pointers are never dereferenced: only the API sees them.
 */
#include "check.h"
#include "test_child.h"
#include "testutil.h"

#include <rcgc/heap.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define POOLS_PER_ARENA (RC_ARENA_SIZE / RC_POOL_SIZE)

/* ---- Helpers ------------------------------------------------------------- */

/* Exactly one report arrived since the log held `before`, of this kind,
 * about this pointer, addressed to this heap. */
static void expect_report(const test_report_log *log, int before, rc_error_kind kind,
                          const void *ptr, const rc_heap *heap) {
    if (!CHECK_EQ(log->count, before + 1) || before >= TEST_LOG_MAX)
        return;
    const rc_error_report *r = &log->r[before];
    CHECK_EQ(r->kind, kind);
    CHECK_PTR_EQ(r->ptr, ptr);
    CHECK_PTR_EQ(r->heap, heap);
    CHECK_EQ(log->bad_message, 0);
}

/* The heap still hands out distinct, writable blocks of every kind (small,
 * the largest small, large, larger than an arena), resizes them across
 * RC_SMALL_MAX keeping their bytes, takes them back, and raises no report.
 * bytes_requested (exact in debug mode, where freed blocks wait in the
 * quarantine) returns to what it was. */
static void check_heap_usable(rc_heap *h, const test_report_log *log) {
    static const size_t sizes[] = {1, 16, 100, RC_SMALL_MAX, RC_SMALL_MAX + 1, 4000,
                                   RC_ARENA_SIZE + 100};
    enum { N = sizeof sizes / sizeof sizes[0] };
    int reports = log->count;
    size_t before = test_stats(h).bytes_requested;
    unsigned char *b[N];
    for (size_t i = 0; i < N; i++) {
        b[i] = rc_malloc(h, sizes[i]);
        if (CHECK_NOT_NULL(b[i]))
            test_fill(b[i], sizes[i], (uint32_t)(1000 + i));
    }
    for (size_t i = 0; i < N; i++) {
        if (b[i] == NULL)
            continue;
        CHECK_PATTERN(b[i], sizes[i], (uint32_t)(1000 + i));
        CHECK_PTR_EQ(rc_heap_of_block(b[i]), h);
        /* small <-> large: the other side of RC_SMALL_MAX */
        size_t m = sizes[i] <= RC_SMALL_MAX ? RC_SMALL_MAX + 200 : 200;
        size_t keep = m < sizes[i] ? m : sizes[i];
        unsigned char *q = rc_realloc(h, b[i], m);
        if (CHECK_NOT_NULL(q)) {
            CHECK_PATTERN(q, keep, (uint32_t)(1000 + i));
            b[i] = q;
        }
        rc_free(b[i]);
    }
    CHECK_EQ(test_stats(h).bytes_requested, before);
    CHECK_EQ(log->count, reports);
}

/* ---- 1. Pool and debug modes: a pointer into an unused pool of the heap's arena */

/* Free, sized free and realloc of such a pointer: each reported to the heap
 * that owns the arena, nothing freed, allocated or counted. */
static void unused_pool_pointer(rc_alloc_mode mode) {
    test_report_log log;
    rc_heap *h = test_heap_with_log(mode, &log);
    if (!CHECK_NOT_NULL(h))
        return;
    CHECK_EQ(rc_heap_mode(h), mode);
    unsigned char *p = rc_malloc(h, 48); /* keeps the arena (and its pool) in use */
    if (!CHECK_NOT_NULL(p)) {
        rc_heap_destroy(h);
        return;
    }
    test_fill(p, 48, 7);

    /* Arenas are RC_ARENA_SIZE-aligned: p's arena starts at p rounded down.
     * Pools are handed out from the first ones, so with only a few pools in
     * use in the heap's only arena, its last pool has never served a block. */
    uintptr_t arena = (uintptr_t)p & ~(uintptr_t)(RC_ARENA_SIZE - 1);
    size_t last = POOLS_PER_ARENA - 1;
    CHECK_NE(((uintptr_t)p - arena) / RC_POOL_SIZE, last);
    rc_heap_stats st = test_stats(h);
    size_t pools_used = 0;
    for (unsigned c = 0; c < RC_NUM_CLASSES; c++)
        pools_used += st.classes[c].pools;
    if (!CHECK_EQ(st.arenas, 1) || !CHECK_LE(pools_used, 4) ||
        !CHECK_EQ(st.pools_free, POOLS_PER_ARENA - pools_used)) {
        rc_free(p);
        rc_heap_destroy(h);
        return;
    }
    const size_t in_use = st.bytes_in_use;

    /* the pool's first block address, a block-aligned one inside it, and one
     * that no size class could produce */
    const size_t offsets[] = {0, 64, RC_POOL_SIZE - 24};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        void *bad = (void *)(arena + last * RC_POOL_SIZE + offsets[i]);

        int before = log.count;
        rc_free(bad);
        expect_report(&log, before, RC_ERR_FOREIGN, bad, h);

        /* the sized free's fast path rejects the pool and falls back to rc_free */
        before = log.count;
        rc_free_sized(h, bad, 64);
        expect_report(&log, before, RC_ERR_FOREIGN, bad, h);

        before = log.count;
        CHECK_NULL(rc_realloc(h, bad, 100));
        expect_report(&log, before, RC_ERR_FOREIGN, bad, h);
        before = log.count;
        CHECK_NULL(rc_realloc(h, bad, RC_SMALL_MAX + 1000));
        expect_report(&log, before, RC_ERR_FOREIGN, bad, h);

        /* rc_realloc(h, bad, 0) must report too and leave bad alone.  What
         * it returns differs: debug mode checks p first and returns NULL,
         * pool mode takes its unique 0-byte block before freeing p and
         * returns it.  Either is the caller's to free. */
        before = log.count;
        void *z = rc_realloc(h, bad, 0);
        expect_report(&log, before, RC_ERR_FOREIGN, bad, h);
        if (z != NULL)
            CHECK_PTR_EQ(rc_heap_of_block(z), h);
        rc_free(z);

        /* not a block: no size (the unused pool's class, RC_POOL_UNUSED,
         * once gave 1 MiB in pool mode, and debug mode read a header that
         * is not there) */
        before = log.count;
        CHECK_EQ(rc_usable_size(bad), 0);
        expect_report(&log, before, RC_ERR_FOREIGN, bad, h);

        st = test_stats(h);
        CHECK_EQ(st.bytes_in_use, in_use);
        CHECK_EQ(st.large_blocks, 0);
        CHECK_EQ(st.failed_allocs, 0);
    }
    CHECK_EQ(log.count, 6 * (int)(sizeof offsets / sizeof offsets[0]));

    CHECK_PATTERN(p, 48, 7);
    CHECK_PTR_EQ(rc_heap_of_block(p), h);
    check_heap_usable(h, &log);
    rc_free(p);
    rc_heap_trim(h); /* debug mode: the freed blocks leave the quarantine */
    st = test_stats(h);
    CHECK_EQ(st.bytes_in_use, 0);
    CHECK_EQ(test_small_used(&st), 0);
    CHECK_EQ(st.large_blocks, 0);
    rc_heap_destroy(h);
}

static void test_pool_unused_pool_pointer(void) {
    unused_pool_pointer(RC_MODE_POOL);
    unused_pool_pointer(RC_MODE_DEBUG);
}

/* ---- 2. A pointer in no arena and not a large block -------------------------- */

/* rc__large_header(p) reads the rc_large that would sit right before p, and
 * rc__debug_owns(p) the one before p's would-be debug header: at most 96
 * bytes before p.  Those bytes are zero, so neither is recognised: a zero
 * header has check 0, and large_check(p, NULL, 0) is 0 only for one odd
 * address, never for a 16-aligned one.  The buffer is static, so no arena
 * (mmap'd memory) can share its MiB.  FOREIGN_AT leaves 256 bytes before. */
#define FOREIGN_AT 256
static _Alignas(64) unsigned char foreign_buf[FOREIGN_AT + 256];

static unsigned char *foreign_pointer(void) {
    memset(foreign_buf, 0, FOREIGN_AT);
    test_fill(foreign_buf + FOREIGN_AT, sizeof foreign_buf - FOREIGN_AT, 99);
    return foreign_buf + FOREIGN_AT;
}

/* The buffer is as foreign_pointer() left it: no call wrote to it. */
static void check_foreign_untouched(void) {
    CHECK_ALL_BYTES(foreign_buf, FOREIGN_AT, 0);
    CHECK_PATTERN(foreign_buf + FOREIGN_AT, sizeof foreign_buf - FOREIGN_AT, 99);
}

/* rc_realloc knows a heap, whose handler gets the report; rc_heap_of_block
 * finds neither an arena nor a large or debug header and answers NULL. */
static void test_foreign_pointer_realloc(void) {
    static const rc_alloc_mode modes[] = {RC_MODE_POOL, RC_MODE_MALLOC, RC_MODE_DEBUG};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        test_report_log log;
        rc_heap *h = test_heap_with_log(modes[m], &log);
        if (!CHECK_NOT_NULL(h))
            return;
        unsigned char *bad = foreign_pointer();

        CHECK_NULL(rc_heap_of_block(bad));
        CHECK_EQ(log.count, 0); /* a question, not a misuse */

        /* 0 included: rc_realloc(h, bad, 0), which frees bad, once took its
         * new block and then freed bad through rc_free, which knows no heap:
         * the report went to the default handler, which aborted.  (Debug
         * mode reported every size as RC_ERR_WRONG_HEAP.) */
        static const size_t sizes[] = {0, 100, RC_SMALL_MAX, RC_SMALL_MAX + 1, 70000};
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            int before = log.count;
            CHECK_NULL(rc_realloc(h, bad, sizes[i]));
            expect_report(&log, before, RC_ERR_FOREIGN, bad, h);
        }

        check_foreign_untouched();
        rc_heap_stats st = test_stats(h);
        CHECK_EQ(st.bytes_in_use, 0);
        CHECK_EQ(st.large_blocks, 0);
        CHECK_EQ(st.failed_allocs, 0); /* refused as misuse, not as out of memory */
        check_heap_usable(h, &log);
        rc_heap_trim(h); /* debug mode: the freed blocks leave the quarantine */
        st = test_stats(h);
        CHECK_EQ(st.bytes_in_use, 0);
        CHECK_EQ(st.large_blocks, 0);
        rc_heap_destroy(h);
    }
}

/* rc_free(p) and rc_usable_size(p) are given no heap, and p leads to none:
 * the report can only go to the default handler, which prints it and aborts.
 * Each runs in a forked child whose stderr is read back. */
static void expect_foreign_abort(void (*fn)(void)) {
    child_result res;
    run_child(fn, &res);
    expect_abort(&res, "not allocated by rcgc");
}

static void child_free_foreign(void) { rc_free(foreign_pointer()); }

static void child_usable_size_foreign(void) {
    size_t n = rc_usable_size(foreign_pointer());
    fprintf(stderr, "rc_usable_size returned %zu\n", n); /* only if it did not abort */
}

static void test_foreign_pointer_free_and_usable_size(void) {
    /* (Under valgrind the children run under memcheck too: no heap is live
     * in them, so dying by abort() leaves nothing to report.) */
    expect_foreign_abort(child_free_foreign);
    expect_foreign_abort(child_usable_size_foreign);
    /* the children changed nothing here: their buffer was a copy */
    foreign_pointer();
    check_foreign_untouched();
}

/* ---- 3. Debug mode: a large block freed by another thread -------------------- */

enum free_op { OP_FREE, OP_FREE_SIZED, OP_REALLOC };

typedef struct free_job {
    rc_heap *heap;
    void *block;
    size_t size;
    enum free_op op;
    void *realloc_result;
} free_job;

static void *free_from_thread(void *arg) {
    free_job *job = arg;
    switch (job->op) {
    case OP_FREE: rc_free(job->block); break;
    case OP_FREE_SIZED: rc_free_sized(job->heap, job->block, job->size); break;
    case OP_REALLOC: job->realloc_result = rc_realloc(job->heap, job->block, job->size * 2); break;
    }
    return NULL;
}

static void test_debug_large_block_wrong_thread(void) {
    test_report_log log;
    rc_heap *h = test_heap_with_log(RC_MODE_DEBUG, &log);
    if (!CHECK_NOT_NULL(h))
        return;
    CHECK_EQ(rc_heap_mode(h), RC_MODE_DEBUG);
    /* just above the pools, a few pages, more than an arena */
    static const size_t sizes[] = {RC_SMALL_MAX + 1, 20000, RC_ARENA_SIZE + 4096};
    static const enum free_op ops[] = {OP_FREE, OP_FREE_SIZED, OP_REALLOC};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
            size_t n = sizes[i];
            uint32_t seed = (uint32_t)(10 * i + k);
            unsigned char *p = rc_malloc(h, n);
            if (!CHECK_NOT_NULL(p))
                continue;
            test_fill(p, n, seed);
            rc_heap_stats st = test_stats(h);
            /* (blocks freed earlier may still wait in the quarantine: they
             * count as large blocks, not as requested bytes) */
            const size_t requested = st.bytes_requested, large = st.large_blocks;
            CHECK_EQ(requested, n);

            free_job job = {h, p, n, ops[k], NULL};
            pthread_t t;
            int before = log.count;
            if (!CHECK_EQ(pthread_create(&t, NULL, free_from_thread, &job), 0)) {
                rc_free(p);
                continue;
            }
            CHECK_EQ(pthread_join(t, NULL), 0); /* and the log is ours to read again */
            expect_report(&log, before, RC_ERR_WRONG_THREAD, p, h);
            if (log.count > before && before < TEST_LOG_MAX)
                CHECK_EQ(log.r[before].size, n);
            CHECK_NULL(job.realloc_result);

            /* left alone: still live, intact, counted, the heap's */
            CHECK_PATTERN(p, n, seed);
            CHECK_EQ(rc_usable_size(p), n);
            CHECK_PTR_EQ(rc_heap_of_block(p), h);
            st = test_stats(h);
            CHECK_EQ(st.bytes_requested, requested);
            CHECK_EQ(st.large_blocks, large);

            /* the owner frees it without a report */
            before = log.count;
            rc_free(p);
            CHECK_EQ(log.count, before);
            CHECK_EQ(test_stats(h).bytes_requested, 0);
        }
    }
    CHECK_EQ(log.count, 9);
    check_heap_usable(h, &log);
    rc_heap_trim(h); /* empty the quarantine: the freed blocks really go */
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(st.bytes_in_use, 0);
    CHECK_EQ(st.large_blocks, 0);
    CHECK_EQ(log.count, 9);
    rc_heap_destroy(h);
}

/* ---- 4. Malloc mode: rc_realloc to 0 ------------------------------------------- */

/* The block is freed and a unique pointer comes back, as rc_malloc(h, 0)
 * gives: in malloc mode every block is a large block, so the counts say
 * exactly which are live. */
static void test_malloc_mode_realloc_to_zero(void) {
    test_report_log log;
    rc_heap *h = test_heap_with_log(RC_MODE_MALLOC, &log);
    if (!CHECK_NOT_NULL(h))
        return;
    CHECK_EQ(rc_heap_mode(h), RC_MODE_MALLOC);
    void *other = rc_malloc(h, 0);
    if (!CHECK_NOT_NULL(other)) {
        rc_heap_destroy(h);
        return;
    }
    static const size_t sizes[] = {1, 100, RC_SMALL_MAX, RC_SMALL_MAX + 1, 20000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = rc_malloc(h, sizes[i]);
        if (!CHECK_NOT_NULL(p))
            continue;
        test_fill(p, sizes[i], (uint32_t)i);
        CHECK_EQ(test_stats(h).large_blocks, 2);
        unsigned char *q = rc_realloc(h, p, 0);
        if (!CHECK_NOT_NULL(q))
            continue;
        CHECK(test_aligned(q));
        CHECK_PTR_NE(q, other);
        CHECK_PTR_EQ(rc_heap_of_block(q), h);
        CHECK_GE(rc_usable_size(q), 1);
        q[0] = 0x5A; /* it is a real block */
        rc_heap_stats st = test_stats(h);
        CHECK_EQ(st.large_blocks, 2); /* other and q: p is gone */
        CHECK_EQ(st.bytes_in_use, rc_usable_size(other) + rc_usable_size(q));
        rc_free(q);
    }
    rc_free(other);
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(st.large_blocks, 0);
    CHECK_EQ(st.bytes_in_use, 0);
    CHECK_EQ(st.bytes_from_os, 0); /* malloc mode holds no arena */
    CHECK_EQ(log.count, 0);
    rc_heap_destroy(h);
}

/* ---- 5. A debug heap's block given to another mode's rc_realloc ------------- */

/* A pool or malloc heap does not check what rc_realloc is given: as for
 * rc_free_sized, the block decides, and a debug block is resized by its own
 * heap with all its checks.  rc_realloc used to copy the block's pool class
 * size from the user's pointer, which lies RC_DEBUG_GUARD_SIZE + 32 bytes
 * into it: past the block, and past the arena for a block at the end of its
 * last pool (a fault when nothing is mapped above); a large debug block was
 * reported as foreign, and a damaged one was moved and its damage reported
 * only when the old block was freed. */
static void test_debug_block_given_to_other_mode(void) {
    static const rc_alloc_mode modes[] = {RC_MODE_POOL, RC_MODE_MALLOC};
    enum { SMALL = RC_SMALL_MAX - 64 }; /* with its 64 bytes of debug overhead, the largest class */
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        test_report_log dlog, log;
        rc_heap *d = test_heap_with_log(RC_MODE_DEBUG, &dlog);
        rc_heap *h = test_heap_with_log(modes[m], &log);
        if (!CHECK_NOT_NULL(d) || !CHECK_NOT_NULL(h)) {
            rc_heap_destroy(d);
            rc_heap_destroy(h);
            return;
        }
        /* a small block whose guard ends its arena: fill the first arena */
        enum { MAXB = 3 * RC_ARENA_SIZE / RC_SMALL_MAX };
        static unsigned char *blocks[MAXB];
        size_t nb = 0;
        unsigned char *last = NULL;
        while (nb < MAXB && !last) {
            unsigned char *b = rc_malloc(d, SMALL);
            if (!CHECK_NOT_NULL(b))
                break;
            blocks[nb++] = b;
            if ((((uintptr_t)b + SMALL + RC_DEBUG_GUARD_SIZE) & (RC_ARENA_SIZE - 1)) == 0)
                last = b;
        }
        unsigned char *large = rc_malloc(d, 3000);
        if (CHECK_NOT_NULL(last) && CHECK_NOT_NULL(large)) {
            unsigned char *ps[] = {last, large};
            const size_t ns[] = {SMALL, 3000};
            for (size_t i = 0; i < 2; i++) {
                unsigned char *p = ps[i];
                size_t n = ns[i];
                test_fill(p, n, (uint32_t)(60 + i));
                unsigned char *q = rc_realloc(h, p, 2 * n);
                if (CHECK_NOT_NULL(q)) {
                    CHECK_PATTERN(q, n, (uint32_t)(60 + i));
                    CHECK_GE(rc_usable_size(q), 2 * n);
                    rc_free(q);
                }
                CHECK_EQ(dlog.count, 0);
                CHECK_EQ(log.count, 0);
            }
            /* damaged: reported by the debug heap before anything moves */
            unsigned char *p = rc_malloc(d, 100);
            if (CHECK_NOT_NULL(p)) {
                test_fill(p, 100, 62);
                p[100] ^= 1;
                CHECK_NULL(rc_realloc(h, p, 5000));
                if (CHECK_EQ(dlog.count, 1)) {
                    CHECK_EQ(dlog.r[0].kind, RC_ERR_OVERRUN);
                    CHECK_PTR_EQ(dlog.r[0].ptr, p);
                    CHECK_EQ(dlog.r[0].size, 100);
                }
                CHECK_PATTERN(p, 100, 62);
                p[100] ^= 1;
                rc_free(p);
            }
            CHECK_EQ(log.count, 0);
            CHECK_EQ(test_stats(h).bytes_in_use, 0);
        }
        for (size_t i = 0; i < nb; i++)
            if (blocks[i] != last)
                rc_free(blocks[i]);
        CHECK_EQ(test_stats(d).bytes_requested, 0);
        CHECK_EQ(dlog.count, 1);
        rc_heap_destroy(d);
        rc_heap_destroy(h);
    }
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_pool_unused_pool_pointer);
    RUN_TEST(test_foreign_pointer_realloc);
    RUN_TEST(test_foreign_pointer_free_and_usable_size);
    RUN_TEST(test_debug_large_block_wrong_thread);
    RUN_TEST(test_malloc_mode_realloc_to_zero);
    RUN_TEST(test_debug_block_given_to_other_mode);
    return check_summary();
}
