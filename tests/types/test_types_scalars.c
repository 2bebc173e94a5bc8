/*
 * int, float and str: values, the small-int cache, numeric hashing across
 * int and float, UTF-8 validation, interning, sizes and printing.
 */
#include "types_test.h"

#include <math.h>
#include <stdint.h>

static uint64_t hash_of(const void *o) {
    uint64_t x = 0;
    CHECK(rc_hash(o, &x));
    return x;
}

static void test_int_basics(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    void *a = rc_int_new(h, 1000);
    if (!CHECK_NOT_NULL(a))
        return;
    CHECK(rc_is_int(a));
    CHECK(!rc_is_float(a));
    CHECK(!rc_is_str(a));
    CHECK_EQ(rc_int_value(a), 1000);
    CHECK(rc_type_of(a) == &rc_int_type);
    CHECK_EQ(rc_refcount(a), 1);
    void *neg = rc_int_new(h, INT64_MIN);
    CHECK_EQ(rc_int_value(neg), (uint64_t)INT64_MIN);
    void *big = rc_int_new(h, INT64_MAX);
    CHECK_EQ(rc_int_value(big), (uint64_t)INT64_MAX);
    CHECK_EQ(rc_float_value(a), 1000); /* an int read as a float */
    CHECK(!rc_is_int(NULL));
    CHECK_EQ(rc_int_value(NULL), 0);
    void *s = rc_str_from_cstr(h, "x");
    CHECK_EQ(rc_int_value(s), 0); /* wrong type: 0 */
    CHECK(rc_float_value(s) == 0.0);
    CHECK_NULL(rc_int_new(NULL, 1));
    CHECK_EQ(rc_sizeof(a), HDR + 8);
    rc_decref(a);
    rc_decref(neg);
    rc_decref(big);
    rc_decref(s);
    CHECK_EQ(rc_live_objects_of(h, &rc_int_type), 0);
    rc_heap_destroy(h);
}

static void test_small_int_cache(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    void *a = rc_int_new(h, 7), *b = rc_int_new(h, 7);
    CHECK_PTR_EQ(a, b);
    CHECK(rc_is_immortal(a));
    CHECK_EQ(rc_refcount(a), RC_IMMORTAL_REFCNT);
    rc_decref(a);
    rc_decref(b);
    rc_decref(b); /* immortal: extra decrefs are harmless */
    CHECK_EQ(rc_int_value(a), 7);
    /* both ends of the cache */
    CHECK_PTR_EQ(rc_int_new(h, -5), rc_int_new(h, -5));
    CHECK_PTR_EQ(rc_int_new(h, 256), rc_int_new(h, 256));
    CHECK(rc_is_immortal(rc_int_new(h, 0)));
    /* outside it: distinct, mortal objects */
    void *c = rc_int_new(h, 257), *d = rc_int_new(h, 257);
    CHECK_PTR_NE(c, d);
    CHECK(!rc_is_immortal(c));
    CHECK(rc_equal(c, d));
    void *e = rc_int_new(h, -6), *f = rc_int_new(h, -6);
    CHECK_PTR_NE(e, f);
    /* created lazily: only the values used so far exist */
    CHECK_EQ(rc_live_objects_of(h, &rc_int_type), 4 + 4); /* 7, -5, 256, 0 */
    rc_decref(c);
    rc_decref(d);
    rc_decref(e);
    rc_decref(f);
    CHECK_EQ(rc_live_objects_of(h, &rc_int_type), 4);
    /* per heap: another heap has its own cache */
    rc_heap *h2 = types_heap(RC_MODE_POOL);
    void *g = rc_int_new(h2, 7);
    CHECK_PTR_NE(g, a);
    CHECK(rc_heap_of(g) == h2);
    rc_heap_destroy(h2);
    rc_heap_destroy(h);
}

static void test_float_basics(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    void *x = rc_float_new(h, 2.5);
    if (!CHECK_NOT_NULL(x))
        return;
    CHECK(rc_is_float(x));
    CHECK(!rc_is_int(x));
    CHECK(rc_float_value(x) == 2.5);
    CHECK_EQ(rc_int_value(x), 0);
    CHECK_EQ(rc_sizeof(x), HDR + 8);
    CHECK_NULL(rc_float_new(NULL, 1.0));
    rc_decref(x);
    CHECK_EQ(rc_live_objects(h), 0);
    rc_heap_destroy(h);
}

/* Python's values: hash(-1) == -2, hash(2**61) == 1, hash(0.5) == 2**60, ... */
static void test_numeric_hash(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    struct {
        int64_t i;
        int64_t want;
    } ints[] = {
        {0, 0},
        {1, 1},
        {-1, -2},
        {-2, -2},
        {1000, 1000},
        {((int64_t)1 << 61) - 1, 0},
        {(int64_t)1 << 61, 1},
        {INT64_MAX, 3},           /* 2^63 - 1 = 4 * (2^61 - 1) + 3 */
        {INT64_MIN, -4},          /* -(2^63) mod P = -4 */
        {-((int64_t)1 << 61), -1 - 1}, /* -1 becomes -2 */
    };
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++) {
        void *o = rc_int_new(h, ints[k].i);
        CHECK_MSG(hash_of(o) == (uint64_t)ints[k].want, "hash(%lld) = %lld, want %lld",
                  (long long)ints[k].i, (long long)hash_of(o), (long long)ints[k].want);
        rc_decref(o);
    }
    struct {
        double d;
        int64_t want;
    } floats[] = {
        {0.5, (int64_t)1 << 60},
        {1.5, ((int64_t)1 << 60) + 1},
        {-0.5, -((int64_t)1 << 60)},
        {0.0, 0},
        {-0.0, 0},
        {1e300 * 1e300, 314159},     /* inf */
        {-1e300 * 1e300, -314159},
        {0.1, 230584300921369408},   /* Python: hash(0.1) */
        {1e-320, 33957085184},    /* a subnormal (Python: hash(1e-320)) */
    };
    for (size_t k = 0; k < sizeof floats / sizeof floats[0]; k++) {
        void *o = rc_float_new(h, floats[k].d);
        CHECK_MSG(hash_of(o) == (uint64_t)floats[k].want, "hash(%g) = %lld, want %lld",
                  floats[k].d, (long long)hash_of(o), (long long)floats[k].want);
        rc_decref(o);
    }
    /* equal numbers of both types hash equal and compare equal */
    int64_t same[] = {0, 1, -1, 2, 255, 256, 1000000, -123456789, (int64_t)1 << 52,
                      (int64_t)1 << 62, INT64_MIN, -((int64_t)1 << 61)};
    for (size_t k = 0; k < sizeof same / sizeof same[0]; k++) {
        void *i = rc_int_new(h, same[k]);
        void *f = rc_float_new(h, (double)same[k]);
        CHECK_MSG(hash_of(i) == hash_of(f), "hash(%lld) != hash(float)", (long long)same[k]);
        CHECK(rc_equal(i, f));
        CHECK(rc_equal(f, i));
        rc_decref(i);
        rc_decref(f);
    }
    /* exact comparison: 2^53 + 1 is not the double 2^53 */
    void *i = rc_int_new(h, ((int64_t)1 << 53) + 1);
    void *f = rc_float_new(h, 9007199254740992.0);
    CHECK(!rc_equal(i, f));
    CHECK(!rc_equal(f, i));
    rc_decref(i);
    rc_decref(f);
    /* 2^63 as a double is out of int64 range */
    i = rc_int_new(h, INT64_MAX);
    f = rc_float_new(h, 9223372036854775808.0);
    CHECK(!rc_equal(i, f));
    rc_decref(f);
    /* 1.5 is not 1; NaN equals nothing but itself (identity) */
    void *one = rc_int_new(h, 1);
    f = rc_float_new(h, 1.5);
    CHECK(!rc_equal(one, f));
    /* NAN, not 0.0 * (1e300 * 1e300): where doubles are computed in long
     * double (FLT_EVAL_METHOD 2: i386's x87), 1e300 * 1e300 is finite, and
     * the product 0 */
    void *nan = rc_float_new(h, NAN);
    void *nan2 = rc_float_new(h, NAN);
    CHECK(rc_equal(nan, nan));
    CHECK(!rc_equal(nan, nan2));
    /* numbers are not equal to strings */
    void *s = rc_str_from_cstr(h, "1");
    CHECK(!rc_equal(one, s));
    CHECK(!rc_equal(s, one));
    rc_decref(s);
    rc_decref(nan);
    rc_decref(nan2);
    rc_decref(f);
    rc_decref(i);
    rc_heap_destroy(h);
}

static void test_str_basics(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    void *s = rc_str_from_cstr(h, "hello");
    if (!CHECK_NOT_NULL(s))
        return;
    CHECK(rc_is_str(s));
    CHECK_EQ(rc_str_nbytes(s), 5);
    CHECK_EQ(rc_str_length(s), 5);
    CHECK(strcmp(rc_str_data(s), "hello") == 0);
    CHECK(rc_str_equal_cstr(s, "hello"));
    CHECK(!rc_str_equal_cstr(s, "hell"));
    CHECK(!rc_str_equal_cstr(s, "hello!"));
    CHECK(!rc_str_equal_cstr(s, NULL));
    CHECK(!rc_str_is_interned(s));
    CHECK_EQ(rc_sizeof(s), HDR + STR_FIXED + 6);

    /* equal contents: equal and same hash, distinct objects */
    void *t = rc_str_new(h, "hello world", 5);
    CHECK_PTR_NE(s, t);
    CHECK(rc_equal(s, t));
    CHECK_EQ(hash_of(s), hash_of(t));
    void *u = rc_str_from_cstr(h, "hellp");
    CHECK(!rc_equal(s, u));
    CHECK_NE(hash_of(s), hash_of(u));

    /* code points vs bytes: "héllo €𝄞" */
    void *w = rc_str_from_cstr(h, "h\xc3\xa9llo \xe2\x82\xac\xf0\x9d\x84\x9e");
    if (CHECK_NOT_NULL(w)) {
        CHECK_EQ(rc_str_nbytes(w), 1 + 2 + 3 + 1 + 3 + 4);
        CHECK_EQ(rc_str_length(w), 8);
    }

    /* embedded NUL is valid; data stays NUL-terminated */
    void *z = rc_str_new(h, "a\0b", 3);
    if (CHECK_NOT_NULL(z)) {
        CHECK_EQ(rc_str_nbytes(z), 3);
        CHECK_EQ(rc_str_length(z), 3);
        CHECK_EQ(rc_str_data(z)[3], 0);
        CHECK(!rc_str_equal_cstr(z, "a"));
    }
    /* the empty string */
    void *e = rc_str_new(h, NULL, 0);
    if (CHECK_NOT_NULL(e)) {
        CHECK_EQ(rc_str_nbytes(e), 0);
        CHECK_EQ(rc_str_data(e)[0], 0);
        CHECK_EQ(rc_sizeof(e), HDR + STR_FIXED + 1);
    }

    /* wrong type / NULL */
    void *n = rc_int_new(h, 3);
    CHECK_NULL(rc_str_data(n));
    CHECK_EQ(rc_str_nbytes(n), 0);
    CHECK_EQ(rc_str_length(n), 0);
    CHECK(!rc_is_str(NULL));
    CHECK_NULL(rc_str_from_cstr(h, NULL));
    CHECK_NULL(rc_str_new(h, NULL, 3));
    CHECK_NULL(rc_str_new(NULL, "a", 1));

    rc_decref(s);
    rc_decref(t);
    rc_decref(u);
    rc_decref(w);
    rc_decref(z);
    rc_decref(e);
    CHECK_EQ(rc_live_objects_of(h, &rc_str_type), 0);
    rc_heap_destroy(h);
}

static void test_str_invalid_utf8(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    static const struct {
        const char *bytes;
        size_t n;
        const char *why;
    } bad[] = {
        {"\x80", 1, "lone continuation byte"},
        {"a\xbf", 2, "continuation byte after ASCII"},
        {"\xc3", 1, "truncated 2-byte sequence"},
        {"\xe2\x82", 2, "truncated 3-byte sequence"},
        {"\xf0\x9d\x84", 3, "truncated 4-byte sequence"},
        {"\xc0\xaf", 2, "overlong '/' (C0)"},
        {"\xc1\xbf", 2, "overlong (C1)"},
        {"\xe0\x80\xaf", 3, "overlong 3-byte"},
        {"\xf0\x80\x80\xaf", 4, "overlong 4-byte"},
        {"\xed\xa0\x80", 3, "surrogate U+D800"},
        {"\xed\xbf\xbf", 3, "surrogate U+DFFF"},
        {"\xf4\x90\x80\x80", 4, "U+110000"},
        {"\xf5\x80\x80\x80", 4, "lead byte F5"},
        {"\xff", 1, "byte FF"},
        {"\xc3\x28", 2, "bad continuation"},
        {"ok\xe2\x28\xa1", 5, "bad continuation in 3-byte"},
    };
    size_t before = rc_live_objects(h);
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        void *s = rc_str_new(h, bad[k].bytes, bad[k].n);
        CHECK_MSG(s == NULL, "accepted invalid UTF-8: %s", bad[k].why);
        rc_decref(s);
    }
    CHECK_NULL(rc_str_literal(h, "\xff"));
    CHECK_NULL(rc_str_from_cstr(h, "\xc0\xaf"));
    CHECK_EQ(rc_live_objects(h), before);
    /* the extremes that are valid */
    static const struct {
        const char *bytes;
        size_t n;
    } good[] = {
        {"\x7f", 1}, {"\xc2\x80", 2}, {"\xdf\xbf", 2}, {"\xe0\xa0\x80", 3},
        {"\xed\x9f\xbf", 3}, {"\xee\x80\x80", 3}, {"\xef\xbf\xbf", 3},
        {"\xf0\x90\x80\x80", 4}, {"\xf4\x8f\xbf\xbf", 4},
    };
    for (size_t k = 0; k < sizeof good / sizeof good[0]; k++) {
        void *s = rc_str_new(h, good[k].bytes, good[k].n);
        CHECK_MSG(s != NULL, "rejected valid UTF-8 #%zu", k);
        CHECK_EQ(rc_str_length(s), 1);
        rc_decref(s);
    }
    rc_heap_destroy(h);
}

static void test_str_intern(void) {
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    void *a = rc_str_from_cstr(h, "spam");
    void *b = rc_str_from_cstr(h, "spam");
    CHECK_PTR_NE(a, b);
    void *ia = rc_str_intern(a);
    CHECK_PTR_EQ(ia, a); /* first: a itself becomes canonical */
    CHECK(rc_str_is_interned(a));
    CHECK(rc_is_immortal(a));
    void *ib = rc_str_intern(b);
    CHECK_PTR_EQ(ib, a); /* equal string: the canonical one */
    CHECK(!rc_str_is_interned(b));
    CHECK(!rc_is_immortal(b));
    CHECK_EQ(rc_refcount(b), 1); /* b untouched */
    rc_decref(ia);
    rc_decref(ib);
    rc_decref(b);

    /* rc_str_literal: interned, the same object each time */
    void *l1 = rc_str_literal(h, "spam");
    CHECK_PTR_EQ(l1, a);
    void *l2 = rc_str_literal(h, "eggs");
    void *l3 = rc_str_literal(h, "eggs");
    CHECK_PTR_EQ(l2, l3);
    CHECK(rc_str_is_interned(l2));
    CHECK(rc_is_immortal(l2));
    /* a second literal lookup allocates nothing */
    size_t live = rc_live_objects(h);
    rc_heap_stats st0, st1;
    rc_heap_get_stats(h, &st0);
    void *l4 = rc_str_literal(h, "eggs");
    rc_heap_get_stats(h, &st1);
    CHECK_PTR_EQ(l4, l2);
    CHECK_EQ(rc_live_objects(h), live);
    CHECK_EQ(st1.bytes_requested, st0.bytes_requested);
    /* rc_str_intern of a fresh equal string gives the literal */
    void *c = rc_str_from_cstr(h, "eggs");
    void *ic = rc_str_intern(c);
    CHECK_PTR_EQ(ic, l2);
    rc_decref(ic);
    rc_decref(c);
    /* long literals (> 64 bytes) are created but not interned */
    char longer[RC_STR_LITERAL_INTERN_MAX + 2];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    void *g1 = rc_str_literal(h, longer), *g2 = rc_str_literal(h, longer);
    CHECK_PTR_NE(g1, g2);
    CHECK(!rc_str_is_interned(g1));
    CHECK(!rc_is_immortal(g1));
    CHECK(rc_equal(g1, g2));
    rc_decref(g1);
    rc_decref(g2);
    /* exactly 64 bytes: interned */
    longer[RC_STR_LITERAL_INTERN_MAX] = '\0';
    g1 = rc_str_literal(h, longer);
    g2 = rc_str_literal(h, longer);
    CHECK_PTR_EQ(g1, g2);
    /* many interned strings: the table grows, identity holds */
    char name[32];
    void *first[500];
    for (int i = 0; i < 500; i++) {
        snprintf(name, sizeof name, "name_%d", i);
        first[i] = rc_str_literal(h, name);
    }
    int same = 0;
    for (int i = 0; i < 500; i++) {
        snprintf(name, sizeof name, "name_%d", i);
        void *again = rc_str_literal(h, name);
        void *fresh = rc_str_from_cstr(h, name);
        void *canon = rc_str_intern(fresh);
        same += again == first[i] && canon == first[i];
        rc_decref(fresh);
    }
    CHECK_EQ(same, 500);
    /* errors */
    void *n = rc_int_new(h, 1000);
    CHECK_NULL(rc_str_intern(n));
    CHECK_NULL(rc_str_intern(NULL));
    CHECK_NULL(rc_str_literal(h, NULL));
    CHECK_NULL(rc_str_literal(NULL, "x"));
    CHECK(!rc_str_is_interned(n));
    rc_decref(n);
    rc_heap_destroy(h);
}

static void test_status_and_print(void) {
    CHECK_STR_CONTAINS(rc_status_str(RC_EKEY), "RC_EKEY");
    CHECK_STR_CONTAINS(rc_status_str(RC_ENOMEM), "memory");
    CHECK_STR_CONTAINS(rc_status_str(RC_OK), "RC_OK");
    CHECK_STR_CONTAINS(rc_status_str((rc_status)42), "unknown");
    rc_heap *h = types_heap(RC_MODE_DEBUG);
    void *o;
    o = rc_int_new(h, -42);
    CHECK_REPR(o, "-42");
    rc_decref(o);
    o = rc_float_new(h, 1.5);
    CHECK_REPR(o, "1.5");
    rc_decref(o);
    o = rc_float_new(h, 3.0);
    CHECK_REPR(o, "3.0");
    rc_decref(o);
    o = rc_float_new(h, 0.1);
    CHECK_REPR(o, "0.1");
    rc_decref(o);
    o = rc_float_new(h, 1e300 * 1e300);
    CHECK_REPR(o, "inf");
    rc_decref(o);
    o = rc_str_from_cstr(h, "it's\n");
    CHECK_REPR(o, "\"it's\\n\""); /* Python's quotes: "it's\n" */
    rc_decref(o);
    CHECK_REPR(NULL, "NULL");
    CHECK_EQ(rc_fprint(NULL, NULL), (uint64_t)-1);
    rc_heap_destroy(h);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_int_basics);
    RUN_TEST(test_small_int_cache);
    RUN_TEST(test_float_basics);
    RUN_TEST(test_numeric_hash);
    RUN_TEST(test_str_basics);
    RUN_TEST(test_str_invalid_utf8);
    RUN_TEST(test_str_intern);
    RUN_TEST(test_status_and_print);
    return check_summary();
}
