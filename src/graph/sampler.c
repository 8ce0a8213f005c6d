/* GraphSAGE neighbour sampling (Hamilton et al.; PyG's NeighborLoader):
 *
 *   frontier_0 = seeds; for hop l: every node v of frontier_l draws min(fanout_l, deg(v))
 *   distinct in-neighbours u (Floyd's algorithm, seeded by (seed, l, v)), adds the edge
 *   u -> v, and new nodes form frontier_{l+1}.
 *
 * Drawing runs in parallel over the frontier; the draws of a node depend only on
 * (seed, hop, node), and relabelling walks the frontier in order, so the mini-batch
 * is the same on any number of threads. Local ids: seeds first, then nodes in the
 * order they were reached. */
#include <stdlib.h>

#include "graph/graph.h"

struct gdl_sampler {
  const gdl_graph *g;
  int64_t fan[16];
  int L;
  int64_t *map; /* global -> local id, -1 when absent; reset after every batch */
};

gdl_sampler *gdl_sampler_new(const gdl_graph *g, const int64_t *fanout, int nlayers) {
  if (nlayers < 1 || nlayers > 16) {
    gdl_error(GDL_ERR_ARG, "sampler: 1 to 16 hops, got %d", nlayers);
    return NULL;
  }
  gdl_sampler *s = calloc(1, sizeof *s);
  s->g = g;
  s->L = nlayers;
  memcpy(s->fan, fanout, (size_t)nlayers * sizeof *fanout);
  s->map = malloc((size_t)(g->num_nodes + 1) * sizeof *s->map);
  GDL_ASSERT(s && s->map, "out of memory");
  for (int64_t v = 0; v < g->num_nodes; v++) s->map[v] = -1;
  gdl__csr_in(g);
  return s;
}

void gdl_sampler_free(gdl_sampler *s) {
  if (!s) return;
  free(s->map);
  free(s);
}

typedef struct {
  int64_t *p;
  int64_t n, cap;
} vec;

static void push(vec *v, int64_t x) {
  if (v->n == v->cap) {
    v->cap = v->cap ? 2 * v->cap : 1024;
    v->p = realloc(v->p, (size_t)v->cap * sizeof *v->p);
    GDL_ASSERT(v->p, "out of memory");
  }
  v->p[v->n++] = x;
}

static void reserve(vec *v, int64_t n) {
  if (v->cap >= n) return;
  v->cap = n;
  v->p = realloc(v->p, (size_t)v->cap * sizeof *v->p);
  GDL_ASSERT(v->p, "out of memory");
}

static uint64_t mix3(uint64_t a, uint64_t b, uint64_t c) {
  gdl_rng r = gdl_rng_make(a ^ (b * 0x9e3779b97f4a7c15ull));
  r.counter = c;
  return gdl_rng_u64(&r);
}

gdl_graph *gdl_sampler_sample(gdl_sampler *s, const int64_t *seeds, int64_t n, uint64_t seed) {
  const gdl_graph *g = s->g;
  const gdl__csr *c = gdl__csr_in(g);
  vec nodes = {0}, es = {0}, ed = {0}, eid = {0}, cnt = {0}, pick = {0}, pickq = {0};
  for (int64_t i = 0; i < n; i++) {
    int64_t v = seeds[i];
    if (v < 0 || v >= g->num_nodes || s->map[v] >= 0) {
      for (int64_t j = 0; j < nodes.n; j++) s->map[nodes.p[j]] = -1;
      free(nodes.p);
      gdl_error(GDL_ERR_VALUE, "sampler: seed %lld is out of range or repeated", (long long)v);
      return NULL;
    }
    s->map[v] = i;
    push(&nodes, v);
  }
  int64_t lo = 0, hi = n;
  for (int l = 0; l < s->L; l++) {
    int64_t F = hi - lo, fan = s->fan[l];
    reserve(&cnt, F + 1);
    cnt.p[0] = 0;
    for (int64_t i = 0; i < F; i++) {
      int64_t v = nodes.p[lo + i], deg = c->ptr[v + 1] - c->ptr[v];
      cnt.p[i + 1] = cnt.p[i] + (fan < 0 || deg < fan ? deg : fan);
    }
    reserve(&pick, cnt.p[F] + 1);
    reserve(&pickq, cnt.p[F] + 1);
    GDL_OMP(omp parallel for schedule(dynamic, 64) if (cnt.p[F] > 4096))
    for (int64_t i = 0; i < F; i++) {
      int64_t v = nodes.p[lo + i], b = c->ptr[v], deg = c->ptr[v + 1] - b, k = cnt.p[i + 1] - cnt.p[i];
      int64_t *out = pickq.p + cnt.p[i];
      if (k == deg) {
        for (int64_t q = 0; q < deg; q++) out[q] = b + q;
      } else { /* Floyd: k distinct positions of 0..deg-1 */
        gdl_rng r = gdl_rng_make(mix3(seed, (uint64_t)l, (uint64_t)v));
        int64_t m = 0;
        for (int64_t j = deg - k; j < deg; j++) {
          int64_t t = (int64_t)gdl_rng_below(&r, (uint64_t)j + 1);
          bool have = false;
          for (int64_t q = 0; q < m && !have; q++) have = out[q] == b + t;
          out[m++] = b + (have ? j : t);
        }
      }
      for (int64_t q = 0; q < k; q++) pick.p[cnt.p[i] + q] = c->nbr[out[q]];
    }
    for (int64_t i = 0; i < F; i++)
      for (int64_t q = cnt.p[i]; q < cnt.p[i + 1]; q++) {
        int64_t u = pick.p[q];
        if (s->map[u] < 0) {
          s->map[u] = nodes.n;
          push(&nodes, u);
        }
        push(&es, s->map[u]);
        push(&ed, lo + i);
        push(&eid, c->eid[pickq.p[q]]);
      }
    lo = hi;
    hi = nodes.n;
  }
  int64_t N = nodes.n, E = es.n;
  gdl_graph *out = gdl__graph_alloc(NULL, N, E);
  if (E) {
    memcpy(out->edge_index->data, es.p, (size_t)E * sizeof(int64_t));
    memcpy((int64_t *)out->edge_index->data + E, ed.p, (size_t)E * sizeof(int64_t));
  }
  gdl__copy_node_data(out, g, nodes.p, N);
  out->num_graphs = 1;
  out->num_seeds = n;
  if (!out->node_id) {
    out->node_id = gdl_tensor_alloc(GDL_I64, GDL_SHAPE(N));
    if (N) memcpy(out->node_id->data, nodes.p, (size_t)N * sizeof(int64_t));
  }
  if (g->edge_weight) {
    out->edge_weight = gdl_tensor_alloc(g->edge_weight->dtype, GDL_SHAPE(E));
    for (int64_t e = 0; e < E; e++) gdl_tensor_set(out->edge_weight, e, gdl_tensor_get(g->edge_weight, eid.p[e]));
  }
  if (g->edge_attr) {
    int64_t D = g->edge_attr->shape[1];
    out->edge_attr = gdl_tensor_alloc(g->edge_attr->dtype, GDL_SHAPE(E, D));
    size_t row = (size_t)D * gdl_dtype_size(g->edge_attr->dtype);
    for (int64_t e = 0; e < E; e++)
      memcpy((char *)out->edge_attr->data + e * row, (char *)g->edge_attr->data + eid.p[e] * row, row);
  }
  for (int64_t i = 0; i < N; i++) s->map[nodes.p[i]] = -1;
  free(nodes.p), free(es.p), free(ed.p), free(eid.p), free(cnt.p), free(pick.p), free(pickq.p);
  return out;
}
