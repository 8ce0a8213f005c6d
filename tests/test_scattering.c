/* The 2-D scattering transform: Kymatio's outputs and filters on committed
 * fixtures (tests/ref/scattering_kymatio.npz, made by tests/ref/gen_scattering.py),
 * the channel count and order, the Littlewood-Paley sum, non-expansiveness,
 * stability to small deformations, translation behaviour and bad arguments.
 * Gradients are checked by test_gradcheck (op scattering2d). */
#include <string.h>

#include "gdl/config.h"
#include "gdl/io.h"
#include "gdl/nn.h"
#include "gdl/wavelets.h"
#include "test.h"

#define FIXTURE "tests/ref/scattering_kymatio.npz"

static double norm2(const gdl_tensor *a) {
  double s = 0;
  for (int64_t i = 0; i < gdl_tensor_numel(a); i++) s += pow(gdl_tensor_get(a, i), 2);
  return sqrt(s);
}

static double dist2(const gdl_tensor *a, const gdl_tensor *b) {
  double s = 0;
  for (int64_t i = 0; i < gdl_tensor_numel(a); i++) s += pow(gdl_tensor_get(a, i) - gdl_tensor_get(b, i), 2);
  return sqrt(s);
}

static double max_abs(const gdl_tensor *a) {
  double m = 0;
  for (int64_t i = 0; i < gdl_tensor_numel(a); i++) m = fmax(m, fabs(gdl_tensor_get(a, i)));
  return m;
}

/* max |a - b| / max |b| */
static double rel_max_diff(const gdl_tensor *a, const gdl_tensor *b) {
  if (!gdl_shape_eq(gdl_tensor_shape(a), gdl_tensor_shape(b))) return INFINITY;
  double m = 0;
  for (int64_t i = 0; i < gdl_tensor_numel(a); i++)
    m = fmax(m, fabs(gdl_tensor_get(a, i) - gdl_tensor_get(b, i)));
  return m / max_abs(b);
}

/* S of x [B, M, N] through the op, in x's dtype. */
static gdl_tensor *S_of(gdl_ctx *ctx, const gdl_scattering2d_plan *p, gdl_tensor *x) {
  return gdl_scattering2d(ctx, p, x);
}

/* ---- Kymatio fixtures ------------------------------------------------------------------ */

static void fixtures(void) {
  static const int cases[][5] = {{16, 12, 2, 4, 2}, {28, 28, 2, 8, 2}, {32, 24, 3, 4, 2},
                                 {17, 20, 2, 6, 1}, {16, 16, 2, 5, 2}};
  gdl_arrays *z = gdl_npz_load(FIXTURE);
  CHECK(z, "cannot load %s: %s", FIXTURE, gdl_last_error());
  if (!z) return;
  gdl_ctx *ctx = gdl_ctx_new();
  double worst64 = 0, worst32 = 0, worstf = 0;
  char key[64];
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    const int *c = cases[k];
    snprintf(key, sizeof key, "%d.%d.%d.%d.%d.x", c[0], c[1], c[2], c[3], c[4]);
    gdl_tensor *x = gdl_arrays_get(z, key);
    key[strlen(key) - 1] = 'S';
    gdl_tensor *ref = gdl_arrays_get(z, key);
    CHECK(x && ref, "fixture lacks case %s", key);
    if (!x || !ref) continue;
    gdl_scattering2d_plan *p = gdl_scattering2d_plan_create(c[0], c[1], c[2], c[3], c[4], 0);
    CHECK(p, "plan: %s", gdl_last_error());
    if (!p) continue;
    CHECK(gdl_scattering2d_channels(p) == ref->shape[1], "%s: %lld channels, Kymatio has %lld", key,
          (long long)gdl_scattering2d_channels(p), (long long)ref->shape[1]);
    double e = rel_max_diff(S_of(ctx, p, x), ref);
    worst64 = fmax(worst64, e);
    CHECK(e <= 2e-5, "%s: float64 differs from Kymatio by %.3g (relative to max |S|)", key, e);
    e = rel_max_diff(S_of(ctx, p, gdl_tensor_cast(ctx, x, GDL_F32)), ref);
    worst32 = fmax(worst32, e);
    CHECK(e <= 2e-5, "%s: float32 differs from Kymatio by %.3g (relative to max |S|)", key, e);
    if (k == 0) { /* the filters themselves (Kymatio keeps them in float32) */
      key[strlen(key) - 1] = 0;
      char kk[80];
      snprintf(kk, sizeof kk, "%sphi", key);
      gdl_tensor *phi = gdl_arrays_get(z, kk);
      snprintf(kk, sizeof kk, "%spsi", key);
      gdl_tensor *psi = gdl_arrays_get(z, kk);
      CHECK(phi && psi, "fixture lacks the filters");
      int64_t Mp, Np;
      const double *f = gdl_scattering2d_filter(p, -1, &Mp, &Np);
      CHECK(phi && Mp == phi->shape[0] && Np == phi->shape[1], "padded size differs from Kymatio's");
      for (int n = -1; phi && psi && n < c[2] * c[3]; n++) {
        f = gdl_scattering2d_filter(p, n, NULL, NULL);
        double m = 0, fm = 0;
        for (int64_t i = 0; i < Mp * Np; i++) {
          double r = n < 0 ? gdl_tensor_get(phi, i) : gdl_tensor_get(psi, n * Mp * Np + i);
          m = fmax(m, fabs(f[i] - r));
          fm = fmax(fm, fabs(r));
        }
        worstf = fmax(worstf, m / fm);
      }
      CHECK(worstf <= 1e-6, "filters differ from Kymatio's by %.3g (relative)", worstf);
    }
    gdl_scattering2d_plan_destroy(p);
    gdl_ctx_reset(ctx);
  }
  printf("Kymatio fixtures (max |gdl - kymatio| / max |kymatio|): float64 %.2e, float32 %.2e, "
         "filters %.2e\n", worst64, worst32, worstf);
  gdl_ctx_free(ctx);
  gdl_arrays_free(z);
}

/* ---- channel count, order and shapes --------------------------------------------------- */

static void layout(void) {
  for (int J = 1; J <= 4; J++)
    for (int L = 1; L <= 8; L += 3) {
      gdl_scattering2d_plan *p = gdl_scattering2d_plan_create(32, 40, J, L, 2, 0);
      CHECK(p && gdl_scattering2d_channels(p) == 1 + L * J + L * L * J * (J - 1) / 2,
            "J %d L %d: 1 + LJ + L^2 J (J-1) / 2 channels", J, L);
      int64_t h, w;
      gdl_scattering2d_out_size(p, &h, &w);
      CHECK(h == 32 >> J && w == 40 >> J, "output size M / 2^J");
      /* Kymatio's order: j2 > j1; order-2 paths grouped by (j1, t1) */
      int prev = -1, order, j[2], t[2], ok = 1;
      for (int64_t k = 0; k < gdl_scattering2d_channels(p); k++) {
        gdl_scattering2d_path(p, k, &order, j, t);
        int key = order == 2 ? 1000000 + (j[0] * L + t[0]) * 1000 + j[1] * L + t[1]
                             : order == 1 ? 1000 + j[0] * L + t[0] : 0;
        ok &= key > prev && (order < 2 || j[1] > j[0]);
        prev = key;
      }
      CHECK(ok, "J %d L %d: paths in Kymatio's order", J, L);
      gdl_scattering2d_plan_destroy(p);
    }
  gdl_scattering2d_plan *p = gdl_scattering2d_plan_create(32, 32, 3, 8, 1, 0);
  CHECK(p && gdl_scattering2d_channels(p) == 25, "max_order 1: 1 + LJ channels");
  gdl_scattering2d_plan_destroy(p);
  CHECK(!gdl_scattering2d_plan_create(7, 32, 3, 8, 2, 0) && strstr(gdl_last_error(), "2^J"),
        "2^J > M refused with a message");
  CHECK(!gdl_scattering2d_plan_create(32, 32, 2, 8, 3, 0), "max_order 3 refused");
  CHECK(!gdl_scattering2d_plan_create(32, 32, 0, 8, 2, 0), "J = 0 refused");
}

/* ---- Littlewood-Paley: phi^2 + (|psi(w)|^2 + |psi(-w)|^2) / 2 summed over n ------------- */

static void littlewood_paley(void) {
  gdl_scattering2d_plan *p = gdl_scattering2d_plan_create(64, 64, 3, 8, 2, 0);
  int64_t M, N;
  const double *phi = gdl_scattering2d_filter(p, -1, &M, &N);
  double lo = INFINITY, hi = 0;
  for (int64_t a = 0; a < M; a++)
    for (int64_t b = 0; b < N; b++) {
      int64_t i = a * N + b, ineg = ((M - a) % M) * N + (N - b) % N;
      double s = phi[i] * phi[i];
      for (int n = 0; n < 3 * 8; n++) {
        const double *psi = gdl_scattering2d_filter(p, n, NULL, NULL);
        s += 0.5 * (psi[i] * psi[i] + psi[ineg] * psi[ineg]);
      }
      hi = fmax(hi, s);
      /* in band: frequencies between the low-pass and the finest wavelet */
      double fa = (double)(a <= M / 2 ? a : M - a) / M, fb = (double)(b <= N / 2 ? b : N - b) / N;
      double r = sqrt(fa * fa + fb * fb);
      if (r < 0.25) lo = fmin(lo, s);
    }
  printf("Littlewood-Paley sum (J 3, L 8, 64 x 64): max %.4f, min %.4f for |w| < pi/2\n", hi, lo);
  /* Kymatio's Morlet bank is close to, not exactly, a tight frame: 1.019 here */
  CHECK(hi <= 1.05, "Littlewood-Paley sum is at most about 1 (max %.4f)", hi);
  CHECK(lo >= 0.3, "Littlewood-Paley sum covers the band (min %.4f)", lo);
  gdl_scattering2d_plan_destroy(p);
}

/* ---- non-expansive: ||Sx - Sy|| <= ||x - y|| ------------------------------------------- */

static void non_expansive(void) {
  gdl_scattering2d_plan *p = gdl_scattering2d_plan_create(32, 32, 2, 8, 2, 0);
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_rng rng = gdl_rng_make(11);
  double worst = 0;
  for (int t = 0; t < 20; t++) { /* random pairs, far apart and close together */
    gdl_tensor *x = gdl_tensor_new(ctx, GDL_F64, GDL_SHAPE(1, 32, 32));
    gdl_tensor *y = gdl_tensor_new(ctx, GDL_F64, GDL_SHAPE(1, 32, 32));
    gdl_rng_fill_uniform(&rng, x, 0, 1);
    gdl_rng_fill_normal(&rng, y, 0, t < 10 ? 1.0 : 1e-3);
    for (int64_t i = 0; i < 32 * 32; i++) gdl_tensor_set(y, i, gdl_tensor_get(y, i) + gdl_tensor_get(x, i));
    double r = dist2(S_of(ctx, p, x), S_of(ctx, p, y)) / dist2(x, y);
    worst = fmax(worst, r);
    gdl_ctx_reset(ctx);
  }
  CHECK(worst <= 1, "random pairs: ||Sx - Sy|| / ||x - y|| up to %.4f", worst);
  /* the worst direction at x: power iteration on J^T J with the op's backward
   * (J^T) and central differences (J v); its square root is the local Lipschitz
   * constant, which must not exceed 1 either */
  gdl_tensor *x = gdl_tensor_alloc(GDL_F64, GDL_SHAPE(1, 32, 32));
  gdl_tensor *v = gdl_tensor_alloc(GDL_F64, GDL_SHAPE(1, 32, 32));
  gdl_rng_fill_uniform(&rng, x, 0, 1);
  gdl_rng_fill_normal(&rng, v, 0, 1);
  double lip = 0, h = 1e-5;
  for (int it = 0; it < 25; it++) {
    double nv = norm2(v);
    for (int64_t i = 0; i < 1024; i++) gdl_tensor_set(v, i, gdl_tensor_get(v, i) / nv);
    gdl_tensor *xp = gdl_tensor_new(ctx, GDL_F64, GDL_SHAPE(1, 32, 32));
    gdl_tensor *xm = gdl_tensor_new(ctx, GDL_F64, GDL_SHAPE(1, 32, 32));
    for (int64_t i = 0; i < 1024; i++) {
      gdl_tensor_set(xp, i, gdl_tensor_get(x, i) + h * gdl_tensor_get(v, i));
      gdl_tensor_set(xm, i, gdl_tensor_get(x, i) - h * gdl_tensor_get(v, i));
    }
    gdl_tensor *Sp = S_of(ctx, p, xp), *Sm = S_of(ctx, p, xm);
    gdl_tensor *Jv = gdl_tensor_new(ctx, GDL_F64, gdl_tensor_shape(Sp));
    for (int64_t i = 0; i < gdl_tensor_numel(Jv); i++)
      gdl_tensor_set(Jv, i, (gdl_tensor_get(Sp, i) - gdl_tensor_get(Sm, i)) / (2 * h));
    lip = norm2(Jv);
    /* v = J^T (J v): backward of L = <S(x), Jv> */
    gdl_tensor *xl = gdl_tensor_new(ctx, GDL_F64, GDL_SHAPE(1, 32, 32));
    gdl_tensor_copy(xl, x);
    xl->requires_grad = true;
    gdl_tensor *L = gdl_sum(ctx, gdl_mul(ctx, S_of(ctx, p, xl), Jv), GDL_AXIS_ALL, false);
    gdl_backward(ctx, L);
    gdl_tensor_copy(v, xl->grad);
    gdl_ctx_reset(ctx);
  }
  printf("non-expansive (J 2, L 8, 32 x 32): random pairs max ratio %.4f; local Lipschitz constant "
         "(power iteration) %.4f\n", worst, lip);
  CHECK(lip <= 1, "local Lipschitz constant %.4f <= 1", lip);
  gdl_tensor_free(x);
  gdl_tensor_free(v);
  gdl_ctx_free(ctx);
  gdl_scattering2d_plan_destroy(p);
}

/* ---- deformations ------------------------------------------------------------------------ */

/* A 64 x 64 image of 40 small sharp blobs of either sign, evaluated exactly at
 * u - tau(u) with tau(u) = amp (sin(2 pi u_y / 64 + 0.3), cos(2 pi u_x / 64 + 1.1))
 * (amp = 0: the image itself). Evaluating the blobs at the warped points, rather
 * than interpolating pixels, keeps interpolation blur out of the measurement. */
static void blobs(gdl_tensor *x, uint64_t seed, double amp) {
  gdl_rng rng = gdl_rng_make(seed);
  double b[40][4];
  for (int k = 0; k < 40; k++) {
    b[k][0] = 8 + 48 * gdl_rng_uniform(&rng);
    b[k][1] = 8 + 48 * gdl_rng_uniform(&rng);
    b[k][2] = gdl_rng_uniform(&rng) < 0.5 ? -1 : 1;
    b[k][3] = 0.8 + 0.4 * gdl_rng_uniform(&rng);
  }
  for (int i = 0; i < 64; i++)
    for (int j = 0; j < 64; j++) {
      double si = i - amp * sin(2 * M_PI * j / 64.0 + 0.3), sj = j - amp * cos(2 * M_PI * i / 64.0 + 1.1);
      double v = 0;
      for (int k = 0; k < 40; k++) {
        double d2 = (si - b[k][0]) * (si - b[k][0]) + (sj - b[k][1]) * (sj - b[k][1]);
        v += b[k][2] * exp(-d2 / (2 * b[k][3] * b[k][3]));
      }
      gdl_tensor_set(x, i * 64 + j, v);
    }
}

static void deformation(void) {
  gdl_scattering2d_plan *p = gdl_scattering2d_plan_create(64, 64, 4, 8, 2, 0);
  gdl_ctx *ctx = gdl_ctx_new();
  for (int t = 0; t < 3; t++) {
    gdl_tensor *x = gdl_tensor_new(ctx, GDL_F64, GDL_SHAPE(1, 64, 64));
    gdl_tensor *y = gdl_tensor_new(ctx, GDL_F64, GDL_SHAPE(1, 64, 64));
    double amp = 0.5 + 0.5 * t;
    blobs(x, 12, 0);
    blobs(y, 12, amp);
    double rx = dist2(x, y) / norm2(x);
    gdl_tensor *Sx = S_of(ctx, p, x), *Sy = S_of(ctx, p, y);
    double rs = dist2(Sx, Sy) / norm2(Sx);
    printf("deformation of %.1f px: relative change of the image %.3f, of S %.4f (ratio %.3f)\n", amp, rx,
           rs, rs / rx);
    CHECK(rs < rx / 5, "warp %.1f px: S changes by %.4f, the image by %.3f: not << ", amp, rs, rx);
    gdl_ctx_reset(ctx);
  }
  gdl_ctx_free(ctx);
  gdl_scattering2d_plan_destroy(p);
}

/* ---- translations ---------------------------------------------------------------------------- */

static void translation(void) {
  /* An object on a zero background, shifted by k 2^J pixels while staying clear of
   * the border: S shifts by exactly k samples (the reflect padding sees only zeros,
   * so the transform is the periodic one). */
  const int M = 32, J = 2;
  gdl_scattering2d_plan *p = gdl_scattering2d_plan_create(M, M, J, 8, 2, 0);
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_rng rng = gdl_rng_make(13);
  gdl_tensor *x = gdl_tensor_new(ctx, GDL_F64, GDL_SHAPE(1, M, M));
  gdl_tensor *y = gdl_tensor_new(ctx, GDL_F64, GDL_SHAPE(1, M, M));
  for (int i = 10; i < 22; i++)
    for (int j = 10; j < 22; j++) {
      double v = gdl_rng_uniform(&rng);
      gdl_tensor_set(x, i * M + j, v);
      gdl_tensor_set(y, i * M + j + 4, v); /* 4 = 2^J columns to the right */
    }
  gdl_tensor *Sx = S_of(ctx, p, x), *Sy = S_of(ctx, p, y);
  int64_t C = Sx->shape[1], oh = Sx->shape[2], ow = Sx->shape[3];
  double e = 0;
  for (int64_t c = 0; c < C; c++)
    for (int64_t a = 0; a < oh; a++)
      for (int64_t b = 1; b < ow; b++)
        e = fmax(e, fabs(gdl_tensor_get(Sy, (c * oh + a) * ow + b) - gdl_tensor_get(Sx, (c * oh + a) * ow + b - 1)));
  e /= max_abs(Sx);
  CHECK(e <= 1e-12, "shift by 2^J: S shifts by one sample (relative error %.3g)", e);
  /* Small shifts of a whole image: S (here J = 3) changes far less than the image. */
  gdl_scattering2d_plan *p3 = gdl_scattering2d_plan_create(M, M, 3, 8, 2, 0);
  gdl_tensor *z = gdl_tensor_new(ctx, GDL_F64, GDL_SHAPE(1, M, M));
  gdl_tensor *zs = gdl_tensor_new(ctx, GDL_F64, GDL_SHAPE(1, M, M));
  for (int i = 0; i < M; i++)
    for (int j = 0; j < M; j++) {
      gdl_tensor_set(z, i * M + j, sin(0.9 * i) * cos(0.7 * j) + 0.5 * sin(0.3 * (i + j)));
      gdl_tensor_set(zs, i * M + j, sin(0.9 * i) * cos(0.7 * (j - 1)) + 0.5 * sin(0.3 * (i + j - 1)));
    }
  double rx = dist2(z, zs) / norm2(z);
  gdl_tensor *Sz = S_of(ctx, p3, z);
  double rs = dist2(Sz, S_of(ctx, p3, zs)) / norm2(Sz);
  printf("translations: by 2^J = 4 px, S (J 2) shifts by one sample (error %.1e); by 1 px, relative "
         "change of the image %.3f, of S (J 3) %.4f\n", e, rx, rs);
  CHECK(rs < rx / 3, "a 1-pixel shift changes S by %.4f, the image by %.3f", rs, rx);
  gdl_scattering2d_plan_destroy(p3);
  gdl_ctx_free(ctx);
  gdl_scattering2d_plan_destroy(p);
}

/* ---- batches, precisions, raw arrays ------------------------------------------------------ */

static void batches(void) {
  gdl_scattering2d_plan *p = gdl_scattering2d_plan_create(20, 24, 2, 4, 2, 0);
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_rng rng = gdl_rng_make(14);
  gdl_tensor *x = gdl_tensor_new(ctx, GDL_F64, GDL_SHAPE(3, 2, 20, 24));
  gdl_rng_fill_uniform(&rng, x, 0, 1);
  gdl_tensor *S = S_of(ctx, p, x);
  CHECK(S->ndim == 5 && S->shape[0] == 3 && S->shape[1] == 2 && S->shape[2] == gdl_scattering2d_channels(p) &&
            S->shape[3] == 5 && S->shape[4] == 6,
        "[3, 2, 20, 24] -> [3, 2, C, 5, 6]");
  int64_t os = gdl_scattering2d_channels(p) * 30;
  double *one = malloc(sizeof(double) * (size_t)os), e = 0;
  for (int b = 0; b < 6; b++) {
    gdl_scattering2d_execute(p, GDL_F64, (double *)x->data + b * 480, 1, one);
    for (int64_t i = 0; i < os; i++) e = fmax(e, fabs(one[i] - ((double *)S->data)[b * os + i]));
  }
  CHECK(e == 0, "batched = one by one (diff %.3g)", e);
  gdl_tensor *S32 = S_of(ctx, p, gdl_tensor_cast(ctx, x, GDL_F32));
  CHECK(S32->dtype == GDL_F32 && rel_max_diff(S32, S) < 1e-5, "float32 agrees with float64 (%.3g)",
        rel_max_diff(S32, S));
  free(one);
  gdl_ctx_free(ctx);
  gdl_scattering2d_plan_destroy(p);
}

/* ---- the layers and their config sections ------------------------------------------------ */

static void layers(void) {
  const char *ini = "[data]\ndataset = none\nshape = 2, 16, 20\nclasses = 3\n"
                    "[scattering2d]\nJ = 2\nL = 4\n[dwt2]\nwavelet = db2\nlevels = 1\n";
  gdl_config *cfg = gdl_config_parse(ini, "layers.ini");
  gdl_model *m = gdl_model_new(GDL_F64, GDL_SHAPE(2, 16, 20), 1);
  CHECK(cfg && m && gdl_model_add_config(m, cfg) == GDL_OK, "config: %s", gdl_last_error());
  gdl_scattering2d_plan *p = gdl_scattering2d_plan_create(16, 20, 2, 4, 2, 0);
  int64_t K = gdl_scattering2d_channels(p);
  gdl_shape o = gdl_layer_out_shape(gdl_model_layer(m, 0));
  CHECK(o.ndim == 3 && o.d[0] == 2 * K && o.d[1] == 4 && o.d[2] == 5, "[2, 16, 20] -> [2 K, 4, 5]");
  o = gdl_model_out_shape(m);
  CHECK(o.ndim == 3 && o.d[0] == 8 * K && o.d[1] == 2 && o.d[2] == 3, "then dwt2 db2 periodization: [8 K, 2, 3]");
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_rng rng = gdl_rng_make(15);
  gdl_tensor *x = gdl_tensor_new(ctx, GDL_F64, GDL_SHAPE(3, 2, 16, 20));
  gdl_rng_fill_uniform(&rng, x, 0, 1);
  gdl_tensor *y = gdl_model_forward(m, ctx, x, false);
  gdl_tensor *S = gdl_scattering2d(ctx, p, x); /* [3, 2, K, 4, 5] */
  gdl_tensor *c = gdl_dwt2(ctx, gdl_reshape(ctx, S, GDL_SHAPE(3, 2 * K, 4, 5)), gdl_wavelet_get("db2"),
                           GDL_DWT_PERIODIZATION);
  /* (the layer's plan uses FFTW_MEASURE, which may pick other FFT algorithms) */
  double e = gdl_tensor_numel(y) == gdl_tensor_numel(c) ? rel_max_diff(gdl_reshape(ctx, y, gdl_tensor_shape(c)), c)
                                                        : INFINITY;
  CHECK(e < 1e-13, "the layers compute the ops (%.3g)", e);
  gdl_config *bad = gdl_config_parse("[scattering2d]\nJ = 0\n", "bad.ini");
  gdl_model *m2 = gdl_model_new(GDL_F32, GDL_SHAPE(1, 28, 28), 1);
  CHECK(bad && gdl_model_add_config(m2, bad) != GDL_OK && strstr(gdl_last_error(), "bad.ini:2"),
        "J = 0 refused with file:line (%s)", gdl_last_error());
  gdl_config *big = gdl_config_parse("[scattering2d]\nJ = 5\n", "big.ini");
  CHECK(big && gdl_model_add_config(m2, big) != GDL_OK && strstr(gdl_last_error(), "2^J"),
        "J too large for 28 x 28 refused (%s)", gdl_last_error());
  gdl_config_free(big);
  gdl_config_free(bad);
  gdl_model_free(m2);
  gdl_ctx_free(ctx);
  gdl_scattering2d_plan_destroy(p);
  gdl_model_free(m);
  gdl_config_free(cfg);
}

int main(void) {
  fixtures();
  layers();
  layout();
  littlewood_paley();
  non_expansive();
  deformation();
  translation();
  batches();
  return test_report();
}
