/*
 * bench/model/churn_glibc_replay.c — churn W=1K's inputs on the real glibc
 * malloc, to validate churn_coalescing.c's model of a coalescing heap.
 *
 * It replays what churn_coalescing replays (the same generator,
 * ../alloc_bench_input.h, the default seed, W = 1,000, free then malloc at
 * each step) with malloc and free, writing each block's first word as
 * alloc_bench does, and reports what the model calls its peak: the
 * highest the top of glibc's main arena ever stood above the heap's start,
 * mallinfo2()'s arena - keepcost, sampled after every step (which makes a
 * run of 20M steps take some 7 s).  The inputs live in mmap'd memory, so
 * the heap holds the workload's blocks only (and glibc's own tcache
 * control block).  Also reported: the [heap] mapping's Rss at the end.
 *
 * glibc's settings come from the environment, e.g. its per-size caches
 * (tcache) and fastbins, which the model has and has not:
 *
 *   GLIBC_TUNABLES=glibc.malloc.tcache_count=7:glibc.malloc.mxfast=0 \
 *       build/bench/churn_glibc_replay [STEPS]
 *
 * Measured 2026-12-07 (glibc 2.36, 20M steps; bench/model/sweep_coalescing.sh):
 * top high-water 305.2, 331.3, 348.0, 353.4, 393.9 and 450.7 KiB with
 * mxfast=0 and tcache_count 0, 4, 7, 8, 16 and 32 (the model's best fit
 * with H = 8: 305.7, 330.6, 345.4, 352.0, 393.2, 454.8); with fastbins on,
 * 320.5, 350.9, 364.8 (glibc as it comes), 370.5, 407.8 and 466.1.
 *
 * Built only where glibc's mallinfo2 exists (bench/CMakeLists.txt).
 */
#define _GNU_SOURCE
#include "../alloc_bench_input.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define SMAPS_LINE 512

/* Zeroed memory outside malloc's heap. */
static void *map_or_die(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("churn_glibc_replay: mmap");
        exit(1);
    }
    return p;
}

static void *malloc_or_die(size_t bytes)
{
    void *p = malloc(bytes);
    if (p == NULL) {
        fprintf(stderr, "churn_glibc_replay: out of memory\n");
        exit(1);
    }
    return p;
}

/* Where the main arena's top chunk starts, above the heap's start. */
static size_t top_offset(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.arena - mi.keepcost;
}

/* The Rss of the [heap] mapping in KiB, -1 if none. */
static long heap_rss_kib(void)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (f == NULL)
        return -1;
    char line[SMAPS_LINE];
    int in_heap = 0;
    long rss = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strstr(line, "[heap]") != NULL) {
            in_heap = 1;
        } else if (in_heap && strncmp(line, "Rss:", 4) == 0) {
            rss = strtol(line + 4, NULL, 10);
            break;
        }
    }
    fclose(f);
    return rss;
}

int main(int argc, char **argv)
{
    size_t steps = BENCH_DEFAULT_STEPS;
    if (argc > 2 || (argc == 2 && (argv[1][0] < '0' || argv[1][0] > '9'))) {
        fprintf(stderr, "usage: churn_glibc_replay [STEPS]   (default %u)\n"
                        "  glibc's settings come from GLIBC_TUNABLES\n",
                BENCH_DEFAULT_STEPS);
        return 2;
    }
    if (argc == 2) {
        char *stop = NULL;
        steps = (size_t)strtoull(argv[1], &stop, 10);
        if (*stop != '\0' || steps == 0) {
            fprintf(stderr, "churn_glibc_replay: STEPS is a number of steps, at least 1, not '%s'\n",
                    argv[1]);
            return 2;
        }
    }
    size_t live = BENCH_DEFAULT_LIVE;
    size_t ring = churn_ring_length(steps);
    uint16_t *size = map_or_die((live + ring) * sizeof *size);
    uint32_t *victim = map_or_die(ring * sizeof *victim);
    uint64_t **block = map_or_die(live * sizeof *block);
    churn_generate(size, victim, live, ring, BENCH_DEFAULT_SEED);

    size_t max_top = 0;
    for (size_t i = 0; i < live; i++) {
        block[i] = malloc_or_die(size[i]);
        *block[i] = i;
        size_t top = top_offset();
        if (top > max_top)
            max_top = top;
    }
    const uint16_t *step_size = size + live; /* after the fill's */
    size_t left = steps;
    while (left > 0) {
        size_t n = left < ring ? left : ring;
        for (size_t s = 0; s < n; s++) {
            uint32_t v = victim[s];
            free(block[v]);
            block[v] = malloc_or_die(step_size[s]);
            *block[v] = s;
            size_t top = top_offset();
            if (top > max_top)
                max_top = top;
        }
        left -= n;
    }
    long rss = heap_rss_kib();
    const char *tunables = getenv("GLIBC_TUNABLES");
    printf("GLIBC tunables=%s steps=%zu top_high_water=%.1f KiB heap_rss_end=%ld KiB\n",
           tunables != NULL ? tunables : "(none)", steps, max_top / 1024.0, rss);
    for (size_t i = 0; i < live; i++)
        free(block[i]);
    return 0;
}
