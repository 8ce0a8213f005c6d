/* Views (reshape, permute, slice, expand) share their input's data: their forward
 * does nothing and their backward adds the output gradient back through the same
 * index map. copy makes a contiguous tensor; concat joins along an axis. */
#include "core/internal.h"
#include "ops/sample.h"

/* A header over g's data (contiguous, x's shape): the gradient seen as x. */
static gdl_tensor grad_as(const gdl_tensor *x, gdl_tensor *g) {
  gdl_tensor v = *g;
  v.ndim = x->ndim;
  for (int k = 0; k < x->ndim; k++) v.shape[k] = x->shape[k];
  gdl__set_contiguous_strides(&v);
  return v;
}

/* ---- reshape: y has x's elements in row-major order under a new shape ---- */

void gdl__reshape_fwd(gdl_node *n) { (void)n; }

void gdl__reshape_bwd(gdl_ctx *ctx, gdl_node *n) {
  if (n->i[0]) return; /* the output's gradient shares the input's buffer (gdl__grad) */
  gdl_tensor *g = gdl__grad(ctx, n->in[0]);
  if (!g) return;
  gdl_shape s = GDL_SHAPE(gdl_tensor_numel(g));
  gdl__sum_to(g->dtype, n->out->grad->data, s, g->data, s);
}

gdl_tensor *gdl_reshape(gdl_ctx *ctx, gdl_tensor *x, gdl_shape s) {
  int64_t known = 1, numel = gdl_tensor_numel(x);
  int free_axis = -1;
  for (int k = 0; k < s.ndim; k++) {
    if (s.d[k] == -1) {
      GDL_ASSERT(free_axis < 0, "reshape: more than one -1");
      free_axis = k;
    } else {
      known *= s.d[k];
    }
  }
  if (free_axis >= 0) s.d[free_axis] = known ? numel / known : 0;
  char b1[96], b2[96];
  GDL_ASSERT(gdl_shape_numel(s) == numel, "reshape: cannot view %s as %s",
             gdl_shape_str(gdl_tensor_shape(x), b1, sizeof b1), gdl_shape_str(s, b2, sizeof b2));
  if (!gdl_tensor_is_contiguous(x)) x = gdl_contiguous(ctx, x);
  gdl_tensor *out = gdl__view(ctx, x);
  out->ndim = s.ndim;
  for (int k = 0; k < s.ndim; k++) out->shape[k] = s.d[k];
  gdl__set_contiguous_strides(out);
  return gdl__run(gdl__node(ctx, GDL_OP_RESHAPE, out, 1, &x));
}

gdl_tensor *gdl_flatten(gdl_ctx *ctx, gdl_tensor *x, int start_axis) {
  int a = gdl__axis(start_axis, x->ndim);
  gdl_shape s = {.ndim = a + 1};
  for (int k = 0; k < a; k++) s.d[k] = x->shape[k];
  s.d[a] = -1;
  return gdl_reshape(ctx, x, s);
}

gdl_tensor *gdl__reshape_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 1) return NULL;
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(2, 3, 4), -1, 1);
  if (v == 1) x = gdl_transpose(ctx, x, 1, 2); /* non-contiguous: goes through copy */
  return gdl_reshape(ctx, x, GDL_SHAPE(4, -1));
}

/* ---- permute: y[i_perm[0], ..., i_perm[d-1]] = x[i_0, ..., i_{d-1}] ---- */

static void permute_strides(gdl_tensor *v, const gdl_tensor *x, const int64_t *perm) {
  gdl_tensor src = *v;
  for (int k = 0; k < x->ndim; k++) {
    v->shape[k] = src.shape[perm[k]];
    v->stride[k] = src.stride[perm[k]];
  }
}

void gdl__permute_fwd(gdl_node *n) { (void)n; }

void gdl__permute_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *x = n->in[0], *g = gdl__grad(ctx, x);
  if (!g) return;
  gdl_tensor v = grad_as(x, g);
  permute_strides(&v, x, n->i);
  gdl__tensor_accum(&v, n->out->grad);
}

gdl_tensor *gdl_permute(gdl_ctx *ctx, gdl_tensor *x, const int *perm) {
  int seen[GDL_MAX_DIMS] = {0};
  gdl_tensor *out = gdl__view(ctx, x);
  gdl_node *n = gdl__node(ctx, GDL_OP_PERMUTE, out, 1, &x);
  for (int k = 0; k < x->ndim; k++) {
    int p = gdl__axis(perm[k], x->ndim);
    GDL_ASSERT(!seen[p]++, "permute: axis %d repeated", p);
    n->i[k] = p;
  }
  permute_strides(out, x, n->i);
  return gdl__run(n);
}

gdl_tensor *gdl_transpose(gdl_ctx *ctx, gdl_tensor *x, int a0, int a1) {
  int perm[GDL_MAX_DIMS];
  for (int k = 0; k < x->ndim; k++) perm[k] = k;
  a0 = gdl__axis(a0, x->ndim);
  a1 = gdl__axis(a1, x->ndim);
  perm[a0] = a1;
  perm[a1] = a0;
  return gdl_permute(ctx, x, perm);
}

gdl_tensor *gdl__permute_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 0) return NULL;
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(2, 3, 4), -1, 1);
  return gdl_permute(ctx, x, (int[]){2, 0, 1});
}

/* ---- slice: y = x[..., start:stop:step, ...] along one axis ------------- */

static void slice_view(gdl_tensor *v, int axis, int64_t start, int64_t len, int64_t step) {
  v->data = (char *)v->data + start * v->stride[axis] * (int64_t)gdl_dtype_size(v->dtype);
  v->shape[axis] = len;
  v->stride[axis] *= step;
}

void gdl__slice_fwd(gdl_node *n) { (void)n; }

void gdl__slice_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *x = n->in[0], *g = gdl__grad(ctx, x);
  if (!g) return;
  gdl_tensor v = grad_as(x, g);
  slice_view(&v, (int)n->i[0], n->i[1], n->i[2], n->i[3]);
  gdl__tensor_accum(&v, n->out->grad);
}

gdl_tensor *gdl_slice(gdl_ctx *ctx, gdl_tensor *x, int axis, int64_t start, int64_t stop,
                      int64_t step) {
  axis = gdl__axis(axis, x->ndim);
  int64_t d = x->shape[axis];
  GDL_ASSERT(step > 0, "slice: step must be positive, got %lld", (long long)step);
  if (start < 0) start += d;
  if (stop < 0) stop += d;
  start = start < 0 ? 0 : (start > d ? d : start);
  stop = stop < start ? start : (stop > d ? d : stop);
  int64_t len = (stop - start + step - 1) / step;
  gdl_tensor *out = gdl__view(ctx, x);
  slice_view(out, axis, start, len, step);
  gdl_node *n = gdl__node(ctx, GDL_OP_SLICE, out, 1, &x);
  n->i[0] = axis;
  n->i[1] = start;
  n->i[2] = len;
  n->i[3] = step;
  return gdl__run(n);
}

gdl_tensor *gdl__slice_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 1) return NULL;
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3, 7), -1, 1);
  return v ? gdl_slice(ctx, x, 0, -2, 3, 1) : gdl_slice(ctx, x, 1, 1, 7, 2);
}

/* ---- expand: broadcast size-1 axes (and new leading axes) to shape s ---- */

void gdl__expand_fwd(gdl_node *n) { (void)n; }

void gdl__expand_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *x = n->in[0], *g = gdl__grad(ctx, x);
  if (g) gdl__sum_to(g->dtype, n->out->grad->data, gdl_tensor_shape(n->out), g->data,
                     gdl_tensor_shape(x));
}

gdl_tensor *gdl_expand(gdl_ctx *ctx, gdl_tensor *x, gdl_shape s) {
  gdl_tensor *out = gdl__view(ctx, x);
  for (int k = 0; k < s.ndim; k++) {
    int kx = k - (s.ndim - x->ndim);
    if (s.d[k] == -1) s.d[k] = x->shape[kx];
  }
  gdl__bcast_strides(x, s, out->stride);
  out->ndim = s.ndim;
  for (int k = 0; k < s.ndim; k++) out->shape[k] = s.d[k];
  return gdl__run(gdl__node(ctx, GDL_OP_EXPAND, out, 1, &x));
}

gdl_tensor *gdl__expand_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 0) return NULL;
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3, 1), -1, 1);
  return gdl_contiguous(ctx, gdl_expand(ctx, x, GDL_SHAPE(2, 3, 4)));
}

/* ---- copy: a contiguous tensor with x's values ------------------------- */

void gdl__copy_fwd(gdl_node *n) { gdl_tensor_copy(n->out, n->in[0]); }

void gdl__copy_bwd(gdl_ctx *ctx, gdl_node *n) {
  gdl_tensor *g = gdl__grad(ctx, n->in[0]);
  if (g) gdl__tensor_accum(g, n->out->grad);
}

gdl_tensor *gdl_contiguous(gdl_ctx *ctx, gdl_tensor *x) {
  if (gdl_tensor_is_contiguous(x)) return x;
  gdl_tensor *out = gdl__tensor_empty(ctx, x->dtype, gdl_tensor_shape(x));
  return gdl__run(gdl__node(ctx, GDL_OP_COPY, out, 1, &x));
}

gdl_tensor *gdl__copy_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  if (v > 0) return NULL;
  gdl_tensor *x = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(3, 4), -1, 1);
  return gdl_contiguous(ctx, gdl_transpose(ctx, x, 0, 1));
}

/* ---- concat along an axis; stack = unsqueeze each, then concat ---------- */

/* Calls f(view of out's slab k, input k) for each input. */
static void concat_each(gdl_node *n, gdl_tensor *whole, void (*f)(gdl_tensor *, gdl_tensor *)) {
  int axis = (int)n->i[0];
  int64_t at = 0;
  for (int k = 0; k < n->nin; k++) {
    gdl_tensor v = *whole;
    int64_t len = n->in[k]->shape[axis];
    slice_view(&v, axis, at, len, 1);
    f(&v, n->in[k]);
    at += len;
  }
}

static void copy_to(gdl_tensor *slab, gdl_tensor *x) { gdl_tensor_copy(slab, x); }

void gdl__concat_fwd(gdl_node *n) { concat_each(n, n->out, copy_to); }

void gdl__concat_bwd(gdl_ctx *ctx, gdl_node *n) {
  int axis = (int)n->i[0];
  gdl_tensor gy = *n->out->grad;
  int64_t at = 0;
  for (int k = 0; k < n->nin; k++) {
    gdl_tensor *x = n->in[k], *g = gdl__grad(ctx, x), v = gy;
    slice_view(&v, axis, at, x->shape[axis], 1);
    at += x->shape[axis];
    if (g) gdl__tensor_accum(g, &v);
  }
}

gdl_tensor *gdl_concat(gdl_ctx *ctx, gdl_tensor **xs, int n, int axis) {
  GDL_ASSERT(n > 0, "concat: no inputs");
  axis = gdl__axis(axis, xs[0]->ndim);
  gdl_shape s = gdl_tensor_shape(xs[0]);
  s.d[axis] = 0;
  for (int k = 0; k < n; k++) {
    GDL_ASSERT(xs[k]->ndim == s.ndim && xs[k]->dtype == xs[0]->dtype,
               "concat: input %d has another rank or dtype", k);
    for (int a = 0; a < s.ndim; a++)
      GDL_ASSERT(a == axis || xs[k]->shape[a] == s.d[a], "concat: input %d differs on axis %d", k, a);
    s.d[axis] += xs[k]->shape[axis];
  }
  gdl_tensor *out = gdl__tensor_empty(ctx, xs[0]->dtype, s);
  gdl_node *node = gdl__node(ctx, GDL_OP_CONCAT, out, n, xs);
  node->i[0] = axis;
  return gdl__run(node);
}

gdl_tensor *gdl_stack(gdl_ctx *ctx, gdl_tensor **xs, int n, int axis) {
  GDL_ASSERT(n > 0, "stack: no inputs");
  int nd = xs[0]->ndim + 1;
  axis = gdl__axis(axis, nd);
  gdl_tensor **u = gdl_ctx_alloc(ctx, (size_t)n * sizeof *u);
  for (int k = 0; k < n; k++) {
    gdl_shape s = {.ndim = nd};
    for (int a = 0, b = 0; a < nd; a++) s.d[a] = a == axis ? 1 : xs[k]->shape[b++];
    u[k] = gdl_reshape(ctx, xs[k], s);
  }
  return gdl_concat(ctx, u, n, axis);
}

gdl_tensor *gdl__concat_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int v) {
  gdl_tensor *a = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(2, 3), -1, 1);
  gdl_tensor *b = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(2, 2), -1, 1);
  gdl_tensor *c = gdl__sample_leaf(ctx, rng, t, GDL_SHAPE(2, 3), -1, 1);
  switch (v) {
    case 0: return gdl_concat(ctx, (gdl_tensor *[]){a, b}, 2, 1);
    case 1: return gdl_stack(ctx, (gdl_tensor *[]){a, c}, 2, 1);
    default: return NULL;
  }
}
