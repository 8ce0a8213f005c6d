/* Spin s != 0 through spin 0, for m >= p->route_m. With d^1_{0,1}(t) = sin t / sqrt 2
 * and the Clebsch-Gordan series of a product of Wigner d functions,
 *   sin t lam^(n)_J(t) = e+_J lam^(n+1)_{J+1} + e0_J lam^(n+1)_J + e-_J lam^(n+1)_{J-1}
 * for n < 0 and the same m (lam^(n)_J = sqrt((2J+1)/4pi) d^J_{m,n}); |s| such steps
 * write sin^|s| t lam^s_lm as a banded combination of lam^0_Jm, J = l-|s| .. l+|s|. So
 * a spin s adjoint is legendre0.c's spin 0 adjoint of F_m / sin^|s| t over degrees
 * J < L + |s|, followed by |s| tridiagonal steps in J; the synthesis is the transpose.
 * That costs about half the arithmetic of legendre.c's two columns recursed in cos t
 * (ducc0 0.42 runs its spin transforms through its spin 0 kernel too: bench/RESULTS.md).
 * With mu the column's signed m and nu = -n, the steps (in lam's normalisation,
 * N_J = sqrt(2J+1)) are
 *   e+_J = sqrt((J-mu+1)(J+mu+1)(J-nu+1)(J-nu+2)) / ((2J+1)(J+1)) N_J / N_{J+1}
 *   e0_J = -mu sqrt((J-nu+1)(J+nu)) / (J(J+1))
 *   e-_J = -sqrt((J-mu)(J+mu)(J+nu-1)(J+nu)) / (J(2J+1)) N_J / N_{J-1}
 * and for s < 0 (d^J_{m,n} with n > 0, by d^J_{m,n} = (-1)^(m-n) d^J_{-m,-n}) the same
 * with e+ and e- negated. Dividing by sin^|s| t loses accuracy where F_m is not small
 * near the poles, at small m (bench/sphere/spin0_route.c: 3e-11 at |m| <= 2, GL
 * L = 1024 spin 2): those m keep legendre.c's kernels. At the poles lam^s_lm = 0 for
 * |m| != |s|, so pole rings have scale 0. */
#include <stdlib.h>

#include "sphere/legendre.h"

#define ROUTE_SMAX 4 /* larger spins keep legendre.c's kernels everywhere */

/* p->route: per order nu = 1 .. |s|, three rows of L + |s| + 1 (J = 0 .. L + |s|):
 * e+ and e- without their m-dependent square roots, e0 without -mu. p->pis: 1 / sin^|s|
 * t per ring pair (0 at the poles and on the padding). */
gdl_status gdl__route_setup(gdl_sht_plan *p) {
  int L = p->L, sg = abs(p->spin), Lx = L + sg;
  p->route_m = L;
  if (sg > ROUTE_SMAX) return GDL_OK;
  /* m from here on: where the route's round trip error by m is no larger than the
   * direct kernels' largest (at small m; bench/RESULTS.md), L/64 at spins 1 and 2,
   * L/16 at 3, L/8 at 4 */
  static const int shift[ROUTE_SMAX + 1] = {0, 6, 6, 4, 3};
  p->route_m = (L >> shift[sg]) > 4 * sg ? L >> shift[sg] : 4 * sg;
  if (p->route_m >= L) return GDL_OK;
  p->route = calloc((size_t)sg * 3 * (Lx + 1), sizeof(double));
  p->pis = malloc((size_t)p->npair_pad * sizeof(double));
  if (!p->route || !p->pis) return gdl_error(GDL_ERR_NOMEM, "sht: out of memory");
  const double *sq = p->sqrt_tab;
  double sgn = p->spin < 0 ? -1 : 1;
  for (int nu = 1; nu <= sg; nu++) {
    double *U = p->route + (size_t)(nu - 1) * 3 * (Lx + 1), *D = U + Lx + 1, *W = D + Lx + 1;
    for (int J = nu; J <= Lx; J++) { /* (zero below: the steps run at J >= m > |s| only) */
      U[J] = sgn * sq[J - nu + 1] * sq[J - nu + 2] / ((2.0 * J + 1) * (J + 1)) * sq[2 * J + 1] / sq[2 * J + 3];
      D[J] = -sq[J - nu + 1] * sq[J + nu] / ((double)J * (J + 1));
      W[J] = -sgn * sq[J + nu - 1] * sq[J + nu] / ((double)J * (2 * J + 1)) * sq[2 * J + 1] / sq[2 * J - 1];
    }
  }
  for (int64_t q = 0; q < p->npair_pad; q++) p->pis[q] = p->pz[q] > 0 ? pow(p->pz[q], -0.5 * sg) : 0;
  return GDL_OK;
}

/* order nu's steps for m at j0 <= J < j1 into w->up, dg, dn (e0 still without mu) */
static void step_coeffs(const gdl_sht_plan *p, work *w, int m, int nu, int j0, int j1) {
  int Lx = p->L + abs(p->spin);
  const double *sq = p->sqrt_tab, *U = p->route + (size_t)(nu - 1) * 3 * (Lx + 1), *D = U + Lx + 1, *W = D + Lx + 1;
  for (int J = j0; J < j1; J++) {
    w->up[J] = sq[J - m + 1] * sq[J + m + 1] * U[J];
    w->dg[J] = D[J];
    w->dn[J] = sq[J - m] * sq[J + m] * W[J];
  }
}

/* the route's buffer as legendre0.c's kernels see it: b_J of m at 4 J, of -m 2 further */
static col0 route_cols(const gdl_sht_plan *p, const work *w, int m) {
  return (col0){p->L + abs(p->spin), gdl__start0(p, m), p->pis, w->bt, 4, 2, 4 * (int64_t)w->Lpad};
}

void gdl__adj_route(const gdl_sht_plan *p, work *w, int m, bool neg, const double *leg, double *am) {
  int L = p->L, sg = abs(p->spin), Lx = L + sg;
  col0 k = route_cols(p, w, m);
  gdl__adj_m0(p, w, m, neg, leg, &k); /* b_J, m <= J < Lx */
  /* B^(nu)_J = e+_J B^(nu-1)_{J+1} + e0_J B^(nu-1)_J + e-_J B^(nu-1)_{J-1}, m <= J < Lx - nu
   * (B^(nu-1)_{m-1} = 0), in place going up in J */
  for (int nu = 1; nu <= sg; nu++) {
    int je = Lx - nu;
    step_coeffs(p, w, m, nu, m, je);
    for (int h = 0; h < (neg ? 2 : 1); h++) {
      double *B = w->bt + 2 * h, mu = h ? -m : m, pr = 0, pi = 0;
      for (int J = m; J < je; J++) {
        double cr = B[4 * J], ci = B[4 * J + 1], e0 = mu * w->dg[J];
        B[4 * J] = w->dn[J] * pr + e0 * cr + w->up[J] * B[4 * J + 4];
        B[4 * J + 1] = w->dn[J] * pi + e0 * ci + w->up[J] * B[4 * J + 5];
        pr = cr, pi = ci;
      }
    }
  }
  double sgs = (p->spin & 1) ? -1 : 1; /* F_m = (-1)^s sum a_lm lam^s_lm */
  for (int h = 0; h < (neg ? 2 : 1); h++) {
    const double *B = w->bt + 2 * h;
    double *a = am + 2 * h * MG;
    for (int l = m; l < L; l++) a[GROW * l] = sgs * B[4 * l], a[GROW * l + 1] = sgs * B[4 * l + 1];
  }
}

void gdl__synth_route(const gdl_sht_plan *p, work *w, int m, bool neg, const double *am, double *leg, int64_t nb) {
  int L = p->L, sg = abs(p->spin), Lx = L + sg;
  col0 k = route_cols(p, w, m);
  double sgs = (p->spin & 1) ? -1 : 1;
  for (int64_t c = 0; c < nb; c++) { /* A^(|s|)_l = (-1)^s a_lm, m <= l < L; zero up to Lx */
    double *B = w->bt + c * k.ldmap;
    const double *a = am + c * gdl__group_stride(L);
    for (int l = m; l < L; l++)
      for (int h = 0; h < (neg ? 2 : 1); h++)
        B[4 * l + 2 * h] = sgs * a[GROW * l + 2 * h * MG], B[4 * l + 2 * h + 1] = sgs * a[GROW * l + 2 * h * MG + 1];
    memset(B + 4 * L, 0, 4 * (size_t)(sg + 2) * sizeof(double));
  }
  /* the transposed steps, nu = |s| .. 1: A^(nu-1)_J = e+_{J-1} A^(nu)_{J-1} + e0_J A^(nu)_J
   * + e-_{J+1} A^(nu)_{J+1}, m <= J <= je with A^(nu) on m <= J < je */
  for (int nu = sg; nu >= 1; nu--) {
    int je = Lx - nu;
    step_coeffs(p, w, m, nu, m, je + 2);
    for (int64_t c = 0; c < nb; c++)
      for (int h = 0; h < (neg ? 2 : 1); h++) {
        double *B = w->bt + c * k.ldmap + 2 * h, mu = h ? -m : m, tr = 0, ti = 0; /* e+_{J-1} A_{J-1} */
        for (int J = m; J <= je; J++) {
          double cr = B[4 * J], ci = B[4 * J + 1], e0 = mu * w->dg[J];
          B[4 * J] = tr + e0 * cr + w->dn[J + 1] * B[4 * J + 4];
          B[4 * J + 1] = ti + e0 * ci + w->dn[J + 1] * B[4 * J + 5];
          tr = w->up[J] * cr, ti = w->up[J] * ci;
        }
      }
  }
  gdl__synth_m0(p, w, m, neg, &k, leg, nb);
}
