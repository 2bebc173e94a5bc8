/*
 * examples/common/host.h — what the two client hosts (rcgc-lua, rcgc-sqlite)
 * share: reading a byte count such as "64M", the leak check on their heap
 * once the client has shut down, and the --rusage line the bench scripts
 * read.
 */
#ifndef RCGC_EXAMPLES_HOST_H
#define RCGC_EXAMPLES_HOST_H

#include <rcgc/heap.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* "123", "64k", "16M", "1G" (powers of 1024) into *out; false if s is not
 * such a number or does not fit a size_t. */
static inline bool host_parse_bytes(const char *s, size_t *out) {
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return false;
    unsigned shift = 0;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: return false;
    }
    if (*end != '\0' || v > (SIZE_MAX >> shift))
        return false;
    *out = (size_t)v << shift;
    return true;
}

/* After the client freed everything (`when`: "lua_close", ...): trim the
 * heap, report its figures if `verbose`, destroy it.  Returns false, having
 * said so, if any byte was still allocated: a leak. */
static inline bool host_finish_heap(rc_heap *heap, const char *prog, const char *when,
                                    bool verbose) {
    rc_heap_trim(heap);
    rc_heap_stats s;
    rc_heap_get_stats(heap, &s);
    if (verbose)
        fprintf(stderr, "%s: after %s: %zu bytes in use, %zu held, %zu high water\n", prog, when,
                s.bytes_requested, s.bytes_from_os, s.bytes_high_water);
    bool clean = s.bytes_requested == 0 && s.large_blocks == 0;
    if (!clean)
        fprintf(stderr, "%s: %zu bytes still allocated after %s\n", prog, s.bytes_requested, when);
    rc_heap_destroy(heap);
    return clean;
}

static inline double host_seconds(struct timeval tv) {
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* The process's anonymous resident memory now (RssAnon of
 * /proc/self/status, KiB), or -1 where the kernel does not say.  Peak RSS
 * also counts the pages of the program's files (its code, libc's, the
 * client library's), which the kernel maps around each page fault in
 * variable numbers: on a 2.4 MiB Lua run they move the peak by +-100 KiB
 * from one run to the next with either allocator.  The anonymous pages are
 * the ones the allocators hold, so this, taken while the client's data is
 * all still live, compares the allocators without that noise. */
static inline long host_anon_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "RssAnon:", 8) == 0) {
            kib = strtol(line + 8, NULL, 10);
            break;
        }
    fclose(f);
    return kib;
}

/* The line bench.sh reads: wall time since t0, CPU times, peak RSS, and
 * anon_kib (host_anon_kib, taken by the caller before the client let go of
 * its data). */
static inline void host_print_rusage(const char *prog, bool system, struct timespec t0,
                                     long anon_kib) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr,
            "%s: rusage allocator=%s wall_s=%.3f user_s=%.3f sys_s=%.3f maxrss_kib=%ld "
            "anon_kib=%ld\n",
            prog, system ? "system" : "rcgc", wall, host_seconds(ru.ru_utime),
            host_seconds(ru.ru_stime), ru.ru_maxrss, anon_kib);
}

#endif
