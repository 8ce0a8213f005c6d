/* Segment reductions over sorted groups of rows (readouts over a batch of graphs):
 *
 *   out[g, f] = reduce_{i in ptr[g] .. ptr[g+1]} x[i, f]   (sum, mean, max, min; 0 if empty)
 *
 * Backward: dx[i, f] += dy[g(i), f] (/ count for mean); max/min send it to the first
 * row attaining the extremum. One thread per segment: deterministic. */
#include "graph/sample.h"

void gdl__segment_fwd(gdl_node *n) {
  gdl_tensor *x = n->in[0], *ptr = n->in[1], *out = n->out;
  gdl_reduce red = (gdl_reduce)n->i[0];
  int64_t F = n->i[1], G = ptr->shape[0] - 1;
  const int64_t *P = ptr->data;
  int64_t *arg = n->saved;
  const void *xs = gdl__contig(n->ctx, x);
  GDL_FLOAT_SWITCH(out->dtype, T, {
    const T *X = xs;
    T *Y = out->data;
    GDL_PARALLEL_FOR_IF(gdl_tensor_numel(x) > GDL_PAR_MIN)
    for (int64_t g = 0; g < G; g++) {
      T *y = Y + g * F;
      int64_t *a = arg ? arg + g * F : NULL;
      for (int64_t f = 0; f < F; f++) {
        y[f] = 0;
        if (a) a[f] = -1;
      }
      for (int64_t i = P[g]; i < P[g + 1]; i++)
        for (int64_t f = 0; f < F; f++) {
          T v = X[i * F + f];
          if (!a) y[f] += v;
          else if (a[f] < 0 || (red == GDL_REDUCE_MAX ? v > y[f] : v < y[f])) y[f] = v, a[f] = i;
        }
      if (red == GDL_REDUCE_MEAN && P[g + 1] > P[g])
        for (int64_t f = 0; f < F; f++) y[f] /= (T)(P[g + 1] - P[g]);
    }
  });
}

void gdl__segment_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *gx = gdl__grad(ctx, n->in[0]), *ptr = n->in[1];
  if (!gx) return;
  gdl_reduce red = (gdl_reduce)n->i[0];
  int64_t F = n->i[1], G = ptr->shape[0] - 1;
  const int64_t *P = ptr->data, *arg = n->saved;
  GDL_FLOAT_SWITCH(gx->dtype, T, {
    const T *DY = n->out->grad->data;
    T *DX = gx->data;
    GDL_PARALLEL_FOR_IF(gdl_tensor_numel(gx) > GDL_PAR_MIN)
    for (int64_t g = 0; g < G; g++) {
      T s = red == GDL_REDUCE_MEAN && P[g + 1] > P[g] ? (T)1 / (T)(P[g + 1] - P[g]) : (T)1;
      for (int64_t f = 0; f < F; f++) {
        if (arg) {
          if (arg[g * F + f] >= 0) DX[arg[g * F + f] * F + f] += DY[g * F + f];
          continue;
        }
        for (int64_t i = P[g]; i < P[g + 1]; i++) DX[i * F + f] += s * DY[g * F + f];
      }
    }
  });
}

gdl_tensor *gdl_segment(gdl_ctx *ctx, gdl_tensor *x, const gdl_tensor *ptr, gdl_reduce reduce) {
  GDL_CHECK_FLOAT(x, "segment");
  GDL_ASSERT(ptr->dtype == GDL_I64 && ptr->ndim == 1 && ptr->shape[0] >= 1 && gdl_tensor_is_contiguous(ptr),
             "segment: ptr must be a contiguous int64 [G + 1]");
  const int64_t *P = ptr->data;
  int64_t G = ptr->shape[0] - 1;
  GDL_ASSERT(x->ndim >= 1 && P[0] == 0 && P[G] == x->shape[0], "segment: ptr must run from 0 to x's rows");
  for (int64_t g = 0; g < G; g++) GDL_ASSERT(P[g] <= P[g + 1], "segment: ptr must be non-decreasing");
  int64_t F = 1;
  for (int k = 1; k < x->ndim; k++) F *= x->shape[k];
  gdl_shape s = gdl_tensor_shape(x);
  s.d[0] = G;
  gdl_tensor *out = gdl_tensor_new(ctx, x->dtype, s);
  gdl_node *n = gdl__node(ctx, GDL_OP_SEGMENT, out, 2, (gdl_tensor *[]){x, (gdl_tensor *)ptr});
  n->i[0] = reduce;
  n->i[1] = F;
  if (reduce == GDL_REDUCE_MAX || reduce == GDL_REDUCE_MIN)
    n->saved = gdl_ctx_alloc(ctx, (size_t)(G * F + 1) * sizeof(int64_t));
  return gdl__run(n);
}

gdl_tensor *gdl_global_pool(gdl_ctx *ctx, const gdl_graph *g, gdl_tensor *x, gdl_reduce reduce) {
  return gdl_segment(ctx, x, gdl__graph_ptr(g), reduce);
}

gdl_tensor *gdl__segment_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 3) return NULL;
  gdl_tensor *ptr = gdl_tensor_new(ctx, GDL_I64, GDL_SHAPE(5));
  int64_t *P = ptr->data;
  P[0] = 0, P[1] = 3, P[2] = 3, P[3] = 7, P[4] = 9; /* an empty segment */
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(9, 2), -1, 1);
  return gdl_segment(ctx, x, ptr, (gdl_reduce)v);
}
