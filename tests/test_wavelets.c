/* 2-D discrete wavelet transforms: PyWavelets' coefficients on committed fixtures
 * (tests/ref/wavelets_pywt.npz, made by tests/ref/gen_wavelets.py), perfect
 * reconstruction, Parseval, Haar by hand, layouts and bad arguments.
 * Gradients are checked by test_gradcheck (ops dwt2, idwt2). */
#include <string.h>

#include "gdl/io.h"
#include "gdl/wavelets.h"
#include "test.h"

#define FIXTURE "tests/ref/wavelets_pywt.npz"

static const char *const wavelets[] = {"haar", "db2", "db3", "db4", "db5", "db6",
                                       "db7",  "db8", "bior2.2", "bior4.4"};
#define NW ((int)(sizeof wavelets / sizeof *wavelets))
static const gdl_dwt_mode modes[] = {GDL_DWT_PERIODIZATION, GDL_DWT_SYMMETRIC};

static double max_abs_diff(const gdl_tensor *a, const gdl_tensor *b) {
  if (!gdl_shape_eq(gdl_tensor_shape(a), gdl_tensor_shape(b))) return INFINITY;
  double m = 0;
  for (int64_t i = 0; i < gdl_tensor_numel(a); i++)
    m = fmax(m, fabs(gdl_tensor_get(a, i) - gdl_tensor_get(b, i)));
  return m;
}

/* ---- PyWavelets fixtures ---------------------------------------------------------- */

/* float64 agreement: rounding, except CDF 9/7, whose filters PyWavelets tabulates
 * to about 1e-12 only (gdl computes them exactly; see wavelet_filters.c). */
static double tol64(const gdl_wavelet *w) { return strcmp(w->name, "bior4.4") ? 1e-13 : 1e-11; }

static double worst_dwt64, worst_dwt32, worst_dec, worst_rec, worst_cdf97;

static void fixtures(void) {
  gdl_arrays *z = gdl_npz_load(FIXTURE);
  CHECK(z, "cannot load %s: %s", FIXTURE, gdl_last_error());
  if (!z) return;
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_tensor *x = gdl_arrays_get(z, "x"), *x32 = gdl_arrays_get(z, "x32");
  char key[96];
  for (int i = 0; i < NW; i++)
    for (int m = 0; m < 2; m++) {
      const gdl_wavelet *w = gdl_wavelet_get(wavelets[i]);
      snprintf(key, sizeof key, "dwt2.%s.%s", wavelets[i], gdl_dwt_mode_name(modes[m]));
      gdl_tensor *ref = gdl_arrays_get(z, key);
      CHECK(ref, "fixture has no %s", key);
      if (!ref) continue;
      double e = max_abs_diff(gdl_dwt2(ctx, x, w, modes[m]), ref);
      if (strcmp(w->name, "bior4.4")) worst_dwt64 = fmax(worst_dwt64, e);
      else worst_cdf97 = fmax(worst_cdf97, e);
      CHECK(e <= tol64(w), "%s: differs from PyWavelets by %.3g", key, e);
      /* and back: idwt2 of PyWavelets' coefficients gives x (cropped) */
      gdl_tensor *y = gdl_idwt2(ctx, ref, w, modes[m]);
      y = gdl_slice(ctx, gdl_slice(ctx, y, 0, 0, x->shape[0], 1), 1, 0, x->shape[1], 1);
      e = max_abs_diff(y, x);
      CHECK(e <= tol64(w), "%s: idwt2 of PyWavelets' coefficients misses x by %.3g", key, e);
      snprintf(key, sizeof key, "dwt2f.%s.%s", wavelets[i], gdl_dwt_mode_name(modes[m]));
      if ((ref = gdl_arrays_get(z, key))) {
        gdl_tensor *c = gdl_dwt2(ctx, x32, w, modes[m]);
        CHECK(c->dtype == GDL_F32, "float32 in, float32 out");
        e = max_abs_diff(c, ref);
        worst_dwt32 = fmax(worst_dwt32, e);
        CHECK(e <= 2e-6, "%s: float32 differs from PyWavelets by %.3g", key, e);
      }
    }
  static const struct { const char *w; gdl_dwt_mode m; int n; } multi[] = {
      {"haar", GDL_DWT_PERIODIZATION, 3}, {"db2", GDL_DWT_SYMMETRIC, 2},
      {"db4", GDL_DWT_PERIODIZATION, 2},  {"bior4.4", GDL_DWT_SYMMETRIC, 2},
      {"bior4.4", GDL_DWT_PERIODIZATION, 3}, {"db8", GDL_DWT_SYMMETRIC, 1}};
  gdl_tensor *y = gdl_arrays_get(z, "y");
  for (size_t k = 0; y && k < sizeof multi / sizeof *multi; k++) {
    const gdl_wavelet *w = gdl_wavelet_get(multi[k].w);
    const char *mn = gdl_dwt_mode_name(multi[k].m);
    snprintf(key, sizeof key, "dec.%s.%s.%d", multi[k].w, mn, multi[k].n);
    gdl_tensor *dec = gdl_arrays_get(z, key);
    snprintf(key, sizeof key, "c.%s.%s.%d", multi[k].w, mn, multi[k].n);
    gdl_tensor *c = gdl_arrays_get(z, key);
    snprintf(key, sizeof key, "crec.%s.%s.%d", multi[k].w, mn, multi[k].n);
    gdl_tensor *crec = gdl_arrays_get(z, key);
    CHECK(dec && c && crec, "fixture lacks the %s case", key);
    if (!dec || !c || !crec) continue;
    int64_t H = y->shape[1], W = y->shape[2];
    CHECK(gdl_wavedec2_layout(H, W, w, multi[k].m, multi[k].n, NULL) == dec->shape[1],
          "%s: layout length differs from PyWavelets'", key);
    double e = max_abs_diff(gdl_wavedec2(ctx, y, w, multi[k].m, multi[k].n), dec);
    if (strcmp(w->name, "bior4.4")) worst_dec = fmax(worst_dec, e);
    else worst_cdf97 = fmax(worst_cdf97, e);
    CHECK(e <= tol64(w), "wavedec2 %s %s %d: differs from PyWavelets by %.3g", multi[k].w, mn, multi[k].n, e);
    e = max_abs_diff(gdl_waverec2(ctx, c, w, multi[k].m, multi[k].n, H, W), crec);
    if (strcmp(w->name, "bior4.4")) worst_rec = fmax(worst_rec, e);
    else worst_cdf97 = fmax(worst_cdf97, e);
    CHECK(e <= tol64(w), "waverec2 %s %s %d: differs from PyWavelets by %.3g", multi[k].w, mn, multi[k].n, e);
    e = max_abs_diff(gdl_waverec2(ctx, dec, w, multi[k].m, multi[k].n, H, W), y);
    CHECK(e <= tol64(w), "waverec2(wavedec2) %s %s: misses by %.3g", multi[k].w, mn, e);
  }
  printf("PyWavelets fixtures (max |gdl - pywt|): dwt2 float64 %.2e, float32 %.2e; wavedec2 %.2e, "
         "waverec2 %.2e; bior4.4 (PyWavelets' table rounded at 1e-12) %.2e\n",
         worst_dwt64, worst_dwt32, worst_dec, worst_rec, worst_cdf97);
  gdl_ctx_free(ctx);
  gdl_arrays_free(z);
}

/* ---- perfect reconstruction, every wavelet and mode, odd and even sizes ----------------- */

static void reconstruction(void) {
  static const int64_t sizes[][2] = {{32, 32}, {33, 20}, {17, 45}, {64, 48}};
  double worst[2] = {0, 0};
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_rng rng = gdl_rng_make(7);
  for (int t = 0; t < 2; t++) {
    gdl_dtype dt = t ? GDL_F32 : GDL_F64;
    double tol = t ? 1e-6 : 1e-12;
    for (int i = 0; i < NW; i++)
      for (int m = 0; m < 2; m++)
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
          const gdl_wavelet *w = gdl_wavelet_get(wavelets[i]);
          int64_t H = sizes[s][0], W = sizes[s][1];
          gdl_tensor *x = gdl_tensor_new(ctx, dt, GDL_SHAPE(2, 1, H, W));
          gdl_rng_fill_uniform(&rng, x, -1, 1);
          int levels = 1 + (int)(s % 3);
          gdl_tensor *c = gdl_wavedec2(ctx, x, w, modes[m], levels);
          gdl_tensor *y = gdl_waverec2(ctx, c, w, modes[m], levels, H, W);
          double e = max_abs_diff(y, x);
          worst[t] = fmax(worst[t], e);
          CHECK(e <= tol, "%s %s %s %lldx%lld, %d levels: reconstruction error %.3g > %g",
                gdl_dtype_name(dt), wavelets[i], gdl_dwt_mode_name(modes[m]), (long long)H,
                (long long)W, levels, e, tol);
          gdl_ctx_reset(ctx);
        }
  }
  printf("perfect reconstruction (inputs in [-1, 1), up to 3 levels): max |x - rec(dec(x))| "
         "float64 %.2e, float32 %.2e\n", worst[0], worst[1]);
  gdl_ctx_free(ctx);
}

/* ---- Parseval: orthogonal wavelets, periodization, even sizes ---------------------------- */

static void parseval(void) {
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_rng rng = gdl_rng_make(8);
  for (int i = 0; i < NW; i++) {
    const gdl_wavelet *w = gdl_wavelet_get(wavelets[i]);
    if (!w->orthogonal) continue;
    gdl_tensor *x = gdl_tensor_new(ctx, GDL_F64, GDL_SHAPE(24, 40));
    gdl_rng_fill_normal(&rng, x, 0, 1);
    gdl_tensor *c = gdl_wavedec2(ctx, x, w, GDL_DWT_PERIODIZATION, 3);
    double ex = 0, ec = 0;
    for (int64_t k = 0; k < gdl_tensor_numel(x); k++) ex += pow(gdl_tensor_get(x, k), 2);
    for (int64_t k = 0; k < gdl_tensor_numel(c); k++) ec += pow(gdl_tensor_get(c, k), 2);
    CHECK(gdl_tensor_numel(c) == gdl_tensor_numel(x), "%s: periodization keeps the sample count", w->name);
    CHECK_CLOSE(ec, ex, 0, 1e-12, "%s: Parseval: |c|^2 = %.15g, |x|^2 = %.15g", w->name, ec, ex);
    gdl_ctx_reset(ctx);
  }
  gdl_ctx_free(ctx);
}

/* ---- Haar by hand ------------------------------------------------------------------------- */

static void haar_by_hand(void) {
  gdl_ctx *ctx = gdl_ctx_new();
  double v[] = {1, 2, 3, 4, 5, 6, 7, 8};
  gdl_tensor *x = gdl_tensor_wrap(ctx, GDL_F64, GDL_SHAPE(2, 4), v);
  gdl_tensor *c = gdl_dwt2(ctx, x, gdl_wavelet_get("haar"), GDL_DWT_PERIODIZATION);
  /* 2x2 blocks [[a, b], [c, d]]: cA = (a+b+c+d)/2, cH = (a+b-c-d)/2,
   * cV = (a-b+c-d)/2, cD = (a-b-c+d)/2 */
  double want[] = {7, 11, -4, -4, -1, -1, 0, 0};
  for (int k = 0; k < 8; k++)
    CHECK_CLOSE(gdl_tensor_get(c, k), want[k], 1e-14, 0, "haar %d: %.17g, want %g", k, gdl_tensor_get(c, k), want[k]);
  CHECK(c->ndim == 3 && c->shape[0] == 4 && c->shape[1] == 1 && c->shape[2] == 2, "haar: shape");
  gdl_ctx_free(ctx);
}

/* ---- layouts, batching and bad input --------------------------------------------------------- */

static void layout_and_errors(void) {
  const gdl_wavelet *w = gdl_wavelet_get("db2");
  CHECK(w && w->len == 4 && w->orthogonal, "db2 is a 4-tap orthogonal wavelet");
  CHECK(gdl_wavelet_get("db1") == gdl_wavelet_get("haar"), "db1 is haar");
  CHECK(gdl_wavelet_get("cdf97") == gdl_wavelet_get("bior4.4"), "cdf97 is bior4.4");
  CHECK(!gdl_wavelet_get("sym4") && strstr(gdl_last_error(), "sym4"), "unknown wavelet: NULL + message");
  gdl_dwt_mode m;
  CHECK(gdl_dwt_mode_parse("symmetric", &m) == GDL_OK && m == GDL_DWT_SYMMETRIC, "mode parse");
  CHECK(gdl_dwt_mode_parse("zero", &m) == GDL_ERR_ARG, "mode parse rejects 'zero'");
  CHECK(gdl_dwt_max_level(28, gdl_wavelet_get("db4")) == 2, "dwt_max_level(28, 8) = 2");
  CHECK(gdl_dwt_max_level(1024, gdl_wavelet_get("haar")) == 10, "dwt_max_level(1024, 2) = 10");
  CHECK(gdl_wavedec2_layout(28, 28, w, GDL_DWT_SYMMETRIC, 0, NULL) < 0, "0 levels refused");
  /* sum of band sizes, band order */
  gdl_dwt_band b[7];
  int64_t total = gdl_wavedec2_layout(28, 20, w, GDL_DWT_PERIODIZATION, 2, b);
  CHECK(total == 28 * 20 && b[0].kind == 'a' && b[0].h == 7 && b[0].w == 5 && b[1].kind == 'h' &&
            b[1].level == 2 && b[4].level == 1 && b[4].offset == 4 * 35 && b[6].kind == 'd',
        "layout of a 2-level periodization decomposition");
  /* a batch is the same as its images one by one */
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_rng rng = gdl_rng_make(9);
  gdl_tensor *x = gdl_tensor_new(ctx, GDL_F64, GDL_SHAPE(3, 2, 13, 9));
  gdl_rng_fill_uniform(&rng, x, -1, 1);
  const gdl_wavelet *cdf = gdl_wavelet_get("bior4.4");
  gdl_tensor *c = gdl_wavedec2(ctx, x, cdf, GDL_DWT_SYMMETRIC, 2);
  double e = 0;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 2; j++) {
      gdl_tensor *xi = gdl_slice(ctx, gdl_slice(ctx, x, 0, i, i + 1, 1), 1, j, j + 1, 1);
      gdl_tensor *ci = gdl_wavedec2(ctx, gdl_reshape(ctx, xi, GDL_SHAPE(13, 9)), cdf, GDL_DWT_SYMMETRIC, 2);
      gdl_tensor *cr = gdl_slice(ctx, gdl_slice(ctx, c, 0, i, i + 1, 1), 1, j, j + 1, 1);
      e = fmax(e, max_abs_diff(gdl_reshape(ctx, cr, gdl_tensor_shape(ci)), ci));
    }
  CHECK(e == 0, "batched wavedec2 equals per-image (diff %.3g)", e);
  gdl_ctx_free(ctx);
}

/* ---- autograd through the multi-level transforms: <W x, y> = <x, W^T y> ------------------- */

static void adjoint(void) {
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_rng rng = gdl_rng_make(10);
  const gdl_wavelet *w = gdl_wavelet_get("db3");
  gdl_tensor *x = gdl_tensor_new(ctx, GDL_F64, GDL_SHAPE(15, 22));
  gdl_rng_fill_uniform(&rng, x, -1, 1);
  x->requires_grad = true;
  gdl_tensor *c = gdl_wavedec2(ctx, x, w, GDL_DWT_SYMMETRIC, 2);
  gdl_tensor *u = gdl_tensor_new(ctx, GDL_F64, gdl_tensor_shape(c));
  gdl_rng_fill_uniform(&rng, u, -1, 1);
  gdl_tensor *L = gdl_sum(ctx, gdl_mul(ctx, c, u), GDL_AXIS_ALL, false);
  CHECK(gdl_backward(ctx, L) == GDL_OK, "backward through wavedec2");
  /* <c, u> = <x, grad>: the gradient is the exact adjoint */
  double lhs = gdl_tensor_get(L, 0), rhs = 0;
  for (int64_t k = 0; k < gdl_tensor_numel(x); k++) rhs += gdl_tensor_get(x, k) * gdl_tensor_get(x->grad, k);
  CHECK_CLOSE(lhs, rhs, 1e-12, 1e-12, "wavedec2 adjoint: %.15g vs %.15g", lhs, rhs);
  gdl_ctx_free(ctx);
}

int main(void) {
  fixtures();
  reconstruction();
  parseval();
  haar_by_hand();
  layout_and_errors();
  adjoint();
  return test_report();
}
