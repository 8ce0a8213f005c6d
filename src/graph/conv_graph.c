/* GraphConv (Morris et al.), PyG's layout:
 *
 *   out_v = W_rel aggr_{u -> v} w_uv x_u + b_rel + W_root x_v      aggr = sum | mean | max
 *
 * (w_uv = the graph's edge_weight, 1 without). Parameters lin_rel.weight [out, in],
 * lin_rel.bias [out], lin_root.weight [out, in]. */
#include "graph/graph.h"
#include "nn/layer.h"

static gdl_status gconv_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  int64_t fin, fout = l->n0;
  gdl_status st = gdl__need_features(l, in, &fin);
  if (st) return st;
  l->out = GDL_SHAPE(fout);
  gdl__param(l, "lin_rel.weight", GDL_SHAPE(fout, fin), GDL__TORCH, fin, fout, b);
  if (l->flag) gdl__param(l, "lin_rel.bias", GDL_SHAPE(fout), GDL__TORCH, fin, fout, b);
  gdl__param(l, "lin_root.weight", GDL_SHAPE(fout, fin), GDL__TORCH, fin, fout, b);
  return GDL_OK;
}

static gdl_tensor *gconv_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  gdl_graph *g = gdl__layer_graph(aux, "graph_conv");
  gdl_tensor *w = gdl__edge_weight(g, x->dtype);
  gdl_tensor *agg = gdl_gspmm(ctx, g, w ? GDL_MSG_U_MUL_E : GDL_MSG_COPY_U, (gdl_reduce)l->act, x, w);
  gdl_tensor *y = gdl_linear(ctx, agg, l->t[0], l->flag ? l->t[1] : NULL);
  return gdl_add(ctx, y, gdl_linear(ctx, x, l->t[l->flag ? 2 : 1], NULL));
}

static const gdl_layer_type gconv_kind = {"graph_conv", gconv_build, gconv_forward};

gdl_layer *gdl_layer_graph_conv(int64_t out, gdl_reduce aggr, bool bias) {
  GDL_ASSERT(out > 0, "graph_conv: out must be positive");
  gdl_layer *l = gdl__layer_new(&gconv_kind);
  l->n0 = out;
  l->act = aggr;
  l->flag = bias;
  return l;
}
