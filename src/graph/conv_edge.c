/* EdgeConv and DynamicEdgeConv (Wang et al., DGCNN), PyG's layout:
 *
 *   out_v = aggr_{u -> v} nn([x_v, x_u - x_v])          aggr = max | mean | sum
 *
 * nn = Linear(2 in, h0) [ReLU, Linear(h0, h1)]: nn.0.weight [h0, 2 in], nn.0.bias,
 * nn.2.weight, nn.2.bias. The first linear splits as W = [W1 | W2]:
 * W1 x_v + W2 (x_u - x_v) = (W1 - W2) x_v + W2 x_u, so it runs on nodes and one
 * gSDDMM forms the edge rows. DynamicEdgeConv (k > 0) first builds the k-nearest-
 * neighbour graph of x (itself included, as PyG's knn) within each graph. */
#include "graph/graph.h"
#include "nn/layer.h"

static gdl_status edge_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  int64_t fin, h0 = l->n0, h1 = l->n1;
  gdl_status st = gdl__need_features(l, in, &fin);
  if (st) return st;
  l->out = GDL_SHAPE(h1 ? h1 : h0);
  gdl__param(l, "nn.0.weight", GDL_SHAPE(h0, 2 * fin), GDL__TORCH, 2 * fin, h0, b);
  gdl__param(l, "nn.0.bias", GDL_SHAPE(h0), GDL__TORCH, 2 * fin, h0, b);
  if (h1) {
    gdl__param(l, "nn.2.weight", GDL_SHAPE(h1, h0), GDL__TORCH, h0, h1, b);
    gdl__param(l, "nn.2.bias", GDL_SHAPE(h1), GDL__TORCH, h0, h1, b);
  }
  return GDL_OK;
}

/* The kNN graph of x's values (no gradient flows through the choice) in ctx. */
static gdl_graph *knn_in_ctx(gdl_ctx *ctx, const gdl_graph *g, gdl_tensor *x, int64_t k) {
  gdl_tensor *xc = gdl_tensor_contiguous(ctx, x);
  gdl_graph *kn = gdl_graph_knn(xc, g->batch, k, true);
  GDL_ASSERT(kn, "dynamic edge_conv: %s", gdl_last_error());
  gdl_graph *r = gdl__graph_alloc(ctx, kn->num_nodes, kn->num_edges);
  memcpy(r->edge_index->data, kn->edge_index->data, gdl_tensor_nbytes(kn->edge_index));
  gdl_graph_free(kn);
  return r;
}

static gdl_tensor *edge_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  gdl_graph *g = gdl__layer_graph(aux, l->kind->name);
  const gdl_graph *h = l->act > 0 ? knn_in_ctx(ctx, g, x, l->act) : g;
  int64_t F = x->shape[1];
  gdl_tensor *W = l->t[0];
  gdl_tensor *W1 = gdl_slice(ctx, W, 1, 0, F, 1), *W2 = gdl_slice(ctx, W, 1, F, 2 * F, 1);
  gdl_tensor *a = gdl_linear(ctx, x, gdl_sub(ctx, W1, W2), l->t[1]); /* at the target v */
  gdl_tensor *bsrc = gdl_linear(ctx, x, W2, NULL);                   /* at the source u */
  gdl_tensor *m = gdl_gsddmm(ctx, h, GDL_SDDMM_ADD, bsrc, a, 1);
  if (l->n1) m = gdl_linear(ctx, gdl_relu(ctx, m), l->t[2], l->t[3]);
  return gdl_gspmm(ctx, h, GDL_MSG_COPY_E, (gdl_reduce)(int)l->f0, NULL, m);
}

static const gdl_layer_type edge_kind = {"edge_conv", edge_build, edge_forward};
static const gdl_layer_type dyn_kind = {"dynamic_edge_conv", edge_build, edge_forward};

gdl_layer *gdl_layer_edge_conv(int64_t hidden, int64_t hidden2, gdl_reduce aggr, int64_t k) {
  GDL_ASSERT(hidden > 0 && hidden2 >= 0 && k >= 0, "edge_conv: sizes must be positive");
  gdl_layer *l = gdl__layer_new(k ? &dyn_kind : &edge_kind);
  l->n0 = hidden;
  l->n1 = hidden2;
  l->f0 = aggr; /* the aggregation, as a number */
  l->act = (int)k;
  return l;
}
