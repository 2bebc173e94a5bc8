/*
 * bench/model/churn_coalescing.c — how much memory a coalescing heap with
 * per-size caches in front (glibc's design) would need on churn W=1K, and
 * how often its caches would miss: a model, not a benchmark (no allocator
 * runs).
 *
 * Why it exists: the allocator (foundation) issue asks churn W=1K for a
 * peak RSS no worse than glibc's and a speed no worse than the fastest
 * peer's.  churn_units.c, beside this file, found that no class-segregated
 * heap meets both: the per-class caches that keep its slow path within
 * the estimated budget of about 1.4 ns per step pin 90-130 KiB more than
 * glibc's heap (docs/allocator.md, "Small heaps and 32 classes").  The
 * heap that docs/allocator.md names as the one that would close the gap
 * is a coalescing heap, in which blocks of every size share memory.  This
 * program asks whether such a heap can stay at glibc's memory once it has
 * caches large enough for that budget.
 *
 * What it models: the exact inputs of alloc_bench's churn W=1K (the same
 * generator, ../alloc_bench_input.h, with the default seed: 1,000 live
 * blocks of 8..512 bytes; each step frees a random one, then allocates one
 * of random size into its slot) replayed against a heap of chunks in one
 * region that grows at its top, as glibc's main arena grows with sbrk:
 *
 *   - a chunk is its block and a header of H bytes, rounded up to 16
 *     bytes, at least 32: H = 8 is glibc's chunk on 64 bits (the payload
 *     overlaps the next chunk's prev_size field), H = 16 a 16-byte header
 *     in front of a 16-byte-aligned block;
 *   - a free chunk merges at once with a free neighbour on either side,
 *     and with the top when it ends there (boundary tags; the top shrinks);
 *   - a request takes, by POLICY, the smallest free chunk that fits (best
 *     fit, the lowest on ties; glibc's bins approximate it) or the
 *     lowest one that fits (address-ordered first fit), and splits it,
 *     the block at the low end, unless the rest would be under 32 bytes
 *     (then the block gets the whole chunk); with none, it extends the top;
 *   - in front, per chunk size (16-byte steps, as glibc's tcache), a LIFO
 *     cache of up to K freed chunks: a free into a cache with room and a
 *     malloc from a non-empty one do not touch the heap; the cached chunks
 *     stay in use as far as the heap is concerned (they do not coalesce).
 *     A malloc from an empty cache (a miss) and a free into a full one (an
 *     overflow) each take the heap's slow path.  glibc's fastbins are not
 *     modelled.
 *
 * Nothing is given back to the OS and the model touches every chunk it
 * hands out, so its memory is the top's high-water mark ("peak").  The
 * cost is estimated from the slow-path events: 20 to 40 ns each (a best
 * fit search, a split, coalescing with the neighbours) gives the "extra
 * ns" per step, against the budget of about 1.4 ns per step.
 *
 * Validated against the real glibc 2.36 on the same inputs
 * (churn_glibc_replay.c; GLIBC_TUNABLES sets tcache_count, and mxfast=0
 * turns the fastbins off): with fastbins off, glibc's top high-water mark
 * is within 1% of this model's best fit with H = 8 at every tcache_count
 * tried (K = 0, 4, 7, 8, 16, 32: 305.2, 331.3, 348.0, 353.4, 393.9, 450.7
 * KiB against 305.7, 330.6, 345.4, 352.0, 393.2, 454.8).  glibc as it
 * comes (7 per size, fastbins on) reaches 364.8 KiB.
 *
 * What it found (2026-12-07, 20M steps, bench/model/sweep_coalescing.sh):
 * best fit, H = 8: peak 306 KiB with no caches (K = 0, every malloc and
 * every free on the slow path), 345 at K = 7 (0.102 misses and as many
 * overflows per step: 4.1-8.2 ns), 352 at K = 8 (3.5-6.9 ns), 364 at
 * K = 10 (2.5-5.1 ns).  So the peak stays under glibc's 365 KiB only with
 * K <= 10 (under 355 with K <= 8), and the budget needs K >= 14 (0.035
 * misses per step: 1.4-2.8 ns), where the peak is 384 KiB or more (393 at
 * K = 16, 455 at K = 32).  H = 16 adds 8-20 KiB, first fit 12-23.  As
 * with class-segregated units, the peak follows what the caches hold (88
 * KiB at most at K = 14): a coalescing heap keeps glibc's memory only with
 * caches too small to be fast.
 *
 * How to run it (built with the benchmarks as build/bench/churn_coalescing):
 *
 *   churn_coalescing [--check=N] POLICY H K [STEPS [SEED]]
 *   bench/model/sweep_coalescing.sh [BUILD_DIR [STEPS]]   the table in docs/allocator.md
 *
 * (See usage() below.)  Each run prints one line of key=value pairs; a run
 * of 20M steps takes about a second.  --check=N walks the whole heap every
 * N steps and stops with a message if any invariant is broken (--check=997
 * over 20M steps adds half a second).
 */
#define MODEL_PROGRAM "churn_coalescing"
#include "churn_model.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the workload and the heap's units ---------------------------------- */


/* The heap is counted in granules of 16 bytes: chunk sizes and addresses
 * are multiples of it. */
#define GRANULE 16u
/* The smallest chunk (glibc's MINSIZE on 64 bits): a smaller rest of a
 * split stays with the block. */
#define MIN_CHUNK_GRANULES 2u
#define MODEL_GRANULES ((uint32_t)(MODEL_MEMORY / GRANULE))

/* A chunk of the largest request (MAX_SIZE bytes and a 16-byte header),
 * plus the granule it may get when a split's rest is too small. */
#define MAX_CHUNK_GRANULES ((MAX_SIZE + 16u) / GRANULE + 1u)
/* Caches exist for chunk sizes 0 .. CACHE_SIZES - 1 (in granules); the
 * churn's chunks are all below. */
#define CACHE_SIZES (MAX_CHUNK_GRANULES + 1u)
/* More than churn W=1K's 1,000 live blocks could ever fill. */
#define MAX_CACHE_BLOCKS 4096u

/* The assumed cost of one slow-path event (a miss or an overflow), ns. */
#define SLOW_EVENT_NS_LOW 20.0
#define SLOW_EVENT_NS_HIGH 40.0

/* No chunk: the end of a list, a search that found nothing. */
#define NO_CHUNK UINT32_MAX
#define WORD_BITS 64u

typedef enum fit_policy { BEST_FIT, FIRST_FIT } fit_policy;


/* ---- the heap ------------------------------------------------------------
 * Chunks tile [0, top) exactly; above the top is never-used memory.  Each
 * array below is indexed by granule, and only the named granules of a
 * chunk hold meaningful values. */

typedef struct heap {
    fit_policy policy;
    uint32_t *size;      /* at a chunk's first granule: its size in granules */
    uint8_t *is_free;    /* at a chunk's first granule */
    uint32_t *end_tag;   /* at a free chunk's last granule: its first + 1; else 0 */
    uint32_t top;        /* the first granule of the top (never-used memory) */
    uint32_t high_water; /* the top's highest */
    size_t free_chunks;

    /* Best fit: the free chunks of each size, in address order (linked
     * through their first granules), and a bitmap of the sizes that have
     * any, with a summary bit per bitmap word. */
    uint32_t *size_list; /* by size: the lowest free chunk, or NO_CHUNK */
    uint32_t *next;
    uint32_t *prev;
    uint64_t *size_bits;
    uint64_t *size_word_bits;

    /* First fit: a complete binary tree over the granules whose leaves hold
     * the size of the free chunk starting there (else 0) and whose inner
     * nodes hold the larger of their children's: tree[1] is the root, the
     * leaf of granule g is tree[MODEL_GRANULES + g]. */
    uint32_t *tree;

    uint64_t splits;    /* a free chunk was split */
    uint64_t top_grows; /* a request extended the top */
} heap;

#define SIZE_WORDS (MODEL_GRANULES / WORD_BITS)
#define SIZE_SUMMARY_WORDS (SIZE_WORDS / WORD_BITS)

static void heap_init(heap *h, fit_policy policy)
{
    memset(h, 0, sizeof *h);
    h->policy = policy;
    h->size = alloc_or_die(MODEL_GRANULES, sizeof *h->size);
    h->is_free = alloc_or_die(MODEL_GRANULES, sizeof *h->is_free);
    h->end_tag = alloc_or_die(MODEL_GRANULES, sizeof *h->end_tag);
    h->size_list = alloc_or_die(MODEL_GRANULES, sizeof *h->size_list);
    h->next = alloc_or_die(MODEL_GRANULES, sizeof *h->next);
    h->prev = alloc_or_die(MODEL_GRANULES, sizeof *h->prev);
    h->size_bits = alloc_or_die(SIZE_WORDS, sizeof *h->size_bits);
    h->size_word_bits = alloc_or_die(SIZE_SUMMARY_WORDS, sizeof *h->size_word_bits);
    h->tree = alloc_or_die(2 * (size_t)MODEL_GRANULES, sizeof *h->tree);
    for (uint32_t s = 0; s < MODEL_GRANULES; s++)
        h->size_list[s] = NO_CHUNK;
}

static void heap_done(heap *h)
{
    free(h->size);
    free(h->is_free);
    free(h->end_tag);
    free(h->size_list);
    free(h->next);
    free(h->prev);
    free(h->size_bits);
    free(h->size_word_bits);
    free(h->tree);
}

/* -- the best-fit index -- */

static void size_bit_set(heap *h, uint32_t size)
{
    uint32_t word = size / WORD_BITS;
    h->size_bits[word] |= 1ull << (size % WORD_BITS);
    h->size_word_bits[word / WORD_BITS] |= 1ull << (word % WORD_BITS);
}

static void size_bit_clear(heap *h, uint32_t size)
{
    uint32_t word = size / WORD_BITS;
    h->size_bits[word] &= ~(1ull << (size % WORD_BITS));
    if (h->size_bits[word] == 0)
        h->size_word_bits[word / WORD_BITS] &= ~(1ull << (word % WORD_BITS));
}

/* The bits of `bits` at positions `from` and above (from < WORD_BITS). */
static uint64_t bits_from(uint64_t bits, uint32_t from) { return bits & (~0ull << from); }

/* The smallest size >= n that has a free chunk, or NO_CHUNK. */
static uint32_t size_at_least(const heap *h, uint32_t n)
{
    uint32_t word = n / WORD_BITS;
    uint64_t bits = bits_from(h->size_bits[word], n % WORD_BITS);
    if (bits != 0)
        return word * WORD_BITS + (uint32_t)__builtin_ctzll(bits);
    /* The next bitmap word with a bit, from the summary. */
    uint32_t first_word = word + 1;
    for (uint32_t sw = first_word / WORD_BITS; sw < SIZE_SUMMARY_WORDS; sw++) {
        uint64_t words = h->size_word_bits[sw];
        if (sw == first_word / WORD_BITS)
            words = bits_from(words, first_word % WORD_BITS);
        if (words == 0)
            continue;
        uint32_t w = sw * WORD_BITS + (uint32_t)__builtin_ctzll(words);
        return w * WORD_BITS + (uint32_t)__builtin_ctzll(h->size_bits[w]);
    }
    return NO_CHUNK;
}

/* Into its size's list, in address order. */
static void size_list_insert(heap *h, uint32_t chunk, uint32_t size)
{
    uint32_t before = NO_CHUNK;
    uint32_t after = h->size_list[size];
    while (after != NO_CHUNK && after < chunk) {
        before = after;
        after = h->next[after];
    }
    h->prev[chunk] = before;
    h->next[chunk] = after;
    if (before == NO_CHUNK)
        h->size_list[size] = chunk;
    else
        h->next[before] = chunk;
    if (after != NO_CHUNK)
        h->prev[after] = chunk;
    size_bit_set(h, size);
}

static void size_list_remove(heap *h, uint32_t chunk, uint32_t size)
{
    uint32_t before = h->prev[chunk];
    uint32_t after = h->next[chunk];
    if (before == NO_CHUNK)
        h->size_list[size] = after;
    else
        h->next[before] = after;
    if (after != NO_CHUNK)
        h->prev[after] = before;
    if (h->size_list[size] == NO_CHUNK)
        size_bit_clear(h, size);
}

/* The smallest free chunk of at least n granules, the lowest of its size. */
static uint32_t best_fit(const heap *h, uint32_t n)
{
    uint32_t size = size_at_least(h, n);
    return size == NO_CHUNK ? NO_CHUNK : h->size_list[size];
}

/* -- the first-fit index -- */

static uint32_t max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }

static void tree_set(heap *h, uint32_t chunk, uint32_t size)
{
    uint32_t node = MODEL_GRANULES + chunk;
    h->tree[node] = size;
    for (node /= 2; node >= 1; node /= 2)
        h->tree[node] = max_u32(h->tree[2 * node], h->tree[2 * node + 1]);
}

/* The lowest free chunk of at least n granules. */
static uint32_t first_fit(const heap *h, uint32_t n)
{
    if (h->tree[1] < n)
        return NO_CHUNK;
    uint32_t node = 1;
    while (node < MODEL_GRANULES) {
        uint32_t left = 2 * node;
        node = h->tree[left] >= n ? left : left + 1;
    }
    return node - MODEL_GRANULES;
}

/* -- chunks -- */

/* Chunk [chunk, chunk + size) becomes free: both indexes and its tags. */
static void free_chunk_add(heap *h, uint32_t chunk, uint32_t size)
{
    h->size[chunk] = size;
    h->is_free[chunk] = 1;
    h->end_tag[chunk + size - 1] = chunk + 1;
    h->free_chunks++;
    size_list_insert(h, chunk, size);
    tree_set(h, chunk, size);
}

/* Free chunk `chunk` stops being one (taken or merged). */
static void free_chunk_remove(heap *h, uint32_t chunk)
{
    uint32_t size = h->size[chunk];
    h->is_free[chunk] = 0;
    h->end_tag[chunk + size - 1] = 0;
    h->free_chunks--;
    size_list_remove(h, chunk, size);
    tree_set(h, chunk, 0);
}

/* A chunk of n granules: from a free chunk by the policy, split if the
 * rest makes a chunk, else from the top. */
static uint32_t heap_malloc(heap *h, uint32_t n)
{
    uint32_t chunk = h->policy == BEST_FIT ? best_fit(h, n) : first_fit(h, n);
    if (chunk != NO_CHUNK) {
        uint32_t size = h->size[chunk];
        free_chunk_remove(h, chunk);
        uint32_t rest = size - n;
        if (rest >= MIN_CHUNK_GRANULES) {
            h->size[chunk] = n;
            free_chunk_add(h, chunk + n, rest);
            h->splits++;
        }
        return chunk;
    }
    if (n > MODEL_GRANULES - h->top)
        out_of_model_memory();
    chunk = h->top;
    h->top += n;
    if (h->top > h->high_water)
        h->high_water = h->top;
    h->size[chunk] = n;
    h->is_free[chunk] = 0;
    h->top_grows++;
    return chunk;
}

/* The chunk is free again: merged with a free neighbour on either side,
 * then given to the top if it ends there. */
static void heap_free(heap *h, uint32_t chunk)
{
    uint32_t start = chunk;
    uint32_t end = chunk + h->size[chunk];
    if (end < h->top && h->is_free[end]) {
        uint32_t next_chunk = end;
        end += h->size[next_chunk];
        free_chunk_remove(h, next_chunk);
    }
    if (start > 0 && h->end_tag[start - 1] != 0) {
        uint32_t prev_chunk = h->end_tag[start - 1] - 1;
        free_chunk_remove(h, prev_chunk);
        start = prev_chunk;
    }
    if (end == h->top) {
        h->top = start;
        return;
    }
    free_chunk_add(h, start, end - start);
}

/* ---- the caches in front ------------------------------------------------- */

typedef struct cached_heap {
    heap heap;
    unsigned header;              /* H, bytes */
    unsigned capacity;            /* K, chunks per size */
    uint32_t *cache[CACHE_SIZES]; /* LIFO of chunks of that size */
    unsigned cached[CACHE_SIZES];
    uint64_t cached_granules;
    uint64_t max_cached_granules;
    uint64_t misses;
    uint64_t overflows;
} cached_heap;

static uint32_t round_up(uint32_t n, uint32_t to) { return (n + to - 1) / to * to; }

/* The chunk for a request, in granules. */
static uint32_t chunk_granules(const cached_heap *ch, unsigned request)
{
    uint32_t bytes = round_up(request + ch->header, GRANULE);
    if (bytes < MIN_CHUNK_GRANULES * GRANULE)
        bytes = MIN_CHUNK_GRANULES * GRANULE;
    return bytes / GRANULE;
}

static uint32_t cached_malloc(cached_heap *ch, unsigned request)
{
    uint32_t n = chunk_granules(ch, request);
    if (ch->cached[n] > 0) {
        uint32_t chunk = ch->cache[n][--ch->cached[n]];
        ch->cached_granules -= n;
        return chunk;
    }
    ch->misses++;
    return heap_malloc(&ch->heap, n);
}

/* The cache is that of the chunk's size, which can be a granule more than
 * its request's (a split's rest too small to keep), as in glibc. */
static void cached_free(cached_heap *ch, uint32_t chunk)
{
    uint32_t size = ch->heap.size[chunk];
    if (size < CACHE_SIZES && ch->cached[size] < ch->capacity) {
        ch->cache[size][ch->cached[size]++] = chunk;
        ch->cached_granules += size;
        if (ch->cached_granules > ch->max_cached_granules)
            ch->max_cached_granules = ch->cached_granules;
        return;
    }
    ch->overflows++;
    heap_free(&ch->heap, chunk);
}

static void cached_heap_init(cached_heap *ch, fit_policy policy, unsigned header, unsigned capacity)
{
    memset(ch, 0, sizeof *ch);
    heap_init(&ch->heap, policy);
    ch->header = header;
    ch->capacity = capacity;
    /* + 1: calloc(0) may give NULL. */
    for (uint32_t s = 0; s < CACHE_SIZES; s++)
        ch->cache[s] = alloc_or_die(capacity + 1, sizeof *ch->cache[s]);
}

static void cached_heap_done(cached_heap *ch)
{
    for (uint32_t s = 0; s < CACHE_SIZES; s++)
        free(ch->cache[s]);
    heap_done(&ch->heap);
}

/* ---- the self-check (--check=N) -------------------------------------------
 * A walk of the whole heap: chunks tile [0, top); no two free chunks are
 * neighbours and none ends at the top; the tags, both indexes and the
 * count of free chunks agree with the walk; the chunks in use are exactly
 * the live blocks and the cached ones, each once and of its size. */

static _Noreturn void check_failed(const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    fputs("churn_coalescing: check failed: ", stderr);
    vfprintf(stderr, format, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

typedef struct checker {
    uint32_t *seen; /* at a chunk in use's first granule: the walk number, once claimed + 1 */
    uint32_t walk;  /* this walk's number, counting by 2 */
} checker;

/* The size lists hold exactly the free chunks: each listed chunk is free
 * and of its list's size, each list is in strict address order (so no
 * chunk is listed twice), and the count is right.  A bitmap bit is set
 * exactly for the non-empty lists (a list whose bit is clear would be
 * missing from the count).  The first-fit leaves up to the high water
 * hold the free chunks' sizes, and the root the largest. */
static void check_indexes(const heap *h)
{
    size_t listed = 0;
    for (uint32_t w = 0; w < SIZE_WORDS; w++) {
        uint64_t summary_bit = h->size_word_bits[w / WORD_BITS] >> (w % WORD_BITS) & 1;
        if ((h->size_bits[w] != 0) != (summary_bit != 0))
            check_failed("size bitmap word %u and its summary bit disagree", w);
        if (h->size_bits[w] == 0)
            continue;
        for (uint32_t b = 0; b < WORD_BITS; b++) {
            uint32_t size = w * WORD_BITS + b;
            int has_bit = (int)(h->size_bits[w] >> b & 1);
            if (has_bit != (h->size_list[size] != NO_CHUNK))
                check_failed("size %u: bit %d and list disagree", size, has_bit);
            uint32_t before = NO_CHUNK;
            for (uint32_t c = h->size_list[size]; c != NO_CHUNK; c = h->next[c]) {
                if (!h->is_free[c] || h->size[c] != size || h->prev[c] != before)
                    check_failed("chunk %u on the list of size %u", c, size);
                if (before != NO_CHUNK && before >= c)
                    check_failed("the list of size %u is not in address order", size);
                before = c;
                listed++;
            }
        }
    }
    if (listed != h->free_chunks)
        check_failed("%zu chunks on the size lists, %zu free", listed, h->free_chunks);
    uint32_t largest = 0;
    for (uint32_t c = 0; c < h->high_water; c++) {
        uint32_t leaf = h->tree[MODEL_GRANULES + c];
        if (leaf != 0 && (c >= h->top || !h->is_free[c] || leaf != h->size[c]))
            check_failed("first-fit leaf of granule %u", c);
        largest = max_u32(largest, leaf);
    }
    if (h->tree[1] != largest)
        check_failed("first-fit root %u, largest free chunk %u", h->tree[1], largest);
}

/* A chunk in use that the walk found, claimed once by a live block or a
 * cache, and of at least n granules. */
static void check_claim(checker *ck, const heap *h, uint32_t chunk, uint32_t n, const char *by)
{
    if (chunk >= h->top || ck->seen[chunk] != ck->walk)
        check_failed("%s holds %u, not a chunk in use (or claimed twice)", by, chunk);
    if (h->size[chunk] < n)
        check_failed("%s holds %u, of %u granules, under %u", by, chunk, h->size[chunk], n);
    ck->seen[chunk] = ck->walk + 1;
}

static void check(checker *ck, const cached_heap *ch, const uint32_t *block, const uint16_t *request,
                  size_t live)
{
    const heap *h = &ch->heap;
    ck->walk += 2;
    size_t free_seen = 0;
    size_t used_seen = 0;
    int prev_free = 0;
    uint32_t c = 0;
    while (c < h->top) {
        uint32_t size = h->size[c];
        if (size < MIN_CHUNK_GRANULES || size > h->top - c)
            check_failed("chunk %u has size %u (top %u)", c, size, h->top);
        uint32_t tag = h->end_tag[c + size - 1];
        uint32_t leaf = h->tree[MODEL_GRANULES + c];
        if (leaf != (h->is_free[c] ? size : 0))
            check_failed("chunk %u: first-fit leaf %u", c, leaf);
        if (h->is_free[c]) {
            if (prev_free)
                check_failed("free chunk %u follows a free chunk", c);
            if (tag != c + 1)
                check_failed("free chunk %u: end tag %u", c, tag);
            free_seen++;
        } else {
            if (tag != 0)
                check_failed("chunk %u in use: end tag %u", c, tag);
            ck->seen[c] = ck->walk;
            used_seen++;
        }
        prev_free = h->is_free[c];
        c += size;
    }
    if (prev_free)
        check_failed("a free chunk ends at the top");
    if (free_seen != h->free_chunks)
        check_failed("%zu free chunks walked, %zu counted", free_seen, h->free_chunks);
    check_indexes(h);
    size_t cached = 0;
    for (uint32_t s = 0; s < CACHE_SIZES; s++) {
        for (unsigned i = 0; i < ch->cached[s]; i++)
            check_claim(ck, h, ch->cache[s][i], s, "a cache");
        cached += ch->cached[s];
    }
    for (size_t i = 0; i < live; i++)
        check_claim(ck, h, block[i], chunk_granules(ch, request[i]), "a live slot");
    if (used_seen != live + cached)
        check_failed("%zu chunks in use, %zu live and %zu cached", used_seen, live, cached);
}

/* ---- the replay ---------------------------------------------------------- */

/* What a run reports besides the heap's and the caches' own counts; the
 * event counts are those of the steps only. */
typedef struct run_result {
    uint32_t fill_high_water;   /* granules, after the fill */
    size_t last_growth_step;    /* the step that last raised the high water (0: none) */
    uint64_t max_live_granules; /* the live blocks' chunks, at their highest */
    size_t max_free_chunks;     /* over the steps */
    uint64_t misses;
    uint64_t overflows;
    uint64_t splits;
    uint64_t top_grows;
} run_result;

/* alloc_bench's fill_ and loop_churn_: W blocks, then free a victim and
 * allocate into its slot at each step.  check_every: 0, or a walk of the
 * heap after the fill and every that many steps. */
static void replay(cached_heap *ch, const churn_input *in, size_t check_every, run_result *res)
{
    heap *h = &ch->heap;
    uint32_t *block = alloc_or_die(in->live, sizeof *block);
    uint16_t *request = alloc_or_die(in->live, sizeof *request);
    checker ck = {0};
    if (check_every > 0)
        ck.seen = alloc_or_die(MODEL_GRANULES, sizeof *ck.seen);

    uint64_t live_granules = 0;
    for (size_t i = 0; i < in->live; i++) {
        block[i] = cached_malloc(ch, in->size[i]);
        request[i] = in->size[i];
        live_granules += h->size[block[i]];
    }
    if (check_every > 0)
        check(&ck, ch, block, request, in->live);
    res->fill_high_water = h->high_water;
    res->max_live_granules = live_granules;
    /* The per-step rates count the steps only. */
    uint64_t misses0 = ch->misses;
    uint64_t overflows0 = ch->overflows;
    uint64_t splits0 = h->splits;
    uint64_t top_grows0 = h->top_grows;

    const uint16_t *size = in->size + in->live; /* after the fill's */
    size_t step = 0;
    size_t left = in->steps;
    while (left > 0) {
        size_t n = left < in->ring ? left : in->ring;
        for (size_t s = 0; s < n; s++) {
            uint32_t v = in->victim[s];
            uint32_t high_water = h->high_water;
            live_granules -= h->size[block[v]];
            cached_free(ch, block[v]);
            block[v] = cached_malloc(ch, size[s]);
            request[v] = size[s];
            live_granules += h->size[block[v]];
            if (live_granules > res->max_live_granules)
                res->max_live_granules = live_granules;
            if (h->high_water != high_water)
                res->last_growth_step = step;
            if (h->free_chunks > res->max_free_chunks)
                res->max_free_chunks = h->free_chunks;
            if (check_every > 0 && step % check_every == 0)
                check(&ck, ch, block, request, in->live);
            step++;
        }
        left -= n;
    }
    res->misses = ch->misses - misses0;
    res->overflows = ch->overflows - overflows0;
    res->splits = h->splits - splits0;
    res->top_grows = h->top_grows - top_grows0;
    free(ck.seen);
    free(block);
    free(request);
}

static double granules_kib(uint64_t granules) { return (double)granules * GRANULE / 1024.0; }

static void run(const churn_input *in, fit_policy policy, unsigned header, unsigned capacity,
                size_t check_every)
{
    cached_heap *ch = alloc_or_die(1, sizeof *ch);
    cached_heap_init(ch, policy, header, capacity);
    run_result res = {0};
    replay(ch, in, check_every, &res);
    double steps = (double)in->steps;
    double slow_per_step = (double)(res.misses + res.overflows) / steps;
    printf("COALESCING policy=%s H=%u K=%u steps=%zu peak=%.1f KiB fill_peak=%.1f KiB"
           " last_growth_step=%zu max_live=%.1f KiB max_cached=%.1f KiB miss/step=%.4f"
           " over/step=%.4f extra_ns=%.2f..%.2f max_free_chunks=%zu split/step=%.4f"
           " top/step=%.5f checked_every=%zu\n",
           policy == BEST_FIT ? "best" : "first", header, capacity, in->steps,
           granules_kib(ch->heap.high_water), granules_kib(res.fill_high_water), res.last_growth_step,
           granules_kib(res.max_live_granules), granules_kib(ch->max_cached_granules),
           (double)res.misses / steps, (double)res.overflows / steps, slow_per_step * SLOW_EVENT_NS_LOW,
           slow_per_step * SLOW_EVENT_NS_HIGH, res.max_free_chunks, (double)res.splits / steps,
           (double)res.top_grows / steps, check_every);
    cached_heap_done(ch);
    free(ch);
}

/* ---- arguments ----------------------------------------------------------- */

static _Noreturn void usage(void)
{
    fprintf(stderr,
            "usage: churn_coalescing [--check=N] POLICY H K [STEPS [SEED]]\n"
            "  POLICY     best: the smallest free chunk that fits (the lowest on ties);\n"
            "             first: the lowest free chunk that fits\n"
            "  H          chunk header bytes, 8 (glibc's) or 16\n"
            "  K          freed chunks each chunk size caches (0..%u)\n"
            "  STEPS      churn steps after the fill of %u blocks (default %u)\n"
            "  SEED       the inputs' seed, not 0 (default 0x%llx, alloc_bench's)\n"
            "  --check=N  walk and check the whole heap every N steps\n",
            MAX_CACHE_BLOCKS, BENCH_DEFAULT_LIVE, BENCH_DEFAULT_STEPS, (unsigned long long)BENCH_DEFAULT_SEED);
    exit(2);
}

static _Noreturn void bad_arguments(const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    fputs("churn_coalescing: ", stderr);
    vfprintf(stderr, format, ap);
    fputc('\n', stderr);
    va_end(ap);
    usage();
}

/* A number (decimal, or 0x hexadecimal), nothing after it. */
static unsigned long long parse_number(const char *s, const char *what)
{
    char *stop = NULL;
    if (*s < '0' || *s > '9')
        bad_arguments("%s, not '%s'", what, s);
    int hexadecimal = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    unsigned long long v = strtoull(s, &stop, hexadecimal ? 16 : 10);
    if (*stop != '\0')
        bad_arguments("%s, not '%s'", what, s);
    return v;
}

int main(int argc, char **argv)
{
    const char *check_option = "--check=";
    size_t check_every = 0;
    int first = 1;
    if (argc > 1 && strncmp(argv[1], check_option, strlen(check_option)) == 0) {
        const char *what = "--check=N needs a number of steps, at least 1";
        check_every = (size_t)parse_number(argv[1] + strlen(check_option), what);
        if (check_every == 0)
            bad_arguments("%s", what);
        first = 2;
    }
    int nargs = argc - first;
    if (nargs < 3)
        usage();
    if (nargs > 5)
        bad_arguments("too many arguments");
    char **arg = argv + first;

    fit_policy policy = BEST_FIT;
    if (strcmp(arg[0], "first") == 0)
        policy = FIRST_FIT;
    else if (strcmp(arg[0], "best") != 0)
        bad_arguments("POLICY is best or first, not '%s'", arg[0]);
    unsigned long long header = parse_number(arg[1], "H is 8 or 16");
    if (header != 8 && header != 16)
        bad_arguments("H is 8 or 16, not '%s'", arg[1]);
    unsigned long long capacity = parse_number(arg[2], "K is a number of chunks");
    if (capacity > MAX_CACHE_BLOCKS)
        bad_arguments("K is at most %u", MAX_CACHE_BLOCKS);
    size_t steps = BENCH_DEFAULT_STEPS;
    if (nargs > 3) {
        const char *what = "STEPS is a number of steps, at least 1";
        steps = (size_t)parse_number(arg[3], what);
        if (steps == 0)
            bad_arguments("%s, not '%s'", what, arg[3]);
    }
    uint64_t seed = BENCH_DEFAULT_SEED;
    if (nargs > 4) {
        const char *what = "SEED is a number other than 0";
        seed = parse_number(arg[4], what);
        if (seed == 0)
            bad_arguments("%s", what);
    }

    churn_input in;
    churn_input_make(&in, steps, seed);
    run(&in, policy, (unsigned)header, (unsigned)capacity, check_every);
    churn_input_free(&in);
    return 0;
}
