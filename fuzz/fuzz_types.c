/*
 * fuzz/fuzz_types.c — libFuzzer harness: the built-in types, the cycle
 * collector and weak references (rcgc/types.h, gc.h, weakref.h), run
 * against a reference model kept by the harness.
 *
 * Role: the input bytes are read as a program over sixteen slots, each
 * holding a reference to an object or nothing.  The operations make ints
 * (the small-int cache included), floats (NaN, infinities, -0.0, values
 * equal to ints), strs (valid and invalid UTF-8, literals, interning),
 * tuples, lists, dicts, classes with and without a finalizer, instances
 * and weakrefs; append, insert, set, get and pop list items; set, get,
 * delete and iterate dict entries (object keys and C-string keys) and
 * instance attributes; compare and hash any two objects; copy and drop
 * references; walk into containers to take what they hold; collect any
 * generation, freeze, unfreeze, untrack and track; list objects,
 * referrers and referents; print; and fail the allocations of the next
 * operation.  Containers end up holding each other, themselves and their
 * own dicts, so references form cycles that only the collector frees.
 *
 * The model knows every object, the references each holds (in order),
 * every reference the harness holds, hence every reference count, and
 * what the collector must do: which objects are tracked and in which
 * generation, and what a collection of generation g finds (the containers
 * of generations 0..g that nothing outside them reaches).  With automatic
 * collection off it predicts every collection exactly; with it on (small
 * thresholds, chosen by the input), an operation during which a collection
 * ran is followed by a full collection, after which the model's state is
 * exact again.  Invariants checked (any violation aborts):
 *   - each operation's result as Python would give it: dict entries in
 *     insertion order, an existing key keeping its key object, equal keys
 *     found through other objects (1, 1.0), list indices with Python's
 *     meaning, error statuses for wrong types, unhashable keys, NULL and
 *     out-of-range arguments;
 *   - equal objects hash equal (int and float hash exactly as in Python),
 *     equality is symmetric and element-wise for tuples and lists (with the
 *     documented depth limit), strs equal by content, interned strs unique
 *     per content and immortal, small ints and the empty tuple singletons;
 *   - UTF-8 validation and code-point lengths agree with a validator of
 *     the harness's;
 *   - every live object's reference count, type, contents, tracking and
 *     generation; per-type live counts; generation sizes; what
 *     rc_gc_collect returns and counts in its statistics; rc_gc_get_objects,
 *     rc_gc_get_referrers and rc_gc_get_referents agree with the model;
 *   - an object dies exactly when the model says (by reference counting at
 *     once, in a cycle at the collection that finds it): weakref callbacks
 *     run once, for dead objects only, finalizers once per instance, and a
 *     weakref gives its target exactly while the target lives;
 *   - an operation whose allocation fails reports it (NULL or RC_ENOMEM)
 *     and changes nothing; one that must not fail does not;
 *   - the debug allocator never reports anything;
 *   - at the end, with every reference dropped and a full collection, only
 *     the immortal objects remain, and the heap holds as many blocks as it
 *     did at the start plus one per immortal object made since (no leak).
 */
#define _POSIX_C_SOURCE 200809L /* fmemopen */

#include <rcgc.h>

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FT_SLOTS 16
#define FT_MAX_OBJS 4096
#define FT_BUCKETS 8192
/* Steps a model comparison may take before the harness gives up on it
 * (equal structures that share parts take exponential time to compare,
 * in the library as in Python). */
#define FT_EQ_BUDGET 20000
/* Nodes of the tree a tuple unfolds into: bigger ones are not made, so that
 * comparing dict keys stays cheap. */
#define FT_EXPAND_MAX 2048
/* Bytes rc_fprint may write for an object the harness prints. */
#define FT_PRINT_BUDGET 20000
/* The library's limit on nested comparisons (types.h: 1000 levels). */
#define FT_EQ_MAX_DEPTH 1000
/* Full verification of every object every this many operations. */
#define FT_VERIFY_EVERY 8

/* ---- Failing the run ---------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4), noreturn))
#endif
static void ft_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s:%d: invariant violated: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

#define FT_CHECK(cond)                                \
    do {                                              \
        if (!(cond))                                  \
            ft_fail(__FILE__, __LINE__, "%s", #cond); \
    } while (0)
#define FT_CHECK_EQ(a, b)                                                              \
    do {                                                                               \
        intmax_t a_ = (intmax_t)(a), b_ = (intmax_t)(b);                               \
        if (a_ != b_)                                                                  \
            ft_fail(__FILE__, __LINE__, "%s == %s (%jd vs %jd)", #a, #b, a_, b_);      \
    } while (0)

static void ft_on_report(const rc_error_report *r, void *ctx) {
    (void)ctx;
    ft_fail(__FILE__, __LINE__, "allocator report: %s", r->message ? r->message : "(none)");
}

/* ---- The input ------------------------------------------------------------------- */

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static uint8_t rd_u8(reader *r) {
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

static uint64_t rd_uint(reader *r, unsigned bytes) {
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)rd_u8(r) << (8 * i);
    return v;
}

static int64_t rd_int(reader *r) {
    static const int64_t edge[] = {INT64_MIN, INT64_MAX, INT64_MIN + 1, -6, -5, 256, 257,
                                   (int64_t)1 << 53, ((int64_t)1 << 53) + 1, -((int64_t)1 << 53) - 1,
                                   ((int64_t)1 << 61) - 1, (int64_t)1 << 61, -((int64_t)1 << 61) + 1,
                                   ((int64_t)1 << 62), -1, -2, 314159};
    switch (rd_u8(r) % 6) {
    case 0: return (int64_t)(rd_u8(r) % 16) - 8 + (rd_u8(r) & 1 ? 256 : 0);
    case 1: return edge[rd_u8(r) % (sizeof edge / sizeof edge[0])];
    case 2: return (int64_t)rd_uint(r, 8);
    default: return (int64_t)(rd_u8(r) % 40) - 6;
    }
}

static double rd_double(reader *r) {
    static const double edge[] = {0.0, -0.0, 1.0, -1.0, 0.5, 1e300, -1e-300, 5e-324, 1e16, 1e-5,
                                  1e-4, 9007199254740992.0, 9007199254740993.0, 9223372036854775808.0,
                                  -9223372036854775808.0, 123456789.125, 2305843009213693951.0};
    switch (rd_u8(r) % 6) {
    case 0: return edge[rd_u8(r) % (sizeof edge / sizeof edge[0])];
    case 1: return rd_u8(r) & 1 ? INFINITY : -INFINITY;
    case 2: return NAN;
    case 3: {
        uint64_t bits = rd_uint(r, 8);
        double d;
        memcpy(&d, &bits, sizeof d);
        return d;
    }
    default: return (double)rd_int(r);
    }
}

/* Up to `max` bytes of text: raw bytes (any UTF-8 validity), or code points
 * encoded (valid mostly; surrogates and overlong forms sometimes). */
static size_t rd_text(reader *r, char *out, size_t max, bool cstring) {
    size_t n = 0, want = rd_u8(r) % (max + 1);
    bool encode = rd_u8(r) & 1;
    while (n < want && r->n) {
        if (!encode) {
            out[n++] = (char)rd_u8(r);
            continue;
        }
        uint32_t cp;
        switch (rd_u8(r) % 5) {
        case 0: cp = 0x20 + rd_u8(r) % 0x5F; break;
        case 1: cp = 0x80 + (uint32_t)rd_uint(r, 2) % 0x780; break;
        case 2: cp = (uint32_t)rd_uint(r, 2); break;
        case 3: cp = (uint32_t)rd_uint(r, 3) % 0x110010; break;
        default: cp = 'a' + rd_u8(r) % 4; break;
        }
        unsigned char b[4];
        size_t k;
        if (cp < 0x80) {
            b[0] = (unsigned char)cp, k = 1;
        } else if (cp < 0x800) {
            b[0] = (unsigned char)(0xC0 | cp >> 6), b[1] = (unsigned char)(0x80 | (cp & 0x3F)), k = 2;
        } else if (cp < 0x10000) {
            b[0] = (unsigned char)(0xE0 | cp >> 12), b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
            b[2] = (unsigned char)(0x80 | (cp & 0x3F)), k = 3;
        } else {
            b[0] = (unsigned char)(0xF0 | cp >> 18), b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
            b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)), b[3] = (unsigned char)(0x80 | (cp & 0x3F));
            k = 4;
        }
        if (n + k > max)
            break;
        memcpy(out + n, b, k);
        n += k;
    }
    if (cstring) { /* a C string ends at its first NUL */
        for (size_t i = 0; i < n; i++)
            if (out[i] == '\0')
                n = i;
        out[n] = '\0';
    }
    return n;
}

static ptrdiff_t rd_index(reader *r) {
    switch (rd_u8(r) % 8) {
    case 0: return PTRDIFF_MIN;
    case 1: return PTRDIFF_MAX;
    default: return (ptrdiff_t)(int8_t)rd_u8(r) % 12;
    }
}

/* ---- Reference semantics the harness computes itself ---------------------------- */

/* A validator written apart from the library's: code points, or SIZE_MAX. */
static size_t ref_utf8_length(const unsigned char *s, size_t n) {
    size_t i = 0, count = 0;
    while (i < n) {
        unsigned lead = s[i];
        size_t len;
        uint32_t cp, min;
        if (lead < 0x80) {
            i++, count++;
            continue;
        } else if ((lead & 0xE0) == 0xC0) {
            len = 2, cp = lead & 0x1F, min = 0x80;
        } else if ((lead & 0xF0) == 0xE0) {
            len = 3, cp = lead & 0x0F, min = 0x800;
        } else if ((lead & 0xF8) == 0xF0) {
            len = 4, cp = lead & 0x07, min = 0x10000;
        } else {
            return SIZE_MAX;
        }
        if (n - i < len)
            return SIZE_MAX;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return SIZE_MAX;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000))
            return SIZE_MAX;
        i += len, count++;
    }
    return count;
}

#define PY_HASH_BITS 61
#define PY_HASH_MOD (((uint64_t)1 << PY_HASH_BITS) - 1)

/* Python's hash of an int (Python/pyhash.c's rule, for 64-bit values). */
static uint64_t py_hash_int(int64_t v) {
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int64_t h = (int64_t)(mag % PY_HASH_MOD);
    if (v < 0)
        h = -h;
    return (uint64_t)(h == -1 ? -2 : h);
}

/* Python's _Py_HashDouble, for a double that is not a NaN. */
static uint64_t py_hash_double(double v) {
    if (isinf(v))
        return v > 0 ? 314159u : (uint64_t)-314159;
    int e;
    double m = frexp(v, &e);
    int64_t sign = 1;
    if (m < 0) {
        sign = -1;
        m = -m;
    }
    uint64_t x = 0;
    while (m) {
        x = ((x << 28) & PY_HASH_MOD) | x >> (PY_HASH_BITS - 28);
        m *= 268435456.0;
        e -= 28;
        uint64_t y = (uint64_t)m;
        m -= (double)y;
        x += y;
        if (x >= PY_HASH_MOD)
            x -= PY_HASH_MOD;
    }
    e = e >= 0 ? e % PY_HASH_BITS : PY_HASH_BITS - 1 - ((-1 - e) % PY_HASH_BITS);
    x = ((x << e) & PY_HASH_MOD) | x >> (PY_HASH_BITS - e);
    x = x * (uint64_t)sign;
    return x == (uint64_t)-1 ? (uint64_t)-2 : x;
}

/* int == float, exactly (both fit a long double's 64-bit mantissa). */
static bool int_equals_double(int64_t i, double d) {
    return d == d && (long double)i == (long double)d;
}

/* ---- The model ------------------------------------------------------------------- */

enum kind { K_INT, K_FLOAT, K_STR, K_TUPLE, K_LIST, K_DICT, K_CLASS, K_INST, K_WEAKREF, K_KINDS };

static const rc_type *const kind_type[K_KINDS] = {
    &rc_int_type,  &rc_float_type, &rc_str_type,      &rc_tuple_type,  &rc_list_type,
    &rc_dict_type, &rc_class_type, &rc_instance_type, &rc_weakref_type};

static bool is_container(int kind) { return kind >= K_TUPLE; }

typedef struct idvec {
    int *v;
    size_t n, cap;
} idvec;

static void iv_insert(idvec *a, size_t at, int x) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4;
        int *v = realloc(a->v, cap * sizeof *v);
        if (!v)
            abort(); /* the harness itself is out of memory */
        a->v = v;
        a->cap = cap;
    }
    memmove(a->v + at + 1, a->v + at, (a->n - at) * sizeof *a->v);
    a->v[at] = x;
    a->n++;
}

static void iv_push(idvec *a, int x) { iv_insert(a, a->n, x); }

static void iv_remove_at(idvec *a, size_t at) {
    memmove(a->v + at, a->v + at + 1, (a->n - at - 1) * sizeof *a->v);
    a->n--;
}

static void iv_remove_value(idvec *a, int x) {
    for (size_t i = 0; i < a->n; i++) {
        if (a->v[i] == x) {
            iv_remove_at(a, i);
            return;
        }
    }
}

typedef struct mobj {
    void *ptr;
    int kind;
    bool alive;
    bool immortal;
    long refs;        /* expected reference count (mortal objects) */
    long ext;         /* of which the harness holds */
    bool tracked;     /* containers: expected rc_gc_is_tracked */
    int gen;          /* 0..2, 3 = permanent (when tracked) */
    bool atomic;      /* tuple: every item atomic (never on a cycle) */
    bool hashable;    /* tuple: every item hashable */
    size_t expand;    /* tuple: nodes of its unfolded tree (capped) */
    int64_t ival;
    double fval;
    char *bytes;      /* str: its bytes, NUL-terminated */
    size_t nbytes;
    size_t length;    /* str: code points */
    bool interned;
    idvec items;      /* tuple and list items; dict keys */
    idvec vals;       /* dict values */
    int cls, dict;    /* instance: class and dict; class: dict */
    int name;         /* class: name str */
    bool finalizer;   /* class: has the harness's finalizer */
    int target;       /* weakref: target, -1 once cleared */
    idvec wrs;        /* weakrefs to this object (alive ones) */
    int death_wr;     /* the harness's weakref that reports this object's death, or -1 */
    bool reported;    /* ... and it did */
    int finalized;    /* instance: times the finalizer ran */
    bool freed_early; /* its address was reused during an automatic collection */
    int hnext;        /* chain in the address table */
} mobj;

typedef struct ft_state {
    rc_heap *h;
    rc_alloc_mode mode;
    bool exact;          /* automatic collection off: every collection predicted */
    mobj objs[FT_MAX_OBJS];
    int nobjs;
    int buckets[FT_BUCKETS];
    int slot[FT_SLOTS];
    int died[FT_MAX_OBJS]; /* the model's deaths during this operation */
    int ndied;
    int reports[FT_MAX_OBJS]; /* deaths reported by weakref callbacks */
    int nreports;
    unsigned long collections;     /* collections seen by the callback */
    unsigned long collections_seen; /* ... when the last operation settled */
    rc_gc_gen_stats cb_stats[RC_GC_GENERATIONS]; /* summed from the callback */
    rc_gc_gen_stats model_stats[RC_GC_GENERATIONS]; /* exact mode: predicted */
    bool may_fail;       /* allocation failures are being injected */
    bool hooks_fail;     /* the raw hooks refuse */
    unsigned ops;
    FILE *sink;
    rc_raw_hooks hooks;
} ft_state;

static ft_state G;

/* ---- Raw hooks that can refuse --------------------------------------------------- */

static void *ft_arena_alloc(void *ctx, size_t size, size_t align) {
    (void)ctx;
    return G.hooks_fail ? NULL : aligned_alloc(align, size);
}
static void ft_arena_free(void *ctx, void *p, size_t size) {
    (void)ctx, (void)size;
    free(p);
}
static void *ft_large_alloc(void *ctx, size_t size) {
    (void)ctx;
    return G.hooks_fail ? NULL : aligned_alloc(16, (size + 15) & ~(size_t)15);
}
static void ft_large_free(void *ctx, void *p, size_t size) {
    (void)ctx, (void)size;
    free(p);
}

/* ---- Addresses ------------------------------------------------------------------- */

static size_t bucket_of(const void *p) {
    uint64_t x = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 50) & (FT_BUCKETS - 1);
}

/* The live model object at address p, or -1. */
static int lookup(const void *p) {
    for (int id = G.buckets[bucket_of(p)]; id >= 0; id = G.objs[id].hnext)
        if (G.objs[id].ptr == p)
            return id;
    return -1;
}

static void map_del(int id) {
    int *link = &G.buckets[bucket_of(G.objs[id].ptr)];
    while (*link != id) {
        if (*link < 0)
            ft_fail(__FILE__, __LINE__, "object %d not in the address table", id);
        link = &G.objs[*link].hnext;
    }
    *link = G.objs[id].hnext;
}

static void map_add(int id) {
    size_t b = bucket_of(G.objs[id].ptr);
    G.objs[id].hnext = G.buckets[b];
    G.buckets[b] = id;
}

static bool room(int n) { return G.nobjs + n <= FT_MAX_OBJS; }

/* A new model object at p: p must not be a live object's address, unless a
 * collection ran during this operation and freed that one (it must then be
 * garbage: checked when the operation settles). */
static int new_obj(int kind, void *p) {
    FT_CHECK(p != NULL);
    FT_CHECK(((uintptr_t)p % 8) == 0);
    int old = lookup(p);
    if (old >= 0) {
        if (G.exact || G.collections == G.collections_seen)
            ft_fail(__FILE__, __LINE__, "new object %p at the address of live object %d", p, old);
        G.objs[old].freed_early = true;
        map_del(old);
    }
    if (!room(1))
        ft_fail(__FILE__, __LINE__, "model full");
    int id = G.nobjs++;
    mobj *o = &G.objs[id];
    memset(o, 0, sizeof *o);
    o->ptr = p;
    o->kind = kind;
    o->alive = true;
    o->cls = o->dict = o->name = o->target = o->death_wr = -1;
    map_add(id);
    return id;
}

/* A new object the harness holds the only reference to. */
static int adopt(int kind, void *p) {
    int id = new_obj(kind, p);
    G.objs[id].refs = 1;
    G.objs[id].ext = 1;
    return id;
}

static void track_new(int id) {
    G.objs[id].tracked = true;
    G.objs[id].gen = 0;
}

/* Could o ever be on a cycle (types/internal.h's rule)? */
static bool may_join_cycle(int id) {
    const mobj *o = &G.objs[id];
    return is_container(o->kind) && !(o->kind == K_TUPLE && o->atomic);
}

static bool hashable(int id) {
    const mobj *o = &G.objs[id];
    return o->kind == K_TUPLE ? o->hashable : o->kind != K_LIST && o->kind != K_DICT;
}

/* The references o holds, in the order its traverse reports them. */
static void children(int id, idvec *out) {
    const mobj *o = &G.objs[id];
    out->n = 0;
    switch (o->kind) {
    case K_TUPLE:
    case K_LIST:
        for (size_t i = 0; i < o->items.n; i++)
            iv_push(out, o->items.v[i]);
        break;
    case K_DICT:
        for (size_t i = 0; i < o->items.n; i++) {
            iv_push(out, o->items.v[i]);
            iv_push(out, o->vals.v[i]);
        }
        break;
    case K_CLASS:
        iv_push(out, o->name);
        iv_push(out, o->dict);
        break;
    case K_INST:
        iv_push(out, o->cls);
        iv_push(out, o->dict);
        break;
    default: break;
    }
}

static void ref_add(int id) {
    if (!G.objs[id].immortal)
        G.objs[id].refs++;
}

static idvec kill_stack, scratch;

/* Mark o dead and put it on the kill stack, whose references drain_kills
 * drops. */
static void mark_dead(int id) {
    mobj *o = &G.objs[id];
    o->alive = false;
    if (!o->freed_early)
        map_del(id);
    G.died[G.ndied++] = id;
    iv_push(&kill_stack, id);
}

static void ref_drop(int id) {
    mobj *o = &G.objs[id];
    if (o->immortal || !o->alive)
        return;
    if (--o->refs < 0)
        ft_fail(__FILE__, __LINE__, "model: object %d's count below zero", id);
    if (o->refs == 0)
        mark_dead(id);
}

/* Drop the references of every object on the kill stack, which may kill
 * more; clear weakrefs to the dead. */
static void drain_kills(void) {
    while (kill_stack.n) {
        int id = kill_stack.v[--kill_stack.n];
        mobj *o = &G.objs[id];
        children(id, &scratch);
        idvec held = scratch;
        scratch = (idvec){0};
        for (size_t i = 0; i < held.n; i++)
            ref_drop(held.v[i]);
        free(held.v);
        o->items.n = o->vals.n = 0;
        if (o->kind == K_WEAKREF && o->target >= 0) {
            iv_remove_value(&G.objs[o->target].wrs, id);
            o->target = -1;
        }
        for (size_t i = 0; i < o->wrs.n; i++)
            G.objs[o->wrs.v[i]].target = -1;
        o->wrs.n = 0;
    }
}

static void drop_ref(int id) {
    ref_drop(id);
    drain_kills();
}

/* ---- Slots ------------------------------------------------------------------------ */

static int slot_obj(reader *r) { return G.slot[rd_u8(r) % FT_SLOTS]; }
static void *ptr_of(int id) { return id >= 0 ? G.objs[id].ptr : NULL; }
static int kind_of(int id) { return id >= 0 ? G.objs[id].kind : -1; }

/* The harness lets go of one of its references to id. */
static void harness_release(int id) {
    if (id < 0)
        return;
    FT_CHECK(G.objs[id].alive);
    rc_decref(G.objs[id].ptr);
    G.objs[id].ext--;
    drop_ref(id);
}

/* Put id (a reference the harness already holds, or -1) in slot s, dropping
 * what the slot held. */
static void slot_put(int s, int id) {
    int old = G.slot[s];
    G.slot[s] = id;
    harness_release(old);
}

/* Take a new reference to a borrowed object and put it in slot s. */
static void slot_take_borrowed(int s, int id) {
    if (id < 0)
        return;
    rc_incref(G.objs[id].ptr);
    G.objs[id].ext++;
    ref_add(id);
    slot_put(s, id);
}

/* ---- Deaths and finalizers as the library reports them --------------------------- */

static void death_callback(void *weakref, void *arg) {
    int id = (int)(intptr_t)arg;
    FT_CHECK(id >= 0 && id < G.nobjs);
    mobj *o = &G.objs[id];
    FT_CHECK(o->death_wr >= 0 && G.objs[o->death_wr].ptr == weakref);
    if (o->reported)
        ft_fail(__FILE__, __LINE__, "object %d's death reported twice", id);
    o->reported = true;
    G.reports[G.nreports++] = id;
    FT_CHECK(rc_weakref_get(weakref) == NULL);
}

static void finalizer(void *self) {
    int id = lookup(self);
    if (id < 0 || G.objs[id].kind != K_INST)
        ft_fail(__FILE__, __LINE__, "finalizer of %p, no live instance of the model", self);
    mobj *o = &G.objs[id];
    FT_CHECK(rc_instance_class(self) == G.objs[o->cls].ptr);
    FT_CHECK(G.objs[o->cls].finalizer);
    if (++o->finalized > 1)
        ft_fail(__FILE__, __LINE__, "instance %d finalized twice", id);
}

static void gc_callback(rc_heap *h, rc_gc_phase phase, const rc_gc_info *info, void *arg) {
    (void)arg;
    FT_CHECK(h == G.h);
    if (phase != RC_GC_STOP)
        return;
    FT_CHECK(info->generation >= 0 && info->generation < RC_GC_GENERATIONS);
    FT_CHECK_EQ(info->uncollectable, 0); /* every built-in container has a clear */
    G.collections++;
    G.cb_stats[info->generation].collections++;
    G.cb_stats[info->generation].collected += info->collected;
}

/* Watch id's death through a weakref whose callback reports it. */
static void watch(int id) {
    mobj *o = &G.objs[id];
    if (o->death_wr >= 0 || o->immortal || !room(1))
        return;
    /* the operation's own call is done: the harness's weakref must not fail */
    rc_heap_fail_at(G.h, 0);
    G.hooks_fail = false;
    void *w = rc_weakref_new(o->ptr, death_callback, (void *)(intptr_t)id);
    if (!w)
        ft_fail(__FILE__, __LINE__, "rc_weakref_new failed with no failure injected");
    int wid = adopt(K_WEAKREF, w);
    track_new(wid);
    G.objs[wid].target = id;
    iv_push(&G.objs[id].wrs, wid);
    G.objs[id].death_wr = wid;
}

/* ---- Collections in the model ----------------------------------------------------- */

static int gc_refs[FT_MAX_OBJS];
static bool in_set[FT_MAX_OBJS], reached[FT_MAX_OBJS];

/* What a collection of generations 0..gen finds (CPython's rule): the
 * tracked containers of those generations that nothing outside them
 * reaches.  Survivors move up; the garbage dies.  Returns how many. */
static size_t model_collect(int gen) {
    idvec set = {0}, work = {0};
    for (int id = 0; id < G.nobjs; id++) {
        const mobj *o = &G.objs[id];
        in_set[id] = o->alive && o->tracked && o->gen <= gen;
        reached[id] = false;
        if (in_set[id]) {
            /* an immortal's count never falls to what the set holds: a root */
            gc_refs[id] = o->immortal ? INT32_MAX : (int)o->refs;
            iv_push(&set, id);
        }
    }
    for (size_t i = 0; i < set.n; i++) {
        children(set.v[i], &scratch);
        for (size_t k = 0; k < scratch.n; k++)
            if (in_set[scratch.v[k]])
                gc_refs[scratch.v[k]]--;
    }
    for (size_t i = 0; i < set.n; i++) {
        if (gc_refs[set.v[i]] > 0) {
            reached[set.v[i]] = true;
            iv_push(&work, set.v[i]);
        }
    }
    while (work.n) {
        int id = work.v[--work.n];
        children(id, &scratch);
        for (size_t k = 0; k < scratch.n; k++) {
            int c = scratch.v[k];
            if (in_set[c] && !reached[c]) {
                reached[c] = true;
                iv_push(&work, c);
            }
        }
    }
    size_t found = 0;
    for (size_t i = 0; i < set.n; i++) {
        int id = set.v[i];
        if (reached[id]) {
            G.objs[id].gen = gen + 1 < RC_GC_GENERATIONS ? gen + 1 : gen;
        } else {
            found++;
            mark_dead(id);
        }
    }
    drain_kills();
    free(set.v);
    free(work.v);
    return found;
}

/* ---- Settling an operation ------------------------------------------------------- */

static void verify_all(void);

/* After each operation: bring the model up to date with any collection
 * that ran, compare deaths and finalizations, let go of the weakrefs of
 * the dead. */
static void settle(void) {
    rc_heap_fail_at(G.h, 0);
    G.hooks_fail = false;
    G.may_fail = false;
    if (G.collections != G.collections_seen) {
        if (G.exact)
            ft_fail(__FILE__, __LINE__, "a collection ran with automatic collection off");
        /* automatic collections ran: what they freed is some of what a full
         * collection frees, and after one the model is exact again */
        rc_gc_collect(G.h, RC_GC_GENERATIONS - 1);
        model_collect(RC_GC_GENERATIONS - 1);
        G.collections_seen = G.collections;
    }
    for (int i = 0; i < G.nreports; i++)
        if (G.objs[G.reports[i]].alive)
            ft_fail(__FILE__, __LINE__, "the library reported the death of live object %d (%s)",
                    G.reports[i], kind_type[G.objs[G.reports[i]].kind]->name);
    int nd = G.ndied;
    for (int i = 0; i < nd; i++) {
        mobj *o = &G.objs[G.died[i]];
        if (o->death_wr >= 0 && !o->reported)
            ft_fail(__FILE__, __LINE__, "object %d (%s) should have died; no weakref callback",
                    G.died[i], kind_type[o->kind]->name);
        if (o->kind == K_INST && G.objs[o->cls].finalizer && o->finalized != 1)
            ft_fail(__FILE__, __LINE__, "instance %d died, finalized %d times", G.died[i],
                    o->finalized);
    }
    for (int i = 0; i < nd; i++) {
        mobj *o = &G.objs[G.died[i]];
        if (o->death_wr >= 0) { /* its weakref has done its job */
            int w = o->death_wr;
            o->death_wr = -1;
            harness_release(w);
        }
    }
    for (int i = 0; i < G.ndied; i++)
        G.objs[G.died[i]].freed_early = false;
    for (int id = 0; id < G.nobjs; id++)
        if (G.objs[id].freed_early)
            ft_fail(__FILE__, __LINE__, "live object %d's address was reused", id);
    G.ndied = 0;
    G.nreports = 0;
    if (++G.ops % FT_VERIFY_EVERY == 0)
        verify_all();
}

/* ---- Verification ----------------------------------------------------------------- */

static void verify_obj(int id) {
    mobj *o = &G.objs[id];
    void *p = o->ptr;
    FT_CHECK(rc_type_of(p) == kind_type[o->kind]);
    FT_CHECK(rc_heap_of(p) == G.h);
    if (o->immortal)
        FT_CHECK(rc_is_immortal(p));
    else if (rc_refcount(p) != o->refs)
        ft_fail(__FILE__, __LINE__, "object %d (%s): refcount %jd, model %ld", id,
                kind_type[o->kind]->name, (intmax_t)rc_refcount(p), o->refs);
    if (is_container(o->kind) && rc_gc_is_tracked(p) != o->tracked)
        ft_fail(__FILE__, __LINE__, "object %d (%s): tracked %d, model %d", id,
                kind_type[o->kind]->name, rc_gc_is_tracked(p), o->tracked);
    if (!is_container(o->kind))
        FT_CHECK(!rc_gc_is_tracked(p));
    FT_CHECK_EQ(rc_weakref_count(p), o->wrs.n);
    switch (o->kind) {
    case K_INT:
        FT_CHECK(rc_is_int(p) && rc_int_value(p) == o->ival);
        break;
    case K_FLOAT: {
        double v = rc_float_value(p);
        FT_CHECK(rc_is_float(p) && memcmp(&v, &o->fval, sizeof v) == 0);
        break;
    }
    case K_STR:
        FT_CHECK(rc_is_str(p));
        FT_CHECK_EQ(rc_str_nbytes(p), o->nbytes);
        FT_CHECK_EQ(rc_str_length(p), o->length);
        FT_CHECK(memcmp(rc_str_data(p), o->bytes, o->nbytes + 1) == 0);
        FT_CHECK(rc_str_is_interned(p) == o->interned);
        break;
    case K_TUPLE:
        FT_CHECK_EQ(rc_tuple_size(p), o->items.n);
        for (size_t i = 0; i < o->items.n; i++)
            FT_CHECK(rc_tuple_get(p, (ptrdiff_t)i) == ptr_of(o->items.v[i]));
        break;
    case K_LIST:
        FT_CHECK_EQ(rc_list_size(p), o->items.n);
        FT_CHECK(rc_list_capacity(p) >= o->items.n);
        for (size_t i = 0; i < o->items.n; i++)
            if (rc_list_get(p, (ptrdiff_t)i) != ptr_of(o->items.v[i]))
                ft_fail(__FILE__, __LINE__, "list %d item %zu", id, i);
        break;
    case K_DICT: {
        if (rc_dict_size(p) != o->items.n)
            ft_fail(__FILE__, __LINE__, "dict %d: %zu entries, model %zu", id, rc_dict_size(p),
                    o->items.n);
        size_t pos = 0, i = 0;
        void *k, *v;
        while (rc_dict_next(p, &pos, &k, &v)) {
            FT_CHECK(i < o->items.n);
            if (k != ptr_of(o->items.v[i]) || v != ptr_of(o->vals.v[i]))
                ft_fail(__FILE__, __LINE__, "dict %d entry %zu differs", id, i);
            i++;
        }
        FT_CHECK_EQ(i, o->items.n);
        break;
    }
    case K_CLASS:
        FT_CHECK(rc_class_dict(p) == ptr_of(o->dict));
        FT_CHECK(strcmp(rc_class_name(p), G.objs[o->name].bytes) == 0);
        break;
    case K_INST:
        FT_CHECK(rc_instance_class(p) == ptr_of(o->cls));
        FT_CHECK(rc_instance_dict(p) == ptr_of(o->dict));
        FT_CHECK(!rc_gc_is_finalized(p) && o->finalized == 0); /* nothing resurrects */
        break;
    case K_WEAKREF: {
        void *t = rc_weakref_get(p);
        FT_CHECK(t == ptr_of(o->target));
        rc_decref(t);
        break;
    }
    default: break;
    }
}

static void verify_counts(void) {
    size_t live[K_KINDS] = {0}, total = 0, gens[RC_GC_GENERATIONS + 1] = {0};
    for (int id = 0; id < G.nobjs; id++) {
        const mobj *o = &G.objs[id];
        if (!o->alive)
            continue;
        live[o->kind]++;
        total++;
        if (o->tracked)
            gens[o->gen]++;
    }
    for (int k = 0; k < K_KINDS; k++)
        if (rc_live_objects_of(G.h, kind_type[k]) != live[k])
            ft_fail(__FILE__, __LINE__, "%zu live %s objects, model %zu",
                    rc_live_objects_of(G.h, kind_type[k]), kind_type[k]->name, live[k]);
    FT_CHECK_EQ(rc_live_objects(G.h), total);
    for (int g = 0; g <= RC_GC_GENERATIONS; g++)
        if (rc_gc_generation_size(G.h, g) != gens[g])
            ft_fail(__FILE__, __LINE__, "generation %d holds %zu, model %zu", g,
                    rc_gc_generation_size(G.h, g), gens[g]);
    FT_CHECK_EQ(rc_gc_garbage_count(G.h), 0);
    rc_gc_gen_stats st[RC_GC_GENERATIONS];
    rc_gc_get_stats(G.h, st);
    for (int g = 0; g < RC_GC_GENERATIONS; g++) {
        FT_CHECK_EQ(st[g].collections, G.cb_stats[g].collections);
        FT_CHECK_EQ(st[g].collected, G.cb_stats[g].collected);
        FT_CHECK_EQ(st[g].uncollectable, 0);
        if (G.exact) {
            FT_CHECK_EQ(st[g].collections, G.model_stats[g].collections);
            FT_CHECK_EQ(st[g].collected, G.model_stats[g].collected);
        }
    }
}

static void verify_all(void) {
    for (int id = 0; id < G.nobjs; id++)
        if (G.objs[id].alive)
            verify_obj(id);
    verify_counts();
}

/* ---- Equality and hashing --------------------------------------------------------- */

/* 1 equal, 0 not, -1 too costly to tell.  The depth rule is the library's
 * (types.h): a comparison nested FT_EQ_MAX_DEPTH deep answers "not equal". */
static int model_eq(int a, int b, unsigned depth, long *budget) {
    if (a == b)
        return 1;
    if (--*budget < 0)
        return -1;
    const mobj *x = &G.objs[a], *y = &G.objs[b];
    if ((x->kind == K_INT || x->kind == K_FLOAT) && (y->kind == K_INT || y->kind == K_FLOAT)) {
        if (x->kind == K_INT && y->kind == K_INT)
            return x->ival == y->ival;
        if (x->kind == K_FLOAT && y->kind == K_FLOAT)
            return x->fval == y->fval;
        return x->kind == K_INT ? int_equals_double(x->ival, y->fval)
                                : int_equals_double(y->ival, x->fval);
    }
    if (x->kind == K_STR && y->kind == K_STR)
        return x->nbytes == y->nbytes && memcmp(x->bytes, y->bytes, x->nbytes) == 0;
    if ((x->kind == K_TUPLE || x->kind == K_LIST) && y->kind == x->kind) {
        if (x->items.n != y->items.n)
            return 0;
        if (depth >= FT_EQ_MAX_DEPTH)
            return 0;
        for (size_t i = 0; i < x->items.n; i++) {
            int e = model_eq(x->items.v[i], y->items.v[i], depth + 1, budget);
            if (e != 1)
                return e;
        }
        return 1;
    }
    return 0; /* dicts, classes, instances, weakrefs: identity */
}

/* Python's hash of a number, or false when the model cannot say (a NaN's
 * hash is its identity). */
static bool model_num_hash(int id, uint64_t *out) {
    const mobj *o = &G.objs[id];
    if (o->kind == K_INT) {
        *out = py_hash_int(o->ival);
        return true;
    }
    if (o->kind == K_FLOAT && o->fval == o->fval) {
        *out = py_hash_double(o->fval);
        return true;
    }
    return false;
}

static void check_hash(int id) {
    uint64_t h = 0, want;
    bool ok = rc_hash(ptr_of(id), &h);
    int k = G.objs[id].kind;
    FT_CHECK(ok == (k != K_LIST && k != K_DICT));
    FT_CHECK(rc_hashable(ptr_of(id)) == hashable(id));
    if (model_num_hash(id, &want) && h != want)
        ft_fail(__FILE__, __LINE__, "hash of %s %jd / %.17g: %#jx, Python's %#jx",
                kind_type[k]->name, (intmax_t)G.objs[id].ival, G.objs[id].fval, (uintmax_t)h,
                (uintmax_t)want);
}

static void op_compare(reader *r) {
    int a = slot_obj(r), b = slot_obj(r);
    if (a < 0 || b < 0)
        return;
    check_hash(a);
    check_hash(b);
    long budget = FT_EQ_BUDGET;
    int want = model_eq(a, b, 0, &budget);
    if (want < 0)
        return;
    bool ab = rc_equal(ptr_of(a), ptr_of(b)), ba = rc_equal(ptr_of(b), ptr_of(a));
    if (ab != (want == 1) || ba != ab)
        ft_fail(__FILE__, __LINE__, "rc_equal(%s %d, %s %d) = %d / %d, model %d",
                kind_type[kind_of(a)]->name, a, kind_type[kind_of(b)]->name, b, ab, ba, want);
    uint64_t ha, hb;
    if (want == 1 && hashable(a) && hashable(b) && rc_hash(ptr_of(a), &ha) &&
        rc_hash(ptr_of(b), &hb) && ha != hb)
        ft_fail(__FILE__, __LINE__, "equal objects %d and %d hash differently", a, b);
}

/* ---- Making objects ------------------------------------------------------------------ */

/* A creation returned NULL: allowed only when failures are injected. */
static void created_null(bool allowed, const char *what) {
    if (!allowed && !G.may_fail)
        ft_fail(__FILE__, __LINE__, "%s returned NULL", what);
}

/* The interned str with these bytes, or -1. */
static int find_interned(const char *s, size_t n) {
    for (int id = 0; id < G.nobjs; id++) {
        const mobj *o = &G.objs[id];
        if (o->alive && o->kind == K_STR && o->interned && o->nbytes == n &&
            memcmp(o->bytes, s, n) == 0)
            return id;
    }
    return -1;
}

static void set_str_fields(int id, const char *s, size_t n) {
    mobj *o = &G.objs[id];
    o->bytes = malloc(n + 1);
    if (!o->bytes)
        abort();
    memcpy(o->bytes, s, n);
    o->bytes[n] = '\0';
    o->nbytes = n;
    o->length = ref_utf8_length((const unsigned char *)s, n);
}

/* An interned str the library made (as a literal: class names, dict keys),
 * found by its address. */
static int interned_at(void *p, const char *s, size_t n) {
    int id = lookup(p);
    if (id >= 0) {
        FT_CHECK(G.objs[id].kind == K_STR && G.objs[id].interned);
        FT_CHECK(G.objs[id].nbytes == n && memcmp(G.objs[id].bytes, s, n) == 0);
        return id;
    }
    FT_CHECK(find_interned(s, n) < 0);
    id = new_obj(K_STR, p);
    set_str_fields(id, s, n);
    G.objs[id].interned = G.objs[id].immortal = true;
    return id;
}

/* After a failed operation that may have interned s before failing (a
 * literal is interned first, and immortal): find it if it was. */
static void discover_interned(const char *s) {
    size_t n = strlen(s);
    if (n > RC_STR_LITERAL_INTERN_MAX || find_interned(s, n) >= 0 || !room(1))
        return;
    size_t model_strs = 0;
    for (int id = 0; id < G.nobjs; id++)
        model_strs += G.objs[id].alive && G.objs[id].kind == K_STR;
    if (rc_live_objects_of(G.h, &rc_str_type) == model_strs)
        return;
    void *p = rc_str_literal(G.h, s); /* interned already: found, not made */
    FT_CHECK(p != NULL);
    interned_at(p, s, n);
}

static void op_int(reader *r) {
    int s = rd_u8(r) % FT_SLOTS;
    int64_t v = rd_int(r);
    if (!room(2))
        return;
    void *p = rc_int_new(G.h, v);
    if (!p) {
        created_null(false, "rc_int_new");
        return;
    }
    FT_CHECK(rc_is_int(p) && rc_int_value(p) == v && rc_float_value(p) == (double)v);
    int id;
    if (v >= -5 && v <= 256) { /* the heap's singleton */
        id = lookup(p);
        if (id < 0) {
            id = new_obj(K_INT, p);
            G.objs[id].ival = v;
            G.objs[id].immortal = true;
        }
        FT_CHECK(G.objs[id].kind == K_INT && G.objs[id].immortal && G.objs[id].ival == v);
    } else {
        id = adopt(K_INT, p);
        G.objs[id].ival = v;
    }
    if (rd_u8(r) & 1)
        watch(id);
    slot_put(s, id);
}

static void op_float(reader *r) {
    int s = rd_u8(r) % FT_SLOTS;
    double v = rd_double(r);
    if (!room(2))
        return;
    void *p = rc_float_new(G.h, v);
    if (!p) {
        created_null(false, "rc_float_new");
        return;
    }
    int id = adopt(K_FLOAT, p);
    G.objs[id].fval = v;
    if (rd_u8(r) & 1)
        watch(id);
    slot_put(s, id);
}

static void op_str(reader *r) {
    int s = rd_u8(r) % FT_SLOTS;
    char buf[96];
    size_t n = rd_text(r, buf, rd_u8(r) & 1 ? 24 : 90, false);
    if (!room(2))
        return;
    size_t length = ref_utf8_length((unsigned char *)buf, n);
    void *p = rc_str_new(G.h, buf, n);
    if (!p) {
        created_null(length == SIZE_MAX, "rc_str_new");
        return;
    }
    if (length == SIZE_MAX)
        ft_fail(__FILE__, __LINE__, "rc_str_new accepted invalid UTF-8");
    int id = adopt(K_STR, p);
    set_str_fields(id, buf, n);
    if (memchr(buf, '\0', n) == NULL)
        FT_CHECK(rc_str_equal_cstr(p, G.objs[id].bytes));
    if (rd_u8(r) & 1)
        watch(id);
    slot_put(s, id);
}

static void op_literal(reader *r) {
    int s = rd_u8(r) % FT_SLOTS;
    char buf[96];
    size_t n = rd_text(r, buf, rd_u8(r) & 1 ? 16 : 90, true);
    if (!room(2))
        return;
    bool valid = ref_utf8_length((unsigned char *)buf, n) != SIZE_MAX;
    void *p = rc_str_literal(G.h, buf);
    if (!p) {
        created_null(!valid, "rc_str_literal");
        discover_interned(buf);
        return;
    }
    FT_CHECK(valid);
    int id;
    if (n <= RC_STR_LITERAL_INTERN_MAX) {
        id = interned_at(p, buf, n);
    } else {
        id = adopt(K_STR, p);
        set_str_fields(id, buf, n);
        if (rd_u8(r) & 1)
            watch(id);
    }
    slot_put(s, id);
}

static void op_intern(reader *r) {
    int s = rd_u8(r) % FT_SLOTS, a = slot_obj(r);
    void *p = rc_str_intern(ptr_of(a));
    if (kind_of(a) != K_STR) {
        FT_CHECK(p == NULL);
        return;
    }
    mobj *o = &G.objs[a];
    int canon = o->interned ? a : find_interned(o->bytes, o->nbytes);
    if (!p) {
        created_null(false, "rc_str_intern");
        FT_CHECK(!o->interned && rc_str_is_interned(o->ptr) == false);
        return;
    }
    if (canon >= 0) {
        FT_CHECK(p == G.objs[canon].ptr);
    } else { /* o becomes the canonical str, immortal */
        FT_CHECK(p == o->ptr);
        o->interned = o->immortal = true;
        canon = a;
        if (o->death_wr >= 0) { /* it will never die: nothing to watch */
            int w = o->death_wr;
            o->death_wr = -1;
            harness_release(w);
        }
    }
    slot_take_borrowed(s, canon);
}

/* Tuples unfold into at most FT_EXPAND_MAX nodes (see its definition). */
static size_t expand_of(int id) { return G.objs[id].kind == K_TUPLE ? G.objs[id].expand : 1; }

static void op_tuple(reader *r) {
    int s = rd_u8(r) % FT_SLOTS;
    size_t n = rd_u8(r) % 6;
    int item[5];
    void *ptrs[5];
    bool any_null = false;
    size_t expand = 1;
    for (size_t i = 0; i < n; i++) {
        item[i] = slot_obj(r);
        ptrs[i] = ptr_of(item[i]);
        any_null |= item[i] < 0;
        if (item[i] >= 0)
            expand += expand_of(item[i]);
    }
    bool pack = rd_u8(r) & 1;
    if (expand > FT_EXPAND_MAX || !room(2))
        return;
    void *p;
    if (pack) {
        switch (n) {
        case 0: p = rc_tuple_pack(G.h, 0); break;
        case 1: p = rc_tuple_pack(G.h, 1, ptrs[0]); break;
        case 2: p = rc_tuple_pack(G.h, 2, ptrs[0], ptrs[1]); break;
        case 3: p = rc_tuple_pack(G.h, 3, ptrs[0], ptrs[1], ptrs[2]); break;
        case 4: p = rc_tuple_pack(G.h, 4, ptrs[0], ptrs[1], ptrs[2], ptrs[3]); break;
        default: p = rc_tuple_pack(G.h, 5, ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4]); break;
        }
    } else {
        p = rc_tuple_from(G.h, n, ptrs);
    }
    if (!p) {
        created_null(any_null, "rc_tuple_from / rc_tuple_pack");
        return;
    }
    FT_CHECK(!any_null);
    int id;
    if (n == 0) { /* the heap's empty tuple */
        id = lookup(p);
        if (id < 0) {
            id = new_obj(K_TUPLE, p);
            G.objs[id].immortal = G.objs[id].atomic = G.objs[id].hashable = true;
            G.objs[id].expand = 1;
        }
        FT_CHECK(G.objs[id].kind == K_TUPLE && G.objs[id].immortal && G.objs[id].items.n == 0);
    } else {
        id = adopt(K_TUPLE, p);
        mobj *o = &G.objs[id];
        o->atomic = o->hashable = true;
        o->expand = expand;
        for (size_t i = 0; i < n; i++) {
            iv_push(&o->items, item[i]);
            ref_add(item[i]);
            o->atomic &= !may_join_cycle(item[i]);
            o->hashable &= hashable(item[i]);
        }
        if (!o->atomic)
            track_new(id);
        if (rd_u8(r) & 1)
            watch(id);
    }
    slot_put(s, id);
}

static void op_list(reader *r) {
    int s = rd_u8(r) % FT_SLOTS;
    size_t hint = rd_u8(r) % 20;
    if (hint == 19)
        hint = SIZE_MAX / 4; /* more than a list can hold: refused */
    if (!room(2))
        return;
    void *p = rc_list_new(G.h, hint);
    if (!p) {
        created_null(hint == SIZE_MAX / 4, "rc_list_new");
        return;
    }
    FT_CHECK(hint != SIZE_MAX / 4);
    FT_CHECK_EQ(rc_list_capacity(p), hint);
    int id = adopt(K_LIST, p);
    track_new(id);
    if (rd_u8(r) & 1)
        watch(id);
    slot_put(s, id);
}

static void op_dict(reader *r) {
    int s = rd_u8(r) % FT_SLOTS;
    if (!room(2))
        return;
    void *p = rc_dict_new(G.h);
    if (!p) {
        created_null(false, "rc_dict_new");
        return;
    }
    int id = adopt(K_DICT, p); /* untracked until it holds a container */
    if (rd_u8(r) & 1)
        watch(id);
    slot_put(s, id);
}

static void op_class(reader *r) {
    int s = rd_u8(r) % FT_SLOTS;
    char name[40];
    size_t n = rd_text(r, name, 32, true);
    bool with_finalizer = rd_u8(r) & 1;
    if (!room(4))
        return;
    bool valid = ref_utf8_length((unsigned char *)name, n) != SIZE_MAX;
    void *p = rc_class_new(G.h, name, with_finalizer ? finalizer : NULL);
    if (!p) {
        created_null(!valid, "rc_class_new");
        discover_interned(name);
        return;
    }
    FT_CHECK(valid);
    void *name_str = rc_str_literal(G.h, name); /* interned by the class: found, not made */
    int nid = interned_at(name_str, name, n);
    int did = new_obj(K_DICT, rc_class_dict(p));
    G.objs[did].refs = 1;
    int id = adopt(K_CLASS, p);
    track_new(id);
    G.objs[id].name = nid;
    G.objs[id].dict = did;
    G.objs[id].finalizer = with_finalizer;
    if (rd_u8(r) & 1)
        watch(id);
    if (rd_u8(r) & 1)
        watch(did);
    slot_put(s, id);
}

static void op_instance(reader *r) {
    int s = rd_u8(r) % FT_SLOTS, c = slot_obj(r);
    if (!room(4))
        return;
    void *p = rc_instance_new(G.h, ptr_of(c));
    if (!p) {
        created_null(kind_of(c) != K_CLASS, "rc_instance_new");
        return;
    }
    FT_CHECK(kind_of(c) == K_CLASS);
    int did = new_obj(K_DICT, rc_instance_dict(p));
    G.objs[did].refs = 1;
    int id = adopt(K_INST, p);
    track_new(id);
    G.objs[id].cls = c;
    G.objs[id].dict = did;
    ref_add(c);
    if (rd_u8(r) & 1)
        watch(id);
    if (rd_u8(r) & 1)
        watch(did);
    slot_put(s, id);
}

static void op_weakref(reader *r) {
    int s = rd_u8(r) % FT_SLOTS, t = slot_obj(r);
    if (!room(2))
        return;
    void *p = rc_weakref_new(ptr_of(t), NULL, NULL);
    if (!p) {
        created_null(t < 0, "rc_weakref_new");
        return;
    }
    FT_CHECK(t >= 0);
    int id = adopt(K_WEAKREF, p);
    track_new(id);
    G.objs[id].target = t;
    iv_push(&G.objs[t].wrs, id);
    slot_put(s, id);
}

/* ---- Lists ------------------------------------------------------------------------- */

static void expect_status(rc_status got, rc_status want, const char *what) {
    if (got == want || (got == RC_ENOMEM && want == RC_OK && G.may_fail))
        return;
    ft_fail(__FILE__, __LINE__, "%s returned %s, expected %s", what, rc_status_str(got),
            rc_status_str(want));
}

/* Python's index: -1 is the last item; -1 when out of range. */
static long norm_index(ptrdiff_t i, size_t n) {
    if (i < 0)
        i += (ptrdiff_t)n;
    return i < 0 || (size_t)i >= n ? -1 : (long)i;
}

static rc_status store_status(int l, int item) {
    if (l < 0 || item < 0)
        return RC_EINVAL;
    return kind_of(l) == K_LIST ? RC_OK : RC_ETYPE;
}

static void list_store(int l, size_t at, int item) {
    iv_insert(&G.objs[l].items, at, item);
    ref_add(item);
}

static void op_list_add(reader *r) {
    int l = slot_obj(r), item = slot_obj(r);
    unsigned how = rd_u8(r) % 3;
    ptrdiff_t i = rd_index(r);
    rc_status want = store_status(l, item), got;
    if (how == 0) {
        got = rc_list_append(ptr_of(l), ptr_of(item));
    } else if (how == 1) {
        /* the steal variant: a new reference of the harness's, taken in every case */
        if (item >= 0) {
            rc_incref(ptr_of(item));
            ref_add(item);
        }
        got = rc_list_append_steal(ptr_of(l), ptr_of(item));
        if (item < 0)
            want = RC_ENOMEM;
    } else {
        got = rc_list_insert(ptr_of(l), i, ptr_of(item));
    }
    expect_status(got, want, how == 2 ? "rc_list_insert" : "rc_list_append");
    if (got == RC_OK) {
        size_t n = G.objs[l].items.n, at = n;
        if (how == 2)
            at = i < 0 ? (i + (ptrdiff_t)n < 0 ? 0 : (size_t)(i + (ptrdiff_t)n))
                       : ((size_t)i > n ? n : (size_t)i);
        list_store(l, at, item);
    }
    if (how == 1 && item >= 0)
        drop_ref(item); /* the stolen reference */
    if (l >= 0 && kind_of(l) == K_LIST)
        verify_obj(l);
}

static void op_list_set(reader *r) {
    int l = slot_obj(r), item = slot_obj(r);
    ptrdiff_t i = rd_index(r);
    rc_status want = store_status(l, item);
    long at = -1;
    if (want == RC_OK) {
        at = norm_index(i, G.objs[l].items.n);
        if (at < 0)
            want = RC_EINDEX;
    }
    rc_status got = rc_list_set(ptr_of(l), i, ptr_of(item));
    expect_status(got, want, "rc_list_set");
    if (got == RC_OK) {
        int old = G.objs[l].items.v[at];
        G.objs[l].items.v[at] = item;
        ref_add(item);
        drop_ref(old);
    }
    if (kind_of(l) == K_LIST)
        verify_obj(l);
}

static void op_list_pop(reader *r) {
    int s = rd_u8(r) % FT_SLOTS, l = slot_obj(r);
    ptrdiff_t i = rd_index(r);
    long at = kind_of(l) == K_LIST ? norm_index(i, G.objs[l].items.n) : -1;
    void *p = rc_list_pop(ptr_of(l), i);
    if (at < 0) {
        FT_CHECK(p == NULL);
        return;
    }
    int item = G.objs[l].items.v[at];
    FT_CHECK(p == ptr_of(item)); /* never fails for lack of memory */
    iv_remove_at(&G.objs[l].items, (size_t)at);
    G.objs[item].ext++; /* the list's reference is the harness's now */
    verify_obj(l); /* before the slot changes: it may hold the list's last reference */
    slot_put(s, item);
}

static void op_list_clear(reader *r) {
    int l = slot_obj(r);
    rc_list_clear(ptr_of(l));
    if (kind_of(l) != K_LIST)
        return;
    FT_CHECK_EQ(rc_list_capacity(ptr_of(l)), 0);
    idvec old = G.objs[l].items;
    G.objs[l].items = (idvec){0};
    for (size_t k = 0; k < old.n; k++)
        ref_drop(old.v[k]);
    drain_kills();
    free(old.v);
    verify_obj(l);
}

/* ---- Dicts ------------------------------------------------------------------------- */

/* The entry of d whose key equals key, or -1. */
static long dict_find(int d, int key) {
    const mobj *o = &G.objs[d];
    for (size_t i = 0; i < o->items.n; i++) {
        long budget = FT_EQ_BUDGET;
        int e = model_eq(o->items.v[i], key, 0, &budget);
        if (e < 0)
            ft_fail(__FILE__, __LINE__, "model: dict key comparison too costly");
        if (e)
            return (long)i;
    }
    return -1;
}

/* The entry of d with a str key of exactly these bytes, or -1. */
static long dict_find_str(int d, const char *s, size_t n) {
    const mobj *o = &G.objs[d];
    for (size_t i = 0; i < o->items.n; i++) {
        const mobj *k = &G.objs[o->items.v[i]];
        if (k->kind == K_STR && k->nbytes == n && memcmp(k->bytes, s, n) == 0)
            return (long)i;
    }
    return -1;
}

/* A dict becomes tracked, for good, once a key or value could be on a
 * cycle (CPython's rule, types.h). */
static void dict_track_for(int d, int key, int value) {
    mobj *o = &G.objs[d];
    if (!o->tracked && (may_join_cycle(value) || (key >= 0 && may_join_cycle(key))))
        track_new(d);
}

static void dict_replace(int d, long at, int value) {
    int old = G.objs[d].vals.v[at];
    G.objs[d].vals.v[at] = value;
    ref_add(value);
    dict_track_for(d, -1, value);
    drop_ref(old);
}

static void dict_append(int d, int key, int value) {
    iv_push(&G.objs[d].items, key);
    iv_push(&G.objs[d].vals, value);
    ref_add(key);
    ref_add(value);
    dict_track_for(d, key, value);
}

static rc_status key_status(int d, int key) {
    if (d < 0 || key < 0)
        return RC_EINVAL;
    if (kind_of(d) != K_DICT || !hashable(key))
        return RC_ETYPE;
    return RC_OK;
}

static void op_dict_set(reader *r) {
    int d = slot_obj(r), key = slot_obj(r), value = slot_obj(r);
    bool steal = rd_u8(r) & 1;
    rc_status want = key_status(d, key);
    if (want == RC_OK && value < 0)
        want = RC_EINVAL;
    rc_status got;
    if (steal) {
        for (int k = 0; k < 2; k++) {
            int o = k ? value : key;
            if (o >= 0) {
                rc_incref(ptr_of(o));
                ref_add(o);
            }
        }
        if (key < 0 || value < 0)
            want = RC_ENOMEM;
        got = rc_dict_set_steal(ptr_of(d), ptr_of(key), ptr_of(value));
    } else {
        got = rc_dict_set(ptr_of(d), ptr_of(key), ptr_of(value));
    }
    expect_status(got, want, "rc_dict_set");
    if (got == RC_OK) {
        long at = dict_find(d, key);
        if (at >= 0)
            dict_replace(d, at, value);
        else
            dict_append(d, key, value);
    }
    if (steal) {
        if (key >= 0)
            drop_ref(key);
        if (value >= 0)
            drop_ref(value);
    }
    if (kind_of(d) == K_DICT)
        verify_obj(d);
}

static void op_dict_get(reader *r) {
    int d = slot_obj(r), key = slot_obj(r), s = rd_u8(r) % FT_SLOTS;
    rc_status want = key_status(d, key);
    long at = want == RC_OK ? dict_find(d, key) : -1;
    if (want == RC_OK && at < 0)
        want = RC_EKEY;
    void *out = (void *)1;
    rc_status got = rc_dict_get_status(ptr_of(d), ptr_of(key), &out);
    expect_status(got, want, "rc_dict_get_status");
    void *v = rc_dict_get(ptr_of(d), ptr_of(key));
    if (at < 0) {
        FT_CHECK(out == NULL && v == NULL);
        return;
    }
    int value = G.objs[d].vals.v[at];
    FT_CHECK(out == ptr_of(value) && v == out);
    slot_take_borrowed(s, value);
}

static void op_dict_del(reader *r) {
    int d = slot_obj(r), key = slot_obj(r);
    rc_status want = key_status(d, key);
    long at = want == RC_OK ? dict_find(d, key) : -1;
    if (want == RC_OK && at < 0)
        want = RC_EKEY;
    rc_status got = rc_dict_del(ptr_of(d), ptr_of(key));
    expect_status(got, want, "rc_dict_del");
    if (at >= 0) {
        mobj *o = &G.objs[d];
        int k = o->items.v[at], v = o->vals.v[at];
        iv_remove_at(&o->items, (size_t)at);
        iv_remove_at(&o->vals, (size_t)at);
        ref_drop(k);
        ref_drop(v);
        drain_kills();
    }
    if (kind_of(d) == K_DICT)
        verify_obj(d);
}

static void op_dict_clear(reader *r) {
    int d = slot_obj(r);
    rc_dict_clear(ptr_of(d));
    if (kind_of(d) != K_DICT)
        return;
    mobj *o = &G.objs[d];
    idvec k = o->items, v = o->vals;
    o->items = o->vals = (idvec){0};
    for (size_t i = 0; i < k.n; i++) {
        ref_drop(k.v[i]);
        ref_drop(v.v[i]);
    }
    drain_kills();
    free(k.v);
    free(v.v);
    verify_obj(d);
}

/* The str key of entry `at` of d, just inserted by the library with a key
 * made by rc_str_literal (interned up to RC_STR_LITERAL_INTERN_MAX bytes,
 * else a new str the dict holds alone). */
static int inserted_str_key(int d, const char *s, size_t n) {
    size_t pos = 0, count = 0;
    void *k = NULL;
    while (rc_dict_next(ptr_of(d), &pos, &k, NULL))
        count++;
    FT_CHECK_EQ(count, G.objs[d].items.n + 1);
    if (n <= RC_STR_LITERAL_INTERN_MAX)
        return interned_at(k, s, n);
    int id = new_obj(K_STR, k);
    set_str_fields(id, s, n);
    return id; /* its reference is the dict's: dict_append counts it */
}

/* d[name] through the C-string calls: set (value != -2), get or delete. */
static void str_key_op(int d, const char *name, int value, int op, int s, bool is_attr, int inst) {
    size_t n = strlen(name);
    bool valid = ref_utf8_length((const unsigned char *)name, n) != SIZE_MAX;
    bool is_dict = kind_of(d) == K_DICT;
    long at = is_dict ? dict_find_str(d, name, n) : -1;
    void *dp = ptr_of(d);
    if (op == 0) { /* set */
        rc_status want = dp == NULL || value < 0 ? RC_EINVAL
                         : !is_dict              ? RC_ETYPE
                         : at < 0 && !valid      ? RC_EINVAL
                                                 : RC_OK;
        if (is_attr && inst >= 0 && kind_of(inst) != K_INST)
            want = value < 0 ? RC_EINVAL : RC_ETYPE;
        if (!room(1))
            return;
        rc_status got = is_attr ? rc_instance_setattr(ptr_of(inst), name, ptr_of(value))
                                : rc_dict_set_str(dp, name, ptr_of(value));
        expect_status(got, want, is_attr ? "rc_instance_setattr" : "rc_dict_set_str");
        if (got == RC_OK && at >= 0)
            dict_replace(d, at, value);
        else if (got == RC_OK)
            dict_append(d, inserted_str_key(d, name, n), value);
        else if (got == RC_ENOMEM)
            discover_interned(name);
    } else if (op == 1) { /* get */
        void *v = is_attr ? rc_instance_getattr(ptr_of(inst), name) : rc_dict_get_str(dp, name);
        int want = at >= 0 ? G.objs[d].vals.v[at] : -1;
        if (is_attr && want < 0 && kind_of(inst) == K_INST) { /* then the class's dict */
            int cd = G.objs[G.objs[inst].cls].dict;
            long cat = dict_find_str(cd, name, n);
            want = cat >= 0 ? G.objs[cd].vals.v[cat] : -1;
        }
        if (is_attr && kind_of(inst) != K_INST)
            want = -1;
        FT_CHECK(v == ptr_of(want));
        slot_take_borrowed(s, want);
    } else { /* delete */
        rc_status want = dp == NULL ? RC_EINVAL : !is_dict ? RC_ETYPE : at < 0 ? RC_EKEY : RC_OK;
        if (is_attr && inst >= 0 && kind_of(inst) != K_INST)
            want = RC_ETYPE;
        rc_status got = is_attr ? rc_instance_delattr(ptr_of(inst), name) : rc_dict_del_str(dp, name);
        expect_status(got, want, is_attr ? "rc_instance_delattr" : "rc_dict_del_str");
        if (got == RC_OK) {
            mobj *o = &G.objs[d];
            int k = o->items.v[at], v = o->vals.v[at];
            iv_remove_at(&o->items, (size_t)at);
            iv_remove_at(&o->vals, (size_t)at);
            ref_drop(k);
            ref_drop(v);
            drain_kills();
        }
    }
    if (is_dict && G.objs[d].alive)
        verify_obj(d);
}

static void op_str_key(reader *r) {
    int d = slot_obj(r), value = slot_obj(r), op = rd_u8(r) % 3, s = rd_u8(r) % FT_SLOTS;
    char name[96];
    rd_text(r, name, rd_u8(r) & 1 ? 8 : 80, true);
    str_key_op(d, name, value, op, s, false, -1);
}

static void op_attr(reader *r) {
    int inst = slot_obj(r), value = slot_obj(r), op = rd_u8(r) % 3, s = rd_u8(r) % FT_SLOTS;
    char name[96];
    rd_text(r, name, rd_u8(r) & 1 ? 8 : 80, true);
    if (inst < 0) { /* NULL object */
        if (op == 0)
            expect_status(rc_instance_setattr(NULL, name, ptr_of(value)), RC_EINVAL, "setattr");
        else if (op == 1)
            FT_CHECK(rc_instance_getattr(NULL, name) == NULL);
        else
            expect_status(rc_instance_delattr(NULL, name), RC_EINVAL, "delattr");
        return;
    }
    int d = kind_of(inst) == K_INST ? G.objs[inst].dict : -1;
    if (d < 0) { /* not an instance */
        if (op == 0)
            expect_status(rc_instance_setattr(ptr_of(inst), name, ptr_of(value)),
                          value < 0 ? RC_EINVAL : RC_ETYPE, "setattr");
        else if (op == 1)
            FT_CHECK(rc_instance_getattr(ptr_of(inst), name) == NULL);
        else
            expect_status(rc_instance_delattr(ptr_of(inst), name), RC_ETYPE, "delattr");
        return;
    }
    str_key_op(d, name, value, op, s, true, inst);
}

/* ---- Many entries at once ---------------------------------------------------------- */

/* Dicts that outgrow a 1-byte index and rebuild many times, and lists that
 * grow and shrink far, with the heap's small ints as keys and items: they
 * are immortal, so as many as wanted cost the model no new objects. */

/* The model object of the heap's small int v, or -1 if the model is full. */
static int small_int(int64_t v) {
    if (!room(1))
        return -1;
    void *p = rc_int_new(G.h, v);
    FT_CHECK(p != NULL);
    int id = lookup(p);
    if (id < 0) {
        id = new_obj(K_INT, p);
        G.objs[id].ival = v;
        G.objs[id].immortal = true;
    }
    FT_CHECK(G.objs[id].kind == K_INT && G.objs[id].ival == v);
    return id;
}

/* No failure is injected into these (the checks are on growth, not failure). */
static void no_injection(void) {
    rc_heap_fail_at(G.h, 0);
    G.hooks_fail = false;
    G.may_fail = false;
}

static void op_bulk_dict(reader *r) {
    int d = slot_obj(r), value = slot_obj(r);
    size_t count = 1 + rd_uint(r, 2) % 300, start = rd_u8(r), step = 1 + rd_u8(r) % 7;
    size_t every = 1 + rd_u8(r) % 4;
    if (kind_of(d) != K_DICT)
        return;
    no_injection();
    for (size_t i = 0; i < count; i++) {
        int key = small_int(-5 + (int64_t)((start + i * step) % 262));
        if (key < 0)
            break;
        int v = value >= 0 ? value : key;
        expect_status(rc_dict_set(ptr_of(d), ptr_of(key), ptr_of(v)), RC_OK, "rc_dict_set");
        long at = dict_find(d, key);
        if (at >= 0)
            dict_replace(d, at, v);
        else
            dict_append(d, key, v);
    }
    verify_obj(d);
    /* then every `every`-th entry deleted, the first one included */
    idvec keys = {0};
    for (size_t i = 0; i < G.objs[d].items.n; i += every)
        iv_push(&keys, G.objs[d].items.v[i]);
    for (size_t i = 0; i < keys.n; i++) {
        expect_status(rc_dict_del(ptr_of(d), ptr_of(keys.v[i])), RC_OK, "rc_dict_del");
        long at = dict_find(d, keys.v[i]);
        FT_CHECK(at >= 0);
        mobj *o = &G.objs[d];
        int k = o->items.v[at], v = o->vals.v[at];
        iv_remove_at(&o->items, (size_t)at);
        iv_remove_at(&o->vals, (size_t)at);
        ref_drop(k);
        ref_drop(v);
        drain_kills();
    }
    free(keys.v);
    verify_obj(d);
}

static void op_bulk_list(reader *r) {
    int l = slot_obj(r), item = slot_obj(r);
    size_t count = rd_uint(r, 2) % 600, pops = rd_uint(r, 2) % 700;
    unsigned where = rd_u8(r) % 3; /* appended / inserted at the front / in the middle */
    if (kind_of(l) != K_LIST)
        return;
    no_injection();
    for (size_t i = 0; i < count; i++) {
        int x = item >= 0 ? item : small_int((int64_t)(i % 200));
        if (x < 0)
            break;
        size_t n = G.objs[l].items.n, at = where == 0 ? n : where == 1 ? 0 : n / 2;
        rc_status got = where == 0 ? rc_list_append(ptr_of(l), ptr_of(x))
                                   : rc_list_insert(ptr_of(l), (ptrdiff_t)at, ptr_of(x));
        expect_status(got, RC_OK, "rc_list_append / rc_list_insert");
        list_store(l, at, x);
    }
    verify_obj(l);
    size_t popped = 0;
    for (size_t i = 0; i < pops && G.objs[l].items.n; i++, popped++) {
        size_t n = G.objs[l].items.n;
        ptrdiff_t at = i % 3 == 0 ? -1 : i % 3 == 1 ? 0 : (ptrdiff_t)(n / 2);
        size_t k = at < 0 ? n - 1 : (size_t)at;
        int x = G.objs[l].items.v[k];
        void *p = rc_list_pop(ptr_of(l), at);
        FT_CHECK(p == ptr_of(x));
        iv_remove_at(&G.objs[l].items, k);
        rc_decref(p);
        drop_ref(x);
    }
    if (popped) /* a pop that leaves the storage less than half used shrinks it */
        FT_CHECK(rc_list_capacity(ptr_of(l)) <= 2 * G.objs[l].items.n + 16);
    verify_obj(l);
}

/* ---- Walking into containers ------------------------------------------------------- */

static void op_take(reader *r) {
    int s = rd_u8(r) % FT_SLOTS, a = slot_obj(r);
    unsigned how = rd_u8(r) % 6;
    ptrdiff_t i = rd_index(r);
    const mobj *o = a >= 0 ? &G.objs[a] : NULL;
    int want = -1;
    void *got = NULL;
    switch (how) {
    case 0: /* the instance's dict, or the class's */
        got = rc_instance_dict(ptr_of(a));
        want = o && o->kind == K_INST ? o->dict : -1;
        FT_CHECK(got == ptr_of(want));
        if (want < 0) {
            got = rc_class_dict(ptr_of(a));
            want = o && o->kind == K_CLASS ? o->dict : -1;
        }
        break;
    case 1:
        got = rc_instance_class(ptr_of(a));
        want = o && o->kind == K_INST ? o->cls : -1;
        break;
    case 2: {
        got = rc_tuple_get(ptr_of(a), i);
        long at = o && o->kind == K_TUPLE ? norm_index(i, o->items.n) : -1;
        want = at >= 0 ? o->items.v[at] : -1;
        break;
    }
    case 3: {
        got = rc_list_get(ptr_of(a), i);
        long at = o && o->kind == K_LIST ? norm_index(i, o->items.n) : -1;
        want = at >= 0 ? o->items.v[at] : -1;
        break;
    }
    case 4: { /* a dict entry's key or value, by position */
        size_t pos = 0, k = (size_t)(uint8_t)i % 8;
        void *key = NULL, *value = NULL;
        bool found = false;
        for (size_t j = 0; j <= k && (found = rc_dict_next(ptr_of(a), &pos, &key, &value)); j++)
            ;
        bool has = o && o->kind == K_DICT && k < o->items.n;
        FT_CHECK(found == has);
        if (has) {
            want = (i & 1) ? o->vals.v[k] : o->items.v[k];
            got = (i & 1) ? value : key;
        }
        break;
    }
    default: { /* the weakref's target: a new reference */
        got = rc_weakref_get(ptr_of(a));
        want = o && o->kind == K_WEAKREF ? o->target : -1;
        FT_CHECK(got == ptr_of(want));
        if (want >= 0) {
            G.objs[want].ext++;
            ref_add(want);
            slot_put(s, want);
        }
        return;
    }
    }
    FT_CHECK(got == ptr_of(want));
    slot_take_borrowed(s, want);
}

/* ---- The collector ---------------------------------------------------------------- */

typedef struct walk {
    int gen;   /* -1: all */
    size_t n;
    idvec seen;
} walk;

static void walk_object(void *p, void *arg) {
    walk *w = arg;
    int id = lookup(p);
    if (id < 0 || !G.objs[id].tracked || (w->gen >= 0 && G.objs[id].gen != w->gen))
        ft_fail(__FILE__, __LINE__, "rc_gc_get_objects(%d) gave %p (model object %d)", w->gen, p, id);
    w->n++;
}

static void walk_referrer(void *p, void *arg) {
    walk *w = arg;
    int id = lookup(p);
    FT_CHECK(id >= 0 && G.objs[id].tracked);
    iv_push(&w->seen, id);
}

static void walk_referent(void *p, void *arg) {
    walk *w = arg;
    int id = lookup(p);
    FT_CHECK(id >= 0);
    iv_push(&w->seen, id);
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void op_gc(reader *r) {
    unsigned what = rd_u8(r) % 9;
    int a = slot_obj(r);
    switch (what) {
    case 0: case 1: { /* collect */
        int gen = rd_u8(r) % RC_GC_GENERATIONS;
        if (!G.exact) {
            rc_gc_collect(G.h, gen); /* settle finishes with a full collection */
            break;
        }
        /* the library first: finalizers look their objects up in the model */
        intptr_t found = rc_gc_collect(G.h, gen);
        size_t want = model_collect(gen);
        G.collections_seen++;
        G.model_stats[gen].collections++;
        G.model_stats[gen].collected += want;
        if ((size_t)found != want)
            ft_fail(__FILE__, __LINE__, "rc_gc_collect(%d) found %jd, model %zu", gen,
                    (intmax_t)found, want);
        break;
    }
    case 2: /* freeze */
        rc_gc_freeze(G.h);
        for (int id = 0; id < G.nobjs; id++)
            if (G.objs[id].alive && G.objs[id].tracked)
                G.objs[id].gen = RC_GC_GENERATIONS;
        break;
    case 3: /* unfreeze */
        rc_gc_unfreeze(G.h);
        for (int id = 0; id < G.nobjs; id++)
            if (G.objs[id].alive && G.objs[id].tracked && G.objs[id].gen == RC_GC_GENERATIONS)
                G.objs[id].gen = RC_GC_GENERATIONS - 1;
        break;
    case 4: /* untrack */
        rc_gc_untrack(ptr_of(a));
        if (a >= 0)
            G.objs[a].tracked = false;
        break;
    case 5: /* track */
        rc_gc_track(ptr_of(a));
        if (a >= 0 && is_container(G.objs[a].kind) && !G.objs[a].tracked)
            track_new(a);
        break;
    case 6: { /* list a generation */
        walk w = {(int)(rd_u8(r) % 5) - 1, 0, {0}};
        size_t want = 0;
        for (int id = 0; id < G.nobjs; id++)
            want += G.objs[id].alive && G.objs[id].tracked && (w.gen < 0 || G.objs[id].gen == w.gen);
        intptr_t n = rc_gc_get_objects(G.h, w.gen, walk_object, &w);
        if (n < 0 && G.may_fail && w.n == 0)
            break; /* its list could not be allocated */
        FT_CHECK_EQ(n, want);
        FT_CHECK_EQ(w.n, want);
        break;
    }
    case 7: { /* referrers of one or two objects */
        int b = slot_obj(r);
        void *objs[2] = {ptr_of(a), ptr_of(b)};
        size_t nobjs = (a >= 0) + (b >= 0);
        if (a < 0)
            objs[0] = objs[1];
        walk w = {-1, 0, {0}};
        idvec want = {0};
        for (int id = 0; id < G.nobjs && nobjs; id++) {
            if (!G.objs[id].alive || !G.objs[id].tracked)
                continue;
            children(id, &scratch);
            for (size_t k = 0; k < scratch.n; k++) {
                if (scratch.v[k] == (a >= 0 ? a : b) || (nobjs == 2 && scratch.v[k] == b)) {
                    iv_push(&want, id);
                    break;
                }
            }
        }
        intptr_t n = rc_gc_get_referrers(G.h, objs, nobjs, walk_referrer, &w);
        if (!(n < 0 && G.may_fail && w.seen.n == 0)) { /* else its list could not be made */
            FT_CHECK_EQ(n, want.n);
            FT_CHECK_EQ(w.seen.n, want.n);
            if (want.n) { /* (qsort and memcmp want real arrays) */
                qsort(want.v, want.n, sizeof *want.v, cmp_int);
                qsort(w.seen.v, w.seen.n, sizeof *w.seen.v, cmp_int);
                FT_CHECK(memcmp(want.v, w.seen.v, want.n * sizeof *want.v) == 0);
            }
        }
        free(want.v);
        free(w.seen.v);
        break;
    }
    default: { /* referents, in traverse order */
        if (a < 0)
            break;
        walk w = {-1, 0, {0}};
        rc_gc_get_referents(ptr_of(a), walk_referent, &w);
        children(a, &scratch);
        FT_CHECK_EQ(w.seen.n, scratch.n);
        FT_CHECK(scratch.n == 0 || memcmp(scratch.v, w.seen.v, scratch.n * sizeof *scratch.v) == 0);
        free(w.seen.v);
        break;
    }
    }
}

/* ---- Printing ---------------------------------------------------------------------- */

/* Nodes the printer visits for o (as types.c's repr: containers already
 * open, or 64 deep, are elided), capped by *budget. */
static void print_cost(int id, int depth, int *open, long *budget) {
    if (--*budget < 0)
        return;
    const mobj *o = &G.objs[id];
    if (o->kind != K_TUPLE && o->kind != K_LIST && o->kind != K_DICT)
        return;
    for (int i = 0; i < depth; i++)
        if (open[i] == id)
            return;
    if (depth == 64)
        return;
    open[depth] = id;
    for (size_t i = 0; i < o->items.n; i++) {
        print_cost(o->items.v[i], depth + 1, open, budget);
        if (o->kind == K_DICT)
            print_cost(o->vals.v[i], depth + 1, open, budget);
    }
}

static void op_print(reader *r) {
    int a = slot_obj(r);
    int open[64];
    long budget = FT_PRINT_BUDGET / 8;
    if (a >= 0)
        print_cost(a, 0, open, &budget);
    if (budget < 0)
        return;
    int n = rc_fprint(G.sink, ptr_of(a));
    FT_CHECK(n >= 0);
    if (kind_of(a) == K_INT) {
        char want[32], got[32] = "";
        snprintf(want, sizeof want, "%jd", (intmax_t)G.objs[a].ival);
        FILE *f = fmemopen(got, sizeof got, "w");
        if (f) {
            FT_CHECK_EQ(rc_fprint(f, ptr_of(a)), (int)strlen(want));
            fclose(f);
            FT_CHECK(strcmp(got, want) == 0);
        }
    }
}

/* ---- References -------------------------------------------------------------------- */

static void op_copy(reader *r) {
    int s = rd_u8(r) % FT_SLOTS, a = slot_obj(r);
    slot_take_borrowed(s, a);
}

static void op_drop(reader *r) { slot_put(rd_u8(r) % FT_SLOTS, -1); }

static void op_watch(reader *r) {
    int a = slot_obj(r);
    if (a >= 0)
        watch(a);
}

/* The next operation's allocations may fail: the n-th from now (debug and
 * malloc modes), or any that needs memory from the raw hooks. */
static void op_fail(reader *r) {
    uint8_t b = rd_u8(r);
    if (b & 1)
        rc_heap_fail_at(G.h, 1 + b / 2 % 8);
    else
        G.hooks_fail = true;
    G.may_fail = true;
}

/* ---- The run ----------------------------------------------------------------------- */

static size_t blocks_held(void) {
    rc_heap_stats st;
    rc_heap_trim(G.h); /* debug mode: the quarantine's blocks count otherwise */
    rc_heap_get_stats(G.h, &st);
    size_t n = st.large_blocks;
    for (unsigned c = 0; c < RC_NUM_CLASSES; c++)
        n += st.classes[c].blocks_used;
    return n;
}

static size_t immortals(void) {
    size_t n = 0;
    for (int id = 0; id < G.nobjs; id++)
        n += G.objs[id].alive && G.objs[id].immortal;
    return n;
}

/* Make every piece of state the layers keep for good (the object, types
 * and collector states, the callback array, the intern and weakref tables,
 * the deferred-deallocation stack), so that the blocks held at the end can
 * be compared with the blocks held now. */
static void warm_up(void) {
    void *chain = rc_list_new(G.h, 0), *leaf = rc_int_new(G.h, 1000000);
    void *w = rc_weakref_new(leaf, NULL, NULL);
    FT_CHECK(chain && leaf && w);
    rc_list_append_steal(chain, leaf);
    /* RC_DEALLOC_DEPTH lists in all: the leaf's death comes RC_DEALLOC_DEPTH
     * deep and waits on the stack of deferred deaths, which is then made.
     * (Not any deeper chain: the lists past the limit are deferred, and each
     * drained one starts from depth 1 again.) */
    for (int i = 1; i < RC_DEALLOC_DEPTH; i++) {
        void *outer = rc_list_new(G.h, 0);
        FT_CHECK(outer);
        rc_list_append_steal(outer, chain);
        chain = outer;
    }
    rc_decref(chain);
    FT_CHECK(rc_weakref_get(w) == NULL);
    rc_decref(w);
    void *lit = rc_str_literal(G.h, "warm");
    FT_CHECK(lit);
    interned_at(lit, "warm", 4);
    rc_gc_collect(G.h, 2);
    G.collections_seen = G.collections;
    rc_gc_get_stats(G.h, G.model_stats); /* the model's count starts here */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    reader r = {data, size};
    memset(&G, 0, offsetof(ft_state, objs));
    G.nobjs = G.ndied = G.nreports = 0;
    G.collections = G.collections_seen = 0;
    memset(G.cb_stats, 0, sizeof G.cb_stats);
    memset(G.model_stats, 0, sizeof G.model_stats);
    G.may_fail = G.hooks_fail = false;
    G.ops = 0;
    memset(G.buckets, 0xFF, sizeof G.buckets);
    for (int s = 0; s < FT_SLOTS; s++)
        G.slot[s] = -1;
    if (!G.sink)
        G.sink = fopen("/dev/null", "w");
    FT_CHECK(G.sink != NULL);

    uint8_t c = rd_u8(&r);
    G.mode = (rc_alloc_mode)(RC_MODE_POOL + c % 3);
    G.exact = (c & 0x04) == 0;
    G.hooks = (rc_raw_hooks){NULL, ft_arena_alloc, ft_arena_free, ft_large_alloc, ft_large_free, NULL};
    rc_heap_config cfg;
    rc_heap_config_init(&cfg);
    cfg.mode = G.mode;
    cfg.hooks = &G.hooks;
    cfg.on_error = ft_on_report;
    G.h = rc_heap_new(&cfg);
    FT_CHECK(G.h != NULL);
    FT_CHECK(rc_gc_callback_add(G.h, gc_callback, NULL) == 0);
    if (G.exact)
        FT_CHECK(rc_gc_disable(G.h) == 0);
    else
        FT_CHECK(rc_gc_set_threshold(G.h, 1 + rd_u8(&r) % 40, rd_u8(&r) % 4, rd_u8(&r) % 4) == 0);
    warm_up();
    size_t base_blocks = blocks_held(), base_immortals = immortals();

    while (r.n) {
        switch (rd_u8(&r) % 32) {
        case 0: op_int(&r); break;
        case 1: op_float(&r); break;
        case 2: op_str(&r); break;
        case 3: op_literal(&r); break;
        case 4: op_intern(&r); break;
        case 5: case 6: op_tuple(&r); break;
        case 7: case 8: op_list(&r); break;
        case 9: op_dict(&r); break;
        case 10: op_class(&r); break;
        case 11: op_instance(&r); break;
        case 12: op_weakref(&r); break;
        case 13: case 14: op_list_add(&r); break;
        case 15: op_list_set(&r); break;
        case 16: op_list_pop(&r); break;
        case 17: op_list_clear(&r); break;
        case 18: case 19: op_dict_set(&r); break;
        case 20: op_dict_get(&r); break;
        case 21: op_dict_del(&r); break;
        case 22: op_dict_clear(&r); break;
        case 23: op_str_key(&r); break;
        case 24: op_attr(&r); break;
        case 25: op_take(&r); break;
        case 26: op_compare(&r); break;
        case 27: op_gc(&r); break;
        case 28: op_print(&r); break;
        case 29: op_copy(&r); break;
        case 30: op_drop(&r); break;
        default:
            switch (rd_u8(&r) % 4) {
            case 0: op_bulk_dict(&r); break;
            case 1: op_bulk_list(&r); break;
            case 2: op_watch(&r); break;
            default: op_fail(&r); continue; /* a failure injection is for the next operation */
            }
            break;
        }
        settle();
    }
    settle();
    verify_all();

    /* Let go of everything: slots first, then what only cycles hold (tracked
     * again and unfrozen, so a full collection sees all of it). */
    for (int s = 0; s < FT_SLOTS; s++)
        slot_put(s, -1);
    settle();
    rc_gc_unfreeze(G.h);
    for (int id = 0; id < G.nobjs; id++) {
        mobj *o = &G.objs[id];
        if (!o->alive || !is_container(o->kind))
            continue;
        if (o->tracked && o->gen == RC_GC_GENERATIONS)
            o->gen = RC_GC_GENERATIONS - 1;
        if (!o->tracked && !o->immortal) { /* (an immortal stays, tracked or not) */
            rc_gc_track(o->ptr);
            track_new(id);
        }
    }
    if (G.exact) {
        intptr_t found = rc_gc_collect(G.h, RC_GC_GENERATIONS - 1);
        size_t want = model_collect(RC_GC_GENERATIONS - 1);
        FT_CHECK_EQ(found, want);
        G.collections_seen++;
        G.model_stats[RC_GC_GENERATIONS - 1].collections++;
        G.model_stats[RC_GC_GENERATIONS - 1].collected += want;
    } else {
        rc_gc_collect(G.h, RC_GC_GENERATIONS - 1); /* settle models it */
    }
    settle();
    verify_all();
    for (int id = 0; id < G.nobjs; id++)
        if (G.objs[id].alive && !G.objs[id].immortal)
            ft_fail(__FILE__, __LINE__, "object %d (%s) outlived every reference", id,
                    kind_type[G.objs[id].kind]->name);
    size_t end_blocks = blocks_held();
    if (end_blocks != base_blocks + immortals() - base_immortals)
        ft_fail(__FILE__, __LINE__, "blocks held: %zu at the start, %zu at the end, %zu immortals made",
                base_blocks, end_blocks, immortals() - base_immortals);
    rc_heap_destroy(G.h);
    G.h = NULL;
    for (int id = 0; id < G.nobjs; id++) {
        mobj *o = &G.objs[id];
        free(o->bytes);
        free(o->items.v);
        free(o->vals.v);
        free(o->wrs.v);
    }
    free(kill_stack.v);
    free(scratch.v);
    kill_stack = scratch = (idvec){0};
    return 0;
}
