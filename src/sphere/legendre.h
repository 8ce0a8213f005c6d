/* Internals shared by the Legendre stage's files: legendre.c (start values, the scaled
 * recursion in cos t, any spin), legendre0.c (spin 0 in cos^2 t) and legendre_route.c
 * (spin s != 0 at large m through legendre0.c's kernels). */
#ifndef GDL_SPHERE_LEGENDRE_H
#define GDL_SPHERE_LEGENDRE_H

#include "sphere/sphere_internal.h"

/* VL doubles a vector (sphere_internal.h: one register). The fused kernels keep their
 * state and sums in registers, so each carries as many vectors of ring pairs a call as
 * 32 (AVX-512) or 16 (AVX2) registers hold: FV the spin != 0 synthesis (thirteen
 * vectors each), FA its adjoint (five each, and four sums), S4 spin 0's synthesis of +m
 * (three each, and four sums). Spin 0's adjoint takes all NB at either width (with two
 * it ran 71 ms against 62 at GL L = 1024 on AVX2: its sums go through memory). */
#define VL GDL_SPHERE_VL
#if VL == 8
#define FV 2
#define FA 4
#define S4 4
#elif VL == 4
#define FV 1
#define FA 2
#define S4 2
#else
#error "GDL_SPHERE_VL: 4 or 8"
#endif
typedef double vd __attribute__((vector_size(VL * 8)));
typedef long long vl __attribute__((vector_size(VL * 8)));
#define NB 4 /* rec_chunk's hot loop is written out for 4 */
#define BL (VL * NB) /* ring pairs a block; the plan pads its pairs to a multiple of 32 */
#define CL 32

/* Values below 2^-TINY count as zero while they carry an extended exponent. The
 * recursion checks for rescaling every CHECK steps and grows by less than 2^17 a step,
 * so a value still counted as zero stays below 2^(-TINY + 17 CHECK) = 2^-60 (ducc's
 * ftol): no value above 2^-60 is ever dropped. Spin 0 (legendre0.c) bounds the growth
 * of the CHECK steps ahead from its coefficients instead, and its lanes start counting
 * nearer 2^-60 (GL L = 2048: 5.6% fewer full steps). */
#define CHECK 8
#define TINY 196
#define UNIT 460
#define BIG 0x1p264     /* 2^(UNIT - TINY): scaled values beyond this move up one unit */
#define SMALL 0x1p-460  /* one unit of the extended exponent */

#if VL == 8
static inline vd vsplat(double a) { return (vd){a, a, a, a, a, a, a, a}; }
#else
static inline vd vsplat(double a) { return (vd){a, a, a, a}; }
#endif
static inline vd vand(vd a, vl m) { return (vd)((vl)a & m); }
static inline vd vsel(vl m, vd a, vd b) { return (vd)(((vl)a & m) | ((vl)b & ~m)); }
static inline bool any_lane(vl m) { /* OR of the lanes, branch-free */
  vl t = m;
  long long o = 0;
  for (int i = 0; i < VL; i++) o |= t[i];
  return o != 0;
}
/* v, kept in a register: GCC folds each use of a value it loaded once into its own
 * memory operand, which in spin 0's adjoint made the loads, not the FMAs, the limit
 * (legendre0.c: adj_fused) */
static inline vd in_reg(vd v) {
#if defined(__AVX__) && (VL == 4 || defined(__AVX512F__)) /* (else vd is no one register) */
  __asm__("" : "+x"(v));
#endif
  return v;
}
static inline double hsum(vd a) { /* a tree of vector adds, not VL dependent scalar ones */
#if VL == 8
  a += __builtin_shuffle(a, (vl){4, 5, 6, 7, 0, 1, 2, 3});
  a += __builtin_shuffle(a, (vl){2, 3, 0, 1, 6, 7, 4, 5});
  a += __builtin_shuffle(a, (vl){1, 0, 3, 2, 5, 4, 7, 6});
#else
  a += __builtin_shuffle(a, (vl){2, 3, 0, 1});
  a += __builtin_shuffle(a, (vl){1, 0, 3, 2});
#endif
  return a[0];
}

/* s[j] = hsum(t[j]), j < 4, to the bit: for VL = 4 the four trees at once (9 vector
 * operations for 16) */
static inline void hsum4(const vd *t, double *s) {
#if VL == 4
  vd p = __builtin_shuffle(t[0], t[1], (vl){0, 1, 4, 5}) + __builtin_shuffle(t[0], t[1], (vl){2, 3, 6, 7});
  vd q = __builtin_shuffle(t[2], t[3], (vl){0, 1, 4, 5}) + __builtin_shuffle(t[2], t[3], (vl){2, 3, 6, 7});
  vd r = __builtin_shuffle(p, q, (vl){0, 4, 2, 6}) + __builtin_shuffle(p, q, (vl){1, 5, 3, 7});
  s[0] = r[0], s[1] = r[2], s[2] = r[1], s[3] = r[3];
#else
  for (int j = 0; j < 4; j++) s[j] = hsum(t[j]);
#endif
}

typedef struct {
  int m, n, l0;
  double sign;       /* of the start value */
  int a, b;          /* powers of cos(t/2), sin(t/2) */
  double fm, fe;     /* sqrt(binomial) sqrt((2l0+1)/4pi) = fm 2^fe */
  double lfm;        /* log2(fm) */
} start_info;

typedef struct {
  vd x[NB], p0[NB], p1[NB], kp[NB];
  bool scaled;
} rec;

/* The leg values of column col on the rings of the vector of ring pairs from q0:
 * v = north re, north im, south re, south im (0 where a pair has no such ring); and
 * their store. */
static inline void gdl__leg_get(const gdl_sht_plan *p, const double *lg, int64_t col, int64_t q0, vd *v) {
  for (int k = 0; k < 4; k++) v[k] = vsplat(0);
  for (int i = 0; i < VL; i++) {
    int64_t rn = p->pn[q0 + i], rs = p->ps[q0 + i];
    if (rn < 0) continue;
    const double *f = lg + 2 * (rn * p->ldl + col);
    v[0][i] = f[0], v[1][i] = f[1];
    if (rs < 0) continue;
    f = lg + 2 * (rs * p->ldl + col);
    v[2][i] = f[0], v[3][i] = f[1];
  }
}
static inline void gdl__leg_put(const gdl_sht_plan *p, double *lg, int64_t col, int64_t q0, const vd *v) {
  for (int i = 0; i < VL; i++) {
    int64_t rn = p->pn[q0 + i], rs = p->ps[q0 + i];
    if (rn < 0) continue;
    double *o = lg + 2 * (rn * p->ldl + col);
    o[0] = v[0][i], o[1] = v[1][i];
    if (rs < 0) continue;
    o = lg + 2 * (rs * p->ldl + col);
    o[0] = v[2][i], o[1] = v[3][i];
  }
}

static inline vd vabs(vd a) { return vand(a, ~(vl)vsplat(-0.0)); }

/* Which lanes of vector b of r move up one unit: those still scaled whose value passed
 * BIG; with a limit (spin 0: lim, the one of the k at hand, legendre0.c's ycoeffs says
 * how) the lanes one unit below counting only once max(|lam_k|, |lam_{k-1}|) passes it. */
static inline vl gdl__rec_up(const rec *r, int b, vd p0, vd p1, const double *lim) {
  vl up = (r->kp[b] < 0) & (vabs(p1) > BIG);
  if (!lim) return up;
  vl one = r->kp[b] == -1, pass = (vabs(p1) > *lim) | (vabs(p0) > *lim);
  return (one & pass) | (~one & up);
}

/* The rescale check on the state in r: the lanes gdl__rec_up says move up one unit;
 * r->scaled says whether any lane is still scaled. */
static inline void gdl__rec_rescale(rec *r, const double *lim) {
  vl big[NB], some = {0}, scaled = {0};
  for (int b = 0; b < NB; b++) {
    big[b] = gdl__rec_up(r, b, r->p0[b], r->p1[b], lim);
    some |= big[b];
  }
  if (!any_lane(some)) return; /* most checks: no lane moves, r->scaled stands */
  for (int b = 0; b < NB; b++) {
    r->p0[b] = vsel(big[b], r->p0[b] * SMALL, r->p0[b]);
    r->p1[b] = vsel(big[b], r->p1[b] * SMALL, r->p1[b]);
    r->kp[b] = vsel(big[b], r->kp[b] + 1, r->kp[b]);
    scaled |= r->kp[b] < 0;
  }
  r->scaled = any_lane(scaled);
}

/* The scaled phases of one map: while no lane counts, gdl__rec_skip; where some lane
 * counts, the fused kernels CHECK steps at a time with the scaled lanes masked (the
 * adjoints zero their ring values, the syntheses drop their sums of the group). That
 * replaces gdl__rec_chunk's stored, masked values and a second pass of sums there:
 * the forward 4-8% faster, the spin != 0 inverse 4-5%.
 *
 * The lanes that count (no longer scaled) now; false when none does. */
static inline bool gdl__rec_active(const rec *r, vl *act) {
  vl some = {0};
  for (int v = 0; v < NB; v++) act[v] = r->kp[v] == 0, some |= act[v];
  return any_lane(some);
}

/* The recursion alone while no lane counts, lam_{k+1} = (A_k x + B_k) lam_k - lam_{k-1}
 * for r and, when q is given, for q with B negated (spin != 0's Q): CHECK steps at a
 * time from k until a rescale makes some lane count (or K), which it returns. Between
 * rescales only |lam| > BIG is tested (every lane is scaled), not gdl__rec_rescale's
 * per-lane update (the two sequences apart with two full rescales a group had made it
 * check- and latency-bound). */
static inline __attribute__((always_inline)) int gdl__rec_skip(rec *r, rec *q, int k, int K, const double *A,
                                                                const double *B, const double *lim) {
  vd x[NB], a[NB], b[NB], c[NB], d[NB];
  for (int v = 0; v < NB; v++) {
    x[v] = r->x[v], a[v] = r->p0[v], b[v] = r->p1[v];
    if (q) c[v] = q->p0[v], d[v] = q->p1[v];
  }
  while (k < K) {
    int e = (k & ~1) + CHECK < K ? (k & ~1) + CHECK : K;
    /* two steps a turn, the state registers swapping roles (a step at a time spent a
     * register move per value and step on the FMA ports) */
    for (; k + 1 < e; k += 2) {
      vd A0 = vsplat(A[k]), B0 = vsplat(B[k]), A1 = vsplat(A[k + 1]), B1 = vsplat(B[k + 1]);
      for (int v = 0; v < NB; v++) {
        a[v] = (A0 * x[v] + B0) * b[v] - a[v], b[v] = (A1 * x[v] + B1) * a[v] - b[v];
        if (q) c[v] = (A0 * x[v] - B0) * d[v] - c[v], d[v] = (A1 * x[v] - B1) * c[v] - d[v];
      }
    }
    for (; k < e; k++) {
      vd Ak = vsplat(A[k]), Bk = vsplat(B[k]);
      for (int v = 0; v < NB; v++) {
        vd t = (Ak * x[v] + Bk) * b[v] - a[v];
        a[v] = b[v], b[v] = t;
        if (q) t = (Ak * x[v] - Bk) * d[v] - c[v], c[v] = d[v], d[v] = t;
      }
    }
    vl big = {0};
    for (int v = 0; v < NB; v++) {
      big |= gdl__rec_up(r, v, a[v], b[v], lim ? lim + k : NULL);
      if (q) big |= gdl__rec_up(q, v, c[v], d[v], NULL);
    }
    if (!any_lane(big)) continue;
    for (int v = 0; v < NB; v++) {
      r->p0[v] = a[v], r->p1[v] = b[v];
      if (q) q->p0[v] = c[v], q->p1[v] = d[v];
    }
    gdl__rec_rescale(r, lim ? lim + k : NULL);
    if (q) gdl__rec_rescale(q, NULL);
    vl act[NB];
    if (gdl__rec_active(r, act) || (q && gdl__rec_active(q, act))) return k;
    for (int v = 0; v < NB; v++) {
      a[v] = r->p0[v], b[v] = r->p1[v];
      if (q) c[v] = q->p0[v], d[v] = q->p1[v];
    }
  }
  for (int v = 0; v < NB; v++) {
    r->p0[v] = a[v], r->p1[v] = b[v];
    if (q) q->p0[v] = c[v], q->p1[v] = d[v];
  }
  return k;
}

/* The next masked group of a block's scaled phase from *k: gdl__rec_skip while no lane
 * of r (nor of q, when given) counts, then the group's end (CHECK steps from an even k,
 * or K) with the lanes that count in ar (aq); -1 once the phase is over (no lane
 * scaled, or K reached: *k is where the rest starts). The caller runs its masked
 * kernel to the end returned, sets *k to it and rescales. */
static inline __attribute__((always_inline)) int gdl__scaled_group(rec *r, rec *q, int *k, int K, const double *A,
                                                                    const double *B, const double *lim, vl *ar,
                                                                    vl *aq) {
  while ((r->scaled || (q && q->scaled)) && *k < K) {
    bool some = gdl__rec_active(r, ar);
    if (q) some |= gdl__rec_active(q, aq);
    if (some) return (*k & ~1) + CHECK < K ? (*k & ~1) + CHECK : K;
    *k = gdl__rec_skip(r, q, *k, K, A, B, lim);
  }
  return -1;
}

/* every lane still below 2^-TINY after the last l: the block contributed nothing */
static inline bool gdl__rec_all_scaled(const rec *r) {
  for (int b = 0; b < NB; b++)
    for (int i = 0; i < VL; i++)
      if (r->kp[b][i] == 0) return false;
  return true;
}

/* m per group: the stage reads (synthesis) or writes (adjoint) the caller's
 * coefficients, laid out l^2 + l + m, a group of MG m at a time, so that each row l is
 * touched once per group (one cache line and page) rather than once per m. */
#define MG 8

/* The adjoint of one map, a block whose unscaled rest is left for later: the
 * accumulators per degree are vectors ([K][W] at spin 0, [L][4] else), L2-sized at
 * large L; block after block over all l they went through L2 once per block and step.
 * The rests run l chunk by l chunk over the blocks instead, each chunk's accumulators
 * in L1 (Sapphire Rapids, GL L = 2048 spin 0: that stage 248 -> 226 ms, 221 with
 * adj_fused's two steps of sums from one load of G; spin != 0 gained nothing there;
 * Zen 3 with AVX2, whose spin != 0 kernel passes over the accumulators twice a block:
 * see bench/RESULTS.md). */
typedef struct {
  rec r, q;            /* the recursion's state (q: spin != 0's second column) */
  vd G[NB][8];         /* the block's ring values */
  const double *A, *B; /* spin 0: its form of the recursion */
  int k;               /* where its rest starts */
} pending;
#define KCHUNK 2048 /* doubles of accumulators a chunk (16 KB): KCHUNK / (VL W) degrees */

/* Spin != 0's synthesis of one map, a block between its scaled phase and its unscaled
 * rest, which runs chunk by chunk over all blocks (legendre.c: synth_one) */
typedef struct {
  rec r, q;       /* the recursion's state, two columns */
  vd S[NB * 16];  /* the block's sums (synth_m's layout) */
  int l;          /* where its rest goes on */
} synth_rest;
#define SCHUNK 64 /* degrees a chunk: their coefficient vectors, 6 SCHUNK VL doubles (12 KB at VL 4) */

typedef struct {
  double *ab; /* a group's coefficients, [nb][L][2][MG] complex: a_{l,m}, then a_{l,-m} */
  double *al, *beP, *beQ, *ga, *cl; /* [L] */
  double *up, *dg, *dn;        /* the spin 0 route's steps for one m (legendre_route.c), [Lpad] */
  double *bt;                  /* the spin 0 route's coefficients, [nb][Lpad][4]: b_J of m, of -m */
  double *zA, *zB;             /* spin 0's second form of the recursion (legendre0.c) */
  double *lim;                 /* spin 0's limits for the lanes one unit below counting, per k */
  double tiny;                 /* spin 0: lanes count from 2^-tiny at the start (ycoeffs) */
  double *cf;                  /* [nb][8][Lpad]: coefficients by l (or k), re and im */
  vd (*lamP)[NB], (*lamQ)[NB]; /* [CL][NB] */
  vd *acc;                     /* synthesis: [nb][NB][16]; analysis (one map): [Lpad][8] */
  pending *pend;               /* analysis: a block's rest, per block */
  synth_rest *rest;            /* synthesis of one map (spin != 0), per block */
  int Lpad;
} work;

/* alpha, beta (for n), gamma of the recursion in cos t for l0 <= l < L-1; sq: sqrt table */
void gdl__leg_coeffs(const double *sq, int L, int m, int n, int l0, double *al, double *be, double *ga);
void gdl__leg_work_init(work *w, const gdl_sht_plan *p, int64_t nb, bool analysis); /* analysis: nb = 1 */
/* the block's start values lam_{l0} (rings pair0 .. pair0 + BL - 1); lanes count from
 * 2^-tiny on (TINY, or spin 0's w->tiny) */
void gdl__rec_start(rec *r, const gdl_sht_plan *p, const start_info *si, int64_t pair0, double tiny);
/* lam_l for l in [lc0, lc0 + CL) into lam[j][b]; false when all are masked zeros */
bool gdl__rec_chunk(rec *r, int lc0, int l0, int L, const double *al, const double *be, vd (*lam)[NB]);
/* The group buffer holds, per map c and row l, the group's a_{l,m} for its MG m and
 * then their a_{l,-m}, as the caller's rows hold them (the copy is a block move per
 * row): with am = w->ab + 2 (m - g), map c's a_{l,m} is at
 * am + c gdl__group_stride(L) + GROW l (re, im), a_{l,-m} 2 MG further. */
#define GROW (4 * MG) /* doubles from one row l to the next */
static inline int64_t gdl__group_stride(int L) { return (int64_t)GROW * L; }
/* What legendre0.c's spin 0 kernels transform for one m: degrees l < L of lam^0_lm
 * (start values st), ring values times scale per ring pair (NULL: 1), map c's a_{l,m}
 * at a + ldmap c + ldr l and a_{l,-m} ldneg further. Spin 0 plans: the plan's L, the
 * group buffer; spin s != 0 through spin 0 (legendre_route.c): L + |s| degrees,
 * 1 / sin^|s| t, the route's buffer. */
typedef struct {
  int L;
  const start_info *st;
  const double *scale;
  double *a;
  int64_t ldr, ldneg, ldmap;
} col0;
/* spin 0 (legendre0.c): one m >= 0 (and -m when neg), all blocks; the synthesis all
 * maps, the adjoint one map (leg and k->a its) */
void gdl__synth_m0(const gdl_sht_plan *p, work *w, int m, bool neg, const col0 *k, double *leg, int64_t nb);
void gdl__adj_m0(const gdl_sht_plan *p, work *w, int m, bool neg, const double *leg, const col0 *k);
/* the start values of lam^0_lm (n = 0) */
static inline const start_info *gdl__start0(const gdl_sht_plan *p, int m) {
  return (const start_info *)p->starts + (p->spin ? 2 * p->L + m : 2 * m);
}
/* spin s != 0 through spin 0 (legendre_route.c), for m >= p->route_m: the route's
 * tables at plan creation; one m (and -m when neg) as the kernels above */
gdl_status gdl__route_setup(gdl_sht_plan *p);
void gdl__synth_route(const gdl_sht_plan *p, work *w, int m, bool neg, const double *am, double *leg, int64_t nb);
void gdl__adj_route(const gdl_sht_plan *p, work *w, int m, bool neg, const double *leg, double *am);

#endif
