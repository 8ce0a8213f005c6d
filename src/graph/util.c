/* Small pieces the graph layers share: typed copies of edge data, batch vectors,
 * parameter initialisers. */
#include <stdio.h>

#include "graph/graph.h"
#include "nn/layer.h"

static gdl_tensor *typed(const gdl_graph *g, const gdl_tensor *t, const char *name, gdl_dtype dt) {
  if (!t) return NULL;
  if (t->dtype == dt && gdl_tensor_is_contiguous(t)) return (gdl_tensor *)t;
  char key[48];
  snprintf(key, sizeof key, "%s.%d", name, (int)dt);
  gdl_tensor *c = gdl__cache_get(g, key);
  if (!c) {
    c = gdl__gtensor((gdl_graph *)g, dt, gdl_tensor_shape(t));
    gdl_tensor_copy(c, t);
    gdl__cache_put(g, key, c, (void (*)(void *))gdl_tensor_free);
  }
  return c;
}

gdl_tensor *gdl__edge_weight(const gdl_graph *g, gdl_dtype t) { return typed(g, g->edge_weight, "ew", t); }
gdl_tensor *gdl__edge_attr(const gdl_graph *g, gdl_dtype t) { return typed(g, g->edge_attr, "ea", t); }

gdl_tensor *gdl__batch_index(const gdl_graph *g) {
  if (g->batch) return g->batch;
  gdl_tensor *b = gdl__cache_get(g, "batch0");
  if (!b) {
    b = gdl__gtensor((gdl_graph *)g, GDL_I64, GDL_SHAPE(g->num_nodes));
    gdl__cache_put(g, "batch0", b, (void (*)(void *))gdl_tensor_free);
  }
  return b;
}

gdl_tensor *gdl__param(gdl_layer *l, const char *name, gdl_shape s, gdl__pinit init, int64_t fan_in,
                       int64_t fan_out, const void *build) {
  const gdl_build *b = build;
  gdl_tensor *w = gdl__layer_tensor(l, name, b->dtype, s, true);
  if (init == GDL__GLOROT) gdl_init_fill(w, GDL_INIT_XAVIER_UNIFORM, fan_in, fan_out, b->rng);
  else if (init == GDL__TORCH) gdl_init_fill(w, GDL_INIT_TORCH_UNIFORM, fan_in, fan_out, b->rng);
  return w;
}

gdl_status gdl__need_features(gdl_layer *l, gdl_shape in, int64_t *fin) {
  char buf[96];
  if (in.ndim != 1)
    return gdl_error(GDL_ERR_SHAPE, "%s: node features must be [features] per node, got %s", l->kind->name,
                     gdl_shape_str(in, buf, sizeof buf));
  *fin = in.d[0];
  return GDL_OK;
}
