/* gdl's 2-D wavelet transforms and scattering transform, timed on the cases that
 * bench/multiscale/peers.py times with PyWavelets and Kymatio (same sizes, same
 * dtypes). Prints one line per case and thread count:
 *   RESULT <case> <threads> <median seconds per call> <best seconds per call>
 * (the best of the repetitions is the figure least disturbed by other load on a
 * shared machine; run_wavelets.sh compares those).
 * Usage: bench_wavelets [--quick] [--threads 1,2] */
#include <stdio.h>
#include <string.h>

#include "bench_util.h"
#include "gdl.h"

static int reps = 15;

/* Median and best wall time over reps calls (after one warm-up call). */
typedef struct {
  double median, best;
} timing;

#define TIME(out, ...)                               \
  do {                                               \
    double t_[64];                                   \
    __VA_ARGS__;                                     \
    for (int r_ = 0; r_ < reps; r_++) {              \
      double s_ = bench_now();                       \
      __VA_ARGS__;                                   \
      t_[r_] = bench_now() - s_;                     \
    }                                                \
    out.median = bench_median(t_, reps);             \
    out.best = t_[0];                                \
    for (int r_ = 1; r_ < reps; r_++)                \
      if (t_[r_] < out.best) out.best = t_[r_];      \
  } while (0)

static gdl_tensor *random_images(gdl_dtype t, gdl_shape s, uint64_t seed) {
  gdl_tensor *x = gdl_tensor_alloc(t, s);
  gdl_rng r = gdl_rng_make(seed);
  gdl_rng_fill_uniform(&r, x, 0, 1);
  return x;
}

/* wavedec2 + waverec2 as pywt.wavedec2 / pywt.waverec2 on one image */
static void dwt_case(const char *name, const char *wv, gdl_dwt_mode mode, int64_t n, int levels,
                     gdl_dtype t, int threads) {
  const gdl_wavelet *w = gdl_wavelet_get(wv);
  gdl_tensor *x = random_images(t, GDL_SHAPE(n, n), 1);
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_ctx_set_grad(ctx, false);
  timing dec, rec;
  gdl_tensor *c = NULL;
  TIME(dec, c = gdl_wavedec2(ctx, x, w, mode, levels); c = gdl_tensor_clone(c); gdl_ctx_reset(ctx);
       gdl_tensor_free(c));
  c = gdl_tensor_clone(gdl_wavedec2(ctx, x, w, mode, levels));
  gdl_ctx_reset(ctx);
  TIME(rec, gdl_waverec2(ctx, c, w, mode, levels, n, n); gdl_ctx_reset(ctx));
  printf("RESULT %s.dec %d %.6g %.6g\n", name, threads, dec.median, dec.best);
  printf("RESULT %s.rec %d %.6g %.6g\n", name, threads, rec.median, rec.best);
  gdl_tensor_free(c);
  gdl_tensor_free(x);
  gdl_ctx_free(ctx);
}

/* the transform of a batch, as Kymatio's Scattering2D(J, (M, M), L=8)(x) */
static void scat_case(const char *name, int64_t B, int64_t M, int J, int threads) {
  gdl_scattering2d_plan *p = gdl_scattering2d_plan_create(M, M, J, 8, 2, GDL_SCATTERING2D_MEASURE);
  if (!p) {
    fprintf(stderr, "%s\n", gdl_last_error());
    exit(1);
  }
  int64_t oh, ow;
  gdl_scattering2d_out_size(p, &oh, &ow);
  gdl_tensor *x = random_images(GDL_F32, GDL_SHAPE(B, M, M), 2);
  float *out = malloc(sizeof(float) * (size_t)(B * gdl_scattering2d_channels(p) * oh * ow));
  timing s;
  TIME(s, gdl_scattering2d_execute(p, GDL_F32, x->data, B, out));
  printf("RESULT %s %d %.6g %.6g\n", name, threads, s.median, s.best);
  free(out);
  gdl_tensor_free(x);
  gdl_scattering2d_plan_destroy(p);
}

int main(int argc, char **argv) {
  char tl[64] = "1,2";
  bool quick = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--quick")) quick = true;
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) snprintf(tl, sizeof tl, "%s", argv[++i]);
  }
  if (quick) reps = 5;
  setvbuf(stdout, NULL, _IOLBF, 0);
  int th[8], nt = bench_parse_threads(tl, th, 8);
  /* DWT: PyWavelets has no threads; gdl threads over images only, so one image
   * runs on one thread whatever the setting: time it once. */
  gdl_set_threads(1);
  dwt_case("dwt.haar.per.512.f64", "haar", GDL_DWT_PERIODIZATION, 512, 4, GDL_F64, 1);
  dwt_case("dwt.db4.sym.512.f64", "db4", GDL_DWT_SYMMETRIC, 512, 4, GDL_F64, 1);
  dwt_case("dwt.bior4.4.sym.512.f64", "bior4.4", GDL_DWT_SYMMETRIC, 512, 4, GDL_F64, 1);
  dwt_case("dwt.db4.per.1024.f32", "db4", GDL_DWT_PERIODIZATION, 1024, 3, GDL_F32, 1);
  for (int k = 0; k < nt; k++) {
    gdl_set_threads(th[k]);
    scat_case("scat.28.J2.B256", quick ? 64 : 256, 28, 2, th[k]);
    scat_case("scat.32.J2.B256", quick ? 64 : 256, 32, 2, th[k]);
    scat_case("scat.128.J3.B16", quick ? 4 : 16, 128, 3, th[k]);
  }
  return 0;
}
