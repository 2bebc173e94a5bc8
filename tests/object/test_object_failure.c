/*
 * test_object_failure.c — allocation failure inside the object layer.  With
 * rc_heap_fail_at(h, k) (debug and malloc modes) the k-th allocation fails;
 * rc_new must then return NULL and leave the heap usable, whether the
 * failure hits the object itself, the heap's object state (made on first
 * use), the growth of the type table, or the deferred-deallocation list.
 *
 * The main test builds a small graph of 40 objects of 40 types, failing at
 * allocation k = 1, 2, ... until the build no longer fails, and checks each
 * time that dropping what was built leaves no object and no byte behind.
 */
#include "objtest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- The graph --------------------------------------------------------------------- */

enum { GRAPH_NODES = 40 };

typedef struct box {
    void *slot[4]; /* owned */
    uint64_t magic;
} box;

static size_t g_deaths, g_bad;

static void box_traverse(void *o, rc_visit_fn visit, void *arg) {
    box *b = o;
    for (int i = 0; i < 4; i++)
        visit(b->slot[i], arg);
}
static void box_finalize(void *o) {
    if (((box *)o)->magic != 0xB0B0u)
        g_bad++;
    g_deaths++;
}
static void box_destroy(void *o) {
    box *b = o;
    for (int i = 0; i < 4; i++) {
        void *c = b->slot[i];
        b->slot[i] = NULL;
        rc_decref(c);
    }
}

/* Forty types (so the heap's type table grows twice), GC and plain, with
 * and without destroy. */
static rc_type graph_types[GRAPH_NODES];
static char graph_names[GRAPH_NODES][8];

static void init_types(void) {
    for (int i = 0; i < GRAPH_NODES; i++) {
        snprintf(graph_names[i], sizeof graph_names[i], "g%d", i);
        graph_types[i] = (rc_type){.name = graph_names[i],
                                   .size = sizeof(box),
                                   .flags = (i % 2) ? 0 : RC_TYPE_GC,
                                   .traverse = box_traverse,
                                   .finalize = box_finalize,
                                   .destroy = (i % 4 < 2) ? box_destroy : NULL};
    }
}

static size_t extra_of(int i) {
    if (i == 5)
        return 2000; /* a large block */
    return (size_t)(i * 13) % 200;
}

/* Node i has type i.  Edges go from lower to higher indices only (a DAG, no
 * cycles): tree edges parent (i-1)/3 -> i in slots 0..2, plus a shared edge
 * i/2 -> i in slot 3.  Every node hangs from the root as soon as it is made,
 * so on failure dropping the root frees everything.  Returns the root or
 * NULL; *made counts the objects created. */
static box *build_graph(rc_heap *h, size_t *made) {
    box *nodes[GRAPH_NODES];
    *made = 0;
    for (int i = 0; i < GRAPH_NODES; i++) {
        box *b = rc_new(h, &graph_types[i], extra_of(i));
        if (!b) {
            rc_decref(i ? nodes[0] : NULL);
            return NULL;
        }
        ++*made;
        b->magic = 0xB0B0u;
        memset(b + 1, 0x11, extra_of(i));
        nodes[i] = b;
        if (i == 0)
            continue;
        nodes[(i - 1) / 3]->slot[(i - 1) % 3] = b;
        box *sharer = nodes[i / 2];
        if (sharer != b && !sharer->slot[3]) {
            rc_incref(b);
            sharer->slot[3] = b;
        }
    }
    return nodes[0];
}

static uint64_t failed_allocs(const rc_heap *h) { return test_stats(h).failed_allocs; }

/* One run of the failure loop in mode `mode`; `warm`: the heap has built and
 * dropped the graph once before (types registered, object state made). */
static void failure_loop(rc_alloc_mode mode, bool warm) {
    /* What the heap holds after one successful build and drop. */
    size_t reference_bytes = 0;
    {
        rc_heap *r = test_heap_new(mode);
        if (!CHECK_NOT_NULL(r))
            return;
        size_t made;
        rc_decref(build_graph(r, &made));
        reference_bytes = test_stats(r).bytes_requested;
        rc_heap_destroy(r);
    }
    int finished = 0;
    size_t failures_seen = 0;
    for (uint64_t k = 1; k <= 1000 && !finished; k++) {
        rc_heap *h = test_heap_new(mode);
        if (!CHECK_NOT_NULL(h))
            return;
        size_t made;
        if (warm)
            rc_decref(build_graph(h, &made));
        size_t base_live = rc_live_objects(h);
        size_t base_bytes = test_stats(h).bytes_requested;
        g_deaths = g_bad = 0;

        uint64_t failed_before = failed_allocs(h);
        rc_heap_fail_at(h, k);
        box *root = build_graph(h, &made);
        bool hit = failed_allocs(h) > failed_before;
        rc_heap_fail_at(h, 0);
        if (hit) {
            failures_seen++;
            CHECK_MSG(root == NULL, "k=%llu: the build survived a failed allocation",
                      (unsigned long long)k);
            CHECK_LT(made, GRAPH_NODES);
        } else {
            finished = 1;
            CHECK_NOT_NULL(root);
            CHECK_EQ(made, GRAPH_NODES);
        }
        rc_decref(root);
        CHECK_MSG(g_deaths == made, "k=%llu: %zu objects made, %zu died", (unsigned long long)k,
                  made, g_deaths);
        CHECK_EQ(g_bad, 0);
        CHECK_MSG(rc_live_objects(h) == base_live, "k=%llu: %zu objects left (baseline %zu)",
                  (unsigned long long)k, rc_live_objects(h), base_live);
        if (warm)
            CHECK_MSG(test_stats(h).bytes_requested == base_bytes,
                      "k=%llu: %zu bytes in use after the drop (baseline %zu)",
                      (unsigned long long)k, test_stats(h).bytes_requested, base_bytes);

        /* the heap is usable: a full build works, and leaves exactly what a
         * heap that never failed holds */
        g_deaths = 0;
        root = build_graph(h, &made);
        CHECK_MSG(root != NULL, "k=%llu: build after the failure failed", (unsigned long long)k);
        rc_decref(root);
        CHECK_EQ(g_deaths, GRAPH_NODES);
        CHECK_EQ(rc_live_objects(h), 0);
        CHECK_MSG(test_stats(h).bytes_requested == reference_bytes,
                  "k=%llu: %zu bytes in use, a heap that never failed holds %zu",
                  (unsigned long long)k, test_stats(h).bytes_requested, reference_bytes);
        rc_heap_destroy(h);
    }
    CHECK(finished);
    /* cold: object state (3) + type table growth + 40 objects; warm: 40 objects */
    CHECK_GE(failures_seen, GRAPH_NODES);
    printf("  %s heap, %s: %zu failure points\n", mode == RC_MODE_DEBUG ? "debug" : "malloc",
           warm ? "warm" : "cold", failures_seen);
}

static void test_graph_failures_debug_cold(void) { failure_loop(RC_MODE_DEBUG, false); }
static void test_graph_failures_debug_warm(void) { failure_loop(RC_MODE_DEBUG, true); }
static void test_graph_failures_malloc_cold(void) { failure_loop(RC_MODE_MALLOC, false); }
static void test_graph_failures_malloc_warm(void) { failure_loop(RC_MODE_MALLOC, true); }

/* ---- Single failures ------------------------------------------------------------------ */

static const rc_type small_type = {.name = "small", .size = 16};

static void test_new_fails_then_works(void) {
    rc_heap *h = test_heap_new(RC_MODE_DEBUG);
    if (!CHECK_NOT_NULL(h))
        return;
    /* the very first rc_new of a heap: its object state cannot be made */
    rc_heap_fail_at(h, 1);
    CHECK_NULL(rc_new(h, &small_type, 0));
    CHECK_EQ(rc_live_objects(h), 0);
    void *a = rc_new(h, &small_type, 0);
    CHECK_NOT_NULL(a);
    CHECK_EQ(rc_live_objects(h), 1);

    /* the third allocation from now fails, the others work */
    rc_heap_fail_at(h, 3);
    void *b = rc_new(h, &small_type, 0), *c = rc_new(h, &small_type, 10);
    void *d = rc_new(h, &small_type, 0), *e = rc_new(h, &small_type, 0);
    CHECK_NOT_NULL(b);
    CHECK_NOT_NULL(c);
    CHECK_NULL(d);
    CHECK_NOT_NULL(e);
    CHECK_EQ(rc_live_objects(h), 4);
    CHECK_EQ(rc_live_objects_of(h, &small_type), 4);
    CHECK_EQ(rc_refcount(a), 1);
    rc_decref(a);
    rc_decref(b);
    rc_decref(c);
    rc_decref(e);
    CHECK_EQ(rc_live_objects(h), 0);
    rc_heap_destroy(h);
}

/* The deferred-deallocation list cannot grow: the drop still frees everything
 * (the object whose deferral failed is freed at once, one level deeper). */
typedef struct plink {
    void *next;
} plink;
static void plink_traverse(void *o, rc_visit_fn visit, void *arg) {
    visit(((plink *)o)->next, arg);
}
static const rc_type plink_type = {
    .name = "plink", .size = sizeof(plink), .traverse = plink_traverse};

static void test_deferral_list_failure(void) {
    enum { LEN = 20000 };
    const rc_alloc_mode modes[] = {RC_MODE_DEBUG, RC_MODE_MALLOC};
    for (int m = 0; m < 2; m++) {
        for (uint64_t k = 1; k <= 3; k++) {
            rc_heap *h = test_heap_new(modes[m]);
            if (!CHECK_NOT_NULL(h))
                return;
            plink *head = NULL;
            for (int i = 0; i < LEN; i++) {
                plink *l = rc_new(h, &plink_type, 0);
                if (!CHECK_NOT_NULL(l))
                    break;
                l->next = head;
                head = l;
            }
            size_t base = test_stats(h).bytes_requested;
            uint64_t failed_before = failed_allocs(h);
            rc_heap_fail_at(h, k); /* the drop's k-th allocation fails */
            rc_decref(head);
            rc_heap_fail_at(h, 0);
            if (k == 1) /* the drop allocates at least the list once */
                CHECK_EQ(failed_allocs(h), failed_before + 1);
            CHECK_EQ(rc_live_objects(h), 0);
            CHECK_LT(test_stats(h).bytes_requested, base);
            rc_heap_destroy(h);
        }
    }
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    init_types();
    RUN_TEST(test_new_fails_then_works);
    RUN_TEST(test_graph_failures_debug_cold);
    RUN_TEST(test_graph_failures_debug_warm);
    RUN_TEST(test_graph_failures_malloc_cold);
    RUN_TEST(test_graph_failures_malloc_warm);
    RUN_TEST(test_deferral_list_failure);
    return check_summary();
}
