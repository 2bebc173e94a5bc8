/*
 * src/alloc/os.c — the default raw hooks: arenas from mmap (aligned to their
 * size), large blocks from the C library's malloc.
 */
#include "alloc/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#if defined(__linux__) && !defined(MADV_HUGEPAGE)
#define MADV_HUGEPAGE 14
#endif
#if defined(__linux__) && !defined(MADV_POPULATE_WRITE)
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older headers lack the name */
#endif

static void *os_map(void *hint, size_t size) {
    void *p = mmap(hint, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Where the next arena is asked to go (a hint, never MAP_FIXED): just below
 * the last arena mapped, or where the last one was unmapped.  The kernel
 * places mappings top-down, so the address under an aligned arena is aligned
 * too, and an unmapped arena leaves an aligned hole.  Shared by all heaps and
 * threads; a stale hint only costs the fallback below. */
static _Atomic uintptr_t arena_hint;

/* mmap gives page alignment only.  Try the exact size at the hint first
 * (one system call when it works, as it does for consecutive arenas);
 * otherwise map size + align and cut the unaligned head and tail away. */
/* A hint beyond the address space the arena map covers would keep asking
 * for arenas the heap must refuse (a kernel with a larger address space
 * honours such hints): those are dropped, and mmap chooses again. */
static void set_hint(uintptr_t a) {
    if ((uint64_t)a >> RC_MAP_ADDRESS_BITS)
        a = 0;
    atomic_store_explicit(&arena_hint, a, memory_order_relaxed);
}

static void *os_arena_alloc(void *ctx, size_t size, size_t align) {
    (void)ctx;
    char *p = os_map((void *)atomic_load_explicit(&arena_hint, memory_order_relaxed), size);
    if (p && ((uintptr_t)p & (align - 1)) != 0) {
        munmap(p, size);
        p = os_map(NULL, size + align);
        if (!p)
            return NULL;
        char *aligned = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
        if (aligned > p)
            munmap(p, (size_t)(aligned - p));
        size_t tail = (size_t)((p + size + align) - (aligned + size));
        if (tail)
            munmap(aligned + size, tail);
        p = aligned;
    }
    if (p && (uintptr_t)p >= size)
        set_hint((uintptr_t)p - size);
    return p;
}

static void os_arena_free(void *ctx, void *p, size_t size) {
    (void)ctx;
    if (munmap(p, size) == 0)
        set_hint((uintptr_t)p);
}

static void *os_large_alloc(void *ctx, size_t size) {
    (void)ctx;
    return malloc(size);
}

static void os_large_free(void *ctx, void *p, size_t size) {
    (void)ctx;
    (void)size;
    free(p);
}

static void *os_large_realloc(void *ctx, void *p, size_t old_size, size_t new_size) {
    (void)ctx;
    (void)old_size;
    return realloc(p, new_size);
}

uint64_t rc__os_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Fault in [p, p + size) writable in one system call (the kernel still
 * zeroes the pages, but skips one page fault per page).  Kernels before
 * 5.14 answer EINVAL: remember that and leave the pages to fault lazily.
 * Any other failure (no memory right now) is harmless for the same reason. */
bool rc__os_populate(void *p, size_t size) {
#ifdef MADV_POPULATE_WRITE
    static _Atomic int unsupported;
    if (atomic_load_explicit(&unsupported, memory_order_relaxed))
        return false;
    int saved = errno;
    bool ok = madvise(p, size, MADV_POPULATE_WRITE) == 0;
    if (!ok && errno == EINVAL)
        atomic_store_explicit(&unsupported, 1, memory_order_relaxed);
    errno = saved;
    return ok;
#else
    (void)p;
    (void)size;
    return false;
#endif
}

/* Ask for transparent huge pages over [p, p + size) (2 MiB-aligned on
 * x86-64 and arm64 with 4 KiB pages).  Where the kernel has them set to
 * "madvise" (Debian's default) this is what turns them on; "always" needs no
 * asking and "never" ignores it.  Best effort, like rc__os_populate. */
void rc__os_prefer_huge(void *p, size_t size) {
#ifdef MADV_HUGEPAGE
    int saved = errno;
    (void)madvise(p, size, MADV_HUGEPAGE);
    errno = saved;
#else
    (void)p;
    (void)size;
#endif
}

const rc_raw_hooks rc__os_hooks = {
    .ctx = NULL,
    .arena_alloc = os_arena_alloc,
    .arena_free = os_arena_free,
    .large_alloc = os_large_alloc,
    .large_free = os_large_free,
    .large_realloc = os_large_realloc,
};
