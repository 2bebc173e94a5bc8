/*
 * src/types/list.c — list: a growable array of references.
 *
 * The object holds size, capacity and a pointer to a separate items block
 * from the same heap, resized with rc_realloc.  Growth over-allocates by
 * about an eighth plus a constant (as CPython's list_resize), so a run of
 * appends costs amortised O(1) and few reallocations: capacities go
 * 0, 4, 8, 16, 24, 32, 40, 52, 64, 76, ...  The block shrinks when a pop
 * leaves it less than half used.
 *
 * Reentrancy: dropping a reference can run a finalizer, which may use the
 * list.  Every operation therefore finishes updating the list before it
 * drops the references it replaced or removed.
 */
#include "types/internal.h"

#include <string.h>

#define LIST_MAX_ITEMS ((size_t)PTRDIFF_MAX / sizeof(void *))

/* ---- Storage ---------------------------------------------------------------------- */

/* The capacity to allocate for `want` items in a list of `size` items. */
static size_t list_grow_target(size_t size, size_t want) {
    if (want == 0)
        return 0;
    size_t cap = (want + (want >> 3) + 6) & ~(size_t)3;
    /* a big jump at once (from a capacity hint, say) is not over-allocated */
    if (want - size > cap - want)
        cap = (want + 3) & ~(size_t)3;
    return cap;
}

/* Room for `want` items; false on allocation failure (list unchanged). */
static bool list_reserve(rc_listobj *l, size_t want) {
    if (want <= l->capacity)
        return true;
    if (want > LIST_MAX_ITEMS)
        return false;
    size_t cap = list_grow_target(l->size, want);
    if (cap > LIST_MAX_ITEMS)
        cap = want;
    void **items = rc_realloc(rc_types_heap_of(l), l->items, cap * sizeof(void *));
    if (!items)
        return false;
    l->items = items;
    l->capacity = cap;
    return true;
}

/* After a removal: give back storage if less than half is used.  Failing
 * to shrink is harmless (the larger block is kept). */
static void list_maybe_shrink(rc_listobj *l) {
    if (l->size >= l->capacity / 2)
        return;
    if (l->size == 0) {
        rc_free(l->items);
        l->items = NULL;
        l->capacity = 0;
        return;
    }
    size_t cap = list_grow_target(l->size, l->size);
    if (cap >= l->capacity)
        return;
    void **items = rc_realloc(rc_types_heap_of(l), l->items, cap * sizeof(void *));
    if (items) {
        l->items = items;
        l->capacity = cap;
    }
}

/* ---- The type ---------------------------------------------------------------------- */

static void list_traverse(void *o, rc_visit_fn visit, void *arg) {
    rc_listobj *l = o;
    for (size_t i = 0; i < l->size; i++)
        visit(l->items[i], arg);
}

static rc_refs list_refs(const void *o) {
    const rc_listobj *l = o;
    return (rc_refs){(void *const *)l->items, l->size};
}

/* Empty the list first, then drop the references (finalizers see a valid,
 * empty list and may even refill it). */
static void list_do_clear(void *o) {
    rc_listobj *l = o;
    void **items = l->items;
    size_t n = l->size;
    l->items = NULL;
    l->size = 0;
    l->capacity = 0;
    if (!items) /* already cleared (destroy after a collection's clear) */
        return;
    for (size_t i = 0; i < n; i++)
        rc_decref(items[i]);
    rc_free(items);
}

static size_t list_sizeof_extra(const void *o) {
    return ((const rc_listobj *)o)->capacity * sizeof(void *);
}

/* Element-wise equality, as Python's == on lists.  Lists are unhashable,
 * so this is only reached through containers that compare their items
 * (tuples).  The sizes are re-read at each step: an item's eq may run user
 * code that changes either list. */
static bool list_eq(const void *a, const void *b) {
    if (rc_types_type_of(b) != &rc_list_type)
        return false;
    const rc_listobj *x = a, *y = b;
    if (x->size != y->size)
        return false;
    if (rc__types_eq_depth >= RC_TYPES_EQ_MAX_DEPTH)
        return false; /* too deep (or self-containing): see internal.h */
    rc__types_eq_depth++;
    bool same = true;
    for (size_t i = 0; same && i < x->size && i < y->size; i++) {
        void *xi = x->items[i], *yi = y->items[i];
        if (xi == yi)
            continue;
        rc_incref(xi);
        rc_incref(yi);
        same = rc_equal(xi, yi);
        rc_decref(xi);
        rc_decref(yi);
    }
    rc__types_eq_depth--;
    return same && x->size == y->size;
}

const rc_type rc_list_type = {
    .name = "list",
    .size = sizeof(rc_listobj),
    .flags = RC_TYPE_GC | RC_TYPE_UNHASHABLE,
    .traverse = list_traverse,
    .refs = list_refs,
    .clear = list_do_clear,
    .destroy = list_do_clear,
    .sizeof_extra = list_sizeof_extra,
    .eq = list_eq,
};

/* ---- Operations ---------------------------------------------------------------------- */

void *rc_list_new(rc_heap *h, size_t capacity_hint) {
    if (!h || capacity_hint > LIST_MAX_ITEMS)
        return NULL;
    void **items = NULL;
    if (capacity_hint) {
        items = rc_malloc(h, capacity_hint * sizeof(void *));
        if (!items)
            return NULL;
    }
    rc_listobj *l = rc_new(h, &rc_list_type, 0);
    if (!l) {
        rc_free(items);
        return NULL;
    }
    l->items = items;
    l->capacity = capacity_hint;
    return l;
}

bool rc_is_list(const void *o) { return rc_types_is(o, &rc_list_type); }

size_t rc_list_size(const void *o) { return rc_is_list(o) ? ((const rc_listobj *)o)->size : 0; }

size_t rc_list_capacity(const void *o) {
    return rc_is_list(o) ? ((const rc_listobj *)o)->capacity : 0;
}

/* Common argument checks for the operations storing an item. */
static rc_status check_store(const void *l, const void *item) {
    if (!l || !item)
        return RC_EINVAL;
    if (!rc_is_list(l))
        return RC_ETYPE;
    return RC_OK;
}

rc_status rc_list_append(void *o, void *item) {
    rc_status s = check_store(o, item);
    if (s != RC_OK)
        return s;
    rc_listobj *l = o;
    if (l->size == l->capacity && !list_reserve(l, l->size + 1))
        return RC_ENOMEM;
    rc_incref(item);
    l->items[l->size++] = item;
    return RC_OK;
}

rc_status rc_list_append_steal(void *o, void *item) {
    if (!item)
        return RC_ENOMEM;
    rc_status s = rc_list_append(o, item);
    rc_decref(item);
    return s;
}

/* Python's index: negative counts from the end; false if out of range. */
static bool norm_index(ptrdiff_t *i, size_t size) {
    ptrdiff_t k = *i;
    if (k < 0)
        k += (ptrdiff_t)size;
    if (k < 0 || (size_t)k >= size)
        return false;
    *i = k;
    return true;
}

void *rc_list_get(const void *o, ptrdiff_t i) {
    if (!rc_is_list(o))
        return NULL;
    const rc_listobj *l = o;
    if (!norm_index(&i, l->size))
        return NULL;
    return l->items[i];
}

rc_status rc_list_set(void *o, ptrdiff_t i, void *item) {
    rc_status s = check_store(o, item);
    if (s != RC_OK)
        return s;
    rc_listobj *l = o;
    if (!norm_index(&i, l->size))
        return RC_EINDEX;
    void *old = l->items[i];
    rc_incref(item);
    l->items[i] = item;
    rc_decref(old); /* last: may run a finalizer */
    return RC_OK;
}

rc_status rc_list_insert(void *o, ptrdiff_t i, void *item) {
    rc_status s = check_store(o, item);
    if (s != RC_OK)
        return s;
    rc_listobj *l = o;
    size_t at;
    if (i < 0) {
        i += (ptrdiff_t)l->size;
        at = i < 0 ? 0 : (size_t)i;
    } else {
        at = (size_t)i > l->size ? l->size : (size_t)i;
    }
    if (l->size == l->capacity && !list_reserve(l, l->size + 1))
        return RC_ENOMEM;
    memmove(&l->items[at + 1], &l->items[at], (l->size - at) * sizeof(void *));
    rc_incref(item);
    l->items[at] = item;
    l->size++;
    return RC_OK;
}

void *rc_list_pop(void *o, ptrdiff_t i) {
    if (!rc_is_list(o))
        return NULL;
    rc_listobj *l = o;
    if (!norm_index(&i, l->size))
        return NULL;
    void *item = l->items[i];
    memmove(&l->items[i], &l->items[i + 1], (l->size - (size_t)i - 1) * sizeof(void *));
    l->size--;
    list_maybe_shrink(l);
    return item; /* the list's reference becomes the caller's */
}

void rc_list_clear(void *o) {
    if (rc_is_list(o))
        list_do_clear(o);
}
