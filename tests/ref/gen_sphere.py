"""Reference outputs of the trusted SHT peers for tests/test_sphere.c.

Regenerate (from the project root):
    bench/.venv/bin/pip install healpy ducc0 pyssht mpmath
    bench/.venv/bin/python tests/ref/gen_sphere.py

Writes tests/ref/sphere.npz (complex128 / float64 / int64). Coefficients are stored in
gdl's (and ssht's) layout, index l^2 + l + m for l < L, all m.
  ssht.<method>.s<spin>.alm / .map  pyssht.inverse (complex maps), L = 12
  ducc.<geom>.alm / .map            ducc0 synthesis_2d, real spin-0 maps, L = 12
                                    (GL, MW, CC = our MWSS with 2L pixels a ring, F1 = our DH)
  ducc.gl.s2.E / .B / .Q / .U       ducc0 spin-2 synthesis (healpy convention Q + iU =
                                    -sum (E + iB)_lm 2Y_lm), L = 12, on GL
  healpy.alm / .map                 healpy.alm2map, nside 8, L = 16
  healpy.rand / .iter3              healpy.map2alm(rand, lmax=15, iter=3)
  healpy.pix2ang.<nside>, ang2pix.<nside>, nest2ring.<nside>: pixel arithmetic
  wigner.l<l>                       rows (m, n, beta, d^l_mn(beta)), Wigner's sum in mpmath
"""
import numpy as np
import healpy as hp
import ducc0
import pyssht
import mpmath

rng = np.random.default_rng(5)
out = {}


def ssht_index(l, m):
    return l * l + l + m


def hp_to_gdl(alm_hp, L):
    """healpy m >= 0 layout -> all-m layout of a real map"""
    a = np.zeros(L * L, complex)
    for l in range(L):
        for m in range(l + 1):
            v = alm_hp[hp.Alm.getidx(L - 1, l, m)]
            a[ssht_index(l, m)] = v
            if m:
                a[ssht_index(l, -m)] = (-1) ** m * np.conj(v)
    return a


def rand_real_alm(L):
    a = np.zeros(hp.Alm.getsize(L - 1), complex)
    for l in range(L):
        for m in range(l + 1):
            a[hp.Alm.getidx(L - 1, l, m)] = rng.standard_normal() + (1j * rng.standard_normal() if m else 0)
    return a


# ---- pyssht: complex spin maps in ssht's convention (gdl's) ----
L = 12
for method in ["MW", "MWSS", "GL", "DH"]:
    for spin in [0, 1, 2]:
        flm = rng.standard_normal(L * L) + 1j * rng.standard_normal(L * L)
        for l in range(abs(spin)):
            flm[l * l:(l + 1) * (l + 1)] = 0
        f = pyssht.inverse(flm, L, Spin=spin, Method=method)
        key = f"ssht.{method.lower()}.s{spin}"
        out[key + ".alm"] = flm
        out[key + ".map"] = np.ascontiguousarray(f).ravel()

# ---- ducc0: real spin-0 maps on its 2-D grids ----
geoms = {"gl": ("GL", L, 2 * L - 1), "mw": ("MW", L, 2 * L - 1), "mwss": ("CC", L + 1, 2 * L),
         "dh": ("F1", 2 * L, 2 * L - 1)}
for name, (g, nt, nphi) in geoms.items():
    a = rand_real_alm(L)
    m = ducc0.sht.experimental.synthesis_2d(alm=a[None], spin=0, lmax=L - 1, geometry=g, ntheta=nt, nphi=nphi)
    out[f"ducc.{name}.alm"] = hp_to_gdl(a, L)
    out[f"ducc.{name}.map"] = m[0].ravel()

e, b = rand_real_alm(L), rand_real_alm(L)
for l in range(2):
    for m in range(l + 1):
        e[hp.Alm.getidx(L - 1, l, m)] = b[hp.Alm.getidx(L - 1, l, m)] = 0
qu = ducc0.sht.experimental.synthesis_2d(alm=np.array([e, b]), spin=2, lmax=L - 1, geometry="GL", ntheta=L,
                                         nphi=2 * L - 1)
out["ducc.gl.s2.E"], out["ducc.gl.s2.B"] = hp_to_gdl(e, L), hp_to_gdl(b, L)
out["ducc.gl.s2.Q"], out["ducc.gl.s2.U"] = qu[0].ravel(), qu[1].ravel()

# ---- healpy ----
nside, L = 8, 16
a = rand_real_alm(L)
out["healpy.alm"] = hp_to_gdl(a, L)
out["healpy.map"] = hp.alm2map(a, nside, lmax=L - 1)
rand = rng.standard_normal(12 * nside * nside)
out["healpy.rand"] = rand
out["healpy.iter3"] = hp_to_gdl(hp.map2alm(rand, lmax=L - 1, iter=3), L)
for ns in [1, 2, 6, 8]:
    pix = np.arange(12 * ns * ns)
    th, ph = hp.pix2ang(ns, pix)
    out[f"healpy.pix2ang.{ns}"] = np.stack([th, ph], 1)
    t = rng.uniform(0, np.pi, 200)
    p = rng.uniform(-3, 9, 200)
    out[f"healpy.ang.{ns}"] = np.stack([t, p], 1)
    out[f"healpy.ang2pix.{ns}"] = hp.ang2pix(ns, t, p).astype(np.int64)
    if ns & (ns - 1) == 0:
        out[f"healpy.nest2ring.{ns}"] = hp.nest2ring(ns, pix).astype(np.int64)

# ---- Wigner d by Wigner's explicit sum in high-precision arithmetic ----
def wigner_d(l, mp_, m, beta):
    """d^l_{mp,m}(beta) = sqrt((l+mp)!(l-mp)!(l+m)!(l-m)!) sum_s (-1)^(mp-m+s)
    c^(2l+m-mp-2s) s^(mp-m+2s) / ((l+m-s)! s! (mp-m+s)! (l-mp-s)!); the sum cancels
    to about 2^-2l, so the working precision grows with l."""
    mpmath.mp.dps = 60 + int(0.7 * l)
    b = mpmath.mpf(beta)
    c, sn = mpmath.cos(b / 2), mpmath.sin(b / 2)
    f = mpmath.factorial
    tot = mpmath.mpf(0)
    for k in range(max(0, m - mp_), min(l + m, l - mp_) + 1):
        tot += (-1) ** ((mp_ - m + k) % 2) * c ** (2 * l + m - mp_ - 2 * k) * sn ** (mp_ - m + 2 * k) / (
            f(l + m - k) * f(k) * f(mp_ - m + k) * f(l - mp_ - k))
    return tot * mpmath.sqrt(f(l + mp_) * f(l - mp_) * f(l + m) * f(l - m))


for l, betas in [(3, [0.3, 1.0, 2.0, 3.0]), (40, [0.3, 1.0, 2.0, 3.0]), (700, [0.3, 2.0]), (2047, [1.0, 2.5])]:
    rows = []
    for (m, n) in [(0, 0), (1, -1), (l // 3, 2), (-(l // 2), l // 5), (l, 0), (l - 1, -(l - 2)), (2, -l)]:
        if abs(m) > l or abs(n) > l:
            continue
        for beta in betas:
            rows.append([m, n, beta, float(wigner_d(l, m, n, beta))])
    out[f"wigner.l{l}"] = np.array(rows)

np.savez_compressed("tests/ref/sphere.npz", **out)
print(f"wrote tests/ref/sphere.npz: {len(out)} arrays")
