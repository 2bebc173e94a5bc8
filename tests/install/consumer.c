/*
 * tests/install/consumer.c — a program built only against the installed
 * library: the headers and flags come from `pkg-config rcgc`, nothing from
 * the source tree.  It touches each layer once (heap, objects, collector,
 * weak references, built-in types) and exits non-zero at the first thing
 * that does not behave, so a broken install (a header missing, a symbol not
 * exported, a wrong path in rcgc.pc) fails the test that builds and runs it.
 * Built with rcgc-refdebug.pc's flags (RCGC_REF_DEBUG), it also checks the
 * reference total of the debugging library.
 */
#include <rcgc.h>

/* The refdebug builds of this test pass EXPECT_REF_DEBUG themselves, and
 * take RCGC_REF_DEBUG only from rcgc-refdebug.pc or rcgc::rcgc_refdebug:
 * one without the other is a package that forgot the define. */
#if defined(EXPECT_REF_DEBUG) && !defined(RCGC_REF_DEBUG)
#error "rcgc-refdebug.pc or rcgc::rcgc_refdebug did not define RCGC_REF_DEBUG"
#endif

#include <stdio.h>
#include <string.h>

static int failures;

static void expect(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "consumer: FAILED: %s\n", what);
        failures++;
    }
}

int main(void) {
    rc_heap *h = rc_heap_new(NULL);
    if (!h) {
        fprintf(stderr, "consumer: rc_heap_new failed\n");
        return 1;
    }

    /* version.h: the installed library is the one the headers describe */
    expect(strcmp(rc_version(), RCGC_VERSION_STRING) == 0 && rc_version_number() == RCGC_VERSION_NUMBER,
           "rc_version() matches the installed headers");
#ifdef EXPECT_VERSION
    expect(strcmp(RCGC_VERSION_STRING, EXPECT_VERSION) == 0, "the headers' version is the package's");
#endif

    /* heap.h: a small block and a large one */
    char *small = rc_malloc(h, 40);
    char *large = rc_malloc(h, 4000);
    expect(small && large, "rc_malloc");
    if (small && large) {
        memset(small, 'a', 40);
        memset(large, 'b', 4000);
        expect(rc_usable_size(small) >= 40 && rc_usable_size(large) >= 4000, "rc_usable_size");
    }
    rc_free(small);
    rc_free(large);

    /* object.h + gc.h + types.h: a list that contains itself is garbage
     * only the collector can free */
    void *l = rc_list_new(h, 0);
    expect(l != NULL, "rc_list_new");
    if (l) {
        expect(rc_list_append(l, l) == RC_OK, "rc_list_append");
        rc_decref(l);
        expect(rc_gc_collect(h, 2) == 1, "rc_gc_collect finds the self-referencing list");
    }

    /* weakref.h: a weak reference dies with its target */
    void *d = rc_dict_new(h);
    void *w = d ? rc_weakref_new(d, NULL, NULL) : NULL;
    expect(w != NULL, "rc_weakref_new");
    if (w) {
        void *got = rc_weakref_get(w);
        expect(got == d, "rc_weakref_get while alive");
        rc_decref(got);
        rc_decref(d);
        expect(rc_weakref_get(w) == NULL, "rc_weakref_get after death");
        rc_decref(w);
    }

#ifdef RCGC_REF_DEBUG
    /* built against librcgc_refdebug (rcgc-refdebug.pc): references are
     * counted per heap, so a new object adds one and its death takes it */
    intptr_t before = rc_total_refs(h);
    void *t = rc_list_new(h, 0);
    expect(t != NULL && rc_total_refs(h) == before + 1, "rc_total_refs counts a new object");
    rc_decref(t);
    expect(rc_total_refs(h) == before, "rc_total_refs after its death");
#endif

    rc_heap_destroy(h);
    if (failures == 0)
        printf("consumer: ok\n");
    return failures != 0;
}
