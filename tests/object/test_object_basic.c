/*
 * test_object_basic.c — making objects: what rc_new hands back (a zeroed body,
 * a count of 1, its type, heap and size), what it refuses, many types in one
 * heap, the per-type bookkeeping and its printout, and hashing/equality.
 */
#include "objtest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- Types used here ----------------------------------------------------------- */

typedef struct pair16 {
    int64_t a, b;
} pair16; /* the "small object": a 16-byte struct */

static void no_refs(void *o, rc_visit_fn visit, void *arg) {
    (void)o;
    (void)visit;
    (void)arg;
}

static const rc_type pair_type = {.name = "pair", .size = sizeof(pair16)};
static const rc_type gcpair_type = {
    .name = "gcpair", .size = sizeof(pair16), .flags = RC_TYPE_GC, .traverse = no_refs};
static const rc_type unnamed_type = {.name = NULL, .size = 8};

/* A variable-size object: `n` bytes follow the struct. */
typedef struct varobj {
    size_t n;
    unsigned char data[];
} varobj;

static size_t varobj_extra(const void *o) { return ((const varobj *)o)->n; }

static const rc_type var_type = {
    .name = "var", .size = sizeof(varobj), .sizeof_extra = varobj_extra};
static const rc_type gcvar_type = {.name = "gcvar",
                                   .size = sizeof(varobj),
                                   .flags = RC_TYPE_GC,
                                   .traverse = no_refs,
                                   .sizeof_extra = varobj_extra};

static void *new_var(rc_heap *h, const rc_type *t, size_t n) {
    varobj *v = rc_new(h, t, n);
    if (v)
        v->n = n;
    return v;
}

/* ---- rc_new ------------------------------------------------------------------------ */

static void check_fresh(rc_heap *h, void *o, const rc_type *t, size_t extra) {
    if (!CHECK_NOT_NULL(o))
        return;
    CHECK_EQ(rc_refcount(o), 1);
    CHECK_PTR_EQ(rc_type_of(o), t);
    CHECK_PTR_EQ(rc_heap_of(o), h);
    CHECK_EQ((uintptr_t)o % 8, 0);
    CHECK_ALL_BYTES(o, t->size + extra, 0);
    CHECK(!rc_is_immortal(o));
    CHECK(!rc_is_finalized(o));
}

static void test_new_basics(void) {
    const rc_alloc_mode modes[] = {RC_MODE_POOL, RC_MODE_MALLOC, RC_MODE_DEBUG};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        rc_heap *h = test_heap_new(modes[m]);
        if (!CHECK_NOT_NULL(h))
            continue;
        CHECK_EQ(rc_live_objects(h), 0);
        CHECK_EQ(rc_live_objects_of(h, &pair_type), 0);

        void *p = rc_new(h, &pair_type, 0);
        check_fresh(h, p, &pair_type, 0);
        CHECK_EQ(rc_sizeof(p), OBJ_HEADERS + sizeof(pair16));

        void *g = rc_new(h, &gcpair_type, 0);
        check_fresh(h, g, &gcpair_type, 0);
        CHECK_EQ(rc_sizeof(g), GC_OBJ_HEADERS + sizeof(pair16));

        CHECK_EQ(rc_live_objects(h), 2);
        CHECK_EQ(rc_live_objects_of(h, &pair_type), 1);
        CHECK_EQ(rc_live_objects_of(h, &gcpair_type), 1);

        /* the body is the user's: write all of it */
        pair16 *pp = p, *gp = g;
        pp->a = -1;
        pp->b = 2;
        gp->a = 3;
        gp->b = -4;
        CHECK_EQ(rc_refcount(p), 1);
        CHECK_PTR_EQ(rc_type_of(p), &pair_type);
        CHECK_PTR_EQ(rc_type_of(g), &gcpair_type);

        rc_decref(p);
        CHECK_EQ(rc_live_objects(h), 1);
        CHECK_EQ(rc_live_objects_of(h, &pair_type), 0);
        rc_decref(g);
        CHECK_EQ(rc_live_objects(h), 0);
        CHECK_EQ(rc_live_objects_of(h, &gcpair_type), 0);
        rc_heap_destroy(h);
    }
}

/* rc_new zeroes recycled memory (pool mode reuses freed blocks at once) and
 * debug mode's 0xCD-filled fresh blocks. */
static void test_new_zeroes_reused_memory(void) {
    enum { N = 200, EXTRA = 40 };
    const rc_alloc_mode modes[] = {RC_MODE_POOL, RC_MODE_DEBUG};
    for (size_t m = 0; m < 2; m++) {
        rc_heap *h = test_heap_new(modes[m]);
        if (!CHECK_NOT_NULL(h))
            continue;
        void *o[N];
        for (int round = 0; round < 3; round++) {
            size_t bad = 0;
            for (int i = 0; i < N; i++) {
                const rc_type *t = (i & 1) ? &gcpair_type : &pair_type;
                o[i] = rc_new(h, t, EXTRA);
                if (!CHECK_NOT_NULL(o[i]))
                    return;
                if (test_first_not(o[i], sizeof(pair16) + EXTRA, 0) != sizeof(pair16) + EXTRA)
                    bad++;
                memset(o[i], 0xAB, sizeof(pair16) + EXTRA); /* dirty it for the next round */
            }
            CHECK_EQ(bad, 0);
            for (int i = 0; i < N; i++)
                rc_decref(o[i]);
        }
        CHECK_EQ(rc_live_objects(h), 0);
        rc_heap_destroy(h);
    }
}

/* Every object pointer is 8-byte aligned, whatever the struct size, the extra
 * bytes, the GC head and the allocator path (pool, large). */
static void test_alignment_and_sizeof(void) {
    static const size_t sizes[] = {0, 1, 7, 8, 9, 15, 16, 17, 24, 100, 480, 488, 500, 600, 5000};
    static const size_t extras[] = {0, 1, 3, 8, 100, 1000, 70000};
    enum { NS = sizeof sizes / sizeof sizes[0], NE = sizeof extras / sizeof extras[0] };
    static rc_type types[2][NS];
    for (size_t i = 0; i < NS; i++) {
        types[0][i] = (rc_type){.name = "sized", .size = sizes[i]};
        types[1][i] = (rc_type){
            .name = "gcsized", .size = sizes[i], .flags = RC_TYPE_GC, .traverse = no_refs};
    }
    const rc_alloc_mode modes[] = {RC_MODE_POOL, RC_MODE_DEBUG};
    for (size_t m = 0; m < 2; m++) {
        rc_heap *h = test_heap_new(modes[m]);
        if (!CHECK_NOT_NULL(h))
            continue;
        size_t misaligned = 0, wrong_size = 0, wrong_type = 0, wrong_heap = 0, corrupt = 0;
        void *objs[2][NS][NE];
        for (int gc = 0; gc < 2; gc++)
            for (size_t i = 0; i < NS; i++)
                for (size_t e = 0; e < NE; e++) {
                    const rc_type *t = &types[gc][i];
                    void *o = rc_new(h, t, extras[e]);
                    objs[gc][i][e] = o;
                    if (!CHECK_NOT_NULL(o))
                        continue;
                    if ((uintptr_t)o % 8)
                        misaligned++;
                    if (rc_sizeof(o) != (gc ? GC_OBJ_HEADERS : OBJ_HEADERS) + sizes[i])
                        wrong_size++; /* no sizeof_extra: the extra is not counted */
                    if (rc_type_of(o) != t)
                        wrong_type++;
                    if (rc_heap_of(o) != h)
                        wrong_heap++;
                    /* every byte of struct + extra is usable */
                    test_fill(o, sizes[i] + extras[e], (uint32_t)(gc * 1000 + i * 10 + e));
                }
        for (int gc = 0; gc < 2; gc++)
            for (size_t i = 0; i < NS; i++)
                for (size_t e = 0; e < NE; e++) {
                    void *o = objs[gc][i][e];
                    if (!o)
                        continue;
                    if (test_verify(o, sizes[i] + extras[e], (uint32_t)(gc * 1000 + i * 10 + e)) !=
                        sizes[i] + extras[e])
                        corrupt++;
                    CHECK_EQ(rc_refcount(o), 1);
                    rc_decref(o);
                }
        CHECK_EQ(misaligned, 0);
        CHECK_EQ(wrong_size, 0);
        CHECK_EQ(wrong_type, 0);
        CHECK_EQ(wrong_heap, 0);
        CHECK_EQ(corrupt, 0);
        CHECK_EQ(rc_live_objects(h), 0);
        rc_heap_destroy(h);
    }
}

/* sizeof_extra: rc_sizeof = header(s) + struct + what the type says. */
static void test_extra_bytes(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    static const size_t ns[] = {0, 1, 100, 480, 1000, 100000};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        varobj *v = new_var(h, &var_type, ns[i]);
        varobj *g = new_var(h, &gcvar_type, ns[i]);
        if (!CHECK_NOT_NULL(v) || !CHECK_NOT_NULL(g))
            break;
        CHECK_EQ(rc_sizeof(v), OBJ_HEADERS + sizeof(varobj) + ns[i]);
        CHECK_EQ(rc_sizeof(g), GC_OBJ_HEADERS + sizeof(varobj) + ns[i]);
        CHECK_ALL_BYTES(v->data, ns[i], 0);
        CHECK_ALL_BYTES(g->data, ns[i], 0);
        test_fill(v->data, ns[i], 1);
        test_fill(g->data, ns[i], 2);
        /* neighbours made and dropped in between do not touch the data */
        for (int k = 0; k < 50; k++) {
            void *t = new_var(h, (k & 1) ? &var_type : &gcvar_type, (size_t)k * 7);
            if (t)
                memset(((varobj *)t)->data, 0x5A, (size_t)k * 7);
            rc_decref(t);
        }
        CHECK_PATTERN(v->data, ns[i], 1);
        CHECK_PATTERN(g->data, ns[i], 2);
        CHECK_PTR_EQ(rc_heap_of(v), h);
        CHECK_PTR_EQ(rc_heap_of(g), h);
        CHECK_PTR_EQ(rc_type_of(g), &gcvar_type);
        rc_decref(v);
        rc_decref(g);
    }
    CHECK_EQ(rc_live_objects(h), 0);
    rc_heap_destroy(h);
}

/* ---- What rc_new refuses ------------------------------------------------------------ */

static void test_bad_input(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    static const rc_type gc_without_traverse = {
        .name = "broken", .size = 16, .flags = RC_TYPE_GC};
    static const rc_type huge_type = {.name = "huge", .size = SIZE_MAX};
    static const rc_type huge_gc_type = {
        .name = "hugegc", .size = SIZE_MAX - 20, .flags = RC_TYPE_GC, .traverse = no_refs};

    CHECK_NULL(rc_new(NULL, &pair_type, 0));
    CHECK_NULL(rc_new(h, NULL, 0));
    CHECK_NULL(rc_new(h, &gc_without_traverse, 0));
    /* struct + extra + header overflows size_t */
    CHECK_NULL(rc_new(h, &pair_type, SIZE_MAX));
    CHECK_NULL(rc_new(h, &pair_type, SIZE_MAX - sizeof(pair16)));     /* + 8 overflows */
    CHECK_NULL(rc_new(h, &pair_type, SIZE_MAX - sizeof(pair16) - 7)); /* + 8 overflows */
    /* + the headers (24, or 16) overflows */
    CHECK_NULL(rc_new(h, &gcpair_type, SIZE_MAX - sizeof(pair16) - (GC_OBJ_HEADERS - 1)));
    CHECK_NULL(rc_new(h, &huge_type, 0));
    CHECK_NULL(rc_new(h, &huge_type, 1));
    CHECK_NULL(rc_new(h, &huge_gc_type, 0));
    CHECK_EQ(rc_live_objects(h), 0);
    CHECK_EQ(rc_live_objects_of(h, &pair_type), 0);
    CHECK_EQ(rc_live_objects_of(h, &gc_without_traverse), 0);

    /* the heap is fine afterwards */
    void *o = rc_new(h, &pair_type, 0);
    check_fresh(h, o, &pair_type, 0);
    CHECK_EQ(rc_live_objects(h), 1);
    rc_decref(o);
    CHECK_EQ(rc_live_objects(h), 0);
    rc_heap_destroy(h);

    /* A request the heap cannot satisfy (over its cap) is an ordinary NULL. */
    rc_heap_config cfg;
    rc_heap_config_init(&cfg);
    cfg.mode = RC_MODE_POOL;
    cfg.max_bytes = 4 * RC_ARENA_SIZE; /* 4 MiB with the default sizes */
    h = rc_heap_new(&cfg);
    if (!CHECK_NOT_NULL(h))
        return;
    void *keep = rc_new(h, &pair_type, 0);
    if (!CHECK_NOT_NULL(keep)) {
        rc_heap_destroy(h);
        return;
    }
    uint64_t failed_before = test_stats(h).failed_allocs;
    CHECK_NULL(rc_new(h, &pair_type, 16 * cfg.max_bytes));
    CHECK_NULL(rc_new(h, &gcpair_type, 16 * cfg.max_bytes));
    CHECK_GT(test_stats(h).failed_allocs, failed_before);
    CHECK_EQ(rc_live_objects(h), 1);
    CHECK_EQ(rc_live_objects_of(h, &gcpair_type), 0);
    void *more = rc_new(h, &gcpair_type, 1000);
    check_fresh(h, more, &gcpair_type, 1000);
    CHECK_EQ(rc_refcount(keep), 1);
    rc_decref(keep);
    rc_decref(more);
    CHECK_EQ(rc_live_objects(h), 0);
    rc_heap_destroy(h);
}

/* ---- Many types in one heap ------------------------------------------------------- */

enum { MANY_TYPES = 1000 };
static rc_type many_types[MANY_TYPES];
static char many_names[MANY_TYPES][16];

static size_t many_count(size_t i) { return i % 5 + 1; }

typedef struct each_seen {
    size_t calls, total;
    size_t per_type[MANY_TYPES];
    size_t foreign; /* types not in many_types */
} each_seen;

static void record_type(const rc_type *t, size_t live, void *arg) {
    each_seen *s = arg;
    s->calls++;
    s->total += live;
    if (t >= many_types && t < many_types + MANY_TYPES)
        s->per_type[t - many_types] += live;
    else
        s->foreign++;
}

static void test_many_types(void) {
    for (size_t i = 0; i < MANY_TYPES; i++) {
        snprintf(many_names[i], sizeof many_names[i], "type%zu", i);
        many_types[i] = (rc_type){.name = many_names[i], .size = 8 + i % 64};
        if (i % 3 == 0) {
            many_types[i].flags = RC_TYPE_GC;
            many_types[i].traverse = no_refs;
        }
    }
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    size_t total = 0;
    for (size_t i = 0; i < MANY_TYPES; i++)
        total += many_count(i);
    void **objs = calloc(total, sizeof *objs);
    size_t *owner = calloc(total, sizeof *owner);
    each_seen *seen = calloc(1, sizeof *seen);
    if (!CHECK_NOT_NULL(objs) || !CHECK_NOT_NULL(owner) || !CHECK_NOT_NULL(seen))
        goto out;

    /* Interleave the types (round-robin), so every allocation switches type. */
    size_t n = 0;
    for (size_t round = 0; round < 5; round++)
        for (size_t i = 0; i < MANY_TYPES; i++)
            if (round < many_count(i)) {
                objs[n] = rc_new(h, &many_types[i], 0);
                owner[n] = i;
                if (!CHECK_NOT_NULL(objs[n]))
                    goto out;
                ((unsigned char *)objs[n])[0] = (unsigned char)i;
                n++;
            }
    CHECK_EQ(n, total);
    CHECK_EQ(rc_live_objects(h), total);
    size_t wrong_type = 0, wrong_count = 0, wrong_size = 0;
    for (size_t k = 0; k < n; k++) {
        const rc_type *t = &many_types[owner[k]];
        if (rc_type_of(objs[k]) != t)
            wrong_type++;
        size_t headers = (t->flags & RC_TYPE_GC) ? GC_OBJ_HEADERS : OBJ_HEADERS;
        if (rc_sizeof(objs[k]) != headers + t->size)
            wrong_size++;
    }
    for (size_t i = 0; i < MANY_TYPES; i++)
        if (rc_live_objects_of(h, &many_types[i]) != many_count(i))
            wrong_count++;
    CHECK_EQ(wrong_type, 0);
    CHECK_EQ(wrong_size, 0);
    CHECK_EQ(wrong_count, 0);

    rc_each_type(h, record_type, seen);
    CHECK_EQ(seen->calls, MANY_TYPES);
    CHECK_EQ(seen->total, total);
    CHECK_EQ(seen->foreign, 0);
    wrong_count = 0;
    for (size_t i = 0; i < MANY_TYPES; i++)
        if (seen->per_type[i] != many_count(i))
            wrong_count++;
    CHECK_EQ(wrong_count, 0);

    /* Drop every object of the even types: they disappear from rc_each_type. */
    size_t dropped = 0;
    for (size_t k = 0; k < n; k++)
        if (owner[k] % 2 == 0) {
            rc_decref(objs[k]);
            objs[k] = NULL;
            dropped++;
        }
    CHECK_EQ(rc_live_objects(h), total - dropped);
    memset(seen, 0, sizeof *seen);
    rc_each_type(h, record_type, seen);
    CHECK_EQ(seen->calls, MANY_TYPES / 2);
    CHECK_EQ(seen->total, total - dropped);
    wrong_count = 0;
    for (size_t i = 0; i < MANY_TYPES; i++) {
        size_t want = (i % 2) ? many_count(i) : 0;
        if (seen->per_type[i] != want || rc_live_objects_of(h, &many_types[i]) != want)
            wrong_count++;
    }
    CHECK_EQ(wrong_count, 0);

    /* The survivors kept their contents and types. */
    wrong_type = 0;
    for (size_t k = 0; k < n; k++)
        if (objs[k] && (rc_type_of(objs[k]) != &many_types[owner[k]] ||
                        ((unsigned char *)objs[k])[0] != (unsigned char)owner[k]))
            wrong_type++;
    CHECK_EQ(wrong_type, 0);

    /* Registered types can be used again. */
    for (size_t k = 0; k < n; k++)
        if (!objs[k]) {
            objs[k] = rc_new(h, &many_types[owner[k]], 0);
            CHECK_NOT_NULL(objs[k]);
        }
    CHECK_EQ(rc_live_objects(h), total);
    for (size_t i = 0; i < MANY_TYPES; i += 97)
        CHECK_EQ(rc_live_objects_of(h, &many_types[i]), many_count(i));

    /* A second heap knows only the types it has seen, in its own order. */
    rc_heap *h2 = test_heap_new(RC_MODE_POOL);
    if (CHECK_NOT_NULL(h2)) {
        void *a = rc_new(h2, &many_types[999], 0);
        void *b = rc_new(h2, &many_types[3], 0);
        CHECK_PTR_EQ(rc_type_of(a), &many_types[999]);
        CHECK_PTR_EQ(rc_type_of(b), &many_types[3]);
        CHECK_PTR_EQ(rc_heap_of(a), h2);
        CHECK_EQ(rc_live_objects(h2), 2);
        CHECK_EQ(rc_live_objects_of(h2, &many_types[999]), 1);
        CHECK_EQ(rc_live_objects_of(h2, &many_types[500]), 0);
        CHECK_EQ(rc_live_objects_of(h, &many_types[999]), many_count(999));
        memset(seen, 0, sizeof *seen);
        rc_each_type(h2, record_type, seen);
        CHECK_EQ(seen->calls, 2);
        rc_decref(a);
        rc_decref(b);
        CHECK_EQ(rc_live_objects(h2), 0);
        rc_heap_destroy(h2);
    }

    for (size_t k = 0; k < n; k++)
        rc_decref(objs[k]);
    CHECK_EQ(rc_live_objects(h), 0);
    memset(seen, 0, sizeof *seen);
    rc_each_type(h, record_type, seen);
    CHECK_EQ(seen->calls, 0);
out:
    free(objs);
    free(owner);
    free(seen);
    rc_heap_destroy(h);
}

/* ---- Bookkeeping printout ---------------------------------------------------------- */

/* The text rc_print_objects writes for h. */
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

/* The number printed after `name` on the line that starts (after blanks) with
 * exactly that name; -1 if there is no such line. */
static long count_on_line(const char *text, const char *name) {
    size_t n = strlen(name);
    for (const char *line = text; line && *line;) {
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, name, n) == 0 && (p[n] == ' ' || p[n] == '\t'))
            return strtol(p + n, NULL, 10);
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return -1;
}

static void test_print_objects(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    char *text = print_to_string(h);
    if (CHECK_NOT_NULL(text))
        CHECK_STR_CONTAINS(text, "live objects: 0");
    free(text);

    void *o[6];
    o[0] = rc_new(h, &pair_type, 0);
    o[1] = rc_new(h, &pair_type, 0);
    o[2] = rc_new(h, &pair_type, 5);
    o[3] = rc_new(h, &gcpair_type, 0);
    o[4] = rc_new(h, &gcpair_type, 0);
    o[5] = rc_new(h, &unnamed_type, 0);
    for (int i = 0; i < 6; i++)
        CHECK_NOT_NULL(o[i]);

    text = print_to_string(h);
    if (CHECK_NOT_NULL(text)) {
        CHECK_STR_CONTAINS(text, "live objects: 6");
        CHECK_EQ(count_on_line(text, "pair"), 3);
        CHECK_EQ(count_on_line(text, "gcpair"), 2);
        CHECK_EQ(count_on_line(text, "(unnamed)"), 1);
        /* not a reference-debugging build: no total */
        CHECK_EQ(rc_total_refs(h), -1);
        CHECK(check_find_nocase(text, "total references") == NULL);
    }
    free(text);

    rc_decref(o[0]);
    rc_decref(o[3]);
    rc_decref(o[5]);
    text = print_to_string(h);
    if (CHECK_NOT_NULL(text)) {
        CHECK_STR_CONTAINS(text, "live objects: 3");
        CHECK_EQ(count_on_line(text, "pair"), 2);
        CHECK_EQ(count_on_line(text, "gcpair"), 1);
        CHECK_EQ(count_on_line(text, "(unnamed)"), -1); /* no live objects: not listed */
    }
    free(text);
    rc_decref(o[1]);
    rc_decref(o[2]);
    rc_decref(o[4]);
    text = print_to_string(h);
    if (CHECK_NOT_NULL(text)) {
        CHECK_STR_CONTAINS(text, "live objects: 0");
        CHECK_EQ(count_on_line(text, "pair"), -1);
        CHECK_EQ(count_on_line(text, "gcpair"), -1);
    }
    free(text);
    rc_heap_destroy(h);
}

/* rc_live_objects counts per heap; rc_heap_of tells the heaps apart. */
static void test_two_heaps(void) {
    rc_heap *a = test_heap_new(RC_MODE_POOL), *b = test_heap_new(RC_MODE_DEBUG);
    if (!CHECK_NOT_NULL(a) || !CHECK_NOT_NULL(b))
        goto out;
    void *oa[10], *ob[4];
    for (int i = 0; i < 10; i++)
        oa[i] = rc_new(a, (i & 1) ? &gcpair_type : &pair_type, (size_t)i * 100);
    for (int i = 0; i < 4; i++)
        ob[i] = rc_new(b, &gcpair_type, (size_t)i * 300);
    CHECK_EQ(rc_live_objects(a), 10);
    CHECK_EQ(rc_live_objects(b), 4);
    CHECK_EQ(rc_live_objects_of(a, &gcpair_type), 5);
    CHECK_EQ(rc_live_objects_of(b, &gcpair_type), 4);
    CHECK_EQ(rc_live_objects_of(b, &pair_type), 0);
    for (int i = 0; i < 10; i++)
        CHECK_PTR_EQ(rc_heap_of(oa[i]), a);
    for (int i = 0; i < 4; i++)
        CHECK_PTR_EQ(rc_heap_of(ob[i]), b);
    for (int i = 0; i < 10; i++)
        rc_decref(oa[i]);
    for (int i = 0; i < 4; i++)
        rc_decref(ob[i]);
    CHECK_EQ(rc_live_objects(a), 0);
    CHECK_EQ(rc_live_objects(b), 0);
out:
    if (a)
        rc_heap_destroy(a);
    if (b)
        rc_heap_destroy(b);
}

/* rc_heap_destroy frees the objects still alive (ASan/valgrind see no leak). */
static void test_destroy_heap_with_live_objects(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    for (int i = 0; i < 1000; i++) {
        void *o = rc_new(h, (i % 3) ? &pair_type : &gcpair_type, (size_t)(i % 7) * 200);
        if (!CHECK_NOT_NULL(o))
            break;
        if (i % 10 == 0)
            rc_make_immortal(o);
    }
    CHECK_EQ(rc_live_objects(h), 1000);
    rc_heap_destroy(h);
}

/* ---- rc_traverse ---------------------------------------------------------------- */

typedef struct trio {
    void *kid[3];
} trio;

static void trio_traverse(void *o, rc_visit_fn visit, void *arg) {
    trio *t = o;
    for (int i = 0; i < 3; i++)
        visit(t->kid[i], arg);
}

static const rc_type trio_type = {
    .name = "trio", .size = sizeof(trio), .flags = RC_TYPE_GC, .traverse = trio_traverse};


static void test_traverse(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    trio *t = rc_new(h, &trio_type, 0);
    void *a = rc_new(h, &pair_type, 0), *b = rc_new(h, &gcpair_type, 0);
    if (!CHECK_NOT_NULL(t) || !CHECK_NOT_NULL(a) || !CHECK_NOT_NULL(b))
        return;
    t->kid[0] = a; /* the trio owns a and b now */
    t->kid[2] = b;
    test_visits v = {{0}, 0};
    rc_traverse(t, test_visit_record, &v);
    CHECK_EQ(v.n, 3);
    CHECK_PTR_EQ(v.seen[0], a);
    CHECK_NULL(v.seen[1]);
    CHECK_PTR_EQ(v.seen[2], b);
    /* types without references: nothing visited */
    test_visits none = {{0}, 0};
    rc_traverse(a, test_visit_record, &none);
    CHECK_EQ(none.n, 0);
    CHECK_EQ(rc_refcount(a), 1); /* traversal takes no references */
    rc_decref(t);                 /* no destroy: the traverse's children are dropped */
    CHECK_EQ(rc_live_objects(h), 0);
    rc_heap_destroy(h);
}

/* ---- Hash and equality ------------------------------------------------------------- */

typedef struct intbox {
    int64_t v;
} intbox;

static int intbox_eq_calls;
static const void *intbox_eq_first;
static const rc_type intbox_type;

static uint64_t intbox_hash(const void *o) {
    return (uint64_t)((const intbox *)o)->v * 0x9E3779B97F4A7C15u;
}

static bool intbox_eq(const void *a, const void *b) {
    intbox_eq_calls++;
    intbox_eq_first = a;
    return rc_type_of(b) == &intbox_type && ((const intbox *)a)->v == ((const intbox *)b)->v;
}

static const rc_type intbox_type = {
    .name = "intbox", .size = sizeof(intbox), .hash = intbox_hash, .eq = intbox_eq};
static const rc_type unhashable_type = {
    .name = "ulist", .size = 16, .flags = RC_TYPE_UNHASHABLE | RC_TYPE_GC, .traverse = no_refs};
/* the flag wins over a hash function */
static const rc_type unhashable_box_type = {.name = "ubox",
                                            .size = sizeof(intbox),
                                            .flags = RC_TYPE_UNHASHABLE,
                                            .hash = intbox_hash,
                                            .eq = intbox_eq};

static void test_hash_identity(void) {
    enum { N = 1000 };
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    void *o[N];
    uint64_t hv[N];
    size_t unhashable = 0, unstable = 0;
    for (int i = 0; i < N; i++) {
        o[i] = rc_new(h, (i & 1) ? &gcpair_type : &pair_type, 0);
        if (!CHECK_NOT_NULL(o[i]))
            return;
        uint64_t again = 0;
        if (!rc_hash(o[i], &hv[i]) || !rc_hash(o[i], &again))
            unhashable++;
        if (again != hv[i])
            unstable++;
    }
    CHECK_EQ(unhashable, 0);
    CHECK_EQ(unstable, 0);
    /* identity hashes of distinct live objects are distinct */
    size_t clashes = 0, equal_distinct = 0;
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            if (hv[i] == hv[j])
                clashes++;
    for (int i = 0; i + 1 < N; i++) {
        if (!rc_equal(o[i], o[i]))
            equal_distinct++;
        if (rc_equal(o[i], o[i + 1]))
            equal_distinct++;
    }
    CHECK_EQ(clashes, 0);
    CHECK_EQ(equal_distinct, 0);
    /* the hash does not change when the contents do */
    ((pair16 *)o[0])->a = 12345;
    uint64_t after = 0;
    CHECK(rc_hash(o[0], &after));
    CHECK_EQ(after, hv[0]);
    /* two objects with equal contents but no eq: different */
    ((pair16 *)o[2])->a = 12345;
    CHECK(!rc_equal(o[0], o[2]));
    for (int i = 0; i < N; i++)
        rc_decref(o[i]);
    rc_heap_destroy(h);
}

static void test_hash_by_type(void) {
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!CHECK_NOT_NULL(h))
        return;
    intbox *a = rc_new(h, &intbox_type, 0), *b = rc_new(h, &intbox_type, 0),
           *c = rc_new(h, &intbox_type, 0);
    void *p = rc_new(h, &pair_type, 0);
    if (!CHECK_NOT_NULL(a) || !CHECK_NOT_NULL(b) || !CHECK_NOT_NULL(c) || !CHECK_NOT_NULL(p))
        return;
    a->v = 42;
    b->v = 42;
    c->v = 43;
    uint64_t ha = 0, hb = 0, hc = 0;
    CHECK(rc_hash(a, &ha));
    CHECK(rc_hash(b, &hb));
    CHECK(rc_hash(c, &hc));
    CHECK_EQ(ha, intbox_hash(a));
    CHECK_EQ(ha, hb);
    CHECK_NE(ha, hc);

    intbox_eq_calls = 0;
    CHECK(rc_equal(a, b));
    CHECK(!rc_equal(a, c));
    CHECK_EQ(intbox_eq_calls, 2);
    intbox_eq_calls = 0;
    CHECK(rc_equal(a, a)); /* identity first: eq not needed */
    CHECK_EQ(intbox_eq_calls, 0);

    /* mixed types: the first object's eq, else the second's (called with the
     * object that has it first) */
    intbox_eq_calls = 0;
    CHECK(!rc_equal(a, p));
    CHECK_EQ(intbox_eq_calls, 1);
    CHECK_PTR_EQ(intbox_eq_first, a);
    intbox_eq_calls = 0;
    CHECK(!rc_equal(p, a));
    CHECK_EQ(intbox_eq_calls, 1);
    CHECK_PTR_EQ(intbox_eq_first, a);

    /* unhashable: false, and *out untouched */
    void *u = rc_new(h, &unhashable_type, 0);
    intbox *ub = rc_new(h, &unhashable_box_type, 0);
    if (CHECK_NOT_NULL(u) && CHECK_NOT_NULL(ub)) {
        uint64_t out = 0xDEADBEEFu;
        CHECK(!rc_hash(u, &out));
        CHECK_EQ(out, 0xDEADBEEFu);
        ub->v = 42;
        CHECK(!rc_hash(ub, &out));
        CHECK_EQ(out, 0xDEADBEEFu);
        /* equality still works for unhashable objects */
        CHECK(rc_equal(u, u));
        CHECK(!rc_equal(u, p));
        CHECK(rc_equal(ub, ub));
    }
    rc_decref(u);
    rc_decref(ub);
    rc_decref(a);
    rc_decref(b);
    rc_decref(c);
    rc_decref(p);
    CHECK_EQ(rc_live_objects(h), 0);
    rc_heap_destroy(h);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_new_basics);
    RUN_TEST(test_new_zeroes_reused_memory);
    RUN_TEST(test_alignment_and_sizeof);
    RUN_TEST(test_extra_bytes);
    RUN_TEST(test_bad_input);
    RUN_TEST(test_many_types);
    RUN_TEST(test_print_objects);
    RUN_TEST(test_two_heaps);
    RUN_TEST(test_destroy_heap_with_live_objects);
    RUN_TEST(test_traverse);
    RUN_TEST(test_hash_identity);
    RUN_TEST(test_hash_by_type);
    return check_summary();
}
