/* Grid and group convolution benchmarks, float32, through gdl's C API; the same
 * cases in PyTorch are bench/conv_torch.py and bench/run_conv.sh prints the ratios.
 *
 *   conv   conv2d 64 -> 64 channels, 56 x 56, 3 x 3, padding 1, no bias, batch 8
 *          (a ResNet stage-1 layer): forward alone, and forward + backward (the
 *          gradients of the input and of the weight) of sum(conv(x) * r).
 *   p4     the p4 group convolution of the same size: 16 -> 16 channels per group
 *          element (64 -> 64 feature maps), weight [16, 16, 4, 3, 3]; forward +
 *          backward as above.
 *   cnn    one training step of configs/fashion_cnn.ini's CNN, batch 128 (AdamW,
 *          cross-entropy, dropout and batch norm in training mode).
 *
 *   bench_conv [--config configs/fashion_cnn.ini] [--steps 20] [--threads 1,2]
 *
 * Lines for scripts:  RESULT <case> gdl <threads> <median ms> <GFLOP/s or 0> */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdl.h"
#include "bench_blas.h"
#include "bench_util.h"

static void die(const char *what) {
  fprintf(stderr, "bench_conv: %s: %s\n", what, gdl_last_error());
  exit(1);
}

static gdl_tensor *leaf(gdl_rng *rng, gdl_shape s, bool grad) {
  gdl_tensor *t = gdl_tensor_alloc(GDL_F32, s);
  gdl_rng_fill_normal(rng, t, 0, 0.1);
  t->requires_grad = grad;
  return t;
}

/* Median ms of forward (+ backward) of sum(f(x, w) * r); x and w are heap leaves
 * whose gradients live in the step's arena (so they are dropped before a reset). */
static double time_conv(bool group, bool backward, int steps, gdl_tensor *x, gdl_tensor *w, gdl_tensor *r) {
  gdl_ctx *ctx = gdl_ctx_new();
  double *t = malloc((size_t)steps * sizeof *t);
  for (int s = -3; s < steps; s++) {
    x->grad = w->grad = NULL;
    gdl_ctx_reset(ctx);
    gdl_ctx_set_grad(ctx, backward);
    double t0 = bench_now();
    gdl_tensor *y = group ? gdl_group_conv2d(ctx, GDL_GROUP_P4, x, w, NULL, 1, 1) : gdl_conv2d(ctx, x, w, NULL, 1, 1);
    if (!y) die("conv");
    if (backward && gdl_backward(ctx, gdl_sum(ctx, gdl_mul(ctx, y, r), GDL_AXIS_ALL, false))) die("backward");
    if (s >= 0) t[s] = bench_now() - t0;
  }
  x->grad = w->grad = NULL;
  double m = 1e3 * bench_median(t, steps);
  free(t);
  gdl_ctx_free(ctx);
  return m;
}

static double time_cnn(const char *config, int steps) {
  gdl_config *cfg = gdl_config_load(config);
  if (!cfg) die(config);
  const int64_t B = 128;
  gdl_model *m = gdl_model_new(GDL_F32, GDL_SHAPE(1, 28, 28), 1);
  if (gdl_model_add_config(m, cfg)) die(config);
  gdl_optim_opts oo = gdl_optim_defaults(GDL_OPTIM_ADAMW);
  oo.weight_decay = 5e-4;
  gdl_optim *opt = gdl_optim_new(m, oo);
  gdl_rng rng = gdl_rng_make(7);
  gdl_tensor *x = gdl_tensor_alloc(GDL_F32, GDL_SHAPE(B, 1, 28, 28));
  gdl_tensor *y = gdl_tensor_alloc(GDL_I64, GDL_SHAPE(B));
  gdl_rng_fill_uniform(&rng, x, 0, 1);
  for (int64_t i = 0; i < B; i++) ((int64_t *)y->data)[i] = (int64_t)gdl_rng_below(&rng, 10);
  gdl_ctx *ctx = gdl_ctx_new();
  double *t = malloc((size_t)steps * sizeof *t);
  for (int s = -3; s < steps; s++) {
    double t0 = bench_now();
    gdl_ctx_reset(ctx);
    gdl_tensor *logits = gdl_model_forward(m, ctx, x, true);
    if (!logits || gdl_backward(ctx, gdl_cross_entropy(ctx, logits, y, GDL_CE_DEFAULT))) die("cnn step");
    gdl_optim_step(opt, 2e-3);
    gdl_model_zero_grad(m);
    if (s >= 0) t[s] = bench_now() - t0;
  }
  double med = 1e3 * bench_median(t, steps);
  free(t);
  gdl_ctx_free(ctx);
  gdl_tensor_free(x);
  gdl_tensor_free(y);
  gdl_optim_free(opt);
  gdl_model_free(m);
  gdl_config_free(cfg);
  return med;
}

int main(int argc, char **argv) {
  const char *config = "configs/fashion_cnn.ini";
  int steps = 20, threads[8] = {1, 2}, nthreads = 2;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--config") && i + 1 < argc) config = argv[++i];
    else if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) nthreads = bench_parse_threads(argv[++i], threads, 8);
    else {
      fprintf(stderr, "usage: %s [--config F] [--steps N] [--threads 1,2]\n", argv[0]);
      return 2;
    }
  }
  if (steps < 1) steps = 1;
  print_blas();
  const int64_t N = 8, C = 64, S = 56, G = 4;
  /* 2 C^2 9 S^2 N multiply-adds counted twice; backward = two products of that size */
  const double flop = 2.0 * C * C * 9 * S * S * N;
  gdl_rng rng = gdl_rng_make(3);
  gdl_tensor *x = leaf(&rng, GDL_SHAPE(N, C, S, S), true), *w = leaf(&rng, GDL_SHAPE(C, C, 3, 3), true);
  gdl_tensor *r = leaf(&rng, GDL_SHAPE(N, C, S, S), false);
  gdl_tensor *gx = leaf(&rng, GDL_SHAPE(N, C / G, G, S, S), true);
  gdl_tensor *gw = leaf(&rng, GDL_SHAPE(C / G, C / G, G, 3, 3), true);
  gdl_tensor *gr = leaf(&rng, GDL_SHAPE(N, C / G, G, S, S), false);
  printf("float32, median ms of %d repeats; GFLOP/s counts 2 C^2 9 HW N per product\n", steps);
  for (int ti = 0; ti < nthreads; ti++) {
    int nt = threads[ti];
    gdl_set_threads(nt);
    double f = time_conv(false, false, steps, x, w, r), fb = time_conv(false, true, steps, x, w, r);
    double p4 = time_conv(true, true, steps, gx, gw, gr), cnn = time_cnn(config, steps);
    printf("%d thread%s: conv fwd %.2f ms (%.1f GFLOP/s), conv fwd+bwd %.2f ms (%.1f GFLOP/s), "
           "p4 fwd+bwd %.2f ms, CNN step %.2f ms\n",
           nt, nt > 1 ? "s" : " ", f, flop / f * 1e-6, fb, 3 * flop / fb * 1e-6, p4, cnn);
    printf("RESULT conv_fwd gdl %d %.4f %.2f\n", nt, f, flop / f * 1e-6);
    printf("RESULT conv_fwd_bwd gdl %d %.4f %.2f\n", nt, fb, 3 * flop / fb * 1e-6);
    printf("RESULT p4_fwd_bwd gdl %d %.4f %.2f\n", nt, p4, 3 * flop / p4 * 1e-6);
    printf("RESULT cnn_step gdl %d %.4f 0\n", nt, cnn);
    fflush(stdout);
  }
  gdl_tensor *all[] = {x, w, r, gx, gw, gr};
  for (int i = 0; i < 6; i++) gdl_tensor_free(all[i]);
  return 0;
}
