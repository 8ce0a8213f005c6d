/* Edge softmax: for every node v and column h, over the edges e = (u -> v):
 *
 *   alpha[e, h] = exp(s[e, h] - m[v, h]) / sum_{e' -> v} exp(s[e', h] - m[v, h]),
 *   m[v, h] = max_{e' -> v} s[e', h]
 *
 * Backward: ds[e, h] = alpha[e, h] (dalpha[e, h] - sum_{e' -> v} alpha[e', h] dalpha[e', h]).
 * Both walk the CSR by destination: one thread per node, no atomics. */
#include <tgmath.h>

#include "graph/sample.h"

#define GRAPH_PAR_FOR(cond) GDL_OMP(omp parallel for schedule(dynamic, 32) if (cond))

void gdl__edge_softmax_fwd(gdl_node *n) {
  const gdl_graph *g = n->aux;
  gdl_tensor *s = n->in[0], *out = n->out;
  int64_t H = n->i[0], N = g->num_nodes;
  const gdl__csr *c = gdl__csr_in(g);
  const void *ss = gdl__contig(n->ctx, s);
  GDL_FLOAT_SWITCH(out->dtype, T, {
    const T *S = ss;
    T *A = out->data;
    GRAPH_PAR_FOR(g->num_edges * H > GDL_PAR_MIN / 4)
    for (int64_t v = 0; v < N; v++)
      for (int64_t h = 0; h < H; h++) {
        int64_t b = c->ptr[v], end = c->ptr[v + 1];
        if (b == end) continue;
        T m = S[c->eid[b] * H + h], z = 0;
        for (int64_t q = b + 1; q < end; q++) m = fmax(m, S[c->eid[q] * H + h]);
        for (int64_t q = b; q < end; q++) z += A[c->eid[q] * H + h] = exp(S[c->eid[q] * H + h] - m);
        for (int64_t q = b; q < end; q++) A[c->eid[q] * H + h] /= z;
      }
  });
}

void gdl__edge_softmax_bwd(gdl_ctx *ctx, gdl_node *n) {
  const gdl_graph *g = n->aux;
  gdl_tensor *gs = gdl__grad(ctx, n->in[0]);
  if (!gs) return;
  int64_t H = n->i[0], N = g->num_nodes;
  const gdl__csr *c = gdl__csr_in(g);
  GDL_FLOAT_SWITCH(gs->dtype, T, {
    const T *A = n->out->data, *DA = n->out->grad->data;
    T *DS = gs->data;
    GRAPH_PAR_FOR(g->num_edges * H > GDL_PAR_MIN / 4)
    for (int64_t v = 0; v < N; v++)
      for (int64_t h = 0; h < H; h++) {
        T dot = 0;
        for (int64_t q = c->ptr[v]; q < c->ptr[v + 1]; q++) {
          int64_t i = c->eid[q] * H + h;
          dot += A[i] * DA[i];
        }
        for (int64_t q = c->ptr[v]; q < c->ptr[v + 1]; q++) {
          int64_t i = c->eid[q] * H + h;
          DS[i] += A[i] * (DA[i] - dot);
        }
      }
  });
}

gdl_tensor *gdl_edge_softmax(gdl_ctx *ctx, const gdl_graph *g, gdl_tensor *s) {
  GDL_CHECK_FLOAT(s, "edge_softmax");
  GDL_ASSERT(s->ndim >= 1 && s->shape[0] == g->num_edges, "edge_softmax: scores must be [num_edges=%lld, ...]",
             (long long)g->num_edges);
  int64_t H = 1;
  for (int k = 1; k < s->ndim; k++) H *= s->shape[k];
  gdl_tensor *out = gdl_tensor_new(ctx, s->dtype, gdl_tensor_shape(s));
  gdl_node *n = gdl__node(ctx, GDL_OP_EDGE_SOFTMAX, out, 1, &s);
  n->aux = (void *)g;
  n->i[0] = H;
  return gdl__run(n);
}

gdl_tensor *gdl__edge_softmax_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 1) return NULL;
  gdl_graph *g = gdl__sample_graph(ctx, rng);
  gdl_tensor *s = gdl__sample_leaf(ctx, rng, t, v ? GDL_SHAPE(12) : GDL_SHAPE(12, 3), -2, 2);
  return gdl_edge_softmax(ctx, g, s);
}
