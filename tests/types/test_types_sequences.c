/*
 * tuple and list: construction, access with Python indices, errors, growth,
 * sizes, hashing of tuples, reentrancy of clear, traverse/clear for the
 * collector.
 */
#include "types_test.h"

#include <rcgc/gc.h>

static void count_visit(void *child, void *arg) {
    (void)child;
    (*(size_t *)arg)++;
}

static size_t count_refs(void *o) {
    size_t n = 0;
    rc_traverse(o, count_visit, &n);
    return n;
}

static void test_tuple_basics(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    void *one = rc_int_new(h, 1000), *s = rc_str_from_cstr(h, "x");
    void *t = rc_tuple_pack(h, 2, one, s);
    if (!CHECK_NOT_NULL(t))
        return;
    CHECK(rc_is_tuple(t));
    CHECK(!rc_is_list(t));
    CHECK_EQ(rc_tuple_size(t), 2);
    CHECK_PTR_EQ(rc_tuple_get(t, 0), one);
    CHECK_PTR_EQ(rc_tuple_get(t, 1), s);
    CHECK_PTR_EQ(rc_tuple_get(t, -1), s);
    CHECK_PTR_EQ(rc_tuple_get(t, -2), one);
    CHECK_NULL(rc_tuple_get(t, 2));
    CHECK_NULL(rc_tuple_get(t, -3));
    CHECK_EQ(rc_refcount(one), 2); /* the tuple took its own reference */
    CHECK_EQ(rc_sizeof(t), GCHDR + TUPLE_FIXED + 2 * SLOT);
    CHECK_EQ(count_refs(t), 2);
    CHECK(rc_hashable(t));
    CHECK_REPR(t, "(1000, 'x')");

    void *items[2] = {one, s};
    void *u = rc_tuple_from(h, 2, items);
    CHECK(rc_equal(t, u));
    uint64_t ht = 0, hu = 1;
    CHECK(rc_hash(t, &ht) && rc_hash(u, &hu));
    CHECK_EQ(ht, hu);
    void *v = rc_tuple_pack(h, 2, s, one); /* order matters */
    CHECK(!rc_equal(t, v));
    uint64_t hv = 0;
    CHECK(rc_hash(v, &hv));
    CHECK_NE(ht, hv);
    void *single = rc_tuple_pack(h, 1, one);
    CHECK_REPR(single, "(1000,)");
    CHECK(!rc_equal(t, single));

    /* the empty tuple is a per-heap immortal singleton */
    void *e1 = rc_tuple_pack(h, 0), *e2 = rc_tuple_from(h, 0, NULL);
    CHECK_PTR_EQ(e1, e2);
    CHECK(rc_is_immortal(e1));
    CHECK_EQ(rc_tuple_size(e1), 0);
    CHECK_NULL(rc_tuple_get(e1, 0));
    CHECK_NULL(rc_tuple_get(e1, -1));
    CHECK_EQ(rc_sizeof(e1), GCHDR + TUPLE_FIXED);
    CHECK_REPR(e1, "()");

    /* errors: NULL items, wrong types */
    size_t live = rc_live_objects(h);
    CHECK_NULL(rc_tuple_pack(h, 3, one, (void *)NULL, s));
    CHECK_EQ(rc_live_objects(h), live);
    CHECK_EQ(rc_refcount(one), 5); /* t, u, v, single + ours: the failed pack gave back its refs */
    void *bad[2] = {one, NULL};
    CHECK_NULL(rc_tuple_from(h, 2, bad));
    CHECK_NULL(rc_tuple_from(h, 2, NULL));
    CHECK_NULL(rc_tuple_pack(NULL, 1, one));
    CHECK_EQ(rc_live_objects(h), live);
    CHECK_EQ(rc_tuple_size(one), 0);
    CHECK_NULL(rc_tuple_get(one, 0));
    CHECK(!rc_is_tuple(NULL));

    rc_decref(t);
    rc_decref(u);
    rc_decref(v);
    rc_decref(single);
    CHECK_EQ(rc_refcount(one), 1);
    rc_decref(one);
    rc_decref(s);
    rc_decref(e1);
    rc_decref(e2);
    CHECK_EQ(rc_live_objects_of(h, &rc_tuple_type), 1); /* the empty tuple */
    rc_heap_destroy(h);
}

static void test_tuple_hashability(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    void *l = rc_list_new(h, 0);
    void *one = rc_int_new(h, 1);
    void *t = rc_tuple_pack(h, 2, one, l);
    CHECK(!rc_hashable(l));
    CHECK(!rc_hashable(t));
    /* at any depth */
    void *tt = rc_tuple_pack(h, 1, t);
    CHECK(!rc_hashable(tt));
    void *ok = rc_tuple_pack(h, 2, one, one);
    void *okok = rc_tuple_pack(h, 2, ok, ok);
    CHECK(rc_hashable(okok));
    CHECK(rc_hashable(one));
    CHECK(!rc_hashable(NULL));
    /* a deep tuple chain hashes in constant stack (hashes are computed
     * bottom-up as the tuples are made) */
    void *chain = rc_tuple_pack(h, 0);
    for (int i = 0; i < 100000; i++) {
        void *next = rc_tuple_pack(h, 2, one, chain);
        rc_decref(chain);
        chain = next;
    }
    CHECK(rc_hashable(chain));
    rc_decref(chain); /* and dies without recursion */
    /* unhashable tuples still compare: (1, []) == (1, []) */
    void *l2 = rc_list_new(h, 0);
    void *t2 = rc_tuple_pack(h, 2, one, l2);
    CHECK(rc_equal(t, t2));
    rc_list_append(l2, one);
    CHECK(!rc_equal(t, t2));
    rc_decref(t2);
    rc_decref(l2);
    rc_decref(tt);
    rc_decref(t);
    rc_decref(l);
    rc_decref(ok);
    rc_decref(okok);
    CHECK_EQ(rc_live_objects_of(h, &rc_tuple_type), 1);
    CHECK_EQ(rc_live_objects_of(h, &rc_list_type), 0);
    rc_heap_destroy(h);
}

/* Element-wise comparison is bounded: no stack overflow on self-containing
 * lists or very deep structures; moderately deep ones compare fine. */
static void test_deep_equality(void) {
    rc_heap *h = types_heap(RC_MODE_POOL);
    void *l1 = rc_list_new(h, 0), *l2 = rc_list_new(h, 0);
    rc_list_append(l1, l1);
    rc_list_append(l2, l2);
    CHECK(rc_equal(l1, l1));
    CHECK(!rc_equal(l1, l2)); /* Python: RecursionError */
    rc_list_clear(l1);
    rc_list_clear(l2);
    CHECK(rc_equal(l1, l2));
    void *one = rc_int_new(h, 1);
    void *a = rc_tuple_pack(h, 0), *b = rc_tuple_pack(h, 0);
    for (int i = 0; i < 100000; i++) {
        void *na = rc_tuple_pack(h, 2, a, one), *nb = rc_tuple_pack(h, 2, b, one);
        rc_decref(a);
        rc_decref(b);
        a = na;
        b = nb;
        if (i == 500)
            CHECK(rc_equal(a, b)); /* 500 levels: decided */
    }
    uint64_t ha = 0, hb = 1;
    CHECK(rc_hash(a, &ha) && rc_hash(b, &hb));
    CHECK_EQ(ha, hb);
    CHECK(!rc_equal(a, b)); /* 100,000 levels: too deep to decide, but no crash */
    rc_decref(a);
    rc_decref(b);
    rc_decref(l1);
    rc_decref(l2);
    CHECK_EQ(rc_live_objects_of(h, &rc_tuple_type), 1);
    rc_heap_destroy(h);
}

static void test_list_basics(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    void *l = rc_list_new(h, 0);
    if (!CHECK_NOT_NULL(l))
        return;
    CHECK(rc_is_list(l));
    CHECK(!rc_hashable(l));
    CHECK_EQ(rc_list_size(l), 0);
    CHECK_EQ(rc_list_capacity(l), 0);
    CHECK_NULL(rc_list_get(l, 0));
    CHECK_NULL(rc_list_get(l, -1));
    CHECK_NULL(rc_list_pop(l, -1));
    CHECK_REPR(l, "[]");
    void *n[6];
    for (int i = 0; i < 6; i++)
        n[i] = rc_int_new(h, 1000 + i);
    /* append */
    for (int i = 0; i < 3; i++)
        CHECK_EQ(rc_list_append(l, n[i]), RC_OK);
    CHECK_EQ(rc_list_size(l), 3);
    CHECK_EQ(rc_refcount(n[0]), 2);
    CHECK_PTR_EQ(rc_list_get(l, 0), n[0]);
    CHECK_PTR_EQ(rc_list_get(l, 2), n[2]);
    CHECK_PTR_EQ(rc_list_get(l, -1), n[2]);
    CHECK_PTR_EQ(rc_list_get(l, -3), n[0]);
    CHECK_NULL(rc_list_get(l, 3));
    CHECK_NULL(rc_list_get(l, -4));
    CHECK_REPR(l, "[1000, 1001, 1002]");
    CHECK_EQ(count_refs(l), 3);
    /* set */
    CHECK_EQ(rc_list_set(l, 1, n[3]), RC_OK);
    CHECK_EQ(rc_refcount(n[1]), 1);
    CHECK_EQ(rc_refcount(n[3]), 2);
    CHECK_EQ(rc_list_set(l, -1, n[4]), RC_OK);
    CHECK_REPR(l, "[1000, 1003, 1004]");
    CHECK_EQ(rc_list_set(l, 3, n[0]), RC_EINDEX);
    CHECK_EQ(rc_list_set(l, -4, n[0]), RC_EINDEX);
    CHECK_EQ(rc_list_set(l, 0, NULL), RC_EINVAL);
    /* insert, with Python's clamping */
    CHECK_EQ(rc_list_insert(l, 0, n[5]), RC_OK);
    CHECK_REPR(l, "[1005, 1000, 1003, 1004]");
    CHECK_EQ(rc_list_insert(l, -1, n[1]), RC_OK); /* before the last */
    CHECK_REPR(l, "[1005, 1000, 1003, 1001, 1004]");
    CHECK_EQ(rc_list_insert(l, 100, n[2]), RC_OK); /* appends */
    CHECK_EQ(rc_list_insert(l, -100, n[2]), RC_OK); /* at the front */
    CHECK_REPR(l, "[1002, 1005, 1000, 1003, 1001, 1004, 1002]");
    /* pop */
    void *p = rc_list_pop(l, 0);
    CHECK_PTR_EQ(p, n[2]);
    CHECK_EQ(rc_refcount(p), 3); /* ours, the list's other one, and the popped one */
    rc_decref(p);
    p = rc_list_pop(l, -1);
    CHECK_PTR_EQ(p, n[2]);
    rc_decref(p);
    p = rc_list_pop(l, 2);
    CHECK_PTR_EQ(p, n[3]);
    rc_decref(p);
    CHECK_REPR(l, "[1005, 1000, 1001, 1004]");
    CHECK_NULL(rc_list_pop(l, 4));
    CHECK_NULL(rc_list_pop(l, -5));
    CHECK_EQ(rc_list_size(l), 4);
    /* wrong types and NULLs */
    void *d = rc_dict_new(h);
    CHECK_EQ(rc_list_append(d, n[0]), RC_ETYPE);
    CHECK_EQ(rc_list_append(n[0], n[0]), RC_ETYPE);
    CHECK_EQ(rc_list_append(l, NULL), RC_EINVAL);
    CHECK_EQ(rc_list_append(NULL, n[0]), RC_EINVAL);
    CHECK_EQ(rc_list_set(d, 0, n[0]), RC_ETYPE);
    CHECK_EQ(rc_list_insert(d, 0, n[0]), RC_ETYPE);
    CHECK_EQ(rc_list_insert(l, 0, NULL), RC_EINVAL);
    CHECK_NULL(rc_list_get(d, 0));
    CHECK_NULL(rc_list_pop(d, 0));
    CHECK_EQ(rc_list_size(d), 0);
    CHECK_EQ(rc_list_capacity(d), 0);
    rc_list_clear(d); /* does nothing */
    CHECK_NULL(rc_list_new(NULL, 0));
    CHECK(!rc_is_list(NULL));
    /* append_steal */
    CHECK_EQ(rc_list_append_steal(l, rc_int_new(h, 5000)), RC_OK);
    CHECK_EQ(rc_refcount(rc_list_get(l, -1)), 1);
    CHECK_EQ(rc_list_append_steal(l, NULL), RC_ENOMEM);
    size_t live = rc_live_objects(h);
    CHECK_EQ(rc_list_append_steal(d, rc_int_new(h, 5001)), RC_ETYPE); /* still stolen */
    CHECK_EQ(rc_live_objects(h), live);
    /* list equality (element-wise) */
    void *m = rc_list_new(h, 8);
    CHECK_EQ(rc_list_capacity(m), 8);
    for (size_t i = 0; i < rc_list_size(l); i++)
        rc_list_append(m, rc_list_get(l, (ptrdiff_t)i));
    CHECK(rc_equal(l, m));
    rc_decref(rc_list_pop(m, -1));
    CHECK(!rc_equal(l, m));
    /* clear */
    rc_list_clear(l);
    CHECK_EQ(rc_list_size(l), 0);
    CHECK_EQ(rc_list_capacity(l), 0);
    CHECK_EQ(rc_refcount(n[0]), 2); /* m still holds one */
    CHECK_EQ(rc_list_append(l, n[0]), RC_OK); /* usable after clear */
    rc_decref(l);
    rc_decref(m);
    rc_decref(d);
    for (int i = 0; i < 6; i++) {
        CHECK_EQ(rc_refcount(n[i]), 1);
        rc_decref(n[i]);
    }
    CHECK_EQ(rc_live_objects(h), 0);
    rc_heap_destroy(h);
}

/* Growth follows CPython's list_resize: 0, 4, 8, 16, 24, 32, 40, 52, 64, 76. */
static void test_list_growth_and_sizeof(void) {
    rc_heap *h = types_heap(RC_MODE_POOL);
    void *l = rc_list_new(h, 0);
    void *x = rc_int_new(h, 1);
    size_t empty = rc_sizeof(l);
    CHECK_EQ(empty, GCHDR + LIST_FIXED);
    static const size_t caps[] = {4, 8, 16, 24, 32, 40, 52, 64, 76};
    size_t k = 0, grows = 0, last = 0;
    for (int i = 0; i < 76; i++) {
        rc_list_append(l, x);
        size_t cap = rc_list_capacity(l);
        if (cap != last) {
            CHECK_MSG(k < 9 && cap == caps[k], "capacity #%zu is %zu", k, cap);
            k++;
            grows++;
            last = cap;
        }
        if (i == 2) {
            size_t three = rc_sizeof(l);
            CHECK_EQ(three, GCHDR + LIST_FIXED + 4 * SLOT);
            CHECK_GT(three, empty);
        }
    }
    CHECK_EQ(grows, 9);
    CHECK_EQ(rc_sizeof(l), GCHDR + LIST_FIXED + 76 * SLOT);
    size_t prev = rc_sizeof(l);
    for (int i = 0; i < 10000; i++)
        rc_list_append(l, x);
    CHECK_GT(rc_sizeof(l), prev);
    CHECK_EQ(rc_sizeof(l), GCHDR + LIST_FIXED + rc_list_capacity(l) * SLOT);
    /* over-allocation stays about an eighth */
    CHECK_LE(rc_list_capacity(l), rc_list_size(l) + rc_list_size(l) / 8 + 8);
    /* popping shrinks the storage */
    while (rc_list_size(l) > 10)
        rc_decref(rc_list_pop(l, -1));
    CHECK_LT(rc_list_capacity(l), 40);
    while (rc_list_size(l) > 0)
        rc_decref(rc_list_pop(l, 0));
    CHECK_EQ(rc_list_capacity(l), 0);
    CHECK_EQ(rc_sizeof(l), empty);
    /* a capacity hint: exactly that many slots, no growth until full */
    void *m = rc_list_new(h, 3);
    CHECK_EQ(rc_sizeof(m), GCHDR + LIST_FIXED + 3 * SLOT);
    for (int i = 0; i < 3; i++)
        rc_list_append(m, x);
    CHECK_EQ(rc_list_capacity(m), 3);
    rc_decref(m);
    rc_decref(l);
    rc_heap_destroy(h);
}

/* A finalizer that appends to the list being cleared sees a valid list. */
static void *g_list;
static int g_fin_runs;
static void refill_list(void *self) {
    (void)self;
    g_fin_runs++;
    /* during rc_list_clear: the list was emptied first, then each dropped
     * item's finalizer adds one */
    if (g_fin_runs <= 3)
        CHECK_EQ(rc_list_size(g_list), (size_t)g_fin_runs - 1);
    rc_list_append_steal(g_list, rc_int_new(rc_heap_of(g_list), 4242));
}

static void test_list_clear_reentrancy(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    void *cls = rc_class_new(h, "Refill", refill_list);
    g_list = rc_list_new(h, 0);
    g_fin_runs = 0;
    for (int i = 0; i < 3; i++)
        rc_list_append_steal(g_list, rc_instance_new(h, cls));
    rc_list_clear(g_list);
    CHECK_EQ(g_fin_runs, 3);
    CHECK_EQ(rc_list_size(g_list), 3); /* refilled by the finalizers */
    CHECK_EQ(rc_int_value(rc_list_get(g_list, 0)), 4242);
    CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 0);
    /* set and pop drop the replaced item after the list is updated */
    rc_list_append_steal(g_list, rc_instance_new(h, cls));
    CHECK_EQ(rc_list_set(g_list, -1, rc_list_get(g_list, 0)), RC_OK);
    CHECK_EQ(g_fin_runs, 4);
    CHECK_EQ(rc_list_size(g_list), 5);
    rc_decref(g_list);
    rc_decref(cls);
    CHECK_EQ(rc_live_objects(h), 1); /* the class name "Refill": interned, immortal */
    rc_heap_destroy(h);
}

static void test_gc_clear(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    void *one = rc_int_new(h, 1000);
    void *l = rc_list_new(h, 0);
    rc_list_append(l, one);
    void *t = rc_tuple_pack(h, 2, one, l);
    /* the collector's clear on each container: references dropped, objects usable */
    rc_type_of(t)->clear(t);
    CHECK_EQ(rc_tuple_size(t), 2);
    CHECK_NULL(rc_tuple_get(t, 0));
    CHECK_EQ(count_refs(t), 0);
    CHECK_REPR(t, "(NULL, NULL)");
    rc_type_of(l)->clear(l);
    CHECK_EQ(rc_list_size(l), 0);
    CHECK_EQ(rc_refcount(one), 1);
    CHECK_EQ(rc_refcount(l), 1);
    rc_decref(t);
    rc_decref(l);
    rc_decref(one);
    CHECK_EQ(rc_live_objects_of(h, &rc_list_type), 0);
    rc_heap_destroy(h);
}

/* A tuple of atomic values is untracked when it is made (CPython untracks
 * such tuples at its collections): ints, strings, untracked tuples.  A tuple
 * holding any other container stays tracked, even one untracked by hand
 * (it may be tracked again).  An atomic tuple still dies with the cycle
 * that holds it. */
static void test_atomic_tuples_untracked(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    rc_gc_disable(h);
    void *one = rc_int_new(h, 1000), *s = rc_str_from_cstr(h, "x");
    void *atomic = rc_tuple_pack(h, 2, one, s);
    void *nested = rc_tuple_pack(h, 2, atomic, one);
    void *l = rc_list_new(h, 0);
    void *with_list = rc_tuple_pack(h, 1, l);
    void *outer = rc_tuple_pack(h, 1, with_list);
    void *loose = rc_list_new(h, 0);
    rc_gc_untrack(loose);
    void *with_loose = rc_tuple_pack(h, 1, loose);
    void *items[2] = {one, atomic};
    void *from = rc_tuple_from(h, 2, items);
    if (!CHECK_NOT_NULL(atomic) || !CHECK_NOT_NULL(nested) || !CHECK_NOT_NULL(with_list) ||
        !CHECK_NOT_NULL(outer) || !CHECK_NOT_NULL(with_loose) || !CHECK_NOT_NULL(from))
        return;
    CHECK(!rc_gc_is_tracked(atomic));
    CHECK(!rc_gc_is_tracked(nested));
    CHECK(!rc_gc_is_tracked(from));
    CHECK(rc_gc_is_tracked(with_list));
    CHECK(rc_gc_is_tracked(outer));
    CHECK(rc_gc_is_tracked(with_loose));
    CHECK(!rc_gc_is_tracked(rc_tuple_pack(h, 0))); /* the empty tuple, as before */

    /* a self-referencing list holding an atomic tuple: the collector finds
     * the list alone, and the tuple dies with it */
    size_t before = rc_live_objects(h);
    rc_list_append(l, l);
    rc_list_append(l, atomic);
    rc_decref(outer);
    rc_decref(with_list); /* l now held only by itself */
    rc_decref(l);
    CHECK_EQ(rc_refcount(atomic), 4); /* ours, nested's, from's and the list's */
    CHECK_EQ(rc_gc_collect(h, 2), 1);
    CHECK_EQ(rc_refcount(atomic), 3);
    CHECK_EQ(rc_live_objects(h), before - 3); /* outer, with_list and l */

    /* a tuple untracked by hand is not atomic for that: what holds it is
     * tracked, so a cycle through it, once it is tracked again, is found */
    void *l2 = rc_list_new(h, 0);
    void *by_hand = rc_tuple_pack(h, 1, l2);
    rc_gc_untrack(by_hand);
    void *holder = rc_tuple_pack(h, 1, by_hand);
    void *dh = rc_dict_new(h);
    CHECK_EQ(rc_dict_set(dh, one, by_hand), RC_OK);
    CHECK(rc_gc_is_tracked(holder));
    CHECK(rc_gc_is_tracked(dh));
    rc_gc_track(by_hand);
    rc_list_append(l2, dh); /* l2 -> dh -> by_hand -> l2 */
    rc_decref(holder);
    rc_decref(dh);
    rc_decref(by_hand);
    rc_decref(l2);
    CHECK_EQ(rc_gc_collect(h, 2), 3);

    rc_decref(from);
    rc_decref(with_loose);
    rc_decref(loose);
    rc_decref(nested);
    rc_decref(atomic);
    rc_decref(s);
    rc_decref(one);
    CHECK_EQ(rc_live_objects_of(h, &rc_tuple_type), 1); /* the immortal empty tuple */
    CHECK_EQ(rc_live_objects_of(h, &rc_list_type), 0);
    rc_heap_destroy(h);
}

static void test_print_nested(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    void *l = rc_list_new(h, 0);
    rc_list_append_steal(l, rc_int_new(h, 1));
    rc_list_append_steal(l, rc_float_new(h, 2.5));
    rc_list_append(l, l); /* a list containing itself */
    CHECK_REPR(l, "[1, 2.5, [...]]");
    void *t = rc_tuple_pack(h, 2, l, l);
    CHECK_REPR(t, "([1, 2.5, [...]], [1, 2.5, [...]])");
    rc_decref(t);
    rc_list_clear(l); /* break the cycle (no collector yet) */
    /* deep nesting is cut at 64 levels */
    void *deep = rc_list_new(h, 0), *cur = deep;
    for (int i = 0; i < 100; i++) {
        void *next = rc_list_new(h, 0);
        rc_list_append_steal(cur, next);
        cur = next;
    }
    const char *r = types_repr(deep);
    CHECK_STR_CONTAINS(r, "...");
    CHECK_LT(strlen(r), 200);
    rc_decref(deep);
    rc_decref(l);
    CHECK_EQ(rc_live_objects_of(h, &rc_list_type), 0);
    rc_heap_destroy(h);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_tuple_basics);
    RUN_TEST(test_tuple_hashability);
    RUN_TEST(test_deep_equality);
    RUN_TEST(test_list_basics);
    RUN_TEST(test_list_growth_and_sizeof);
    RUN_TEST(test_list_clear_reentrancy);
    RUN_TEST(test_gc_clear);
    RUN_TEST(test_atomic_tuples_untracked);
    RUN_TEST(test_print_nested);
    return check_summary();
}
