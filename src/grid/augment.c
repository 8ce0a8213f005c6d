/* Seeded image augmentation on batches [N, C, H, W], in place. Random parameters
 * are drawn image by image from the caller's counter-based RNG first, so the
 * result does not depend on how many threads apply them. */
#include <stdlib.h>

#include "core/internal.h"
#include "gdl/grid.h"

static void check(const gdl_tensor *x, const char *op) {
  GDL_ASSERT(x->ndim == 4 && gdl_dtype_is_float(x->dtype) && gdl_tensor_is_contiguous(x),
             "%s: expects a contiguous float batch [N, C, H, W]", op);
}

/* Image k (all channels) resampled at: source pixel of (i, j) = (ci + (i - ci) a + (j - cj) b + ty,
 * cj + (i - ci) c + (j - cj) d + tx), bilinear, `fill` outside. */
typedef struct {
  double a, b, c, d, ty, tx;
} affine;

static void warp(gdl_tensor *x, const affine *t, double fill) {
  int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
  double ci = (double)(H - 1) / 2, cj = (double)(W - 1) / 2;
  GDL_FLOAT_SWITCH(x->dtype, T, {
    T *X = x->data;
    GDL_OMP(omp parallel)
    {
      T *tmp = malloc(sizeof(T) * (size_t)(H * W));
      GDL_OMP(omp for schedule(static))
      for (int64_t q = 0; q < N * C; q++) {
        const affine *m = &t[q / C];
        T *img = X + q * H * W;
        memcpy(tmp, img, sizeof(T) * (size_t)(H * W));
        for (int64_t i = 0; i < H; i++)
          for (int64_t j = 0; j < W; j++) {
            double si = ci + ((double)i - ci) * m->a + ((double)j - cj) * m->b + m->ty;
            double sj = cj + ((double)i - ci) * m->c + ((double)j - cj) * m->d + m->tx;
            double fi = floor(si), fj = floor(sj), acc = 0;
            for (int k = 0; k < 4; k++) {
              int64_t ii = (int64_t)fi + (k >> 1), jj = (int64_t)fj + (k & 1);
              double wgt = ((k >> 1) ? si - fi : 1 - (si - fi)) * ((k & 1) ? sj - fj : 1 - (sj - fj));
              if (wgt == 0) continue;
              acc += wgt * (ii >= 0 && ii < H && jj >= 0 && jj < W ? (double)tmp[ii * W + jj] : fill);
            }
            img[i * W + j] = (T)acc;
          }
      }
      free(tmp);
    }
  });
}

/* Exact quarter turns of square images by index permutation (no interpolation). */
static void rot90(gdl_tensor *x, const int *quarters) {
  int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2];
  GDL_FLOAT_SWITCH(x->dtype, T, {
    T *X = x->data;
    GDL_OMP(omp parallel)
    {
      T *tmp = malloc(sizeof(T) * (size_t)(H * H));
      GDL_OMP(omp for schedule(static))
      for (int64_t q = 0; q < N * C; q++) {
        int r = ((quarters[q / C] % 4) + 4) % 4;
        T *img = X + q * H * H;
        memcpy(tmp, img, sizeof(T) * (size_t)(H * H));
        for (int64_t i = 0; i < H; i++)
          for (int64_t j = 0; j < H; j++) { /* counter-clockwise: out(i, j) = in(j, H-1-i) per turn */
            int64_t si = i, sj = j;
            for (int k = 0; k < r; k++) {
              int64_t t = si;
              si = sj;
              sj = H - 1 - t;
            }
            img[i * H + j] = tmp[si * H + sj];
          }
      }
      free(tmp);
    }
  });
}

static void rotate_each(gdl_tensor *x, const double *deg, double fill) {
  int64_t N = x->shape[0];
  bool square = x->shape[2] == x->shape[3], quarter = square;
  for (int64_t k = 0; k < N && quarter; k++) quarter = fmod(deg[k], 90.0) == 0;
  if (quarter) {
    int *q = malloc(sizeof(int) * (size_t)N);
    for (int64_t k = 0; k < N; k++) q[k] = (int)(deg[k] / 90.0);
    rot90(x, q);
    free(q);
    return;
  }
  affine *t = malloc(sizeof *t * (size_t)N);
  for (int64_t k = 0; k < N; k++) {
    double r = deg[k] * 3.14159265358979323846 / 180, c = cos(r), s = sin(r);
    /* Counter-clockwise on screen (rows grow downwards): sample the input rotated back. */
    t[k] = (affine){c, s, -s, c, 0, 0};
  }
  warp(x, t, fill);
  free(t);
}

void gdl_image_rotate(gdl_tensor *x, double deg, double fill) {
  check(x, "image_rotate");
  double *d = malloc(sizeof(double) * (size_t)x->shape[0]);
  for (int64_t k = 0; k < x->shape[0]; k++) d[k] = deg;
  rotate_each(x, d, fill);
  free(d);
}

void gdl_augment_rotate(gdl_tensor *x, double max_deg, double fill, gdl_rng *rng) {
  check(x, "augment_rotate");
  double *d = malloc(sizeof(double) * (size_t)x->shape[0]);
  for (int64_t k = 0; k < x->shape[0]; k++) d[k] = max_deg * (2 * gdl_rng_uniform(rng) - 1);
  rotate_each(x, d, fill);
  free(d);
}

void gdl_augment_translate(gdl_tensor *x, int max_shift, double fill, gdl_rng *rng) {
  check(x, "augment_translate");
  int64_t N = x->shape[0];
  affine *t = malloc(sizeof *t * (size_t)N);
  for (int64_t k = 0; k < N; k++) {
    double dy = (double)gdl_rng_below(rng, 2 * (uint64_t)max_shift + 1) - max_shift;
    double dx = (double)gdl_rng_below(rng, 2 * (uint64_t)max_shift + 1) - max_shift;
    t[k] = (affine){1, 0, 0, 1, dy, dx};
  }
  warp(x, t, fill);
  free(t);
}

/* Padding by `pad` then a random crop of the original size is a shift in [-pad, pad]. */
void gdl_augment_crop(gdl_tensor *x, int pad, double fill, gdl_rng *rng) { gdl_augment_translate(x, pad, fill, rng); }

void gdl_augment_flip(gdl_tensor *x, gdl_rng *rng) {
  check(x, "augment_flip");
  int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
  uint8_t *flip = malloc((size_t)N);
  for (int64_t k = 0; k < N; k++) flip[k] = gdl_rng_uniform(rng) < 0.5;
  GDL_FLOAT_SWITCH(x->dtype, T, {
    T *X = x->data;
    GDL_PARALLEL_FOR_IF(N * C * H * W > GDL_PAR_MIN)
    for (int64_t q = 0; q < N * C; q++) {
      if (!flip[q / C]) continue;
      for (int64_t i = 0; i < H; i++) {
        T *row = X + (q * H + i) * W;
        for (int64_t j = 0; j < W / 2; j++) {
          T t = row[j];
          row[j] = row[W - 1 - j];
          row[W - 1 - j] = t;
        }
      }
    }
  });
  free(flip);
}
