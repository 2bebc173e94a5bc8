/*
 * Allocation failure at every point.
 *
 * A routine builds a structure of about fifty allocations (a dict of lists
 * of strs, ints, floats, tuples and instances, with tuple keys, a class and
 * interned names).  With rc_heap_fail_at(h, k) for k = 1, 2, 3, ... until it
 * succeeds, every attempt must report RC_ENOMEM, and once what was built is
 * dropped the heap must be back where it was: the same live objects, the
 * same bytes requested and (in the RCGC_REF_DEBUG build of this test) the
 * same total of references.  Two variants:
 *
 *   warm  the heap's caches (small ints, interned names, type tables) are
 *         filled by a first successful run, so the baseline is exact;
 *   cold  a fresh heap for every k, so the failures also hit the first-use
 *         allocations of every layer's state; afterwards only immortal
 *         cached objects may remain.
 *
 * Then each operation that allocates is failed on its own, and the objects
 * it touched are checked to be unchanged and usable.
 */
#include "types_test.h"

#include <rcgc/gc.h>

static int g_finalized;
static void count_del(void *self) {
    (void)self;
    g_finalized++;
}

/* Append a new tuple (a, b) made from fresh objects; steals a and b. */
static rc_status append_pair(rc_heap *h, void *l, void *a, void *b) {
    void *t = (a && b) ? rc_tuple_pack(h, 2, a, b) : NULL;
    rc_decref(a);
    rc_decref(b);
    return rc_list_append_steal(l, t);
}

#define TRY(expr)                   \
    do {                            \
        rc_status s_ = (expr);      \
        if (s_ != RC_OK) {          \
            status = s_;            \
            goto fail;              \
        }                           \
    } while (0)

/* The structure-building routine.  Returns RC_OK and the dict in *out, or
 * an error with nothing left behind. */
static rc_status build(rc_heap *h, void **out) {
    rc_status status = RC_ENOMEM;
    *out = NULL;
    void *cls = NULL, *d = NULL, *l = NULL;
    cls = rc_class_new(h, "Item", count_del);
    if (!cls)
        goto fail;
    d = rc_dict_new(h);
    if (!d)
        goto fail;
    TRY(rc_dict_set_str(d, "class", cls));
    for (int i = 0; i < 4; i++) {
        l = rc_list_new(h, i == 0 ? 2 : 0);
        if (!l)
            goto fail;
        char name[16];
        snprintf(name, sizeof name, "list%d", i);
        TRY(rc_dict_set_str(d, name, l));
        TRY(rc_list_append_steal(l, rc_str_from_cstr(h, "a str that is not interned")));
        TRY(rc_list_append_steal(l, rc_str_literal(h, "interned")));
        TRY(rc_list_append_steal(l, rc_int_new(h, 100000 + i)));
        TRY(rc_list_append_steal(l, rc_int_new(h, i)));
        TRY(rc_list_append_steal(l, rc_float_new(h, i + 0.25)));
        TRY(append_pair(h, l, rc_int_new(h, -1000 - i), rc_str_literal(h, "pair")));
        void *x = rc_instance_new(h, cls);
        TRY(rc_list_append_steal(l, x));
        if (x) {
            TRY(rc_instance_setattr(x, "index", rc_list_get(l, 3)));
            TRY(rc_instance_setattr(x, "owner", l)); /* a cycle, broken below */
        }
        /* a tuple key */
        void *k1 = rc_int_new(h, 5000 + i), *k2 = rc_float_new(h, i * 1.5);
        void *key = (k1 && k2) ? rc_tuple_pack(h, 2, k1, k2) : NULL;
        rc_decref(k1);
        rc_decref(k2);
        TRY(rc_dict_set_steal(d, key, rc_int_new(h, 7000 + i)));
        rc_decref(l);
        l = NULL;
    }
    /* grow one list far enough to reallocate several times */
    void *big = rc_dict_get_str(d, "list0");
    for (int i = 0; i < 30; i++)
        TRY(rc_list_append(big, rc_list_get(big, 3)));
    *out = d;
    rc_decref(cls);
    return RC_OK;
fail:
    rc_decref(l);
    rc_decref(cls);
    *out = d;
    return status;
}

/* Drop a built structure, breaking its cycles (instance.owner = list). */
static void drop(void *d) {
    if (!d)
        return;
    size_t pos = 0;
    void *k, *v;
    while (rc_dict_next(d, &pos, &k, &v)) {
        if (!rc_is_list(v))
            continue;
        for (size_t i = 0; i < rc_list_size(v); i++) {
            void *x = rc_list_get(v, (ptrdiff_t)i);
            if (rc_is_instance(x))
                rc_instance_delattr(x, "owner");
        }
    }
    rc_decref(d);
}

typedef struct snapshot {
    size_t live;
    size_t bytes;
    intptr_t refs;
} snapshot;

static snapshot snap(rc_heap *h) {
    rc_heap_stats st;
    rc_heap_get_stats(h, &st);
    snapshot s = {rc_live_objects(h), st.bytes_requested, rc_total_refs(h)};
    return s;
}

static rc_heap *debug_heap_nogc(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    return h;
}

static void test_build_warm(void) {
    rc_heap *h = debug_heap_nogc();
    void *d;
    g_finalized = 0;
    if (!CHECK_EQ(build(h, &d), RC_OK))
        return;
    CHECK_EQ(rc_dict_size(d), 9);
    CHECK_EQ(rc_list_size(rc_dict_get_str(d, "list0")), 7 + 30);
    drop(d);
    CHECK_EQ(g_finalized, 4);
    snapshot base = snap(h);
    unsigned long k;
    size_t failures = 0;
    for (k = 1; k < 10000; k++) {
        rc_heap_fail_at(h, k);
        rc_status s = build(h, &d);
        rc_heap_fail_at(h, 0);
        if (s == RC_OK) {
            drop(d);
            break;
        }
        failures++;
        CHECK_MSG(s == RC_ENOMEM, "k=%lu: status %s", k, rc_status_str(s));
        /* what was built so far is consistent: it can be dropped */
        drop(d);
        CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 0);
        snapshot now = snap(h);
        CHECK_MSG(now.live == base.live, "k=%lu: %zu live objects, baseline %zu", k, now.live,
                  base.live);
        CHECK_MSG(now.bytes == base.bytes, "k=%lu: %zu bytes requested, baseline %zu", k,
                  now.bytes, base.bytes);
        CHECK_MSG(now.refs == base.refs, "k=%lu: %ld references, baseline %ld", k,
                  (long)now.refs, (long)base.refs);
    }
    printf("  warm: succeeded at allocation %lu after %zu injected failures\n", k, failures);
    CHECK_GE(failures, 40);
    snapshot end = snap(h);
    CHECK_EQ(end.live, base.live);
    CHECK_EQ(end.bytes, base.bytes);
    CHECK_EQ(end.refs, base.refs);
    rc_heap_destroy(h);
}

/* Small ints and interned names the routine uses: what may stay behind. */
#define COLD_MAX_INTS 4  /* 0, 1, 2, 3 */
#define COLD_MAX_STRS 10 /* Item, class, list0..3, interned, pair, index, owner */

static void test_build_cold(void) {
    unsigned long k;
    size_t failures = 0;
    for (k = 1; k < 10000; k++) {
        rc_heap *h = debug_heap_nogc();
        rc_heap_fail_at(h, k);
        void *d;
        rc_status s = build(h, &d);
        rc_heap_fail_at(h, 0);
        drop(d);
        if (s == RC_OK) {
            rc_heap_destroy(h);
            break;
        }
        failures++;
        CHECK_MSG(s == RC_ENOMEM, "k=%lu: status %s", k, rc_status_str(s));
        CHECK_MSG(rc_live_objects_of(h, &rc_dict_type) == 0, "k=%lu: dicts left", k);
        CHECK_MSG(rc_live_objects_of(h, &rc_list_type) == 0, "k=%lu: lists left", k);
        CHECK_MSG(rc_live_objects_of(h, &rc_instance_type) == 0, "k=%lu: instances left", k);
        CHECK_MSG(rc_live_objects_of(h, &rc_class_type) == 0, "k=%lu: classes left", k);
        CHECK_MSG(rc_live_objects_of(h, &rc_float_type) == 0, "k=%lu: floats left", k);
        CHECK_MSG(rc_live_objects_of(h, &rc_tuple_type) == 0, "k=%lu: tuples left", k);
        CHECK_MSG(rc_live_objects_of(h, &rc_int_type) <= COLD_MAX_INTS, "k=%lu: %zu ints left",
                  k, rc_live_objects_of(h, &rc_int_type));
        CHECK_MSG(rc_live_objects_of(h, &rc_str_type) <= COLD_MAX_STRS,
                  "k=%lu: %zu strs left", k, rc_live_objects_of(h, &rc_str_type));
        /* and the heap is still fully usable */
        void *again;
        CHECK_MSG(build(h, &again) == RC_OK, "k=%lu: no recovery", k);
        drop(again);
        CHECK_EQ(rc_live_objects_of(h, &rc_dict_type), 0);
        CHECK_EQ(rc_live_objects_of(h, &rc_list_type), 0);
        rc_heap_destroy(h);
    }
    printf("  cold: succeeded at allocation %lu after %zu injected failures\n", k, failures);
    CHECK_GE(failures, 40);
}

/* ---- Each operation on its own ------------------------------------------------------- */

static void test_list_ops_fail(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    void *x = rc_int_new(h, 4321);
    void *l = rc_list_new(h, 0);
    for (int i = 0; i < 4; i++)
        rc_list_append(l, x);
    CHECK_EQ(rc_list_capacity(l), 4);
    snapshot base = snap(h);
    rc_heap_fail_at(h, 1);
    CHECK_EQ(rc_list_append(l, x), RC_ENOMEM);
    CHECK_EQ(rc_list_size(l), 4);
    CHECK_EQ(rc_list_capacity(l), 4);
    CHECK_EQ(rc_refcount(x), 5);
    rc_heap_fail_at(h, 1);
    CHECK_EQ(rc_list_insert(l, 0, x), RC_ENOMEM);
    CHECK_EQ(rc_list_size(l), 4);
    rc_heap_fail_at(h, 1);
    CHECK_EQ(rc_list_append_steal(l, rc_int_new(h, 999)), RC_ENOMEM); /* the int failed */
    rc_heap_fail_at(h, 2);
    CHECK_EQ(rc_list_append_steal(l, rc_int_new(h, 999)), RC_ENOMEM); /* the growth failed */
    rc_heap_fail_at(h, 0);
    snapshot now = snap(h);
    CHECK_EQ(now.live, base.live);
    CHECK_EQ(now.bytes, base.bytes);
    CHECK_EQ(now.refs, base.refs);
    /* still usable */
    CHECK_EQ(rc_list_append(l, x), RC_OK);
    CHECK_EQ(rc_list_size(l), 5);
    /* popping with a failed shrink keeps the larger block, and works */
    for (int i = 0; i < 40; i++)
        rc_list_append(l, x);
    rc_heap_fail_at(h, 1);
    size_t cap = rc_list_capacity(l);
    while (rc_list_size(l) > 3) {
        void *p = rc_list_pop(l, -1);
        CHECK_PTR_EQ(p, x);
        rc_decref(p);
    }
    rc_heap_fail_at(h, 0);
    CHECK_LE(rc_list_capacity(l), cap);
    CHECK_EQ(rc_refcount(x), 4);
    /* a failed list_new (with a hint: two allocations) leaves nothing */
    base = snap(h);
    for (int k = 1; k <= 2; k++) {
        rc_heap_fail_at(h, (uint64_t)k);
        CHECK_NULL(rc_list_new(h, 100));
        rc_heap_fail_at(h, 0);
        now = snap(h);
        CHECK_EQ(now.live, base.live);
        CHECK_EQ(now.bytes, base.bytes);
    }
    rc_decref(l);
    rc_decref(x);
    rc_heap_destroy(h);
}

static void test_dict_ops_fail(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    void *d = rc_dict_new(h);
    void *keys[6];
    for (int i = 0; i < 6; i++)
        keys[i] = rc_int_new(h, 1000 + i);
    /* the first insertion allocates the table */
    rc_heap_fail_at(h, 1);
    CHECK_EQ(rc_dict_set(d, keys[0], keys[0]), RC_ENOMEM);
    rc_heap_fail_at(h, 0);
    CHECK_EQ(rc_dict_size(d), 0);
    CHECK_EQ(rc_refcount(keys[0]), 1);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(rc_dict_set(d, keys[i], keys[i]), RC_OK);
    size_t sz = rc_sizeof(d);
    snapshot base = snap(h);
    /* the sixth needs a bigger table */
    rc_heap_fail_at(h, 1);
    CHECK_EQ(rc_dict_set(d, keys[5], keys[5]), RC_ENOMEM);
    rc_heap_fail_at(h, 0);
    snapshot now = snap(h);
    CHECK_EQ(now.live, base.live);
    CHECK_EQ(now.bytes, base.bytes);
    CHECK_EQ(rc_sizeof(d), sz);
    CHECK_EQ(rc_dict_size(d), 5);
    CHECK_EQ(rc_refcount(keys[5]), 1);
    for (int i = 0; i < 5; i++)
        CHECK_PTR_EQ(rc_dict_get(d, keys[i]), keys[i]);
    CHECK_NULL(rc_dict_get(d, keys[5]));
    /* replacing a value or deleting never allocates */
    rc_heap_fail_at(h, 1);
    CHECK_EQ(rc_dict_set(d, keys[0], keys[1]), RC_OK);
    CHECK_EQ(rc_dict_del(d, keys[1]), RC_OK);
    CHECK_PTR_EQ(rc_dict_get(d, keys[0]), keys[1]);
    CHECK_EQ(rc_dict_set_str(d, "fresh", keys[1]), RC_ENOMEM); /* the key str */
    rc_heap_fail_at(h, 0);
    CHECK_NULL(rc_dict_get_str(d, "fresh"));
    CHECK_EQ(rc_dict_set(d, keys[5], keys[5]), RC_OK);
    CHECK_EQ(rc_dict_size(d), 5);
    /* order kept across the failures */
    size_t pos = 0;
    void *k;
    int order[] = {0, 2, 3, 4, 5}, i = 0, bad = 0;
    while (rc_dict_next(d, &pos, &k, NULL))
        bad += k != keys[order[i++]];
    CHECK_EQ(bad, 0);
    rc_decref(d);
    for (int j = 0; j < 6; j++) {
        CHECK_EQ(rc_refcount(keys[j]), 1);
        rc_decref(keys[j]);
    }
    rc_heap_destroy(h);
}

static void test_scalar_ops_fail(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    /* the types state itself is made on first use */
    rc_heap_fail_at(h, 1);
    CHECK_NULL(rc_int_new(h, 5));
    rc_heap_fail_at(h, 0);
    void *five = rc_int_new(h, 5);
    CHECK(rc_is_immortal(five));
    rc_heap_fail_at(h, 1);
    CHECK_PTR_EQ(rc_int_new(h, 5), five); /* cached: no allocation */
    CHECK_NULL(rc_int_new(h, 6));
    rc_heap_fail_at(h, 1);
    CHECK_NULL(rc_int_new(h, 100000));
    rc_heap_fail_at(h, 1);
    CHECK_NULL(rc_float_new(h, 1.0));
    rc_heap_fail_at(h, 1);
    CHECK_NULL(rc_str_from_cstr(h, "x"));
    rc_heap_fail_at(h, 0);
    CHECK_EQ(rc_live_objects(h), 1);
    void *six = rc_int_new(h, 6);
    CHECK(rc_is_immortal(six));
    CHECK_PTR_EQ(rc_int_new(h, 6), six);
    /* interning: the table's growth can fail; s is left as it was */
    void *s = rc_str_from_cstr(h, "to be interned");
    size_t strs = rc_live_objects_of(h, &rc_str_type);
    rc_heap_fail_at(h, 1);
    CHECK_NULL(rc_str_intern(s));
    rc_heap_fail_at(h, 1);
    CHECK_NULL(rc_str_literal(h, "another"));
    rc_heap_fail_at(h, 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_str_type), strs);
    CHECK(!rc_str_is_interned(s));
    CHECK_EQ(rc_refcount(s), 1);
    void *is = rc_str_intern(s);
    CHECK_PTR_EQ(is, s);
    /* a literal whose str was made but whose interning failed */
    char name[32];
    int failed = 0;
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof name, "lit%d", i);
        rc_heap_fail_at(h, 2); /* the str succeeds, a table growth would fail */
        void *lit = rc_str_literal(h, name);
        rc_heap_fail_at(h, 0);
        if (!lit) {
            failed++;
            CHECK_EQ(rc_live_objects_of(h, &rc_str_type), strs + (size_t)i);
            lit = rc_str_literal(h, name);
        }
        CHECK(rc_str_is_interned(lit));
        CHECK_PTR_EQ(rc_str_literal(h, name), lit);
    }
    CHECK_GE(failed, 1); /* the table grew at least once, and failed then */
    /* tuples */
    void *a = rc_int_new(h, 1000);
    rc_heap_fail_at(h, 1);
    CHECK_NULL(rc_tuple_pack(h, 2, a, a));
    rc_heap_fail_at(h, 0);
    CHECK_EQ(rc_refcount(a), 1);
    rc_decref(a);
    rc_heap_destroy(h);
}

static void test_class_ops_fail(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    void *cls = rc_class_new(h, "Watched", count_del);
    rc_str_literal(h, "attr"); /* intern the attribute name now */
    g_finalized = 0;
    snapshot base = snap(h);
    for (int k = 1; k <= 2; k++) {
        rc_heap_fail_at(h, (uint64_t)k);
        CHECK_NULL(rc_instance_new(h, cls));
        rc_heap_fail_at(h, 0);
        snapshot now = snap(h);
        CHECK_EQ(now.live, base.live);
        CHECK_EQ(now.bytes, base.bytes);
    }
    CHECK_EQ(g_finalized, 0); /* never for an instance that was not returned */
    CHECK_EQ(rc_refcount(cls), 1);
    void *x = rc_instance_new(h, cls);
    void *v = rc_int_new(h, 1000);
    rc_heap_fail_at(h, 1);
    CHECK_EQ(rc_instance_setattr(x, "attr", v), RC_ENOMEM); /* the dict's table */
    rc_heap_fail_at(h, 0);
    CHECK_NULL(rc_instance_getattr(x, "attr"));
    CHECK_EQ(rc_refcount(v), 1);
    CHECK_EQ(rc_instance_setattr(x, "attr", v), RC_OK);
    rc_decref(x);
    CHECK_EQ(g_finalized, 1);
    rc_decref(v);
    /* rc_class_new: name, dict, class */
    base = snap(h);
    for (int k = 1; k <= 3; k++) {
        rc_heap_fail_at(h, (uint64_t)k);
        void *c = rc_class_new(h, "Watched", NULL); /* name already interned */
        rc_heap_fail_at(h, 0);
        if (k <= 2)
            CHECK_NULL(c);
        rc_decref(c);
        snapshot now = snap(h);
        CHECK_EQ(now.live, base.live);
        CHECK_EQ(now.bytes, base.bytes);
    }
    rc_decref(cls);
    rc_heap_destroy(h);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
#ifdef RCGC_REF_DEBUG
    printf("(reference-debugging build: total references are checked too)\n");
#endif
    RUN_TEST(test_build_warm);
    RUN_TEST(test_build_cold);
    RUN_TEST(test_list_ops_fail);
    RUN_TEST(test_dict_ops_fail);
    RUN_TEST(test_scalar_ops_fail);
    RUN_TEST(test_class_ops_fail);
    return check_summary();
}
