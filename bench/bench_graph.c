/* Graph benchmarks (gdl side; bench/graph_pyg.py is the PyTorch Geometric side):
 *   - full-batch training of GCN and GAT on Cora, 200 epochs (PyG's example models:
 *     dropout on the inputs, forward, cross-entropy on the 140 training nodes,
 *     backward, Adam), seconds for the 200 epochs;
 *   - gSpMM sum (copy_u) on a random graph the size of ogbn-arxiv (169,343 nodes,
 *     1,166,243 edges, 128 float32 features): ms per call and GB/s under the traffic
 *     model bytes = E (F 4 + 16) + N (F 4 + 8) (one feature row read per edge, the
 *     output written once, the CSR read once);
 *   - neighbour sampling (fan-out 10, 10; 1024 seeds per batch) on the same graph:
 *     seeds per second.
 * Lines "RESULT <what> <threads> <value>" are for bench/run_graph.sh.
 *   bench_graph [--threads 1,2] [--quick] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "gdl.h"

static gdl_graph *cora;

static double train_cora(bool gat, int epochs) {
  gdl_model *m = gdl_model_new(GDL_F32, GDL_SHAPE(cora->x->shape[1]), 1);
  if (gat) {
    gdl_gat_opts o = GDL_GAT_DEFAULT;
    o.heads = 8, o.dropout = 0.6, o.input_dropout = 0.6;
    gdl_model_add(m, gdl_layer_gat(8, o));
    gdl_model_add(m, gdl_layer_activation(GDL_ACT_ELU, 1));
    o.heads = 1, o.concat = false;
    gdl_model_add(m, gdl_layer_gat(7, o));
  } else {
    gdl_model_add(m, gdl_layer_gcn(16, 0, 0.5));
    gdl_model_add(m, gdl_layer_activation(GDL_ACT_RELU, 0));
    gdl_model_add(m, gdl_layer_gcn(7, 0, 0.5));
  }
  gdl_optim_opts oo = gdl_optim_defaults(GDL_OPTIM_ADAM);
  oo.lr = gat ? 0.005 : 0.01;
  oo.weight_decay = 5e-4;
  gdl_optim *opt = gdl_optim_new(m, oo);
  gdl_ctx *ctx = gdl_ctx_new();
  int64_t n = 0, idx[2708];
  for (int64_t i = 0; i < cora->num_nodes; i++)
    if (((uint8_t *)cora->train_mask->data)[i]) idx[n++] = i;
  gdl_tensor *ix = gdl_tensor_alloc(GDL_I64, GDL_SHAPE(n)), *y = gdl_tensor_alloc(GDL_I64, GDL_SHAPE(n));
  for (int64_t i = 0; i < n; i++) {
    ((int64_t *)ix->data)[i] = idx[i];
    ((int64_t *)y->data)[i] = ((int64_t *)cora->y->data)[idx[i]];
  }
  gdl_model_zero_grad(m);
  double t0 = 0;
  for (int e = 0; e < epochs + 5; e++) {
    if (e == 5) t0 = bench_now(); /* 5 warm-up epochs (caches, normalisation) */
    gdl_ctx_reset(ctx);
    gdl_ctx_seed(ctx, (uint64_t)e);
    gdl_tensor *logits = gdl_graph_forward(m, ctx, cora->x, cora, true);
    gdl_tensor *loss = gdl_cross_entropy(ctx, gdl_index_select(ctx, logits, 0, ix), y, GDL_CE_DEFAULT);
    gdl_backward(ctx, loss);
    gdl_optim_step(opt, oo.lr);
    gdl_model_zero_grad(m);
  }
  double t = bench_now() - t0;
  gdl_ctx_free(ctx);
  gdl_optim_free(opt);
  gdl_model_free(m);
  gdl_tensor_free(ix), gdl_tensor_free(y);
  return t;
}

int main(int argc, char **argv) {
  int threads[4], nt = 1;
  bool quick = false;
  char tl[64] = "1,2";
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc) snprintf(tl, sizeof tl, "%s", argv[++i]);
    else if (!strcmp(argv[i], "--quick")) quick = true;
  }
  nt = bench_parse_threads(tl, threads, 4);
  cora = gdl_graph_load_npz("../shared/data/planetoid/cora.npz");
  if (!cora) {
    fprintf(stderr, "%s\n", gdl_last_error());
    return 1;
  }
  gdl_graph_normalize_features(cora->x);
  /* the ogbn-arxiv-sized random graph */
  int64_t N = 169343, E = 1166243, F = 128;
  int64_t *s = malloc((size_t)E * sizeof *s), *d = malloc((size_t)E * sizeof *d);
  gdl_rng r = gdl_rng_make(42);
  for (int64_t e = 0; e < E; e++) s[e] = (int64_t)gdl_rng_below(&r, (uint64_t)N), d[e] = (int64_t)gdl_rng_below(&r, (uint64_t)N);
  gdl_graph *g = gdl_graph_from_edges(N, E, s, d);
  free(s), free(d);
  gdl_tensor *x = gdl_tensor_alloc(GDL_F32, GDL_SHAPE(N, F));
  gdl_rng_fill_normal(&r, x, 0, 1);
  g->x = x;
  for (int k = 0; k < nt; k++) {
    gdl_set_threads(threads[k]);
    int epochs = quick ? 50 : 200;
    double tg = train_cora(false, epochs) * 200.0 / epochs, ta = train_cora(true, epochs) * 200.0 / epochs;
    printf("GCN Cora 200 epochs, %d threads: %.3f s\nGAT Cora 200 epochs, %d threads: %.3f s\n", threads[k], tg,
           threads[k], ta);
    printf("RESULT gcn_cora_200 %d %.4f\nRESULT gat_cora_200 %d %.4f\n", threads[k], tg, threads[k], ta);
    gdl_ctx *ctx = gdl_ctx_new();
    gdl_ctx_set_grad(ctx, false);
    double ts[20];
    int reps = quick ? 5 : 15;
    for (int i = 0; i < reps + 2; i++) {
      double t0 = bench_now();
      gdl_gspmm(ctx, g, GDL_MSG_COPY_U, GDL_REDUCE_SUM, x, NULL);
      if (i >= 2) ts[i - 2] = bench_now() - t0;
      gdl_ctx_reset(ctx);
    }
    double t = bench_median(ts, reps), bytes = (double)E * (F * 4 + 16) + (double)N * (F * 4 + 8);
    printf("gSpMM sum (arxiv size, F=128), %d threads: %.2f ms, %.1f GB/s\n", threads[k], 1e3 * t, bytes / t * 1e-9);
    printf("RESULT spmm_ms %d %.3f\nRESULT spmm_gbs %d %.2f\n", threads[k], 1e3 * t, threads[k], bytes / t * 1e-9);
    gdl_ctx_free(ctx);
    int64_t fan[2] = {10, 10}, B = 1024, nb = quick ? 10 : 40;
    gdl_sampler *smp = gdl_sampler_new(g, fan, 2);
    int64_t *seeds = malloc((size_t)N * sizeof *seeds);
    for (int64_t i = 0; i < N; i++) seeds[i] = i;
    gdl_rng_shuffle(&r, seeds, N);
    double t0 = bench_now();
    int64_t nodes = 0;
    for (int64_t b = 0; b < nb; b++) {
      gdl_graph *sub = gdl_sampler_sample(smp, seeds + b * B, B, (uint64_t)b);
      nodes += sub->num_nodes;
      gdl_graph_free(sub);
    }
    double dt = bench_now() - t0;
    printf("sampling [10, 10], batch 1024, %d threads: %.0f seeds/s (%.1f ms per batch, %lld nodes per batch)\n",
           threads[k], (double)(nb * B) / dt, 1e3 * dt / (double)nb, (long long)(nodes / nb));
    printf("RESULT sample_seeds_per_s %d %.1f\n", threads[k], (double)(nb * B) / dt);
    free(seeds);
    gdl_sampler_free(smp);
  }
  gdl_graph_free(g);
  gdl_graph_free(cora);
  return 0;
}
