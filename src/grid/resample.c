/* Resampling [N, C, H, W] planes.
 * upsample: y[i, j] = sum of x at (h0_i | h1_i, w0_j | w1_j) with weights (1 - a_i | a_i)(1 - b_j | b_j);
 *   nearest: h0 = h1 = floor(i fl(H / oh)), fl = rounding to float32 as PyTorch does (it
 *   picks a lower pixel than exact arithmetic for some ratios); bilinear (align_corners = false):
 *   s = max((i + 0.5) H / oh - 0.5, 0), h0 = floor(s), h1 = min(h0 + 1, H - 1), a = s - h0.
 * grid_sample: the same bilinear rule at arbitrary points given in [-1, 1]
 *   (u = ((g + 1) W - 1) / 2), zeros outside; differentiable in x and in the grid.
 * Backward scatters into the input plane of the same thread: deterministic. */
#include <tgmath.h>

#include "core/internal.h"
#include "gdl/grid.h"
#include "ops/sample.h"

typedef struct {
  int64_t planes, H, W, oh, ow;
  int64_t *h0, *h1, *w0, *w1;
  double *a, *b;
} up_plan;

static void axis_map(gdl_ctx *ctx, int64_t n, int64_t o, bool bilinear, int64_t **i0, int64_t **i1, double **f) {
  *i0 = gdl_ctx_alloc(ctx, (size_t)o * sizeof(int64_t));
  *i1 = gdl_ctx_alloc(ctx, (size_t)o * sizeof(int64_t));
  *f = gdl_ctx_alloc(ctx, (size_t)o * sizeof(double));
  for (int64_t i = 0; i < o; i++) {
    if (!bilinear) { /* PyTorch's rule: the scale rounded to float32, then floor */
      int64_t s = (int64_t)floorf((float)i * ((float)n / (float)o));
      (*i0)[i] = (*i1)[i] = s < n ? s : n - 1;
      continue;
    }
    double s = ((double)i + 0.5) * (double)n / (double)o - 0.5;
    s = s < 0 ? 0 : s;
    int64_t a = (int64_t)floor(s);
    a = a < n - 1 ? a : n - 1;
    (*i0)[i] = a;
    (*i1)[i] = a + 1 < n ? a + 1 : n - 1;
    (*f)[i] = s - (double)a;
  }
}

void gdl__upsample_fwd(gdl_node *n) {
  up_plan *p = n->saved;
  const void *xs = gdl__contig(n->ctx, n->in[0]);
  GDL_FLOAT_SWITCH(n->out->dtype, T, {
    const T *X = xs;
    T *Y = n->out->data;
    GDL_PARALLEL_FOR_IF(p->planes * p->oh * p->ow > GDL_PAR_MIN)
    for (int64_t q = 0; q < p->planes; q++) {
      const T *x = X + q * p->H * p->W;
      for (int64_t i = 0; i < p->oh; i++)
        for (int64_t j = 0; j < p->ow; j++) {
          T a = (T)p->a[i], b = (T)p->b[j];
          Y[(q * p->oh + i) * p->ow + j] =
              (1 - a) * ((1 - b) * x[p->h0[i] * p->W + p->w0[j]] + b * x[p->h0[i] * p->W + p->w1[j]]) +
              a * ((1 - b) * x[p->h1[i] * p->W + p->w0[j]] + b * x[p->h1[i] * p->W + p->w1[j]]);
        }
    }
  });
}

void gdl__upsample_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *g = gdl__grad(ctx, n->in[0]);
  if (!g) return;
  up_plan *p = n->saved;
  GDL_FLOAT_SWITCH(g->dtype, T, {
    const T *DY = n->out->grad->data;
    T *DX = g->data;
    GDL_PARALLEL_FOR_IF(p->planes * p->oh * p->ow > GDL_PAR_MIN)
    for (int64_t q = 0; q < p->planes; q++) {
      T *dx = DX + q * p->H * p->W;
      for (int64_t i = 0; i < p->oh; i++)
        for (int64_t j = 0; j < p->ow; j++) {
          T a = (T)p->a[i], b = (T)p->b[j], d = DY[(q * p->oh + i) * p->ow + j];
          dx[p->h0[i] * p->W + p->w0[j]] += (1 - a) * (1 - b) * d;
          dx[p->h0[i] * p->W + p->w1[j]] += (1 - a) * b * d;
          dx[p->h1[i] * p->W + p->w0[j]] += a * (1 - b) * d;
          dx[p->h1[i] * p->W + p->w1[j]] += a * b * d;
        }
    }
  });
}

static gdl_tensor *upsample(gdl_ctx *ctx, gdl_tensor *x, int64_t oh, int64_t ow, bool bilinear) {
  GDL_CHECK_FLOAT(x, "upsample");
  GDL_ASSERT(x->ndim >= 2 && oh >= 1 && ow >= 1, "upsample: input [..., H, W] and a positive output size");
  up_plan *p = gdl_ctx_alloc(ctx, sizeof *p);
  int64_t H = x->shape[x->ndim - 2], W = x->shape[x->ndim - 1];
  GDL_ASSERT(H >= 1 && W >= 1, "upsample: empty input");
  *p = (up_plan){.planes = gdl_tensor_numel(x) / (H * W), .H = H, .W = W, .oh = oh, .ow = ow};
  axis_map(ctx, H, oh, bilinear, &p->h0, &p->h1, &p->a);
  axis_map(ctx, W, ow, bilinear, &p->w0, &p->w1, &p->b);
  gdl_shape s = gdl_tensor_shape(x);
  s.d[s.ndim - 2] = oh;
  s.d[s.ndim - 1] = ow;
  gdl_tensor *y = gdl_tensor_new(ctx, x->dtype, s);
  gdl_node *n = gdl__node(ctx, GDL_OP_UPSAMPLE, y, 1, &x);
  n->saved = p;
  return gdl__run(n);
}

gdl_tensor *gdl_upsample_nearest(gdl_ctx *c, gdl_tensor *x, int oh, int ow) { return upsample(c, x, oh, ow, false); }
gdl_tensor *gdl_upsample_bilinear(gdl_ctx *c, gdl_tensor *x, int oh, int ow) { return upsample(c, x, oh, ow, true); }

gdl_tensor *gdl__upsample_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 2) return NULL;
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(2, 2, 3, 4), -1, 1);
  return v == 0 ? upsample(ctx, x, 6, 8, false) : v == 1 ? upsample(ctx, x, 7, 5, true) : upsample(ctx, x, 2, 3, true);
}

/* ---- grid_sample --------------------------------------------------------------- */

void gdl__grid_sample_fwd(gdl_node *n) {
  gdl_tensor *x = n->in[0], *grid = n->in[1], *y = n->out;
  int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3], OH = y->shape[2], OW = y->shape[3];
  const void *xs = gdl__contig(n->ctx, x), *gs = gdl__contig(n->ctx, grid);
  GDL_FLOAT_SWITCH(x->dtype, T, {
    const T *X = xs, *G = gs;
    T *Y = y->data;
    GDL_PARALLEL_FOR_IF(N * C * OH * OW > GDL_PAR_MIN)
    for (int64_t q = 0; q < N * C; q++) {
      int64_t b = q / C;
      const T *x = X + q * H * W;
      for (int64_t p = 0; p < OH * OW; p++) {
        T u = ((G[(b * OH * OW + p) * 2] + 1) * (T)W - 1) / 2, v = ((G[(b * OH * OW + p) * 2 + 1] + 1) * (T)H - 1) / 2;
        int64_t u0 = (int64_t)floor(u), v0 = (int64_t)floor(v);
        T fu = u - (T)u0, fv = v - (T)v0, acc = 0;
        for (int k = 0; k < 4; k++) {
          int64_t uu = u0 + (k & 1), vv = v0 + (k >> 1);
          if (uu < 0 || uu >= W || vv < 0 || vv >= H) continue;
          acc += ((k & 1) ? fu : 1 - fu) * ((k >> 1) ? fv : 1 - fv) * x[vv * W + uu];
        }
        Y[q * OH * OW + p] = acc;
      }
    }
  });
}

void gdl__grid_sample_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *x = n->in[0], *grid = n->in[1], *gx = gdl__grad(ctx, x), *gg = gdl__grad(ctx, grid);
  int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3], OH = n->out->shape[2],
          OW = n->out->shape[3];
  const void *xs = gdl__contig(ctx, x), *gs = gdl__contig(ctx, grid);
  GDL_FLOAT_SWITCH(x->dtype, T, {
    const T *X = xs, *G = gs, *DY = n->out->grad->data;
    if (gx) { /* planes own their input plane */
      T *DX = gx->data;
      GDL_PARALLEL_FOR_IF(N * C * OH * OW > GDL_PAR_MIN)
      for (int64_t q = 0; q < N * C; q++) {
        int64_t b = q / C;
        for (int64_t p = 0; p < OH * OW; p++) {
          T u = ((G[(b * OH * OW + p) * 2] + 1) * (T)W - 1) / 2, v = ((G[(b * OH * OW + p) * 2 + 1] + 1) * (T)H - 1) / 2;
          int64_t u0 = (int64_t)floor(u), v0 = (int64_t)floor(v);
          T fu = u - (T)u0, fv = v - (T)v0, d = DY[q * OH * OW + p];
          for (int k = 0; k < 4; k++) {
            int64_t uu = u0 + (k & 1), vv = v0 + (k >> 1);
            if (uu >= 0 && uu < W && vv >= 0 && vv < H)
              DX[q * H * W + vv * W + uu] += ((k & 1) ? fu : 1 - fu) * ((k >> 1) ? fv : 1 - fv) * d;
          }
        }
      }
    }
    if (gg) { /* each grid point sums over channels */
      T *DG = gg->data;
      GDL_PARALLEL_FOR_IF(N * C * OH * OW > GDL_PAR_MIN)
      for (int64_t r = 0; r < N * OH * OW; r++) {
        int64_t b = r / (OH * OW), p = r % (OH * OW);
        T u = ((G[r * 2] + 1) * (T)W - 1) / 2, v = ((G[r * 2 + 1] + 1) * (T)H - 1) / 2;
        int64_t u0 = (int64_t)floor(u), v0 = (int64_t)floor(v);
        T fu = u - (T)u0, fv = v - (T)v0, du = 0, dv = 0;
        for (int64_t c = 0; c < C; c++) {
          const T *x = X + (b * C + c) * H * W;
          T d = DY[(b * C + c) * OH * OW + p];
          for (int k = 0; k < 4; k++) {
            int64_t uu = u0 + (k & 1), vv = v0 + (k >> 1);
            if (uu < 0 || uu >= W || vv < 0 || vv >= H) continue;
            T val = x[vv * W + uu] * d;
            du += ((k & 1) ? 1 : -1) * ((k >> 1) ? fv : 1 - fv) * val;
            dv += ((k >> 1) ? 1 : -1) * ((k & 1) ? fu : 1 - fu) * val;
          }
        }
        DG[r * 2] += du * (T)W / 2;
        DG[r * 2 + 1] += dv * (T)H / 2;
      }
    }
  });
}

gdl_tensor *gdl_grid_sample(gdl_ctx *ctx, gdl_tensor *x, gdl_tensor *grid) {
  GDL_CHECK_FLOAT(x, "grid_sample");
  GDL_ASSERT(x->ndim == 4 && grid->ndim == 4 && grid->shape[0] == x->shape[0] && grid->shape[3] == 2 &&
                 grid->dtype == x->dtype,
             "grid_sample: x must be [N, C, H, W] and grid [N, OH, OW, 2] of the same dtype");
  gdl_tensor *y = gdl_tensor_new(ctx, x->dtype, GDL_SHAPE(x->shape[0], x->shape[1], grid->shape[1], grid->shape[2]));
  return gdl__run(gdl__node(ctx, GDL_OP_GRID_SAMPLE, y, 2, (gdl_tensor *[]){x, grid}));
}

gdl_tensor *gdl__grid_sample_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 0) return NULL;
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(2, 2, 4, 5), -1, 1);
  gdl_tensor *g = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(2, 3, 3, 2), -1.1, 1.1);
  return gdl_grid_sample(ctx, x, g);
}
