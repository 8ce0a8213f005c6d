/* 3x3 stride-1 convolutions by Winograd's F(2x2, 3x3), float32 on AVX-512 CPUs
 * (winograd.c); conv.c sends them here. */
#ifndef GDL_GRID_WINOGRAD_H
#define GDL_GRID_WINOGRAD_H

#include "core/internal.h"

#ifdef __AVX512F__
#define GDL_HAVE_WINOGRAD 1

/* y[n, o, i, j] = sum_{c, a, b} w[o, c, a, b] x[n, c, i + a - ph, j + b - pw] (zero
 * outside x), with OH = H + 2 ph - 2 and OW = W + 2 pw - 2. */
typedef struct {
  int64_t N, C, O, H, W, ph, pw, OH, OW;
} wino_geom;

/* a block of tiles: samples [n0, n0 + ns), tile rows [ty0, ty1) of each */
typedef struct {
  int64_t n0, ns, ty0, ty1;
} wino_block;

/* y = conv (beta 0) or y += conv (beta 1); w is [O, C, 3, 3]. */
void gdl__winograd3x3(gdl_ctx *ctx, const wino_geom *g, const float *x, const float *w, float *y, float beta);
/* dw [O, C, 3, 3] += the weight gradient for output gradient dy, summed per chunk of
 * `chunk` samples and then over the chunks in order (chunk sizes must not depend on
 * the thread count). */
void gdl__winograd3x3_dw(gdl_ctx *ctx, const wino_geom *g, const float *x, const float *dy, int64_t chunk, float *dw);
#endif

#endif
