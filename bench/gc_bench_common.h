/*
 * gc_bench_common.h — what gc_bench.c and gcbench_boehm.c share: clocks,
 * peak RSS, argument parsing and GCBench's shape (the node, the parameters,
 * tree sizes and iteration counts), so that both GCBench variants measure
 * the same thing the same way.
 *
 * The includer defines BENCH_PROG, its program name for messages.
 */
#ifndef RCGC_BENCH_GC_BENCH_COMMON_H
#define RCGC_BENCH_GC_BENCH_COMMON_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static _Noreturn void die(const char *what)
{
    fprintf(stderr, BENCH_PROG ": %s\n", what);
    exit(3);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* User + system CPU time of the process (all threads), seconds. */
static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Peak RSS of this process image, KiB: VmHWM, which (unlike ru_maxrss) does
 * not inherit the high-water mark of the shell that exec'd us.  Falls back
 * to ru_maxrss. */
static long peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    long kib = -1;
    if (f != NULL) {
        char line[256];
        while (fgets(line, sizeof line, f) != NULL) {
            if (strncmp(line, "VmHWM:", 6) == 0) {
                kib = strtol(line + 6, NULL, 10);
                break;
            }
        }
        fclose(f);
    }
    if (kib < 0) {
        struct rusage ru;
        if (getrusage(RUSAGE_SELF, &ru) == 0)
            kib = ru.ru_maxrss;
    }
    return kib;
}

/* The value of option opt as a number; exits with status 2 if s is not one. */
static size_t parse_num(const char *opt, const char *s)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0') {
        fprintf(stderr, BENCH_PROG ": %s wants a number, got '%s'\n", opt, s);
        exit(2);
    }
    return (size_t)v;
}

/* ---- GCBench's shape --------------------------------------------------------- */

/* GCBench's node: two children and two ints (Java's Node). */
typedef struct gnode {
    struct gnode *left, *right;
    int i, j;
} gnode;

typedef struct gcb_params {
    int stretch, long_lived, min_depth, max_depth;
    size_t array;
} gcb_params;

/* The defaults: a stretch tree and a long-lived tree of depth 18, trees of
 * depth 4..18, an array of 500,000 doubles. */
#define GCB_DEFAULT_PARAMS {.stretch = 18, .long_lived = 18, .min_depth = 4, .max_depth = 18, .array = 500000}

static long tree_size(int depth) { return (1L << (depth + 1)) - 1; }

/* Trees of this depth built per phase (top-down, then bottom-up). */
static long num_iters(const gcb_params *p, int depth)
{
    return 2 * tree_size(p->stretch) / tree_size(depth);
}

#endif
