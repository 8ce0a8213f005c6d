/* Channel dropout: y[n, c, ...] = x[n, c, ...] m_nc / (1 - p), m_nc = [u(seed, n C + c) >= p]. */
#include "core/internal.h"
#include "gdl/grid.h"
#include "ops/sample.h"

static void apply(gdl_node *n, const void *src, void *dst, bool accumulate) {
  gdl_tensor *x = n->in[0];
  int64_t planes = x->shape[0] * x->shape[1], S = planes ? gdl_tensor_numel(x) / planes : 0;
  uint64_t seed = (uint64_t)n->i[0];
  double p = n->f[0];
  GDL_FLOAT_SWITCH(x->dtype, T, {
    const T *A = src;
    T *B = dst, scale = (T)(1 / (1 - p));
    GDL_PARALLEL_FOR_IF(planes * S > GDL_PAR_MIN)
    for (int64_t q = 0; q < planes; q++) {
      T m = gdl_hash_uniform(seed, (uint64_t)q) >= p ? scale : 0;
      for (int64_t k = 0; k < S; k++) B[q * S + k] = (accumulate ? B[q * S + k] : 0) + A[q * S + k] * m;
    }
  });
}

void gdl__dropout2d_fwd(gdl_node *n) { apply(n, gdl__contig(n->ctx, n->in[0]), n->out->data, false); }

void gdl__dropout2d_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *g = gdl__grad(ctx, n->in[0]);
  if (g) apply(n, n->out->grad->data, g->data, true);
}

gdl_tensor *gdl_dropout2d(gdl_ctx *ctx, gdl_tensor *x, double p, bool train) {
  GDL_CHECK_FLOAT(x, "dropout2d");
  GDL_ASSERT(x->ndim >= 2 && p >= 0 && p < 1, "dropout2d: input [N, C, ...] and p in [0, 1)");
  if (!train || p == 0) return x;
  gdl_tensor *y = gdl_tensor_new(ctx, x->dtype, gdl_tensor_shape(x));
  gdl_node *n = gdl__node(ctx, GDL_OP_DROPOUT2D, y, 1, &x);
  n->i[0] = (int64_t)gdl_rng_u64(gdl__ctx_rng(ctx));
  n->f[0] = p;
  return gdl__run(n);
}

gdl_tensor *gdl__dropout2d_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 0) return NULL;
  return gdl_dropout2d(ctx, gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3, 4, 2, 2), -1, 1), 0.4, true);
}
