/*
 * test_tools.c — what the memory checkers see of a pool-mode heap.
 *
 * Under AddressSanitizer or valgrind every heap is instrumented (heap.c): it
 * poisons (ASan) or makes inaccessible (memcheck) free pool blocks and the
 * unused space of its pools, and lifts that for each block it hands out.
 * These tests look at the checker's own view of the memory:
 *
 *   - ASan builds (__SANITIZE_ADDRESS__ for gcc, __has_feature for clang):
 *     __asan_address_is_poisoned, byte by byte;
 *   - valgrind (when the valgrind headers were found, RCGC_HAVE_VALGRIND,
 *     and the test runs under it): memcheck's addressability and
 *     definedness as VALGRIND_CHECK_MEM_IS_* report them, asked with error
 *     reporting off so that the questions are not errors themselves.
 *
 * A plain build run natively has no checker to ask: the test exits with 77,
 * which CTest reports as skipped (SKIP_RETURN_CODE).
 */
#include "check.h"
#include "testutil.h"

#include <rcgc/heap.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* The library's own switch for the valgrind client requests (CMake passes
 * the same value to this test); never together with ASan. */
#ifndef RCGC_HAVE_VALGRIND
#define RCGC_HAVE_VALGRIND 0
#endif
#if RCGC_HAVE_VALGRIND && !TEST_ASAN
#include <valgrind/memcheck.h>
#define TOOLS_VALGRIND 1
#else
#define TOOLS_VALGRIND 0
#endif

#define SKIP_CODE 77

enum tool { TOOL_NONE, TOOL_ASAN, TOOL_MEMCHECK };
static enum tool active_tool = TOOL_NONE;

static bool running_on_valgrind(void) {
#if TOOLS_VALGRIND
    return RUNNING_ON_VALGRIND != 0;
#else
    return false;
#endif
}

/* Would the checker flag an access to the byte at p? */
static bool flagged(const void *p) {
#if TEST_ASAN
    return __asan_address_is_poisoned(p) != 0;
#elif TOOLS_VALGRIND
    VALGRIND_DISABLE_ERROR_REPORTING;
    uintptr_t bad = (uintptr_t)VALGRIND_CHECK_MEM_IS_ADDRESSABLE(p, 1);
    VALGRIND_ENABLE_ERROR_REPORTING;
    return bad != 0;
#else
    (void)p;
    return false;
#endif
}

/* How many bytes of [p, p + n) the checker would flag. */
static size_t flagged_bytes(const void *p, size_t n) {
    const unsigned char *b = p;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += flagged(b + i);
    return k;
}

/* A pool-mode heap whatever RCGC_MALLOC and RCGC_HUGE_PAGES say. */
static rc_heap *pool_heap(void) {
    rc_heap_config cfg;
    rc_heap_config_init(&cfg);
    cfg.mode = RC_MODE_POOL;
    cfg.huge_pages = RC_HUGE_OFF;
    return rc_heap_new(&cfg);
}

static uintptr_t pool_base(const void *p) { return (uintptr_t)p & ~(uintptr_t)(RC_POOL_SIZE - 1); }
static uintptr_t arena_base(const void *p) { return (uintptr_t)p & ~(uintptr_t)(RC_ARENA_SIZE - 1); }

/* ---- Live, freed and reused blocks ------------------------------------- */

/* Three blocks of one class from a fresh heap share its first pool: their
 * bytes are accessible, everything else from the lowest of them to the end
 * of the pool (free carved blocks, never-carved space, the slack after the
 * last whole block) is not.  A freed block is flagged whole, its neighbours
 * not; the next block of the class reuses its slot, accessible whole. */
static void test_live_freed_and_reused_blocks(void) {
    static const size_t sizes[] = {1, 16, 33, 100, 256, 500, 512};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        rc_heap *h = pool_heap();
        if (!CHECK_NOT_NULL(h))
            return;
        unsigned char *b[3];
        for (int i = 0; i < 3; i++) {
            b[i] = rc_malloc(h, n);
            if (!CHECK_NOT_NULL(b[i])) {
                rc_heap_destroy(h);
                return;
            }
        }
        size_t usable = rc_usable_size(b[0]);
        CHECK_EQ(usable, rc_good_size(n));
        uintptr_t lo = (uintptr_t)b[0];
        for (int i = 0; i < 3; i++) {
            CHECK_EQ(pool_base(b[i]), pool_base(b[0]));
            CHECK_EQ(flagged_bytes(b[i], usable), 0);
            test_fill(b[i], usable, (uint32_t)(n * 3 + (size_t)i));
            if ((uintptr_t)b[i] < lo)
                lo = (uintptr_t)b[i];
        }
        size_t span = pool_base(b[0]) + RC_POOL_SIZE - lo;
        if (!CHECK_EQ(flagged_bytes((void *)lo, span), span - 3 * usable))
            fprintf(stderr, "  (%zu-byte blocks)\n", n);

        rc_free(b[1]);
        CHECK_EQ(flagged_bytes(b[1], usable), usable);
        CHECK_EQ(flagged_bytes(b[0], usable), 0);
        CHECK_EQ(flagged_bytes(b[2], usable), 0);
        CHECK_PATTERN(b[0], usable, (uint32_t)(n * 3));
        CHECK_PATTERN(b[2], usable, (uint32_t)(n * 3 + 2));

        /* the freed slot is the next block of its class handed out */
        unsigned char *q = rc_malloc(h, n);
        CHECK_PTR_EQ(q, b[1]);
        if (CHECK_NOT_NULL(q)) {
            CHECK_EQ(rc_usable_size(q), usable);
            CHECK_EQ(flagged_bytes(q, usable), 0);
            memset(q, 0x6B, usable); /* a flagged byte here would be a checker error */
            CHECK_ALL_BYTES(q, usable, 0x6B);
            rc_free(q);
            CHECK_EQ(flagged_bytes(q, usable), usable);
        }
        rc_free(b[0]);
        rc_free(b[2]);
        CHECK_EQ(flagged_bytes(b[0], usable), usable);
        CHECK_EQ(flagged_bytes(b[2], usable), usable);
        rc_heap_destroy(h);
    }
}

/* rc_calloc's block is accessible over its usable size, and a realloc that
 * moves the block flags the old one and opens the new one whole. */
static void test_calloc_and_realloc(void) {
    rc_heap *h = pool_heap();
    if (!CHECK_NOT_NULL(h))
        return;
    unsigned char *z = rc_calloc(h, 5, 7);
    if (CHECK_NOT_NULL(z)) {
        CHECK_EQ(flagged_bytes(z, rc_usable_size(z)), 0);
        CHECK_ALL_BYTES(z, 35, 0);
    }
    unsigned char *p = rc_malloc(h, 40);
    if (!CHECK_NOT_NULL(p)) {
        rc_heap_destroy(h);
        return;
    }
    size_t old_usable = rc_usable_size(p);
    test_fill(p, 40, 4);
    unsigned char *q = rc_realloc(h, p, 300); /* another class: moves */
    if (CHECK_NOT_NULL(q)) {
        CHECK_PTR_NE(q, p);
        size_t usable = rc_usable_size(q);
        CHECK_GE(usable, 300);
        CHECK_EQ(flagged_bytes(q, usable), 0);
        CHECK_EQ(flagged_bytes(p, old_usable), old_usable);
        CHECK_PATTERN(q, 40, 4);
        /* the same class: stays, still accessible */
        unsigned char *r = rc_realloc(h, q, 290);
        CHECK_PTR_EQ(r, q);
        CHECK_EQ(flagged_bytes(q, usable), 0);
        rc_free(q);
        CHECK_EQ(flagged_bytes(q, usable), usable);
    }
    rc_free(z);
    rc_heap_destroy(h);
}

/* A pool that empties goes back to its arena, flagged whole; when a block of
 * another class reuses it (the arena is then the fullest with a free pool:
 * its only free pool is this one), that block is accessible whole and the
 * rest of the pool stays flagged, whatever the old blocks' boundaries were.
 * Trim then gives the arenas back, unpoisoned first (ASan). */
static void test_released_pool_reused_by_another_class(void) {
    enum { FILL = 256, OTHER = 80, MAXB = 2 * (int)(RC_ARENA_SIZE / FILL) };
    static unsigned char *b[MAXB];
    rc_heap *h = pool_heap();
    if (!CHECK_NOT_NULL(h))
        return;
    /* Fill the first arena: allocate until a block lands in a second one
     * (a heap maps an arena only when none has a free pool). */
    size_t n = 0;
    while (n < MAXB) {
        b[n] = rc_malloc(h, FILL);
        if (!CHECK_NOT_NULL(b[n]))
            break;
        if (arena_base(b[n++]) != arena_base(b[0]))
            break;
    }
    if (!CHECK_LT(n, (size_t)MAXB) || !CHECK_GT(n, 2) ||
        !CHECK_NE(arena_base(b[n - 1]), arena_base(b[0]))) {
        rc_heap_destroy(h);
        return;
    }
    CHECK_EQ(test_stats(h).arenas, 2);
    uintptr_t first_arena = arena_base(b[0]), second_arena = arena_base(b[n - 1]);
    /* Empty one pool in the middle of the first arena (not pool 0). */
    uintptr_t pool = pool_base(b[(n - 1) / 2]);
    CHECK_NE(pool, first_arena);
    size_t freed = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (pool_base(b[i]) == pool) {
            rc_free(b[i]);
            b[i] = NULL;
            freed++;
        }
    }
    CHECK_EQ(freed, RC_POOL_SIZE / FILL);
    CHECK_EQ(flagged_bytes((void *)pool, RC_POOL_SIZE), RC_POOL_SIZE);

    unsigned char *y = rc_malloc(h, OTHER);
    if (CHECK_NOT_NULL(y)) {
        CHECK_EQ(pool_base(y), pool);
        CHECK_EQ(rc_usable_size(y), OTHER);
        CHECK_EQ(flagged_bytes(y, OTHER), 0);
        CHECK_EQ(flagged_bytes((void *)pool, RC_POOL_SIZE), RC_POOL_SIZE - OTHER);
        memset(y, 0x3C, OTHER);
        CHECK_ALL_BYTES(y, OTHER, 0x3C);
        rc_free(y);
        CHECK_EQ(flagged_bytes(y, OTHER), OTHER);
    }
    for (size_t i = 0; i < n; i++)
        rc_free(b[i]);
    rc_heap_trim(h);
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(st.arenas, 0);
    CHECK_EQ(st.arenas_freed, 2);
#if TEST_ASAN
    /* unpoisoned before unmapping: whatever is mapped there next is clean */
    CHECK_NULL(__asan_region_is_poisoned((void *)first_arena, RC_ARENA_SIZE));
    CHECK_NULL(__asan_region_is_poisoned((void *)second_arena, RC_ARENA_SIZE));
#else
    /* memcheck tracks munmap itself: nothing of the library's to see */
    (void)first_arena;
    (void)second_arena;
#endif
    rc_heap_destroy(h);
}

/* The pools of an arena that no class has taken yet are off limits too: the
 * first 512-byte block that ends exactly at the end of its pool (pool 0,
 * which holds the arena's header, has a gap at its end) has an untaken pool
 * right after it, and a write one past its end (an overrun into that pool) is
 * flagged.  Checked byte by byte at every pool's first and last 64 bytes and
 * every 251st byte between (a prime step, so each offset within a page
 * comes up), for every pool no class has. */
static void test_untaken_pools_flagged(void) {
    rc_heap *h = pool_heap();
    if (!CHECK_NOT_NULL(h))
        return;
    enum { MAXB = 2 * (int)(RC_POOL_SIZE / RC_SMALL_MAX) };
    unsigned char *b[MAXB];
    int n = 0;
    unsigned char *last = NULL;
    while (n < MAXB) { /* until a block ends where its pool does */
        b[n] = rc_malloc(h, RC_SMALL_MAX);
        if (!CHECK_NOT_NULL(b[n]))
            break;
        if ((uintptr_t)b[n] + RC_SMALL_MAX == pool_base(b[n]) + RC_POOL_SIZE) {
            last = b[n++];
            break;
        }
        n++;
    }
    if (CHECK_NOT_NULL(last)) {
        CHECK_EQ(flagged_bytes(last, RC_SMALL_MAX), 0);
        CHECK(flagged(last + RC_SMALL_MAX)); /* the next pool, untaken */
        uintptr_t arena = arena_base(last);
        size_t checked = 0, wrong = 0;
        for (uintptr_t pool = pool_base(last) + RC_POOL_SIZE; pool < arena + RC_ARENA_SIZE;
             pool += RC_POOL_SIZE) {
            for (size_t off = 0; off < RC_POOL_SIZE; off = (off < 64 || off >= RC_POOL_SIZE - 64) ? off + 1 : off + 251) {
                wrong += !flagged((const void *)(pool + off));
                checked++;
            }
        }
        CHECK_GT(checked, 0);
        CHECK_EQ(wrong, 0);
        /* a block of another class takes a pool: only its bytes open up */
        unsigned char *y = rc_malloc(h, 16);
        if (CHECK_NOT_NULL(y)) {
            CHECK_EQ(flagged_bytes(y, 16), 0);
            CHECK(flagged(y + 16));
            rc_free(y);
        }
    }
    for (int i = 0; i < n; i++)
        rc_free(b[i]);
    rc_heap_destroy(h);
}

/* Debug mode: a freed block waits in the quarantine (where the debug
 * allocator itself checks it); when it leaves, its slot is a free pool block
 * again and off limits, as a free block of a pool-mode heap. */
static void test_debug_block_flagged_after_quarantine(void) {
    test_report_log log;
    rc_heap *h = test_heap_with_log(RC_MODE_DEBUG, &log);
    if (!CHECK_NOT_NULL(h))
        return;
    void *keep = rc_malloc(h, 100); /* keeps the arena in use */
    unsigned char *p = rc_malloc(h, 100);
    if (!CHECK_NOT_NULL(p) || !CHECK_NOT_NULL(keep)) {
        rc_heap_destroy(h);
        return;
    }
    CHECK_EQ(flagged_bytes(p, 100), 0);
    memset(p, 0x11, 100);
    rc_free(p);
    /* RC_DEBUG_QUARANTINE frees of another class push p out */
    for (int k = 0; k < RC_DEBUG_QUARANTINE; k++)
        rc_free(rc_malloc(h, 24));
    CHECK_EQ(flagged_bytes(p, 100), 100);
    CHECK_EQ(flagged_bytes(keep, 100), 0);
    rc_free(keep);
    CHECK_EQ(log.count, 0);
    rc_heap_destroy(h);
}

/* ---- valgrind only -------------------------------------------------------- */

#if TOOLS_VALGRIND
/* Is any byte of [p, p + n) undefined to memcheck?  (Asked with reporting
 * off: the request itself would otherwise be an error.) */
static bool any_undefined(const void *p, size_t n) {
    VALGRIND_DISABLE_ERROR_REPORTING;
    uintptr_t bad = (uintptr_t)VALGRIND_CHECK_MEM_IS_DEFINED(p, n);
    VALGRIND_ENABLE_ERROR_REPORTING;
    return bad != 0;
}

/* A block is announced as malloc would hand it out: accessible but
 * undefined (a read of it before a write is an error), rc_calloc's defined;
 * a reused slot is undefined again. */
static void test_memcheck_definedness(void) {
    rc_heap *h = pool_heap();
    if (!CHECK_NOT_NULL(h))
        return;
    unsigned char *p = rc_malloc(h, 64);
    unsigned char *z = rc_calloc(h, 8, 8);
    if (CHECK_NOT_NULL(p) && CHECK_NOT_NULL(z)) {
        CHECK(any_undefined(p, 64));
        CHECK(!any_undefined(z, 64));
        memset(p, 1, 64);
        CHECK(!any_undefined(p, 64));
        rc_free(p);
        unsigned char *q = rc_malloc(h, 64);
        CHECK_PTR_EQ(q, p);
        if (CHECK_NOT_NULL(q)) {
            CHECK_EQ(flagged_bytes(q, 64), 0);
            CHECK(any_undefined(q, 64));
            rc_free(q);
        }
    }
    rc_free(z);
    rc_heap_destroy(h);
}
#endif

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    if (TEST_ASAN)
        active_tool = TOOL_ASAN;
    else if (running_on_valgrind())
        active_tool = TOOL_MEMCHECK;
    if (active_tool == TOOL_NONE) {
        printf("test_tools: not built with AddressSanitizer and not running under valgrind%s:"
               " no checker to ask, skipped\n",
               TOOLS_VALGRIND ? "" : " (or built without the valgrind headers)");
        return SKIP_CODE;
    }
    printf("test_tools: checking with %s\n",
           active_tool == TOOL_ASAN ? "AddressSanitizer" : "valgrind memcheck");
    RUN_TEST(test_live_freed_and_reused_blocks);
    RUN_TEST(test_calloc_and_realloc);
    RUN_TEST(test_released_pool_reused_by_another_class);
    RUN_TEST(test_untaken_pools_flagged);
    RUN_TEST(test_debug_block_flagged_after_quarantine);
#if TOOLS_VALGRIND
    RUN_TEST(test_memcheck_definedness);
#endif
    return check_summary();
}
