/* gdl differentiable ops. Each call computes its output at once (define-by-run)
 * and, when an input requires grad and the context records, appends a node to
 * the tape so gdl_backward can run the op's backward.
 *
 * Shapes follow NumPy/PyTorch: elementwise binary ops broadcast; axes may be
 * negative (counted from the end). Every float op takes float32 or float64. */
#ifndef GDL_OPS_H
#define GDL_OPS_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GDL_AXIS_ALL 127 /* reduce over every axis */

typedef enum { GDL_REDUCE_SUM, GDL_REDUCE_MEAN, GDL_REDUCE_MAX, GDL_REDUCE_MIN } gdl_reduce;
typedef enum { GDL_LOSS_MEAN, GDL_LOSS_SUM } gdl_loss_reduction;

/* elementwise, broadcasting */
GDL_API gdl_tensor *gdl_add(gdl_ctx *ctx, gdl_tensor *a, gdl_tensor *b);
GDL_API gdl_tensor *gdl_sub(gdl_ctx *ctx, gdl_tensor *a, gdl_tensor *b);
GDL_API gdl_tensor *gdl_mul(gdl_ctx *ctx, gdl_tensor *a, gdl_tensor *b);
GDL_API gdl_tensor *gdl_div(gdl_ctx *ctx, gdl_tensor *a, gdl_tensor *b);
/* y = scale * x + shift */
GDL_API gdl_tensor *gdl_affine(gdl_ctx *ctx, gdl_tensor *x, double scale, double shift);

/* unary */
GDL_API gdl_tensor *gdl_exp(gdl_ctx *ctx, gdl_tensor *x);
GDL_API gdl_tensor *gdl_log(gdl_ctx *ctx, gdl_tensor *x);
GDL_API gdl_tensor *gdl_sqrt(gdl_ctx *ctx, gdl_tensor *x);
GDL_API gdl_tensor *gdl_abs(gdl_ctx *ctx, gdl_tensor *x);
GDL_API gdl_tensor *gdl_pow(gdl_ctx *ctx, gdl_tensor *x, double p);
GDL_API gdl_tensor *gdl_relu(gdl_ctx *ctx, gdl_tensor *x);
GDL_API gdl_tensor *gdl_leaky_relu(gdl_ctx *ctx, gdl_tensor *x, double slope);
GDL_API gdl_tensor *gdl_elu(gdl_ctx *ctx, gdl_tensor *x, double alpha);
GDL_API gdl_tensor *gdl_gelu(gdl_ctx *ctx, gdl_tensor *x); /* exact (erf) form */
GDL_API gdl_tensor *gdl_silu(gdl_ctx *ctx, gdl_tensor *x);
GDL_API gdl_tensor *gdl_sigmoid(gdl_ctx *ctx, gdl_tensor *x);
GDL_API gdl_tensor *gdl_tanh(gdl_ctx *ctx, gdl_tensor *x);
GDL_API gdl_tensor *gdl_softplus(gdl_ctx *ctx, gdl_tensor *x); /* log(1 + e^x) */

/* linear algebra: a [..., M, K] @ b [..., K, N], batch axes broadcast; 1-d
 * operands are promoted as in NumPy. linear: x [..., in] W[out, in] -> [..., out]
 * (PyTorch layout), bias may be NULL. */
GDL_API gdl_tensor *gdl_matmul(gdl_ctx *ctx, gdl_tensor *a, gdl_tensor *b);
GDL_API gdl_tensor *gdl_linear(gdl_ctx *ctx, gdl_tensor *x, gdl_tensor *w, gdl_tensor *b);

/* views and copies (views share data with their input) */
GDL_API gdl_tensor *gdl_reshape(gdl_ctx *ctx, gdl_tensor *x, gdl_shape s); /* one -1 allowed */
GDL_API gdl_tensor *gdl_permute(gdl_ctx *ctx, gdl_tensor *x, const int *perm);
GDL_API gdl_tensor *gdl_transpose(gdl_ctx *ctx, gdl_tensor *x, int a0, int a1);
GDL_API gdl_tensor *gdl_slice(gdl_ctx *ctx, gdl_tensor *x, int axis, int64_t start, int64_t stop,
                              int64_t step);
GDL_API gdl_tensor *gdl_expand(gdl_ctx *ctx, gdl_tensor *x, gdl_shape s);
GDL_API gdl_tensor *gdl_contiguous(gdl_ctx *ctx, gdl_tensor *x);
GDL_API gdl_tensor *gdl_concat(gdl_ctx *ctx, gdl_tensor **xs, int n, int axis);
GDL_API gdl_tensor *gdl_stack(gdl_ctx *ctx, gdl_tensor **xs, int n, int axis);
GDL_API gdl_tensor *gdl_flatten(gdl_ctx *ctx, gdl_tensor *x, int start_axis); /* [a,b,c]->[a,b*c] */

/* reductions over one axis (or GDL_AXIS_ALL). max/min send the gradient to the
 * first extremum when there are ties (PyTorch's max(dim) does the same; its
 * full-tensor max() and amax split it evenly among the ties). */
GDL_API gdl_tensor *gdl_sum(gdl_ctx *ctx, gdl_tensor *x, int axis, bool keepdim);
GDL_API gdl_tensor *gdl_mean(gdl_ctx *ctx, gdl_tensor *x, int axis, bool keepdim);
GDL_API gdl_tensor *gdl_max(gdl_ctx *ctx, gdl_tensor *x, int axis, bool keepdim);
GDL_API gdl_tensor *gdl_min(gdl_ctx *ctx, gdl_tensor *x, int axis, bool keepdim);
/* int64 indices of the first maximum; not differentiable */
GDL_API gdl_tensor *gdl_argmax(gdl_ctx *ctx, gdl_tensor *x, int axis, bool keepdim);
GDL_API gdl_tensor *gdl_softmax(gdl_ctx *ctx, gdl_tensor *x, int axis);
GDL_API gdl_tensor *gdl_log_softmax(gdl_ctx *ctx, gdl_tensor *x, int axis);

/* indexing (index tensors are int64 or int32; out-of-range indices abort) */
GDL_API gdl_tensor *gdl_index_select(gdl_ctx *ctx, gdl_tensor *x, int axis, gdl_tensor *index);
GDL_API gdl_tensor *gdl_gather(gdl_ctx *ctx, gdl_tensor *x, int axis, gdl_tensor *index);
/* out[..., index[i], ...] (reduce)= src[..., i, ...] along axis; out has dim_size
 * rows there; rows nobody writes are 0. Deterministic: sources are grouped by
 * destination (a CSR), never added with atomics. For max/min the gradient goes
 * to the first source attaining the extremum (torch_scatter's scatter_max rule). */
GDL_API gdl_tensor *gdl_scatter(gdl_ctx *ctx, gdl_tensor *src, int axis, gdl_tensor *index,
                                int64_t dim_size, gdl_reduce reduce);
/* weight [num, dim] rows picked by index (any shape) -> index.shape + [dim] */
GDL_API gdl_tensor *gdl_embedding(gdl_ctx *ctx, gdl_tensor *index, gdl_tensor *weight);

/* regularisation and normalisation */
GDL_API gdl_tensor *gdl_dropout(gdl_ctx *ctx, gdl_tensor *x, double p, bool train);
/* over the last axis; weight and bias [D] may be NULL */
GDL_API gdl_tensor *gdl_layer_norm(gdl_ctx *ctx, gdl_tensor *x, gdl_tensor *weight,
                                   gdl_tensor *bias, double eps);
/* x [N, C, ...]; statistics per channel C. In training, batch statistics are used
 * and running_mean/var (may be NULL) updated with momentum (PyTorch's rule,
 * unbiased running variance); in evaluation the running statistics are used. */
GDL_API gdl_tensor *gdl_batch_norm(gdl_ctx *ctx, gdl_tensor *x, gdl_tensor *weight,
                                   gdl_tensor *bias, gdl_tensor *running_mean,
                                   gdl_tensor *running_var, bool train, double momentum,
                                   double eps);

/* losses: scalar outputs */
typedef struct {
  gdl_loss_reduction reduction;
  double label_smoothing; /* 0 = none */
  int64_t ignore_index;   /* targets equal to this are skipped; default -100 */
} gdl_ce_opts;
#define GDL_CE_DEFAULT ((gdl_ce_opts){GDL_LOSS_MEAN, 0.0, -100})
/* logits [N, C], target int [N] */
GDL_API gdl_tensor *gdl_cross_entropy(gdl_ctx *ctx, gdl_tensor *logits, gdl_tensor *target,
                                      gdl_ce_opts opts);
/* logp [N, C] (log-probabilities), target int [N] */
GDL_API gdl_tensor *gdl_nll_loss(gdl_ctx *ctx, gdl_tensor *logp, gdl_tensor *target,
                                 gdl_ce_opts opts);
GDL_API gdl_tensor *gdl_mse_loss(gdl_ctx *ctx, gdl_tensor *a, gdl_tensor *b,
                                 gdl_loss_reduction r);
GDL_API gdl_tensor *gdl_bce_with_logits(gdl_ctx *ctx, gdl_tensor *logits, gdl_tensor *target,
                                        gdl_loss_reduction r);

/* ---- the op table (for tests and tools) -------------------------------- */

GDL_API int gdl_op_count(void);
GDL_API const char *gdl_op_name(int op);
/* Builds sample inputs for op variant v (leaves that require grad), applies the
 * op and returns its output; NULL when the op has fewer variants. */
GDL_API gdl_tensor *gdl_op_sample(int op, int variant, gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t);
/* Recomputes a node's output from its (possibly changed) inputs. */
GDL_API void gdl_node_forward(struct gdl_node *n);
/* Runs only this node's backward with out->grad already set. */
GDL_API void gdl_node_backward(gdl_ctx *ctx, struct gdl_node *n);
/* Inputs of a node. */
GDL_API int gdl_node_inputs(struct gdl_node *n, gdl_tensor ***in);

#ifdef __cplusplus
}
#endif
#endif
