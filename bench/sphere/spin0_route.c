/* A study, not part of gdl: spin-s transforms through spin 0 (bench/RESULTS.md, "Sphere
 * (issue 5)"). With d^1_{0,1}(t) = sin t / sqrt 2 and the Clebsch-Gordan series of a
 * product of Wigner d functions, applied s times,
 *   sin^s t d^l_{m,-s}(t) = sum_{J = l-s}^{l+s} c_J d^J_{m,0}(t)      (the same m),
 * so a spin-s analysis is a spin 0 analysis of F_m(t) / sin^s t (degrees up to L-1+s)
 * followed by a banded combination in l, and a synthesis the reverse. This checks the
 * identity and measures both routes' errors against the direct sums on a GL grid, by
 * |m|, with every value from gdl_wigner_d_column (O(L^3): L = 1024 takes about a minute).
 *
 *   spin0_route L s */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "gdl.h"

/* <1 q; j m2 | J q+m2>, q in {-1, 0, 1} */
static double cg1(int q, int j, int m2, int J) {
  double l = j, M = q + m2;
  if (abs(m2) > j || fabs(M) > J) return 0;
  if (J == j + 1) {
    if (q == 1) return sqrt((l + M) * (l + M + 1) / ((2 * l + 1) * (2 * l + 2)));
    if (q == 0) return sqrt((l - M + 1) * (l + M + 1) / ((2 * l + 1) * (l + 1)));
    return sqrt((l - M) * (l - M + 1) / ((2 * l + 1) * (2 * l + 2)));
  }
  if (J == j && j > 0) {
    if (q == 1) return -sqrt((l + M) * (l - M + 1) / (2 * l * (l + 1)));
    if (q == 0) return M / sqrt(l * (l + 1));
    return sqrt((l - M) * (l + M + 1) / (2 * l * (l + 1)));
  }
  if (J == j - 1) {
    if (q == 1) return sqrt((l - M) * (l - M + 1) / (2 * l * (2 * l + 1)));
    if (q == 0) return -sqrt((l - M) * (l + M) / (l * (2 * l + 1)));
    return sqrt((l + M + 1) * (l + M) / (2 * l * (2 * l + 1)));
  }
  return 0;
}

#define SMAX 8

/* c[J - l + s], J = l-s .. l+s, for lam^s_lm = N_l d^l_{m,-s} in terms of lam^0_Jm =
 * N_J d^J_{m,0} (N_l = sqrt((2l+1)/4pi)): sin^s t lam^s_lm = sum_J c lam^0_Jm */
static void route_coeffs(int l, int m, int s, double *c) {
  double a[2 * SMAX + 1] = {0}, b[2 * SMAX + 1];
  a[s] = 1;
  for (int n = -s; n < 0; n++) { /* sin t d^J_{m,n} = sqrt 2 sum <1 0; J m|J' m> <1 1; J n|J' n+1> d^J'_{m,n+1} */
    for (int i = 0; i <= 2 * s; i++) b[i] = 0;
    for (int i = 0; i <= 2 * s; i++) {
      int J = l - s + i;
      for (int k = i - 1; k <= i + 1; k++)
        if (a[i] != 0 && k >= 0 && k <= 2 * s) b[k] += sqrt(2.0) * a[i] * cg1(0, J, m, l - s + k) * cg1(1, J, n, l - s + k);
    }
    for (int i = 0; i <= 2 * s; i++) a[i] = b[i];
  }
  for (int i = 0; i <= 2 * s; i++) {
    int J = l - s + i;
    c[i] = J >= abs(m) ? a[i] * sqrt((2.0 * l + 1) / (2.0 * J + 1)) : 0;
  }
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: spin0_route L s\n");
    return 2;
  }
  int L = atoi(argv[1]), s = atoi(argv[2]), Lx = L + s;
  if (L < 2 || s < 1 || s > SMAX || s >= L) {
    fprintf(stderr, "spin0_route: need 2 <= L, 1 <= s <= %d, s < L\n", SMAX);
    return 2;
  }
  gdl_sampling *S = gdl_sampling_new(GDL_SAMPLING_GL, L, 0);
  int nr = (int)S->nring;
  double *dP = malloc((size_t)nr * Lx * sizeof(double)), *d0 = malloc((size_t)nr * Lx * sizeof(double));
  double *a = malloc(L * sizeof(double)), *ad = malloc(L * sizeof(double)), *ar = malloc(L * sizeof(double));
  double *F = malloc(nr * sizeof(double)), *b = malloc(Lx * sizeof(double));
  double (*C)[2 * SMAX + 1] = malloc((size_t)L * sizeof *C); /* route_coeffs per l */
  double *norm = malloc(Lx * sizeof(double)), *sins = malloc(nr * sizeof(double)); /* N_l; sin^s t per ring */
  if (!S || !dP || !d0 || !a || !ad || !ar || !F || !b || !C || !norm || !sins) {
    fprintf(stderr, "spin0_route: out of memory\n");
    return 1;
  }
  for (int l = 0; l < Lx; l++) norm[l] = sqrt((2 * l + 1) / (4 * M_PI));
  for (int j = 0; j < nr; j++) sins[j] = pow(sin(S->theta[j]), s);
  /* |m| classes: <= s, <= 4s, <= L/16, < L/2, the rest */
  int edge[4] = {s, 4 * s, L / 16, L / 2 - 1};
  double eid = 0, ea[5] = {0}, eat[5] = {0}, esy[5] = {0}, amax = 0, fmax_ = 0;
  int used[5] = {0};
  srand(7);
  for (int m = -(L - 1); m < L; m++) {
    int am = abs(m), l0 = am > s ? am : s, k = 0;
    while (k < 4 && am > edge[k]) k++;
    used[k] = 1;
    for (int j = 0; j < nr; j++) {
      gdl_wigner_d_column(Lx, m, -s, S->theta[j], dP + (size_t)j * Lx);
      gdl_wigner_d_column(Lx, m, 0, S->theta[j], d0 + (size_t)j * Lx);
    }
    for (int l = 0; l < L; l++) a[l] = l >= l0 ? rand() / (double)RAND_MAX - 0.5 : 0, amax = fmax(amax, fabs(a[l]));
    for (int l = l0; l < L; l++) route_coeffs(l, m, s, C[l]);
    /* the identity on the grid's rings */
    for (int j = 0; j < nr; j++)
      for (int l = l0; l < L; l++) {
        double r = 0;
        for (int i = 0; i <= 2 * s; i++) r += C[l][i] * norm[l - s + i] * d0[(size_t)j * Lx + l - s + i];
        eid = fmax(eid, fabs(sins[j] * norm[l] * dP[(size_t)j * Lx + l] - r));
      }
    /* synthesis: direct, and through spin 0 (b_J = sum_l c a_l; F = sum_J b_J lam^0_J / sin^s) */
    for (int J = 0; J < Lx; J++) b[J] = 0;
    for (int l = l0; l < L; l++)
      for (int i = 0; i <= 2 * s; i++) b[l - s + i] += C[l][i] * a[l];
    for (int j = 0; j < nr; j++) {
      double f = 0, g = 0;
      for (int l = l0; l < L; l++) f += a[l] * norm[l] * dP[(size_t)j * Lx + l];
      for (int J = am; J < Lx; J++) g += b[J] * norm[J] * d0[(size_t)j * Lx + J];
      F[j] = f, fmax_ = fmax(fmax_, fabs(f));
      esy[k] = fmax(esy[k], fabs(g / sins[j] - f));
    }
    /* analysis of F: direct, and through spin 0 (b_J = sum_j w_j F_j / sin^s lam^0_J) */
    for (int l = 0; l < L; l++) ad[l] = ar[l] = 0;
    for (int J = 0; J < Lx; J++) b[J] = 0;
    for (int j = 0; j < nr; j++) {
      double w = S->weight[j] * S->nphi[j], g = F[j] / sins[j];
      for (int l = l0; l < L; l++) ad[l] += w * F[j] * norm[l] * dP[(size_t)j * Lx + l];
      for (int J = am; J < Lx; J++) b[J] += w * g * norm[J] * d0[(size_t)j * Lx + J];
    }
    for (int l = l0; l < L; l++) {
      for (int i = 0; i <= 2 * s; i++) ar[l] += C[l][i] * b[l - s + i];
      ea[k] = fmax(ea[k], fabs(ad[l] - a[l])), eat[k] = fmax(eat[k], fabs(ar[l] - a[l]));
    }
  }
  printf("GL L = %d, spin %d: identity on the rings %.1e\n", L, s, eid);
  printf("|m| class          <= s     <= 4s    <= L/16  < L/2    rest\n");
  const char *name[3] = {"analysis, direct   ", "analysis, spin 0   ", "synthesis, spin 0  "};
  const double *e[3] = {ea, eat, esy}, scale[3] = {amax, amax, fmax_};
  for (int r = 0; r < 3; r++) {
    printf("%s", name[r]);
    for (int k = 0; k < 5; k++) used[k] ? printf("%.1e  ", e[r][k] / scale[r]) : printf("   -     ");
    printf("\n");
  }
  printf("(analysis: max |a' - a| / max |a| of the synthesised F; synthesis: against the direct sums, / max |F|)\n");
  free(dP), free(d0), free(a), free(ad), free(ar), free(F), free(b), free(C), free(norm), free(sins);
  gdl_sampling_free(S);
  return 0;
}
