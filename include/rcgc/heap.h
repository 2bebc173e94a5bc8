/*
 * rcgc/heap.h — private heaps and the small-object allocator.
 *
 * A heap (rc_heap) owns all the memory it hands out.  Requests of 1..512 bytes
 * are served from 32 size classes (16-byte steps, 16-byte alignment) kept in
 * 16 KiB pools carved from 1 MiB arenas obtained from the OS; larger requests
 * go to the system allocator (or the raw hooks of rc_heap_config).
 *
 * Threads: a heap is driven by one thread at a time and takes no locks.  Two
 * threads with two heaps never contend.  A block may be freed with rc_free()
 * only by the thread that owns its heap (the creating thread, or the last one
 * that called rc_heap_claim()); debug mode reports violations.
 *
 * The process-wide structures are the arena map (see src/alloc/arena_map.c):
 * a bitmap with one bit per 1 MiB of address space, changed atomically only
 * when an arena is mapped or unmapped, read by rc_free() to tell pool blocks
 * from large blocks without reading memory rcgc did not allocate.  A
 * pointer in no arena is then checked against a large-block header in the
 * 48 bytes in front of it (32 on 32-bit targets), read only when a second map (a counter per 4 KiB
 * page of the live large-block headers touching it) says such a header lies
 * there, so the read never faults (docs/allocator.md).  Besides those two
 * maps, two atomic words are shared: the address the next arena is asked
 * for at (a hint: a stale one costs one more system call), and whether the
 * kernel supports MADV_POPULATE_WRITE (learnt once).  Nothing else is.
 *
 * Arguments: unless a function says otherwise, a heap or output pointer
 * must not be NULL.  Names beginning with rc_, rc__ or RC_ belong to the
 * library; rc__ ones are internal (the static library's internal globals
 * all carry rc__, so that a program linking it statically meets no other
 * name of the library's than the ones the headers declare).
 */
#ifndef RCGC_HEAP_H
#define RCGC_HEAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rcgc/version.h" /* RC_API */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Constants -------------------------------------------------------- */

/** Largest request served from the pools; larger ones are "large blocks". */
#define RC_SMALL_MAX 512
/** Alignment of every block rcgc returns (pool and large). */
#define RC_ALIGNMENT 16
/** Number of small size classes: 16, 32, ..., 512 bytes. */
#define RC_NUM_CLASSES (RC_SMALL_MAX / RC_ALIGNMENT)
/** log2 of the pool size.  16 KiB unless the library was built with the
 *  CMake option RCGC_POOL_SHIFT, which only bench/sizes.sh uses, to measure
 *  the other sizes (docs/allocator.md); code built against such a library
 *  must be compiled with the same definition. */
#ifndef RCGC_POOL_SHIFT
#define RCGC_POOL_SHIFT 14
#endif
/** Bytes per pool (one size class per pool). */
#define RC_POOL_SIZE ((size_t)1 << RCGC_POOL_SHIFT)
/** Bytes per arena (64 pools); arenas are aligned to their size. */
#define RC_ARENA_SIZE (RC_POOL_SIZE * 64)

/* Debug-mode fill patterns and guards (as CPython's debug allocator). */
/** Every byte of a fresh block in debug mode (not rc_calloc). */
#define RC_DEBUG_FRESH_BYTE 0xCD
/** Every byte of a freed block in debug mode, while it sits unused. */
#define RC_DEBUG_DEAD_BYTE 0xDD
/** Guard bytes on each side of a debug-mode block. */
#define RC_DEBUG_GUARD_BYTE 0xFD
/** Number of guard bytes on each side of a debug-mode block. */
#define RC_DEBUG_GUARD_SIZE 16
/** Freed debug-mode blocks are kept out of circulation (filled with
 *  RC_DEBUG_DEAD_BYTE) until this many later frees have happened, so a double
 *  free or a write after free of a recent block is still recognised. */
#define RC_DEBUG_QUARANTINE 64

/* ---- Configuration ---------------------------------------------------- */

/** Allocator mode.  RC_MODE_DEFAULT reads the RCGC_MALLOC environment
 *  variable ("pool", "malloc" or "debug") and falls back to RC_MODE_POOL. */
typedef enum rc_alloc_mode {
    RC_MODE_DEFAULT = 0,
    RC_MODE_POOL = 1,   /**< size classes in pools (the fast path) */
    RC_MODE_MALLOC = 2, /**< every block from the system allocator (for tools) */
    RC_MODE_DEBUG = 3   /**< pools plus guard bytes, fill patterns, serials, checks */
} rc_alloc_mode;

/** Transparent huge pages for a heap's arenas.  RC_HUGE_DEFAULT reads the
 *  RCGC_HUGE_PAGES environment variable ("1": RC_HUGE_ON, "0": RC_HUGE_OFF,
 *  "auto" or anything else, or unset: RC_HUGE_AUTO).
 *
 *  With RC_HUGE_ON, a heap on the default hooks that already holds a few
 *  arenas and grows maps two arenas at a time, 2 MiB-aligned, and asks the
 *  kernel (madvise MADV_HUGEPAGE) to back them with one huge page.  Both are
 *  faulted in at once, so the heap holds up to one arena more than it uses
 *  while it grows; it gives that one back as soon as it shrinks, and trims
 *  and frees exactly as without huge pages.  A big heap whose blocks are
 *  touched at random gains: fewer TLB misses, and on a virtual machine far
 *  cheaper ones (with small pages, filling and emptying 260 MiB of random
 *  sizes spent 1.0 s in user mode against 0.13 s).  The kernel zeroes a huge
 *  page no faster than 512 small ones, though, and on a virtual machine
 *  whose host reclaims the guest's free 2 MiB blocks (virtio-balloon free
 *  page reporting) the first touch of each one is a fault in the host:
 *  growing by 260 MiB there took 2.7 times as long as with small pages.
 *  And where memory is fragmented, a kernel whose THP defrag setting is
 *  "madvise" (a common default) may compact memory to find a huge page: a
 *  pause in that growth step.
 *
 *  RC_HUGE_AUTO, the default, takes huge pairs only once a heap holds
 *  RC_HUGE_AUTO_AFTER arenas (64 MiB), or rc_heap_config.huge_auto_arenas
 *  if set: there the arena mapped ahead is under 2% of what the heap holds
 *  and the TLB gain is largest, while small heaps keep the RSS of small
 *  pages.  Ignored with custom raw hooks, and where the kernel has no huge
 *  pages. */
typedef enum rc_huge_pages {
    RC_HUGE_DEFAULT = 0,
    RC_HUGE_OFF = 1,
    RC_HUGE_ON = 2,
    RC_HUGE_AUTO = 3
} rc_huge_pages;

/** RC_HUGE_AUTO considers huge pairs once a heap holds this many arenas
 *  (unless rc_heap_config.huge_auto_arenas says otherwise). */
#define RC_HUGE_AUTO_AFTER 64

/** Raw memory hooks: route every byte a heap takes from the system.
 *  All four must be set together (or the hooks pointer left NULL).
 *  Returning NULL from an alloc hook is an ordinary failure: the rcgc call
 *  that needed the memory returns NULL and the heap stays usable. */
typedef struct rc_raw_hooks {
    void *ctx; /**< passed back to every hook */
    /** Return `size` bytes aligned to `align` (RC_ARENA_SIZE), or NULL. */
    void *(*arena_alloc)(void *ctx, size_t size, size_t align);
    /** Give back an arena arena_alloc returned, with the same size. */
    void (*arena_free)(void *ctx, void *p, size_t size);
    /** Return `size` bytes aligned to 16, or NULL. */
    void *(*large_alloc)(void *ctx, size_t size);
    /** Give back a block large_alloc (or large_realloc) returned, with its size. */
    void (*large_free)(void *ctx, void *p, size_t size);
    /** Optional: resize a large allocation (may move it).  NULL = alloc+copy+free. */
    void *(*large_realloc)(void *ctx, void *p, size_t old_size, size_t new_size);
} rc_raw_hooks;

/** What the debug allocator found wrong. */
typedef enum rc_error_kind {
    RC_ERR_OVERRUN = 1,   /**< bytes after the block were overwritten */
    RC_ERR_UNDERRUN,      /**< bytes before the block were overwritten */
    RC_ERR_DOUBLE_FREE,   /**< the block was already free */
    RC_ERR_FOREIGN,       /**< the pointer was not allocated by rcgc */
    RC_ERR_WRONG_THREAD,  /**< freed by a thread that does not own the heap */
    RC_ERR_WRONG_HEAP,    /**< rc_realloc() given a heap that does not own the block */
    RC_ERR_WRITE_AFTER_FREE, /**< a freed block was written to while in quarantine */
    RC_ERR_REFCOUNT,         /**< reference debugging: decref below zero, or use of
                                  a freed object (RCGC_REF_DEBUG builds) */
    RC_ERR_WRONG_SIZE        /**< rc_free_sized() given a size the block was not
                                  allocated with (debug mode) */
} rc_error_kind;

/** A private heap: opaque; made by rc_heap_new, ended by rc_heap_destroy. */
typedef struct rc_heap rc_heap;

/** A report from the debug allocator (or from rc_free on a pointer whose
 *  large-block header is not rcgc's). */
typedef struct rc_error_report {
    rc_error_kind kind;  /**< what went wrong */
    rc_heap *heap;       /**< the heap involved, NULL if unknown */
    const void *ptr;     /**< the pointer the caller passed */
    size_t size;         /**< the block's requested size (0 if unknown) */
    uint64_t serial;     /**< the block's allocation serial number (0 if unknown) */
    const char *message; /**< a one-line human-readable description */
} rc_error_report;

/** Error handler.  The default prints the report to stderr and aborts.  If a
 *  handler returns, the faulty operation is abandoned: the block is neither
 *  freed nor reused (a leak, never corruption). */
typedef void (*rc_error_handler)(const rc_error_report *report, void *ctx);

/** How a heap is made (rc_heap_new).  Start from rc_heap_config_init (or
 *  zero it) so that fields added later keep their defaults. */
typedef struct rc_heap_config {
    rc_alloc_mode mode;          /**< RC_MODE_DEFAULT: environment, then pool */
    const rc_raw_hooks *hooks;   /**< NULL: mmap for arenas, malloc for large blocks */
    size_t max_bytes;            /**< cap on arena + large-block bytes held from the
                                      system (bytes_from_os); 0 = none.  The heap's own
                                      control block is not counted. */
    rc_error_handler on_error;   /**< NULL: print to stderr and abort() */
    void *on_error_ctx;          /**< passed back to on_error */
    rc_huge_pages huge_pages;    /**< RC_HUGE_DEFAULT: environment, then auto */
    int idle_arena_ms;           /**< how long an arena idle beyond the ones a heap keeps
                                      for good (one per busy arena, one when none is
                                      busy) is kept for reuse before it goes back, in
                                      milliseconds, checked when the heap frees:
                                      0 = RC_IDLE_ARENA_MS_DEFAULT; negative = at once */
    unsigned huge_auto_arenas;   /**< with RC_HUGE_AUTO: the arenas a heap holds before
                                      it grows in huge-page pairs; 0 = RC_HUGE_AUTO_AFTER.
                                      For a client whose heaps are mid-sized and touched
                                      at random (TLB-bound), at the price of up to one
                                      arena held ahead (RSS).  Pairs are only ever taken
                                      by a heap that already holds 4 arenas, so 1 to 4
                                      act as RC_HUGE_ON.  Ignored with RC_HUGE_ON and
                                      RC_HUGE_OFF (the environment's 1 and 0 included). */
} rc_heap_config;

/** The default of rc_heap_config.idle_arena_ms. */
#define RC_IDLE_ARENA_MS_DEFAULT 500

/** Fill `cfg` with the defaults (all zero: environment mode, OS memory, no
 *  cap, huge pages as the environment says). */
RC_API void rc_heap_config_init(rc_heap_config *cfg);

/* ---- Heaps ------------------------------------------------------------ */

/** Create a heap.  NULL cfg = defaults.  Returns NULL if memory for the heap
 *  itself cannot be had or the config is invalid (some raw hooks but not
 *  all four, or a mode or huge_pages value out of its enum's range). */
RC_API rc_heap *rc_heap_new(const rc_heap_config *cfg);
/** Destroy a heap and give every byte it holds back, live blocks included.
 *  rc_heap_destroy(NULL) does nothing. */
RC_API void rc_heap_destroy(rc_heap *h);
/** The mode the heap runs in (never RC_MODE_DEFAULT). */
RC_API rc_alloc_mode rc_heap_mode(const rc_heap *h);
/** Make the calling thread the heap's owner (after handing it over). */
RC_API void rc_heap_claim(rc_heap *h);
/** Change the cap on bytes held from the system (0 = none).  A cap below
 *  what the heap already holds takes nothing back at once: a request that
 *  needs more memory from the system gives back idle arenas first if that
 *  makes room for it, and otherwise keeps them and fails; blocks from
 *  memory the heap already holds are still handed out.  rc_heap_trim gives
 *  back all it can. */
RC_API void rc_heap_set_max_bytes(rc_heap *h, size_t max_bytes);
/** Failure injection for tests: in debug and malloc modes, the n-th
 *  allocation (rc_malloc, rc_calloc, or rc_realloc that must move or grow)
 *  from now on fails as if memory were exhausted; later ones succeed.
 *  0 turns it off.  Pool-mode heaps ignore it (their fast path stays
 *  unchecked); use the raw hooks or max_bytes there. */
RC_API void rc_heap_fail_at(rc_heap *h, uint64_t n);

/* ---- Allocation ------------------------------------------------------- */

/** n bytes, 16-byte aligned, or NULL.  n == 0 gives a unique pointer. */
RC_API void *rc_malloc(rc_heap *h, size_t n);
/** count*n zeroed bytes, or NULL (also on overflow of count*n). */
RC_API void *rc_calloc(rc_heap *h, size_t count, size_t n);
/** Resize p (allocated from h) to n bytes; p == NULL acts as rc_malloc.
 *  Stays in place when the size class does not change, and a large block
 *  when it shrinks by at most half (debug mode always moves, so that a stale
 *  pointer to the old block is caught).  On failure returns NULL and p is
 *  untouched.  n == 0 frees p and returns a unique pointer.  Without a
 *  large_realloc hook, a large block that moves is copied from old to new,
 *  so both count against max_bytes for that moment.  A debug heap's block
 *  given to a heap in another mode is resized by its own heap, which checks
 *  it (a debug heap reports another heap's block: RC_ERR_WRONG_HEAP). */
RC_API void *rc_realloc(rc_heap *h, void *p, size_t n);
/** Free p; its heap is found from the pointer.  rc_free(NULL) does nothing.
 *  In every mode a pointer outside rcgc's memory, or inside an arena but in
 *  a pool that holds no blocks, is reported (RC_ERR_FOREIGN) and ignored.
 *  In pool mode the fast path trusts any other pointer into a live pool: a
 *  double free or a pointer into the middle of a block is caught only in
 *  debug mode (RCGC_MALLOC=debug), as with CPython's pymalloc and
 *  PYTHONMALLOC=debug. */
RC_API void rc_free(void *p);
/** Free p, allocated from heap h (not NULL) with n bytes: the size passed to rc_malloc
 *  (rc_calloc: count * n; rc_realloc: the last size asked for), or any size
 *  from that up to rc_usable_size(p).  Like C23 free_sized() and jemalloc's
 *  sdallocx(), for callers that know both (Lua's allocator does).  In pool
 *  and malloc modes it frees as rc_free(p) does, for an instruction more
 *  (a test that the block is h's): the pointer alone names the block's
 *  class in one load, so taking it from n saves nothing (measured), and a
 *  heap or size that does not match the block changes nothing but the
 *  speed.  When h is in debug mode the arguments are checked: a wrong heap
 *  (RC_ERR_WRONG_HEAP) or a size other than the block's requested size
 *  (RC_ERR_WRONG_SIZE) is reported and the block is left alone.  p == NULL
 *  does nothing. */
RC_API void rc_free_sized(rc_heap *h, void *p, size_t n);
/** Bytes usable at p (at least what was asked for); 0 for NULL.  A pointer
 *  outside rcgc's memory, or inside an arena but in a pool that holds no
 *  blocks, is reported (RC_ERR_FOREIGN; the default handler aborts) and
 *  gives 0 if the handler returns. */
RC_API size_t rc_usable_size(const void *p);
/** The heap that owns p; NULL for NULL and for a pointer outside rcgc's
 *  memory (never reported: this is the question to ask of an unknown
 *  pointer). */
RC_API rc_heap *rc_heap_of_block(const void *p);
/** Block size of the size class serving n bytes (n rounded up to a class;
 *  16 for 0), or n itself above RC_SMALL_MAX (a large block may get a few
 *  bytes more, rounded to 16 outside debug mode: rc_usable_size tells; n is
 *  what every mode gives at least). */
RC_API size_t rc_good_size(size_t n);

/* ---- Statistics ------------------------------------------------------- */

/** One size class's share of a heap (rc_heap_stats.classes). */
typedef struct rc_class_stats {
    size_t block_size;   /**< bytes per block in this class */
    size_t pools;        /**< pools currently serving this class */
    size_t blocks_used;  /**< blocks handed out and not yet freed */
    size_t blocks_free;  /**< blocks available in those pools */
} rc_class_stats;

/** A heap's statistics, filled by rc_heap_get_stats. */
typedef struct rc_heap_stats {
    rc_class_stats classes[RC_NUM_CLASSES]; /**< classes[i]: blocks of (i+1)*16 bytes */
    size_t arenas;             /**< arenas held now */
    size_t arenas_idle;        /**< ... of which idle: no block handed out, kept for
                                    reuse (one per busy arena, one when none is
                                    busy, and beyond that for idle_arena_ms);
                                    rc_heap_trim gives them back */
    size_t arenas_high_water;  /**< most arenas held at once */
    size_t arenas_allocated;   /**< arenas taken from the system in total */
    size_t arenas_freed;       /**< arenas given back in total */
    size_t pools_free;         /**< unused pools inside held arenas */
    size_t large_blocks;       /**< live large blocks */
    size_t large_bytes;        /**< bytes held by them (headers included) */
    size_t bytes_in_use;       /**< small blocks (whole class size) + large block payloads */
    size_t bytes_requested;    /**< debug mode: exact bytes asked for; else = bytes_in_use */
    size_t bytes_from_os;      /**< arenas + large blocks held from the system (the
                                    heap's own control block excluded), plus
                                    arena_bytes_ahead */
    size_t arena_bytes_ahead;  /**< mapped for the next arena but not one yet: the
                                    second half of a huge-page pair (RC_HUGE_ON) */
    size_t bytes_high_water;   /**< most bytes_from_os at once */
    size_t max_bytes;          /**< the cap (0 = none) */
    uint64_t failed_allocs;    /**< requests refused (cap, OS or hook failure) */
} rc_heap_stats;

/** Snapshot of the heap's statistics (computed by walking the arenas). */
RC_API void rc_heap_get_stats(const rc_heap *h, rc_heap_stats *out);
/** Print the statistics as a table (like CPython's sys._debugmallocstats()). */
RC_API void rc_heap_print_stats(const rc_heap *h, FILE *out);
/** Give back every idle arena (the ones kept for reuse included) and idle
 *  cached pool.
 *  Returns the bytes given back to the system. */
RC_API size_t rc_heap_trim(rc_heap *h);

#ifdef __cplusplus
}
#endif
#endif /* RCGC_HEAP_H */
