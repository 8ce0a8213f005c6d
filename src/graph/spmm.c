/* Generalised sparse-dense matrix product (gSpMM), DGL's update_all:
 *
 *   out[v, f] = reduce_{e = (u -> v)} msg(x[u, f], w[e, f / B])      B = F / K
 *
 * msg: copy_u x[u,f] | copy_e w[e,f] | u_mul_e x[u,f] w[e,k] | u_add_e x[u,f] + w[e,k];
 * reduce: sum | mean (sum / in-degree) | max | min (0 for nodes without in-edges).
 * Messages are never materialised: each output row is computed from the CSR by
 * destination by one thread, in edge order (deterministic, no atomics).
 *
 * Backward (s_v = 1, or 1/deg(v) for mean; for max/min only the winning edge
 * arg[v, f] passes the gradient):
 *   dx[u, f] += sum_{e = (u -> v)} s_v dy[v, f] * (w[e, k] for u_mul_e)   CSR by source
 *   dw[e, k] += sum_{f in block k} s_v dy[v, f] * (x[u, f] for u_mul_e)    per edge
 *   dw[e, f] += s_v dy[v, f]                                               copy_e */
#include "graph/sample.h"

#define GRAPH_PAR_FOR(cond) GDL_OMP(omp parallel for schedule(dynamic, 16) if (cond))
#ifndef PREFETCH_AHEAD
#define PREFETCH_AHEAD 16 /* edges: enough rows in flight to hide a miss to memory */
#endif

/* Asks for a feature row ahead of use: gathers are latency-bound. */
static inline void prefetch_row(const void *row, size_t bytes) {
  for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch((const char *)row + o);
}

typedef struct {
  int64_t *arg; /* max/min: winning edge per output element, -1 if none */
} spmm_saved;

void gdl__gspmm_fwd(gdl_node *n) {
  const gdl_graph *g = n->aux;
  gdl_tensor *x = n->in[0], *e = n->in[1], *out = n->out;
  gdl_msg msg = (gdl_msg)n->i[0];
  gdl_reduce red = (gdl_reduce)n->i[1];
  int64_t F = n->i[2], K = n->i[3], B = F / K, N = g->num_nodes;
  const gdl__csr *c = gdl__csr_in(g);
  const void *xs = x ? gdl__contig(n->ctx, x) : NULL, *es = e ? gdl__contig(n->ctx, e) : NULL;
  int64_t *arg = ((spmm_saved *)n->saved)->arg;
  bool extreme = red == GDL_REDUCE_MAX || red == GDL_REDUCE_MIN;
  int64_t nnz = c->ptr[N];
  GDL_FLOAT_SWITCH(out->dtype, T, {
    const T *restrict X = xs, *restrict W = es;
    T *restrict Y = out->data;
    GRAPH_PAR_FOR(g->num_edges * F > GDL_PAR_MIN)
    for (int64_t v = 0; v < N; v++) {
      T *restrict y = Y + v * F;
      int64_t b = c->ptr[v], end = c->ptr[v + 1];
      for (int64_t f = 0; f < F; f++) y[f] = 0;
      if (!extreme) {
        for (int64_t q = b; q < end; q++) {
          int64_t u = c->nbr[q], id = c->eid[q];
          const T *restrict xr = X ? X + u * F : NULL;
          /* the row PREFETCH_AHEAD edges ahead in CSR order, across row boundaries (most
           * nodes have fewer in-edges than that) */
          if (X && q + PREFETCH_AHEAD < nnz) prefetch_row(X + c->nbr[q + PREFETCH_AHEAD] * F, (size_t)F * sizeof(T));
          switch (msg) {
            case GDL_MSG_COPY_U:
              for (int64_t f = 0; f < F; f++) y[f] += xr[f];
              break;
            case GDL_MSG_COPY_E: {
              const T *restrict wr = W + id * F;
              for (int64_t f = 0; f < F; f++) y[f] += wr[f];
            } break;
            case GDL_MSG_U_MUL_E:
              if (K == 1) {
                T w = W[id];
                for (int64_t f = 0; f < F; f++) y[f] += w * xr[f];
              } else {
                for (int64_t k = 0; k < K; k++) {
                  T w = W[id * K + k];
                  for (int64_t j = k * B; j < (k + 1) * B; j++) y[j] += w * xr[j];
                }
              }
              break;
            case GDL_MSG_U_ADD_E:
              for (int64_t k = 0; k < K; k++) {
                T w = W[id * K + k];
                for (int64_t j = k * B; j < (k + 1) * B; j++) y[j] += xr[j] + w;
              }
              break;
          }
        }
        if (red == GDL_REDUCE_MEAN && end > b) {
          T s = (T)1 / (T)(end - b);
          for (int64_t f = 0; f < F; f++) y[f] *= s;
        }
      } else {
        int64_t *a = arg + v * F;
        for (int64_t f = 0; f < F; f++) a[f] = -1;
        for (int64_t q = b; q < end; q++) {
          int64_t u = c->nbr[q], id = c->eid[q];
          for (int64_t f = 0; f < F; f++) {
            T m;
            switch (msg) {
              case GDL_MSG_COPY_U: m = X[u * F + f]; break;
              case GDL_MSG_COPY_E: m = W[id * F + f]; break;
              case GDL_MSG_U_MUL_E: m = X[u * F + f] * W[id * K + f / B]; break;
              default: m = X[u * F + f] + W[id * K + f / B]; break;
            }
            if (a[f] < 0 || (red == GDL_REDUCE_MAX ? m > y[f] : m < y[f])) y[f] = m, a[f] = id;
          }
        }
      }
    }
  });
}

void gdl__gspmm_bwd(gdl_ctx *ctx, gdl_node *n) {
  const gdl_graph *g = n->aux;
  gdl_tensor *x = n->in[0], *e = n->in[1];
  gdl_msg msg = (gdl_msg)n->i[0];
  bool fx = false; /* rows of a fresh gradient are zeroed in the loop, while in cache */
  gdl_tensor *gx = msg != GDL_MSG_COPY_E ? gdl__grad_fresh(ctx, x, &fx) : NULL, *ge = gdl__grad(ctx, e);
  gdl_reduce red = (gdl_reduce)n->i[1];
  int64_t F = n->i[2], K = n->i[3], B = F / K, N = g->num_nodes, E = g->num_edges;
  const gdl__csr *cin = gdl__csr_in(g);
  const int64_t *src = gdl_graph_src(g), *dst = gdl_graph_dst(g);
  const int64_t *arg = ((spmm_saved *)n->saved)->arg;
  const void *xs = x ? gdl__contig(ctx, x) : NULL, *es = e ? gdl__contig(ctx, e) : NULL;
  GDL_FLOAT_SWITCH(n->out->dtype, T, {
    const T *restrict DY = n->out->grad->data, *restrict X = xs, *restrict W = es;
    if (gx) {
      const gdl__csr *co = gdl__csr_out(g);
      int64_t nnz = co->ptr[N];
      T *restrict DX = gx->data;
      GRAPH_PAR_FOR(E * F > GDL_PAR_MIN)
      for (int64_t u = 0; u < N; u++) {
        T *restrict dx = DX + u * F;
        if (fx) memset(dx, 0, sizeof(T) * (size_t)F);
        for (int64_t q = co->ptr[u]; q < co->ptr[u + 1]; q++) {
          int64_t v = co->nbr[q], id = co->eid[q];
          if (q + PREFETCH_AHEAD < nnz) prefetch_row(DY + co->nbr[q + PREFETCH_AHEAD] * F, (size_t)F * sizeof(T));
          const T *restrict dy = DY + v * F;
          if (arg) {
            const int64_t *a = arg + v * F;
            for (int64_t f = 0; f < F; f++)
              if (a[f] == id) dx[f] += dy[f] * (msg == GDL_MSG_U_MUL_E ? W[id * K + f / B] : (T)1);
            continue;
          }
          T s = red == GDL_REDUCE_MEAN ? (T)1 / (T)(cin->ptr[v + 1] - cin->ptr[v]) : (T)1;
          if (msg == GDL_MSG_U_MUL_E) {
            for (int64_t k = 0; k < K; k++) {
              T w = W[id * K + k] * s;
              for (int64_t j = k * B; j < (k + 1) * B; j++) dx[j] += w * dy[j];
            }
          } else {
            for (int64_t f = 0; f < F; f++) dx[f] += s * dy[f];
          }
        }
      }
    }
    if (ge) {
      T *restrict DE = ge->data;
      GDL_PARALLEL_FOR_IF(E * F > GDL_PAR_MIN)
      for (int64_t id = 0; id < E; id++) {
        int64_t u = src[id], v = dst[id];
        const T *restrict dy = DY + v * F;
        const int64_t *a = arg ? arg + v * F : NULL;
        T s = red == GDL_REDUCE_MEAN ? (T)1 / (T)(cin->ptr[v + 1] - cin->ptr[v]) : (T)1;
        for (int64_t k = 0; k < K; k++) {
          T acc = 0;
          for (int64_t j = k * B; j < (k + 1) * B; j++) {
            if (a && a[j] != id) continue;
            T d = dy[j] * s;
            if (msg == GDL_MSG_COPY_E) DE[id * F + j] += d;
            else acc += msg == GDL_MSG_U_MUL_E ? d * X[u * F + j] : d;
          }
          if (msg != GDL_MSG_COPY_E) DE[id * K + k] += acc;
        }
      }
    }
  });
}

gdl_tensor *gdl_gspmm(gdl_ctx *ctx, const gdl_graph *g, gdl_msg msg, gdl_reduce reduce, gdl_tensor *x,
                      gdl_tensor *e) {
  int64_t N = g->num_nodes, E = g->num_edges;
  bool need_x = msg != GDL_MSG_COPY_E, need_e = msg != GDL_MSG_COPY_U;
  GDL_ASSERT(!need_x || (x && x->ndim >= 1 && x->shape[0] == N), "gspmm: x must be [num_nodes=%lld, ...]",
             (long long)N);
  GDL_ASSERT(!need_e || (e && e->ndim >= 1 && e->shape[0] == E), "gspmm: e must be [num_edges=%lld, ...]",
             (long long)E);
  if (!need_x) x = NULL;
  if (!need_e) e = NULL;
  gdl_tensor *ref = x ? x : e;
  GDL_CHECK_FLOAT(ref, "gspmm");
  GDL_ASSERT(!x || !e || x->dtype == e->dtype, "gspmm: x and e must have one dtype");
  int64_t F = 1, K = 1; /* values per node and per edge */
  for (int k = 1; x && k < x->ndim; k++) F *= x->shape[k];
  for (int k = 1; e && k < e->ndim; k++) K *= e->shape[k];
  if (msg == GDL_MSG_COPY_E) F = K;
  GDL_ASSERT(K > 0 && F % K == 0, "gspmm: %lld edge values must divide %lld node values", (long long)K, (long long)F);
  gdl_shape s = gdl_tensor_shape(ref);
  s.d[0] = N;
  gdl_tensor *out = gdl_tensor_new(ctx, ref->dtype, s);
  gdl_node *nd = gdl__node(ctx, GDL_OP_GSPMM, out, 2, (gdl_tensor *[]){x, e});
  nd->aux = (void *)g;
  nd->i[0] = msg;
  nd->i[1] = reduce;
  nd->i[2] = F;
  nd->i[3] = K;
  spmm_saved *sv = gdl_ctx_alloc(ctx, sizeof *sv);
  if (reduce == GDL_REDUCE_MAX || reduce == GDL_REDUCE_MIN)
    sv->arg = gdl_ctx_alloc(ctx, (size_t)(N * F + 1) * sizeof(int64_t));
  nd->saved = sv;
  gdl__csr_in(g);
  if (gdl__ctx_records(ctx) && x && x->requires_grad) gdl__csr_out(g); /* built before backward */
  return gdl__run(nd);
}

gdl_tensor *gdl__gspmm_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  static const struct {
    gdl_msg msg;
    int k; /* edge values per edge: 1, 2 (heads) or 4 (= F) */
  } m[] = {{GDL_MSG_COPY_U, 0}, {GDL_MSG_COPY_E, 4}, {GDL_MSG_U_MUL_E, 1}, {GDL_MSG_U_MUL_E, 2},
           {GDL_MSG_U_MUL_E, 4}, {GDL_MSG_U_ADD_E, 4}, {GDL_MSG_U_ADD_E, 1}};
  int nm = (int)(sizeof m / sizeof *m);
  if (v >= 4 * nm) return NULL;
  gdl_reduce red = (gdl_reduce)(v / nm);
  gdl_graph *g = gdl__sample_graph(ctx, rng);
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(6, 2, 2), -1, 1);
  int k = m[v % nm].k;
  gdl_tensor *e = k ? gdl__sample_leaf(ctx, rng, t, k == 4 ? GDL_SHAPE(12, 2, 2) : GDL_SHAPE(12, k), -1, 1) : NULL;
  return gdl_gspmm(ctx, g, m[v % nm].msg, red, x, e);
}
