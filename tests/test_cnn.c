/* A real task for the grid layers: a small CNN on Fashion-MNIST, short budget. */
#include <math.h>
#include <string.h>

#include "test.h"

#define FMNIST "/usr/share/datasets/fashion-mnist/"

/* The first n images of an IDX file as [n, 1, 28, 28] uint8 and their labels as int64. */
static bool load(const char *images, const char *labels, int64_t n, gdl_dataset *ds) {
  gdl_tensor *x = gdl_idx_load(images), *y = gdl_idx_load(labels);
  CHECK(x && y, "Fashion-MNIST: %s", gdl_last_error());
  if (!x || !y) return gdl_tensor_free(x), gdl_tensor_free(y), false;
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

/* Convolutions take samples in chunks (src/grid/conv.c): a batch of 24 must give, for
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
  test_conv_chunks();
  test_vgg16();
  test_fashion_cnn();
  return test_report();
}
