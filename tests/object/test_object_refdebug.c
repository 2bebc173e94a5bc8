/*
 * test_object_refdebug.c — reference debugging (linked with rcgc_refdebug,
 * whose target passes RCGC_REF_DEBUG on, so rc_incref/rc_decref here are the
 * checked versions): the total of references (sys.gettotalrefcount), and
 * misuse reported through the heap's error handler as RC_ERR_REFCOUNT
 * instead of corrupting memory — a decref or incref of a freed object, a
 * decref below zero, an incref during deallocation.  Immortal objects never
 * report.
 */
#include "objtest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef RCGC_REF_DEBUG
#error "this test must be built against rcgc_refdebug (RCGC_REF_DEBUG)"
#endif

/* ---- Error reports ---------------------------------------------------------------- */

enum { MAX_REPORTS = 32 };

typedef struct reports {
    int n;
    rc_error_kind kind[MAX_REPORTS];
    const void *ptr[MAX_REPORTS];
    rc_heap *heap[MAX_REPORTS];
    char msg[MAX_REPORTS][256];
} reports;

static void record_report(const rc_error_report *r, void *ctx) {
    reports *rep = ctx;
    if (rep->n < MAX_REPORTS) {
        rep->kind[rep->n] = r->kind;
        rep->ptr[rep->n] = r->ptr;
        rep->heap[rep->n] = r->heap;
        snprintf(rep->msg[rep->n], sizeof rep->msg[0], "%s", r->message ? r->message : "");
    }
    rep->n++;
}

static void print_reports(const reports *rep) {
    for (int i = 0; i < rep->n && i < MAX_REPORTS; i++)
        printf("  report %d: kind %d: %s\n", i, (int)rep->kind[i], rep->msg[i]);
}

/* ---- Types -------------------------------------------------------------------------- */

typedef struct holder {
    void *child; /* owned */
    uint64_t tag;
} holder;

static int g_destroys, g_finalizes;
static void *g_saved;

static void holder_traverse(void *o, rc_visit_fn visit, void *arg) {
    visit(((holder *)o)->child, arg);
}
static void holder_destroy(void *o) {
    holder *h = o;
    g_destroys++;
    void *c = h->child;
    h->child = NULL;
    rc_decref(c);
}
static const rc_type holder_type = {
    .name = "holder", .size = sizeof(holder), .destroy = holder_destroy};
static const rc_type gcholder_type = {.name = "gcholder",
                                      .size = sizeof(holder),
                                      .flags = RC_TYPE_GC,
                                      .traverse = holder_traverse};

static void resurrect_finalize(void *o) {
    g_finalizes++;
    rc_incref(o);
    g_saved = o;
}
static const rc_type phoenix_type = {.name = "phoenix",
                                     .size = sizeof(holder),
                                     .finalize = resurrect_finalize,
                                     .destroy = holder_destroy};

/* destroy misuses the dying object's own count */
static void decref_self_destroy(void *o) {
    g_destroys++;
    rc_decref(o); /* its count is 0 now: "decref below zero" */
}
static void incref_self_destroy(void *o) {
    g_destroys++;
    rc_incref(o); /* "incref of an object being deallocated" */
}
static const rc_type decref_self_type = {
    .name = "decref_self", .size = 16, .destroy = decref_self_destroy};
static const rc_type incref_self_type = {.name = "incref_self",
                                         .size = 16,
                                         .flags = RC_TYPE_GC,
                                         .traverse = holder_traverse,
                                         .destroy = incref_self_destroy};

/* ---- Total references ----------------------------------------------------------------- */

static char *print_to_string(const rc_heap *h) {
    FILE *f = tmpfile();
    if (!f)
        return NULL;
    rc_print_objects(h, f);
    long len = ftell(f);
    char *buf = malloc(len > 0 ? (size_t)len + 1 : 1);
    if (buf) {
        rewind(f);
        size_t got = len > 0 ? fread(buf, 1, (size_t)len, f) : 0;
        buf[got] = '\0';
    }
    fclose(f);
    return buf;
}

static void test_total_refs(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    g_destroys = 0;
    CHECK_EQ(rc_total_refs(h), 0);
    holder *a = rc_new(h, &holder_type, 0);
    if (!CHECK_NOT_NULL(a))
        return;
    CHECK_EQ(rc_total_refs(h), 1);
    rc_incref(a);
    CHECK_EQ(rc_total_refs(h), 2);
    rc_decref(a);
    CHECK_EQ(rc_total_refs(h), 1);

    holder *b = rc_new(h, &gcholder_type, 0), *c = rc_new(h, &holder_type, 0);
    if (!CHECK_NOT_NULL(b) || !CHECK_NOT_NULL(c))
        return;
    CHECK_EQ(rc_total_refs(h), 3);
    rc_setref(&b->child, a); /* b holds a */
    CHECK_EQ(rc_total_refs(h), 4);
    rc_setref(&c->child, b); /* c holds b */
    CHECK_EQ(rc_total_refs(h), 5);
    rc_decref(a); /* only b holds a now */
    rc_decref(b); /* only c holds b */
    CHECK_EQ(rc_total_refs(h), 3);
    CHECK_EQ(rc_live_objects(h), 3);

    char *text = print_to_string(h);
    if (CHECK_NOT_NULL(text))
        CHECK_STR_CONTAINS(text, "total references: 3");
    free(text);

    rc_decref(c); /* c -> b -> a, through destroy and traverse */
    CHECK_EQ(rc_live_objects(h), 0);
    CHECK_EQ(rc_total_refs(h), 0);
    CHECK_EQ(g_destroys, 2);

    /* a chain long enough to be freed through the deferred list */
    holder *head = NULL;
    for (int i = 0; i < 5000; i++) {
        holder *l = rc_new(h, (i & 1) ? &holder_type : &gcholder_type, 0);
        if (!CHECK_NOT_NULL(l))
            break;
        l->child = head;
        head = l;
    }
    CHECK_EQ(rc_total_refs(h), 5000);
    rc_incref(head);
    CHECK_EQ(rc_total_refs(h), 5001);
    rc_decref(head);
    rc_decref(head);
    CHECK_EQ(rc_total_refs(h), 0);
    CHECK_EQ(rc_live_objects(h), 0);

    /* resurrection keeps the total in step with the counts */
    g_finalizes = 0;
    g_saved = NULL;
    holder *p = rc_new(h, &phoenix_type, 0);
    if (CHECK_NOT_NULL(p)) {
        rc_decref(p);
        CHECK_EQ(g_finalizes, 1);
        CHECK_PTR_EQ(g_saved, p);
        CHECK_EQ(rc_refcount(p), 1);
        CHECK_EQ(rc_total_refs(h), 1);
        rc_decref(g_saved);
        CHECK_EQ(rc_total_refs(h), 0);
        CHECK_EQ(rc_live_objects(h), 0);
    }

    /* immortal objects: increfs and decrefs are not counted, and the
     * references an object held when made immortal leave the total then
     * (its owner's decref will not count): the total comes back to where it
     * was before the object was made, as for a mortal one */
    intptr_t before = rc_total_refs(h);
    holder *im = rc_new(h, &holder_type, 0);
    if (CHECK_NOT_NULL(im)) {
        rc_incref(im);
        CHECK_EQ(rc_total_refs(h), before + 2);
        rc_make_immortal(im);
        CHECK_EQ(rc_total_refs(h), before);
        for (int i = 0; i < 100; i++)
            rc_incref(im);
        for (int i = 0; i < 300; i++)
            rc_decref(im);
        CHECK_EQ(rc_total_refs(h), before);
        CHECK(rc_is_immortal(im));
    }
    rc_heap_destroy(h);
}

/* ---- Misuse, reported --------------------------------------------------------------- */

/* Make and free 200 objects: cycles the debug allocator's quarantine, whose
 * release checks that nobody wrote to the freed blocks. */
static void churn(rc_heap *h) {
    for (int i = 0; i < 200; i++) {
        holder *x = rc_new(h, (i & 1) ? &holder_type : &gcholder_type, (size_t)i);
        if (x)
            x->tag = (uint64_t)i;
        rc_decref(x);
    }
}

/* Debug mode: the freed block sits in quarantine filled with 0xDD.  (Under
 * valgrind the allocator marks it inaccessible, so valgrind itself reports
 * the read that detects the misuse: skipped there.) */
static void test_use_after_free_reported(void) {
    if (OBJTEST_ON_VALGRIND()) {
        CHECK_SKIP("reads freed memory on purpose: not under valgrind");
        CHECK(1);
        return;
    }
    const rc_type *types[] = {&holder_type, &gcholder_type};
    for (int k = 0; k < 2; k++) {
        reports rep;
        memset(&rep, 0, sizeof rep);
        rc_heap *h = objtest_debug_heap(record_report, &rep);
        if (!CHECK_NOT_NULL(h))
            return;
        g_destroys = 0;
        holder *o = rc_new(h, types[k], 0);
        holder *keep = rc_new(h, &holder_type, 0);
        if (!CHECK_NOT_NULL(o) || !CHECK_NOT_NULL(keep))
            return;
        rc_decref(o); /* freed: its block is filled with the dead pattern */
        CHECK_EQ(rc_live_objects(h), 1);
        CHECK_EQ(rc_total_refs(h), 1);
        CHECK_EQ(rep.n, 0);

        rc_decref(o); /* use after free */
        CHECK_EQ(rep.n, 1);
        CHECK_EQ(rep.kind[0], RC_ERR_REFCOUNT);
        CHECK_PTR_EQ(rep.ptr[0], o);
        CHECK_PTR_EQ(rep.heap[0], h);
        CHECK_STR_CONTAINS(rep.msg[0], "decref");
        CHECK_STR_CONTAINS(rep.msg[0], "freed");

        rc_incref(o);
        CHECK_EQ(rep.n, 2);
        CHECK_EQ(rep.kind[1], RC_ERR_REFCOUNT);
        CHECK_STR_CONTAINS(rep.msg[1], "incref");

        /* nothing was counted or changed */
        CHECK_EQ(rc_total_refs(h), 1);
        CHECK_EQ(rc_live_objects(h), 1);
        CHECK_EQ(g_destroys, k == 0 ? 1 : 0);

        /* and nothing was written: the quarantine's check finds no damage */
        churn(h);
        CHECK_EQ(rep.n, 2);
        CHECK_EQ(rc_refcount(keep), 1);
        rc_decref(keep);
        CHECK_EQ(rc_live_objects(h), 0);
        CHECK_EQ(rc_total_refs(h), 0);
        if (rep.n != 2)
            print_reports(&rep);
        rc_heap_destroy(h);
    }
}

/* Pool mode (no fill patterns): the header of a freed object is still not a
 * live one.  Reading freed pool memory is what ASan and valgrind forbid, so
 * only in plain builds. */
static void test_use_after_free_pool_mode(void) {
    if (TEST_ASAN || OBJTEST_ON_VALGRIND()) {
        CHECK_SKIP("reads freed memory on purpose: not under ASan or valgrind");
        CHECK(1);
        return;
    }
    reports rep;
    memset(&rep, 0, sizeof rep);
    rc_heap_config cfg;
    rc_heap_config_init(&cfg);
    cfg.mode = RC_MODE_POOL;
    cfg.on_error = record_report;
    cfg.on_error_ctx = &rep;
    rc_heap *h = rc_heap_new(&cfg);
    if (!CHECK_NOT_NULL(h))
        return;
    const rc_type *types[] = {&holder_type, &gcholder_type};
    for (int k = 0; k < 2; k++) {
        holder *o = rc_new(h, types[k], 0);
        if (!CHECK_NOT_NULL(o))
            return;
        rc_decref(o);
        int before = rep.n;
        rc_decref(o);
        CHECK_EQ(rep.n, before + 1);
        CHECK_EQ(rep.kind[before], RC_ERR_REFCOUNT);
        CHECK_EQ(rc_total_refs(h), 0);
    }
    CHECK_EQ(rc_live_objects(h), 0);
    rc_heap_destroy(h);
}

static void test_misuse_during_dealloc(void) {
    reports rep;
    memset(&rep, 0, sizeof rep);
    rc_heap *h = objtest_debug_heap(record_report, &rep);
    if (!CHECK_NOT_NULL(h))
        return;
    g_destroys = 0;

    void *d = rc_new(h, &decref_self_type, 0);
    if (!CHECK_NOT_NULL(d))
        return;
    rc_decref(d);
    CHECK_EQ(g_destroys, 1);
    CHECK_EQ(rep.n, 1);
    CHECK_EQ(rep.kind[0], RC_ERR_REFCOUNT);
    CHECK_PTR_EQ(rep.ptr[0], d);
    CHECK_STR_CONTAINS(rep.msg[0], "below zero");

    void *i = rc_new(h, &incref_self_type, 0);
    if (!CHECK_NOT_NULL(i))
        return;
    rc_decref(i);
    CHECK_EQ(g_destroys, 2);
    CHECK_EQ(rep.n, 2);
    CHECK_EQ(rep.kind[1], RC_ERR_REFCOUNT);
    CHECK_STR_CONTAINS(rep.msg[1], "incref");

    /* both freed once and only once: no double free, counts consistent */
    CHECK_EQ(rc_live_objects(h), 0);
    CHECK_EQ(rc_total_refs(h), 0);
    churn(h);
    CHECK_EQ(rep.n, 2);
    if (rep.n != 2)
        print_reports(&rep);
    rc_heap_destroy(h);
}

static void test_immortal_never_reports(void) {
    reports rep;
    memset(&rep, 0, sizeof rep);
    rc_heap *h = objtest_debug_heap(record_report, &rep);
    if (!CHECK_NOT_NULL(h))
        return;
    g_destroys = 0;
    holder *im = rc_new(h, &gcholder_type, 0);
    holder *im2 = rc_new(h, &holder_type, 0);
    if (!CHECK_NOT_NULL(im) || !CHECK_NOT_NULL(im2))
        return;
    rc_incref(im2);
    rc_incref(im2);
    rc_make_immortal(im);
    rc_make_immortal(im2);
    intptr_t total = rc_total_refs(h);
    for (int k = 0; k < 1000; k++) { /* far below zero, were it counted */
        rc_decref(im);
        rc_decref(im2);
    }
    rc_incref(im);
    CHECK_EQ(rep.n, 0);
    CHECK_EQ(rc_total_refs(h), total);
    CHECK_EQ(rc_refcount(im), RC_IMMORTAL_REFCNT);
    CHECK_EQ(g_destroys, 0);
    CHECK_EQ(rc_live_objects(h), 2);
    /* NULL is ignored, without a report */
    rc_incref(NULL);
    rc_decref(NULL);
    CHECK_EQ(rep.n, 0);
    rc_heap_destroy(h);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_total_refs);
    RUN_TEST(test_use_after_free_reported);
    RUN_TEST(test_use_after_free_pool_mode);
    RUN_TEST(test_misuse_during_dealloc);
    RUN_TEST(test_immortal_never_reports);
    return check_summary();
}
