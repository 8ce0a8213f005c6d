/* This machine's peak: float32/float64 FLOP/s per core and on all cores from an
 * FMA-bound loop (AVX-512 where the build targets it, and AVX2), and memory bandwidth from
 * a STREAM-triad-like loop over arrays far larger than the caches.
 *
 *   peak [threads]       threads: the "all cores" count (default: every core)
 *
 * Lines starting with "PEAK" are for scripts: PEAK <what> <threads> <value>. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peak_kernel.h"

/* a[i] = b[i] + s * c[i]; STREAM counts 3 * 8 bytes per element (the write
 * allocate of a[] is not counted, as in STREAM). Returns best GB/s. */
static double triad_gbs(double *a, const double *b, const double *c, int64_t n, int threads,
                        int reps) {
  double best = 0, s = 3.0;
  for (int r = 0; r < reps; r++) {
    double t0 = bench_now();
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t i = 0; i < n; i++) a[i] = b[i] + s * c[i];
    double dt = bench_now() - t0, g = 24.0 * (double)n / dt * 1e-9;
    if (g > best) best = g;
  }
  return best;
}

/* Read-only bandwidth: sum of one array (8 bytes per element). */
static double read_gbs(const double *b, int64_t n, int threads, int reps, double *sink) {
  double best = 0;
  for (int r = 0; r < reps; r++) {
    double sum = 0, t0 = bench_now();
#pragma omp parallel for simd schedule(static) num_threads(threads) reduction(+ : sum)
    for (int64_t i = 0; i < n; i++) sum += b[i];
    double dt = bench_now() - t0, g = 8.0 * (double)n / dt * 1e-9;
    *sink += sum;
    if (g > best) best = g;
  }
  return best;
}

int main(int argc, char **argv) {
  int all = 1;
#ifdef _OPENMP
  all = omp_get_num_procs();
#endif
  if (argc > 1) all = atoi(argv[1]);
  if (all < 1) all = 1;

  double ghz = peak_clock_ghz();
  printf("clock (dependent integer adds, 1 thread): %.2f GHz\n", ghz);
  printf("PEAK clock_ghz 1 %.3f\n", ghz);
  printf("nominal at that clock with two %d-bit FMA units: %.0f GFLOP/s float32, %.0f float64 per core\n",
         PEAK_WIDE_BITS, ghz * PEAK_WIDE_BITS / 8, ghz * PEAK_WIDE_BITS / 16);

  /* ~0.1 s per measurement at ~3 GHz (2 FMAs/cycle, 12 per iteration); best of
   * 10, so that a neighbour's burst of work on the machine does not set the peak. */
  const int64_t iters = 50000000;
  static const struct { int kind; const char *name; } kinds[] = {
#ifdef __AVX512F__ /* first: scripts take the first f64 line as the peak */
      {PEAK_ZMM_F32, "f32_avx512"}, {PEAK_ZMM_F64, "f64_avx512"},
#endif
      {PEAK_YMM_F32, "f32_avx2"},   {PEAK_YMM_F64, "f64_avx2"}};
  enum { NK = sizeof kinds / sizeof kinds[0] };
  int tlist[2] = {1, all};
  int nt = all > 1 ? 2 : 1;
  double pk[NK][2];
  for (int k = 0; k < NK; k++) {
    for (int t = 0; t < nt; t++) pk[k][t] = peak_gflops(kinds[k].kind, tlist[t], iters, 10);
    if (nt == 1) pk[k][1] = pk[k][0];
  }
  char col[32];
  snprintf(col, sizeof col, "%d threads", all);
  printf("\nFMA-bound loops, GFLOP/s (best of 10 runs of 0.1 s)\n");
  printf("%-12s %10s %10s %16s\n", "kernel", "1 thread", col, "FLOP/cycle/core");
  for (int k = 0; k < NK; k++) {
    printf("%-12s %10.1f %10.1f %16.1f\n", kinds[k].name, pk[k][0], pk[k][1], pk[k][0] / ghz);
    printf("PEAK %s 1 %.2f\n", kinds[k].name, pk[k][0]);
    printf("PEAK %s %d %.2f\n", kinds[k].name, all, pk[k][1]);
  }

  /* Bandwidth: 3 arrays of 80 Mi doubles (640 MiB each, 1.9 GiB in all), far
   * beyond any cache this machine reports (the VM claims a 300 MiB L3). */
  int64_t n = (int64_t)80 << 20;
  if (getenv("PEAK_STREAM_MI")) n = (int64_t)atoi(getenv("PEAK_STREAM_MI")) << 20;
  double *a = aligned_alloc(64, (size_t)n * 8), *b = aligned_alloc(64, (size_t)n * 8),
         *c = aligned_alloc(64, (size_t)n * 8);
  if (!a || !b || !c) {
    fprintf(stderr, "peak: out of memory for %lld-element arrays\n", (long long)n);
    return 1;
  }
#pragma omp parallel for schedule(static) num_threads(all)
  for (int64_t i = 0; i < n; i++) { /* first touch by the threads that use it */
    a[i] = 0;
    b[i] = 1.0 + (double)(i & 7);
    c[i] = 0.5;
  }
  double sink = 0;
  printf("\nmemory (arrays of %lld doubles, %.0f MiB each)\n", (long long)n, (double)n * 8 / (1 << 20));
  for (int t = 0; t < nt; t++) {
    double tr = triad_gbs(a, b, c, n, tlist[t], 5), rd = read_gbs(b, n, tlist[t], 5, &sink);
    printf("  %d thread%s: triad %.1f GB/s (24 B/element, STREAM convention), read %.1f GB/s\n",
           tlist[t], tlist[t] > 1 ? "s" : "", tr, rd);
    printf("PEAK triad_gbs %d %.2f\n", tlist[t], tr);
    printf("PEAK read_gbs %d %.2f\n", tlist[t], rd);
  }
  if (sink == 1.2345) printf("%g\n", a[n / 2]);
  free(a);
  free(b);
  free(c);
  return 0;
}
