/* A small random graph for the op table's sample inputs (gradient checks): 6 nodes,
 * 12 edges in the context's arena, with a repeated edge, a self loop and a node
 * without in-edges, so every code path of the kernels is exercised. */
#ifndef GDL_GRAPH_SAMPLE_H
#define GDL_GRAPH_SAMPLE_H

#include "graph/graph.h"
#include "ops/sample.h"

static inline gdl_graph *gdl__sample_graph(gdl_ctx *ctx, gdl_rng *rng) {
  enum { N = 6, E = 12 };
  gdl_graph *g = gdl__graph_alloc(ctx, N, E);
  int64_t *s = g->edge_index->data, *d = s + E;
  for (int e = 0; e < E - 3; e++) {
    s[e] = (int64_t)gdl_rng_below(rng, N);
    d[e] = 1 + (int64_t)gdl_rng_below(rng, N - 1); /* node 0 receives nothing */
  }
  s[E - 3] = s[0], d[E - 3] = d[0]; /* a repeated edge */
  s[E - 2] = 3, d[E - 2] = 3;       /* a self loop */
  s[E - 1] = 0, d[E - 1] = 5;
  return g;
}

#endif
