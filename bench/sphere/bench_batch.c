/* A batch of maps in one call against the same maps one call each (gdl only): the
 * fastest of REPS rounds of each, forward and inverse, plan creation excluded.
 *
 *   bench_batch SAMPLING L SPIN NB THREADS REPS   (spin 0: real maps, as bench_sht)
 * Prints: BATCH <sampling> <L> <spin> <nb> <threads> <fwd singles ms> <fwd batch ms>
 *         <inv singles ms> <inv batch ms> */
#include <stdio.h>
#include <stdlib.h>

#include "../bench_util.h"
#include "gdl.h"

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: bench_batch SAMPLING L SPIN NB THREADS REPS\n");
    return 2;
  }
  int kind = gdl_sampling_parse(argv[1]), L = atoi(argv[2]), spin = atoi(argv[3]), nb = atoi(argv[4]);
  int th = atoi(argv[5]), reps = atoi(argv[6]);
  gdl_set_threads(th);
  gdl_sampling *s = gdl_sampling_new(kind, L, L / 2);
  gdl_sht_plan *p = s && nb > 0 ? gdl_sht_plan_create(s, L, spin, spin ? 0 : GDL_SHT_REAL) : NULL;
  if (!p) {
    fprintf(stderr, "bench_batch: %s\n", nb > 0 ? gdl_last_error() : "NB must be positive");
    return 1;
  }
  int64_t na = 2 * (int64_t)L * L, nm = s->npix * (spin ? 2 : 1);
  double *a = malloc((size_t)(nb * na) * sizeof(double)), *f = malloc((size_t)(nb * nm) * sizeof(double));
  if (!a || !f) {
    fprintf(stderr, "bench_batch: out of memory\n");
    return 1;
  }
  gdl_rng r = gdl_rng_make(1);
  for (int64_t i = 0; i < nb * nm; i++) f[i] = gdl_rng_uniform(&r) - 0.5;
  gdl_sht_forward(p, f, a, nb); /* warm-up, and coefficients for the inverse */
  double best[4] = {1e30, 1e30, 1e30, 1e30};
  for (int k = 0; k < reps; k++) {
    double t[5];
    t[0] = bench_now();
    for (int c = 0; c < nb; c++) gdl_sht_forward(p, f + c * nm, a + c * na, 1);
    t[1] = bench_now();
    gdl_sht_forward(p, f, a, nb);
    t[2] = bench_now();
    for (int c = 0; c < nb; c++) gdl_sht_inverse(p, a + c * na, f + c * nm, 1);
    t[3] = bench_now();
    gdl_sht_inverse(p, a, f, nb);
    t[4] = bench_now();
    for (int i = 0; i < 4; i++)
      if (t[i + 1] - t[i] < best[i]) best[i] = t[i + 1] - t[i];
  }
  printf("BATCH %s %d %d %d %d %.1f %.1f %.1f %.1f\n", argv[1], L, spin, nb, th, 1e3 * best[0], 1e3 * best[1],
         1e3 * best[2], 1e3 * best[3]);
  free(a), free(f);
  gdl_sht_plan_destroy(p), gdl_sampling_free(s);
  return 0;
}
