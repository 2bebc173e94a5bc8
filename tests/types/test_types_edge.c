/*
 * Adversarial tests of the built-in types: the corners the other files of
 * tests/types/ do not look at.
 *
 *   - bad input the header promises to handle (NULL, wrong types, indexes at
 *     and beyond the ends, PTRDIFF_MIN/MAX, sizes that overflow);
 *   - dict: tombstone churn checked against a model, colliding hashes, keys
 *     equal with different hashes, hash/eq callbacks that mutate the dict,
 *     finalizers that resize the dict, iteration while mutating;
 *   - str: embedded NULs, empty and long strings, interning from different
 *     buffers, UTF-8 boundaries;
 *   - int/float: cache boundaries, immortality, INT64_MIN/MAX, Python's
 *     hash values, int/float key unification;
 *   - tuple: the shared empty tuple, deep unhashability;
 *   - class/instance: attribute lookup order, cycles through attributes and
 *     class dicts collected by rc_gc_collect, resurrection in a collection;
 *   - rc_sizeof against the documented formulas, rc_fprint corner cases;
 *   - every allocation of many operations failed in turn: the call must
 *     fail cleanly, leave its objects unchanged, and leak nothing.
 */
#include "types_test.h"
#include "../testutil.h"

#include <rcgc/gc.h>

#include <float.h>
#include <math.h>
#include <stdint.h>


/* The mode of the current pass over the mode-independent tests. */
static rc_alloc_mode g_mode = RC_MODE_DEBUG;

/* A heap whose collector does not run by itself (exact counts);
 * RC_MODE_DEFAULT: the current pass's mode. */
static rc_heap *quiet_heap(rc_alloc_mode mode) {
    rc_heap *h = types_heap(mode == RC_MODE_DEFAULT ? g_mode : mode);
    rc_gc_disable(h);
    return h;
}

/* ---- A user key type whose hash and eq can run hooks ------------------------------ */

typedef struct ukey {
    int64_t id;    /* equality: same id */
    uint64_t hash; /* what hash() answers */
} ukey;

static void (*g_eq_hook)(const void *a, const void *b);
static void (*g_hash_hook)(const void *o);
static unsigned long g_eq_calls, g_hash_calls;

static uint64_t ukey_hash(const void *o) {
    g_hash_calls++;
    if (g_hash_hook) {
        void (*hook)(const void *) = g_hash_hook;
        g_hash_hook = NULL; /* once */
        hook(o);
    }
    return ((const ukey *)o)->hash;
}

static const rc_type ukey_type;

static bool ukey_eq(const void *a, const void *b) {
    g_eq_calls++;
    if (g_eq_hook) {
        void (*hook)(const void *, const void *) = g_eq_hook;
        g_eq_hook = NULL; /* once */
        hook(a, b);
    }
    if (rc_type_of(b) != &ukey_type)
        return false;
    return ((const ukey *)a)->id == ((const ukey *)b)->id;
}

static const rc_type ukey_type = {
    .name = "ukey",
    .size = sizeof(ukey),
    .hash = ukey_hash,
    .eq = ukey_eq,
};

static void *ukey_new(rc_heap *h, int64_t id, uint64_t hash) {
    ukey *k = rc_new(h, &ukey_type, 0);
    if (k) {
        k->id = id;
        k->hash = hash;
    }
    return k;
}

/* An unhashable user type (RC_TYPE_UNHASHABLE). */
typedef struct ublob {
    int x;
} ublob;
static const rc_type ublob_type = {
    .name = "ublob",
    .size = sizeof(ublob),
    .flags = RC_TYPE_UNHASHABLE,
};

/* ---- Bad input: NULL and wrong types ---------------------------------------------------- */

static void test_edge_null_and_wrong_type(void) {
    rc_heap *h = quiet_heap(RC_MODE_DEFAULT);
    void *i = rc_int_new(h, 1000);
    void *f = rc_float_new(h, 2.5);
    void *s = rc_str_from_cstr(h, "s");
    void *l = rc_list_new(h, 0);
    void *d = rc_dict_new(h);
    void *cls = rc_class_new(h, "K", NULL);
    void *x = rc_instance_new(h, cls);
    void *t = rc_tuple_pack(h, 1, i);
    void *objs[] = {i, f, s, l, d, cls, x, t};

    /* constructors refuse a NULL heap */
    CHECK_NULL(rc_int_new(NULL, 1));
    CHECK_NULL(rc_int_new(NULL, 1000));
    CHECK_NULL(rc_float_new(NULL, 1.0));
    CHECK_NULL(rc_str_new(NULL, "a", 1));
    CHECK_NULL(rc_str_from_cstr(NULL, "a"));
    CHECK_NULL(rc_str_from_cstr(h, NULL));
    CHECK_NULL(rc_str_literal(NULL, "a"));
    CHECK_NULL(rc_str_literal(h, NULL));
    CHECK_NULL(rc_str_new(h, NULL, 1));
    CHECK_NULL(rc_tuple_pack(NULL, 0));
    CHECK_NULL(rc_tuple_pack(NULL, 1, i));
    CHECK_NULL(rc_tuple_from(NULL, 1, &i));
    CHECK_NULL(rc_tuple_from(h, 2, NULL));
    CHECK_NULL(rc_list_new(NULL, 0));
    CHECK_NULL(rc_dict_new(NULL));
    CHECK_NULL(rc_class_new(NULL, "A", NULL));
    CHECK_NULL(rc_class_new(h, NULL, NULL));
    CHECK_NULL(rc_class_new(h, "\xff", NULL));
    CHECK_NULL(rc_instance_new(h, NULL));
    CHECK_NULL(rc_instance_new(NULL, cls));
    for (size_t k = 0; k < sizeof objs / sizeof *objs; k++)
        if (objs[k] != cls)
            CHECK_NULL(rc_instance_new(h, objs[k]));

    /* predicates and queries on NULL */
    CHECK(!rc_is_int(NULL) && !rc_is_float(NULL) && !rc_is_str(NULL) && !rc_is_tuple(NULL));
    CHECK(!rc_is_list(NULL) && !rc_is_dict(NULL) && !rc_is_class(NULL) && !rc_is_instance(NULL));
    CHECK(!rc_hashable(NULL));
    CHECK_EQ(rc_int_value(NULL), 0);
    CHECK(rc_float_value(NULL) == 0.0);
    CHECK_NULL(rc_str_data(NULL));
    CHECK_EQ(rc_str_nbytes(NULL), 0);
    CHECK_EQ(rc_str_length(NULL), 0);
    CHECK(!rc_str_equal_cstr(NULL, ""));
    CHECK(!rc_str_equal_cstr(s, NULL));
    CHECK(!rc_str_is_interned(NULL));
    CHECK_NULL(rc_str_intern(NULL));
    CHECK_EQ(rc_tuple_size(NULL), 0);
    CHECK_NULL(rc_tuple_get(NULL, 0));
    CHECK_EQ(rc_list_size(NULL), 0);
    CHECK_EQ(rc_list_capacity(NULL), 0);
    CHECK_NULL(rc_list_get(NULL, 0));
    CHECK_NULL(rc_list_pop(NULL, 0));
    rc_list_clear(NULL);
    CHECK_EQ(rc_dict_size(NULL), 0);
    CHECK_NULL(rc_dict_get(NULL, i));
    CHECK_NULL(rc_dict_get(d, NULL));
    CHECK_NULL(rc_dict_get_str(NULL, "a"));
    CHECK_NULL(rc_dict_get_str(d, NULL));
    rc_dict_clear(NULL);
    CHECK_NULL(rc_class_name(NULL));
    CHECK_NULL(rc_class_dict(NULL));
    CHECK_NULL(rc_instance_class(NULL));
    CHECK_NULL(rc_instance_dict(NULL));
    CHECK_NULL(rc_instance_getattr(NULL, "a"));
    CHECK_NULL(rc_instance_getattr(x, NULL));

    /* queries on each wrong type answer the neutral value */
    for (size_t k = 0; k < sizeof objs / sizeof *objs; k++) {
        void *o = objs[k];
        if (o != i)
            CHECK_EQ(rc_int_value(o), 0);
        if (o != i && o != f)
            CHECK(rc_float_value(o) == 0.0);
        if (o != s) {
            CHECK_NULL(rc_str_data(o));
            CHECK_EQ(rc_str_nbytes(o), 0);
            CHECK_EQ(rc_str_length(o), 0);
            CHECK(!rc_str_equal_cstr(o, ""));
            CHECK(!rc_str_is_interned(o));
            CHECK_NULL(rc_str_intern(o));
        }
        if (o != t) {
            CHECK_EQ(rc_tuple_size(o), 0);
            CHECK_NULL(rc_tuple_get(o, 0));
        }
        if (o != l) {
            CHECK_EQ(rc_list_size(o), 0);
            CHECK_EQ(rc_list_capacity(o), 0);
            CHECK_NULL(rc_list_get(o, 0));
            CHECK_NULL(rc_list_pop(o, 0));
            rc_list_clear(o);
            CHECK_EQ(rc_list_append(o, i), RC_ETYPE);
            CHECK_EQ(rc_list_set(o, 0, i), RC_ETYPE);
            CHECK_EQ(rc_list_insert(o, 0, i), RC_ETYPE);
        }
        if (o != d) {
            void *out = i;
            CHECK_EQ(rc_dict_size(o), 0);
            CHECK_EQ(rc_dict_set(o, i, i), RC_ETYPE);
            CHECK_EQ(rc_dict_get_status(o, i, &out), RC_ETYPE);
            CHECK_NULL(out);
            CHECK_NULL(rc_dict_get(o, i));
            CHECK_EQ(rc_dict_del(o, i), RC_ETYPE);
            CHECK_EQ(rc_dict_set_str(o, "a", i), RC_ETYPE);
            CHECK_NULL(rc_dict_get_str(o, "a"));
            CHECK_EQ(rc_dict_del_str(o, "a"), RC_ETYPE);
            size_t pos = 0;
            CHECK(!rc_dict_next(o, &pos, NULL, NULL));
            rc_dict_clear(o);
        }
        if (o != cls) {
            CHECK_NULL(rc_class_name(o));
            CHECK_NULL(rc_class_dict(o));
        }
        if (o != x) {
            CHECK_NULL(rc_instance_class(o));
            CHECK_NULL(rc_instance_dict(o));
            CHECK_NULL(rc_instance_getattr(o, "a"));
            CHECK_EQ(rc_instance_setattr(o, "a", i), RC_ETYPE);
            CHECK_EQ(rc_instance_delattr(o, "a"), RC_ETYPE);
        }
    }
    /* nothing above changed the objects */
    CHECK_REPR(t, "(1000,)");
    CHECK_REPR(l, "[]");
    CHECK_REPR(d, "{}");
    CHECK_EQ(rc_refcount(i), 2); /* ours and the tuple's */

    /* list: NULL arguments */
    CHECK_EQ(rc_list_append(NULL, i), RC_EINVAL);
    CHECK_EQ(rc_list_append(l, NULL), RC_EINVAL);
    CHECK_EQ(rc_list_append_steal(l, NULL), RC_ENOMEM);
    CHECK_EQ(rc_list_set(NULL, 0, i), RC_EINVAL);
    CHECK_EQ(rc_list_insert(l, 0, NULL), RC_EINVAL);
    CHECK_EQ(rc_list_insert(NULL, 0, i), RC_EINVAL);
    CHECK_EQ(rc_list_size(l), 0);
    /* append_steal steals even when the list is the wrong type */
    void *fresh = rc_int_new(h, 77777);
    rc_incref(fresh);
    CHECK_EQ(rc_list_append_steal(d, fresh), RC_ETYPE);
    CHECK_EQ(rc_refcount(fresh), 1);
    rc_decref(fresh);
    rc_list_append(l, i);
    CHECK_EQ(rc_list_set(l, 0, NULL), RC_EINVAL);
    CHECK_PTR_EQ(rc_list_get(l, 0), i);

    /* dict: NULL arguments and unhashable keys */
    void *out = i;
    CHECK_EQ(rc_dict_set(NULL, i, i), RC_EINVAL);
    CHECK_EQ(rc_dict_set(d, NULL, i), RC_EINVAL);
    CHECK_EQ(rc_dict_set(d, i, NULL), RC_EINVAL);
    CHECK_EQ(rc_dict_get_status(d, i, NULL), RC_EINVAL);
    CHECK_EQ(rc_dict_get_status(NULL, i, &out), RC_EINVAL);
    CHECK_NULL(out);
    out = i;
    CHECK_EQ(rc_dict_get_status(d, NULL, &out), RC_EINVAL);
    CHECK_NULL(out);
    CHECK_EQ(rc_dict_del(NULL, i), RC_EINVAL);
    CHECK_EQ(rc_dict_del(d, NULL), RC_EINVAL);
    CHECK_EQ(rc_dict_set_str(NULL, "a", i), RC_EINVAL);
    CHECK_EQ(rc_dict_set_str(d, NULL, i), RC_EINVAL);
    CHECK_EQ(rc_dict_set_str(d, "a", NULL), RC_EINVAL);
    CHECK_EQ(rc_dict_set_str(d, "bad\xc3", i), RC_EINVAL);
    CHECK_EQ(rc_dict_set_str(d, "\xed\xa0\x80", i), RC_EINVAL); /* a surrogate */
    CHECK_EQ(rc_dict_del_str(NULL, "a"), RC_EINVAL);
    CHECK_EQ(rc_dict_del_str(d, NULL), RC_EINVAL);
    CHECK_EQ(rc_dict_del_str(d, "a"), RC_EKEY);
    CHECK(!rc_dict_next(d, NULL, NULL, NULL));
    void *blob = rc_new(h, &ublob_type, 0);
    void *unhashables[] = {l, d, blob};
    for (size_t k = 0; k < 3; k++) {
        void *u = unhashables[k];
        CHECK(!rc_hashable(u));
        CHECK_EQ(rc_dict_set(d, u, i), RC_ETYPE);
        out = i;
        CHECK_EQ(rc_dict_get_status(d, u, &out), RC_ETYPE);
        CHECK_NULL(out);
        CHECK_NULL(rc_dict_get(d, u));
        CHECK_EQ(rc_dict_del(d, u), RC_ETYPE);
    }
    CHECK_EQ(rc_dict_size(d), 0);
    CHECK_EQ(rc_sizeof(d), GCHDR + DICT_FIXED); /* still no table */
    /* set_steal steals in every failure case */
    void *k1 = rc_str_from_cstr(h, "k1"), *v1 = rc_float_new(h, 1.0);
    rc_incref(k1);
    rc_incref(v1);
    CHECK_EQ(rc_dict_set_steal(d, k1, NULL), RC_ENOMEM);
    CHECK_EQ(rc_dict_set_steal(d, NULL, v1), RC_ENOMEM);
    CHECK_EQ(rc_refcount(k1), 1);
    CHECK_EQ(rc_refcount(v1), 1);
    rc_incref(l);
    rc_incref(v1);
    CHECK_EQ(rc_dict_set_steal(d, l, v1), RC_ETYPE); /* unhashable key */
    CHECK_EQ(rc_refcount(l), 1);
    CHECK_EQ(rc_refcount(v1), 1);
    rc_incref(k1);
    rc_incref(v1);
    CHECK_EQ(rc_dict_set_steal(l, k1, v1), RC_ETYPE); /* not a dict */
    CHECK_EQ(rc_refcount(k1), 1);
    CHECK_EQ(rc_refcount(v1), 1);
    CHECK_EQ(rc_dict_size(d), 0);
    rc_decref(k1);
    rc_decref(v1);

    /* instance attributes: NULL and invalid names */
    CHECK_EQ(rc_instance_setattr(NULL, "a", i), RC_EINVAL);
    CHECK_EQ(rc_instance_setattr(x, NULL, i), RC_EINVAL);
    CHECK_EQ(rc_instance_setattr(x, "a", NULL), RC_EINVAL);
    CHECK_EQ(rc_instance_setattr(x, "\xc0\x80", i), RC_EINVAL); /* overlong NUL */
    CHECK_EQ(rc_instance_delattr(NULL, "a"), RC_EINVAL);
    CHECK_EQ(rc_instance_delattr(x, NULL), RC_EINVAL);
    CHECK_EQ(rc_instance_delattr(x, "a"), RC_EKEY);
    CHECK_EQ(rc_dict_size(rc_instance_dict(x)), 0);

    rc_decref(blob);
    for (size_t k = 0; k < sizeof objs / sizeof *objs; k++)
        rc_decref(objs[k]);
    CHECK_EQ(rc_live_objects_of(h, &rc_list_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_dict_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_float_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_int_type), 0);
    rc_heap_destroy(h);
}

/* ---- Indexes at and beyond the ends ------------------------------------------------------ */

static void test_edge_indexes(void) {
    rc_heap *h = quiet_heap(RC_MODE_DEFAULT);
    void *v[5];
    for (int k = 0; k < 5; k++)
        v[k] = rc_int_new(h, 1000 + k);
    void *t = rc_tuple_from(h, 5, v);
    void *l = rc_list_new(h, 0);
    for (int k = 0; k < 5; k++)
        rc_list_append(l, v[k]);
    const ptrdiff_t bad[] = {5, 6, -6, -7, PTRDIFF_MAX, PTRDIFF_MIN, PTRDIFF_MIN + 1,
                             PTRDIFF_MIN + 5, PTRDIFF_MAX - 4};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        CHECK_NULL(rc_tuple_get(t, bad[k]));
        CHECK_NULL(rc_list_get(l, bad[k]));
        CHECK_NULL(rc_list_pop(l, bad[k]));
        CHECK_EQ(rc_list_set(l, bad[k], v[0]), RC_EINDEX);
    }
    CHECK_EQ(rc_list_size(l), 5);
    CHECK_EQ(rc_refcount(v[0]), 3);
    for (ptrdiff_t k = -5; k < 5; k++) {
        void *want = v[k < 0 ? k + 5 : k];
        CHECK_PTR_EQ(rc_tuple_get(t, k), want);
        CHECK_PTR_EQ(rc_list_get(l, k), want);
    }
    /* insert clamps like list.insert */
    void *a = rc_int_new(h, 1), *b = rc_int_new(h, 2), *c = rc_int_new(h, 3), *e = rc_int_new(h, 4);
    CHECK_EQ(rc_list_insert(l, PTRDIFF_MIN, a), RC_OK);
    CHECK_EQ(rc_list_insert(l, PTRDIFF_MAX, b), RC_OK);
    CHECK_EQ(rc_list_insert(l, -1, c), RC_OK);
    CHECK_EQ(rc_list_insert(l, -100, e), RC_OK);
    CHECK_EQ(rc_list_insert(l, 7, e), RC_OK); /* == size 7 before it: append */
    CHECK_REPR(l, "[4, 1, 1000, 1001, 1002, 1003, 1004, 4, 3, 2]");
    /* pop at both ends and with the most negative valid index */
    void *p = rc_list_pop(l, -10);
    CHECK_PTR_EQ(p, e);
    p = rc_list_pop(l, 8);
    CHECK_PTR_EQ(p, b);
    p = rc_list_pop(l, -1);
    CHECK_PTR_EQ(p, c);
    CHECK_REPR(l, "[1, 1000, 1001, 1002, 1003, 1004, 4]");
    /* empty list: nothing is in range, insert anywhere works */
    void *m = rc_list_new(h, 0);
    CHECK_NULL(rc_list_pop(m, 0));
    CHECK_NULL(rc_list_pop(m, -1));
    CHECK_NULL(rc_list_get(m, -1));
    CHECK_EQ(rc_list_set(m, 0, a), RC_EINDEX);
    CHECK_EQ(rc_list_set(m, -1, a), RC_EINDEX);
    CHECK_EQ(rc_list_insert(m, -1, a), RC_OK);
    CHECK_EQ(rc_list_insert(m, PTRDIFF_MIN, b), RC_OK);
    CHECK_REPR(m, "[2, 1]");
    /* popping everything from the front releases the storage */
    while (rc_list_size(l))
        rc_decref(rc_list_pop(l, 0));
    CHECK_EQ(rc_list_capacity(l), 0);
    CHECK_EQ(rc_sizeof(l), GCHDR + LIST_FIXED);
    CHECK_EQ(rc_list_append(l, a), RC_OK); /* and it grows again */
    CHECK_EQ(rc_list_capacity(l), 4);
    /* the empty tuple's index range */
    void *et = rc_tuple_pack(h, 0);
    CHECK_NULL(rc_tuple_get(et, 0));
    CHECK_NULL(rc_tuple_get(et, -1));
    CHECK_NULL(rc_tuple_get(et, PTRDIFF_MIN));
    rc_decref(m);
    rc_decref(l);
    rc_decref(t);
    for (int k = 0; k < 5; k++) {
        CHECK_EQ(rc_refcount(v[k]), 1);
        rc_decref(v[k]);
    }
    CHECK_EQ(rc_live_objects_of(h, &rc_int_type), 4); /* 1..4: cached, immortal */
    rc_heap_destroy(h);
}

/* ---- Sizes that cannot be had -------------------------------------------------------------- */

/* An item count whose byte size does not overflow but lies far beyond any
 * cap: 2^40 pointers (8 TiB), or 2^28 (1 GiB) where size_t has 32 bits. */
#if SIZE_MAX > 0xFFFFFFFFu
#define ENORMOUS_COUNT ((size_t)1 << 40)
#else
#define ENORMOUS_COUNT ((size_t)1 << 28)
#endif

static void test_edge_huge_sizes(void) {
    /* a capped heap: huge requests fail inside rcgc (no giant malloc) */
    rc_heap *h = quiet_heap(RC_MODE_DEFAULT);
    rc_heap_set_max_bytes(h, (size_t)64 << 20);
    size_t live = rc_live_objects(h);
    CHECK_NULL(rc_list_new(h, SIZE_MAX));
    CHECK_NULL(rc_list_new(h, SIZE_MAX / 8));
    CHECK_NULL(rc_list_new(h, SIZE_MAX / 8 + 1));
    CHECK_NULL(rc_list_new(h, (size_t)PTRDIFF_MAX / 8));
    CHECK_NULL(rc_list_new(h, ENORMOUS_COUNT));
    /* tuple sizes whose byte count overflows, or is merely enormous: no
     * item is read before the size is refused */
    CHECK_NULL(rc_tuple_pack(h, SIZE_MAX, NULL));
    CHECK_NULL(rc_tuple_pack(h, SIZE_MAX / 8, NULL));
    CHECK_NULL(rc_tuple_pack(h, SIZE_MAX / 8 - 2, NULL));
    CHECK_NULL(rc_tuple_pack(h, ENORMOUS_COUNT, NULL));
    CHECK_EQ(rc_live_objects(h), live);
    /* a list that cannot grow past the cap stays as it was */
    void *l = rc_list_new(h, 0);
    void *one = rc_int_new(h, 1);
    size_t n = 0;
    rc_status s = RC_OK;
    while (n < ((size_t)64 << 20) && (s = rc_list_append(l, one)) == RC_OK)
        n++;
    CHECK_EQ(s, RC_ENOMEM);
    CHECK_EQ(rc_list_size(l), n);
    CHECK_GT(n, 1000);
    CHECK_PTR_EQ(rc_list_get(l, -1), one);
    rc_list_clear(l);
    CHECK_EQ(rc_list_append(l, one), RC_OK);
    rc_decref(l);
    /* a long str hashes, measures and compares like a short one */
    size_t big = (size_t)1 << 20;
    char *buf = malloc(big + 1);
    if (!CHECK_NOT_NULL(buf)) {
        rc_heap_destroy(h);
        return;
    }
    for (size_t k = 0; k < big; k++)
        buf[k] = (char)('a' + k % 26);
    buf[big] = '\0';
    void *s1 = rc_str_new(h, buf, big);
    void *s2 = rc_str_from_cstr(h, buf);
    CHECK_NOT_NULL(s1);
    CHECK_EQ(rc_str_nbytes(s1), big);
    CHECK_EQ(rc_str_length(s1), big);
    CHECK(rc_equal(s1, s2));
    CHECK_EQ(rc_sizeof(s1), HDR + STR_FIXED + big + 1);
    void *lit = rc_str_literal(h, buf); /* too long to intern */
    CHECK(!rc_str_is_interned(lit));
    CHECK_PTR_NE(lit, s1);
    buf[big - 1] = 'A';
    void *s3 = rc_str_new(h, buf, big);
    CHECK(!rc_equal(s1, s3));
    void *d = rc_dict_new(h);
    CHECK_EQ(rc_dict_set(d, s1, one), RC_OK);
    CHECK_PTR_EQ(rc_dict_get(d, s2), one);
    CHECK_NULL(rc_dict_get(d, s3));
    CHECK_PTR_EQ(rc_dict_get_str(d, rc_str_data(s2)), one);
    CHECK_NULL(rc_dict_get_str(d, buf));
    free(buf);
    rc_decref(d);
    rc_decref(s1);
    rc_decref(s2);
    rc_decref(s3);
    rc_decref(lit);
    CHECK_EQ(rc_live_objects_of(h, &rc_str_type), 0);
    rc_heap_destroy(h);
}

/* ---- str --------------------------------------------------------------------------------------- */

static void test_edge_str(void) {
    rc_heap *h = quiet_heap(RC_MODE_DEFAULT);
    /* empty strings: every way of making one, all equal; interned ones shared */
    void *e1 = rc_str_new(h, NULL, 0), *e2 = rc_str_new(h, "xyz", 0), *e3 = rc_str_from_cstr(h, "");
    CHECK_NOT_NULL(e1);
    CHECK_NOT_NULL(e2);
    CHECK_EQ(rc_str_nbytes(e1), 0);
    CHECK_EQ(rc_str_length(e2), 0);
    CHECK(rc_str_data(e1) && rc_str_data(e1)[0] == '\0');
    CHECK(rc_equal(e1, e2) && rc_equal(e2, e3));
    CHECK(rc_str_equal_cstr(e2, ""));
    CHECK_EQ(rc_sizeof(e1), HDR + STR_FIXED + 1);
    CHECK_REPR(e1, "''");
    void *el = rc_str_literal(h, "");
    CHECK(rc_str_is_interned(el));
    CHECK_PTR_EQ(rc_str_intern(e1), el); /* e1 stays a separate, mortal str */
    CHECK(!rc_str_is_interned(e1));
    CHECK(!rc_is_immortal(e1));
    CHECK_EQ(rc_refcount(e1), 1);
    CHECK_PTR_EQ(rc_str_literal(h, ""), el);

    /* embedded NULs: kept, counted, distinct from their prefix */
    const char nul[] = {'a', 'b', '\0', 'c', '\0'};
    void *n1 = rc_str_new(h, nul, 5);
    void *n2 = rc_str_new(h, "ab", 2);
    CHECK_EQ(rc_str_nbytes(n1), 5);
    CHECK_EQ(rc_str_length(n1), 5);
    CHECK(memcmp(rc_str_data(n1), nul, 5) == 0);
    CHECK_EQ(rc_str_data(n1)[5], '\0');
    CHECK(!rc_str_equal_cstr(n1, "ab"));
    CHECK(!rc_equal(n1, n2));
    CHECK_EQ(rc_sizeof(n1), HDR + STR_FIXED + 5 + 1);
    CHECK_REPR(n1, "'ab\\x00c\\x00'");
    void *d = rc_dict_new(h);
    rc_dict_set(d, n1, n1);
    CHECK_NULL(rc_dict_get(d, n2));
    CHECK_NULL(rc_dict_get_str(d, "ab"));
    rc_dict_set(d, n2, n2);
    CHECK_EQ(rc_dict_size(d), 2);
    CHECK_PTR_EQ(rc_dict_get_str(d, "ab"), n2);
    CHECK_EQ(rc_dict_del_str(d, "ab"), RC_OK);
    CHECK_PTR_EQ(rc_dict_get(d, n1), n1);
    CHECK_EQ(rc_dict_del_str(d, "ab"), RC_EKEY);
    /* interning an embedded-NUL str does not capture its prefix */
    void *in1 = rc_str_intern(n1);
    CHECK_PTR_EQ(in1, n1);
    CHECK(rc_str_is_interned(n1));
    CHECK(rc_is_immortal(n1));
    void *ab = rc_str_literal(h, "ab");
    CHECK_PTR_NE(ab, n1);
    CHECK_EQ(rc_str_nbytes(ab), 2);

    /* equal strings from different buffers intern to one object */
    char b1[8] = "intern!", b2[8];
    memcpy(b2, b1, sizeof b1);
    void *s1 = rc_str_new(h, b1, 7);
    void *s2 = rc_str_new(h, b2, 7);
    CHECK_PTR_NE(s1, s2);
    void *c1 = rc_str_intern(s1);
    void *c2 = rc_str_intern(s2);
    CHECK_PTR_EQ(c1, s1);
    CHECK_PTR_EQ(c2, s1);
    CHECK(!rc_str_is_interned(s2));
    CHECK_EQ(rc_refcount(s2), 1);
    CHECK_PTR_EQ(rc_str_literal(h, "intern!"), s1);
    CHECK_PTR_EQ(rc_str_intern(s1), s1); /* idempotent */
    rc_decref(s2);
    rc_decref(s1); /* immortal: no-op */
    CHECK(rc_str_equal_cstr(s1, "intern!"));

    /* rc_str_literal at the intern limit */
    char lim[RC_STR_LITERAL_INTERN_MAX + 2];
    memset(lim, 'q', sizeof lim);
    lim[RC_STR_LITERAL_INTERN_MAX] = '\0';
    void *l64a = rc_str_literal(h, lim), *l64b = rc_str_literal(h, lim);
    CHECK_PTR_EQ(l64a, l64b);
    CHECK(rc_str_is_interned(l64a));
    lim[RC_STR_LITERAL_INTERN_MAX] = 'q';
    lim[RC_STR_LITERAL_INTERN_MAX + 1] = '\0';
    void *l65a = rc_str_literal(h, lim), *l65b = rc_str_literal(h, lim);
    CHECK_PTR_NE(l65a, l65b);
    CHECK(!rc_str_is_interned(l65a));
    CHECK(rc_equal(l65a, l65b));
    /* a long str interned explicitly is canonical for rc_str_intern */
    void *l65c = rc_str_intern(l65a);
    CHECK_PTR_EQ(l65c, l65a);
    CHECK_PTR_EQ(rc_str_intern(l65b), l65a);
    rc_decref(l65b);

    /* UTF-8 boundaries */
    struct {
        const char *bytes;
        size_t n;
        size_t length; /* SIZE_MAX: invalid */
    } u[] = {
        {"\x7f", 1, 1},
        {"\xc2\x80", 2, 1},
        {"\xdf\xbf", 2, 1},
        {"\xe0\xa0\x80", 3, 1},
        {"\xed\x9f\xbf", 3, 1},      /* U+D7FF */
        {"\xee\x80\x80", 3, 1},      /* U+E000 */
        {"\xef\xbf\xbf", 3, 1},      /* U+FFFF */
        {"\xf0\x90\x80\x80", 4, 1},  /* U+10000 */
        {"\xf4\x8f\xbf\xbf", 4, 1},  /* U+10FFFF */
        {"a\xf4\x8f\xbf\xbf" "b", 6, 3},
        {"\x80", 1, SIZE_MAX},
        {"\xc1\xbf", 2, SIZE_MAX},
        {"\xe0\x9f\xbf", 3, SIZE_MAX},
        {"\xed\xa0\x80", 3, SIZE_MAX},
        {"\xed\xbf\xbf", 3, SIZE_MAX},
        {"\xf0\x8f\xbf\xbf", 4, SIZE_MAX},
        {"\xf4\x90\x80\x80", 4, SIZE_MAX},
        {"\xf5\x80\x80\x80", 4, SIZE_MAX},
        {"\xff", 1, SIZE_MAX},
        {"\xe2\x82", 2, SIZE_MAX},      /* truncated */
        {"\xf0\x9f\x98", 3, SIZE_MAX},  /* truncated */
        {"\xc3\x28", 2, SIZE_MAX},      /* bad continuation */
        {"\xe2\x28\xa1", 3, SIZE_MAX},
    };
    for (size_t k = 0; k < sizeof u / sizeof *u; k++) {
        void *o = rc_str_new(h, u[k].bytes, u[k].n);
        if (u[k].length == SIZE_MAX) {
            CHECK_MSG(o == NULL, "case %zu should be invalid", k);
            CHECK_MSG(rc_str_literal(h, u[k].bytes) == NULL || strlen(u[k].bytes) != u[k].n,
                      "literal case %zu should be invalid", k);
        } else {
            CHECK_MSG(o != NULL, "case %zu should be valid", k);
            CHECK_EQ(rc_str_length(o), u[k].length);
            CHECK_EQ(rc_str_nbytes(o), u[k].n);
        }
        rc_decref(o);
    }
    /* invalid bytes after a NUL are still checked by rc_str_new */
    CHECK_NULL(rc_str_new(h, "a\0\xff", 3));

    rc_decref(d);
    rc_decref(e1);
    rc_decref(e2);
    rc_decref(e3);
    rc_decref(n2);
    rc_decref(l65a);
    CHECK_EQ(rc_live_objects_of(h, &rc_dict_type), 0);
    /* left: interned "", "ab\0c\0", "ab", "intern!", the 64 and the 65 q's */
    CHECK_EQ(rc_live_objects_of(h, &rc_str_type), 6);
    rc_heap_destroy(h);
}

/* ---- int and float -------------------------------------------------------------------------------- */

static uint64_t key_hash(const void *o) {
    uint64_t v = 0;
    CHECK(rc_hash(o, &v));
    return v;
}

static void test_edge_numbers(void) {
    rc_heap *h = quiet_heap(RC_MODE_DEFAULT);
    /* the cache's boundaries */
    for (int64_t v = -7; v <= 258; v++) {
        void *a = rc_int_new(h, v), *b = rc_int_new(h, v);
        bool cached = v >= -5 && v <= 256;
        CHECK_EQ(rc_int_value(a), v);
        CHECK_MSG((a == b) == cached, "v=%" PRId64 ": identity %d", v, a == b);
        CHECK_MSG(!!rc_is_immortal(a) == cached, "v=%" PRId64 ": immortality", v);
        if (cached) {
            for (int k = 0; k < 10; k++)
                rc_decref(a); /* no-ops */
            CHECK_EQ(rc_int_value(a), v);
            CHECK_PTR_EQ(rc_int_new(h, v), a);
        } else {
            CHECK_EQ(rc_refcount(a), 1);
            rc_decref(a);
            rc_decref(b);
        }
    }
    CHECK_EQ(rc_live_objects_of(h, &rc_int_type), 262);
    /* another heap has its own cache */
    rc_heap *h2 = quiet_heap(RC_MODE_DEFAULT);
    void *seven2 = rc_int_new(h2, 7);
    CHECK_PTR_NE(seven2, rc_int_new(h, 7));
    CHECK_PTR_EQ(rc_heap_of(seven2), h2);
    rc_heap_destroy(h2);

    /* extremes, and Python's hash values */
    void *mn = rc_int_new(h, INT64_MIN), *mx = rc_int_new(h, INT64_MAX);
    CHECK_EQ(rc_int_value(mn), INT64_MIN);
    CHECK_EQ(rc_int_value(mx), INT64_MAX);
    CHECK_REPR(mn, "-9223372036854775808");
    CHECK_REPR(mx, "9223372036854775807");
    CHECK_EQ(key_hash(mn), (uint64_t)-4); /* hash(-2**63) == -4 */
    CHECK_EQ(key_hash(mx), 3);            /* hash(2**63-1) == 3 */
    void *p61 = rc_int_new(h, ((int64_t)1 << 61) - 1);
    CHECK_EQ(key_hash(p61), 0); /* hash(2**61-1) == 0 */
    void *m1 = rc_int_new(h, -1);
    CHECK_EQ(key_hash(m1), (uint64_t)-2);
    void *m2 = rc_int_new(h, -2);
    CHECK_EQ(key_hash(m2), (uint64_t)-2);
    CHECK(!rc_equal(m1, m2)); /* equal hashes, different keys */
    void *fmin = rc_float_new(h, -9223372036854775808.0);
    void *fmax = rc_float_new(h, 9223372036854775808.0); /* 2^63: no int64 equals it */
    CHECK(rc_equal(mn, fmin) && rc_equal(fmin, mn));
    CHECK_EQ(key_hash(fmin), key_hash(mn));
    CHECK(!rc_equal(mx, fmax) && !rc_equal(fmax, mx));
    CHECK(rc_float_value(mx) == 9223372036854775808.0);

    void *half = rc_float_new(h, 0.5), *nhalf = rc_float_new(h, -0.5);
    CHECK_EQ(key_hash(half), (uint64_t)1 << 60);
    CHECK_EQ(key_hash(nhalf), (uint64_t)0 - ((uint64_t)1 << 60));
    void *sub = rc_float_new(h, 4.9406564584124654e-324); /* 2^-1074 */
    CHECK_EQ(key_hash(sub), (uint64_t)1 << 24);            /* hash(5e-324) == 16777216 */
    void *inf = rc_float_new(h, INFINITY), *ninf = rc_float_new(h, -INFINITY);
    CHECK_EQ(key_hash(inf), 314159);
    CHECK_EQ(key_hash(ninf), (uint64_t)-314159);
    void *big = rc_float_new(h, DBL_MAX);
    CHECK_EQ(key_hash(big), 2234066890152476671ull); /* Python's hash(sys.float_info.max) */
    void *e300 = rc_float_new(h, 1e300), *m15 = rc_float_new(h, -1.5);
    CHECK_EQ(key_hash(e300), 1224995262755759164ull);
    CHECK_EQ(key_hash(m15), (uint64_t)-1152921504606846977ll);
    void *zero = rc_int_new(h, 0), *fz = rc_float_new(h, 0.0), *nfz = rc_float_new(h, -0.0);
    CHECK_EQ(key_hash(fz), 0);
    CHECK_EQ(key_hash(nfz), 0);

    /* dict keys: equal numbers are one key whatever their type */
    void *d = rc_dict_new(h);
    CHECK_EQ(rc_dict_set(d, zero, m1), RC_OK);
    CHECK_EQ(rc_dict_set(d, nfz, m2), RC_OK); /* -0.0 == 0: replaces */
    CHECK_EQ(rc_dict_size(d), 1);
    CHECK_PTR_EQ(rc_dict_get(d, fz), m2);
    size_t pos = 0;
    void *k, *v;
    CHECK(rc_dict_next(d, &pos, &k, &v));
    CHECK_PTR_EQ(k, zero); /* the first key object is kept */
    CHECK_EQ(rc_dict_set(d, fmin, half), RC_OK);
    CHECK_PTR_EQ(rc_dict_get(d, mn), half);
    CHECK_EQ(rc_dict_set(d, mx, half), RC_OK);
    CHECK_NULL(rc_dict_get(d, fmax));
    void *p53 = rc_int_new(h, ((int64_t)1 << 53) + 1);
    void *f53 = rc_float_new(h, 9007199254740992.0);
    CHECK(!rc_equal(p53, f53));
    CHECK_EQ(rc_dict_set(d, p53, rc_int_new(h, 1)), RC_OK);
    CHECK_NULL(rc_dict_get(d, f53));
    CHECK_EQ(rc_dict_size(d), 4);
    /* NaN: never equal to another NaN, found only by identity, and hashed
     * by identity (Python 3.10+), not all to 0 */
    void *nan1 = rc_float_new(h, NAN), *nan2 = rc_float_new(h, NAN);
    CHECK_NE(key_hash(nan1), key_hash(nan2));
    CHECK_EQ(key_hash(nan1), key_hash(nan1));
    CHECK(!rc_equal(nan1, nan2));
    CHECK(rc_equal(nan1, nan1));
    CHECK_EQ(rc_dict_set(d, nan1, nan1), RC_OK);
    CHECK_EQ(rc_dict_set(d, nan2, nan2), RC_OK);
    CHECK_EQ(rc_dict_size(d), 6);
    CHECK_PTR_EQ(rc_dict_get(d, nan1), nan1);
    CHECK_PTR_EQ(rc_dict_get(d, nan2), nan2);
    /* (nan1,) == (nan1,): items compared by identity first */
    void *tn1 = rc_tuple_pack(h, 1, nan1), *tn2 = rc_tuple_pack(h, 1, nan1);
    void *tn3 = rc_tuple_pack(h, 1, nan2);
    CHECK(rc_equal(tn1, tn2));
    CHECK(!rc_equal(tn1, tn3));
    /* (1,) and (1.0,) are the same key */
    void *t1 = rc_tuple_pack(h, 1, rc_int_new(h, 1));
    void *f1 = rc_float_new(h, 1.0);
    void *t1f = rc_tuple_pack(h, 1, f1);
    CHECK(rc_equal(t1, t1f));
    CHECK_EQ(key_hash(t1), key_hash(t1f));
    CHECK_EQ(rc_dict_set(d, t1, t1), RC_OK);
    CHECK_PTR_EQ(rc_dict_get(d, t1f), t1);

    rc_decref(d);
    void *all[] = {e300, m15, mn, mx, p61, fmin, fmax, half, nhalf, sub, inf, ninf, big, fz, nfz, p53, f53,
                   nan1, nan2, tn1, tn2, tn3, t1, f1, t1f};
    for (size_t q = 0; q < sizeof all / sizeof *all; q++)
        rc_decref(all[q]);
    CHECK_EQ(rc_live_objects_of(h, &rc_float_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_tuple_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_int_type), 262);
    rc_heap_destroy(h);
}

/* ---- tuple ------------------------------------------------------------------------------------------ */

static void test_edge_tuples(void) {
    rc_heap *h = quiet_heap(RC_MODE_DEFAULT);
    void *one = rc_int_new(h, 1000);
    /* the empty tuple: one immortal, untracked object however it is asked for */
    void *e1 = rc_tuple_pack(h, 0), *e2 = rc_tuple_from(h, 0, NULL), *e3 = rc_tuple_from(h, 0, &one);
    CHECK_NOT_NULL(e1);
    CHECK_PTR_EQ(e1, e2);
    CHECK_PTR_EQ(e1, e3);
    CHECK(rc_is_immortal(e1));
    CHECK(!rc_gc_is_tracked(e1));
    CHECK(rc_hashable(e1));
    CHECK_EQ(rc_tuple_size(e1), 0);
    CHECK_EQ(rc_sizeof(e1), GCHDR + TUPLE_FIXED);
    rc_decref(e1);
    rc_decref(e1);
    CHECK_PTR_EQ(rc_tuple_pack(h, 0), e1);
    CHECK_EQ(rc_refcount(one), 1);
    /* a tuple of the empty tuple is not the empty tuple, and not equal to it */
    void *te = rc_tuple_pack(h, 1, e1);
    CHECK(!rc_equal(te, e1));
    CHECK_REPR(te, "((),)");

    /* a NULL item anywhere: NULL, and the other items' counts unchanged */
    void *two = rc_int_new(h, 2000);
    CHECK_NULL(rc_tuple_pack(h, 3, one, two, NULL));
    CHECK_NULL(rc_tuple_pack(h, 3, NULL, one, two));
    CHECK_NULL(rc_tuple_pack(h, 2, one, NULL));
    void *arr[3] = {one, NULL, two};
    CHECK_NULL(rc_tuple_from(h, 3, arr));
    CHECK_EQ(rc_refcount(one), 1);
    CHECK_EQ(rc_refcount(two), 1);
    CHECK_EQ(rc_live_objects_of(h, &rc_tuple_type), 2); /* (), ((),) */

    /* unhashability at any depth */
    void *l = rc_list_new(h, 0);
    void *d = rc_dict_new(h);
    void *blob = rc_new(h, &ublob_type, 0);
    void *unh[] = {l, d, blob};
    for (size_t k = 0; k < 3; k++) {
        void *t = rc_tuple_pack(h, 2, one, unh[k]);
        for (int depth = 0; depth < 50; depth++) {
            void *outer = depth % 2 ? rc_tuple_pack(h, 2, t, one) : rc_tuple_pack(h, 1, t);
            rc_decref(t);
            t = outer;
        }
        CHECK(!rc_hashable(t));
        CHECK_EQ(rc_dict_set(d, t, one), RC_ETYPE);
        CHECK_NULL(rc_dict_get(d, t));
        void *out = one;
        CHECK_EQ(rc_dict_get_status(d, t, &out), RC_ETYPE);
        CHECK_NULL(out);
        CHECK_EQ(rc_dict_del(d, t), RC_ETYPE);
        /* and a tuple that holds it next to hashable items */
        void *t2 = rc_tuple_pack(h, 3, two, t, one);
        CHECK(!rc_hashable(t2));
        /* equal unhashable tuples are still equal (element-wise) */
        void *t3 = rc_tuple_pack(h, 3, two, t, one);
        CHECK(rc_equal(t2, t3));
        rc_decref(t2);
        rc_decref(t3);
        rc_decref(t);
    }
    CHECK_EQ(rc_dict_size(d), 0);
    /* hashable nesting: instances and classes hash by identity */
    void *cls = rc_class_new(h, "T", NULL);
    void *x = rc_instance_new(h, cls);
    void *tx = rc_tuple_pack(h, 3, cls, x, e1);
    CHECK(rc_hashable(tx));
    CHECK_EQ(rc_dict_set(d, tx, one), RC_OK);
    void *tx2 = rc_tuple_pack(h, 3, cls, x, e1);
    CHECK_PTR_EQ(rc_dict_get(d, tx2), one);
    /* order matters */
    void *ty = rc_tuple_pack(h, 3, x, cls, e1);
    CHECK_NULL(rc_dict_get(d, ty));
    CHECK(!rc_equal(tx, ty));
    /* tuple vs list with the same items: not equal, either way round */
    void *lt = rc_list_new(h, 0);
    rc_list_append(lt, cls);
    rc_list_append(lt, x);
    rc_list_append(lt, e1);
    CHECK(!rc_equal(tx, lt));
    CHECK(!rc_equal(lt, tx));
    rc_decref(lt);
    rc_decref(tx);
    rc_decref(tx2);
    rc_decref(ty);
    rc_decref(te);
    rc_decref(x);
    rc_decref(cls);
    rc_decref(blob);
    rc_decref(l);
    rc_decref(d);
    rc_decref(one);
    rc_decref(two);
    CHECK_EQ(rc_live_objects_of(h, &rc_tuple_type), 1); /* () */
    CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 0);
    rc_heap_destroy(h);
}

/* ---- dict: churn against a model ---------------------------------------------------------------------- */

#define CHURN_KEYS 3000

static void test_edge_dict_churn_model(void) {
    rc_heap *h = quiet_heap(RC_MODE_DEFAULT);
    test_rng r = test_rng_seed(12345);
    void *d = rc_dict_new(h);
    void *keys[CHURN_KEYS];
    void *vals[CHURN_KEYS];
    bool present[CHURN_KEYS];
    /* three kinds of key: ints, strs, colliding user keys (hash 16 apart so
     * they share low bits, or equal) */
    for (int k = 0; k < CHURN_KEYS; k++) {
        if (k % 3 == 0) {
            keys[k] = rc_int_new(h, 1000000 + k);
        } else if (k % 3 == 1) {
            char buf[32];
            snprintf(buf, sizeof buf, "key-%d", k);
            keys[k] = rc_str_from_cstr(h, buf);
        } else {
            keys[k] = ukey_new(h, k, (uint64_t)(k % 7) << 40); /* 7 hash values only */
        }
        vals[k] = rc_int_new(h, 5000000 + k);
        present[k] = false;
    }
    size_t live = 0;
    for (int round = 0; round < 40; round++) {
        for (int op = 0; op < 2000; op++) {
            int k = (int)test_rng_below(&r, round < 20 ? CHURN_KEYS : CHURN_KEYS / 10);
            if (test_rng_below(&r, 2) == 0) {
                CHECK_EQ(rc_dict_set(d, keys[k], vals[k]), RC_OK);
                if (!present[k])
                    live++;
                present[k] = true;
            } else {
                rc_status s = rc_dict_del(d, keys[k]);
                CHECK_EQ(s, present[k] ? RC_OK : RC_EKEY);
                if (present[k])
                    live--;
                present[k] = false;
            }
        }
        /* every key is where the model says */
        CHECK_EQ(rc_dict_size(d), live);
        size_t bad = 0;
        for (int k = 0; k < CHURN_KEYS; k++) {
            void *got = rc_dict_get(d, keys[k]);
            if (got != (present[k] ? vals[k] : NULL))
                bad++;
        }
        CHECK_MSG(bad == 0, "round %d: %zu keys wrong", round, bad);
        /* iteration sees each live key once, with its value */
        size_t pos = 0, seen = 0, wrong = 0;
        void *k, *v;
        while (rc_dict_next(d, &pos, &k, &v)) {
            seen++;
            int idx = (int)(rc_int_value(v) - 5000000);
            if (idx < 0 || idx >= CHURN_KEYS || keys[idx] != k || !present[idx])
                wrong++;
        }
        CHECK_EQ(seen, live);
        CHECK_EQ(wrong, 0);
        /* the table never grows without bound from tombstones */
        CHECK_LE(rc_sizeof(d), GCHDR + DICT_FIXED + 16 * 8 * (live + 8) * 3 + DICT_ENTRY * 3 * (live + 8));
    }
    /* empty it by deletion, then reuse */
    for (int k = 0; k < CHURN_KEYS; k++)
        if (present[k])
            CHECK_EQ(rc_dict_del(d, keys[k]), RC_OK);
    CHECK_EQ(rc_dict_size(d), 0);
    size_t pos = 0;
    CHECK(!rc_dict_next(d, &pos, NULL, NULL));
    for (int k = 0; k < 100; k++)
        CHECK_EQ(rc_dict_set(d, keys[k], vals[k]), RC_OK);
    CHECK_EQ(rc_dict_size(d), 100);
    rc_decref(d);
    for (int k = 0; k < CHURN_KEYS; k++) {
        CHECK_EQ(rc_refcount(keys[k]), 1);
        rc_decref(keys[k]);
        rc_decref(vals[k]);
    }
    CHECK_EQ(rc_live_objects_of(h, &ukey_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_str_type), 0);
    rc_heap_destroy(h);
}

/* Insertion order survives deletions and compaction; re-inserting a deleted
 * key puts it at the end. */
static void test_edge_dict_order_reinsert(void) {
    rc_heap *h = quiet_heap(RC_MODE_DEFAULT);
    void *d = rc_dict_new(h);
    void *k[20];
    for (int i = 0; i < 20; i++) {
        k[i] = rc_int_new(h, 100 + i); /* cached ints: immortal */
        rc_dict_set(d, k[i], k[i]);
    }
    for (int i = 0; i < 20; i += 2)
        rc_dict_del(d, k[i]);
    rc_dict_set(d, k[0], k[0]);
    /* many insert/delete pairs to force several rebuilds */
    void *tmp = rc_int_new(h, 99999);
    for (int i = 0; i < 500; i++) {
        CHECK_EQ(rc_dict_set(d, tmp, tmp), RC_OK);
        CHECK_EQ(rc_dict_del(d, tmp), RC_OK);
    }
    CHECK_EQ(rc_refcount(tmp), 1);
    rc_decref(tmp);
    CHECK_REPR(d, "{101: 101, 103: 103, 105: 105, 107: 107, 109: 109, 111: 111, 113: 113, "
                  "115: 115, 117: 117, 119: 119, 100: 100}");
    /* replacing a value keeps the position */
    rc_dict_set(d, k[5], k[6]);
    CHECK_REPR(d, "{101: 101, 103: 103, 105: 106, 107: 107, 109: 109, 111: 111, 113: 113, "
                  "115: 115, 117: 117, 119: 119, 100: 100}");
    /* churn did not leave the table bloated: rebuilt for 3 x 11 live
     * entries, rounded up to 64 slots (1-byte index, 42 entries) */
    CHECK_LE(rc_sizeof(d), GCHDR + DICT_FIXED + 64 + 42 * DICT_ENTRY);
    rc_decref(d);
    rc_heap_destroy(h);
}

/* Keys that break the hash/eq contract must not break the dict. */
static void test_edge_dict_contract_breakers(void) {
    rc_heap *h = quiet_heap(RC_MODE_DEFAULT);
    void *d = rc_dict_new(h);
    void *v = rc_int_new(h, 1);
    /* equal ids, different hashes: two separate keys (hash compared first) */
    void *a = ukey_new(h, 1, 111), *b = ukey_new(h, 1, 222);
    CHECK(rc_equal(a, b));
    CHECK_EQ(rc_dict_set(d, a, a), RC_OK);
    CHECK_EQ(rc_dict_set(d, b, b), RC_OK);
    CHECK_EQ(rc_dict_size(d), 2);
    CHECK_PTR_EQ(rc_dict_get(d, a), a);
    CHECK_PTR_EQ(rc_dict_get(d, b), b);
    /* same hash, unequal: separate keys (all in one probe chain) */
    void *c[64];
    for (int i = 0; i < 64; i++) {
        c[i] = ukey_new(h, 100 + i, 0xABCDEF);
        CHECK_EQ(rc_dict_set(d, c[i], c[i]), RC_OK);
    }
    CHECK_EQ(rc_dict_size(d), 66);
    for (int i = 0; i < 64; i += 2)
        CHECK_EQ(rc_dict_del(d, c[i]), RC_OK);
    for (int i = 0; i < 64; i++)
        CHECK_PTR_EQ(rc_dict_get(d, c[i]), i % 2 ? c[i] : NULL);
    /* a fresh key equal to a stored one finds it, keeps the stored key */
    void *c1 = ukey_new(h, 101, 0xABCDEF);
    CHECK_EQ(rc_dict_set(d, c1, v), RC_OK);
    CHECK_EQ(rc_dict_size(d), 34);
    CHECK_EQ(rc_refcount(c1), 1);
    CHECK_EQ(rc_refcount(c[1]), 2);
    CHECK_PTR_EQ(rc_dict_get(d, c[1]), v);
    rc_decref(c1);
    rc_decref(d);
    rc_decref(a);
    rc_decref(b);
    for (int i = 0; i < 64; i++) {
        CHECK_EQ(rc_refcount(c[i]), 1);
        rc_decref(c[i]);
    }
    CHECK_EQ(rc_live_objects_of(h, &ukey_type), 0);
    rc_heap_destroy(h);
}

/* ---- dict: callbacks that change the dict -------------------------------------------------------------- */

static void *g_d;
static rc_heap *g_h;
static void *g_victim;

static void hook_clear(const void *a, const void *b) {
    (void)a;
    (void)b;
    rc_dict_clear(g_d);
}

static void hook_grow(const void *a, const void *b) {
    (void)a;
    (void)b;
    for (int i = 0; i < 100; i++)
        rc_dict_set_steal(g_d, rc_int_new(g_h, 700000 + i), rc_int_new(g_h, i));
}

/* delete the stored key being compared (its only reference is the dict's) */
static void hook_delete_stored(const void *a, const void *b) {
    (void)b;
    CHECK_EQ(rc_dict_del(g_d, a), RC_OK);
}

static void hook_hash_mutates(const void *o) {
    (void)o;
    hook_grow(NULL, NULL);
    rc_dict_del(g_d, g_victim);
}

static void test_edge_dict_reentrant(void) {
    rc_heap *h = quiet_heap(RC_MODE_DEFAULT);
    g_h = h;
    void *d = rc_dict_new(h);
    g_d = d;
    void *v = rc_int_new(h, 5);

    /* 1. eq deletes the stored key mid-lookup in rc_dict_set: the stored key
     * dies (only the dict held it), the new key is then inserted */
    rc_dict_set_steal(d, ukey_new(h, 1, 42), rc_int_new(h, 1));
    void *probe = ukey_new(h, 1, 42);
    g_eq_hook = hook_delete_stored;
    CHECK_EQ(rc_dict_set(d, probe, v), RC_OK);
    CHECK_NULL(g_eq_hook);
    CHECK_EQ(rc_dict_size(d), 1);
    CHECK_PTR_EQ(rc_dict_get(d, probe), v);
    size_t pos = 0;
    void *k;
    CHECK(rc_dict_next(d, &pos, &k, NULL));
    CHECK_PTR_EQ(k, probe);
    CHECK_EQ(rc_live_objects_of(h, &ukey_type), 1);
    rc_dict_clear(d);

    /* 2. eq clears the dict during a get: NULL (missing), dict usable */
    rc_dict_set_steal(d, ukey_new(h, 2, 42), rc_int_new(h, 2));
    rc_dict_set_steal(d, rc_int_new(h, 3), rc_int_new(h, 3));
    void *p2 = ukey_new(h, 2, 42);
    g_eq_hook = hook_clear;
    CHECK_NULL(rc_dict_get(d, p2));
    CHECK_EQ(rc_dict_size(d), 0);
    CHECK_EQ(rc_dict_set(d, p2, v), RC_OK);
    CHECK_PTR_EQ(rc_dict_get(d, p2), v);
    rc_dict_clear(d);

    /* 3. eq grows the dict (several rebuilds) during rc_dict_del: the key
     * is still found and deleted, the inserted keys all present */
    rc_dict_set_steal(d, ukey_new(h, 4, 42), rc_int_new(h, 4));
    void *p4 = ukey_new(h, 4, 42);
    g_eq_hook = hook_grow;
    CHECK_EQ(rc_dict_del(d, p4), RC_OK);
    CHECK_EQ(rc_dict_size(d), 100);
    CHECK_NULL(rc_dict_get(d, p4));
    for (int i = 0; i < 100; i++) {
        void *ki = rc_int_new(h, 700000 + i);
        CHECK_EQ(rc_int_value(rc_dict_get(d, ki)), i);
        rc_decref(ki);
    }
    rc_dict_clear(d);

    /* 4. eq grows the dict during rc_dict_set of a new (unequal) key */
    rc_dict_set_steal(d, ukey_new(h, 5, 42), rc_int_new(h, 5));
    void *p6 = ukey_new(h, 6, 42);
    g_eq_hook = hook_grow;
    CHECK_EQ(rc_dict_set(d, p6, v), RC_OK);
    CHECK_EQ(rc_dict_size(d), 102);
    CHECK_PTR_EQ(rc_dict_get(d, p6), v);
    size_t n = 0;
    pos = 0;
    while (rc_dict_next(d, &pos, &k, NULL))
        n += k == p6;
    CHECK_EQ(n, 1);
    rc_dict_clear(d);

    /* 5. the key's hash callback grows the dict and deletes another key
     * before the insertion looks anything up */
    g_victim = rc_int_new(h, 31337);
    rc_dict_set(d, g_victim, v);
    void *p7 = ukey_new(h, 7, 99);
    g_hash_hook = hook_hash_mutates;
    CHECK_EQ(rc_dict_set(d, p7, v), RC_OK);
    CHECK_EQ(rc_dict_size(d), 101);
    CHECK_NULL(rc_dict_get(d, g_victim));
    CHECK_PTR_EQ(rc_dict_get(d, p7), v);
    CHECK_EQ(rc_refcount(g_victim), 1);
    rc_decref(g_victim);

    g_eq_hook = NULL;
    g_hash_hook = NULL;
    rc_decref(d);
    rc_decref(probe);
    rc_decref(p2);
    rc_decref(p4);
    rc_decref(p6);
    rc_decref(p7);
    CHECK_EQ(rc_live_objects_of(h, &ukey_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_dict_type), 0);
    CHECK_LE(rc_live_objects_of(h, &rc_int_type), 262); /* only cached ones */
    rc_heap_destroy(h);
}

/* Finalizers of dropped values that resize the dict the operation is on. */
static int g_fin;
static void grow_on_del(void *self) {
    (void)self;
    g_fin++;
    for (int i = 0; i < 50; i++)
        rc_dict_set_steal(g_d, rc_int_new(g_h, 800000 + g_fin * 100 + i), rc_int_new(g_h, i));
}

static void shrink_on_del(void *self) {
    (void)self;
    g_fin++;
    /* delete every int key: many tombstones, then a compaction */
    size_t pos = 0;
    void *k;
    void *ks[256];
    size_t n = 0;
    while (rc_dict_next(g_d, &pos, &k, NULL) && n < 256)
        if (rc_is_int(k))
            ks[n++] = k;
    for (size_t i = 0; i < n; i++)
        rc_dict_del(g_d, ks[i]);
}

static void test_edge_dict_finalizer_resize(void) {
    rc_heap *h = quiet_heap(RC_MODE_DEFAULT);
    g_h = h;
    void *d = rc_dict_new(h);
    g_d = d;
    void *grow = rc_class_new(h, "Grow", grow_on_del);
    void *shrink = rc_class_new(h, "Shrink", shrink_on_del);
    g_fin = 0;
    /* replacing a value whose finalizer grows the dict */
    rc_dict_set_str(d, "x", rc_int_new(h, 0));
    rc_dict_set_steal(d, rc_str_literal(h, "x"), rc_instance_new(h, grow));
    CHECK_EQ(rc_dict_set_str(d, "x", rc_int_new(h, 1)), RC_OK);
    CHECK_EQ(g_fin, 1);
    CHECK_EQ(rc_dict_size(d), 51);
    CHECK_EQ(rc_int_value(rc_dict_get_str(d, "x")), 1);
    /* deleting a key whose value's finalizer grows the dict */
    rc_dict_set_steal(d, rc_str_literal(h, "y"), rc_instance_new(h, grow));
    CHECK_EQ(rc_dict_del_str(d, "y"), RC_OK);
    CHECK_EQ(g_fin, 2);
    CHECK_EQ(rc_dict_size(d), 101);
    CHECK_NULL(rc_dict_get_str(d, "y"));
    /* rc_dict_set on an existing key, old value's finalizer deletes lots */
    rc_dict_set_steal(d, rc_str_literal(h, "z"), rc_instance_new(h, shrink));
    void *two = rc_int_new(h, 2);
    CHECK_EQ(rc_dict_set_str(d, "z", two), RC_OK);
    CHECK_EQ(g_fin, 3);
    CHECK_EQ(rc_dict_size(d), 2);
    CHECK_PTR_EQ(rc_dict_get_str(d, "z"), two);
    CHECK_EQ(rc_int_value(rc_dict_get_str(d, "x")), 1);
    /* list: set/pop/clear with finalizers that change the dict (unrelated
     * container, but the values' deaths run user code mid-operation) */
    void *l = rc_list_new(h, 0);
    for (int i = 0; i < 3; i++)
        rc_list_append_steal(l, rc_instance_new(h, grow));
    CHECK_EQ(rc_list_set(l, 0, two), RC_OK);
    CHECK_EQ(g_fin, 4);
    rc_decref(rc_list_pop(l, 1));
    CHECK_EQ(g_fin, 5);
    rc_list_clear(l);
    CHECK_EQ(g_fin, 6);
    CHECK_EQ(rc_dict_size(d), 152);
    rc_decref(l);
    /* destroying the dict: finalizers of its values run on a dict that
     * other code no longer reaches; here they touch another dict */
    void *d2 = rc_dict_new(h);
    g_d = d2;
    rc_dict_set_steal(d, rc_str_literal(h, "w"), rc_instance_new(h, grow));
    rc_decref(d);
    CHECK_EQ(g_fin, 7);
    CHECK_EQ(rc_dict_size(d2), 50);
    rc_decref(d2);
    rc_decref(grow);
    rc_decref(shrink);
    CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_dict_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_class_type), 0);
    rc_heap_destroy(h);
}

/* Iteration while the dict changes: unspecified but never unsafe, and it
 * ends. */
static void test_edge_dict_iterate_mutate(void) {
    rc_heap *h = quiet_heap(RC_MODE_DEFAULT);
    void *d = rc_dict_new(h);
    for (int i = 0; i < 10; i++)
        rc_dict_set_steal(d, rc_int_new(h, 10000 + i), rc_int_new(h, i));
    /* replacing values while iterating: every entry seen once */
    size_t pos = 0, seen = 0;
    void *k, *v;
    while (rc_dict_next(d, &pos, &k, &v)) {
        seen++;
        CHECK_EQ(rc_dict_set_steal(d, rc_int_new(h, rc_int_value(k)), rc_int_new(h, -1)), RC_OK);
    }
    CHECK_EQ(seen, 10);
    CHECK_EQ(rc_dict_size(d), 10);
    pos = 0;
    while (rc_dict_next(d, &pos, NULL, &v))
        CHECK_EQ(rc_int_value(v), -1);
    /* inserting while iterating (rebuilds included) */
    pos = 0;
    size_t steps = 0;
    int next = 0;
    while (rc_dict_next(d, &pos, &k, &v) && steps < 10000) {
        steps++;
        if (next < 300)
            for (int j = 0; j < 3; j++, next++)
                rc_dict_set_steal(d, rc_int_new(h, 20000 + next), rc_int_new(h, next));
    }
    CHECK_LT(steps, 10000);
    CHECK_EQ(rc_dict_size(d), 310);
    /* deleting the current key, and others, while iterating */
    pos = 0;
    steps = 0;
    while (rc_dict_next(d, &pos, &k, NULL) && steps < 10000) {
        steps++;
        void *kk = k;
        rc_incref(kk);
        CHECK_EQ(rc_dict_del(d, kk), RC_OK);
        rc_decref(kk);
    }
    CHECK_LT(steps, 10000);
    CHECK_EQ(rc_dict_size(d), 0);
    /* clearing while iterating ends the iteration */
    for (int i = 0; i < 10; i++)
        rc_dict_set_steal(d, rc_int_new(h, 30000 + i), rc_int_new(h, i));
    pos = 0;
    steps = 0;
    while (rc_dict_next(d, &pos, &k, NULL)) {
        steps++;
        rc_dict_clear(d);
    }
    CHECK_EQ(steps, 1);
    /* a position far past the end is just the end */
    rc_dict_set_steal(d, rc_int_new(h, 1), rc_int_new(h, 1));
    pos = SIZE_MAX;
    CHECK(!rc_dict_next(d, &pos, &k, &v));
    rc_decref(d);
    CHECK_EQ(rc_live_objects_of(h, &rc_dict_type), 0);
    rc_heap_destroy(h);
}

/* ---- class and instance ------------------------------------------------------------------------------ */

static int g_del_count;
static void *g_saved;
static void count_del(void *self) {
    (void)self;
    g_del_count++;
}
static void save_del(void *self) {
    g_del_count++;
    if (!g_saved) {
        rc_incref(self);
        g_saved = self; /* resurrect */
    }
}

static void test_edge_attributes(void) {
    rc_heap *h = quiet_heap(RC_MODE_DEFAULT);
    void *A = rc_class_new(h, "A", NULL);
    CHECK_REPR(A, "<class 'A'>");
    CHECK(rc_class_name(A) && strcmp(rc_class_name(A), "A") == 0);
    void *x = rc_instance_new(h, A);
    CHECK_PTR_EQ(rc_instance_class(x), A);
    CHECK_EQ(rc_refcount(A), 2);
    void *one = rc_int_new(h, 1), *two = rc_int_new(h, 2);
    /* class attribute visible through the instance, shadowed, then revealed */
    CHECK_EQ(rc_dict_set_str(rc_class_dict(A), "attr", one), RC_OK);
    CHECK_PTR_EQ(rc_instance_getattr(x, "attr"), one);
    CHECK_EQ(rc_instance_delattr(x, "attr"), RC_EKEY); /* only the instance's dict */
    CHECK_PTR_EQ(rc_dict_get_str(rc_class_dict(A), "attr"), one);
    CHECK_EQ(rc_instance_setattr(x, "attr", two), RC_OK);
    CHECK_PTR_EQ(rc_instance_getattr(x, "attr"), two);
    CHECK_EQ(rc_instance_delattr(x, "attr"), RC_OK);
    CHECK_PTR_EQ(rc_instance_getattr(x, "attr"), one);
    CHECK_EQ(rc_instance_delattr(x, "attr"), RC_EKEY);
    /* set, overwrite, delete, re-set many attributes; names of every length */
    char name[200];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 150; i++) {
            memset(name, 'a' + i % 26, (size_t)i + 1);
            name[i + 1] = '\0';
            void *val = rc_int_new(h, 100000 * round + i);
            CHECK_EQ(rc_instance_setattr(x, name, val), RC_OK);
            rc_decref(val);
        }
        for (int i = 0; i < 150; i += 3) {
            memset(name, 'a' + i % 26, (size_t)i + 1);
            name[i + 1] = '\0';
            CHECK_EQ(rc_instance_delattr(x, name), RC_OK);
        }
        size_t bad = 0;
        for (int i = 0; i < 150; i++) {
            memset(name, 'a' + i % 26, (size_t)i + 1);
            name[i + 1] = '\0';
            void *got = rc_instance_getattr(x, name);
            if (i % 3 == 0 ? got != NULL : rc_int_value(got) != 100000 * round + i)
                bad++;
        }
        CHECK_EQ(bad, 0);
        CHECK_EQ(rc_dict_size(rc_instance_dict(x)), 100);
    }
    /* an attribute name that is not valid UTF-8 never lands in the dict */
    CHECK_EQ(rc_instance_setattr(x, "\xe2\x82", one), RC_EINVAL);
    CHECK_NULL(rc_instance_getattr(x, "\xe2\x82"));
    /* an attribute set directly in the dict with a non-str key is not an
     * attribute, and does not confuse the str lookups */
    void *ik = rc_int_new(h, 5555);
    rc_dict_set(rc_instance_dict(x), ik, one);
    CHECK_NULL(rc_instance_getattr(x, "5555"));
    rc_decref(ik);
    /* a str key with embedded NUL is not the attribute named by its prefix */
    void *nk = rc_str_new(h, "attr\0x", 6);
    rc_dict_set(rc_instance_dict(x), nk, two);
    CHECK_PTR_EQ(rc_instance_getattr(x, "attr"), one); /* from the class */
    rc_decref(nk);
    /* sizes: the documented figures, whatever the contents */
    CHECK_EQ(rc_sizeof(A), GCHDR + CLASS_FIXED);
    CHECK_EQ(rc_sizeof(x), GCHDR + INSTANCE_FIXED);
    /* the class survives its last external reference while an instance lives */
    rc_decref(A);
    CHECK_EQ(rc_refcount(A), 1);
    CHECK(strcmp(rc_class_name(rc_instance_class(x)), "A") == 0);
    CHECK_PTR_EQ(rc_instance_getattr(x, "attr"), one);
    rc_decref(x);
    CHECK_EQ(rc_live_objects_of(h, &rc_class_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_dict_type), 0);
    rc_heap_destroy(h);
}

static void test_edge_cycles(void) {
    rc_heap *h = quiet_heap(RC_MODE_DEFAULT);
    rc_gc_collect(h, 2);
    void *C = rc_class_new(h, "Cyc", count_del);
    g_del_count = 0;
    /* x.self = x */
    void *x = rc_instance_new(h, C);
    rc_instance_setattr(x, "self", x);
    /* a.b = b, b.a = a, with a list holding both */
    void *a = rc_instance_new(h, C), *b = rc_instance_new(h, C);
    void *l = rc_list_new(h, 0);
    rc_list_append(l, a);
    rc_list_append(l, b);
    rc_list_append(l, l);
    rc_instance_setattr(a, "b", b);
    rc_instance_setattr(b, "a", a);
    rc_instance_setattr(a, "all", l);
    /* class attribute holding an instance of the class: C -> dict -> y -> C */
    void *y = rc_instance_new(h, C);
    rc_dict_set_str(rc_class_dict(C), "default", y);
    /* a dict holding itself, under a tuple key that holds it too (as value) */
    void *d = rc_dict_new(h);
    rc_dict_set_str(d, "me", d);
    void *t = rc_tuple_pack(h, 2, d, l);
    rc_dict_set_str(d, "t", t);
    rc_decref(t);
    rc_decref(x);
    rc_decref(a);
    rc_decref(b);
    rc_decref(l);
    rc_decref(y);
    rc_decref(d);
    rc_decref(C);
    CHECK_EQ(g_del_count, 0); /* all in cycles */
    CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 4);
    intptr_t found = rc_gc_collect(h, 2);
    CHECK_GT(found, 0);
    CHECK_EQ(g_del_count, 4);
    CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_class_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_dict_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_list_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_tuple_type), 0);
    CHECK_EQ(rc_gc_garbage_count(h), 0);
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    rc_heap_destroy(h);
}

/* A finalizer resurrects an instance of a collected cycle: it survives
 * whole (its attributes intact, the cycle not cleared), its finalizer does
 * not run again, and it is freed for good when let go. */
static void test_edge_resurrect_in_collection(void) {
    rc_heap *h = quiet_heap(RC_MODE_DEFAULT);
    void *R = rc_class_new(h, "Res", save_del);
    g_del_count = 0;
    g_saved = NULL;
    void *x = rc_instance_new(h, R);
    void *data = rc_list_new(h, 0);
    rc_list_append_steal(data, rc_int_new(h, 123456));
    rc_instance_setattr(x, "self", x);
    rc_instance_setattr(x, "data", data);
    rc_decref(data);
    rc_decref(x);
    rc_gc_collect(h, 2);
    CHECK_EQ(g_del_count, 1);
    CHECK_PTR_EQ(g_saved, x);
    if (g_saved) {
        CHECK_PTR_EQ(rc_instance_getattr(x, "self"), x);
        void *got = rc_instance_getattr(x, "data");
        CHECK(rc_is_list(got));
        CHECK_EQ(rc_int_value(rc_list_get(got, 0)), 123456);
        CHECK(rc_is_finalized(x));
        /* drop it again: still a cycle, collected without a second __del__ */
        void *s = g_saved;
        g_saved = (void *)1; /* do not resurrect again */
        rc_decref(s);
        rc_gc_collect(h, 2);
        CHECK_EQ(g_del_count, 1);
        CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 0);
        CHECK_EQ(rc_live_objects_of(h, &rc_list_type), 0);
    }
    g_saved = NULL;
    rc_decref(R);
    CHECK_EQ(rc_live_objects_of(h, &rc_class_type), 0);
    rc_heap_destroy(h);
}

/* More cycles: through a tuple key (d -> (x,) -> x -> x.dict -> d), one made
 * by a finalizer during a refcount death (which resurrects the instance),
 * and a class whose long name is not interned (freed with the class). */
static rc_heap *g_fh;
static void make_cycle_del(void *self) {
    g_del_count++;
    void *l = rc_list_new(g_fh, 0);
    rc_list_append(l, self);
    CHECK_EQ(rc_instance_setattr(self, "late", l), RC_OK);
    rc_decref(l);
}

static void test_edge_cycles_more(void) {
    rc_heap *h = quiet_heap(RC_MODE_DEFAULT);
    g_fh = h;
    char name[100];
    memset(name, 'N', 99);
    name[99] = '\0';
    void *L = rc_class_new(h, name, NULL);
    CHECK(rc_class_name(L) && strcmp(rc_class_name(L), name) == 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_str_type), 1);
    rc_decref(L);
    CHECK_EQ(rc_live_objects_of(h, &rc_str_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_class_type), 0);

    void *K = rc_class_new(h, "K", NULL);
    void *x = rc_instance_new(h, K);
    void *d = rc_dict_new(h);
    void *t = rc_tuple_pack(h, 1, x);
    CHECK_EQ(rc_dict_set(d, t, d), RC_OK);
    CHECK_EQ(rc_instance_setattr(x, "d", d), RC_OK);
    rc_decref(t);
    rc_decref(x);
    rc_decref(d);
    intptr_t n = rc_gc_collect(h, 2);
    CHECK_EQ(n, 4);
    CHECK_EQ(rc_live_objects_of(h, &rc_dict_type), 1); /* K's own dict */
    CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_tuple_type), 0);

    void *F = rc_class_new(h, "F", make_cycle_del);
    g_del_count = 0;
    void *y = rc_instance_new(h, F);
    rc_decref(y); /* __del__ resurrects y in a new cycle */
    CHECK_EQ(g_del_count, 1);
    CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 1);
    CHECK_EQ(rc_live_objects_of(h, &rc_list_type), 1);
    n = rc_gc_collect(h, 2);
    CHECK_EQ(n, 3);
    CHECK_EQ(g_del_count, 1); /* not finalized twice */
    CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_list_type), 0);
    rc_decref(K);
    rc_decref(F);
    CHECK_EQ(rc_live_objects_of(h, &rc_class_type), 0);
    /* clearing a list made with a hint releases the storage too */
    void *l = rc_list_new(h, 100);
    rc_list_clear(l);
    CHECK_EQ(rc_list_capacity(l), 0);
    CHECK_EQ(rc_sizeof(l), GCHDR + LIST_FIXED);
    rc_decref(l);
    rc_heap_destroy(h);
}

/* ---- rc_sizeof against the documented formulas -------------------------------------------------------- */

static void test_edge_sizeof(void) {
    rc_heap *h = quiet_heap(RC_MODE_DEFAULT);
    void *i = rc_int_new(h, 1000), *f = rc_float_new(h, 1.5);
    CHECK_EQ(rc_sizeof(i), 16);
    CHECK_EQ(rc_sizeof(rc_int_new(h, 7)), 16);
    CHECK_EQ(rc_sizeof(f), 16);
    const size_t lens[] = {0, 1, 5, 7, 8, 15, 16, 63, 64, 65, 1000, 5000};
    char buf[5001];
    memset(buf, 'z', sizeof buf);
    for (size_t k = 0; k < sizeof lens / sizeof *lens; k++) {
        void *s = rc_str_new(h, buf, lens[k]);
        CHECK_MSG(rc_sizeof(s) == HDR + STR_FIXED + lens[k] + 1, "str of %zu bytes: sizeof %zu",
                  lens[k], rc_sizeof(s));
        rc_decref(s);
    }
    void *items[300];
    for (int k = 0; k < 300; k++)
        items[k] = i;
    const size_t tl[] = {1, 2, 3, 10, 100, 300};
    for (size_t k = 0; k < sizeof tl / sizeof *tl; k++) {
        void *t = rc_tuple_from(h, tl[k], items);
        CHECK_EQ(rc_sizeof(t), GCHDR + TUPLE_FIXED + SLOT * tl[k]);
        rc_decref(t);
    }
    /* lists: the capacity counts, hints are exact */
    const size_t hints[] = {0, 1, 3, 100, 1000};
    for (size_t k = 0; k < sizeof hints / sizeof *hints; k++) {
        void *l = rc_list_new(h, hints[k]);
        CHECK_EQ(rc_list_capacity(l), hints[k]);
        CHECK_EQ(rc_sizeof(l), GCHDR + LIST_FIXED + SLOT * hints[k]);
        rc_decref(l);
    }
    /* dicts: 64 + table (40 with 4-byte pointers); the table for 8 slots is
     * 8 + 5 entries of 24 bytes (16) */
    const size_t empty = GCHDR + DICT_FIXED;
    void *d = rc_dict_new(h);
    CHECK_EQ(rc_sizeof(d), empty);
    for (int k = 1; k <= 5; k++) {
        rc_dict_set_steal(d, rc_int_new(h, 2000 + k), rc_int_new(h, k));
        CHECK_EQ(rc_sizeof(d), empty + 8 + 5 * DICT_ENTRY);
    }
    rc_dict_set_steal(d, rc_int_new(h, 2006), rc_int_new(h, 6));
    CHECK_EQ(rc_sizeof(d), empty + 16 + 10 * DICT_ENTRY);
    rc_dict_clear(d);
    CHECK_EQ(rc_sizeof(d), empty);
    /* 2-byte index slots from 256 slots */
    for (int k = 0; k < 100; k++)
        rc_dict_set_steal(d, rc_int_new(h, 3000 + k), rc_int_new(h, k));
    size_t sz = rc_sizeof(d);
    CHECK(sz == empty + 256 * 2 + 170 * DICT_ENTRY || sz == empty + 128 + 85 * DICT_ENTRY);
    CHECK_EQ(sz, empty + 256 * 2 + 170 * DICT_ENTRY);
    rc_decref(d);
    void *C = rc_class_new(h, "Sz", NULL);
    void *x = rc_instance_new(h, C);
    CHECK_EQ(rc_sizeof(C), GCHDR + CLASS_FIXED);
    CHECK_EQ(rc_sizeof(x), GCHDR + INSTANCE_FIXED);
    rc_decref(x);
    rc_decref(C);
    rc_decref(i);
    rc_decref(f);
    rc_heap_destroy(h);
}

/* ---- rc_fprint ------------------------------------------------------------------------------------------ */

static void test_edge_print(void) {
    rc_heap *h = quiet_heap(RC_MODE_DEFAULT);
    struct {
        double v;
        const char *want;
    } fl[] = {
        {0.0, "0.0"},       {-0.0, "-0.0"},   {1.5, "1.5"},     {-2.25, "-2.25"},
        {0.1, "0.1"},       {1e16, "1e+16"},  {1.5e300, "1.5e+300"},
        {1e-5, "1e-05"},    {123456.789, "123456.789"},
        {NAN, "nan"},       {-INFINITY, "-inf"},
        {0.30000000000000004, "0.30000000000000004"},
    };
    for (size_t k = 0; k < sizeof fl / sizeof *fl; k++) {
        void *o = rc_float_new(h, fl[k].v);
        CHECK_REPR(o, fl[k].want);
        rc_decref(o);
    }
    /* strings: quotes (chosen as Python chooses them), backslashes, control
     * bytes; UTF-8 passes through */
    void *s = rc_str_new(h, "a'b\\c\td\x01\x7f\xc3\xa9", 11);
    CHECK_REPR(s, "\"a'b\\\\c\\td\\x01\\x7f\xc3\xa9\"");
    rc_decref(s);
    const struct {
        const char *text, *want;
    } quoted[] = {
        {"plain", "'plain'"},
        {"say \"hi\"", "'say \"hi\"'"},
        {"it's \"so\"", "'it\\'s \"so\"'"},
        {"'", "\"'\""},
        {"", "''"},
    };
    for (size_t k = 0; k < sizeof quoted / sizeof *quoted; k++) {
        s = rc_str_from_cstr(h, quoted[k].text);
        CHECK_REPR(s, quoted[k].want);
        rc_decref(s);
    }
    /* a dict containing itself, a tuple holding that dict */
    void *d = rc_dict_new(h);
    rc_dict_set_str(d, "me", d);
    CHECK_REPR(d, "{'me': {...}}");
    void *t = rc_tuple_pack(h, 2, d, d);
    CHECK_REPR(t, "({'me': {...}}, {'me': {...}})");
    rc_decref(t);
    rc_dict_clear(d);
    /* nesting past 64 levels: "..." and no crash */
    void *inner = rc_list_new(h, 0);
    for (int k = 0; k < 200; k++) {
        void *outer = rc_list_new(h, 0);
        rc_list_append_steal(outer, inner);
        inner = outer;
    }
    const char *r = types_repr(inner);
    CHECK(strstr(r, "...") != NULL);
    CHECK_EQ(strspn(r, "["), 64);
    rc_decref(inner);
    /* instances and classes */
    void *C = rc_class_new(h, "Pt", NULL);
    void *x = rc_instance_new(h, C);
    CHECK(strncmp(types_repr(x), "<Pt object at 0x", 16) == 0);
    rc_decref(x);
    rc_decref(C);
    /* an output error is reported as -1 */
    FILE *ro = fopen("/dev/null", "r");
    if (ro) {
        void *l = rc_list_new(h, 0);
        rc_list_append_steal(l, rc_int_new(h, 1));
        CHECK_EQ(rc_fprint(ro, l), -1);
        fclose(ro);
        rc_decref(l);
    }
    CHECK_EQ(rc_fprint(NULL, d), -1);
    /* a NULL object prints as NULL (types.h) */
    CHECK(strcmp(types_repr(NULL), "NULL") == 0);
    /* every status has a name, and a value outside the enum says so */
    CHECK(strncmp(rc_status_str(RC_EKEY), "RC_EKEY", 7) == 0);
    CHECK(strcmp(rc_status_str((rc_status)-99), "unknown rc_status") == 0);
    CHECK(strcmp(rc_status_str((rc_status)7), "unknown rc_status") == 0);
    rc_decref(d);
    rc_heap_destroy(h);
    rc_heap_destroy(NULL); /* does nothing (heap.h) */
}

/* rc_fprint of floats is Python's repr: positional for decimal exponents in
 * [-4, 16), ".0" on integral values, exponent form outside (each expected
 * text is what python3 prints). */
static void test_edge_print_integral_floats(void) {
    rc_heap *h = quiet_heap(RC_MODE_DEFAULT);
    struct {
        double v;
        const char *want;
    } fl[] = {
        {10.0, "10.0"}, {100.0, "100.0"}, {-20.0, "-20.0"}, {1e15, "1000000000000000.0"},
        {120.0, "120.0"}, {0.0001, "0.0001"}, {0.5, "0.5"}, {0.05, "0.05"}, {1e-5, "1e-05"},
        {1.5e-5, "1.5e-05"}, {123456789.125, "123456789.125"}, {1e16, "1e+16"},
        {9007199254740993.0, "9007199254740992.0"}, {-0.0, "-0.0"}, {0.0, "0.0"},
        {5e-324, "5e-324"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
        {1234567890123456.0, "1234567890123456.0"}, {12345678901234567.0, "1.2345678901234568e+16"},
        {2.5e-4, "0.00025"},
        /* 0.1 + 0.2 in double arithmetic, written out: where doubles are
         * computed in long double (FLT_EVAL_METHOD 2: i386's x87), the sum
         * rounds to 0.3 */
        {0x1.3333333333334p-2, "0.30000000000000004"},
    };
    for (size_t k = 0; k < sizeof fl / sizeof *fl; k++) {
        void *o = rc_float_new(h, fl[k].v);
        CHECK_REPR(o, fl[k].want);
        rc_decref(o);
    }
    rc_heap_destroy(h);
}

/* ---- Allocation failure at every point of each operation ------------------------------------------------ */

#define FP_MAX 8

/* What must not change when an operation fails: each watched object's repr,
 * size and count, and the heap's live objects and bytes. */
typedef struct fingerprint {
    char *repr[FP_MAX];
    size_t size[FP_MAX];
    int64_t refs[FP_MAX];
    size_t live, live_str, bytes;
} fingerprint;

static fingerprint fp_take(rc_heap *h, void *const *objs, size_t n) {
    fingerprint fp;
    memset(&fp, 0, sizeof fp);
    for (size_t k = 0; k < n && k < FP_MAX; k++) {
        const char *r = types_repr(objs[k]);
        fp.repr[k] = malloc(strlen(r) + 1);
        if (fp.repr[k])
            strcpy(fp.repr[k], r);
        fp.size[k] = rc_sizeof(objs[k]);
        fp.refs[k] = rc_refcount(objs[k]);
    }
    rc_heap_stats st;
    rc_heap_get_stats(h, &st);
    fp.live = rc_live_objects(h);
    fp.live_str = rc_live_objects_of(h, &rc_str_type);
    fp.bytes = st.bytes_requested;
    return fp;
}

static void fp_free(fingerprint *fp) {
    for (size_t k = 0; k < FP_MAX; k++)
        free(fp->repr[k]);
}

/* lenient: the operation may leave one new interned str behind (interned
 * strings are immortal caches, documented to live until the heap dies) */
static int fp_same(const char *what, unsigned long k, const fingerprint *a, const fingerprint *b,
                   size_t n, bool lenient) {
    int ok = 1;
    for (size_t i = 0; i < n && i < FP_MAX; i++) {
        ok &= CHECK_MSG(a->repr[i] && b->repr[i] && strcmp(a->repr[i], b->repr[i]) == 0,
                        "%s k=%lu obj %zu: repr %s -> %s", what, k, i, a->repr[i], b->repr[i]);
        ok &= CHECK_MSG(a->size[i] == b->size[i], "%s k=%lu obj %zu: sizeof %zu -> %zu", what, k,
                        i, a->size[i], b->size[i]);
        ok &= CHECK_MSG(a->refs[i] == b->refs[i], "%s k=%lu obj %zu: refcount %ld -> %ld", what,
                        k, i, (long)a->refs[i], (long)b->refs[i]);
    }
    if (lenient) {
        ok &= CHECK_MSG(a->live - a->live_str == b->live - b->live_str,
                        "%s k=%lu: non-str live objects %zu -> %zu", what, k,
                        a->live - a->live_str, b->live - b->live_str);
        ok &= CHECK_MSG(b->live_str <= a->live_str + 1, "%s k=%lu: strs %zu -> %zu", what, k,
                        a->live_str, b->live_str);
    } else {
        ok &= CHECK_MSG(a->live == b->live, "%s k=%lu: live objects %zu -> %zu", what, k, a->live,
                        b->live);
        ok &= CHECK_MSG(a->bytes == b->bytes, "%s k=%lu: bytes requested %zu -> %zu", what, k,
                        a->bytes, b->bytes);
    }
    return ok;
}

typedef struct fctx {
    rc_heap *h;
    void *o[FP_MAX]; /* watched objects */
    size_t n;
    void *made;      /* what a successful operation returned (dropped after) */
    int iter;
} fctx;

typedef rc_status (*fop)(fctx *c);

/* Fail allocation 1, 2, 3, ... of op until it succeeds.  Returns the
 * number of failures seen. */
static unsigned long fail_each(const char *what, fctx *c, fop op, bool lenient) {
    unsigned long k;
    unsigned long failures = 0;
    for (k = 1; k < 500; k++) {
        fingerprint before = fp_take(c->h, c->o, c->n);
        c->made = NULL;
        rc_heap_fail_at(c->h, k);
        rc_status s = op(c);
        rc_heap_fail_at(c->h, 0);
        if (s == RC_OK) {
            fp_free(&before);
            break;
        }
        failures++;
        CHECK_MSG(s == RC_ENOMEM, "%s k=%lu: %s", what, k, rc_status_str(s));
        CHECK_MSG(c->made == NULL, "%s k=%lu: an object was returned", what, k);
        fingerprint after = fp_take(c->h, c->o, c->n);
        fp_same(what, k, &before, &after, c->n, lenient);
        fp_free(&before);
        fp_free(&after);
    }
    CHECK_MSG(k < 500, "%s never succeeded", what);
    return failures;
}

static rc_status op_dict_set_o1(fctx *c) { return rc_dict_set(c->o[0], c->o[1], c->o[2]); }
static rc_status op_dict_set_steal_fresh(fctx *c) {
    return rc_dict_set_steal(c->o[0], rc_str_from_cstr(c->h, "a fresh, not interned key"),
                             rc_float_new(c->h, 2.5));
}
static rc_status op_dict_set_str_long(fctx *c) {
    return rc_dict_set_str(c->o[0],
                           "an attribute name longer than sixty-four bytes, so never interned "
                           "by rc_str_literal",
                           c->o[1]);
}
static rc_status op_dict_set_str_new(fctx *c) {
    char name[32];
    snprintf(name, sizeof name, "new-name-%d", c->iter);
    return rc_dict_set_str(c->o[0], name, c->o[1]);
}
static rc_status op_list_append(fctx *c) { return rc_list_append(c->o[0], c->o[1]); }
static rc_status op_list_insert0(fctx *c) { return rc_list_insert(c->o[0], 0, c->o[1]); }
static rc_status op_list_insert_m1(fctx *c) { return rc_list_insert(c->o[0], -1, c->o[1]); }
static rc_status op_list_append_steal(fctx *c) {
    return rc_list_append_steal(c->o[0], rc_float_new(c->h, -1.0));
}
static rc_status op_list_new(fctx *c) {
    c->made = rc_list_new(c->h, 10);
    return c->made ? RC_OK : RC_ENOMEM;
}
static rc_status op_tuple_pack(fctx *c) {
    c->made = rc_tuple_pack(c->h, 3, c->o[0], c->o[1], c->o[2]);
    return c->made ? RC_OK : RC_ENOMEM;
}
static rc_status op_tuple_from(fctx *c) {
    void *items[200];
    for (int k = 0; k < 200; k++)
        items[k] = c->o[k % 3];
    c->made = rc_tuple_from(c->h, 200, items);
    return c->made ? RC_OK : RC_ENOMEM;
}
static rc_status op_str_new(fctx *c) {
    c->made = rc_str_new(c->h, "some bytes \xc3\xa9", 13);
    return c->made ? RC_OK : RC_ENOMEM;
}
static rc_status op_str_literal_new(fctx *c) {
    char name[32];
    snprintf(name, sizeof name, "literal-%d", c->iter);
    c->made = rc_str_literal(c->h, name);
    return c->made ? RC_OK : RC_ENOMEM;
}
static rc_status op_big_int(fctx *c) {
    c->made = rc_int_new(c->h, INT64_MIN);
    return c->made ? RC_OK : RC_ENOMEM;
}
static rc_status op_float(fctx *c) {
    c->made = rc_float_new(c->h, 0.125);
    return c->made ? RC_OK : RC_ENOMEM;
}
static rc_status op_class_new(fctx *c) {
    char name[32];
    snprintf(name, sizeof name, "Fresh%d", c->iter);
    c->made = rc_class_new(c->h, name, count_del);
    return c->made ? RC_OK : RC_ENOMEM;
}
static rc_status op_instance_new(fctx *c) {
    c->made = rc_instance_new(c->h, c->o[0]);
    return c->made ? RC_OK : RC_ENOMEM;
}
static rc_status op_setattr_new(fctx *c) {
    char name[32];
    snprintf(name, sizeof name, "attr%d", c->iter);
    return rc_instance_setattr(c->o[0], name, c->o[1]);
}

static void test_edge_fail_each_op(void) {
    rc_heap *h = quiet_heap(RC_MODE_DEBUG);
    fctx c = {.h = h};
    void *v = rc_int_new(h, 424242);
    /* dict: the first table */
    void *d = rc_dict_new(h);
    void *k6 = rc_int_new(h, 6006);
    c.o[0] = d, c.o[1] = k6, c.o[2] = v, c.n = 3;
    CHECK_EQ(fail_each("dict first set", &c, op_dict_set_o1, false), 1);
    CHECK_PTR_EQ(rc_dict_get(d, k6), v);
    rc_dict_clear(d);
    /* dict: growth at the 6th key */
    for (int k = 0; k < 5; k++)
        rc_dict_set_steal(d, rc_int_new(h, 6000 + k), rc_int_new(h, k));
    CHECK_EQ(fail_each("dict grow", &c, op_dict_set_o1, false), 1);
    CHECK_EQ(rc_dict_size(d), 6);
    CHECK_PTR_EQ(rc_dict_get(d, k6), v);
    rc_dict_clear(d);
    /* dict: a compaction (entries full of tombstones) */
    for (int k = 0; k < 5; k++)
        rc_dict_set_steal(d, rc_int_new(h, 6000 + k), rc_int_new(h, k));
    for (int k = 0; k < 3; k++) {
        void *kk = rc_int_new(h, 6000 + k);
        rc_dict_del(d, kk);
        rc_decref(kk);
    }
    CHECK_EQ(fail_each("dict compact", &c, op_dict_set_o1, false), 1);
    CHECK_REPR(d, "{6003: 3, 6004: 4, 6006: 424242}");
    /* dict: key and value made in the call (steal) */
    for (int k = 0; k < 2; k++)
        rc_dict_set_steal(d, rc_int_new(h, 6100 + k), rc_int_new(h, k));
    c.n = 1;
    CHECK_EQ(fail_each("dict set_steal fresh", &c, op_dict_set_steal_fresh, false), 3);
    CHECK_EQ(rc_dict_size(d), 6);
    /* dict: a long (never interned) str key */
    c.o[1] = v, c.n = 2;
    CHECK_EQ(fail_each("dict set_str long", &c, op_dict_set_str_long, false), 1); /* the str */
    CHECK_EQ(rc_dict_size(d), 7);
    /* dict: new interned names, again and again (intern table and dict grow) */
    for (c.iter = 0; c.iter < 150; c.iter++)
        fail_each("dict set_str new", &c, op_dict_set_str_new, true);
    CHECK_EQ(rc_dict_size(d), 157);
    rc_decref(d);

    /* list growth: append, insert at both ends, append_steal */
    void *l = rc_list_new(h, 0);
    for (int k = 0; k < 4; k++)
        rc_list_append(l, v);
    c.o[0] = l, c.o[1] = k6, c.n = 2;
    CHECK_EQ(fail_each("list append", &c, op_list_append, false), 1);
    for (int k = rc_list_size(l); k < 8; k++)
        rc_list_append(l, v);
    CHECK_EQ(fail_each("list insert 0", &c, op_list_insert0, false), 1);
    CHECK_PTR_EQ(rc_list_get(l, 0), k6);
    while (rc_list_size(l) < rc_list_capacity(l))
        rc_list_append(l, v);
    CHECK_EQ(fail_each("list insert -1", &c, op_list_insert_m1, false), 1);
    CHECK_PTR_EQ(rc_list_get(l, -2), k6);
    while (rc_list_size(l) < rc_list_capacity(l))
        rc_list_append(l, v);
    c.n = 1;
    CHECK_EQ(fail_each("list append_steal", &c, op_list_append_steal, false), 2);
    rc_decref(l);
    c.n = 0;
    CHECK_EQ(fail_each("list new", &c, op_list_new, false), 2);
    rc_decref(c.made);

    /* tuples */
    void *s = rc_str_from_cstr(h, "tuple item");
    void *f = rc_float_new(h, 3.5);
    c.o[0] = v, c.o[1] = s, c.o[2] = f, c.n = 3;
    CHECK_EQ(fail_each("tuple pack", &c, op_tuple_pack, false), 1);
    rc_decref(c.made);
    CHECK_EQ(fail_each("tuple from", &c, op_tuple_from, false), 1);
    CHECK_EQ(rc_refcount(v), 1 + 67);
    rc_decref(c.made);
    CHECK_EQ(rc_refcount(v), 1);

    /* scalars */
    c.n = 0;
    CHECK_EQ(fail_each("str new", &c, op_str_new, false), 1);
    rc_decref(c.made);
    CHECK_EQ(fail_each("int new", &c, op_big_int, false), 1);
    rc_decref(c.made);
    CHECK_EQ(fail_each("float new", &c, op_float, false), 1);
    rc_decref(c.made);
    unsigned long lit_failures = 0;
    for (c.iter = 0; c.iter < 150; c.iter++)
        lit_failures += fail_each("str literal", &c, op_str_literal_new, false);
    CHECK_GT(lit_failures, 150); /* the table had to grow at least once */

    /* class, instance, attributes */
    for (c.iter = 0; c.iter < 20; c.iter++) {
        fail_each("class new", &c, op_class_new, true);
        rc_decref(c.made);
    }
    CHECK_EQ(rc_live_objects_of(h, &rc_class_type), 0);
    void *C = rc_class_new(h, "Watched", count_del);
    g_del_count = 0;
    c.o[0] = C, c.n = 1;
    CHECK_EQ(fail_each("instance new", &c, op_instance_new, false), 2);
    CHECK_EQ(g_del_count, 0); /* no finalizer for an instance never returned */
    void *x = c.made;
    c.o[0] = x, c.o[1] = v, c.n = 2;
    for (c.iter = 0; c.iter < 40; c.iter++)
        fail_each("setattr new", &c, op_setattr_new, true);
    CHECK_EQ(rc_dict_size(rc_instance_dict(x)), 40);
    CHECK_PTR_EQ(rc_instance_getattr(x, "attr39"), v);
    rc_decref(x);
    CHECK_EQ(g_del_count, 1);
    rc_decref(C);
    rc_decref(s);
    rc_decref(f);
    rc_decref(k6);
    rc_decref(v);
    CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_dict_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_list_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_tuple_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_float_type), 0);
    rc_heap_destroy(h);
}

/* rc_str_intern: a failure to grow the intern table leaves s as it was. */
static void test_edge_fail_intern(void) {
    rc_heap *h = quiet_heap(RC_MODE_DEBUG);
    unsigned long failures = 0;
    for (int k = 0; k < 300; k++) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "interned-%d", k);
        void *s = rc_str_new(h, buf, (size_t)n);
        if (!CHECK_NOT_NULL(s))
            break;
        rc_heap_fail_at(h, 1);
        void *r = rc_str_intern(s);
        rc_heap_fail_at(h, 0);
        if (!r) {
            failures++;
            CHECK(!rc_str_is_interned(s));
            CHECK(!rc_is_immortal(s));
            CHECK_EQ(rc_refcount(s), 1);
            r = rc_str_intern(s);
        }
        CHECK_PTR_EQ(r, s);
        CHECK(rc_str_is_interned(s));
        CHECK_PTR_EQ(rc_str_literal(h, buf), s);
    }
    CHECK_GE(failures, 2); /* 64 -> 128 -> 256 -> 512 slots */
    /* all 300 still found */
    size_t bad = 0;
    for (int k = 0; k < 300; k++) {
        char buf[32];
        snprintf(buf, sizeof buf, "interned-%d", k);
        void *lit = rc_str_literal(h, buf);
        if (!rc_str_is_interned(lit) || !rc_str_equal_cstr(lit, buf))
            bad++;
    }
    CHECK_EQ(bad, 0);
    rc_heap_destroy(h);
}

/* A fresh heap for every failure point: the first-use allocations of the
 * per-heap state fail too, and the heap recovers. */
static void test_edge_fail_cold(void) {
    unsigned long k;
    int done = 0;
    for (k = 1; k < 100 && !done; k++) {
        rc_heap *h = quiet_heap(RC_MODE_DEBUG);
        rc_heap_fail_at(h, k);
        void *seven = rc_int_new(h, 7);
        void *et = seven ? rc_tuple_pack(h, 0) : NULL;
        void *lit = et ? rc_str_literal(h, "cold") : NULL;
        void *d = lit ? rc_dict_new(h) : NULL;
        rc_status s = d ? rc_dict_set_str(d, "key", seven) : RC_ENOMEM;
        rc_heap_fail_at(h, 0);
        if (d && s == RC_OK)
            done = 1;
        else
            CHECK_MSG(s == RC_ENOMEM, "k=%lu: %s", k, rc_status_str(s));
        if (d)
            CHECK_EQ(rc_dict_size(d), s == RC_OK ? 1u : 0u);
        /* recovery: everything works, cached objects are unique */
        void *seven2 = rc_int_new(h, 7);
        CHECK_NOT_NULL(seven2);
        if (seven)
            CHECK_PTR_EQ(seven2, seven);
        CHECK_PTR_EQ(rc_int_new(h, 7), seven2);
        CHECK_EQ(rc_live_objects_of(h, &rc_int_type), 1);
        void *et2 = rc_tuple_pack(h, 0);
        CHECK_NOT_NULL(et2);
        if (et)
            CHECK_PTR_EQ(et2, et);
        CHECK_EQ(rc_live_objects_of(h, &rc_tuple_type), 1);
        void *lit2 = rc_str_literal(h, "cold");
        CHECK(rc_str_is_interned(lit2));
        if (lit)
            CHECK_PTR_EQ(lit2, lit);
        if (!d)
            d = rc_dict_new(h);
        CHECK_EQ(rc_dict_set_str(d, "key", seven2), RC_OK);
        CHECK_PTR_EQ(rc_dict_get_str(d, "key"), seven2);
        rc_decref(d);
        CHECK_EQ(rc_live_objects_of(h, &rc_dict_type), 0);
        rc_heap_destroy(h);
    }
    CHECK(done);
    CHECK_GT(k, 4);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    /* the behaviour must not depend on the allocator mode */
    static const rc_alloc_mode modes[] = {RC_MODE_DEBUG, RC_MODE_POOL, RC_MODE_MALLOC};
    static const char *const names[] = {"debug", "pool", "malloc"};
    for (size_t m = 0; m < sizeof modes / sizeof *modes; m++) {
        g_mode = modes[m];
        printf("-- %s mode\n", names[m]);
        RUN_TEST(test_edge_null_and_wrong_type);
        RUN_TEST(test_edge_indexes);
        RUN_TEST(test_edge_huge_sizes);
        RUN_TEST(test_edge_str);
        RUN_TEST(test_edge_numbers);
        RUN_TEST(test_edge_tuples);
        RUN_TEST(test_edge_dict_churn_model);
        RUN_TEST(test_edge_dict_order_reinsert);
        RUN_TEST(test_edge_dict_contract_breakers);
        RUN_TEST(test_edge_dict_reentrant);
        RUN_TEST(test_edge_dict_finalizer_resize);
        RUN_TEST(test_edge_dict_iterate_mutate);
        RUN_TEST(test_edge_attributes);
        RUN_TEST(test_edge_cycles);
        RUN_TEST(test_edge_resurrect_in_collection);
        RUN_TEST(test_edge_cycles_more);
        RUN_TEST(test_edge_sizeof);
        RUN_TEST(test_edge_print);
        RUN_TEST(test_edge_print_integral_floats);
    }
    /* failure injection needs a debug-mode (or malloc-mode) heap */
    g_mode = RC_MODE_DEBUG;
    RUN_TEST(test_edge_fail_each_op);
    RUN_TEST(test_edge_fail_intern);
    RUN_TEST(test_edge_fail_cold);
    return check_summary();
}
