/* Convolution over 1-3 spatial axes by im2col + GEMM, and its transpose.
 *
 * Geometry: x [N, C, *S] with S padded to 3 axes (D, H, W; missing ones are 1),
 * weight [O, C/G, *K]. For one sample and group g, with col = im2col(x_n):
 *     y[n, g]  = W_g [O/G, (C/G)|K|] @ col_g [(C/G)|K|, |S'|]        (forward)
 *     dcol_g   = W_g^T @ dy[n, g],  dx_n += col2im(dcol)               (data grad)
 *     dW_g    += dy[n, g] @ col_g^T                                    (weight grad)
 * The transposed convolution runs the same kernels with the roles of the forward
 * and the data gradient exchanged. Output rows go through in tiles (below) so that
 * col never leaves the cache; results never depend on the thread count. 3x3
 * stride-1 float32 convolutions with 16+ channels go to winograd.c instead. */
#include "core/internal.h"
#include "gdl/grid.h"
#include "ops/blas.h"
#include "ops/sample.h"
#include "grid/winograd.h"

typedef struct {
  int64_t N, C, O, G;                 /* batch, input and output channels, groups */
  int64_t in[3], k[3], out[3];        /* spatial sizes (D, H, W) */
  int64_t s[3], p[3], d[3];           /* stride, zero padding, dilation */
} geom;

static int64_t vol(const int64_t *a) { return a[0] * a[1] * a[2]; }

/* The rows of im2col and col2im at stride 1: d[ow] = s[ow + off] for ow in [lo, hi)
 * and 0 elsewhere in [0, W), and x[ow + off] += s[ow] for ow in [lo, hi). Rows are
 * often shorter than a vector (14 or 28 floats), hence masked AVX-512 loads and
 * stores (masked-off lanes are never touched, even outside the array). */
#define DEFINE_ROW_COPIES(T)                                                                                 \
  static inline void row_gather_##T(T *restrict d, const T *restrict s, int64_t off, int64_t lo, int64_t hi,   \
                                    int64_t W) {                                                              \
    for (int64_t ow = 0; ow < W; ow++) d[ow] = ow >= lo && ow < hi ? s[ow + off] : 0;                          \
  }                                                                                                          \
  static inline void row_add_##T(T *restrict x, const T *restrict s, int64_t off, int64_t lo, int64_t hi) {  \
    for (int64_t ow = lo; ow < hi; ow++) x[ow + off] += s[ow];                                                \
  }
DEFINE_ROW_COPIES(double)
#ifdef __AVX512F__
static inline void row_gather_float(float *restrict d, const float *restrict s, int64_t off, int64_t lo, int64_t hi,
                                    int64_t W) {
  for (int64_t o = 0; o < W; o += 16)
    _mm512_mask_storeu_ps(d + o, gdl__lanes(0, W - o), _mm512_maskz_loadu_ps(gdl__lanes(lo - o, hi - o), s + o + off));
}
static inline void row_add_float(float *restrict x, const float *restrict s, int64_t off, int64_t lo, int64_t hi) {
  for (int64_t o = 0; o < hi; o += 16) {
    __mmask16 m = gdl__lanes(lo - o, hi - o);
    _mm512_mask_storeu_ps(x + o + off, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, x + o + off), _mm512_maskz_loadu_ps(m, s + o)));
  }
}
#else
DEFINE_ROW_COPIES(float)
#endif

/* Walks output rows rho = od out[1] + oh in [r0, r1) of kernel offset (a, b) with
 * the input row (id, ih) each reads and whether it is inside: BODY sees rho, id,
 * ih and inside. */
#define FOR_TILE_ROWS(g, r0, r1, a, b, BODY)                                                    \
  do {                                                                                          \
    const int64_t OH_ = (g)->out[1], s0_ = (g)->s[0], s1_ = (g)->s[1];                          \
    const int64_t id0_ = (a) * (g)->d[0] - (g)->p[0], ih0_ = (b) * (g)->d[1] - (g)->p[1];       \
    int64_t od_ = (r0) / OH_, oh_ = (r0) % OH_;                                                 \
    for (int64_t rho = (r0); rho < (r1); rho++) {                                               \
      int64_t id = od_ * s0_ + id0_, ih = oh_ * s1_ + ih0_;                                     \
      bool inside = id >= 0 && id < (g)->in[0] && ih >= 0 && ih < (g)->in[1];                   \
      if (++oh_ == OH_) oh_ = 0, od_++;                                                         \
      BODY                                                                                      \
    }                                                                                           \
  } while (0)

/* For output rows rho in [r0, r1) (a tile; col has ld columns):
 * col[(c, kd, kh, kw), (rho - r0, ow)] = x[c, od s - p + kd d, ...] or 0 outside. */
#define DEFINE_IM2COL(T)                                                                        \
  static void im2col_##T(const geom *g, const T *x, T *col, int64_t ld, int64_t r0, int64_t r1) { \
    const int64_t kv = vol(g->k), W = g->out[2], IW = g->in[2], plane = g->in[1] * IW;          \
    for (int64_t c = 0; c < g->C; c++)                                                          \
      for (int64_t r = 0; r < kv; r++) {                                                        \
        int64_t a = r / (g->k[1] * g->k[2]), b = r / g->k[2] % g->k[1], e = r % g->k[2];        \
        T *row = col + (c * kv + r) * ld;                                                       \
        const T *xc = x + c * vol(g->in);                                                       \
        int64_t off = e * g->d[2] - g->p[2]; /* iw = ow s + off */                              \
        int64_t lo = off < 0 ? -off : 0, hi = IW - off < W ? IW - off : W; /* stride 1 */        \
        FOR_TILE_ROWS(g, r0, r1, a, b, {                                                        \
          T *dst = row + (rho - r0) * W;                                                        \
          const T *src = xc + (inside ? id * plane + ih * IW : 0);                              \
          if (g->s[2] == 1) {                                                                   \
            row_gather_##T(dst, src, off, inside ? lo : 0, inside ? hi : 0, W);                 \
            continue;                                                                           \
          }                                                                                     \
          for (int64_t ow = 0; ow < W; ow++) {                                                  \
            int64_t iw = ow * g->s[2] + off;                                                    \
            dst[ow] = inside && iw >= 0 && iw < IW ? src[iw] : 0;                               \
          }                                                                                     \
        });                                                                                     \
      }                                                                                         \
  }                                                                                             \
  /* x += the adjoint of im2col over the same rows */                                           \
  static void col2im_##T(const geom *g, const T *col, int64_t ld, T *x, int64_t r0, int64_t r1) { \
    const int64_t kv = vol(g->k), W = g->out[2], IW = g->in[2], plane = g->in[1] * IW;          \
    for (int64_t c = 0; c < g->C; c++)                                                          \
      for (int64_t r = 0; r < kv; r++) {                                                        \
        int64_t a = r / (g->k[1] * g->k[2]), b = r / g->k[2] % g->k[1], e = r % g->k[2];        \
        const T *row = col + (c * kv + r) * ld;                                                 \
        T *xc = x + c * vol(g->in);                                                             \
        int64_t off = e * g->d[2] - g->p[2];                                                    \
        int64_t lo = off < 0 ? -off : 0, hi = IW - off < W ? IW - off : W;                      \
        FOR_TILE_ROWS(g, r0, r1, a, b, {                                                        \
          if (!inside) continue;                                                                \
          const T *src = row + (rho - r0) * W;                                                  \
          T *dst = xc + id * plane + ih * IW;                                                   \
          if (g->s[2] == 1) {                                                                   \
            row_add_##T(dst, src, off, lo, hi);                                                 \
            continue;                                                                           \
          }                                                                                     \
          for (int64_t ow = 0; ow < W; ow++) {                                                  \
            int64_t iw = ow * g->s[2] + off;                                                    \
            if (iw >= 0 && iw < IW) dst[iw] += src[ow];                                         \
          }                                                                                     \
        });                                                                                     \
      }                                                                                         \
  }
DEFINE_IM2COL(float)
DEFINE_IM2COL(double)

static void im2col(gdl_dtype t, const geom *g, const void *x, void *col, int64_t ld, int64_t r0, int64_t r1) {
  if (t == GDL_F32) im2col_float(g, x, col, ld, r0, r1);
  else im2col_double(g, x, col, ld, r0, r1);
}

static void col2im(gdl_dtype t, const geom *g, const void *col, int64_t ld, void *x, int64_t r0, int64_t r1) {
  if (t == GDL_F32) col2im_float(g, col, ld, x, r0, r1);
  else col2im_double(g, col, ld, x, r0, r1);
}

/* Depthwise convolutions (one input channel per group, as in MobileNet) run
 * directly: im2col + GEMM would copy each input |K| times for products with one
 * output row. For kernel offset r, the rows (od, oh) whose input row is inside give
 * `ow` in [lo, hi) reading input column ow s + off. */
#define DW_FOR_ROWS(g, r, BODY)                                                                    \
  do {                                                                                             \
    int64_t a_ = (r) / ((g)->k[1] * (g)->k[2]), b_ = (r) / (g)->k[2] % (g)->k[1], e_ = (r) % (g)->k[2]; \
    int64_t s = (g)->s[2], off = e_ * (g)->d[2] - (g)->p[2];                                       \
    int64_t lo = off < 0 ? (-off + s - 1) / s : 0, hi = (g)->in[2] - off > 0 ? ((g)->in[2] - off + s - 1) / s : 0; \
    if (hi > (g)->out[2]) hi = (g)->out[2];                                                       \
    for (int64_t od = 0; od < (g)->out[0]; od++) {                                                 \
      int64_t id = od * (g)->s[0] - (g)->p[0] + a_ * (g)->d[0];                                    \
      if (id < 0 || id >= (g)->in[0]) continue;                                                    \
      for (int64_t oh = 0; oh < (g)->out[1]; oh++) {                                               \
        int64_t ih = oh * (g)->s[1] - (g)->p[1] + b_ * (g)->d[1];                                  \
        if (ih < 0 || ih >= (g)->in[1]) continue;                                                  \
        int64_t prow = (od * (g)->out[1] + oh) * (g)->out[2], irow = (id * (g)->in[1] + ih) * (g)->in[2] + off; \
        BODY                                                                                       \
      }                                                                                            \
    }                                                                                              \
  } while (0)

#define DEFINE_DEPTHWISE(T)                                                                        \
  static void dw_fwd_##T(const geom *g, const T *x, const T *w, T *y, double beta) {               \
    int64_t Og = g->O / g->G, kv = vol(g->k), P = vol(g->out), Pin = vol(g->in);                   \
    GDL_PARALLEL_FOR_IF(g->N * g->O * P * kv > GDL_PAR_MIN)                                       \
    for (int64_t nc = 0; nc < g->N * g->C; nc++) {                                                 \
      const T *xc = x + nc * Pin;                                                                  \
      for (int64_t o = nc % g->C * Og; o < (nc % g->C + 1) * Og; o++) {                            \
        T *yo = y + (nc / g->C * g->O + o) * P;                                                    \
        if (beta == 0) memset(yo, 0, sizeof(T) * (size_t)P);                                       \
        for (int64_t r = 0; r < kv; r++) {                                                         \
          T wv = w[o * kv + r];                                                                    \
          DW_FOR_ROWS(g, r, for (int64_t ow = lo; ow < hi; ow++) yo[prow + ow] += wv * xc[irow + ow * s];); \
        }                                                                                          \
      }                                                                                            \
    }                                                                                              \
  }                                                                                                \
  /* dx += adjoint(dy) (parallel over samples and channels); dw += per output channel, */         \
  /* summed over samples in order (parallel over output channels). */                             \
  static void dw_bwd_##T(const geom *g, const T *x, const T *dy, const T *w, T *dx, T *dw) {       \
    int64_t Og = g->O / g->G, kv = vol(g->k), P = vol(g->out), Pin = vol(g->in);                   \
    if (dx) {                                                                                      \
      GDL_PARALLEL_FOR_IF(g->N * g->O * P * kv > GDL_PAR_MIN)                                     \
      for (int64_t nc = 0; nc < g->N * g->C; nc++) {                                               \
        T *dxc = dx + nc * Pin;                                                                    \
        for (int64_t o = nc % g->C * Og; o < (nc % g->C + 1) * Og; o++) {                          \
          const T *dyo = dy + (nc / g->C * g->O + o) * P;                                          \
          for (int64_t r = 0; r < kv; r++) {                                                       \
            T wv = w[o * kv + r];                                                                  \
            DW_FOR_ROWS(g, r, for (int64_t ow = lo; ow < hi; ow++) dxc[irow + ow * s] += wv * dyo[prow + ow];); \
          }                                                                                        \
        }                                                                                          \
      }                                                                                            \
    }                                                                                              \
    if (!dw) return;                                                                               \
    GDL_PARALLEL_FOR_IF(g->N * g->O * P * kv > GDL_PAR_MIN)                                       \
    for (int64_t o = 0; o < g->O; o++)                                                             \
      for (int64_t r = 0; r < kv; r++) {                                                           \
        T acc = 0;                                                                                 \
        for (int64_t n = 0; n < g->N; n++) {                                                       \
          const T *xc = x + (n * g->C + o / Og) * Pin, *dyo = dy + (n * g->O + o) * P;             \
          DW_FOR_ROWS(g, r, for (int64_t ow = lo; ow < hi; ow++) acc += dyo[prow + ow] * xc[irow + ow * s];); \
        }                                                                                          \
        dw[o * kv + r] += acc;                                                                     \
      }                                                                                            \
  }
DEFINE_DEPTHWISE(float)
DEFINE_DEPTHWISE(double)

static bool depthwise(const geom *g) { return g->C == g->G && g->G > 1; }

/* Convolutions run tile by tile, a tile being a block of output columns small
 * enough that its im2col block (col, one per thread) stays in the core's L2 cache
 * (nothing of size |K| P goes through memory): a range of one sample's output rows
 * for large images, or several whole samples side by side for small ones (so the
 * GEMMs keep enough columns). One-sample tiles are column blocks of y, dy and dx
 * and are used in place; several-sample tiles go through a buffer (out) of the
 * tile's [O, columns]. The forward shares out the tiles; the backward shares out
 * chunks of samples (their number depends on N only), sums weight gradients per
 * chunk and then over chunks in order, so results are the same on any number of
 * threads. A lone tile gets all threads inside the GEMM instead. */
#define TILE_BYTES ((size_t)1 << 20)
#define MIN_CHUNKS 8

typedef struct {
  int64_t S;         /* samples per tile (then all rows), or 1 */
  int64_t rows, per; /* output rows per tile and tiles per sample (S = 1) */
  size_t colsz, outsz;
} tiling;

static tiling tile_plan(const geom *g, size_t es, int64_t most_samples) {
  tiling t = {.S = 1};
  int64_t R = g->out[0] * g->out[1], P = vol(g->out), K = g->C * vol(g->k);
  int64_t cap = (int64_t)TILE_BYTES / (K * (int64_t)es); /* columns that fit */
  t.rows = cap / g->out[2];
  t.rows = t.rows < 1 ? 1 : (t.rows > R ? R : t.rows);
  if (t.rows == R) {
    t.S = cap / P < 1 ? 1 : cap / P;
    t.S = t.S > most_samples ? most_samples : t.S;
  }
  t.per = (R + t.rows - 1) / t.rows;
  int64_t cols = t.S * t.rows * g->out[2]; /* most columns of a tile */
  t.colsz = (size_t)(K * cols) * es;
  t.outsz = t.S > 1 ? (size_t)(g->O * cols) * es : 0;
  return t;
}

/* The tile: samples [n0, n0 + nb), output rows [r0, r1) of each, T columns. */
typedef struct {
  int64_t n0, nb, r0, r1, T;
} tile;

static tile tile_at(const geom *g, const tiling *tl, int64_t n0, int64_t nb, int64_t r) {
  int64_t R = g->out[0] * g->out[1];
  tile t = {.n0 = n0, .nb = nb, .r0 = r * tl->rows};
  t.r1 = t.r0 + tl->rows < R ? t.r0 + tl->rows : R;
  t.T = nb * (t.r1 - t.r0) * g->out[2];
  return t;
}

/* col[:, b P + ...] = im2col of sample n0 + b over the tile's rows. */
static void tile_im2col(gdl_dtype t, const geom *g, const void *x, const tile *tt, char *col) {
  size_t es = gdl_dtype_size(t);
  int64_t Pin = vol(g->in), Pt = (tt->r1 - tt->r0) * g->out[2];
  for (int64_t b = 0; b < tt->nb; b++)
    im2col(t, g, (const char *)x + (size_t)((tt->n0 + b) * g->C * Pin) * es, col + (size_t)(b * Pt) * es, tt->T,
           tt->r0, tt->r1);
}

/* Whether winograd.c takes the convolution: float32, 2-d, 3x3, stride and dilation
 * 1, no groups, and enough channels for its GEMMs (C = 1 or 3 stays on im2col). */
static bool winograd(gdl_dtype t, const geom *g) {
#ifdef GDL_HAVE_WINOGRAD
  return t == GDL_F32 && g->in[0] == 1 && g->k[0] == 1 && g->k[1] == 3 && g->k[2] == 3 && g->s[1] == 1 &&
         g->s[2] == 1 && g->d[1] == 1 && g->d[2] == 1 && g->G == 1 && g->C >= 16 && g->O >= 16;
#else
  (void)t, (void)g;
  return false;
#endif
}

#ifdef GDL_HAVE_WINOGRAD
static wino_geom wino_of(const geom *g) {
  return (wino_geom){g->N, g->C, g->O, g->in[1], g->in[2], g->p[1], g->p[2], g->out[1], g->out[2]};
}
#endif

/* y = conv(x) (beta 0) or y += conv(x) (beta 1). */
static void fwd_data(gdl_ctx *ctx, gdl_dtype t, const geom *g, const void *x, const void *w, void *y,
                     double beta) {
  if (depthwise(g)) {
    if (t == GDL_F32) dw_fwd_float(g, x, w, y, beta);
    else dw_fwd_double(g, x, w, y, beta);
    return;
  }
#ifdef GDL_HAVE_WINOGRAD
  if (winograd(t, g)) {
    wino_geom wg = wino_of(g);
    gdl__winograd3x3(ctx, &wg, x, w, y, (float)beta);
    return;
  }
#endif
  size_t es = gdl_dtype_size(t);
  int64_t P = vol(g->out), Og = g->O / g->G, K = g->C / g->G * vol(g->k);
  tiling tl = tile_plan(g, es, g->N);
  int64_t items = (g->N + tl.S - 1) / tl.S * tl.per;
  int nb = gdl__thread_buffers(items);
  char *cols = gdl__ctx_alloc_raw(ctx, tl.colsz * (size_t)nb), *outs = gdl__ctx_alloc_raw(ctx, tl.outsz * (size_t)nb);
  GDL_OMP(omp parallel for schedule(static) if (items > 1))
  for (int64_t it = 0; it < items; it++) {
    int64_t n0 = it / tl.per * tl.S;
    tile tt = tile_at(g, &tl, n0, g->N - n0 < tl.S ? g->N - n0 : tl.S, it % tl.per);
    char *col = cols + tl.colsz * (size_t)gdl__thread_index(), *out = outs + tl.outsz * (size_t)gdl__thread_index();
    tile_im2col(t, g, x, &tt, col);
    bool direct = tt.nb == 1; /* a column block of y itself */
    char *dst = direct ? (char *)y + (size_t)(n0 * g->O * P + tt.r0 * g->out[2]) * es : out;
    int64_t ldd = direct ? P : tt.T;
    for (int64_t gi = 0; gi < g->G; gi++)
      gdl__gemm(t, false, false, Og, tt.T, K, 1, (const char *)w + (size_t)(gi * Og * K) * es, K,
                col + (size_t)(gi * K * tt.T) * es, tt.T, direct ? beta : 0, dst + (size_t)(gi * Og * ldd) * es, ldd);
    if (direct) continue;
    GDL_FLOAT_SWITCH(t, T, {
      for (int64_t b = 0; b < tt.nb; b++)
        for (int64_t o = 0; o < g->O; o++) {
          const T *src = (const T *)out + o * tt.T + b * P;
          T *d = (T *)y + ((n0 + b) * g->O + o) * P;
          if (beta == 0) memcpy(d, src, sizeof(T) * (size_t)P);
          else for (int64_t p = 0; p < P; p++) d[p] += src[p];
        }
    });
  }
}

/* At stride 1 the data gradient is itself a convolution: of dy, with each group's
 * weight transposed to [C/G, O/G] and its kernel reversed, and padding d (k - 1) - p.
 * Where that convolution goes to winograd.c, running it forward beats W^T dy and
 * col2im; returns false (nothing done) elsewhere. */
static bool flipped_dx(gdl_ctx *ctx, gdl_dtype t, const geom *g, const void *dy, const void *w, void *dx, double beta) {
  geom f = *g;
  for (int a = 0; a < 3; a++) {
    if (g->s[a] != 1 || g->p[a] > g->d[a] * (g->k[a] - 1)) return false;
    f.p[a] = g->d[a] * (g->k[a] - 1) - g->p[a];
    f.in[a] = g->out[a];
    f.out[a] = g->in[a];
  }
  f.C = g->O;
  f.O = g->C;
  if (!winograd(t, &f)) return false;
  int64_t kv = vol(g->k), Og = g->O / g->G, Cg = g->C / g->G;
  const float *W = w;
  float *F = gdl__ctx_alloc_raw(ctx, sizeof(float) * (size_t)(g->O * Cg * kv));
  for (int64_t gi = 0; gi < g->G; gi++)
    for (int64_t c = 0; c < Cg; c++)
      for (int64_t o = 0; o < Og; o++)
        for (int64_t r = 0; r < kv; r++)
          F[((gi * Cg + c) * Og + o) * kv + r] = W[((gi * Og + o) * Cg + c) * kv + kv - 1 - r];
  fwd_data(ctx, t, &f, dy, F, dx, beta);
  return true;
}

/* dx += conv^T(dy) (dx = when dx_fresh; dx may be NULL) and dw += sum_n dy_n col(x_n)^T
 * (dw may be NULL). */
static void bwd(gdl_ctx *ctx, gdl_dtype t, const geom *g, const void *x, const void *dy, const void *w, void *dx,
                bool dx_fresh, void *dw) {
  size_t dx_bytes = (size_t)(g->N * g->C * vol(g->in)) * gdl_dtype_size(t);
  if (depthwise(g)) {
    if (dx && dx_fresh) memset(dx, 0, dx_bytes);
    if (t == GDL_F32) dw_bwd_float(g, x, dy, w, dx, dw);
    else dw_bwd_double(g, x, dy, w, dx, dw);
    return;
  }
  int64_t size = (g->N + MIN_CHUNKS - 1) / MIN_CHUNKS, count = (g->N + size - 1) / size; /* chunks of samples */
  if (dx && flipped_dx(ctx, t, g, dy, w, dx, dx_fresh ? 0 : 1)) dx = NULL; /* done */
  if (dx && dx_fresh) memset(dx, 0, dx_bytes); /* col2im adds */
#ifdef GDL_HAVE_WINOGRAD
  if (dw && winograd(t, g)) {
    wino_geom wg = wino_of(g);
    gdl__winograd3x3_dw(ctx, &wg, x, dy, size, dw);
    dw = NULL;
  }
#endif
  if (!dx && !dw) return;
  size_t es = gdl_dtype_size(t);
  int64_t P = vol(g->out), Pin = vol(g->in), Og = g->O / g->G, K = g->C / g->G * vol(g->k), wsz = g->O * K;
  tiling tl = tile_plan(g, es, size);
  int nb = gdl__thread_buffers(count);
  char *cols = gdl__ctx_alloc_raw(ctx, tl.colsz * (size_t)nb), *dys = gdl__ctx_alloc_raw(ctx, tl.outsz * (size_t)nb);
  char *part = NULL; /* per-chunk weight gradients */
  if (dw) {
    part = gdl__ctx_alloc_raw(ctx, (size_t)(wsz * count) * es);
    memset(part, 0, (size_t)(wsz * count) * es);
  }
  GDL_OMP(omp parallel for schedule(static) if (count > 1))
  for (int64_t ch = 0; ch < count; ch++) {
    char *col = cols + tl.colsz * (size_t)gdl__thread_index(), *dyb = dys + tl.outsz * (size_t)gdl__thread_index();
    int64_t end = (ch + 1) * size < g->N ? (ch + 1) * size : g->N;
    for (int64_t n0 = ch * size; n0 < end; n0 += tl.S)
      for (int64_t r = 0; r < tl.per; r++) {
        tile tt = tile_at(g, &tl, n0, end - n0 < tl.S ? end - n0 : tl.S, r);
        /* dy's tile: a column block of dy itself, or gathered into [O, T] */
        const char *dyt = (const char *)dy + (size_t)(n0 * g->O * P + tt.r0 * g->out[2]) * es;
        int64_t ldy = P;
        if (tt.nb > 1) {
          for (int64_t o = 0; o < g->O; o++)
            for (int64_t b = 0; b < tt.nb; b++)
              memcpy(dyb + (size_t)(o * tt.T + b * P) * es, (const char *)dy + (size_t)(((n0 + b) * g->O + o) * P) * es,
                     (size_t)P * es);
          dyt = dyb;
          ldy = tt.T;
        }
        if (dw) {
          tile_im2col(t, g, x, &tt, col);
          for (int64_t gi = 0; gi < g->G; gi++)
            gdl__gemm(t, false, true, Og, K, tt.T, 1, dyt + (size_t)(gi * Og * ldy) * es, ldy,
                      col + (size_t)(gi * K * tt.T) * es, tt.T, 1, part + (size_t)(ch * wsz + gi * Og * K) * es, K);
        }
        if (dx) {
          for (int64_t gi = 0; gi < g->G; gi++)
            gdl__gemm(t, true, false, K, tt.T, Og, 1, (const char *)w + (size_t)(gi * Og * K) * es, K,
                      dyt + (size_t)(gi * Og * ldy) * es, ldy, 0, col + (size_t)(gi * K * tt.T) * es, tt.T);
          int64_t Pt = (tt.r1 - tt.r0) * g->out[2];
          for (int64_t b = 0; b < tt.nb; b++)
            col2im(t, g, col + (size_t)(b * Pt) * es, tt.T, (char *)dx + (size_t)((n0 + b) * g->C * Pin) * es, tt.r0,
                   tt.r1);
        }
      }
  }
  if (!dw) return;
  GDL_FLOAT_SWITCH(t, T, {
    T *W = dw;
    const T *PW = (const T *)part;
    GDL_PARALLEL_FOR_IF(wsz * count > GDL_PAR_MIN)
    for (int64_t i = 0; i < wsz; i++) {
      T acc = 0;
      for (int64_t ch = 0; ch < count; ch++) acc += PW[ch * wsz + i];
      W[i] += acc;
    }
  });
}

/* y[n, o, :] += b[o];  db[o] += sum_{n, p} dy[n, o, p]. */
static void bias_fwd(gdl_dtype t, int64_t N, int64_t O, int64_t P, const void *b, void *y) {
  GDL_FLOAT_SWITCH(t, T, {
    const T *B = b;
    T *Y = y;
    GDL_PARALLEL_FOR_IF(N * O * P > GDL_PAR_MIN)
    for (int64_t r = 0; r < N * O; r++)
      for (int64_t p = 0; p < P; p++) Y[r * P + p] += B[r % O];
  });
}

static void bias_bwd(gdl_dtype t, int64_t N, int64_t O, int64_t P, const void *dy, void *db) {
  GDL_FLOAT_SWITCH(t, T, {
    const T *DY = dy;
    T *DB = db;
    GDL_PARALLEL_FOR_IF(N * O * P > GDL_PAR_MIN)
    for (int64_t o = 0; o < O; o++) {
      T acc = 0;
      for (int64_t n = 0; n < N; n++) {
        const T *d = DY + (n * O + o) * P;
        GDL_OMP(omp simd reduction(+ : acc)) /* vector partial sums, not one serial chain */
        for (int64_t p = 0; p < P; p++) acc += d[p];
      }
      DB[o] += acc;
    }
  });
}

/* ---- the ops -------------------------------------------------------------- */

typedef struct {
  geom g;           /* of the underlying forward convolution */
  const void *x;    /* contiguous input (kept for the weight gradient) */
} conv_state;

void gdl__conv_fwd(gdl_node *n) {
  conv_state *st = n->saved;
  gdl_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2], *y = n->out;
  st->x = gdl__contig(n->ctx, x);
  fwd_data(n->ctx, y->dtype, &st->g, st->x, gdl__contig(n->ctx, w), y->data, 0);
  if (b) bias_fwd(y->dtype, st->g.N, st->g.O, vol(st->g.out), gdl__contig(n->ctx, b), y->data);
}

void gdl__conv_bwd(gdl_ctx *ctx, gdl_node *n) {
  conv_state *st = n->saved;
  bool fx;
  gdl_tensor *gx = gdl__grad_fresh(ctx, n->in[0], &fx), *gw = gdl__grad(ctx, n->in[1]), *gb = gdl__grad(ctx, n->in[2]);
  const void *dy = n->out->grad->data;
  gdl_dtype t = n->out->dtype;
  if (gx || gw)
    bwd(ctx, t, &st->g, st->x, dy, gdl__contig(ctx, n->in[1]), gx ? gx->data : NULL, fx, gw ? gw->data : NULL);
  if (gb) bias_bwd(t, st->g.N, st->g.O, vol(st->g.out), dy, gb->data);
}

void gdl__conv_transpose_fwd(gdl_node *n) {
  conv_state *st = n->saved;
  gdl_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2], *y = n->out;
  st->x = gdl__contig(n->ctx, x);
  bwd(n->ctx, y->dtype, &st->g, NULL, st->x, gdl__contig(n->ctx, w), y->data, true, NULL);
  if (b) bias_fwd(y->dtype, st->g.N, st->g.C, vol(st->g.in), gdl__contig(n->ctx, b), y->data);
}

void gdl__conv_transpose_bwd(gdl_ctx *ctx, gdl_node *n) {
  conv_state *st = n->saved;
  bool fx;
  gdl_tensor *gx = gdl__grad_fresh(ctx, n->in[0], &fx), *gw = gdl__grad(ctx, n->in[1]), *gb = gdl__grad(ctx, n->in[2]);
  const void *dy = n->out->grad->data;
  gdl_dtype t = n->out->dtype;
  if (gx) fwd_data(ctx, t, &st->g, dy, gdl__contig(ctx, n->in[1]), gx->data, fx ? 0 : 1);
  if (gw) bwd(ctx, t, &st->g, dy, st->x, NULL, NULL, false, gw->data);
  if (gb) bias_bwd(t, st->g.N, st->g.C, vol(st->g.in), dy, gb->data);
}

static int64_t or1(int v) { return v > 0 ? v : 1; }

/* Fills the geometry's common part from x [N, C, *S], w [A, B, *K] and the options. */
static void geom_common(geom *g, const gdl_tensor *x, const gdl_tensor *w, const gdl_conv_opts *o,
                        const char *op) {
  int nsp = x->ndim - 2;
  GDL_CHECK_FLOAT(x, op);
  GDL_ASSERT(nsp >= 1 && nsp <= 3, "%s: input must be [N, C, ...] with 1 to 3 spatial axes", op);
  GDL_ASSERT(w->ndim == x->ndim && w->dtype == x->dtype, "%s: weight must be [*, *, k...] matching the input", op);
  *g = (geom){.N = x->shape[0], .G = o->groups > 0 ? o->groups : 1};
  for (int a = 0; a < 3; a++) {
    int sa = a - (3 - nsp); /* the tensor's spatial axis for slot a */
    bool has = sa >= 0;
    g->k[a] = has ? w->shape[2 + sa] : 1;
    g->s[a] = has ? or1(o->stride[sa]) : 1;
    g->p[a] = has && o->padding_mode == GDL_PAD_ZEROS ? o->padding[sa] : 0;
    g->d[a] = has ? or1(o->dilation[sa]) : 1;
    GDL_ASSERT(g->p[a] >= 0, "%s: negative padding", op);
  }
}

static gdl_tensor *conv_node(gdl_ctx *ctx, int op, gdl_tensor *x, gdl_tensor *w, gdl_tensor *b,
                             const geom *g, gdl_shape out) {
  gdl_tensor *y = gdl__tensor_empty(ctx, x->dtype, out);
  gdl_node *n = gdl__node(ctx, op, y, 3, (gdl_tensor *[]){x, w, b});
  conv_state *st = gdl_ctx_alloc(ctx, sizeof *st);
  st->g = *g;
  n->saved = st;
  return gdl__run(n);
}

/* Non-zero padding modes pad explicitly first; the convolution then pads nothing. */
static gdl_tensor *prepad(gdl_ctx *ctx, gdl_tensor *x, const gdl_conv_opts *o) {
  if (o->padding_mode == GDL_PAD_ZEROS) return x;
  int nsp = x->ndim - 2, pads[6];
  for (int a = 0; a < nsp; a++) pads[2 * a] = pads[2 * a + 1] = o->padding[a];
  return gdl_pad(ctx, x, pads, 2 * nsp, o->padding_mode, 0);
}

gdl_tensor *gdl_conv(gdl_ctx *ctx, gdl_tensor *x, gdl_tensor *w, gdl_tensor *b, const gdl_conv_opts *o) {
  x = prepad(ctx, x, o);
  geom g;
  geom_common(&g, x, w, o, "conv");
  int nsp = x->ndim - 2;
  g.C = x->shape[1];
  g.O = w->shape[0];
  GDL_ASSERT(g.C % g.G == 0 && g.O % g.G == 0 && w->shape[1] == g.C / g.G,
             "conv: %lld input and %lld output channels, %lld groups: weight must be [%lld, %lld, ...], got [%lld, %lld, ...]",
             (long long)g.C, (long long)g.O, (long long)g.G, (long long)g.O, (long long)(g.C / g.G),
             (long long)w->shape[0], (long long)w->shape[1]);
  GDL_ASSERT(!b || (b->ndim == 1 && b->shape[0] == g.O && b->dtype == x->dtype), "conv: bias must be [%lld]", (long long)g.O);
  gdl_shape out = {.ndim = x->ndim, .d = {g.N, g.O}};
  for (int a = 0; a < 3; a++) {
    int sa = a - (3 - nsp);
    g.in[a] = sa >= 0 ? x->shape[2 + sa] : 1;
    g.out[a] = (g.in[a] + 2 * g.p[a] - g.d[a] * (g.k[a] - 1) - 1) / g.s[a] + 1;
    GDL_ASSERT(g.in[a] + 2 * g.p[a] >= g.d[a] * (g.k[a] - 1) + 1, "conv: kernel larger than the padded input");
    if (sa >= 0) out.d[2 + sa] = g.out[a];
  }
  return conv_node(ctx, GDL_OP_CONV, x, w, b, &g, out);
}

gdl_tensor *gdl_conv_transpose(gdl_ctx *ctx, gdl_tensor *x, gdl_tensor *w, gdl_tensor *b,
                               const gdl_conv_opts *o) {
  GDL_ASSERT(o->padding_mode == GDL_PAD_ZEROS, "conv_transpose: only zero padding");
  geom g;
  geom_common(&g, x, w, o, "conv_transpose");
  int nsp = x->ndim - 2;
  /* The underlying convolution maps the output space back to the input space. */
  g.O = x->shape[1];
  g.C = w->shape[1] * g.G;
  GDL_ASSERT(w->shape[0] == g.O && g.O % g.G == 0,
             "conv_transpose: weight must be [%lld, out/groups, ...]", (long long)g.O);
  GDL_ASSERT(!b || (b->ndim == 1 && b->shape[0] == g.C && b->dtype == x->dtype), "conv_transpose: bias must be [%lld]", (long long)g.C);
  gdl_shape out = {.ndim = x->ndim, .d = {g.N, g.C}};
  for (int a = 0; a < 3; a++) {
    int sa = a - (3 - nsp);
    int64_t op = sa >= 0 ? o->output_padding[sa] : 0;
    g.out[a] = sa >= 0 ? x->shape[2 + sa] : 1;
    g.in[a] = (g.out[a] - 1) * g.s[a] - 2 * g.p[a] + g.d[a] * (g.k[a] - 1) + op + 1;
    GDL_ASSERT(g.in[a] >= 1 && op >= 0 && (op < g.s[a] || op < g.d[a]), "conv_transpose: bad output size");
    if (sa >= 0) out.d[2 + sa] = g.in[a];
  }
  return conv_node(ctx, GDL_OP_CONV_TRANSPOSE, x, w, b, &g, out);
}

gdl_tensor *gdl_conv2d(gdl_ctx *ctx, gdl_tensor *x, gdl_tensor *w, gdl_tensor *b, int stride, int padding) {
  gdl_conv_opts o = {.stride = {stride, stride}, .padding = {padding, padding}};
  return gdl_conv(ctx, x, w, b, &o);
}

/* Samples: 2-d with stride, padding, dilation and groups; 1-d; 3-d; 1x1; circular; depthwise. */
gdl_tensor *gdl__conv_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  gdl_conv_opts o = {0};
  gdl_tensor *x, *w, *b = NULL;
  switch (v) {
    case 0:
      x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(2, 4, 6, 5), -1, 1);
      w = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(6, 2, 3, 2), -1, 1);
      b = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(6), -1, 1);
      o = (gdl_conv_opts){.stride = {2, 1}, .padding = {1, 1}, .dilation = {1, 2}, .groups = 2};
      break;
    case 1:
      x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3, 2, 7), -1, 1);
      w = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3, 2, 3), -1, 1);
      o.padding[0] = 2;
      break;
    case 2:
      x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(2, 2, 3, 4, 3), -1, 1);
      w = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(2, 2, 2, 3, 2), -1, 1);
      b = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(2), -1, 1);
      o = (gdl_conv_opts){.stride = {1, 2, 1}, .padding = {1, 0, 1}};
      break;
    case 3:
      x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(2, 3, 4, 4), -1, 1);
      w = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(5, 3, 1, 1), -1, 1);
      break;
    case 4:
      x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(2, 2, 5, 5), -1, 1);
      w = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3, 2, 3, 3), -1, 1);
      o = (gdl_conv_opts){.padding = {1, 1}, .padding_mode = GDL_PAD_CIRCULAR};
      break;
    case 5: /* depthwise (the direct kernel), channel multiplier 2 */
      x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(2, 3, 6, 5), -1, 1);
      w = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(6, 1, 3, 3), -1, 1);
      b = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(6), -1, 1);
      o = (gdl_conv_opts){.stride = {1, 2}, .padding = {2, 1}, .dilation = {2, 1}, .groups = 3};
      break;
    default: return NULL;
  }
  return gdl_conv(ctx, x, w, b, &o);
}

gdl_tensor *gdl__conv_transpose_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 1) return NULL;
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, v ? GDL_SHAPE(2, 4, 5) : GDL_SHAPE(2, 4, 3, 3), -1, 1);
  gdl_tensor *w = gdl__sample_leaf(ctx, rng, t, v ? GDL_SHAPE(4, 3, 3) : GDL_SHAPE(4, 1, 3, 2), -1, 1);
  gdl_tensor *b = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(v ? 3 : 2), -1, 1);
  gdl_conv_opts o = v ? (gdl_conv_opts){.stride = {2}, .padding = {1}, .output_padding = {1}}
                      : (gdl_conv_opts){.stride = {2, 1}, .padding = {1, 0}, .groups = 2, .dilation = {1, 2}};
  return gdl_conv_transpose(ctx, x, w, b, &o);
}
