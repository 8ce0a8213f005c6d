/* 3x3 stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3) (Lavin &
 * Gray 2016), float32 on AVX-512: each 2x2 block of outputs is A^T [(G g G^T) .
 * (B^T d B)] A for the 4x4 input patch d under it, so the 36 multiplications of
 * a block per (input, output) channel pair become 16, done as 16 GEMMs
 *     M_xi [O, tiles] = U_xi [O, C] @ V_xi [C, tiles]      (xi: the 16 positions)
 * with U = G g G^T (the filters, transformed once per call) and V = B^T d B (the
 * input patches). The input and output transforms run 16 tiles at a time, one
 * tile per vector lane. Tiles go through in blocks (a few tile rows of a sample,
 * or several small samples) so that V and M stay in L2; threads take blocks, each
 * output is written by one block, and nothing depends on the thread count. The
 * rounding differs from the direct sum by a few ulps (the transforms' additions). */
#include "grid/winograd.h"
#include "ops/blas.h"

#ifdef GDL_HAVE_WINOGRAD
#include <immintrin.h>

enum { BLOCK_TILES = 128 }; /* tiles per block, at least: V and M are 16 (C + O) of them */

/* U[xi][o][c] = (G g G^T)[xi] for g = w[o][c], G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]. */
static void filter_transform(int64_t O, int64_t C, const float *w, float *U) {
  for (int64_t o = 0; o < O; o++)
    for (int64_t c = 0; c < C; c++) {
      const float *g = w + (o * C + c) * 9;
      float t[4][3], u[4][4];
      for (int j = 0; j < 3; j++) {
        t[0][j] = g[j];
        t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
        t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
        t[3][j] = g[6 + j];
      }
      for (int i = 0; i < 4; i++) {
        u[i][0] = t[i][0];
        u[i][1] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
        u[i][2] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
        u[i][3] = t[i][2];
      }
      for (int xi = 0; xi < 16; xi++) U[(xi * O + o) * C + c] = u[xi / 4][xi % 4];
    }
}

static __mmask16 lanes(int64_t from, int64_t to) { /* lanes i with from <= i < to */
  from = from < 0 ? 0 : from;
  to = to > 16 ? 16 : to;
  return to <= from ? 0 : (__mmask16)(((1u << (to - from)) - 1) << from);
}

/* The four columns 2 t + q - pw (q < 4) of an input row for 16 tiles t0..t0+15:
 * zero outside [0, W) (masked loads never touch the lanes they leave out). */
static void patch_row(const float *row, int64_t W, int64_t c0, __m512 d[4]) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i next = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
  __m512 v0 = _mm512_maskz_loadu_ps(lanes(-c0, W - c0), row + c0);
  __m512 v1 = _mm512_maskz_loadu_ps(lanes(-c0 - 16, W - c0 - 16), row + c0 + 16);
  __m512 v2 = _mm512_maskz_loadu_ps(lanes(-c0 - 32, W - c0 - 32) & 3, row + c0 + 32);
  d[0] = _mm512_permutex2var_ps(v0, even, v1);                                           /* c0 + 2t     */
  d[1] = _mm512_permutex2var_ps(v0, _mm512_add_epi32(even, _mm512_set1_epi32(1)), v1);   /* c0 + 2t + 1 */
  d[2] = _mm512_permutex2var_ps(d[0], next, v2);                                         /* c0 + 2t + 2 */
  d[3] = _mm512_permutex2var_ps(d[1], next, _mm512_permutexvar_ps(_mm512_set1_epi32(1), v2)); /* + 3 */
}

/* V[xi][c][j] for the tiles j of the block: B^T d B with
 * B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]. */
static void input_transform(const wino_geom *g, const float *x, const wino_block *b, float *V) {
  int64_t TW = (g->OW + 1) / 2, rows = b->ty1 - b->ty0, nbt = b->ns * rows * TW;
  for (int64_t s = 0; s < b->ns; s++)
    for (int64_t c = 0; c < g->C; c++) {
      const float *xc = x + ((b->n0 + s) * g->C + c) * g->H * g->W;
      for (int64_t ty = b->ty0; ty < b->ty1; ty++)
        for (int64_t t0 = 0; t0 < TW; t0 += 16) {
          __m512 d[4][4], t[4][4];
          for (int r = 0; r < 4; r++) {
            int64_t ih = 2 * ty + r - g->ph;
            if (ih < 0 || ih >= g->H)
              for (int q = 0; q < 4; q++) d[r][q] = _mm512_setzero_ps();
            else
              patch_row(xc + ih * g->W, g->W, 2 * t0 - g->pw, d[r]);
          }
          for (int r = 0; r < 4; r++) { /* d B */
            t[r][0] = _mm512_sub_ps(d[r][0], d[r][2]);
            t[r][1] = _mm512_add_ps(d[r][1], d[r][2]);
            t[r][2] = _mm512_sub_ps(d[r][2], d[r][1]);
            t[r][3] = _mm512_sub_ps(d[r][1], d[r][3]);
          }
          int64_t j = (s * rows + ty - b->ty0) * TW + t0;
          __mmask16 m = lanes(0, TW - t0);
          for (int q = 0; q < 4; q++) { /* B^T (d B) */
            __m512 v[4] = {_mm512_sub_ps(t[0][q], t[2][q]), _mm512_add_ps(t[1][q], t[2][q]),
                           _mm512_sub_ps(t[2][q], t[1][q]), _mm512_sub_ps(t[1][q], t[3][q])};
            for (int r = 0; r < 4; r++) _mm512_mask_storeu_ps(V + ((4 * r + q) * g->C + c) * nbt + j, m, v[r]);
          }
        }
    }
}

/* y (=, or += when beta is 1) A^T M A with A^T = [1 1 1 0; 0 1 -1 -1], 16 tiles
 * at a time; the two outputs of a tile row interleave into 32 output columns. */
static void output_transform(const wino_geom *g, const float *M, const wino_block *b, float beta, float *y) {
  int64_t TW = (g->OW + 1) / 2, rows = b->ty1 - b->ty0, nbt = b->ns * rows * TW;
  const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  for (int64_t s = 0; s < b->ns; s++)
    for (int64_t o = 0; o < g->O; o++) {
      float *yo = y + ((b->n0 + s) * g->O + o) * g->OH * g->OW;
      for (int64_t ty = b->ty0; ty < b->ty1; ty++)
        for (int64_t t0 = 0; t0 < TW; t0 += 16) {
          int64_t j = (s * rows + ty - b->ty0) * TW + t0;
          __m512 m[4][4], sr[4][2];
          for (int xi = 0; xi < 16; xi++) m[xi / 4][xi % 4] = _mm512_loadu_ps(M + (xi * g->O + o) * nbt + j);
          for (int r = 0; r < 4; r++) { /* M A */
            sr[r][0] = _mm512_add_ps(_mm512_add_ps(m[r][0], m[r][1]), m[r][2]);
            sr[r][1] = _mm512_sub_ps(_mm512_sub_ps(m[r][1], m[r][2]), m[r][3]);
          }
          for (int a = 0; a < 2 && 2 * ty + a < g->OH; a++) {
            __m512 y0 = a ? _mm512_sub_ps(_mm512_sub_ps(sr[1][0], sr[2][0]), sr[3][0])
                          : _mm512_add_ps(_mm512_add_ps(sr[0][0], sr[1][0]), sr[2][0]);
            __m512 y1 = a ? _mm512_sub_ps(_mm512_sub_ps(sr[1][1], sr[2][1]), sr[3][1])
                          : _mm512_add_ps(_mm512_add_ps(sr[0][1], sr[1][1]), sr[2][1]);
            float *row = yo + (2 * ty + a) * g->OW + 2 * t0;
            __m512 out[2] = {_mm512_permutex2var_ps(y0, lo, y1), _mm512_permutex2var_ps(y0, hi, y1)};
            for (int h = 0; h < 2; h++) {
              __mmask16 mk = lanes(0, g->OW - 2 * t0 - 16 * h);
              if (beta != 0) out[h] = _mm512_add_ps(out[h], _mm512_maskz_loadu_ps(mk, row + 16 * h));
              _mm512_mask_storeu_ps(row + 16 * h, mk, out[h]);
            }
          }
        }
    }
}

void gdl__winograd3x3(gdl_ctx *ctx, const wino_geom *g, const float *x, const float *w, float *y, float beta) {
  int64_t TH = (g->OH + 1) / 2, TW = (g->OW + 1) / 2, per = TH * TW;
  /* blocks: whole samples side by side when a sample has few tiles, else tile rows */
  int64_t ns = per >= BLOCK_TILES ? 1 : (BLOCK_TILES + per - 1) / per, rows = TH;
  if (per >= BLOCK_TILES) rows = (BLOCK_TILES + TW - 1) / TW;
  ns = ns > g->N ? g->N : ns;
  int64_t rblocks = (TH + rows - 1) / rows, items = (g->N + ns - 1) / ns * rblocks, nbt = ns * rows * TW;
  float *U = gdl__ctx_alloc_raw(ctx, sizeof(float) * (size_t)(16 * g->O * g->C));
  filter_transform(g->O, g->C, w, U);
#ifdef _OPENMP
  int nbuf = items > 1 ? omp_get_max_threads() : 1;
#else
  int nbuf = 1;
#endif
  size_t per_buf = (size_t)(16 * (g->C + g->O) * nbt);
  float *bufs = gdl__ctx_alloc_raw(ctx, sizeof(float) * per_buf * (size_t)nbuf);
  GDL_OMP(omp parallel for schedule(static) if (items > 1))
  for (int64_t it = 0; it < items; it++) {
#ifdef _OPENMP
    float *V = bufs + per_buf * (size_t)omp_get_thread_num();
#else
    float *V = bufs;
#endif
    float *M = V + 16 * g->C * nbt;
    wino_block b = {.n0 = it / rblocks * ns, .ty0 = it % rblocks * rows};
    b.ns = g->N - b.n0 < ns ? g->N - b.n0 : ns;
    b.ty1 = b.ty0 + rows < TH ? b.ty0 + rows : TH;
    int64_t n = b.ns * (b.ty1 - b.ty0) * TW; /* this block's tiles (the GEMMs' columns) */
    input_transform(g, x, &b, V);
    for (int xi = 0; xi < 16; xi++) /* V and M are [16][C or O][n] */
      gdl__gemm(GDL_F32, false, false, g->O, n, g->C, 1, U + xi * g->O * g->C, g->C, V + xi * g->C * n, n, 0,
                M + xi * g->O * n, n);
    output_transform(g, M, &b, beta, y);
  }
}
#endif
