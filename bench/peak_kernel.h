/* The machine's peak: FMA-bound AVX-512 (and AVX2) loops with 12 independent
 * accumulator chains each, and a dependent-add chain that estimates the clock.
 * Shared by bench/peak.c (which prints them) and bench/bench_matmul.c (which
 * measures them again in its own process to give fractions of peak).
 *
 * Why 12 chains: an FMA has 4 cycles of latency and Sapphire Rapids issues two
 * per cycle (ports 0 and 5), so at least 8 chains must be in flight; 12 leave
 * slack for the loop's own instructions. */
#ifndef GDL_BENCH_PEAK_KERNEL_H
#define GDL_BENCH_PEAK_KERNEL_H

#include <immintrin.h>
#include <stdint.h>

#include "bench_util.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Values read through volatile so the compiler cannot fold the loops. Each
 * chain converges to the fixed point 1 (a*0.9999999 + 1e-7): no overflow, no
 * subnormals. */
static volatile float peak_mul_f = 0.9999999f, peak_add_f = 1e-7f;
static volatile double peak_mul_d = 0.9999999, peak_add_d = 1e-7;

#define PEAK_CHAINS 12
#define PEAK_FMA12(fma, acc, m, c)                                                         \
  acc[0] = fma(acc[0], m, c); acc[1] = fma(acc[1], m, c); acc[2] = fma(acc[2], m, c);     \
  acc[3] = fma(acc[3], m, c); acc[4] = fma(acc[4], m, c); acc[5] = fma(acc[5], m, c);     \
  acc[6] = fma(acc[6], m, c); acc[7] = fma(acc[7], m, c); acc[8] = fma(acc[8], m, c);     \
  acc[9] = fma(acc[9], m, c); acc[10] = fma(acc[10], m, c); acc[11] = fma(acc[11], m, c);

/* Each returns the FLOPs done (2 per lane per FMA) and stores a checksum. The
 * AVX-512 ones exist only where the build targets it (-march=native on an AVX2-only
 * CPU, such as AMD Zen 3, has no 512-bit registers). */
#ifdef __AVX512F__
static BENCH_UNUSED double peak_fma_zmm_f32(int64_t iters, float *sink) {
  __m512 acc[PEAK_CHAINS], m = _mm512_set1_ps(peak_mul_f), c = _mm512_set1_ps(peak_add_f);
  for (int k = 0; k < PEAK_CHAINS; k++) acc[k] = _mm512_set1_ps(1.0f + 0.01f * (float)k);
  for (int64_t i = 0; i < iters; i++) {
    PEAK_FMA12(_mm512_fmadd_ps, acc, m, c)
  }
  __m512 s = acc[0];
  for (int k = 1; k < PEAK_CHAINS; k++) s = _mm512_add_ps(s, acc[k]);
  *sink = _mm512_reduce_add_ps(s);
  return (double)iters * PEAK_CHAINS * 16 * 2;
}

static BENCH_UNUSED double peak_fma_zmm_f64(int64_t iters, double *sink) {
  __m512d acc[PEAK_CHAINS], m = _mm512_set1_pd(peak_mul_d), c = _mm512_set1_pd(peak_add_d);
  for (int k = 0; k < PEAK_CHAINS; k++) acc[k] = _mm512_set1_pd(1.0 + 0.01 * (double)k);
  for (int64_t i = 0; i < iters; i++) {
    PEAK_FMA12(_mm512_fmadd_pd, acc, m, c)
  }
  __m512d s = acc[0];
  for (int k = 1; k < PEAK_CHAINS; k++) s = _mm512_add_pd(s, acc[k]);
  *sink = _mm512_reduce_add_pd(s);
  return (double)iters * PEAK_CHAINS * 8 * 2;
}
#endif

static BENCH_UNUSED double peak_fma_ymm_f32(int64_t iters, float *sink) {
  __m256 acc[PEAK_CHAINS], m = _mm256_set1_ps(peak_mul_f), c = _mm256_set1_ps(peak_add_f);
  for (int k = 0; k < PEAK_CHAINS; k++) acc[k] = _mm256_set1_ps(1.0f + 0.01f * (float)k);
  for (int64_t i = 0; i < iters; i++) {
    PEAK_FMA12(_mm256_fmadd_ps, acc, m, c)
  }
  float out[8], s = 0;
  for (int k = 0; k < PEAK_CHAINS; k++) {
    _mm256_storeu_ps(out, acc[k]);
    for (int j = 0; j < 8; j++) s += out[j];
  }
  *sink = s;
  return (double)iters * PEAK_CHAINS * 8 * 2;
}

static BENCH_UNUSED double peak_fma_ymm_f64(int64_t iters, double *sink) {
  __m256d acc[PEAK_CHAINS], m = _mm256_set1_pd(peak_mul_d), c = _mm256_set1_pd(peak_add_d);
  for (int k = 0; k < PEAK_CHAINS; k++) acc[k] = _mm256_set1_pd(1.0 + 0.01 * (double)k);
  for (int64_t i = 0; i < iters; i++) {
    PEAK_FMA12(_mm256_fmadd_pd, acc, m, c)
  }
  double out[4], s = 0;
  for (int k = 0; k < PEAK_CHAINS; k++) {
    _mm256_storeu_pd(out, acc[k]);
    for (int j = 0; j < 4; j++) s += out[j];
  }
  *sink = s;
  return (double)iters * PEAK_CHAINS * 4 * 2;
}

enum { PEAK_ZMM_F32, PEAK_ZMM_F64, PEAK_YMM_F32, PEAK_YMM_F64 };
/* the widest vectors the build targets: the machine's peak */
#ifdef __AVX512F__
#define PEAK_WIDE_F32 PEAK_ZMM_F32
#define PEAK_WIDE_F64 PEAK_ZMM_F64
#define PEAK_WIDE_BITS 512
#else
#define PEAK_WIDE_F32 PEAK_YMM_F32
#define PEAK_WIDE_F64 PEAK_YMM_F64
#define PEAK_WIDE_BITS 256
#endif

static BENCH_UNUSED double peak_run_one(int kind, int64_t iters) {
  float sf;
  double sd, flops;
  switch (kind) {
#ifdef __AVX512F__
    case PEAK_ZMM_F32: flops = peak_fma_zmm_f32(iters, &sf); sd = sf; break;
    case PEAK_ZMM_F64: flops = peak_fma_zmm_f64(iters, &sd); break;
#endif
    case PEAK_YMM_F32: flops = peak_fma_ymm_f32(iters, &sf); sd = sf; break;
    default: flops = peak_fma_ymm_f64(iters, &sd); break; /* and PEAK_ZMM_* without AVX-512 */
  }
  if (sd == 12345.678) flops += 1; /* keep the checksum alive */
  return flops;
}

/* Best-of-`reps` GFLOP/s of kernel `kind` on `threads` threads (each thread runs
 * the same loop; wall time of the whole parallel region). */
static BENCH_UNUSED double peak_gflops(int kind, int threads, int64_t iters, int reps) {
  double best = 0;
  for (int r = 0; r < reps; r++) {
    double flops = 0, t0 = bench_now();
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(+ : flops)
    flops += peak_run_one(kind, iters);
#else
    (void)threads;
    flops = peak_run_one(kind, iters);
#endif
    double dt = bench_now() - t0, g = flops / dt * 1e-9;
    if (g > best) best = g;
  }
  return best;
}

/* Clock estimate: a chain of dependent 1-cycle register-register adds, 100 per
 * iteration (add-immediate chains are folded at rename on Golden Cove and would
 * read several times too fast). */
static BENCH_UNUSED double peak_clock_ghz(void) {
  int64_t iters = 20000000;
  double best = 0;
  for (int r = 0; r < 5; r++) {
    uint64_t x = 0, one = 1;
    double t0 = bench_now();
    for (int64_t i = 0; i < iters; i++) {
      __asm__ volatile(
          ".rept 100\n\t"
          "addq %1, %0\n\t"
          ".endr"
          : "+r"(x)
          : "r"(one));
    }
    double dt = bench_now() - t0, g = (double)iters * 100 / dt * 1e-9;
    if (x != (uint64_t)iters * 100) g = 0;
    if (g > best) best = g;
  }
  return best;
}

#endif
