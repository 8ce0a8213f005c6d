/* p4 and p4m: the group, its action on pixels, filter banks and group convolution.
 *
 * Elements e = 4 m + r stand for R^r F^m: mirror left-right (F) if m, then rotate
 * by 90 r degrees counter-clockwise (R). Since F R F = R^-1,
 *   (m1, r1)(m2, r2) = (m1 xor m2, r1 + (-1)^m1 r2 mod 4).
 * Images transform as (e f)(p) = f(e^-1 p), with R^-1 (i, j) = (j, n-1-i) and
 * F (i, j) = (i, n-1-j) on an n x n grid. A group convolution layer computes
 *   y[o, g] = sum_{c, h} x[c, h] * (T_g W[o, c, g^-1 h])
 * (T_g: the filter transformed by g), so y(e x) = e y(x); the lifting layer is
 * the case of one input group element. The transformed bank is gathered from the
 * stored filters with index_select, so gradients flow back to them. */
#include "core/internal.h"
#include "gdl/grid.h"
#include "gdl/group.h"

int gdl_group_order(gdl_plane_group g) { return g == GDL_GROUP_P4M ? 8 : 4; }
const char *gdl_group_name(gdl_plane_group g) { return g == GDL_GROUP_P4M ? "p4m" : "p4"; }

int gdl_group_mul(gdl_plane_group g, int a, int b) {
  int m1 = a / 4, r1 = a % 4, m2 = b / 4, r2 = b % 4;
  int r = ((r1 + (m1 ? -r2 : r2)) % 4 + 4) % 4;
  (void)g;
  return 4 * (m1 ^ m2) + r;
}

int gdl_group_inv(gdl_plane_group g, int a) {
  (void)g;
  return a / 4 ? a : (4 - a % 4) % 4; /* reflections are their own inverses */
}

void gdl_group_pixel_map(gdl_plane_group g, int e, int64_t n, int64_t *src) {
  GDL_ASSERT(e >= 0 && e < gdl_group_order(g), "%s has no element %d", gdl_group_name(g), e);
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < n; j++) {
      int64_t a = i, b = j;
      for (int k = 0; k < e % 4; k++) { /* R^-1, r times */
        int64_t t = a;
        a = b;
        b = n - 1 - t;
      }
      if (e / 4) b = n - 1 - b; /* then F^-1 = F */
      src[i * n + j] = a * n + b;
    }
}

/* Gather indices turning one output channel's stored filter (C [x |H|] x k x k,
 * flattened) into its |H| transformed copies. */
static gdl_tensor *bank_index(gdl_ctx *ctx, gdl_plane_group g, int64_t C, int64_t k, bool lifting) {
  int G = gdl_group_order(g);
  int64_t kk = k * k, hin = lifting ? 1 : G, per = C * hin * kk;
  gdl_tensor *idx = gdl_tensor_new(ctx, GDL_I64, GDL_SHAPE(G * per));
  int64_t *p = idx->data, *src = gdl_ctx_alloc(ctx, sizeof(int64_t) * (size_t)kk);
  for (int e = 0; e < G; e++) {
    gdl_group_pixel_map(g, e, k, src);
    int einv = gdl_group_inv(g, e);
    for (int64_t c = 0; c < C; c++)
      for (int64_t h = 0; h < hin; h++) {
        int64_t hs = lifting ? 0 : gdl_group_mul(g, einv, (int)h); /* g^-1 h */
        for (int64_t q = 0; q < kk; q++) *p++ = (c * hin + hs) * kk + src[q];
      }
  }
  return idx;
}

gdl_tensor *gdl_group_conv2d(gdl_ctx *ctx, gdl_plane_group g, gdl_tensor *x, gdl_tensor *w, gdl_tensor *b,
                             int stride, int padding) {
  int G = gdl_group_order(g);
  bool lifting = x->ndim == 4;
  GDL_ASSERT(x->ndim == 4 || (x->ndim == 5 && x->shape[2] == G),
             "group_conv2d: input must be [N, C, H, W] or [N, C, %d, H, W]", G);
  GDL_ASSERT(w->ndim == (lifting ? 4 : 5) && w->shape[1] == x->shape[1] && w->shape[w->ndim - 1] == w->shape[w->ndim - 2] &&
                 (lifting || w->shape[2] == G),
             "group_conv2d: weight must be [O, %lld%s, k, k]", (long long)x->shape[1], lifting ? "" : ", |H|");
  int64_t O = w->shape[0], C = x->shape[1], k = w->shape[w->ndim - 1], per = gdl_tensor_numel(w) / O;
  gdl_tensor *bank = gdl_index_select(ctx, gdl_reshape(ctx, w, GDL_SHAPE(O, per)), 1, bank_index(ctx, g, C, k, lifting));
  bank = gdl_reshape(ctx, bank, GDL_SHAPE(O * G, lifting ? C : C * G, k, k));
  gdl_tensor *in = lifting ? x : gdl_reshape(ctx, x, GDL_SHAPE(x->shape[0], C * G, x->shape[3], x->shape[4]));
  gdl_tensor *y = gdl_conv2d(ctx, in, bank, gdl__group_bias(ctx, b, G), stride, padding);
  return gdl_reshape(ctx, y, GDL_SHAPE(y->shape[0], O, G, y->shape[2], y->shape[3]));
}

gdl_tensor *gdl__group_bias(gdl_ctx *ctx, gdl_tensor *b, int G) {
  if (!b) return NULL;
  gdl_tensor *rep = gdl__tensor_empty(ctx, GDL_I64, GDL_SHAPE(b->shape[0] * G));
  for (int64_t i = 0; i < b->shape[0] * G; i++) ((int64_t *)rep->data)[i] = i / G;
  return gdl_index_select(ctx, b, 0, rep); /* b[o] for output channel o |H| + g */
}

gdl_tensor *gdl_group_pool(gdl_ctx *ctx, gdl_tensor *x, bool max) {
  GDL_ASSERT(x->ndim == 5, "group_pool: input must be [N, C, |H|, H, W]");
  return max ? gdl_max(ctx, x, 2, false) : gdl_mean(ctx, x, 2, false);
}

gdl_tensor *gdl_group_act(gdl_ctx *ctx, gdl_plane_group g, int e, gdl_tensor *x) {
  GDL_ASSERT((x->ndim == 4 || (x->ndim == 5 && x->shape[2] == gdl_group_order(g))) &&
                 x->shape[x->ndim - 1] == x->shape[x->ndim - 2],
             "group_act: square images [N, C, n, n] or group features [N, C, |H|, n, n]");
  int64_t n = x->shape[x->ndim - 1], nn = n * n, G = x->ndim == 5 ? x->shape[2] : 1;
  int64_t planes = gdl_tensor_numel(x) / (G * nn);
  int64_t *src = gdl_ctx_alloc(ctx, sizeof(int64_t) * (size_t)nn);
  gdl_group_pixel_map(g, e, n, src);
  int einv = gdl_group_inv(g, e);
  gdl_tensor *xc = gdl_tensor_contiguous(ctx, x), *y = gdl_tensor_new(ctx, x->dtype, gdl_tensor_shape(x));
  size_t es = gdl_dtype_size(x->dtype);
  for (int64_t q = 0; q < planes; q++)
    for (int64_t h = 0; h < G; h++) {
      int64_t hs = G > 1 ? gdl_group_mul(g, einv, (int)h) : 0; /* (e f)(h) = f(e^-1 h) */
      const char *in = (const char *)xc->data + (size_t)((q * G + hs) * nn) * es;
      char *out = (char *)y->data + (size_t)((q * G + h) * nn) * es;
      for (int64_t p = 0; p < nn; p++) memcpy(out + (size_t)p * es, in + (size_t)src[p] * es, es);
    }
  return y;
}
