/*
 * test_stats_trim.c — statistics agree with what was allocated, empty arenas
 * go back to the system (kept for reuse while the heap may grow back, one
 * spare once everything is freed), rc_heap_trim() gives back the rest, and
 * allocation at an arena boundary does not map and unmap an arena on every
 * call.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#endif
#include "check.h"
#include "test_hooks.h"
#include "testutil.h"

#include <rcgc/heap.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POOLS_PER_ARENA (RC_ARENA_SIZE / RC_POOL_SIZE)

/* Invariants that hold for every snapshot. */
static void check_invariants(const rc_heap_stats *st) {
    size_t pools = 0;
    for (unsigned c = 0; c < RC_NUM_CLASSES; c++) {
        const rc_class_stats *cs = &st->classes[c];
        CHECK_EQ(cs->block_size, (size_t)(c + 1) * RC_ALIGNMENT);
        size_t cap = RC_POOL_SIZE / cs->block_size;
        /* A pool holds at most POOL_SIZE / block_size blocks; the first pool
         * of an arena shares its 16 KiB with the arena header and may hold
         * fewer (but surely more than half). */
        CHECK_LE(cs->blocks_used + cs->blocks_free, cs->pools * cap);
        size_t pool0s = cs->pools < st->arenas ? cs->pools : st->arenas;
        CHECK_GE(cs->blocks_used + cs->blocks_free, cs->pools * cap - pool0s * (cap / 2));
        if (cs->blocks_used)
            CHECK_GE(cs->pools, 1);
        pools += cs->pools;
    }
    CHECK_LE(pools + st->pools_free, st->arenas * POOLS_PER_ARENA);
    CHECK_GE(st->arenas_high_water, st->arenas);
    CHECK_EQ(st->arenas_allocated - st->arenas_freed, st->arenas);
    CHECK_LE(st->bytes_in_use, st->bytes_from_os);
    CHECK_EQ(st->bytes_from_os, st->arenas * RC_ARENA_SIZE + st->large_bytes + st->arena_bytes_ahead);
    CHECK_GE(st->bytes_high_water, st->bytes_from_os);
    CHECK_EQ(st->bytes_requested, st->bytes_in_use); /* pool mode */
    if (st->large_blocks == 0)
        CHECK_EQ(st->large_bytes, 0);
    CHECK_LE(st->arenas_idle, st->arenas);
}

/* Idle arenas kept for good: at most one per busy arena, one when none is
 * busy (beyond that only for the heap's idle_arena_ms). */
static void check_idle_kept(const rc_heap_stats *st) {
    size_t busy = st->arenas - st->arenas_idle;
    CHECK_LE(st->arenas_idle, busy > 1 ? busy : 1);
}

/* A heap on the test hooks whose surplus idle arenas live idle_ms. */
static rc_heap *idle_heap(test_hooks *t, int idle_ms) {
    rc_heap_config cfg = test_hooked_config(t, RC_MODE_POOL);
    cfg.idle_arena_ms = idle_ms;
    return rc_heap_new(&cfg);
}

static void test_class_stats(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    rc_heap_stats st = test_stats(h);
    check_invariants(&st);
    CHECK_EQ(test_small_used(&st), 0);
    CHECK_EQ(st.large_blocks, 0);
    CHECK_EQ(st.bytes_in_use, 0);
    CHECK_EQ(st.max_bytes, 0);
    CHECK_EQ(st.failed_allocs, 0);

    enum { N = 1000 };
    static void *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = rc_malloc(h, 32);
        CHECK_NOT_NULL(p[i]);
    }
    st = test_stats(h);
    check_invariants(&st);
    const rc_class_stats *c32 = &st.classes[1];
    CHECK_EQ(c32->block_size, 32);
    CHECK_EQ(c32->blocks_used, N);
    CHECK_GE(c32->pools, 1);
    CHECK_EQ(test_small_used(&st), N);
    CHECK_GE(st.arenas, 1);
    CHECK_GE(st.arenas_allocated, 1);
    CHECK_EQ(st.bytes_in_use, (size_t)N * 32);
    CHECK_GE(st.bytes_from_os, st.bytes_in_use);

    /* Large blocks (sizes multiple of 16, so "payload" is unambiguous). */
    const size_t ls[] = {1008, 5008, 100000};
    void *lp[3];
    size_t lsum = 0;
    for (int i = 0; i < 3; i++) {
        lp[i] = rc_malloc(h, ls[i]);
        CHECK_NOT_NULL(lp[i]);
        lsum += ls[i];
    }
    st = test_stats(h);
    check_invariants(&st);
    CHECK_EQ(st.large_blocks, 3);
    CHECK_GE(st.large_bytes, lsum);
    CHECK_EQ(st.bytes_in_use, (size_t)N * 32 + lsum);
    CHECK_GE(st.bytes_from_os, st.arenas * RC_ARENA_SIZE + lsum);
    CHECK_EQ(st.classes[1].blocks_used, N); /* large blocks are not in classes */

    /* Free half of the small ones. */
    for (int i = 0; i < N; i += 2) {
        rc_free(p[i]);
        p[i] = NULL;
    }
    st = test_stats(h);
    check_invariants(&st);
    CHECK_EQ(st.classes[1].blocks_used, N / 2);
    CHECK_EQ(st.bytes_in_use, (size_t)(N / 2) * 32 + lsum);

    rc_free(lp[1]);
    st = test_stats(h);
    CHECK_EQ(st.large_blocks, 2);
    CHECK_EQ(st.bytes_in_use, (size_t)(N / 2) * 32 + lsum - ls[1]);

    for (int i = 0; i < N; i++)
        rc_free(p[i]);
    rc_free(lp[0]);
    rc_free(lp[2]);
    st = test_stats(h);
    check_invariants(&st);
    CHECK_EQ(test_small_used(&st), 0);
    CHECK_EQ(st.large_blocks, 0);
    CHECK_EQ(st.large_bytes, 0);
    CHECK_EQ(st.bytes_in_use, 0);
    CHECK_LE(st.arenas, 1);
    CHECK_GE(st.arenas_high_water, 1);
    rc_heap_destroy(h);
}

/* bytes_from_os is documented as "arenas + large blocks held from the
 * system": exactly arenas * RC_ARENA_SIZE + large_bytes, so 0 for a heap
 * that holds neither. */
static void test_bytes_from_os_accounting(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(st.bytes_from_os, 0);
    void *s = rc_malloc(h, 100), *l = rc_malloc(h, 7000);
    st = test_stats(h);
    CHECK_EQ(st.bytes_from_os, st.arenas * RC_ARENA_SIZE + st.large_bytes);
    rc_free(s);
    rc_free(l);
    rc_heap_trim(h);
    st = test_stats(h);
    CHECK_EQ(st.arenas, 0);
    CHECK_EQ(st.bytes_from_os, 0);
    rc_heap_destroy(h);
}

/* Several classes at once: each class counts its own blocks. */
static void test_every_class_counts(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    enum { PER = 37 };
    static void *p[RC_NUM_CLASSES][PER];
    for (unsigned c = 0; c < RC_NUM_CLASSES; c++)
        for (int i = 0; i < PER; i++)
            p[c][i] = rc_malloc(h, (size_t)(c + 1) * RC_ALIGNMENT - (size_t)(i % RC_ALIGNMENT));
    rc_heap_stats st = test_stats(h);
    check_invariants(&st);
    size_t bytes = 0;
    for (unsigned c = 0; c < RC_NUM_CLASSES; c++) {
        CHECK_EQ(st.classes[c].blocks_used, PER);
        bytes += PER * st.classes[c].block_size;
    }
    CHECK_EQ(st.bytes_in_use, bytes);
    for (unsigned c = 0; c < RC_NUM_CLASSES; c++)
        for (int i = 0; i < PER; i++)
            rc_free(p[c][i]);
    st = test_stats(h);
    check_invariants(&st);
    CHECK_EQ(test_small_used(&st), 0);
    rc_heap_destroy(h);
}

/* Many random blocks freed in random order: empty arenas are given back as
 * they empty, keeping at most one spare, without rc_heap_trim(). */
static void test_churn_returns_arenas(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    /* What an empty heap holds (its own bookkeeping may count). */
    const size_t base_bytes = test_stats(h).bytes_from_os;
    CHECK_LT(base_bytes, RC_ARENA_SIZE);
    enum { N = 100000 };
    void **p = calloc(N, sizeof *p);
    if (!CHECK_NOT_NULL(p)) {
        rc_heap_destroy(h);
        return;
    }
    test_rng r = test_rng_seed(31337);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            p[i] = rc_malloc(h, test_random_size(&r));
            CHECK_NOT_NULL(p[i]);
        }
        rc_heap_stats st = test_stats(h);
        check_invariants(&st);
        CHECK_GE(st.arenas, 2);
        size_t peak = st.arenas;
        test_shuffle(&r, p, N);
        for (int i = 0; i < N; i++) {
            rc_free(p[i]);
            if (i % 10000 == 0) {
                st = test_stats(h);
                check_invariants(&st);
            }
        }
        st = test_stats(h);
        check_invariants(&st);
        CHECK_EQ(test_small_used(&st), 0);
        CHECK_EQ(st.large_blocks, 0);
        CHECK_LE(st.arenas, 1);
        CHECK_GE(st.arenas_high_water, peak);
        CHECK_GE(st.arenas_freed, peak - 1);
    }

    /* A steady state with live blocks, then drained. */
    for (int i = 0; i < N; i++)
        p[i] = NULL;
    for (int op = 0; op < 200000; op++) {
        size_t i = test_rng_below(&r, 20000);
        if (p[i]) {
            rc_free(p[i]);
            p[i] = NULL;
        } else {
            p[i] = rc_malloc(h, test_random_size(&r));
        }
    }
    rc_heap_stats st = test_stats(h);
    check_invariants(&st);
    test_shuffle(&r, p, 20000);
    for (int i = 0; i < 20000; i++)
        rc_free(p[i]);
    st = test_stats(h);
    check_invariants(&st);
    CHECK_LE(st.arenas, 1);

    /* Trim gives back the spare (and anything else idle). */
    size_t before = st.arenas;
    size_t got = rc_heap_trim(h);
    if (before > 0) {
        CHECK_GT(got, 0);
        CHECK_GE(got, before * RC_ARENA_SIZE);
    }
    st = test_stats(h);
    check_invariants(&st);
    CHECK_EQ(st.arenas, 0);
    CHECK_EQ(st.pools_free, 0);
    CHECK_EQ(st.bytes_from_os, base_bytes);
    CHECK_EQ(st.arenas_allocated, st.arenas_freed);
    CHECK_EQ(rc_heap_trim(h), 0); /* nothing left to give */

    /* The heap still works after a trim. */
    void *q = rc_malloc(h, 100);
    CHECK_NOT_NULL(q);
    st = test_stats(h);
    CHECK_EQ(st.arenas, 1);
    check_invariants(&st);
    rc_free(q);
    free(p);
    rc_heap_destroy(h);
}

/* Trim with live blocks: it only gives back what is idle. */
static void test_trim_with_live_blocks(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    enum { N = 60000 };
    static unsigned char *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = rc_malloc(h, 64);
        if (CHECK_NOT_NULL(p[i]))
            test_fill(p[i], 64, (uint32_t)i);
    }
    /* Free all but every 997th block. */
    for (int i = 0; i < N; i++) {
        if (i % 997 != 0) {
            rc_free(p[i]);
            p[i] = NULL;
        }
    }
    rc_heap_stats before = test_stats(h);
    check_invariants(&before);
    size_t got = rc_heap_trim(h);
    rc_heap_stats after = test_stats(h);
    check_invariants(&after);
    CHECK_GE(after.arenas, 1);
    CHECK_EQ(after.classes[test_class_of(64)].blocks_used,
             before.classes[test_class_of(64)].blocks_used);
    CHECK_EQ(before.bytes_from_os - after.bytes_from_os, got);
    for (int i = 0; i < N; i++) {
        if (p[i]) {
            CHECK_PATTERN(p[i], 64, (uint32_t)i);
            rc_free(p[i]);
        }
    }
    after = test_stats(h);
    CHECK_LE(after.arenas, 1);
    rc_heap_trim(h);
    after = test_stats(h);
    CHECK_EQ(after.arenas, 0);
    rc_heap_destroy(h);
}

static void test_high_water(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    enum { N = 3 * (int)(RC_ARENA_SIZE / 256) + 100 }; /* more than 3 arenas of 256-byte blocks */
    static void *p[N];
    for (int i = 0; i < N; i++)
        p[i] = rc_malloc(h, 256);
    rc_heap_stats st = test_stats(h);
    CHECK_GE(st.arenas, 4);
    size_t peak_arenas = st.arenas, peak_bytes = st.bytes_from_os;
    void *big = rc_malloc(h, 3u << 20);
    CHECK_NOT_NULL(big);
    st = test_stats(h);
    CHECK_GE(st.bytes_high_water, peak_bytes + (3u << 20));
    peak_bytes = st.bytes_high_water;
    rc_free(big);
    for (int i = 0; i < N; i++)
        rc_free(p[i]);
    rc_heap_trim(h);
    st = test_stats(h);
    check_invariants(&st);
    CHECK_EQ(st.arenas, 0);
    CHECK_EQ(st.arenas_high_water, peak_arenas);
    CHECK_EQ(st.bytes_high_water, peak_bytes);
    CHECK_EQ(st.arenas_allocated, st.arenas_freed);
    CHECK_GE(st.arenas_allocated, peak_arenas);
    rc_heap_destroy(h);
}

/* Allocation that keeps crossing an arena boundary must not map and unmap an
 * arena every time (the spare arena is the hysteresis). */
static void test_arena_boundary_no_thrash(void) {
    const size_t sizes[] = {64, 16, 512};
    for (size_t s = 0; s < 3; s++) {
        size_t sz = sizes[s];
        test_hooks t;
        test_hooks_init(&t, false);
        rc_heap *h = test_hooked_heap(&t, RC_MODE_POOL, 0);
        if (!CHECK_NOT_NULL(h)) {
            test_hooks_fini(&t);
            return;
        }
        /* Fill exactly until the block that needed a second arena. */
        size_t limit = 2 * RC_ARENA_SIZE / sz + 100;
        void **p = calloc(limit, sizeof *p);
        if (!CHECK_NOT_NULL(p)) {
            rc_heap_destroy(h);
            test_hooks_fini(&t);
            return;
        }
        size_t n = 0;
        while (n < limit) {
            unsigned long calls = t.arena.calls;
            p[n] = rc_malloc(h, sz);
            if (!CHECK_NOT_NULL(p[n]))
                break;
            n++;
            /* p[n - 1] made the heap take its second arena: it is the first
             * block of the new arena. */
            if (t.arena.calls > calls && test_stats(h).arenas == 2)
                break;
        }
        CHECK_LT(n, limit);
        CHECK_EQ(test_stats(h).arenas, 2);

        unsigned long calls0 = t.arena.calls, frees0 = t.arena_frees;
        size_t alloc0 = test_stats(h).arenas_allocated;
        for (int i = 0; i < 10000 && n > 0; i++) {
            rc_free(p[n - 1]);
            p[n - 1] = rc_malloc(h, sz);
            if (!CHECK_NOT_NULL(p[n - 1]))
                break;
        }
        CHECK_LE(t.arena.calls - calls0, 3);
        CHECK_LE(t.arena_frees - frees0, 3);
        CHECK_LE(test_stats(h).arenas_allocated - alloc0, 3);

        /* Same with a burst: free the last 100 blocks, allocate them again. */
        calls0 = t.arena.calls;
        for (int round = 0; round < 200 && n > 100; round++) {
            for (size_t i = n - 100; i < n; i++)
                rc_free(p[i]);
            for (size_t i = n - 100; i < n; i++)
                p[i] = rc_malloc(h, sz);
        }
        CHECK_LE(t.arena.calls - calls0, 3);

        /* Drain and refill across the boundary: grow to one and a half
         * arenas, then repeatedly free two thirds of the blocks (the whole
         * second arena's worth and more, so that no cache in front of the
         * pools can hold them) and allocate them again. */
        size_t n1 = n - 1; /* blocks that filled the first arena */
        size_t total = n1 + n1 / 2;
        if (total > limit)
            total = limit;
        for (; n < total; n++) {
            p[n] = rc_malloc(h, sz);
            if (!CHECK_NOT_NULL(p[n]))
                break;
        }
        CHECK_EQ(test_stats(h).arenas, 2);
        calls0 = t.arena.calls;
        frees0 = t.arena_frees;
        size_t keep = n1 / 2;
        for (int round = 0; round < 30 && n > keep; round++) {
            for (size_t i = n; i-- > keep;)
                rc_free(p[i]);
            for (size_t i = keep; i < n; i++)
                p[i] = rc_malloc(h, sz);
        }
        CHECK_LE(t.arena.calls - calls0, 3);
        CHECK_LE(t.arena_frees - frees0, 3);

        for (size_t i = 0; i < n; i++)
            rc_free(p[i]);
        free(p);
        rc_heap_stats st = test_stats(h);
        check_invariants(&st);
        CHECK_LE(st.arenas, 1);
        rc_heap_destroy(h);
        CHECK_EQ(t.nlive, 0);
        CHECK_EQ(t.mismatches, 0);
        test_hooks_fini(&t);
    }
}

/* Does some line of `text` hold both words as whole tokens? */
static int line_has_tokens(const char *text, const char *a, const char *b) {
    const char *line = text;
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        int found_a = 0, found_b = 0;
        size_t i = 0;
        while (i < len) {
            while (i < len && !isalnum((unsigned char)line[i]))
                i++;
            size_t start = i;
            while (i < len && isalnum((unsigned char)line[i]))
                i++;
            size_t tl = i - start;
            if (tl == strlen(a) && strncmp(line + start, a, tl) == 0)
                found_a = 1;
            if (tl == strlen(b) && strncmp(line + start, b, tl) == 0)
                found_b = 1;
        }
        if (found_a && found_b)
            return 1;
        if (!end)
            break;
        line = end + 1;
    }
    return 0;
}

static size_t print_to_buffer(const rc_heap *h, char *buf, size_t cap) {
    FILE *f = tmpfile();
    if (f == NULL)
        return 0;
    rc_heap_print_stats(h, f);
    fflush(f);
    rewind(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return n;
}

static void test_print_stats(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    static char buf[1 << 16];
    /* An empty heap prints fine. */
    CHECK_GT(print_to_buffer(h, buf, sizeof buf), 0);
    CHECK_STR_CONTAINS(buf, "arenas");

    enum { N = 777 };
    static void *p[N];
    for (int i = 0; i < N; i++)
        p[i] = rc_malloc(h, 32);
    void *big = rc_malloc(h, 12345);
    size_t len = print_to_buffer(h, buf, sizeof buf);
    CHECK_GT(len, 0);
    CHECK_STR_CONTAINS(buf, "arenas");
    CHECK_MSG(line_has_tokens(buf, "32", "777"),
              "no line of the stats table shows class 32 with 777 blocks used:\n%.800s", buf);
    for (int i = 0; i < N; i++)
        rc_free(p[i]);
    rc_free(big);
    rc_heap_destroy(h);
}

/* Every class keeps its own cache and its own shrink counters (no counter
 * shared by the fast paths), yet a heap that frees everything still ends
 * with at most one arena, whatever the order of the frees: here a few
 * blocks of every class (too few for a class to watch its own size) are
 * scattered over many arenas between filler blocks, and freed before the
 * filler, after it, or in reverse. */
static void test_free_all_small_classes_scattered(void) {
    static const size_t per_class[] = {1, 2, 20, 33, 100, 900};
    const size_t filler = 20 * RC_ARENA_SIZE / 512; /* about 20 arenas of 512-byte blocks */
    void **fill = calloc(filler, sizeof *fill);
    void **p = calloc(RC_NUM_CLASSES * 900, sizeof *p);
    if (!CHECK_NOT_NULL(fill) || !CHECK_NOT_NULL(p)) {
        free(fill);
        free(p);
        return;
    }
    for (size_t ki = 0; ki < sizeof per_class / sizeof per_class[0]; ki++) {
        size_t K = per_class[ki], n = RC_NUM_CLASSES * K;
        for (int order = 0; order < 3; order++) {
            rc_heap *h = test_heap_new(RC_MODE_POOL);
            if (!CHECK_NOT_NULL(h))
                continue;
            size_t f = 0, gap = filler / n + 1;
            for (size_t i = 0; i < n; i++) {
                p[i] = rc_malloc(h, (i % RC_NUM_CLASSES + 1) * RC_ALIGNMENT);
                CHECK_NOT_NULL(p[i]);
                for (size_t j = 0; j < gap && f < filler; j++, f++) {
                    fill[f] = rc_malloc(h, 512);
                    CHECK_NOT_NULL(fill[f]);
                }
            }
            for (; f < filler; f++) {
                fill[f] = rc_malloc(h, 512);
                CHECK_NOT_NULL(fill[f]);
            }
            rc_heap_stats st = test_stats(h);
            CHECK_GE(st.arenas, 10);
            if (order == 0) { /* filler first, the small classes last */
                for (size_t i = 0; i < filler; i++)
                    rc_free(fill[i]);
                for (size_t i = 0; i < n; i++)
                    rc_free(p[i]);
            } else if (order == 1) { /* small classes first */
                for (size_t i = 0; i < n; i++)
                    rc_free(p[i]);
                for (size_t i = 0; i < filler; i++)
                    rc_free(fill[i]);
            } else { /* filler in reverse, then classes from the largest */
                for (size_t i = filler; i-- > 0;)
                    rc_free(fill[i]);
                for (size_t i = n; i-- > 0;)
                    rc_free(p[i]);
            }
            st = test_stats(h);
            check_invariants(&st);
            CHECK_EQ(test_small_used(&st), 0);
            if (!CHECK_LE(st.arenas, 1))
                fprintf(stderr, "  (%zu blocks per class, order %d)\n", K, order);
            rc_heap_destroy(h);
        }
    }
    free(fill);
    free(p);
}

/* ---- Fullest arena first ------------------------------------------------ */

static uintptr_t arena_of(const void *p) { return (uintptr_t)p & ~(uintptr_t)(RC_ARENA_SIZE - 1); }

static size_t pool_index_of(const void *p) {
    return ((uintptr_t)p - arena_of(p)) / RC_POOL_SIZE;
}

/* Index (0..n-1) of the arena holding p in arenas[], or n if none. */
static size_t which_arena(const uintptr_t *arenas, size_t n, const void *p) {
    size_t k = 0;
    while (k < n && arenas[k] != arena_of(p))
        k++;
    return k;
}

/* A new pool is taken from the fullest arena that has a free pool (fewest
 * free pools), so that emptier arenas drain and can be given back
 * (docs/allocator.md, "Fullest arena first").  That is the rule for pools:
 * which block of a class comes next is another one (the pools with a free
 * block first, the heap's cache of freed blocks before them).  So whole
 * pools are freed here, and rc_heap_trim() (which returns cached blocks to
 * their pools and empty pools to their arenas, but keeps arenas in use)
 * leaves every remaining pool of the class full: each new block then needs
 * a new pool, and the arena it lands in shows where pools come from.
 *
 * Three full arenas are made to have 40, 2 and 20 free pools (in the order
 * they were mapped), the emptiest one touched last: only "fewest free pools"
 * picks the second one, not the oldest, newest, most recently used or
 * emptiest arena.  Once it is full the next pools come from the one with
 * 20, then from the one with 40, which no new block needed until then: it
 * empties out and trim gives it back. */
static void test_fullest_arena_first(void) {
    enum { SZ = 512, OTHER = 64 };
    static const size_t free_pools[3] = {40, 2, 20}; /* per filled arena */
    static const size_t first_freed[3] = {1, 10, 30}; /* first pool index freed */
    const size_t per_pool = RC_POOL_SIZE / SZ;         /* any pool but pool 0 */
    const size_t max_blocks = 5 * (RC_ARENA_SIZE / SZ);
    unsigned char **p = calloc(max_blocks, sizeof *p);
    unsigned char **q = calloc(max_blocks, sizeof *q);
    rc_heap_config cfg;
    rc_heap_config_init(&cfg);
    cfg.mode = RC_MODE_POOL;
    cfg.huge_pages = RC_HUGE_OFF; /* one arena mapped at a time */
    rc_heap *h = rc_heap_new(&cfg);
    void *other = NULL;
    uintptr_t ar[4];
    size_t na = 0, n = 0, nq = 0;
    rc_heap_stats st;
    if (!CHECK_NOT_NULL(p) || !CHECK_NOT_NULL(q) || !CHECK_NOT_NULL(h))
        goto out;

    /* Fill three arenas: allocate until a block lands in a fourth (an arena
     * is mapped only when no arena has a free pool left). */
    while (n < max_blocks && na < 4) {
        p[n] = rc_malloc(h, SZ);
        if (!CHECK_NOT_NULL(p[n]))
            goto out;
        test_fill(p[n], SZ, (uint32_t)n);
        if (which_arena(ar, na, p[n]) == na)
            ar[na++] = arena_of(p[n]);
        CHECK_EQ(which_arena(ar, na, p[n]), na - 1); /* arenas fill one after another */
        n++;
    }
    if (!CHECK_EQ(na, 4))
        goto out;
    st = test_stats(h);
    CHECK_EQ(st.arenas, 4);

    /* The block in the fourth arena first; then the arenas that are to
     * keep the fewest free pools; the emptiest one last. */
    rc_free(p[n - 1]);
    p[n - 1] = NULL;
    static const size_t order[3] = {2, 1, 0};
    for (size_t o = 0; o < 3; o++) {
        size_t k = order[o];
        for (size_t i = 0; i + 1 < n; i++) {
            if (!p[i] || which_arena(ar, 3, p[i]) != k)
                continue;
            size_t pi = pool_index_of(p[i]);
            if (pi >= first_freed[k] && pi < first_freed[k] + free_pools[k]) {
                rc_free(p[i]);
                p[i] = NULL;
            }
        }
    }
    CHECK_EQ(rc_heap_trim(h), RC_ARENA_SIZE); /* the fourth arena, idle */
    st = test_stats(h);
    check_invariants(&st);
    CHECK_EQ(st.arenas, 3);
    CHECK_EQ(st.arenas_freed, 1);
    CHECK_EQ(st.pools_free, free_pools[0] + free_pools[1] + free_pools[2]);
    /* every pool left with the class is full: no block to be had but from
     * a new pool */
    const rc_class_stats *cs = &st.classes[test_class_of(SZ)];
    CHECK_EQ(cs->pools, 3 * (RC_ARENA_SIZE / RC_POOL_SIZE) - st.pools_free);
    CHECK_EQ(cs->blocks_free, 0);

    /* A pool for another class comes from the arena with 2 free pools. */
    other = rc_malloc(h, OTHER);
    if (CHECK_NOT_NULL(other))
        CHECK_EQ(which_arena(ar, 3, other), 1);
    /* Its last free pool serves the next blocks of the class, then the
     * arena with 20 free pools serves them all, then the one with 40. */
    const size_t want[3] = {(free_pools[1] - 1) * per_pool, free_pools[2] * per_pool, 1};
    static const size_t from[3] = {1, 2, 0};
    for (size_t step = 0; step < 3; step++) {
        size_t wrong = 0;
        for (size_t j = 0; j < want[step]; j++, nq++) {
            q[nq] = rc_malloc(h, SZ);
            if (!CHECK_NOT_NULL(q[nq]))
                goto out;
            test_fill(q[nq], SZ, (uint32_t)(max_blocks + nq));
            wrong += which_arena(ar, 3, q[nq]) != from[step];
        }
        if (!CHECK_EQ(wrong, 0))
            fprintf(stderr, "  (%zu of %zu new blocks not from arena %zu)\n", wrong, want[step],
                    from[step]);
    }
    st = test_stats(h);
    check_invariants(&st);
    CHECK_EQ(st.arenas_allocated, 4); /* no arena mapped for them */
    CHECK_EQ(st.pools_free, free_pools[0] - 1);

    /* The emptiest arena drains: free its blocks.  It stays mapped (at most
     * as the spare, the one idle arena a heap keeps) until trim gives it
     * back, and it alone. */
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] && which_arena(ar, 3, p[i]) == 0) {
            CHECK_PATTERN(p[i], SZ, (uint32_t)i);
            rc_free(p[i]);
            p[i] = NULL;
        }
    }
    rc_free(q[nq - 1]);
    q[--nq] = NULL;
    CHECK_EQ(test_stats(h).arenas, 3);
    CHECK_EQ(rc_heap_trim(h), RC_ARENA_SIZE);
    st = test_stats(h);
    check_invariants(&st);
    CHECK_EQ(st.arenas, 2);
    CHECK_EQ(st.arenas_freed, 2);
    CHECK_EQ(st.arenas_allocated, 4);
    CHECK_EQ(st.pools_free, 0);
    /* the two fuller arenas kept every block */
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i])
            CHECK_PATTERN(p[i], SZ, (uint32_t)i);
    for (size_t j = 0; j < nq; j++)
        CHECK_PATTERN(q[j], SZ, (uint32_t)(max_blocks + j));
    size_t live = nq;
    for (size_t i = 0; i + 1 < n; i++)
        live += p[i] != NULL;
    CHECK_EQ(st.classes[test_class_of(SZ)].blocks_used, live);
    CHECK_EQ(st.classes[test_class_of(OTHER)].blocks_used, 1);

out:
    if (h) {
        for (size_t i = 0; p && i < max_blocks; i++)
            rc_free(p[i]);
        for (size_t j = 0; q && j < max_blocks; j++)
            rc_free(q[j]);
        rc_free(other);
        rc_heap_destroy(h);
    }
    free(p);
    free(q);
}

/* n blocks of `size` bytes into p[0..n), filled with their index's pattern;
 * false (the test failed) if one could not be had. */
static bool alloc_filled(rc_heap *h, void **p, size_t n, size_t size, uint32_t seed) {
    for (size_t i = 0; i < n; i++) {
        p[i] = rc_malloc(h, size);
        if (!CHECK_NOT_NULL(p[i]))
            return false;
        test_fill(p[i], size, seed + (uint32_t)i);
    }
    return true;
}

static void free_shuffled(test_rng *r, void **p, size_t n) {
    test_shuffle(r, p, n);
    for (size_t i = 0; i < n; i++)
        rc_free(p[i]);
}

/* Freed in the order they were made, as a dropped tree or list is (the
 * heap's cache then holds blocks of the last pools only, and the arenas
 * before them empty entirely). */
static void free_in_order(void **p, size_t n) {
    for (size_t i = 0; i < n; i++)
        rc_free(p[i]);
}

/* A heap that shrinks and grows again within twice its size keeps the
 * arenas it emptied (idle, no block handed out) and reuses them: no arena is
 * given back and none is mapped again.  Beyond that, with no time given to
 * the surplus (idle_arena_ms < 0), the idle arenas kept are at most as many
 * as the busy ones, the surplus going back as it empties; a heap emptied
 * entirely keeps one; trim gives back every one.  (Which arenas end idle
 * depends on the blocks the heap's cache holds, so the checks are on what is
 * mapped and unmapped.) */
static void test_idle_arenas_kept_for_regrowth(void) {
    enum { SZ = 64 };
    const size_t per_arena = RC_ARENA_SIZE / SZ;
    test_hooks t;
    test_hooks_init(&t, false);
    rc_heap *h = idle_heap(&t, -1);
    size_t n_long = 4 * per_arena, n_temp = 3 * per_arena, n_big = 20 * per_arena;
    void **lived = calloc(n_long, sizeof *lived), **temp = calloc(n_big, sizeof *temp);
    if (!CHECK_NOT_NULL(h) || !CHECK_NOT_NULL(lived) || !CHECK_NOT_NULL(temp))
        goto out;
    test_rng r = test_rng_seed(4242);
    if (!alloc_filled(h, lived, n_long, SZ, 0))
        goto out;

    /* Grow by three arenas' worth, shrink back, grow again, five times. */
    unsigned long maps0 = 0, unmaps0 = t.arena_frees;
    size_t grown = 0;
    for (int round = 0; round < 5; round++) {
        if (!alloc_filled(h, temp, n_temp, SZ, 1u << 24))
            goto out;
        rc_heap_stats st = test_stats(h);
        check_invariants(&st);
        if (round == 0) {
            maps0 = t.arena.calls;
            grown = st.arenas;
            CHECK_GE(grown, 7);
        }
        CHECK_EQ(st.arenas, grown);
        free_in_order(temp, n_temp);
        st = test_stats(h);
        check_invariants(&st);
        check_idle_kept(&st);
        CHECK_EQ(st.arenas, grown); /* nothing given back */
    }
    CHECK_EQ(t.arena.calls, maps0);   /* no arena mapped after the first growth */
    CHECK_EQ(t.arena_frees, unmaps0); /* and none unmapped */

    /* Grow far beyond: the surplus goes back as it empties. */
    if (!alloc_filled(h, temp, n_big, SZ, 1u << 25))
        goto out;
    rc_heap_stats st = test_stats(h);
    check_invariants(&st);
    size_t peak = st.arenas;
    CHECK_GE(peak, 24);
    CHECK_EQ(st.arenas_idle, 0);
    free_in_order(temp, n_big);
    st = test_stats(h);
    check_invariants(&st);
    check_idle_kept(&st);
    CHECK_LT(st.arenas, peak);
    CHECK_EQ(t.arena_frees - unmaps0, peak - st.arenas);

    /* The long-lived blocks are intact; freed, they leave one arena. */
    for (size_t i = 0; i < n_long; i++)
        CHECK_PATTERN(lived[i], SZ, (uint32_t)i);
    free_shuffled(&r, lived, n_long);
    st = test_stats(h);
    check_invariants(&st);
    CHECK_LE(st.arenas, 1);
    CHECK_EQ(st.arenas_idle, st.arenas);
    rc_heap_trim(h);
    st = test_stats(h);
    CHECK_EQ(st.arenas, 0);
    CHECK_EQ(st.arenas_idle, 0);
out:
    free(lived);
    free(temp);
    rc_heap_destroy(h);
    CHECK_EQ(t.nlive, 0); /* every arena and block given back */
    test_hooks_fini(&t);
}

/* Arenas idle beyond the ones kept for good (the surplus) stay for the
 * heap's idle_arena_ms: a heap that drops a big structure and builds it
 * again at once maps nothing; once they are older, the next free that
 * empties an arena gives them back. */
static void test_idle_surplus_decays(void) {
    enum { SZ = 64 };
    const size_t per_arena = RC_ARENA_SIZE / SZ;
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: a minute (nothing ages during the test); pass 1: 1 ms */
        test_hooks t;
        test_hooks_init(&t, false);
        rc_heap *h = idle_heap(&t, pass == 0 ? 60000 : 1);
        size_t n_long = 2 * per_arena, n_big = 12 * per_arena;
        void **lived = calloc(n_long, sizeof *lived), **temp = calloc(n_big, sizeof *temp);
        if (!CHECK_NOT_NULL(h) || !CHECK_NOT_NULL(lived) || !CHECK_NOT_NULL(temp))
            goto next;
        if (!alloc_filled(h, lived, n_long, SZ, 0) || !alloc_filled(h, temp, n_big, SZ, 1u << 24))
            goto next;
        size_t peak = test_stats(h).arenas;
        unsigned long maps = t.arena.calls, unmaps = t.arena_frees;
        free_in_order(temp, n_big);
        rc_heap_stats st = test_stats(h);
        check_invariants(&st);
        if (pass == 0) {
            CHECK_EQ(st.arenas, peak); /* the surplus too is kept */
            CHECK_EQ(t.arena_frees, unmaps);
            CHECK_GT(st.arenas_idle, st.arenas - st.arenas_idle);
            if (!alloc_filled(h, temp, n_big, SZ, 2u << 24))
                goto next;
            CHECK_EQ(t.arena.calls, maps); /* built again in the same arenas */
            free_in_order(temp, n_big);
            CHECK_EQ(test_stats(h).arenas, peak);
            /* trim takes the whole surplus; then freeing everything leaves one */
            CHECK_GT(rc_heap_trim(h), 0);
            st = test_stats(h);
            CHECK_EQ(st.arenas_idle, 0);
            CHECK_LT(st.arenas, peak);
        } else {
            struct timespec ms5 = {0, 5000000};
            nanosleep(&ms5, NULL);
            /* an arena's worth more, freed: an arena empties, the aged
             * surplus goes */
            if (!alloc_filled(h, temp, per_arena, SZ, 3u << 24))
                goto next;
            free_in_order(temp, per_arena);
            st = test_stats(h);
            check_invariants(&st);
            check_idle_kept(&st);
            CHECK_LT(st.arenas, peak);
            CHECK_EQ(t.arena_frees - unmaps, (t.arena.calls - maps) + peak - st.arenas);
        }
        for (size_t i = 0; i < n_long; i++)
            CHECK_PATTERN(lived[i], SZ, (uint32_t)i);
        free_in_order(lived, n_long);
        st = test_stats(h);
        CHECK_LE(st.arenas, 1); /* nothing busy: the surplus went at once */
    next:
        free(lived);
        free(temp);
        rc_heap_destroy(h);
        CHECK_EQ(t.nlive, 0);
        test_hooks_fini(&t);
    }
}

/* Under a cap, idle arenas are a cache: a request the cap would refuse
 * takes their room first, and succeeds. */
static void test_idle_arenas_yield_to_cap(void) {
    enum { SZ = 64 };
    const size_t per_arena = RC_ARENA_SIZE / SZ;
    test_hooks t;
    test_hooks_init(&t, false);
    rc_heap *h = test_hooked_heap(&t, RC_MODE_POOL, 6 * RC_ARENA_SIZE);
    size_t n_long = 3 * per_arena, n_temp = 2 * per_arena;
    void **lived = calloc(n_long, sizeof *lived), **temp = calloc(n_temp, sizeof *temp);
    void *big = NULL;
    if (!CHECK_NOT_NULL(h) || !CHECK_NOT_NULL(lived) || !CHECK_NOT_NULL(temp))
        goto out;
    test_rng r = test_rng_seed(77);
    if (!alloc_filled(h, lived, n_long, SZ, 0) || !alloc_filled(h, temp, n_temp, SZ, 1u << 24))
        goto out;
    free_in_order(temp, n_temp);
    rc_heap_stats st = test_stats(h);
    CHECK_GE(st.arenas_idle, 1);
    size_t idle = st.arenas_idle;
    /* A request that could not fit even with them gone fails and keeps them. */
    CHECK_NULL(rc_malloc(h, 7 * RC_ARENA_SIZE));
    st = test_stats(h);
    CHECK_EQ(st.arenas_idle, idle);
    CHECK_EQ(st.failed_allocs, 1);
    /* More than the cap leaves beside every held arena, less than it leaves
     * beside the busy ones. */
    size_t room = 6 * RC_ARENA_SIZE - st.bytes_from_os;
    size_t want = room + RC_ARENA_SIZE / 2;
    big = rc_malloc(h, want);
    if (CHECK_NOT_NULL(big)) {
        test_fill(big, want, 9);
        st = test_stats(h);
        check_invariants(&st);
        CHECK_LT(st.arenas_idle, idle);
        CHECK_EQ(st.failed_allocs, 1);
        CHECK_LE(st.bytes_from_os, 6 * RC_ARENA_SIZE);
        CHECK_PATTERN(big, want, 9);
    }
    /* With no idle arena left to give, the cap refuses, cleanly. */
    CHECK_NULL(rc_malloc(h, 6 * RC_ARENA_SIZE));
    CHECK_EQ(test_stats(h).failed_allocs, 2);
    for (size_t i = 0; i < n_long; i++)
        CHECK_PATTERN(lived[i], SZ, (uint32_t)i);
    free_shuffled(&r, lived, n_long);
out:
    rc_free(big);
    free(lived);
    free(temp);
    rc_heap_destroy(h);
    test_hooks_fini(&t);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_class_stats);
    RUN_TEST(test_bytes_from_os_accounting);
    RUN_TEST(test_every_class_counts);
    RUN_TEST(test_churn_returns_arenas);
    RUN_TEST(test_free_all_small_classes_scattered);
    RUN_TEST(test_trim_with_live_blocks);
    RUN_TEST(test_high_water);
    RUN_TEST(test_arena_boundary_no_thrash);
    RUN_TEST(test_print_stats);
    RUN_TEST(test_fullest_arena_first);
    RUN_TEST(test_idle_arenas_kept_for_regrowth);
    RUN_TEST(test_idle_surplus_decays);
    RUN_TEST(test_idle_arenas_yield_to_cap);
    return check_summary();
}
