/* C_N and D_N convolutions from a steerable (circular-harmonic) filter basis.
 *
 * A filter is a combination sum_b w_b psi_b of basis functions
 *   psi_{j,0} = tau_j(r),  psi_{j,k,c} = tau_j(r) cos(k phi),  psi_{j,k,s} = tau_j(r) sin(k phi)
 * with Gaussian rings tau_j(r) = exp(-(r - j)^2 / (2 sigma^2)) at radii j = 0..(k-1)/2
 * and angular frequencies f <= j (a ring of radius j holds ~2 pi j pixels:
 * higher frequencies would alias),
 * sampled on the k x k grid (polar coordinates about the centre, y up), masked to
 * the disc and normalised. Element e = (m, r) of D_N (r: rotation by 2 pi r / N,
 * m: mirror left-right first) transforms a filter to f(e^-1 x), i.e. the basis is
 * evaluated at phi' = F^m(phi - 2 pi r / N), F(phi) = pi - phi: rotated filters are
 * exact samples of the rotated continuous filter, not interpolated images. For
 * rotations by multiples of 90 degrees they equal the pixel permutations of p4.
 *
 * Layers then work as the p4 ones (src/group/p4.c): lifting banks
 * bank[o, e, c] = T_e W[o, c], group banks bank[o, e, c, h] = T_e W[o, c, e^-1 h], built
 * from the coefficients with matmul (so gradients reach them), then one conv2d. */
#include "core/internal.h"
#include "gdl/grid.h"
#include "gdl/group.h"

int gdl_dihedral_mul(int n, int a, int b) {
  int m1 = a / n, r1 = a % n, m2 = b / n, r2 = b % n;
  return n * (m1 ^ m2) + ((r1 + (m1 ? -r2 : r2)) % n + n) % n;
}

int gdl_dihedral_inv(int n, int a) { return a / n ? a : (n - a % n) % n; }

int gdl_steerable_basis_size(int k) {
  int nb = 0;
  for (int j = 0; j <= (k - 1) / 2; j++) nb += 1 + 2 * j; /* f = 0, then cos and sin for f = 1..j */
  return nb;
}

/* tau_j(r) times cos/sin(f phi); harmonics with f > 0 vanish at the centre, where
 * the angle means nothing (else rotated filters would differ there). */
static double harmonic(double r, double phi, int j, int f, int part, double sigma, double rmax) {
  if (r > rmax || (f > 0 && r == 0)) return 0;
  return exp(-(r - j) * (r - j) / (2 * sigma * sigma)) * (f == 0 ? 1 : part ? sin(f * phi) : cos(f * phi));
}

/* The basis under every element of C_N (reflect: D_N): [G, nb, k*k]. */
gdl_tensor *gdl_steerable_basis(gdl_ctx *ctx, int n, bool reflect, int k, gdl_dtype t) {
  GDL_ASSERT(k % 2 == 1 && k >= 3, "steerable filters need an odd kernel >= 3, got %d", k);
  int G = reflect ? 2 * n : n, nb = gdl_steerable_basis_size(k);
  double c = (k - 1) / 2.0, sigma = 0.6, rmax = c + 0.5;
  gdl_tensor *B = gdl_tensor_new(ctx, GDL_F64, GDL_SHAPE(G, nb, k * k));
  double *p = B->data;
  for (int e = 0; e < G; e++) {
    double theta = 2 * M_PI * (e % n) / n;
    int b = 0;
    for (int j = 0; j <= (k - 1) / 2; j++)
      for (int f = 0; f <= j; f++)
        for (int part = 0; part < (f ? 2 : 1); part++, b++) {
          double norm = 0, *row = p + ((int64_t)e * nb + b) * k * k;
          for (int i = 0; i < k; i++)
            for (int q = 0; q < k; q++) {
              double x = q - c, y = c - i, r = hypot(x, y), phi = atan2(y, x) - theta;
              if (e / n) phi = M_PI - phi;
              row[i * k + q] = harmonic(r, phi, j, f, part, sigma, rmax);
            }
          /* Normalise with the unrotated function so every element shares the scale. */
          for (int i = 0; i < k; i++)
            for (int q = 0; q < k; q++) {
              double x = q - c, y = c - i, v = harmonic(hypot(x, y), atan2(y, x), j, f, part, sigma, rmax);
              norm += v * v;
            }
          for (int q = 0; q < k * k; q++) row[q] /= sqrt(norm);
        }
  }
  return t == GDL_F64 ? B : gdl_tensor_cast(ctx, B, t);
}

gdl_tensor *gdl_steerable_conv2d(gdl_ctx *ctx, int n, bool reflect, gdl_tensor *x, gdl_tensor *w,
                                 gdl_tensor *basis, gdl_tensor *b, int stride, int padding) {
  int G = reflect ? 2 * n : n;
  bool lifting = x->ndim == 4;
  int64_t nb = basis->shape[1], kk = basis->shape[2], k = (int64_t)lround(sqrt((double)kk));
  GDL_ASSERT(x->ndim == 4 || (x->ndim == 5 && x->shape[2] == G),
             "steerable_conv2d: input must be [N, C, H, W] or [N, C, %d, H, W]", G);
  GDL_ASSERT(w->ndim == (lifting ? 3 : 4) && w->shape[1] == x->shape[1] && w->shape[w->ndim - 1] == nb &&
                 (lifting || w->shape[2] == G),
             "steerable_conv2d: coefficients must be [O, C%s, %lld]", lifting ? "" : ", |H|", (long long)nb);
  int64_t O = w->shape[0], C = x->shape[1], hin = lifting ? 1 : G;
  gdl_tensor **banks = gdl_ctx_alloc(ctx, sizeof *banks * (size_t)G);
  for (int e = 0; e < G; e++) {
    gdl_tensor *we = w;
    if (!lifting) { /* W[o, c, e^-1 h] */
      gdl_tensor *pe = gdl_tensor_new(ctx, GDL_I64, GDL_SHAPE(G));
      for (int h = 0; h < G; h++) ((int64_t *)pe->data)[h] = gdl_dihedral_mul(n, gdl_dihedral_inv(n, e), h);
      we = gdl_index_select(ctx, w, 2, pe);
    }
    gdl_tensor *be = gdl_reshape(ctx, gdl_slice(ctx, basis, 0, e, e + 1, 1), GDL_SHAPE(nb, kk));
    banks[e] = gdl_matmul(ctx, gdl_reshape(ctx, we, GDL_SHAPE(O * C * hin, nb)), be); /* [O C hin, kk] */
  }
  gdl_tensor *bank = gdl_stack(ctx, banks, G, 1); /* [O C hin, G, kk] */
  bank = gdl_reshape(ctx, bank, GDL_SHAPE(O, C * hin, G, kk));
  bank = gdl_contiguous(ctx, gdl_transpose(ctx, bank, 1, 2)); /* [O, G, C hin, kk] */
  bank = gdl_reshape(ctx, bank, GDL_SHAPE(O * G, C * hin, k, k));
  gdl_tensor *in = lifting ? x : gdl_reshape(ctx, x, GDL_SHAPE(x->shape[0], C * G, x->shape[3], x->shape[4]));
  gdl_tensor *y = gdl_conv2d(ctx, in, bank, gdl__group_bias(ctx, b, G), stride, padding);
  return gdl_reshape(ctx, y, GDL_SHAPE(y->shape[0], O, G, y->shape[2], y->shape[3]));
}
