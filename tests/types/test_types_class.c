/*
 * class and instance: the seed's example (class A with __del__), attributes,
 * resurrection, errors, and cycles through the built-in containers broken
 * by the cycle collector with the types' traverse and clear.
 */
#include "types_test.h"
#include "../testutil.h"

#include <rcgc/gc.h>

static char g_log[1024];

static void log_msg(const char *m) {
    size_t n = strlen(g_log);
    snprintf(g_log + n, sizeof g_log - n, "%s;", m);
}

/* class A:
 *     def __del__(self):
 *         print("Object A is being deleted") */
static void a_del(void *self) {
    (void)self;
    log_msg("Object A is being deleted");
}

static void test_seed_example(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    g_log[0] = '\0';
    void *A = rc_class_new(h, "A", a_del);
    if (!CHECK_NOT_NULL(A))
        return;
    void *a = rc_instance_new(h, A); /* a = A(): refcount 1 */
    CHECK_EQ(rc_refcount(a), 1);
    void *b = a;                     /* b = a: refcount 2 */
    rc_incref(b);
    CHECK_EQ(rc_refcount(a), 2);
    rc_decref(a);                    /* del a: refcount 1, nothing printed */
    a = NULL;
    CHECK_EQ(rc_refcount(b), 1);
    CHECK_EQ(strlen(g_log), 0);
    CHECK(!rc_is_finalized(b));
    rc_decref(b);                    /* del b: refcount 0, the finalizer runs */
    CHECK(strcmp(g_log, "Object A is being deleted;") == 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 0);
    rc_decref(A);
    CHECK_EQ(rc_live_objects_of(h, &rc_class_type), 0);
    rc_heap_destroy(h);
}

/* The finalizer sees the instance whole: class and attributes. */
static void *g_seen_attr;
static void check_whole(void *self) {
    CHECK(rc_is_instance(self));
    CHECK_NOT_NULL(rc_instance_class(self));
    g_seen_attr = rc_instance_getattr(self, "name");
    CHECK(rc_str_equal_cstr(g_seen_attr, "bob"));
    log_msg("whole");
}

static void test_attributes(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    g_log[0] = '\0';
    void *P = rc_class_new(h, "Person", check_whole);
    CHECK(rc_is_class(P));
    CHECK(!rc_is_instance(P));
    CHECK(strcmp(rc_class_name(P), "Person") == 0);
    CHECK_REPR(P, "<class 'Person'>");
    void *cd = rc_class_dict(P);
    CHECK(rc_is_dict(cd));
    void *species = rc_str_literal(h, "human");
    CHECK_EQ(rc_dict_set_str(cd, "species", species), RC_OK);
    void *p = rc_instance_new(h, P);
    CHECK(rc_is_instance(p));
    CHECK_PTR_EQ(rc_instance_class(p), P);
    CHECK_EQ(rc_refcount(P), 2);
    CHECK(rc_is_dict(rc_instance_dict(p)));
    CHECK_EQ(rc_sizeof(p), GCHDR + INSTANCE_FIXED);
    CHECK_STR_CONTAINS(types_repr(p), "<Person object at 0x");
    /* set, get, class fallback, shadowing, delete */
    void *bob = rc_str_from_cstr(h, "bob");
    CHECK_EQ(rc_instance_setattr(p, "name", bob), RC_OK);
    CHECK_EQ(rc_refcount(bob), 2);
    CHECK_PTR_EQ(rc_instance_getattr(p, "name"), bob);
    CHECK_PTR_EQ(rc_instance_getattr(p, "species"), species); /* from the class */
    CHECK_NULL(rc_instance_getattr(p, "age"));
    void *robot = rc_str_from_cstr(h, "robot");
    CHECK_EQ(rc_instance_setattr(p, "species", robot), RC_OK);
    CHECK_PTR_EQ(rc_instance_getattr(p, "species"), robot);
    CHECK_EQ(rc_instance_delattr(p, "species"), RC_OK);
    CHECK_PTR_EQ(rc_instance_getattr(p, "species"), species);
    CHECK_EQ(rc_instance_delattr(p, "species"), RC_EKEY); /* the class's is not deleted */
    CHECK_EQ(rc_instance_delattr(p, "age"), RC_EKEY);
    CHECK_EQ(rc_dict_size(rc_instance_dict(p)), 1);
    /* replacing an attribute drops the old value */
    void *age1 = rc_int_new(h, 1041), *age2 = rc_int_new(h, 1042);
    rc_instance_setattr(p, "age", age1);
    rc_instance_setattr(p, "age", age2);
    CHECK_EQ(rc_refcount(age1), 1);
    /* errors */
    void *n = rc_int_new(h, 5);
    CHECK_EQ(rc_instance_setattr(n, "x", n), RC_ETYPE);
    CHECK_EQ(rc_instance_setattr(P, "x", n), RC_ETYPE); /* a class is not an instance */
    CHECK_EQ(rc_instance_setattr(p, NULL, n), RC_EINVAL);
    CHECK_EQ(rc_instance_setattr(p, "x", NULL), RC_EINVAL);
    CHECK_EQ(rc_instance_setattr(NULL, "x", n), RC_EINVAL);
    CHECK_EQ(rc_instance_setattr(p, "\xc0\xaf", n), RC_EINVAL);
    CHECK_EQ(rc_instance_delattr(n, "x"), RC_ETYPE);
    CHECK_EQ(rc_instance_delattr(p, NULL), RC_EINVAL);
    CHECK_NULL(rc_instance_getattr(n, "x"));
    CHECK_NULL(rc_instance_getattr(p, NULL));
    CHECK_NULL(rc_instance_class(n));
    CHECK_NULL(rc_instance_dict(n));
    CHECK_NULL(rc_class_name(n));
    CHECK_NULL(rc_class_dict(p));
    CHECK_NULL(rc_instance_new(h, n));   /* not a class */
    CHECK_NULL(rc_instance_new(h, p));
    CHECK_NULL(rc_instance_new(NULL, P));
    CHECK_NULL(rc_class_new(h, NULL, NULL));
    CHECK_NULL(rc_class_new(h, "\xff", NULL));
    CHECK_NULL(rc_class_new(NULL, "X", NULL));
    rc_heap *other = types_heap(RC_MODE_POOL);
    CHECK_NULL(rc_instance_new(other, P)); /* a class of another heap */
    rc_heap_destroy(other);
    /* death: the finalizer sees the attributes, then they are dropped */
    rc_decref(p);
    CHECK(strcmp(g_log, "whole;") == 0);
    CHECK_EQ(rc_refcount(bob), 1);
    CHECK_EQ(rc_refcount(P), 1);
    CHECK_EQ(rc_refcount(age2), 1);
    rc_decref(P);
    rc_decref(bob);
    rc_decref(robot);
    rc_decref(age1);
    rc_decref(age2);
    CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_class_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_dict_type), 0);
    rc_heap_destroy(h);
}

/* A finalizer that resurrects its instance: it runs once only. */
static void *g_saved;
static int g_del_runs;
static void resurrect(void *self) {
    g_del_runs++;
    rc_incref(self);
    g_saved = self;
}

static void test_resurrection(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    void *C = rc_class_new(h, "Phoenix", resurrect);
    void *x = rc_instance_new(h, C);
    rc_instance_setattr(x, "v", C);
    g_del_runs = 0;
    rc_decref(x);
    CHECK_EQ(g_del_runs, 1);
    CHECK_PTR_EQ(g_saved, x);
    CHECK(rc_is_finalized(x));
    CHECK_PTR_EQ(rc_instance_getattr(x, "v"), C); /* alive and whole */
    rc_decref(g_saved); /* second death: no finalizer */
    CHECK_EQ(g_del_runs, 1);
    CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 0);
    CHECK_EQ(rc_refcount(C), 1);
    rc_decref(C);
    rc_heap_destroy(h);
}

/* A class without a finalizer; many instances. */
static void test_no_finalizer(void) {
    rc_heap *h = types_heap(RC_MODE_POOL);
    void *C = rc_class_new(h, "Plain", NULL);
    void *l = rc_list_new(h, 0);
    for (int i = 0; i < 1000; i++) {
        void *o = rc_instance_new(h, C);
        void *v = rc_int_new(h, i);
        rc_instance_setattr(o, "i", v);
        rc_decref(v);
        rc_list_append_steal(l, o);
    }
    CHECK_EQ(rc_refcount(C), 1001);
    CHECK_EQ(rc_int_value(rc_instance_getattr(rc_list_get(l, 500), "i")), 500);
    rc_decref(l);
    CHECK_EQ(rc_refcount(C), 1);
    CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 0);
    rc_decref(C);
    rc_heap_destroy(h);
}

/* ---- Cycles, broken by the collector through traverse and clear ---------------- */

static void test_cycles_collected(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    rc_gc_disable(h);
    g_log[0] = '\0';
    /* the seed: a['ref'] = b; b['ref'] = a */
    void *a = rc_dict_new(h), *b = rc_dict_new(h);
    rc_dict_set_str(a, "ref", b);
    rc_dict_set_str(b, "ref", a);
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(rc_live_objects_of(h, &rc_dict_type), 2); /* reference counting alone leaks them */
    /* a list containing itself, a tuple in a cycle through a list */
    void *l = rc_list_new(h, 0);
    rc_list_append(l, l);
    void *m = rc_list_new(h, 0);
    void *t = rc_tuple_pack(h, 2, m, m);
    rc_list_append(m, t);
    rc_decref(t);
    rc_decref(m);
    rc_decref(l);
    /* an instance with a finalizer in a cycle with its class's dict */
    void *A = rc_class_new(h, "A", a_del);
    void *x = rc_instance_new(h, A);
    rc_instance_setattr(x, "self", x);
    rc_dict_set_str(rc_class_dict(A), "last", x);
    rc_decref(x);
    rc_decref(A);
    CHECK_EQ(strlen(g_log), 0);
    size_t before = rc_live_objects(h);
    intptr_t found = rc_gc_collect(h, 2);
    CHECK_GE(found, 2 + 1 + 2 + 4);
    CHECK(strcmp(g_log, "Object A is being deleted;") == 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_dict_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_list_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_class_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &rc_tuple_type), 0);
    CHECK_LT(rc_live_objects(h), before);
    CHECK_EQ(rc_gc_garbage_count(h), 0);
    /* reachable structures are left alone */
    void *keep = rc_list_new(h, 0);
    rc_list_append(keep, keep);
    rc_list_append_steal(keep, rc_int_new(h, 12345));
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    CHECK_EQ(rc_list_size(keep), 2);
    rc_list_clear(keep);
    rc_decref(keep);
    CHECK_EQ(rc_live_objects_of(h, &rc_list_type), 0);
    rc_heap_destroy(h);
}

/* Automatic collection (enabled by default) runs inside the constructors:
 * they must leave nothing half-made for it to see. */
static void test_automatic_collection(void) {
    rc_heap *h = types_heap(RC_MODE_POOL);
    rc_gc_set_threshold(h, 10, 2, 2);
    void *C = rc_class_new(h, "Node", NULL);
    void *root = rc_list_new(h, 0);
    for (int i = 0; i < 5000; i++) {
        /* garbage cycles and live data interleaved */
        void *x = rc_instance_new(h, C);
        void *y = rc_instance_new(h, C);
        rc_instance_setattr(x, "peer", y);
        rc_instance_setattr(y, "peer", x);
        void *t = rc_tuple_pack(h, 2, x, y);
        rc_decref(x);
        rc_decref(y);
        if (i % 10 == 0)
            rc_list_append(root, t);
        rc_decref(t);
    }
    rc_gc_collect(h, 2);
    CHECK_EQ(rc_live_objects_of(h, &rc_tuple_type), 500);
    CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 1000);
    void *t = rc_list_get(root, 7);
    void *x = rc_tuple_get(t, 0);
    CHECK_PTR_EQ(rc_instance_getattr(x, "peer"), rc_tuple_get(t, 1));
    rc_decref(root);
    rc_gc_collect(h, 2);
    CHECK_EQ(rc_live_objects_of(h, &rc_instance_type), 0);
    rc_decref(C);
    rc_heap_destroy(h);
}

/* The built-in containers that hand the collector their references as an
 * array (rc_type.refs) hand over exactly what traverse visits, in order
 * (NULL entries aside). */
static void check_refs_agree(void *o) {
    const rc_type *t = rc_type_of(o);
    if (!CHECK_NOT_NULL(t->refs))
        return;
    test_visits by_traverse = {{0}, 0}, by_refs = {{0}, 0};
    rc_traverse(o, test_visit_record, &by_traverse);
    rc_refs r = t->refs(o);
    for (size_t i = 0; i < r.n; i++)
        if (r.items[i])
            test_visit_record(r.items[i], &by_refs);
    if (!CHECK_EQ(by_refs.n, by_traverse.n))
        return;
    for (size_t i = 0; i < by_refs.n && i < TEST_VISITS_MAX; i++)
        CHECK_PTR_EQ(by_refs.seen[i], by_traverse.seen[i]);
}

static void test_refs_agree_with_traverse(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    void *cls = rc_class_new(h, "Point", NULL);
    void *p = rc_instance_new(h, cls);
    if (!CHECK_NOT_NULL(p))
        return;
    void *one = rc_int_new(h, 1);
    void *l = rc_list_new(h, 0);
    rc_list_append(l, one);
    rc_list_append(l, p);
    void *t = rc_tuple_pack(h, 3, one, l, cls);
    check_refs_agree(cls);
    check_refs_agree(p);
    check_refs_agree(l);
    check_refs_agree(t);
    rc_type_of(p)->clear(p); /* emptied, still two references */
    check_refs_agree(p);
    rc_decref(t);
    rc_decref(l);
    rc_decref(one);
    rc_decref(p);
    rc_decref(cls);
    rc_gc_collect(h, 2);
    rc_heap_destroy(h);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_seed_example);
    RUN_TEST(test_attributes);
    RUN_TEST(test_resurrection);
    RUN_TEST(test_no_finalizer);
    RUN_TEST(test_cycles_collected);
    RUN_TEST(test_automatic_collection);
    RUN_TEST(test_refs_agree_with_traverse);
    return check_summary();
}
