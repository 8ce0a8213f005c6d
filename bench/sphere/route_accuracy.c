/* The accuracy of spin s transforms through spin 0 (src/sphere/legendre_route.c) by |m|,
 * which sets where a plan starts taking that route (bench/RESULTS.md, "Sphere (issue
 * 5)"). Random coefficients are synthesised with the two-column kernels for every m,
 * then analysed twice: with those kernels again, and through spin 0 for every m > |s|
 * (the route needs no pole terms there). Printed per class of |m|: the largest
 * |a' - a| over the class, relative to the largest |a|, for each; and the m the plan
 * takes the route from by default.
 *
 *   route_accuracy SAMPLING L SPIN       (SAMPLING: gl, mw, mwss, dh, cc) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdl.h"
#include "sphere/sphere_internal.h"

int main(int argc, char **argv) {
  const char *names[] = {"mw", "mwss", "gl", "dh", "cc"};
  gdl_sampling_kind kinds[] = {GDL_SAMPLING_MW, GDL_SAMPLING_MWSS, GDL_SAMPLING_GL, GDL_SAMPLING_DH, GDL_SAMPLING_CC};
  int k = -1, L = argc == 4 ? atoi(argv[2]) : 0, spin = argc == 4 ? atoi(argv[3]) : 0, sg = abs(spin);
  for (int i = 0; argc == 4 && i < 5; i++)
    if (!strcmp(argv[1], names[i])) k = i;
  if (k < 0 || L < 2 || sg < 1 || sg >= L) {
    fprintf(stderr, "usage: route_accuracy gl|mw|mwss|dh|cc L SPIN   (L >= 2, 1 <= |SPIN| < L)\n");
    return 2;
  }
  gdl_sampling *s = gdl_sampling_new(kinds[k], L, 0);
  gdl_sht_plan *direct = s ? gdl_sht_plan_create(s, L, spin, 0) : NULL;
  gdl_sht_plan *route = s ? gdl_sht_plan_create(s, L, spin, 0) : NULL;
  int64_t nc = 2 * (int64_t)L * L, nm = s ? 2 * s->npix : 0;
  double *a = calloc(nc, sizeof(double)), *ad = malloc(nc * sizeof(double)), *ar = malloc(nc * sizeof(double));
  double *f = malloc(nm * sizeof(double)), *ed = calloc(L, sizeof(double)), *er = calloc(L, sizeof(double));
  if (!direct || !route || !a || !ad || !ar || !f || !ed || !er) {
    fprintf(stderr, "route_accuracy: %s\n", direct && route ? "out of memory" : gdl_last_error());
    return 1;
  }
  if (!route->route) { /* the plan's tables exist only when some m takes the route */
    fprintf(stderr, "route_accuracy: spin %d at L = %d never goes through spin 0\n", spin, L);
    return 1;
  }
  int route_m = route->route_m;
  direct->route_m = L, route->route_m = sg + 1;
  gdl_rng r = gdl_rng_make(1);
  double amax = 0;
  for (int l = sg; l < L; l++)
    for (int m = -l; m <= l; m++)
      for (int c = 0; c < 2; c++) a[2 * (l * l + l + m) + c] = gdl_rng_uniform(&r) - 0.5;
  for (int64_t i = 0; i < nc; i++) amax = fmax(amax, fabs(a[i]));
  gdl_sht_inverse(direct, a, f, 1);
  gdl_sht_forward(direct, f, ad, 1);
  gdl_sht_forward(route, f, ar, 1);
  for (int l = sg; l < L; l++)
    for (int m = -l; m <= l; m++)
      for (int c = 0; c < 2; c++) {
        int64_t i = 2 * (l * l + l + m) + c;
        ed[abs(m)] = fmax(ed[abs(m)], fabs(ad[i] - a[i]) / amax);
        er[abs(m)] = fmax(er[abs(m)], fabs(ar[i] - a[i]) / amax);
      }
  printf("%s L = %d spin %d: round trip error by |m| (the plan takes the route from m = %d)\n", names[k], L, spin,
         route_m);
  printf("|m| from  to    direct    through spin 0\n");
  for (int lo = sg + 1, hi; lo < L; lo = hi) {
    hi = lo < 2 * sg ? 2 * sg : 2 * lo; /* (s, 2s], then doubling */
    if (hi > L) hi = L;
    double x = 0, y = 0;
    for (int m = lo; m < hi; m++) x = fmax(x, ed[m]), y = fmax(y, er[m]);
    printf("%8d %5d    %.1e   %.1e\n", lo, hi - 1, x, y);
  }
  double x = 0;
  for (int m = 0; m <= sg && m < L; m++) x = fmax(x, ed[m]);
  printf("(|m| <= %d: %.1e, the two-column kernels in both)\n", sg, x);
  free(a), free(ad), free(ar), free(f), free(ed), free(er);
  gdl_sht_plan_destroy(direct), gdl_sht_plan_destroy(route), gdl_sampling_free(s);
  return 0;
}
