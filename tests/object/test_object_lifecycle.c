/*
 * test_object_lifecycle.c — reference counts and what happens at zero:
 * destroy (once, on an intact object), references dropped through traverse
 * when a type has no destroy, finalizers (once, at the last decref, before
 * destroy; PEP 442 resurrection), immortal objects, rc_setref.
 *
 * The seed's example 6 (a Python class whose __del__ prints "Object A is
 * being deleted", with `b = a; del a; del b`) is test_seed_example_6: the
 * events are recorded in a log and their order asserted.
 */
#include "objtest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NAMED_MAGIC 0x4E414D4544u /* "NAMED" */
#define DEAD_MAGIC 0xDEADu

/* ---- A type that logs its finalizer and destroy ------------------------------ */

enum on_finalize {
    FIN_NOTHING,       /* an ordinary __del__ */
    FIN_RESURRECT,     /* store a new reference to self in g_saved */
    FIN_RESURRECT_TWO, /* store two new references (g_saved, g_saved2) */
    FIN_INTO_HOLDER,   /* store a new reference in g_holder->child */
    FIN_IMMORTAL,      /* make self immortal */
};

typedef struct named {
    uint64_t magic;
    const char *name;
    void *child; /* owned; dropped by destroy */
    int on_finalize;
} named;

static void *g_saved, *g_saved2;
static named *g_holder;
static int g_finalize_calls, g_destroy_calls;
static int64_t g_refcount_in_finalizer;
static int g_bad_in_callback; /* a callback saw a damaged object */

static void named_finalize(void *o) {
    named *n = o;
    g_finalize_calls++;
    g_refcount_in_finalizer = rc_refcount(o);
    if (n->magic != NAMED_MAGIC)
        g_bad_in_callback++;
    log_event("Object %s is being deleted", n->name);
    switch (n->on_finalize) {
    case FIN_RESURRECT:
        rc_incref(o);
        g_saved = o;
        break;
    case FIN_RESURRECT_TWO:
        rc_incref(o);
        rc_incref(o);
        g_saved = g_saved2 = o;
        break;
    case FIN_INTO_HOLDER:
        rc_setref(&g_holder->child, o);
        break;
    case FIN_IMMORTAL:
        rc_make_immortal(o);
        break;
    }
}

static void named_destroy(void *o) {
    named *n = o;
    g_destroy_calls++;
    if (n->magic != NAMED_MAGIC)
        g_bad_in_callback++;
    log_event("destroy %s", n->name);
    n->magic = DEAD_MAGIC;
    void *c = n->child;
    n->child = NULL;
    rc_decref(c);
}

static void named_traverse(void *o, rc_visit_fn visit, void *arg) {
    visit(((named *)o)->child, arg);
}

static const rc_type named_type = {.name = "named",
                                   .size = sizeof(named),
                                   .finalize = named_finalize,
                                   .destroy = named_destroy};
/* the same as a container of the collector (GC head) */
static const rc_type gcnamed_type = {.name = "gcnamed",
                                     .size = sizeof(named),
                                     .flags = RC_TYPE_GC,
                                     .traverse = named_traverse,
                                     .finalize = named_finalize,
                                     .destroy = named_destroy};

static named *new_named(rc_heap *h, const rc_type *t, const char *name, int on_finalize) {
    named *n = rc_new(h, t, 0);
    if (n) {
        n->magic = NAMED_MAGIC;
        n->name = name;
        n->on_finalize = on_finalize;
    }
    return n;
}

static void reset_counters(void) {
    log_reset();
    g_saved = g_saved2 = NULL;
    g_holder = NULL;
    g_finalize_calls = g_destroy_calls = 0;
    g_refcount_in_finalizer = -1;
    g_bad_in_callback = 0;
}

/* ---- Plain counting -------------------------------------------------------------- */

typedef struct cell {
    int64_t v;
} cell;
static int g_cell_destroys;
static void cell_destroy(void *o) {
    (void)o;
    g_cell_destroys++;
}
static const rc_type cell_type = {.name = "cell", .size = sizeof(cell), .destroy = cell_destroy};

static void test_incref_decref(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    g_cell_destroys = 0;
    cell *c = rc_new(h, &cell_type, 0);
    if (!CHECK_NOT_NULL(c))
        return;
    CHECK_EQ(rc_refcount(c), 1);
    rc_incref(c);
    CHECK_EQ(rc_refcount(c), 2);
    rc_decref(c);
    CHECK_EQ(rc_refcount(c), 1);
    for (int i = 0; i < 100000; i++)
        rc_incref(c);
    CHECK_EQ(rc_refcount(c), 100001);
    for (int i = 0; i < 100000; i++) {
        rc_decref(c);
        if (i % 2)
            rc_incref(c), rc_decref(c);
    }
    CHECK_EQ(rc_refcount(c), 1);
    CHECK_EQ(g_cell_destroys, 0);
    CHECK_EQ(rc_live_objects(h), 1);
    /* NULL is ignored */
    rc_incref(NULL);
    rc_decref(NULL);
    rc_decref(c);
    CHECK_EQ(g_cell_destroys, 1);
    CHECK_EQ(rc_live_objects(h), 0);
    rc_heap_destroy(h);
}

static void test_setref(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    g_cell_destroys = 0;
    cell *a = rc_new(h, &cell_type, 0), *b = rc_new(h, &cell_type, 0);
    if (!CHECK_NOT_NULL(a) || !CHECK_NOT_NULL(b))
        return;
    void *slot = NULL;
    rc_setref(&slot, a);
    CHECK_PTR_EQ(slot, a);
    CHECK_EQ(rc_refcount(a), 2);
    rc_setref(&slot, a); /* the same object: taken before the old one is dropped */
    CHECK_EQ(rc_refcount(a), 2);
    rc_setref(&slot, b);
    CHECK_EQ(rc_refcount(a), 1);
    CHECK_EQ(rc_refcount(b), 2);
    rc_decref(b);               /* the slot holds b's only reference now */
    rc_setref(&slot, a);        /* ... so b goes */
    CHECK_EQ(g_cell_destroys, 1);
    CHECK_EQ(rc_live_objects(h), 1);
    rc_decref(a);               /* the slot holds a's only reference */
    CHECK_EQ(rc_refcount(a), 1);
    rc_setref(&slot, NULL);
    CHECK_NULL(slot);
    CHECK_EQ(g_cell_destroys, 2);
    CHECK_EQ(rc_live_objects(h), 0);
    rc_heap_destroy(h);
}

/* ---- The seed's example 6 ---------------------------------------------------------- */
/*
 *   class A:
 *       def __del__(self):
 *           print("Object A is being deleted")
 *   a = A()  # refcount 1
 *   b = a    # refcount 2
 *   del a    # refcount 1
 *   del b    # refcount 0: __del__ runs, the object is freed
 */
static void test_seed_example_6(void) {
    const rc_type *types[] = {&named_type, &gcnamed_type};
    for (int k = 0; k < 2; k++) {
        rc_heap *h = test_heap_new(RC_MODE_POOL);
        if (!CHECK_NOT_NULL(h))
            return;
        reset_counters();
        named *a = new_named(h, types[k], "A", FIN_NOTHING);
        if (!CHECK_NOT_NULL(a))
            return;
        log_event("a = A()");
        CHECK_EQ(rc_refcount(a), 1);

        named *b = a;
        rc_incref(b);
        log_event("b = a");
        CHECK_EQ(rc_refcount(a), 2);

        log_event("del a");
        rc_decref(a);
        CHECK_EQ(rc_refcount(b), 1);
        CHECK_EQ(g_finalize_calls, 0); /* not yet */
        CHECK(!rc_is_finalized(b));
        CHECK_EQ(rc_live_objects(h), 1);

        log_event("del b");
        rc_decref(b);
        log_event("end");
        CHECK_LOG("a = A() | b = a | del a | del b | Object A is being deleted | destroy A | end");
        CHECK_EQ(g_finalize_calls, 1);
        CHECK_EQ(g_destroy_calls, 1);
        CHECK_EQ(g_refcount_in_finalizer, 1); /* held at 1 while __del__ runs */
        CHECK_EQ(g_bad_in_callback, 0);
        CHECK_EQ(rc_live_objects(h), 0);
        if (k == 0)
            printf("  example 6 log: %s\n", log_text());
        rc_heap_destroy(h);
    }
}

/* ---- destroy ---------------------------------------------------------------------------- */

typedef struct buf {
    uint64_t magic;
    size_t n;
    unsigned char data[];
} buf;

static int g_buf_destroys, g_buf_bad;
static rc_heap *g_buf_heap;

static size_t buf_extra(const void *o) { return ((const buf *)o)->n; }

static const rc_type buf_type;

static void buf_destroy(void *o) {
    buf *b = o;
    g_buf_destroys++;
    /* the object is whole while destroy runs, and the lookups still work */
    if (b->magic != NAMED_MAGIC || test_verify(b->data, b->n, 77) != b->n)
        g_buf_bad++;
    if (rc_type_of(o) != &buf_type || rc_heap_of(o) != g_buf_heap ||
        rc_sizeof(o) != OBJ_HEADERS + sizeof(buf) + b->n)
        g_buf_bad++;
    b->magic = DEAD_MAGIC;
}

static const rc_type buf_type = {
    .name = "buf", .size = sizeof(buf), .destroy = buf_destroy, .sizeof_extra = buf_extra};

static void test_destroy_once_with_contents(void) {
    static const size_t sizes[] = {0, 10, 400, 3000};
    const rc_alloc_mode modes[] = {RC_MODE_POOL, RC_MODE_DEBUG};
    for (size_t m = 0; m < 2; m++) {
        rc_heap *h = test_heap_new(modes[m]);
        if (!CHECK_NOT_NULL(h))
            return;
        g_buf_heap = h;
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            g_buf_destroys = g_buf_bad = 0;
            buf *b = rc_new(h, &buf_type, sizes[s]);
            if (!CHECK_NOT_NULL(b))
                return;
            b->magic = NAMED_MAGIC;
            b->n = sizes[s];
            test_fill(b->data, b->n, 77);
            for (int i = 0; i < 4; i++)
                rc_incref(b);
            for (int i = 0; i < 4; i++) {
                rc_decref(b);
                CHECK_EQ(g_buf_destroys, 0);
            }
            CHECK_EQ(rc_refcount(b), 1);
            rc_decref(b);
            CHECK_EQ(g_buf_destroys, 1);
            CHECK_EQ(g_buf_bad, 0);
            CHECK_EQ(rc_live_objects(h), 0);
        }
        rc_heap_destroy(h);
    }
}

/* ---- Types without destroy: references dropped through traverse ------------------- */

typedef struct two {
    void *a, *b, *none; /* none stays NULL: visited and ignored */
} two;

static void two_traverse(void *o, rc_visit_fn visit, void *arg) {
    two *t = o;
    visit(t->a, arg);
    visit(t->none, arg);
    visit(t->b, arg);
}

static const rc_type two_plain = {.name = "two", .size = sizeof(two), .traverse = two_traverse};
static const rc_type two_gc = {
    .name = "gctwo", .size = sizeof(two), .flags = RC_TYPE_GC, .traverse = two_traverse};

static void test_traverse_drops_children(void) {
    const rc_type *types[] = {&two_plain, &two_gc};
    for (int k = 0; k < 2; k++) {
        rc_heap *h = test_heap_new(RC_MODE_POOL);
        if (!CHECK_NOT_NULL(h))
            return;
        reset_counters();
        two *t = rc_new(h, types[k], 0);
        named *only = new_named(h, &named_type, "only", FIN_NOTHING);
        named *shared = new_named(h, &gcnamed_type, "shared", FIN_NOTHING);
        if (!CHECK_NOT_NULL(t) || !CHECK_NOT_NULL(only) || !CHECK_NOT_NULL(shared))
            return;
        t->a = only; /* the parent owns it */
        t->b = shared;
        rc_incref(shared); /* and so do we */
        log_event("drop parent");
        rc_decref(t);
        log_event("dropped");
        CHECK_LOG("drop parent | Object only is being deleted | destroy only | dropped");
        CHECK_EQ(rc_refcount(shared), 1);
        CHECK_EQ(shared->magic, NAMED_MAGIC);
        CHECK_EQ(rc_live_objects(h), 1);
        CHECK_EQ(rc_live_objects_of(h, types[k]), 0);
        rc_decref(shared);
        CHECK_EQ(g_destroy_calls, 2);
        CHECK_EQ(rc_live_objects(h), 0);
        rc_heap_destroy(h);
    }
}

/* A type with destroy and traverse: destroy drops the references (once). */
static void test_destroy_replaces_traverse(void) {
    rc_heap *h = test_heap_new(RC_MODE_DEBUG);
    if (!CHECK_NOT_NULL(h))
        return;
    reset_counters();
    named *parent = new_named(h, &gcnamed_type, "P", FIN_NOTHING);
    named *kid = new_named(h, &gcnamed_type, "K", FIN_NOTHING);
    named *outside = new_named(h, &named_type, "O", FIN_NOTHING);
    if (!CHECK_NOT_NULL(parent) || !CHECK_NOT_NULL(kid) || !CHECK_NOT_NULL(outside))
        return;
    parent->child = kid;
    kid->child = outside;
    rc_incref(outside);
    rc_decref(parent);
    CHECK_LOG("Object P is being deleted | destroy P | Object K is being deleted | destroy K");
    CHECK_EQ(rc_refcount(outside), 1); /* dropped once, by destroy, not again by traverse */
    CHECK_EQ(rc_live_objects(h), 1);
    rc_decref(outside);
    CHECK_EQ(rc_live_objects(h), 0);
    rc_heap_destroy(h);
}

/* ---- Finalizers --------------------------------------------------------------------- */

static void test_finalizer_order(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    reset_counters();
    /* P -> C -> D (a chain), dropped from the top */
    named *p = new_named(h, &named_type, "P", FIN_NOTHING);
    named *c = new_named(h, &gcnamed_type, "C", FIN_NOTHING);
    named *d = new_named(h, &named_type, "D", FIN_NOTHING);
    if (!CHECK_NOT_NULL(p) || !CHECK_NOT_NULL(c) || !CHECK_NOT_NULL(d))
        return;
    p->child = c;
    c->child = d;
    rc_decref(p);
    CHECK_LOG("Object P is being deleted | destroy P | Object C is being deleted | destroy C"
              " | Object D is being deleted | destroy D");
    CHECK_EQ(g_finalize_calls, 3);
    CHECK_EQ(g_destroy_calls, 3);
    CHECK_EQ(g_bad_in_callback, 0);
    CHECK_EQ(rc_live_objects(h), 0);
    rc_heap_destroy(h);
}

/* __del__ stores a new reference: the object survives (PEP 442), finalized;
 * its next death destroys it without a second finalizer call. */
static void test_resurrection(void) {
    const rc_type *types[] = {&named_type, &gcnamed_type};
    for (int k = 0; k < 2; k++) {
        rc_heap *h = test_heap_new(k ? RC_MODE_DEBUG : RC_MODE_POOL);
        if (!CHECK_NOT_NULL(h))
            return;
        reset_counters();
        named *r = new_named(h, types[k], "R", FIN_RESURRECT);
        if (!CHECK_NOT_NULL(r))
            return;
        CHECK(!rc_is_finalized(r));
        rc_decref(r);
        CHECK_LOG("Object R is being deleted");
        CHECK_PTR_EQ(g_saved, r);
        CHECK_EQ(rc_live_objects(h), 1);
        CHECK_EQ(rc_refcount(r), 1);
        CHECK(rc_is_finalized(r));
        CHECK_EQ(r->magic, NAMED_MAGIC);
        CHECK_EQ(g_destroy_calls, 0);
        /* an ordinary object again */
        rc_incref(r);
        CHECK_EQ(rc_refcount(r), 2);
        rc_decref(r);
        CHECK_EQ(rc_refcount(r), 1);
        log_event("drop saved");
        rc_decref(g_saved);
        CHECK_LOG("Object R is being deleted | drop saved | destroy R");
        CHECK_EQ(g_finalize_calls, 1);
        CHECK_EQ(g_destroy_calls, 1);
        CHECK_EQ(rc_live_objects(h), 0);
        rc_heap_destroy(h);
    }
}

static void test_resurrection_variants(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;

    /* two new references */
    reset_counters();
    named *r = new_named(h, &named_type, "R2", FIN_RESURRECT_TWO);
    if (!CHECK_NOT_NULL(r))
        return;
    rc_decref(r);
    CHECK_EQ(rc_refcount(r), 2);
    CHECK_EQ(rc_live_objects(h), 1);
    rc_decref(g_saved);
    CHECK_EQ(g_destroy_calls, 0);
    rc_decref(g_saved2);
    CHECK_EQ(g_finalize_calls, 1);
    CHECK_EQ(g_destroy_calls, 1);
    CHECK_EQ(rc_live_objects(h), 0);

    /* into another object, which is dropped later and takes it along */
    reset_counters();
    g_holder = new_named(h, &gcnamed_type, "H", FIN_NOTHING);
    r = new_named(h, &gcnamed_type, "R3", FIN_INTO_HOLDER);
    if (!CHECK_NOT_NULL(g_holder) || !CHECK_NOT_NULL(r))
        return;
    rc_decref(r);
    CHECK_PTR_EQ(g_holder->child, r);
    CHECK_EQ(rc_refcount(r), 1);
    CHECK(rc_is_finalized(r));
    CHECK_EQ(rc_live_objects(h), 2);
    rc_decref(g_holder);
    CHECK_LOG("Object R3 is being deleted | Object H is being deleted | destroy H | destroy R3");
    CHECK_EQ(rc_live_objects(h), 0);

    /* a child resurrects itself while its parent is being destroyed */
    reset_counters();
    named *p = new_named(h, &named_type, "P", FIN_NOTHING);
    r = new_named(h, &gcnamed_type, "R4", FIN_RESURRECT);
    if (!CHECK_NOT_NULL(p) || !CHECK_NOT_NULL(r))
        return;
    p->child = r;
    rc_decref(p);
    CHECK_LOG("Object P is being deleted | destroy P | Object R4 is being deleted");
    CHECK_PTR_EQ(g_saved, r);
    CHECK_EQ(rc_live_objects(h), 1);
    CHECK_EQ(rc_refcount(r), 1);
    rc_decref(g_saved);
    CHECK_LOG("Object P is being deleted | destroy P | Object R4 is being deleted | destroy R4");
    CHECK_EQ(rc_live_objects(h), 0);
    rc_heap_destroy(h);
}

/* __del__ makes the object immortal: it stays until the heap goes. */
static void test_finalizer_makes_immortal(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    reset_counters();
    named *r = new_named(h, &gcnamed_type, "I", FIN_IMMORTAL);
    named *kid = new_named(h, &named_type, "kid", FIN_NOTHING);
    if (!CHECK_NOT_NULL(r) || !CHECK_NOT_NULL(kid))
        return;
    r->child = kid;
    rc_decref(r);
    CHECK_LOG("Object I is being deleted");
    CHECK(rc_is_immortal(r));
    CHECK(rc_is_finalized(r));
    CHECK_EQ(rc_refcount(r), RC_IMMORTAL_REFCNT);
    for (int i = 0; i < 10; i++)
        rc_decref(r);
    CHECK_EQ(g_finalize_calls, 1);
    CHECK_EQ(g_destroy_calls, 0);
    CHECK_EQ(rc_live_objects(h), 2);
    CHECK_EQ(r->magic, NAMED_MAGIC);
    CHECK_PTR_EQ(r->child, kid);
    CHECK_EQ(rc_refcount(kid), 1);
    rc_heap_destroy(h); /* gives the memory back (leak checkers agree) */
}

/* ---- Immortal objects -------------------------------------------------------------- */

static void test_immortal(void) {
    rc_heap *h = test_heap_new(RC_MODE_DEBUG);
    if (!CHECK_NOT_NULL(h))
        return;
    reset_counters();
    named *im = new_named(h, &gcnamed_type, "immortal", FIN_NOTHING);
    named *mortal = new_named(h, &named_type, "mortal", FIN_NOTHING);
    if (!CHECK_NOT_NULL(im) || !CHECK_NOT_NULL(mortal))
        return;
    CHECK(!rc_is_immortal(im));
    rc_incref(im);
    rc_incref(im);
    rc_make_immortal(im);
    CHECK(rc_is_immortal(im));
    CHECK(!rc_is_immortal(mortal));
    CHECK_EQ(rc_refcount(im), RC_IMMORTAL_REFCNT);
    for (int i = 0; i < 1000; i++)
        rc_incref(im);
    CHECK_EQ(rc_refcount(im), RC_IMMORTAL_REFCNT);
    for (int i = 0; i < 5000; i++) /* far more than were ever taken */
        rc_decref(im);
    CHECK_EQ(rc_refcount(im), RC_IMMORTAL_REFCNT);
    CHECK_EQ(g_finalize_calls, 0);
    CHECK_EQ(g_destroy_calls, 0);
    CHECK(!rc_is_finalized(im));
    CHECK_EQ(im->magic, NAMED_MAGIC);

    /* held by a mortal object: dropping the holder leaves it alone */
    mortal->child = im;
    rc_decref(mortal);
    CHECK_LOG("Object mortal is being deleted | destroy mortal");
    CHECK_EQ(rc_live_objects(h), 1);
    CHECK_EQ(rc_live_objects_of(h, &gcnamed_type), 1);
    CHECK_EQ(im->magic, NAMED_MAGIC);

    /* an immortal object owning a mortal one keeps it alive */
    named *kept = new_named(h, &named_type, "kept", FIN_NOTHING);
    if (CHECK_NOT_NULL(kept)) {
        im->child = kept;
        CHECK_EQ(rc_refcount(kept), 1);
    }
    CHECK_EQ(rc_live_objects(h), 2);
    rc_heap_destroy(h); /* never finalized or destroyed; memory given back */
    CHECK_EQ(g_finalize_calls, 1);
    CHECK_EQ(g_destroy_calls, 1);
}

/* A count that reaches RC_IMMORTAL_REFCNT (2^32 - 1 references) sticks. */
static void test_saturating_count(void) {
#if !defined(__OPTIMIZE__) || TEST_ASAN
    CHECK_SKIP("4 billion increfs: only in optimised builds without sanitizers");
    CHECK(1);
#else
    if (OBJTEST_ON_VALGRIND()) {
        CHECK_SKIP("4 billion increfs: not under valgrind");
        CHECK(1);
        return;
    }
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    g_cell_destroys = 0;
    cell *c = rc_new(h, &cell_type, 0);
    if (!CHECK_NOT_NULL(c))
        return;
    double t0 = objtest_seconds();
    for (uint64_t i = 0; i < (uint64_t)RC_IMMORTAL_REFCNT - 2; i++)
        rc_incref(c);
    CHECK_EQ(rc_refcount(c), RC_IMMORTAL_REFCNT - 1);
    CHECK(!rc_is_immortal(c));
    rc_incref(c); /* the last one before wrapping: saturates */
    CHECK(rc_is_immortal(c));
    rc_incref(c);
    CHECK_EQ(rc_refcount(c), RC_IMMORTAL_REFCNT);
    for (int i = 0; i < 10; i++)
        rc_decref(c);
    CHECK_EQ(rc_refcount(c), RC_IMMORTAL_REFCNT);
    CHECK_EQ(g_cell_destroys, 0);
    printf("  %.2f s for 2^32 increfs\n", objtest_seconds() - t0);
    rc_heap_destroy(h);
#endif
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_incref_decref);
    RUN_TEST(test_setref);
    RUN_TEST(test_seed_example_6);
    RUN_TEST(test_destroy_once_with_contents);
    RUN_TEST(test_traverse_drops_children);
    RUN_TEST(test_destroy_replaces_traverse);
    RUN_TEST(test_finalizer_order);
    RUN_TEST(test_resurrection);
    RUN_TEST(test_resurrection_variants);
    RUN_TEST(test_finalizer_makes_immortal);
    RUN_TEST(test_immortal);
    RUN_TEST(test_saturating_count);
    return check_summary();
}
