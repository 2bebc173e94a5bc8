/*
 * test_alloc_edge.c — adversarial tests of the allocator layer (heap.h):
 * the corners the other allocator tests do not walk.
 *
 *   - rc_realloc across every class boundary and RC_SMALL_MAX, in every
 *     mode, with the default hooks, counting hooks without large_realloc and
 *     with a large_realloc that always moves: bytes kept, usable size, the
 *     documented in-place rules, and afterwards the hooks' books balanced;
 *   - a failing and a moving large_realloc hook amid live neighbours;
 *   - max_bytes exactly at the boundary (large blocks, arenas, realloc
 *     growth, debug blocks), a cap lowered below the heap's use;
 *   - raw hooks that fail their k-th call for every k over a mixed workload
 *     (one counter over arena, large and resize calls): every failure is a
 *     NULL, one failed_allocs, the old block intact, bytes_from_os exact, and
 *     the heap fully usable and empty afterwards;
 *   - an arena hook that returns misaligned memory;
 *   - stats against an independent tally after random workloads, and
 *     rc_heap_trim's return value against the hooks' counters;
 *   - rc_free_sized misuse in pool and malloc modes (the documented fallback,
 *     and the wrong heap's cache left untouched);
 *   - rc_good_size for 0..600, rc_calloc overflow and zeroing;
 *   - 100 heaps at once, destroyed in random order;
 *   - rc_heap_claim handover between threads;
 *   - rc_heap_fail_at fails exactly the n-th allocation (malloc, debug) and
 *     nothing in pool mode;
 *   - huge-page heaps (RC_HUGE_ON): bytes_from_os and the partner;
 *   - rc_heap_destroy with everything live gives every byte back.
 *
 *   - foreign pointers right after unmapped memory: reported, no fault.
 */
#include "check.h"
#include "test_child.h"
#include "test_hooks.h"
#include "testutil.h"

#include <rcgc/heap.h>

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>


/* a large block's header (docs/allocator.md): 48 bytes, 32 with 4-byte pointers */
#define EDGE_HDR (sizeof(void *) == 8 ? 48u : 32u)
#define EDGE_DEBUG_OVERHEAD 64u /* debug header + two guards */
#define EDGE_POOLS_PER_ARENA (RC_ARENA_SIZE / RC_POOL_SIZE)

static const rc_alloc_mode edge_modes[] = {RC_MODE_POOL, RC_MODE_MALLOC, RC_MODE_DEBUG};
static const char *const edge_mode_names[] = {"?", "pool", "malloc", "debug"};

/* Sizes around every interesting boundary. */
static const size_t edge_sizes[] = {
    1,   2,   7,   8,   9,   15,  16,  17,  31,  32,  33,   47,   48,   49,   63,   64,   65,
    100, 127, 128, 129, 255, 256, 257, 383, 384, 385, 447,  448,  449,  495,  496,  497,  511,
    512, 513, 514, 527, 528, 529, 767, 768, 769, 1000, 1024, 1025, 2047, 2048, 2049, 4096, 4097,
    10000};
#define EDGE_NSIZES (sizeof edge_sizes / sizeof edge_sizes[0])

static size_t edge_round16(size_t n) { return (n + 15) & ~(size_t)15; }
static size_t edge_class_size(size_t n) { return edge_round16(n ? n : 1); }

/* ---- Hooks with one call counter over every allocating hook -------------- */

typedef struct edge_hooks {
    test_hooks t;          /* bookkeeping (its own fault counters stay off) */
    rc_raw_hooks hooks;    /* what the heap is given */
    unsigned long calls;   /* allocating calls so far: arena, large, resize */
    unsigned long fail_at; /* this call number fails (0: none) */
    unsigned long injected;
    size_t ctrl; /* bytes of the heap's control block (live while the heap is) */
    size_t arenas_live, arenas_high;
} edge_hooks;

static bool edge_fail(edge_hooks *e) {
    unsigned long c = ++e->calls;
    if (e->fail_at && c == e->fail_at) {
        e->injected++;
        return true;
    }
    return false;
}

static void *edge_arena_alloc(void *ctx, size_t size, size_t align) {
    edge_hooks *e = ctx;
    if (edge_fail(e))
        return NULL;
    void *p = hook_arena_alloc(&e->t, size, align);
    if (p) {
        e->arenas_live += size / RC_ARENA_SIZE;
        if (e->arenas_live > e->arenas_high)
            e->arenas_high = e->arenas_live;
    }
    return p;
}

static void edge_arena_free(void *ctx, void *p, size_t size) {
    edge_hooks *e = ctx;
    e->arenas_live -= size / RC_ARENA_SIZE;
    hook_arena_free(&e->t, p, size);
}

static void *edge_large_alloc(void *ctx, size_t size) {
    edge_hooks *e = ctx;
    if (edge_fail(e))
        return NULL;
    return hook_large_alloc(&e->t, size);
}

static void edge_large_free(void *ctx, void *p, size_t size) {
    edge_hooks *e = ctx;
    hook_large_free(&e->t, p, size);
}

static void *edge_large_realloc(void *ctx, void *p, size_t old_size, size_t new_size) {
    edge_hooks *e = ctx;
    if (edge_fail(e))
        return NULL;
    return hook_large_realloc(&e->t, p, old_size, new_size);
}

static void edge_hooks_init(edge_hooks *e, bool with_realloc) {
    memset(e, 0, sizeof *e);
    test_hooks_init(&e->t, with_realloc);
    e->hooks.ctx = e;
    e->hooks.arena_alloc = edge_arena_alloc;
    e->hooks.arena_free = edge_arena_free;
    e->hooks.large_alloc = edge_large_alloc;
    e->hooks.large_free = edge_large_free;
    e->hooks.large_realloc = with_realloc ? edge_large_realloc : NULL;
}

static rc_heap *edge_heap(edge_hooks *e, rc_alloc_mode mode, size_t max_bytes, test_report_log *log) {
    rc_heap_config cfg;
    rc_heap_config_init(&cfg);
    cfg.mode = mode;
    cfg.hooks = &e->hooks;
    cfg.max_bytes = max_bytes;
    if (log) {
        memset(log, 0, sizeof *log);
        cfg.on_error = test_record_report;
        cfg.on_error_ctx = log;
    }
    rc_heap *h = rc_heap_new(&cfg);
    e->ctrl = e->t.bytes_live;
    return h;
}

/* bytes_from_os, arenas and the pool counts agree with the hooks. */
static void edge_check_os(const rc_heap *h, const edge_hooks *e) {
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(st.bytes_from_os + e->ctrl, e->t.bytes_live);
    CHECK_EQ(st.arenas, e->arenas_live);
    CHECK_EQ(st.arenas * (size_t)RC_ARENA_SIZE, e->t.bytes_live - e->ctrl - st.large_bytes);
    CHECK_EQ(st.arenas_high_water, e->arenas_high);
    CHECK_EQ(st.arenas_allocated - st.arenas_freed, st.arenas);
    CHECK_EQ(st.arena_bytes_ahead, 0);
    CHECK_EQ(e->t.mismatches, 0);
    CHECK_EQ(e->t.bad_requests, 0);
    size_t pools = 0;
    for (unsigned c = 0; c < RC_NUM_CLASSES; c++) {
        const rc_class_stats *cs = &st.classes[c];
        CHECK_EQ(cs->block_size, (c + 1) * 16u);
        pools += cs->pools;
        size_t per_pool = RC_POOL_SIZE / cs->block_size;
        CHECK_LE(cs->blocks_used + cs->blocks_free, cs->pools * per_pool);
        if (cs->pools)
            CHECK_GE(cs->blocks_used + cs->blocks_free, (cs->pools - 1) * per_pool + 1);
    }
    CHECK_EQ(pools + st.pools_free, st.arenas * EDGE_POOLS_PER_ARENA);
    CHECK_LE(st.bytes_from_os, st.bytes_high_water);
    if (st.max_bytes)
        CHECK_LE(st.bytes_from_os, st.max_bytes);
}

/* After the heap is destroyed nothing of it is left with the hooks. */
static void edge_check_gone(edge_hooks *e) {
    CHECK_EQ(e->t.bytes_live, 0);
    CHECK_EQ(e->t.nlive, 0);
    CHECK_EQ(e->t.mismatches, 0);
    CHECK_EQ(e->arenas_live, 0);
    test_hooks_fini(&e->t);
}

/* ---- An independent tally of what a heap should report -------------------- */

typedef struct edge_tally {
    size_t cls[RC_NUM_CLASSES];
    size_t large, large_payload, requested;
} edge_tally;

/* Count (sign +1) or uncount (-1) a block of n requested bytes whose memory
 * was obtained for `acct` bytes (different after a realloc in place). */
static void tally2(edge_tally *t, rc_alloc_mode mode, size_t acct, size_t n, int sign) {
    size_t eff = acct ? acct : 1;
    size_t raw = mode == RC_MODE_DEBUG ? eff + EDGE_DEBUG_OVERHEAD : eff;
    if (sign > 0)
        t->requested += mode == RC_MODE_DEBUG ? n : 0;
    else
        t->requested -= mode == RC_MODE_DEBUG ? n : 0;
    if (raw <= RC_SMALL_MAX && mode != RC_MODE_MALLOC) {
        t->cls[(raw - 1) / 16] += (size_t)sign;
    } else {
        t->large += (size_t)sign;
        t->large_payload += (size_t)sign * edge_round16(raw);
    }
}

static void tally(edge_tally *t, rc_alloc_mode mode, size_t n, int sign) { tally2(t, mode, n, n, sign); }

/* Does the implementation keep a block obtained for `acct` bytes in place
 * when resized to n (src/alloc/heap.c: rc_realloc, large_resize)? */
static bool edge_stays_impl(rc_alloc_mode mode, size_t acct, size_t n) {
    size_t a = acct ? acct : 1;
    if (mode == RC_MODE_DEBUG)
        return false;
    if (mode == RC_MODE_POOL && a <= RC_SMALL_MAX) {
        size_t have = edge_class_size(a);
        return n <= have && (edge_class_size(n) == have || n >= have - have / 4);
    }
    if (mode == RC_MODE_POOL && n <= RC_SMALL_MAX)
        return false;
    size_t have = edge_round16(a);
    return n <= have && n >= have / 2;
}

/* The heap's stats match the tally.  In debug mode blocks in the quarantine
 * still hold their memory, so only bytes_requested is exact unless
 * `flushed` (the quarantine was just emptied by rc_heap_trim). */
static void edge_check_tally(const rc_heap *h, rc_alloc_mode mode, const edge_tally *t, bool flushed) {
    rc_heap_stats st = test_stats(h);
    if (mode == RC_MODE_DEBUG)
        CHECK_EQ(st.bytes_requested, t->requested);
    if (mode == RC_MODE_DEBUG && !flushed)
        return;
    size_t in_use = t->large_payload;
    for (unsigned c = 0; c < RC_NUM_CLASSES; c++) {
        CHECK_MSG(st.classes[c].blocks_used == t->cls[c], "%s: class %u: %zu blocks used, tally %zu",
                  edge_mode_names[mode], c, st.classes[c].blocks_used, t->cls[c]);
        in_use += t->cls[c] * (c + 1) * 16u;
    }
    CHECK_EQ(st.large_blocks, t->large);
    CHECK_EQ(st.large_bytes, t->large_payload + t->large * EDGE_HDR);
    CHECK_EQ(st.bytes_in_use, in_use);
    if (mode != RC_MODE_DEBUG)
        CHECK_EQ(st.bytes_requested, in_use);
}

/* ---- A random workload with every kind of call ----------------------------- */

#define EDGE_SLOTS 32

typedef struct edge_slot {
    unsigned char *p;
    size_t n;    /* requested */
    size_t acct; /* what its memory was obtained for */
    uint32_t seed;
} edge_slot;

typedef struct edge_work {
    rc_alloc_mode mode;
    edge_slot s[EDGE_SLOTS];
    edge_tally t;
    unsigned long nulls;
    uint32_t next_seed;
} edge_work;

static size_t edge_random_size(test_rng *r) {
    size_t k = test_rng_below(r, 100);
    if (k < 65)
        return test_rng_range(r, 1, RC_SMALL_MAX);
    if (k < 80)
        return edge_sizes[test_rng_below(r, EDGE_NSIZES)];
    if (k < 97)
        return test_rng_range(r, RC_SMALL_MAX + 1, 2500);
    return test_rng_range(r, 2501, 20000);
}

static void edge_work_init(edge_work *w, rc_alloc_mode mode) {
    memset(w, 0, sizeof *w);
    w->mode = mode;
    w->next_seed = 1;
}

static void edge_slot_set(edge_work *w, edge_slot *s, unsigned char *p, size_t n) {
    s->p = p;
    s->n = n;
    s->acct = n;
    s->seed = w->next_seed++;
    test_fill(p, n, s->seed);
    tally(&w->t, w->mode, n, +1);
}

static void edge_slot_free(rc_heap *h, edge_work *w, edge_slot *s, bool sized) {
    CHECK_PATTERN(s->p, s->n, s->seed);
    tally2(&w->t, w->mode, s->acct, s->n, -1);
    if (sized)
        rc_free_sized(h, s->p, s->n);
    else
        rc_free(s->p);
    s->p = NULL;
}

static void edge_step(rc_heap *h, edge_work *w, test_rng *r) {
    edge_slot *s = &w->s[test_rng_below(r, EDGE_SLOTS)];
    if (!s->p) {
        size_t n = edge_random_size(r);
        unsigned char *p;
        if (test_rng_below(r, 4) == 0) {
            size_t per = test_rng_range(r, 1, 4);
            size_t count = n / per;
            n = count * per;
            p = rc_calloc(h, count, per);
            if (p)
                CHECK_ALL_BYTES(p, n, 0);
        } else {
            p = rc_malloc(h, n);
        }
        if (!p) {
            w->nulls++;
            return;
        }
        CHECK(test_aligned(p));
        CHECK_GE(rc_usable_size(p), n);
        edge_slot_set(w, s, p, n);
    } else if (test_rng_below(r, 3) == 0) {
        size_t n = edge_random_size(r);
        unsigned char *q = rc_realloc(h, s->p, n);
        if (!q) {
            w->nulls++;
            CHECK_PATTERN(s->p, s->n, s->seed); /* untouched */
            CHECK_GE(rc_usable_size(s->p), s->n);
            return;
        }
        size_t keep = n < s->n ? n : s->n;
        CHECK_PATTERN(q, keep, s->seed);
        CHECK(test_aligned(q));
        CHECK_GE(rc_usable_size(q), n);
        CHECK_PTR_EQ(rc_heap_of_block(q), h);
        size_t acct = q == s->p && edge_stays_impl(w->mode, s->acct, n) ? s->acct : n;
        tally2(&w->t, w->mode, s->acct, s->n, -1);
        edge_slot_set(w, s, q, n);
        s->acct = acct;
        tally2(&w->t, w->mode, n, n, -1);
        tally2(&w->t, w->mode, acct, n, +1);
    } else {
        edge_slot_free(h, w, s, test_rng_below(r, 2) == 0);
    }
}

static void edge_work_free_all(rc_heap *h, edge_work *w) {
    for (int i = 0; i < EDGE_SLOTS; i++)
        if (w->s[i].p)
            edge_slot_free(h, w, &w->s[i], (i & 1) != 0);
}

/* The heap hands out, resizes and takes back blocks of every size around
 * the boundaries, and ends with nothing in use. */
static void edge_check_usable(rc_heap *h) {
    unsigned char *b[EDGE_NSIZES];
    for (size_t i = 0; i < EDGE_NSIZES; i++) {
        b[i] = rc_malloc(h, edge_sizes[i]);
        if (CHECK_NOT_NULL(b[i]))
            test_fill(b[i], edge_sizes[i], (uint32_t)(500 + i));
    }
    for (size_t i = 0; i < EDGE_NSIZES; i++) {
        if (!b[i])
            continue;
        CHECK_PATTERN(b[i], edge_sizes[i], (uint32_t)(500 + i));
        size_t m = edge_sizes[EDGE_NSIZES - 1 - i];
        unsigned char *q = rc_realloc(h, b[i], m);
        if (CHECK_NOT_NULL(q)) {
            size_t keep = m < edge_sizes[i] ? m : edge_sizes[i];
            CHECK_PATTERN(q, keep, (uint32_t)(500 + i));
            b[i] = q;
        }
    }
    for (size_t i = 0; i < EDGE_NSIZES; i++)
        rc_free(b[i]);
}

/* ---- 1. rc_realloc across every boundary ----------------------------------- */

/* Must rc_realloc(p of `from` bytes, `to`) stay in place, as documented?
 * Pool mode: the same class, or a small shrink by less than a quarter
 * (docs/allocator.md); large blocks within half their size. */
static bool edge_must_stay(rc_alloc_mode mode, size_t from, size_t to) {
    if (mode == RC_MODE_DEBUG)
        return false; /* debug mode always moves (src/alloc/debug.c) */
    if (from <= RC_SMALL_MAX && to <= RC_SMALL_MAX && mode == RC_MODE_POOL) {
        size_t have = edge_class_size(from);
        return to <= have && (edge_class_size(to) == have || to >= have - have / 4);
    }
    if (from > RC_SMALL_MAX && to > RC_SMALL_MAX) {
        size_t have = edge_round16(from);
        return to <= have && to >= have / 2;
    }
    return false;
}

static void edge_realloc_sweep(rc_heap *h, rc_alloc_mode mode) {
    for (size_t i = 0; i < EDGE_NSIZES; i++) {
        for (size_t j = 0; j < EDGE_NSIZES; j++) {
            size_t from = edge_sizes[i], to = edge_sizes[j];
            uint32_t seed = (uint32_t)(i * 131 + j + 7);
            unsigned char *p = rc_malloc(h, from);
            if (!CHECK_NOT_NULL(p))
                return;
            test_fill(p, from, seed);
            unsigned char *q = rc_realloc(h, p, to);
            if (!CHECK_NOT_NULL(q)) {
                rc_free(p);
                continue;
            }
            size_t keep = from < to ? from : to;
            CHECK_MSG(test_verify(q, keep, seed) == keep, "%s: realloc %zu -> %zu lost byte %zu",
                      edge_mode_names[mode], from, to, test_verify(q, keep, seed));
            size_t us = rc_usable_size(q);
            CHECK_MSG(us >= to, "%s: realloc %zu -> %zu: usable %zu", edge_mode_names[mode], from, to, us);
            if (mode == RC_MODE_DEBUG)
                CHECK_EQ(us, to);
            if (mode == RC_MODE_POOL && to <= RC_SMALL_MAX)
                CHECK_EQ(us, q == p ? edge_class_size(from) : rc_good_size(to));
            CHECK(test_aligned(q));
            CHECK_PTR_EQ(rc_heap_of_block(q), h);
            if (edge_must_stay(mode, from, to))
                CHECK_MSG(q == p, "%s: realloc %zu -> %zu moved", edge_mode_names[mode], from, to);
            test_fill(q, us, seed + 1); /* every usable byte is the caller's */
            CHECK_PATTERN(q, us, seed + 1);
            if ((i + j) & 1)
                rc_free(q);
            else
                rc_free_sized(h, q, to);
        }
    }
}

static void test_realloc_every_boundary(void) {
    for (size_t m = 0; m < 3; m++) {
        rc_alloc_mode mode = edge_modes[m];
        /* default hooks */
        rc_heap *h = test_heap_new(mode);
        if (CHECK_NOT_NULL(h)) {
            edge_realloc_sweep(h, mode);
            rc_heap_trim(h);
            rc_heap_stats st = test_stats(h);
            CHECK_EQ(st.bytes_in_use, 0);
            CHECK_EQ(st.bytes_from_os, 0);
            CHECK_EQ(st.failed_allocs, 0);
            rc_heap_destroy(h);
        }
        /* counting hooks, with and without large_realloc */
        for (int with = 0; with < 2; with++) {
            edge_hooks e;
            edge_hooks_init(&e, with != 0);
            h = edge_heap(&e, mode, 0, NULL);
            if (!CHECK_NOT_NULL(h))
                continue;
            edge_realloc_sweep(h, mode);
            edge_check_os(h, &e);
            CHECK_EQ(test_stats(h).failed_allocs, 0);
            if (with && mode != RC_MODE_DEBUG)
                CHECK_GT(e.t.resize.calls, 0); /* the hook was used */
            if (!with)
                CHECK_EQ(e.t.resize.calls, 0);
            size_t before = e.t.bytes_live;
            size_t r = rc_heap_trim(h);
            CHECK_EQ(r, before - e.t.bytes_live);
            CHECK_EQ(e.t.bytes_live, e.ctrl);
            rc_heap_destroy(h);
            edge_check_gone(&e);
        }
    }
}

/* ---- 2. large_realloc hooks that fail and that move ---------------------- */

static void test_realloc_hook_fails_and_moves(void) {
    for (size_t m = 0; m < 2; m++) { /* debug mode never resizes through the hook */
        rc_alloc_mode mode = edge_modes[m];
        edge_hooks e;
        edge_hooks_init(&e, true);
        rc_heap *h = edge_heap(&e, mode, 0, NULL);
        if (!CHECK_NOT_NULL(h))
            continue;
        unsigned char *a = rc_malloc(h, 3000), *b = rc_malloc(h, 10000), *c = rc_malloc(h, 5000);
        if (!CHECK_NOT_NULL(a) || !CHECK_NOT_NULL(b) || !CHECK_NOT_NULL(c))
            return;
        test_fill(a, 3000, 1);
        test_fill(b, 10000, 2);
        test_fill(c, 5000, 3);
        rc_heap_stats st0 = test_stats(h);
        /* grow the middle block: the hook moves it */
        unsigned long calls = e.t.resize.calls;
        unsigned char *b2 = rc_realloc(h, b, 30000);
        CHECK_EQ(e.t.resize.calls, calls + 1);
        if (!CHECK_NOT_NULL(b2))
            return;
        CHECK_PTR_NE(b2, b); /* this hook always moves */
        CHECK_PATTERN(b2, 10000, 2);
        rc_heap_stats st1 = test_stats(h);
        CHECK_EQ(st1.bytes_from_os, st0.bytes_from_os + edge_round16(30000) - 10000);
        CHECK_EQ(st1.large_blocks, 3);
        CHECK_EQ(st1.bytes_high_water + e.ctrl, e.t.bytes_high);
        edge_check_os(h, &e);
        /* the hook fails: NULL, the block untouched, one failed request */
        e.fail_at = e.calls + 1;
        CHECK_NULL(rc_realloc(h, b2, 60000));
        CHECK_EQ(e.injected, 1);
        CHECK_EQ(test_stats(h).failed_allocs, 1);
        CHECK_PATTERN(b2, 10000, 2);
        CHECK_EQ(test_stats(h).bytes_from_os, st1.bytes_from_os);
        /* a shrink below half goes through the hook too, and may fail */
        e.fail_at = e.calls + 1;
        CHECK_NULL(rc_realloc(h, b2, 2000));
        CHECK_EQ(test_stats(h).failed_allocs, 2);
        CHECK_PATTERN(b2, 10000, 2);
        unsigned char *b3 = rc_realloc(h, b2, 2000);
        if (CHECK_NOT_NULL(b3)) {
            CHECK_PATTERN(b3, 2000, 2);
            CHECK_EQ(test_stats(h).bytes_from_os, st0.bytes_from_os - 10000 + 2000);
            b2 = b3;
        }
        /* a shrink within half stays, without calling the hook */
        calls = e.t.resize.calls;
        CHECK_PTR_EQ(rc_realloc(h, b2, 1100), b2);
        CHECK_EQ(e.t.resize.calls, calls);
        edge_check_os(h, &e);
        /* the neighbours' links were patched: free in an order that walks them */
        CHECK_PATTERN(a, 3000, 1);
        CHECK_PATTERN(c, 5000, 3);
        rc_free(c);
        rc_free(a);
        edge_check_os(h, &e);
        rc_free(b2);
        CHECK_EQ(test_stats(h).large_blocks, 0);
        /* now list with many blocks, resize each through the hook, destroy */
        unsigned char *v[20];
        for (int i = 0; i < 20; i++)
            v[i] = rc_malloc(h, 1000 + (size_t)i * 100);
        for (int i = 0; i < 20; i += 3)
            if (v[i])
                v[i] = rc_realloc(h, v[i], 50000) ? NULL : v[i]; /* moved: forget it */
        edge_check_os(h, &e);
        rc_heap_destroy(h);
        edge_check_gone(&e);
    }
}

/* ---- 3. max_bytes at the boundary --------------------------------------------- */

static void test_max_bytes_exact_boundary(void) {
    for (size_t m = 0; m < 3; m++) {
        rc_alloc_mode mode = edge_modes[m];
        edge_hooks e;
        edge_hooks_init(&e, m == 0);
        rc_heap *h = edge_heap(&e, mode, 0, NULL);
        if (!CHECK_NOT_NULL(h))
            continue;
        size_t raw_extra = mode == RC_MODE_DEBUG ? EDGE_DEBUG_OVERHEAD : 0;
        /* a large block's cost: header + payload rounded to 16 */
        size_t n = 5000;
        size_t cost = EDGE_HDR + edge_round16(n + raw_extra);
        size_t base = test_stats(h).bytes_from_os;
        rc_heap_set_max_bytes(h, base + cost - 1);
        CHECK_NULL(rc_malloc(h, n));
        CHECK_EQ(test_stats(h).failed_allocs, 1);
        rc_heap_set_max_bytes(h, base + cost);
        unsigned char *p = rc_malloc(h, n);
        if (!CHECK_NOT_NULL(p))
            continue;
        test_fill(p, n, 9);
        CHECK_EQ(test_stats(h).bytes_from_os, base + cost);
        CHECK_NULL(rc_malloc(h, 600)); /* one more byte of anything is refused */
        CHECK_EQ(test_stats(h).failed_allocs, 2);
        /* growth by realloc at the boundary: with the realloc hook the cap
         * must hold the new block, without it old and new at once */
        size_t n2 = 7000;
        size_t cost2 = EDGE_HDR + edge_round16(n2 + raw_extra);
        size_t need = e.hooks.large_realloc ? base + cost2 : base + cost + cost2;
        if (mode != RC_MODE_DEBUG) {
            rc_heap_set_max_bytes(h, need - 1);
            CHECK_NULL(rc_realloc(h, p, n2));
            CHECK_EQ(test_stats(h).failed_allocs, 3);
            CHECK_PATTERN(p, n, 9);
            rc_heap_set_max_bytes(h, need);
            unsigned char *q = rc_realloc(h, p, n2);
            if (CHECK_NOT_NULL(q)) {
                CHECK_PATTERN(q, n, 9);
                test_fill(q, n2, 9);
                p = q;
                n = n2;
                cost = cost2;
            }
            CHECK_EQ(test_stats(h).bytes_from_os, base + cost);
        } else {
            /* debug mode holds both blocks while it copies */
            rc_heap_set_max_bytes(h, base + cost + cost2 - 1);
            CHECK_NULL(rc_realloc(h, p, n2));
            CHECK_PATTERN(p, n, 9);
            rc_heap_set_max_bytes(h, base + cost + cost2);
            unsigned char *q = rc_realloc(h, p, n2);
            if (CHECK_NOT_NULL(q)) {
                CHECK_PATTERN(q, n, 9);
                test_fill(q, n2, 9);
                p = q;
                n = n2;
            }
        }
        edge_check_os(h, &e);
        /* lowered below what the heap holds: nothing more from the system,
         * but the heap keeps working and frees */
        rc_heap_set_max_bytes(h, 1);
        uint64_t failed = test_stats(h).failed_allocs;
        CHECK_NULL(rc_malloc(h, 100000));
        CHECK_EQ(test_stats(h).failed_allocs, failed + 1);
        CHECK_PATTERN(p, n, 9);
        rc_free(p);
        rc_heap_trim(h);
        CHECK_EQ(test_stats(h).bytes_from_os, 0);
        if (mode != RC_MODE_MALLOC) {
            /* an arena: exactly RC_ARENA_SIZE fits, one byte less does not */
            rc_heap_set_max_bytes(h, RC_ARENA_SIZE - 1);
            CHECK_NULL(rc_malloc(h, 16));
            CHECK_EQ(test_stats(h).failed_allocs, failed + 2);
            CHECK_EQ(test_stats(h).arenas, 0);
            rc_heap_set_max_bytes(h, RC_ARENA_SIZE);
            p = rc_malloc(h, 16);
            CHECK_NOT_NULL(p);
            CHECK_EQ(test_stats(h).bytes_from_os, RC_ARENA_SIZE);
            /* the arena is full of room, yet any large block is refused */
            CHECK_NULL(rc_malloc(h, RC_SMALL_MAX + 1));
            unsigned char *s[40];
            for (int i = 0; i < 40; i++) /* other classes come from the same arena */
                CHECK_NOT_NULL(s[i] = rc_malloc(h, (size_t)(i % 20) * 16 + 1));
            for (int i = 0; i < 40; i++)
                rc_free(s[i]);
            rc_free(p);
        } else {
            /* malloc mode: every block is large, 1 byte costs a 64-byte block */
            rc_heap_set_max_bytes(h, EDGE_HDR + 16 - 1);
            CHECK_NULL(rc_malloc(h, 1));
            rc_heap_set_max_bytes(h, EDGE_HDR + 16);
            p = rc_malloc(h, 16);
            CHECK_NOT_NULL(p);
            CHECK_NULL(rc_malloc(h, 1));
            rc_free(p);
        }
        rc_heap_set_max_bytes(h, 0);
        edge_check_usable(h);
        edge_check_os(h, &e);
        rc_heap_destroy(h);
        edge_check_gone(&e);
    }
}

/* ---- 4. Hooks failing their k-th call, for every k ------------------------ */

#define EDGE_FAIL_STEPS 250

/* Run the workload with the k-th allocating hook call failing; false once k
 * is past the workload's last call. */
static bool edge_fail_kth(rc_alloc_mode mode, bool with_realloc, unsigned long k) {
    edge_hooks e;
    edge_hooks_init(&e, with_realloc);
    test_report_log log;
    rc_heap *h = edge_heap(&e, mode, 0, &log);
    if (!CHECK_NOT_NULL(h))
        return false;
    e.fail_at = e.calls + k;
    edge_work w;
    edge_work_init(&w, mode);
    test_rng r = test_rng_seed(0xE1 + (uint64_t)mode);
    for (int i = 0; i < EDGE_FAIL_STEPS; i++)
        edge_step(h, &w, &r);
    bool hit = e.injected > 0;
    CHECK_MSG(w.nulls == e.injected, "%s k=%lu: %lu NULLs for %lu injected failures",
              edge_mode_names[mode], k, w.nulls, e.injected);
    CHECK_EQ(test_stats(h).failed_allocs, e.injected);
    edge_check_os(h, &e);
    edge_check_tally(h, mode, &w.t, false);
    e.fail_at = 0;
    edge_check_usable(h);
    edge_work_free_all(h, &w);
    size_t before = e.t.bytes_live;
    size_t r_trim = rc_heap_trim(h);
    CHECK_EQ(r_trim, before - e.t.bytes_live);
    edge_check_tally(h, mode, &w.t, true);
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(st.bytes_in_use, 0);
    CHECK_EQ(st.bytes_from_os, 0);
    CHECK_EQ(st.arenas, 0);
    CHECK_EQ(log.count, 0);
    edge_check_os(h, &e);
    rc_heap_destroy(h);
    edge_check_gone(&e);
    return hit;
}

static void test_hooks_fail_every_kth_call(void) {
    for (size_t m = 0; m < 3; m++) {
        for (int with = 0; with < 2; with++) {
            unsigned long k = 1;
            while (edge_fail_kth(edge_modes[m], with != 0, k) && k < 2000)
                k++;
            CHECK_GT(k, 5); /* the workload did make calls */
        }
    }
}

/* ---- 5. An arena hook returning misaligned memory -------------------------- */

typedef struct misaligned_ctx {
    size_t offset; /* added to an aligned address */
    void *ret[64], *raw[64];
    int nlive;
    unsigned long arena_calls, arena_frees, bad_frees;
    size_t large_live;
} misaligned_ctx;

static void *mis_arena_alloc(void *ctx, size_t size, size_t align) {
    misaligned_ctx *c = ctx;
    c->arena_calls++;
    if (c->nlive == 64)
        return NULL;
    char *raw = aligned_alloc(align, size + align);
    if (!raw)
        return NULL;
    c->raw[c->nlive] = raw;
    c->ret[c->nlive] = raw + c->offset;
    return c->ret[c->nlive++];
}

static void mis_arena_free(void *ctx, void *p, size_t size) {
    misaligned_ctx *c = ctx;
    c->arena_frees++;
    for (int i = 0; i < c->nlive; i++) {
        if (c->ret[i] == p) {
            if (size != RC_ARENA_SIZE)
                c->bad_frees++;
            free(c->raw[i]);
            c->nlive--;
            c->ret[i] = c->ret[c->nlive];
            c->raw[i] = c->raw[c->nlive];
            return;
        }
    }
    c->bad_frees++;
}

static void *mis_large_alloc(void *ctx, size_t size) {
    misaligned_ctx *c = ctx;
    void *p = aligned_alloc(16, edge_round16(size));
    if (p)
        c->large_live += size;
    return p;
}

static void mis_large_free(void *ctx, void *p, size_t size) {
    misaligned_ctx *c = ctx;
    c->large_live -= size;
    free(p);
}

static void test_misaligned_arena_hook(void) {
    const rc_alloc_mode modes[] = {RC_MODE_POOL, RC_MODE_DEBUG};
    for (int m = 0; m < 2; m++) {
        misaligned_ctx c;
        memset(&c, 0, sizeof c);
        c.offset = 4096;
        rc_raw_hooks hooks = {&c, mis_arena_alloc, mis_arena_free, mis_large_alloc, mis_large_free, NULL};
        rc_heap_config cfg;
        rc_heap_config_init(&cfg);
        cfg.mode = modes[m];
        cfg.hooks = &hooks;
        rc_heap *h = rc_heap_new(&cfg);
        if (!CHECK_NOT_NULL(h))
            continue;
        size_t ctrl = c.large_live;
        CHECK_NULL(rc_malloc(h, 16));
        CHECK_EQ(c.arena_calls, 1);
        CHECK_EQ(c.arena_frees, 1); /* given straight back */
        CHECK_EQ(c.nlive, 0);
        rc_heap_stats st = test_stats(h);
        CHECK_EQ(st.failed_allocs, 1);
        CHECK_EQ(st.arenas, 0);
        CHECK_EQ(st.arenas_allocated, 0);
        CHECK_EQ(st.bytes_from_os, 0);
        CHECK_NULL(rc_calloc(h, 4, 8));
        CHECK_EQ(test_stats(h).failed_allocs, 2);
        /* large blocks do not need arenas */
        unsigned char *big = rc_malloc(h, 4000);
        if (CHECK_NOT_NULL(big))
            test_fill(big, 4000, 4);
        /* aligned again: the heap works */
        c.offset = 0;
        unsigned char *s = rc_malloc(h, 100);
        CHECK_NOT_NULL(s);
        CHECK_EQ(test_stats(h).arenas, 1);
        /* misaligned for the second arena: fill the first one up */
        c.offset = RC_ARENA_SIZE / 2;
        unsigned char **blk = malloc(4096 * sizeof *blk);
        size_t nb = 0;
        while (nb < 4096 && (blk[nb] = rc_malloc(h, 400)) != NULL)
            nb++;
        CHECK_LT(nb, 4096);
        CHECK_GT(nb, 1000);
        st = test_stats(h);
        CHECK_EQ(st.arenas, 1);
        CHECK_EQ(st.failed_allocs, 3);
        CHECK_EQ(st.bytes_from_os, RC_ARENA_SIZE + st.large_bytes);
        CHECK_EQ(c.nlive, 1);
        /* free some, allocate one: served without a new arena (debug mode
         * keeps the last RC_DEBUG_QUARANTINE freed blocks out of use) */
        for (int i = 0; i <= (modes[m] == RC_MODE_DEBUG ? RC_DEBUG_QUARANTINE : 0); i++)
            rc_free(blk[--nb]);
        CHECK_NOT_NULL(blk[nb] = rc_malloc(h, 400));
        nb++;
        c.offset = 0;
        CHECK_NOT_NULL(blk[nb] = rc_malloc(h, 400));
        nb++;
        CHECK_EQ(test_stats(h).arenas, 2);
        for (size_t i = 0; i < nb; i++)
            rc_free(blk[i]);
        free(blk);
        rc_free(s);
        if (big)
            CHECK_PATTERN(big, 4000, 4);
        rc_free(big);
        rc_heap_trim(h);
        CHECK_EQ(test_stats(h).bytes_from_os, 0);
        CHECK_EQ(c.nlive, 0);
        CHECK_EQ(c.large_live, ctrl);
        rc_heap_destroy(h);
        CHECK_EQ(c.nlive, 0);
        CHECK_EQ(c.large_live, 0);
        CHECK_EQ(c.bad_frees, 0);
    }
}

/* ---- 6. Stats against a tally; trim against the hooks ---------------------- */

static void test_stats_and_trim_against_hooks(void) {
    for (size_t m = 0; m < 3; m++) {
        rc_alloc_mode mode = edge_modes[m];
        edge_hooks e;
        edge_hooks_init(&e, true);
        rc_heap *h = edge_heap(&e, mode, 0, NULL);
        if (!CHECK_NOT_NULL(h))
            continue;
        edge_work w[6];
        test_rng r = test_rng_seed(0x5747 + m);
        for (int i = 0; i < 6; i++)
            edge_work_init(&w[i], mode);
        for (int round = 0; round < 12; round++) {
            for (int i = 0; i < 600; i++)
                edge_step(h, &w[test_rng_below(&r, 6)], &r);
            /* the tallies of all six workloads together */
            edge_tally all;
            memset(&all, 0, sizeof all);
            for (int i = 0; i < 6; i++) {
                for (unsigned c = 0; c < RC_NUM_CLASSES; c++)
                    all.cls[c] += w[i].t.cls[c];
                all.large += w[i].t.large;
                all.large_payload += w[i].t.large_payload;
                all.requested += w[i].t.requested;
            }
            edge_check_tally(h, mode, &all, false);
            edge_check_os(h, &e);
            /* the hook resizes and never overlaps: the high water is exact */
            CHECK_EQ(test_stats(h).bytes_high_water + e.ctrl, e.t.bytes_high);
            if (round % 3 == 2) {
                /* free two workloads, then trim */
                edge_work_free_all(h, &w[round % 6]);
                edge_work_free_all(h, &w[(round + 1) % 6]);
                size_t before = e.t.bytes_live;
                size_t back = rc_heap_trim(h);
                CHECK_EQ(back, before - e.t.bytes_live);
                memset(&all, 0, sizeof all);
                for (int i = 0; i < 6; i++) {
                    for (unsigned c = 0; c < RC_NUM_CLASSES; c++)
                        all.cls[c] += w[i].t.cls[c];
                    all.large += w[i].t.large;
                    all.large_payload += w[i].t.large_payload;
                    all.requested += w[i].t.requested;
                }
                edge_check_tally(h, mode, &all, true);
                edge_check_os(h, &e);
                /* after a trim no pool is empty and no arena idle */
                rc_heap_stats st = test_stats(h);
                size_t used = 0;
                for (unsigned c = 0; c < RC_NUM_CLASSES; c++) {
                    CHECK_GE(st.classes[c].blocks_used, st.classes[c].pools);
                    used += st.classes[c].blocks_used;
                }
                CHECK_GE(used, st.arenas);
                CHECK_EQ(rc_heap_trim(h), 0); /* nothing more to give */
            }
        }
        for (int i = 0; i < 6; i++)
            edge_work_free_all(h, &w[i]);
        size_t before = e.t.bytes_live;
        CHECK_EQ(rc_heap_trim(h), before - e.ctrl);
        CHECK_EQ(e.t.bytes_live, e.ctrl);
        rc_heap_destroy(h);
        edge_check_gone(&e);
    }
}

/* Without the large_realloc hook a large block grows by alloc + copy +
 * free, so for a moment the heap holds both blocks from the system: the
 * cap must leave room for both, and the high water counts both (it once
 * checked, and counted, the difference only). */
static void test_resize_without_hook_within_cap(void) {
    edge_hooks e;
    edge_hooks_init(&e, false);
    rc_heap *h = edge_heap(&e, RC_MODE_POOL, 0, NULL);
    if (!CHECK_NOT_NULL(h))
        return;
    unsigned char *p = rc_malloc(h, 100000);
    if (!CHECK_NOT_NULL(p))
        return;
    test_fill(p, 100000, 31);
    size_t held = test_stats(h).bytes_from_os;
    size_t new_cost = EDGE_HDR + edge_round16(100016);
    /* room for the growth alone is not enough: refused, the block intact */
    rc_heap_set_max_bytes(h, held + 16);
    CHECK_NULL(rc_realloc(h, p, 100016));
    CHECK_PATTERN(p, 100000, 31);
    CHECK_EQ(test_stats(h).failed_allocs, 1);
    /* room for old and new at once: done */
    rc_heap_set_max_bytes(h, held + new_cost);
    unsigned char *q = rc_realloc(h, p, 100016);
    if (CHECK_NOT_NULL(q)) {
        CHECK_PATTERN(q, 100000, 31);
        p = q;
    }
    /* the system never held more than the cap for this heap... */
    CHECK_LE(e.t.bytes_high - e.ctrl, held + new_cost);
    /* ...and the high water says what it held at most: both blocks */
    CHECK_EQ(test_stats(h).bytes_high_water, e.t.bytes_high - e.ctrl);
    CHECK_EQ(test_stats(h).bytes_high_water, held + new_cost);
    rc_free(p);
    rc_heap_destroy(h);
    edge_check_gone(&e);
}

/* ---- 7. rc_free_sized misuse in pool and malloc modes ---------------------- */

static void test_free_sized_misuse_falls_back(void) {
    const rc_alloc_mode modes[] = {RC_MODE_POOL, RC_MODE_MALLOC};
    for (int m = 0; m < 2; m++) {
        test_report_log l1, l2, lm, ld;
        rc_heap *h1 = test_heap_with_log(modes[m], &l1);
        rc_heap *h2 = test_heap_with_log(RC_MODE_POOL, &l2);
        rc_heap *hm = test_heap_with_log(RC_MODE_MALLOC, &lm);
        rc_heap *hd = test_heap_with_log(RC_MODE_DEBUG, &ld);
        if (!CHECK_NOT_NULL(h1) || !CHECK_NOT_NULL(h2) || !CHECK_NOT_NULL(hm) || !CHECK_NOT_NULL(hd))
            return;
        /* h2 holds some blocks of every class, so its caches are live */
        void *keep2[RC_NUM_CLASSES];
        for (unsigned c = 0; c < RC_NUM_CLASSES; c++)
            keep2[c] = rc_malloc(h2, (c + 1) * 16);
        edge_tally t;
        memset(&t, 0, sizeof t);
        for (int variant = 0; variant < 10; variant++) {
            for (size_t i = 0; i < EDGE_NSIZES; i++) {
                size_t s = edge_sizes[i];
                unsigned char *p = rc_malloc(h1, s);
                if (!CHECK_NOT_NULL(p))
                    return;
                test_fill(p, s, (uint32_t)i);
                rc_heap_stats s2 = test_stats(h2);
                size_t us = rc_usable_size(p);
                switch (variant) {
                case 0: rc_free_sized(h1, p, s); break;               /* right */
                case 1: rc_free_sized(h1, p, us); break;              /* right: usable */
                case 2: rc_free_sized(h2, p, s); break;               /* wrong heap */
                case 3: rc_free_sized(h1, p, us + 1); break;          /* past usable */
                case 4: rc_free_sized(h1, p, s > 16 ? s - 16 : 0); break; /* too small */
                case 5: rc_free_sized(h1, p, 0); break;
                case 6: rc_free_sized(h1, p, SIZE_MAX); break;
                case 7: rc_free_sized(hm, p, s); break;               /* malloc-mode heap */
                case 8: rc_free_sized(h1, p, s <= RC_SMALL_MAX ? RC_SMALL_MAX + 1 : 16); break;
                default: rc_free_sized(h2, p, us + 16); break;        /* both wrong */
                }
                edge_check_tally(h1, modes[m], &t, false);
                rc_heap_stats s2b = test_stats(h2);
                CHECK_MSG(memcmp(&s2, &s2b, sizeof s2) == 0,
                          "variant %d, size %zu: the wrong heap's stats changed", variant, s);
            }
            /* none of h1's blocks went to h2's caches */
            void *probe[64];
            for (int j = 0; j < 64; j++) {
                probe[j] = rc_malloc(h2, edge_sizes[(size_t)j % EDGE_NSIZES]);
                CHECK_PTR_EQ(rc_heap_of_block(probe[j]), h2);
            }
            for (int j = 0; j < 64; j++)
                rc_free(probe[j]);
        }
        CHECK_EQ(l1.count + l2.count + lm.count, 0);
        /* a debug heap is strict: wrong heap reported, block left alone */
        unsigned char *p = rc_malloc(h1, 40);
        rc_free_sized(hd, p, 40);
        CHECK_EQ(ld.count, 1);
        if (ld.count == 1)
            CHECK_EQ(ld.r[0].kind, RC_ERR_WRONG_HEAP);
        tally(&t, modes[m], 40, +1); /* still h1's, still live */
        edge_check_tally(h1, modes[m], &t, false);
        CHECK_PTR_EQ(rc_heap_of_block(p), h1);
        rc_free(p);
        tally(&t, modes[m], 40, -1);
        edge_check_tally(h1, modes[m], &t, false);
        for (unsigned c = 0; c < RC_NUM_CLASSES; c++)
            rc_free_sized(h2, keep2[c], (c + 1) * 16);
        rc_heap_trim(h1);
        CHECK_EQ(test_stats(h1).bytes_from_os, 0);
        edge_check_usable(h1);
        rc_heap_destroy(h1);
        rc_heap_destroy(h2);
        rc_heap_destroy(hm);
        rc_heap_destroy(hd);
    }
}

/* ---- 8. rc_good_size against what rc_malloc hands out --------------------- */

static void test_good_size_0_to_600(void) {
    rc_heap *hs[3];
    for (int m = 0; m < 3; m++)
        hs[m] = test_heap_new(edge_modes[m]);
    size_t prev = 0;
    for (size_t n = 0; n <= 600; n++) {
        size_t g = rc_good_size(n);
        CHECK_GE(g, n);
        CHECK_GE(g, prev); /* monotonic */
        prev = g;
        if (n <= RC_SMALL_MAX) {
            CHECK_EQ(g, edge_class_size(n));
            CHECK_EQ(rc_good_size(g), g); /* a class size is its own good size */
        } else {
            CHECK_EQ(g, n);
        }
        for (int m = 0; m < 3; m++) {
            if (!hs[m])
                continue;
            unsigned char *p = rc_malloc(hs[m], n);
            if (!CHECK_NOT_NULL(p))
                continue;
            size_t us = rc_usable_size(p);
            if (edge_modes[m] == RC_MODE_POOL && n <= RC_SMALL_MAX)
                CHECK_MSG(us == g, "n=%zu: usable %zu, good size %zu", n, us, g);
            if (edge_modes[m] == RC_MODE_DEBUG)
                CHECK_EQ(us, n ? n : 1);
            CHECK_GE(us, n);
            memset(p, 0x77, us);
            if (edge_modes[m] == RC_MODE_POOL) {
                /* growing to the good size stays in place */
                CHECK_PTR_EQ(rc_realloc(hs[m], p, g), p);
            }
            rc_free(p);
        }
    }
    for (int m = 0; m < 3; m++) {
        rc_heap_trim(hs[m]);
        CHECK_EQ(test_stats(hs[m]).bytes_from_os, 0);
        rc_heap_destroy(hs[m]);
    }
}

/* ---- 9. rc_calloc: overflow, huge, zero, and zeroed reuse ------------------ */

/* The square root of SIZE_MAX + 1 (2^32, or 2^16 with 32-bit size_t): its
 * square just overflows. */
#define SIZE_MAX_ROOT ((size_t)1 << (sizeof(size_t) * CHAR_BIT / 2))

static void test_calloc_overflow_and_reuse(void) {
    static const size_t bad[][2] = {
        {SIZE_MAX, 2}, {2, SIZE_MAX}, {SIZE_MAX / 2 + 1, 2}, {SIZE_MAX_ROOT, SIZE_MAX_ROOT},
        {SIZE_MAX, SIZE_MAX}, {SIZE_MAX / 3 + 1, 3}, {1, SIZE_MAX}, {SIZE_MAX, 1},
        {SIZE_MAX / 2 + 1, 1}, {SIZE_MAX / 16, 16}};
    for (size_t m = 0; m < 3; m++) {
        rc_alloc_mode mode = edge_modes[m];
        edge_hooks e;
        edge_hooks_init(&e, true);
        rc_heap *h = edge_heap(&e, mode, 0, NULL);
        if (!CHECK_NOT_NULL(h))
            continue;
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            CHECK_NULL(rc_calloc(h, bad[i][0], bad[i][1]));
            CHECK_EQ(test_stats(h).failed_allocs, i + 1);
        }
        CHECK_EQ(e.t.bad_requests, 0);
        CHECK_EQ(test_stats(h).bytes_from_os, 0);
        /* zero-sized products: unique pointers */
        void *z1 = rc_calloc(h, 0, SIZE_MAX), *z2 = rc_calloc(h, SIZE_MAX, 0), *z3 = rc_calloc(h, 0, 0);
        CHECK_NOT_NULL(z1);
        CHECK_NOT_NULL(z2);
        CHECK_NOT_NULL(z3);
        CHECK(z1 != z2 && z2 != z3 && z1 != z3);
        rc_free(z1);
        rc_free(z2);
        rc_free(z3);
        /* dirty blocks come back zeroed */
        for (int round = 0; round < 2; round++) {
            for (size_t i = 0; i < EDGE_NSIZES; i++) {
                size_t n = edge_sizes[i];
                unsigned char *d[4];
                for (int j = 0; j < 4; j++) {
                    d[j] = rc_malloc(h, n);
                    if (d[j])
                        memset(d[j], 0xAB, rc_usable_size(d[j]));
                }
                for (int j = 0; j < 4; j++)
                    rc_free(d[j]);
                size_t per = (n % 4 == 0) ? 4 : 1;
                unsigned char *c1 = rc_calloc(h, n / per, per);
                unsigned char *c2 = rc_calloc(h, 1, n);
                if (CHECK_NOT_NULL(c1))
                    CHECK_ALL_BYTES(c1, n, 0);
                if (CHECK_NOT_NULL(c2))
                    CHECK_ALL_BYTES(c2, n, 0);
                rc_free(c1);
                rc_free(c2);
            }
        }
        CHECK_EQ(test_stats(h).failed_allocs, sizeof bad / sizeof bad[0]);
        edge_check_os(h, &e);
        rc_heap_destroy(h);
        edge_check_gone(&e);
    }
}

/* ---- 10. Many heaps at once ------------------------------------------------- */

#define EDGE_HEAPS 100
#define EDGE_PER_HEAP 12

static void test_hundred_heaps(void) {
    rc_heap *h[EDGE_HEAPS];
    unsigned char *b[EDGE_HEAPS][EDGE_PER_HEAP];
    size_t n[EDGE_HEAPS][EDGE_PER_HEAP];
    void *order[EDGE_HEAPS];
    test_rng r = test_rng_seed(100);
    for (int i = 0; i < EDGE_HEAPS; i++) {
        h[i] = test_heap_new(edge_modes[i % 3]);
        if (!CHECK_NOT_NULL(h[i]))
            return;
        order[i] = (void *)(uintptr_t)i;
    }
    /* interleaved: block j of every heap, then block j + 1 */
    for (int j = 0; j < EDGE_PER_HEAP; j++) {
        for (int i = 0; i < EDGE_HEAPS; i++) {
            n[i][j] = edge_random_size(&r);
            b[i][j] = rc_malloc(h[i], n[i][j]);
            if (CHECK_NOT_NULL(b[i][j]))
                test_fill(b[i][j], n[i][j], (uint32_t)(i * 100 + j));
        }
    }
    /* resize half of them, interleaved too */
    for (int j = 0; j < EDGE_PER_HEAP; j += 2) {
        for (int i = 0; i < EDGE_HEAPS; i++) {
            size_t m = edge_random_size(&r);
            unsigned char *q = rc_realloc(h[i], b[i][j], m);
            if (!CHECK_NOT_NULL(q))
                continue;
            size_t keep = m < n[i][j] ? m : n[i][j];
            CHECK_PATTERN(q, keep, (uint32_t)(i * 100 + j));
            test_fill(q, m, (uint32_t)(i * 100 + j));
            b[i][j] = q;
            n[i][j] = m;
        }
    }
    test_shuffle(&r, order, EDGE_HEAPS);
    for (int k = 0; k < EDGE_HEAPS; k++) {
        int dead = (int)(uintptr_t)order[k];
        /* half the heaps free some blocks first; all die with live blocks */
        if (k & 1)
            for (int j = 0; j < EDGE_PER_HEAP; j += 3)
                rc_free(b[dead][j]);
        rc_heap_destroy(h[dead]);
        h[dead] = NULL;
        if (k % 10 != 9 && k != EDGE_HEAPS - 1)
            continue;
        /* the others are untouched */
        for (int i = 0; i < EDGE_HEAPS; i++) {
            if (!h[i])
                continue;
            for (int j = 0; j < EDGE_PER_HEAP; j++) {
                CHECK_PATTERN(b[i][j], n[i][j], (uint32_t)(i * 100 + j));
                CHECK_PTR_EQ(rc_heap_of_block(b[i][j]), h[i]);
                CHECK_GE(rc_usable_size(b[i][j]), n[i][j]);
            }
            rc_heap_stats st = test_stats(h[i]);
            if (rc_heap_mode(h[i]) == RC_MODE_DEBUG) {
                size_t req = 0;
                for (int j = 0; j < EDGE_PER_HEAP; j++)
                    req += n[i][j];
                CHECK_EQ(st.bytes_requested, req);
            }
        }
    }
}

/* ---- 11. rc_heap_claim handover between threads ---------------------------- */

typedef struct edge_handover {
    rc_heap *h;
    test_report_log *log;
    void *mine[50];   /* the main thread's blocks */
    void *theirs[50]; /* the worker's */
    int reports_before_claim, reports_after_claim;
} edge_handover;

static void *edge_handover_worker(void *arg) {
    edge_handover *x = arg;
    /* not the owner yet: a debug heap reports and keeps the block (a pool
     * heap does not check: that would be a real free) */
    if (rc_heap_mode(x->h) == RC_MODE_DEBUG)
        rc_free(x->mine[0]);
    x->reports_before_claim = x->log->count;
    rc_heap_claim(x->h);
    for (int i = 0; i < 50; i++)
        rc_free(x->mine[i]); /* mine[0] too: it was left alone */
    for (int i = 0; i < 50; i++) {
        x->theirs[i] = rc_malloc(x->h, (size_t)(i * 37 % 700) + 1);
        if (x->theirs[i])
            memset(x->theirs[i], i, (size_t)(i * 37 % 700) + 1);
    }
    x->reports_after_claim = x->log->count;
    return NULL;
}

static void test_claim_handover(void) {
    const rc_alloc_mode modes[] = {RC_MODE_DEBUG, RC_MODE_POOL};
    for (int m = 0; m < 2; m++) {
        test_report_log log;
        edge_handover x;
        memset(&x, 0, sizeof x);
        x.h = test_heap_with_log(modes[m], &log);
        x.log = &log;
        if (!CHECK_NOT_NULL(x.h))
            return;
        for (int i = 0; i < 50; i++)
            x.mine[i] = rc_malloc(x.h, (size_t)(i * 53 % 900) + 1);
        pthread_t t;
        if (!CHECK_EQ(pthread_create(&t, NULL, edge_handover_worker, &x), 0))
            return;
        CHECK_EQ(pthread_join(t, NULL), 0);
        if (modes[m] == RC_MODE_DEBUG) {
            CHECK_EQ(x.reports_before_claim, 1);
            if (log.count >= 1)
                CHECK_EQ(log.r[0].kind, RC_ERR_WRONG_THREAD);
            CHECK_EQ(x.reports_after_claim, 1);
            /* the main thread no longer owns it */
            rc_free(x.theirs[0]);
            CHECK_EQ(log.count, 2);
            if (log.count >= 2)
                CHECK_EQ(log.r[1].kind, RC_ERR_WRONG_THREAD);
        } else {
            CHECK_EQ(log.count, 0);
        }
        rc_heap_claim(x.h);
        for (int i = 0; i < 50; i++) {
            if (!CHECK_NOT_NULL(x.theirs[i]))
                continue;
            CHECK_ALL_BYTES(x.theirs[i], (size_t)(i * 37 % 700) + 1, (unsigned char)i);
            rc_free(x.theirs[i]);
        }
        CHECK_EQ(log.count, modes[m] == RC_MODE_DEBUG ? 2 : 0);
        rc_heap_stats st = test_stats(x.h);
        CHECK_EQ(st.bytes_requested, 0);
        rc_heap_trim(x.h);
        CHECK_EQ(test_stats(x.h).bytes_from_os, 0);
        rc_heap_destroy(x.h);
    }
}

/* ---- 12. Huge-page heaps ------------------------------------------------------ */

static void edge_check_huge(const rc_heap *h) {
    rc_heap_stats st = test_stats(h);
    CHECK(st.arena_bytes_ahead == 0 || st.arena_bytes_ahead == RC_ARENA_SIZE);
    CHECK_EQ(st.bytes_from_os, st.arenas * (size_t)RC_ARENA_SIZE + st.arena_bytes_ahead + st.large_bytes);
    CHECK_LE(st.bytes_from_os, st.bytes_high_water);
    CHECK_EQ(st.arenas_allocated - st.arenas_freed, st.arenas);
    if (st.max_bytes)
        CHECK_LE(st.bytes_from_os, st.max_bytes);
}

static void test_huge_page_heaps(void) {
    for (int capped = 0; capped < 2; capped++) {
        rc_heap_config cfg;
        rc_heap_config_init(&cfg);
        cfg.mode = RC_MODE_POOL;
        cfg.huge_pages = RC_HUGE_ON;
        /* a cap one byte short of the pair that would make 8 arenas */
        if (capped)
            cfg.max_bytes = 7 * (size_t)RC_ARENA_SIZE - 1 + 2 * (size_t)RC_ARENA_SIZE;
        rc_heap *h = rc_heap_new(&cfg);
        if (!CHECK_NOT_NULL(h))
            return;
        enum { MAXB = 40000 };
        unsigned char **blk = malloc(MAXB * sizeof *blk);
        size_t nb = 0, ahead_seen = 0, last_arenas = 0;
        while (nb < MAXB) {
            blk[nb] = rc_malloc(h, 512);
            if (!blk[nb])
                break;
            blk[nb][0] = (unsigned char)nb;
            blk[nb][511] = (unsigned char)(nb >> 8);
            nb++;
            rc_heap_stats st = test_stats(h);
            if (st.arenas != last_arenas) {
                last_arenas = st.arenas;
                edge_check_huge(h);
                if (st.arena_bytes_ahead)
                    ahead_seen++;
            }
            if (!capped && st.arenas >= 12)
                break;
        }
        if (capped) {
            CHECK_LT(nb, MAXB); /* the cap stopped it */
            rc_heap_stats st = test_stats(h);
            CHECK_LE(st.bytes_from_os, cfg.max_bytes);
            CHECK_GE(st.failed_allocs, 1);
            CHECK_GE(st.arenas, 8);
        }
        /* pairs are mapped whatever the kernel does with MADV_HUGEPAGE */
        CHECK_GT(ahead_seen, 0);
        /* give back half, in address-independent order: the partner goes */
        for (size_t i = 0; i < nb; i += 2)
            rc_free(blk[i]);
        edge_check_huge(h);
        rc_heap_stats st = test_stats(h);
        size_t before = st.bytes_from_os;
        size_t back = rc_heap_trim(h);
        st = test_stats(h);
        CHECK_EQ(back, before - st.bytes_from_os);
        CHECK_EQ(st.arena_bytes_ahead, 0);
        edge_check_huge(h);
        for (size_t i = 1; i < nb; i += 2) {
            CHECK_EQ(blk[i][0], (unsigned char)i);
            CHECK_EQ(blk[i][511], (unsigned char)(i >> 8));
            rc_free(blk[i]);
        }
        st = test_stats(h);
        CHECK_LE(st.arenas, 1);
        CHECK_EQ(st.arena_bytes_ahead, 0);
        edge_check_huge(h);
        rc_heap_trim(h);
        CHECK_EQ(test_stats(h).bytes_from_os, 0);
        /* the heap still works, and every boundary realloc is right */
        edge_realloc_sweep(h, RC_MODE_POOL);
        edge_check_huge(h);
        rc_heap_destroy(h);
        free(blk);
    }
}

/* ---- 13a. rc_heap_fail_at counts exactly the allocations it names -------- */

/* One allocation of kind i % 4; the block (or NULL) goes to *out. */
static void *edge_alloc_kind(rc_heap *h, int i, void **spare) {
    switch (i % 4) {
    case 0: return rc_malloc(h, 100);
    case 1: return rc_calloc(h, 10, 30);
    case 2: return rc_realloc(h, NULL, 700);
    default: {
        /* a realloc that must move or grow: 100 bytes to 5000 */
        void *q = rc_realloc(h, *spare, 5000);
        if (q)
            *spare = NULL;
        return q;
    }
    }
}

static void test_fail_at_counts_exactly(void) {
    for (size_t m = 0; m < 3; m++) {
        rc_alloc_mode mode = edge_modes[m];
        for (int n = 1; n <= 12; n++) {
            rc_heap *h = test_heap_new(mode);
            if (!CHECK_NOT_NULL(h))
                return;
            void *got[12], *spare[12];
            for (int i = 0; i < 12; i++)
                spare[i] = (i % 4 == 3) ? rc_malloc(h, 100) : NULL;
            rc_heap_fail_at(h, (uint64_t)n);
            for (int i = 0; i < 12; i++) {
                got[i] = edge_alloc_kind(h, i, &spare[i]);
                bool should_fail = mode != RC_MODE_POOL && i == n - 1;
                CHECK_MSG((got[i] == NULL) == should_fail, "%s fail_at(%d): call %d %s",
                          edge_mode_names[mode], n, i + 1, got[i] ? "succeeded" : "failed");
            }
            CHECK_EQ(test_stats(h).failed_allocs, mode != RC_MODE_POOL ? 1 : 0);
            for (int i = 0; i < 12; i++) {
                rc_free(got[i]);
                rc_free(spare[i]); /* a failed realloc left it to us */
            }
            rc_heap_trim(h);
            CHECK_EQ(test_stats(h).bytes_from_os, 0);
            rc_heap_destroy(h);
        }
    }
}

/* ---- 13. Destroy with everything live gives every byte back --------------- */

static void test_destroy_everything_live(void) {
    for (size_t m = 0; m < 3; m++) {
        for (int with = 0; with < 2; with++) {
            edge_hooks e;
            edge_hooks_init(&e, with != 0);
            rc_heap *h = edge_heap(&e, edge_modes[m], 0, NULL);
            if (!CHECK_NOT_NULL(h))
                continue;
            edge_work w;
            edge_work_init(&w, edge_modes[m]);
            test_rng r = test_rng_seed(77 + m);
            for (int i = 0; i < 400; i++)
                edge_step(h, &w, &r);
            rc_heap_trim(h);
            for (int i = 0; i < 400; i++)
                edge_step(h, &w, &r);
            /* many blocks in many arenas, some freed (quarantine, caches) */
            void **v = malloc(6000 * sizeof *v);
            for (int i = 0; i < 6000; i++)
                v[i] = rc_malloc(h, (size_t)(i % 32 + 1) * 16);
            for (int i = 0; i < 6000; i += 2)
                rc_free(v[i]);
            free(v);
            edge_check_os(h, &e);
            CHECK_GT(e.t.bytes_live, e.ctrl);
            rc_heap_destroy(h);
            edge_check_gone(&e);
        }
    }
}

/* ---- Foreign pointers next to unmapped memory ------------------------------ */

/* rc_free() of a pointer in no arena looks for a large-block header in the
 * EDGE_HDR bytes in front of it only when the large-header map says a live header
 * lies there: a foreign pointer at the start of a page after an unmapped
 * one is reported, not a fault (it once read those bytes unconditionally). */
static unsigned char *edge_guarded_page(void) {
    long page = sysconf(_SC_PAGESIZE);
    unsigned char *m = mmap(NULL, (size_t)page * 2, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    if (mprotect(m + page, (size_t)page, PROT_READ | PROT_WRITE) != 0)
        return NULL;
    memset(m + page, 0, (size_t)page);
    return m + page;
}

static void child_free_after_guard(void) {
    unsigned char *p = edge_guarded_page();
    if (p)
        rc_free(p); /* promised: reported (default handler: abort) */
    _exit(3);
}

static void child_realloc_after_guard(void) {
    test_report_log log;
    rc_heap *h = test_heap_with_log(RC_MODE_POOL, &log);
    unsigned char *p = edge_guarded_page();
    if (!p || !h)
        _exit(4);
    if (rc_heap_of_block(p) != NULL)
        _exit(5);
    if (rc_realloc(h, p, 10) != NULL || log.count != 1 || log.r[0].kind != RC_ERR_FOREIGN)
        _exit(6);
    _exit(0);
}

static void test_foreign_pointer_after_unmapped_page(void) {
    child_result res;
    run_child(child_free_after_guard, &res);
    expect_abort(&res, "not allocated by rcgc");
    run_child(child_realloc_after_guard, &res);
    CHECK(res.ok);
    CHECK_MSG(!res.signaled && res.exit_code == 0, "signal %d, exit %d", res.signo, res.exit_code);
}

/* A large_realloc hook that moves a block to where no node of the
 * large-header map can be mapped (here: a fresh GiB of address space, with
 * RLIMIT_AS leaving no room for the node): the block is flagged uncounted,
 * rc_heap_of_block does not know it, and rc_heap_destroy frees it without
 * uncounting a header it never counted (it crashed there once).  Runs in a
 * child (the limit would hurt the rest); not under ASan or valgrind, whose
 * own mappings the limit would break. */
static unsigned char *g_far;

static void *far_large_alloc(void *ctx, size_t size) {
    (void)ctx;
    return malloc(size);
}

static void far_large_free(void *ctx, void *p, size_t size) {
    (void)ctx;
    (void)size;
    if ((unsigned char *)p != g_far)
        free(p);
}

static void *far_large_realloc(void *ctx, void *p, size_t old_size, size_t new_size) {
    (void)ctx;
    memcpy(g_far, p, old_size < new_size ? old_size : new_size);
    free(p);
    return g_far;
}

static void *far_arena_alloc(void *ctx, size_t size, size_t align) {
    (void)ctx;
    void *p;
    return posix_memalign(&p, align, size) ? NULL : p;
}

static void far_arena_free(void *ctx, void *p, size_t size) {
    (void)ctx;
    (void)size;
    free(p);
}

static void child_realloc_beyond_the_map(void) {
    g_far = mmap((void *)0x500000000000, 1 << 20, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (g_far == MAP_FAILED || g_far != (unsigned char *)0x500000000000)
        _exit(77); /* that address is not free here: nothing to show */
    rc_raw_hooks hooks = {NULL, far_arena_alloc, far_arena_free, far_large_alloc, far_large_free,
                          far_large_realloc};
    rc_heap_config cfg;
    rc_heap_config_init(&cfg);
    cfg.hooks = &hooks;
    cfg.mode = RC_MODE_MALLOC;
    rc_heap *h = rc_heap_new(&cfg);
    unsigned char *p = h ? rc_malloc(h, 100) : NULL;
    if (!p)
        _exit(4);
    memset(p, 0x5A, 100);
    struct rlimit rl = {1, RLIM_INFINITY};
    if (getrlimit(RLIMIT_AS, &rl) != 0)
        _exit(5);
    rl.rlim_cur = 1; /* no new mapping of any size from here on */
    if (setrlimit(RLIMIT_AS, &rl) != 0)
        _exit(5);
    unsigned char *q = rc_realloc(h, p, 5000);
    if (q != g_far + EDGE_HDR) /* the large-block header in front */
        _exit(6);
    for (int i = 0; i < 100; i++)
        if (q[i] != 0x5A)
            _exit(7);
    if (rc_heap_of_block(q) != NULL) /* uncounted: not known as rcgc's */
        _exit(8);
    rc_heap_destroy(h);
    _exit(0);
}

static void test_realloc_hook_beyond_the_map(void) {
    const char *pre = getenv("LD_PRELOAD");
    if (TEST_ASAN || (pre && strstr(pre, "vgpreload")))
        return;
    child_result res;
    run_child(child_realloc_beyond_the_map, &res);
    CHECK(res.ok);
    if (res.exit_code == 77 && !res.signaled)
        return;
    CHECK_MSG(!res.signaled && res.exit_code == 0, "signal %d, exit %d", res.signo, res.exit_code);
}

/* Malloc mode: a realloc within the 16-byte class (16 <-> 1..7 bytes) stays
 * in place, as the header says, and so cannot fail (it once went through
 * the hook: large_resize's in-place test was n >= have / 2 alone). */
static void test_malloc_mode_same_class_realloc_stays(void) {
    edge_hooks e;
    edge_hooks_init(&e, true); /* its large_realloc always moves */
    rc_heap *h = edge_heap(&e, RC_MODE_MALLOC, 0, NULL);
    if (!CHECK_NOT_NULL(h))
        return;
    unsigned char *p = rc_malloc(h, 16);
    CHECK_EQ(rc_usable_size(p), 16);
    unsigned char *q = rc_realloc(h, p, 1);
    CHECK_PTR_EQ(q, p);
    if (q)
        p = q;
    q = rc_realloc(h, p, 7);
    CHECK_PTR_EQ(q, p);
    if (q)
        p = q;
    rc_heap_fail_at(h, 1); /* only a realloc that must move or grow may fail */
    q = rc_realloc(h, p, 2);
    CHECK_NOT_NULL(q);
    if (q)
        p = q;
    rc_heap_fail_at(h, 0);
    rc_free(p);
    rc_heap_destroy(h);
    edge_check_gone(&e);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_realloc_every_boundary);
    RUN_TEST(test_realloc_hook_fails_and_moves);
    RUN_TEST(test_max_bytes_exact_boundary);
    RUN_TEST(test_hooks_fail_every_kth_call);
    RUN_TEST(test_misaligned_arena_hook);
    RUN_TEST(test_stats_and_trim_against_hooks);
    RUN_TEST(test_free_sized_misuse_falls_back);
    RUN_TEST(test_good_size_0_to_600);
    RUN_TEST(test_calloc_overflow_and_reuse);
    RUN_TEST(test_hundred_heaps);
    RUN_TEST(test_claim_handover);
    RUN_TEST(test_huge_page_heaps);
    RUN_TEST(test_fail_at_counts_exactly);
    RUN_TEST(test_destroy_everything_live);
    RUN_TEST(test_resize_without_hook_within_cap);
    RUN_TEST(test_malloc_mode_same_class_realloc_stays);
    RUN_TEST(test_foreign_pointer_after_unmapped_page);
    RUN_TEST(test_realloc_hook_beyond_the_map);
    return check_summary();
}
