/* Group-equivariant layers for p4/p4m and their config sections. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdl/group.h"
#include "nn/layer.h"

typedef struct {
  gdl_plane_group g;
  int64_t out;
  int k, stride, padding;
  bool bias;
  int n;         /* steerable: C_N or D_N */
  bool steerable, reflect;
} gconv_hp;

static int order(const gconv_hp *h) { return h->steerable ? (h->reflect ? 2 : 1) * h->n : gdl_group_order(h->g); }

static gdl_status gconv_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  gconv_hp *h = l->hp;
  int G = order(h);
  char bs[96];
  bool lifting = in.ndim == 3;
  if (!lifting && !(in.ndim == 4 && in.d[1] == G))
    return gdl_error(GDL_ERR_SHAPE, "group_conv2d: input per sample must be [C, H, W] (lifting) or [C, %d, H, W], got %s",
                     G, gdl_shape_str(in, bs, sizeof bs));
  int64_t C = in.d[0], H = in.d[in.ndim - 2], W = in.d[in.ndim - 1];
  if (H + 2 * h->padding < h->k || W + 2 * h->padding < h->k)
    return gdl_error(GDL_ERR_SHAPE, "group_conv2d: kernel %d larger than the padded input %s", h->k,
                     gdl_shape_str(in, bs, sizeof bs));
  l->out = GDL_SHAPE(h->out, G, (H + 2 * h->padding - h->k) / h->stride + 1, (W + 2 * h->padding - h->k) / h->stride + 1);
  int64_t nb = h->steerable ? gdl_steerable_basis_size(h->k) : h->k * h->k;
  gdl_shape ws = h->steerable ? (lifting ? GDL_SHAPE(h->out, C, nb) : GDL_SHAPE(h->out, C, G, nb))
                              : (lifting ? GDL_SHAPE(h->out, C, h->k, h->k) : GDL_SHAPE(h->out, C, G, h->k, h->k));
  /* Fan-in counts pixels (k^2 per input channel), so steerable and pixel filters start at one scale. */
  int64_t fan_in = C * (lifting ? 1 : G) * h->k * h->k;
  gdl_init_fill(gdl__layer_tensor(l, "weight", b->dtype, ws, true), l->init, fan_in, h->out * h->k * h->k, b->rng);
  if (h->bias)
    gdl_init_fill(gdl__layer_tensor(l, "bias", b->dtype, GDL_SHAPE(h->out), true), GDL_INIT_TORCH_UNIFORM, fan_in, 0, b->rng);
  if (h->steerable) { /* the transformed basis: a buffer, saved with the weights */
    gdl_ctx *ctx = gdl_ctx_new();
    gdl_tensor *basis = gdl_steerable_basis(ctx, h->n, h->reflect, h->k, b->dtype);
    gdl_tensor_copy(gdl__layer_tensor(l, "basis", b->dtype, gdl_tensor_shape(basis), false), basis);
    gdl_ctx_free(ctx);
  }
  return GDL_OK;
}

static gdl_tensor *gconv_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  gconv_hp *h = l->hp;
  gdl_tensor *bias = h->bias ? l->t[1] : NULL;
  if (h->steerable)
    return gdl_steerable_conv2d(ctx, h->n, h->reflect, x, l->t[0], l->t[h->bias ? 2 : 1], bias, h->stride, h->padding);
  return gdl_group_conv2d(ctx, h->g, x, l->t[0], bias, h->stride, h->padding);
}

static const gdl_layer_type gconv_kind = {"group_conv2d", gconv_build, gconv_forward};

gdl_layer *gdl_layer_group_conv2d(gdl_plane_group g, int64_t out, int kernel, int stride, int padding, bool bias) {
  GDL_ASSERT(out > 0 && kernel > 0 && stride > 0 && padding >= 0, "group_conv2d: bad sizes");
  gdl_layer *l = gdl__layer_new(&gconv_kind);
  gconv_hp *h = malloc(sizeof *h);
  GDL_ASSERT(h, "out of memory");
  *h = (gconv_hp){g, out, kernel, stride, padding, bias, 0, false, false};
  l->hp = h;
  return l;
}

gdl_layer *gdl_layer_steerable_conv2d(int n, bool reflect, int64_t out, int kernel, int stride, int padding,
                                      bool bias) {
  GDL_ASSERT(n >= 1 && kernel % 2 == 1 && kernel >= 3, "steerable conv: N >= 1 and an odd kernel >= 3");
  gdl_layer *l = gdl_layer_group_conv2d(GDL_GROUP_P4, out, kernel, stride, padding, bias);
  gconv_hp *h = l->hp;
  h->n = n;
  h->steerable = true;
  h->reflect = reflect;
  return l;
}

static gdl_status gpool_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  char bs[96];
  if (in.ndim != 4)
    return gdl_error(GDL_ERR_SHAPE, "group_pool: input per sample must be [C, |H|, H, W], got %s",
                     gdl_shape_str(in, bs, sizeof bs));
  l->out = GDL_SHAPE(in.d[0], in.d[2], in.d[3]);
  return GDL_OK;
}

static gdl_tensor *gpool_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  return gdl_group_pool(ctx, x, l->flag);
}

static const gdl_layer_type gpool_kind = {"group_pool", gpool_build, gpool_forward};

gdl_layer *gdl_layer_group_pool(bool max) {
  gdl_layer *l = gdl__layer_new(&gpool_kind);
  l->flag = max;
  return l;
}

/* [group_conv2d] group = p4 | p4m | C<N> | D<N>, out, kernel, stride, padding (or same),
 * bias, init, activation */
gdl_status gdl__group_conv2d_section(gdl_model *m, gdl_section *s) {
  int g = 0, init, n = 0;
  int64_t out, k, stride, pad = 0;
  bool bias, reflect = false;
  const char *padding, *group;
  gdl_status st = gdl_section_str(s, "group", "p4", &group);
  if (!st) {
    char tail;
    if (!strcmp(group, "p4m")) g = 1;
    else if (strcmp(group, "p4") && !((group[0] == 'C' || group[0] == 'D') && sscanf(group + 1, "%d%c", &n, &tail) == 1 && n >= 1 && n <= 64))
      st = gdl_section_error(s, "group", "expected p4, p4m, C<N> or D<N> (N in 1..64), got '%s'", group);
    reflect = group[0] == 'D';
  }
  if (!st) st = gdl_section_int(s, "out", 0, &out);
  if (!st && out < 1) st = gdl_section_error(s, "out", "is required (output channels per group element)");
  if (!st) st = gdl_section_int(s, "kernel", 0, &k);
  if (!st && k < 1) st = gdl_section_error(s, "kernel", "is required and positive");
  if (!st) st = gdl_section_int(s, "stride", 1, &stride);
  if (!st && stride < 1) st = gdl_section_error(s, "stride", "must be positive");
  if (!st) st = gdl_section_bool(s, "bias", true, &bias);
  if (!st) st = gdl_section_enum(s, "init", gdl__init_names, 0, &init);
  if (!st) st = gdl_section_str(s, "padding", "0", &padding);
  if (!st && !strcmp(padding, "same")) {
    if (stride != 1 || k % 2 == 0) st = gdl_section_error(s, "padding", "'same' needs stride 1 and an odd kernel");
    pad = (k - 1) / 2;
  } else if (!st) {
    st = gdl_section_int(s, "padding", 0, &pad);
    if (!st && pad < 0) st = gdl_section_error(s, "padding", "must be >= 0 or same");
  }
  if (!st && n && (k % 2 == 0 || k < 3)) st = gdl_section_error(s, "kernel", "steerable filters (C<N>, D<N>) need an odd kernel >= 3");
  if (st) return st;
  gdl_layer *l = n ? gdl_layer_steerable_conv2d(n, reflect, out, (int)k, (int)stride, (int)pad, bias)
                   : gdl_layer_group_conv2d((gdl_plane_group)g, out, (int)k, (int)stride, (int)pad, bias);
  l->init = (gdl_init)init;
  st = gdl__section_add(m, s, l);
  return st ? st : gdl__section_activation(m, s);
}

/* [group_pool] mode = max | mean */
gdl_status gdl__group_pool_section(gdl_model *m, gdl_section *s) {
  static const char *const modes[] = {"max", "mean", NULL};
  int mode;
  gdl_status st = gdl_section_enum(s, "mode", modes, 0, &mode);
  return st ? st : gdl__section_add(m, s, gdl_layer_group_pool(mode == 0));
}
