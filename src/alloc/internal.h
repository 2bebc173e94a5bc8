/*
 * src/alloc/internal.h — the allocator's data structures, shared by the
 * files of src/alloc/ and by nothing above them.
 *
 * Picture of one arena (RC_ARENA_SIZE = 1 MiB, aligned to 1 MiB):
 *
 *   arena base (1 MiB aligned)
 *   |
 *   v
 *   +--------------------+----------------+----------------+-----+----------------+
 *   | rc_arena header    | pool 1         | pool 2         | ... | pool 63        |
 *   |  - heap, lists     | 16 KiB of      | 16 KiB of      |     |                |
 *   |  - rc_pool[64]     | blocks of one  | blocks of one  |     |                |
 *   |  pool 0's blocks   | size class     | size class     |     |                |
 *   +--------------------+----------------+----------------+-----+----------------+
 *   <---- 16 KiB ------->
 *
 * Pool metadata (rc_pool) does not live in the pools: all 64 descriptors sit
 * in the arena header, so a pool's memory is nothing but blocks and a pool's
 * descriptor is found from a block by address arithmetic:
 *
 *     arena = rc_arena_map_lookup(p)         (one bit; proves p is ours)
 *     pool  = &arena->pools[(p >> 14) & 63]
 *
 * Pool 0 shares the first 16 KiB with the header and holds fewer blocks.
 *
 * Inside a pool, blocks are handed out from an intrusive free list; blocks
 * never handed out yet lie beyond `bump` and are carved lazily, a page at a
 * time, so a fresh pool costs no memory until it is used.
 *
 * Heap-level lists:
 *   - h->cache[c].head: free blocks of class c kept by the heap (LIFO), where
 *     rc_malloc pops and rc_free pushes; refilled from pools a pool's free
 *     list at a time, returned to pools half at a time when over
 *     RC_CACHE_BYTES, and entirely when the heap shrinks by half (then
 *     again when each class that still had blocks empties; see rc_cache);
 *   - h->list[c]: the pools of size class c that have a free block
 *     (refills come from the head; full pools are in no list);
 *   - h->buckets[k]: arenas with k+1 free pools; a new pool is taken from
 *     the lowest non-empty bucket (the fullest arena) so emptier arenas can
 *     drain and be given back (fragmentation, seed §4);
 *   - h->arenas: every arena of the heap, for stats, trim and destroy;
 *   - h->large: every live large block, so destroy frees them.
 *
 * Invariants:
 *   - pool->cls == RC_POOL_UNUSED  <=> the pool is in its arena's free set;
 *   - arena->cls_of[i] == pools[i].cls and arena->cache_of[i] ==
 *     &heap->cache[pools[i].cls] for a used pool of a plain heap, else
 *     RC_CLS_SLOW and NULL;
 *   - pool->used counts blocks out of the pool: handed out or in h->cache;
 *   - a pool with a class is in h->list[cls] iff it has a free block or an
 *     uncarved one (pool->full == 0);
 *   - arena->nfree == pools in the free set (fresh ones included);
 *   - an arena is "idle" when no block in it is handed out (arena_is_idle);
 *     outside of the moment a free runs, every idle arena is on h->idle
 *     (a->idle set), newest first.  Up to max(1, busy) of them are kept for
 *     good, busy being the arenas with a block handed out (h->narenas -
 *     h->nidle); the ones beyond, the surplus, only until they have been
 *     idle for h->idle_decay_ns: the hysteresis against map/unmap churn
 *     (docs/allocator.md, "Idle arenas").  With no block handed out
 *     anywhere, one idle arena at most is kept.
 */
#ifndef RCGC_ALLOC_INTERNAL_H
#define RCGC_ALLOC_INTERNAL_H

#include "rcgc/heap.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#if defined(__GNUC__)
#define RC_LIKELY(x) __builtin_expect(!!(x), 1)
#define RC_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define RC_NOINLINE __attribute__((noinline))
#define RC_INLINE static inline __attribute__((always_inline))
#else
#define RC_LIKELY(x) (x)
#define RC_UNLIKELY(x) (x)
#define RC_NOINLINE
#define RC_INLINE static inline
#endif

/* AddressSanitizer: poison free pool blocks. */
#if defined(__SANITIZE_ADDRESS__)
#define RC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RC_ASAN 1
#endif
#endif
#ifndef RC_ASAN
#define RC_ASAN 0
#endif

#if RC_ASAN
#include <sanitizer/asan_interface.h>
#define RC_POISON(p, n) __asan_poison_memory_region((p), (n))
#define RC_UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define RC_POISON(p, n) ((void)(p), (void)(n))
#define RC_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define RC_POOL_SHIFT RCGC_POOL_SHIFT
#define RC_ARENA_SHIFT (RCGC_POOL_SHIFT + 6)
_Static_assert(RCGC_POOL_SHIFT >= 13 && RCGC_POOL_SHIFT <= 16,
               "pools of 8 KiB (the arena header must fit in half a pool) to 64 KiB");
#define RC_POOLS_PER_ARENA ((unsigned)(RC_ARENA_SIZE / RC_POOL_SIZE))
#define RC_POOL_UNUSED 0xFFFFu
#define RC_CLS_SLOW 0xFFu
/* Bytes of free blocks a heap caches per size class before it returns half
 * of them to their pools (one pool's worth). */
#define RC_CACHE_BYTES RC_POOL_SIZE
/* A fresh pool is carved one OS page at a time: the blocks that start in
 * the page (heap.c, carve_count). */
#define RC_CARVE_BYTES 4096
#define RC_QUARANTINE RC_DEBUG_QUARANTINE

/* Slots for the upper layers' per-heap state (rc_heap_layer). */
enum { RC_LAYER_OBJECT, RC_LAYER_GC, RC_LAYER_TYPES, RC_LAYERS };
#define rc_heap_layer(h, i) ((h)->layer[(i)])

typedef struct rc_block {
    struct rc_block *next;
} rc_block;

typedef struct rc_arena rc_arena;
typedef struct rc_cache rc_cache;

/* One pool's descriptor (kept in the arena header). */
typedef struct rc_pool {
    rc_block *free;        /* free blocks inside [start, bump) */
    char *bump;            /* first never-carved block */
    char *limit;           /* end of the last whole block */
    uint32_t used;         /* blocks handed out */
    uint16_t cls;          /* size class, or RC_POOL_UNUSED */
    uint8_t full;          /* no free and no uncarved block: not in h->list */
    uint8_t unused_;
    struct rc_pool *next;  /* class list, or the arena's free-pool list */
    struct rc_pool *prev;  /* class list only */
} rc_pool;

struct rc_arena {
    /* The cache each pool's blocks are freed to (&heap->cache[class]), NULL
     * when rc_free must take the slow path (pool unused, or heap
     * instrumented): all that the free fast path reads. */
    rc_cache *cache_of[RC_POOLS_PER_ARENA];
    /* The class of each pool, RC_CLS_SLOW where cache_of is NULL (for the
     * sized free, rc_usable_size and rc_realloc). */
    uint8_t cls_of[RC_POOLS_PER_ARENA];
    rc_heap *heap;
    rc_arena *next, *prev;         /* bucket list (arenas with free pools) */
    rc_arena *all_next, *all_prev; /* h->arenas */
    rc_pool *free_pools;           /* released pools */
    unsigned next_fresh;           /* pools [next_fresh, 64) were never used */
    unsigned nfree;                /* free pools (released + fresh) */
    int bucket;                    /* bucket index, -1 when in none */
    bool populated;                /* faulted in whole when mapped: carve pools whole */
    bool idle;                     /* on h->idle: no block handed out */
    rc_arena *idle_next, *idle_prev; /* h->idle, most recently idle first */
    uint64_t idle_since;           /* rc__os_now_ns() when it went idle */
    rc_pool pools[RC_POOLS_PER_ARENA];
};

/* Header in front of every large block (and of every block in malloc mode).
 * `check` is last, right before the user's pointer. */
typedef struct rc_large {
    struct rc_large *next, *prev;
    rc_heap *heap;
    size_t alloc_size;  /* bytes obtained from the hook, header included */
    uint64_t flags;     /* RC_LARGE_UNMAPPED */
    uint64_t check;     /* large_check(p, heap, alloc_size) */
} rc_large;
#define RC_LARGE_HDR sizeof(rc_large)
/* 48 bytes with 8-byte pointers, 32 with 4-byte ones: the payload after it
 * keeps the hook's 16-byte alignment either way. */
_Static_assert(RC_LARGE_HDR % RC_ALIGNMENT == 0, "a large block starts 16-byte aligned");
/* flags: the large-header map could not take this header (a realloc hook
 * moved the block where no node of the map could be mapped): it is not
 * counted there, so it is not uncounted when freed. */
#define RC_LARGE_UNMAPPED 1u

/* Debug header in front of the front guard of every debug-mode block.
 * `heap` comes first: once a freed block leaves the quarantine, the pool's
 * free-list link is written over the block's first word, and with the heap
 * there (outside the check) size, serial and check survive, so a double free
 * after the quarantine is still told apart and reported as one. */
typedef struct rc_debug_hdr {
    /* Each field takes 8 bytes whatever the size of pointers and size_t, so
     * the header is 32 bytes (the user's block stays 16-byte aligned) with
     * its fields at the same offsets on 32-bit targets too. */
    union { rc_heap *heap; uint64_t heap_word_; };
    union { size_t size; uint64_t size_word_; }; /* bytes the caller asked for */
    uint64_t serial;
    uint64_t check;   /* debug_check(p, serial, size) ^ state */
} rc_debug_hdr;
#define RC_DEBUG_PREFIX (sizeof(rc_debug_hdr) + RC_DEBUG_GUARD_SIZE)
#define RC_DEBUG_OVERHEAD (RC_DEBUG_PREFIX + RC_DEBUG_GUARD_SIZE)
/* The raw block is 16-byte aligned, and so must the user's block be. */
_Static_assert(RC_DEBUG_PREFIX % RC_ALIGNMENT == 0, "a debug block starts 16-byte aligned");

/* A heap's cache of free blocks for one size class, and its share of the
 * heap's shrink detector.
 *
 * Between two visits of the slow path, live (blocks of the class handed out)
 * and cached (blocks in the stack) move in opposite steps of one, so
 * live + cached is fixed (`total`) and one counter tells both.  Frees are
 * where the slow path (rc__cache_rebalance) must look, when
 *   - cached would exceed max: the cache overflows, half goes back to the
 *     pools;
 *   - live falls below `mark`: the class halved since its mark was set,
 *     which then halves the mark (or clears it, for a class no larger than
 *     RC_CACHE_ARM_LIVE);
 *   - live falls to 0 in a draining class (below),
 * i.e. when live falls below lo = max(mark, total - max, draining); the
 * free fast path keeps only slack = live - lo and tests it against 0.  The
 * allocation fast path only counts; its slow path (an empty cache, so at
 * least once per refill: a page or a pool of blocks) looks too when the
 * class has doubled since its mark was set (4 * mark, or RC_CACHE_ARM_LIVE
 * while the mark is 0), and the mark becomes half of live.
 *
 * The heap's live count is the sum of what each class reported at its last
 * visit (`seen`), so it is off by a factor of two per class, plus a
 * refill's worth of blocks, or RC_CACHE_ARM_LIVE.  When it falls under half the heap's
 * mark (the heap shrank by half), every cache goes back to the pools, so
 * pools and arenas can empty, and every class that still has live blocks is
 * marked draining: the free that empties it flushes it too.  So a program
 * that frees everything ends with empty caches, while a loop that allocates
 * and frees a few blocks stays on the fast paths.
 *
 * No counter is shared between classes on the fast paths, so frees and
 * allocations of different classes form no chain through memory (a
 * heap-wide live counter, updated by every rc_malloc and rc_free, was such
 * a chain and took a third of the churn loop's time).  Plain heaps only:
 * instrumented heaps never cache. */
struct rc_cache {
    /* hot: the first 16 bytes of a 64-byte entry (8 with 4-byte pointers;
     * the heap and its cache array are 64-byte aligned, so an entry is one
     * cache line).  The alignment pads the entry to 64 bytes whatever the
     * size of pointers and size_t (the fields take 56 bytes with 8-byte
     * ones, 32 with 4-byte ones). */
    _Alignas(64) rc_block *head;  /* LIFO stack of free blocks */
    intptr_t slack;  /* live - lo: below 0 after a free, the slow path looks */
    /* the slow path's */
    intptr_t lo;     /* max(mark, total - max, 1 if draining and live > 0) */
    size_t total;    /* live + cached */
    size_t mark;     /* half the live count at the last peak or shrink; 0: unarmed */
    uint16_t max;    /* capacity: RC_CACHE_BYTES worth of blocks */
    uint16_t cls;    /* this entry's class: h->cache[cls] */
    uint32_t draining; /* the heap shrank by half since the class last
                        * emptied: the free that empties it flushes it */
    size_t seen;     /* live at the last visit of the slow path */
};
_Static_assert(RC_CACHE_BYTES / RC_ALIGNMENT <= UINT16_MAX, "cache capacity fits max");
_Static_assert(sizeof(rc_cache) == 64, "a cache entry is one cache line");

/* A class is armed (given a mark) once more than this many of its blocks
 * are live: below, only a draining class looks (when it empties), so a loop
 * that allocates and frees a few blocks stays on the fast paths. */
#define RC_CACHE_ARM_LIVE 32

RC_INLINE size_t rc_cache_live(const rc_cache *k) { return (size_t)(k->lo + k->slack); }
RC_INLINE size_t rc_cache_count(const rc_cache *k) { return k->total - rc_cache_live(k); }

struct rc_heap {
    /* Hot: the fast paths touch only these.  cache[c] is a LIFO stack of
     * free blocks of class c that belong to this heap's pools but are not on
     * their pools' free lists (the pools count them as used).  Recently freed
     * blocks are reused first while still in the CPU cache, and rc_free does
     * not touch the pool descriptor at all.  Instrumented heaps never cache. */
    _Alignas(64) rc_cache cache[RC_NUM_CLASSES];
    size_t live_seen; /* sum of the classes' `seen`: the heap's live pool blocks, about */
    size_t live_mark; /* half of live_seen at its last peak or shrink */

    rc_pool *list[RC_NUM_CLASSES]; /* pools of class c with a free block */
    bool instrumented;
    rc_alloc_mode mode;
    bool valgrind;

    rc_arena *buckets[RC_POOLS_PER_ARENA]; /* arenas by free-pool count - 1 */
    uint64_t bucket_bits;                  /* bit k set <=> buckets[k] non-empty */
    rc_arena *arenas;                      /* all arenas */
    rc_arena *idle, *idle_oldest;          /* idle arenas kept, newest first */
    size_t nidle;                          /* ... how many */
    uint64_t idle_decay_ns;                /* surplus idle arenas kept this long; 0: none */
    void *partner;                         /* mapped, not yet an arena (heap.c) */
    bool partner_populated;                /* ... and its pages are resident */
    uint8_t huge;                          /* RC_HUGE_OFF, _ON or _AUTO (resolved) */
    size_t huge_after;                     /* RC_HUGE_AUTO pairs from this many arenas */
    rc_large *large;                       /* all live large blocks */

    rc_raw_hooks hooks;
    rc_error_handler on_error;
    void *on_error_ctx;
    pthread_t owner;

    /* counters */
    size_t max_bytes;
    size_t bytes_os;
    size_t bytes_os_high;
    size_t narenas;
    size_t arenas_high;
    size_t arenas_allocated;
    size_t arenas_freed;
    size_t large_count;
    size_t large_payload;
    size_t debug_requested;
    uint64_t failed;
    uint64_t serial;
    uint64_t fail_countdown; /* rc_heap_fail_at: 0 = off */

    void *raw_self; /* what the large_alloc hook returned for this struct */

    /* State of the layers above the allocator (object, gc, types), which
     * they create on first use with memory from this heap. */
    void *layer[RC_LAYERS];

    /* debug quarantine (ring of freed raw blocks) */
    void *quarantine[RC_QUARANTINE];
    unsigned q_head, q_len;
};

/* ---- arena_map.c -------------------------------------------------------- */
/* One bit per arena-aligned MiB of the 47-bit address space: set while an
 * arena of some heap lives there.  With 32-bit pointers the map covers the
 * whole address space (64 words, not 16 MiB of .bss), so every address is
 * in range; the range tests shift the address as a uint64_t, since shifting
 * a 32-bit uintptr_t by 32 is undefined. */
#if UINTPTR_MAX > 0xFFFFFFFFu
#define RC_MAP_ADDRESS_BITS 47
#else
#define RC_MAP_ADDRESS_BITS 32
#endif
#define RC_MAP_WORDS ((size_t)1 << (RC_MAP_ADDRESS_BITS - RC_ARENA_SHIFT - 6))
/* Marks [base, base + RC_ARENA_SIZE) as an arena; false if base lies beyond
 * the address space the map covers. */
bool rc__arena_map_set(void *base);
void rc__arena_map_clear(void *base);
/* The large-header map (arena_map.c): pages touched by live large-block
 * headers.  add is false if a node of the map cannot be mapped (or hdr lies
 * beyond it); covers is true only if every page of [hdr, hdr + len) is
 * touched by some live header, so that reading it cannot fault. */
bool rc__large_map_add(const void *hdr, size_t len);
void rc__large_map_remove(const void *hdr, size_t len);
bool rc__large_map_covers(const void *hdr, size_t len);

#include <stdatomic.h>
/* hidden: the fast path reaches it PC-relative, not through the GOT */
extern __attribute__((visibility("hidden"))) _Atomic uint64_t rc__arena_bits[RC_MAP_WORDS];

/* Is p in an arena?  One load, from an address computed from p alone. */
RC_INLINE bool rc_arena_map_test(const void *p) {
    uintptr_t a = (uintptr_t)p;
    /* the word's index tells whether p lies beyond the map: one shift for
     * both (an instruction fewer than testing the high bits first) */
    uintptr_t i = a >> (RC_ARENA_SHIFT + 6);
    if (RC_UNLIKELY(i >= RC_MAP_WORDS))
        return false;
    uint64_t w = atomic_load_explicit(&rc__arena_bits[i], memory_order_acquire);
    return (w >> ((a >> RC_ARENA_SHIFT) & 63)) & 1;
}

/* The arena containing p (its header at p rounded down to RC_ARENA_SIZE),
 * or NULL if p is in no arena.  Only after this answers may the header be
 * read.  Callers that go on to use the arena without testing it for NULL
 * test rc_arena_map_test instead: the compiler cannot know that a mapped
 * arena's address is never NULL and would test it again. */
RC_INLINE rc_arena *rc_arena_map_lookup(const void *p) {
    if (rc_arena_map_test(p))
        return (rc_arena *)((uintptr_t)p & ~(uintptr_t)(RC_ARENA_SIZE - 1));
    return NULL;
}

/* ---- The fast paths, inline for the layers above ----------------------- */
void *rc__malloc_slow(rc_heap *h, size_t n);
void rc__free_slow(rc_arena *a, void *ptr);
void rc__free_sized_slow(rc_heap *h, void *ptr, size_t n);

void rc__cache_rebalance(rc_cache *k);

/* Pop a block from cache k; NULL when it is empty (the caller goes slow). */
RC_INLINE void *rc__cache_pop(rc_cache *k) {
    rc_block *b = k->head;
    if (RC_LIKELY(b != NULL)) {
        k->head = b->next;
        k->slack++;
    }
    return b;
}

/* rc_malloc: pop a block from the heap's cache for its size class. */
RC_INLINE void *rc__malloc_inline(rc_heap *h, size_t n) {
    if (RC_LIKELY(n - 1 < RC_SMALL_MAX)) {
        void *b = rc__cache_pop(&h->cache[(n - 1) >> 4]);
        if (RC_LIKELY(b != NULL))
            return b;
    }
    return rc__malloc_slow(h, n);
}

/* Push free block ptr on cache k; past the cache's room, or once the class
 * has shrunk by half, the slow path returns blocks to the pools. */
RC_INLINE void rc__cache_push(rc_cache *k, void *ptr) {
    rc_block *b = ptr;
    b->next = k->head;
    k->head = b;
    if (RC_UNLIKELY(--k->slack < 0))
        rc__cache_rebalance(k);
}

/* rc_free of a block known to lie in arena a: one load names its cache. */
RC_INLINE void rc__free_in_known_arena(rc_arena *a, void *ptr) {
    rc_cache *k = a->cache_of[((uintptr_t)ptr >> RC_POOL_SHIFT) & (RC_POOLS_PER_ARENA - 1)];
    if (RC_LIKELY(k != NULL)) {
        rc__cache_push(k, ptr);
        return;
    }
    rc__free_slow(a, ptr);
}

/* rc_free of a block whose arena lookup is done (a: its arena, or NULL). */
RC_INLINE void rc__free_in_arena(rc_arena *a, void *ptr) {
    if (RC_LIKELY(a != NULL))
        rc__free_in_known_arena(a, ptr);
    else
        rc__free_slow(NULL, ptr);
}

/* rc_free: push a pool block on its heap's cache (see docs/allocator.md).
 * The arena is tested as a bit, so the rounded address is not tested
 * against NULL as well. */
RC_INLINE void rc__free_inline(void *ptr) {
    if (RC_LIKELY(rc_arena_map_test(ptr)))
        rc__free_in_known_arena((rc_arena *)((uintptr_t)ptr & ~(uintptr_t)(RC_ARENA_SIZE - 1)), ptr);
    else
        rc__free_slow(NULL, ptr);
}

/* rc_free_sized: rc_free's fast path, and a proof that the block is h's.
 * The pointer names the block's cache in one load; that the cache is one of
 * h's (a range test, which a NULL cache fails too: h is a heap, never NULL,
 * as heap.h says) proves p a block of h's pools,
 * whose class is the cache's whatever n says.  Taking the class from n
 * instead, as this did before, cost 5 more instructions a free and bought
 * nothing measurable on two machines (the push waiting for the arena
 * header's load overlaps with other work).  The slow path (NULL, large
 * blocks, instrumented heaps, whose cache_of[] is NULL, another heap's
 * block) checks h and n in debug mode. */
RC_INLINE void rc__free_sized_inline(rc_heap *h, void *ptr, size_t n) {
    if (RC_LIKELY(rc_arena_map_test(ptr))) {
        rc_arena *a = (rc_arena *)((uintptr_t)ptr & ~(uintptr_t)(RC_ARENA_SIZE - 1));
        rc_cache *k = a->cache_of[((uintptr_t)ptr >> RC_POOL_SHIFT) & (RC_POOLS_PER_ARENA - 1)];
        if (RC_LIKELY((uintptr_t)k - (uintptr_t)h->cache < sizeof h->cache)) {
            rc__cache_push(k, ptr);
            return;
        }
    }
    rc__free_sized_slow(h, ptr, n);
}

/* The heap owning block p (pool or large); NULL if p is not rcgc's. */
RC_INLINE rc_heap *rc__heap_of_block_inline(const void *p) {
    rc_arena *a = rc_arena_map_lookup(p);
    return a ? a->heap : rc_heap_of_block(p);
}

/* ---- os.c ---------------------------------------------------------------- */
extern const rc_raw_hooks rc__os_hooks;
/* Fault in fresh OS memory in one go (default hooks only); best effort:
 * true if the memory is now resident. */
bool rc__os_populate(void *p, size_t size);
/* CLOCK_MONOTONIC, in nanoseconds. */
uint64_t rc__os_now_ns(void);
/* Best effort: back [p, p + size) with transparent huge pages. */
void rc__os_prefer_huge(void *p, size_t size);
/* A heap that already holds this many arenas and maps another is growing:
 * the new arena is populated at once instead of page by page, together with
 * its partner in a huge-page pair (see arena_memory in heap.c). */
#define RC_POPULATE_AFTER 4
/* The huge page the kernel can back a pair of arenas with. */
#define RC_PAIR_SIZE (2 * RC_ARENA_SIZE)

/* ---- heap.c (used by debug.c and stats.c) -------------------------------- */
RC_INLINE size_t rc_class_size(unsigned c) { return ((size_t)c + 1) * RC_ALIGNMENT; }
RC_INLINE unsigned rc_size_class(size_t n) { return (unsigned)((n - 1) >> 4); }
RC_INLINE rc_pool *rc_pool_of(rc_arena *a, const void *p) {
    return &a->pools[((uintptr_t)p >> RC_POOL_SHIFT) & (RC_POOLS_PER_ARENA - 1)];
}
char *rc__pool_start(const rc_pool *pool);
size_t rc__pool_capacity(const rc_pool *pool);
rc_arena *rc__pool_arena(const rc_pool *pool);

void *rc__raw_alloc(rc_heap *h, size_t n);      /* pool or large block, uninstrumented */
void rc__raw_free(rc_heap *h, void *raw);        /* counterpart */
size_t rc__raw_usable(void *raw);
rc_large *rc__large_header(const void *p);       /* NULL if p has no valid large header */
bool rc__injected_failure(rc_heap *h);          /* rc_heap_fail_at's countdown hit */
void rc__report(rc_heap *h, rc_error_kind kind, const void *p, size_t size, uint64_t serial,
               const char *what);

/* ---- debug.c -------------------------------------------------------------- */
void *rc__debug_malloc(rc_heap *h, size_t n);
void rc__debug_free(rc_heap *h, void *p);       /* h: the heap p's arena says, or NULL */
void rc__debug_free_sized(rc_heap *h, void *p, size_t n); /* h: the caller's heap */
void *rc__debug_realloc(rc_heap *h, void *p, size_t n);
size_t rc__debug_usable(const void *p);
bool rc__debug_owns(const void *p);              /* p carries a valid debug header */
/* The debug heap whose large block starts at p's debug header, or NULL. */
rc_heap *rc__debug_large_owner(const void *p);
/* L is the large header in front of p: if its heap is a debug heap, p is a
 * debug block's raw start, not a user's block: reported, true. */
bool rc__debug_large_raw(const rc_large *L, const void *p);
void rc__debug_flush_quarantine(rc_heap *h);

#endif
