/*
 * src/types/number.c — int and float.
 *
 * Hashing follows Python's numeric hash so that equal numbers of either
 * type hash equal (1 == 1.0 and both hash to 1): the hash of a number x is
 * x reduced modulo the Mersenne prime P = 2^61 - 1, with the sign of x, and
 * -1 replaced by -2; infinities hash to +-314159, and a NaN by identity
 * (float_hash).  Because
 * 2^61 = 1 (mod P), multiplying by 2^k modulo P is a rotation of the 61-bit
 * residue by k mod 61 places: a double is mant * 2^e with an integer
 * mantissa below 2^53 < P, so its hash is mant rotated by e mod 61.
 *
 * Equality between an int and a float is exact, as in Python: 2^53 + 1 is
 * not equal to the double 2^53.
 *
 * None of it needs SSE2 on i386: where doubles are evaluated in the x87's
 * wider format (FLT_EVAL_METHOD 2), floats are compared only as stored
 * doubles (exact in any format), hashed from their bits, and compared with
 * ints through conversions that are exact; the one value computed here, an
 * int converted for rc_float_value, is rounded to a double explicitly.
 */
#include "types/internal.h"

#include <float.h>
#include <string.h>

#define NUM_BITS 61
#define NUM_MOD (((uint64_t)1 << NUM_BITS) - 1)
#define NUM_INF_HASH 314159

/* x * 2^k mod P for a residue x < P and 0 <= k < 61. */
static uint64_t rot61(uint64_t x, unsigned k) {
    if (k == 0)
        return x;
    return ((x << k) & NUM_MOD) | (x >> (NUM_BITS - k));
}

/* Apply the sign and the -1 -> -2 rule to a residue. */
static uint64_t signed_hash(uint64_t residue, bool negative) {
    int64_t r = (int64_t)residue;
    if (negative)
        r = -r;
    if (r == -1)
        r = -2;
    return (uint64_t)r;
}

static uint64_t hash_int64(int64_t v) {
    bool neg = v < 0;
    uint64_t mag = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    return signed_hash(mag % NUM_MOD, neg);
}

/* The hash of a double that is not a NaN. */
static uint64_t hash_double(double x) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    bool neg = (bits >> 63) != 0;
    int bexp = (int)((bits >> 52) & 0x7FF);
    uint64_t frac = bits & (((uint64_t)1 << 52) - 1);
    if (bexp == 0x7FF) /* infinity: a NaN never comes here (float_hash) */
        return signed_hash(NUM_INF_HASH, neg);
    /* |x| = mant * 2^e exactly, mant < 2^53 < P */
    uint64_t mant;
    int e;
    if (bexp == 0) { /* zero or subnormal */
        mant = frac;
        e = 1 - 1075;
    } else {
        mant = frac | ((uint64_t)1 << 52);
        e = bexp - 1075;
    }
    /* 2^e mod P = 2^(e mod 61) */
    int k = e % NUM_BITS;
    if (k < 0)
        k += NUM_BITS;
    return signed_hash(rot61(mant, (unsigned)k), neg);
}

/* v as the nearest double.  Where doubles are evaluated in a wider format,
 * clang returns the conversion unrounded (INT64_MAX, not 2^63), which C
 * forbids; a store to memory rounds it.  Elsewhere the store is left out. */
static double int_to_double(int64_t v) {
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
    return (double)v;
#else
    volatile double d = (double)v;
    return d;
#endif
}

/* Is the double d exactly the integer i? */
static bool double_is_int(double d, int64_t i) {
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return false; /* NaN or outside int64 */
    int64_t t = (int64_t)d;
    return t == i && (double)t == d;
}

/* ---- int ------------------------------------------------------------------------ */

static uint64_t int_hash(const void *o) { return hash_int64(((const rc_intobj *)o)->value); }

static bool int_eq(const void *a, const void *b) {
    int64_t v = ((const rc_intobj *)a)->value;
    const rc_type *tb = rc_types_type_of(b);
    if (tb == &rc_int_type)
        return v == ((const rc_intobj *)b)->value;
    if (tb == &rc_float_type)
        return double_is_int(((const rc_floatobj *)b)->value, v);
    return false;
}

const rc_type rc_int_type = {
    .name = "int",
    .size = sizeof(rc_intobj),
    .hash = int_hash,
    .eq = int_eq,
};

static void *int_alloc(rc_heap *h, int64_t v) {
    rc_intobj *o = rc_new(h, &rc_int_type, 0);
    if (o)
        o->value = v;
    return o;
}

void *rc_int_new(rc_heap *h, int64_t v) {
    if (!h)
        return NULL;
    if (v < RC_SMALL_INT_MIN || v > RC_SMALL_INT_MAX)
        return int_alloc(h, v);
    rc_typestate *st = rc__typestate_get(h);
    if (!st)
        return NULL;
    void **slot = &st->small_ints[v - RC_SMALL_INT_MIN];
    if (!*slot) {
        void *o = int_alloc(h, v);
        if (!o)
            return NULL;
        rc_make_immortal(o);
        *slot = o;
    }
    return *slot; /* immortal: no reference to take */
}

bool rc_is_int(const void *o) { return rc_types_is(o, &rc_int_type); }

int64_t rc_int_value(const void *o) {
    return rc_is_int(o) ? ((const rc_intobj *)o)->value : 0;
}

/* ---- float ---------------------------------------------------------------------- */

/* A NaN hashes by identity, as in Python 3.10 and later: it equals nothing
 * but itself, so a common hash (0, before 3.10) would only pile every NaN
 * key of a dict onto one probe sequence. */
static uint64_t float_hash(const void *o) {
    double v = ((const rc_floatobj *)o)->value;
    return v != v ? rc__identity_hash(o) : hash_double(v);
}

static bool float_eq(const void *a, const void *b) {
    double v = ((const rc_floatobj *)a)->value;
    const rc_type *tb = rc_types_type_of(b);
    if (tb == &rc_float_type)
        return v == ((const rc_floatobj *)b)->value;
    if (tb == &rc_int_type)
        return double_is_int(v, ((const rc_intobj *)b)->value);
    return false;
}

const rc_type rc_float_type = {
    .name = "float",
    .size = sizeof(rc_floatobj),
    .hash = float_hash,
    .eq = float_eq,
};

void *rc_float_new(rc_heap *h, double v) {
    if (!h)
        return NULL;
    rc_floatobj *o = rc_new(h, &rc_float_type, 0);
    if (o)
        o->value = v;
    return o;
}

bool rc_is_float(const void *o) { return rc_types_is(o, &rc_float_type); }

double rc_float_value(const void *o) {
    if (!o)
        return 0.0;
    const rc_type *t = rc_types_type_of(o);
    if (t == &rc_float_type)
        return ((const rc_floatobj *)o)->value;
    if (t == &rc_int_type)
        return int_to_double(((const rc_intobj *)o)->value);
    return 0.0;
}
