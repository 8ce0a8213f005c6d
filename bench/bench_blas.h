/* Which BLAS gdl was built with, and gdl__gemm (src/ops/blas.h), the call that
 * gdl_matmul and gdl_linear end in. The bench programs are compiled with gdl's
 * own include directories and definitions (GDL_HAVE_BLIS or GDL_HAVE_OPENBLAS),
 * see bench/CMakeLists.txt. */
#ifndef GDL_BENCH_BLAS_H
#define GDL_BENCH_BLAS_H

#include <stdio.h>
#include <stdlib.h>

#include "ops/blas.h"

#ifdef GDL_HAVE_OPENBLAS
char *openblas_get_config(void);
char *openblas_get_corename(void);
#endif

static __attribute__((unused)) void print_blas(void) {
#if defined(GDL_HAVE_BLIS)
  bli_init(); /* bli_arch_query_id aborts before BLIS is initialised when BLIS_ARCH_TYPE is set */
  printf("BLAS: BLIS %s, kernels '%s' (BLIS_ARCH_TYPE=%s)\n", bli_info_get_version_str(),
         bli_arch_string(bli_arch_query_id()),
         getenv("BLIS_ARCH_TYPE") ? getenv("BLIS_ARCH_TYPE") : "(unset)");
#elif defined(GDL_HAVE_OPENBLAS)
  printf("BLAS: %s (core %s)\n", openblas_get_config(), openblas_get_corename());
#else
  printf("BLAS: unknown\n");
#endif
  printf("OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s OMP_NUM_THREADS=%s\n",
         getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "(unset)",
         getenv("OPENBLAS_L2_SIZE") ? getenv("OPENBLAS_L2_SIZE") : "(unset)",
         getenv("OMP_NUM_THREADS") ? getenv("OMP_NUM_THREADS") : "(unset)");
}

#endif
