/* Graph data: creation, ownership, checks, the cached CSRs, batching. */
#include <stdio.h>
#include <stdlib.h>

#include "graph/graph.h"

typedef struct {
  char key[48];
  void *p;
  void (*destroy)(void *);
} centry;

struct gdl_graph_cache {
  gdl__csr in, out;
  bool has_in, has_out;
  centry e[24];
  int n;
  void **blocks; /* heap graphs: allocations freed with the graph */
  int nblocks, capblocks;
};

static struct gdl_graph_cache *cache_of(const gdl_graph *cg) {
  gdl_graph *g = (gdl_graph *)cg;
  if (!g->cache) {
    g->cache = g->arena ? gdl_ctx_alloc(g->arena, sizeof *g->cache) : calloc(1, sizeof *g->cache);
    GDL_ASSERT(g->cache, "out of memory");
  }
  return g->cache;
}

void *gdl__galloc(gdl_graph *g, size_t bytes) {
  if (!bytes) bytes = 1;
  if (g->arena) return gdl_ctx_alloc(g->arena, bytes);
  struct gdl_graph_cache *c = cache_of(g);
  if (c->nblocks == c->capblocks) {
    c->capblocks = c->capblocks ? 2 * c->capblocks : 8;
    c->blocks = realloc(c->blocks, (size_t)c->capblocks * sizeof *c->blocks);
    GDL_ASSERT(c->blocks, "out of memory");
  }
  void *p = calloc(1, bytes);
  GDL_ASSERT(p, "out of memory (%zu bytes)", bytes);
  return c->blocks[c->nblocks++] = p;
}

gdl_tensor *gdl__gtensor(gdl_graph *g, gdl_dtype t, gdl_shape s) {
  gdl_tensor *x = g->arena ? gdl_tensor_new(g->arena, t, s) : gdl_tensor_alloc(t, s);
  GDL_ASSERT(x, "out of memory");
  return x;
}

gdl_graph *gdl__graph_alloc(gdl_ctx *ctx, int64_t num_nodes, int64_t num_edges) {
  gdl_graph *g = ctx ? gdl_ctx_alloc(ctx, sizeof *g) : calloc(1, sizeof *g);
  GDL_ASSERT(g, "out of memory");
  g->arena = ctx;
  g->num_nodes = num_nodes;
  g->num_edges = num_edges;
  g->num_graphs = 1;
  g->edge_index = gdl__gtensor(g, GDL_I64, GDL_SHAPE(2, num_edges));
  return g;
}

const int64_t *gdl_graph_src(const gdl_graph *g) { return g->edge_index->data; }
const int64_t *gdl_graph_dst(const gdl_graph *g) { return (const int64_t *)g->edge_index->data + g->num_edges; }

gdl_graph *gdl_graph_from_edges(int64_t num_nodes, int64_t num_edges, const int64_t *src, const int64_t *dst) {
  if (num_nodes < 0 || num_edges < 0) {
    gdl_error(GDL_ERR_ARG, "graph: negative node or edge count");
    return NULL;
  }
  for (int64_t e = 0; e < num_edges; e++)
    if (src[e] < 0 || src[e] >= num_nodes || dst[e] < 0 || dst[e] >= num_nodes) {
      gdl_error(GDL_ERR_VALUE, "graph: edge %lld (%lld -> %lld) names a node outside [0, %lld)", (long long)e,
                (long long)src[e], (long long)dst[e], (long long)num_nodes);
      return NULL;
    }
  gdl_graph *g = gdl__graph_alloc(NULL, num_nodes, num_edges);
  int64_t *ei = g->edge_index->data;
  memcpy(ei, src, (size_t)num_edges * sizeof *ei);
  memcpy(ei + num_edges, dst, (size_t)num_edges * sizeof *ei);
  return g;
}

gdl_graph *gdl_graph_new(int64_t num_nodes, const gdl_tensor *edge_index) {
  if (!edge_index || edge_index->ndim != 2 || edge_index->shape[0] != 2 ||
      (edge_index->dtype != GDL_I64 && edge_index->dtype != GDL_I32)) {
    gdl_error(GDL_ERR_SHAPE, "graph: edge_index must be an int32/int64 tensor [2, E]");
    return NULL;
  }
  int64_t E = edge_index->shape[1];
  int64_t *tmp = malloc((size_t)(2 * E + 1) * sizeof *tmp);
  GDL_ASSERT(tmp, "out of memory");
  for (int64_t i = 0; i < 2 * E; i++) tmp[i] = (int64_t)gdl_tensor_get(edge_index, i);
  gdl_graph *g = gdl_graph_from_edges(num_nodes, E, tmp, tmp + E);
  free(tmp);
  return g;
}

void gdl_graph_free(gdl_graph *g) {
  if (!g || g->arena) return;
  gdl_tensor *ts[] = {g->edge_index, g->edge_weight, g->edge_attr, g->x, g->y, g->pos, g->batch, g->ptr,
                      g->train_mask, g->val_mask, g->test_mask, g->node_id};
  for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) gdl_tensor_free(ts[i]);
  struct gdl_graph_cache *c = g->cache;
  if (c) {
    for (int i = 0; i < c->n; i++)
      if (c->e[i].destroy) c->e[i].destroy(c->e[i].p);
    for (int i = 0; i < c->nblocks; i++) free(c->blocks[i]);
    free(c->blocks);
    free(c);
  }
  free(g);
}

gdl_graph *gdl_graph_current(const gdl_graph *g) {
  gdl_graph *c = (gdl_graph *)g;
  while (c->view) c = c->view;
  return c;
}

gdl_graph *gdl__layer_graph(const void *aux, const char *layer) {
  GDL_ASSERT(aux, "%s: a graph layer needs the graph: run the model with gdl_graph_forward", layer);
  return gdl_graph_current(aux);
}

/* ---- checks ------------------------------------------------------------------- */

static gdl_status rows_of(const gdl_tensor *t, int64_t n, int ndim, const char *what, const char *name,
                          bool fl) {
  if (!t) return GDL_OK;
  if ((ndim && t->ndim != ndim) || t->ndim < 1 || t->shape[0] != n)
    return gdl_error(GDL_ERR_SHAPE, "%s: '%s' must have %lld rows%s", what, name, (long long)n,
                     ndim == 1 ? " (1-d)" : ndim == 2 ? " (2-d)" : "");
  if (fl && !gdl_dtype_is_float(t->dtype))
    return gdl_error(GDL_ERR_FORMAT, "%s: '%s' must be float, got %s", what, name, gdl_dtype_name(t->dtype));
  if (!gdl_tensor_is_contiguous(t)) return gdl_error(GDL_ERR_ARG, "%s: '%s' must be contiguous", what, name);
  return GDL_OK;
}

gdl_status gdl_graph_check(const gdl_graph *g, const char *what) {
  int64_t N = g->num_nodes, E = g->num_edges;
  if (!g->edge_index || g->edge_index->dtype != GDL_I64 || g->edge_index->ndim != 2 ||
      g->edge_index->shape[0] != 2 || g->edge_index->shape[1] != E)
    return gdl_error(GDL_ERR_SHAPE, "%s: edge_index must be int64 [2, %lld]", what, (long long)E);
  const int64_t *s = gdl_graph_src(g), *d = gdl_graph_dst(g);
  for (int64_t e = 0; e < E; e++)
    if (s[e] < 0 || s[e] >= N || d[e] < 0 || d[e] >= N)
      return gdl_error(GDL_ERR_VALUE, "%s: edge %lld (%lld -> %lld) names a node outside [0, %lld)", what,
                       (long long)e, (long long)s[e], (long long)d[e], (long long)N);
  gdl_status st = rows_of(g->x, N, 2, what, "x", true);
  if (!st) st = rows_of(g->edge_weight, E, 1, what, "edge_weight", true);
  if (!st) st = rows_of(g->edge_attr, E, 2, what, "edge_attr", true);
  if (!st) st = rows_of(g->pos, N, 2, what, "pos", true);
  if (!st) st = rows_of(g->batch, N, 1, what, "batch", false);
  const char *mn[] = {"train_mask", "val_mask", "test_mask"};
  gdl_tensor *ms[] = {g->train_mask, g->val_mask, g->test_mask};
  for (int i = 0; !st && i < 3; i++) {
    st = rows_of(ms[i], N, 1, what, mn[i], false);
    if (!st && ms[i] && ms[i]->dtype != GDL_BOOL && ms[i]->dtype != GDL_U8)
      st = gdl_error(GDL_ERR_FORMAT, "%s: '%s' must be bool, got %s", what, mn[i], gdl_dtype_name(ms[i]->dtype));
  }
  if (!st && g->x) st = gdl_tensor_check_finite(g->x, "x");
  if (!st && g->batch) {
    const int64_t *b = g->batch->data;
    for (int64_t i = 0; i < N; i++)
      if (b[i] < 0 || b[i] >= g->num_graphs || (i && b[i] < b[i - 1]))
        return gdl_error(GDL_ERR_VALUE, "%s: batch must be non-decreasing in [0, %lld)", what,
                         (long long)g->num_graphs);
  }
  return st;
}

/* ---- CSRs ------------------------------------------------------------------------ */

/* Counting sort of edges by key[e]: stable, so each group is in edge-id order. */
static void build_csr(gdl_graph *g, const int64_t *key, const int64_t *other, gdl__csr *c) {
  int64_t N = g->num_nodes, E = g->num_edges;
  c->ptr = gdl__galloc(g, (size_t)(N + 1) * sizeof(int64_t));
  c->nbr = gdl__galloc(g, (size_t)E * sizeof(int64_t));
  c->eid = gdl__galloc(g, (size_t)E * sizeof(int64_t));
  for (int64_t e = 0; e < E; e++) c->ptr[key[e] + 1]++;
  for (int64_t v = 0; v < N; v++) c->ptr[v + 1] += c->ptr[v];
  int64_t *fill = malloc((size_t)(N + 1) * sizeof *fill);
  GDL_ASSERT(fill, "out of memory");
  memcpy(fill, c->ptr, (size_t)N * sizeof *fill);
  for (int64_t e = 0; e < E; e++) {
    int64_t q = fill[key[e]]++;
    c->nbr[q] = other[e];
    c->eid[q] = e;
  }
  free(fill);
}

const gdl__csr *gdl__csr_in(const gdl_graph *cg) {
  gdl_graph *g = (gdl_graph *)cg;
  struct gdl_graph_cache *c = cache_of(g);
  if (!c->has_in) {
    build_csr(g, gdl_graph_dst(g), gdl_graph_src(g), &c->in);
    c->has_in = true;
  }
  return &c->in;
}

const gdl__csr *gdl__csr_out(const gdl_graph *cg) {
  gdl_graph *g = (gdl_graph *)cg;
  struct gdl_graph_cache *c = cache_of(g);
  if (!c->has_out) {
    build_csr(g, gdl_graph_src(g), gdl_graph_dst(g), &c->out);
    c->has_out = true;
  }
  return &c->out;
}

gdl_tensor *gdl_graph_degree(const gdl_graph *g, bool in) {
  const gdl__csr *c = in ? gdl__csr_in(g) : gdl__csr_out(g);
  gdl_tensor *d = gdl_tensor_alloc(GDL_I64, GDL_SHAPE(g->num_nodes));
  for (int64_t v = 0; v < g->num_nodes; v++) ((int64_t *)d->data)[v] = c->ptr[v + 1] - c->ptr[v];
  return d;
}

void *gdl__cache_get(const gdl_graph *g, const char *key) {
  struct gdl_graph_cache *c = cache_of(g);
  for (int i = 0; i < c->n; i++)
    if (!strcmp(c->e[i].key, key)) return c->e[i].p;
  return NULL;
}

void gdl__cache_put(const gdl_graph *g, const char *key, void *p, void (*destroy)(void *)) {
  struct gdl_graph_cache *c = cache_of(g);
  GDL_ASSERT(c->n < (int)(sizeof c->e / sizeof *c->e), "graph cache full");
  snprintf(c->e[c->n].key, sizeof c->e[c->n].key, "%s", key);
  c->e[c->n].p = p;
  c->e[c->n].destroy = g->arena ? NULL : destroy;
  c->n++;
}

const gdl_tensor *gdl__graph_ptr(const gdl_graph *g) {
  if (g->ptr) return g->ptr;
  gdl_tensor *p = gdl__cache_get(g, "ptr");
  if (p) return p;
  int64_t G = g->num_graphs > 0 ? g->num_graphs : 1;
  p = gdl__gtensor((gdl_graph *)g, GDL_I64, GDL_SHAPE(G + 1));
  int64_t *P = p->data;
  if (!g->batch) {
    P[1] = g->num_nodes;
    for (int64_t k = 2; k <= G; k++) P[k] = g->num_nodes;
  } else {
    const int64_t *b = g->batch->data;
    for (int64_t i = 0; i < g->num_nodes; i++) P[b[i] + 1]++;
    for (int64_t k = 0; k < G; k++) P[k + 1] += P[k];
  }
  gdl__cache_put(g, "ptr", p, (void (*)(void *))gdl_tensor_free);
  return p;
}

/* ---- node data --------------------------------------------------------------------- */

static gdl_tensor *gather_rows(gdl_graph *dst, const gdl_tensor *t, const int64_t *idx, int64_t n) {
  if (!t) return NULL;
  gdl_shape s = gdl_tensor_shape(t);
  s.d[0] = n;
  gdl_tensor *y = gdl__gtensor(dst, t->dtype, s);
  size_t row = t->shape[0] ? gdl_tensor_nbytes(t) / (size_t)t->shape[0] : 0;
  /* rows in parallel when there is enough to copy (a sampled mini-batch's features) */
  GDL_PARALLEL_FOR_IF((size_t)n * row > ((size_t)1 << 20))
  for (int64_t i = 0; i < n; i++)
    memcpy((char *)y->data + (size_t)i * row, (const char *)t->data + (size_t)(idx ? idx[i] : i) * row, row);
  return y;
}

void gdl__copy_node_data(gdl_graph *dst, const gdl_graph *src, const int64_t *idx, int64_t n) {
  dst->x = gather_rows(dst, src->x, idx, n);
  dst->pos = gather_rows(dst, src->pos, idx, n);
  dst->train_mask = gather_rows(dst, src->train_mask, idx, n);
  dst->val_mask = gather_rows(dst, src->val_mask, idx, n);
  dst->test_mask = gather_rows(dst, src->test_mask, idx, n);
  dst->batch = gather_rows(dst, src->batch, idx, n);
  dst->num_graphs = src->num_graphs;
  if (src->y && src->y->ndim >= 1 && src->y->shape[0] == src->num_nodes && src->num_nodes != src->num_graphs)
    dst->y = gather_rows(dst, src->y, idx, n);
  else if (src->y)
    dst->y = gather_rows(dst, src->y, NULL, src->y->ndim ? src->y->shape[0] : 1);
  if (!idx && src->ptr) dst->ptr = gather_rows(dst, src->ptr, NULL, src->ptr->shape[0]);
  if (src->node_id) dst->node_id = gather_rows(dst, src->node_id, idx, n);
}

/* ---- batching ---------------------------------------------------------------------- */

static gdl_tensor *concat_rows(gdl_graph *const *gs, int64_t n, size_t off, int64_t total) {
  const gdl_tensor *first = *(gdl_tensor *const *)((const char *)gs[0] + off);
  if (!first) return NULL;
  gdl_shape s = gdl_tensor_shape(first);
  if (s.ndim == 0) s = GDL_SHAPE(1);
  s.d[0] = total;
  gdl_tensor *y = gdl_tensor_alloc(first->dtype, s);
  size_t at = 0;
  for (int64_t i = 0; i < n; i++) {
    const gdl_tensor *t = *(gdl_tensor *const *)((const char *)gs[i] + off);
    GDL_ASSERT(t && t->dtype == first->dtype, "batch: graph %lld lacks a field graph 0 has", (long long)i);
    size_t b = gdl_tensor_nbytes(t);
    GDL_ASSERT(at + b <= gdl_tensor_nbytes(y), "batch: graph %lld's fields differ in width", (long long)i);
    memcpy((char *)y->data + at, t->data, b);
    at += b;
  }
  return y;
}

gdl_graph *gdl_graph_batch(gdl_graph *const *gs, int64_t n) {
  int64_t N = 0, E = 0;
  for (int64_t i = 0; i < n; i++) N += gs[i]->num_nodes, E += gs[i]->num_edges;
  gdl_graph *b = gdl__graph_alloc(NULL, N, E);
  b->num_graphs = n;
  b->batch = gdl_tensor_alloc(GDL_I64, GDL_SHAPE(N));
  b->ptr = gdl_tensor_alloc(GDL_I64, GDL_SHAPE(n + 1));
  int64_t *src = b->edge_index->data, *dst = src + E, *bt = b->batch->data, *pt = b->ptr->data;
  int64_t at = 0, ate = 0;
  for (int64_t i = 0; i < n; i++) {
    const gdl_graph *g = gs[i];
    const int64_t *s = gdl_graph_src(g), *d = gdl_graph_dst(g);
    for (int64_t e = 0; e < g->num_edges; e++) src[ate + e] = s[e] + at, dst[ate + e] = d[e] + at;
    for (int64_t v = 0; v < g->num_nodes; v++) bt[at + v] = i;
    pt[i] = at;
    at += g->num_nodes;
    ate += g->num_edges;
  }
  pt[n] = at;
  if (n == 0) return b;
  b->x = concat_rows(gs, n, offsetof(gdl_graph, x), N);
  b->pos = concat_rows(gs, n, offsetof(gdl_graph, pos), N);
  b->edge_weight = concat_rows(gs, n, offsetof(gdl_graph, edge_weight), E);
  b->edge_attr = concat_rows(gs, n, offsetof(gdl_graph, edge_attr), E);
  if (gs[0]->y) {
    bool graph_level = gdl_tensor_numel(gs[0]->y) == 1 && gs[0]->num_nodes != 1;
    int64_t rows = 0;
    for (int64_t i = 0; i < n; i++) rows += graph_level ? 1 : gs[i]->num_nodes;
    b->y = concat_rows(gs, n, offsetof(gdl_graph, y), rows);
  }
  return b;
}

/* ---- running a model on a graph ------------------------------------------------------ */

gdl_tensor *gdl_graph_forward(gdl_model *m, gdl_ctx *ctx, gdl_tensor *x, gdl_graph *g, bool train) {
  g->view = NULL;
  gdl_tensor *y = gdl_model_forward_aux(m, ctx, x, g, train);
  g->view = NULL;
  return y;
}
