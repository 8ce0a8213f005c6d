/* Spin 0: the Legendre stage with the recursion in y = cos^2 t, two degrees a step
 * (Ishioka 2018; libsharp and ducc0 do the same). For fixed m >= 0, with alpha_l and
 * gamma_l the recursion in x = cos t of legendre.c (beta = 0 at spin 0):
 *   lam_{m+2k+1} = x u_k,   lam_{m+2k} = (u_k + gamma_{m+2k} u_{k-1}) / alpha_{m+2k},
 *   u_{k+1} = (P_k y + Q_k) u_k - R_k u_{k-1},   u_0 = alpha_m lam_m,  u_{-1} = 0,
 *   with l = m + 2k + 1:  P_k = alpha_{l+1} alpha_l,
 *   Q_k = -gamma_{l+1} - alpha_{l+1} gamma_l / alpha_{l-1},  R_k = alpha_{l+1} gamma_l gamma_{l-1} / alpha_{l-1}
 * (the recursion in x applied twice, lam_{l-1} eliminated). One u_k per ring serves two
 * degrees. Synthesis, per ring pair (t, pi - t):
 *   F(t) = E + x O,  F(pi - t) = E - x O,  E = sum_k e_k u_k,  O = sum_k a_{m+2k+1} u_k,
 *   e_k = a_{m+2k} / alpha_{m+2k} + gamma_{m+2k+2} a_{m+2k+2} / alpha_{m+2k+2};
 * its adjoint, with S_k = sum u_k (F(t) + F(pi - t)) and T_k = sum u_k x (F(t) - F(pi - t)):
 *   a_{m+2k+1} = T_k,   a_{m+2k} = (S_k + gamma_{m+2k} S_{k-1}) / alpha_{m+2k}.
 * -m has the same u_k and a factor (-1)^m. Per degree and vector of ring pairs that is
 * three FMAs instead of four, and half the steps through the underflow range. As in
 * legendre.c, u_k = d_k mu_k with d_{k+1} = R_k d_{k-1}, which makes R = 1 for mu; the
 * start values, the scaled recursion and the blocks of rings are legendre.c's. Near the
 * poles the recursion runs in z = sin^2 t = 1 - y instead (ycoeffs says why): on the
 * equiangular grids that took the round trip error at L = 2048 from 2.3e-11 (recursion
 * in cos t) to 9e-13. */
#include "sphere/legendre.h"

/* e_k with 2^e_k > max(|B_k|, |A_k + B_k|) + 1 (1 from K on): ycoeffs' growth bound */
static inline int growth_bits(const double *A, const double *B, int k, int K) {
  if (k >= K) return 1;
  double b = fabs(B[k]), ab = fabs(A[k] + B[k]), c = (b > ab ? b : ab) + 1; /* (fmax: a call) */
  uint64_t u;
  memcpy(&u, &c, sizeof u);
  return (int)(u >> 52) - 1022;
}

/* For one m < L, into w: mu's recursion mu_{k+1} = (A_k v + B_k) mu_k - mu_{k-1} in two
 * forms, v = y = cos^2 t (A = P e, B = Q e: w->al, w->beP) and v = z = sin^2 t (A = -P e,
 * B = (P + Q) e: w->zA, w->zB), with e_k = d_k / d_{k+1}; d (w->beQ); 1 / alpha_l (w->ga)
 * and gamma_l (w->cl) for m <= l < L. The recursion is most sensitive to its coefficient
 * P y + Q ~ +-2 near the poles and the equator (there its two solutions nearly
 * coincide); each form is accurate at one end (the rounding of y = cos^2 t times P ~ 4
 * is what the z form avoids at the poles), so blocks of rings nearer a pole take z.
 * Returns K, the number of even degrees m + 2k < L (L: col0's). */
static int ycoeffs(const gdl_sht_plan *p, work *w, int m, int L) {
  int K = (L - m + 1) / 2;
  double *Ay = w->al, *By = w->beP, *Az = w->zA, *Bz = w->zB, *d = w->beQ, *al = w->ga, *g = w->cl;
  /* alpha_l (inverted at the end) and gamma_l for l < L; beta = 0 lands in Bz, set below */
  gdl__leg_coeffs(p->sqrt_tab, L + 1, m, 0, m, al, Bz, g);
  d[0] = 1;
  for (int k = 0; k + 1 < K; k++) {
    int l = m + 2 * k + 1;
    double f = al[l + 1] / al[l - 1], P = al[l + 1] * al[l];
    double Q = -g[l + 1] - f * g[l], R = f * g[l] * g[l - 1];
    d[k + 1] = k ? R * d[k - 1] : 1;
    double e = d[k] / d[k + 1];
    Ay[k] = P * e, By[k] = Q * e, Az[k] = -Ay[k], Bz[k] = (P + Q) * e;
  }
  Ay[K - 1] = By[K - 1] = Az[K - 1] = Bz[K - 1] = 0; /* the step past the last k is discarded */
  for (int l = m; l < L; l++) al[l] = 1 / al[l];
  /* The limits: |mu_{k+1}| <= (|c_k| + 1) max(|mu_k|, |mu_{k-1}|) with c_k = A_k y + B_k
   * (either form: the same c_k), |c_k| <= max(|B_k|, |A_k + B_k|) for y in [0, 1], and
   * |c_k| + 1 < 2^e_k. So a lane one unit below counting (values 2^-UNIT times its
   * state) whose state stays below 2^(400 - S_k), S_k = e_k + .. + e_{k+CHECK-1}, has no
   * value above 2^-60 before the next check: what BIG guarantees with the worst growth,
   * 2^17 a step, but the lanes start counting later (GL L = 2048: 5.6% fewer full
   * steps, the rescale checks the same). At the start (w->tiny, gdl__rec_start) a lane
   * counts from u_0 = 2^(-60 - S_0) on. */
  int S = 0;
  for (int k = 0; k < CHECK; k++) S += growth_bits(Ay, By, k, K);
  w->tiny = 60 + S + 0.5 * log2(2.0 * m + 3); /* u_0 = sqrt(2m+3) lam_m */
  for (int k = 0; k <= K; k++) { /* (only even k and K are read) */
    uint64_t u = (uint64_t)(1023 + 400 - (S < 1000 ? S : 1000)) << 52;
    memcpy(&w->lim[k], &u, sizeof u);
    S += growth_bits(Ay, By, k + CHECK, K) - growth_bits(Ay, By, k, K);
  }
  return K;
}

/* The block's recursion state and its form (z nearer a pole, else y: A, B), u_0 =
 * alpha_m lam_m; x: cos t per vector. */
static void ystart(rec *r, vd *x, const gdl_sht_plan *p, const work *w, const start_info *st, int m, int64_t pair0,
                   const double **A, const double **B) {
  bool polar = p->pz[pair0 + BL / 2] < 0.5;
  *A = polar ? w->zA : w->al, *B = polar ? w->zB : w->beP;
  gdl__rec_start(r, p, st, pair0, w->tiny);
  vd am = vsplat(p->sqrt_tab[2 * m + 3]);
  for (int b = 0; b < NB; b++) {
    x[b] = r->x[b], r->p1[b] *= am, r->x[b] = x[b] * x[b];
    if (polar) memcpy(&r->x[b], p->pz + pair0 + b * VL, sizeof(vd));
  }
}

/* ---- synthesis ------------------------------------------------------------------- */

/* Sums over k in [k, K) in registers for nv vectors of ring pairs (from v0): s[v*8 + q] +=
 * sum_k mu_k cf[k*w + q], q < w (e re, e im, o re, o im; then the same for -m): the
 * block's four vectors at once for one m (16 accumulators), one at a time for +m and -m.
 * act (the scaled phase): only these lanes add. The state is written back. */
static inline __attribute__((always_inline)) void synth_fused(rec *r, int v0, int nv, int w, int k, int K,
                                                               const double *A, const double *B, const double *cf,
                                                               vd *s, const vl *act) {
  vd y[NB], a[NB], b[NB], S[NB][8];
  for (int v = 0; v < nv; v++) {
    y[v] = r->x[v0 + v], a[v] = r->p0[v0 + v], b[v] = r->p1[v0 + v];
    for (int q = 0; q < w; q++) S[v][q] = act ? vsplat(0) : s[(v0 + v) * 8 + q];
  }
  for (; k + 1 < K; k += 2) { /* b: mu_k, a: mu_{k-1}; two steps swap their roles */
    for (int q = 0; q < w; q++) {
      vd c0 = vsplat(cf[k * w + q]);
      for (int v = 0; v < nv; v++) S[v][q] += b[v] * c0;
    }
    vd A0 = vsplat(A[k]), B0 = vsplat(B[k]);
    for (int v = 0; v < nv; v++) a[v] = (A0 * y[v] + B0) * b[v] - a[v];
    for (int q = 0; q < w; q++) {
      vd c1 = vsplat(cf[(k + 1) * w + q]);
      for (int v = 0; v < nv; v++) S[v][q] += a[v] * c1;
    }
    vd A1 = vsplat(A[k + 1]), B1 = vsplat(B[k + 1]);
    for (int v = 0; v < nv; v++) b[v] = (A1 * y[v] + B1) * a[v] - b[v];
  }
  if (k < K)
    for (int q = 0; q < w; q++)
      for (int v = 0; v < nv; v++) S[v][q] += b[v] * cf[k * w + q];
  for (int v = 0; v < nv; v++) {
    for (int q = 0; q < w; q++) s[(v0 + v) * 8 + q] = act ? s[(v0 + v) * 8 + q] + vand(S[v][q], act[v0 + v]) : S[v][q];
    r->p0[v0 + v] = a[v], r->p1[v0 + v] = b[v]; /* (after an even count of steps) */
  }
}

/* One map's sums over the block's four vectors from k on: w = 4 (+m; S4 vectors a
 * call, legendre.h) or 8 (+m, -m; one vector a call) */
static inline __attribute__((always_inline)) void synth_block(rec *r, int w, int k, int K, const double *A,
                                                               const double *B, const double *cf, vd *s,
                                                               const vl *act) {
  if (w == 8)
    for (int v = 0; v < NB; v++) synth_fused(r, v, 1, 8, k, K, A, B, cf, s, act);
  else
    for (int v = 0; v < NB; v += S4) synth_fused(r, v, S4, 4, k, K, A, B, cf, s, act);
}

/* A block's scaled phase for one map, CHECK steps at a time: the fused sums with the
 * scaled lanes' sums dropped (their lanes fixed between rescale checks), or the
 * recursion alone while no lane counts. Returns the first k of the unscaled rest. */
static int synth_scaled(rec *r, int w, int K, const double *A, const double *B, const double *lim, const double *cf,
                        vd *s) {
  int k = 0;
  vl act[NB];
  for (int ke; (ke = gdl__scaled_group(r, NULL, &k, K, A, B, lim, act, NULL)) >= 0;) {
    if (w == 8) synth_block(r, 8, k, ke, A, B, cf, s, act);
    else synth_block(r, 4, k, ke, A, B, cf, s, act);
    k = ke;
    gdl__rec_rescale(r, lim + k);
  }
  return k;
}

/* A chunk's sums, s[b*8 + q] += sum_j lam[j][b] cf[j*w + q]: w is a constant at each
 * call, so the accumulators stay in registers (with w a variable they went through
 * memory, a store-to-load chain each step: 3x the cost of the fused kernel's step). */
static inline __attribute__((always_inline)) void synth_chunk(vd (*lam)[NB], const double *f, int w, vd *s) {
  if (w == 4) { /* the block's 16 sums at once: 16 independent chains */
    vd t[NB][4];
    for (int b = 0; b < NB; b++)
      for (int q = 0; q < 4; q++) t[b][q] = s[b * 8 + q];
    for (int j = 0; j < CL; j++)
      for (int q = 0; q < 4; q++) {
        vd c = vsplat(f[j * 4 + q]);
        for (int b = 0; b < NB; b++) t[b][q] += lam[j][b] * c;
      }
    for (int b = 0; b < NB; b++)
      for (int q = 0; q < 4; q++) s[b * 8 + q] = t[b][q];
    return;
  }
  for (int b = 0; b < NB; b++) { /* +m and -m: a vector's 8 sums at a time */
    vd t[8];
    for (int q = 0; q < 8; q++) t[q] = s[b * 8 + q];
    for (int j = 0; j < CL; j++)
      for (int q = 0; q < 8; q++) t[q] += lam[j][b] * f[j * 8 + q];
    for (int q = 0; q < 8; q++) s[b * 8 + q] = t[q];
  }
}

void gdl__synth_m0(const gdl_sht_plan *p, work *w, int m, bool neg, const col0 *kc, double *leg, int64_t nb) {
  int L = kc->L, Lp = w->Lpad, W = neg ? 8 : 4, K = ycoeffs(p, w, m, L);
  int64_t ldr = kc->ldr;
  const double *d = w->beQ, *ia = w->ga, *g = w->cl;
  int64_t ld = p->ldl, colp = m - p->mlo, coln = -m - p->mlo;
  double sgm = (m & 1) ? -1 : 1;
  /* cf[c][k][q], q < W: e re, e im, o re, o im of m, then of -m; zero from K on */
  for (int64_t c = 0; c < nb; c++) {
    double *f = w->cf + c * 8 * Lp;
    memset(f + (K - 1) * W, 0, (size_t)(CL + 1) * W * sizeof(double)); /* k < K - 1: all written */
    for (int h = 0; h < (neg ? 2 : 1); h++) {
      const double *a = kc->a + c * kc->ldmap + h * kc->ldneg; /* a_{l, +-m} at a + ldr l */
      double *e = f + 4 * h;
      for (int k = 0; k < K; k++) {
        int l = m + 2 * k;
        const double *a0 = a + ldr * l; /* rows l + 1, l + 2 at a0[ldr], a0[2 ldr] */
        double er = ia[l] * a0[0], ei = ia[l] * a0[1];
        if (l + 2 < L) er += g[l + 2] * ia[l + 2] * a0[2 * ldr], ei += g[l + 2] * ia[l + 2] * a0[2 * ldr + 1];
        e[k * W] = d[k] * er, e[k * W + 1] = d[k] * ei;
        if (l + 1 < L) e[k * W + 2] = d[k] * a0[ldr], e[k * W + 3] = d[k] * a0[ldr + 1];
      }
    }
  }
  for (int64_t pair0 = p->npair_pad - BL; pair0 >= 0; pair0 -= BL) { /* equator first */
    rec r;
    vd x[NB];
    const double *A, *B;
    ystart(&r, x, p, w, kc->st, m, pair0, &A, &B);
    memset(w->acc, 0, (size_t)nb * NB * 8 * sizeof(vd));
    if (nb == 1) { /* one map: everything in registers, the scaled phase masked */
      int k = synth_scaled(&r, W, K, A, B, w->lim, w->cf, w->acc);
      if (k < K && neg) synth_block(&r, 8, k, K, A, B, w->cf, w->acc, NULL);
      else if (k < K) synth_block(&r, 4, k, K, A, B, w->cf, w->acc, NULL);
    }
    for (int kc0 = 0; nb > 1 && kc0 < K; kc0 += CL) {
      if (!gdl__rec_chunk(&r, kc0, 0, K, A, B, w->lamP)) continue; /* all below 2^-60 */
      for (int64_t c = 0; c < nb; c++) {
        const double *f = w->cf + c * 8 * Lp + kc0 * W;
        if (neg) synth_chunk(w->lamP, f, 8, w->acc + c * NB * 8);
        else synth_chunk(w->lamP, f, 4, w->acc + c * NB * 8);
      }
    }
    if (gdl__rec_all_scaled(&r)) break; /* nothing here, nor nearer the pole */
    for (int64_t c = 0; c < nb; c++) {
      double *lg = leg + c * p->nlr * ld * 2;
      for (int b = 0; b < NB; b++) { /* north E + x O, south E - x O */
        const vd *s = w->acc + (c * NB + b) * 8;
        vd sc = vsplat(1);
        if (kc->scale) memcpy(&sc, kc->scale + pair0 + b * VL, sizeof sc);
        for (int h = 0; h < (neg ? 2 : 1); h++) {
          const vd *e = s + 4 * h;
          vd sg = (h ? sgm : 1) * sc;
          vd v[4] = {sg * (e[0] + x[b] * e[2]), sg * (e[1] + x[b] * e[3]), sg * (e[0] - x[b] * e[2]),
                     sg * (e[1] - x[b] * e[3])};
          gdl__leg_put(p, lg, h ? coln : colp, pair0 + b * VL, v);
        }
      }
    }
  }
}

/* ---- adjoint ----------------------------------------------------------------------- */

/* acc[k*w + q] += sum over the block's vectors of mu_k G[v][q], q < w, for k >= k0 */
static inline __attribute__((always_inline)) void adj_fused(rec *r, int w, int k, int K, const double *A,
                                                             const double *B, const vd (*G)[8], vd *acc) {
  vd y[NB], a[NB], b[NB];
  for (int v = 0; v < NB; v++) y[v] = r->x[v], a[v] = r->p0[v], b[v] = r->p1[v];
  for (; k + 1 < K; k += 2) { /* b: mu_k, a: mu_{k-1}; two steps swap their roles */
    vd A0 = vsplat(A[k]), B0 = vsplat(B[k]);
    for (int v = 0; v < NB; v++) a[v] = (A0 * y[v] + B0) * b[v] - a[v];
    for (int q = 0; q < w; q++) { /* both steps' sums: one load of each G a turn */
      vd t0 = acc[k * w + q], t1 = acc[(k + 1) * w + q];
      for (int v = 0; v < NB; v++) {
        vd g = in_reg(G[v][q]); /* (else two loads: the forward 2-10% slower) */
        t0 += b[v] * g, t1 += a[v] * g;
      }
      acc[k * w + q] = t0, acc[(k + 1) * w + q] = t1;
    }
    vd A1 = vsplat(A[k + 1]), B1 = vsplat(B[k + 1]);
    for (int v = 0; v < NB; v++) b[v] = (A1 * y[v] + B1) * a[v] - b[v];
  }
  if (k < K)
    for (int q = 0; q < w; q++)
      for (int v = 0; v < NB; v++) acc[k * w + q] += b[v] * G[v][q];
  for (int v = 0; v < NB; v++) r->p0[v] = a[v], r->p1[v] = b[v]; /* (after an even count of steps) */
}

/* A block's scaled phase for one map (see gdl__rec_active); returns the first k of
 * the unscaled rest. */
static int adj_scaled(rec *r, int w, int K, const double *A, const double *B, const double *lim, const vd (*G)[8],
                      vd *acc) {
  int k = 0;
  vl act[NB];
  for (int ke; (ke = gdl__scaled_group(r, NULL, &k, K, A, B, lim, act, NULL)) >= 0;) {
    vd Gm[NB][8];
    for (int v = 0; v < NB; v++)
      for (int q = 0; q < w; q++) Gm[v][q] = vand(G[v][q], act[v]);
    if (w == 8) adj_fused(r, 8, k, ke, A, B, (const vd(*)[8])Gm, acc);
    else adj_fused(r, 4, k, ke, A, B, (const vd(*)[8])Gm, acc);
    k = ke;
    gdl__rec_rescale(r, lim + k);
  }
  return k;
}

void gdl__adj_m0(const gdl_sht_plan *p, work *w, int m, bool neg, const double *leg, const col0 *kc) {
  int L = kc->L, W = neg ? 8 : 4, K = ycoeffs(p, w, m, L);
  int64_t ldr = kc->ldr;
  const double *d = w->beQ, *ia = w->ga, *g = w->cl;
  int64_t colp = m - p->mlo, coln = -m - p->mlo;
  double sgm = (m & 1) ? -1 : 1;
  /* acc[k][q], q < W: S re, S im, T re, T im of m, then of -m; G[b][q]: the ring pairs'
   * F(t) + F(pi - t) and x (F(t) - F(pi - t)) in the same order */
  memset(w->acc, 0, (size_t)(K + CL) * W * sizeof(vd));
  int npend = 0;
  for (int64_t pair0 = p->npair_pad - BL; pair0 >= 0; pair0 -= BL) { /* equator first */
    rec r;
    vd x[NB];
    const double *A, *B;
    ystart(&r, x, p, w, kc->st, m, pair0, &A, &B);
    vd(*G)[8] = w->pend[npend].G;
    for (int b = 0; b < NB; b++) {
      vd *gv = G[b], f[4], sc = vsplat(1);
      if (kc->scale) memcpy(&sc, kc->scale + pair0 + b * VL, sizeof sc);
      for (int h = 0; h < 2; h++) {
        vd sg = (h ? sgm : 1) * sc;
        vd *o = gv + 4 * h;
        if (h && !neg) {
          o[0] = o[1] = o[2] = o[3] = vsplat(0);
          continue;
        }
        gdl__leg_get(p, leg, h ? coln : colp, pair0 + b * VL, f);
        o[0] = sg * (f[0] + f[2]), o[1] = sg * (f[1] + f[3]);
        o[2] = sg * x[b] * (f[0] - f[2]), o[3] = sg * x[b] * (f[1] - f[3]);
      }
    }
    /* everything in registers, the scaled phase masked, the rest later */
    int k = adj_scaled(&r, W, K, A, B, w->lim, (const vd(*)[8])G, w->acc);
    pending *b = &w->pend[npend]; /* (G was gathered into it) */
    if (k < K) b->r = r, b->A = A, b->B = B, b->k = k, npend++;
    else if (gdl__rec_all_scaled(&r)) break; /* nothing here, nor nearer the pole */
  }
  /* the blocks' rests, chunk by chunk (chunks of even length: adj_fused keeps its state) */
  for (int kc0 = 0, KC = KCHUNK / (VL * W); kc0 < K; kc0 += KC) {
    int e = kc0 + KC < K ? kc0 + KC : K;
    for (int i = 0; i < npend; i++) {
      pending *b = &w->pend[i];
      if (b->k >= e) continue;
      if (neg) adj_fused(&b->r, 8, b->k, e, b->A, b->B, (const vd(*)[8])b->G, w->acc);
      else adj_fused(&b->r, 4, b->k, e, b->A, b->B, (const vd(*)[8])b->G, w->acc);
      b->k = e;
    }
  }
  for (int h = 0; h < (neg ? 2 : 1); h++) {
    double *a = kc->a + h * kc->ldneg; /* a_{l, +-m} at a + ldr l */
    double pr = 0, pi = 0;             /* S_{k-1} */
    for (int k = 0; k < K; k++) {
      int l = m + 2 * k;
      double t[4];
      hsum4(w->acc + k * W + 4 * h, t);
      double sr = d[k] * t[0], si = d[k] * t[1], *a0 = a + ldr * l;
      a0[0] = ia[l] * (sr + g[l] * pr), a0[1] = ia[l] * (si + g[l] * pi);
      pr = sr, pi = si;
      if (l + 1 < L) a0[ldr] = d[k] * t[2], a0[ldr + 1] = d[k] * t[3];
    }
  }
}
