/* Wigner transforms on the MW sampling of SO(3) (as the so3 library), through spin
 * SHTs: with s = -n,  e^{i m a} d^l_mn(b) = (-1)^n sqrt(4 pi/(2l+1)) sY_lm(b, a), so
 *   inverse: f_n(a, b) = sum_lm (-1)^n sqrt(4 pi (2l+1))/(8 pi^2) flmn  _{-n}Y_lm(b, a),
 *            f(a, b, g) = sum_{|n|<N} f_n(a, b) e^{i n g}                  (FFT over g)
 *   forward: F_n = 2pi/(2N-1) sum_g f e^{-i n g},
 *            flmn = (-1)^n sqrt(4 pi/(2l+1)) [spin -n analysis of F_n]_lm
 * 2N-1 spin transforms of O(L^3) each: O(N L^3). */
#include <stdlib.h>

#include "sphere/sphere_internal.h"

struct gdl_so3_plan {
  int L, N;
  int64_t npix, ng; /* sphere pixels per gamma, 2N-1 */
  gdl_sht_plan **sht; /* [2N-1], index n + N - 1, spin -n */
  fftw_plan fg_f, fg_b; /* along gamma */
};

void gdl_so3_plan_destroy(gdl_so3_plan *p) {
  if (!p) return;
  for (int64_t i = 0; p->sht && i < p->ng; i++) gdl_sht_plan_destroy(p->sht[i]);
  free(p->sht);
  gdl__fftw_lock();
  if (p->fg_f) fftw_destroy_plan(p->fg_f);
  if (p->fg_b) fftw_destroy_plan(p->fg_b);
  gdl__fftw_unlock();
  free(p);
}

gdl_so3_plan *gdl_so3_plan_create(int L, int N, unsigned flags) {
  if (L < 1 || N < 1 || N > L) {
    gdl_error(GDL_ERR_ARG, "so3_plan_create: need 1 <= N <= L, got L=%d N=%d", L, N);
    return NULL;
  }
  if (flags) {
    gdl_error(GDL_ERR_UNSUPPORTED, "so3_plan_create: flags must be 0 (complex128 arrays)");
    return NULL;
  }
  gdl_so3_plan *p = calloc(1, sizeof *p);
  gdl_sampling *s = gdl_sampling_new(GDL_SAMPLING_MW, L, 0);
  if (!p || !s) goto fail;
  p->L = L, p->N = N, p->npix = s->npix, p->ng = 2 * N - 1;
  p->sht = calloc((size_t)p->ng, sizeof *p->sht);
  if (!p->sht) goto fail;
  for (int n = -(N - 1); n < N; n++)
    if (!(p->sht[n + N - 1] = gdl_sht_plan_create(s, L, -n, 0))) goto fail;
  fftw_complex *buf = fftw_malloc((size_t)(p->ng * p->npix) * sizeof(fftw_complex));
  if (!buf) goto fail;
  int ng = (int)p->ng, np = (int)p->npix;
  gdl__fftw_lock();
  p->fg_f = fftw_plan_many_dft(1, &ng, np, buf, NULL, np, 1, buf, NULL, np, 1, FFTW_FORWARD, FFTW_ESTIMATE);
  p->fg_b = fftw_plan_many_dft(1, &ng, np, buf, NULL, np, 1, buf, NULL, np, 1, FFTW_BACKWARD, FFTW_ESTIMATE);
  gdl__fftw_unlock();
  fftw_free(buf);
  if (!p->fg_f || !p->fg_b) {
    gdl_error(GDL_ERR_UNSUPPORTED, "so3: FFTW could not plan length %d", ng);
    goto fail;
  }
  gdl_sampling_free(s);
  return p;
fail:
  if (!gdl_last_error()[0]) gdl_error(GDL_ERR_NOMEM, "so3: out of memory");
  gdl_sampling_free(s);
  gdl_so3_plan_destroy(p);
  return NULL;
}

int64_t gdl_so3_map_size(const gdl_so3_plan *p) { return p->ng * p->npix; }
int64_t gdl_so3_coeff_size(const gdl_so3_plan *p) { return p->ng * (int64_t)p->L * p->L; }

/* scale flmn block n by c_l = sign sqrt(4 pi (2l+1))^e / (8 pi^2)^k, in place */
static void scale_n(const gdl_so3_plan *p, int n, double *a, bool inverse) {
  int L = p->L;
  double sg = (n & 1) ? -1 : 1;
  for (int l = 0; l < L; l++) {
    double c = inverse ? sg * sqrt(4 * M_PI * (2 * l + 1)) / (8 * M_PI * M_PI) : sg * sqrt(4 * M_PI / (2 * l + 1));
    for (int m = -l; m <= l; m++) {
      int64_t i = gdl__lm(l, m);
      if (l < abs(n)) a[2 * i] = a[2 * i + 1] = 0;
      else a[2 * i] *= c, a[2 * i + 1] *= c;
    }
  }
}

/* synthesis-type chain (inverse, or forward's adjoint with the 2pi/(2N-1) factor) */
static gdl_status so3_synth(const gdl_so3_plan *p, const double *flmn, double *f, bool adj_fwd) {
  int64_t L2 = (int64_t)p->L * p->L, np = p->npix;
  fftw_complex *buf = fftw_malloc((size_t)(p->ng * np) * sizeof(fftw_complex));
  double *a = malloc((size_t)L2 * 2 * sizeof(double));
  if (!buf || !a) {
    fftw_free(buf), free(a);
    return gdl_error(GDL_ERR_NOMEM, "so3: out of memory");
  }
  gdl_status st = GDL_OK;
  for (int n = -(p->N - 1); n < p->N && !st; n++) {
    memcpy(a, flmn + 2 * (n + p->N - 1) * L2, (size_t)L2 * 2 * sizeof(double));
    scale_n(p, n, a, !adj_fwd);
    int64_t slot = n < 0 ? n + p->ng : n; /* FFT order */
    const gdl_sht_plan *sp = p->sht[n + p->N - 1];
    st = adj_fwd ? gdl_sht_forward_adjoint(sp, a, buf + slot * np, 1) : gdl_sht_inverse(sp, a, buf + slot * np, 1);
  }
  if (!st) {
    fftw_execute_dft(p->fg_b, buf, buf);
    double c = adj_fwd ? 2 * M_PI / (double)p->ng : 1;
    for (int64_t i = 0; i < 2 * p->ng * np; i++) f[i] = c * ((double *)buf)[i];
  }
  fftw_free(buf), free(a);
  return st;
}

/* analysis-type chain (forward, or inverse's adjoint) */
static gdl_status so3_anal(const gdl_so3_plan *p, const double *f, double *flmn, bool adj_inv) {
  int64_t L2 = (int64_t)p->L * p->L, np = p->npix;
  fftw_complex *buf = fftw_malloc((size_t)(p->ng * np) * sizeof(fftw_complex));
  if (!buf) return gdl_error(GDL_ERR_NOMEM, "so3: out of memory");
  memcpy(buf, f, (size_t)(p->ng * np) * sizeof(fftw_complex));
  fftw_execute_dft(p->fg_f, buf, buf);
  double c = adj_inv ? 1 : 2 * M_PI / (double)p->ng;
  gdl_status st = GDL_OK;
  for (int n = -(p->N - 1); n < p->N && !st; n++) {
    int64_t slot = n < 0 ? n + p->ng : n;
    double *a = flmn + 2 * (n + p->N - 1) * L2, *x = (double *)(buf + slot * np);
    for (int64_t i = 0; i < 2 * np; i++) x[i] *= c;
    const gdl_sht_plan *sp = p->sht[n + p->N - 1];
    st = adj_inv ? gdl_sht_inverse_adjoint(sp, x, a, 1) : gdl_sht_forward(sp, x, a, 1);
    scale_n(p, n, a, adj_inv);
  }
  fftw_free(buf);
  return st;
}

static gdl_status args(const gdl_so3_plan *p, const void *x, const void *y) {
  if (!p || !x || !y) return gdl_error(GDL_ERR_ARG, "so3: plan or array is NULL");
  return GDL_OK;
}

gdl_status gdl_so3_inverse(const gdl_so3_plan *p, const void *flmn, void *f) {
  gdl_status st = args(p, flmn, f);
  return st ? st : so3_synth(p, flmn, f, false);
}
gdl_status gdl_so3_forward_adjoint(const gdl_so3_plan *p, const void *flmn, void *f) {
  gdl_status st = args(p, flmn, f);
  return st ? st : so3_synth(p, flmn, f, true);
}
gdl_status gdl_so3_forward(const gdl_so3_plan *p, const void *f, void *flmn) {
  gdl_status st = args(p, flmn, f);
  return st ? st : so3_anal(p, f, flmn, false);
}
gdl_status gdl_so3_inverse_adjoint(const gdl_so3_plan *p, const void *f, void *flmn) {
  gdl_status st = args(p, flmn, f);
  return st ? st : so3_anal(p, f, flmn, true);
}
