/* The R stage of equiangular samplings: FFT resampling in theta, which makes MW,
 * MWSS, DH and CC transforms exact while the Legendre sums always run on the L+1
 * symmetric rings t_j = pi j / L.
 *
 * Per m, F_m(t) = sum_{|k|<L} g_k e^{ikt} is a trigonometric polynomial on the
 * circle t in [0, 2pi) with parity F(-t) = p F(t), p = (-1)^(m+s). A grid of n rings
 * t_i = t0 + 2 pi i/N (N = 2n - [north pole] - [south pole] points once mirrored)
 * with N >= 2L-1 determines g_k by one FFT.
 *   synthesis: Legendre rings (N_L = 2L) -> g_k -> the sampling's rings.
 *   analysis:  the exact integral  a = int_0^pi F lam sin t dt  uses that F lam is a
 *              polynomial in cos t of degree <= 2L-2: evaluate F on the fine circle of
 *              N_w = 4L points, multiply by Clenshaw-Curtis weights (2L+1 nodes,
 *              exact to degree 2L), keep |k| < L (lam has no other frequencies) and
 *              return to the Legendre rings, where a = sum_j W_j lam(t_j).
 * Every step (mirror, FFT, spectrum move, weights, fold) has its adjoint, and the
 * adjoint chains run the steps backwards. */
#include <stdlib.h>

#include "sphere/sphere_internal.h"

/* CH columns of length N, each contiguous (FFTW is 2-3x faster so than interleaved) */
static fftw_plan many(int64_t N, int sign, fftw_complex *buf, unsigned fl) {
  int n = (int)N;
  return fftw_plan_many_dft(1, &n, GDL_SHT_CH, buf, NULL, 1, n, buf, NULL, 1, n, sign, fl);
}

gdl_status gdl__resample_setup(gdl_sht_plan *p) {
  const gdl_sampling *s = p->s;
  int L = p->L;
  p->nt = s->nring;
  p->npi = s->theta[0] < 1e-12;
  p->spi = fabs(s->theta[s->nring - 1] - M_PI) < 1e-12;
  p->Nt = 2 * p->nt - p->npi - p->spi;
  p->th0 = p->npi ? 0 : M_PI / (double)p->Nt;
  p->NL = 2 * L;
  p->Nw = 4 * L;
  p->synth_identity = p->npi && p->spi && p->nt == L + 1;
  if (p->Nt < 2 * L - 1)
    return gdl_error(GDL_ERR_ARG, "sht: %s sampling with %lld rings cannot hold bandlimit %d",
                     gdl_sampling_name(s->kind), (long long)p->nt, L);
  p->wext = malloc((size_t)p->Nw * sizeof(double));
  if (p->th0 != 0) {
    p->tph = malloc((size_t)L * 2 * sizeof(double));
    if (!p->tph) return gdl_error(GDL_ERR_NOMEM, "sht: out of memory");
    for (int k = 0; k < L; k++) p->tph[2 * k] = cos(k * p->th0), p->tph[2 * k + 1] = sin(k * p->th0);
  }
  double *w = malloc((size_t)(p->Nw / 2 + 1) * sizeof(double));
  int64_t nmax = p->Nt > p->Nw ? p->Nt : p->Nw;
  fftw_complex *buf = fftw_malloc((size_t)(nmax * GDL_SHT_CH) * sizeof(fftw_complex));
  if (!p->wext || !w || !buf) {
    free(w), fftw_free(buf);
    return gdl_error(GDL_ERR_NOMEM, "sht: out of memory");
  }
  gdl__cc_weights(p->Nw / 2 + 1, w);
  for (int64_t i = 0; i < p->Nw; i++) {
    int64_t j = i <= p->Nw / 2 ? i : p->Nw - i;
    p->wext[i] = (j == 0 || j == p->Nw / 2) ? w[j] : 0.5 * w[j];
  }
  free(w);
  /* the long theta FFTs run on every column of every transform: measuring their plans
   * (a fraction of a second, once) pays back 20-40% of their time */
  unsigned fl = (p->flags & GDL_SHT_MEASURE) || L >= 512 ? FFTW_MEASURE : FFTW_ESTIMATE;
  gdl__fftw_lock();
  p->pl_f = many(p->NL, FFTW_FORWARD, buf, fl), p->pl_b = many(p->NL, FFTW_BACKWARD, buf, fl);
  p->pw_f = many(p->Nw, FFTW_FORWARD, buf, fl), p->pw_b = many(p->Nw, FFTW_BACKWARD, buf, fl);
  gdl__fftw_unlock();
  fftw_free(buf);
  gdl_status st = gdl__dft_init(&p->pt_f, p->Nt, GDL_SHT_CH, FFTW_FORWARD, fl);
  if (!st) st = gdl__dft_init(&p->pt_b, p->Nt, GDL_SHT_CH, FFTW_BACKWARD, fl);
  if (st) return st;
  if (!p->pl_f || !p->pl_b || !p->pw_f || !p->pw_b)
    return gdl_error(GDL_ERR_UNSUPPORTED, "sht: FFTW could not plan the theta resampling");
  return GDL_OK;
}

void gdl__resample_free(gdl_sht_plan *p) {
  gdl__fftw_lock();
  fftw_plan *pl[] = {&p->pl_f, &p->pl_b, &p->pw_f, &p->pw_b};
  for (int k = 0; k < 4; k++)
    if (*pl[k]) fftw_destroy_plan(*pl[k]);
  gdl__fftw_unlock();
  gdl__dft_free(&p->pt_f), gdl__dft_free(&p->pt_b);
  free(p->wext), free(p->tph);
}

/* ---- steps on a chunk of CH columns: buf[i * CH + q] ------------------------------ */

#define CH GDL_SHT_CH
typedef struct {
  int64_t n, N; /* rings, extended points */
  bool npi;
} grid;

static inline int64_t mirror(const grid *g, int64_t i) {
  int64_t im = g->N - i - (g->npi ? 0 : 1);
  return im >= g->N ? im - g->N : im;
}

/* Buffers hold CH columns of N values, column q at buf + q N. */
#define AT(buf, N, i, q) (buf)[(int64_t)(q) * (N) + (i)]

/* rings -> extended circle; self-mirrored rings (poles) keep (1+p)/2 of the value. The
 * n rings and their mirrors are all N points, so only unused columns need zeros. Column
 * by column: the buffer's columns are N apart (a power of two for the Legendre rings,
 * where writing all CH at once made every store miss L1), the rings ld (odd lines). */
static void extend(const grid *g, const double *leg, int64_t ld, int64_t j0, int nq,
                   const double *par, fftw_complex *buf) {
  int64_t N = g->N;
  memset(buf + nq * N, 0, (size_t)((CH - nq) * N) * sizeof(fftw_complex));
  for (int q = 0; q < nq; q++) {
    double pr = par[q], ph = 0.5 * (1 + pr);
    fftw_complex *col = buf + q * N;
    const double *v = leg + 2 * (j0 + q);
    for (int64_t i = 0; i < g->n; i++) {
      int64_t im = mirror(g, i);
      double re = v[2 * i * ld], imv = v[2 * i * ld + 1];
      if (im == i) {
        col[i][0] = ph * re, col[i][1] = ph * imv;
      } else {
        col[i][0] = re, col[i][1] = imv;
        col[im][0] = pr * re, col[im][1] = pr * imv;
      }
    }
  }
}

/* adjoint of extend */
static void fold(const grid *g, const fftw_complex *buf, double *leg, int64_t ld, int64_t j0, int nq,
                 const double *par) {
  int64_t N = g->N;
  for (int q = 0; q < nq; q++) {
    double pr = par[q], ph = 0.5 * (1 + pr);
    const fftw_complex *col = buf + q * N;
    double *v = leg + 2 * (j0 + q);
    for (int64_t i = 0; i < g->n; i++) {
      int64_t im = mirror(g, i);
      if (im == i) {
        v[2 * i * ld] = ph * col[i][0], v[2 * i * ld + 1] = ph * col[i][1];
      } else {
        v[2 * i * ld] = col[i][0] + pr * col[im][0];
        v[2 * i * ld + 1] = col[i][1] + pr * col[im][1];
      }
    }
  }
}

/* out[k mod No] = in[k mod Ni] * f * e^{i k sg t0} for |k| < L, zero elsewhere
 * (ph: cos, sin of k t0 for k >= 0; NULL for t0 = 0) */
static void move(const fftw_complex *in, int64_t Ni, fftw_complex *out, int64_t No, int L, double f,
                 const double *ph, double sg) {
  for (int q = 0; q < CH; q++) {
    const fftw_complex *x = in + q * Ni;
    fftw_complex *y = out + q * No;
    memset(y + L, 0, (size_t)(No - 2 * L + 1) * sizeof(fftw_complex)); /* L <= k <= No - L */
    for (int k = -(L - 1); k <= L - 1; k++) {
      int64_t ki = k < 0 ? k + Ni : k, ko = k < 0 ? k + No : k;
      double c = f, s = 0;
      if (ph) c = f * ph[2 * abs(k)], s = (k < 0 ? -sg : sg) * f * ph[2 * abs(k) + 1];
      double re = x[ki][0], im = x[ki][1];
      y[ko][0] = re * c - im * s;
      y[ko][1] = re * s + im * c;
    }
  }
}

static void weigh(fftw_complex *b, int64_t N, const double *w) {
  for (int q = 0; q < CH; q++)
    for (int64_t i = 0; i < N; i++) AT(b, N, i, q)[0] *= w[i], AT(b, N, i, q)[1] *= w[i];
}

static void parities(const gdl_sht_plan *p, int64_t j0, int nq, double *par) {
  for (int q = 0; q < CH; q++) {
    int64_t m = j0 + q + p->mlo;
    par[q] = q < nq ? (((m + p->spin) & 1) ? -1 : 1) : 1;
  }
}

/* synthesis R_S: legL -> legT; with adjoint, R_S^H: legT -> legL */
void gdl__rs_synth(const gdl_sht_plan *p, const double *legL, double *legT, int64_t nb, bool adjoint) {
  int L = p->L;
  int64_t nm = p->nm, ld = p->ldl, nchunk = (nm + CH - 1) / CH;
  grid gl = {L + 1, p->NL, true};
  int64_t nmax = p->Nt > p->NL ? p->Nt : p->NL;
#pragma omp parallel
  {
    fftw_complex *a = fftw_malloc((size_t)(nmax * CH) * sizeof(fftw_complex));
    fftw_complex *b = fftw_malloc((size_t)(nmax * CH) * sizeof(fftw_complex));
    fftw_complex *S = fftw_malloc((size_t)(gdl__dft_scratch(&p->pt_f) + 1) * sizeof(fftw_complex));
    GDL_ASSERT(a && b && S, "sht: out of memory");
    double par[CH];
#pragma omp for schedule(dynamic, 1)
    for (int64_t cj = 0; cj < nb * nchunk; cj++) {
      int64_t c = cj / nchunk, j0 = (cj % nchunk) * CH;
      int nq = (int)(nm - j0 < CH ? nm - j0 : CH);
      parities(p, j0, nq, par);
      const double *lL = legL + 2 * c * (L + 1) * ld;
      const double *lT = legT + 2 * c * p->nt * ld;
      if (!adjoint) {
        extend(&gl, lL, ld, j0, nq, par, a);
        fftw_execute_dft(p->pl_f, a, a);
        move(a, p->NL, b, p->Nt, L, 1.0 / p->NL, p->tph, 1);
        gdl__dft_exec(&p->pt_b, b, S);
        for (int64_t i = 0; i < p->nt; i++)
          for (int q = 0; q < nq; q++) {
            ((double *)lT)[2 * (i * ld + j0 + q)] = AT(b, p->Nt, i, q)[0];
            ((double *)lT)[2 * (i * ld + j0 + q) + 1] = AT(b, p->Nt, i, q)[1];
          }
      } else {
        memset(b, 0, (size_t)(p->Nt * CH) * sizeof(fftw_complex));
        for (int64_t i = 0; i < p->nt; i++)
          for (int q = 0; q < nq; q++) {
            AT(b, p->Nt, i, q)[0] = lT[2 * (i * ld + j0 + q)];
            AT(b, p->Nt, i, q)[1] = lT[2 * (i * ld + j0 + q) + 1];
          }
        gdl__dft_exec(&p->pt_f, b, S);
        move(b, p->Nt, a, p->NL, L, 1.0 / p->NL, p->tph, -1);
        fftw_execute_dft(p->pl_b, a, a);
        fold(&gl, a, (double *)lL, ld, j0, nq, par);
      }
    }
    fftw_free(a), fftw_free(b), fftw_free(S);
  }
}

/* analysis R_A: legT -> weighted legL; with adjoint, R_A^H: legL -> legT */
void gdl__rs_anal(const gdl_sht_plan *p, const double *in, double *out, int64_t nb, bool adjoint) {
  int L = p->L;
  int64_t nm = p->nm, ld = p->ldl, nchunk = (nm + CH - 1) / CH, NL = p->NL, Nw = p->Nw, Nt = p->Nt;
  grid gt = {p->nt, Nt, p->npi};
  int64_t nmax = Nt > Nw ? Nt : Nw;
  double fw = (double)Nw / (double)NL;
#pragma omp parallel
  {
    fftw_complex *a = fftw_malloc((size_t)(nmax * CH) * sizeof(fftw_complex));
    fftw_complex *b = fftw_malloc((size_t)(nmax * CH) * sizeof(fftw_complex));
    fftw_complex *S = fftw_malloc((size_t)(gdl__dft_scratch(&p->pt_f) + 1) * sizeof(fftw_complex));
    GDL_ASSERT(a && b && S, "sht: out of memory");
    double par[CH];
#pragma omp for schedule(dynamic, 1)
    for (int64_t cj = 0; cj < nb * nchunk; cj++) {
      int64_t c = cj / nchunk, j0 = (cj % nchunk) * CH;
      int nq = (int)(nm - j0 < CH ? nm - j0 : CH);
      parities(p, j0, nq, par);
      if (!adjoint) {
        const double *lT = in + 2 * c * p->nt * ld;
        double *lL = out + 2 * c * (L + 1) * ld;
        extend(&gt, lT, ld, j0, nq, par, a);
        gdl__dft_exec(&p->pt_f, a, S);
        move(a, Nt, b, Nw, L, 1.0 / Nt, p->tph, -1);
        fftw_execute_dft(p->pw_b, b, b);
        weigh(b, Nw, p->wext);
        fftw_execute_dft(p->pw_f, b, b);
        move(b, Nw, a, NL, L, 1.0 / Nw, NULL, 1);
        fftw_execute_dft(p->pl_b, a, a);
        for (int64_t j = 0; j <= L; j++) {
          double f = fw * ((j == 0 || j == L) ? 1 : 2);
          for (int q = 0; q < nq; q++) {
            lL[2 * (j * ld + j0 + q)] = f * AT(a, NL, j, q)[0];
            lL[2 * (j * ld + j0 + q) + 1] = f * AT(a, NL, j, q)[1];
          }
        }
      } else {
        const double *lL = in + 2 * c * (L + 1) * ld;
        double *lT = out + 2 * c * p->nt * ld;
        memset(a, 0, (size_t)(NL * CH) * sizeof(fftw_complex));
        for (int64_t j = 0; j <= L; j++) {
          double f = fw * ((j == 0 || j == L) ? 1 : 2);
          for (int q = 0; q < nq; q++) {
            AT(a, NL, j, q)[0] = f * lL[2 * (j * ld + j0 + q)];
            AT(a, NL, j, q)[1] = f * lL[2 * (j * ld + j0 + q) + 1];
          }
        }
        fftw_execute_dft(p->pl_f, a, a);
        move(a, NL, b, Nw, L, 1.0 / Nw, NULL, 1);
        fftw_execute_dft(p->pw_b, b, b);
        weigh(b, Nw, p->wext);
        fftw_execute_dft(p->pw_f, b, b);
        move(b, Nw, a, Nt, L, 1.0 / Nt, p->tph, 1);
        gdl__dft_exec(&p->pt_b, a, S);
        fold(&gt, a, lT, ld, j0, nq, par);
      }
    }
    fftw_free(a), fftw_free(b), fftw_free(S);
  }
}
