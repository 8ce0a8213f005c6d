/* gdl grids: convolutions, pooling, padding, resampling and image augmentation on
 * tensors laid out as PyTorch's: [N, C, W] (1-d), [N, C, H, W] (2-d) and
 * [N, C, D, H, W] (3-d). Weights use PyTorch's layouts: conv [out, in/groups,
 * k...], transposed conv [in, out/groups, k...]. */
#ifndef GDL_GRID_H
#define GDL_GRID_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { GDL_PAD_ZEROS, GDL_PAD_REFLECT, GDL_PAD_REPLICATE, GDL_PAD_CIRCULAR } gdl_pad_mode;

/* Per spatial axis, in the tensor's order (for 2-d: [H, W]). Zero stride or
 * dilation means 1; groups 0 means 1. */
typedef struct {
  int stride[3], padding[3], dilation[3];
  int groups;
  gdl_pad_mode padding_mode; /* how the padding is filled */
  int output_padding[3];     /* transposed convolutions only */
} gdl_conv_opts;

/* Convolution (cross-correlation, as PyTorch) over 1, 2 or 3 spatial axes:
 * x [N, C, *S], w [O, C/groups, *K], b [O] or NULL -> [N, O, *S'] with
 * S' = floor((S + 2p - d (K - 1) - 1) / s) + 1. */
GDL_API gdl_tensor *gdl_conv(gdl_ctx *ctx, gdl_tensor *x, gdl_tensor *w, gdl_tensor *b,
                             const gdl_conv_opts *o);
/* The adjoint of gdl_conv with respect to its input (a.k.a. deconvolution):
 * x [N, C, *S], w [C, O/groups, *K] -> [N, O, *S'] with
 * S' = (S - 1) s - 2p + d (K - 1) + output_padding + 1. */
GDL_API gdl_tensor *gdl_conv_transpose(gdl_ctx *ctx, gdl_tensor *x, gdl_tensor *w, gdl_tensor *b,
                                       const gdl_conv_opts *o);
/* Square shortcuts with zero padding. */
GDL_API gdl_tensor *gdl_conv2d(gdl_ctx *ctx, gdl_tensor *x, gdl_tensor *w, gdl_tensor *b, int stride,
                               int padding);

/* Pads the last k = pads/2 axes: pads = {before_0, after_0, before_1, after_1, ...}
 * for axes -k .. -1 (note: PyTorch's F.pad lists the last axis first). */
GDL_API gdl_tensor *gdl_pad(gdl_ctx *ctx, gdl_tensor *x, const int *pads, int npads,
                            gdl_pad_mode mode, double value);

/* Pooling over the last 2 axes of [N, C, H, W] (padding with -inf for max, zeros
 * counted in averages as PyTorch's default count_include_pad). indices may be
 * NULL; else receives int64 [N, C, H', W'] flat positions of each maximum. */
GDL_API gdl_tensor *gdl_max_pool2d(gdl_ctx *ctx, gdl_tensor *x, int kernel, int stride, int padding,
                                   gdl_tensor **indices);
GDL_API gdl_tensor *gdl_avg_pool2d(gdl_ctx *ctx, gdl_tensor *x, int kernel, int stride, int padding);
/* Adaptive pooling to oh x ow (PyTorch's bins: [floor(i H / oh), ceil((i+1) H / oh))). */
GDL_API gdl_tensor *gdl_adaptive_avg_pool2d(gdl_ctx *ctx, gdl_tensor *x, int oh, int ow);
GDL_API gdl_tensor *gdl_adaptive_max_pool2d(gdl_ctx *ctx, gdl_tensor *x, int oh, int ow);

/* Resizing [N, C, H, W] to [N, C, oh, ow]: nearest (PyTorch's 'nearest') or
 * bilinear (align_corners = false). */
GDL_API gdl_tensor *gdl_upsample_nearest(gdl_ctx *ctx, gdl_tensor *x, int oh, int ow);
GDL_API gdl_tensor *gdl_upsample_bilinear(gdl_ctx *ctx, gdl_tensor *x, int oh, int ow);
/* Bilinear sampling of x [N, C, H, W] at grid [N, OH, OW, 2] ((x, y) in [-1, 1],
 * align_corners = false, zeros outside): differentiable in x and in grid. */
GDL_API gdl_tensor *gdl_grid_sample(gdl_ctx *ctx, gdl_tensor *x, gdl_tensor *grid);
/* Zeroes whole channels (x [N, C, ...]) with probability p in training. */
GDL_API gdl_tensor *gdl_dropout2d(gdl_ctx *ctx, gdl_tensor *x, double p, bool train);

/* ---- layers (see gdl/nn.h; parameters named as PyTorch's: weight, bias) ----- */

struct gdl_layer;
/* A square 2-d convolution layer (configs reach every option: docs/config.md). */
GDL_API struct gdl_layer *gdl_layer_conv2d(int64_t out, int kernel, int stride, int padding, bool bias);
GDL_API struct gdl_layer *gdl_layer_max_pool2d(int kernel, int stride, int padding);
GDL_API struct gdl_layer *gdl_layer_avg_pool2d(int kernel, int stride, int padding);
GDL_API struct gdl_layer *gdl_layer_adaptive_max_pool2d(int oh, int ow);
GDL_API struct gdl_layer *gdl_layer_adaptive_avg_pool2d(int oh, int ow);
/* [C, H, W] -> [C] */
GDL_API struct gdl_layer *gdl_layer_global_pool(bool max);
GDL_API struct gdl_layer *gdl_layer_dropout2d(double p);
GDL_API struct gdl_layer *gdl_layer_upsample(int scale, bool bilinear);

/* ---- image augmentation, in place on a batch [N, C, H, W] (float) --------- */
/* Each image draws its own random parameters from rng; `fill` is the value of
 * pixels that come from outside the image. */
GDL_API void gdl_augment_flip(gdl_tensor *x, gdl_rng *rng);                 /* horizontal, p = 1/2 */
GDL_API void gdl_augment_crop(gdl_tensor *x, int pad, double fill, gdl_rng *rng); /* pad, random crop */
GDL_API void gdl_augment_translate(gdl_tensor *x, int max_shift, double fill, gdl_rng *rng);
/* Rotation by an angle uniform in [-max_deg, max_deg] about the image centre, bilinear. */
GDL_API void gdl_augment_rotate(gdl_tensor *x, double max_deg, double fill, gdl_rng *rng);
/* Every image rotated by the same angle (degrees, counter-clockwise), bilinear. */
GDL_API void gdl_image_rotate(gdl_tensor *x, double deg, double fill);

#ifdef __cplusplus
}
#endif
#endif
