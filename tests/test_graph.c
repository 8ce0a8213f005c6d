/* Graphs: data and transforms, batching, permutation equivariance of every layer and
 * invariance of readouts, batching = running apart, the sampler, the loaders (real
 * files and truncated/corrupted/hostile ones), k-fold splits, and two short learning
 * runs (seeded, thresholds stated below). */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

/* ---- helpers ------------------------------------------------------------------------ */

static gdl_graph *random_graph(gdl_rng *r, int64_t n, int64_t e, int64_t f) {
  int64_t *s = malloc((size_t)e * sizeof *s), *d = malloc((size_t)e * sizeof *d);
  for (int64_t i = 0; i < e; i++) {
    s[i] = (int64_t)gdl_rng_below(r, (uint64_t)n);
    d[i] = (int64_t)gdl_rng_below(r, (uint64_t)n);
    if (s[i] == d[i]) d[i] = (d[i] + 1) % n;
  }
  gdl_graph *g = gdl_graph_from_edges(n, e, s, d);
  free(s), free(d);
  g->x = gdl_tensor_alloc(GDL_F64, GDL_SHAPE(n, f));
  gdl_rng_fill_normal(r, g->x, 0, 1);
  g->edge_attr = gdl_tensor_alloc(GDL_F64, GDL_SHAPE(e, 3));
  gdl_rng_fill_normal(r, g->edge_attr, 0, 1);
  return g;
}

/* g with node i renamed perm[i] (x rows and edges moved accordingly). */
static gdl_graph *permuted(const gdl_graph *g, const int64_t *perm) {
  int64_t N = g->num_nodes, E = g->num_edges, F = g->x->shape[1];
  int64_t *s = malloc((size_t)E * sizeof *s), *d = malloc((size_t)E * sizeof *d);
  for (int64_t e = 0; e < E; e++) s[e] = perm[gdl_graph_src(g)[e]], d[e] = perm[gdl_graph_dst(g)[e]];
  gdl_graph *h = gdl_graph_from_edges(N, E, s, d);
  free(s), free(d);
  h->x = gdl_tensor_alloc(GDL_F64, GDL_SHAPE(N, F));
  for (int64_t i = 0; i < N; i++)
    for (int64_t j = 0; j < F; j++) gdl_tensor_set(h->x, perm[i] * F + j, gdl_tensor_get(g->x, i * F + j));
  h->edge_attr = gdl_tensor_clone(g->edge_attr);
  return h;
}

static gdl_tensor *run(gdl_model *m, gdl_graph *g) {
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_ctx_set_grad(ctx, false);
  gdl_tensor *y = gdl_tensor_clone(gdl_graph_forward(m, ctx, g->x, g, false));
  gdl_ctx_free(ctx);
  return y;
}

typedef gdl_layer *(*mk)(void);
static gdl_layer *m_gcn(void) { return gdl_layer_gcn(3, 0, 0); }
static gdl_layer *m_gat(void) {
  gdl_gat_opts o = GDL_GAT_DEFAULT;
  o.heads = 2;
  return gdl_layer_gat(3, o);
}
static gdl_layer *m_gatv2(void) {
  gdl_gat_opts o = GDL_GAT_DEFAULT;
  o.heads = 2, o.v2 = true, o.concat = false;
  return gdl_layer_gat(3, o);
}
static gdl_layer *m_sage(void) { return gdl_layer_sage(3, GDL_REDUCE_MEAN, true, true); }
static gdl_layer *m_sage_max(void) { return gdl_layer_sage(3, GDL_REDUCE_MAX, false, true); }
static gdl_layer *m_gin(void) { return gdl_layer_gin(5, 3, 0.1, true, false, 0); }
static gdl_layer *m_gine(void) { return gdl_layer_gin(5, 0, 0.1, true, true, 3); }
static gdl_layer *m_edge(void) { return gdl_layer_edge_conv(5, 3, GDL_REDUCE_MAX, 0); }
static gdl_layer *m_dyn(void) { return gdl_layer_edge_conv(5, 0, GDL_REDUCE_MAX, 3); }
static gdl_layer *m_cheb(void) { return gdl_layer_cheb(3, 4, true); }
static gdl_layer *m_gconv(void) { return gdl_layer_graph_conv(3, GDL_REDUCE_SUM, true); }
static gdl_layer *m_tr(void) { return gdl_layer_transformer_conv(3, 2, true, 0, false); }
static gdl_layer *m_add(void) { return gdl_layer_graph_pool(GDL_REDUCE_SUM); }
static gdl_layer *m_max(void) { return gdl_layer_graph_pool(GDL_REDUCE_MAX); }
static gdl_layer *m_att(void) { return gdl_layer_attention_pool(); }
static gdl_layer *m_topk(void) { return gdl_layer_topk_pool(0.5); }

static void test_equivariance(void) {
  static const struct {
    const char *name;
    mk make;
    bool invariant; /* readouts: same output; convs: permuted rows */
    mk then;        /* a readout after (top-k: compare pooled outputs) */
  } layers[] = {{"gcn", m_gcn, 0, 0},     {"gat", m_gat, 0, 0},       {"gatv2", m_gatv2, 0, 0},
                {"sage", m_sage, 0, 0},   {"sage_max", m_sage_max, 0, 0}, {"gin", m_gin, 0, 0},
                {"gine", m_gine, 0, 0},   {"edge_conv", m_edge, 0, 0}, {"dynamic_edge_conv", m_dyn, 0, 0},
                {"cheb", m_cheb, 0, 0},   {"graph_conv", m_gconv, 0, 0}, {"transformer_conv", m_tr, 0, 0},
                {"global_add_pool", m_add, 1, 0}, {"global_max_pool", m_max, 1, 0},
                {"attention_pool", m_att, 1, 0}, {"topk_pool", m_topk, 1, m_add}};
  gdl_rng r = gdl_rng_make(7);
  gdl_graph *g = random_graph(&r, 11, 30, 4);
  int64_t perm[11];
  for (int64_t i = 0; i < 11; i++) perm[i] = i;
  gdl_rng_shuffle(&r, perm, 11);
  gdl_graph *h = permuted(g, perm);
  for (size_t k = 0; k < sizeof layers / sizeof *layers; k++) {
    gdl_model *m = gdl_model_new(GDL_F64, GDL_SHAPE(4), 3);
    gdl_model_add(m, layers[k].make());
    if (layers[k].then) gdl_model_add(m, layers[k].then());
    gdl_tensor *a = run(m, g), *b = run(m, h);
    double err = 0;
    int64_t F = a->shape[1];
    for (int64_t i = 0; i < a->shape[0]; i++)
      for (int64_t j = 0; j < F; j++) {
        int64_t bi = layers[k].invariant ? i : perm[i];
        err = fmax(err, fabs(gdl_tensor_get(a, i * F + j) - gdl_tensor_get(b, bi * F + j)));
      }
    CHECK(a->shape[0] == b->shape[0] && err < 1e-12, "%s: permuting nodes changes the output by %g",
          layers[k].name, err);
    gdl_tensor_free(a), gdl_tensor_free(b);
    gdl_model_free(m);
  }
  gdl_graph_free(g), gdl_graph_free(h);
}

/* A batch of two graphs gives each graph's outputs (nodes and readout). */
static void test_batching(void) {
  gdl_rng r = gdl_rng_make(3);
  gdl_graph *a = random_graph(&r, 6, 14, 4), *b = random_graph(&r, 9, 20, 4);
  gdl_graph *gs[2] = {a, b}, *ab = gdl_graph_batch(gs, 2);
  CHECK(ab->num_nodes == 15 && ab->num_edges == 34 && ab->num_graphs == 2, "batch sizes");
  CHECK(((int64_t *)ab->ptr->data)[1] == 6 && ((int64_t *)ab->batch->data)[6] == 1, "batch ptr and vector");
  CHECK(gdl_graph_src(ab)[14] == gdl_graph_src(b)[0] + 6, "edges of the second graph are shifted");
  mk convs[] = {m_gcn, m_gat, m_gin, m_edge, m_dyn, m_tr, m_cheb};
  for (size_t k = 0; k < sizeof convs / sizeof *convs; k++) {
    gdl_model *m = gdl_model_new(GDL_F64, GDL_SHAPE(4), 5);
    gdl_model_add(m, convs[k]());
    gdl_model_add(m, gdl_layer_activation(GDL_ACT_RELU, 0));
    gdl_model_add(m, gdl_layer_attention_pool());
    gdl_tensor *ya = run(m, a), *yb = run(m, b), *yab = run(m, ab);
    double err = 0;
    int64_t F = ya->shape[1];
    for (int64_t j = 0; j < F; j++) {
      err = fmax(err, fabs(gdl_tensor_get(ya, j) - gdl_tensor_get(yab, j)));
      err = fmax(err, fabs(gdl_tensor_get(yb, j) - gdl_tensor_get(yab, F + j)));
    }
    CHECK(yab->shape[0] == 2 && err < 1e-12, "%s: the batch differs from the graphs run apart by %g",
          gdl_layer_kind(gdl_model_layer(m, 0)), err);
    gdl_tensor_free(ya), gdl_tensor_free(yb), gdl_tensor_free(yab);
    gdl_model_free(m);
  }
  gdl_graph_free(a), gdl_graph_free(b), gdl_graph_free(ab);
}

static void test_transforms(void) {
  int64_t s[] = {0, 1, 1, 2, 2, 3, 1}, d[] = {1, 0, 1, 3, 3, 0, 0};
  gdl_graph *g = gdl_graph_from_edges(5, 7, s, d);
  gdl_graph *l = gdl_graph_add_self_loops(g, 1.0), *nl = gdl_graph_remove_self_loops(l);
  CHECK(l->num_edges == 6 + 5 && nl->num_edges == 6, "self loops: %lld and %lld edges", (long long)l->num_edges,
        (long long)nl->num_edges);
  gdl_graph *c = gdl_graph_coalesce(g), *u = gdl_graph_to_undirected(g);
  CHECK(c->num_edges == 5, "coalesce merges 2->3 twice and 1->0 twice: %lld edges", (long long)c->num_edges);
  CHECK(u->num_edges == 7, "to_undirected: 0<->1, 1->1, 2<->3, 0<->3 = 7 edges: %lld",
        (long long)u->num_edges);
  bool sorted = true;
  for (int64_t e = 1; e < u->num_edges; e++)
    sorted &= gdl_graph_src(u)[e - 1] < gdl_graph_src(u)[e] ||
              (gdl_graph_src(u)[e - 1] == gdl_graph_src(u)[e] && gdl_graph_dst(u)[e - 1] < gdl_graph_dst(u)[e]);
  CHECK(sorted, "to_undirected sorts by (source, target)");
  gdl_graph *n = gdl_graph_gcn_norm(u, true, false);
  /* node 4 is isolated: its loop weight is 1/1 */
  double w4 = gdl_tensor_get(n->edge_weight, n->num_edges - 1);
  CHECK(fabs(w4 - 1) < 1e-15, "gcn_norm: an isolated node's loop weighs 1, got %g", w4);
  int64_t nodes[] = {3, 2};
  gdl_graph *sub = gdl_graph_subgraph(g, nodes, 2);
  CHECK(sub->num_nodes == 2 && sub->num_edges == 2 && gdl_graph_src(sub)[0] == 1 && gdl_graph_dst(sub)[0] == 0,
        "induced subgraph relabels 2 -> 3 as 1 -> 0");
  int64_t seed = 0;
  gdl_graph *k1 = gdl_graph_k_hop(g, &seed, 1, 1), *k2 = gdl_graph_k_hop(g, &seed, 1, 2);
  CHECK(k1->num_nodes == 3 && k2->num_nodes == 4, "k-hop: 1 hop reaches {0,1,3}, 2 hops adds 2: %lld, %lld",
        (long long)k1->num_nodes, (long long)k2->num_nodes);
  gdl_tensor *x = gdl_tensor_alloc(GDL_F32, GDL_SHAPE(2, 3));
  float xv[] = {1, 3, 0, 0, 0, 0};
  memcpy(x->data, xv, sizeof xv);
  gdl_graph_normalize_features(x);
  CHECK(gdl_tensor_get(x, 1) == 0.75 && gdl_tensor_get(x, 4) == 0, "normalize_features");
  /* kNN and radius on a line of points 0, 1, 3, 6 (two graphs: {0,1,3}, {6}) */
  gdl_tensor *pos = gdl_tensor_alloc(GDL_F64, GDL_SHAPE(4, 1)), *bt = gdl_tensor_alloc(GDL_I64, GDL_SHAPE(4));
  double pv[] = {0, 1, 3, 6};
  memcpy(pos->data, pv, sizeof pv);
  ((int64_t *)bt->data)[3] = 1;
  gdl_graph *kn = gdl_graph_knn(pos, NULL, 1, false), *knb = gdl_graph_knn(pos, bt, 1, false);
  CHECK(kn->num_edges == 4 && gdl_graph_src(kn)[2] == 1 && gdl_graph_dst(kn)[2] == 2, "knn: 1 -> 2");
  CHECK(knb->num_edges == 3, "knn within graphs: the lone point has no neighbour");
  gdl_graph *rg = gdl_graph_radius(pos, NULL, 2.0, false, 0);
  CHECK(rg->num_edges == 4, "radius 2: 0<->1, 1<->3: %lld edges", (long long)rg->num_edges);
  gdl_graph *gs[] = {g, l, nl, c, u, n, sub, k1, k2, kn, knb, rg};
  for (size_t i = 0; i < sizeof gs / sizeof *gs; i++) gdl_graph_free(gs[i]);
  gdl_tensor_free(x), gdl_tensor_free(pos), gdl_tensor_free(bt);
}

static void test_sampler(void) {
  gdl_graph *g = gdl_graph_load_npz(TEST_DATA("planetoid/cora.npz"));
  if (!g) return;
  enum { B = 1000 }; /* enough draws for the parallel path */
  int64_t fan[2] = {5, 3}, seeds[B];
  for (int i = 0; i < B; i++) seeds[i] = i * 2;
  gdl_sampler *s = gdl_sampler_new(g, fan, 2);
  gdl_set_threads(1);
  gdl_graph *a = gdl_sampler_sample(s, seeds, B, 9);
  gdl_set_threads(2);
  gdl_graph *b = gdl_sampler_sample(s, seeds, B, 9), *c = gdl_sampler_sample(s, seeds, B, 10);
  gdl_set_threads(1);
  CHECK(a->num_nodes == b->num_nodes && a->num_edges == b->num_edges &&
            !memcmp(a->edge_index->data, b->edge_index->data, gdl_tensor_nbytes(a->edge_index)),
        "sampling depends on the thread count");
  CHECK(c->num_edges != a->num_edges || memcmp(a->edge_index->data, c->edge_index->data, gdl_tensor_nbytes(a->edge_index)),
        "another seed draws the same sample");
  gdl_tensor *deg = gdl_graph_degree(a, true);
  bool ok = a->num_seeds == B;
  for (int64_t i = 0; i < a->num_nodes; i++) ok &= ((int64_t *)deg->data)[i] <= (i < B ? 5 : 3);
  for (int i = 0; i < B; i++) ok &= ((int64_t *)a->node_id->data)[i] == seeds[i];
  CHECK(ok, "fan-out respected and seeds first");
  CHECK(a->x && a->x->shape[0] == a->num_nodes && a->y->shape[0] == a->num_nodes, "features gathered");
  gdl_tensor_free(deg);
  gdl_graph_free(a), gdl_graph_free(b), gdl_graph_free(c);
  gdl_sampler_free(s);
  gdl_graph_free(g);
}

/* ---- loaders ---------------------------------------------------------------------------- */

static char tmpdir[256];

static void write_file(const char *name, const void *data, size_t n) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", tmpdir, name);
  FILE *f = fopen(p, "wb");
  fwrite(data, 1, n, f);
  fclose(f);
}

static void test_loaders(void) {
  gdl_graph *cora = gdl_graph_load_npz(TEST_DATA("planetoid/cora.npz"));
  CHECK(cora && cora->num_nodes == 2708 && cora->num_edges == 10556 && cora->x->shape[1] == 1433,
        "cora.npz: %s", cora ? "wrong sizes" : gdl_last_error());
  if (cora) {
    int64_t ntr = 0, nva = 0, nte = 0;
    for (int64_t i = 0; i < 2708; i++) {
      ntr += gdl_tensor_get(cora->train_mask, i) != 0;
      nva += gdl_tensor_get(cora->val_mask, i) != 0;
      nte += gdl_tensor_get(cora->test_mask, i) != 0;
    }
    CHECK(ntr == 140 && nva == 500 && nte == 1000, "cora split %lld/%lld/%lld", (long long)ntr, (long long)nva,
          (long long)nte);
  }
  gdl_graph *cs = gdl_graph_load_npz(TEST_DATA("planetoid/citeseer.npz"));
  CHECK(cs && cs->num_nodes == 3327 && cs->num_edges == 9104, "citeseer.npz: %s", cs ? "wrong sizes" : gdl_last_error());
  static const struct {
    const char *name;
    int64_t n, classes, features;
  } tu[] = {{"MUTAG", 188, 2, 7}, {"PROTEINS", 1113, 2, 3}, {"NCI109", 4127, 2, 38}};
  for (int i = 0; i < 3; i++) {
    char dir[256];
    snprintf(dir, sizeof dir, TEST_DATA("tu/%s"), tu[i].name);
    gdl_graph_set *s = gdl_graph_set_load_tu(dir, tu[i].name, false);
    CHECK(s && s->n == tu[i].n && s->num_classes == tu[i].classes, "%s: %s", tu[i].name, s ? "sizes" : gdl_last_error());
    if (s) printf("%s: %lld graphs, %lld node features, %lld edge features\n", tu[i].name, (long long)s->n,
                  (long long)s->num_features, (long long)s->num_edge_features);
    if (s && i == 0) CHECK(s->num_features == 7 && s->num_edge_features == 4, "MUTAG one-hot widths");
    gdl_graph_set_free(s);
  }
  /* hostile .npz: truncated, corrupted, edge_index out of range, wrong dtypes */
  snprintf(tmpdir, sizeof tmpdir, "/tmp/gdl_test_graph_%d", (int)getpid());
  mkdir(tmpdir, 0777);
  FILE *f = fopen(TEST_DATA("planetoid/cora.npz"), "rb");
  static char buf[200000];
  size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
  if (f) fclose(f);
  char p[512];
  write_file("trunc.npz", buf, n / 2);
  snprintf(p, sizeof p, "%s/trunc.npz", tmpdir);
  gdl_graph *bad = gdl_graph_load_npz(p);
  CHECK(!bad && strstr(gdl_last_error(), "trunc.npz"), "truncated npz: '%s'", gdl_last_error());
  for (size_t i = 1000; i < n; i += 997) buf[i] ^= 0x5a;
  write_file("corrupt.npz", buf, n);
  snprintf(p, sizeof p, "%s/corrupt.npz", tmpdir);
  bad = gdl_graph_load_npz(p);
  CHECK(!bad && strstr(gdl_last_error(), "corrupt.npz"), "corrupted npz: '%s'", gdl_last_error());
  gdl_arrays *a = gdl_arrays_new();
  gdl_tensor *ei = gdl_tensor_alloc(GDL_I64, GDL_SHAPE(2, 2)), *x = gdl_tensor_alloc(GDL_F32, GDL_SHAPE(3, 2));
  int64_t ev[] = {0, 1, 2, 7};
  memcpy(ei->data, ev, sizeof ev);
  gdl_arrays_put(a, "edge_index", ei, true);
  gdl_arrays_put(a, "x", x, true);
  snprintf(p, sizeof p, "%s/range.npz", tmpdir);
  gdl_npz_save(p, a, false);
  bad = gdl_graph_load_npz(p);
  CHECK(!bad && strstr(gdl_last_error(), "range.npz") && strstr(gdl_last_error(), "outside"),
        "edge out of range: '%s'", gdl_last_error());
  gdl_arrays_put(a, "edge_index", gdl_tensor_alloc(GDL_F32, GDL_SHAPE(2, 2)), true);
  gdl_npz_save(p, a, false);
  bad = gdl_graph_load_npz(p);
  CHECK(!bad && strstr(gdl_last_error(), "edge_index"), "float edge_index: '%s'", gdl_last_error());
  gdl_arrays_free(a);
  /* hostile TU files */
  const char *ind = "1\n1\n2\n2\n", *A = "1, 2\n2, 1\n3, 4\n";
  write_file("T_graph_indicator.txt", ind, strlen(ind));
  write_file("T_A.txt", A, strlen(A));
  write_file("T_graph_labels.txt", "1\n", 2); /* one label for two graphs */
  gdl_graph_set *s = gdl_graph_set_load_tu(tmpdir, "T", false);
  CHECK(!s && strstr(gdl_last_error(), "T_graph_labels.txt") && strstr(gdl_last_error(), "truncated"),
        "TU truncated labels: '%s'", gdl_last_error());
  write_file("T_graph_labels.txt", "1\n-1\n", 5);
  write_file("T_A.txt", "1, 2\n2, x\n", 10);
  s = gdl_graph_set_load_tu(tmpdir, "T", false);
  CHECK(!s && strstr(gdl_last_error(), "T_A.txt:2"), "TU garbage: '%s'", gdl_last_error());
  write_file("T_A.txt", "1, 3\n", 5);
  s = gdl_graph_set_load_tu(tmpdir, "T", false);
  CHECK(!s && strstr(gdl_last_error(), "two different graphs"), "TU edge across graphs: '%s'", gdl_last_error());
  write_file("T_A.txt", "1, 2\n2, 1\n3, 9\n", 15);
  s = gdl_graph_set_load_tu(tmpdir, "T", false);
  CHECK(!s && strstr(gdl_last_error(), "outside"), "TU node out of range: '%s'", gdl_last_error());
  write_file("T_A.txt", A, strlen(A));
  s = gdl_graph_set_load_tu(tmpdir, "T", false);
  CHECK(s && s->n == 2 && s->num_classes == 2 && ((int64_t *)s->graphs[1]->y->data)[0] == 0,
        "a well-formed small TU set: %s", s ? "ok" : gdl_last_error());
  gdl_graph_set_free(s);
  s = gdl_graph_set_load_tu(tmpdir, "MISSING", false);
  CHECK(!s && strstr(gdl_last_error(), "MISSING_graph_indicator.txt"), "missing files: '%s'", gdl_last_error());
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  CHECK(system(cmd) == 0, "cleanup");
  gdl_graph_free(cora), gdl_graph_free(cs);
}

static void test_kfold(void) {
  int64_t y[100];
  int fold[100], cnt[5][2] = {{0}};
  for (int i = 0; i < 100; i++) y[i] = i < 30;
  CHECK(gdl_stratified_kfold(y, 100, 5, 1, fold) == GDL_OK, "kfold");
  for (int i = 0; i < 100; i++) cnt[fold[i]][y[i]]++;
  bool ok = true;
  for (int k = 0; k < 5; k++) ok &= cnt[k][1] == 6 && cnt[k][0] == 14;
  CHECK(ok, "stratified: every fold has 6 of class 1 and 14 of class 0");
}

/* scikit-learn <= 0.21's folds (the GIN code's), against tests/ref/kfold_sklearn.npz
 * made by tests/ref/gen_kfold.py with numpy's RandomState. */
static void test_kfold_sklearn(void) {
  gdl_arrays *ref = gdl_npz_load("tests/ref/kfold_sklearn.npz");
  CHECK(ref, "load: %s", gdl_last_error());
  if (!ref) return;
  for (int c = 0; c < 3; c++) {
    char key[16];
    const char *names[4] = {"y", "fold", "k", "seed"};
    gdl_tensor *t[4];
    bool ok = true;
    for (int j = 0; j < 4; j++) {
      snprintf(key, sizeof key, "%s%d", names[j], c);
      t[j] = gdl_arrays_get(ref, key);
      ok &= t[j] && t[j]->dtype == (j == 1 ? GDL_I32 : GDL_I64) && t[j]->ndim == 1 && t[j]->shape[0] > 0;
    }
    ok = ok && t[1]->shape[0] == t[0]->shape[0];
    CHECK(ok, "case %d: y, k, seed int64 and fold int32, all 1-D and non-empty, fold as long as y", c);
    if (!ok) break;
    gdl_tensor *y = t[0], *want = t[1];
    int64_t n = y->shape[0], k = ((int64_t *)t[2]->data)[0], seed = ((int64_t *)t[3]->data)[0];
    int *fold = malloc((size_t)n * sizeof *fold);
    CHECK(gdl_stratified_kfold_sklearn(y->data, n, (int)k, (uint32_t)seed, fold) == GDL_OK, "sklearn kfold");
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) bad += fold[i] != ((int32_t *)want->data)[i];
    CHECK(!bad, "case %d (n %lld, k %lld, seed %lld): %lld samples in another fold than scikit-learn's", c,
          (long long)n, (long long)k, (long long)seed, (long long)bad);
    free(fold);
  }
  gdl_arrays_free(ref);
}

/* ---- learning (short runs; thresholds well below the full runs of docs/graphs.md) ---- */

static void test_learning(void) {
  gdl_graph *g = gdl_graph_load_npz(TEST_DATA("planetoid/cora.npz"));
  if (!g) return;
  gdl_graph_normalize_features(g->x);
  gdl_model *m = gdl_model_new(GDL_F32, GDL_SHAPE(1433), 1);
  gdl_model_add(m, gdl_layer_gcn(16, 0, 0.5));
  gdl_model_add(m, gdl_layer_activation(GDL_ACT_RELU, 0));
  gdl_model_add(m, gdl_layer_gcn(7, 0, 0.5));
  gdl_graph_train_opts o = gdl_graph_train_defaults();
  o.base.epochs = 60;
  o.base.optim.lr = o.base.sched.base_lr = 0.01;
  o.base.optim.weight_decay = 5e-4;
  o.ndecay = 1;
  gdl_train_result r;
  gdl_eval_result ev;
  CHECK(gdl_graph_train_nodes(m, g, &o, &r) == GDL_OK, "train: %s", gdl_last_error());
  gdl_graph_eval_nodes(m, g, g->test_mask, &ev);
  printf("GCN on Cora, 60 epochs: test accuracy %.3f\n", ev.accuracy);
  CHECK(ev.accuracy >= 0.77, "GCN on Cora, 60 epochs: test accuracy %.3f < 0.77", ev.accuracy);
  gdl_model_free(m);
  gdl_graph_free(g);

  gdl_graph_set *s = gdl_graph_set_load_tu(TEST_DATA("tu/MUTAG"), "MUTAG", false);
  if (!s) return;
  /* One MUTAG fold holds 38 graphs (2.6 points each), so one fold's accuracy jumps
   * with any rounding change; three folds, each trained afresh, give a steadier mean. */
  int fold[188];
  int64_t y[188];
  for (int i = 0; i < 188; i++) y[i] = ((int64_t *)s->graphs[i]->y->data)[0];
  gdl_stratified_kfold(y, 188, 5, 1, fold);
  double mean = 0;
  for (int f = 0; f < 3; f++) {
    m = gdl_model_new(GDL_F32, GDL_SHAPE(7), 1);
    for (int k = 0; k < 3; k++) {
      gdl_model_add(m, gdl_layer_gin(32, 32, 0, false, false, 0));
      gdl_model_add(m, gdl_layer_batch_norm(1e-5, 0.1));
      gdl_model_add(m, gdl_layer_activation(GDL_ACT_RELU, 0));
    }
    gdl_model_add(m, gdl_layer_graph_pool(GDL_REDUCE_SUM));
    gdl_model_add(m, gdl_layer_linear(2, true, GDL_INIT_DEFAULT));
    int64_t tr[188], te[188], ntr = 0, nte = 0;
    for (int i = 0; i < 188; i++) {
      if (fold[i] != f) tr[ntr++] = i;
      else te[nte++] = i;
    }
    o = gdl_graph_train_defaults();
    o.base.epochs = 40;
    o.base.batch_size = 32;
    o.base.optim.lr = o.base.sched.base_lr = 0.01;
    CHECK(gdl_graph_train_graphs(m, s, tr, ntr, NULL, 0, &o, &r) == GDL_OK, "train: %s", gdl_last_error());
    gdl_graph_eval_graphs(m, s, te, nte, 64, &ev);
    printf("  fold %d: %.3f\n", f, ev.accuracy);
    mean += ev.accuracy / 3;
    gdl_model_free(m);
  }
  printf("GIN on MUTAG, 3 folds of 5, 40 epochs each: mean test accuracy %.3f\n", mean);
  CHECK(mean >= 0.75, "GIN on MUTAG, 40 epochs: mean test accuracy over 3 folds %.3f < 0.75", mean);
  gdl_graph_set_free(s);
}

int main(void) {
  gdl_set_threads(1); /* small problems: threads only spin (the sampler test uses 2) */
  test_transforms();
  test_equivariance();
  test_batching();
  test_sampler();
  test_kfold();
  test_kfold_sklearn();
  test_loaders();
  test_learning();
  return test_report();
}
