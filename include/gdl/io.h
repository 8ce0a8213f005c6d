/* gdl I/O: NumPy .npy/.npz, safetensors, IDX (MNIST family), PNG plots.
 *
 * Loaders return heap objects or NULL with gdl_last_error() naming the file and
 * what is wrong ("data/x.npy: truncated: header says 6272 bytes of data, file has
 * 100"). Savers write a temporary file in the same folder and rename it over the
 * target, so a failed save never leaves a partial file behind. */
#ifndef GDL_IO_H
#define GDL_IO_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- named arrays: the contents of an .npz or .safetensors file -------- */

typedef struct gdl_arrays gdl_arrays;

GDL_API gdl_arrays *gdl_arrays_new(void);
GDL_API void gdl_arrays_free(gdl_arrays *a);
/* Adds x under name (replacing an entry of that name). With take, the set owns x
 * and frees it with gdl_tensor_free; otherwise x is borrowed and must outlive a. */
GDL_API gdl_status gdl_arrays_put(gdl_arrays *a, const char *name, gdl_tensor *x, bool take);
GDL_API int gdl_arrays_count(const gdl_arrays *a);
GDL_API const char *gdl_arrays_name(const gdl_arrays *a, int i);
GDL_API gdl_tensor *gdl_arrays_at(const gdl_arrays *a, int i);
GDL_API gdl_tensor *gdl_arrays_get(const gdl_arrays *a, const char *name); /* NULL if absent */
/* String metadata (safetensors "__metadata__"); ignored by npz. */
GDL_API gdl_status gdl_arrays_set_meta(gdl_arrays *a, const char *key, const char *value);
GDL_API const char *gdl_arrays_meta(const gdl_arrays *a, const char *key); /* NULL if absent */

/* ---- NumPy ------------------------------------------------------------ */
/* dtypes: <f4 <f8 <i4 <i8 |u1 |b1 <c8 <c16, C order. Fortran order, big-endian data and
 * other dtypes are refused with a message saying so. */
GDL_API gdl_tensor *gdl_npy_load(const char *path);
GDL_API gdl_status gdl_npy_save(const char *path, const gdl_tensor *x);
/* .npz: a zip of .npy members, stored or deflated (zlib). */
GDL_API gdl_arrays *gdl_npz_load(const char *path);
GDL_API gdl_status gdl_npz_save(const char *path, const gdl_arrays *a, bool compress);

/* ---- safetensors -------------------------------------------------------- */
/* u64 little-endian header length, a JSON header {name: {dtype, shape,
 * data_offsets}, "__metadata__": {...}}, then the raw little-endian bytes.
 * dtypes F32 F64 I32 I64 U8 BOOL; F16 and BF16 are widened to float32 on load. */
GDL_API gdl_arrays *gdl_safetensors_load(const char *path);
GDL_API gdl_status gdl_safetensors_save(const char *path, const gdl_arrays *a);

/* ---- IDX (MNIST, Fashion-MNIST), raw or gzip-compressed ---------------- */
/* Element types u8 i8 i16 i32 f32 f64 map to uint8, int32 (i8, i16, i32), float32
 * and float64 tensors. */
GDL_API gdl_tensor *gdl_idx_load(const char *path);

/* ---- PNG plots -------------------------------------------------------------- */

typedef struct {
  const char *label;   /* legend text */
  const double *x, *y; /* n points; x may be NULL (0, 1, 2, ...) */
  int n;
} gdl_series;

typedef struct {
  const char *title, *xlabel, *ylabel;
  int width, height; /* pixels; 0 = 800 x 500 */
} gdl_plot_opts;

/* Line plot of one or more series with axes, ticks, labels and a legend. */
GDL_API gdl_status gdl_plot_png(const char *path, const gdl_series *series, int nseries,
                                const gdl_plot_opts *opts);

#ifdef __cplusplus
}
#endif
#endif
