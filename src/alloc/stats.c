/*
 * src/alloc/stats.c — heap statistics, computed on demand by walking the
 * arenas (the fast paths keep no counters beyond each pool's `used`).
 */
#include "alloc/internal.h"

#include <string.h>

void rc_heap_get_stats(const rc_heap *h, rc_heap_stats *out) {
    memset(out, 0, sizeof *out);
    for (unsigned c = 0; c < RC_NUM_CLASSES; c++)
        out->classes[c].block_size = rc_class_size(c);
    for (const rc_arena *a = h->arenas; a; a = a->all_next) {
        out->pools_free += a->nfree;
        for (unsigned i = 0; i < a->next_fresh; i++) {
            const rc_pool *p = &a->pools[i];
            if (p->cls == RC_POOL_UNUSED)
                continue;
            rc_class_stats *cs = &out->classes[p->cls];
            cs->pools++;
            cs->blocks_used += p->used;
            cs->blocks_free += rc__pool_capacity(p) - p->used;
        }
    }
    for (unsigned c = 0; c < RC_NUM_CLASSES; c++) {
        /* cached blocks are free, though their pools count them as out */
        size_t cached = rc_cache_count(&h->cache[c]);
        out->classes[c].blocks_used -= cached;
        out->classes[c].blocks_free += cached;
        out->bytes_in_use += out->classes[c].blocks_used * out->classes[c].block_size;
    }
    out->arenas = h->narenas;
    out->arenas_idle = h->nidle;
    out->arenas_high_water = h->arenas_high;
    out->arenas_allocated = h->arenas_allocated;
    out->arenas_freed = h->arenas_freed;
    out->large_blocks = h->large_count;
    out->large_bytes = h->large_payload + h->large_count * RC_LARGE_HDR;
    out->bytes_in_use += h->large_payload;
    out->bytes_requested = h->mode == RC_MODE_DEBUG ? h->debug_requested : out->bytes_in_use;
    out->bytes_from_os = h->bytes_os;
    out->arena_bytes_ahead = h->partner ? RC_ARENA_SIZE : 0;
    out->bytes_high_water = h->bytes_os_high;
    out->max_bytes = h->max_bytes;
    out->failed_allocs = h->failed;
}

static const char *mode_name(rc_alloc_mode m) {
    switch (m) {
    case RC_MODE_POOL: return "pool";
    case RC_MODE_MALLOC: return "malloc";
    case RC_MODE_DEBUG: return "debug";
    default: return "default";
    }
}

void rc_heap_print_stats(const rc_heap *h, FILE *out) {
    rc_heap_stats s;
    rc_heap_get_stats(h, &s);
    fprintf(out, "rcgc heap %p (mode %s): %zu-byte pools, %zu-byte arenas\n", (const void *)h,
            mode_name(h->mode), RC_POOL_SIZE, RC_ARENA_SIZE);
    fprintf(out, "class   size   pools   blocks in use   free blocks\n");
    fprintf(out, "-----   ----   -----   -------------   -----------\n");
    size_t pools = 0, used = 0, avail = 0;
    for (unsigned c = 0; c < RC_NUM_CLASSES; c++) {
        const rc_class_stats *cs = &s.classes[c];
        if (!cs->pools)
            continue;
        fprintf(out, "%5u   %4zu   %5zu   %13zu   %11zu\n", c, cs->block_size, cs->pools,
                cs->blocks_used, cs->blocks_free);
        pools += cs->pools;
        used += cs->blocks_used;
        avail += cs->blocks_free;
    }
    fprintf(out, "total          %5zu   %13zu   %11zu\n\n", pools, used, avail);
    fprintf(out, "%-34s %zu\n", "# arenas held now", s.arenas);
    fprintf(out, "%-34s %zu\n", "  of which idle (kept for reuse)", s.arenas_idle);
    fprintf(out, "%-34s %zu\n", "# arenas high water", s.arenas_high_water);
    fprintf(out, "%-34s %zu\n", "# arenas allocated total", s.arenas_allocated);
    fprintf(out, "%-34s %zu\n", "# arenas freed total", s.arenas_freed);
    fprintf(out, "%-34s %zu\n", "# free pools in arenas", s.pools_free);
    fprintf(out, "%-34s %zu\n", "# large blocks", s.large_blocks);
    fprintf(out, "%-34s %zu\n", "bytes in large blocks", s.large_bytes);
    fprintf(out, "%-34s %zu\n", "bytes in use", s.bytes_in_use);
    fprintf(out, "%-34s %zu\n", "bytes requested", s.bytes_requested);
    fprintf(out, "%-34s %zu\n", "bytes held from the system", s.bytes_from_os);
    if (s.arena_bytes_ahead)
        fprintf(out, "%-34s %zu\n", "  of which mapped ahead (huge page)", s.arena_bytes_ahead);
    fprintf(out, "%-34s %zu\n", "bytes held, high water", s.bytes_high_water);
    if (s.max_bytes)
        fprintf(out, "%-34s %zu\n", "cap (max_bytes)", s.max_bytes);
    fprintf(out, "%-34s %llu\n", "failed allocations", (unsigned long long)s.failed_allocs);
    if (s.bytes_from_os)
        fprintf(out, "%-34s %.3f\n", "fragmentation (1 - in use / held)",
                1.0 - (double)s.bytes_requested / (double)s.bytes_from_os);
}
