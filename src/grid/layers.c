/* Grid layers: convolutions, pooling, global pooling, channel dropout and
 * upsampling, with PyTorch's parameter names and layouts. */
#include <stdlib.h>

#include "gdl/grid.h"
#include "grid/layers.h"
#include "nn/layer.h"

static gdl_status shape_error(const gdl_layer *l, gdl_shape in, const char *want) {
  char b[96];
  return gdl_error(GDL_ERR_SHAPE, "%s: input per sample must be %s, got %s", l->kind->name, want,
                   gdl_shape_str(in, b, sizeof b));
}

/* ---- convolutions -------------------------------------------------------------- */

static gdl_status conv_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  gdl_conv_hp *h = l->hp;
  static const char *const want[] = {"", "[C, W]", "[C, H, W]", "[C, D, H, W]"};
  if (in.ndim != h->nsp + 1) return shape_error(l, in, want[h->nsp]);
  int64_t C = in.d[0], G = h->o.groups > 0 ? h->o.groups : 1, kv = 1;
  if (C % G || h->out % G)
    return gdl_error(GDL_ERR_SHAPE, "%s: %lld input and %lld output channels are not divisible by %lld groups",
                     l->kind->name, (long long)C, (long long)h->out, (long long)G);
  l->out = in;
  l->out.d[0] = h->out;
  gdl_shape ws = {.ndim = h->nsp + 2, .d = {h->transpose ? C : h->out, h->transpose ? h->out / G : C / G}};
  for (int a = 0; a < h->nsp; a++) {
    int64_t s = h->o.stride[a] > 0 ? h->o.stride[a] : 1, d = h->o.dilation[a] > 0 ? h->o.dilation[a] : 1;
    int64_t p = h->o.padding[a], k = h->k[a], n = in.d[1 + a];
    ws.d[2 + a] = k;
    kv *= k;
    l->out.d[1 + a] = h->transpose ? (n - 1) * s - 2 * p + d * (k - 1) + h->o.output_padding[a] + 1
                                   : (n + 2 * p - d * (k - 1) - 1) / s + 1;
    if (!h->transpose && n + 2 * p < d * (k - 1) + 1) {
      char bs[96];
      return gdl_error(GDL_ERR_SHAPE, "%s: kernel %lld (dilation %lld) is larger than the padded input %s", l->kind->name,
                       (long long)k, (long long)d, gdl_shape_str(in, bs, sizeof bs));
    }
    if (l->out.d[1 + a] < 1) return gdl_error(GDL_ERR_SHAPE, "%s: empty output", l->kind->name);
  }
  /* PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias. */
  int64_t fan_in = ws.d[1] * kv, fan_out = ws.d[0] * kv;
  gdl_init_fill(gdl__layer_tensor(l, "weight", b->dtype, ws, true), l->init, fan_in, fan_out, b->rng);
  if (h->bias)
    gdl_init_fill(gdl__layer_tensor(l, "bias", b->dtype, GDL_SHAPE(h->out), true),
                  l->init == GDL_INIT_DEFAULT ? GDL_INIT_TORCH_UNIFORM : GDL_INIT_ZEROS, fan_in, fan_out, b->rng);
  return GDL_OK;
}

static gdl_tensor *conv_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  gdl_conv_hp *h = l->hp;
  gdl_tensor *b = h->bias ? l->t[1] : NULL;
  return h->transpose ? gdl_conv_transpose(ctx, x, l->t[0], b, &h->o) : gdl_conv(ctx, x, l->t[0], b, &h->o);
}

static const gdl_layer_type conv_kinds[2][4] = {
    {{"?", conv_build, conv_forward}, {"conv1d", conv_build, conv_forward}, {"conv2d", conv_build, conv_forward},
     {"conv3d", conv_build, conv_forward}},
    {{"?", conv_build, conv_forward}, {"conv_transpose1d", conv_build, conv_forward},
     {"conv_transpose2d", conv_build, conv_forward}, {"conv_transpose3d", conv_build, conv_forward}}};

gdl_layer *gdl_layer_conv(const gdl_conv_hp *hp, gdl_init init) {
  GDL_ASSERT(hp->nsp >= 1 && hp->nsp <= 3 && hp->out > 0, "conv layer: 1 to 3 spatial axes, positive channels");
  gdl_layer *l = gdl__layer_new(&conv_kinds[hp->transpose][hp->nsp]);
  l->hp = malloc(sizeof *hp);
  GDL_ASSERT(l->hp, "out of memory");
  memcpy(l->hp, hp, sizeof *hp);
  l->init = init;
  return l;
}

gdl_layer *gdl_layer_conv2d(int64_t out, int kernel, int stride, int padding, bool bias) {
  gdl_conv_hp h = {.nsp = 2, .out = out, .k = {kernel, kernel}, .bias = bias,
                   .o = {.stride = {stride, stride}, .padding = {padding, padding}}};
  return gdl_layer_conv(&h, GDL_INIT_DEFAULT);
}

/* ---- pooling ---------------------------------------------------------------------- */

typedef struct {
  int kind; /* POOL_* */
  int k, s, p, oh, ow;
} pool_hp;

enum { MAXP, AVGP, AMAXP, AAVGP, GMAXP, GAVGP };

static gdl_status pool_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  pool_hp *h = l->hp;
  if (in.ndim < 3) return shape_error(l, in, "[C, ..., H, W]");
  int64_t H = in.d[in.ndim - 2], W = in.d[in.ndim - 1];
  l->out = in;
  switch (h->kind) {
    case MAXP:
    case AVGP: {
      int s = h->s > 0 ? h->s : h->k;
      if (H + 2 * h->p < h->k || W + 2 * h->p < h->k || 2 * h->p > h->k) {
        char bs[96];
        return gdl_error(GDL_ERR_SHAPE, "%s: kernel %d, padding %d does not fit the input %s", l->kind->name, h->k, h->p,
                         gdl_shape_str(in, bs, sizeof bs));
      }
      l->out.d[in.ndim - 2] = (H + 2 * h->p - h->k) / s + 1;
      l->out.d[in.ndim - 1] = (W + 2 * h->p - h->k) / s + 1;
      break;
    }
    case AMAXP:
    case AAVGP:
      l->out.d[in.ndim - 2] = h->oh;
      l->out.d[in.ndim - 1] = h->ow;
      break;
    default:
      if (in.ndim != 3) return shape_error(l, in, "[C, H, W] (pool the group axis first)");
      l->out = GDL_SHAPE(in.d[0]);
  }
  return GDL_OK;
}

static gdl_tensor *pool_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  pool_hp *h = l->hp;
  switch (h->kind) {
    case MAXP: return gdl_max_pool2d(ctx, x, h->k, h->s, h->p, NULL);
    case AVGP: return gdl_avg_pool2d(ctx, x, h->k, h->s, h->p);
    case AMAXP: return gdl_adaptive_max_pool2d(ctx, x, h->oh, h->ow);
    case AAVGP: return gdl_adaptive_avg_pool2d(ctx, x, h->oh, h->ow);
    default: {
      gdl_tensor *y = h->kind == GMAXP ? gdl_adaptive_max_pool2d(ctx, x, 1, 1) : gdl_adaptive_avg_pool2d(ctx, x, 1, 1);
      return gdl_reshape(ctx, y, GDL_SHAPE(x->shape[0], x->shape[1]));
    }
  }
}

static const gdl_layer_type pool_kinds[] = {
    {"max_pool2d", pool_build, pool_forward},          {"avg_pool2d", pool_build, pool_forward},
    {"adaptive_max_pool2d", pool_build, pool_forward}, {"adaptive_avg_pool2d", pool_build, pool_forward},
    {"global_max_pool", pool_build, pool_forward},     {"global_avg_pool", pool_build, pool_forward}};

static gdl_layer *pool_layer(int kind, int k, int s, int p, int oh, int ow) {
  gdl_layer *l = gdl__layer_new(&pool_kinds[kind]);
  pool_hp *h = malloc(sizeof *h);
  GDL_ASSERT(h, "out of memory");
  *h = (pool_hp){kind, k, s, p, oh, ow};
  l->hp = h;
  return l;
}

gdl_layer *gdl_layer_max_pool2d(int k, int s, int p) { return pool_layer(MAXP, k, s, p, 0, 0); }
gdl_layer *gdl_layer_avg_pool2d(int k, int s, int p) { return pool_layer(AVGP, k, s, p, 0, 0); }
gdl_layer *gdl_layer_adaptive_max_pool2d(int oh, int ow) { return pool_layer(AMAXP, 0, 0, 0, oh, ow); }
gdl_layer *gdl_layer_adaptive_avg_pool2d(int oh, int ow) { return pool_layer(AAVGP, 0, 0, 0, oh, ow); }
gdl_layer *gdl_layer_global_pool(bool max) { return pool_layer(max ? GMAXP : GAVGP, 0, 0, 0, 0, 0); }

/* ---- channel dropout and upsampling ------------------------------------------------ */

static gdl_status same_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  if (in.ndim < 2) return shape_error(l, in, "[C, ...]");
  l->out = in;
  return GDL_OK;
}

static gdl_tensor *dropout2d_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  return gdl_dropout2d(ctx, x, l->f0, train);
}

static const gdl_layer_type dropout2d_kind = {"dropout2d", same_build, dropout2d_forward};

gdl_layer *gdl_layer_dropout2d(double p) {
  GDL_ASSERT(p >= 0 && p < 1, "dropout2d: p must be in [0, 1)");
  gdl_layer *l = gdl__layer_new(&dropout2d_kind);
  l->f0 = p;
  return l;
}

static gdl_status upsample_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  if (in.ndim != 3) return shape_error(l, in, "[C, H, W]");
  l->out = in;
  l->out.d[1] *= l->n0;
  l->out.d[2] *= l->n0;
  return GDL_OK;
}

static gdl_tensor *upsample_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  int oh = (int)(x->shape[2] * l->n0), ow = (int)(x->shape[3] * l->n0);
  return l->flag ? gdl_upsample_bilinear(ctx, x, oh, ow) : gdl_upsample_nearest(ctx, x, oh, ow);
}

static const gdl_layer_type upsample_kind = {"upsample", upsample_build, upsample_forward};

gdl_layer *gdl_layer_upsample(int scale, bool bilinear) {
  GDL_ASSERT(scale >= 1, "upsample: scale must be at least 1");
  gdl_layer *l = gdl__layer_new(&upsample_kind);
  l->n0 = scale;
  l->flag = bilinear;
  return l;
}
