/* ChebConv (Defferrard et al.), PyG's layout, symmetric normalisation, lambda_max = 2:
 *
 *   L^ = 2 L / lambda_max - I = -D^-1/2 A D^-1/2      (self loops removed; deg by source)
 *   T_0 = x,  T_1 = L^ x,  T_k = 2 L^ T_{k-1} - T_{k-2}
 *   out = sum_{k < K} T_k W_k^T + b
 *
 * Parameters lins.<k>.weight [out, in] (glorot), bias [out] (zeros); K <= 5. */
#include <stdio.h>

#include "graph/graph.h"
#include "nn/layer.h"

static void free_graph(void *p) { gdl_graph_free(p); }

/* The graph without self loops and the weights of L^ on it, cached on g. */
static gdl_tensor *cheb_weights(const gdl_graph *g, gdl_dtype t, const gdl_graph **used) {
  gdl_graph *h = gdl__cache_get(g, "cheb.graph");
  if (!h) {
    const int64_t *s = gdl_graph_src(g), *d = gdl_graph_dst(g);
    int64_t k = 0;
    for (int64_t e = 0; e < g->num_edges; e++) k += s[e] != d[e];
    h = gdl__graph_alloc(g->arena, g->num_nodes, k);
    int64_t *hs = h->edge_index->data, *hd = hs + k;
    double *w = gdl__galloc(h, (size_t)(k + 1) * sizeof *w), *deg = gdl__galloc(h, (size_t)(g->num_nodes + 1) * sizeof *deg);
    k = 0;
    for (int64_t e = 0; e < g->num_edges; e++)
      if (s[e] != d[e]) {
        hs[k] = s[e], hd[k] = d[e];
        w[k] = g->edge_weight ? gdl_tensor_get(g->edge_weight, e) : 1.0;
        deg[s[e]] += w[k++];
      }
    for (int64_t v = 0; v < g->num_nodes; v++) deg[v] = deg[v] > 0 ? 1 / sqrt(deg[v]) : 0;
    h->edge_weight = gdl__gtensor(h, GDL_F64, GDL_SHAPE(k));
    for (int64_t e = 0; e < k; e++) ((double *)h->edge_weight->data)[e] = -deg[hs[e]] * w[e] * deg[hd[e]];
    gdl__cache_put(g, "cheb.graph", h, free_graph);
  }
  *used = h;
  return gdl__edge_weight(h, t);
}

static gdl_status cheb_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  int64_t fin, fout = l->n0;
  gdl_status st = gdl__need_features(l, in, &fin);
  if (st) return st;
  l->out = GDL_SHAPE(fout);
  static const char *const names[] = {"lins.0.weight", "lins.1.weight", "lins.2.weight", "lins.3.weight",
                                      "lins.4.weight"};
  for (int k = 0; k < l->n1; k++) gdl__param(l, names[k], GDL_SHAPE(fout, fin), GDL__GLOROT, fin, fout, b);
  if (l->flag) gdl__param(l, "bias", GDL_SHAPE(fout), GDL__ZEROS, 0, 0, b);
  return GDL_OK;
}

static gdl_tensor *cheb_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  gdl_graph *g = gdl__layer_graph(aux, "cheb");
  const gdl_graph *h;
  gdl_tensor *w = cheb_weights(g, x->dtype, &h);
  gdl_tensor *t0 = x, *t1 = NULL, *out = gdl_linear(ctx, x, l->t[0], NULL);
  for (int k = 1; k < l->n1; k++) {
    gdl_tensor *lt = gdl_gspmm(ctx, h, GDL_MSG_U_MUL_E, GDL_REDUCE_SUM, k == 1 ? t0 : t1, w);
    gdl_tensor *tk = k == 1 ? lt : gdl_sub(ctx, gdl_affine(ctx, lt, 2.0, 0.0), t0);
    if (k > 1) t0 = t1;
    t1 = tk;
    out = gdl_add(ctx, out, gdl_linear(ctx, tk, l->t[k], NULL));
  }
  return l->flag ? gdl_add(ctx, out, l->t[l->n1]) : out;
}

static const gdl_layer_type cheb_kind = {"cheb", cheb_build, cheb_forward};

gdl_layer *gdl_layer_cheb(int64_t out, int K, bool bias) {
  GDL_ASSERT(out > 0 && K >= 1 && K <= 5, "cheb: out must be positive and K in 1..5");
  gdl_layer *l = gdl__layer_new(&cheb_kind);
  l->n0 = out;
  l->n1 = K;
  l->flag = bias;
  return l;
}
