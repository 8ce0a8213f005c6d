/* One thread count for gdl's OpenMP loops and for BLAS. */
#include <stdlib.h>

#include "core/internal.h"

#ifdef GDL_HAVE_OPENBLAS
void openblas_set_num_threads(int n);
#endif

static int nthreads;

void gdl_set_threads(int n) {
#ifdef _OPENMP
  if (n <= 0) n = omp_get_num_procs();
  omp_set_num_threads(n);
#else
  n = 1;
#endif
#ifdef GDL_HAVE_OPENBLAS
  openblas_set_num_threads(n); /* its OpenMP flavour shares gdl's pool */
#endif
  nthreads = n;
}

int gdl_get_threads(void) {
#ifdef _OPENMP
  return nthreads ? nthreads : omp_get_max_threads();
#else
  return 1;
#endif
}

int gdl__blas_threads(void) {
#ifdef _OPENMP
  if (omp_in_parallel()) return 1;
#endif
  return gdl_get_threads();
}

#ifdef GDL_HAVE_BLIS
/* BLIS 0.9 picks its AVX2 'haswell' kernels on AVX-512 CPUs whose FMA-unit count
 * it does not know (e.g. Sapphire/Emerald Rapids): half the speed. It reads
 * BLIS_ARCH_TYPE lazily, at its first call, so choosing 'skx' here, before any
 * call, is enough. A user's own BLIS_ARCH_TYPE always wins. */
__attribute__((constructor)) static void choose_blis_kernels(void) {
  if (getenv("BLIS_ARCH_TYPE")) return;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    setenv("BLIS_ARCH_TYPE", "skx", 0);
}
#endif
