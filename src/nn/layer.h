/* Layers inside: a kind (name, build, forward) and the tensors it owns. */
#ifndef GDL_NN_LAYER_H
#define GDL_NN_LAYER_H

#include "core/internal.h"
#include "gdl/nn.h"

#define GDL_LAYER_MAX_TENSORS 8
#define GDL_LAYER_MAX_FROM 16

/* What a layer needs while building its parameters. */
typedef struct {
  gdl_dtype dtype;
  gdl_rng *rng;
  const gdl_shape *outputs; /* per-sample output shapes of the layers before */
  int n;                    /* how many */
} gdl_build;

typedef struct {
  const char *name;
  /* Checks the per-sample input shape, sets l->out, makes the tensors. */
  gdl_status (*build)(gdl_layer *l, gdl_shape in, const gdl_build *b);
  /* aux: the extra input of gdl_model_forward_aux (e.g. a graph), or NULL. */
  gdl_tensor *(*forward)(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train);
} gdl_layer_type;

struct gdl_layer {
  const gdl_layer_type *kind;
  gdl_shape in, out; /* per sample */
  int nt;
  gdl_tensor *t[GDL_LAYER_MAX_TENSORS]; /* parameters, then buffers */
  const char *tname[GDL_LAYER_MAX_TENSORS];
  bool trainable[GDL_LAYER_MAX_TENSORS];
  /* hyperparameters */
  int64_t n0, n1;
  double f0, f1;
  bool flag;
  int act;
  gdl_init init;
  void *hp;         /* kind-specific hyperparameters (freed with the layer) */
  /* Done by the model around this layer: GDL_MERGE_ADD adds the output of layer
   * from[0] to this layer's output (shortcut); GDL_MERGE_CAT replaces it by the
   * outputs of layers from[0..nfrom) joined along the last axis. -1: the model's input. */
  enum { GDL_MERGE_NONE, GDL_MERGE_ADD, GDL_MERGE_CAT } merge;
  int nfrom;
  int64_t from[GDL_LAYER_MAX_FROM];
};

gdl_layer *gdl__layer_new(const gdl_layer_type *kind);
/* A zero tensor owned by l, named as in PyTorch ("weight", "running_mean"). */
gdl_tensor *gdl__layer_tensor(gdl_layer *l, const char *name, gdl_dtype t, gdl_shape s, bool trainable);

/* For config sections (src/nn/sections.c): append l, with errors naming the
 * section's file and line; append the activation named by the section's
 * `activation` key (if any); the names of gdl_init values (NULL-terminated). */
gdl_status gdl__section_add(gdl_model *m, gdl_section *s, gdl_layer *l);
gdl_status gdl__section_activation(gdl_model *m, gdl_section *s);
extern const char *const gdl__init_names[];

#endif
