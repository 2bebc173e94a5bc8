/*
 * src/object/object.c — objects, their headers, type registration and the
 * deallocation that reference counting triggers.
 *
 * rc__dealloc runs when a count reaches zero:
 *   1. finalize, once per object (PEP 442): the count is held at 1 while the
 *      finalizer runs; if it is above 1 afterwards, the finalizer stored a new
 *      reference and the object lives on (resurrected), flagged finalized so
 *      that its next death skips this step;
 *   2. destroy: the type's destroy, or else a decref of every reference its
 *      traverse reports;
 *   3. free the block.
 * Steps 1 and 2 can drop further counts to zero, so deallocation nests.
 * Past RC_DEALLOC_DEPTH levels the object is put on a work list instead (GC
 * objects are chained through their GC head, others pushed on a growable
 * stack; one still to be finalized goes on the same lists, tagged, and
 * through step 1 when its turn comes) and the outermost rc__dealloc drains
 * the list: constant C stack, time linear in the number of objects,
 * whatever the shape.
 */
#include "object/internal.h"
#include "gc/internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- Per-heap state -------------------------------------------------------- */

rc_objstate *rc__objstate_get(rc_heap *h) {
    rc_objstate *st = rc_heap_layer(h, RC_LAYER_OBJECT);
    if (RC_LIKELY(st != NULL))
        return st;
    st = rc_calloc(h, 1, sizeof *st);
    if (!st)
        return NULL;
    st->heap = h;
    st->cap = 16;
    st->ntypes = 1; /* index 0 means "no type" */
    st->types = rc_calloc(h, st->cap, sizeof *st->types);
    st->live_of = rc_calloc(h, st->cap, sizeof *st->live_of);
    st->tflags = rc_calloc(h, st->cap, sizeof *st->tflags);
    if (!st->types || !st->live_of || !st->tflags) {
        rc_free(st->types);
        rc_free(st->live_of);
        rc_free(st->tflags);
        rc_free(st);
        return NULL;
    }
    rc_heap_layer(h, RC_LAYER_OBJECT) = st;
    return st;
}

/* The info word of a new object of type t, index idx: a new container is
 * tracked from birth (both creation paths link it at once), unless its type
 * says RC_TYPE_UNTRACKED. */
static inline uint32_t birth_info(uint32_t idx, const rc_type *t) {
    if (!(t->flags & RC_TYPE_GC))
        return RC_INFO_TAG | idx;
    return RC_INFO_TAG | idx | RC_OF_GC | (t->flags & RC_TYPE_UNTRACKED ? 0 : RC_OF_TRACKED);
}

/* Index of t in h's type table, registering it on first use, and its cache
 * slot filled in; 0 on failure. */
static uint32_t type_index(rc_heap *h, rc_objstate *st, const rc_type *t) {
    rc_type_slot *slot = &st->lookup[((uintptr_t)t >> 4) & 63];
    if (RC_LIKELY(slot->type == t))
        return slot->info & RC_INFO_TYPE_MASK;
    bool gc = (t->flags & RC_TYPE_GC) != 0;
    uint32_t i;
    for (i = 1; i < st->ntypes; i++)
        if (st->types[i] == t)
            break;
    if (i == st->ntypes) {
        if (i > RC_MAX_TYPES)
            return 0;
        if (i == st->cap) {
            uint32_t cap = st->cap * 2;
            const rc_type **types = rc_realloc(h, (void *)st->types, cap * sizeof *types);
            if (!types)
                return 0;
            st->types = types;
            size_t *live = rc_realloc(h, st->live_of, cap * sizeof *live);
            if (!live)
                return 0;
            st->live_of = live;
            uint8_t *tf = rc_realloc(h, st->tflags, cap * sizeof *tf);
            if (!tf)
                return 0;
            st->tflags = tf;
            st->cap = cap;
        }
        st->types[i] = t;
        st->live_of[i] = 0;
        st->tflags[i] = (uint8_t)((t->finalize ? RC_TF_FINALIZE : 0) |
                                  (!t->destroy && !t->traverse && !gc ? RC_TF_LEAF : 0) |
                                  (gc ? RC_TF_GC : 0));
        st->ntypes++;
    }
    size_t n = t->size + sizeof(rc_objhead) + (gc ? sizeof(rc_gchead) : 0);
    slot->type = t;
    slot->info = birth_info(i, t);
    slot->units = (uint16_t)(t->size <= RC_SMALL_MAX && n <= RC_SMALL_MAX ? (n + 15) / 16 : 0);
    slot->gc = gc;
    return i;
}

/* ---- Creation ---------------------------------------------------------------- */

/* Write a new object's header (count 1, `info` from its type's slot) and
 * count it; both creation paths end here. */
static inline void *init_object(rc_objstate *st, char *block, size_t prefix, uint32_t info) {
    void *o = block + prefix;
    rc_objhead *hd = RC_OBJHEAD(o);
    hd->refcnt = 1;
    hd->info = info;
    st->live_of[info & RC_INFO_TYPE_MASK]++;
#ifdef RCGC_REF_DEBUG
    st->total_refs++;
#endif
    return o;
}

/* Every case: first object of a heap or of a type, large objects, instrumented
 * heaps, a collection due, bad input. */
RC_NOINLINE static void *new_slow(rc_heap *h, const rc_type *t, size_t extra) {
    if (!h || !t)
        return NULL;
    bool gc = (t->flags & RC_TYPE_GC) != 0;
    if (gc && !t->traverse)
        return NULL;
    rc_objstate *st = rc__objstate_get(h);
    if (!st)
        return NULL;
    uint32_t idx = type_index(h, st, t);
    if (!idx)
        return NULL;
    size_t prefix = sizeof(rc_objhead) + (gc ? sizeof(rc_gchead) : 0);
    size_t n;
    if (__builtin_add_overflow(t->size, extra, &n) || __builtin_add_overflow(n, prefix, &n))
        return NULL;
    char *block = rc__malloc_inline(h, n);
    if (!block)
        return NULL;
    memset(block, 0, n); /* exactly n: a debug-mode guard follows byte n */
    uint32_t info = birth_info(idx, t);
    if (!rc_arena_map_test(block))
        info |= RC_OF_OUTSIDE_ARENAS;
    void *o = init_object(st, block, prefix, info);
    if (gc && !rc__gc_track_new(h, o)) {
        st->live_of[idx]--;
        RC_OBJHEAD(o)->info = 0;
        rc_free(block);
        return NULL;
    }
    return o;
}

/* Zero the first `units` 16-byte units of a fresh block (but the first,
 * with `head_written`: a container's GC head, which the caller writes):
 * straight-line stores for the small objects that are the common case. */
static inline void zero_units(rc_block *b, unsigned units, bool head_written) {
    uint64_t *z = (uint64_t *)b;
    switch (units) {
    default:
        for (unsigned u = 4; u < units; u++)
            z[2 * u] = z[2 * u + 1] = 0;
        /* fall through */
    case 4:
        z[6] = z[7] = 0;
        /* fall through */
    case 3:
        z[4] = z[5] = 0;
        /* fall through */
    case 2:
        z[2] = z[3] = 0;
        /* fall through */
    case 1:
        if (!head_written)
            z[0] = z[1] = 0;
    }
}

/* A block of `units` 16-byte units from the heap's cache, zeroed; NULL
 * when the cache is empty (the caller goes slow). */
static inline rc_block *pop_zeroed(rc_heap *h, unsigned units, bool head_written) {
    rc_block *b = rc__cache_pop(&h->cache[units - 1]);
    if (RC_LIKELY(b != NULL))
        zero_units(b, units, head_written);
    return b;
}

void *rc_new(rc_heap *h, const rc_type *t, size_t extra) {
    /* Fast path: a small object of a type this heap knows (its slot holds
     * what to do), a block in the cache, no collection due.  t == NULL needs
     * no test of its own: it matches only an empty slot, whose units are 0. */
    rc_objstate *st;
    if (RC_UNLIKELY(!h || extra || !(st = rc_heap_layer(h, RC_LAYER_OBJECT))))
        return new_slow(h, t, extra);
    const rc_type_slot *slot = &st->lookup[((uintptr_t)t >> 4) & 63];
    unsigned units = slot->units;
    if (RC_UNLIKELY(slot->type != t || units == 0))
        return new_slow(h, t, extra);
    if (RC_LIKELY(!slot->gc)) { /* its own branch: nothing kept across it */
        rc_block *b = pop_zeroed(h, units, false);
        if (RC_UNLIKELY(b == NULL))
            return new_slow(h, t, extra);
        return init_object(st, (char *)b, sizeof(rc_objhead), slot->info);
    }
    rc_gcstate *gs = rc_heap_layer(h, RC_LAYER_GC);
    if (RC_UNLIKELY(!gs || gs->count[0] + 1 > gs->trigger))
        return new_slow(h, t, extra);
    rc_block *b = pop_zeroed(h, units, true);
    if (RC_UNLIKELY(b == NULL))
        return new_slow(h, t, extra);
    uint32_t info = slot->info;
    void *o = init_object(st, (char *)b, sizeof(rc_objhead) + sizeof(rc_gchead), info);
    gs->count[0]++;
    if (RC_LIKELY(info & RC_OF_TRACKED)) { /* linked: both links written */
        rc__gc_link_new(gs, o);
    } else { /* RC_TYPE_UNTRACKED */
        rc_gchead *g = RC_GCHEAD(o);
        g->prev = g->next = NULL;
    }
    return o;
}

/* ---- Lookups ------------------------------------------------------------------ */

rc_heap *rc_heap_of(const void *o) { return rc__heap_of_block_inline(rc_block_of(o)); }

static const rc_type *type_in(rc_heap *h, uint32_t info) {
    rc_objstate *st = rc_heap_layer(h, RC_LAYER_OBJECT);
    return st->types[info & RC_INFO_TYPE_MASK];
}

const rc_type *rc_type_of(const void *o) { return type_in(rc_heap_of(o), rc_info(o)); }

int64_t rc_refcount(const void *o) { return RC_OBJHEAD(o)->refcnt; }

void rc_make_immortal(void *o) {
    rc_objhead *hd = RC_OBJHEAD(o);
#ifdef RCGC_REF_DEBUG
    /* its decrefs will not be counted, so its references leave the total
     * now (CPython 3.12 does the same when it makes a str immortal) */
    if (hd->refcnt != RC_IMMORTAL_REFCNT)
        ((rc_objstate *)rc_heap_layer(rc_heap_of(o), RC_LAYER_OBJECT))->total_refs -= hd->refcnt;
#endif
    hd->refcnt = RC_IMMORTAL_REFCNT;
}

int rc_is_immortal(const void *o) { return RC_OBJHEAD(o)->refcnt == RC_IMMORTAL_REFCNT; }

int rc_is_finalized(const void *o) { return (rc_info(o) & RC_OF_FINALIZED) != 0; }

size_t rc_sizeof(const void *o) {
    const rc_type *t = rc_type_of(o);
    return rc_prefix_size(rc_info(o)) + t->size + (t->sizeof_extra ? t->sizeof_extra(o) : 0);
}

void rc_traverse(void *o, rc_visit_fn visit, void *arg) {
    const rc_type *t = rc_type_of(o);
    if (t->traverse)
        t->traverse(o, visit, arg);
}

bool rc_hash(const void *o, uint64_t *out) {
    const rc_type *t = rc_type_of(o);
    if (t->flags & RC_TYPE_UNHASHABLE)
        return false;
    if (t->hash) {
        *out = t->hash(o);
    } else {
        *out = rc__identity_hash(o);
    }
    return true;
}

bool rc_equal(const void *a, const void *b) {
    if (a == b)
        return true;
    const rc_type *ta = rc_type_of(a), *tb = rc_type_of(b);
    if (ta->eq)
        return ta->eq(a, b);
    if (tb->eq)
        return tb->eq(b, a);
    return false;
}

/* ---- Deallocation ------------------------------------------------------------- */

static void decref_visit(void *child, void *arg) {
    (void)arg;
    rc_decref(child);
}

/* Steps 2 and 3: destroy o and free its memory.  `a` is the arena of o's
 * block (NULL for a large block).  o is counted out before destroy runs, so
 * that only o, a and st live across that call (fewer registers to save on
 * this path, which every container's death takes).  With `gc_in_arena` (a
 * constant at each call: an RC_TYPE_GC object whose block is in an arena)
 * what the general case tests is known: the GC head (so the block's
 * prefix), a traverse (a GC type has one), the arena, which is found again
 * from o after destroy instead of kept in a register across it. */
RC_INLINE void destroy_and_free_as(rc_objstate *st, void *o, rc_arena *a, bool gc_in_arena) {
    rc_objhead *hd = RC_OBJHEAD(o);
    if (gc_in_arena || (hd->info & RC_OF_GC))
        rc__gc_forget(st->heap, o);
    uint32_t info = hd->info; /* read again: the type index is all that is needed */
    unsigned idx = info & RC_INFO_TYPE_MASK;
    st->live_of[idx]--;
    const rc_type *t = st->types[idx];
    if (t->destroy)
        t->destroy(o);
    else if (gc_in_arena || t->traverse)
        t->traverse(o, decref_visit, NULL);
    if (gc_in_arena) {
        hd->info = 0; /* a dead header: reference debugging sees a use after free */
        a = (rc_arena *)((uintptr_t)o & ~(uintptr_t)(RC_ARENA_SIZE - 1));
        rc__free_in_known_arena(a, (char *)o - sizeof(rc_objhead) - sizeof(rc_gchead));
    } else {
        size_t prefix = rc_prefix_size(hd->info); /* RC_OF_GC is still set */
        hd->info = 0;
        rc__free_in_arena(a, (char *)o - prefix);
    }
}

RC_INLINE void destroy_and_free(rc_objstate *st, void *o, rc_arena *a) {
    destroy_and_free_as(st, o, a, false);
}

/* The arena of o's block, or NULL for one outside every arena: the header
 * says which (RC_OF_OUTSIDE_ARENAS), no map lookup. */
RC_INLINE rc_arena *arena_of_object(const void *o) {
    if (rc_info(o) & RC_OF_OUTSIDE_ARENAS)
        return NULL;
    return (rc_arena *)((uintptr_t)o & ~(uintptr_t)(RC_ARENA_SIZE - 1));
}

/* Entries that still need step 1 (finalizer, weakrefs) are tagged: on the
 * array in the pointer's low bits (objects are 8-byte aligned), on the GC
 * chain in the head's `next`, which the chain does not use. */
#define RC_PENDING_UNFINALIZED ((uintptr_t)1)
#define RC_PENDING_RETRACK ((uintptr_t)2) /* was tracked: track it again first */
#define RC_PENDING_TAGS ((uintptr_t)3)

/* Put o on the work list, to be destroyed and freed (tags 0), or, with
 * RC_PENDING_UNFINALIZED, to go through its whole death: its finalizer or
 * weakrefs are still to run.  Step 1 nests too (a finalizer or weakref
 * callback that drops the next link, as `def __del__(self): self.next =
 * None` does), so past the limit it waits for the outermost dealloc with
 * the rest (CPython's trashcan also wraps the finalizer).  Its count stays
 * 0 meanwhile (rc_weakref_get sees no target), and a container leaves its
 * generation, so that no collection meets it; it is tracked again (in
 * generation 0) before its finalizer runs.  A container goes on the GC
 * chain (its head's links are ours once detached), which cannot fail;
 * false if another object finds no room on the array (then the caller
 * goes on at once, recursing). */
static bool defer(rc_objstate *st, void *o, uintptr_t tags) {
    if (rc_info(o) & RC_OF_GC) {
        if (tags && (rc_info(o) & RC_OF_TRACKED))
            tags |= RC_PENDING_RETRACK;
        rc__gc_detach_dying(st->heap, o); /* a death that goes on is counted at the free */
        rc_gchead *g = RC_GCHEAD(o);
        g->prev = st->pending_gc;
        g->next = (rc_gchead *)tags;
        st->pending_gc = g;
    } else {
        if (st->npending == st->pending_cap) {
            size_t cap = st->pending_cap ? st->pending_cap * 2 : 256;
            void **p = rc_realloc(st->heap, st->pending, cap * sizeof *p);
            if (!p)
                return false;
            st->pending = p;
            st->pending_cap = cap;
        }
        st->pending[st->npending++] = (void *)((uintptr_t)o | tags);
    }
    st->drain_depth = 1;
    return true;
}

static void dealloc_slow(rc_objstate *st, void *o, rc_arena *a, unsigned tf);

/* The whole death of o, deferred with RC_PENDING_UNFINALIZED, step 1 on. */
static void die_deferred(rc_objstate *st, void *o, uintptr_t tags) {
    if (tags & RC_PENDING_RETRACK)
        rc__gc_track_untracked(st->heap, o); /* state exists: o was tracked */
    dealloc_slow(st, o, arena_of_object(o), st->tflags[rc_info(o) & RC_INFO_TYPE_MASK]);
}

/* Runs at depth 1 (the outermost dealloc), so that what it frees nests
 * from there and defers again past the limit, onto the lists it drains. */
RC_NOINLINE static void drain(rc_objstate *st) {
    for (;;) {
        void *o;
        if (st->pending_gc) {
            rc_gchead *g = st->pending_gc;
            st->pending_gc = g->prev;
            o = RC_FROM_GCHEAD(g);
            uintptr_t tags = (uintptr_t)g->next;
            if (RC_UNLIKELY(tags)) { /* to die from step 1 */
                die_deferred(st, o, tags);
                continue;
            }
        } else if (st->npending) {
            o = st->pending[--st->npending];
            uintptr_t tags = (uintptr_t)o & RC_PENDING_TAGS;
            if (RC_UNLIKELY(tags)) { /* to die from step 1 */
                die_deferred(st, (void *)((uintptr_t)o & ~RC_PENDING_TAGS), tags);
                continue;
            }
        } else {
            break;
        }
        destroy_and_free(st, o, arena_of_object(o));
    }
    st->drain_depth = 0;
    if (st->pending_cap > 4096) { /* do not keep a huge stack around */
        rc_free(st->pending);
        st->pending = NULL;
        st->pending_cap = 0;
    }
}

RC_NOINLINE static void finalize_or_resurrect(void *o);

/* A leaf object (no destroy, no traverse, no GC head) has nothing to
 * release: it is uncounted, its header marked dead, its block freed. */
RC_INLINE char *leaf_forget(rc_objstate *st, void *o) {
    rc_objhead *hd = RC_OBJHEAD(o);
    st->live_of[hd->info & RC_INFO_TYPE_MASK]--;
    hd->info = 0;
    return (char *)o - sizeof(rc_objhead);
}

/* a: the leaf's arena, or NULL. */
RC_INLINE void free_leaf(rc_objstate *st, void *o, rc_arena *a) {
    rc__free_in_arena(a, leaf_forget(st, o));
}

/* rc__dealloc's fast path, where the arena is known: no test of a. */
RC_INLINE void free_leaf_in_arena(rc_objstate *st, void *o, rc_arena *a) {
    rc__free_in_known_arena(a, leaf_forget(st, o));
}

/* The common death of a container: no finalizer to run, no weakref, not too
 * deep.  destroy can drop further counts to zero, so nesting is counted
 * here (and bounded by dealloc_slow's deferral).  Kept apart from the rare
 * cases so that only st, o and a live across the call to destroy: four
 * registers saved, not six. */
RC_INLINE void dealloc_nested(rc_objstate *st, void *o, rc_arena *a, bool gc_in_arena) {
    RC_OBJHEAD(o)->refcnt = 0; /* during destroy, a stray decref cannot free o again */
    st->depth++;
    destroy_and_free_as(st, o, a, gc_in_arena);
    if (RC_UNLIKELY(st->depth == st->drain_depth)) /* outermost, with work deferred */
        drain(st);
    st->depth--;
}

RC_NOINLINE static void dealloc_container(rc_objstate *st, void *o, rc_arena *a) {
    dealloc_nested(st, o, a, false);
}

/* dealloc_container of the commonest container: a GC head and nothing
 * else in its type's flags (RC_TF_GC alone), a block in an arena, not too
 * deep. */
RC_NOINLINE static void dealloc_gc(rc_objstate *st, void *o) {
    dealloc_nested(st, o, NULL, true);
}

/* Drain the work lists from a dealloc at depth 0 that is not going on to
 * dealloc_nested (which drains at its end): step 1 nested and deferred
 * work, and then o was resurrected or freed as a leaf.  Never while o is
 * dying and still tracked with a count of 0: the drain runs user code,
 * which may collect. */
RC_INLINE void drain_if_outermost(rc_objstate *st) {
    if (RC_UNLIKELY(st->depth == 0 && st->drain_depth)) {
        st->depth++;
        drain(st);
        st->depth--;
    }
}

/* Every other case: a finalizer or weakrefs first (they may resurrect o), a
 * leaf with weakrefs, a large block, a deallocation nested too deep. */
RC_NOINLINE static void dealloc_slow(rc_objstate *st, void *o, rc_arena *a, unsigned tf) {
    rc_objhead *hd = RC_OBJHEAD(o);
    hd->refcnt = 0; /* finalize_or_resurrect tells a resurrection by it */
    uint32_t info = hd->info;
    if (((tf & RC_TF_FINALIZE) && !(info & RC_OF_FINALIZED)) || (info & RC_OF_WEAKREFD)) {
        if (st->depth >= RC_DEALLOC_DEPTH && defer(st, o, RC_PENDING_UNFINALIZED))
            return;
        st->depth++; /* what the finalizer and callbacks free nests under o */
        finalize_or_resurrect(o);
        st->depth--;
        if (hd->refcnt != 0) { /* resurrected */
            drain_if_outermost(st);
            return;
        }
    }
    if (tf & RC_TF_LEAF) {
        /* nothing to release: free at once, no nesting to count */
        free_leaf(st, o, a);
        drain_if_outermost(st);
        return;
    }
    if (st->depth >= RC_DEALLOC_DEPTH && defer(st, o, 0))
        return;
    dealloc_container(st, o, a);
}

/* rc__dealloc of an object outside every arena: a large block, or any
 * block of a malloc-mode heap.  Out of line, so that the fast path keeps
 * nothing across a call. */
RC_NOINLINE static void dealloc_outside_arenas(void *o) {
    rc_objstate *st = rc_heap_layer(rc_heap_of(o), RC_LAYER_OBJECT);
    dealloc_slow(st, o, NULL, st->tflags[rc_info(o) & RC_INFO_TYPE_MASK]);
}

void rc__dealloc(void *o) {
    /* rc_decref leaves the count at 1 in memory.  A leaf is freed at once,
     * nothing can see its count, and the free's link overwrites the header;
     * dealloc_container and dealloc_slow, which run user code, set it to 0
     * first, so that a stray decref during finalize or destroy cannot free o
     * again. */
    rc_objhead *hd = RC_OBJHEAD(o);
    uint32_t info = hd->info;
    if (RC_UNLIKELY(info & RC_OF_OUTSIDE_ARENAS)) { /* the header says: no map lookup */
        dealloc_outside_arenas(o);
        return;
    }
    rc_arena *a = (rc_arena *)((uintptr_t)o & ~(uintptr_t)(RC_ARENA_SIZE - 1));
    rc_objstate *st = rc_heap_layer(a->heap, RC_LAYER_OBJECT);
    unsigned tf = st->tflags[info & RC_INFO_TYPE_MASK];
    if (RC_LIKELY(!(info & RC_OF_WEAKREFD))) {
        if (RC_LIKELY(tf == RC_TF_LEAF)) {
            free_leaf_in_arena(st, o, a); /* the common small case: no call, no register saved */
            return;
        }
        if (RC_LIKELY(tf == RC_TF_GC && st->depth < RC_DEALLOC_DEPTH)) {
            dealloc_gc(st, o);
            return;
        }
        if (RC_LIKELY(tf == 0 && st->depth < RC_DEALLOC_DEPTH)) {
            dealloc_container(st, o, a);
            return;
        }
    }
    dealloc_slow(st, o, a, tf);
}

/* Step 1: the finalizer (once), then the weakrefs (their callbacks may
 * resurrect too).  Leaves refcnt 0 if o is to be freed. */
static void finalize_or_resurrect(void *o) {
    rc_objhead *hd = RC_OBJHEAD(o);
    rc_heap *h = rc_heap_of(o);
    rc_objstate *st = rc_heap_layer(h, RC_LAYER_OBJECT);
    const rc_type *t = st->types[hd->info & RC_INFO_TYPE_MASK];
    if (t->finalize && !(hd->info & RC_OF_FINALIZED)) {
        hd->info |= RC_OF_FINALIZED;
        hd->refcnt = 1;
        t->finalize(o);
        if (hd->refcnt == RC_IMMORTAL_REFCNT || --hd->refcnt != 0)
            return; /* resurrected (or made immortal) */
    }
    if (hd->info & RC_OF_WEAKREFD) {
        hd->refcnt = 1;
        rc__weakrefs_clear(h, o);
        if (hd->refcnt == RC_IMMORTAL_REFCNT || --hd->refcnt != 0)
            return;
        if (hd->info & RC_OF_WEAKREFD) /* made by those callbacks: o dies now */
            rc__weakrefs_clear_silently(h, o);
    }
    hd->refcnt = 0;
}

/* ---- Bookkeeping ------------------------------------------------------------ */

size_t rc_live_objects(const rc_heap *h) {
    const rc_objstate *st = h->layer[RC_LAYER_OBJECT];
    size_t n = 0;
    if (st)
        for (uint32_t i = 1; i < st->ntypes; i++)
            n += st->live_of[i];
    return n;
}

size_t rc_live_objects_of(const rc_heap *h, const rc_type *t) {
    const rc_objstate *st = h->layer[RC_LAYER_OBJECT];
    if (!st)
        return 0;
    for (uint32_t i = 1; i < st->ntypes; i++)
        if (st->types[i] == t)
            return st->live_of[i];
    return 0;
}

void rc_each_type(const rc_heap *h, void (*fn)(const rc_type *t, size_t live, void *arg),
                  void *arg) {
    const rc_objstate *st = h->layer[RC_LAYER_OBJECT];
    if (!st)
        return;
    for (uint32_t i = 1; i < st->ntypes; i++)
        if (st->live_of[i])
            fn(st->types[i], st->live_of[i], arg);
}

intptr_t rc_total_refs(const rc_heap *h) {
#ifdef RCGC_REF_DEBUG
    const rc_objstate *st = h->layer[RC_LAYER_OBJECT];
    return st ? st->total_refs : 0;
#else
    (void)h;
    return -1;
#endif
}

static void print_type(const rc_type *t, size_t live, void *arg) {
    fprintf((FILE *)arg, "  %-24s %zu\n", t->name ? t->name : "(unnamed)", live);
}

void rc_print_objects(const rc_heap *h, FILE *out) {
    fprintf(out, "live objects: %zu\n", rc_live_objects(h));
    rc_each_type(h, print_type, out);
    if (rc_total_refs(h) >= 0)
        fprintf(out, "total references: %ld\n", (long)rc_total_refs(h));
}

/* ---- Reference debugging (RCGC_REF_DEBUG builds) ---------------------------- */

#ifdef RCGC_REF_DEBUG
/* The heap of o if its header is a live object's; reports otherwise. */
static rc_heap *checked_heap(void *o, const char *op) {
    rc_objhead *hd = RC_OBJHEAD(o);
    if ((hd->info & RC_INFO_TAG_MASK) != RC_INFO_TAG) {
        char what[96];
        snprintf(what, sizeof what, "%s of a freed or invalid object", op);
        rc__report(rc_heap_of_block(o), RC_ERR_REFCOUNT, o, 0, 0, what);
        return NULL;
    }
    return rc_heap_of(o);
}

/* The header of o if its count may change: a live, mortal object with a
 * count above zero (reported otherwise, and NULL returned). */
static rc_objhead *countable(void *o, const char *op, rc_heap **hp) {
    if (!o)
        return NULL;
    rc_heap *h = checked_heap(o, op);
    if (!h)
        return NULL;
    rc_objhead *hd = RC_OBJHEAD(o);
    if (hd->refcnt == RC_IMMORTAL_REFCNT)
        return NULL;
    if (hd->refcnt == 0) {
        char what[96];
        snprintf(what, sizeof what, "%s of an object whose count is zero (%s)", op,
                 op[0] == 'i' ? "being deallocated" : "decref below zero");
        rc__report(h, RC_ERR_REFCOUNT, o, 0, 0, what);
        return NULL;
    }
    *hp = h;
    return hd;
}

void rc__incref_debug(void *o) {
    rc_heap *h;
    rc_objhead *hd = countable(o, "incref", &h);
    if (!hd)
        return;
    hd->refcnt++;
    ((rc_objstate *)rc_heap_layer(h, RC_LAYER_OBJECT))->total_refs++;
}

void rc__decref_debug(void *o) {
    rc_heap *h;
    rc_objhead *hd = countable(o, "decref", &h);
    if (!hd)
        return;
    ((rc_objstate *)rc_heap_layer(h, RC_LAYER_OBJECT))->total_refs--;
    if (--hd->refcnt == 0)
        rc__dealloc(o);
}
#endif
