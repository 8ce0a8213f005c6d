/* Config sections of the graph layers (listed in src/graph/sections.def). Every
 * conv section also takes activation (none | relu | elu | ...) and alpha, adding
 * that activation layer after it. Keys: docs/config.md, section "Graphs". */
#include <stdio.h>

#include "graph/graph.h"
#include "nn/layer.h"

static const char *const act_names[] = {"relu", "leaky_relu", "elu", "gelu", "silu", "sigmoid", "tanh",
                                        "softplus", "none", NULL};
static const char *const aggr_names[] = {"add", "mean", "max", "min", "sum", NULL};

static gdl_status add(gdl_model *m, gdl_section *s, gdl_layer *l) {
  gdl_status st = gdl_model_add(m, l);
  return st ? gdl_section_error(s, NULL, "%s", gdl_last_error()) : GDL_OK;
}

static gdl_status add_then_act(gdl_model *m, gdl_section *s, gdl_layer *l) {
  int a;
  double alpha;
  gdl_status st = gdl_section_enum(s, "activation", act_names, GDL_ACT_COUNT, &a);
  if (!st) st = gdl_section_double(s, "alpha", a == GDL_ACT_ELU ? 1.0 : 0.01, &alpha);
  if (st) {
    gdl_layer_free(l);
    return st;
  }
  st = add(m, s, l);
  if (st || a == GDL_ACT_COUNT) return st;
  return add(m, s, gdl_layer_activation((gdl_activation)a, alpha));
}

static gdl_status positive(gdl_section *s, const char *key, int64_t def, int64_t *v) {
  gdl_status st = gdl_section_int(s, key, def, v);
  if (!st && *v <= 0) st = gdl_section_error(s, key, "must be a positive integer (required)");
  return st;
}

static gdl_status aggr(gdl_section *s, int def, gdl_reduce *r) {
  int a;
  gdl_status st = gdl_section_enum(s, "aggr", aggr_names, def, &a);
  *r = a == 4 || a == 0 ? GDL_REDUCE_SUM : a == 1 ? GDL_REDUCE_MEAN : a == 2 ? GDL_REDUCE_MAX : GDL_REDUCE_MIN;
  return st;
}

static gdl_status prob(gdl_section *s, const char *key, double *p) {
  gdl_status st = gdl_section_double(s, key, 0, p);
  if (!st && (*p < 0 || *p >= 1)) st = gdl_section_error(s, key, "must be in [0, 1)");
  return st;
}

/* mlp = h0[, h1]: the hidden sizes of a layer's inner MLP (one or two linears). */
static gdl_status mlp_sizes(gdl_section *s, int64_t *h0, int64_t *h1) {
  int64_t v[2] = {0, 0};
  int n = 0;
  gdl_status st = gdl_section_ints(s, "mlp", v, 2, &n);
  if (!st && (n < 1 || v[0] <= 0 || (n == 2 && v[1] <= 0)))
    st = gdl_section_error(s, "mlp", "is required: one or two positive sizes (e.g. mlp = 64, 64)");
  *h0 = v[0];
  *h1 = n == 2 ? v[1] : 0;
  return st;
}

gdl_status gdl__gcn_section(gdl_model *m, gdl_section *s) {
  int64_t out;
  bool loops, improved, normalize, bias;
  double p;
  gdl_status st = positive(s, "out", 0, &out);
  if (!st) st = prob(s, "input_dropout", &p);
  if (!st) st = gdl_section_bool(s, "add_self_loops", true, &loops);
  if (!st) st = gdl_section_bool(s, "improved", false, &improved);
  if (!st) st = gdl_section_bool(s, "normalize", true, &normalize);
  if (!st) st = gdl_section_bool(s, "bias", true, &bias);
  if (st) return st;
  int f = (loops ? 0 : GDL_GCN_NO_SELF_LOOPS) | (improved ? GDL_GCN_IMPROVED : 0) |
          (normalize ? 0 : GDL_GCN_NO_NORMALIZE) | (bias ? 0 : GDL_GCN_NO_BIAS);
  return add_then_act(m, s, gdl_layer_gcn(out, f, p));
}

gdl_status gdl__gat_section(gdl_model *m, gdl_section *s) {
  int64_t out;
  gdl_gat_opts o = GDL_GAT_DEFAULT;
  o.v2 = !strcmp(gdl_section_name(s), "gatv2");
  gdl_status st = positive(s, "out", 0, &out);
  if (!st) st = positive(s, "heads", 1, &o.heads);
  if (!st) st = gdl_section_bool(s, "concat", true, &o.concat);
  if (!st) st = gdl_section_double(s, "negative_slope", 0.2, &o.negative_slope);
  if (!st) st = prob(s, "dropout", &o.dropout);
  if (!st) st = prob(s, "input_dropout", &o.input_dropout);
  if (!st) st = prob(s, "value_dropout", &o.value_dropout);
  if (!st && !o.v2) st = gdl_section_bool(s, "input_dropout_per_head", false, &o.input_dropout_per_head);
  if (!st) st = gdl_section_bool(s, "add_self_loops", true, &o.add_self_loops);
  if (!st) st = gdl_section_bool(s, "bias", true, &o.bias);
  if (!st && o.v2) st = gdl_section_bool(s, "share_weights", false, &o.share_weights);
  return st ? st : add_then_act(m, s, gdl_layer_gat(out, o));
}

gdl_status gdl__sage_section(gdl_model *m, gdl_section *s) {
  int64_t out;
  gdl_reduce r;
  bool normalize, bias;
  gdl_status st = positive(s, "out", 0, &out);
  if (!st) st = aggr(s, 1, &r);
  if (!st) st = gdl_section_bool(s, "normalize", false, &normalize);
  if (!st) st = gdl_section_bool(s, "bias", true, &bias);
  return st ? st : add_then_act(m, s, gdl_layer_sage(out, r, normalize, bias));
}

gdl_status gdl__gin_section(gdl_model *m, gdl_section *s) {
  int64_t h0, h1, edge_dim = 0;
  double eps;
  bool train_eps, gine = !strcmp(gdl_section_name(s), "gine");
  gdl_status st = mlp_sizes(s, &h0, &h1);
  if (!st) st = gdl_section_double(s, "eps", 0, &eps);
  if (!st) st = gdl_section_bool(s, "train_eps", false, &train_eps);
  if (!st && gine) st = gdl_section_int(s, "edge_dim", 0, &edge_dim);
  return st ? st : add_then_act(m, s, gdl_layer_gin(h0, h1, eps, train_eps, gine, edge_dim));
}

gdl_status gdl__edge_conv_section(gdl_model *m, gdl_section *s) {
  int64_t h0, h1, k = 0;
  gdl_reduce r;
  gdl_status st = mlp_sizes(s, &h0, &h1);
  if (!st) st = aggr(s, 2, &r);
  if (!st && !strcmp(gdl_section_name(s), "dynamic_edge_conv")) st = positive(s, "k", 0, &k);
  return st ? st : add_then_act(m, s, gdl_layer_edge_conv(h0, h1, r, k));
}

gdl_status gdl__cheb_section(gdl_model *m, gdl_section *s) {
  int64_t out, K;
  bool bias;
  gdl_status st = positive(s, "out", 0, &out);
  if (!st) st = positive(s, "K", 2, &K);
  if (!st && K > 5) st = gdl_section_error(s, "K", "must be at most 5");
  if (!st) st = gdl_section_bool(s, "bias", true, &bias);
  return st ? st : add_then_act(m, s, gdl_layer_cheb(out, (int)K, bias));
}

gdl_status gdl__graph_conv_section(gdl_model *m, gdl_section *s) {
  int64_t out;
  gdl_reduce r;
  bool bias;
  gdl_status st = positive(s, "out", 0, &out);
  if (!st) st = aggr(s, 0, &r);
  if (!st) st = gdl_section_bool(s, "bias", true, &bias);
  return st ? st : add_then_act(m, s, gdl_layer_graph_conv(out, r, bias));
}

gdl_status gdl__transformer_section(gdl_model *m, gdl_section *s) {
  int64_t out, heads;
  bool concat, root;
  double p;
  gdl_status st = positive(s, "out", 0, &out);
  if (!st) st = positive(s, "heads", 1, &heads);
  if (!st) st = gdl_section_bool(s, "concat", true, &concat);
  if (!st) st = prob(s, "dropout", &p);
  if (!st) st = gdl_section_bool(s, "root_weight", false, &root);
  return st ? st : add_then_act(m, s, gdl_layer_transformer_conv(out, heads, concat, p, root));
}

gdl_status gdl__global_pool_section(gdl_model *m, gdl_section *s) {
  const char *n = gdl_section_name(s);
  gdl_reduce r = !strcmp(n, "global_add_pool") ? GDL_REDUCE_SUM
                 : !strcmp(n, "global_mean_pool") ? GDL_REDUCE_MEAN : GDL_REDUCE_MAX;
  return add(m, s, gdl_layer_graph_pool(r));
}

gdl_status gdl__attention_pool_section(gdl_model *m, gdl_section *s) {
  return add(m, s, gdl_layer_attention_pool());
}

gdl_status gdl__topk_pool_section(gdl_model *m, gdl_section *s) {
  double ratio;
  gdl_status st = gdl_section_double(s, "ratio", 0.5, &ratio);
  if (!st && !(ratio > 0 && ratio <= 1)) st = gdl_section_error(s, "ratio", "must be in (0, 1]");
  return st ? st : add_then_act(m, s, gdl_layer_topk_pool(ratio));
}
