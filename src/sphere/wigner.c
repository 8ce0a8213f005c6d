/* Wigner d and D matrices and rotations of bandlimited signals.
 *
 * Risbo's recursion (J. Geodesy 70, 1996) builds d^j(beta) from d^{j-1/2} in
 * half-integer steps, each entry a sum of four terms with p = sin(beta/2),
 * q = cos(beta/2) and n = 2j (indices i = m + j, k = n' + j of the smaller matrix):
 *   d'[i][k]     += sqrt((n-i)(n-k))/n q d[i][k]
 *   d'[i+1][k]   -= sqrt((i+1)(n-k))/n p d[i][k]
 *   d'[i][k+1]   += sqrt((n-i)(k+1))/n p d[i][k]
 *   d'[i+1][k+1] += sqrt((i+1)(k+1))/n q d[i][k]
 * It is stable for every beta and l (no division by small numbers), O(l^2) a step. */
#include <stdlib.h>

#include "sphere/sphere_internal.h"

struct gdl_wigner_risbo {
  int lmax, l;
  double p, q;
  double *d, *t, *sq; /* (2 lmax + 2)^2 each; sq: sqrt(k) */
};

gdl_wigner_risbo *gdl_wigner_risbo_new(int lmax, double beta) {
  if (lmax < 0 || lmax > (1 << 14)) {
    gdl_error(GDL_ERR_ARG, "wigner_risbo: lmax must be in [0, 16384], got %d", lmax);
    return NULL;
  }
  gdl_wigner_risbo *r = calloc(1, sizeof *r);
  size_t n = (size_t)(2 * lmax + 2);
  if (r) {
    r->d = malloc(n * n * sizeof(double));
    r->t = malloc(n * n * sizeof(double));
    r->sq = malloc((2 * n + 2) * sizeof(double));
  }
  if (!r || !r->d || !r->t || !r->sq) {
    gdl_wigner_risbo_free(r);
    gdl_error(GDL_ERR_NOMEM, "wigner_risbo: out of memory for lmax %d", lmax);
    return NULL;
  }
  for (size_t k = 0; k < 2 * n + 2; k++) r->sq[k] = sqrt((double)k);
  r->lmax = lmax, r->l = -1;
  r->p = sin(beta / 2), r->q = cos(beta / 2);
  return r;
}

void gdl_wigner_risbo_free(gdl_wigner_risbo *r) {
  if (!r) return;
  free(r->d), free(r->t), free(r->sq);
  free(r);
}

/* d (n x n) -> out ((n+1) x (n+1)) */
static void half_step(const gdl_wigner_risbo *r, int n, const double *d, double *out) {
  int n1 = n + 1;
  memset(out, 0, (size_t)n1 * n1 * sizeof(double));
  const double *sq = r->sq;
  double inv = 1.0 / n, p = r->p, q = r->q;
  for (int i = 0; i < n; i++) {
    double a = sq[n - i] * inv, b = sq[i + 1] * inv;
    double *o0 = out + (size_t)i * n1, *o1 = o0 + n1;
    const double *di = d + (size_t)i * n;
    for (int k = 0; k < n; k++) {
      double v = di[k], c = sq[n - k], e = sq[k + 1];
      o0[k] += a * c * q * v;
      o1[k] -= b * c * p * v;
      o0[k + 1] += a * e * p * v;
      o1[k + 1] += b * e * q * v;
    }
  }
}

const double *gdl_wigner_risbo_next(gdl_wigner_risbo *r, int *l) {
  if (r->l >= r->lmax) return NULL;
  if (r->l < 0) {
    r->d[0] = 1, r->l = 0;
  } else {
    int n = 2 * r->l + 1; /* d^l is n x n */
    half_step(r, n, r->d, r->t);
    half_step(r, n + 1, r->t, r->d);
    r->l++;
  }
  if (l) *l = r->l;
  return r->d;
}

gdl_status gdl_wigner_d(int l, double beta, double *out) {
  if (l < 0) return gdl_error(GDL_ERR_ARG, "wigner_d: l must be >= 0, got %d", l);
  gdl_wigner_risbo *r = gdl_wigner_risbo_new(l, beta);
  if (!r) return GDL_ERR_NOMEM;
  const double *d = NULL;
  for (int k = 0; k <= l; k++) d = gdl_wigner_risbo_next(r, NULL);
  memcpy(out, d, (size_t)(2 * l + 1) * (2 * l + 1) * sizeof(double));
  gdl_wigner_risbo_free(r);
  return GDL_OK;
}

gdl_status gdl_wigner_D(int l, double alpha, double beta, double gamma, double *out) {
  int n = 2 * l + 1;
  double *d = malloc((size_t)n * n * sizeof(double));
  if (!d) return gdl_error(GDL_ERR_NOMEM, "wigner_D: out of memory");
  gdl_status st = gdl_wigner_d(l, beta, d);
  for (int m = -l; m <= l && !st; m++)
    for (int k = -l; k <= l; k++) {
      double v = d[(m + l) * n + k + l], ph = -(m * alpha + k * gamma);
      out[2 * ((m + l) * n + k + l)] = v * cos(ph);
      out[2 * ((m + l) * n + k + l) + 1] = v * sin(ph);
    }
  free(d);
  return st;
}

/* a'_lm = sum_n e^{-i m alpha} d^l_mn(beta) e^{-i n gamma} a_ln, l by l */
gdl_status gdl_sht_rotate(int L, const double *alm, double *out, double alpha, double beta, double gamma) {
  if (L < 1) return gdl_error(GDL_ERR_ARG, "sht_rotate: L must be >= 1, got %d", L);
  if (!alm || !out) return gdl_error(GDL_ERR_ARG, "sht_rotate: array is NULL");
  gdl_wigner_risbo *r = gdl_wigner_risbo_new(L - 1, beta);
  double *b = malloc((size_t)(2 * L + 1) * 4 * sizeof(double));
  if (!r || !b) {
    gdl_wigner_risbo_free(r), free(b);
    return gdl_error(GDL_ERR_NOMEM, "sht_rotate: out of memory");
  }
  double *c = b + 2 * (2 * L + 1);
  for (int l = 0; l < L; l++) {
    const double *d = gdl_wigner_risbo_next(r, NULL);
    int n = 2 * l + 1;
    int64_t o = (int64_t)l * l;
    for (int k = -l; k <= l; k++) { /* b_n = e^{-i n gamma} a_ln */
      double re = alm[2 * (o + l + k)], im = alm[2 * (o + l + k) + 1], cs = cos(k * gamma), sn = -sin(k * gamma);
      b[2 * (k + l)] = re * cs - im * sn, b[2 * (k + l) + 1] = re * sn + im * cs;
    }
    for (int m = -l; m <= l; m++) {
      const double *dm = d + (size_t)(m + l) * n;
      double sr = 0, si = 0;
      for (int k = 0; k < n; k++) sr += dm[k] * b[2 * k], si += dm[k] * b[2 * k + 1];
      double cs = cos(m * alpha), sn = -sin(m * alpha);
      c[2 * (m + l)] = sr * cs - si * sn, c[2 * (m + l) + 1] = sr * sn + si * cs;
    }
    memcpy(out + 2 * o, c, (size_t)n * 2 * sizeof(double));
  }
  gdl_wigner_risbo_free(r), free(b);
  return GDL_OK;
}
