"""Reference fixtures for gdl's 2-D scattering transform, made once by Kymatio.

Regenerate (from the project root; needs `bench/.venv/bin/pip install kymatio`):

    bench/.venv/bin/python tests/ref/gen_scattering.py

Writes tests/ref/scattering_kymatio.npz. For each case <name> = M.N.J.L.order:
  <name>.x    input images [B, M, N], float64, uniform in [0, 1)
  <name>.S    kymatio.numpy.Scattering2D(J, (M, N), L, max_order)(x): [B, C, M', N']
and for the first case the Fourier filters Kymatio builds (float32 there):
  <name>.phi  phi['levels'][0]: [Mp, Np]
  <name>.psi  psi[n]['levels'][0] for every n = j L + theta: [J L, Mp, Np]
tests/test_scattering.c reads them; keep CASES in step with it.
"""
import os

import numpy as np
# kymatio.numpy also imports the 3-D frontend, which needs scipy.special.sph_harm
# (gone in SciPy 1.17); the 2-D frontend alone does not.
from kymatio.scattering2d.frontend.numpy_frontend import ScatteringNumPy2D as Scattering2D

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scattering_kymatio.npz")
CASES = [  # M, N, J, L, max_order, batch
    (16, 12, 2, 4, 2, 2),
    (28, 28, 2, 8, 2, 1),
    (32, 24, 3, 4, 2, 1),
    (17, 20, 2, 6, 1, 1),
    (16, 16, 2, 5, 2, 1),
]

rng = np.random.default_rng(20240613)
out = {}
for k, (M, N, J, L, order, B) in enumerate(CASES):
    name = "%d.%d.%d.%d.%d" % (M, N, J, L, order)
    x = rng.uniform(0, 1, (B, M, N))
    S = Scattering2D(J=J, shape=(M, N), L=L, max_order=order)
    out[name + ".x"] = x
    out[name + ".S"] = S(x)
    if k == 0:
        out[name + ".phi"] = np.asarray(S.phi["levels"][0], np.float64)
        out[name + ".psi"] = np.stack([np.asarray(p["levels"][0], np.float64) for p in S.psi])
np.savez_compressed(OUT, **out)
print("wrote %s (%d arrays, %d bytes)" % (OUT, len(out), os.path.getsize(OUT)))
