/*
 * alloc_bench.c — allocator micro-benchmarks, one (allocator, workload) per
 * process, so that each process's peak RSS (getrusage ru_maxrss) belongs to
 * exactly one measurement.
 *
 *   alloc_bench ALLOCATOR WORKLOAD [--live W] [--steps N] [--seed S] [--sized]
 *               [--threads T]
 *
 *   ALLOCATOR  rcgc    rc_malloc/rc_free on a private heap (RC_MODE_POOL)
 *              none    (with --threads only) no allocation: a multiply-add
 *                      chain of as many steps, the control for what more
 *                      threads cost on this machine whatever the allocator
 *              system  malloc/free: glibc, or whatever LD_PRELOAD puts first
 *                      (that is how bench/run.sh measures jemalloc, mimalloc
 *                      and tcmalloc: the same binary, the same loop)
 *              pymalloc  CPython's small-object allocator, PyObject_Malloc/
 *                      PyObject_Free, from the libpython shared library
 *                      (BENCH_PYTHON_LIB, else the first libpython3.1x.so.1.0
 *                      found), loaded at run time and called through
 *                      function pointers, as a PLT call is; the design rcgc's
 *                      pools follow (obmalloc.c).  No --threads (it needs the
 *                      GIL) and no sized free.  Exits 5 ("nolib") when no
 *                      libpython can be loaded.  Its peak_rss_kib includes
 *                      the library's own pages; heap_kib does not.
 *   WORKLOAD   churn    keep W live blocks; each step frees a random one and
 *                       allocates a new one of random size 8..512
 *              fixed32  allocate 32 bytes and free them at once, repeatedly
 *              refill   allocate W blocks, free them all, again and again;
 *                       reports what the allocator still holds after the
 *                       first free-everything (rcgc: arenas held)
 *   --live W   live blocks (churn, refill); default 1000
 *   --steps N  alloc+free pairs to time; default 20,000,000, or 3,000,000
 *              when W >= 100,000 (refill: rounds = max(2, N / W))
 *   --seed S   xorshift seed; default fixed, so every run sees the same
 *              sizes and victims
 *   --threads T  run the workload (churn or fixed32) in T threads at once,
 *              each with its own inputs (its own seed) and, for rcgc, its
 *              own heap; prints the mean and the slowest thread's ns per
 *              pair.  bench/threads_run.sh compares it with one thread.
 *   --sized    free with the allocator's sized free (churn, fixed32):
 *              rcgc rc_free_sized; for "system" the first of jemalloc's
 *              sdallocx, mimalloc's mi_free_size, tcmalloc's tc_free_sized
 *              and C23 free_sized found in the library that provides malloc
 *              (called through a function pointer, looked up once, as a
 *              PLT call is).  Without one, prints "nosized" and exits 4.
 *
 * Output: one line of key=value pairs on stdout, starting with "result":
 * peak_rss_kib is getrusage's ru_maxrss at the end (which on Linux also
 * carries the high-water mark of the image that exec'd us, typically a
 * shell, 1-2 MiB); base_rss_kib the same just before the workload;
 * own_peak_kib this image's own peak (VmHWM); heap_kib the growth of
 * VmHWM over the workload (ru_maxrss growth where /proc is missing).
 * All random inputs are generated before timing into arrays mapped with
 * mmap (not malloc, so no allocator is charged for them) and touched, so
 * every allocator starts from the same RSS baseline.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr, RTLD_DEFAULT */
#endif

#include "rcgc/heap.h"

#include "alloc_bench_input.h"

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define BENCH_NOINLINE __attribute__((noinline))
#define BENCH_UNLIKELY(x) __builtin_expect(!!(x), 0)
/* Make the compiler believe p is used, so malloc/free pairs are not elided. */
#define BENCH_ESCAPE(p) __asm__ volatile("" : : "r"(p) : "memory")
#define BENCH_CAT2(a, b) a##b
#define BENCH_CAT(a, b) BENCH_CAT2(a, b)

typedef struct bench_input {
    size_t live;      /* W: live blocks (churn, refill) */
    size_t steps;     /* churn: steps after the fill */
    size_t ring;      /* churn: length of the victim sequence (replayed) */
    uint32_t *victim; /* churn: the slot freed at each step (ring entries) */
    uint16_t *size;   /* request sizes: live (fill/refill) + ring (churn) */
    void **slot;      /* the live blocks */
    uint16_t *slot_size; /* churn --sized: each live block's size */
} bench_input;

/* The system allocator's sized free, found at start-up (see --sized). */
static void (*bench_free_sized)(void *, size_t);
static void (*bench_sdallocx)(void *, size_t, int);

/* CPython's allocator, found at start-up (allocator pymalloc). */
static void *(*bench_py_malloc)(size_t);
static void (*bench_py_free)(void *);

static _Noreturn void bench_oom(size_t n)
{
    fprintf(stderr, "alloc_bench: allocation of %zu bytes failed\n", n);
    exit(3);
}

/* ---- the loops, once per allocator ------------------------------------ */

#define BENCH_SUFFIX rcgc
#define BENCH_ALLOC(heap, n) rc_malloc((heap), (n))
#define BENCH_FREE(heap, p) ((void)(heap), rc_free(p))
#define BENCH_FREE_SIZED(heap, p, n) rc_free_sized((heap), (p), (n))
#include "alloc_bench_loops.h"
#undef BENCH_SUFFIX
#undef BENCH_ALLOC
#undef BENCH_FREE
#undef BENCH_FREE_SIZED

/* CPython's: no sized free. */
#define BENCH_SUFFIX pymalloc
#define BENCH_ALLOC(heap, n) ((void)(heap), bench_py_malloc(n))
#define BENCH_FREE(heap, p) ((void)(heap), bench_py_free(p))
#include "alloc_bench_loops.h"
#undef BENCH_SUFFIX
#undef BENCH_ALLOC
#undef BENCH_FREE

#define BENCH_SUFFIX system
#define BENCH_ALLOC(heap, n) ((void)(heap), malloc(n))
#define BENCH_FREE(heap, p) ((void)(heap), free(p))
#define BENCH_FREE_SIZED(heap, p, n) ((void)(heap), bench_free_sized((p), (n)))
#include "alloc_bench_loops.h"
#undef BENCH_SUFFIX
#undef BENCH_FREE_SIZED

/* jemalloc's sdallocx takes a third argument (flags): its own instance. */
#define BENCH_SUFFIX sdallocx
#define BENCH_SIZED_ONLY
#define BENCH_FREE_SIZED(heap, p, n) ((void)(heap), bench_sdallocx((p), (n), 0))
#include "alloc_bench_loops.h"
#undef BENCH_SUFFIX
#undef BENCH_SIZED_ONLY
#undef BENCH_ALLOC
#undef BENCH_FREE
#undef BENCH_FREE_SIZED

/* ---- helpers ------------------------------------------------------------ */

/* Memory for the inputs: straight from the kernel and touched now. */
static void *map_touched(size_t bytes)
{
    if (bytes == 0)
        return NULL;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "alloc_bench: mmap of %zu bytes: %s\n", bytes, strerror(errno));
        exit(3);
    }
    memset(p, 0, bytes);
    return p;
}

enum workload { WL_CHURN, WL_FIXED32, WL_REFILL };

/* The heap every rcgc run measures: pool mode whatever RCGC_MALLOC says
 * (RCGC_HUGE_PAGES still applies: that is how run.sh's rcgc+huge row is
 * made). */
static rc_heap *new_pool_heap(void)
{
    rc_heap_config cfg;
    rc_heap_config_init(&cfg);
    cfg.mode = RC_MODE_POOL;
    return rc_heap_new(&cfg);
}

/* The churn inputs: the W sizes of the fill, then a ring of (victim, size)
 * steps, all from one xorshift sequence starting at seed (churn_generate,
 * which bench/model/churn_units.c replays too). */
static void make_churn_input(bench_input *in, size_t live, size_t steps, uint64_t seed, int sized)
{
    in->live = live;
    in->steps = steps;
    in->ring = churn_ring_length(steps);
    in->slot = map_touched(live * sizeof *in->slot);
    in->size = map_touched((live + in->ring) * sizeof *in->size);
    in->victim = map_touched(in->ring * sizeof *in->victim);
    churn_generate(in->size, in->victim, live, in->ring, seed);
    if (sized) {
        in->slot_size = map_touched(live * sizeof *in->slot_size);
        memcpy(in->slot_size, in->size, live * sizeof *in->slot_size); /* the fill's sizes */
    }
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Peak resident set so far, KiB. */
static long peak_rss_kib(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return ru.ru_maxrss;
}

/* Resident set now, KiB (from /proc/self/statm; -1 if unavailable). */
static long current_rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return -1;
    long size = 0, resident = -1;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = -1;
    fclose(f);
    if (resident < 0)
        return -1;
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Peak resident set of this process image only, KiB: VmHWM.  Unlike
 * ru_maxrss it does not inherit the high-water mark of whatever ran in this
 * process before execve (the forking shell, timeout, taskset...).  -1 if
 * unavailable. */
static long own_peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

/* File name of the library that provides malloc in this process. */
static const char *malloc_provider(void)
{
    void *sym = dlsym(RTLD_DEFAULT, "malloc");
    Dl_info info;
    if (sym == NULL || dladdr(sym, &info) == 0 || info.dli_fname == NULL)
        return "unknown";
    const char *slash = strrchr(info.dli_fname, '/');
    return slash ? slash + 1 : info.dli_fname;
}

/* Find the sized free of the library that provides malloc; its name, or
 * NULL if it has none.  A symbol from another library (say glibc's
 * free_sized under a preloaded allocator) would free the wrong blocks. */
static const char *find_sized_free(void)
{
    static const char *const names[] = {"sdallocx", "mi_free_size", "tc_free_sized", "free_sized"};
    Dl_info mi, si;
    void *m = dlsym(RTLD_DEFAULT, "malloc");
    if (m == NULL || dladdr(m, &mi) == 0 || mi.dli_fname == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        void *f = dlsym(RTLD_DEFAULT, names[i]);
        if (f == NULL || dladdr(f, &si) == 0 || si.dli_fname == NULL ||
            strcmp(si.dli_fname, mi.dli_fname) != 0)
            continue;
        /* POSIX: a data pointer from dlsym converts to a function pointer */
        if (i == 0)
            memcpy(&bench_sdallocx, &f, sizeof f);
        else
            memcpy(&bench_free_sized, &f, sizeof f);
        return names[i];
    }
    return NULL;
}

/* Load CPython's allocator for allocator pymalloc: the library named by
 * BENCH_PYTHON_LIB, else the newest libpython3 found.  Python 3.12 moved
 * pymalloc's state into the interpreter, so from 3.12 on the interpreter
 * is initialised first (before the baseline RSS is taken); up to 3.11 the
 * allocator works without it.  The library's file name, or NULL. */
static const char *load_pymalloc(void)
{
    static const char *const names[] = {"libpython3.14.so.1.0", "libpython3.13.so.1.0",
                                        "libpython3.12.so.1.0", "libpython3.11.so.1.0",
                                        "libpython3.10.so.1.0", "libpython3.9.so.1.0"};
    const char *env = getenv("BENCH_PYTHON_LIB");
    void *lib = NULL;
    const char *name = NULL;
    if (env && *env) {
        lib = dlopen(env, RTLD_NOW | RTLD_LOCAL);
        name = env;
    } else {
        for (size_t i = 0; lib == NULL && i < sizeof names / sizeof names[0]; i++)
            lib = dlopen(name = names[i], RTLD_NOW | RTLD_LOCAL);
    }
    if (lib == NULL)
        return NULL;
    void *m = dlsym(lib, "PyObject_Malloc"), *f = dlsym(lib, "PyObject_Free");
    void *version = dlsym(lib, "Py_GetVersion"), *init = dlsym(lib, "Py_InitializeEx");
    if (m == NULL || f == NULL || version == NULL || init == NULL)
        return NULL;
    /* POSIX: a data pointer from dlsym converts to a function pointer */
    memcpy(&bench_py_malloc, &m, sizeof m);
    memcpy(&bench_py_free, &f, sizeof f);
    const char *(*get_version)(void);
    memcpy(&get_version, &version, sizeof version);
    unsigned major = 0, minor = 0;
    if (sscanf(get_version(), "%u.%u", &major, &minor) != 2)
        return NULL;
    if (major > 3 || (major == 3 && minor >= 12)) {
        void (*initialize)(int);
        memcpy(&initialize, &init, sizeof init);
        initialize(0); /* 0: no signal handlers */
    }
    const char *slash = strrchr(name, '/');
    return slash ? slash + 1 : name;
}

static size_t parse_size(const char *opt, const char *s)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0') {
        fprintf(stderr, "alloc_bench: %s wants a number, got '%s'\n", opt, s);
        exit(2);
    }
    return (size_t)v;
}

static _Noreturn void usage(void)
{
    fprintf(stderr,
            "usage: alloc_bench rcgc|system|pymalloc|none churn|fixed32|refill"
            " [--live W] [--steps N] [--seed S] [--sized] [--threads T]\n");
    exit(2);
}

/* Call the rcgc, pymalloc or system instance of a loop (the branch is
 * outside it), with the caller's `use_rcgc`, `use_pymalloc` and `heap`. */
#define RUN(fn, ...)                                                                              \
    (use_rcgc       ? fn##rcgc(heap, __VA_ARGS__)                                                 \
     : use_pymalloc ? fn##pymalloc(heap, __VA_ARGS__)                                             \
                    : fn##system(heap, __VA_ARGS__))
/* The same for the sized loops, which have a third instance (sdallocx). */
#define RUN_SIZED(fn, ...)                                                                        \
    (use_rcgc ? fn##rcgc(heap, __VA_ARGS__)                                                       \
              : bench_sdallocx ? fn##sdallocx(heap, __VA_ARGS__) : fn##system(heap, __VA_ARGS__))

/* ---- --threads: several threads at once ---------------------------------- */

/* One thread of a --threads run: its own inputs (its own seed) and, for
 * rcgc, its own heap, created by the thread that drives it. */
typedef struct bench_thread {
    pthread_t tid;
    int use_rcgc;
    int compute; /* allocator "none": the control, arithmetic only */
    enum workload wl;
    size_t live, steps;
    uint64_t seed;
    pthread_barrier_t *start; /* every thread's loop starts at once */
    double ns;                /* wall time of the loop */
    int failed;
} bench_thread;

/* The control: as many steps of a multiply-add chain, no memory at all.
 * Whatever slows it down with more threads (the hypervisor, shared cores,
 * clock frequency) slows the allocators down too. */
static volatile uint64_t compute_sink;
static BENCH_NOINLINE void loop_compute(size_t steps)
{
    uint64_t x = steps;
    for (size_t s = 0; s < steps; s++)
        x = x * 6364136223846793005ull + 1442695040888963407ull;
    compute_sink = x;
}

static void *bench_thread_main(void *arg)
{
    bench_thread *t = arg;
    const int use_rcgc = t->use_rcgc;
    const int use_pymalloc = 0; /* refused with --threads */
    bench_input in = {0};
    if (t->wl == WL_CHURN && !t->compute)
        make_churn_input(&in, t->live, t->steps, t->seed, 0);
    rc_heap *heap = NULL;
    if (use_rcgc) {
        heap = new_pool_heap();
        t->failed = heap == NULL;
    }
    if (!t->failed && t->wl == WL_CHURN && !t->compute)
        RUN(fill_, &in);
    pthread_barrier_wait(t->start); /* reached even after a failure: no one waits forever */
    if (t->failed)
        return NULL;
    const double t0 = now_ns();
    if (t->compute)
        loop_compute(t->steps);
    else if (t->wl == WL_CHURN)
        RUN(loop_churn_, &in);
    else
        RUN(loop_fixed32_, t->steps);
    t->ns = now_ns() - t0;
    if (t->wl == WL_CHURN && !t->compute)
        RUN(drain_, &in);
    rc_heap_destroy(heap);
    return NULL;
}

/* Run the workload in `threads` threads at once and print one result line:
 * ns_per_pair is the mean over the threads of each one's loop time per
 * pair, ns_per_pair_max the slowest thread's.  Compared with a one-thread
 * run (bench/threads_run.sh does both), it says whether the threads slow
 * each other down: private heaps share nothing on these paths. */
static int run_threads(int use_rcgc, int compute, const char *alloc_name, enum workload wl, const char *wl_name,
                       size_t live, size_t steps, uint64_t seed, unsigned threads)
{
    bench_thread *t = calloc(threads, sizeof *t);
    pthread_barrier_t start;
    if (t == NULL || pthread_barrier_init(&start, NULL, threads) != 0) {
        fprintf(stderr, "alloc_bench: cannot set up %u threads\n", threads);
        return 3;
    }
    unsigned started = 0;
    for (; started < threads; started++) {
        t[started] = (bench_thread){.use_rcgc = use_rcgc, .compute = compute, .wl = wl, .live = live, .steps = steps,
                                    .seed = seed + started * 0x9E3779B97F4A7C15ull, .start = &start};
        if (t[started].seed == 0)
            t[started].seed = 1;
        if (pthread_create(&t[started].tid, NULL, bench_thread_main, &t[started]) != 0)
            break;
    }
    if (started < threads) { /* the barrier would never open: give up at once */
        fprintf(stderr, "alloc_bench: pthread_create failed after %u threads\n", started);
        exit(3);
    }
    double sum = 0, max = 0;
    int failed = 0;
    for (unsigned i = 0; i < threads; i++) {
        pthread_join(t[i].tid, NULL);
        failed |= t[i].failed;
        sum += t[i].ns;
        if (t[i].ns > max)
            max = t[i].ns;
    }
    pthread_barrier_destroy(&start);
    free(t);
    if (failed) {
        fprintf(stderr, "alloc_bench: rc_heap_new failed in a thread\n");
        return 3;
    }
    printf("result alloc=%s workload=%s live=%zu threads=%u pairs=%zu ns_per_pair=%.3f"
           " ns_per_pair_max=%.3f peak_rss_kib=%ld malloc_lib=%s\n",
           alloc_name, wl_name, wl == WL_FIXED32 ? (size_t)0 : live, threads, steps,
           sum / threads / (double)steps, max / (double)steps, peak_rss_kib(), malloc_provider());
    return 0;
}

/* ---- main --------------------------------------------------------------- */

int main(int argc, char **argv)
{
    if (argc < 3)
        usage();
    const char *alloc_name = argv[1];
    const char *wl_name = argv[2];
    int use_rcgc = 0, use_pymalloc = 0, compute = 0;
    if (strcmp(alloc_name, "rcgc") == 0)
        use_rcgc = 1;
    else if (strcmp(alloc_name, "pymalloc") == 0)
        use_pymalloc = 1;
    else if (strcmp(alloc_name, "none") == 0)
        compute = 1;
    else if (strcmp(alloc_name, "system") != 0)
        usage();

    enum workload wl;
    if (strcmp(wl_name, "churn") == 0)
        wl = WL_CHURN;
    else if (strcmp(wl_name, "fixed32") == 0)
        wl = WL_FIXED32;
    else if (strcmp(wl_name, "refill") == 0)
        wl = WL_REFILL;
    else
        usage();

    size_t live = BENCH_DEFAULT_LIVE, steps = 0;
    uint64_t seed = BENCH_DEFAULT_SEED;
    int sized = 0;
    size_t threads = 0; /* 0: the one-thread measurement of the main thread */
    for (int i = 3; i < argc; i += 2) { /* --option value pairs */
        if (strcmp(argv[i], "--sized") == 0) {
            sized = 1;
            i--; /* no value */
            continue;
        }
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--live") == 0)
            live = parse_size(argv[i], argv[i + 1]);
        else if (strcmp(argv[i], "--steps") == 0)
            steps = parse_size(argv[i], argv[i + 1]);
        else if (strcmp(argv[i], "--seed") == 0)
            seed = parse_size(argv[i], argv[i + 1]);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = parse_size(argv[i], argv[i + 1]);
        else
            usage();
    }
    if (seed == 0)
        seed = 1; /* xorshift's one fixed point */
    if (live == 0 || live > UINT32_MAX) {
        fprintf(stderr, "alloc_bench: --live must be 1..%" PRIu32 "\n", UINT32_MAX);
        return 2;
    }
    if (steps == 0)
        steps = (wl != WL_FIXED32 && live >= BENCH_BIG_W) ? BENCH_DEFAULT_STEPS_BIG_W : BENCH_DEFAULT_STEPS;
    if (compute && threads == 0) {
        fprintf(stderr, "alloc_bench: allocator none is the control of --threads runs\n");
        return 2;
    }
    if (threads != 0) {
        if (use_pymalloc) {
            fprintf(stderr, "alloc_bench: pymalloc needs the GIL: no --threads\n");
            return 2;
        }
        if (threads > 64 || wl == WL_REFILL || sized) {
            fprintf(stderr, "alloc_bench: --threads takes 1..64, for churn and fixed32 without --sized\n");
            return 2;
        }
        return run_threads(use_rcgc, compute, alloc_name, wl, wl_name, live, steps, seed,
                           (unsigned)threads);
    }
    const char *sized_name = "none";
    if (sized) {
        if (wl == WL_REFILL) {
            fprintf(stderr, "alloc_bench: --sized is for churn and fixed32\n");
            return 2;
        }
        sized_name = use_rcgc ? "rc_free_sized" : use_pymalloc ? NULL : find_sized_free();
        if (sized_name == NULL) {
            printf("nosized alloc=%s malloc_lib=%s: no sized free\n", alloc_name, malloc_provider());
            return 4;
        }
    }
    const char *lib_name = malloc_provider();
    if (use_pymalloc && (lib_name = load_pymalloc()) == NULL) {
        printf("nolib alloc=pymalloc: no libpython3 could be loaded (BENCH_PYTHON_LIB)\n");
        return 5;
    }

    /* Inputs, generated before anything is timed and identical for every
     * allocator (same seed, same arrays, same sizes). */
    bench_input in = {0};
    in.live = live;
    size_t rounds = 0;
    if (wl == WL_CHURN) {
        make_churn_input(&in, live, steps, seed, sized);
    } else if (wl == WL_REFILL) {
        rounds = steps / live;
        if (rounds < 2)
            rounds = 2;
        steps = rounds * live;
        in.slot = map_touched(live * sizeof *in.slot);
        in.size = map_touched(live * sizeof *in.size);
        uint64_t st = seed;
        for (size_t i = 0; i < live; i++)
            in.size[i] = random_request_size(&st);
    }

    rc_heap *heap = NULL;
    if (use_rcgc) {
        heap = new_pool_heap();
        if (heap == NULL) {
            fprintf(stderr, "alloc_bench: rc_heap_new failed\n");
            return 3;
        }
    }


    const long base_peak_kib = peak_rss_kib();
    const long base_own_kib = own_peak_rss_kib();
    const long base_now_kib = current_rss_kib();
    long held_after_free_kib = -1;     /* refill: RSS above baseline after free-all */
    long arenas_after_free = -1;       /* refill, rcgc: after the first free-all */
    long arenas_after_free_last = -1;  /* refill, rcgc: after the last free-all */
    long arenas_high_water = -1;
    double ns = 0;

    switch (wl) {
    case WL_CHURN: {
        RUN(fill_, &in);
        const double t0 = now_ns();
        if (sized)
            RUN_SIZED(loop_churn_sized_, &in);
        else
            RUN(loop_churn_, &in);
        ns = now_ns() - t0;
        break;
    }
    case WL_FIXED32: {
        const double t0 = now_ns();
        if (sized)
            RUN_SIZED(loop_fixed32_sized_, steps);
        else
            RUN(loop_fixed32_, steps);
        ns = now_ns() - t0;
        break;
    }
    case WL_REFILL: {
        double t0 = now_ns();
        RUN(loop_refill_, &in, (size_t)1);
        ns = now_ns() - t0;
        /* Untimed: what is held with nothing live. */
        const long now_kib = current_rss_kib();
        if (now_kib >= 0 && base_now_kib >= 0)
            held_after_free_kib = now_kib > base_now_kib ? now_kib - base_now_kib : 0;
        if (use_rcgc) {
            rc_heap_stats st;
            rc_heap_get_stats(heap, &st);
            arenas_after_free = (long)st.arenas;
        }
        t0 = now_ns();
        RUN(loop_refill_, &in, rounds - 1);
        ns += now_ns() - t0;
        if (use_rcgc) {
            rc_heap_stats st;
            rc_heap_get_stats(heap, &st);
            arenas_after_free_last = (long)st.arenas;
            arenas_high_water = (long)st.arenas_high_water;
        }
        break;
    }
    }

    const long peak_kib = peak_rss_kib();
    const long own_peak_kib = own_peak_rss_kib();
    /* What the workload cost: growth of this image's own high-water mark. */
    const long heap_kib = (own_peak_kib >= 0 && base_own_kib >= 0) ? own_peak_kib - base_own_kib
                                                                   : peak_kib - base_peak_kib;

    /* Untimed clean-up. */
    if (wl == WL_CHURN)
        RUN(drain_, &in);
    if (heap != NULL)
        rc_heap_destroy(heap);

    printf("result alloc=%s workload=%s live=%zu pairs=%zu ns_per_pair=%.3f"
           " peak_rss_kib=%ld base_rss_kib=%ld own_peak_kib=%ld heap_kib=%ld",
           alloc_name, wl_name, wl == WL_FIXED32 ? (size_t)0 : live, steps, ns / (double)steps,
           peak_kib, base_peak_kib, own_peak_kib, heap_kib);
    if (wl == WL_REFILL) {
        printf(" rounds=%zu held_after_free_kib=%ld", rounds, held_after_free_kib);
        if (use_rcgc)
            printf(" arenas_after_free=%ld arenas_after_free_last=%ld arenas_high_water=%ld",
                   arenas_after_free, arenas_after_free_last, arenas_high_water);
    }
    printf(" sized_free=%s malloc_lib=%s\n", sized_name, lib_name);
    return 0;
}
