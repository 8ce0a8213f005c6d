/* nn: configs, models and their names, schedules, clipping, checkpoints and
 * resuming, thread-count independence, and learning a real task. */
#include <string.h>
#include <unistd.h>

#include "core/internal.h"
#include "test.h"

/* ---- configs ---------------------------------------------------------------- */

static void test_config(void) {
  const char *text =
      "; comment\n[data]\ndataset = npz  # trailing comment\n\n[train]\nepochs = 3\nlr = 1e-3\n"
      "[linear]\nout = 5\n[relu]\n[linear]\nout = x7\n";
  gdl_config *c = gdl_config_parse(text, "t.ini");
  CHECK(c && gdl_config_count(c) == 5, "five sections");
  gdl_section *tr = gdl_config_find(c, "train");
  int64_t e;
  double lr;
  CHECK(gdl_section_int(tr, "epochs", 0, &e) == GDL_OK && e == 3, "int key");
  CHECK(gdl_section_double(tr, "lr", 0, &lr) == GDL_OK && lr == 1e-3, "double key");
  CHECK(gdl_config_find(c, "linear") == NULL, "ambiguous section name gives NULL");
  int64_t out;
  CHECK(gdl_section_int(gdl_config_section(c, 4), "out", 0, &out) == GDL_ERR_CONFIG &&
            strstr(gdl_last_error(), "t.ini:12") && strstr(gdl_last_error(), "x7"),
        "a bad value names file, line and value: %s", gdl_last_error());
  CHECK(gdl_config_check_unused(c) == GDL_ERR_CONFIG && strstr(gdl_last_error(), "t.ini:3") &&
            strstr(gdl_last_error(), "'dataset'"),
        "an unread key is reported with its line: %s", gdl_last_error());
  CHECK(gdl_config_override(c, "linear#2.out=7") == GDL_OK, "override by index");
  CHECK(gdl_section_int(gdl_config_section(c, 4), "out", 0, &out) == GDL_OK && out == 7, "override applied");
  CHECK(gdl_config_override(c, "linear.out=7") == GDL_ERR_CONFIG && strstr(gdl_last_error(), "#k"),
        "ambiguous override refused: %s", gdl_last_error());
  CHECK(gdl_config_override(c, "nosuch.key=1") == GDL_ERR_CONFIG, "override of a missing section refused");
  CHECK(gdl_config_override(c, "train.batch_size=9") == GDL_OK, "override adds a key");
  CHECK(gdl_section_int(tr, "batch_size", 0, &e) == GDL_OK && e == 9, "added key readable");
  gdl_config_free(c);

  const char *bad[] = {"[train\nx=1\n", "x = 1\n", "[a]\nnovalue\n", "[a]\nk=1\nk=2\n"};
  const char *where[] = {"t.ini:1", "t.ini:1", "t.ini:2", "t.ini:3"};
  for (int i = 0; i < 4; i++) {
    gdl_config *b = gdl_config_parse(bad[i], "t.ini");
    CHECK(!b && strstr(gdl_last_error(), where[i]), "malformed config %d rejected at %s: %s", i, where[i],
          gdl_last_error());
    gdl_config_free(b);
  }
  CHECK(!gdl_config_load("/nonexistent/x.ini") && strstr(gdl_last_error(), "/nonexistent/x.ini"),
        "missing config named");
}

/* ---- models ---------------------------------------------------------------------- */

static void test_model_names(void) {
  gdl_config *c = gdl_config_load("configs/fashion_mlp.ini");
  CHECK(c != NULL, "fashion_mlp.ini parses: %s", gdl_last_error());
  if (!c) return;
  gdl_model *m = gdl_model_new(GDL_F32, GDL_SHAPE(1, 28, 28), 1);
  CHECK(gdl_model_add_config(m, c) == GDL_OK, "model from config: %s", gdl_last_error());
  /* 784*512 + 512 + 512*512 + 512 + 512*10 + 10 */
  CHECK(gdl_model_numel(m) == 669706, "MLP parameter count %lld", (long long)gdl_model_numel(m));
  CHECK(gdl_model_param_count(m) == 6 && !strcmp(gdl_model_param_name(m, 0), "layers.1.weight") &&
            !strcmp(gdl_model_param_name(m, 5), "layers.7.bias"),
        "PyTorch nn.Sequential names");
  gdl_tensor *w = gdl_model_param(m, 0);
  CHECK(w->shape[0] == 512 && w->shape[1] == 784, "Linear weight is [out, in]");
  /* PyTorch's default init: U(-1/sqrt(784), 1/sqrt(784)) */
  double lo = 1, hi = -1;
  for (int64_t i = 0; i < gdl_tensor_numel(w); i++) {
    double v = gdl_tensor_get(w, i);
    lo = fmin(lo, v), hi = fmax(hi, v);
  }
  CHECK(lo >= -1 / sqrt(784.0) && hi <= 1 / sqrt(784.0) && hi > 0.9 / sqrt(784.0), "default init range");
  gdl_model_free(m);
  gdl_config_free(c);

  gdl_model *bad = gdl_model_new(GDL_F32, GDL_SCALAR, 1);
  CHECK(gdl_model_add(bad, gdl_layer_linear(3, true, GDL_INIT_DEFAULT)) == GDL_ERR_SHAPE &&
            strstr(gdl_last_error(), "linear"),
        "a layer that does not fit the shape is refused: %s", gdl_last_error());
  gdl_model_free(bad);
}

/* [shortcut] adds an earlier output, [concat] joins several along the last axis
 * (the input included): the model's output equals the same sums and joins by hand. */
static void test_merges(void) {
  const char *text = "[linear]\nout = 4\n[relu]\n[shortcut]\nfrom = -2\n[concat]\nfrom = -4, -1, -3\n";
  gdl_config *c = gdl_config_parse(text, "m.ini");
  gdl_model *m = gdl_model_new(GDL_F64, GDL_SHAPE(3), 7);
  CHECK(c && gdl_model_add_config(m, c) == GDL_OK, "model with shortcut and concat: %s", gdl_last_error());
  gdl_shape o = gdl_model_out_shape(m);
  CHECK(o.ndim == 1 && o.d[0] == 3 + 4 + 4, "concat of [3], [4], [4] is [11], got [%lld]", (long long)o.d[0]);
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_tensor *x = gdl_tensor_new(ctx, GDL_F64, GDL_SHAPE(2, 3));
  for (int i = 0; i < 6; i++) gdl_tensor_set(x, i, sin(1.0 + i));
  gdl_tensor *y = gdl_model_forward(m, ctx, x, false), *w = gdl_model_param(m, 0), *b = gdl_model_param(m, 1);
  double err = 0;
  for (int r = 0; r < 2; r++)
    for (int j = 0; j < 4; j++) {
      double h = gdl_tensor_get(b, j);
      for (int k = 0; k < 3; k++) h += gdl_tensor_get(w, j * 3 + k) * gdl_tensor_get(x, r * 3 + k);
      double want[3] = {j < 3 ? gdl_tensor_get(x, r * 3 + j) : 0, fmax(h, 0) + h, h};
      if (j < 3) err = fmax(err, fabs(gdl_tensor_get(y, r * 11 + j) - want[0]));
      err = fmax(err, fabs(gdl_tensor_get(y, r * 11 + 3 + j) - want[1]));
      err = fmax(err, fabs(gdl_tensor_get(y, r * 11 + 7 + j) - want[2]));
    }
  CHECK(err < 1e-14, "shortcut and concat outputs equal the hand computation (err %.2e)", err);
  gdl_ctx_free(ctx);
  gdl_model_free(m);
  gdl_config_free(c);

  const char *bad[] = {"[linear]\nout = 4\n[concat]\nfrom = -3\n", "[linear]\nout = 4\n[concat]\nfrom = 1\n",
                       "[linear]\nout = 4\n[shortcut]\nfrom = -2\n"};
  const char *says[] = {"from", "negative", "shortcut"};
  for (int i = 0; i < 3; i++) {
    gdl_config *cb = gdl_config_parse(bad[i], "b.ini");
    gdl_model *mb = gdl_model_new(GDL_F64, GDL_SHAPE(2, 3), 1);
    CHECK(gdl_model_add_config(mb, cb) != GDL_OK && strstr(gdl_last_error(), says[i]) &&
              strstr(gdl_last_error(), "b.ini"),
          "bad merge %d refused naming the file: %s", i, gdl_last_error());
    gdl_model_free(mb);
    gdl_config_free(cb);
  }
  /* [2, 3] (the input) and [10] (flattened) do not join */
  gdl_config *cj = gdl_config_parse("[linear]\nout = 5\n[flatten]\n[concat]\nfrom = -3, -1\n", "j.ini");
  gdl_model *mj = gdl_model_new(GDL_F64, GDL_SHAPE(2, 3), 1);
  CHECK(gdl_model_add_config(mj, cj) != GDL_OK && strstr(gdl_last_error(), "cannot join"),
        "concat of shapes that differ before the last axis refused: %s", gdl_last_error());
  gdl_model_free(mj);
  gdl_config_free(cj);
}

/* ---- schedules and clipping --------------------------------------------------------- */

static void test_schedules(void) {
  gdl_sched c = {.kind = GDL_SCHED_COSINE, .base_lr = 1, .min_lr = 0.1, .total_epochs = 10};
  CHECK_CLOSE(gdl_sched_lr(&c, 0), 1, 1e-12, 0, "cosine starts at base");
  CHECK_CLOSE(gdl_sched_lr(&c, 5), 0.55, 1e-12, 0, "cosine half way");
  CHECK_CLOSE(gdl_sched_lr(&c, 10), 0.1, 1e-12, 0, "cosine ends at min");
  gdl_sched s = {.kind = GDL_SCHED_STEP, .base_lr = 1, .gamma = 0.5, .step_epochs = 3};
  CHECK_CLOSE(gdl_sched_lr(&s, 2.9), 1, 1e-12, 0, "step before");
  CHECK_CLOSE(gdl_sched_lr(&s, 6.1), 0.25, 1e-12, 0, "step after two");
  gdl_sched w = {.kind = GDL_SCHED_CONSTANT, .base_lr = 2, .warmup_epochs = 2};
  CHECK_CLOSE(gdl_sched_lr(&w, 0.5), 0.5, 1e-12, 0, "linear warmup");
  CHECK_CLOSE(gdl_sched_lr(&w, 3), 2, 1e-12, 0, "after warmup");
}

static void test_clip(void) {
  gdl_model *m = gdl_model_new(GDL_F64, GDL_SHAPE(2), 1);
  gdl_model_add(m, gdl_layer_linear(2, true, GDL_INIT_DEFAULT));
  double norm2 = 0;
  for (int i = 0; i < gdl_model_param_count(m); i++) {
    gdl_tensor *g = gdl_model_param(m, i)->grad;
    for (int64_t k = 0; k < gdl_tensor_numel(g); k++) gdl_tensor_set(g, k, (double)(k + i)), norm2 += (double)((k + i) * (k + i));
  }
  double before = gdl_clip_grad_norm(m, 1.0), after = 0;
  for (int i = 0; i < gdl_model_param_count(m); i++) {
    gdl_tensor *g = gdl_model_param(m, i)->grad;
    for (int64_t k = 0; k < gdl_tensor_numel(g); k++) after += pow(gdl_tensor_get(g, k), 2);
  }
  CHECK_CLOSE(before, sqrt(norm2), 1e-12, 0, "clip returns the norm before");
  CHECK_CLOSE(sqrt(after), 1.0, 1e-5, 0, "clipped to max_norm");
  gdl_model_free(m);
}

/* ---- training on a synthetic task: resume and threads ----------------------------- */

/* Three Gaussian blobs in 8-D. */
static gdl_dataset blobs(int64_t n, uint64_t seed) {
  gdl_dataset d = {gdl_tensor_alloc(GDL_F32, GDL_SHAPE(n, 8)), gdl_tensor_alloc(GDL_I64, GDL_SHAPE(n)), 1, 0, 3};
  gdl_rng r = gdl_rng_make(seed);
  for (int64_t i = 0; i < n; i++) {
    int64_t c = (int64_t)gdl_rng_below(&r, 3);
    ((int64_t *)d.y->data)[i] = c;
    for (int k = 0; k < 8; k++) ((float *)d.x->data)[i * 8 + k] = (float)(gdl_rng_normal(&r) + (k % 3 == c ? 2.0 : 0.0));
  }
  return d;
}

static gdl_model *small_mlp(void) {
  gdl_model *m = gdl_model_new(GDL_F32, GDL_SHAPE(8), 7);
  int64_t widths[] = {32, 32, 3};
  gdl_model_add_mlp(m, widths, 3, GDL_ACT_RELU, 0.1);
  return m;
}

static bool same_weights(gdl_model *a, gdl_model *b, double tol, double *diff) {
  *diff = 0;
  for (int i = 0; i < gdl_model_param_count(a); i++)
    for (int64_t k = 0; k < gdl_tensor_numel(gdl_model_param(a, i)); k++)
      *diff = fmax(*diff, fabs(gdl_tensor_get(gdl_model_param(a, i), k) - gdl_tensor_get(gdl_model_param(b, i), k)));
  return *diff <= tol;
}

static bool stop_after_two(const gdl_epoch_log *e, void *user) { return e->epoch + 1 < 2; }

static void test_resume_and_threads(void) {
  gdl_dataset tr = blobs(600, 1), va = blobs(200, 2);
  gdl_train_opts o = gdl_train_defaults();
  o.epochs = 4;
  o.batch_size = 32;
  o.optim = gdl_optim_defaults(GDL_OPTIM_ADAMW);
  o.sched = (gdl_sched){.kind = GDL_SCHED_COSINE, .base_lr = 3e-3, .total_epochs = 4};
  o.restore_best = false;
  char ckpt[] = "/tmp/gdl_test_ckpt_XXXXXX";
  int fd = mkstemp(ckpt);
  close(fd);

  gdl_model *full = small_mlp();
  gdl_train_result r;
  CHECK(gdl_train(full, &tr, &va, &o, &r) == GDL_OK, "uninterrupted run: %s", gdl_last_error());
  gdl_eval_result ev;
  gdl_evaluate(full, &va, 100, &ev);
  CHECK(ev.accuracy > 0.9, "blobs learnt: validation accuracy %.3f", ev.accuracy);

  gdl_model *part = small_mlp();
  gdl_train_opts o1 = o;
  o1.checkpoint = ckpt;
  o1.on_epoch = stop_after_two; /* interrupted after two epochs */
  CHECK(gdl_train(part, &tr, &va, &o1, &r) == GDL_OK && r.epochs_run == 2, "first half");
  gdl_model *resumed = small_mlp();
  gdl_train_opts o2 = o;
  o2.checkpoint = ckpt;
  o2.resume = true;
  CHECK(gdl_train(resumed, &tr, &va, &o2, &r) == GDL_OK && r.epochs_run == 4, "resumed run");
  double diff;
  CHECK(same_weights(full, resumed, 0, &diff), "resume ends with the uninterrupted run's weights (max diff %g)", diff);

  int saved = gdl_get_threads();
  gdl_set_threads(1);
  gdl_model *one = small_mlp();
  gdl_train(one, &tr, &va, &o, &r);
  gdl_set_threads(2);
  gdl_model *two = small_mlp();
  gdl_train(two, &tr, &va, &o, &r);
  gdl_set_threads(saved);
  CHECK(same_weights(one, two, 1e-5, &diff), "1 and 2 threads agree up to rounding (max diff %g)", diff);

  /* a checkpoint that is not one */
  FILE *f = fopen(ckpt, "wb");
  fputs("garbage", f);
  fclose(f);
  gdl_model *g = small_mlp();
  CHECK(gdl_train(g, &tr, &va, &o2, &r) != GDL_OK && strstr(gdl_last_error(), ckpt), "corrupt checkpoint refused: %s",
        gdl_last_error());
  remove(ckpt);

  gdl_model *ms[] = {full, part, resumed, one, two, g};
  for (int i = 0; i < 6; i++) gdl_model_free(ms[i]);
  gdl_tensor_free(tr.x), gdl_tensor_free(tr.y), gdl_tensor_free(va.x), gdl_tensor_free(va.y);
}

/* ---- a real task: Fashion-MNIST with a short budget ------------------------------- */

static void test_fashion_mlp(void) {
  const char *dir = "/usr/share/datasets/fashion-mnist";
  gdl_tensor *x = gdl_idx_load("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
  gdl_tensor *y = gdl_idx_load("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz");
  gdl_tensor *tx = gdl_idx_load("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
  gdl_tensor *ty = gdl_idx_load("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz");
  CHECK(x && y && tx && ty, "Fashion-MNIST in %s: %s", dir, gdl_last_error());
  if (!(x && y && tx && ty)) return;
  gdl_tensor *yl = gdl_tensor_alloc(GDL_I64, gdl_tensor_shape(y)), *tyl = gdl_tensor_alloc(GDL_I64, gdl_tensor_shape(ty));
  gdl_tensor_copy(yl, y);
  gdl_tensor_copy(tyl, ty);
  /* All 60000 training images, 2 epochs, a cosine schedule: a short budget that must
   * still reach 85% on the test set (the full config reaches about 89-90%). */
  gdl_dataset tr = {x, yl, 1 / (255 * 0.353), -0.286 / 0.353, 10}, te = {tx, tyl, 1 / (255 * 0.353), -0.286 / 0.353, 10};
  gdl_model *m = gdl_model_new(GDL_F32, GDL_SHAPE(28, 28), 1);
  gdl_model_add(m, gdl_layer_flatten());
  int64_t widths[] = {256, 10};
  gdl_model_add_mlp(m, widths, 2, GDL_ACT_RELU, 0);
  gdl_train_opts o = gdl_train_defaults();
  o.epochs = 2;
  o.batch_size = 64;
  o.sched = (gdl_sched){.kind = GDL_SCHED_COSINE, .base_lr = 1e-3, .total_epochs = 2};
  gdl_train_result r;
  CHECK(gdl_train(m, &tr, NULL, &o, &r) == GDL_OK, "train: %s", gdl_last_error());
  gdl_eval_result ev;
  gdl_evaluate(m, &te, 1000, &ev);
  printf("fashion-mnist MLP, 2 epochs on 60000 images: test accuracy %.4f (%.1f s)\n", ev.accuracy, r.seconds);
  CHECK(ev.n == 10000 && ev.accuracy >= 0.85, "test accuracy %.4f >= 0.85", ev.accuracy);
  gdl_model_free(m);
  gdl_tensor *all[] = {x, y, tx, ty, yl, tyl};
  for (int i = 0; i < 6; i++) gdl_tensor_free(all[i]);
}

int main(void) {
  test_config();
  test_model_names();
  test_merges();
  test_schedules();
  test_clip();
  test_resume_and_threads();
  test_fashion_mlp();
  return test_report();
}
