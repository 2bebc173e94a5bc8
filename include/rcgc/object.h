/*
 * rcgc/object.h — objects, type descriptors and reference counting.
 *
 * An object is a block from a heap with a small header hidden in front of the
 * pointer the user gets, so user structs are plain C structs:
 *
 *                                          object pointer (what rc_new returns)
 *                                          |
 *                                          v
 *   [ gc prev | gc next ] [ refcnt | info ] [ the user's struct (t->size) + extra ]
 *    16 bytes, only for    8 bytes, every
 *    RC_TYPE_GC types      object
 *
 * `info` holds the type's index in the heap's type table (types are
 * registered with a heap the first time an object of theirs is made) and the
 * object's flags.  Objects cost 8 bytes of header (CPython: 16) and 24 for
 * containers that take part in cycle collection (CPython: 32).  The GC head
 * is two pointers: on 32-bit targets 8 bytes, so containers cost 16 there.
 * Object bodies are 8-byte aligned.
 *
 * Reference counting: rc_incref/rc_decref are inline; the object is
 * finalized (once, PEP 442), destroyed and freed when its count reaches zero.
 * Dropping the last reference to a structure of any depth (a 10-million-long
 * chain) runs in constant C stack: deallocations nested deeper than
 * RC_DEALLOC_DEPTH are deferred to a work list and done by the outermost one.
 * That includes finalizers and weakref callbacks that drop the next link: a
 * death deferred before its finalizer ran runs it when its turn comes
 * (meanwhile its count is 0, its weakrefs give NULL and the collector does
 * not see it; a container resurrected then restarts in generation 0).
 *
 * Threads: as for heaps — one thread drives a heap's objects at a time.
 *
 * Heaps: an object may hold references (the ones its traverse reports) only
 * to objects of its own heap.  Heaps share nothing: each one's collector
 * examines and unlinks only its own objects, and rc_heap_destroy() frees
 * them without looking at who else refers to them.
 *
 * rc_heap_destroy() releases every object still alive in the heap at once,
 * without running finalizers or destroy callbacks (as a process exit does).
 *
 * Arguments: unless a function says otherwise, objects, heaps, types and
 * callbacks passed in must not be NULL, and an object must be a live object
 * of an rcgc heap.
 */
#ifndef RCGC_OBJECT_H
#define RCGC_OBJECT_H

#include "rcgc/heap.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Types ---------------------------------------------------------------- */

/** A container that can take part in reference cycles: it has a GC head and
 *  must provide traverse (and clear, for the collector to break cycles). */
#define RC_TYPE_GC 0x1u
/** Objects of this type cannot be dict keys (like Python's list and dict). */
#define RC_TYPE_UNHASHABLE 0x2u
/** With RC_TYPE_GC: objects of this type are made untracked, and the type
 *  calls rc_gc_track on one once it may hold a reference that is on a cycle
 *  (the built-in tuple and dict do, while their contents are atomic).  The
 *  collector's allocation count (rc_gc_get_count) counts them all the same. */
#define RC_TYPE_UNTRACKED 0x4u

/** Called by a type's traverse for each strong reference it holds. */
typedef void (*rc_visit_fn)(void *child, void *arg);

/** What rc_type.refs returns: an object's strong references as one array
 *  of n pointers (NULL entries allowed; items may be NULL when n is 0).
 *  Returned by value: in two registers on the System V x86-64, AArch64 and
 *  RISC-V ABIs, so the collector's loop reads no count back from memory. */
typedef struct rc_refs {
    void *const *items; /**< the references, n of them */
    size_t n;           /**< how many */
} rc_refs;

/** A type descriptor.  Usually a static const struct of the user's; it must
 *  outlive every object of the type. */
typedef struct rc_type {
    const char *name; /**< for reports and rc_print_objects (may be NULL) */
    size_t size;    /**< bytes of the user's struct */
    unsigned flags; /**< RC_TYPE_GC, RC_TYPE_UNHASHABLE, RC_TYPE_UNTRACKED */
    /** Call visit(child, arg) for each strong reference held (NULL children
     *  may be skipped or passed; NULL is ignored). */
    void (*traverse)(void *obj, rc_visit_fn visit, void *arg);
    /** Drop held references (the collector uses it to break cycles). */
    void (*clear)(void *obj);
    /** The __del__ hook: runs once, before destroy; may resurrect the object
     *  by storing a new reference to it. */
    void (*finalize)(void *obj);
    /** Release what the object owns (drop references, free buffers) before
     *  its memory is freed.  Types without it have their references dropped
     *  through traverse. */
    void (*destroy)(void *obj);
    /** Bytes of the variable-size part, for rc_sizeof (NULL: none). */
    size_t (*sizeof_extra)(const void *obj);
    /** Hash and equality for use as a dict key.  NULL: identity. */
    uint64_t (*hash)(const void *obj);
    /** Equality of a (of this type) and b (of any type: rc_equal asks the
     *  eq of either operand's type, so eq must check b's type before
     *  reading it as its own, as int's does for a float) for dict keys:
     *  objects that compare equal must have equal hashes.  NULL: identity. */
    bool (*eq)(const void *a, const void *b);
    /** Optional, for speed: the object's strong references as one array
     *  (NULL entries allowed) — exactly what traverse visits.  When set, the
     *  collector reads the array in its own loop instead of calling traverse
     *  and a visit function per reference. */
    rc_refs (*refs)(const void *obj);
} rc_type;

/* ---- Object header (internal layout, used by the inline functions) ------- */

/** The 8 bytes in front of every object.  Public only so that rc_incref and
 *  rc_decref can be inline; read it through rc_refcount, never write it. */
typedef struct rc_objhead {
    uint32_t refcnt; /**< RC_IMMORTAL_REFCNT: immortal */
    uint32_t info;   /**< type index (low 15 bits) and flags */
} rc_objhead;

/** The refcount of an immortal object; incref/decref leave it alone, and a
 *  count that reaches it (2^32 - 1 references) becomes immortal. */
#define RC_IMMORTAL_REFCNT UINT32_MAX

/** Deallocations nested deeper than this are deferred to a work list. */
#define RC_DEALLOC_DEPTH 64

/** The header of object o (internal: for the inline functions). */
#define RC_OBJHEAD(o) ((rc_objhead *)((char *)(o) - sizeof(rc_objhead)))

/** Out-of-line part of rc_decref: the count reached zero. */
RC_API void rc__dealloc(void *o);
#ifdef RCGC_REF_DEBUG
/** Reference-debugging builds: rc_incref and rc_decref call these, which
 *  check that the object is a live rcgc object (so a decref past zero, which
 *  finds it freed, is caught), report a bad one through the heap's error
 *  handler (RC_ERR_REFCOUNT), and keep the heap's reference total.  They
 *  are in librcgc_refdebug.a only (pkg-config rcgc-refdebug, CMake target
 *  rcgc::rcgc_refdebug), not in librcgc: a program compiled with
 *  RCGC_REF_DEBUG links that library. */
RC_API void rc__incref_debug(void *o);
RC_API void rc__decref_debug(void *o);
#endif

/* ---- Objects ---------------------------------------------------------------- */

/** A new object of type t with `extra` bytes after the struct: zeroed,
 *  refcount 1.  NULL on allocation failure or a bad type (NULL, a GC type
 *  without traverse, or more than 32767 types in one heap). */
RC_API void *rc_new(rc_heap *h, const rc_type *t, size_t extra);

/** Take a reference (NULL is ignored). */
static inline void rc_incref(void *o) {
#ifdef RCGC_REF_DEBUG
    rc__incref_debug(o);
#else
    if (o) {
        rc_objhead *hd = RC_OBJHEAD(o);
        uint32_t r = hd->refcnt + 1;
        if (r != 0) /* wrapped: the object was immortal */
            hd->refcnt = r;
    }
#endif
}

/** Drop a reference (NULL is ignored); at zero the object is finalized (once),
 *  destroyed and freed. */
static inline void rc_decref(void *o) {
#ifdef RCGC_REF_DEBUG
    rc__decref_debug(o);
#else
    if (o) {
        rc_objhead *hd = RC_OBJHEAD(o);
        uint32_t r = hd->refcnt;
        if (r == RC_IMMORTAL_REFCNT)
            return;
        if (--r == 0)
            rc__dealloc(o);
        else
            hd->refcnt = r;
    }
#endif
}

/** Replace *slot's reference by o (taking a new reference to o). */
static inline void rc_setref(void **slot, void *o) {
    void *old = *slot;
    rc_incref(o);
    *slot = o;
    rc_decref(old);
}

/** Current reference count (RC_IMMORTAL_REFCNT for immortal objects).
 *  An int64_t, which holds RC_IMMORTAL_REFCNT on 32-bit targets too (an
 *  intptr_t, as this was, gave -1 there); on 64-bit targets the width is
 *  the same as before. */
RC_API int64_t rc_refcount(const void *o);
/** The object's type. */
RC_API const rc_type *rc_type_of(const void *o);
/** The heap the object lives in. */
RC_API rc_heap *rc_heap_of(const void *o);
/** Make o immortal: never freed (until its heap is destroyed); incref and
 *  decref leave it alone.  In RCGC_REF_DEBUG builds its references leave
 *  rc_total_refs here, since their decrefs will not be counted. */
RC_API void rc_make_immortal(void *o);
/** Is o immortal (its count is RC_IMMORTAL_REFCNT: rc_make_immortal, or a
 *  count that reached it)? */
RC_API int rc_is_immortal(const void *o);
/** Has o's finalizer run? */
RC_API int rc_is_finalized(const void *o);
/** As sys.getsizeof: header(s) + struct + variable part. */
RC_API size_t rc_sizeof(const void *o);
/** Visit each strong reference o holds (its type's traverse). */
RC_API void rc_traverse(void *o, rc_visit_fn visit, void *arg);

/** Hash and equality as dict keys use them: the type's hash/eq, or identity.
 *  rc_hash returns false (and leaves *out alone) for unhashable objects;
 *  rc_equal is true for the same object, else asks a's eq (or, if a's type
 *  has none, b's eq with the operands swapped), else false. */
RC_API bool rc_hash(const void *o, uint64_t *out);
RC_API bool rc_equal(const void *a, const void *b);

/* ---- Bookkeeping -------------------------------------------------------- */

/** Objects alive in h (immortal ones included). */
RC_API size_t rc_live_objects(const rc_heap *h);
/** Objects of type t alive in h. */
RC_API size_t rc_live_objects_of(const rc_heap *h, const rc_type *t);
/** Call fn for each type registered with h that has live objects. */
RC_API void rc_each_type(const rc_heap *h, void (*fn)(const rc_type *t, size_t live, void *arg),
                         void *arg);
/** RCGC_REF_DEBUG builds: total references held in h (as sys.gettotalrefcount);
 *  other builds: -1. */
RC_API intptr_t rc_total_refs(const rc_heap *h);
/** Print live objects per type (and total references in debug builds). */
RC_API void rc_print_objects(const rc_heap *h, FILE *out);

#ifdef __cplusplus
}
#endif
#endif /* RCGC_OBJECT_H */
