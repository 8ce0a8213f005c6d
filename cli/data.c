/* The [data] section: which dataset, where, how to split and scale it. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *const dataset_names[] = {"fashion-mnist", "mnist", "npz", "none", NULL};
enum { FASHION, MNIST, NPZ, NONE };

/* Rows idx[0..n) of x as a new heap tensor. */
static gdl_tensor *take_rows(const gdl_tensor *x, const int64_t *idx, int64_t n) {
  gdl_shape s = gdl_tensor_shape(x);
  s.d[0] = n;
  gdl_tensor *y = gdl_tensor_alloc(x->dtype, s);
  if (!y) return NULL;
  size_t row = x->shape[0] ? gdl_tensor_nbytes(x) / (size_t)x->shape[0] : 0;
  for (int64_t i = 0; i < n; i++) memcpy((char *)y->data + (size_t)i * row, (char *)x->data + (size_t)idx[i] * row, row);
  return y;
}

static gdl_tensor *keep(cli_data *d, gdl_tensor *t) {
  for (int i = 0; i < 6; i++)
    if (!d->owned[i]) return d->owned[i] = t;
  GDL_ASSERT(0, "too many data tensors");
  return t;
}

static gdl_status load_idx_pair(const char *dir, const char *stem, gdl_tensor **x, gdl_tensor **y) {
  char px[1024], py[1024];
  snprintf(px, sizeof px, "%s/%s-images-idx3-ubyte.gz", dir, stem);
  snprintf(py, sizeof py, "%s/%s-labels-idx1-ubyte.gz", dir, stem);
  *x = gdl_idx_load(px);
  if (!*x) return GDL_ERR_FORMAT;
  *y = gdl_idx_load(py);
  if (!*y || (*x)->ndim != 3 || (*y)->ndim != 1 || (*x)->shape[0] != (*y)->shape[0] || (*x)->dtype != GDL_U8) {
    if (*y) gdl_error(GDL_ERR_SHAPE, "%s and %s: expected uint8 images [N, H, W] and N labels", px, py);
    gdl_tensor_free(*x);
    gdl_tensor_free(*y);
    return GDL_ERR_FORMAT;
  }
  gdl_tensor *yl = gdl_tensor_alloc(GDL_I64, gdl_tensor_shape(*y));
  gdl_tensor_copy(yl, *y);
  gdl_tensor_free(*y);
  *y = yl;
  /* Images get a channel axis: [N, 1, H, W], as CNNs expect. */
  gdl_tensor *t = *x;
  t->ndim = 4;
  t->shape[3] = t->shape[2];
  t->shape[2] = t->shape[1];
  t->shape[1] = 1;
  for (int64_t k = 3, s = 1; k >= 0; k--) t->stride[k] = s, s *= t->shape[k];
  return GDL_OK;
}

static gdl_status load_npz_pair(gdl_section *s, const char *key, gdl_tensor **x, gdl_tensor **y) {
  const char *path;
  gdl_section_str(s, key, NULL, &path);
  if (!path) return gdl_section_error(s, key, "is required for dataset = npz");
  gdl_arrays *a = gdl_npz_load(path);
  if (!a) return GDL_ERR_FORMAT;
  gdl_tensor *ax = gdl_arrays_get(a, "x"), *ay = gdl_arrays_get(a, "y");
  gdl_status st = GDL_OK;
  if (!ax || !ay) st = gdl_error(GDL_ERR_FORMAT, "%s: needs arrays 'x' and 'y'", path);
  else if (ax->ndim < 2 || ay->ndim != 1 || ay->shape[0] != ax->shape[0])
    st = gdl_error(GDL_ERR_SHAPE, "%s: x must be [N, ...] and y [N]", path);
  else if (ay->dtype != GDL_I64 && ay->dtype != GDL_I32 && ay->dtype != GDL_U8)
    st = gdl_error(GDL_ERR_FORMAT, "%s: y must hold integer class labels, got %s", path, gdl_dtype_name(ay->dtype));
  else if (ax->dtype != GDL_U8 && !gdl_dtype_is_float(ax->dtype))
    st = gdl_error(GDL_ERR_FORMAT, "%s: x must be float or uint8, got %s", path, gdl_dtype_name(ax->dtype));
  else if ((st = gdl_tensor_check_finite(ax, "x")))
    st = gdl_error(st, "%s: %s", path, gdl_last_error());
  if (!st) {
    *x = gdl_tensor_clone(ax);
    *y = gdl_tensor_alloc(GDL_I64, gdl_tensor_shape(ay));
    gdl_tensor_copy(*y, ay);
  }
  gdl_arrays_free(a);
  return st;
}

gdl_status cli_data_load(gdl_section *s, uint64_t seed, cli_data *d) {
  memset(d, 0, sizeof *d);
  int kind;
  const char *dir;
  int64_t nval, limit_train, limit_test;
  bool normalize;
  double mean, std;
  gdl_status st = gdl_section_enum(s, "dataset", dataset_names, FASHION, &kind);
  if (!st) st = gdl_section_str(s, "path", kind == MNIST ? "/usr/share/datasets/mnist" : "/usr/share/datasets/fashion-mnist", &dir);
  if (!st) st = gdl_section_int(s, "validation", 5000, &nval);
  if (!st) st = gdl_section_int(s, "limit_train", 0, &limit_train);
  if (!st) st = gdl_section_int(s, "limit_test", 0, &limit_test);
  if (!st) st = gdl_section_bool(s, "normalize", true, &normalize);
  /* Fashion-MNIST's pixel mean and standard deviation (MNIST: 0.1307, 0.3081). */
  if (!st) st = gdl_section_double(s, "mean", kind == MNIST ? 0.1307 : 0.2860, &mean);
  if (!st) st = gdl_section_double(s, "std", kind == MNIST ? 0.3081 : 0.3530, &std);
  if (!st && std <= 0) st = gdl_section_error(s, "std", "must be positive");
  cli_augment *au = &d->augment;
  if (!st) st = gdl_section_bool(s, "augment_flip", false, &au->flip);
  if (!st) st = gdl_section_int(s, "augment_crop", 0, &au->crop);
  if (!st) st = gdl_section_int(s, "augment_translate", 0, &au->translate);
  if (!st) st = gdl_section_double(s, "augment_rotate", 0, &au->rotate);
  if (!st && au->crop < 0) st = gdl_section_error(s, "augment_crop", "must be >= 0 (pixels)");
  if (!st && au->translate < 0) st = gdl_section_error(s, "augment_translate", "must be >= 0 (pixels)");
  if (!st && (au->rotate < 0 || au->rotate > 180)) st = gdl_section_error(s, "augment_rotate", "must be in [0, 180] degrees");
  if (st) return st;
  d->augmenting = au->flip || au->crop || au->translate || au->rotate > 0;

  if (kind == NONE) { /* a model without data (gdl info, gdl predict): shape and classes given */
    int64_t shape[GDL_MAX_DIMS];
    int n;
    gdl_section_mark_used(s);
    st = gdl_section_ints(s, "shape", shape, GDL_MAX_DIMS - 1, &n);
    if (!st && !n) st = gdl_section_error(s, "shape", "is required with dataset = none (e.g. shape = 3, 224, 224)");
    if (!st) st = gdl_section_int(s, "classes", 0, &d->num_classes);
    if (st) return st;
    d->sample_shape.ndim = n;
    for (int i = 0; i < n; i++) d->sample_shape.d[i] = shape[i];
    return GDL_OK;
  }
  gdl_tensor *x, *y, *tx, *ty;
  if (kind == NPZ) {
    st = load_npz_pair(s, "train", &x, &y);
    if (!st && (st = load_npz_pair(s, "test", &tx, &ty))) gdl_tensor_free(x), gdl_tensor_free(y);
  } else {
    st = load_idx_pair(dir, "train", &x, &y);
    if (!st && (st = load_idx_pair(dir, "t10k", &tx, &ty))) gdl_tensor_free(x), gdl_tensor_free(y);
  }
  if (st) return st;
  keep(d, tx);
  keep(d, ty);
  int64_t n = x->shape[0];
  if (nval < 0 || nval >= n) {
    gdl_tensor_free(x);
    gdl_tensor_free(y);
    return gdl_section_error(s, "validation", "must be in [0, %lld)", (long long)n);
  }
  /* A seeded random split: the validation set never overlaps the training set. */
  int64_t *perm = malloc((size_t)n * sizeof *perm);
  for (int64_t i = 0; i < n; i++) perm[i] = i;
  gdl_rng rng = gdl_rng_make(seed ^ 0x7f4a7c159e3779b9ull);
  gdl_rng_shuffle(&rng, perm, n);
  int64_t ntrain = n - nval;
  if (limit_train > 0 && limit_train < ntrain) ntrain = limit_train;
  d->train.x = keep(d, take_rows(x, perm, ntrain));
  d->train.y = keep(d, take_rows(y, perm, ntrain));
  if (nval) {
    d->val.x = keep(d, take_rows(x, perm + n - nval, nval));
    d->val.y = keep(d, take_rows(y, perm + n - nval, nval));
  }
  free(perm);
  gdl_tensor_free(x);
  gdl_tensor_free(y);
  if (limit_test > 0 && limit_test < tx->shape[0]) tx->shape[0] = limit_test, ty->shape[0] = limit_test;
  d->test.x = tx;
  d->test.y = ty;

  double scale = 1, shift = 0;
  if (d->train.x->dtype == GDL_U8) scale = 1.0 / 255; /* pixels to [0, 1] */
  if (normalize) {
    shift = -mean / std;
    scale /= std;
  }
  gdl_dataset *sets[3] = {&d->train, &d->val, &d->test};
  int64_t maxy = 0;
  for (int i = 0; i < 3; i++) {
    sets[i]->scale = scale;
    sets[i]->shift = shift;
    for (int64_t k = 0; sets[i]->y && k < sets[i]->y->shape[0]; k++) {
      int64_t v = ((int64_t *)sets[i]->y->data)[k];
      if (v < 0) return gdl_error(GDL_ERR_VALUE, "[data]: negative class label %lld", (long long)v);
      if (v > maxy) maxy = v;
    }
  }
  d->num_classes = maxy + 1;
  d->augment.fill = shift; /* where a black (0) pixel lands after scaling */
  if (d->augmenting && d->train.x->ndim != 4)
    return gdl_section_error(s, "augment_flip", "augmentation needs image samples [C, H, W]");
  for (int i = 0; i < 3; i++) sets[i]->num_classes = d->num_classes;
  d->sample_shape = gdl_tensor_shape(d->train.x);
  d->sample_shape.ndim--;
  memmove(d->sample_shape.d, d->sample_shape.d + 1, sizeof(int64_t) * (size_t)d->sample_shape.ndim);
  return GDL_OK;
}

void cli_data_free(cli_data *d) {
  for (int i = 0; i < 6; i++) gdl_tensor_free(d->owned[i]);
  memset(d, 0, sizeof *d);
}

void cli_augment_batch(gdl_tensor *x, gdl_rng *rng, void *augment) {
  const cli_augment *a = augment;
  if (a->flip) gdl_augment_flip(x, rng);
  if (a->crop) gdl_augment_crop(x, (int)a->crop, a->fill, rng);
  if (a->translate) gdl_augment_translate(x, (int)a->translate, a->fill, rng);
  if (a->rotate > 0) gdl_augment_rotate(x, a->rotate, a->fill, rng);
}
