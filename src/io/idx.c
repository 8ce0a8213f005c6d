/* IDX files (MNIST, Fashion-MNIST, EMNIST), raw or gzip-compressed:
 *
 *   magic 0x00 0x00 type ndim | ndim u32 sizes | elements, all big-endian
 *
 * type 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64. A gzip file is
 * inflated straight into the tensor, so the large image files cost one pass. */
#include <inttypes.h>
#include <stdlib.h>

#include "core/internal.h"
#include "io/file.h"

static bool idx_type(uint8_t code, size_t *size, gdl_dtype *t) {
  switch (code) {
    case 0x08: *size = 1, *t = GDL_U8; return true;
    case 0x09: *size = 1, *t = GDL_I32; return true;
    case 0x0B: *size = 2, *t = GDL_I32; return true;
    case 0x0C: *size = 4, *t = GDL_I32; return true;
    case 0x0D: *size = 4, *t = GDL_F32; return true;
    case 0x0E: *size = 8, *t = GDL_F64; return true;
    default: return false;
  }
}

/* Big-endian disk elements (raw) to host tensor elements (x->data; may alias raw
 * when the sizes agree). */
static void from_big_endian(uint8_t code, const uint8_t *raw, gdl_tensor *x, size_t n) {
  uint8_t *d = x->data;
  switch (code) {
    case 0x09: {
      int32_t *o = x->data;
      for (size_t i = 0; i < n; i++) o[i] = (int8_t)raw[i];
    } break;
    case 0x0B: {
      int32_t *o = x->data;
      for (size_t i = 0; i < n; i++) o[i] = (int16_t)(raw[2 * i] << 8 | raw[2 * i + 1]);
    } break;
    case 0x0C:
    case 0x0D:
      for (size_t i = 0; i < n; i++) {
        uint32_t v;
        memcpy(&v, d + 4 * i, 4);
        v = __builtin_bswap32(v);
        memcpy(d + 4 * i, &v, 4);
      }
      break;
    case 0x0E:
      for (size_t i = 0; i < n; i++) {
        uint64_t v;
        memcpy(&v, d + 8 * i, 8);
        v = __builtin_bswap64(v);
        memcpy(d + 8 * i, &v, 8);
      }
      break;
    default: break;
  }
}

static gdl_tensor *read_idx(gdl__src *s, const char *path, size_t file_size) {
  uint8_t head[4 + 4 * GDL_MAX_DIMS];
  size_t got;
  if (gdl__src_read(s, head, 4, &got)) return NULL;
  if (got < 4) {
    if (s->out == 0 && file_size == 0)
      gdl_error(GDL_ERR_FORMAT, "%s: empty file, not an IDX file", path);
    else
      gdl_error(GDL_ERR_FORMAT, "%s: truncated: expected at least 4 bytes, got %zu", path, got);
    return NULL;
  }
  uint32_t magic = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | head[2] << 8 | head[3];
  size_t es;
  gdl_dtype dt;
  if (head[0] || head[1] || !idx_type(head[2], &es, &dt)) {
    gdl_error(GDL_ERR_FORMAT,
              "%s: not an IDX file: magic 0x%08x, expected 0x0000TTNN with type TT one of 08 09 "
              "0B 0C 0D 0E",
              path, magic);
    return NULL;
  }
  int nd = head[3];
  if (nd > GDL_MAX_DIMS) {
    gdl_error(GDL_ERR_UNSUPPORTED, "%s: IDX array has %d axes, gdl supports at most %d", path, nd,
              GDL_MAX_DIMS);
    return NULL;
  }
  if (gdl__src_read(s, head + 4, 4 * (size_t)nd, &got)) return NULL;
  if (got < 4 * (size_t)nd) {
    gdl_error(GDL_ERR_FORMAT, "%s: truncated: expected a %d-byte header, got %zu", path, 4 + 4 * nd,
              4 + got);
    return NULL;
  }
  gdl_shape shape = {.ndim = nd};
  for (int k = 0; k < nd; k++) {
    const uint8_t *q = head + 4 + 4 * k;
    shape.d[k] = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
  }
  uint64_t numel, bytes, hl = 4 + 4 * (uint64_t)nd;
  if (!gdl__shape_ok(shape, 8, &numel, &bytes)) {
    char sb[160];
    gdl_error(GDL_ERR_FORMAT, "%s: shape %s overflows", path, gdl_shape_str(shape, sb, sizeof sb));
    return NULL;
  }
  bytes = numel * es;
  uint64_t total = hl + bytes;
  /* Refuse sizes the file cannot hold before allocating anything. */
  if (s->kind == GDL__SRC_RAW && total > file_size) {
    gdl_error(GDL_ERR_FORMAT, "%s: truncated: expected %" PRIu64 " bytes, got %zu", path, total,
              file_size);
    return NULL;
  }
  if (s->kind != GDL__SRC_RAW && bytes > gdl__inflate_bound(file_size)) {
    /* Too big to be true: count what the stream really holds, for the message. */
    uint8_t scratch[65536];
    do {
      if (gdl__src_read(s, scratch, sizeof scratch, &got)) return NULL;
    } while (got == sizeof scratch);
    gdl_error(GDL_ERR_FORMAT, "%s: truncated: expected %" PRIu64 " bytes, got %" PRIu64, path,
              total, s->out);
    return NULL;
  }
  gdl_tensor *x = gdl_tensor_alloc(dt, shape);
  if (!x) return NULL;
  bool direct = es == gdl_dtype_size(dt);
  uint8_t *raw = direct ? x->data : malloc(bytes ? bytes : 1);
  if (!raw) {
    gdl_error(GDL_ERR_NOMEM, "%s: out of memory", path);
    gdl_tensor_free(x);
    return NULL;
  }
  gdl_status st = gdl__src_read(s, raw, (size_t)bytes, &got);
  if (!st && got < bytes)
    st = gdl_error(GDL_ERR_FORMAT, "%s: truncated: expected %" PRIu64 " bytes, got %" PRIu64, path,
                   total, hl + got);
  if (!st) st = gdl__src_finish(s);
  if (!st) from_big_endian(head[2], raw, x, (size_t)numel);
  if (!direct) free(raw);
  if (st) {
    gdl_tensor_free(x);
    return NULL;
  }
  return x;
}

gdl_tensor *gdl_idx_load(const char *path) {
  uint8_t *p;
  size_t n;
  if (gdl__file_read(path, &p, &n)) return NULL;
  bool gz = n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
  gdl__src s;
  gdl_tensor *x = NULL;
  if (!gdl__src_open(&s, path, gz ? GDL__SRC_GZIP : GDL__SRC_RAW, p, n)) x = read_idx(&s, path, n);
  gdl__src_close(&s);
  free(p);
  return x;
}
