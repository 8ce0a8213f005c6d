/* SAGEConv (Hamilton et al.), PyG's layout:
 *
 *   out_v = W_l aggr_{u -> v} x_u + b_l + W_r x_v,   aggr = mean | max | sum
 *
 * then, with normalize, out_v / max(|out_v|, 1e-12). Parameters lin_l.weight [out,
 * in], lin_l.bias [out], lin_r.weight [out, in] (torch's Linear init). For mean and
 * sum, W_l is applied before the aggregation when that is cheaper. */
#include "graph/graph.h"
#include "nn/layer.h"

static gdl_status sage_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  int64_t fin, fout = l->n0;
  gdl_status st = gdl__need_features(l, in, &fin);
  if (st) return st;
  l->out = GDL_SHAPE(fout);
  gdl__param(l, "lin_l.weight", GDL_SHAPE(fout, fin), GDL__TORCH, fin, fout, b);
  if (l->n1) gdl__param(l, "lin_l.bias", GDL_SHAPE(fout), GDL__TORCH, fin, fout, b);
  gdl__param(l, "lin_r.weight", GDL_SHAPE(fout, fin), GDL__TORCH, fin, fout, b);
  return GDL_OK;
}

/* Rows divided by their L2 norm (at least eps). */
gdl_tensor *gdl__l2_normalize(gdl_ctx *ctx, gdl_tensor *y) {
  gdl_tensor *n2 = gdl_sum(ctx, gdl_mul(ctx, y, y), -1, true);
  return gdl_div(ctx, y, gdl_sqrt(ctx, gdl_affine(ctx, n2, 1.0, 1e-24)));
}

static gdl_tensor *sage_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  gdl_graph *g = gdl__layer_graph(aux, "sage");
  gdl_reduce r = (gdl_reduce)l->act;
  gdl_tensor *Wl = l->t[0], *bl = l->n1 ? l->t[1] : NULL, *Wr = l->t[l->n1 ? 2 : 1], *y;
  if (r != GDL_REDUCE_MAX && r != GDL_REDUCE_MIN && Wl->shape[0] < Wl->shape[1]) {
    y = gdl_gspmm(ctx, g, GDL_MSG_COPY_U, r, gdl_linear(ctx, x, Wl, NULL), NULL);
    if (bl) y = gdl_add(ctx, y, bl);
  } else {
    y = gdl_linear(ctx, gdl_gspmm(ctx, g, GDL_MSG_COPY_U, r, x, NULL), Wl, bl);
  }
  y = gdl_add(ctx, y, gdl_linear(ctx, x, Wr, NULL));
  return l->flag ? gdl__l2_normalize(ctx, y) : y;
}

static const gdl_layer_type sage_kind = {"sage", sage_build, sage_forward};

gdl_layer *gdl_layer_sage(int64_t out, gdl_reduce aggr, bool normalize, bool bias) {
  GDL_ASSERT(out > 0, "sage: out must be positive");
  gdl_layer *l = gdl__layer_new(&sage_kind);
  l->n0 = out;
  l->n1 = bias;
  l->act = aggr;
  l->flag = normalize;
  return l;
}
