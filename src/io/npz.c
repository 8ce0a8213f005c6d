/* NumPy .npz files: zip archives of .npy members, stored (method 0) or deflated
 * (method 8).
 *
 * Reading goes through the central directory at the end of the archive (as
 * unzip and Python's zipfile do), so data descriptors need no special handling:
 * the central directory always has the sizes and CRC. ZIP64 fields are honoured
 * wherever a 32-bit field reads 0xFFFFFFFF (np.savez forces ZIP64 local headers
 * for every member). Every offset is checked against the file size before use.
 *
 *   [local header 30 + name + extra][data] ... [central directory] [zip64 end
 *   record + locator, if needed] [end record 22 + comment] */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/internal.h"
#include "io/file.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END 0x06054b50u
#define SIG_END64 0x06064b50u
#define SIG_LOC64 0x07064b50u
#define DOS_DATE_1980 0x21 /* 1980-01-01: fixed so saves are reproducible */

/* Sizes and offsets at or above this are written as ZIP64 fields; tests lower it
 * to exercise the ZIP64 path on small files. */
uint64_t gdl__zip64_threshold = 0xFFFFFFFFu;

typedef struct {
  uint64_t csize, usize, off;
  uint32_t crc;
  uint16_t flags, method;
  const uint8_t *name;
  size_t name_len;
} member;

/* ---- reading ------------------------------------------------------------------ */

static gdl_status find_end(const char *path, const uint8_t *p, size_t n, uint64_t *count,
                           uint64_t *cd_off, uint64_t *cd_size) {
  if (n == 0) return gdl_error(GDL_ERR_FORMAT, "%s: empty file, not an .npz archive", path);
  if (n < 22)
    return gdl_error(GDL_ERR_FORMAT, "%s: not an .npz archive (%zu bytes, too short for a zip)",
                     path, n);
  /* The end record is the last 22 bytes plus a comment of up to 65535 bytes. */
  size_t lo = n - 22 > 65535 ? n - 22 - 65535 : 0, pos = n - 22 + 1;
  bool found = false;
  while (pos-- > lo) {
    if (gdl__le32(p + pos) == SIG_END && pos + 22 + gdl__le16(p + pos + 20) <= n) {
      found = true;
      break;
    }
  }
  if (!found)
    return gdl_error(GDL_ERR_FORMAT, "%s: not an .npz archive (no zip end-of-directory record)",
                     path);
  const uint8_t *e = p + pos;
  if (gdl__le16(e + 4) != 0 || gdl__le16(e + 6) != 0)
    return gdl_error(GDL_ERR_UNSUPPORTED, "%s: multi-volume zip archives are not supported", path);
  *count = gdl__le16(e + 10);
  *cd_size = gdl__le32(e + 12);
  *cd_off = gdl__le32(e + 16);
  uint64_t limit = pos; /* the directory lies before the end record(s) */
  if (pos >= 20 && gdl__le32(p + pos - 20) == SIG_LOC64) {
    uint64_t off64 = gdl__le64(p + pos - 20 + 8);
    if (off64 > pos - 20 || pos - 20 - off64 < 56 || gdl__le32(p + off64) != SIG_END64)
      return gdl_error(GDL_ERR_FORMAT, "%s: corrupt zip: bad ZIP64 end record offset %" PRIu64,
                       path, off64);
    const uint8_t *e64 = p + off64;
    if (gdl__le32(e64 + 16) != 0 || gdl__le32(e64 + 20) != 0)
      return gdl_error(GDL_ERR_UNSUPPORTED, "%s: multi-volume zip archives are not supported",
                       path);
    *count = gdl__le64(e64 + 32);
    *cd_size = gdl__le64(e64 + 40);
    *cd_off = gdl__le64(e64 + 48);
    limit = off64;
  } else if (*count == 0xFFFF || *cd_size == 0xFFFFFFFFu || *cd_off == 0xFFFFFFFFu) {
    return gdl_error(GDL_ERR_FORMAT, "%s: corrupt zip: ZIP64 end record missing", path);
  }
  if (*cd_off > limit || *cd_size > limit - *cd_off)
    return gdl_error(GDL_ERR_FORMAT,
                     "%s: corrupt zip: central directory [%" PRIu64 ", +%" PRIu64
                     ") lies outside the file (%zu bytes)",
                     path, *cd_off, *cd_size, n);
  return GDL_OK;
}

/* Replaces 0xFFFFFFFF fields by their ZIP64 extra values (id 0x0001, present in
 * the order usize, csize, offset, only for fields that overflowed). */
static gdl_status read_zip64_extra(const char *path, const uint8_t *x, size_t n, member *m) {
  bool need_u = m->usize == 0xFFFFFFFFu, need_c = m->csize == 0xFFFFFFFFu,
       need_o = m->off == 0xFFFFFFFFu;
  while (n >= 4) {
    uint16_t id = gdl__le16(x), len = gdl__le16(x + 2);
    if ((size_t)len > n - 4) break;
    if (id == 0x0001) {
      const uint8_t *q = x + 4;
      size_t left = len;
      uint64_t *fields[3] = {need_u ? &m->usize : NULL, need_c ? &m->csize : NULL,
                             need_o ? &m->off : NULL};
      for (int k = 0; k < 3; k++) {
        if (!fields[k]) continue;
        if (left < 8) return gdl_error(GDL_ERR_FORMAT, "%s: corrupt zip: short ZIP64 field", path);
        *fields[k] = gdl__le64(q);
        q += 8, left -= 8;
      }
      return GDL_OK;
    }
    x += 4 + len, n -= 4 + (size_t)len;
  }
  if (need_u || need_c || need_o)
    return gdl_error(GDL_ERR_FORMAT, "%s: corrupt zip: sizes say ZIP64 but no ZIP64 field", path);
  return GDL_OK;
}

static gdl_tensor *read_member(const char *path, const uint8_t *p, size_t n, const member *m,
                               const char *what) {
  if (m->flags & 1) {
    gdl_error(GDL_ERR_UNSUPPORTED, "%s: encrypted zip members are not supported", what);
    return NULL;
  }
  if (m->method != 0 && m->method != 8) {
    gdl_error(GDL_ERR_UNSUPPORTED,
              "%s: zip compression method %d is not supported (only stored and deflated)", what,
              m->method);
    return NULL;
  }
  if (m->off > n || n - m->off < 30 || gdl__le32(p + m->off) != SIG_LOCAL) {
    gdl_error(GDL_ERR_FORMAT, "%s: corrupt zip: no local header at offset %" PRIu64, what, m->off);
    return NULL;
  }
  /* The local name and extra lengths may differ from the central ones. */
  uint64_t data = m->off + 30 + gdl__le16(p + m->off + 26) + gdl__le16(p + m->off + 28);
  if (data > n || m->csize > n - data) {
    gdl_error(GDL_ERR_FORMAT,
              "%s: truncated: member data [%" PRIu64 ", +%" PRIu64 ") runs past the end of the "
              "file (%zu bytes)",
              what, data, m->csize, n);
    return NULL;
  }
  if (m->method == 0 && m->csize != m->usize) {
    gdl_error(GDL_ERR_FORMAT, "%s: corrupt zip: stored member has sizes %" PRIu64 " and %" PRIu64,
              what, m->csize, m->usize);
    return NULL;
  }
  gdl__src s;
  if (gdl__src_open(&s, what, m->method == 0 ? GDL__SRC_RAW : GDL__SRC_DEFLATE, p + data,
                    (size_t)m->csize))
    return NULL;
  s.want_crc = true;
  gdl_tensor *x = gdl__npy_read(&s);
  gdl__src_close(&s);
  if (x && s.out != m->usize) {
    gdl_error(GDL_ERR_FORMAT,
              "%s: corrupt zip: member holds %" PRIu64 " bytes, directory says %" PRIu64, what,
              s.out, m->usize);
    gdl_tensor_free(x);
    return NULL;
  }
  if (x && s.crc != m->crc) {
    gdl_error(GDL_ERR_FORMAT, "%s: CRC mismatch (directory %08x, data %08x): the file is corrupt",
              what, m->crc, s.crc);
    gdl_tensor_free(x);
    return NULL;
  }
  return x;
}

gdl_arrays *gdl_npz_load(const char *path) {
  uint8_t *p;
  size_t n;
  if (gdl__file_read(path, &p, &n)) return NULL;
  gdl_arrays *a = NULL;
  char *what = NULL, *name = NULL;
  uint64_t count = 0, cd_off = 0, cd_size = 0;
  if (find_end(path, p, n, &count, &cd_off, &cd_size)) goto fail;
  if (!(a = gdl_arrays_new())) goto fail;
  const uint8_t *c = p + cd_off, *cend = c + cd_size;
  for (uint64_t i = 0; i < count; i++) {
    if (cend - c < 46 || gdl__le32(c) != SIG_CENTRAL) {
      gdl_error(GDL_ERR_FORMAT, "%s: corrupt zip: central directory entry %" PRIu64 " of %" PRIu64
                " is missing or damaged", path, i, count);
      goto fail;
    }
    size_t nl = gdl__le16(c + 28), xl = gdl__le16(c + 30), cl = gdl__le16(c + 32);
    if ((size_t)(cend - c) < 46 + nl + xl + cl) {
      gdl_error(GDL_ERR_FORMAT, "%s: corrupt zip: central directory entry %" PRIu64
                " runs past the directory", path, i);
      goto fail;
    }
    member m = {.flags = gdl__le16(c + 8), .method = gdl__le16(c + 10), .crc = gdl__le32(c + 16),
                .csize = gdl__le32(c + 20), .usize = gdl__le32(c + 24), .off = gdl__le32(c + 42),
                .name = c + 46, .name_len = nl};
    if (read_zip64_extra(path, c + 46 + nl, xl, &m)) goto fail;
    c += 46 + nl + xl + cl;
    if (nl > 0 && m.name[nl - 1] == '/') continue; /* a folder entry */
    free(what);
    free(name);
    what = malloc(strlen(path) + nl + 3);
    name = malloc(nl + 1);
    if (!what || !name) {
      gdl_error(GDL_ERR_NOMEM, "%s: out of memory", path);
      goto fail;
    }
    memcpy(name, m.name, nl);
    name[nl] = 0;
    sprintf(what, "%s: %s", path, name);
    size_t len = strlen(name); /* stops at a NUL inside a hostile name */
    if (len < 4 || strcmp(name + len - 4, ".npy") != 0) {
      gdl_error(GDL_ERR_FORMAT, "%s: member is not a .npy array", what);
      goto fail;
    }
    name[len - 4] = 0;
    gdl_tensor *x = read_member(path, p, n, &m, what);
    if (!x || gdl_arrays_put(a, name, x, true)) goto fail;
  }
  free(what);
  free(name);
  free(p);
  return a;
fail:
  gdl_arrays_free(a);
  free(what);
  free(name);
  free(p);
  return NULL;
}

/* ---- writing ------------------------------------------------------------------ */

typedef struct {
  uint64_t csize, usize, off;
  uint32_t crc;
  uint16_t flags, method;
  bool zip64; /* the local header carries a ZIP64 field */
} written;

static uint32_t field32(uint64_t v) {
  return v >= gdl__zip64_threshold ? 0xFFFFFFFFu : (uint32_t)v;
}

/* Streams header + data through deflate into w; *csize gets the output length. */
static gdl_status deflate_member(gdl__wfile *w, const uint8_t *hdr, size_t hl, const uint8_t *data,
                                 size_t nbytes, uint64_t *csize) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return gdl_error(GDL_ERR_NOMEM, "%s: cannot start zlib", w->path);
  size_t cap = 1 << 18;
  uint8_t *out = malloc(cap);
  if (!out) {
    deflateEnd(&zs);
    return gdl_error(GDL_ERR_NOMEM, "%s: out of memory", w->path);
  }
  const uint8_t *src[2] = {hdr, data};
  size_t len[2] = {hl, nbytes};
  gdl_status st = GDL_OK;
  *csize = 0;
  for (int part = 0; part < 2 && !st; part++) {
    const uint8_t *q = src[part];
    size_t left = len[part];
    int flush;
    do {
      uInt chunk = left > (1u << 30) ? 1u << 30 : (uInt)left;
      zs.next_in = (Bytef *)q;
      zs.avail_in = chunk;
      q += chunk, left -= chunk;
      flush = part == 1 && left == 0 ? Z_FINISH : Z_NO_FLUSH;
      int r;
      do {
        zs.next_out = out;
        zs.avail_out = (uInt)cap;
        r = deflate(&zs, flush);
        size_t made = cap - zs.avail_out;
        *csize += made;
        if ((st = gdl__wfile_write(w, out, made))) break;
      } while (zs.avail_out == 0 || (flush == Z_FINISH && r != Z_STREAM_END));
    } while (left > 0 && !st);
  }
  deflateEnd(&zs);
  free(out);
  return st;
}

static gdl_status write_member(gdl__wfile *w, const char *name, const gdl_tensor *x, bool compress,
                               written *m) {
  size_t nl = strlen(name) + 4;
  if (nl > 0xFFFF)
    return gdl_error(GDL_ERR_ARG, "%s: array name too long for a zip member (%zu bytes)", w->path,
                     nl);
  uint8_t hdr[GDL__NPY_HEADER_MAX];
  size_t hl = gdl__npy_header(x, hdr), nbytes = gdl_tensor_nbytes(x);
  const uint8_t *data = x->data;
  memset(m, 0, sizeof *m);
  m->usize = hl + nbytes;
  m->off = w->pos;
  m->method = compress ? 8 : 0;
  m->crc = gdl__crc32(gdl__crc32(0, hdr, hl), data, nbytes);
  /* Deflate can grow incompressible data slightly: decide on ZIP64 from a bound. */
  uint64_t bound = compress ? m->usize + m->usize / 1000 + 1024 : m->usize;
  m->zip64 = bound >= gdl__zip64_threshold;
  for (size_t k = 0; name[k]; k++)
    if ((unsigned char)name[k] >= 0x80) m->flags = 1 << 11; /* names are UTF-8 */
  uint8_t lh[30 + 20], *q = lh;
  q = gdl__put32(q, SIG_LOCAL);
  q = gdl__put16(q, m->zip64 ? 45 : 20);
  q = gdl__put16(q, m->flags);
  q = gdl__put16(q, m->method);
  q = gdl__put16(q, 0);
  q = gdl__put16(q, DOS_DATE_1980);
  q = gdl__put32(q, m->crc);
  q = gdl__put32(q, m->zip64 ? 0xFFFFFFFFu : 0); /* csize, patched below */
  q = gdl__put32(q, m->zip64 ? 0xFFFFFFFFu : (uint32_t)m->usize);
  q = gdl__put16(q, (uint16_t)nl);
  q = gdl__put16(q, m->zip64 ? 20 : 0);
  gdl__wfile_write(w, lh, 30);
  gdl__wfile_write(w, name, nl - 4);
  gdl__wfile_write(w, ".npy", 4);
  uint8_t x64[20];
  if (m->zip64) {
    q = gdl__put16(x64, 0x0001);
    q = gdl__put16(q, 16);
    q = gdl__put64(q, m->usize);
    q = gdl__put64(q, 0); /* csize, patched below */
    gdl__wfile_write(w, x64, 20);
  }
  gdl_status st;
  if (compress) {
    st = deflate_member(w, hdr, hl, data, nbytes, &m->csize);
  } else {
    gdl__wfile_write(w, hdr, hl);
    st = gdl__wfile_write(w, data, nbytes);
    m->csize = m->usize;
  }
  if (st) return st;
  uint8_t c[8];
  if (m->zip64) {
    gdl__put64(c, m->csize);
    return gdl__wfile_pwrite(w, c, 8, m->off + 30 + nl + 12);
  }
  gdl__put32(c, (uint32_t)m->csize);
  return gdl__wfile_pwrite(w, c, 4, m->off + 18);
}

static void write_central(gdl__wfile *w, const char *name, const written *m) {
  uint8_t b[46 + 28], *q = b, *x = b + 46, *xq = x + 4;
  uint32_t cs = field32(m->csize), us = field32(m->usize), off = field32(m->off);
  if (us == 0xFFFFFFFFu) xq = gdl__put64(xq, m->usize);
  if (cs == 0xFFFFFFFFu) xq = gdl__put64(xq, m->csize);
  if (off == 0xFFFFFFFFu) xq = gdl__put64(xq, m->off);
  size_t xl = xq == x + 4 ? 0 : (size_t)(xq - x);
  gdl__put16(x, 0x0001);
  gdl__put16(x + 2, (uint16_t)(xl - 4));
  bool z64 = xl > 0 || m->zip64;
  q = gdl__put32(q, SIG_CENTRAL);
  q = gdl__put16(q, 3 << 8 | 45); /* made by: Unix, zip 4.5 */
  q = gdl__put16(q, z64 ? 45 : 20);
  q = gdl__put16(q, m->flags);
  q = gdl__put16(q, m->method);
  q = gdl__put16(q, 0);
  q = gdl__put16(q, DOS_DATE_1980);
  q = gdl__put32(q, m->crc);
  q = gdl__put32(q, cs);
  q = gdl__put32(q, us);
  q = gdl__put16(q, (uint16_t)(strlen(name) + 4));
  q = gdl__put16(q, (uint16_t)xl);
  q = gdl__put16(q, 0); /* comment */
  q = gdl__put16(q, 0); /* disk */
  q = gdl__put16(q, 0); /* internal attributes */
  q = gdl__put32(q, 0644u << 16);
  q = gdl__put32(q, off);
  gdl__wfile_write(w, b, 46);
  gdl__wfile_write(w, name, strlen(name));
  gdl__wfile_write(w, ".npy", 4);
  gdl__wfile_write(w, x, xl);
}

static void write_end(gdl__wfile *w, uint64_t count, uint64_t cd_off, uint64_t cd_size) {
  uint8_t b[56 + 20 + 22], *q = b;
  bool z64 = count >= 0xFFFF || field32(cd_off) == 0xFFFFFFFFu ||
             field32(cd_size) == 0xFFFFFFFFu;
  if (z64) {
    uint64_t off64 = w->pos;
    q = gdl__put32(q, SIG_END64);
    q = gdl__put64(q, 44); /* size of the rest of this record */
    q = gdl__put16(q, 3 << 8 | 45);
    q = gdl__put16(q, 45);
    q = gdl__put32(q, 0);
    q = gdl__put32(q, 0);
    q = gdl__put64(q, count);
    q = gdl__put64(q, count);
    q = gdl__put64(q, cd_size);
    q = gdl__put64(q, cd_off);
    q = gdl__put32(q, SIG_LOC64);
    q = gdl__put32(q, 0);
    q = gdl__put64(q, off64);
    q = gdl__put32(q, 1);
  }
  uint16_t c16 = count >= 0xFFFF ? 0xFFFF : (uint16_t)count;
  q = gdl__put32(q, SIG_END);
  q = gdl__put16(q, 0);
  q = gdl__put16(q, 0);
  q = gdl__put16(q, c16);
  q = gdl__put16(q, c16);
  q = gdl__put32(q, z64 ? 0xFFFFFFFFu : (uint32_t)cd_size);
  q = gdl__put32(q, z64 ? 0xFFFFFFFFu : (uint32_t)cd_off);
  q = gdl__put16(q, 0);
  gdl__wfile_write(w, b, (size_t)(q - b));
}

gdl_status gdl_npz_save(const char *path, const gdl_arrays *a, bool compress) {
  if (!a) return gdl_error(GDL_ERR_ARG, "%s: npz_save: the set is NULL", path ? path : "(null)");
  int n = gdl_arrays_count(a);
  written *m = calloc((size_t)n + 1, sizeof *m);
  if (!m) return gdl_error(GDL_ERR_NOMEM, "%s: out of memory", path);
  gdl__wfile w;
  gdl_status st = gdl__wfile_open(&w, path);
  for (int i = 0; i < n && !st; i++) {
    const gdl_tensor *x = gdl_arrays_at(a, i);
    gdl_tensor *tmp = NULL;
    if (!gdl_tensor_is_contiguous(x) && !(x = tmp = gdl_tensor_clone(x))) {
      st = GDL_ERR_NOMEM;
      break;
    }
    st = write_member(&w, gdl_arrays_name(a, i), x, compress, &m[i]);
    gdl_tensor_free(tmp);
  }
  if (!st) {
    uint64_t cd_off = w.pos;
    for (int i = 0; i < n; i++) write_central(&w, gdl_arrays_name(a, i), &m[i]);
    write_end(&w, (uint64_t)n, cd_off, w.pos - cd_off);
    st = gdl__wfile_commit(&w, true);
  } else {
    gdl__wfile_abort(&w);
  }
  free(m);
  return st;
}
