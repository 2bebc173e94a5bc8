/*
 * test_object_threads.c — objects on several threads: two threads, each with
 * its own heap, create and destroy a million objects at the same time (the
 * same static types registered in both heaps); and a heap whose objects are
 * made on one thread and dropped on another after rc_heap_claim.
 */
#include "objtest.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define OBJECTS_PER_THREAD 1000000

typedef struct counters {
    size_t made, finalized, destroyed, bad;
} counters;

/* Every object carries a pointer to its thread's counters (the callbacks are
 * shared by both threads; the counters are not). */
typedef struct tnode {
    counters *c;
    void *next; /* owned */
    uint64_t tag;
} tnode;

static void tnode_traverse(void *o, rc_visit_fn visit, void *arg) {
    visit(((tnode *)o)->next, arg);
}
static void tnode_finalize(void *o) {
    tnode *n = o;
    n->c->finalized++;
}
static void tnode_destroy(void *o) {
    tnode *n = o;
    if (n->tag != ((uint64_t)(uintptr_t)n ^ 0x5555u))
        n->c->bad++;
    n->c->destroyed++;
    void *next = n->next;
    n->next = NULL;
    rc_decref(next);
}

static const rc_type tnode_plain = {.name = "tnode",
                                    .size = sizeof(tnode),
                                    .traverse = tnode_traverse,
                                    .finalize = tnode_finalize,
                                    .destroy = tnode_destroy};
static const rc_type tnode_gc = {.name = "gctnode",
                                 .size = sizeof(tnode),
                                 .flags = RC_TYPE_GC,
                                 .traverse = tnode_traverse,
                                 .finalize = tnode_finalize,
                                 .destroy = tnode_destroy};

static tnode *make(rc_heap *h, counters *c, const rc_type *t, size_t extra) {
    tnode *n = rc_new(h, t, extra);
    if (!n)
        return NULL;
    n->c = c;
    n->tag = (uint64_t)(uintptr_t)n ^ 0x5555u;
    c->made++;
    return n;
}

typedef struct job {
    int id;
    rc_heap *heap; /* NULL: the thread makes its own */
    size_t objects;
    counters c;
    size_t wrong_heap, wrong_type, leftover, nulls, peak_live;
} job;

/* Objects come and go in a mix of shapes: singles, short chains, a window of
 * live objects replaced at random. */
static void *worker(void *arg) {
    job *j = arg;
    rc_heap *h = test_heap_new(RC_MODE_POOL);
    if (!h) {
        j->nulls++;
        return NULL;
    }
    enum { WINDOW = 1024 };
    tnode *window[WINDOW] = {0};
    test_rng r = test_rng_seed(0xC0FFEEu + (uint64_t)j->id);
    while (j->c.made < j->objects) {
        size_t what = test_rng_below(&r, 10);
        const rc_type *t = test_rng_below(&r, 2) ? &tnode_gc : &tnode_plain;
        size_t extra = test_rng_below(&r, 8) * 8;
        if (what < 6) { /* replace a window slot */
            size_t s = test_rng_below(&r, WINDOW);
            tnode *n = make(h, &j->c, t, extra);
            if (!n) {
                j->nulls++;
                break;
            }
            if (rc_heap_of(n) != h)
                j->wrong_heap++;
            if (rc_type_of(n) != t)
                j->wrong_type++;
            rc_decref(window[s]);
            window[s] = n;
        } else if (what < 9) { /* made and dropped at once */
            tnode *n = make(h, &j->c, t, extra);
            if (!n) {
                j->nulls++;
                break;
            }
            rc_decref(n);
        } else { /* a chain of 100, hung off a window slot's object */
            tnode *head = NULL;
            for (int k = 0; k < 100; k++) {
                tnode *n = make(h, &j->c, (k & 1) ? &tnode_gc : &tnode_plain, 0);
                if (!n)
                    break;
                n->next = head;
                head = n;
            }
            size_t s = test_rng_below(&r, WINDOW);
            if (window[s])
                rc_setref(&window[s]->next, head);
            rc_decref(head);
        }
        size_t live = rc_live_objects(h);
        if (live > j->peak_live)
            j->peak_live = live;
    }
    for (size_t s = 0; s < WINDOW; s++)
        rc_decref(window[s]);
    j->leftover = rc_live_objects(h);
    rc_heap_destroy(h);
    return NULL;
}

static void test_two_threads_two_heaps(void) {
    size_t n = OBJECTS_PER_THREAD;
    if (OBJTEST_ON_VALGRIND())
        n /= 10;
    job jobs[2];
    pthread_t th[2];
    memset(jobs, 0, sizeof jobs);
    int started[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        jobs[i].id = i;
        jobs[i].objects = n;
        started[i] = pthread_create(&th[i], NULL, worker, &jobs[i]) == 0;
        CHECK(started[i]);
    }
    for (int i = 0; i < 2; i++)
        if (started[i])
            pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++) {
        job *j = &jobs[i];
        CHECK_EQ(j->nulls, 0);
        CHECK_GE(j->c.made, n);
        CHECK_EQ(j->c.finalized, j->c.made);
        CHECK_EQ(j->c.destroyed, j->c.made);
        CHECK_EQ(j->c.bad, 0);
        CHECK_EQ(j->wrong_heap, 0);
        CHECK_EQ(j->wrong_type, 0);
        CHECK_EQ(j->leftover, 0);
        printf("  thread %d: %zu objects made and destroyed (at most %zu alive at once)\n", i,
               j->c.made, j->peak_live);
    }
}

/* ---- A heap handed to another thread ----------------------------------------------- */

typedef struct handoff {
    rc_heap *h;
    tnode *head;
    size_t live_after;
} handoff;

static void *take_over(void *arg) {
    handoff *ho = arg;
    rc_heap_claim(ho->h);
    rc_decref(ho->head);
    ho->live_after = rc_live_objects(ho->h);
    return NULL;
}

static void test_handoff(void) {
    /* debug mode checks that frees come from the heap's owner */
    rc_heap *h = test_heap_new(RC_MODE_DEBUG);
    if (!CHECK_NOT_NULL(h))
        return;
    counters c = {0};
    tnode *head = NULL;
    for (int k = 0; k < 10000; k++) {
        tnode *n = make(h, &c, (k & 1) ? &tnode_gc : &tnode_plain, (size_t)(k % 5) * 16);
        if (!CHECK_NOT_NULL(n))
            break;
        n->next = head;
        head = n;
    }
    handoff ho = {h, head, 99};
    pthread_t th;
    if (CHECK_EQ(pthread_create(&th, NULL, take_over, &ho), 0))
        pthread_join(th, NULL);
    CHECK_EQ(ho.live_after, 0);
    CHECK_EQ(c.destroyed, c.made);
    CHECK_EQ(c.finalized, c.made);
    CHECK_EQ(c.bad, 0);
    rc_heap_claim(h); /* back to this thread, which destroys it */
    void *again = make(h, &c, &tnode_gc, 0);
    CHECK_NOT_NULL(again);
    rc_decref(again);
    CHECK_EQ(rc_live_objects(h), 0);
    rc_heap_destroy(h);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_two_threads_two_heaps);
    RUN_TEST(test_handoff);
    return check_summary();
}
