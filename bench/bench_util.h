/* Small helpers shared by the benchmark programs: a monotonic clock, medians,
 * and "1,2"-style lists of thread counts. */
#ifndef GDL_BENCH_UTIL_H
#define GDL_BENCH_UTIL_H

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_UNUSED __attribute__((unused))

static BENCH_UNUSED double bench_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static BENCH_UNUSED int bench_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median of v[0..n) (v is left untouched). */
static BENCH_UNUSED double bench_median(const double *v, int n) {
  double *w = malloc((size_t)n * sizeof *w);
  if (!w) abort();
  memcpy(w, v, (size_t)n * sizeof *w);
  qsort(w, (size_t)n, sizeof *w, bench_cmp_double);
  double m = n % 2 ? w[n / 2] : 0.5 * (w[n / 2 - 1] + w[n / 2]);
  free(w);
  return m;
}

/* Parses "1,2" into out[0..max); returns the count (at least one entry). */
static BENCH_UNUSED int bench_parse_threads(char *s, int *out, int max) {
  int n = 0;
  for (char *p = strtok(s, ","); p && n < max; p = strtok(NULL, ",")) {
    int v = atoi(p);
    if (v > 0) out[n++] = v;
  }
  if (!n) out[n++] = 1;
  return n;
}

#endif
