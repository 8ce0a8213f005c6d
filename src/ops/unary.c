/* Pointwise unary ops y = f(x), dx += dy * f'(x, y). One table line each:
 * name, forward expression of x (p = the op's parameter), derivative in x and y.
 * Math is type-generic (<tgmath.h>), so float32 stays float32. */
#include <tgmath.h>

#include "core/internal.h"
#include "ops/sample.h"

#define SQRT1_2 0.70710678118654752440
#define INV_SQRT_2PI 0.39894228040143267794

/*  NAME        name        forward y(x, p)                          derivative dy/dx (x, y, p)         sample range */
#define UNARY_OPS(X)                                                                                    \
  X(AFFINE    , affine    , p * x + q,                                   p,                                  -2, 2)   \
  X(EXP       , exp       , exp(x),                                      y,                                  -2, 2)   \
  X(LOG       , log       , log(x),                                      1 / x,                             0.2, 3)   \
  X(SQRT      , sqrt      , sqrt(x),                                     (T)0.5 / y,                        0.2, 3)   \
  X(ABS       , abs       , fabs(x),                                     x > 0 ? 1 : (x < 0 ? -1 : 0),      -2, 2)   \
  X(POW       , pow       , pow(x, p),                                   p * pow(x, p - 1),                 0.2, 3)   \
  X(RELU      , relu      , x > 0 ? x : 0,                               x > 0 ? 1 : 0,                      -2, 2)   \
  X(LEAKY_RELU, leaky_relu, x > 0 ? x : p * x,                           x > 0 ? 1 : p,                      -2, 2)   \
  X(ELU       , elu       , x > 0 ? x : p * expm1(x),                    x > 0 ? 1 : y + p,                  -2, 2)   \
  X(GELU      , gelu      , (T)0.5 * x * (1 + erf(x * (T)SQRT1_2)),                                                   \
                (T)0.5 * (1 + erf(x * (T)SQRT1_2)) + x * (T)INV_SQRT_2PI * exp((T)-0.5 * x * x), -2, 2)  \
  X(SILU      , silu      , x / (1 + exp(-x)),                          (1 + exp(-x) + x * exp(-x)) / ((1 + exp(-x)) * (1 + exp(-x))), -3, 3) \
  X(SIGMOID   , sigmoid   , 1 / (1 + exp(-x)),                           y * (1 - y),                        -3, 3)   \
  X(TANH      , tanh      , tanh(x),                                     1 - y * y,                          -2, 2)   \
  X(SOFTPLUS  , softplus  , x > 20 ? x : log1p(exp(x)),                  x > 20 ? 1 : 1 / (1 + exp(-x)),                  -3, 3)

#define DEFINE_UNARY(NAME, name, FWD, DER, lo, hi)                                 \
  void gdl__##name##_fwd(gdl_node *n) {                                      \
    gdl_tensor *in = n->in[0], *out = n->out;                                \
    int64_t N = gdl_tensor_numel(out);                                       \
    const void *xs = gdl__contig(n->ctx, in);                                \
    GDL_FLOAT_SWITCH(out->dtype, T, {                                        \
      const T *X_ = xs;                                                      \
      T *Y_ = out->data, p = (T)n->f[0], q = (T)n->f[1];                     \
      (void)p; (void)q;                                                      \
      GDL_PARALLEL_FOR_IF(N > GDL_PAR_MIN)                                   \
      for (int64_t i = 0; i < N; i++) { T x = X_[i]; Y_[i] = FWD; }          \
    });                                                                      \
  }                                                                          \
  void gdl__##name##_bwd(gdl_ctx *ctx, gdl_node *n) {                        \
    bool fresh;                                                              \
    gdl_tensor *in = n->in[0], *out = n->out, *g = gdl__grad_fresh(ctx, in, &fresh); \
    if (!g) return;                                                          \
    int64_t N = gdl_tensor_numel(out);                                       \
    const void *xs = gdl__contig(ctx, in);                                   \
    GDL_FLOAT_SWITCH(out->dtype, T, {                                        \
      const T *X_ = xs, *Y_ = out->data, *DY = out->grad->data;              \
      T *DX = g->data, p = (T)n->f[0], q = (T)n->f[1];                       \
      (void)p; (void)q;                                                      \
      GDL_PARALLEL_FOR_IF(N > GDL_PAR_MIN)                                   \
      for (int64_t i = 0; i < N; i++) {                                      \
        T x = X_[i], y = Y_[i];                                              \
        (void)x; (void)y;                                                    \
        DX[i] = (fresh ? 0 : DX[i]) + DY[i] * (DER);                         \
      }                                                                      \
    });                                                                      \
  }
UNARY_OPS(DEFINE_UNARY)

static gdl_tensor *unary(gdl_ctx *ctx, int op, gdl_tensor *x, double p, double q) {
  GDL_CHECK_FLOAT(x, gdl_op_name(op));
  gdl_tensor *out = gdl__tensor_empty(ctx, x->dtype, gdl_tensor_shape(x));
  gdl_node *n = gdl__node(ctx, op, out, 1, &x);
  n->f[0] = p;
  n->f[1] = q;
  return gdl__run(n);
}

gdl_tensor *gdl_affine(gdl_ctx *c, gdl_tensor *x, double s, double t) { return unary(c, GDL_OP_AFFINE, x, s, t); }
gdl_tensor *gdl_exp(gdl_ctx *c, gdl_tensor *x) { return unary(c, GDL_OP_EXP, x, 0, 0); }
gdl_tensor *gdl_log(gdl_ctx *c, gdl_tensor *x) { return unary(c, GDL_OP_LOG, x, 0, 0); }
gdl_tensor *gdl_sqrt(gdl_ctx *c, gdl_tensor *x) { return unary(c, GDL_OP_SQRT, x, 0, 0); }
gdl_tensor *gdl_abs(gdl_ctx *c, gdl_tensor *x) { return unary(c, GDL_OP_ABS, x, 0, 0); }
gdl_tensor *gdl_pow(gdl_ctx *c, gdl_tensor *x, double p) { return unary(c, GDL_OP_POW, x, p, 0); }
gdl_tensor *gdl_relu(gdl_ctx *c, gdl_tensor *x) { return unary(c, GDL_OP_RELU, x, 0, 0); }
gdl_tensor *gdl_leaky_relu(gdl_ctx *c, gdl_tensor *x, double s) { return unary(c, GDL_OP_LEAKY_RELU, x, s, 0); }
gdl_tensor *gdl_elu(gdl_ctx *c, gdl_tensor *x, double a) { return unary(c, GDL_OP_ELU, x, a, 0); }
gdl_tensor *gdl_gelu(gdl_ctx *c, gdl_tensor *x) { return unary(c, GDL_OP_GELU, x, 0, 0); }
gdl_tensor *gdl_silu(gdl_ctx *c, gdl_tensor *x) { return unary(c, GDL_OP_SILU, x, 0, 0); }
gdl_tensor *gdl_sigmoid(gdl_ctx *c, gdl_tensor *x) { return unary(c, GDL_OP_SIGMOID, x, 0, 0); }
gdl_tensor *gdl_tanh(gdl_ctx *c, gdl_tensor *x) { return unary(c, GDL_OP_TANH, x, 0, 0); }
gdl_tensor *gdl_softplus(gdl_ctx *c, gdl_tensor *x) { return unary(c, GDL_OP_SOFTPLUS, x, 0, 0); }

/* Samples: a 3x5 leaf in the op's smooth range (plus a strided view for relu), with
 * parameters that exercise the non-trivial branch. */
#define DEFINE_SAMPLE(NAME, name, FWD, DER, lo, hi)                                               \
  gdl_tensor *gdl__##name##_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {        \
    if (v > 1) return NULL;                                                                 \
    gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, v ? GDL_SHAPE(5, 3) : GDL_SHAPE(3, 5), lo, hi); \
    if (v) x = gdl_transpose(ctx, x, 0, 1);                                                 \
    return unary(ctx, GDL_OP_##NAME, x, sample_p(GDL_OP_##NAME), 0.25);                     \
  }

static double sample_p(int op) {
  switch (op) {
    case GDL_OP_AFFINE: return -1.5;
    case GDL_OP_POW: return 2.5;
    case GDL_OP_LEAKY_RELU: return 0.1;
    case GDL_OP_ELU: return 1.3;
    default: return 0;
  }
}

UNARY_OPS(DEFINE_SAMPLE)
