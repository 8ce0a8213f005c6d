/* The Phi stage: F_m(ring) <-> pixels of the ring by FFTW.
 *   synthesis  f(phi0 + 2 pi p/n) = sum_m F_m e^{i m phi0} e^{2 pi i m p/n}
 *   analysis   F_m = scale e^{-i m phi0} sum_p f_p e^{-2 pi i m p/n}
 * Rings shorter than 2 mmax + 1 (HEALPix polar caps) alias m onto m mod n; the
 * analysis reads the same alias, so the pair stays adjoint. Real maps keep m >= 0
 * (F_-m = conj F_m) and use r2c/c2r transforms. */
#include <pthread.h>
#include <stdlib.h>

#include "sphere/sphere_internal.h"

static pthread_mutex_t fftw_mutex = PTHREAD_MUTEX_INITIALIZER;
void gdl__fftw_lock(void) { pthread_mutex_lock(&fftw_mutex); }
void gdl__fftw_unlock(void) { pthread_mutex_unlock(&fftw_mutex); }

gdl_status gdl__phi_setup(gdl_sht_plan *p) {
  const gdl_sampling *s = p->s;
  p->ring_phiplan = malloc((size_t)s->nring * sizeof(int));
  p->phiplans = calloc((size_t)s->nring, sizeof(gdl__phiplan));
  if (!p->ring_phiplan || !p->phiplans) return gdl_error(GDL_ERR_NOMEM, "sht: out of memory");
  p->nphimax = 0;
  for (int64_t r = 0; r < s->nring; r++)
    if (s->nphi[r] > p->nphimax) p->nphimax = s->nphi[r];
  unsigned fl = (p->flags & GDL_SHT_MEASURE) ? FFTW_MEASURE : FFTW_ESTIMATE;
  fftw_complex *a = fftw_malloc((size_t)(p->nphimax + 2) * sizeof(fftw_complex));
  fftw_complex *b = fftw_malloc((size_t)(p->nphimax + 2) * sizeof(fftw_complex));
  if (!a || !b) {
    fftw_free(a), fftw_free(b);
    return gdl_error(GDL_ERR_NOMEM, "sht: out of memory");
  }
  gdl_status st = GDL_OK;
  gdl__fftw_lock();
  for (int64_t r = 0; r < s->nring && !st; r++) {
    int64_t n = s->nphi[r];
    int k = 0;
    while (k < p->nphiplan && p->phiplans[k].n != n) k++;
    if (k == p->nphiplan) {
      gdl__phiplan *q = &p->phiplans[k];
      q->n = n;
      if (p->real) {
        q->fwd = fftw_plan_dft_r2c_1d((int)n, (double *)a, b, fl);
        q->bwd = fftw_plan_dft_c2r_1d((int)n, b, (double *)a, fl);
      } else {
        q->fwd = fftw_plan_dft_1d((int)n, a, b, FFTW_FORWARD, fl);
        q->bwd = fftw_plan_dft_1d((int)n, b, a, FFTW_BACKWARD, fl);
      }
      if (!q->fwd || !q->bwd) st = gdl_error(GDL_ERR_UNSUPPORTED, "sht: FFTW could not plan length %lld", (long long)n);
      p->nphiplan++;
    }
    p->ring_phiplan[r] = k;
  }
  /* equal rings: FFTW transforms RB rings at once with SIMD across them */
  bool equal = true;
  for (int64_t r = 1; r < s->nring; r++) equal &= s->nphi[r] == s->nphi[0];
  if (equal && !st) {
    int n = (int)s->nphi[0], R = GDL_SHT_RB;
    fftw_complex *y = fftw_malloc((size_t)(n / 2 + 1 + n) * R * sizeof(fftw_complex));
    fftw_complex *x = fftw_malloc((size_t)n * R * sizeof(fftw_complex));
    if (y && x) {
      if (p->real) {
        p->bat_b = fftw_plan_many_dft_c2r(1, &n, R, y, NULL, R, 1, (double *)x, NULL, R, 1, fl);
        p->bat_f = fftw_plan_many_dft_r2c(1, &n, R, (double *)x, NULL, R, 1, y, NULL, R, 1, fl);
      } else {
        p->bat_b = fftw_plan_many_dft(1, &n, R, y, NULL, R, 1, x, NULL, R, 1, FFTW_BACKWARD, fl);
        p->bat_f = fftw_plan_many_dft(1, &n, R, x, NULL, R, 1, y, NULL, R, 1, FFTW_FORWARD, fl);
      }
    }
    fftw_free(y), fftw_free(x);
  }
  gdl__fftw_unlock();
  fftw_free(a), fftw_free(b);
  return st;
}

void gdl__phi_free(gdl_sht_plan *p) {
  if (p->phiplans) {
    gdl__fftw_lock();
    for (int k = 0; k < p->nphiplan; k++) {
      if (p->phiplans[k].fwd) fftw_destroy_plan(p->phiplans[k].fwd);
      if (p->phiplans[k].bwd) fftw_destroy_plan(p->phiplans[k].bwd);
    }
    if (p->bat_f) fftw_destroy_plan(p->bat_f);
    if (p->bat_b) fftw_destroy_plan(p->bat_b);
    gdl__fftw_unlock();
  }
  free(p->phiplans), free(p->ring_phiplan);
}

/* e^{i m phi0} for m = 0..M-1: exact sincos every 32 steps, rotations between. */
static void phases(double phi0, int64_t M, double *ph) {
  double c1 = cos(phi0), s1 = sin(phi0), c = 1, s = 0;
  for (int64_t m = 0; m < M; m++) {
    if ((m & 31) == 0) c = cos(m * phi0), s = sin(m * phi0);
    ph[2 * m] = c, ph[2 * m + 1] = s;
    double t = c * c1 - s * s1;
    s = s * c1 + c * s1, c = t;
  }
}

static inline int64_t pmod(int64_t a, int64_t n) {
  a %= n;
  return a < 0 ? a + n : a;
}

void gdl__phi_synth_batched(const gdl_sht_plan *p, const double *leg, void *map, int64_t nb, const double *scale);
void gdl__phi_anal_batched(const gdl_sht_plan *p, const void *map, double *leg, int64_t nb, const double *scale);

void gdl__phi_synth(const gdl_sht_plan *p, const double *leg, void *map, int64_t nb,
                    const double *scale) {
  if (p->bat_b) {
    gdl__phi_synth_batched(p, leg, map, nb, scale);
    return;
  }
  const gdl_sampling *s = p->s;
  int64_t nring = s->nring, nm = p->nm, L = p->L;
  bool f32 = p->flags & GDL_SHT_FLOAT32, cplx = !p->real;
  (void)f32;
#pragma omp parallel
  {
    fftw_complex *Y = fftw_malloc((size_t)(p->nphimax + 2) * sizeof(fftw_complex));
    fftw_complex *X = fftw_malloc((size_t)(p->nphimax + 2) * sizeof(fftw_complex));
    double *ph = malloc((size_t)L * 2 * sizeof(double));
    GDL_ASSERT(Y && X && ph, "sht: out of memory");
#pragma omp for schedule(dynamic, 4)
    for (int64_t cr = 0; cr < nb * nring; cr++) {
      int64_t c = cr / nring, r = cr % nring, n = s->nphi[r];
      const double *F = leg + 2 * (c * nring + r) * nm;
      double sc = scale ? scale[r] : 1;
      phases(s->phi0[r], L, ph);
      int64_t ny = cplx ? n : n / 2 + 1;
      memset(Y, 0, (size_t)ny * sizeof(fftw_complex));
      for (int64_t col = 0; col < nm; col++) {
        int64_t m = col + p->mlo, am = m < 0 ? -m : m;
        double fr = F[2 * col], fi = F[2 * col + 1], pc = ph[2 * am], ps = m < 0 ? -ph[2 * am + 1] : ph[2 * am + 1];
        double vr = fr * pc - fi * ps, vi = fr * ps + fi * pc;
        int64_t k = pmod(m, n);
        if (cplx) {
          Y[k][0] += vr, Y[k][1] += vi;
        } else {
          if (k <= n / 2) Y[k][0] += vr, Y[k][1] += vi;
          if (m > 0) {
            k = pmod(-m, n);
            if (k <= n / 2) Y[k][0] += vr, Y[k][1] -= vi;
          }
        }
      }
      const gdl__phiplan *q = &p->phiplans[p->ring_phiplan[r]];
      if (cplx) fftw_execute_dft(q->bwd, Y, X);
      else fftw_execute_dft_c2r(q->bwd, Y, (double *)X);
      int64_t off = s->ringstart[r];
      if (cplx) {
        int64_t base = 2 * (c * s->npix + off);
        if (p->flags & GDL_SHT_FLOAT32)
          for (int64_t i = 0; i < 2 * n; i++) ((float *)map)[base + i] = (float)(sc * ((double *)X)[i]);
        else
          for (int64_t i = 0; i < 2 * n; i++) ((double *)map)[base + i] = sc * ((double *)X)[i];
      } else {
        int64_t base = c * s->npix + off;
        if (p->flags & GDL_SHT_FLOAT32)
          for (int64_t i = 0; i < n; i++) ((float *)map)[base + i] = (float)(sc * ((double *)X)[i]);
        else
          for (int64_t i = 0; i < n; i++) ((double *)map)[base + i] = sc * ((double *)X)[i];
      }
    }
    fftw_free(Y), fftw_free(X), free(ph);
  }
}

void gdl__phi_anal(const gdl_sht_plan *p, const void *map, double *leg, int64_t nb,
                   const double *scale) {
  if (p->bat_f) {
    gdl__phi_anal_batched(p, map, leg, nb, scale);
    return;
  }
  const gdl_sampling *s = p->s;
  int64_t nring = s->nring, nm = p->nm, L = p->L;
  bool cplx = !p->real;
#pragma omp parallel
  {
    fftw_complex *Y = fftw_malloc((size_t)(p->nphimax + 2) * sizeof(fftw_complex));
    fftw_complex *X = fftw_malloc((size_t)(p->nphimax + 2) * sizeof(fftw_complex));
    double *ph = malloc((size_t)L * 2 * sizeof(double));
    GDL_ASSERT(Y && X && ph, "sht: out of memory");
#pragma omp for schedule(dynamic, 4)
    for (int64_t cr = 0; cr < nb * nring; cr++) {
      int64_t c = cr / nring, r = cr % nring, n = s->nphi[r], off = s->ringstart[r];
      double sc = scale ? scale[r] : 1, *xd = (double *)X;
      int64_t cnt = cplx ? 2 * n : n, base = cnt * 0 + (cplx ? 2 : 1) * (c * s->npix + off);
      if (p->flags & GDL_SHT_FLOAT32)
        for (int64_t i = 0; i < cnt; i++) xd[i] = ((const float *)map)[base + i];
      else
        memcpy(xd, (const double *)map + base, (size_t)cnt * sizeof(double));
      const gdl__phiplan *q = &p->phiplans[p->ring_phiplan[r]];
      if (cplx) fftw_execute_dft(q->fwd, X, Y);
      else fftw_execute_dft_r2c(q->fwd, xd, Y);
      phases(s->phi0[r], L, ph);
      double *F = leg + 2 * (c * nring + r) * nm;
      for (int64_t col = 0; col < nm; col++) {
        int64_t m = col + p->mlo, am = m < 0 ? -m : m, k = pmod(m, n);
        double yr, yi;
        if (cplx || k <= n / 2) yr = Y[k][0], yi = Y[k][1];
        else yr = Y[n - k][0], yi = -Y[n - k][1];
        double pc = ph[2 * am], ps = m < 0 ? ph[2 * am + 1] : -ph[2 * am + 1]; /* e^{-im phi0} */
        F[2 * col] = sc * (yr * pc - yi * ps);
        F[2 * col + 1] = sc * (yr * ps + yi * pc);
      }
    }
    fftw_free(Y), fftw_free(X), free(ph);
  }
}

/* ---- equal rings, GDL_SHT_RB at a time: buffers [k][q], q the ring in the batch ---- */

static void fill_spectrum(const gdl_sht_plan *p, const double *F, double phi0, const double *ph, fftw_complex *Y,
                          int64_t n, int q, bool cplx) {
  const int R = GDL_SHT_RB;
  for (int64_t col = 0; col < p->nm; col++) {
    int64_t m = col + p->mlo, am = m < 0 ? -m : m;
    double fr = F[2 * col], fi = F[2 * col + 1], pc = ph[2 * am], ps = m < 0 ? -ph[2 * am + 1] : ph[2 * am + 1];
    double vr = fr * pc - fi * ps, vi = fr * ps + fi * pc;
    int64_t k = pmod(m, n);
    if (cplx) {
      Y[k * R + q][0] += vr, Y[k * R + q][1] += vi;
    } else {
      if (k <= n / 2) Y[k * R + q][0] += vr, Y[k * R + q][1] += vi;
      if (m > 0 && (k = pmod(-m, n)) <= n / 2) Y[k * R + q][0] += vr, Y[k * R + q][1] -= vi;
    }
  }
  (void)phi0;
}

void gdl__phi_synth_batched(const gdl_sht_plan *p, const double *leg, void *map, int64_t nb, const double *scale) {
  const gdl_sampling *s = p->s;
  const int R = GDL_SHT_RB;
  int64_t nring = s->nring, nm = p->nm, n = s->nphi[0], nchunk = (nring + R - 1) / R;
  bool cplx = !p->real, f32 = p->flags & GDL_SHT_FLOAT32;
  int64_t ny = cplx ? n : n / 2 + 1, k = cplx ? 2 : 1;
#pragma omp parallel
  {
    fftw_complex *Y = fftw_malloc((size_t)(ny * R) * sizeof(fftw_complex));
    fftw_complex *X = fftw_malloc((size_t)(n * R) * sizeof(fftw_complex));
    double *ph = malloc((size_t)p->L * 2 * sizeof(double));
    GDL_ASSERT(Y && X && ph, "sht: out of memory");
#pragma omp for schedule(dynamic, 1)
    for (int64_t cj = 0; cj < nb * nchunk; cj++) {
      int64_t c = cj / nchunk, r0 = (cj % nchunk) * R;
      memset(Y, 0, (size_t)(ny * R) * sizeof(fftw_complex));
      for (int q = 0; q < R && r0 + q < nring; q++) {
        phases(s->phi0[r0 + q], p->L, ph);
        fill_spectrum(p, leg + 2 * (c * nring + r0 + q) * nm, s->phi0[r0 + q], ph, Y, n, q, cplx);
      }
      if (cplx) fftw_execute_dft(p->bat_b, Y, X);
      else fftw_execute_dft_c2r(p->bat_b, Y, (double *)X);
      const double *xd = (const double *)X;
      for (int q = 0; q < R && r0 + q < nring; q++) {
        int64_t r = r0 + q, base = k * (c * s->npix + s->ringstart[r]);
        double sc = scale ? scale[r] : 1;
        for (int64_t i = 0; i < n; i++)
          for (int e = 0; e < k; e++) {
            double v = sc * xd[(i * R + q) * k + e];
            if (f32) ((float *)map)[base + k * i + e] = (float)v;
            else ((double *)map)[base + k * i + e] = v;
          }
      }
    }
    fftw_free(Y), fftw_free(X), free(ph);
  }
}

void gdl__phi_anal_batched(const gdl_sht_plan *p, const void *map, double *leg, int64_t nb, const double *scale) {
  const gdl_sampling *s = p->s;
  const int R = GDL_SHT_RB;
  int64_t nring = s->nring, nm = p->nm, n = s->nphi[0], nchunk = (nring + R - 1) / R;
  bool cplx = !p->real, f32 = p->flags & GDL_SHT_FLOAT32;
  int64_t ny = cplx ? n : n / 2 + 1, k = cplx ? 2 : 1;
#pragma omp parallel
  {
    fftw_complex *Y = fftw_malloc((size_t)(ny * R) * sizeof(fftw_complex));
    fftw_complex *X = fftw_malloc((size_t)(n * R) * sizeof(fftw_complex));
    double *ph = malloc((size_t)p->L * 2 * sizeof(double));
    GDL_ASSERT(Y && X && ph, "sht: out of memory");
#pragma omp for schedule(dynamic, 1)
    for (int64_t cj = 0; cj < nb * nchunk; cj++) {
      int64_t c = cj / nchunk, r0 = (cj % nchunk) * R;
      double *xd = (double *)X;
      memset(X, 0, (size_t)(n * R) * sizeof(fftw_complex));
      for (int q = 0; q < R && r0 + q < nring; q++) {
        int64_t base = k * (c * s->npix + s->ringstart[r0 + q]);
        for (int64_t i = 0; i < n; i++)
          for (int e = 0; e < k; e++)
            xd[(i * R + q) * k + e] = f32 ? ((const float *)map)[base + k * i + e] : ((const double *)map)[base + k * i + e];
      }
      if (cplx) fftw_execute_dft(p->bat_f, X, Y);
      else fftw_execute_dft_r2c(p->bat_f, xd, Y);
      for (int q = 0; q < R && r0 + q < nring; q++) {
        int64_t r = r0 + q;
        double sc = scale ? scale[r] : 1, *F = leg + 2 * (c * nring + r) * nm;
        phases(s->phi0[r], p->L, ph);
        for (int64_t col = 0; col < nm; col++) {
          int64_t m = col + p->mlo, am = m < 0 ? -m : m, kk = pmod(m, n);
          double yr, yi;
          if (cplx || kk <= n / 2) yr = Y[kk * R + q][0], yi = Y[kk * R + q][1];
          else yr = Y[(n - kk) * R + q][0], yi = -Y[(n - kk) * R + q][1];
          double pc = ph[2 * am], ps = m < 0 ? ph[2 * am + 1] : -ph[2 * am + 1];
          F[2 * col] = sc * (yr * pc - yi * ps);
          F[2 * col + 1] = sc * (yr * ps + yi * pc);
        }
      }
    }
    fftw_free(Y), fftw_free(X), free(ph);
  }
}
