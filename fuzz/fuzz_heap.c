/*
 * fuzz/fuzz_heap.c — libFuzzer harness for the allocator (rcgc/heap.h).
 *
 * Role: the input bytes are read as a program of heap operations on one to
 * three heaps, each in pool, malloc or debug mode, on raw hooks of the
 * harness's (or the system's): rc_malloc, rc_calloc (overflowing counts
 * too), rc_realloc (to 0, across size classes, to large and impossible
 * sizes, from NULL, and a debug heap's block given to another heap),
 * rc_free, rc_free_sized, rc_usable_size, rc_heap_of_block, rc_good_size,
 * rc_heap_trim, rc_heap_get_stats, a max_bytes cap that moves, hooks that
 * fail on demand, rc_heap_fail_at, and bursts of thousands of blocks of one
 * class that fill pools and arenas and empty them again.
 *
 * A shadow model keeps every live block's heap, requested size, usable size
 * and a fill pattern written over all its usable bytes.  Invariants checked
 * (any violation aborts, which libFuzzer reports as a crash):
 *   - every block is 16-byte aligned, rc_usable_size >= the requested size
 *     (and the size rc_good_size promises, outside debug mode), and
 *     rc_heap_of_block names its heap;
 *   - contents survive realloc (up to the smaller of the two sizes) and
 *     every other operation; a debug block is fresh-filled (0xCD) and a
 *     calloc block zeroed;
 *   - an allocation fails only for a reason: an impossible size, a hook
 *     that refused, the countdown of rc_heap_fail_at reaching the call
 *     (exactly that call, in malloc and debug modes), or the cap, and then
 *     only when the heap's holdings, less its idle arenas, leave too little
 *     room under it; every failure is counted in failed_allocs, and a
 *     success counts nothing;
 *   - the statistics agree with the model and with themselves: blocks in
 *     use (pool blocks + large blocks) = live blocks (+ the debug
 *     quarantine), bytes_in_use = the live blocks' usable bytes (pool and
 *     malloc modes), bytes_requested = their requested bytes (debug mode),
 *     bytes_from_os = arenas + large blocks = what the hooks hold, pools
 *     per arena add up to 64, high-water marks and totals are consistent;
 *   - the cap is never exceeded: each hook call is checked against it;
 *   - the hooks are called with sensible sizes and alignments, and every
 *     free matches an allocation of the same size;
 *   - correct use never draws a report from the debug allocator (the
 *     handler aborts), and after freeing everything and trimming, a heap
 *     holds nothing (no block, no arena, no byte from the hooks), and
 *     destroying it gives back its control block too.
 */
#include <rcgc/heap.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FH_MAX_HEAPS 3
#define FH_SLOTS 64
#define FH_BURST_MAX 4096
/* The hooks refuse single requests above this, as a system out of memory
 * would: the large sizes the harness asks for stay cheap to run. */
#define FH_HOOK_LIMIT ((size_t)64 << 20)
/* Slots of a hook instance's table of live allocations (arenas and large
 * blocks): at most a quarter in use. */
#define FH_HOOK_SLOTS 32768

/* ---- Failing the run ---------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4), noreturn))
#endif
static void fh_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s:%d: invariant violated: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

#define FH_CHECK(cond)                                \
    do {                                              \
        if (!(cond))                                  \
            fh_fail(__FILE__, __LINE__, "%s", #cond); \
    } while (0)
#define FH_CHECK_EQ(a, b)                                                                  \
    do {                                                                                   \
        uintmax_t a_ = (uintmax_t)(a), b_ = (uintmax_t)(b);                                \
        if (a_ != b_)                                                                      \
            fh_fail(__FILE__, __LINE__, "%s == %s (%ju vs %ju)", #a, #b, a_, b_);          \
    } while (0)

/* Correct use never draws a report. */
static void fh_on_report(const rc_error_report *r, void *ctx) {
    (void)ctx;
    fh_fail(__FILE__, __LINE__, "debug allocator report on correct use: %s",
            r->message ? r->message : "(no message)");
}

/* ---- The input ------------------------------------------------------------------- */

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static uint8_t rd_u8(reader *r) {
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

/* `bytes` bytes, little-endian (missing ones read as 0). */
static uint64_t rd_uint(reader *r, unsigned bytes) {
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)rd_u8(r) << (8 * i);
    return v;
}

/* ---- Raw hooks that count, check and fail on demand ---------------------------- */

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

typedef struct hook_block {
    void *p;            /* NULL: empty; FH_GONE: deleted */
    size_t size;
    bool arena;
} hook_block;
#define FH_GONE ((void *)1)

typedef struct fh_hooks {
    rc_raw_hooks raw;
    hook_block live[FH_HOOK_SLOTS]; /* open addressing on the address */
    size_t nlive, nused;            /* live entries; live and deleted ones */
    size_t live_bytes;  /* held by the heap, its control block excluded */
    size_t high_bytes;  /* most live_bytes at once */
    void *control;      /* the heap's control block (its first large_alloc) */
    size_t control_size;
    bool creating;      /* rc_heap_new is running: the next large_alloc is the control block */
    size_t cap;         /* the heap's max_bytes, mirrored (0: none) */
    unsigned fail_next; /* refuse this many more alloc calls */
    uint64_t refusals;  /* alloc calls refused so far (on demand or over FH_HOOK_LIMIT) */
} fh_hooks;

static size_t hook_home(const void *p) {
    uint64_t x = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 40) & (FH_HOOK_SLOTS - 1);
}

/* Drop the deleted entries once they fill a quarter of the table. */
static void hook_rehash(fh_hooks *k) {
    static hook_block old[FH_HOOK_SLOTS];
    memcpy(old, k->live, sizeof old);
    memset(k->live, 0, sizeof k->live);
    for (size_t i = 0; i < FH_HOOK_SLOTS; i++) {
        if (old[i].p == NULL || old[i].p == FH_GONE)
            continue;
        size_t j = hook_home(old[i].p);
        while (k->live[j].p)
            j = (j + 1) & (FH_HOOK_SLOTS - 1);
        k->live[j] = old[i];
    }
    k->nused = k->nlive;
}

static void hook_add(fh_hooks *k, void *p, size_t size, bool arena) {
    if (k->nused + 1 > FH_HOOK_SLOTS / 2) {
        if (k->nlive + 1 > FH_HOOK_SLOTS / 4)
            fh_fail(__FILE__, __LINE__, "more live hook allocations than the harness follows");
        hook_rehash(k);
    }
    size_t j = hook_home(p);
    while (k->live[j].p && k->live[j].p != FH_GONE)
        j = (j + 1) & (FH_HOOK_SLOTS - 1);
    if (!k->live[j].p)
        k->nused++;
    k->live[j] = (hook_block){p, size, arena};
    k->nlive++;
    k->live_bytes += size;
    if (k->live_bytes > k->high_bytes)
        k->high_bytes = k->live_bytes;
}

/* Forget p, which must be live with this size and kind. */
static void hook_remove(fh_hooks *k, void *p, size_t size, bool arena) {
    for (size_t j = hook_home(p); k->live[j].p; j = (j + 1) & (FH_HOOK_SLOTS - 1)) {
        if (k->live[j].p != p)
            continue;
        if (k->live[j].size != size || k->live[j].arena != arena)
            fh_fail(__FILE__, __LINE__, "hook free of %p with size %zu (%s), allocated %zu (%s)", p,
                    size, arena ? "arena" : "large", k->live[j].size,
                    k->live[j].arena ? "arena" : "large");
        k->live_bytes -= size;
        k->live[j].p = FH_GONE;
        k->nlive--;
        return;
    }
    fh_fail(__FILE__, __LINE__, "hook free of %p, which the hooks never gave out", p);
}

/* May the heap take `more` bytes now?  Failing on demand, or beyond what the
 * harness lets the "system" give, is a refusal; going over the cap is a
 * bug of the heap's. */
static bool hook_grant(fh_hooks *k, size_t more) {
    if (k->fail_next) {
        k->fail_next--;
        k->refusals++;
        return false;
    }
    if (more > FH_HOOK_LIMIT) {
        k->refusals++;
        return false;
    }
    if (k->cap && k->live_bytes + more > k->cap)
        fh_fail(__FILE__, __LINE__, "the heap asked for %zu bytes holding %zu, over its cap %zu",
                more, k->live_bytes, k->cap);
    return true;
}

static void *hook_arena_alloc(void *ctx, size_t size, size_t align) {
    fh_hooks *k = ctx;
    FH_CHECK_EQ(size, RC_ARENA_SIZE);
    FH_CHECK_EQ(align, RC_ARENA_SIZE);
    if (!hook_grant(k, size))
        return NULL;
    void *p = aligned_alloc(align, size);
    if (!p)
        return NULL;
    /* garbage where the arena header goes: the heap must not expect zeroes */
    memset(p, 0xA5, RC_POOL_SIZE);
    hook_add(k, p, size, true);
    return p;
}

static void hook_arena_free(void *ctx, void *p, size_t size) {
    hook_remove(ctx, p, size, true);
    free(p);
}

static void *hook_large_alloc(void *ctx, size_t size) {
    fh_hooks *k = ctx;
    FH_CHECK(size > 0);
    if (k->creating) { /* the control block: not the heap's to count */
        k->creating = false;
        k->control = aligned_alloc(16, round16(size));
        k->control_size = size;
        return k->control;
    }
    if (!hook_grant(k, size))
        return NULL;
    void *p = aligned_alloc(16, round16(size));
    if (!p)
        return NULL;
    memset(p, 0x5A, size < 256 ? size : 256);
    hook_add(k, p, size, false);
    return p;
}

static void hook_large_free(void *ctx, void *p, size_t size) {
    fh_hooks *k = ctx;
    if (p == k->control) {
        FH_CHECK_EQ(size, k->control_size);
        k->control = NULL;
        free(p);
        return;
    }
    hook_remove(k, p, size, false);
    free(p);
}

/* Always moves the block, so that a stale pointer to the old one shows. */
static void *hook_large_realloc(void *ctx, void *p, size_t old_size, size_t new_size) {
    fh_hooks *k = ctx;
    FH_CHECK(new_size > 0);
    if (new_size > old_size ? !hook_grant(k, new_size - old_size)
                            : k->fail_next && !hook_grant(k, 0))
        return NULL;
    void *n = aligned_alloc(16, round16(new_size));
    if (!n)
        return NULL;
    memcpy(n, p, old_size < new_size ? old_size : new_size);
    hook_remove(k, p, old_size, false);
    free(p);
    hook_add(k, n, new_size, false);
    return n;
}

/* ---- The model ------------------------------------------------------------------- */

typedef struct fh_heap {
    rc_heap *h;
    rc_alloc_mode mode;
    bool own_hooks;     /* on fh_hooks (else the system's: no hook accounting) */
    bool realloc_hook;
    fh_hooks *hooks;
    size_t cap;
    uint64_t countdown; /* rc_heap_fail_at armed (malloc and debug modes): calls left */
    size_t quarantined; /* debug mode: blocks in the quarantine */
    uint64_t failed;    /* failed_allocs at the last look */
} fh_heap;

typedef struct fh_block {
    unsigned char *p;   /* NULL: the slot is empty */
    int heap;
    size_t req;         /* the size last asked for */
    size_t usable;      /* rc_usable_size when it was made or resized */
    uint8_t seed;       /* its fill pattern */
} fh_block;

typedef struct fh_state {
    fh_heap heaps[FH_MAX_HEAPS];
    int nheaps;
    fh_block slots[FH_SLOTS];
    void *burst[FH_BURST_MAX]; /* a burst's blocks, all of one heap */
    int burst_heap;            /* -1: no burst running */
    size_t nburst, burst_usable;
} fh_state;

static unsigned char pattern_byte(uint8_t seed, size_t j) {
    return (unsigned char)(seed * 131u + j * 7u + (j >> 8) * 13u + 1u);
}

/* The bytes of a block of n that carry its pattern: all of a block up to
 * FH_WHOLE, else its head and tail and every FH_STRIDE-th byte between
 * (writing and reading every byte of multi-MiB blocks cost most of the
 * harness's time: a copy that misses part of a block still shows). */
#define FH_WHOLE ((size_t)64 << 10)
#define FH_EDGE ((size_t)16 << 10)
#define FH_STRIDE 4093
static size_t next_marked(size_t j, size_t n) {
    if (n <= FH_WHOLE || j + 1 < FH_EDGE || j + 1 >= n - FH_EDGE)
        return j + 1;
    size_t k = (j + 1 + FH_STRIDE - 1) / FH_STRIDE * FH_STRIDE;
    return k < n - FH_EDGE ? k : n - FH_EDGE;
}

/* Write the pattern over the marked bytes of a block of n. */
static void fill_block(unsigned char *p, size_t n, uint8_t seed) {
    for (size_t j = 0; j < n; j = next_marked(j, n))
        p[j] = pattern_byte(seed, j);
}

/* Check the marked bytes (of a block filled as one of `filled` bytes) below
 * `upto`. */
static void verify_pattern_upto(const unsigned char *p, size_t filled, size_t upto, uint8_t seed,
                                const char *what) {
    for (size_t j = 0; j < upto && j < filled; j = next_marked(j, filled))
        if (p[j] != pattern_byte(seed, j))
            fh_fail(__FILE__, __LINE__, "%s: byte %zu of %zu at %p is 0x%02x, not 0x%02x", what, j,
                    filled, (const void *)p, p[j], pattern_byte(seed, j));
}

static void verify_pattern(const unsigned char *p, size_t n, uint8_t seed, const char *what) {
    verify_pattern_upto(p, n, n, seed, what);
}

static void verify_all_bytes(const unsigned char *p, size_t n, unsigned char v, const char *what) {
    for (size_t j = 0; j < n; j = next_marked(j, n))
        if (p[j] != v)
            fh_fail(__FILE__, __LINE__, "%s: byte %zu of %zu is 0x%02x, not 0x%02x", what, j, n,
                    p[j], v);
}

/* Sizes: zero, small, around the class and large thresholds, large, and
 * impossible ones.  Heaps on the system's hooks never get a request that
 * the system would really try (ASan aborts on those). */
static size_t rd_size(reader *r) {
    switch (rd_u8(r) % 16) {
    case 0: return 0;
    case 1: case 2: case 3: return rd_u8(r) % 65;
    case 4: case 5: case 6: return 1 + rd_uint(r, 2) % RC_SMALL_MAX;
    case 7: {
        static const size_t edge[] = {15, 16, 17, 31, 32, 33, 447, 448, 449, 511, 512, 513,
                                      527, 528, 529, 4095, 4096, 4097};
        return edge[rd_u8(r) % (sizeof edge / sizeof edge[0])];
    }
    case 8: case 9: case 10: return RC_SMALL_MAX + 1 + rd_uint(r, 2) % 16384;
    case 11: return rd_uint(r, 3) % 65536;
    /* rarely, up to an arena and past it, or to 4 MiB: big blocks cost the
     * most time (fresh pages; debug mode fills and checks every byte) */
    case 12: return rd_uint(r, 3) % (rd_u8(r) < 64 ? RC_ARENA_SIZE + 4096 : 16384);
    case 13: return rd_uint(r, 3) % (rd_u8(r) < 16 ? 4 * RC_ARENA_SIZE : 32768);
    case 14: {
        static const size_t impossible[] = {SIZE_MAX, SIZE_MAX - 15, SIZE_MAX - 64,
                                            SIZE_MAX / 2 + 1, (SIZE_MAX >> 1) + 4096};
        return impossible[rd_u8(r) % (sizeof impossible / sizeof impossible[0])];
    }
    default: return 1 + rd_u8(r) % 48;
    }
}

static bool impossible_size(size_t n) { return n > SIZE_MAX / 2; }

static rc_heap_stats stats_of(const fh_heap *H) {
    rc_heap_stats st;
    rc_heap_get_stats(H->h, &st);
    return st;
}

/* The sizes of the library's headers are its own: the harness uses bounds
 * (64-bit figures), which overstate what a request needs elsewhere, so
 * that the cap check below never blames a refusal wrongly. */
#define FH_LARGE_HEADER_MAX 64 /* a large block's header (48 on 64-bit targets) */
#define FH_DEBUG_HEADER_MAX 32 /* a debug block's, besides its two guards */

/* At most the bytes the heap must take from the system for a new block of
 * n bytes (a pool request that fails at all needs a new arena). */
static size_t need_for(const fh_heap *H, size_t n) {
    size_t least = n ? n : 1, most = least; /* the request the heap makes of itself */
    if (H->mode == RC_MODE_DEBUG) { /* rc_realloc(p, 0) asks for 0 bytes, not 1 */
        least = n + 2 * RC_DEBUG_GUARD_SIZE;
        most = least + FH_DEBUG_HEADER_MAX;
    }
    if (least <= RC_SMALL_MAX && H->mode != RC_MODE_MALLOC)
        return RC_ARENA_SIZE;
    return FH_LARGE_HEADER_MAX + round16(most);
}

/* A call returned NULL where the heap had to take `need` more bytes: was it
 * entitled to?  Called after the failure. */
static void check_failure(fh_state *S, int hi, bool impossible, uint64_t refusals_before,
                          bool injected, size_t need) {
    fh_heap *H = &S->heaps[hi];
    rc_heap_stats st = stats_of(H);
    if (st.failed_allocs <= H->failed)
        fh_fail(__FILE__, __LINE__, "a failed allocation was not counted in failed_allocs");
    H->failed = st.failed_allocs;
    if (impossible || injected)
        return;
    if (H->own_hooks && H->hooks->refusals != refusals_before)
        return;
    if (!H->cap)
        fh_fail(__FILE__, __LINE__, "an allocation failed with no cap, no refusal, no injection");
    /* refused by the cap: even with every idle arena given back, no room */
    size_t held = st.bytes_from_os - st.arenas_idle * RC_ARENA_SIZE - st.arena_bytes_ahead;
    if (need <= H->cap && held <= H->cap - need)
        fh_fail(__FILE__, __LINE__,
                "refused at the cap with room: holds %zu (%zu idle arenas), needs %zu, cap %zu",
                st.bytes_from_os, st.arenas_idle, need, H->cap);
}

/* A call succeeded: nothing may have been counted as failed. */
static void check_no_failure(fh_heap *H) {
    rc_heap_stats st = stats_of(H);
    FH_CHECK_EQ(st.failed_allocs, H->failed);
}

/* rc_heap_fail_at's countdown, for a call that allocates (malloc and debug
 * modes): true if this call is the one that must fail. */
static bool countdown_hits(fh_heap *H) {
    if (H->mode == RC_MODE_POOL || H->countdown == 0)
        return false;
    return --H->countdown == 0;
}

/* ---- Blocks ---------------------------------------------------------------------- */

/* Check a new or resized block and record its usable size. */
static void check_block(const fh_heap *H, const fh_block *b) {
    FH_CHECK(((uintptr_t)b->p % RC_ALIGNMENT) == 0);
    FH_CHECK(rc_heap_of_block(b->p) == H->h);
    size_t u = rc_usable_size(b->p);
    FH_CHECK(u >= b->req);
    FH_CHECK_EQ(u, b->usable);
    if (H->mode != RC_MODE_DEBUG)
        FH_CHECK(u >= rc_good_size(b->req));
}

static void quarantine_one(fh_heap *H) {
    if (H->mode == RC_MODE_DEBUG && H->quarantined < RC_DEBUG_QUARANTINE)
        H->quarantined++;
}

static void slot_release(fh_state *S, int si, reader *r) {
    fh_block *b = &S->slots[si];
    if (!b->p)
        return;
    fh_heap *H = &S->heaps[b->heap];
    verify_pattern(b->p, b->usable, b->seed, "block before free");
    if (rd_u8(r) & 1) {
        rc_free(b->p);
    } else {
        /* any size from the requested one up to the usable one */
        size_t n = b->req + rd_u8(r) % (b->usable - b->req + 1);
        rc_free_sized(H->h, b->p, n);
    }
    quarantine_one(H);
    b->p = NULL;
    check_no_failure(H);
}

static void op_malloc(fh_state *S, reader *r, bool zeroed) {
    int hi = rd_u8(r) % S->nheaps, si = rd_u8(r) % FH_SLOTS;
    fh_heap *H = &S->heaps[hi];
    slot_release(S, si, r);
    size_t elem = rd_size(r), count = 1, n = elem;
    bool overflow = false;
    if (zeroed) {
        static const size_t counts[] = {0, 1, 2, 3, 7, 16, SIZE_MAX, SIZE_MAX / 2 + 1, SIZE_MAX / 16};
        count = counts[rd_u8(r) % (sizeof counts / sizeof counts[0])];
        if (count > 16 && elem > 0 && !impossible_size(elem) && (rd_u8(r) & 1))
            elem = 1; /* a huge count of bytes: impossible, not an overflow */
        else if (count > 1 && count <= 16 && elem > 65536 && !impossible_size(elem))
            elem %= 65536; /* a few large elements, not 64 MiB to zero and check */
        overflow = __builtin_mul_overflow(count, elem, &n);
    }
    if (!H->own_hooks && !overflow && n > FH_HOOK_LIMIT && !impossible_size(n)) {
        n %= 65536; /* the system would try it */
        count = 1;
        elem = n;
    }
    uint64_t refusals = H->own_hooks ? H->hooks->refusals : 0;
    bool injected = !overflow && countdown_hits(H);
    unsigned char *p = zeroed ? rc_calloc(H->h, count, elem) : rc_malloc(H->h, n);
    if (!p) {
        check_failure(S, hi, overflow || impossible_size(n), refusals, injected, need_for(H, n));
        return;
    }
    FH_CHECK(!overflow && !impossible_size(n) && !injected);
    check_no_failure(H);
    fh_block *b = &S->slots[si];
    b->p = p;
    b->heap = hi;
    b->req = n;
    b->usable = rc_usable_size(p);
    b->seed = rd_u8(r);
    check_block(H, b);
    if (zeroed)
        verify_all_bytes(p, n, 0, "calloc block");
    else if (H->mode == RC_MODE_DEBUG)
        verify_all_bytes(p, n, RC_DEBUG_FRESH_BYTE, "fresh debug block");
    fill_block(p, b->usable, b->seed);
}

/* rc_realloc of a slot's block by `via` (its own heap, or another one for a
 * debug heap's block, which its own heap resizes). */
static void realloc_slot(fh_state *S, int si, int via, size_t n) {
    fh_block *b = &S->slots[si];
    fh_heap *H = &S->heaps[b->heap];
    fh_heap *V = &S->heaps[via];
    if (!H->own_hooks && n > FH_HOOK_LIMIT && !impossible_size(n))
        n %= FH_HOOK_LIMIT;
    verify_pattern(b->p, b->usable, b->seed, "block before realloc");
    uint64_t refusals = H->own_hooks ? H->hooks->refusals : 0;
    size_t old_usable = b->usable, old_req = b->req;
    unsigned char *q = rc_realloc(V->h, b->p, n);
    /* a malloc-mode block that stays put did not allocate */
    bool allocated = q != b->p;
    bool injected = allocated && countdown_hits(H);
    if (!q) {
        size_t need = need_for(H, n);
        /* a large block resized by the realloc hook needs only the growth
         * (without the hook, old and new are both held for the copy) */
        bool by_hook = H->realloc_hook && n > 0 &&
                       (H->mode == RC_MODE_MALLOC ||
                        (H->mode == RC_MODE_POOL && n > RC_SMALL_MAX && old_usable > RC_SMALL_MAX));
        if (by_hook)
            need = round16(n) > old_usable ? round16(n) - old_usable : 0;
        check_failure(S, b->heap, impossible_size(n), refusals, injected, need);
        verify_pattern(b->p, b->usable, b->seed, "block after a failed realloc");
        return;
    }
    FH_CHECK(!impossible_size(n) && !injected);
    check_no_failure(H);
    if (V != H)
        check_no_failure(V);
    if (allocated)
        quarantine_one(H);
    b->p = q;
    b->req = n;
    b->usable = rc_usable_size(q);
    check_block(H, b);
    size_t kept = old_req < n ? old_req : n;
    verify_pattern_upto(q, old_usable, kept, b->seed, "block after realloc");
    /* a debug block's size is its header's (1 for rc_malloc(h, 0)), all copied */
    if (H->mode == RC_MODE_DEBUG && n > old_usable)
        verify_all_bytes(q + old_usable, n - old_usable, RC_DEBUG_FRESH_BYTE,
                         "debug realloc's new bytes");
    fill_block(q, b->usable, b->seed);
}

static void op_realloc(fh_state *S, reader *r) {
    int si = rd_u8(r) % FH_SLOTS;
    size_t n = rd_size(r);
    if (!S->slots[si].p) { /* rc_realloc(h, NULL, n) is rc_malloc(h, n) */
        int hi = rd_u8(r) % S->nheaps;
        fh_heap *H = &S->heaps[hi];
        if (!H->own_hooks && n > FH_HOOK_LIMIT && !impossible_size(n))
            n %= FH_HOOK_LIMIT;
        uint64_t refusals = H->own_hooks ? H->hooks->refusals : 0;
        bool injected = countdown_hits(H);
        unsigned char *p = rc_realloc(H->h, NULL, n);
        if (!p) {
            check_failure(S, hi, impossible_size(n), refusals, injected, need_for(H, n));
            return;
        }
        FH_CHECK(!impossible_size(n) && !injected);
        check_no_failure(H);
        fh_block *b = &S->slots[si];
        *b = (fh_block){p, hi, n, rc_usable_size(p), rd_u8(r)};
        check_block(H, b);
        fill_block(p, b->usable, b->seed);
        return;
    }
    realloc_slot(S, si, S->slots[si].heap, n);
}

/* A debug heap's block given to a heap in another mode. */
static void op_realloc_cross(fh_state *S, reader *r) {
    int si = rd_u8(r) % FH_SLOTS, via = rd_u8(r) % S->nheaps;
    size_t n = rd_size(r);
    fh_block *b = &S->slots[si];
    /* (n == 0 is left out: rc_realloc(h, p, 0) frees p and takes the unique
     * pointer from h, so the block changes heaps) */
    if (!b->p || n == 0 || S->heaps[b->heap].mode != RC_MODE_DEBUG ||
        S->heaps[via].mode == RC_MODE_DEBUG)
        return;
    realloc_slot(S, si, via, n);
}

static void op_free(fh_state *S, reader *r) { slot_release(S, rd_u8(r) % FH_SLOTS, r); }

/* rc_free_sized with any heap and size, which pool and malloc modes accept
 * (they free as rc_free does) when the heap named is not a debug heap. */
static void op_free_sized_lenient(fh_state *S, reader *r) {
    int si = rd_u8(r) % FH_SLOTS, via = rd_u8(r) % S->nheaps;
    fh_block *b = &S->slots[si];
    if (!b->p || S->heaps[via].mode == RC_MODE_DEBUG)
        return;
    verify_pattern(b->p, b->usable, b->seed, "block before free");
    rc_free_sized(S->heaps[via].h, b->p, rd_size(r));
    quarantine_one(&S->heaps[b->heap]);
    b->p = NULL;
}

static void op_inspect(fh_state *S, reader *r) {
    fh_block *b = &S->slots[rd_u8(r) % FH_SLOTS];
    if (b->p) {
        check_block(&S->heaps[b->heap], b);
        verify_pattern(b->p, b->usable, b->seed, "block");
    }
    /* pointers rcgc did not allocate: no heap, and never a report */
    static const unsigned char outside[64];
    void *own = malloc(1 + rd_u8(r));
    FH_CHECK(own != NULL);
    FH_CHECK(rc_heap_of_block(own) == NULL);
    FH_CHECK(rc_heap_of_block(outside + rd_u8(r) % sizeof outside) == NULL);
    free(own);
    size_t n = rd_size(r);
    size_t g = rc_good_size(n);
    FH_CHECK(g >= n && g >= 1 && (n > RC_SMALL_MAX || g % RC_ALIGNMENT == 0));
    FH_CHECK(n > RC_SMALL_MAX || g - (n ? n : 1) < RC_ALIGNMENT);
}

static void verify_all(const fh_state *S) {
    for (int i = 0; i < FH_SLOTS; i++) {
        const fh_block *b = &S->slots[i];
        if (b->p)
            verify_pattern(b->p, b->usable, b->seed, "live block");
    }
}

/* ---- Statistics ------------------------------------------------------------------- */

static void check_stats(fh_state *S, int hi) {
    fh_heap *H = &S->heaps[hi];
    rc_heap_stats st = stats_of(H);
    size_t live = 0, usable = 0, requested = 0;
    for (int i = 0; i < FH_SLOTS; i++) {
        const fh_block *b = &S->slots[i];
        if (b->p && b->heap == hi) {
            live++;
            usable += b->usable;
            requested += b->usable; /* debug mode: what the header says (1 for rc_malloc(h, 0)) */
        }
    }
    if (S->burst_heap == hi) {
        live += S->nburst;
        usable += S->nburst * S->burst_usable;
        requested += S->nburst * S->burst_usable;
    }
    size_t small_used = 0, pools = 0;
    for (unsigned c = 0; c < RC_NUM_CLASSES; c++) {
        const rc_class_stats *cs = &st.classes[c];
        FH_CHECK_EQ(cs->block_size, (c + 1) * RC_ALIGNMENT);
        size_t blocks = cs->blocks_used + cs->blocks_free;
        FH_CHECK(blocks <= cs->pools * (RC_POOL_SIZE / cs->block_size));
        FH_CHECK(blocks >= cs->pools * (RC_POOL_SIZE / 2 / cs->block_size));
        small_used += cs->blocks_used;
        pools += cs->pools;
    }
    FH_CHECK_EQ(small_used + st.large_blocks, live + H->quarantined);
    if (H->mode == RC_MODE_MALLOC)
        FH_CHECK_EQ(small_used, 0);
    if (H->mode != RC_MODE_DEBUG) {
        FH_CHECK_EQ(st.bytes_in_use, usable);
        FH_CHECK_EQ(st.bytes_requested, st.bytes_in_use);
    } else {
        FH_CHECK_EQ(st.bytes_requested, requested);
    }
    FH_CHECK_EQ(pools + st.pools_free, st.arenas * 64);
    FH_CHECK_EQ(st.arenas_allocated - st.arenas_freed, st.arenas);
    FH_CHECK(st.arenas <= st.arenas_high_water);
    FH_CHECK(st.arenas_idle <= st.arenas);
    FH_CHECK_EQ(st.bytes_from_os, st.arenas * RC_ARENA_SIZE + st.large_bytes + st.arena_bytes_ahead);
    FH_CHECK(st.bytes_from_os <= st.bytes_high_water);
    FH_CHECK(st.large_blocks * 16 <= st.large_bytes);
    FH_CHECK((st.large_blocks == 0) == (st.large_bytes == 0));
    FH_CHECK_EQ(st.max_bytes, H->cap);
    FH_CHECK(st.failed_allocs >= H->failed);
    H->failed = st.failed_allocs;
    if (H->own_hooks) {
        FH_CHECK_EQ(st.bytes_from_os, H->hooks->live_bytes);
        FH_CHECK(H->hooks->high_bytes <= st.bytes_high_water);
        FH_CHECK_EQ(st.arena_bytes_ahead, 0);
    }
}

static void op_trim(fh_state *S, reader *r) {
    int hi = rd_u8(r) % S->nheaps;
    fh_heap *H = &S->heaps[hi];
    if (rd_u8(r) & 1) { /* the table walks what get_stats walks */
        FILE *sink = fopen("/dev/null", "w");
        FH_CHECK(sink != NULL);
        rc_heap_print_stats(H->h, sink);
        fclose(sink);
    }
    rc_heap_stats before = stats_of(H);
    size_t released = rc_heap_trim(H->h);
    H->quarantined = 0;
    rc_heap_stats after = stats_of(H);
    FH_CHECK_EQ(before.bytes_from_os - after.bytes_from_os, released);
    FH_CHECK_EQ(after.arenas_idle, 0);
    FH_CHECK_EQ(after.arena_bytes_ahead, 0);
    check_stats(S, hi);
}

static void op_set_cap(fh_state *S, reader *r) {
    fh_heap *H = &S->heaps[rd_u8(r) % S->nheaps];
    size_t cap = 0;
    switch (rd_u8(r) % 4) {
    case 0: cap = 0; break;
    case 1: cap = (size_t)(1 + rd_u8(r) % 16) * RC_ARENA_SIZE; break;
    case 2: cap = rd_uint(r, 3) * 16; break;
    default: cap = stats_of(H).bytes_from_os + rd_uint(r, 2); break;
    }
    H->cap = cap;
    if (H->own_hooks)
        H->hooks->cap = cap;
    rc_heap_set_max_bytes(H->h, cap);
}

static void op_hook_fail(fh_state *S, reader *r) {
    fh_heap *H = &S->heaps[rd_u8(r) % S->nheaps];
    if (H->own_hooks)
        H->hooks->fail_next = rd_u8(r) % 4;
}

static void op_fail_at(fh_state *S, reader *r) {
    fh_heap *H = &S->heaps[rd_u8(r) % S->nheaps];
    uint64_t n = rd_u8(r) % 8;
    rc_heap_fail_at(H->h, n);
    H->countdown = n;
}

/* Many blocks of one size: fill pools and arenas past their edges, then
 * free in an order from the input, checking the statistics half-way.  Each
 * block holds its own address in its first bytes, so two blocks that
 * overlap show. */
static void op_burst(fh_state *S, reader *r) {
    int hi = rd_u8(r) % S->nheaps;
    fh_heap *H = &S->heaps[hi];
    size_t size = 1 + rd_uint(r, 2) % (rd_u8(r) & 1 ? RC_SMALL_MAX : 2048);
    size_t count = 1 + rd_uint(r, 2) % FH_BURST_MAX;
    size_t mark = size < sizeof(uintptr_t) ? size : sizeof(uintptr_t);
    S->burst_heap = hi;
    S->nburst = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t refusals = H->own_hooks ? H->hooks->refusals : 0;
        bool injected = countdown_hits(H);
        unsigned char *p = rc_malloc(H->h, size);
        if (!p) {
            check_failure(S, hi, false, refusals, injected, need_for(H, size));
            break;
        }
        FH_CHECK(!injected);
        FH_CHECK(((uintptr_t)p % RC_ALIGNMENT) == 0);
        size_t u = rc_usable_size(p);
        if (S->nburst == 0)
            S->burst_usable = u;
        FH_CHECK_EQ(u, S->burst_usable);
        uintptr_t self = (uintptr_t)p;
        memcpy(p, &self, mark);
        S->burst[S->nburst++] = p;
    }
    check_no_failure(H);
    check_stats(S, hi);
    unsigned order = rd_u8(r) % 3;
    uint64_t mix = rd_uint(r, 8) | 1;
    size_t half = S->nburst / 2;
    while (S->nburst) {
        size_t k = order == 0 ? S->nburst - 1 : order == 1 ? 0 : (size_t)((mix >> 17) % S->nburst);
        mix = mix * 6364136223846793005ull + 1442695040888963407ull;
        unsigned char *p = S->burst[k];
        uintptr_t self = (uintptr_t)p, held = 0;
        memcpy(&held, p, mark);
        if (memcmp(&held, &self, mark) != 0)
            fh_fail(__FILE__, __LINE__, "burst block %p was overwritten", (void *)p);
        S->burst[k] = S->burst[--S->nburst];
        if (mix & (1u << 30))
            rc_free(p);
        else
            rc_free_sized(H->h, p, size);
        quarantine_one(H);
        if (S->nburst == half)
            check_stats(S, hi);
    }
    S->burst_heap = -1;
    check_stats(S, hi);
}

/* ---- The run --------------------------------------------------------------------- */

static fh_hooks hook_store[FH_MAX_HEAPS];

static void heap_setup(fh_state *S, int hi, reader *r) {
    fh_heap *H = &S->heaps[hi];
    uint8_t c = rd_u8(r);
    memset(H, 0, sizeof *H);
    H->mode = (rc_alloc_mode)(RC_MODE_POOL + c % 3);
    H->own_hooks = (c & 0x04) == 0 || (c & 0x08) == 0; /* three in four */
    H->realloc_hook = (c & 0x10) != 0;
    rc_heap_config cfg;
    rc_heap_config_init(&cfg);
    cfg.mode = H->mode;
    cfg.on_error = fh_on_report;
    cfg.idle_arena_ms = (c & 0x20) ? -1 : (c & 0x40) ? 1 : 0;
    cfg.huge_pages = (c & 0x80) ? RC_HUGE_ON : RC_HUGE_OFF;
    if (H->own_hooks) {
        fh_hooks *k = &hook_store[hi];
        memset(k, 0, sizeof *k);
        k->raw.ctx = k;
        k->raw.arena_alloc = hook_arena_alloc;
        k->raw.arena_free = hook_arena_free;
        k->raw.large_alloc = hook_large_alloc;
        k->raw.large_free = hook_large_free;
        k->raw.large_realloc = H->realloc_hook ? hook_large_realloc : NULL;
        k->creating = true;
        H->hooks = k;
        cfg.hooks = &k->raw;
    }
    H->h = rc_heap_new(&cfg);
    if (!H->h)
        fh_fail(__FILE__, __LINE__, "rc_heap_new failed");
    FH_CHECK(rc_heap_mode(H->h) == H->mode);
    if (H->own_hooks)
        FH_CHECK(!H->hooks->creating && H->hooks->control != NULL);
}

/* Free everything, check that the heap holds nothing, destroy it. */
static void heap_teardown(fh_state *S, int hi, reader *r) {
    fh_heap *H = &S->heaps[hi];
    for (int i = 0; i < FH_SLOTS; i++)
        if (S->slots[i].p && S->slots[i].heap == hi)
            slot_release(S, i, r);
    check_stats(S, hi);
    rc_heap_trim(H->h);
    H->quarantined = 0;
    check_stats(S, hi);
    rc_heap_stats st = stats_of(H);
    FH_CHECK_EQ(st.arenas, 0);
    FH_CHECK_EQ(st.large_blocks, 0);
    FH_CHECK_EQ(st.bytes_in_use, 0);
    FH_CHECK_EQ(st.bytes_requested, 0);
    FH_CHECK_EQ(st.bytes_from_os, 0);
    rc_heap_destroy(H->h);
    if (H->own_hooks) {
        FH_CHECK_EQ(H->hooks->nlive, 0);
        FH_CHECK(H->hooks->control == NULL);
    }
    H->h = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static fh_state S;
    reader r = {data, size};
    memset(&S, 0, sizeof S);
    S.burst_heap = -1;
    S.nheaps = 1 + rd_u8(&r) % FH_MAX_HEAPS;
    for (int i = 0; i < S.nheaps; i++)
        heap_setup(&S, i, &r);
    while (r.n) {
        switch (rd_u8(&r) % 20) {
        case 0: case 1: case 2: op_malloc(&S, &r, false); break;
        case 3: op_malloc(&S, &r, true); break;
        case 4: case 5: case 6: op_realloc(&S, &r); break;
        case 7: op_realloc_cross(&S, &r); break;
        case 8: case 9: op_free(&S, &r); break;
        case 10: op_free_sized_lenient(&S, &r); break;
        case 11: op_inspect(&S, &r); break;
        case 12: op_trim(&S, &r); break;
        case 13: check_stats(&S, rd_u8(&r) % S.nheaps); break;
        case 14: op_set_cap(&S, &r); break;
        case 15: op_hook_fail(&S, &r); break;
        case 16: op_fail_at(&S, &r); break;
        case 17: op_burst(&S, &r); break;
        case 18: verify_all(&S); break;
        default: check_stats(&S, rd_u8(&r) % S.nheaps); break;
        }
    }
    verify_all(&S);
    /* the end of the input: hooks and countdowns off, so freeing works */
    for (int i = 0; i < S.nheaps; i++) {
        rc_heap_fail_at(S.heaps[i].h, 0);
        if (S.heaps[i].own_hooks)
            S.heaps[i].hooks->fail_next = 0;
        check_stats(&S, i);
    }
    for (int i = 0; i < S.nheaps; i++)
        heap_teardown(&S, i, &r);
    return 0;
}
