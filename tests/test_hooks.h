/*
 * tests/test_hooks.h — counting, fault-injecting raw memory hooks.
 *
 * Every allocation made through the hooks is recorded (pointer, size, kind) so
 * that frees can be matched: a free of an unknown pointer, with the wrong size
 * or through the wrong hook counts as a mismatch.  Each alloc hook can be told
 * to fail a range of its calls (numbered from 1) or all of them.  Memory given
 * to the heap is filled with garbage, so a heap that assumes fresh memory is
 * zeroed (as mmap's is) gets caught.
 *
 * Single-threaded: a test_hooks instance serves heaps driven by one thread.
 */
#ifndef RCGC_TESTS_TEST_HOOKS_H
#define RCGC_TESTS_TEST_HOOKS_H

#include <rcgc/heap.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct hook_fault {
    unsigned long calls;      /* calls so far */
    unsigned long failures;   /* calls made to fail so far */
    unsigned long fail_from;  /* first call number to fail (0: none) */
    unsigned long fail_count; /* how many calls from fail_from fail */
    bool fail_all;            /* every call fails */
} hook_fault;

enum { HOOK_ARENA = 1, HOOK_LARGE = 2 };

typedef struct hook_entry {
    void *p;
    size_t size;
    int kind;
} hook_entry;

typedef struct test_hooks {
    rc_raw_hooks hooks;
    hook_fault arena, large, resize;
    unsigned long arena_frees, large_frees;
    unsigned long mismatches;   /* frees that match no live allocation */
    unsigned long bad_requests; /* alloc calls with nonsensical arguments */
    size_t bytes_live, bytes_high;
    hook_entry *live;
    size_t nlive, cap;
} test_hooks;

static inline bool hook_should_fail(hook_fault *f) {
    unsigned long c = ++f->calls;
    bool fail = f->fail_all ||
                (f->fail_from != 0 && c >= f->fail_from && c - f->fail_from < f->fail_count);
    if (fail)
        f->failures++;
    return fail;
}

/* Make the next `count` calls of this hook fail. */
static inline void hook_fail_next(hook_fault *f, unsigned long count) {
    f->fail_from = f->calls + 1;
    f->fail_count = count;
}

/* Make the n-th call from now (1 = the next one) fail, once. */
static inline void hook_fail_nth(hook_fault *f, unsigned long n) {
    f->fail_from = f->calls + n;
    f->fail_count = 1;
}

static inline void hook_recover(hook_fault *f) {
    f->fail_all = false;
    f->fail_from = 0;
    f->fail_count = 0;
}

static inline void hook_record(test_hooks *t, void *p, size_t size, int kind) {
    if (t->nlive == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 256;
        hook_entry *n = realloc(t->live, ncap * sizeof *n);
        if (n == NULL)
            abort(); /* the test machinery itself is out of memory */
        t->live = n;
        t->cap = ncap;
    }
    t->live[t->nlive].p = p;
    t->live[t->nlive].size = size;
    t->live[t->nlive].kind = kind;
    t->nlive++;
    t->bytes_live += size;
    if (t->bytes_live > t->bytes_high)
        t->bytes_high = t->bytes_live;
}

/* Forget p; true if it was live with this size and kind. */
static inline bool hook_forget(test_hooks *t, void *p, size_t size, int kind) {
    for (size_t i = t->nlive; i-- > 0;) {
        if (t->live[i].p != p)
            continue;
        bool ok = t->live[i].size == size && t->live[i].kind == kind;
        t->bytes_live -= t->live[i].size;
        t->live[i] = t->live[--t->nlive];
        if (!ok)
            t->mismatches++;
        return ok;
    }
    t->mismatches++;
    return false;
}

static inline void *hook_arena_alloc(void *ctx, size_t size, size_t align) {
    test_hooks *t = ctx;
    if (hook_should_fail(&t->arena))
        return NULL;
    if (size == 0 || align < 16 || (align & (align - 1)) != 0) {
        t->bad_requests++;
        return NULL;
    }
    void *p = aligned_alloc(align, (size + align - 1) / align * align);
    if (p == NULL)
        return NULL;
    memset(p, 0xA5, size);
    hook_record(t, p, size, HOOK_ARENA);
    return p;
}

static inline void hook_arena_free(void *ctx, void *p, size_t size) {
    test_hooks *t = ctx;
    t->arena_frees++;
    if (hook_forget(t, p, size, HOOK_ARENA))
        free(p);
}

static inline void *hook_large_alloc(void *ctx, size_t size) {
    test_hooks *t = ctx;
    if (hook_should_fail(&t->large))
        return NULL;
    if (size == 0) {
        t->bad_requests++;
        return NULL;
    }
    void *p = aligned_alloc(16, (size + 15) / 16 * 16);
    if (p == NULL)
        return NULL;
    memset(p, 0x5A, size);
    hook_record(t, p, size, HOOK_LARGE);
    return p;
}

static inline void hook_large_free(void *ctx, void *p, size_t size) {
    test_hooks *t = ctx;
    t->large_frees++;
    if (hook_forget(t, p, size, HOOK_LARGE))
        free(p);
}

/* Always moves the block, so a caller that keeps using the old address is
 * caught by the sanitizers. */
static inline void *hook_large_realloc(void *ctx, void *p, size_t old_size, size_t new_size) {
    test_hooks *t = ctx;
    if (hook_should_fail(&t->resize))
        return NULL;
    if (new_size == 0) {
        t->bad_requests++;
        return NULL;
    }
    void *n = aligned_alloc(16, (new_size + 15) / 16 * 16);
    if (n == NULL)
        return NULL;
    memset(n, 0x5A, new_size);
    memcpy(n, p, old_size < new_size ? old_size : new_size);
    if (hook_forget(t, p, old_size, HOOK_LARGE))
        free(p);
    hook_record(t, n, new_size, HOOK_LARGE);
    return n;
}

/* Set up t; with_realloc chooses whether the optional resize hook is given. */
static inline void test_hooks_init(test_hooks *t, bool with_realloc) {
    memset(t, 0, sizeof *t);
    t->hooks.ctx = t;
    t->hooks.arena_alloc = hook_arena_alloc;
    t->hooks.arena_free = hook_arena_free;
    t->hooks.large_alloc = hook_large_alloc;
    t->hooks.large_free = hook_large_free;
    t->hooks.large_realloc = with_realloc ? hook_large_realloc : NULL;
}

/* Live allocations of one kind. */
static inline size_t test_hooks_live(const test_hooks *t, int kind) {
    size_t n = 0;
    for (size_t i = 0; i < t->nlive; i++)
        n += t->live[i].kind == kind;
    return n;
}

static inline void test_hooks_fini(test_hooks *t) {
    /* Anything still live here was leaked by the heap: release it so the
     * leak checkers report the test's verdict, not a leak of their own. */
    for (size_t i = 0; i < t->nlive; i++)
        free(t->live[i].p);
    free(t->live);
    t->live = NULL;
    t->nlive = t->cap = 0;
}

/* A heap config in `mode` on t's hooks, the rest at the defaults. */
static inline rc_heap_config test_hooked_config(test_hooks *t, rc_alloc_mode mode) {
    rc_heap_config cfg;
    rc_heap_config_init(&cfg);
    cfg.mode = mode;
    cfg.hooks = &t->hooks;
    return cfg;
}

static inline rc_heap *test_hooked_heap(test_hooks *t, rc_alloc_mode mode, size_t max_bytes) {
    rc_heap_config cfg = test_hooked_config(t, mode);
    cfg.max_bytes = max_bytes;
    return rc_heap_new(&cfg);
}

#endif /* RCGC_TESTS_TEST_HOOKS_H */
