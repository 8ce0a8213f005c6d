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
 * transforms write U and V straight in the layout the GEMM kernel reads (its packed
 * panels), so no product packs anything. The rounding differs from the direct sum
 * by a few ulps (the transforms' additions). */
#include "grid/winograd.h"
#include "ops/blas.h"

#ifdef GDL_HAVE_WINOGRAD

enum { MR = GDL_SGEMM_MR, NR = GDL_SGEMM_NR };

/* The tiles of block b (the GEMMs' columns or rows). */
static int64_t block_tiles(const wino_geom *g, const wino_block *b) {
  return b->ns * (b->ty1 - b->ty0) * ((g->OW + 1) / 2);
}

/* U[xi] = (G g G^T)[xi] for g = w[o][c], G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],
 * as the GEMM's packed A [O, C]: U[xi][o / MR][c][o % MR], zero rows up to a whole panel. */
static void filter_transform(int64_t O, int64_t C, const float *w, float *U) {
  int64_t Op = gdl__round_up(O, MR);
  GDL_PARALLEL_FOR_IF(Op * C * 9 > GDL_PAR_MIN)
  for (int64_t o = 0; o < Op; o++)
    for (int64_t c = 0; c < C; c++) {
      float u[4][4] = {{0}};
      if (o < O) {
        const float *g = w + (o * C + c) * 9;
        float t[4][3];
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
      }
      for (int xi = 0; xi < 16; xi++) U[xi * Op * C + (o - o % MR) * C + c * MR + o % MR] = u[xi / 4][xi % 4];
    }
}

/* Lanes m of v into row r, columns j.. of a matrix packed as the GEMM's B with ks
 * rows a panel: one panel, or the end of one and the start of the next. */
static void store_b_row(float *bp, int64_t ks, int64_t r, int64_t j, __mmask16 m, __m512 v) {
  int64_t off = j % NR;
  float *d = bp + (j - off) * ks + r * NR + off;
  __mmask16 here = m & gdl__lanes(0, NR - off);
  _mm512_mask_storeu_ps(d, here, v);
  if (m & ~here) _mm512_mask_storeu_ps(d + (ks - 1) * NR, m & ~here, v);
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

/* t = (d B) for input row ih of channel plane xc under the 16 tiles t0..t0+15, with
 * B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1] (zero outside the input). */
static void row_transform(const wino_geom *g, const float *xc, int64_t ih, int64_t t0, __m512 t[4]) {
  __m512 d[4];
  if (ih < 0 || ih >= g->H) {
    for (int q = 0; q < 4; q++) t[q] = _mm512_setzero_ps();
    return;
  }
  patch_row(xc + ih * g->W, g->W, 2 * t0 - g->pw, d);
  t[0] = _mm512_sub_ps(d[0], d[2]);
  t[1] = _mm512_add_ps(d[1], d[2]);
  t[2] = _mm512_sub_ps(d[2], d[1]);
  t[3] = _mm512_sub_ps(d[1], d[3]);
}

/* v[xi] = (B^T d B)[xi] from the four rows' (d B) */
static void col_transform(__m512 t[4][4], __m512 v[16]) {
  for (int q = 0; q < 4; q++) {
    v[q] = _mm512_sub_ps(t[0][q], t[2][q]);
    v[4 + q] = _mm512_add_ps(t[1][q], t[2][q]);
    v[8 + q] = _mm512_sub_ps(t[2][q], t[1][q]);
    v[12 + q] = _mm512_sub_ps(t[1][q], t[3][q]);
  }
}

/* v[xi] = (B^T d B)[xi] for the 16 tiles t0..t0+15 of tile row ty of channel plane xc. */
static void patch_transform(const wino_geom *g, const float *xc, int64_t ty, int64_t t0, __m512 v[16]) {
  __m512 t[4][4];
  for (int r = 0; r < 4; r++) row_transform(g, xc, 2 * ty + r - g->ph, t0, t[r]);
  col_transform(t, v);
}

/* V[xi] [C, tiles of the block] as the GEMM's packed B (C rows a panel; vs floats
 * per xi). Tile rows go down a column of tiles, each reusing the two input rows it
 * shares with the one above. */
static void input_transform(const wino_geom *g, const float *x, const wino_block *b, int64_t vs, float *V) {
  int64_t TW = (g->OW + 1) / 2, rows = b->ty1 - b->ty0;
  for (int64_t s = 0; s < b->ns; s++)
    for (int64_t c = 0; c < g->C; c++) {
      const float *xc = x + ((b->n0 + s) * g->C + c) * g->H * g->W;
      for (int64_t t0 = 0; t0 < TW; t0 += 16) {
        __m512 t[4][4], v[16];
        for (int r = 0; r < 2; r++) row_transform(g, xc, 2 * b->ty0 + r - g->ph, t0, t[r]);
        for (int64_t ty = b->ty0; ty < b->ty1; ty++) {
          for (int r = 2; r < 4; r++) row_transform(g, xc, 2 * ty + r - g->ph, t0, t[r]);
          col_transform(t, v);
          int64_t j = (s * rows + ty - b->ty0) * TW + t0;
          for (int xi = 0; xi < 16; xi++) store_b_row(V + xi * vs, g->C, c, j, gdl__lanes(0, TW - t0), v[xi]);
          for (int q = 0; q < 4; q++) {
            t[0][q] = t[2][q];
            t[1][q] = t[3][q];
          }
        }
      }
    }
}

/* y (=, or += when beta is 1) A^T M A with A^T = [1 1 1 0; 0 1 -1 -1], 16 tiles
 * at a time; the two outputs of a tile row interleave into 32 output columns. */
static void output_transform(const wino_geom *g, const float *M, const wino_block *b, float beta, float *y) {
  int64_t TW = (g->OW + 1) / 2, rows = b->ty1 - b->ty0, nbt = block_tiles(g, b);
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
  int64_t O = g->O, C = g->C;
  blocking k = plan(g, g->N);
  int64_t items = (g->N + k.ns - 1) / k.ns * k.rblocks, Op = gdl__round_up(O, MR), vs = C * gdl__round_up(k.nbt, NR);
  float *U = gdl__ctx_alloc_raw(ctx, sizeof(float) * (size_t)(16 * Op * C));
  filter_transform(O, C, w, U);
  /* per thread: V zeroed (its padding columns are multiplied, never stored), M not */
  size_t nv = (size_t)(16 * vs), nm = (size_t)(16 * O * k.nbt), nbuf = (size_t)gdl__thread_buffers(items);
  float *Vs = gdl_ctx_alloc(ctx, sizeof(float) * nv * nbuf), *Ms = gdl__ctx_alloc_raw(ctx, sizeof(float) * nm * nbuf);
  GDL_OMP(omp parallel for schedule(static) if (items > 1))
  for (int64_t it = 0; it < items; it++) {
    float *V = Vs + nv * (size_t)gdl__thread_index(), *M = Ms + nm * (size_t)gdl__thread_index();
    wino_block b = block_at(g, &k, it / k.rblocks * k.ns, g->N, it % k.rblocks);
    int64_t n = block_tiles(g, &b);
    input_transform(g, x, &b, vs, V);
    for (int xi = 0; xi < 16; xi++) /* M is [16][O][n] */
      gdl__sgemm_packed(O, n, C, C, U + xi * Op * C, V + xi * vs, 0, M + xi * O * n, n);
    output_transform(g, M, &b, beta, y);
  }
}

/* The weight gradient, dW = sum over samples and tiles of G^T [(A dY A^T) . (B^T d B)] G
 * (the transpose of the forward's formula), dY the 2 x 2 output-gradient tile and
 * A = [1 0; 1 1; 1 -1; 0 -1]: again 16 GEMMs,
 *     S_xi [O, C] += DY_xi [O, tiles] @ V_xi [tiles, C],
 * whose operands the transforms write as packed panels, tile-major (16 x 16
 * transposes in registers). */

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

/* The block's transforms of the C planes of src, 16 at a time, tile-major: per xi
 * (xs floats apart) the GEMM's packed A [C, tiles] (MR-row panels) for the output
 * gradient's, its packed B [tiles, C] (NR-column panels) for the input's; ks rows. */
static void panel_transform(const wino_geom *g, const float *src, int64_t C, int64_t plane, bool grad,
                            const wino_block *b, int64_t ks, int64_t xs, float *out) {
  int64_t TW = (g->OW + 1) / 2, rows = b->ty1 - b->ty0;
  float tmp[16][16 * 16]; /* [xi][channel][tile] */
  for (int64_t s = 0; s < b->ns; s++)
    for (int64_t ty = b->ty0; ty < b->ty1; ty++)
      for (int64_t t0 = 0; t0 < TW; t0 += 16) {
        int64_t j = (s * rows + ty - b->ty0) * TW + t0, nt = TW - t0 < 16 ? TW - t0 : 16;
        for (int64_t c0 = 0; c0 < C; c0 += 16) {
          for (int64_t cl = 0; cl < 16; cl++) {
            const float *pl = src + ((b->n0 + s) * C + (c0 + cl < C ? c0 + cl : 0)) * plane;
            __m512 v[16];
            if (c0 + cl >= C) {
              for (int xi = 0; xi < 16; xi++) v[xi] = _mm512_setzero_ps(); /* the padding rows / columns */
            } else {
              /* the two rows the next tile row adds: planes are visited 16 at a time,
               * too many streams for the hardware prefetcher to follow */
              int64_t next = grad ? 2 * ty + 2 : 2 * ty + 4 - g->ph, w = grad ? g->OW : g->W, h = grad ? g->OH : g->H;
              for (int64_t i = next < 0 ? 0 : next; i < next + 2 && i < h; i++)
                for (int64_t q = 2 * t0; q < 2 * t0 + 32 && q < w; q += 16)
                  _mm_prefetch((const char *)(pl + i * w + q), _MM_HINT_T0);
              if (grad) grad_transform(g, pl, ty, t0, v);
              else patch_transform(g, pl, ty, t0, v);
            }
            for (int xi = 0; xi < 16; xi++) _mm512_storeu_ps(tmp[xi] + cl * 16, v[xi]);
          }
          for (int xi = 0; xi < 16; xi++) {
            __m512 r[16];
            for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(tmp[xi] + i * 16);
            gdl__transpose16(r); /* r[t]: the 16 channels of tile j + t */
            float *o = out + xi * xs;
            for (int64_t t = 0; t < nt; t++) {
              if (grad) {
                _mm256_storeu_ps(o + c0 * ks + (j + t) * MR, _mm512_castps512_ps256(r[t]));
                if (c0 + MR < C) _mm256_storeu_ps(o + (c0 + MR) * ks + (j + t) * MR, _mm512_extractf32x8_ps(r[t], 1));
              } else {
                _mm512_storeu_ps(o + (c0 - c0 % NR) * ks + (j + t) * NR + c0 % NR, r[t]);
              }
            }
          }
        }
      }
}

void gdl__winograd3x3_dw(gdl_ctx *ctx, const wino_geom *g, const float *x, const float *dy, int64_t size, float *dw) {
  int64_t count = (g->N + size - 1) / size;
  blocking k = plan(g, size);
  int64_t O = g->O, C = g->C, wsz = 16 * O * C, ks = k.nbt, vs = gdl__round_up(C, NR) * ks, ds = gdl__round_up(O, MR) * ks;
  /* per thread: V zeroed (its padding columns past the last 16 channels are multiplied,
   * never stored), D not (the transform writes every row it has) */
  size_t nbuf = (size_t)gdl__thread_buffers(count);
  float *Vs = gdl_ctx_alloc(ctx, sizeof(float) * (size_t)(16 * vs) * nbuf);
  float *Ds = gdl__ctx_alloc_raw(ctx, sizeof(float) * (size_t)(16 * ds) * nbuf);
  float *S = gdl_ctx_alloc(ctx, sizeof(float) * (size_t)(wsz * count)); /* per chunk, zeroed */
  GDL_OMP(omp parallel for schedule(static) if (count > 1))
  for (int64_t ch = 0; ch < count; ch++) {
    float *V = Vs + 16 * vs * gdl__thread_index(), *D = Ds + 16 * ds * gdl__thread_index();
    int64_t end = (ch + 1) * size < g->N ? (ch + 1) * size : g->N;
    for (int64_t n0 = ch * size; n0 < end; n0 += k.ns)
      for (int64_t r = 0; r < k.rblocks; r++) {
        wino_block b = block_at(g, &k, n0, end, r);
        int64_t n = block_tiles(g, &b);
        panel_transform(g, x, C, g->H * g->W, false, &b, ks, vs, V);
        panel_transform(g, dy, O, g->OH * g->OW, true, &b, ks, ds, D);
        for (int xi = 0; xi < 16; xi++)
          gdl__sgemm_packed(O, C, n, ks, D + xi * ds, V + xi * vs, 1, S + ch * wsz + xi * O * C, C);
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
