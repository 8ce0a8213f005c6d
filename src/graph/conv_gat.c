/* GATConv (Velickovic et al.) and GATv2Conv (Brody et al.), multi-head, PyG's layout.
 *
 * GAT:   h = x W^T [N, H, C];  e_uv = LeakyReLU(<a_src, h_u> + <a_dst, h_v>)      per head
 * GATv2: h_l = x W_l^T + b_l, h_r = x W_r^T + b_r;  e_uv = <a, LeakyReLU(h_l[u] + h_r[v])>
 * alpha_uv = softmax over u -> v of e_uv (edge softmax), dropout on alpha in training,
 * out_v = sum_{u -> v} alpha_uv h_u (h_l for v2), heads concatenated [N, H C] or
 * averaged [N, C], + bias. Self loops are added (one per node) unless disabled.
 *
 * Parameters: GAT lin.weight [H C, in], att_src, att_dst [1, H, C], bias;
 * GATv2 lin_l.weight, lin_l.bias, lin_r.weight, lin_r.bias, att [1, H, C], bias.
 * Weights glorot, biases zero. Only GATv2 materialises [E, H, C] edge features
 * (as its score requires); GAT's messages are fused into one gSpMM. input_dropout
 * applies dropout to x before the linear map (fused with it for GAT: cheap on sparse
 * features; input_dropout_per_head draws one mask per head, as the heads of
 * Velickovic et al.'s code do); value_dropout applies dropout to h where the attention sums it (not
 * where the scores are computed), as Velickovic et al.'s code does. */
#include <stdlib.h>

#include "graph/graph.h"
#include "nn/layer.h"

enum { NO_LOOPS = 1, NO_BIAS = 2, V2 = 4, SHARE = 8 };
typedef struct {
  double input_p, value_p; /* dropout rates (f0, f1 hold the attention dropout and the slope) */
  bool per_head;           /* one input-dropout mask per head */
} gat_hp;
#define INPUT_P(l) (((const gat_hp *)(l)->hp)->input_p)
#define VALUE_P(l) (((const gat_hp *)(l)->hp)->value_p)

static gdl_status gat_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  int64_t fin, C = l->n0, H = l->n1;
  gdl_status st = gdl__need_features(l, in, &fin);
  if (st) return st;
  l->out = GDL_SHAPE(l->flag ? H * C : C);
  if (!(l->act & V2)) {
    gdl__param(l, "lin.weight", GDL_SHAPE(H * C, fin), GDL__GLOROT, fin, H * C, b);
    gdl__param(l, "att_src", GDL_SHAPE(1, H, C), GDL__GLOROT, C, H, b);
    gdl__param(l, "att_dst", GDL_SHAPE(1, H, C), GDL__GLOROT, C, H, b);
  } else {
    gdl__param(l, "lin_l.weight", GDL_SHAPE(H * C, fin), GDL__GLOROT, fin, H * C, b);
    gdl__param(l, "lin_l.bias", GDL_SHAPE(H * C), GDL__ZEROS, 0, 0, b);
    if (!(l->act & SHARE)) {
      gdl__param(l, "lin_r.weight", GDL_SHAPE(H * C, fin), GDL__GLOROT, fin, H * C, b);
      gdl__param(l, "lin_r.bias", GDL_SHAPE(H * C), GDL__ZEROS, 0, 0, b);
    }
    gdl__param(l, "att", GDL_SHAPE(1, H, C), GDL__GLOROT, C, H, b);
  }
  if (!(l->act & NO_BIAS)) gdl__param(l, "bias", l->out, GDL__ZEROS, 0, 0, b);
  return GDL_OK;
}

static gdl_tensor *gat_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  gdl_graph *g0 = gdl__layer_graph(aux, "gat");
  const gdl_graph *g = l->act & NO_LOOPS ? g0 : gdl__graph_loops(g0);
  int64_t N = x->shape[0], C = l->n0, H = l->n1;
  gdl_tensor *h, *score;
  int k = 0;
  if (!(l->act & V2)) {
    gdl_tensor *lin;
    if (INPUT_P(l) > 0 && ((const gat_hp *)l->hp)->per_head && train && H > 1) {
      gdl_tensor *parts[64];
      GDL_ASSERT(H <= 64, "gat: input_dropout_per_head supports at most 64 heads");
      for (int64_t hd = 0; hd < H; hd++)
        parts[hd] = gdl__dropout_linear(ctx, x, INPUT_P(l), train, gdl_slice(ctx, l->t[0], 0, hd * C, (hd + 1) * C, 1),
                                        NULL, gdl__feature_nonzeros(g0, x));
      lin = gdl_concat(ctx, parts, (int)H, 1);
    } else {
      lin = INPUT_P(l) > 0 ? gdl__dropout_linear(ctx, x, INPUT_P(l), train, l->t[0], NULL, gdl__feature_nonzeros(g0, x))
                           : gdl_linear(ctx, x, l->t[0], NULL);
    }
    h = gdl_reshape(ctx, lin, GDL_SHAPE(N, H, C));
    gdl_tensor *as = gdl_sum(ctx, gdl_mul(ctx, h, l->t[1]), -1, false);
    gdl_tensor *ad = gdl_sum(ctx, gdl_mul(ctx, h, l->t[2]), -1, false);
    score = gdl_leaky_relu(ctx, gdl_gsddmm(ctx, g, GDL_SDDMM_ADD, as, ad, 1), l->f1);
    k = 3;
  } else {
    if (INPUT_P(l) > 0) x = gdl_dropout(ctx, x, INPUT_P(l), train);
    h = gdl_reshape(ctx, gdl_linear(ctx, x, l->t[0], l->t[1]), GDL_SHAPE(N, H, C));
    gdl_tensor *hr = h;
    k = 2;
    if (!(l->act & SHARE)) {
      hr = gdl_reshape(ctx, gdl_linear(ctx, x, l->t[2], l->t[3]), GDL_SHAPE(N, H, C));
      k = 4;
    }
    gdl_tensor *m = gdl_leaky_relu(ctx, gdl_gsddmm(ctx, g, GDL_SDDMM_ADD, h, hr, 1), l->f1);
    score = gdl_sum(ctx, gdl_mul(ctx, m, l->t[k]), -1, false);
    k++;
  }
  gdl_tensor *alpha = gdl_dropout(ctx, gdl_edge_softmax(ctx, g, score), l->f0, train);
  if (VALUE_P(l) > 0) h = gdl_dropout(ctx, h, VALUE_P(l), train);
  gdl_tensor *out = gdl_gspmm(ctx, g, GDL_MSG_U_MUL_E, GDL_REDUCE_SUM, h, alpha);
  out = l->flag ? gdl_reshape(ctx, out, GDL_SHAPE(N, H * C)) : gdl_mean(ctx, out, 1, false);
  return k < l->nt ? gdl_add(ctx, out, l->t[k]) : out;
}

static const gdl_layer_type gat_kind = {"gat", gat_build, gat_forward};
static const gdl_layer_type gatv2_kind = {"gatv2", gat_build, gat_forward};

gdl_layer *gdl_layer_gat(int64_t out, gdl_gat_opts o) {
  GDL_ASSERT(out > 0 && o.heads > 0, "gat: out and heads must be positive");
  gdl_layer *l = gdl__layer_new(o.v2 ? &gatv2_kind : &gat_kind);
  l->n0 = out;
  l->n1 = o.heads;
  l->flag = o.concat;
  l->f0 = o.dropout;
  l->f1 = o.negative_slope;
  GDL_ASSERT(o.input_dropout >= 0 && o.input_dropout < 1, "gat: input_dropout must be in [0, 1)");
  GDL_ASSERT(o.value_dropout >= 0 && o.value_dropout < 1, "gat: value_dropout must be in [0, 1)");
  gat_hp *hp = malloc(sizeof *hp);
  GDL_ASSERT(hp, "out of memory");
  hp->input_p = o.input_dropout;
  hp->value_p = o.value_dropout;
  hp->per_head = o.input_dropout_per_head;
  l->hp = hp;
  l->act = (o.add_self_loops ? 0 : NO_LOOPS) | (o.bias ? 0 : NO_BIAS) | (o.v2 ? V2 : 0) |
           (o.v2 && o.share_weights ? SHARE : 0);
  return l;
}
