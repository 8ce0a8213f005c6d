/* Row-major GEMM through CBLAS for float and double: C = alpha op(A) op(B) + beta C. */
#ifndef GDL_OPS_BLAS_H
#define GDL_OPS_BLAS_H

#include <cblas.h>

#include "core/internal.h"

static inline void gdl__gemm(gdl_dtype t, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                             double alpha, const void *a, int64_t lda, const void *b, int64_t ldb,
                             double beta, void *c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  enum CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans;
  if (t == GDL_F32)
    cblas_sgemm(CblasRowMajor, TA, TB, (int)m, (int)n, (int)k, (float)alpha, a, (int)lda, b,
                (int)ldb, (float)beta, c, (int)ldc);
  else
    cblas_dgemm(CblasRowMajor, TA, TB, (int)m, (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb,
                beta, c, (int)ldc);
}

#endif
