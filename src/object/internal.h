/*
 * src/object/internal.h — the object layer's per-heap state and header bits,
 * shared with the layers above (gc, types).
 *
 * info word of every object header:
 *
 *    31  27 26 25 24 23            16 15 14                  0
 *   +------+--+--+--+----------------+--+---------------------+
 *   | 0x14 |OA|RT|CL|  flags         |G1| type index in heap  |
 *   +------+--+--+--+----------------+--+---------------------+
 *   (G1: the object is in generation 1; CL: between a collection's two
 *   marking passes, the object refers to nothing in the examined set; RT:
 *   during a collection's first pass, the object was taken for a root; OA:
 *   the object's block is outside every arena, a large block or a block of
 *   a malloc-mode or instrumented heap)
 *
 * The 5-bit tag (0xA0 in the top byte) marks a live header; a freed
 * object's info is zeroed, so a reference-debug build recognises a use
 * after free.
 *
 * Invariants:
 *   - st->types[i] is the type with index i; index 0 is never used, so a
 *     zeroed header has no type;
 *   - sum of st->live_of[i] == objects allocated and not freed (rc_live_objects
 *     adds them up: one counter less on every object's birth and death);
 *   - RC_OF_GC <=> the type has RC_TYPE_GC <=> a GC head (two pointers) precedes
 *     the header.
 */
#ifndef RCGC_OBJECT_INTERNAL_H
#define RCGC_OBJECT_INTERNAL_H

#include "alloc/internal.h"
#include "rcgc/object.h"

#define RC_INFO_TAG 0xA0000000u
#define RC_INFO_TAG_MASK 0xF8000000u
#define RC_INFO_TYPE_MASK 0x00007FFFu
#define RC_OF_GC (1u << 16)        /* has a GC head */
#define RC_OF_FINALIZED (1u << 17) /* finalize has run */
#define RC_OF_TRACKED (1u << 18)   /* in a collector list (gc layer) */
#define RC_OF_COLLECTING (1u << 19) /* in the set a collection examines (gc layer) */
#define RC_OF_WEAKREFD (1u << 21)   /* weak references to it may exist (gc layer) */
#define RC_OF_UNREACHABLE (1u << 22) /* tentatively unreachable while marking (gc layer) */
#define RC_OF_OLD (1u << 23)        /* in the oldest generation (gc layer) */
#define RC_OF_FROZEN (1u << 20)     /* in the permanent generation (gc layer) */
#define RC_OF_GEN1 (1u << 15)       /* in generation 1 (gc layer) */
#define RC_OF_CHILDLESS (1u << 24)  /* refers to nothing in the set being marked (gc layer) */
#define RC_OF_ROOTED (1u << 25)     /* taken for a root by the first marking pass (gc layer) */
/* The block is outside every arena: set at birth, so that a death need not
 * ask the arena map where the block is. */
#define RC_OF_OUTSIDE_ARENAS (1u << 26)
_Static_assert(((RC_OF_GC | RC_OF_FINALIZED | RC_OF_TRACKED | RC_OF_COLLECTING | RC_OF_FROZEN |
                 RC_OF_WEAKREFD | RC_OF_UNREACHABLE | RC_OF_OLD | RC_OF_GEN1 | RC_OF_CHILDLESS |
                 RC_OF_ROOTED | RC_OF_OUTSIDE_ARENAS) &
                (RC_INFO_TAG_MASK | RC_INFO_TYPE_MASK)) == 0,
               "flag bits must not overlap the tag or the type index");
#define RC_MAX_TYPES 0x7FFFu

/* The GC head in front of the header of RC_TYPE_GC objects.  The gc layer
 * owns its contents; the object layer only uses `prev` to chain deferred
 * deallocations of untracked objects. */
typedef struct rc_gchead {
    struct rc_gchead *prev;
    struct rc_gchead *next;
} rc_gchead;

#define RC_GCHEAD(o) ((rc_gchead *)((char *)(o) - sizeof(rc_objhead) - sizeof(rc_gchead)))
#define RC_FROM_GCHEAD(g) ((void *)((char *)(g) + sizeof(rc_gchead) + sizeof(rc_objhead)))

/* One entry of the direct-mapped cache from type to what rc_new needs,
 * precomputed when the type is registered. */
typedef struct rc_type_slot {
    const rc_type *type;
    uint32_t info;   /* the new object's info word: tag, index, RC_OF_GC */
    uint16_t units;  /* 16-byte units of its block; 0: not small (slow path) */
    uint8_t gc;      /* RC_TYPE_GC */
} rc_type_slot;

/* Per-type bits for rc__dealloc (st->tflags). */
#define RC_TF_FINALIZE 1u /* has a finalizer */
#define RC_TF_LEAF 2u     /* no destroy, no traverse, no GC head: nothing to release */
#define RC_TF_GC 4u       /* a container with a GC head (RC_TYPE_GC) */

typedef struct rc_objstate {
    rc_heap *heap;           /* the heap this state belongs to */
    const rc_type **types;   /* by index; [0] unused */
    size_t *live_of;         /* live objects per type index */
    uint8_t *tflags;         /* RC_TF_* per type index */
    uint32_t ntypes, cap;    /* indices in use (including 0), capacity */
    rc_type_slot lookup[64]; /* direct-mapped cache: type -> index */
    intptr_t total_refs;     /* RCGC_REF_DEBUG builds */

    /* deferred deallocation (the "trashcan") */
    unsigned depth;          /* nesting of dealloc right now */
    unsigned drain_depth;    /* 1 while the work lists below hold objects (the
                              * outermost dealloc, at depth 1, drains them), else
                              * 0, a depth no dealloc ends at: one compare */
    rc_gchead *pending_gc;   /* GC objects, chained through gc prev */
    void **pending;          /* other objects: a stack */
    size_t npending, pending_cap;
} rc_objstate;

/* The heap's object state, created on first use (NULL if that fails). */
rc_objstate *rc__objstate_get(rc_heap *h);

static inline uint32_t rc_info(const void *o) { return RC_OBJHEAD(o)->info; }
static inline size_t rc_prefix_size(uint32_t info) {
    return sizeof(rc_objhead) + ((info & RC_OF_GC) ? sizeof(rc_gchead) : 0);
}
/* The block rc_malloc returned for o. */
static inline void *rc_block_of(const void *o) {
    return (char *)(uintptr_t)o - rc_prefix_size(rc_info(o));
}

/* The hash of o's identity, for types without a hash (rc_hash): its address
 * with the alignment's zero bits rotated to the top. */
static inline uint64_t rc__identity_hash(const void *o) {
    uint64_t x = (uint64_t)(uintptr_t)o;
    return (x >> 4) | (x << 60);
}

/* The collector's side of an object's life (src/gc/).  The object layer and
 * the collector form one object system, as in Lua: object.c tells the
 * collector of each container's birth and death, and the collector frees
 * garbage through reference counting. */
bool rc__gc_track_new(rc_heap *h, void *o);   /* counts o, may collect, then links o if born tracked; false: no memory */
void rc__weakrefs_clear(rc_heap *h, void *o); /* o dies: clear its weakrefs, run callbacks */
void rc__weakrefs_clear_silently(rc_heap *h, void *o); /* ... without callbacks */

#endif
