/* Sphere and SO(3): samplings, SHT round trips and adjoints, agreement with ssht,
 * ducc0 and healpy (tests/ref/sphere.npz, made by tests/ref/gen_sphere.py), Y_lm
 * orthonormality, Wigner d/D, rotations and Wigner transforms. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sphere/sphere_internal.h"
#include "test.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

static gdl_rng rng;
static int64_t idx(int l, int m) { return (int64_t)l * l + l + m; }

static double *rand_alm(int L, int spin, bool real) {
  double *a = calloc(2 * (size_t)L * L, sizeof(double));
  for (int l = abs(spin); l < L; l++)
    for (int m = -l; m <= l; m++) {
      a[2 * idx(l, m)] = gdl_rng_uniform(&rng) - 0.5;
      a[2 * idx(l, m) + 1] = gdl_rng_uniform(&rng) - 0.5;
    }
  if (real)
    for (int l = 0; l < L; l++) {
      a[2 * idx(l, 0) + 1] = 0;
      for (int m = 1; m <= l; m++) {
        double sg = (m & 1) ? -1 : 1;
        a[2 * idx(l, -m)] = sg * a[2 * idx(l, m)], a[2 * idx(l, -m) + 1] = -sg * a[2 * idx(l, m) + 1];
      }
    }
  return a;
}

static double maxdiff(const double *a, const double *b, int64_t n, double *scale) {
  double e = 0, s = 0;
  for (int64_t i = 0; i < n; i++) e = fmax(e, fabs(a[i] - b[i])), s = fmax(s, fabs(b[i]));
  if (scale) *scale = s;
  return e;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* synthesis then analysis; returns the max error relative to max |a| */
static double roundtrip(gdl_sampling_kind kind, int L, int spin, unsigned flags, int nb) {
  gdl_sampling *s = gdl_sampling_new(kind, L, 0);
  gdl_sht_plan *p = gdl_sht_plan_create(s, L, spin, flags);
  if (!p) {
    CHECK(0, "plan %s L=%d spin=%d: %s", gdl_sampling_name(kind), L, spin, gdl_last_error());
    gdl_sampling_free(s);
    return 1;
  }
  bool real = flags & GDL_SHT_REAL, rb = flags & GDL_SHT_REAL_BASIS, f32 = flags & GDL_SHT_FLOAT32;
  int64_t L2 = (int64_t)L * L, nc = rb ? L2 : 2 * L2, nmap = s->npix * (real ? 1 : 2);
  double *a = malloc((size_t)(nb * nc) * sizeof(double)), *b = malloc((size_t)(nb * nc) * sizeof(double));
  for (int c = 0; c < nb; c++) {
    double *x = rand_alm(L, spin, real);
    if (rb) gdl_sht_complex_to_real(L, x, a + c * nc);
    else memcpy(a + c * nc, x, (size_t)nc * sizeof(double));
    free(x);
  }
  double err, sc;
  if (f32) {
    float *af = malloc((size_t)(nb * nc) * sizeof(float)), *bf = malloc((size_t)(nb * nc) * sizeof(float));
    float *f = malloc((size_t)(nb * nmap) * sizeof(float));
    for (int64_t i = 0; i < nb * nc; i++) af[i] = (float)a[i];
    gdl_sht_inverse(p, af, f, nb);
    gdl_sht_forward(p, f, bf, nb);
    for (int64_t i = 0; i < nb * nc; i++) b[i] = bf[i], a[i] = af[i];
    free(af), free(bf), free(f);
  } else {
    double *f = malloc((size_t)(nb * nmap) * sizeof(double));
    CHECK(gdl_sht_inverse(p, a, f, nb) == GDL_OK, "inverse: %s", gdl_last_error());
    CHECK(gdl_sht_forward(p, f, b, nb) == GDL_OK, "forward: %s", gdl_last_error());
    free(f);
  }
  err = maxdiff(b, a, nb * nc, &sc) / sc;
  free(a), free(b);
  gdl_sht_plan_destroy(p);
  gdl_sampling_free(s);
  return err;
}

static void test_roundtrips(void) {
  gdl_sampling_kind exact[] = {GDL_SAMPLING_MW, GDL_SAMPLING_MWSS, GDL_SAMPLING_GL, GDL_SAMPLING_DH,
                               GDL_SAMPLING_CC};
  int Ls[] = {1, 2, 7, 32};
  for (int k = 0; k < 5; k++) {
    double worst = 0;
    for (int il = 0; il < 4; il++)
      for (int spin = 0; spin <= 2; spin++) {
        if (spin >= Ls[il]) continue;
        double e = roundtrip(exact[k], Ls[il], spin, 0, 1);
        CHECK(e <= 1e-11, "%s L=%d spin=%d: round trip error %.2e", gdl_sampling_name(exact[k]), Ls[il], spin, e);
        worst = fmax(worst, e);
      }
    double er = roundtrip(exact[k], 33, 0, GDL_SHT_REAL, 1);
    double eb = roundtrip(exact[k], 33, 0, GDL_SHT_REAL | GDL_SHT_REAL_BASIS, 3);
    double es = roundtrip(exact[k], 20, -2, 0, 2);
    double ef = roundtrip(exact[k], 16, 1, GDL_SHT_FLOAT32, 1);
    CHECK(er <= 1e-11 && eb <= 1e-11 && es <= 1e-11, "%s: real %.2e, real basis %.2e, spin -2 %.2e",
          gdl_sampling_name(exact[k]), er, eb, es);
    CHECK(ef <= 2e-6, "%s: float32 round trip %.2e", gdl_sampling_name(exact[k]), ef);
    printf("round trip %-5s L<=32 spins 0-2: %.1e; real %.1e, real basis x3 %.1e, spin -2 %.1e, float32 %.1e\n",
           gdl_sampling_name(exact[k]), worst, er, eb, es, ef);
  }
  /* large bandlimits, once each (smaller under the sanitizers) */
  int Lbig = SANITIZED ? 128 : 1024;
  struct { gdl_sampling_kind k; int spin; unsigned fl; } big[] = {
      {GDL_SAMPLING_MW, 0, GDL_SHT_REAL}, {GDL_SAMPLING_GL, 2, 0}, {GDL_SAMPLING_MWSS, 1, 0}};
  for (int i = 0; i < 3; i++) {
    double t = now(), e = roundtrip(big[i].k, Lbig, big[i].spin, big[i].fl, 1);
    /* spin 0 recurses in cos^2 or sin^2 (legendre0.c): 4e-13 here, ducc0 about 2e-12 */
    double tol = big[i].spin ? 1e-11 : 1e-12;
    CHECK(e <= tol, "%s L=%d spin=%d: round trip error %.2e", gdl_sampling_name(big[i].k), Lbig, big[i].spin, e);
    printf("round trip %-5s L=%d spin %d%s: %.2e (%.2f s)\n", gdl_sampling_name(big[i].k), Lbig, big[i].spin,
           big[i].fl ? " real" : "", e, now() - t);
  }
  /* spin 0 on complex maps (m and -m from one recursion), one map (registers) and two
   * (the chunked sums), past L = 128 where rings near the poles start scaled */
  double ec1 = roundtrip(GDL_SAMPLING_GL, 160, 0, 0, 1), ec2 = roundtrip(GDL_SAMPLING_MW, 140, 0, 0, 2);
  CHECK(ec1 <= 1e-11 && ec2 <= 1e-11, "complex spin 0: GL L=160 %.2e, MW L=140 x2 %.2e", ec1, ec2);
  printf("round trip complex spin 0: GL L=160 %.2e, MW L=140 x2 %.2e\n", ec1, ec2);
}

/* <S x, y> = <x, S^H y> and <A y, x> = <y, A^H x> */
static void test_adjoints(void) {
  for (int k = 0; k < GDL_SAMPLING_COUNT; k++)
    for (int variant = 0; variant < 2; variant++) {
      int L = 9, spin = variant ? 1 : 0;
      unsigned fl = variant ? 0 : GDL_SHT_REAL | GDL_SHT_REAL_BASIS;
      gdl_sampling *s = gdl_sampling_new(k, L, 4);
      gdl_sht_plan *p = gdl_sht_plan_create(s, L, spin, fl);
      int64_t nc = variant ? 2 * L * L : L * L, nm = s->npix * (variant ? 2 : 1);
      double *x = malloc(nc * sizeof(double)), *y = malloc(nm * sizeof(double));
      double *Sx = malloc(nm * sizeof(double)), *Shy = malloc(nc * sizeof(double));
      double *Ay = malloc(nc * sizeof(double)), *Ahx = malloc(nm * sizeof(double));
      double *xa = rand_alm(L, spin, !variant);
      if (variant) memcpy(x, xa, nc * sizeof(double));
      else gdl_sht_complex_to_real(L, xa, x);
      free(xa);
      for (int64_t i = 0; i < nm; i++) y[i] = gdl_rng_uniform(&rng) - 0.5;
      gdl_sht_inverse(p, x, Sx, 1), gdl_sht_inverse_adjoint(p, y, Shy, 1);
      gdl_sht_forward(p, y, Ay, 1), gdl_sht_forward_adjoint(p, x, Ahx, 1);
      double d1 = 0, d2 = 0, d3 = 0, d4 = 0;
      for (int64_t i = 0; i < nm; i++) d1 += Sx[i] * y[i], d4 += y[i] * Ahx[i];
      for (int64_t i = 0; i < nc; i++) d2 += x[i] * Shy[i], d3 += Ay[i] * x[i];
      CHECK(fabs(d1 - d2) <= 1e-12 * fabs(d1) + 1e-13 && fabs(d3 - d4) <= 1e-12 * fabs(d3) + 1e-13,
            "%s %s: adjoints <Sx,y> %.15g vs %.15g, <Ay,x> %.15g vs %.15g", gdl_sampling_name(k),
            variant ? "spin 1" : "real basis", d1, d2, d3, d4);
      free(x), free(y), free(Sx), free(Shy), free(Ay), free(Ahx);
      gdl_sht_plan_destroy(p), gdl_sampling_free(s);
    }
}

/* Spin != 0 at large m goes through spin 0 (legendre_route.c): the same maps and
 * coefficients as the two-column kernels (the plan made to take them for every m), on
 * every kind of ring set (poles, HEALPix), both signs of spin, spins 1-4, one map and
 * several. */
static void test_spin_route(void) {
  struct { gdl_sampling_kind k; int L, nside, spin, nb; } c[] = {
      {GDL_SAMPLING_GL, 96, 0, 2, 1},  {GDL_SAMPLING_MWSS, 80, 0, -1, 2}, {GDL_SAMPLING_HEALPIX, 40, 16, 3, 1},
      {GDL_SAMPLING_DH, 72, 0, 4, 1},  {GDL_SAMPLING_CC, 64, 0, -3, 3},   {GDL_SAMPLING_MW, 70, 0, -2, 1}};
  double worst = 0;
  for (int i = 0; i < 6; i++) {
    int L = c[i].L, nb = c[i].nb;
    gdl_sampling *s = gdl_sampling_new(c[i].k, L, c[i].nside);
    gdl_sht_plan *p = gdl_sht_plan_create(s, L, c[i].spin, 0), *q = gdl_sht_plan_create(s, L, c[i].spin, 0);
    CHECK(p && q && p->route_m < L, "%s L=%d spin %d: no m goes through spin 0", gdl_sampling_name(c[i].k), L,
          c[i].spin);
    if (!p || !q) {
      gdl_sht_plan_destroy(p), gdl_sht_plan_destroy(q), gdl_sampling_free(s);
      continue;
    }
    q->route_m = L; /* the direct kernels for every m */
    int64_t nc = 2 * (int64_t)L * L, nm = 2 * s->npix;
    double *a = malloc(nb * nc * sizeof(double)), *f[2], *b[2];
    for (int j = 0; j < nb; j++) {
      double *x = rand_alm(L, c[i].spin, false);
      memcpy(a + j * nc, x, nc * sizeof(double));
      free(x);
    }
    for (int t = 0; t < 2; t++) {
      f[t] = malloc(nb * nm * sizeof(double)), b[t] = malloc(nb * nc * sizeof(double));
      gdl_sht_inverse(t ? q : p, a, f[t], nb);
    }
    for (int t = 0; t < 2; t++) gdl_sht_forward(t ? q : p, f[1], b[t], nb); /* the same map */
    double sf, sa, em = maxdiff(f[0], f[1], nb * nm, &sf), ea = maxdiff(b[0], b[1], nb * nc, &sa);
    CHECK(em <= 1e-13 * sf && ea <= 1e-13 * sa, "%s L=%d spin %d: through spin 0 the maps differ by %.2e, "
          "coefficients by %.2e (relative)", gdl_sampling_name(c[i].k), L, c[i].spin, em / sf, ea / sa);
    worst = fmax(worst, fmax(em / sf, ea / sa));
    free(a), free(f[0]), free(f[1]), free(b[0]), free(b[1]);
    gdl_sht_plan_destroy(p), gdl_sht_plan_destroy(q), gdl_sampling_free(s);
  }
  printf("spin s through spin 0 vs the two-column kernels (spins 1-4, six samplings): %.1e\n", worst);
}

/* sum_p w_p sY_lm sY*_l'm' = delta by Gauss-Legendre quadrature; closed forms */
static void test_ylm(void) {
  int L = 6;
  gdl_sampling *s = gdl_sampling_new(GDL_SAMPLING_GL, L, 0);
  int64_t L2 = L * L;
  for (int spin = 0; spin <= 2; spin += 2) {
    double *G = calloc(2 * L2 * L2, sizeof(double)), *y = malloc(2 * L2 * sizeof(double));
    for (int64_t i = 0; i < s->npix; i++) {
      double th, ph;
      gdl_sampling_pix2ang(s, i, &th, &ph);
      gdl_sph_harm(L, spin, th, ph, y);
      int64_t r = 0;
      while (r + 1 < s->nring && s->ringstart[r + 1] <= i) r++;
      double w = s->weight[r];
      for (int64_t a = 0; a < L2; a++)
        for (int64_t b = 0; b < L2; b++) {
          G[2 * (a * L2 + b)] += w * (y[2 * a] * y[2 * b] + y[2 * a + 1] * y[2 * b + 1]);
          G[2 * (a * L2 + b) + 1] += w * (y[2 * a + 1] * y[2 * b] - y[2 * a] * y[2 * b + 1]);
        }
    }
    double e = 0;
    for (int l = 0; l < L; l++)
      for (int m = -l; m <= l; m++)
        for (int l2 = 0; l2 < L; l2++)
          for (int m2 = -l2; m2 <= l2; m2++) {
            double want = (l == l2 && m == m2 && l >= spin) ? 1 : 0;
            int64_t a = idx(l, m), b = idx(l2, m2);
            e = fmax(e, fabs(G[2 * (a * L2 + b)] - want) + fabs(G[2 * (a * L2 + b) + 1]));
          }
    CHECK(e < 1e-13, "spin %d: Y_lm not orthonormal by quadrature (error %.2e)", spin, e);
    printf("orthonormality of %dY_lm, L=%d, GL quadrature: %.1e\n", spin, L, e);
    free(G), free(y);
  }
  gdl_sampling_free(s);
  /* Y_1^1 = -sqrt(3/8pi) sin t e^{ip}; Y_2^0 = sqrt(5/16pi)(3 cos^2 t - 1) */
  double y[2 * 9], t = 0.7, ph = 0.3;
  gdl_sph_harm(3, 0, t, ph, y);
  CHECK_CLOSE(y[2 * idx(1, 1)], -sqrt(3 / (8 * M_PI)) * sin(t) * cos(ph), 1e-15, 1e-14, "Y_1^1 re");
  CHECK_CLOSE(y[2 * idx(1, 1) + 1], -sqrt(3 / (8 * M_PI)) * sin(t) * sin(ph), 1e-15, 1e-14, "Y_1^1 im");
  CHECK_CLOSE(y[2 * idx(2, 0)], sqrt(5 / (16 * M_PI)) * (3 * cos(t) * cos(t) - 1), 1e-15, 1e-14, "Y_2^0");
  CHECK_CLOSE(y[2 * idx(1, -1)], sqrt(3 / (8 * M_PI)) * sin(t) * cos(ph), 1e-15, 1e-14, "Y_1^-1 re");
}

static gdl_tensor *get(gdl_arrays *ref, const char *name) {
  gdl_tensor *x = ref ? gdl_arrays_get(ref, name) : NULL;
  CHECK(x != NULL, "fixture %s missing", name);
  return x;
}

/* ssht (complex spin maps), ducc0 (real maps, spin 2 E/B), healpy */
static void test_fixtures(void) {
  gdl_arrays *ref = gdl_npz_load("tests/ref/sphere.npz");
  CHECK(ref != NULL, "tests/ref/sphere.npz: %s", gdl_last_error());
  if (!ref) return;
  char key[96];
  const char *methods[] = {"mw", "mwss", "gl", "dh"};
  gdl_sampling_kind kinds[] = {GDL_SAMPLING_MW, GDL_SAMPLING_MWSS, GDL_SAMPLING_GL, GDL_SAMPLING_DH};
  int L = 12;
  double worst_ssht = 0, worst_ducc = 0;
  for (int k = 0; k < 4; k++)
    for (int spin = 0; spin <= 2; spin++) {
      snprintf(key, sizeof key, "ssht.%s.s%d.alm", methods[k], spin);
      gdl_tensor *a = get(ref, key);
      snprintf(key, sizeof key, "ssht.%s.s%d.map", methods[k], spin);
      gdl_tensor *f = get(ref, key);
      if (!a || !f) continue;
      gdl_sampling *s = gdl_sampling_new(kinds[k], L, 0);
      gdl_sht_plan *p = gdl_sht_plan_create(s, L, spin, 0);
      CHECK(gdl_tensor_numel(f) == s->npix, "ssht %s: %lld pixels, ours %lld", methods[k],
            (long long)gdl_tensor_numel(f), (long long)s->npix);
      double *m = malloc(2 * s->npix * sizeof(double)), *b = malloc(2 * L * L * sizeof(double)), sc;
      gdl_sht_inverse(p, a->data, m, 1);
      double e1 = maxdiff(m, f->data, 2 * s->npix, &sc) / sc;
      gdl_sht_forward(p, f->data, b, 1);
      double e2 = maxdiff(b, a->data, 2 * L * L, &sc) / sc;
      /* ssht's own GL and DH transforms are accurate to a few 1e-12 at this L (ducc0 agrees
       * with us to 1e-15 on the same grids), so this bound is ssht's, not ours */
      CHECK(e1 < 1e-11 && e2 < 1e-11, "ssht %s spin %d: map differs by %.2e, alm by %.2e", methods[k], spin, e1, e2);
      worst_ssht = fmax(worst_ssht, fmax(e1, e2));
      free(m), free(b), gdl_sht_plan_destroy(p), gdl_sampling_free(s);
    }
  const char *geoms[] = {"gl", "mw", "mwss", "dh"};
  for (int k = 0; k < 4; k++) {
    snprintf(key, sizeof key, "ducc.%s.alm", geoms[k]);
    gdl_tensor *a = get(ref, key);
    snprintf(key, sizeof key, "ducc.%s.map", geoms[k]);
    gdl_tensor *f = get(ref, key);
    if (!a || !f) continue;
    gdl_sampling *s = gdl_sampling_new(kinds[(k == 0) ? 2 : (k == 1) ? 0 : (k == 2) ? 1 : 3], L, 0);
    gdl_sht_plan *p = gdl_sht_plan_create(s, L, 0, GDL_SHT_REAL);
    double *m = malloc(s->npix * sizeof(double)), *b = malloc(2 * L * L * sizeof(double)), sc;
    gdl_sht_inverse(p, a->data, m, 1);
    double e1 = maxdiff(m, f->data, s->npix, &sc) / sc;
    gdl_sht_forward(p, f->data, b, 1);
    double e2 = maxdiff(b, a->data, 2 * L * L, &sc) / sc;
    CHECK(e1 < 1e-12 && e2 < 1e-12, "ducc %s: map differs by %.2e, alm by %.2e", geoms[k], e1, e2);
    worst_ducc = fmax(worst_ducc, fmax(e1, e2));
    free(m), free(b), gdl_sht_plan_destroy(p), gdl_sampling_free(s);
  }
  /* ducc/healpy spin 2: Q + iU = sum a_lm 2Y_lm with a_lm = -(E_lm + i B_lm) */
  {
    gdl_tensor *E = get(ref, "ducc.gl.s2.E"), *B = get(ref, "ducc.gl.s2.B"), *Q = get(ref, "ducc.gl.s2.Q"),
               *U = get(ref, "ducc.gl.s2.U");
    if (E && B && Q && U) {
      gdl_sampling *s = gdl_sampling_new(GDL_SAMPLING_GL, L, 0);
      gdl_sht_plan *p = gdl_sht_plan_create(s, L, 2, 0);
      double *a = malloc(2 * L * L * sizeof(double)), *m = malloc(2 * s->npix * sizeof(double));
      const double *e = E->data, *bb = B->data, *q = Q->data, *u = U->data;
      for (int64_t i = 0; i < L * L; i++) /* -(E + iB), E and B complex */
        a[2 * i] = -(e[2 * i] - bb[2 * i + 1]), a[2 * i + 1] = -(e[2 * i + 1] + bb[2 * i]);
      gdl_sht_inverse(p, a, m, 1);
      double err = 0, sc = 0;
      for (int64_t i = 0; i < s->npix; i++) {
        err = fmax(err, fmax(fabs(m[2 * i] - q[i]), fabs(m[2 * i + 1] - u[i])));
        sc = fmax(sc, fabs(q[i]));
      }
      CHECK(err / sc < 1e-12, "ducc spin 2 (Q+iU = -(E+iB) 2Y): differs by %.2e", err / sc);
      worst_ducc = fmax(worst_ducc, err / sc);
      free(a), free(m), gdl_sht_plan_destroy(p), gdl_sampling_free(s);
    }
  }
  /* healpy */
  double e_hp = 1, e_it = 1;
  {
    int ns = 8, Lh = 16;
    gdl_tensor *a = get(ref, "healpy.alm"), *f = get(ref, "healpy.map"), *r = get(ref, "healpy.rand"),
               *it = get(ref, "healpy.iter3");
    gdl_sampling *s = gdl_sampling_new(GDL_SAMPLING_HEALPIX, 0, ns);
    gdl_sht_plan *p = gdl_sht_plan_create(s, Lh, 0, GDL_SHT_REAL);
    if (a && f && r && it && p) {
      double *m = malloc(s->npix * sizeof(double)), *b = malloc(2 * Lh * Lh * sizeof(double)), sc, res;
      gdl_sht_inverse(p, a->data, m, 1);
      e_hp = maxdiff(m, f->data, s->npix, &sc) / sc;
      CHECK(e_hp < 1e-12, "healpy alm2map differs by %.2e", e_hp);
      gdl_sht_forward_iter(p, r->data, b, 1, 3, &res);
      e_it = maxdiff(b, it->data, 2 * Lh * Lh, &sc) / sc;
      CHECK(e_it < 1e-11, "healpy map2alm(iter=3) differs by %.2e", e_it);
      free(m), free(b);
    }
    gdl_sht_plan_destroy(p), gdl_sampling_free(s);
  }
  int bad = 0;
  for (int ns = 1; ns <= 8; ns++) {
    snprintf(key, sizeof key, "healpy.pix2ang.%d", ns);
    gdl_tensor *pa = gdl_arrays_get(ref, key);
    if (!pa) continue;
    const double *v = pa->data;
    for (int64_t i = 0; i < 12 * ns * ns; i++) {
      double t, ph;
      gdl_healpix_pix2ang_ring(ns, i, &t, &ph);
      bad += fabs(t - v[2 * i]) > 1e-13 || fabs(ph - v[2 * i + 1]) > 1e-13;
      bad += gdl_healpix_ang2pix_ring(ns, t, ph) != i;
    }
    snprintf(key, sizeof key, "healpy.ang.%d", ns);
    gdl_tensor *ang = get(ref, key);
    snprintf(key, sizeof key, "healpy.ang2pix.%d", ns);
    gdl_tensor *pix = get(ref, key);
    for (int64_t i = 0; ang && pix && i < 200; i++)
      bad += gdl_healpix_ang2pix_ring(ns, ((double *)ang->data)[2 * i], ((double *)ang->data)[2 * i + 1]) !=
             ((int64_t *)pix->data)[i];
    snprintf(key, sizeof key, "healpy.nest2ring.%d", ns);
    gdl_tensor *nr = gdl_arrays_get(ref, key);
    for (int64_t i = 0; nr && i < 12 * ns * ns; i++) {
      bad += gdl_healpix_nest2ring(ns, i) != ((int64_t *)nr->data)[i];
      bad += gdl_healpix_ring2nest(ns, gdl_healpix_nest2ring(ns, i)) != i;
    }
    /* the sampling's ring geometry matches pix2ang */
    gdl_sampling *s = gdl_sampling_new(GDL_SAMPLING_HEALPIX, 0, ns);
    for (int64_t i = 0; i < s->npix; i++) {
      double t, ph;
      gdl_sampling_pix2ang(s, i, &t, &ph);
      bad += fabs(t - v[2 * i]) > 1e-13 || fabs(ph - v[2 * i + 1]) > 1e-13;
    }
    gdl_sampling_free(s);
  }
  CHECK(bad == 0, "healpy pixel arithmetic: %d mismatches", bad);
  printf("agreement: ssht (MW/MWSS/GL/DH, spins 0-2, L=12) %.1e; ducc0 (GL/MW/CC/F1, spin 0 and 2) %.1e; "
         "healpy alm2map %.1e, map2alm iter=3 %.1e\n", worst_ssht, worst_ducc, e_hp, e_it);
  gdl_arrays_free(ref);
}

/* HEALPix analysis: iteration and least squares shrink the residual */
static void test_healpix_analysis(void) {
  int ns = 8, L = 16;
  gdl_sampling *s = gdl_sampling_new(GDL_SAMPLING_HEALPIX, 0, ns);
  gdl_sht_plan *p = gdl_sht_plan_create(s, L, 0, GDL_SHT_REAL);
  double *a = rand_alm(L, 0, true), *f = malloc(s->npix * sizeof(double)), *b = malloc(2 * L * L * sizeof(double));
  gdl_sht_inverse(p, a, f, 1);
  double r0, r3, rl, sc;
  gdl_sht_forward_iter(p, f, b, 1, 0, &r0);
  gdl_sht_forward_iter(p, f, b, 1, 3, &r3);
  gdl_sht_forward_lsq(p, f, b, 1, 1e-12, 100, &rl);
  double e = maxdiff(b, a, 2 * L * L, &sc) / sc;
  CHECK(r3 < r0 && rl < 1e-9 && e < 1e-8, "healpix: residual %.2e (0 iter), %.2e (3 iter), %.2e (lsq), lsq alm error %.2e",
        r0, r3, rl, e);
  printf("healpix nside %d L=%d: residual %.1e quadrature, %.1e iter=3, %.1e CG least squares (alm error %.1e)\n", ns,
         L, r0, r3, rl, e);
  free(a), free(f), free(b), gdl_sht_plan_destroy(p), gdl_sampling_free(s);
}

/* ---- Wigner ------------------------------------------------------------------------- */

static void euler_matrix(double a, double b, double g, double R[3][3]) {
  double ca = cos(a), sa = sin(a), cb = cos(b), sb = sin(b), cg = cos(g), sg = sin(g);
  double Z1[3][3] = {{ca, -sa, 0}, {sa, ca, 0}, {0, 0, 1}}, Y[3][3] = {{cb, 0, sb}, {0, 1, 0}, {-sb, 0, cb}};
  double Z2[3][3] = {{cg, -sg, 0}, {sg, cg, 0}, {0, 0, 1}}, T[3][3] = {{0}};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      for (int k = 0; k < 3; k++) T[i][j] += Z1[i][k] * Y[k][j];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      R[i][j] = 0;
      for (int k = 0; k < 3; k++) R[i][j] += T[i][k] * Z2[k][j];
    }
}

static void matrix_euler(double R[3][3], double *a, double *b, double *g) {
  *b = acos(fmax(-1, fmin(1, R[2][2])));
  *a = atan2(R[1][2], R[0][2]);
  *g = atan2(R[2][1], -R[2][0]);
}

static void test_wigner(void) {
  gdl_arrays *ref = gdl_npz_load("tests/ref/sphere.npz");
  /* Risbo against the l-recursion and the high-precision fixture */
  double e1 = 0;
  int lmax = SANITIZED ? 60 : 300;
  gdl_wigner_risbo *r = gdl_wigner_risbo_new(lmax, 1.1);
  double *col = malloc((lmax + 1) * sizeof(double));
  const double *d = NULL;
  for (int l = 0; l <= lmax; l++) d = gdl_wigner_risbo_next(r, NULL);
  int n = 2 * lmax + 1;
  for (int m = -lmax; m <= lmax; m += 37)
    for (int k = -lmax; k <= lmax; k += 23) {
      gdl_wigner_d_column(lmax + 1, m, k, 1.1, col);
      e1 = fmax(e1, fabs(col[lmax] - d[(m + lmax) * n + k + lmax]));
    }
  CHECK(e1 < 1e-12, "Risbo vs the l-recursion at l=%d: %.2e", lmax, e1);
  gdl_wigner_risbo_free(r);
  free(col);
  double ef = 0;
  int lf[] = {3, 40, 700, 2047};
  for (int i = 0; i < 4 && ref; i++) {
    char key[32];
    snprintf(key, sizeof key, "wigner.l%d", lf[i]);
    gdl_tensor *t = get(ref, key);
    if (!t) continue;
    int l = lf[i];
    double *c = malloc((l + 1) * sizeof(double)), *dd = l <= 40 ? malloc((2 * l + 1) * (2 * l + 1) * sizeof(double)) : NULL;
    for (int64_t row = 0; row < t->shape[0]; row++) {
      const double *v = (const double *)t->data + 4 * row;
      gdl_wigner_d_column(l + 1, (int)v[0], (int)v[1], v[2], c);
      ef = fmax(ef, fabs(c[l] - v[3]));
      if (dd) {
        gdl_wigner_d(l, v[2], dd);
        ef = fmax(ef, fabs(dd[((int)v[0] + l) * (2 * l + 1) + (int)v[1] + l] - v[3]));
      }
    }
    free(c), free(dd);
  }
  CHECK(ef < 1e-12, "Wigner d against 60+ digit references (l up to 2047): %.2e", ef);
  printf("wigner d: Risbo vs recursion (l=%d) %.1e; vs Wigner's sum in mpmath (l=3..2047) %.1e\n", lmax, e1, ef);
  /* D is a unitary representation: D(R1 R2) = D(R1) D(R2) */
  int l = 7, m = 2 * l + 1;
  double a1 = 0.4, b1 = 1.2, g1 = -0.7, a2 = 2.1, b2 = 0.5, g2 = 1.3, R1[3][3], R2[3][3], R12[3][3] = {{0}};
  euler_matrix(a1, b1, g1, R1), euler_matrix(a2, b2, g2, R2);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      for (int k = 0; k < 3; k++) R12[i][j] += R1[i][k] * R2[k][j];
  double a3, b3, g3;
  matrix_euler(R12, &a3, &b3, &g3);
  double *D1 = malloc(2 * m * m * sizeof(double)), *D2 = malloc(2 * m * m * sizeof(double)),
         *D3 = malloc(2 * m * m * sizeof(double));
  gdl_wigner_D(l, a1, b1, g1, D1), gdl_wigner_D(l, a2, b2, g2, D2), gdl_wigner_D(l, a3, b3, g3, D3);
  double erep = 0, euni = 0;
  for (int i = 0; i < m; i++)
    for (int j = 0; j < m; j++) {
      double sr = 0, si = 0, ur = 0, ui = 0;
      for (int k = 0; k < m; k++) {
        double xr = D1[2 * (i * m + k)], xi = D1[2 * (i * m + k) + 1], yr = D2[2 * (k * m + j)], yi = D2[2 * (k * m + j) + 1];
        sr += xr * yr - xi * yi, si += xr * yi + xi * yr;
        double zr = D1[2 * (j * m + k)], zi = D1[2 * (j * m + k) + 1]; /* D1 D1^H */
        ur += xr * zr + xi * zi, ui += xi * zr - xr * zi;
      }
      erep = fmax(erep, fmax(fabs(sr - D3[2 * (i * m + j)]), fabs(si - D3[2 * (i * m + j) + 1])));
      euni = fmax(euni, fmax(fabs(ur - (i == j)), fabs(ui)));
    }
  CHECK(erep < 1e-13 && euni < 1e-13, "D(R1R2) = D(R1)D(R2): %.2e; unitarity %.2e", erep, euni);
  printf("wigner D (l=%d): representation %.1e, unitarity %.1e\n", l, erep, euni);
  free(D1), free(D2), free(D3);
  gdl_arrays_free(ref);
}

/* rotations exactly representable on MWSS (L rings + 1, 2L pixels a ring): about z by
 * 3 pixels, and by pi about y (t -> pi - t, p -> pi - p) */
static void test_rotation(void) {
  int L = 16;
  gdl_sampling *s = gdl_sampling_new(GDL_SAMPLING_MWSS, L, 0);
  gdl_sht_plan *p = gdl_sht_plan_create(s, L, 0, 0);
  double *a = rand_alm(L, 0, false), *b = malloc(2 * L * L * sizeof(double));
  double *f = malloc(2 * s->npix * sizeof(double)), *g = malloc(2 * s->npix * sizeof(double));
  gdl_sht_inverse(p, a, f, 1);
  int64_t np = 2 * L, nr = L + 1;
  double ez = 0, ey = 0, ep = 0;
  gdl_sht_rotate(L, a, b, 2 * M_PI * 3 / np, 0, 0);
  gdl_sht_inverse(p, b, g, 1);
  for (int64_t r = 0; r < nr; r++)
    for (int64_t q = 0; q < np; q++) {
      int64_t src = r * np + (q - 3 + np) % np; /* f'(p) = f(p - alpha) */
      ez = fmax(ez, fabs(g[2 * (r * np + q)] - f[2 * src]) + fabs(g[2 * (r * np + q) + 1] - f[2 * src + 1]));
    }
  gdl_sht_rotate(L, a, b, 0, M_PI, 0);
  gdl_sht_inverse(p, b, g, 1);
  for (int64_t r = 0; r < nr; r++)
    for (int64_t q = 0; q < np; q++) {
      if (r == 0 || r == nr - 1) continue; /* at the poles phi is arbitrary */
      int64_t src = (nr - 1 - r) * np + (L - q + np) % np;
      ey = fmax(ey, fabs(g[2 * (r * np + q)] - f[2 * src]) + fabs(g[2 * (r * np + q) + 1] - f[2 * src + 1]));
    }
  /* a general rotation keeps the power spectrum, and its inverse undoes it */
  gdl_sht_rotate(L, a, b, 0.3, 1.9, -2.2);
  for (int l = 0; l < L; l++) {
    double p0 = 0, p1 = 0;
    for (int m = -l; m <= l; m++) {
      p0 += a[2 * idx(l, m)] * a[2 * idx(l, m)] + a[2 * idx(l, m) + 1] * a[2 * idx(l, m) + 1];
      p1 += b[2 * idx(l, m)] * b[2 * idx(l, m)] + b[2 * idx(l, m) + 1] * b[2 * idx(l, m) + 1];
    }
    ep = fmax(ep, fabs(p0 - p1));
  }
  gdl_sht_rotate(L, b, b, 2.2, -1.9, -0.3); /* R^-1 = Rz(-g) Ry(-b) Rz(-a) */
  double einv = maxdiff(b, a, 2 * L * L, NULL);
  CHECK(ez < 1e-12 && ey < 1e-12 && ep < 1e-12 && einv < 1e-12,
        "rotation: z-shift %.2e, y-flip %.2e, power %.2e, inverse %.2e", ez, ey, ep, einv);
  printf("rotation vs exact pixel rotations (MWSS L=%d): z %.1e, pi about y %.1e; power kept %.1e, inverse %.1e\n", L,
         ez, ey, ep, einv);
  free(a), free(b), free(f), free(g), gdl_sht_plan_destroy(p), gdl_sampling_free(s);
}

static void test_so3(void) {
  int cases[3][2] = {{8, 3}, {6, 6}, {10, 1}};
  for (int c = 0; c < 3; c++) {
    int L = cases[c][0], N = cases[c][1];
    gdl_so3_plan *p = gdl_so3_plan_create(L, N, 0);
    CHECK(p != NULL, "so3 plan: %s", gdl_last_error());
    if (!p) continue;
    int64_t nc = gdl_so3_coeff_size(p), nm = gdl_so3_map_size(p), L2 = L * L;
    double *a = calloc(2 * nc, sizeof(double)), *b = malloc(2 * nc * sizeof(double)), *f = malloc(2 * nm * sizeof(double));
    for (int n = -(N - 1); n < N; n++)
      for (int l = abs(n); l < L; l++)
        for (int m = -l; m <= l; m++)
          for (int k = 0; k < 2; k++) a[2 * ((n + N - 1) * L2 + idx(l, m)) + k] = gdl_rng_uniform(&rng) - 0.5;
    gdl_so3_inverse(p, a, f);
    gdl_so3_forward(p, f, b);
    double sc, e = maxdiff(b, a, 2 * nc, &sc) / sc;
    /* adjoints */
    double *y = malloc(2 * nm * sizeof(double)), *Shy = malloc(2 * nc * sizeof(double)), *Ay = malloc(2 * nc * sizeof(double)),
           *Ahx = malloc(2 * nm * sizeof(double));
    for (int64_t i = 0; i < 2 * nm; i++) y[i] = gdl_rng_uniform(&rng) - 0.5;
    gdl_so3_inverse_adjoint(p, y, Shy), gdl_so3_forward(p, y, Ay), gdl_so3_forward_adjoint(p, a, Ahx);
    double d1 = 0, d2 = 0, d3 = 0, d4 = 0;
    for (int64_t i = 0; i < 2 * nm; i++) d1 += f[i] * y[i], d4 += y[i] * Ahx[i];
    for (int64_t i = 0; i < 2 * nc; i++) d2 += a[i] * Shy[i], d3 += Ay[i] * a[i];
    /* one sample against the definition f = sum (2l+1)/(8 pi^2) flmn conj(D^l_mn) */
    int ia = 1, ib = 2, ig = N > 1 ? 1 : 0;
    double al = 2 * M_PI * ia / (2 * L - 1), be = M_PI * (2 * ib + 1) / (2 * L - 1), ga = 2 * M_PI * ig / (2 * N - 1);
    double sr = 0, si = 0;
    for (int l = 0; l < L; l++) {
      double *D = malloc(2 * (2 * l + 1) * (2 * l + 1) * sizeof(double));
      gdl_wigner_D(l, al, be, ga, D);
      for (int n = -(N - 1); n < N; n++)
        for (int m = -l; m <= l && abs(n) <= l; m++) {
          double dr = D[2 * ((m + l) * (2 * l + 1) + n + l)], di = -D[2 * ((m + l) * (2 * l + 1) + n + l) + 1];
          double xr = a[2 * ((n + N - 1) * L2 + idx(l, m))], xi = a[2 * ((n + N - 1) * L2 + idx(l, m)) + 1];
          sr += (2 * l + 1) / (8 * M_PI * M_PI) * (xr * dr - xi * di);
          si += (2 * l + 1) / (8 * M_PI * M_PI) * (xr * di + xi * dr);
        }
      free(D);
    }
    int64_t at = ((int64_t)ig * L + ib) * (2 * L - 1) + ia;
    double ed = fmax(fabs(sr - f[2 * at]), fabs(si - f[2 * at + 1]));
    CHECK(e < 1e-12 && fabs(d1 - d2) < 1e-12 * fabs(d1) && fabs(d3 - d4) < 1e-12 * fabs(d3) && ed < 1e-12,
          "so3 L=%d N=%d: round trip %.2e, adjoints %.2e %.2e, definition %.2e", L, N, e, d1 - d2, d3 - d4, ed);
    printf("so3 L=%d N=%d: round trip %.1e, definition %.1e\n", L, N, e, ed);
    free(a), free(b), free(f), free(y), free(Shy), free(Ay), free(Ahx);
    gdl_so3_plan_destroy(p);
  }
}

static void test_bad_input(void) {
  gdl_sampling *s = gdl_sampling_new(GDL_SAMPLING_MW, 8, 0);
  CHECK(gdl_sampling_new(GDL_SAMPLING_MW, 0, 0) == NULL && strstr(gdl_last_error(), "L must"), "L=0 accepted");
  CHECK(gdl_sht_plan_create(s, 9, 0, 0) == NULL && strstr(gdl_last_error(), "cannot hold"), "L > sampling's L");
  CHECK(gdl_sht_plan_create(s, 8, 8, 0) == NULL, "spin >= L accepted");
  CHECK(gdl_sht_plan_create(s, 8, 1, GDL_SHT_REAL) == NULL && strstr(gdl_last_error(), "spin 0"), "real spin map");
  CHECK(gdl_sampling_new(GDL_SAMPLING_HEALPIX, 0, 0) == NULL, "nside 0 accepted");
  CHECK(gdl_so3_plan_create(4, 5, 0) == NULL, "N > L accepted");
  CHECK(gdl_sampling_parse("healpix") == GDL_SAMPLING_HEALPIX && gdl_sampling_parse("nope") == -1, "parse");
  gdl_sampling_free(s);
}

/* gdl sht inverse then forward through .npy files (the gdl binary sits in the folder
 * above the test's, as tests/test_cli.c finds it) */
static void test_cli(const char *argv0) {
  char dir[64] = "/tmp/gdl_sphere_XXXXXX", bin[1024], self[900], cmd[4096];
  const char *env = getenv("GDL_BIN");
  snprintf(self, sizeof self, "%s", argv0);
  char *slash = strrchr(self, '/');
  if (slash) *slash = 0;
  else snprintf(self, sizeof self, ".");
  snprintf(bin, sizeof bin, "%s/../gdl", env ? env : self);
  if (access(bin, X_OK) || !mkdtemp(dir)) {
    printf("gdl command not found (%s): CLI round trip skipped\n", bin);
    return;
  }
  int L = 8;
  gdl_tensor *a = gdl_tensor_alloc(GDL_C128, GDL_SHAPE(2, L * L));
  for (int c = 0; c < 2; c++) {
    double *x = rand_alm(L, 1, false);
    memcpy((double *)a->data + c * 2 * L * L, x, 2 * L * L * sizeof(double));
    free(x);
  }
  char in[128], map[128], out[128];
  snprintf(in, sizeof in, "%s/alm.npy", dir), snprintf(map, sizeof map, "%s/map.npy", dir);
  snprintf(out, sizeof out, "%s/out.npy", dir);
  gdl_npy_save(in, a);
  snprintf(cmd, sizeof cmd, "'%s' sht inverse --sampling dh --L %d --spin 1 '%s' '%s' && '%s' sht forward --sampling dh "
           "--L %d --spin 1 --time '%s' '%s' > /dev/null", bin, L, in, map, bin, L, map, out);
  int rc = system(cmd);
  gdl_tensor *b = rc ? NULL : gdl_npy_load(out);
  CHECK(b && b->dtype == GDL_C128 && gdl_tensor_numel(b) == 2 * L * L &&
            maxdiff(b->data, a->data, 4 * L * L, NULL) < 1e-13,
        "gdl sht inverse/forward round trip (rc %d)", rc);
  snprintf(cmd, sizeof cmd, "'%s' sht forward --sampling nope --L 4 '%s' '%s' 2> /dev/null", bin, map, out);
  CHECK(system(cmd) != 0, "gdl sht accepted an unknown sampling");
  gdl_tensor_free(a), gdl_tensor_free(b);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd)) printf("could not remove %s\n", dir);
}

/* The azimuthal DFTs of odd ring lengths (dft.c's mixed-radix passes and Bluestein)
 * against the defining sum, both signs, 8 and 16 columns. */
static void test_dft(void) {
  int64_t ns[] = {67, 148, 178, 511, 1023, 2047, 521, 1042};
  for (int k = 0; k < 8; k++)
    for (int h = 8; h <= 16; h += 8)
      for (int sign = -1; sign <= 1; sign += 2) {
        int64_t n = ns[k];
        gdl__dft d;
        CHECK(gdl__dft_init(&d, n, h, sign, FFTW_ESTIMATE) == GDL_OK, "dft init n=%lld", (long long)n);
        fftw_complex *x = fftw_malloc(sizeof(fftw_complex) * (size_t)(n * h)), *y = fftw_malloc(sizeof(fftw_complex) * (size_t)(n * h));
        fftw_complex *sc = fftw_malloc(sizeof(fftw_complex) * (size_t)(gdl__dft_scratch(&d) + 1));
        for (int64_t i = 0; i < n * h; i++) x[i][0] = y[i][0] = gdl_rng_uniform(&rng) - 0.5, x[i][1] = y[i][1] = gdl_rng_uniform(&rng) - 0.5;
        gdl__dft_exec(&d, y, sc);
        double err = 0, mx = 0, *e = malloc(2 * (size_t)n * sizeof(double)); /* e^(sign 2 pi i k / n) */
        for (int64_t i = 0; i < n; i++)
          e[2 * i] = (double)cosl(2 * M_PI * (long double)i / n), e[2 * i + 1] = sign * (double)sinl(2 * M_PI * (long double)i / n);
        for (int q = 0; q < h; q += 5) /* a few columns against the O(n^2) sum */
          for (int64_t kk = 0; kk < n; kk++) {
            long double re = 0, im = 0;
            for (int64_t j = 0, jk = 0; j < n; j++, jk = jk + kk >= n ? jk + kk - n : jk + kk) {
              double c = e[2 * jk], sn = e[2 * jk + 1];
              re += x[q * n + j][0] * c - x[q * n + j][1] * sn, im += x[q * n + j][0] * sn + x[q * n + j][1] * c;
            }
            err = fmax(err, fmax(fabs((double)re - y[q * n + kk][0]), fabs((double)im - y[q * n + kk][1])));
            mx = fmax(mx, fabs((double)re));
          }
        CHECK(err <= 1e-13 * mx, "dft n=%lld h=%d sign %d (%s): error %.2e of %.2e", (long long)n, h, sign,
              d.mixed ? "mixed radix" : d.blue ? "Bluestein" : "FFTW", err, mx);
        fftw_free(x), fftw_free(y), fftw_free(sc), free(e);
        gdl__dft_free(&d);
      }
}

/* One thread or two: the same maps and coefficients, bit for bit (work is split by m
 * and by rings, each summed in a fixed order). */
static void test_threads(void) {
  int saved = gdl_get_threads();
  struct { gdl_sampling_kind k; int L, spin; unsigned fl; int nb; } c[] = {
      {GDL_SAMPLING_GL, 200, 2, 0, 1}, {GDL_SAMPLING_MW, 160, 0, GDL_SHT_REAL, 1}, {GDL_SAMPLING_MWSS, 64, 1, 0, 3}};
  for (int i = 0; i < 3; i++) {
    gdl_sampling *s = gdl_sampling_new(c[i].k, c[i].L, 0);
    gdl_sht_plan *p = gdl_sht_plan_create(s, c[i].L, c[i].spin, c[i].fl);
    bool real = c[i].fl & GDL_SHT_REAL;
    int64_t nc = 2 * (int64_t)c[i].L * c[i].L, nmap = s->npix * (real ? 1 : 2), nb = c[i].nb;
    double *a = malloc((size_t)(nb * nc) * sizeof(double)), *f[2], *b[2];
    for (int q = 0; q < nb; q++) {
      double *x = rand_alm(c[i].L, c[i].spin, real);
      memcpy(a + q * nc, x, (size_t)nc * sizeof(double));
      free(x);
    }
    for (int t = 0; t < 2; t++) {
      f[t] = malloc((size_t)(nb * nmap) * sizeof(double)), b[t] = malloc((size_t)(nb * nc) * sizeof(double));
      gdl_set_threads(t + 1);
      gdl_sht_inverse(p, a, f[t], nb);
      gdl_sht_forward(p, f[t], b[t], nb);
    }
    gdl_set_threads(saved);
    double dm = maxdiff(f[0], f[1], nb * nmap, NULL), da = maxdiff(b[0], b[1], nb * nc, NULL);
    CHECK(dm == 0 && da == 0, "%s L=%d spin %d: 1 and 2 threads differ by %.2e (maps), %.2e (coefficients)",
          gdl_sampling_name(c[i].k), c[i].L, c[i].spin, dm, da);
    free(a), free(f[0]), free(f[1]), free(b[0]), free(b[1]);
    gdl_sht_plan_destroy(p), gdl_sampling_free(s);
  }
}

/* float64 coefficients are written straight into the caller's array: every entry,
 * whatever it held before (NaN here), on real and complex plans of every spin */
static void test_outputs_written(void) {
  struct { gdl_sampling_kind k; int L, spin; unsigned fl; } c[] = {
      {GDL_SAMPLING_GL, 40, 0, GDL_SHT_REAL}, {GDL_SAMPLING_MW, 40, 0, 0}, {GDL_SAMPLING_GL, 40, 2, 0},
      {GDL_SAMPLING_MWSS, 33, -1, 0}, {GDL_SAMPLING_HEALPIX, 40, 0, GDL_SHT_REAL}};
  for (int i = 0; i < 5; i++) {
    gdl_sampling *s = gdl_sampling_new(c[i].k, c[i].L, 16);
    gdl_sht_plan *p = gdl_sht_plan_create(s, c[i].L, c[i].spin, c[i].fl);
    int64_t nc = 2 * (int64_t)c[i].L * c[i].L;
    double *a = calloc((size_t)nc, sizeof(double)), *b = malloc((size_t)nc * sizeof(double));
    double *f = malloc((size_t)s->npix * 2 * sizeof(double));
    gdl_rng r = gdl_rng_make(7);
    for (int l = abs(c[i].spin); l < c[i].L; l++)
      for (int m = -l; m <= l; m++)
        a[2 * (l * l + l + m)] = gdl_rng_uniform(&r), a[2 * (l * l + l + m) + 1] = gdl_rng_uniform(&r);
    for (int64_t j = 0; j < nc; j++) b[j] = NAN;
    gdl_sht_inverse(p, a, f, 1);
    gdl_sht_forward(p, f, b, 1);
    int64_t bad = 0;
    for (int64_t j = 0; j < nc; j++) bad += !isfinite(b[j]);
    CHECK(bad == 0, "%s L=%d spin=%d: %lld coefficients left unwritten", gdl_sampling_name(c[i].k), c[i].L,
          c[i].spin, (long long)bad);
    free(a), free(b), free(f);
    gdl_sht_plan_destroy(p), gdl_sampling_free(s);
  }
}

/* A plan reuses its work buffers from call to call; the synthesis writes only the rings
 * it reaches and zeros in the rest (near the poles at large m), so what an analysis left
 * there before must not reach the map: the same synthesis after two different analyses
 * gives the same map, bit for bit. */
static void test_buffers_reused(void) {
  struct { gdl_sampling_kind k; int L, spin; unsigned fl; } c[] = {
      {GDL_SAMPLING_GL, 256, 2, 0}, {GDL_SAMPLING_MW, 256, 0, GDL_SHT_REAL}, {GDL_SAMPLING_HEALPIX, 256, 0, GDL_SHT_REAL}};
  for (int i = 0; i < 3; i++) {
    gdl_sampling *s = gdl_sampling_new(c[i].k, c[i].L, 128);
    gdl_sht_plan *p = gdl_sht_plan_create(s, c[i].L, c[i].spin, c[i].fl);
    bool real = c[i].fl & GDL_SHT_REAL;
    int64_t nc = 2 * (int64_t)c[i].L * c[i].L, nmap = s->npix * (real ? 1 : 2);
    double *a = rand_alm(c[i].L, c[i].spin, real), *b = malloc((size_t)nc * sizeof(double)), *f[2];
    gdl_rng r = gdl_rng_make(11);
    for (int t = 0; t < 2; t++) {
      f[t] = malloc((size_t)nmap * sizeof(double));
      for (int64_t j = 0; j < nmap; j++) f[t][j] = gdl_rng_uniform(&r) - 0.5;
      gdl_sht_forward(p, f[t], b, 1);
      gdl_sht_inverse(p, a, f[t], 1);
    }
    CHECK(memcmp(f[0], f[1], (size_t)nmap * sizeof(double)) == 0,
          "%s L=%d spin=%d: the synthesis depends on the previous call (max difference %.2e)",
          gdl_sampling_name(c[i].k), c[i].L, c[i].spin, maxdiff(f[0], f[1], nmap, NULL));
    free(a), free(b), free(f[0]), free(f[1]);
    gdl_sht_plan_destroy(p), gdl_sampling_free(s);
  }
}

int main(int argc, char **argv) {
  (void)argc;
  rng = gdl_rng_make(42);
  test_cli(argv[0]);
  test_bad_input();
  test_ylm();
  test_adjoints();
  test_spin_route();
  test_dft();
  test_threads();
  test_roundtrips();
  test_outputs_written();
  test_buffers_reused();
  test_fixtures();
  test_healpix_analysis();
  test_wigner();
  test_rotation();
  test_so3();
  return test_report();
}
