/* Internals shared by the core, the ops and the domain folders. */
#ifndef GDL_INTERNAL_H
#define GDL_INTERNAL_H

#include <math.h>
#include <string.h>

#include "gdl/core.h"
#include "gdl/ops.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* ---- the tape --------------------------------------------------------- */

typedef struct gdl_node {
  int op;           /* index into the op table */
  int nin;
  gdl_tensor **in;  /* inputs; an optional input may be NULL */
  gdl_tensor *out;
  gdl_ctx *ctx;
  int64_t i[16];    /* integer attributes (axes, seeds, flags) */
  double f[4];      /* float attributes (slopes, eps, ...) */
  void *saved;      /* op-specific arrays kept for backward (arena) */
  void *aux;        /* op-specific pointer not owned by the node */
} gdl_node;

typedef void (*gdl_fwd_fn)(gdl_node *n);
typedef void (*gdl_bwd_fn)(gdl_ctx *ctx, gdl_node *n);
typedef gdl_tensor *(*gdl_sample_fn)(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int variant);

typedef struct {
  const char *name;
  gdl_fwd_fn fwd;
  gdl_bwd_fn bwd;
  gdl_sample_fn sample;
} gdl_op_def;

enum {
#define GDL_OP(NAME, name) GDL_OP_##NAME,
#include "ops/ops.def"
#undef GDL_OP
  GDL_OP_COUNT
};

#define GDL_OP(NAME, name)                          \
  void gdl__##name##_fwd(gdl_node *n);              \
  void gdl__##name##_bwd(gdl_ctx *ctx, gdl_node *n); \
  gdl_tensor *gdl__##name##_sample(gdl_ctx *ctx, gdl_rng *rng, gdl_dtype t, int variant);
#include "ops/ops.def"
#undef GDL_OP

/* Makes a node for op over in[0..nin) producing out, links it to out, and puts it
 * on the tape when the context records and some input requires grad. The caller
 * then runs the forward: gdl__run(n). */
gdl_node *gdl__node(gdl_ctx *ctx, int op, gdl_tensor *out, int nin, gdl_tensor **in);
gdl_tensor *gdl__run(gdl_node *n);
/* The gradient buffer of x (zeros, allocated on first use), or NULL when x does
 * not require grad: backward functions skip such inputs. */
gdl_tensor *gdl__grad(gdl_ctx *ctx, gdl_tensor *x);
/* The same for a backward that writes every element of the gradient: when it does
 * not exist yet it is made without zeroing and *fresh is set, and the caller stores
 * its values (=) instead of adding them (+=), sparing a zeroing pass and a read. */
gdl_tensor *gdl__grad_fresh(gdl_ctx *ctx, gdl_tensor *x, bool *fresh);
/* Pointer to a contiguous copy of x's elements (x->data when already contiguous). */
void *gdl__contig(gdl_ctx *ctx, gdl_tensor *x);
gdl_rng *gdl__ctx_rng(gdl_ctx *ctx);
/* Arena memory that is not zeroed, and a tensor whose elements are not: for op
 * outputs and scratch buffers that are written completely before being read. */
void *gdl__ctx_alloc_raw(gdl_ctx *ctx, size_t bytes);
void gdl__zero(void *p, size_t bytes); /* memset 0, on all threads when large */
static inline int64_t gdl__round_up(int64_t v, int64_t q) { return (v + q - 1) / q * q; }
/* A 64-byte aligned buffer of at least `bytes` owned by the calling thread, kept for
 * its next call with the same slot (contents undefined). Slots: 0, 1 the float32
 * GEMM's packing, 2-7 the sphere's Legendre work arrays. */
enum { GDL_SCRATCH_SLOTS = 8 };
void *gdl__scratch(int slot, size_t bytes);
gdl_tensor *gdl__tensor_empty(gdl_ctx *ctx, gdl_dtype t, gdl_shape s);
bool gdl__ctx_records(const gdl_ctx *ctx);
/* The recorded nodes in execution order (for tests and tools). */
int gdl__ctx_tape(gdl_ctx *ctx, gdl_node ***nodes);

/* Normalises a possibly negative axis; aborts when out of range. */
int gdl__axis(int axis, int ndim);
void gdl__set_contiguous_strides(gdl_tensor *x);
/* dst += src elementwise; both float, same shape, any strides (dst must not overlap itself). */
void gdl__tensor_accum(gdl_tensor *dst, const gdl_tensor *src);
/* A header in ctx viewing the same data as x (grad and node cleared). */
gdl_tensor *gdl__view(gdl_ctx *ctx, const gdl_tensor *x);
/* Strides of x seen as a tensor of shape s (NumPy broadcasting); aborts if x does
 * not broadcast to s. */
void gdl__bcast_strides(const gdl_tensor *x, gdl_shape s, int64_t *strides);
gdl_shape gdl__bcast_shape(gdl_shape a, gdl_shape b);
/* acc[j] += src[i] for every element i of src (shape s, contiguous), j the
 * element of acc (contiguous, shape t, t broadcasts to s) that i reduces to. */
void gdl__sum_to(gdl_dtype dt, const void *src, gdl_shape s, void *acc, gdl_shape t);
/* Views x as [outer, n, inner] around axis. */
void gdl__split_axis(const gdl_tensor *x, int axis, int64_t *outer, int64_t *n, int64_t *inner);
int64_t gdl__index_at(const gdl_tensor *idx, int64_t i); /* int32/int64 element i (contiguous) */

/* A bias [O] shared over a group axis of G elements, as the bias [O G] of the
 * convolution that computes the group layer (src/group). */
gdl_tensor *gdl__group_bias(gdl_ctx *ctx, gdl_tensor *b, int G);

/* A float dtype switch: runs BODY with T typedef'd to float or double. Use
 * <tgmath.h>-style generic math (fabs, exp, ...) inside so T picks precision. */
#define GDL_FLOAT_SWITCH(dtype, T, ...)                              \
  do {                                                              \
    switch (dtype) {                                                \
      case GDL_F32: { typedef float T; __VA_ARGS__; } break;        \
      case GDL_F64: { typedef double T; __VA_ARGS__; } break;       \
      default: GDL_ASSERT(0, "expected a float tensor, got %s", gdl_dtype_name(dtype)); \
    }                                                               \
  } while (0)

#define GDL_OMP(x) _Pragma(#x)
#define GDL_PARALLEL_FOR_IF(cond) GDL_OMP(omp parallel for schedule(static) if (cond))
#define GDL_PAR_MIN 32768 /* elements below which threading costs more than it gains */

/* The calling thread's number in its parallel region (0 outside one), and how many
 * per-thread buffers a loop over `items` needs (one per thread when it will run in
 * parallel, as GDL_OMP(omp parallel for ... if (items > 1)) does). */
static inline int gdl__thread_index(void) {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}
static inline int gdl__thread_buffers(int64_t items) {
#ifdef _OPENMP
  return items > 1 ? omp_get_max_threads() : 1;
#else
  (void)items;
  return 1;
#endif
}

#ifdef __AVX512F__
#include <immintrin.h>
/* The mask of lanes i with from <= i < to, of 16 (masked loads and stores leave the
 * other lanes' memory untouched, so runs may start or end anywhere). */
static inline __mmask16 gdl__lanes(int64_t from, int64_t to) {
  from = from < 0 ? 0 : from;
  to = to > 16 ? 16 : to;
  return to <= from ? 0 : (__mmask16)(((1u << (to - from)) - 1) << from);
}

/* r[j][i] = r[i][j] for a 16 x 16 block held in 16 vectors: 64 shuffles. */
static inline void gdl__transpose16(__m512 r[16]) {
  __m512 t[16], s[16];
  for (int k = 0; k < 8; k++) { /* t[2k]: rows 2k, 2k+1 interleaved (columns 4L, 4L+1); t[2k+1]: 4L+2, 4L+3 */
    t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
    t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
  }
  for (int k = 0; k < 4; k++) { /* lane L of s[4k + c]: rows 4k..4k+3 of column 4L + c */
    __m512d a0 = _mm512_castps_pd(t[4 * k]), a1 = _mm512_castps_pd(t[4 * k + 1]);
    __m512d b0 = _mm512_castps_pd(t[4 * k + 2]), b1 = _mm512_castps_pd(t[4 * k + 3]);
    s[4 * k] = _mm512_castpd_ps(_mm512_unpacklo_pd(a0, b0));
    s[4 * k + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a0, b0));
    s[4 * k + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(a1, b1));
    s[4 * k + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(a1, b1));
  }
  for (int c = 0; c < 4; c++) { /* transpose the 4 x 4 lanes of s[c], s[4 + c], s[8 + c], s[12 + c] */
    __m512 p0 = _mm512_shuffle_f32x4(s[c], s[4 + c], 0x44), p1 = _mm512_shuffle_f32x4(s[c], s[4 + c], 0xee);
    __m512 q0 = _mm512_shuffle_f32x4(s[8 + c], s[12 + c], 0x44), q1 = _mm512_shuffle_f32x4(s[8 + c], s[12 + c], 0xee);
    r[c] = _mm512_shuffle_f32x4(p0, q0, 0x88);
    r[4 + c] = _mm512_shuffle_f32x4(p0, q0, 0xdd);
    r[8 + c] = _mm512_shuffle_f32x4(p1, q1, 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(p1, q1, 0xdd);
  }
}
#endif

#define GDL_CHECK_FLOAT(x, opname) \
  GDL_ASSERT(gdl_dtype_is_float((x)->dtype), "%s: expected a float tensor, got %s", opname, \
             gdl_dtype_name((x)->dtype))

#endif
