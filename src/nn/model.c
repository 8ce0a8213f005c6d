/* A model: a sequence of layers, the running per-sample shape while building,
 * and the flat list of named tensors (parameters first, in layer order). */
#include <stdio.h>
#include <stdlib.h>

#include "nn/layer.h"

typedef struct {
  char *name;
  gdl_tensor *t;
  bool trainable;
} named;

struct gdl_model {
  gdl_dtype dtype;
  gdl_shape sample, cur;
  gdl_rng rng;
  gdl_layer **layers;
  int n, cap;
  named *tensors; /* every tensor of every layer */
  int nt, capt;
  gdl_tensor **params; /* trainable ones, for optimisers */
  const char **pnames;
  int np;
};

gdl_model *gdl_model_new(gdl_dtype dtype, gdl_shape sample_shape, uint64_t seed) {
  gdl_model *m = calloc(1, sizeof *m);
  GDL_ASSERT(m, "out of memory");
  m->dtype = dtype;
  m->sample = m->cur = sample_shape;
  m->rng = gdl_rng_make(seed);
  return m;
}

void gdl_model_free(gdl_model *m) {
  if (!m) return;
  for (int i = 0; i < m->n; i++) gdl_layer_free(m->layers[i]);
  for (int i = 0; i < m->nt; i++) free(m->tensors[i].name);
  free(m->layers);
  free(m->tensors);
  free(m->params);
  free(m->pnames);
  free(m);
}

static void index_tensors(gdl_model *m, gdl_layer *l, int idx) {
  for (int k = 0; k < l->nt; k++) {
    if (m->nt == m->capt) {
      m->capt = m->capt ? 2 * m->capt : 16;
      m->tensors = realloc(m->tensors, (size_t)m->capt * sizeof *m->tensors);
      GDL_ASSERT(m->tensors, "out of memory");
    }
    char buf[128];
    snprintf(buf, sizeof buf, "layers.%d.%s", idx, l->tname[k]);
    m->tensors[m->nt++] = (named){strdup(buf), l->t[k], l->trainable[k]};
  }
  /* Rebuild the trainable view (small; happens once per layer). */
  free(m->params);
  free(m->pnames);
  m->params = malloc((size_t)m->nt * sizeof *m->params);
  m->pnames = malloc((size_t)m->nt * sizeof *m->pnames);
  GDL_ASSERT(m->params && m->pnames, "out of memory");
  m->np = 0;
  for (int i = 0; i < m->nt; i++)
    if (m->tensors[i].trainable) {
      m->params[m->np] = m->tensors[i].t;
      m->pnames[m->np++] = m->tensors[i].name;
    }
}

/* Checks the layers a shortcut or concat names and sets a concat's output shape. */
static gdl_status merge_shape(const gdl_model *m, gdl_layer *l, const gdl_shape *outs) {
  const char *what = l->merge == GDL_MERGE_ADD ? "shortcut" : "concat";
  char b1[96], b2[96];
  gdl_shape cat = {0};
  for (int k = 0; k < l->nfrom; k++) {
    int64_t f = l->from[k];
    if (f < -1 || f >= m->n)
      return gdl_error(GDL_ERR_CONFIG, "%s from layer %lld: there is no such earlier layer", what, (long long)f);
    gdl_shape src = f < 0 ? m->sample : outs[f];
    if (l->merge == GDL_MERGE_ADD) {
      if (!gdl_shape_eq(src, l->out))
        return gdl_error(GDL_ERR_SHAPE, "shortcut: the output of layer %lld is %s, this layer's is %s", (long long)f,
                         gdl_shape_str(src, b1, sizeof b1), gdl_shape_str(l->out, b2, sizeof b2));
      continue;
    }
    bool ok = src.ndim >= 1 && (k == 0 || src.ndim == cat.ndim);
    for (int a = 0; ok && k > 0 && a < src.ndim - 1; a++) ok = src.d[a] == cat.d[a];
    if (!ok)
      return gdl_error(GDL_ERR_SHAPE, "concat: the output of layer %lld is %s, which cannot join %s along the last axis",
                       (long long)f, gdl_shape_str(src, b1, sizeof b1), gdl_shape_str(cat, b2, sizeof b2));
    if (k == 0)
      cat = src;
    else
      cat.d[cat.ndim - 1] += src.d[src.ndim - 1];
  }
  if (l->merge == GDL_MERGE_CAT) l->out = cat;
  return GDL_OK;
}

gdl_status gdl_model_add(gdl_model *m, gdl_layer *l) {
  gdl_shape *outs = malloc(sizeof *outs * (size_t)(m->n + 1));
  GDL_ASSERT(outs, "out of memory");
  for (int i = 0; i < m->n; i++) outs[i] = m->layers[i]->out;
  gdl_build b = {m->dtype, &m->rng, outs, m->n};
  l->in = m->cur;
  gdl_status st = l->kind->build(l, m->cur, &b);
  if (!st && l->merge) st = merge_shape(m, l, outs);
  free(outs);
  if (st) {
    gdl_layer_free(l);
    return gdl_error(st, "layer %d: %s", m->n, gdl_last_error());
  }
  if (m->n == m->cap) {
    m->cap = m->cap ? 2 * m->cap : 16;
    m->layers = realloc(m->layers, (size_t)m->cap * sizeof *m->layers);
    GDL_ASSERT(m->layers, "out of memory");
  }
  m->layers[m->n] = l;
  index_tensors(m, l, m->n);
  m->n++;
  m->cur = l->out;
  return GDL_OK;
}

gdl_status gdl_model_add_mlp(gdl_model *m, const int64_t *widths, int n, gdl_activation a,
                             double dropout) {
  for (int i = 0; i < n; i++) {
    gdl_status st = gdl_model_add(m, gdl_layer_linear(widths[i], true, GDL_INIT_DEFAULT));
    if (st || i == n - 1) return st;
    if ((st = gdl_model_add(m, gdl_layer_activation(a, 0.01)))) return st;
    if (dropout > 0 && (st = gdl_model_add(m, gdl_layer_dropout(dropout)))) return st;
  }
  return GDL_OK;
}

gdl_tensor *gdl_model_forward(gdl_model *m, gdl_ctx *ctx, gdl_tensor *x, bool train) {
  return gdl_model_forward_aux(m, ctx, x, NULL, train);
}

gdl_tensor *gdl_model_forward_aux(gdl_model *m, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  GDL_ASSERT(x->ndim == m->sample.ndim + 1, "model: input must be [batch, sample...] with %d axes, got %d",
             m->sample.ndim + 1, x->ndim);
  gdl_tensor *input = x, **outs = gdl_ctx_alloc(ctx, sizeof *outs * (size_t)(m->n ? m->n : 1));
  for (int i = 0; i < m->n; i++) {
    gdl_layer *l = m->layers[i];
    x = l->kind->forward(l, ctx, x, aux, train);
    if (l->merge == GDL_MERGE_ADD) x = gdl_add(ctx, x, l->from[0] < 0 ? input : outs[l->from[0]]);
    if (l->merge == GDL_MERGE_CAT) {
      gdl_tensor *xs[GDL_LAYER_MAX_FROM];
      for (int k = 0; k < l->nfrom; k++) xs[k] = l->from[k] < 0 ? input : outs[l->from[k]];
      x = l->nfrom == 1 ? xs[0] : gdl_concat(ctx, xs, l->nfrom, x->ndim - 1);
    }
    outs[i] = x;
  }
  return x;
}

int gdl_model_layer_count(const gdl_model *m) { return m->n; }
gdl_layer *gdl_model_layer(const gdl_model *m, int i) { return i >= 0 && i < m->n ? m->layers[i] : NULL; }
gdl_dtype gdl_model_dtype(const gdl_model *m) { return m->dtype; }
gdl_shape gdl_model_sample_shape(const gdl_model *m) { return m->sample; }
gdl_shape gdl_model_out_shape(const gdl_model *m) { return m->cur; }
int gdl_model_param_count(const gdl_model *m) { return m->np; }
gdl_tensor *gdl_model_param(const gdl_model *m, int i) { return m->params[i]; }
const char *gdl_model_param_name(const gdl_model *m, int i) { return m->pnames[i]; }

int64_t gdl_model_numel(const gdl_model *m) {
  int64_t n = 0;
  for (int i = 0; i < m->np; i++) n += gdl_tensor_numel(m->params[i]);
  return n;
}

void gdl_model_zero_grad(gdl_model *m) {
  for (int i = 0; i < m->np; i++) memset(m->params[i]->grad->data, 0, gdl_tensor_nbytes(m->params[i]));
}

gdl_status gdl_model_state(const gdl_model *m, gdl_arrays *out) {
  for (int i = 0; i < m->nt; i++) {
    gdl_status st = gdl_arrays_put(out, m->tensors[i].name, m->tensors[i].t, false);
    if (st) return st;
  }
  return GDL_OK;
}

gdl_status gdl_model_load_state(gdl_model *m, const gdl_arrays *in, const char *source) {
  char b1[96], b2[96];
  for (int i = 0; i < m->nt; i++) { /* check everything before changing anything */
    gdl_tensor *dst = m->tensors[i].t, *src = gdl_arrays_get(in, m->tensors[i].name);
    if (!src) return gdl_error(GDL_ERR_FORMAT, "%s: no tensor '%s' (the model needs it)", source, m->tensors[i].name);
    if (!gdl_shape_eq(gdl_tensor_shape(src), gdl_tensor_shape(dst)))
      return gdl_error(GDL_ERR_SHAPE, "%s: '%s' has shape %s, the model needs %s", source, m->tensors[i].name,
                       gdl_shape_str(gdl_tensor_shape(src), b1, sizeof b1),
                       gdl_shape_str(gdl_tensor_shape(dst), b2, sizeof b2));
    if (!gdl_dtype_is_float(src->dtype))
      return gdl_error(GDL_ERR_FORMAT, "%s: '%s' is %s, expected a float tensor", source, m->tensors[i].name,
                       gdl_dtype_name(src->dtype));
    gdl_status st = gdl_tensor_check_finite(src, m->tensors[i].name);
    if (st) return gdl_error(st, "%s: %s", source, gdl_last_error());
  }
  for (int i = 0; i < m->nt; i++) gdl_tensor_copy(m->tensors[i].t, gdl_arrays_get(in, m->tensors[i].name));
  return GDL_OK;
}
