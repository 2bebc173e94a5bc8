/*
 * tests/testutil.h — helpers shared by the rcgc tests: a seeded PRNG,
 * content patterns, heap construction and stats shortcuts.
 */
#ifndef RCGC_TESTS_TESTUTIL_H
#define RCGC_TESTS_TESTUTIL_H

#include "check.h"

#include <rcgc/heap.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Sanitizer detection ------------------------------------------------ */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifndef TEST_ASAN
#define TEST_ASAN 0
#endif

/* ---- xorshift64* PRNG (fixed seeds: reproducible runs) ------------------ */
typedef struct test_rng {
    uint64_t s;
} test_rng;

static inline test_rng test_rng_seed(uint64_t seed) {
    test_rng r = {seed ? seed : 0x9E3779B97F4A7C15u};
    return r;
}

static inline uint64_t test_rng_next(test_rng *r) {
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1Du;
}

/* Uniform-enough value in [0, n) (n > 0). */
static inline size_t test_rng_below(test_rng *r, size_t n) {
    return (size_t)((test_rng_next(r) >> 11) % n);
}

/* Value in [lo, hi]. */
static inline size_t test_rng_range(test_rng *r, size_t lo, size_t hi) {
    return lo + test_rng_below(r, hi - lo + 1);
}

/* Fisher-Yates shuffle of an array of pointers. */
static inline void test_shuffle(test_rng *r, void **a, size_t n) {
    for (size_t i = n; i > 1; i--) {
        size_t j = test_rng_below(r, i);
        void *t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

/* A random request size with a realistic mix: mostly small, some medium,
 * a few large. */
static inline size_t test_random_size(test_rng *r) {
    uint64_t k = test_rng_below(r, 1000);
    if (k < 960)
        return test_rng_range(r, 1, RC_SMALL_MAX);
    if (k < 998)
        return test_rng_range(r, RC_SMALL_MAX + 1, 4096);
    return test_rng_range(r, 4097, 65536);
}

/* ---- Content patterns ----------------------------------------------------- */
/* Byte j of a block tagged `seed`; different seeds give different patterns, so
 * overlapping blocks corrupt each other visibly. */
static inline unsigned char test_pattern_byte(uint32_t seed, size_t j) {
    return (unsigned char)(seed * 0x9Du + j * 31u + (j >> 8) + (seed >> 8));
}

static inline void test_fill(void *p, size_t n, uint32_t seed) {
    unsigned char *b = p;
    for (size_t j = 0; j < n; j++)
        b[j] = test_pattern_byte(seed, j);
}

/* Returns the index of the first wrong byte, or n if all are right. */
static inline size_t test_verify(const void *p, size_t n, uint32_t seed) {
    const unsigned char *b = p;
    for (size_t j = 0; j < n; j++)
        if (b[j] != test_pattern_byte(seed, j))
            return j;
    return n;
}

/* Index of the first byte that is not `v`, or n. */
static inline size_t test_first_not(const void *p, size_t n, unsigned char v) {
    const unsigned char *b = p;
    for (size_t j = 0; j < n; j++)
        if (b[j] != v)
            return j;
    return n;
}

#define CHECK_PATTERN(p, n, seed) CHECK_EQ(test_verify((p), (n), (seed)), (n))
#define CHECK_ALL_BYTES(p, n, v) CHECK_EQ(test_first_not((p), (n), (v)), (n))

static inline bool test_aligned(const void *p) {
    return ((uintptr_t)p % RC_ALIGNMENT) == 0;
}

/* ---- Heaps --------------------------------------------------------------- */
/* A heap in an explicit mode (so RCGC_MALLOC in the caller's environment
 * cannot change what a test measures). */
static inline rc_heap *test_heap_new(rc_alloc_mode mode) {
    rc_heap_config cfg;
    rc_heap_config_init(&cfg);
    cfg.mode = mode;
    return rc_heap_new(&cfg);
}

/* ---- The references a traverse visits, in order -------------------------- */

/* Pass test_visit_record (with a test_visits) as a traverse's visit: the
 * first TEST_VISITS_MAX children are kept, all are counted. */
#define TEST_VISITS_MAX 8
typedef struct test_visits {
    void *seen[TEST_VISITS_MAX];
    size_t n;
} test_visits;

static inline void test_visit_record(void *child, void *arg) {
    test_visits *v = arg;
    if (v->n < TEST_VISITS_MAX)
        v->seen[v->n] = child;
    v->n++;
}

/* ---- A heap whose error reports are recorded ---------------------------- */
#define TEST_LOG_MAX 32

typedef struct test_report_log {
    int count;       /* reports received (may exceed TEST_LOG_MAX) */
    int bad_message; /* reports whose message was NULL or empty */
    rc_error_report r[TEST_LOG_MAX];
    char msg[TEST_LOG_MAX][256]; /* copies: a report's message lives only during the call */
} test_report_log;

static inline void test_record_report(const rc_error_report *rep, void *ctx) {
    test_report_log *log = ctx;
    if (rep->message == NULL || rep->message[0] == '\0')
        log->bad_message++;
    if (log->count < TEST_LOG_MAX) {
        log->r[log->count] = *rep;
        snprintf(log->msg[log->count], sizeof log->msg[0], "%s", rep->message ? rep->message : "");
        log->r[log->count].message = log->msg[log->count];
    }
    log->count++;
}

/* A heap in `mode` whose error reports go to handler(report, ctx) instead
 * of abort(). */
static inline rc_heap *test_heap_with_handler(rc_alloc_mode mode, rc_error_handler handler,
                                              void *ctx) {
    rc_heap_config cfg;
    rc_heap_config_init(&cfg);
    cfg.mode = mode;
    cfg.on_error = handler;
    cfg.on_error_ctx = ctx;
    return rc_heap_new(&cfg);
}

/* A heap in `mode` whose reports go to *log (cleared first). */
static inline rc_heap *test_heap_with_log(rc_alloc_mode mode, test_report_log *log) {
    memset(log, 0, sizeof *log);
    return test_heap_with_handler(mode, test_record_report, log);
}

static inline rc_heap_stats test_stats(const rc_heap *h) {
    rc_heap_stats st;
    memset(&st, 0, sizeof st);
    rc_heap_get_stats(h, &st);
    return st;
}

/* Small blocks in use over all classes. */
static inline size_t test_small_used(const rc_heap_stats *st) {
    size_t n = 0;
    for (unsigned c = 0; c < RC_NUM_CLASSES; c++)
        n += st->classes[c].blocks_used;
    return n;
}

/* Size-class index of a small request n (1..RC_SMALL_MAX). */
static inline unsigned test_class_of(size_t n) {
    return (unsigned)((n + RC_ALIGNMENT - 1) / RC_ALIGNMENT) - 1;
}

static inline size_t test_round_up(size_t n, size_t a) {
    return (n + a - 1) / a * a;
}

#endif /* RCGC_TESTS_TESTUTIL_H */
