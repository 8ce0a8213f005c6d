/* The generic layers: linear, activations, dropout, layer and batch norm,
 * embedding, flatten. Each is a kind (build + forward) and a constructor. */
#include <stdio.h>

#include "nn/layer.h"

static gdl_status need_axes(const gdl_layer *l, gdl_shape in, int min) {
  char b[96];
  if (in.ndim >= min) return GDL_OK;
  return gdl_error(GDL_ERR_SHAPE, "%s: input per sample must have at least %d axes, got %s",
                   l->kind->name, min, gdl_shape_str(in, b, sizeof b));
}

/* ---- linear ------------------------------------------------------------------ */

static gdl_status linear_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  gdl_status st = need_axes(l, in, 1);
  if (st) return st;
  int64_t fin = in.d[in.ndim - 1], fout = l->n0;
  l->out = in;
  l->out.d[in.ndim - 1] = fout;
  gdl_tensor *w = gdl__layer_tensor(l, "weight", b->dtype, GDL_SHAPE(fout, fin), true);
  gdl_init_fill(w, l->init, fin, fout, b->rng);
  if (l->flag) {
    gdl_tensor *bias = gdl__layer_tensor(l, "bias", b->dtype, GDL_SHAPE(fout), true);
    /* PyTorch draws the bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) by default. */
    gdl_init_fill(bias, l->init == GDL_INIT_DEFAULT ? GDL_INIT_TORCH_UNIFORM : GDL_INIT_ZEROS, fin,
                  fout, b->rng);
  }
  return GDL_OK;
}

static gdl_tensor *linear_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  return gdl_linear(ctx, x, l->t[0], l->flag ? l->t[1] : NULL);
}

static const gdl_layer_type linear_kind = {"linear", linear_build, linear_forward};

gdl_layer *gdl_layer_linear(int64_t out_features, bool bias, gdl_init init) {
  GDL_ASSERT(out_features > 0, "linear: out_features must be positive");
  gdl_layer *l = gdl__layer_new(&linear_kind);
  l->n0 = out_features;
  l->flag = bias;
  l->init = init;
  return l;
}

/* ---- activations ------------------------------------------------------------- */

static const char *const act_names[GDL_ACT_COUNT] = {"relu", "leaky_relu", "elu",  "gelu",
                                                     "silu", "sigmoid",    "tanh", "softplus"};

const char *gdl_activation_name(gdl_activation a) { return a < GDL_ACT_COUNT ? act_names[a] : "?"; }

static gdl_status same_shape_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  l->out = in;
  return GDL_OK;
}

static gdl_tensor *act_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  switch ((gdl_activation)l->act) {
    case GDL_ACT_RELU: return gdl_relu(ctx, x);
    case GDL_ACT_LEAKY_RELU: return gdl_leaky_relu(ctx, x, l->f0);
    case GDL_ACT_ELU: return gdl_elu(ctx, x, l->f0);
    case GDL_ACT_GELU: return gdl_gelu(ctx, x);
    case GDL_ACT_SILU: return gdl_silu(ctx, x);
    case GDL_ACT_SIGMOID: return gdl_sigmoid(ctx, x);
    case GDL_ACT_TANH: return gdl_tanh(ctx, x);
    case GDL_ACT_SOFTPLUS: return gdl_softplus(ctx, x);
    default: GDL_ASSERT(0, "unknown activation %d", l->act); return NULL;
  }
}

/* One kind per activation so that summaries and errors say "relu", not "activation". */
#define ACT_KIND(i) {act_names[i], same_shape_build, act_forward}
static const gdl_layer_type act_kinds[GDL_ACT_COUNT] = {
    ACT_KIND(0), ACT_KIND(1), ACT_KIND(2), ACT_KIND(3), ACT_KIND(4), ACT_KIND(5), ACT_KIND(6), ACT_KIND(7)};

gdl_layer *gdl_layer_activation(gdl_activation a, double alpha) {
  GDL_ASSERT(a >= 0 && a < GDL_ACT_COUNT, "unknown activation %d", (int)a);
  gdl_layer *l = gdl__layer_new(&act_kinds[a]);
  l->act = a;
  l->f0 = alpha;
  return l;
}

/* ---- dropout -------------------------------------------------------------------- */

static gdl_tensor *dropout_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  return gdl_dropout(ctx, x, l->f0, train);
}

static const gdl_layer_type dropout_kind = {"dropout", same_shape_build, dropout_forward};

gdl_layer *gdl_layer_dropout(double p) {
  GDL_ASSERT(p >= 0 && p < 1, "dropout: p must be in [0, 1), got %g", p);
  gdl_layer *l = gdl__layer_new(&dropout_kind);
  l->f0 = p;
  return l;
}

/* ---- layer norm ------------------------------------------------------------------ */

static gdl_status layer_norm_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  gdl_status st = need_axes(l, in, 1);
  if (st) return st;
  l->out = in;
  if (l->flag) {
    int64_t d = in.d[in.ndim - 1];
    gdl_tensor_fill(gdl__layer_tensor(l, "weight", b->dtype, GDL_SHAPE(d), true), 1);
    gdl__layer_tensor(l, "bias", b->dtype, GDL_SHAPE(d), true);
  }
  return GDL_OK;
}

static gdl_tensor *layer_norm_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  return gdl_layer_norm(ctx, x, l->flag ? l->t[0] : NULL, l->flag ? l->t[1] : NULL, l->f0);
}

static const gdl_layer_type layer_norm_kind = {"layer_norm", layer_norm_build, layer_norm_forward};

gdl_layer *gdl_layer_layer_norm(double eps, bool affine) {
  gdl_layer *l = gdl__layer_new(&layer_norm_kind);
  l->f0 = eps;
  l->flag = affine;
  return l;
}

/* ---- batch norm ------------------------------------------------------------------ */

static gdl_status batch_norm_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  gdl_status st = need_axes(l, in, 1);
  if (st) return st;
  int64_t c = in.d[0];
  l->out = in;
  gdl_tensor_fill(gdl__layer_tensor(l, "weight", b->dtype, GDL_SHAPE(c), true), 1);
  gdl__layer_tensor(l, "bias", b->dtype, GDL_SHAPE(c), true);
  gdl__layer_tensor(l, "running_mean", b->dtype, GDL_SHAPE(c), false);
  gdl_tensor_fill(gdl__layer_tensor(l, "running_var", b->dtype, GDL_SHAPE(c), false), 1);
  return GDL_OK;
}

static gdl_tensor *batch_norm_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  return gdl_batch_norm(ctx, x, l->t[0], l->t[1], l->t[2], l->t[3], train, l->f1, l->f0);
}

static const gdl_layer_type batch_norm_kind = {"batch_norm", batch_norm_build, batch_norm_forward};

gdl_layer *gdl_layer_batch_norm(double eps, double momentum) {
  gdl_layer *l = gdl__layer_new(&batch_norm_kind);
  l->f0 = eps;
  l->f1 = momentum;
  return l;
}

/* ---- embedding -------------------------------------------------------------------- */

static gdl_status embedding_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  l->out = in;
  GDL_ASSERT(in.ndim < GDL_MAX_DIMS - 1, "embedding: too many axes");
  l->out.d[l->out.ndim++] = l->n1;
  gdl_rng_fill_normal(b->rng, gdl__layer_tensor(l, "weight", b->dtype, GDL_SHAPE(l->n0, l->n1), true), 0, 1);
  return GDL_OK;
}

static gdl_tensor *embedding_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  return gdl_embedding(ctx, x, l->t[0]);
}

static const gdl_layer_type embedding_kind = {"embedding", embedding_build, embedding_forward};

gdl_layer *gdl_layer_embedding(int64_t num, int64_t dim) {
  GDL_ASSERT(num > 0 && dim > 0, "embedding: num and dim must be positive");
  gdl_layer *l = gdl__layer_new(&embedding_kind);
  l->n0 = num;
  l->n1 = dim;
  return l;
}

/* ---- flatten ------------------------------------------------------------------------ */

static gdl_status flatten_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  l->out = GDL_SHAPE(gdl_shape_numel(in));
  return GDL_OK;
}

static gdl_tensor *flatten_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  return x->ndim == 2 ? x : gdl_reshape(ctx, x, GDL_SHAPE(x->shape[0], -1));
}

static const gdl_layer_type flatten_kind = {"flatten", flatten_build, flatten_forward};

gdl_layer *gdl_layer_flatten(void) { return gdl__layer_new(&flatten_kind); }

/* ---- shortcut and concat: merges of earlier outputs (done by the model) ---------- */

static gdl_tensor *identity_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  return x;
}

static const gdl_layer_type shortcut_kind = {"shortcut", same_shape_build, identity_forward};

gdl_layer *gdl_layer_shortcut(int64_t from) {
  gdl_layer *l = gdl__layer_new(&shortcut_kind);
  l->merge = GDL_MERGE_ADD;
  l->nfrom = 1;
  l->from[0] = from;
  return l;
}

static const gdl_layer_type concat_kind = {"concat", same_shape_build, identity_forward};

gdl_layer *gdl_layer_concat(const int64_t *from, int n) {
  GDL_ASSERT(n >= 1 && n <= GDL_LAYER_MAX_FROM, "concat: between 1 and %d earlier layers, got %d",
             GDL_LAYER_MAX_FROM, n);
  gdl_layer *l = gdl__layer_new(&concat_kind);
  l->merge = GDL_MERGE_CAT;
  l->nfrom = n;
  memcpy(l->from, from, (size_t)n * sizeof *from);
  return l;
}
