/* HEALPix pixel arithmetic (Gorski et al. 2005), healpy's conventions: RING order
 * numbers pixels along iso-latitude rings from the north pole; NESTED order numbers
 * them within each of the 12 base faces by interleaving the bits of (x, y). */
#include "sphere/sphere_internal.h"

static const int jrll[12] = {2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4};
static const int jpll[12] = {1, 3, 5, 7, 0, 2, 4, 6, 1, 3, 5, 7};

static int64_t isqrt64(int64_t v) {
  int64_t r = (int64_t)sqrt((double)v + 0.5);
  while (r * r > v) r--;
  while ((r + 1) * (r + 1) <= v) r++;
  return r;
}

static int64_t floordiv2(int64_t a) { return a >= 0 ? a / 2 : -((-a + 1) / 2); }

void gdl_healpix_pix2ang_ring(int64_t nside, int64_t pix, double *theta, double *phi) {
  int64_t ncap = 2 * nside * (nside - 1), npix = 12 * nside * nside;
  double fn = (double)nside;
  if (pix < ncap) {
    int64_t iring = (1 + isqrt64(1 + 2 * pix)) / 2, iphi = pix + 1 - 2 * iring * (iring - 1);
    double a = (double)(iring * iring) / (3 * fn * fn);
    *theta = atan2(sqrt(a * (2 - a)), 1 - a);
    *phi = ((double)iphi - 0.5) * M_PI / (2.0 * iring);
  } else if (pix < npix - ncap) {
    int64_t ip = pix - ncap, iring = ip / (4 * nside) + nside, iphi = ip % (4 * nside) + 1;
    double fodd = ((iring + nside) & 1) ? 1 : 0.5;
    *theta = acos((2 * fn - (double)iring) * 2 / (3 * fn));
    *phi = ((double)iphi - fodd) * M_PI / (2 * fn);
  } else {
    int64_t ip = npix - pix, iring = (1 + isqrt64(2 * ip - 1)) / 2;
    int64_t iphi = 4 * iring + 1 - (ip - 2 * iring * (iring - 1));
    double a = (double)(iring * iring) / (3 * fn * fn);
    *theta = M_PI - atan2(sqrt(a * (2 - a)), 1 - a);
    *phi = ((double)iphi - 0.5) * M_PI / (2.0 * iring);
  }
}

int64_t gdl_healpix_ang2pix_ring(int64_t nside, double theta, double phi) {
  double z = cos(theta), za = fabs(z), tt = fmod(phi * (2 / M_PI), 4.0);
  if (tt < 0) tt += 4;
  int64_t ncap = 2 * nside * (nside - 1), npix = 12 * nside * nside;
  if (za <= 2.0 / 3) {
    double t1 = (double)nside * (0.5 + tt), t2 = (double)nside * z * 0.75;
    int64_t jp = (int64_t)(t1 - t2), jm = (int64_t)(t1 + t2);
    int64_t ir = nside + 1 + jp - jm, kshift = 1 - (ir & 1);
    int64_t ip = (jp + jm - nside + kshift + 1) / 2;
    ip %= 4 * nside;
    return ncap + (ir - 1) * 4 * nside + ip;
  }
  double tp = tt - (int64_t)tt;
  /* sqrt(3 (1 - |z|)) with 1 - |z| from sin for accuracy near the poles */
  double st = sin(theta), omz = za > 0.99 ? st * st / (1 + za) : 1 - za;
  double tmp = (double)nside * sqrt(3 * omz);
  int64_t jp = (int64_t)(tp * tmp), jm = (int64_t)((1 - tp) * tmp);
  int64_t ir = jp + jm + 1, ip = (int64_t)(tt * (double)ir);
  ip %= 4 * ir;
  return z > 0 ? 2 * ir * (ir - 1) + ip : npix - 2 * ir * (ir + 1) + ip;
}

static void pix2xyf_ring(int64_t nside, int64_t pix, int64_t *ix, int64_t *iy, int *face) {
  int64_t nl2 = 2 * nside, ncap = 2 * nside * (nside - 1), npix = 12 * nside * nside;
  int64_t iring, iphi, kshift, nr;
  int f;
  if (pix < ncap) {
    iring = (1 + isqrt64(1 + 2 * pix)) >> 1;
    iphi = pix + 1 - 2 * iring * (iring - 1);
    kshift = 0, nr = iring;
    f = (int)((iphi - 1) / nr);
  } else if (pix < npix - ncap) {
    int64_t ip = pix - ncap;
    iring = ip / (4 * nside) + nside;
    iphi = ip % (4 * nside) + 1;
    kshift = (iring + nside) & 1, nr = nside;
    int64_t ire = iring - nside + 1, irm = nl2 + 2 - ire;
    int64_t ifm = (iphi - ire / 2 + nside - 1) / nside, ifp = (iphi - irm / 2 + nside - 1) / nside;
    f = (int)(ifp == ifm ? (ifp | 4) : (ifp < ifm ? ifp : ifm + 8));
  } else {
    int64_t ip = npix - pix;
    iring = (1 + isqrt64(2 * ip - 1)) >> 1;
    iphi = 4 * iring + 1 - (ip - 2 * iring * (iring - 1));
    kshift = 0, nr = iring;
    iring = 2 * nl2 - iring;
    f = 8 + (int)((iphi - 1) / nr);
  }
  int64_t irt = iring - jrll[f] * nside + 1, ipt = 2 * iphi - jpll[f] * nr - kshift - 1;
  if (ipt >= nl2) ipt -= 8 * nside;
  *face = f;
  *ix = floordiv2(ipt - irt);
  *iy = floordiv2(-(ipt + irt));
}

static int64_t xyf2ring(int64_t nside, int64_t ix, int64_t iy, int face) {
  int64_t nl4 = 4 * nside, ncap = 2 * nside * (nside - 1), npix = 12 * nside * nside;
  int64_t jr = jrll[face] * nside - ix - iy - 1, nr, n_before, kshift;
  if (jr < nside) {
    nr = jr, n_before = 2 * nr * (nr - 1), kshift = 0;
  } else if (jr > 3 * nside) {
    nr = nl4 - jr, n_before = npix - 2 * (nr + 1) * nr, kshift = 0;
  } else {
    nr = nside, n_before = ncap + (jr - nside) * nl4, kshift = (jr - nside) & 1;
  }
  int64_t jp = (jpll[face] * nr + ix - iy + 1 + kshift) / 2;
  if (jp > nl4) jp -= nl4;
  else if (jp < 1) jp += nl4;
  return n_before + jp - 1;
}

static uint64_t spread_bits(uint64_t v) { /* bit k -> bit 2k */
  uint64_t r = 0;
  for (int k = 0; k < 32; k++) r |= ((v >> k) & 1) << (2 * k);
  return r;
}

static uint64_t compress_bits(uint64_t v) { /* bit 2k -> bit k */
  uint64_t r = 0;
  for (int k = 0; k < 32; k++) r |= ((v >> (2 * k)) & 1) << k;
  return r;
}

int64_t gdl_healpix_ring2nest(int64_t nside, int64_t pix) {
  int64_t ix, iy;
  int face;
  pix2xyf_ring(nside, pix, &ix, &iy, &face);
  return face * nside * nside + (int64_t)(spread_bits((uint64_t)ix) | (spread_bits((uint64_t)iy) << 1));
}

int64_t gdl_healpix_nest2ring(int64_t nside, int64_t pix) {
  int64_t npface = nside * nside;
  int face = (int)(pix / npface);
  uint64_t ipf = (uint64_t)(pix % npface);
  return xyf2ring(nside, (int64_t)compress_bits(ipf), (int64_t)compress_bits(ipf >> 1), face);
}

int64_t gdl_healpix_ang2pix_nest(int64_t nside, double theta, double phi) {
  return gdl_healpix_ring2nest(nside, gdl_healpix_ang2pix_ring(nside, theta, phi));
}

void gdl_healpix_pix2ang_nest(int64_t nside, int64_t pix, double *theta, double *phi) {
  gdl_healpix_pix2ang_ring(nside, gdl_healpix_nest2ring(nside, pix), theta, phi);
}
