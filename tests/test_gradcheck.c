/* Walks the whole op table. For every op and sample variant, in float64:
 * the backward pass equals central differences of L = sum(w * out) with respect
 * to every leaf; and the float32 forward/backward equal the float64 ones. */
#include "core/internal.h"
#include "ops/blas.h"
#include "test.h"

typedef struct {
  gdl_ctx *ctx;
  gdl_tensor *out, *w;
  gdl_tensor *leaves[16];
  int nleaves;
  gdl_node **tape;
  int ntape;
} run;

static bool sample(run *r, int op, int v, gdl_dtype t) {
  r->ctx = gdl_ctx_new();
  gdl_rng rng = gdl_rng_make(1000 + 17 * (uint64_t)op + (uint64_t)v);
  r->out = gdl_op_sample(op, v, r->ctx, &rng, t);
  if (!r->out) {
    gdl_ctx_free(r->ctx);
    return false;
  }
  r->ntape = gdl__ctx_tape(r->ctx, &r->tape);
  r->nleaves = 0;
  for (int k = 0; k < r->ntape; k++)
    for (int i = 0; i < r->tape[k]->nin; i++) {
      gdl_tensor *x = r->tape[k]->in[i];
      if (!x || !x->requires_grad || x->node) continue;
      bool seen = false;
      for (int j = 0; j < r->nleaves; j++) seen |= r->leaves[j] == x;
      if (!seen && r->nleaves < 16) r->leaves[r->nleaves++] = x;
    }
  r->w = gdl_tensor_new(r->ctx, t, gdl_tensor_shape(r->out));
  gdl_rng_fill_uniform(&rng, r->w, -1, 1);
  return true;
}

static void backward(run *r) {
  r->out->grad = gdl_tensor_new(r->ctx, r->out->dtype, gdl_tensor_shape(r->out));
  gdl_tensor_copy(r->out->grad, r->w);
  for (int k = r->ntape - 1; k >= 0; k--)
    if (r->tape[k]->out->grad) gdl_node_backward(r->ctx, r->tape[k]);
}

static double objective(run *r) {
  for (int k = 0; k < r->ntape; k++) gdl_node_forward(r->tape[k]);
  double L = 0;
  for (int64_t i = 0; i < gdl_tensor_numel(r->out); i++)
    L += gdl_tensor_get(r->w, i) * gdl_tensor_get(r->out, i);
  return L;
}

static bool tape_has(run *r, int op) {
  for (int k = 0; k < r->ntape; k++)
    if (r->tape[k]->op == op) return true;
  return false;
}

static void check_op(int op) {
  const char *name = gdl_op_name(op);
  int variants = 0;
  for (int v = 0;; v++) {
    run r64, r32;
    if (!sample(&r64, op, v, GDL_F64)) break;
    variants++;
    CHECK(tape_has(&r64, op), "%s/%d: the sample does not record the op", name, v);
    CHECK(r64.nleaves > 0, "%s/%d: no leaf requires grad", name, v);
    backward(&r64);
    double worst = 0, gmax = 0;
    int bad = 0;
    const double h = 1e-6;
    for (int l = 0; l < r64.nleaves; l++) {
      gdl_tensor *x = r64.leaves[l];
      for (int64_t i = 0; i < gdl_tensor_numel(x); i++) {
        double x0 = gdl_tensor_get(x, i);
        gdl_tensor_set(x, i, x0 + h);
        double lp = objective(&r64);
        gdl_tensor_set(x, i, x0 - h);
        double lm = objective(&r64);
        gdl_tensor_set(x, i, x0);
        double num = (lp - lm) / (2 * h), ana = x->grad ? gdl_tensor_get(x->grad, i) : 0;
        double err = fabs(num - ana) / (1e-6 + 1e-5 * fabs(num));
        if (err > 1) bad++;
        gmax = fmax(gmax, fabs(ana));
        if (err > worst) worst = err;
      }
    }
    CHECK(gmax > 0, "%s/%d: every gradient is zero: the sample tests nothing", name, v);
    CHECK(bad == 0, "%s/%d: %d gradient entries differ from central differences (worst %.3g x tol)",
          name, v, bad, worst);

    /* float32 against float64 on the same inputs */
    objective(&r64);
    CHECK(sample(&r32, op, v, GDL_F32), "%s/%d: no float32 sample", name, v);
    backward(&r32);
    double ferr = 0;
    for (int64_t i = 0; i < gdl_tensor_numel(r64.out); i++)
      ferr = fmax(ferr, fabs(gdl_tensor_get(r32.out, i) - gdl_tensor_get(r64.out, i)));
    for (int l = 0; l < r64.nleaves && l < r32.nleaves; l++)
      for (int64_t i = 0; r64.leaves[l]->grad && i < gdl_tensor_numel(r64.leaves[l]); i++)
        ferr = fmax(ferr, fabs(gdl_tensor_get(r32.leaves[l]->grad, i) - gdl_tensor_get(r64.leaves[l]->grad, i)));
    CHECK(r32.nleaves == r64.nleaves && ferr < 1e-4, "%s/%d: float32 differs from float64 by %.3g", name, v, ferr);
    printf("%-14s variant %d: %d leaves, worst error %.2g of tolerance, float32 diff %.1e\n", name, v,
           r64.nleaves, worst, ferr);
    gdl_ctx_free(r64.ctx);
    gdl_ctx_free(r32.ctx);
  }
  CHECK(variants > 0, "%s: no sample inputs", name);
}

/* gdl__gemm (and, where built, gdl's own AVX-512 sgemm, whose packing handles the
 * transposes and edges) against a float64 reference over random sizes, leading
 * dimensions, alpha and beta; with beta = 0 the old C (NaN here) must not leak in. */
static void check_gemm(void) {
  gdl_rng rng = gdl_rng_make(11);
  const int64_t sizes[] = {1, 7, 8, 15, 16, 17, 47, 48, 49, 97, 193, 300};
  for (int it = 0; it < 120; it++) {
    int64_t m = sizes[gdl_rng_below(&rng, 12)], n = sizes[gdl_rng_below(&rng, 12)], k = sizes[gdl_rng_below(&rng, 12)];
    bool ta = gdl_rng_below(&rng, 2), tb = gdl_rng_below(&rng, 2), f64 = it % 4 == 3;
    double alpha = it % 3 ? 1 : -0.5, beta = it % 5 == 0 ? 0 : (it % 2 ? 1 : 0.25);
    int64_t lda = (ta ? m : k) + (int64_t)gdl_rng_below(&rng, 3), ldb = (tb ? k : n) + (int64_t)gdl_rng_below(&rng, 3);
    int64_t ldc = n + (int64_t)gdl_rng_below(&rng, 3), na = lda * (ta ? k : m), nb = ldb * (tb ? n : k), nc = ldc * m;
    double *A = malloc(sizeof(double) * (size_t)(na + nb + 2 * nc)), *B = A + na, *C0 = B + nb, *C = C0 + nc;
    for (int64_t i = 0; i < na + nb + nc; i++) A[i] = gdl_rng_uniform(&rng) - 0.5;
    if (beta == 0)
      for (int64_t i = 0; i < nc; i++) C0[i] = NAN;
    float *a32 = malloc(sizeof(float) * (size_t)(na + nb + nc)), *b32 = a32 + na, *c32 = b32 + nb;
    for (int64_t i = 0; i < na + nb + nc; i++) a32[i] = (float)A[i]; /* A, B, C0 are contiguous */
    memcpy(C, C0, sizeof(double) * (size_t)nc);
    if (f64) gdl__gemm(GDL_F64, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
#ifdef GDL_HAVE_AVX512_SGEMM
    else if (it % 2) gdl__sgemm_avx512(ta, tb, m, n, k, (float)alpha, a32, lda, b32, ldb, (float)beta, c32, ldc);
#endif
    else gdl__gemm(GDL_F32, ta, tb, m, n, k, alpha, a32, lda, b32, ldb, beta, c32, ldc);
    double err = 0;
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < ldc; j++) {
        double ref = C0[i * ldc + j], got = f64 ? C[i * ldc + j] : c32[i * ldc + j];
        if (j < n) {
          double dot = 0;
          for (int64_t p = 0; p < k; p++) dot += A[ta ? p * lda + i : i * lda + p] * B[tb ? j * ldb + p : p * ldb + j];
          ref = alpha * dot + (beta == 0 ? 0 : beta * C0[i * ldc + j]);
        }
        err = fmax(err, isnan(ref) && isnan(got) ? 0 : fabs(got - ref)); /* (the untouched columns past n) */
        if (isnan(got) != isnan(ref)) err = INFINITY;
      }
    CHECK(err < (f64 ? 1e-12 : 2e-5) * sqrt((double)k), "gemm %s m %lld n %lld k %lld ta %d tb %d beta %g: error %.3g",
          f64 ? "f64" : "f32", (long long)m, (long long)n, (long long)k, ta, tb, beta, err);
    free(A);
    free(a32);
  }
}

/* 3x3 stride-1 convolutions with 16 or more channels take another path in float32
 * (Winograd F(2x2, 3x3) where built for AVX-512: forward, and the data gradient as
 * a flipped forward) than in float64 (im2col + GEMM): outputs and both gradients
 * must agree. The shapes cover padding 0 to 2, odd sizes, rows of more than 16
 * tiles, blocks of tile rows and blocks of several small samples. */
static void check_conv3x3(void) {
  const int64_t shapes[][7] = {/* N, C, O, H, W, ph, pw */
                               {3, 16, 20, 13, 37, 1, 1}, {2, 17, 16, 26, 26, 0, 0}, {5, 16, 16, 7, 5, 2, 2},
                               {1, 32, 16, 30, 50, 1, 2}, {4, 24, 18, 9, 11, 2, 0}, {2, 72, 40, 10, 12, 1, 1}};
  for (int si = 0; si < 6; si++) {
    const int64_t *d = shapes[si];
    gdl_rng rng = gdl_rng_make(21 + si);
    gdl_conv_opts o = {.padding = {(int)d[5], (int)d[6]}};
    gdl_tensor *y[2], *gx[2], *gw[2];
    gdl_ctx *ctx[2];
    gdl_tensor *x64 = gdl_tensor_alloc(GDL_F64, GDL_SHAPE(d[0], d[1], d[3], d[4]));
    gdl_tensor *w64 = gdl_tensor_alloc(GDL_F64, GDL_SHAPE(d[2], d[1], 3, 3));
    gdl_rng_fill_uniform(&rng, x64, -1, 1);
    gdl_rng_fill_uniform(&rng, w64, -0.3, 0.3);
    gdl_tensor *r64 = NULL;
    for (int k = 0; k < 2; k++) { /* k = 0: float64, 1: float32 */
      gdl_dtype t = k ? GDL_F32 : GDL_F64;
      ctx[k] = gdl_ctx_new();
      gdl_tensor *x = gdl_tensor_new(ctx[k], t, gdl_tensor_shape(x64)), *w = gdl_tensor_new(ctx[k], t, gdl_tensor_shape(w64));
      gdl_tensor_copy(x, x64);
      gdl_tensor_copy(w, w64);
      x->requires_grad = w->requires_grad = true;
      y[k] = gdl_conv(ctx[k], x, w, NULL, &o);
      if (!r64) {
        r64 = gdl_tensor_alloc(GDL_F64, gdl_tensor_shape(y[k]));
        gdl_rng_fill_uniform(&rng, r64, -1, 1);
      }
      gdl_tensor *r = gdl_tensor_new(ctx[k], t, gdl_tensor_shape(y[k]));
      gdl_tensor_copy(r, r64);
      CHECK(gdl_backward(ctx[k], gdl_sum(ctx[k], gdl_mul(ctx[k], y[k], r), GDL_AXIS_ALL, false)) == GDL_OK, "backward");
      gx[k] = x->grad;
      gw[k] = w->grad;
    }
    gdl_tensor *pairs[3][2] = {{y[0], y[1]}, {gx[0], gx[1]}, {gw[0], gw[1]}};
    const char *what[3] = {"output", "input gradient", "weight gradient"};
    for (int q = 0; q < 3; q++) {
      double err = 0, mag = 0;
      for (int64_t i = 0; i < gdl_tensor_numel(pairs[q][0]); i++) {
        double a = gdl_tensor_get(pairs[q][0], i);
        err = fmax(err, fabs(gdl_tensor_get(pairs[q][1], i) - a));
        mag = fmax(mag, fabs(a));
      }
      CHECK(mag > 0 && err <= 2e-6 * mag, "conv 3x3 shape %d: float32 %s differs from float64 by %.3g (max %.3g)", si,
            what[q], err, mag);
    }
    for (int k = 0; k < 2; k++) gdl_ctx_free(ctx[k]);
    gdl_tensor_free(x64);
    gdl_tensor_free(w64);
    gdl_tensor_free(r64);
  }
}

/* Sum and mean over axes long enough to be split into blocks (the op samples are
 * small): d/dx of sum(w * reduce(x)) is w broadcast, over n for a mean; a full
 * reduction's value equals a plain loop's. */
static void check_long_reductions(void) {
  const struct { int64_t a, b; int axis; } cases[] = {{3, 2500, 1}, {2500, 3, 0}, {70, 73, GDL_AXIS_ALL}};
  for (int c = 0; c < 3; c++)
    for (int mean = 0; mean < 2; mean++) {
      gdl_ctx *ctx = gdl_ctx_new();
      gdl_rng rng = gdl_rng_make(5 + (uint64_t)c);
      gdl_tensor *x = gdl_tensor_new(ctx, GDL_F64, GDL_SHAPE(cases[c].a, cases[c].b));
      gdl_rng_fill_uniform(&rng, x, -1, 1);
      x->requires_grad = true;
      gdl_tensor *y = (mean ? gdl_mean : gdl_sum)(ctx, x, cases[c].axis, false);
      gdl_tensor *w = gdl_tensor_new(ctx, GDL_F64, gdl_tensor_shape(y));
      gdl_rng_fill_uniform(&rng, w, -1, 1);
      CHECK(gdl_backward(ctx, gdl_sum(ctx, gdl_mul(ctx, y, w), GDL_AXIS_ALL, false)) == GDL_OK, "backward");
      int64_t n = cases[c].axis == 1 ? cases[c].b : cases[c].axis == 0 ? cases[c].a : cases[c].a * cases[c].b;
      int64_t bad = 0;
      for (int64_t i = 0; i < cases[c].a; i++)
        for (int64_t j = 0; j < cases[c].b; j++) {
          double wi = gdl_tensor_get(w, cases[c].axis == 1 ? i : cases[c].axis == 0 ? j : 0);
          bad += fabs(gdl_tensor_get(x->grad, i * cases[c].b + j) - (mean ? wi / (double)n : wi)) > 1e-15;
        }
      CHECK(bad == 0, "%s backward over axis %d of [%lld, %lld]: %lld wrong entries", mean ? "mean" : "sum",
            cases[c].axis, (long long)cases[c].a, (long long)cases[c].b, (long long)bad);
      if (cases[c].axis == GDL_AXIS_ALL) { /* the forward's blocks and lanes: every element counted once */
        double ref = 0, mag = 0;
        for (int64_t i = 0; i < n; i++) {
          ref += gdl_tensor_get(x, i);
          mag += fabs(gdl_tensor_get(x, i));
        }
        ref = mean ? ref / (double)n : ref;
        CHECK(fabs(gdl_tensor_get(y, 0) - ref) <= 1e-13 * mag, "%s of %lld elements: %.17g, expected %.17g",
              mean ? "mean" : "sum", (long long)n, gdl_tensor_get(y, 0), ref);
      }
      gdl_ctx_free(ctx);
    }
}

int main(void) {
  check_gemm();
  /* one thread, then two: some kernels take other paths by thread count (e.g. the
   * convolutions' tiles) */
  int saved = gdl_get_threads();
  for (int t = 1; t <= 2; t++) {
    gdl_set_threads(t);
    check_conv3x3();
    check_long_reductions();
    for (int op = 0; op < gdl_op_count(); op++) check_op(op);
  }
  gdl_set_threads(saved);
  return test_report();
}
