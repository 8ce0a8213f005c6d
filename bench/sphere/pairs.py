"""Alternating pairs for one GL spin 0 forward case: ducc0's analysis (median of three,
in this process) then gdl's (bench_sht, median of three, in a fresh process), N times,
and the median of the N ratios gdl / ducc0. run.sh keeps each side's fastest of five
rounds; on a noisy host the ratio of a single round moves by 10-20%, the median of
many pairs far less.

    bench/.venv/bin/python bench/sphere/pairs.py BENCH_SHT L THREADS N
e.g. ... build-bench-sphere/bench_sht 2048 1 10   (OPENBLAS_* unset, as run.sh does)
"""
import sys
import subprocess
import time

import numpy as np
import ducc0

exe, L, th, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
lmax = L - 1
rng = np.random.default_rng(0)
alm = rng.standard_normal((1, (lmax + 1) * (lmax + 2) // 2)) + 0j
m = np.empty((1, L, 2 * L - 1))
a = np.empty_like(alm)
sht = ducc0.sht.experimental
sht.synthesis_2d(alm=alm, spin=0, lmax=lmax, geometry="GL", nthreads=th, map=m)
ratios = []
for i in range(n):
    ts = []
    for _ in range(3):
        t0 = time.perf_counter()
        sht.analysis_2d(map=m, spin=0, lmax=lmax, geometry="GL", nthreads=th, alm=a)
        ts.append(time.perf_counter() - t0)
    td = 1e3 * float(np.median(ts))
    out = subprocess.run([exe, "gl", str(L), "0", str(th), "3"], capture_output=True, text=True,
                         check=True).stdout.split()
    tg = float(out[7])  # SHT gl L spin threads nrings inv fwd err: the forward's median
    ratios.append(tg / td)
    print(f"pair {i}: gdl {tg:.1f} ms, ducc0 {td:.1f} ms, ratio {tg / td:.3f}", flush=True)
print(f"GL L={L} spin 0 forward, {th} thread(s), {n} pairs: median ratio {np.median(ratios):.3f} "
      f"(min {min(ratios):.3f}, max {max(ratios):.3f})")
