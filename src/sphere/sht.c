/* SHT plans and the four transforms built from the three stages (see
 * sphere_internal.h):
 *   inverse            S   = Phi R_S Lambda              (alm -> map)
 *   forward            A   = Lambda^H R_A Phi_A          (map -> alm)
 *   inverse_adjoint    S^H = Lambda^H R_S^H Phi^H
 *   forward_adjoint    A^H = Phi_A^H R_A^H Lambda
 * Coefficients are converted once to complex double [nb][L^2] (all m); for real
 * maps only m >= 0 is computed and the rest follows from a_{l,-m} = (-1)^m conj a_lm.
 * The real basis is an isometry T of that space, so its transforms are T S... and
 * their transposes T S^H, A^H T^-1. */
#include <stdlib.h>
#include <sys/mman.h>

#include "sphere/sphere_internal.h"

/* Large work arrays on 2 MB pages where the kernel allows it: the stages walk them
 * with strides of a whole ring or column, and 4 KB pages cost a TLB miss a step. */
static void *big_alloc(size_t bytes) {
  const size_t huge = (size_t)2 << 20;
  if (bytes < huge) return malloc(bytes);
  void *p = NULL;
  size_t n = (bytes + huge - 1) / huge * huge;
  if (posix_memalign(&p, huge, n)) return NULL;
#ifdef MADV_HUGEPAGE
  madvise(p, n, MADV_HUGEPAGE);
#endif
  return p;
}

void gdl_sht_plan_destroy(gdl_sht_plan *p) {
  if (!p) return;
  gdl__phi_free(p);
  if (p->resample) gdl__resample_free(p);
  if (p->cache) {
    pthread_mutex_destroy(&p->cache->mu);
    free(p->cache->buf);
    free(p->cache);
  }
  gdl_sampling_free(p->s);
  free(p->lth), free(p->pn), free(p->ps), free(p->px), free(p->pz), free(p->plc), free(p->pls);
  free(p->sqrt_tab), free(p->ring_scale), free(p->starts), free(p->route), free(p->pis);
  free(p);
}

static gdl_status set_pairs(gdl_sht_plan *p, const double *th, int64_t n) {
  p->nlr = n;
  p->lth = malloc((size_t)n * sizeof(double));
  int64_t cap = n + 64;
  p->pn = malloc((size_t)cap * sizeof(int64_t)), p->ps = malloc((size_t)cap * sizeof(int64_t));
  p->px = malloc((size_t)cap * sizeof(double)), p->plc = malloc((size_t)cap * sizeof(double));
  p->pls = malloc((size_t)cap * sizeof(double)), p->pz = malloc((size_t)cap * sizeof(double));
  if (!p->lth || !p->pn || !p->ps || !p->px || !p->pz || !p->plc || !p->pls)
    return gdl_error(GDL_ERR_NOMEM, "sht: out of memory");
  memcpy(p->lth, th, (size_t)n * sizeof(double));
  bool sym = true;
  for (int64_t i = 0; i < n; i++) sym &= fabs(th[i] + th[n - 1 - i] - M_PI) < 1e-10;
  int64_t np = sym ? (n + 1) / 2 : n;
  p->npair_pad = (np + 31) / 32 * 32;
  /* The padding to whole blocks comes first, at the pole end: the Legendre stage runs
   * blocks from the equator and stops at the first that stays below 2^-196, so there
   * it is mostly never reached (at the equator end it had cost a block for every m:
   * the L + 1 Clenshaw-Curtis rings of MW make 1025 pairs at L = 2048). Its lanes look
   * like rings nearer the pole than any (x = 1, z = 0, so the block recurses in z) with
   * start values scaled for good from m + |s| > 0 on; nothing of them is kept. */
  int64_t pad = p->npair_pad - np;
  for (int64_t q = 0; q < pad; q++)
    p->pn[q] = p->ps[q] = -1, p->px[q] = 1, p->pz[q] = 0, p->plc[q] = p->pls[q] = -1e6;
  for (int64_t i = 0; i < np; i++) {
    int64_t j = sym ? n - 1 - i : -1, q = pad + i;
    p->pn[q] = i, p->ps[q] = (sym && j != i) ? j : -1;
    p->px[q] = cos(th[i]), p->pz[q] = sin(th[i]) * sin(th[i]);
    p->plc[q] = log2(cos(th[i] / 2)), p->pls[q] = log2(sin(th[i] / 2));
  }
  return GDL_OK;
}

gdl_sht_plan *gdl_sht_plan_create(const gdl_sampling *s, int L, int spin, unsigned flags) {
  if (!s) {
    gdl_error(GDL_ERR_ARG, "sht_plan_create: sampling is NULL");
    return NULL;
  }
  if (L < 1 || L > (1 << 15) || abs(spin) >= L) {
    gdl_error(GDL_ERR_ARG, "sht_plan_create: need 1 <= L <= 32768 and |spin| < L, got L=%d spin=%d", L, spin);
    return NULL;
  }
  if ((flags & GDL_SHT_REAL) && spin) {
    gdl_error(GDL_ERR_ARG, "sht_plan_create: real maps need spin 0 (a spin-%d field is complex)", spin);
    return NULL;
  }
  if ((flags & GDL_SHT_REAL_BASIS) && !(flags & GDL_SHT_REAL)) {
    gdl_error(GDL_ERR_ARG, "sht_plan_create: the real basis needs GDL_SHT_REAL");
    return NULL;
  }
  if (s->kind != GDL_SAMPLING_HEALPIX && L > s->L) {
    gdl_error(GDL_ERR_ARG, "sht_plan_create: %s sampling made for L=%d cannot hold L=%d",
              gdl_sampling_name(s->kind), s->L, L);
    return NULL;
  }
  for (int64_t r = 0; r < s->nring; r++)
    if (s->kind != GDL_SAMPLING_HEALPIX && s->nphi[r] < 2 * L - 1) {
      gdl_error(GDL_ERR_ARG, "sht_plan_create: ring %lld has %lld pixels, fewer than 2L-1 = %d",
                (long long)r, (long long)s->nphi[r], 2 * L - 1);
      return NULL;
    }
  gdl_sht_plan *p = calloc(1, sizeof *p);
  if (!p) {
    gdl_error(GDL_ERR_NOMEM, "sht: out of memory");
    return NULL;
  }
  p->L = L, p->spin = spin, p->flags = flags, p->real = flags & GDL_SHT_REAL;
  if ((p->cache = calloc(1, sizeof *p->cache))) pthread_mutex_init(&p->cache->mu, NULL);
  p->mlo = p->real ? 0 : -(L - 1);
  p->nm = p->real ? L : 2 * L - 1;
  p->ldl = gdl__round_up(p->nm, 4);
  if (p->ldl % 8 == 0) p->ldl += 4;
  gdl_status st = GDL_OK;
  if (!(p->s = gdl__sampling_copy(s))) st = GDL_ERR_NOMEM;
  p->resample = s->kind != GDL_SAMPLING_GL && s->kind != GDL_SAMPLING_HEALPIX;
  p->sqrt_tab = malloc((size_t)(4 * L + 8) * sizeof(double));
  p->ring_scale = malloc((size_t)s->nring * sizeof(double));
  if (!st && (!p->sqrt_tab || !p->ring_scale)) st = gdl_error(GDL_ERR_NOMEM, "sht: out of memory");
  if (!st) {
    for (int k = 0; k < 4 * L + 8; k++) p->sqrt_tab[k] = sqrt((double)k);
    for (int64_t r = 0; r < s->nring; r++)
      p->ring_scale[r] = p->resample ? 2 * M_PI / (double)s->nphi[r] : s->weight[r];
    if (p->resample) {
      double *th = malloc((size_t)(L + 1) * sizeof(double));
      if (!th) st = gdl_error(GDL_ERR_NOMEM, "sht: out of memory");
      else {
        for (int j = 0; j <= L; j++) th[j] = M_PI * j / L;
        st = set_pairs(p, th, L + 1);
        free(th);
      }
      if (!st) st = gdl__resample_setup(p);
    } else {
      st = set_pairs(p, s->theta, s->nring);
    }
  }
  if (!st) st = gdl__phi_setup(p);
  if (!st) st = gdl__leg_setup(p);
  if (st) {
    gdl_sht_plan_destroy(p);
    return NULL;
  }
  return p;
}

int64_t gdl_sht_map_size(const gdl_sht_plan *p) { return p->s->npix; }
int64_t gdl_sht_coeff_size(const gdl_sht_plan *p) { return (int64_t)p->L * p->L; }
const gdl_sampling *gdl_sht_sampling(const gdl_sht_plan *p) { return p->s; }

/* ---- coefficient conversions -------------------------------------------------------- */

void gdl_sht_complex_to_real(int L, const double *a, double *c) {
  for (int l = 0; l < L; l++) {
    c[gdl__lm(l, 0)] = a[2 * gdl__lm(l, 0)];
    for (int m = 1; m <= l; m++) {
      double f = ((m & 1) ? -1 : 1) * M_SQRT2;
      c[gdl__lm(l, m)] = f * a[2 * gdl__lm(l, m)];
      c[gdl__lm(l, -m)] = -f * a[2 * gdl__lm(l, m) + 1];
    }
  }
}

void gdl_sht_real_to_complex(int L, const double *c, double *a) {
  for (int l = 0; l < L; l++) {
    a[2 * gdl__lm(l, 0)] = c[gdl__lm(l, 0)], a[2 * gdl__lm(l, 0) + 1] = 0;
    for (int m = 1; m <= l; m++) {
      double f = ((m & 1) ? -1 : 1) * M_SQRT1_2, sg = (m & 1) ? -1 : 1;
      double re = f * c[gdl__lm(l, m)], im = -f * c[gdl__lm(l, -m)];
      a[2 * gdl__lm(l, m)] = re, a[2 * gdl__lm(l, m) + 1] = im;
      a[2 * gdl__lm(l, -m)] = sg * re, a[2 * gdl__lm(l, -m) + 1] = -sg * im;
    }
  }
}

/* user coefficients -> internal complex double */
static void coeff_in(const gdl_sht_plan *p, const void *u, double *a, int64_t nb) {
  int L = p->L;
  int64_t L2 = (int64_t)L * L;
  bool f32 = p->flags & GDL_SHT_FLOAT32;
  if (p->flags & GDL_SHT_REAL_BASIS) {
    double *tmp = f32 ? malloc((size_t)L2 * sizeof(double)) : NULL;
    for (int64_t c = 0; c < nb; c++) {
      const double *src;
      if (f32) {
        GDL_ASSERT(tmp, "sht: out of memory");
        for (int64_t i = 0; i < L2; i++) tmp[i] = ((const float *)u)[c * L2 + i];
        src = tmp;
      } else {
        src = (const double *)u + c * L2;
      }
      gdl_sht_real_to_complex(L, src, a + 2 * c * L2);
    }
    free(tmp);
  } else if (f32) {
    for (int64_t i = 0; i < 2 * nb * L2; i++) a[i] = ((const float *)u)[i];
  } else {
    memcpy(a, u, (size_t)(2 * nb * L2) * sizeof(double));
  }
}

/* internal -> user (real plans' m < 0 are already filled, by the Legendre stage) */
static void coeff_out(const gdl_sht_plan *p, double *a, void *u, int64_t nb) {
  int L = p->L;
  int64_t L2 = (int64_t)L * L;
  bool f32 = p->flags & GDL_SHT_FLOAT32;
  if (p->flags & GDL_SHT_REAL_BASIS) {
    double *tmp = malloc((size_t)L2 * sizeof(double));
    GDL_ASSERT(tmp, "sht: out of memory");
    for (int64_t c = 0; c < nb; c++) {
      gdl_sht_complex_to_real(L, a + 2 * c * L2, tmp);
      if (f32)
        for (int64_t i = 0; i < L2; i++) ((float *)u)[c * L2 + i] = (float)tmp[i];
      else
        memcpy((double *)u + c * L2, tmp, (size_t)L2 * sizeof(double));
    }
    free(tmp);
  } else if (f32) {
    for (int64_t i = 0; i < 2 * nb * L2; i++) ((float *)u)[i] = (float)a[i];
  } else if (u != a) {
    memcpy(u, a, (size_t)(2 * nb * L2) * sizeof(double));
  }
}

/* ---- the four chains on internal arrays ----------------------------------------------- */

typedef struct {
  double *legL, *legT;
  bool cached;
} bufs;

static gdl_status bufs_get(const gdl_sht_plan *p, int64_t nb, bufs *b) {
  size_t nL = (size_t)(nb * p->nlr * p->ldl) * 2, nT = p->resample ? (size_t)(nb * p->nt * p->ldl) * 2 : 0;
  gdl__sht_cache *c = p->cache;
  b->cached = c && pthread_mutex_trylock(&c->mu) == 0;
  if (b->cached) {
    if (c->len < nL + nT) {
      free(c->buf);
      c->len = 0;
      if (!(c->buf = big_alloc((nL + nT) * sizeof(double)))) {
        pthread_mutex_unlock(&c->mu);
        return gdl_error(GDL_ERR_NOMEM, "sht: out of memory for %lld maps", (long long)nb);
      }
      c->len = nL + nT;
    }
    b->legL = c->buf;
  } else if (!(b->legL = big_alloc((nL + nT) * sizeof(double)))) {
    return gdl_error(GDL_ERR_NOMEM, "sht: out of memory for %lld maps", (long long)nb);
  }
  b->legT = nT ? b->legL + nL : b->legL;
  return GDL_OK;
}

static void bufs_put(const gdl_sht_plan *p, bufs *b) {
  if (b->cached) pthread_mutex_unlock(&p->cache->mu);
  else free(b->legL);
}

/* map: user dtype; a: internal */
static gdl_status chain_S(const gdl_sht_plan *p, const double *a, void *map, int64_t nb, bool adjA) {
  bufs b = {0};
  gdl_status st = bufs_get(p, nb, &b);
  if (st) return st;
  gdl__leg_synth(p, a, b.legL, nb);
  if (p->resample) {
    if (adjA) gdl__rs_anal(p, b.legL, b.legT, nb, true);
    else if (p->synth_identity) memcpy(b.legT, b.legL, (size_t)(nb * p->nt * p->ldl) * 2 * sizeof(double));
    else gdl__rs_synth(p, b.legL, b.legT, nb, false);
  }
  gdl__phi_synth(p, b.legT, map, nb, adjA ? p->ring_scale : NULL);
  bufs_put(p, &b);
  return GDL_OK;
}

/* Map after map: the Legendre adjoint takes one map (legendre.c says why), and one
 * map's work arrays stay in cache between the stages where a batch's do not (GL L = 1024 spin 0, four maps as one call: 1.09-1.15x the time of four
 * calls before, 0.95-1.05x now); the work arrays are one map's, whatever the batch. */
static gdl_status chain_A(const gdl_sht_plan *p, const void *map, double *a, int64_t nb, bool adjS) {
  bufs b = {0};
  gdl_status st = bufs_get(p, 1, &b);
  if (st) return st;
  size_t map_bytes = (size_t)p->s->npix * (p->real ? 1 : 2) * ((p->flags & GDL_SHT_FLOAT32) ? 4 : 8);
  for (int64_t c = 0; c < nb; c++) {
    const void *mc = (const char *)map + c * map_bytes;
    gdl__phi_anal(p, mc, b.legT, 1, adjS ? NULL : p->ring_scale);
    if (p->resample) {
      if (!adjS) gdl__rs_anal(p, b.legT, b.legL, 1, false);
      else if (p->synth_identity) memcpy(b.legL, b.legT, (size_t)(p->nt * p->ldl) * 2 * sizeof(double));
      else gdl__rs_synth(p, b.legL, b.legT, 1, true);
    }
    gdl__leg_adjoint(p, b.legL, a + 2 * c * p->L * p->L);
  }
  bufs_put(p, &b);
  return GDL_OK;
}

static gdl_status check(const gdl_sht_plan *p, const void *x, const void *y, int64_t nb) {
  if (!p) return gdl_error(GDL_ERR_ARG, "sht: plan is NULL");
  if (!x || !y) return gdl_error(GDL_ERR_ARG, "sht: array is NULL");
  if (nb < 0) return gdl_error(GDL_ERR_ARG, "sht: negative batch %lld", (long long)nb);
  return GDL_OK;
}

static double *coeff_buf(const gdl_sht_plan *p, int64_t nb) {
  double *a = calloc((size_t)(2 * nb * p->L * p->L) + 2, sizeof(double));
  if (!a) gdl_error(GDL_ERR_NOMEM, "sht: out of memory");
  return a;
}

/* float64 coefficients in the complex basis are the internal layout already: the chains
 * read and write the user's array (an internal copy is a fresh allocation of nb L^2
 * complex values, page faults included, and a pass over it: 7% of a transform at L = 2048) */
static bool direct(const gdl_sht_plan *p) { return !(p->flags & (GDL_SHT_FLOAT32 | GDL_SHT_REAL_BASIS)); }

static gdl_status synthesis(const gdl_sht_plan *p, const void *alm, void *map, int64_t nb, bool adjA) {
  gdl_status st = check(p, alm, map, nb);
  if (st || !nb) return st;
  if (direct(p)) return chain_S(p, alm, map, nb, adjA);
  double *a = coeff_buf(p, nb);
  if (!a) return GDL_ERR_NOMEM;
  coeff_in(p, alm, a, nb);
  st = chain_S(p, a, map, nb, adjA);
  free(a);
  return st;
}

static gdl_status analysis(const gdl_sht_plan *p, const void *map, void *alm, int64_t nb, bool adjS) {
  gdl_status st = check(p, alm, map, nb);
  if (st || !nb) return st;
  double *a = direct(p) ? alm : coeff_buf(p, nb);
  if (!a) return GDL_ERR_NOMEM;
  if (!(st = chain_A(p, map, a, nb, adjS))) coeff_out(p, a, alm, nb);
  if (a != alm) free(a);
  return st;
}

gdl_status gdl_sht_inverse(const gdl_sht_plan *p, const void *alm, void *map, int64_t nb) {
  return synthesis(p, alm, map, nb, false);
}
gdl_status gdl_sht_forward_adjoint(const gdl_sht_plan *p, const void *alm, void *map, int64_t nb) {
  return synthesis(p, alm, map, nb, true);
}
gdl_status gdl_sht_forward(const gdl_sht_plan *p, const void *map, void *alm, int64_t nb) {
  return analysis(p, map, alm, nb, false);
}
gdl_status gdl_sht_inverse_adjoint(const gdl_sht_plan *p, const void *map, void *alm, int64_t nb) {
  return analysis(p, map, alm, nb, true);
}

/* ---- HEALPix-style refinement ------------------------------------------------------------ */

/* internal-format helpers: maps in double (real or complex), coefficients complex */
static int64_t map_len(const gdl_sht_plan *p) { return p->s->npix * (p->real ? 1 : 2); }

static gdl_sht_plan internal_view(const gdl_sht_plan *p) {
  gdl_sht_plan q = *p; /* same tables; double maps, complex coefficients */
  q.flags &= ~(unsigned)(GDL_SHT_FLOAT32 | GDL_SHT_REAL_BASIS);
  return q;
}

static double norm2(const double *x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += x[i] * x[i];
  return s;
}

static gdl_status load_map(const gdl_sht_plan *p, const void *map, int64_t nb, double **f) {
  int64_t n = nb * map_len(p);
  *f = malloc((size_t)(n + 1) * sizeof(double));
  if (!*f) return gdl_error(GDL_ERR_NOMEM, "sht: out of memory");
  if (p->flags & GDL_SHT_FLOAT32)
    for (int64_t i = 0; i < n; i++) (*f)[i] = ((const float *)map)[i];
  else
    memcpy(*f, map, (size_t)n * sizeof(double));
  return GDL_OK;
}

static double worst_residual(const gdl_sht_plan *q, const double *f, const double *a, double *r, int64_t nb) {
  chain_S(q, a, r, nb, false);
  int64_t n = map_len(q);
  double worst = 0;
  for (int64_t c = 0; c < nb; c++) {
    for (int64_t i = 0; i < n; i++) r[c * n + i] = f[c * n + i] - r[c * n + i];
    double fn = norm2(f + c * n, n), rn = norm2(r + c * n, n);
    worst = fmax(worst, fn > 0 ? sqrt(rn / fn) : sqrt(rn));
  }
  return worst;
}

gdl_status gdl_sht_forward_iter(const gdl_sht_plan *p, const void *map, void *alm, int64_t nb, int niter,
                                double *residual) {
  gdl_status st = check(p, alm, map, nb);
  if (st || !nb) return st;
  gdl_sht_plan q = internal_view(p);
  int64_t na = 2 * nb * p->L * p->L, n = nb * map_len(p);
  double *f, *a = coeff_buf(p, nb), *da = coeff_buf(p, nb), *r = malloc((size_t)(n + 1) * sizeof(double));
  if ((st = load_map(p, map, nb, &f)) || !a || !da || !r) {
    free(a), free(da), free(r);
    if (!st) free(f);
    return st ? st : GDL_ERR_NOMEM;
  }
  st = chain_A(&q, f, a, nb, false);
  for (int it = 0; it < niter && !st; it++) {
    worst_residual(&q, f, a, r, nb);
    st = chain_A(&q, r, da, nb, false);
    for (int64_t i = 0; i < na; i++) a[i] += da[i];
  }
  if (!st && residual) *residual = worst_residual(&q, f, a, r, nb);
  if (!st) coeff_out(p, a, alm, nb);
  free(f), free(a), free(da), free(r);
  return st;
}

/* coefficient inner product of the full-m space: for real plans the stored m > 0
 * count twice (their m < 0 partners) */
static double cdot(const gdl_sht_plan *p, const double *x, const double *y, int64_t nb) {
  int L = p->L;
  int64_t L2 = (int64_t)L * L;
  double s = 0;
  for (int64_t c = 0; c < nb; c++)
    for (int l = 0; l < L; l++)
      for (int m = p->real ? 0 : -l; m <= l; m++) {
        int64_t i = 2 * (c * L2 + gdl__lm(l, m));
        s += (p->real && m > 0 ? 2 : 1) * (x[i] * y[i] + x[i + 1] * y[i + 1]);
      }
  return s;
}

gdl_status gdl_sht_forward_lsq(const gdl_sht_plan *p, const void *map, void *alm, int64_t nb, double tol,
                               int maxiter, double *residual) {
  gdl_status st = check(p, alm, map, nb);
  if (st || !nb) return st;
  gdl_sht_plan q = internal_view(p);
  int64_t na = 2 * nb * p->L * p->L, n = nb * map_len(p);
  double *f, *x = coeff_buf(p, nb), *rr = coeff_buf(p, nb), *d = coeff_buf(p, nb), *Ad = coeff_buf(p, nb);
  double *tmp = malloc((size_t)(n + 1) * sizeof(double));
  if ((st = load_map(p, map, nb, &f)) || !x || !rr || !d || !Ad || !tmp) {
    free(x), free(rr), free(d), free(Ad), free(tmp);
    if (!st) free(f);
    return st ? st : GDL_ERR_NOMEM;
  }
  /* CG on S^H S x = S^H f from the quadrature solution x0 = A f */
  chain_A(&q, f, x, nb, false);
  worst_residual(&q, f, x, tmp, nb); /* tmp = f - S x */
  chain_A(&q, tmp, rr, nb, true);    /* r = S^H (f - S x) */
  memcpy(d, rr, (size_t)na * sizeof(double));
  double rs = cdot(p, rr, rr, nb), rs0 = rs;
  for (int it = 0; it < maxiter && rs > tol * tol * rs0 && rs > 0; it++) {
    chain_S(&q, d, tmp, nb, false);
    chain_A(&q, tmp, Ad, nb, true);
    double alpha = rs / cdot(p, d, Ad, nb);
    for (int64_t i = 0; i < na; i++) x[i] += alpha * d[i], rr[i] -= alpha * Ad[i];
    double rs1 = cdot(p, rr, rr, nb);
    for (int64_t i = 0; i < na; i++) d[i] = rr[i] + rs1 / rs * d[i];
    rs = rs1;
  }
  if (residual) *residual = worst_residual(&q, f, x, tmp, nb);
  coeff_out(p, x, alm, nb);
  free(f), free(x), free(rr), free(d), free(Ad), free(tmp);
  return GDL_OK;
}
