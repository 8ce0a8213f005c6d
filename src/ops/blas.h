/* Row-major GEMM for float and double: C = alpha op(A) op(B) + beta C.
 *
 * BLIS (the default) is called through its expert interface with a per-call
 * thread count: all of gdl's threads outside parallel regions, one inside them
 * (where gdl already spreads samples over threads). OpenBLAS is the alternative
 * (cmake -DGDL_BLAS=OpenBLAS), through CBLAS. */
#ifndef GDL_OPS_BLAS_H
#define GDL_OPS_BLAS_H

#include "core/internal.h"

#ifdef GDL_HAVE_BLIS
#include <blis.h>
#else
#include <cblas.h>
#endif

/* Threads BLAS may use for a call made here (1 inside an OpenMP region). */
int gdl__blas_threads(void);

#ifdef __AVX512F__
/* gdl's own float32 GEMM (sgemm.c), faster than BLIS on AVX-512. */
#define GDL_HAVE_AVX512_SGEMM 1
void gdl__sgemm_avx512(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                       const float *b, int64_t ldb, float beta, float *c, int64_t ldc);
/* C (=, or += when beta is 1) A B for operands packed as the GEMM packs them:
 * A [m, k] in panels of GDL_SGEMM_MR rows, ap[i / MR][p][i % MR] (panels ks * MR
 * floats apart), B [k, n] in panels of GDL_SGEMM_NR columns, bp[j / NR][p][j % NR]
 * (ks * NR apart), k <= ks; padding rows and columns are multiplied but never stored
 * (keep them finite: zeros). */
enum { GDL_SGEMM_MR = 8, GDL_SGEMM_NR = 48 };
void gdl__sgemm_packed(int64_t m, int64_t n, int64_t k, int64_t ks, const float *ap, const float *bp, float beta,
                       float *c, int64_t ldc);
#endif

static inline void gdl__gemm(gdl_dtype t, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                             double alpha, const void *a, int64_t lda, const void *b, int64_t ldb,
                             double beta, void *c, int64_t ldc) {
  if (m == 0 || n == 0) return;
#ifdef GDL_HAVE_AVX512_SGEMM
  if (t == GDL_F32) {
    gdl__sgemm_avx512(ta, tb, m, n, k, (float)alpha, a, lda, b, ldb, (float)beta, c, ldc);
    return;
  }
#endif
#ifdef GDL_HAVE_BLIS
  rntm_t rntm = BLIS_RNTM_INITIALIZER;
  /* Small products finish before a second thread would start: keep them on one. */
  bli_rntm_set_num_threads(m * n * k < ((int64_t)1 << 22) ? 1 : gdl__blas_threads(), &rntm);
  trans_t TA = ta ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, TB = tb ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE;
  if (t == GDL_F32) {
    float al = (float)alpha, be = (float)beta;
    bli_sgemm_ex(TA, TB, m, n, k, &al, (float *)a, lda, 1, (float *)b, ldb, 1, &be, c, ldc, 1, NULL, &rntm);
  } else {
    bli_dgemm_ex(TA, TB, m, n, k, &alpha, (double *)a, lda, 1, (double *)b, ldb, 1, &beta, c, ldc, 1, NULL,
                 &rntm);
  }
#else
  enum CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans;
  if (t == GDL_F32)
    cblas_sgemm(CblasRowMajor, TA, TB, (int)m, (int)n, (int)k, (float)alpha, a, (int)lda, b,
                (int)ldb, (float)beta, c, (int)ldc);
  else
    cblas_dgemm(CblasRowMajor, TA, TB, (int)m, (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb,
                beta, c, (int)ldc);
#endif
}

#endif
