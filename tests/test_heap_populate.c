/*
 * test_heap_populate.c — when arenas are faulted in at once.
 *
 * A heap that already holds several arenas and maps another is growing, and
 * the default hooks populate the new arena in one system call (Linux
 * MADV_POPULATE_WRITE).  Checked with mincore(): a small heap's arena stays
 * lazy (only the pages used are resident), a growing heap's new arena is
 * resident at once, and an arena from an embedder's hook is never touched
 * beyond what the heap uses.  Where the kernel cannot populate (before
 * Linux 5.14) the populated case is skipped.
 */
#include "check.h"
#include "testutil.h"

#include <rcgc/heap.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGES_PER_ARENA (RC_ARENA_SIZE / 4096)

/* Resident pages of the arena holding p. */
static size_t resident_pages(const void *p) {
    void *base = (void *)((uintptr_t)p & ~(uintptr_t)(RC_ARENA_SIZE - 1));
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t n = RC_ARENA_SIZE / page;
    unsigned char *vec = calloc(n, 1);
    if (!vec || mincore(base, RC_ARENA_SIZE, vec) != 0) {
        free(vec);
        return SIZE_MAX;
    }
    size_t r = 0;
    for (size_t i = 0; i < n; i++)
        r += vec[i] & 1;
    free(vec);
    return r * (page / 4096);
}

static bool kernel_can_populate(void) {
#ifdef MADV_POPULATE_WRITE
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    bool ok = madvise(p, 4096, MADV_POPULATE_WRITE) == 0;
    munmap(p, 4096);
    return ok;
#else
    return false;
#endif
}

/* Allocate 16-byte blocks until the heap holds `arenas` arenas; returns the
 * first block of the newest arena (NULL on failure).  Blocks are kept in
 * `keep` (freed by rc_heap_destroy). */
static void *grow_to(rc_heap *h, size_t arenas) {
    void *last = NULL;
    size_t have = test_stats(h).arenas;
    for (;;) {
        void *p = rc_malloc(h, 16);
        if (!p)
            return NULL;
        size_t now = test_stats(h).arenas;
        if (now > have) {
            have = now;
            last = p;
            if (have >= arenas)
                return last;
        }
    }
}

/* ---- Hooks that map arenas without touching them ------------------------- */

static unsigned long hook_arenas;

static void *lazy_arena_alloc(void *ctx, size_t size, size_t align) {
    (void)ctx;
    char *p = mmap(NULL, size + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    char *a = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
    if (a > p)
        munmap(p, (size_t)(a - p));
    if ((size_t)(p + size + align - (a + size)) > 0)
        munmap(a + size, (size_t)(p + size + align - (a + size)));
    hook_arenas++;
    return a;
}
static void lazy_arena_free(void *ctx, void *p, size_t size) {
    (void)ctx;
    munmap(p, size);
}
static void *lazy_large_alloc(void *ctx, size_t size) {
    (void)ctx;
    return malloc(size);
}
static void lazy_large_free(void *ctx, void *p, size_t size) {
    (void)ctx;
    (void)size;
    free(p);
}

/* ---- Tests ----------------------------------------------------------------- */

static void test_small_heap_stays_lazy(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    void *p = rc_malloc(h, 16);
    if (CHECK_NOT_NULL(p))
        CHECK_LT(resident_pages(p), 16); /* header, and the pages carved */
    rc_heap_destroy(h);
}

static void test_growing_heap_populates(void) {
    if (!kernel_can_populate()) {
        CHECK_SKIP("kernel without MADV_POPULATE_WRITE");
        return;
    }
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    void *p = grow_to(h, 6);
    if (CHECK_NOT_NULL(p))
        CHECK_EQ(resident_pages(p), PAGES_PER_ARENA);
    rc_heap_destroy(h);
}

static void test_hook_arenas_never_populated(void) {
    static const rc_raw_hooks hooks = {
        .ctx = NULL,
        .arena_alloc = lazy_arena_alloc,
        .arena_free = lazy_arena_free,
        .large_alloc = lazy_large_alloc,
        .large_free = lazy_large_free,
    };
    rc_heap_config cfg;
    rc_heap_config_init(&cfg);
    cfg.mode = RC_MODE_POOL;
    cfg.hooks = &hooks;
    rc_heap *h = rc_heap_new(&cfg);
    if (!CHECK_NOT_NULL(h))
        return;
    hook_arenas = 0;
    void *p = grow_to(h, 6);
    if (CHECK_NOT_NULL(p)) {
        CHECK_EQ(hook_arenas, 6);
        CHECK_LT(resident_pages(p), 16);
    }
    rc_heap_destroy(h);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_small_heap_stays_lazy);
    RUN_TEST(test_growing_heap_populates);
    RUN_TEST(test_hook_arenas_never_populated);
    return check_summary();
}
