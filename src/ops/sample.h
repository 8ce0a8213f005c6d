/* Helpers for the op table's sample-input generators (used by the gradient check). */
#ifndef GDL_OPS_SAMPLE_H
#define GDL_OPS_SAMPLE_H

#include "core/internal.h"

/* An arena leaf that requires grad, uniform in [lo, hi). */
static inline gdl_tensor *gdl__sample_leaf(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, gdl_shape s,
                                           double lo, double hi) {
  gdl_tensor *x = gdl_tensor_new(ctx, t, s);
  gdl_rng_fill_uniform(rng, x, lo, hi);
  x->requires_grad = true;
  return x;
}

/* An arena int64 tensor with entries uniform in [0, n). */
static inline gdl_tensor *gdl__sample_index(gdl_ctx *ctx, gdl_rng *rng, gdl_shape s, int64_t n) {
  gdl_tensor *x = gdl_tensor_new(ctx, GDL_I64, s);
  int64_t *p = x->data;
  for (int64_t i = 0; i < gdl_shape_numel(s); i++) p[i] = (int64_t)gdl_rng_below(rng, (uint64_t)n);
  return x;
}

#endif
