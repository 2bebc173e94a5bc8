/*
 * tests/gc/test_gc_fuzz.c — a randomized regression test of the cycle
 * collector against a model kept by the test itself.
 *
 * Each seed drives one heap through thousands of random steps over nodes
 * of five types of our own: traverse only, traverse and refs (the
 * collector's array loop; NULL entries allowed), each of these with a
 * finalizer that may resurrect its object, and an RC_TYPE_UNTRACKED type.
 * The steps make nodes, self references and duplicate edges, edit edges,
 * take and drop roots, build binary trees top-down and bottom-up, rings,
 * chains both ways and batches of more than 64 externally held objects;
 * they untrack and track, make objects immortal, freeze and unfreeze, make
 * and drop weakrefs with and without callbacks, collect generations 0, 1
 * and 2 (now and then with RC_GC_DEBUG_SAVEALL, emptying the garbage list
 * after), and switch automatic collection on and off; with small
 * thresholds most collections are automatic.
 *
 * The oracle is independent of the collector: the test knows every edge,
 * every reference it holds (its roots) and the generation each object must
 * be in (new objects in 0, survivors of a collection of generation g in
 * min(g + 1, 2), frozen ones in 3, unfrozen ones in 2).  A START callback
 * sees every collection, explicit or automatic, and computes from that
 * model what it must find: the unreachable nodes of the generations
 * collected (reachability from the roots, the garbage list, immortal nodes
 * and every object outside those generations), less what resurrecting
 * finalizers make reachable again.  The STOP callback checks the count
 * found (also rc_gc_collect's result), that nothing reachable was
 * destroyed, that the garbage was freed (or kept in the garbage list under
 * SAVEALL), and that weakrefs to it were cleared, their callbacks run once.
 * START also checks that an automatic collection happens exactly when the
 * allocation count passes threshold 0, in the generation CPython's rule
 * picks (the 25% rule included), and rc_gc_get_count.
 *
 * Every few steps the whole state is compared through the public API:
 * rc_gc_get_objects lists each tracked object exactly once, in the
 * generation the model says; rc_gc_generation_size, rc_gc_freeze_count,
 * rc_gc_is_tracked, rc_refcount (the edges and roots counted by the test),
 * rc_is_immortal, rc_gc_is_finalized, rc_weakref_get, rc_live_objects,
 * rc_gc_get_count and rc_gc_get_stats.
 *
 * Why: the collector has fast paths (proof by scan order, the quick proof
 * with its table of at most 64 taken roots, the refs loop) whose mistakes
 * show only on some shapes and orders; hand-written tests cover the shapes
 * someone thought of.  The STATS output tells which way each explicit collection
 * settled reachability, and the test checks that all three ways ran.
 *
 * Seeds are fixed, so a failure is reproducible; it names the seed and the
 * step, and the seed stops there.  3000 steps per seed, 750 under ASan
 * (gct_scale), 1000 under valgrind.  The model's checks count failures
 * only (passes would be hundreds of millions); each seed counts as one
 * check.  What this test does not see (header bits, the collector's
 * old_count) shows up in later collections anyway.
 */
#include "gctest.h"

/* ---- Nodes ------------------------------------------------------------------------- */

#define NSLOTS 5

typedef struct fnode {
    void *ref[NSLOTS]; /* owned; only ref[0..ns) are ever set */
    int ns;            /* slots traverse and refs report (NULLs included) */
    int id;            /* index in the registry */
    int resurrect;     /* the finalizer makes a new root to its object */
    int fin_calls;
} fnode;

static void fn_traverse(void *o, rc_visit_fn visit, void *arg) {
    fnode *n = o;
    for (int i = 0; i < n->ns; i++)
        visit(n->ref[i], arg); /* NULLs too: the collector must skip them */
}

static rc_refs fn_refs(const void *o) {
    const fnode *n = o;
    return (rc_refs){(void *const *)n->ref, (size_t)n->ns};
}

static void fn_clear(void *o) {
    fnode *n = o;
    for (int i = 0; i < NSLOTS; i++) {
        void *r = n->ref[i];
        n->ref[i] = NULL;
        rc_decref(r);
    }
}

static void fn_destroy(void *o);
static void fn_finalize(void *o);

static const rc_type f_trav = {.name = "trav", .size = sizeof(fnode), .flags = RC_TYPE_GC,
                               .traverse = fn_traverse, .clear = fn_clear,
                               .destroy = fn_destroy};
static const rc_type f_refs = {.name = "refs", .size = sizeof(fnode), .flags = RC_TYPE_GC,
                               .traverse = fn_traverse, .refs = fn_refs, .clear = fn_clear,
                               .destroy = fn_destroy};
static const rc_type f_fin = {.name = "fin", .size = sizeof(fnode), .flags = RC_TYPE_GC,
                              .traverse = fn_traverse, .clear = fn_clear,
                              .finalize = fn_finalize, .destroy = fn_destroy};
static const rc_type f_finrefs = {.name = "finrefs", .size = sizeof(fnode), .flags = RC_TYPE_GC,
                                  .traverse = fn_traverse, .refs = fn_refs, .clear = fn_clear,
                                  .finalize = fn_finalize, .destroy = fn_destroy};
static const rc_type f_untr = {.name = "untr", .size = sizeof(fnode),
                               .flags = RC_TYPE_GC | RC_TYPE_UNTRACKED,
                               .traverse = fn_traverse, .refs = fn_refs, .clear = fn_clear,
                               .destroy = fn_destroy};
static const rc_type *const ftypes[] = {&f_trav, &f_refs, &f_fin, &f_finrefs, &f_untr};

static int is_fnode(const void *o) {
    const rc_type *t = rc_type_of(o);
    for (size_t i = 0; i < sizeof ftypes / sizeof *ftypes; i++)
        if (t == ftypes[i])
            return 1;
    return 0;
}

/* ---- The model ---------------------------------------------------------------------- */

static rc_heap *H;
static test_rng rng;
static unsigned seed_now;
static long step_now;

/* A check of the model; only failures are counted (the millions of passes
 * would cost more than the rest of the test): each seed then counts one
 * check passed or failed as a whole. */
#define FZ(cond, fmt, ...) \
    ((cond) ? 1 : CHECK_MSG(0, "seed %u step %ld: " fmt, seed_now, step_now, __VA_ARGS__))

static size_t rn(size_t n) { return n ? test_rng_below(&rng, n) : 0; }

/* Every node made in this seed, by id (dead ones stay, with alive 0). */
static fnode **reg;
static signed char *gen;           /* -1 untracked, 0..2, 3 permanent */
static unsigned char *alive, *immortal;
static unsigned char *in_s, *in_g, *reach_r, *must_live, *expect_free, *surv;
static int nreg, capreg, nlive;

/* The test's own references (a node may appear several times). */
static fnode **roots;
static int nroots, caproots;

/* Weakrefs, by record (index stable; its callback's arg). */
typedef struct wrec {
    void *w;      /* the weakref (NULL once dropped) */
    int target;   /* node id; -1 once the node died and the registry was compacted */
    int has_cb;
    int cb_calls;
    int cleared;  /* the model says it must be cleared */
    int gen;
} wrec;
static wrec *wr;
static int nwr, capwr;
static int *wlive; /* records of the weakrefs still held */
static int nwlive;

/* Collector state as the documentation describes it. */
static long cnt[RC_GC_GENERATIONS], thr[RC_GC_GENERATIONS];
static int enabled;
static size_t long_lived; /* survivors of the last full collection */
static size_t st_coll[RC_GC_GENERATIONS], st_found[RC_GC_GENERATIONS];

/* The collection running. */
static int in_coll, coll_gen, saveall, explicit_gen = -1;
static long expected_found, last_found;
static size_t garbage_before;
static int in_alloc, alloc_expect_auto, auto_seen;

/* Per seed: finalizers at all (their absence takes other paths), and the
 * generation of every explicit collection (-1: random). */
static int use_fin, gmode;

/* How explicit collections settled reachability, over all seeds. */
enum { MARKED, FIRST_PASS, QUICK, ALL_GARBAGE };
static long how_count[4];
static long collections_seen;

static int *stack_, capstack;
static int *tmp, captmp;

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return q;
}

static void push_root(fnode *n) {
    if (nroots == caproots) {
        caproots = caproots ? 2 * caproots : 256;
        roots = xrealloc(roots, (size_t)caproots * sizeof *roots);
    }
    roots[nroots++] = n;
}

static void drop_root(int k) {
    fnode *n = roots[k];
    roots[k] = roots[--nroots];
    rc_decref(n);
}

static void drop_root_of(fnode *n) {
    for (int r = nroots - 1; r >= 0; r--)
        if (roots[r] == n) {
            drop_root(r);
            return;
        }
    FZ(0, "test bug: node %d has no root", n->id);
}

static void count_death(void) { cnt[0] -= cnt[0] > 0; }

static void fn_destroy(void *o) {
    fnode *n = o;
    FZ(alive[n->id] == 1, "node %d destroyed twice", n->id);
    FZ(!in_coll || !must_live[n->id], "collection of generation %d freed reachable node %d",
       coll_gen, n->id);
    FZ(!immortal[n->id], "immortal node %d destroyed", n->id);
    alive[n->id] = 0;
    nlive--;
    count_death();
    fn_clear(o);
}

static void fn_finalize(void *o) {
    fnode *n = o;
    n->fin_calls++;
    FZ(n->fin_calls == 1, "node %d finalized %d times", n->id, n->fin_calls);
    if (n->resurrect) {
        n->resurrect = 0;
        rc_incref(n);
        push_root(n);
    }
}

static void wcb(void *w, void *arg) {
    int k = (int)(intptr_t)arg;
    FZ(k >= 0 && k < nwr && wr[k].w == w, "callback with a wrong weakref (%d)", k);
    if (!(k >= 0 && k < nwr))
        return;
    wr[k].cb_calls++;
    FZ(wr[k].has_cb && wr[k].cb_calls == 1, "weakref %d: callback run %d times", k,
       wr[k].cb_calls);
    void *t = rc_weakref_get(w);
    FZ(t == NULL, "weakref %d set during its callback", k);
    rc_decref(t);
}

/* An allocation of a container: the count goes up first, and a collection
 * is due exactly when it passes threshold 0 (automatic collection on). */
static void before_alloc(void) {
    cnt[0]++;
    alloc_expect_auto = enabled && thr[0] > 0 && cnt[0] > thr[0];
    auto_seen = 0;
    in_alloc = 1;
}

static void after_alloc(void) {
    in_alloc = 0;
    FZ(auto_seen == alloc_expect_auto, "allocation with count %ld (threshold %ld): %d "
       "collections", cnt[0], thr[0], auto_seen);
}

static fnode *node_new(void) {
    const rc_type *t = ftypes[rn(100) < 5 ? 4 : rn(use_fin ? 4 : 2)];
    before_alloc();
    fnode *n = rc_new(H, t, 0);
    after_alloc();
    if (!n) {
        fprintf(stderr, "rc_new failed\n");
        exit(2);
    }
    if (nreg == capreg) {
        capreg = capreg ? 2 * capreg : 1024;
        reg = xrealloc(reg, (size_t)capreg * sizeof *reg);
#define GROW(a) a = xrealloc(a, (size_t)capreg)
        GROW(gen); GROW(alive); GROW(immortal); GROW(in_s); GROW(in_g); GROW(reach_r);
        GROW(must_live); GROW(expect_free); GROW(surv);
#undef GROW
    }
    n->ns = (int)rn(NSLOTS + 1);
    if (n->ns == 0 && rn(2))
        n->ns = 1;
    n->id = nreg;
    reg[nreg] = n;
    gen[nreg] = (t->flags & RC_TYPE_UNTRACKED) ? -1 : 0;
    alive[nreg] = 1;
    immortal[nreg] = in_s[nreg] = in_g[nreg] = reach_r[nreg] = 0;
    must_live[nreg] = expect_free[nreg] = surv[nreg] = 0;
    nreg++;
    nlive++;
    push_root(n);
    return n;
}

/* A live node, most often a recent one. */
static fnode *rand_alive(void) {
    if (!nreg)
        return NULL;
    for (int k = 0; k < 20; k++) {
        int i = nreg - 1 - (int)rn(rn(3) ? (nreg < 300 ? (size_t)nreg : 300) : (size_t)nreg);
        if (alive[i])
            return reg[i];
    }
    return NULL;
}

/* mark[] |= everything reachable from start[0..nstart). */
static void reach(unsigned char *mark, int nstart, const int *start) {
    if (capstack < nreg + 16) {
        capstack = 2 * nreg + 16;
        stack_ = xrealloc(stack_, (size_t)capstack * sizeof *stack_);
    }
    int sp = 0;
    for (int i = 0; i < nstart; i++)
        if (!mark[start[i]]) {
            mark[start[i]] = 1;
            stack_[sp++] = start[i];
        }
    while (sp) {
        fnode *n = reg[stack_[--sp]];
        for (int i = 0; i < n->ns; i++) {
            fnode *c = n->ref[i];
            if (c && !mark[c->id]) {
                mark[c->id] = 1;
                stack_[sp++] = c->id;
            }
        }
    }
}

static void grow_tmp(int need) {
    if (captmp < need) {
        captmp = 2 * need + 16;
        tmp = xrealloc(tmp, (size_t)captmp * sizeof *tmp);
    }
}

/* Objects the model puts in each generation (nodes and weakrefs). */
static void model_gen_sizes(size_t out[RC_GC_GENERATIONS + 1]) {
    size_t c[RC_GC_GENERATIONS + 2] = {0}; /* c[0]: untracked */
    for (int i = 0; i < nreg; i++)
        c[gen[i] + 1] += alive[i];
    for (int k = 0; k < nwlive; k++)
        c[wr[wlive[k]].gen + 1]++;
    for (int g = 0; g <= RC_GC_GENERATIONS; g++)
        out[g] = c[g + 1];
}

static int wtarget_alive(const wrec *w) { return w->target >= 0 && alive[w->target]; }

/* Renumber the live nodes 0..nlive-1, forgetting the dead (outside
 * collections, when most of the registry is dead: it keeps the model's
 * passes proportional to the live nodes). */
static void compact_registry(void) {
    int *map = xrealloc(NULL, (size_t)nreg * sizeof *map);
    int j = 0;
    for (int i = 0; i < nreg; i++) {
        map[i] = -1;
        if (!alive[i])
            continue;
        map[i] = j;
        reg[j] = reg[i];
        reg[j]->id = j;
        gen[j] = gen[i];
        immortal[j] = immortal[i];
        alive[j] = 1;
        j++;
    }
    for (int k = 0; k < nwlive; k++) {
        wrec *w = &wr[wlive[k]];
        if (w->target >= 0 && map[w->target] < 0)
            w->cleared = 1;
        w->target = w->target >= 0 ? map[w->target] : -1;
    }
    nreg = j;
    free(map);
}

static void gc_start(rc_heap *h, int g) {
    FZ(!in_coll, "collection of generation %d inside another", g);
    if (explicit_gen >= 0) {
        FZ(g == explicit_gen, "rc_gc_collect(%d) collected generation %d", explicit_gen, g);
    } else {
        FZ(in_alloc, "automatic collection of generation %d outside an allocation", g);
        FZ(alloc_expect_auto, "automatic collection with count %ld, threshold %ld", cnt[0],
           thr[0]);
        auto_seen++;
        /* The oldest generation whose count passed its threshold; generation
         * 2 only once the objects awaiting it are 25% of the long-lived. */
        size_t sizes[RC_GC_GENERATIONS + 1];
        model_gen_sizes(sizes);
        size_t g2 = sizes[2];
        size_t pending = g2 > long_lived ? g2 - long_lived : 0;
        int want = -1;
        for (int i = RC_GC_GENERATIONS - 1; i >= 0 && want < 0; i--)
            if (cnt[i] > thr[i] && !(i == 2 && pending < long_lived / 4))
                want = i;
        FZ(g == want, "automatic collection of generation %d, expected %d (counts %ld %ld %ld)",
           g, want, cnt[0], cnt[1], cnt[2]);
    }
    long c[RC_GC_GENERATIONS];
    rc_gc_get_count(h, c);
    for (int i = 0; i < RC_GC_GENERATIONS; i++)
        FZ(c[i] == cnt[i], "count %d is %ld at a collection, expected %ld", i, c[i], cnt[i]);
    if (g + 1 < RC_GC_GENERATIONS)
        cnt[g + 1]++;
    for (int i = 0; i <= g; i++)
        cnt[i] = 0;

    coll_gen = g;
    saveall = (rc_gc_get_debug(h) & RC_GC_DEBUG_SAVEALL) != 0;
    size_t ng = rc_gc_garbage_count(h);
    garbage_before = ng;
    grow_tmp(nreg + nroots + (int)ng + 16);
    long ns = 0;
    for (int i = 0; i < nreg; i++) {
        in_s[i] = alive[i] && gen[i] >= 0 && gen[i] <= g;
        ns += in_s[i];
        in_g[i] = reach_r[i] = must_live[i] = expect_free[i] = surv[i] = 0;
    }
    for (int k = 0; k < nwlive; k++)
        ns += wr[wlive[k]].gen >= 0 && wr[wlive[k]].gen <= g;
    /* What truly holds nodes: the roots, the garbage list, immortality. */
    int nt = 0;
    for (int i = 0; i < nroots; i++)
        tmp[nt++] = roots[i]->id;
    for (size_t i = 0; i < ng; i++) {
        void *o = rc_gc_garbage_get(h, i);
        if (is_fnode(o))
            tmp[nt++] = ((fnode *)o)->id;
    }
    for (int i = 0; i < nreg; i++)
        if (alive[i] && immortal[i])
            tmp[nt++] = i;
    reach(must_live, nt, tmp);
    /* What the collector must take for reachable: that, and everything
     * outside the generations collected (untracked, older, frozen). */
    memcpy(reach_r, must_live, (size_t)nreg);
    nt = 0;
    for (int i = 0; i < nreg; i++)
        if (alive[i] && !in_s[i])
            tmp[nt++] = i;
    reach(reach_r, nt, tmp);
    long n_g = 0;
    int nres = 0;
    for (int i = 0; i < nreg; i++)
        if (in_s[i] && !reach_r[i]) {
            in_g[i] = 1;
            n_g++;
            fnode *n = reg[i];
            if (rc_type_of(n)->finalize && n->fin_calls == 0 && n->resurrect)
                tmp[nres++] = i;
        }
    reach(surv, nres, tmp); /* resurrected, with all they reach */
    long n_surv = 0;
    for (int i = 0; i < nreg; i++) {
        n_surv += surv[i] && in_g[i];
        if (surv[i] || (in_g[i] && saveall))
            must_live[i] = 1;
        if (in_g[i] && !surv[i] && !saveall)
            expect_free[i] = 1;
    }
    expected_found = n_g - n_surv;
    if (g == RC_GC_GENERATIONS - 1)
        long_lived = (size_t)(ns - n_g);
    in_coll = 1;
}

static void gc_stop(rc_heap *h, const rc_gc_info *info) {
    int g = info->generation;
    in_coll = 0;
    collections_seen++;
    long found = (long)(info->collected + info->uncollectable);
    last_found = found;
    FZ(g == coll_gen, "STOP for generation %d after START for %d", g, coll_gen);
    FZ(found == expected_found, "collection of generation %d found %ld, expected %ld (saveall %d)",
       g, found, expected_found, saveall);
    FZ(info->uncollectable == 0, "%zu uncollectable (every type has clear)", info->uncollectable);
    st_coll[g]++;
    st_found[g] += (size_t)found;
    if (saveall) { /* what was found went to the garbage list, after what was there */
        size_t ng = rc_gc_garbage_count(h), saved = 0;
        FZ(ng == garbage_before + (size_t)found, "SAVEALL: garbage list grew from %zu to %zu, "
           "%ld found", garbage_before, ng, found);
        for (size_t i = garbage_before; i < ng; i++) {
            void *o = rc_gc_garbage_get(h, i);
            saved += is_fnode(o) && in_g[((fnode *)o)->id] && !surv[((fnode *)o)->id];
        }
        FZ(saved == (size_t)expected_found, "SAVEALL: %zu of the %ld garbage nodes saved", saved,
           expected_found);
    }
    int up = g + 1 < RC_GC_GENERATIONS ? g + 1 : g;
    for (int i = 0; i < nreg; i++) {
        FZ(!(expect_free[i] && alive[i]), "collection of generation %d kept garbage node %d", g,
           i);
        FZ(!(must_live[i] && !alive[i]), "collection of generation %d freed reachable node %d", g,
           i);
        if (in_s[i] && alive[i])
            gen[i] = (signed char)up;
    }
    for (int k = 0; k < nwlive; k++) {
        wrec *w = &wr[wlive[k]];
        if (w->target >= 0 && in_g[w->target])
            w->cleared = 1; /* before finalizers: resurrection does not set it again */
        if (w->gen >= 0 && w->gen <= g)
            w->gen = up;
    }
    for (int i = 0; i < nreg; i++)
        in_s[i] = in_g[i] = must_live[i] = expect_free[i] = 0;
}

static void on_gc(rc_heap *h, rc_gc_phase phase, const rc_gc_info *info, void *arg) {
    (void)arg;
    if (phase == RC_GC_START)
        gc_start(h, info->generation);
    else
        gc_stop(h, info);
}

/* ---- The state compared through the public API ----------------------------------------- */

static int *seen;
static int capseen;
static int list_gen;
static void **wsorted; /* live weakrefs, sorted, for the listing */
static int *wsorted_rec;
static int *wseen;

static int cmp_ptr(const void *a, const void *b) {
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return x < y ? -1 : x > y;
}

static void list_fn(void *o, void *arg) {
    (void)arg;
    if (is_fnode(o)) {
        fnode *n = o;
        FZ(n->id >= 0 && n->id < nreg && alive[n->id], "generation %d lists a dead node", list_gen);
        seen[n->id]++;
        FZ(gen[n->id] == list_gen, "node %d listed in generation %d, model says %d", n->id,
           list_gen, gen[n->id]);
        return;
    }
    FZ(rc_type_of(o) == &rc_weakref_type, "generation %d lists an unknown object", list_gen);
    void **p = bsearch(&o, wsorted, (size_t)nwlive, sizeof *wsorted, cmp_ptr);
    FZ(p != NULL, "generation %d lists a weakref the test dropped", list_gen);
    if (p) {
        wrec *w = &wr[wsorted_rec[p - wsorted]];
        wseen[p - wsorted]++;
        FZ(w->gen == list_gen, "weakref listed in generation %d, model says %d", list_gen, w->gen);
    }
}

static void check_state(void) {
    if (capseen < capreg) {
        capseen = capreg;
        seen = xrealloc(seen, (size_t)capseen * sizeof *seen);
    }
    memset(seen, 0, (size_t)nreg * sizeof *seen);
    /* weakrefs, sorted by address, their records alongside */
    wsorted = xrealloc(wsorted, (size_t)(nwlive + 1) * sizeof *wsorted);
    wsorted_rec = xrealloc(wsorted_rec, (size_t)(nwlive + 1) * sizeof *wsorted_rec);
    wseen = xrealloc(wseen, (size_t)(nwlive + 1) * sizeof *wseen);
    for (int k = 0; k < nwlive; k++)
        wsorted[k] = wr[wlive[k]].w;
    qsort(wsorted, (size_t)nwlive, sizeof *wsorted, cmp_ptr);
    for (int k = 0; k < nwlive; k++) {
        wseen[k] = 0;
        for (int j = 0; j < nwlive; j++)
            if (wr[wlive[j]].w == wsorted[k])
                wsorted_rec[k] = wlive[j];
    }

    size_t total = 0, sizes[RC_GC_GENERATIONS + 1];
    model_gen_sizes(sizes);
    for (int g = 0; g <= RC_GC_GENERATIONS; g++) {
        list_gen = g;
        intptr_t c = rc_gc_get_objects(H, g, list_fn, NULL);
        size_t want = sizes[g];
        FZ(c == (intptr_t)want, "generation %d lists %ld objects, model says %zu", g, (long)c,
           want);
        FZ(rc_gc_generation_size(H, g) == want, "generation %d has size %zu, model says %zu", g,
           rc_gc_generation_size(H, g), want);
        total += want;
    }
    FZ(rc_gc_freeze_count(H) == sizes[3], "freeze count %zu", rc_gc_freeze_count(H));
    {
        gct_find f = {NULL, 0, 0};
        FZ(rc_gc_get_objects(H, -1, gct_find_fn, &f) == (intptr_t)total && f.seen == total,
           "all generations list %zu objects, expected %zu", f.seen, total);
    }
    for (int k = 0; k < nwlive; k++)
        FZ(wseen[k] == 1, "weakref listed %d times", wseen[k]);

    /* refcounts: the test's roots, the nodes' slots, the garbage list */
    int *rc = calloc((size_t)nreg + 1, sizeof *rc);
    if (!rc)
        exit(2);
    for (int i = 0; i < nroots; i++) {
        FZ(alive[roots[i]->id], "root %d: node %d was freed", i, roots[i]->id);
        rc[roots[i]->id]++;
    }
    for (size_t i = 0; i < rc_gc_garbage_count(H); i++) {
        void *o = rc_gc_garbage_get(H, i);
        FZ(is_fnode(o), "garbage entry %zu is not a node", i);
        if (is_fnode(o))
            rc[((fnode *)o)->id]++;
    }
    size_t nalive = 0;
    for (int i = 0; i < nreg; i++) {
        if (!alive[i])
            continue;
        nalive++;
        fnode *n = reg[i];
        for (int k = 0; k < n->ns; k++)
            if (n->ref[k]) {
                int c = ((fnode *)n->ref[k])->id;
                FZ(alive[c], "node %d refers to freed node %d", i, c);
                rc[c]++;
            }
    }
    for (int i = 0; i < nreg; i++) {
        if (!alive[i])
            continue;
        fnode *n = reg[i];
        int tracked = rc_gc_is_tracked(n);
        FZ(tracked == (gen[i] >= 0), "node %d: tracked %d, model generation %d", i, tracked,
           gen[i]);
        FZ(seen[i] == tracked, "node %d (tracked %d) listed %d times", i, tracked, seen[i]);
        if (immortal[i])
            FZ(rc_is_immortal(n), "node %d lost its immortality", i);
        else
            FZ(rc_refcount(n) == rc[i], "node %d: refcount %ld, the test counts %d", i,
               (long)rc_refcount(n), rc[i]);
        if (rc_type_of(n)->finalize)
            FZ(rc_gc_is_finalized(n) == (n->fin_calls > 0), "node %d: finalized %d, %d calls", i,
               rc_gc_is_finalized(n), n->fin_calls);
    }
    free(rc);

    for (int k = 0; k < nwlive; k++) {
        wrec *w = &wr[wlive[k]];
        int id = w->target;
        int cleared = w->cleared || !wtarget_alive(w);
        void *t = rc_weakref_get(w->w);
        FZ((t == NULL) == cleared, "weakref %d to node %d: target %p, model cleared %d", wlive[k],
           id, t, cleared);
        FZ(t == NULL || (id >= 0 && t == reg[id]), "weakref %d has a wrong target", wlive[k]);
        FZ(w->cb_calls == (cleared && w->has_cb), "weakref %d: %d callbacks (cleared %d)",
           wlive[k], w->cb_calls, cleared);
        rc_decref(t);
    }
    FZ(nalive == (size_t)nlive, "%zu nodes alive, %d counted", nalive, nlive);
    FZ(rc_live_objects(H) == nalive + (size_t)nwlive, "%zu live objects, model says %zu",
       rc_live_objects(H), nalive + (size_t)nwlive);

    long c[RC_GC_GENERATIONS];
    rc_gc_get_count(H, c);
    rc_gc_gen_stats st[RC_GC_GENERATIONS];
    rc_gc_get_stats(H, st);
    for (int i = 0; i < RC_GC_GENERATIONS; i++) {
        FZ(c[i] == cnt[i], "count %d is %ld, model says %ld", i, c[i], cnt[i]);
        FZ(st[i].collections == st_coll[i] && st[i].collected + st[i].uncollectable == st_found[i],
           "generation %d stats: %zu collections found %zu, model %zu found %zu", i,
           st[i].collections, st[i].collected + st[i].uncollectable, st_coll[i], st_found[i]);
    }
}

/* ---- Steps --------------------------------------------------------------------------- */

/* A binary tree of depth d, nodes made before their children (top-down)
 * or after them (bottom-up); returns its top, held by the last root. */
static fnode *tree(int d, int bottom_up) {
    fnode *n = NULL, *kids[2] = {NULL, NULL};
    if (!bottom_up)
        n = node_new();
    if (d > 0)
        for (int k = 0; k < 2; k++)
            kids[k] = tree(d - 1, bottom_up);
    if (bottom_up)
        n = node_new();
    if (n->ns < 2)
        n->ns = 2;
    for (int k = 0; k < 2; k++)
        if (kids[k]) {
            rc_setref(&n->ref[k], kids[k]);
            drop_root_of(kids[k]);
        }
    return n;
}

/* rc_gc_collect(H, g) (with SAVEALL one time in 30 if `may_saveall`),
 * noting how it settled reachability; then the whole state is checked
 * (every other time, unless `check_always`). */
static FILE *stats_out; /* the STATS output of one collection */

static void collect_explicit(int g, int may_saveall, int check_always) {
    int sa = may_saveall && rn(30) == 0;
    FILE *f = stats_out;
    rewind(f);
    if (ftruncate(fileno(f), 0) != 0) {
        fprintf(stderr, "ftruncate failed\n");
        exit(2);
    }
    rc_gc_set_debug(H, RC_GC_DEBUG_STATS | (sa ? RC_GC_DEBUG_SAVEALL : 0u), f);
    explicit_gen = g;
    intptr_t r = rc_gc_collect(H, g);
    explicit_gen = -1;
    rc_gc_set_debug(H, 0, NULL);
    FZ(r == last_found, "rc_gc_collect(%d) returned %ld, its STOP callback was told %ld", g,
       (long)r, last_found);
    const char *out = gct_read_file(f);
    how_count[strstr(out, "(first pass)")                     ? FIRST_PASS
              : strstr(out, "(quick proof)")                  ? QUICK
              : strstr(out, "unreachable, found by the first") ? ALL_GARBAGE
                                                                : MARKED]++;
    if (check_always || rn(2))
        check_state();
    if (sa && rn(2))
        rc_gc_garbage_clear(H);
}

/* Every root and every weakref the test holds, dropped. */
static void drop_every_root(void) {
    while (nroots)
        drop_root(nroots - 1);
    while (nwlive) {
        wrec *w = &wr[wlive[--nwlive]];
        rc_decref(w->w);
        w->w = NULL;
        count_death();
    }
}

static void step(void) {
    size_t op = rn(100);
    if (op < 20) { /* a node, perhaps stored in another */
        fnode *n = node_new();
        fnode *a = rand_alive();
        if (a && a->ns && rn(2)) {
            rc_setref(&a->ref[rn((size_t)a->ns)], n);
            if (rn(3))
                drop_root_of(n);
        }
    } else if (op < 45) { /* an edge: to NULL, to itself, to another */
        fnode *a = rand_alive();
        if (!a || !a->ns)
            return;
        size_t r = rn(10);
        void *b = r == 0 ? NULL : r == 1 ? (void *)a : (void *)rand_alive();
        rc_setref(&a->ref[rn((size_t)a->ns)], b);
    } else if (op < 55) {
        if (nroots)
            drop_root((int)rn((size_t)nroots));
    } else if (op < 60) {
        fnode *a = rand_alive();
        if (a) {
            rc_incref(a);
            push_root(a);
        }
    } else if (op < 64) {
        tree((int)rn(6), (int)rn(2));
        if (rn(2))
            drop_root(nroots - 1);
    } else if (op < 68) { /* a ring of 1..8 */
        int len = 1 + (int)rn(8);
        fnode *first = node_new(), *prev = first;
        if (!first->ns)
            first->ns = 1;
        for (int i = 1; i < len; i++) {
            fnode *m = node_new();
            if (!m->ns)
                m->ns = 1;
            rc_setref(&prev->ref[0], m);
            drop_root_of(m);
            prev = m;
        }
        rc_setref(&prev->ref[0], first);
        if (rn(3))
            drop_root_of(first);
    } else if (op < 70) {
        fnode *a = rand_alive();
        if (a) {
            if (rc_gc_is_tracked(a)) {
                rc_gc_untrack(a);
                gen[a->id] = -1;
            } else {
                rc_gc_track(a);
                gen[a->id] = 0;
            }
        }
    } else if (op < 71) {
        fnode *a = rand_alive();
        if (a && !immortal[a->id] && rn(4) == 0) {
            rc_make_immortal(a);
            immortal[a->id] = 1;
        }
    } else if (op < 72) {
        if (rn(3) == 0) {
            if (rn(2)) {
                rc_gc_freeze(H);
                for (int i = 0; i < nreg; i++)
                    if (alive[i] && gen[i] >= 0)
                        gen[i] = 3;
                for (int k = 0; k < nwlive; k++)
                    wr[wlive[k]].gen = 3;
                cnt[0] = 0; /* as CPython's gc.freeze() */
            } else {
                rc_gc_unfreeze(H);
                for (int i = 0; i < nreg; i++)
                    if (alive[i] && gen[i] == 3)
                        gen[i] = 2;
                for (int k = 0; k < nwlive; k++)
                    if (wr[wlive[k]].gen == 3)
                        wr[wlive[k]].gen = 2;
            }
        }
    } else if (op < 76) { /* a weakref, with or without callback */
        fnode *a = rand_alive();
        if (a) {
            if (nwr == capwr) {
                capwr = capwr ? 2 * capwr : 64;
                wr = xrealloc(wr, (size_t)capwr * sizeof *wr);
                wlive = xrealloc(wlive, (size_t)capwr * sizeof *wlive);
            }
            int k = nwr++;
            int cb = (int)rn(2);
            wr[k] = (wrec){NULL, a->id, cb, 0, 0, 0};
            rc_incref(a); /* held across rc_weakref_new, which may collect */
            push_root(a);
            before_alloc();
            void *w = rc_weakref_new(a, cb ? wcb : NULL, (void *)(intptr_t)k);
            after_alloc();
            if (!w) {
                fprintf(stderr, "rc_weakref_new failed\n");
                exit(2);
            }
            wr[k].w = w;
            wlive[nwlive++] = k;
            drop_root_of(a);
        }
    } else if (op < 78) {
        if (nwlive) {
            int j = (int)rn((size_t)nwlive);
            wrec *w = &wr[wlive[j]];
            wlive[j] = wlive[--nwlive];
            rc_decref(w->w);
            w->w = NULL;
            count_death();
        }
    } else if (op < 80) {
        fnode *a = rand_alive();
        if (a && rc_type_of(a)->finalize)
            a->resurrect = 1;
    } else if (op < 90) {
        collect_explicit(gmode >= 0 ? gmode : (int)rn(3), 1, 0);
    } else if (op < 91) {
        size_t what = rn(3);
        if (what == 0) {
            rc_gc_garbage_clear(H);
        } else if (what == 1) {
            /* every root and weakref dropped, then a collection: all of
             * its set is garbage, unless frozen, immortal or older objects
             * (or the garbage list) still reach some (gc.c, "All garbage") */
            drop_every_root();
            collect_explicit(gmode >= 0 ? gmode : (int)rn(3), 0, 1);
        } else { /* more than 64 externally held objects, some linked */
            int k = 65 + (int)rn(150);
            for (int i = 0; i < k; i++) {
                fnode *m = node_new();
                fnode *a = rand_alive();
                if (a && a->ns && rn(4) == 0)
                    rc_setref(&a->ref[rn((size_t)a->ns)], m);
            }
        }
    } else if (op < 92) {
        if (rn(4) == 0) {
            enabled = !enabled;
            if (enabled)
                rc_gc_enable(H);
            else
                rc_gc_disable(H);
        }
    } else { /* a chain of 2..41, top-down or bottom-up */
        int len = 2 + (int)rn(40);
        int bu = (int)rn(2);
        fnode *prev = NULL, *top = NULL;
        for (int i = 0; i < len; i++) {
            fnode *m = node_new();
            if (!m->ns)
                m->ns = 1;
            if (prev) {
                if (bu) {
                    rc_setref(&m->ref[0], prev);
                    drop_root_of(prev);
                } else {
                    rc_setref(&prev->ref[0], m);
                    drop_root_of(m);
                }
            } else {
                top = m;
            }
            prev = m;
        }
        if (rn(3) == 0)
            drop_root_of(bu ? prev : top);
    }
}

/* ---- Seeds ---------------------------------------------------------------------------- */

static void reset_model(void) {
    nreg = nlive = nroots = nwr = nwlive = 0;
    for (int i = 0; i < RC_GC_GENERATIONS; i++)
        cnt[i] = 0, st_coll[i] = st_found[i] = 0;
    long_lived = 0;
    in_coll = in_alloc = 0;
    explicit_gen = -1;
}

/* One seed: `steps` random steps on a fresh heap, then everything dropped.
 * Stops at the first failure (later steps could touch freed objects). */
static void run_seed(unsigned seed, long steps) {
    seed_now = seed;
    step_now = -1;
    rng = test_rng_seed(0x9E3779B97F4A7C15u ^ ((uint64_t)seed * 0x100000001B3u));
    reset_model();
    unsigned long fails0 = check_failure_count();
    H = gct_heap();
    if (!CHECK_EQ(rc_gc_callback_add(H, on_gc, NULL), 0))
        return;
    use_fin = rn(3) != 0;
    gmode = rn(4) == 0 ? (int)rn(3) : -1;
    enabled = 1;
    rc_gc_get_threshold(H, thr);
    switch (rn(4)) {
    case 0:
        enabled = 0;
        rc_gc_disable(H);
        break;
    case 1:
        thr[0] = 5 + (long)rn(30), thr[1] = 1 + (long)rn(4), thr[2] = 1 + (long)rn(4);
        break;
    case 2:
        thr[0] = 50 + (long)rn(300), thr[1] = 2 + (long)rn(10), thr[2] = 2 + (long)rn(10);
        break;
    default:
        break; /* the defaults, 700 10 10 */
    }
    rc_gc_set_threshold(H, thr[0], thr[1], thr[2]);
    for (step_now = 0; step_now < steps; step_now++) {
        if (nreg > 2 * nlive + 1024)
            compact_registry();
        step();
        if (rn(50) == 0)
            check_state();
        if (check_failure_count() != fails0)
            break;
    }
    if (check_failure_count() != fails0) {
        /* The model no longer matches: drop the heap as a process exit
         * would (no finalizer or destroy runs). */
        fprintf(stderr, "seed %u: stopped at step %ld\n", seed, step_now);
        in_coll = 0;
        rc_gc_callback_remove(H, on_gc, NULL);
        rc_heap_destroy(H);
        return;
    }
    check_state();

    /* Teardown: only what immortal nodes reach may stay (the untracked
     * nodes are tracked again, or their cycles would leak). */
    step_now = steps;
    for (int i = 0; i < nreg; i++)
        if (alive[i]) {
            reg[i]->resurrect = 0;
            if (gen[i] < 0) {
                rc_gc_track(reg[i]);
                gen[i] = 0;
            }
        }
    drop_every_root();
    rc_gc_garbage_clear(H);
    check_state();
    rc_gc_unfreeze(H);
    for (int i = 0; i < nreg; i++)
        if (alive[i] && gen[i] == 3)
            gen[i] = 2;
    collect_explicit(2, 0, 1);
    size_t kept = 0;
    memset(reach_r, 0, (size_t)nreg);
    grow_tmp(nreg + 1);
    int nt = 0;
    for (int i = 0; i < nreg; i++)
        if (alive[i] && immortal[i])
            tmp[nt++] = i;
    reach(reach_r, nt, tmp);
    for (int i = 0; i < nreg; i++)
        kept += reach_r[i];
    FZ(rc_live_objects(H) == kept, "%zu objects left, %zu reachable from immortal ones",
       rc_live_objects(H), kept);
    check_state();
    CHECK_MSG(check_failure_count() == fails0, "seed %u failed", seed);
    CHECK_EQ(rc_gc_callback_remove(H, on_gc, NULL), 0);
    CHECK_EQ(gct_heap_errors, 0);
    rc_heap_destroy(H);
}

static const unsigned seeds[] = {
    1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17,
    18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34,
    35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50,
};

static void test_fuzz_collector(void) {
    long steps = (long)gct_scale(3000);
    if (steps < 1000)
        steps = 1000; /* valgrind (gct_scale gives 30): about 5 s there */
    stats_out = tmpfile();
    if (!CHECK_NOT_NULL(stats_out))
        return;
    double t0 = gct_now();
    for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++)
        run_seed(seeds[i], steps);
    printf("    %zu seeds x %ld steps in %.2fs: %ld collections; explicit ones marked %ld, "
           "proved by first pass %ld, by quick proof %ld, all garbage %ld\n",
           sizeof seeds / sizeof *seeds, steps, gct_now() - t0, collections_seen,
           how_count[MARKED], how_count[FIRST_PASS], how_count[QUICK], how_count[ALL_GARBAGE]);
    /* the four ways of settling reachability all ran */
    CHECK_GT(how_count[MARKED], 0);
    CHECK_GT(how_count[FIRST_PASS], 0);
    CHECK_GT(how_count[QUICK], 0);
    CHECK_GT(how_count[ALL_GARBAGE], 0);
    fclose(stats_out);
    free(reg), free(gen), free(alive), free(immortal), free(in_s), free(in_g), free(reach_r);
    free(must_live), free(expect_free), free(surv), free(roots), free(wr), free(wlive);
    free(stack_), free(tmp), free(seen), free(wsorted), free(wsorted_rec), free(wseen);
}

int main(int argc, char **argv) {
    check_main_init(argc, argv);
    RUN_TEST(test_fuzz_collector);
    return check_summary();
}
