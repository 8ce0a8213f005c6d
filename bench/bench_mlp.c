/* One training step of an MLP 784-512-512-10 (ReLU, no dropout), batch 256,
 * float32, Adam (PyTorch defaults, lr 1e-3), mean cross-entropy, through gdl's
 * C API the way a user writes the loop:
 *
 *   gdl_ctx_reset(ctx);                                   // arena: one step's tensors
 *   logits = gdl_model_forward(m, ctx, x, true);
 *   loss = gdl_cross_entropy(ctx, logits, y, GDL_CE_DEFAULT);
 *   gdl_backward(ctx, loss);
 *   gdl_optim_step(opt, lr);
 *   gdl_model_zero_grad(m);
 *
 * Median wall time per step over `steps` steps after `warmup` steps, for each
 * thread count, with the median of each phase. bench/mlp_torch.py is the same
 * step in PyTorch; bench/run.sh prints the ratio.
 *
 *   bench_mlp [--steps 200] [--warmup 20] [--threads 1,2] [--batch 256]
 *
 * Lines for scripts:
 *   RESULT mlp gdl <threads> <median ms/step> <forward> <loss> <backward> <optim> <zero_grad> (ms) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdl.h"
#include "bench_blas.h"
#include "bench_util.h"

enum { PH_FWD, PH_LOSS, PH_BWD, PH_OPT, PH_ZERO, PH_TOTAL, PH_COUNT };

int main(int argc, char **argv) {
  int steps = 200, warmup = 20;
  int64_t batch = 256;
  int threads[8] = {1, 2}, nthreads = 2;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoll(argv[++i]);
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
      nthreads = bench_parse_threads(argv[++i], threads, 8);
    } else {
      fprintf(stderr, "usage: %s [--steps N] [--warmup N] [--threads 1,2] [--batch N]\n", argv[0]);
      return 2;
    }
  }
  if (steps < 1) steps = 1;

  const int64_t in = 784, classes = 10, widths[3] = {512, 512, classes};
  /* Data: uniform inputs in [0, 1) (like scaled pixels) and random labels. */
  gdl_rng rng = gdl_rng_make(7);
  gdl_tensor *x = gdl_tensor_alloc(GDL_F32, GDL_SHAPE(batch, in));
  gdl_tensor *y = gdl_tensor_alloc(GDL_I64, GDL_SHAPE(batch));
  gdl_rng_fill_uniform(&rng, x, 0, 1);
  for (int64_t i = 0; i < batch; i++) ((int64_t *)y->data)[i] = (int64_t)gdl_rng_below(&rng, classes);

  double *t[PH_COUNT];
  for (int p = 0; p < PH_COUNT; p++) t[p] = malloc((size_t)steps * sizeof(double));

  print_blas();
  printf("MLP 784-512-512-10 (ReLU), batch %lld, float32, Adam lr 1e-3, cross-entropy; "
         "%d steps after %d warm-up, median ms\n",
         (long long)batch, steps, warmup);
  printf("%-8s %9s %9s %9s %9s %10s %10s %10s\n", "threads", "total", "forward", "loss", "backward",
         "optim_step", "zero_grad", "loss@end");
  for (int ti = 0; ti < nthreads; ti++) {
    int nt = threads[ti];
    gdl_set_threads(nt);
    /* A fresh model and optimiser per thread count: same seed, same work. */
    gdl_model *m = gdl_model_new(GDL_F32, GDL_SHAPE(in), 1);
    if (gdl_model_add_mlp(m, widths, 3, GDL_ACT_RELU, 0)) {
      fprintf(stderr, "bench_mlp: %s\n", gdl_last_error());
      return 1;
    }
    gdl_optim *opt = gdl_optim_new(m, gdl_optim_defaults(GDL_OPTIM_ADAM));
    gdl_ctx *ctx = gdl_ctx_new();
    double last_loss = 0;
    for (int s = -warmup; s < steps; s++) {
      double t0 = bench_now();
      gdl_ctx_reset(ctx);
      gdl_tensor *logits = gdl_model_forward(m, ctx, x, true);
      double t1 = bench_now();
      gdl_tensor *loss = gdl_cross_entropy(ctx, logits, y, GDL_CE_DEFAULT);
      double t2 = bench_now();
      if (gdl_backward(ctx, loss)) {
        fprintf(stderr, "bench_mlp: %s\n", gdl_last_error());
        return 1;
      }
      double t3 = bench_now();
      gdl_optim_step(opt, 1e-3);
      double t4 = bench_now();
      gdl_model_zero_grad(m);
      double t5 = bench_now();
      if (s >= 0) {
        t[PH_FWD][s] = t1 - t0;
        t[PH_LOSS][s] = t2 - t1;
        t[PH_BWD][s] = t3 - t2;
        t[PH_OPT][s] = t4 - t3;
        t[PH_ZERO][s] = t5 - t4;
        t[PH_TOTAL][s] = t5 - t0;
      }
      last_loss = gdl_tensor_get(loss, 0);
    }
    double med[PH_COUNT];
    for (int p = 0; p < PH_COUNT; p++) med[p] = 1e3 * bench_median(t[p], steps);
    printf("%-8d %9.3f %9.3f %9.3f %9.3f %10.3f %10.3f %10.4f\n", nt, med[PH_TOTAL], med[PH_FWD],
           med[PH_LOSS], med[PH_BWD], med[PH_OPT], med[PH_ZERO], last_loss);
    printf("RESULT mlp gdl %d %.4f %.4f %.4f %.4f %.4f %.4f\n", nt, med[PH_TOTAL], med[PH_FWD],
           med[PH_LOSS], med[PH_BWD], med[PH_OPT], med[PH_ZERO]);
    fflush(stdout);
    gdl_ctx_free(ctx);
    gdl_optim_free(opt);
    gdl_model_free(m);
  }
  for (int p = 0; p < PH_COUNT; p++) free(t[p]);
  gdl_tensor_free(x);
  gdl_tensor_free(y);
  return 0;
}
