/*
 * test_gc_types.c — the collector with the built-in types (rcgc/types.h):
 * the shapes of test_gc.py written with lists, dicts, tuples, classes and
 * instances, whose traverse and clear come from the types layer.
 *
 * test_gc.py counterparts: test_list, test_dict, test_tuple, test_class,
 * test_newinstance, test_instance, test_method, test_function,
 * test_get_referents, test_is_tracked, test_is_finalized, test_saveall,
 * test_del, test_trashcan, test_get_count, test_collect_generations,
 * test_get_objects, test_freeze, test_resurrection_* with instances,
 * test_bug1055820b/c/d, and the seed's `a['ref'] = b; b['ref'] = a`.
 *
 * Interned strings and small ints are immortal objects that count in
 * rc_live_objects; checks compare with a baseline taken after they exist.
 */
#include "gctest.h"

#include <rcgc/types.h>

/* A heap with the literals and small ints the tests use already made. */
static rc_heap *types_heap(void) {
    rc_heap *h = gct_heap();
    static const char *names[] = {"ref", "a",    "loop",    "i",        "init", "f",
                                  "keep", "attr", "x",       "l",        "A",    "Lazarus",
                                  "Z",   "Ouch", "C1055820", "D"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        rc_decref(rc_str_literal(h, names[i]));
    for (int i = -5; i <= 256; i++)
        rc_decref(rc_int_new(h, i));
    rc_decref(rc_tuple_from(h, 0, NULL)); /* the empty tuple */
    return h;
}

#define END_TYPES_HEAP(h, base)                                 \
    do {                                                        \
        rc_gc_garbage_clear(h);                                 \
        rc_gc_collect(h, 2);                                    \
        CHECK_EQ(rc_live_objects(h), (base));                   \
        CHECK_EQ(gct_heap_errors, 0);                           \
        rc_heap_destroy(h);                                     \
    } while (0)

/* ---- The cycles of test_gc.py ----------------------------------------------------------------- */

/* The seed: a['ref'] = b; b['ref'] = a leaks under refcounting alone;
 * collect(2) finds the two dicts. */
static void test_seed_dict_cycle(void) {
    rc_heap *h = types_heap();
    rc_gc_disable(h);
    size_t base = rc_live_objects(h);
    void *a = rc_dict_new(h), *b = rc_dict_new(h);
    CHECK_EQ(rc_dict_set_str(a, "ref", b), RC_OK);
    CHECK_EQ(rc_dict_set_str(b, "ref", a), RC_OK);
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(rc_live_objects(h), base + 2);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    CHECK_EQ(rc_live_objects(h), base);
    END_TYPES_HEAP(h, base);
}

static void test_list_self(void) {
    rc_heap *h = types_heap();
    rc_gc_disable(h);
    size_t base = rc_live_objects(h);
    void *l = rc_list_new(h, 0);
    rc_list_append(l, l);
    rc_gc_collect(h, 2);
    rc_decref(l);
    CHECK_EQ(rc_gc_collect(h, 2), 1);
    END_TYPES_HEAP(h, base);
}

static void test_dict_self(void) {
    rc_heap *h = types_heap();
    rc_gc_disable(h);
    size_t base = rc_live_objects(h);
    void *d = rc_dict_new(h);
    void *one = rc_int_new(h, 1);
    CHECK_EQ(rc_dict_set(d, one, d), RC_OK);
    rc_decref(one);
    rc_gc_collect(h, 2);
    rc_decref(d);
    CHECK_EQ(rc_gc_collect(h, 2), 1);
    END_TYPES_HEAP(h, base);
}

/* test_tuple: tuples are immutable, so the loop is closed with a list. */
static void test_tuple_list(void) {
    rc_heap *h = types_heap();
    rc_gc_disable(h);
    size_t base = rc_live_objects(h);
    void *l = rc_list_new(h, 0);
    void *t = rc_tuple_pack(h, 1, l);
    rc_list_append(l, t);
    rc_gc_collect(h, 2);
    rc_decref(t);
    rc_decref(l);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    END_TYPES_HEAP(h, base);
}

/* An empty list has no item block: its rc_refs is {NULL, 0}, which rc_refs
 * allows.  The collector's first pass read the references as the range
 * [items, items + n) and so added 0 to a null pointer, which is undefined
 * (clang's UBSan reports it; make ubsan CMAKE_ARGS=-DCMAKE_C_COMPILER=clang).
 * Empty lists reachable and unreachable, in a young and a full collection. */
static void test_empty_lists_collected(void) {
    rc_heap *h = types_heap();
    rc_gc_disable(h);
    size_t base = rc_live_objects(h);
    void *keep = rc_list_new(h, 0);
    void *l = rc_list_new(h, 0), *empty = rc_list_new(h, 0);
    CHECK_EQ(rc_list_append(l, l), RC_OK);
    CHECK_EQ(rc_list_append(l, empty), RC_OK);
    rc_decref(empty);
    rc_decref(l);
    CHECK_EQ(rc_gc_collect(h, 0), 2);
    CHECK_EQ(rc_list_size(keep), 0);
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    rc_decref(keep);
    END_TYPES_HEAP(h, base);
}

/* A collection that frees a class or an instance leaves alone an attribute
 * dict the program still holds, as Python keeps d = obj.__dict__ when obj is
 * collected: clear emptied the dict whoever held it, and the program's dict
 * lost its entries.  Which garbage object the collector clears first (the
 * others then die by reference counting, without a clear) depends on list
 * order, so each shape runs twice: as is, and with the class moved to
 * generation 1 first, which puts the instance ahead of it. */
static void test_held_instance_dict_survives(void) {
    for (int young = 0; young < 2; young++) {
        rc_heap *h = types_heap();
        rc_gc_disable(h);
        size_t base = rc_live_objects(h);
        void *A = rc_class_new(h, "A", NULL);
        if (young)
            rc_gc_collect(h, 0);
        void *i = rc_instance_new(h, A);
        void *d = rc_instance_dict(i);
        rc_incref(d); /* d = i.__dict__ */
        void *v = rc_int_new(h, 4000);
        CHECK_EQ(rc_instance_setattr(i, "x", v), RC_OK);
        CHECK_EQ(rc_dict_set_str(rc_class_dict(A), "i", i), RC_OK); /* A.i = i: a cycle */
        rc_decref(A);
        rc_decref(i);
        CHECK_EQ(rc_gc_collect(h, 2), 3); /* i, A and A.__dict__ */
        CHECK_EQ(rc_dict_size(d), 1);
        CHECK_PTR_EQ(rc_dict_get_str(d, "x"), v);
        CHECK_EQ(rc_refcount(v), 2);
        rc_decref(v);
        rc_decref(d);
        END_TYPES_HEAP(h, base);
    }
}

static void test_held_class_dict_survives(void) {
    for (int young = 0; young < 2; young++) {
        rc_heap *h = types_heap();
        rc_gc_disable(h);
        size_t base = rc_live_objects(h);
        void *A = rc_class_new(h, "A", NULL);
        void *d = rc_class_dict(A);
        rc_incref(d); /* d = A.__dict__ */
        void *v = rc_int_new(h, 4000);
        CHECK_EQ(rc_dict_set_str(d, "x", v), RC_OK);
        if (young)
            rc_gc_collect(h, 0);
        void *j = rc_instance_new(h, A);
        CHECK_EQ(rc_instance_setattr(j, "ref", j), RC_OK); /* j.ref = j: a cycle */
        rc_decref(A);
        rc_decref(j);
        CHECK_EQ(rc_gc_collect(h, 2), 3); /* j, j.__dict__ and A */
        CHECK_EQ(rc_dict_size(d), 1);
        CHECK_PTR_EQ(rc_dict_get_str(d, "x"), v);
        CHECK_EQ(rc_refcount(v), 2);
        rc_decref(v);
        rc_decref(d);
        END_TYPES_HEAP(h, base);
    }
}

/* test_class: A.a = A. */
static void test_class_self(void) {
    rc_heap *h = types_heap();
    rc_gc_disable(h);
    size_t base = rc_live_objects(h);
    void *A = rc_class_new(h, "A", NULL);
    CHECK_EQ(rc_dict_set_str(rc_class_dict(A), "a", A), RC_OK);
    rc_gc_collect(h, 2);
    rc_decref(A);
    CHECK_EQ(rc_gc_collect(h, 2), 2); /* the class and its dict */
    END_TYPES_HEAP(h, base);
}

/* test_instance: a.a = a (the class survives: we hold it). */
static void test_instance_self(void) {
    rc_heap *h = types_heap();
    rc_gc_disable(h);
    void *A = rc_class_new(h, "A", NULL);
    size_t base = rc_live_objects(h);
    void *a = rc_instance_new(h, A);
    CHECK_EQ(rc_instance_setattr(a, "a", a), RC_OK);
    rc_gc_collect(h, 2);
    rc_decref(a);
    CHECK_EQ(rc_gc_collect(h, 2), 2); /* the instance and its dict */
    CHECK_EQ(rc_live_objects(h), base);
    CHECK(rc_is_class(A));
    rc_decref(A);
    END_TYPES_HEAP(h, base - 2);
}

/* test_newinstance: A.a = A() — instance -> class -> class dict -> instance. */
static void test_class_holding_instance(void) {
    rc_heap *h = types_heap();
    rc_gc_disable(h);
    size_t base = rc_live_objects(h);
    void *A = rc_class_new(h, "A", NULL);
    void *x = rc_instance_new(h, A);
    rc_dict_set_str(rc_class_dict(A), "a", x);
    rc_decref(x);
    rc_decref(A);
    /* the class, its dict and the instance; the instance's dict is empty,
     * so untracked (as in CPython): it dies with the instance, uncounted */
    CHECK_EQ(rc_gc_collect(h, 2), 3);
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    END_TYPES_HEAP(h, base);
}

/* test_method: self.init = <bound method> — a tuple (self,) stands for
 * the bound method. */
static void test_method_like(void) {
    rc_heap *h = types_heap();
    rc_gc_disable(h);
    void *A = rc_class_new(h, "A", NULL);
    size_t base = rc_live_objects(h);
    void *a = rc_instance_new(h, A);
    void *bound = rc_tuple_pack(h, 1, a);
    rc_instance_setattr(a, "init", bound);
    rc_decref(bound);
    rc_gc_collect(h, 2);
    rc_decref(a);
    CHECK_EQ(rc_gc_collect(h, 2), 3);
    rc_decref(A);
    END_TYPES_HEAP(h, base - 2);
}

/* test_function: f -> globals dict -> f. */
static void test_function_like(void) {
    rc_heap *h = types_heap();
    rc_gc_disable(h);
    size_t base = rc_live_objects(h);
    void *d = rc_dict_new(h);
    void *f = rc_tuple_pack(h, 1, d);
    rc_dict_set_str(d, "f", f);
    rc_decref(f);
    rc_gc_collect(h, 2);
    rc_decref(d);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    END_TYPES_HEAP(h, base);
}

/* Reachable structures survive whole, with their contents intact. */
static void test_reachable_types_survive(void) {
    rc_heap *h = types_heap();
    rc_gc_disable(h);
    size_t base = rc_live_objects(h);
    void *root = rc_dict_new(h);
    void *l = rc_list_new(h, 0);
    for (int i = 0; i < 100; i++)
        rc_list_append_steal(l, rc_int_new(h, 1000 + i));
    rc_list_append(l, l);
    rc_list_append(l, root);
    rc_dict_set_str(root, "l", l);
    rc_decref(l);
    /* garbage alongside */
    void *g = rc_list_new(h, 0);
    rc_list_append(g, g);
    rc_decref(g);
    CHECK_EQ(rc_gc_collect(h, 2), 1);
    void *l2 = rc_dict_get_str(root, "l");
    CHECK_PTR_EQ(l2, l);
    CHECK_EQ(rc_list_size(l2), 102);
    CHECK_EQ(rc_int_value(rc_list_get(l2, 50)), 1050);
    CHECK_PTR_EQ(rc_list_get(l2, 100), l2);
    rc_decref(root);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    END_TYPES_HEAP(h, base);
}

/* ---- Introspection ---------------------------------------------------------------------------- */

typedef struct ints {
    int64_t v[16];
    size_t n;
} ints;

static void add_int(void *o, void *arg) {
    ints *s = arg;
    if (s->n < 16)
        s->v[s->n++] = rc_is_int(o) ? rc_int_value(o) : -999;
}

static void sort_ints(ints *s) {
    for (size_t i = 1; i < s->n; i++)
        for (size_t j = i; j > 0 && s->v[j - 1] > s->v[j]; j--) {
            int64_t t = s->v[j];
            s->v[j] = s->v[j - 1];
            s->v[j - 1] = t;
        }
}

static void test_get_referents_types(void) {
    rc_heap *h = types_heap();
    rc_decref(rc_str_literal(h, "box")); /* interned keys live on: count them in base */
    size_t base = rc_live_objects(h);
    void *alist = rc_list_new(h, 0);
    int64_t vals[] = {1, 3, 5};
    for (int i = 0; i < 3; i++)
        rc_list_append_steal(alist, rc_int_new(h, vals[i]));
    ints got = {{0}, 0};
    rc_gc_get_referents(alist, add_int, &got);
    sort_ints(&got);
    CHECK_EQ(got.n, 3);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(got.v[i], vals[i]);
    void *atuple = rc_tuple_pack(h, 3, rc_list_get(alist, 0), rc_list_get(alist, 1),
                                 rc_list_get(alist, 2));
    got.n = 0;
    rc_gc_get_referents(atuple, add_int, &got);
    sort_ints(&got);
    CHECK_EQ(got.n, 3);
    CHECK_EQ(got.v[0] + got.v[1] * 10 + got.v[2] * 100, 1 + 30 + 500);
    void *adict = rc_dict_new(h);
    rc_dict_set_steal(adict, rc_int_new(h, 1), rc_int_new(h, 3));
    rc_dict_set_steal(adict, rc_int_new(h, 5), rc_int_new(h, 7));
    got.n = 0;
    rc_gc_get_referents(adict, add_int, &got);
    sort_ints(&got);
    CHECK_EQ(got.n, 4);
    CHECK_EQ(got.v[0], 1);
    CHECK_EQ(got.v[1], 3);
    CHECK_EQ(got.v[2], 5);
    CHECK_EQ(got.v[3], 7);
    /* atoms have no referents */
    got.n = 0;
    void *s = rc_str_from_cstr(h, "a string");
    void *fl = rc_float_new(h, 4.5);
    rc_gc_get_referents(rc_list_get(alist, 0), add_int, &got);
    rc_gc_get_referents(s, add_int, &got);
    rc_gc_get_referents(fl, add_int, &got);
    CHECK_EQ(got.n, 0);
    /* get_referrers finds the containers holding an object */
    void *x = rc_str_from_cstr(h, "needle");
    void *holder1 = rc_list_new(h, 0), *holder2 = rc_dict_new(h), *atomic = rc_dict_new(h);
    void *box = rc_list_new(h, 0);
    rc_list_append(holder1, x);
    rc_dict_set_str(holder2, "x", x);
    rc_dict_set_str(holder2, "box", box); /* a container value: holder2 is tracked */
    rc_dict_set_str(atomic, "x", x);      /* atomic values only: untracked, not listed */
    void *objs[] = {x};
    ints who = {{0}, 0};
    rc_gc_get_referrers(h, objs, 1, add_int, &who); /* counts calls (non-ints) */
    CHECK_EQ(who.n, 2);
    rc_decref(atomic);
    rc_decref(box);
    rc_decref(holder1);
    rc_decref(holder2);
    rc_decref(x);
    rc_decref(s);
    rc_decref(fl);
    rc_decref(adict);
    rc_decref(atuple);
    rc_decref(alist);
    END_TYPES_HEAP(h, base);
}

/* test_is_tracked: atoms are not tracked, containers are, but for tuples
 * and dicts holding only atomic values (CPython's rule: is_tracked({}) and
 * is_tracked({"a": 1}) are false, is_tracked({"a": []}) is true). */
static void test_is_tracked_types(void) {
    rc_heap *h = types_heap();
    const char *keys[] = {"s", "l", "n", "t"};
    for (size_t k = 0; k < 4; k++) /* interned keys live on: count them in base */
        rc_decref(rc_str_literal(h, keys[k]));
    size_t base = rc_live_objects(h);
    void *i = rc_int_new(h, 1), *big = rc_int_new(h, 1 << 20), *f = rc_float_new(h, 1.0);
    void *s = rc_str_from_cstr(h, "a"), *lit = rc_str_literal(h, "a");
    CHECK(!rc_gc_is_tracked(i));
    CHECK(!rc_gc_is_tracked(big));
    CHECK(!rc_gc_is_tracked(f));
    CHECK(!rc_gc_is_tracked(s));
    CHECK(!rc_gc_is_tracked(lit));
    void *l = rc_list_new(h, 0), *d = rc_dict_new(h), *A = rc_class_new(h, "A", NULL);
    void *a = rc_instance_new(h, A);
    void *t = rc_tuple_pack(h, 1, l);
    CHECK(rc_gc_is_tracked(l));
    CHECK(!rc_gc_is_tracked(d)); /* empty */
    CHECK(rc_gc_is_tracked(A));
    CHECK(rc_gc_is_tracked(a));
    CHECK(rc_gc_is_tracked(t));
    CHECK(!rc_gc_is_tracked(rc_instance_dict(a))); /* no attributes yet */
    CHECK_EQ(rc_dict_set(d, i, f), RC_OK);
    CHECK_EQ(rc_dict_set_str(d, "s", s), RC_OK);
    CHECK(!rc_gc_is_tracked(d)); /* atomic keys and values */
    CHECK_EQ(rc_instance_setattr(a, "n", big), RC_OK);
    CHECK(!rc_gc_is_tracked(rc_instance_dict(a)));
    CHECK_EQ(rc_dict_set_str(d, "l", l), RC_OK);
    CHECK(rc_gc_is_tracked(d)); /* a container value */
    CHECK_EQ(rc_dict_set_str(d, "l", i), RC_OK);
    CHECK(rc_gc_is_tracked(d)); /* and stays tracked */
    CHECK_EQ(rc_instance_setattr(a, "t", t), RC_OK); /* a tracked tuple */
    CHECK(rc_gc_is_tracked(rc_instance_dict(a)));
    void *empty = rc_tuple_from(h, 0, NULL);
    CHECK(!rc_gc_is_tracked(empty)); /* immortal, can never be in a cycle */
    void *all[] = {i, big, f, s, lit, l, d, A, a, t, empty};
    for (size_t k = sizeof all / sizeof all[0]; k > 0; k--)
        rc_decref(all[k - 1]);
    END_TYPES_HEAP(h, base);
}

/* test_is_finalized: Lazarus stores itself in a list from its finalizer. */
static void *g_storage;

static void lazarus_del(void *self) { rc_list_append(g_storage, self); }

static void test_is_finalized_types(void) {
    rc_heap *h = types_heap();
    rc_gc_disable(h);
    size_t base = rc_live_objects(h);
    g_storage = rc_list_new(h, 0);
    void *Lazarus = rc_class_new(h, "Lazarus", lazarus_del);
    void *laz = rc_instance_new(h, Lazarus);
    CHECK(!rc_gc_is_finalized(laz));
    rc_decref(laz);
    rc_gc_collect(h, 2);
    CHECK_EQ(rc_list_size(g_storage), 1);
    void *back = rc_list_pop(g_storage, -1);
    CHECK_PTR_EQ(back, laz);
    CHECK(rc_gc_is_finalized(back));
    rc_decref(back); /* freed now, no second finalization */
    CHECK_EQ(rc_list_size(g_storage), 0);
    rc_decref(Lazarus);
    rc_decref(g_storage);
    END_TYPES_HEAP(h, base);
}

/* test_saveall with a list. */
static void test_saveall_types(void) {
    rc_heap *h = types_heap();
    rc_gc_disable(h);
    size_t base = rc_live_objects(h);
    rc_gc_collect(h, 2);
    CHECK_EQ(rc_gc_garbage_count(h), 0);
    void *L = rc_list_new(h, 0);
    rc_list_append(L, L);
    void *id_L = L;
    unsigned debug = rc_gc_get_debug(h);
    rc_gc_set_debug(h, debug | RC_GC_DEBUG_SAVEALL, NULL);
    rc_decref(L);
    rc_gc_collect(h, 2);
    rc_gc_set_debug(h, debug, NULL);
    CHECK_EQ(rc_gc_garbage_count(h), 1);
    void *obj = rc_gc_garbage_get(h, 0);
    CHECK_PTR_EQ(obj, id_L);
    CHECK_EQ(rc_list_size(obj), 1); /* intact */
    rc_list_clear(obj);
    rc_gc_garbage_clear(h);
    CHECK_EQ(rc_live_objects(h), base);
    END_TYPES_HEAP(h, base);
}

/* ---- Collections from __del__ ---------------------------------------------------------------- */

static FILE *g_sink;

static void dir_self(void *self) { rc_fprint(g_sink, self); }

/* test_del: threshold 1, a finalizer that looks at its object. */
static void test_del_threshold_one(void) {
    rc_heap *h = types_heap();
    size_t base = rc_live_objects(h);
    g_sink = tmpfile();
    rc_gc_set_threshold(h, 1, 10, 10);
    void *A = rc_class_new(h, "A", dir_self);
    for (int i = 0; i < 100; i++) {
        void *a = rc_instance_new(h, A);
        rc_instance_setattr(a, "x", a);
        void *l = rc_list_new(h, 1);
        rc_list_append(l, a);
        rc_instance_setattr(a, "l", l);
        rc_decref(l);
        rc_decref(a);
    }
    rc_decref(A);
    rc_gc_set_threshold(h, 700, 10, 10);
    rc_gc_collect(h, 2);
    fclose(g_sink);
    END_TYPES_HEAP(h, base);
}

/* test_trashcan: nested lists and dicts with Ouch instances whose __del__
 * collects every 17th time. */
static long g_ouch_n;
static long g_ouch_every = 17; /* a full collection is O(heap): rarer in deep runs */
static void ouch_del(void *self) {
    if (++g_ouch_n % g_ouch_every == 0)
        rc_gc_collect(rc_heap_of(self), 2);
}

static void trashcan_round(rc_heap *h, void *Ouch, size_t N) {
    void *t = rc_list_new(h, 0);
    for (size_t i = 0; i < N; i++) {
        void *o = rc_instance_new(h, Ouch);
        void *n = rc_list_new(h, 2);
        rc_list_append_steal(n, t);
        rc_list_append_steal(n, o);
        t = n;
    }
    void *u = rc_list_new(h, 0);
    for (size_t i = 0; i < N; i++) {
        void *o = rc_instance_new(h, Ouch);
        void *n = rc_list_new(h, 2);
        rc_list_append_steal(n, u);
        rc_list_append_steal(n, o);
        u = n;
    }
    void *v = rc_dict_new(h);
    for (size_t i = 0; i < N; i++) {
        void *n = rc_dict_new(h);
        rc_dict_set_steal(n, rc_int_new(h, 1), v);
        rc_dict_set_steal(n, rc_int_new(h, 2), rc_instance_new(h, Ouch));
        v = n;
    }
    /* t = u = v = None, with cycles here and there to involve the collector */
    rc_list_append(t, u);
    rc_list_append(u, t);
    rc_decref(t);
    rc_decref(u);
    rc_decref(v);
}

static void test_trashcan_types(void) {
    rc_heap *h = types_heap();
    size_t base = rc_live_objects(h);
    g_ouch_n = 0;
    void *Ouch = rc_class_new(h, "Ouch", ouch_del);
    for (int count = 0; count < 2; count++)
        trashcan_round(h, Ouch, 150);
    rc_gc_collect(h, 2);
    CHECK_EQ(g_ouch_n, 2 * 3 * 150);
    rc_decref(Ouch);
    END_TYPES_HEAP(h, base);
}

static void *deep_types_thread(void *arg) {
    size_t n = *(size_t *)arg;
    rc_heap *h = types_heap();
    size_t base = rc_live_objects(h);
    g_ouch_n = 0;
    g_ouch_every = 9973;
    void *Ouch = rc_class_new(h, "Ouch", ouch_del);
    trashcan_round(h, Ouch, n);
    g_ouch_every = 17;
    rc_gc_collect(h, 2);
    CHECK_EQ(g_ouch_n, 3 * (long)n);
    /* a list nested n deep whose innermost list holds the outermost */
    void *outer = rc_list_new(h, 1), *cur = outer;
    for (size_t i = 0; i < n; i++) {
        void *in = rc_list_new(h, 1);
        rc_list_append_steal(cur, in);
        cur = in;
    }
    rc_list_append(cur, outer);
    rc_decref(outer);
    CHECK_EQ(rc_gc_collect(h, 2), n + 1);
    rc_decref(Ouch);
    END_TYPES_HEAP(h, base);
    return NULL;
}

/* The same on a 256 KiB stack, nested deep enough for deferred deallocation
 * and a long marking stack. */
static void test_trashcan_types_deep(void) {
    size_t n = gct_scale(200000);
    CHECK_EQ(gct_run_on_stack(deep_types_thread, &n, GCT_SMALL_STACK), 0);
}

/* ---- Generations with built-in types --------------------------------------------------------- */

/* test_get_count and test_collect_generations with a list. */
static void test_counts_with_lists(void) {
    rc_heap *h = types_heap();
    rc_gc_disable(h);
    size_t base = rc_live_objects(h);
    rc_gc_collect(h, 2);
    long c[3], d[3];
    rc_gc_get_count(h, c);
    void *x = rc_list_new(h, 0);
    rc_gc_get_count(h, d);
    CHECK_EQ(c[1], 0);
    CHECK_EQ(c[2], 0);
    CHECK_EQ(d[1], 0);
    CHECK_EQ(d[2], 0);
    CHECK_LT(c[0], 5);
    CHECK_GT(d[0], c[0]);
    rc_gc_collect(h, 0);
    rc_gc_get_count(h, c);
    CHECK_EQ(c[1], 1);
    CHECK_EQ(c[2], 0);
    rc_gc_collect(h, 1);
    rc_gc_get_count(h, c);
    CHECK_EQ(c[1], 0);
    CHECK_EQ(c[2], 1);
    rc_gc_collect(h, 2);
    rc_gc_get_count(h, c);
    CHECK_EQ(c[1], 0);
    CHECK_EQ(c[2], 0);
    rc_decref(x);
    END_TYPES_HEAP(h, base);
}

/* Building and dropping atomic containers (tuples of ints, dicts of
 * strings) must not drift the gen-0 count. */
static void test_count_after_acyclic_churn(void) {
    rc_heap *h = types_heap();
    rc_gc_set_threshold(h, 100000, 10, 10);
    size_t base = rc_live_objects(h);
    rc_gc_collect(h, 2);
    long before = gct_count(h, 0);
    for (int i = 0; i < 1000; i++) {
        void *one = rc_int_new(h, 1), *two = rc_int_new(h, 2);
        void *t = rc_tuple_pack(h, 2, one, two);
        void *d = rc_dict_new(h);
        rc_dict_set_str(d, "x", t);
        rc_decref(t);
        rc_decref(d);
        rc_decref(one);
        rc_decref(two);
    }
    CHECK_EQ(gct_count(h, 0), before);
    END_TYPES_HEAP(h, base);
}

/* test_get_objects with l = []; l.append(l). */
static void test_get_objects_list(void) {
    rc_heap *h = types_heap();
    rc_gc_disable(h);
    size_t base = rc_live_objects(h);
    rc_gc_collect(h, 2);
    void *l = rc_list_new(h, 0);
    rc_list_append(l, l);
    CHECK_EQ(gct_in_generation(h, 0, l), 1);
    CHECK_EQ(gct_in_generation(h, 1, l), 0);
    rc_gc_collect(h, 0);
    CHECK_EQ(gct_in_generation(h, 1, l), 1);
    rc_gc_collect(h, 1);
    CHECK_EQ(gct_in_generation(h, 2, l), 1);
    rc_gc_collect(h, 2);
    CHECK_EQ(gct_in_generation(h, 2, l), 1);
    rc_decref(l);
    CHECK_EQ(rc_gc_collect(h, 2), 1);
    END_TYPES_HEAP(h, base);
}

/* test_freeze with dicts: a frozen dict cycle is not collected until
 * unfrozen. */
static void test_freeze_types(void) {
    rc_heap *h = types_heap();
    rc_gc_disable(h);
    size_t base = rc_live_objects(h);
    void *a = rc_dict_new(h), *b = rc_dict_new(h);
    rc_dict_set_str(a, "ref", b);
    rc_dict_set_str(b, "ref", a);
    rc_gc_freeze(h);
    CHECK_GT(rc_gc_freeze_count(h), 0);
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    rc_gc_unfreeze(h);
    CHECK_EQ(rc_gc_freeze_count(h), 0);
    CHECK_EQ(rc_gc_collect(h, 2), 2);
    END_TYPES_HEAP(h, base);
}

/* ---- Resurrection and weakrefs with instances ------------------------------------------------- */

/* test_resurrection_does_not_block_cleanup_of_other_objects. */
static void *g_zs;
static void z_del(void *self) { rc_list_append(g_zs, self); }

static size_t stats_collected(rc_heap *h) {
    rc_gc_gen_stats s[3];
    rc_gc_get_stats(h, s);
    return s[2].collected;
}

static void test_resurrection_instances(void) {
    rc_heap *h = types_heap();
    rc_gc_disable(h);
    size_t base = rc_live_objects(h);
    enum { N = 100 };
    g_zs = rc_list_new(h, 0);
    void *A = rc_class_new(h, "A", NULL), *Z = rc_class_new(h, "Z", z_del);
    size_t c0 = stats_collected(h);
    for (int i = 0; i < N; i++) {
        void *a = rc_instance_new(h, A);
        rc_instance_setattr(a, "loop", a);
        rc_decref(a);
    }
    CHECK_EQ(rc_gc_collect(h, 2), 2 * N); /* instance and its dict */
    CHECK_EQ(stats_collected(h) - c0, 2 * N);
    c0 = stats_collected(h);
    void *z = rc_instance_new(h, Z);
    rc_instance_setattr(z, "loop", z);
    rc_decref(z);
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    CHECK_EQ(stats_collected(h) - c0, 0);
    c0 = stats_collected(h);
    for (int i = 0; i < N; i++) {
        void *a = rc_instance_new(h, A);
        rc_instance_setattr(a, "loop", a);
        rc_decref(a);
    }
    z = rc_instance_new(h, Z);
    rc_instance_setattr(z, "loop", z);
    rc_decref(z);
    CHECK_EQ(rc_gc_collect(h, 2), 2 * N);
    CHECK_EQ(stats_collected(h) - c0, 2 * N);
    c0 = stats_collected(h);
    CHECK_EQ(rc_list_size(g_zs), 2);
    rc_list_clear(g_zs);
    CHECK_EQ(rc_gc_collect(h, 2), 4);
    CHECK_EQ(stats_collected(h) - c0, 4);
    rc_decref(g_zs);
    rc_decref(A);
    rc_decref(Z);
    END_TYPES_HEAP(h, base);
}

/* test_bug1055820b with instances. */
static void *g_wrs[2];
static int g_ouch_calls;
static int g_ouch_alive;

static void ouch_cb(void *w, void *arg) {
    (void)w;
    (void)arg;
    g_ouch_calls++;
    for (int i = 0; i < 2; i++) {
        void *o = rc_weakref_get(g_wrs[i]);
        g_ouch_alive += o != NULL;
        rc_decref(o);
    }
}

static void *new_c1055820(rc_heap *h, void *C, long i) {
    void *c = rc_instance_new(h, C);
    void *iv = rc_int_new(h, i);
    rc_instance_setattr(c, "i", iv);
    rc_decref(iv);
    rc_instance_setattr(c, "loop", c);
    return c;
}

static void test_bug1055820b_instances(void) {
    rc_heap *h = types_heap();
    rc_gc_disable(h);
    size_t base = rc_live_objects(h);
    void *C = rc_class_new(h, "C1055820", NULL);
    g_ouch_calls = g_ouch_alive = 0;
    void *cs[2];
    for (int i = 0; i < 2; i++) {
        cs[i] = new_c1055820(h, C, i);
        g_wrs[i] = rc_weakref_new(cs[i], ouch_cb, NULL);
    }
    rc_gc_collect(h, 2);
    CHECK_EQ(g_ouch_calls, 0);
    rc_decref(cs[0]);
    rc_decref(cs[1]);
    rc_gc_collect(h, 2);
    CHECK_EQ(g_ouch_calls, 2);
    CHECK_EQ(g_ouch_alive, 0);
    rc_decref(g_wrs[0]);
    rc_decref(g_wrs[1]);
    rc_decref(C);
    END_TYPES_HEAP(h, base);
}

/* test_bug1055820c / d with instances, collection by allocation. */
static void *g_c2wr;
static int g_c0_events;
static int g_c0_saw_c2;
static int g_gc_happened;

static void c0_event(void *unused, void *arg) {
    (void)unused;
    (void)arg;
    g_c0_events++;
    void *o = rc_weakref_get(g_c2wr);
    g_c0_saw_c2 += o != NULL;
    rc_decref(o);
}
static void d_del(void *self) { c0_event(self, NULL); }
static void it_happened(void *w, void *arg) {
    (void)w;
    (void)arg;
    g_gc_happened = 1;
}

static void bug1055820_cd_types(int with_del) {
    rc_heap *h = types_heap();
    size_t base = rc_live_objects(h);
    g_c0_events = g_c0_saw_c2 = g_gc_happened = 0;
    void *C = rc_class_new(h, "C1055820", NULL);
    void *D = rc_class_new(h, "D", d_del);
    void *c0 = new_c1055820(h, with_del ? D : C, 0);
    rc_gc_collect(h, 2);
    void *c1 = new_c1055820(h, C, 1);
    rc_instance_setattr(c1, "keep", c0);
    rc_instance_delattr(c0, "loop");
    void *c2 = new_c1055820(h, C, 2);
    g_c2wr = rc_weakref_new(c2, NULL, NULL);
    void *c0wr = with_del ? NULL : rc_weakref_new(c0, c0_event, NULL);
    rc_decref(c0);
    rc_decref(c1);
    rc_decref(c2);
    void *det = new_c1055820(h, C, 666);
    void *detwr = rc_weakref_new(det, it_happened, NULL);
    rc_decref(det);
    void *junk = rc_list_new(h, 0);
    int i = 0;
    while (!g_gc_happened && i < 10000) {
        CHECK_EQ(g_c0_events, 0);
        rc_list_append_steal(junk, rc_list_new(h, 0));
        i++;
    }
    CHECK(g_gc_happened);
    CHECK_EQ(g_c0_events, 1);
    CHECK_EQ(g_c0_saw_c2, 0);
    rc_decref(junk);
    rc_decref(detwr);
    rc_decref(c0wr);
    rc_decref(g_c2wr);
    rc_decref(C);
    rc_decref(D);
    END_TYPES_HEAP(h, base);
}

static void test_bug1055820c_instances(void) { bug1055820_cd_types(0); }
static void test_bug1055820d_instances(void) { bug1055820_cd_types(1); }

/* ---- A soup of containers --------------------------------------------------------------------- */

/* Random lists, dicts and tuples referring to each other; everything
 * dropped; one collection frees all of it. */
static void test_random_soup(void) {
    rc_heap *h = types_heap();
    rc_gc_disable(h);
    size_t base = rc_live_objects(h);
    test_rng rng = test_rng_seed(12345);
    size_t n = gct_scale(50000);
    void **objs = malloc(n * sizeof *objs);
    for (size_t i = 0; i < n; i++) {
        switch (test_rng_below(&rng, 3)) {
        case 0: objs[i] = rc_list_new(h, 0); break;
        case 1: objs[i] = rc_dict_new(h); break;
        default: {
            /* a tuple holding a list (the list gets filled later) */
            void *l = rc_list_new(h, 0);
            objs[i] = rc_tuple_pack(h, 1, l);
            rc_decref(l);
        }
        }
    }
    for (size_t i = 0; i < 3 * n; i++) {
        void *a = objs[test_rng_below(&rng, n)], *b = objs[test_rng_below(&rng, n)];
        if (rc_is_tuple(a))
            a = rc_tuple_get(a, 0);
        if (rc_is_list(a)) {
            rc_list_append(a, b);
        } else {
            void *k = rc_int_new(h, (int64_t)test_rng_below(&rng, 100000));
            rc_dict_set(a, k, b);
            rc_decref(k);
        }
    }
    for (size_t i = 0; i < n; i++)
        rc_decref(objs[i]);
    free(objs);
    intptr_t found = rc_gc_collect(h, 2);
    CHECK_GT(found, (intptr_t)n / 2);
    CHECK_EQ(rc_gc_collect(h, 2), 0);
    END_TYPES_HEAP(h, base);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_seed_dict_cycle);
    RUN_TEST(test_list_self);
    RUN_TEST(test_dict_self);
    RUN_TEST(test_tuple_list);
    RUN_TEST(test_empty_lists_collected);
    RUN_TEST(test_held_instance_dict_survives);
    RUN_TEST(test_held_class_dict_survives);
    RUN_TEST(test_class_self);
    RUN_TEST(test_instance_self);
    RUN_TEST(test_class_holding_instance);
    RUN_TEST(test_method_like);
    RUN_TEST(test_function_like);
    RUN_TEST(test_reachable_types_survive);
    RUN_TEST(test_get_referents_types);
    RUN_TEST(test_is_tracked_types);
    RUN_TEST(test_is_finalized_types);
    RUN_TEST(test_saveall_types);
    RUN_TEST(test_del_threshold_one);
    RUN_TEST(test_trashcan_types);
    RUN_TEST(test_trashcan_types_deep);
    RUN_TEST(test_counts_with_lists);
    RUN_TEST(test_count_after_acyclic_churn);
    RUN_TEST(test_get_objects_list);
    RUN_TEST(test_freeze_types);
    RUN_TEST(test_resurrection_instances);
    RUN_TEST(test_bug1055820b_instances);
    RUN_TEST(test_bug1055820c_instances);
    RUN_TEST(test_bug1055820d_instances);
    RUN_TEST(test_random_soup);
    return check_summary();
}
