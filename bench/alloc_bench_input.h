/*
 * alloc_bench_input.h — the random inputs of alloc_bench's workloads.
 *
 * bench/alloc_bench.c generates its request sizes and churn victims with
 * these functions, and so do bench/model/churn_units.c and
 * churn_coalescing.c, which replay the churn against models of allocators,
 * and churn_glibc_replay.c, which replays it on glibc: the models' figures
 * are only comparable with the measured ones if all see the very same
 * sequence, so there is one copy of the generator.
 *
 * Everything here is static inline: each includer gets its own copy and no
 * warning for what it does not use.
 */
#ifndef RCGC_BENCH_ALLOC_BENCH_INPUT_H
#define RCGC_BENCH_ALLOC_BENCH_INPUT_H

#include <stddef.h>
#include <stdint.h>

/* Request sizes are uniform in MIN_SIZE..MAX_SIZE (rcgc's small classes). */
#define MIN_SIZE 8u
#define MAX_SIZE 512u
/* Churn steps generated in advance (6 bytes each); longer runs replay them. */
#define CHURN_RING ((size_t)1 << 22)
/* The seed when none is given (--seed), so every run sees the same inputs. */
#define BENCH_DEFAULT_SEED 0x9E3779B97F4A7C15ull
/* Live blocks when none is given (--live): churn W=1K. */
#define BENCH_DEFAULT_LIVE 1000u
/* Steps (or rounds) when none is given (--steps): fewer from W = 100,000 on,
 * where each step is slower and the runs would take minutes. */
#define BENCH_DEFAULT_STEPS 20000000u
#define BENCH_DEFAULT_STEPS_BIG_W 3000000u
#define BENCH_BIG_W 100000u

/* Marsaglia's xorshift64 (13, 7, 17). */
static inline uint64_t xorshift64(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

/* Uniform in [0, range) from the high 32 bits (multiply-shift reduction). */
static inline uint32_t rand_below(uint64_t *state, uint32_t range)
{
    return (uint32_t)(((xorshift64(state) >> 32) * (uint64_t)range) >> 32);
}

/* One request size, uniform in MIN_SIZE..MAX_SIZE. */
static inline uint16_t random_request_size(uint64_t *state)
{
    return (uint16_t)(MIN_SIZE + rand_below(state, MAX_SIZE - MIN_SIZE + 1));
}

/* Churn steps generated for a run of `steps`: at most CHURN_RING. */
static inline size_t churn_ring_length(size_t steps)
{
    return steps < CHURN_RING ? steps : CHURN_RING;
}

/* The churn inputs, all from one xorshift sequence starting at seed (not
 * 0): size[0 .. live) for the fill, then size[live .. live + ring) and
 * victim[0 .. ring) for the steps (step s frees slot victim[s] and
 * allocates size[live + s] into it). */
static inline void churn_generate(uint16_t *size, uint32_t *victim, size_t live, size_t ring, uint64_t seed)
{
    uint64_t st = seed;
    for (size_t i = 0; i < live + ring; i++)
        size[i] = random_request_size(&st);
    for (size_t i = 0; i < ring; i++)
        victim[i] = rand_below(&st, (uint32_t)live);
}

#endif /* RCGC_BENCH_ALLOC_BENCH_INPUT_H */
