/* Layer sections of a config, one table line each: the section name and the
 * function that reads its keys and appends its layer(s). Keys are documented in
 * docs/config.md. */
#include <stdio.h>

#include "nn/layer.h"

typedef gdl_status (*section_fn)(gdl_model *m, gdl_section *s);

gdl_status gdl__section_add(gdl_model *m, gdl_section *s, gdl_layer *l) {
  gdl_status st = gdl_model_add(m, l);
  return st ? gdl_section_error(s, NULL, "%s", gdl_last_error()) : GDL_OK;
}

const char *const gdl__init_names[] = {"default",        "zeros",         "ones",
                                         "kaiming_normal", "kaiming_uniform", "xavier_normal",
                                         "xavier_uniform", "torch_uniform", NULL};
static const char *const act_names[] = {"relu", "leaky_relu", "elu", "gelu", "silu", "sigmoid", "tanh",
                                        "softplus", "none", NULL};

/* An optional activation after a layer: activation = relu (alpha = slope). */
gdl_status gdl__section_activation(gdl_model *m, gdl_section *s) {
  int a;
  double alpha;
  gdl_status st = gdl_section_enum(s, "activation", act_names, GDL_ACT_COUNT, &a);
  if (!st) st = gdl_section_double(s, "alpha", a == GDL_ACT_ELU ? 1.0 : 0.01, &alpha);
  if (st || a == GDL_ACT_COUNT) return st;
  return gdl__section_add(m, s, gdl_layer_activation((gdl_activation)a, alpha));
}

static gdl_status positive(gdl_section *s, const char *key, int64_t v) {
  return v > 0 ? GDL_OK : gdl_section_error(s, key, "must be a positive integer, got %lld", (long long)v);
}

static gdl_status linear_section(gdl_model *m, gdl_section *s) {
  int64_t out;
  bool bias;
  int init;
  gdl_status st = gdl_section_int(s, "out", 0, &out);
  if (!st) st = positive(s, "out", out);
  if (!st) st = gdl_section_bool(s, "bias", true, &bias);
  if (!st) st = gdl_section_enum(s, "init", gdl__init_names, 0, &init);
  if (!st) st = gdl__section_add(m, s, gdl_layer_linear(out, bias, (gdl_init)init));
  return st ? st : gdl__section_activation(m, s);
}

static gdl_status act_section(gdl_model *m, gdl_section *s) {
  int a = 0;
  while (strcmp(act_names[a], gdl_section_name(s))) a++;
  double alpha;
  gdl_status st = gdl_section_double(s, a == GDL_ACT_ELU ? "alpha" : "slope", a == GDL_ACT_ELU ? 1.0 : 0.01, &alpha);
  return st ? st : gdl__section_add(m, s, gdl_layer_activation((gdl_activation)a, alpha));
}

static gdl_status dropout_section(gdl_model *m, gdl_section *s) {
  double p;
  gdl_status st = gdl_section_double(s, "p", 0.5, &p);
  if (!st && (p < 0 || p >= 1)) st = gdl_section_error(s, "p", "must be in [0, 1), got %g", p);
  return st ? st : gdl__section_add(m, s, gdl_layer_dropout(p));
}

static gdl_status layer_norm_section(gdl_model *m, gdl_section *s) {
  double eps;
  bool affine;
  gdl_status st = gdl_section_double(s, "eps", 1e-5, &eps);
  if (!st) st = gdl_section_bool(s, "affine", true, &affine);
  return st ? st : gdl__section_add(m, s, gdl_layer_layer_norm(eps, affine));
}

static gdl_status batch_norm_section(gdl_model *m, gdl_section *s) {
  double eps, momentum;
  gdl_status st = gdl_section_double(s, "eps", 1e-5, &eps);
  if (!st) st = gdl_section_double(s, "momentum", 0.1, &momentum);
  if (!st && (momentum < 0 || momentum > 1)) st = gdl_section_error(s, "momentum", "must be in [0, 1]");
  return st ? st : gdl__section_add(m, s, gdl_layer_batch_norm(eps, momentum));
}

static gdl_status embedding_section(gdl_model *m, gdl_section *s) {
  int64_t num, dim;
  gdl_status st = gdl_section_int(s, "num", 0, &num);
  if (!st) st = positive(s, "num", num);
  if (!st) st = gdl_section_int(s, "dim", 0, &dim);
  if (!st) st = positive(s, "dim", dim);
  return st ? st : gdl__section_add(m, s, gdl_layer_embedding(num, dim));
}

/* [shortcut] from = -3 (relative, darknet style: the layer three back) */
static gdl_status shortcut_section(gdl_model *m, gdl_section *s) {
  int64_t from;
  gdl_status st = gdl_section_int(s, "from", 0, &from);
  if (!st && from >= 0)
    st = gdl_section_error(s, "from", "is required and negative (counted back from this layer, e.g. -3), got %lld",
                           (long long)from);
  if (!st) st = gdl__section_add(m, s, gdl_layer_shortcut(gdl_model_layer_count(m) + from));
  return st ? st : gdl__section_activation(m, s);
}

/* [concat] from = -25, -19, -13, -7, -1 (relative, as for shortcut; -1: the layer
 * just before) */
static gdl_status concat_section(gdl_model *m, gdl_section *s) {
  int64_t from[GDL_LAYER_MAX_FROM];
  int n, here = gdl_model_layer_count(m);
  gdl_status st = gdl_section_ints(s, "from", from, GDL_LAYER_MAX_FROM, &n);
  if (!st && !n) st = gdl_section_error(s, "from", "is required: earlier layers counted back from here, e.g. -7, -1");
  for (int k = 0; !st && k < n; k++)
    if (from[k] >= 0 || here + from[k] < -1)
      st = gdl_section_error(s, "from", "entries must be negative and reach back at most to the input (-%d), got %lld",
                             here + 1, (long long)from[k]);
  if (st) return st;
  for (int k = 0; k < n; k++) from[k] += here;
  return gdl__section_add(m, s, gdl_layer_concat(from, n));
}

static gdl_status flatten_section(gdl_model *m, gdl_section *s) { return gdl__section_add(m, s, gdl_layer_flatten()); }

/* [mlp] sizes = 512, 512, 10: linear layers with activation (and dropout) between. */
static gdl_status mlp_section(gdl_model *m, gdl_section *s) {
  int64_t sizes[32];
  int n, a;
  double p;
  gdl_status st = gdl_section_ints(s, "sizes", sizes, 32, &n);
  if (!st && !n) st = gdl_section_error(s, "sizes", "is required (e.g. sizes = 512, 512, 10)");
  for (int i = 0; !st && i < n; i++) st = positive(s, "sizes", sizes[i]);
  if (!st) st = gdl_section_enum(s, "activation", act_names, 0, &a);
  if (!st && a == GDL_ACT_COUNT) st = gdl_section_error(s, "activation", "an MLP needs an activation");
  if (!st) st = gdl_section_double(s, "dropout", 0, &p);
  if (!st && (p < 0 || p >= 1)) st = gdl_section_error(s, "dropout", "must be in [0, 1)");
  if (st) return st;
  st = gdl_model_add_mlp(m, sizes, n, (gdl_activation)a, p);
  return st ? gdl_section_error(s, NULL, "%s", gdl_last_error()) : GDL_OK;
}

/* Sections of other folders are defined there (gdl__<name>_section) and listed in
 * their sections.def files. */
#define GDL_SECTION(name, fn) gdl_status fn(gdl_model *m, gdl_section *s);
#include "grid/sections.def"
#include "group/sections.def"
#include "sphere/sections.def"
#include "graph/sections.def"
#include "mesh/sections.def"
#undef GDL_SECTION

static const struct {
  const char *name;
  section_fn fn;
} sections[] = {
#define GDL_SECTION(name, fn) {#name, fn},
#include "nn/sections.def"
#include "grid/sections.def"
#include "group/sections.def"
#include "sphere/sections.def"
#include "graph/sections.def"
#include "mesh/sections.def"
#undef GDL_SECTION
};

bool gdl_layer_section_known(const char *name) {
  for (size_t i = 0; i < sizeof sections / sizeof *sections; i++)
    if (!strcmp(sections[i].name, name)) return true;
  return false;
}

gdl_status gdl_model_add_config(gdl_model *m, gdl_config *cfg) {
  for (int i = 0; i < gdl_config_count(cfg); i++) {
    gdl_section *s = gdl_config_section(cfg, i);
    const char *name = gdl_section_name(s);
    if (!strcmp(name, "data") || !strcmp(name, "train")) continue;
    size_t k = 0;
    while (k < sizeof sections / sizeof *sections && strcmp(sections[k].name, name)) k++;
    if (k == sizeof sections / sizeof *sections)
      return gdl_error(GDL_ERR_CONFIG, "%s:%d: unknown section [%s] (see docs/config.md)", gdl_config_file(cfg),
                       gdl_section_line(s), name);
    gdl_status st = sections[k].fn(m, s);
    if (st) return st;
  }
  return GDL_OK;
}
