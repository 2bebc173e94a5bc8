/*
 * src/alloc/arena_map.c — the process-wide arena map.
 *
 * rc_free() receives a bare pointer and must learn whether it lies in a pool
 * (and which arena) without touching memory that may not be rcgc's.  This
 * radix index answers that from the address alone:
 *
 *   address bits  47 ........ 34 | 33 ........ 20 | 19 ..... 0
 *                  top index      | leaf index     | offset in arena
 *
 * rc_arena_map_top[] (128 KiB of zero pages until touched) points to leaves
 * of 2^14 heap pointers (the owner of the arena at each aligned address), mmap'd on first use and kept for the life of the
 * process (at most 2^14 of them, 128 KiB each, only where arenas were).
 *
 * It is the one piece of state shared by all heaps.  Writes happen only when
 * an arena is mapped or unmapped — once per MiB of heap growth — with atomic
 * stores; each slot is written only by the heap that owns that address range,
 * so heaps never wait on each other.  Reads are two plain loads.
 */
#include "alloc/internal.h"

#include <sys/mman.h>

__attribute__((visibility("hidden"))) _Atomic(rc_heap *) *_Atomic
    rc_arena_map_top[1u << RC_MAP_TOP_BITS];

#define LEAF_BYTES (sizeof(_Atomic(rc_heap *)) << RC_MAP_LEAF_BITS)

static _Atomic(rc_heap *) *leaf_for(uintptr_t addr, bool create) {
    _Atomic(rc_heap *) *_Atomic *slot = &rc_arena_map_top[addr >> (RC_ARENA_SHIFT + RC_MAP_LEAF_BITS)];
    _Atomic(rc_heap *) *leaf = atomic_load_explicit(slot, memory_order_acquire);
    if (leaf || !create)
        return leaf;
    void *fresh = mmap(NULL, LEAF_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (fresh == MAP_FAILED)
        return NULL;
    _Atomic(rc_heap *) *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(slot, &expected, (_Atomic(rc_heap *) *)fresh,
                                                memory_order_acq_rel, memory_order_acquire))
        return (_Atomic(rc_heap *) *)fresh;
    munmap(fresh, LEAF_BYTES); /* another heap installed this leaf first */
    return expected;
}

bool rc_arena_map_set(void *base, rc_heap *h) {
    uintptr_t addr = (uintptr_t)base;
    if (addr >> 48)
        return false; /* beyond the 48-bit space the map covers */
    _Atomic(rc_heap *) *leaf = leaf_for(addr, true);
    if (!leaf)
        return false;
    atomic_store_explicit(&leaf[(addr >> RC_ARENA_SHIFT) & ((1u << RC_MAP_LEAF_BITS) - 1)], h,
                          memory_order_release);
    return true;
}

void rc_arena_map_clear(void *base) {
    uintptr_t addr = (uintptr_t)base;
    _Atomic(rc_heap *) *leaf = leaf_for(addr, false);
    if (leaf)
        atomic_store_explicit(&leaf[(addr >> RC_ARENA_SHIFT) & ((1u << RC_MAP_LEAF_BITS) - 1)],
                              NULL, memory_order_release);
}
