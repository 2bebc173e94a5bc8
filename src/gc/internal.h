/*
 * src/gc/internal.h — the collector's per-heap state.
 *
 * Generation lists are circular, doubly linked through the objects' GC heads,
 * with a sentinel head per list:
 *
 *    gen[0] <-> young objects        gen[1] <-> ...        gen[2] <-> ...
 *    gen[3] <-> frozen (permanent) objects
 *
 * A tracked object (RC_OF_TRACKED) is in exactly one of these lists, or in a
 * list private to a running collection.  During the marking phase of a
 * collection only one link of each object holds, the one the scan walks
 * (`next` when it goes oldest first, `prev` when newest first); the other
 * carries the object's gc_refs (its reference count minus the references
 * from other objects of the set).  Marking restores it before any user code
 * (finalizer, weakref callback, clear) can run.
 */
#ifndef RCGC_GC_INTERNAL_H
#define RCGC_GC_INTERNAL_H

#include "object/internal.h"
#include "rcgc/gc.h"
#include "rcgc/weakref.h"

#define RC_GC_PERMANENT 3

typedef struct rc_weakref rc_weakref;

/* One slot of the weakref table: target -> its weakrefs. */
typedef struct rc_wslot {
    void *target;      /* NULL: empty; RC_WSLOT_DEAD: deleted */
    rc_weakref *first; /* doubly linked through the weakrefs */
} rc_wslot;
#define RC_WSLOT_DEAD ((void *)1)

typedef struct rc_gc_cbentry {
    rc_gc_callback cb;
    void *arg;
} rc_gc_cbentry;

typedef struct rc_gcstate {
    rc_gchead gen[RC_GC_GENERATIONS + 1]; /* sentinels; [3] = permanent */
    long count[RC_GC_GENERATIONS];
    long threshold[RC_GC_GENERATIONS];
    long trigger; /* threshold[0], or LONG_MAX while automatic collection is off */
    bool enabled;
    bool collecting;
    bool deleting; /* in delete_garbage, with RC_GC_DEBUG_COLLECTABLE set or in bulk */
    /* Deleting a set that is all garbage without marking ("All garbage" in
     * gc.c): the set's list (the chain), and its frontier, the last object
     * whose `prev` link is restored (the chain's sentinel at first).  NULL
     * outside such a deletion. */
    rc_gchead *bulk_chain, *bulk_front;
    size_t long_lived_total;   /* objects in gen 2 after the last full collection */
    size_t old_count;          /* objects in gen 2 now (RC_OF_OLD) */
    rc_gc_gen_stats stats[RC_GC_GENERATIONS];
    bool scan_newest_first[RC_GC_GENERATIONS]; /* the marking's direction for the next
                                                  collection of each generation (gc.c) */
    bool proved[RC_GC_GENERATIONS]; /* the last collection of each generation proved all
                                       reachable by scan order: try the quick proof (gc.c) */

    rc_gc_cbentry *callbacks;
    size_t ncallbacks, callbacks_cap;
    ptrdiff_t cb_next; /* index of the callback running now; -1: none */

    void **garbage;
    size_t ngarbage, garbage_cap;

    unsigned debug;
    FILE *debug_out;

    rc_wslot *wtable;
    size_t wcap, wused, wlive; /* slots, non-empty slots (dead included), live */
} rc_gcstate;

struct rc_weakref {
    void *target; /* borrowed; NULL once cleared */
    rc_weakref_callback callback;
    void *arg;
    rc_weakref *prev, *next;   /* the target's weakrefs */
    rc_weakref *pending_next;  /* callbacks queued by a collection */
};

rc_gcstate *rc__gc_state(rc_heap *h); /* created on first use; NULL: no memory */

/* weakref.c, for the collector: clear the weakrefs of every object of the
 * unreachable list `unreachable`; callbacks of weakrefs that are not
 * themselves in it run afterwards.  Returns whether any callback ran. */
bool rc__weakrefs_handle_unreachable(rc_heap *h, rc_gcstate *gs, rc_gchead *unreachable);
/* ... and again just before deletion, for weakrefs made meanwhile (by
 * finalizers): cleared without callbacks.  Both walks are skipped when no
 * live object of the heap has a weakref. */
void rc__weakrefs_silence_unreachable(rc_heap *h, rc_gcstate *gs, rc_gchead *unreachable);
/* Debug output for a garbage container being freed (RC_GC_DEBUG_COLLECTABLE). */
void rc__gc_report_freed(rc_heap *h, void *o);

/* List primitives (circular, sentinel-headed). */
static inline void gclist_init(rc_gchead *l) { l->prev = l->next = l; }
static inline bool gclist_empty(const rc_gchead *l) { return l->next == l; }
static inline void gclist_append(rc_gchead *l, rc_gchead *g) {
    g->prev = l->prev;
    g->next = l;
    l->prev->next = g;
    l->prev = g;
}
static inline void gclist_unlink(rc_gchead *g) {
    g->prev->next = g->next;
    g->next->prev = g->prev;
    g->prev = g->next = NULL;
}
static inline void gclist_move(rc_gchead *g, rc_gchead *to) {
    g->prev->next = g->next;
    g->next->prev = g->prev;
    gclist_append(to, g);
}
/* Append all of `from` to `to`; `from` ends empty. */
static inline void gclist_merge(rc_gchead *from, rc_gchead *to) {
    if (gclist_empty(from))
        return;
    rc_gchead *first = from->next, *last = from->prev;
    first->prev = to->prev;
    to->prev->next = first;
    last->next = to;
    to->prev = last;
    gclist_init(from);
}

/* The fast part of tracking, for the object layer (count already taken,
 * RC_OF_TRACKED already in the header it wrote). */
static inline void rc__gc_link_new(rc_gcstate *gs, void *o) {
    gclist_append(&gs->gen[0], RC_GCHEAD(o));
}

/* rc_gc_track of an object of an RC_TYPE_UNTRACKED type, untracked, in heap
 * h: its creation counted it, so the collector's state exists; no lookup of
 * heap or state, and no check, as the types layer tracks its own objects. */
static inline void rc__gc_track_untracked(rc_heap *h, void *o) {
    rc__gc_link_new(rc_heap_layer(h, RC_LAYER_GC), o);
    RC_OBJHEAD(o)->info |= RC_OF_TRACKED;
}

/* The collector's bits in an object's header, all cleared when it leaves the
 * collector (untracked or freed). */
#define RC_OF_GC_STATE \
    (RC_OF_TRACKED | RC_OF_COLLECTING | RC_OF_OLD | RC_OF_FROZEN | RC_OF_GEN1 | RC_OF_UNREACHABLE | \
     RC_OF_CHILDLESS | RC_OF_ROOTED)

/* Take a dying container out of its generation list (reporting it if a
 * collection is freeing it as garbage); its GC head is free afterwards, which
 * the deferred-dealloc list relies on.  An old object is uncounted from
 * old_count here (most containers of a long-running program die old); only
 * an object a collection frees with RC_GC_DEBUG_COLLECTABLE on (the report)
 * takes the out-of-line call, so that the common paths make none: the
 * deallocation path around it then saves fewer registers (garbage freed by
 * a collection: 313 -> 301 instructions per object without the call).  gs
 * is the heap's collector state (non-NULL once a container is tracked). */
void rc__gc_detach_dying_rare(rc_heap *h, void *o);

/* What every death of a tracked container does, once the rare report is
 * ruled out: uncount it from old_count, unlink it, clear the collector's
 * bits.  An object in a collection's set (RC_OF_COLLECTING) has no
 * RC_OF_OLD to uncount: marking took it off what it found unreachable
 * before any user code could run (gc.c). */
static inline void rc__gc_unlink_dying(rc_gcstate *gs, void *o, uint32_t info) {
    if (!(info & RC_OF_COLLECTING))
        gs->old_count -= (info & RC_OF_OLD) != 0;
    rc_gchead *g = RC_GCHEAD(o);
    g->prev->next = g->next;
    g->next->prev = g->prev;
    RC_OBJHEAD(o)->info = info & ~RC_OF_GC_STATE;
}

static inline void rc__gc_detach_tracked(rc_heap *h, rc_gcstate *gs, void *o, uint32_t info) {
    if (RC_UNLIKELY(info & RC_OF_COLLECTING) && gs->deleting) {
        rc__gc_detach_dying_rare(h, o);
        return;
    }
    rc__gc_unlink_dying(gs, o, info);
}

static inline void rc__gc_detach_dying(rc_heap *h, void *o) {
    uint32_t info = RC_OBJHEAD(o)->info;
    if (info & RC_OF_TRACKED)
        rc__gc_detach_tracked(h, rc_heap_layer(h, RC_LAYER_GC), o, info);
}

/* A container is being freed (RC_OF_GC): detached, and counted as a
 * deallocation (allocations minus deallocations, tracked or not, as
 * CPython).  Its birth made the collector's state (an object whose
 * tracking failed is freed without coming here), so gs is not NULL. */
void rc__gc_forget_dying_rare(rc_heap *h, void *o); /* rc__gc_detach_dying_rare, and counted */
static inline void rc__gc_forget(rc_heap *h, void *o) {
    rc_gcstate *gs = rc_heap_layer(h, RC_LAYER_GC);
    uint32_t info = RC_OBJHEAD(o)->info;
    if (info & RC_OF_TRACKED) {
        if (RC_UNLIKELY(info & RC_OF_COLLECTING) && gs->deleting) {
            rc__gc_forget_dying_rare(h, o); /* gs not kept across a call */
            return;
        }
        rc__gc_unlink_dying(gs, o, info);
    }
    if (gs->count[0] > 0)
        gs->count[0]--;
}

#endif
