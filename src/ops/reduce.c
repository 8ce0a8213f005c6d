/* Reductions over one axis (or all): sum, mean, max, min; argmax; softmax and
 * log_softmax. The input is viewed as [outer, n, inner] around the axis. Each
 * output element is reduced by one thread in a fixed order, so results do not
 * depend on the thread count. */
#include <tgmath.h>

#include "core/internal.h"
#include "ops/sample.h"

enum { SUM, MEAN, MAX, MIN };

typedef struct {
  int64_t outer, n, inner;
} split3;

static split3 split_of(const gdl_tensor *x, int64_t axis) {
  split3 s;
  if (axis == GDL_AXIS_ALL) {
    s = (split3){1, gdl_tensor_numel(x), 1};
  } else {
    gdl__split_axis(x, (int)axis, &s.outer, &s.n, &s.inner);
  }
  return s;
}

static gdl_shape reduced_shape(const gdl_tensor *x, int axis, bool keepdim) {
  gdl_shape s = {0};
  for (int k = 0; k < x->ndim; k++) {
    bool r = axis == GDL_AXIS_ALL || k == axis;
    if (!r) s.d[s.ndim++] = x->shape[k];
    else if (keepdim) s.d[s.ndim++] = 1;
  }
  return s;
}

#define BLOCK 4096 /* full reductions: fixed blocks, summed in order */

static void reduce_fwd(gdl_node *n, int kind) {
  gdl_tensor *x = n->in[0], *out = n->out;
  split3 s = split_of(x, n->i[0]);
  const void *xs = gdl__contig(n->ctx, x);
  int64_t *arg = n->saved;
  int64_t nout = s.outer * s.inner;
  GDL_FLOAT_SWITCH(x->dtype, T, {
    const T *X = xs;
    T *Y = out->data;
    if (kind <= MEAN && nout == 1 && s.n > BLOCK) {
      int64_t nb = (s.n + BLOCK - 1) / BLOCK;
      double *part = gdl_ctx_alloc(n->ctx, (size_t)nb * sizeof *part);
      GDL_OMP(omp parallel for schedule(static))
      for (int64_t b = 0; b < nb; b++) {
        /* 16 running sums (vector lanes, not one chain of dependent adds), in a fixed order */
        double lane[16] = {0}, acc = 0;
        int64_t k = b * BLOCK, end = (b + 1) * BLOCK < s.n ? (b + 1) * BLOCK : s.n;
        for (; k + 16 <= end; k += 16)
          for (int l = 0; l < 16; l++) lane[l] += X[k + l];
        for (; k < end; k++) acc += X[k];
        for (int l = 0; l < 16; l++) acc += lane[l];
        part[b] = acc;
      }
      double acc = 0;
      for (int64_t b = 0; b < nb; b++) acc += part[b];
      Y[0] = (T)(kind == MEAN ? acc / (double)s.n : acc);
    } else {
      GDL_PARALLEL_FOR_IF(s.outer * s.n * s.inner > GDL_PAR_MIN)
      for (int64_t o = 0; o < s.outer; o++) {
        T *y = Y + o * s.inner;
        const T *xo = X + o * s.n * s.inner;
        if (kind <= MEAN) {
          for (int64_t j = 0; j < s.inner; j++) y[j] = 0;
          for (int64_t k = 0; k < s.n; k++)
            for (int64_t j = 0; j < s.inner; j++) y[j] += xo[k * s.inner + j];
          if (kind == MEAN)
            for (int64_t j = 0; j < s.inner; j++) y[j] /= (T)s.n;
        } else {
          int64_t *a = arg + o * s.inner;
          for (int64_t j = 0; j < s.inner; j++) {
            y[j] = xo[j];
            a[j] = 0;
          }
          for (int64_t k = 1; k < s.n; k++)
            for (int64_t j = 0; j < s.inner; j++) {
              T v = xo[k * s.inner + j];
              if (kind == MAX ? v > y[j] : v < y[j]) {
                y[j] = v;
                a[j] = k;
              }
            }
        }
      }
    }
  });
}

static void reduce_bwd(gdl_ctx *ctx, gdl_node *n, int kind) {
  bool fresh = false; /* max / min send the gradient to one element: they need zeros */
  gdl_tensor *x = n->in[0], *g = kind <= MEAN ? gdl__grad_fresh(ctx, x, &fresh) : gdl__grad(ctx, x);
  if (!g) return;
  split3 s = split_of(x, n->i[0]);
  const int64_t *arg = n->saved;
  GDL_FLOAT_SWITCH(x->dtype, T, {
    const T *DY = n->out->grad->data;
    T *DX = g->data;
    T scale = kind == MEAN ? (T)1 / (T)s.n : (T)1;
    if (kind <= MEAN) {
      /* threads over (outer, block of kb reduced) pairs: a full reduction has one
       * outer, and a last-axis one inner 1, so blocks keep the loops vector-long */
      int64_t kb = s.inner >= 1024 ? 1 : 1024 / s.inner, nkb = (s.n + kb - 1) / kb;
      GDL_OMP(omp parallel for collapse(2) schedule(static) if (s.outer * s.n * s.inner > GDL_PAR_MIN))
      for (int64_t o = 0; o < s.outer; o++)
        for (int64_t b = 0; b < nkb; b++) {
          const T *dy = DY + o * s.inner;
          int64_t k1 = (b + 1) * kb < s.n ? (b + 1) * kb : s.n;
          if (s.inner == 1) {
            T *dx = DX + o * s.n, v = dy[0] * scale;
            for (int64_t k = b * kb; k < k1; k++) dx[k] = (fresh ? 0 : dx[k]) + v;
          } else {
            for (int64_t k = b * kb; k < k1; k++) {
              T *dx = DX + (o * s.n + k) * s.inner;
              for (int64_t j = 0; j < s.inner; j++) dx[j] = (fresh ? 0 : dx[j]) + dy[j] * scale;
            }
          }
        }
    } else {
      GDL_PARALLEL_FOR_IF(s.outer * s.n * s.inner > GDL_PAR_MIN)
      for (int64_t o = 0; o < s.outer; o++)
        for (int64_t j = 0; j < s.inner; j++) DX[(o * s.n + arg[o * s.inner + j]) * s.inner + j] += DY[o * s.inner + j];
    }
  });
}

static gdl_tensor *reduce(gdl_ctx *ctx, int op, int kind, gdl_tensor *x, int axis, bool keepdim) {
  GDL_CHECK_FLOAT(x, gdl_op_name(op));
  if (axis != GDL_AXIS_ALL) axis = gdl__axis(axis, x->ndim);
  GDL_ASSERT(kind <= MEAN || (axis == GDL_AXIS_ALL ? gdl_tensor_numel(x) : x->shape[axis]) > 0,
             "%s: reduction over an empty axis", gdl_op_name(op));
  gdl_tensor *out = gdl__tensor_empty(ctx, x->dtype, reduced_shape(x, axis, keepdim));
  gdl_node *n = gdl__node(ctx, op, out, 1, &x);
  n->i[0] = axis;
  if (kind >= MAX) n->saved = gdl_ctx_alloc(ctx, (size_t)gdl_tensor_numel(out) * sizeof(int64_t));
  return gdl__run(n);
}

gdl_tensor *gdl_sum(gdl_ctx *c, gdl_tensor *x, int a, bool k) { return reduce(c, GDL_OP_SUM, SUM, x, a, k); }
gdl_tensor *gdl_mean(gdl_ctx *c, gdl_tensor *x, int a, bool k) { return reduce(c, GDL_OP_MEAN, MEAN, x, a, k); }
gdl_tensor *gdl_max(gdl_ctx *c, gdl_tensor *x, int a, bool k) { return reduce(c, GDL_OP_MAX, MAX, x, a, k); }
gdl_tensor *gdl_min(gdl_ctx *c, gdl_tensor *x, int a, bool k) { return reduce(c, GDL_OP_MIN, MIN, x, a, k); }
void gdl__sum_fwd(gdl_node *n) { reduce_fwd(n, SUM); }
void gdl__mean_fwd(gdl_node *n) { reduce_fwd(n, MEAN); }
void gdl__max_fwd(gdl_node *n) { reduce_fwd(n, MAX); }
void gdl__min_fwd(gdl_node *n) { reduce_fwd(n, MIN); }
void gdl__sum_bwd(gdl_ctx *c, gdl_node *n) { reduce_bwd(c, n, SUM); }
void gdl__mean_bwd(gdl_ctx *c, gdl_node *n) { reduce_bwd(c, n, MEAN); }
void gdl__max_bwd(gdl_ctx *c, gdl_node *n) { reduce_bwd(c, n, MAX); }
void gdl__min_bwd(gdl_ctx *c, gdl_node *n) { reduce_bwd(c, n, MIN); }

static gdl_tensor *reduce_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v,
                                 gdl_tensor *(*f)(gdl_ctx *, gdl_tensor *, int, bool)) {
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3, 4, 5), -1, 1);
  switch (v) {
    case 0: return f(ctx, x, 1, false);
    case 1: return f(ctx, x, -1, true);
    case 2: return f(ctx, x, GDL_AXIS_ALL, false);
    case 3: return f(ctx, gdl_transpose(ctx, x, 0, 2), 0, false);
    default: return NULL;
  }
}

gdl_tensor *gdl__sum_sample(gdl_ctx *c, gdl_rng *r, gdl_dtype t, int v) { return reduce_sample(c, r, t, v, gdl_sum); }
gdl_tensor *gdl__mean_sample(gdl_ctx *c, gdl_rng *r, gdl_dtype t, int v) { return reduce_sample(c, r, t, v, gdl_mean); }
gdl_tensor *gdl__max_sample(gdl_ctx *c, gdl_rng *r, gdl_dtype t, int v) { return reduce_sample(c, r, t, v, gdl_max); }
gdl_tensor *gdl__min_sample(gdl_ctx *c, gdl_rng *r, gdl_dtype t, int v) { return reduce_sample(c, r, t, v, gdl_min); }

gdl_tensor *gdl_argmax(gdl_ctx *ctx, gdl_tensor *x, int axis, bool keepdim) {
  GDL_CHECK_FLOAT(x, "argmax");
  if (axis != GDL_AXIS_ALL) axis = gdl__axis(axis, x->ndim);
  split3 s = split_of(x, axis);
  GDL_ASSERT(s.n > 0, "argmax: empty axis");
  gdl_tensor *out = gdl_tensor_new(ctx, GDL_I64, reduced_shape(x, axis, keepdim));
  int64_t *a = out->data;
  const void *xs = gdl__contig(ctx, x);
  GDL_FLOAT_SWITCH(x->dtype, T, {
    const T *X = xs;
    for (int64_t o = 0; o < s.outer; o++)
      for (int64_t j = 0; j < s.inner; j++) {
        int64_t best = 0;
        for (int64_t k = 1; k < s.n; k++)
          if (X[(o * s.n + k) * s.inner + j] > X[(o * s.n + best) * s.inner + j]) best = k;
        a[o * s.inner + j] = best;
      }
  });
  return out;
}

/* ---- softmax and log_softmax along an axis ----------------------------- */
/* softmax:     y = e^(x - m) / sum e^(x - m);  dx = y * (dy - sum(dy * y))
 * log_softmax: y = x - m - log sum e^(x - m);  dx = dy - e^y * sum(dy)      */

static void softmax_fwd(gdl_node *n, bool logs) {
  gdl_tensor *x = n->in[0], *out = n->out;
  split3 s = split_of(x, n->i[0]);
  const void *xs = gdl__contig(n->ctx, x);
  GDL_FLOAT_SWITCH(x->dtype, T, {
    const T *X = xs;
    T *Y = out->data;
    GDL_PARALLEL_FOR_IF(s.outer * s.n * s.inner > GDL_PAR_MIN)
    for (int64_t r = 0; r < s.outer * s.inner; r++) {
      int64_t o = r / s.inner, j = r % s.inner, st = s.inner;
      const T *xr = X + o * s.n * st + j;
      T *yr = Y + o * s.n * st + j;
      T m = xr[0];
      for (int64_t k = 1; k < s.n; k++) m = xr[k * st] > m ? xr[k * st] : m;
      T z = 0;
      for (int64_t k = 0; k < s.n; k++) z += exp(xr[k * st] - m);
      if (logs) {
        T lz = m + log(z);
        for (int64_t k = 0; k < s.n; k++) yr[k * st] = xr[k * st] - lz;
      } else {
        for (int64_t k = 0; k < s.n; k++) yr[k * st] = exp(xr[k * st] - m) / z;
      }
    }
  });
}

static void softmax_bwd(gdl_ctx *ctx, gdl_node *n, bool logs) {
  gdl_tensor *x = n->in[0], *g = gdl__grad(ctx, x);
  if (!g) return;
  split3 s = split_of(x, n->i[0]);
  GDL_FLOAT_SWITCH(x->dtype, T, {
    const T *Y = n->out->data, *DY = n->out->grad->data;
    T *DX = g->data;
    GDL_PARALLEL_FOR_IF(s.outer * s.n * s.inner > GDL_PAR_MIN)
    for (int64_t r = 0; r < s.outer * s.inner; r++) {
      int64_t o = r / s.inner, j = r % s.inner, st = s.inner, base = o * s.n * st + j;
      const T *yr = Y + base, *dyr = DY + base;
      T *dxr = DX + base;
      T dot = 0;
      for (int64_t k = 0; k < s.n; k++) dot += logs ? dyr[k * st] : dyr[k * st] * yr[k * st];
      for (int64_t k = 0; k < s.n; k++)
        dxr[k * st] += logs ? dyr[k * st] - exp(yr[k * st]) * dot : yr[k * st] * (dyr[k * st] - dot);
    }
  });
}

static gdl_tensor *softmax(gdl_ctx *ctx, int op, gdl_tensor *x, int axis) {
  GDL_CHECK_FLOAT(x, gdl_op_name(op));
  gdl_tensor *out = gdl__tensor_empty(ctx, x->dtype, gdl_tensor_shape(x));
  gdl_node *n = gdl__node(ctx, op, out, 1, &x);
  n->i[0] = gdl__axis(axis, x->ndim);
  return gdl__run(n);
}

gdl_tensor *gdl_softmax(gdl_ctx *c, gdl_tensor *x, int a) { return softmax(c, GDL_OP_SOFTMAX, x, a); }
gdl_tensor *gdl_log_softmax(gdl_ctx *c, gdl_tensor *x, int a) { return softmax(c, GDL_OP_LOG_SOFTMAX, x, a); }
void gdl__softmax_fwd(gdl_node *n) { softmax_fwd(n, false); }
void gdl__log_softmax_fwd(gdl_node *n) { softmax_fwd(n, true); }
void gdl__softmax_bwd(gdl_ctx *c, gdl_node *n) { softmax_bwd(c, n, false); }
void gdl__log_softmax_bwd(gdl_ctx *c, gdl_node *n) { softmax_bwd(c, n, true); }

static gdl_tensor *softmax_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v,
                                  gdl_tensor *(*f)(gdl_ctx *, gdl_tensor *, int)) {
  if (v > 1) return NULL;
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3, 4, 5), -2, 2);
  return f(ctx, x, v ? 1 : -1);
}

gdl_tensor *gdl__softmax_sample(gdl_ctx *c, gdl_rng *r, gdl_dtype t, int v) { return softmax_sample(c, r, t, v, gdl_softmax); }
gdl_tensor *gdl__log_softmax_sample(gdl_ctx *c, gdl_rng *r, gdl_dtype t, int v) { return softmax_sample(c, r, t, v, gdl_log_softmax); }
