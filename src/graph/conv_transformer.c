/* TransformerConv (Shi et al.), PyG's layout:
 *
 *   q = W_q x + b_q, k = W_k x + b_k, v = W_v x + b_v      [N, H, C]
 *   alpha_uv = softmax_{u -> v}(<q_v, k_u> / sqrt(C))       per head, dropout in training
 *   out_v = sum_{u -> v} alpha_uv v_u  (heads concatenated or averaged) [+ W_skip x_v]
 *
 * Parameters lin_query/lin_key/lin_value .weight [H C, in] and .bias; with
 * root_weight lin_skip.weight [H C or C, in]. PyG's lin_skip also has a bias; a gdl
 * layer holds at most 6 tensors, so root_weight needs bias-free skip weights here and
 * lin_skip.bias is not supported (documented in docs/graphs.md). */
#include "graph/graph.h"
#include "nn/layer.h"

static gdl_status tr_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  int64_t fin, C = l->n0, H = l->n1;
  gdl_status st = gdl__need_features(l, in, &fin);
  if (st) return st;
  if (l->act) /* root_weight: q, k, v weights and biases + skip = 7 tensors */
    return gdl_error(GDL_ERR_UNSUPPORTED, "transformer_conv: root_weight needs 7 tensors and a gdl layer holds 6; "
                                          "set root_weight = false");
  l->out = GDL_SHAPE(l->flag ? H * C : C);
  static const char *const names[] = {"lin_query.weight", "lin_query.bias", "lin_key.weight",
                                      "lin_key.bias",     "lin_value.weight", "lin_value.bias"};
  for (int k = 0; k < 3; k++) {
    gdl__param(l, names[2 * k], GDL_SHAPE(H * C, fin), GDL__TORCH, fin, H * C, b);
    gdl__param(l, names[2 * k + 1], GDL_SHAPE(H * C), GDL__TORCH, fin, H * C, b);
  }
  return GDL_OK;
}

static gdl_tensor *tr_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  gdl_graph *g = gdl__layer_graph(aux, "transformer_conv");
  int64_t N = x->shape[0], C = l->n0, H = l->n1;
  gdl_tensor *q = gdl_linear(ctx, x, l->t[0], l->t[1]);
  gdl_tensor *k = gdl_linear(ctx, x, l->t[2], l->t[3]);
  gdl_tensor *v = gdl_reshape(ctx, gdl_linear(ctx, x, l->t[4], l->t[5]), GDL_SHAPE(N, H, C));
  gdl_tensor *s = gdl_affine(ctx, gdl_gsddmm(ctx, g, GDL_SDDMM_DOT, k, q, H), 1 / sqrt((double)C), 0);
  gdl_tensor *alpha = gdl_dropout(ctx, gdl_edge_softmax(ctx, g, s), l->f0, train);
  gdl_tensor *out = gdl_gspmm(ctx, g, GDL_MSG_U_MUL_E, GDL_REDUCE_SUM, v, alpha);
  return l->flag ? gdl_reshape(ctx, out, GDL_SHAPE(N, H * C)) : gdl_mean(ctx, out, 1, false);
}

static const gdl_layer_type tr_kind = {"transformer_conv", tr_build, tr_forward};

gdl_layer *gdl_layer_transformer_conv(int64_t out, int64_t heads, bool concat, double dropout, bool root_weight) {
  GDL_ASSERT(out > 0 && heads > 0, "transformer_conv: out and heads must be positive");
  gdl_layer *l = gdl__layer_new(&tr_kind);
  l->n0 = out;
  l->n1 = heads;
  l->flag = concat;
  l->f0 = dropout;
  l->act = root_weight;
  return l;
}
