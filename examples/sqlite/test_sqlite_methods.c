/*
 * examples/sqlite/test_sqlite_methods.c — rcgc-sqlite's memory methods and
 * its SQLite set-up, tested where the program's own tests do not look.
 *
 * The file includes rcgc-sqlite.c (its main renamed), so what is tested is
 * the program's own rcgc_methods and g_heap, unchanged:
 *
 *   methods     the sqlite3_mem_methods against SQLite's documentation:
 *               xRoundup(n) >= n and what xSize then reports for a block of
 *               that size, xRoundup of 0 and of values near INT_MAX, xSize
 *               of NULL, xRealloc keeping the contents when it grows and
 *               leaving the block intact when the cap refuses it, xMalloc
 *               refused by the cap;
 *   cycles      sqlite3_initialize / work / sqlite3_close / sqlite3_shutdown
 *               three times on one heap: every block back after each close
 *               (sqlite3_memory_used, the heap's bytes_requested back at the
 *               level seen before the database was opened) and after each
 *               shutdown (nothing at all);
 *   failat      (debug and malloc modes) rc_heap_fail_at(k) for k = 1, 2, 3, ...
 *               so that the k-th allocation of a round of statements fails:
 *               every statement must end in SQLITE_OK or SQLITE_NOMEM,
 *               and after each round PRAGMA integrity_check must say ok and
 *               the committed rows be exactly there;
 *   nm_insert   (debug and malloc) the program's own cap-test INSERT loop
 *               with a failing allocation, the note's copy included (see
 *               test_nm_insert_bind);
 *   capsteps    (every mode) the cap at held + 0, 8 KiB, 16 KiB, ... 2 MiB:
 *               the same checks with the failure landing on the cap.
 *
 *   test_sqlite_methods MODE [DBFILE]   MODE: pool, debug or malloc
 *
 * With DBFILE (a path that does not exist yet) failat and capsteps run on a
 * database file as well as in memory.  Exit status 0 when every check holds.
 */
#define main rcgc_sqlite_main
#include "rcgc-sqlite.c"
#undef main

static int g_failures;

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);              \
            fprintf(stderr, __VA_ARGS__);                                    \
            fputc('\n', stderr);                                             \
            g_failures++;                                                    \
        }                                                                    \
    } while (0)

static size_t requested_now(void) {
    rc_heap_stats s;
    rc_heap_get_stats(g_heap, &s);
    return s.bytes_requested;
}

static size_t held_now(void) {
    rc_heap_stats s;
    rc_heap_get_stats(g_heap, &s);
    return s.bytes_from_os;
}

/* ---- the methods on their own ------------------------------------------ */

static void test_methods(void) {
    const sqlite3_mem_methods *m = &rcgc_methods;
    CHECK(m->xSize(NULL) == 0, "xSize(NULL) = %d", m->xSize(NULL));
    CHECK(m->xRoundup(0) == 0, "xRoundup(0) = %d", m->xRoundup(0));
    /* values SQLite could hand over (it refuses requests >= 0x7fffff00 first) */
    static const int big[] = {INT_MAX, INT_MAX - 1, INT_MAX - 15, 0x7fffff00, 0x40000001};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        int r = m->xRoundup(big[i]);
        CHECK(r >= big[i], "xRoundup(%d) = %d, less than asked", big[i], r);
    }
    for (int n = 1; n <= 20000; n += (n < 1100 ? 1 : 97)) {
        int r = m->xRoundup(n);
        CHECK(r >= n && (r % 8 == 0 || n > 512), "xRoundup(%d) = %d", n, r);
        CHECK(m->xRoundup(r) == r, "xRoundup not idempotent: %d -> %d -> %d", n, r, m->xRoundup(r));
        unsigned char *p = m->xMalloc(r);
        CHECK(p != NULL, "xMalloc(%d) failed", r);
        if (!p)
            continue;
        CHECK(((uintptr_t)p & 7) == 0, "xMalloc(%d) = %p, not 8-byte aligned", r, (void *)p);
        int sz = m->xSize(p);
        CHECK(sz >= r, "xSize of an xMalloc(%d) block is %d", r, sz);
        memset(p, 0xA5, (size_t)sz); /* SQLite may use the whole of xSize */
        /* grow: contents kept */
        unsigned char *q = m->xRealloc(p, m->xRoundup(r * 2 + 40));
        CHECK(q != NULL, "xRealloc(%d -> %d) failed", r, r * 2 + 40);
        if (q) {
            bool same = true;
            for (int i = 0; i < r; i++)
                same &= q[i] == 0xA5;
            CHECK(same, "xRealloc(%d -> %d) lost the contents", r, r * 2 + 40);
            CHECK(m->xSize(q) >= r * 2 + 40, "xSize after xRealloc: %d", m->xSize(q));
            p = q;
        }
        m->xFree(p);
    }
    /* under a cap: a refused xRealloc leaves the block as it was */
    unsigned char *p = m->xMalloc(3000);
    CHECK(p != NULL, "xMalloc(3000)");
    if (p) {
        memset(p, 0x3C, 3000);
        rc_heap_trim(g_heap);
        size_t held = held_now();
        rc_heap_set_max_bytes(g_heap, held);
        void *q = m->xRealloc(p, 4 << 20);
        void *r = m->xMalloc(4 << 20);
        rc_heap_set_max_bytes(g_heap, 0);
        CHECK(q == NULL, "xRealloc to 4 MiB succeeded under a cap of what is held");
        CHECK(r == NULL, "xMalloc of 4 MiB succeeded under a cap of what is held");
        if (q)
            p = q;
        if (r)
            m->xFree(r);
        bool same = true;
        for (int i = 0; i < 3000; i++)
            same &= p[i] == 0x3C;
        CHECK(same, "a refused xRealloc changed the block");
        CHECK(m->xSize(p) >= 3000, "xSize of the block after a refused xRealloc: %d", m->xSize(p));
        m->xFree(p);
    }
    CHECK(m->xMalloc(-1) == NULL, "xMalloc(-1) gave a block");
    m->xFree(NULL); /* like free(NULL) */
    CHECK(requested_now() == 0, "%zu bytes still allocated after the method tests", requested_now());
}

/* ---- initialize / close / shutdown cycles ------------------------------- */

static bool fill_table(sqlite3 *db, int rows) {
    if (!exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, amount INTEGER, note TEXT)") ||
        !exec(db, "BEGIN"))
        return false;
    sqlite3_stmt *st = prepare(db, "INSERT INTO t VALUES (?1, ?2, ?3)");
    if (!st)
        return false;
    char note[300];
    memset(note, 'n', sizeof note);
    bool ok = true;
    for (int i = 1; ok && i <= rows; i++) {
        sqlite3_bind_int(st, 1, i);
        sqlite3_bind_int(st, 2, i % 1000);
        sqlite3_bind_text(st, 3, note, 50 + i % 250, SQLITE_TRANSIENT);
        ok = sqlite3_step(st) == SQLITE_DONE && sqlite3_reset(st) == SQLITE_OK;
    }
    sqlite3_finalize(st);
    return ok && exec(db, "COMMIT") && exec(db, "CREATE INDEX t_amount ON t(amount)");
}

static void test_cycles(void) {
    for (int cycle = 1; cycle <= 3; cycle++) {
        CHECK(sqlite3_initialize() == SQLITE_OK, "cycle %d: sqlite3_initialize", cycle);
        size_t before = requested_now();
        sqlite3_int64 used_before = sqlite3_memory_used();
        sqlite3 *db = open_db(":memory:");
        CHECK(db != NULL, "cycle %d: open", cycle);
        if (db) {
            CHECK(fill_table(db, 3000), "cycle %d: filling the table", cycle);
            int64_t r[2] = {0, 0};
            CHECK(query_row(db, "SELECT count(*), sum(amount) FROM t", r, 2), "cycle %d: query", cycle);
            CHECK(r[0] == 3000, "cycle %d: %lld rows", cycle, (long long)r[0]);
            CHECK(integrity_ok(db), "cycle %d: integrity_check", cycle);
            CHECK(sqlite3_close(db) == SQLITE_OK, "cycle %d: close", cycle);
        }
        CHECK(sqlite3_memory_used() == used_before,
              "cycle %d: SQLite counts %lld bytes after close, %lld before open", cycle,
              (long long)sqlite3_memory_used(), (long long)used_before);
        CHECK(requested_now() == before, "cycle %d: heap has %zu bytes after close, %zu before open",
              cycle, requested_now(), before);
        CHECK(sqlite3_shutdown() == SQLITE_OK, "cycle %d: sqlite3_shutdown", cycle);
        rc_heap_trim(g_heap);
        rc_heap_stats s;
        rc_heap_get_stats(g_heap, &s);
        CHECK(s.bytes_requested == 0 && s.large_blocks == 0,
              "cycle %d: %zu bytes, %zu large blocks left after sqlite3_shutdown", cycle,
              s.bytes_requested, s.large_blocks);
    }
}

/* ---- failures at every allocation / at stepped caps ---------------------- */

#define BASE_ROWS 300
#define ROUND_ROWS 150

typedef struct totals {
    int64_t count, amount, bytes;
} totals;

static bool totals_of(sqlite3 *db, totals *t) {
    int64_t r[3];
    if (!query_row(db, "SELECT count(*), total(amount), total(length(note)) FROM t", r, 3))
        return false;
    t->count = r[0], t->amount = r[1], t->bytes = r[2];
    return true;
}

static bool is_ok_or_nomem(int rc) {
    return rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW || (rc & 0xff) == SQLITE_NOMEM;
}

/* One round under whatever failure is armed.  Returns the first result that
 * is not OK, *committed if the inserted rows were committed. */
static int failing_round(sqlite3 *db, bool *committed) {
    *committed = false;
    int rc = exec_rc(db, "BEGIN");
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?1, ?2, ?3)", -1, &st, NULL);
    char note[600];
    memset(note, 'r', sizeof note);
    for (int i = 0; rc == SQLITE_OK && i < ROUND_ROWS; i++) {
        sqlite3_bind_int(st, 1, 100000 + i);
        sqlite3_bind_int(st, 2, 7);
        /* binding copies the text (SQLITE_TRANSIENT): that allocation can
         * fail too, and then the parameter is NULL */
        rc = sqlite3_bind_text(st, 3, note, 200 + i * 2, SQLITE_TRANSIENT);
        if (rc != SQLITE_OK)
            break;
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            rc = sqlite3_reset(st);
    }
    int frc = sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return rc;
    if (frc != SQLITE_OK)
        return frc;
    if ((rc = exec_rc(db, "COMMIT")) != SQLITE_OK)
        return rc;
    *committed = true;
    if ((rc = exec_rc(db, "CREATE INDEX t_note ON t(note)")) != SQLITE_OK)
        return rc;
    rc = sqlite3_prepare_v2(db, "SELECT amount % 13, count(*), group_concat(id) FROM t GROUP BY 1 "
                                "ORDER BY 3 DESC", -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        rc = SQLITE_OK;
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rc;
    return exec_rc(db, "UPDATE t SET note = note || 'x' WHERE id >= 100000 AND id % 3 = 0");
}

typedef void (*arm_fn)(long step);

static void arm_fail_at(long step) { rc_heap_fail_at(g_heap, (uint64_t)step); }
static void disarm_fail_at(void) { rc_heap_fail_at(g_heap, 0); }

static void arm_cap(long step) {
    rc_heap_trim(g_heap);
    rc_heap_set_max_bytes(g_heap, held_now() + (size_t)step * 8192);
}

/* Runs rounds with arm(step) for step = first, first + stride, ... up to
 * last; returns how many rounds hit SQLITE_NOMEM. */
static int stepped(const char *what, const char *path, arm_fn arm, long first, long last,
                   long stride) {
    sqlite3 *db = open_db(path);
    CHECK(db != NULL, "%s %s: open", what, path);
    if (!db)
        return 0;
    CHECK(fill_table(db, BASE_ROWS), "%s %s: fill", what, path);
    totals base;
    CHECK(totals_of(db, &base), "%s %s: totals", what, path);
    int hits = 0, bad = 0;
    for (long step = first; step <= last && bad < 5; step += stride) {
        bool committed;
        arm(step);
        int rc = failing_round(db, &committed);
        disarm_fail_at();
        rc_heap_set_max_bytes(g_heap, 0);
        if (!is_ok_or_nomem(rc)) {
            CHECK(false, "%s %s step %ld: result %d (%s), neither OK nor SQLITE_NOMEM", what, path,
                  step, rc, sqlite3_errstr(rc));
            bad++;
        }
        if (rc != SQLITE_OK && rc != SQLITE_DONE)
            hits++;
        if (!sqlite3_get_autocommit(db)) {
            int r2 = exec_rc(db, "ROLLBACK");
            if (r2 != SQLITE_OK) {
                CHECK(false, "%s %s step %ld: ROLLBACK gave %d", what, path, step, r2);
                bad++;
            }
        }
        if (!integrity_ok(db)) {
            CHECK(false, "%s %s step %ld: integrity_check failed", what, path, step);
            bad++;
        }
        totals now = {-1, -1, -1};
        totals want = base;
        if (committed) {
            want.count += ROUND_ROWS;
            want.amount += 7 * ROUND_ROWS;
            want.bytes += (int64_t)ROUND_ROWS * 200 + (int64_t)ROUND_ROWS * (ROUND_ROWS - 1);
        }
        if (totals_of(db, &now) && committed && now.count == want.count) {
            /* the UPDATE may or may not have run (one statement: all or nothing) */
            int64_t upd = 0;
            for (int i = 0; i < ROUND_ROWS; i++)
                upd += (100000 + i) % 3 == 0;
            if (now.bytes == want.bytes + upd)
                want.bytes += upd;
        }
        if (now.count != want.count || now.amount != want.amount || now.bytes != want.bytes) {
            CHECK(false,
                  "%s %s step %ld (rc %d, committed %d): %lld rows %lld %lld, expected %lld %lld %lld",
                  what, path, step, rc, committed, (long long)now.count, (long long)now.amount,
                  (long long)now.bytes, (long long)want.count, (long long)want.amount,
                  (long long)want.bytes);
            bad++;
        }
        if (exec_rc(db, "DROP INDEX IF EXISTS t_note; DELETE FROM t WHERE id >= 100000") != SQLITE_OK) {
            CHECK(false, "%s %s step %ld: clean-up failed", what, path, step);
            bad++;
        }
    }
    CHECK(sqlite3_close(db) == SQLITE_OK, "%s %s: close", what, path);
    if (strcmp(path, ":memory:") != 0) {
        /* what is on disk is consistent as well */
        db = open_db(path);
        totals t;
        CHECK(db && integrity_ok(db) && totals_of(db, &t) && t.count == base.count &&
                  t.amount == base.amount && t.bytes == base.bytes,
              "%s %s: the reopened file is not what was committed", what, path);
        if (db)
            sqlite3_close(db);
        remove_db_files(path);
    }
    printf("  %-8s %-10s steps %ld..%ld by %ld: SQLITE_NOMEM in %d rounds\n", what,
           strcmp(path, ":memory:") == 0 ? "memory" : "file", first, last, stride, hits);
    CHECK(hits > 0, "%s %s: no round hit SQLITE_NOMEM", what, path);
    return hits;
}

/* rcgc-sqlite's own nm_insert (the cap test's INSERT loop) under a failure
 * at its k-th allocation: when it answers SQLITE_OK, what it counted as
 * added must be what the table holds.  (A failed copy of the note in
 * sqlite3_bind_text, unchecked, once inserted NULL and left the count
 * wrong: now it is SQLITE_NOMEM.) */
static void test_nm_insert_bind(void) {
    for (size_t i = 0; i + 1 < sizeof nm_note; i++)
        nm_note[i] = (char)('a' + i % 26);
    sqlite3 *db = open_db(":memory:");
    CHECK(db && exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, amount INTEGER, note TEXT)"),
          "nm_insert: set-up");
    if (!db)
        return;
    int wrong_counts = 0;
    for (long k = 1; k <= 120; k++) {
        expect added = {0, 0, 0};
        rc_heap_fail_at(g_heap, (uint64_t)k);
        int rc = nm_insert(db, 1, 20, &added);
        rc_heap_fail_at(g_heap, 0);
        if (rc == SQLITE_OK) {
            int64_t r[3];
            if (query_row(db, "SELECT count(*), total(amount), total(length(note)) FROM t", r, 3) &&
                (r[0] != added.count || r[1] != added.amount || r[2] != added.note_bytes)) {
                if (wrong_counts++ == 0)
                    CHECK(false, "nm_insert, allocation %ld failing: SQLITE_OK, counted %lld rows "
                                 "%lld note bytes, table holds %lld rows %lld note bytes",
                          k, (long long)added.count, (long long)added.note_bytes,
                          (long long)r[0], (long long)r[2]);
            }
        }
        exec(db, "DELETE FROM t");
    }
    printf("nm_insert: %d of 120 failure points miscounted\n", wrong_counts);
    sqlite3_close(db);
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: test_sqlite_methods pool|debug|malloc [DBFILE]\n");
        return 2;
    }
    rc_heap_config cfg;
    rc_heap_config_init(&cfg);
    if (strcmp(argv[1], "pool") == 0)
        cfg.mode = RC_MODE_POOL;
    else if (strcmp(argv[1], "debug") == 0)
        cfg.mode = RC_MODE_DEBUG;
    else if (strcmp(argv[1], "malloc") == 0)
        cfg.mode = RC_MODE_MALLOC;
    else {
        fprintf(stderr, "test_sqlite_methods: unknown mode %s\n", argv[1]);
        return 2;
    }
    const char *file = argc == 3 ? argv[2] : NULL;
    if (file)
        remove_db_files(file);
    g_heap = rc_heap_new(&cfg);
    if (!g_heap || sqlite3_config(SQLITE_CONFIG_SINGLETHREAD) != SQLITE_OK ||
        sqlite3_config(SQLITE_CONFIG_MALLOC, &rcgc_methods) != SQLITE_OK) {
        fprintf(stderr, "test_sqlite_methods: set-up failed\n");
        return 1;
    }
    test_methods();
    printf("methods: %d failures so far\n", g_failures);
    test_cycles();
    printf("cycles: %d failures so far\n", g_failures);
    if (sqlite3_initialize() != SQLITE_OK) {
        fprintf(stderr, "test_sqlite_methods: sqlite3_initialize failed\n");
        return 1;
    }
    if (cfg.mode != RC_MODE_POOL) {
        /* a round makes a few thousand allocations: every third of the
         * first 400, then every 31st (every 13th in a file) */
        stepped("failat", ":memory:", arm_fail_at, 1, 400, 3);
        stepped("failat", ":memory:", arm_fail_at, 401, 4000, 31);
        if (file)
            stepped("failat", file, arm_fail_at, 1, 3000, 13);
        test_nm_insert_bind();
    }
    stepped("capsteps", ":memory:", arm_cap, 0, 256, 1);
    if (file)
        stepped("capsteps", file, arm_cap, 0, 256, 2);
    sqlite3_shutdown();
    if (!host_finish_heap(g_heap, "test_sqlite_methods", "sqlite3_shutdown", true))
        g_failures++;
    if (g_failures) {
        fprintf(stderr, "test_sqlite_methods: %d failures\n", g_failures);
        return 1;
    }
    printf("test_sqlite_methods %s ok\n", argv[1]);
    return 0;
}
