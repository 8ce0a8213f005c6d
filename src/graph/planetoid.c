/* Graphs in .npz files with PyG's field names (Planetoid's Cora, CiteSeer, ...):
 * x [N, F] float, edge_index [2, E] int, y [N] int, optional train_mask, val_mask,
 * test_mask [N] bool, edge_weight [E], edge_attr [E, D], pos [N, d]. Every field is
 * checked; errors name the file and the field. */
#include <stdio.h>

#include "graph/graph.h"

static gdl_tensor *take(gdl_arrays *a, const char *name) {
  gdl_tensor *t = gdl_arrays_get(a, name);
  return t ? gdl_tensor_clone(t) : NULL;
}

gdl_graph *gdl_graph_load_npz(const char *path) {
  gdl_arrays *a = gdl_npz_load(path);
  if (!a) return NULL;
  gdl_tensor *ei = gdl_arrays_get(a, "edge_index"), *x = gdl_arrays_get(a, "x"), *y = gdl_arrays_get(a, "y");
  gdl_graph *g = NULL;
  gdl_status st = GDL_OK;
  char buf[96];
  if (!ei) st = gdl_error(GDL_ERR_FORMAT, "%s: no array 'edge_index'", path);
  else if (ei->ndim != 2 || ei->shape[0] != 2 || (ei->dtype != GDL_I64 && ei->dtype != GDL_I32))
    st = gdl_error(GDL_ERR_FORMAT, "%s: 'edge_index' must be int64 [2, E], got %s %s", path,
                   gdl_dtype_name(ei->dtype), gdl_shape_str(gdl_tensor_shape(ei), buf, sizeof buf));
  else if (x && (x->ndim != 2 || !gdl_dtype_is_float(x->dtype)))
    st = gdl_error(GDL_ERR_FORMAT, "%s: 'x' must be float [N, F], got %s %s", path, gdl_dtype_name(x->dtype),
                   gdl_shape_str(gdl_tensor_shape(x), buf, sizeof buf));
  else if (y && (y->ndim != 1 || (y->dtype != GDL_I64 && y->dtype != GDL_I32 && y->dtype != GDL_U8)))
    st = gdl_error(GDL_ERR_FORMAT, "%s: 'y' must be integer labels [N], got %s", path, gdl_dtype_name(y->dtype));
  if (!st) {
    int64_t N = x ? x->shape[0] : y ? y->shape[0] : 0;
    for (int64_t i = 0; !x && !y && i < gdl_tensor_numel(ei); i++) {
      int64_t v = (int64_t)gdl_tensor_get(ei, i) + 1;
      if (v > N) N = v;
    }
    if (y && y->shape[0] != N)
      st = gdl_error(GDL_ERR_SHAPE, "%s: 'y' has %lld labels for %lld nodes", path, (long long)y->shape[0],
                     (long long)N);
    else if (!(g = gdl_graph_new(N, ei)))
      st = gdl_error(GDL_ERR_FORMAT, "%s: %s", path, gdl_last_error());
  }
  if (!st) {
    g->x = take(a, "x");
    g->pos = take(a, "pos");
    g->edge_weight = take(a, "edge_weight");
    g->edge_attr = take(a, "edge_attr");
    g->train_mask = take(a, "train_mask");
    g->val_mask = take(a, "val_mask");
    g->test_mask = take(a, "test_mask");
    if (y) {
      g->y = gdl_tensor_alloc(GDL_I64, gdl_tensor_shape(y));
      gdl_tensor_copy(g->y, y);
      for (int64_t i = 0; i < y->shape[0] && !st; i++)
        if (((int64_t *)g->y->data)[i] < 0)
          st = gdl_error(GDL_ERR_VALUE, "%s: 'y' has a negative label at node %lld", path, (long long)i);
    }
    if (!st && (st = gdl_graph_check(g, path))) st = gdl_error(st, "%s", gdl_last_error());
  }
  gdl_arrays_free(a);
  if (st) {
    gdl_graph_free(g);
    return NULL;
  }
  return g;
}

gdl_status gdl_graph_save_npz(const char *path, const gdl_graph *g) {
  gdl_arrays *a = gdl_arrays_new();
  const char *names[] = {"edge_index", "x", "y", "pos", "edge_weight", "edge_attr", "train_mask", "val_mask",
                         "test_mask", "batch", "ptr"};
  gdl_tensor *ts[] = {g->edge_index, g->x, g->y, g->pos, g->edge_weight, g->edge_attr, g->train_mask,
                      g->val_mask, g->test_mask, g->batch, g->ptr};
  for (size_t i = 0; i < sizeof ts / sizeof *ts; i++)
    if (ts[i]) gdl_arrays_put(a, names[i], ts[i], false);
  gdl_status st = gdl_npz_save(path, a, true);
  gdl_arrays_free(a);
  return st;
}
