/* gdl's nn layer against PyTorch: optimisers, a config-built MLP and `gdl predict`.
 *
 * The fixtures were made once by tests/ref/gen_nn.py (torch):
 *   1. tests/ref/optim_torch.npz: a tiny float64 model Linear(4,3), ReLU, Linear(3,2)
 *      trained for 5 steps on one batch with cross-entropy by each optimiser of the
 *      script's CASES (mirrored by the table below); gdl replays every step from the
 *      same initial weights and must give the same loss and parameters to
 *      1e-10 + 1e-10 |torch|;
 *   2. tests/ref/mlp_torch.safetensors + mlp_io.npz: a float32 PyTorch MLP laid out
 *      like tests/ref/mlp_small.ini and its eval-mode outputs; gdl builds the model
 *      from the config, loads the weights and predicts, to 1e-5 + 1e-5 |torch|;
 *   3. the same through the command line: gdl predict CONFIG --checkpoint ...
 *      (the binary is $GDL_BIN/../gdl; ctest sets GDL_BIN to this test's folder). */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

#define OPTIM_FIXTURE "tests/ref/optim_torch.npz"
#define MLP_CONFIG "tests/ref/mlp_small.ini"
#define MLP_WEIGHTS "tests/ref/mlp_torch.safetensors"
#define MLP_IO "tests/ref/mlp_io.npz"
#define STEPS 5
#define TOL64 1e-10
#define TOL32 1e-5

/* ---- comparing ---------------------------------------------------------------- */

/* Compares got with ref's elements [off, off + numel(got)); prints the worst element
 * when out of |got - ref| <= tol + tol |ref| and returns whether all are within. */
static bool compare(const char *what, const gdl_tensor *got, const gdl_tensor *ref, int64_t off,
                    double tol) {
  int64_t n = gdl_tensor_numel(got), worst = -1;
  double excess = 0, maxdiff = 0;
  if (off + n > gdl_tensor_numel(ref)) {
    printf("FAIL %s: %lld elements, the reference has %lld from %lld\n", what, (long long)n,
           (long long)gdl_tensor_numel(ref), (long long)off);
    return false;
  }
  for (int64_t i = 0; i < n; i++) {
    double a = gdl_tensor_get(got, i), b = gdl_tensor_get(ref, off + i);
    double d = fabs(a - b), e = d != d ? INFINITY : d - (tol + tol * fabs(b));
    if (d > maxdiff || d != d) maxdiff = d;
    if (e > 0 && (worst < 0 || e > excess)) {
      excess = e;
      worst = i;
    }
  }
  if (worst >= 0)
    printf("FAIL %s: element %lld is %.17g, torch %.17g (max |diff| %.3g, tolerance %g)\n", what,
           (long long)worst, gdl_tensor_get(got, worst), gdl_tensor_get(ref, off + worst), maxdiff,
           tol);
  return worst < 0;
}

/* Counts a comparison that has already printed its FAIL line. */
static void tally(bool ok) {
  if (ok) test_passed++;
  else test_failed++;
}

static gdl_tensor *need(const gdl_arrays *a, const char *file, const char *name) {
  gdl_tensor *t = gdl_arrays_get(a, name);
  if (!t) CHECK(false, "%s: no array '%s'", file, name);
  return t;
}

/* ---- 1. optimiser trajectories ---------------------------------------------------- */

typedef struct {
  const char *name; /* as in gen_nn.py's CASES */
  gdl_optim_opts o;
} optim_case;

static gdl_optim_opts sgd(double momentum, bool nesterov, double weight_decay) {
  gdl_optim_opts o = gdl_optim_defaults(GDL_OPTIM_SGD);
  o.lr = 0.1;
  o.momentum = momentum;
  o.nesterov = nesterov;
  o.weight_decay = weight_decay;
  return o;
}

static gdl_optim_opts adam(gdl_optim_kind kind, double weight_decay) {
  gdl_optim_opts o = gdl_optim_defaults(kind); /* betas (0.9, 0.999), eps 1e-8 */
  o.lr = 0.01;
  o.weight_decay = weight_decay;
  return o;
}

static const char *const tiny_params[] = {"layers.0.weight", "layers.0.bias", "layers.2.weight",
                                          "layers.2.bias"};
#define NTINY 4

static void optim_case_run(const gdl_arrays *fix, const optim_case *c) {
  gdl_tensor *x = need(fix, OPTIM_FIXTURE, "x"), *labels = need(fix, OPTIM_FIXTURE, "labels");
  char key[128];
  snprintf(key, sizeof key, "%s.loss", c->name);
  gdl_tensor *loss_ref = need(fix, OPTIM_FIXTURE, key);
  if (!x || !labels || !loss_ref) return;

  /* The same model as PyTorch's Sequential(Linear(4,3), ReLU(), Linear(3,2)). */
  gdl_model *m = gdl_model_new(GDL_F64, GDL_SHAPE(4), 1);
  gdl_status st = gdl_model_add(m, gdl_layer_linear(3, true, GDL_INIT_DEFAULT));
  if (!st) st = gdl_model_add(m, gdl_layer_activation(GDL_ACT_RELU, 0));
  if (!st) st = gdl_model_add(m, gdl_layer_linear(2, true, GDL_INIT_DEFAULT));
  CHECK(!st, "%s: building the model: %s", c->name, gdl_last_error());
  CHECK(!st && gdl_model_param_count(m) == NTINY, "%s: %d parameter tensors, expected %d",
        c->name, gdl_model_param_count(m), NTINY);
  if (st || gdl_model_param_count(m) != NTINY) {
    gdl_model_free(m);
    return;
  }

  /* Initial weights under gdl's names. */
  gdl_arrays *init = gdl_arrays_new();
  for (int i = 0; i < NTINY; i++) {
    CHECK(!strcmp(gdl_model_param_name(m, i), tiny_params[i]), "%s: parameter %d is '%s', not '%s'",
          c->name, i, gdl_model_param_name(m, i), tiny_params[i]);
    snprintf(key, sizeof key, "init.%s", tiny_params[i]);
    gdl_tensor *t = need(fix, OPTIM_FIXTURE, key);
    if (t) gdl_arrays_put(init, tiny_params[i], t, false);
  }
  st = gdl_model_load_state(m, init, OPTIM_FIXTURE);
  CHECK(!st, "%s: loading the initial weights: %s", c->name, gdl_last_error());
  gdl_arrays_free(init);
  if (st) {
    gdl_model_free(m);
    return;
  }

  gdl_optim *opt = gdl_optim_new(m, c->o);
  gdl_ctx *ctx = gdl_ctx_new();
  for (int step = 0; step < STEPS; step++) {
    gdl_tensor *logits = gdl_model_forward(m, ctx, x, true);
    gdl_tensor *loss = gdl_cross_entropy(ctx, logits, labels, GDL_CE_DEFAULT);
    CHECK_CLOSE(gdl_tensor_get(loss, 0), gdl_tensor_get(loss_ref, step), TOL64, TOL64,
                "%s: loss before step %d is %.17g, torch %.17g", c->name, step + 1,
                gdl_tensor_get(loss, 0), gdl_tensor_get(loss_ref, step));
    st = gdl_backward(ctx, loss);
    CHECK(!st, "%s: backward at step %d: %s", c->name, step + 1, gdl_last_error());
    gdl_optim_step(opt, c->o.lr);
    gdl_model_zero_grad(m);
    gdl_ctx_reset(ctx);
    for (int i = 0; i < NTINY; i++) {
      snprintf(key, sizeof key, "%s.%s", c->name, tiny_params[i]);
      gdl_tensor *p = gdl_model_param(m, i), *ref = need(fix, OPTIM_FIXTURE, key);
      if (!ref) continue;
      char what[192];
      snprintf(what, sizeof what, "%s: %s after step %d", c->name, tiny_params[i], step + 1);
      tally(compare(what, p, ref, step * gdl_tensor_numel(p), TOL64));
    }
  }
  CHECK(gdl_optim_steps(opt) == STEPS, "%s: %lld optimiser steps, expected %d", c->name,
        (long long)gdl_optim_steps(opt), STEPS);
  gdl_ctx_free(ctx);
  gdl_optim_free(opt);
  gdl_model_free(m);
}

static void test_optimisers(void) {
  const optim_case cases[] = {
      {"sgd", sgd(0, false, 0)},
      {"sgd_momentum", sgd(0.9, false, 0)},
      {"sgd_nesterov", sgd(0.9, true, 0)},
      {"sgd_wd_momentum", sgd(0.9, false, 0.01)},
      {"adam", adam(GDL_OPTIM_ADAM, 0)},
      {"adam_wd", adam(GDL_OPTIM_ADAM, 0.01)},
      {"adamw", adam(GDL_OPTIM_ADAMW, 0.01)},
  };
  gdl_arrays *fix = gdl_npz_load(OPTIM_FIXTURE);
  CHECK(fix != NULL, "cannot load %s: %s", OPTIM_FIXTURE, gdl_last_error());
  if (!fix) return;
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) optim_case_run(fix, &cases[k]);
  gdl_arrays_free(fix);
}

/* ---- 2. an MLP from a config with PyTorch's weights ------------------------------- */

static void test_mlp(const gdl_tensor *x, const gdl_tensor *y_ref) {
  gdl_config *cfg = gdl_config_load(MLP_CONFIG);
  CHECK(cfg != NULL, "cannot load %s: %s", MLP_CONFIG, gdl_last_error());
  if (!cfg) return;
  gdl_model *m = gdl_model_new(GDL_F32, GDL_SHAPE(1, 28, 28), 1);
  gdl_status st = gdl_model_add_config(m, cfg);
  CHECK(!st, "%s: %s", MLP_CONFIG, gdl_last_error());
  /* PyTorch's Sequential(Flatten, Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear). */
  static const char *const names[] = {"layers.1.weight", "layers.1.bias", "layers.4.weight",
                                      "layers.4.bias",   "layers.7.weight", "layers.7.bias"};
  CHECK(gdl_model_param_count(m) == 6, "%d parameter tensors, expected 6",
        gdl_model_param_count(m));
  for (int i = 0; i < 6 && i < gdl_model_param_count(m); i++)
    CHECK(!strcmp(gdl_model_param_name(m, i), names[i]), "parameter %d is '%s', not '%s'", i,
          gdl_model_param_name(m, i), names[i]);
  CHECK(gdl_model_numel(m) == 26506, "%lld parameters, expected 26506",
        (long long)gdl_model_numel(m));
  if (!st) {
    st = gdl_checkpoint_load(MLP_WEIGHTS, m, NULL, NULL, NULL);
    CHECK(!st, "loading %s: %s", MLP_WEIGHTS, gdl_last_error());
  }
  if (!st) {
    gdl_tensor *y = gdl_predict(m, x, 1, 0, 5); /* batches of 5, 5, 5 and 1 */
    CHECK(y && gdl_shape_eq(gdl_tensor_shape(y), gdl_tensor_shape(y_ref)) &&
              y->dtype == GDL_F32, "gdl_predict: wrong output");
    if (y && gdl_shape_eq(gdl_tensor_shape(y), gdl_tensor_shape(y_ref)))
      tally(compare("gdl_predict vs torch", y, y_ref, 0, TOL32));
    gdl_tensor_free(y);
  }
  gdl_model_free(m);
  gdl_config_free(cfg);
}

/* ---- 3. the same through `gdl predict` ------------------------------------------------ */

static void test_cli_predict(const char *argv0, const gdl_tensor *y_ref) {
  gdl_arrays *res = test_gdl_predict(argv0, MLP_CONFIG, MLP_WEIGHTS, MLP_IO);
  gdl_tensor *y = res ? gdl_arrays_get(res, "y") : NULL;
  CHECK(!res || y, "gdl predict: no array 'y' in its output");
  if (y) {
    bool same = gdl_shape_eq(gdl_tensor_shape(y), gdl_tensor_shape(y_ref));
    CHECK(same && y->dtype == GDL_F32, "gdl predict: y is %s, expected float32 [16, 10]",
          gdl_dtype_name(y->dtype));
    if (same) tally(compare("gdl predict vs torch", y, y_ref, 0, TOL32));
  }
  gdl_arrays_free(res);
}

int main(int argc, char **argv) {
  test_optimisers();
  gdl_arrays *io = gdl_npz_load(MLP_IO);
  CHECK(io != NULL, "cannot load %s: %s", MLP_IO, gdl_last_error());
  gdl_tensor *x = io ? need(io, MLP_IO, "x") : NULL, *y = io ? need(io, MLP_IO, "y") : NULL;
  if (x && y) {
    test_mlp(x, y);
    test_cli_predict(argc > 0 ? argv[0] : "", y);
  }
  gdl_arrays_free(io);
  return test_report();
}
