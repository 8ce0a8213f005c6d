"""Runs gdl's SHT benchmark and its peers (ducc0, healpy, ssht) on the same machine
in the same run, and prints a markdown table: times, ratios gdl/peer and
GFLOP/s by the operation count L^2 * Ntheta (one real map; the same count for spin 2)
as a fraction of one core's float64 peak (PEAK line of bench/peak).

    bench/.venv/bin/python bench/sphere/sht_peers.py BENCH_SHT PEAK_GFLOPS [Ls] [threads] [samplings]
e.g. ... build-bench-sphere/bench_sht 60.0 256,512,1024,2048 1,2 gl,mw,healpix
Spin 0: real maps (ducc0 and healpy take real maps); spin 2: gdl one complex spin-2
map, ducc0/healpy the equivalent pair Q, U <-> E, B. ducc0 writes into preallocated
outputs (map=, alm=), as gdl's benchmark does.

Timing: the host is shared and noisy (one case moves by up to 40% between runs), so
each case runs ROUNDS rounds of gdl then its peers, each round a median over a few
repetitions, and the table keeps each side's fastest round: noise only adds time, and
the two sides are measured in the same minutes.
"""
import os
import subprocess
import sys
import time

import numpy as np

ROUNDS = 5


def reps_for(L):
    return 5 if L <= 512 else 3 if L <= 1024 else 1


def med(f, reps):
    f()  # warm-up
    t = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        t.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(t))


def healpy_child(L, spin, reps):
    """healpy's times, printed; runs in its own interpreter (see healpy_times)."""
    import healpy as hp
    nside, lmax = L // 2, L - 1
    rng = np.random.default_rng(0)
    n = hp.Alm.getsize(lmax)
    if spin == 0:
        alm = rng.standard_normal(n) + 0j
        m = hp.alm2map(alm, nside, lmax=lmax)
        ti = med(lambda: hp.alm2map(alm, nside, lmax=lmax), reps)
        tf = med(lambda: hp.map2alm(m, lmax=lmax, iter=0), reps)
    else:
        alms = [rng.standard_normal(n) + 0j for _ in range(2)]
        m = hp.alm2map_spin(alms, nside, spin, lmax)
        ti = med(lambda: hp.alm2map_spin(alms, nside, spin, lmax), reps)
        tf = med(lambda: hp.map2alm_spin(m, spin, lmax=lmax), reps)
    print(ti, tf)


if len(sys.argv) > 1 and sys.argv[1] == "--healpy":
    healpy_child(*(int(a) for a in sys.argv[2:5]))
    sys.exit(0)

import ducc0  # noqa: E402 (not needed by the healpy child)

try:
    import pyssht
except ImportError:
    pyssht = None

exe, peak = sys.argv[1], float(sys.argv[2])
Ls = [int(x) for x in (sys.argv[3] if len(sys.argv) > 3 else "256,512,1024,2048").split(",")]
threads = [int(x) for x in (sys.argv[4] if len(sys.argv) > 4 else "1,2").split(",")]
samplings = (sys.argv[5] if len(sys.argv) > 5 else "gl,mw,healpix").split(",")
rng = np.random.default_rng(0)


def ducc_times(geom, L, spin, nth, reps):
    lmax = L - 1
    ncomp = 1 if spin == 0 else 2
    alm = rng.standard_normal((ncomp, (lmax + 1) * (lmax + 2) // 2)) + 0j
    ntheta, nphi = L, 2 * L - 1
    m = np.empty((ncomp, ntheta, nphi))
    a = np.empty_like(alm)
    sht = ducc0.sht.experimental
    ti = med(lambda: sht.synthesis_2d(alm=alm, spin=spin, lmax=lmax, geometry=geom, nthreads=nth, map=m), reps)
    tf = med(lambda: sht.analysis_2d(map=m, spin=spin, lmax=lmax, geometry=geom, nthreads=nth, alm=a), reps)
    return ti, tf


def healpy_times(L, spin, nth, reps):
    """healpy's OpenMP runtime reads OMP_NUM_THREADS once, when it loads (set after
    import, it is ignored and healpy takes every core): each timing runs this script
    again, in a fresh interpreter with the variable set."""
    env = dict(os.environ, OMP_NUM_THREADS=str(nth))
    out = subprocess.run([sys.executable, __file__, "--healpy", str(L), str(spin), str(reps)], env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def ssht_times(L, spin, reps):
    flm = rng.standard_normal(L * L) + 1j * rng.standard_normal(L * L)
    flm[: spin * spin] = 0
    real = spin == 0
    if real:  # a real field's coefficients
        f = pyssht.inverse(flm, L, Spin=0, Method="MW")
        flm = pyssht.forward(f.real.copy(), L, Spin=0, Method="MW", Reality=True)
    f = pyssht.inverse(flm, L, Spin=spin, Method="MW", Reality=real)
    ti = med(lambda: pyssht.inverse(flm, L, Spin=spin, Method="MW", Reality=real), reps)
    tf = med(lambda: pyssht.forward(f, L, Spin=spin, Method="MW", Reality=real), reps)
    return ti, tf


print("| sampling | L | spin | threads | gdl inv ms | gdl fwd ms | peer | peer inv ms | peer fwd ms | "
      "ratio inv | ratio fwd | gdl GFLOP/s inv/fwd | % of peak | rt err |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for samp in samplings:
    for L in Ls:
        for spin in [0, 2]:
            for nth in threads:
                reps = reps_for(L)
                peers = {}
                gi = gf = float("inf")
                for _ in range(ROUNDS):
                    out = subprocess.run([exe, samp, str(L), str(spin), str(nth), str(reps)], capture_output=True,
                                         text=True, check=True).stdout.split()
                    nring, err = int(out[5]), out[8]
                    gi, gf = min(gi, float(out[6])), min(gf, float(out[7]))
                    times = {}
                    if samp in ("gl", "mw"):
                        times["ducc0"] = ducc_times(samp.upper(), L, spin, nth, reps)
                    if samp == "healpix":
                        times["healpy"] = healpy_times(L, spin, nth, reps)
                    if samp == "mw" and pyssht is not None and nth == 1 and L <= 512:
                        times["ssht"] = ssht_times(L, spin, reps)
                    for name, (ti, tf) in times.items():
                        pi, pf = peers.get(name, (float("inf"), float("inf")))
                        peers[name] = (min(pi, ti), min(pf, tf))
                ops = L * L * nring
                gfl_i, gfl_f = ops / gi * 1e-6, ops / gf * 1e-6
                pct = 100 * max(gfl_i, gfl_f) / (peak * nth)
                for name, (pi, pf) in peers.items():
                    print(f"| {samp} | {L} | {spin} | {nth} | {gi:.1f} | {gf:.1f} | {name} | {pi:.1f} | {pf:.1f} | "
                          f"{gi / pi:.2f} | {gf / pf:.2f} | {gfl_i:.1f}/{gfl_f:.1f} | {pct:.0f}% | {err} |", flush=True)
