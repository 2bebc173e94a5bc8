/*
 * tests/check.h — a tiny assertion framework for the rcgc tests.
 *
 *   CHECK(cond)            fails if cond is false
 *   CHECK_EQ(a, b)         integer equality (values printed on failure)
 *   CHECK_NE / LT / LE / GT / GE
 *   CHECK_PTR_EQ(a, b), CHECK_PTR_NE(a, b), CHECK_NOT_NULL(p), CHECK_NULL(p)
 *   CHECK_STR_CONTAINS(haystack, needle)          (case-insensitive)
 *   CHECK_MSG(cond, fmt, ...)                      with an extra explanation
 *
 * Every macro is an expression worth 1 on success and 0 on failure, so a test
 * can stop early:  if (!CHECK_NOT_NULL(p)) return;
 *
 * A failure prints "file:line: FAILED: expression" (and the values) to stderr
 * and is counted; the counters are atomic so checks may run on any thread.
 * RUN_TEST(fn) runs a test function and prints its outcome; main() ends with
 * `return check_summary();`, which exits non-zero if anything failed.
 * After CHECK_PRINT_LIMIT failures only the count goes on (no flood of output
 * from a check inside a loop of a million iterations).
 */
#ifndef RCGC_TESTS_CHECK_H
#define RCGC_TESTS_CHECK_H

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CHECK_PRINT_LIMIT 50

static atomic_ulong check_failures_;
static atomic_ulong check_passes_;
static atomic_ulong check_skips_;

#if defined(__GNUC__)
#define CHECK_PRINTF_(f, a) __attribute__((format(printf, f, a)))
#else
#define CHECK_PRINTF_(f, a)
#endif

static inline int check_pass_(void) {
    atomic_fetch_add_explicit(&check_passes_, 1, memory_order_relaxed);
    return 1;
}

CHECK_PRINTF_(3, 4)
static inline int check_fail_(const char *file, int line, const char *fmt, ...) {
    unsigned long n = atomic_fetch_add(&check_failures_, 1) + 1;
    if (n <= CHECK_PRINT_LIMIT) {
        char buf[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, buf);
        if (n == CHECK_PRINT_LIMIT)
            fprintf(stderr, "(further failures are counted but not printed)\n");
        fflush(stderr);
    }
    return 0;
}

static inline int check_bool_(int ok, const char *expr, const char *file, int line) {
    return ok ? check_pass_() : check_fail_(file, line, "%s", expr);
}

enum check_op_ { CHECK_OP_EQ, CHECK_OP_NE, CHECK_OP_LT, CHECK_OP_LE, CHECK_OP_GT, CHECK_OP_GE };

static inline int check_cmp_(uintmax_t a, uintmax_t b, enum check_op_ op, const char *opname,
                             const char *ea, const char *eb, const char *file, int line) {
    int ok = 0;
    switch (op) {
    case CHECK_OP_EQ: ok = a == b; break;
    case CHECK_OP_NE: ok = a != b; break;
    case CHECK_OP_LT: ok = a < b; break;
    case CHECK_OP_LE: ok = a <= b; break;
    case CHECK_OP_GT: ok = a > b; break;
    case CHECK_OP_GE: ok = a >= b; break;
    }
    if (ok)
        return check_pass_();
    return check_fail_(file, line, "%s %s %s  (%ju [0x%jx] vs %ju [0x%jx])", ea, opname, eb, a, a,
                       b, b);
}

static inline int check_ptr_(const void *a, const void *b, int want_equal, const char *ea,
                             const char *eb, const char *file, int line) {
    if ((a == b) == want_equal)
        return check_pass_();
    return check_fail_(file, line, "%s %s %s  (%p vs %p)", ea, want_equal ? "==" : "!=", eb, a,
                       b);
}

/* Case-insensitive substring search (strcasestr is not standard C). */
static inline const char *check_find_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    if (hay == NULL)
        return NULL;
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return hay;
    }
    return n == 0 ? hay : NULL;
}

static inline int check_contains_(const char *hay, const char *needle, const char *ea,
                                  const char *file, int line) {
    if (check_find_nocase(hay, needle) != NULL)
        return check_pass_();
    return check_fail_(file, line, "%s contains \"%s\"  (text: \"%.300s\")", ea, needle,
                       hay ? hay : "(null)");
}

#define CHECK(cond) check_bool_(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_MSG(cond, ...) ((cond) ? check_pass_() : check_fail_(__FILE__, __LINE__, __VA_ARGS__))
#define CHECK_CMP_(a, b, op, name) \
    check_cmp_((uintmax_t)(a), (uintmax_t)(b), op, name, #a, #b, __FILE__, __LINE__)
#define CHECK_EQ(a, b) CHECK_CMP_(a, b, CHECK_OP_EQ, "==")
#define CHECK_NE(a, b) CHECK_CMP_(a, b, CHECK_OP_NE, "!=")
#define CHECK_LT(a, b) CHECK_CMP_(a, b, CHECK_OP_LT, "<")
#define CHECK_LE(a, b) CHECK_CMP_(a, b, CHECK_OP_LE, "<=")
#define CHECK_GT(a, b) CHECK_CMP_(a, b, CHECK_OP_GT, ">")
#define CHECK_GE(a, b) CHECK_CMP_(a, b, CHECK_OP_GE, ">=")
#define CHECK_PTR_EQ(a, b) \
    check_ptr_((const void *)(a), (const void *)(b), 1, #a, #b, __FILE__, __LINE__)
#define CHECK_PTR_NE(a, b) \
    check_ptr_((const void *)(a), (const void *)(b), 0, #a, #b, __FILE__, __LINE__)
#define CHECK_NOT_NULL(p) CHECK_PTR_NE(p, NULL)
#define CHECK_NULL(p) CHECK_PTR_EQ(p, NULL)
#define CHECK_STR_CONTAINS(hay, needle) \
    check_contains_((hay), (needle), #hay, __FILE__, __LINE__)

/* Record that some assertions were deliberately not run (and why). */
#define CHECK_SKIP(why)                                                        \
    do {                                                                       \
        atomic_fetch_add(&check_skips_, 1);                                    \
        fprintf(stderr, "%s:%d: skipped: %s\n", __FILE__, __LINE__, (why));    \
    } while (0)

static inline unsigned long check_failure_count(void) { return atomic_load(&check_failures_); }

/* Optional filter: CHECK_MAIN_INIT(argc, argv) lets `./test_x word` run only
 * the tests whose name contains "word". */
static const char *check_filter_;

static inline void check_main_init(int argc, char **argv) {
    if (argc > 1 && argv[1][0] != '-')
        check_filter_ = argv[1];
}

static inline void check_run_(void (*fn)(void), const char *name) {
    if (check_filter_ && strstr(name, check_filter_) == NULL)
        return;
    unsigned long before = check_failure_count();
    printf("[ RUN  ] %s\n", name);
    fflush(stdout);
    fn();
    unsigned long failed = check_failure_count() - before;
    if (failed)
        printf("[ FAIL ] %s (%lu failed checks)\n", name, failed);
    else
        printf("[  OK  ] %s\n", name);
    fflush(stdout);
}
#define RUN_TEST(fn) check_run_(fn, #fn)

/* Print the totals; the value is main()'s exit status. */
static inline int check_summary(void) {
    unsigned long f = atomic_load(&check_failures_);
    unsigned long p = atomic_load(&check_passes_);
    unsigned long s = atomic_load(&check_skips_);
    printf("%lu checks passed, %lu failed, %lu skipped\n", p, f, s);
    if (p == 0 && f == 0)
        printf("no check ran: treating as failure\n");
    fflush(stdout);
    return (f == 0 && p > 0) ? 0 : 1;
}

#endif /* RCGC_TESTS_CHECK_H */
