"""Writes the io fixtures in tests/ref/ with the trusted peers: NumPy (.npy, .npz)
and the safetensors package (.safetensors). tests/test_io.c loads them and checks
the values against the same formulas written in C.

    python3 -m venv bench/.venv && bench/.venv/bin/pip install numpy safetensors
    bench/.venv/bin/python tests/ref/gen_io.py
"""
import io
import json
import os
import struct
import zipfile
import zlib

import numpy as np
import safetensors
import safetensors.numpy
from safetensors import TensorSpec

OUT = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(OUT, name)


def arrays():
    """The reference arrays; test_io.c has the same formulas."""
    i = np.arange
    return {
        "f32": ((i(12) - 5) * 0.375).astype("<f4").reshape(3, 4),
        "f64": ((i(12) - 4) / 3.0).astype("<f8").reshape(2, 3, 2),
        "i32": np.array([-(2**31), -1, 0, 7, 2**31 - 1], dtype="<i4"),
        "i64": np.array([-(2**62), -1, 3, 2**40 + 5], dtype="<i8").reshape(2, 2),
        "u8": ((i(10) * 37) % 256).astype("|u1").reshape(2, 5),
        "bool": (i(7) % 3 == 0),
        "scalar": np.array(3.25, dtype="<f8"),
        "empty": np.zeros((0, 3), dtype="<f4"),
    }


F16 = [0.0, -2.0, 0.5, 65504.0, 2.0**-24, np.inf, -np.inf, np.nan]
I8 = [-128, -1, 0, 127]
BF16_F32 = [1.0, -3.5, 0.15625, 2.0**100, 2.0**-130, -np.inf]  # exact in bfloat16


def write_npy():
    for name, a in arrays().items():
        np.save(path(f"io_{name}.npy"), a)
    np.save(path("io_f16.npy"), np.array(F16, dtype="<f2"))
    np.save(path("io_i8.npy"), np.array(I8, dtype="|i1"))
    f32 = arrays()["f32"]
    for v in (2, 3):
        with open(path(f"io_v{v}.npy"), "wb") as f:
            np.lib.format.write_array(f, f32, version=(v, 0))
    # Refused: Fortran order, big-endian, an unsupported dtype.
    np.save(path("io_fortran.npy"), np.asfortranarray(f32))
    np.save(path("io_bigendian.npy"), np.arange(4, dtype=">f4"))
    np.save(path("io_u32.npy"), np.arange(4, dtype="<u4"))
    assert np.load(path("io_fortran.npy")).flags.f_contiguous


class Unseekable(io.RawIOBase):
    """A write-only stream without tell/seek: zipfile then writes data descriptors."""

    def __init__(self, f):
        self.f = f

    def writable(self):
        return True

    def write(self, b):
        return self.f.write(b)


def zip64_npz(members):
    """A stored zip whose central directory uses ZIP64 fields for every size and
    offset, with a ZIP64 end record, as writers do for archives over 4 GiB."""
    out = bytearray()
    central = bytearray()
    for name, data in members:
        name = name.encode()
        crc = zlib.crc32(data)
        off = len(out)
        extra = struct.pack("<HHQQ", 1, 16, len(data), len(data))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0x21, crc,
                           0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra))
        out += name + extra + data
        cextra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), off)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0x21,
                               crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name), len(cextra), 0, 0, 0,
                               0o644 << 16, 0xFFFFFFFF)
        central += name + cextra
    cd_off = len(out)
    out += central
    end64 = len(out)
    n = len(members)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, len(central), cd_off)
    out += struct.pack("<IIQI", 0x07064B50, 0, end64, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return bytes(out)


def write_npz():
    a = arrays()
    np.savez(path("io_numpy.npz"), **a)
    np.savez_compressed(path("io_numpy_z.npz"), **a)
    with open(path("io_descriptor.npz"), "wb") as f:
        np.savez_compressed(Unseekable(f), f32=a["f32"], i64=a["i64"])
    with zipfile.ZipFile(path("io_descriptor.npz")) as z:
        assert all(i.flag_bits & 0x08 for i in z.infolist()), "expected data descriptors"
    members = []
    for name in ("f32", "u8"):
        b = io.BytesIO()
        np.lib.format.write_array(b, a[name])
        members.append((name + ".npy", b.getvalue()))
    with open(path("io_zip64.npz"), "wb") as f:
        f.write(zip64_npz(members))
    z = np.load(path("io_zip64.npz"))  # the peer must accept the hand-made archive
    assert np.array_equal(z["f32"], a["f32"]) and np.array_equal(z["u8"], a["u8"])
    for name in ("io_numpy.npz", "io_numpy_z.npz"):
        z = np.load(path(name))
        assert all(np.array_equal(z[k], v) for k, v in a.items())


def spec(dtype, arr):
    return TensorSpec(dtype=dtype, shape=list(arr.shape), data_ptr=arr.ctypes.data,
                      data_len=arr.nbytes)


def write_safetensors():
    a = arrays()
    plain = {k: a[k] for k in ("f32", "f64", "i32", "i64", "u8", "bool")}
    meta = {"format": "np", "note": "gdl fixture \u00e9 \"quoted\""}
    with open(path("io_st_plain.safetensors"), "wb") as f:
        f.write(safetensors.numpy.save(plain, metadata=meta))
    # Half floats: F16 through numpy, BF16 as raw bits (numpy has no bfloat16).
    f16 = np.array(F16, dtype="<f2")
    bf = np.array(BF16_F32, dtype="<f4").view("<u4")
    assert np.all(bf & 0xFFFF == 0)
    bf16 = (bf >> 16).astype("<u2").reshape(2, 3)
    keep = dict(plain, f16=f16, bf16=bf16)
    specs = {k: spec(v.dtype.name, v) for k, v in plain.items()}
    specs["f16"] = spec("float16", f16)
    specs["bf16"] = spec("bfloat16", bf16)
    data = bytes(safetensors.serialize(specs, metadata=meta))
    with open(path("io_st.safetensors"), "wb") as f:
        f.write(data)
    del keep
    # Check the file with the peer's own reader.
    got = dict(safetensors.deserialize(data))
    assert got["bf16"]["dtype"] == "BF16" and got["f16"]["dtype"] == "F16"
    assert got["bf16"]["data"] == bf16.tobytes()
    hl = struct.unpack("<Q", data[:8])[0]
    print(json.loads(data[8:8 + hl]))


if __name__ == "__main__":
    write_npy()
    write_npz()
    write_safetensors()
    total = sum(os.path.getsize(path(f)) for f in os.listdir(OUT) if f.startswith("io_"))
    print(f"io fixtures: {total} bytes")
