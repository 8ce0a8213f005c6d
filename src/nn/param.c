/* Parameters and their initialisers. */
#include <stdlib.h>

#include "nn/layer.h"

gdl_tensor *gdl_param_new(gdl_dtype t, gdl_shape s) {
  gdl_tensor *p = gdl_tensor_alloc(t, s);
  if (!p) return NULL;
  p->grad = gdl_tensor_alloc(t, s);
  if (!p->grad) {
    gdl_tensor_free(p);
    return NULL;
  }
  p->requires_grad = true;
  return p;
}

void gdl_init_fill(gdl_tensor *w, gdl_init kind, int64_t fan_in, int64_t fan_out, gdl_rng *rng) {
  double fi = (double)(fan_in > 0 ? fan_in : 1), fo = (double)(fan_out > 0 ? fan_out : 1);
  switch (kind) {
    case GDL_INIT_ZEROS: gdl_tensor_fill(w, 0); break;
    case GDL_INIT_ONES: gdl_tensor_fill(w, 1); break;
    case GDL_INIT_KAIMING_NORMAL: gdl_rng_fill_normal(rng, w, 0, sqrt(2 / fi)); break;
    case GDL_INIT_KAIMING_UNIFORM: gdl_rng_fill_uniform(rng, w, -sqrt(6 / fi), sqrt(6 / fi)); break;
    case GDL_INIT_XAVIER_NORMAL: gdl_rng_fill_normal(rng, w, 0, sqrt(2 / (fi + fo))); break;
    case GDL_INIT_XAVIER_UNIFORM:
      gdl_rng_fill_uniform(rng, w, -sqrt(6 / (fi + fo)), sqrt(6 / (fi + fo)));
      break;
    case GDL_INIT_DEFAULT:
    case GDL_INIT_TORCH_UNIFORM: gdl_rng_fill_uniform(rng, w, -1 / sqrt(fi), 1 / sqrt(fi)); break;
  }
}

gdl_layer *gdl__layer_new(const gdl_layer_type *kind) {
  gdl_layer *l = calloc(1, sizeof *l);
  GDL_ASSERT(l, "out of memory");
  l->kind = kind;
  return l;
}

gdl_tensor *gdl__layer_tensor(gdl_layer *l, const char *name, gdl_dtype t, gdl_shape s, bool trainable) {
  GDL_ASSERT(l->nt < GDL_LAYER_MAX_TENSORS, "layer %s: too many tensors", l->kind->name);
  gdl_tensor *x = trainable ? gdl_param_new(t, s) : gdl_tensor_alloc(t, s);
  GDL_ASSERT(x, "out of memory for %s", name);
  l->t[l->nt] = x;
  l->tname[l->nt] = name;
  l->trainable[l->nt] = trainable;
  l->nt++;
  return x;
}

void gdl_layer_free(gdl_layer *l) {
  if (!l) return;
  for (int i = 0; i < l->nt; i++) gdl_tensor_free(l->t[i]);
  free(l->hp);
  free(l);
}

const char *gdl_layer_kind(const gdl_layer *l) { return l->kind->name; }
gdl_shape gdl_layer_out_shape(const gdl_layer *l) { return l->out; }

int64_t gdl_layer_param_count(const gdl_layer *l) {
  int64_t n = 0;
  for (int i = 0; i < l->nt; i++)
    if (l->trainable[i]) n += gdl_tensor_numel(l->t[i]);
  return n;
}
