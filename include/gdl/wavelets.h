/* gdl multiscale: 2-D discrete wavelet transforms (PyWavelets' conventions) and
 * the 2-D scattering transform (Kymatio's Scattering2D). Both are differentiable
 * ops, so they can sit anywhere in a network; docs/grids-multiscale.md has the
 * math and the layouts.
 *
 *   const gdl_wavelet *w = gdl_wavelet_get("db4");
 *   gdl_tensor *c = gdl_dwt2(ctx, x, w, GDL_DWT_SYMMETRIC);      // [..., 4, h, w]
 *   gdl_tensor *y = gdl_idwt2(ctx, c, w, GDL_DWT_SYMMETRIC);     // x again
 *
 *   gdl_scattering2d_plan *s = gdl_scattering2d_plan_create(28, 28, 2, 8, 2, 0);
 *   gdl_tensor *S = gdl_scattering2d(ctx, s, x);                 // [..., 81, 7, 7]
 *   gdl_scattering2d_plan_destroy(s); */
#ifndef GDL_WAVELETS_H
#define GDL_WAVELETS_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- wavelets ---------------------------------------------------------------- */

/* A two-channel filter bank with PyWavelets' filters and names: "haar" (= "db1"),
 * "db2" ... "db8", "bior2.2" (CDF 5/3) and "bior4.4" (CDF 9/7 of JPEG 2000, also
 * "cdf97"). All four filters have length len (PyWavelets pads bior filters with
 * zeros to a common even length). */
typedef struct {
  const char *name;
  int len;
  bool orthogonal;
  const double *dec_lo, *dec_hi, *rec_lo, *rec_hi;
} gdl_wavelet;

/* The wavelet called name, or NULL with GDL_ERR_ARG set. */
GDL_API const gdl_wavelet *gdl_wavelet_get(const char *name);

/* Boundary handling: PyWavelets' 'periodization' (the signal is periodic; a
 * signal of odd length n is first extended by repeating its last sample; n ->
 * ceil(n/2) coefficients, an orthogonal transform for orthogonal wavelets) and
 * 'symmetric' (half-sample mirror x[-1] = x[0]; n -> floor((n + len - 1)/2)). */
typedef enum { GDL_DWT_PERIODIZATION, GDL_DWT_SYMMETRIC } gdl_dwt_mode;

/* "periodization" / "symmetric" -> mode; GDL_ERR_ARG otherwise. */
GDL_API gdl_status gdl_dwt_mode_parse(const char *s, gdl_dwt_mode *mode);
GDL_API const char *gdl_dwt_mode_name(gdl_dwt_mode mode);
/* Coefficients per axis after one level (pywt.dwt_coeff_len). */
GDL_API int64_t gdl_dwt_coeff_len(int64_t n, const gdl_wavelet *w, gdl_dwt_mode mode);
/* Samples per axis that idwt produces from c coefficients (2c, or 2c - len + 2). */
GDL_API int64_t gdl_idwt_len(int64_t c, const gdl_wavelet *w, gdl_dwt_mode mode);
/* The deepest useful level for n samples (pywt.dwt_max_level): floor(log2(n /
 * (len - 1))), 0 when n < len - 1. */
GDL_API int gdl_dwt_max_level(int64_t n, const gdl_wavelet *w);

/* One level over the last two axes (pywt.dwt2): x [..., H, W] -> [..., 4, h, w]
 * holding the bands (cA, cH, cV, cD) in PyWavelets' order: cA low-pass on both
 * axes, cH high-pass along H (rows index), cV high-pass along W, cD both. */
GDL_API gdl_tensor *gdl_dwt2(gdl_ctx *ctx, gdl_tensor *x, const gdl_wavelet *w, gdl_dwt_mode mode);
/* The inverse (pywt.idwt2): c [..., 4, h, w] -> [..., gdl_idwt_len(h), gdl_idwt_len(w)].
 * For an odd-sized input the result has one more row/column than that input
 * (slice it off, as gdl_waverec2 does). */
GDL_API gdl_tensor *gdl_idwt2(gdl_ctx *ctx, gdl_tensor *c, const gdl_wavelet *w, gdl_dwt_mode mode);

/* One band of a multi-level decomposition, inside the flat coefficient vector. */
typedef struct {
  int64_t offset, h, w; /* start (elements) and size of the band */
  int level;            /* 1 = finest; the approximation has level = levels */
  char kind;            /* 'a' (approximation), 'h', 'v', 'd' (cH, cV, cD) */
} gdl_dwt_band;

/* The layout of gdl_wavedec2's output for an H x W input: fills bands[0 ..
 * 3 * levels] (may be NULL) in storage order and returns the total length, or -1
 * with GDL_ERR_ARG when levels < 1 or a level would have no samples. */
GDL_API int64_t gdl_wavedec2_layout(int64_t H, int64_t W, const gdl_wavelet *w, gdl_dwt_mode mode,
                                    int levels, gdl_dwt_band *bands);
/* levels of gdl_dwt2 (pywt.wavedec2): x [..., H, W] -> [..., total], the bands
 * flattened and concatenated in PyWavelets' list order: cA_n, cH_n, cV_n, cD_n,
 * ..., cH_1, cV_1, cD_1 (n = levels; see gdl_wavedec2_layout). */
GDL_API gdl_tensor *gdl_wavedec2(gdl_ctx *ctx, gdl_tensor *x, const gdl_wavelet *w,
                                 gdl_dwt_mode mode, int levels);
/* The inverse (pywt.waverec2): c [..., total] -> [..., H, W] for the H x W input
 * that gdl_wavedec2 transformed (H, W fix the layout and the final crop). */
GDL_API gdl_tensor *gdl_waverec2(gdl_ctx *ctx, gdl_tensor *c, const gdl_wavelet *w,
                                 gdl_dwt_mode mode, int levels, int64_t H, int64_t W);

/* ---- the 2-D scattering transform ------------------------------------------------- */

/* A plan for M x N images (Kymatio's Scattering2D(J, (M, N), L, max_order)):
 * the Morlet filter bank in Fourier space at every resolution, reflect padding to
 * Kymatio's padded size and the FFTW plans (float and double). Owns nothing of the
 * caller's. Needs 2^J <= M, N, 1 <= J, 1 <= L, max_order 1 or 2; else NULL with
 * GDL_ERR_ARG set. Executing a plan is thread-safe. */
typedef struct gdl_scattering2d_plan gdl_scattering2d_plan;

/* flags: 0 (FFTW_ESTIMATE: plans in microseconds) or GDL_SCATTERING2D_MEASURE
 * (FFTW_MEASURE: planning takes up to seconds once per size and process, the
 * transform then runs about 20% faster; for long runs). */
#define GDL_SCATTERING2D_MEASURE 1u
GDL_API gdl_scattering2d_plan *gdl_scattering2d_plan_create(int64_t M, int64_t N, int J, int L,
                                                            int max_order, unsigned flags);
GDL_API void gdl_scattering2d_plan_destroy(gdl_scattering2d_plan *p);
/* Number of output channels: 1 + J L (order 1) + L^2 J (J - 1) / 2 (order 2). */
GDL_API int64_t gdl_scattering2d_channels(const gdl_scattering2d_plan *p);
/* Output size per channel: M / 2^J x N / 2^J (floor). */
GDL_API void gdl_scattering2d_out_size(const gdl_scattering2d_plan *p, int64_t *h, int64_t *w);
/* Channel k's path, in Kymatio's order: order 0; then order 1 for j1 = 0..J-1,
 * theta1 = 0..L-1; then order 2 for (j1, theta1) in that order and j2 > j1,
 * theta2. Unused entries are -1. */
GDL_API void gdl_scattering2d_path(const gdl_scattering2d_plan *p, int64_t k, int *order, int j[2],
                                   int theta[2]);
/* The Fourier-space filters at full padded resolution (real, row-major Mp x Np):
 * which = -1 is the low-pass phi, 0 .. J L - 1 the wavelet psi_{j, theta} with
 * index j L + theta. Mp, Np may be NULL. */
GDL_API const double *gdl_scattering2d_filter(const gdl_scattering2d_plan *p, int which, int64_t *Mp,
                                              int64_t *Np);

/* The transform of a batch of images x [..., M, N] (float32 or float64) ->
 * [..., C, M/2^J, N/2^J]: Kymatio's output for the same input. Differentiable in
 * x (the gradient recomputes the forward, so nothing large is kept); p must
 * outlive the backward pass. */
GDL_API gdl_tensor *gdl_scattering2d(gdl_ctx *ctx, const gdl_scattering2d_plan *p, gdl_tensor *x);
/* The same on raw contiguous arrays: x [batch, M, N] -> out [batch, C, M', N']. */
GDL_API void gdl_scattering2d_execute(const gdl_scattering2d_plan *p, gdl_dtype t, const void *x,
                                      int64_t batch, void *out);

/* ---- layers (no parameters; see docs/grids-multiscale.md) ------------------------------ */

typedef struct gdl_layer gdl_layer;
/* [C, M, N] -> [C K, M/2^J, N/2^J] (or [M, N] -> [K, ...]), K = the channels above;
 * config section [scattering2d] J, L, max_order. */
GDL_API gdl_layer *gdl_layer_scattering2d(int J, int L, int max_order);
/* levels = 1: [C, H, W] -> [4 C, h, w] (bands as channels 4c .. 4c+3); levels > 1:
 * [C, H, W] -> [C, total] (gdl_wavedec2); config section [dwt2] wavelet, mode, levels. */
GDL_API gdl_layer *gdl_layer_dwt2(const gdl_wavelet *w, gdl_dwt_mode mode, int levels);

#ifdef __cplusplus
}
#endif
#endif
