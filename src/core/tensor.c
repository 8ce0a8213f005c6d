/* Tensor headers, shapes, strides, element access and copies. */
#include <stdio.h>
#include <stdlib.h>

#include "core/internal.h"

static const size_t dtype_sizes[GDL_DTYPE_COUNT] = {4, 8, 4, 8, 1, 1, 8, 16};
static const char *dtype_names[GDL_DTYPE_COUNT] = {"float32", "float64", "int32",     "int64",
                                                   "uint8",   "bool",    "complex64", "complex128"};

size_t gdl_dtype_size(gdl_dtype t) { return dtype_sizes[t]; }
const char *gdl_dtype_name(gdl_dtype t) { return t < GDL_DTYPE_COUNT ? dtype_names[t] : "?"; }

int64_t gdl_shape_numel(gdl_shape s) {
  int64_t n = 1;
  for (int k = 0; k < s.ndim; k++) n *= s.d[k];
  return n;
}

bool gdl_shape_eq(gdl_shape a, gdl_shape b) {
  if (a.ndim != b.ndim) return false;
  for (int k = 0; k < a.ndim; k++)
    if (a.d[k] != b.d[k]) return false;
  return true;
}

const char *gdl_shape_str(gdl_shape s, char *buf, size_t n) {
  size_t w = (size_t)snprintf(buf, n, "[");
  for (int k = 0; k < s.ndim && w < n; k++)
    w += (size_t)snprintf(buf + w, n - w, k ? ", %lld" : "%lld", (long long)s.d[k]);
  if (w < n) snprintf(buf + w, n - w, "]");
  return buf;
}

gdl_shape gdl_tensor_shape(const gdl_tensor *x) {
  gdl_shape s = {.ndim = x->ndim};
  for (int k = 0; k < x->ndim; k++) s.d[k] = x->shape[k];
  return s;
}

int64_t gdl_tensor_numel(const gdl_tensor *x) { return gdl_shape_numel(gdl_tensor_shape(x)); }

size_t gdl_tensor_nbytes(const gdl_tensor *x) {
  return (size_t)gdl_tensor_numel(x) * gdl_dtype_size(x->dtype);
}

void gdl__set_contiguous_strides(gdl_tensor *x) {
  int64_t s = 1;
  for (int k = x->ndim - 1; k >= 0; k--) {
    x->stride[k] = s;
    s *= x->shape[k];
  }
}

bool gdl_tensor_is_contiguous(const gdl_tensor *x) {
  int64_t s = 1;
  for (int k = x->ndim - 1; k >= 0; k--) {
    if (x->shape[k] != 1 && x->stride[k] != s) return false;
    s *= x->shape[k];
  }
  return true;
}

static void init_header(gdl_tensor *x, gdl_dtype t, gdl_shape s, void *data) {
  GDL_ASSERT(s.ndim >= 0 && s.ndim <= GDL_MAX_DIMS, "tensors have at most %d axes, got %d",
             GDL_MAX_DIMS, s.ndim);
  memset(x, 0, sizeof *x);
  x->dtype = t;
  x->ndim = s.ndim;
  for (int k = 0; k < s.ndim; k++) {
    GDL_ASSERT(s.d[k] >= 0, "negative size %lld on axis %d", (long long)s.d[k], k);
    x->shape[k] = s.d[k];
  }
  gdl__set_contiguous_strides(x);
  x->data = data;
}

#define HEADER_BYTES ((sizeof(gdl_tensor) + 63) / 64 * 64)

gdl_tensor *gdl_tensor_alloc(gdl_dtype t, gdl_shape s) {
  size_t bytes = (size_t)gdl_shape_numel(s) * gdl_dtype_size(t);
  unsigned char *p = aligned_alloc(64, HEADER_BYTES + (bytes + 63) / 64 * 64);
  if (!p) {
    gdl_error(GDL_ERR_NOMEM, "out of memory allocating %zu bytes", bytes);
    return NULL;
  }
  memset(p + HEADER_BYTES, 0, bytes);
  gdl_tensor *x = (gdl_tensor *)p;
  init_header(x, t, s, p + HEADER_BYTES);
  return x;
}

void gdl_tensor_free(gdl_tensor *x) {
  if (!x) return;
  if (x->grad) gdl_tensor_free(x->grad);
  free(x);
}

gdl_tensor *gdl_tensor_new(gdl_ctx *ctx, gdl_dtype t, gdl_shape s) {
  size_t bytes = (size_t)gdl_shape_numel(s) * gdl_dtype_size(t);
  unsigned char *p = gdl_ctx_alloc(ctx, HEADER_BYTES + bytes);
  gdl_tensor *x = (gdl_tensor *)p;
  init_header(x, t, s, p + HEADER_BYTES);
  return x;
}

gdl_tensor *gdl__tensor_empty(gdl_ctx *ctx, gdl_dtype t, gdl_shape s) {
  size_t bytes = (size_t)gdl_shape_numel(s) * gdl_dtype_size(t);
  unsigned char *p = gdl__ctx_alloc_raw(ctx, HEADER_BYTES + bytes);
  gdl_tensor *x = (gdl_tensor *)p;
  init_header(x, t, s, p + HEADER_BYTES);
  return x;
}

gdl_tensor *gdl_tensor_wrap(gdl_ctx *ctx, gdl_dtype t, gdl_shape s, void *data) {
  gdl_tensor *x = gdl_ctx_alloc(ctx, sizeof *x);
  init_header(x, t, s, data);
  return x;
}

/* Byte offset of row-major logical element i. */
static int64_t elem_offset(const gdl_tensor *x, int64_t i) {
  int64_t off = 0;
  for (int k = x->ndim - 1; k >= 0; k--) {
    int64_t d = x->shape[k];
    off += (i % d) * x->stride[k];
    i /= d;
  }
  return off;
}

static double load(gdl_dtype t, const void *p, int64_t k) {
  switch (t) {
    case GDL_F32: return ((const float *)p)[k];
    case GDL_F64: return ((const double *)p)[k];
    case GDL_I32: return ((const int32_t *)p)[k];
    case GDL_I64: return (double)((const int64_t *)p)[k];
    case GDL_U8:
    case GDL_BOOL: return ((const uint8_t *)p)[k];
    case GDL_C64: return ((const float *)p)[2 * k];
    case GDL_C128: return ((const double *)p)[2 * k];
    default: return 0;
  }
}

static void store(gdl_dtype t, void *p, int64_t k, double v) {
  switch (t) {
    case GDL_F32: ((float *)p)[k] = (float)v; break;
    case GDL_F64: ((double *)p)[k] = v; break;
    case GDL_I32: ((int32_t *)p)[k] = (int32_t)v; break;
    case GDL_I64: ((int64_t *)p)[k] = (int64_t)v; break;
    case GDL_U8: ((uint8_t *)p)[k] = (uint8_t)v; break;
    case GDL_BOOL: ((uint8_t *)p)[k] = v != 0; break;
    case GDL_C64: ((float *)p)[2 * k] = (float)v, ((float *)p)[2 * k + 1] = 0; break;
    case GDL_C128: ((double *)p)[2 * k] = v, ((double *)p)[2 * k + 1] = 0; break;
    default: break;
  }
}

double gdl_tensor_get(const gdl_tensor *x, int64_t i) {
  return load(x->dtype, x->data, elem_offset(x, i));
}

void gdl_tensor_set(gdl_tensor *x, int64_t i, double v) {
  store(x->dtype, x->data, elem_offset(x, i), v);
}

void gdl_tensor_fill(gdl_tensor *x, double v) {
  int64_t n = gdl_tensor_numel(x);
  for (int64_t i = 0; i < n; i++) gdl_tensor_set(x, i, v);
}

/* Copies rows of the last axis; each row's start found by unravelling. */
void gdl_tensor_copy(gdl_tensor *dst, const gdl_tensor *src) {
  GDL_ASSERT(gdl_shape_eq(gdl_tensor_shape(dst), gdl_tensor_shape(src)), "copy: shapes differ");
  int64_t n = gdl_tensor_numel(src);
  if (n == 0) return;
  if (dst->dtype == src->dtype && gdl_tensor_is_contiguous(dst) && gdl_tensor_is_contiguous(src)) {
    memmove(dst->data, src->data, (size_t)n * gdl_dtype_size(src->dtype));
    return;
  }
  int nd = src->ndim;
  int64_t inner = nd ? src->shape[nd - 1] : 1, rows = n / inner;
  int64_t ss = nd ? src->stride[nd - 1] : 0, ds = nd ? dst->stride[nd - 1] : 0;
  size_t es = gdl_dtype_size(src->dtype);
  GDL_PARALLEL_FOR_IF(n > GDL_PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    int64_t so = elem_offset(src, r * inner), doff = elem_offset(dst, r * inner);
    if (dst->dtype == src->dtype && es == 4) {
      const uint32_t *s = (const uint32_t *)src->data + so;
      uint32_t *d = (uint32_t *)dst->data + doff;
      for (int64_t j = 0; j < inner; j++) d[j * ds] = s[j * ss];
    } else if (dst->dtype == src->dtype && es == 8) {
      const uint64_t *s = (const uint64_t *)src->data + so;
      uint64_t *d = (uint64_t *)dst->data + doff;
      for (int64_t j = 0; j < inner; j++) d[j * ds] = s[j * ss];
    } else if (dst->dtype == src->dtype) { /* complex128 and the 1-byte types */
      const char *s = (const char *)src->data + so * (int64_t)es;
      char *d = (char *)dst->data + doff * (int64_t)es;
      for (int64_t j = 0; j < inner; j++) memcpy(d + j * ds * (int64_t)es, s + j * ss * (int64_t)es, es);
    } else {
      for (int64_t j = 0; j < inner; j++)
        store(dst->dtype, dst->data, doff + j * ds, load(src->dtype, src->data, so + j * ss));
    }
  }
}

gdl_tensor *gdl_tensor_contiguous(gdl_ctx *ctx, gdl_tensor *x) {
  if (gdl_tensor_is_contiguous(x)) return x;
  gdl_tensor *y = gdl__tensor_empty(ctx, x->dtype, gdl_tensor_shape(x));
  gdl_tensor_copy(y, x);
  return y;
}

void *gdl__contig(gdl_ctx *ctx, gdl_tensor *x) { return gdl_tensor_contiguous(ctx, x)->data; }

gdl_tensor *gdl_tensor_clone(const gdl_tensor *x) {
  gdl_tensor *y = gdl_tensor_alloc(x->dtype, gdl_tensor_shape(x));
  if (y) gdl_tensor_copy(y, x);
  return y;
}

gdl_tensor *gdl_tensor_cast(gdl_ctx *ctx, const gdl_tensor *x, gdl_dtype t) {
  gdl_tensor *y = gdl_tensor_new(ctx, t, gdl_tensor_shape(x));
  gdl_tensor_copy(y, x);
  return y;
}

gdl_status gdl_tensor_check_finite(const gdl_tensor *x, const char *what) {
  if (!gdl_dtype_is_float(x->dtype)) return GDL_OK;
  int64_t n = gdl_tensor_numel(x);
  for (int64_t i = 0; i < n; i++) {
    double v = gdl_tensor_get(x, i);
    if (!isfinite(v))
      return gdl_error(GDL_ERR_VALUE, "%s: element %lld is %s", what, (long long)i,
                       isnan(v) ? "NaN" : "infinite");
  }
  return GDL_OK;
}

/* ---- shape helpers ----------------------------------------------------- */

int gdl__axis(int axis, int ndim) {
  int a = axis < 0 ? axis + ndim : axis;
  GDL_ASSERT(a >= 0 && a < ndim, "axis %d out of range for %d axes", axis, ndim);
  return a;
}

gdl_shape gdl__bcast_shape(gdl_shape a, gdl_shape b) {
  gdl_shape s = {.ndim = a.ndim > b.ndim ? a.ndim : b.ndim};
  for (int k = 0; k < s.ndim; k++) {
    int ka = k - (s.ndim - a.ndim), kb = k - (s.ndim - b.ndim);
    int64_t da = ka >= 0 ? a.d[ka] : 1, db = kb >= 0 ? b.d[kb] : 1;
    GDL_ASSERT(da == db || da == 1 || db == 1, "shapes do not broadcast: %lld vs %lld on axis %d",
               (long long)da, (long long)db, k);
    s.d[k] = da == 1 ? db : da;
  }
  return s;
}

void gdl__bcast_strides(const gdl_tensor *x, gdl_shape s, int64_t *strides) {
  GDL_ASSERT(x->ndim <= s.ndim, "cannot broadcast %d axes to %d", x->ndim, s.ndim);
  for (int k = 0; k < s.ndim; k++) {
    int kx = k - (s.ndim - x->ndim);
    if (kx < 0) {
      strides[k] = 0;
      continue;
    }
    GDL_ASSERT(x->shape[kx] == s.d[k] || x->shape[kx] == 1,
               "cannot broadcast size %lld to %lld on axis %d", (long long)x->shape[kx],
               (long long)s.d[k], k);
    strides[k] = x->shape[kx] == 1 ? 0 : x->stride[kx];
  }
}

void gdl__sum_to(gdl_dtype dt, const void *src, gdl_shape s, void *acc, gdl_shape t) {
  int64_t n = gdl_shape_numel(s);
  if (gdl_shape_eq(s, t)) {
    GDL_FLOAT_SWITCH(dt, T, {
      const T *a = src;
      T *b = acc;
      GDL_PARALLEL_FOR_IF(n > GDL_PAR_MIN)
      for (int64_t i = 0; i < n; i++) b[i] += a[i];
    });
    return;
  }
  /* Each target element sums its source elements (over the broadcast axes) in a
   * fixed order, so threads own target elements and results are deterministic. */
  int nd = s.ndim, nr = 0;
  int64_t kept_stride[GDL_MAX_DIMS], red_size[GDL_MAX_DIMS], red_stride[GDL_MAX_DIMS], src_stride[GDL_MAX_DIMS];
  int64_t acc_n = gdl_shape_numel(t), red_n = 1;
  for (int64_t k = nd - 1, st = 1; k >= 0; k--) {
    src_stride[k] = st;
    st *= s.d[k];
  }
  for (int k = 0; k < nd; k++) {
    int kt = k - (nd - t.ndim);
    bool reduced = kt < 0 || (t.d[kt] == 1 && s.d[k] != 1);
    kept_stride[k] = reduced ? 0 : src_stride[k];
    if (reduced) {
      red_size[nr] = s.d[k];
      red_stride[nr++] = src_stride[k];
      red_n *= s.d[k];
    }
  }
  GDL_FLOAT_SWITCH(dt, T, {
    const T *a = src;
    T *b = acc;
    GDL_PARALLEL_FOR_IF(n > GDL_PAR_MIN && acc_n > 1)
    for (int64_t j = 0; j < acc_n; j++) {
      int64_t base = 0, r = j; /* source offset of target element j */
      for (int k = nd - 1; k >= 0; k--) {
        int kt = k - (nd - t.ndim);
        int64_t d = kt >= 0 ? t.d[kt] : 1;
        base += (r % d) * kept_stride[k];
        r /= d;
      }
      double sum = 0;
      int64_t last = nr ? red_size[nr - 1] : 1, ls = nr ? red_stride[nr - 1] : 0;
      for (int64_t q = 0; q < red_n / last; q++) { /* the last reduced axis runs innermost */
        int64_t off = base, rq = q;
        for (int k = nr - 2; k >= 0; k--) {
          off += (rq % red_size[k]) * red_stride[k];
          rq /= red_size[k];
        }
        for (int64_t i = 0; i < last; i++) sum += (double)a[off + i * ls];
      }
      b[j] += (T)sum;
    }
  });
}

void gdl__split_axis(const gdl_tensor *x, int axis, int64_t *outer, int64_t *n, int64_t *inner) {
  *outer = 1;
  *inner = 1;
  for (int k = 0; k < axis; k++) *outer *= x->shape[k];
  for (int k = axis + 1; k < x->ndim; k++) *inner *= x->shape[k];
  *n = x->shape[axis];
}

int64_t gdl__index_at(const gdl_tensor *idx, int64_t i) {
  return idx->dtype == GDL_I64 ? ((const int64_t *)idx->data)[i]
                               : ((const int32_t *)idx->data)[i];
}

void gdl__tensor_accum(gdl_tensor *dst, const gdl_tensor *src) {
  GDL_ASSERT(gdl_shape_eq(gdl_tensor_shape(dst), gdl_tensor_shape(src)) && dst->dtype == src->dtype,
             "accum: shapes or dtypes differ");
  int64_t n = gdl_tensor_numel(src);
  if (n == 0) return;
  int nd = src->ndim;
  int64_t inner = nd ? src->shape[nd - 1] : 1, rows = n / inner;
  int64_t ss = nd ? src->stride[nd - 1] : 0, ds = nd ? dst->stride[nd - 1] : 0;
  GDL_FLOAT_SWITCH(src->dtype, T, {
    GDL_PARALLEL_FOR_IF(n > GDL_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
      const T *s = (const T *)src->data + elem_offset(src, r * inner);
      T *d = (T *)dst->data + elem_offset(dst, r * inner);
      for (int64_t j = 0; j < inner; j++) d[j * ds] += s[j * ss];
    }
  });
}

gdl_tensor *gdl__view(gdl_ctx *ctx, const gdl_tensor *x) {
  gdl_tensor *v = gdl_ctx_alloc(ctx, sizeof *v);
  *v = *x;
  v->grad = NULL;
  v->node = NULL;
  v->requires_grad = false;
  return v;
}
