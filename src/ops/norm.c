/* Dropout, layer norm and batch norm. */
#include <tgmath.h>

#include "core/internal.h"
#include "ops/sample.h"

/* ---- dropout: y = x * m / (1 - p), m_i = [u(seed, i) >= p] -------------- */
/* The mask is a pure function of (seed, i): backward and any recomputation see
 * the same mask, whatever the thread count. */

void gdl__dropout_fwd(gdl_node *n) {
  gdl_tensor *x = n->in[0], *out = n->out;
  int64_t N = gdl_tensor_numel(x);
  uint64_t seed = (uint64_t)n->i[0];
  double p = n->f[0];
  const void *xs = gdl__contig(n->ctx, x);
  GDL_FLOAT_SWITCH(x->dtype, T, {
    const T *X = xs;
    T *Y = out->data, scale = (T)(p < 1 ? 1 / (1 - p) : 0);
    GDL_PARALLEL_FOR_IF(N > GDL_PAR_MIN / 4)
    for (int64_t i = 0; i < N; i++) Y[i] = gdl_hash_uniform(seed, (uint64_t)i) >= p ? X[i] * scale : 0;
  });
}

void gdl__dropout_bwd(gdl_ctx *ctx, gdl_node *n) {
  bool fresh;
  gdl_tensor *g = gdl__grad_fresh(ctx, n->in[0], &fresh);
  if (!g) return;
  int64_t N = gdl_tensor_numel(g);
  uint64_t seed = (uint64_t)n->i[0];
  double p = n->f[0];
  GDL_FLOAT_SWITCH(g->dtype, T, {
    const T *DY = n->out->grad->data;
    T *DX = g->data, scale = (T)(p < 1 ? 1 / (1 - p) : 0);
    GDL_PARALLEL_FOR_IF(N > GDL_PAR_MIN / 4)
    for (int64_t i = 0; i < N; i++)
      DX[i] = (fresh ? 0 : DX[i]) + (gdl_hash_uniform(seed, (uint64_t)i) >= p ? DY[i] * scale : 0);
  });
}

gdl_tensor *gdl_dropout(gdl_ctx *ctx, gdl_tensor *x, double p, bool train) {
  GDL_CHECK_FLOAT(x, "dropout");
  GDL_ASSERT(p >= 0 && p <= 1, "dropout: p must be in [0, 1], got %g", p);
  if (!train || p == 0) return x;
  gdl_tensor *out = gdl__tensor_empty(ctx, x->dtype, gdl_tensor_shape(x));
  gdl_node *n = gdl__node(ctx, GDL_OP_DROPOUT, out, 1, &x);
  n->i[0] = (int64_t)gdl_rng_u64(gdl__ctx_rng(ctx));
  n->f[0] = p;
  return gdl__run(n);
}

gdl_tensor *gdl__dropout_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 0) return NULL;
  return gdl_dropout(ctx, gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(4, 6), -1, 1), 0.3, true);
}

/* ---- layer norm over the last axis ---------------------------------------- */
/* xh = (x - mean) * rstd, y = xh * w + b;
 * dx = rstd * (g - mean(g) - xh * mean(g * xh)) with g = dy * w. */

typedef struct {
  void *mean, *rstd; /* [rows] in the input's dtype */
} norm_stats;

void gdl__layer_norm_fwd(gdl_node *n) {
  gdl_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2], *out = n->out;
  norm_stats *st = n->saved;
  int64_t D = x->shape[x->ndim - 1], R = D ? gdl_tensor_numel(x) / D : 0;
  double eps = n->f[0];
  const void *xs = gdl__contig(n->ctx, x);
  const void *ws = w ? gdl__contig(n->ctx, w) : NULL, *bs = b ? gdl__contig(n->ctx, b) : NULL;
  GDL_FLOAT_SWITCH(x->dtype, T, {
    const T *X = xs, *W = ws, *B = bs;
    T *Y = out->data, *M = st->mean, *S = st->rstd;
    GDL_PARALLEL_FOR_IF(R * D > GDL_PAR_MIN)
    for (int64_t r = 0; r < R; r++) {
      const T *xr = X + r * D;
      T mu = 0, var = 0;
      for (int64_t j = 0; j < D; j++) mu += xr[j];
      mu /= (T)D;
      for (int64_t j = 0; j < D; j++) var += (xr[j] - mu) * (xr[j] - mu);
      T rs = 1 / sqrt(var / (T)D + (T)eps);
      M[r] = mu;
      S[r] = rs;
      for (int64_t j = 0; j < D; j++)
        Y[r * D + j] = (xr[j] - mu) * rs * (W ? W[j] : 1) + (B ? B[j] : 0);
    }
  });
}

void gdl__layer_norm_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2];
  gdl_tensor *gx = gdl__grad(ctx, x), *gw = gdl__grad(ctx, w), *gb = gdl__grad(ctx, b);
  norm_stats *st = n->saved;
  int64_t D = x->shape[x->ndim - 1], R = D ? gdl_tensor_numel(x) / D : 0;
  const void *xs = gdl__contig(ctx, x), *ws = w ? gdl__contig(ctx, w) : NULL;
  GDL_FLOAT_SWITCH(x->dtype, T, {
    const T *X = xs, *W = ws, *DY = n->out->grad->data, *M = st->mean, *S = st->rstd;
    if (gx) {
      T *DX = gx->data;
      GDL_PARALLEL_FOR_IF(R * D > GDL_PAR_MIN)
      for (int64_t r = 0; r < R; r++) {
        const T *xr = X + r * D, *dy = DY + r * D;
        T mg = 0, mgx = 0;
        for (int64_t j = 0; j < D; j++) {
          T g = dy[j] * (W ? W[j] : 1), xh = (xr[j] - M[r]) * S[r];
          mg += g;
          mgx += g * xh;
        }
        mg /= (T)D;
        mgx /= (T)D;
        for (int64_t j = 0; j < D; j++) {
          T g = dy[j] * (W ? W[j] : 1), xh = (xr[j] - M[r]) * S[r];
          DX[r * D + j] += S[r] * (g - mg - xh * mgx);
        }
      }
    }
    if (gw || gb) {
      T *DW = gw ? gw->data : NULL, *DB = gb ? gb->data : NULL;
      GDL_PARALLEL_FOR_IF(R * D > GDL_PAR_MIN)
      for (int64_t j = 0; j < D; j++) {
        T aw = 0, ab = 0;
        for (int64_t r = 0; r < R; r++) {
          aw += DY[r * D + j] * (X[r * D + j] - M[r]) * S[r];
          ab += DY[r * D + j];
        }
        if (DW) DW[j] += aw;
        if (DB) DB[j] += ab;
      }
    }
  });
}

gdl_tensor *gdl_layer_norm(gdl_ctx *ctx, gdl_tensor *x, gdl_tensor *weight, gdl_tensor *bias,
                           double eps) {
  GDL_CHECK_FLOAT(x, "layer_norm");
  GDL_ASSERT(x->ndim >= 1, "layer_norm: input needs an axis");
  int64_t D = x->shape[x->ndim - 1];
  GDL_ASSERT(!weight || (weight->ndim == 1 && weight->shape[0] == D), "layer_norm: weight must be [%lld]", (long long)D);
  GDL_ASSERT(!bias || (bias->ndim == 1 && bias->shape[0] == D), "layer_norm: bias must be [%lld]", (long long)D);
  gdl_tensor *out = gdl__tensor_empty(ctx, x->dtype, gdl_tensor_shape(x));
  gdl_node *n = gdl__node(ctx, GDL_OP_LAYER_NORM, out, 3, (gdl_tensor *[]){x, weight, bias});
  norm_stats *st = gdl_ctx_alloc(ctx, sizeof *st);
  size_t bytes = (size_t)(D ? gdl_tensor_numel(x) / D : 0) * gdl_dtype_size(x->dtype);
  st->mean = gdl_ctx_alloc(ctx, bytes);
  st->rstd = gdl_ctx_alloc(ctx, bytes);
  n->saved = st;
  n->f[0] = eps;
  return gdl__run(n);
}

gdl_tensor *gdl__layer_norm_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 1) return NULL;
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3, 2, 5), -2, 2);
  gdl_tensor *w = v ? NULL : gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(5), 0.5, 1.5);
  gdl_tensor *b = v ? NULL : gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(5), -1, 1);
  return gdl_layer_norm(ctx, x, w, b, 1e-5);
}

/* ---- batch norm: x [N, C, S...], statistics per channel over N * S -------- */
/* train: xh = (x - mean_c) * rstd_c with batch statistics (biased variance);
 *   dx = rstd/m * (m g - sum g - xh sum(g xh)), g = dy * w, m = N * S;
 * eval: running statistics are constants, dx = g * rstd. */

typedef struct {
  gdl_tensor *running_mean, *running_var;
  void *mean, *rstd; /* [C] */
} bn_state;

static void bn_dims(const gdl_tensor *x, int64_t *N, int64_t *C, int64_t *S) {
  *N = x->shape[0];
  *C = x->shape[1];
  *S = 1;
  for (int k = 2; k < x->ndim; k++) *S *= x->shape[k];
}

/* Channel blocks: with S == 1 ([N, C], as in graph and MLP batch norm) the BN_CB
 * channels of a block are contiguous in every row, so the loops run over rows and
 * vectorise over channels; with S > 1 a block is one channel, contiguous over S. */
#define BN_CB 16

void gdl__batch_norm_fwd(gdl_node *n) {
  gdl_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2], *out = n->out;
  bn_state *st = n->saved;
  bool train = n->i[0];
  double mom = n->f[0], eps = n->f[1];
  int64_t N, C, S;
  bn_dims(x, &N, &C, &S);
  int64_t m = N * S, cb = S == 1 ? BN_CB : 1, nblk = (C + cb - 1) / cb;
  const void *xs = gdl__contig(n->ctx, x);
  const void *ws = w ? gdl__contig(n->ctx, w) : NULL, *bs = b ? gdl__contig(n->ctx, b) : NULL;
  GDL_FLOAT_SWITCH(x->dtype, T, {
    const T *X = xs, *W = ws, *B = bs;
    T *Y = out->data, *M = st->mean, *R = st->rstd;
    T *RM = st->running_mean ? st->running_mean->data : NULL;
    T *RV = st->running_var ? st->running_var->data : NULL;
    GDL_PARALLEL_FOR_IF(N * C * S > GDL_PAR_MIN)
    for (int64_t blk = 0; blk < nblk; blk++) {
      int64_t c0 = blk * cb, nc = C - c0 < cb ? C - c0 : cb;
      double s1[BN_CB] = {0}, s2[BN_CB] = {0};
      T mu[BN_CB], sc[BN_CB], sh[BN_CB]; /* y = (x - mu) sc + sh */
      if (train) {
        if (S == 1) {
          for (int64_t i = 0; i < N; i++) {
            const T *xr = X + i * C + c0;
            GDL_OMP(omp simd)
            for (int64_t k = 0; k < nc; k++) s1[k] += xr[k];
          }
          for (int64_t k = 0; k < nc; k++) mu[k] = (T)(s1[k] / (double)m);
          for (int64_t i = 0; i < N; i++) {
            const T *xr = X + i * C + c0;
            GDL_OMP(omp simd)
            for (int64_t k = 0; k < nc; k++) {
              double d = xr[k] - mu[k];
              s2[k] += d * d;
            }
          }
        } else {
          double a = 0, q = 0;
          for (int64_t i = 0; i < N; i++) {
            const T *xr = X + (i * C + c0) * S;
            GDL_OMP(omp simd reduction(+ : a))
            for (int64_t j = 0; j < S; j++) a += xr[j];
          }
          mu[0] = (T)(a / (double)m);
          for (int64_t i = 0; i < N; i++) {
            const T *xr = X + (i * C + c0) * S;
            T mu0 = mu[0];
            GDL_OMP(omp simd reduction(+ : q))
            for (int64_t j = 0; j < S; j++) {
              double d = xr[j] - mu0;
              q += d * d;
            }
          }
          s2[0] = q;
        }
      }
      for (int64_t k = 0; k < nc; k++) {
        int64_t c = c0 + k;
        T var;
        if (train) {
          var = (T)(s2[k] / (double)m);
          if (RM) RM[c] = (T)((1 - mom) * RM[c] + mom * mu[k]);
          if (RV) RV[c] = (T)((1 - mom) * RV[c] + mom * var * (m > 1 ? (double)m / (double)(m - 1) : 1.0));
        } else {
          mu[k] = RM ? RM[c] : 0;
          var = RV ? RV[c] : 1;
        }
        T rs = 1 / sqrt(var + (T)eps), wc = W ? W[c] : 1, bc = B ? B[c] : 0;
        M[c] = mu[k], R[c] = rs;
        sc[k] = rs * wc, sh[k] = bc;
      }
      for (int64_t i = 0; i < N; i++) {
        if (S == 1) {
          const T *xr = X + i * C + c0;
          T *yr = Y + i * C + c0;
          GDL_OMP(omp simd)
          for (int64_t k = 0; k < nc; k++) yr[k] = (xr[k] - mu[k]) * sc[k] + sh[k];
        } else {
          const T *xr = X + (i * C + c0) * S;
          T *yr = Y + (i * C + c0) * S, a = sc[0], d = sh[0], mu0 = mu[0];
          GDL_OMP(omp simd)
          for (int64_t j = 0; j < S; j++) yr[j] = (xr[j] - mu0) * a + d;
        }
      }
    }
  });
}

void gdl__batch_norm_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2];
  bool fx;
  gdl_tensor *gx = gdl__grad_fresh(ctx, x, &fx), *gw = gdl__grad(ctx, w), *gb = gdl__grad(ctx, b);
  bn_state *st = n->saved;
  bool train = n->i[0];
  int64_t N, C, S;
  bn_dims(x, &N, &C, &S);
  int64_t m = N * S, cb = S == 1 ? BN_CB : 1, nblk = (C + cb - 1) / cb;
  const void *xs = gdl__contig(ctx, x), *ws = w ? gdl__contig(ctx, w) : NULL;
  GDL_FLOAT_SWITCH(x->dtype, T, {
    const T *X = xs, *W = ws, *DY = n->out->grad->data, *M = st->mean, *R = st->rstd;
    T *DX = gx ? gx->data : NULL, *DW = gw ? gw->data : NULL, *DB = gb ? gb->data : NULL;
    GDL_PARALLEL_FOR_IF(N * C * S > GDL_PAR_MIN)
    for (int64_t blk = 0; blk < nblk; blk++) {
      int64_t c0 = blk * cb, nc = C - c0 < cb ? C - c0 : cb;
      T sg[BN_CB] = {0}, sgx[BN_CB] = {0}, mu[BN_CB] = {0}, rs[BN_CB] = {0}, a[BN_CB], d[BN_CB], e[BN_CB];
      for (int64_t k = 0; k < nc; k++) mu[k] = M[c0 + k], rs[k] = R[c0 + k];
      if (S == 1) {
        for (int64_t i = 0; i < N; i++) {
          const T *xr = X + i * C + c0, *gr = DY + i * C + c0;
          GDL_OMP(omp simd)
          for (int64_t k = 0; k < nc; k++) sg[k] += gr[k], sgx[k] += gr[k] * (xr[k] - mu[k]) * rs[k];
        }
      } else {
        T g = 0, gx0 = 0, mu0 = mu[0], rs0 = rs[0];
        for (int64_t i = 0; i < N; i++) {
          const T *xr = X + (i * C + c0) * S, *gr = DY + (i * C + c0) * S;
          GDL_OMP(omp simd reduction(+ : g, gx0))
          for (int64_t j = 0; j < S; j++) g += gr[j], gx0 += gr[j] * (xr[j] - mu0) * rs0;
        }
        sg[0] = g, sgx[0] = gx0;
      }
      for (int64_t k = 0; k < nc; k++) {
        if (DW) DW[c0 + k] += sgx[k];
        if (DB) DB[c0 + k] += sg[k];
      }
      if (!DX) continue;
      /* dx = a dy + d (x - mu) + e: a = w rs; train: d = -a rs sgx / m, e = -a sg / m */
      for (int64_t k = 0; k < nc; k++) {
        T wc = W ? W[c0 + k] : 1;
        a[k] = wc * rs[k];
        d[k] = train ? -a[k] * rs[k] * sgx[k] / (T)m : 0;
        e[k] = train ? -a[k] * sg[k] / (T)m : 0;
      }
      for (int64_t i = 0; i < N; i++) {
        if (S == 1) {
          const T *xr = X + i * C + c0, *gr = DY + i * C + c0;
          T *dr = DX + i * C + c0;
          GDL_OMP(omp simd)
          for (int64_t k = 0; k < nc; k++) dr[k] = (fx ? 0 : dr[k]) + a[k] * gr[k] + d[k] * (xr[k] - mu[k]) + e[k];
        } else {
          const T *xr = X + (i * C + c0) * S, *gr = DY + (i * C + c0) * S;
          T *dr = DX + (i * C + c0) * S, a0 = a[0], d0 = d[0], e0 = e[0], mu0 = mu[0];
          GDL_OMP(omp simd)
          for (int64_t j = 0; j < S; j++) dr[j] = (fx ? 0 : dr[j]) + a0 * gr[j] + d0 * (xr[j] - mu0) + e0;
        }
      }
    }
  });
}

gdl_tensor *gdl_batch_norm(gdl_ctx *ctx, gdl_tensor *x, gdl_tensor *weight, gdl_tensor *bias,
                           gdl_tensor *running_mean, gdl_tensor *running_var, bool train,
                           double momentum, double eps) {
  GDL_CHECK_FLOAT(x, "batch_norm");
  GDL_ASSERT(x->ndim >= 2, "batch_norm: input must be [N, C, ...]");
  int64_t C = x->shape[1];
  gdl_tensor *chk[4] = {weight, bias, running_mean, running_var};
  for (int k = 0; k < 4; k++)
    GDL_ASSERT(!chk[k] || (chk[k]->ndim == 1 && chk[k]->shape[0] == C && chk[k]->dtype == x->dtype &&
                           gdl_tensor_is_contiguous(chk[k])),
               "batch_norm: weight, bias and running statistics must be contiguous [%lld] of the input's dtype",
               (long long)C);
  GDL_ASSERT(train || (running_mean && running_var), "batch_norm: evaluation needs running statistics");
  gdl_tensor *out = gdl__tensor_empty(ctx, x->dtype, gdl_tensor_shape(x));
  gdl_node *n = gdl__node(ctx, GDL_OP_BATCH_NORM, out, 3, (gdl_tensor *[]){x, weight, bias});
  bn_state *st = gdl_ctx_alloc(ctx, sizeof *st);
  st->running_mean = running_mean;
  st->running_var = running_var;
  st->mean = gdl_ctx_alloc(ctx, (size_t)C * gdl_dtype_size(x->dtype));
  st->rstd = gdl_ctx_alloc(ctx, (size_t)C * gdl_dtype_size(x->dtype));
  n->saved = st;
  n->i[0] = train;
  n->f[0] = momentum;
  n->f[1] = eps;
  return gdl__run(n);
}

gdl_tensor *gdl__batch_norm_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 2) return NULL;
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, v == 1 ? GDL_SHAPE(5, 3) : GDL_SHAPE(2, 3, 2, 2), -2, 2);
  gdl_tensor *w = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3), 0.5, 1.5);
  gdl_tensor *b = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3), -1, 1);
  gdl_tensor *rm = gdl_tensor_new(ctx, t, GDL_SHAPE(3)), *rv = gdl_tensor_new(ctx, t, GDL_SHAPE(3));
  gdl_rng_fill_uniform(rng, rm, -0.5, 0.5);
  gdl_rng_fill_uniform(rng, rv, 0.5, 1.5);
  return gdl_batch_norm(ctx, x, w, b, rm, rv, v != 2, 0.1, 1e-5);
}
