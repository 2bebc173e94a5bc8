/*
 * examples/sqlite/rcgc-sqlite.c — SQLite with every allocation served by an
 * rcgc heap.
 *
 *   rcgc-sqlite [options] [ROWS]        the workload (default 200000 rows)
 *   rcgc-sqlite --nomem-test [ROWS]     the heap-cap test (default 5000 rows)
 *
 * Before sqlite3_initialize(), sqlite3_config(SQLITE_CONFIG_MALLOC) installs
 * methods that forward to one rcgc heap:
 *
 *   xMalloc   -> rc_malloc          xSize     -> rc_usable_size
 *   xRealloc  -> rc_realloc         xRoundup  -> rc_good_size
 *   xFree     -> rc_free            xInit, xShutdown: nothing to do
 *
 * The heap is single-threaded and SQLite may call these methods from inside
 * its own mutexes, so SQLite is configured SQLITE_CONFIG_SINGLETHREAD (no
 * mutexes at all), the database is opened with SQLITE_OPEN_NOMUTEX, and
 * everything happens on the main thread.  --system keeps SQLite's default
 * allocator (malloc) under the same configuration, for comparison.
 *
 * The workload creates two tables, inserts ROWS orders (and ROWS/10
 * customers) in transactions of 10,000 rows, builds indexes, runs aggregate,
 * join, point-lookup, LIKE, UPDATE and DELETE statements and checks every
 * answer against values computed in C while the rows were generated; any
 * difference exits with status 1.
 *
 * The cap test lowers the heap's max_bytes (rc_heap_set_max_bytes) until
 * statements fail with SQLITE_NOMEM, lifts it again, and checks that
 * PRAGMA integrity_check says ok and that the committed rows are intact —
 * on a database file (also after closing and reopening it) and in memory.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "rcgc/heap.h"
#include "../common/host.h"

#define PROG "rcgc-sqlite"
#define TXN_ROWS 10000 /* rows per insert transaction */

/* ---- The allocator methods ------------------------------------------------ */

static rc_heap *g_heap; /* the heap behind every SQLite allocation (NULL: --system) */

/* The heap refused a request (it is at its cap).  Memory it holds without
 * using — the spare arena, empty pools kept for their class, debug mode's
 * quarantine — counts against the cap: give it back and retry once. */
static bool heap_make_room(void) { return rc_heap_trim(g_heap) != 0; }

static void *mem_malloc(int n) {
    if (n < 0)
        return NULL;
    void *p = rc_malloc(g_heap, (size_t)n);
    if (p == NULL && heap_make_room())
        p = rc_malloc(g_heap, (size_t)n);
    return p;
}

static void mem_free(void *p) { rc_free(p); }

static void *mem_realloc(void *p, int n) {
    if (n <= 0)
        return NULL; /* SQLite never asks; its contract says "do nothing" */
    void *q = rc_realloc(g_heap, p, (size_t)n);
    if (q == NULL && heap_make_room())
        q = rc_realloc(g_heap, p, (size_t)n);
    return q;
}

static int mem_size(void *p) {
    size_t n = rc_usable_size(p);
    return n > INT_MAX ? INT_MAX : (int)n;
}

static int mem_roundup(int n) {
    if (n <= 0)
        return n;
    size_t r = rc_good_size((size_t)n);
    return r > INT_MAX ? n : (int)r;
}

static int mem_init(void *ctx) {
    (void)ctx;
    return SQLITE_OK;
}

static void mem_shutdown(void *ctx) { (void)ctx; }

static const sqlite3_mem_methods rcgc_methods = {
    mem_malloc, mem_free, mem_realloc, mem_size, mem_roundup, mem_init, mem_shutdown, NULL,
};

/* ---- Options ---------------------------------------------------------------- */

typedef struct options {
    bool system, stats, rusage, nomem_test;
    bool max_bytes_given;
    size_t max_bytes;
    rc_alloc_mode mode;
    const char *db;   /* database path; NULL = ":memory:" (workload) */
    long rows;        /* 0 = the default */
} options;

static void usage(FILE *out) {
    fprintf(out,
            "usage: " PROG " [options] [ROWS]\n"
            "Runs an SQLite workload (ROWS orders, default 200000) with every SQLite\n"
            "allocation served by an rcgc heap, and checks every answer.\n"
            "\n"
            "options:\n"
            "  --system                  SQLite's default allocator instead of rcgc\n"
            "  --db PATH                 database file (default: in memory); must not exist\n"
            "                            yet, and is removed at the end\n"
            "  --max-bytes BYTES         cap the heap (suffixes k, M, G); SQLite then gets\n"
            "                            SQLITE_NOMEM\n"
            "  --mode pool|debug|malloc  heap mode (default: RCGC_MALLOC, else pool)\n"
            "  --stats                   print SQLite's memory counters and the heap's\n"
            "                            statistics to stderr at the end\n"
            "  --rusage                  print wall/CPU time, peak RSS and anonymous memory\n"
            "                            to stderr at exit\n"
            "  --nomem-test              instead of the workload: drive SQLite into\n"
            "                            SQLITE_NOMEM with the cap and check the database\n"
            "                            stays consistent (ROWS default 5000)\n"
            "  -h, --help                this text\n");
}

/* "--opt=value" or "--opt value" */
static const char *option_value(int argc, char **argv, int *i, size_t namelen) {
    const char *a = argv[*i];
    if (a[namelen] == '=')
        return a + namelen + 1;
    if (a[namelen] == '\0' && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

static bool is_option(const char *a, const char *name) {
    size_t n = strlen(name);
    return strncmp(a, name, n) == 0 && (a[n] == '\0' || a[n] == '=');
}

/* 0: run; 1: usage error (reported); 2: --help */
static int parse_args(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->mode = RC_MODE_DEFAULT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            return 2;
        } else if (strcmp(a, "--system") == 0) {
            o->system = true;
        } else if (strcmp(a, "--stats") == 0) {
            o->stats = true;
        } else if (strcmp(a, "--rusage") == 0) {
            o->rusage = true;
        } else if (strcmp(a, "--nomem-test") == 0) {
            o->nomem_test = true;
        } else if (is_option(a, "--db")) {
            if (!(v = option_value(argc, argv, &i, 4)) || !*v) {
                fprintf(stderr, PROG ": --db wants a path\n");
                return 1;
            }
            o->db = v;
        } else if (is_option(a, "--max-bytes")) {
            v = option_value(argc, argv, &i, 11);
            if (!host_parse_bytes(v, &o->max_bytes)) {
                fprintf(stderr, PROG ": bad byte count for --max-bytes: %s\n", v ? v : "(missing)");
                return 1;
            }
            o->max_bytes_given = true;
        } else if (is_option(a, "--mode")) {
            v = option_value(argc, argv, &i, 6);
            if (v && strcmp(v, "pool") == 0)
                o->mode = RC_MODE_POOL;
            else if (v && strcmp(v, "debug") == 0)
                o->mode = RC_MODE_DEBUG;
            else if (v && strcmp(v, "malloc") == 0)
                o->mode = RC_MODE_MALLOC;
            else {
                fprintf(stderr, PROG ": --mode wants pool, debug or malloc, not %s\n",
                        v ? v : "(missing)");
                return 1;
            }
        } else if (a[0] >= '0' && a[0] <= '9' && o->rows == 0) {
            char *end;
            errno = 0;
            long n = strtol(a, &end, 10);
            if (errno || *end || n < 10 || n > 100000000) {
                fprintf(stderr, PROG ": ROWS must be a number from 10 to 100000000, not %s\n", a);
                return 1;
            }
            o->rows = n;
        } else {
            fprintf(stderr, PROG ": unknown argument %s\n", a);
            usage(stderr);
            return 1;
        }
    }
    if (o->system && (o->max_bytes_given || o->nomem_test || o->mode != RC_MODE_DEFAULT)) {
        fprintf(stderr, PROG ": --max-bytes, --mode and --nomem-test need an rcgc heap, "
                        "not --system\n");
        return 1;
    }
    if (o->nomem_test && o->max_bytes_given) {
        fprintf(stderr, PROG ": --nomem-test sets its own caps\n");
        return 1;
    }
    return 0;
}

/* ---- Small SQLite helpers --------------------------------------------------- */

static void report(sqlite3 *db, const char *what) {
    int code = db ? sqlite3_extended_errcode(db) : 0;
    fprintf(stderr, PROG ": %s: %s (code %d)\n", what, db ? sqlite3_errmsg(db) : "no database", code);
}

static bool wrong(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs(PROG ": wrong answer: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return false;
}

/* Run SQL with no result rows wanted.  Returns the SQLite result code. */
static int exec_rc(sqlite3 *db, const char *sql) {
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static bool exec(sqlite3 *db, const char *sql) {
    if (exec_rc(db, sql) == SQLITE_OK)
        return true;
    report(db, sql);
    return false;
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        report(db, sql);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* A query giving exactly one row of `n` integers. */
static bool query_row(sqlite3 *db, const char *sql, int64_t *out, int n) {
    sqlite3_stmt *st = prepare(db, sql);
    if (!st)
        return false;
    bool ok = false;
    if (sqlite3_step(st) != SQLITE_ROW) {
        report(db, sql);
    } else if (sqlite3_column_count(st) != n) {
        fprintf(stderr, PROG ": %s: %d columns, expected %d\n", sql, sqlite3_column_count(st), n);
    } else {
        for (int i = 0; i < n; i++)
            out[i] = sqlite3_column_int64(st, i);
        ok = sqlite3_step(st) == SQLITE_DONE;
        if (!ok)
            report(db, sql);
    }
    sqlite3_finalize(st);
    return ok;
}

/* PRAGMA integrity_check must answer exactly one row, "ok". */
static bool integrity_ok(sqlite3 *db) {
    sqlite3_stmt *st = prepare(db, "PRAGMA integrity_check");
    if (!st)
        return false;
    bool ok = true;
    int rows = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        if (rows++ == 0 && t && strcmp((const char *)t, "ok") == 0)
            continue;
        fprintf(stderr, PROG ": integrity_check: %s\n", t ? (const char *)t : "(null)");
        ok = false;
    }
    if (rc != SQLITE_DONE) {
        report(db, "PRAGMA integrity_check");
        ok = false;
    }
    sqlite3_finalize(st);
    return ok && rows == 1;
}

static sqlite3 *open_db(const char *path) {
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        if (db)
            report(db, "cannot open the database");
        else /* no connection could be allocated: only the code tells why */
            fprintf(stderr, PROG ": cannot open the database: %s (code %d)\n", sqlite3_errstr(rc), rc);
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

/* The workload and the cap test make their own database: they refuse a
 * path that already holds something (an empty file, as mkstemp leaves, is
 * fine), and remove the files they made when they finish. */
static bool db_path_usable(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0)
        return errno == ENOENT;
    if (S_ISREG(st.st_mode) && st.st_size == 0)
        return true;
    fprintf(stderr, PROG ": %s already exists; give a new path (it is removed afterwards)\n", path);
    return false;
}

static void remove_db_files(const char *path) {
    static const char *const suffix[] = {"", "-journal", "-wal", "-shm"};
    char buf[4096];
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        if ((size_t)snprintf(buf, sizeof buf, "%s%s", path, suffix[i]) < sizeof buf)
            unlink(buf);
    }
}

/* ---- A deterministic generator ------------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void) {
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static unsigned rnd(unsigned n) { return (unsigned)(rng() % n); }

static const char *const words[] = {
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
    "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "urgent",
};
#define NWORDS (sizeof words / sizeof words[0])
#define URGENT_WORD 15

/* A note of 1..12 words; *urgent says whether "urgent" is among them. */
static int make_note(char *buf, size_t size, bool *urgent) {
    unsigned n = 1 + rnd(12);
    size_t len = 0;
    *urgent = false;
    for (unsigned i = 0; i < n; i++) {
        unsigned w = rnd(NWORDS);
        *urgent |= w == URGENT_WORD;
        int k = snprintf(buf + len, size - len, "%s%s", i ? " " : "", words[w]);
        if (k < 0 || (size_t)k >= size - len)
            break;
        len += (size_t)k;
    }
    return (int)len;
}

/* ---- The workload -------------------------------------------------------------- */

#define NREGIONS 8

typedef struct order {
    int customer;
    int amount;  /* -1 once deleted */
    int day;
    bool urgent;
} order;

typedef struct workload {
    sqlite3 *db;
    long rows, ncust;
    order *orders;       /* [1..rows] */
    int *region;         /* [1..ncust] */
    size_t *name_len;    /* [1..ncust] */
} workload;

static bool load(workload *w) {
    sqlite3 *db = w->db;
    if (!exec(db, "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                  "region INTEGER NOT NULL, since INTEGER NOT NULL);"
                  "CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER NOT NULL, "
                  "amount INTEGER NOT NULL, day INTEGER NOT NULL, note TEXT)"))
        return false;

    bool ok = exec(db, "BEGIN");
    sqlite3_stmt *st = ok ? prepare(db, "INSERT INTO customers VALUES (?1, ?2, ?3, ?4)") : NULL;
    ok = st != NULL;
    char name[64];
    for (long c = 1; ok && c <= w->ncust; c++) {
        int len = snprintf(name, sizeof name, "customer-%ld-%s", c, words[rnd(NWORDS - 1)]);
        w->region[c] = (int)rnd(NREGIONS);
        w->name_len[c] = (size_t)len;
        sqlite3_bind_int64(st, 1, c);
        sqlite3_bind_int(st, 3, w->region[c]);
        sqlite3_bind_int(st, 4, (int)rnd(3650));
        /* SQLITE_TRANSIENT copies the text: that copy can fail (NOMEM) */
        if (sqlite3_bind_text(st, 2, name, len, SQLITE_TRANSIENT) != SQLITE_OK) {
            report(db, "bind customer name");
            ok = false;
        } else if (sqlite3_step(st) != SQLITE_DONE || sqlite3_reset(st) != SQLITE_OK) {
            report(db, "insert customer");
            ok = false;
        }
    }
    sqlite3_finalize(st);
    ok = ok && exec(db, "COMMIT");

    st = ok ? prepare(db, "INSERT INTO orders VALUES (?1, ?2, ?3, ?4, ?5)") : NULL;
    ok = st != NULL;
    char note[160];
    for (long i = 1; ok && i <= w->rows; i++) {
        if (i % TXN_ROWS == 1 && !exec(db, "BEGIN"))
            ok = false;
        order *o = &w->orders[i];
        o->customer = 1 + (int)rnd((unsigned)w->ncust);
        o->amount = 1 + (int)rnd(10000);
        o->day = (int)rnd(365);
        int len = make_note(note, sizeof note, &o->urgent);
        sqlite3_bind_int64(st, 1, i);
        sqlite3_bind_int(st, 2, o->customer);
        sqlite3_bind_int(st, 3, o->amount);
        sqlite3_bind_int(st, 4, o->day);
        if (ok && sqlite3_bind_text(st, 5, note, len, SQLITE_TRANSIENT) != SQLITE_OK) {
            report(db, "bind order note");
            ok = false;
        }
        if (ok && (sqlite3_step(st) != SQLITE_DONE || sqlite3_reset(st) != SQLITE_OK)) {
            report(db, "insert order");
            ok = false;
        }
        if (ok && (i % TXN_ROWS == 0 || i == w->rows) && !exec(db, "COMMIT"))
            ok = false;
    }
    sqlite3_finalize(st);
    if (!ok && !sqlite3_get_autocommit(db))
        exec_rc(db, "ROLLBACK");
    return ok && exec(db, "CREATE INDEX orders_by_customer ON orders(customer);"
                          "CREATE INDEX orders_by_day ON orders(day, amount);"
                          "CREATE INDEX customers_by_region ON customers(region)");
}

/* count(*), sum, min, max of the live orders */
static bool check_totals(workload *w) {
    int64_t n = 0, sum = 0, lo = INT64_MAX, hi = INT64_MIN;
    for (long i = 1; i <= w->rows; i++) {
        int a = w->orders[i].amount;
        if (a < 0)
            continue;
        n++;
        sum += a;
        lo = a < lo ? a : lo;
        hi = a > hi ? a : hi;
    }
    int64_t r[4];
    if (!query_row(w->db, "SELECT count(*), sum(amount), min(amount), max(amount) FROM orders", r, 4))
        return false;
    if (r[0] != n || r[1] != sum || r[2] != lo || r[3] != hi)
        return wrong("totals %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 ", expected %" PRId64
                     " %" PRId64 " %" PRId64 " %" PRId64, r[0], r[1], r[2], r[3], n, sum, lo, hi);
    return true;
}

/* a join with GROUP BY: orders and revenue per region */
static bool check_regions(workload *w) {
    int64_t cnt[NREGIONS] = {0}, sum[NREGIONS] = {0};
    for (long i = 1; i <= w->rows; i++) {
        const order *o = &w->orders[i];
        if (o->amount < 0)
            continue;
        cnt[w->region[o->customer]]++;
        sum[w->region[o->customer]] += o->amount;
    }
    const char *sql = "SELECT c.region, count(*), sum(o.amount) FROM orders o "
                      "JOIN customers c ON c.id = o.customer GROUP BY c.region ORDER BY c.region";
    sqlite3_stmt *st = prepare(w->db, sql);
    if (!st)
        return false;
    bool ok = true;
    int expect_region = 0, rc = SQLITE_DONE;
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        while (expect_region < NREGIONS && cnt[expect_region] == 0)
            expect_region++;
        int region = sqlite3_column_int(st, 0);
        int64_t c = sqlite3_column_int64(st, 1), s = sqlite3_column_int64(st, 2);
        if (region != expect_region || c != cnt[region] || s != sum[region])
            ok = wrong("region %d: %" PRId64 " orders, %" PRId64 " revenue (expected region %d)",
                       region, c, s, expect_region);
        expect_region++;
    }
    if (ok && rc != SQLITE_DONE)
        ok = (report(w->db, sql), false);
    sqlite3_finalize(st);
    return ok;
}

typedef struct cust_total {
    long id;
    int64_t count, sum;
} cust_total;

static int by_sum_desc(const void *a, const void *b) {
    const cust_total *x = a, *y = b;
    if (x->sum != y->sum)
        return x->sum > y->sum ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* every customer by an index lookup, then the top ten by a GROUP BY and sort */
static bool check_customers(workload *w) {
    cust_total *t = calloc((size_t)w->ncust + 1, sizeof *t);
    if (!t)
        return wrong("out of memory in the checker");
    for (long c = 0; c <= w->ncust; c++)
        t[c].id = c;
    for (long i = 1; i <= w->rows; i++) {
        const order *o = &w->orders[i];
        if (o->amount >= 0) {
            t[o->customer].count++;
            t[o->customer].sum += o->amount;
        }
    }
    bool ok = true;
    const char *sql = "SELECT count(*), total(amount) FROM orders WHERE customer = ?1";
    sqlite3_stmt *st = prepare(w->db, sql);
    ok = st != NULL;
    for (long c = 1; ok && c <= w->ncust; c++) {
        sqlite3_bind_int64(st, 1, c);
        if (sqlite3_step(st) != SQLITE_ROW) {
            ok = (report(w->db, sql), false);
            break;
        }
        int64_t n = sqlite3_column_int64(st, 0);
        int64_t s = (int64_t)sqlite3_column_double(st, 1);
        if (n != t[c].count || s != t[c].sum)
            ok = wrong("customer %ld: %" PRId64 " orders, %" PRId64 " total", c, n, s);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);

    qsort(t + 1, (size_t)w->ncust, sizeof *t, by_sum_desc);
    sql = "SELECT customer, sum(amount) AS s FROM orders GROUP BY customer "
          "ORDER BY s DESC, customer LIMIT 10";
    st = ok ? prepare(w->db, sql) : NULL;
    ok = st != NULL;
    long k = 1;
    int rc = SQLITE_DONE;
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        long id = (long)sqlite3_column_int64(st, 0);
        int64_t s = sqlite3_column_int64(st, 1);
        if (k > w->ncust || id != t[k].id || s != t[k].sum)
            ok = wrong("top customer #%ld is %ld with %" PRId64, k, id, s);
        k++;
    }
    if (ok && (rc != SQLITE_DONE || k != (w->ncust < 10 ? w->ncust : 10) + 1))
        ok = rc != SQLITE_DONE ? (report(w->db, sql), false) : wrong("top ten has %ld rows", k - 1);
    sqlite3_finalize(st);
    free(t);
    return ok;
}

/* a range scan on an index, a LIKE scan, and a string aggregate */
static bool check_scans(workload *w) {
    int64_t n = 0, sum = 0, urgent = 0;
    for (long i = 1; i <= w->rows; i++) {
        const order *o = &w->orders[i];
        if (o->amount < 0)
            continue;
        if (o->day >= 100 && o->day <= 199) {
            n++;
            sum += o->amount;
        }
        urgent += o->urgent;
    }
    int64_t r[2];
    if (!query_row(w->db, "SELECT count(*), sum(amount) FROM orders WHERE day BETWEEN 100 AND 199",
                   r, 2))
        return false;
    if (r[0] != n || r[1] != sum)
        return wrong("days 100-199: %" PRId64 " orders, %" PRId64 " revenue", r[0], r[1]);
    if (!query_row(w->db, "SELECT count(*) FROM orders WHERE note LIKE '%urgent%'", r, 1))
        return false;
    if (r[0] != urgent)
        return wrong("%" PRId64 " urgent notes, expected %" PRId64, r[0], urgent);

    int64_t len = 0, names = 0;
    for (long c = 1; c <= w->ncust; c++) {
        if (w->region[c] == 5) {
            len += (int64_t)w->name_len[c];
            names++;
        }
    }
    if (names)
        len += names - 1; /* the commas */
    if (!query_row(w->db, "SELECT length(group_concat(name, ',')), count(*) FROM "
                          "(SELECT name FROM customers WHERE region = 5 ORDER BY id)", r, 2))
        return false;
    if (r[1] != names || (names && r[0] != len))
        return wrong("region 5 names: %" PRId64 " bytes for %" PRId64 " names", r[0], r[1]);
    return true;
}

/* UPDATE and DELETE, checked by sqlite3_changes */
static bool mutate(workload *w) {
    int64_t raised = 0;
    for (long i = 1; i <= w->rows; i++) {
        order *o = &w->orders[i];
        if (w->region[o->customer] == 3) {
            o->amount++;
            raised++;
        }
    }
    if (!exec(w->db, "UPDATE orders SET amount = amount + 1 "
                     "WHERE customer IN (SELECT id FROM customers WHERE region = 3)"))
        return false;
    if (sqlite3_changes(w->db) != raised)
        return wrong("UPDATE changed %d rows, expected %" PRId64, sqlite3_changes(w->db), raised);

    int64_t gone = 0;
    for (long i = 1; i <= w->rows; i++) {
        order *o = &w->orders[i];
        if (o->amount > 9000) {
            o->amount = -1;
            gone++;
        }
    }
    if (!exec(w->db, "DELETE FROM orders WHERE amount > 9000"))
        return false;
    if (sqlite3_changes(w->db) != gone)
        return wrong("DELETE removed %d rows, expected %" PRId64, sqlite3_changes(w->db), gone);
    return true;
}

static bool run_workload(workload *w) {
    return load(w) && check_totals(w) && check_regions(w) && check_customers(w) &&
           check_scans(w) && mutate(w) && check_totals(w) && check_regions(w) &&
           check_customers(w) && check_scans(w) && integrity_ok(w->db);
}

/* ---- The cap test ---------------------------------------------------------------- */

/* What the table must hold: the committed rows, summarised. */
typedef struct expect {
    int64_t count, amount, note_bytes;
} expect;

static bool nm_check(sqlite3 *db, const expect *e, long first_rows, const expect *first,
                     const char *when) {
    int64_t r[3];
    if (!integrity_ok(db))
        return wrong("%s: integrity_check failed", when);
    if (!query_row(db, "SELECT count(*), total(amount), total(length(note)) FROM t", r, 3))
        return false;
    if (r[0] != e->count || r[1] != e->amount || r[2] != e->note_bytes)
        return wrong("%s: table holds %" PRId64 " rows, %" PRId64 ", %" PRId64 " bytes; expected %" PRId64
                     ", %" PRId64 ", %" PRId64, when, r[0], r[1], r[2], e->count, e->amount, e->note_bytes);
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT count(*), total(amount), total(length(note)) FROM t WHERE id <= %ld", first_rows);
    if (!query_row(db, sql, r, 3))
        return false;
    if (r[0] != first->count || r[1] != first->amount || r[2] != first->note_bytes)
        return wrong("%s: the first %ld committed rows changed", when, first_rows);
    return true;
}

static char nm_note[400];

/* Insert rows [from, from + n) with long notes, in the current transaction. */
static int nm_insert(sqlite3 *db, long from, long n, expect *added) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?1, ?2, ?3)", -1, &st, NULL);
    for (long i = from; rc == SQLITE_OK && i < from + n; i++) {
        int len = 100 + (int)(i % 250);
        int amount = (int)(i % 1000);
        sqlite3_bind_int64(st, 1, i);
        sqlite3_bind_int(st, 2, amount);
        rc = sqlite3_bind_text(st, 3, nm_note, len, SQLITE_TRANSIENT); /* a copy: may be NOMEM */
        if (rc != SQLITE_OK)
            break;
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
            rc = sqlite3_reset(st);
            added->count++;
            added->amount += amount;
            added->note_bytes += len;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* Runs the statements of one round under the cap.  Returns the first
 * failing result code (SQLITE_OK if all succeeded); *committed tells whether
 * the inserted rows were committed, *step names the statement that failed. */
static int nm_round(sqlite3 *db, long rows, long round, expect *added, bool *committed,
                    const char **step) {
    char sql[200];
    int rc;
    *committed = false;
    memset(added, 0, sizeof *added);

    *step = "BEGIN";
    if ((rc = exec_rc(db, "BEGIN")) != SQLITE_OK)
        return rc;
    *step = "INSERT";
    if ((rc = nm_insert(db, rows + 1, rows * 2, added)) != SQLITE_OK)
        return rc;
    *step = "COMMIT";
    if ((rc = exec_rc(db, "COMMIT")) != SQLITE_OK)
        return rc;
    *committed = true;

    *step = "CREATE INDEX";
    snprintf(sql, sizeof sql, "CREATE INDEX t_note_%ld ON t(note, amount)", round);
    if ((rc = exec_rc(db, sql)) != SQLITE_OK)
        return rc;

    *step = "GROUP BY";
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(db, "SELECT amount % 97, count(*), max(note), group_concat(id) FROM t "
                                "GROUP BY 1 ORDER BY 4 DESC", -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        rc = SQLITE_OK;
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rc;

    *step = "UPDATE";
    snprintf(sql, sizeof sql, "UPDATE t SET note = note || '+' WHERE id > %ld", rows);
    if ((rc = exec_rc(db, sql)) != SQLITE_OK)
        return rc;
    added->note_bytes += sqlite3_changes(db);
    return SQLITE_OK;
}

/* Drive one database (a file, or ":memory:") into SQLITE_NOMEM with
 * ever looser caps.  Returns the number of rounds that hit SQLITE_NOMEM, or
 * -1 on a failure. */
static int nomem_db(const char *path, long rows) {
    bool is_file = strcmp(path, ":memory:") != 0;
    if (is_file && !db_path_usable(path))
        return -1;
    sqlite3 *db = open_db(path);
    if (!db)
        return -1;
    int hits = -1;
    expect first = {0, 0, 0};
    if (!exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, amount INTEGER, note TEXT)") ||
        !exec(db, "BEGIN") || nm_insert(db, 1, rows, &first) != SQLITE_OK || !exec(db, "COMMIT"))
        goto out;
    if (!nm_check(db, &first, rows, &first, "before the caps"))
        goto out;

    /* from nothing to more than a round needs, so failures land in every
     * kind of statement (the cap counts whole arenas and large blocks) */
    static const size_t margins[] = {
        0,        4096,     32768,    131072,   524288,   1048576,  1572864,
        2097152,  2621440,  3145728,  3670016,  4194304,  5242880,  6291456,
        8388608,  33554432,
    };
    hits = 0;
    for (size_t k = 0; k < sizeof margins / sizeof margins[0]; k++) {
        rc_heap_stats s;
        rc_heap_get_stats(g_heap, &s);
        rc_heap_set_max_bytes(g_heap, s.bytes_from_os + margins[k]);

        expect added;
        bool committed;
        const char *step;
        int rc = nm_round(db, rows, (long)k, &added, &committed, &step);
        rc_heap_set_max_bytes(g_heap, 0); /* lift the cap */

        if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_NOMEM) {
            fprintf(stderr, PROG ": %s: cap +%zu: %s failed with %d (%s), not SQLITE_NOMEM\n", path,
                    margins[k], step, rc, sqlite3_errstr(rc));
            hits = -1;
            goto out;
        }
        printf("  %-9s cap = held + %8zu: %s\n", is_file ? "file" : "memory", margins[k],
               rc == SQLITE_OK ? "every statement succeeded" : step);
        if (rc != SQLITE_OK) {
            hits++;
            if (!sqlite3_get_autocommit(db) && !exec(db, "ROLLBACK")) {
                hits = -1;
                goto out;
            }
        }
        expect now = first;
        if (committed) {
            now.count += added.count;
            now.amount += added.amount;
            now.note_bytes += added.note_bytes;
        }
        char when[96];
        snprintf(when, sizeof when, "%s, cap +%zu, after %s", is_file ? "file" : "memory",
                 margins[k], rc == SQLITE_OK ? "success" : "SQLITE_NOMEM");
        if (!nm_check(db, &now, rows, &first, when)) {
            hits = -1;
            goto out;
        }
        /* back to the committed starting point for the next round */
        char sql[160];
        snprintf(sql, sizeof sql, "DROP INDEX IF EXISTS t_note_%zu; DELETE FROM t WHERE id > %ld",
                 k, rows);
        if (!exec(db, sql) || !nm_check(db, &first, rows, &first, "after the clean-up")) {
            hits = -1;
            goto out;
        }
    }
    if (is_file) {
        /* what is on disk must be just as consistent */
        sqlite3_close(db);
        db = open_db(path);
        if (!db || !nm_check(db, &first, rows, &first, "after reopening the file"))
            hits = -1;
    }
out:
    if (db && sqlite3_close(db) != SQLITE_OK) {
        report(db, "close");
        hits = -1;
    }
    if (is_file)
        remove_db_files(path);
    return hits;
}

static bool nomem_test(long rows, const char *db_path) {
    for (size_t i = 0; i + 1 < sizeof nm_note; i++)
        nm_note[i] = (char)('a' + i % 26);

    char tmpl[4096];
    const char *path = db_path;
    if (!path) {
        const char *dir = getenv("TMPDIR");
        snprintf(tmpl, sizeof tmpl, "%s/rcgc-sqlite-nomem-XXXXXX", dir && *dir ? dir : "/tmp");
        int fd = mkstemp(tmpl);
        if (fd < 0) {
            fprintf(stderr, PROG ": cannot make a temporary file %s: %s\n", tmpl, strerror(errno));
            return false;
        }
        close(fd);
        path = tmpl;
    }
    printf("cap test, %ld committed rows, heap mode %s:\n", rows,
           rc_heap_mode(g_heap) == RC_MODE_DEBUG ? "debug"
           : rc_heap_mode(g_heap) == RC_MODE_MALLOC ? "malloc" : "pool");
    int file_hits = nomem_db(path, rows);
    int mem_hits = file_hits >= 0 ? nomem_db(":memory:", rows) : -1;
    if (file_hits < 0 || mem_hits < 0)
        return false;
    if (file_hits == 0 || mem_hits == 0) {
        fprintf(stderr, PROG ": no cap produced SQLITE_NOMEM (file %d, memory %d)\n", file_hits,
                mem_hits);
        return false;
    }
    printf("nomem ok: SQLITE_NOMEM in %d file rounds and %d memory rounds; "
           "integrity_check ok and committed rows intact after each\n", file_hits, mem_hits);
    return true;
}

/* ---- main --------------------------------------------------------------------- */


int main(int argc, char **argv) {
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    options o;
    switch (parse_args(argc, argv, &o)) {
    case 0: break;
    case 2: usage(stdout); return 0;
    default: return 1;
    }

    if (sqlite3_config(SQLITE_CONFIG_SINGLETHREAD) != SQLITE_OK) {
        fprintf(stderr, PROG ": sqlite3_config(SQLITE_CONFIG_SINGLETHREAD) failed\n");
        return 1;
    }
    if (!o.system) {
        rc_heap_config cfg;
        rc_heap_config_init(&cfg);
        cfg.mode = o.mode;
        cfg.max_bytes = o.max_bytes;
        g_heap = rc_heap_new(&cfg);
        if (!g_heap) {
            fprintf(stderr, PROG ": cannot create the rcgc heap\n");
            return 1;
        }
        if (sqlite3_config(SQLITE_CONFIG_MALLOC, &rcgc_methods) != SQLITE_OK) {
            fprintf(stderr, PROG ": sqlite3_config(SQLITE_CONFIG_MALLOC) failed\n");
            rc_heap_destroy(g_heap);
            return 1;
        }
    }
    int status = 1;
    long anon_kib = -1; /* host_anon_kib() before the database is closed */
    if (sqlite3_initialize() != SQLITE_OK) {
        fprintf(stderr, PROG ": sqlite3_initialize failed\n");
        goto done;
    }

    if (o.nomem_test) {
        status = nomem_test(o.rows ? o.rows : 5000, o.db) ? 0 : 1;
    } else {
        workload w = {0};
        w.rows = o.rows ? o.rows : 200000;
        w.ncust = w.rows / 10;
        w.orders = calloc((size_t)w.rows + 1, sizeof *w.orders);
        w.region = calloc((size_t)w.ncust + 1, sizeof *w.region);
        w.name_len = calloc((size_t)w.ncust + 1, sizeof *w.name_len);
        const char *path = o.db ? o.db : ":memory:";
        bool made_file = false;
        if (!w.orders || !w.region || !w.name_len) {
            fprintf(stderr, PROG ": no memory for the expected results of %ld rows\n", w.rows);
        } else if (o.db && !db_path_usable(o.db)) {
            /* reported */
        } else if ((w.db = open_db(path)) != NULL) {
            made_file = o.db != NULL;
            bool ok = (!o.db || exec(w.db, "PRAGMA synchronous = OFF")) && run_workload(&w);
            if (ok)
                printf("sqlite ok: %ld orders, %ld customers, %s, %s allocator\n", w.rows, w.ncust,
                       o.db ? "file" : "in memory", o.system ? "system" : "rcgc");
            fflush(stdout);
            if (o.stats) {
                sqlite3_int64 used = sqlite3_memory_used(), high = sqlite3_memory_highwater(0);
                fprintf(stderr, PROG ": SQLite reports %lld bytes in use, %lld high water\n",
                        (long long)used, (long long)high);
                if (g_heap) {
                    fprintf(stderr, PROG ": heap statistics at the end of the workload\n");
                    rc_heap_print_stats(g_heap, stderr);
                }
            }
            if (o.rusage)
                anon_kib = host_anon_kib();
            if (sqlite3_close(w.db) != SQLITE_OK) {
                report(w.db, "close");
                ok = false;
            }
            status = ok ? 0 : 1;
        }
        if (made_file)
            remove_db_files(o.db);
        free(w.orders);
        free(w.region);
        free(w.name_len);
    }

done:
    sqlite3_shutdown();
    /* every SQLite allocation is gone after sqlite3_shutdown */
    if (g_heap && !host_finish_heap(g_heap, PROG, "sqlite3_shutdown", o.stats))
        status = 1;
    if (o.rusage)
        host_print_rusage(PROG, o.system, t0, anon_kib);
    return status;
}
