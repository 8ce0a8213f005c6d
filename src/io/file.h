/* Internals shared by the io loaders and savers: whole-file reads, atomic writes,
 * a byte source that is either plain memory or a zlib stream, little-endian
 * field access, half-float widening and the npy header codec. */
#ifndef GDL_IO_FILE_H
#define GDL_IO_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "gdl/io.h"

/* Every format here is little-endian on disk (IDX is big-endian and swaps
 * explicitly); loaders copy bytes straight into tensors. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "gdl's file I/O assumes a little-endian host"
#endif

/* ---- whole-file reads ----------------------------------------------------- */

/* Reads path into a fresh malloc'd buffer (one spare NUL byte after the end, so
 * text parsers may stop on it). GDL_ERR_IO naming the path when it cannot be
 * opened, is a directory or fails to read; *data is NULL then. */
gdl_status gdl__file_read(const char *path, uint8_t **data, size_t *size);

/* ---- atomic writes ------------------------------------------------------- */

/* A temporary file next to the target; commit renames it over the target, abort
 * (or any failed write followed by commit) removes it. */
typedef struct {
  int fd;
  char *path, *tmp;
  uint64_t pos;     /* bytes written so far (the next write's offset) */
  gdl_status err;   /* first failure; later writes do nothing */
} gdl__wfile;

gdl_status gdl__wfile_open(gdl__wfile *w, const char *path);
gdl_status gdl__wfile_write(gdl__wfile *w, const void *p, size_t n);
/* Overwrites bytes already written at offset off (patching a header). */
gdl_status gdl__wfile_pwrite(gdl__wfile *w, const void *p, size_t n, uint64_t off);
/* Flushes (fsync when sync), closes and renames over the target. On failure, or
 * when an earlier write failed, removes the temporary and returns the error. */
gdl_status gdl__wfile_commit(gdl__wfile *w, bool sync);
void gdl__wfile_abort(gdl__wfile *w);

/* ---- byte sources: memory, raw deflate or gzip ----------------------------- */

typedef enum { GDL__SRC_RAW, GDL__SRC_DEFLATE, GDL__SRC_GZIP } gdl__src_kind;

typedef struct {
  const char *what; /* names the file (and member) in messages */
  gdl__src_kind kind;
  const uint8_t *in;
  size_t in_len, pos; /* pos: bytes of in consumed (raw mode) */
  z_stream zs;
  bool z_open, z_end, truncated; /* truncated: input ended mid-stream */
  uint64_t out;  /* bytes produced so far */
  bool want_crc; /* set after open to keep crc32 of every byte produced */
  uint32_t crc;
} gdl__src;

gdl_status gdl__src_open(gdl__src *s, const char *what, gdl__src_kind kind, const uint8_t *in,
                         size_t n);
/* Reads up to n bytes into dst; *got < n only at the end of the data. Corrupt
 * compressed data is GDL_ERR_FORMAT naming s->what. */
gdl_status gdl__src_read(gdl__src *s, void *dst, size_t n, size_t *got);
/* After the expected bytes: GDL_ERR_FORMAT if more data follows or a compressed
 * stream was cut short (so its checksum was never seen). */
gdl_status gdl__src_finish(gdl__src *s);
void gdl__src_close(gdl__src *s);

/* The most bytes n compressed bytes of deflate data can expand to (1032:1), so a
 * hostile size field cannot make us allocate far beyond what the file holds. */
static inline uint64_t gdl__inflate_bound(uint64_t n) { return n * 1032 + 1024; }

/* crc32 over any length (zlib's length argument is an unsigned int). */
uint32_t gdl__crc32(uint32_t crc, const void *p, size_t n);

/* ---- little-endian fields ------------------------------------------------ */

static inline uint16_t gdl__le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t gdl__le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t gdl__le64(const uint8_t *p) {
  return (uint64_t)gdl__le32(p) | (uint64_t)gdl__le32(p + 4) << 32;
}
static inline uint8_t *gdl__put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
  return p + 2;
}
static inline uint8_t *gdl__put32(uint8_t *p, uint32_t v) {
  for (int k = 0; k < 4; k++) p[k] = (uint8_t)(v >> 8 * k);
  return p + 4;
}
static inline uint8_t *gdl__put64(uint8_t *p, uint64_t v) {
  for (int k = 0; k < 8; k++) p[k] = (uint8_t)(v >> 8 * k);
  return p + 8;
}

/* ---- element conversions ------------------------------------------------- */

/* IEEE half to single, exact (subnormals, infinities and NaN payloads kept). */
static inline float gdl__f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, em = h & 0x7fff, bits;
  if (em >= 0x7c00) {
    bits = 0x7f800000 | (em & 0x3ff) << 13;
  } else if (em >= 0x0400) {
    bits = (em << 13) + ((127 - 15) << 23);
  } else { /* zero or subnormal: em * 2^-24 is exact in float */
    float f = (float)em * 0x1p-24f;
    memcpy(&bits, &f, 4);
  }
  bits |= sign;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

static inline float gdl__bf16_to_f32(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

/* n half or bfloat16 values (little-endian bytes) to float. */
void gdl__widen_f16(float *dst, const uint8_t *src, size_t n, bool bf16);

/* Checked 64-bit products for element and byte counts from hostile headers. */
static inline bool gdl__mul_ok(uint64_t a, uint64_t b, uint64_t *r) {
  return !__builtin_mul_overflow(a, b, r);
}

/* numel of a shape read from a file; false when the byte count numel * elem_size
 * overflows, or when the product of the non-zero sizes does: the core forms
 * partial products in int64 from either end (numel, strides), even when another
 * axis is 0. */
static inline bool gdl__shape_ok(gdl_shape s, uint64_t elem_size, uint64_t *numel,
                                 uint64_t *bytes) {
  uint64_t n = 1, nz = 1;
  for (int k = 0; k < s.ndim; k++) {
    uint64_t d = (uint64_t)s.d[k];
    if (s.d[k] < 0 || !gdl__mul_ok(nz, d ? d : 1, &nz) || nz > (uint64_t)INT64_MAX) return false;
    n *= d;
  }
  *numel = n;
  return gdl__mul_ok(nz, elem_size, bytes) && *bytes <= (uint64_t)INT64_MAX / 2 &&
         gdl__mul_ok(n, elem_size, bytes);
}

/* ---- npy headers (used by .npy and .npz) ------------------------------------- */

/* How the bytes on disk become tensor elements. */
typedef enum { GDL__CONV_NONE, GDL__CONV_BOOL, GDL__CONV_I8, GDL__CONV_F16 } gdl__conv;

typedef struct {
  size_t header_len;  /* bytes before the data */
  gdl_dtype dtype;    /* the tensor's dtype */
  gdl_shape shape;
  size_t disk_size;   /* bytes per element on disk */
  uint64_t data_len;  /* numel * disk_size */
  gdl__conv conv;
} gdl__npy_info;

/* Parses the npy header at the start of p[0..n). GDL_ERR_FORMAT or
 * GDL_ERR_UNSUPPORTED naming `what` on any problem, including n too short. */
gdl_status gdl__npy_parse_header(const char *what, const uint8_t *p, size_t n,
                                 gdl__npy_info *info);
/* Bytes an npy header needs at least to tell its own length. */
#define GDL__NPY_PREFIX 12
/* Reads a whole npy stream from s into a fresh tensor; exact: the data must
 * end where the header says. */
gdl_tensor *gdl__npy_read(gdl__src *s);
/* Writes the npy header for x into buf (at most GDL__NPY_HEADER_MAX bytes, numpy's
 * layout byte for byte) and returns its length. */
#define GDL__NPY_HEADER_MAX 320
size_t gdl__npy_header(const gdl_tensor *x, uint8_t *buf);

/* ---- named arrays: metadata access for the savers ---------------------------- */

int gdl__arrays_meta_count(const gdl_arrays *a);
void gdl__arrays_meta_at(const gdl_arrays *a, int i, const char **key, const char **value);

#endif
