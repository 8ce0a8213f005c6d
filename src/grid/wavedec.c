/* Multi-level 2-D wavelet decomposition and reconstruction (pywt.wavedec2 and
 * pywt.waverec2), built from the dwt2/idwt2 ops and views, so autograd follows.
 *
 * wavedec2: a_0 = x; for l = 1..n: (a_l, h_l, v_l, d_l) = dwt2(a_{l-1});
 *   output = [a_n, h_n, v_n, d_n, h_{n-1}, ..., d_1], each band flattened.
 * waverec2: a = a_n; for l = n..1: a = idwt2(crop(a, size(h_l)), h_l, v_l, d_l),
 *   crop dropping the extra row/column an odd-sized level leaves (PyWavelets does
 *   the same); finally crop to H x W. */
#include "core/internal.h"
#include "gdl/wavelets.h"

int64_t gdl_wavedec2_layout(int64_t H, int64_t W, const gdl_wavelet *w, gdl_dwt_mode mode,
                            int levels, gdl_dwt_band *bands) {
  if (levels < 1 || levels > 30 || H < 1 || W < 1) {
    gdl_error(GDL_ERR_ARG, "wavedec2: need levels >= 1 and a non-empty image, got %d levels for %lld x %lld",
              levels, (long long)H, (long long)W);
    return -1;
  }
  int64_t h[31], wd[31];
  h[0] = H;
  wd[0] = W;
  for (int l = 1; l <= levels; l++) {
    h[l] = gdl_dwt_coeff_len(h[l - 1], w, mode);
    wd[l] = gdl_dwt_coeff_len(wd[l - 1], w, mode);
  }
  int64_t off = 0;
  int k = 0;
  if (bands) bands[k++] = (gdl_dwt_band){0, h[levels], wd[levels], levels, 'a'};
  off = h[levels] * wd[levels];
  for (int l = levels; l >= 1; l--)
    for (int b = 0; b < 3; b++) {
      if (bands) bands[k++] = (gdl_dwt_band){off, h[l], wd[l], l, "hvd"[b]};
      off += h[l] * wd[l];
    }
  return off;
}

/* x's shape with the last `drop` axes replaced by the n sizes in tail. */
static gdl_shape lead_plus(const gdl_tensor *x, int drop, const int64_t *tail, int n) {
  gdl_shape s = {.ndim = x->ndim - drop};
  for (int k = 0; k < s.ndim; k++) s.d[k] = x->shape[k];
  for (int k = 0; k < n; k++) s.d[s.ndim++] = tail[k];
  return s;
}

gdl_tensor *gdl_wavedec2(gdl_ctx *ctx, gdl_tensor *x, const gdl_wavelet *w, gdl_dwt_mode mode,
                         int levels) {
  GDL_ASSERT(x->ndim >= 2 && x->ndim < GDL_MAX_DIMS, "wavedec2: expected [..., H, W] with at most %d axes",
             GDL_MAX_DIMS - 1);
  GDL_ASSERT(levels >= 1 && levels <= 30, "wavedec2: levels must be in 1..30, got %d", levels);
  gdl_tensor *parts[1 + 30], *a = x;
  for (int l = 1; l <= levels; l++) {
    gdl_tensor *c = gdl_dwt2(ctx, a, w, mode); /* [..., 4, h, w] */
    int nd = c->ndim;
    parts[1 + levels - l] = gdl_flatten(ctx, gdl_slice(ctx, c, nd - 3, 1, 4, 1), nd - 3);
    a = gdl_reshape(ctx, gdl_slice(ctx, c, nd - 3, 0, 1, 1),
                    lead_plus(c, 3, (int64_t[]){c->shape[nd - 2], c->shape[nd - 1]}, 2));
  }
  parts[0] = gdl_flatten(ctx, a, a->ndim - 2);
  return gdl_concat(ctx, parts, 1 + levels, -1);
}

gdl_tensor *gdl_waverec2(gdl_ctx *ctx, gdl_tensor *c, const gdl_wavelet *w, gdl_dwt_mode mode,
                         int levels, int64_t H, int64_t W) {
  GDL_ASSERT(c->ndim >= 1 && c->ndim < GDL_MAX_DIMS - 1, "waverec2: expected [..., total]");
  gdl_dwt_band bands[1 + 3 * 30];
  int64_t total = gdl_wavedec2_layout(H, W, w, mode, levels, bands);
  GDL_ASSERT(total >= 0, "waverec2: %s", gdl_last_error());
  GDL_ASSERT(c->shape[c->ndim - 1] == total,
             "waverec2: %lld coefficients, but %d levels of %lld x %lld with %s (%s) have %lld",
             (long long)c->shape[c->ndim - 1], levels, (long long)H, (long long)W, w->name,
             gdl_dwt_mode_name(mode), (long long)total);
  int last = c->ndim - 1;
  gdl_tensor *a = gdl_slice(ctx, c, last, 0, bands[0].h * bands[0].w, 1);
  a = gdl_reshape(ctx, a, lead_plus(c, 1, (int64_t[]){1, bands[0].h, bands[0].w}, 3));
  for (int k = 1; k < 1 + 3 * levels; k += 3) {
    int64_t h = bands[k].h, wd = bands[k].w, n = h * wd;
    gdl_tensor *d = gdl_slice(ctx, c, last, bands[k].offset, bands[k].offset + 3 * n, 1);
    d = gdl_reshape(ctx, d, lead_plus(c, 1, (int64_t[]){3, h, wd}, 3));
    int nd = a->ndim;
    a = gdl_slice(ctx, gdl_slice(ctx, a, nd - 2, 0, h, 1), nd - 1, 0, wd, 1);
    gdl_tensor *y = gdl_idwt2(ctx, gdl_concat(ctx, (gdl_tensor *[]){a, d}, 2, nd - 3), w, mode);
    a = gdl_reshape(ctx, y, lead_plus(y, 2, (int64_t[]){1, y->shape[y->ndim - 2], y->shape[y->ndim - 1]}, 3));
  }
  int nd = a->ndim;
  a = gdl_slice(ctx, gdl_slice(ctx, a, nd - 2, 0, H, 1), nd - 1, 0, W, 1);
  return gdl_reshape(ctx, a, lead_plus(a, 3, (int64_t[]){H, W}, 2));
}
