/* float32 GEMM for AVX-512 CPUs (built with -march=native):
 * C = alpha op(A) op(B) + beta C, row-major, either operand transposed.
 *
 * Why not BLIS: on this project's machines BLIS 0.9's 'skx' sgemm reaches about
 * 45% of the float32 FMA peak at the shapes convolutions and linear layers give it
 * (64 x 3136 x 576 and the like), where this plain packed kernel reaches 70-80%.
 *
 * The usual GotoBLAS/BLIS blocking: op(B) is packed per (KC x NC) block into panels
 * of NR columns, op(A) per (MC x KC) block into panels of MR rows (packing absorbs
 * the transposes and zero-fills the edges), and an MR x NR register tile of C is
 * accumulated over KC with one FMA per (row, 16 columns) and k. A B panel
 * (KC x NR floats, 24 KiB) stays in L1 while the A panels of the block stream from
 * L2. The summation order depends on the sizes only. */
#include "ops/blas.h"

#ifdef GDL_HAVE_AVX512_SGEMM

enum { MR = GDL_SGEMM_MR, NR = GDL_SGEMM_NR, NV = NR / 16, KC = 128, MC = 96, NC = 21 * NR };

/* ap: MR x kc panel (k major), bp: kc x NR panel (k major); the tile of C is mr x nr,
 * computed W vectors wide (W = 1, 2 or 3: an edge panel narrower than NR costs only
 * its own width). */
#define DEFINE_TILE(W)                                                                                         \
  static void tile##W(int64_t kc, const float *ap, const float *bp, float *c, int64_t ldc, int mr, int nr,      \
                      float alpha, float beta, bool first) {                                                   \
    __m512 acc[MR][W];                                                                                         \
    for (int i = 0; i < MR; i++)                                                                               \
      for (int v = 0; v < W; v++) acc[i][v] = _mm512_setzero_ps();                                             \
    for (int64_t p = 0; p < kc; p++, ap += MR, bp += NR) {                                                     \
      __m512 b[W];                                                                                             \
      for (int v = 0; v < W; v++) b[v] = _mm512_load_ps(bp + 16 * v);                                          \
      for (int i = 0; i < MR; i++) {                                                                           \
        __m512 a = _mm512_set1_ps(ap[i]);                                                                      \
        for (int v = 0; v < W; v++) acc[i][v] = _mm512_fmadd_ps(a, b[v], acc[i][v]);                           \
      }                                                                                                        \
    }                                                                                                          \
    __m512 al = _mm512_set1_ps(alpha), be = _mm512_set1_ps(beta);                                             \
    for (int i = 0; i < mr; i++)                                                                               \
      for (int v = 0; v < W && 16 * v < nr; v++) {                                                             \
        __mmask16 mask = gdl__lanes(0, nr - 16 * v);                                                           \
        float *cp = c + i * ldc + 16 * v;                                                                      \
        __m512 r = _mm512_mul_ps(al, acc[i][v]);                                                               \
        if (!first) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(mask, cp));                                     \
        else if (beta != 0) r = _mm512_fmadd_ps(be, _mm512_maskz_loadu_ps(mask, cp), r);                       \
        _mm512_mask_storeu_ps(cp, mask, r);                                                                    \
      }                                                                                                        \
  }
DEFINE_TILE(1)
DEFINE_TILE(2)
DEFINE_TILE(3)

static void tile(int64_t kc, const float *ap, const float *bp, float *c, int64_t ldc, int mr, int nr, float alpha,
                 float beta, bool first) {
  if (nr > 32) tile3(kc, ap, bp, c, ldc, mr, nr, alpha, beta, first);
  else if (nr > 16) tile2(kc, ap, bp, c, ldc, mr, nr, alpha, beta, first);
  else tile1(kc, ap, bp, c, ldc, mr, nr, alpha, beta, first);
}

/* dst[q][0..rows) = src rows 0..rows-1 at columns p0 + q for q < cols (<= 16), rows
 * <= 16 read at stride ld from src; the rest of each 16-wide output row is zero. */
static void transpose_block(const float *src, int64_t ld, int rows, int64_t cols, float *dst, int64_t ldd, int width) {
  __m512 r[16];
  __mmask16 m = gdl__lanes(0, cols);
  for (int i = 0; i < 16; i++) r[i] = i < rows ? _mm512_maskz_loadu_ps(m, src + i * ld) : _mm512_setzero_ps();
  gdl__transpose16(r);
  for (int64_t q = 0; q < cols; q++) _mm512_mask_storeu_ps(dst + q * ldd, gdl__lanes(0, width), r[q]);
}

/* Bp[j / NR][p][j % NR] = op(B)[pc + p, jc + j], zero past nc. */
static void pack_b(bool tb, const float *b, int64_t ldb, int64_t pc, int64_t kc, int64_t jc, int64_t nc, float *bp) {
  for (int64_t jr = 0; jr < nc; jr += NR) {
    int64_t w = nc - jr < NR ? nc - jr : NR;
    float *dst = bp + jr * kc;
    if (!tb) {
      for (int64_t p = 0; p < kc; p++)
        for (int v = 0; v < NV; v++)
          _mm512_store_ps(dst + p * NR + 16 * v, _mm512_maskz_loadu_ps(gdl__lanes(0, w - 16 * v), b + (pc + p) * ldb + jc + jr + 16 * v));
    } else { /* op(B)[p, j] = b[j, p]: 16 x 16 transposes */
      for (int v = 0; v < NV; v++) {
        int rows = w - 16 * v < 0 ? 0 : (int)(w - 16 * v < 16 ? w - 16 * v : 16);
        for (int64_t p = 0; p < kc; p += 16)
          transpose_block(b + (jc + jr + 16 * v) * ldb + pc + p, ldb, rows, kc - p < 16 ? kc - p : 16,
                          dst + p * NR + 16 * v, NR, 16);
      }
    }
  }
}

/* Ap[i / MR][p][i % MR] = op(A)[ic + i, pc + p], zero past mc. */
static void pack_a(bool ta, const float *a, int64_t lda, int64_t ic, int64_t mc, int64_t pc, int64_t kc, float *ap) {
  for (int64_t ir = 0; ir < mc; ir += MR) {
    int h = (int)(mc - ir < MR ? mc - ir : MR);
    float *dst = ap + ir * kc;
    if (!ta) {
      for (int64_t p = 0; p < kc; p += 16)
        transpose_block(a + (ic + ir) * lda + pc + p, lda, h, kc - p < 16 ? kc - p : 16, dst + p * MR, MR, MR);
    } else {
      for (int64_t p = 0; p < kc; p++)
        _mm256_store_ps(dst + p * MR, _mm256_maskz_loadu_ps((__mmask8)gdl__lanes(0, h), a + (pc + p) * lda + ic + ir));
    }
  }
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static void sgemm_serial(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                         const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  if (k == 0 || alpha == 0) { /* C = beta C (no product to add) */
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j];
    return;
  }
  int64_t kcmax = min64(k, KC), ncmax = gdl__round_up(min64(n, NC), NR), mcmax = gdl__round_up(min64(m, MC), MR);
  /* per-thread packing buffers: products come by the thousand (16 per Winograd block) */
  float *bp = gdl__scratch(0, sizeof(float) * (size_t)(kcmax * ncmax));
  float *ap = gdl__scratch(1, sizeof(float) * (size_t)(mcmax * kcmax));
  for (int64_t jc = 0; jc < n; jc += NC) {
    int64_t nc = min64(n - jc, NC);
    for (int64_t pc = 0; pc < k; pc += KC) {
      int64_t kc = min64(k - pc, KC);
      pack_b(tb, b, ldb, pc, kc, jc, nc, bp);
      for (int64_t ic = 0; ic < m; ic += MC) {
        int64_t mc = min64(m - ic, MC);
        pack_a(ta, a, lda, ic, mc, pc, kc, ap);
        for (int64_t jr = 0; jr < nc; jr += NR)
          for (int64_t ir = 0; ir < mc; ir += MR)
            tile(kc, ap + ir * kc, bp + jr * kc, c + (ic + ir) * ldc + jc + jr, ldc, (int)min64(MR, mc - ir),
                 (int)min64(NR, nc - jr), alpha, beta, pc == 0);
      }
    }
  }
}

void gdl__sgemm_packed(int64_t m, int64_t n, int64_t k, int64_t ks, const float *ap, const float *bp, float beta,
                       float *c, int64_t ldc) {
  for (int64_t pc = 0; pc < k; pc += KC)
    for (int64_t jr = 0; jr < n; jr += NR)
      for (int64_t ir = 0; ir < m; ir += MR)
        tile(min64(k - pc, KC), ap + ir * ks + pc * MR, bp + jr * ks + pc * NR, c + ir * ldc + jr, ldc,
             (int)min64(MR, m - ir), (int)min64(NR, n - jr), 1, beta, pc == 0);
}

/* Threads (outside parallel regions) take slices of C's columns, or of its rows
 * when it is narrow, on NR / MR boundaries; each entry is summed in the same order
 * whatever the slicing, so the result does not depend on the thread count. */
void gdl__sgemm_avx512(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                       const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  int nt = m * n * k < ((int64_t)1 << 21) ? 1 : gdl__blas_threads();
  bool cols = n >= m;
  int64_t q = cols ? NR : MR, len = cols ? n : m, slice = gdl__round_up((len + nt - 1) / nt, q);
  if (nt <= 1 || slice >= len) {
    sgemm_serial(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  GDL_OMP(omp parallel for num_threads(nt) schedule(static))
  for (int64_t s0 = 0; s0 < len; s0 += slice) {
    int64_t w = min64(slice, len - s0);
    if (cols)
      sgemm_serial(ta, tb, m, w, k, alpha, a, lda, tb ? b + s0 * ldb : b + s0, ldb, beta, c + s0, ldc);
    else
      sgemm_serial(ta, tb, w, n, k, alpha, ta ? a + s0 : a + s0 * lda, lda, b, ldb, beta, c + s0 * ldc, ldc);
  }
}
#endif
