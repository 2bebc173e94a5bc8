/*
 * alloc_bench_loops.h — the measured loops, compiled once per allocator.
 *
 * alloc_bench.c includes this file twice, each time with different
 * definitions of
 *
 *   BENCH_SUFFIX            token appended to every function name
 *   BENCH_ALLOC(heap, n)    allocate n bytes
 *   BENCH_FREE(heap, p)     free p
 *   BENCH_FREE_SIZED(heap, p, n)   optional: free p, allocated with n bytes
 *                           (defines the *_sized_ loops)
 *   BENCH_SIZED_ONLY        optional: only the *_sized_ loops (for a second
 *                           sized free of the same allocator)
 *
 * so that the rcgc loops call rc_malloc/rc_free directly and the system
 * loops call malloc/free directly: neither pays an indirect call or a
 * branch on "which allocator", and both run exactly the same loop body.
 * The sized loops are the plain ones with the free replaced; the churn one
 * also keeps each slot's size (a caller of a sized free must know it).
 *
 * Functions whose names start with "loop_" are the timed regions;
 * bench/callgrind.sh counts instructions only inside them
 * (--toggle-collect=loop_*).  Keep untimed work out of them.
 *
 * No include guard: including it twice is the point.
 */

#define BENCH_FN(name) BENCH_CAT(name, BENCH_SUFFIX)

#ifndef BENCH_SIZED_ONLY

/* Untimed: allocate the W initial live blocks of the churn workload. */
static BENCH_NOINLINE void BENCH_FN(fill_)(rc_heap *heap, const bench_input *in)
{
    void **slot = in->slot;
    const uint16_t *size = in->size;
    for (size_t i = 0; i < in->live; i++) {
        void *p = BENCH_ALLOC(heap, size[i]);
        if (BENCH_UNLIKELY(p == NULL))
            bench_oom(size[i]);
        *(uint64_t *)p = i;
        slot[i] = p;
    }
}

/* Untimed: free every block in in->slot[0..live). */
static BENCH_NOINLINE void BENCH_FN(drain_)(rc_heap *heap, const bench_input *in)
{
    void **slot = in->slot;
    for (size_t i = 0; i < in->live; i++) {
        BENCH_FREE(heap, slot[i]);
        slot[i] = NULL;
    }
}

/* (a) churn: each step frees a random live block and allocates a new one
 * of random size into its slot.  One step = one alloc+free pair.  The
 * pre-generated (victim, size) sequence has in->ring entries and is replayed
 * as often as in->steps needs. */
static BENCH_NOINLINE void BENCH_FN(loop_churn_)(rc_heap *heap, const bench_input *in)
{
    void **slot = in->slot;
    const uint32_t *victim = in->victim;
    const uint16_t *size = in->size + in->live; /* sizes after the fill's */
    size_t left = in->steps;
    while (left > 0) {
        const size_t n = left < in->ring ? left : in->ring;
        for (size_t s = 0; s < n; s++) {
            const uint32_t v = victim[s];
            BENCH_FREE(heap, slot[v]);
            void *p = BENCH_ALLOC(heap, size[s]);
            if (BENCH_UNLIKELY(p == NULL))
                bench_oom(size[s]);
            *(uint64_t *)p = s;
            slot[v] = p;
        }
        left -= n;
    }
}

/* (b) fixed 32-byte blocks: allocate, touch, free at once. */
static BENCH_NOINLINE void BENCH_FN(loop_fixed32_)(rc_heap *heap, size_t iterations)
{
    for (size_t s = 0; s < iterations; s++) {
        void *p = BENCH_ALLOC(heap, 32);
        if (BENCH_UNLIKELY(p == NULL))
            bench_oom(32);
        *(uint64_t *)p = s;
        BENCH_ESCAPE(p);
        BENCH_FREE(heap, p);
    }
}

/* (c) free-everything-then-reallocate: `rounds` times, allocate W blocks
 * (the same random sizes every round), then free them all in allocation
 * order, which empties the heap completely.  W pairs per round. */
static BENCH_NOINLINE void BENCH_FN(loop_refill_)(rc_heap *heap, const bench_input *in,
                                                   size_t rounds)
{
    void **slot = in->slot;
    const uint16_t *size = in->size;
    const size_t live = in->live;
    for (size_t r = 0; r < rounds; r++) {
        for (size_t i = 0; i < live; i++) {
            void *p = BENCH_ALLOC(heap, size[i]);
            if (BENCH_UNLIKELY(p == NULL))
                bench_oom(size[i]);
            *(uint64_t *)p = i;
            slot[i] = p;
        }
        for (size_t i = 0; i < live; i++)
            BENCH_FREE(heap, slot[i]);
    }
}

#endif /* !BENCH_SIZED_ONLY */

#ifdef BENCH_FREE_SIZED
/* (a) churn with a sized free: the victim's size comes from in->slot_size,
 * which the loop keeps up to date. */
static BENCH_NOINLINE void BENCH_FN(loop_churn_sized_)(rc_heap *heap, const bench_input *in)
{
    void **slot = in->slot;
    uint16_t *slot_size = in->slot_size;
    const uint32_t *victim = in->victim;
    const uint16_t *size = in->size + in->live;
    size_t left = in->steps;
    while (left > 0) {
        const size_t n = left < in->ring ? left : in->ring;
        for (size_t s = 0; s < n; s++) {
            const uint32_t v = victim[s];
            BENCH_FREE_SIZED(heap, slot[v], slot_size[v]);
            void *p = BENCH_ALLOC(heap, size[s]);
            if (BENCH_UNLIKELY(p == NULL))
                bench_oom(size[s]);
            *(uint64_t *)p = s;
            slot[v] = p;
            slot_size[v] = size[s];
        }
        left -= n;
    }
}

/* (b) fixed 32-byte blocks with a sized free. */
static BENCH_NOINLINE void BENCH_FN(loop_fixed32_sized_)(rc_heap *heap, size_t iterations)
{
    for (size_t s = 0; s < iterations; s++) {
        void *p = BENCH_ALLOC(heap, 32);
        if (BENCH_UNLIKELY(p == NULL))
            bench_oom(32);
        *(uint64_t *)p = s;
        BENCH_ESCAPE(p);
        BENCH_FREE_SIZED(heap, p, 32);
    }
}
#endif /* BENCH_FREE_SIZED */

#undef BENCH_FN
