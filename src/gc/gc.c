/*
 * src/gc/gc.c — the generational cycle collector.
 *
 * A collection of generation g:
 *
 *   merge generations 0..g into one list, `young`
 *   update_refs      gc_refs(o) = refcount(o)                 for o in young
 *   subtract_refs    gc_refs(c) -= 1 for each reference o -> c, both in young
 *                    (when pass 1 shows, from the order it met the objects
 *                    in, that every object is reachable, the collection
 *                    stops here: "Proof by scan order"; after such a
 *                    collection, the next one tries a cheaper pass that
 *                    only proves: "The quick proof")
 *   move_unreachable one pass in list order: o with gc_refs > 0 is referenced
 *                    from outside, so reachable, and so is what it refers to
 *                    (marked, or brought back from the unreachable list);
 *                    o with gc_refs == 0 goes to the unreachable list for now.
 *                    Survivors move up a generation.
 *   weakrefs         cleared; callbacks of reachable weakrefs run
 *   finalize         each unreachable object's finalizer, once ever
 *   resurrection     the marking steps again, on the unreachable set alone:
 *                    what a finalizer made reachable survives (skipped when
 *                    no finalizer or weakref callback ran: nothing changed)
 *   delete           clear() each remaining object (held by a temporary
 *                    reference), and reference counting frees them; what
 *                    survives without having a clear of its own is
 *                    uncollectable and goes to the garbage list
 *
 * The marking steps allocate nothing: gc_refs live in one link of the GC
 * head (`prev` in an oldest-first scan, `next` in a newest-first one; lists
 * keep only the other until move_unreachable restores it as it scans), so a
 * collection cannot fail for lack of memory.  Only user code (weakref callbacks, finalizers, clear)
 * can free objects, and by then every list is doubly linked again, so an
 * object freed in the middle simply unlinks itself.
 */
#include "gc/internal.h"

#include <limits.h>
#include <string.h>
#include <time.h>

/* ---- State -------------------------------------------------------------------- */

/* gs->trigger: the gen-0 count past which an allocation collects, LONG_MAX
 * when automatic collection cannot run.  One compare on rc_new's path. */
static void update_trigger(rc_gcstate *gs) {
    gs->trigger = (gs->enabled && gs->threshold[0] && !gs->collecting) ? gs->threshold[0] : LONG_MAX;
}

/* CPython's thresholds, which a heap starts with. */
static const long default_threshold[RC_GC_GENERATIONS] = {700, 10, 10};

rc_gcstate *rc__gc_state(rc_heap *h) {
    rc_gcstate *gs = rc_heap_layer(h, RC_LAYER_GC);
    if (RC_LIKELY(gs != NULL))
        return gs;
    gs = rc_calloc(h, 1, sizeof *gs);
    if (!gs)
        return NULL;
    for (int i = 0; i <= RC_GC_GENERATIONS; i++)
        gclist_init(&gs->gen[i]);
    for (int i = 0; i < RC_GC_GENERATIONS; i++)
        gs->threshold[i] = default_threshold[i];
    gs->enabled = true;
    gs->cb_next = -1;
    update_trigger(gs);
    rc_heap_layer(h, RC_LAYER_GC) = gs;
    return gs;
}

/* The state if the heap has one, without making it: what the queries use.
 * A heap without one has never made a container, so it has nothing
 * tracked, no garbage and no callbacks, and its settings are the defaults;
 * a query must not fail (or allocate) to say so. */
static rc_gcstate *gc_state_if_made(rc_heap *h) { return rc_heap_layer(h, RC_LAYER_GC); }

static FILE *debug_out(const rc_gcstate *gs) { return gs->debug_out ? gs->debug_out : stderr; }

static rc_objstate *objstate(rc_heap *h) { return rc_heap_layer(h, RC_LAYER_OBJECT); }

static const rc_type *type_of(const rc_objstate *st, const void *o) {
    return st->types[rc_info(o) & RC_INFO_TYPE_MASK];
}

/* fn(child, arg) for each reference of o: from the type's refs array when it
 * has one (fn, a constant at each call site, is then inlined in the loop),
 * else through traverse. */
RC_INLINE void for_each_ref(const rc_type *t, void *o, rc_visit_fn fn, void *arg) {
    if (t->refs) {
        rc_refs r = t->refs(o);
        for (size_t i = 0; i < r.n; i++)
            fn(r.items[i], arg);
    } else {
        t->traverse(o, fn, arg);
    }
}

static size_t gclist_size(const rc_gchead *l) {
    size_t n = 0;
    for (const rc_gchead *g = l->next; g != l; g = g->next)
        n++;
    return n;
}

/* ---- Tracking --------------------------------------------------------------------- */

static intptr_t collect_with_callbacks(rc_heap *h, rc_gcstate *gs, int gen);

/* The automatic trigger (CPython's collect_generations): the oldest
 * generation whose count passed its threshold, but a full collection only
 * when enough objects await it. */
static void collect_generations(rc_heap *h, rc_gcstate *gs) {
    for (int i = RC_GC_GENERATIONS - 1; i >= 0; i--) {
        if (gs->count[i] <= gs->threshold[i])
            continue;
        /* a full collection only when the oldest generation grew by at least
         * a quarter since the last one (net of the objects that died) */
        size_t pending = gs->old_count > gs->long_lived_total ? gs->old_count - gs->long_lived_total : 0;
        if (i == RC_GC_GENERATIONS - 1 && pending < gs->long_lived_total / 4)
            continue;
        collect_with_callbacks(h, gs, i);
        break;
    }
}

bool rc__gc_track_new(rc_heap *h, void *o) {
    rc_gcstate *gs = rc__gc_state(h);
    if (!gs)
        return false;
    if (++gs->count[0] > gs->trigger)
        collect_generations(h, gs); /* before o is linked: it is not examined */
    if (rc_info(o) & RC_OF_TRACKED) /* not an RC_TYPE_UNTRACKED type */
        rc__gc_link_new(gs, o);
    return true;
}

void rc__gc_report_freed(rc_heap *h, void *o) {
    rc_gcstate *gs = rc_heap_layer(h, RC_LAYER_GC);
    const char *name = rc_type_of(o)->name;
    fprintf(gs->debug_out ? gs->debug_out : stderr, "gc: collectable <%s %p>\n", name ? name : "?",
            o);
}

/* ---- The chain of a bulk deletion (see "All garbage" below) ------------------- */

/* What an object of the chain sheds when the frontier passes it: the marking
 * left them (pass 2, which would have cleared them, did not run). */
#define RC_OF_BULK_CLEARS (RC_OF_COLLECTING | RC_OF_OLD | RC_OF_ROOTED | RC_OF_CHILDLESS)

/* The frontier f moves on by up to k objects of the chain (fewer at its
 * end): each object it reaches has its `prev` link restored, and each it
 * leaves behind sheds the marking's bits (RC_OF_COLLECTING among them), so
 * that its death or untracking takes the common path.  f is an object, not
 * the sentinel (see bulk_start).  Returns where it stops. */
RC_INLINE rc_gchead *bulk_steps(rc_gchead *f, rc_gchead *chain, int k) {
    for (; k > 0; k--) {
        rc_gchead *n = f->next;
        if (n == chain)
            break;
        n->prev = f;
        RC_OBJHEAD(RC_FROM_GCHEAD(f))->info &= ~RC_OF_BULK_CLEARS;
        f = n;
    }
    return f;
}

/* The frontier f, moved off the chain's sentinel (which has no header) to
 * the chain's first object if it is there; the chain is not empty. */
RC_INLINE rc_gchead *bulk_start(rc_gchead *f, rc_gchead *chain) {
    if (f != chain)
        return f;
    f = chain->next;
    f->prev = chain;
    return f;
}

/* g, an object of the set still carrying RC_OF_COLLECTING, is about to
 * leave its list (it dies, or is untracked) while a bulk deletion runs.  If
 * it lies past the frontier (its `prev` is still the marking's zero count),
 * the frontier is brought up to it first; if it is the frontier, the
 * frontier steps back to its predecessor, which takes RC_OF_COLLECTING
 * again so that its own leaving comes here too. */
static void bulk_leave(rc_gcstate *gs, rc_gchead *g) {
    if (g->prev == NULL) {
        rc_gchead *f = bulk_start(gs->bulk_front, gs->bulk_chain);
        while (f != g)
            f = bulk_steps(f, gs->bulk_chain, 1);
        gs->bulk_front = f;
    }
    if (g == gs->bulk_front) {
        rc_gchead *p = g->prev;
        gs->bulk_front = p;
        if (p != gs->bulk_chain)
            RC_OBJHEAD(RC_FROM_GCHEAD(p))->info |= RC_OF_COLLECTING;
    }
}

/* o (info: its header's) leaves its generation's list, dying or untracked:
 * a taken-off object of the oldest generation is uncounted from old_count,
 * unless it is in the set of a bulk deletion, where its RC_OF_OLD counts
 * for nothing (old_count counts the survivors, and it is none) and its
 * place in the chain is settled instead. */
static void leave_count(rc_gcstate *gs, void *o, uint32_t info) {
    if ((info & RC_OF_COLLECTING) && gs->bulk_front)
        bulk_leave(gs, RC_GCHEAD(o));
    else if (info & RC_OF_OLD)
        gs->old_count--;
}

/* A dying object that a collection is examining or freeing (RC_OF_COLLECTING)
 * while gs->deleting: reported when RC_GC_DEBUG_COLLECTABLE asks for it, its
 * place in a bulk deletion's chain settled first (leave_count). */
void rc__gc_detach_dying_rare(rc_heap *h, void *o) {
    rc_gcstate *gs = rc_heap_layer(h, RC_LAYER_GC);
    rc_objhead *hd = RC_OBJHEAD(o);
    uint32_t info = hd->info;
    leave_count(gs, o, info);
    rc_gchead *g = RC_GCHEAD(o);
    g->prev->next = g->next;
    g->next->prev = g->prev;
    hd->info = info & ~RC_OF_GC_STATE;
    if (gs->debug & RC_GC_DEBUG_COLLECTABLE)
        rc__gc_report_freed(h, o);
}

void rc__gc_forget_dying_rare(rc_heap *h, void *o) {
    rc_gcstate *gs = rc_heap_layer(h, RC_LAYER_GC);
    rc__gc_detach_dying_rare(h, o);
    if (gs->count[0] > 0)
        gs->count[0]--;
}

int rc_gc_is_tracked(const void *o) { return o && (rc_info(o) & RC_OF_TRACKED) != 0; }

int rc_gc_is_finalized(const void *o) { return rc_is_finalized(o); }

void rc_gc_untrack(void *o) {
    if (!o)
        return;
    rc_objhead *hd = RC_OBJHEAD(o);
    if (hd->info & RC_OF_TRACKED) {
        if (hd->info & (RC_OF_OLD | RC_OF_COLLECTING))
            leave_count(rc_heap_layer(rc_heap_of(o), RC_LAYER_GC), o, hd->info);
        gclist_unlink(RC_GCHEAD(o));
        hd->info &= ~RC_OF_GC_STATE;
    }
}

void rc_gc_track(void *o) {
    if (!o)
        return;
    rc_objhead *hd = RC_OBJHEAD(o);
    if (!(hd->info & RC_OF_GC) || (hd->info & RC_OF_TRACKED))
        return;
    rc_gcstate *gs = rc__gc_state(rc_heap_of(o));
    if (!gs)
        return; /* cannot happen: the state exists once a container was made */
    rc__gc_link_new(gs, o);
    hd->info |= RC_OF_TRACKED;
}

/* ---- Marking ---------------------------------------------------------------------- */

/* The link a marking pass walks, and the one it keeps gc_refs in: `next`
 * and `prev` when it goes oldest first, the other way round when it goes
 * newest first (`bwd`; see "The two marking passes" below). */
RC_INLINE rc_gchead **scan_link(rc_gchead *g, bool bwd) { return bwd ? &g->prev : &g->next; }
RC_INLINE rc_gchead **refs_link(rc_gchead *g, bool bwd) { return bwd ? &g->next : &g->prev; }
RC_INLINE uintptr_t refs_of(rc_gchead *g, bool bwd) { return (uintptr_t)*refs_link(g, bwd); }
RC_INLINE void set_refs(rc_gchead *g, bool bwd, uintptr_t n) { *refs_link(g, bwd) = (rc_gchead *)n; }

static bool in_collected_set(const void *o) {
    return (rc_info(o) & (RC_OF_GC | RC_OF_COLLECTING)) == (RC_OF_GC | RC_OF_COLLECTING);
}

/* gc_refs = refcount; from here until partition, only `next` links hold.
 * (Used by the resurrection pass, on the first pass's unreachable list,
 * whose objects still carry RC_OF_UNREACHABLE and RC_OF_CHILDLESS: both
 * are cleared here, the second because finalizers may have changed what
 * the objects refer to.) */
static void update_refs(rc_gchead *list) {
    for (rc_gchead *g = list->next; g != list; g = g->next) {
        rc_objhead *hd = RC_OBJHEAD(RC_FROM_GCHEAD(g));
        set_refs(g, false, hd->refcnt);
        hd->info = (hd->info | RC_OF_COLLECTING) & ~(RC_OF_UNREACHABLE | RC_OF_CHILDLESS);
    }
}

static void visit_subtract(void *child, void *arg) {
    (void)arg;
    if (child && in_collected_set(child)) {
        rc_gchead *g = RC_GCHEAD(child);
        if (refs_of(g, false) > 0) /* a traverse reporting more than the count is a bug; do not wrap */
            set_refs(g, false, refs_of(g, false) - 1);
    }
}

/* A collection of generation g examines every tracked, unfrozen container
 * of generations 0..g, and the header's bits say which generation an object
 * is in (none: 0; RC_OF_GEN1: 1; RC_OF_OLD: 2).  So membership needs no
 * mark, gc_refs can be set on first touch, and one walk does the work of
 * update_refs and subtract_refs.  `excluded` holds the bits that put an
 * object outside the set. */
/* The marking bits an object found reachable leaves a collection without
 * (its new generation's bit is set in their place). */
#define RC_OF_KEPT_CLEARS (RC_OF_COLLECTING | RC_OF_CHILDLESS | RC_OF_ROOTED | RC_OF_GEN1)

static inline uint32_t excluded_bits(int gen) {
    return RC_OF_FROZEN | (gen < 2 ? RC_OF_OLD : 0) | (gen < 1 ? RC_OF_GEN1 : 0);
}

/* The two marking passes of a collection walk the generation's list either
 * oldest first (forward: along `next`, with gc_refs kept in `prev`) or newest
 * first (backward: along `prev`, gc_refs in `next`); the link a pass walks is
 * never the one it writes counts into.  Which is cheaper depends on how the
 * objects were built: the marking pass meets an object before the objects
 * that refer to it when children are older than their parents (bottom-up
 * trees, containers built from their items), and sends it to the unreachable
 * list until a referrer brings it back; built top-down, the other way round.
 * A young generation's next collection takes the direction that brought
 * fewer objects back (scan_newest_first; see mark).  `bwd` is a constant at
 * every call of the link helpers above, so each pass is compiled twice. */

/* Pass 1 reaches an object's own turn untouched (no object scanned before
 * it referred to it): its gc_refs start from its count.  (The proving loop
 * of update_and_subtract does this itself, taking the object for a root:
 * see "Proof by scan order" below.) */
RC_INLINE void touch(rc_objhead *hd, rc_gchead *g, uint64_t *sum, bool bwd) {
    if (!(hd->info & RC_OF_COLLECTING)) {
        set_refs(g, bwd, hd->refcnt);
        *sum += hd->refcnt;
        hd->info |= RC_OF_COLLECTING;
    }
}

/* Pass 1's visit of one reference: true if child is in the set.  A taken
 * root whose count the references scanned after it use up was no root:
 * *unproven (looked at only while `prove`: once unproven, pass 1 goes on
 * without the roots).  *sum follows the sum of every gc_refs written (see
 * "All garbage" below). */
RC_INLINE bool subtract_child(void *child, uint32_t excluded, bool *unproven, uint64_t *sum,
                              bool prove, bool bwd) {
    if (!child)
        return false;
    rc_objhead *hd = RC_OBJHEAD(child);
    if ((hd->info & (RC_OF_GC | RC_OF_TRACKED | excluded)) != (RC_OF_GC | RC_OF_TRACKED))
        return false;
    rc_gchead *g = RC_GCHEAD(child);
    uint32_t info = hd->info;
    if (!(info & RC_OF_COLLECTING)) { /* first touch: its count, less this reference */
        hd->info = info | RC_OF_COLLECTING;
        set_refs(g, bwd, (uintptr_t)hd->refcnt - 1); /* >= 0: this reference */
        *sum += (uint64_t)hd->refcnt - 1;
    } else {
        uintptr_t refs = refs_of(g, bwd);
        if (refs > 0) { /* a traverse reporting more than the count is a bug; do not wrap */
            set_refs(g, bwd, refs - 1);
            --*sum;
        }
        if (prove && refs <= 1 && (info & RC_OF_ROOTED))
            *unproven = true;
    }
    return true;
}

typedef struct subtract_arg {
    uint32_t excluded;
    bool any;      /* some reference of the object led into the set */
    bool unproven; /* as subtract_child's */
    uint64_t sum;  /* as subtract_child's */
} subtract_arg;

static void visit_subtract_set_fwd(void *child, void *arg) {
    subtract_arg *a = arg;
    a->any |= subtract_child(child, a->excluded, &a->unproven, &a->sum, true, false);
}

static void visit_subtract_set_bwd(void *child, void *arg) {
    subtract_arg *a = arg;
    a->any |= subtract_child(child, a->excluded, &a->unproven, &a->sum, true, true);
}

/* One object of pass 1 once it is unproven: touched without the root
 * bookkeeping, its references subtracted. */
RC_INLINE void subtract_one(const rc_type *const *types, rc_gchead *g, uint32_t excluded,
                            uint64_t *sum, bool bwd) {
    void *o = RC_FROM_GCHEAD(g);
    rc_objhead *hd = RC_OBJHEAD(o);
    bool unproven = false; /* not looked at */
    touch(hd, g, sum, bwd);
    const rc_type *t = types[hd->info & RC_INFO_TYPE_MASK];
    bool any = false;
    if (t->refs) {
        rc_refs r = t->refs(o);
        for (size_t i = 0; i < r.n; i++)
            any |= subtract_child(r.items[i], excluded, &unproven, sum, false, bwd);
    } else {
        subtract_arg a = {excluded, false, false, *sum};
        t->traverse(o, bwd ? visit_subtract_set_bwd : visit_subtract_set_fwd, &a);
        any = a.any;
        *sum = a.sum;
    }
    if (!any)
        hd->info |= RC_OF_CHILDLESS;
}

/* Pass 1: gc_refs of every object of the set (touched first, by its own
 * turn or as a child) ends as its count minus the references from inside
 * the set.  An object that turns out to refer to nothing in the set gets
 * RC_OF_CHILDLESS, so that pass 2 (move_unreachable) need not list its
 * references again: no user code runs between the two passes, so the
 * answer still holds there (containers of atomic values, and the leaves of
 * every tree, are the common case).  Pass 2 clears the bit. */
RC_INLINE size_t update_and_subtract(const rc_objstate *st, rc_gchead *list, int gen,
                                    bool *unproven_out, uint64_t *sum_out, bool bwd) {
    uint32_t excluded = excluded_bits(gen);
    size_t n = 0;
    bool unproven = false;
    uint64_t sum = 0; /* 64 bits on every target: a count of 2^32 per object cannot wrap it */
    rc_gchead *g = *scan_link(list, bwd);
    if (g == list) { /* st is NULL in a heap that never had an object */
        *unproven_out = false;
        *sum_out = 0;
        return 0;
    }
    const rc_type *const *types = st->types; /* refs and traverse register no type */
    for (; g != list; g = *scan_link(g, bwd)) {
        void *o = RC_FROM_GCHEAD(g);
        rc_objhead *hd = RC_OBJHEAD(o);
        if (!(hd->info & RC_OF_COLLECTING)) { /* touch, as a taken root */
            set_refs(g, bwd, hd->refcnt);
            sum += hd->refcnt;
            hd->info |= RC_OF_COLLECTING | RC_OF_ROOTED;
            if (RC_UNLIKELY(hd->refcnt == 0)) /* never for a live object; no proof if it were */
                goto unproven; /* o again, from there (touched already) */
        }
        /* subtract_one's work, written out with the proof checked where a
         * reference can fail it: sharing subtract_one and testing the proof
         * once per object cost 3-5 more instructions per object (tree of
         * 100K: 5.10 -> 5.40-5.64 M).  for_each_ref is written out so that
         * `any` lives in a register on the refs path (through for_each_ref
         * and a subtract_arg it went through memory: 93 instead of 88
         * instructions per object) */
        const rc_type *t = types[hd->info & RC_INFO_TYPE_MASK];
        bool any = false;
        if (t->refs) {
            /* indexed, not a pointer range: items may be NULL when n is 0
             * (an empty list), and NULL + 0 is undefined */
            rc_refs r = t->refs(o);
            for (size_t i = 0; i < r.n; i++) {
                any |= subtract_child(r.items[i], excluded, &unproven, &sum, true, bwd);
                if (RC_UNLIKELY(unproven)) {
                    /* the rest of o's references without the proof, then
                     * on to the next object (`any` holds: that child was
                     * in the set) */
                    while (++i < r.n)
                        subtract_child(r.items[i], excluded, &unproven, &sum, false, bwd);
                    n++;
                    g = *scan_link(g, bwd);
                    goto unproven;
                }
            }
        } else {
            subtract_arg a = {excluded, false, false, sum};
            t->traverse(o, bwd ? visit_subtract_set_bwd : visit_subtract_set_fwd, &a);
            any = a.any;
            sum = a.sum;
            if (RC_UNLIKELY(a.unproven)) {
                if (!any)
                    hd->info |= RC_OF_CHILDLESS;
                n++;
                g = *scan_link(g, bwd);
                goto unproven;
            }
        }
        if (!any)
            hd->info |= RC_OF_CHILDLESS;
        n++;
    }
    *unproven_out = false;
    *sum_out = sum;
    return n;
unproven:
    /* Unproven (garbage, usually, met early): the rest of the pass needs
     * no root bookkeeping (RC_OF_ROOTED, left on some objects, means
     * nothing now, and pass 2 clears it with the rest). */
    for (; g != list; g = *scan_link(g, bwd)) {
        subtract_one(types, g, excluded, &sum, bwd);
        n++;
    }
    *unproven_out = true;
    *sum_out = sum;
    return n;
}

static void subtract_refs(const rc_objstate *st, rc_gchead *list) {
    for (rc_gchead *g = list->next; g != list; g = g->next) {
        void *o = RC_FROM_GCHEAD(g);
        for_each_ref(type_of(st, o), o, visit_subtract, NULL);
    }
}

/* A child of an object found reachable: it is reachable too.  If the scan
 * already passed it (gc_refs was 0, so it sits in the unreachable list), it
 * goes back into the scanned list right after `arg`, the object being
 * scanned, and is scanned next while its lines are still in the cache
 * (CPython appends it at the tail; docs/gc.md, "Where a revived object
 * goes").  The scan's list keeps only its scan links: two stores. */
RC_INLINE void visit_reachable(void *child, rc_gchead *at, rc_gchead **tail, bool bwd) {
    if (!child || !in_collected_set(child))
        return;
    rc_objhead *hd = RC_OBJHEAD(child);
    rc_gchead *g = RC_GCHEAD(child);
    if (hd->info & RC_OF_UNREACHABLE) {
        hd->info &= ~RC_OF_UNREACHABLE;
        if (g == *tail) /* the scan keeps the unreachable list's tail (move_loop) */
            *tail = g->prev;
        g->prev->next = g->next; /* the unreachable list is doubly linked */
        g->next->prev = g->prev;
        *scan_link(g, bwd) = *scan_link(at, bwd); /* in right after the object being */
        *scan_link(at, bwd) = g; /* scanned, so it is scanned next, while its lines are hot */
        set_refs(g, bwd, 1);
    } else if (refs_of(g, bwd) == 0) {
        set_refs(g, bwd, 1);
    }
}

typedef struct reach_arg {
    rc_gchead *at;   /* the object being scanned */
    rc_gchead *tail; /* the unreachable list's last object */
} reach_arg;

static void visit_reachable_fwd(void *child, void *arg) {
    reach_arg *a = arg;
    visit_reachable(child, a->at, &a->tail, false);
}
static void visit_reachable_bwd(void *child, void *arg) {
    reach_arg *a = arg;
    visit_reachable(child, a->at, &a->tail, true);
}

/* One pass in list order (memory order, mostly), after update_refs and
 * subtract_refs: an object with gc_refs > 0 is reachable — it stays, its
 * `prev` link is restored and its children are marked reachable; an object
 * with gc_refs == 0 moves to `unreachable` for now (flagged), and comes back
 * (scanned next) if a reachable object later turns out to refer to it.
 * Reachable objects leave with RC_OF_COLLECTING, RC_OF_CHILDLESS and
 * RC_OF_GEN1 cleared (a constant mask: no register or reload for it) and
 * `set_bits` set (their new generation's bit; 0 in the resurrection pass,
 * whose survivors get theirs from release_to); a reachable object that pass 1
 * found childless has no reference listed at all.  Unreachable ones keep
 * RC_OF_COLLECTING, RC_OF_CHILDLESS (they may come back) and
 * RC_OF_UNREACHABLE (all cleared again when an object leaves the set: by
 * update_refs for the resurrection pass, release_to for survivors, and the
 * untrack and free paths) and lose RC_OF_OLD, so that old_count never counts
 * them.  *finalizers becomes true if an object that went to `unreachable`
 * has a finalizer still to run (it may have come back since: the flag may
 * say true for nothing, never false for something); with finalizers NULL
 * nobody asks, and the scan does not look.  Returns the number kept. */
RC_INLINE size_t move_loop(const rc_objstate *st, rc_gchead *list, rc_gchead *unreachable,
                           uint32_t set_bits, bool look, bool *finalizers, size_t *moved_out,
                           bool bwd) {
    size_t kept = 0, moved = 0;
    bool fin = false;
    rc_gchead *prev = list; /* the last object kept, in scan order */
    /* The unreachable list's last object, kept here rather than in its
     * sentinel's prev (written once, at the end): a revival that takes it
     * out moves it back (visit_reachable). */
    rc_gchead *tail = unreachable->prev;
    for (rc_gchead *g = *scan_link(list, bwd); g != list; g = *scan_link(prev, bwd)) {
        void *o = RC_FROM_GCHEAD(g);
        rc_objhead *hd = RC_OBJHEAD(o);
        if (refs_of(g, bwd) > 0) {
            uint32_t info = hd->info;
            hd->info = (info & ~RC_OF_KEPT_CLEARS) | set_bits;
            if (!(info & RC_OF_CHILDLESS)) { /* set by pass 1: nothing of the set to mark */
                const rc_type *t = st->types[info & RC_INFO_TYPE_MASK];
                if (t->refs) { /* for_each_ref written out: the visit is inlined */
                    rc_refs r = t->refs(o);
                    for (size_t i = 0; i < r.n; i++)
                        visit_reachable(r.items[i], g, &tail, bwd);
                } else {
                    reach_arg a = {g, tail};
                    t->traverse(o, bwd ? visit_reachable_bwd : visit_reachable_fwd, &a);
                    tail = a.tail;
                }
            }
            *refs_link(g, bwd) = prev;
            prev = g;
            kept++;
        } else {
            uint32_t info = hd->info;
            *scan_link(prev, bwd) = *scan_link(g, bwd);
            hd->info = (info | RC_OF_UNREACHABLE) & ~(RC_OF_OLD | RC_OF_ROOTED);
            if (look)
                fin |= (st->tflags[info & RC_INFO_TYPE_MASK] & RC_TF_FINALIZE) &&
                       !(info & RC_OF_FINALIZED);
            g->prev = tail; /* appended to the unreachable list */
            g->next = unreachable;
            tail->next = g;
            tail = g;
            moved++;
        }
    }
    unreachable->prev = tail;
    *refs_link(list, bwd) = prev;
    if (look)
        *finalizers = fin;
    *moved_out = moved;
    return kept;
}

/* The loop twice: whether it looks for finalizers is a constant in each. */
RC_INLINE size_t move_unreachable_dir(const rc_objstate *st, rc_gchead *list,
                                      rc_gchead *unreachable, uint32_t set_bits,
                                      bool *finalizers, size_t *moved_out, bool bwd) {
    if (finalizers)
        return move_loop(st, list, unreachable, set_bits, true, finalizers, moved_out, bwd);
    return move_loop(st, list, unreachable, set_bits, false, NULL, moved_out, bwd);
}

/* Proof by scan order.  Pass 1 itself proves, for most heaps that hold no
 * garbage, that every object of the set is reachable, and the marking pass
 * is then not needed.  Take the objects in pass 1's order.  An object that
 * no earlier object refers to reaches its own turn untouched: pass 1 takes
 * it for a root (RC_OF_ROOTED), as its count says something refers to it.
 * Every other object was touched by an earlier one, which refers to it.  If
 * no taken root ends pass 1 with gc_refs 0 (every count it had was used up
 * by references from the set: "unproven"), each taken root really is
 * referred to from outside, and by induction along the scan order each
 * object is reachable: a root, or referred to by an earlier object, which
 * is reachable.  Then nothing is garbage, and keep_all only restores the
 * links and the bits.  Garbage always makes pass 1 unproven: the first
 * object of a garbage group in scan order is untouched at its turn (all
 * that refers to it comes later), taken for a root, and its count is all
 * used up by the group.  So is a heap whose referrers come after what they
 * refer to (children scanned before parents: each child is taken for a
 * root until its parent comes), which the direction choice (see mark)
 * avoids for young generations and marking leaves behind for the oldest
 * (a revived object is put right after the object that revived it).  When
 * pass 1 is unproven, the counts are complete and move_unreachable marks
 * as usual; RC_OF_ROOTED then means nothing and is cleared with the rest.
 * The cost to pass 1: one bit in a store it makes anyway, and a test on
 * the path that decrements an object already touched.  A full collection
 * of gc_traversal's 100,000-object tree (callgrind): 80 instructions per
 * object with marking, 51 with the proof (pass 1, then keep_all). */

/* Put every gc_refs link of the list back, and each object's info to
 * (info & ~clear) | set. */
RC_INLINE void relink_all(rc_gchead *list, uint32_t clear, uint32_t set, bool bwd) {
    rc_gchead *prev = list;
    for (rc_gchead *g = *scan_link(list, bwd); g != list; g = *scan_link(g, bwd)) {
        rc_objhead *hd = RC_OBJHEAD(RC_FROM_GCHEAD(g));
        hd->info = (hd->info & ~clear) | set;
        *refs_link(g, bwd) = prev;
        prev = g;
    }
    *refs_link(list, bwd) = prev;
}

/* All of the set is reachable: what a kept object leaves marking with. */
RC_INLINE void keep_all(rc_gchead *list, uint32_t set_bits, bool bwd) {
    relink_all(list, RC_OF_KEPT_CLEARS, set_bits, bwd);
}

/* The quick proof.  After a collection whose pass 1 proved everything
 * reachable, the next one of that generation tries the proof alone, with
 * none of the counts the marking would need: the proof needs only to know
 * which objects were touched, and the count of each taken root.  So a
 * first touch only sets RC_OF_COLLECTING; an object's own turn clears it
 * again and gives the object its new generation at once, and a taken root
 * keeps RC_OF_ROOTED and its old generation until the end, with its count
 * (once a later reference uses some of it) kept odd in the link pass 1
 * keeps gc_refs in (links are 16-byte aligned, so a link is always even).
 * What is left to clean at the end is the taken roots, up to PROOF_ROOTS
 * of them remembered with the link to put back, or, when there were more
 * or when a reference reached an object after its turn and touched it
 * again (`pending` counts touches not yet cleaned), one walk like
 * keep_all's.  Once an object had its turn in a young collection, its new
 * generation takes it out of the set, so later references pass it by; in
 * a full collection they touch it again and cost the walk.  If a taken
 * root's count runs out, the proof stops there, the walk puts every link
 * and bit back as it was, and pass 1 and marking run as usual.
 * gc_traversal's 100,000-object tree: one taken root and no walk, 46
 * instructions per object (51 with the first pass's proof, 80 marking),
 * and half the time (5.9 -> 3.0 ns per object): no count is written, so
 * far fewer lines are dirtied.  GCBench (long-lived depth 16): the
 * collector's instructions 1.79 -> 1.14 G. */
#define PROOF_ROOTS 64

typedef struct proof_root {
    rc_gchead *g;
    rc_gchead *link; /* its gc_refs link before the proof */
} proof_root;

typedef struct proof {
    uint32_t excluded;
    ptrdiff_t pending; /* objects touched and not cleaned yet */
    bool failed;       /* a taken root's count ran out */
} proof;

/* The quick proof's visit of one reference; false if it used up the last
 * of a taken root's count (the proof fails).  *pending as proof's. */
RC_INLINE bool prove_child(void *child, uint32_t excluded, ptrdiff_t *pending, bool bwd) {
    if (!child)
        return true;
    rc_objhead *hd = RC_OBJHEAD(child);
    uint32_t info = hd->info;
    uint32_t m = info & (RC_OF_GC | RC_OF_TRACKED | excluded | RC_OF_COLLECTING | RC_OF_ROOTED);
    if (m == (RC_OF_GC | RC_OF_TRACKED)) { /* first touch */
        hd->info = info | RC_OF_COLLECTING;
        ++*pending;
    } else if (RC_UNLIKELY(m == (RC_OF_GC | RC_OF_TRACKED | RC_OF_ROOTED))) {
        /* a taken root, after its turn */
        rc_gchead **link = refs_link(RC_GCHEAD(child), bwd);
        uintptr_t left = (uintptr_t)*link & 1 ? (uintptr_t)*link >> 1 : hd->refcnt;
        if (left <= 1)
            return false; /* all its count came from the set */
        /* (with 32-bit pointers a count of 2^31 or more loses its top bit
         * here: it only gets smaller, so the proof can only fail sooner) */
        *link = (rc_gchead *)(((left - 1) << 1) | 1);
    }
    return true;
}

static void visit_prove_fwd(void *child, void *arg) {
    proof *pf = arg;
    if (!pf->failed && !prove_child(child, pf->excluded, &pf->pending, false))
        pf->failed = true;
}
static void visit_prove_bwd(void *child, void *arg) {
    proof *pf = arg;
    if (!pf->failed && !prove_child(child, pf->excluded, &pf->pending, true))
        pf->failed = true;
}

/* True, with *examined, if the quick proof holds: the list is then in its
 * final state; false if it failed, the list then as before the proof. */
RC_INLINE bool prove_reachable(const rc_objstate *st, rc_gchead *list, int gen, uint32_t set_bits,
                               size_t *examined, bool bwd) {
    uint32_t excluded = excluded_bits(gen);
    ptrdiff_t pending = 0;
    proof_root roots[PROOF_ROOTS];
    size_t nroots = 0, n = 0;
    bool walk = false; /* more taken roots than remembered */
    rc_gchead *prev = list;
    for (rc_gchead *g = *scan_link(list, bwd); g != list; prev = g, g = *scan_link(g, bwd)) {
        void *o = RC_FROM_GCHEAD(g);
        rc_objhead *hd = RC_OBJHEAD(o);
        uint32_t info = hd->info;
        if (info & RC_OF_COLLECTING) { /* touched by an earlier object: done with it */
            hd->info = (info & ~(RC_OF_COLLECTING | RC_OF_GEN1)) | set_bits;
            pending--;
        } else { /* a taken root */
            if (hd->refcnt == 0)
                goto failed;
            hd->info = info | RC_OF_ROOTED;
            if (nroots < PROOF_ROOTS)
                roots[nroots++] = (proof_root){g, prev};
            else
                walk = true;
        }
        n++;
        const rc_type *t = st->types[info & RC_INFO_TYPE_MASK];
        if (t->refs) {
            rc_refs r = t->refs(o);
            for (size_t i = 0; i < r.n; i++)
                if (!prove_child(r.items[i], excluded, &pending, bwd))
                    goto failed;
        } else {
            proof pf = {excluded, pending, false};
            t->traverse(o, bwd ? visit_prove_bwd : visit_prove_fwd, &pf);
            if (pf.failed)
                goto failed;
            pending = pf.pending;
        }
    }
    if (walk || pending != 0) {
        keep_all(list, set_bits, bwd);
    } else {
        for (size_t i = 0; i < nroots; i++) {
            rc_objhead *hd = RC_OBJHEAD(RC_FROM_GCHEAD(roots[i].g));
            hd->info = (hd->info & ~(RC_OF_ROOTED | RC_OF_GEN1)) | set_bits;
            *refs_link(roots[i].g, bwd) = roots[i].link;
        }
    }
    *examined = n;
    return true;
failed:
    relink_all(list, RC_OF_COLLECTING | RC_OF_ROOTED | set_bits, 0, bwd);
    return false;
}

/* The two passes in each direction, each compiled on its own. */
static RC_NOINLINE size_t subtract_fwd(const rc_objstate *st, rc_gchead *list, int gen,
                                       bool *unproven, uint64_t *sum) {
    return update_and_subtract(st, list, gen, unproven, sum, false);
}
static RC_NOINLINE size_t subtract_bwd(const rc_objstate *st, rc_gchead *list, int gen,
                                       bool *unproven, uint64_t *sum) {
    return update_and_subtract(st, list, gen, unproven, sum, true);
}
static RC_NOINLINE bool prove_fwd(const rc_objstate *st, rc_gchead *list, int gen,
                                   uint32_t set_bits, size_t *examined) {
    return prove_reachable(st, list, gen, set_bits, examined, false);
}
static RC_NOINLINE bool prove_bwd(const rc_objstate *st, rc_gchead *list, int gen,
                                  uint32_t set_bits, size_t *examined) {
    return prove_reachable(st, list, gen, set_bits, examined, true);
}
static RC_NOINLINE void keep_all_fwd(rc_gchead *list, uint32_t set_bits) {
    keep_all(list, set_bits, false);
}
static RC_NOINLINE void keep_all_bwd(rc_gchead *list, uint32_t set_bits) {
    keep_all(list, set_bits, true);
}
static RC_NOINLINE size_t move_fwd(const rc_objstate *st, rc_gchead *list, rc_gchead *unreachable,
                                   uint32_t set_bits, bool *finalizers,
                                   size_t *moved) {
    return move_unreachable_dir(st, list, unreachable, set_bits, finalizers, moved,
                                false);
}
static RC_NOINLINE size_t move_bwd(const rc_objstate *st, rc_gchead *list, rc_gchead *unreachable,
                                   uint32_t set_bits, bool *finalizers,
                                   size_t *moved) {
    return move_unreachable_dir(st, list, unreachable, set_bits, finalizers, moved,
                                true);
}

/* Oldest first, as the resurrection pass marks. */
static size_t move_unreachable(const rc_objstate *st, rc_gchead *list, rc_gchead *unreachable,
                               uint32_t set_bits, bool *finalizers) {
    size_t moved;
    return move_fwd(st, list, unreachable, set_bits, finalizers, &moved);
}

/* All garbage.  Pass 1 also keeps the sum of the gc_refs it writes (a count
 * added at an object's first touch, one taken off for each reference from
 * inside the set it subtracts).  No gc_refs is below zero, so a sum of zero
 * says that nothing outside the set refers to any object of it: all of it
 * is garbage, and marking has nothing to find.  The collection then skips
 * pass 2, and the list, its forward links whole and its backward links
 * holding the zero counts, becomes the unreachable list as it is (the
 * chain).  Deletion needs the backward links (a dying object unlinks
 * itself), and puts them back as it goes, with a frontier running ahead
 * of it (bulk_ahead): what the frontier has passed has its link back and
 * has shed the marking's bits, RC_OF_COLLECTING among them, so it dies by
 * the common path; an object past the frontier still has RC_OF_COLLECTING,
 * and its death, or untracking, takes the rare path, which first brings
 * the frontier up to it (bulk_leave).  Each link is put back once, in
 * whatever order objects die.  Only when no user code can run before the
 * clears (no finalizer to run, no weakref with a live target) and nothing
 * is to be kept or reported per object (neither SAVEALL nor COLLECTABLE),
 * and only after an oldest-first pass 1 (full collections always are), so
 * that the chain runs along `next`.  gc_collect 100K (2-cycles, all
 * garbage): pass 2's walk gone, 20.1 -> 16.6 ns per object. */

/* Passes 1 and 2 of a collection of generation `gen` (its list `young`
 * holding generations 0..gen), in the direction chosen for it; the next
 * collection of a young generation (0 or 1) goes the other way if this one
 * brought more than a quarter of the objects back from the unreachable list
 * (if the other way is no better, the one after flips back).  A young
 * generation's list is in creation order, so the objects' construction
 * order decides, and it holds for many collections in a row (GCBench: its
 * top-down and bottom-up phases; 9.4 of the 19.1 million objects its
 * collections examined came back when every scan went oldest first, 2.155
 * -> 1.898 G instructions with the choice).  The oldest generation is
 * always scanned oldest first: its list is in the order of earlier
 * markings, not of construction, and GCBench's full collections brought
 * nearly every object back either way, the newest-first ones in half again
 * the time.  Before them, the quick proof if the last collection of the
 * generation proved its set reachable; after pass 1, no marking if pass 1
 * proved it, or found all of it garbage when `bulk_ok` (then the set is
 * left in `unreachable` as the chain; *how says which settled it).
 * Returns the objects kept; *examined the objects of the set. */
typedef enum marked_by { MARKED, PROVED_FIRST_PASS, PROVED_QUICK, ALL_GARBAGE } marked_by;

static size_t mark(rc_gcstate *gs, const rc_objstate *st, int gen, rc_gchead *young,
                   rc_gchead *unreachable, bool *finalizers, bool bulk_ok, size_t *examined,
                   marked_by *how) {
    uint32_t set_bits = gen >= 1 ? RC_OF_OLD : RC_OF_GEN1;
    size_t kept, moved;
    bool unproven;
    uint64_t sum;
    bool bwd = gs->scan_newest_first[gen];
    if (finalizers)
        *finalizers = false;
    *how = PROVED_QUICK;
    if (gs->proved[gen] && (bwd ? prove_bwd(st, young, gen, set_bits, examined)
                                : prove_fwd(st, young, gen, set_bits, examined)))
        return *examined; /* all reachable: "The quick proof" */
    *examined = bwd ? subtract_bwd(st, young, gen, &unproven, &sum)
                    : subtract_fwd(st, young, gen, &unproven, &sum);
    gs->proved[gen] = !unproven;
    *how = PROVED_FIRST_PASS;
    if (!unproven) { /* all reachable: "Proof by scan order" */
        if (bwd)
            keep_all_bwd(young, set_bits);
        else
            keep_all_fwd(young, set_bits);
        return *examined;
    }
    if (sum == 0 && !bwd && bulk_ok) { /* "All garbage": the list becomes the chain */
        *how = ALL_GARBAGE;
        rc_gchead *first = young->next;
        first->prev = unreachable;
        young->prev->next = unreachable;
        unreachable->next = first;
        unreachable->prev = young->prev;
        gclist_init(young);
        return 0;
    }
    *how = MARKED;
    if (bwd)
        kept = move_bwd(st, young, unreachable, set_bits, finalizers, &moved);
    else
        kept = move_fwd(st, young, unreachable, set_bits, finalizers, &moved);
    size_t brought_back = moved - (*examined - kept);
    if (brought_back > *examined / 4 && gen < RC_GC_GENERATIONS - 1)
        gs->scan_newest_first[gen] = !gs->scan_newest_first[gen];
    return kept;
}

/* Move every object of `from` to `to`, clearing their collection flag; into
 * the oldest generation, they are counted there. */
static void release_to(rc_gcstate *gs, rc_gchead *from, rc_gchead *to) {
    bool old = to == &gs->gen[RC_GC_GENERATIONS - 1];
    bool gen1 = to == &gs->gen[1];
    for (rc_gchead *g = from->next; g != from; g = g->next) {
        rc_objhead *hd = RC_OBJHEAD(RC_FROM_GCHEAD(g));
        hd->info &= ~(RC_OF_COLLECTING | RC_OF_FROZEN | RC_OF_UNREACHABLE | RC_OF_CHILDLESS);
        if (old) {
            hd->info &= ~RC_OF_GEN1;
            if (!(hd->info & RC_OF_OLD)) {
                hd->info |= RC_OF_OLD;
                gs->old_count++;
            }
        } else if (gen1) {
            hd->info |= RC_OF_GEN1;
        }
    }
    gclist_merge(from, to);
}

/* ---- Finalization and deletion ------------------------------------------------------- */

static void finalize_garbage(const rc_objstate *st, rc_gchead *unreachable) {
    rc_gchead seen;
    gclist_init(&seen);
    while (!gclist_empty(unreachable)) {
        rc_gchead *g = unreachable->next;
        gclist_move(g, &seen); /* if o dies meanwhile, it unlinks itself from `seen` */
        void *o = RC_FROM_GCHEAD(g);
        const rc_type *t = type_of(st, o);
        rc_objhead *hd = RC_OBJHEAD(o);
        if (t->finalize && !(hd->info & RC_OF_FINALIZED)) {
            hd->info |= RC_OF_FINALIZED;
            rc_incref(o);
            t->finalize(o);
            rc_decref(o);
        }
    }
    gclist_merge(&seen, unreachable);
}

/* Whether some live object's type has a finalizer.  When none has (most
 * collections of most programs), the marking scan does not look up each
 * unreachable object's type for one: on GCBench, where half the scans send
 * an object to the unreachable list before its parent brings it back, that
 * look was 1.3% of the collector's instructions.  O(types) per collection. */
static bool finalizers_possible(const rc_objstate *st) {
    if (!st) /* no object was ever made in this heap */
        return false;
    for (uint32_t i = 1; i < st->ntypes; i++)
        if ((st->tflags[i] & RC_TF_FINALIZE) && st->live_of[i] != 0)
            return true;
    return false;
}

/* PEP 442: after finalizers ran, whatever they made reachable from outside
 * the unreachable set (and everything it reaches) is moved to `old`. */
static void handle_resurrected(rc_gcstate *gs, const rc_objstate *st, rc_gchead *unreachable,
                               rc_gchead *old) {
    rc_gchead still;
    gclist_init(&still);
    update_refs(unreachable);
    subtract_refs(st, unreachable);
    move_unreachable(st, unreachable, &still, 0, NULL); /* resurrected ones stay */
    release_to(gs, unreachable, old);
    gclist_merge(&still, unreachable);
}

static void debug_print(rc_gcstate *gs, const rc_objstate *st, const char *what, rc_gchead *list) {
    for (rc_gchead *g = list->next; g != list; g = g->next) {
        void *o = RC_FROM_GCHEAD(g);
        const char *name = type_of(st, o)->name;
        fprintf(debug_out(gs), "gc: %s <%s %p>\n", what, name ? name : "?", o);
    }
}

/* Hold a reference to o in the garbage list; false if out of memory. */
static bool garbage_append(rc_heap *h, rc_gcstate *gs, void *o) {
    if (gs->ngarbage == gs->garbage_cap) {
        size_t cap = gs->garbage_cap ? gs->garbage_cap * 2 : 16;
        void **g = rc_realloc(h, gs->garbage, cap * sizeof *g);
        if (!g)
            return false;
        gs->garbage = g;
        gs->garbage_cap = cap;
    }
    rc_incref(o);
    gs->garbage[gs->ngarbage++] = o;
    return true;
}

/* A bulk deletion's loop, about to clear g (the chain's first object).
 * The frontier must be at least two objects past g, so that the deaths the
 * clear causes nearby (g's own, and its successor's: a 2-cycle) find their
 * links restored and take the common path.  If it is not (at the start, or
 * after the clears ran past it), it jumps RC_BULK_STRIDE objects on;
 * otherwise it moves two, ahead of the deletion, which takes one object a
 * turn at least: the loads of the frontier's walk overlap the clears'
 * work, rather than stalling a pass of their own (gc_collect 100K: 17.6
 * ns per object with the jumps alone, 16.0 with the steady steps), and
 * the lines they touch are in the cache when the deletion comes to them. */
#define RC_BULK_STRIDE 16

RC_INLINE void bulk_ahead(rc_gcstate *gs, rc_gchead *g) {
    rc_gchead *f = gs->bulk_front, *chain = gs->bulk_chain;
    if (RC_LIKELY(f != chain && f != g && f != g->next)) {
        gs->bulk_front = bulk_steps(f, chain, 2);
        return;
    }
    gs->bulk_front = bulk_steps(bulk_start(f, chain), chain, RC_BULK_STRIDE); /* past g and its successor */
}

/* g, the chain's first object, leaves it alive (it survived its clear, or
 * has none): as the frontier's passing would, it sheds the marking's bits,
 * but keeps RC_OF_COLLECTING, as objects off the chain do in any deletion
 * until release_to. */
static void bulk_off_chain(rc_gcstate *gs, rc_gchead *g) {
    if (gs->bulk_front == g)
        gs->bulk_front = gs->bulk_chain;
    RC_OBJHEAD(RC_FROM_GCHEAD(g))->info &= ~(RC_OF_BULK_CLEARS & ~RC_OF_COLLECTING);
}

/* Break the cycles of the unreachable set.  Returns the uncollectable count;
 * everything that survives ends in `old`. */
static size_t delete_garbage(rc_heap *h, rc_gcstate *gs, const rc_objstate *st,
                             rc_gchead *unreachable, rc_gchead *old, bool bulk) {
    if (gs->debug & RC_GC_DEBUG_SAVEALL) {
        for (rc_gchead *g = unreachable->next; g != unreachable; g = g->next)
            garbage_append(h, gs, RC_FROM_GCHEAD(g)); /* on failure the object simply survives */
        release_to(gs, unreachable, old);
        return 0;
    }
    rc_gchead cleared, unclearable;
    gclist_init(&cleared);
    gclist_init(&unclearable);
    /* With RC_GC_DEBUG_COLLECTABLE, each object is reported as it is freed
     * (rc__gc_report_freed), so the uncollectable ones never are. */
    gs->deleting = bulk || (gs->debug & RC_GC_DEBUG_COLLECTABLE) != 0;
    if (bulk)
        gs->bulk_chain = gs->bulk_front = unreachable;
    /* Weakrefs that finalizers made to garbage: cleared, silently, before
     * any clear() can free objects and run callbacks (CPython GH-136401). */
    rc__weakrefs_silence_unreachable(h, gs, unreachable);
    while (!gclist_empty(unreachable)) {
        rc_gchead *g = unreachable->next;
        void *o = RC_FROM_GCHEAD(g);
        if (bulk)
            bulk_ahead(gs, g);
        const rc_type *t = type_of(st, o);
        if (t->clear) {
            rc_incref(o);
            t->clear(o);
            rc_decref(o); /* usually frees o, which unlinks it */
            /* Still first, o lives on (held from elsewhere now).  Only the
             * marking links objects into this list, so nothing can have come
             * in front of o: if o is not first, it left the list (freed,
             * deferred, or untracked or retracked by clear, and it stays
             * where that put it), and if g is first, it is still o. */
            if (unreachable->next == g) {
                if (bulk)
                    bulk_off_chain(gs, g);
                gclist_move(g, &cleared);
            }
        } else {
            if (bulk)
                bulk_off_chain(gs, g);
            gclist_move(g, &unclearable); /* freed later if a neighbour's clear frees it */
        }
    }
    gs->deleting = false;
    gs->bulk_chain = gs->bulk_front = NULL;
    /* What is left of the unclearable: nothing in their group could break it. */
    size_t uncollectable = gclist_size(&unclearable);
    if (uncollectable && (gs->debug & RC_GC_DEBUG_UNCOLLECTABLE))
        debug_print(gs, st, "uncollectable", &unclearable);
    for (rc_gchead *g = unclearable.next; g != &unclearable; g = g->next)
        garbage_append(h, gs, RC_FROM_GCHEAD(g));
    release_to(gs, &unclearable, old);
    release_to(gs, &cleared, old); /* survived their clear (held from elsewhere now) */
    return uncollectable;
}

/* ---- A collection -------------------------------------------------------------------- */

static intptr_t collect(rc_heap *h, rc_gcstate *gs, int gen, size_t *uncollectable_out) {
    const rc_objstate *st = objstate(h);
    clock_t t0 = 0;
    if (gs->debug & RC_GC_DEBUG_STATS) {
        t0 = clock();
        fprintf(debug_out(gs), "gc: collecting generation %d...\n", gen);
        fprintf(debug_out(gs), "gc: objects in each generation: %zu %zu %zu\n",
                gclist_size(&gs->gen[0]), gclist_size(&gs->gen[1]), gclist_size(&gs->gen[2]));
        fprintf(debug_out(gs), "gc: objects in permanent generation: %zu\n",
                gclist_size(&gs->gen[RC_GC_PERMANENT]));
    }
    if (gen + 1 < RC_GC_GENERATIONS)
        gs->count[gen + 1]++;
    for (int i = 0; i <= gen; i++)
        gs->count[i] = 0;
    for (int i = 0; i < gen; i++)
        gclist_merge(&gs->gen[i], &gs->gen[gen]);
    rc_gchead *young = &gs->gen[gen];
    rc_gchead *old = gen + 1 < RC_GC_GENERATIONS ? &gs->gen[gen + 1] : young;

    rc_gchead unreachable;
    gclist_init(&unreachable);
    /* survivors move up: to generation 1, or to the oldest */
    bool finalizers = finalizers_possible(st);
    /* A bulk deletion runs no user code before the clears, and reports
     * nothing object by object: no finalizer, no weakref, no saving. */
    bool bulk_ok = !finalizers && gs->wlive == 0 &&
                   !(gs->debug & (RC_GC_DEBUG_SAVEALL | RC_GC_DEBUG_COLLECTABLE));
    size_t examined;
    marked_by how;
    size_t survivors = mark(gs, st, gen, young, &unreachable, finalizers ? &finalizers : NULL,
                            bulk_ok, &examined, &how);
    if ((gs->debug & RC_GC_DEBUG_STATS) && how == ALL_GARBAGE)
        fprintf(debug_out(gs), "gc: all %zu objects unreachable, found by the first pass\n",
                examined);
    else if ((gs->debug & RC_GC_DEBUG_STATS) && how != MARKED)
        fprintf(debug_out(gs), "gc: all %zu objects reachable, proved by scan order (%s)\n",
                examined, how == PROVED_QUICK ? "quick proof" : "first pass");
    size_t found = examined - survivors;
    if (gen == RC_GC_GENERATIONS - 1) {
        gs->old_count = survivors;
        gs->long_lived_total = survivors;
    } else {
        if (gen == RC_GC_GENERATIONS - 2)
            gs->old_count += survivors;
        gclist_merge(young, old);
    }

    /* User code (weakref callbacks, finalizers) may resurrect objects; when
     * none runs, the unreachable set stands as it is. */
    bool callbacks = rc__weakrefs_handle_unreachable(h, gs, &unreachable);
    if (finalizers)
        finalize_garbage(st, &unreachable);
    if (finalizers || callbacks) {
        handle_resurrected(gs, st, &unreachable, old);
        found = gclist_size(&unreachable);
    }
    if (found && (gs->debug & RC_GC_DEBUG_COLLECTABLE) && (gs->debug & RC_GC_DEBUG_SAVEALL))
        debug_print(gs, st, "collectable", &unreachable); /* kept, not freed */
    size_t uncollectable = delete_garbage(h, gs, st, &unreachable, old, how == ALL_GARBAGE);

    gs->stats[gen].collections++;
    gs->stats[gen].collected += found - uncollectable;
    gs->stats[gen].uncollectable += uncollectable;
    if (gs->debug & RC_GC_DEBUG_STATS)
        fprintf(debug_out(gs), "gc: done, %zu unreachable, %zu uncollectable, %.4fs elapsed\n", found,
                uncollectable, (double)(clock() - t0) / CLOCKS_PER_SEC);
    *uncollectable_out = uncollectable;
    return (intptr_t)found;
}

/* Run the callbacks in order.  A callback may add callbacks (they run too)
 * or remove any (rc_gc_callback_remove moves the cursor back when it removes
 * one at or before it, so none is skipped and a removed one is not run). */
static void run_callbacks(rc_heap *h, rc_gcstate *gs, rc_gc_phase phase, const rc_gc_info *info) {
    for (gs->cb_next = 0; gs->cb_next < (ptrdiff_t)gs->ncallbacks; gs->cb_next++) {
        rc_gc_cbentry e = gs->callbacks[gs->cb_next];
        e.cb(h, phase, info, e.arg);
    }
    gs->cb_next = -1;
}

static intptr_t collect_with_callbacks(rc_heap *h, rc_gcstate *gs, int gen) {
    gs->collecting = true;
    update_trigger(gs);
    rc_gc_info info = {gen, 0, 0};
    run_callbacks(h, gs, RC_GC_START, &info);
    size_t uncollectable = 0;
    intptr_t found = collect(h, gs, gen, &uncollectable);
    info.collected = (size_t)found - uncollectable;
    info.uncollectable = uncollectable;
    run_callbacks(h, gs, RC_GC_STOP, &info);
    gs->collecting = false;
    update_trigger(gs);
    return found;
}

/* ---- The gc module API ------------------------------------------------------------- */

intptr_t rc_gc_collect(rc_heap *h, int generation) {
    if (generation < 0 || generation >= RC_GC_GENERATIONS)
        return -1;
    rc_gcstate *gs = rc__gc_state(h); /* made: even an empty collection counts in the stats */
    if (!gs || gs->collecting)
        return 0;
    return collect_with_callbacks(h, gs, generation);
}

void rc_gc_enable(rc_heap *h) {
    rc_gcstate *gs = gc_state_if_made(h);
    if (gs) { /* without a state, collection is on already */
        gs->enabled = true;
        update_trigger(gs);
    }
}

int rc_gc_disable(rc_heap *h) {
    rc_gcstate *gs = rc__gc_state(h);
    if (!gs)
        return -1;
    gs->enabled = false;
    update_trigger(gs);
    return 0;
}

int rc_gc_is_enabled(rc_heap *h) {
    rc_gcstate *gs = gc_state_if_made(h);
    return gs ? gs->enabled : 1;
}

int rc_gc_set_threshold(rc_heap *h, long t0, long t1, long t2) {
    rc_gcstate *gs = rc__gc_state(h);
    if (!gs)
        return -1;
    gs->threshold[0] = t0 < 0 ? 0 : t0;
    gs->threshold[1] = t1 < 0 ? 0 : t1;
    gs->threshold[2] = t2 < 0 ? 0 : t2;
    update_trigger(gs);
    return 0;
}

void rc_gc_get_threshold(rc_heap *h, long out[RC_GC_GENERATIONS]) {
    rc_gcstate *gs = gc_state_if_made(h);
    for (int i = 0; i < RC_GC_GENERATIONS; i++)
        out[i] = gs ? gs->threshold[i] : default_threshold[i];
}

void rc_gc_get_count(rc_heap *h, long out[RC_GC_GENERATIONS]) {
    rc_gcstate *gs = gc_state_if_made(h);
    for (int i = 0; i < RC_GC_GENERATIONS; i++)
        out[i] = gs ? gs->count[i] : 0;
}

void rc_gc_freeze(rc_heap *h) {
    rc_gcstate *gs = gc_state_if_made(h);
    if (!gs)
        return; /* nothing tracked */
    for (int i = 0; i < RC_GC_GENERATIONS; i++) {
        for (rc_gchead *g = gs->gen[i].next; g != &gs->gen[i]; g = g->next) {
            rc_objhead *hd = RC_OBJHEAD(RC_FROM_GCHEAD(g));
            hd->info = (hd->info & ~(RC_OF_OLD | RC_OF_GEN1)) | RC_OF_FROZEN;
        }
        gclist_merge(&gs->gen[i], &gs->gen[RC_GC_PERMANENT]);
    }
    gs->old_count = 0;
    gs->count[0] = 0;
}

void rc_gc_unfreeze(rc_heap *h) {
    rc_gcstate *gs = gc_state_if_made(h);
    if (gs)
        release_to(gs, &gs->gen[RC_GC_PERMANENT], &gs->gen[RC_GC_GENERATIONS - 1]);
}

size_t rc_gc_freeze_count(rc_heap *h) { return rc_gc_generation_size(h, RC_GC_PERMANENT); }

size_t rc_gc_generation_size(rc_heap *h, int generation) {
    rc_gcstate *gs = gc_state_if_made(h);
    if (!gs || generation < 0 || generation > RC_GC_PERMANENT)
        return 0;
    return gclist_size(&gs->gen[generation]);
}

/* The objects a walk hands to its fn are listed first, each held by a
 * reference until the walk ends: fn may then free or create objects,
 * untrack, freeze or collect, and the walk never follows a link it changed. */
typedef struct walk_list {
    void **items;
    size_t n, cap;
} walk_list;

/* Hold o in the list; false (the list left as it was) if it cannot grow. */
static bool walk_list_push(rc_heap *h, walk_list *w, void *o) {
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        void **items = cap <= SIZE_MAX / sizeof *items ? rc_realloc(h, w->items, cap * sizeof *items) : NULL;
        if (!items)
            return false;
        w->items = items;
        w->cap = cap;
    }
    rc_incref(o);
    w->items[w->n++] = o;
    return true;
}

/* Drop the walk's references (which may free what fn let go of). */
static void walk_list_release(walk_list *w) {
    for (size_t i = 0; i < w->n; i++)
        rc_decref(w->items[i]);
    rc_free(w->items);
}

/* Hand each listed object to fn, then release the list.  Returns the count,
 * or -1 without calling fn if the list could not be made (`ok` false). */
static intptr_t walk_list_run(walk_list *w, bool ok, void (*fn)(void *o, void *arg), void *arg) {
    if (ok)
        for (size_t i = 0; i < w->n; i++)
            fn(w->items[i], arg);
    walk_list_release(w);
    return ok ? (intptr_t)w->n : -1;
}

intptr_t rc_gc_get_objects(rc_heap *h, int generation, void (*fn)(void *o, void *arg), void *arg) {
    if (generation < -1 || generation > RC_GC_PERMANENT)
        return -1;
    rc_gcstate *gs = gc_state_if_made(h);
    if (!gs)
        return 0; /* no state, so nothing was ever tracked */
    walk_list w = {NULL, 0, 0};
    bool ok = true;
    for (int i = 0; i <= RC_GC_PERMANENT; i++)
        if (generation == -1 || generation == i)
            for (rc_gchead *g = gs->gen[i].next; ok && g != &gs->gen[i]; g = g->next)
                ok = walk_list_push(h, &w, RC_FROM_GCHEAD(g));
    return walk_list_run(&w, ok, fn, arg);
}

typedef struct referrer_search {
    void *const *objs;
    size_t n;
    bool found;
} referrer_search;

static void visit_referrer(void *child, void *arg) {
    referrer_search *s = arg;
    for (size_t i = 0; !s->found && i < s->n; i++)
        if (s->objs[i] == child)
            s->found = true;
}

intptr_t rc_gc_get_referrers(rc_heap *h, void *const *objs, size_t n,
                             void (*fn)(void *referrer, void *arg), void *arg) {
    if (!n)
        return 0;
    rc_gcstate *gs = gc_state_if_made(h);
    if (!gs)
        return 0; /* nothing tracked */
    const rc_objstate *st = objstate(h);
    walk_list w = {NULL, 0, 0};
    bool ok = true;
    /* traverse runs no user code that could change the lists */
    for (int i = 0; i <= RC_GC_PERMANENT; i++) {
        for (rc_gchead *g = gs->gen[i].next; ok && g != &gs->gen[i]; g = g->next) {
            void *o = RC_FROM_GCHEAD(g);
            referrer_search s = {objs, n, false};
            type_of(st, o)->traverse(o, visit_referrer, &s);
            if (s.found)
                ok = walk_list_push(h, &w, o);
        }
    }
    return walk_list_run(&w, ok, fn, arg);
}

typedef struct referent_visit {
    void (*fn)(void *child, void *arg);
    void *arg;
} referent_visit;

static void visit_referent(void *child, void *arg) {
    referent_visit *v = arg;
    if (child) /* traverse may pass NULL slots */
        v->fn(child, v->arg);
}

void rc_gc_get_referents(void *o, void (*fn)(void *child, void *arg), void *arg) {
    referent_visit v = {fn, arg};
    rc_traverse(o, visit_referent, &v);
}

int rc_gc_callback_add(rc_heap *h, rc_gc_callback cb, void *arg) {
    if (!cb)
        return -1;
    rc_gcstate *gs = rc__gc_state(h);
    if (!gs)
        return -1;
    if (gs->ncallbacks == gs->callbacks_cap) {
        size_t cap = gs->callbacks_cap ? gs->callbacks_cap * 2 : 4;
        rc_gc_cbentry *c = rc_realloc(h, gs->callbacks, cap * sizeof *c);
        if (!c)
            return -1;
        gs->callbacks = c;
        gs->callbacks_cap = cap;
    }
    gs->callbacks[gs->ncallbacks].cb = cb;
    gs->callbacks[gs->ncallbacks].arg = arg;
    gs->ncallbacks++;
    return 0;
}

int rc_gc_callback_remove(rc_heap *h, rc_gc_callback cb, void *arg) {
    rc_gcstate *gs = gc_state_if_made(h);
    if (!gs)
        return -1;
    for (size_t i = 0; i < gs->ncallbacks; i++) {
        if (gs->callbacks[i].cb == cb && gs->callbacks[i].arg == arg) {
            memmove(&gs->callbacks[i], &gs->callbacks[i + 1],
                    (gs->ncallbacks - i - 1) * sizeof gs->callbacks[0]);
            gs->ncallbacks--;
            if (gs->cb_next >= 0 && (ptrdiff_t)i <= gs->cb_next)
                gs->cb_next--; /* removed while callbacks run */
            return 0;
        }
    }
    return -1;
}

void rc_gc_get_stats(rc_heap *h, rc_gc_gen_stats out[RC_GC_GENERATIONS]) {
    rc_gcstate *gs = gc_state_if_made(h);
    for (int i = 0; i < RC_GC_GENERATIONS; i++) {
        if (gs)
            out[i] = gs->stats[i];
        else
            memset(&out[i], 0, sizeof out[i]);
    }
}

size_t rc_gc_garbage_count(rc_heap *h) {
    rc_gcstate *gs = gc_state_if_made(h);
    return gs ? gs->ngarbage : 0;
}

void *rc_gc_garbage_get(rc_heap *h, size_t i) {
    rc_gcstate *gs = gc_state_if_made(h);
    return gs && i < gs->ngarbage ? gs->garbage[i] : NULL;
}

void rc_gc_garbage_clear(rc_heap *h) {
    rc_gcstate *gs = gc_state_if_made(h);
    if (!gs)
        return;
    /* detach first: dropping a reference may run code that touches the list */
    void **items = gs->garbage;
    size_t n = gs->ngarbage;
    gs->garbage = NULL;
    gs->ngarbage = gs->garbage_cap = 0;
    for (size_t i = 0; i < n; i++)
        rc_decref(items[i]);
    rc_free(items);
}

int rc_gc_set_debug(rc_heap *h, unsigned flags, FILE *out) {
    rc_gcstate *gs = rc__gc_state(h);
    if (!gs)
        return -1;
    gs->debug = flags;
    gs->debug_out = out;
    return 0;
}

unsigned rc_gc_get_debug(rc_heap *h) {
    rc_gcstate *gs = gc_state_if_made(h);
    return gs ? gs->debug : 0;
}
