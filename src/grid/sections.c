/* Config sections of grid layers; keys in docs/config.md. */
#include <string.h>

#include "grid/layers.h"
#include "nn/layer.h"

/* An integer or one per spatial axis: "3" or "3, 5". */
static gdl_status per_axis(gdl_section *s, const char *key, int nsp, int64_t def, int64_t *out) {
  int64_t v[3];
  int n;
  gdl_status st = gdl_section_ints(s, key, v, 3, &n);
  if (st) return st;
  if (n != 0 && n != 1 && n != nsp) return gdl_section_error(s, key, "give one value or %d", nsp);
  for (int a = 0; a < nsp; a++) out[a] = n == 0 ? def : v[n == 1 ? 0 : a];
  return GDL_OK;
}

static gdl_status conv_section(gdl_model *m, gdl_section *s, int nsp, bool transpose) {
  static const char *const modes[] = {"zeros", "reflect", "replicate", "circular", NULL};
  gdl_conv_hp h = {.nsp = nsp, .transpose = transpose};
  int64_t st3[3], pad[3], dil[3], opad[3], groups;
  const char *padding;
  int mode, init;
  gdl_status st = gdl_section_int(s, "out", 0, &h.out);
  if (!st && h.out < 1) st = gdl_section_error(s, "out", "is required (output channels, e.g. out = 32)");
  if (!st) st = per_axis(s, "kernel", nsp, 0, h.k);
  for (int a = 0; !st && a < nsp; a++)
    if (h.k[a] < 1) st = gdl_section_error(s, "kernel", "is required and positive (e.g. kernel = 3)");
  if (!st) st = per_axis(s, "stride", nsp, 1, st3);
  if (!st) st = per_axis(s, "dilation", nsp, 1, dil);
  if (!st) st = gdl_section_int(s, "groups", 1, &groups);
  if (!st && groups < 1) st = gdl_section_error(s, "groups", "must be positive");
  if (!st) st = gdl_section_bool(s, "bias", true, &h.bias);
  if (!st) st = gdl_section_enum(s, "padding_mode", modes, 0, &mode);
  if (!st) st = gdl_section_enum(s, "init", gdl__init_names, 0, &init);
  if (!st) st = per_axis(s, "output_padding", nsp, 0, opad);
  if (!st && !transpose && gdl_section_has(s, "output_padding"))
    st = gdl_section_error(s, "output_padding", "only transposed convolutions have it");
  /* padding: a number, one per axis, or "same" (stride 1, odd kernels) */
  if (!st) st = gdl_section_str(s, "padding", "0", &padding);
  if (!st && !strcmp(padding, "same")) {
    for (int a = 0; a < nsp; a++) {
      if (st3[a] != 1 || (dil[a] * (h.k[a] - 1)) % 2)
        return gdl_section_error(s, "padding", "'same' needs stride 1 and an odd (dilated) kernel");
      pad[a] = dil[a] * (h.k[a] - 1) / 2;
    }
  } else if (!st) {
    st = per_axis(s, "padding", nsp, 0, pad);
  }
  for (int a = 0; !st && a < nsp; a++) {
    if (st3[a] < 1 || dil[a] < 1 || pad[a] < 0 || opad[a] < 0)
      st = gdl_section_error(s, "stride", "stride and dilation must be positive, padding non-negative");
    h.o.stride[a] = (int)st3[a];
    h.o.padding[a] = (int)pad[a];
    h.o.dilation[a] = (int)dil[a];
    h.o.output_padding[a] = (int)opad[a];
  }
  if (st) return st;
  h.o.groups = (int)groups;
  h.o.padding_mode = (gdl_pad_mode)mode;
  if (transpose && mode) return gdl_section_error(s, "padding_mode", "transposed convolutions pad with zeros only");
  st = gdl__section_add(m, s, gdl_layer_conv(&h, (gdl_init)init));
  return st ? st : gdl__section_activation(m, s);
}

gdl_status gdl__conv1d_section(gdl_model *m, gdl_section *s) { return conv_section(m, s, 1, false); }
gdl_status gdl__conv2d_section(gdl_model *m, gdl_section *s) { return conv_section(m, s, 2, false); }
gdl_status gdl__conv3d_section(gdl_model *m, gdl_section *s) { return conv_section(m, s, 3, false); }
gdl_status gdl__conv_transpose2d_section(gdl_model *m, gdl_section *s) { return conv_section(m, s, 2, true); }

static gdl_status pool_section(gdl_model *m, gdl_section *s, bool max) {
  int64_t k, st2, p;
  gdl_status st = gdl_section_int(s, "kernel", 0, &k);
  if (!st && k < 1) st = gdl_section_error(s, "kernel", "is required and positive (e.g. kernel = 2)");
  if (!st) st = gdl_section_int(s, "stride", k, &st2);
  if (!st) st = gdl_section_int(s, "padding", 0, &p);
  if (!st && (st2 < 1 || p < 0 || 2 * p > k)) st = gdl_section_error(s, "padding", "needs stride >= 1 and 0 <= padding <= kernel / 2");
  if (st) return st;
  return gdl__section_add(m, s, max ? gdl_layer_max_pool2d((int)k, (int)st2, (int)p) : gdl_layer_avg_pool2d((int)k, (int)st2, (int)p));
}

gdl_status gdl__max_pool2d_section(gdl_model *m, gdl_section *s) { return pool_section(m, s, true); }
gdl_status gdl__avg_pool2d_section(gdl_model *m, gdl_section *s) { return pool_section(m, s, false); }

static gdl_status adaptive_section(gdl_model *m, gdl_section *s, bool max) {
  int64_t size[2] = {0, 0};
  gdl_status st = per_axis(s, "size", 2, 0, size);
  if (!st && (size[0] < 1 || size[1] < 1)) st = gdl_section_error(s, "size", "is required and positive (e.g. size = 7)");
  if (st) return st;
  return gdl__section_add(m, s, max ? gdl_layer_adaptive_max_pool2d((int)size[0], (int)size[1])
                                    : gdl_layer_adaptive_avg_pool2d((int)size[0], (int)size[1]));
}

gdl_status gdl__adaptive_max_pool2d_section(gdl_model *m, gdl_section *s) { return adaptive_section(m, s, true); }
gdl_status gdl__adaptive_avg_pool2d_section(gdl_model *m, gdl_section *s) { return adaptive_section(m, s, false); }
gdl_status gdl__global_max_pool_section(gdl_model *m, gdl_section *s) { return gdl__section_add(m, s, gdl_layer_global_pool(true)); }
gdl_status gdl__global_avg_pool_section(gdl_model *m, gdl_section *s) { return gdl__section_add(m, s, gdl_layer_global_pool(false)); }

gdl_status gdl__dropout2d_section(gdl_model *m, gdl_section *s) {
  double p;
  gdl_status st = gdl_section_double(s, "p", 0.5, &p);
  if (!st && (p < 0 || p >= 1)) st = gdl_section_error(s, "p", "must be in [0, 1)");
  return st ? st : gdl__section_add(m, s, gdl_layer_dropout2d(p));
}

gdl_status gdl__upsample_section(gdl_model *m, gdl_section *s) {
  static const char *const modes[] = {"nearest", "bilinear", NULL};
  int64_t scale;
  int mode;
  gdl_status st = gdl_section_int(s, "scale", 2, &scale);
  if (!st && scale < 1) st = gdl_section_error(s, "scale", "must be a positive integer");
  if (!st) st = gdl_section_enum(s, "mode", modes, 0, &mode);
  return st ? st : gdl__section_add(m, s, gdl_layer_upsample((int)scale, mode == 1));
}
