/* One thread count for gdl's OpenMP loops and for OpenBLAS (its OpenMP flavour
 * shares the pool, so the two never oversubscribe the cores). */
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
  openblas_set_num_threads(n);
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
