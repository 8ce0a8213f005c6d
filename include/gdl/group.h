/* gdl groups on the plane: group-equivariant convolutions (Cohen & Welling, 2016)
 * for p4 (translations and rotations by multiples of 90 degrees) and p4m (with
 * mirror reflections).
 *
 * Features on the group are laid out [N, C, |H|, height, width], H the rotation
 * (and reflection) part: p4 has 4 elements r = 0..3 (rotation by 90 r degrees
 * counter-clockwise), p4m has 8 elements e = 4 m + r meaning "mirror left-right
 * if m, then rotate by r". Filters are stored once (lifting [O, C, k, k], group
 * [O, C, |H|, k, k], as in GrouPy/escnn) and transformed by index permutation, so
 * parameter counts are those of the paper. */
#ifndef GDL_GROUP_H
#define GDL_GROUP_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { GDL_GROUP_P4, GDL_GROUP_P4M } gdl_plane_group;

GDL_API int gdl_group_order(gdl_plane_group g);                 /* |H|: 4 or 8 */
GDL_API int gdl_group_mul(gdl_plane_group g, int a, int b);     /* a b (apply b, then a) */
GDL_API int gdl_group_inv(gdl_plane_group g, int a);
GDL_API const char *gdl_group_name(gdl_plane_group g);          /* "p4", "p4m" */

/* The pixel map of element e on an n x n square: (e f)(p) = f(src[p]), with
 * src[p] a flat index in [0, n^2). */
GDL_API void gdl_group_pixel_map(gdl_plane_group g, int e, int64_t n, int64_t *src);

/* Lifting (x [N, C, H, W], w [O, C, k, k]) or group (x [N, C, |H|, H, W],
 * w [O, C, |H|, k, k]) convolution, chosen by the rank of x; bias [O] or NULL
 * (shared over the group). Output [N, O, |H|, H', W']. Differentiable. */
GDL_API gdl_tensor *gdl_group_conv2d(gdl_ctx *ctx, gdl_plane_group g, gdl_tensor *x, gdl_tensor *w,
                                     gdl_tensor *b, int stride, int padding);
/* Max or mean over the group axis: [N, C, |H|, H, W] -> [N, C, H, W] (invariant). */
GDL_API gdl_tensor *gdl_group_pool(gdl_ctx *ctx, gdl_tensor *x, bool max);

/* e acting on images [N, C, n, n] ((e f)(p) = f(e^-1 p)) or on group features
 * [N, C, |H|, n, n] ((e f)(h, p) = f(e^-1 h, e^-1 p)); a contiguous arena copy,
 * not recorded. For tests and for checking models. */
GDL_API gdl_tensor *gdl_group_act(gdl_ctx *ctx, gdl_plane_group g, int e, gdl_tensor *x);

/* ---- C_N and D_N from a steerable filter basis (any N) ------------------------ */
/* Elements e = N m + r of D_N: rotation by 2 pi r / N after a left-right mirror if
 * m (C_N: m = 0 only). The same algebra as p4/p4m with 4 replaced by N. */
GDL_API int gdl_dihedral_mul(int n, int a, int b);
GDL_API int gdl_dihedral_inv(int n, int a);
/* Circular harmonics on k x k (k odd) and their transforms by every element:
 * [|H|, nb, k*k], nb = gdl_steerable_basis_size(k). */
GDL_API int gdl_steerable_basis_size(int k);
GDL_API gdl_tensor *gdl_steerable_basis(gdl_ctx *ctx, int n, bool reflect, int k, gdl_dtype t);
/* Like gdl_group_conv2d with filters w [O, C, nb] (lifting) or [O, C, |H|, nb]
 * given as basis coefficients; equivariant to rotations by multiples of 2 pi / N
 * up to the interpolation of the input (exact for multiples of 90 degrees). */
GDL_API gdl_tensor *gdl_steerable_conv2d(gdl_ctx *ctx, int n, bool reflect, gdl_tensor *x, gdl_tensor *w,
                                         gdl_tensor *basis, gdl_tensor *b, int stride, int padding);

struct gdl_layer;
/* Lifting or group convolution layer, decided by its input ([C, H, W] or
 * [C, |H|, H, W]); parameters weight and bias. */
GDL_API struct gdl_layer *gdl_layer_group_conv2d(gdl_plane_group g, int64_t out, int kernel, int stride,
                                                 int padding, bool bias);
/* The same for C_N (reflect false) or D_N with steerable filters: weight holds the
 * basis coefficients, the buffer `basis` the transformed basis. */
GDL_API struct gdl_layer *gdl_layer_steerable_conv2d(int n, bool reflect, int64_t out, int kernel, int stride,
                                                     int padding, bool bias);
GDL_API struct gdl_layer *gdl_layer_group_pool(bool max);

#ifdef __cplusplus
}
#endif
#endif
