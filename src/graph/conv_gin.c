/* GINConv (Xu et al.) and GINEConv (Hu et al.), PyG's layout:
 *
 *   GIN:  out_v = nn((1 + eps) x_v + sum_{u -> v} x_u)
 *   GINE: out_v = nn((1 + eps) x_v + sum_{u -> v} ReLU(x_u + lin(e_uv)))
 *
 * nn = Linear(in, h0) [ReLU, Linear(h0, h1)]: nn.0.weight, nn.0.bias, nn.2.weight,
 * nn.2.bias; eps [1] (a parameter when train_eps, else a buffer, as in PyG);
 * GINE's lin.weight [in, edge_dim], lin.bias when edge_dim > 0. Further layers of a
 * deeper MLP (batch norm, ...) follow as their own sections: nn acts per node after
 * the aggregation, so that is the same function. GIN fuses the sum into one gSpMM;
 * GINE must materialise its [E, in] messages (the ReLU sits on each edge). */
#include "graph/graph.h"
#include "nn/layer.h"

static gdl_status gin_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  int64_t fin, h0 = l->n0, h1 = l->n1, ed = (int64_t)l->f1;
  gdl_status st = gdl__need_features(l, in, &fin);
  if (st) return st;
  if (h1 && ed > 0)
    return gdl_error(GDL_ERR_UNSUPPORTED, "gine: a two-linear nn with an edge projection needs 7 tensors "
                                          "(a gdl layer holds 6): use one linear (hidden2 = 0) and add the "
                                          "rest as [linear] sections");
  l->out = GDL_SHAPE(h1 ? h1 : h0);
  gdl__param(l, "nn.0.weight", GDL_SHAPE(h0, fin), GDL__TORCH, fin, h0, b);
  gdl__param(l, "nn.0.bias", GDL_SHAPE(h0), GDL__TORCH, fin, h0, b);
  if (h1) {
    gdl__param(l, "nn.2.weight", GDL_SHAPE(h1, h0), GDL__TORCH, h0, h1, b);
    gdl__param(l, "nn.2.bias", GDL_SHAPE(h1), GDL__TORCH, h0, h1, b);
  }
  gdl_tensor_fill(gdl__layer_tensor(l, "eps", b->dtype, GDL_SHAPE(1), l->flag), l->f0);
  if (ed > 0) {
    gdl__param(l, "lin.weight", GDL_SHAPE(fin, ed), GDL__TORCH, ed, fin, b);
    gdl__param(l, "lin.bias", GDL_SHAPE(fin), GDL__TORCH, ed, fin, b);
  }
  return GDL_OK;
}

static gdl_tensor *gin_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  gdl_graph *g = gdl__layer_graph(aux, l->kind->name);
  int k = l->n1 ? 4 : 2;
  gdl_tensor *eps = l->t[k], *agg;
  if (l->act) { /* GINE */
    gdl_tensor *ea = gdl__edge_attr(g, x->dtype);
    GDL_ASSERT(ea, "gine: the graph has no edge_attr");
    if (l->f1 > 0) ea = gdl_linear(ctx, ea, l->t[k + 1], l->t[k + 2]);
    GDL_ASSERT(ea->shape[1] == x->shape[1], "gine: edge_attr has width %lld, node features %lld (set edge_dim)",
               (long long)ea->shape[1], (long long)x->shape[1]);
    gdl_tensor *m = gdl_relu(ctx, gdl_add(ctx, gdl_gsddmm(ctx, g, GDL_SDDMM_COPY_U, x, NULL, 1), ea));
    agg = gdl_gspmm(ctx, g, GDL_MSG_COPY_E, GDL_REDUCE_SUM, NULL, m);
  } else {
    agg = gdl_gspmm(ctx, g, GDL_MSG_COPY_U, GDL_REDUCE_SUM, x, NULL);
  }
  gdl_tensor *h = gdl_add(ctx, agg, gdl_add(ctx, x, gdl_mul(ctx, x, eps)));
  h = gdl_linear(ctx, h, l->t[0], l->t[1]);
  if (l->n1) h = gdl_linear(ctx, gdl_relu(ctx, h), l->t[2], l->t[3]);
  return h;
}

static const gdl_layer_type gin_kind = {"gin", gin_build, gin_forward};
static const gdl_layer_type gine_kind = {"gine", gin_build, gin_forward};

gdl_layer *gdl_layer_gin(int64_t hidden, int64_t hidden2, double eps, bool train_eps, bool gine, int64_t edge_dim) {
  GDL_ASSERT(hidden > 0 && hidden2 >= 0, "gin: hidden sizes must be positive");
  gdl_layer *l = gdl__layer_new(gine ? &gine_kind : &gin_kind);
  l->n0 = hidden;
  l->n1 = hidden2;
  l->f0 = eps;
  l->flag = train_eps;
  l->act = gine;
  l->f1 = gine ? (double)edge_dim : 0;
  return l;
}
