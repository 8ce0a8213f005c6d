/* Graph transforms: self loops, coalescing, undirected graphs, GCN normalisation,
 * feature normalisation, induced subgraphs, k-hop neighbourhoods. Each makes a
 * new graph (in g's arena when g has one) and never changes g. */
#include <stdio.h>
#include <stdlib.h>

#include "graph/graph.h"

/* A graph on g's nodes with edges src/dst[0..E); edge data is taken from g's edge
 * from[e] (from[e] < 0: a new edge with weight fill and zero attributes). With
 * node_data, g's node fields are copied too. weights: give the result an
 * edge_weight even when g has none (1 for old edges). */
static gdl_graph *derive(const gdl_graph *g, int64_t E, const int64_t *src, const int64_t *dst,
                         const int64_t *from, double fill, bool weights, bool node_data) {
  gdl_graph *r = gdl__graph_alloc(g->arena, g->num_nodes, E);
  int64_t *ei = r->edge_index->data;
  memcpy(ei, src, (size_t)E * sizeof *ei);
  memcpy(ei + E, dst, (size_t)E * sizeof *ei);
  if (node_data) {
    gdl__copy_node_data(r, g, NULL, g->num_nodes);
  } else {
    r->num_graphs = g->num_graphs;
    r->batch = g->batch; /* borrowed: see below */
    r->ptr = g->ptr;
  }
  if (g->edge_weight || weights) {
    r->edge_weight = gdl__gtensor(r, g->edge_weight ? g->edge_weight->dtype : GDL_F64, GDL_SHAPE(E));
    for (int64_t e = 0; e < E; e++)
      gdl_tensor_set(r->edge_weight, e,
                     from[e] < 0 ? fill : g->edge_weight ? gdl_tensor_get(g->edge_weight, from[e]) : 1.0);
  }
  if (g->edge_attr) {
    int64_t D = g->edge_attr->shape[1];
    r->edge_attr = gdl__gtensor(r, g->edge_attr->dtype, GDL_SHAPE(E, D));
    size_t row = (size_t)D * gdl_dtype_size(g->edge_attr->dtype);
    for (int64_t e = 0; e < E; e++)
      if (from[e] >= 0)
        memcpy((char *)r->edge_attr->data + (size_t)e * row, (char *)g->edge_attr->data + (size_t)from[e] * row, row);
  }
  return r;
}

/* Structure-only graphs borrow batch/ptr from their parent; they must not free them. */
static void free_borrowing(void *p) {
  gdl_graph *g = p;
  g->batch = g->ptr = NULL;
  gdl_graph_free(g);
}

typedef struct {
  int64_t *src, *dst, *from;
} edge_list;

static edge_list edges_new(int64_t E) {
  edge_list l;
  l.src = malloc((size_t)(E + 1) * sizeof(int64_t));
  l.dst = malloc((size_t)(E + 1) * sizeof(int64_t));
  l.from = malloc((size_t)(E + 1) * sizeof(int64_t));
  GDL_ASSERT(l.src && l.dst && l.from, "out of memory");
  return l;
}

static void edges_free(edge_list *l) {
  free(l->src);
  free(l->dst);
  free(l->from);
}

static gdl_graph *add_loops(const gdl_graph *g, double fill, bool node_data, bool weights) {
  int64_t N = g->num_nodes, E = g->num_edges, k = 0;
  const int64_t *s = gdl_graph_src(g), *d = gdl_graph_dst(g);
  edge_list l = edges_new(E + N);
  int64_t *loop = malloc((size_t)(N + 1) * sizeof *loop);
  for (int64_t v = 0; v < N; v++) loop[v] = -1;
  for (int64_t e = 0; e < E; e++) {
    if (s[e] == d[e]) {
      loop[s[e]] = e; /* the last loop of a node gives its weight */
      continue;
    }
    l.src[k] = s[e], l.dst[k] = d[e], l.from[k++] = e;
  }
  for (int64_t v = 0; v < N; v++) l.src[k] = l.dst[k] = v, l.from[k++] = loop[v];
  gdl_graph *r = derive(g, k, l.src, l.dst, l.from, fill, weights, node_data);
  free(loop);
  edges_free(&l);
  return r;
}

gdl_graph *gdl_graph_add_self_loops(const gdl_graph *g, double fill) { return add_loops(g, fill, true, false); }

gdl_graph *gdl__graph_loops(const gdl_graph *g) {
  gdl_graph *r = gdl__cache_get(g, "loops");
  if (!r) {
    r = add_loops(g, 1.0, false, false);
    gdl__cache_put(g, "loops", r, free_borrowing);
  }
  return r;
}

gdl_graph *gdl_graph_remove_self_loops(const gdl_graph *g) {
  int64_t E = g->num_edges, k = 0;
  const int64_t *s = gdl_graph_src(g), *d = gdl_graph_dst(g);
  edge_list l = edges_new(E);
  for (int64_t e = 0; e < E; e++)
    if (s[e] != d[e]) l.src[k] = s[e], l.dst[k] = d[e], l.from[k++] = e;
  gdl_graph *r = derive(g, k, l.src, l.dst, l.from, 0, false, true);
  edges_free(&l);
  return r;
}

/* Edges sorted by (src, dst) with duplicates merged, data summed. extra: also the
 * reverse of every edge. */
static gdl_graph *coalesce(const gdl_graph *g, bool reverse) {
  int64_t N = g->num_nodes, E0 = g->num_edges, E = reverse ? 2 * E0 : E0;
  const int64_t *s = gdl_graph_src(g), *d = gdl_graph_dst(g);
  /* counting sort by dst, then stable by src: order by (src, dst) */
  int64_t *a = malloc((size_t)(E + 1) * sizeof *a), *b = malloc((size_t)(E + 1) * sizeof *b);
  int64_t *cnt = calloc((size_t)N + 1, sizeof *cnt);
  GDL_ASSERT(a && b && cnt, "out of memory");
#define ES(i) ((i) < E0 ? s[i] : d[(i) - E0])
#define ED(i) ((i) < E0 ? d[i] : s[(i) - E0])
  for (int pass = 0; pass < 2; pass++) {
    memset(cnt, 0, (size_t)(N + 1) * sizeof *cnt);
    const int64_t *in = pass ? a : NULL;
    for (int64_t i = 0; i < E; i++) {
      int64_t e = in ? in[i] : i;
      cnt[(pass ? ES(e) : ED(e)) + 1]++;
    }
    for (int64_t v = 0; v < N; v++) cnt[v + 1] += cnt[v];
    int64_t *out = pass ? b : a;
    for (int64_t i = 0; i < E; i++) {
      int64_t e = in ? in[i] : i;
      out[cnt[pass ? ES(e) : ED(e)]++] = e;
    }
  }
  edge_list l = edges_new(E);
  int64_t k = 0;
  for (int64_t i = 0; i < E; i++) {
    int64_t e = b[i];
    if (k && l.src[k - 1] == ES(e) && l.dst[k - 1] == ED(e)) continue;
    l.src[k] = ES(e), l.dst[k] = ED(e), l.from[k++] = e % (E0 ? E0 : 1);
  }
  gdl_graph *r = derive(g, k, l.src, l.dst, l.from, 0, false, true);
  /* sum the data of merged edges */
  if (r->edge_weight || r->edge_attr) {
    int64_t D = r->edge_attr ? r->edge_attr->shape[1] : 0;
    if (r->edge_weight) gdl_tensor_fill(r->edge_weight, 0);
    if (r->edge_attr) gdl_tensor_fill(r->edge_attr, 0);
    for (int64_t i = 0, q = -1; i < E; i++) {
      int64_t e = b[i], o = e % (E0 ? E0 : 1);
      if (q < 0 || l.src[q] != ES(e) || l.dst[q] != ED(e)) q++;
      if (r->edge_weight)
        gdl_tensor_set(r->edge_weight, q, gdl_tensor_get(r->edge_weight, q) + gdl_tensor_get(g->edge_weight, o));
      for (int64_t j = 0; j < D; j++)
        gdl_tensor_set(r->edge_attr, q * D + j,
                       gdl_tensor_get(r->edge_attr, q * D + j) + gdl_tensor_get(g->edge_attr, o * D + j));
    }
  }
#undef ES
#undef ED
  free(a);
  free(b);
  free(cnt);
  edges_free(&l);
  return r;
}

gdl_graph *gdl_graph_coalesce(const gdl_graph *g) { return coalesce(g, false); }
gdl_graph *gdl_graph_to_undirected(const gdl_graph *g) { return coalesce(g, true); }

/* ---- GCN normalisation ----------------------------------------------------------------
 * Â = A (+ I, weight 1 or 2), deg(v) = sum_{u -> v} Â_uv, w_uv = Â_uv / sqrt(deg(u) deg(v))
 * (0 where a degree is 0). Matches PyG's gcn_norm (degrees by target). */

static void gcn_norm_weights(const gdl_graph *g, double *w) {
  int64_t N = g->num_nodes, E = g->num_edges;
  const int64_t *s = gdl_graph_src(g), *d = gdl_graph_dst(g);
  double *deg = calloc((size_t)N + 1, sizeof *deg);
  GDL_ASSERT(deg, "out of memory");
  for (int64_t e = 0; e < E; e++) {
    w[e] = g->edge_weight ? gdl_tensor_get(g->edge_weight, e) : 1.0;
    deg[d[e]] += w[e];
  }
  for (int64_t v = 0; v < N; v++) deg[v] = deg[v] > 0 ? 1 / sqrt(deg[v]) : 0;
  for (int64_t e = 0; e < E; e++) w[e] *= deg[s[e]] * deg[d[e]];
  free(deg);
}

gdl_graph *gdl_graph_gcn_norm(const gdl_graph *g, bool self_loops, bool improved) {
  gdl_graph *r = self_loops ? add_loops(g, improved ? 2.0 : 1.0, true, true) : gdl_graph_coalesce(g);
  if (!self_loops) { /* keep g's edge order */
    gdl_graph_free(r);
    int64_t *from = malloc((size_t)(g->num_edges + 1) * sizeof *from);
    for (int64_t e = 0; e < g->num_edges; e++) from[e] = e;
    r = derive(g, g->num_edges, gdl_graph_src(g), gdl_graph_dst(g), from, 1.0, true, true);
    free(from);
  }
  double *w = malloc((size_t)(r->num_edges + 1) * sizeof *w);
  gcn_norm_weights(r, w);
  gdl_tensor *t = gdl__gtensor(r, GDL_F64, GDL_SHAPE(r->num_edges));
  memcpy(t->data, w, (size_t)r->num_edges * sizeof *w);
  if (!r->arena) gdl_tensor_free(r->edge_weight);
  r->edge_weight = t;
  free(w);
  return r;
}

gdl_tensor *gdl__gcn_weights(const gdl_graph *g, bool loops, bool improved, gdl_dtype t, const gdl_graph **used) {
  char key[48];
  snprintf(key, sizeof key, "gcn.%d%d.%d", loops, improved, (int)t);
  const gdl_graph *h = g;
  if (loops && !improved) {
    h = gdl__graph_loops(g);
  } else if (loops) {
    h = gdl__cache_get(g, "loops2");
    if (!h) {
      gdl_graph *r = add_loops(g, 2.0, false, true);
      gdl__cache_put(g, "loops2", r, free_borrowing);
      h = r;
    }
  }
  *used = h;
  gdl_tensor *w = gdl__cache_get(g, key);
  if (w) return w;
  double *tmp = malloc((size_t)(h->num_edges + 1) * sizeof *tmp);
  gcn_norm_weights(h, tmp);
  w = gdl__gtensor((gdl_graph *)g, t, GDL_SHAPE(h->num_edges));
  for (int64_t e = 0; e < h->num_edges; e++) gdl_tensor_set(w, e, tmp[e]);
  free(tmp);
  gdl__cache_put(g, key, w, (void (*)(void *))gdl_tensor_free);
  return w;
}

void gdl_graph_normalize_features(gdl_tensor *x) {
  GDL_ASSERT(x->ndim == 2 && gdl_dtype_is_float(x->dtype), "normalize_features: x must be float [N, F]");
  int64_t N = x->shape[0], F = x->shape[1];
  for (int64_t i = 0; i < N; i++) {
    double s = 0;
    for (int64_t j = 0; j < F; j++) s += gdl_tensor_get(x, i * F + j);
    if (s == 0) continue;
    for (int64_t j = 0; j < F; j++) gdl_tensor_set(x, i * F + j, gdl_tensor_get(x, i * F + j) / s);
  }
}

/* ---- subgraphs ------------------------------------------------------------------------ */

gdl_graph *gdl_graph_subgraph(const gdl_graph *g, const int64_t *nodes, int64_t n) {
  return gdl__subgraph(g, nodes, n, g->arena, true);
}

gdl_graph *gdl__subgraph(const gdl_graph *g, const int64_t *nodes, int64_t n, gdl_ctx *arena, bool node_data) {
  int64_t N = g->num_nodes, E = g->num_edges, k = 0;
  int64_t *map = malloc((size_t)(N + 1) * sizeof *map);
  for (int64_t v = 0; v < N; v++) map[v] = -1;
  for (int64_t i = 0; i < n; i++) {
    if (nodes[i] < 0 || nodes[i] >= N || map[nodes[i]] >= 0) {
      free(map);
      gdl_error(GDL_ERR_VALUE, "subgraph: node %lld is out of range or repeated", (long long)nodes[i]);
      return NULL;
    }
    map[nodes[i]] = i;
  }
  const int64_t *s = gdl_graph_src(g), *d = gdl_graph_dst(g);
  edge_list l = edges_new(E);
  for (int64_t e = 0; e < E; e++)
    if (map[s[e]] >= 0 && map[d[e]] >= 0) l.src[k] = map[s[e]], l.dst[k] = map[d[e]], l.from[k++] = e;
  gdl_graph *r = gdl__graph_alloc(arena, n, k);
  memcpy(r->edge_index->data, l.src, (size_t)k * sizeof(int64_t));
  memcpy((int64_t *)r->edge_index->data + k, l.dst, (size_t)k * sizeof(int64_t));
  if (node_data) {
    gdl__copy_node_data(r, g, nodes, n);
  } else {
    r->num_graphs = g->num_graphs;
    if (g->batch) {
      r->batch = gdl__gtensor(r, GDL_I64, GDL_SHAPE(n));
      for (int64_t i = 0; i < n; i++) ((int64_t *)r->batch->data)[i] = ((int64_t *)g->batch->data)[nodes[i]];
    }
  }
  if (g->edge_weight) {
    r->edge_weight = gdl__gtensor(r, g->edge_weight->dtype, GDL_SHAPE(k));
    for (int64_t e = 0; e < k; e++) gdl_tensor_set(r->edge_weight, e, gdl_tensor_get(g->edge_weight, l.from[e]));
  }
  if (g->edge_attr) {
    int64_t D = g->edge_attr->shape[1];
    r->edge_attr = gdl__gtensor(r, g->edge_attr->dtype, GDL_SHAPE(k, D));
    size_t row = (size_t)D * gdl_dtype_size(g->edge_attr->dtype);
    for (int64_t e = 0; e < k; e++)
      memcpy((char *)r->edge_attr->data + e * row, (char *)g->edge_attr->data + l.from[e] * row, row);
  }
  if (node_data && !r->node_id) {
    r->node_id = gdl__gtensor(r, GDL_I64, GDL_SHAPE(n));
    memcpy(r->node_id->data, nodes, (size_t)n * sizeof(int64_t));
  }
  /* graph ids of a batch: recount ptr from the gathered batch */
  if (r->batch) {
    if (!r->arena) gdl_tensor_free(r->ptr);
    r->ptr = NULL;
  }
  free(map);
  edges_free(&l);
  return r;
}

gdl_graph *gdl_graph_k_hop(const gdl_graph *g, const int64_t *seeds, int64_t n, int k) {
  int64_t N = g->num_nodes, cnt = 0;
  const gdl__csr *in = gdl__csr_in(g);
  char *seen = calloc((size_t)N + 1, 1);
  int64_t *order = malloc((size_t)(N + 1) * sizeof *order);
  for (int64_t i = 0; i < n; i++) {
    if (seeds[i] < 0 || seeds[i] >= N) {
      free(seen), free(order);
      gdl_error(GDL_ERR_VALUE, "k_hop: seed %lld out of range", (long long)seeds[i]);
      return NULL;
    }
    if (!seen[seeds[i]]) seen[seeds[i]] = 1, order[cnt++] = seeds[i];
  }
  for (int64_t h = 0, lo = 0; h < k; h++) {
    int64_t hi = cnt;
    for (int64_t i = lo; i < hi; i++)
      for (int64_t q = in->ptr[order[i]]; q < in->ptr[order[i] + 1]; q++)
        if (!seen[in->nbr[q]]) seen[in->nbr[q]] = 1, order[cnt++] = in->nbr[q];
    lo = hi;
  }
  gdl_graph *r = gdl_graph_subgraph(g, order, cnt);
  free(seen);
  free(order);
  return r;
}
