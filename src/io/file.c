/* Whole-file reads, atomic writes and byte sources over memory or zlib streams. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/file.h"

/* ---- whole-file reads ----------------------------------------------------- */

/* hint: the size stat reported for a regular file (read exactly that much), or 0
 * for pipes and devices (grow until end of file). */
static gdl_status read_fd(int fd, const char *path, uint8_t **data, size_t *size, size_t hint) {
  bool grow = hint == 0;
  size_t cap = grow ? 65536 : hint + 1, len = 0;
  uint8_t *buf = malloc(cap);
  if (!buf) return gdl_error(GDL_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, hint);
  for (;;) {
    if (len + 1 == cap) {
      if (!grow) break;
      uint8_t *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        return gdl_error(GDL_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, cap * 2);
      }
      buf = nb, cap *= 2;
    }
    size_t want = cap - 1 - len;
    if (want > (size_t)1 << 30) want = (size_t)1 << 30;
    ssize_t r = read(fd, buf + len, want);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      free(buf);
      return gdl_error(GDL_ERR_IO, "%s: read failed: %s", path, strerror(e));
    }
    if (r == 0) break;
    len += (size_t)r;
  }
  buf[len] = 0;
  *data = buf;
  *size = len;
  return GDL_OK;
}

gdl_status gdl__file_read(const char *path, uint8_t **data, size_t *size) {
  *data = NULL;
  *size = 0;
  if (!path) return gdl_error(GDL_ERR_ARG, "file path is NULL");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return gdl_error(GDL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return gdl_error(GDL_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    return gdl_error(GDL_ERR_IO, "%s: is a directory, not a file", path);
  }
  gdl_status s = read_fd(fd, path, data, size, S_ISREG(st.st_mode) ? (size_t)st.st_size : 0);
  close(fd);
  return s;
}

/* ---- atomic writes ------------------------------------------------------- */

static atomic_uint tmp_counter;

gdl_status gdl__wfile_open(gdl__wfile *w, const char *path) {
  memset(w, 0, sizeof *w);
  w->fd = -1;
  if (!path || !*path) return w->err = gdl_error(GDL_ERR_ARG, "save: empty file path");
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    return w->err = gdl_error(GDL_ERR_IO, "%s: is a directory, cannot write a file there", path);
  size_t n = strlen(path);
  w->path = malloc(n + 1);
  w->tmp = malloc(n + 48);
  if (!w->path || !w->tmp) {
    gdl__wfile_abort(w);
    return w->err = gdl_error(GDL_ERR_NOMEM, "%s: out of memory", path);
  }
  memcpy(w->path, path, n + 1);
  /* O_EXCL on a fresh name: never clobbers another writer's temporary, and mode
   * 0666 lets the umask decide the permissions as for any new file. */
  for (int tries = 0; tries < 64; tries++) {
    snprintf(w->tmp, n + 48, "%s.tmp-%ld-%u", path, (long)getpid(),
             atomic_fetch_add(&tmp_counter, 1));
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (w->fd >= 0) return GDL_OK;
    if (errno != EEXIST) break;
  }
  int e = errno;
  free(w->tmp);
  w->tmp = NULL; /* nothing was created: abort must not unlink */
  gdl__wfile_abort(w);
  return w->err = gdl_error(GDL_ERR_IO, "%s: cannot create a file there: %s", path, strerror(e));
}

static gdl_status wfile_fail(gdl__wfile *w, const char *what, int e) {
  if (!w->err) w->err = gdl_error(GDL_ERR_IO, "%s: %s: %s", w->path, what, strerror(e));
  return w->err;
}

gdl_status gdl__wfile_write(gdl__wfile *w, const void *p, size_t n) {
  if (w->err) return w->err;
  const uint8_t *b = p;
  while (n) {
    ssize_t r = write(w->fd, b, n > (size_t)1 << 30 ? (size_t)1 << 30 : n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return wfile_fail(w, "write failed", errno);
    b += r, n -= (size_t)r, w->pos += (uint64_t)r;
  }
  return GDL_OK;
}

gdl_status gdl__wfile_pwrite(gdl__wfile *w, const void *p, size_t n, uint64_t off) {
  if (w->err) return w->err;
  const uint8_t *b = p;
  while (n) {
    ssize_t r = pwrite(w->fd, b, n, (off_t)off);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return wfile_fail(w, "write failed", errno);
    b += r, n -= (size_t)r, off += (uint64_t)r;
  }
  return GDL_OK;
}

void gdl__wfile_abort(gdl__wfile *w) {
  if (w->fd >= 0) close(w->fd);
  if (w->tmp) unlink(w->tmp);
  free(w->tmp);
  free(w->path);
  w->fd = -1;
  w->tmp = w->path = NULL;
}

gdl_status gdl__wfile_commit(gdl__wfile *w, bool sync) {
  if (!w->err && sync && fsync(w->fd) != 0) wfile_fail(w, "fsync failed", errno);
  if (w->fd >= 0) {
    int r = close(w->fd);
    w->fd = -1;
    if (r != 0) wfile_fail(w, "close failed", errno);
  }
  if (!w->err && rename(w->tmp, w->path) != 0) wfile_fail(w, "cannot replace", errno);
  if (w->err) {
    gdl_status s = w->err;
    gdl__wfile_abort(w);
    return s;
  }
  if (sync) { /* make the rename itself durable */
    char *slash = strrchr(w->path, '/');
    const char *dir = ".";
    if (slash == w->path) dir = "/";
    else if (slash) *slash = 0, dir = w->path;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      fsync(dfd);
      close(dfd);
    }
  }
  free(w->tmp);
  free(w->path);
  w->tmp = w->path = NULL;
  return GDL_OK;
}

/* ---- byte sources ------------------------------------------------------- */

uint32_t gdl__crc32(uint32_t crc, const void *p, size_t n) {
  return (uint32_t)crc32_z(crc, p, n);
}

gdl_status gdl__src_open(gdl__src *s, const char *what, gdl__src_kind kind, const uint8_t *in,
                         size_t n) {
  memset(s, 0, sizeof *s);
  s->what = what;
  s->kind = kind;
  s->in = in;
  s->in_len = n;
  if (kind == GDL__SRC_RAW) return GDL_OK;
  if (inflateInit2(&s->zs, kind == GDL__SRC_DEFLATE ? -15 : 15 + 16) != Z_OK)
    return gdl_error(GDL_ERR_NOMEM, "%s: cannot start zlib", what);
  s->z_open = true;
  return GDL_OK;
}

void gdl__src_close(gdl__src *s) {
  if (s->z_open) inflateEnd(&s->zs);
  s->z_open = false;
}

gdl_status gdl__src_read(gdl__src *s, void *dst, size_t n, size_t *got) {
  uint8_t *d = dst;
  size_t k = 0;
  if (s->kind == GDL__SRC_RAW) {
    k = n < s->in_len - s->pos ? n : s->in_len - s->pos;
    if (k) memcpy(d, s->in + s->pos, k);
    s->pos += k;
  } else {
    while (k < n && !s->z_end) {
      if (s->zs.avail_in == 0 && s->pos < s->in_len) {
        size_t m = s->in_len - s->pos;
        s->zs.next_in = (Bytef *)(s->in + s->pos);
        s->zs.avail_in = m > UINT_MAX ? UINT_MAX : (uInt)m;
        s->pos += s->zs.avail_in;
      }
      size_t want = n - k > UINT_MAX ? UINT_MAX : n - k;
      s->zs.next_out = d + k;
      s->zs.avail_out = (uInt)want;
      int r = inflate(&s->zs, Z_NO_FLUSH);
      k += want - s->zs.avail_out;
      if (r == Z_STREAM_END) {
        size_t left = s->zs.avail_in + (s->in_len - s->pos);
        const uint8_t *next = s->zs.next_in;
        /* gzip files may be several members back to back (gzip's own rule) */
        if (s->kind == GDL__SRC_GZIP && left >= 2 && s->zs.avail_in >= 2 && next[0] == 0x1f &&
            next[1] == 0x8b) {
          inflateReset(&s->zs);
          continue;
        }
        s->z_end = true;
      } else if (r == Z_BUF_ERROR && s->zs.avail_in == 0 && s->pos == s->in_len) {
        s->z_end = s->truncated = true; /* the input ran out mid-stream */
      } else if (r != Z_OK) {
        *got = k;
        return gdl_error(GDL_ERR_FORMAT, "%s: corrupt compressed data (%s)", s->what,
                         s->zs.msg ? s->zs.msg : "zlib error");
      }
    }
  }
  if (s->want_crc && k) s->crc = gdl__crc32(s->crc, d, k);
  s->out += k;
  *got = k;
  return GDL_OK;
}

gdl_status gdl__src_finish(gdl__src *s) {
  uint8_t b;
  size_t got;
  uint64_t out = s->out;
  gdl_status st = gdl__src_read(s, &b, 1, &got);
  if (st) return st;
  if (got)
    return gdl_error(GDL_ERR_FORMAT, "%s: unexpected data after the first %llu bytes", s->what,
                     (unsigned long long)out);
  if (s->truncated)
    return gdl_error(GDL_ERR_FORMAT, "%s: compressed stream is truncated", s->what);
  return GDL_OK;
}

/* ---- element conversions ------------------------------------------------- */

void gdl__widen_f16(float *dst, const uint8_t *src, size_t n, bool bf16) {
  if (bf16) {
    for (size_t i = 0; i < n; i++) dst[i] = gdl__bf16_to_f32(gdl__le16(src + 2 * i));
  } else {
    for (size_t i = 0; i < n; i++) dst[i] = gdl__f16_to_f32(gdl__le16(src + 2 * i));
  }
}
