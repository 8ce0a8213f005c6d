/* Graph layers against PyTorch Geometric: outputs and gradients (of x and of every
 * parameter) of each layer on the two-graph batch of tests/ref/graph_pyg.npz, made by
 * tests/ref/gen_graph.py with torch_geometric (float64). Parameters are loaded by
 * PyG's names, so this also checks that PyG-trained weights load unchanged. */
#include <string.h>

#include "test.h"

static gdl_arrays *ref;

static gdl_tensor *get(const char *fmt, const char *name) {
  char key[256];
  snprintf(key, sizeof key, fmt, name);
  return gdl_arrays_get(ref, key);
}

static gdl_graph *ref_graph(bool weighted) {
  gdl_tensor *ei = gdl_arrays_get(ref, "edge_index"), *x = gdl_arrays_get(ref, "x");
  gdl_graph *g = gdl_graph_new(x->shape[0], ei);
  g->edge_attr = gdl_tensor_clone(gdl_arrays_get(ref, "edge_attr"));
  g->batch = gdl_tensor_clone(gdl_arrays_get(ref, "batch"));
  g->ptr = gdl_tensor_clone(gdl_arrays_get(ref, "ptr"));
  g->num_graphs = 2;
  if (weighted) g->edge_weight = gdl_tensor_clone(gdl_arrays_get(ref, "edge_weight"));
  return g;
}

static double max_diff(const gdl_tensor *a, const gdl_tensor *b, double *scale) {
  double d = 0, s = 0;
  if (!a || !b || gdl_tensor_numel(a) != gdl_tensor_numel(b)) return INFINITY;
  for (int64_t i = 0; i < gdl_tensor_numel(a); i++) {
    d = fmax(d, fabs(gdl_tensor_get(a, i) - gdl_tensor_get(b, i)));
    s = fmax(s, fabs(gdl_tensor_get(b, i)));
  }
  if (scale) *scale = s;
  return d;
}

typedef struct {
  const char *name;
  gdl_layer *(*make)(int k); /* the k-th layer of the model, NULL after the last */
  const char *prefix[3];     /* PyG name prefix of layer k's parameters ("" = none) */
} refcase;

static gdl_layer *l_gcn(int k) { return k ? NULL : gdl_layer_gcn(3, 0, 0); }
static gdl_layer *l_gcn_imp(int k) { return k ? NULL : gdl_layer_gcn(3, GDL_GCN_IMPROVED, 0); }
static gdl_layer *l_cheb4(int k) { return k ? NULL : gdl_layer_cheb(3, 4, true); }
static gdl_layer *l_gcn_nl(int k) { return k ? NULL : gdl_layer_gcn(3, GDL_GCN_NO_SELF_LOOPS, 0); }
static gdl_layer *l_gat(int k) {
  gdl_gat_opts o = GDL_GAT_DEFAULT;
  o.heads = 2;
  return k ? NULL : gdl_layer_gat(3, o);
}
static gdl_layer *l_gat_mean(int k) {
  gdl_gat_opts o = GDL_GAT_DEFAULT;
  o.heads = 2, o.concat = false, o.negative_slope = 0.1;
  return k ? NULL : gdl_layer_gat(3, o);
}
static gdl_layer *l_gatv2(int k) {
  gdl_gat_opts o = GDL_GAT_DEFAULT;
  o.heads = 2, o.v2 = true;
  return k ? NULL : gdl_layer_gat(3, o);
}
static gdl_layer *l_sage_mean(int k) { return k ? NULL : gdl_layer_sage(3, GDL_REDUCE_MEAN, false, true); }
static gdl_layer *l_sage_max(int k) { return k ? NULL : gdl_layer_sage(3, GDL_REDUCE_MAX, false, true); }
static gdl_layer *l_gin(int k) { return k ? NULL : gdl_layer_gin(5, 3, 0.0, true, false, 0); }
static gdl_layer *l_gine(int k) { return k ? NULL : gdl_layer_gin(5, 0, 0.0, true, true, 3); }
static gdl_layer *l_edge(int k) { return k ? NULL : gdl_layer_edge_conv(5, 3, GDL_REDUCE_MAX, 0); }
static gdl_layer *l_edge_mean(int k) { return k ? NULL : gdl_layer_edge_conv(5, 0, GDL_REDUCE_MEAN, 0); }
static gdl_layer *l_dyn(int k) { return k ? NULL : gdl_layer_edge_conv(5, 3, GDL_REDUCE_MAX, 3); }
static gdl_layer *l_cheb(int k) { return k ? NULL : gdl_layer_cheb(3, 3, true); }
static gdl_layer *l_gconv(int k) { return k ? NULL : gdl_layer_graph_conv(3, GDL_REDUCE_SUM, true); }
static gdl_layer *l_gconv_mean(int k) { return k ? NULL : gdl_layer_graph_conv(3, GDL_REDUCE_MEAN, true); }
static gdl_layer *l_tr(int k) { return k ? NULL : gdl_layer_transformer_conv(3, 2, true, 0, false); }
static gdl_layer *l_tr_mean(int k) { return k ? NULL : gdl_layer_transformer_conv(3, 2, false, 0, false); }
static gdl_layer *l_add(int k) { return k ? NULL : gdl_layer_graph_pool(GDL_REDUCE_SUM); }
static gdl_layer *l_mean(int k) { return k ? NULL : gdl_layer_graph_pool(GDL_REDUCE_MEAN); }
static gdl_layer *l_max(int k) { return k ? NULL : gdl_layer_graph_pool(GDL_REDUCE_MAX); }
static gdl_layer *l_att(int k) { return k ? NULL : gdl_layer_attention_pool(); }
static gdl_layer *l_topk(int k) { return k ? NULL : gdl_layer_topk_pool(0.5); }
static gdl_layer *l_topk_gcn(int k) {
  return k == 0 ? gdl_layer_topk_pool(0.6) : k == 1 ? gdl_layer_gcn(2, 0, 0) : k == 2 ? gdl_layer_graph_pool(GDL_REDUCE_SUM) : NULL;
}

static const refcase cases[] = {
    {"gcn", l_gcn, {""}},           {"gcn_w", l_gcn, {""}}, {"gcn_improved_w", l_gcn_imp, {""}},   {"gcn_noloops", l_gcn_nl, {""}},
    {"gat", l_gat, {""}},           {"gat_mean", l_gat_mean, {""}},      {"gatv2", l_gatv2, {""}},
    {"sage_mean", l_sage_mean, {""}}, {"sage_max", l_sage_max, {""}},    {"gin", l_gin, {""}},
    {"gine", l_gine, {""}},         {"edge_conv", l_edge, {""}},         {"edge_conv_mean", l_edge_mean, {""}},
    {"dynamic_edge_conv", l_dyn, {""}}, {"cheb", l_cheb, {""}},          {"graph_conv", l_gconv, {""}},
    {"graph_conv_mean", l_gconv_mean, {""}}, {"graph_conv_w", l_gconv, {""}}, {"cheb_w", l_cheb4, {""}}, {"transformer", l_tr, {""}}, {"transformer_mean", l_tr_mean, {""}},
    {"add_pool", l_add, {""}},      {"mean_pool", l_mean, {""}},         {"max_pool", l_max, {""}},
    {"attention_pool", l_att, {""}}, {"topk_pool", l_topk, {""}},        {"topk_gcn", l_topk_gcn, {"pool.", "conv.", ""}},
};

static void run_case(const refcase *c, gdl_graph *g) {
  gdl_tensor *x0 = gdl_arrays_get(ref, "x");
  gdl_model *m = gdl_model_new(GDL_F64, GDL_SHAPE(x0->shape[1]), 1);
  for (int k = 0;; k++) {
    gdl_layer *l = c->make(k);
    if (!l) break;
    CHECK(gdl_model_add(m, l) == GDL_OK, "%s: layer %d: %s", c->name, k, gdl_last_error());
  }
  /* PyG's state_dict under gdl's names */
  gdl_arrays *state = gdl_arrays_new();
  char key[256], pre[64];
  for (int i = 0; i < gdl_arrays_count(ref); i++) {
    const char *n = gdl_arrays_name(ref, i);
    snprintf(pre, sizeof pre, "%s.param.", c->name);
    if (strncmp(n, pre, strlen(pre))) continue;
    const char *inner = n + strlen(pre);
    for (int k = 0; k < 3; k++) {
      const char *p = c->prefix[k] ? c->prefix[k] : NULL;
      if (!p || strncmp(inner, p, strlen(p))) continue;
      snprintf(key, sizeof key, "layers.%d.%s", k, inner + strlen(p));
      gdl_arrays_put(state, key, gdl_arrays_at(ref, i), false);
      break;
    }
  }
  gdl_status st = gdl_model_load_state(m, state, c->name);
  CHECK(st == GDL_OK, "%s: loading PyG's parameters: %s", c->name, gdl_last_error());
  gdl_arrays_free(state);
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_tensor *x = gdl_tensor_new(ctx, GDL_F64, gdl_tensor_shape(x0));
  gdl_tensor_copy(x, x0);
  x->requires_grad = true;
  gdl_model_zero_grad(m);
  gdl_tensor *y = gdl_graph_forward(m, ctx, x, g, true);
  gdl_tensor *R = get("%s.R", c->name), *want = get("%s.out", c->name);
  double s, d = max_diff(y, want, &s);
  CHECK(d <= 1e-10 * (1 + s), "%s: output differs from PyG by %.3g", c->name, d);
  gdl_tensor *Rt = gdl_tensor_new(ctx, GDL_F64, gdl_tensor_shape(y));
  if (R && gdl_tensor_numel(R) == gdl_tensor_numel(y)) gdl_tensor_copy(Rt, R);
  gdl_tensor *loss = gdl_sum(ctx, gdl_mul(ctx, y, Rt), GDL_AXIS_ALL, false);
  CHECK(gdl_backward(ctx, loss) == GDL_OK, "%s: backward: %s", c->name, gdl_last_error());
  d = max_diff(x->grad, get("%s.grad_x", c->name), &s);
  CHECK(d <= 1e-10 * (1 + s), "%s: d/dx differs from PyG by %.3g", c->name, d);
  int ngrads = 0;
  for (int i = 0; i < gdl_model_param_count(m); i++) {
    const char *pn = gdl_model_param_name(m, i); /* layers.<k>.<inner> */
    int k = atoi(pn + 7);
    const char *inner = strchr(pn + 7, '.') + 1;
    snprintf(key, sizeof key, "%s.grad.%s%s", c->name, c->prefix[k] ? c->prefix[k] : "", inner);
    gdl_tensor *gw = gdl_arrays_get(ref, key);
    CHECK(gw != NULL, "%s: no reference gradient for %s", c->name, key);
    if (!gw) continue;
    d = max_diff(gdl_model_param(m, i)->grad, gw, &s);
    CHECK(d <= 1e-10 * (1 + s), "%s: d/d%s differs from PyG by %.3g", c->name, inner, d);
    ngrads++;
  }
  printf("%-18s output, d/dx and %d parameter gradients match PyG\n", c->name, ngrads);
  gdl_ctx_free(ctx);
  gdl_model_free(m);
}

int main(void) {
  ref = gdl_npz_load("tests/ref/graph_pyg.npz");
  CHECK(ref != NULL, "fixtures: %s", gdl_last_error());
  if (!ref) return test_report();
  gdl_graph *g = ref_graph(false), *gw = ref_graph(true);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    size_t n = strlen(cases[i].name);
    run_case(&cases[i], n > 2 && !strcmp(cases[i].name + n - 2, "_w") ? gw : g);
  }
  gdl_graph_free(g);
  gdl_graph_free(gw);
  gdl_arrays_free(ref);
  return test_report();
}
