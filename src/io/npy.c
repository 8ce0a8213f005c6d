/* NumPy .npy files, versions 1.0, 2.0 and 3.0.
 *
 *   "\x93NUMPY" major minor  header_len (u16 LE for v1, u32 LE for v2/v3)
 *   "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + spaces + "\n"
 *   raw little-endian elements, C order
 *
 * The header is a Python dict literal; we parse just the subset np.save writes.
 * Savers write numpy's own layout byte for byte (the same padding), so a saved
 * file compares equal to np.save's. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/internal.h"
#include "io/file.h"

#define MAX_HEADER ((size_t)1 << 20) /* np.save's are < 300 bytes; more is hostile */

static const uint8_t magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* Checks the magic and version and finds where the data starts. */
static gdl_status prefix(const char *what, const uint8_t *p, size_t n, size_t *header_len) {
  if (n < 6 || memcmp(p, magic, 6) != 0) {
    if (n == 0) return gdl_error(GDL_ERR_FORMAT, "%s: empty file, not a .npy array", what);
    if (n < 6 && memcmp(p, magic, n) == 0)
      return gdl_error(GDL_ERR_FORMAT, "%s: truncated .npy header (%zu bytes)", what, n);
    return gdl_error(GDL_ERR_FORMAT, "%s: not a .npy file (bad magic, expected \\x93NUMPY)",
                     what);
  }
  if (n < 8) return gdl_error(GDL_ERR_FORMAT, "%s: truncated .npy header (%zu bytes)", what, n);
  int major = p[6], minor = p[7];
  if (major < 1 || major > 3)
    return gdl_error(GDL_ERR_UNSUPPORTED, "%s: .npy format version %d.%d is not supported", what,
                     major, minor);
  size_t lenbytes = major == 1 ? 2 : 4;
  if (n < 8 + lenbytes)
    return gdl_error(GDL_ERR_FORMAT, "%s: truncated .npy header (%zu bytes)", what, n);
  uint64_t hlen = major == 1 ? gdl__le16(p + 8) : gdl__le32(p + 8);
  if (hlen > MAX_HEADER)
    return gdl_error(GDL_ERR_FORMAT, "%s: .npy header length %" PRIu64 " is implausibly large",
                     what, hlen);
  *header_len = 8 + lenbytes + (size_t)hlen;
  return GDL_OK;
}

/* ---- the dict literal ---------------------------------------------------- */

typedef struct {
  const char *p, *start, *end, *what;
} cursor;

static void skip_ws(cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    c->p++;
}

static bool eat(cursor *c, char ch) {
  skip_ws(c);
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return true;
  }
  return false;
}

static gdl_status bad_header(cursor *c, const char *expected) {
  return gdl_error(GDL_ERR_FORMAT, "%s: malformed .npy header: expected %s at byte %d of the dict",
                   c->what, expected, (int)(c->p - c->start));
}

/* A quoted Python string without escapes (descr values and keys never have any). */
static gdl_status parse_str(cursor *c, char *out, size_t cap) {
  skip_ws(c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return bad_header(c, "a string");
  char q = *c->p++;
  size_t k = 0;
  while (c->p < c->end && *c->p != q) {
    if (*c->p == '\\' || k + 1 >= cap) return bad_header(c, "a short string");
    out[k++] = *c->p++;
  }
  if (c->p >= c->end) return bad_header(c, "a closing quote");
  c->p++;
  out[k] = 0;
  return GDL_OK;
}

static bool eat_word(cursor *c, const char *w) {
  skip_ws(c);
  size_t n = strlen(w);
  if ((size_t)(c->end - c->p) >= n && memcmp(c->p, w, n) == 0) {
    c->p += n;
    return true;
  }
  return false;
}

static gdl_status parse_shape(cursor *c, gdl_shape *s) {
  if (!eat(c, '(')) return bad_header(c, "'(' opening the shape");
  s->ndim = 0;
  for (;;) {
    skip_ws(c);
    if (eat(c, ')')) return GDL_OK;
    if (c->p >= c->end || *c->p < '0' || *c->p > '9') return bad_header(c, "a size in the shape");
    uint64_t v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
      uint64_t digit = (uint64_t)(*c->p++ - '0');
      if (v > ((uint64_t)INT64_MAX - digit) / 10)
        return gdl_error(GDL_ERR_FORMAT, "%s: shape overflows", c->what);
      v = v * 10 + digit;
    }
    if (c->p < c->end && *c->p == 'L') c->p++; /* Python 2 longs */
    if (s->ndim == GDL_MAX_DIMS)
      return gdl_error(GDL_ERR_UNSUPPORTED, "%s: array has more than %d axes", c->what,
                       GDL_MAX_DIMS);
    s->d[s->ndim++] = (int64_t)v;
    if (eat(c, ')')) return GDL_OK;
    if (!eat(c, ',')) return bad_header(c, "',' or ')' in the shape");
  }
}

/* Maps a descr string to a tensor dtype and how the disk bytes convert. */
static gdl_status parse_descr(const char *what, const char *d, gdl__npy_info *info) {
  char order = d[0];
  const char *t = d + (order == '<' || order == '>' || order == '|' || order == '=' ? 1 : 0);
  if (t == d) order = '=';
  char kind = t[0];
  int size = atoi(t + (kind ? 1 : 0));
  if (!kind || strlen(t) < 2 || strspn(t + 1, "0123456789") != strlen(t + 1)) size = -1;
  struct {
    char kind;
    int size;
    gdl_dtype dtype;
    gdl__conv conv;
  } map[] = {{'f', 4, GDL_F32, GDL__CONV_NONE}, {'f', 8, GDL_F64, GDL__CONV_NONE},
             {'i', 4, GDL_I32, GDL__CONV_NONE}, {'i', 8, GDL_I64, GDL__CONV_NONE},
             {'u', 1, GDL_U8, GDL__CONV_NONE},  {'b', 1, GDL_BOOL, GDL__CONV_BOOL},
             {'i', 1, GDL_I32, GDL__CONV_I8},   {'f', 2, GDL_F32, GDL__CONV_F16},
             {'c', 8, GDL_C64, GDL__CONV_NONE}, {'c', 16, GDL_C128, GDL__CONV_NONE}};
  for (size_t k = 0; k < sizeof map / sizeof *map; k++) {
    if (map[k].kind != kind || map[k].size != size) continue;
    if (order == '>' && size > 1)
      return gdl_error(GDL_ERR_UNSUPPORTED,
                       "%s: big-endian data ('%s') is not supported; save with "
                       "arr.astype('<%c%d')",
                       what, d, kind, size);
    info->dtype = map[k].dtype;
    info->conv = map[k].conv;
    info->disk_size = (size_t)size;
    return GDL_OK;
  }
  return gdl_error(GDL_ERR_UNSUPPORTED,
                   "%s: unsupported dtype '%s' (gdl reads <f4 <f8 <i4 <i8 |u1 |b1 <c8 <c16, and "
                   "widens <f2 and |i1)",
                   what, d);
}

gdl_status gdl__npy_parse_header(const char *what, const uint8_t *p, size_t n,
                                 gdl__npy_info *info) {
  memset(info, 0, sizeof *info);
  size_t hl;
  gdl_status st = prefix(what, p, n, &hl);
  if (st) return st;
  if (hl > n)
    return gdl_error(GDL_ERR_FORMAT, "%s: truncated .npy header: needs %zu bytes, have %zu", what,
                     hl, n);
  info->header_len = hl;
  const char *dict = (const char *)p + (p[6] == 1 ? 10 : 12);
  cursor c = {dict, dict, (const char *)p + hl, what};
  bool have_descr = false, have_order = false, have_shape = false, fortran = false;
  char descr[32] = "";
  if (!eat(&c, '{')) return bad_header(&c, "'{'");
  for (;;) {
    if (eat(&c, '}')) break;
    char key[32];
    if ((st = parse_str(&c, key, sizeof key))) return st;
    if (!eat(&c, ':')) return bad_header(&c, "':'");
    skip_ws(&c);
    if (strcmp(key, "descr") == 0) {
      if (c.p < c.end && (*c.p == '[' || *c.p == '('))
        return gdl_error(GDL_ERR_UNSUPPORTED,
                         "%s: structured dtypes (records) are not supported", what);
      if ((st = parse_str(&c, descr, sizeof descr))) return st;
      have_descr = true;
    } else if (strcmp(key, "fortran_order") == 0) {
      if (eat_word(&c, "True")) fortran = true;
      else if (eat_word(&c, "False")) fortran = false;
      else return bad_header(&c, "True or False");
      have_order = true;
    } else if (strcmp(key, "shape") == 0) {
      if ((st = parse_shape(&c, &info->shape))) return st;
      have_shape = true;
    } else {
      return gdl_error(GDL_ERR_FORMAT, "%s: malformed .npy header: unexpected key '%s'", what,
                       key);
    }
    if (eat(&c, '}')) break;
    if (!eat(&c, ',')) return bad_header(&c, "',' or '}'");
  }
  if (!have_descr || !have_order || !have_shape)
    return gdl_error(GDL_ERR_FORMAT, "%s: malformed .npy header: missing '%s'", what,
                     !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");
  if ((st = parse_descr(what, descr, info))) return st;
  if (fortran) {
    /* With at most one axis longer than 1 the two orders lay out the same bytes. */
    int big = 0;
    for (int k = 0; k < info->shape.ndim; k++) big += info->shape.d[k] > 1;
    if (big > 1)
      return gdl_error(GDL_ERR_UNSUPPORTED,
                       "%s: Fortran-order arrays are not supported; save with "
                       "np.ascontiguousarray",
                       what);
  }
  uint64_t numel, bytes; /* widened dtypes take more memory than disk: check that */
  if (!gdl__shape_ok(info->shape, gdl_dtype_size(info->dtype), &numel, &bytes))
    return gdl_error(GDL_ERR_FORMAT, "%s: shape overflows", what);
  info->data_len = numel * info->disk_size;
  return GDL_OK;
}

/* Turns the raw disk bytes (raw, info->data_len of them) into x's elements. */
static void convert(const gdl__npy_info *info, gdl_tensor *x, const uint8_t *raw) {
  size_t n = (size_t)gdl_tensor_numel(x);
  switch (info->conv) {
    case GDL__CONV_NONE: break;
    case GDL__CONV_BOOL: { /* any non-zero byte is True, as in numpy's astype */
      uint8_t *d = x->data;
      for (size_t i = 0; i < n; i++) d[i] = d[i] != 0;
    } break;
    case GDL__CONV_I8: {
      int32_t *d = x->data;
      for (size_t i = 0; i < n; i++) d[i] = (int8_t)raw[i];
    } break;
    case GDL__CONV_F16: gdl__widen_f16(x->data, raw, n, false); break;
  }
}

gdl_tensor *gdl__npy_read(gdl__src *s) {
  const char *what = s->what;
  uint8_t pre[GDL__NPY_PREFIX], *hdr = NULL, *raw = NULL;
  gdl_tensor *x = NULL;
  size_t got, hl;
  if (gdl__src_read(s, pre, sizeof pre, &got) || prefix(what, pre, got, &hl)) return NULL;
  size_t have = got < hl ? got : hl, extra = got - have; /* extra: data bytes already read */
  hdr = malloc(hl);
  if (!hdr) {
    gdl_error(GDL_ERR_NOMEM, "%s: out of memory", what);
    return NULL;
  }
  memcpy(hdr, pre, have);
  if (gdl__src_read(s, hdr + have, hl - have, &got)) goto fail;
  if (have + got < hl) {
    gdl_error(GDL_ERR_FORMAT, "%s: truncated .npy header: needs %zu bytes, file has %zu", what, hl,
              have + got);
    goto fail;
  }
  gdl__npy_info info;
  if (gdl__npy_parse_header(what, hdr, hl, &info)) goto fail;
  /* Check the size before allocating, so a hostile shape costs nothing. */
  uint64_t avail = s->kind == GDL__SRC_RAW ? extra + (s->in_len - s->pos)
                                           : gdl__inflate_bound(s->in_len);
  if (info.data_len > avail) {
    if (s->kind == GDL__SRC_RAW)
      gdl_error(GDL_ERR_FORMAT,
                "%s: truncated: header says %" PRIu64 " bytes of data, file has %" PRIu64, what,
                info.data_len, avail);
    else
      gdl_error(GDL_ERR_FORMAT, "%s: truncated: header says %" PRIu64
                " bytes of data, more than %zu compressed bytes can hold", what, info.data_len,
                s->in_len);
    goto fail;
  }
  x = gdl_tensor_alloc(info.dtype, info.shape);
  if (!x) goto fail;
  bool direct = info.conv == GDL__CONV_NONE || info.conv == GDL__CONV_BOOL;
  raw = direct ? x->data : malloc(info.data_len ? info.data_len : 1);
  if (!raw) {
    gdl_error(GDL_ERR_NOMEM, "%s: out of memory", what);
    goto fail;
  }
  if (extra > info.data_len) extra = (size_t)info.data_len;
  memcpy(raw, pre + have, extra);
  if (gdl__src_read(s, raw + extra, info.data_len - extra, &got)) goto fail;
  if (extra + got < info.data_len) {
    gdl_error(GDL_ERR_FORMAT, "%s: truncated: header says %" PRIu64 " bytes of data, file has %zu",
              what, info.data_len, extra + got);
    goto fail;
  }
  if (s->kind == GDL__SRC_RAW && s->pos < s->in_len) {
    gdl_error(GDL_ERR_FORMAT, "%s: header says %" PRIu64 " bytes of data, file has more (%zu extra "
              "bytes)", what, info.data_len, s->in_len - s->pos);
    goto fail;
  }
  if (gdl__src_finish(s)) goto fail;
  convert(&info, x, raw);
  if (!direct) free(raw);
  free(hdr);
  return x;
fail:
  if (raw && x && raw != x->data) free(raw);
  gdl_tensor_free(x);
  free(hdr);
  return NULL;
}

gdl_tensor *gdl_npy_load(const char *path) {
  uint8_t *buf;
  size_t n;
  if (gdl__file_read(path, &buf, &n)) return NULL;
  gdl__src s;
  gdl_tensor *x = NULL;
  if (!gdl__src_open(&s, path, GDL__SRC_RAW, buf, n)) x = gdl__npy_read(&s);
  gdl__src_close(&s);
  free(buf);
  return x;
}

/* ---- saving --------------------------------------------------------------- */

static const char *descr_of(gdl_dtype t) {
  static const char *d[GDL_DTYPE_COUNT] = {"<f4", "<f8", "<i4", "<i8", "|u1", "|b1", "<c8", "<c16"};
  return d[t];
}

size_t gdl__npy_header(const gdl_tensor *x, uint8_t *buf) {
  char shape[GDL_MAX_DIMS * 24 + 4], dict[GDL__NPY_HEADER_MAX];
  size_t w = (size_t)snprintf(shape, sizeof shape, "(");
  for (int k = 0; k < x->ndim; k++)
    w += (size_t)snprintf(shape + w, sizeof shape - w, k ? ", %lld" : "%lld",
                          (long long)x->shape[k]);
  snprintf(shape + w, sizeof shape - w, x->ndim == 1 ? ",)" : ")");
  int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                     descr_of(x->dtype), shape);
  /* numpy leaves room to grow axis 0 in place: 21 digits minus those used */
  if (x->ndim > 0) {
    int digits = snprintf(NULL, 0, "%lld", (long long)x->shape[0]);
    for (int k = digits; k < 21; k++) dict[len++] = ' ';
  }
  size_t hlen = (size_t)len + 1, pad = 64 - (10 + hlen) % 64;
  memcpy(buf, magic, 6);
  buf[6] = 1, buf[7] = 0;
  gdl__put16(buf + 8, (uint16_t)(hlen + pad));
  memcpy(buf + 10, dict, (size_t)len);
  memset(buf + 10 + len, ' ', pad);
  buf[10 + len + pad] = '\n';
  return 10 + hlen + pad;
}

gdl_status gdl_npy_save(const char *path, const gdl_tensor *x) {
  if (!x) return gdl_error(GDL_ERR_ARG, "%s: npy_save: tensor is NULL", path ? path : "(null)");
  gdl_tensor *tmp = NULL;
  if (!gdl_tensor_is_contiguous(x)) {
    if (!(tmp = gdl_tensor_clone(x))) return GDL_ERR_NOMEM;
    x = tmp;
  }
  uint8_t hdr[GDL__NPY_HEADER_MAX];
  size_t hl = gdl__npy_header(x, hdr);
  gdl__wfile w;
  gdl_status st = gdl__wfile_open(&w, path);
  if (!st) {
    gdl__wfile_write(&w, hdr, hl);
    gdl__wfile_write(&w, x->data, gdl_tensor_nbytes(x));
    st = gdl__wfile_commit(&w, true);
  }
  gdl_tensor_free(tmp);
  return st;
}
