/*
 * src/gc/weakref.c — weak references.
 *
 * Objects carry no weakref list pointer (that would cost every object 8
 * bytes); instead the heap keeps a table from target to the doubly linked
 * list of its weakrefs, and the target's header has RC_OF_WEAKREFD set while
 * it has an entry, so an ordinary death costs one flag test.
 *
 * A target dies in one of two ways:
 *   - by reference counting: rc__dealloc calls rc__weakrefs_clear, which
 *     clears every weakref and then runs the callbacks;
 *   - in a collection: rc__weakrefs_handle_unreachable clears the weakrefs
 *     of every unreachable object first, then runs the callbacks of the
 *     weakrefs that are not themselves unreachable (a weakref dying with its
 *     target stays silent, which keeps callbacks from seeing half-destroyed
 *     objects).
 * Callbacks run with a reference to their weakref held, after all clearing,
 * so they see a consistent world and may even start a collection (the
 * collector refuses to nest) or resurrect things.
 */
#include "gc/internal.h"

#include <string.h>

/* ---- The table: target -> weakrefs ---------------------------------------------- */

static size_t slot_hash(const void *p) {
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDull;
    x ^= x >> 29;
    return (size_t)x;
}

static rc_wslot *table_find(rc_gcstate *gs, const void *target) {
    if (!gs->wcap)
        return NULL;
    size_t mask = gs->wcap - 1;
    for (size_t i = slot_hash(target) & mask;; i = (i + 1) & mask) {
        rc_wslot *s = &gs->wtable[i];
        if (s->target == target)
            return s;
        if (s->target == NULL)
            return NULL;
    }
}

/* Make room for one more entry (load at most 1/2, tombstones included). */
static bool table_reserve(rc_heap *h, rc_gcstate *gs) {
    if ((gs->wused + 1) * 2 <= gs->wcap)
        return true;
    size_t cap = 16;
    while (cap < (gs->wlive + 1) * 4)
        cap *= 2;
    rc_wslot *t = rc_calloc(h, cap, sizeof *t);
    if (!t)
        return false;
    for (size_t i = 0; i < gs->wcap; i++) {
        rc_wslot *s = &gs->wtable[i];
        if (s->target == NULL || s->target == RC_WSLOT_DEAD)
            continue;
        size_t j = slot_hash(s->target) & (cap - 1);
        while (t[j].target)
            j = (j + 1) & (cap - 1);
        t[j] = *s;
    }
    rc_free(gs->wtable);
    gs->wtable = t;
    gs->wcap = cap;
    gs->wused = gs->wlive;
    return true;
}

/* Caller ensured room with table_reserve. */
static rc_wslot *table_insert(rc_gcstate *gs, void *target) {
    size_t mask = gs->wcap - 1;
    rc_wslot *tomb = NULL;
    for (size_t i = slot_hash(target) & mask;; i = (i + 1) & mask) {
        rc_wslot *s = &gs->wtable[i];
        if (s->target == target)
            return s;
        if (s->target == RC_WSLOT_DEAD && !tomb)
            tomb = s;
        if (s->target == NULL) {
            if (!tomb) {
                tomb = s;
                gs->wused++;
            }
            tomb->target = target;
            tomb->first = NULL;
            gs->wlive++;
            return tomb;
        }
    }
}

static void table_remove(rc_gcstate *gs, rc_wslot *s) {
    RC_OBJHEAD(s->target)->info &= ~RC_OF_WEAKREFD;
    s->target = RC_WSLOT_DEAD;
    s->first = NULL;
    gs->wlive--;
}

/* ---- The weakref type ------------------------------------------------------------- */

/* Take w off its target's list (if it is still set). */
static void detach(rc_weakref *w) {
    if (!w->target)
        return;
    rc_heap *h = rc_heap_of(w->target);
    rc_gcstate *gs = rc_heap_layer(h, RC_LAYER_GC);
    rc_wslot *s = table_find(gs, w->target);
    if (w->prev)
        w->prev->next = w->next;
    else if (s)
        s->first = w->next;
    if (w->next)
        w->next->prev = w->prev;
    if (s && !s->first)
        table_remove(gs, s);
    w->prev = w->next = NULL;
    w->target = NULL;
}

static void weakref_traverse(void *o, rc_visit_fn visit, void *arg) {
    (void)o; /* a weakref holds no strong reference (its arg is opaque) */
    (void)visit;
    (void)arg;
}

static void weakref_clear(void *o) {
    rc_weakref *w = o;
    detach(w);
    w->callback = NULL;
}

static void weakref_destroy(void *o) { detach(o); }

const rc_type rc_weakref_type = {
    .name = "weakref",
    .size = sizeof(rc_weakref),
    .flags = RC_TYPE_GC,
    .traverse = weakref_traverse,
    .clear = weakref_clear,
    .destroy = weakref_destroy,
};

void *rc_weakref_new(void *target, rc_weakref_callback callback, void *arg) {
    if (!target)
        return NULL;
    rc_heap *h = rc_heap_of(target);
    rc_weakref *w = rc_new(h, &rc_weakref_type, 0); /* may collect; target is held by the caller */
    if (!w)
        return NULL;
    rc_gcstate *gs = rc__gc_state(h); /* exists: w is a container */
    if (!table_reserve(h, gs)) {
        rc_decref(w);
        return NULL;
    }
    rc_wslot *s = table_insert(gs, target);
    w->target = target;
    w->callback = callback;
    w->arg = arg;
    w->prev = NULL;
    w->next = s->first;
    if (w->next)
        w->next->prev = w;
    s->first = w;
    RC_OBJHEAD(target)->info |= RC_OF_WEAKREFD;
    return w;
}

void *rc_weakref_get(void *weakref) {
    rc_weakref *w = weakref;
    if (!w || rc_type_of(w) != &rc_weakref_type || !w->target)
        return NULL;
    if (RC_OBJHEAD(w->target)->refcnt == 0)
        return NULL; /* dying: its death was deferred to the work list (object.c) */
    rc_incref(w->target);
    return w->target;
}

size_t rc_weakref_count(const void *o) {
    if (!(rc_info(o) & RC_OF_WEAKREFD))
        return 0;
    rc_gcstate *gs = rc_heap_layer(rc_heap_of(o), RC_LAYER_GC);
    rc_wslot *s = table_find(gs, o);
    size_t n = 0;
    for (rc_weakref *w = s ? s->first : NULL; w; w = w->next)
        n++;
    return n;
}

/* ---- Deaths ----------------------------------------------------------------------- */

/* Clear every weakref to o; queue on *pending (with a reference held) those
 * whose callback should run. */
static void clear_all(rc_gcstate *gs, void *o, rc_weakref **pending, bool in_collection) {
    rc_wslot *s = table_find(gs, o);
    if (!s) {
        RC_OBJHEAD(o)->info &= ~RC_OF_WEAKREFD;
        return;
    }
    rc_weakref *w = s->first;
    table_remove(gs, s);
    while (w) {
        rc_weakref *next = w->next;
        w->target = NULL;
        w->prev = w->next = NULL;
        /* A weakref that is itself dying stays silent: in a collection, one
         * that is unreachable; always, one whose count is already zero (its
         * deallocation was deferred to the work list). */
        bool silent = (in_collection && (rc_info(w) & RC_OF_COLLECTING)) ||
                      RC_OBJHEAD(w)->refcnt == 0;
        if (w->callback && !silent) {
            rc_incref(w);
            w->pending_next = *pending;
            *pending = w;
        } else if (silent) {
            w->callback = NULL;
        }
        w = next;
    }
}

static bool run_pending(rc_weakref *pending) {
    bool ran = pending != NULL;
    while (pending) {
        rc_weakref *w = pending;
        pending = w->pending_next;
        rc_weakref_callback cb = w->callback;
        w->callback = NULL; /* once */
        if (cb)
            cb(w, w->arg);
        rc_decref(w);
    }
    return ran;
}

void rc__weakrefs_clear_silently(rc_heap *h, void *o) {
    rc_gcstate *gs = rc_heap_layer(h, RC_LAYER_GC);
    rc_weakref *pending = NULL;
    if (gs)
        clear_all(gs, o, &pending, false);
    while (pending) { /* drop the queue without calling back */
        rc_weakref *w = pending;
        pending = w->pending_next;
        w->callback = NULL;
        rc_decref(w);
    }
    RC_OBJHEAD(o)->info &= ~RC_OF_WEAKREFD;
}

void rc__weakrefs_clear(rc_heap *h, void *o) {
    rc_gcstate *gs = rc_heap_layer(h, RC_LAYER_GC);
    rc_weakref *pending = NULL;
    if (gs)
        clear_all(gs, o, &pending, false);
    else
        RC_OBJHEAD(o)->info &= ~RC_OF_WEAKREFD;
    run_pending(pending);
}

void rc__weakrefs_silence_unreachable(rc_heap *h, rc_gcstate *gs, rc_gchead *unreachable) {
    if (gs->wlive == 0)
        return; /* no object has a weakref */
    for (rc_gchead *g = unreachable->next; g != unreachable; g = g->next)
        if (rc_info(RC_FROM_GCHEAD(g)) & RC_OF_WEAKREFD)
            rc__weakrefs_clear_silently(h, RC_FROM_GCHEAD(g));
}

bool rc__weakrefs_handle_unreachable(rc_heap *h, rc_gcstate *gs, rc_gchead *unreachable) {
    if (gs->wlive == 0)
        return false; /* no weakref has a target: nothing to clear, no callback */
    rc_weakref *pending = NULL;
    /* A weakref that is itself garbage goes silent first, whether or not its
     * target is garbage: its target may be a non-container that dies by
     * refcount in the middle of the deletion (bpo-38006). */
    const rc_objstate *st = rc_heap_layer(h, RC_LAYER_OBJECT);
    for (rc_gchead *g = unreachable->next; g != unreachable; g = g->next) {
        void *o = RC_FROM_GCHEAD(g);
        if (st->types[rc_info(o) & RC_INFO_TYPE_MASK] == &rc_weakref_type)
            weakref_clear(o);
    }
    for (rc_gchead *g = unreachable->next; g != unreachable; g = g->next) {
        void *o = RC_FROM_GCHEAD(g);
        if (rc_info(o) & RC_OF_WEAKREFD)
            clear_all(gs, o, &pending, true);
    }
    return run_pending(pending);
}
