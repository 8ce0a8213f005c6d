/* Times gdl's SHT: median of forward and inverse over reps runs (plan creation and
 * data generation excluded), one map.
 *
 *   bench_sht SAMPLING L SPIN THREADS REPS    (SAMPLING: mw mwss gl dh cc healpix;
 *                                              healpix uses nside = L/2, lmax = L-1)
 * Spin 0 runs real maps (m >= 0, as ducc0/healpy do); spin != 0 complex maps.
 * Prints: SHT <sampling> <L> <spin> <threads> <nrings> <inverse ms> <forward ms> <rt err> */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../bench_util.h"
#include "gdl.h"

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: bench_sht SAMPLING L SPIN THREADS REPS\n");
    return 2;
  }
  int kind = gdl_sampling_parse(argv[1]), L = atoi(argv[2]), spin = atoi(argv[3]), th = atoi(argv[4]),
      reps = atoi(argv[5]);
  gdl_set_threads(th);
  gdl_sampling *s = gdl_sampling_new(kind, L, L / 2);
  unsigned fl = spin ? 0 : GDL_SHT_REAL;
  gdl_sht_plan *p = s ? gdl_sht_plan_create(s, L, spin, fl) : NULL;
  if (!p) {
    fprintf(stderr, "bench_sht: %s\n", gdl_last_error());
    return 1;
  }
  int64_t L2 = (int64_t)L * L, nm = s->npix * (spin ? 2 : 1);
  double *a = calloc(2 * L2, sizeof(double)), *b = calloc(2 * L2, sizeof(double)), *f = malloc(nm * sizeof(double));
  gdl_rng r = gdl_rng_make(1);
  for (int l = abs(spin); l < L; l++)
    for (int m = spin ? -l : 0; m <= l; m++) {
      a[2 * (l * l + l + m)] = gdl_rng_uniform(&r) - 0.5;
      a[2 * (l * l + l + m) + 1] = m || spin ? gdl_rng_uniform(&r) - 0.5 : 0;
    }
  double *ti = malloc(reps * sizeof(double)), *tf = malloc(reps * sizeof(double));
  gdl_sht_inverse(p, a, f, 1); /* warm-up: first touch of the buffers */
  for (int k = 0; k < reps; k++) {
    double t0 = bench_now();
    gdl_sht_inverse(p, a, f, 1);
    double t1 = bench_now();
    gdl_sht_forward(p, f, b, 1);
    double t2 = bench_now();
    ti[k] = t1 - t0, tf[k] = t2 - t1;
  }
  double e = 0, mx = 0;
  for (int l = abs(spin); l < L; l++)
    for (int m = spin ? -l : 0; m <= l; m++)
      for (int c = 0; c < 2; c++) {
        int64_t i = 2 * (l * l + l + m) + c;
        e = fmax(e, fabs(a[i] - b[i])), mx = fmax(mx, fabs(a[i]));
      }
  printf("SHT %s %d %d %d %lld %.3f %.3f %.2e\n", argv[1], L, spin, th, (long long)s->nring,
         1e3 * bench_median(ti, reps), 1e3 * bench_median(tf, reps), e / mx);
  free(a), free(b), free(f), free(ti), free(tf);
  gdl_sht_plan_destroy(p), gdl_sampling_free(s);
  return 0;
}
