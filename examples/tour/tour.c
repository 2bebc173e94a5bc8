/*
 * The tour: a walk through the mechanisms rcgc rebuilds from CPython, one
 * chapter per mechanism, each shown with live figures from the library.
 * The chapters follow the sections of the seed article, in its order:
 *
 *   1  memory allocation: a private heap and its pool (pymalloc)
 *   2  reference counting, and its hole: reference cycles
 *   3  garbage collection: the generational cycle collector (the gc module)
 *   4  memory fragmentation
 *   5  memory optimisation: sys.getsizeof, cached objects, early release
 *   6  the worked example: __del__ at the last reference
 *
 * The tour checks its own claims.  Whenever the text says something about
 * the heap ("the arenas go back to the system"), the figures behind it are
 * compared with what the library reports; a mismatch is printed as a
 * discrepancy and the program exits with status 1, so `make demo` fails.
 *
 * The tour's own bookkeeping (arrays of pointers) uses the C library's
 * malloc, never an rcgc heap, so it does not disturb the figures shown.
 * Each chapter works in heaps of its own and destroys them at its end.
 *
 * Adding a chapter: write a `static void chapter_xxx(void)` and add it to
 * the `chapters` table at the bottom; headings are numbered from the table.
 */
#define _POSIX_C_SOURCE 200809L /* fmemopen, to read back what rc_fprint prints */

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

/* ---- Chapters 1 and 4: the private heap and its pool (seed sections 1, 4) */

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
    {
        size_t payload = 0;

        for (size_t i = 0; i < NREQ; i++) {
            if (blocks[i] == NULL || requests[i] <= RC_SMALL_MAX)
                continue;
            payload += rc_usable_size(blocks[i]);
            CLAIM(arena_base(blocks[i]) != first_arena,
                  "the large block of %zu bytes lies inside the pool arena", requests[i]);
        }
        CLAIM(s.large_bytes > payload,
              "the large blocks hold %zu bytes, no more than their %zu usable bytes: no headers",
              s.large_bytes, payload);
    }

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
    CLAIM(s.arenas_freed == peak.arenas_freed && s.bytes_from_os == peak.bytes_from_os,
          "freeing every second block gave %zu arenas back (held %zu -> %zu bytes); none can go",
          s.arenas_freed - peak.arenas_freed, peak.bytes_from_os, s.bytes_from_os);
    CLAIM(s.bytes_in_use * 5 >= peak.bytes_in_use * 2 && s.bytes_in_use * 5 <= peak.bytes_in_use * 3,
          "half the blocks freed should leave about half the bytes in use: %zu of %zu",
          s.bytes_in_use, peak.bytes_in_use);
    CLAIM(live_arenas <= s.arenas && s.arenas - s.arenas_idle <= live_arenas + 1,
          "the live blocks lie in %zu arenas but the heap holds %zu, only %zu of them idle",
          live_arenas, s.arenas, s.arenas_idle);

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

    /* A batch on top, dropped in the order it was made, then made again:
     * the arenas it emptied are kept idle (at most one per arena still in
     * use), and the regrowth reuses them instead of mapping fresh ones. */
    enum { NBATCH = NBLOCKS / 2 };
    void **batch = malloc(NBATCH * sizeof *batch);
    if (!CLAIM(batch != NULL, "out of memory for the tour's own arrays"))
        goto out;
    for (int round = 0; round < 2; round++) {
        rc_heap_stats before = stats_of(h);
        for (size_t i = 0; i < NBATCH; i++) {
            batch[i] = rc_malloc(h, sizes[i]);
            if (!CLAIM(batch[i] != NULL, "rc_malloc(h, %zu) returned NULL", sizes[i])) {
                for (size_t j = 0; j < i; j++)
                    rc_free(batch[j]);
                free(batch);
                goto out;
            }
        }
        s = stats_of(h);
        print_heap_line(round ? "made the batch again" : "a batch on top", &s);
        if (round == 1) {
            printf("      No arena was mapped for it: the idle ones were reused, no page\n"
                   "      had to be faulted in again.\n");
            CLAIM(s.arenas_allocated == before.arenas_allocated && s.arenas_idle == 0,
                  "making the batch again took %zu new arenas and left %zu idle",
                  s.arenas_allocated - before.arenas_allocated, s.arenas_idle);
        }
        for (size_t i = 0; i < NBATCH; i++)
            rc_free(batch[i]);
        s = stats_of(h);
        print_heap_line("dropped it", &s);
        if (round == 0) {
            printf("      %zu of the %zu arenas are idle, kept for reuse: the heap keeps\n"
                   "      up to one idle arena per busy one (and, for half a second, more).\n",
                   s.arenas_idle, s.arenas);
            CLAIM(s.arenas_idle > 0 && s.arenas_freed == before.arenas_freed,
                  "dropping the batch left %zu arenas idle and gave back %zu", s.arenas_idle,
                  s.arenas_freed - before.arenas_freed);
        }
    }
    free(batch);

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

/* A new heap in pool mode: the figures the chapters show describe the pool
 * allocator, whatever RCGC_MALLOC says.  NULL (and a discrepancy) on
 * failure. */
static rc_heap *new_pool_heap(void)
{
    rc_heap_config cfg;
    rc_heap *h;

    rc_heap_config_init(&cfg);
    cfg.mode = RC_MODE_POOL;
    h = rc_heap_new(&cfg);
    if (!CLAIM(h != NULL, "rc_heap_new() returned NULL"))
        return NULL;
    CLAIM(rc_heap_mode(h) == RC_MODE_POOL, "the heap runs in mode %d, not pool mode",
          (int)rc_heap_mode(h));
    return h;
}

static void chapter_heap_and_pool(void)
{
    rc_heap_stats fresh;
    rc_heap *h = new_pool_heap();

    if (h == NULL)
        return;
    fresh = stats_of(h);
    printf("A heap (rc_heap_new) owns every byte it hands out; only rcgc's functions\n"
           "touch its memory.  This one runs in pool mode, as CPython's pymalloc.\n"
           "It takes memory from the system only when blocks need it: new, it holds\n"
           "%zu arenas, %zu large blocks, %zu bytes from the system.\n\n",
           fresh.arenas, fresh.large_blocks, fresh.bytes_from_os);
    CLAIM(fresh.arenas == 0 && fresh.large_blocks == 0 && fresh.bytes_from_os == 0,
          "a new heap already holds %zu arenas, %zu large blocks, %zu bytes from the system",
          fresh.arenas, fresh.large_blocks, fresh.bytes_from_os);

    show_size_classes(h);
    rc_heap_destroy(h);
}

static void chapter_fragmentation(void)
{
    rc_heap *h = new_pool_heap();

    if (h == NULL)
        return;
    show_arenas_and_fragmentation(h);
    rc_heap_destroy(h);
}

/* ---- Helpers for the object chapters ------------------------------------ */

/* What rc_fprint prints for o (Python's repr), into buf. */
static const char *repr(const void *o, char *buf, size_t size)
{
    FILE *f = fmemopen(buf, size, "w");
    int written;

    buf[0] = '\0';
    if (f == NULL)
        return "(fmemopen failed)";
    written = rc_fprint(f, o);
    fclose(f);
    if (written < 0)
        snprintf(buf, size, "(rc_fprint failed)");
    buf[size - 1] = '\0';
    return buf;
}

/* A new list built as Python builds one by appends:
 * [first, first + 1, ..., first + n - 1].  NULL if anything fails. */
static void *list_by_appends(rc_heap *h, int64_t first, size_t n)
{
    void *l = rc_list_new(h, 0);

    for (size_t i = 0; l != NULL && i < n; i++) {
        if (rc_list_append_steal(l, rc_int_new(h, first + (int64_t)i)) != RC_OK) {
            rc_decref(l);
            l = NULL;
        }
    }
    return l;
}

/* The seed's cycle: a = {}; b = {}; a['ref'] = b; b['ref'] = a.
 * Stores new references to the two dicts; false if anything fails. */
static bool make_cycle(rc_heap *h, void **a, void **b)
{
    *a = rc_dict_new(h);
    *b = rc_dict_new(h);
    if (*a != NULL && *b != NULL && rc_dict_set_str(*a, "ref", *b) == RC_OK &&
        rc_dict_set_str(*b, "ref", *a) == RC_OK)
        return true;
    rc_decref(*a);
    rc_decref(*b);
    *a = *b = NULL;
    return false;
}

static size_t live_of(const rc_heap *h, const rc_type *t)
{
    return rc_live_objects_of(h, t);
}

static const char *yes_no(bool b)
{
    return b ? "yes" : "no";
}

/* ---- Chapter 2: reference counting (seed section 2) -------------------- */

/* A weakref callback: counts the deaths of the weakref's target. */
static void count_death(void *weakref, void *arg)
{
    (void)weakref;
    (*(unsigned *)arg)++;
}

static void show_refcount_row(const char *python, const char *c, const void *o, size_t lists)
{
    printf("    %-15s %-29s %8" PRId64 "   %5zu\n", python, c, rc_refcount(o), lists);
}

static void chapter_refcounting(void)
{
    rc_heap *h = new_pool_heap();
    unsigned deaths = 0;
    char buf[64];
    void *a, *b, *wr, *got;
    size_t live;

    if (h == NULL)
        return;
    rc_gc_disable(h);
    printf("Every object carries a reference count (CPython's ob_refcnt).  rc_incref\n"
           "adds one, rc_decref takes one away, and the rc_decref that reaches zero\n"
           "destroys the object and frees its memory there and then.  The collector\n"
           "is off in this chapter (rc_gc_disable): counting alone is at work.\n\n");

    a = list_by_appends(h, 1, 3);
    if (!CLAIM(a != NULL, "could not build the list [1, 2, 3]"))
        goto out;
    wr = rc_weakref_new(a, count_death, &deaths);
    if (!CLAIM(wr != NULL, "rc_weakref_new() returned NULL")) {
        rc_decref(a);
        goto out;
    }
    printf("    Python          rcgc                          refcount   lists alive\n");
    show_refcount_row("a = [1, 2, 3]", "rc_list_new + 3 appends", a, live_of(h, &rc_list_type));
    CLAIM(strcmp(repr(a, buf, sizeof buf), "[1, 2, 3]") == 0,
          "rc_fprint shows the list as %s, not [1, 2, 3]", buf);
    CLAIM(rc_refcount(a) == 1 && live_of(h, &rc_list_type) == 1,
          "a new list should have refcount 1 and be the one list alive: %" PRId64 ", %zu",
          rc_refcount(a), live_of(h, &rc_list_type));

    b = a;
    rc_incref(b);
    show_refcount_row("b = a", "rc_incref(a)", b, live_of(h, &rc_list_type));
    CLAIM(rc_refcount(b) == 2, "after b = a the count is %" PRId64 ", not 2", rc_refcount(b));

    rc_decref(a);
    a = NULL;
    show_refcount_row("del a", "rc_decref(a)", b, live_of(h, &rc_list_type));
    CLAIM(rc_refcount(b) == 1 && live_of(h, &rc_list_type) == 1,
          "after del a: refcount %" PRId64 " (expected 1), lists alive %zu (expected 1)",
          rc_refcount(b), live_of(h, &rc_list_type));
    got = rc_weakref_get(wr); /* a strong reference, dropped at once */
    CLAIM(got == b && deaths == 0, "before the last rc_decref the weakref should still"
          " give the list and its callback not have run (callbacks: %u)", deaths);
    rc_decref(got);

    rc_decref(b);
    b = NULL;
    printf("    %-15s %-29s %8s   %5zu\n", "del b", "rc_decref(b)", "0: freed",
           live_of(h, &rc_list_type));
    printf("  A weak reference to the list (rc_weakref_new) saw it die: its callback\n"
           "  ran inside that last rc_decref, and rc_weakref_get() now returns %s.\n",
           rc_weakref_get(wr) == NULL ? "NULL" : "the list (!)");
    CLAIM(deaths == 1 && rc_weakref_get(wr) == NULL && live_of(h, &rc_list_type) == 0,
          "after the last rc_decref: %u weakref callbacks (expected 1), %zu lists alive",
          deaths, live_of(h, &rc_list_type));
    rc_decref(wr);

    printf("\n  The hole: a reference cycle, the seed's a['ref'] = b; b['ref'] = a.\n");
    if (!CLAIM(make_cycle(h, &a, &b), "could not build the cycle of two dicts"))
        goto out;
    live = rc_live_objects(h);
    printf("    a = {}; b = {}; a['ref'] = b; b['ref'] = a\n"
           "      a is %s, refcounts %" PRId64 " and %" PRId64 ", live objects %zu\n",
           repr(a, buf, sizeof buf), rc_refcount(a), rc_refcount(b), live);
    CLAIM(strcmp(buf, "{'ref': {'ref': {...}}}") == 0, "rc_fprint shows the cycle as %s", buf);
    CLAIM(rc_refcount(a) == 2 && rc_refcount(b) == 2,
          "each dict should be held by its name and by the other dict: counts %" PRId64
          " and %" PRId64, rc_refcount(a), rc_refcount(b));
    rc_decref(a);
    rc_decref(b);
    /* Reading the counts is safe only because the dicts leak, as claimed. */
    printf("    del a; del b\n"
           "      refcounts %" PRId64 " and %" PRId64 ", live objects %zu, dicts alive %zu\n",
           rc_refcount(a), rc_refcount(b), rc_live_objects(h), live_of(h, &rc_dict_type));
    printf("  Each dict holds the other's count at 1, so neither reaches zero: both are\n"
           "  unreachable and never freed.  Counting alone leaks every cycle.\n");
    CLAIM(rc_live_objects(h) == live && live_of(h, &rc_dict_type) == 2,
          "dropping both names should free nothing: live objects %zu -> %zu, dicts alive %zu",
          live, rc_live_objects(h), live_of(h, &rc_dict_type));
    CLAIM(rc_refcount(a) == 1 && rc_refcount(b) == 1,
          "the leaked dicts should keep count 1 each: %" PRId64 " and %" PRId64,
          rc_refcount(a), rc_refcount(b));

out:
    rc_heap_destroy(h); /* takes the leaked dicts with it */
}

/* ---- Chapter 3: the cycle collector (seed section 3) ------------------- */

/* What a gc callback (rc_gc_callback_add) saw. */
struct gc_watch {
    bool verbose; /* print each START and STOP */
    size_t starts, stops, collected;
};

static void watch_gc(rc_heap *h, rc_gc_phase phase, const rc_gc_info *info, void *arg)
{
    struct gc_watch *w = arg;

    (void)h;
    if (phase == RC_GC_START) {
        w->starts++;
        if (w->verbose)
            printf("      gc callback: START generation %d\n", info->generation);
    } else {
        w->stops++;
        w->collected += info->collected;
        if (w->verbose)
            printf("      gc callback: STOP  generation %d: %zu collected, %zu uncollectable\n",
                   info->generation, info->collected, info->uncollectable);
    }
}

/* Prints a row of the generations table and checks it against the expected
 * counts and generation sizes. */
static void show_generations(rc_heap *h, const char *what, const long want_count[3],
                             const size_t want_size[3])
{
    long count[RC_GC_GENERATIONS];
    size_t size[RC_GC_GENERATIONS];

    rc_gc_get_count(h, count);
    for (int g = 0; g < RC_GC_GENERATIONS; g++)
        size[g] = rc_gc_generation_size(h, g);
    printf("    %-24s %4ld %3ld %3ld     %4zu %4zu %4zu\n", what, count[0], count[1], count[2],
           size[0], size[1], size[2]);
    CLAIM(count[0] == want_count[0] && count[1] == want_count[1] && count[2] == want_count[2] &&
              size[0] == want_size[0] && size[1] == want_size[1] && size[2] == want_size[2],
          "%s: expected counts (%ld, %ld, %ld) and generations %zu/%zu/%zu", what,
          want_count[0], want_count[1], want_count[2], want_size[0], want_size[1], want_size[2]);
}

static void collect_the_cycle(rc_heap *h, struct gc_watch *w)
{
    rc_gc_gen_stats st[RC_GC_GENERATIONS];
    void *a, *b, *key;
    size_t baseline, leaked;
    intptr_t found;

    printf("-- 1. Chapter 2's cycle, collected\n\n");
    key = rc_str_literal(h, "ref"); /* intern the key now: part of the baseline */
    rc_decref(key);
    baseline = rc_live_objects(h);
    if (!CLAIM(make_cycle(h, &a, &b), "could not build the cycle of two dicts"))
        return;
    rc_decref(a);
    rc_decref(b);
    leaked = rc_live_objects(h);
    printf("    a = {}; b = {}; a['ref'] = b; b['ref'] = a; del a; del b\n"
           "      live objects %zu -> %zu: the two dicts leak, as in chapter 2\n",
           baseline, leaked);
    CLAIM(leaked == baseline + 2, "the leaked cycle should add 2 live objects, not %zu",
          leaked - baseline);

    printf("    rc_gc_collect(h, 2), as gc.collect(), with a gc callback registered\n"
           "    (rc_gc_callback_add, as gc.callbacks):\n");
    w->verbose = true;
    found = rc_gc_collect(h, 2);
    w->verbose = false;
    rc_gc_get_stats(h, st);
    printf("    It returned %" PRIdPTR ": the two dicts.  Live objects %zu, dicts alive %zu.\n"
           "  The collector subtracts from each container's count the references held by\n"
           "  other containers; what is left is held from outside.  Both dicts are left\n"
           "  with 0, so nothing reaches them, and clearing one frees both.  The 'ref'\n"
           "  key is an interned str (immortal, not a container): not counted, not freed.\n",
           found, rc_live_objects(h), live_of(h, &rc_dict_type));
    CLAIM(found == 2, "rc_gc_collect(h, 2) returned %" PRIdPTR ", expected the 2 dicts", found);
    CLAIM(rc_live_objects(h) == baseline && live_of(h, &rc_dict_type) == 0,
          "after collecting: live objects %zu (baseline %zu), dicts alive %zu",
          rc_live_objects(h), baseline, live_of(h, &rc_dict_type));
    CLAIM(w->starts == 1 && w->stops == 1 && w->collected == 2,
          "the callback saw %zu starts, %zu stops, %zu collected (expected 1, 1, 2)",
          w->starts, w->stops, w->collected);
    CLAIM(st[2].collections == 1 && st[2].collected == 2 && st[2].uncollectable == 0,
          "rc_gc_get_stats for generation 2: %zu collections, %zu collected, %zu uncollectable",
          st[2].collections, st[2].collected, st[2].uncollectable);
    if (CLAIM(key != NULL, "rc_str_literal(h, \"ref\") returned NULL")) {
        /* the same pointer again: the key was not freed (and is immortal,
         * so reading it after the rc_decref above is safe) */
        void *again = rc_str_literal(h, "ref");

        CLAIM(again == key && rc_is_immortal(key) && rc_str_is_interned(key) &&
                  (rc_type_of(key)->flags & RC_TYPE_GC) == 0,
              "the 'ref' key should be one interned, immortal str that is no container and"
              " survives the collection");
        rc_decref(again);
    }
}

static void show_generation_moves(rc_heap *h)
{
    enum { MADE = 100, DROPPED = 40, KEPT = MADE - DROPPED };
    void *lists[MADE] = {0};
    long threshold[RC_GC_GENERATIONS];

    printf("\n-- 2. Generations and thresholds\n\n");
    rc_gc_get_threshold(h, threshold);
    printf("  rc_gc_get_threshold: (%ld, %ld, %ld).  A container starts in generation 0;\n"
           "  when container allocations minus deallocations pass %ld, generation 0 is\n"
           "  collected and its survivors move to generation 1; every %ld collections of\n"
           "  generation 0 collect generation 1 too, whose survivors move to 2.\n\n",
           threshold[0], threshold[1], threshold[2], threshold[0], threshold[1]);
    CLAIM(threshold[0] == 700 && threshold[1] == 10 && threshold[2] == 10,
          "the default thresholds should be CPython's (700, 10, 10)");

    printf("    %-24s %14s     %14s\n", "", "rc_gc_get_count", "in generation");
    printf("    %-24s %4s %3s %3s     %4s %4s %4s\n", "", "0", "1", "2", "0", "1", "2");
    show_generations(h, "after the collection", (long[]){0, 0, 0}, (size_t[]){0, 0, 0});
    for (size_t i = 0; i < MADE; i++)
        if (!CLAIM((lists[i] = rc_list_new(h, 0)) != NULL, "rc_list_new() returned NULL"))
            goto out;
    show_generations(h, "100 lists made", (long[]){MADE, 0, 0}, (size_t[]){MADE, 0, 0});
    for (size_t i = 0; i < DROPPED; i++) {
        rc_decref(lists[i]);
        lists[i] = NULL;
    }
    show_generations(h, "40 of them dropped", (long[]){KEPT, 0, 0}, (size_t[]){KEPT, 0, 0});
    rc_gc_collect(h, 0);
    show_generations(h, "rc_gc_collect(h, 0)", (long[]){0, 1, 0}, (size_t[]){0, KEPT, 0});
    rc_gc_collect(h, 1);
    show_generations(h, "rc_gc_collect(h, 1)", (long[]){0, 0, 1}, (size_t[]){0, 0, KEPT});
    rc_gc_collect(h, 2);
    show_generations(h, "rc_gc_collect(h, 2)", (long[]){0, 0, 0}, (size_t[]){0, 0, KEPT});
    printf("  The 60 live lists survived each collection and moved up: 0 -> 1 -> 2.\n");
out:
    for (size_t i = 0; i < MADE; i++)
        rc_decref(lists[i]);
}

/* n cycles of two dicts, each dropped as soon as it is made.  Returns the
 * most dicts alive at once. */
static size_t churn_cycles(rc_heap *h, size_t n)
{
    size_t peak = 0, alive;
    void *a, *b;

    for (size_t i = 0; i < n; i++) {
        if (!CLAIM(make_cycle(h, &a, &b), "could not build cycle %zu", i))
            break;
        alive = live_of(h, &rc_dict_type);
        if (alive > peak)
            peak = alive;
        rc_decref(a);
        rc_decref(b);
    }
    return peak;
}

static void show_automatic_collection(struct gc_watch *w)
{
    enum { CYCLES = 10000 };
    rc_heap *off = new_pool_heap(), *on = new_pool_heap();
    rc_gc_gen_stats st[RC_GC_GENERATIONS];
    size_t peak, after, runs = 0, collected = 0, gens[RC_GC_GENERATIONS];
    long threshold[RC_GC_GENERATIONS];
    intptr_t found;

    printf("\n-- 3. Automatic collection\n\n");
    if (off == NULL || on == NULL)
        goto out;
    printf("  %d small cycles (two dicts each, as above) made and dropped in a loop:\n", CYCLES);

    rc_gc_disable(off);
    churn_cycles(off, CYCLES);
    rc_gc_get_stats(off, st);
    printf("    collector off (rc_gc_disable): %zu dicts alive after the loop, all leaked\n",
           live_of(off, &rc_dict_type));
    CLAIM(live_of(off, &rc_dict_type) == 2 * CYCLES &&
              st[0].collections + st[1].collections + st[2].collections == 0,
          "with the collector off all %d dicts should leak and nothing be collected", 2 * CYCLES);

    *w = (struct gc_watch){0};
    if (!CLAIM(rc_gc_callback_add(on, watch_gc, w) == 0, "rc_gc_callback_add() failed"))
        goto out;
    rc_gc_get_threshold(on, threshold);
    peak = churn_cycles(on, CYCLES);
    after = live_of(on, &rc_dict_type);
    rc_gc_get_stats(on, st);
    for (int g = 0; g < RC_GC_GENERATIONS; g++) {
        runs += st[g].collections;
        collected += st[g].collected;
    }
    printf("    collector on (the default):    at most %zu dicts alive at once, %zu after\n"
           "  rc_gc_get_stats: %zu collections ran by themselves (generation 0: %zu,\n"
           "  1: %zu, 2: %zu) and freed %zu dicts; the gc callback saw all %zu.\n",
           peak, after, runs, st[0].collections, st[1].collections, st[2].collections,
           collected, w->stops);
    CLAIM(rc_gc_is_enabled(on), "a new heap's collector should be on");
    CLAIM(peak <= 2 * (size_t)threshold[0],
          "live dicts should stay bounded near threshold 0 (%ld); the peak was %zu",
          threshold[0], peak);
    CLAIM(collected + after == 2 * CYCLES && st[0].uncollectable + st[1].uncollectable +
          st[2].uncollectable == 0,
          "%zu collected + %zu alive should make the %d dicts made, with none uncollectable",
          collected, after, 2 * CYCLES);
    CLAIM(w->starts == runs && w->stops == runs && w->collected == collected,
          "the callback saw %zu starts, %zu stops, %zu collected; the stats say %zu runs, %zu",
          w->starts, w->stops, w->collected, runs, collected);
    CLAIM(st[0].collections >= (size_t)CYCLES * 2 / (size_t)threshold[0] / 2,
          "only %zu automatic collections of generation 0", st[0].collections);

    for (int g = 0; g < RC_GC_GENERATIONS; g++)
        gens[g] = rc_gc_generation_size(on, g);
    printf("  The %zu left sit in generations 0/1/2: %zu/%zu/%zu.  Recent garbage below the\n"
           "  threshold, and dicts still held by the loop (a half-built cycle) when a\n"
           "  collection ran, promoted, now garbage awaiting an older generation's turn.\n",
           after, gens[0], gens[1], gens[2]);
    CLAIM(gens[0] + gens[1] + gens[2] == after && gens[0] <= (size_t)threshold[0],
          "the generations hold %zu/%zu/%zu, not the %zu dicts alive (at most %ld young)",
          gens[0], gens[1], gens[2], after, threshold[0]);
    found = rc_gc_collect(on, 2);
    printf("  rc_gc_collect(h, 2) finds %" PRIdPTR " and leaves %zu dicts alive.\n", found,
           live_of(on, &rc_dict_type));
    CLAIM((size_t)found == after && live_of(on, &rc_dict_type) == 0,
          "a full collection found %" PRIdPTR " of the %zu dicts alive and left %zu", found, after,
          live_of(on, &rc_dict_type));
out:
    rc_heap_destroy(off);
    rc_heap_destroy(on);
}

static void chapter_collector(void)
{
    rc_heap *h = new_pool_heap();
    struct gc_watch w = {0};

    if (h == NULL)
        return;
    printf("The collector looks only at containers (lists, dicts, tuples, classes,\n"
           "instances: the objects that can refer to others), and it finds the groups\n"
           "of them that nothing outside the group refers to.\n\n");
    if (CLAIM(rc_gc_callback_add(h, watch_gc, &w) == 0, "rc_gc_callback_add() failed")) {
        collect_the_cycle(h, &w);
        show_generation_moves(h);
    }
    rc_heap_destroy(h);
    show_automatic_collection(&w);
}

/* ---- Chapter 5: memory optimisation (seed section 5) ------------------- */

/* sys.getsizeof in CPython 3.11.7 (64-bit Linux), measured on the machine
 * this tour was written on:
 *   [] 56; [1, 2, 3] 88 (literal or three appends); 1000 appends 8856;
 *   1000 28; 'hello' 54; {} 64; an instance of an empty class 56.
 * A CPython list is 56 bytes plus 8 per item slot, so its capacities were
 * (88 - 56) / 8 = 4 and (8856 - 56) / 8 = 1100.
 * Also measured there: `7 is int('7')` True, `1000 is int('1000')` False. */
enum {
    CPY_LIST_EMPTY = 56,
    CPY_LIST_3 = 88,
    CPY_LIST_1000 = 8856,
    CPY_INT_1000 = 28,
    CPY_STR_HELLO = 54,
    CPY_DICT_EMPTY = 64,
    CPY_INSTANCE = 56,
};

static void show_size_row(const char *what, const void *o, size_t cpython)
{
    size_t n = o ? rc_sizeof(o) : 0;

    printf("    %-36s %6zu   %6zu\n", what, n, cpython);
    CLAIM(o != NULL, "could not make %s", what);
    CLAIM(n <= cpython, "%s takes %zu bytes, more than CPython's %zu", what, n, cpython);
}

/* Two 8-byte types of the tour's own, one plain and one a container: what
 * their objects take is their 8 bytes plus the header, both by rc_sizeof and
 * by the size class the heap serves them from (header + body, rounded up to
 * 16 bytes: 16 for the plain one, 32 for the container). */
static void no_refs(void *obj, rc_visit_fn visit, void *arg)
{
    (void)obj;
    (void)visit;
    (void)arg;
}

static const rc_type tour_plain_type = {.name = "tour_plain", .size = 8};
static const rc_type tour_box_type = {.name = "tour_box", .size = 8, .flags = RC_TYPE_GC,
                                      .traverse = no_refs};

static void show_header_sizes(rc_heap *h)
{
    static const struct {
        const rc_type *type;
        size_t header;
    } kinds[] = {{&tour_plain_type, sizeof(rc_objhead)},
                 {&tour_box_type, sizeof(rc_objhead) + 2 * sizeof(void *)}}; /* + the GC head */

    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const rc_type *t = kinds[i].type;
        size_t want = kinds[i].header;
        size_t block = (want + t->size + RC_ALIGNMENT - 1) / RC_ALIGNMENT * RC_ALIGNMENT;
        rc_heap_stats before = stats_of(h), after;
        void *o = rc_new(h, t, 0);
        int cls;

        if (!CLAIM(o != NULL, "rc_new() of a %s returned NULL", t->name))
            continue;
        after = stats_of(h);
        cls = class_that_grew(&before, &after);
        CLAIM(rc_sizeof(o) == want + t->size,
              "rc_sizeof() of a %zu-byte %s is %zu: a header of %zu bytes, not %zu",
              t->size, t->name, rc_sizeof(o), rc_sizeof(o) - t->size, want);
        CLAIM(cls >= 0 && after.classes[cls].block_size == block,
              "a %zu-byte %s should take one %zu-byte block (a %zu-byte header); the stats"
              " say class %d", t->size, t->name, block, want, cls);
        rc_decref(o);
    }
}

static void show_sizes(rc_heap *h)
{
    void *empty = rc_list_new(h, 0), *three = list_by_appends(h, 1, 3);
    void *many = list_by_appends(h, 0, 1000), *big = rc_int_new(h, 1000);
    void *hello = rc_str_from_cstr(h, "hello"), *dict = rc_dict_new(h);
    void *cls = rc_class_new(h, "A", NULL), *inst = cls ? rc_instance_new(h, cls) : NULL;
    size_t slot = sizeof(void *);
    char what[64];

    printf("-- 1. Measuring: rc_sizeof, as sys.getsizeof\n\n");
    printf("    %-36s %6s   %6s\n", "object", "rcgc", "CPython 3.11.7");
    show_size_row("[]", empty, CPY_LIST_EMPTY);
    snprintf(what, sizeof what, "[1, 2, 3] by appends (capacity %zu)", rc_list_capacity(three));
    show_size_row(what, three, CPY_LIST_3);
    snprintf(what, sizeof what, "after 1000 appends (capacity %zu)", rc_list_capacity(many));
    show_size_row(what, many, CPY_LIST_1000);
    show_size_row("1000", big, CPY_INT_1000);
    show_size_row("'hello'", hello, CPY_STR_HELLO);
    show_size_row("{}", dict, CPY_DICT_EMPTY);
    show_size_row("A()  (an instance)", inst, CPY_INSTANCE);
    show_header_sizes(h);
    /* CPython's headers: two words (count, type), and two more (GC links)
     * for containers; rcgc's GC head is two pointers too */
    printf("  Object headers take %zu bytes (CPython %zu), %zu for containers (CPython %zu).\n"
           "  Lists over-allocate by CPython's rule: the capacities above are the ones\n"
           "  CPython's own sizes imply ((88 - 56) / 8 = 4, (8856 - 56) / 8 = 1100).\n",
           sizeof(rc_objhead), 2 * sizeof(void *), sizeof(rc_objhead) + 2 * sizeof(void *),
           4 * sizeof(void *));
    if (sizeof(void *) != 8)
        printf("  (CPython's sizes are a 64-bit build's; this one has %zu-byte pointers.)\n",
               sizeof(void *));
    if (empty && three && many) {
        CLAIM(rc_sizeof(three) == rc_sizeof(empty) + slot * rc_list_capacity(three) &&
                  rc_sizeof(many) == rc_sizeof(empty) + slot * rc_list_capacity(many),
              "a list's size should be the empty list's plus %zu bytes per slot", slot);
        CLAIM(rc_list_capacity(three) == (CPY_LIST_3 - CPY_LIST_EMPTY) / 8 &&
                  rc_list_capacity(many) == (CPY_LIST_1000 - CPY_LIST_EMPTY) / 8,
              "capacities %zu and %zu, CPython's are %d and %d", rc_list_capacity(three),
              rc_list_capacity(many), (CPY_LIST_3 - CPY_LIST_EMPTY) / 8,
              (CPY_LIST_1000 - CPY_LIST_EMPTY) / 8);
    }
    rc_decref(empty);
    rc_decref(three);
    rc_decref(many);
    rc_decref(big);
    rc_decref(hello);
    rc_decref(dict);
    rc_decref(inst);
    rc_decref(cls);
}

static void show_caches(rc_heap *h)
{
    void *s1 = rc_int_new(h, 7), *s2 = rc_int_new(h, 7);
    void *b1 = rc_int_new(h, 1000), *b2 = rc_int_new(h, 1000);
    void *t1 = rc_str_literal(h, "hello"), *t2 = rc_str_literal(h, "hello");
    size_t live;
    rc_heap_stats before, after;

    printf("\n-- 2. Caching: small ints and interned strings\n\n");
    if (!CLAIM(s1 && s2 && b1 && b2 && t1 && t2, "could not make the ints and strs"))
        goto out;
    printf("    %-30s same object: %-3s   immortal: %s\n", "rc_int_new(h, 7) twice",
           yes_no(s1 == s2), yes_no(rc_is_immortal(s1)));
    printf("    %-30s same object: %-3s   refcounts %" PRId64 " and %" PRId64 "\n",
           "rc_int_new(h, 1000) twice", yes_no(b1 == b2), rc_refcount(b1), rc_refcount(b2));
    printf("    %-30s same object: %-3s   immortal: %s\n", "rc_str_literal(h, \"hello\") x2",
           yes_no(t1 == t2), yes_no(rc_is_immortal(t1)));
    CLAIM(s1 == s2 && rc_is_immortal(s1), "7 should be one cached, immortal object");
    CLAIM(b1 != b2 && rc_refcount(b1) == 1 && rc_refcount(b2) == 1,
          "1000 is outside the cache: two objects with count 1 each were expected");
    CLAIM(t1 == t2 && rc_is_immortal(t1) && rc_str_is_interned(t1),
          "equal short literals should be one interned, immortal str");
    printf("  As in CPython, where `7 is int('7')` is True and `1000 is int('1000')`\n"
           "  False: -5..256 are cached, 257 and beyond are made afresh.\n");
    {
        static const int64_t edges[] = {-6, -5, 256, 257};

        for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
            int64_t v = edges[i];
            bool cached = v >= -5 && v <= 256;
            void *x = rc_int_new(h, v), *y = rc_int_new(h, v);

            if (CLAIM(x && y, "rc_int_new(h, %" PRId64 ") returned NULL", v))
                CLAIM((x == y && rc_is_immortal(x)) == cached && (x != y) == !cached,
                      "%" PRId64 " should %s", v,
                      cached ? "be one cached, immortal object" : "be made afresh each time");
            rc_decref(x);
            rc_decref(y);
        }
    }

    live = rc_live_objects(h);
    before = stats_of(h);
    for (int i = 0; i < 10000; i++)
        rc_decref(rc_int_new(h, 7));
    after = stats_of(h);
    printf("  10000 more rc_int_new(h, 7): live objects %zu -> %zu, bytes in use +%zu.\n",
           live, rc_live_objects(h), after.bytes_in_use - before.bytes_in_use);
    CLAIM(rc_live_objects(h) == live && after.bytes_in_use == before.bytes_in_use,
          "taking a cached int should allocate nothing");
out:
    rc_decref(s1);
    rc_decref(s2);
    rc_decref(b1);
    rc_decref(b2);
    rc_decref(t1);
    rc_decref(t2);
}

static void show_early_release(rc_heap *h)
{
    enum { N = 100000 };
    rc_gc_gen_stats st[RC_GC_GENERATIONS];
    size_t live = rc_live_objects(h);
    rc_heap_stats base = stats_of(h), s;
    char what[48];
    void *big;

    printf("\n-- 3. Dropping references early\n\n");
    big = list_by_appends(h, 1000, N);
    if (!CLAIM(big != NULL, "could not build a list of %d ints", N))
        return;
    s = stats_of(h);
    snprintf(what, sizeof what, "big = list(range(1000, %d))", 1000 + N);
    printf("    %-32s live objects +%zu, in use +%.1f MiB\n", what, rc_live_objects(h) - live, mib(s.bytes_in_use - base.bytes_in_use));
    CLAIM(rc_live_objects(h) == live + N + 1, "the list and its %d ints should be alive", N);
    rc_decref(big);
    s = stats_of(h);
    rc_gc_get_stats(h, st);
    printf("    %-32s live objects +%zu, in use +%zu bytes\n", "del big   (rc_decref(big))",
           rc_live_objects(h) - live, s.bytes_in_use - base.bytes_in_use);
    printf("  Freed inside that one call, no collection needed (%zu ran in this heap):\n"
           "  dropping the last reference early gives the memory back early.\n",
           st[0].collections + st[1].collections + st[2].collections);
    CLAIM(rc_live_objects(h) == live && s.bytes_in_use == base.bytes_in_use,
          "after del big: live objects +%zu, bytes in use +%zu", rc_live_objects(h) - live,
          s.bytes_in_use - base.bytes_in_use);
    CLAIM(st[0].collections + st[1].collections + st[2].collections == 0,
          "a collection ran; the claim was that counting alone freed the list");
}

static void chapter_optimisation(void)
{
    rc_heap *h = new_pool_heap();

    if (h == NULL)
        return;
    show_sizes(h);
    show_caches(h);
    show_early_release(h);
    rc_heap_destroy(h);
}

/* ---- Chapter 6: the worked example (seed section 6) -------------------- */

static unsigned a_deletions;  /* times A's finalizer ran */
static bool a_saw_attribute;  /* the last run found self.name still set */

/* class A: def __del__(self): print("Object A is being deleted") */
static void a_del(void *self)
{
    a_deletions++;
    a_saw_attribute = rc_instance_getattr(self, "name") != NULL;
    printf("      Object A is being deleted\n");
}

static void chapter_finalizer(void)
{
    rc_heap *h = new_pool_heap();
    void *cls = NULL, *a, *b;
    unsigned before, after;
    intptr_t found;

    if (h == NULL)
        return;
    printf("    class A:                                  A = rc_class_new(h, \"A\", a_del)\n"
           "        def __del__(self):                    where a_del prints the message\n"
           "            print(\"Object A is being deleted\")\n\n");
    cls = rc_class_new(h, "A", a_del);
    a = cls ? rc_instance_new(h, cls) : NULL;
    if (!CLAIM(a != NULL, "could not make the class A and an instance"))
        goto out;
    CLAIM(rc_instance_setattr(a, "name", rc_str_literal(h, "a")) == RC_OK,
          "could not set a.name");
    printf("    a = A()    rc_instance_new   refcount %" PRId64 "\n", rc_refcount(a));
    b = a;
    rc_incref(b);
    printf("    b = a      rc_incref         refcount %" PRId64 "\n", rc_refcount(b));
    rc_decref(a);
    printf("    del a      rc_decref         refcount %" PRId64 "   (nothing printed)\n",
           rc_refcount(b));
    CLAIM(a_deletions == 0, "the finalizer ran before the last reference went");

    printf("    del b      rc_decref:\n");
    before = a_deletions;
    printf("      >> before rc_decref(b)\n");
    rc_decref(b);
    after = a_deletions;
    printf("      >> after rc_decref(b)\n");
    printf("  The message came inside the last rc_decref, not before, not later: the\n"
           "  finalizer ran %u %s, saw the instance whole (self.name still set), and\n"
           "  then the instance was freed (instances alive: %zu).\n",
           after - before, plural(after - before, "time", "times"), live_of(h, &rc_instance_type));
    CLAIM(before == 0 && after == 1, "the finalizer should run exactly once, inside the last"
          " rc_decref: %u runs before it, %u after", before, after);
    CLAIM(a_saw_attribute, "the finalizer found self.name already gone");
    CLAIM(live_of(h, &rc_instance_type) == 0, "the instance outlived its last reference");

    printf("\n  In a cycle the count never reaches zero; the collector runs __del__:\n");
    a = rc_instance_new(h, cls);
    if (!CLAIM(a != NULL, "rc_instance_new() returned NULL"))
        goto out;
    CLAIM(rc_instance_setattr(a, "name", a) == RC_OK, "could not set a.name = a");
    rc_decref(a);
    printf("    a = A(); a.name = a; del a       (nothing printed)\n");
    CLAIM(a_deletions == 1 && live_of(h, &rc_instance_type) == 1,
          "the instance in a cycle should be alive and unfinalized");
    before = a_deletions;
    printf("      >> before rc_gc_collect(h, 2)\n");
    found = rc_gc_collect(h, 2);
    after = a_deletions;
    printf("      >> after: it found %" PRIdPTR " unreachable (the instance and its dict)\n",
           found);
    CLAIM(before == 1 && after == 2 && found == 2 && live_of(h, &rc_instance_type) == 0,
          "the collection should run the finalizer once and free the instance and its dict:"
          " runs %u -> %u, found %" PRIdPTR ", instances alive %zu", before, after, found,
          live_of(h, &rc_instance_type));
out:
    rc_decref(cls);
    rc_heap_destroy(h);
}

/* ---- The chapters, in order ------------------------------------------- */

static const struct chapter {
    const char *title;
    void (*run)(void);
} chapters[] = {
    {"memory allocation: a private heap and its pool", chapter_heap_and_pool},
    {"reference counting, and its hole", chapter_refcounting},
    {"garbage collection: the generational cycle collector", chapter_collector},
    {"memory fragmentation", chapter_fragmentation},
    {"memory optimisation", chapter_optimisation},
    {"the worked example: __del__ at the last reference", chapter_finalizer},
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
