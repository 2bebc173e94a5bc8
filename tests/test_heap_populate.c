/*
 * test_heap_populate.c — when arenas are faulted in at once.
 *
 * A heap that already holds several arenas and maps another is growing, and
 * the default hooks populate the new arena in one system call (Linux
 * MADV_POPULATE_WRITE).  Checked with mincore(): a small heap's arena stays
 * lazy (only the pages used are resident), a growing heap's new arena is
 * resident at once, and an arena from an embedder's hook is never touched
 * beyond what the heap uses, nor a lazy pool beyond the page of the last
 * block handed out.  Where the kernel cannot populate (before Linux 5.14,
 * or under qemu-user, which ignores madvise) the populated case is skipped.
 *
 * With huge pages on (RC_HUGE_ON or RCGC_HUGE_PAGES=1), a growing heap maps
 * its arenas in 2 MiB pairs: the stats show the partner half held from the
 * system while the heap grows and given back when it shrinks, the cap still
 * holds, and where the kernel offers transparent huge pages the pair is
 * backed by one (checked in /proc/self/smaps).  With RC_HUGE_AUTO (the
 * default) the pairs start once the heap holds RC_HUGE_AUTO_AFTER arenas,
 * or rc_heap_config.huge_auto_arenas.
 */
#include "check.h"
#include "testutil.h"

#include <rcgc/heap.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define ON_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef ON_VALGRIND
#define ON_VALGRIND() 0
#endif

#define PAGES_PER_ARENA (RC_ARENA_SIZE / 4096)

/* Resident pages of the arena holding p. */
static size_t resident_pages(const void *p) {
    void *base = (void *)((uintptr_t)p & ~(uintptr_t)(RC_ARENA_SIZE - 1));
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t n = RC_ARENA_SIZE / page;
    unsigned char *vec = calloc(n, 1);
    if (!vec || mincore(base, RC_ARENA_SIZE, vec) != 0) {
        free(vec);
        return SIZE_MAX;
    }
    size_t r = 0;
    for (size_t i = 0; i < n; i++)
        r += vec[i] & 1;
    free(vec);
    return r * (page / 4096);
}

/* Does madvise(MADV_POPULATE_WRITE) fault pages in?  Its answer is not
 * enough: qemu-user (make test32) ignores every madvise and answers 0, so
 * the page must be resident afterwards too. */
static bool kernel_can_populate(void) {
#ifdef MADV_POPULATE_WRITE
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    unsigned char resident = 0;
    bool ok = madvise(p, 4096, MADV_POPULATE_WRITE) == 0 && mincore(p, 4096, &resident) == 0 &&
              (resident & 1);
    munmap(p, 4096);
    return ok;
#else
    return false;
#endif
}

/* Allocate 16-byte blocks until the heap holds `arenas` arenas; returns the
 * first block of the newest arena (NULL on failure).  Blocks are kept in
 * `keep` (freed by rc_heap_destroy). */
static void *grow_to(rc_heap *h, size_t arenas) {
    void *last = NULL;
    size_t have = test_stats(h).arenas;
    for (;;) {
        void *p = rc_malloc(h, 16);
        if (!p)
            return NULL;
        size_t now = test_stats(h).arenas;
        if (now > have) {
            have = now;
            last = p;
            if (have >= arenas)
                return last;
        }
    }
}

/* ---- Hooks that map arenas without touching them ------------------------- */

static unsigned long hook_arenas;

static void *lazy_arena_alloc(void *ctx, size_t size, size_t align) {
    (void)ctx;
    char *p = mmap(NULL, size + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    char *a = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
    if (a > p)
        munmap(p, (size_t)(a - p));
    if ((size_t)(p + size + align - (a + size)) > 0)
        munmap(a + size, (size_t)(p + size + align - (a + size)));
    hook_arenas++;
    return a;
}
static void lazy_arena_free(void *ctx, void *p, size_t size) {
    (void)ctx;
    munmap(p, size);
}
static void *lazy_large_alloc(void *ctx, size_t size) {
    (void)ctx;
    return malloc(size);
}
static void lazy_large_free(void *ctx, void *p, size_t size) {
    (void)ctx;
    (void)size;
    free(p);
}

static const rc_raw_hooks lazy_hooks = {
    .ctx = NULL,
    .arena_alloc = lazy_arena_alloc,
    .arena_free = lazy_arena_free,
    .large_alloc = lazy_large_alloc,
    .large_free = lazy_large_free,
};

/* The configuration of a pool-mode heap with the given huge-page setting,
 * cap and hooks (NULL: the default ones). */
static rc_heap_config pool_config(rc_huge_pages huge, size_t max_bytes, const rc_raw_hooks *hooks) {
    rc_heap_config cfg;
    rc_heap_config_init(&cfg);
    cfg.mode = RC_MODE_POOL;
    cfg.huge_pages = huge;
    cfg.max_bytes = max_bytes;
    cfg.hooks = hooks;
    return cfg;
}

/* A heap of pool_config. */
static rc_heap *pool_heap(rc_huge_pages huge, size_t max_bytes, const rc_raw_hooks *hooks) {
    rc_heap_config cfg = pool_config(huge, max_bytes, hooks);
    return rc_heap_new(&cfg);
}

/* ---- Tests ----------------------------------------------------------------- */

static void test_small_heap_stays_lazy(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    void *p = rc_malloc(h, 16);
    if (CHECK_NOT_NULL(p))
        CHECK_LT(resident_pages(p), 16); /* header, and the pages carved */
    rc_heap_destroy(h);
}

/* Is the 4 KiB page at p resident?  (-1: mincore failed) */
static int page_resident(const void *p) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char v = 0;
    void *base = (void *)((uintptr_t)p & ~(uintptr_t)(page - 1));
    if (page != 4096 || mincore(base, page, &v) != 0)
        return -1;
    return v & 1;
}

/* A lazy arena's pool is carved a page at a time, and a carve writes no
 * link beyond the page its first block starts in: a class touches no page
 * before it hands out a block there.  (48-byte blocks do not divide a page:
 * the 86th block starts in the pool's first page and ends in its second,
 * and carving 85 blocks at a time used to write links into the second page
 * before any block there was handed out.) */
static void test_carve_touches_no_page_ahead(void) {
    rc_heap *h = pool_heap(RC_HUGE_DEFAULT, 0, &lazy_hooks);
    if (!CHECK_NOT_NULL(h))
        return;
    void *small = rc_malloc(h, 16); /* takes pool 0, behind the arena header */
    char *b[87];
    for (int i = 0; i < 86; i++)
        b[i] = rc_malloc(h, 48);
    if (!CHECK_NOT_NULL(small) || !CHECK_NOT_NULL(b[0]) || !CHECK_NOT_NULL(b[85])) {
        rc_heap_destroy(h);
        return;
    }
    char *pool = b[0];
    char *arena_end = (char *)(((uintptr_t)pool | (RC_ARENA_SIZE - 1)) + 1);
    if (page_resident(arena_end - 4096) != 0) {
        /* a page nothing wrote is resident: huge pages, or no mincore */
        CHECK_SKIP("untouched arena pages are resident here");
        rc_heap_destroy(h);
        return;
    }
    if (!CHECK_EQ((uintptr_t)pool % RC_POOL_SIZE, 0)) { /* 48 B has a pool of its own */
        rc_heap_destroy(h);
        return;
    }
    for (int i = 0; i < 86; i++) {
        CHECK_PTR_EQ(b[i], pool + 48 * i); /* handed out in address order */
        b[i][0] = 1;
    }
    CHECK_LT((uintptr_t)(b[85] - pool), 4096); /* the 86th starts in page 0 */
    CHECK_EQ(page_resident(pool), 1);
    CHECK_EQ(page_resident(pool + 4096), 0); /* nothing handed out there yet */
    b[86] = rc_malloc(h, 48);
    if (!CHECK_NOT_NULL(b[86])) {
        rc_heap_destroy(h);
        return;
    }
    CHECK_PTR_EQ(b[86], pool + 48 * 86); /* the first block in page 1 */
    b[86][0] = 1;
    CHECK_EQ(page_resident(pool + 4096), 1);
    CHECK_EQ(page_resident(pool + 2 * 4096), 0);
    rc_heap_destroy(h);
}

static void test_growing_heap_populates(void) {
    if (!kernel_can_populate()) {
        CHECK_SKIP("MADV_POPULATE_WRITE faults nothing in (kernel before 5.14, or an emulator)");
        return;
    }
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    void *p = grow_to(h, 6);
    if (CHECK_NOT_NULL(p))
        CHECK_EQ(resident_pages(p), PAGES_PER_ARENA);
    rc_heap_destroy(h);
}

static void test_hook_arenas_never_populated(void) {
    rc_heap *h = pool_heap(RC_HUGE_DEFAULT, 0, &lazy_hooks);
    if (!CHECK_NOT_NULL(h))
        return;
    hook_arenas = 0;
    void *p = grow_to(h, 6);
    if (CHECK_NOT_NULL(p)) {
        CHECK_EQ(hook_arenas, 6);
        CHECK_LT(resident_pages(p), 16);
    }
    rc_heap_destroy(h);
}

/* ---- Huge-page pairs ---------------------------------------------------------- */

/* 512-byte blocks, kept so they can be freed (or left to rc_heap_destroy). */
enum { BIG = 512, MAX_KEPT = 16 * (RC_ARENA_SIZE / BIG) };
static void *kept[MAX_KEPT];
static size_t nkept;

/* Allocate until the heap holds `arenas` arenas (or allocation fails);
 * returns the number of arenas it holds. */
static size_t grow_big(rc_heap *h, size_t arenas) {
    size_t have = test_stats(h).arenas;
    while (have < arenas && nkept < MAX_KEPT) {
        void *p = rc_malloc(h, BIG);
        if (!p)
            break;
        memset(p, 0x5A, BIG);
        kept[nkept++] = p;
        have = test_stats(h).arenas;
    }
    return have;
}

static void free_kept(void) {
    while (nkept)
        rc_free(kept[--nkept]);
}

/* h is at its cap: one more block is refused, yet the heap stays usable (a
 * freed block is handed out again); then everything goes back but one
 * arena, and h is destroyed. */
static void refused_then_reused(rc_heap *h) {
    CHECK_NULL(rc_malloc(h, BIG));
    rc_free(kept[--nkept]);
    void *p = rc_malloc(h, BIG);
    if (CHECK_NOT_NULL(p))
        kept[nkept++] = p;
    free_kept();
    CHECK_LE(test_stats(h).bytes_from_os, RC_ARENA_SIZE);
    rc_heap_destroy(h);
}

/* Does madvise(MADV_HUGEPAGE) reach the kernel?  The mapping it marks says
 * so in /proc/self/smaps (VmFlags "hg"); qemu-user (make test32) ignores
 * the call and answers 0.  Where smaps shows no VmFlags, assume it does. */
static bool madvise_hugepage_applies(void) {
#ifdef MADV_HUGEPAGE
    size_t size = (size_t)2 << 20;
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    bool applies = false;
    FILE *f = madvise(p, size, MADV_HUGEPAGE) == 0 ? fopen("/proc/self/smaps", "r") : NULL;
    if (f) {
        char line[512];
        bool inside = false, flags_seen = false;
        while (fgets(line, sizeof line, f)) {
            unsigned long lo, hi;
            if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
                inside = (uintptr_t)p >= lo && (uintptr_t)p < hi;
                continue;
            }
            if (inside && strncmp(line, "VmFlags:", 8) == 0) {
                flags_seen = true;
                applies = strstr(line, " hg") != NULL;
                break;
            }
        }
        fclose(f);
        if (!flags_seen)
            applies = true;
    }
    munmap(p, size);
    return applies;
#else
    return false;
#endif
}

/* Is one of `choices` the bracketed (current) setting in sysfs file `path`? */
static bool sysfs_setting_is(const char *path, const char *const *choices) {
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[256] = "";
    bool ok = false;
    if (fgets(line, sizeof line, f))
        for (; *choices && !ok; choices++)
            ok = strstr(line, *choices) != NULL;
    fclose(f);
    return ok;
}

/* Does the kernel give a process that asks a huge page at fault time, even
 * if it has to compact memory first?  Only then is the check below sure to
 * hold ("defer" and "never" defrag settings may fall back to small pages
 * when no free 2 MiB block is at hand). */
static bool kernel_offers_thp(void) {
    static const char *const enabled[] = {"[always]", "[madvise]", NULL};
    static const char *const defrag[] = {"[always]", "[madvise]", "[defer+madvise]", NULL};
    return sysfs_setting_is("/sys/kernel/mm/transparent_hugepage/enabled", enabled) &&
           sysfs_setting_is("/sys/kernel/mm/transparent_hugepage/defrag", defrag) &&
           madvise_hugepage_applies();
}

/* AnonHugePages (KiB) of the mapping holding p, from /proc/self/smaps; -1 if
 * unknown. */
static long huge_kib_at(const void *p) {
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return -1;
    char line[512];
    bool inside = false;
    long kib = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            inside = (uintptr_t)p >= lo && (uintptr_t)p < hi;
            continue;
        }
        long v;
        if (inside && sscanf(line, "AnonHugePages: %ld kB", &v) == 1) {
            kib = v;
            break;
        }
    }
    fclose(f);
    return kib;
}

static void test_huge_pairs_while_growing(void) {
    rc_heap *h = pool_heap(RC_HUGE_ON, 0, NULL);
    if (!CHECK_NOT_NULL(h))
        return;
    /* The first RC_POPULATE_AFTER arenas come one at a time. */
    CHECK_EQ(grow_big(h, 4), 4);
    CHECK_EQ(test_stats(h).bytes_from_os, 4 * RC_ARENA_SIZE);
    /* The fifth comes with its partner, which the sixth then uses. */
    CHECK_EQ(grow_big(h, 5), 5);
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(st.bytes_from_os, 6 * RC_ARENA_SIZE);
    CHECK_EQ(st.arena_bytes_ahead, RC_ARENA_SIZE);
    CHECK_EQ(st.bytes_from_os, st.arenas * RC_ARENA_SIZE + st.large_bytes + st.arena_bytes_ahead);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (CHECK_NOT_NULL(f)) {
        rc_heap_print_stats(h, f);
        fclose(f);
        CHECK_STR_CONTAINS(text, "of which mapped ahead (huge page)");
        free(text);
    }
    CHECK_EQ(grow_big(h, 6), 6);
    CHECK_EQ(test_stats(h).bytes_from_os, 6 * RC_ARENA_SIZE);
    CHECK_EQ(test_stats(h).arena_bytes_ahead, 0);
    CHECK_EQ(grow_big(h, 7), 7);
    CHECK_EQ(test_stats(h).bytes_from_os, 8 * RC_ARENA_SIZE);
    if (kernel_can_populate())
        CHECK_EQ(resident_pages(kept[nkept - 1]), PAGES_PER_ARENA);
    if (kernel_offers_thp() && !ON_VALGRIND())
        CHECK_GE(huge_kib_at(kept[nkept - 1]), 2048);
    /* every block still holds what was written */
    size_t bad = 0;
    for (size_t i = 0; i < nkept; i++)
        for (size_t j = 0; j < BIG; j++)
            bad += ((unsigned char *)kept[i])[j] != 0x5A;
    CHECK_EQ(bad, 0);
    /* Shrinking gives the unused partner back with the arenas. */
    free_kept();
    st = test_stats(h);
    CHECK_LE(st.arenas, 1);
    CHECK_EQ(st.bytes_from_os, st.arenas * RC_ARENA_SIZE);
    CHECK_EQ(st.arena_bytes_ahead, 0);
    CHECK_EQ(st.bytes_high_water, 8 * RC_ARENA_SIZE);
    rc_heap_destroy(h);
}

static void test_huge_partner_trimmed(void) {
    rc_heap *h = pool_heap(RC_HUGE_ON, 0, NULL);
    if (!CHECK_NOT_NULL(h))
        return;
    CHECK_EQ(grow_big(h, 5), 5);
    CHECK_EQ(test_stats(h).bytes_from_os, 6 * RC_ARENA_SIZE);
    CHECK_EQ(rc_heap_trim(h), RC_ARENA_SIZE); /* all live: only the partner goes */
    CHECK_EQ(test_stats(h).bytes_from_os, 5 * RC_ARENA_SIZE);
    CHECK_EQ(grow_big(h, 6), 6); /* and growth pairs again */
    CHECK_EQ(test_stats(h).bytes_from_os, 7 * RC_ARENA_SIZE);
    nkept = 0; /* rc_heap_destroy frees the rest */
    rc_heap_destroy(h);
}

/* The cap counts the partner: a pair that would pass it is not mapped, and
 * the heap takes single arenas up to the cap instead. */
static void test_huge_pairs_respect_cap(void) {
    const size_t cap = 7 * RC_ARENA_SIZE;
    rc_heap *h = pool_heap(RC_HUGE_ON, cap, NULL);
    if (!CHECK_NOT_NULL(h))
        return;
    CHECK_EQ(grow_big(h, 100), 7); /* 4 single, one pair, one single */
    rc_heap_stats st = test_stats(h);
    CHECK_EQ(st.bytes_from_os, cap);
    CHECK_GE(st.failed_allocs, 1);
    refused_then_reused(h);
}

static void test_huge_pages_setting(void) {
    /* RC_HUGE_DEFAULT follows RCGC_HUGE_PAGES; an explicit setting wins. */
    static const struct {
        const char *env; /* NULL: unset */
        rc_huge_pages cfg;
        bool paired;
    } cases[] = {
        {NULL, RC_HUGE_DEFAULT, false}, {"1", RC_HUGE_DEFAULT, true},
        {"0", RC_HUGE_DEFAULT, false},  {"yes", RC_HUGE_DEFAULT, false},
        {"1", RC_HUGE_OFF, false},      {NULL, RC_HUGE_ON, true},
        {"auto", RC_HUGE_DEFAULT, false}, {"1", RC_HUGE_AUTO, false}, /* auto: not yet */
    };
    const char *saved = getenv("RCGC_HUGE_PAGES");
    char *saved_copy = saved ? strdup(saved) : NULL;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].env)
            setenv("RCGC_HUGE_PAGES", cases[i].env, 1);
        else
            unsetenv("RCGC_HUGE_PAGES");
        rc_heap *h = pool_heap(cases[i].cfg, 0, NULL);
        if (!CHECK_NOT_NULL(h))
            continue;
        CHECK_EQ(grow_big(h, 5), 5);
        CHECK_MSG(test_stats(h).bytes_from_os == (cases[i].paired ? 6 : 5) * RC_ARENA_SIZE,
                  "case %zu: env %s, setting %d", i, cases[i].env ? cases[i].env : "(unset)",
                  (int)cases[i].cfg);
        nkept = 0;
        rc_heap_destroy(h);
    }
    if (saved_copy)
        setenv("RCGC_HUGE_PAGES", saved_copy, 1);
    else
        unsetenv("RCGC_HUGE_PAGES");
    free(saved_copy);
    /* a value outside the enum is refused */
    CHECK_NULL(pool_heap((rc_huge_pages)7, 0, NULL));
    CHECK_NULL(pool_heap((rc_huge_pages)(RC_HUGE_AUTO + 1), 0, NULL));
    CHECK_NULL(pool_heap((rc_huge_pages)-1, 0, NULL));
}

/* RC_HUGE_AUTO: single arenas up to RC_HUGE_AUTO_AFTER, then pairs; the
 * partner goes back when the heap shrinks.  RC_HUGE_OFF and "0" in the
 * environment never pair.  (64 MiB of 512-byte blocks per heap.) */
static size_t grow_many(rc_heap *h, void **v, size_t cap, size_t *n, size_t arenas) {
    size_t have = test_stats(h).arenas;
    while (have < arenas && *n < cap) {
        void *p = rc_malloc(h, BIG);
        if (!p)
            break;
        memset(p, 0x3C, 16);
        v[(*n)++] = p;
        if (*n % 64 == 0 || have + 1 >= arenas)
            have = test_stats(h).arenas;
    }
    return test_stats(h).arenas;
}

static void test_huge_auto_pairs_past_threshold(void) {
    const size_t limit = RC_HUGE_AUTO_AFTER + 2;
    const size_t cap = limit * (RC_ARENA_SIZE / BIG);
    void **v = calloc(cap, sizeof *v); /* not malloc: with ASan, gcc calls that uninitialized */
    if (!CHECK_NOT_NULL(v))
        return;
    static const rc_huge_pages settings[] = {RC_HUGE_AUTO, RC_HUGE_OFF};
    for (size_t k = 0; k < (ON_VALGRIND() ? 1u : 2u); k++) { /* 8 s a heap under valgrind */
        bool pairs = settings[k] == RC_HUGE_AUTO;
        rc_heap *h = pool_heap(settings[k], 0, NULL);
        if (!CHECK_NOT_NULL(h))
            continue;
        size_t n = 0;
        CHECK_EQ(grow_many(h, v, cap, &n, RC_HUGE_AUTO_AFTER), RC_HUGE_AUTO_AFTER);
        rc_heap_stats st = test_stats(h);
        CHECK_EQ(st.arena_bytes_ahead, 0);
        CHECK_EQ(st.bytes_from_os, (size_t)RC_HUGE_AUTO_AFTER * RC_ARENA_SIZE);
        /* the next arena comes with its partner under auto */
        CHECK_EQ(grow_many(h, v, cap, &n, RC_HUGE_AUTO_AFTER + 1), RC_HUGE_AUTO_AFTER + 1);
        st = test_stats(h);
        CHECK_EQ(st.arena_bytes_ahead, pairs ? RC_ARENA_SIZE : 0);
        CHECK_EQ(st.bytes_from_os, (RC_HUGE_AUTO_AFTER + 1 + (pairs ? 1 : 0)) * RC_ARENA_SIZE);
        CHECK_EQ(st.bytes_from_os, st.arenas * RC_ARENA_SIZE + st.large_bytes + st.arena_bytes_ahead);
        if (pairs && kernel_offers_thp() && !ON_VALGRIND())
            CHECK_GE(huge_kib_at(v[n - 1]), 2048);
        /* the blocks hold what was written */
        size_t bad = 0;
        for (size_t i = 0; i < n; i++)
            bad += ((unsigned char *)v[i])[0] != 0x3C || ((unsigned char *)v[i])[15] != 0x3C;
        CHECK_EQ(bad, 0);
        /* shrinking gives the partner back with the arenas */
        while (n)
            rc_free(v[--n]);
        st = test_stats(h);
        CHECK_LE(st.arenas, 1);
        CHECK_EQ(st.arena_bytes_ahead, 0);
        CHECK_EQ(st.bytes_from_os, st.arenas * RC_ARENA_SIZE);
        rc_heap_destroy(h);
    }
    free(v);
}

/* rc_heap_config.huge_auto_arenas moves RC_HUGE_AUTO's threshold: pairs
 * from that many arenas on (the environment and an explicit setting still
 * decide whether there are pairs at all), the cap still holds, and the
 * partner goes back when the heap shrinks. */
static rc_heap *auto_heap(rc_huge_pages huge, unsigned after, size_t max_bytes) {
    rc_heap_config cfg = pool_config(huge, max_bytes, NULL);
    cfg.huge_auto_arenas = after;
    return rc_heap_new(&cfg);
}

static void test_huge_auto_arenas_config(void) {
    const char *saved = getenv("RCGC_HUGE_PAGES");
    char *saved_copy = saved ? strdup(saved) : NULL;
    unsetenv("RCGC_HUGE_PAGES");

    /* pairs from the 9th arena instead of the 65th */
    rc_heap *h = auto_heap(RC_HUGE_DEFAULT, 8, 0);
    if (CHECK_NOT_NULL(h)) {
        CHECK_EQ(grow_big(h, 8), 8);
        rc_heap_stats st = test_stats(h);
        CHECK_EQ(st.arena_bytes_ahead, 0);
        CHECK_EQ(st.bytes_from_os, 8 * RC_ARENA_SIZE);
        CHECK_EQ(grow_big(h, 9), 9);
        st = test_stats(h);
        CHECK_EQ(st.arena_bytes_ahead, RC_ARENA_SIZE);
        CHECK_EQ(st.bytes_from_os, 10 * RC_ARENA_SIZE);
        if (kernel_offers_thp() && !ON_VALGRIND())
            CHECK_GE(huge_kib_at(kept[nkept - 1]), 2048);
        CHECK_EQ(grow_big(h, 10), 10); /* the partner is used */
        CHECK_EQ(test_stats(h).bytes_from_os, 10 * RC_ARENA_SIZE);
        CHECK_EQ(test_stats(h).arena_bytes_ahead, 0);
        size_t bad = 0;
        for (size_t i = 0; i < nkept; i++)
            bad += ((unsigned char *)kept[i])[0] != 0x5A || ((unsigned char *)kept[i])[BIG - 1] != 0x5A;
        CHECK_EQ(bad, 0);
        free_kept();
        st = test_stats(h);
        CHECK_LE(st.arenas, 1);
        CHECK_EQ(st.arena_bytes_ahead, 0);
        CHECK_EQ(st.bytes_from_os, st.arenas * RC_ARENA_SIZE);
        rc_heap_destroy(h);
    }

    /* below RC_POPULATE_AFTER it acts as RC_HUGE_ON: pairs while growing,
     * never for a heap's first arenas */
    h = auto_heap(RC_HUGE_AUTO, 1, 0);
    if (CHECK_NOT_NULL(h)) {
        CHECK_EQ(grow_big(h, 4), 4);
        CHECK_EQ(test_stats(h).bytes_from_os, 4 * RC_ARENA_SIZE);
        CHECK_EQ(grow_big(h, 5), 5);
        CHECK_EQ(test_stats(h).bytes_from_os, 6 * RC_ARENA_SIZE);
        nkept = 0;
        rc_heap_destroy(h);
    }

    /* no pairs where the setting says none: RC_HUGE_OFF, or "0" in the
     * environment under RC_HUGE_DEFAULT */
    for (int k = 0; k < 2; k++) {
        if (k)
            setenv("RCGC_HUGE_PAGES", "0", 1);
        h = auto_heap(k ? RC_HUGE_DEFAULT : RC_HUGE_OFF, 2, 0);
        if (!CHECK_NOT_NULL(h))
            continue;
        CHECK_EQ(grow_big(h, 7), 7);
        CHECK_MSG(test_stats(h).bytes_from_os == 7 * RC_ARENA_SIZE, "case %d paired", k);
        CHECK_EQ(test_stats(h).arena_bytes_ahead, 0);
        nkept = 0;
        rc_heap_destroy(h);
    }
    unsetenv("RCGC_HUGE_PAGES");

    /* a pair that would pass the cap is not mapped: single arenas up to it,
     * then an ordinary failure, and the heap stays usable */
    h = auto_heap(RC_HUGE_AUTO, 6, 7 * RC_ARENA_SIZE);
    if (CHECK_NOT_NULL(h)) {
        CHECK_EQ(grow_big(h, 100), 7);
        rc_heap_stats st = test_stats(h);
        CHECK_EQ(st.bytes_from_os, 7 * RC_ARENA_SIZE);
        CHECK_EQ(st.arena_bytes_ahead, 0);
        CHECK_GE(st.failed_allocs, 1);
        refused_then_reused(h);
    }

    if (saved_copy)
        setenv("RCGC_HUGE_PAGES", saved_copy, 1);
    free(saved_copy);
}

static void test_huge_ignored_with_hooks(void) {
    rc_heap *h = pool_heap(RC_HUGE_ON, 0, &lazy_hooks);
    if (!CHECK_NOT_NULL(h))
        return;
    hook_arenas = 0;
    CHECK_EQ(grow_big(h, 6), 6);
    CHECK_EQ(hook_arenas, 6); /* one call per arena, none of them a pair */
    CHECK_EQ(test_stats(h).bytes_from_os, 6 * RC_ARENA_SIZE);
    CHECK_LT(resident_pages(kept[nkept - 1]), 16);
    nkept = 0;
    rc_heap_destroy(h);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_small_heap_stays_lazy);
    RUN_TEST(test_carve_touches_no_page_ahead);
    RUN_TEST(test_growing_heap_populates);
    RUN_TEST(test_hook_arenas_never_populated);
    RUN_TEST(test_huge_pairs_while_growing);
    RUN_TEST(test_huge_partner_trimmed);
    RUN_TEST(test_huge_auto_pairs_past_threshold);
    RUN_TEST(test_huge_pairs_respect_cap);
    RUN_TEST(test_huge_pages_setting);
    RUN_TEST(test_huge_auto_arenas_config);
    RUN_TEST(test_huge_ignored_with_hooks);
    return check_summary();
}
