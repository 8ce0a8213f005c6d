/* Dropout fused with a linear map, for sparse node features (bag-of-words inputs of
 * Cora, CiteSeer: ~1% non-zeros):
 *
 *   y = (x ⊙ m / (1 - p)) W^T + b,    m[i, j] = [hash(seed, i F + j) >= p]
 *
 * m is exactly gdl_dropout's mask (same seed draw, same hash), so the fused op gives
 * the result of [dropout] followed by a linear map, but draws and multiplies only at
 * the non-zeros of x: O(nnz O) instead of O(N F O), and no [N, F] temporary.
 * Forward keeps the surviving entries as a CSR by row (one thread per row); backward
 *   dW[o, j] += sum_i dy[i, o] x~[i, j]   (entries regrouped by column: one thread per j)
 *   db[o]    += sum_i dy[i, o]
 *   dx[i, j] += m[i, j] / (1 - p) sum_o dy[i, o] W[o, j]   (dense, only when x needs it) */
#include <stdio.h>
#include <stdlib.h>

#include "graph/sample.h"

typedef struct {
  int64_t *ptr, *col; /* surviving non-zeros of x by row */
  double *val;        /* x[i, j] / (1 - p) */
} sparse_rows;

/* The non-zeros of a constant input (node features), found once: n->aux. */
typedef struct {
  int64_t *ptr, *col;
} nz_rows;

static inline bool keep(uint64_t seed, double p, int64_t i) {
  return p <= 0 || gdl_hash_uniform(seed, (uint64_t)i) >= p;
}

void gdl__dropout_linear_fwd(gdl_node *n) {
  gdl_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2], *out = n->out;
  uint64_t seed = (uint64_t)n->i[0];
  double p = n->f[0], scale = p < 1 ? 1 / (1 - p) : 0;
  int64_t N = x->shape[0], F = x->shape[1], O = w->shape[0];
  sparse_rows *s = n->saved;
  const void *xs = gdl__contig(n->ctx, x), *ws = gdl__contig(n->ctx, w), *bs = b ? gdl__contig(n->ctx, b) : NULL;
  GDL_FLOAT_SWITCH(x->dtype, T, {
    const T *X = xs, *W = ws, *Bv = bs;
    T *Y = out->data;
    T *Wt = gdl_ctx_alloc(n->ctx, (size_t)(F * O + 1) * sizeof(T)); /* W^T: rows of input features */
    for (int64_t o = 0; o < O; o++)
      for (int64_t j = 0; j < F; j++) Wt[j * O + o] = W[o * F + j];
    const nz_rows *nz = n->aux;
    s->ptr[0] = 0;
    GDL_PARALLEL_FOR_IF(N * F > GDL_PAR_MIN)
    for (int64_t i = 0; i < N; i++) {
      int64_t c = 0;
      if (nz) {
        for (int64_t q = nz->ptr[i]; q < nz->ptr[i + 1]; q++) c += keep(seed, p, i * F + nz->col[q]);
      } else {
        for (int64_t j = 0; j < F; j++) c += X[i * F + j] != 0 && keep(seed, p, i * F + j);
      }
      s->ptr[i + 1] = c;
    }
    for (int64_t i = 0; i < N; i++) s->ptr[i + 1] += s->ptr[i];
    s->col = gdl_ctx_alloc(n->ctx, (size_t)(s->ptr[N] + 1) * sizeof(int64_t));
    s->val = gdl_ctx_alloc(n->ctx, (size_t)(s->ptr[N] + 1) * sizeof(double));
    GDL_PARALLEL_FOR_IF(N * F > GDL_PAR_MIN)
    for (int64_t i = 0; i < N; i++) {
      int64_t q = s->ptr[i];
      T *y = Y + i * O;
      for (int64_t o = 0; o < O; o++) y[o] = Bv ? Bv[o] : 0;
      int64_t q0 = nz ? nz->ptr[i] : 0, q1 = nz ? nz->ptr[i + 1] : F;
      for (int64_t t = q0; t < q1; t++) {
        int64_t j = nz ? nz->col[t] : t;
        T v = X[i * F + j];
        if (v == 0 || !keep(seed, p, i * F + j)) continue;
        T sv = (T)(v * scale);
        s->col[q] = j;
        s->val[q++] = sv;
        const T *wr = Wt + j * O;
        for (int64_t o = 0; o < O; o++) y[o] += sv * wr[o];
      }
    }
  });
}

void gdl__dropout_linear_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2];
  gdl_tensor *gx = gdl__grad(ctx, x), *gw = gdl__grad(ctx, w), *gb = gdl__grad(ctx, b);
  uint64_t seed = (uint64_t)n->i[0];
  double p = n->f[0], scale = p < 1 ? 1 / (1 - p) : 0;
  int64_t N = x->shape[0], F = x->shape[1], O = w->shape[0];
  sparse_rows *s = n->saved;
  int64_t nnz = s->ptr[N];
  GDL_FLOAT_SWITCH(x->dtype, T, {
    const T *DY = n->out->grad->data;
    if (gb) {
      T *DB = gb->data;
      for (int64_t i = 0; i < N; i++)
        for (int64_t o = 0; o < O; o++) DB[o] += DY[i * O + o];
    }
    if (gw) { /* entries by column */
      int64_t *cp = gdl_ctx_alloc(ctx, (size_t)(F + 2) * sizeof(int64_t));
      int64_t *row = gdl_ctx_alloc(ctx, (size_t)(nnz + 1) * sizeof(int64_t));
      int64_t *ent = gdl_ctx_alloc(ctx, (size_t)(nnz + 1) * sizeof(int64_t));
      for (int64_t q = 0; q < nnz; q++) cp[s->col[q] + 2]++;
      for (int64_t j = 0; j < F; j++) cp[j + 2] += cp[j + 1];
      for (int64_t i = 0; i < N; i++)
        for (int64_t q = s->ptr[i]; q < s->ptr[i + 1]; q++) {
          int64_t k = cp[s->col[q] + 1]++;
          row[k] = i;
          ent[k] = q;
        }
      T *DW = gw->data;
      GDL_PARALLEL_FOR_IF(nnz * O > GDL_PAR_MIN)
      for (int64_t j = 0; j < F; j++)
        for (int64_t k = cp[j]; k < cp[j + 1]; k++) {
          T v = (T)s->val[ent[k]];
          const T *dy = DY + row[k] * O;
          for (int64_t o = 0; o < O; o++) DW[o * F + j] += v * dy[o];
        }
    }
    if (gx) {
      const T *W = gdl__contig(ctx, w);
      T *DX = gx->data;
      GDL_PARALLEL_FOR_IF(N * F * O > GDL_PAR_MIN)
      for (int64_t i = 0; i < N; i++)
        for (int64_t j = 0; j < F; j++) {
          if (!keep(seed, p, i * F + j)) continue;
          T acc = 0;
          for (int64_t o = 0; o < O; o++) acc += DY[i * O + o] * W[o * F + j];
          DX[i * F + j] += (T)scale * acc;
        }
    }
  });
}

gdl_tensor *gdl_dropout_linear(gdl_ctx *ctx, gdl_tensor *x, double p, bool train, gdl_tensor *w, gdl_tensor *b) {
  return gdl__dropout_linear(ctx, x, p, train, w, b, NULL);
}

static void free_nz(void *p) {
  nz_rows *z = p;
  free(z->ptr);
  free(z->col);
  free(z);
}

/* The non-zero structure of g's features in dtype t (the tensor the training loops
 * pass as x), cached on g; NULL when x is something else. */
const void *gdl__feature_nonzeros(const gdl_graph *g, const gdl_tensor *x) {
  char key[48];
  snprintf(key, sizeof key, "x.%d", (int)x->dtype);
  if (!g || !g->x || (x != g->x && x != gdl__cache_get(g, key)) || x->ndim != 2 || !gdl_tensor_is_contiguous(x))
    return NULL;
  nz_rows *z = gdl__cache_get(g, "x.nonzeros");
  if (z) return z;
  int64_t N = x->shape[0], F = x->shape[1], c = 0;
  z = calloc(1, sizeof *z);
  z->ptr = malloc((size_t)(N + 1) * sizeof(int64_t));
  for (int64_t i = 0; i < N * F; i++) c += gdl_tensor_get(x, i) != 0;
  z->col = malloc((size_t)(c + 1) * sizeof(int64_t));
  z->ptr[0] = 0;
  c = 0;
  for (int64_t i = 0; i < N; i++) {
    for (int64_t j = 0; j < F; j++)
      if (gdl_tensor_get(x, i * F + j) != 0) z->col[c++] = j;
    z->ptr[i + 1] = c;
  }
  if (g->arena) { /* views never hold features; keep it simple */
    free_nz(z);
    return NULL;
  }
  gdl__cache_put(g, "x.nonzeros", z, free_nz);
  return z;
}

gdl_tensor *gdl__dropout_linear(gdl_ctx *ctx, gdl_tensor *x, double p, bool train, gdl_tensor *w, gdl_tensor *b,
                                const void *nz) {
  GDL_CHECK_FLOAT(x, "dropout_linear");
  GDL_ASSERT(x->ndim == 2 && w->ndim == 2 && w->shape[1] == x->shape[1] && w->dtype == x->dtype &&
                 (!b || (b->ndim == 1 && b->shape[0] == w->shape[0])),
             "dropout_linear: x [N, F], weight [O, F], bias [O]");
  GDL_ASSERT(p >= 0 && p < 1, "dropout_linear: p must be in [0, 1)");
  if (!train) p = 0;
  int64_t N = x->shape[0];
  gdl_tensor *out = gdl_tensor_new(ctx, x->dtype, GDL_SHAPE(N, w->shape[0]));
  gdl_node *n = gdl__node(ctx, GDL_OP_DROPOUT_LINEAR, out, 3, (gdl_tensor *[]){x, w, b});
  n->i[0] = p > 0 ? (int64_t)gdl_rng_u64(gdl__ctx_rng(ctx)) : 0; /* the draw gdl_dropout makes */
  n->f[0] = p;
  n->aux = (void *)nz;
  sparse_rows *s = gdl_ctx_alloc(ctx, sizeof *s);
  s->ptr = gdl_ctx_alloc(ctx, (size_t)(N + 1) * sizeof(int64_t));
  n->saved = s;
  return gdl__run(n);
}

gdl_tensor *gdl__dropout_linear_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 1) return NULL;
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(5, 7), -1, 1);
  for (int64_t i = 0; i < 35; i += 3) gdl_tensor_set(x, i, 0); /* sparse input */
  x->requires_grad = v == 1;
  gdl_tensor *w = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(4, 7), -1, 1);
  gdl_tensor *b = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(4), -1, 1);
  return gdl_dropout_linear(ctx, x, 0.3, true, w, b);
}
