/*
 * src/types/internal.h — layouts of the built-in types and their per-heap
 * state, shared by the files of src/types/.
 *
 * Every struct here is the body of an object (what rc_new returns); the
 * object layer's header (8 bytes, plus a GC head of two pointers for the
 * containers) sits in front of it.  See docs/types.md for the pictures.
 */
#ifndef RCGC_TYPES_INTERNAL_H
#define RCGC_TYPES_INTERNAL_H

#include "object/internal.h"
#include "rcgc/types.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Layouts ----------------------------------------------------------------- */

typedef struct rc_intobj {
    int64_t value;
} rc_intobj;

typedef struct rc_floatobj {
    double value;
} rc_floatobj;

#define RC_STR_INTERNED 0x1u

/* The bytes follow the fixed part; rc_str_type.size is offsetof(data). */
typedef struct rc_strobj {
    uint64_t hash;   /* computed at creation */
    size_t nbytes;   /* bytes, NUL excluded */
    size_t length;   /* code points */
    uint32_t state;  /* RC_STR_INTERNED */
    char data[];     /* nbytes + 1 bytes, NUL-terminated */
} rc_strobj;

/* Items follow the fixed part; rc_tuple_type.size is offsetof(items). */
typedef struct rc_tupleobj {
    size_t size;
    uint64_t hash;        /* computed at creation from the items' hashes */
    uint32_t unhashable;  /* an item (at any depth) is unhashable */
    uint32_t atomic;      /* no item can ever be on a cycle (rc_types_may_join_cycle) */
    void *items[];
} rc_tupleobj;

typedef struct rc_listobj {
    size_t size;
    size_t capacity;
    void **items;         /* capacity slots from the heap; NULL when 0 */
} rc_listobj;

/* One entry of a dict: insertion-ordered; key == NULL marks a deleted one. */
typedef struct rc_dentry {
    uint64_t hash;
    void *key;
    void *value;
} rc_dentry;

/* A dict's table: one block holding the index array (1 << log2size slots
 * of 1, 2, 4 or 8 bytes: an entry number, RC_DIX_EMPTY or RC_DIX_DUMMY)
 * followed by the entries array (usable entries). */
typedef struct rc_dictobj {
    void *table;          /* NULL: no table yet (empty dict) */
    size_t used;          /* live entries */
    size_t nentries;      /* entries written (live + deleted) */
    uint64_t version;     /* bumped by every change of keys or table */
    uint8_t log2size;     /* index slots = 1 << log2size (0 without table) */
} rc_dictobj;

typedef struct rc_classobj {
    void *name;           /* str */
    void *dict;           /* dict of class attributes */
    void (*finalizer)(void *self);
} rc_classobj;

typedef struct rc_instobj {
    void *cls;            /* class */
    void *dict;           /* attribute dict */
} rc_instobj;

/* ---- Per-heap state (rc_heap_layer(h, RC_LAYER_TYPES)) ---------------------- */

#define RC_SMALL_INT_MIN (-5)
#define RC_SMALL_INT_MAX 256
#define RC_SMALL_INT_COUNT (RC_SMALL_INT_MAX - RC_SMALL_INT_MIN + 1)

typedef struct rc_typestate {
    void *small_ints[RC_SMALL_INT_COUNT]; /* immortal ints, made on first use */
    void *empty_tuple;                    /* immortal, made on first use */
    /* intern table: open addressing (linear probing) of str pointers, a
     * power-of-two number of slots, at most half full; no deletions
     * (interned strings are immortal) */
    void **interned;
    size_t intern_cap, intern_count;
} rc_typestate;

/* The heap's types state, created on first use (NULL if that fails). */
rc_typestate *rc__typestate_get(rc_heap *h);

/* ---- Shared helpers ------------------------------------------------------------ */

/* rc_heap_of and rc_type_of, inlined for the common case of an object in
 * an arena (pool and debug modes): the arena header names the heap.  Other
 * blocks (large objects, malloc mode) take the library's general path. */
static inline rc_heap *rc_types_heap_of(const void *o) {
    rc_arena *a = rc_arena_map_lookup(rc_block_of(o));
    return RC_LIKELY(a != NULL) ? a->heap : rc_heap_of(o);
}

static inline const rc_type *rc_types_type_of(const void *o) {
    const rc_objstate *st = rc_heap_layer(rc_types_heap_of(o), RC_LAYER_OBJECT);
    return st->types[rc_info(o) & RC_INFO_TYPE_MASK];
}

static inline bool rc_types_is(const void *o, const rc_type *t) {
    return o != NULL && rc_types_type_of(o) == t;
}

/* Can o ever be on a reference cycle the collector could see?  Not if it
 * has no GC head (the collector never follows references through such an
 * object), nor if it is an atomic tuple (one whose items are all atomic:
 * immutable, so it stays so; the flag is the tuple's own, so a tuple
 * untracked by hand is not taken for atomic).  Any other container may be:
 * one untracked by hand (or a dict untracked while it holds only atomic
 * values) may be tracked again.  Tuples and dicts holding only atomic
 * values are left untracked (tuple.c, dict.c), as CPython does. */
static inline bool rc_types_may_join_cycle(const void *o) {
    if (!(rc_info(o) & RC_OF_GC))
        return false;
    return rc_types_type_of(o) != &rc_tuple_type || !((const rc_tupleobj *)o)->atomic;
}

/* Nesting of element-wise comparisons (tuple and list eq) on this thread.
 * Past RC_TYPES_EQ_MAX_DEPTH levels they answer "not equal" instead of
 * recursing further (Python raises RecursionError there; eq has no error
 * channel), so self-containing lists and very deep structures cannot
 * overflow the C stack. */
#define RC_TYPES_EQ_MAX_DEPTH 1000
extern _Thread_local unsigned rc__types_eq_depth;

/* The hash of a key as dicts use it; false if unhashable. */
bool rc__types_key_hash(const void *o, uint64_t *out);

/* Hash of a byte string (what str objects cache). */
uint64_t rc__types_bytes_hash(const char *p, size_t n);

/* Number of code points in valid UTF-8, or SIZE_MAX if invalid. */
size_t rc__types_utf8_length(const char *p, size_t n);

/* Final mixing step (a bijection on 64 bits). */
static inline uint64_t rc_types_mix64(uint64_t x) {
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ull;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dull;
    x ^= x >> 33;
    return x;
}

/* Lookups that do not allocate, for the str-keyed conveniences: the str
 * in the intern table with these bytes (or NULL). */
void *rc__types_intern_find(rc_typestate *st, const char *p, size_t n, uint64_t hash);

/* Dict internals used by the class/instance code. */
void *rc__types_dict_get_bytes(const void *d, const char *p, size_t n, uint64_t hash);

#endif
