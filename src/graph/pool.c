/* Readouts and pooling layers.
 *
 * global_pool:     out_g = reduce_{i in graph g} x_i                      (add | mean | max)
 * attention_pool:  a_i = softmax_{i in g}(w . x_i + b),  out_g = sum_{i in g} a_i x_i
 *                  (PyG's AttentionalAggregation with gate_nn = Linear(F, 1))
 * topk_pool:       s = tanh(x . p / |p|); keep the ceil(ratio n_g) highest-scoring nodes
 *                  of every graph, x' = x[idx] s[idx]; later layers see the induced
 *                  subgraph (PyG's TopKPooling; parameter weight [1, F]). */
#include <stdlib.h>

#include "graph/graph.h"
#include "nn/layer.h"

static gdl_status pool_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  int64_t fin;
  gdl_status st = gdl__need_features(l, in, &fin);
  if (st) return st;
  l->out = in;
  if (!strcmp(l->kind->name, "attention_pool")) {
    gdl__param(l, "gate_nn.weight", GDL_SHAPE(1, fin), GDL__TORCH, fin, 1, b);
    gdl__param(l, "gate_nn.bias", GDL_SHAPE(1), GDL__TORCH, fin, 1, b);
  } else if (!strcmp(l->kind->name, "topk_pool")) {
    gdl__param(l, "select.weight", GDL_SHAPE(1, fin), GDL__TORCH, fin, 1, b);
  }
  return GDL_OK;
}

static gdl_tensor *global_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  return gdl_global_pool(ctx, gdl__layer_graph(aux, "graph_pool"), x, (gdl_reduce)l->act);
}

static const gdl_layer_type global_kind = {"graph_pool", pool_build, global_forward};

gdl_layer *gdl_layer_graph_pool(gdl_reduce reduce) {
  gdl_layer *l = gdl__layer_new(&global_kind);
  l->act = reduce;
  return l;
}

/* ---- attention pooling ------------------------------------------------------------------ */

static gdl_tensor *att_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  gdl_graph *g = gdl__layer_graph(aux, "attention_pool");
  const gdl_tensor *ptr = gdl__graph_ptr(g);
  gdl_tensor *batch = gdl__batch_index(g);
  gdl_tensor *gate = gdl_linear(ctx, x, l->t[0], l->t[1]); /* [N, 1] */
  /* the per-graph maximum, a constant shift for a stable softmax */
  int64_t N = x->shape[0], G = ptr->shape[0] - 1;
  const int64_t *P = ptr->data;
  gdl_tensor *m = gdl_tensor_new(ctx, x->dtype, GDL_SHAPE(N, 1));
  for (int64_t k = 0; k < G; k++) {
    double mx = -INFINITY;
    for (int64_t i = P[k]; i < P[k + 1]; i++) mx = fmax(mx, gdl_tensor_get(gate, i));
    for (int64_t i = P[k]; i < P[k + 1]; i++) gdl_tensor_set(m, i, mx);
  }
  gdl_tensor *z = gdl_exp(ctx, gdl_sub(ctx, gate, m));
  gdl_tensor *den = gdl_index_select(ctx, gdl_segment(ctx, z, ptr, GDL_REDUCE_SUM), 0, batch);
  gdl_tensor *a = gdl_div(ctx, z, den);
  return gdl_segment(ctx, gdl_mul(ctx, x, a), ptr, GDL_REDUCE_SUM);
}

static const gdl_layer_type att_kind = {"attention_pool", pool_build, att_forward};

gdl_layer *gdl_layer_attention_pool(void) { return gdl__layer_new(&att_kind); }

/* ---- top-k pooling ----------------------------------------------------------------------- */

typedef struct {
  const double *s;
  int64_t i;
} scored;

static int by_score(const void *a, const void *b) {
  const scored *x = a, *y = b;
  double sx = x->s[x->i], sy = y->s[y->i];
  if (sx != sy) return sx > sy ? -1 : 1;
  return (x->i > y->i) - (x->i < y->i);
}

static gdl_tensor *topk_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  gdl_graph *g = gdl__layer_graph(aux, "topk_pool");
  gdl_tensor *w = l->t[0];
  gdl_tensor *norm = gdl_sqrt(ctx, gdl_sum(ctx, gdl_mul(ctx, w, w), GDL_AXIS_ALL, false));
  gdl_tensor *s = gdl_tanh(ctx, gdl_div(ctx, gdl_linear(ctx, x, w, NULL), norm)); /* [N, 1] */
  const gdl_tensor *ptr = gdl__graph_ptr(g);
  const int64_t *P = ptr->data;
  int64_t N = x->shape[0], G = ptr->shape[0] - 1, kept = 0;
  double *sv = malloc((size_t)(N + 1) * sizeof *sv);
  scored *order = malloc((size_t)(N + 1) * sizeof *order);
  int64_t *perm = gdl_ctx_alloc(ctx, (size_t)(N + 1) * sizeof *perm);
  for (int64_t i = 0; i < N; i++) sv[i] = gdl_tensor_get(s, i);
  for (int64_t k = 0; k < G; k++) {
    int64_t n = P[k + 1] - P[k], keep = (int64_t)ceil(l->f0 * (double)n);
    for (int64_t i = 0; i < n; i++) order[i] = (scored){sv, P[k] + i};
    qsort(order, (size_t)n, sizeof *order, by_score);
    for (int64_t i = 0; i < keep && i < n; i++) perm[kept++] = order[i].i;
  }
  free(sv);
  free(order);
  gdl_tensor *idx = gdl_tensor_wrap(ctx, GDL_I64, GDL_SHAPE(kept), perm);
  gdl_tensor *out = gdl_mul(ctx, gdl_index_select(ctx, x, 0, idx), gdl_index_select(ctx, s, 0, idx));
  gdl_graph *sub = gdl__subgraph(g, perm, kept, ctx, false);
  if (!sub->batch) sub->num_graphs = 1;
  g->view = sub;
  return out;
}

static const gdl_layer_type topk_kind = {"topk_pool", pool_build, topk_forward};

gdl_layer *gdl_layer_topk_pool(double ratio) {
  GDL_ASSERT(ratio > 0 && ratio <= 1, "topk_pool: ratio must be in (0, 1]");
  gdl_layer *l = gdl__layer_new(&topk_kind);
  l->f0 = ratio;
  return l;
}
