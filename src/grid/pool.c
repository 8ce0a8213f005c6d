/* Pooling over the last two axes of [N, C, H, W]. Each output pixel (i, j) reads
 * the window rows [h0_i, h1_i) x columns [w0_j, w1_j) of its plane:
 *   fixed windows:    h0 = i s - p, h1 = min(h0 + k, H + p), then clipped to [0, H)
 *                     (averages divide by the unclipped size: PyTorch's count_include_pad);
 *   adaptive windows: h0 = floor(i H / oh), h1 = ceil((i + 1) H / oh).
 * max: y = max over the window, dx[argmax] += dy;  avg: y = sum / size, dx += dy / size.
 * Planes are independent, so threads own planes and backward is deterministic. */
#include <float.h>

#include "core/internal.h"
#include "gdl/grid.h"
#include "ops/sample.h"

typedef struct {
  int64_t planes, H, W, oh, ow;
  int64_t *h0, *h1, *w0, *w1; /* clipped windows per output row / column */
  int64_t *hd, *wd;           /* divisor factors per output row / column */
  int64_t *arg;               /* max: flat input position per output element */
  bool fast2;                 /* 2x2 windows with stride 2 inside the input */
} pool_plan;

static void windows(gdl_ctx *ctx, int64_t n, int64_t o, int k, int s, int p, bool adaptive, int64_t **a0,
                    int64_t **a1, int64_t **ad) {
  *a0 = gdl_ctx_alloc(ctx, (size_t)o * sizeof(int64_t));
  *a1 = gdl_ctx_alloc(ctx, (size_t)o * sizeof(int64_t));
  *ad = gdl_ctx_alloc(ctx, (size_t)o * sizeof(int64_t));
  for (int64_t i = 0; i < o; i++) {
    int64_t b, e;
    if (adaptive) {
      b = i * n / o;
      e = ((i + 1) * n + o - 1) / o;
      (*ad)[i] = e - b;
    } else {
      b = i * s - p;
      e = b + k < n + p ? b + k : n + p;
      (*ad)[i] = e - b;
      b = b < 0 ? 0 : b;
      e = e > n ? n : e;
    }
    (*a0)[i] = b;
    (*a1)[i] = e;
  }
}

static void pool_fwd(gdl_node *n, bool max) {
  pool_plan *p = n->saved;
  const void *xs = gdl__contig(n->ctx, n->in[0]);
  GDL_FLOAT_SWITCH(n->out->dtype, T, {
    const T *X = xs;
    T *Y = n->out->data;
    GDL_PARALLEL_FOR_IF(p->planes * p->H * p->W > GDL_PAR_MIN)
    for (int64_t q = 0; q < p->planes; q++) {
      const T *x = X + q * p->H * p->W;
      if (p->fast2) { /* 2x2 windows, stride 2, no padding: the common case */
        for (int64_t i = 0; i < p->oh; i++) {
          const T *r0 = x + 2 * i * p->W, *r1 = r0 + p->W;
          T *y = Y + (q * p->oh + i) * p->ow;
          int64_t *a = max ? p->arg + (q * p->oh + i) * p->ow : NULL;
          for (int64_t j = 0; j < p->ow; j++) {
            T v0 = r0[2 * j], v1 = r0[2 * j + 1], v2 = r1[2 * j], v3 = r1[2 * j + 1];
            if (!max) {
              y[j] = (v0 + v1 + v2 + v3) / 4;
              continue;
            }
            /* first maximum in row-major window order, by selects (no branches to mispredict) */
            bool b01 = v1 > v0, b23 = v3 > v2;
            T m01 = b01 ? v1 : v0, m23 = b23 ? v3 : v2;
            bool lower = m23 > m01;
            y[j] = lower ? m23 : m01;
            a[j] = 2 * i * p->W + 2 * j + (lower ? p->W + b23 : b01);
          }
        }
        continue;
      }
      for (int64_t i = 0; i < p->oh; i++)
        for (int64_t j = 0; j < p->ow; j++) {
          int64_t o = (q * p->oh + i) * p->ow + j, best = -1;
          T acc = max ? -(T)INFINITY : 0;
          for (int64_t h = p->h0[i]; h < p->h1[i]; h++)
            for (int64_t w = p->w0[j]; w < p->w1[j]; w++) {
              T v = x[h * p->W + w];
              if (!max) acc += v;
              else if (v > acc || best < 0) acc = v, best = h * p->W + w;
            }
          if (max) p->arg[o] = best;
          Y[o] = max ? acc : acc / (T)(p->hd[i] * p->wd[j]);
        }
    }
  });
}

static void pool_bwd(gdl_ctx *ctx, gdl_node *n, bool max) {
  gdl_tensor *g = gdl__grad(ctx, n->in[0]);
  if (!g) return;
  pool_plan *p = n->saved;
  GDL_FLOAT_SWITCH(g->dtype, T, {
    const T *DY = n->out->grad->data;
    T *DX = g->data;
    GDL_PARALLEL_FOR_IF(p->planes * p->H * p->W > GDL_PAR_MIN)
    for (int64_t q = 0; q < p->planes; q++) {
      T *dx = DX + q * p->H * p->W;
      for (int64_t i = 0; i < p->oh; i++)
        for (int64_t j = 0; j < p->ow; j++) {
          int64_t o = (q * p->oh + i) * p->ow + j;
          if (max) {
            if (p->arg[o] >= 0) dx[p->arg[o]] += DY[o];
            continue;
          }
          T d = DY[o] / (T)(p->hd[i] * p->wd[j]);
          for (int64_t h = p->h0[i]; h < p->h1[i]; h++)
            for (int64_t w = p->w0[j]; w < p->w1[j]; w++) dx[h * p->W + w] += d;
        }
    }
  });
}

void gdl__max_pool_fwd(gdl_node *n) { pool_fwd(n, true); }
void gdl__avg_pool_fwd(gdl_node *n) { pool_fwd(n, false); }
void gdl__max_pool_bwd(gdl_ctx *c, gdl_node *n) { pool_bwd(c, n, true); }
void gdl__avg_pool_bwd(gdl_ctx *c, gdl_node *n) { pool_bwd(c, n, false); }

/* adaptive: (k, s, p) unused and (oh, ow) given; else (oh, ow) computed. */
static gdl_tensor *pool(gdl_ctx *ctx, gdl_tensor *x, bool max, bool adaptive, int k, int s, int pad,
                        int64_t oh, int64_t ow, gdl_tensor **indices) {
  const char *name = max ? "max_pool2d" : "avg_pool2d";
  GDL_CHECK_FLOAT(x, name);
  GDL_ASSERT(x->ndim >= 2, "%s: input must be [..., H, W]", name);
  int64_t H = x->shape[x->ndim - 2], W = x->shape[x->ndim - 1];
  if (!adaptive) {
    s = s > 0 ? s : k;
    GDL_ASSERT(k >= 1 && pad >= 0 && 2 * pad <= k, "%s: kernel %d, padding %d: padding must be at most half the kernel", name, k, pad);
    oh = (H + 2 * pad - k) / s + 1;
    ow = (W + 2 * pad - k) / s + 1;
    GDL_ASSERT(H + 2 * pad >= k && W + 2 * pad >= k, "%s: kernel %d larger than the padded input %lldx%lld", name, k,
               (long long)H, (long long)W);
  }
  GDL_ASSERT(oh >= 1 && ow >= 1 && H >= 1 && W >= 1, "%s: empty output", name);
  pool_plan *p = gdl_ctx_alloc(ctx, sizeof *p);
  *p = (pool_plan){.planes = gdl_tensor_numel(x) / (H * W), .H = H, .W = W, .oh = oh, .ow = ow};
  windows(ctx, H, oh, k, s, pad, adaptive, &p->h0, &p->h1, &p->hd);
  windows(ctx, W, ow, k, s, pad, adaptive, &p->w0, &p->w1, &p->wd);
  p->fast2 = !adaptive && k == 2 && s == 2 && pad == 0;
  gdl_shape sh = gdl_tensor_shape(x);
  sh.d[sh.ndim - 2] = oh;
  sh.d[sh.ndim - 1] = ow;
  gdl_tensor *y = gdl__tensor_empty(ctx, x->dtype, sh);
  if (max) p->arg = gdl_ctx_alloc(ctx, (size_t)gdl_tensor_numel(y) * sizeof(int64_t));
  gdl_node *n = gdl__node(ctx, max ? GDL_OP_MAX_POOL : GDL_OP_AVG_POOL, y, 1, &x);
  n->saved = p;
  gdl__run(n);
  if (indices) {
    GDL_ASSERT(max, "pool: indices exist for max pooling only");
    *indices = gdl_tensor_wrap(ctx, GDL_I64, sh, p->arg);
  }
  return y;
}

gdl_tensor *gdl_max_pool2d(gdl_ctx *ctx, gdl_tensor *x, int kernel, int stride, int padding, gdl_tensor **indices) {
  return pool(ctx, x, true, false, kernel, stride, padding, 0, 0, indices);
}
gdl_tensor *gdl_avg_pool2d(gdl_ctx *ctx, gdl_tensor *x, int kernel, int stride, int padding) {
  return pool(ctx, x, false, false, kernel, stride, padding, 0, 0, NULL);
}
gdl_tensor *gdl_adaptive_avg_pool2d(gdl_ctx *ctx, gdl_tensor *x, int oh, int ow) {
  return pool(ctx, x, false, true, 0, 0, 0, oh, ow, NULL);
}
gdl_tensor *gdl_adaptive_max_pool2d(gdl_ctx *ctx, gdl_tensor *x, int oh, int ow) {
  return pool(ctx, x, true, true, 0, 0, 0, oh, ow, NULL);
}

static gdl_tensor *pool_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v, bool max) {
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(2, 3, 7, 6), -1, 1);
  switch (v) {
    case 0: return pool(ctx, x, max, false, 2, 2, 0, 0, 0, NULL);
    case 1: return pool(ctx, x, max, false, 3, 2, 1, 0, 0, NULL);
    case 2: return pool(ctx, x, max, true, 0, 0, 0, 3, 4, NULL);
    default: return NULL;
  }
}

gdl_tensor *gdl__max_pool_sample(gdl_ctx *c, gdl_rng *r, gdl_dtype t, int v) { return pool_sample(c, r, t, v, true); }
gdl_tensor *gdl__avg_pool_sample(gdl_ctx *c, gdl_rng *r, gdl_dtype t, int v) { return pool_sample(c, r, t, v, false); }
