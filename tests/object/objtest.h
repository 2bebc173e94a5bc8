/*
 * tests/object/objtest.h — helpers shared by the object-layer tests: an event
 * log (to assert the order in which finalizers, destroys and the test's own
 * steps happen), a clock, and running a function on a thread with a small
 * stack.
 *
 * Every test here goes through the public API only (rcgc/object.h and
 * rcgc/heap.h); nothing looks at the library's internals.
 */
#ifndef RCGC_TESTS_OBJTEST_H
#define RCGC_TESTS_OBJTEST_H

#include "../check.h"
#include "../testutil.h"

#include <rcgc/heap.h>
#include <rcgc/object.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The headers in front of an object (rcgc/object.h): 8 bytes, and for a
 * container also a GC head of two pointers, 24 in all (16 with 4-byte
 * pointers). */
#define OBJ_HEADERS sizeof(rc_objhead)
#define GC_OBJ_HEADERS (sizeof(rc_objhead) + 2 * sizeof(void *))

/* ---- Event log -------------------------------------------------------------- */
/* Events are appended as text, separated by " | ", so a whole sequence is
 * checked with one comparison and printed readably when it is wrong. */

#define OBJTEST_LOG_SIZE 4096

static char objtest_log_[OBJTEST_LOG_SIZE];
static size_t objtest_log_len_;

static inline void log_reset(void) {
    objtest_log_len_ = 0;
    objtest_log_[0] = '\0';
}

CHECK_PRINTF_(1, 2)
static inline void log_event(const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    int n = snprintf(objtest_log_ + objtest_log_len_, OBJTEST_LOG_SIZE - objtest_log_len_, "%s%s",
                     objtest_log_len_ ? " | " : "", buf);
    if (n > 0)
        objtest_log_len_ += (size_t)n;
    if (objtest_log_len_ >= OBJTEST_LOG_SIZE)
        objtest_log_len_ = OBJTEST_LOG_SIZE - 1;
}

static inline const char *log_text(void) { return objtest_log_; }

/* The log is exactly `expected`. */
#define CHECK_LOG(expected)                                                              \
    CHECK_MSG(strcmp(log_text(), (expected)) == 0, "event log\n    got:      %s\n    expected: %s", \
              log_text(), (expected))

/* ---- Heaps ------------------------------------------------------------------ */

/* A debug-mode heap whose error reports go to `handler` instead of abort(). */
static inline rc_heap *objtest_debug_heap(rc_error_handler handler, void *ctx) {
    return test_heap_with_handler(RC_MODE_DEBUG, handler, ctx);
}

/* ---- Valgrind ----------------------------------------------------------------- */
/* True when running under valgrind (tests then skip what would take minutes
 * there). */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define OBJTEST_ON_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef OBJTEST_ON_VALGRIND
#define OBJTEST_ON_VALGRIND() 0
#endif

/* ---- Time ------------------------------------------------------------------- */

static inline double objtest_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- A thread with a small stack -------------------------------------------- */

/* Runs fn(arg) on a new thread whose stack is `stack_bytes` and waits for it.
 * Returns 0, or the pthread error number if the thread could not be made. */
static inline int objtest_run_with_stack(size_t stack_bytes, void *(*fn)(void *), void *arg) {
    pthread_attr_t attr;
    pthread_t th;
    int err = pthread_attr_init(&attr);
    if (err)
        return err;
    err = pthread_attr_setstacksize(&attr, stack_bytes);
    if (!err)
        err = pthread_create(&th, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    if (!err)
        err = pthread_join(th, NULL);
    return err;
}

#endif /* RCGC_TESTS_OBJTEST_H */
