/* gdl's grid (CNN) ops against PyTorch: outputs and gradients; a PyTorch CNN loaded
 * into a config-built gdl model, and the same through `gdl predict`.
 *
 * The fixtures were made once by tests/ref/gen_grid.py (torch):
 *   1. tests/ref/grid_torch.npz (float64): for each case the inputs in<k>, upstream
 *      weights w, the output out, the gradients grad<k> of L = sum(w * out), for
 *      batch norm the running statistics after the call (after<k>) and for max
 *      pooling PyTorch's return_indices (indices). Each case below rebuilds the op
 *      with gdl from the same inputs and attributes (the table mirrors the script),
 *      runs gdl_backward on L and compares everything:
 *        float64: |gdl - torch| <= 1e-10 + 1e-10 |torch|;
 *        float32 (inputs rounded to float, a few cases): 1e-5 + 1e-5 |torch|;
 *        indices: equal.
 *   2. tests/ref/cnn_torch.safetensors + cnn_io.npz: a float32 PyTorch CNN laid out
 *      like tests/ref/cnn_small.ini and its eval-mode outputs; gdl builds the model
 *      from the config, loads the weights and predicts, to 1e-5 + 1e-5 |torch|;
 *   3. the same through the command line: gdl predict CONFIG --checkpoint ...
 *      (the binary is $GDL_BIN/../gdl; ctest sets GDL_BIN to this test's folder). */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gdl/io.h"
#include "test.h"

#define FIXTURE "tests/ref/grid_torch.npz"
#define CNN_CONFIG "tests/ref/cnn_small.ini"
#define CNN_WEIGHTS "tests/ref/cnn_torch.safetensors"
#define CNN_IO "tests/ref/cnn_io.npz"
#define TOL64 1e-10
#define TOL32 1e-5
#define MAXIN 8

/* ---- attribute helpers ------------------------------------------------------------ */

/* Convolution options: zero stride/dilation/groups mean 1. */
#define OPTS(...) (&(gdl_conv_opts){__VA_ARGS__})
#define ZEROS GDL_PAD_ZEROS
#define REFLECT GDL_PAD_REFLECT
#define REPLICATE GDL_PAD_REPLICATE
#define CIRCULAR GDL_PAD_CIRCULAR
/* gdl's pads list the first padded axis first; gen_grid.py converts for F.pad. */
#define PADS(...) (int[]){__VA_ARGS__}, (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int))

/* The indices of the last max pooling a case ran, compared with PyTorch's by
 * ref_cases.h (which declares it too: a tentative definition may repeat). */
static gdl_tensor *ref_indices;

static gdl_tensor *max_pool(gdl_ctx *c, gdl_tensor *x, int k, int s, int p) {
  return gdl_max_pool2d(c, x, k, s, p, &ref_indices);
}

/* ---- the cases: name, number of inputs, float32 check too, gdl expression ---------- */
/* x[k] is input k of the case; c the context. Same order and attributes as in
 * gen_grid.py. */
#define CASES(X)                                                                              \
  /* 1-d convolutions */                                                                      \
  X(conv1d_basic, 3, 0, gdl_conv(c, x[0], x[1], x[2], OPTS(0)))                               \
  X(conv1d_stride_pad_dil, 2, 0,                                                              \
    gdl_conv(c, x[0], x[1], NULL, OPTS(.stride = {2}, .padding = {2}, .dilation = {2})))      \
  X(conv1d_groups, 3, 0, gdl_conv(c, x[0], x[1], x[2], OPTS(.groups = 2, .padding = {1})))    \
  X(conv1d_circular, 3, 0,                                                                    \
    gdl_conv(c, x[0], x[1], x[2], OPTS(.padding = {2}, .padding_mode = CIRCULAR)))            \
  /* 2-d convolutions */                                                                      \
  X(conv2d_basic, 3, 1, gdl_conv(c, x[0], x[1], x[2], OPTS(0)))                               \
  X(conv2d_stride_pad, 3, 0,                                                                  \
    gdl_conv(c, x[0], x[1], x[2], OPTS(.stride = {2, 1}, .padding = {1, 2})))                 \
  X(conv2d_dilation, 3, 0,                                                                    \
    gdl_conv(c, x[0], x[1], x[2], OPTS(.dilation = {2, 1}, .padding = {2, 1})))               \
  X(conv2d_stride_dil_nobias, 2, 0,                                                           \
    gdl_conv(c, x[0], x[1], NULL,                                                             \
             OPTS(.stride = {1, 3}, .dilation = {1, 2}, .padding = {0, 2})))                  \
  X(conv2d_groups, 3, 0, gdl_conv(c, x[0], x[1], x[2], OPTS(.groups = 2)))                    \
  X(conv2d_depthwise, 3, 1,                                                                   \
    gdl_conv(c, x[0], x[1], x[2], OPTS(.groups = 3, .stride = {2, 2}, .padding = {1, 1})))    \
  X(conv2d_1x1, 2, 0, gdl_conv(c, x[0], x[1], NULL, OPTS(0)))                                 \
  X(conv2d_1x1_stride, 3, 0, gdl_conv(c, x[0], x[1], x[2], OPTS(.stride = {2, 2})))           \
  X(conv2d_reflect, 3, 1,                                                                     \
    gdl_conv(c, x[0], x[1], x[2], OPTS(.padding = {2, 1}, .padding_mode = REFLECT)))          \
  X(conv2d_replicate, 3, 0,                                                                   \
    gdl_conv(c, x[0], x[1], x[2],                                                             \
             OPTS(.padding = {1, 2}, .stride = {2, 2}, .padding_mode = REPLICATE)))           \
  X(conv2d_circular, 3, 0,                                                                    \
    gdl_conv(c, x[0], x[1], x[2], OPTS(.padding = {2, 1}, .padding_mode = CIRCULAR)))         \
  X(conv2d_circular_groups, 2, 0,                                                             \
    gdl_conv(c, x[0], x[1], NULL,                                                             \
             OPTS(.padding = {1, 1}, .groups = 2, .padding_mode = CIRCULAR)))                 \
  X(conv2d_transposed_input, 3, 0,                                                            \
    gdl_conv(c, gdl_transpose(c, x[0], 2, 3), x[1], x[2], OPTS(.padding = {1, 1})))           \
  X(conv2d_shortcut, 3, 0, gdl_conv2d(c, x[0], x[1], x[2], 2, 1))                             \
  /* 3-d convolutions */                                                                      \
  X(conv3d_basic, 3, 1,                                                                       \
    gdl_conv(c, x[0], x[1], x[2], OPTS(.stride = {1, 2, 1}, .padding = {1, 0, 1})))           \
  X(conv3d_groups_dil, 2, 0,                                                                  \
    gdl_conv(c, x[0], x[1], NULL, OPTS(.groups = 2, .dilation = {2, 1, 1})))                  \
  X(conv3d_replicate, 3, 0,                                                                   \
    gdl_conv(c, x[0], x[1], x[2], OPTS(.padding = {1, 1, 1}, .padding_mode = REPLICATE)))     \
  /* transposed convolutions: weight [in, out/groups, k...] */                               \
  X(conv_transpose1d_basic, 3, 0,                                                             \
    gdl_conv_transpose(c, x[0], x[1], x[2],                                                   \
                       OPTS(.stride = {2}, .padding = {1}, .output_padding = {1})))           \
  X(conv_transpose1d_groups_dil, 2, 0,                                                        \
    gdl_conv_transpose(c, x[0], x[1], NULL, OPTS(.groups = 2, .dilation = {2})))              \
  X(conv_transpose2d_basic, 3, 0, gdl_conv_transpose(c, x[0], x[1], x[2], OPTS(0)))           \
  X(conv_transpose2d_stride_pad_opad, 3, 1,                                                   \
    gdl_conv_transpose(c, x[0], x[1], x[2],                                                   \
                       OPTS(.stride = {2, 3}, .padding = {1, 0}, .output_padding = {1, 2})))  \
  X(conv_transpose2d_groups_dil, 2, 0,                                                        \
    gdl_conv_transpose(c, x[0], x[1], NULL,                                                   \
                       OPTS(.groups = 3, .dilation = {1, 2}, .stride = {2, 2},                \
                            .padding = {1, 1}, .output_padding = {1, 0})))                    \
  X(conv_transpose2d_opad_dil, 3, 0,                                                          \
    gdl_conv_transpose(c, x[0], x[1], x[2], OPTS(.dilation = {3, 3}, .output_padding = {2, 1}))) \
  /* padding */                                                                               \
  X(pad_constant_1d, 1, 0, gdl_pad(c, x[0], PADS(2, 1), ZEROS, 0.5))                          \
  X(pad_constant_2d, 1, 0, gdl_pad(c, x[0], PADS(1, 2, 0, 3), ZEROS, -0.75))                  \
  X(pad_constant_3d, 1, 0, gdl_pad(c, x[0], PADS(0, 1, 2, 0, 1, 1), ZEROS, 1.25))             \
  X(pad_reflect_1d, 1, 0, gdl_pad(c, x[0], PADS(2, 3), REFLECT, 0))                           \
  X(pad_reflect_2d, 1, 1, gdl_pad(c, x[0], PADS(1, 2, 3, 1), REFLECT, 0))                     \
  X(pad_reflect_max, 1, 0, gdl_pad(c, x[0], PADS(3, 3, 4, 4), REFLECT, 0))                    \
  X(pad_reflect_3d, 1, 0, gdl_pad(c, x[0], PADS(1, 0, 2, 1, 0, 2), REFLECT, 0))               \
  X(pad_replicate_2d, 1, 0, gdl_pad(c, x[0], PADS(2, 0, 1, 3), REPLICATE, 0))                 \
  X(pad_replicate_3d, 1, 0, gdl_pad(c, x[0], PADS(1, 2, 0, 1, 3, 0), REPLICATE, 0))           \
  X(pad_replicate_unbatched, 1, 0, gdl_pad(c, x[0], PADS(2, 1), REPLICATE, 0))                \
  X(pad_circular_1d, 1, 0, gdl_pad(c, x[0], PADS(1, 3), CIRCULAR, 0))                         \
  X(pad_circular_2d, 1, 1, gdl_pad(c, x[0], PADS(1, 2, 3, 1), CIRCULAR, 0))                   \
  X(pad_circular_full, 1, 0, gdl_pad(c, x[0], PADS(4, 4, 5, 5), CIRCULAR, 0))                 \
  X(pad_circular_3d, 1, 0, gdl_pad(c, x[0], PADS(1, 1, 2, 0, 0, 3), CIRCULAR, 0))             \
  X(pad_replicate_last_axis, 1, 0, gdl_pad(c, x[0], PADS(2, 3), REPLICATE, 0))                \
  /* pooling (stride 0 = kernel, PyTorch's default) */                                        \
  X(max_pool2d_k2, 1, 0, max_pool(c, x[0], 2, 0, 0))                                          \
  X(max_pool2d_k3s2p1, 1, 1, max_pool(c, x[0], 3, 2, 1))                                      \
  X(max_pool2d_k3s1, 1, 0, max_pool(c, x[0], 3, 1, 0))                                        \
  X(max_pool2d_k2s3, 1, 0, max_pool(c, x[0], 2, 3, 0))                                        \
  X(max_pool2d_k4s2p2, 1, 0, max_pool(c, x[0], 4, 2, 2))                                      \
  X(max_pool2d_ties, 1, 0, max_pool(c, x[0], 3, 2, 1))                                        \
  X(avg_pool2d_k2, 1, 0, gdl_avg_pool2d(c, x[0], 2, 0, 0))                                    \
  X(avg_pool2d_k3s2p1, 1, 1, gdl_avg_pool2d(c, x[0], 3, 2, 1))                                \
  X(avg_pool2d_k3s1p1, 1, 0, gdl_avg_pool2d(c, x[0], 3, 1, 1))                                \
  X(avg_pool2d_k4s3p2, 1, 0, gdl_avg_pool2d(c, x[0], 4, 3, 2))                                \
  X(adaptive_avg_pool2d_down, 1, 1, gdl_adaptive_avg_pool2d(c, x[0], 3, 4))                   \
  X(adaptive_avg_pool2d_up, 1, 0, gdl_adaptive_avg_pool2d(c, x[0], 5, 7))                     \
  X(adaptive_avg_pool2d_1x1, 1, 0, gdl_adaptive_avg_pool2d(c, x[0], 1, 1))                    \
  X(adaptive_max_pool2d_down, 1, 0, gdl_adaptive_max_pool2d(c, x[0], 3, 4))                   \
  X(adaptive_max_pool2d_up, 1, 0, gdl_adaptive_max_pool2d(c, x[0], 5, 7))                     \
  X(adaptive_max_pool2d_1x1, 1, 0, gdl_adaptive_max_pool2d(c, x[0], 1, 1))                    \
  X(max_pool2d_sliced, 1, 0,                                                                  \
    gdl_max_pool2d(c, gdl_slice(c, gdl_slice(c, x[0], 2, 1, 7, 1), 3, 0, 9, 2), 2, 0, 0, NULL)) \
  /* resampling to a given size (bilinear: align_corners = false) */                          \
  X(upsample_nearest_x2, 1, 0, gdl_upsample_nearest(c, x[0], 6, 8))                           \
  X(upsample_nearest_frac, 1, 0, gdl_upsample_nearest(c, x[0], 7, 5))                         \
  X(upsample_nearest_down, 1, 0, gdl_upsample_nearest(c, x[0], 3, 4))                         \
  X(upsample_nearest_mixed, 1, 0, gdl_upsample_nearest(c, x[0], 9, 2))                        \
  X(upsample_bilinear_x2, 1, 0, gdl_upsample_bilinear(c, x[0], 6, 8))                         \
  X(upsample_bilinear_frac, 1, 1, gdl_upsample_bilinear(c, x[0], 7, 9))                       \
  X(upsample_bilinear_down, 1, 0, gdl_upsample_bilinear(c, x[0], 3, 4))                       \
  X(upsample_bilinear_mixed, 1, 0, gdl_upsample_bilinear(c, x[0], 8, 3))                      \
  /* grid_sample: bilinear, zeros outside, align_corners = false */                           \
  X(grid_sample_inside, 2, 0, gdl_grid_sample(c, x[0], x[1]))                                 \
  X(grid_sample_outside, 2, 1, gdl_grid_sample(c, x[0], x[1]))                                \
  X(grid_sample_upsample, 2, 0, gdl_grid_sample(c, x[0], x[1]))                               \
  /* batch norm on [N, C, H, W]: x[3], x[4] are running mean and variance */                  \
  X(batch_norm2d_train, 5, 1, gdl_batch_norm(c, x[0], x[1], x[2], x[3], x[4], true, 0.1, 1e-5)) \
  X(batch_norm2d_train_n1, 5, 0,                                                              \
    gdl_batch_norm(c, x[0], x[1], x[2], x[3], x[4], true, 0.3, 1e-3))                         \
  X(batch_norm2d_eval, 5, 0, gdl_batch_norm(c, x[0], x[1], x[2], x[3], x[4], false, 0.1, 1e-5))

#include "ref_cases.h"
/* ---- 2. a CNN from a config with PyTorch's weights ----------------------------------- */

/* One output against the reference: prints OK or FAIL with the worst element. */
static bool compare_y(const char *what, const gdl_tensor *y, const gdl_tensor *y_ref) {
  verdict v = {0};
  compare(&v, what, "", "y", y, y_ref, TOL32);
  if (!v.bad) printf("OK   %s  maxdiff=%.2e\n", what, v.maxdiff);
  return v.bad == 0;
}

static void test_cnn(const gdl_tensor *x, const gdl_tensor *y_ref) {
  gdl_config *cfg = gdl_config_load(CNN_CONFIG);
  CHECK(cfg != NULL, "cannot load %s: %s", CNN_CONFIG, gdl_last_error());
  if (!cfg) return;
  gdl_model *m = gdl_model_new(GDL_F32, GDL_SHAPE(1, 12, 12), 1);
  gdl_status st = gdl_model_add_config(m, cfg);
  CHECK(!st, "%s: %s", CNN_CONFIG, gdl_last_error());
  /* gdl's layer i is module i of PyTorch's nn.Sequential in gen_grid.py. */
  static const char *const kinds[] = {"conv2d",     "batch_norm",      "relu",
                                      "max_pool2d", "conv2d",          "relu",
                                      "global_avg_pool", "flatten",    "linear"};
  int nl = gdl_model_layer_count(m);
  CHECK(nl == 9, "%d layers, expected 9", nl);
  for (int i = 0; i < nl && i < 9; i++)
    CHECK(!strcmp(gdl_layer_kind(gdl_model_layer(m, i)), kinds[i]), "layer %d is '%s', not '%s'",
          i, gdl_layer_kind(gdl_model_layer(m, i)), kinds[i]);
  static const char *const names[] = {"layers.0.weight", "layers.0.bias", "layers.1.weight",
                                      "layers.1.bias",   "layers.4.weight", "layers.4.bias",
                                      "layers.8.weight", "layers.8.bias"};
  CHECK(gdl_model_param_count(m) == 8, "%d parameter tensors, expected 8",
        gdl_model_param_count(m));
  for (int i = 0; i < 8 && i < gdl_model_param_count(m); i++)
    CHECK(!strcmp(gdl_model_param_name(m, i), names[i]), "parameter %d is '%s', not '%s'", i,
          gdl_model_param_name(m, i), names[i]);
  /* 40 + 8 + 296 + 90 trainable; the running statistics are buffers. */
  CHECK(gdl_model_numel(m) == 434, "%lld parameters, expected 434",
        (long long)gdl_model_numel(m));
  gdl_arrays *state = gdl_arrays_new();
  CHECK(!gdl_model_state(m, state), "gdl_model_state: %s", gdl_last_error());
  CHECK(gdl_arrays_get(state, "layers.1.running_mean") &&
            gdl_arrays_get(state, "layers.1.running_var"),
        "no buffers layers.1.running_mean / running_var");
  gdl_arrays_free(state);
  if (!st) {
    st = gdl_checkpoint_load(CNN_WEIGHTS, m, NULL, NULL, NULL);
    CHECK(!st, "loading %s: %s", CNN_WEIGHTS, gdl_last_error());
  }
  if (!st) {
    gdl_tensor *y = gdl_predict(m, x, 1, 0, 3); /* batches of 3, 3 and 2 */
    CHECK(y && y->dtype == GDL_F32, "gdl_predict: no float32 output");
    if (y) tally(compare_y("cnn gdl_predict vs torch", y, y_ref));
    gdl_tensor_free(y);
  }
  gdl_model_free(m);
  gdl_config_free(cfg);
}

/* ---- 3. the same through `gdl predict` ------------------------------------------------ */

static void test_cli_predict(const char *argv0, const gdl_tensor *y_ref) {
  gdl_arrays *res = test_gdl_predict(argv0, CNN_CONFIG, CNN_WEIGHTS, CNN_IO);
  gdl_tensor *y = res ? gdl_arrays_get(res, "y") : NULL;
  CHECK(!res || y, "gdl predict: no array 'y' in its output");
  if (y) {
    CHECK(y->dtype == GDL_F32, "gdl predict: y is %s, expected float32", gdl_dtype_name(y->dtype));
    tally(compare_y("cnn `gdl predict` vs torch", y, y_ref));
  }
  gdl_arrays_free(res);
}

int main(int argc, char **argv) {
  ref_run_cases();
  gdl_arrays *io = gdl_npz_load(CNN_IO);
  CHECK(io != NULL, "cannot load %s: %s", CNN_IO, gdl_last_error());
  gdl_tensor *x = io ? gdl_arrays_get(io, "x") : NULL, *y = io ? gdl_arrays_get(io, "y") : NULL;
  CHECK(!io || (x && y), "%s: needs arrays 'x' and 'y'", CNN_IO);
  if (x && y) {
    test_cnn(x, y);
    test_cli_predict(argc > 0 ? argv[0] : "", y);
  }
  gdl_arrays_free(io);
  return test_report();
}
