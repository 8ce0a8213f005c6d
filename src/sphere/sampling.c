/* Iso-latitude ring samplings: MW, MWSS, GL, DH, CC and HEALPix, each described by
 * ring colatitudes, pixels per ring, phi offsets and per-pixel quadrature weights. */
#include <stdlib.h>

#include "sphere/sphere_internal.h"

static const char *names[GDL_SAMPLING_COUNT] = {"mw", "mwss", "gl", "dh", "cc", "healpix"};

const char *gdl_sampling_name(gdl_sampling_kind k) {
  return (unsigned)k < GDL_SAMPLING_COUNT ? names[k] : "?";
}

int gdl_sampling_parse(const char *name) {
  for (int k = 0; k < GDL_SAMPLING_COUNT; k++)
    if (name && !strcmp(name, names[k])) return k;
  return -1;
}

static gdl_sampling *alloc_rings(gdl_sampling_kind kind, int64_t nring) {
  gdl_sampling *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->kind = kind;
  s->nring = nring;
  s->theta = calloc((size_t)nring, sizeof(double));
  s->phi0 = calloc((size_t)nring, sizeof(double));
  s->weight = calloc((size_t)nring, sizeof(double));
  s->nphi = calloc((size_t)nring, sizeof(int64_t));
  s->ringstart = calloc((size_t)nring, sizeof(int64_t));
  if (!s->theta || !s->phi0 || !s->weight || !s->nphi || !s->ringstart) {
    gdl_sampling_free(s);
    gdl_error(GDL_ERR_NOMEM, "sampling: out of memory for %lld rings", (long long)nring);
    return NULL;
  }
  return s;
}

static void finish(gdl_sampling *s) {
  int64_t n = 0;
  for (int64_t r = 0; r < s->nring; r++) {
    s->ringstart[r] = n;
    n += s->nphi[r];
  }
  s->npix = n;
}

void gdl_sampling_free(gdl_sampling *s) {
  if (!s) return;
  free(s->theta), free(s->phi0), free(s->weight), free(s->nphi), free(s->ringstart);
  free(s);
}

gdl_sampling *gdl__sampling_copy(const gdl_sampling *s) {
  gdl_sampling *c = alloc_rings(s->kind, s->nring);
  if (!c) return NULL;
  c->L = s->L, c->nside = s->nside, c->npix = s->npix;
  size_t n = (size_t)s->nring;
  memcpy(c->theta, s->theta, n * sizeof(double));
  memcpy(c->phi0, s->phi0, n * sizeof(double));
  memcpy(c->weight, s->weight, n * sizeof(double));
  memcpy(c->nphi, s->nphi, n * sizeof(int64_t));
  memcpy(c->ringstart, s->ringstart, n * sizeof(int64_t));
  return c;
}

/* Gauss-Legendre: Newton on P_n(x) from Tricomi's initial guesses; the nodes are
 * symmetric, so only half are solved. w = 2 / ((1 - x^2) P_n'(x)^2). */
void gdl_gauss_legendre(int64_t n, double *x, double *w) {
  for (int64_t i = 0; i < (n + 1) / 2; i++) {
    double z = cos(M_PI * ((double)i + 0.75) / ((double)n + 0.5)), dp = 1;
    for (int it = 0; it < 100; it++) {
      double p0 = 1, p1 = z;
      for (int64_t k = 2; k <= n; k++) {
        double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0 = p1, p1 = p2;
      }
      if (n == 1) p0 = 1, p1 = z;
      dp = n * (z * p1 - p0) / (z * z - 1);
      double dz = p1 / dp;
      z -= dz;
      if (fabs(dz) < 1e-16 && it > 2) break;
    }
    /* one more evaluation at the converged node for the weight */
    double p0 = 1, p1 = z;
    for (int64_t k = 2; k <= n; k++) {
      double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
      p0 = p1, p1 = p2;
    }
    dp = n * (z * p1 - p0) / (z * z - 1);
    x[i] = z, x[n - 1 - i] = -z;
    w[i] = w[n - 1 - i] = 2 / ((1 - z * z) * dp * dp);
  }
  if (n % 2) x[n / 2] = 0;
}

/* Clenshaw-Curtis weights for n nodes t_j = pi j/(n-1) (Waldvogel's formula):
 * w_j = c_j/N (1 - sum_{k=1}^{N/2} b_k cos(2 k t_j) / (4k^2 - 1)), N = n - 1. */
void gdl__cc_weights(int64_t n, double *w) {
  if (n == 1) {
    w[0] = 2;
    return;
  }
  int64_t N = n - 1;
  for (int64_t j = 0; j <= N / 2; j++) {
    double t = M_PI * (double)j / (double)N, s = 1;
    for (int64_t k = 1; k <= N / 2; k++) {
      double b = (2 * k == N) ? 1 : 2;
      s -= b * cos(2 * k * t) / (4.0 * k * k - 1);
    }
    w[j] = w[N - j] = (j == 0 || j == N ? 1.0 : 2.0) / (double)N * s;
  }
}

/* Fejer's first rule for n nodes t_j = pi(2j+1)/(2n):
 * w_j = 2/n (1 - 2 sum_{k=1}^{n/2} cos(2 k t_j) / (4k^2 - 1)). */
static void fejer1_weights(int64_t n, double *w) {
  for (int64_t j = 0; j < (n + 1) / 2; j++) {
    double t = M_PI * (2 * j + 1) / (2.0 * n), s = 1;
    for (int64_t k = 1; k <= n / 2; k++) s -= 2 * cos(2 * k * t) / (4.0 * k * k - 1);
    w[j] = w[n - 1 - j] = 2.0 / n * s;
  }
}

static gdl_sampling *equiangular(gdl_sampling_kind kind, int L, int64_t nt, int64_t np) {
  gdl_sampling *s = alloc_rings(kind, nt);
  if (!s) return NULL;
  s->L = L;
  for (int64_t j = 0; j < nt; j++) s->nphi[j] = np;
  double *w = s->weight;
  switch (kind) {
    case GDL_SAMPLING_MW:
      for (int64_t j = 0; j < nt; j++) s->theta[j] = M_PI * (2 * j + 1) / (2.0 * L - 1);
      /* no positive rule exists on MW's rings: cell areas (approximate, sum 4 pi) */
      for (int64_t j = 0; j < nt; j++) {
        double h = M_PI / (2.0 * L - 1);
        double a = fmax(0, s->theta[j] - h), b = fmin(M_PI, s->theta[j] + h);
        w[j] = cos(a) - cos(b);
      }
      break;
    case GDL_SAMPLING_MWSS:
    case GDL_SAMPLING_CC:
      for (int64_t j = 0; j < nt; j++) s->theta[j] = nt > 1 ? M_PI * j / (double)(nt - 1) : M_PI / 2;
      gdl__cc_weights(nt, w);
      break;
    case GDL_SAMPLING_DH:
      for (int64_t j = 0; j < nt; j++) s->theta[j] = M_PI * (2 * j + 1) / (4.0 * L);
      fejer1_weights(nt, w);
      break;
    case GDL_SAMPLING_GL: {
      double *x = malloc((size_t)nt * sizeof(double));
      if (!x) {
        gdl_sampling_free(s);
        gdl_error(GDL_ERR_NOMEM, "sampling: out of memory");
        return NULL;
      }
      gdl_gauss_legendre(nt, x, w);
      for (int64_t j = 0; j < nt; j++) s->theta[j] = acos(x[j]);
      free(x);
    } break;
    default: break;
  }
  for (int64_t j = 0; j < nt; j++) w[j] *= 2 * M_PI / (double)np;
  finish(s);
  return s;
}

static gdl_sampling *healpix(int nside) {
  int64_t ns = nside, nring = 4 * ns - 1;
  gdl_sampling *s = alloc_rings(GDL_SAMPLING_HEALPIX, nring);
  if (!s) return NULL;
  s->nside = nside;
  s->L = 3 * nside;
  double wpix = 4 * M_PI / (12.0 * ns * ns);
  for (int64_t r = 0; r < nring; r++) {
    int64_t i = r + 1, northi = i < 2 * ns ? i : 4 * ns - i; /* 1-based ring, mirrored */
    double z;
    if (northi < ns) {
      /* polar cap: z = 1 - i^2 / (3 nside^2), computed via sin for accuracy */
      double st = sqrt((double)northi * northi / (3.0 * ns * ns) * (2 - (double)northi * northi / (3.0 * ns * ns)));
      z = 1 - (double)northi * northi / (3.0 * ns * ns);
      s->theta[r] = atan2(st, z);
      s->nphi[r] = 4 * northi;
      s->phi0[r] = M_PI / (4.0 * northi);
    } else {
      z = (2.0 * ns - (double)northi) * 2 / (3.0 * ns);
      s->theta[r] = acos(z);
      s->nphi[r] = 4 * ns;
      s->phi0[r] = ((i + ns) & 1) ? 0 : M_PI / (4.0 * ns);
    }
    if (i > 2 * ns) s->theta[r] = M_PI - s->theta[r];
    s->weight[r] = wpix;
  }
  finish(s);
  return s;
}

gdl_sampling *gdl_sampling_new(gdl_sampling_kind kind, int L, int nside) {
  if (kind == GDL_SAMPLING_HEALPIX) {
    if (nside < 1 || nside > (1 << 24)) {
      gdl_error(GDL_ERR_ARG, "sampling: HEALPix nside must be in [1, 2^24], got %d", nside);
      return NULL;
    }
    return healpix(nside);
  }
  if ((unsigned)kind >= GDL_SAMPLING_COUNT) {
    gdl_error(GDL_ERR_ARG, "sampling: unknown kind %d", (int)kind);
    return NULL;
  }
  if (L < 1 || L > (1 << 16)) {
    gdl_error(GDL_ERR_ARG, "sampling %s: L must be in [1, 65536], got %d", names[kind], L);
    return NULL;
  }
  switch (kind) {
    case GDL_SAMPLING_MW: return equiangular(kind, L, L, 2 * L - 1);
    case GDL_SAMPLING_MWSS: return equiangular(kind, L, L + 1, 2 * L);
    case GDL_SAMPLING_GL: return equiangular(kind, L, L, 2 * L - 1);
    case GDL_SAMPLING_DH: return equiangular(kind, L, 2 * L, 2 * L - 1);
    case GDL_SAMPLING_CC: return equiangular(kind, L, L + 1, 2 * L - 1);
    default: return NULL;
  }
}

gdl_sampling *gdl_sampling_new_cc(int L, int64_t ntheta, int64_t nphi) {
  if (L < 1 || L > (1 << 16)) {
    gdl_error(GDL_ERR_ARG, "sampling cc: L must be in [1, 65536], got %d", L);
    return NULL;
  }
  if (!ntheta) ntheta = L + 1;
  if (!nphi) nphi = 2 * L - 1;
  if (ntheta < L + 1 || nphi < 2 * L - 1) {
    gdl_error(GDL_ERR_ARG, "sampling cc: needs ntheta >= L+1 = %d and nphi >= 2L-1 = %d, got %lld, %lld",
              L + 1, 2 * L - 1, (long long)ntheta, (long long)nphi);
    return NULL;
  }
  return equiangular(GDL_SAMPLING_CC, L, ntheta, nphi);
}

void gdl_sampling_pix2ang(const gdl_sampling *s, int64_t i, double *theta, double *phi) {
  int64_t lo = 0, hi = s->nring - 1;
  while (lo < hi) { /* last ring starting at or before i */
    int64_t mid = (lo + hi + 1) / 2;
    if (s->ringstart[mid] <= i) lo = mid;
    else hi = mid - 1;
  }
  *theta = s->theta[lo];
  *phi = s->phi0[lo] + 2 * M_PI * (double)(i - s->ringstart[lo]) / (double)s->nphi[lo];
}
