/* Batched complex DFTs of any length: h columns, element (i, q) at buf[q n + i],
 * transformed in place. FFTW does the work, except for lengths with a
 * prime factor above 16 (MW and GL rings have 2L-1 points: 2047 = 23 * 89), where its
 * generic codelets are slow: those go through Bluestein's chirp convolution,
 *   X_k = conj(c_k) sum_j (x_j conj(c_j)) c_{k-j},   c_j = e^{i pi j^2 / n},
 * computed with FFTs of a power-of-two length M >= 2n - 1. sign: FFTW_FORWARD (-1)
 * or FFTW_BACKWARD (+1); unnormalised. */
#include <stdlib.h>

#include "sphere/sphere_internal.h"

static int64_t largest_factor(int64_t n) {
  int64_t f = 1;
  for (int64_t p = 2; p * p <= n; p++)
    while (n % p == 0) f = p, n /= p;
  return n > 1 ? n : f;
}

gdl_status gdl__dft_init(gdl__dft *d, int64_t n, int h, int sign, unsigned flags) {
  memset(d, 0, sizeof *d);
  d->n = n, d->h = h, d->sign = sign;
  d->blue = n > 64 && largest_factor(n) > 16;
  d->M = 1;
  if (d->blue)
    while (d->M < 2 * n - 1) d->M *= 2;
  size_t len = (size_t)((d->blue ? d->M : n) * h);
  fftw_complex *buf = fftw_malloc(len * sizeof(fftw_complex));
  if (!buf) return gdl_error(GDL_ERR_NOMEM, "sht: out of memory");
  gdl__fftw_lock();
  if (!d->blue) {
    int ni = (int)n;
    d->p = fftw_plan_many_dft(1, &ni, h, buf, NULL, 1, ni, buf, NULL, 1, ni, sign, flags);
  } else {
    int mi = (int)d->M;
    d->pf = fftw_plan_many_dft(1, &mi, h, buf, NULL, 1, mi, buf, NULL, 1, mi, FFTW_FORWARD, flags);
    d->pb = fftw_plan_many_dft(1, &mi, h, buf, NULL, 1, mi, buf, NULL, 1, mi, FFTW_BACKWARD, flags);
  }
  gdl__fftw_unlock();
  fftw_free(buf);
  if (d->blue) {
    d->chirp = malloc((size_t)n * 2 * sizeof(double));
    d->B = fftw_malloc((size_t)d->M * sizeof(fftw_complex));
    fftw_complex *b = fftw_malloc((size_t)d->M * sizeof(fftw_complex));
    if (!d->chirp || !d->B || !b) {
      fftw_free(b);
      return gdl_error(GDL_ERR_NOMEM, "sht: out of memory");
    }
    /* w_j = e^{sign i pi j^2/n}, j^2 reduced mod 2n for accuracy */
    for (int64_t j = 0; j < n; j++) {
      double t = M_PI * (double)((j * j) % (2 * n)) / (double)n;
      d->chirp[2 * j] = cos(t), d->chirp[2 * j + 1] = sign * sin(t);
    }
    memset(b, 0, (size_t)d->M * sizeof(fftw_complex));
    for (int64_t j = 0; j < n; j++) { /* b_j = conj(chirp_j) on -n < j < n */
      b[j][0] = d->chirp[2 * j], b[j][1] = -d->chirp[2 * j + 1];
      if (j) b[d->M - j][0] = b[j][0], b[d->M - j][1] = b[j][1];
    }
    gdl__fftw_lock();
    int mi = (int)d->M;
    fftw_plan q = fftw_plan_dft_1d(mi, b, d->B, FFTW_FORWARD, FFTW_ESTIMATE);
    gdl__fftw_unlock();
    fftw_execute(q);
    gdl__fftw_lock();
    fftw_destroy_plan(q);
    gdl__fftw_unlock();
    fftw_free(b);
    for (int64_t k = 0; k < d->M; k++) d->B[k][0] /= (double)d->M, d->B[k][1] /= (double)d->M;
  }
  if (!d->p && !(d->pf && d->pb)) return gdl_error(GDL_ERR_UNSUPPORTED, "sht: FFTW could not plan length %lld", (long long)n);
  return GDL_OK;
}

void gdl__dft_free(gdl__dft *d) {
  gdl__fftw_lock();
  if (d->p) fftw_destroy_plan(d->p);
  if (d->pf) fftw_destroy_plan(d->pf);
  if (d->pb) fftw_destroy_plan(d->pb);
  gdl__fftw_unlock();
  free(d->chirp);
  fftw_free(d->B);
  memset(d, 0, sizeof *d);
}

int64_t gdl__dft_scratch(const gdl__dft *d) { return d->blue ? d->M * d->h : 0; }

/* sign jk = sign (j^2 + k^2 - (k-j)^2)/2, so with w_j = e^{sign i pi j^2/n}:
 *   a_j = x_j w_j;  y = a * conj(w) (circular, length M);  X_k = w_k y_k */
/* out = a b (out may be a). */
static inline void cmul(const double *a, const double *b, double *out) {
  double re = a[0] * b[0] - a[1] * b[1], im = a[0] * b[1] + a[1] * b[0];
  out[0] = re, out[1] = im;
}

void gdl__dft_exec(const gdl__dft *d, fftw_complex *buf, fftw_complex *scratch) {
  if (!d->blue) {
    fftw_execute_dft(d->p, buf, buf);
    return;
  }
  int64_t n = d->n, M = d->M, h = d->h;
  for (int64_t q = 0; q < h; q++) {
    const fftw_complex *x = buf + q * n;
    fftw_complex *y = scratch + q * M;
    for (int64_t j = 0; j < n; j++) cmul(x[j], d->chirp + 2 * j, y[j]);
    memset(y + n, 0, (size_t)(M - n) * sizeof(fftw_complex));
  }
  fftw_execute_dft(d->pf, scratch, scratch);
  for (int64_t q = 0; q < h; q++) {
    fftw_complex *y = scratch + q * M;
    for (int64_t k = 0; k < M; k++) cmul(y[k], d->B[k], y[k]);
  }
  fftw_execute_dft(d->pb, scratch, scratch);
  for (int64_t q = 0; q < h; q++) {
    const fftw_complex *y = scratch + q * M;
    fftw_complex *x = buf + q * n;
    for (int64_t k = 0; k < n; k++) cmul(y[k], d->chirp + 2 * k, x[k]);
  }
}
