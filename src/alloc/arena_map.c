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
 * pages in a typical process).  A lookup is a single load whose address is
 * computed from the pointer, so the CPU can read the arena header (at the
 * aligned address) in parallel, under a correctly predicted branch.
 *
 * It is the one piece of state shared by all heaps.  It changes only when an
 * arena is mapped or unmapped (once per MiB of heap growth) by an atomic OR or
 * AND on the word, so heaps never wait on each other.
 */
#include "alloc/internal.h"

__attribute__((visibility("hidden"))) _Atomic uint64_t rc_arena_bits[RC_MAP_WORDS];

bool rc_arena_map_set(void *base) {
    uintptr_t a = (uintptr_t)base;
    if (a >> RC_MAP_ADDRESS_BITS)
        return false; /* beyond the address space the map covers */
    atomic_fetch_or_explicit(&rc_arena_bits[a >> (RC_ARENA_SHIFT + 6)],
                             (uint64_t)1 << ((a >> RC_ARENA_SHIFT) & 63), memory_order_release);
    return true;
}

void rc_arena_map_clear(void *base) {
    uintptr_t a = (uintptr_t)base;
    atomic_fetch_and_explicit(&rc_arena_bits[a >> (RC_ARENA_SHIFT + 6)],
                              ~((uint64_t)1 << ((a >> RC_ARENA_SHIFT) & 63)), memory_order_release);
}
