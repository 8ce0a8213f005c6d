/* The wavelet filter banks, with PyWavelets' values and conventions.
 *
 * Stored: the analysis low-pass dec_lo and, for the biorthogonal wavelets, the
 * synthesis low-pass rec_lo (for orthogonal ones rec_lo[k] = dec_lo[len-1-k]).
 * The high-pass filters follow from the two (quadrature mirror relations, exact
 * in PyWavelets' tables too):
 *   dec_hi[k] = (-1)^(k+1) rec_lo[k],   rec_hi[k] = (-1)^k dec_lo[k].
 * Daubechies dbN has 2N taps (db1 = haar); bior2.2 is CDF 5/3 and bior4.4 CDF 9/7
 * (JPEG 2000), both padded with zeros to an even length as PyWavelets does. The
 * digits are the shortest ones that round to PyWavelets' doubles, except for CDF
 * 9/7: PyWavelets' table for it is rounded at about 1e-12 (its own reconstruction
 * error is 2.5e-12), so cdf97() computes the exact filters instead; they differ
 * from PyWavelets' by at most 6e-13. */
#include <string.h>

#include "core/internal.h"
#include "gdl/wavelets.h"

static const double haar_dec_lo[2] = {
    0.7071067811865476, 0.7071067811865476,
};
static const double db2_dec_lo[4] = {
    -0.12940952255126037, 0.2241438680420134, 0.8365163037378079, 0.48296291314453416,
};
static const double db3_dec_lo[6] = {
    0.03522629188570953, -0.08544127388202666, -0.13501102001025458, 0.45987750211849154,
    0.8068915093110925, 0.33267055295008263,
};
static const double db4_dec_lo[8] = {
    -0.010597401785069032, 0.0328830116668852, 0.030841381835560764, -0.18703481171909309,
    -0.027983769416859854, 0.6308807679298589, 0.7148465705529157, 0.2303778133088965,
};
static const double db5_dec_lo[10] = {
    0.0033357252854737712, -0.012580751999081999, -0.006241490212798274, 0.07757149384004572,
    -0.032244869584638375, -0.24229488706638203, 0.13842814590132074, 0.7243085284377729,
    0.6038292697971896, 0.16010239797419293,
};
static const double db6_dec_lo[12] = {
    -0.0010773010853084796, 0.004777257510945511, 0.0005538422011614961, -0.03158203931748603,
    0.027522865530305727, 0.09750160558732304, -0.12976686756726194, -0.22626469396543983,
    0.31525035170919763, 0.7511339080210954, 0.49462389039845306, 0.11154074335010947,
};
static const double db7_dec_lo[14] = {
    0.00035371379997452024, -0.0018016407040474908, 0.0004295779729213665, 0.01255099855609984,
    -0.01657454163066688, -0.03802993693501441, 0.08061260915108308, 0.07130921926683026,
    -0.22403618499387498, -0.14390600392856498, 0.4697822874051931, 0.7291320908462351,
    0.3965393194819173, 0.07785205408500918,
};
static const double db8_dec_lo[16] = {
    -0.00011747678412476953, 0.0006754494064505693, -0.00039174037337694705,
    -0.004870352993451574, 0.008746094047405777, 0.013981027917398282, -0.044088253930794755,
    -0.017369301001807547, 0.12874742662047847, 0.0004724845739132828, -0.2840155429615469,
    -0.015829105256349306, 0.5853546836542067, 0.6756307362972898, 0.31287159091429995,
    0.05441584224310401,
};
static const double bior2_2_dec_lo[6] = {
    0.0, -0.1767766952966369, 0.3535533905932738, 1.0606601717798212, 0.3535533905932738,
    -0.1767766952966369,
};
static const double bior2_2_rec_lo[6] = {
    0.0, 0.3535533905932738, 0.7071067811865476, 0.3535533905932738, 0.0, 0.0,
};

#define MAXLEN 16

/* CDF 9/7 by spectral factorisation. With y = sin^2(w/2), the Daubechies
 * polynomial of 4 vanishing moments, P(y) = 1 + 4y + 10y^2 + 20y^3, has one real
 * root r and a complex pair z, conj(z). The two low-pass filters are
 *   7 taps (synthesis): cos^4(w/2) (1 - y/r),
 *   9 taps (analysis):  cos^4(w/2) (1 - y/z)(1 - y/conj z),
 * each scaled to sum sqrt(2). In the z-domain y = (-z^-1 + 2 - z)/4 and cos^2(w/2) =
 * (z^-1 + 2 + z)/4; PyWavelets stores them in 10 taps starting at index 1. */
static double cdf97_dec_lo[10], cdf97_rec_lo[10];

static void conv(const double *a, int na, const double *b, int nb, double *out) {
  for (int i = 0; i < na + nb - 1; i++) out[i] = 0;
  for (int i = 0; i < na; i++)
    for (int j = 0; j < nb; j++) out[i + j] += a[i] * b[j];
}

static void cdf97(void) {
  double r = -0.3; /* Newton from near the real root (-0.3425...) */
  for (int it = 0; it < 100; it++) r -= (1 + r * (4 + r * (10 + 20 * r))) / (4 + r * (20 + 60 * r));
  /* P(y) / (y - r) = 20 y^2 + b y + c: z + conj z = -b/20, |z|^2 = c/20 */
  double b = 10 + 20 * r, c = 4 + 10 * r + 20 * r * r, sum = -b / c, prod = 20 / c;
  const double Y[3] = {-0.25, 0.5, -0.25}, C2[3] = {0.25, 0.5, 0.25};
  double cos4[5], YY[5], lin[3], quad[5], f7[7], f9[9];
  conv(C2, 3, C2, 3, cos4);
  conv(Y, 3, Y, 3, YY);
  for (int k = 0; k < 3; k++) lin[k] = (k == 1) - Y[k] / r;           /* 1 - y/r */
  for (int k = 0; k < 5; k++)                                          /* 1 - y sum + y^2 prod */
    quad[k] = (k == 2) - (k >= 1 && k <= 3 ? sum * Y[k - 1] : 0) + prod * YY[k];
  conv(cos4, 5, lin, 3, f7);
  conv(cos4, 5, quad, 5, f9);
  double s7 = 0, s9 = 0;
  for (int k = 0; k < 7; k++) s7 += f7[k];
  for (int k = 0; k < 9; k++) s9 += f9[k];
  for (int k = 0; k < 10; k++) {
    cdf97_dec_lo[k] = k >= 1 ? f9[k - 1] * sqrt(2.0) / s9 : 0;
    cdf97_rec_lo[k] = k >= 1 && k <= 7 ? f7[k - 1] * sqrt(2.0) / s7 : 0;
  }
}

typedef struct {
  const char *name;
  int len;
  const double *dec_lo, *rec_lo; /* rec_lo NULL: orthogonal */
} bank;

static const bank banks[] = {
    {"haar", 2, haar_dec_lo, NULL},
    {"db2", 4, db2_dec_lo, NULL},
    {"db3", 6, db3_dec_lo, NULL},
    {"db4", 8, db4_dec_lo, NULL},
    {"db5", 10, db5_dec_lo, NULL},
    {"db6", 12, db6_dec_lo, NULL},
    {"db7", 14, db7_dec_lo, NULL},
    {"db8", 16, db8_dec_lo, NULL},
    {"bior2.2", 6, bior2_2_dec_lo, bior2_2_rec_lo},
    {"bior4.4", 10, cdf97_dec_lo, cdf97_rec_lo}, /* computed by cdf97() */
};

#define NBANKS ((int)(sizeof banks / sizeof *banks))

/* Expanded once at load time into full gdl_wavelet records (4 filters each). */
static double filters[NBANKS][4][MAXLEN];
static gdl_wavelet wavelets[NBANKS];

static void expand(void) {
  cdf97();
  for (int b = 0; b < NBANKS; b++) {
    int n = banks[b].len;
    double *dl = filters[b][0], *dh = filters[b][1], *rl = filters[b][2], *rh = filters[b][3];
    for (int k = 0; k < n; k++) {
      dl[k] = banks[b].dec_lo[k];
      rl[k] = banks[b].rec_lo ? banks[b].rec_lo[k] : banks[b].dec_lo[n - 1 - k];
    }
    for (int k = 0; k < n; k++) {
      dh[k] = (k % 2 ? 1 : -1) * rl[k];
      rh[k] = (k % 2 ? -1 : 1) * dl[k];
    }
    wavelets[b] = (gdl_wavelet){banks[b].name, n, banks[b].rec_lo == NULL, dl, dh, rl, rh};
  }
}

#ifdef _OPENMP
#define ONCE_BEGIN GDL_OMP(omp critical(gdl_wavelet_init))
#else
#define ONCE_BEGIN
#endif

const gdl_wavelet *gdl_wavelet_get(const char *name) {
  static int ready = 0;
  if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
    ONCE_BEGIN
    {
      if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
        expand();
        __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
      }
    }
  }
  if (!name) {
    gdl_error(GDL_ERR_ARG, "wavelet: no name given");
    return NULL;
  }
  if (!strcmp(name, "db1")) name = "haar";
  if (!strcmp(name, "cdf97") || !strcmp(name, "cdf9/7")) name = "bior4.4";
  if (!strcmp(name, "cdf53") || !strcmp(name, "cdf5/3")) name = "bior2.2";
  for (int b = 0; b < NBANKS; b++)
    if (!strcmp(wavelets[b].name, name)) return &wavelets[b];
  gdl_error(GDL_ERR_ARG,
            "wavelet: unknown wavelet '%s' (known: haar, db1 ... db8, bior2.2, bior4.4, cdf97)", name);
  return NULL;
}
