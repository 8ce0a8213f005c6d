/* The 2-D scattering transform (Kymatio's Scattering2D): plans and the
 * differentiable op.
 *
 * Padding (Kymatio's compute_padding): Mp = (floor((M + 2^J) / 2^J) + 1) 2^J, the
 * image in the middle (top = (Mp - M) / 2) and the rest filled by reflection
 * without repeating the edge (numpy's 'reflect'). Output per channel:
 * Mp / 2^J - 2 = floor(M / 2^J) rows after unpadding one sample on each side.
 * Channels (Kymatio's order): S0; S1 for n1 = j1 L + t1; S2 for each n1 and then
 * every n2 = j2 L + t2 with j2 > j1: 1 + J L + L^2 J (J - 1) / 2 for order 2.
 *
 * op scattering2d: x [..., M, N] -> S [..., C, M', N'], aux = the plan; the
 * math of forward and backward is in scattering_kernels.h. */
#include <stdlib.h>

#include "grid/scattering.h"
#include "ops/sample.h"

/* ---- the two precisions ------------------------------------------------------------ */

#define R double
#define CX double complex
#define FFTW(x) fftw_##x
#define PL(k) k
#define PSI(i) p->psi[i]
#define ROWS(r) p->rows[r]
#define COLS(r) p->cols[r]
#define SQRT sqrt
#define CONJ conj
#define NAME(x) x##_d
#include "grid/scattering_kernels.h"
#undef R
#undef CX
#undef FFTW
#undef PL
#undef PSI
#undef ROWS
#undef COLS
#undef SQRT
#undef CONJ
#undef NAME

#define R float
#define CX float complex
#define FFTW(x) fftwf_##x
#define PL(k) k##f
#define PSI(i) p->psif[i]
#define ROWS(r) p->rowsf[r]
#define COLS(r) p->colsf[r]
#define SQRT sqrtf
#define CONJ conjf
#define NAME(x) x##_f
#include "grid/scattering_kernels.h"

/* ---- plans ---------------------------------------------------------------------------- */

static int64_t reflect(int64_t i, int64_t n) {
  if (n == 1) return 0;
  int64_t period = 2 * (n - 1);
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - i;
}

static gdl_status make_ffts(gdl_scattering2d_plan *p, unsigned flags) {
  int64_t MN = p->Mp * p->Np;
  double *rd = fftw_malloc(sizeof(double) * (size_t)MN);
  fftw_complex *cd = fftw_malloc(sizeof(fftw_complex) * (size_t)MN);
  fftw_complex *cd2 = fftw_malloc(sizeof(fftw_complex) * (size_t)MN);
  float *rf = fftwf_malloc(sizeof(float) * (size_t)MN);
  fftwf_complex *cf = fftwf_malloc(sizeof(fftwf_complex) * (size_t)MN);
  fftwf_complex *cf2 = fftwf_malloc(sizeof(fftwf_complex) * (size_t)MN);
  bool ok = rd && cd && cd2 && rf && cf && cf2;
  const unsigned fl = flags & GDL_SCATTERING2D_MEASURE ? FFTW_MEASURE : FFTW_ESTIMATE;
  GDL_OMP(omp critical(gdl_fftw_planner))
  for (int r = 0; ok && r <= p->J; r++) {
    int m = (int)(p->Mp >> r), n = (int)(p->Np >> r);
    gdl__scat_fft *f = &p->fft[r];
    f->fwd = fftw_plan_dft_2d(m, n, cd, cd2, FFTW_FORWARD, fl);
    f->bwd = fftw_plan_dft_2d(m, n, cd, cd2, FFTW_BACKWARD, fl);
    f->r2c = fftw_plan_dft_r2c_2d(m, n, rd, cd, fl);
    f->fwdf = fftwf_plan_dft_2d(m, n, cf, cf2, FFTW_FORWARD, fl);
    f->bwdf = fftwf_plan_dft_2d(m, n, cf, cf2, FFTW_BACKWARD, fl);
    f->r2cf = fftwf_plan_dft_r2c_2d(m, n, rf, cf, fl);
    ok = f->fwd && f->bwd && f->r2c && f->fwdf && f->bwdf && f->r2cf;
  }
  fftw_free(rd);
  fftw_free(cd);
  fftw_free(cd2);
  fftwf_free(rf);
  fftwf_free(cf);
  fftwf_free(cf2);
  return ok ? GDL_OK : gdl_error(GDL_ERR_NOMEM, "scattering2d: FFTW could not make its plans");
}

gdl_scattering2d_plan *gdl_scattering2d_plan_create(int64_t M, int64_t N, int J, int L, int max_order,
                                                    unsigned flags) {
  if (J < 1 || J > GDL_SCAT_MAXJ - 1 || L < 1 || L > 64 || (max_order != 1 && max_order != 2)) {
    gdl_error(GDL_ERR_ARG, "scattering2d: need 1 <= J <= %d, 1 <= L <= 64 and max_order 1 or 2; got J = %d, "
              "L = %d, max_order = %d", GDL_SCAT_MAXJ - 1, J, L, max_order);
    return NULL;
  }
  if (M < 2 || N < 2 || ((int64_t)1 << J) > M || ((int64_t)1 << J) > N || M > (1 << 20) || N > (1 << 20)) {
    gdl_error(GDL_ERR_ARG, "scattering2d: a %lld x %lld image is too small for J = %d (need 2^J <= M, N)",
              (long long)M, (long long)N, J);
    return NULL;
  }
  gdl_scattering2d_plan *p = calloc(1, sizeof *p);
  if (!p) {
    gdl_error(GDL_ERR_NOMEM, "scattering2d: out of memory");
    return NULL;
  }
  int64_t s = (int64_t)1 << J;
  p->M = M, p->N = N, p->J = J, p->L = L, p->max_order = max_order;
  p->Mp = ((M + s) / s + 1) * s;
  p->Np = ((N + s) / s + 1) * s;
  p->top = (p->Mp - M) / 2;
  p->left = (p->Np - N) / 2;
  p->oh = p->Mp / s - 2;
  p->ow = p->Np / s - 2;
  p->nch = 1 + (int64_t)J * L + (max_order == 2 ? (int64_t)L * L * J * (J - 1) / 2 : 0);
  p->rmap = malloc(sizeof(int64_t) * (size_t)p->Mp);
  p->cmap = malloc(sizeof(int64_t) * (size_t)p->Np);
  p->path = malloc(sizeof *p->path * (size_t)p->nch);
  gdl_status st = p->rmap && p->cmap && p->path ? GDL_OK : gdl_error(GDL_ERR_NOMEM, "scattering2d: out of memory");
  if (!st) {
    for (int64_t i = 0; i < p->Mp; i++) p->rmap[i] = reflect(i - p->top, M);
    for (int64_t i = 0; i < p->Np; i++) p->cmap[i] = reflect(i - p->left, N);
    int64_t k = 0;
    memcpy(p->path[k++], (int32_t[]){0, -1, -1, -1, -1}, sizeof *p->path);
    for (int n1 = 0; n1 < J * L; n1++) memcpy(p->path[k++], (int32_t[]){1, n1 / L, n1 % L, -1, -1}, sizeof *p->path);
    for (int n1 = 0; max_order == 2 && n1 < J * L; n1++)
      for (int n2 = (n1 / L + 1) * L; n2 < J * L; n2++)
        memcpy(p->path[k++], (int32_t[]){2, n1 / L, n1 % L, n2 / L, n2 % L}, sizeof *p->path);
    GDL_ASSERT(k == p->nch, "scattering2d: path count");
    st = gdl__scattering2d_filters(p);
  }
  if (!st) st = make_ffts(p, flags);
  if (st) {
    gdl_scattering2d_plan_destroy(p);
    return NULL;
  }
  return p;
}

void gdl_scattering2d_plan_destroy(gdl_scattering2d_plan *p) {
  if (!p) return;
  GDL_OMP(omp critical(gdl_fftw_planner))
  for (int r = 0; r <= p->J; r++) {
    gdl__scat_fft *f = &p->fft[r];
    if (f->fwd) fftw_destroy_plan(f->fwd);
    if (f->bwd) fftw_destroy_plan(f->bwd);
    if (f->r2c) fftw_destroy_plan(f->r2c);
    if (f->fwdf) fftwf_destroy_plan(f->fwdf);
    if (f->bwdf) fftwf_destroy_plan(f->bwdf);
    if (f->r2cf) fftwf_destroy_plan(f->r2cf);
  }
  for (int i = 0; p->psi && i < p->J * p->L * p->J; i++) {
    free(p->psi[i]);
    free(p->psif[i]);
  }
  for (int r = 0; r < p->J; r++) {
    free(p->rows[r]);
    free(p->cols[r]);
    free(p->rowsf[r]);
    free(p->colsf[r]);
  }
  free(p->psi);
  free(p->psif);
  free(p->psi_full);
  free(p->phi_full);
  free(p->rmap);
  free(p->cmap);
  free(p->path);
  free(p);
}

int64_t gdl_scattering2d_channels(const gdl_scattering2d_plan *p) { return p->nch; }

void gdl_scattering2d_out_size(const gdl_scattering2d_plan *p, int64_t *h, int64_t *w) {
  if (h) *h = p->oh;
  if (w) *w = p->ow;
}

void gdl_scattering2d_path(const gdl_scattering2d_plan *p, int64_t k, int *order, int j[2], int theta[2]) {
  GDL_ASSERT(k >= 0 && k < p->nch, "scattering2d: no channel %lld", (long long)k);
  if (order) *order = p->path[k][0];
  if (j) j[0] = p->path[k][1], j[1] = p->path[k][3];
  if (theta) theta[0] = p->path[k][2], theta[1] = p->path[k][4];
}

const double *gdl_scattering2d_filter(const gdl_scattering2d_plan *p, int which, int64_t *Mp, int64_t *Np) {
  GDL_ASSERT(which >= -1 && which < p->J * p->L, "scattering2d: no filter %d", which);
  if (Mp) *Mp = p->Mp;
  if (Np) *Np = p->Np;
  return which < 0 ? p->phi_full : p->psi_full + (int64_t)which * p->Mp * p->Np;
}

void gdl_scattering2d_execute(const gdl_scattering2d_plan *p, gdl_dtype t, const void *x, int64_t batch,
                              void *out) {
  GDL_ASSERT(t == GDL_F32 || t == GDL_F64, "scattering2d: expected float32 or float64");
  if (t == GDL_F64) gdl__scattering2d_fwd_d(p, x, batch, out);
  else gdl__scattering2d_fwd_f(p, x, batch, out);
}

/* ---- the op ----------------------------------------------------------------------------- */

void gdl__scattering2d_fwd(gdl_node *n) {
  const gdl_scattering2d_plan *p = n->aux;
  gdl_tensor *x = n->in[0];
  int64_t batch = gdl_tensor_numel(x) / (p->M * p->N);
  gdl_scattering2d_execute(p, x->dtype, gdl__contig(n->ctx, x), batch, n->out->data);
}

void gdl__scattering2d_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *x = n->in[0], *gx = gdl__grad(ctx, x);
  if (!gx) return;
  const gdl_scattering2d_plan *p = n->aux;
  int64_t batch = gdl_tensor_numel(x) / (p->M * p->N);
  const void *xs = gdl__contig(ctx, x), *gs = n->out->grad->data;
  if (x->dtype == GDL_F64) gdl__scattering2d_bwd_d(p, xs, gs, batch, gx->data);
  else gdl__scattering2d_bwd_f(p, xs, gs, batch, gx->data);
}

gdl_tensor *gdl_scattering2d(gdl_ctx *ctx, const gdl_scattering2d_plan *p, gdl_tensor *x) {
  GDL_CHECK_FLOAT(x, "scattering2d");
  GDL_ASSERT(p, "scattering2d: no plan");
  GDL_ASSERT(x->ndim >= 2 && x->ndim < GDL_MAX_DIMS && x->shape[x->ndim - 2] == p->M &&
                 x->shape[x->ndim - 1] == p->N,
             "scattering2d: the plan is for [..., %lld, %lld] inputs", (long long)p->M, (long long)p->N);
  gdl_shape s = gdl_tensor_shape(x);
  s.d[s.ndim - 2] = p->nch;
  s.d[s.ndim - 1] = p->oh;
  s.d[s.ndim++] = p->ow;
  gdl_tensor *out = gdl_tensor_new(ctx, x->dtype, s);
  gdl_node *n = gdl__node(ctx, GDL_OP_SCATTERING2D, out, 1, (gdl_tensor *[]){x});
  n->aux = (void *)p;
  return gdl__run(n);
}

/* ---- shared plans (layers, samples) ---------------------------------------------------- */

/* A process-wide plan for these sizes, made on first use and kept until exit (at
 * most 32 different ones): layers have no hook to free a plan, and plans are
 * read-only once made, so sharing is safe. NULL (error set) when invalid. */
gdl_scattering2d_plan *gdl__scattering2d_plan_shared(int64_t M, int64_t N, int J, int L, int max_order,
                                                     unsigned flags);

gdl_scattering2d_plan *gdl__scattering2d_plan_shared(int64_t M, int64_t N, int J, int L, int max_order,
                                                     unsigned flags) {
  static gdl_scattering2d_plan *cache[32];
  static int count;
  gdl_scattering2d_plan *found = NULL;
  GDL_OMP(omp critical(gdl_scattering_cache))
  {
    for (int i = 0; i < count && !found; i++) {
      gdl_scattering2d_plan *c = cache[i];
      if (c->M == M && c->N == N && c->J == J && c->L == L && c->max_order == max_order) found = c;
    }
    if (!found && count < 32 && (found = gdl_scattering2d_plan_create(M, N, J, L, max_order, flags)))
      cache[count++] = found;
    else if (!found && count == 32)
      gdl_error(GDL_ERR_UNSUPPORTED, "scattering2d: more than 32 different shared plans");
  }
  return found;
}

gdl_tensor *gdl__scattering2d_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  static const int cases[][5] = {{8, 8, 2, 2, 2}, {9, 12, 2, 3, 2}, {6, 5, 1, 3, 1}};
  if (v >= (int)(sizeof cases / sizeof *cases)) return NULL;
  const int *c = cases[v];
  gdl_scattering2d_plan *p = gdl__scattering2d_plan_shared(c[0], c[1], c[2], c[3], c[4], 0);
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(v == 0 ? 2 : 1, c[0], c[1]), -1, 1);
  return gdl_scattering2d(ctx, p, x);
}
