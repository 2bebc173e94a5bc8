/*
 * test_gc_stress.c — bug-hunting shapes: a huge number of small cycles with
 * automatic collection, one giant cycle of a million objects collected by
 * one rc_gc_collect, chains a million deep inside cycles (collected on a
 * thread with a 256 KiB stack: the collector must not recurse), and random
 * graphs whose survivors are checked against reachability computed here.
 *
 * Sizes are divided by 10 under ASan and by 100 under valgrind; the C stack
 * needed does not depend on them.  Times are printed, not asserted.
 */
#include "gctest.h"
#include "../test_hooks.h"

#define MILLION ((size_t)1000000)

/* ---- Many small cycles ----------------------------------------------------------------------- */

static void test_million_small_cycles(void) {
    rc_heap *h = gct_heap();
    size_t n = gct_scale(MILLION);
    double t0 = gct_now();
    for (size_t i = 0; i < n; i++) {
        tnode *a = tn_new(h, &tnode_type, (long)i), *b = tn_new(h, &tnode_type, (long)i);
        tn_set(a, 0, b);
        tn_set(b, 0, a);
        rc_decref(a);
        rc_decref(b);
    }
    double t1 = gct_now();
    size_t live = rc_live_objects(h);
    printf("    %zu pairs in %.2fs with automatic collection: %zu objects left, %zu/%zu/%zu "
           "collections\n",
           n, t1 - t0, live, gct_collections(h, 0), gct_collections(h, 1),
           gct_collections(h, 2));
    CHECK_LE(live, 2 * 702);
    CHECK_GE(gct_collections(h, 0) + gct_collections(h, 1) + gct_collections(h, 2), n * 2 / 702);
    CHECK_EQ(rc_gc_collect(h, 2), live);
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* The same with finalizers and weakrefs with callbacks on every cycle. */
static long g_wr_calls;
static void wr_cb(void *w, void *arg) {
    (void)arg;
    g_wr_calls++;
    rc_decref(w); /* the weakref was owned by its callback */
}

static void test_many_cycles_with_finalizers_and_weakrefs(void) {
    rc_heap *h = gct_heap();
    size_t n = gct_scale(MILLION / 5);
    gct_fin_total = 0;
    g_wr_calls = 0;
    for (size_t i = 0; i < n; i++) {
        tnode *a = tn_new(h, &tfin_type, (long)i), *b = tn_new(h, &tnode_type, (long)i);
        tn_set(a, 0, b);
        tn_set(b, 0, a);
        rc_weakref_new(b, wr_cb, NULL);
        rc_decref(a);
        rc_decref(b);
    }
    rc_gc_collect(h, 2);
    CHECK_EQ(gct_fin_total, (long)n);
    CHECK_EQ(g_wr_calls, (long)n);
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* ---- One giant cycle --------------------------------------------------------------------------- */

static void test_giant_cycle(void) {
    rc_heap *h = gct_heap();
    size_t n = gct_scale(MILLION);
    double t0 = gct_now();
    tnode *first = tn_ring(h, &tnode_type, n, 0, NULL);
    double t1 = gct_now();
    CHECK_EQ(rc_live_objects(h), n);
    rc_decref(first);
    size_t before = gct_collections(h, 2);
    intptr_t found = rc_gc_collect(h, 2);
    double t2 = gct_now();
    printf("    ring of %zu: built in %.2fs (automatic collection on), collected in %.2fs\n", n,
           t1 - t0, t2 - t1);
    CHECK_EQ(found, n);
    CHECK_EQ(gct_collections(h, 2), before + 1);
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

/* ---- Deep nesting on a small stack ---------------------------------------------------------------- */

typedef struct deep_args {
    size_t depth;
    int kind;
} deep_args;

enum { DEEP_PLAIN, DEEP_FINALIZERS, DEEP_LEAVES, DEEP_REACHABLE, DEEP_RING_OF_CHAINS };

static void *deep_thread(void *arg) {
    deep_args *a = arg;
    size_t n = a->depth;
    rc_heap *h = gct_heap();
    gct_fin_total = 0;
    /* a self-loop holding a chain `n` deep through ref[1] */
    tnode *head = tn_new(h, &tnode_type, -1);
    tn_set(head, 0, head);
    tnode *cur = head;
    const rc_type *t = a->kind == DEEP_FINALIZERS ? &tfin_type
                       : a->kind == DEEP_LEAVES   ? &tleaf_type
                                                  : &tnode_type;
    for (size_t i = 0; i < n; i++) {
        tnode *x = tn_new(h, t, (long)i);
        cur->ref[1] = x; /* steal */
        cur = x;
    }
    if (a->kind == DEEP_RING_OF_CHAINS)
        tn_set(cur, 1, head); /* the chain's end points back: one deep cycle */
    double t0 = gct_now();
    if (a->kind == DEEP_REACHABLE) {
        /* marking a million-deep reachable chain */
        CHECK_EQ(rc_gc_collect(h, 2), 0);
        CHECK_EQ(rc_live_objects(h), n + 1);
        tn_set(head, 0, NULL);
        rc_decref(head); /* a million-deep refcount deallocation */
        CHECK_EQ(rc_live_objects(h), 0);
    } else {
        rc_decref(head);
        intptr_t found = rc_gc_collect(h, 2);
        size_t containers = a->kind == DEEP_LEAVES ? 1 : n + 1;
        CHECK_EQ(found, containers);
        CHECK_EQ(rc_live_objects(h), 0);
        if (a->kind == DEEP_FINALIZERS || a->kind == DEEP_LEAVES)
            CHECK_EQ(gct_fin_total, (long)n);
    }
    printf("    depth %zu, kind %d: %.2fs\n", n, a->kind, gct_now() - t0);
    GCT_END_HEAP(h);
    return NULL;
}

static void run_deep(int kind) {
    deep_args a = {gct_scale(MILLION), kind};
    CHECK_EQ(gct_run_on_stack(deep_thread, &a, GCT_SMALL_STACK), 0);
}

static void test_deep_chain_in_cycle(void) { run_deep(DEEP_PLAIN); }
static void test_deep_chain_of_finalizers(void) { run_deep(DEEP_FINALIZERS); }
static void test_deep_chain_of_non_containers(void) { run_deep(DEEP_LEAVES); }
static void test_deep_reachable_chain(void) { run_deep(DEEP_REACHABLE); }
static void test_deep_cycle(void) { run_deep(DEEP_RING_OF_CHAINS); }

/* Chains released by their finalizers and weakref callbacks, not by
 * destroy: the nesting goes through step 1 of each death, which must be
 * deferred past the depth limit like destroy (CPython's trashcan covers
 * the finalizer too), on a 256 KiB stack. */

/* Each node's finalizer drops the next link (ref[1]); every 100th node
 * resurrects itself into a self-loop first.  A node whose finalizer waited
 * on the work list must still be tracked when it comes back, so that the
 * collection finds each self-loop. */
static void fin_drops_next(tnode *self) {
    if (self->id % 100 == 50)
        tn_set(self, 0, self);
    void *next = self->ref[1];
    self->ref[1] = NULL;
    rc_decref(next);
}

/* n nodes with finalizers, each holding the next in ref[1], whose
 * finalizers drop that reference (fin_drops_next); returns the first. */
static tnode *fin_chain_new(rc_heap *h, size_t n) {
    tnode *head = tn_new(h, &tfin_type, 0), *cur = head;
    head->on_finalize = fin_drops_next;
    for (size_t i = 1; i < n; i++) {
        tnode *x = tn_new(h, &tfin_type, (long)i);
        x->on_finalize = fin_drops_next;
        cur->ref[1] = x; /* steal */
        cur = x;
    }
    return head;
}

static void *fin_chain_thread(void *arg) {
    size_t n = *(size_t *)arg;
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    gct_reset_counters();
    tnode *head = fin_chain_new(h, n);
    rc_decref(head);
    CHECK_EQ(gct_fin_total, (long)n);
    size_t loops = n / 100;
    CHECK_EQ(rc_live_objects(h), loops);
    CHECK_EQ(rc_gc_collect(h, 2), (intptr_t)loops); /* every resurrected node tracked */
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
    return NULL;
}

static void test_deep_chain_dropped_by_finalizers(void) {
    size_t n = gct_scale(MILLION);
    CHECK_EQ(gct_run_on_stack(fin_chain_thread, &n, GCT_SMALL_STACK), 0);
}

/* The same chain when the heap can give nothing more (a malloc-mode heap on
 * hooks that refuse every call once the chain is built): the deaths that wait
 * for their finalizers are chained through the containers' GC heads, not
 * kept on the growable array, so they never fall back to recursion.  Before,
 * each link recursed when the array could not be had. */
static void *fin_chain_nomem_thread(void *arg) {
    size_t n = *(size_t *)arg;
    test_hooks th;
    test_hooks_init(&th, false);
    rc_heap_config cfg = test_hooked_config(&th, RC_MODE_MALLOC);
    cfg.on_error = gct_count_error;
    rc_heap *h = rc_heap_new(&cfg);
    if (!CHECK_NOT_NULL(h))
        return NULL;
    rc_gc_disable(h);
    gct_reset_counters();
    tnode *head = fin_chain_new(h, n);
    th.large.fail_all = th.arena.fail_all = true;
    rc_decref(head);
    th.large.fail_all = th.arena.fail_all = false;
    CHECK_EQ(gct_fin_total, (long)n);
    size_t loops = n / 100;
    CHECK_EQ(rc_live_objects(h), loops);
    CHECK_EQ(rc_gc_collect(h, 2), (intptr_t)loops);
    CHECK_EQ(rc_live_objects(h), 0);
    CHECK_EQ(gct_heap_errors, 0);
    rc_heap_destroy(h);
    CHECK_EQ(th.nlive, 0);
    CHECK_EQ(th.mismatches, 0);
    test_hooks_fini(&th);
    return NULL;
}

static void test_deep_chain_dropped_by_finalizers_without_memory(void) {
    size_t n = 20000; /* 4x what recursion took to overflow the small stack */
    CHECK_EQ(gct_run_on_stack(fin_chain_nomem_thread, &n, GCT_SMALL_STACK), 0);
}

/* The same chain hanging from a garbage self-loop: the collection runs the
 * first link's finalizer, which drops the rest one finalizer inside the
 * other (each before the collection's own turn comes to it). */
static void *fin_chain_collected_thread(void *arg) {
    size_t n = *(size_t *)arg;
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    gct_reset_counters();
    tnode *head = tn_new(h, &tnode_type, -1);
    tn_set(head, 0, head);
    tnode *cur = head;
    for (size_t i = 0; i < n; i++) {
        tnode *x = tn_new(h, &tfin_type, (long)i * 100); /* no self-loops */
        x->on_finalize = fin_drops_next;
        cur->ref[1] = x; /* steal */
        cur = x;
    }
    rc_decref(head);
    CHECK_GT(rc_gc_collect(h, 2), 0);
    CHECK_EQ(gct_fin_total, (long)n);
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
    return NULL;
}

static void test_deep_chain_dropped_by_finalizers_in_collection(void) {
    size_t n = gct_scale(MILLION);
    CHECK_EQ(gct_run_on_stack(fin_chain_collected_thread, &n, GCT_SMALL_STACK), 0);
}

/* Node k is held only by the test (held[k]); the callback of a weakref to
 * node k drops held[k + 1].  A node whose death waits on the work list is
 * dead to its weakrefs (rc_weakref_get gives NULL, as CPython's weakrefs
 * do for a target whose count is 0), and now and then a callback collects
 * while nodes wait. */
static struct {
    rc_heap *h;
    void **held, **wr;
    size_t n, calls, bad_order, seen_alive;
} g_wchain;

static void wchain_callback(void *w, void *arg) {
    (void)w;
    size_t k = (size_t)(uintptr_t)arg;
    if (k != g_wchain.calls)
        g_wchain.bad_order++;
    g_wchain.calls++;
    if (k + 1 == g_wchain.n)
        return;
    void *next = g_wchain.held[k + 1];
    g_wchain.held[k + 1] = NULL;
    rc_decref(next);
    void *t = rc_weakref_get(g_wchain.wr[k + 1]);
    if (t) {
        g_wchain.seen_alive++;
        rc_decref(t);
    }
    if (k % 1000 == 999)
        rc_gc_collect(g_wchain.h, 2);
}

static void *weakref_chain_thread(void *arg) {
    size_t n = *(size_t *)arg;
    memset(&g_wchain, 0, sizeof g_wchain);
    rc_heap *h = g_wchain.h = gct_heap();
    rc_gc_disable(h);
    g_wchain.n = n;
    g_wchain.held = calloc(n, sizeof(void *));
    g_wchain.wr = calloc(n, sizeof(void *));
    if (!CHECK_NOT_NULL(g_wchain.held) || !CHECK_NOT_NULL(g_wchain.wr))
        return NULL;
    for (size_t k = 0; k < n; k++) {
        g_wchain.held[k] = tn_new(h, &tnode_type, (long)k);
        g_wchain.wr[k] = rc_weakref_new(g_wchain.held[k], wchain_callback, (void *)(uintptr_t)k);
        CHECK_NOT_NULL(g_wchain.wr[k]);
    }
    void *first = g_wchain.held[0];
    g_wchain.held[0] = NULL;
    rc_decref(first);
    CHECK_EQ(g_wchain.calls, n);
    CHECK_EQ(g_wchain.bad_order, 0);
    CHECK_EQ(g_wchain.seen_alive, 0);
    CHECK_EQ(rc_live_objects_of(h, &tnode_type), 0);
    for (size_t k = 0; k < n; k++)
        rc_decref(g_wchain.wr[k]);
    free(g_wchain.held);
    free(g_wchain.wr);
    GCT_END_HEAP(h);
    return NULL;
}

static void test_deep_chain_dropped_by_weakref_callbacks(void) {
    size_t n = gct_scale(MILLION / 10);
    CHECK_EQ(gct_run_on_stack(weakref_chain_thread, &n, GCT_SMALL_STACK), 0);
}

/* A wide and deep tree under a cycle, with weakrefs to the leaves. */
static void *tree_thread(void *arg) {
    (void)arg;
    rc_heap *h = gct_heap();
    size_t n = gct_scale(MILLION / 2);
    /* a complete binary tree in BFS order (children in ref[0] and ref[1]),
     * each node pointing back to its parent through ref[2]: every node is in
     * a cycle */
    tnode **nodes = malloc(n * sizeof *nodes);
    if (!CHECK_NOT_NULL(nodes))
        return NULL;
    for (size_t i = 0; i < n; i++) {
        nodes[i] = tn_new(h, &tnode_type, (long)i);
        if (i > 0) {
            size_t p = (i - 1) / 2;
            nodes[p]->ref[(i - 1) % 2] = nodes[i]; /* the parent owns the child */
            tn_set(nodes[i], 2, nodes[p]);
        }
    }
    rc_decref(nodes[0]);
    free(nodes);
    CHECK_EQ(rc_gc_collect(h, 2), n);
    GCT_END_HEAP(h);
    return NULL;
}

static void test_tree_of_cycles(void) {
    CHECK_EQ(gct_run_on_stack(tree_thread, NULL, GCT_SMALL_STACK), 0);
}

/* ---- Random graphs checked against reachability ----------------------------------------------- */

typedef struct graph {
    size_t n;
    tnode **node; /* borrowed once released */
    void **wr;    /* a weakref to each node (held by the test) */
    long *edge;   /* edge[i*3+k]: target index of node i's slot k, or -1 */
    unsigned char *root, *alive, *young, *mark;
} graph;

/* Graph nodes record their death (destroy) in g_dead[id]: weakrefs cannot
 * tell, since those to resurrected objects are cleared too. */
static unsigned char *g_dead;

static void gnode_destroy(void *o) {
    g_dead[((tnode *)o)->id] = 1;
    tn_destroy(o);
}

static const rc_type gnode_type = {
    .name = "gnode",
    .size = sizeof(tnode),
    .flags = RC_TYPE_GC,
    .traverse = tn_traverse,
    .clear = tn_clear,
    .destroy = gnode_destroy,
};

static const rc_type gfin_type = {
    .name = "gfin",
    .size = sizeof(tnode),
    .flags = RC_TYPE_GC,
    .traverse = tn_traverse,
    .clear = tn_clear,
    .finalize = tn_finalize,
    .destroy = gnode_destroy,
};

static bool node_alive(graph *g, size_t i) {
    (void)g;
    return !g_dead[i];
}

/* Mark from roots and from every live node not in the young set. */
static size_t mark(graph *g) {
    size_t *stack = malloc(g->n * sizeof *stack), sp = 0, marked = 0;
    memset(g->mark, 0, g->n);
    for (size_t i = 0; i < g->n; i++) {
        if (g->alive[i] && (g->root[i] || !g->young[i])) {
            g->mark[i] = 1;
            stack[sp++] = i;
        }
    }
    while (sp) {
        size_t i = stack[--sp];
        marked++;
        for (int k = 0; k < 3; k++) {
            long j = g->edge[i * 3 + k];
            if (j >= 0 && !g->mark[j]) {
                g->mark[j] = 1;
                stack[sp++] = (size_t)j;
            }
        }
    }
    free(stack);
    return marked;
}

static void note_young(void *o, void *arg) {
    graph *g = arg;
    const rc_type *t = rc_type_of(o);
    if (t == &gnode_type || t == &gfin_type)
        g->young[((tnode *)o)->id] = 1;
}

static void check_collection(graph *g, rc_heap *h, int gen) {
    /* the young set: what rc_gc_get_objects lists in generations 0..gen */
    memset(g->young, 0, g->n);
    for (int k = 0; k <= gen; k++)
        rc_gc_get_objects(h, k, note_young, g);
    for (size_t i = 0; i < g->n; i++)
        g->alive[i] = node_alive(g, i);
    mark(g);
    size_t expect = 0;
    for (size_t i = 0; i < g->n; i++)
        expect += g->alive[i] && g->young[i] && !g->mark[i];
    intptr_t found = rc_gc_collect(h, gen);
    CHECK_MSG((size_t)found == expect, "collect(%d) found %ld, expected %zu", gen, (long)found,
              expect);
    size_t wrongly_freed = 0, damaged = 0;
    for (size_t i = 0; i < g->n; i++) {
        if (!g->alive[i] || !g->mark[i])
            continue;
        if (!node_alive(g, i)) {
            wrongly_freed++;
            continue;
        }
        for (int k = 0; k < 3; k++) {
            long j = g->edge[i * 3 + k];
            if (g->node[i]->ref[k] != (j >= 0 ? g->node[j] : NULL))
                damaged++;
        }
    }
    CHECK_EQ(wrongly_freed, 0);
    CHECK_EQ(damaged, 0);
}

/* ---- Children made before their parents ------------------------------------------------- */

/* A binary tree built bottom up, as GCBench's MakeTree: both subtrees first,
 * then the node holding them, so each child sits before its parent in the
 * generation's list and the marking scan meets it before anything shows it
 * reachable.  Every `every`-th node also holds a 2-cycle that is garbage
 * once the tree is dropped.  Counts the nodes made in *nodes. */
static tnode *post_order_tree(rc_heap *h, int depth, size_t *nodes, size_t every) {
    tnode *l = depth > 0 ? post_order_tree(h, depth - 1, nodes, every) : NULL;
    tnode *r = depth > 0 ? post_order_tree(h, depth - 1, nodes, every) : NULL;
    tnode *n = tn_new(h, &tnode_type, (long)*nodes);
    ++*nodes;
    tn_set(n, 0, l);
    tn_set(n, 1, r);
    rc_decref(l);
    rc_decref(r);
    if (every && *nodes % every == 0) { /* a cycle hanging off the node */
        tnode *a = tn_new(h, &tnode_type, -1), *b = tn_new(h, &tnode_type, -1);
        tn_set(a, 0, b);
        tn_set(b, 0, a);
        tn_set(n, 2, a);
        rc_decref(a);
        rc_decref(b);
    }
    return n;
}

/* Every node of the tree under n is still there, links intact. */
static size_t tree_nodes(const tnode *n) {
    if (!n)
        return 0;
    return 1 + tree_nodes(n->ref[0]) + tree_nodes(n->ref[1]);
}

static void test_children_before_parents(void) {
    rc_heap *h = gct_heap();
    rc_gc_disable(h);
    size_t nodes = 0;
    int depth = GCTEST_ON_VALGRIND() ? 9 : 14;
    tnode *roots[3];
    for (int i = 0; i < 3; i++)
        roots[i] = post_order_tree(h, depth, &nodes, 7);
    size_t cycles = nodes / 7;
    CHECK_EQ(rc_live_objects(h), nodes + 2 * cycles);
    /* Everything is reachable from the three roots, which come last in the
     * list: the scan has to bring back every other object it passed. */
    for (int gen = 0; gen <= 2; gen++) {
        CHECK_EQ(rc_gc_collect(h, gen), 0);
        CHECK_EQ(rc_live_objects(h), nodes + 2 * cycles);
    }
    /* Drop the cycles' links from the middle tree: those become garbage. */
    size_t dropped = 0;
    tnode *stack[64];
    int sp = 0;
    stack[sp++] = roots[1];
    while (sp > 0) {
        tnode *n = stack[--sp];
        if (n->ref[2]) {
            tn_set(n, 2, NULL);
            dropped++;
        }
        for (int k = 0; k < 2; k++)
            if (n->ref[k] && sp < 64)
                stack[sp++] = n->ref[k];
    }
    CHECK_GT(dropped, 0);
    CHECK_EQ(rc_gc_collect(h, 2), 2 * dropped);
    CHECK_EQ(rc_live_objects(h), nodes + 2 * (cycles - dropped));
    for (int i = 0; i < 3; i++)
        CHECK_EQ(tree_nodes(roots[i]), nodes / 3);
    /* Dropping the roots frees the trees by reference counting; the cycles
     * left are the collector's. */
    for (int i = 0; i < 3; i++)
        rc_decref(roots[i]);
    CHECK_EQ(rc_live_objects(h), 2 * (cycles - dropped));
    CHECK_EQ(rc_gc_collect(h, 2), 2 * (cycles - dropped));
    CHECK_EQ(rc_live_objects(h), 0);
    GCT_END_HEAP(h);
}

static void test_random_graphs(void) {
    size_t n = gct_scale(60000);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        rc_heap *h = gct_heap();
        rc_gc_disable(h);
        test_rng rng = test_rng_seed(seed * 7919);
        graph g;
        g.n = n;
        g.node = malloc(n * sizeof *g.node);
        g.wr = malloc(n * sizeof *g.wr);
        g.edge = malloc(n * 3 * sizeof *g.edge);
        g.root = calloc(n, 1);
        g.alive = calloc(n, 1);
        g.young = calloc(n, 1);
        g.mark = calloc(n, 1);
        g_dead = calloc(n, 1);
        /* three batches, one per generation */
        for (size_t i = 0; i < n; i++) {
            g.node[i] = tn_new(h, test_rng_below(&rng, 4) ? &gnode_type : &gfin_type, (long)i);
            g.wr[i] = rc_weakref_new(g.node[i], NULL, NULL);
            if (i == n / 3)
                rc_gc_collect(h, 1);
            if (i == 2 * n / 3)
                rc_gc_collect(h, 0);
        }
        /* random edges: mostly local (long chains and small cycles), some far */
        for (size_t i = 0; i < n; i++) {
            for (int k = 0; k < 3; k++) {
                long j = -1;
                uint64_t r = test_rng_below(&rng, 10);
                if (r < 4)
                    j = (long)((i + 1 + test_rng_below(&rng, 3)) % n);
                else if (r < 6)
                    j = (long)test_rng_below(&rng, n);
                g.edge[i * 3 + k] = j;
                if (j >= 0)
                    tn_set(g.node[i], k, g.node[j]);
            }
        }
        for (size_t i = 0; i < n; i++) {
            g.root[i] = test_rng_below(&rng, 1000) < 3;
            if (!g.root[i])
                rc_decref(g.node[i]);
        }
        check_collection(&g, h, 0);
        check_collection(&g, h, 1);
        check_collection(&g, h, 2);
        /* after a full collection exactly the reachable nodes are alive */
        size_t alive = 0;
        for (size_t i = 0; i < n; i++)
            alive += node_alive(&g, i);
        memset(g.young, 1, n);
        for (size_t i = 0; i < n; i++)
            g.alive[i] = 1;
        size_t reachable = mark(&g);
        CHECK_EQ(alive, reachable);
        for (size_t i = 0; i < n; i++) {
            if (g.root[i])
                rc_decref(g.node[i]);
            rc_decref(g.wr[i]);
        }
        free(g.node);
        free(g.wr);
        free(g.edge);
        free(g.root);
        free(g.alive);
        free(g.young);
        free(g.mark);
        GCT_END_HEAP(h);
        free(g_dead);
        g_dead = NULL;
    }
}

/* PEP 442 on random graphs: some garbage objects resurrect themselves from
 * their finalizers; exactly what they reach survives, intact (never
 * cleared), and the rest is collected. */
static tnode **g_resurrected;
static size_t g_nres;

static void resurrect_self(tnode *self) {
    rc_incref(self);
    g_resurrected[g_nres++] = self;
}

static void test_random_graphs_with_resurrection(void) {
    size_t n = gct_scale(40000);
    if (n < 5000)
        n = 5000; /* enough resurrecting finalizers */
    for (uint64_t seed = 11; seed <= 13; seed++) {
        rc_heap *h = gct_heap();
        rc_gc_disable(h);
        test_rng rng = test_rng_seed(seed * 104729);
        graph g;
        g.n = n;
        g.node = malloc(n * sizeof *g.node);
        g.wr = malloc(n * sizeof *g.wr);
        g.edge = malloc(n * 3 * sizeof *g.edge);
        g.root = calloc(n, 1);
        g.alive = calloc(n, 1);
        g.young = calloc(n, 1);
        g.mark = calloc(n, 1);
        g_dead = calloc(n, 1);
        unsigned char *hook = calloc(n, 1);
        g_resurrected = malloc(n * sizeof *g_resurrected); /* each object at most once */
        g_nres = 0;
        for (size_t i = 0; i < n; i++) {
            g.node[i] = tn_new(h, test_rng_below(&rng, 3) ? &gnode_type : &gfin_type, (long)i);
            g.wr[i] = rc_weakref_new(g.node[i], NULL, NULL);
            if (rc_type_of(g.node[i]) == &gfin_type && test_rng_below(&rng, 100) < 2) {
                hook[i] = 1;
                g.node[i]->on_finalize = resurrect_self;
            }
        }
        /* clusters of 2..40 consecutive nodes, edges mostly inside a
         * cluster (cycles), a few between clusters; one node held in 5% of
         * the clusters */
        size_t lo = 0;
        while (lo < n) {
            size_t sz = test_rng_range(&rng, 2, 40);
            if (lo + sz > n)
                sz = n - lo;
            bool rooted = test_rng_below(&rng, 100) < 5;
            for (size_t i = lo; i < lo + sz; i++) {
                for (int k = 0; k < 3; k++) {
                    long j = -1;
                    uint64_t r = test_rng_below(&rng, 100);
                    if (r < 60)
                        j = (long)(lo + test_rng_below(&rng, sz));
                    else if (r < 63)
                        j = (long)test_rng_below(&rng, n);
                    g.edge[i * 3 + k] = j;
                    if (j >= 0)
                        tn_set(g.node[i], k, g.node[j]);
                }
                g.root[i] = rooted && i == lo;
            }
            lo += sz;
        }
        for (size_t i = 0; i < n; i++) {
            if (!g.root[i])
                rc_decref(g.node[i]);
        }
        /* Dropping the references already freed the acyclic garbage, and
         * the resurrecting finalizers of some of it ran then: those objects
         * are held by g_resurrected now, as roots.  Expected: what the roots
         * reach survives; among the rest (cyclic garbage), what the
         * resurrecting finalizers that have not run yet reach survives too. */
        unsigned char *held = malloc(n), *from_roots = malloc(n);
        memcpy(held, g.root, n); /* the references the test holds */
        for (size_t i = 0; i < g_nres; i++)
            g.root[g_resurrected[i]->id] = 1;
        memset(g.young, 1, n);
        size_t alive = 0;
        for (size_t i = 0; i < n; i++) {
            g.alive[i] = node_alive(&g, i);
            alive += g.alive[i];
        }
        mark(&g);
        memcpy(from_roots, g.mark, n);
        size_t pending_resurrectors = 0;
        for (size_t i = 0; i < n; i++) {
            if (g.alive[i] && !from_roots[i] && hook[i] && !rc_gc_is_finalized(g.node[i])) {
                g.root[i] = 1;
                pending_resurrectors++;
            }
        }
        size_t survivors = mark(&g);
        size_t garbage = alive - survivors;
        size_t live_before = rc_live_objects(h);
        intptr_t found = rc_gc_collect(h, 2);
        CHECK_EQ((size_t)found, garbage);
        CHECK_EQ(rc_live_objects(h), live_before - garbage);
        size_t wrong = 0, damaged = 0;
        for (size_t i = 0; i < n; i++) {
            if (node_alive(&g, i) != (bool)g.mark[i]) {
                wrong++;
                continue;
            }
            if (!g.mark[i])
                continue;
            if (g.node[i]->clear_calls)
                damaged++;
            for (int k = 0; k < 3; k++) {
                long j = g.edge[i * 3 + k];
                if (g.node[i]->ref[k] != (j >= 0 ? g.node[j] : NULL))
                    damaged++;
            }
        }
        CHECK_EQ(wrong, 0);
        CHECK_EQ(damaged, 0);
        CHECK_GT(pending_resurrectors, 0);
        CHECK_GT(garbage, alive / 10);
        /* drop everything: collections free the rest (the finalizers that
         * had not run yet run now, and may resurrect once more) */
        size_t dropped = 0;
        for (size_t i = 0; i < n; i++)
            if (held[i])
                rc_decref(g.node[i]);
        for (int round = 0; round < 10; round++) {
            while (dropped < g_nres)
                rc_decref(g_resurrected[dropped++]);
            rc_gc_collect(h, 2);
            if (dropped == g_nres)
                break;
        }
        for (size_t i = 0; i < n; i++) {
            CHECK(!node_alive(&g, i));
            rc_decref(g.wr[i]);
        }
        free(from_roots);
        free(held);
        free(hook);
        free(g_resurrected);
        free(g.node);
        free(g.wr);
        free(g.edge);
        free(g.root);
        free(g.alive);
        free(g.young);
        free(g.mark);
        GCT_END_HEAP(h);
        free(g_dead);
        g_dead = NULL;
    }
}

/* Heaps are independent: one per thread, collecting at the same time. */
static void *parallel_thread(void *arg) {
    size_t n = *(size_t *)arg;
    rc_heap *h = gct_heap();
    rc_gc_set_threshold(h, 100, 5, 5);
    tnode *keep = tn_new(h, &tnode_type, 0);
    for (size_t i = 0; i < n; i++) {
        tnode *a = tn_new(h, i % 7 ? &tnode_type : &tfin_type, (long)i);
        tn_set(a, 0, a);
        if (i % 100 == 0)
            tn_set(keep, 1, a); /* some survive a while */
        rc_decref(a);
    }
    rc_decref(keep);
    rc_gc_collect(h, 2);
    CHECK_EQ(rc_live_objects(h), 0);
    CHECK_EQ(gct_heap_errors, 0);
    rc_heap_destroy(h);
    return NULL;
}

static void test_parallel_heaps(void) {
    enum { T = 4 };
    pthread_t th[T];
    size_t n = gct_scale(200000);
    for (int i = 0; i < T; i++)
        CHECK_EQ(pthread_create(&th[i], NULL, parallel_thread, &n), 0);
    for (int i = 0; i < T; i++)
        pthread_join(th[i], NULL);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_million_small_cycles);
    RUN_TEST(test_many_cycles_with_finalizers_and_weakrefs);
    RUN_TEST(test_giant_cycle);
    RUN_TEST(test_deep_chain_in_cycle);
    RUN_TEST(test_deep_chain_of_finalizers);
    RUN_TEST(test_deep_chain_of_non_containers);
    RUN_TEST(test_deep_reachable_chain);
    RUN_TEST(test_deep_cycle);
    RUN_TEST(test_deep_chain_dropped_by_finalizers);
    RUN_TEST(test_deep_chain_dropped_by_finalizers_without_memory);
    RUN_TEST(test_deep_chain_dropped_by_finalizers_in_collection);
    RUN_TEST(test_deep_chain_dropped_by_weakref_callbacks);
    RUN_TEST(test_tree_of_cycles);
    RUN_TEST(test_children_before_parents);
    RUN_TEST(test_random_graphs);
    RUN_TEST(test_random_graphs_with_resurrection);
    RUN_TEST(test_parallel_heaps);
    return check_summary();
}
