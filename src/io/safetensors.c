/* safetensors files:
 *
 *   u64 LE n | n bytes of JSON | data
 *   {"__metadata__": {"k": "v"}, "w": {"dtype": "F32", "shape": [2, 3],
 *    "data_offsets": [0, 24]}, ...}
 *
 * Offsets are relative to the start of the data. As in the reference reader,
 * the tensors must tile the data exactly: sorted by offset, each starts where
 * the previous one ends, the last ends at the end of the file, and each spans
 * dtype size * numel bytes. We parse with cJSON and write the JSON by hand so the
 * integers never pass through a double's printf. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "core/internal.h"
#include "io/file.h"

#define MAX_HEADER ((uint64_t)100 << 20) /* the reference reader's limit */

typedef enum { ST_F32, ST_F64, ST_I32, ST_I64, ST_U8, ST_BOOL, ST_F16, ST_BF16, ST_COUNT } st_type;

static const struct {
  const char *name;
  size_t size;
  gdl_dtype dtype;
} st_types[ST_COUNT] = {
    {"F32", 4, GDL_F32}, {"F64", 8, GDL_F64}, {"I32", 4, GDL_I32},  {"I64", 8, GDL_I64},
    {"U8", 1, GDL_U8},   {"BOOL", 1, GDL_BOOL}, {"F16", 2, GDL_F32}, {"BF16", 2, GDL_F32}};

typedef struct {
  const char *name;
  st_type type;
  gdl_shape shape;
  uint64_t begin, end;
} entry;

/* A JSON number that is a non-negative integer a double holds exactly. */
static bool json_u64(const cJSON *j, uint64_t *v) {
  if (!cJSON_IsNumber(j)) return false;
  double d = j->valuedouble;
  if (!(d >= 0 && d <= 9007199254740992.0) || d != floor(d)) return false;
  *v = (uint64_t)d;
  return true;
}

static gdl_status parse_entry(const char *path, const cJSON *j, entry *e) {
  const char *name = j->string;
  e->name = name;
  if (!cJSON_IsObject(j))
    return gdl_error(GDL_ERR_FORMAT, "%s: tensor '%s': expected an object", path, name);
  const cJSON *dt = cJSON_GetObjectItemCaseSensitive(j, "dtype");
  const cJSON *sh = cJSON_GetObjectItemCaseSensitive(j, "shape");
  const cJSON *of = cJSON_GetObjectItemCaseSensitive(j, "data_offsets");
  if (!cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(of))
    return gdl_error(GDL_ERR_FORMAT, "%s: tensor '%s': needs \"dtype\", \"shape\" and "
                     "\"data_offsets\"", path, name);
  int t = 0;
  while (t < ST_COUNT && strcmp(st_types[t].name, dt->valuestring) != 0) t++;
  if (t == ST_COUNT)
    return gdl_error(GDL_ERR_UNSUPPORTED,
                     "%s: tensor '%s': unsupported dtype '%s' (gdl reads F32 F64 I32 I64 U8 BOOL, "
                     "and F16 BF16 widened to F32)",
                     path, name, dt->valuestring);
  e->type = (st_type)t;
  int nd = cJSON_GetArraySize(sh);
  if (nd > GDL_MAX_DIMS)
    return gdl_error(GDL_ERR_UNSUPPORTED, "%s: tensor '%s' has %d axes, gdl supports at most %d",
                     path, name, nd, GDL_MAX_DIMS);
  e->shape.ndim = nd;
  uint64_t numel, bytes, v;
  int k = 0;
  for (const cJSON *d = sh->child; d; d = d->next, k++) {
    if (!json_u64(d, &v))
      return gdl_error(GDL_ERR_FORMAT, "%s: tensor '%s': bad shape", path, name);
    e->shape.d[k] = (int64_t)v;
  }
  /* widened F16/BF16 take 4 bytes an element in memory: check that size */
  if (!gdl__shape_ok(e->shape, gdl_dtype_size(st_types[t].dtype), &numel, &bytes))
    return gdl_error(GDL_ERR_FORMAT, "%s: tensor '%s': shape overflows", path, name);
  bytes = numel * st_types[t].size;
  if (cJSON_GetArraySize(of) != 2 || !json_u64(of->child, &e->begin) ||
      !json_u64(of->child->next, &e->end) || e->end < e->begin)
    return gdl_error(GDL_ERR_FORMAT, "%s: tensor '%s': bad data_offsets", path, name);
  if (e->end - e->begin != bytes) {
    char sb[160];
    return gdl_error(GDL_ERR_FORMAT,
                     "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] span %" PRIu64
                     " bytes, but %s %s needs %" PRIu64,
                     path, name, e->begin, e->end, e->end - e->begin, st_types[t].name,
                     gdl_shape_str(e->shape, sb, sizeof sb), bytes);
  }
  return GDL_OK;
}

static int by_offset(const void *a, const void *b) {
  const entry *x = *(const entry *const *)a, *y = *(const entry *const *)b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  return x->end < y->end ? -1 : x->end > y->end;
}

/* The tensors must tile [0, dlen) exactly. */
static gdl_status check_layout(const char *path, entry *e, int n, uint64_t dlen) {
  entry **s = malloc(((size_t)n + 1) * sizeof *s);
  if (!s) return gdl_error(GDL_ERR_NOMEM, "%s: out of memory", path);
  for (int i = 0; i < n; i++) s[i] = &e[i];
  qsort(s, (size_t)n, sizeof *s, by_offset);
  uint64_t at = 0;
  gdl_status st = GDL_OK;
  for (int i = 0; i < n && !st; i++) {
    if (s[i]->end > dlen)
      st = gdl_error(GDL_ERR_FORMAT,
                     "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64
                     "] run past the end of the data (%" PRIu64 " bytes; truncated file?)",
                     path, s[i]->name, s[i]->begin, s[i]->end, dlen);
    else if (s[i]->begin < at)
      st = gdl_error(GDL_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap", path, s[i - 1]->name,
                     s[i]->name);
    else if (s[i]->begin > at)
      st = gdl_error(GDL_ERR_FORMAT, "%s: %" PRIu64 " unused bytes before tensor '%s'", path,
                     s[i]->begin - at, s[i]->name);
    at = s[i]->end;
  }
  if (!st && at != dlen)
    st = gdl_error(GDL_ERR_FORMAT, "%s: %" PRIu64 " bytes after the last tensor's data", path,
                   dlen - at);
  free(s);
  return st;
}

gdl_arrays *gdl_safetensors_load(const char *path) {
  uint8_t *p;
  size_t n;
  if (gdl__file_read(path, &p, &n)) return NULL;
  gdl_arrays *a = NULL;
  cJSON *root = NULL;
  entry *e = NULL;
  char *json = NULL;
  if (n < 8) {
    gdl_error(GDL_ERR_FORMAT, n ? "%s: truncated: %zu bytes, too short for a safetensors header"
                                : "%s: empty file, not a safetensors file",
              path, n);
    goto fail;
  }
  uint64_t hl = gdl__le64(p);
  if (hl > n - 8) {
    gdl_error(GDL_ERR_FORMAT, "%s: header length %" PRIu64 " larger than the file (%zu bytes)",
              path, hl, n);
    goto fail;
  }
  if (hl > MAX_HEADER) {
    gdl_error(GDL_ERR_FORMAT, "%s: header length %" PRIu64 " is implausibly large", path, hl);
    goto fail;
  }
  /* A NUL-terminated copy: cJSON never needs to be trusted to stop at hl. */
  if (!(json = malloc((size_t)hl + 1))) {
    gdl_error(GDL_ERR_NOMEM, "%s: out of memory", path);
    goto fail;
  }
  memcpy(json, p + 8, (size_t)hl);
  json[hl] = 0;
  const char *end = NULL;
  root = cJSON_ParseWithLengthOpts(json, (size_t)hl, &end, false);
  if (!root || !cJSON_IsObject(root)) {
    gdl_error(GDL_ERR_FORMAT, "%s: header is not a JSON object%s", path,
              !root ? " (JSON syntax error)" : "");
    goto fail;
  }
  for (; end && end < json + hl; end++) /* padding after the object */
    if (*end != ' ' && *end != '\n' && *end != '\t' && *end != '\r' && *end != 0) {
      gdl_error(GDL_ERR_FORMAT, "%s: junk after the JSON header", path);
      goto fail;
    }
  if (!(a = gdl_arrays_new())) goto fail;
  int cap = cJSON_GetArraySize(root), ne = 0;
  e = calloc((size_t)cap + 1, sizeof *e);
  if (!e) {
    gdl_error(GDL_ERR_NOMEM, "%s: out of memory", path);
    goto fail;
  }
  for (const cJSON *j = root->child; j; j = j->next) {
    if (strcmp(j->string, "__metadata__") == 0) {
      if (!cJSON_IsObject(j) && !cJSON_IsNull(j)) {
        gdl_error(GDL_ERR_FORMAT, "%s: __metadata__ is not an object", path);
        goto fail;
      }
      for (const cJSON *m = j->child; m; m = m->next) {
        if (!cJSON_IsString(m)) {
          gdl_error(GDL_ERR_FORMAT, "%s: __metadata__ value of '%s' is not a string", path,
                    m->string);
          goto fail;
        }
        if (gdl_arrays_set_meta(a, m->string, m->valuestring)) goto fail;
      }
      continue;
    }
    for (int i = 0; i < ne; i++)
      if (strcmp(e[i].name, j->string) == 0) {
        gdl_error(GDL_ERR_FORMAT, "%s: tensor '%s' appears twice", path, j->string);
        goto fail;
      }
    if (parse_entry(path, j, &e[ne])) goto fail;
    ne++;
  }
  const uint8_t *data = p + 8 + hl;
  if (check_layout(path, e, ne, (uint64_t)(n - 8 - hl))) goto fail;
  for (int i = 0; i < ne; i++) {
    gdl_tensor *x = gdl_tensor_alloc(st_types[e[i].type].dtype, e[i].shape);
    if (!x) goto fail;
    const uint8_t *src = data + e[i].begin;
    size_t bytes = (size_t)(e[i].end - e[i].begin), numel = (size_t)gdl_tensor_numel(x);
    if (e[i].type == ST_F16 || e[i].type == ST_BF16) {
      gdl__widen_f16(x->data, src, numel, e[i].type == ST_BF16);
    } else {
      memcpy(x->data, src, bytes);
      if (e[i].type == ST_BOOL) {
        uint8_t *b = x->data;
        for (size_t k = 0; k < numel; k++) b[k] = b[k] != 0;
      }
    }
    if (gdl_arrays_put(a, e[i].name, x, true)) goto fail;
  }
  free(e);
  free(json);
  cJSON_Delete(root);
  free(p);
  return a;
fail:
  free(e);
  free(json);
  cJSON_Delete(root);
  gdl_arrays_free(a);
  free(p);
  return NULL;
}

/* ---- saving --------------------------------------------------------------- */

typedef struct {
  char *s;
  size_t n, cap;
  bool oom;
} sbuf;

static void put(sbuf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->n + n + 1 > b->cap) {
    size_t nc = b->cap ? b->cap : 256;
    while (nc < b->n + n + 1) nc *= 2;
    char *q = realloc(b->s, nc);
    if (!q) {
      b->oom = true;
      return;
    }
    b->s = q, b->cap = nc;
  }
  memcpy(b->s + b->n, s, n);
  b->n += n;
}

static void puts_(sbuf *b, const char *s) { put(b, s, strlen(s)); }

/* A JSON string literal: quotes, backslashes and control bytes escaped. */
static void put_json_str(sbuf *b, const char *s) {
  put(b, "\"", 1);
  for (const char *q = s; *q; q++) {
    unsigned char c = (unsigned char)*q;
    if (c == '"' || c == '\\') {
      char t[2] = {'\\', (char)c};
      put(b, t, 2);
    } else if (c < 0x20) {
      char t[8];
      snprintf(t, sizeof t, "\\u%04x", c);
      put(b, t, 6);
    } else {
      put(b, q, 1);
    }
  }
  put(b, "\"", 1);
}

static const char *st_name(gdl_dtype t) {
  static const char *names[GDL_DTYPE_COUNT] = {"F32", "F64", "I32", "I64", "U8", "BOOL"};
  return names[t];
}

gdl_status gdl_safetensors_save(const char *path, const gdl_arrays *a) {
  if (!a)
    return gdl_error(GDL_ERR_ARG, "%s: safetensors_save: the set is NULL", path ? path : "(null)");
  int n = gdl_arrays_count(a), nm = gdl__arrays_meta_count(a);
  sbuf b = {0};
  char num[64];
  puts_(&b, "{");
  if (nm) {
    puts_(&b, "\"__metadata__\":{");
    for (int i = 0; i < nm; i++) {
      const char *k, *v;
      gdl__arrays_meta_at(a, i, &k, &v);
      if (i) puts_(&b, ",");
      put_json_str(&b, k);
      puts_(&b, ":");
      put_json_str(&b, v);
    }
    puts_(&b, n ? "}," : "}");
  }
  uint64_t off = 0;
  for (int i = 0; i < n; i++) {
    const char *name = gdl_arrays_name(a, i);
    const gdl_tensor *x = gdl_arrays_at(a, i);
    if (strcmp(name, "__metadata__") == 0) {
      free(b.s);
      return gdl_error(GDL_ERR_ARG, "%s: '__metadata__' is reserved, not a tensor name", path);
    }
    if (x->dtype == GDL_C64 || x->dtype == GDL_C128) {
      free(b.s);
      return gdl_error(GDL_ERR_UNSUPPORTED,
                       "%s: tensor '%s' is %s: safetensors has no complex dtype; save it as .npy/.npz "
                       "or as a float tensor with a trailing axis of 2",
                       path, name, gdl_dtype_name(x->dtype));
    }
    if (i) puts_(&b, ",");
    put_json_str(&b, name);
    puts_(&b, ":{\"dtype\":\"");
    puts_(&b, st_name(x->dtype));
    puts_(&b, "\",\"shape\":[");
    for (int k = 0; k < x->ndim; k++) {
      snprintf(num, sizeof num, k ? ",%lld" : "%lld", (long long)x->shape[k]);
      puts_(&b, num);
    }
    uint64_t nb = gdl_tensor_nbytes(x);
    snprintf(num, sizeof num, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", off, off + nb);
    puts_(&b, num);
    off += nb;
  }
  puts_(&b, "}");
  while (b.n % 8) puts_(&b, " "); /* so the data starts 8-byte aligned */
  if (b.oom) {
    free(b.s);
    return gdl_error(GDL_ERR_NOMEM, "%s: out of memory", path);
  }
  uint8_t len[8];
  gdl__put64(len, b.n);
  gdl__wfile w;
  gdl_status st = gdl__wfile_open(&w, path);
  if (!st) {
    gdl__wfile_write(&w, len, 8);
    gdl__wfile_write(&w, b.s, b.n);
    for (int i = 0; i < n && !w.err; i++) {
      const gdl_tensor *x = gdl_arrays_at(a, i);
      gdl_tensor *tmp = NULL;
      if (!gdl_tensor_is_contiguous(x) && !(x = tmp = gdl_tensor_clone(x))) {
        gdl__wfile_abort(&w);
        free(b.s);
        return GDL_ERR_NOMEM;
      }
      gdl__wfile_write(&w, x->data, gdl_tensor_nbytes(x));
      gdl_tensor_free(tmp);
    }
    st = gdl__wfile_commit(&w, true);
  }
  free(b.s);
  return st;
}
