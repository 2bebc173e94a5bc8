/*
 * src/types/dict.c — dict: an insertion-ordered compact hash table.
 *
 * The layout of CPython 3.6+: a sparse index table of small integers
 * pointing into a dense, append-only array of entries {hash, key, value}.
 *
 *   table block (one allocation from the heap)
 *   +------------------------------------+--------------------------------+
 *   | indices: 2^k slots of 1/2/4/8 bytes | entries: usable = 2^(k+1)/3    |
 *   |  -1 empty, -2 dummy, n >= 0 entry n | {hash, key, value} x usable    |
 *   +------------------------------------+--------------------------------+
 *
 * The slot width is the smallest that holds every entry number (1 byte up to
 * 128 slots), so a small dict's index costs a few bytes.  Entries are
 * written in insertion order, which iteration follows.
 *
 * Probing: open addressing starting at hash & mask, then
 * i = 5*i + 1 + perturb (perturb = hash, shifted right 5 bits per step):
 * all the hash bits take part early, and once perturb is 0 the recurrence
 * visits every slot.  Deleting marks the index slot dummy (so probes go on
 * past it) and empties the entry (key NULL); dummies and dead entries are
 * dropped when the table is rebuilt.  The table is rebuilt when the entries
 * array is full (2/3 of the slots), sized for 3 x the live entries: it grows
 * with insertions and compacts after deletions.  At least a third of the
 * slots are always empty, so every probe ends.
 *
 * Reentrancy: comparing keys may run user code (a user type's eq), which may
 * change the dict.  A lookup holds a reference to the entry's key while
 * comparing, and restarts if the dict's version changed meanwhile.  Other
 * operations change the dict completely before dropping any reference.
 */
#include "types/internal.h"
#include "gc/internal.h"

#include <string.h>

#define DIX_EMPTY (-1)
#define DIX_DUMMY (-2)
#define DICT_MIN_LOG2 3

/* ---- Table geometry ------------------------------------------------------------ */

static inline size_t slots_of(unsigned log2) { return (size_t)1 << log2; }
static inline size_t usable_of(unsigned log2) { return ((size_t)2 << log2) / 3; }
static inline size_t width_of(unsigned log2) {
    return log2 <= 7 ? 1 : log2 <= 15 ? 2 : log2 <= 31 ? 4 : 8;
}
static inline size_t index_bytes(unsigned log2) { return slots_of(log2) * width_of(log2); }
static inline size_t table_bytes(unsigned log2) {
    return index_bytes(log2) + usable_of(log2) * sizeof(rc_dentry);
}

static inline rc_dentry *entries_in(void *table, unsigned log2) {
    return (rc_dentry *)((char *)table + index_bytes(log2));
}
static inline rc_dentry *entries_of(const rc_dictobj *d) {
    return entries_in(d->table, d->log2size);
}

static inline int64_t ix_get(const void *table, unsigned log2, size_t i) {
    switch (width_of(log2)) {
    case 1: return ((const int8_t *)table)[i];
    case 2: return ((const int16_t *)table)[i];
    case 4: return ((const int32_t *)table)[i];
    default: return ((const int64_t *)table)[i];
    }
}

static inline void ix_set(void *table, unsigned log2, size_t i, int64_t v) {
    switch (width_of(log2)) {
    case 1: ((int8_t *)table)[i] = (int8_t)v; break;
    case 2: ((int16_t *)table)[i] = (int16_t)v; break;
    case 4: ((int32_t *)table)[i] = (int32_t)v; break;
    default: ((int64_t *)table)[i] = v; break;
    }
}

/* A walk along hash's probe sequence (see the top of the file). */
typedef struct dprobe {
    size_t i, mask;
    uint64_t perturb;
} dprobe;

static inline dprobe probe_start(unsigned log2, uint64_t hash) {
    size_t mask = slots_of(log2) - 1;
    return (dprobe){(size_t)hash & mask, mask, hash};
}

static inline void probe_next(dprobe *p) {
    p->perturb >>= 5;
    p->i = (p->i * 5 + (size_t)p->perturb + 1) & p->mask;
}

/* The first slot on hash's probe sequence that holds no entry (empty or
 * dummy).  Compares no key, so runs no user code. */
static size_t free_slot(const void *table, unsigned log2, uint64_t hash) {
    dprobe p = probe_start(log2, hash);
    while (ix_get(table, log2, p.i) >= 0)
        probe_next(&p);
    return p.i;
}

/* Rebuild the table with 2^log2 slots, keeping the live entries in order.
 * False on allocation failure (the dict is unchanged). */
static bool dict_rebuild(rc_dictobj *d, unsigned log2) {
    void *table = rc_malloc(rc_types_heap_of(d), table_bytes(log2));
    if (!table)
        return false;
    memset(table, 0xFF, index_bytes(log2)); /* every width: -1 = empty */
    rc_dentry *dst = entries_in(table, log2);
    size_t n = 0;
    if (d->table) {
        rc_dentry *src = entries_of(d);
        for (size_t i = 0; i < d->nentries; i++) {
            if (!src[i].key)
                continue;
            dst[n] = src[i];
            ix_set(table, log2, free_slot(table, log2, src[i].hash), (int64_t)n);
            n++;
        }
    }
    rc_free(d->table);
    d->table = table;
    d->log2size = (uint8_t)log2;
    d->nentries = n;
    d->version++;
    return true;
}

/* Make room for one more entry; false on allocation failure. */
static bool dict_reserve(rc_dictobj *d) {
    if (d->table && d->nentries < usable_of(d->log2size))
        return true;
    if (d->used > SIZE_MAX / 8)
        return false;
    size_t want = d->used * 3;
    unsigned log2 = DICT_MIN_LOG2;
    while (slots_of(log2) < want)
        log2++;
    if (log2 > 8 * sizeof(size_t) - 7)
        return false; /* the table's size in bytes would overflow */
    return dict_rebuild(d, log2);
}

/* ---- Lookup ---------------------------------------------------------------------------- */

/* The entry number of key (hash precomputed) and its index slot, or -1 if
 * absent. */
static int64_t dict_lookup(rc_dictobj *d, const void *key, uint64_t hash, size_t *slot) {
restart:
    if (!d->table)
        return -1;
    unsigned log2 = d->log2size;
    for (dprobe p = probe_start(log2, hash);; probe_next(&p)) {
        int64_t ix = ix_get(d->table, log2, p.i);
        if (ix == DIX_EMPTY)
            return -1;
        if (ix >= 0) {
            rc_dentry *e = &entries_of(d)[ix];
            if (e->key == key) {
                *slot = p.i;
                return ix;
            }
            if (e->hash == hash) {
                void *ek = e->key;
                uint64_t version = d->version;
                rc_incref(ek); /* eq may run user code that drops it */
                bool same = rc_equal(ek, key);
                rc_decref(ek);
                if (d->version != version)
                    goto restart; /* the dict changed under us */
                if (same) {
                    *slot = p.i;
                    return ix;
                }
            }
        }
    }
}

/* As dict_lookup for a str key given by its bytes: only str keys match.
 * Runs no user code. */
static int64_t dict_lookup_bytes(const rc_dictobj *d, const char *p, size_t n, uint64_t hash,
                                 size_t *slot) {
    if (!d->table)
        return -1;
    unsigned log2 = d->log2size;
    for (dprobe pr = probe_start(log2, hash);; probe_next(&pr)) {
        int64_t ix = ix_get(d->table, log2, pr.i);
        if (ix == DIX_EMPTY)
            return -1;
        if (ix >= 0) {
            const rc_dentry *e = &entries_of(d)[ix];
            if (e->hash == hash && rc_types_type_of(e->key) == &rc_str_type) {
                const rc_strobj *s = e->key;
                if (s->nbytes == n && memcmp(s->data, p, n) == 0) {
                    *slot = pr.i;
                    return ix;
                }
            }
        }
    }
}

void *rc__types_dict_get_bytes(const void *d, const char *p, size_t n, uint64_t hash) {
    size_t slot;
    int64_t ix = dict_lookup_bytes(d, p, n, hash, &slot);
    return ix < 0 ? NULL : entries_of(d)[ix].value;
}

/* Remove entry ix (found at index slot `slot`), then drop its references. */
static void delete_at(rc_dictobj *d, int64_t ix, size_t slot) {
    rc_dentry *e = &entries_of(d)[ix];
    void *k = e->key, *v = e->value;
    e->key = NULL;
    e->value = NULL;
    ix_set(d->table, d->log2size, slot, DIX_DUMMY);
    d->used--;
    d->version++;
    rc_decref(k);
    rc_decref(v);
}

/* A dict is made untracked and stays so while it holds only atomic keys
 * and values (rc_types_may_join_cycle): the collector never examines it.
 * The first key or value that may be on a cycle tracks it, for good (as
 * CPython's dicts; CPython also untracks them again at full collections,
 * which rcgc does not). */
static inline void track_for(rc_dictobj *d, const void *key, const void *value) {
    if (!(rc_info(d) & RC_OF_TRACKED) &&
        (rc_types_may_join_cycle(value) || (key && rc_types_may_join_cycle(key))))
        rc__gc_track_untracked(rc_types_heap_of(d), d);
}

/* Replace the value of entry ix. */
static void replace_value(rc_dictobj *d, int64_t ix, void *value) {
    rc_dentry *e = &entries_of(d)[ix];
    void *old = e->value;
    rc_incref(value);
    e->value = value;
    track_for(d, NULL, value);
    rc_decref(old);
}

/* ---- The type ---------------------------------------------------------------------------- */

static void dict_traverse(void *o, rc_visit_fn visit, void *arg) {
    rc_dictobj *d = o;
    if (!d->table)
        return;
    rc_dentry *e = entries_of(d);
    for (size_t i = 0; i < d->nentries; i++) {
        if (e[i].key) {
            visit(e[i].key, arg);
            visit(e[i].value, arg);
        }
    }
}

/* Detach the table first, then drop the references: finalizers see an
 * empty, usable dict. */
static void dict_do_clear(void *o) {
    rc_dictobj *d = o;
    void *table = d->table;
    if (!table)
        return;
    rc_dentry *e = entries_of(d);
    size_t n = d->nentries;
    d->table = NULL;
    d->log2size = 0;
    d->used = 0;
    d->nentries = 0;
    d->version++;
    for (size_t i = 0; i < n; i++) {
        if (e[i].key) {
            rc_decref(e[i].key);
            rc_decref(e[i].value);
        }
    }
    rc_free(table);
}

static size_t dict_sizeof_extra(const void *o) {
    const rc_dictobj *d = o;
    return d->table ? table_bytes(d->log2size) : 0;
}

const rc_type rc_dict_type = {
    .name = "dict",
    .size = sizeof(rc_dictobj),
    .flags = RC_TYPE_GC | RC_TYPE_UNHASHABLE | RC_TYPE_UNTRACKED,
    .traverse = dict_traverse,
    .clear = dict_do_clear,
    .destroy = dict_do_clear,
    .sizeof_extra = dict_sizeof_extra,
};

/* ---- Operations -------------------------------------------------------------------------- */

/* Made untracked (RC_TYPE_UNTRACKED): empty, it is atomic until a key or
 * value says otherwise (track_for). */
void *rc_dict_new(rc_heap *h) { return h ? rc_new(h, &rc_dict_type, 0) : NULL; }

bool rc_is_dict(const void *o) { return rc_types_is(o, &rc_dict_type); }

size_t rc_dict_size(const void *o) { return rc_is_dict(o) ? ((const rc_dictobj *)o)->used : 0; }

/* Checks shared by the key-taking operations; on RC_OK, *hash is set. */
static rc_status check_key(const void *d, const void *key, uint64_t *hash) {
    if (!d || !key)
        return RC_EINVAL;
    if (!rc_is_dict(d))
        return RC_ETYPE;
    if (!rc__types_key_hash(key, hash))
        return RC_ETYPE;
    return RC_OK;
}

/* Append a new entry (key absent, room reserved). */
static void insert_new(rc_dictobj *d, void *key, void *value, uint64_t hash) {
    size_t slot = free_slot(d->table, d->log2size, hash);
    rc_dentry *e = &entries_of(d)[d->nentries];
    rc_incref(key);
    rc_incref(value);
    e->hash = hash;
    e->key = key;
    e->value = value;
    ix_set(d->table, d->log2size, slot, (int64_t)d->nentries);
    d->nentries++;
    d->used++;
    d->version++;
    track_for(d, key, value);
}

rc_status rc_dict_set(void *o, void *key, void *value) {
    uint64_t hash;
    rc_status s = check_key(o, key, &hash);
    if (s != RC_OK)
        return s;
    if (!value)
        return RC_EINVAL;
    rc_dictobj *d = o;
    size_t slot;
    int64_t ix = dict_lookup(d, key, hash, &slot);
    if (ix >= 0) {
        replace_value(d, ix, value);
        return RC_OK;
    }
    if (!dict_reserve(d))
        return RC_ENOMEM;
    insert_new(d, key, value, hash);
    return RC_OK;
}

rc_status rc_dict_set_steal(void *d, void *key, void *value) {
    rc_status s = (key && value) ? rc_dict_set(d, key, value) : RC_ENOMEM;
    rc_decref(key);
    rc_decref(value);
    return s;
}

rc_status rc_dict_get_status(const void *o, const void *key, void **out) {
    if (!out)
        return RC_EINVAL;
    *out = NULL;
    uint64_t hash;
    rc_status s = check_key(o, key, &hash);
    if (s != RC_OK)
        return s;
    size_t slot;
    rc_dictobj *d = (rc_dictobj *)(uintptr_t)o;
    int64_t ix = dict_lookup(d, key, hash, &slot);
    if (ix < 0)
        return RC_EKEY;
    *out = entries_of(d)[ix].value;
    return RC_OK;
}

void *rc_dict_get(const void *d, const void *key) {
    void *v;
    return rc_dict_get_status(d, key, &v) == RC_OK ? v : NULL;
}

rc_status rc_dict_del(void *o, const void *key) {
    uint64_t hash;
    rc_status s = check_key(o, key, &hash);
    if (s != RC_OK)
        return s;
    rc_dictobj *d = o;
    size_t slot;
    int64_t ix = dict_lookup(d, key, hash, &slot);
    if (ix < 0)
        return RC_EKEY;
    delete_at(d, ix, slot);
    return RC_OK;
}

bool rc_dict_next(const void *o, size_t *pos, void **key, void **value) {
    if (!pos || !rc_is_dict(o))
        return false;
    const rc_dictobj *d = o;
    while (*pos < d->nentries) {
        const rc_dentry *e = &entries_of(d)[*pos];
        (*pos)++;
        if (e->key) {
            if (key)
                *key = e->key;
            if (value)
                *value = e->value;
            return true;
        }
    }
    return false;
}

void rc_dict_clear(void *o) {
    if (rc_is_dict(o))
        dict_do_clear(o);
}

/* ---- C-string keys -------------------------------------------------------------------------- */

rc_status rc_dict_set_str(void *o, const char *key, void *value) {
    if (!o || !key || !value)
        return RC_EINVAL;
    if (!rc_is_dict(o))
        return RC_ETYPE;
    size_t n = strlen(key);
    rc_dictobj *d = o;
    size_t slot;
    int64_t ix = dict_lookup_bytes(d, key, n, rc__types_bytes_hash(key, n), &slot);
    if (ix >= 0) { /* existing key: no str to make */
        replace_value(d, ix, value);
        return RC_OK;
    }
    if (rc__types_utf8_length(key, n) == SIZE_MAX)
        return RC_EINVAL;
    void *k = rc_str_literal(rc_types_heap_of(o), key);
    if (!k)
        return RC_ENOMEM;
    rc_status s = rc_dict_set(o, k, value);
    rc_decref(k);
    return s;
}

void *rc_dict_get_str(const void *o, const char *key) {
    if (!key || !rc_is_dict(o))
        return NULL;
    size_t n = strlen(key);
    return rc__types_dict_get_bytes(o, key, n, rc__types_bytes_hash(key, n));
}

rc_status rc_dict_del_str(void *o, const char *key) {
    if (!o || !key)
        return RC_EINVAL;
    if (!rc_is_dict(o))
        return RC_ETYPE;
    size_t n = strlen(key);
    rc_dictobj *d = o;
    size_t slot;
    int64_t ix = dict_lookup_bytes(d, key, n, rc__types_bytes_hash(key, n), &slot);
    if (ix < 0)
        return RC_EKEY;
    delete_at(d, ix, slot);
    return RC_OK;
}
