/* Internals of the sphere folder: the SHT plan and its three stages.
 *
 * A transform is a chain of linear stages, each with its adjoint:
 *   synthesis  S = Phi  R_S  Lambda          analysis  A = Lambda^H  R_A  Phi_A
 * Lambda: coefficients -> "leg" values F_m(theta) on the Legendre rings (on-the-fly
 *         recursion, north/south ring pairs, OpenMP over m);
 * R:      equiangular grids only: FFT resampling in theta between the sampling's
 *         rings and the Legendre rings t_j = pi j / L (j = 0..L), exact quadrature;
 * Phi:    F_m(ring) <-> ring pixels by FFTW (phase offsets and aliasing handled).
 * leg arrays are complex double [batch][ring][ldl], m - mlo < nm in each ring. */
#ifndef GDL_SPHERE_INTERNAL_H
#define GDL_SPHERE_INTERNAL_H

#include <fftw3.h>
#include <pthread.h>

#include "core/internal.h"
#include "gdl/sphere.h"

/* The vectors of the Legendre stage and of dft.c's mixed-radix passes are one register
 * of the build's target: 8 doubles with AVX-512, else 4 (on AVX2 an 8-double vector is
 * a register pair, and kernels that keep their state and sums in registers spilled:
 * 5-7x ducc0's time on an AMD Zen 3). -DGDL_SPHERE_VL=8 or 4 overrides it (a test of
 * the other width). */
#ifndef GDL_SPHERE_VL
#ifdef __AVX512F__
#define GDL_SPHERE_VL 8
#else
#define GDL_SPHERE_VL 4
#endif
#endif

#define GDL_SHT_CH 16 /* theta-resampling columns per FFTW batch */
#define GDL_SHT_RB 8  /* rings per batched phi FFT (one AVX-512 vector across rings) */

/* Batched in-place DFTs of any length (dft.c): FFTW; for lengths with a prime factor
 * above 16 our own mixed-radix passes (prime factors up to 256, h a multiple of 8) or
 * Bluestein. */
typedef struct {
  int64_t n, M;
  int h, sign;
  bool blue, mixed;
  fftw_plan p, pf, pb;
  double *chirp;
  fftw_complex *B;
  int nf;
  int64_t fac[64];  /* mixed: prime factors in pass order */
  double *tw, *cs;  /* mixed: twiddles per pass; cos, sin tables per pass's prime */
} gdl__dft;
gdl_status gdl__dft_init(gdl__dft *d, int64_t n, int h, int sign, unsigned flags);
void gdl__dft_free(gdl__dft *d);
int64_t gdl__dft_scratch(const gdl__dft *d); /* complex values of scratch exec needs */
void gdl__dft_exec(const gdl__dft *d, fftw_complex *buf, fftw_complex *scratch);

typedef struct {
  int64_t n;        /* distinct ring length */
  fftw_plan fwd, bwd;
} gdl__phiplan;

/* Work arrays kept between calls (page faults cost 10% of a transform); a second
 * concurrent caller finds the lock taken and allocates its own. */
typedef struct {
  pthread_mutex_t mu;
  double *buf;
  size_t len; /* doubles */
} gdl__sht_cache;

struct gdl_sht_plan {
  gdl_sampling *s; /* own copy */
  gdl__sht_cache *cache; /* shared by shallow copies of the plan */
  int L, spin;
  unsigned flags;
  bool real;
  int mlo, nm; /* m runs over mlo .. mlo + nm - 1 */
  int64_t ldl; /* complex values from one ring of a leg array to the next: nm padded to an
                * odd number of cache lines (rings a power of two apart share cache sets) */
  /* Legendre rings and their north/south pairs (padded to the kernel's block) */
  int64_t nlr;
  double *lth;
  int64_t npair_pad; /* ring pairs, padded to whole blocks (the padding first: pole end) */
  int64_t *pn, *ps;          /* ring indices, -1 = none */
  double *px, *pz, *plc, *pls; /* cos(t), sin(t)^2, log2 cos(t/2), log2 sin(t/2) of the north ring */
  double *sqrt_tab;          /* sqrt(k), k < 4L + 8 */
  void *starts;              /* legendre.c's start values per m (and n = 0's after them) */
  int route_m;               /* spin != 0: m from here on go through spin 0 (legendre_route.c; L: none) */
  double *route, *pis;       /* its tables per order 1 .. |s|; 1 / sin^|s| t per ring pair */
  /* Phi stage */
  double *ring_scale;        /* analysis scale per sampling ring */
  int nphiplan;
  gdl__phiplan *phiplans;
  int *ring_phiplan;
  int64_t nphimax;
  bool batched;           /* every ring the same length: GDL_SHT_RB columns at once */
  gdl__dft bat_f, bat_b;
  /* R stage (equiangular) */
  bool resample, synth_identity;
  int64_t nt, Nt, NL, Nw;   /* target rings, extended sizes */
  bool npi, spi;
  double th0;               /* first target ring's colatitude (0 or pi/Nt) */
  double *wext;             /* [Nw] weights on the fine extended circle */
  double *tph;              /* cos, sin of k th0, k < L (NULL when th0 = 0) */
  gdl__dft pt_f, pt_b;      /* length Nt (2L-1 on MW: Bluestein) */
  fftw_plan pl_f, pl_b, pw_f, pw_b;
};

/* The harmonic index of (l, m): l^2 + l + m (ssht's layout, the user's). */
static inline int64_t gdl__lm(int l, int m) { return (int64_t)l * l + l + m; }

/* Legendre stage (legendre.c). alm: complex double [nb][L^2] (all m; real plans read
 * m >= 0 only, and the adjoint writes their m < 0 as (-1)^m conj a_lm). leg: complex
 * double [nb][nlr][ldl]. */
gdl_status gdl__leg_setup(gdl_sht_plan *p);
void gdl__leg_synth(const gdl_sht_plan *p, const double *alm, double *leg, int64_t nb);
void gdl__leg_adjoint(const gdl_sht_plan *p, const double *leg, double *alm); /* one map */
/* d^l_mn for one (m >= 0, n) column, l < L, with an extended exponent; used by the
 * SHT kernel's tests and gdl_wigner_d_column. */

/* R stage (resample.c): legL [nb][L+1][ldl] <-> legT [nb][nt][ldl]. */
gdl_status gdl__resample_setup(gdl_sht_plan *p);
void gdl__resample_free(gdl_sht_plan *p);
void gdl__rs_synth(const gdl_sht_plan *p, const double *legL, double *legT, int64_t nb, bool adjoint_to_L);
void gdl__rs_anal(const gdl_sht_plan *p, const double *in, double *out, int64_t nb, bool adjoint);

/* Phi stage (phi.c). scale: NULL = 1, else per ring. */
gdl_status gdl__phi_setup(gdl_sht_plan *p);
void gdl__phi_free(gdl_sht_plan *p);
void gdl__phi_synth(const gdl_sht_plan *p, const double *leg, void *map, int64_t nb, const double *scale);
void gdl__phi_anal(const gdl_sht_plan *p, const void *map, double *leg, int64_t nb, const double *scale);

/* Sampling helpers (sampling.c). */
gdl_sampling *gdl__sampling_copy(const gdl_sampling *s);
void gdl__cc_weights(int64_t n, double *w); /* n nodes t = pi j/(n-1), on [-1, 1] */

/* FFTW's planner is not thread-safe: every plan creation goes through this lock. */
void gdl__fftw_lock(void);
void gdl__fftw_unlock(void);

#endif
