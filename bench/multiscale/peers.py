"""The peers of bench_wavelets.c: PyWavelets (wavedec2 / waverec2) and Kymatio's
Scattering2D (torch frontend, CPU, float32), on the same cases. Prints
    RESULT <case> <threads> <median seconds per call> <best seconds per call>
Usage: bench/.venv/bin/python bench/multiscale/peers.py [--quick] [--threads 1,2]
"""
import argparse
import time
import warnings

import numpy as np
import pywt
import torch
# kymatio.torch would also import the 3-D frontend, which needs
# scipy.special.sph_harm (gone in SciPy 1.17); the 2-D frontend alone does not.
from kymatio.scattering2d.frontend.torch_frontend import ScatteringTorch2D

warnings.simplefilter("ignore")
ap = argparse.ArgumentParser()
ap.add_argument("--quick", action="store_true")
ap.add_argument("--threads", default="1,2")
a = ap.parse_args()
reps = 5 if a.quick else 15
threads = [int(t) for t in a.threads.split(",")]


def median_time(f):
    """'median best' of reps calls after a warm-up call."""
    f()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return "%.6g %.6g" % (float(np.median(ts)), min(ts))


rng = np.random.default_rng(1)
for name, w, mode, n, levels, dt in [
    ("dwt.haar.per.512.f64", "haar", "periodization", 512, 4, np.float64),
    ("dwt.db4.sym.512.f64", "db4", "symmetric", 512, 4, np.float64),
    ("dwt.bior4.4.sym.512.f64", "bior4.4", "symmetric", 512, 4, np.float64),
    ("dwt.db4.per.1024.f32", "db4", "periodization", 1024, 3, np.float32),
]:
    x = rng.uniform(0, 1, (n, n)).astype(dt)
    c = pywt.wavedec2(x, w, mode=mode, level=levels)
    print("RESULT %s.dec 1 %s" % (name, median_time(lambda: pywt.wavedec2(x, w, mode=mode, level=levels))))
    print("RESULT %s.rec 1 %s" % (name, median_time(lambda: pywt.waverec2(c, w, mode=mode))), flush=True)

for t in threads:
    torch.set_num_threads(t)
    for name, B, M, J in [("scat.28.J2.B256", 256, 28, 2), ("scat.32.J2.B256", 256, 32, 2),
                          ("scat.128.J3.B16", 16, 128, 3)]:
        if a.quick:
            B = max(4, B // 4)
        S = ScatteringTorch2D(J=J, shape=(M, M), L=8)
        x = torch.rand(B, M, M)
        with torch.no_grad():
            s = median_time(lambda: S(x))
        print("RESULT %s %d %s" % (name, t, s), flush=True)
