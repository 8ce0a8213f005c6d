/* Losses with scalar outputs (mean or sum over samples). */
#include <tgmath.h>

#include "core/internal.h"
#include "ops/sample.h"

static void check_targets(const gdl_tensor *logits, const gdl_tensor *target, gdl_ce_opts o,
                          const char *op) {
  GDL_CHECK_FLOAT(logits, op);
  GDL_ASSERT(logits->ndim == 2, "%s: input must be [N, C]", op);
  GDL_ASSERT(target->ndim == 1 && target->shape[0] == logits->shape[0] &&
                 (target->dtype == GDL_I64 || target->dtype == GDL_I32) && gdl_tensor_is_contiguous(target),
             "%s: target must be contiguous int [N]", op);
  for (int64_t i = 0; i < target->shape[0]; i++) {
    int64_t y = gdl__index_at(target, i);
    GDL_ASSERT(y == o.ignore_index || (y >= 0 && y < logits->shape[1]),
               "%s: target %lld out of range [0, %lld)", op, (long long)y, (long long)logits->shape[1]);
  }
}

static int64_t count_kept(const gdl_tensor *target, int64_t ignore) {
  int64_t k = 0;
  for (int64_t i = 0; i < target->shape[0]; i++) k += gdl__index_at(target, i) != ignore;
  return k;
}

/* ---- cross entropy with label smoothing e over C classes ---------------- */
/* loss_i = (1 - e)(lse_i - x_{i,y}) + e (lse_i - mean_c x_ic);
 * dx_ic = [softmax_ic - (1 - e)[c = y] - e / C] / denominator. */

void gdl__cross_entropy_fwd(gdl_node *n) {
  gdl_tensor *x = n->in[0], *y = n->in[1], *out = n->out;
  int64_t N = x->shape[0], C = x->shape[1], ignore = n->i[0];
  double eps = n->f[0], denom = n->f[1];
  const void *xs = gdl__contig(n->ctx, x);
  n->saved = (void *)xs;
  double total = 0;
  GDL_FLOAT_SWITCH(x->dtype, T, {
    const T *X = xs;
    for (int64_t i = 0; i < N; i++) { /* sequential: the loss is one number */
      int64_t t = gdl__index_at(y, i);
      if (t == ignore) continue;
      const T *xr = X + i * C;
      double m = xr[0], z = 0, s = 0;
      for (int64_t c = 1; c < C; c++) m = xr[c] > m ? xr[c] : m;
      for (int64_t c = 0; c < C; c++) {
        z += exp((double)xr[c] - m);
        s += xr[c];
      }
      double lse = m + log(z);
      total += (1 - eps) * (lse - xr[t]) + eps * (lse - s / (double)C);
    }
    *(T *)out->data = (T)(total / denom);
  });
}

void gdl__cross_entropy_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *x = n->in[0], *y = n->in[1], *g = gdl__grad(ctx, x);
  if (!g) return;
  int64_t N = x->shape[0], C = x->shape[1], ignore = n->i[0];
  double eps = n->f[0], denom = n->f[1];
  GDL_FLOAT_SWITCH(x->dtype, T, {
    const T *X = n->saved;
    T *DX = g->data, gy = *(const T *)n->out->grad->data / (T)denom;
    GDL_PARALLEL_FOR_IF(N * C > GDL_PAR_MIN)
    for (int64_t i = 0; i < N; i++) {
      int64_t t = gdl__index_at(y, i);
      if (t == ignore) continue;
      const T *xr = X + i * C;
      T m = xr[0], z = 0;
      for (int64_t c = 1; c < C; c++) m = xr[c] > m ? xr[c] : m;
      for (int64_t c = 0; c < C; c++) z += exp(xr[c] - m);
      for (int64_t c = 0; c < C; c++)
        DX[i * C + c] += gy * (exp(xr[c] - m) / z - (T)(1 - eps) * (c == t) - (T)(eps / (double)C));
    }
  });
}

static gdl_tensor *class_loss(gdl_ctx *ctx, int op, gdl_tensor *x, gdl_tensor *target, gdl_ce_opts o) {
  check_targets(x, target, o, gdl_op_name(op));
  GDL_ASSERT(o.label_smoothing >= 0 && o.label_smoothing <= 1, "%s: label_smoothing must be in [0, 1]",
             gdl_op_name(op));
  gdl_tensor *out = gdl_tensor_new(ctx, x->dtype, GDL_SCALAR);
  gdl_node *n = gdl__node(ctx, op, out, 2, (gdl_tensor *[]){x, target});
  int64_t kept = count_kept(target, o.ignore_index);
  n->i[0] = o.ignore_index;
  n->f[0] = o.label_smoothing;
  /* PyTorch: a mean over zero kept samples is NaN; we give 0 instead of NaN. */
  n->f[1] = o.reduction == GDL_LOSS_MEAN ? (kept ? (double)kept : 1.0) : 1.0;
  return gdl__run(n);
}

gdl_tensor *gdl_cross_entropy(gdl_ctx *ctx, gdl_tensor *logits, gdl_tensor *target, gdl_ce_opts o) {
  return class_loss(ctx, GDL_OP_CROSS_ENTROPY, logits, target, o);
}

static gdl_tensor *class_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v, int op) {
  if (v > 2) return NULL;
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(6, 4), -2, 2);
  gdl_tensor *y = gdl__sample_index(ctx, rng, GDL_SHAPE(6), 4);
  gdl_ce_opts o = GDL_CE_DEFAULT;
  if (v >= 1) ((int64_t *)y->data)[2] = o.ignore_index;
  if (v == 1) o.label_smoothing = op == GDL_OP_CROSS_ENTROPY ? 0.2 : 0;
  if (v == 2) o.reduction = GDL_LOSS_SUM;
  if (op == GDL_OP_NLL_LOSS) x = gdl_log_softmax(ctx, x, 1);
  return class_loss(ctx, op, x, y, o);
}

gdl_tensor *gdl__cross_entropy_sample(gdl_ctx *c, gdl_rng *r, gdl_dtype t, int v) {
  return class_sample(c, r, t, v, GDL_OP_CROSS_ENTROPY);
}

/* ---- negative log-likelihood: loss = -sum_i logp[i, y_i] / denominator ----- */

void gdl__nll_loss_fwd(gdl_node *n) {
  gdl_tensor *x = n->in[0], *y = n->in[1];
  double total = 0;
  for (int64_t i = 0; i < x->shape[0]; i++) {
    int64_t t = gdl__index_at(y, i);
    if (t != n->i[0]) total -= gdl_tensor_get(x, i * x->shape[1] + t);
  }
  gdl_tensor_set(n->out, 0, total / n->f[1]);
}

void gdl__nll_loss_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *x = n->in[0], *y = n->in[1], *g = gdl__grad(ctx, x);
  if (!g) return;
  double gy = gdl_tensor_get(n->out->grad, 0) / n->f[1];
  for (int64_t i = 0; i < x->shape[0]; i++) {
    int64_t t = gdl__index_at(y, i), k = i * x->shape[1] + t;
    if (t != n->i[0]) gdl_tensor_set(g, k, gdl_tensor_get(g, k) - gy);
  }
}

gdl_tensor *gdl_nll_loss(gdl_ctx *ctx, gdl_tensor *logp, gdl_tensor *target, gdl_ce_opts o) {
  GDL_ASSERT(o.label_smoothing == 0, "nll_loss: label smoothing is a cross_entropy option");
  return class_loss(ctx, GDL_OP_NLL_LOSS, logp, target, o);
}

gdl_tensor *gdl__nll_loss_sample(gdl_ctx *c, gdl_rng *r, gdl_dtype t, int v) {
  return class_sample(c, r, t, v, GDL_OP_NLL_LOSS);
}

/* ---- mean squared error: loss = sum (a - b)^2 / denominator ---------------- */

void gdl__mse_loss_fwd(gdl_node *n) {
  gdl_tensor *a = n->in[0], *b = n->in[1];
  int64_t N = gdl_tensor_numel(a);
  double total = 0;
  for (int64_t i = 0; i < N; i++) {
    double d = gdl_tensor_get(a, i) - gdl_tensor_get(b, i);
    total += d * d;
  }
  gdl_tensor_set(n->out, 0, total / n->f[0]);
}

void gdl__mse_loss_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *a = n->in[0], *b = n->in[1], *ga = gdl__grad(ctx, a), *gb = gdl__grad(ctx, b);
  int64_t N = gdl_tensor_numel(a);
  double gy = gdl_tensor_get(n->out->grad, 0) / n->f[0];
  for (int64_t i = 0; i < N; i++) {
    double d = 2 * gy * (gdl_tensor_get(a, i) - gdl_tensor_get(b, i));
    if (ga) gdl_tensor_set(ga, i, gdl_tensor_get(ga, i) + d);
    if (gb) gdl_tensor_set(gb, i, gdl_tensor_get(gb, i) - d);
  }
}

static gdl_tensor *pair_loss(gdl_ctx *ctx, int op, gdl_tensor *a, gdl_tensor *b, gdl_loss_reduction r) {
  GDL_CHECK_FLOAT(a, gdl_op_name(op));
  GDL_ASSERT(a->dtype == b->dtype && gdl_shape_eq(gdl_tensor_shape(a), gdl_tensor_shape(b)),
             "%s: inputs must have the same shape and dtype", gdl_op_name(op));
  gdl_tensor *out = gdl_tensor_new(ctx, a->dtype, GDL_SCALAR);
  gdl_node *n = gdl__node(ctx, op, out, 2, (gdl_tensor *[]){a, b});
  int64_t N = gdl_tensor_numel(a);
  n->f[0] = r == GDL_LOSS_MEAN && N ? (double)N : 1.0;
  return gdl__run(n);
}

gdl_tensor *gdl_mse_loss(gdl_ctx *ctx, gdl_tensor *a, gdl_tensor *b, gdl_loss_reduction r) {
  return pair_loss(ctx, GDL_OP_MSE_LOSS, a, b, r);
}

gdl_tensor *gdl__mse_loss_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 1) return NULL;
  return gdl_mse_loss(ctx, gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3, 4), -1, 1),
                      gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3, 4), -1, 1), v ? GDL_LOSS_SUM : GDL_LOSS_MEAN);
}

/* ---- binary cross entropy on logits ----------------------------------------- */
/* l = max(x, 0) - x y + log(1 + e^-|x|);  dl/dx = sigmoid(x) - y,  dl/dy = -x. */

void gdl__bce_logits_fwd(gdl_node *n) {
  gdl_tensor *x = n->in[0], *y = n->in[1];
  int64_t N = gdl_tensor_numel(x);
  double total = 0;
  for (int64_t i = 0; i < N; i++) {
    double v = gdl_tensor_get(x, i), t = gdl_tensor_get(y, i);
    total += (v > 0 ? v : 0) - v * t + log1p(exp(-fabs(v)));
  }
  gdl_tensor_set(n->out, 0, total / n->f[0]);
}

void gdl__bce_logits_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *x = n->in[0], *y = n->in[1], *gx = gdl__grad(ctx, x), *gy = gdl__grad(ctx, y);
  int64_t N = gdl_tensor_numel(x);
  double g = gdl_tensor_get(n->out->grad, 0) / n->f[0];
  for (int64_t i = 0; i < N; i++) {
    double v = gdl_tensor_get(x, i), t = gdl_tensor_get(y, i);
    if (gx) gdl_tensor_set(gx, i, gdl_tensor_get(gx, i) + g * (1 / (1 + exp(-v)) - t));
    if (gy) gdl_tensor_set(gy, i, gdl_tensor_get(gy, i) - g * v);
  }
}

gdl_tensor *gdl_bce_with_logits(gdl_ctx *ctx, gdl_tensor *logits, gdl_tensor *target,
                                gdl_loss_reduction r) {
  return pair_loss(ctx, GDL_OP_BCE_LOGITS, logits, target, r);
}

gdl_tensor *gdl__bce_logits_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 0) return NULL;
  return gdl_bce_with_logits(ctx, gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3, 4), -3, 3),
                             gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3, 4), 0, 1), GDL_LOSS_MEAN);
}
