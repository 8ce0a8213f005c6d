/* GCNConv (Kipf & Welling), PyG's layout:
 *
 *   out = D^-1/2 (A + I) D^-1/2 X W^T + b,   out[v] = sum_{u -> v} w_uv (x_u W^T) + b
 *
 * with w_uv = 1 / sqrt(deg(u) deg(v)) (the normalised weights are built once per
 * graph and cached). Parameters lin.weight [out, in] (glorot), bias [out] (zeros).
 * The linear map is applied before or after the aggregation, whichever is cheaper
 * (the result is the same). input_dropout > 0 applies dropout to x fused with the
 * linear map (gdl_dropout_linear: cheap on sparse features). */
#include "graph/graph.h"
#include "nn/layer.h"

static gdl_status gcn_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  int64_t fin, fout = l->n0;
  gdl_status st = gdl__need_features(l, in, &fin);
  if (st) return st;
  l->out = GDL_SHAPE(fout);
  gdl__param(l, "lin.weight", GDL_SHAPE(fout, fin), GDL__GLOROT, fin, fout, b);
  if (!(l->act & GDL_GCN_NO_BIAS)) gdl__param(l, "bias", GDL_SHAPE(fout), GDL__ZEROS, 0, 0, b);
  return GDL_OK;
}

static gdl_tensor *gcn_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  gdl_graph *g = gdl__layer_graph(aux, "gcn");
  int f = l->act;
  bool loops = !(f & GDL_GCN_NO_SELF_LOOPS), improved = f & GDL_GCN_IMPROVED;
  const gdl_graph *h = g;
  gdl_tensor *w;
  if (!(f & GDL_GCN_NO_NORMALIZE)) {
    w = gdl__gcn_weights(g, loops, improved, x->dtype, &h);
  } else {
    if (loops) h = gdl__graph_loops(g);
    w = gdl__edge_weight(h, x->dtype);
  }
  gdl_msg msg = w ? GDL_MSG_U_MUL_E : GDL_MSG_COPY_U;
  gdl_tensor *W = l->t[0], *y;
  if (l->f0 > 0) { /* input dropout fused with the linear map (sparse features) */
    y = gdl_gspmm(ctx, h, msg, GDL_REDUCE_SUM, gdl__dropout_linear(ctx, x, l->f0, train, W, NULL, gdl__feature_nonzeros(g, x)), w);
  } else if (W->shape[0] <= W->shape[1]) {
    y = gdl_gspmm(ctx, h, msg, GDL_REDUCE_SUM, gdl_linear(ctx, x, W, NULL), w);
  } else {
    y = gdl_linear(ctx, gdl_gspmm(ctx, h, msg, GDL_REDUCE_SUM, x, w), W, NULL);
  }
  return l->nt > 1 ? gdl_add(ctx, y, l->t[1]) : y;
}

static const gdl_layer_type gcn_kind = {"gcn", gcn_build, gcn_forward};

gdl_layer *gdl_layer_gcn(int64_t out, int flags, double input_dropout) {
  GDL_ASSERT(out > 0 && input_dropout >= 0 && input_dropout < 1, "gcn: out must be positive, input_dropout in [0, 1)");
  gdl_layer *l = gdl__layer_new(&gcn_kind);
  l->n0 = out;
  l->f0 = input_dropout;
  l->act = flags;
  return l;
}
