/*
 * src/types/types.c — the types layer's per-heap state, status names and
 * the Python-like printer.
 *
 * The state (small-int cache, empty tuple, intern table) is one block from
 * the heap, made on first use and stored in rc_heap_layer(h, RC_LAYER_TYPES).
 * It needs no teardown: everything it points to is immortal and goes with
 * the heap when the heap is destroyed.
 */
#include "types/internal.h"

#include <inttypes.h>
#include <math.h> /* isnan, isinf: macros, no libm needed */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

_Thread_local unsigned rc__types_eq_depth;

rc_typestate *rc__typestate_get(rc_heap *h) {
    rc_typestate *st = rc_heap_layer(h, RC_LAYER_TYPES);
    if (RC_LIKELY(st != NULL))
        return st;
    st = rc_calloc(h, 1, sizeof *st);
    if (!st)
        return NULL;
    rc_heap_layer(h, RC_LAYER_TYPES) = st;
    return st;
}

const char *rc_status_str(rc_status s) {
    switch (s) {
    case RC_OK: return "RC_OK: success";
    case RC_ENOMEM: return "RC_ENOMEM: out of memory";
    case RC_EKEY: return "RC_EKEY: key not found";
    case RC_EINDEX: return "RC_EINDEX: index out of range";
    case RC_ETYPE: return "RC_ETYPE: wrong type or unhashable key";
    case RC_EINVAL: return "RC_EINVAL: invalid argument";
    }
    return "unknown rc_status";
}

/* ---- Printing ---------------------------------------------------------------------- */

#define PRINT_MAX_DEPTH 64

typedef struct printer {
    FILE *out;
    long written;
    bool failed;
    int depth;
    const void *open[PRINT_MAX_DEPTH]; /* containers being printed */
} printer;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void put(printer *p, const char *fmt, ...) {
    if (p->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(p->out, fmt, ap);
    va_end(ap);
    if (n < 0)
        p->failed = true;
    else
        p->written += n;
}

/* As Python's repr: the fewest significant digits that read back as the
 * same double, written positionally when the decimal exponent is in
 * [-4, 16) (with ".0" when integral: 10.0, 0.0001, 1234567.5) and in
 * exponent form otherwise (1e+16, 1.5e-05). */
static void put_float(printer *p, double v) {
    if (isnan(v)) {
        put(p, "nan");
        return;
    }
    if (isinf(v)) {
        put(p, v > 0 ? "inf" : "-inf");
        return;
    }
    char buf[40];
    for (int prec = 0; prec <= 16; prec++) { /* prec + 1 significant digits */
        snprintf(buf, sizeof buf, "%.*e", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    /* buf is [-]d[.ddd]e(+|-)xx: take the digits and the exponent apart */
    const char *c = buf;
    bool negative = *c == '-';
    if (negative)
        c++;
    char digits[24];
    int nd = 0;
    for (; *c && *c != 'e'; c++) /* digits only: the point is the locale's */
        if (*c >= '0' && *c <= '9' && nd < (int)sizeof digits - 1)
            digits[nd++] = *c;
    int exp = *c == 'e' ? atoi(c + 1) : 0;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    if (negative)
        put(p, "-");
    if (exp < -4 || exp >= 16) {
        put(p, "%c", digits[0]);
        if (nd > 1)
            put(p, ".%s", digits + 1);
        put(p, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    } else if (exp < 0) {
        put(p, "0.%.*s%s", -exp - 1, "0000", digits); /* -exp - 1 <= 3 zeros */
    } else if (nd <= exp + 1) {
        put(p, "%s%.*s.0", digits, exp + 1 - nd, "000000000000000"); /* <= 15 zeros */
    } else {
        put(p, "%.*s.%s", exp + 1, digits, digits + exp + 1);
    }
}

/* Quoted as Python quotes: in single quotes, or in double quotes if the
 * text holds a single quote and no double one; the quote in use escaped. */
static void put_str(printer *p, const rc_strobj *s) {
    bool single = memchr(s->data, '\'', s->nbytes) != NULL;
    char quote = single && memchr(s->data, '"', s->nbytes) == NULL ? '"' : '\'';
    put(p, "%c", quote);
    for (size_t i = 0; i < s->nbytes; i++) {
        unsigned char c = (unsigned char)s->data[i];
        if (c == (unsigned char)quote) {
            put(p, "\\%c", quote);
            continue;
        }
        switch (c) {
        case '\\': put(p, "\\\\"); break;
        case '\n': put(p, "\\n"); break;
        case '\r': put(p, "\\r"); break;
        case '\t': put(p, "\\t"); break;
        default:
            if (c < 0x20 || c == 0x7F)
                put(p, "\\x%02x", c);
            else
                put(p, "%c", c); /* UTF-8 sequences pass through */
        }
    }
    put(p, "%c", quote);
}

static void repr(printer *p, const void *o);

/* Open a container; false (after printing the elision) if it is already
 * being printed or nesting is too deep. */
static bool enter(printer *p, const void *o, const char *again) {
    for (int i = 0; i < p->depth; i++) {
        if (p->open[i] == o) {
            put(p, "%s", again);
            return false;
        }
    }
    if (p->depth == PRINT_MAX_DEPTH) {
        put(p, "...");
        return false;
    }
    p->open[p->depth++] = o;
    return true;
}

static void repr(printer *p, const void *o) {
    if (!o) {
        put(p, "NULL");
        return;
    }
    const rc_type *t = rc_types_type_of(o);
    if (t == &rc_int_type) {
        put(p, "%" PRId64, ((const rc_intobj *)o)->value);
    } else if (t == &rc_float_type) {
        put_float(p, ((const rc_floatobj *)o)->value);
    } else if (t == &rc_str_type) {
        put_str(p, o);
    } else if (t == &rc_tuple_type) {
        const rc_tupleobj *tp = o;
        if (!enter(p, o, "(...)"))
            return;
        put(p, "(");
        for (size_t i = 0; i < tp->size; i++) {
            if (i)
                put(p, ", ");
            repr(p, tp->items[i]);
        }
        put(p, tp->size == 1 ? ",)" : ")");
        p->depth--;
    } else if (t == &rc_list_type) {
        const rc_listobj *l = o;
        if (!enter(p, o, "[...]"))
            return;
        put(p, "[");
        for (size_t i = 0; i < l->size; i++) {
            if (i)
                put(p, ", ");
            repr(p, l->items[i]);
        }
        put(p, "]");
        p->depth--;
    } else if (t == &rc_dict_type) {
        if (!enter(p, o, "{...}"))
            return;
        put(p, "{");
        size_t pos = 0;
        void *k, *v;
        bool first = true;
        while (rc_dict_next(o, &pos, &k, &v)) {
            if (!first)
                put(p, ", ");
            first = false;
            repr(p, k);
            put(p, ": ");
            repr(p, v);
        }
        put(p, "}");
        p->depth--;
    } else if (t == &rc_class_type) {
        put(p, "<class '%s'>", rc_class_name(o));
    } else if (t == &rc_instance_type) {
        const char *cn = rc_class_name(((const rc_instobj *)o)->cls);
        put(p, "<%s object at %p>", cn ? cn : "?", o);
    } else {
        put(p, "<%s object at %p>", t->name ? t->name : "?", o);
    }
}

int rc_fprint(FILE *out, const void *o) {
    if (!out)
        return -1;
    printer p = {.out = out};
    repr(&p, o);
    if (p.failed || p.written > INT32_MAX)
        return -1;
    return (int)p.written;
}
