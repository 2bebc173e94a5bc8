/*
 * rcgc/types.h — built-in types: a small Python-like object model.
 *
 *   int       64-bit signed; -5..256 come from a per-heap cache of immortal
 *             objects (rc_int_new(h, 7) == rc_int_new(h, 7))
 *   float     a double; 1 and 1.0 are equal and hash equal, as in Python
 *   str       immutable UTF-8 text: byte length, code-point length and hash
 *             computed at creation; interning (rc_str_intern, rc_str_literal)
 *   tuple     immutable sequence; hashable when all its items are
 *   list      growable sequence, amortised O(1) append (CPython's growth)
 *   dict      insertion-ordered compact hash table (CPython 3.6+ layout)
 *   class     a name, a dict of class attributes and an optional finalizer
 *   instance  an object of a class: its class and an attribute dict; the
 *             class's finalizer runs as its __del__
 *
 * Conventions (as in CPython's C API):
 *   - every function returning an object returns a NEW reference, which the
 *     caller must rc_decref, unless documented "borrowed";
 *   - functions taking an object to store take their own reference (the
 *     caller keeps its own), except those named *_steal;
 *   - bad input never corrupts anything: functions returning an object
 *     return NULL, functions returning rc_status return an error code, and
 *     every object involved stays consistent and usable.  Allocation failure
 *     is reported the same way (NULL or RC_ENOMEM) at every point;
 *   - indices are ptrdiff_t with Python's meaning: a negative index counts
 *     from the end (-1 is the last item);
 *   - all objects given to a container must belong to the container's heap;
 *   - objects of these types are made with the heap passed to their
 *     constructor and belong to it (one thread at a time, as for heaps).
 *
 * The containers (tuple, list, dict, class, instance) are RC_TYPE_GC and
 * provide traverse and clear for the cycle collector; list and dict are
 * RC_TYPE_UNHASHABLE.  See docs/types.md for layouts and sizes.
 */
#ifndef RCGC_TYPES_H
#define RCGC_TYPES_H

#include "rcgc/object.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status codes ----------------------------------------------------------- */

/** Result of the operations that do not return an object. */
typedef enum rc_status {
    RC_OK = 0,      /**< success */
    RC_ENOMEM = -1, /**< an allocation failed; nothing was changed */
    RC_EKEY = -2,   /**< the key is not in the dict (or the attribute is not set) */
    RC_EINDEX = -3, /**< the index is out of range */
    RC_ETYPE = -4,  /**< an argument has the wrong type, or a key is unhashable */
    RC_EINVAL = -5  /**< an invalid argument (NULL object, invalid UTF-8) */
} rc_status;

/** A static, human-readable name for a status ("RC_EKEY: key not found");
 *  "unknown rc_status" for a value outside the enum. */
RC_API const char *rc_status_str(rc_status s);

/* ---- Type descriptors --------------------------------------------------------- */

/** The built-in types (compare with rc_type_of(o), or use rc_is_*). */
RC_API extern const rc_type rc_int_type;
RC_API extern const rc_type rc_float_type;
RC_API extern const rc_type rc_str_type;
RC_API extern const rc_type rc_tuple_type;
RC_API extern const rc_type rc_list_type;
RC_API extern const rc_type rc_dict_type;
RC_API extern const rc_type rc_class_type;
RC_API extern const rc_type rc_instance_type;

/* ---- Hashing -------------------------------------------------------------------- */

/** Can o be a dict key?  False for list, dict, any RC_TYPE_UNHASHABLE type,
 *  and a tuple holding an unhashable item at any depth (rc_hash cannot say
 *  so: rc_type.hash has no failure channel).  False for NULL. */
RC_API bool rc_hashable(const void *o);

/* ---- int ------------------------------------------------------------------------ */

/** An int with value v, or NULL on allocation failure.  Values -5..256 are
 *  per-heap immortal singletons, created on first use: the same pointer is
 *  returned every time (taking a reference to them is a no-op). */
RC_API void *rc_int_new(rc_heap *h, int64_t v);
/** Is o an int?  (false for NULL) */
RC_API bool rc_is_int(const void *o);
/** The value of an int; 0 if o is not an int. */
RC_API int64_t rc_int_value(const void *o);

/* ---- float ---------------------------------------------------------------------- */

/** A float with value v, or NULL on allocation failure. */
RC_API void *rc_float_new(rc_heap *h, double v);
/** Is o a float?  (false for NULL) */
RC_API bool rc_is_float(const void *o);
/** The value of a float, or of an int converted to double; 0.0 for anything
 *  else. */
RC_API double rc_float_value(const void *o);

/* ---- str ------------------------------------------------------------------------ */

/** Longest string (in bytes) that rc_str_literal interns. */
#define RC_STR_LITERAL_INTERN_MAX 64

/** A str holding a copy of the nbytes bytes at utf8 (which need not be
 *  NUL-terminated and may contain NUL bytes; NULL is allowed when nbytes is
 *  0).  NULL if the bytes are not valid UTF-8 (overlong forms, surrogates
 *  and code points above U+10FFFF are invalid) or on allocation failure. */
RC_API void *rc_str_new(rc_heap *h, const char *utf8, size_t nbytes);
/** rc_str_new(h, s, strlen(s)); NULL for s == NULL. */
RC_API void *rc_str_from_cstr(rc_heap *h, const char *s);
/** Is o a str?  (false for NULL) */
RC_API bool rc_is_str(const void *o);
/** The bytes of a str, NUL-terminated (borrowed: valid while the str lives);
 *  NULL if o is not a str. */
RC_API const char *rc_str_data(const void *o);
/** Length in bytes (the terminating NUL not counted); 0 if o is not a str. */
RC_API size_t rc_str_nbytes(const void *o);
/** Length in code points (Python's len()); 0 if o is not a str. */
RC_API size_t rc_str_length(const void *o);
/** Does str o hold exactly the bytes of the C string s?  False if o is not
 *  a str or s is NULL. */
RC_API bool rc_str_equal_cstr(const void *o, const char *s);
/** Is o an interned str? */
RC_API bool rc_str_is_interned(const void *o);
/** Intern s: returns a new reference to the heap's canonical str equal to s
 *  — s itself if no equal str was interned before, in which case s is
 *  registered as canonical and made immortal (as CPython 3.12 does).  Equal
 *  interned strings are the same object.  Interned strings live until their
 *  heap is destroyed.  NULL if s is not a str or on allocation failure (then
 *  s is left as it was and the caller keeps its reference). */
RC_API void *rc_str_intern(void *s);
/** A str for a string literal: strings of at most RC_STR_LITERAL_INTERN_MAX
 *  bytes are interned (the same object for equal literals, immortal, found
 *  without allocating once interned); longer ones are created afresh and not
 *  interned.  CPython interns identifier-like literals; this helper interns
 *  every short one.  NULL for s == NULL, invalid UTF-8 or allocation
 *  failure. */
RC_API void *rc_str_literal(rc_heap *h, const char *s);

/* ---- tuple ---------------------------------------------------------------------- */

/** A tuple of the n objects given as further void * arguments; each gets a
 *  new reference.  NULL if an item is NULL or on allocation failure.  The
 *  empty tuple is a per-heap immortal singleton.  A tuple whose items are
 *  all atomic (no GC head, or tuples themselves atomic) is made untracked by the
 *  collector (rc_gc_is_tracked is 0), as CPython untracks such tuples: it
 *  can never be on a cycle. */
RC_API void *rc_tuple_pack(rc_heap *h, size_t n, ...);
/** A tuple of items[0..n-1]; each gets a new reference.  NULL if an item is
 *  NULL (or items is NULL with n > 0) or on allocation failure.
 *  A tuple's hash is computed here, from its items' hashes (hashable items
 *  must keep their hash, as Python requires).
 *  Tuples (and lists) compare element-wise with rc_equal; comparisons nested
 *  more than 1000 levels deep answer "not equal" rather than recurse further
 *  (where Python raises RecursionError), so no structure can overflow the C
 *  stack.  (The depth is counted per thread, in a thread-local variable:
 *  the one piece of the types' state that is not per heap, since a
 *  comparison runs on one thread, within one heap.) */
RC_API void *rc_tuple_from(rc_heap *h, size_t n, void *const *items);
/** Is o a tuple?  (false for NULL) */
RC_API bool rc_is_tuple(const void *o);
/** Number of items; 0 if o is not a tuple. */
RC_API size_t rc_tuple_size(const void *o);
/** Item i (borrowed); NULL if i is out of range or o is not a tuple.  (Also
 *  NULL for the items of a tuple the cycle collector has cleared.) */
RC_API void *rc_tuple_get(const void *o, ptrdiff_t i);

/* ---- list ----------------------------------------------------------------------- */

/** An empty list with room for capacity_hint items before it must grow.
 *  NULL on allocation failure. */
RC_API void *rc_list_new(rc_heap *h, size_t capacity_hint);
/** Is o a list?  (false for NULL) */
RC_API bool rc_is_list(const void *o);
/** Number of items; 0 if o is not a list. */
RC_API size_t rc_list_size(const void *o);
/** Number of item slots allocated; 0 if o is not a list. */
RC_API size_t rc_list_capacity(const void *o);
/** Append item (taking a reference).  RC_ETYPE: l is not a list; RC_EINVAL:
 *  item or l is NULL; RC_ENOMEM: the list could not grow (it is unchanged). */
RC_API rc_status rc_list_append(void *l, void *item);
/** As rc_list_append, but steals the caller's reference to item in every
 *  case, failures included.  item == NULL gives RC_ENOMEM, so the result of
 *  a constructor can be passed directly: rc_list_append_steal(l,
 *  rc_int_new(h, 1000)). */
RC_API rc_status rc_list_append_steal(void *l, void *item);
/** Item i (borrowed); NULL if i is out of range or l is not a list. */
RC_API void *rc_list_get(const void *l, ptrdiff_t i);
/** Replace item i by item (taking a reference; the old item's reference is
 *  dropped).  RC_EINDEX out of range; RC_ETYPE, RC_EINVAL as append. */
RC_API rc_status rc_list_set(void *l, ptrdiff_t i, void *item);
/** Insert item before index i, as Python's list.insert: i is clamped to
 *  0..size (so it never fails for a bad index; -1 inserts before the last
 *  item, a large i appends).  RC_ENOMEM, RC_ETYPE, RC_EINVAL as append. */
RC_API rc_status rc_list_insert(void *l, ptrdiff_t i, void *item);
/** Remove item i and return it (the list's reference passes to the caller:
 *  a new reference).  rc_list_pop(l, -1) pops the last.  NULL if i is out
 *  of range (an empty list) or l is not a list.  The list may shrink its
 *  storage (never fails for lack of memory). */
RC_API void *rc_list_pop(void *l, ptrdiff_t i);
/** Remove every item and release the storage (capacity 0).  Items are
 *  dropped after the list is already empty, so their finalizers see an
 *  empty, usable list.  Does nothing if l is not a list. */
RC_API void rc_list_clear(void *l);

/* ---- dict ----------------------------------------------------------------------- */

/** An empty dict (its table is allocated on the first insertion).  NULL on
 *  allocation failure.  A dict is untracked by the collector while its keys
 *  and values are all atomic (no GC head, or atomic tuples); the first
 *  key or value that could be on a cycle tracks it for good (CPython's rule:
 *  is_tracked({"a": 1}) is false, is_tracked({"a": []}) true). */
RC_API void *rc_dict_new(rc_heap *h);
/** Is o a dict?  (false for NULL) */
RC_API bool rc_is_dict(const void *o);
/** Number of entries; 0 if o is not a dict. */
RC_API size_t rc_dict_size(const void *d);
/** d[key] = value, taking references to both (an existing key keeps its key
 *  object; its old value's reference is dropped).  RC_ETYPE: d is not a dict
 *  or key is unhashable (see rc_hashable); RC_EINVAL: a NULL argument;
 *  RC_ENOMEM: the table could not grow (the dict is unchanged). */
RC_API rc_status rc_dict_set(void *d, void *key, void *value);
/** As rc_dict_set, but steals the caller's references to key and value in
 *  every case, failures included; a NULL key or value gives RC_ENOMEM (so
 *  constructor results can be passed directly). */
RC_API rc_status rc_dict_set_steal(void *d, void *key, void *value);
/** d[key] (borrowed), or NULL if the key is missing, unhashable, NULL, or d
 *  is not a dict (rc_dict_get_status tells these apart). */
RC_API void *rc_dict_get(const void *d, const void *key);
/** d[key] into *out (borrowed).  RC_OK; RC_EKEY missing (*out = NULL);
 *  RC_ETYPE unhashable key or d not a dict; RC_EINVAL NULL argument. */
RC_API rc_status rc_dict_get_status(const void *d, const void *key, void **out);
/** Delete d[key].  RC_OK; RC_EKEY missing; RC_ETYPE; RC_EINVAL.  The
 *  entry's references are dropped after the dict is consistent again. */
RC_API rc_status rc_dict_del(void *d, const void *key);
/** Iterate in insertion order.  Start with *pos = 0; each call stores the
 *  next entry's key and value (borrowed; either out pointer may be NULL) and
 *  returns true, or returns false at the end.  Replacing the value of an
 *  existing key during iteration is fine; inserting or deleting keys makes
 *  the rest of the iteration unspecified (but never unsafe). */
RC_API bool rc_dict_next(const void *d, size_t *pos, void **key, void **value);
/** Remove every entry and release the table.  The references are dropped
 *  after the dict is already empty.  Does nothing if d is not a dict. */
RC_API void rc_dict_clear(void *d);
/** d[str(key)] = value, the key made with rc_str_literal.  RC_EINVAL also
 *  for a key that is not valid UTF-8. */
RC_API rc_status rc_dict_set_str(void *d, const char *key, void *value);
/** d[str(key)] (borrowed) without allocating, or NULL if missing.  Only str
 *  keys with the same bytes match. */
RC_API void *rc_dict_get_str(const void *d, const char *key);
/** Delete d[str(key)]: RC_OK, RC_EKEY, RC_ETYPE (d not a dict), RC_EINVAL. */
RC_API rc_status rc_dict_del_str(void *d, const char *key);

/* ---- class and instance ----------------------------------------------------------- */

/** A new class named `name` (a str interned as by rc_str_literal) with an
 *  empty attribute dict.  finalizer (may be NULL) is the class's __del__: it
 *  runs once on each instance, when the instance's last reference is dropped
 *  (or when the collector finds it unreachable), before its attributes are
 *  released; it may resurrect the instance by storing a reference to it.
 *  NULL for name == NULL, invalid UTF-8, or allocation failure. */
RC_API void *rc_class_new(rc_heap *h, const char *name, void (*finalizer)(void *self));
/** Is o a class?  (false for NULL) */
RC_API bool rc_is_class(const void *o);
/** The class's name (borrowed, NUL-terminated); NULL if o is not a class. */
RC_API const char *rc_class_name(const void *cls);
/** The class's attribute dict (borrowed); NULL if o is not a class. */
RC_API void *rc_class_dict(const void *cls);

/** A new instance of cls, holding a reference to cls and an empty attribute
 *  dict.  NULL if cls is not a class or on allocation failure (the
 *  finalizer never runs for an instance that was not returned). */
RC_API void *rc_instance_new(rc_heap *h, void *cls);
/** Is o an instance (of any class)?  (false for NULL) */
RC_API bool rc_is_instance(const void *o);
/** The instance's class (borrowed); NULL if o is not an instance. */
RC_API void *rc_instance_class(const void *o);
/** The instance's attribute dict (borrowed); NULL if o is not an instance. */
RC_API void *rc_instance_dict(const void *o);
/** o.name = value (taking a reference).  RC_ETYPE: o is not an instance;
 *  RC_EINVAL: NULL name or value, or invalid UTF-8; RC_ENOMEM. */
RC_API rc_status rc_instance_setattr(void *o, const char *name, void *value);
/** o.name (borrowed): the instance's dict first, then its class's dict (as
 *  Python looks up attributes, without descriptors).  NULL if missing or o
 *  is not an instance. */
RC_API void *rc_instance_getattr(const void *o, const char *name);
/** del o.name (the instance's dict only).  RC_OK; RC_EKEY if not set;
 *  RC_ETYPE; RC_EINVAL. */
RC_API rc_status rc_instance_delattr(void *o, const char *name);

/* ---- Printing ---------------------------------------------------------------------- */

/** Write a Python-like repr of o to out (o == NULL writes "NULL"): 42, 1.5,
 *  'text' ("it's": quoted as Python quotes), (1,), [1, 2],
 *  {'a': 1}, <A object at 0x...>, <class 'A'>; other types as
 *  <typename object at 0x...>.  A container already being printed is shown
 *  as [...] / {...} / (...), and nesting deeper than 64 levels as "...".
 *  Returns the number of bytes written, or -1 on an output error. */
RC_API int rc_fprint(FILE *out, const void *o);

#ifdef __cplusplus
}
#endif
#endif /* RCGC_TYPES_H */
