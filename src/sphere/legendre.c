/* The Legendre stage: coefficients a_lm <-> F_m(theta) on ring pairs, with the
 * spin-weighted Legendre functions computed on the fly (no tables).
 *
 *   sY_lm(t, p) = (-1)^s lam^s_lm(t) e^{imp},  lam^s_lm = sqrt((2l+1)/4pi) d^l_{m,-s}(t)
 *
 * This file has what every spin shares (start values, coefficients, the scaled recursion
 * over a block of rings) and the kernels for s != 0 at small m (larger m go through
 * spin 0: legendre_route.c); spin 0 recurses in cos^2 t instead (legendre0.c). For
 * m >= 0 two columns are recursed per north ring t: P_l =
 * lam(d^l_{m,-s}) and Q_l = lam(d^l_{m,s}). Symmetry gives the south ring pi - t and the
 * -m column from the same numbers:
 *   F_m(t)     = (-1)^s sum a_lm P_l        F_m(pi-t)  = (-1)^(s+m) sum (-1)^l a_lm Q_l
 *   F_-m(t)    = (-1)^m sum a_l,-m Q_l      F_-m(pi-t) = sum (-1)^l a_l,-m P_l
 * The three-term recursion in l for fixed (m, n), with R_l = sqrt((l^2-m^2)(l^2-n^2)):
 *   lam_{l+1} = (alpha_l x + beta_l) lam_l - gamma_l lam_{l-1},  x = cos t
 *   alpha_l = sqrt((2l+3)(2l+1)) (l+1) / R_{l+1},  beta_l = -sqrt((2l+3)(2l+1)) m n / (l R_{l+1}),
 *   gamma_l = sqrt((2l+3)/(2l-1)) (l+1) R_l / (l R_{l+1}),
 * started at l0 = max(|m|, |n|) from the closed form c^a s^b sqrt(binomial) (c, s =
 * cos, sin of t/2). Near the poles the start underflows although later l do not:
 * values carry an extended exponent (units of 2^460) until they reach 2^-TINY; while
 * scaled they count as zero (legendre.h says why no value above 2^-60 is lost). Blocks
 * of rings run from the equator to the poles, and once a block stays scaled for every
 * l < L, the blocks nearer the pole (smaller still) are skipped for that m.
 *
 * Vectors of VL ring pairs (GCC vector extensions; legendre.h), NB vectors per block
 * share each coefficient load; the l loop runs in chunks of CL whose values are kept in
 * L1 and reused by every map of the batch. */
#include <stdlib.h>

#include "sphere/legendre.h"

/* ---- per-m coefficients and start values ----------------------------------- */

/* d^{l0}_{m,n}, l0 = max(|m|,|n|), m >= 0 (c = cos t/2, s = sin t/2):
 *   m >= |n|: (-1)^(m-n) sqrt(C(2m, m+n)) c^(m+n) s^(m-n)
 *   n = l0:   sqrt(C(2l, l+m)) c^(l+m) s^(l-m)
 *   n = -l0:  (-1)^(l+m) sqrt(C(2l, l-m)) c^(l-m) s^(l+m) */
static start_info start_of(int m, int n) {
  start_info si = {.m = m, .n = n};
  int an = abs(n), l = m >= an ? m : an, k;
  si.l0 = l;
  if (m >= an) {
    si.sign = ((m - n) & 1) ? -1 : 1, si.a = m + n, si.b = m - n, k = m + n;
  } else if (n > 0) {
    si.sign = 1, si.a = l + m, si.b = l - m, k = l + m;
  } else {
    si.sign = ((l + m) & 1) ? -1 : 1, si.a = l - m, si.b = l + m, k = l - m;
  }
  /* C(2l, k) = prod_{i=1..k} (2l - k + i) / i, renormalised as it goes */
  double mant = 1;
  int e = 0;
  for (int i = 1; i <= k; i++) {
    int ex;
    mant = frexp(mant * (double)(2 * l - k + i) / i, &ex);
    e += ex;
  }
  if (e & 1) mant *= 2, e--;
  si.fm = sqrt(mant) * sqrt((2 * l + 1) / (4 * M_PI));
  si.fe = e / 2;
  si.lfm = log2(si.fm);
  return si;
}

/* Start value at one ring as v 2^(UNIT k), k <= 0, v >= 2^-TINY when k < 0. */
static inline void start_value(const start_info *si, double lc, double ls, double *v, double *k) {
  double E = si->fe;
  if (si->a) E += si->a * lc;
  if (si->b) {
    if (isinf(ls)) { /* pole: d^l_mn(0) = 0 unless the power of sin(t/2) is 0 */
      *v = 0, *k = 0;
      return;
    }
    E += si->b * ls;
  }
  double kk = floor((E + si->lfm + TINY) / UNIT);
  if (kk > 0) kk = 0;
  *k = kk;
  *v = si->sign * si->fm * exp2(E - UNIT * kk);
}

/* The start values' m-dependent parts, per plan: [2 m] for n = -s, [2 m + 1] for n = s,
 * and for n = 0 at [2 L + m] on spin != 0 plans (the route through spin 0). */
gdl_status gdl__leg_setup(gdl_sht_plan *p) {
  start_info *t = malloc((p->spin ? 3 : 2) * (size_t)p->L * sizeof(start_info));
  if (!t) return gdl_error(GDL_ERR_NOMEM, "sht: out of memory");
  for (int m = 0; m < p->L; m++) t[2 * m] = start_of(m, -p->spin), t[2 * m + 1] = start_of(m, p->spin);
  if (p->spin)
    for (int m = 0; m < p->L; m++) t[2 * p->L + m] = start_of(m, 0);
  p->starts = t;
  return p->spin ? gdl__route_setup(p) : GDL_OK;
}

static inline vd vload(const double *p) {
  vd v;
  memcpy(&v, p, sizeof v);
  return v;
}
static inline void vstore(double *p, vd v) { memcpy(p, &v, sizeof v); }
static inline vd vodd(const double *p) { /* p[0], p[2], ..., p[2 VL - 2] */
#if VL == 8
  return __builtin_shuffle(vload(p), vload(p + 8), (vl){0, 2, 4, 6, 8, 10, 12, 14});
#else
  return __builtin_shuffle(vload(p), vload(p + 4), (vl){0, 2, 4, 6});
#endif
}

/* alpha, beta (for n), gamma at one l (legendre.h: gdl__leg_coeffs for l0 <= l < L-1) */
static inline void coeffs_at(const double *sq, int m, int n, int l0, int l, double *al, double *be, double *ga) {
  int an = abs(n);
  double R1 = sq[l + 1 - m] * sq[l + 1 + m] * sq[l + 1 - an] * sq[l + 1 + an];
  double R0 = sq[l - m] * sq[l + m] * sq[l - an] * sq[l + an];
  double f = sq[2 * l + 3] * sq[2 * l + 1] / R1;
  al[l] = f * (l + 1);
  be[l] = (m && n) ? -f * m * n / l : 0;
  ga[l] = l > l0 ? sq[2 * l + 3] / sq[2 * l - 1] * (l + 1) * R0 / (l * R1) : 0;
}

/* VL l to a vector after the first (the divisions dominated the per-m setup of every
 * transform while they ran one l at a time). */
void gdl__leg_coeffs(const double *sq, int L, int m, int n, int l0, double *al, double *be, double *ga) {
  int an = abs(n), l = l0;
  if (l < L - 1) coeffs_at(sq, m, n, l0, l++, al, be, ga); /* l0: no gamma; sq[2 l0 - 1] may not exist */
  vd lane;
  for (int i = 0; i < VL; i++) lane[i] = i;
  for (; l + VL <= L - 1; l += VL) { /* coeffs_at's operations in its order: the same bits */
    vd R1 = vload(sq + l + 1 - m) * vload(sq + l + 1 + m) * vload(sq + l + 1 - an) * vload(sq + l + 1 + an);
    vd R0 = vload(sq + l - m) * vload(sq + l + m) * vload(sq + l - an) * vload(sq + l + an);
    vd s3 = vodd(sq + 2 * l + 3), lv = vsplat(l) + lane, f = s3 * vodd(sq + 2 * l + 1) / R1;
    vstore(al + l, f * (lv + 1));
    vstore(be + l, (m && n) ? -f * (double)m * (double)n / lv : vsplat(0));
    vstore(ga + l, s3 / vodd(sq + 2 * l - 1) * (lv + 1) * R0 / (lv * R1));
  }
  for (; l < L - 1; l++) coeffs_at(sq, m, n, l0, l, al, be, ga);
}

/* The kernels recurse mu_l = lam_l / c_l with c_{l0} = c_{l0+1} = 1 and
 * c_{l+1} = gamma_l c_{l-1}, which turns the recursion into two FMAs:
 *   mu_{l+1} = (alpha'_l x + beta'_l) mu_l - mu_{l-1},  (alpha', beta') = (alpha, beta) c_l / c_{l+1}.
 * c_l multiplies the coefficients instead (once per m and l). */
static void coeffs_scaled(const double *sq, int L, int m, int n, int l0, double *al, double *be, double *ga,
                          double *cl) {
  gdl__leg_coeffs(sq, L, m, n, l0, al, be, ga);
  cl[l0] = 1;
  if (l0 + 1 < L) cl[l0 + 1] = 1;
  for (int l = l0 + 1; l < L - 1; l++) cl[l + 1] = ga[l] * cl[l - 1];
  for (int l = l0; l < L - 1; l++) {
    double f = cl[l] / cl[l + 1];
    al[l] *= f, be[l] *= f;
  }
}

/* ---- the recursion over a block of NB vectors --------------------------------- */

/* floor of each lane (|x| < 2^51): rounded to an integer by adding and subtracting
 * 1.5 2^52, not by conversions to integers and back, which AVX2 lacks for 64-bit lanes
 * (GCC made them 82 scalar conversions per gdl__rec_start, 2-3% of a transform) */
static inline vd vfloor(vd x) {
  const vd shift = vsplat(0x1.8p52);
  vd t = (x + shift) - shift;
  return t - vand(vsplat(1), (vl)(t > x));
}

/* 2^e[b] for e in [-1000, 1000] per lane, the block's NB vectors: 2^n times a degree-13
 * Taylor series of e^{f ln 2}, |f| <= 1/2 (error below 2e-16). The NB series run side
 * by side: one after the other, each waited on its own chain of 13 FMAs (Horner's
 * rule: a third of gdl__rec_start's time). */
static inline void vexp2(const vd *e, vd *out) {
  static const double inv_fact[13] = {1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720,
                                      1.0 / 5040, 1.0 / 40320, 1.0 / 362880, 1.0 / 3628800,
                                      1.0 / 39916800, 1.0 / 479001600};
  vd n[NB], y[NB], t[NB];
  for (int b = 0; b < NB; b++)
    n[b] = vfloor(e[b] + 0.5), y[b] = (e[b] - n[b]) * M_LN2, t[b] = vsplat(1.0 / 6227020800.0); /* 1/13! */
  for (int k = 12; k >= 0; k--)
    for (int b = 0; b < NB; b++) t[b] = t[b] * y[b] + inv_fact[k];
  /* 2^n: n + 1023 is the low mantissa bits of n + 1023 + 2^52, moved to the exponent */
  for (int b = 0; b < NB; b++) out[b] = t[b] * (vd)(((vl)(n[b] + (1023 + 0x1p52)) & 0x7ff) << 52);
}

/* The start values lam_{l0} of the block's rings, as v 2^(UNIT k) with k <= 0 and
 * v >= 2^-tiny where k < 0 (in vectors: this runs once per m and block). */
void gdl__rec_start(rec *r, const gdl_sht_plan *p, const start_info *si, int64_t pair0, double tiny) {
  vd fe = vsplat(si->fe), fa = vsplat(si->a), fb = vsplat(si->b), sf = vsplat(si->sign * si->fm);
  vd lfm = vsplat(si->lfm), zero = vsplat(0), E[NB], k[NB], v[NB];
  vl scaled = {0}, pole[NB];
  for (int b = 0; b < NB; b++) {
    vd lc, ls;
    memcpy(&lc, p->plc + pair0 + b * VL, sizeof lc); /* north rings: log2 cos(t/2) finite */
    memcpy(&ls, p->pls + pair0 + b * VL, sizeof ls); /* -inf at the north pole */
    memcpy(&r->x[b], p->px + pair0 + b * VL, sizeof(vd));
    pole[b] = ls < -1e300;
    E[b] = fe + fa * lc + fb * vsel(pole[b], zero, ls);
    k[b] = vfloor((E[b] + lfm + tiny) / UNIT);
    k[b] = vsel(k[b] > 0, zero, k[b]);
    E[b] -= UNIT * k[b];
  }
  vexp2(E, v);
  for (int b = 0; b < NB; b++) {
    v[b] *= sf;
    if (si->b) { /* d^l_mn(0) = 0 unless the power of sin(t/2) is 0 */
      v[b] = vsel(pole[b], zero, v[b]);
      k[b] = vsel(pole[b], zero, k[b]);
    }
    scaled |= k[b] < 0;
    r->p1[b] = v[b], r->kp[b] = k[b], r->p0[b] = zero;
  }
  r->scaled = any_lane(scaled);
}

/* Writes lam_l for l in [lc0, lc0 + CL) into lam[j][b] (zero below l0 and at or
 * above L, zero while scaled) and advances the recursion. While some lane is
 * scaled, its outputs are masked and the rescale check runs every CHECK steps (the
 * values grow by less than 2^17 a step, so BIG 2^(17 CHECK) = 2^400 stays finite). Returns
 * false when every value written is a masked zero: the caller's sums can skip it. */
bool gdl__rec_chunk(rec *r, int lc0, int l0, int L, const double *al, const double *be,
                      vd (*lam)[NB]) {
  int j = 0;
  bool nonzero = !r->scaled;
  for (; j < CL && lc0 + j < l0; j++)
    for (int b = 0; b < NB; b++) lam[j][b] = vsplat(0);
  vd x0 = r->x[0], x1 = r->x[1], x2 = r->x[2], x3 = r->x[3];
  vd a0 = r->p0[0], a1 = r->p0[1], a2 = r->p0[2], a3 = r->p0[3];
  vd b0 = r->p1[0], b1 = r->p1[1], b2 = r->p1[2], b3 = r->p1[3];
#define STEP(OUT0, OUT1, OUT2, OUT3)                                            \
  {                                                                             \
    int l = lc0 + j;                                                            \
    vd A = vsplat(al[l]), B = vsplat(be[l]);                                    \
    lam[j][0] = OUT0, lam[j][1] = OUT1, lam[j][2] = OUT2, lam[j][3] = OUT3;     \
    vd n0 = (A * x0 + B) * b0 - a0, n1 = (A * x1 + B) * b1 - a1;                \
    vd n2 = (A * x2 + B) * b2 - a2, n3 = (A * x3 + B) * b3 - a3;                \
    a0 = b0, a1 = b1, a2 = b2, a3 = b3;                                         \
    b0 = n0, b1 = n1, b2 = n2, b3 = n3;                                         \
  }
  if (!r->scaled) {
    /* two steps a turn, the two state registers swapping roles (no moves) */
    for (; j + 1 < CL && lc0 + j + 1 < L; j += 2) {
      int l = lc0 + j;
      vd A = vsplat(al[l]), B = vsplat(be[l]), C = vsplat(al[l + 1]), D = vsplat(be[l + 1]);
      lam[j][0] = b0, lam[j][1] = b1, lam[j][2] = b2, lam[j][3] = b3;
      a0 = (A * x0 + B) * b0 - a0, a1 = (A * x1 + B) * b1 - a1;
      a2 = (A * x2 + B) * b2 - a2, a3 = (A * x3 + B) * b3 - a3;
      lam[j + 1][0] = a0, lam[j + 1][1] = a1, lam[j + 1][2] = a2, lam[j + 1][3] = a3;
      b0 = (C * x0 + D) * a0 - b0, b1 = (C * x1 + D) * a1 - b1;
      b2 = (C * x2 + D) * a2 - b2, b3 = (C * x3 + D) * a3 - b3;
    }
    for (; j < CL && lc0 + j < L; j++) STEP(b0, b1, b2, b3)
  } else {
    while (j < CL && lc0 + j < L) {
      vl k0 = r->kp[0] == 0, k1 = r->kp[1] == 0, k2 = r->kp[2] == 0, k3 = r->kp[3] == 0;
      nonzero |= any_lane(k0 | k1 | k2 | k3);
      for (int e = j + CHECK; j < e && j < CL && lc0 + j < L; j++)
        STEP(vand(b0, k0), vand(b1, k1), vand(b2, k2), vand(b3, k3))
      r->p0[0] = a0, r->p0[1] = a1, r->p0[2] = a2, r->p0[3] = a3;
      r->p1[0] = b0, r->p1[1] = b1, r->p1[2] = b2, r->p1[3] = b3;
      gdl__rec_rescale(r, NULL);
      a0 = r->p0[0], a1 = r->p0[1], a2 = r->p0[2], a3 = r->p0[3];
      b0 = r->p1[0], b1 = r->p1[1], b2 = r->p1[2], b3 = r->p1[3];
    }
  }
#undef STEP
  r->p0[0] = a0, r->p0[1] = a1, r->p0[2] = a2, r->p0[3] = a3;
  r->p1[0] = b0, r->p1[1] = b1, r->p1[2] = b2, r->p1[3] = b3;
  for (; j < CL; j++)
    for (int b = 0; b < NB; b++) lam[j][b] = vsplat(0);
  return nonzero;
}

/* ---- fused kernels ----------------------------------------------------------------
 * One map's l loop, the recursion and the sums over l in registers (no lambda written
 * to L1 and read back): from where a block is out of the scaled range to L, and in the
 * scaled phase CHECK steps at a time with the scaled lanes masked. l: first l (the
 * recursion's state holds lam_{l-1}, lam_l; written back). Q's beta is -beP. */

/* FV vectors of ring pairs from v0, +m and (neg) -m, added into synth_m's
 * accumulators A[v*16 + ..] (0..3: a P, 4..7: b P, 8..11: a Q, 12..15: b Q; each even re,
 * even im, odd re, odd im). Here the parity is folded in as it goes (odd l subtract), so
 * each ring value needs one sum: sum a P -> 0,1; sum (-1)^l b P -> 4,5; sum (-1)^l a Q
 * -> 8,9; sum b Q -> 12,13. c6[8 l + 0..5]: alpha, beta (P), a re, a im, b re, b im at
 * l (one stream: six had run out of general registers on x86-64), broadcast here; or,
 * when cv is given, the same in every lane of cv[6 l + 0..5] (synth_one says why). */
static inline __attribute__((always_inline)) void fused_synth(rec *rp, rec *rq, int v0, int l, int L,
                                                              const double *c6, const vd *cv, vd *A, bool neg,
                                                              const vl *mP, const vl *mQ) {
#define COEF(j, q) (cv ? cv[6 * (ptrdiff_t)(j) + (q)] : vsplat(c6[8 * (ptrdiff_t)(j) + (q)]))
  vd x[FV], pa[FV], pb[FV], qa[FV], qb[FV], s[FV][8];
  for (int v = 0; v < FV; v++) {
    x[v] = rp->x[v0 + v], pa[v] = rp->p0[v0 + v], pb[v] = rp->p1[v0 + v];
    qa[v] = rq->p0[v0 + v], qb[v] = rq->p1[v0 + v];
    for (int q = 0; q < 8; q++) s[v][q] = vsplat(0);
  }
#define SUM(P, Q, j, sg)                                                                         \
  do {                                                                                           \
    vd R = COEF(j, 2), I = COEF(j, 3);                                                           \
    for (int v = 0; v < FV; v++) {                                                               \
      s[v][0] += P[v] * R, s[v][1] += P[v] * I, s[v][4] sg## = Q[v] * R, s[v][5] sg## = Q[v] * I; \
    }                                                                                            \
    if (neg) {                                                                                   \
      vd R2 = COEF(j, 4), I2 = COEF(j, 5);                                                       \
      for (int v = 0; v < FV; v++) {                                                             \
        s[v][2] sg## = P[v] * R2, s[v][3] sg## = P[v] * I2, s[v][6] += Q[v] * R2, s[v][7] += Q[v] * I2; \
      }                                                                                          \
    }                                                                                            \
  } while (0)
#define REC(N, S, j)                                                                             \
  do {                                                                                           \
    vd Al = COEF(j, 0), Bp = COEF(j, 1);                                                         \
    for (int v = 0; v < FV; v++) {                                                               \
      p##N[v] = (Al * x[v] + Bp) * p##S[v] - p##N[v];                                            \
      q##N[v] = (Al * x[v] - Bp) * q##S[v] - q##N[v];                                            \
    }                                                                                            \
  } while (0)
  if ((l & 1) && l < L) {
    SUM(pb, qb, l, -);
    REC(a, b, l);
    for (int v = 0; v < FV; v++) {
      vd t = pa[v];
      pa[v] = pb[v], pb[v] = t, t = qa[v], qa[v] = qb[v], qb[v] = t;
    }
    l++;
  }
  for (; l + 1 < L; l += 2) {
    SUM(pb, qb, l, +);
    REC(a, b, l);
    SUM(pa, qa, l + 1, -);
    REC(b, a, l + 1);
  }
  if (l < L) SUM(pb, qb, l, +);
#undef SUM
#undef REC
#undef COEF
  for (int v = 0; v < FV; v++) {
    vd *o = A + (v0 + v) * 16;
    if (mP) { /* the scaled phase: only the lanes that count add */
      vl P = mP[v0 + v], Q = mQ[v0 + v];
      for (int q = 0; q < 8; q++) s[v][q] = vand(s[v][q], (q & 4) ? Q : P);
    }
    o[0] += s[v][0], o[1] += s[v][1], o[8] += s[v][4], o[9] += s[v][5];
    if (neg) o[4] += s[v][2], o[5] += s[v][3], o[12] += s[v][6], o[13] += s[v][7];
    rp->p0[v0 + v] = pa[v], rp->p1[v0 + v] = pb[v], rq->p0[v0 + v] = qa[v], rq->p1[v0 + v] = qb[v];
  }
}

/* A block's scaled phase for one map (see gdl__rec_skip): the sums of a group of
 * steps dropped on the scaled lanes (fixed between rescale checks). Returns the first l
 * of the unscaled rest. */
static int synth_scaled_gen(rec *rp, rec *rq, int l, int L, const double *al, const double *beP,
                            const double *c6, vd *A, bool neg) {
  vl aP[NB], aQ[NB];
  for (int e; (e = gdl__scaled_group(rp, rq, &l, L, al, beP, NULL, aP, aQ)) >= 0;) {
    for (int v = 0; v < NB; v += FV) {
      if (neg) fused_synth(rp, rq, v, l, e, c6, NULL, A, true, aP, aQ);
      else fused_synth(rp, rq, v, l, e, c6, NULL, A, false, aP, aQ);
    }
    l = e;
    gdl__rec_rescale(rp, NULL), gdl__rec_rescale(rq, NULL);
  }
  return l;
}

/* The adjoint over FA vectors of the block from v0, +m and (neg) -m:
 *   acc[l*4 + 0..1] += P (u re, u im) + (-1)^l Q (v re, v im)
 *   acc[l*4 + 2..3] += Q (u' re, u' im) + (-1)^l P (v' re, v' im)    (neg)
 * X: u, v, u', v' per vector as adj_m gathers them. */
static inline __attribute__((always_inline)) void fused_adjoint_gen(rec *rp, rec *rq, int v0, int l, int L,
                                                                    const double *al, const double *beP,
                                                                    const vd (*X)[8], vd *acc, bool neg) {
  const vd(*Xe)[8] = X + v0;
  vd Xd[FA][8]; /* v, v' negated (odd l) */
  vd x[FA], pa[FA], pb[FA], qa[FA], qb[FA]; /* b: l, a: l - 1; two steps a turn swap their roles */
  for (int v = 0; v < FA; v++) {
    for (int q = 0; q < 8; q++) Xd[v][q] = (q & 2) ? -Xe[v][q] : Xe[v][q];
    x[v] = rp->x[v0 + v], pa[v] = rp->p0[v0 + v], pb[v] = rp->p1[v0 + v];
    qa[v] = rq->p0[v0 + v], qb[v] = rq->p1[v0 + v];
  }
#define GEN_SUM(Y, P, Q, j)                                                                    \
  do {                                                                                         \
    vd t0 = acc[(j) * 4], t1 = acc[(j) * 4 + 1];                                               \
    for (int v = 0; v < FA; v++)                                                               \
      t0 = t0 + P[v] * Y[v][0] + Q[v] * Y[v][2], t1 = t1 + P[v] * Y[v][1] + Q[v] * Y[v][3];   \
    acc[(j) * 4] = t0, acc[(j) * 4 + 1] = t1;                                                  \
    if (neg) {                                                                                 \
      vd t2 = acc[(j) * 4 + 2], t3 = acc[(j) * 4 + 3];                                         \
      for (int v = 0; v < FA; v++)                                                             \
        t2 = t2 + Q[v] * Y[v][4] + P[v] * Y[v][6], t3 = t3 + Q[v] * Y[v][5] + P[v] * Y[v][7]; \
      acc[(j) * 4 + 2] = t2, acc[(j) * 4 + 3] = t3;                                            \
    }                                                                                          \
  } while (0)
#define GEN_REC(N, S, j) /* N = (alpha x +- beta) S - N for the P (+) and Q (-) columns */ \
  do {                                                                                     \
    vd A = vsplat(al[j]), B = vsplat(beP[j]);                                              \
    for (int v = 0; v < FA; v++) {                                                         \
      p##N[v] = (A * x[v] + B) * p##S[v] - p##N[v];                                        \
      q##N[v] = (A * x[v] - B) * q##S[v] - q##N[v];                                        \
    }                                                                                      \
  } while (0)
  if ((l & 1) && l < L) { /* odd start: one step alone, then the roles swap back */
    GEN_SUM(Xd, pb, qb, l);
    GEN_REC(a, b, l);
    for (int v = 0; v < FA; v++) {
      vd t = pa[v];
      pa[v] = pb[v], pb[v] = t, t = qa[v], qa[v] = qb[v], qb[v] = t;
    }
    l++;
  }
  for (; l + 1 < L; l += 2) {
    GEN_SUM(Xe, pb, qb, l);
    GEN_REC(a, b, l);
    GEN_SUM(Xd, pa, qa, l + 1);
    GEN_REC(b, a, l + 1);
  }
  if (l < L) GEN_SUM(Xe, pb, qb, l);
#undef GEN_SUM
#undef GEN_REC
  /* the state, for a caller that goes on (ending at an even l, so after no lone step) */
  for (int v = 0; v < FA; v++) {
    rp->p0[v0 + v] = pa[v], rp->p1[v0 + v] = pb[v], rq->p0[v0 + v] = qa[v], rq->p1[v0 + v] = qb[v];
  }
}

/* the block's NB vectors, FA at a time */
static inline __attribute__((always_inline)) void adjoint_block(rec *rp, rec *rq, int l, int L, const double *al,
                                                                const double *beP, const vd (*X)[8], vd *acc,
                                                                bool neg) {
  for (int v = 0; v < NB; v += FA) {
    if (neg) fused_adjoint_gen(rp, rq, v, l, L, al, beP, X, acc, true);
    else fused_adjoint_gen(rp, rq, v, l, L, al, beP, X, acc, false);
  }
}

/* A block's scaled phase for one map, up to even l (see gdl__rec_skip): the scaled
 * lanes' ring values zeroed, P multiplying X[.][0, 1, 6, 7], Q X[.][2..5]. Returns the
 * first l of the unscaled rest. */
static int adj_scaled_gen(rec *rp, rec *rq, int l, int L, const double *al, const double *beP,
                          const vd (*X)[8], vd *acc, bool neg) {
  vl aP[NB], aQ[NB];
  for (int e; (e = gdl__scaled_group(rp, rq, &l, L, al, beP, NULL, aP, aQ)) >= 0;) {
    vd Xm[NB][8];
    for (int b = 0; b < NB; b++)
      for (int q = 0; q < 8; q++) Xm[b][q] = vand(X[b][q], (q < 2 || q > 5) ? aP[b] : aQ[b]);
    adjoint_block(rp, rq, l, e, al, beP, (const vd(*)[8])Xm, acc, neg);
    l = e;
    gdl__rec_rescale(rp, NULL), gdl__rec_rescale(rq, NULL);
  }
  return l;
}

/* ---- per-thread workspace --------------------------------------------------------- */


void gdl__leg_work_init(work *w, const gdl_sht_plan *p, int64_t nb, bool analysis) {
  int L = p->L;
  memset(w, 0, sizeof *w);
  w->Lpad = L + CL + 2;
  size_t Lp = (size_t)w->Lpad;
  /* kept per thread between calls (large ones would page-fault afresh every call) */
  w->al = gdl__scratch(2, (11 + 4 * (size_t)nb) * Lp * sizeof(double));
  w->ab = gdl__scratch(6, (size_t)(nb * gdl__group_stride(L)) * sizeof(double));
  if (analysis) { /* (one map) the accumulators by degree; the blocks' rests */
    w->acc = gdl__scratch(5, Lp * 8 * sizeof(vd));
    w->pend = gdl__scratch(7, (size_t)(p->npair_pad / BL) * sizeof(pending));
  } else {
    /* cf: [nb][8][Lp], or one map's c6 [Lp][8] and chunk vectors [Lp][6] (synth_one) */
    size_t ncf = (size_t)nb * 8 * Lp, ncv = nb == 1 && p->spin ? 8 * Lp + 6 * VL * Lp : 0;
    w->cf = gdl__scratch(3, (ncf > ncv ? ncf : ncv) * sizeof(double));
    w->lamP = gdl__scratch(4, 2 * CL * NB * sizeof(vd)), w->lamQ = w->lamP + CL;
    w->acc = gdl__scratch(5, (size_t)nb * NB * 16 * sizeof(vd));
    if (nb == 1 && p->spin) w->rest = gdl__scratch(7, (size_t)(p->npair_pad / BL) * sizeof(synth_rest));
  }
  w->beP = w->al + Lp, w->beQ = w->al + 2 * Lp, w->ga = w->al + 3 * Lp, w->cl = w->al + 4 * Lp;
  w->zA = w->al + 5 * Lp, w->zB = w->al + 6 * Lp;
  w->up = w->al + 7 * Lp, w->dg = w->al + 8 * Lp, w->dn = w->al + 9 * Lp, w->lim = w->al + 10 * Lp;
  w->bt = w->al + 11 * Lp;
}

/* ---- synthesis ------------------------------------------------------------------- */

/* One map's ring values of the block from pair0: its sums A (synth_m's layout) into the
 * columns of m and (neg) -m. */
static void put_block(const gdl_sht_plan *p, double *lg, const vd *acc, int m, int64_t pair0, bool neg) {
  int64_t colp = m - p->mlo, coln = -m - p->mlo;
  double sgs = (p->spin & 1) ? -1 : 1, sgm = (m & 1) ? -1 : 1;
  for (int b = 0; b < NB; b++) {
    const vd *A = acc + b * 16;
    const vd *B = A + 4, *C = A + 8, *D = A + 12; /* b P, a Q, b Q */
    vd v[4] = {sgs * (A[0] + A[2]), sgs * (A[1] + A[3]), sgs * sgm * (C[0] - C[2]), sgs * sgm * (C[1] - C[3])};
    gdl__leg_put(p, lg, colp, pair0 + b * VL, v);
    if (neg) {
      vd u[4] = {sgm * (D[0] + D[2]), sgm * (D[1] + D[3]), B[0] - B[2], B[1] - B[3]};
      gdl__leg_put(p, lg, coln, pair0 + b * VL, u);
    }
  }
}

/* One map, spin != 0, its coefficients in w->cf as c6: each block's scaled phase
 * (masked sums into the block's own accumulators), then the unscaled rests l chunk by
 * l chunk over all blocks, the chunk's coefficients broadcast once into vectors that
 * stay in L1 (w->cf after c6), then the ring values. On Zen 3 every broadcast in the
 * kernel takes a floating-point pipe (a stand-alone loop of its twelve FMAs ran 13.8
 * cycles a step with six broadcasts, 7-7.5 from vectors in L1; the FMA bound is 6). */
static void synth_one(const gdl_sht_plan *p, work *w, int m, bool neg, double *lg) {
  int L = p->L, Lp = w->Lpad;
  const start_info *st = p->starts, *sP = st + 2 * m, *sQ = st + 2 * m + 1;
  const double *c6 = w->cf;
  vd *cv = (vd *)(w->cf + 8 * Lp);
  synth_rest *R = w->rest;
  int n = 0, l0 = sP->l0;
  for (int64_t pair0 = p->npair_pad - BL; pair0 >= 0; pair0 -= BL) { /* equator first */
    synth_rest *b = &R[n];
    gdl__rec_start(&b->r, p, sP, pair0, TINY);
    gdl__rec_start(&b->q, p, sQ, pair0, TINY);
    memset(b->S, 0, sizeof b->S);
    b->l = synth_scaled_gen(&b->r, &b->q, l0, L, w->al, w->beP, c6, b->S, neg);
    if (b->l >= L && gdl__rec_all_scaled(&b->r) && gdl__rec_all_scaled(&b->q)) break; /* nothing here, nor nearer the pole */
    n++;
  }
  for (int lc = l0 & ~1; lc < L; lc += SCHUNK) { /* chunks of even length: the kernel keeps its state */
    int e = lc + SCHUNK < L ? lc + SCHUNK : L;
    for (int j = lc; j < e; j++)
      for (int q = 0; q < 6; q++) cv[6 * j + q] = vsplat(c6[8 * j + q]);
    for (int i = 0; i < n; i++) {
      synth_rest *b = &R[i];
      for (int v = 0; v < NB && b->l < e; v += FV) {
        if (neg) fused_synth(&b->r, &b->q, v, b->l, e, NULL, cv, b->S, true, NULL, NULL);
        else fused_synth(&b->r, &b->q, v, b->l, e, NULL, cv, b->S, false, NULL, NULL);
      }
      if (b->l < e) b->l = e;
    }
  }
  for (int i = 0; i < n; i++) put_block(p, lg, R[i].S, m, p->npair_pad - BL * (i + 1), neg);
}

/* One m >= 0 (and -m when neg), spin s != 0: all blocks of ring pairs, all maps. Not
 * inlined: inlined into gdl__leg_synth's loop it ran 30% slower (GL L = 1024 spin 2,
 * Zen 3). */
static __attribute__((noinline)) void synth_m(const gdl_sht_plan *p, work *w, int m, bool neg, const double *am,
                                              double *leg, int64_t nb) {
  int L = p->L, s = p->spin, Lp = w->Lpad;
  const start_info *st = p->starts, sP = st[2 * m], sQ = st[2 * m + 1];
  int l0 = sP.l0;
  if (l0 >= L) return; /* leg already zero */
  coeffs_scaled(p->sqrt_tab, L, m, -s, l0, w->al, w->beP, w->ga, w->cl);
  for (int l = l0; l < L - 1; l++) w->beQ[l] = -w->beP[l];
  const double *cl = w->cl;
  if (nb == 1) { /* coefficients: one map c6[l][8] (fused_synth), more maps cf[c][0..3][l] */
    for (int l = l0; l < L; l++) {
      double *c6 = w->cf + 8 * l;
      const double *a = am + GROW * l, *b = a + 2 * MG;
      c6[0] = l < L - 1 ? w->al[l] : 0, c6[1] = l < L - 1 ? w->beP[l] : 0;
      c6[2] = cl[l] * a[0], c6[3] = cl[l] * a[1];
      c6[4] = neg ? cl[l] * b[0] : 0, c6[5] = neg ? cl[l] * b[1] : 0;
    }
    synth_one(p, w, m, neg, leg);
    return;
  }
  for (int64_t c = 0; c < nb; c++) {
    double *f = w->cf + c * 4 * Lp;
    const double *a = am + c * gdl__group_stride(L), *b = a + 2 * MG;
    for (int q = 0; q < 4; q++) { /* read from l0 & ~1 to L + CL: zero outside [l0, L) */
      f[q * Lp + (l0 & ~1)] = 0;
      memset(f + q * Lp + L, 0, (size_t)(Lp - L) * sizeof(double));
    }
    for (int l = l0; l < L; l++) {
      f[l] = cl[l] * a[GROW * l], f[Lp + l] = cl[l] * a[GROW * l + 1];
      if (neg) f[2 * Lp + l] = cl[l] * b[GROW * l], f[3 * Lp + l] = cl[l] * b[GROW * l + 1];
    }
  }
  for (int64_t pair0 = p->npair_pad - BL; pair0 >= 0; pair0 -= BL) { /* equator first */
    rec rp, rq;
    gdl__rec_start(&rp, p, &sP, pair0, TINY);
    gdl__rec_start(&rq, p, &sQ, pair0, TINY);
    memset(w->acc, 0, (size_t)nb * NB * 16 * sizeof(vd));
    for (int lc0 = l0 & ~1; lc0 < L; lc0 += CL) {
      bool nonzero = gdl__rec_chunk(&rp, lc0, l0, L, w->al, w->beP, w->lamP);
      nonzero |= gdl__rec_chunk(&rq, lc0, l0, L, w->al, w->beQ, w->lamQ);
      if (!nonzero) continue; /* still below 2^-60 on every ring: adds nothing */
      for (int64_t c = 0; c < nb; c++) {
        const double *ar = w->cf + c * 4 * Lp + lc0, *ai = ar + Lp, *br = ar + 2 * Lp, *bi = ar + 3 * Lp;
        vd *A0 = w->acc + c * NB * 16;
        /* A[b*16 + 0..3]: sum a P (even re, even im, odd re, odd im); 4..7: b P;
         * 8..11: a Q; 12..15: b Q. The b loop inside keeps 16 independent chains. */
        if (!neg) {
          vd s0[NB], s1[NB], s2[NB], s3[NB];
          for (int b = 0; b < NB; b++) s0[b] = A0[b * 16], s1[b] = A0[b * 16 + 1], s2[b] = A0[b * 16 + 2], s3[b] = A0[b * 16 + 3];
          for (int j = 0; j < CL; j += 2) {
            vd r0 = vsplat(ar[j]), i0 = vsplat(ai[j]), r1 = vsplat(ar[j + 1]), i1 = vsplat(ai[j + 1]);
#pragma GCC unroll 4
            for (int b = 0; b < NB; b++) {
              vd P0 = w->lamP[j][b], P1 = w->lamP[j + 1][b];
              s0[b] += P0 * r0, s1[b] += P0 * i0, s2[b] += P1 * r1, s3[b] += P1 * i1;
            }
          }
          for (int b = 0; b < NB; b++) A0[b * 16] = s0[b], A0[b * 16 + 1] = s1[b], A0[b * 16 + 2] = s2[b], A0[b * 16 + 3] = s3[b];
        } else {
          for (int b = 0; b < NB; b++) {
            vd *A = A0 + b * 16;
            vd a0 = A[0], a1 = A[1], a2 = A[2], a3 = A[3];
            vd b0 = A[4], b1 = A[5], b2 = A[6], b3 = A[7];
            for (int j = 0; j < CL; j += 2) {
              vd P0 = w->lamP[j][b], P1 = w->lamP[j + 1][b];
              a0 += P0 * ar[j], a1 += P0 * ai[j], a2 += P1 * ar[j + 1], a3 += P1 * ai[j + 1];
              b0 += P0 * br[j], b1 += P0 * bi[j], b2 += P1 * br[j + 1], b3 += P1 * bi[j + 1];
            }
            A[0] = a0, A[1] = a1, A[2] = a2, A[3] = a3, A[4] = b0, A[5] = b1, A[6] = b2, A[7] = b3;
          }
        }
        for (int b = 0; b < NB; b++) {
          vd *A = A0 + b * 16;
          vd a0 = A[8], a1 = A[9], a2 = A[10], a3 = A[11], b0 = A[12], b1 = A[13], b2 = A[14], b3 = A[15];
          for (int j = 0; j < CL; j += 2) {
            vd Q0 = w->lamQ[j][b], Q1 = w->lamQ[j + 1][b];
            a0 += Q0 * ar[j], a1 += Q0 * ai[j], a2 += Q1 * ar[j + 1], a3 += Q1 * ai[j + 1];
            if (neg) b0 += Q0 * br[j], b1 += Q0 * bi[j], b2 += Q1 * br[j + 1], b3 += Q1 * bi[j + 1];
          }
          A[8] = a0, A[9] = a1, A[10] = a2, A[11] = a3, A[12] = b0, A[13] = b1, A[14] = b2, A[15] = b3;
        }
      }
    }
    if (gdl__rec_all_scaled(&rp) && gdl__rec_all_scaled(&rq)) break; /* nothing here, nor nearer the pole */
    for (int64_t c = 0; c < nb; c++) put_block(p, leg + c * p->nlr * p->ldl * 2, w->acc + c * NB * 16, m, pair0, neg);
  }
}

/* Group g's coefficients (m in [g, g + MG), rows l >= max(m, |s|)) between the caller's
 * array and w->ab; -m on complex plans. */
static void group_copy(const gdl_sht_plan *p, double *alm, double *ab, int64_t nb, int g, bool to_ab) {
  int L = p->L, s = abs(p->spin);
  int64_t L2 = (int64_t)L * L, gs = gdl__group_stride(L);
  for (int64_t c = 0; c < nb; c++)
    for (int l = g > s ? g : s; l < L; l++) {
      double *row = alm + 2 * (c * L2 + (int64_t)l * l + l), *a = ab + c * gs + (int64_t)GROW * l;
      int n = (l < g + MG - 1 ? l : g + MG - 1) - g + 1; /* m = g .. g + n - 1 <= l */
      size_t bytes = 2 * (size_t)n * sizeof(double);
      if (to_ab) memcpy(a, row + 2 * g, bytes);
      else memcpy(row + 2 * g, a, bytes);
      if (p->real) continue; /* (their m < 0: real_rows) */
      for (int m = g > 0 ? g : 1; m < g + n; m++) { /* -m, descending in the row */
        double *b = a + 2 * (MG + m - g);
        if (to_ab) b[0] = row[-2 * m], b[1] = row[-2 * m + 1];
        else row[-2 * m] = b[0], row[-2 * m + 1] = b[1];
      }
    }
}

void gdl__leg_synth(const gdl_sht_plan *p, const double *alm, double *leg, int64_t nb) {
  gdl__zero(leg, sizeof(double) * (size_t)(nb * p->nlr * p->ldl) * 2);
  int L = p->L;
#pragma omp parallel
  {
    work w;
    gdl__leg_work_init(&w, p, nb, false);
/* groups of MG m: neighbouring columns of leg share cache lines, rows of alm too */
#pragma omp for schedule(dynamic, 1)
    for (int g = 0; g < L; g += MG) {
      group_copy(p, (double *)alm, w.ab, nb, g, true);
      for (int m = g; m < g + MG && m < L; m++) {
        const double *am = w.ab + 2 * (m - g);
        bool neg = !p->real && m > 0;
        col0 k = {L, gdl__start0(p, m), NULL, (double *)am, GROW, 2 * MG, gdl__group_stride(L)};
        if (p->spin == 0) gdl__synth_m0(p, &w, m, neg, &k, leg, nb);
        else if (m >= p->route_m) gdl__synth_route(p, &w, m, neg, am, leg, nb);
        else synth_m(p, &w, m, neg, am, leg, nb);
      }
    }
  }
}

/* ---- adjoint (analysis without weights) ------------------------------------------ */

/*   a_lm   += P_l u  + (-1)^l Q_l v,   u = (-1)^s F_m(t),   v = (-1)^(s+m) F_m(pi-t)
 *   a_l,-m += Q_l u' + (-1)^l P_l v',  u' = (-1)^m F_-m(t), v' = F_-m(pi-t)        */
static void adj_m(const gdl_sht_plan *p, work *w, int m, bool neg, const double *leg, double *am) {
  int L = p->L, s = p->spin;
  const start_info *st = p->starts, sP = st[2 * m], sQ = st[2 * m + 1];
  int l0 = sP.l0;
  if (l0 >= L) return;
  coeffs_scaled(p->sqrt_tab, L, m, -s, l0, w->al, w->beP, w->ga, w->cl);
  for (int l = l0; l < L - 1; l++) w->beQ[l] = -w->beP[l];
  int64_t colp = m - p->mlo, coln = -m - p->mlo;
  double sgs = (s & 1) ? -1 : 1, sgm = (m & 1) ? -1 : 1;
  /* accumulators are read for l in [l0 & ~1, L + CL) only */
  memset(w->acc + (size_t)(l0 & ~1) * 4, 0, (size_t)(L + CL - (l0 & ~1)) * 4 * sizeof(vd));
  int npend = 0;
  for (int64_t pair0 = p->npair_pad - BL; pair0 >= 0; pair0 -= BL) { /* equator first */
    rec rp, rq;
    gdl__rec_start(&rp, p, &sP, pair0, TINY);
    gdl__rec_start(&rq, p, &sQ, pair0, TINY);
    /* per b: u, v, u', v' as re/im vectors, gathered once per block */
    vd(*X)[8] = w->pend[npend].G;
    for (int b = 0; b < NB; b++) {
      vd *x = X[b];
      gdl__leg_get(p, leg, colp, pair0 + b * VL, x);
      x[0] *= sgs, x[1] *= sgs, x[2] *= sgs * sgm, x[3] *= sgs * sgm;
      if (neg) {
        gdl__leg_get(p, leg, coln, pair0 + b * VL, x + 4);
        x[4] *= sgm, x[5] *= sgm;
      } else {
        x[4] = x[5] = x[6] = x[7] = vsplat(0);
      }
    }
    /* everything in registers, the scaled phase masked, the rest later */
    int l = adj_scaled_gen(&rp, &rq, l0, L, w->al, w->beP, (const vd(*)[8])X, w->acc, neg);
    pending *b = &w->pend[npend]; /* (X was gathered into it) */
    if (l < L) b->r = rp, b->q = rq, b->k = l, npend++;
    else if (gdl__rec_all_scaled(&rp) && gdl__rec_all_scaled(&rq)) break; /* nothing here, nor nearer the pole */
  }
  /* the blocks' rests, l chunk by l chunk (chunks of even length: the kernel keeps its state) */
  for (int lc = l0 & ~1, LC = KCHUNK / (VL * 4); lc < L; lc += LC) {
    int e = lc + LC < L ? lc + LC : L;
    for (int i = 0; i < npend; i++) {
      pending *b = &w->pend[i];
      if (b->k >= e) continue;
      adjoint_block(&b->r, &b->q, b->k, e, w->al, w->beP, (const vd(*)[8])b->G, w->acc, neg);
      b->k = e;
    }
  }
  const vd *acc = w->acc;
  double *b = am + 2 * MG;
  for (int l = l0; l < L; l++) {
    am[GROW * l] = w->cl[l] * hsum(acc[l * 4]), am[GROW * l + 1] = w->cl[l] * hsum(acc[l * 4 + 1]);
    if (neg) b[GROW * l] = w->cl[l] * hsum(acc[l * 4 + 2]), b[GROW * l + 1] = w->cl[l] * hsum(acc[l * 4 + 3]);
  }
}

/* A real plan's m < 0 from a_{l,-m} = (-1)^m conj a_lm (and a real a_l0), row after row
 * once the adjoint is done: filled per group, each group wrote a piece of every row
 * (GL L = 2048 spin 0: 2.4% of a round trip's samples on that one store). */
static void real_rows(const gdl_sht_plan *p, double *alm) {
  int L = p->L; /* (real plans are spin 0: every row l is written) */
#pragma omp parallel for schedule(static)
  for (int64_t l = 0; l < L; l++) {
    double *row = alm + 2 * (l * l + l);
    row[1] = 0;
    for (int64_t m = 1; m <= l; m++) {
      double sg = (m & 1) ? -1 : 1;
      row[-2 * m] = sg * row[2 * m], row[-2 * m + 1] = -sg * row[2 * m + 1];
    }
  }
}

/* One map (sht.c runs a batch's analysis map after map: one map's kernels keep the
 * recursion and sums in registers, where a batch sharing each recursion through L1, as
 * the synthesis does, ran 25-35% slower). */
void gdl__leg_adjoint(const gdl_sht_plan *p, const double *leg, double *alm) {
  int L = p->L;
  /* every (l, m >= 0) is written below (m < 0 too on complex plans; real plans' come
   * from m > 0 afterwards) except l < |s|: the first s^2 */
  memset(alm, 0, sizeof(double) * 2 * (size_t)(p->spin * p->spin));
#pragma omp parallel
  {
    work w;
    gdl__leg_work_init(&w, p, 1, true);
/* groups of MG m: neighbouring columns of leg share cache lines, rows of alm too */
#pragma omp for schedule(dynamic, 1)
    for (int g = 0; g < L; g += MG) {
      for (int m = g; m < g + MG && m < L; m++) {
        double *am = w.ab + 2 * (m - g);
        bool neg = !p->real && m > 0;
        col0 k = {L, gdl__start0(p, m), NULL, am, GROW, 2 * MG, 0};
        if (p->spin == 0) gdl__adj_m0(p, &w, m, neg, leg, &k);
        else if (m >= p->route_m) gdl__adj_route(p, &w, m, neg, leg, am);
        else adj_m(p, &w, m, neg, leg, am);
      }
      group_copy(p, alm, w.ab, 1, g, false);
    }
  }
  if (p->real) real_rows(p, alm);
}

/* ---- scalar entry points ------------------------------------------------------------ */

void gdl_wigner_d_column(int L, int m, int n, double beta, double *out) {
  /* d^l_mn for m < 0 from d^l_{-m,-n} = (-1)^(m-n) d^l_mn */
  double flip = 1;
  if (m < 0) {
    flip = ((m - n) & 1) ? -1 : 1;
    m = -m, n = -n;
  }
  /* beta in (pi/2, pi]: the recursion runs at pi - beta with n -> -n:
   * d^l_mn(pi - b) = (-1)^(l+m) d^l_{m,-n}(b) */
  bool south = beta > M_PI / 2;
  double t = south ? M_PI - beta : beta;
  int nn = south ? -n : n;
  for (int l = 0; l < L; l++) out[l] = 0;
  start_info si = start_of(m, nn);
  int l0 = si.l0;
  if (l0 >= L) return;
  double *sq = malloc((size_t)(4 * L + 8) * sizeof(double)), *co = malloc(3 * (size_t)L * sizeof(double));
  GDL_ASSERT(sq && co, "wigner_d_column: out of memory");
  for (int k = 0; k < 4 * L + 8; k++) sq[k] = sqrt((double)k);
  gdl__leg_coeffs(sq, L, m, nn, l0, co, co + L, co + 2 * L);
  double v, k, x = cos(t), p0 = 0;
  start_value(&si, log2(cos(t / 2)), log2(sin(t / 2)), &v, &k);
  double p1 = v;
  for (int l = l0; l < L; l++) {
    double norm = sqrt(4 * M_PI / (2 * l + 1)), sg = south && ((l + m) & 1) ? -1 : 1;
    out[l] = k == 0 ? flip * sg * norm * p1 : 0;
    if (l + 1 < L) {
      double nx = (co[l] * x + co[L + l]) * p1 - co[2 * L + l] * p0;
      p0 = p1, p1 = nx;
      if (k < 0 && fabs(p1) > BIG) p0 *= SMALL, p1 *= SMALL, k += 1;
    }
  }
  free(sq), free(co);
}

gdl_status gdl_sph_harm(int L, int spin, double theta, double phi, double *ylm) {
  if (L < 1 || abs(spin) >= L)
    return gdl_error(GDL_ERR_ARG, "sph_harm: need L >= 1 and |spin| < L, got L=%d spin=%d", L, spin);
  if (!ylm) return gdl_error(GDL_ERR_ARG, "sph_harm: output is NULL");
  double *col = malloc((size_t)L * sizeof(double));
  if (!col) return gdl_error(GDL_ERR_NOMEM, "sph_harm: out of memory");
  for (int64_t i = 0; i < 2 * (int64_t)L * L; i++) ylm[i] = 0;
  double sgs = (spin & 1) ? -1 : 1;
  for (int m = -(L - 1); m < L; m++) {
    gdl_wigner_d_column(L, m, -spin, theta, col);
    for (int l = abs(m); l < L; l++) {
      double v = sgs * sqrt((2 * l + 1) / (4 * M_PI)) * col[l];
      ylm[2 * gdl__lm(l, m)] = v * cos(m * phi);
      ylm[2 * gdl__lm(l, m) + 1] = v * sin(m * phi);
    }
  }
  free(col);
  return GDL_OK;
}
