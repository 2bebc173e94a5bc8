/*
 * dict: set/get/delete, errors (missing key, unhashable key, wrong type),
 * insertion order through deletions and resizes, int/float key equality,
 * tuple keys, str-keyed conveniences, sizes, reentrant key comparison.
 */
#include "types_test.h"

static void test_dict_basics(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    void *d = rc_dict_new(h);
    if (!CHECK_NOT_NULL(d))
        return;
    CHECK(rc_is_dict(d));
    CHECK(!rc_hashable(d));
    CHECK_EQ(rc_dict_size(d), 0);
    CHECK_EQ(rc_sizeof(d), GCHDR + DICT_FIXED);
    CHECK_REPR(d, "{}");
    void *ka = rc_str_from_cstr(h, "a"), *kb = rc_str_from_cstr(h, "b");
    void *v1 = rc_int_new(h, 1000), *v2 = rc_int_new(h, 2000);
    CHECK_EQ(rc_dict_set(d, ka, v1), RC_OK);
    CHECK_EQ(rc_dict_set(d, kb, v2), RC_OK);
    CHECK_EQ(rc_dict_size(d), 2);
    CHECK_EQ(rc_refcount(ka), 2);
    CHECK_EQ(rc_refcount(v1), 2);
    CHECK_PTR_EQ(rc_dict_get(d, ka), v1);
    /* lookup by an equal, distinct key */
    void *ka2 = rc_str_from_cstr(h, "a");
    CHECK_PTR_EQ(rc_dict_get(d, ka2), v1);
    CHECK_PTR_EQ(rc_dict_get_str(d, "b"), v2);
    CHECK_REPR(d, "{'a': 1000, 'b': 2000}");
    /* replacing a value keeps the original key object */
    CHECK_EQ(rc_dict_set(d, ka2, v2), RC_OK);
    CHECK_EQ(rc_dict_size(d), 2);
    CHECK_EQ(rc_refcount(v1), 1);
    CHECK_EQ(rc_refcount(ka2), 1);
    size_t pos = 0;
    void *k, *v;
    CHECK(rc_dict_next(d, &pos, &k, &v));
    CHECK_PTR_EQ(k, ka);
    CHECK_PTR_EQ(v, v2);
    /* get_status */
    void *out = (void *)1;
    CHECK_EQ(rc_dict_get_status(d, kb, &out), RC_OK);
    CHECK_PTR_EQ(out, v2);
    void *missing = rc_str_from_cstr(h, "zzz");
    CHECK_EQ(rc_dict_get_status(d, missing, &out), RC_EKEY);
    CHECK_NULL(out);
    CHECK_NULL(rc_dict_get(d, missing));
    CHECK_NULL(rc_dict_get_str(d, "zzz"));
    /* delete */
    CHECK_EQ(rc_dict_del(d, missing), RC_EKEY);
    CHECK_EQ(rc_dict_del(d, ka2), RC_OK);
    CHECK_EQ(rc_dict_size(d), 1);
    CHECK_EQ(rc_refcount(ka), 1);
    CHECK_NULL(rc_dict_get(d, ka));
    CHECK_EQ(rc_dict_del(d, ka), RC_EKEY);
    CHECK_EQ(rc_dict_del_str(d, "b"), RC_OK);
    CHECK_EQ(rc_dict_del_str(d, "b"), RC_EKEY);
    CHECK_EQ(rc_dict_size(d), 0);
    /* errors */
    void *l = rc_list_new(h, 0);
    void *one = rc_int_new(h, 1);
    CHECK_EQ(rc_dict_set(d, l, one), RC_ETYPE);  /* unhashable */
    CHECK_EQ(rc_dict_set(d, d, one), RC_ETYPE);  /* unhashable */
    CHECK_EQ(rc_dict_get_status(d, l, &out), RC_ETYPE);
    CHECK_NULL(rc_dict_get(d, l));
    CHECK_EQ(rc_dict_del(d, l), RC_ETYPE);
    CHECK_EQ(rc_dict_set(l, one, one), RC_ETYPE); /* not a dict */
    CHECK_EQ(rc_dict_get_status(l, one, &out), RC_ETYPE);
    CHECK_EQ(rc_dict_del(l, one), RC_ETYPE);
    CHECK_NULL(rc_dict_get(l, one));
    CHECK_EQ(rc_dict_set(d, NULL, one), RC_EINVAL);
    CHECK_EQ(rc_dict_set(d, one, NULL), RC_EINVAL);
    CHECK_EQ(rc_dict_set(NULL, one, one), RC_EINVAL);
    CHECK_EQ(rc_dict_get_status(d, one, NULL), RC_EINVAL);
    CHECK_EQ(rc_dict_get_status(d, NULL, &out), RC_EINVAL);
    CHECK_EQ(rc_dict_del(d, NULL), RC_EINVAL);
    CHECK_EQ(rc_dict_set_str(d, NULL, one), RC_EINVAL);
    CHECK_EQ(rc_dict_set_str(d, "\xff", one), RC_EINVAL);
    CHECK_EQ(rc_dict_set_str(l, "x", one), RC_ETYPE);
    CHECK_EQ(rc_dict_del_str(l, "x"), RC_ETYPE);
    CHECK_EQ(rc_dict_del_str(d, NULL), RC_EINVAL);
    CHECK_NULL(rc_dict_get_str(l, "x"));
    CHECK_NULL(rc_dict_get_str(d, NULL));
    CHECK_EQ(rc_dict_size(l), 0);
    CHECK(!rc_dict_next(l, &pos, NULL, NULL));
    CHECK(!rc_dict_next(d, NULL, NULL, NULL));
    rc_dict_clear(l); /* does nothing */
    CHECK_EQ(rc_dict_size(d), 0);
    CHECK_NULL(rc_dict_new(NULL));
    CHECK(!rc_is_dict(NULL));
    /* set_steal */
    CHECK_EQ(rc_dict_set_steal(d, rc_str_from_cstr(h, "s"), rc_int_new(h, 3000)), RC_OK);
    CHECK_EQ(rc_refcount(rc_dict_get_str(d, "s")), 1);
    size_t live = rc_live_objects(h);
    CHECK_EQ(rc_dict_set_steal(d, rc_list_new(h, 0), rc_int_new(h, 3001)), RC_ETYPE);
    CHECK_EQ(rc_dict_set_steal(d, rc_int_new(h, 3002), NULL), RC_ENOMEM);
    CHECK_EQ(rc_live_objects(h), live);
    /* clear, and use after clear */
    rc_dict_clear(d);
    CHECK_EQ(rc_dict_size(d), 0);
    CHECK_EQ(rc_sizeof(d), GCHDR + DICT_FIXED);
    CHECK_EQ(rc_dict_set(d, one, one), RC_OK);
    CHECK_PTR_EQ(rc_dict_get(d, one), one);
    rc_decref(d);
    rc_decref(l);
    rc_decref(missing);
    rc_decref(ka);
    rc_decref(ka2);
    rc_decref(kb);
    rc_decref(v1);
    rc_decref(v2);
    CHECK_EQ(rc_live_objects(h), 1); /* the cached 1 */
    rc_heap_destroy(h);
}

/* Keys that are equal in Python are one key here: 1, 1.0; and tuples. */
static void test_dict_key_equality(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    void *d = rc_dict_new(h);
    void *i1 = rc_int_new(h, 1), *f1 = rc_float_new(h, 1.0);
    void *a = rc_str_literal(h, "int"), *b = rc_str_literal(h, "float");
    CHECK_EQ(rc_dict_set(d, i1, a), RC_OK);
    CHECK_EQ(rc_dict_set(d, f1, b), RC_OK); /* same key: replaces the value */
    CHECK_EQ(rc_dict_size(d), 1);
    CHECK_PTR_EQ(rc_dict_get(d, i1), b);
    size_t pos = 0;
    void *k;
    CHECK(rc_dict_next(d, &pos, &k, NULL));
    CHECK_PTR_EQ(k, i1); /* the first key object stays */
    CHECK_EQ(rc_dict_del(d, f1), RC_OK);
    CHECK_EQ(rc_dict_size(d), 0);
    /* big values and negatives, both ways */
    void *big = rc_int_new(h, (int64_t)1 << 60), *bigf = rc_float_new(h, 1152921504606846976.0);
    void *neg = rc_int_new(h, -7), *negf = rc_float_new(h, -7.0);
    rc_dict_set(d, bigf, a);
    rc_dict_set(d, neg, a);
    CHECK_PTR_EQ(rc_dict_get(d, big), a);
    CHECK_PTR_EQ(rc_dict_get(d, negf), a);
    void *half = rc_float_new(h, 0.5);
    CHECK_NULL(rc_dict_get(d, half));
    /* tuple keys: equal tuples find each other */
    void *t1 = rc_tuple_pack(h, 3, i1, a, big);
    void *t2 = rc_tuple_pack(h, 3, f1, a, bigf); /* (1.0, 'int', 2.0**60) == (1, 'int', 2**60) */
    CHECK_EQ(rc_dict_set(d, t1, b), RC_OK);
    CHECK_PTR_EQ(rc_dict_get(d, t2), b);
    void *t3 = rc_tuple_pack(h, 2, t1, t1), *t4 = rc_tuple_pack(h, 2, t2, t1);
    CHECK_EQ(rc_dict_set(d, t3, a), RC_OK);
    CHECK_PTR_EQ(rc_dict_get(d, t4), a);
    CHECK_EQ(rc_dict_size(d), 4);
    /* a tuple holding a list is unhashable, at any depth */
    void *l = rc_list_new(h, 0);
    void *tl = rc_tuple_pack(h, 2, i1, l);
    void *ttl = rc_tuple_pack(h, 1, tl);
    void *out;
    CHECK_EQ(rc_dict_set(d, tl, a), RC_ETYPE);
    CHECK_EQ(rc_dict_set(d, ttl, a), RC_ETYPE);
    CHECK_EQ(rc_dict_get_status(d, ttl, &out), RC_ETYPE);
    CHECK_EQ(rc_dict_del(d, tl), RC_ETYPE);
    CHECK_EQ(rc_dict_size(d), 4);
    /* the empty tuple is a key like any other */
    void *e = rc_tuple_pack(h, 0);
    CHECK_EQ(rc_dict_set(d, e, a), RC_OK);
    CHECK_PTR_EQ(rc_dict_get(d, e), a);
    /* instances and classes hash by identity */
    void *cls = rc_class_new(h, "K", NULL);
    void *x = rc_instance_new(h, cls), *y = rc_instance_new(h, cls);
    CHECK_EQ(rc_dict_set(d, x, a), RC_OK);
    CHECK_EQ(rc_dict_set(d, cls, b), RC_OK);
    CHECK_PTR_EQ(rc_dict_get(d, x), a);
    CHECK_NULL(rc_dict_get(d, y));
    CHECK_PTR_EQ(rc_dict_get(d, cls), b);
    /* str keys are not numbers */
    void *s1 = rc_str_literal(h, "1");
    CHECK_NULL(rc_dict_get(d, s1));
    rc_decref(d);
    void *objs[] = {i1, f1, big, bigf, neg, negf, half, t1, t2, t3, t4, l, tl, ttl, e, x, y, cls};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        rc_decref(objs[i]);
    CHECK_EQ(rc_live_objects_of(h, &rc_tuple_type), 1);
    CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_dict_type), 0);
    rc_heap_destroy(h);
}

/* Insertion order survives deletions, re-insertions and resizes. */
static void test_dict_order(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    void *d = rc_dict_new(h);
    enum { N = 2000 };
    static void *keys[N];
    for (int i = 0; i < N; i++) {
        keys[i] = rc_int_new(h, (int64_t)i * 7919 - 5000);
        CHECK_EQ(rc_dict_set(d, keys[i], keys[i]), RC_OK);
    }
    /* delete every third */
    for (int i = 0; i < N; i += 3)
        CHECK_EQ(rc_dict_del(d, keys[i]), RC_OK);
    /* re-insert some deleted ones: they go to the end */
    for (int i = 0; i < 30; i += 3)
        CHECK_EQ(rc_dict_set(d, keys[i], keys[i]), RC_OK);
    /* replace values of survivors: order unchanged */
    for (int i = 1; i < N; i += 3)
        CHECK_EQ(rc_dict_set(d, keys[i], keys[0]), RC_OK);
    /* many more insertions force resizes (which compact the entries) */
    static void *more[N];
    for (int i = 0; i < N; i++) {
        more[i] = rc_float_new(h, i + 0.5);
        rc_dict_set(d, more[i], more[i]);
    }
    size_t expect = (size_t)(N - (N + 2) / 3 + 10 + N);
    CHECK_EQ(rc_dict_size(d), expect);
    size_t pos = 0, n = 0;
    void *k, *v;
    int bad = 0;
    /* the order: survivors of keys (i % 3 != 0), then the re-inserted, then more */
    int i = 0, phase = 0, j = 0;
    while (rc_dict_next(d, &pos, &k, &v)) {
        n++;
        if (phase == 0) {
            while (i < N && i % 3 == 0)
                i++;
            if (i >= N) {
                phase = 1;
            } else {
                bad += k != keys[i];
                bad += v != ((i % 3 == 1) ? keys[0] : keys[i]);
                i++;
                continue;
            }
        }
        if (phase == 1) {
            if (j < 30) {
                bad += k != keys[j];
                j += 3;
                continue;
            }
            phase = 2;
            i = 0;
        }
        bad += k != more[i++];
    }
    CHECK_EQ(n, expect);
    CHECK_EQ(bad, 0);
    /* the repr of a small dict follows insertion order */
    void *s = rc_dict_new(h);
    rc_dict_set_str(s, "z", keys[1]);
    rc_dict_set_str(s, "a", keys[2]);
    rc_dict_set_str(s, "m", keys[4]);
    rc_dict_del_str(s, "a");
    rc_dict_set_str(s, "a", keys[5]);
    CHECK_REPR(s, "{'z': 2919, 'm': 26676, 'a': 34595}");
    rc_decref(s);
    rc_decref(d);
    for (int m = 0; m < N; m++) {
        rc_decref(keys[m]);
        rc_decref(more[m]);
    }
    CHECK_EQ(rc_live_objects_of(h, &rc_float_type), 0);
    rc_heap_destroy(h);
}

/* rc_sizeof grows with the table: 8 slots hold 5, then 16, 32, ... */
static void test_dict_sizeof(void) {
    rc_heap *h = types_heap(RC_MODE_POOL);
    void *d = rc_dict_new(h);
    size_t empty = rc_sizeof(d);
    CHECK_EQ(empty, GCHDR + DICT_FIXED);
    void *one = rc_int_new(h, 1);
    rc_dict_set(d, one, one);
    /* 8 one-byte index slots + 5 entries (24 bytes each, 16 with 4-byte pointers) */
    CHECK_EQ(rc_sizeof(d), empty + 8 + 5 * DICT_ENTRY);
    size_t prev = rc_sizeof(d), grows = 0;
    for (int i = 2; i <= 1000; i++) {
        void *k = rc_int_new(h, i);
        rc_dict_set(d, k, one);
        rc_decref(k);
        if (rc_sizeof(d) != prev) {
            CHECK_GT(rc_sizeof(d), prev);
            prev = rc_sizeof(d);
            grows++;
        }
    }
    CHECK_GE(grows, 5);
    /* 1000 entries: 2048 slots of 2 bytes, 1365 entries */
    CHECK_EQ(rc_sizeof(d), empty + 2048 * 2 + 1365 * DICT_ENTRY);
    rc_dict_clear(d);
    CHECK_EQ(rc_sizeof(d), empty);
    rc_decref(d);
    rc_heap_destroy(h);
}

/* Deleting everything and inserting again does not grow the table forever:
 * rebuilding compacts the dead entries. */
static void test_dict_churn(void) {
    rc_heap *h = types_heap(RC_MODE_POOL);
    void *d = rc_dict_new(h);
    void *v = rc_int_new(h, 0);
    size_t max_size = 0;
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < 50; i++) {
            void *k = rc_int_new(h, round * 1000 + i);
            rc_dict_set(d, k, v);
            rc_decref(k);
        }
        for (int i = 0; i < 50; i++) {
            void *k = rc_int_new(h, round * 1000 + i);
            CHECK_EQ(rc_dict_del(d, k), RC_OK);
            rc_decref(k);
        }
        if (rc_sizeof(d) > max_size)
            max_size = rc_sizeof(d);
    }
    CHECK_EQ(rc_dict_size(d), 0);
    CHECK_LE(max_size, GCHDR + DICT_FIXED + 256 * 2 + 170 * DICT_ENTRY);
    rc_decref(d);
    CHECK_EQ(rc_live_objects(h), 50); /* the cached ints 0..49 */
    rc_heap_destroy(h);
}

/* ---- Reentrancy: a user key type whose eq mutates the dict ---------------------- */

typedef struct evil {
    int64_t id;
    void *dict;  /* borrowed: the dict to mess with */
    int mode;
} evil;

static int g_eq_calls;

static uint64_t evil_hash(const void *o) {
    (void)o;
    return 42; /* every evil key collides */
}

static bool evil_eq(const void *a, const void *b) {
    const evil *x = a;
    g_eq_calls++;
    if (x->mode == 1 && x->dict) {
        /* delete every entry while being compared: the entry we compare
         * against loses the dict's reference */
        rc_dict_clear(x->dict);
    } else if (x->mode == 2 && x->dict && g_eq_calls < 50) {
        /* insert more keys, forcing rebuilds of the table */
        rc_heap *h = rc_heap_of(x->dict);
        for (int i = 0; i < 20; i++) {
            void *k = rc_int_new(h, 100000 + g_eq_calls * 100 + i);
            rc_dict_set(x->dict, k, k);
            rc_decref(k);
        }
    }
    if (rc_type_of(b) != rc_type_of(a))
        return false;
    return x->id == ((const evil *)b)->id;
}

static const rc_type evil_type = {
    .name = "evil",
    .size = sizeof(evil),
    .hash = evil_hash,
    .eq = evil_eq,
};

static void *evil_new(rc_heap *h, int64_t id, void *dict, int mode) {
    evil *e = rc_new(h, &evil_type, 0);
    e->id = id;
    e->dict = dict;
    e->mode = mode;
    return e;
}

static void test_dict_reentrant_eq(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    void *d = rc_dict_new(h);
    /* an entry whose key clears the dict when compared */
    void *k1 = evil_new(h, 1, d, 1);
    rc_dict_set(d, k1, k1);
    rc_decref(k1); /* only the dict holds it now */
    void *probe = evil_new(h, 2, NULL, 0);
    g_eq_calls = 0;
    void *out;
    CHECK_EQ(rc_dict_get_status(d, probe, &out), RC_EKEY); /* restarted on a cleared dict */
    CHECK_GE(g_eq_calls, 1);
    CHECK_EQ(rc_dict_size(d), 0);
    CHECK_EQ(rc_live_objects_of(h, &evil_type), 1); /* k1 was freed after the compare */
    CHECK_EQ(rc_dict_set(d, probe, probe), RC_OK);
    CHECK_EQ(rc_dict_size(d), 1);
    rc_dict_clear(d);
    /* an entry whose key inserts many keys (rebuilding the table) when compared */
    void *k2 = evil_new(h, 3, d, 2);
    rc_dict_set(d, k2, k2);
    g_eq_calls = 0;
    CHECK_EQ(rc_dict_set(d, probe, probe), RC_OK);
    CHECK_PTR_EQ(rc_dict_get(d, probe), probe);
    CHECK_PTR_EQ(rc_dict_get(d, k2), k2);
    CHECK_GT(rc_dict_size(d), 20);
    /* still a sound table: every key found */
    size_t pos = 0, n = 0;
    void *k;
    int missing = 0;
    while (rc_dict_next(d, &pos, &k, NULL)) {
        n++;
        missing += rc_dict_get(d, k) != k;
    }
    CHECK_EQ(n, rc_dict_size(d));
    CHECK_EQ(missing, 0);
    rc_decref(d);
    rc_decref(k2);
    rc_decref(probe);
    CHECK_EQ(rc_live_objects_of(h, &evil_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_dict_type), 0);
    rc_heap_destroy(h);
}

/* Dropping a value may run a finalizer that uses the dict. */
static void *g_dict;
static int g_fin;
static void touch_dict(void *self) {
    (void)self;
    g_fin++;
    rc_heap *h = rc_heap_of(g_dict);
    void *k = rc_int_new(h, 9000 + g_fin);
    CHECK_EQ(rc_dict_set(g_dict, k, k), RC_OK);
    rc_decref(k);
}

static void test_dict_finalizer_reentrancy(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    void *cls = rc_class_new(h, "Toucher", touch_dict);
    g_dict = rc_dict_new(h);
    g_fin = 0;
    void *key = rc_str_literal(h, "k");
    rc_dict_set_steal(g_dict, rc_str_literal(h, "x"), rc_instance_new(h, cls));
    /* replacing the value */
    rc_dict_set_str(g_dict, "x", key);
    CHECK_EQ(g_fin, 1);
    CHECK_EQ(rc_dict_size(g_dict), 2);
    /* deleting */
    rc_dict_set_steal(g_dict, rc_str_literal(h, "y"), rc_instance_new(h, cls));
    CHECK_EQ(rc_dict_del_str(g_dict, "y"), RC_OK);
    CHECK_EQ(g_fin, 2);
    CHECK_EQ(rc_dict_size(g_dict), 3);
    /* clearing: the finalizer refills the emptied dict */
    rc_dict_set_steal(g_dict, rc_str_literal(h, "z"), rc_instance_new(h, cls));
    rc_dict_clear(g_dict);
    CHECK_EQ(g_fin, 3);
    CHECK_EQ(rc_dict_size(g_dict), 1);
    CHECK_NULL(rc_dict_get_str(g_dict, "x"));
    rc_decref(g_dict);
    rc_decref(cls);
    CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_int_type), 0);
    rc_heap_destroy(h);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_dict_basics);
    RUN_TEST(test_dict_key_equality);
    RUN_TEST(test_dict_order);
    RUN_TEST(test_dict_sizeof);
    RUN_TEST(test_dict_churn);
    RUN_TEST(test_dict_reentrant_eq);
    RUN_TEST(test_dict_finalizer_reentrancy);
    return check_summary();
}
