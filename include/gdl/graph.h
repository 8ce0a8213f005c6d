/* gdl graphs: graph data (PyTorch Geometric's conventions), batching, transforms,
 * message-passing kernels (gSpMM, gSDDMM, edge softmax, segment reductions), GNN
 * layers, readouts, a neighbour sampler, and graph datasets.
 *
 *   gdl_graph *g = gdl_graph_load_npz("../shared/data/planetoid/cora.npz");
 *   gdl_model *m = gdl_model_new(GDL_F32, GDL_SHAPE(g->x->shape[1]), 1);
 *   gdl_model_add(m, gdl_layer_gcn(16, GDL_GCN_DEFAULT));
 *   ...
 *   gdl_tensor *logits = gdl_graph_forward(m, ctx, x, g, true);
 *
 * A graph holds edge_index [2, E] int64: row 0 the source, row 1 the target of each
 * edge; messages flow from source to target (PyG's flow="source_to_target"). A
 * batch of graphs is one graph whose components are the graphs (block diagonal),
 * with batch [N] naming each node's graph and ptr [G+1] the node offsets.
 *
 * Graph layers are gdl layers: the model's per-sample shape is [features], x is
 * [num_nodes, features], and the graph reaches every layer through the aux
 * argument of gdl_model_forward_aux (use gdl_graph_forward, which also resets a
 * pooling layer's view). Readouts turn [num_nodes, F] into [num_graphs, F]. */
#ifndef GDL_GRAPH_H
#define GDL_GRAPH_H

#include "core.h"
#include "io.h"
#include "nn.h"
#include "ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- graph data ------------------------------------------------------------- */

struct gdl_graph_cache;

/* Every tensor a graph points to is owned by it (freed by gdl_graph_free); graphs
 * made inside a context's arena (by pooling layers) own nothing. Optional fields
 * are NULL. */
typedef struct gdl_graph {
  int64_t num_nodes, num_edges, num_graphs;
  gdl_tensor *edge_index;  /* int64 [2, E], contiguous */
  gdl_tensor *edge_weight; /* float [E] */
  gdl_tensor *edge_attr;   /* float [E, D] */
  gdl_tensor *x;           /* float [N, F] node features */
  gdl_tensor *y;           /* int64 [N] node labels or [G] graph labels */
  gdl_tensor *pos;         /* float [N, d] coordinates */
  gdl_tensor *batch;       /* int64 [N] graph of each node, non-decreasing (NULL: all in graph 0) */
  gdl_tensor *ptr;         /* int64 [G + 1] node offsets of the graphs */
  gdl_tensor *train_mask, *val_mask, *test_mask; /* bool [N] */
  int64_t num_seeds;       /* sampled mini-batches: the first num_seeds nodes are the targets */
  gdl_tensor *node_id;     /* int64 [N] original ids of a subgraph's nodes */
  /* Set by pooling layers during a forward pass: the graph later layers see. */
  struct gdl_graph *view;
  /* CSRs by destination and by source, normalisations: built once, on first use. */
  struct gdl_graph_cache *cache;
  gdl_ctx *arena; /* non-NULL: everything lives in this arena */
} gdl_graph;

/* A graph with num_nodes nodes and the edges of edge_index (int32 or int64
 * [2, E], copied). NULL with a message when an index is out of range. */
GDL_API gdl_graph *gdl_graph_new(int64_t num_nodes, const gdl_tensor *edge_index);
/* The same from two arrays of E node ids. */
GDL_API gdl_graph *gdl_graph_from_edges(int64_t num_nodes, int64_t num_edges, const int64_t *src,
                                        const int64_t *dst);
GDL_API void gdl_graph_free(gdl_graph *g);
/* Source and target ids (rows 0 and 1 of edge_index). */
GDL_API const int64_t *gdl_graph_src(const gdl_graph *g);
GDL_API const int64_t *gdl_graph_dst(const gdl_graph *g);
/* Checks shapes and ranges of every field; GDL_ERR_* naming what is wrong. */
GDL_API gdl_status gdl_graph_check(const gdl_graph *g, const char *what);
/* The graph later layers see: g->view when a pooling layer set one, else g. */
GDL_API gdl_graph *gdl_graph_current(const gdl_graph *g);

/* In-degrees (by target) or out-degrees (by source) as a new int64 heap tensor [N]. */
GDL_API gdl_tensor *gdl_graph_degree(const gdl_graph *g, bool in);

/* ---- batching ----------------------------------------------------------------- */

/* One block-diagonal graph of gs[0..n): node features, labels and edge data are
 * concatenated, edge_index is shifted by the running node count, batch and ptr
 * are set. Graph labels y ([1] or scalar per graph) become y [n]. */
GDL_API gdl_graph *gdl_graph_batch(gdl_graph *const *gs, int64_t n);

/* ---- transforms (each returns a new heap graph; node data is copied) ---------------- */

/* Adds a self loop (weight fill, or the weight of an existing loop) to every node
 * that lacks one, as PyG's add_remaining_self_loops: edges without loops first,
 * then the loops of nodes 0..N-1. */
GDL_API gdl_graph *gdl_graph_add_self_loops(const gdl_graph *g, double fill);
GDL_API gdl_graph *gdl_graph_remove_self_loops(const gdl_graph *g);
/* Sorts edges by (source, target) and merges duplicates (weights/attributes summed). */
GDL_API gdl_graph *gdl_graph_coalesce(const gdl_graph *g);
/* Adds the reverse of every edge, then coalesces (weights of merged edges summed). */
GDL_API gdl_graph *gdl_graph_to_undirected(const gdl_graph *g);
/* GCN normalisation: optional remaining self loops (weight 1, or 2 when improved),
 * then w_uv / sqrt(deg(u) deg(v)) with deg the weighted in-degree, as edge_weight
 * (float64). */
GDL_API gdl_graph *gdl_graph_gcn_norm(const gdl_graph *g, bool add_self_loops, bool improved);
/* Rows of a float [N, F] tensor divided by their sums (rows summing to 0 kept),
 * in place: PyG's NormalizeFeatures. */
GDL_API void gdl_graph_normalize_features(gdl_tensor *x);
/* The subgraph induced by nodes[0..n) (distinct ids), relabelled 0..n-1 in the
 * given order; node_id records the original ids. */
GDL_API gdl_graph *gdl_graph_subgraph(const gdl_graph *g, const int64_t *nodes, int64_t n);
/* The subgraph induced by every node from which a seed is reachable in at most
 * k hops (messages flow source -> target), seeds first. */
GDL_API gdl_graph *gdl_graph_k_hop(const gdl_graph *g, const int64_t *seeds, int64_t n, int k);
/* Point-cloud graphs from coordinates pos [N, d] (float), within the graphs of
 * batch (int64 [N], may be NULL): edges j -> i from each of the k nearest points
 * j of i, or from every j with |p_i - p_j| <= r (at most max_neighbors, the
 * nearest first; 0 = no cap). loop: include i itself. PyG's knn_graph/radius_graph. */
GDL_API gdl_graph *gdl_graph_knn(const gdl_tensor *pos, const gdl_tensor *batch, int64_t k, bool loop);
GDL_API gdl_graph *gdl_graph_radius(const gdl_tensor *pos, const gdl_tensor *batch, double r, bool loop,
                                    int64_t max_neighbors);

/* ---- kernels (differentiable; deterministic: grouped by destination, no atomics) -- */

/* Messages for gSpMM. x is read at the source of each edge, e is per edge. */
typedef enum {
  GDL_MSG_COPY_U, /* x[u] */
  GDL_MSG_COPY_E, /* e[edge] */
  GDL_MSG_U_MUL_E, /* x[u] * e[edge] */
  GDL_MSG_U_ADD_E, /* x[u] + e[edge] */
} gdl_msg;

/* out[v] = reduce over edges u -> v of msg(x[u], e[edge]): x [N, ...] (F values per
 * node), e [E, ...] with K values per edge where K divides F (K = 1: a scalar
 * weight; K = heads: one weight per head, broadcast over the head's F/K
 * channels; K = F: elementwise). out has x's shape (e's for COPY_E), rows with
 * no in-edge are 0. Messages are never materialised. */
GDL_API gdl_tensor *gdl_gspmm(gdl_ctx *ctx, const gdl_graph *g, gdl_msg msg, gdl_reduce reduce,
                              gdl_tensor *x, gdl_tensor *e);

typedef enum {
  GDL_SDDMM_ADD,    /* a[u] + b[v] */
  GDL_SDDMM_SUB,    /* a[u] - b[v] */
  GDL_SDDMM_MUL,    /* a[u] * b[v] */
  GDL_SDDMM_DOT,    /* per head h: sum_c a[u, h, c] b[v, h, c] -> [E, heads] */
  GDL_SDDMM_COPY_U, /* a[u] (b unused, may be NULL) */
  GDL_SDDMM_COPY_V, /* b[v] (a unused, may be NULL) */
} gdl_sddmm_op;

/* Per edge u -> v: out[edge] = a[u] op b[v], with a, b [N, F] (any trailing shape
 * of F values; DOT splits F into heads equal parts). */
GDL_API gdl_tensor *gdl_gsddmm(gdl_ctx *ctx, const gdl_graph *g, gdl_sddmm_op op, gdl_tensor *a,
                               gdl_tensor *b, int64_t heads);

/* Softmax of scores s [E, ...] over the edges entering each node, separately for
 * every trailing column (head). */
GDL_API gdl_tensor *gdl_edge_softmax(gdl_ctx *ctx, const gdl_graph *g, gdl_tensor *s);

/* Reduction of rows of x [N, ...] over the segments ptr[g] .. ptr[g+1] (int64
 * [G + 1], non-decreasing, ptr[G] = N) -> [G, ...]; empty segments give 0. */
GDL_API gdl_tensor *gdl_segment(gdl_ctx *ctx, gdl_tensor *x, const gdl_tensor *ptr, gdl_reduce reduce);

/* Dropout fused with a linear map: (dropout(x, p) W^T + b) with gdl_dropout's mask,
 * drawn and multiplied only at the non-zeros of x [N, F] (sparse node features);
 * W [O, F], b [O] or NULL. Without train it is x W^T + b. */
GDL_API gdl_tensor *gdl_dropout_linear(gdl_ctx *ctx, gdl_tensor *x, double p, bool train, gdl_tensor *w,
                                       gdl_tensor *b);

/* Readouts over the graphs of a batch: [N, F] -> [num_graphs, F]. */
GDL_API gdl_tensor *gdl_global_pool(gdl_ctx *ctx, const gdl_graph *g, gdl_tensor *x, gdl_reduce reduce);

/* ---- layers (PyG parameter names under layers.<i>.; see docs/graphs.md) ------------ */

enum {
  GDL_GCN_DEFAULT = 0,
  GDL_GCN_NO_SELF_LOOPS = 1, /* add_self_loops=False */
  GDL_GCN_IMPROVED = 2,      /* self loops of weight 2 */
  GDL_GCN_NO_NORMALIZE = 4,  /* plain sum of (weighted) messages */
  GDL_GCN_NO_BIAS = 8,
};
/* GCNConv: lin.weight [out, in] (glorot), bias [out]. input_dropout > 0: dropout on
 * the layer's input fused with its linear map (gdl_dropout_linear). */
GDL_API gdl_layer *gdl_layer_gcn(int64_t out, int flags, double input_dropout);

typedef struct {
  int64_t heads;          /* 1 */
  bool concat;            /* true: [N, heads*out]; false: mean over heads [N, out] */
  double negative_slope;  /* 0.2 */
  double dropout;         /* attention dropout, 0 */
  bool add_self_loops;    /* true */
  bool bias;              /* true */
  bool v2;                /* GATv2Conv */
  bool share_weights;     /* GATv2: lin_r = lin_l */
  double input_dropout;   /* dropout on the layer's input, fused with lin (GAT), 0 */
  double value_dropout;   /* dropout on h = lin(x) where the attention sums it (Velickovic
                             et al.'s code; PyG has none), 0 */
  bool input_dropout_per_head; /* GAT: one input-dropout mask per head (Velickovic et al.'s
                                  code; PyG shares one), false */
} gdl_gat_opts;
#define GDL_GAT_DEFAULT ((gdl_gat_opts){1, true, 0.2, 0.0, true, true, false, false, 0.0, 0.0, false})
/* GATConv: lin.weight [H*C, in], att_src, att_dst [1, H, C], bias.
 * GATv2Conv: lin_l.weight/bias, lin_r.weight/bias [H*C, in], att [1, H, C], bias. */
GDL_API gdl_layer *gdl_layer_gat(int64_t out, gdl_gat_opts o);

/* SAGEConv: lin_l.weight [out, in], lin_l.bias, lin_r.weight [out, in];
 * out = lin_l(aggr_j x_j) + lin_r(x) (then L2-normalised rows if normalize). */
GDL_API gdl_layer *gdl_layer_sage(int64_t out, gdl_reduce aggr, bool normalize, bool bias);

/* GINConv: out = nn((1 + eps) x + sum_j x_j), nn = Linear(in, h0) [ReLU, Linear(h0,
 * h1)]: nn.0.weight, nn.0.bias, nn.2.weight, nn.2.bias, eps [1] (trained when
 * train_eps). GINEConv (edge_dim > 0 adds lin.weight [in, edge_dim], lin.bias when
 * the edge features' width differs from in; -1: edge_attr already has width in):
 * messages relu(x_j + lin(edge_attr)). hidden2 = 0 for a one-linear nn. */
GDL_API gdl_layer *gdl_layer_gin(int64_t hidden, int64_t hidden2, double eps, bool train_eps,
                                 bool gine, int64_t edge_dim);

/* EdgeConv: out_i = aggr_j nn([x_i, x_j - x_i]), nn = Linear(2 in, h0) [ReLU,
 * Linear(h0, h1)] (nn.0.*, nn.2.*). k > 0: DynamicEdgeConv, the graph is the kNN
 * graph of x within each graph of the batch (k neighbours, no self loop). */
GDL_API gdl_layer *gdl_layer_edge_conv(int64_t hidden, int64_t hidden2, gdl_reduce aggr, int64_t k);

/* ChebConv, K in 1..5: lins.<k>.weight [out, in], bias [out]; symmetric
 * normalisation with lambda_max = 2. */
GDL_API gdl_layer *gdl_layer_cheb(int64_t out, int K, bool bias);

/* GraphConv: out = lin_rel(aggr_j w_ji x_j) + lin_root(x): lin_rel.weight,
 * lin_rel.bias, lin_root.weight. */
GDL_API gdl_layer *gdl_layer_graph_conv(int64_t out, gdl_reduce aggr, bool bias);

/* TransformerConv: lin_query, lin_key, lin_value (weight [H*C, in], bias), and
 * with root_weight lin_skip.weight [H*C or C, in] (no bias: gdl layers hold at
 * most 6 tensors, see docs/graphs.md). alpha = softmax_j(q_i . k_j / sqrt(C)). */
GDL_API gdl_layer *gdl_layer_transformer_conv(int64_t out, int64_t heads, bool concat, double dropout,
                                              bool root_weight);

/* Readouts [N, F] -> [G, F]: global add/mean/max pooling; attention pooling
 * (AttentionalAggregation with gate_nn = Linear(F, 1): gate_nn.weight, gate_nn.bias). */
GDL_API gdl_layer *gdl_layer_graph_pool(gdl_reduce reduce);
GDL_API gdl_layer *gdl_layer_attention_pool(void);
/* TopKPooling: weight [1, in]; keeps ceil(ratio * n) nodes of each graph with the
 * largest tanh(x . w / |w|), scales them by that score and sets the induced
 * subgraph as the view later layers see. */
GDL_API gdl_layer *gdl_layer_topk_pool(double ratio);

/* The model applied to node features x [N, F] of graph g (g->view is reset before
 * and after). */
GDL_API gdl_tensor *gdl_graph_forward(gdl_model *m, gdl_ctx *ctx, gdl_tensor *x, gdl_graph *g, bool train);

/* ---- neighbour sampling ------------------------------------------------------------ */

typedef struct gdl_sampler gdl_sampler;
/* GraphSAGE sampling on g (which must outlive the sampler): for each of the
 * nlayers hops, up to fanout[l] in-neighbours (-1: all) of every frontier node,
 * without replacement. */
GDL_API gdl_sampler *gdl_sampler_new(const gdl_graph *g, const int64_t *fanout, int nlayers);
GDL_API void gdl_sampler_free(gdl_sampler *s);
/* A mini-batch subgraph: seeds[0..n) first (num_seeds = n), then the sampled
 * nodes; edges are the sampled ones (neighbour -> node); x, y (and masks)
 * gathered from g; node_id the original ids. Deterministic for a given seed, on
 * any number of threads. */
GDL_API gdl_graph *gdl_sampler_sample(gdl_sampler *s, const int64_t *seeds, int64_t n, uint64_t seed);

/* ---- training ------------------------------------------------------------------------ */

typedef struct gdl_graph_set gdl_graph_set;

typedef struct {
  gdl_train_opts base; /* epochs, seed, optimiser, schedule, clipping, patience, callbacks, checkpoints */
  /* Node classification with neighbour sampling: fan-out per hop (nfanout 0 = full
   * batch) and base.batch_size seed nodes per step. */
  int64_t fanout[16];
  int nfanout;
  /* Weight decay (L2 on the gradient, base.optim.weight_decay) only on the
   * parameters of these layer indices (ndecay 0: every parameter, by the optimiser),
   * as Kipf & Welling decay the first layer only. */
  int64_t decay_layers[16];
  int ndecay;
  /* Which validation epoch is "best" (restored with base.restore_best; early stopping
   * after base.patience epochs without improvement). */
  enum {
    GDL_SELECT_ACCURACY, /* higher accuracy, ties by lower loss (default) */
    GDL_SELECT_LOSS,     /* lower loss (PyG's citation benchmark) */
    /* The GAT paper's (Velickovic et al.'s code): the patience counter restarts
     * whenever accuracy reaches its maximum or loss its minimum so far; the model is
     * kept when both do at once. */
    GDL_SELECT_ACCURACY_AND_LOSS
  } select;
  /* Graph classification: > 0 draws this many batches per epoch, each of
   * base.batch_size distinct training graphs at random (the GIN code's
   * iters_per_epoch); 0 (default) is one pass over the shuffled training graphs. */
  int64_t steps_per_epoch;
} gdl_graph_train_opts;

GDL_API gdl_graph_train_opts gdl_graph_train_defaults(void);

/* Node classification on one graph: trains on train_mask, validates on val_mask
 * after every epoch (the best epoch by o->select is restored when base.restore_best).
 * g->x is cast to the model's dtype once. */
GDL_API gdl_status gdl_graph_train_nodes(gdl_model *m, gdl_graph *g, const gdl_graph_train_opts *o,
                                         gdl_train_result *r);
/* Cross-entropy and accuracy on the nodes where mask is true (full graph, no grad). */
GDL_API gdl_status gdl_graph_eval_nodes(gdl_model *m, gdl_graph *g, const gdl_tensor *mask, gdl_eval_result *r);

/* Graph classification: trains on graphs train[0..ntrain) of s in shuffled batches
 * of base.batch_size; validates on val (may be NULL) after every epoch. */
GDL_API gdl_status gdl_graph_train_graphs(gdl_model *m, const gdl_graph_set *s, const int64_t *train,
                                          int64_t ntrain, const int64_t *val, int64_t nval,
                                          const gdl_graph_train_opts *o, gdl_train_result *r);
GDL_API gdl_status gdl_graph_eval_graphs(gdl_model *m, const gdl_graph_set *s, const int64_t *idx, int64_t n,
                                         int64_t batch_size, gdl_eval_result *r);

/* ---- datasets ------------------------------------------------------------------------ */

/* An .npz with PyG's field names: x [N, F] float, edge_index [2, E] int, y [N]
 * int, optional train_mask/val_mask/test_mask [N] bool, edge_weight, edge_attr. */
GDL_API gdl_graph *gdl_graph_load_npz(const char *path);
GDL_API gdl_status gdl_graph_save_npz(const char *path, const gdl_graph *g);

/* A set of small graphs (graph classification). */
struct gdl_graph_set {
  int64_t n;
  gdl_graph **graphs;      /* each with x, edge_index, y [1] (and edge_attr if any) */
  int64_t num_classes, num_features, num_edge_features;
};

/* TU format: dir/name_A.txt, _graph_indicator, _graph_labels, optional
 * _node_labels (one-hot features), _node_attributes (appended when
 * use_node_attr), _edge_labels (one-hot edge_attr). Like PyG's TUDataset, edges
 * are coalesced and self loops removed; graph labels are mapped to 0..C-1. */
GDL_API gdl_graph_set *gdl_graph_set_load_tu(const char *dir, const char *name, bool use_node_attr);
GDL_API void gdl_graph_set_free(gdl_graph_set *s);

/* Stratified k-fold split of labels y[0..n): fold[i] in 0..k-1, class
 * proportions kept in every fold; seeded shuffle within classes. */
GDL_API gdl_status gdl_stratified_kfold(const int64_t *y, int64_t n, int k, uint64_t seed, int *fold);

/* The folds of scikit-learn's StratifiedKFold(n_splits = k, shuffle = True,
 * random_state = seed) up to version 0.21, which the GIN paper's code made with seed 0
 * (numpy's MT19937 reproduced; 0.22 changed the algorithm). Labels y as above. */
GDL_API gdl_status gdl_stratified_kfold_sklearn(const int64_t *y, int64_t n, int k, uint32_t seed, int *fold);

#ifdef __cplusplus
}
#endif
#endif
