/* gdl_matmul throughput: float32 and float64, square sizes and the shape of an
 * MLP's first layer, on 1 and 2 threads (gdl_set_threads). For each case: the
 * median GFLOP/s of gdl_matmul (arena reset + output allocation + BLAS, as a
 * user calls it), the fraction of this machine's FMA peak measured in the same
 * process (bench/peak_kernel.h), and the same GEMM handed straight to the BLAS
 * gdl was built with (BLIS or OpenBLAS, through gdl__gemm in src/ops/blas.h,
 * the call gdl_matmul ends in), so the cost of gdl's layer over BLAS shows.
 *
 *   bench_matmul [--quick] [--threads 1,2]
 *
 * Lines starting with "RESULT" are for scripts:
 *   RESULT matmul <dtype> <M>x<K>x<N> <threads> <gdl GFLOP/s> <BLAS GFLOP/s> <peak GFLOP/s> */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdl.h"
#include "bench_blas.h" /* gdl__gemm: the BLAS call gdl_matmul makes */
#include "peak_kernel.h"

typedef struct {
  int64_t m, k, n;
  const char *what;
} mm_shape;

typedef struct {
  gdl_ctx *ctx;
  gdl_tensor *a, *b, *c; /* c: the output buffer of the direct BLAS call */
  bool direct;
} mm_case;

static void run_once(mm_case *mc) {
  if (mc->direct) {
    int64_t m = mc->a->shape[0], k = mc->a->shape[1], n = mc->b->shape[1];
    gdl__gemm(mc->a->dtype, false, false, m, n, k, 1, mc->a->data, k, mc->b->data, n, 0, mc->c->data, n);
  } else {
    gdl_ctx_reset(mc->ctx);
    gdl_tensor *out = gdl_matmul(mc->ctx, mc->a, mc->b);
    if (!out) abort();
  }
}

/* Median seconds per call over `samples` samples of `inner` calls each, where
 * inner is picked so that one sample takes about `target` seconds. */
static double time_case(mm_case *mc, int samples, double target) {
  run_once(mc);
  run_once(mc);
  double t0 = bench_now();
  run_once(mc);
  double one = bench_now() - t0;
  int inner = one > 0 ? (int)(target / one) : 1000;
  if (inner < 1) inner = 1;
  if (inner > 10000) inner = 10000;
  double v[64];
  if (samples > 64) samples = 64;
  for (int s = 0; s < samples; s++) {
    t0 = bench_now();
    for (int i = 0; i < inner; i++) run_once(mc);
    v[s] = (bench_now() - t0) / inner;
  }
  return bench_median(v, samples);
}

int main(int argc, char **argv) {
  bool quick = false;
  int threads[8] = {1, 2}, nthreads = 2;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--quick")) quick = true;
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
      nthreads = bench_parse_threads(argv[++i], threads, 8);
    } else {
      fprintf(stderr, "usage: %s [--quick] [--threads 1,2]\n", argv[0]);
      return 2;
    }
  }
  static const mm_shape shapes[] = {{256, 256, 256, "square"},   {512, 512, 512, "square"},
                                    {1024, 1024, 1024, "square"}, {2048, 2048, 2048, "square"},
                                    {256, 784, 512, "MLP layer 1"}};
  int nshapes = (int)(sizeof shapes / sizeof *shapes);
  if (quick) nshapes = 3;
  int samples = quick ? 5 : 7;
  double target = quick ? 0.03 : 0.05;

  print_blas();

  gdl_rng rng = gdl_rng_make(42);
  for (int ti = 0; ti < nthreads; ti++) {
    int nt = threads[ti];
    gdl_set_threads(nt);
    double peak[2] = {peak_gflops(PEAK_WIDE_F32, nt, 10000000, 10),
                      peak_gflops(PEAK_WIDE_F64, nt, 10000000, 10)};
    printf("\n%d thread%s: measured FMA peak %.1f GFLOP/s float32, %.1f GFLOP/s float64\n", nt,
           nt > 1 ? "s" : "", peak[0], peak[1]);
    printf("%-8s %-18s %-12s %12s %8s %14s %10s\n", "dtype", "M x K x N", "", "gdl GFLOP/s",
           "% peak", "BLAS GFLOP/s", "gdl/BLAS");
    for (int di = 0; di < 2; di++) {
      gdl_dtype dt = di ? GDL_F64 : GDL_F32;
      for (int si = 0; si < nshapes; si++) {
        const mm_shape *s = &shapes[si];
        mm_case mc = {.ctx = gdl_ctx_new(),
                      .a = gdl_tensor_alloc(dt, GDL_SHAPE(s->m, s->k)),
                      .b = gdl_tensor_alloc(dt, GDL_SHAPE(s->k, s->n)),
                      .c = gdl_tensor_alloc(dt, GDL_SHAPE(s->m, s->n))};
        gdl_rng_fill_uniform(&rng, mc.a, -1, 1);
        gdl_rng_fill_uniform(&rng, mc.b, -1, 1);
        double flops = 2.0 * (double)s->m * (double)s->k * (double)s->n;
        mc.direct = false;
        double tg = time_case(&mc, samples, target);
        mc.direct = true;
        double tc = time_case(&mc, samples, target);
        double gg = flops / tg * 1e-9, gc = flops / tc * 1e-9;
        char shp[40];
        snprintf(shp, sizeof shp, "%lldx%lldx%lld", (long long)s->m, (long long)s->k, (long long)s->n);
        printf("%-8s %-18s %-12s %12.1f %7.1f%% %14.1f %10.3f\n", gdl_dtype_name(dt), shp, s->what,
               gg, 100 * gg / peak[di], gc, tg / tc);
        printf("RESULT matmul %s %s %d %.3f %.3f %.3f\n", gdl_dtype_name(dt), shp, nt, gg, gc, peak[di]);
        fflush(stdout);
        gdl_tensor_free(mc.a);
        gdl_tensor_free(mc.b);
        gdl_tensor_free(mc.c);
        gdl_ctx_free(mc.ctx);
      }
    }
  }
  return 0;
}
