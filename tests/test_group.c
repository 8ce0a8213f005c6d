/* p4 / p4m: group axioms, the action on pixels, exact equivariance of lifting and
 * group convolutions (and of whole models) under 90-degree rotations and flips,
 * invariance after group and spatial pooling, parameter counts. */
#include <string.h>

#include "test.h"

static double rel_diff(const gdl_tensor *a, const gdl_tensor *b) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < gdl_tensor_numel(a); i++) {
    double d = gdl_tensor_get(a, i) - gdl_tensor_get(b, i);
    num = fmax(num, fabs(d));
    den = fmax(den, fabs(gdl_tensor_get(b, i)));
  }
  return num / (den > 0 ? den : 1);
}

static void test_group_axioms(gdl_plane_group g) {
  int G = gdl_group_order(g), bad = 0;
  for (int a = 0; a < G; a++) {
    bad += gdl_group_mul(g, a, 0) != a || gdl_group_mul(g, 0, a) != a;
    bad += gdl_group_mul(g, a, gdl_group_inv(g, a)) != 0;
    for (int b = 0; b < G; b++)
      for (int c = 0; c < G; c++)
        bad += gdl_group_mul(g, gdl_group_mul(g, a, b), c) != gdl_group_mul(g, a, gdl_group_mul(g, b, c));
  }
  CHECK(bad == 0, "%s: identity, inverses and associativity (%d violations)", gdl_group_name(g), bad);
  /* The action is a homomorphism: acting by a b equals acting by b, then by a. */
  int64_t n = 5, s_a[25], s_b[25], s_ab[25];
  bad = 0;
  for (int a = 0; a < G; a++)
    for (int b = 0; b < G; b++) {
      gdl_group_pixel_map(g, a, n, s_a);
      gdl_group_pixel_map(g, b, n, s_b);
      gdl_group_pixel_map(g, gdl_group_mul(g, a, b), n, s_ab);
      for (int p = 0; p < 25; p++) bad += s_ab[p] != s_b[s_a[p]];
    }
  CHECK(bad == 0, "%s: transforming by a then b equals transforming by the product (%d mismatches)",
        gdl_group_name(g), bad);
  /* R is a counter-clockwise quarter turn: the top-right pixel goes to the top-left. */
  gdl_group_pixel_map(g, 1, n, s_a);
  CHECK(s_a[0] == n - 1, "rotation by 90 degrees is counter-clockwise");
}

static void test_layer_equivariance(gdl_plane_group g) {
  int G = gdl_group_order(g);
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_rng rng = gdl_rng_make(3);
  gdl_tensor *x = gdl_tensor_new(ctx, GDL_F32, GDL_SHAPE(2, 3, 9, 9));
  gdl_tensor *w1 = gdl_tensor_new(ctx, GDL_F32, GDL_SHAPE(4, 3, 3, 3)), *b1 = gdl_tensor_new(ctx, GDL_F32, GDL_SHAPE(4));
  gdl_tensor *w2 = gdl_tensor_new(ctx, GDL_F32, GDL_SHAPE(5, 4, G, 3, 3));
  gdl_rng_fill_uniform(&rng, x, -1, 1);
  gdl_rng_fill_uniform(&rng, w1, -1, 1);
  gdl_rng_fill_uniform(&rng, b1, -1, 1);
  gdl_rng_fill_uniform(&rng, w2, -1, 1);
  gdl_tensor *y1 = gdl_group_conv2d(ctx, g, x, w1, b1, 1, 1), *y2 = gdl_group_conv2d(ctx, g, y1, w2, NULL, 1, 1);
  CHECK(y1->shape[2] == G && y2->shape[1] == 5 && y2->shape[2] == G, "output layout [N, C, |H|, H, W]");
  gdl_tensor *inv = gdl_mean(ctx, gdl_mean(ctx, gdl_group_pool(ctx, y2, true), -1, false), -1, false);
  double worst_lift = 0, worst_group = 0, worst_inv = 0;
  for (int e = 1; e < G; e++) {
    gdl_tensor *xe = gdl_group_act(ctx, g, e, x);
    gdl_tensor *z1 = gdl_group_conv2d(ctx, g, xe, w1, b1, 1, 1), *z2 = gdl_group_conv2d(ctx, g, z1, w2, NULL, 1, 1);
    worst_lift = fmax(worst_lift, rel_diff(z1, gdl_group_act(ctx, g, e, y1)));
    worst_group = fmax(worst_group, rel_diff(z2, gdl_group_act(ctx, g, e, y2)));
    gdl_tensor *zi = gdl_mean(ctx, gdl_mean(ctx, gdl_group_pool(ctx, z2, true), -1, false), -1, false);
    worst_inv = fmax(worst_inv, rel_diff(zi, inv));
  }
  printf("%s: lifting %.2g, group conv %.2g, pooled invariance %.2g (relative, float32)\n", gdl_group_name(g),
         worst_lift, worst_group, worst_inv);
  CHECK(worst_lift <= 1e-6, "%s lifting conv is equivariant: %.3g", gdl_group_name(g), worst_lift);
  CHECK(worst_group <= 1e-6, "%s group conv is equivariant: %.3g", gdl_group_name(g), worst_group);
  CHECK(worst_inv <= 1e-6, "%s pooled features are invariant: %.3g", gdl_group_name(g), worst_inv);
  /* A plain convolution is not: the test can tell the difference. */
  gdl_tensor *c = gdl_conv2d(ctx, x, w1, NULL, 1, 1);
  gdl_tensor *ce = gdl_conv2d(ctx, gdl_group_act(ctx, g, 1, x), w1, NULL, 1, 1);
  CHECK(rel_diff(ce, gdl_group_act(ctx, g, 1, c)) > 1e-2, "a plain convolution is not rotation equivariant");
  gdl_ctx_free(ctx);
}

/* A whole p4m model from a config: logits invariant under the 8 transformations. */
static void test_model_invariance(void) {
  const char *text =
      "[group_conv2d]\ngroup = p4m\nout = 6\nkernel = 3\npadding = same\n[batch_norm]\n[relu]\n"
      "[max_pool2d]\nkernel = 2\n"
      "[group_conv2d]\ngroup = p4m\nout = 8\nkernel = 3\npadding = same\nactivation = relu\n"
      "[group_pool]\n[global_avg_pool]\n[linear]\nout = 10\n";
  gdl_config *c = gdl_config_parse(text, "p4m.ini");
  gdl_model *m = gdl_model_new(GDL_F32, GDL_SHAPE(1, 12, 12), 5);
  CHECK(gdl_model_add_config(m, c) == GDL_OK, "p4m model: %s", gdl_last_error());
  /* lifting 6*1*9 + 6, bn 12, group 8*6*8*9 + 8, linear 8*10 + 10 */
  CHECK(gdl_model_numel(m) == 60 + 12 + 3464 + 90, "parameters stored once: %lld", (long long)gdl_model_numel(m));
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_ctx_set_grad(ctx, false);
  gdl_rng rng = gdl_rng_make(9);
  gdl_tensor *x = gdl_tensor_new(ctx, GDL_F32, GDL_SHAPE(3, 1, 12, 12));
  gdl_rng_fill_uniform(&rng, x, 0, 1);
  /* a few training steps so batch norm has statistics */
  gdl_model_forward(m, ctx, x, true);
  gdl_tensor *y = gdl_model_forward(m, ctx, x, false);
  double worst = 0;
  for (int e = 1; e < 8; e++)
    worst = fmax(worst, rel_diff(gdl_model_forward(m, ctx, gdl_group_act(ctx, GDL_GROUP_P4M, e, x), false), y));
  CHECK(worst <= 1e-5, "p4m model logits invariant under rotations and flips: %.3g", worst);
  gdl_ctx_free(ctx);
  gdl_model_free(m);
  gdl_config_free(c);
}

/* e of C_N / D_N acting on group features [N, C, |H|, n, n] when its rotation is a
 * multiple of 90 degrees: pixels move as in p4m, the group axis by h -> e^-1 h. */
static gdl_tensor *act_dihedral(gdl_ctx *ctx, int N, bool reflect, int e, gdl_tensor *x) {
  int G = reflect ? 2 * N : N, q = (e % N) * 4 / N, pe = (e / N) * 4 + q;
  if (x->ndim == 4) return gdl_group_act(ctx, GDL_GROUP_P4M, pe, x);
  int64_t B = x->shape[0], C = x->shape[1], n = x->shape[3];
  gdl_tensor *parts[32];
  for (int h = 0; h < G; h++) {
    int src = gdl_dihedral_mul(N, gdl_dihedral_inv(N, e), h);
    gdl_tensor *plane = gdl_reshape(ctx, gdl_slice(ctx, x, 2, src, src + 1, 1), GDL_SHAPE(B, C, n, n));
    parts[h] = gdl_reshape(ctx, gdl_group_act(ctx, GDL_GROUP_P4M, pe, plane), GDL_SHAPE(B, C, 1, n, n));
  }
  return gdl_contiguous(ctx, gdl_concat(ctx, parts, G, 2));
}

static void test_steerable(int N, bool reflect) {
  int G = reflect ? 2 * N : N, k = 5, nb = gdl_steerable_basis_size(k);
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_rng rng = gdl_rng_make(11);
  gdl_tensor *basis = gdl_steerable_basis(ctx, N, reflect, k, GDL_F32);
  /* Smooth inputs, so that rotating them by other angles needs little interpolation. */
  gdl_tensor *raw = gdl_tensor_new(ctx, GDL_F32, GDL_SHAPE(2, 2, 8, 8)), *x;
  gdl_rng_fill_uniform(&rng, raw, -1, 1);
  x = gdl_upsample_bilinear(ctx, raw, 33, 33);
  gdl_tensor *w1 = gdl_tensor_new(ctx, GDL_F32, GDL_SHAPE(3, 2, nb)), *w2 = gdl_tensor_new(ctx, GDL_F32, GDL_SHAPE(4, 3, G, nb));
  gdl_rng_fill_uniform(&rng, w1, -1, 1);
  gdl_rng_fill_uniform(&rng, w2, -1, 1);
  gdl_tensor *y = gdl_steerable_conv2d(ctx, N, reflect, gdl_steerable_conv2d(ctx, N, reflect, x, w1, basis, NULL, 1, 2),
                                       w2, basis, NULL, 1, 2);
  double exact = 0;
  for (int e = 0; e < G; e++) {
    if ((e % N) * 4 % N) continue; /* rotations by multiples of 90 degrees: exact */
    gdl_tensor *z = gdl_steerable_conv2d(ctx, N, reflect, gdl_steerable_conv2d(ctx, N, reflect, act_dihedral(ctx, N, reflect, e, x), w1, basis, NULL, 1, 2),
                                         w2, basis, NULL, 1, 2);
    exact = fmax(exact, rel_diff(z, act_dihedral(ctx, N, reflect, e, y)));
  }
  CHECK(exact <= 1e-5, "%c%d: equivariant under quarter turns%s (%.3g)", reflect ? 'D' : 'C', N, reflect ? " and flips" : "", exact);
  /* The smallest rotation, 360/N degrees, through bilinear image rotation: invariant
   * features (group max, then mean over a central disc) change little. */
  double approx = 0;
  if (N > 4) {
    gdl_tensor *xr = gdl_tensor_clone(x);
    gdl_image_rotate(xr, 360.0 / N, 0);
    gdl_tensor *zr = gdl_steerable_conv2d(ctx, N, reflect, gdl_steerable_conv2d(ctx, N, reflect, xr, w1, basis, NULL, 1, 2),
                                          w2, basis, NULL, 1, 2);
    /* mean over the disc of radius 8 about the centre: a rotation-invariant summary */
    gdl_tensor *disc = gdl_tensor_new(ctx, GDL_F32, GDL_SHAPE(33, 33));
    for (int i = 0; i < 33; i++)
      for (int j = 0; j < 33; j++) gdl_tensor_set(disc, i * 33 + j, hypot(i - 16, j - 16) <= 8);
    gdl_tensor *m0 = gdl_sum(ctx, gdl_sum(ctx, gdl_mul(ctx, gdl_group_pool(ctx, y, true), disc), -1, false), -1, false);
    gdl_tensor *m1 = gdl_sum(ctx, gdl_sum(ctx, gdl_mul(ctx, gdl_group_pool(ctx, zr, true), disc), -1, false), -1, false);
    approx = rel_diff(m1, m0);
    /* The same summary of an ordinary two-layer CNN moves several times more. */
    gdl_tensor *p1 = gdl_tensor_new(ctx, GDL_F32, GDL_SHAPE(3 * G, 2, k, k)), *p2 = gdl_tensor_new(ctx, GDL_F32, GDL_SHAPE(4, 3 * G, k, k));
    gdl_rng_fill_uniform(&rng, p1, -1, 1);
    gdl_rng_fill_uniform(&rng, p2, -1, 1);
    gdl_tensor *q0 = gdl_conv2d(ctx, gdl_conv2d(ctx, x, p1, NULL, 1, 2), p2, NULL, 1, 2);
    gdl_tensor *q1 = gdl_conv2d(ctx, gdl_conv2d(ctx, xr, p1, NULL, 1, 2), p2, NULL, 1, 2);
    double plain = rel_diff(gdl_sum(ctx, gdl_sum(ctx, gdl_mul(ctx, gdl_abs(ctx, q1), disc), -1, false), -1, false),
                            gdl_sum(ctx, gdl_sum(ctx, gdl_mul(ctx, gdl_abs(ctx, q0), disc), -1, false), -1, false));
    printf("  an ordinary CNN's summary moves by %.3g\n", plain);
    CHECK(plain > 2 * approx, "the test tells an ordinary CNN apart (%.3g vs %.3g)", plain, approx);
    gdl_tensor_free(xr);
    CHECK(approx < 0.05, "%c%d: near-invariant under a rotation by %g degrees (%.3g)", reflect ? 'D' : 'C', N, 360.0 / N, approx);
  }
  printf("%c%d steerable (k=%d, %d basis functions): quarter-turn error %.2g, %g-degree pooled error %.3g\n",
         reflect ? 'D' : 'C', N, k, nb, exact, 360.0 / N, approx);
  gdl_ctx_free(ctx);
}

int main(void) {
  test_group_axioms(GDL_GROUP_P4);
  test_group_axioms(GDL_GROUP_P4M);
  test_layer_equivariance(GDL_GROUP_P4);
  test_layer_equivariance(GDL_GROUP_P4M);
  test_model_invariance();
  test_steerable(4, false);
  test_steerable(8, false);
  test_steerable(8, true);
  test_steerable(16, false);
  return test_report();
}
