/* One level of the 2-D discrete wavelet transform and its inverse, PyWavelets'
 * conventions (pywt.dwt2 / pywt.idwt2), as differentiable ops.
 *
 * 1-D analysis of x[0..n) with filters h (low) and g (high), F taps:
 *   a[o] = sum_j h[j] x[e(i_o - j)],   d[o] = sum_j g[j] x[e(i_o - j)]
 *   periodization: i_o = F/2 + 2o, e(k) = k mod n' (n' = n rounded up to even;
 *                  index n of an odd signal is its repeated last sample n - 1),
 *                  c = ceil(n/2) outputs;
 *   symmetric:     i_o = 2o + 1, e() mirrors with period 2n (x[-1-k] = x[k]),
 *                  c = floor((n + F - 1)/2) outputs.
 * 1-D synthesis with filters h~ (rec_lo), g~ (rec_hi), m outputs:
 *   y[p] = sum_{o, k: p(o, k) = p} h~[k] a[o] + g~[k] d[o]
 *   periodization: p(o, k) = (2o + k - F/2 + 1) mod 2c, m = 2c;
 *   symmetric:     p(o, k) = 2o + k - (F - 2) when 0 <= p < m, m = 2c - F + 2.
 * Both are "index table" maps: a gather out[o] = sum_j f[j] in[t(o, j)] or its
 * transpose, the scatter in[t(o, j)] += f[j] out[o]. Analysis is a gather, so
 * its backward is a scatter with the same table and filters; synthesis is a
 * scatter and its backward a gather.
 *
 * 2-D: analysis along axis -2 (H) then -1 (W), synthesis along W then H (the
 * order PyWavelets uses, so float64 results agree to rounding).
 *   dwt2:  x [B, H, W] -> c [B, 4, h, w], bands cA (lo H, lo W), cH (hi H, lo W),
 *          cV (lo H, hi W), cD (hi H, hi W);
 *   idwt2: c [B, 4, h, w] -> y [B, m(h), m(w)].
 * B is every leading axis together; OpenMP runs over B. */
#include "core/internal.h"
#include "gdl/wavelets.h"
#include "ops/sample.h"

/* ---- modes and lengths --------------------------------------------------------- */

gdl_status gdl_dwt_mode_parse(const char *s, gdl_dwt_mode *mode) {
  if (s && !strcmp(s, "periodization")) *mode = GDL_DWT_PERIODIZATION;
  else if (s && !strcmp(s, "symmetric")) *mode = GDL_DWT_SYMMETRIC;
  else return gdl_error(GDL_ERR_ARG, "dwt: unknown mode '%s' (periodization, symmetric)", s ? s : "");
  return GDL_OK;
}

const char *gdl_dwt_mode_name(gdl_dwt_mode mode) {
  return mode == GDL_DWT_PERIODIZATION ? "periodization" : "symmetric";
}

int64_t gdl_dwt_coeff_len(int64_t n, const gdl_wavelet *w, gdl_dwt_mode mode) {
  return mode == GDL_DWT_PERIODIZATION ? (n + 1) / 2 : (n + w->len - 1) / 2;
}

int64_t gdl_idwt_len(int64_t c, const gdl_wavelet *w, gdl_dwt_mode mode) {
  return mode == GDL_DWT_PERIODIZATION ? 2 * c : 2 * c - w->len + 2;
}

int gdl_dwt_max_level(int64_t n, const gdl_wavelet *w) {
  int64_t f = w->len - 1;
  int lev = 0;
  if (f < 1) return 0;
  while ((n / f) >> (lev + 1)) lev++;
  return lev;
}

/* ---- index tables ------------------------------------------------------------------ */

/* t[o * F + j]: the input sample that analysis tap j of output o reads. */
static int32_t *analysis_table(gdl_ctx *ctx, int64_t n, int64_t c, int F, gdl_dwt_mode mode) {
  int32_t *t = gdl_ctx_alloc(ctx, (size_t)(c * F) * sizeof *t);
  int64_t np = n + (n & 1);
  for (int64_t o = 0; o < c; o++)
    for (int j = 0; j < F; j++) {
      int64_t k;
      if (mode == GDL_DWT_PERIODIZATION) {
        k = ((F / 2 + 2 * o - j) % np + np) % np;
        if (k == n) k = n - 1; /* the repeated last sample of an odd signal */
      } else {
        k = ((2 * o + 1 - j) % (2 * n) + 2 * n) % (2 * n);
        if (k >= n) k = 2 * n - 1 - k;
      }
      t[o * F + j] = (int32_t)k;
    }
  return t;
}

/* t[o * F + k]: the output sample that synthesis tap k of coefficient o writes, or -1. */
static int32_t *synthesis_table(gdl_ctx *ctx, int64_t c, int64_t m, int F, gdl_dwt_mode mode) {
  int32_t *t = gdl_ctx_alloc(ctx, (size_t)(c * F) * sizeof *t);
  for (int64_t o = 0; o < c; o++)
    for (int k = 0; k < F; k++) {
      int64_t p;
      if (mode == GDL_DWT_PERIODIZATION) p = ((2 * o + k - F / 2 + 1) % m + m) % m;
      else p = 2 * o + k - (F - 2);
      t[o * F + k] = p >= 0 && p < m ? (int32_t)p : -1;
    }
  return t;
}

/* ---- the two kernels, on one image ----------------------------------------------------- */
/* Arrays are [rows, inner] with the transformed axis as rows (inner = 1 for the
 * last axis): a row is `inner` contiguous numbers.
 * gather:  lo[o] (+)= sum_j fl[j] src[t(o, j)],  hi[o] (+)= sum_j fh[j] src[t(o, j)]
 * scatter: dst[t(o, j)] += fl[j] lo[o] + fh[j] hi[o]                                  */

#define GATHER(T)                                                                               \
  static void gather_##T(T *lo, T *hi, const T *src, int64_t c, int64_t inner, const int32_t *t, \
                         const T *fl, const T *fh, int F, bool acc) {                           \
    if (inner == 1) {                                                                           \
      for (int64_t o = 0; o < c; o++) {                                                         \
        const int32_t *to = t + o * F;                                                          \
        T sl = 0, sh = 0;                                                                       \
        for (int j = 0; j < F; j++)                                                             \
          if (to[j] >= 0) {                                                                     \
            T v = src[to[j]];                                                                   \
            sl += fl[j] * v;                                                                    \
            sh += fh[j] * v;                                                                    \
          }                                                                                     \
        lo[o] = acc ? lo[o] + sl : sl;                                                          \
        hi[o] = acc ? hi[o] + sh : sh;                                                          \
      }                                                                                         \
      return;                                                                                   \
    }                                                                                           \
    for (int64_t o = 0; o < c; o++) {                                                           \
      T *l = lo + o * inner, *h = hi + o * inner;                                               \
      if (!acc)                                                                                 \
        for (int64_t i = 0; i < inner; i++) l[i] = h[i] = 0;                                    \
      for (int j = 0; j < F; j++) {                                                             \
        if (t[o * F + j] < 0) continue;                                                         \
        const T *s = src + (int64_t)t[o * F + j] * inner;                                       \
        T a = fl[j], b = fh[j];                                                                 \
        for (int64_t i = 0; i < inner; i++) {                                                   \
          l[i] += a * s[i];                                                                     \
          h[i] += b * s[i];                                                                     \
        }                                                                                       \
      }                                                                                         \
    }                                                                                           \
  }

#define SCATTER(T)                                                                                \
  static void scatter_##T(T *dst, const T *lo, const T *hi, int64_t c, int64_t inner,            \
                          const int32_t *t, const T *fl, const T *fh, int F) {                    \
    for (int64_t o = 0; o < c; o++) {                                                             \
      const T *l = lo + o * inner, *h = hi + o * inner;                                           \
      for (int j = 0; j < F; j++) {                                                               \
        if (t[o * F + j] < 0) continue;                                                           \
        T *d = dst + (int64_t)t[o * F + j] * inner;                                               \
        T a = fl[j], b = fh[j];                                                                   \
        for (int64_t i = 0; i < inner; i++) d[i] += a * l[i] + b * h[i];                          \
      }                                                                                           \
    }                                                                                             \
  }

GATHER(float)
GATHER(double)
SCATTER(float)
SCATTER(double)

#define GATHER_T(T) _Generic((T *)0, float *: gather_float, double *: gather_double)
#define SCATTER_T(T) _Generic((T *)0, float *: scatter_float, double *: scatter_double)

/* ---- shared plumbing ----------------------------------------------------------------- */

typedef struct {
  int64_t B, H, W, h, w; /* signal H x W, coefficients h x w per band */
  int32_t *tH, *tW;      /* tables along H and W */
} geom;

/* The filters of w as T: 0 dec_lo, 1 dec_hi, 2 rec_lo, 3 rec_hi. */
#define FILTERS(T, wv, f)                                                      \
  T f[4][16];                                                                  \
  for (int q_ = 0; q_ < 4; q_++)                                               \
    for (int k_ = 0; k_ < (wv)->len; k_++)                                     \
      f[q_][k_] = (T)((q_ == 0 ? (wv)->dec_lo : q_ == 1 ? (wv)->dec_hi         \
                       : q_ == 2 ? (wv)->rec_lo : (wv)->rec_hi)[k_]);

static int64_t batch_of(const gdl_tensor *x, int tail) {
  int64_t B = 1;
  for (int k = 0; k < x->ndim - tail; k++) B *= x->shape[k];
  return B;
}

/* ---- dwt2 ------------------------------------------------------------------------------ */

static geom dwt_geom(gdl_ctx *ctx, const gdl_tensor *x, const gdl_wavelet *w, gdl_dwt_mode mode) {
  geom g = {.B = batch_of(x, 2), .H = x->shape[x->ndim - 2], .W = x->shape[x->ndim - 1]};
  g.h = gdl_dwt_coeff_len(g.H, w, mode);
  g.w = gdl_dwt_coeff_len(g.W, w, mode);
  g.tH = analysis_table(ctx, g.H, g.h, w->len, mode);
  g.tW = analysis_table(ctx, g.W, g.w, w->len, mode);
  return g;
}

void gdl__dwt2_fwd(gdl_node *n) {
  const gdl_wavelet *wv = n->aux;
  geom g = dwt_geom(n->ctx, n->in[0], wv, (gdl_dwt_mode)n->i[0]);
  int F = wv->len;
  int64_t hw = g.h * g.w;
  GDL_FLOAT_SWITCH(n->out->dtype, T, {
    FILTERS(T, wv, f);
    const T *X = gdl__contig(n->ctx, n->in[0]);
    T *C = n->out->data;
    T *tmp = gdl_ctx_alloc(n->ctx, sizeof(T) * (size_t)(g.B * 2 * g.h * g.W));
    GDL_PARALLEL_FOR_IF(g.B > 1 && g.B * g.H * g.W * F > GDL_PAR_MIN)
    for (int64_t b = 0; b < g.B; b++) {
      T *tl = tmp + b * 2 * g.h * g.W, *th = tl + g.h * g.W, *c = C + b * 4 * hw;
      GATHER_T(T)(tl, th, X + b * g.H * g.W, g.h, g.W, g.tH, f[0], f[1], F, false);
      for (int64_t r = 0; r < g.h; r++) { /* along W: lo/hi of the H-low rows -> cA, cV */
        GATHER_T(T)(c + r * g.w, c + 2 * hw + r * g.w, tl + r * g.W, g.w, 1, g.tW, f[0], f[1], F, false);
        GATHER_T(T)(c + hw + r * g.w, c + 3 * hw + r * g.w, th + r * g.W, g.w, 1, g.tW, f[0], f[1], F,
                    false);
      }
    }
  });
}

void gdl__dwt2_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *gx = gdl__grad(ctx, n->in[0]);
  if (!gx) return;
  const gdl_wavelet *wv = n->aux;
  geom g = dwt_geom(ctx, n->in[0], wv, (gdl_dwt_mode)n->i[0]);
  int F = wv->len;
  int64_t hw = g.h * g.w;
  GDL_FLOAT_SWITCH(n->out->dtype, T, {
    FILTERS(T, wv, f);
    const T *G = n->out->grad->data;
    T *GX = gx->data;
    T *tmp = gdl_ctx_alloc(ctx, sizeof(T) * (size_t)(g.B * 2 * g.h * g.W));
    GDL_PARALLEL_FOR_IF(g.B > 1 && g.B * g.H * g.W * F > GDL_PAR_MIN)
    for (int64_t b = 0; b < g.B; b++) {
      T *tl = tmp + b * 2 * g.h * g.W, *th = tl + g.h * g.W;
      const T *c = G + b * 4 * hw;
      for (int64_t r = 0; r < g.h; r++) {
        SCATTER_T(T)(tl + r * g.W, c + r * g.w, c + 2 * hw + r * g.w, g.w, 1, g.tW, f[0], f[1], F);
        SCATTER_T(T)(th + r * g.W, c + hw + r * g.w, c + 3 * hw + r * g.w, g.w, 1, g.tW, f[0], f[1], F);
      }
      SCATTER_T(T)(GX + b * g.H * g.W, tl, th, g.h, g.W, g.tH, f[0], f[1], F);
    }
  });
}

gdl_tensor *gdl_dwt2(gdl_ctx *ctx, gdl_tensor *x, const gdl_wavelet *w, gdl_dwt_mode mode) {
  GDL_CHECK_FLOAT(x, "dwt2");
  GDL_ASSERT(w, "dwt2: no wavelet");
  GDL_ASSERT(x->ndim >= 2 && x->ndim < GDL_MAX_DIMS, "dwt2: expected [..., H, W] with at most %d axes",
             GDL_MAX_DIMS - 1);
  GDL_ASSERT(x->shape[x->ndim - 2] > 0 && x->shape[x->ndim - 1] > 0, "dwt2: empty image");
  gdl_shape s = gdl_tensor_shape(x);
  s.d[s.ndim - 2] = 4;
  s.d[s.ndim - 1] = gdl_dwt_coeff_len(x->shape[x->ndim - 2], w, mode);
  s.d[s.ndim++] = gdl_dwt_coeff_len(x->shape[x->ndim - 1], w, mode);
  gdl_tensor *out = gdl_tensor_new(ctx, x->dtype, s);
  gdl_node *n = gdl__node(ctx, GDL_OP_DWT2, out, 1, (gdl_tensor *[]){x});
  n->i[0] = mode;
  n->aux = (void *)w;
  return gdl__run(n);
}

/* ---- idwt2 ------------------------------------------------------------------------------ */

static geom idwt_geom(gdl_ctx *ctx, const gdl_tensor *c, const gdl_wavelet *w, gdl_dwt_mode mode) {
  geom g = {.B = batch_of(c, 3), .h = c->shape[c->ndim - 2], .w = c->shape[c->ndim - 1]};
  g.H = gdl_idwt_len(g.h, w, mode);
  g.W = gdl_idwt_len(g.w, w, mode);
  g.tH = synthesis_table(ctx, g.h, g.H, w->len, mode);
  g.tW = synthesis_table(ctx, g.w, g.W, w->len, mode);
  return g;
}

void gdl__idwt2_fwd(gdl_node *n) {
  const gdl_wavelet *wv = n->aux;
  geom g = idwt_geom(n->ctx, n->in[0], wv, (gdl_dwt_mode)n->i[0]);
  int F = wv->len;
  int64_t hw = g.h * g.w;
  GDL_FLOAT_SWITCH(n->out->dtype, T, {
    FILTERS(T, wv, f);
    const T *C = gdl__contig(n->ctx, n->in[0]);
    T *Y = n->out->data;
    T *tmp = gdl_ctx_alloc(n->ctx, sizeof(T) * (size_t)(g.B * 2 * g.h * g.W));
    GDL_PARALLEL_FOR_IF(g.B > 1 && g.B * g.H * g.W * F > GDL_PAR_MIN)
    for (int64_t b = 0; b < g.B; b++) {
      T *tl = tmp + b * 2 * g.h * g.W, *th = tl + g.h * g.W, *y = Y + b * g.H * g.W;
      const T *c = C + b * 4 * hw;
      for (int64_t r = 0; r < g.h; r++) { /* along W: (cA, cV) -> H-low rows, (cH, cD) -> H-high */
        SCATTER_T(T)(tl + r * g.W, c + r * g.w, c + 2 * hw + r * g.w, g.w, 1, g.tW, f[2], f[3], F);
        SCATTER_T(T)(th + r * g.W, c + hw + r * g.w, c + 3 * hw + r * g.w, g.w, 1, g.tW, f[2], f[3], F);
      }
      for (int64_t i = 0; i < g.H * g.W; i++) y[i] = 0;
      SCATTER_T(T)(y, tl, th, g.h, g.W, g.tH, f[2], f[3], F);
    }
  });
}

void gdl__idwt2_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *gc = gdl__grad(ctx, n->in[0]);
  if (!gc) return;
  const gdl_wavelet *wv = n->aux;
  geom g = idwt_geom(ctx, n->in[0], wv, (gdl_dwt_mode)n->i[0]);
  int F = wv->len;
  int64_t hw = g.h * g.w;
  GDL_FLOAT_SWITCH(n->out->dtype, T, {
    FILTERS(T, wv, f);
    const T *GY = n->out->grad->data;
    T *GC = gc->data;
    T *tmp = gdl_ctx_alloc(ctx, sizeof(T) * (size_t)(g.B * 2 * g.h * g.W));
    GDL_PARALLEL_FOR_IF(g.B > 1 && g.B * g.H * g.W * F > GDL_PAR_MIN)
    for (int64_t b = 0; b < g.B; b++) {
      T *tl = tmp + b * 2 * g.h * g.W, *th = tl + g.h * g.W, *c = GC + b * 4 * hw;
      GATHER_T(T)(tl, th, GY + b * g.H * g.W, g.h, g.W, g.tH, f[2], f[3], F, false);
      for (int64_t r = 0; r < g.h; r++) {
        GATHER_T(T)(c + r * g.w, c + 2 * hw + r * g.w, tl + r * g.W, g.w, 1, g.tW, f[2], f[3], F, true);
        GATHER_T(T)(c + hw + r * g.w, c + 3 * hw + r * g.w, th + r * g.W, g.w, 1, g.tW, f[2], f[3], F,
                    true);
      }
    }
  });
}

gdl_tensor *gdl_idwt2(gdl_ctx *ctx, gdl_tensor *c, const gdl_wavelet *w, gdl_dwt_mode mode) {
  GDL_CHECK_FLOAT(c, "idwt2");
  GDL_ASSERT(w, "idwt2: no wavelet");
  GDL_ASSERT(c->ndim >= 3 && c->shape[c->ndim - 3] == 4, "idwt2: expected [..., 4, h, w]");
  int64_t H = gdl_idwt_len(c->shape[c->ndim - 2], w, mode), W = gdl_idwt_len(c->shape[c->ndim - 1], w, mode);
  GDL_ASSERT(H > 0 && W > 0, "idwt2: %lld x %lld coefficients are too few for %s in %s mode",
             (long long)c->shape[c->ndim - 2], (long long)c->shape[c->ndim - 1], w->name,
             gdl_dwt_mode_name(mode));
  gdl_shape s = gdl_tensor_shape(c);
  s.ndim--;
  s.d[s.ndim - 2] = H;
  s.d[s.ndim - 1] = W;
  gdl_tensor *out = gdl_tensor_new(ctx, c->dtype, s);
  gdl_node *n = gdl__node(ctx, GDL_OP_IDWT2, out, 1, (gdl_tensor *[]){c});
  n->i[0] = mode;
  n->aux = (void *)w;
  return gdl__run(n);
}

/* ---- samples for the gradient check ---------------------------------------------------------- */

gdl_tensor *gdl__dwt2_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  static const struct { const char *w; gdl_dwt_mode m; int64_t b, H, W; } cases[] = {
      {"haar", GDL_DWT_PERIODIZATION, 2, 4, 6},
      {"db2", GDL_DWT_SYMMETRIC, 2, 5, 7},
      {"bior4.4", GDL_DWT_SYMMETRIC, 1, 6, 3},   /* filter longer than the signal */
      {"db3", GDL_DWT_PERIODIZATION, 1, 5, 7},   /* odd sizes, wrap-around */
  };
  if (v >= (int)(sizeof cases / sizeof *cases)) return NULL;
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(cases[v].b, cases[v].H, cases[v].W), -1, 1);
  return gdl_dwt2(ctx, x, gdl_wavelet_get(cases[v].w), cases[v].m);
}

gdl_tensor *gdl__idwt2_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  static const struct { const char *wv; gdl_dwt_mode m; int64_t b, h, w; } cases[] = {
      {"haar", GDL_DWT_PERIODIZATION, 2, 2, 3},
      {"db2", GDL_DWT_SYMMETRIC, 1, 4, 5},
      {"bior4.4", GDL_DWT_PERIODIZATION, 1, 3, 4},
      {"bior4.4", GDL_DWT_SYMMETRIC, 1, 6, 5},
  };
  if (v >= (int)(sizeof cases / sizeof *cases)) return NULL;
  gdl_tensor *c = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(cases[v].b, 4, cases[v].h, cases[v].w), -1, 1);
  return gdl_idwt2(ctx, c, gdl_wavelet_get(cases[v].wv), cases[v].m);
}
