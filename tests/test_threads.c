/*
 * test_threads.c — heaps on several threads at once.  Each thread drives its
 * own heap without locks; the only shared structure is the process-wide
 * arena map, stressed here by heaps being created, grown and destroyed
 * concurrently while other threads look their blocks up.
 */
#include "check.h"
#include "testutil.h"

#include <rcgc/heap.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NTHREADS 4

/* Thread-side failures are counted (the check.h counters are atomic) but
 * checks in hot loops are batched into local counters first. */

/* ---- 1. Independent heaps, mixed operations ------------------------------ */

enum { MIX_SLOTS = 4096, MIX_OPS = 1000000 };

typedef struct mix_job {
    int id;
    size_t ops_done;
    size_t allocs, frees, reallocs, callocs;
    size_t bad_content, bad_zero, bad_align, bad_usable, bad_heap, nulls;
    size_t end_used, end_large;
} mix_job;

static size_t mix_size(test_rng *r) {
    return test_rng_below(r, 100) == 0 ? test_rng_range(r, RC_SMALL_MAX + 1, 8192)
                                       : test_rng_range(r, 1, RC_SMALL_MAX);
}

static void *mix_thread(void *arg) {
    mix_job *job = arg;
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (h == NULL) {
        job->nulls++;
        return NULL;
    }
    unsigned char **slot = calloc(MIX_SLOTS, sizeof *slot);
    size_t *size = calloc(MIX_SLOTS, sizeof *size);
    uint32_t *seed = calloc(MIX_SLOTS, sizeof *seed);
    if (slot == NULL || size == NULL || seed == NULL) {
        job->nulls++;
        free(slot);
        free(size);
        free(seed);
        rc_heap_destroy(h);
        return NULL;
    }
    test_rng r = test_rng_seed(0xABCDEF00u + (uint64_t)job->id * 7919);
    uint32_t gen = (uint32_t)job->id << 24;
    for (size_t op = 0; op < MIX_OPS; op++) {
        size_t i = test_rng_below(&r, MIX_SLOTS);
        unsigned char *p = slot[i];
        if (p == NULL) {
            size_t n = mix_size(&r);
            int zeroed = test_rng_below(&r, 8) == 0;
            p = zeroed ? rc_calloc(h, 1, n) : rc_malloc(h, n);
            if (p == NULL) {
                job->nulls++;
                continue;
            }
            if (zeroed) {
                job->callocs++;
                job->bad_zero += test_first_not(p, n, 0) != n;
            }
            job->allocs++;
            job->bad_align += !test_aligned(p);
            job->bad_usable += rc_usable_size(p) < n;
            slot[i] = p;
            size[i] = n;
            seed[i] = ++gen;
            test_fill(p, n, seed[i]);
        } else if (test_rng_below(&r, 4) == 0) {
            size_t n = mix_size(&r);
            unsigned char *q = rc_realloc(h, p, n);
            if (q == NULL) {
                job->nulls++;
                continue;
            }
            size_t keep = n < size[i] ? n : size[i];
            job->bad_content += test_verify(q, keep, seed[i]) != keep;
            job->bad_align += !test_aligned(q);
            job->reallocs++;
            slot[i] = q;
            size[i] = n;
            seed[i] = ++gen;
            test_fill(q, n, seed[i]);
        } else {
            job->bad_content += test_verify(p, size[i], seed[i]) != size[i];
            if ((op & 63) == 0)
                job->bad_heap += rc_heap_of_block(p) != h;
            rc_free(p);
            slot[i] = NULL;
            job->frees++;
        }
        job->ops_done++;
    }
    for (size_t i = 0; i < MIX_SLOTS; i++) {
        if (slot[i]) {
            job->bad_content += test_verify(slot[i], size[i], seed[i]) != size[i];
            rc_free(slot[i]);
        }
    }
    rc_heap_stats st = test_stats(h);
    job->end_used = test_small_used(&st);
    job->end_large = st.large_blocks;
    free(slot);
    free(size);
    free(seed);
    rc_heap_destroy(h);
    return NULL;
}

static void test_independent_heaps(void) {
    pthread_t th[NTHREADS];
    mix_job job[NTHREADS];
    int started[NTHREADS] = {0};
    memset(job, 0, sizeof job);
    for (int i = 0; i < NTHREADS; i++) {
        job[i].id = i + 1;
        started[i] = pthread_create(&th[i], NULL, mix_thread, &job[i]) == 0;
        CHECK(started[i]);
    }
    for (int i = 0; i < NTHREADS; i++)
        if (started[i])
            CHECK_EQ(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < NTHREADS; i++) {
        if (!started[i])
            continue;
        CHECK_EQ(job[i].ops_done, MIX_OPS);
        CHECK_EQ(job[i].nulls, 0);
        CHECK_EQ(job[i].bad_content, 0);
        CHECK_EQ(job[i].bad_zero, 0);
        CHECK_EQ(job[i].bad_align, 0);
        CHECK_EQ(job[i].bad_usable, 0);
        CHECK_EQ(job[i].bad_heap, 0);
        CHECK_EQ(job[i].end_used, 0);
        CHECK_EQ(job[i].end_large, 0);
        CHECK_GT(job[i].allocs, MIX_OPS / 10);
        CHECK_GT(job[i].frees, MIX_OPS / 10);
        CHECK_GT(job[i].reallocs, 0);
        CHECK_GT(job[i].callocs, 0);
    }
}

/* ---- 2. Heaps created and destroyed concurrently ------------------------- */

enum { CHURN_ITERS = 150, SHARED_BLOCKS = 64 };

/* Blocks of a heap owned by the main thread, looked up (read only) by every
 * churn thread while arenas come and go around them. */
static rc_heap *shared_heap;
static void *shared_block[SHARED_BLOCKS];

typedef struct churn_job {
    int id;
    size_t iters;
    size_t bad_owner, bad_shared, bad_content, nulls, bad_stats;
} churn_job;

static void *churn_thread(void *arg) {
    churn_job *job = arg;
    test_rng r = test_rng_seed(555 + (uint64_t)job->id);
    /* A long-lived heap of this thread: its blocks must keep resolving to it. */
    rc_heap *mine = test_heap_new(RC_MODE_POOL);
    if (mine == NULL) {
        job->nulls++;
        return NULL;
    }
    enum { KEEP = 256 };
    unsigned char *keep[KEEP];
    for (int k = 0; k < KEEP; k++) {
        size_t n = k % 16 == 0 ? 3000 : 48;
        keep[k] = rc_malloc(mine, n);
        if (keep[k] == NULL)
            job->nulls++;
        else
            test_fill(keep[k], 48, (uint32_t)(job->id * 1000 + k));
    }
    enum { PER_HEAP = 3000 };
    void **blk = malloc(PER_HEAP * 8 * sizeof *blk);
    if (blk == NULL) {
        job->nulls++;
        rc_heap_destroy(mine);
        return NULL;
    }
    for (size_t it = 0; it < CHURN_ITERS; it++) {
        rc_alloc_mode mode = it % 5 == 4 ? RC_MODE_DEBUG : RC_MODE_POOL;
        rc_heap *h = test_heap_new(mode);
        if (h == NULL) {
            job->nulls++;
            continue;
        }
        /* Usually one arena; every 10th heap grows to several. */
        size_t count = it % 10 == 0 ? PER_HEAP * 8 : PER_HEAP;
        size_t sz = it % 10 == 0 ? 500 : (size_t)test_rng_range(&r, 1, 200);
        for (size_t i = 0; i < count; i++) {
            blk[i] = rc_malloc(h, i % 500 == 0 ? 5000 : sz);
            if (blk[i] == NULL)
                job->nulls++;
        }
        for (size_t i = 0; i < count; i++)
            if (blk[i])
                job->bad_owner += rc_heap_of_block(blk[i]) != h;
        /* Others' and own long-lived blocks are unaffected. */
        for (int k = 0; k < SHARED_BLOCKS; k++)
            job->bad_shared += rc_heap_of_block(shared_block[k]) != shared_heap;
        for (int k = 0; k < KEEP; k++) {
            if (keep[k] == NULL)
                continue;
            job->bad_owner += rc_heap_of_block(keep[k]) != mine;
            job->bad_content +=
                test_verify(keep[k], 48, (uint32_t)(job->id * 1000 + k)) != 48;
        }
        /* Free a random half; destroy reclaims the rest. */
        for (size_t i = 0; i < count; i++)
            if (blk[i] && test_rng_below(&r, 2) == 0)
                rc_free(blk[i]);
        if (it % 7 == 0) {
            rc_heap_trim(h);
            rc_heap_stats st = test_stats(h);
            job->bad_stats += st.bytes_in_use > st.bytes_from_os;
        }
        rc_heap_destroy(h);
        job->iters++;
    }
    for (int k = 0; k < KEEP; k++) {
        if (keep[k]) {
            job->bad_content += test_verify(keep[k], 48, (uint32_t)(job->id * 1000 + k)) != 48;
            rc_free(keep[k]);
        }
    }
    free(blk);
    rc_heap_stats st = test_stats(mine);
    job->bad_stats += test_small_used(&st) != 0 || st.large_blocks != 0;
    rc_heap_destroy(mine);
    return NULL;
}

static void test_concurrent_heap_lifecycle(void) {
    shared_heap = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(shared_heap))
        return;
    for (int k = 0; k < SHARED_BLOCKS; k++) {
        shared_block[k] = rc_malloc(shared_heap, k % 8 == 0 ? 4000 : 16 + (size_t)k * 4);
        CHECK_NOT_NULL(shared_block[k]);
    }
    pthread_t th[NTHREADS];
    churn_job job[NTHREADS];
    int started[NTHREADS] = {0};
    memset(job, 0, sizeof job);
    for (int i = 0; i < NTHREADS; i++) {
        job[i].id = i + 1;
        started[i] = pthread_create(&th[i], NULL, churn_thread, &job[i]) == 0;
        CHECK(started[i]);
    }
    for (int i = 0; i < NTHREADS; i++)
        if (started[i])
            CHECK_EQ(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < NTHREADS; i++) {
        if (!started[i])
            continue;
        CHECK_EQ(job[i].iters, CHURN_ITERS);
        CHECK_EQ(job[i].nulls, 0);
        CHECK_EQ(job[i].bad_owner, 0);
        CHECK_EQ(job[i].bad_shared, 0);
        CHECK_EQ(job[i].bad_content, 0);
        CHECK_EQ(job[i].bad_stats, 0);
    }
    for (int k = 0; k < SHARED_BLOCKS; k++) {
        CHECK_PTR_EQ(rc_heap_of_block(shared_block[k]), shared_heap);
        rc_free(shared_block[k]);
    }
    rc_heap_stats st = test_stats(shared_heap);
    CHECK_EQ(test_small_used(&st), 0);
    CHECK_EQ(st.large_blocks, 0);
    rc_heap_destroy(shared_heap);
    shared_heap = NULL;
}

/* ---- 3. Handing a heap from thread to thread ------------------------------ */

typedef struct handoff {
    rc_heap *heap;
    unsigned char *blocks[100];
    uint32_t seed;
    size_t bad;
} handoff;

/* Claim the heap, check and free the blocks the previous owner left, leave
 * new ones for the next owner. */
static void *handoff_thread(void *arg) {
    handoff *ho = arg;
    rc_heap_claim(ho->heap);
    for (int i = 0; i < 100; i++) {
        if (ho->blocks[i]) {
            size_t n = (size_t)(i * 37 % 700) + 1;
            ho->bad += test_verify(ho->blocks[i], n, ho->seed + (uint32_t)i) != n;
            ho->bad += rc_heap_of_block(ho->blocks[i]) != ho->heap;
            rc_free(ho->blocks[i]);
        }
    }
    ho->seed += 1000;
    for (int i = 0; i < 100; i++) {
        size_t n = (size_t)(i * 37 % 700) + 1;
        ho->blocks[i] = rc_malloc(ho->heap, n);
        if (ho->blocks[i] == NULL)
            ho->bad++;
        else
            test_fill(ho->blocks[i], n, ho->seed + (uint32_t)i);
    }
    return NULL;
}

static void test_heap_handoff(void) {
    const rc_alloc_mode modes[] = {RC_MODE_POOL, RC_MODE_DEBUG};
    for (int m = 0; m < 2; m++) {
        handoff ho;
        memset(&ho, 0, sizeof ho);
        ho.heap = test_heap_new(modes[m]);
        if (!CHECK_NOT_NULL(ho.heap))
            return;
        for (int round = 0; round < 8; round++) {
            pthread_t t;
            if (!CHECK_EQ(pthread_create(&t, NULL, handoff_thread, &ho), 0))
                break;
            CHECK_EQ(pthread_join(t, NULL), 0);
        }
        rc_heap_claim(ho.heap);
        handoff_thread(&ho); /* the main thread takes a turn too */
        for (int i = 0; i < 100; i++)
            rc_free(ho.blocks[i]);
        CHECK_EQ(ho.bad, 0);
        rc_heap_stats st = test_stats(ho.heap);
        CHECK_EQ(st.bytes_requested, 0);
        if (modes[m] == RC_MODE_POOL) { /* debug mode quarantines freed blocks */
            CHECK_EQ(test_small_used(&st), 0);
            CHECK_EQ(st.large_blocks, 0);
        }
        rc_heap_destroy(ho.heap);
    }
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_independent_heaps);
    RUN_TEST(test_concurrent_heap_lifecycle);
    RUN_TEST(test_heap_handoff);
    return check_summary();
}
