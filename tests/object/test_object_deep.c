/*
 * test_object_deep.c — dropping the last reference to big structures:
 * 10-million-long chains of plain and of RC_TYPE_GC objects, a wide tree,
 * chains whose destroy callbacks allocate new objects.  Everything must be
 * freed (rc_live_objects back to 0) without overflowing the C stack, so the
 * drops run on a thread with a 256 KiB stack.  No timing is asserted; the
 * times are printed (they grow linearly with the length).
 *
 * Under AddressSanitizer and valgrind (instrumented allocation paths) the
 * structures are smaller: the C stack needed does not depend on the size.
 */
#include "objtest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 10 million links and a tree of depth 7 (2.4 million nodes); ten times
 * fewer links under ASan, a hundred times fewer under valgrind. */
static size_t g_chain_len = 10000000;
static int g_tree_depth = 7;

static void scale_sizes(void) {
    if (TEST_ASAN) {
        g_chain_len = 1000000;
        g_tree_depth = 5;
    }
    if (OBJTEST_ON_VALGRIND()) {
        g_chain_len = 100000;
        g_tree_depth = 4;
    }
}

#define SMALL_STACK ((size_t)256 * 1024)

/* ---- Links ------------------------------------------------------------------------- */

typedef struct chainlink {
    void *next; /* owned */
    size_t index;
} chainlink;

static void link_traverse(void *o, rc_visit_fn visit, void *arg) {
    visit(((chainlink *)o)->next, arg);
}

/* no destroy: the next link is dropped through traverse */
static const rc_type plain_link = {
    .name = "plain_link", .size = sizeof(chainlink), .traverse = link_traverse};
static const rc_type gc_link = {
    .name = "gc_link", .size = sizeof(chainlink), .flags = RC_TYPE_GC, .traverse = link_traverse};

/* with destroy (which drops next itself) and a finalizer, both counted */
static size_t g_fin, g_destroyed, g_bad_order;
static void counted_finalize(void *o) {
    (void)o;
    g_fin++;
}
static void counted_destroy(void *o) {
    chainlink *l = o;
    /* the chain is freed from the head: link i dies after link i-1 */
    if (l->index != g_destroyed)
        g_bad_order++;
    g_destroyed++;
    void *next = l->next;
    l->next = NULL;
    rc_decref(next);
}
static const rc_type counted_link = {.name = "counted_link",
                                     .size = sizeof(chainlink),
                                     .finalize = counted_finalize,
                                     .destroy = counted_destroy};
static const rc_type counted_gc_link = {.name = "counted_gc_link",
                                        .size = sizeof(chainlink),
                                        .flags = RC_TYPE_GC,
                                        .traverse = link_traverse,
                                        .finalize = counted_finalize,
                                        .destroy = counted_destroy};

/* A chain of n links of type t (index 0 at the head); NULL on failure. */
static void *build_chain(rc_heap *h, const rc_type *t, size_t n) {
    chainlink *head = NULL;
    for (size_t i = n; i-- > 0;) {
        chainlink *l = rc_new(h, t, 0);
        if (!l) {
            rc_decref(head);
            return NULL;
        }
        l->next = head; /* the reference moves into the new chainlink */
        l->index = i;
        head = l;
    }
    return head;
}

typedef struct chain_job {
    const rc_type *type;
    size_t len;
    /* results */
    int built;
    size_t live_built, live_after;
    double build_s, drop_s;
} chain_job;

/* Runs on the small-stack thread: a heap of its own, the chain, one drop. */
static void *chain_thread(void *arg) {
    chain_job *job = arg;
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!h)
        return NULL;
    double t0 = objtest_seconds();
    void *head = build_chain(h, job->type, job->len);
    double t1 = objtest_seconds();
    job->built = head != NULL;
    job->live_built = rc_live_objects(h);
    rc_decref(head);
    job->drop_s = objtest_seconds() - t1;
    job->build_s = t1 - t0;
    job->live_after = rc_live_objects(h);
    rc_heap_destroy(h);
    return NULL;
}

static void run_chain(const rc_type *t, size_t len) {
    chain_job job = {.type = t, .len = len};
    CHECK_EQ(objtest_run_with_stack(SMALL_STACK, chain_thread, &job), 0);
    CHECK(job.built);
    CHECK_EQ(job.live_built, len);
    CHECK_EQ(job.live_after, 0);
    printf("  %-16s %9zu links: build %.2f s, drop %.2f s (%.1f ns/link)\n", t->name, len,
           job.build_s, job.drop_s, job.drop_s * 1e9 / (double)len);
}

static void test_plain_chain(void) { run_chain(&plain_link, g_chain_len); }

static void test_gc_chain(void) { run_chain(&gc_link, g_chain_len); }

/* Shorter chains first: the drop time per link stays flat (printed only). */
static void test_chain_lengths(void) {
    for (size_t n = g_chain_len / 1000; n < g_chain_len; n *= 10)
        run_chain(&gc_link, n);
}

/* With finalizers and destroy callbacks: each called once per link, in order. */
static void test_counted_chains(void) {
    const rc_type *types[] = {&counted_link, &counted_gc_link};
    for (int k = 0; k < 2; k++) {
        g_fin = g_destroyed = g_bad_order = 0;
        size_t n = g_chain_len / 10;
        run_chain(types[k], n);
        CHECK_EQ(g_fin, n);
        CHECK_EQ(g_destroyed, n);
        CHECK_EQ(g_bad_order, 0);
    }
}

/* A finalizer that drops the next link itself (Python's `def __del__(self):
 * self.next = None`): the chain is released by the finalizers, not by
 * destroy, so the nesting goes through finalize.  It must be bounded as
 * destroy's is (CPython's trashcan covers the finalizer too); each
 * finalizer still runs once, in chain order, before its link is freed. */
static size_t g_fin_dropped, g_fin_bad_order;
static void dropping_finalize(void *o) {
    chainlink *l = o;
    if (l->index != g_fin_dropped)
        g_fin_bad_order++;
    g_fin_dropped++;
    void *next = l->next;
    l->next = NULL;
    rc_decref(next);
}
static const rc_type dropping_link = {.name = "dropping_link",
                                      .size = sizeof(chainlink),
                                      .traverse = link_traverse,
                                      .finalize = dropping_finalize};
static const rc_type dropping_gc_link = {.name = "dropping_gc_link",
                                         .size = sizeof(chainlink),
                                         .flags = RC_TYPE_GC,
                                         .traverse = link_traverse,
                                         .finalize = dropping_finalize};
/* no traverse, no GC head: a leaf for the object layer, freed at once */
static const rc_type dropping_leaf = {.name = "dropping_leaf",
                                      .size = sizeof(chainlink),
                                      .finalize = dropping_finalize};

static void test_finalizers_drop_the_chain(void) {
    const rc_type *types[] = {&dropping_link, &dropping_gc_link, &dropping_leaf};
    for (int k = 0; k < 3; k++) {
        g_fin_dropped = g_fin_bad_order = 0;
        size_t n = g_chain_len / 10;
        run_chain(types[k], n);
        CHECK_EQ(g_fin_dropped, n);
        CHECK_EQ(g_fin_bad_order, 0);
    }
}

/* Alternating plain and GC links: both kinds of deferred work at once. */
typedef struct mixed_job {
    size_t len, live_after;
    int built;
} mixed_job;

static void *mixed_thread(void *arg) {
    mixed_job *job = arg;
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!h)
        return NULL;
    chainlink *head = NULL;
    for (size_t i = job->len; i-- > 0;) {
        chainlink *l = rc_new(h, (i % 3 == 0) ? &plain_link : &gc_link, 0);
        if (!l)
            break;
        l->next = head;
        head = l;
    }
    job->built = rc_live_objects(h) == job->len;
    rc_decref(head);
    job->live_after = rc_live_objects(h);
    rc_heap_destroy(h);
    return NULL;
}

static void test_mixed_chain(void) {
    mixed_job job = {.len = g_chain_len / 2};
    CHECK_EQ(objtest_run_with_stack(SMALL_STACK, mixed_thread, &job), 0);
    CHECK(job.built);
    CHECK_EQ(job.live_after, 0);
}

/* ---- A wide tree ---------------------------------------------------------------------- */

typedef struct node8 {
    void *kid[8];
} node8;

static size_t g_node_fin;
static void node_traverse(void *o, rc_visit_fn visit, void *arg) {
    node8 *n = o;
    for (int i = 0; i < 8; i++)
        visit(n->kid[i], arg);
}
static void node_finalize(void *o) {
    (void)o;
    g_node_fin++;
}
/* levels alternate between the two types */
static const rc_type gc_node = {.name = "gc_node",
                                .size = sizeof(node8),
                                .flags = RC_TYPE_GC,
                                .traverse = node_traverse,
                                .finalize = node_finalize};
static const rc_type plain_node = {.name = "plain_node",
                                   .size = sizeof(node8),
                                   .traverse = node_traverse,
                                   .finalize = node_finalize};

static void *build_tree(rc_heap *h, int depth) {
    node8 *n = rc_new(h, (depth & 1) ? &plain_node : &gc_node, 0);
    if (n && depth > 0)
        for (int i = 0; i < 8; i++)
            n->kid[i] = build_tree(h, depth - 1);
    return n;
}

typedef struct tree_job {
    size_t nodes, live_built, live_gc, live_plain, live_after, fin;
} tree_job;

static void *tree_thread(void *arg) {
    tree_job *job = arg;
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!h)
        return NULL;
    g_node_fin = 0;
    void *root = build_tree(h, g_tree_depth);
    job->live_built = rc_live_objects(h);
    job->live_gc = rc_live_objects_of(h, &gc_node);
    job->live_plain = rc_live_objects_of(h, &plain_node);
    rc_decref(root);
    job->live_after = rc_live_objects(h);
    job->fin = g_node_fin;
    rc_heap_destroy(h);
    return NULL;
}

static void test_wide_tree(void) {
    tree_job job = {0};
    size_t nodes = 0, level = 1, gc = 0;
    for (int d = g_tree_depth; d >= 0; d--) { /* the root has depth g_tree_depth */
        nodes += level;
        if (!(d & 1))
            gc += level;
        level *= 8;
    }
    CHECK_EQ(objtest_run_with_stack(SMALL_STACK, tree_thread, &job), 0);
    CHECK_EQ(job.live_built, nodes);
    CHECK_EQ(job.live_gc, gc);
    CHECK_EQ(job.live_plain, nodes - gc);
    CHECK_EQ(job.live_after, 0);
    CHECK_EQ(job.fin, nodes); /* every finalizer exactly once */
    printf("  tree of %zu nodes (8 children each, depth %d) freed\n", nodes, g_tree_depth);
}

/* ---- destroy callbacks that allocate --------------------------------------------------- */

typedef struct spawner {
    void *next; /* owned */
    size_t index;
    int generation; /* 0: part of the chain; 1: made by a destroy */
} spawner;

#define SURVIVOR_EVERY 1000
#define SUBCHAIN_EVERY 100
#define SUBCHAIN_LEN 10

static struct {
    rc_heap *h;
    size_t destroyed[2], made_in_destroy, temporaries, bad;
    void **survivors;
    size_t nsurvivors, cap;
} g_spawn;

static const rc_type spawner_type;

static void spawner_destroy(void *o) {
    spawner *s = o;
    if (s->generation < 0 || s->generation > 1 || rc_heap_of(o) != g_spawn.h) {
        g_spawn.bad++;
        return;
    }
    g_spawn.destroyed[s->generation]++;
    if (s->generation == 0) {
        /* 1. a temporary of the same type, made and dropped at once (it is
         *    destroyed inside this destroy, or deferred past the depth limit) */
        spawner *t = rc_new(g_spawn.h, &spawner_type, 0);
        if (t) {
            t->generation = 1;
            g_spawn.made_in_destroy++;
            rc_decref(t);
        }
        /* 2. now and then a whole new chain of links, dropped at once */
        if (s->index % SUBCHAIN_EVERY == 0) {
            void *sub = build_chain(g_spawn.h, &gc_link, SUBCHAIN_LEN);
            if (sub)
                g_spawn.temporaries += SUBCHAIN_LEN;
            rc_decref(sub);
        }
        /* 3. and now and then an object that outlives the whole drop */
        if (s->index % SURVIVOR_EVERY == 0 && g_spawn.nsurvivors < g_spawn.cap) {
            chainlink *keep = rc_new(g_spawn.h, &plain_link, 64);
            if (keep) {
                keep->index = s->index;
                memset(keep + 1, 0x3C, 64);
                g_spawn.survivors[g_spawn.nsurvivors++] = keep;
            }
        }
    }
    void *next = s->next;
    s->next = NULL;
    rc_decref(next);
}

static void spawner_traverse(void *o, rc_visit_fn visit, void *arg) {
    visit(((spawner *)o)->next, arg);
}

static const rc_type spawner_type = {.name = "spawner",
                                     .size = sizeof(spawner),
                                     .flags = RC_TYPE_GC,
                                     .traverse = spawner_traverse,
                                     .destroy = spawner_destroy};

typedef struct spawn_job {
    size_t len, live_after_drop, live_end, bad_survivor;
    int built;
} spawn_job;

static void *spawn_thread(void *arg) {
    spawn_job *job = arg;
    memset(&g_spawn, 0, sizeof g_spawn);
    g_spawn.h = test_heap_new(RC_MODE_POOL);
    if (!g_spawn.h)
        return NULL;
    g_spawn.cap = job->len / SURVIVOR_EVERY + 1;
    g_spawn.survivors = calloc(g_spawn.cap, sizeof(void *));
    if (!g_spawn.survivors) {
        rc_heap_destroy(g_spawn.h);
        return NULL;
    }
    spawner *head = NULL;
    for (size_t i = job->len; i-- > 0;) {
        spawner *s = rc_new(g_spawn.h, &spawner_type, 0);
        if (!s)
            break;
        s->next = head;
        s->index = i;
        head = s;
    }
    job->built = rc_live_objects(g_spawn.h) == job->len;
    rc_decref(head);
    job->live_after_drop = rc_live_objects(g_spawn.h);
    for (size_t i = 0; i < g_spawn.nsurvivors; i++) {
        chainlink *keep = g_spawn.survivors[i];
        if (rc_type_of(keep) != &plain_link || rc_refcount(keep) != 1 ||
            keep->index != i * SURVIVOR_EVERY || test_first_not(keep + 1, 64, 0x3C) != 64)
            job->bad_survivor++;
        rc_decref(keep);
    }
    job->live_end = rc_live_objects(g_spawn.h);
    free(g_spawn.survivors);
    rc_heap_destroy(g_spawn.h);
    return NULL;
}

static void test_destroy_allocates(void) {
    spawn_job job = {.len = g_chain_len / 10};
    CHECK_EQ(objtest_run_with_stack(SMALL_STACK, spawn_thread, &job), 0);
    CHECK(job.built);
    CHECK_EQ(g_spawn.bad, 0);
    CHECK_EQ(g_spawn.destroyed[0], job.len);
    CHECK_EQ(g_spawn.made_in_destroy, job.len);
    CHECK_EQ(g_spawn.destroyed[1], job.len); /* every temporary went */
    CHECK_EQ(g_spawn.temporaries, job.len / SUBCHAIN_EVERY * SUBCHAIN_LEN);
    CHECK_EQ(g_spawn.nsurvivors, job.len / SURVIVOR_EVERY);
    CHECK_EQ(job.live_after_drop, g_spawn.nsurvivors);
    CHECK_EQ(job.bad_survivor, 0);
    CHECK_EQ(job.live_end, 0);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    scale_sizes();
    RUN_TEST(test_plain_chain);
    RUN_TEST(test_gc_chain);
    RUN_TEST(test_chain_lengths);
    RUN_TEST(test_counted_chains);
    RUN_TEST(test_finalizers_drop_the_chain);
    RUN_TEST(test_mixed_chain);
    RUN_TEST(test_wide_tree);
    RUN_TEST(test_destroy_allocates);
    return check_summary();
}
