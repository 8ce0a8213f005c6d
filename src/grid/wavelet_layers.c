/* Multiscale layers and their config sections: [scattering2d] (a fixed front end,
 * no parameters) and [dwt2] (a wavelet decomposition, no parameters).
 *
 * scattering2d: per sample [C, M, N] -> [C K, M/2^J, N/2^J] (K paths per input
 *   channel, channel c K + k = Kymatio's output [C, K, ...] merged), or [M, N] ->
 *   [K, M/2^J, N/2^J]. The plan is shared process-wide by all layers of the same
 *   sizes and made with FFTW_MEASURE (once per size, up to a second or so).
 * dwt2: levels = 1: [C, H, W] -> [4 C, h, w] (channel 4 c + band, bands cA, cH, cV,
 *   cD); levels > 1: [C, H, W] -> [C, total] (gdl_wavedec2's flat layout). */
#include <stdlib.h>

#include "gdl/wavelets.h"
#include "nn/layer.h"

gdl_scattering2d_plan *gdl__scattering2d_plan_shared(int64_t M, int64_t N, int J, int L, int max_order,
                                                     unsigned flags);

typedef struct {
  int J, L, max_order;           /* scattering2d */
  const gdl_wavelet *w;          /* dwt2 */
  gdl_dwt_mode mode;
  int levels;
} multiscale_hp;

static gdl_status need_image(const gdl_layer *l, gdl_shape in) {
  char b[96];
  if (in.ndim == 2 || in.ndim == 3) return GDL_OK;
  return gdl_error(GDL_ERR_SHAPE, "%s: input per sample must be [C, H, W] or [H, W], got %s", l->kind->name,
                   gdl_shape_str(in, b, sizeof b));
}

/* ---- scattering2d ----------------------------------------------------------------- */

static gdl_scattering2d_plan *plan_of(const gdl_layer *l) {
  const multiscale_hp *h = l->hp;
  return gdl__scattering2d_plan_shared(l->in.d[l->in.ndim - 2], l->in.d[l->in.ndim - 1], h->J, h->L,
                                       h->max_order, GDL_SCATTERING2D_MEASURE);
}

static gdl_status scattering_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  gdl_status st = need_image(l, in);
  if (st) return st;
  l->in = in;
  gdl_scattering2d_plan *p = plan_of(l);
  if (!p) return gdl_error(GDL_ERR_SHAPE, "scattering2d: %s", gdl_last_error());
  int64_t oh, ow, C = in.ndim == 3 ? in.d[0] : 1;
  gdl_scattering2d_out_size(p, &oh, &ow);
  l->out = GDL_SHAPE(C * gdl_scattering2d_channels(p), oh, ow);
  return GDL_OK;
}

static gdl_tensor *scattering_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  gdl_tensor *S = gdl_scattering2d(ctx, plan_of(l), x); /* [B, (C,) K, oh, ow] */
  gdl_shape s = l->out;
  for (int k = s.ndim; k > 0; k--) s.d[k] = s.d[k - 1];
  s.d[0] = x->shape[0];
  s.ndim++;
  return gdl_reshape(ctx, S, s);
}

static const gdl_layer_type scattering_kind = {"scattering2d", scattering_build, scattering_forward};

gdl_layer *gdl_layer_scattering2d(int J, int L, int max_order) {
  GDL_ASSERT(J >= 1 && L >= 1 && (max_order == 1 || max_order == 2),
             "scattering2d: need J >= 1, L >= 1, max_order 1 or 2");
  gdl_layer *l = gdl__layer_new(&scattering_kind);
  multiscale_hp *h = calloc(1, sizeof *h);
  GDL_ASSERT(h, "out of memory");
  h->J = J, h->L = L, h->max_order = max_order;
  l->hp = h;
  return l;
}

/* ---- dwt2 -------------------------------------------------------------------------------- */

static gdl_status dwt_build(gdl_layer *l, gdl_shape in, const gdl_build *b) {
  gdl_status st = need_image(l, in);
  if (st) return st;
  const multiscale_hp *h = l->hp;
  int64_t H = in.d[in.ndim - 2], W = in.d[in.ndim - 1], C = in.ndim == 3 ? in.d[0] : 1;
  l->in = in;
  if (h->levels == 1) {
    l->out = GDL_SHAPE(4 * C, gdl_dwt_coeff_len(H, h->w, h->mode), gdl_dwt_coeff_len(W, h->w, h->mode));
    return GDL_OK;
  }
  int64_t total = gdl_wavedec2_layout(H, W, h->w, h->mode, h->levels, NULL);
  if (total < 0) return gdl_error(GDL_ERR_SHAPE, "dwt2: %s", gdl_last_error());
  l->out = GDL_SHAPE(C, total);
  return GDL_OK;
}

static gdl_tensor *dwt_forward(gdl_layer *l, gdl_ctx *ctx, gdl_tensor *x, const void *aux, bool train) {
  const multiscale_hp *h = l->hp;
  gdl_tensor *c = h->levels == 1 ? gdl_dwt2(ctx, x, h->w, h->mode) : gdl_wavedec2(ctx, x, h->w, h->mode, h->levels);
  gdl_shape s = l->out;
  for (int k = s.ndim; k > 0; k--) s.d[k] = s.d[k - 1];
  s.d[0] = x->shape[0];
  s.ndim++;
  return gdl_reshape(ctx, c, s);
}

static const gdl_layer_type dwt_kind = {"dwt2", dwt_build, dwt_forward};

gdl_layer *gdl_layer_dwt2(const gdl_wavelet *w, gdl_dwt_mode mode, int levels) {
  GDL_ASSERT(w && levels >= 1 && levels <= 30, "dwt2: need a wavelet and 1 <= levels <= 30");
  gdl_layer *l = gdl__layer_new(&dwt_kind);
  multiscale_hp *h = calloc(1, sizeof *h);
  GDL_ASSERT(h, "out of memory");
  h->w = w, h->mode = mode, h->levels = levels;
  l->hp = h;
  return l;
}

/* ---- config sections ------------------------------------------------------------------------ */

/* [scattering2d] J = 2, L = 8, max_order = 2 */
gdl_status gdl__scattering2d_section(gdl_model *m, gdl_section *s) {
  int64_t J, L, order;
  gdl_status st = gdl_section_int(s, "J", 2, &J);
  if (!st && (J < 1 || J > 10)) st = gdl_section_error(s, "J", "must be in 1..10, got %lld", (long long)J);
  if (!st) st = gdl_section_int(s, "L", 8, &L);
  if (!st && (L < 1 || L > 64)) st = gdl_section_error(s, "L", "must be in 1..64, got %lld", (long long)L);
  if (!st) st = gdl_section_int(s, "max_order", 2, &order);
  if (!st && order != 1 && order != 2) st = gdl_section_error(s, "max_order", "must be 1 or 2");
  return st ? st : gdl__section_add(m, s, gdl_layer_scattering2d((int)J, (int)L, (int)order));
}

/* [dwt2] wavelet = haar, mode = periodization, levels = 1 */
gdl_status gdl__dwt2_section(gdl_model *m, gdl_section *s) {
  static const char *const modes[] = {"periodization", "symmetric", NULL};
  const char *name;
  int mode;
  int64_t levels;
  gdl_status st = gdl_section_str(s, "wavelet", "haar", &name);
  const gdl_wavelet *w = st ? NULL : gdl_wavelet_get(name);
  if (!st && !w) st = gdl_section_error(s, "wavelet", "%s", gdl_last_error());
  if (!st) st = gdl_section_enum(s, "mode", modes, 0, &mode);
  if (!st) st = gdl_section_int(s, "levels", 1, &levels);
  if (!st && (levels < 1 || levels > 30)) st = gdl_section_error(s, "levels", "must be in 1..30");
  return st ? st : gdl__section_add(m, s, gdl_layer_dwt2(w, (gdl_dwt_mode)mode, (int)levels));
}
