"""Reference fixtures for gdl's 2-D wavelet transforms, made once by PyWavelets.

Regenerate (from the project root; needs `bench/.venv/bin/pip install pywavelets`):

    bench/.venv/bin/python tests/ref/gen_wavelets.py

Writes tests/ref/wavelets_pywt.npz (float64 unless noted):
  x                       a 9 x 12 image, uniform in [-1, 1)
  dwt2.<wavelet>.<mode>   pywt.dwt2(x): [4, h, w] = cA, cH, cV, cD
  x32, dwt2f.<w>.<mode>   the same in float32 (x rounded to float32) for a few wavelets
  y                       a 2 x 11 x 9 batch, uniform in [-1, 1)
  dec.<w>.<mode>.<n>      pywt.wavedec2(y, level=n) flattened per image in list
                          order cA_n, cH_n, cV_n, cD_n, ..., cD_1: [2, total]
  c.<w>.<mode>.<n>        random coefficients of that layout (not the transform of
                          anything) and
  crec.<w>.<mode>.<n>     their pywt.waverec2, cropped to 11 x 9: [2, 11, 9]
tests/test_wavelets.c reads them; keep the lists below in step with it.
"""
import os
import warnings

import numpy as np
import pywt

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wavelets_pywt.npz")
WAVELETS = ["haar"] + ["db%d" % i for i in range(2, 9)] + ["bior2.2", "bior4.4"]
MODES = ["periodization", "symmetric"]
F32 = ["haar", "db4", "bior4.4"]
MULTI = [("haar", "periodization", 3), ("db2", "symmetric", 2), ("db4", "periodization", 2),
         ("bior4.4", "symmetric", 2), ("bior4.4", "periodization", 3), ("db8", "symmetric", 1)]

warnings.simplefilter("ignore")  # levels past dwt_max_level are on purpose
rng = np.random.default_rng(20240612)
out = {}
x = rng.uniform(-1, 1, (9, 12))
out["x"] = x
for w in WAVELETS:
    for m in MODES:
        cA, (cH, cV, cD) = pywt.dwt2(x, w, mode=m)
        out["dwt2.%s.%s" % (w, m)] = np.stack([cA, cH, cV, cD])
x32 = x.astype(np.float32)
out["x32"] = x32
for w in F32:
    for m in MODES:
        cA, (cH, cV, cD) = pywt.dwt2(x32, w, mode=m)
        assert cA.dtype == np.float32
        out["dwt2f.%s.%s" % (w, m)] = np.stack([cA, cH, cV, cD])


def flat(coeffs):
    parts = [coeffs[0].ravel()]
    for (h, v, d) in coeffs[1:]:
        parts += [h.ravel(), v.ravel(), d.ravel()]
    return np.concatenate(parts)


def unflat(vec, like):
    res, off = [], 0
    for k, c in enumerate(like):
        if k == 0:
            res.append(vec[off:off + c.size].reshape(c.shape))
            off += c.size
        else:
            t = []
            for b in c:
                t.append(vec[off:off + b.size].reshape(b.shape))
                off += b.size
            res.append(tuple(t))
    return res


y = rng.uniform(-1, 1, (2, 11, 9))
out["y"] = y
for (w, m, n) in MULTI:
    key = "%s.%s.%d" % (w, m, n)
    decs, cs, crecs = [], [], []
    for b in range(2):
        co = pywt.wavedec2(y[b], w, mode=m, level=n)
        decs.append(flat(co))
        c = rng.uniform(-1, 1, decs[-1].shape)
        cs.append(c)
        crecs.append(pywt.waverec2(unflat(c, co), w, mode=m)[:11, :9])
    out["dec." + key] = np.stack(decs)
    out["c." + key] = np.stack(cs)
    out["crec." + key] = np.stack(crecs)

np.savez_compressed(OUT, **out)
print("wrote %s (%d arrays, %d bytes)" % (OUT, len(out), os.path.getsize(OUT)))
