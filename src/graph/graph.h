/* Internals of the graph folder: CSRs, caches, allocation inside a graph. */
#ifndef GDL_GRAPH_INTERNAL_H
#define GDL_GRAPH_INTERNAL_H

#include "core/internal.h"
#include "gdl/graph.h"
#include "gdl/nn.h"

/* Edges grouped by one endpoint: for node v, positions ptr[v] .. ptr[v+1] hold the
 * other endpoint nbr[q] and the edge id eid[q], in increasing edge id. */
typedef struct {
  int64_t *ptr, *nbr, *eid;
} gdl__csr;

/* Zeroed memory that lives as long as g (its arena, or freed by gdl_graph_free). */
void *gdl__galloc(gdl_graph *g, size_t bytes);
gdl_tensor *gdl__gtensor(gdl_graph *g, gdl_dtype t, gdl_shape s);
/* A graph with room for E edges (edge_index zeroed), in ctx's arena when ctx. */
gdl_graph *gdl__graph_alloc(gdl_ctx *ctx, int64_t num_nodes, int64_t num_edges);

/* CSR by destination (in-edges, nbr = sources) and by source (out-edges). */
const gdl__csr *gdl__csr_in(const gdl_graph *g);
const gdl__csr *gdl__csr_out(const gdl_graph *g);

/* A small key -> pointer cache per graph (normalised weights, graphs with loops). */
void *gdl__cache_get(const gdl_graph *g, const char *key);
void gdl__cache_put(const gdl_graph *g, const char *key, void *p, void (*destroy)(void *));

/* The graph with remaining self loops (PyG's add_remaining_self_loops), cached. */
gdl_graph *gdl__graph_loops(const gdl_graph *g);
/* Edge weights (tensor [E] of dtype t) of g's GCN normalisation over the graph
 * *used (g itself, or its loop graph), cached. */
gdl_tensor *gdl__gcn_weights(const gdl_graph *g, bool loops, bool improved, gdl_dtype t,
                             const gdl_graph **used);
/* The ptr [G+1] of g's batch (computed from batch when absent), cached. */
const gdl_tensor *gdl__graph_ptr(const gdl_graph *g);
/* Copies node-level fields of src gathered at rows idx[0..n) (all when idx NULL). */
void gdl__copy_node_data(gdl_graph *dst, const gdl_graph *src, const int64_t *idx, int64_t n);

/* The induced subgraph on nodes[0..n) in arena (NULL: heap); without node_data
 * only batch (and num_graphs) is carried over. */
gdl_graph *gdl__subgraph(const gdl_graph *g, const int64_t *nodes, int64_t n, gdl_ctx *arena, bool node_data);

/* The graph passed to a layer (aborts when there is none). */
gdl_graph *gdl__layer_graph(const void *aux, const char *layer);
/* g's edge_weight / edge_attr in dtype t (NULL when absent), and its batch vector
 * (zeros when g has none), cached. */
gdl_tensor *gdl__edge_weight(const gdl_graph *g, gdl_dtype t);
gdl_tensor *gdl__edge_attr(const gdl_graph *g, gdl_dtype t);
gdl_tensor *gdl__batch_index(const gdl_graph *g);

/* gdl_dropout_linear with the non-zero structure of x known (nz from
 * gdl__feature_nonzeros, or NULL to scan x). */
gdl_tensor *gdl__dropout_linear(gdl_ctx *ctx, gdl_tensor *x, double p, bool train, gdl_tensor *w, gdl_tensor *b,
                                const void *nz);
const void *gdl__feature_nonzeros(const gdl_graph *g, const gdl_tensor *x);

/* ---- layer helpers ---- */
struct gdl_layer;
/* A parameter filled with PyG's glorot (U(+-sqrt(6 / (fan_in + fan_out)))), torch's
 * Linear default (U(+-1 / sqrt(fan_in))) or zeros. */
typedef enum { GDL__GLOROT, GDL__TORCH, GDL__ZEROS } gdl__pinit;
gdl_tensor *gdl__param(struct gdl_layer *l, const char *name, gdl_shape s, gdl__pinit init, int64_t fan_in,
                       int64_t fan_out, const void *build);
/* The layer's input must be [features]; sets *fin. */
gdl_status gdl__need_features(struct gdl_layer *l, gdl_shape in, int64_t *fin);

#endif
