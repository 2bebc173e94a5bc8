/*
 * src/types/tuple.c — tuple: an immutable sequence, and the dict-key hashing
 * that knows about tuples.
 *
 * A tuple is one block: size, hash, flags, then the item pointers.  Its hash
 * is computed when it is made, from its items' hashes; if an item cannot be
 * hashed (a list, or a tuple holding one) the tuple is marked unhashable.
 * Because a tuple's items exist before it, a nested tuple's hash is already
 * known, so hashing never recurses (however deep the nesting) and
 * rc_hashable answers in constant time.  rc_type.hash has no failure
 * channel: rc_hash on an unhashable tuple returns true with a meaningless
 * hash, which is why dicts check keys with rc__types_key_hash.
 *
 * A tuple of atomic values (items with no GC head, or atomic tuples) is
 * flagged atomic and stays untracked (tuples are made untracked; tuple_seal
 * tracks the others): it can never be on a cycle.
 *
 * The empty tuple is a per-heap immortal singleton, made on first use.
 */
#include "types/internal.h"
#include "gc/internal.h"

#include <stdarg.h>
#include <string.h>

/* ---- Hashing ------------------------------------------------------------------------ */

bool rc__types_key_hash(const void *o, uint64_t *out) {
    if (!o)
        return false;
    const rc_type *t = rc_types_type_of(o);
    if (t == &rc_str_type) {
        *out = ((const rc_strobj *)o)->hash;
        return true;
    }
    if (t == &rc_tuple_type) {
        const rc_tupleobj *tp = o;
        if (tp->unhashable)
            return false;
        *out = tp->hash;
        return true;
    }
    /* as rc_hash, without looking the type up again */
    if (t->flags & RC_TYPE_UNHASHABLE)
        return false;
    if (t->hash) {
        *out = t->hash(o);
        return true;
    }
    return rc_hash(o, out); /* identity */
}

bool rc_hashable(const void *o) {
    uint64_t ignored;
    return rc__types_key_hash(o, &ignored);
}

static inline uint64_t rotl64(uint64_t x, unsigned r) { return (x << r) | (x >> (64 - r)); }

#define TH_SEED 0x27d4eb2f165667c5ull
#define TH_K 0x9e3779b97f4a7c15ull

/* Compute the hash and hashability of a fully filled tuple, and track it
 * (tuples are made untracked: RC_TYPE_UNTRACKED) unless it holds only
 * atomic values (no item may ever be on a cycle): such a tuple can never be
 * on one either, and collections never examine it, as CPython untracks such
 * tuples (a tuple of numbers and strings, say). */
static void tuple_seal(rc_heap *h, rc_tupleobj *t) {
    uint64_t acc = TH_SEED;
    uint32_t unhashable = 0;
    bool atomic = true;
    for (size_t i = 0; i < t->size; i++) {
        uint64_t hi;
        if (!rc__types_key_hash(t->items[i], &hi)) {
            unhashable = 1;
            hi = 0;
        }
        acc = rotl64((acc ^ hi) * TH_K, 29); /* order matters: (a, b) != (b, a) */
        if (atomic && rc_types_may_join_cycle(t->items[i]))
            atomic = false;
    }
    t->hash = rc_types_mix64(acc ^ (uint64_t)t->size);
    t->unhashable = unhashable;
    t->atomic = atomic;
    if (!atomic)
        rc__gc_track_untracked(h, t);
}

/* ---- The type -------------------------------------------------------------------------- */

static void tuple_traverse(void *o, rc_visit_fn visit, void *arg) {
    rc_tupleobj *t = o;
    for (size_t i = 0; i < t->size; i++)
        if (t->items[i])
            visit(t->items[i], arg);
}

static rc_refs tuple_refs(const void *o) {
    const rc_tupleobj *t = o;
    return (rc_refs){(void *const *)t->items, t->size};
}

/* For the collector: drop the items (left NULL).  The hash is kept. */
static void tuple_clear(void *o) {
    rc_tupleobj *t = o;
    for (size_t i = 0; i < t->size; i++) {
        void *item = t->items[i];
        t->items[i] = NULL;
        rc_decref(item);
    }
}

static size_t tuple_sizeof_extra(const void *o) {
    return ((const rc_tupleobj *)o)->size * sizeof(void *);
}

static uint64_t tuple_hash(const void *o) { return ((const rc_tupleobj *)o)->hash; }

static bool tuple_eq(const void *a, const void *b) {
    if (rc_types_type_of(b) != &rc_tuple_type)
        return false;
    const rc_tupleobj *x = a, *y = b;
    if (x->size != y->size)
        return false;
    if (!x->unhashable && !y->unhashable && x->hash != y->hash)
        return false;
    if (rc__types_eq_depth >= RC_TYPES_EQ_MAX_DEPTH)
        return false; /* too deep to decide: see internal.h */
    rc__types_eq_depth++;
    bool same = true;
    for (size_t i = 0; same && i < x->size; i++) {
        void *xi = x->items[i], *yi = y->items[i];
        if (xi == yi)
            continue;
        if (!xi || !yi) {
            same = false;
            break;
        }
        /* an item's eq may run user code: keep both alive meanwhile */
        rc_incref(xi);
        rc_incref(yi);
        same = rc_equal(xi, yi);
        rc_decref(xi);
        rc_decref(yi);
    }
    rc__types_eq_depth--;
    return same;
}

const rc_type rc_tuple_type = {
    .name = "tuple",
    .size = offsetof(rc_tupleobj, items),
    .flags = RC_TYPE_GC | RC_TYPE_UNTRACKED, /* tracked by tuple_seal unless atomic */
    .traverse = tuple_traverse,
    .refs = tuple_refs,
    .clear = tuple_clear,
    .destroy = tuple_clear,
    .sizeof_extra = tuple_sizeof_extra,
    .hash = tuple_hash,
    .eq = tuple_eq,
};

/* ---- Construction -------------------------------------------------------------------------- */

static void *empty_tuple(rc_heap *h) {
    rc_typestate *st = rc__typestate_get(h);
    if (!st)
        return NULL;
    if (!st->empty_tuple) {
        rc_tupleobj *t = rc_new(h, &rc_tuple_type, 0);
        if (!t)
            return NULL;
        tuple_seal(h, t); /* atomic: it stays untracked */
        rc_make_immortal(t);
        st->empty_tuple = t;
    }
    return st->empty_tuple;
}

static rc_tupleobj *tuple_alloc(rc_heap *h, size_t n) {
    if (n > (SIZE_MAX - sizeof(rc_tupleobj)) / sizeof(void *))
        return NULL;
    rc_tupleobj *t = rc_new(h, &rc_tuple_type, n * sizeof(void *));
    if (t)
        t->size = n;
    return t;
}

void *rc_tuple_from(rc_heap *h, size_t n, void *const *items) {
    if (!h || (n && !items))
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!items[i])
            return NULL;
    if (n == 0)
        return empty_tuple(h);
    rc_tupleobj *t = tuple_alloc(h, n);
    if (!t)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        rc_incref(items[i]);
        t->items[i] = items[i];
    }
    tuple_seal(h, t);
    return t;
}

void *rc_tuple_pack(rc_heap *h, size_t n, ...) {
    if (!h)
        return NULL;
    if (n == 0)
        return empty_tuple(h);
    rc_tupleobj *t = tuple_alloc(h, n);
    if (!t)
        return NULL;
    va_list ap;
    va_start(ap, n);
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        void *item = va_arg(ap, void *);
        if (!item) {
            ok = false;
            break;
        }
        rc_incref(item);
        t->items[i] = item;
    }
    va_end(ap);
    if (!ok) {
        rc_decref(t); /* drops the items taken so far; the rest are NULL */
        return NULL;
    }
    tuple_seal(h, t);
    return t;
}

/* ---- Access -------------------------------------------------------------------------- */

bool rc_is_tuple(const void *o) { return rc_types_is(o, &rc_tuple_type); }

size_t rc_tuple_size(const void *o) { return rc_is_tuple(o) ? ((const rc_tupleobj *)o)->size : 0; }

void *rc_tuple_get(const void *o, ptrdiff_t i) {
    if (!rc_is_tuple(o))
        return NULL;
    const rc_tupleobj *t = o;
    if (i < 0)
        i += (ptrdiff_t)t->size;
    if (i < 0 || (size_t)i >= t->size)
        return NULL;
    return t->items[i];
}
