/*
 * bench/model/churn_model.h — what the two allocator models
 * (churn_units.c, churn_coalescing.c) share: churn W=1K's inputs, made by
 * alloc_bench's own generator (../alloc_bench_input.h) and held in memory,
 * the size of the modelled memory, and dying cleanly when the model itself
 * runs out.
 *
 * The includer defines MODEL_PROGRAM (its name, for messages) first.
 * Everything here is static: each model gets its own copy.
 */
#ifndef RCGC_BENCH_CHURN_MODEL_H
#define RCGC_BENCH_CHURN_MODEL_H

#ifndef MODEL_PROGRAM
#error "define MODEL_PROGRAM (the program's name) before including churn_model.h"
#endif

#include "../alloc_bench_input.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The modelled memory: more than either model ever uses on churn W=1K (an
 * allocation beyond it stops the run).  A power of two (churn_coalescing's
 * first-fit index is a complete binary tree over it). */
#define MODEL_MEMORY ((size_t)8 << 20)

/* Memory for the model itself (not the modelled memory), zeroed. */
static void *alloc_or_die(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (p == NULL) {
        fprintf(stderr, MODEL_PROGRAM ": out of memory\n");
        exit(1);
    }
    return p;
}

static _Noreturn void out_of_model_memory(void)
{
    fprintf(stderr, MODEL_PROGRAM ": the modelled memory is full\n");
    exit(1);
}

typedef struct churn_input {
    size_t live;      /* W */
    size_t steps;     /* after the fill */
    size_t ring;      /* steps generated, replayed as often as steps needs */
    uint16_t *size;   /* live + ring request sizes: the fill's, then the steps' */
    uint32_t *victim; /* ring: the slot freed at each step */
} churn_input;

/* What alloc_bench's make_churn_input makes for churn W=1K. */
static void churn_input_make(churn_input *in, size_t steps, uint64_t seed)
{
    in->live = BENCH_DEFAULT_LIVE;
    in->steps = steps;
    in->ring = churn_ring_length(steps);
    in->size = alloc_or_die(in->live + in->ring, sizeof *in->size);
    in->victim = alloc_or_die(in->ring, sizeof *in->victim);
    churn_generate(in->size, in->victim, in->live, in->ring, seed);
}

static void churn_input_free(churn_input *in)
{
    free(in->size);
    free(in->victim);
}

#endif /* RCGC_BENCH_CHURN_MODEL_H */
