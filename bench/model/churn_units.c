/*
 * bench/model/churn_units.c — how much memory class-segregated allocators
 * would touch on churn W=1K: a model, not a benchmark (no allocator runs).
 *
 * Why it exists: the allocator (foundation) issue asks for a peak RSS no
 * worse than glibc's on the churn workloads.  At W=1K rcgc misses that by
 * about 0.2 MiB (docs/benchmarks.md): its arena has 133 pages (532 KiB)
 * resident where glibc's [heap] has 372 KiB, because each of the 32 size
 * classes keeps the pages of its own peak (docs/allocator.md, "Small heaps
 * and 32 classes").  This program asks whether a finer class-segregated
 * design, in which classes share memory in units smaller than a page,
 * could get there while keeping per-class caches in front of the slow
 * path.
 *
 * What it models: the exact inputs of alloc_bench's churn W=1K (the same
 * generator, ../alloc_bench_input.h, with the default seed: 1,000 live
 * blocks of 8..512 bytes; each step frees a random one, then allocates one
 * of random size into its slot) replayed against one of two allocators.
 * Addresses are offsets into a modelled memory; nothing is ever given back
 * to the OS, so the pages touched at the end are the high-water mark.
 *
 *   base  rcgc as it is (src/alloc/heap.c): one 1 MiB arena of 16 KiB
 *         pools, each of one class (the arena header in pool 0); per class
 *         a LIFO cache of up to 16 KiB of free blocks, half of it returned
 *         to the pools when a free overflows it; a refill takes a pool's
 *         whole free list or carves the blocks that start in the page of
 *         its bump pointer; an empty pool goes back to the arena unless it
 *         is its class's last pool with room.  Not modelled: the shrink
 *         detector, huge pages, large blocks (the churn has none).
 *   unit  memory cut into units of 512 B .. 32 KiB (powers of two, aligned
 *         to their size), a unit holding blocks of one class while it has
 *         any; an empty unit is released at once (unless KEEP is -1), and
 *         any class can then take its memory (first fit).  Per class a
 *         LIFO cache of K blocks (K = 0: every malloc and every free takes
 *         the slow path); a cache miss takes the lowest free slot of the
 *         fullest (or of the lowest) unit of the class with room, and a
 *         free into a full cache gives the block back to its unit.
 *
 * A page counts as touched in two ways: "start" when a block that starts
 * in it is handed out (what the benchmark writes: a block's first word;
 * the base model's figure, which matches the pages rcgc's arena really
 * has resident), and "overlap" when any byte of such a block lies in it
 * (a client writing whole blocks; the unit model's touched=, the stricter
 * figure; with units of 4 KiB or less the two are equal).
 *
 * What it found (2026-12-07, 20M steps, bench/model/sweep.sh): base
 * touches 532 KiB (133 pages), the arena's measured resident pages.  No
 * unit design gets under 368 KiB, and that takes K = 0 (units of 512 B or
 * 1 KiB and no cache at all: two slow-path events per step).  Within the
 * estimated cost budget of about 1.4 ns per step, K >= 16 (0.026 misses
 * and as many overflows per step, against rcgc's 0.00020 refills and
 * 0.00013 overflows), the designs touch 460-504 KiB; with K = 32,
 * 528-548, no better than today.  Touched memory grows with what the caches can hold:
 * K blocks in each of the 32 classes are K x 8.25 KiB (132 KiB at K = 16).
 * For comparison, the least any allocator of these classes could hold
 * (every class packed into whole pages at every step) is 360 KiB, and
 * glibc's [heap] is 372.
 *
 * How to run it (built with the benchmarks as build/bench/churn_units):
 *
 *   churn_units base [STEPS]
 *   churn_units unit POLICY K PICK [STEPS [KEEP]]
 *   bench/model/sweep.sh [BUILD_DIR [STEPS]]   the table in docs/allocator.md
 *
 * (POLICY, PICK and KEEP: see usage() below.)  Each run prints one line
 * (base: two) of key=value pairs; a run of 20M steps takes 0.5-4 s.
 */
#define MODEL_PROGRAM "churn_units"
#include "churn_model.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the workload ------------------------------------------------------ */


/* rcgc's small classes: class c holds blocks of (c + 1) * CLASS_STEP
 * bytes, up to MAX_SIZE. */
#define CLASS_STEP 16u
#define NCLASSES (MAX_SIZE / CLASS_STEP)

#define PAGE_SIZE 4096
#define MODEL_PAGES (MODEL_MEMORY / PAGE_SIZE)

/* An address that is no block: the end of a free list. */
#define NO_BLOCK SIZE_MAX
/* The class of a pool or unit that no class has. */
#define NO_CLASS (-1)

static unsigned class_of(unsigned request) { return (request - 1) / CLASS_STEP; }

static unsigned class_size(unsigned c) { return (c + 1) * CLASS_STEP; }

static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }


/* ---- what both models report ------------------------------------------- */

/* The unit sizes (1, 2 and 4 KiB) for which the packing bound is kept:
 * max over time of sum over classes of ceil(live bytes of c / U) * U, the
 * least memory any allocator of these classes needs if every class were
 * packed into as few units as possible at every step. */
#define NBOUNDS 3
static const size_t bound_unit[NBOUNDS] = {1024, 2048, 4096};

/* The model's memory seen from outside: the pages its blocks touched
 * (kept by the models) and the live blocks (kept by the replay). */
typedef struct footprint {
    uint8_t start_touched[MODEL_PAGES]; /* a handed-out block starts in the page */
    uint8_t touched[MODEL_PAGES];       /* a handed-out block overlaps the page */
    size_t start_touched_pages;
    size_t touched_pages;
    size_t live_in_class[NCLASSES];
    size_t live_bytes; /* in class sizes */
    size_t max_live_bytes;
    size_t request_bytes; /* as requested */
    size_t max_request_bytes;
    size_t packed_bytes[NBOUNDS];
    size_t max_packed_bytes[NBOUNDS];
    size_t live_at_last_touch; /* live_bytes when a page was last touched */
} footprint;

/* A block of len bytes at addr is handed out. */
static void footprint_touch(footprint *fp, size_t addr, size_t len)
{
    size_t first = addr / PAGE_SIZE;
    size_t last = (addr + len - 1) / PAGE_SIZE;
    if (!fp->start_touched[first]) {
        fp->start_touched[first] = 1;
        fp->start_touched_pages++;
    }
    for (size_t p = first; p <= last; p++) {
        if (!fp->touched[p]) {
            fp->touched[p] = 1;
            fp->touched_pages++;
            fp->live_at_last_touch = fp->live_bytes;
        }
    }
}

static void update_max(size_t *max, size_t value)
{
    if (value > *max)
        *max = value;
}

/* One more (delta = 1) or one fewer (delta = -1) live block of `request`
 * bytes. */
static void footprint_count(footprint *fp, unsigned request, int delta)
{
    unsigned c = class_of(request);
    size_t sz = class_size(c);
    size_t *live = &fp->live_in_class[c];
    for (int i = 0; i < NBOUNDS; i++)
        fp->packed_bytes[i] -= ceil_div(*live * sz, bound_unit[i]) * bound_unit[i];
    if (delta > 0) {
        *live += 1;
        fp->live_bytes += sz;
        fp->request_bytes += request;
    } else {
        *live -= 1;
        fp->live_bytes -= sz;
        fp->request_bytes -= request;
    }
    for (int i = 0; i < NBOUNDS; i++) {
        fp->packed_bytes[i] += ceil_div(*live * sz, bound_unit[i]) * bound_unit[i];
        update_max(&fp->max_packed_bytes[i], fp->packed_bytes[i]);
    }
    update_max(&fp->max_live_bytes, fp->live_bytes);
    update_max(&fp->max_request_bytes, fp->request_bytes);
}

/* ---- the replay ---------------------------------------------------------- */

/* A model allocator: blocks are addresses in the modelled memory. */
typedef struct model {
    void *state;
    size_t (*alloc_block)(void *state, unsigned request);
    void (*free_block)(void *state, size_t block, unsigned request);
} model;

typedef struct replay {
    const churn_input *in;
    model m;
    footprint *fp;
    size_t *block;     /* each slot's live block */
    uint16_t *request; /* and the size it was requested with */
} replay;

static size_t replay_alloc(replay *r, unsigned request)
{
    size_t block = r->m.alloc_block(r->m.state, request);
    footprint_count(r->fp, request, +1);
    return block;
}

static void replay_free(replay *r, size_t slot)
{
    footprint_count(r->fp, r->request[slot], -1);
    r->m.free_block(r->m.state, r->block[slot], r->request[slot]);
}

static void replay_init(replay *r, const churn_input *in, model m, footprint *fp)
{
    r->in = in;
    r->m = m;
    r->fp = fp;
    r->block = alloc_or_die(in->live, sizeof *r->block);
    r->request = alloc_or_die(in->live, sizeof *r->request);
}

/* alloc_bench's fill_: the W initial live blocks. */
static void replay_fill(replay *r)
{
    for (size_t i = 0; i < r->in->live; i++) {
        r->block[i] = replay_alloc(r, r->in->size[i]);
        r->request[i] = r->in->size[i];
    }
}

/* alloc_bench's loop_churn_: free the victim, allocate into its slot. */
static void replay_steps(replay *r)
{
    const uint16_t *size = r->in->size + r->in->live; /* after the fill's */
    size_t left = r->in->steps;
    while (left > 0) {
        size_t n = left < r->in->ring ? left : r->in->ring;
        for (size_t s = 0; s < n; s++) {
            uint32_t v = r->in->victim[s];
            replay_free(r, v);
            r->block[v] = replay_alloc(r, size[s]);
            r->request[v] = size[s];
        }
        left -= n;
    }
}

static void replay_done(replay *r)
{
    free(r->block);
    free(r->request);
}

/* ---- base: rcgc as it is -------------------------------------------------
 * Where a constant or a function mirrors one of src/alloc (internal.h,
 * heap.c), its comment names it. */

#define POOL_SIZE 16384     /* RC_POOL_SIZE */
#define POOLS_PER_ARENA 64  /* RC_POOLS_PER_ARENA; one arena is enough here */
#define ARENA_SIZE ((size_t)POOL_SIZE * POOLS_PER_ARENA)
#define ARENA_HEADER 3776   /* ARENA_HDR_BYTES: sizeof(rc_arena) rounded up to 64, x86-64 */
#define CACHE_BYTES POOL_SIZE /* RC_CACHE_BYTES: a class caches up to this */
#define CARVE_BYTES PAGE_SIZE /* RC_CARVE_BYTES: carves stop at this boundary */
#define NO_POOL (-1)

typedef struct pool {
    int cls;          /* NO_CLASS while the arena has it */
    size_t used;      /* blocks out: live or in the cache */
    size_t free_list; /* freed blocks, NO_BLOCK if none */
    size_t start;     /* first block */
    size_t bump;      /* first never-carved block */
    size_t limit;     /* end of the last whole block */
    int full;         /* no free and no uncarved block: off its class's list */
    int prev, next;   /* the class's list of pools with room */
    int next_free;    /* the arena's list of free pools */
} pool;

typedef struct class_cache {
    size_t head; /* LIFO of free blocks, linked through base_model.link */
    size_t count;
    size_t max;
} class_cache;

typedef struct base_model {
    footprint *fp;
    pool pools[POOLS_PER_ARENA];
    int with_room[NCLASSES]; /* head of each class's list of pools with room */
    int free_pools;          /* pools emptied and given back, LIFO */
    int next_fresh;          /* pools never used start here */
    class_cache cache[NCLASSES];
    uint64_t refills, overflows, pools_taken, pools_released, carves;
    /* A free block's first word: the next block of its list.  Blocks start
     * at multiples of CLASS_STEP (pool starts and the header are). */
    size_t link[ARENA_SIZE / CLASS_STEP];
} base_model;

static size_t *link_of(base_model *m, size_t block) { return &m->link[block / CLASS_STEP]; }

static void pool_list_push(base_model *m, unsigned c, int p)
{
    pool *pl = &m->pools[p];
    pl->prev = NO_POOL;
    pl->next = m->with_room[c];
    if (m->with_room[c] != NO_POOL)
        m->pools[m->with_room[c]].prev = p;
    m->with_room[c] = p;
}

static void pool_list_remove(base_model *m, unsigned c, int p)
{
    pool *pl = &m->pools[p];
    if (pl->prev != NO_POOL)
        m->pools[pl->prev].next = pl->next;
    else
        m->with_room[c] = pl->next;
    if (pl->next != NO_POOL)
        m->pools[pl->next].prev = pl->prev;
    pl->next = NO_POOL;
    pl->prev = NO_POOL;
}

/* A pool for class c: the last one given back, else a never-used one. */
static int pool_take(base_model *m, unsigned c)
{
    int p;
    if (m->free_pools != NO_POOL) {
        p = m->free_pools;
        m->free_pools = m->pools[p].next_free;
    } else {
        if (m->next_fresh == POOLS_PER_ARENA)
            out_of_model_memory();
        p = m->next_fresh++;
    }
    m->pools_taken++;
    size_t sz = class_size(c);
    size_t end = (size_t)(p + 1) * POOL_SIZE;
    pool *pl = &m->pools[p];
    pl->cls = (int)c;
    pl->start = p == 0 ? ARENA_HEADER : (size_t)p * POOL_SIZE;
    pl->free_list = NO_BLOCK;
    pl->bump = pl->start;
    pl->limit = pl->start + (end - pl->start) / sz * sz;
    pl->used = 0;
    pl->full = 0;
    pool_list_push(m, c, p);
    return p;
}

/* A pool's last block came back: give the pool back to the arena, unless it
 * is the only pool with room its class has. */
static void pool_emptied(base_model *m, int p)
{
    pool *pl = &m->pools[p];
    unsigned c = (unsigned)pl->cls;
    int only_pool_with_room = m->with_room[c] == p && pl->next == NO_POOL;
    if (only_pool_with_room)
        return;
    pool_list_remove(m, c, p);
    pl->cls = NO_CLASS;
    pl->full = 0;
    pl->free_list = NO_BLOCK;
    pl->next_free = m->free_pools;
    m->free_pools = p;
    m->pools_released++;
}

/* How many blocks to carve at the pool's bump (carve_count): those that
 * start before the end of bump's page, at most what is left. */
static size_t carve_count(const pool *pl, size_t sz)
{
    size_t to_page_end = CARVE_BYTES - (pl->bump & (CARVE_BYTES - 1));
    size_t n = ceil_div(to_page_end, sz);
    size_t left = (pl->limit - pl->bump) / sz;
    return n < left ? n : left;
}

/* Carve n never-used blocks into class c's (empty) cache. */
static void pool_carve(base_model *m, unsigned c, pool *pl, size_t n)
{
    size_t sz = class_size(c);
    size_t head = NO_BLOCK;
    for (size_t i = n; i-- > 0;) {
        size_t block = pl->bump + i * sz;
        *link_of(m, block) = head;
        head = block;
        footprint_touch(m->fp, block, sz);
    }
    m->carves++;
    pl->bump += n * sz;
    m->cache[c].head = head;
    m->cache[c].count = n;
    pl->used += n;
}

/* Class c's cache is empty: fill it from its first pool with room (taking
 * a pool if it has none), with the pool's whole free list or a carve. */
static void cache_refill(base_model *m, unsigned c)
{
    size_t sz = class_size(c);
    class_cache *k = &m->cache[c];
    m->refills++;
    for (;;) {
        int p = m->with_room[c];
        if (p == NO_POOL)
            p = pool_take(m, c);
        pool *pl = &m->pools[p];
        if (pl->free_list != NO_BLOCK) {
            size_t carved = (pl->bump - pl->start) / sz;
            size_t n = carved - pl->used; /* every block not out is on the list */
            k->head = pl->free_list;
            k->count = n;
            pl->free_list = NO_BLOCK;
            pl->used += n;
        } else if (pl->bump < pl->limit) {
            pool_carve(m, c, pl, carve_count(pl, sz));
        }
        if (pl->free_list == NO_BLOCK && pl->bump == pl->limit) {
            pl->full = 1;
            pool_list_remove(m, c, p);
        }
        if (k->head != NO_BLOCK)
            return;
    }
}

/* Return up to count blocks from the head of class c's cache to their
 * pools (cache_return_blocks): each run of blocks of one pool in one go. */
static void cache_return(base_model *m, unsigned c, size_t count)
{
    class_cache *k = &m->cache[c];
    while (count > 0 && k->head != NO_BLOCK) {
        size_t first = k->head;
        size_t last = first;
        int p = (int)(first / POOL_SIZE);
        size_t n = 1;
        for (;;) {
            size_t next = *link_of(m, last);
            if (n == count || next == NO_BLOCK || next / POOL_SIZE != (size_t)p)
                break;
            last = next;
            n++;
        }
        k->head = *link_of(m, last);
        k->count -= n;
        count -= n;
        pool *pl = &m->pools[p];
        *link_of(m, last) = pl->free_list;
        pl->free_list = first;
        if (pl->full) {
            pl->full = 0;
            pool_list_push(m, c, p);
        }
        pl->used -= n;
        if (pl->used == 0)
            pool_emptied(m, p);
    }
}

static size_t base_alloc(void *state, unsigned request)
{
    base_model *m = state;
    unsigned c = class_of(request);
    class_cache *k = &m->cache[c];
    if (k->head == NO_BLOCK)
        cache_refill(m, c);
    size_t block = k->head;
    k->head = *link_of(m, block);
    k->count--;
    return block;
}

static void base_free(void *state, size_t block, unsigned request)
{
    base_model *m = state;
    unsigned c = class_of(request);
    class_cache *k = &m->cache[c];
    *link_of(m, block) = k->head;
    k->head = block;
    k->count++;
    if (k->count > k->max) {
        m->overflows++;
        cache_return(m, c, k->max / 2);
    }
}

static void base_init(base_model *m, footprint *fp)
{
    m->fp = fp;
    m->free_pools = NO_POOL;
    m->next_fresh = 0;
    for (unsigned c = 0; c < NCLASSES; c++) {
        m->with_room[c] = NO_POOL;
        m->cache[c].head = NO_BLOCK;
        m->cache[c].count = 0;
        m->cache[c].max = CACHE_BYTES / class_size(c);
    }
    for (int p = 0; p < POOLS_PER_ARENA; p++) {
        m->pools[p].cls = NO_CLASS;
        m->pools[p].next = NO_POOL;
        m->pools[p].prev = NO_POOL;
    }
    footprint_touch(fp, 0, ARENA_HEADER);
}

static void run_base(const churn_input *in)
{
    base_model *m = alloc_or_die(1, sizeof *m);
    footprint *fp = alloc_or_die(1, sizeof *fp);
    base_init(m, fp);
    replay r;
    replay_init(&r, in, (model){m, base_alloc, base_free}, fp);
    replay_fill(&r);
    /* The per-step rates count the steps only. */
    uint64_t refills0 = m->refills;
    uint64_t overflows0 = m->overflows;
    uint64_t taken0 = m->pools_taken;
    uint64_t released0 = m->pools_released;
    replay_steps(&r);
    double steps = (double)in->steps;
    size_t kib_per_page = PAGE_SIZE / 1024;
    printf("BASE(real rcgc model) steps=%zu touched_start=%zu KiB (%zu pages) touched_overlap=%zu KiB"
           " pools_ever=%d refill/step=%.5f overflow/step=%.5f pooltake/step=%.6f poolrel/step=%.6f"
           " carves=%llu\n",
           in->steps, fp->start_touched_pages * kib_per_page, fp->start_touched_pages,
           fp->touched_pages * kib_per_page, m->next_fresh, (m->refills - refills0) / steps,
           (m->overflows - overflows0) / steps, (m->pools_taken - taken0) / steps,
           (m->pools_released - released0) / steps, (unsigned long long)m->carves);
    printf("  max_live_class_bytes=%.1f KiB max_req_bytes=%.1f KiB"
           " LB(max_t sum ceil) 1K=%zu 2K=%zu 4K=%zu KiB\n",
           fp->max_live_bytes / 1024.0, fp->max_request_bytes / 1024.0, fp->max_packed_bytes[0] / 1024,
           fp->max_packed_bytes[1] / 1024, fp->max_packed_bytes[2] / 1024);
    replay_done(&r);
    free(fp);
    free(m);
}

/* ---- unit: sub-page units shared between classes ------------------------ */

/* Units are powers of two from GRANULE to MAX_UNIT_BYTES bytes, placed at
 * multiples of their size; the modelled memory is tracked in granules. */
#define GRANULE 512u
#define MAX_UNIT_SLOTS 2048                             /* blocks a unit's bitmap can hold */
#define MAX_UNIT_BYTES (MAX_UNIT_SLOTS * CLASS_STEP)    /* the smallest class fills it */
#define GRANULES (MODEL_MEMORY / GRANULE)
#define WORD_BITS 64
_Static_assert(MAX_UNIT_BYTES / GRANULE <= WORD_BITS, "a unit's granules lie in one bitmap word");
/* More than churn W=1K's 1,000 live blocks could ever fill. */
#define MAX_CACHE_BLOCKS 4096u

typedef struct unit {
    int cls;           /* NO_CLASS while free */
    unsigned granules; /* its size */
    unsigned capacity; /* blocks of its class it holds */
    unsigned used;     /* blocks out: live or in a cache */
    uint64_t slot_used[MAX_UNIT_SLOTS / WORD_BITS];
} unit;

typedef struct unit_policy {
    unsigned granules[NCLASSES]; /* each class's unit size */
    unsigned cache_blocks;       /* K */
    int pick_fullest;            /* else the lowest unit with room */
    int keep;                    /* 0: release an empty unit at once; -1: never */
} unit_policy;

typedef struct unit_model {
    footprint *fp;
    unit_policy policy;
    unit *units;                          /* by first granule */
    uint64_t granule_used[GRANULES / WORD_BITS];
    size_t *owned[NCLASSES];              /* first granules of each class's units */
    size_t owned_count[NCLASSES];
    size_t *cache[NCLASSES];              /* LIFO of free blocks, K at most */
    size_t cached[NCLASSES];
    uint64_t misses, overflows, acquired, released;
    size_t unit_bytes;                    /* in units now */
    size_t max_unit_bytes;
    size_t extent;                        /* end of the highest unit ever */
} unit_model;

/* The bits of granules [g, g + n) in their bitmap word. */
static uint64_t granule_mask(size_t g, unsigned n)
{
    uint64_t run = n == WORD_BITS ? ~0ull : (1ull << n) - 1;
    return run << (g % WORD_BITS);
}

/* Class c's unit at the first free place (first fit, at a multiple of
 * its size). */
static size_t unit_acquire(unit_model *m, unsigned c)
{
    unsigned n = m->policy.granules[c];
    for (size_t g = 0; g < GRANULES; g += n) {
        uint64_t mask = granule_mask(g, n);
        uint64_t *word = &m->granule_used[g / WORD_BITS];
        if (*word & mask)
            continue;
        *word |= mask;
        unit *u = &m->units[g];
        u->cls = (int)c;
        u->granules = n;
        u->capacity = n * GRANULE / class_size(c);
        u->used = 0;
        memset(u->slot_used, 0, sizeof u->slot_used);
        m->owned[c][m->owned_count[c]++] = g;
        m->acquired++;
        m->unit_bytes += (size_t)n * GRANULE;
        update_max(&m->max_unit_bytes, m->unit_bytes);
        update_max(&m->extent, (g + n) * GRANULE);
        return g;
    }
    out_of_model_memory();
}

static void unit_release(unit_model *m, size_t g)
{
    unit *u = &m->units[g];
    unsigned c = (unsigned)u->cls;
    size_t *owned = m->owned[c];
    for (size_t i = 0; i < m->owned_count[c]; i++) {
        if (owned[i] == g) {
            owned[i] = owned[--m->owned_count[c]];
            break;
        }
    }
    m->granule_used[g / WORD_BITS] &= ~granule_mask(g, u->granules);
    u->cls = NO_CLASS;
    m->released++;
    m->unit_bytes -= (size_t)u->granules * GRANULE;
}

/* Whether unit g is a better pick than unit best (ties: the lower). */
static int unit_better(const unit_model *m, size_t g, size_t best)
{
    if (!m->policy.pick_fullest)
        return g < best;
    unsigned used = m->units[g].used;
    unsigned best_used = m->units[best].used;
    return used > best_used || (used == best_used && g < best);
}

/* Class c's unit to allocate from: the best with room, else a new one. */
static size_t unit_pick(unit_model *m, unsigned c)
{
    int found = 0;
    size_t best = 0;
    for (size_t i = 0; i < m->owned_count[c]; i++) {
        size_t g = m->owned[c][i];
        if (m->units[g].used >= m->units[g].capacity)
            continue;
        if (!found || unit_better(m, g, best))
            best = g;
        found = 1;
    }
    return found ? best : unit_acquire(m, c);
}

/* A cache miss: the lowest free slot of the picked unit. */
static size_t unit_take_block(unit_model *m, unsigned c)
{
    size_t g = unit_pick(m, c);
    unit *u = &m->units[g];
    unsigned w = 0;
    while (u->slot_used[w] == ~0ull)
        w++;
    unsigned slot = w * WORD_BITS + (unsigned)__builtin_ctzll(~u->slot_used[w]);
    u->slot_used[w] |= 1ull << (slot % WORD_BITS);
    u->used++;
    size_t block = g * GRANULE + (size_t)slot * class_size(c);
    footprint_touch(m->fp, block, class_size(c));
    return block;
}

/* A free into a full cache: the block goes back to its unit, found from
 * its address since units lie at multiples of their size. */
static void unit_give_block(unit_model *m, unsigned c, size_t block)
{
    size_t unit_size = (size_t)m->policy.granules[c] * GRANULE;
    size_t g = block / unit_size * m->policy.granules[c];
    unsigned slot = (unsigned)(block % unit_size / class_size(c));
    unit *u = &m->units[g];
    u->slot_used[slot / WORD_BITS] &= ~(1ull << (slot % WORD_BITS));
    u->used--;
    if (u->used == 0 && m->policy.keep == 0)
        unit_release(m, g);
}

static size_t unit_alloc(void *state, unsigned request)
{
    unit_model *m = state;
    unsigned c = class_of(request);
    if (m->cached[c] > 0)
        return m->cache[c][--m->cached[c]];
    m->misses++;
    return unit_take_block(m, c);
}

static void unit_free(void *state, size_t block, unsigned request)
{
    unit_model *m = state;
    unsigned c = class_of(request);
    if (m->cached[c] < m->policy.cache_blocks) {
        m->cache[c][m->cached[c]++] = block;
        return;
    }
    m->overflows++;
    unit_give_block(m, c, block);
}

static void unit_init(unit_model *m, const unit_policy *policy, footprint *fp)
{
    m->fp = fp;
    m->policy = *policy;
    m->units = alloc_or_die(GRANULES, sizeof *m->units);
    for (unsigned c = 0; c < NCLASSES; c++) {
        /* At most as many units of its size as the modelled memory holds. */
        m->owned[c] = alloc_or_die(GRANULES / policy->granules[c], sizeof *m->owned[c]);
        /* + 1: calloc(0) may give NULL. */
        m->cache[c] = alloc_or_die(policy->cache_blocks + 1, sizeof *m->cache[c]);
    }
}

static void unit_done(unit_model *m)
{
    for (unsigned c = 0; c < NCLASSES; c++) {
        free(m->owned[c]);
        free(m->cache[c]);
    }
    free(m->units);
}

static void run_unit(const churn_input *in, const unit_policy *policy, const char *policy_name,
                     const char *pick_name)
{
    unit_model *m = alloc_or_die(1, sizeof *m);
    footprint *fp = alloc_or_die(1, sizeof *fp);
    unit_init(m, policy, fp);
    replay r;
    replay_init(&r, in, (model){m, unit_alloc, unit_free}, fp);
    replay_fill(&r);
    /* The per-step rates count the steps only. */
    uint64_t misses0 = m->misses;
    uint64_t overflows0 = m->overflows;
    uint64_t acquired0 = m->acquired;
    uint64_t released0 = m->released;
    replay_steps(&r);
    double steps = (double)in->steps;
    size_t kib_per_page = PAGE_SIZE / 1024;
    printf("UNIT policy=%s K=%u pick=%s keep=%d steps=%zu touched=%zu KiB touched_start=%zu KiB"
           " max_inuse_units=%.1f KiB extent=%.1f KiB miss/step=%.5f over/step=%.5f acq/step=%.6f"
           " rel/step=%.6f max_live=%.1f KiB live_at_last_touch=%.1f KiB LB4K=%zu KiB units:",
           policy_name, policy->cache_blocks, pick_name, policy->keep, in->steps,
           fp->touched_pages * kib_per_page, fp->start_touched_pages * kib_per_page,
           m->max_unit_bytes / 1024.0, m->extent / 1024.0, (m->misses - misses0) / steps,
           (m->overflows - overflows0) / steps, (m->acquired - acquired0) / steps,
           (m->released - released0) / steps, fp->max_live_bytes / 1024.0,
           fp->live_at_last_touch / 1024.0, fp->max_packed_bytes[NBOUNDS - 1] / 1024);
    /* The unit sizes, from the first class of each. */
    unsigned shown = 0;
    for (unsigned c = 0; c < NCLASSES; c++) {
        if (policy->granules[c] != shown) {
            shown = policy->granules[c];
            printf(" c%u+:%u", c, shown * GRANULE);
        }
    }
    printf("\n");
    replay_done(&r);
    unit_done(m);
    free(fp);
    free(m);
}

/* ---- arguments ----------------------------------------------------------- */

static _Noreturn void usage(void)
{
    fprintf(stderr,
            "usage: churn_units base [STEPS]\n"
            "       churn_units unit POLICY K PICK [STEPS [KEEP]]\n"
            "  POLICY  U=BYTES: units of BYTES for every class, or\n"
            "          per:MIN:N[:MAX]: class c's unit holds N blocks of c, with at\n"
            "          least MIN and at most MAX bytes; sizes round up to a power\n"
            "          of two, which must be %u..%u\n"
            "  K       free blocks each class caches (0..%u)\n"
            "  PICK    full: allocate from the fullest unit with room; low: the lowest\n"
            "  STEPS   churn steps after the fill of %u blocks (default %u)\n"
            "  KEEP    0: an empty unit is released at once (default); -1: never\n",
            GRANULE, MAX_UNIT_BYTES, MAX_CACHE_BLOCKS, BENCH_DEFAULT_LIVE, BENCH_DEFAULT_STEPS);
    exit(2);
}

static _Noreturn void bad_arguments(const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    fputs("churn_units: ", stderr);
    vfprintf(stderr, format, ap);
    fputc('\n', stderr);
    va_end(ap);
    usage();
}

/* A decimal number; *end (if end) gets what follows it, else nothing may. */
static unsigned long long parse_number(const char *s, const char **end, const char *what)
{
    char *stop = NULL;
    if (*s < '0' || *s > '9')
        bad_arguments("%s, not '%s'", what, s);
    unsigned long long v = strtoull(s, &stop, 10);
    if (end != NULL)
        *end = stop;
    else if (*stop != '\0')
        bad_arguments("%s, not '%s'", what, s);
    return v;
}

/* Class c's unit size in granules: `blocks` blocks of c, at least
 * min_bytes, at most max_bytes, rounded up to a power of two. */
static unsigned unit_granules(unsigned c, unsigned long long min_bytes, unsigned long long blocks,
                              unsigned long long max_bytes)
{
    unsigned long long want = blocks * class_size(c);
    if (want < min_bytes)
        want = min_bytes;
    unsigned long long bytes = GRANULE;
    while (bytes < want && bytes <= MAX_UNIT_BYTES) /* no further: it is too large already */
        bytes <<= 1;
    if (bytes > max_bytes)
        bytes = max_bytes;
    if (bytes < GRANULE || bytes > MAX_UNIT_BYTES || (bytes & (bytes - 1)) != 0)
        bad_arguments("class %u (%u bytes) would get units of %llu%s bytes, not a power of two of %u..%u",
                      c, class_size(c), bytes, bytes > MAX_UNIT_BYTES ? " or more" : "", GRANULE,
                      MAX_UNIT_BYTES);
    return (unsigned)(bytes / GRANULE);
}

static void parse_policy(const char *s, unit_policy *policy)
{
    const char *what = "POLICY is U=BYTES or per:MIN:N[:MAX]";
    unsigned long long min_bytes, blocks = 0, max_bytes = ULLONG_MAX;
    if (strncmp(s, "U=", 2) == 0) {
        min_bytes = parse_number(s + 2, NULL, what);
    } else if (strncmp(s, "per:", 4) == 0) {
        const char *rest;
        min_bytes = parse_number(s + 4, &rest, what);
        if (*rest != ':')
            bad_arguments("%s, not '%s'", what, s);
        blocks = parse_number(rest + 1, &rest, what);
        if (*rest == ':')
            max_bytes = parse_number(rest + 1, NULL, what);
        else if (*rest != '\0')
            bad_arguments("%s, not '%s'", what, s);
    } else {
        bad_arguments("%s, not '%s'", what, s);
    }
    if (blocks > MAX_UNIT_SLOTS)
        bad_arguments("a unit holds at most %u blocks", MAX_UNIT_SLOTS);
    for (unsigned c = 0; c < NCLASSES; c++)
        policy->granules[c] = unit_granules(c, min_bytes, blocks, max_bytes);
}

static size_t parse_steps(const char *s)
{
    const char *what = "STEPS is a number of steps, at least 1";
    unsigned long long steps = parse_number(s, NULL, what);
    if (steps == 0)
        bad_arguments("%s, not '%s'", what, s);
    return (size_t)steps;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    size_t steps = BENCH_DEFAULT_STEPS;
    churn_input in;
    if (strcmp(argv[1], "base") == 0) {
        if (argc > 3)
            bad_arguments("too many arguments");
        if (argc == 3)
            steps = parse_steps(argv[2]);
        churn_input_make(&in, steps, BENCH_DEFAULT_SEED);
        run_base(&in);
        churn_input_free(&in);
        return 0;
    }
    if (strcmp(argv[1], "unit") != 0)
        bad_arguments("the model is base or unit, not '%s'", argv[1]);
    if (argc < 5)
        bad_arguments("unit needs POLICY K PICK");
    if (argc > 7)
        bad_arguments("too many arguments");
    unit_policy policy = {0};
    parse_policy(argv[2], &policy);
    unsigned long long k = parse_number(argv[3], NULL, "K is a number of blocks");
    if (k > MAX_CACHE_BLOCKS)
        bad_arguments("K is at most %u", MAX_CACHE_BLOCKS);
    policy.cache_blocks = (unsigned)k;
    if (strcmp(argv[4], "full") == 0)
        policy.pick_fullest = 1;
    else if (strcmp(argv[4], "low") != 0)
        bad_arguments("PICK is full or low, not '%s'", argv[4]);
    if (argc > 5)
        steps = parse_steps(argv[5]);
    if (argc > 6) {
        if (strcmp(argv[6], "0") == 0)
            policy.keep = 0;
        else if (strcmp(argv[6], "-1") == 0)
            policy.keep = -1;
        else
            bad_arguments("KEEP is 0 or -1, not '%s'", argv[6]);
    }
    churn_input_make(&in, steps, BENCH_DEFAULT_SEED);
    run_unit(&in, &policy, argv[2], argv[4]);
    churn_input_free(&in);
    return 0;
}
