/*
 * Scale: 100,000-entry dicts and lists, and structures nested 1,000,000 deep
 * freed by a single rc_decref in constant C stack (the object layer defers
 * deallocations past RC_DEALLOC_DEPTH).  Not run under valgrind (too slow).
 */
#include "types_test.h"

#include <rcgc/gc.h>

enum { BIG = 100000, DEEP = 1000000 };

static void test_big_list(void) {
    rc_heap *h = types_heap(RC_MODE_POOL);
    void *l = rc_list_new(h, 0);
    size_t reallocs = 0, last = 0;
    for (int i = 0; i < BIG; i++) {
        void *v = rc_int_new(h, i);
        if (rc_list_append(l, v) != RC_OK)
            break;
        rc_decref(v);
        if (rc_list_capacity(l) != last) {
            reallocs++;
            last = rc_list_capacity(l);
        }
    }
    CHECK_EQ(rc_list_size(l), BIG);
    CHECK_LT(reallocs, 100); /* geometric growth: amortised O(1) appends */
    int bad = 0;
    for (int i = 0; i < BIG; i++)
        bad += rc_int_value(rc_list_get(l, i)) != i;
    CHECK_EQ(bad, 0);
    CHECK_EQ(rc_int_value(rc_list_get(l, -1)), BIG - 1);
    CHECK_EQ(rc_sizeof(l), GCHDR + LIST_FIXED + rc_list_capacity(l) * SLOT);
    /* pop them all from the end */
    for (int i = BIG - 1; i >= 0; i--) {
        void *v = rc_list_pop(l, -1);
        bad += rc_int_value(v) != i;
        rc_decref(v);
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(rc_list_capacity(l), 0);
    rc_decref(l);
    CHECK_EQ(rc_live_objects_of(h, &rc_int_type), 257); /* the cached 0..256 */
    rc_heap_destroy(h);
}

static void test_big_dict(void) {
    rc_heap *h = types_heap(RC_MODE_POOL);
    void *d = rc_dict_new(h);
    char buf[32];
    for (int i = 0; i < BIG; i++) {
        void *k = rc_int_new(h, (int64_t)i * 2654435761u);
        snprintf(buf, sizeof buf, "v%d", i);
        rc_dict_set_steal(d, k, rc_str_from_cstr(h, buf));
    }
    CHECK_EQ(rc_dict_size(d), BIG);
    int bad = 0;
    for (int i = 0; i < BIG; i++) {
        void *k = rc_int_new(h, (int64_t)i * 2654435761u);
        snprintf(buf, sizeof buf, "v%d", i);
        bad += !rc_str_equal_cstr(rc_dict_get(d, k), buf);
        /* the same key as a float finds the same entry */
        void *f = rc_float_new(h, (double)((int64_t)i * 2654435761u));
        bad += rc_dict_get(d, f) != rc_dict_get(d, k);
        rc_decref(f);
        rc_decref(k);
    }
    CHECK_EQ(bad, 0);
    /* iteration in insertion order */
    size_t pos = 0;
    void *k;
    int i = 0;
    while (rc_dict_next(d, &pos, &k, NULL))
        bad += rc_int_value(k) != (int64_t)(i++) * 2654435761u;
    CHECK_EQ(i, BIG);
    CHECK_EQ(bad, 0);
    /* delete the odd ones, then check the rest */
    for (int j = 1; j < BIG; j += 2) {
        void *key = rc_int_new(h, (int64_t)j * 2654435761u);
        bad += rc_dict_del(d, key) != RC_OK;
        rc_decref(key);
    }
    CHECK_EQ(rc_dict_size(d), BIG / 2);
    for (int j = 0; j < BIG; j++) {
        void *key = rc_int_new(h, (int64_t)j * 2654435761u);
        bad += (rc_dict_get(d, key) != NULL) != (j % 2 == 0);
        rc_decref(key);
    }
    CHECK_EQ(bad, 0);
    /* str keys */
    void *sd = rc_dict_new(h);
    for (int j = 0; j < BIG; j++) {
        snprintf(buf, sizeof buf, "key-%d", j);
        void *v = rc_int_new(h, j);
        bad += rc_dict_set_str(sd, buf, v) != RC_OK;
        rc_decref(v);
    }
    for (int j = 0; j < BIG; j++) {
        snprintf(buf, sizeof buf, "key-%d", j);
        bad += rc_int_value(rc_dict_get_str(sd, buf)) != j;
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(rc_dict_size(sd), BIG);
    /* 100,000 entries: 262,144 slots of 4 bytes, 174,762 entries */
    CHECK_EQ(rc_sizeof(sd), GCHDR + DICT_FIXED + 262144 * 4 + 174762 * DICT_ENTRY);
    rc_decref(sd);
    rc_decref(d);
    CHECK_EQ(rc_live_objects_of(h, &rc_dict_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_float_type), 0);
    rc_heap_destroy(h);
}

/* [[[[...]]]] nested a million deep, freed by one rc_decref. */
static void test_deep_lists(void) {
    rc_heap *h = types_heap(RC_MODE_POOL);
    rc_gc_disable(h);
    void *outer = rc_list_new(h, 0), *cur = outer;
    for (int i = 0; i < DEEP; i++) {
        void *next = rc_list_new(h, 0);
        if (rc_list_append_steal(cur, next) != RC_OK)
            break;
        cur = next;
    }
    CHECK_EQ(rc_live_objects_of(h, &rc_list_type), DEEP + 1);
    rc_decref(outer);
    CHECK_EQ(rc_live_objects_of(h, &rc_list_type), 0);
    CHECK_EQ(rc_live_objects(h), 0);
    rc_heap_destroy(h);
}

/* The same with automatic collection on: the collector walks the chain. */
static void test_deep_lists_gc(void) {
    rc_heap *h = types_heap(RC_MODE_POOL);
    void *outer = rc_list_new(h, 0), *cur = outer;
    for (int i = 0; i < DEEP; i++) {
        void *next = rc_list_new(h, 0);
        if (rc_list_append_steal(cur, next) != RC_OK)
            break;
        cur = next;
    }
    rc_gc_collect(h, 2);
    CHECK_EQ(rc_live_objects_of(h, &rc_list_type), DEEP + 1);
    rc_decref(outer);
    CHECK_EQ(rc_live_objects_of(h, &rc_list_type), 0);
    rc_heap_destroy(h);
}

/* Deep chains through dicts, tuples and instances. */
static void test_deep_mixed(void) {
    rc_heap *h = types_heap(RC_MODE_POOL);
    rc_gc_disable(h);
    void *C = rc_class_new(h, "Node", NULL);
    void *head = rc_tuple_pack(h, 0);
    for (int i = 0; i < DEEP; i++) {
        void *next;
        switch (i % 3) {
        case 0:
            next = rc_dict_new(h);
            rc_dict_set_str(next, "next", head);
            break;
        case 1:
            next = rc_instance_new(h, C);
            rc_instance_setattr(next, "next", head);
            break;
        default:
            next = rc_tuple_pack(h, 1, head);
            break;
        }
        rc_decref(head);
        head = next;
    }
    CHECK_GE(rc_live_objects(h), DEEP);
    rc_decref(head);
    CHECK_EQ(rc_live_objects_of(h, &rc_dict_type), 1); /* the class's dict */
    CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_tuple_type), 1); /* the empty tuple */
    rc_decref(C);
    rc_heap_destroy(h);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_big_list);
    RUN_TEST(test_big_dict);
    RUN_TEST(test_deep_lists);
    RUN_TEST(test_deep_lists_gc);
    RUN_TEST(test_deep_mixed);
    return check_summary();
}
