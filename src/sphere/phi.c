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
  gdl__fftw_unlock();
  /* equal rings: RB complex columns at once (real maps: two rings a column) */
  bool equal = true;
  for (int64_t r = 1; r < s->nring; r++) equal &= s->nphi[r] == s->nphi[0];
  if (equal && !st) {
    p->batched = true;
    unsigned flb = p->L >= 512 ? FFTW_MEASURE : fl;
    st = gdl__dft_init(&p->bat_b, s->nphi[0], GDL_SHT_RB, FFTW_BACKWARD, flb);
    if (!st) st = gdl__dft_init(&p->bat_f, s->nphi[0], GDL_SHT_RB, FFTW_FORWARD, flb);
  }
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
    gdl__fftw_unlock();
  }
  if (p->batched) gdl__dft_free(&p->bat_f), gdl__dft_free(&p->bat_b);
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

/* a mod n in [0, n); no division in the common case |a| < n (rings of 2L-1 or more) */
static inline int64_t pmod(int64_t a, int64_t n) {
  if (a >= 0 && a < n) return a;
  if (a < 0 && a >= -n) return a + n;
  a %= n;
  return a < 0 ? a + n : a;
}

void gdl__phi_synth_batched(const gdl_sht_plan *p, const double *leg, void *map, int64_t nb, const double *scale);
void gdl__phi_anal_batched(const gdl_sht_plan *p, const void *map, double *leg, int64_t nb, const double *scale);

void gdl__phi_synth(const gdl_sht_plan *p, const double *leg, void *map, int64_t nb,
                    const double *scale) {
  if (p->batched) {
    gdl__phi_synth_batched(p, leg, map, nb, scale);
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
      int64_t c = cr / nring, r = cr % nring, n = s->nphi[r];
      const double *F = leg + 2 * (c * nring + r) * p->ldl;
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
  if (p->batched) {
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
      int64_t cnt = cplx ? 2 * n : n, base = (cplx ? 2 : 1) * (c * s->npix + off);
      if (p->flags & GDL_SHT_FLOAT32)
        for (int64_t i = 0; i < cnt; i++) xd[i] = ((const float *)map)[base + i];
      else
        memcpy(xd, (const double *)map + base, (size_t)cnt * sizeof(double));
      const gdl__phiplan *q = &p->phiplans[p->ring_phiplan[r]];
      if (cplx) fftw_execute_dft(q->fwd, X, Y);
      else fftw_execute_dft_r2c(q->fwd, xd, Y);
      phases(s->phi0[r], L, ph);
      double *F = leg + 2 * (c * nring + r) * p->ldl;
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

/* ---- equal rings, batched: column q (at Y + q n) holds ring r0 + q (complex maps)
 * or rings r0 + q and r0 + RB + q as real and imaginary parts (real maps). ---- */

/* The common case of the spectrum packing below (phi0 = 0, nm <= n: every equal-ring
 * sampling): branch-free runs over contiguous values (the general per-element loop
 * cost ~10% of a transform at L = 512). Real plans, m = 0 .. nm - 1: k = m and,
 * conjugated, k = n - m. */
static void add_spectrum_real(const double *F, int64_t nm, double *y, int64_t n, bool imag_slot) {
  if (imag_slot) { /* times i */
    for (int64_t m = 0; m < nm; m++) y[2 * m] -= F[2 * m + 1], y[2 * m + 1] += F[2 * m];
    for (int64_t m = 1; m < nm; m++) y[2 * (n - m)] += F[2 * m + 1], y[2 * (n - m) + 1] += F[2 * m];
  } else {
    for (int64_t m = 0; m < nm; m++) y[2 * m] += F[2 * m], y[2 * m + 1] += F[2 * m + 1];
    for (int64_t m = 1; m < nm; m++) y[2 * (n - m)] += F[2 * m], y[2 * (n - m) + 1] -= F[2 * m + 1];
  }
}

/* The same for a complex plan (m from mlo = 1 - L to L - 1 < n), which has a column to
 * itself (written, not added: no zeroing first): k = m for m >= 0 and n + m for m < 0,
 * two contiguous runs (as two loops they vectorise; one loop choosing k per element did
 * not: 4% of a transform at L = 2048 spin 2). */
static void set_spectrum_cplx(const double *F, int64_t mlo, int64_t nm, double *y, int64_t n) {
  int64_t neg = -mlo < nm ? -mlo : nm; /* columns with m < 0 */
  double *yn = y + 2 * (n + mlo);
  for (int64_t i = 0; i < 2 * neg; i++) yn[i] = F[i];
  for (int64_t i = 2 * neg; i < 2 * nm; i++) y[i - 2 * neg] = F[i];
  memset(y + 2 * (nm - neg), 0, (size_t)(n - nm) * 2 * sizeof(double)); /* k from m = L to n - L */
}

/* The analysis' reads of the same: F_m = sc Y_k */
static void take_spectrum_cplx(const double *y, int64_t n, int64_t mlo, int64_t nm, double sc, double *F) {
  int64_t neg = -mlo < nm ? -mlo : nm;
  const double *yn = y + 2 * (n + mlo);
  for (int64_t i = 0; i < 2 * neg; i++) F[i] = sc * yn[i];
  for (int64_t i = 2 * neg; i < 2 * nm; i++) F[i] = sc * y[i - 2 * neg];
}

/* The analysis' reads for real plans: ring (slot) spectrum from the packed pair of rings,
 * X1 = (Z_k + conj Z_-k) / 2, X2 = (Z_k - conj Z_-k) / (2i), times sc. */
static void take_spectrum_real(const double *y, int64_t n, int64_t nm, bool imag_slot, double sc, double *F) {
  double h = 0.5 * sc;
  F[0] = imag_slot ? h * 2 * y[1] : h * 2 * y[0], F[1] = 0; /* m = 0: Z_0 itself */
  for (int64_t m = 1; m < nm; m++) {
    double yr = y[2 * m], yi = y[2 * m + 1], zr = y[2 * (n - m)], zi = -y[2 * (n - m) + 1];
    if (imag_slot) F[2 * m] = h * (yi - zi), F[2 * m + 1] = -h * (yr - zr);
    else F[2 * m] = h * (yr + zr), F[2 * m + 1] = h * (yi + zi);
  }
}

/* adds ring spectrum sum_m F_m e^{im phi0} at k = m mod n (all m: real maps add the
 * conjugate at -m too), times the factor (1 or i) of the ring's slot */
static void add_spectrum(const gdl_sht_plan *p, const double *F, const double *ph, fftw_complex *Y, int64_t n,
                         int q, bool imag_slot) {
  if (!ph && p->nm <= n) {
    if (p->real) add_spectrum_real(F, p->nm, (double *)(Y + q * n), n, imag_slot);
    else set_spectrum_cplx(F, p->mlo, p->nm, (double *)(Y + q * n), n);
    return;
  }
  bool cplx = !p->real;
  for (int64_t col = 0; col < p->nm; col++) {
    int64_t m = col + p->mlo, am = m < 0 ? -m : m;
    double vr = F[2 * col], vi = F[2 * col + 1];
    if (ph) {
      double fr = vr, fi = vi, pc = ph[2 * am], ps = m < 0 ? -ph[2 * am + 1] : ph[2 * am + 1];
      vr = fr * pc - fi * ps, vi = fr * ps + fi * pc;
    }
    for (int e = 0; e < (cplx || m == 0 ? 1 : 2); e++) {
      int64_t k = pmod(e ? -m : m, n);
      double ur = vr, ui = e ? -vi : vi;
      if (imag_slot) Y[q * n + k][0] -= ui, Y[q * n + k][1] += ur;
      else Y[q * n + k][0] += ur, Y[q * n + k][1] += ui;
    }
  }
}

void gdl__phi_synth_batched(const gdl_sht_plan *p, const double *leg, void *map, int64_t nb, const double *scale) {
  const gdl_sampling *s = p->s;
  const int R = GDL_SHT_RB;
  bool cplx = !p->real, f32 = p->flags & GDL_SHT_FLOAT32;
  int per = cplx ? R : 2 * R; /* rings per chunk */
  int64_t nring = s->nring, n = s->nphi[0], nchunk = (nring + per - 1) / per;
#pragma omp parallel
  {
    fftw_complex *Y = fftw_malloc((size_t)(n * R) * sizeof(fftw_complex));
    fftw_complex *S = fftw_malloc((size_t)(gdl__dft_scratch(&p->bat_b) + 1) * sizeof(fftw_complex));
    double *ph = malloc((size_t)p->L * 2 * sizeof(double));
    GDL_ASSERT(Y && S && ph, "sht: out of memory");
#pragma omp for schedule(dynamic, 1)
    for (int64_t cj = 0; cj < nb * nchunk; cj++) {
      int64_t c = cj / nchunk, r0 = (cj % nchunk) * per;
      bool set = cplx && p->nm <= n && r0 + per <= nring; /* every column written by set_spectrum_cplx */
      for (int q = 0; set && q < per; q++) set = s->phi0[r0 + q] == 0;
      if (!set) memset(Y, 0, (size_t)(n * R) * sizeof(fftw_complex));
      for (int q = 0; q < per && r0 + q < nring; q++) {
        bool rot = s->phi0[r0 + q] != 0;
        if (rot) phases(s->phi0[r0 + q], p->L, ph);
        add_spectrum(p, leg + 2 * (c * nring + r0 + q) * p->ldl, rot ? ph : NULL, Y, n, q % R, q >= R);
      }
      gdl__dft_exec(&p->bat_b, Y, S);
      const double *yd = (const double *)Y;
      for (int q = 0; q < per && r0 + q < nring; q++) {
        int64_t r = r0 + q;
        double sc = scale ? scale[r] : 1;
        if (cplx) {
          int64_t base = 2 * (c * s->npix + s->ringstart[r]);
          for (int64_t i = 0; i < n; i++)
            for (int e = 0; e < 2; e++) {
              double v = sc * yd[2 * (q * n + i) + e];
              if (f32) ((float *)map)[base + 2 * i + e] = (float)v;
              else ((double *)map)[base + 2 * i + e] = v;
            }
        } else {
          int64_t base = c * s->npix + s->ringstart[r], e = q >= R;
          for (int64_t i = 0; i < n; i++) {
            double v = sc * yd[2 * ((q % R) * n + i) + e];
            if (f32) ((float *)map)[base + i] = (float)v;
            else ((double *)map)[base + i] = v;
          }
        }
      }
    }
    fftw_free(Y), fftw_free(S), free(ph);
  }
}

/* The analysis' reads, the inverse of add_spectrum: ring spectrum F_m = sc e^{-im phi0}
 * Y_k of the ring's slot (real maps: unpacked from the pair sharing the column). */
static void take_spectrum(const gdl_sht_plan *p, const fftw_complex *Y, int64_t n, bool imag_slot, double sc,
                          const double *ph, double *F) {
  if (!ph && p->nm <= n) {
    if (p->real) take_spectrum_real((const double *)Y, n, p->nm, imag_slot, sc, F);
    else take_spectrum_cplx((const double *)Y, n, p->mlo, p->nm, sc, F);
    return;
  }
  for (int64_t col = 0; col < p->nm; col++) {
    int64_t m = col + p->mlo, am = m < 0 ? -m : m, k = pmod(m, n), km = pmod(-m, n);
    double yr = Y[k][0], yi = Y[k][1];
    if (p->real) { /* unpack: X1 = (Z_k + conj Z_-k)/2, X2 = (Z_k - conj Z_-k)/(2i) */
      double zr = Y[km][0], zi = -Y[km][1];
      if (!imag_slot) yr = 0.5 * (yr + zr), yi = 0.5 * (yi + zi);
      else {
        double dr = 0.5 * (yr - zr), di = 0.5 * (yi - zi);
        yr = di, yi = -dr;
      }
    }
    if (!ph) {
      F[2 * col] = sc * yr, F[2 * col + 1] = sc * yi;
      continue;
    }
    double pc = ph[2 * am], ps = m < 0 ? ph[2 * am + 1] : -ph[2 * am + 1];
    F[2 * col] = sc * (yr * pc - yi * ps);
    F[2 * col + 1] = sc * (yr * ps + yi * pc);
  }
}

void gdl__phi_anal_batched(const gdl_sht_plan *p, const void *map, double *leg, int64_t nb, const double *scale) {
  const gdl_sampling *s = p->s;
  const int R = GDL_SHT_RB;
  bool cplx = !p->real, f32 = p->flags & GDL_SHT_FLOAT32;
  int per = cplx ? R : 2 * R;
  int64_t nring = s->nring, n = s->nphi[0], nchunk = (nring + per - 1) / per;
#pragma omp parallel
  {
    fftw_complex *Y = fftw_malloc((size_t)(n * R) * sizeof(fftw_complex));
    fftw_complex *S = fftw_malloc((size_t)(gdl__dft_scratch(&p->bat_f) + 1) * sizeof(fftw_complex));
    double *ph = malloc((size_t)p->L * 2 * sizeof(double));
    GDL_ASSERT(Y && S && ph, "sht: out of memory");
#pragma omp for schedule(dynamic, 1)
    for (int64_t cj = 0; cj < nb * nchunk; cj++) {
      int64_t c = cj / nchunk, r0 = (cj % nchunk) * per;
      double *yd = (double *)Y;
      if (r0 + per > nring) memset(Y, 0, (size_t)(n * R) * sizeof(fftw_complex)); /* (a full chunk fills Y) */
      for (int q = 0; q < per && r0 + q < nring; q++) {
        if (cplx) {
          int64_t base = 2 * (c * s->npix + s->ringstart[r0 + q]);
          for (int64_t i = 0; i < n; i++)
            for (int e = 0; e < 2; e++)
              yd[2 * (q * n + i) + e] = f32 ? ((const float *)map)[base + 2 * i + e] : ((const double *)map)[base + 2 * i + e];
        } else {
          int64_t base = c * s->npix + s->ringstart[r0 + q], e = q >= R;
          for (int64_t i = 0; i < n; i++)
            yd[2 * ((q % R) * n + i) + e] = f32 ? ((const float *)map)[base + i] : ((const double *)map)[base + i];
        }
      }
      gdl__dft_exec(&p->bat_f, Y, S);
      for (int q = 0; q < per && r0 + q < nring; q++) {
        int64_t r = r0 + q;
        int qq = q % R;
        double sc = scale ? scale[r] : 1;
        bool rot = s->phi0[r] != 0;
        if (rot) phases(s->phi0[r], p->L, ph);
        take_spectrum(p, Y + qq * n, n, q >= R, sc, rot ? ph : NULL, leg + 2 * (c * nring + r) * p->ldl);
      }
    }
    fftw_free(Y), fftw_free(S), free(ph);
  }
}
