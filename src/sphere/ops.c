/* Differentiable spherical transforms. The transforms are linear, so each backward
 * is the adjoint transform of the output gradient, accumulated into the input's:
 *   sht_synthesis          y [..., npix] = S x [..., L^2]  (real basis)    dx += S^T dy
 *   sht_analysis           y [..., L^2]  = A x [..., npix]                 dx += A^T dy
 *   sht_*_complex          the same with a trailing axis of 2 (re, im) on complex plans
 *   so3_synthesis/analysis Wigner transforms, [(2N-1) L^2, 2] <-> [(2N-1) L (2L-1), 2]
 * The transforms run in float64 whatever the tensor's dtype. Plans are borrowed: they
 * must outlive the tape. */
#include <stdlib.h>

#include "ops/sample.h"
#include "sphere/sphere_internal.h"

typedef enum { SYN, ANA, SYN_ADJ, ANA_ADJ } which;

/* Runs one transform over nb items of a contiguous float tensor's data into out (of the
 * same dtype); with acc, adds to out instead of overwriting. */
static void run_sht(const gdl_sht_plan *p0, which w, const void *in, gdl_dtype dt, int64_t nin, void *out,
                    int64_t nout, int64_t nb, bool acc) {
  gdl_sht_plan p = *p0; /* same tables, float64 arrays */
  p.flags &= ~(unsigned)GDL_SHT_FLOAT32;
  double *x = malloc((size_t)(nb * nin + 1) * sizeof(double)), *y = malloc((size_t)(nb * nout + 1) * sizeof(double));
  GDL_ASSERT(x && y, "sht op: out of memory");
  for (int64_t i = 0; i < nb * nin; i++) x[i] = dt == GDL_F32 ? ((const float *)in)[i] : ((const double *)in)[i];
  gdl_status st;
  switch (w) {
    case SYN: st = gdl_sht_inverse(&p, x, y, nb); break;
    case ANA: st = gdl_sht_forward(&p, x, y, nb); break;
    case SYN_ADJ: st = gdl_sht_inverse_adjoint(&p, x, y, nb); break;
    default: st = gdl_sht_forward_adjoint(&p, x, y, nb); break;
  }
  GDL_ASSERT(!st, "sht op: %s", gdl_last_error());
  for (int64_t i = 0; i < nb * nout; i++) {
    if (dt == GDL_F32) ((float *)out)[i] = (float)((acc ? ((float *)out)[i] : 0) + y[i]);
    else ((double *)out)[i] = (acc ? ((double *)out)[i] : 0) + y[i];
  }
  free(x), free(y);
}

static void run_so3(const gdl_so3_plan *p, which w, const void *in, gdl_dtype dt, int64_t nin, void *out,
                    int64_t nout, int64_t nb, bool acc) {
  double *x = malloc((size_t)(nin + 1) * sizeof(double)), *y = malloc((size_t)(nout + 1) * sizeof(double));
  GDL_ASSERT(x && y, "so3 op: out of memory");
  for (int64_t c = 0; c < nb; c++) {
    for (int64_t i = 0; i < nin; i++)
      x[i] = dt == GDL_F32 ? ((const float *)in)[c * nin + i] : ((const double *)in)[c * nin + i];
    gdl_status st;
    switch (w) {
      case SYN: st = gdl_so3_inverse(p, x, y); break;
      case ANA: st = gdl_so3_forward(p, x, y); break;
      case SYN_ADJ: st = gdl_so3_inverse_adjoint(p, x, y); break;
      default: st = gdl_so3_forward_adjoint(p, x, y); break;
    }
    GDL_ASSERT(!st, "so3 op: %s", gdl_last_error());
    for (int64_t i = 0; i < nout; i++) {
      if (dt == GDL_F32) ((float *)out)[c * nout + i] = (float)((acc ? ((float *)out)[c * nout + i] : 0) + y[i]);
      else ((double *)out)[c * nout + i] = (acc ? ((double *)out)[c * nout + i] : 0) + y[i];
    }
  }
  free(x), free(y);
}

/* per-item sizes: i[0] = input values, i[1] = output values, i[2] = items */
static void fwd_common(gdl_node *n, which w, bool so3) {
  const void *x = gdl__contig(n->ctx, n->in[0]);
  if (so3) run_so3(n->aux, w, x, n->out->dtype, n->i[0], n->out->data, n->i[1], n->i[2], false);
  else run_sht(n->aux, w, x, n->out->dtype, n->i[0], n->out->data, n->i[1], n->i[2], false);
}

static void bwd_common(gdl_ctx *ctx, gdl_node *n, which adj, bool so3) {
  gdl_tensor *gx = gdl__grad(ctx, n->in[0]);
  if (!gx) return;
  if (so3) run_so3(n->aux, adj, n->out->grad->data, gx->dtype, n->i[1], gx->data, n->i[0], n->i[2], true);
  else run_sht(n->aux, adj, n->out->grad->data, gx->dtype, n->i[1], gx->data, n->i[0], n->i[2], true);
}

/* x [..., nin * k] (k = 1, or the trailing 2 of complex) -> [..., nout * k] */
static gdl_tensor *make(gdl_ctx *ctx, int op, void *plan, gdl_tensor *x, int64_t nin, int64_t nout, bool cplx,
                        const char *name) {
  GDL_CHECK_FLOAT(x, name);
  int ax = x->ndim - (cplx ? 2 : 1);
  GDL_ASSERT(ax >= 0 && x->shape[ax] == nin && (!cplx || x->shape[x->ndim - 1] == 2),
             "%s: input's last axis must be %lld%s", name, (long long)nin, cplx ? " followed by 2" : "");
  gdl_shape s = gdl_tensor_shape(x);
  s.d[ax] = nout;
  gdl_tensor *out = gdl_tensor_new(ctx, x->dtype, s);
  gdl_node *n = gdl__node(ctx, op, out, 1, (gdl_tensor *[]){x});
  int k = cplx ? 2 : 1;
  n->aux = plan;
  n->i[0] = nin * k, n->i[1] = nout * k, n->i[2] = gdl_tensor_numel(x) / (nin * k);
  return gdl__run(n);
}

static int64_t L2(const gdl_sht_plan *p) { return (int64_t)p->L * p->L; }

gdl_tensor *gdl_sht_synthesis(gdl_ctx *ctx, const gdl_sht_plan *p, gdl_tensor *x) {
  GDL_ASSERT(p && (p->flags & GDL_SHT_REAL_BASIS), "sht_synthesis: needs a GDL_SHT_REAL | GDL_SHT_REAL_BASIS plan");
  return make(ctx, GDL_OP_SHT_SYNTHESIS, (void *)p, x, L2(p), p->s->npix, false, "sht_synthesis");
}
gdl_tensor *gdl_sht_analysis(gdl_ctx *ctx, const gdl_sht_plan *p, gdl_tensor *x) {
  GDL_ASSERT(p && (p->flags & GDL_SHT_REAL_BASIS), "sht_analysis: needs a GDL_SHT_REAL | GDL_SHT_REAL_BASIS plan");
  return make(ctx, GDL_OP_SHT_ANALYSIS, (void *)p, x, p->s->npix, L2(p), false, "sht_analysis");
}
gdl_tensor *gdl_sht_synthesis_complex(gdl_ctx *ctx, const gdl_sht_plan *p, gdl_tensor *x) {
  GDL_ASSERT(p && !p->real, "sht_synthesis_complex: needs a complex plan");
  return make(ctx, GDL_OP_SHT_SYNTHESIS_COMPLEX, (void *)p, x, L2(p), p->s->npix, true, "sht_synthesis_complex");
}
gdl_tensor *gdl_sht_analysis_complex(gdl_ctx *ctx, const gdl_sht_plan *p, gdl_tensor *x) {
  GDL_ASSERT(p && !p->real, "sht_analysis_complex: needs a complex plan");
  return make(ctx, GDL_OP_SHT_ANALYSIS_COMPLEX, (void *)p, x, p->s->npix, L2(p), true, "sht_analysis_complex");
}
gdl_tensor *gdl_so3_synthesis(gdl_ctx *ctx, const gdl_so3_plan *p, gdl_tensor *x) {
  GDL_ASSERT(p, "so3_synthesis: plan is NULL");
  return make(ctx, GDL_OP_SO3_SYNTHESIS, (void *)p, x, gdl_so3_coeff_size(p), gdl_so3_map_size(p), true,
              "so3_synthesis");
}
gdl_tensor *gdl_so3_analysis(gdl_ctx *ctx, const gdl_so3_plan *p, gdl_tensor *x) {
  GDL_ASSERT(p, "so3_analysis: plan is NULL");
  return make(ctx, GDL_OP_SO3_ANALYSIS, (void *)p, x, gdl_so3_map_size(p), gdl_so3_coeff_size(p), true,
              "so3_analysis");
}

void gdl__sht_synthesis_fwd(gdl_node *n) { fwd_common(n, SYN, false); }
void gdl__sht_synthesis_bwd(gdl_ctx *ctx, gdl_node *n) { bwd_common(ctx, n, SYN_ADJ, false); }
void gdl__sht_analysis_fwd(gdl_node *n) { fwd_common(n, ANA, false); }
void gdl__sht_analysis_bwd(gdl_ctx *ctx, gdl_node *n) { bwd_common(ctx, n, ANA_ADJ, false); }
void gdl__sht_synthesis_complex_fwd(gdl_node *n) { fwd_common(n, SYN, false); }
void gdl__sht_synthesis_complex_bwd(gdl_ctx *ctx, gdl_node *n) { bwd_common(ctx, n, SYN_ADJ, false); }
void gdl__sht_analysis_complex_fwd(gdl_node *n) { fwd_common(n, ANA, false); }
void gdl__sht_analysis_complex_bwd(gdl_ctx *ctx, gdl_node *n) { bwd_common(ctx, n, ANA_ADJ, false); }
void gdl__so3_synthesis_fwd(gdl_node *n) { fwd_common(n, SYN, true); }
void gdl__so3_synthesis_bwd(gdl_ctx *ctx, gdl_node *n) { bwd_common(ctx, n, SYN_ADJ, true); }
void gdl__so3_analysis_fwd(gdl_node *n) { fwd_common(n, ANA, true); }
void gdl__so3_analysis_bwd(gdl_ctx *ctx, gdl_node *n) { bwd_common(ctx, n, ANA_ADJ, true); }

/* ---- sample inputs: small plans kept for the life of the process ---------------------- */

enum { NSAMPLE = 8 };
static gdl_sht_plan *sample_sht[NSAMPLE];
static gdl_so3_plan *sample_so3;

static void free_samples(void) {
  for (int k = 0; k < NSAMPLE; k++) gdl_sht_plan_destroy(sample_sht[k]);
  gdl_so3_plan_destroy(sample_so3);
}

static const gdl_sht_plan *sample_plan(int k) {
  static bool registered;
  if (!registered) atexit(free_samples), registered = true;
  if (!sample_sht[k]) {
    /* real basis: MW L=4, GL L=3, HEALPix nside 2 L=5; complex: DH spin 1, MWSS spin 2, CC 0 */
    static const struct { gdl_sampling_kind kind; int L, nside, spin; unsigned flags; } c[NSAMPLE] = {
        {GDL_SAMPLING_MW, 4, 0, 0, GDL_SHT_REAL | GDL_SHT_REAL_BASIS},
        {GDL_SAMPLING_GL, 3, 0, 0, GDL_SHT_REAL | GDL_SHT_REAL_BASIS},
        {GDL_SAMPLING_HEALPIX, 5, 2, 0, GDL_SHT_REAL | GDL_SHT_REAL_BASIS},
        {GDL_SAMPLING_DH, 3, 0, 1, 0},
        {GDL_SAMPLING_MWSS, 4, 0, 2, 0},
        {GDL_SAMPLING_CC, 3, 0, 0, 0}};
    gdl_sampling *s = gdl_sampling_new(c[k].kind, c[k].L, c[k].nside);
    GDL_ASSERT(s, "sample plan: %s", gdl_last_error());
    sample_sht[k] = gdl_sht_plan_create(s, c[k].L, c[k].spin, c[k].flags);
    GDL_ASSERT(sample_sht[k], "sample plan: %s", gdl_last_error());
    gdl_sampling_free(s);
  }
  return sample_sht[k];
}

gdl_tensor *gdl__sht_synthesis_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 2) return NULL;
  const gdl_sht_plan *p = sample_plan(v);
  gdl_shape s = v == 1 ? GDL_SHAPE(2, L2(p)) : GDL_SHAPE(L2(p));
  return gdl_sht_synthesis(ctx, p, gdl__sample_leaf(ctx, rng, t, s, -1, 1));
}

gdl_tensor *gdl__sht_analysis_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 2) return NULL;
  const gdl_sht_plan *p = sample_plan(v);
  gdl_shape s = v == 1 ? GDL_SHAPE(2, p->s->npix) : GDL_SHAPE(p->s->npix);
  return gdl_sht_analysis(ctx, p, gdl__sample_leaf(ctx, rng, t, s, -1, 1));
}

gdl_tensor *gdl__sht_synthesis_complex_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 2) return NULL;
  const gdl_sht_plan *p = sample_plan(3 + v);
  return gdl_sht_synthesis_complex(ctx, p, gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(L2(p), 2), -1, 1));
}

gdl_tensor *gdl__sht_analysis_complex_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 2) return NULL;
  const gdl_sht_plan *p = sample_plan(3 + v);
  return gdl_sht_analysis_complex(ctx, p, gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(p->s->npix, 2), -1, 1));
}

static const gdl_so3_plan *so3_sample_plan(void) {
  sample_plan(0); /* registers the cleanup */
  if (!sample_so3) {
    sample_so3 = gdl_so3_plan_create(3, 2, 0);
    GDL_ASSERT(sample_so3, "sample plan: %s", gdl_last_error());
  }
  return sample_so3;
}

gdl_tensor *gdl__so3_synthesis_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 0) return NULL;
  const gdl_so3_plan *p = so3_sample_plan();
  return gdl_so3_synthesis(ctx, p, gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(gdl_so3_coeff_size(p), 2), -1, 1));
}

gdl_tensor *gdl__so3_analysis_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 0) return NULL;
  const gdl_so3_plan *p = so3_sample_plan();
  return gdl_so3_analysis(ctx, p, gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(gdl_so3_map_size(p), 2), -1, 1));
}
