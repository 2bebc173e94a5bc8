/*
 * The tour: a walk through the mechanisms rcgc rebuilds from CPython, one
 * chapter per mechanism, each shown with live figures from the library.
 *
 * The tour checks its own claims.  Whenever the text says something about
 * the heap ("the arenas go back to the system"), the figures behind it are
 * compared with what the library reports; a mismatch is printed as a
 * discrepancy and the program exits with status 1, so `make demo` fails.
 *
 * The tour's own bookkeeping (arrays of pointers) uses the C library's
 * malloc, never an rcgc heap, so it does not disturb the figures shown.
 *
 * Adding a chapter: write a `static void chapter_xxx(void)` and add it to
 * the `chapters` table at the bottom; headings are numbered from the table.
 */
#include <rcgc.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Checking claims --------------------------------------------------- */

static unsigned discrepancies;

static void discrepancy(int line, const char *expr, const char *fmt, ...)
{
    va_list ap;

    discrepancies++;
    printf("  !! DISCREPANCY (tour.c:%d): ", line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n  !!   failed check: %s\n", expr);
}

/* CLAIM(cond, fmt, ...): if cond is false, report what the text claimed and
 * what the library said.  Evaluates to cond. */
#define CLAIM(cond, ...) \
    ((cond) ? true : (discrepancy(__LINE__, #cond, __VA_ARGS__), false))

/* ---- Small helpers ----------------------------------------------------- */

static double mib(size_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static rc_heap_stats stats_of(const rc_heap *h)
{
    rc_heap_stats s;

    rc_heap_get_stats(h, &s);
    return s;
}

static size_t blocks_in_pools(const rc_heap_stats *s)
{
    size_t n = 0;

    for (size_t c = 0; c < RC_NUM_CLASSES; c++)
        n += s->classes[c].blocks_used;
    return n;
}

/* The one size class whose blocks_used grew by exactly one between two
 * snapshots, with every other class unchanged; -1 if none changed, -2 if
 * the change was anything else. */
static int class_that_grew(const rc_heap_stats *before, const rc_heap_stats *after)
{
    int found = -1;

    for (int c = 0; c < RC_NUM_CLASSES; c++) {
        size_t b = before->classes[c].blocks_used;
        size_t a = after->classes[c].blocks_used;
        if (a == b)
            continue;
        if (a != b + 1 || found != -1)
            return -2;
        found = c;
    }
    return found;
}

static uintptr_t arena_base(const void *p)
{
    return (uintptr_t)p & ~(uintptr_t)(RC_ARENA_SIZE - 1);
}

static int compare_uintptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a;
    uintptr_t y = *(const uintptr_t *)b;

    return (x > y) - (x < y);
}

/* How many distinct arenas the non-NULL pointers in ptrs[0..n) lie in,
 * worked out from the addresses alone (arenas are aligned to their size).
 * scratch must have room for n entries. */
static size_t arenas_holding(void *const *ptrs, size_t n, uintptr_t *scratch)
{
    size_t k = 0, distinct = 0;

    for (size_t i = 0; i < n; i++)
        if (ptrs[i] != NULL)
            scratch[k++] = arena_base(ptrs[i]);
    qsort(scratch, k, sizeof *scratch, compare_uintptr);
    for (size_t i = 0; i < k; i++)
        if (i == 0 || scratch[i] != scratch[i - 1])
            distinct++;
    return distinct;
}

/* A small deterministic generator, so every run shows the same figures. */
static uint32_t rng_state = 2463534242u;

static uint32_t next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void print_heap_line(const char *what, const rc_heap_stats *s)
{
    double used = s->bytes_from_os ? 100.0 * (double)s->bytes_in_use / (double)s->bytes_from_os : 0.0;

    printf("    %-28s arenas %3zu   in use %5.1f MiB   held %5.1f MiB (%3.0f%% used)\n",
           what, s->arenas, mib(s->bytes_in_use), mib(s->bytes_from_os), used);
}

/* ---- Chapter: the private heap and its pool (seed sections 1 and 4) ---- */

/* Section: where blocks of a few sizes come from.  Frees what it allocates. */
static void show_size_classes(rc_heap *h)
{
    static const size_t requests[] = {1, 16, 17, 100, 512, 513, 100000};
    enum { NREQ = sizeof requests / sizeof requests[0] };
    void *blocks[NREQ] = {0};
    size_t small = 0, pools;
    uintptr_t first_arena = 0;
    bool same_arena = true;
    rc_heap_stats s;

    printf("Requests of 1..%d bytes are rounded up to one of %d size classes\n"
           "(multiples of %d) and served from %zu KiB pools inside %zu MiB arenas;\n"
           "larger requests are \"large blocks\" from the system allocator.\n"
           "Which one served each request is read from the heap's statistics.\n\n",
           RC_SMALL_MAX, RC_NUM_CLASSES, RC_ALIGNMENT, RC_POOL_SIZE / 1024,
           RC_ARENA_SIZE / (1024 * 1024));
    printf("    request  rc_good_size  rc_usable_size  served from\n");

    for (size_t i = 0; i < NREQ; i++) {
        size_t n = requests[i];
        rc_heap_stats before = stats_of(h);
        void *p = rc_malloc(h, n);

        if (!CLAIM(p != NULL, "rc_malloc(h, %zu) returned NULL", n))
            continue;
        blocks[i] = p;

        rc_heap_stats after = stats_of(h);
        size_t good = rc_good_size(n);
        size_t usable = rc_usable_size(p);
        int cls = class_that_grew(&before, &after);
        bool large = after.large_blocks == before.large_blocks + 1;

        if (cls >= 0 && !large)
            printf("    %7zu  %12zu  %14zu  pool, class %2d (%zu-byte blocks, %zu in use)\n",
                   n, good, usable, cls, after.classes[cls].block_size,
                   after.classes[cls].blocks_used);
        else if (cls == -1 && large)
            printf("    %7zu  %12zu  %14zu  large block (%zu live)\n",
                   n, good, usable, after.large_blocks);
        else
            printf("    %7zu  %12zu  %14zu  (stats changed unexpectedly)\n", n, good, usable);

        CLAIM((uintptr_t)p % RC_ALIGNMENT == 0, "block for %zu bytes at %p is not %d-byte aligned",
              n, p, RC_ALIGNMENT);
        CLAIM(rc_heap_of_block(p) == h, "rc_heap_of_block() does not name the heap that gave out %p", p);
        CLAIM(usable >= n, "rc_usable_size() is %zu, less than the %zu bytes asked for", usable, n);

        if (n <= RC_SMALL_MAX) {
            size_t want = (n + RC_ALIGNMENT - 1) / RC_ALIGNMENT * RC_ALIGNMENT;
            int want_cls = (int)(want / RC_ALIGNMENT) - 1;

            CLAIM(good == want, "rc_good_size(%zu) is %zu, expected the class size %zu", n, good, want);
            CLAIM(usable == want, "rc_usable_size() of a %zu-byte request is %zu, expected %zu",
                  n, usable, want);
            CLAIM(cls == want_cls && !large,
                  "%zu bytes should come from the pool of class %d; the stats say class %d%s",
                  n, want_cls, cls, large ? " and a new large block" : "");
            CLAIM(after.classes[want_cls].block_size == want,
                  "class %d reports %zu-byte blocks, expected %zu",
                  want_cls, after.classes[want_cls].block_size, want);
            if (small++ == 0)
                first_arena = arena_base(p);
            else if (arena_base(p) != first_arena)
                same_arena = false;
        } else {
            CLAIM(good == n, "rc_good_size(%zu) is %zu; above %d it should be the request itself",
                  n, good, RC_SMALL_MAX);
            CLAIM(cls == -1 && large,
                  "%zu bytes should be a large block; the stats say class %d, large blocks %zu -> %zu",
                  n, cls, before.large_blocks, after.large_blocks);
        }
    }

    s = stats_of(h);
    printf("\nThe %zu small blocks share one arena (at %#" PRIxPTR "); the heap holds %zu %s\n"
           "and %zu large %s of %zu bytes (headers included), outside the arena.\n",
           small, first_arena, s.arenas, plural(s.arenas, "arena", "arenas"),
           s.large_blocks, plural(s.large_blocks, "block", "blocks"), s.large_bytes);
    CLAIM(same_arena, "the small blocks lie in more than one arena");
    CLAIM(s.arenas == 1, "a fresh heap with %zu small blocks holds %zu arenas, expected 1", small, s.arenas);
    CLAIM(s.large_blocks == 2, "expected 2 live large blocks, the stats say %zu", s.large_blocks);
    for (size_t i = 0; i < NREQ; i++)
        if (blocks[i] != NULL && requests[i] > RC_SMALL_MAX)
            CLAIM(arena_base(blocks[i]) != first_arena,
                  "the large block of %zu bytes lies inside the pool arena", requests[i]);

    printf("\nThe heap's own table, from rc_heap_print_stats():\n\n");
    fflush(stdout);
    rc_heap_print_stats(h, stdout);
    fflush(stdout);
    pools = 0;
    for (size_t c = 0; c < RC_NUM_CLASSES; c++)
        pools += s.classes[c].pools;
    printf("\nThe arena's %zu pools: %zu serve size classes, %zu are still unused.  Until\n"
           "used, they count as held but not in use (the \"fragmentation\" line).\n",
           s.arenas * (RC_ARENA_SIZE / RC_POOL_SIZE), pools, s.pools_free);
    CLAIM(pools + s.pools_free == s.arenas * (RC_ARENA_SIZE / RC_POOL_SIZE),
          "%zu pools in use plus %zu free do not make up %zu arenas of %zu pools",
          pools, s.pools_free, s.arenas, RC_ARENA_SIZE / RC_POOL_SIZE);

    for (size_t i = 0; i < NREQ; i++)
        rc_free(blocks[i]);
    s = stats_of(h);
    printf("\nAfter rc_free() of all seven: %zu bytes in use, %zu large blocks, %zu %s held.\n",
           s.bytes_in_use, s.large_blocks, s.arenas, plural(s.arenas, "arena", "arenas"));
    CLAIM(s.bytes_in_use == 0 && blocks_in_pools(&s) == 0 && s.large_blocks == 0,
          "after freeing everything: %zu bytes in use, %zu pool blocks, %zu large blocks",
          s.bytes_in_use, blocks_in_pools(&s), s.large_blocks);
    CLAIM(s.arenas <= 1, "an empty heap holds %zu arenas; at most one spare was expected", s.arenas);
}

/* Section: many blocks, fragmentation, and giving memory back. */
static void show_arenas_and_fragmentation(rc_heap *h)
{
    enum { NBLOCKS = 100000, MAXSIZE = 256 };
    void **ptrs = calloc(NBLOCKS, sizeof *ptrs);
    size_t *sizes = malloc(NBLOCKS * sizeof *sizes);
    uintptr_t *scratch = malloc(NBLOCKS * sizeof *scratch);
    rc_heap_stats peak, s;
    size_t live_arenas, freed, returned;

    if (!CLAIM(ptrs && sizes && scratch, "the tour's own bookkeeping could not get memory"))
        goto out;

    printf("A long-running program allocates and frees many small objects, and free\n"
           "memory ends up scattered between live blocks (fragmentation).  The pool\n"
           "limits the damage: a freed slot serves the next request of its size class,\n"
           "and an arena whose last block is freed goes back to the system.\n\n");
    printf("  %d blocks of 1..%d bytes (pseudo-random sizes):\n", NBLOCKS, MAXSIZE);

    for (size_t i = 0; i < NBLOCKS; i++) {
        sizes[i] = 1 + next_random() % MAXSIZE;
        ptrs[i] = rc_malloc(h, sizes[i]);
        if (!CLAIM(ptrs[i] != NULL, "rc_malloc(h, %zu) returned NULL after %zu blocks", sizes[i], i))
            goto out;
        memset(ptrs[i], (int)(i & 0xff), sizes[i]);
    }
    peak = stats_of(h);
    print_heap_line("allocated them all", &peak);
    live_arenas = arenas_holding(ptrs, NBLOCKS, scratch);
    CLAIM(blocks_in_pools(&peak) == NBLOCKS,
          "the classes count %zu blocks in use, %d were allocated", blocks_in_pools(&peak), NBLOCKS);
    CLAIM(peak.arenas >= 3, "%d small blocks should need several arenas; the heap holds %zu",
          NBLOCKS, peak.arenas);
    CLAIM(live_arenas <= peak.arenas && peak.arenas <= live_arenas + 1,
          "the blocks lie in %zu arenas but the heap reports %zu held", live_arenas, peak.arenas);

    /* Free every second block: half the bytes, but spread over every pool. */
    for (size_t i = 0; i < NBLOCKS; i += 2) {
        rc_free(ptrs[i]);
        ptrs[i] = NULL;
    }
    s = stats_of(h);
    live_arenas = arenas_holding(ptrs, NBLOCKS, scratch);
    print_heap_line("freed every second one", &s);
    printf("      %zu of the %zu arenas still hold live blocks, so they cannot go back:\n"
           "      half the memory is free but scattered.  This is fragmentation.\n",
           live_arenas, s.arenas);
    CLAIM(blocks_in_pools(&s) == NBLOCKS / 2,
          "%d blocks are live, the classes count %zu", NBLOCKS / 2, blocks_in_pools(&s));
    CLAIM(live_arenas <= s.arenas && s.arenas <= live_arenas + 1,
          "the live blocks lie in %zu arenas but the heap holds %zu (empty ones beyond one spare"
          " should have gone back)", live_arenas, s.arenas);

    /* Allocate the same sizes again: the free slots must be reused. */
    for (size_t i = 0; i < NBLOCKS; i += 2) {
        ptrs[i] = rc_malloc(h, sizes[i]);
        if (!CLAIM(ptrs[i] != NULL, "rc_malloc(h, %zu) returned NULL on refill", sizes[i]))
            goto out;
    }
    s = stats_of(h);
    print_heap_line("refilled (same sizes)", &s);
    printf("      No new arena was taken (high water %zu, as before): the freed slots\n"
           "      were reused.\n", s.arenas_high_water);
    CLAIM(s.arenas_high_water == peak.arenas_high_water && s.arenas <= peak.arenas,
          "refilling freed slots took new arenas: high water %zu -> %zu, held %zu -> %zu",
          peak.arenas_high_water, s.arenas_high_water, peak.arenas, s.arenas);

    /* Free everything: the arenas empty out and go back, bar one spare. */
    for (size_t i = 0; i < NBLOCKS; i++) {
        rc_free(ptrs[i]);
        ptrs[i] = NULL;
    }
    s = stats_of(h);
    print_heap_line("freed them all", &s);
    freed = s.arenas_freed - peak.arenas_freed;
    printf("      %zu arenas went back to the system; %s.\n", freed,
           s.arenas == 1 ? "one empty arena is kept as a spare" : "no spare is kept");
    CLAIM(blocks_in_pools(&s) == 0 && s.bytes_in_use == 0,
          "after freeing every block: %zu pool blocks, %zu bytes in use",
          blocks_in_pools(&s), s.bytes_in_use);
    CLAIM(s.arenas <= 1, "after freeing every block the heap still holds %zu arenas (at most one"
          " spare expected)", s.arenas);
    CLAIM(freed + s.arenas >= peak.arenas,
          "of %zu arenas at the peak, %zu were freed and %zu are held", peak.arenas, freed, s.arenas);

    /* rc_heap_trim gives back the spare too. */
    peak = s;
    returned = rc_heap_trim(h);
    s = stats_of(h);
    print_heap_line("rc_heap_trim()", &s);
    printf("      rc_heap_trim() gave back %zu bytes: the heap holds nothing from the\n"
           "      system, as when it was new.\n", returned);
    CLAIM(returned == peak.bytes_from_os - s.bytes_from_os,
          "rc_heap_trim() returned %zu, but the bytes held went %zu -> %zu",
          returned, peak.bytes_from_os, s.bytes_from_os);
    CLAIM(s.arenas == 0 && s.pools_free == 0 && s.large_blocks == 0 && s.bytes_from_os == 0,
          "after trimming an empty heap: %zu arenas, %zu free pools, %zu large blocks,"
          " %zu bytes held from the system", s.arenas, s.pools_free, s.large_blocks,
          s.bytes_from_os);

    printf("\n  Over the chapter the heap took %zu arenas from the system (at most %zu at\n"
           "  once, %.1f MiB) and gave back %zu.\n",
           s.arenas_allocated, s.arenas_high_water, mib(s.bytes_high_water), s.arenas_freed);
    CLAIM(s.arenas_allocated == s.arenas_freed,
          "%zu arenas were taken but %zu given back", s.arenas_allocated, s.arenas_freed);

out:
    if (ptrs != NULL)
        for (size_t i = 0; i < NBLOCKS; i++)
            rc_free(ptrs[i]);
    free(scratch);
    free(sizes);
    free(ptrs);
}

static void chapter_heap_and_pool(void)
{
    rc_heap_config cfg;
    rc_heap_stats fresh;
    rc_heap *h;

    /* Pool mode explicitly: the figures below describe the pool allocator,
     * whatever RCGC_MALLOC says. */
    rc_heap_config_init(&cfg);
    cfg.mode = RC_MODE_POOL;
    h = rc_heap_new(&cfg);
    if (!CLAIM(h != NULL, "rc_heap_new() returned NULL"))
        return;
    CLAIM(rc_heap_mode(h) == RC_MODE_POOL, "the heap runs in mode %d, not pool mode",
          (int)rc_heap_mode(h));

    fresh = stats_of(h);
    printf("A heap (rc_heap_new) owns every byte it hands out; only rcgc's functions\n"
           "touch its memory.  This one runs in pool mode, as CPython's pymalloc.\n"
           "It takes memory from the system only when blocks need it: new, it holds\n"
           "%zu arenas, %zu large blocks, %zu bytes from the system.\n\n",
           fresh.arenas, fresh.large_blocks, fresh.bytes_from_os);
    CLAIM(fresh.arenas == 0 && fresh.large_blocks == 0 && fresh.bytes_from_os == 0,
          "a new heap already holds %zu arenas, %zu large blocks, %zu bytes from the system",
          fresh.arenas, fresh.large_blocks, fresh.bytes_from_os);

    printf("-- 1. Size classes: pool blocks and large blocks\n\n");
    show_size_classes(h);

    printf("\n-- 2. Many blocks: arenas, fragmentation, giving memory back\n\n");
    show_arenas_and_fragmentation(h);

    rc_heap_destroy(h);
}

/* ---- The chapters, in order ------------------------------------------- */

static const struct chapter {
    const char *title;
    void (*run)(void);
} chapters[] = {
    {"a private heap and its memory pool", chapter_heap_and_pool},
};

int main(void)
{
    size_t nchapters = sizeof chapters / sizeof chapters[0];

    printf("The rcgc tour: CPython's memory management, rebuilt in C, shown live.\n");
    for (size_t i = 0; i < nchapters; i++) {
        printf("\n========================================================================\n"
               "Chapter %zu: %s\n"
               "========================================================================\n\n",
               i + 1, chapters[i].title);
        chapters[i].run();
    }

    printf("\n");
    fflush(stdout);
    if (discrepancies != 0) {
        fprintf(stderr, "tour: %u claim(s) contradicted by the library's own figures (see \"!!\" above)\n",
                discrepancies);
        return EXIT_FAILURE;
    }
    printf("End of the tour: every figure shown agreed with the text.\n");
    return EXIT_SUCCESS;
}
