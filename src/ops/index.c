/* Indexing along an axis; x is viewed as [outer, n, inner] around it.
 * index_select: y[o, k, j] = x[o, idx[k], j];            dx[o, idx[k], j] += dy[o, k, j]
 * gather:       y[o, k, j] = x[o, idx[o, k, j], j];       dx likewise
 * scatter:      y[o, d, j] = reduce_{s: idx[s] = d} x[o, s, j]
 * Backward passes and scatter group work by destination, so every output element
 * is written by one thread in a fixed order: no atomics, thread-count independent. */
#include "core/internal.h"
#include "ops/sample.h"

static void check_index(const gdl_tensor *idx, int64_t n, const char *op) {
  GDL_ASSERT(idx->dtype == GDL_I64 || idx->dtype == GDL_I32, "%s: index must be int32 or int64", op);
  GDL_ASSERT(gdl_tensor_is_contiguous(idx), "%s: index must be contiguous", op);
  int64_t m = gdl_tensor_numel(idx);
  for (int64_t i = 0; i < m; i++) {
    int64_t v = gdl__index_at(idx, i);
    GDL_ASSERT(v >= 0 && v < n, "%s: index %lld out of range [0, %lld)", op, (long long)v, (long long)n);
  }
}

/* ---- index_select ------------------------------------------------------- */

void gdl__index_select_fwd(gdl_node *n) {
  gdl_tensor *x = n->in[0], *idx = n->in[1], *out = n->out;
  int64_t outer, len, inner, K = gdl_tensor_numel(idx);
  gdl__split_axis(x, (int)n->i[0], &outer, &len, &inner);
  const char *X = gdl__contig(n->ctx, x);
  size_t row = (size_t)inner * gdl_dtype_size(x->dtype);
  GDL_PARALLEL_FOR_IF(outer * K * inner > GDL_PAR_MIN)
  for (int64_t r = 0; r < outer * K; r++) {
    int64_t o = r / K, k = r % K;
    memcpy((char *)out->data + (size_t)r * row, X + (size_t)(o * len + gdl__index_at(idx, k)) * row, row);
  }
}

void gdl__index_select_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *x = n->in[0], *idx = n->in[1], *g = gdl__grad(ctx, x);
  if (!g) return;
  int64_t outer, len, inner, K = gdl_tensor_numel(idx);
  gdl__split_axis(x, (int)n->i[0], &outer, &len, &inner);
  /* Threads own (outer row, column block) pairs and walk k in order. */
  int64_t cb = 64, nblk = (inner + cb - 1) / cb;
  GDL_FLOAT_SWITCH(x->dtype, T, {
    const T *DY = n->out->grad->data;
    T *DX = g->data;
    GDL_PARALLEL_FOR_IF(outer * K * inner > GDL_PAR_MIN)
    for (int64_t t = 0; t < outer * nblk; t++) {
      int64_t o = t / nblk, j0 = (t % nblk) * cb, j1 = j0 + cb < inner ? j0 + cb : inner;
      for (int64_t k = 0; k < K; k++) {
        T *dx = DX + (o * len + gdl__index_at(idx, k)) * inner;
        const T *dy = DY + (o * K + k) * inner;
        for (int64_t j = j0; j < j1; j++) dx[j] += dy[j];
      }
    }
  });
}

gdl_tensor *gdl_index_select(gdl_ctx *ctx, gdl_tensor *x, int axis, gdl_tensor *index) {
  axis = gdl__axis(axis, x->ndim);
  GDL_ASSERT(index->ndim == 1, "index_select: index must be 1-d");
  check_index(index, x->shape[axis], "index_select");
  gdl_shape s = gdl_tensor_shape(x);
  s.d[axis] = index->shape[0];
  gdl_tensor *out = gdl__tensor_empty(ctx, x->dtype, s);
  gdl_node *n = gdl__node(ctx, GDL_OP_INDEX_SELECT, out, 2, (gdl_tensor *[]){x, index});
  n->i[0] = axis;
  return gdl__run(n);
}

gdl_tensor *gdl_embedding(gdl_ctx *ctx, gdl_tensor *index, gdl_tensor *weight) {
  GDL_ASSERT(weight->ndim == 2, "embedding: weight must be [num, dim]");
  int64_t m = gdl_tensor_numel(index);
  gdl_tensor *flat = gdl_tensor_wrap(ctx, index->dtype, GDL_SHAPE(m), gdl__contig(ctx, index));
  gdl_shape s = gdl_tensor_shape(index);
  GDL_ASSERT(s.ndim < GDL_MAX_DIMS, "embedding: index has too many axes");
  s.d[s.ndim++] = weight->shape[1];
  return gdl_reshape(ctx, gdl_index_select(ctx, weight, 0, flat), s);
}

gdl_tensor *gdl__index_select_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(4, 5, 3), -1, 1);
  switch (v) {
    case 0: return gdl_index_select(ctx, x, 1, gdl__sample_index(ctx, rng, GDL_SHAPE(7), 5));
    case 1: return gdl_index_select(ctx, x, 0, gdl__sample_index(ctx, rng, GDL_SHAPE(6), 4));
    case 2: {
      gdl_tensor *w = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(6, 3), -1, 1);
      return gdl_embedding(ctx, gdl__sample_index(ctx, rng, GDL_SHAPE(2, 4), 6), w);
    }
    default: return NULL;
  }
}

/* ---- gather ---------------------------------------------------------------- */

void gdl__gather_fwd(gdl_node *n) {
  gdl_tensor *x = n->in[0], *idx = n->in[1], *out = n->out;
  int64_t outer, len, inner, K = idx->shape[n->i[0]];
  gdl__split_axis(x, (int)n->i[0], &outer, &len, &inner);
  const void *xs = gdl__contig(n->ctx, x);
  GDL_FLOAT_SWITCH(x->dtype, T, {
    const T *X = xs;
    T *Y = out->data;
    GDL_PARALLEL_FOR_IF(outer * K * inner > GDL_PAR_MIN)
    for (int64_t o = 0; o < outer; o++)
      for (int64_t k = 0; k < K; k++)
        for (int64_t j = 0; j < inner; j++) {
          int64_t p = (o * K + k) * inner + j;
          Y[p] = X[(o * len + gdl__index_at(idx, p)) * inner + j];
        }
  });
}

void gdl__gather_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *x = n->in[0], *idx = n->in[1], *g = gdl__grad(ctx, x);
  if (!g) return;
  int64_t outer, len, inner, K = idx->shape[n->i[0]];
  gdl__split_axis(x, (int)n->i[0], &outer, &len, &inner);
  GDL_FLOAT_SWITCH(x->dtype, T, {
    const T *DY = n->out->grad->data;
    T *DX = g->data;
    GDL_PARALLEL_FOR_IF(outer * K * inner > GDL_PAR_MIN)
    for (int64_t o = 0; o < outer; o++) /* rows o of dx are disjoint */
      for (int64_t k = 0; k < K; k++)
        for (int64_t j = 0; j < inner; j++) {
          int64_t p = (o * K + k) * inner + j;
          DX[(o * len + gdl__index_at(idx, p)) * inner + j] += DY[p];
        }
  });
}

gdl_tensor *gdl_gather(gdl_ctx *ctx, gdl_tensor *x, int axis, gdl_tensor *index) {
  axis = gdl__axis(axis, x->ndim);
  GDL_ASSERT(index->ndim == x->ndim, "gather: index must have x's number of axes");
  for (int k = 0; k < x->ndim; k++)
    GDL_ASSERT(k == axis || index->shape[k] == x->shape[k], "gather: index differs from x on axis %d", k);
  check_index(index, x->shape[axis], "gather");
  gdl_tensor *out = gdl_tensor_new(ctx, x->dtype, gdl_tensor_shape(index));
  gdl_node *n = gdl__node(ctx, GDL_OP_GATHER, out, 2, (gdl_tensor *[]){x, index});
  n->i[0] = axis;
  return gdl__run(n);
}

gdl_tensor *gdl__gather_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 1) return NULL;
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3, 5, 2), -1, 1);
  return v ? gdl_gather(ctx, x, 0, gdl__sample_index(ctx, rng, GDL_SHAPE(4, 5, 2), 3))
           : gdl_gather(ctx, x, 1, gdl__sample_index(ctx, rng, GDL_SHAPE(3, 4, 2), 5));
}

/* ---- scatter --------------------------------------------------------------- */

typedef struct {
  int64_t *start; /* [dim_size + 1]: sources of destination d are src[start[d] .. start[d+1]) */
  int64_t *src;   /* source rows grouped by destination, ascending within a group */
  int64_t *arg;   /* max/min: winning source row per output element, -1 if none */
} scatter_plan;

static scatter_plan *scatter_plan_make(gdl_ctx *ctx, const gdl_tensor *idx, int64_t dim_size,
                                       int64_t nout, bool arg) {
  scatter_plan *p = gdl_ctx_alloc(ctx, sizeof *p);
  int64_t m = gdl_tensor_numel(idx);
  p->start = gdl_ctx_alloc(ctx, (size_t)(dim_size + 1) * sizeof(int64_t));
  p->src = gdl_ctx_alloc(ctx, (size_t)(m ? m : 1) * sizeof(int64_t));
  for (int64_t s = 0; s < m; s++) p->start[gdl__index_at(idx, s) + 1]++;
  for (int64_t d = 0; d < dim_size; d++) p->start[d + 1] += p->start[d];
  int64_t *fill = gdl_ctx_alloc(ctx, (size_t)(dim_size ? dim_size : 1) * sizeof(int64_t));
  for (int64_t s = 0; s < m; s++) {
    int64_t d = gdl__index_at(idx, s);
    p->src[p->start[d] + fill[d]++] = s;
  }
  if (arg) p->arg = gdl_ctx_alloc(ctx, (size_t)nout * sizeof(int64_t));
  return p;
}

void gdl__scatter_fwd(gdl_node *n) {
  gdl_tensor *x = n->in[0], *out = n->out;
  scatter_plan *p = n->saved;
  gdl_reduce red = (gdl_reduce)n->i[1];
  int64_t outer, len, inner, D = n->i[2];
  gdl__split_axis(x, (int)n->i[0], &outer, &len, &inner);
  const void *xs = gdl__contig(n->ctx, x);
  GDL_FLOAT_SWITCH(x->dtype, T, {
    const T *X = xs;
    T *Y = out->data;
    GDL_PARALLEL_FOR_IF(outer * len * inner > GDL_PAR_MIN)
    for (int64_t r = 0; r < outer * D; r++) {
      int64_t o = r / D, d = r % D, b = p->start[d], e = p->start[d + 1];
      T *y = Y + r * inner;
      int64_t *a = p->arg ? p->arg + r * inner : NULL;
      for (int64_t j = 0; j < inner; j++) {
        y[j] = 0;
        if (a) a[j] = -1;
      }
      for (int64_t q = b; q < e; q++) {
        const T *xr = X + (o * len + p->src[q]) * inner;
        for (int64_t j = 0; j < inner; j++) {
          if (!a) {
            y[j] += xr[j];
          } else if (a[j] < 0 || (red == GDL_REDUCE_MAX ? xr[j] > y[j] : xr[j] < y[j])) {
            y[j] = xr[j];
            a[j] = p->src[q];
          }
        }
      }
      if (red == GDL_REDUCE_MEAN && e > b)
        for (int64_t j = 0; j < inner; j++) y[j] /= (T)(e - b);
    }
  });
}

void gdl__scatter_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *x = n->in[0], *idx = n->in[1], *g = gdl__grad(ctx, x);
  if (!g) return;
  scatter_plan *p = n->saved;
  gdl_reduce red = (gdl_reduce)n->i[1];
  int64_t outer, len, inner, D = n->i[2];
  gdl__split_axis(x, (int)n->i[0], &outer, &len, &inner);
  GDL_FLOAT_SWITCH(x->dtype, T, {
    const T *DY = n->out->grad->data;
    T *DX = g->data;
    if (p->arg) { /* each source wins at most once per column: disjoint writes */
      GDL_PARALLEL_FOR_IF(outer * len * inner > GDL_PAR_MIN)
      for (int64_t r = 0; r < outer * D; r++) {
        int64_t o = r / D;
        for (int64_t j = 0; j < inner; j++) {
          int64_t s = p->arg[r * inner + j];
          if (s >= 0) DX[(o * len + s) * inner + j] += DY[r * inner + j];
        }
      }
    } else { /* each source row reads its destination's gradient */
      GDL_PARALLEL_FOR_IF(outer * len * inner > GDL_PAR_MIN)
      for (int64_t r = 0; r < outer * len; r++) {
        int64_t o = r / len, s = r % len, d = gdl__index_at(idx, s);
        T scale = red == GDL_REDUCE_MEAN ? (T)1 / (T)(p->start[d + 1] - p->start[d]) : (T)1;
        const T *dy = DY + (o * D + d) * inner;
        for (int64_t j = 0; j < inner; j++) DX[r * inner + j] += dy[j] * scale;
      }
    }
  });
}

gdl_tensor *gdl_scatter(gdl_ctx *ctx, gdl_tensor *src, int axis, gdl_tensor *index,
                        int64_t dim_size, gdl_reduce reduce) {
  GDL_CHECK_FLOAT(src, "scatter");
  axis = gdl__axis(axis, src->ndim);
  GDL_ASSERT(index->ndim == 1 && index->shape[0] == src->shape[axis],
             "scatter: index must be 1-d with src's size on the axis");
  GDL_ASSERT(dim_size >= 0, "scatter: negative dim_size");
  check_index(index, dim_size, "scatter");
  gdl_shape s = gdl_tensor_shape(src);
  s.d[axis] = dim_size;
  gdl_tensor *out = gdl_tensor_new(ctx, src->dtype, s);
  gdl_node *n = gdl__node(ctx, GDL_OP_SCATTER, out, 2, (gdl_tensor *[]){src, index});
  n->i[0] = axis;
  n->i[1] = reduce;
  n->i[2] = dim_size;
  n->saved = scatter_plan_make(ctx, index, dim_size, gdl_tensor_numel(out),
                               reduce == GDL_REDUCE_MAX || reduce == GDL_REDUCE_MIN);
  return gdl__run(n);
}

gdl_tensor *gdl__scatter_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 5) return NULL;
  static const gdl_reduce reds[] = {GDL_REDUCE_SUM, GDL_REDUCE_MEAN, GDL_REDUCE_MAX, GDL_REDUCE_MIN};
  /* 9 sources into 6 destinations: some empty, some shared. */
  gdl_tensor *idx = gdl__sample_index(ctx, rng, GDL_SHAPE(9), 6);
  if (v < 4) {
    gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(9, 3), -1, 1);
    return gdl_scatter(ctx, x, 0, idx, 6, reds[v]);
  }
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(2, 9, 3), -1, 1);
  return gdl_scatter(ctx, x, 1, idx, 6, reds[v - 4]);
}
