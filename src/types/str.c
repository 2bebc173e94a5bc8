/*
 * src/types/str.c — str: immutable UTF-8 text, and the per-heap intern table.
 *
 * A str is one block: the fixed part (hash, byte length, code-point length,
 * state) followed by the bytes and a NUL.  All three figures are computed
 * at creation, when the bytes are validated, so str objects are never
 * touched again (no lazy caching, no writes to shared immortal objects).
 *
 * The intern table maps content to the canonical str of that content.  It
 * holds borrowed pointers: an interned str is immortal, so it outlives the
 * table's every use (both go when the heap is destroyed).  Nothing is ever
 * removed, so a simple linear-probing set suffices.
 */
#include "types/internal.h"

#include <string.h>

/* ---- Bytes: hashing and UTF-8 validation ----------------------------------------- */

static inline uint64_t rotl64(uint64_t x, unsigned r) { return (x << r) | (x >> (64 - r)); }

#define BH_K1 0x9ddfea08eb382d69ull
#define BH_K2 0xc3a5c85c97cb3127ull

/* A word-at-a-time multiplicative hash finished by a full avalanche.  Not
 * keyed: fine for an embedded object model, not meant to resist chosen-key
 * flooding as CPython's SipHash does. */
uint64_t rc__types_bytes_hash(const char *p, size_t n) {
    uint64_t h = 0x2545f4914f6cdd1dull ^ ((uint64_t)n * BH_K2);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = rotl64(h ^ (w * BH_K1), 31) * BH_K2;
    }
    if (i < n) {
        uint64_t w = 0;
        memcpy(&w, p + i, n - i);
        h = rotl64(h ^ (w * BH_K1), 31) * BH_K2;
    }
    return rc_types_mix64(h);
}

size_t rc__types_utf8_length(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    size_t count = 0;
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) {
            p++;
            count++;
            continue;
        }
        size_t more;
        uint32_t cp, least;
        if (c >= 0xC2 && c <= 0xDF) { /* 0xC0, 0xC1 could only start overlong forms */
            more = 1;
            cp = c & 0x1F;
            least = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            more = 2;
            cp = c & 0x0F;
            least = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            more = 3;
            cp = c & 0x07;
            least = 0x10000;
        } else {
            return SIZE_MAX; /* a continuation byte, or a lead beyond U+10FFFF */
        }
        if ((size_t)(end - p) <= more)
            return SIZE_MAX; /* truncated */
        for (size_t k = 1; k <= more; k++) {
            unsigned b = p[k];
            if ((b & 0xC0) != 0x80)
                return SIZE_MAX;
            cp = (cp << 6) | (b & 0x3F);
        }
        if (cp < least || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return SIZE_MAX; /* overlong, too large, or a surrogate */
        p += more + 1;
        count++;
    }
    return count;
}

/* ---- The type -------------------------------------------------------------------- */

static size_t str_sizeof_extra(const void *o) { return ((const rc_strobj *)o)->nbytes + 1; }

static uint64_t str_hash(const void *o) { return ((const rc_strobj *)o)->hash; }

static bool str_eq(const void *a, const void *b) {
    if (rc_types_type_of(b) != &rc_str_type)
        return false;
    const rc_strobj *x = a, *y = b;
    return x->nbytes == y->nbytes && x->hash == y->hash && memcmp(x->data, y->data, x->nbytes) == 0;
}

const rc_type rc_str_type = {
    .name = "str",
    .size = offsetof(rc_strobj, data),
    .sizeof_extra = str_sizeof_extra,
    .hash = str_hash,
    .eq = str_eq,
};

/* A str of n valid-UTF-8-checked bytes with the given hash and length. */
static void *str_alloc(rc_heap *h, const char *p, size_t n, size_t length, uint64_t hash) {
    if (n == SIZE_MAX)
        return NULL;
    rc_strobj *o = rc_new(h, &rc_str_type, n + 1);
    if (!o)
        return NULL;
    if (n)
        memcpy(o->data, p, n);
    o->data[n] = '\0';
    o->nbytes = n;
    o->length = length;
    o->hash = hash;
    return o;
}

void *rc_str_new(rc_heap *h, const char *utf8, size_t nbytes) {
    if (!h || (!utf8 && nbytes))
        return NULL;
    if (!nbytes)
        utf8 = ""; /* no arithmetic on a NULL pointer */
    size_t length = rc__types_utf8_length(utf8, nbytes);
    if (length == SIZE_MAX)
        return NULL;
    return str_alloc(h, utf8, nbytes, length, rc__types_bytes_hash(utf8, nbytes));
}

void *rc_str_from_cstr(rc_heap *h, const char *s) {
    return s ? rc_str_new(h, s, strlen(s)) : NULL;
}

bool rc_is_str(const void *o) { return rc_types_is(o, &rc_str_type); }

const char *rc_str_data(const void *o) {
    return rc_is_str(o) ? ((const rc_strobj *)o)->data : NULL;
}

size_t rc_str_nbytes(const void *o) { return rc_is_str(o) ? ((const rc_strobj *)o)->nbytes : 0; }

size_t rc_str_length(const void *o) { return rc_is_str(o) ? ((const rc_strobj *)o)->length : 0; }

bool rc_str_equal_cstr(const void *o, const char *s) {
    if (!s || !rc_is_str(o))
        return false;
    const rc_strobj *so = o;
    size_t n = strlen(s);
    return so->nbytes == n && memcmp(so->data, s, n) == 0;
}

bool rc_str_is_interned(const void *o) {
    return rc_is_str(o) && (((const rc_strobj *)o)->state & RC_STR_INTERNED);
}

/* ---- Interning ---------------------------------------------------------------------- */

#define INTERN_MIN_CAP 64

void *rc__types_intern_find(rc_typestate *st, const char *p, size_t n, uint64_t hash) {
    if (!st->interned)
        return NULL;
    size_t mask = st->intern_cap - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        rc_strobj *s = st->interned[i];
        if (!s)
            return NULL;
        if (s->hash == hash && s->nbytes == n && memcmp(s->data, p, n) == 0)
            return s;
    }
}

static void intern_put(void **slots, size_t cap, rc_strobj *s) {
    size_t mask = cap - 1;
    size_t i = (size_t)s->hash & mask;
    while (slots[i])
        i = (i + 1) & mask;
    slots[i] = s;
}

/* Make room for one more interned str; false on allocation failure (the
 * table is unchanged). */
static bool intern_reserve(rc_heap *h, rc_typestate *st) {
    if ((st->intern_count + 1) * 2 <= st->intern_cap)
        return true;
    size_t cap = st->intern_cap ? st->intern_cap * 2 : INTERN_MIN_CAP;
    void **slots = rc_calloc(h, cap, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < st->intern_cap; i++)
        if (st->interned[i])
            intern_put(slots, cap, st->interned[i]);
    rc_free(st->interned);
    st->interned = slots;
    st->intern_cap = cap;
    return true;
}

/* Register s (not interned, no equal str interned) as canonical. */
static bool intern_add(rc_heap *h, rc_typestate *st, rc_strobj *s) {
    if (!intern_reserve(h, st))
        return false;
    intern_put(st->interned, st->intern_cap, s);
    st->intern_count++;
    s->state |= RC_STR_INTERNED;
    rc_make_immortal(s);
    return true;
}

void *rc_str_intern(void *s) {
    if (!rc_is_str(s))
        return NULL;
    rc_strobj *so = s;
    if (so->state & RC_STR_INTERNED)
        return s; /* immortal */
    rc_heap *h = rc_types_heap_of(s);
    rc_typestate *st = rc__typestate_get(h);
    if (!st)
        return NULL;
    void *canon = rc__types_intern_find(st, so->data, so->nbytes, so->hash);
    if (canon)
        return canon; /* immortal: no reference to take */
    if (!intern_add(h, st, so))
        return NULL;
    return s;
}

void *rc_str_literal(rc_heap *h, const char *s) {
    if (!h || !s)
        return NULL;
    size_t n = strlen(s);
    if (n > RC_STR_LITERAL_INTERN_MAX)
        return rc_str_new(h, s, n);
    uint64_t hash = rc__types_bytes_hash(s, n);
    rc_typestate *st = rc__typestate_get(h);
    if (!st)
        return NULL;
    void *canon = rc__types_intern_find(st, s, n, hash);
    if (canon)
        return canon;
    size_t length = rc__types_utf8_length(s, n);
    if (length == SIZE_MAX)
        return NULL;
    rc_strobj *o = str_alloc(h, s, n, length, hash);
    if (!o)
        return NULL;
    if (!intern_add(h, st, o)) {
        rc_decref(o);
        return NULL;
    }
    return o;
}
