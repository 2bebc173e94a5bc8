/*
 * src/alloc/arena_map.c — the process-wide arena map.
 *
 * rc_free() receives a bare pointer and must learn whether it lies in an
 * arena — and so in a pool — without touching memory that may not be rcgc's.
 * Arenas are aligned to their size (1 MiB), so one bit per aligned MiB of the
 * 47-bit user address space answers it:
 *
 *   address bits   46 ......... 26 | 25 .. 20 | 19 ...... 0
 *                  word index      | bit      | offset in arena
 *
 * 2^21 words of 64 bits: 16 MiB of zero pages in .bss, of which a page is
 * touched per 32 GiB of address space where arenas actually live (one or two
 * pages in a typical process); with 32-bit pointers, 64 words cover all of
 * the address space.  A lookup is a single load whose address is computed
 * from the pointer, so the CPU can read the arena header (at the aligned
 * address) in parallel, under a correctly predicted branch.
 *
 * It changes only when an arena is mapped or unmapped (once per MiB of heap
 * growth) by an atomic OR or AND on the word, so heaps never wait on each
 * other.  The large-header map below is the other piece of state all heaps
 * share.
 */
#include "alloc/internal.h"

#include <sys/mman.h>

__attribute__((visibility("hidden"))) _Atomic uint64_t rc__arena_bits[RC_MAP_WORDS];

bool rc__arena_map_set(void *base) {
    uintptr_t a = (uintptr_t)base;
    if ((uint64_t)a >> RC_MAP_ADDRESS_BITS)
        return false; /* beyond the address space the map covers */
    atomic_fetch_or_explicit(&rc__arena_bits[a >> (RC_ARENA_SHIFT + 6)],
                             (uint64_t)1 << ((a >> RC_ARENA_SHIFT) & 63), memory_order_release);
    return true;
}

void rc__arena_map_clear(void *base) {
    uintptr_t a = (uintptr_t)base;
    atomic_fetch_and_explicit(&rc__arena_bits[a >> (RC_ARENA_SHIFT + 6)],
                              ~((uint64_t)1 << ((a >> RC_ARENA_SHIFT) & 63)), memory_order_release);
}

/* ---- The large-header map ----------------------------------------------------
 *
 * A pointer in no arena may be a large block, whose header sits in the 48
 * bytes (32 with 4-byte pointers) in front of it; but if the pointer is not rcgc's, that memory may
 * not even be mapped.  So the header is read only when every page it spans
 * holds part of some live large-block header (of any heap): such a page is
 * mapped.  One counter per 4 KiB page says how many live headers touch it:
 *
 *   address bits   47 ........ 30 | 29 ....... 12 | 11 ... 0
 *                  slot (1 GiB)   | counter       | offset in page
 *
 * The slots (2^18 pointers: 2 MiB of .bss, a page touched per 512 GiB in
 * use) point at nodes of 2^18 counters (256 KiB each, mapped on first use
 * and never unmapped, like CPython's radix-tree nodes; zero pages until a
 * header lands in them).  A page holds at most 4096 / 64 headers (a header
 * and the smallest payload), so 8-bit counters do not wrap.  Counters
 * change only when a large block is allocated, resized or freed, by atomic
 * adds, so heaps never wait on each other. */

#define LMAP_PAGE_SHIFT 12
#define LMAP_SLOT_SHIFT 30
/* 48 bits, one more than the arena map: large blocks come from malloc,
 * which on some 48-bit systems (arm64) hands out addresses above 2^47.
 * With 32-bit pointers, the whole address space: 4 slots. */
#if UINTPTR_MAX > 0xFFFFFFFFu
#define LMAP_ADDRESS_BITS 48
#else
#define LMAP_ADDRESS_BITS 32
#endif
#define LMAP_SLOTS ((size_t)1 << (LMAP_ADDRESS_BITS - LMAP_SLOT_SHIFT))
#define LMAP_COUNTERS ((size_t)1 << (LMAP_SLOT_SHIFT - LMAP_PAGE_SHIFT))

typedef _Atomic uint8_t lmap_counter;
static lmap_counter *_Atomic lmap_slots[LMAP_SLOTS];

/* The node covering address a, mapped if `create`; NULL if there is none
 * (or none could be mapped, or a lies beyond the map). */
static lmap_counter *lmap_node(uintptr_t a, bool create) {
    if ((uint64_t)a >> LMAP_ADDRESS_BITS)
        return NULL;
    lmap_counter *_Atomic *slot = &lmap_slots[a >> LMAP_SLOT_SHIFT];
    lmap_counter *node = atomic_load_explicit(slot, memory_order_acquire);
    if (node || !create)
        return node;
    void *m = mmap(NULL, LMAP_COUNTERS * sizeof *node, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    lmap_counter *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(slot, &expected, (lmap_counter *)m, memory_order_acq_rel,
                                                memory_order_acquire))
        return m;
    munmap(m, LMAP_COUNTERS * sizeof *node); /* another thread's node won */
    return expected;
}

static lmap_counter *lmap_counter_of(lmap_counter *node, uintptr_t a) {
    return &node[(a >> LMAP_PAGE_SHIFT) & (LMAP_COUNTERS - 1)];
}

bool rc__large_map_add(const void *hdr, size_t len) {
    uintptr_t first = (uintptr_t)hdr, last = first + len - 1;
    lmap_counter *n1 = lmap_node(first, true);
    lmap_counter *n2 = n1 && (last >> LMAP_SLOT_SHIFT) != (first >> LMAP_SLOT_SHIFT) ? lmap_node(last, true) : n1;
    if (!n1 || !n2)
        return false;
    atomic_fetch_add_explicit(lmap_counter_of(n1, first), 1, memory_order_release);
    if ((last >> LMAP_PAGE_SHIFT) != (first >> LMAP_PAGE_SHIFT))
        atomic_fetch_add_explicit(lmap_counter_of(n2, last), 1, memory_order_release);
    return true;
}

/* Only for a header rc__large_map_add took (so its nodes exist). */
void rc__large_map_remove(const void *hdr, size_t len) {
    uintptr_t first = (uintptr_t)hdr, last = first + len - 1;
    lmap_counter *n1 = lmap_node(first, false), *n2 = lmap_node(last, false);
    if (n1)
        atomic_fetch_sub_explicit(lmap_counter_of(n1, first), 1, memory_order_release);
    if (n2 && (last >> LMAP_PAGE_SHIFT) != (first >> LMAP_PAGE_SHIFT))
        atomic_fetch_sub_explicit(lmap_counter_of(n2, last), 1, memory_order_release);
}

bool rc__large_map_covers(const void *hdr, size_t len) {
    uintptr_t first = (uintptr_t)hdr, last = first + len - 1;
    if (last < first)
        return false; /* wrapped below address 0 */
    lmap_counter *n1 = lmap_node(first, false);
    if (!n1 || !atomic_load_explicit(lmap_counter_of(n1, first), memory_order_acquire))
        return false;
    if ((last >> LMAP_PAGE_SHIFT) == (first >> LMAP_PAGE_SHIFT))
        return true;
    lmap_counter *n2 = lmap_node(last, false);
    return n2 && atomic_load_explicit(lmap_counter_of(n2, last), memory_order_acquire);
}
