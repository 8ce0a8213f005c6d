/* Batched complex DFTs of any length: h columns, element (i, q) at buf[q n + i],
 * transformed in place. FFTW does the work, except for lengths with a
 * prime factor above 16 (MW and GL rings have 2L-1 points: 2047 = 23 * 89, 1023 =
 * 3 * 11 * 31), where its generic codelets are slow. Those run our own mixed-radix
 * passes, DV columns to a vector (below), or, for a prime factor above 256,
 * Bluestein's chirp convolution
 *   X_k = conj(c_k) sum_j (x_j conj(c_j)) c_{k-j},   c_j = e^{i pi j^2 / n},
 * computed with FFTs of a power-of-two length M >= 2n - 1. sign: FFTW_FORWARD (-1)
 * or FFTW_BACKWARD (+1); unnormalised. */
#include <stdint.h>
#include <stdlib.h>

#include "sphere/sphere_internal.h"

static int64_t largest_factor(int64_t n) {
  int64_t f = 1;
  for (int64_t p = 2; p * p <= n; p++)
    while (n % p == 0) f = p, n /= p;
  return n > 1 ? n : f;
}

/* ---- mixed radix: Stockham passes (natural order in and out), one per prime factor p
 * of n. A pass on sub-length nl = p m with s interleaved sequences:
 *   y[q + s (p j + r)] = w^(j r) sum_t x[q + s (j + m t)] e^(sign 2 pi i t r / p),
 * w = e^(sign 2 pi i / nl), for j < m, q < s, r < p; then s *= p, nl = m. The p-point
 * sums pair t with p - t (cosines act on sums, sines on differences): about p^2 real
 * multiply-adds a butterfly. DV columns share each vector. */

#define DV GDL_SPHERE_VL
typedef double vdd __attribute__((vector_size(DV * 8)));
typedef struct { vdd re, im; } cv;

static void mixed_tables(gdl__dft *d) {
  int64_t n = d->n, m = n, ntw = 0, ncs = 0;
  d->nf = 0;
  for (int64_t p = 2; m > 1; p++)
    while (m % p == 0) d->fac[d->nf++] = p, m /= p;
  m = n;
  for (int f = 0; f < d->nf; f++) ntw += m, ncs += (d->fac[f] / 2) * (d->fac[f] / 2), m /= d->fac[f];
  d->tw = malloc((size_t)(2 * ntw + 2 * ncs + 2) * sizeof(double));
  if (!d->tw) return;
  d->cs = d->tw + 2 * ntw;
  double *tw = d->tw, *cs = d->cs;
  int64_t nl = n;
  for (int f = 0; f < d->nf; f++) {
    int64_t p = d->fac[f], mm = nl / p, hp = p / 2;
    for (int64_t j = 0; j < mm; j++)
      for (int64_t r = 0; r < p; r++) {
        double t = 2 * M_PI * (double)((j * r) % nl) / (double)nl;
        tw[2 * (j * p + r)] = cos(t), tw[2 * (j * p + r) + 1] = d->sign * sin(t);
      }
    for (int64_t j = 1; j <= hp; j++)
      for (int64_t r = 1; r <= hp; r++) {
        double t = 2 * M_PI * (double)((j * r) % p) / (double)p;
        cs[2 * ((j - 1) * hp + r - 1)] = cos(t), cs[2 * ((j - 1) * hp + r - 1) + 1] = d->sign * sin(t);
      }
    tw += 2 * nl, cs += 2 * hp * hp, nl = mm;
  }
}

static inline cv cmul_w(cv a, const double *w) { /* a times the complex scalar w */
  return (cv){a.re * w[0] - a.im * w[1], a.re * w[1] + a.im * w[0]};
}

static void mixed_pass(int64_t p, int64_t m, int64_t s, const double *tw, const double *cs, const cv *x, cv *y) {
  int64_t hp = p / 2;
  cv S[128], D[128];
  for (int64_t j = 0; j < m; j++)
    for (int64_t q = 0; q < s; q++) {
      const cv *a = x + q + s * j;
      cv *o = y + q + s * p * j;
      const double *w = tw + 2 * j * p;
      cv a0 = a[0];
      if (p == 2) {
        cv b = a[s * m];
        o[0] = (cv){a0.re + b.re, a0.im + b.im};
        o[s] = cmul_w((cv){a0.re - b.re, a0.im - b.im}, w + 2);
        continue;
      }
      cv y0 = a0;
      for (int64_t t = 1; t <= hp; t++) {
        cv u = a[s * m * t], v = a[s * m * (p - t)];
        S[t - 1] = (cv){u.re + v.re, u.im + v.im}, D[t - 1] = (cv){u.re - v.re, u.im - v.im};
        y0.re += S[t - 1].re, y0.im += S[t - 1].im;
      }
      o[0] = y0;
      int64_t r = 1;
      for (; r + 1 <= hp; r += 2) { /* two outputs pairs at once: independent chains */
        cv R0 = a0, R1 = a0, T0 = {0}, T1 = {0};
        for (int64_t t = 0; t < hp; t++) {
          const double *c = cs + 2 * (t * hp + r - 1);
          R0.re += c[0] * S[t].re, R0.im += c[0] * S[t].im, T0.re += c[1] * D[t].re, T0.im += c[1] * D[t].im;
          R1.re += c[2] * S[t].re, R1.im += c[2] * S[t].im, T1.re += c[3] * D[t].re, T1.im += c[3] * D[t].im;
        }
        o[s * r] = cmul_w((cv){R0.re - T0.im, R0.im + T0.re}, w + 2 * r);
        o[s * (p - r)] = cmul_w((cv){R0.re + T0.im, R0.im - T0.re}, w + 2 * (p - r));
        o[s * (r + 1)] = cmul_w((cv){R1.re - T1.im, R1.im + T1.re}, w + 2 * (r + 1));
        o[s * (p - r - 1)] = cmul_w((cv){R1.re + T1.im, R1.im - T1.re}, w + 2 * (p - r - 1));
      }
      for (; r <= hp; r++) {
        cv R = a0, T = {0};
        for (int64_t t = 0; t < hp; t++) {
          const double *c = cs + 2 * (t * hp + r - 1);
          R.re += c[0] * S[t].re, R.im += c[0] * S[t].im, T.re += c[1] * D[t].re, T.im += c[1] * D[t].im;
        }
        o[s * r] = cmul_w((cv){R.re - T.im, R.im + T.re}, w + 2 * r);
        o[s * (p - r)] = cmul_w((cv){R.re + T.im, R.im - T.re}, w + 2 * (p - r));
      }
    }
}

static void mixed_exec(const gdl__dft *d, fftw_complex *buf, fftw_complex *scratch) {
  int64_t n = d->n;
  cv *x = (cv *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63), *y = x + n;
  for (int g = 0; g < d->h; g += DV) {
    for (int64_t i = 0; i < n; i++)
      for (int l = 0; l < DV; l++) x[i].re[l] = buf[(g + l) * n + i][0], x[i].im[l] = buf[(g + l) * n + i][1];
    cv *src = x, *dst = y;
    const double *tw = d->tw, *cs = d->cs;
    int64_t s = 1, nl = n;
    for (int f = 0; f < d->nf; f++) {
      int64_t p = d->fac[f], hp = p / 2;
      mixed_pass(p, nl / p, s, tw, cs, src, dst);
      cv *t = src;
      src = dst, dst = t;
      tw += 2 * nl, cs += 2 * hp * hp, s *= p, nl /= p;
    }
    for (int64_t i = 0; i < n; i++)
      for (int l = 0; l < DV; l++) buf[(g + l) * n + i][0] = src[i].re[l], buf[(g + l) * n + i][1] = src[i].im[l];
  }
}

gdl_status gdl__dft_init(gdl__dft *d, int64_t n, int h, int sign, unsigned flags) {
  memset(d, 0, sizeof *d);
  d->n = n, d->h = h, d->sign = sign;
  int64_t big = largest_factor(n);
  if (n > 64 && big > 16 && big <= 256 && h % DV == 0) {
    d->mixed = true;
    mixed_tables(d);
    return d->tw ? GDL_OK : gdl_error(GDL_ERR_NOMEM, "sht: out of memory");
  }
  d->blue = n > 64 && big > 16;
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
  free(d->tw);
  gdl__fftw_lock();
  if (d->p) fftw_destroy_plan(d->p);
  if (d->pf) fftw_destroy_plan(d->pf);
  if (d->pb) fftw_destroy_plan(d->pb);
  gdl__fftw_unlock();
  free(d->chirp);
  fftw_free(d->B);
  memset(d, 0, sizeof *d);
}

int64_t gdl__dft_scratch(const gdl__dft *d) {
  if (d->mixed) return 2 * DV * d->n + 4; /* two arrays of n DV-column values, 64-byte aligned */
  return d->blue ? d->M * d->h : 0;
}

/* sign jk = sign (j^2 + k^2 - (k-j)^2)/2, so with w_j = e^{sign i pi j^2/n}:
 *   a_j = x_j w_j;  y = a * conj(w) (circular, length M);  X_k = w_k y_k */
/* out = a b (out may be a). */
static inline void cmul(const double *a, const double *b, double *out) {
  double re = a[0] * b[0] - a[1] * b[1], im = a[0] * b[1] + a[1] * b[0];
  out[0] = re, out[1] = im;
}

void gdl__dft_exec(const gdl__dft *d, fftw_complex *buf, fftw_complex *scratch) {
  if (d->mixed) {
    mixed_exec(d, buf, scratch);
    return;
  }
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
