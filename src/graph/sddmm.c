/* Generalised sampled dense-dense matrix product (gSDDMM), DGL's apply_edges:
 * for every edge e = (u -> v), with a, b [N, F]:
 *
 *   add: out[e, f] = a[u, f] + b[v, f]     sub: a[u, f] - b[v, f]     mul: a[u, f] b[v, f]
 *   dot: out[e, h] = sum_c a[u, h, c] b[v, h, c]   (F = H C)
 *   copy_u: out[e, f] = a[u, f]             copy_v: out[e, f] = b[v, f]
 *
 * Forward: one thread per edge row. Backward, deterministic without atomics:
 *   da[u] += sum_{e = (u -> v)} dout[e] * d(op)/da     (CSR by source)
 *   db[v] += sum_{e = (u -> v)} dout[e] * d(op)/db     (CSR by destination)
 * with d/da = 1, 1, b[v], b[v, h, :] and d/db = 1, -1, a[u], a[u, h, :]. */
#include "graph/sample.h"

#define GRAPH_PAR_FOR(cond) GDL_OMP(omp parallel for schedule(dynamic, 16) if (cond))

void gdl__gsddmm_fwd(gdl_node *n) {
  const gdl_graph *g = n->aux;
  gdl_tensor *a = n->in[0], *b = n->in[1], *out = n->out;
  gdl_sddmm_op op = (gdl_sddmm_op)n->i[0];
  int64_t F = n->i[1], H = n->i[2], C = F / H, E = g->num_edges;
  const int64_t *src = gdl_graph_src(g), *dst = gdl_graph_dst(g);
  const void *as = a ? gdl__contig(n->ctx, a) : NULL, *bs = b ? gdl__contig(n->ctx, b) : NULL;
  GDL_FLOAT_SWITCH(out->dtype, T, {
    const T *restrict A = as, *restrict Bv = bs;
    T *restrict Y = out->data;
    GDL_PARALLEL_FOR_IF(E * F > GDL_PAR_MIN)
    for (int64_t e = 0; e < E; e++) {
      const T *ar = A ? A + src[e] * F : NULL, *br = Bv ? Bv + dst[e] * F : NULL;
      switch (op) {
        case GDL_SDDMM_ADD: for (int64_t f = 0; f < F; f++) Y[e * F + f] = ar[f] + br[f]; break;
        case GDL_SDDMM_SUB: for (int64_t f = 0; f < F; f++) Y[e * F + f] = ar[f] - br[f]; break;
        case GDL_SDDMM_MUL: for (int64_t f = 0; f < F; f++) Y[e * F + f] = ar[f] * br[f]; break;
        case GDL_SDDMM_COPY_U: memcpy(Y + e * F, ar, (size_t)F * sizeof(T)); break;
        case GDL_SDDMM_COPY_V: memcpy(Y + e * F, br, (size_t)F * sizeof(T)); break;
        case GDL_SDDMM_DOT:
          for (int64_t h = 0; h < H; h++) {
            T s = 0;
            for (int64_t c = h * C; c < (h + 1) * C; c++) s += ar[c] * br[c];
            Y[e * H + h] = s;
          }
          break;
      }
    }
  });
}

/* The gradient of one side: side 0 = a (grouped by source), 1 = b (by destination). */
#define SDDMM_SIDE(T, side, G, OTHER, csr)                                                  \
  do {                                                                                      \
    T *restrict D = (G)->data;                                                              \
    GRAPH_PAR_FOR(E * F > GDL_PAR_MIN)                                                      \
    for (int64_t w = 0; w < g->num_nodes; w++) {                                            \
      T *restrict d = D + w * F;                                                            \
      for (int64_t q = (csr)->ptr[w]; q < (csr)->ptr[w + 1]; q++) {                         \
        int64_t o = (csr)->nbr[q], e = (csr)->eid[q];                                       \
        const T *restrict o_r = OTHER ? OTHER + o * F : NULL;                               \
        switch (op) {                                                                       \
          case GDL_SDDMM_ADD: case GDL_SDDMM_COPY_U: case GDL_SDDMM_COPY_V:                 \
            for (int64_t f = 0; f < F; f++) d[f] += DY[e * F + f];                          \
            break;                                                                          \
          case GDL_SDDMM_SUB:                                                               \
            for (int64_t f = 0; f < F; f++) d[f] += (side ? -1 : 1) * DY[e * F + f];        \
            break;                                                                          \
          case GDL_SDDMM_MUL:                                                               \
            for (int64_t f = 0; f < F; f++) d[f] += DY[e * F + f] * o_r[f];                 \
            break;                                                                          \
          case GDL_SDDMM_DOT:                                                               \
            for (int64_t h = 0; h < H; h++)                                                 \
              for (int64_t c = h * C; c < (h + 1) * C; c++) d[c] += DY[e * H + h] * o_r[c]; \
            break;                                                                          \
        }                                                                                   \
      }                                                                                     \
    }                                                                                       \
  } while (0)

void gdl__gsddmm_bwd(gdl_ctx *ctx, gdl_node *n) {
  const gdl_graph *g = n->aux;
  gdl_tensor *a = n->in[0], *b = n->in[1];
  gdl_tensor *ga = gdl__grad(ctx, a), *gb = gdl__grad(ctx, b);
  gdl_sddmm_op op = (gdl_sddmm_op)n->i[0];
  int64_t F = n->i[1], H = n->i[2], C = F / H, E = g->num_edges;
  const void *as = a ? gdl__contig(ctx, a) : NULL, *bs = b ? gdl__contig(ctx, b) : NULL;
  GDL_FLOAT_SWITCH(n->out->dtype, T, {
    const T *restrict DY = n->out->grad->data, *A = as, *Bv = bs;
    if (ga && op != GDL_SDDMM_COPY_V) SDDMM_SIDE(T, 0, ga, Bv, gdl__csr_out(g));
    if (gb && op != GDL_SDDMM_COPY_U) SDDMM_SIDE(T, 1, gb, A, gdl__csr_in(g));
  });
}

gdl_tensor *gdl_gsddmm(gdl_ctx *ctx, const gdl_graph *g, gdl_sddmm_op op, gdl_tensor *a, gdl_tensor *b,
                       int64_t heads) {
  int64_t N = g->num_nodes, E = g->num_edges;
  if (op == GDL_SDDMM_COPY_U) b = NULL;
  if (op == GDL_SDDMM_COPY_V) a = NULL;
  gdl_tensor *ref = a ? a : b;
  GDL_ASSERT(ref, "gsddmm: missing operand");
  GDL_CHECK_FLOAT(ref, "gsddmm");
  GDL_ASSERT((!a || (a->ndim >= 1 && a->shape[0] == N)) && (!b || (b->ndim >= 1 && b->shape[0] == N)),
             "gsddmm: operands must be [num_nodes=%lld, ...]", (long long)N);
  int64_t F = 1;
  for (int k = 1; k < ref->ndim; k++) F *= ref->shape[k];
  if (a && b) {
    int64_t F2 = 1;
    for (int k = 1; k < b->ndim; k++) F2 *= b->shape[k];
    GDL_ASSERT(F2 == F && a->dtype == b->dtype, "gsddmm: a and b must have the same width and dtype");
  }
  if (op != GDL_SDDMM_DOT) heads = 1;
  GDL_ASSERT(heads >= 1 && F % heads == 0, "gsddmm: heads must divide the width %lld", (long long)F);
  gdl_shape s = op == GDL_SDDMM_DOT ? GDL_SHAPE(E, heads) : gdl_tensor_shape(ref);
  s.d[0] = E;
  gdl_tensor *out = gdl_tensor_new(ctx, ref->dtype, s);
  gdl_node *nd = gdl__node(ctx, GDL_OP_GSDDMM, out, 2, (gdl_tensor *[]){a, b});
  nd->aux = (void *)g;
  nd->i[0] = op;
  nd->i[1] = F;
  nd->i[2] = heads;
  if (gdl__ctx_records(ctx)) {
    if (a && a->requires_grad) gdl__csr_out(g);
    if (b && b->requires_grad) gdl__csr_in(g);
  }
  return gdl__run(nd);
}

gdl_tensor *gdl__gsddmm_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 5) return NULL;
  gdl_graph *g = gdl__sample_graph(ctx, rng);
  gdl_tensor *a = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(6, 2, 3), -1, 1);
  gdl_tensor *b = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(6, 6), -1, 1);
  return gdl_gsddmm(ctx, g, (gdl_sddmm_op)v, a, b, 2);
}
