/* One thread count for gdl's OpenMP loops and for BLAS; per-thread scratch. */
#include <pthread.h>
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

/* Scratch buffers kept per thread (freed when the thread ends) and grown on demand:
 * kernels called thousands of times a second would otherwise pay a malloc, and for
 * large buffers fresh pages (page faults), every call. */
typedef struct {
  void *buf[GDL_SCRATCH_SLOTS];
  size_t cap[GDL_SCRATCH_SLOTS];
} scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p) {
  scratch *s = p;
  for (int i = 0; i < GDL_SCRATCH_SLOTS; i++) free(s->buf[i]);
  free(s);
}

static void scratch_init(void) {
  GDL_ASSERT(pthread_key_create(&scratch_key, scratch_free) == 0, "pthread_key_create failed");
}

void *gdl__scratch(int slot, size_t bytes) {
  pthread_once(&scratch_once, scratch_init);
  scratch *s = pthread_getspecific(scratch_key);
  if (!s) {
    s = calloc(1, sizeof *s);
    GDL_ASSERT(s && pthread_setspecific(scratch_key, s) == 0, "out of memory");
  }
  if (s->cap[slot] < bytes) {
    free(s->buf[slot]);
    s->cap[slot] = (bytes + 4095) / 4096 * 4096; /* (a multiple of aligned_alloc's alignment) */
    s->buf[slot] = aligned_alloc(64, s->cap[slot]);
    GDL_ASSERT(s->buf[slot], "out of memory allocating %zu bytes of scratch", s->cap[slot]);
  }
  return s->buf[slot];
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
