/* Internals of the 2-D scattering transform: the plan, shared by morlet.c (the
 * filter bank), scattering.c (plans, the op) and scattering_kernels.h (the
 * per-precision transform). */
#ifndef GDL_GRID_SCATTERING_H
#define GDL_GRID_SCATTERING_H

#include <complex.h> /* before fftw3.h: fftw_complex is then double complex */
#include <fftw3.h>

#include "core/internal.h"
#include "gdl/wavelets.h"

#define GDL_SCAT_MAXJ 12

/* FFTW plans at one resolution r: an m x n grid, m = Mp / 2^r, n = Np / 2^r.
 * All out of place; executed with the new-array functions on fftw_malloc'ed
 * (hence SIMD-aligned) buffers, which is thread-safe. */
typedef struct {
  fftw_plan fwd, bwd, r2c;    /* complex forward, complex backward, real -> half */
  fftwf_plan fwdf, bwdf, r2cf;
} gdl__scat_fft;

struct gdl_scattering2d_plan {
  int64_t M, N, Mp, Np;   /* input and padded sizes */
  int64_t top, left;      /* reflect padding before the image */
  int J, L, max_order;
  int64_t nch;            /* channels */
  int64_t oh, ow;         /* output size per channel */
  /* Fourier filters: psi[n] (n = j L + theta) and phi at full resolution, and
   * periodised to resolution r (Kymatio's periodize_filter_fft), size (Mp >> r) x
   * (Np >> r); NULL where Kymatio has no such level. float copies alongside. */
  double *psi_full, *phi_full; /* [J L][Mp Np], [Mp Np] */
  double **psi;                /* psi[n J + r]: level r, each value twice, times 4^(r - j) */
  float **psif;
  /* The low-pass step in space (see morlet.c): S = Rows_r A Cols_r^T for A at
   * resolution r; Rows_r [oh, Mp >> r], Cols_r [ow, Np >> r]. */
  double *rows[GDL_SCAT_MAXJ], *cols[GDL_SCAT_MAXJ];
  float *rowsf[GDL_SCAT_MAXJ], *colsf[GDL_SCAT_MAXJ];
  int64_t *rmap, *cmap;   /* padded row/column -> source row/column (reflect) */
  gdl__scat_fft fft[GDL_SCAT_MAXJ + 1];
  int32_t (*path)[5];     /* per channel: order, j1, theta1, j2, theta2 */
};

/* Builds psi_full, phi_full and the periodised levels (morlet.c). */
gdl_status gdl__scattering2d_filters(gdl_scattering2d_plan *p);

/* The per-precision transforms (scattering_kernels.h). gS/gx: gradient of the
 * output (contiguous [batch, C, oh, ow]) and of the input (accumulated). */
void gdl__scattering2d_fwd_d(const gdl_scattering2d_plan *p, const double *x, int64_t batch, double *out);
void gdl__scattering2d_fwd_f(const gdl_scattering2d_plan *p, const float *x, int64_t batch, float *out);
void gdl__scattering2d_bwd_d(const gdl_scattering2d_plan *p, const double *x, const double *gS,
                             int64_t batch, double *gx);
void gdl__scattering2d_bwd_f(const gdl_scattering2d_plan *p, const float *x, const float *gS,
                             int64_t batch, float *gx);

#endif
