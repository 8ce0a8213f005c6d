/* Grid models: translation equivariance and invariance, batched = per-sample
 * convolutions, VGG-16 from its config, and a small CNN learning Fashion-MNIST. */
#include <math.h>
#include <string.h>

#include "test.h"

#define FMNIST "/usr/share/datasets/fashion-mnist/"

/* The first n images of an IDX file as [n, 1, 28, 28] uint8 and their labels as int64. */
static bool load(const char *images, const char *labels, int64_t n, gdl_dataset *ds) {
  gdl_tensor *x = gdl_idx_load(images), *y = gdl_idx_load(labels);
  bool ok = x && y && x->shape[0] >= n && gdl_tensor_numel(x) >= n * 28 * 28 && gdl_tensor_numel(y) >= n;
  CHECK(ok, "Fashion-MNIST %s: %s", images, x && y ? "fewer images than needed" : gdl_last_error());
  if (!ok) return gdl_tensor_free(x), gdl_tensor_free(y), false;
  ds->x = gdl_tensor_alloc(GDL_U8, GDL_SHAPE(n, 1, 28, 28));
  ds->y = gdl_tensor_alloc(GDL_I64, GDL_SHAPE(n));
  memcpy(ds->x->data, x->data, (size_t)(n * 28 * 28));
  for (int64_t i = 0; i < n; i++) ((int64_t *)ds->y->data)[i] = ((const uint8_t *)y->data)[i];
  ds->scale = 1 / (255 * 0.353), ds->shift = -0.286 / 0.353, ds->num_classes = 10;
  gdl_tensor_free(x), gdl_tensor_free(y);
  return true;
}

/* Two blocks of 3x3 convolution, batch norm, ReLU and 2x2 max pooling, then a linear
 * classifier (9,122 parameters): 2 epochs on 12,000 training images. The
 * full configs/fashion_cnn.ini (docs/grids.md) is the accuracy target; this budget
 * must reach 85% on the 10,000 test images (it gets 86.6%). */
static void test_fashion_cnn(void) {
  gdl_dataset tr, te;
  if (!load(FMNIST "train-images-idx3-ubyte.gz", FMNIST "train-labels-idx1-ubyte.gz", 12000, &tr)) return;
  if (!load(FMNIST "t10k-images-idx3-ubyte.gz", FMNIST "t10k-labels-idx1-ubyte.gz", 10000, &te)) return;
  const char *layers = "[conv2d]\nout = 8\nkernel = 3\npadding = same\nbias = false\n[batch_norm]\n[relu]\n"
                       "[max_pool2d]\nkernel = 2\n"
                       "[conv2d]\nout = 16\nkernel = 3\npadding = same\nbias = false\n[batch_norm]\n[relu]\n"
                       "[max_pool2d]\nkernel = 2\n[flatten]\n[linear]\nout = 10\n";
  gdl_config *cfg = gdl_config_parse(layers, "test_cnn.ini");
  gdl_model *m = gdl_model_new(GDL_F32, GDL_SHAPE(1, 28, 28), 1);
  CHECK(cfg && gdl_model_add_config(m, cfg) == GDL_OK, "model: %s", gdl_last_error());
  /* One thread: ctest runs two programs at once, and OpenMP barriers crawl when
   * another process holds the other core (thread-count independence is tested in
   * test_nn). */
  gdl_set_threads(1);
  gdl_train_opts o = gdl_train_defaults();
  o.epochs = 2;
  o.batch_size = 64;
  o.sched = (gdl_sched){.kind = GDL_SCHED_COSINE, .base_lr = 3e-3, .total_epochs = 2};
  gdl_train_result r;
  CHECK(gdl_train(m, &tr, NULL, &o, &r) == GDL_OK, "train: %s", gdl_last_error());
  gdl_eval_result ev;
  CHECK(gdl_evaluate(m, &te, 500, &ev) == GDL_OK, "evaluate: %s", gdl_last_error());
  printf("fashion-mnist CNN, 2 epochs on 12000 images: test accuracy %.4f (%.1f s)\n", ev.accuracy, r.seconds);
  CHECK(ev.n == 10000 && ev.accuracy >= 0.85, "test accuracy %.4f >= 0.85", ev.accuracy);
  gdl_model_free(m);
  gdl_config_free(cfg);
  gdl_tensor_free(tr.x), gdl_tensor_free(tr.y), gdl_tensor_free(te.x), gdl_tensor_free(te.y);
}

/* Convolutions take samples in tiles and chunks (src/grid/conv.c): a batch of 24 must give, for
 * each sample, what that sample gives alone, in the forward pass and in the input
 * and weight gradients, for the convolution and its transpose (float64). */
static void test_conv_chunks(void) {
  const int64_t N = 24;
  gdl_rng rng = gdl_rng_make(9);
  gdl_tensor *x = gdl_tensor_alloc(GDL_F64, GDL_SHAPE(N, 4, 9, 7)), *w = gdl_tensor_alloc(GDL_F64, GDL_SHAPE(6, 2, 3, 3));
  gdl_tensor *wt = gdl_tensor_alloc(GDL_F64, GDL_SHAPE(4, 3, 3, 3));
  gdl_rng_fill_normal(&rng, x, 0, 1), gdl_rng_fill_normal(&rng, w, 0, 1), gdl_rng_fill_normal(&rng, wt, 0, 1);
  x->requires_grad = w->requires_grad = wt->requires_grad = true;
  gdl_conv_opts o = {.stride = {1, 2}, .padding = {1, 1}, .groups = 2};
  gdl_conv_opts ot = {.stride = {2, 1}, .padding = {1, 0}, .groups = 1};
  for (int transpose = 0; transpose < 2; transpose++) {
    gdl_tensor *k = transpose ? wt : w;
    const gdl_conv_opts *op = transpose ? &ot : &o;
    gdl_ctx *ctx = gdl_ctx_new();
    gdl_tensor *y = transpose ? gdl_conv_transpose(ctx, x, k, NULL, op) : gdl_conv(ctx, x, k, NULL, op);
    gdl_tensor *r = gdl_tensor_new(ctx, GDL_F64, gdl_tensor_shape(y));
    gdl_rng_fill_normal(&rng, r, 0, 1);
    CHECK(gdl_backward(ctx, gdl_sum(ctx, gdl_mul(ctx, y, r), GDL_AXIS_ALL, false)) == GDL_OK, "backward");
    double err = 0, dwsum[6 * 2 * 9] = {0};
    int64_t nw = gdl_tensor_numel(k);
    for (int64_t n = 0; n < N; n++) {
      gdl_ctx *c1 = gdl_ctx_new();
      gdl_tensor *xn = gdl_tensor_alloc(GDL_F64, GDL_SHAPE(1, 4, 9, 7));
      for (int64_t i = 0; i < gdl_tensor_numel(xn); i++) ((double *)xn->data)[i] = ((double *)x->data)[n * gdl_tensor_numel(xn) + i];
      xn->requires_grad = true;
      gdl_tensor *kn = gdl_tensor_clone(k);
      kn->requires_grad = true;
      gdl_tensor *yn = transpose ? gdl_conv_transpose(c1, xn, kn, NULL, op) : gdl_conv(c1, xn, kn, NULL, op);
      gdl_tensor *rn = gdl_slice(c1, r, 0, n, n + 1, 1), *ys = gdl_slice(c1, y, 0, n, n + 1, 1);
      gdl_backward(c1, gdl_sum(c1, gdl_mul(c1, yn, rn), GDL_AXIS_ALL, false));
      for (int64_t i = 0; i < gdl_tensor_numel(yn); i++) err = fmax(err, fabs(gdl_tensor_get(yn, i) - gdl_tensor_get(ys, i)));
      for (int64_t i = 0; i < gdl_tensor_numel(xn); i++)
        err = fmax(err, fabs(gdl_tensor_get(xn->grad, i) - gdl_tensor_get(x->grad, n * gdl_tensor_numel(xn) + i)));
      for (int64_t i = 0; i < nw; i++) dwsum[i] += gdl_tensor_get(kn->grad, i);
      xn->grad = kn->grad = NULL; /* they live in c1 */
      gdl_ctx_free(c1);
      gdl_tensor_free(xn), gdl_tensor_free(kn);
    }
    for (int64_t i = 0; i < nw; i++) err = fmax(err, fabs(dwsum[i] - gdl_tensor_get(k->grad, i)) / (1 + fabs(dwsum[i])));
    CHECK(err < 1e-12, "%s: batch of %lld = samples alone (outputs, input and weight gradients): max diff %.2e",
          transpose ? "conv_transpose" : "conv", (long long)N, err);
    x->grad = k->grad = NULL; /* they lived in ctx */
    gdl_ctx_free(ctx);
  }
  gdl_tensor_free(x), gdl_tensor_free(w), gdl_tensor_free(wt);
}

/* x [N, C, H, W] rolled circularly by (dy, dx): a new heap tensor. */
static gdl_tensor *roll(const gdl_tensor *x, int64_t dy, int64_t dx) {
  gdl_tensor *r = gdl_tensor_alloc(x->dtype, gdl_tensor_shape(x));
  int64_t H = x->shape[2], W = x->shape[3], planes = x->shape[0] * x->shape[1];
  for (int64_t p = 0; p < planes; p++)
    for (int64_t i = 0; i < H; i++)
      for (int64_t j = 0; j < W; j++)
        gdl_tensor_set(r, (p * H + (i + dy) % H) * W + (j + dx) % W, gdl_tensor_get(x, (p * H + i) * W + j));
  return r;
}

static double max_abs(const gdl_tensor *t) {
  double m = 0;
  for (int64_t i = 0; i < gdl_tensor_numel(t); i++) m = fmax(m, fabs(gdl_tensor_get(t, i)));
  return m;
}

/* Translation equivariance: convolutions with circular padding (stride 1, dilation,
 * groups) commute with circular shifts exactly, up to rounding; global pooling
 * makes the output invariant. Float32, so "exact" is 1e-6 relative. */
static void test_translation(void) {
  const char *convs = "[conv2d]\nout = 6\nkernel = 3\npadding = 1\npadding_mode = circular\n[relu]\n"
                      "[conv2d]\nout = 4\nkernel = 3\npadding = 2\ndilation = 2\ngroups = 2\n"
                      "padding_mode = circular\nactivation = relu\n";
  char text[512];
  gdl_rng rng = gdl_rng_make(4);
  gdl_tensor *x = gdl_tensor_alloc(GDL_F32, GDL_SHAPE(2, 3, 12, 10));
  gdl_rng_fill_normal(&rng, x, 0, 1);
  gdl_tensor *xs = roll(x, 5, 3);
  const char *tails[] = {"", "[global_avg_pool]\n", "[global_max_pool]\n"};
  for (int k = 0; k < 3; k++) {
    snprintf(text, sizeof text, "%s%s", convs, tails[k]);
    gdl_config *cfg = gdl_config_parse(text, "translation.ini");
    gdl_model *m = gdl_model_new(GDL_F32, GDL_SHAPE(3, 12, 10), 7);
    CHECK(cfg && gdl_model_add_config(m, cfg) == GDL_OK, "model: %s", gdl_last_error());
    gdl_ctx *ctx = gdl_ctx_new();
    gdl_ctx_set_grad(ctx, false);
    gdl_tensor *y = gdl_model_forward(m, ctx, x, false), *ys = gdl_model_forward(m, ctx, xs, false);
    gdl_tensor *want = k ? gdl_tensor_clone(y) : roll(y, 5, 3); /* pooled: the same; else shifted */
    double err = 0;
    for (int64_t i = 0; i < gdl_tensor_numel(ys); i++) err = fmax(err, fabs(gdl_tensor_get(ys, i) - gdl_tensor_get(want, i)));
    err /= max_abs(want);
    CHECK(err <= 1e-6, "%s: shifting the input by (5, 3) %s (relative error %.2e)", k ? tails[k] + 1 : "circular convolutions",
          k ? "leaves the output unchanged" : "shifts the output by (5, 3)", err);
    if (k == 0) { /* the comparison can fail: a shift by (5, 4) does not match */
      gdl_tensor *zs = roll(y, 5, 4);
      double off = 0;
      for (int64_t i = 0; i < gdl_tensor_numel(ys); i++) off = fmax(off, fabs(gdl_tensor_get(ys, i) - gdl_tensor_get(zs, i)));
      CHECK(off / max_abs(zs) > 1e-2, "a wrong shift is detected (%.2e)", off / max_abs(zs));
      gdl_tensor_free(zs);
    }
    gdl_tensor_free(want);
    gdl_ctx_free(ctx);
    gdl_model_free(m);
    gdl_config_free(cfg);
  }
  gdl_tensor_free(x), gdl_tensor_free(xs);
}

/* VGG-16 from configs/vgg16.ini: the paper's parameter count, torchvision's tensor
 * names, and a forward pass at 224 x 224 that gives finite logits. */
static void test_vgg16(void) {
  gdl_config *cfg = gdl_config_load("configs/vgg16.ini");
  gdl_model *m = gdl_model_new(GDL_F32, GDL_SHAPE(3, 224, 224), 1);
  CHECK(cfg && gdl_model_add_config(m, cfg) == GDL_OK, "vgg16.ini: %s", gdl_last_error());
  int64_t total = 0;
  for (int i = 0; i < gdl_model_param_count(m); i++) total += gdl_tensor_numel(gdl_model_param(m, i));
  CHECK(total == 138357544, "VGG-16 has %lld parameters (the paper: 138,357,544)", (long long)total);
  CHECK(gdl_model_param_count(m) == 32 && !strcmp(gdl_model_param_name(m, 0), "layers.0.weight"),
        "32 tensors named as torchvision's features/classifier flattened: %s", gdl_model_param_name(m, 0));
  gdl_rng rng = gdl_rng_make(5);
  gdl_tensor *x = gdl_tensor_alloc(GDL_F32, GDL_SHAPE(1, 3, 224, 224));
  gdl_rng_fill_normal(&rng, x, 0, 1);
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_ctx_set_grad(ctx, false);
  gdl_tensor *y = gdl_model_forward(m, ctx, x, false);
  bool finite = y != NULL;
  for (int64_t i = 0; y && i < gdl_tensor_numel(y); i++) finite = finite && isfinite(gdl_tensor_get(y, i));
  CHECK(y && y->ndim == 2 && y->shape[0] == 1 && y->shape[1] == 1000 && finite, "224x224 forward: [1, 1000] finite logits");
  gdl_ctx_free(ctx);
  gdl_tensor_free(x);
  gdl_model_free(m);
  gdl_config_free(cfg);
}

int main(void) {
  test_translation();
  test_conv_chunks();
  test_vgg16();
  test_fashion_cnn();
  return test_report();
}
