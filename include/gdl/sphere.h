/* gdl sphere and SO(3): samplings, spherical harmonic transforms (SHT), Wigner
 * d/D, rotations and Wigner transforms. Conventions (as ssht/so3, see
 * docs/sphere.md):
 *
 *   sY_lm(t, p) = (-1)^s sqrt((2l+1)/(4 pi)) d^l_{m,-s}(t) e^{i m p}   (Condon-Shortley)
 *   D^l_mn(a, b, g) = e^{-i m a} d^l_mn(b) e^{-i n g}                  (ZYZ, active)
 *   harmonic index l^2 + l + m; a bandlimit L means 0 <= l < L.
 *
 * Maps are stored ring by ring (north to south), each ring from its phi offset
 * eastwards; HEALPix maps in healpy's RING order. Plans own tables (and keep their
 * work arrays between calls), never the caller's arrays; they are safe to execute
 * from several threads at once. */
#ifndef GDL_SPHERE_H
#define GDL_SPHERE_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- samplings ------------------------------------------------------------ */

typedef enum {
  GDL_SAMPLING_MW,      /* McEwen-Wiaux: L rings t=pi(2j+1)/(2L-1) (last on the south pole) x 2L-1 */
  GDL_SAMPLING_MWSS,    /* MW symmetric: L+1 rings t=pi j/L (both poles) x 2L */
  GDL_SAMPLING_GL,      /* Gauss-Legendre: L rings x 2L-1 */
  GDL_SAMPLING_DH,      /* Driscoll-Healy (as ssht): 2L rings t=pi(2j+1)/(4L) x 2L-1 */
  GDL_SAMPLING_CC,      /* Clenshaw-Curtis: ntheta rings t=pi j/(ntheta-1) x nphi */
  GDL_SAMPLING_HEALPIX, /* HEALPix, RING order, 12 nside^2 pixels */
  GDL_SAMPLING_COUNT
} gdl_sampling_kind;

/* One iso-latitude ring geometry describes every sampling. */
typedef struct {
  gdl_sampling_kind kind;
  int L;          /* bandlimit the sampling was made for (HEALPix: 3 nside by default) */
  int nside;      /* HEALPix only */
  int64_t nring, npix;
  double *theta;      /* [nring] colatitude of each ring */
  double *phi0;       /* [nring] longitude of the ring's first pixel */
  int64_t *nphi;      /* [nring] pixels in the ring */
  int64_t *ringstart; /* [nring] index of the ring's first pixel */
  double *weight;     /* [nring] quadrature weight of each pixel of the ring (sum 4 pi).
                         Exact for bandlimit L on GL and DH; on MW/MWSS/CC the
                         transforms reach exactness by resampling in theta instead. */
} gdl_sampling;

/* L >= 1 for the equiangular kinds (ntheta/nphi 0: the defaults above; CC needs
 * ntheta >= L+1 and every kind nphi >= 2L-1); HEALPix takes nside >= 1 and ignores
 * L (set it later through the plan). NULL with a message on bad arguments. */
GDL_API gdl_sampling *gdl_sampling_new(gdl_sampling_kind kind, int L, int nside);
GDL_API gdl_sampling *gdl_sampling_new_cc(int L, int64_t ntheta, int64_t nphi);
GDL_API void gdl_sampling_free(gdl_sampling *s);
/* "mw", "mwss", "gl", "dh", "cc", "healpix" <-> kind; -1 for an unknown name. */
GDL_API const char *gdl_sampling_name(gdl_sampling_kind k);
GDL_API int gdl_sampling_parse(const char *name);
/* Colatitude and longitude of pixel i. */
GDL_API void gdl_sampling_pix2ang(const gdl_sampling *s, int64_t i, double *theta, double *phi);
/* Gauss-Legendre nodes x = cos(theta) (descending) and weights on [-1, 1]. */
GDL_API void gdl_gauss_legendre(int64_t n, double *x, double *w);

/* ---- HEALPix pixel arithmetic (healpy's conventions) ---------------------- */

GDL_API int64_t gdl_healpix_ang2pix_ring(int64_t nside, double theta, double phi);
GDL_API void gdl_healpix_pix2ang_ring(int64_t nside, int64_t pix, double *theta, double *phi);
/* Nested scheme: nside must be a power of two. */
GDL_API int64_t gdl_healpix_ang2pix_nest(int64_t nside, double theta, double phi);
GDL_API void gdl_healpix_pix2ang_nest(int64_t nside, int64_t pix, double *theta, double *phi);
GDL_API int64_t gdl_healpix_nest2ring(int64_t nside, int64_t pix);
GDL_API int64_t gdl_healpix_ring2nest(int64_t nside, int64_t pix);

/* ---- spherical harmonic transforms ---------------------------------------- */

typedef struct gdl_sht_plan gdl_sht_plan;

enum {
  GDL_SHT_REAL = 1,       /* real maps (spin 0): coefficients obey a_{l,-m} = (-1)^m conj(a_lm) */
  GDL_SHT_REAL_BASIS = 2, /* with REAL: real coefficients of the real orthonormal basis
                             Y_{l,m>0} = sqrt2 (-1)^m Re Y_l^m, Y_{l,m<0} = sqrt2 (-1)^m Im Y_l^|m| */
  GDL_SHT_FLOAT32 = 4,    /* arrays are float32 / complex64 (the arithmetic stays float64) */
  GDL_SHT_MEASURE = 8     /* let FFTW measure its plans (slower to create, faster to run) */
};

/* A transform at bandlimit L (l < L) and spin |s| < L on a sampling (copied).
 * Arrays (nbatch of them, back to back, sharing one Legendre recursion):
 *   maps:   npix values, complex (interleaved re, im) unless GDL_SHT_REAL;
 *   coeffs: L^2 values at l^2 + l + m, complex unless GDL_SHT_REAL_BASIS.
 * Threads: gdl_set_threads (OpenMP over m). */
GDL_API gdl_sht_plan *gdl_sht_plan_create(const gdl_sampling *s, int L, int spin, unsigned flags);
GDL_API void gdl_sht_plan_destroy(gdl_sht_plan *p);
GDL_API int64_t gdl_sht_map_size(const gdl_sht_plan *p);   /* values per map (complex or real) */
GDL_API int64_t gdl_sht_coeff_size(const gdl_sht_plan *p); /* L^2 */
GDL_API const gdl_sampling *gdl_sht_sampling(const gdl_sht_plan *p);

/* Synthesis: map = sum_lm a_lm sY_lm. */
GDL_API gdl_status gdl_sht_inverse(const gdl_sht_plan *p, const void *alm, void *map, int64_t nbatch);
/* Analysis: a_lm = integral of map conj(sY_lm) by quadrature; exact for bandlimited
 * maps on MW, MWSS, GL, DH and CC. On HEALPix one quadrature step (see _iter). */
GDL_API gdl_status gdl_sht_forward(const gdl_sht_plan *p, const void *map, void *alm, int64_t nbatch);
/* Adjoints (real inner products sum x*y, i.e. Re <x, y> for complex arrays):
 * inverse_adjoint maps -> coeffs is the transpose of gdl_sht_inverse;
 * forward_adjoint coeffs -> maps is the transpose of gdl_sht_forward. */
GDL_API gdl_status gdl_sht_inverse_adjoint(const gdl_sht_plan *p, const void *map, void *alm,
                                           int64_t nbatch);
GDL_API gdl_status gdl_sht_forward_adjoint(const gdl_sht_plan *p, const void *alm, void *map,
                                           int64_t nbatch);
/* Analysis refined by niter Jacobi steps a += A (f - S a) (healpy's iter); with
 * residual non-NULL, the largest ||f - S a|| / ||f|| over the batch. */
GDL_API gdl_status gdl_sht_forward_iter(const gdl_sht_plan *p, const void *map, void *alm,
                                        int64_t nbatch, int niter, double *residual);
/* Least squares min ||S a - f|| by conjugate gradients on the normal equations,
 * until the relative residual change falls below tol or maxiter steps. */
GDL_API gdl_status gdl_sht_forward_lsq(const gdl_sht_plan *p, const void *map, void *alm,
                                       int64_t nbatch, double tol, int maxiter, double *residual);

/* Complex coefficients of a real map (L^2, all m) <-> real-basis coefficients. */
GDL_API void gdl_sht_complex_to_real(int L, const double *alm, double *c);
GDL_API void gdl_sht_real_to_complex(int L, const double *c, double *alm);

/* sY_lm(theta, phi) for every l < L, m (index l^2+l+m, l >= |s|; others 0), complex. */
GDL_API gdl_status gdl_sph_harm(int L, int spin, double theta, double phi, double *ylm);

/* ---- Wigner d and D, rotations ------------------------------------------------ */

/* d^l_mn(beta) for one l, all -l <= m, n <= l: out[(m+l)(2l+1) + n+l]. Computed by
 * Risbo's recursion from l = 0 (O(l^3)); stable for l beyond 2048. */
GDL_API gdl_status gdl_wigner_d(int l, double beta, double *out);
/* A Risbo iterator: after gdl_wigner_risbo_next, d holds d^l for l = 0, 1, 2, ... */
typedef struct gdl_wigner_risbo gdl_wigner_risbo;
GDL_API gdl_wigner_risbo *gdl_wigner_risbo_new(int lmax, double beta);
GDL_API const double *gdl_wigner_risbo_next(gdl_wigner_risbo *r, int *l); /* row-major (2l+1)^2 */
GDL_API void gdl_wigner_risbo_free(gdl_wigner_risbo *r);
/* d^l_mn(beta) for a fixed (m, n) and every l < L by the three-term recursion in l
 * (the SHT's own, with an extended exponent); out[l], zero for l < max(|m|,|n|). */
GDL_API void gdl_wigner_d_column(int L, int m, int n, double beta, double *out);
/* D^l_mn(alpha, beta, gamma) for one l, complex, same layout as gdl_wigner_d. */
GDL_API gdl_status gdl_wigner_D(int l, double alpha, double beta, double gamma, double *out);

/* Rotation of a bandlimited signal: f'(x) = f(R^{-1} x), R = Rz(alpha) Ry(beta) Rz(gamma):
 * a'_lm = sum_n D^l_mn(alpha, beta, gamma) a_ln. Complex coefficients (L^2); in and out may
 * alias. Cost O(L^3). */
GDL_API gdl_status gdl_sht_rotate(int L, const double *alm, double *out, double alpha, double beta,
                                  double gamma);

/* ---- SO(3): Wigner transforms on the MW sampling ------------------------------- */

/* Samples f(alpha_a, beta_b, gamma_g), index (g (L) + b)(2L-1) + a:
 *   alpha_a = 2 pi a/(2L-1), beta_b = pi(2b+1)/(2L-1), gamma_g = 2 pi g/(2N-1);
 * coefficients flmn at n' (L^2) + l^2 + l + m, n' = n + N - 1 (|n| < N, zero for l < |n|):
 *   f = sum (2l+1)/(8 pi^2) flmn conj(D^l_mn),   flmn = integral f D^l_mn. */
typedef struct gdl_so3_plan gdl_so3_plan;
GDL_API gdl_so3_plan *gdl_so3_plan_create(int L, int N, unsigned flags); /* flags: FLOAT32 */
GDL_API void gdl_so3_plan_destroy(gdl_so3_plan *p);
GDL_API int64_t gdl_so3_map_size(const gdl_so3_plan *p);   /* (2N-1) L (2L-1) */
GDL_API int64_t gdl_so3_coeff_size(const gdl_so3_plan *p); /* (2N-1) L^2 */
GDL_API gdl_status gdl_so3_inverse(const gdl_so3_plan *p, const void *flmn, void *f);
GDL_API gdl_status gdl_so3_forward(const gdl_so3_plan *p, const void *f, void *flmn);
GDL_API gdl_status gdl_so3_inverse_adjoint(const gdl_so3_plan *p, const void *f, void *flmn);
GDL_API gdl_status gdl_so3_forward_adjoint(const gdl_so3_plan *p, const void *flmn, void *f);

/* ---- differentiable ops (real tensors; complex as a trailing axis of 2) -------- */

/* x [..., L^2] real-basis coefficients -> [..., npix] real map (p: REAL|REAL_BASIS plan). */
GDL_API gdl_tensor *gdl_sht_synthesis(gdl_ctx *ctx, const gdl_sht_plan *p, gdl_tensor *x);
/* x [..., npix] -> [..., L^2] (analysis, backward = its adjoint). */
GDL_API gdl_tensor *gdl_sht_analysis(gdl_ctx *ctx, const gdl_sht_plan *p, gdl_tensor *x);
/* Complex plans: x [..., L^2, 2] <-> [..., npix, 2]. */
GDL_API gdl_tensor *gdl_sht_synthesis_complex(gdl_ctx *ctx, const gdl_sht_plan *p, gdl_tensor *x);
GDL_API gdl_tensor *gdl_sht_analysis_complex(gdl_ctx *ctx, const gdl_sht_plan *p, gdl_tensor *x);
/* Wigner: flmn [(2N-1) L^2, 2] <-> f [(2N-1) L (2L-1), 2]. */
GDL_API gdl_tensor *gdl_so3_synthesis(gdl_ctx *ctx, const gdl_so3_plan *p, gdl_tensor *x);
GDL_API gdl_tensor *gdl_so3_analysis(gdl_ctx *ctx, const gdl_so3_plan *p, gdl_tensor *x);

#ifdef __cplusplus
}
#endif
#endif
