/* Walks the whole op table. For every op and sample variant, in float64:
 * the backward pass equals central differences of L = sum(w * out) with respect
 * to every leaf; and the float32 forward/backward equal the float64 ones. */
#include "core/internal.h"
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

int main(void) {
  for (int op = 0; op < gdl_op_count(); op++) check_op(op);
  return test_report();
}
