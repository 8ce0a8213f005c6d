/* File I/O: npy, npz, safetensors and IDX loaders and savers.
 *
 * - fixtures written by NumPy and the safetensors package (tests/ref/gen_io.py)
 *   load to the values the generator's formulas give, and re-saved .npy and
 *   .safetensors files are byte-identical to the peers' files;
 * - round trips of every dtype through every saver;
 * - the real Fashion-MNIST and Cora files;
 * - bad input: missing, empty, wrong-magic, every truncation, seeded random
 *   corruption and hand-made hostile files; each must fail with a message naming
 *   the file, never crash (run it under -DGDL_SANITIZE=ON too);
 * - saves are atomic: a failed save leaves no file, a successful one replaces. */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "test.h"

extern uint64_t gdl__zip64_threshold; /* src/io/npz.c: lowered to test ZIP64 writing */

#define REF "tests/ref/"
#define FMNIST "/usr/share/datasets/fashion-mnist/"

static char tmpdir[256];

/* A path inside the temporary folder (a ring of buffers, so a few can be live). */
static const char *tmp(const char *name) {
  static char buf[8][512];
  static int k;
  char *b = buf[k++ % 8];
  snprintf(b, 512, "%s/%s", tmpdir, name);
  return b;
}

static bool write_bytes(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return false;
  bool ok = fwrite(p, 1, n, f) == n;
  return fclose(f) == 0 && ok;
}

static uint8_t *read_bytes(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  *n = 0;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *p = malloc((size_t)len + 1);
  *n = fread(p, 1, (size_t)len, f);
  fclose(f);
  return p;
}

static bool exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static bool names(const char *path) { return strstr(gdl_last_error(), path) != NULL; }
static bool says(const char *what) { return strstr(gdl_last_error(), what) != NULL; }

/* Temporary files a saver left behind in tmpdir. */
static int stray_temps(void) {
  DIR *d = opendir(tmpdir);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strstr(e->d_name, ".tmp-")) n++;
  closedir(d);
  return n;
}

/* ---- the reference arrays (tests/ref/gen_io.py: arrays()) ------------------ */

static const char *ref_names[] = {"f32", "f64", "i32", "i64", "u8", "bool", "scalar", "empty"};
#define NREF 8

static gdl_tensor *ref(const char *name) {
  gdl_tensor *x = NULL;
  if (!strcmp(name, "f32")) {
    x = gdl_tensor_alloc(GDL_F32, GDL_SHAPE(3, 4));
    for (int i = 0; i < 12; i++) ((float *)x->data)[i] = (float)((i - 5) * 0.375);
  } else if (!strcmp(name, "f64")) {
    x = gdl_tensor_alloc(GDL_F64, GDL_SHAPE(2, 3, 2));
    for (int i = 0; i < 12; i++) ((double *)x->data)[i] = (i - 4) / 3.0;
  } else if (!strcmp(name, "i32")) {
    x = gdl_tensor_alloc(GDL_I32, GDL_SHAPE(5));
    int32_t v[] = {INT32_MIN, -1, 0, 7, INT32_MAX};
    memcpy(x->data, v, sizeof v);
  } else if (!strcmp(name, "i64")) {
    x = gdl_tensor_alloc(GDL_I64, GDL_SHAPE(2, 2));
    int64_t v[] = {-((int64_t)1 << 62), -1, 3, ((int64_t)1 << 40) + 5};
    memcpy(x->data, v, sizeof v);
  } else if (!strcmp(name, "u8")) {
    x = gdl_tensor_alloc(GDL_U8, GDL_SHAPE(2, 5));
    for (int i = 0; i < 10; i++) ((uint8_t *)x->data)[i] = (uint8_t)(i * 37 % 256);
  } else if (!strcmp(name, "bool")) {
    x = gdl_tensor_alloc(GDL_BOOL, GDL_SHAPE(7));
    for (int i = 0; i < 7; i++) ((uint8_t *)x->data)[i] = i % 3 == 0;
  } else if (!strcmp(name, "scalar")) {
    x = gdl_tensor_alloc(GDL_F64, GDL_SCALAR);
    ((double *)x->data)[0] = 3.25;
  } else if (!strcmp(name, "empty")) {
    x = gdl_tensor_alloc(GDL_F32, GDL_SHAPE(0, 3));
  }
  return x;
}

/* Same dtype, shape and bytes (NaNs compare by bits). */
static bool same(const gdl_tensor *a, const gdl_tensor *b) {
  return a && b && a->dtype == b->dtype && gdl_shape_eq(gdl_tensor_shape(a), gdl_tensor_shape(b)) &&
         memcmp(a->data, b->data, gdl_tensor_nbytes(a)) == 0;
}

static gdl_arrays *ref_set(void) {
  gdl_arrays *a = gdl_arrays_new();
  for (int i = 0; i < NREF; i++) gdl_arrays_put(a, ref_names[i], ref(ref_names[i]), true);
  return a;
}

static bool same_set(const gdl_arrays *a, const gdl_arrays *b) {
  if (!a || !b || gdl_arrays_count(a) != gdl_arrays_count(b)) return false;
  for (int i = 0; i < gdl_arrays_count(a); i++)
    if (strcmp(gdl_arrays_name(a, i), gdl_arrays_name(b, i)) ||
        !same(gdl_arrays_at(a, i), gdl_arrays_at(b, i)))
      return false;
  return true;
}

/* ---- named arrays ------------------------------------------------------------- */

static void test_arrays(void) {
  gdl_arrays *a = gdl_arrays_new();
  gdl_tensor *b = ref("f32"); /* borrowed */
  CHECK(gdl_arrays_put(a, "w", ref("i32"), true) == GDL_OK, "put");
  CHECK(gdl_arrays_put(a, "b", b, false) == GDL_OK, "put borrowed");
  CHECK(gdl_arrays_put(a, "w", ref("u8"), true) == GDL_OK, "replace");
  CHECK(gdl_arrays_count(a) == 2, "count %d", gdl_arrays_count(a));
  CHECK(!strcmp(gdl_arrays_name(a, 0), "w") && gdl_arrays_at(a, 0)->dtype == GDL_U8,
        "replacing keeps the position");
  CHECK(gdl_arrays_get(a, "b") == b && !gdl_arrays_get(a, "nope"), "get");
  CHECK(!gdl_arrays_name(a, 2) && !gdl_arrays_at(a, -1), "out-of-range index");
  CHECK(gdl_arrays_put(a, "n", NULL, true) != GDL_OK, "NULL tensor refused");
  CHECK(gdl_arrays_set_meta(a, "k", "v1") == GDL_OK && gdl_arrays_set_meta(a, "k", "v2") == GDL_OK,
        "meta");
  CHECK(!strcmp(gdl_arrays_meta(a, "k"), "v2") && !gdl_arrays_meta(a, "x"), "meta get");
  gdl_arrays_set_meta(a, "k", NULL);
  CHECK(!gdl_arrays_meta(a, "k"), "meta removed");
  gdl_arrays_free(a);
  CHECK(b->dtype == GDL_F32, "borrowed tensor outlives the set");
  gdl_tensor_free(b);
}

/* ---- npy ------------------------------------------------------------------------ */

static void test_npy_fixtures(void) {
  char path[256];
  for (int i = 0; i < NREF; i++) {
    snprintf(path, sizeof path, REF "io_%s.npy", ref_names[i]);
    gdl_tensor *x = gdl_npy_load(path), *r = ref(ref_names[i]);
    CHECK(same(x, r), "%s: loaded values differ from numpy's (%s)", path, gdl_last_error());
    /* gdl writes np.save's layout byte for byte */
    size_t n1, n2;
    CHECK(x && gdl_npy_save(tmp("resave.npy"), x) == GDL_OK, "%s: resave", path);
    uint8_t *a = read_bytes(path, &n1), *b = read_bytes(tmp("resave.npy"), &n2);
    CHECK(a && b && n1 == n2 && !memcmp(a, b, n1), "%s: resaved bytes differ from np.save's",
          path);
    free(a);
    free(b);
    gdl_tensor_free(x);
    gdl_tensor_free(r);
  }
  gdl_tensor *r = ref("f32");
  for (int v = 2; v <= 3; v++) {
    snprintf(path, sizeof path, REF "io_v%d.npy", v);
    gdl_tensor *x = gdl_npy_load(path);
    CHECK(same(x, r), "%s: format version %d.0 (%s)", path, v, gdl_last_error());
    gdl_tensor_free(x);
  }
  gdl_tensor_free(r);

  /* widened dtypes: float16 -> float32, int8 -> int32 */
  gdl_tensor *h = gdl_npy_load(REF "io_f16.npy");
  float fe[] = {0.0f, -2.0f, 0.5f, 65504.0f, 0x1p-24f, INFINITY, -INFINITY};
  CHECK(h && h->dtype == GDL_F32 && h->ndim == 1 && h->shape[0] == 8, "f16 widened: %s",
        gdl_last_error());
  if (h) {
    for (int i = 0; i < 7; i++)
      CHECK(((float *)h->data)[i] == fe[i], "f16[%d] = %g, expected %g", i, ((float *)h->data)[i],
            fe[i]);
    CHECK(isnan(((float *)h->data)[7]), "f16 NaN");
  }
  gdl_tensor_free(h);
  gdl_tensor *c = gdl_npy_load(REF "io_i8.npy");
  int32_t ce[] = {-128, -1, 0, 127};
  CHECK(c && c->dtype == GDL_I32 && !memcmp(c->data, ce, sizeof ce), "i8 widened: %s",
        gdl_last_error());
  gdl_tensor_free(c);

  /* refused with a message saying why */
  CHECK(!gdl_npy_load(REF "io_fortran.npy") && names(REF "io_fortran.npy") &&
            says("Fortran-order arrays are not supported; save with np.ascontiguousarray"),
        "fortran: %s", gdl_last_error());
  CHECK(!gdl_npy_load(REF "io_bigendian.npy") && names(REF "io_bigendian.npy") &&
            says("big-endian"),
        "big-endian: %s", gdl_last_error());
  CHECK(!gdl_npy_load(REF "io_u32.npy") && says("unsupported dtype '<u4'"), "u32: %s",
        gdl_last_error());
}

static void test_npy_roundtrip(void) {
  for (int i = 0; i < NREF; i++) {
    gdl_tensor *r = ref(ref_names[i]);
    CHECK(gdl_npy_save(tmp("rt.npy"), r) == GDL_OK, "save %s: %s", ref_names[i], gdl_last_error());
    gdl_tensor *x = gdl_npy_load(tmp("rt.npy"));
    CHECK(same(x, r), "npy round trip of %s", ref_names[i]);
    gdl_tensor_free(x);
    gdl_tensor_free(r);
  }
  /* six axes, the most a tensor has */
  gdl_tensor *s = gdl_tensor_alloc(GDL_I64, GDL_SHAPE(2, 1, 3, 1, 2, 2));
  for (int i = 0; i < 24; i++) ((int64_t *)s->data)[i] = (int64_t)i * 1000003 - 7;
  gdl_npy_save(tmp("rt6.npy"), s);
  gdl_tensor *x = gdl_npy_load(tmp("rt6.npy"));
  CHECK(same(x, s), "npy round trip of 6 axes");
  gdl_tensor_free(x);
  gdl_tensor_free(s);
  /* a strided view (a transpose) is written in logical C order */
  gdl_tensor *m = ref("f32"), v = *m;
  v.shape[0] = 4, v.shape[1] = 3, v.stride[0] = 1, v.stride[1] = 4;
  CHECK(gdl_npy_save(tmp("rtT.npy"), &v) == GDL_OK, "save strided");
  x = gdl_npy_load(tmp("rtT.npy"));
  bool ok = x && x->shape[0] == 4 && x->shape[1] == 3;
  for (int i = 0; ok && i < 4; i++)
    for (int j = 0; j < 3; j++)
      ok &= ((float *)x->data)[i * 3 + j] == ((float *)m->data)[j * 4 + i];
  CHECK(ok, "strided tensor saved transposed");
  gdl_tensor_free(x);
  gdl_tensor_free(m);
}

/* A hand-made .npy: header dict text, version, n data bytes (zeros). */
static void npy_file(const char *path, const char *dict, int major, size_t ndata) {
  uint8_t b[1024] = {0x93, 'N', 'U', 'M', 'P', 'Y', (uint8_t)major, 0};
  size_t hl = strlen(dict), off = major == 1 ? 10 : 12;
  if (major == 1) b[8] = (uint8_t)hl, b[9] = (uint8_t)(hl >> 8);
  else b[8] = (uint8_t)hl, b[9] = (uint8_t)(hl >> 8), b[10] = b[11] = 0;
  memcpy(b + off, dict, hl);
  memset(b + off + hl, 0, ndata);
  write_bytes(path, b, off + hl + ndata);
}

static void npy_bad(const char *dict, int major, size_t ndata, const char *msg) {
  const char *p = tmp("bad.npy");
  npy_file(p, dict, major, ndata);
  gdl_clear_error();
  gdl_tensor *x = gdl_npy_load(p);
  CHECK(!x && names(p) && says(msg), "npy %s: expected '%s', got '%s'", dict, msg,
        gdl_last_error());
  gdl_tensor_free(x);
}

static void npy_good(const char *dict, int major, size_t ndata, gdl_dtype t, int ndim) {
  const char *p = tmp("good.npy");
  npy_file(p, dict, major, ndata);
  gdl_tensor *x = gdl_npy_load(p);
  CHECK(x && x->dtype == t && x->ndim == ndim, "npy %s: %s", dict, gdl_last_error());
  gdl_tensor_free(x);
}

static void test_npy_hostile(void) {
  npy_good("{'descr': '<f4', 'fortran_order': False, 'shape': (3L,), }\n", 1, 12, GDL_F32, 1);
  npy_good("{\"descr\":\"<i8\",\"fortran_order\":False,\"shape\":(1,2)}", 2, 16, GDL_I64, 2);
  npy_good("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 3, 1), }", 1, 12, GDL_F32, 3);
  npy_good("{'descr': '|b1', 'fortran_order': False, 'shape': (), }", 3, 1, GDL_BOOL, 0);
  npy_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1), }", 1, 4,
          "more than 6 axes");
  npy_bad("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", 1, 4,
          "structured");
  npy_bad("{'descr': '<f4', 'fortran_order': False, }", 1, 4, "missing 'shape'");
  npy_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 1, 12, "file has more");
  npy_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", 1, 12,
          "header says 16 bytes of data, file has 12");
  npy_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", 4, 16, "version 4.0");
  npy_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 8), }", 1, 0,
          "overflows");
  npy_bad("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", 1, 4, "True or False");
  npy_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", 1, 4,
          "unexpected key");
  npy_bad("{'descr': '<c32', 'fortran_order': False, 'shape': (1,), }", 1, 32, "unsupported dtype");
  npy_bad("{'descr': '>i8', 'fortran_order': False, 'shape': (1,), }", 1, 8, "big-endian");
  npy_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 1, 4, "malformed");
  npy_bad("{'descr': '<f4', 'fortran_order': False, 'shape': (1,", 1, 0, "malformed");
  npy_bad("", 1, 0, "malformed");
  /* header length larger than the file */
  uint8_t b[16] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0xff, 0x7f, '{'};
  write_bytes(tmp("bad.npy"), b, 11);
  CHECK(!gdl_npy_load(tmp("bad.npy")) && says("truncated"), "long header: %s", gdl_last_error());
}

/* ---- npz ------------------------------------------------------------------------ */

static void test_npz_fixtures(void) {
  gdl_arrays *r = ref_set();
  const char *files[] = {REF "io_numpy.npz", REF "io_numpy_z.npz"};
  for (int f = 0; f < 2; f++) {
    gdl_arrays *a = gdl_npz_load(files[f]);
    CHECK(same_set(a, r), "%s: differs from numpy's arrays (%s)", files[f], gdl_last_error());
    gdl_arrays_free(a);
  }
  gdl_arrays *d = gdl_npz_load(REF "io_descriptor.npz");
  CHECK(d && gdl_arrays_count(d) == 2 && same(gdl_arrays_get(d, "f32"), gdl_arrays_get(r, "f32")) &&
            same(gdl_arrays_get(d, "i64"), gdl_arrays_get(r, "i64")),
        "data descriptors: %s", gdl_last_error());
  gdl_arrays_free(d);
  gdl_arrays *z = gdl_npz_load(REF "io_zip64.npz");
  CHECK(z && gdl_arrays_count(z) == 2 && same(gdl_arrays_get(z, "f32"), gdl_arrays_get(r, "f32")) &&
            same(gdl_arrays_get(z, "u8"), gdl_arrays_get(r, "u8")),
        "zip64 archive: %s", gdl_last_error());
  gdl_arrays_free(z);
  gdl_arrays_free(r);
}

static void test_npz_roundtrip(void) {
  gdl_arrays *r = ref_set();
  gdl_arrays_put(r, "nested/name", ref("i64"), true);
  for (int compress = 0; compress < 2; compress++) {
    CHECK(gdl_npz_save(tmp("rt.npz"), r, compress) == GDL_OK, "npz save: %s", gdl_last_error());
    gdl_arrays *a = gdl_npz_load(tmp("rt.npz"));
    CHECK(same_set(a, r), "npz round trip (compress %d): %s", compress, gdl_last_error());
    gdl_arrays_free(a);
  }
  /* compression actually compresses a compressible array */
  gdl_arrays *big = gdl_arrays_new();
  gdl_arrays_put(big, "zeros", gdl_tensor_alloc(GDL_F64, GDL_SHAPE(256, 256)), true);
  gdl_npz_save(tmp("z0.npz"), big, false);
  gdl_npz_save(tmp("z1.npz"), big, true);
  struct stat s0, s1;
  stat(tmp("z0.npz"), &s0);
  stat(tmp("z1.npz"), &s1);
  CHECK(s1.st_size * 50 < s0.st_size, "deflate: %lld vs %lld bytes", (long long)s1.st_size,
        (long long)s0.st_size);
  gdl_arrays *back = gdl_npz_load(tmp("z1.npz"));
  CHECK(same_set(back, big), "compressed zeros round trip");
  gdl_arrays_free(back);
  gdl_arrays_free(big);
  /* ZIP64 fields on every member, as for archives over 4 GiB */
  gdl__zip64_threshold = 0;
  for (int compress = 0; compress < 2; compress++) {
    CHECK(gdl_npz_save(tmp("rt64.npz"), r, compress) == GDL_OK, "zip64 save");
    gdl_arrays *a = gdl_npz_load(tmp("rt64.npz"));
    CHECK(same_set(a, r), "zip64 round trip (compress %d): %s", compress, gdl_last_error());
    gdl_arrays_free(a);
  }
  gdl__zip64_threshold = 0xFFFFFFFFu;
  /* an empty archive */
  gdl_arrays *e = gdl_arrays_new();
  CHECK(gdl_npz_save(tmp("empty.npz"), e, false) == GDL_OK, "empty npz save");
  gdl_arrays *e2 = gdl_npz_load(tmp("empty.npz"));
  CHECK(e2 && gdl_arrays_count(e2) == 0, "empty npz: %s", gdl_last_error());
  gdl_arrays_free(e);
  gdl_arrays_free(e2);
  gdl_arrays_free(r);
}

/* Offset of the central directory of a small zip without comment or ZIP64. */
static size_t central(const uint8_t *b, size_t n) {
  const uint8_t *e = b + n - 22;
  return (size_t)(e[16] | e[17] << 8 | e[18] << 16 | (uint32_t)e[19] << 24);
}

/* Flips bits at off (from the central directory when cd) and expects msg. */
static void npz_patched(const char *src, bool cd, size_t off, uint8_t xor, const char *msg) {
  size_t n;
  uint8_t *b = read_bytes(src, &n);
  if (cd) off += central(b, n);
  b[off] ^= xor;
  const char *p = tmp("patched.npz");
  gdl_clear_error();
  write_bytes(p, b, n);
  gdl_arrays *a = gdl_npz_load(p);
  CHECK(!a && names(p) && says(msg), "%s patched at %zu: expected '%s', got '%s'", src, off, msg,
        gdl_last_error());
  gdl_arrays_free(a);
  free(b);
}

static void test_npz_hostile(void) {
  const char *st = REF "io_numpy.npz", *df = REF "io_numpy_z.npz";
  npz_patched(st, true, 16, 0x01, "CRC mismatch");         /* the directory's CRC */
  npz_patched(df, true, 10, 0x04, "method 12");            /* bzip2 */
  npz_patched(st, true, 8, 0x01, "encrypted");             /* flag bit 0 */
  npz_patched(st, true, 46 + 6, 'y' ^ 'z', "not a .npy");  /* "f32.npy" -> "f32.npz" */
  npz_patched(st, true, 46 + 4, 'x' ^ 'n', "not a .npy");  /* "f32.xpy" */
  npz_patched(st, true, 42, 0x40, "no local header");      /* the local header offset */
  npz_patched(st, true, 24, 0x01, "sizes 176 and 177");    /* usize of a stored member */
  npz_patched(df, true, 24, 0x01, "directory says");       /* usize of a deflated one */
  size_t n;
  uint8_t *b = read_bytes(st, &n);
  free(b);
  npz_patched(st, false, n - 22 + 16, 0x80, "central directory");
  npz_patched(st, false, n - 22 + 10, 0x03, "central directory entry");
  /* a data byte of a stored member: the CRC catches it */
  gdl_arrays *r = ref_set();
  gdl_npz_save(tmp("mine.npz"), r, false);
  gdl_arrays_free(r);
  npz_patched(tmp("mine.npz"), false, 30 + 7 + 128 + 5, 0x10, "CRC mismatch");
  /* a deflate stream that is not one */
  b = read_bytes(df, &n);
  size_t data = 30 + b[26] + (b[27] << 8) + b[28] + (b[29] << 8);
  free(b);
  npz_patched(df, false, data, 0xff, "corrupt compressed data");
}

/* ---- safetensors ------------------------------------------------------------------ */

static void test_safetensors_fixtures(void) {
  const char *p = REF "io_st.safetensors";
  gdl_arrays *a = gdl_safetensors_load(p), *r = ref_set();
  CHECK(a && gdl_arrays_count(a) == 8, "%s: %s", p, gdl_last_error());
  const char *plain[] = {"f32", "f64", "i32", "i64", "u8", "bool"};
  for (int i = 0; a && i < 6; i++)
    CHECK(same(gdl_arrays_get(a, plain[i]), gdl_arrays_get(r, plain[i])), "%s: tensor %s", p,
          plain[i]);
  CHECK(a && !strcmp(gdl_arrays_meta(a, "format"), "np") &&
            !strcmp(gdl_arrays_meta(a, "note"), "gdl fixture \xc3\xa9 \"quoted\""),
        "metadata");
  gdl_tensor *h = gdl_arrays_get(a, "f16"), *bf = gdl_arrays_get(a, "bf16");
  float fe[] = {0.0f, -2.0f, 0.5f, 65504.0f, 0x1p-24f, INFINITY, -INFINITY};
  CHECK(h && h->dtype == GDL_F32 && h->shape[0] == 8, "F16 widened to F32");
  for (int i = 0; h && i < 7; i++)
    CHECK(((float *)h->data)[i] == fe[i], "F16[%d] = %g", i, ((float *)h->data)[i]);
  CHECK(h && isnan(((float *)h->data)[7]), "F16 NaN");
  float be[] = {1.0f, -3.5f, 0.15625f, 0x1p100f, 0x1p-130f, -INFINITY};
  CHECK(bf && bf->dtype == GDL_F32 && bf->ndim == 2 && bf->shape[0] == 2 && bf->shape[1] == 3,
        "BF16 widened to F32");
  for (int i = 0; bf && i < 6; i++)
    CHECK(((float *)bf->data)[i] == be[i], "BF16[%d] = %g", i, ((float *)bf->data)[i]);
  gdl_arrays_free(a);
  gdl_arrays_free(r);
  /* re-saving the peer's file reproduces it byte for byte */
  p = REF "io_st_plain.safetensors";
  a = gdl_safetensors_load(p);
  CHECK(a && gdl_safetensors_save(tmp("resave.safetensors"), a) == GDL_OK, "resave: %s",
        gdl_last_error());
  size_t n1, n2;
  uint8_t *x = read_bytes(p, &n1), *y = read_bytes(tmp("resave.safetensors"), &n2);
  CHECK(x && y && n1 == n2 && !memcmp(x, y, n1), "resaved safetensors differs from the peer's");
  free(x);
  free(y);
  gdl_arrays_free(a);
}

static void test_safetensors_roundtrip(void) {
  gdl_arrays *r = ref_set();
  gdl_arrays_set_meta(r, "epoch", "12");
  gdl_arrays_set_meta(r, "odd \"key\"\n", "tab\there \\ back\x01slash");
  CHECK(gdl_safetensors_save(tmp("rt.safetensors"), r) == GDL_OK, "save: %s", gdl_last_error());
  gdl_arrays *a = gdl_safetensors_load(tmp("rt.safetensors"));
  CHECK(same_set(a, r), "safetensors round trip: %s", gdl_last_error());
  CHECK(a && !strcmp(gdl_arrays_meta(a, "epoch"), "12") &&
            !strcmp(gdl_arrays_meta(a, "odd \"key\"\n"), "tab\there \\ back\x01slash"),
        "metadata round trip");
  gdl_arrays_free(a);
  size_t n;
  uint8_t *b = read_bytes(tmp("rt.safetensors"), &n);
  uint64_t hl = 0;
  memcpy(&hl, b, 8);
  CHECK((8 + hl) % 8 == 0, "data 8-byte aligned (header %llu bytes)", (unsigned long long)hl);
  free(b);
  gdl_arrays_put(r, "__metadata__", ref("u8"), true);
  CHECK(gdl_safetensors_save(tmp("rt2.safetensors"), r) != GDL_OK && says("reserved") &&
            !exists(tmp("rt2.safetensors")),
        "__metadata__ as a tensor name refused");
  gdl_arrays_free(r);
  gdl_arrays *e = gdl_arrays_new();
  CHECK(gdl_safetensors_save(tmp("e.safetensors"), e) == GDL_OK, "empty save");
  gdl_arrays *e2 = gdl_safetensors_load(tmp("e.safetensors"));
  CHECK(e2 && gdl_arrays_count(e2) == 0, "empty safetensors: %s", gdl_last_error());
  gdl_arrays_free(e);
  gdl_arrays_free(e2);
}

/* A hand-made safetensors file: u64 length, the JSON, ndata bytes. */
static void st_file(const char *path, uint64_t hl, const char *json, size_t ndata) {
  size_t jl = strlen(json);
  uint8_t *b = calloc(8 + jl + ndata, 1);
  memcpy(b, &hl, 8);
  memcpy(b + 8, json, jl);
  write_bytes(path, b, 8 + jl + ndata);
  free(b);
}

static void st_case(const char *json, size_t ndata, const char *msg) {
  const char *p = tmp("bad.safetensors");
  st_file(p, strlen(json), json, ndata);
  gdl_clear_error();
  gdl_arrays *a = gdl_safetensors_load(p);
  if (!msg) {
    CHECK(a != NULL, "safetensors %s: %s", json, gdl_last_error());
  } else {
    CHECK(!a && names(p) && says(msg), "safetensors %s: expected '%s', got '%s'", json, msg,
          gdl_last_error());
  }
  gdl_arrays_free(a);
}

static void test_safetensors_hostile(void) {
#define T(name, dt, shape, b, e) "\"" name "\":{\"dtype\":\"" dt "\",\"shape\":" shape \
  ",\"data_offsets\":[" #b "," #e "]}"
  st_case("{" T("a", "F32", "[2]", 0, 8) "}", 8, NULL);
  st_case("{" T("a", "F32", "[2]", 0, 8) "}    ", 8, NULL);
  st_case("{" T("a", "F32", "[4]", 0, 16) "}", 8, "run past the end");
  st_case("{" T("a", "F32", "[2]", 0, 8) "," T("b", "F32", "[2]", 4, 12) "}", 12, "overlap");
  st_case("{" T("a", "F32", "[2]", 0, 8) "," T("b", "F32", "[2]", 12, 20) "}", 20, "unused bytes");
  st_case("{" T("a", "F32", "[2]", 0, 8) "}", 12, "after the last tensor");
  st_case("{" T("a", "F32", "[3]", 0, 8) "}", 8, "needs 12");
  st_case("{" T("a", "U64", "[1]", 0, 8) "}", 8, "unsupported dtype 'U64'");
  st_case("{" T("a", "F32", "[1,1,1,1,1,1,1]", 0, 4) "}", 4, "at most 6");
  st_case("{" T("a", "F32", "[-1]", 0, 4) "}", 4, "bad shape");
  st_case("{" T("a", "F32", "[1.5]", 0, 4) "}", 4, "bad shape");
  st_case("{" T("a", "F32", "[1]", 4, 0) "}", 4, "bad data_offsets");
  st_case("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "bad data_offsets");
  st_case("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "needs");
  st_case("{\"a\":3}", 0, "expected an object");
  st_case("{" T("a", "F32", "[1]", 0, 4) "," T("a", "F32", "[1]", 4, 8) "}", 8, "twice");
  st_case("{\"__metadata__\":{\"k\":1}}", 0, "not a string");
  st_case("{\"__metadata__\":[1]}", 0, "not an object");
  st_case("{\"a\":", 0, "not a JSON object");
  st_case("[1,2]", 0, "not a JSON object");
  st_case("{} x", 0, "junk");
  st_case("{" T("a", "F32", "[1]", 0, 4) "}\0\0\0", 4, NULL);
#undef T
  const char *p = tmp("bad.safetensors");
  st_file(p, 1000, "{}", 0);
  CHECK(!gdl_safetensors_load(p) && names(p) && says("larger than the file"), "long header: %s",
        gdl_last_error());
  st_file(p, UINT64_MAX, "{}", 0);
  CHECK(!gdl_safetensors_load(p) && names(p) && says("larger than the file"), "huge header: %s",
        gdl_last_error());
}

/* ---- IDX --------------------------------------------------------------------------- */

/* An IDX file: magic type, dims, big-endian payload. */
static size_t idx_bytes(uint8_t *b, uint8_t type, int nd, const uint32_t *dims, const void *be,
                        size_t nbe) {
  b[0] = b[1] = 0, b[2] = type, b[3] = (uint8_t)nd;
  for (int k = 0; k < nd; k++)
    for (int j = 0; j < 4; j++) b[4 + 4 * k + j] = (uint8_t)(dims[k] >> (24 - 8 * j));
  memcpy(b + 4 + 4 * nd, be, nbe);
  return 4 + 4 * (size_t)nd + nbe;
}

static void write_gz(const char *path, const void *p, size_t n) {
  gzFile g = gzopen(path, "wb");
  gzwrite(g, p, (unsigned)n);
  gzclose(g);
}

static void test_idx_small(void) {
  uint8_t b[256];
  uint32_t dims[] = {2, 3};
  /* every element type, checked against host values */
  uint8_t u8[6] = {0, 1, 127, 128, 200, 255};
  size_t n = idx_bytes(b, 0x08, 2, dims, u8, 6);
  write_bytes(tmp("u8.idx"), b, n);
  write_gz(tmp("u8.idx.gz"), b, n);
  for (int gz = 0; gz < 2; gz++) {
    gdl_tensor *x = gdl_idx_load(gz ? tmp("u8.idx.gz") : tmp("u8.idx"));
    CHECK(x && x->dtype == GDL_U8 && x->ndim == 2 && x->shape[0] == 2 && x->shape[1] == 3 &&
              !memcmp(x->data, u8, 6),
          "idx u8 (gz %d): %s", gz, gdl_last_error());
    gdl_tensor_free(x);
  }
  uint8_t i8[6] = {0x80, 0xff, 0, 1, 0x7f, 0x10};
  int32_t i8e[6] = {-128, -1, 0, 1, 127, 16};
  n = idx_bytes(b, 0x09, 2, dims, i8, 6);
  write_bytes(tmp("i8.idx"), b, n);
  gdl_tensor *x = gdl_idx_load(tmp("i8.idx"));
  CHECK(x && x->dtype == GDL_I32 && !memcmp(x->data, i8e, sizeof i8e), "idx i8: %s",
        gdl_last_error());
  gdl_tensor_free(x);
  uint8_t i16[12] = {0x80, 0, 0xff, 0xff, 0, 0, 0x01, 0x02, 0x7f, 0xff, 0x12, 0x34};
  int32_t i16e[6] = {-32768, -1, 0, 0x0102, 32767, 0x1234};
  n = idx_bytes(b, 0x0B, 2, dims, i16, 12);
  write_gz(tmp("i16.idx.gz"), b, n);
  x = gdl_idx_load(tmp("i16.idx.gz"));
  CHECK(x && x->dtype == GDL_I32 && !memcmp(x->data, i16e, sizeof i16e), "idx i16: %s",
        gdl_last_error());
  gdl_tensor_free(x);
  int32_t i32e[6] = {INT32_MIN, -2, 0, 3, 0x01020304, INT32_MAX};
  float f32e[6] = {-1.5f, 0.0f, 3.25f, 1e30f, -INFINITY, 0x1p-149f};
  double f64e[6] = {-1.5, 0.1, 3.25, 1e300, -INFINITY, 0x1p-1074};
  uint8_t be[48];
  for (int i = 0; i < 6; i++) {
    uint32_t v;
    memcpy(&v, &i32e[i], 4);
    v = __builtin_bswap32(v);
    memcpy(be + 4 * i, &v, 4);
  }
  n = idx_bytes(b, 0x0C, 2, dims, be, 24);
  write_bytes(tmp("i32.idx"), b, n);
  x = gdl_idx_load(tmp("i32.idx"));
  CHECK(x && x->dtype == GDL_I32 && !memcmp(x->data, i32e, sizeof i32e), "idx i32: %s",
        gdl_last_error());
  gdl_tensor_free(x);
  for (int i = 0; i < 6; i++) {
    uint32_t v;
    memcpy(&v, &f32e[i], 4);
    v = __builtin_bswap32(v);
    memcpy(be + 4 * i, &v, 4);
  }
  n = idx_bytes(b, 0x0D, 2, dims, be, 24);
  write_gz(tmp("f32.idx.gz"), b, n);
  x = gdl_idx_load(tmp("f32.idx.gz"));
  CHECK(x && x->dtype == GDL_F32 && !memcmp(x->data, f32e, sizeof f32e), "idx f32: %s",
        gdl_last_error());
  gdl_tensor_free(x);
  for (int i = 0; i < 6; i++) {
    uint64_t v;
    memcpy(&v, &f64e[i], 8);
    v = __builtin_bswap64(v);
    memcpy(be + 8 * i, &v, 8);
  }
  n = idx_bytes(b, 0x0E, 2, dims, be, 48);
  write_bytes(tmp("f64.idx"), b, n);
  x = gdl_idx_load(tmp("f64.idx"));
  CHECK(x && x->dtype == GDL_F64 && !memcmp(x->data, f64e, sizeof f64e), "idx f64: %s",
        gdl_last_error());
  gdl_tensor_free(x);

  /* precise truncation message: Fashion-MNIST's header, 100 bytes of pixels */
  uint32_t fm[] = {60000, 28, 28};
  uint8_t zeros[100] = {0};
  n = idx_bytes(b, 0x08, 3, fm, zeros, 100);
  write_bytes(tmp("short.idx"), b, n);
  CHECK(!gdl_idx_load(tmp("short.idx")) && names(tmp("short.idx")) &&
            says("expected 47040016 bytes, got 116"),
        "idx truncation message: %s", gdl_last_error());
  write_gz(tmp("short.idx.gz"), b, n);
  CHECK(!gdl_idx_load(tmp("short.idx.gz")) && names(tmp("short.idx.gz")) &&
            says("expected 47040016 bytes, got 116"),
        "idx gz truncation message: %s", gdl_last_error());
  uint32_t d7[7] = {1, 1, 1, 1, 1, 1, 1};
  n = idx_bytes(b, 0x08, 7, d7, zeros, 1);
  write_bytes(tmp("d7.idx"), b, n);
  CHECK(!gdl_idx_load(tmp("d7.idx")) && says("at most 6"), "idx 7 axes: %s", gdl_last_error());
  n = idx_bytes(b, 0x0A, 1, dims, zeros, 2);
  write_bytes(tmp("t0a.idx"), b, n);
  CHECK(!gdl_idx_load(tmp("t0a.idx")) && says("magic 0x00000a01"), "idx type 0A: %s",
        gdl_last_error());
  n = idx_bytes(b, 0x08, 1, dims, zeros, 3);
  write_bytes(tmp("long.idx"), b, n);
  CHECK(!gdl_idx_load(tmp("long.idx")) && names(tmp("long.idx")), "idx trailing data: %s",
        gdl_last_error());
}

/* ---- real data --------------------------------------------------------------------- */

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void test_fashion_mnist(void) {
  if (!exists(FMNIST "train-images-idx3-ubyte.gz")) {
    printf("skip: Fashion-MNIST not found in " FMNIST "\n");
    return;
  }
  double t0 = now();
  gdl_tensor *xi = gdl_idx_load(FMNIST "train-images-idx3-ubyte.gz");
  double t1 = now();
  printf("fashion-mnist train images: %.3f s\n", t1 - t0);
  gdl_tensor *yl = gdl_idx_load(FMNIST "train-labels-idx1-ubyte.gz");
  gdl_tensor *ti = gdl_idx_load(FMNIST "t10k-images-idx3-ubyte.gz");
  gdl_tensor *tl = gdl_idx_load(FMNIST "t10k-labels-idx1-ubyte.gz");
  CHECK(xi && xi->dtype == GDL_U8 && xi->ndim == 3 && xi->shape[0] == 60000 &&
            xi->shape[1] == 28 && xi->shape[2] == 28,
        "train images [60000, 28, 28] uint8: %s", gdl_last_error());
  CHECK(yl && yl->dtype == GDL_U8 && yl->ndim == 1 && yl->shape[0] == 60000, "train labels");
  CHECK(ti && ti->ndim == 3 && ti->shape[0] == 10000, "t10k images");
  CHECK(tl && tl->ndim == 1 && tl->shape[0] == 10000, "t10k labels");
  if (xi && yl && ti && tl) {
    const uint8_t *y = yl->data, *t = tl->data;
    int count[10] = {0}, tcount[10] = {0}, bad = 0;
    for (int i = 0; i < 60000; i++) y[i] < 10 ? count[y[i]]++ : bad++;
    for (int i = 0; i < 10000; i++) t[i] < 10 ? tcount[t[i]]++ : bad++;
    CHECK(bad == 0, "labels in 0..9");
    for (int c = 0; c < 10; c++)
      CHECK(count[c] == 6000 && tcount[c] == 1000, "class %d: %d train, %d test", c, count[c],
            tcount[c]);
    uint8_t first[10] = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, tfirst[10] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
    CHECK(!memcmp(y, first, 10) && !memcmp(t, tfirst, 10), "first labels");
    /* pixel sums computed by NumPy over the same files */
    uint64_t sum = 0, tsum = 0, s0 = 0;
    const uint8_t *p = xi->data, *q = ti->data;
    for (size_t i = 0; i < (size_t)60000 * 784; i++) sum += p[i];
    for (size_t i = 0; i < (size_t)10000 * 784; i++) tsum += q[i];
    for (int i = 0; i < 784; i++) s0 += p[i];
    CHECK(sum == 3431114169ull && tsum == 573469082ull && s0 == 76247,
          "pixel sums %llu %llu %llu", (unsigned long long)sum, (unsigned long long)tsum,
          (unsigned long long)s0);
  }
  gdl_tensor_free(xi);
  gdl_tensor_free(yl);
  gdl_tensor_free(ti);
  gdl_tensor_free(tl);
}

static int count_true(const gdl_tensor *m) {
  int n = 0;
  for (int64_t i = 0; i < gdl_tensor_numel(m); i++) n += ((const uint8_t *)m->data)[i];
  return n;
}

static void test_cora(void) {
  const char *p = TEST_DATA("planetoid/cora.npz");
  if (!exists(p)) {
    printf("skip: %s not found\n", p);
    return;
  }
  gdl_arrays *a = gdl_npz_load(p);
  CHECK(a != NULL, "cora: %s", gdl_last_error());
  if (!a) return;
  gdl_tensor *x = gdl_arrays_get(a, "x"), *e = gdl_arrays_get(a, "edge_index"),
             *y = gdl_arrays_get(a, "y");
  CHECK(x && x->dtype == GDL_F32 && x->ndim == 2 && x->shape[0] == 2708 && x->shape[1] == 1433,
        "cora x");
  CHECK(e && e->dtype == GDL_I64 && e->ndim == 2 && e->shape[0] == 2 && e->shape[1] == 10556,
        "cora edge_index");
  CHECK(y && y->dtype == GDL_I64 && y->ndim == 1 && y->shape[0] == 2708, "cora y");
  if (x && e && y) {
    double s = 0;
    for (int64_t i = 0; i < gdl_tensor_numel(x); i++) s += ((float *)x->data)[i];
    CHECK(s == 49216.0, "cora x sums to %g", s);
    int64_t lo = 0, hi = 0, ylo = 0, yhi = 0;
    for (int64_t i = 0; i < gdl_tensor_numel(e); i++) {
      int64_t v = ((int64_t *)e->data)[i];
      lo = v < lo ? v : lo, hi = v > hi ? v : hi;
    }
    for (int64_t i = 0; i < 2708; i++) {
      int64_t v = ((int64_t *)y->data)[i];
      ylo = v < ylo ? v : ylo, yhi = v > yhi ? v : yhi;
    }
    CHECK(lo == 0 && hi == 2707 && ylo == 0 && yhi == 6, "cora index ranges");
  }
  const char *masks[] = {"train_mask", "val_mask", "test_mask"};
  int want[] = {140, 500, 1000};
  for (int k = 0; k < 3; k++) {
    gdl_tensor *m = gdl_arrays_get(a, masks[k]);
    CHECK(m && m->dtype == GDL_BOOL && m->shape[0] == 2708 && count_true(m) == want[k],
          "cora %s: %d true", masks[k], m ? count_true(m) : -1);
  }
  gdl_arrays_free(a);
}

/* ---- bad input for every loader ------------------------------------------------- */

typedef enum { L_NPY, L_NPZ, L_ST, L_IDX } loader;

/* Loads with one loader; true when it failed cleanly (NULL and the path named). */
static bool fails(loader l, const char *path, bool *loaded) {
  void *r = NULL;
  gdl_clear_error();
  switch (l) {
    case L_NPY: r = gdl_npy_load(path); gdl_tensor_free(r); break;
    case L_NPZ: r = gdl_npz_load(path); gdl_arrays_free(r); break;
    case L_ST: r = gdl_safetensors_load(path); gdl_arrays_free(r); break;
    case L_IDX: r = gdl_idx_load(path); gdl_tensor_free(r); break;
  }
  if (loaded) *loaded = r != NULL;
  return !r && names(path);
}

static const char *loader_names[] = {"npy", "npz", "safetensors", "idx"};

static void test_missing_empty_magic(void) {
  for (int l = 0; l < 4; l++) {
    const char *name = loader_names[l];
    CHECK(fails((loader)l, tmp("does-not-exist"), NULL) && says("No such file"),
          "%s missing file: %s", name, gdl_last_error());
    write_bytes(tmp("empty"), "", 0);
    CHECK(fails((loader)l, tmp("empty"), NULL), "%s empty file: %s", name, gdl_last_error());
    CHECK(fails((loader)l, tmpdir, NULL) && says("directory"), "%s directory: %s", name,
          gdl_last_error());
    const char *text = "hello, world: this is certainly not an array file at all\n";
    write_bytes(tmp("text"), text, strlen(text));
    CHECK(fails((loader)l, tmp("text"), NULL), "%s wrong magic: %s", name, gdl_last_error());
  }
  /* each format handed to the other loaders */
  const char *files[] = {REF "io_f32.npy", REF "io_numpy.npz", REF "io_st.safetensors"};
  for (int f = 0; f < 3; f++)
    for (int l = 0; l < 4; l++)
      if (l != f) CHECK(fails((loader)l, files[f], NULL), "%s fed %s", loader_names[l], files[f]);
}

/* Every prefix of a valid file must be refused. */
static void truncations(loader l, const char *src) {
  size_t n;
  uint8_t *b = read_bytes(src, &n);
  const char *p = tmp("trunc");
  int bad = 0;
  size_t first = 0;
  for (size_t k = 0; k < n; k++) {
    write_bytes(p, b, k);
    if (!fails(l, p, NULL) && !bad++) first = k;
  }
  CHECK(b && bad == 0, "%s: %d of %zu prefixes of %s not refused (first: %zu bytes: %s)",
        loader_names[l], bad, n, src, first, gdl_last_error());
  free(b);
}

/* Seeded random corruption: 1-4 bytes changed, mostly in the first `head` bytes.
 * Whatever the loader decides, it must not crash, and a refusal names the file. */
static void corruptions(loader l, const char *src, size_t head, int iters, uint64_t seed) {
  size_t n;
  uint8_t *b = read_bytes(src, &n), *c = malloc(n);
  gdl_rng r = gdl_rng_make(seed);
  const char *p = tmp("corrupt");
  int unnamed = 0, refused = 0;
  for (int it = 0; it < iters; it++) {
    memcpy(c, b, n);
    int k = 1 + (int)gdl_rng_below(&r, 4);
    for (int j = 0; j < k; j++) {
      size_t at = gdl_rng_below(&r, 4) ? gdl_rng_below(&r, head < n ? head : n)
                                       : gdl_rng_below(&r, n);
      if (gdl_rng_below(&r, 2)) c[at] = (uint8_t)gdl_rng_below(&r, 256);
      else c[at] ^= (uint8_t)(1 << gdl_rng_below(&r, 8));
    }
    write_bytes(p, c, n);
    bool loaded;
    if (fails(l, p, &loaded)) refused++;
    else if (!loaded) unnamed++;
  }
  CHECK(unnamed == 0, "%s: %d corruptions of %s refused without naming the file (%s)",
        loader_names[l], unnamed, src, gdl_last_error());
  CHECK(refused > 0, "%s: no corruption of %s was noticed", loader_names[l], src);
  free(b);
  free(c);
}

static void test_truncation_and_corruption(void) {
  /* small IDX files, raw and gzip */
  uint8_t b[256], px[60];
  uint32_t dims[] = {3, 4, 5};
  for (int i = 0; i < 60; i++) px[i] = (uint8_t)(i * 7);
  size_t n = idx_bytes(b, 0x08, 3, dims, px, 60);
  write_bytes(tmp("small.idx"), b, n);
  write_gz(tmp("small.idx.gz"), b, n);
  gdl_arrays *r = ref_set();
  gdl_npz_save(tmp("mine_z.npz"), r, true);
  gdl_arrays_free(r);

  truncations(L_NPY, REF "io_f32.npy");
  truncations(L_NPY, REF "io_v2.npy");
  truncations(L_NPZ, REF "io_numpy.npz");
  truncations(L_NPZ, REF "io_numpy_z.npz");
  truncations(L_NPZ, REF "io_zip64.npz");
  truncations(L_NPZ, tmp("mine_z.npz"));
  truncations(L_ST, REF "io_st.safetensors");
  truncations(L_IDX, tmp("small.idx"));
  truncations(L_IDX, tmp("small.idx.gz"));

  corruptions(L_NPY, REF "io_f32.npy", 128, 3000, 1);
  corruptions(L_NPY, REF "io_f16.npy", 128, 1000, 2);
  corruptions(L_NPZ, REF "io_numpy.npz", 64, 3000, 3);
  corruptions(L_NPZ, REF "io_numpy_z.npz", 64, 3000, 4);
  corruptions(L_NPZ, REF "io_zip64.npz", 64, 2000, 5);
  corruptions(L_NPZ, REF "io_descriptor.npz", 64, 2000, 6);
  corruptions(L_ST, REF "io_st.safetensors", 448, 3000, 7);
  corruptions(L_IDX, tmp("small.idx"), 16, 1000, 8);
  corruptions(L_IDX, tmp("small.idx.gz"), 40, 2000, 9);
}

/* ---- atomic saves ------------------------------------------------------------------ */

static void test_atomic_saves(void) {
  gdl_tensor *x = ref("f64");
  gdl_arrays *a = ref_set();
  /* into a folder that does not exist */
  const char *nodir[] = {tmp("nodir/x.npy"), tmp("nodir/x.npz"), tmp("nodir/x.safetensors")};
  gdl_status s[3] = {gdl_npy_save(nodir[0], x), gdl_npz_save(nodir[1], a, true),
                     gdl_safetensors_save(nodir[2], a)};
  for (int k = 0; k < 3; k++)
    CHECK(s[k] == GDL_ERR_IO && !exists(nodir[k]) && !exists(tmp("nodir")),
          "save into a missing folder: %s", gdl_last_error());
  CHECK(says("nodir/x.safetensors"), "message names the file: %s", gdl_last_error());
  /* over a directory */
  mkdir(tmp("adir"), 0755);
  CHECK(gdl_npy_save(tmp("adir"), x) != GDL_OK && says("directory"), "npy over a directory: %s",
        gdl_last_error());
  CHECK(gdl_npz_save(tmp("adir"), a, false) != GDL_OK, "npz over a directory");
  CHECK(gdl_safetensors_save(tmp("adir"), a) != GDL_OK, "safetensors over a directory");
  struct stat st;
  CHECK(stat(tmp("adir"), &st) == 0 && S_ISDIR(st.st_mode), "directory left alone");
  CHECK(stray_temps() == 0, "no temporary files left");
  /* over an existing file: replaced whole */
  write_bytes(tmp("over.npy"), "old contents", 12);
  write_bytes(tmp("over.npz"), "old contents", 12);
  write_bytes(tmp("over.safetensors"), "old contents", 12);
  CHECK(gdl_npy_save(tmp("over.npy"), x) == GDL_OK, "npy over a file");
  CHECK(gdl_npz_save(tmp("over.npz"), a, true) == GDL_OK, "npz over a file");
  CHECK(gdl_safetensors_save(tmp("over.safetensors"), a) == GDL_OK, "safetensors over a file");
  gdl_tensor *y = gdl_npy_load(tmp("over.npy"));
  gdl_arrays *b = gdl_npz_load(tmp("over.npz")), *c = gdl_safetensors_load(tmp("over.safetensors"));
  CHECK(same(x, y) && same_set(a, b) && same_set(a, c), "replaced files load");
  gdl_tensor_free(y);
  gdl_arrays_free(b);
  gdl_arrays_free(c);
  CHECK(stray_temps() == 0, "no temporary files left after saves");

  /* a write that fails midway (file size limit): the old file survives whole */
  gdl_tensor *big = gdl_tensor_alloc(GDL_F64, GDL_SHAPE(64, 128));
  gdl_arrays *bigset = gdl_arrays_new();
  gdl_arrays_put(bigset, "big", big, false);
  struct rlimit old, lim;
  getrlimit(RLIMIT_FSIZE, &old);
  lim = old;
  lim.rlim_cur = 16384;
  void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
  if (setrlimit(RLIMIT_FSIZE, &lim) == 0) {
    gdl_status e1 = gdl_npy_save(tmp("over.npy"), big);
    CHECK(e1 == GDL_ERR_IO && names(tmp("over.npy")), "npy save past the size limit: %s",
          gdl_last_error());
    gdl_status e2 = gdl_npz_save(tmp("over.npz"), bigset, false);
    gdl_status e3 = gdl_safetensors_save(tmp("over.safetensors"), bigset);
    setrlimit(RLIMIT_FSIZE, &old);
    CHECK(e2 == GDL_ERR_IO && e3 == GDL_ERR_IO, "npz/safetensors past the size limit");
    y = gdl_npy_load(tmp("over.npy"));
    b = gdl_npz_load(tmp("over.npz"));
    c = gdl_safetensors_load(tmp("over.safetensors"));
    CHECK(same(x, y) && same_set(a, b) && same_set(a, c), "old files intact after failed saves");
    gdl_tensor_free(y);
    gdl_arrays_free(b);
    gdl_arrays_free(c);
    CHECK(stray_temps() == 0, "failed saves leave no temporary file");
  } else {
    printf("skip: cannot lower RLIMIT_FSIZE\n");
  }
  signal(SIGXFSZ, prev);
  gdl_arrays_free(bigset);
  gdl_tensor_free(big);
  gdl_tensor_free(x);
  gdl_arrays_free(a);
}

/* ---- speed (printed, not checked) --------------------------------------------------- */

static void test_speed(void) {
  gdl_tensor *x = gdl_tensor_alloc(GDL_F32, GDL_SHAPE(2048, 2048));
  gdl_rng r = gdl_rng_make(5);
  gdl_rng_fill_normal(&r, x, 0, 1);
  gdl_arrays *a = gdl_arrays_new();
  gdl_arrays_put(a, "x", x, true);
  double t0 = now();
  gdl_npz_save(tmp("speed.npz"), a, false);
  double t1 = now();
  gdl_arrays *b = gdl_npz_load(tmp("speed.npz"));
  double t2 = now();
  gdl_safetensors_save(tmp("speed.safetensors"), a);
  double t3 = now();
  gdl_arrays *c = gdl_safetensors_load(tmp("speed.safetensors"));
  double t4 = now();
  CHECK(same_set(a, b) && same_set(a, c), "16 MB round trips");
  printf("16 MB float32: npz save %.3f s, load %.3f s; safetensors save %.3f s, load %.3f s\n",
         t1 - t0, t2 - t1, t3 - t2, t4 - t3);
  gdl_arrays_free(a);
  gdl_arrays_free(b);
  gdl_arrays_free(c);
}

static void cleanup(void) {
  DIR *d = opendir(tmpdir);
  struct dirent *e;
  char p[768];
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
    if (remove(p) != 0) rmdir(p);
  }
  if (d) closedir(d);
  rmdir(tmpdir);
}

/* complex64/complex128 (interleaved re, im) round trip through .npy and .npz, and
 * the refusal of complex in safetensors */
static void test_npy_complex(void) {
  gdl_dtype types[2] = {GDL_C64, GDL_C128};
  for (int k = 0; k < 2; k++) {
    gdl_tensor *x = gdl_tensor_alloc(types[k], GDL_SHAPE(2, 3));
    for (int i = 0; i < 12; i++) {
      if (types[k] == GDL_C64) ((float *)x->data)[i] = 0.5f * i - 1;
      else ((double *)x->data)[i] = 0.25 * i - 1.5;
    }
    const char *path = tmp(k ? "c16.npy" : "c8.npy");
    CHECK(gdl_npy_save(path, x) == GDL_OK, "complex npy save: %s", gdl_last_error());
    gdl_tensor *y = gdl_npy_load(path);
    CHECK(y && y->dtype == types[k] && gdl_shape_eq(gdl_tensor_shape(y), GDL_SHAPE(2, 3)) &&
              !memcmp(x->data, y->data, gdl_tensor_nbytes(x)),
          "complex npy round trip (%s)", gdl_dtype_name(types[k]));
    gdl_arrays *a = gdl_arrays_new();
    gdl_arrays_put(a, "z", x, false);
    CHECK(gdl_npz_save(tmp("c.npz"), a, true) == GDL_OK, "complex npz save: %s", gdl_last_error());
    gdl_arrays *b = gdl_npz_load(tmp("c.npz"));
    gdl_tensor *z = b ? gdl_arrays_get(b, "z") : NULL;
    CHECK(z && z->dtype == types[k] && !memcmp(x->data, z->data, gdl_tensor_nbytes(x)),
          "complex npz round trip (%s)", gdl_dtype_name(types[k]));
    CHECK(gdl_safetensors_save(tmp("c.safetensors"), a) == GDL_ERR_UNSUPPORTED &&
              strstr(gdl_last_error(), "complex"),
          "safetensors must refuse complex: %s", gdl_last_error());
    gdl_arrays_free(a), gdl_arrays_free(b);
    gdl_tensor_free(x), gdl_tensor_free(y);
  }
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/gdl_test_io.XXXXXX");
  if (!mkdtemp(tmpdir)) {
    printf("cannot create a temporary folder\n");
    return 1;
  }
  test_arrays();
  test_npy_fixtures();
  test_npy_roundtrip();
  test_npy_hostile();
  test_npz_fixtures();
  test_npz_roundtrip();
  test_npz_hostile();
  test_safetensors_fixtures();
  test_safetensors_roundtrip();
  test_safetensors_hostile();
  test_idx_small();
  test_fashion_mnist();
  test_cora();
  test_missing_empty_magic();
  test_truncation_and_corruption();
  test_atomic_saves();
  test_speed();
  test_npy_complex();
  cleanup();
  return test_report();
}
