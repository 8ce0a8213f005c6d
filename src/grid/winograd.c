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


/* U[xi][o][c] = (G g G^T)[xi] for g = w[o][c], G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]. */
static void filter_transform(int64_t O, int64_t C, const float *w, float *U) {
  GDL_PARALLEL_FOR_IF(O * C * 9 > GDL_PAR_MIN)
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

/* ev[t] = the (2t)-th and od[t] the (2t+1)-th of the 32 floats in v0, v1. */
static void split_even_odd(__m512 v0, __m512 v1, __m512 *ev, __m512 *od) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  *ev = _mm512_permutex2var_ps(v0, even, v1);
  *od = _mm512_permutex2var_ps(v0, _mm512_add_epi32(even, _mm512_set1_epi32(1)), v1);
}

/* The four columns 2 t + q - pw (q < 4) of an input row for 16 tiles t0..t0+15:
 * zero outside [0, W) (masked loads never touch the lanes they leave out). */
static void patch_row(const float *row, int64_t W, int64_t c0, __m512 d[4]) {
  const __m512i next = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
  __m512 v0 = _mm512_maskz_loadu_ps(gdl__lanes(-c0, W - c0), row + c0);
  __m512 v1 = _mm512_maskz_loadu_ps(gdl__lanes(-c0 - 16, W - c0 - 16), row + c0 + 16);
  __m512 v2 = _mm512_maskz_loadu_ps(gdl__lanes(-c0 - 32, W - c0 - 32) & 3, row + c0 + 32);
  split_even_odd(v0, v1, &d[0], &d[1]);                                                  /* c0 + 2t, + 1 */
  d[2] = _mm512_permutex2var_ps(d[0], next, v2);                                         /* c0 + 2t + 2 */
  d[3] = _mm512_permutex2var_ps(d[1], next, _mm512_permutexvar_ps(_mm512_set1_epi32(1), v2)); /* + 3 */
}

/* v[xi] = (B^T d B)[xi] for the 16 tiles t0..t0+15 of tile row ty of channel
 * plane xc, with B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]. */
static void patch_transform(const wino_geom *g, const float *xc, int64_t ty, int64_t t0, __m512 v[16]) {
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
  for (int q = 0; q < 4; q++) { /* B^T (d B) */
    v[q] = _mm512_sub_ps(t[0][q], t[2][q]);
    v[4 + q] = _mm512_add_ps(t[1][q], t[2][q]);
    v[8 + q] = _mm512_sub_ps(t[2][q], t[1][q]);
    v[12 + q] = _mm512_sub_ps(t[1][q], t[3][q]);
  }
}

/* V[xi][c][j] for the tiles j of the block. */
static void input_transform(const wino_geom *g, const float *x, const wino_block *b, float *V) {
  int64_t TW = (g->OW + 1) / 2, rows = b->ty1 - b->ty0, nbt = b->ns * rows * TW;
  for (int64_t s = 0; s < b->ns; s++)
    for (int64_t c = 0; c < g->C; c++) {
      const float *xc = x + ((b->n0 + s) * g->C + c) * g->H * g->W;
      for (int64_t ty = b->ty0; ty < b->ty1; ty++)
        for (int64_t t0 = 0; t0 < TW; t0 += 16) {
          __m512 v[16];
          patch_transform(g, xc, ty, t0, v);
          int64_t j = (s * rows + ty - b->ty0) * TW + t0;
          for (int xi = 0; xi < 16; xi++) _mm512_mask_storeu_ps(V + (xi * g->C + c) * nbt + j, gdl__lanes(0, TW - t0), v[xi]);
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
              __mmask16 mk = gdl__lanes(0, g->OW - 2 * t0 - 16 * h);
              if (beta != 0) out[h] = _mm512_add_ps(out[h], _mm512_maskz_loadu_ps(mk, row + 16 * h));
              _mm512_mask_storeu_ps(row + 16 * h, mk, out[h]);
            }
          }
        }
    }
}

/* Blocks: whole samples side by side (ns of them, at most `most`) when a sample has
 * few tiles, else `rows` tile rows of one sample; nbt tiles at most. */
typedef struct {
  int64_t ns, rows, rblocks, nbt;
} blocking;

static blocking plan(const wino_geom *g, int64_t most) {
  int64_t TH = (g->OH + 1) / 2, TW = (g->OW + 1) / 2, per = TH * TW;
  /* tiles per block, at least: V and M hold 16 (C + O) floats a tile, 1 MiB in all
   * (128 tiles at 64 -> 64 channels), and the GEMMs want 32 columns or more */
  int64_t want = ((int64_t)1 << 20) / (64 * (g->C + g->O));
  want = want < 32 ? 32 : want;
  blocking k = {.ns = 1, .rows = TH};
  if (per >= want) k.rows = (want + TW - 1) / TW;
  else k.ns = (want + per - 1) / per;
  k.ns = k.ns > most ? most : k.ns;
  k.rows = k.rows > TH ? TH : k.rows;
  k.rblocks = (TH + k.rows - 1) / k.rows;
  k.nbt = k.ns * k.rows * TW;
  return k;
}

/* The block: samples from n0 (at most `ns`, ending before `end`), tile row block r. */
static wino_block block_at(const wino_geom *g, const blocking *k, int64_t n0, int64_t end, int64_t r) {
  int64_t TH = (g->OH + 1) / 2;
  wino_block b = {.n0 = n0, .ns = end - n0 < k->ns ? end - n0 : k->ns, .ty0 = r * k->rows};
  b.ty1 = b.ty0 + k->rows < TH ? b.ty0 + k->rows : TH;
  return b;
}

void gdl__winograd3x3(gdl_ctx *ctx, const wino_geom *g, const float *x, const float *w, float *y, float beta) {
  int64_t TW = (g->OW + 1) / 2;
  blocking k = plan(g, g->N);
  int64_t items = (g->N + k.ns - 1) / k.ns * k.rblocks, nbt = k.nbt;
  float *U = gdl__ctx_alloc_raw(ctx, sizeof(float) * (size_t)(16 * g->O * g->C));
  filter_transform(g->O, g->C, w, U);
  size_t per_buf = (size_t)(16 * (g->C + g->O) * nbt);
  float *bufs = gdl__ctx_alloc_raw(ctx, sizeof(float) * per_buf * (size_t)gdl__thread_buffers(items));
  GDL_OMP(omp parallel for schedule(static) if (items > 1))
  for (int64_t it = 0; it < items; it++) {
    float *V = bufs + per_buf * (size_t)gdl__thread_index(), *M = V + 16 * g->C * nbt;
    wino_block b = block_at(g, &k, it / k.rblocks * k.ns, g->N, it % k.rblocks);
    int64_t n = b.ns * (b.ty1 - b.ty0) * TW; /* this block's tiles (the GEMMs' columns) */
    input_transform(g, x, &b, V);
    for (int xi = 0; xi < 16; xi++) /* V and M are [16][C or O][n] */
      gdl__gemm(GDL_F32, false, false, g->O, n, g->C, 1, U + xi * g->O * g->C, g->C, V + xi * g->C * n, n, 0,
                M + xi * g->O * n, n);
    output_transform(g, M, &b, beta, y);
  }
}

/* The weight gradient, dW = sum over samples and tiles of G^T [(A dY A^T) . (B^T d B)] G
 * (the transpose of the forward's formula), dY the 2 x 2 output-gradient tile and
 * A = [1 0; 1 1; 1 -1; 0 -1]: again 16 GEMMs,
 *     S_xi [O, C] += DY_xi [tiles, O]^T @ V_xi [tiles, C],
 * whose operands are stored tile-major (16 x 16 transposes in the transforms) so
 * that packing them for the GEMM is a plain copy. */

/* v[xi] = (A dY A^T)[xi] for the 16 tiles t0..t0+15 of tile row ty of gradient
 * plane dyo (zero where the tile sticks out of the output). */
static void grad_transform(const wino_geom *g, const float *dyo, int64_t ty, int64_t t0, __m512 v[16]) {
  __m512 d[2][2], t[4][2];
  for (int a = 0; a < 2; a++) {
    int64_t i = 2 * ty + a, c0 = 2 * t0;
    __m512 v0 = _mm512_setzero_ps(), v1 = _mm512_setzero_ps();
    if (i < g->OH) {
      v0 = _mm512_maskz_loadu_ps(gdl__lanes(0, g->OW - c0), dyo + i * g->OW + c0);
      v1 = _mm512_maskz_loadu_ps(gdl__lanes(0, g->OW - c0 - 16), dyo + i * g->OW + c0 + 16);
    }
    split_even_odd(v0, v1, &d[a][0], &d[a][1]);
  }
  for (int b = 0; b < 2; b++) { /* A dY */
    t[0][b] = d[0][b];
    t[1][b] = _mm512_add_ps(d[0][b], d[1][b]);
    t[2][b] = _mm512_sub_ps(d[0][b], d[1][b]);
    t[3][b] = _mm512_sub_ps(_mm512_setzero_ps(), d[1][b]);
  }
  for (int r = 0; r < 4; r++) { /* (A dY) A^T */
    v[4 * r] = t[r][0];
    v[4 * r + 1] = _mm512_add_ps(t[r][0], t[r][1]);
    v[4 * r + 2] = _mm512_sub_ps(t[r][0], t[r][1]);
    v[4 * r + 3] = _mm512_sub_ps(_mm512_setzero_ps(), t[r][1]);
  }
}

/* out[xi][j][c] (ld C) for the block's tiles j and the C planes of src, by 16
 * planes at a time: transform, then transpose each xi's 16 planes x 16 tiles. */
static void transposed_transform(const wino_geom *g, const float *src, int64_t C, int64_t plane, bool grad,
                                 const wino_block *b, float *out) {
  int64_t TW = (g->OW + 1) / 2, rows = b->ty1 - b->ty0, n = b->ns * rows * TW;
  float tmp[16][16 * 16], tr[16 * 16];
  for (int64_t s = 0; s < b->ns; s++)
    for (int64_t ty = b->ty0; ty < b->ty1; ty++)
      for (int64_t t0 = 0; t0 < TW; t0 += 16) {
        int64_t j = (s * rows + ty - b->ty0) * TW + t0, nt = TW - t0 < 16 ? TW - t0 : 16;
        for (int64_t c0 = 0; c0 < C; c0 += 16) {
          int64_t cn = C - c0 < 16 ? C - c0 : 16;
          for (int64_t cl = 0; cl < cn; cl++) {
            const float *pl = src + ((b->n0 + s) * C + c0 + cl) * plane;
            __m512 v[16];
            if (grad) grad_transform(g, pl, ty, t0, v);
            else patch_transform(g, pl, ty, t0, v);
            for (int xi = 0; xi < 16; xi++) _mm512_storeu_ps(tmp[xi] + cl * 16, v[xi]);
          }
          for (int xi = 0; xi < 16; xi++) {
            gdl__transpose16(tmp[xi], 16, tr, 16); /* rows past cn: stale, and never stored */
            for (int64_t t = 0; t < nt; t++)
              _mm512_mask_storeu_ps(out + (xi * n + j + t) * C + c0, gdl__lanes(0, cn), _mm512_loadu_ps(tr + t * 16));
          }
        }
      }
}

void gdl__winograd3x3_dw(gdl_ctx *ctx, const wino_geom *g, const float *x, const float *dy, int64_t size, float *dw) {
  int64_t count = (g->N + size - 1) / size;
  blocking k = plan(g, size);
  int64_t O = g->O, C = g->C, wsz = 16 * O * C;
  size_t per_buf = (size_t)(16 * (C + O) * k.nbt);
  float *bufs = gdl__ctx_alloc_raw(ctx, sizeof(float) * per_buf * (size_t)gdl__thread_buffers(count));
  float *S = gdl__ctx_alloc_raw(ctx, sizeof(float) * (size_t)(wsz * count)); /* per chunk */
  gdl__zero(S, sizeof(float) * (size_t)(wsz * count));
  GDL_OMP(omp parallel for schedule(static) if (count > 1))
  for (int64_t ch = 0; ch < count; ch++) {
    float *V = bufs + per_buf * (size_t)gdl__thread_index(), *D = V + 16 * C * k.nbt;
    int64_t end = (ch + 1) * size < g->N ? (ch + 1) * size : g->N;
    for (int64_t n0 = ch * size; n0 < end; n0 += k.ns)
      for (int64_t r = 0; r < k.rblocks; r++) {
        wino_block b = block_at(g, &k, n0, end, r);
        int64_t n = b.ns * (b.ty1 - b.ty0) * ((g->OW + 1) / 2);
        transposed_transform(g, x, C, g->H * g->W, false, &b, V);
        transposed_transform(g, dy, O, g->OH * g->OW, true, &b, D);
        for (int xi = 0; xi < 16; xi++)
          gdl__gemm(GDL_F32, true, false, O, C, n, 1, D + xi * n * O, O, V + xi * n * C, C, 1,
                    S + ch * wsz + xi * O * C, C);
      }
  }
  /* sum the chunks in order, then dW += G^T S G, G^T = [1 1/2 1/2 0; 0 1/2 -1/2 0; 0 1/2 1/2 1] */
  GDL_PARALLEL_FOR_IF(O * C * 16 * count > GDL_PAR_MIN)
  for (int64_t oc = 0; oc < O * C; oc++) {
    float m[4][4], t[3][4];
    for (int xi = 0; xi < 16; xi++) {
      float acc = 0;
      for (int64_t ch = 0; ch < count; ch++) acc += S[ch * wsz + xi * O * C + oc];
      m[xi / 4][xi % 4] = acc;
    }
    for (int q = 0; q < 4; q++) {
      t[0][q] = m[0][q] + 0.5f * (m[1][q] + m[2][q]);
      t[1][q] = 0.5f * (m[1][q] - m[2][q]);
      t[2][q] = 0.5f * (m[1][q] + m[2][q]) + m[3][q];
    }
    float *out = dw + oc * 9;
    for (int i = 0; i < 3; i++) {
      out[3 * i] += t[i][0] + 0.5f * (t[i][1] + t[i][2]);
      out[3 * i + 1] += 0.5f * (t[i][1] - t[i][2]);
      out[3 * i + 2] += 0.5f * (t[i][1] + t[i][2]) + t[i][3];
    }
  }
}
#endif
