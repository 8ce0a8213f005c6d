/* gdl's ops against PyTorch: outputs and gradients.
 *
 * tests/ref/ops_torch.npz was made once by tests/ref/gen_ops.py (torch, float64);
 * for each case it holds the inputs in<k>, upstream weights w, the output out,
 * the gradients grad<k> of L = sum(w * out) and, for batch norm, the running
 * statistics after the call (after<k>). Each case below rebuilds the op with gdl
 * from the same inputs and the same attributes (the table mirrors the script),
 * runs gdl_backward on L and compares everything with the fixture:
 *   float64: |gdl - torch| <= 1e-10 + 1e-10 |torch|;
 *   float32 (inputs rounded to float, a few cases): 1e-5 + 1e-5 |torch|. */
#include <string.h>

#include "gdl/io.h"
#include "test.h"

#define FIXTURE "tests/ref/ops_torch.npz"
#define TOL64 1e-10
#define TOL32 1e-5
#define MAXIN 8

typedef gdl_tensor *t_;

/* ---- attribute helpers ------------------------------------------------------ */

static gdl_ce_opts ce(gdl_loss_reduction r, double smoothing) {
  gdl_ce_opts o = GDL_CE_DEFAULT;
  o.reduction = r;
  o.label_smoothing = smoothing;
  return o;
}

#define MEAN GDL_LOSS_MEAN
#define SUM GDL_LOSS_SUM
#define ALL GDL_AXIS_ALL

/* ---- the cases: name, number of inputs, float32 check too, gdl expression ---- */
/* x[k] is input k of the case; c the context. Same order and attributes as in
 * gen_ops.py. */
#define CASES(X)                                                                              \
  /* elementwise binary, broadcasting */                                                      \
  X(add_same, 2, 0, gdl_add(c, x[0], x[1]))                                                   \
  X(add_bcast_row, 2, 1, gdl_add(c, x[0], x[1]))                                              \
  X(add_bcast_both, 2, 0, gdl_add(c, x[0], x[1]))                                             \
  X(add_scalar, 2, 0, gdl_add(c, x[0], x[1]))                                                 \
  X(sub_bcast_mid, 2, 0, gdl_sub(c, x[0], x[1]))                                              \
  X(sub_strided, 2, 0, gdl_sub(c, gdl_transpose(c, x[0], 0, 1), x[1]))                        \
  X(mul_same, 2, 0, gdl_mul(c, x[0], x[1]))                                                   \
  X(mul_bcast_both, 2, 1, gdl_mul(c, x[0], x[1]))                                             \
  X(div_same, 2, 0, gdl_div(c, x[0], x[1]))                                                   \
  X(div_bcast, 2, 1, gdl_div(c, x[0], x[1]))                                                  \
  X(div_bcast_num, 2, 0, gdl_div(c, x[0], x[1]))                                              \
  X(affine, 1, 0, gdl_affine(c, x[0], -1.5, 0.25))                                            \
  /* unary */                                                                                 \
  X(exp, 1, 1, gdl_exp(c, x[0]))                                                              \
  X(log, 1, 0, gdl_log(c, x[0]))                                                              \
  X(sqrt, 1, 0, gdl_sqrt(c, x[0]))                                                            \
  X(abs, 1, 0, gdl_abs(c, x[0]))                                                              \
  X(pow_2_5, 1, 0, gdl_pow(c, x[0], 2.5))                                                     \
  X(pow_neg_1_5, 1, 0, gdl_pow(c, x[0], -1.5))                                                \
  X(pow_3_signed, 1, 0, gdl_pow(c, x[0], 3.0))                                                \
  X(relu, 1, 0, gdl_relu(c, x[0]))                                                            \
  X(leaky_relu, 1, 0, gdl_leaky_relu(c, x[0], 0.2))                                           \
  X(elu, 1, 0, gdl_elu(c, x[0], 1.3))                                                         \
  X(gelu, 1, 1, gdl_gelu(c, x[0]))                                                            \
  X(silu, 1, 1, gdl_silu(c, x[0]))                                                            \
  X(sigmoid, 1, 0, gdl_sigmoid(c, x[0]))                                                      \
  X(tanh, 1, 0, gdl_tanh(c, x[0]))                                                            \
  X(softplus, 1, 1, gdl_softplus(c, x[0]))                                                    \
  X(softplus_wide, 1, 0, gdl_softplus(c, x[0]))                                               \
  X(sigmoid_wide, 1, 0, gdl_sigmoid(c, x[0]))                                                 \
  X(relu_at_0, 1, 0, gdl_relu(c, x[0]))                                                       \
  X(leaky_relu_at_0, 1, 0, gdl_leaky_relu(c, x[0], 0.2))                                      \
  X(elu_at_0, 1, 0, gdl_elu(c, x[0], 1.3))                                                    \
  X(abs_at_0, 1, 0, gdl_abs(c, x[0]))                                                         \
  /* matmul and linear */                                                                     \
  X(matmul_2d, 2, 0, gdl_matmul(c, x[0], x[1]))                                               \
  X(matmul_transposed, 2, 0,                                                                  \
    gdl_matmul(c, gdl_transpose(c, x[0], 0, 1), gdl_transpose(c, x[1], 0, 1)))                \
  X(matmul_batched_bcast, 2, 1, gdl_matmul(c, x[0], x[1]))                                    \
  X(matmul_batched_lhs, 2, 0, gdl_matmul(c, x[0], x[1]))                                      \
  X(matmul_vec_mat, 2, 0, gdl_matmul(c, x[0], x[1]))                                          \
  X(matmul_mat_vec, 2, 0, gdl_matmul(c, x[0], x[1]))                                          \
  X(matmul_vec_vec, 2, 0, gdl_matmul(c, x[0], x[1]))                                          \
  X(linear_bias, 3, 1, gdl_linear(c, x[0], x[1], x[2]))                                       \
  X(linear_nobias, 2, 0, gdl_linear(c, x[0], x[1], NULL))                                     \
  X(linear_1d, 3, 0, gdl_linear(c, x[0], x[1], x[2]))                                         \
  /* views and copies */                                                                      \
  X(reshape, 1, 0, gdl_reshape(c, x[0], GDL_SHAPE(4, -1)))                                    \
  X(reshape_noncontig, 1, 0, gdl_reshape(c, gdl_transpose(c, x[0], 1, 2), GDL_SHAPE(4, -1)))  \
  X(flatten, 1, 0, gdl_flatten(c, x[0], 1))                                                   \
  X(permute, 1, 0, gdl_permute(c, x[0], (int[]){2, 0, 1}))                                    \
  X(transpose, 1, 0, gdl_transpose(c, x[0], 0, 2))                                            \
  X(slice_step2, 1, 0, gdl_slice(c, x[0], 1, 1, 7, 2))                                        \
  X(slice_neg_start, 1, 0, gdl_slice(c, x[0], 0, -2, 3, 1))                                   \
  X(slice_step3_clamped, 1, 0, gdl_slice(c, x[0], 2, 1, 100, 3))                              \
  X(expand, 1, 0, gdl_expand(c, x[0], GDL_SHAPE(2, 3, 4)))                                    \
  X(expand_keep, 1, 0, gdl_expand(c, x[0], GDL_SHAPE(3, 4)))                                  \
  X(concat_axis1, 2, 0, gdl_concat(c, (t_[]){x[0], x[1]}, 2, 1))                              \
  X(concat_axis0_3, 3, 0, gdl_concat(c, (t_[]){x[0], x[1], x[2]}, 3, 0))                      \
  X(stack_axis1, 2, 0, gdl_stack(c, (t_[]){x[0], x[1]}, 2, 1))                                \
  X(stack_axis0, 3, 0, gdl_stack(c, (t_[]){x[0], x[1], x[2]}, 3, 0))                          \
  X(stack_last, 2, 0, gdl_stack(c, (t_[]){x[0], x[1]}, 2, -1))                                \
  /* reductions */                                                                            \
  X(sum_axis1, 1, 0, gdl_sum(c, x[0], 1, false))                                              \
  X(sum_last_keepdim, 1, 0, gdl_sum(c, x[0], -1, true))                                       \
  X(sum_all, 1, 1, gdl_sum(c, x[0], ALL, false))                                              \
  X(sum_transposed, 1, 0, gdl_sum(c, gdl_transpose(c, x[0], 0, 2), 0, false))                 \
  X(mean_axis1, 1, 1, gdl_mean(c, x[0], 1, false))                                            \
  X(mean_last_keepdim, 1, 0, gdl_mean(c, x[0], -1, true))                                     \
  X(mean_all, 1, 0, gdl_mean(c, x[0], ALL, false))                                            \
  X(max_axis1, 1, 1, gdl_max(c, x[0], 1, false))                                              \
  X(max_last_keepdim, 1, 0, gdl_max(c, x[0], -1, true))                                       \
  X(max_all, 1, 0, gdl_max(c, x[0], ALL, false))                                              \
  X(min_axis0, 1, 0, gdl_min(c, x[0], 0, false))                                              \
  X(min_all, 1, 0, gdl_min(c, x[0], ALL, false))                                              \
  X(min_transposed, 1, 0, gdl_min(c, gdl_transpose(c, x[0], 0, 2), 0, false))                 \
  X(argmax_axis1, 1, 0, gdl_argmax(c, x[0], 1, false))                                        \
  X(argmax_all, 1, 0, gdl_argmax(c, x[0], ALL, false))                                        \
  X(argmax_ties, 1, 0, gdl_argmax(c, x[0], 1, false))                                         \
  X(max_axis1_ties, 1, 0, gdl_max(c, x[0], 1, false))                                         \
  X(min_axis0_ties, 1, 0, gdl_min(c, x[0], 0, false))                                         \
  X(softmax_last, 1, 1, gdl_softmax(c, x[0], -1))                                             \
  X(softmax_axis1, 1, 0, gdl_softmax(c, x[0], 1))                                             \
  X(softmax_large, 1, 0, gdl_softmax(c, x[0], -1))                                            \
  X(log_softmax_last, 1, 1, gdl_log_softmax(c, x[0], -1))                                     \
  X(log_softmax_axis0, 1, 0, gdl_log_softmax(c, x[0], 0))                                     \
  /* indexing and scatter (rows nobody writes are 0) */                                       \
  X(index_select_axis1, 2, 1, gdl_index_select(c, x[0], 1, x[1]))                             \
  X(index_select_axis0, 2, 0, gdl_index_select(c, x[0], 0, x[1]))                             \
  X(gather_axis1, 2, 0, gdl_gather(c, x[0], 1, x[1]))                                         \
  X(gather_axis0, 2, 0, gdl_gather(c, x[0], 0, x[1]))                                         \
  X(embedding, 2, 1, gdl_embedding(c, x[0], x[1]))                                            \
  X(scatter_sum, 2, 0, gdl_scatter(c, x[0], 0, x[1], 6, GDL_REDUCE_SUM))                      \
  X(scatter_mean, 2, 1, gdl_scatter(c, x[0], 0, x[1], 6, GDL_REDUCE_MEAN))                    \
  X(scatter_max, 2, 1, gdl_scatter(c, x[0], 0, x[1], 6, GDL_REDUCE_MAX))                      \
  X(scatter_min, 2, 0, gdl_scatter(c, x[0], 0, x[1], 6, GDL_REDUCE_MIN))                      \
  X(scatter_sum_axis1, 2, 0, gdl_scatter(c, x[0], 1, x[1], 7, GDL_REDUCE_SUM))                \
  X(scatter_mean_axis1, 2, 0, gdl_scatter(c, x[0], 1, x[1], 7, GDL_REDUCE_MEAN))              \
  X(scatter_max_axis1, 2, 0, gdl_scatter(c, x[0], 1, x[1], 7, GDL_REDUCE_MAX))                \
  X(scatter_min_axis1, 2, 0, gdl_scatter(c, x[0], 1, x[1], 7, GDL_REDUCE_MIN))                \
  /* normalisation: batch norm's x[3], x[4] are running mean and variance */                  \
  X(layer_norm_affine, 3, 1, gdl_layer_norm(c, x[0], x[1], x[2], 1e-5))                       \
  X(layer_norm_plain, 1, 0, gdl_layer_norm(c, x[0], NULL, NULL, 1e-5))                        \
  X(layer_norm_eps, 3, 0, gdl_layer_norm(c, x[0], x[1], x[2], 0.1))                           \
  X(batch_norm_train_4d, 5, 1, gdl_batch_norm(c, x[0], x[1], x[2], x[3], x[4], true, 0.1, 1e-5)) \
  X(batch_norm_train_2d, 5, 0, gdl_batch_norm(c, x[0], x[1], x[2], x[3], x[4], true, 0.1, 1e-5)) \
  X(batch_norm_eval, 5, 1, gdl_batch_norm(c, x[0], x[1], x[2], x[3], x[4], false, 0.1, 1e-5)) \
  X(batch_norm_train_noaffine, 3, 0,                                                          \
    gdl_batch_norm(c, x[0], NULL, NULL, x[1], x[2], true, 0.3, 1e-3))                         \
  /* losses */                                                                                \
  X(cross_entropy, 2, 0, gdl_cross_entropy(c, x[0], x[1], ce(MEAN, 0)))                       \
  X(cross_entropy_smooth, 2, 1, gdl_cross_entropy(c, x[0], x[1], ce(MEAN, 0.1)))              \
  X(cross_entropy_ignore, 2, 0, gdl_cross_entropy(c, x[0], x[1], ce(MEAN, 0)))                \
  X(cross_entropy_ignore_smooth, 2, 1, gdl_cross_entropy(c, x[0], x[1], ce(MEAN, 0.1)))       \
  X(cross_entropy_sum, 2, 0, gdl_cross_entropy(c, x[0], x[1], ce(SUM, 0)))                    \
  X(cross_entropy_sum_smooth_ignore, 2, 0, gdl_cross_entropy(c, x[0], x[1], ce(SUM, 0.1)))    \
  X(cross_entropy_large, 2, 0, gdl_cross_entropy(c, x[0], x[1], ce(MEAN, 0)))                 \
  X(nll_loss, 2, 0, gdl_nll_loss(c, x[0], x[1], ce(MEAN, 0)))                                 \
  X(nll_loss_ignore, 2, 1, gdl_nll_loss(c, x[0], x[1], ce(MEAN, 0)))                          \
  X(nll_loss_sum, 2, 0, gdl_nll_loss(c, x[0], x[1], ce(SUM, 0)))                              \
  X(mse_loss, 2, 1, gdl_mse_loss(c, x[0], x[1], MEAN))                                        \
  X(mse_loss_sum, 2, 0, gdl_mse_loss(c, x[0], x[1], SUM))                                     \
  X(bce_logits, 2, 1, gdl_bce_with_logits(c, x[0], x[1], MEAN))                               \
  X(bce_logits_sum, 2, 0, gdl_bce_with_logits(c, x[0], x[1], SUM))                            \
  X(bce_logits_wide, 2, 0, gdl_bce_with_logits(c, x[0], x[1], MEAN))

#include "ref_cases.h"

int main(void) {
  ref_run_cases();
  return test_report();
}
