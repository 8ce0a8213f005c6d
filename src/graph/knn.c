/* Point-cloud graphs: k nearest neighbours and radius graphs (PyG's knn_graph and
 * radius_graph, flow source -> target): edges j -> i from the neighbours j of every
 * point i, nearest first (ties by index), within the graph of i. Brute force, one
 * thread per point: O(n_g^2 d) per graph. */
#include <stdlib.h>

#include "graph/graph.h"

typedef struct {
  double d;
  int64_t j;
} cand;

static int by_dist(const void *a, const void *b) {
  const cand *x = a, *y = b;
  if (x->d != y->d) return x->d < y->d ? -1 : 1;
  return (x->j > y->j) - (x->j < y->j);
}

/* The segments of batch (sorted) as offsets ptr[0..G]; returns G. */
static int64_t segments(const gdl_tensor *batch, int64_t N, int64_t **ptr) {
  int64_t G = 1;
  const int64_t *b = batch ? batch->data : NULL;
  if (b && N) G = b[N - 1] + 1;
  *ptr = calloc((size_t)G + 2, sizeof **ptr);
  for (int64_t i = 0; i < N; i++) (*ptr)[(b ? b[i] : 0) + 1]++;
  for (int64_t g = 0; g < G; g++) (*ptr)[g + 1] += (*ptr)[g];
  return G;
}

static gdl_graph *neighbours(const gdl_tensor *pos, const gdl_tensor *batch, int64_t k, double r, bool loop,
                             int64_t cap, const char *what) {
  if (!pos || pos->ndim != 2 || !gdl_dtype_is_float(pos->dtype)) {
    gdl_error(GDL_ERR_SHAPE, "%s: pos must be float [N, d]", what);
    return NULL;
  }
  int64_t N = pos->shape[0], D = pos->shape[1];
  if (batch && (batch->dtype != GDL_I64 || batch->ndim != 1 || batch->shape[0] != N)) {
    gdl_error(GDL_ERR_SHAPE, "%s: batch must be int64 [N]", what);
    return NULL;
  }
  for (int64_t i = 1; batch && i < N; i++)
    if (((int64_t *)batch->data)[i] < ((int64_t *)batch->data)[i - 1] || ((int64_t *)batch->data)[0] < 0) {
      gdl_error(GDL_ERR_VALUE, "%s: batch must be sorted", what);
      return NULL;
    }
  int64_t *ptr, G = segments(batch, N, &ptr), *gid = malloc((size_t)(N + 1) * sizeof *gid);
  for (int64_t g = 0; g < G; g++)
    for (int64_t i = ptr[g]; i < ptr[g + 1]; i++) gid[i] = g;
  double *P = malloc((size_t)(N * D + 1) * sizeof *P);
  for (int64_t i = 0; i < N * D; i++) P[i] = gdl_tensor_get(pos, i);
  int64_t *cnt = calloc((size_t)N + 1, sizeof *cnt), limit = k > 0 ? k : cap > 0 ? cap : N;
  int64_t *nb = malloc((size_t)(N * (limit < N ? limit : N) + 1) * sizeof *nb);
  int64_t stride = limit < N ? limit : N;
  GDL_OMP(omp parallel)
  {
    cand *c = malloc((size_t)(N + 1) * sizeof *c);
    GDL_OMP(omp for schedule(dynamic, 16))
    for (int64_t i = 0; i < N; i++) {
      int64_t n = 0, g = gid[i];
      for (int64_t j = ptr[g]; j < ptr[g + 1]; j++) {
        if (j == i && !loop) continue;
        double d2 = 0;
        for (int64_t t = 0; t < D; t++) d2 += (P[i * D + t] - P[j * D + t]) * (P[i * D + t] - P[j * D + t]);
        if (k <= 0 && d2 > r * r) continue;
        c[n++] = (cand){d2, j};
      }
      qsort(c, (size_t)n, sizeof *c, by_dist);
      if (n > stride) n = stride;
      cnt[i] = n;
      for (int64_t q = 0; q < n; q++) nb[i * stride + q] = c[q].j;
    }
    free(c);
  }
  int64_t E = 0;
  for (int64_t i = 0; i < N; i++) E += cnt[i];
  gdl_graph *out = gdl__graph_alloc(NULL, N, E);
  int64_t *s = out->edge_index->data, *d = s + E, e = 0;
  for (int64_t i = 0; i < N; i++)
    for (int64_t q = 0; q < cnt[i]; q++) s[e] = nb[i * stride + q], d[e++] = i;
  free(ptr), free(gid), free(P), free(cnt), free(nb);
  return out;
}

gdl_graph *gdl_graph_knn(const gdl_tensor *pos, const gdl_tensor *batch, int64_t k, bool loop) {
  if (k < 1) {
    gdl_error(GDL_ERR_ARG, "knn: k must be at least 1");
    return NULL;
  }
  return neighbours(pos, batch, k, 0, loop, 0, "knn");
}

gdl_graph *gdl_graph_radius(const gdl_tensor *pos, const gdl_tensor *batch, double r, bool loop,
                            int64_t max_neighbors) {
  if (!(r >= 0)) {
    gdl_error(GDL_ERR_ARG, "radius: r must be non-negative");
    return NULL;
  }
  return neighbours(pos, batch, 0, r, loop, max_neighbors, "radius");
}
