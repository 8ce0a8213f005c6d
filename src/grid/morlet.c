/* The Morlet filter bank of the 2-D scattering transform, as Kymatio builds it
 * (kymatio/scattering2d/filter_bank.py), on the padded Mp x Np grid.
 *
 * Gabor filter, periodised over 5 x 5 copies of the grid (u = (x, y), x the row):
 *   g(u) = sum_{ex, ey = -2..2} exp(-v^T A v + i xi (v_x cos t + v_y sin t)) / c,
 *   v = (x + ex Mp, y + ey Np),  A = R(t) diag(1, s^2) R(t)^T / (2 sigma^2),
 *   c = 2 * 3.1415 * sigma^2 / s   (Kymatio's constant: 3.1415, not pi).
 * Morlet filter: psi = g_xi - K g_0 with K = sum(g_xi) / sum(g_0) (zero mean).
 * Wavelets psi_{j, t}: sigma = 0.8 2^j, t = (int(L/2 - 1) - theta) pi / L (int
 * truncates), xi = 3 pi / 4 / 2^j, s = 4 / L, for j < J, theta < L.
 * Low-pass phi: g with sigma = 0.8 2^(J-1), t = 0, xi = 0, s = 1.
 * Each is stored in Fourier space as Re(FFT2(filter)) (FFT unnormalised).
 *
 * Level r of a Fourier filter (Kymatio's periodize_filter_fft), m = Mp / 2^r:
 * zero the rows [Mp / 2^(r+1), Mp / 2^(r+1) + Mp (1 - 2^-r)) (and the same for
 * columns), then fold: f_r[k, l] = sum_{i, j < 2^r} f[k + i m, l + j n].
 * Wavelet n = (j, theta) has levels r < min(j + 1, max(J - 1, 1)); phi r < J.
 * Level r is always used with the subsampling sub_k, k = 2^(j - r), so the plan
 * stores it times 1/k^2, each value twice (see scattering_kernels.h).
 *
 * The low-pass step in space. Kymatio computes S = unpad Re F^-1 sub_k(F(A) phi_r)
 * (k = 2^(J-r)); since F^-1_{m/k} sub_k(Y)[u] = F^-1_m(Y)[k u], this is
 *   S[u] = (A (*) K_r)[k (u + 1)],  K_r = Re F^-1(phi_r)   ((*): circular convolution).
 * phi's Gaussian is separable (theta = 0, s = 1) and so are the mask and the fold,
 * and each 1-D factor f_r is symmetric (the copies at +-2 periods differ by
 * exp(-(2 Mp)^2 / 2 sigma^2) < 1e-40), so K_r = kx_r ky_r^T / c with real 1-D kernels
 * and S = Rows_r A Cols_r^T, Rows_r[u, x] = kx_r[(k (u + 1) - x) mod m] / c. The
 * plan keeps phi in this form (phi_full = fx fy^T / c is the same filter). */
#include <stdlib.h>

#include "grid/scattering.h"

/* Adds the periodised Gabor filter into g (Mp x Np complex), unnormalised by c. */
static void gabor(int64_t M, int64_t N, double sigma, double theta, double xi, double slant,
                  double complex *g) {
  double c = cos(theta), s = sin(theta), s2 = slant * slant, d = 2 * sigma * sigma;
  double a00 = (c * c + s2 * s * s) / d, a01 = c * s * (1 - s2) / d, a11 = (s * s + s2 * c * c) / d;
  double lmin = fmin(1, s2) / d; /* smallest eigenvalue of A */
  for (int ex = -2; ex <= 2; ex++)
    for (int ey = -2; ey <= 2; ey++) {
      /* skip copies where exp(-v^T A v) underflows to 0 everywhere (exact) */
      double x0 = (double)ex * M, x1 = x0 + M - 1, y0 = (double)ey * N, y1 = y0 + N - 1;
      double dx = x0 > 0 ? x0 : (x1 < 0 ? -x1 : 0), dy = y0 > 0 ? y0 : (y1 < 0 ? -y1 : 0);
      if (lmin * (dx * dx + dy * dy) > 800) continue;
      for (int64_t x = 0; x < M; x++)
        for (int64_t y = 0; y < N; y++) {
          double X = x0 + x, Y = y0 + y;
          double q = a00 * X * X + 2 * a01 * X * Y + a11 * Y * Y;
          if (q > 800) continue;
          double ph = xi * (X * c + Y * s), e = exp(-q);
          g[x * N + y] += e * cos(ph) + I * (e * sin(ph));
        }
    }
  double norm = 2 * 3.1415 * sigma * sigma / slant;
  for (int64_t k = 0; k < M * N; k++) g[k] /= norm;
}

/* out = Re(FFT2(g)), through a throwaway FFTW plan. */
static void fourier_real(int64_t M, int64_t N, double complex *g, double complex *tmp, double *out) {
  fftw_plan pl;
  GDL_OMP(omp critical(gdl_fftw_planner))
  pl = fftw_plan_dft_2d((int)M, (int)N, g, tmp, FFTW_FORWARD, FFTW_ESTIMATE);
  fftw_execute(pl);
  GDL_OMP(omp critical(gdl_fftw_planner))
  fftw_destroy_plan(pl);
  for (int64_t k = 0; k < M * N; k++) out[k] = creal(tmp[k]);
}

static void periodize(const double *f, int64_t M, int64_t N, int r, double *out) {
  int64_t m = M >> r, n = N >> r;
  int64_t sx = M >> (r + 1), lx = M - m, sy = N >> (r + 1), ly = N - n;
  for (int64_t i = 0; i < m * n; i++) out[i] = 0;
  for (int64_t x = 0; x < M; x++) {
    if (x >= sx && x < sx + lx) continue;
    for (int64_t y = 0; y < N; y++) {
      if (y >= sy && y < sy + ly) continue;
      out[(x % m) * n + y % n] += f[x * N + y];
    }
  }
}

static float *to_float(const double *a, int64_t n) {
  float *f = malloc((size_t)n * sizeof *f);
  if (f)
    for (int64_t i = 0; i < n; i++) f[i] = (float)a[i];
  return f;
}

/* The 1-D factor of phi along an axis of n samples: f = Re FFT(sum_e exp(-(x + e n)^2
 * / 2 sigma^2)), length n. */
static void phi_factor(int64_t n, double sigma, double *f) {
  double complex *g = fftw_malloc(sizeof *g * (size_t)n), *t = fftw_malloc(sizeof *t * (size_t)n);
  GDL_ASSERT(g && t, "scattering2d: out of memory");
  for (int64_t x = 0; x < n; x++) {
    double v = 0;
    for (int e = -2; e <= 2; e++) {
      double X = (double)x + (double)e * n;
      v += exp(-X * X / (2 * sigma * sigma));
    }
    g[x] = v;
  }
  fftw_plan pl;
  GDL_OMP(omp critical(gdl_fftw_planner))
  pl = fftw_plan_dft_1d((int)n, g, t, FFTW_FORWARD, FFTW_ESTIMATE);
  fftw_execute(pl);
  GDL_OMP(omp critical(gdl_fftw_planner))
  fftw_destroy_plan(pl);
  for (int64_t x = 0; x < n; x++) f[x] = creal(t[x]);
  fftw_free(g);
  fftw_free(t);
}

/* The subsampling matrix of one axis at level r: out[u, x] = k_r[(k (u + 1) - x) mod m] s,
 * k_r = Re IFFT(level r of f), m = n / 2^r, k = 2^(J - r), u < nout. */
static void lowpass_matrix(const double *f, int64_t n, int r, int J, int64_t nout, double s, double *out) {
  int64_t m = n >> r, k = (int64_t)1 << (J - r);
  double *fr = calloc((size_t)m, sizeof *fr), *kr = calloc((size_t)m, sizeof *kr);
  GDL_ASSERT(fr && kr, "scattering2d: out of memory");
  int64_t sx = n >> (r + 1), lx = n - m;
  for (int64_t x = 0; x < n; x++)
    if (x < sx || x >= sx + lx) fr[x % m] += f[x];
  for (int64_t t = 0; t < m; t++) { /* Re of the normalised inverse DFT */
    double v = 0;
    for (int64_t w = 0; w < m; w++) v += fr[w] * cos(2 * M_PI * (double)((w * t) % m) / (double)m);
    kr[t] = v / (double)m;
  }
  for (int64_t u = 0; u < nout; u++)
    for (int64_t x = 0; x < m; x++) out[u * m + x] = kr[((k * (u + 1) - x) % m + m) % m] * s;
  free(fr);
  free(kr);
}

static gdl_status lowpass(gdl_scattering2d_plan *p) {
  int64_t M = p->Mp, N = p->Np;
  double sigma = 0.8 * ldexp(1, p->J - 1), c = 2 * 3.1415 * sigma * sigma;
  double *fx = malloc(sizeof(double) * (size_t)M), *fy = malloc(sizeof(double) * (size_t)N);
  if (!fx || !fy) {
    free(fx);
    free(fy);
    return GDL_ERR_NOMEM;
  }
  phi_factor(M, sigma, fx);
  phi_factor(N, sigma, fy);
  for (int64_t x = 0; x < M; x++)
    for (int64_t y = 0; y < N; y++) p->phi_full[x * N + y] = fx[x] * fy[y] / c;
  gdl_status st = GDL_OK;
  for (int r = 0; r < p->J && !st; r++) {
    int64_t nr = p->oh * (M >> r), nc = p->ow * (N >> r);
    p->rows[r] = malloc(sizeof(double) * (size_t)nr);
    p->cols[r] = malloc(sizeof(double) * (size_t)nc);
    if (!p->rows[r] || !p->cols[r]) { st = GDL_ERR_NOMEM; break; }
    lowpass_matrix(fx, M, r, p->J, p->oh, 1 / c, p->rows[r]);
    lowpass_matrix(fy, N, r, p->J, p->ow, 1, p->cols[r]);
    if (!(p->rowsf[r] = to_float(p->rows[r], nr)) || !(p->colsf[r] = to_float(p->cols[r], nc))) st = GDL_ERR_NOMEM;
  }
  free(fx);
  free(fy);
  return st;
}

gdl_status gdl__scattering2d_filters(gdl_scattering2d_plan *p) {
  int64_t M = p->Mp, N = p->Np, MN = M * N;
  int J = p->J, L = p->L;
  double complex *g = fftw_malloc(sizeof *g * (size_t)MN), *g0 = fftw_malloc(sizeof *g0 * (size_t)MN);
  double complex *tmp = fftw_malloc(sizeof *tmp * (size_t)MN);
  p->psi_full = malloc(sizeof(double) * (size_t)(MN * J * L));
  p->phi_full = malloc(sizeof(double) * (size_t)MN);
  p->psi = calloc((size_t)(J * L * J), sizeof *p->psi);
  p->psif = calloc((size_t)(J * L * J), sizeof *p->psif);
  gdl_status st = g && g0 && tmp && p->psi_full && p->phi_full && p->psi && p->psif ? GDL_OK : GDL_ERR_NOMEM;
  for (int j = 0; !st && j < J; j++)
    for (int t = 0; !st && t < L; t++) {
      double sigma = 0.8 * ldexp(1, j), xi = 0.75 * M_PI / ldexp(1, j), slant = 4.0 / L;
      double theta = ((int)(L / 2.0 - 1) - t) * M_PI / L;
      memset(g, 0, sizeof *g * (size_t)MN);
      memset(g0, 0, sizeof *g0 * (size_t)MN);
      gabor(M, N, sigma, theta, xi, slant, g);
      gabor(M, N, sigma, theta, 0, slant, g0);
      double complex s = 0, s0 = 0;
      for (int64_t k = 0; k < MN; k++) {
        s += g[k];
        s0 += g0[k];
      }
      double complex K = s / s0;
      for (int64_t k = 0; k < MN; k++) g[k] -= K * g0[k];
      double *full = p->psi_full + (int64_t)(j * L + t) * MN;
      fourier_real(M, N, g, tmp, full);
      int levels = j + 1 < (J - 1 > 1 ? J - 1 : 1) ? j + 1 : (J - 1 > 1 ? J - 1 : 1);
      for (int r = 0; !st && r < levels; r++) {
        int64_t sz = (M >> r) * (N >> r);
        double *lv = malloc(sizeof(double) * (size_t)sz);
        if (!lv) { st = GDL_ERR_NOMEM; break; }
        periodize(full, M, N, r, lv);
        /* stored for the kernels: each value twice (it multiplies a complex number's
         * real and imaginary parts) and scaled by the 1/k^2 of the subsampling it
         * always goes with (k = 2^(j - r)) */
        double *pr = malloc(sizeof(double) * (size_t)(2 * sz)), sc = ldexp(1, -2 * (j - r));
        if (!pr) { free(lv); st = GDL_ERR_NOMEM; break; }
        for (int64_t i = 0; i < sz; i++) pr[2 * i] = pr[2 * i + 1] = lv[i] * sc;
        free(lv);
        p->psi[(j * L + t) * J + r] = pr;
        if (!(p->psif[(j * L + t) * J + r] = to_float(pr, 2 * sz))) st = GDL_ERR_NOMEM;
      }
    }
  if (!st) st = lowpass(p);
  fftw_free(g);
  fftw_free(g0);
  fftw_free(tmp);
  return st ? gdl_error(st, "scattering2d: out of memory building the filter bank") : GDL_OK;
}
