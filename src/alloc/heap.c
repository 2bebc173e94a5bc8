/*
 * src/alloc/heap.c — heaps, pools, arenas and large blocks.
 *
 * Layering, bottom up (see internal.h for the picture of an arena):
 *   arena:  1 MiB from the raw hooks, registered in the arena map (with
 *           huge pages on, a growing heap maps two at once and keeps the
 *           second, its "partner", for the next arena: arena_memory);
 *   pool:   16 KiB of one size class, its descriptor in the arena header;
 *   block:  what rc_malloc returns.
 *
 * Fast paths (rc_malloc, rc_free) are a handful of instructions: pop from /
 * push to the heap's per-class cache of free blocks.  Everything else —
 * refilling the cache from a pool, returning cached blocks to their pools,
 * taking a pool from an arena, a pool that fills or empties, instrumented
 * heaps — is out of line.
 *
 * Instrumented heaps (debug and malloc modes, or running under valgrind or
 * AddressSanitizer) never fill their caches and mark every pool RC_CLS_SLOW
 * in its arena's cls_of[], so the fast paths always fall through to code
 * that can check, poison and announce.
 */
#include "alloc/internal.h"

#include <stdlib.h>
#include <string.h>

#if RCGC_HAVE_VALGRIND
#include <valgrind/memcheck.h>
#define RC_RUNNING_ON_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#else
#define RC_RUNNING_ON_VALGRIND() 0
#define VALGRIND_MAKE_MEM_NOACCESS(p, n) ((void)0)
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)0)
#define VALGRIND_MAKE_MEM_UNDEFINED(p, n) ((void)0)
#define VALGRIND_CREATE_MEMPOOL(p, r, z) ((void)0)
#define VALGRIND_DESTROY_MEMPOOL(p) ((void)0)
#define VALGRIND_MEMPOOL_ALLOC(h, p, n) ((void)0)
#define VALGRIND_MEMPOOL_FREE(h, p) ((void)0)
#endif

#define ARENA_HDR_BYTES ((sizeof(rc_arena) + 63) & ~(size_t)63)
_Static_assert(ARENA_HDR_BYTES < RC_POOL_SIZE / 2, "arena header must leave room in pool 0");
_Static_assert(RC_POOLS_PER_ARENA == 64, "bucket bitmap assumes 64 pools per arena");

/* ---- Free-list links ------------------------------------------------------
 * Free blocks are poisoned (ASan) or inaccessible (valgrind); the allocator
 * lifts that for the one word it reads or writes. */
static inline rc_block *link_get(rc_block *b) {
    RC_UNPOISON(b, sizeof *b);
    VALGRIND_MAKE_MEM_DEFINED(b, sizeof *b);
    rc_block *n = b->next;
    RC_POISON(b, sizeof *b);
    VALGRIND_MAKE_MEM_NOACCESS(b, sizeof *b);
    return n;
}

static inline void link_set(rc_block *b, rc_block *n) {
    RC_UNPOISON(b, sizeof *b);
    VALGRIND_MAKE_MEM_UNDEFINED(b, sizeof *b);
    b->next = n;
    RC_POISON(b, sizeof *b);
    VALGRIND_MAKE_MEM_NOACCESS(b, sizeof *b);
}

/* ---- Pool geometry --------------------------------------------------------- */

rc_arena *rc__pool_arena(const rc_pool *pool) {
    return (rc_arena *)((uintptr_t)pool & ~(uintptr_t)(RC_ARENA_SIZE - 1));
}

static unsigned pool_index(const rc_pool *pool) {
    return (unsigned)(pool - rc__pool_arena(pool)->pools);
}

char *rc__pool_start(const rc_pool *pool) {
    unsigned i = pool_index(pool);
    return (char *)rc__pool_arena(pool) + (i ? (size_t)i * RC_POOL_SIZE : ARENA_HDR_BYTES);
}

static char *pool_end(const rc_pool *pool) {
    return (char *)rc__pool_arena(pool) + ((size_t)pool_index(pool) + 1) * RC_POOL_SIZE;
}

size_t rc__pool_capacity(const rc_pool *pool) {
    return (size_t)(pool_end(pool) - rc__pool_start(pool)) / rc_class_size(pool->cls);
}

/* ---- Reports ----------------------------------------------------------------- */

void rc__report(rc_heap *h, rc_error_kind kind, const void *p, size_t size, uint64_t serial,
               const char *what) {
    char msg[256];
    snprintf(msg, sizeof msg, "rcgc: %s: pointer %p (size %zu, serial %llu)", what, p, size,
             (unsigned long long)serial);
    rc_error_report r = {kind, h, p, size, serial, msg};
    if (h && h->on_error) {
        h->on_error(&r, h->on_error_ctx);
        return;
    }
    fprintf(stderr, "%s\n", msg);
    fflush(stderr);
    abort();
}

/* ---- Accounting -------------------------------------------------------------- */

/* Would `n` more bytes from the system stay within the cap? */
static bool os_fits(const rc_heap *h, size_t n) {
    return !h->max_bytes || (n <= h->max_bytes && h->bytes_os <= h->max_bytes - n);
}

static void idle_trim_to(rc_heap *h, size_t keep);
static void partner_release(rc_heap *h);

/* May the heap take `n` more bytes from the system?  Under the cap, the idle
 * arenas kept for reuse go back first if that makes room.  A refusal counts
 * as a failed request. */
static bool os_budget(rc_heap *h, size_t n) {
    if (os_fits(h, n))
        return true;
    /* What the heap would hold with every idle arena (and a huge-page half
     * no arena uses yet) given back: if even that leaves no room, keep them. */
    size_t spare = (h->nidle + (h->partner != NULL)) * RC_ARENA_SIZE;
    if (n <= h->max_bytes && h->bytes_os - spare <= h->max_bytes - n) {
        partner_release(h);
        while (h->nidle && !os_fits(h, n))
            idle_trim_to(h, h->nidle - 1);
        if (os_fits(h, n))
            return true;
    }
    h->failed++;
    return false;
}

static void os_took(rc_heap *h, size_t n) {
    h->bytes_os += n;
    if (h->bytes_os > h->bytes_os_high)
        h->bytes_os_high = h->bytes_os;
}

/* ---- Class lists ----------------------------------------------------------- */

static void class_push(rc_heap *h, unsigned c, rc_pool *p) {
    p->prev = NULL;
    p->next = h->list[c];
    if (p->next)
        p->next->prev = p;
    h->list[c] = p;
}

static void class_remove(rc_heap *h, unsigned c, rc_pool *p) {
    if (p->prev)
        p->prev->next = p->next;
    else
        h->list[c] = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->next = p->prev = NULL;
}

/* ---- Arenas ------------------------------------------------------------------- */

/* Move `a` to the bucket matching its free-pool count (none when full). */
static void arena_rebucket(rc_heap *h, rc_arena *a) {
    int want = a->nfree ? (int)a->nfree - 1 : -1;
    if (want == a->bucket)
        return;
    if (a->bucket >= 0) {
        if (a->prev)
            a->prev->next = a->next;
        else if ((h->buckets[a->bucket] = a->next) == NULL)
            h->bucket_bits &= ~((uint64_t)1 << a->bucket);
        if (a->next)
            a->next->prev = a->prev;
    }
    a->bucket = want;
    a->prev = NULL;
    a->next = NULL;
    if (want >= 0) {
        a->next = h->buckets[want];
        if (a->next)
            a->next->prev = a;
        h->buckets[want] = a;
        h->bucket_bits |= (uint64_t)1 << want;
    }
}

/* Give back the partner half of a huge-page pair that no arena has used.
 * Called as soon as the heap shrinks (it was mapped for growth that is not
 * coming), by trim and by destroy. */
static void partner_release(rc_heap *h) {
    if (!h->partner)
        return;
    h->hooks.arena_free(h->hooks.ctx, h->partner, RC_ARENA_SIZE);
    h->partner = NULL;
    h->bytes_os -= RC_ARENA_SIZE;
}

/* Whether a growing heap's next arena comes with a partner (see rc_huge_pages
 * in heap.h): always with RC_HUGE_ON, past h->huge_after arenas
 * (RC_HUGE_AUTO_AFTER unless the config said) with RC_HUGE_AUTO. */
static bool grow_in_pairs(const rc_heap *h) {
    return h->huge == RC_HUGE_ON || (h->huge == RC_HUGE_AUTO && h->narenas >= h->huge_after);
}

/* Memory for one new arena, already counted in bytes_os; NULL when the OS or
 * the cap refuses.  *populated says whether its pages are resident.
 *
 * A small heap maps one lazy MiB at a time.  A heap on the default hooks
 * that already holds RC_POPULATE_AFTER arenas and needs another is growing
 * and will use it: its pages are faulted in with one system call rather than
 * 256 page faults (refilling a freed heap of 260 MiB: 66,000 faults).
 *
 * When it takes huge pages (grow_in_pairs), such a heap maps two arenas at once,
 * 2 MiB-aligned, asks for a transparent huge page and populates both: the
 * kernel zeroes one 2 MiB page instead of taking 512 faults, and the TLB
 * holds the pair in one entry.  The second half waits in h->partner for the
 * next arena.  Giving either half back later is an ordinary munmap of 1 MiB
 * (the kernel splits the huge page). */
static void *arena_memory(rc_heap *h, bool *populated) {
    *populated = false;
    if (h->partner) {
        void *mem = h->partner;
        h->partner = NULL;
        *populated = h->partner_populated;
        return mem;
    }
    bool growing = h->narenas >= RC_POPULATE_AFTER && h->hooks.arena_alloc == rc__os_hooks.arena_alloc;
    if (growing && grow_in_pairs(h) && os_fits(h, RC_PAIR_SIZE)) { /* no room: not a failure */
        char *pair = h->hooks.arena_alloc(h->hooks.ctx, RC_PAIR_SIZE, RC_PAIR_SIZE);
        if (pair) {
            rc__os_prefer_huge(pair, RC_PAIR_SIZE);
            *populated = rc__os_populate(pair, RC_PAIR_SIZE);
            h->partner = pair + RC_ARENA_SIZE;
            h->partner_populated = *populated;
            os_took(h, RC_PAIR_SIZE);
            return pair;
        }
        /* no 2 MiB to be had: try for one arena */
    }
    if (!os_budget(h, RC_ARENA_SIZE))
        return NULL;
    void *mem = h->hooks.arena_alloc(h->hooks.ctx, RC_ARENA_SIZE, RC_ARENA_SIZE);
    if (!mem) {
        h->failed++;
        return NULL;
    }
    os_took(h, RC_ARENA_SIZE);
    if (growing)
        *populated = rc__os_populate(mem, RC_ARENA_SIZE);
    return mem;
}

static rc_arena *arena_new(rc_heap *h) {
    bool populated;
    void *mem = arena_memory(h, &populated);
    if (!mem)
        return NULL;
    if (((uintptr_t)mem & (RC_ARENA_SIZE - 1)) || !rc__arena_map_set(mem)) {
        /* misaligned memory from a user hook, or no room for the map */
        h->hooks.arena_free(h->hooks.ctx, mem, RC_ARENA_SIZE);
        h->bytes_os -= RC_ARENA_SIZE;
        h->failed++;
        return NULL;
    }
    rc_arena *a = mem;
    memset(a, 0, sizeof *a);
    a->populated = populated;
    a->heap = h;
    a->nfree = RC_POOLS_PER_ARENA;
    a->bucket = -1;
    for (unsigned i = 0; i < RC_POOLS_PER_ARENA; i++) {
        a->pools[i].cls = RC_POOL_UNUSED;
        a->cls_of[i] = RC_CLS_SLOW; /* cache_of[i] is NULL from the memset */
    }
    /* The pools are off limits until pool_init gives them a class, so an
     * overrun off the end of a pool into one not yet taken is caught too. */
    RC_POISON((char *)a + ARENA_HDR_BYTES, RC_ARENA_SIZE - ARENA_HDR_BYTES);
    if (h->valgrind)
        VALGRIND_MAKE_MEM_NOACCESS((char *)a + ARENA_HDR_BYTES, RC_ARENA_SIZE - ARENA_HDR_BYTES);
    a->all_next = h->arenas;
    if (h->arenas)
        h->arenas->all_prev = a;
    h->arenas = a;
    arena_rebucket(h, a);
    h->narenas++;
    h->arenas_allocated++;
    if (h->narenas > h->arenas_high)
        h->arenas_high = h->narenas;
    return a;
}

static void pool_release(rc_heap *h, rc_pool *p);

/* Take an arena off h->idle. */
static void idle_unlink(rc_heap *h, rc_arena *a) {
    if (a->idle_prev)
        a->idle_prev->idle_next = a->idle_next;
    else
        h->idle = a->idle_next;
    if (a->idle_next)
        a->idle_next->idle_prev = a->idle_prev;
    else
        h->idle_oldest = a->idle_prev;
    a->idle = false;
    h->nidle--;
}

/* Give an arena back to the system; its pools must all be empty. */
static void arena_release(rc_heap *h, rc_arena *a) {
    for (unsigned i = 0; i < a->next_fresh; i++) {
        rc_pool *p = &a->pools[i];
        if (p->cls != RC_POOL_UNUSED) {
            if (!p->full)
                class_remove(h, p->cls, p);
            pool_release(h, p);
        }
    }
    a->nfree = 0;
    arena_rebucket(h, a);
    if (a->all_prev)
        a->all_prev->all_next = a->all_next;
    else
        h->arenas = a->all_next;
    if (a->all_next)
        a->all_next->all_prev = a->all_prev;
    if (a->idle)
        idle_unlink(h, a);
    rc__arena_map_clear(a);
    RC_UNPOISON(a, RC_ARENA_SIZE);
    VALGRIND_MAKE_MEM_UNDEFINED(a, RC_ARENA_SIZE);
    h->hooks.arena_free(h->hooks.ctx, a, RC_ARENA_SIZE);
    h->bytes_os -= RC_ARENA_SIZE;
    h->narenas--;
    h->arenas_freed++;
    partner_release(h);
}

/* An arena is idle when no block in it is handed out: every pool is free or
 * an empty pool kept as its class's only pool. */
static bool arena_is_idle(const rc_arena *a) {
    if (RC_POOLS_PER_ARENA - a->nfree > RC_NUM_CLASSES)
        return false; /* more pools in use than can be kept empty */
    for (unsigned i = 0; i < a->next_fresh; i++)
        if (a->pools[i].cls != RC_POOL_UNUSED && a->pools[i].used)
            return false;
    return true;
}

/* Idle arenas kept for good: as many as the busy ones (arenas with a block
 * handed out or in the heap's cache), and one when none is busy. */
static size_t idle_keep(const rc_heap *h) {
    size_t busy = h->narenas - h->nidle;
    return busy > 1 ? busy : 1;
}

/* Give back the arenas idle the longest until at most `keep` are left. */
static void idle_trim_to(rc_heap *h, size_t keep) {
    while (h->nidle > keep) {
        rc_arena *a = h->idle_oldest;
        if (arena_is_idle(a))
            arena_release(h, a); /* unlinks it */
        else
            idle_unlink(h, a); /* cannot happen (arena_wake): never free a busy arena */
    }
}

/* Give back the surplus idle arenas (beyond idle_keep) that have been idle
 * for h->idle_decay_ns, oldest first; all of it at once when no arena is
 * busy (a heap that frees everything keeps one arena) or with no decay. */
static void idle_release_surplus(rc_heap *h) {
    size_t keep = idle_keep(h);
    if (h->nidle <= keep)
        return;
    if (h->idle_decay_ns == 0 || h->narenas == h->nidle) {
        idle_trim_to(h, keep);
        return;
    }
    uint64_t now = rc__os_now_ns();
    while (h->nidle > keep && now - h->idle_oldest->idle_since >= h->idle_decay_ns)
        idle_trim_to(h, h->nidle - 1);
}

/* Called whenever a pool of `a` empties.  An arena that has just gone idle
 * is kept (h->idle) rather than given back: one per busy arena for good, and
 * beyond that for h->idle_decay_ns.  A heap that shrinks and grows again (a
 * tree built and dropped over and over beside long-lived data, GCBench's
 * shape) reuses its arenas instead of mapping them again and faulting their
 * pages in one by one; a heap that frees everything keeps one (the spare: a
 * loop that allocates and frees across an arena boundary reuses it instead
 * of mapping and unmapping each time). */
static void arena_maybe_idle(rc_heap *h, rc_arena *a) {
    if (a->idle || !arena_is_idle(a))
        return;
    a->idle = true;
    a->idle_prev = NULL;
    a->idle_next = h->idle;
    if (h->idle)
        h->idle->idle_prev = a;
    else
        h->idle_oldest = a;
    h->idle = a;
    h->nidle++;
    a->idle_since = h->idle_decay_ns ? rc__os_now_ns() : 0;
    idle_release_surplus(h);
}

/* A pool of p's arena is about to hand out a block while it has none out
 * (p->used == 0): if the arena was idle, it is busy again. */
static void arena_wake(rc_heap *h, rc_pool *p) {
    rc_arena *a = rc__pool_arena(p);
    if (a->idle)
        idle_unlink(h, a);
}

/* ---- Pools -------------------------------------------------------------------- */

static void pool_init(rc_heap *h, rc_pool *p, unsigned c) {
    size_t sz = rc_class_size(c);
    char *start;
    p->cls = (uint16_t)c;
    start = rc__pool_start(p);
    p->free = NULL;
    p->bump = start;
    p->limit = start + rc__pool_capacity(p) * sz;
    p->used = 0;
    p->full = 0;
    rc__pool_arena(p)->cls_of[pool_index(p)] = h->instrumented ? RC_CLS_SLOW : (uint8_t)c;
    rc__pool_arena(p)->cache_of[pool_index(p)] = h->instrumented ? NULL : &h->cache[c];
    RC_POISON(start, (size_t)(pool_end(p) - start));
    if (h->valgrind)
        VALGRIND_MAKE_MEM_NOACCESS(start, (size_t)(pool_end(p) - start));
}

/* Take a free pool from the fullest arena that has one and give it class c. */
static rc_pool *pool_take(rc_heap *h, unsigned c) {
    if (!h->bucket_bits && !arena_new(h))
        return NULL;
    rc_arena *a = h->buckets[__builtin_ctzll(h->bucket_bits)];
    rc_pool *p = a->free_pools;
    if (p)
        a->free_pools = p->next;
    else
        p = &a->pools[a->next_fresh++];
    a->nfree--;
    arena_rebucket(h, a);
    pool_init(h, p, c);
    class_push(h, c, p);
    return p;
}

/* Return an empty pool (already out of its class list) to its arena. */
static void pool_release(rc_heap *h, rc_pool *p) {
    rc_arena *a = rc__pool_arena(p);
    p->cls = RC_POOL_UNUSED;
    a->cls_of[pool_index(p)] = RC_CLS_SLOW;
    a->cache_of[pool_index(p)] = NULL;
    p->full = 0;
    p->free = NULL;
    p->next = a->free_pools;
    p->prev = NULL;
    a->free_pools = p;
    a->nfree++;
    arena_rebucket(h, a);
}

/* How many never-used blocks of size sz to carve at p->bump (at least one):
 * the rest of the pool in a populated arena, whose pages are resident
 * anyway, else the blocks that start in bump's page.  A carve never writes
 * a link into a page beyond the one its first block starts in, so a class
 * touches no page before it hands out a block there.  (Carving a page's
 * worth of blocks from a bump that is not page-aligned ran into the next
 * page: on churn W=1K, 135 resident pages in the arena instead of 133.)
 * Precondition: p->bump < p->limit. */
static size_t carve_count(const rc_pool *p, size_t sz) {
    size_t n;
    if (rc__pool_arena(p)->populated) {
        n = RC_POOL_SIZE / sz;
    } else {
        size_t to_page_end = RC_CARVE_BYTES - ((uintptr_t)p->bump & (RC_CARVE_BYTES - 1));
        n = (to_page_end + sz - 1) / sz;
    }
    size_t left = (size_t)(p->limit - p->bump) / sz;
    return n < left ? n : left;
}

/* Carve never-used blocks (carve_count): return the first, put the rest on
 * the free list.  Precondition: p->free == NULL and p->bump < p->limit. */
static rc_block *pool_carve(rc_pool *p) {
    size_t sz = rc_class_size(p->cls);
    size_t n = carve_count(p, sz);
    rc_block *first = (rc_block *)p->bump;
    char *b = p->bump + sz;
    char *end = p->bump + n * sz;
    rc_block *head = NULL;
    /* link back to front so blocks come out in address order */
    for (char *q = end - sz; q >= b; q -= sz) {
        link_set((rc_block *)q, head);
        head = (rc_block *)q;
    }
    p->free = head;
    p->bump = end;
    return first;
}

/* The pool class c hands blocks out from next (its list's first, or a new
 * one); NULL when no pool can be had.  The caller hands out at least one
 * block from it, so if none was out, its arena is no longer idle. */
static rc_pool *class_pool(rc_heap *h, unsigned c) {
    rc_pool *p = h->list[c];
    if (!p && !(p = pool_take(h, c)))
        return NULL;
    if (p->used == 0)
        arena_wake(h, p);
    return p;
}

/* A block of class c from the pools, uninstrumented. */
static void *pool_block_alloc(rc_heap *h, unsigned c) {
    for (;;) {
        rc_pool *p = class_pool(h, c);
        if (!p)
            return NULL;
        rc_block *b = p->free;
        if (b) {
            p->free = link_get(b);
            p->used++;
            return b;
        }
        if (p->bump < p->limit) {
            p->used++;
            return pool_carve(p);
        }
        /* full: leave the class list until a block comes back */
        p->full = 1;
        class_remove(h, c, p);
    }
}

/* A pool just lost its last block. */
static void pool_emptied(rc_heap *h, rc_pool *p) {
    rc_arena *a = rc__pool_arena(p);
    if (!(h->list[p->cls] == p && p->next == NULL)) {
        /* not the class's only pool: give it back to the arena.  (The only
         * pool stays, so an alloc/free loop does not re-take it each time.) */
        class_remove(h, p->cls, p);
        pool_release(h, p);
    }
    arena_maybe_idle(h, a);
}

/* Return a block to its pool, general case. */
static void pool_block_free(rc_heap *h, rc_pool *p, void *ptr) {
    link_set(ptr, p->free);
    p->free = ptr;
    if (p->full) {
        p->full = 0;
        class_push(h, p->cls, p);
    }
    if (--p->used == 0)
        pool_emptied(h, p);
}

/* ---- The heap's block cache ------------------------------------------------- */

/* Set cache c's counters from its live and cached block counts (see
 * rc_cache): the caller keeps mark <= live (or live == 0) and cached <= max. */
static void cache_counts(rc_heap *h, unsigned c, size_t live, size_t cached) {
    rc_cache *k = &h->cache[c];
    size_t total = live + cached;
    intptr_t lo = (intptr_t)k->mark;
    if (k->draining && live > 0 && lo < 1)
        lo = 1;
    if (total > k->max && (intptr_t)(total - k->max) > lo)
        lo = (intptr_t)(total - k->max);
    k->total = total;
    k->lo = lo;
    k->slack = (intptr_t)live - lo;
}

/* The heap whose cache array holds k (entry k->cls). */
static rc_heap *cache_heap(rc_cache *k) {
    return (rc_heap *)((char *)(k - k->cls) - offsetof(rc_heap, cache));
}

/* The class has doubled since its mark was set (or, unarmed, passed
 * RC_CACHE_ARM_LIVE): the slow path must raise the mark. */
static inline bool cache_doubled(const rc_cache *k, size_t live) {
    return live > (k->mark ? 4 * k->mark : RC_CACHE_ARM_LIVE);
}

/* Move free blocks of class c from a pool into the empty cache: the pool's
 * whole free list, or else the never-used blocks that start in the bump's
 * page (the whole pool in a populated arena, whose pages are resident
 * anyway: a growing heap passes through here a quarter as often; see
 * carve_count).  False when no pool can be had. */
static bool cache_refill(rc_heap *h, unsigned c) {
    size_t sz = rc_class_size(c);
    for (;;) {
        rc_pool *p = class_pool(h, c);
        if (!p)
            return false;
        if (p->free) {
            size_t carved = (size_t)(p->bump - rc__pool_start(p)) / sz;
            size_t n = carved - p->used;
            h->cache[c].head = p->free;
            cache_counts(h, c, rc_cache_live(&h->cache[c]), n);
            p->free = NULL;
            p->used += (uint32_t)n;
        } else if (p->bump < p->limit) {
            size_t n = carve_count(p, sz);
            rc_block *head = NULL;
            for (char *q = p->bump + (n - 1) * sz; q >= p->bump; q -= sz) {
                ((rc_block *)q)->next = head;
                head = (rc_block *)q;
            }
            p->bump += n * sz;
            h->cache[c].head = head;
            cache_counts(h, c, rc_cache_live(&h->cache[c]), n);
            p->used += (uint32_t)n;
        }
        if (!p->free && p->bump == p->limit) {
            p->full = 1; /* everything is out: leave the class list */
            class_remove(h, c, p);
        }
        if (h->cache[c].head)
            return true;
    }
}

/* Return `count` blocks from the top of cache c to their pools (leaving
 * the cache's counters to the caller); returns how many went back.  Blocks
 * freed one after the other often share a pool, and the cache already links
 * them: a run of blocks from one pool is spliced onto the pool's free list
 * whole, one pointer rewritten per run rather than one per block.  (Cached
 * blocks are never poisoned: instrumented heaps do not cache.) */
static size_t cache_return_blocks(rc_heap *h, unsigned c, size_t count) {
    rc_cache *k = &h->cache[c];
    size_t returned = 0;
    while (count && k->head) {
        rc_block *first = k->head, *last = first, *n1, *n2, *n3, *n4;
        /* Same pool: x + off, with off = minus the pool's start, is below
         * RC_POOL_SIZE (a NULL link is far above, and ends the run too); the
         * compiler makes the sum one lea, which leaves x in its register.
         * The budget counts down, so the loop keeps no count of its own,
         * and four blocks a turn, so that `last` needs no register copy and
         * the budget is tested once per four (blocks freed by a collection:
         * 10 -> 6.5 instructions per block with two a turn and a shift,
         * -> 4.9 with this).  The four steps are written out: as a loop of
         * four, gcc keeps it a loop (gc_collect 100K 22.96 -> 23.81 M). */
        uintptr_t off = -((uintptr_t)first & ~(uintptr_t)(RC_POOL_SIZE - 1));
        __asm__("" : "+r"(off)); /* an opaque addend: lea, not mov and sub */
#define IN_POOL(x) ((uintptr_t)(x) + off < RC_POOL_SIZE)
        size_t left = count - 1;
        while (left >= 4) {
            n1 = last->next;
            if (!IN_POOL(n1))
                goto run_end;
            n2 = n1->next;
            if (!IN_POOL(n2)) {
                last = n1;
                left -= 1;
                goto run_end;
            }
            n3 = n2->next;
            if (!IN_POOL(n3)) {
                last = n2;
                left -= 2;
                goto run_end;
            }
            n4 = n3->next;
            if (!IN_POOL(n4)) {
                last = n3;
                left -= 3;
                goto run_end;
            }
            last = n4;
            left -= 4;
        }
        while (left && IN_POOL(n1 = last->next)) {
            last = n1;
            left--;
        }
#undef IN_POOL
    run_end:;
        size_t n = count - left;
        k->head = last->next;
        returned += n;
        count -= n;
        /* a cached block is in one of the heap's arenas: no map lookup */
        rc_arena *a = (rc_arena *)((uintptr_t)first & ~(uintptr_t)(RC_ARENA_SIZE - 1));
        rc_pool *p = rc_pool_of(a, first);
        last->next = p->free;
        p->free = first;
        if (p->full) {
            p->full = 0;
            class_push(h, p->cls, p);
        }
        p->used -= n;
        if (p->used == 0)
            pool_emptied(h, p);
    }
    return returned;
}

/* cache_return_blocks, with the cache's counters brought up to date. */
static void cache_return(rc_heap *h, unsigned c, size_t count) {
    rc_cache *k = &h->cache[c];
    size_t live = rc_cache_live(k), cached = rc_cache_count(k);
    cache_counts(h, c, live, cached - cache_return_blocks(h, c, count));
}

static void cache_flush_all(rc_heap *h) {
    for (unsigned c = 0; c < RC_NUM_CLASSES; c++)
        cache_return(h, c, SIZE_MAX);
}

/* The heap-wide half of the shrink detector (see rc_cache), run at every
 * visit of rc__cache_rebalance: the heap's mark follows its approximate
 * live count up, and a fall below the mark flushes. */
static void heap_shrink_check(rc_heap *h) {
    if (h->live_seen / 2 > h->live_mark) {
        h->live_mark = h->live_seen / 2;
        return;
    }
    if (h->live_seen >= h->live_mark)
        return;
    /* The heap has shrunk to under half its size at its last peak or
     * shrink: flush every cache (pointless while the heap has a single
     * arena, which it would keep as the spare anyway), and have every class
     * that still has live blocks flush again when it empties.  The live
     * count is exact here; the mark rounds up so that a heap emptying
     * entirely keeps coming back here. */
    size_t live = 0;
    for (unsigned c = 0; c < RC_NUM_CLASSES; c++) {
        rc_cache *k = &h->cache[c];
        k->seen = rc_cache_live(k);
        live += k->seen;
        if (h->narenas > 1) {
            k->draining = k->seen > 0;
            cache_return(h, c, SIZE_MAX); /* also sets the counters */
        }
    }
    h->live_seen = live;
    h->live_mark = (live + 1) / 2;
}

/* A free took cache c's live count below lo, or an allocation that found
 * the cache empty left the class twice as large as at its mark (see
 * rc_cache): report the class's live count to the heap, flush or trim its
 * cache as the rules say, move its mark, and reset its counters. */
RC_NOINLINE void rc__cache_rebalance(rc_cache *k) {
    rc_heap *h = cache_heap(k);
    unsigned c = k->cls;
    size_t live = rc_cache_live(k), cached = rc_cache_count(k);
    h->live_seen += live - k->seen; /* modulo 2^N: exact */
    k->seen = live;
    if (live == 0 && k->draining) {
        if (h->narenas > 1)
            cached -= cache_return_blocks(h, c, SIZE_MAX);
        k->draining = false;
    }
    if (live < k->mark) /* halved: look when it halves again, or disarm */
        k->mark = live > RC_CACHE_ARM_LIVE ? (live + 1) / 2 : 0;
    if (cached > k->max)
        cached -= cache_return_blocks(h, c, k->max / 2);
    if (cache_doubled(k, live))
        k->mark = live / 2;
    cache_counts(h, c, live, cached);
    heap_shrink_check(h);
    if (RC_UNLIKELY(h->nidle > 1)) /* a surplus may have aged out while the heap ran */
        idle_release_surplus(h);
}

/* ---- Large blocks ------------------------------------------------------------ */

static uint64_t large_check(const void *p, const rc_heap *h, size_t size) {
    uint64_t x = ((uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ull) ^ (uint64_t)(uintptr_t)h ^
                 ((uint64_t)size << 7) ^ 0x52434743484B4C47ull;
    return x ^ (x >> 31);
}

/* The header in front of p if p is a live large block: read only when the
 * large-header map says its pages hold live headers (so they are mapped),
 * then trusted only if its check word agrees. */
rc_large *rc__large_header(const void *p) {
    uintptr_t a = (uintptr_t)p - sizeof(rc_large);
    if (a > (uintptr_t)p || !rc__large_map_covers((const void *)a, sizeof(rc_large)))
        return NULL;
    rc_large *L = (rc_large *)a;
    return L->check == large_check(p, L->heap, L->alloc_size) ? L : NULL;
}

/* Count L's header in the large-header map, or flag it uncounted when the
 * map cannot take it (false). */
static bool large_count(rc_large *L) {
    bool ok = rc__large_map_add(L, sizeof *L);
    if (ok)
        L->flags &= ~(uint64_t)RC_LARGE_UNMAPPED;
    else
        L->flags |= RC_LARGE_UNMAPPED;
    return ok;
}

/* Take L's header out of the map (if it was in); true if it was. */
static bool large_uncount(rc_large *L) {
    if (L->flags & RC_LARGE_UNMAPPED)
        return false;
    rc__large_map_remove(L, sizeof *L);
    return true;
}

static void *large_alloc(rc_heap *h, size_t n) {
    if (n > SIZE_MAX / 2) {
        h->failed++;
        return NULL;
    }
    size_t total = RC_LARGE_HDR + ((n + RC_ALIGNMENT - 1) & ~(size_t)(RC_ALIGNMENT - 1));
    if (!os_budget(h, total))
        return NULL;
    rc_large *L = h->hooks.large_alloc(h->hooks.ctx, total);
    if (L && !rc__large_map_add(L, sizeof *L)) {
        h->hooks.large_free(h->hooks.ctx, L, total); /* the map could not grow */
        L = NULL;
    }
    if (!L) {
        h->failed++;
        return NULL;
    }
    L->heap = h;
    L->alloc_size = total;
    L->flags = 0;
    L->prev = NULL;
    L->next = h->large;
    if (L->next)
        L->next->prev = L;
    h->large = L;
    L->check = large_check(L + 1, h, total);
    os_took(h, total);
    h->large_count++;
    h->large_payload += total - RC_LARGE_HDR;
    return L + 1;
}

static void large_unlink(rc_heap *h, rc_large *L) {
    if (L->prev)
        L->prev->next = L->next;
    else
        h->large = L->next;
    if (L->next)
        L->next->prev = L->prev;
}

static void large_free(rc_heap *h, rc_large *L) {
    large_unlink(h, L);
    L->check = 0; /* a second free of this pointer no longer passes the check */
    large_uncount(L);
    h->bytes_os -= L->alloc_size;
    h->large_count--;
    h->large_payload -= L->alloc_size - RC_LARGE_HDR;
    h->hooks.large_free(h->hooks.ctx, L, L->alloc_size);
}

/* Resize a large block of h in place or by the hook; NULL on failure.  It
 * stays when it shrinks by at most half, or when the size class does not
 * change (a malloc-mode heap's small blocks are large blocks too). */
static void *large_resize(rc_heap *h, rc_large *L, size_t n) {
    size_t have = L->alloc_size - RC_LARGE_HDR;
    if (n <= have && (n >= have / 2 || rc_good_size(n) == have))
        return L + 1;
    if (rc__injected_failure(h))
        return NULL;
    if (n > SIZE_MAX / 2) {
        h->failed++;
        return NULL;
    }
    size_t total = RC_LARGE_HDR + ((n + RC_ALIGNMENT - 1) & ~(size_t)(RC_ALIGNMENT - 1));
    /* Without a realloc hook the old block is held until the new one has its
     * data: both count against the cap, and the high water sees both. */
    bool copy = h->hooks.large_realloc == NULL;
    if (copy ? !os_budget(h, total) : (total > L->alloc_size && !os_budget(h, total - L->alloc_size)))
        return NULL;
    rc_large *N;
    if (!copy) {
        /* Uncounted before the hook may free it (so no page stays counted
         * after it is unmapped); counting it again where it ends up cannot
         * fail if it stays (its nodes exist).  Should the map fail to grow
         * for a new address (a node of it cannot be mapped), the block stays
         * this heap's, flagged (destroy frees it) but rc_free reports it as
         * foreign: a leak at worst, never a wrong free. */
        bool counted = large_uncount(L);
        N = h->hooks.large_realloc(h->hooks.ctx, L, L->alloc_size, total);
        if (N)
            large_count(N);
        else if (counted)
            large_count(L);
    } else {
        N = h->hooks.large_alloc(h->hooks.ctx, total);
        if (N) {
            memcpy(N, L, RC_LARGE_HDR + (have < n ? have : n));
            if (!large_count(N)) { /* the old block stays, as on any failure */
                h->hooks.large_free(h->hooks.ctx, N, total);
                N = NULL;
            }
        }
        if (N) {
            if (h->bytes_os + total > h->bytes_os_high)
                h->bytes_os_high = h->bytes_os + total;
            large_uncount(L);
            h->hooks.large_free(h->hooks.ctx, L, L->alloc_size);
        }
    }
    if (!N) {
        h->failed++;
        return NULL;
    }
    /* the neighbours still point at the old header */
    if (N->prev)
        N->prev->next = N;
    else
        h->large = N;
    if (N->next)
        N->next->prev = N;
    h->bytes_os = h->bytes_os - N->alloc_size + total;
    if (h->bytes_os > h->bytes_os_high)
        h->bytes_os_high = h->bytes_os;
    h->large_payload = h->large_payload - (N->alloc_size - RC_LARGE_HDR) + (total - RC_LARGE_HDR);
    N->alloc_size = total;
    N->check = large_check(N + 1, h, total);
    return N + 1;
}

/* ---- Raw blocks (the layer the debug allocator builds on) ------------------- */

void *rc__raw_alloc(rc_heap *h, size_t n) {
    if (n <= RC_SMALL_MAX && h->mode != RC_MODE_MALLOC)
        return pool_block_alloc(h, rc_size_class(n ? n : 1));
    return large_alloc(h, n);
}

void rc__raw_free(rc_heap *h, void *raw) {
    rc_arena *a = rc_arena_map_lookup(raw);
    if (a)
        pool_block_free(h, rc_pool_of(a, raw), raw);
    else
        large_free(h, (rc_large *)raw - 1);
}

size_t rc__raw_usable(void *raw) {
    rc_arena *a = rc_arena_map_lookup(raw);
    if (a)
        return rc_class_size(rc_pool_of(a, raw)->cls);
    rc_large *L = (rc_large *)raw - 1;
    return L->alloc_size - RC_LARGE_HDR;
}

/* ---- Public allocation API ------------------------------------------------- */

/* Instrumented pool mode (valgrind, ASan): plain blocks, announced. */
bool rc__injected_failure(rc_heap *h) {
    if (h->fail_countdown && --h->fail_countdown == 0 && h->mode != RC_MODE_POOL) {
        h->failed++;
        return true;
    }
    return false;
}

void rc_heap_fail_at(rc_heap *h, uint64_t n) { h->fail_countdown = n; }

static void *instrumented_alloc(rc_heap *h, size_t n) {
    if (h->mode == RC_MODE_DEBUG)
        return rc__debug_malloc(h, n);
    if (rc__injected_failure(h))
        return NULL;
    void *p = rc__raw_alloc(h, n);
    if (p && rc_arena_map_lookup(p)) {
        size_t usable = rc__raw_usable(p);
        RC_UNPOISON(p, usable);
        if (h->valgrind)
            VALGRIND_MEMPOOL_ALLOC(h, p, usable);
    }
    return p;
}

RC_NOINLINE void *rc__malloc_slow(rc_heap *h, size_t n) {
    if (n == 0)
        n = 1; /* a unique pointer: the smallest block */
    if (h->instrumented)
        return instrumented_alloc(h, n);
    if (n > RC_SMALL_MAX)
        return large_alloc(h, n);
    unsigned c = rc_size_class(n);
    rc_cache *k = &h->cache[c];
    if (!k->head && !cache_refill(h, c))
        return NULL;
    void *b = rc__cache_pop(k);
    if (cache_doubled(k, rc_cache_live(k)))
        rc__cache_rebalance(k); /* report it */
    return b;
}

void *rc_malloc(rc_heap *h, size_t n) { return rc__malloc_inline(h, n); }

void *rc_calloc(rc_heap *h, size_t count, size_t n) {
    size_t total;
    if (__builtin_mul_overflow(count, n, &total)) {
        h->failed++;
        return NULL;
    }
    void *p = rc_malloc(h, total);
    if (p)
        memset(p, 0, total);
    return p;
}

static void report_foreign(rc_heap *h, const void *p) {
    rc__report(h, RC_ERR_FOREIGN, p, 0, 0,
              "pointer not allocated by rcgc (foreign pointer, or a block freed twice)");
}

/* Free a pointer with no arena: a large block, a debug block, or foreign. */
static void free_large_or_foreign(void *ptr) {
    rc_large *L = rc__large_header(ptr);
    if (L) {
        if (!rc__debug_large_raw(L, ptr))
            large_free(L->heap, L);
    } else if (rc__debug_large_owner(ptr)) {
        rc__debug_free(NULL, ptr); /* reports to that heap if the debug header is damaged */
    } else {
        report_foreign(NULL, ptr);
    }
}

RC_NOINLINE void rc__free_slow(rc_arena *a, void *ptr) {
    if (!ptr)
        return;
    if (!a) {
        free_large_or_foreign(ptr);
        return;
    }
    rc_heap *h = a->heap;
    if (h->mode == RC_MODE_DEBUG) {
        rc__debug_free(h, ptr);
        return;
    }
    rc_pool *p = rc_pool_of(a, ptr);
    if (p->cls == RC_POOL_UNUSED) {
        report_foreign(h, ptr);
        return;
    }
    /* a used pool takes this path only in an instrumented heap */
    size_t sz = rc_class_size(p->cls);
    char *start = rc__pool_start(p);
    if ((char *)ptr < start || (size_t)((char *)ptr - start) % sz) {
        report_foreign(h, ptr);
        return;
    }
    RC_POISON(ptr, sz);
    if (h->valgrind)
        VALGRIND_MEMPOOL_FREE(h, ptr);
    pool_block_free(h, p, ptr);
}

void rc_free(void *ptr) { rc__free_inline(ptr); }

/* rc_free_sized's fast path found no cache of h's for ptr: NULL, a large
 * block, a block of an instrumented heap or of another heap, or a pointer
 * rcgc does not know.  Debug mode checks the arguments and reports; every
 * other mode lets the pointer decide, exactly as rc_free does, so a wrong h
 * or n never corrupts. */
RC_NOINLINE void rc__free_sized_slow(rc_heap *h, void *ptr, size_t n) {
    if (!ptr)
        return;
    if (h && h->mode == RC_MODE_DEBUG) {
        rc__debug_free_sized(h, ptr, n);
        return;
    }
    rc__free_inline(ptr);
}

void rc_free_sized(rc_heap *h, void *ptr, size_t n) { rc__free_sized_inline(h, ptr, n); }

void *rc_realloc(rc_heap *h, void *p, size_t n) {
    if (!p)
        return rc_malloc(h, n);
    if (h->mode == RC_MODE_DEBUG)
        return rc__debug_realloc(h, p, n); /* checks p, whatever n is */
    if (n == 0) {
        /* p is checked before the new block is taken: rc_free(p) below knows
         * no heap, so a foreign p must be reported here, to h */
        if (!rc_heap_of_block(p)) {
            report_foreign(h, p);
            return NULL;
        }
        void *q = rc_malloc(h, 0);
        if (q)
            rc_free(p);
        return q;
    }
    size_t have;
    rc_arena *a = rc_arena_map_lookup(p);
    if (a) {
        unsigned c = a->cls_of[((uintptr_t)p >> RC_POOL_SHIFT) & (RC_POOLS_PER_ARENA - 1)];
        if (RC_LIKELY(c != RC_CLS_SLOW)) {
            /* a plain heap's pool block: its class is one byte of the arena
             * header (the pool descriptor stays untouched), and once the data
             * is copied the block goes straight to its heap's cache */
            have = rc_class_size(c);
            if (n <= have && (rc_size_class(n) == c || n >= have - have / 4))
                return p;
            void *q = rc_malloc(h, n);
            if (!q)
                return NULL;
            memcpy(q, p, have < n ? have : n);
            rc__free_in_known_arena(a, p);
            return q;
        }
        if (a->heap->mode == RC_MODE_DEBUG) /* another heap's debug block: its */
            return rc__debug_realloc(a->heap, p, n); /* heap resizes it, with the checks */
        rc_pool *pool = rc_pool_of(a, p);
        if (pool->cls == RC_POOL_UNUSED) {
            report_foreign(a->heap, p);
            return NULL;
        }
        have = rc_class_size(pool->cls);
        /* same class, or a shrink by less than a quarter: stay */
        if (n <= have && (rc_size_class(n) == pool->cls || n >= have - have / 4))
            return p;
    } else {
        rc_large *L = rc__large_header(p);
        if (!L) {
            rc_heap *dh = rc__debug_large_owner(p);
            if (dh) /* another heap's debug block, as above */
                return rc__debug_realloc(dh, p, n);
            report_foreign(h, p);
            return NULL;
        }
        if (L->heap == h && (n > RC_SMALL_MAX || h->mode == RC_MODE_MALLOC))
            return large_resize(h, L, n);
        have = L->alloc_size - RC_LARGE_HDR;
    }
    void *q = rc_malloc(h, n);
    if (!q)
        return NULL;
    memcpy(q, p, have < n ? have : n);
    rc_free(p);
    return q;
}

size_t rc_usable_size(const void *p) {
    if (!p)
        return 0;
    rc_arena *a = rc_arena_map_lookup(p);
    if (a) {
        unsigned c = a->cls_of[((uintptr_t)p >> RC_POOL_SHIFT) & (RC_POOLS_PER_ARENA - 1)];
        if (RC_LIKELY(c != RC_CLS_SLOW))
            return rc_class_size(c); /* a plain heap's pool block: one byte tells */
        rc_pool *pool = rc_pool_of(a, p);
        if (pool->cls == RC_POOL_UNUSED) { /* no block there, nor a header */
            report_foreign(a->heap, p);
            return 0;
        }
        if (a->heap->mode == RC_MODE_DEBUG)
            return rc__debug_usable(p);
        return rc_class_size(pool->cls);
    }
    rc_large *L = rc__large_header(p);
    if (L)
        return rc__debug_large_raw(L, p) ? 0 : L->alloc_size - RC_LARGE_HDR;
    if (rc__debug_owns(p))
        return rc__debug_usable(p);
    rc_heap *dh = rc__debug_large_owner(p);
    if (dh) {
        rc__report(dh, RC_ERR_UNDERRUN, p, 0, 0,
                  "block header overwritten (buffer underrun far before the block)");
        return 0;
    }
    report_foreign(NULL, p);
    return 0;
}

rc_heap *rc_heap_of_block(const void *p) {
    if (!p)
        return NULL;
    rc_arena *a = rc_arena_map_lookup(p);
    if (a)
        return a->heap;
    rc_large *L = rc__large_header(p);
    if (L)
        return L->heap;
    return rc__debug_large_owner(p);
}

size_t rc_good_size(size_t n) {
    if (n == 0)
        return RC_ALIGNMENT;
    return n <= RC_SMALL_MAX ? rc_class_size(rc_size_class(n)) : n;
}

/* ---- Heaps --------------------------------------------------------------------- */

void rc_heap_config_init(rc_heap_config *cfg) { memset(cfg, 0, sizeof *cfg); }

static rc_alloc_mode mode_from_env(void) {
    const char *s = getenv("RCGC_MALLOC");
    if (s && strcmp(s, "malloc") == 0)
        return RC_MODE_MALLOC;
    if (s && strcmp(s, "debug") == 0)
        return RC_MODE_DEBUG;
    return RC_MODE_POOL;
}

static rc_huge_pages huge_pages_from_env(void) {
    const char *s = getenv("RCGC_HUGE_PAGES");
    if (s && strcmp(s, "1") == 0)
        return RC_HUGE_ON;
    if (s && strcmp(s, "0") == 0)
        return RC_HUGE_OFF;
    return RC_HUGE_AUTO;
}

/* What rc_heap_new asks the large_alloc hook for: room to align the heap. */
#define RC_HEAP_ALLOC_SIZE (sizeof(rc_heap) + 63)

rc_heap *rc_heap_new(const rc_heap_config *cfg) {
    rc_heap_config conf;
    if (cfg)
        conf = *cfg;
    else
        rc_heap_config_init(&conf);
    const rc_raw_hooks *hooks = conf.hooks ? conf.hooks : &rc__os_hooks;
    if (!hooks->arena_alloc || !hooks->arena_free || !hooks->large_alloc || !hooks->large_free)
        return NULL;
    if ((unsigned)conf.mode > RC_MODE_DEBUG || (unsigned)conf.huge_pages > RC_HUGE_AUTO)
        return NULL;
    /* 64-byte aligned, so that each cache entry is one cache line */
    void *raw = hooks->large_alloc(hooks->ctx, RC_HEAP_ALLOC_SIZE);
    if (!raw)
        return NULL;
    rc_heap *h = (rc_heap *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
    memset(h, 0, sizeof *h);
    h->raw_self = raw;
    h->hooks = *hooks;
    h->mode = conf.mode == RC_MODE_DEFAULT ? mode_from_env() : conf.mode;
    h->huge = (uint8_t)(conf.huge_pages == RC_HUGE_DEFAULT ? huge_pages_from_env()
                                                           : conf.huge_pages);
    h->huge_after = conf.huge_auto_arenas ? conf.huge_auto_arenas : RC_HUGE_AUTO_AFTER;
    h->valgrind = RC_RUNNING_ON_VALGRIND();
    h->instrumented = h->mode != RC_MODE_POOL || h->valgrind || RC_ASAN;
    h->max_bytes = conf.max_bytes;
    int idle_ms = conf.idle_arena_ms ? conf.idle_arena_ms : RC_IDLE_ARENA_MS_DEFAULT;
    h->idle_decay_ns = idle_ms > 0 ? (uint64_t)idle_ms * 1000000u : 0;
    h->on_error = conf.on_error;
    h->on_error_ctx = conf.on_error_ctx;
    h->owner = pthread_self();
    for (unsigned c = 0; c < RC_NUM_CLASSES; c++) {
        h->cache[c].max = (uint16_t)(RC_CACHE_BYTES / rc_class_size(c));
        h->cache[c].cls = (uint16_t)c;
        cache_counts(h, c, 0, 0);
    }
    if (h->valgrind)
        VALGRIND_CREATE_MEMPOOL(h, 0, 0);
    return h;
}

rc_alloc_mode rc_heap_mode(const rc_heap *h) { return h->mode; }

void rc_heap_claim(rc_heap *h) { h->owner = pthread_self(); }

void rc_heap_set_max_bytes(rc_heap *h, size_t max_bytes) { h->max_bytes = max_bytes; }

/* Release every arena with no block in use; returns bytes given back. */
static size_t rc_release_idle_arenas(rc_heap *h) {
    size_t before = h->bytes_os;
    rc_arena *a = h->arenas;
    while (a) {
        rc_arena *next = a->all_next;
        if (arena_is_idle(a))
            arena_release(h, a);
        a = next;
    }
    return before - h->bytes_os;
}

size_t rc_heap_trim(rc_heap *h) {
    size_t before = h->bytes_os;
    rc__debug_flush_quarantine(h);
    cache_flush_all(h);
    /* every empty pool still in a class list (the pinned ones, and any left
     * behind a pool that rejoined the list in front of it) */
    for (unsigned c = 0; c < RC_NUM_CLASSES; c++) {
        for (rc_pool *p = h->list[c], *next; p; p = next) {
            next = p->next;
            if (p->used == 0) {
                class_remove(h, c, p);
                pool_release(h, p);
            }
        }
    }
    rc_release_idle_arenas(h);
    partner_release(h);
    return before - h->bytes_os;
}

void rc_heap_destroy(rc_heap *h) {
    if (!h)
        return;
    /* Forget the blocks valgrind tracks in this heap before its memory goes
     * back: once an arena is unmapped, another thread's heap may map the
     * same addresses, and destroying the pool then would mark that heap's
     * blocks inaccessible. */
    if (h->valgrind)
        VALGRIND_DESTROY_MEMPOOL(h);
    while (h->arenas) {
        rc_arena *a = h->arenas;
        h->arenas = a->all_next;
        rc__arena_map_clear(a);
        RC_UNPOISON(a, RC_ARENA_SIZE);
        VALGRIND_MAKE_MEM_UNDEFINED(a, RC_ARENA_SIZE);
        h->hooks.arena_free(h->hooks.ctx, a, RC_ARENA_SIZE);
    }
    partner_release(h);
    while (h->large) {
        rc_large *L = h->large;
        h->large = L->next;
        L->check = 0;
        large_uncount(L);
        h->hooks.large_free(h->hooks.ctx, L, L->alloc_size);
    }
    rc_raw_hooks hooks = h->hooks;
    hooks.large_free(hooks.ctx, h->raw_self, RC_HEAP_ALLOC_SIZE);
}
