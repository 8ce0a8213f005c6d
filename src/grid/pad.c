/* Padding of the last 1-3 axes: y[..., i] = x[..., src(i)] (or `value` for
 * constant padding), src given per axis by the mode:
 *   replicate: clamp(j, 0, n-1);  reflect: mirror without repeating the edge;
 *   circular: j mod n;             j = i - before.
 * Backward adds dy back to src(i); several i may share a source (not for zeros). */
#include "core/internal.h"
#include "gdl/grid.h"
#include "ops/sample.h"

typedef struct {
  int64_t outer, in[3], out[3];
  int64_t *map[3]; /* source index per output index, -1 = constant */
} pad_plan;

static int64_t source(int64_t i, int64_t before, int64_t n, gdl_pad_mode mode) {
  int64_t j = i - before;
  if (j >= 0 && j < n) return j;
  switch (mode) {
    case GDL_PAD_REPLICATE: return j < 0 ? 0 : n - 1;
    case GDL_PAD_REFLECT: return j < 0 ? -j : 2 * (n - 1) - j;
    case GDL_PAD_CIRCULAR: return ((j % n) + n) % n;
    default: return -1;
  }
}

void gdl__pad_fwd(gdl_node *n) {
  pad_plan *p = n->saved;
  const void *xs = gdl__contig(n->ctx, n->in[0]);
  int64_t vin = p->in[0] * p->in[1] * p->in[2], vout = p->out[0] * p->out[1] * p->out[2];
  GDL_FLOAT_SWITCH(n->out->dtype, T, {
    const T *X = xs;
    T *Y = n->out->data, value = (T)n->f[0];
    GDL_PARALLEL_FOR_IF(p->outer * vout > GDL_PAR_MIN)
    for (int64_t o = 0; o < p->outer; o++)
      for (int64_t a = 0; a < p->out[0]; a++)
        for (int64_t b = 0; b < p->out[1]; b++)
          for (int64_t c = 0; c < p->out[2]; c++) {
            int64_t sa = p->map[0][a], sb = p->map[1][b], sc = p->map[2][c];
            Y[o * vout + (a * p->out[1] + b) * p->out[2] + c] =
                sa < 0 || sb < 0 || sc < 0 ? value : X[o * vin + (sa * p->in[1] + sb) * p->in[2] + sc];
          }
  });
}

void gdl__pad_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *g = gdl__grad(ctx, n->in[0]);
  if (!g) return;
  pad_plan *p = n->saved;
  int64_t vin = p->in[0] * p->in[1] * p->in[2], vout = p->out[0] * p->out[1] * p->out[2];
  GDL_FLOAT_SWITCH(g->dtype, T, {
    const T *DY = n->out->grad->data;
    T *DX = g->data;
    GDL_PARALLEL_FOR_IF(p->outer * vout > GDL_PAR_MIN)
    for (int64_t o = 0; o < p->outer; o++) /* each outer slice is one thread's, in order */
      for (int64_t a = 0; a < p->out[0]; a++)
        for (int64_t b = 0; b < p->out[1]; b++)
          for (int64_t c = 0; c < p->out[2]; c++) {
            int64_t sa = p->map[0][a], sb = p->map[1][b], sc = p->map[2][c];
            if (sa >= 0 && sb >= 0 && sc >= 0)
              DX[o * vin + (sa * p->in[1] + sb) * p->in[2] + sc] += DY[o * vout + (a * p->out[1] + b) * p->out[2] + c];
          }
  });
}

gdl_tensor *gdl_pad(gdl_ctx *ctx, gdl_tensor *x, const int *pads, int npads, gdl_pad_mode mode, double value) {
  int k = npads / 2;
  GDL_CHECK_FLOAT(x, "pad");
  GDL_ASSERT(npads % 2 == 0 && k >= 1 && k <= 3 && k <= x->ndim, "pad: give before/after pairs for 1 to 3 trailing axes");
  pad_plan *p = gdl_ctx_alloc(ctx, sizeof *p);
  gdl_shape s = gdl_tensor_shape(x);
  p->outer = 1;
  for (int a = 0; a < x->ndim - k; a++) p->outer *= x->shape[a];
  for (int a = 0; a < 3; a++) {
    int xa = x->ndim - 3 + a; /* tensor axis of slot a */
    bool padded = a >= 3 - k;
    int64_t before = padded ? pads[2 * (a - (3 - k))] : 0, after = padded ? pads[2 * (a - (3 - k)) + 1] : 0;
    p->in[a] = padded ? x->shape[xa] : 1;
    GDL_ASSERT(before >= 0 && after >= 0, "pad: negative padding");
    GDL_ASSERT(mode != GDL_PAD_REFLECT || (before < p->in[a] && after < p->in[a]),
               "pad: reflect padding must be smaller than the axis (%lld)", (long long)p->in[a]);
    GDL_ASSERT(mode != GDL_PAD_CIRCULAR || (before <= p->in[a] && after <= p->in[a]),
               "pad: circular padding may not exceed the axis (%lld)", (long long)p->in[a]);
    GDL_ASSERT(mode == GDL_PAD_ZEROS || p->in[a] > 0, "pad: empty axis");
    p->out[a] = p->in[a] + before + after;
    p->map[a] = gdl_ctx_alloc(ctx, (size_t)p->out[a] * sizeof(int64_t));
    for (int64_t i = 0; i < p->out[a]; i++) p->map[a][i] = source(i, before, p->in[a], mode);
    if (padded) s.d[xa] = p->out[a];
  }
  gdl_tensor *y = gdl__tensor_empty(ctx, x->dtype, s);
  gdl_node *n = gdl__node(ctx, GDL_OP_PAD, y, 1, &x);
  n->saved = p;
  n->f[0] = mode == GDL_PAD_ZEROS ? value : 0;
  return gdl__run(n);
}

gdl_tensor *gdl__pad_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 3) return NULL;
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(2, 3, 4, 5), -1, 1);
  static const gdl_pad_mode modes[] = {GDL_PAD_ZEROS, GDL_PAD_REFLECT, GDL_PAD_REPLICATE, GDL_PAD_CIRCULAR};
  int pads[] = {1, 2, 3, 1};
  return gdl_pad(ctx, x, pads, 4, modes[v], 0.5);
}
