/*
 * src/alloc/debug.c — the debug allocator (RC_MODE_DEBUG).
 *
 * Each debug block wraps a raw block (pool or large) of n + 64 bytes:
 *
 *   raw                                     p (returned)
 *   |                                       |
 *   v                                       v
 *   +-----------------------+---------------+------------------+---------------+
 *   | rc_debug_hdr (32)     | front guard   | n bytes of data  | tail guard    |
 *   | heap size serial check| 16 x 0xFD     | fresh: 0xCD      | 16 x 0xFD     |
 *   +-----------------------+---------------+------------------+---------------+
 *
 * `check` hashes (p, serial, size) with the block's state (live or dead), so
 * a header that does not check out is either not ours or overwritten, and a
 * dead one means a double free.  Freed blocks are filled with 0xDD and kept
 * in a small FIFO quarantine before their memory is reused; leaving the
 * quarantine they must still be all 0xDD, or something wrote after free.
 */
#include "alloc/internal.h"

#include <string.h>

#if RCGC_HAVE_VALGRIND
#include <valgrind/memcheck.h>
#else
#define VALGRIND_MEMPOOL_ALLOC(h, p, n) ((void)0)
#define VALGRIND_MEMPOOL_FREE(h, p) ((void)0)
#define VALGRIND_MAKE_MEM_UNDEFINED(p, n) ((void)0)
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)0)
#define VALGRIND_MAKE_MEM_NOACCESS(p, n) ((void)0)
#endif

#define STATE_LIVE 0x4C495645ull
#define STATE_DEAD 0x44454144ull

static uint64_t debug_check(const void *p, uint64_t serial, size_t size) {
    uint64_t x = ((uint64_t)(uintptr_t)p ^ (serial * 0xD6E8FEB86659FD93ull) ^ ((uint64_t)size << 17)) *
                 0x9E3779B97F4A7C15ull;
    return x ^ (x >> 29);
}

static rc_debug_hdr *hdr_of(const void *p) {
    return (rc_debug_hdr *)((char *)(uintptr_t)p - RC_DEBUG_PREFIX);
}

static bool all_bytes(const unsigned char *q, size_t n, unsigned char v) {
    for (size_t i = 0; i < n; i++)
        if (q[i] != v)
            return false;
    return true;
}

void *rc__debug_malloc(rc_heap *h, size_t n) {
    if (rc__injected_failure(h))
        return NULL;
    if (n > SIZE_MAX / 2) {
        h->failed++;
        return NULL;
    }
    char *raw = rc__raw_alloc(h, n + RC_DEBUG_OVERHEAD);
    if (!raw)
        return NULL;
    RC_UNPOISON(raw, n + RC_DEBUG_OVERHEAD);
    /* Under valgrind, free pool memory is inaccessible: open the header and
     * guards to us, and announce only the user's bytes as a block. */
    bool announce = h->valgrind && rc_arena_map_lookup(raw);
    if (announce)
        VALGRIND_MAKE_MEM_UNDEFINED(raw, n + RC_DEBUG_OVERHEAD);
    char *p = raw + RC_DEBUG_PREFIX;
    rc_debug_hdr *hdr = (rc_debug_hdr *)raw;
    hdr->size = n;
    hdr->serial = ++h->serial;
    hdr->heap = h;
    hdr->check = debug_check(p, hdr->serial, n) ^ STATE_LIVE;
    memset(raw + sizeof *hdr, RC_DEBUG_GUARD_BYTE, RC_DEBUG_GUARD_SIZE);
    memset(p + n, RC_DEBUG_GUARD_BYTE, RC_DEBUG_GUARD_SIZE);
    if (announce)
        VALGRIND_MEMPOOL_ALLOC(h, p, n);
    memset(p, RC_DEBUG_FRESH_BYTE, n);
    h->debug_requested += n;
    return p;
}

/* The debug heap p is a large block of: found from the large-block header
 * in front of p's debug header, which an underrun that overwrote the debug
 * header left intact (its check says so).  NULL if there is none, or if it
 * belongs to a heap of another mode (then p is not a debug block). */
rc_heap *rc__debug_large_owner(const void *p) {
    uintptr_t raw = (uintptr_t)p - RC_DEBUG_PREFIX; /* p may be anything: no pointer arithmetic */
    if (raw > (uintptr_t)p)
        return NULL;
    rc_large *L = rc__large_header((const void *)raw);
    return L && L->heap->mode == RC_MODE_DEBUG ? L->heap : NULL;
}

/* Does p's header check out, live or dead? */
static bool hdr_intact(const void *p, const rc_debug_hdr *hdr) {
    uint64_t c = debug_check(p, hdr->serial, hdr->size);
    return hdr->check == (c ^ STATE_LIVE) || hdr->check == (c ^ STATE_DEAD);
}

/* Does p carry a debug header (live or dead) in a large block?  Used for
 * pointers outside every arena. */
bool rc__debug_owns(const void *p) {
    rc_heap *h = rc__debug_large_owner(p);
    if (!h)
        return false;
    rc_debug_hdr *hdr = hdr_of(p);
    return hdr->heap == h && hdr_intact(p, hdr);
}

/* Could p, in arena a, be a debug block: does its raw block start a block
 * of its pool that has been carved?  Only then is its header there. */
static bool pool_block_start(rc_arena *a, const void *p) {
    const char *raw = (const char *)p - RC_DEBUG_PREFIX;
    rc_pool *pool = rc_pool_of(a, p);
    const char *start = rc__pool_start(pool);
    return pool->cls != RC_POOL_UNUSED && raw >= start && raw < pool->bump &&
           (size_t)(raw - start) % rc_class_size(pool->cls) == 0;
}

static void report_not_block(rc_heap *h, const void *p) {
    rc__report(h, RC_ERR_FOREIGN, p, 0, 0, "pointer is not the start of an rcgc block");
}

/* Check a block handed back by the user.  Returns its header if it is a live,
 * intact block owned by the calling thread; otherwise reports and returns
 * NULL.  `h` is the heap of the arena p lies in, or NULL for large blocks. */
static rc_debug_hdr *validate(rc_heap *h, const void *p) {
    rc_arena *a = rc_arena_map_lookup(p);
    if (a && !pool_block_start(a, p)) {
        report_not_block(h, p);
        return NULL;
    }
    if (!h) /* a large block: its large header says whose */
        h = rc__debug_large_owner(p);
    if (!h) { /* the callers ruled this out; never read a header that may not exist */
        rc__report(NULL, RC_ERR_FOREIGN, p, 0, 0, "pointer is not an rcgc debug block");
        return NULL;
    }
    rc_debug_hdr *hdr = hdr_of(p);
    uint64_t c = debug_check(p, hdr->serial, hdr->size);
    if (hdr->check == (c ^ STATE_DEAD)) {
        rc__report(h, RC_ERR_DOUBLE_FREE, p, hdr->size, hdr->serial, "double free");
        return NULL;
    }
    if (hdr->check != (c ^ STATE_LIVE) || hdr->heap != h) {
        rc__report(h, RC_ERR_UNDERRUN, p, 0, 0,
                  "block header overwritten (buffer underrun far before the block)");
        return NULL;
    }
    const unsigned char *front = (const unsigned char *)p - RC_DEBUG_GUARD_SIZE;
    if (!all_bytes(front, RC_DEBUG_GUARD_SIZE, RC_DEBUG_GUARD_BYTE)) {
        rc__report(h, RC_ERR_UNDERRUN, p, hdr->size, hdr->serial,
                  "buffer underrun (guard bytes before the block overwritten)");
        return NULL;
    }
    if (!all_bytes((const unsigned char *)p + hdr->size, RC_DEBUG_GUARD_SIZE, RC_DEBUG_GUARD_BYTE)) {
        rc__report(h, RC_ERR_OVERRUN, p, hdr->size, hdr->serial,
                  "buffer overrun (guard bytes after the block overwritten)");
        return NULL;
    }
    if (!pthread_equal(h->owner, pthread_self())) {
        rc__report(h, RC_ERR_WRONG_THREAD, p, hdr->size, hdr->serial,
                  "block freed by a thread that does not own its heap");
        return NULL;
    }
    return hdr;
}

/* Really free a quarantined block, checking nobody wrote to it meanwhile. */
static void release(rc_heap *h, void *raw) {
    rc_debug_hdr *hdr = raw;
    char *p = (char *)raw + RC_DEBUG_PREFIX;
    bool in_pool = rc_arena_map_lookup(raw) != NULL;
    /* its header and guards first: the size must be the block's before the
     * bytes it names are read (a stale pointer's underrun, or a neighbour's
     * overrun, may have changed it) */
    if (hdr->check != (debug_check(p, hdr->serial, hdr->size) ^ STATE_DEAD) || hdr->heap != h) {
        rc__report(h, RC_ERR_WRITE_AFTER_FREE, p, 0, 0,
                  "freed block's header was overwritten (use after free, or an overrun)");
        return; /* keep it out of circulation */
    }
    if (!all_bytes((unsigned char *)p - RC_DEBUG_GUARD_SIZE, RC_DEBUG_GUARD_SIZE, RC_DEBUG_GUARD_BYTE) ||
        !all_bytes((unsigned char *)p + hdr->size, RC_DEBUG_GUARD_SIZE, RC_DEBUG_GUARD_BYTE)) {
        rc__report(h, RC_ERR_WRITE_AFTER_FREE, p, hdr->size, hdr->serial,
                  "freed block's guard bytes were overwritten (use after free)");
        return;
    }
    if (h->valgrind && in_pool)
        VALGRIND_MAKE_MEM_DEFINED(p, hdr->size); /* it was announced freed */
    if (!all_bytes((unsigned char *)p, hdr->size, RC_DEBUG_DEAD_BYTE)) {
        rc__report(h, RC_ERR_WRITE_AFTER_FREE, p, hdr->size, hdr->serial,
                  "freed block was written to (use after free)");
        return; /* keep it out of circulation */
    }
    if (in_pool) { /* a free pool block again: off limits, as in pool mode */
        RC_POISON(raw, rc__raw_usable(raw));
        if (h->valgrind)
            VALGRIND_MAKE_MEM_NOACCESS(raw, rc__raw_usable(raw));
    }
    rc__raw_free(h, raw);
}

void rc__debug_free(rc_heap *h, void *p) {
    rc_debug_hdr *hdr = validate(h, p);
    if (!hdr)
        return;
    h = hdr->heap;
    hdr->check = debug_check(p, hdr->serial, hdr->size) ^ STATE_DEAD;
    memset(p, RC_DEBUG_DEAD_BYTE, hdr->size);
    h->debug_requested -= hdr->size;
    if (h->valgrind && rc_arena_map_lookup(p))
        VALGRIND_MEMPOOL_FREE(h, p);
    if (h->q_len == RC_QUARANTINE) {
        void *oldest = h->quarantine[h->q_head];
        h->q_head = (h->q_head + 1) % RC_QUARANTINE;
        h->q_len--;
        release(h, oldest);
    }
    h->quarantine[(h->q_head + h->q_len) % RC_QUARANTINE] = hdr;
    h->q_len++;
}

/* L, found in front of p by rc__large_header: is it a debug heap's?  Then
 * p is where the large-block layer's block starts, in front of the debug
 * header (the debug allocator's pointer, not one the caller holds), and it
 * is reported to that heap. */
bool rc__debug_large_raw(const rc_large *L, const void *p) {
    if (L->heap->mode != RC_MODE_DEBUG)
        return false;
    report_not_block(L->heap, p);
    return true;
}

/* validate() for a call that names the heap (rc_free_sized, rc_realloc,
 * `fn`): p must be a block of h's, and the start of one. */
static rc_debug_hdr *validate_in(rc_heap *h, const void *p, const char *fn) {
    rc_heap *owner = rc_heap_of_block(p);
    if (owner != h) {
        char what[96];
        snprintf(what, sizeof what, owner ? "%s given a heap that does not own the block"
                                          : "%s given a pointer not allocated by rcgc", fn);
        rc__report(h, owner ? RC_ERR_WRONG_HEAP : RC_ERR_FOREIGN, p, 0, 0, what);
        return NULL;
    }
    bool in_arena = rc_arena_map_lookup(p) != NULL;
    if (!in_arena) { /* (its large header is asked: the debug one may not be there) */
        rc_large *L = rc__large_header(p);
        if (L && rc__debug_large_raw(L, p))
            return NULL;
    }
    return validate(in_arena ? h : NULL, p);
}

/* rc_free_sized on a debug heap: the block must be h's and n the size it was
 * asked with (rc_malloc(h, 0) asked for 1 byte; 0 is accepted too). */
void rc__debug_free_sized(rc_heap *h, void *p, size_t n) {
    rc_debug_hdr *hdr = validate_in(h, p, "rc_free_sized");
    if (!hdr)
        return;
    if (n != hdr->size && !(n == 0 && hdr->size == 1)) {
        char what[96];
        snprintf(what, sizeof what, "rc_free_sized given size %zu for a block of %zu bytes", n, hdr->size);
        rc__report(h, RC_ERR_WRONG_SIZE, p, hdr->size, hdr->serial, what);
        return;
    }
    rc__debug_free(h, p);
}

void *rc__debug_realloc(rc_heap *h, void *p, size_t n) {
    rc_debug_hdr *hdr = validate_in(h, p, "rc_realloc");
    if (!hdr)
        return NULL;
    /* always move: the old address becomes invalid at once, as it may in pool mode */
    char *q = rc__debug_malloc(h, n);
    if (!q)
        return NULL;
    memcpy(q, p, hdr->size < n ? hdr->size : n);
    rc__debug_free(h, p);
    return q;
}

size_t rc__debug_usable(const void *p) {
    rc_arena *a = rc_arena_map_lookup(p);
    if (a) { /* (a large block comes here once rc__debug_owns said yes) */
        if (!pool_block_start(a, p)) {
            report_not_block(a->heap, p);
            return 0;
        }
        if (!hdr_intact(p, hdr_of(p))) {
            rc__report(a->heap, RC_ERR_UNDERRUN, p, 0, 0,
                      "block header overwritten (buffer underrun far before the block)");
            return 0;
        }
    }
    return hdr_of(p)->size;
}

void rc__debug_flush_quarantine(rc_heap *h) {
    while (h->q_len) {
        void *oldest = h->quarantine[h->q_head];
        h->q_head = (h->q_head + 1) % RC_QUARANTINE;
        h->q_len--;
        release(h, oldest);
    }
}
