/* Broadcasting binary ops: add, sub, mul, div.
 *   y = f(a, b), shapes broadcast NumPy-style to the output shape S;
 *   da += sum_to(a.shape, dy * df/da),  db += sum_to(b.shape, dy * df/db). */
#include "core/internal.h"
#include "ops/sample.h"

/* Offsets of a and b at the start of each row of the output's last axis. */
typedef struct {
  gdl_shape s;
  int64_t sa[GDL_MAX_DIMS], sb[GDL_MAX_DIMS];
  int64_t inner, rows, ia, ib; /* last-axis length and strides */
} bcast2;

static bcast2 bcast2_make(const gdl_tensor *a, const gdl_tensor *b, gdl_shape s) {
  bcast2 it = {.s = s};
  gdl__bcast_strides(a, s, it.sa);
  gdl__bcast_strides(b, s, it.sb);
  it.inner = s.ndim ? s.d[s.ndim - 1] : 1;
  it.rows = it.inner ? gdl_shape_numel(s) / it.inner : 0;
  it.ia = s.ndim ? it.sa[s.ndim - 1] : 0;
  it.ib = s.ndim ? it.sb[s.ndim - 1] : 0;
  return it;
}

static inline void bcast2_row(const bcast2 *it, int64_t r, int64_t *oa, int64_t *ob) {
  *oa = *ob = 0;
  for (int k = it->s.ndim - 2; k >= 0; k--) {
    int64_t i = r % it->s.d[k];
    r /= it->s.d[k];
    *oa += i * it->sa[k];
    *ob += i * it->sb[k];
  }
}

enum { ADD, SUB, MUL, DIV };

#define BINARY_LOOP(T, it, A, B, BODY)                                         \
  GDL_PARALLEL_FOR_IF((it).rows * (it).inner > GDL_PAR_MIN)                    \
  for (int64_t r = 0; r < (it).rows; r++) {                                    \
    int64_t oa, ob;                                                            \
    bcast2_row(&(it), r, &oa, &ob);                                            \
    const T *pa = (const T *)(A) + oa, *pb = (const T *)(B) + ob;              \
    int64_t o = r * (it).inner;                                                \
    if ((it).ia == 1 && (it).ib == 1) {                                        \
      for (int64_t j = 0; j < (it).inner; j++) { T x = pa[j], z = pb[j]; (void)x; (void)z; BODY; } \
    } else {                                                                   \
      for (int64_t j = 0; j < (it).inner; j++) {                               \
        T x = pa[j * (it).ia], z = pb[j * (it).ib];                            \
        (void)x; (void)z; BODY;                                                                \
      }                                                                        \
    }                                                                          \
  }

static void binary_fwd(gdl_node *n, int kind) {
  gdl_tensor *a = n->in[0], *b = n->in[1], *out = n->out;
  bcast2 it = bcast2_make(a, b, gdl_tensor_shape(out));
  GDL_FLOAT_SWITCH(out->dtype, T, {
    T *y = out->data;
    switch (kind) {
      case ADD: BINARY_LOOP(T, it, a->data, b->data, y[o + j] = x + z) break;
      case SUB: BINARY_LOOP(T, it, a->data, b->data, y[o + j] = x - z) break;
      case MUL: BINARY_LOOP(T, it, a->data, b->data, y[o + j] = x * z) break;
      case DIV: BINARY_LOOP(T, it, a->data, b->data, y[o + j] = x / z) break;
    }
  });
}

/* Gradient w.r.t. input `which` (0 = a, 1 = b). An input of the output's shape
 * takes its gradient directly (stored when fresh, else added); a broadcast one goes
 * through a full-size temporary of the output's shape, summed down to its shape. */
#define BINARY_GRAD(T, STORE)                                                            \
  do {                                                                                   \
    const T *dy = out->grad->data;                                                       \
    if (kind == ADD || kind == SUB) {                                                    \
      T sg = kind == SUB && which == 1 ? -1 : 1;                                         \
      GDL_PARALLEL_FOR_IF(numel > GDL_PAR_MIN)                                           \
      for (int64_t i = 0; i < numel; i++) { int64_t o = i, j = 0; STORE(sg * dy[i]); }   \
    } else if (kind == MUL && which == 0) {                                              \
      BINARY_LOOP(T, it, a->data, b->data, STORE(dy[o + j] * z))                         \
    } else if (kind == MUL) {                                                            \
      BINARY_LOOP(T, it, a->data, b->data, STORE(dy[o + j] * x))                         \
    } else if (which == 0) {                                                             \
      BINARY_LOOP(T, it, a->data, b->data, STORE(dy[o + j] / z))                         \
    } else {                                                                             \
      BINARY_LOOP(T, it, a->data, b->data, STORE(-dy[o + j] * x / (z * z)))              \
    }                                                                                    \
  } while (0)

#define STORE_INTO_G(v) G[o + j] = (fresh ? 0 : G[o + j]) + (v)
#define STORE_INTO_T(v) t[o + j] = (v)

static void binary_bwd(gdl_ctx *ctx, gdl_node *n, int kind) {
  gdl_tensor *a = n->in[0], *b = n->in[1], *out = n->out;
  gdl_shape s = gdl_tensor_shape(out);
  int64_t numel = gdl_shape_numel(s);
  bcast2 it = bcast2_make(a, b, s);
  for (int which = 0; which < 2; which++) {
    gdl_tensor *x = n->in[which];
    if (gdl_shape_eq(gdl_tensor_shape(x), s)) {
      bool fresh;
      gdl_tensor *gx = gdl__grad_fresh(ctx, x, &fresh);
      if (!gx) continue;
      GDL_FLOAT_SWITCH(out->dtype, T, {
        T *G = gx->data;
        BINARY_GRAD(T, STORE_INTO_G);
      });
    } else {
      gdl_tensor *gx = gdl__grad(ctx, x);
      if (!gx) continue;
      const void *g = out->grad->data; /* a sum's (and a difference's first) term: dy itself */
      if (!(kind == ADD || (kind == SUB && which == 0))) {
        gdl_tensor *tmp = gdl__tensor_empty(ctx, out->dtype, s);
        GDL_FLOAT_SWITCH(out->dtype, T, {
          T *t = tmp->data;
          BINARY_GRAD(T, STORE_INTO_T);
        });
        g = tmp->data;
      }
      gdl__sum_to(out->dtype, g, s, gx->data, gdl_tensor_shape(x));
    }
  }
}

static gdl_tensor *binary(gdl_ctx *ctx, int op, gdl_tensor *a, gdl_tensor *b) {
  GDL_CHECK_FLOAT(a, gdl_op_name(op));
  GDL_ASSERT(a->dtype == b->dtype, "%s: dtypes differ (%s, %s)", gdl_op_name(op),
             gdl_dtype_name(a->dtype), gdl_dtype_name(b->dtype));
  gdl_shape s = gdl__bcast_shape(gdl_tensor_shape(a), gdl_tensor_shape(b));
  gdl_tensor *out = gdl__tensor_empty(ctx, a->dtype, s);
  return gdl__run(gdl__node(ctx, op, out, 2, (gdl_tensor *[]){a, b}));
}

gdl_tensor *gdl_add(gdl_ctx *ctx, gdl_tensor *a, gdl_tensor *b) { return binary(ctx, GDL_OP_ADD, a, b); }
gdl_tensor *gdl_sub(gdl_ctx *ctx, gdl_tensor *a, gdl_tensor *b) { return binary(ctx, GDL_OP_SUB, a, b); }
gdl_tensor *gdl_mul(gdl_ctx *ctx, gdl_tensor *a, gdl_tensor *b) { return binary(ctx, GDL_OP_MUL, a, b); }
gdl_tensor *gdl_div(gdl_ctx *ctx, gdl_tensor *a, gdl_tensor *b) { return binary(ctx, GDL_OP_DIV, a, b); }

void gdl__add_fwd(gdl_node *n) { binary_fwd(n, ADD); }
void gdl__sub_fwd(gdl_node *n) { binary_fwd(n, SUB); }
void gdl__mul_fwd(gdl_node *n) { binary_fwd(n, MUL); }
void gdl__div_fwd(gdl_node *n) { binary_fwd(n, DIV); }
void gdl__add_bwd(gdl_ctx *ctx, gdl_node *n) { binary_bwd(ctx, n, ADD); }
void gdl__sub_bwd(gdl_ctx *ctx, gdl_node *n) { binary_bwd(ctx, n, SUB); }
void gdl__mul_bwd(gdl_ctx *ctx, gdl_node *n) { binary_bwd(ctx, n, MUL); }
void gdl__div_bwd(gdl_ctx *ctx, gdl_node *n) { binary_bwd(ctx, n, DIV); }

/* Samples: same shapes, row broadcast, both-sided broadcast, and a strided view. */
static gdl_tensor *binary_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v,
                                 gdl_tensor *(*f)(gdl_ctx *, gdl_tensor *, gdl_tensor *), bool away0) {
  double lo = away0 ? 0.5 : -1, hi = away0 ? 2 : 1;
  switch (v) {
    case 0: return f(ctx, gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3, 4), -1, 1),
                     gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3, 4), lo, hi));
    case 1: return f(ctx, gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(2, 3, 4), -1, 1),
                     gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(4), lo, hi));
    case 2: return f(ctx, gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3, 1), -1, 1),
                     gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(1, 5), lo, hi));
    case 3: {
      gdl_tensor *a = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(4, 3), -1, 1);
      gdl_tensor *b = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3, 4), lo, hi);
      return f(ctx, gdl_transpose(ctx, a, 0, 1), b);
    }
    default: return NULL;
  }
}

gdl_tensor *gdl__add_sample(gdl_ctx *c, gdl_rng *r, gdl_dtype t, int v) { return binary_sample(c, r, t, v, gdl_add, false); }
gdl_tensor *gdl__sub_sample(gdl_ctx *c, gdl_rng *r, gdl_dtype t, int v) { return binary_sample(c, r, t, v, gdl_sub, false); }
gdl_tensor *gdl__mul_sample(gdl_ctx *c, gdl_rng *r, gdl_dtype t, int v) { return binary_sample(c, r, t, v, gdl_mul, false); }
gdl_tensor *gdl__div_sample(gdl_ctx *c, gdl_rng *r, gdl_dtype t, int v) { return binary_sample(c, r, t, v, gdl_div, true); }
