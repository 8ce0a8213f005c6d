/* Matrix products through BLAS.
 * matmul: C[..., M, N] = A[..., M, K] B[..., K, N], batch axes broadcast;
 *         dA += dC B^T,  dB += A^T dC  (accumulated with beta = 1).
 * linear: y[R, O] = x[R, I] W[O, I]^T + b[O]  (PyTorch's layout);
 *         dx += dy W,  dW += dy^T x,  db += sum_r dy. */
#include "core/internal.h"
#include "ops/blas.h"
#include "ops/sample.h"

/* A matrix operand: data pointer of batch 0, transpose flag and leading dim. */
typedef struct {
  const gdl_tensor *t; /* the (possibly strided) operand */
  bool trans;
  int64_t ld;
  int64_t bstride[GDL_MAX_DIMS]; /* per output batch axis, in elements */
} operand;

/* Can BLAS read the last two axes of x in place? Row-major (NoTrans) needs unit
 * column stride, column-major (Trans) unit row stride; size-1 axes match either. */
static bool blas_layout(const gdl_tensor *x, bool *trans, int64_t *ld) {
  int nd = x->ndim;
  int64_t r = x->shape[nd - 2], c = x->shape[nd - 1], sr = x->stride[nd - 2], sc = x->stride[nd - 1];
  if ((sc == 1 || c == 1) && (r == 1 || sr >= c)) {
    *trans = false;
    *ld = r == 1 ? (c > 1 ? c : 1) : sr;
    return true;
  }
  if ((sr == 1 || r == 1) && (c == 1 || sc >= r)) {
    *trans = true;
    *ld = c == 1 ? (r > 1 ? r : 1) : sc;
    return true;
  }
  return false;
}

static operand make_operand(gdl_ctx *ctx, gdl_tensor *x, const gdl_shape *batch) {
  operand o = {.t = x};
  if (!blas_layout(x, &o.trans, &o.ld)) {
    x = gdl_tensor_contiguous(ctx, x);
    o.t = x;
    blas_layout(x, &o.trans, &o.ld);
  }
  gdl_tensor b = *x; /* batch part of x, broadcast to the output's batch shape */
  b.ndim = x->ndim - 2;
  gdl__bcast_strides(&b, *batch, o.bstride);
  return o;
}

static int64_t batch_offset(const int64_t *bstride, const gdl_shape *batch, int64_t i) {
  int64_t off = 0;
  for (int k = batch->ndim - 1; k >= 0; k--) {
    off += (i % batch->d[k]) * bstride[k];
    i /= batch->d[k];
  }
  return off;
}

static gdl_shape batch_of(const gdl_tensor *out) {
  gdl_shape s = {.ndim = out->ndim - 2};
  for (int k = 0; k < s.ndim; k++) s.d[k] = out->shape[k];
  return s;
}

#define AT(op, off) ((const char *)(op).t->data + (off) * (int64_t)es)

void gdl__matmul_fwd(gdl_node *n) {
  gdl_tensor *out = n->out;
  gdl_shape batch = batch_of(out);
  operand A = make_operand(n->ctx, n->in[0], &batch), B = make_operand(n->ctx, n->in[1], &batch);
  int nd = out->ndim;
  int64_t M = out->shape[nd - 2], N = out->shape[nd - 1], K = n->in[0]->shape[n->in[0]->ndim - 1];
  size_t es = gdl_dtype_size(out->dtype);
  int64_t nb = gdl_shape_numel(batch);
  for (int64_t i = 0; i < nb; i++)
    gdl__gemm(out->dtype, A.trans, B.trans, M, N, K, 1, AT(A, batch_offset(A.bstride, &batch, i)),
              A.ld, AT(B, batch_offset(B.bstride, &batch, i)), B.ld, 0,
              (char *)out->data + i * M * N * (int64_t)es, N);
}

void gdl__matmul_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *out = n->out, *a = n->in[0], *b = n->in[1];
  gdl_tensor *ga = gdl__grad(ctx, a), *gb = gdl__grad(ctx, b);
  gdl_shape batch = batch_of(out);
  operand A = make_operand(ctx, a, &batch), B = make_operand(ctx, b, &batch);
  int nd = out->ndim;
  int64_t M = out->shape[nd - 2], N = out->shape[nd - 1], K = a->shape[a->ndim - 1];
  size_t es = gdl_dtype_size(out->dtype);
  /* The gradients are contiguous in the operands' shapes; map batches onto them. */
  int64_t sga[GDL_MAX_DIMS], sgb[GDL_MAX_DIMS];
  if (ga) { gdl_tensor v = *ga; v.ndim = ga->ndim - 2; gdl__bcast_strides(&v, batch, sga); }
  if (gb) { gdl_tensor v = *gb; v.ndim = gb->ndim - 2; gdl__bcast_strides(&v, batch, sgb); }
  int64_t nb = gdl_shape_numel(batch);
  const char *dc = out->grad->data;
  for (int64_t i = 0; i < nb; i++) {
    const char *dci = dc + i * M * N * (int64_t)es;
    if (ga) /* dA[M,K] += dC[M,N] op(B)^T */
      gdl__gemm(out->dtype, false, !B.trans, M, K, N, 1, dci, N,
                AT(B, batch_offset(B.bstride, &batch, i)), B.ld, 1,
                (char *)ga->data + batch_offset(sga, &batch, i) * (int64_t)es, K);
    if (gb) /* dB[K,N] += op(A)^T dC[M,N] */
      gdl__gemm(out->dtype, !A.trans, false, K, N, M, 1, AT(A, batch_offset(A.bstride, &batch, i)),
                A.ld, dci, N, 1, (char *)gb->data + batch_offset(sgb, &batch, i) * (int64_t)es, N);
  }
}

gdl_tensor *gdl_matmul(gdl_ctx *ctx, gdl_tensor *a, gdl_tensor *b) {
  GDL_CHECK_FLOAT(a, "matmul");
  GDL_ASSERT(a->dtype == b->dtype, "matmul: dtypes differ");
  GDL_ASSERT(a->ndim >= 1 && b->ndim >= 1, "matmul: operands must have at least one axis");
  if (a->ndim == 1 || b->ndim == 1) { /* NumPy: promote [K] to a matrix, then drop that axis */
    gdl_tensor *a2 = a->ndim == 1 ? gdl_reshape(ctx, a, GDL_SHAPE(1, a->shape[0])) : a;
    gdl_tensor *b2 = b->ndim == 1 ? gdl_reshape(ctx, b, GDL_SHAPE(b->shape[0], 1)) : b;
    gdl_tensor *r = gdl_matmul(ctx, a2, b2);
    gdl_shape s = gdl_tensor_shape(r);
    if (b->ndim == 1) s.ndim--;                /* drop N */
    if (a->ndim == 1 && b->ndim != 1) s.d[s.ndim - 2] = s.d[s.ndim - 1]; /* drop M */
    if (a->ndim == 1) s.ndim--;
    return gdl_reshape(ctx, r, s);
  }
  int64_t M = a->shape[a->ndim - 2], K = a->shape[a->ndim - 1], N = b->shape[b->ndim - 1];
  GDL_ASSERT(b->shape[b->ndim - 2] == K, "matmul: inner sizes differ (%lld vs %lld)",
             (long long)K, (long long)b->shape[b->ndim - 2]);
  gdl_shape ba = gdl_tensor_shape(a), bb = gdl_tensor_shape(b);
  ba.ndim -= 2;
  bb.ndim -= 2;
  gdl_shape s = gdl__bcast_shape(ba, bb);
  s.d[s.ndim++] = M;
  s.d[s.ndim++] = N;
  gdl_tensor *out = gdl__tensor_empty(ctx, a->dtype, s);
  return gdl__run(gdl__node(ctx, GDL_OP_MATMUL, out, 2, (gdl_tensor *[]){a, b}));
}

gdl_tensor *gdl__matmul_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  gdl_tensor *a, *b;
  switch (v) {
    case 0:
      a = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3, 4), -1, 1);
      b = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(4, 5), -1, 1);
      return gdl_matmul(ctx, a, b);
    case 1: /* transposed operands read by BLAS in place */
      a = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(4, 3), -1, 1);
      b = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(5, 4), -1, 1);
      return gdl_matmul(ctx, gdl_transpose(ctx, a, 0, 1), gdl_transpose(ctx, b, 0, 1));
    case 2: /* batched with broadcasting */
      a = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(2, 1, 3, 4), -1, 1);
      b = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3, 4, 2), -1, 1);
      return gdl_matmul(ctx, a, b);
    case 3: /* vector operands */
      a = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(4), -1, 1);
      b = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(2, 4, 3), -1, 1);
      return gdl_matmul(ctx, a, b);
    default: return NULL;
  }
}

/* ---- linear ---------------------------------------------------------------- */

void gdl__linear_fwd(gdl_node *n) {
  gdl_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2], *out = n->out;
  int64_t In = w->shape[1], Out = w->shape[0], Rows = In ? gdl_tensor_numel(x) / In : 0;
  const void *xs = gdl__contig(n->ctx, x), *ws = gdl__contig(n->ctx, w);
  n->saved = (void *)xs;
  if (b) {
    const void *bs = gdl__contig(n->ctx, b);
    size_t es = gdl_dtype_size(out->dtype);
    for (int64_t r = 0; r < Rows; r++) memcpy((char *)out->data + r * Out * (int64_t)es, bs, (size_t)Out * es);
  }
  gdl__gemm(out->dtype, false, true, Rows, Out, In, 1, xs, In, ws, In, b ? 1 : 0, out->data, Out);
}

void gdl__linear_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2], *out = n->out;
  int64_t In = w->shape[1], Out = w->shape[0], Rows = In ? gdl_tensor_numel(x) / In : 0;
  bool fx;
  gdl_tensor *gx = gdl__grad_fresh(ctx, x, &fx), *gw = gdl__grad(ctx, w), *gb = gdl__grad(ctx, b);
  const void *dy = out->grad->data;
  if (gx) gdl__gemm(out->dtype, false, false, Rows, In, Out, 1, dy, Out, gdl__contig(ctx, w), In, fx ? 0 : 1, gx->data, In);
  if (gw) gdl__gemm(out->dtype, true, false, Out, In, Rows, 1, dy, Out, n->saved, In, 1, gw->data, In);
  if (gb) {
    GDL_FLOAT_SWITCH(out->dtype, T, {
      const T *DY = dy;
      T *DB = gb->data;
      /* blocks of 64 outputs, rows outer: contiguous loads, one accumulator per output */
      GDL_PARALLEL_FOR_IF(Rows * Out > GDL_PAR_MIN)
      for (int64_t o0 = 0; o0 < Out; o0 += 64) {
        int64_t no = Out - o0 < 64 ? Out - o0 : 64;
        T acc[64] = {0};
        for (int64_t r = 0; r < Rows; r++) {
          const T *g = DY + r * Out + o0;
          GDL_OMP(omp simd)
          for (int64_t o = 0; o < no; o++) acc[o] += g[o];
        }
        for (int64_t o = 0; o < no; o++) DB[o0 + o] += acc[o];
      }
    });
  }
}

gdl_tensor *gdl_linear(gdl_ctx *ctx, gdl_tensor *x, gdl_tensor *w, gdl_tensor *b) {
  GDL_CHECK_FLOAT(x, "linear");
  GDL_ASSERT(w->ndim == 2 && x->ndim >= 1 && x->shape[x->ndim - 1] == w->shape[1],
             "linear: input's last axis (%lld) must equal weight's in-features (%lld)",
             (long long)x->shape[x->ndim - 1], (long long)(w->ndim == 2 ? w->shape[1] : -1));
  GDL_ASSERT(x->dtype == w->dtype && (!b || b->dtype == x->dtype), "linear: dtypes differ");
  GDL_ASSERT(!b || (b->ndim == 1 && b->shape[0] == w->shape[0]), "linear: bias must be [out]");
  gdl_shape s = gdl_tensor_shape(x);
  s.d[s.ndim - 1] = w->shape[0];
  gdl_tensor *out = gdl__tensor_empty(ctx, x->dtype, s);
  return gdl__run(gdl__node(ctx, GDL_OP_LINEAR, out, 3, (gdl_tensor *[]){x, w, b}));
}

gdl_tensor *gdl__linear_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 1) return NULL;
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(2, 3, 4), -1, 1);
  gdl_tensor *w = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(5, 4), -1, 1);
  gdl_tensor *b = v ? NULL : gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(5), -1, 1);
  return gdl_linear(ctx, x, w, b);
}
