/*
 * rcgc/gc.h — the generational cycle collector: the seed's `gc` module, per heap.
 *
 * Reference counting frees an object the moment its last reference goes, but
 * a group of objects that refer to each other in a cycle never reaches zero.
 * The collector finds such groups among the objects of RC_TYPE_GC types
 * ("containers"): a container is garbage when every reference to it comes
 * from other containers of the group being collected.
 *
 * Containers are tracked from creation in generation 0 (the built-in tuple
 * and dict leave out those holding only atomic values, as CPython does; see
 * rcgc/types.h).  Allocations minus
 * deallocations of containers past threshold 0 collect generation 0;
 * survivors move up one generation; every threshold-1 collections of a
 * generation collect the next one.  A full collection (generation 2) also
 * waits until the objects awaiting it reach 25% of the long-lived ones, so
 * its cost stays proportional as the heap grows.  Defaults: (700, 10, 10).
 *
 * Unreachable objects are handled as PEP 442 asks:
 *   1. weak references to them are cleared; callbacks run for the weakrefs
 *      that are themselves still reachable;
 *   2. finalizers run, once per object;
 *   3. the group is checked again: whatever a finalizer resurrected, and
 *      everything reachable from it, survives;
 *   4. `clear` is called on the rest to break the cycles, and reference
 *      counting frees them.  Objects that nothing could clear (no `clear`
 *      in their group) are uncollectable and go to the garbage list.
 *
 * Arguments: unless a function says otherwise, h, objects and output
 * arrays must not be NULL.
 */
#ifndef RCGC_GC_H
#define RCGC_GC_H

#include "rcgc/object.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Number of collected generations (0 young, 1, 2 oldest); the permanent
 *  generation of rc_gc_freeze is numbered 3 where a generation is asked. */
#define RC_GC_GENERATIONS 3

/* Debug flags (rc_gc_set_debug), as CPython's gc module.  STATS prints,
 * for each collection, the generation, the size of every generation, and
 * at the end the unreachable and uncollectable counts and the time; when
 * the collection did not need to mark (the order it met the objects in
 * proved them all reachable: docs/gc.md, "Proof by scan order"), a line
 * "gc: all N objects reachable, proved by scan order (first pass)" or
 * "(quick proof)" before the last; when the first pass found that nothing
 * outside the set refers to it, so that all of it is garbage, deleted
 * without marking (docs/gc.md, "All garbage"), a line "gc: all N objects
 * unreachable, found by the first pass" there.  COLLECTABLE
 * reports each garbage object as the collection frees it.  A collection
 * started more than RC_DEALLOC_DEPTH deallocations deep (from a finalizer
 * in a long chain) defers the frees it causes to the end of that chain;
 * an object kept alive until then by a deferred one is freed afterwards,
 * by reference counting, and not reported. */
#define RC_GC_DEBUG_STATS 0x01u         /**< print statistics of each collection */
#define RC_GC_DEBUG_COLLECTABLE 0x02u   /**< print collectable objects as they are freed */
#define RC_GC_DEBUG_UNCOLLECTABLE 0x04u /**< print uncollectable objects found */
#define RC_GC_DEBUG_SAVEALL 0x20u       /**< keep every unreachable object in the garbage list */
/** CPython's DEBUG_LEAK: report every unreachable object and keep it */
#define RC_GC_DEBUG_LEAK \
    (RC_GC_DEBUG_COLLECTABLE | RC_GC_DEBUG_UNCOLLECTABLE | RC_GC_DEBUG_SAVEALL)

/** Collect generations 0..generation (2 = full).  Returns the number of
 *  unreachable objects found (collected + uncollectable), 0 if a collection
 *  is already running in this heap (re-entrant call from a finalizer or
 *  callback), -1 for a bad generation.  A collection of a heap without any
 *  container still counts in rc_gc_get_stats (it makes the collector's
 *  state for that; if even that cannot be had, it returns 0 and counts
 *  nothing). */
RC_API intptr_t rc_gc_collect(rc_heap *h, int generation);

/** Automatic collection on (the default) or off.  rc_gc_collect works
 *  either way; rc_gc_is_enabled answers 1 when on, 0 when off.
 *
 *  The collector keeps its state in memory from h, made on first need (the
 *  first container, collection or callback, or the first setting below).  rc_gc_disable,
 *  rc_gc_set_threshold and rc_gc_set_debug return 0, or -1 when that state
 *  cannot be made (the heap is out of memory or at its cap): the setting is
 *  then not applied, and h goes on with the defaults.  rc_gc_enable cannot
 *  fail.  The queries never allocate: before any state exists they answer
 *  with the defaults (enabled, thresholds 700 10 10, debug 0) and empty
 *  counts and lists. */
RC_API void rc_gc_enable(rc_heap *h);
RC_API int rc_gc_disable(rc_heap *h);
RC_API int rc_gc_is_enabled(rc_heap *h);

/** Thresholds (see the top of this file); threshold 0 == 0 disables
 *  automatic collection, and a negative value counts as 0.  Returns 0, or
 *  -1 (nothing changed) when the collector's state cannot be made (see
 *  rc_gc_disable).  rc_gc_get_threshold writes the three in use. */
RC_API int rc_gc_set_threshold(rc_heap *h, long t0, long t1, long t2);
RC_API void rc_gc_get_threshold(rc_heap *h, long out[RC_GC_GENERATIONS]);
/** Counts: container allocations minus deallocations since the last
 *  generation-0 collection; collections of generation 0 (resp. 1) since
 *  the last collection of generation 1 (resp. 2). */
RC_API void rc_gc_get_count(rc_heap *h, long out[RC_GC_GENERATIONS]);

/** Move every tracked object to the permanent generation, which collections
 *  ignore (e.g. before fork, or after loading long-lived data). */
RC_API void rc_gc_freeze(rc_heap *h);
/** Move the permanent generation back to the oldest generation. */
RC_API void rc_gc_unfreeze(rc_heap *h);
/** Objects now in the permanent generation. */
RC_API size_t rc_gc_freeze_count(rc_heap *h);

/** Is o tracked by the collector?  (Only RC_TYPE_GC objects can be; 0 for
 *  NULL.) */
RC_API int rc_gc_is_tracked(const void *o);
/** Stop tracking o: for a container that will hold only atomic values
 *  (CPython untracks such tuples and dicts).  Untracked objects are never
 *  collected; their references still count.  NULL or an untracked object:
 *  no-op. */
RC_API void rc_gc_untrack(void *o);
/** Track o again (in generation 0).  No-op for NULL, a non-container or an
 *  object already tracked. */
RC_API void rc_gc_track(void *o);
/** Has o's finalizer run (by reference counting or by the collector)? */
RC_API int rc_gc_is_finalized(const void *o);

/** Call fn for each tracked object of a generation (0..2; 3 = permanent;
 *  -1 = all), as the generation was when the call began (like the list the
 *  gc module returns).  The objects are listed first and each is held by a
 *  reference until the call returns, so fn may do anything: create or free
 *  objects, track, untrack, freeze, collect.  Returns the number of objects
 *  passed to fn, or -1 (fn never called) for a bad generation or when the
 *  list cannot be allocated. */
RC_API intptr_t rc_gc_get_objects(rc_heap *h, int generation, void (*fn)(void *o, void *arg),
                                  void *arg);
/** Call fn for each tracked object that refers to any of objs[0..n) (its
 *  traverse visits one of them), found before the first call and held as
 *  for rc_gc_get_objects, so fn may do anything.  Returns the number of
 *  referrers passed to fn (0 when n is 0), or -1 (fn never called) when
 *  their list cannot be allocated. */
RC_API intptr_t rc_gc_get_referrers(rc_heap *h, void *const *objs, size_t n,
                                    void (*fn)(void *referrer, void *arg), void *arg);
/** Call fn for each object o refers to (its type's traverse).  Unlike the
 *  two walks above, nothing is listed or held first: fn runs inside o's
 *  traverse, so it must not change o's references nor let o die. */
RC_API void rc_gc_get_referents(void *o, void (*fn)(void *child, void *arg), void *arg);

/** Callbacks run at the start and the end of every collection; the phase
 *  says which. */
typedef enum rc_gc_phase {
    RC_GC_START, /**< before anything is examined */
    RC_GC_STOP   /**< after the garbage was freed; the counts are final */
} rc_gc_phase;
/** What a callback is told about the collection. */
typedef struct rc_gc_info {
    int generation;       /**< oldest generation being collected (0..2) */
    size_t collected;     /**< at RC_GC_STOP: objects freed or saved */
    size_t uncollectable; /**< at RC_GC_STOP: objects put in the garbage list */
} rc_gc_info;
/** A collection callback: h is the collecting heap, arg the pointer given
 *  to rc_gc_callback_add.  It may allocate and free, but a collection it
 *  asks for returns 0 (one is already running). */
typedef void (*rc_gc_callback)(rc_heap *h, rc_gc_phase phase, const rc_gc_info *info, void *arg);
/** Add a callback (0), or fail (-1): cb is NULL, or memory for it (or for
 *  the collector's state) cannot be had. */
RC_API int rc_gc_callback_add(rc_heap *h, rc_gc_callback cb, void *arg);
/** Remove the first callback registered with (cb, arg): 0, or -1 if none. */
RC_API int rc_gc_callback_remove(rc_heap *h, rc_gc_callback cb, void *arg);

/** One generation's totals, as an entry of the gc module's get_stats(). */
typedef struct rc_gc_gen_stats {
    size_t collections;   /**< collections of this generation */
    size_t collected;     /**< objects collected by them */
    size_t uncollectable; /**< objects found uncollectable by them */
} rc_gc_gen_stats;
/** Fill out[g] with generation g's totals since the heap was created (the
 *  gc module's get_stats()). */
RC_API void rc_gc_get_stats(rc_heap *h, rc_gc_gen_stats out[RC_GC_GENERATIONS]);
/** Tracked objects now in a generation (0..2, 3 = permanent); 0 for any
 *  other generation. */
RC_API size_t rc_gc_generation_size(rc_heap *h, int generation);

/** The garbage list: uncollectable objects, and with RC_GC_DEBUG_SAVEALL every
 *  unreachable object.  The list holds a reference to each. */
RC_API size_t rc_gc_garbage_count(rc_heap *h);
/** Borrowed reference to entry i (NULL when out of range). */
RC_API void *rc_gc_garbage_get(rc_heap *h, size_t i);
/** Empty the garbage list, dropping its references. */
RC_API void rc_gc_garbage_clear(rc_heap *h);

/** Debug flags and where their output goes (NULL: stderr).  Returns 0, or
 *  -1 (nothing changed) when the collector's state cannot be made (see
 *  rc_gc_disable). */
RC_API int rc_gc_set_debug(rc_heap *h, unsigned flags, FILE *out);
/** The flags last set by rc_gc_set_debug (0 by default). */
RC_API unsigned rc_gc_get_debug(rc_heap *h);

#ifdef __cplusplus
}
#endif
#endif /* RCGC_GC_H */
