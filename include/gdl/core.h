/* gdl core: status codes, dtypes, shapes, tensors, arena contexts, RNG, threads.
 *
 * Memory has three owners and no reference counts:
 *   1. a gdl_ctx arena holds the activations, the tape and their gradients of one
 *      step; gdl_ctx_reset() frees them all at once;
 *   2. heap tensors (gdl_tensor_alloc / gdl_tensor_free) hold parameters and data;
 *   3. plans own precomputed tables only, never the caller's arrays. */
#ifndef GDL_CORE_H
#define GDL_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define GDL_API __attribute__((visibility("default")))
#define GDL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define GDL_API
#define GDL_PRINTF(f, a)
#endif

#define GDL_VERSION "0.1.0"

/* ---- status ------------------------------------------------------------ */

#define GDL_STATUS_MAP(XX)                                   \
  XX(OK, 0, "success")                                       \
  XX(ERR_NOMEM, -1, "out of memory")                         \
  XX(ERR_IO, -2, "input/output error")                       \
  XX(ERR_FORMAT, -3, "malformed file")                       \
  XX(ERR_UNSUPPORTED, -4, "unsupported")                     \
  XX(ERR_SHAPE, -5, "shape mismatch")                        \
  XX(ERR_ARG, -6, "invalid argument")                        \
  XX(ERR_VALUE, -7, "invalid value")                         \
  XX(ERR_CONFIG, -8, "invalid configuration")

typedef enum {
#define GDL__STATUS_ENUM(name, code, msg) GDL_##name = code,
  GDL_STATUS_MAP(GDL__STATUS_ENUM)
#undef GDL__STATUS_ENUM
} gdl_status;

GDL_API const char *gdl_strerror(gdl_status s);
/* Thread-local detail of the last error, e.g. "idx: t10k-images: expected magic
 * 0x00000803, got 0x1f8b0808". Empty string if none. */
GDL_API const char *gdl_last_error(void);
/* Sets the detail message and returns s (so callers can `return gdl_error(...)`). */
GDL_API gdl_status gdl_error(gdl_status s, const char *fmt, ...) GDL_PRINTF(2, 3);
GDL_API void gdl_clear_error(void);

/* Programmer errors (never bad data): abort with file:line. */
GDL_API void gdl__abort(const char *file, int line, const char *fmt, ...) GDL_PRINTF(3, 4);
#define GDL_ASSERT(cond, ...) \
  do { if (!(cond)) gdl__abort(__FILE__, __LINE__, __VA_ARGS__); } while (0)

/* ---- dtypes and shapes ------------------------------------------------- */

/* Complex dtypes hold interleaved (re, im) pairs like C99's float/double complex;
 * they are for transforms and I/O (ops take real tensors). gdl_tensor_get/set
 * read and write their real part. */
typedef enum {
  GDL_F32, GDL_F64, GDL_I32, GDL_I64, GDL_U8, GDL_BOOL, GDL_C64, GDL_C128, GDL_DTYPE_COUNT
} gdl_dtype;

GDL_API size_t gdl_dtype_size(gdl_dtype t);
GDL_API const char *gdl_dtype_name(gdl_dtype t); /* "float32", "int64", ... */
static inline bool gdl_dtype_is_float(gdl_dtype t) { return t == GDL_F32 || t == GDL_F64; }

#define GDL_MAX_DIMS 6

typedef struct {
  int ndim;
  int64_t d[GDL_MAX_DIMS];
} gdl_shape;

#define GDL__NARGS(...) GDL__NARGS_(__VA_ARGS__, 6, 5, 4, 3, 2, 1, 0)
#define GDL__NARGS_(a, b, c, d, e, f, n, ...) n
/* GDL_SHAPE(64, 784) is a 2-d shape; GDL_SCALAR the 0-d one. */
#define GDL_SHAPE(...) ((gdl_shape){.ndim = GDL__NARGS(__VA_ARGS__), .d = {__VA_ARGS__}})
#define GDL_SCALAR ((gdl_shape){.ndim = 0})

GDL_API int64_t gdl_shape_numel(gdl_shape s);
GDL_API bool gdl_shape_eq(gdl_shape a, gdl_shape b);
/* Writes "[64, 784]" into buf. */
GDL_API const char *gdl_shape_str(gdl_shape s, char *buf, size_t n);

/* ---- tensors ----------------------------------------------------------- */

struct gdl_node;

typedef struct gdl_tensor {
  gdl_dtype dtype;
  int ndim;
  int64_t shape[GDL_MAX_DIMS];
  int64_t stride[GDL_MAX_DIMS]; /* in elements; 0 on broadcast axes */
  void *data;                   /* address of element (0, ..., 0) */
  struct gdl_tensor *grad;      /* contiguous, same shape; NULL until needed */
  struct gdl_node *node;        /* the op that made it; NULL for leaves */
  bool requires_grad;
} gdl_tensor;

typedef struct gdl_ctx gdl_ctx;

/* Heap tensors: data and header in one allocation, zero-filled. */
GDL_API gdl_tensor *gdl_tensor_alloc(gdl_dtype t, gdl_shape s);
GDL_API void gdl_tensor_free(gdl_tensor *x);
/* Arena tensors: live until gdl_ctx_reset; zero-filled. */
GDL_API gdl_tensor *gdl_tensor_new(gdl_ctx *ctx, gdl_dtype t, gdl_shape s);
/* Header over caller-owned memory (contiguous). */
GDL_API gdl_tensor *gdl_tensor_wrap(gdl_ctx *ctx, gdl_dtype t, gdl_shape s, void *data);

GDL_API gdl_shape gdl_tensor_shape(const gdl_tensor *x);
GDL_API int64_t gdl_tensor_numel(const gdl_tensor *x);
GDL_API size_t gdl_tensor_nbytes(const gdl_tensor *x);
GDL_API bool gdl_tensor_is_contiguous(const gdl_tensor *x);
/* Element i (row-major logical index) read as double, honouring strides. */
GDL_API double gdl_tensor_get(const gdl_tensor *x, int64_t i);
GDL_API void gdl_tensor_set(gdl_tensor *x, int64_t i, double v);
/* Copies src into dst (same shape, any strides, dtype converted). */
GDL_API void gdl_tensor_copy(gdl_tensor *dst, const gdl_tensor *src);
GDL_API void gdl_tensor_fill(gdl_tensor *x, double v);
/* A contiguous copy in the arena (or x itself when already contiguous); not recorded. */
GDL_API gdl_tensor *gdl_tensor_contiguous(gdl_ctx *ctx, gdl_tensor *x);
/* A heap copy (contiguous, detached). */
GDL_API gdl_tensor *gdl_tensor_clone(const gdl_tensor *x);
/* A converted copy in the arena; not recorded. */
GDL_API gdl_tensor *gdl_tensor_cast(gdl_ctx *ctx, const gdl_tensor *x, gdl_dtype t);
/* GDL_ERR_VALUE naming the first NaN/Inf element, else GDL_OK. */
GDL_API gdl_status gdl_tensor_check_finite(const gdl_tensor *x, const char *what);

/* ---- arena contexts and the tape ---------------------------------------- */

GDL_API gdl_ctx *gdl_ctx_new(void);
GDL_API void gdl_ctx_free(gdl_ctx *ctx);
/* Frees every tensor, node and gradient made in ctx since the last reset. */
GDL_API void gdl_ctx_reset(gdl_ctx *ctx);
/* 64-byte aligned, zero-filled; aborts when memory runs out. */
GDL_API void *gdl_ctx_alloc(gdl_ctx *ctx, size_t bytes);
GDL_API size_t gdl_ctx_used(const gdl_ctx *ctx);
/* With grad off, ops compute but record nothing (evaluation). Returns old value. */
GDL_API bool gdl_ctx_set_grad(gdl_ctx *ctx, bool enabled);
/* The seed dropout and other random ops draw from; each call advances it. */
GDL_API void gdl_ctx_seed(gdl_ctx *ctx, uint64_t seed);

/* Reverse-mode sweep from a scalar: accumulates d(loss)/dx into x->grad of every
 * tensor on the tape that requires grad. */
GDL_API gdl_status gdl_backward(gdl_ctx *ctx, gdl_tensor *loss);

/* ---- random numbers ------------------------------------------------------ */

/* Counter-based: value i of a stream depends only on (seed, counter + i), so
 * results do not depend on how many threads fill an array. */
typedef struct {
  uint64_t seed, counter;
} gdl_rng;

GDL_API gdl_rng gdl_rng_make(uint64_t seed);
GDL_API uint64_t gdl_rng_u64(gdl_rng *r);
GDL_API double gdl_rng_uniform(gdl_rng *r);            /* [0, 1) */
GDL_API double gdl_rng_normal(gdl_rng *r);             /* N(0, 1) */
GDL_API uint64_t gdl_rng_below(gdl_rng *r, uint64_t n); /* [0, n) */
GDL_API void gdl_rng_shuffle(gdl_rng *r, int64_t *a, int64_t n);
/* Fills float tensors: uniform in [lo, hi) or normal(mean, std). */
GDL_API void gdl_rng_fill_uniform(gdl_rng *r, gdl_tensor *x, double lo, double hi);
GDL_API void gdl_rng_fill_normal(gdl_rng *r, gdl_tensor *x, double mean, double std);
/* Pure hash of (seed, i) to [0, 1): the building block of the above. */
GDL_API double gdl_hash_uniform(uint64_t seed, uint64_t i);

/* ---- threads ----------------------------------------------------------- */

/* Threads for gdl's OpenMP loops and for BLAS. 0 = all cores. */
GDL_API void gdl_set_threads(int n);
GDL_API int gdl_get_threads(void);

#ifdef __cplusplus
}
#endif
#endif
