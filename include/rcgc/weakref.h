/*
 * rcgc/weakref.h — weak references.
 *
 * A weak reference refers to an object without keeping it alive.  When the
 * object dies — by reference counting or in a collection — the weak
 * reference is cleared first (rc_weakref_get then returns NULL) and its
 * callback, if any, runs with the weakref.  In a collection, a callback runs
 * only if the weakref object is itself still reachable (a weakref that dies
 * with its target's cycle stays silent, as in CPython).
 *
 * A weakref is an object (an RC_TYPE_GC container of type rc_weakref_type),
 * so it is released with rc_decref like any other.
 */
#ifndef RCGC_WEAKREF_H
#define RCGC_WEAKREF_H

#include "rcgc/object.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Called once, when the weakref's target dies, with the (already cleared)
 *  weakref and the `arg` given at creation. */
typedef void (*rc_weakref_callback)(void *weakref, void *arg);

/** The type of the objects rc_weakref_new returns (for rc_type_of checks). */
RC_API extern const rc_type rc_weakref_type;

/** A new weak reference to target (an object of any type), in target's heap.
 *  NULL if target is NULL or memory runs out. */
RC_API void *rc_weakref_new(void *target, rc_weakref_callback callback, void *arg);
/** A new strong reference to the target, or NULL once it is gone or dying
 *  (its count reached 0, its death deferred: rcgc/object.h) (and for
 *  NULL or an object that is not a weakref). */
RC_API void *rc_weakref_get(void *weakref);
/** Number of weak references to o (a live object, not NULL) that are still
 *  set. */
RC_API size_t rc_weakref_count(const void *o);

#ifdef __cplusplus
}
#endif
#endif /* RCGC_WEAKREF_H */
