/*
 * examples/lua/rcgc-lua.c — a Lua 5.4 interpreter whose every allocation
 * comes from an rcgc heap.
 *
 *   rcgc-lua [options] script.lua [args...]
 *
 * The lua_State is made with lua_newstate() and an allocation function that
 * forwards to rc_malloc / rc_realloc / rc_free_sized on one private heap
 * (Lua always passes a freed block's size, so the sized free applies).  Lua's
 * allocator contract (lua_Alloc) is:
 *
 *   ptr == NULL         a new block of nsize bytes (osize tells the type)
 *   nsize == 0          free ptr (osize bytes), return NULL
 *   otherwise           realloc ptr from osize to nsize bytes; NULL if and
 *                       only if the request cannot be met (ptr stays valid)
 *
 * A heap cap (--max-bytes) makes rc_* return NULL; the host then trims the
 * heap and retries once (rcgc_lua_alloc_capped), Lua runs an emergency
 * collection and retries, and if that fails too it raises its ordinary
 * "not enough memory" error, which pcall catches.
 *
 * --system (or --alloc=libc) runs the same interpreter on realloc/free, as
 * the stock `lua` command does, so the two allocators can be compared in one
 * binary.
 *
 * Scripts running on an rcgc heap also see a small `rcgc` table:
 *   rcgc.stats()            -> table of the heap's statistics
 *   rcgc.set_max_bytes(n)   change the cap (0 = none)
 *   rcgc.trim()             -> bytes given back to the system
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "rcgc/heap.h"
#include "../common/host.h"

#if LUA_VERSION_NUM != 504
#error "rcgc-lua is written for Lua 5.4"
#endif

#if defined(__GNUC__)
#define RCGC_LUA_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define RCGC_LUA_COLD __attribute__((cold, noinline))
#else
#define RCGC_LUA_UNLIKELY(x) (x)
#define RCGC_LUA_COLD
#endif

#define PROGNAME "rcgc-lua"
#define MAX_BYTES_ENV "RCGC_LUA_MAX_BYTES"
/* rc_heap_config.huge_auto_arenas for the Lua heap (see main) */
#define RCGC_LUA_HUGE_AUTO_ARENAS 24

/* ---- Options ------------------------------------------------------------ */

typedef struct options {
    bool system;          /* realloc/free instead of an rcgc heap */
    bool stats;           /* rc_heap_print_stats at exit */
    bool rusage;          /* time and peak RSS at exit */
    bool max_bytes_given; /* -m / --max-bytes on the command line */
    size_t max_bytes;     /* 0 = no cap */
    rc_alloc_mode mode;   /* RC_MODE_DEFAULT: RCGC_MALLOC, else pool */
    bool generational;    /* --gc generational: the collector mode the lua command sets */
    int script;           /* argv index of the script, or argc if none */
} options;

static void usage(FILE *out) {
    fprintf(out,
            "usage: " PROGNAME " [options] script.lua [args...]\n"
            "Runs a Lua 5.4 script with every allocation served by an rcgc heap.\n"
            "\n"
            "options:\n"
            "  -m BYTES, --max-bytes BYTES  cap the bytes the heap may hold from the system\n"
            "                               (suffixes k, M, G; 0 = no cap); default from\n"
            "                               the environment variable " MAX_BYTES_ENV "\n"
            "  --mode pool|debug|malloc     heap mode (default: RCGC_MALLOC, else pool)\n"
            "  --system                     use realloc/free (as the stock lua) instead of rcgc\n"
            "  --alloc=rcgc|libc            the same choice as an option of fixed length\n"
            "                               (--alloc=libc is --system), for benchmarks\n"
            "  --gc incremental|generational  Lua's collector mode (default: incremental,\n"
            "                               lua_newstate's; the lua command sets generational)\n"
            "  --stats                      print the heap's statistics to stderr at exit\n"
            "  --rusage                     print wall/CPU time, peak RSS and anonymous memory\n"
            "                               to stderr at exit\n"
            "  -h, --help                   this text\n"
            "  --                           end of options\n"
            "A script of \"-\" reads standard input.  The script's arguments are in the\n"
            "global table `arg` (arg[0] is the script) and are passed to it as `...`.\n");
}

static bool parse_mode(const char *s, rc_alloc_mode *out) {
    if (!s)
        return false;
    if (strcmp(s, "pool") == 0)
        *out = RC_MODE_POOL;
    else if (strcmp(s, "debug") == 0)
        *out = RC_MODE_DEBUG;
    else if (strcmp(s, "malloc") == 0)
        *out = RC_MODE_MALLOC;
    else
        return false;
    return true;
}

/* The value of an option given either as "--opt=value" or "--opt value". */
static const char *option_value(int argc, char **argv, int *i, const char *name) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] == '\0' && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

/* Returns 0 on success, 1 on a usage error (message printed), 2 for --help. */
static int parse_args(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->mode = RC_MODE_DEFAULT;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || strcmp(a, "-") == 0)
            break; /* the script */
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            return 2;
        if (strcmp(a, "--system") == 0 || strcmp(a, "--alloc=libc") == 0) {
            o->system = true;
        } else if (strcmp(a, "--alloc=rcgc") == 0) {
            o->system = false;
        } else if (strcmp(a, "--stats") == 0) {
            o->stats = true;
        } else if (strcmp(a, "--rusage") == 0) {
            o->rusage = true;
        } else if (strncmp(a, "-m", 2) == 0 && strncmp(a, "--", 2) != 0) {
            const char *v = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
            if (!host_parse_bytes(v, &o->max_bytes)) {
                fprintf(stderr, PROGNAME ": bad byte count for -m: %s\n", v ? v : "(missing)");
                return 1;
            }
            o->max_bytes_given = true;
        } else if (strncmp(a, "--max-bytes", 11) == 0 && (a[11] == '\0' || a[11] == '=')) {
            const char *v = option_value(argc, argv, &i, "--max-bytes");
            if (!host_parse_bytes(v, &o->max_bytes)) {
                fprintf(stderr, PROGNAME ": bad byte count for --max-bytes: %s\n",
                        v ? v : "(missing)");
                return 1;
            }
            o->max_bytes_given = true;
        } else if (strncmp(a, "--gc", 4) == 0 && (a[4] == '\0' || a[4] == '=')) {
            const char *v = option_value(argc, argv, &i, "--gc");
            if (v && strcmp(v, "generational") == 0) {
                o->generational = true;
            } else if (v && strcmp(v, "incremental") == 0) {
                o->generational = false;
            } else {
                fprintf(stderr, PROGNAME ": --gc wants incremental or generational, not %s\n",
                        v ? v : "(missing)");
                return 1;
            }
        } else if (strncmp(a, "--mode", 6) == 0 && (a[6] == '\0' || a[6] == '=')) {
            const char *v = option_value(argc, argv, &i, "--mode");
            if (!parse_mode(v, &o->mode)) {
                fprintf(stderr, PROGNAME ": --mode wants pool, debug or malloc, not %s\n",
                        v ? v : "(missing)");
                return 1;
            }
        } else {
            fprintf(stderr, PROGNAME ": unknown option %s\n", a);
            usage(stderr);
            return 1;
        }
    }
    o->script = i;
    if (i >= argc) {
        fprintf(stderr, PROGNAME ": no script given\n");
        usage(stderr);
        return 1;
    }
    if (o->system && (o->max_bytes_given || o->stats || o->mode != RC_MODE_DEFAULT)) {
        fprintf(stderr, PROGNAME ": --max-bytes, --mode and --stats need an rcgc heap, not --system\n");
        return 1;
    }
    if (!o->system && !o->max_bytes_given) {
        const char *env = getenv(MAX_BYTES_ENV);
        if (env && *env && !host_parse_bytes(env, &o->max_bytes)) {
            fprintf(stderr, PROGNAME ": bad byte count in " MAX_BYTES_ENV ": %s\n", env);
            return 1;
        }
    }
    return 0;
}

/* ---- Allocation functions ------------------------------------------------ */

/* Lua on an rcgc heap (`ud` is the heap), while the heap has no cap: the
 * allocation and the resize are tail calls, the free a plain call (Lua
 * wants NULL back).  Here a NULL from rcgc means the system itself is out
 * of memory, and Lua's own answer — an emergency collection, one retry,
 * then "not enough memory" — is all there is to do.  A free uses
 * rc_free_sized: when ptr != NULL, osize is the size Lua allocated the
 * block with, which debug mode checks, with the heap, on every free. */
static void *rcgc_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    if (nsize == 0) {
        /* Lua frees NULL often (empty array parts); rc_free_sized(NULL)
         * would take its slow path first */
        if (ptr != NULL)
            rc_free_sized((rc_heap *)ud, ptr, osize);
        return NULL;
    }
    if (ptr == NULL)
        return rc_malloc((rc_heap *)ud, nsize); /* osize is the new object's type here */
    return rc_realloc((rc_heap *)ud, ptr, nsize);
}

/* The heap refused a request because of its cap.  Memory it holds without
 * using — the spare arena, empty pools kept for their class, and in debug
 * mode the quarantine of freed blocks — counts against the cap too, so give
 * that back and let the caller try once more.  True if anything was given
 * back. */
RCGC_LUA_COLD static bool heap_make_room(rc_heap *h) { return rc_heap_trim(h) != 0; }

/* The same with a cap in force (installed by main and rcgc.set_max_bytes):
 * a refused request is retried once after heap_make_room (Lua then still
 * runs its emergency collection and retries), and a shrink that cannot be
 * done — the smaller size class would need a new pool — keeps the block,
 * which is big enough.  Lua then takes the block for one of nsize bytes and
 * will free it with that size, which is not the size it was allocated with:
 * so this function frees with plain rc_free (debug mode would report the
 * size), and stays installed once it was (rcgc.set_max_bytes(0) keeps it).
 * Keeping the retry out of rcgc_lua_alloc leaves that one free of saved
 * registers: about 4% fewer instructions on binarytrees. */
static void *rcgc_lua_alloc_capped(void *ud, void *ptr, size_t osize, size_t nsize) {
    rc_heap *h = ud;
    if (nsize == 0) {
        rc_free(ptr); /* not sized: see above */
        return NULL;
    }
    void *q = ptr ? rc_realloc(h, ptr, nsize) : rc_malloc(h, nsize);
    if (RCGC_LUA_UNLIKELY(q == NULL)) {
        if (heap_make_room(h))
            q = ptr ? rc_realloc(h, ptr, nsize) : rc_malloc(h, nsize);
        if (q == NULL && ptr != NULL && nsize <= osize)
            return ptr;
    }
    return q;
}

static lua_Alloc rcgc_allocator_for(size_t max_bytes) {
    return max_bytes ? rcgc_lua_alloc_capped : rcgc_lua_alloc;
}

/* Lua on the C library, exactly as luaL_newstate's allocator behaves. */
static void *system_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, nsize);
}

/* ---- Panic and warnings (what luaL_newstate would have installed) ----- */

static int at_panic(lua_State *L) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, PROGNAME ": PANIC: unprotected error in call to Lua API (%s)\n",
            msg ? msg : "error object is not a string");
    fflush(stderr);
    return 0; /* Lua aborts */
}

/* Warnings start off; "@on" and "@off" switch them.  A warning may come in
 * pieces (tocont != 0 for all but the last). */
typedef struct warn_state {
    bool on;
    bool midline;
} warn_state;

static void warn_fn(void *ud, const char *msg, int tocont) {
    warn_state *w = ud;
    if (!w->midline && !tocont && msg[0] == '@') {
        if (strcmp(msg, "@on") == 0)
            w->on = true;
        else if (strcmp(msg, "@off") == 0)
            w->on = false;
        return;
    }
    if (!w->on)
        return;
    if (!w->midline)
        fputs("Lua warning: ", stderr);
    fputs(msg, stderr);
    w->midline = tocont != 0;
    if (!tocont) {
        fputc('\n', stderr);
        fflush(stderr);
    }
}

/* ---- The rcgc table seen by scripts ------------------------------------- */

static rc_heap *heap_upvalue(lua_State *L) {
    return (rc_heap *)lua_touserdata(L, lua_upvalueindex(1));
}

static const char *mode_name(rc_alloc_mode m) {
    switch (m) {
    case RC_MODE_POOL: return "pool";
    case RC_MODE_DEBUG: return "debug";
    case RC_MODE_MALLOC: return "malloc";
    default: return "default";
    }
}

static void set_int_field(lua_State *L, const char *k, size_t v) {
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, k);
}

static int l_stats(lua_State *L) {
    rc_heap *h = heap_upvalue(L);
    rc_heap_stats s;
    rc_heap_get_stats(h, &s);
    lua_createtable(L, 0, 12);
    lua_pushstring(L, mode_name(rc_heap_mode(h)));
    lua_setfield(L, -2, "mode");
    set_int_field(L, "bytes_in_use", s.bytes_in_use);
    set_int_field(L, "bytes_requested", s.bytes_requested);
    set_int_field(L, "bytes_from_os", s.bytes_from_os);
    set_int_field(L, "bytes_high_water", s.bytes_high_water);
    set_int_field(L, "max_bytes", s.max_bytes);
    set_int_field(L, "failed_allocs", (size_t)s.failed_allocs);
    set_int_field(L, "arenas", s.arenas);
    set_int_field(L, "arenas_high_water", s.arenas_high_water);
    set_int_field(L, "large_blocks", s.large_blocks);
    set_int_field(L, "large_bytes", s.large_bytes);
    return 1;
}

static int l_set_max_bytes(lua_State *L) {
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 0, 1, "must be >= 0");
    rc_heap *h = heap_upvalue(L);
    rc_heap_set_max_bytes(h, (size_t)n);
    /* once capped, always: blocks a refused shrink kept must not meet a sized free */
    if (lua_getallocf(L, NULL) != rcgc_lua_alloc_capped)
        lua_setallocf(L, rcgc_allocator_for((size_t)n), h);
    return 0;
}

static int l_trim(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)rc_heap_trim(heap_upvalue(L)));
    return 1;
}

static void open_rcgc_table(lua_State *L, rc_heap *h) {
    static const luaL_Reg fns[] = {
        {"stats", l_stats},
        {"set_max_bytes", l_set_max_bytes},
        {"trim", l_trim},
        {NULL, NULL},
    };
    luaL_newlibtable(L, fns);
    lua_pushlightuserdata(L, h);
    luaL_setfuncs(L, fns, 1);
    lua_setglobal(L, "rcgc");
}

/* ---- Running the script ---------------------------------------------------- */

/* Message handler: the error message with a traceback appended. */
static int msghandler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        /* an error object that is not a string: __tostring, or its type */
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

typedef struct run_ctx {
    int argc;
    char **argv;
    const options *opts;
    rc_heap *heap; /* NULL with --system */
} run_ctx;

/* Runs in protected mode, so a memory error anywhere in the setup is an
 * ordinary Lua error too.  Returns the status of the script's call. */
static int pmain(lua_State *L) {
    const run_ctx *rc = lua_touserdata(L, 1);
    int argc = rc->argc;
    char **argv = rc->argv;
    int script = rc->opts->script;

    if (rc->opts->generational) /* as lua.c: no collection while the state is built */
        lua_gc(L, LUA_GCSTOP);
    luaL_openlibs(L);
    if (rc->heap)
        open_rcgc_table(L, rc->heap);

    /* arg: interpreter and options at negative indices, script at 0 */
    lua_createtable(L, argc - script - 1, script + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, (lua_Integer)i - script);
    }
    lua_setglobal(L, "arg");
    if (rc->opts->generational) { /* as lua.c; lua_newstate's mode is incremental */
        lua_gc(L, LUA_GCRESTART);
        lua_gc(L, LUA_GCGEN, 0, 0);
    }

    const char *fname = strcmp(argv[script], "-") == 0 ? NULL : argv[script];
    int status = luaL_loadfile(L, fname);
    if (status == LUA_OK) {
        int nargs = argc - script - 1;
        luaL_checkstack(L, nargs + 1, "too many arguments to script");
        for (int i = script + 1; i < argc; i++)
            lua_pushstring(L, argv[i]);
        int base = lua_gettop(L) - nargs; /* the chunk's index */
        lua_pushcfunction(L, msghandler);
        lua_insert(L, base);
        status = lua_pcall(L, nargs, 0, base);
        lua_remove(L, base);
    }
    if (status != LUA_OK)
        return lua_error(L); /* hand the message to main */
    return 0;
}


int main(int argc, char **argv) {
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    options opts;
    switch (parse_args(argc, argv, &opts)) {
    case 0: break;
    case 2: usage(stdout); return 0;
    default: return 1;
    }

    rc_heap *heap = NULL;
    lua_State *L;
    if (opts.system) {
        L = lua_newstate(system_lua_alloc, NULL);
    } else {
        rc_heap_config cfg;
        rc_heap_config_init(&cfg);
        cfg.mode = opts.mode;
        cfg.max_bytes = opts.max_bytes;
        /* Huge-page pairs from 24 arenas instead of the library's 64: Lua
         * walks big heaps in hash order, and rcgc keeps the pieces of one
         * Lua table (the Table, its node array, its array part, its key
         * strings) in different pools, so such a walk misses the TLB on
         * nearly every object, and on a VM (nested paging) those misses are
         * dear.  tables.lua, which peaks at 49 arenas, ran 5-7% faster on
         * the AMD VM, for 1 MiB more peak RSS (docs/clients.md, "Huge pages
         * for Lua's big heaps"); the other workloads peak at 16 arenas or
         * less, so they never hold a partner arena.  RCGC_HUGE_PAGES=0 or
         * =1 still decides (huge_pages is left at RC_HUGE_DEFAULT). */
        cfg.huge_auto_arenas = RCGC_LUA_HUGE_AUTO_ARENAS;
        heap = rc_heap_new(&cfg);
        if (!heap) {
            fprintf(stderr, PROGNAME ": cannot create the rcgc heap (cap %zu bytes too small?)\n",
                    opts.max_bytes);
            return 1;
        }
        L = lua_newstate(rcgc_allocator_for(opts.max_bytes), heap);
    }
    if (!L) {
        fprintf(stderr, PROGNAME ": cannot create state: not enough memory\n");
        rc_heap_destroy(heap);
        return 1;
    }
    warn_state warn = {false, false};
    lua_atpanic(L, at_panic);
    lua_setwarnf(L, warn_fn, &warn);

    run_ctx ctx = {argc, argv, &opts, heap};
    int status = LUA_OK;
    /* lua_pushcfunction and lua_pushlightuserdata allocate nothing */
    lua_pushcfunction(L, pmain);
    lua_pushlightuserdata(L, &ctx);
    status = lua_pcall(L, 1, 0, 0);
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        fprintf(stderr, PROGNAME ": %s\n", msg ? msg : "(error object is not a string)");
        fflush(stderr);
        lua_pop(L, 1);
    }

    if (heap && opts.stats) {
        fprintf(stderr, PROGNAME ": heap statistics at the end of the script\n");
        rc_heap_print_stats(heap, stderr);
    }
    long anon_kib = opts.rusage ? host_anon_kib() : -1; /* before Lua frees its data */
    lua_close(L);

    int rc = status == LUA_OK ? 0 : 1;
    /* Lua frees every block at lua_close; anything left is a leak. */
    if (heap && !host_finish_heap(heap, PROGNAME, "lua_close", opts.stats))
        rc = 1;
    if (opts.rusage)
        host_print_rusage(PROGNAME, opts.system, t0, anon_kib);
    return rc;
}
