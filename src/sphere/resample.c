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
 * adjoint chains run the steps backwards. The adjoint of the mirror, restricted to a
 * parity, is (1 + p R) applied first: the adjoint chains symmetrise their input and
 * halve at the end, which lets them pair columns too (below). */
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

/* Two m columns share each FFT column. Every step between the rings is linear and
 * commutes with the reflection t -> -t, and neighbouring m have opposite parities, so
 * the sum of two extended columns goes through the steps at the cost of one, and each
 * column comes back at the end as the part of the result with its own parity. Pair r
 * of a chunk is columns j0 + 2r (parity p) and j0 + 2r + 1 (parity -p; absent when
 * nq is odd and r is the last pair). */

/* rings -> circle: column r = x_a + x_b with x[i] = s v_i, x[-i] = s p v_i, and at a
 * self-mirrored ring (a pole) sp v_i for the even member of the pair (the odd one is 0
 * there). The rings and their mirrors are all N points, so only unused columns need
 * zeros. Column by column: the buffer's columns are N apart (a power of two for the
 * Legendre rings, where writing all CH at once made every store miss L1). */
static void pair_in(const grid *g, const double *leg, int64_t ld, int64_t j0, int nq, double p, double s,
                    double sp, fftw_complex *buf) {
  int64_t N = g->N;
  int np = (nq + 1) / 2;
  memset(buf + np * N, 0, (size_t)((CH - np) * N) * sizeof(fftw_complex));
  for (int r = 0; r < np; r++) {
    fftw_complex *col = buf + r * N;
    const double *va = leg + 2 * (j0 + 2 * r), *vb = va + 2;
    bool hb = 2 * r + 1 < nq;
    for (int64_t i = 0; i < g->n; i++) {
      int64_t im = mirror(g, i), o = 2 * i * ld;
      /* rings ld apart defeat the hardware prefetcher; a pair in two starts a new line */
      if (!(r & 1) && i + 16 < g->n) __builtin_prefetch(va + o + 32 * ld);
      double ar = va[o], ai = va[o + 1], br = hb ? vb[o] : 0, bi = hb ? vb[o + 1] : 0;
      if (im == i) {
        col[i][0] = sp * (p > 0 ? ar : br), col[i][1] = sp * (p > 0 ? ai : bi);
      } else {
        col[i][0] = s * (ar + br), col[i][1] = s * (ai + bi);
        col[im][0] = s * p * (ar - br), col[im][1] = s * p * (ai - bi);
      }
    }
  }
}

/* circle -> rings, splitting each column w by parity: v_a[i] = s (w_i + p w_-i),
 * v_b[i] = s (w_i - p w_-i); at a pole sp w_i for the even member, 0 for the odd. */
static void pair_out(const grid *g, const fftw_complex *buf, double *leg, int64_t ld, int64_t j0, int nq,
                     double p, double s, double sp) {
  int64_t N = g->N;
  for (int r = 0; r < (nq + 1) / 2; r++) {
    const fftw_complex *col = buf + r * N;
    double *va = leg + 2 * (j0 + 2 * r), *vb = va + 2;
    bool hb = 2 * r + 1 < nq;
    for (int64_t i = 0; i < g->n; i++) {
      int64_t im = mirror(g, i), o = 2 * i * ld;
      if (!(r & 1) && i + 16 < g->n) __builtin_prefetch(va + o + 32 * ld, 1); /* as in pair_in */
      double ar, ai, br, bi;
      if (im == i) {
        double wr = sp * col[i][0], wi = sp * col[i][1];
        ar = p > 0 ? wr : 0, ai = p > 0 ? wi : 0, br = p > 0 ? 0 : wr, bi = p > 0 ? 0 : wi;
      } else {
        double er = s * col[i][0], ei = s * col[i][1], fr = s * p * col[im][0], fi = s * p * col[im][1];
        ar = er + fr, ai = ei + fi, br = er - fr, bi = ei - fi;
      }
      va[o] = ar, va[o + 1] = ai;
      if (hb) vb[o] = br, vb[o + 1] = bi;
    }
  }
}

/* y[j] = f x[j] e^{i sg t0 a}, a = k0 + dk j = |k|: move's k >= 0 run, and its k < 0
 * run with sg negated, as loops of their own, which vectorise (one loop choosing the
 * index per element did not) */
static void move_run(const fftw_complex *x, fftw_complex *y, int64_t n, int64_t k0, int64_t dk, double f,
                     const double *ph, double sg) {
  for (int64_t j = 0; j < n; j++) {
    int64_t a = k0 + dk * j; /* |k| */
    double c = ph ? f * ph[2 * a] : f, s = ph ? sg * f * ph[2 * a + 1] : 0;
    double re = x[j][0], im = x[j][1];
    y[j][0] = re * c - im * s;
    y[j][1] = re * s + im * c;
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
    move_run(x, y, L, 0, 1, f, ph, sg);                                        /* k = 0 .. L - 1 */
    move_run(x + Ni - (L - 1), y + No - (L - 1), L - 1, L - 1, -1, f, ph, -sg); /* k = 1 - L .. -1 */
  }
}

static void weigh(fftw_complex *b, int64_t N, const double *w) {
  for (int q = 0; q < CH; q++)
    for (int64_t i = 0; i < N; i++) AT(b, N, i, q)[0] *= w[i], AT(b, N, i, q)[1] *= w[i];
}

/* parity (-1)^(m+s) of the first column of a chunk (chunks start at even offsets) */
static double parity(const gdl_sht_plan *p, int64_t j0) { return ((j0 + p->mlo + p->spin) & 1) ? -1 : 1; }

/* synthesis R_S: legL -> legT; with adjoint, R_S^H: legT -> legL */
void gdl__rs_synth(const gdl_sht_plan *p, const double *legL, double *legT, int64_t nb, bool adjoint) {
  int L = p->L;
  int64_t nm = p->nm, ld = p->ldl, nchunk = (nm + 2 * CH - 1) / (2 * CH);
  grid gl = {L + 1, p->NL, true}, gt = {p->nt, p->Nt, p->npi};
  int64_t nmax = p->Nt > p->NL ? p->Nt : p->NL;
#pragma omp parallel
  {
    fftw_complex *a = fftw_malloc((size_t)(nmax * CH) * sizeof(fftw_complex));
    fftw_complex *b = fftw_malloc((size_t)(nmax * CH) * sizeof(fftw_complex));
    fftw_complex *S = fftw_malloc((size_t)(gdl__dft_scratch(&p->pt_f) + 1) * sizeof(fftw_complex));
    GDL_ASSERT(a && b && S, "sht: out of memory");
#pragma omp for schedule(dynamic, 1)
    for (int64_t cj = 0; cj < nb * nchunk; cj++) {
      int64_t c = cj / nchunk, j0 = (cj % nchunk) * 2 * CH;
      int nq = (int)(nm - j0 < 2 * CH ? nm - j0 : 2 * CH);
      double par = parity(p, j0);
      double *lL = (double *)legL + 2 * c * (L + 1) * ld, *lT = legT + 2 * c * p->nt * ld;
      if (!adjoint) {
        pair_in(&gl, lL, ld, j0, nq, par, 1, 1, a);
        fftw_execute_dft(p->pl_f, a, a);
        move(a, p->NL, b, p->Nt, L, 1.0 / p->NL, p->tph, 1);
        gdl__dft_exec(&p->pt_b, b, S);
        pair_out(&gt, b, lT, ld, j0, nq, par, 0.5, 1);
      } else { /* the input made symmetric: (1 + p R) on the rings, poles counted twice */
        pair_in(&gt, lT, ld, j0, nq, par, 1, 2, b);
        gdl__dft_exec(&p->pt_f, b, S);
        move(b, p->Nt, a, p->NL, L, 1.0 / p->NL, p->tph, -1);
        fftw_execute_dft(p->pl_b, a, a);
        pair_out(&gl, a, lL, ld, j0, nq, par, 0.5, 0.5);
      }
    }
    fftw_free(a), fftw_free(b), fftw_free(S);
  }
}

/* analysis R_A: legT -> weighted legL; with adjoint, R_A^H: legL -> legT. The
 * Legendre rings' weights: fw at the poles, 2 fw between (each stands for a mirror). */
void gdl__rs_anal(const gdl_sht_plan *p, const double *in, double *out, int64_t nb, bool adjoint) {
  int L = p->L;
  int64_t nm = p->nm, ld = p->ldl, nchunk = (nm + 2 * CH - 1) / (2 * CH), NL = p->NL, Nw = p->Nw, Nt = p->Nt;
  grid gl = {L + 1, NL, true}, gt = {p->nt, Nt, p->npi};
  int64_t nmax = Nt > Nw ? Nt : Nw;
  double fw = (double)Nw / (double)NL;
#pragma omp parallel
  {
    fftw_complex *a = fftw_malloc((size_t)(nmax * CH) * sizeof(fftw_complex));
    fftw_complex *b = fftw_malloc((size_t)(nmax * CH) * sizeof(fftw_complex));
    fftw_complex *S = fftw_malloc((size_t)(gdl__dft_scratch(&p->pt_f) + 1) * sizeof(fftw_complex));
    GDL_ASSERT(a && b && S, "sht: out of memory");
#pragma omp for schedule(dynamic, 1)
    for (int64_t cj = 0; cj < nb * nchunk; cj++) {
      int64_t c = cj / nchunk, j0 = (cj % nchunk) * 2 * CH;
      int nq = (int)(nm - j0 < 2 * CH ? nm - j0 : 2 * CH);
      double par = parity(p, j0);
      if (!adjoint) {
        const double *lT = in + 2 * c * p->nt * ld;
        double *lL = out + 2 * c * (L + 1) * ld;
        pair_in(&gt, lT, ld, j0, nq, par, 1, 1, a);
        gdl__dft_exec(&p->pt_f, a, S);
        move(a, Nt, b, Nw, L, 1.0 / Nt, p->tph, -1);
        fftw_execute_dft(p->pw_b, b, b);
        weigh(b, Nw, p->wext);
        fftw_execute_dft(p->pw_f, b, b);
        move(b, Nw, a, NL, L, 1.0 / Nw, NULL, 1);
        fftw_execute_dft(p->pl_b, a, a);
        pair_out(&gl, a, lL, ld, j0, nq, par, fw, fw);
      } else { /* symmetric input, as in R_S^H */
        const double *lL = in + 2 * c * (L + 1) * ld;
        double *lT = out + 2 * c * p->nt * ld;
        pair_in(&gl, lL, ld, j0, nq, par, 2 * fw, 2 * fw, a);
        fftw_execute_dft(p->pl_f, a, a);
        move(a, NL, b, Nw, L, 1.0 / Nw, NULL, 1);
        fftw_execute_dft(p->pw_b, b, b);
        weigh(b, Nw, p->wext);
        fftw_execute_dft(p->pw_f, b, b);
        move(b, Nw, a, Nt, L, 1.0 / Nt, p->tph, 1);
        gdl__dft_exec(&p->pt_b, a, S);
        pair_out(&gt, a, lT, ld, j0, nq, par, 0.5, 0.5);
      }
    }
    fftw_free(a), fftw_free(b), fftw_free(S);
  }
}
