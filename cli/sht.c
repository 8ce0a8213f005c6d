/* gdl sht: spherical harmonic transforms and rotations of .npy arrays. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char sht_usage[] =
    "usage: gdl sht forward|inverse --L N [options] IN.npy OUT.npy\n"
    "       gdl sht rotate --euler A,B,G IN.npy OUT.npy\n"
    "\n"
    "forward (analysis) maps -> coefficients; inverse (synthesis) coefficients -> maps;\n"
    "rotate turns coefficients by the ZYZ Euler angles (radians): f'(x) = f(R^-1 x).\n"
    "Coefficients: [..., L^2] complex at l^2 + l + m (ssht's order), or real with --real-basis.\n"
    "Maps: [..., npix] ring by ring (HEALPix: healpy's RING order), complex unless --real.\n"
    "float32/complex64 input gives complex64/float32 output, otherwise 64-bit.\n"
    "\n"
    "options:\n"
    "  --sampling mw|mwss|gl|dh|cc|healpix   (default mw)\n"
    "  --L N          bandlimit (l < N)\n"
    "  --nside N      HEALPix resolution\n"
    "  --spin S       spin weight, |S| < L (default 0)\n"
    "  --real         real maps (spin 0)\n"
    "  --real-basis   real coefficients of the real SH basis (implies --real)\n"
    "  --iter N       HEALPix forward: refinement steps, as healpy's iter (default 3)\n"
    "  --threads N    threads (default: all cores)\n"
    "  --time         print the transform's median time over 5 runs (no plan or I/O)\n";

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef struct {
  const char *mode, *in, *out, *sampling, *euler;
  int L, nside, spin, iter, threads;
  bool real, real_basis, time;
} opts;

static int parse(int argc, char **argv, opts *o) {
  memset(o, 0, sizeof *o);
  o->sampling = "mw", o->iter = 3, o->L = -1;
  const char *pos[3];
  int npos = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) return fputs(sht_usage, stdout), 0;
    if (strncmp(a, "--", 2)) {
      if (npos == 3) return cli_failf("sht: unexpected argument '%s'\n\n%s", a, sht_usage), 2;
      pos[npos++] = a;
      continue;
    }
    const char *k = a + 2;
    if (!strcmp(k, "real")) o->real = true;
    else if (!strcmp(k, "real-basis")) o->real = o->real_basis = true;
    else if (!strcmp(k, "time")) o->time = true;
    else {
      if (i + 1 >= argc) return cli_failf("sht: option %s needs a value", a), 2;
      const char *v = argv[++i];
      char *end;
      long n = strtol(v, &end, 10);
      bool num = *v && !*end;
      if (!strcmp(k, "sampling")) o->sampling = v;
      else if (!strcmp(k, "euler")) o->euler = v;
      else if (!num) return cli_failf("sht: option %s expects a number, got '%s'\n\n%s", a, v, sht_usage), 2;
      else if (!strcmp(k, "L")) o->L = (int)n;
      else if (!strcmp(k, "nside")) o->nside = (int)n;
      else if (!strcmp(k, "spin")) o->spin = (int)n;
      else if (!strcmp(k, "iter")) o->iter = (int)n;
      else if (!strcmp(k, "threads")) o->threads = (int)n;
      else return cli_failf("sht: unknown option '%s'\n\n%s", a, sht_usage), 2;
    }
  }
  if (npos != 3) return cli_failf("sht: expected a mode and two files\n\n%s", sht_usage), 2;
  o->mode = pos[0], o->in = pos[1], o->out = pos[2];
  return -1;
}

/* x as a contiguous array of the wanted dtype (converted copy when needed) */
static gdl_tensor *as_dtype(gdl_tensor *x, gdl_dtype t) {
  if (x->dtype == t) return x;
  gdl_tensor *y = gdl_tensor_alloc(t, gdl_tensor_shape(x));
  if (!y) return NULL;
  bool cx = x->dtype == GDL_C64 || x->dtype == GDL_C128, cy = t == GDL_C64 || t == GDL_C128;
  int64_t n = gdl_tensor_numel(x);
  for (int64_t i = 0; i < n; i++) {
    double re, im = 0;
    if (x->dtype == GDL_C64) re = ((float *)x->data)[2 * i], im = ((float *)x->data)[2 * i + 1];
    else if (x->dtype == GDL_C128) re = ((double *)x->data)[2 * i], im = ((double *)x->data)[2 * i + 1];
    else re = gdl_tensor_get(x, i);
    if (cy && t == GDL_C64) ((float *)y->data)[2 * i] = (float)re, ((float *)y->data)[2 * i + 1] = (float)im;
    else if (cy) ((double *)y->data)[2 * i] = re, ((double *)y->data)[2 * i + 1] = im;
    else if (cx && im != 0) {
      gdl_tensor_free(y);
      gdl_error(GDL_ERR_VALUE, "expected a real array, element %lld has imaginary part %g", (long long)i, im);
      return NULL;
    } else gdl_tensor_set(y, i, re);
  }
  return y;
}

static int rotate(const opts *o, gdl_tensor *x) {
  double e[3];
  if (!o->euler || sscanf(o->euler, "%lf,%lf,%lf", &e[0], &e[1], &e[2]) != 3)
    return cli_failf("sht rotate: --euler A,B,G (radians) is required");
  bool f32 = x->dtype == GDL_C64 || x->dtype == GDL_F32;
  gdl_tensor *c = as_dtype(x, GDL_C128);
  if (!c) return cli_fail();
  int64_t n = x->ndim ? x->shape[x->ndim - 1] : 1, L = (int64_t)llround(sqrt((double)n));
  if (L * L != n) return cli_failf("sht rotate: last axis has %lld values, not a square L^2", (long long)n);
  gdl_tensor *y = gdl_tensor_alloc(GDL_C128, gdl_tensor_shape(c));
  int64_t nb = gdl_tensor_numel(c) / n;
  double times[5];
  int reps = o->time ? 5 : 1;
  for (int r = 0; r < reps; r++) {
    double t = now();
    for (int64_t b = 0; b < nb; b++)
      if (gdl_sht_rotate((int)L, (double *)c->data + 2 * b * n, (double *)y->data + 2 * b * n, e[0], e[1], e[2]))
        return cli_fail();
    times[r] = now() - t;
  }
  if (o->time) {
    qsort(times, 5, sizeof *times, cmp);
    printf("sht rotate: L=%lld, %lld arrays: median %.3f ms over 5 runs\n", (long long)L, (long long)nb, 1e3 * times[2]);
  }
  gdl_tensor *w = f32 ? as_dtype(y, GDL_C64) : y;
  int rc = gdl_npy_save(o->out, w) ? cli_fail() : 0;
  if (w != y) gdl_tensor_free(w);
  gdl_tensor_free(y);
  if (c != x) gdl_tensor_free(c);
  return rc;
}

int cli_sht(int argc, char **argv) {
  opts o;
  int rc = parse(argc, argv, &o);
  if (rc >= 0) return rc;
  bool fwd = !strcmp(o.mode, "forward"), inv = !strcmp(o.mode, "inverse"), rot = !strcmp(o.mode, "rotate");
  if (!fwd && !inv && !rot) return cli_failf("sht: mode must be forward, inverse or rotate, got '%s'", o.mode);
  if (o.threads > 0) gdl_set_threads(o.threads);
  gdl_tensor *x = gdl_npy_load(o.in);
  if (!x) return cli_fail();
  if (rot) {
    rc = rotate(&o, x);
    gdl_tensor_free(x);
    return rc;
  }
  int kind = gdl_sampling_parse(o.sampling);
  if (kind < 0) return gdl_tensor_free(x), cli_failf("sht: unknown sampling '%s' (mw mwss gl dh cc healpix)", o.sampling);
  if (o.L < 1 && kind == GDL_SAMPLING_HEALPIX && o.nside > 0) o.L = 3 * o.nside;
  if (o.L < 1) return gdl_tensor_free(x), cli_failf("sht: --L N is required");
  if (kind == GDL_SAMPLING_HEALPIX && o.nside < 1) return gdl_tensor_free(x), cli_failf("sht: healpix needs --nside");
  bool f32 = x->dtype == GDL_F32 || x->dtype == GDL_C64;
  unsigned flags = (o.real ? GDL_SHT_REAL : 0) | (o.real_basis ? GDL_SHT_REAL_BASIS : 0) | (f32 ? GDL_SHT_FLOAT32 : 0);
  gdl_sampling *s = gdl_sampling_new(kind, o.L, o.nside);
  gdl_sht_plan *p = s ? gdl_sht_plan_create(s, o.L, o.spin, flags) : NULL;
  gdl_sampling_free(s);
  if (!p) return gdl_tensor_free(x), cli_fail();
  int64_t npix = gdl_sht_map_size(p), nc = gdl_sht_coeff_size(p);
  int64_t nin = fwd ? npix : nc, nout = fwd ? nc : npix;
  bool cin = fwd ? !o.real : !o.real_basis, cout = fwd ? !o.real_basis : !o.real;
  gdl_dtype tin = cin ? (f32 ? GDL_C64 : GDL_C128) : (f32 ? GDL_F32 : GDL_F64);
  gdl_dtype tout = cout ? (f32 ? GDL_C64 : GDL_C128) : (f32 ? GDL_F32 : GDL_F64);
  int64_t n = gdl_tensor_numel(x);
  if (n == 0 || n % nin) {
    gdl_sht_plan_destroy(p), gdl_tensor_free(x);
    return cli_failf("sht %s: %s has %lld values, not a multiple of %lld (%s)", o.mode, o.in, (long long)n,
                     (long long)nin, fwd ? "pixels of the sampling" : "L^2 coefficients");
  }
  gdl_tensor *xi = as_dtype(x, tin);
  if (!xi) return gdl_sht_plan_destroy(p), gdl_tensor_free(x), cli_fail();
  int64_t nb = n / nin;
  gdl_shape so = nb > 1 || x->ndim > 1 ? GDL_SHAPE(nb, nout) : GDL_SHAPE(nout);
  gdl_tensor *y = gdl_tensor_alloc(tout, so);
  double times[5], res = -1;
  int reps = o.time ? 5 : 1;
  gdl_status st = GDL_OK;
  for (int r = 0; r < reps && !st; r++) {
    double t = now();
    if (inv) st = gdl_sht_inverse(p, xi->data, y->data, nb);
    else if (kind == GDL_SAMPLING_HEALPIX && o.iter > 0) st = gdl_sht_forward_iter(p, xi->data, y->data, nb, o.iter, &res);
    else st = gdl_sht_forward(p, xi->data, y->data, nb);
    times[r] = now() - t;
  }
  if (!st && o.time) {
    qsort(times, 5, sizeof *times, cmp);
    printf("sht %s: %s L=%d spin %d%s, %lld map%s: median %.3f ms over 5 runs\n", o.mode, gdl_sampling_name(kind), o.L,
           o.spin, o.real ? " real" : "", (long long)nb, nb > 1 ? "s" : "", 1e3 * times[2]);
  }
  if (!st && res >= 0) printf("sht forward: healpix iter=%d, relative residual %.3e\n", o.iter, res);
  if (!st) st = gdl_npy_save(o.out, y);
  rc = st ? cli_fail() : 0;
  if (xi != x) gdl_tensor_free(xi);
  gdl_tensor_free(x), gdl_tensor_free(y), gdl_sht_plan_destroy(p);
  return rc;
}
