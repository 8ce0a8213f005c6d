"""The PyTorch peer of bench/bench_matmul.c: torch.matmul (MKL) at the same
shapes, dtypes and thread counts; median GFLOP/s of samples of repeated calls
(output allocated per call, as torch.matmul does).

    bench/.venv/bin/python bench/matmul_torch.py [--quick] [--threads 1,2]

Lines for scripts:
    RESULT matmul_torch <dtype> <M>x<K>x<N> <threads> <GFLOP/s>
"""
import argparse
import statistics
import time

import torch

SHAPES = [(256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048), (256, 784, 512)]


def time_case(a, b, samples, target):
    now = time.perf_counter
    torch.matmul(a, b)
    torch.matmul(a, b)
    t0 = now()
    torch.matmul(a, b)
    one = now() - t0
    inner = max(1, min(10000, int(target / one) if one > 0 else 1000))
    v = []
    for _ in range(samples):
        t0 = now()
        for _ in range(inner):
            torch.matmul(a, b)
        v.append((now() - t0) / inner)
    return statistics.median(v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", default="1,2")
    a = ap.parse_args()
    shapes = SHAPES[:3] if a.quick else SHAPES
    samples, target = (5, 0.03) if a.quick else (7, 0.05)
    print(f"torch {torch.__version__}, {torch.backends.cpu.get_cpu_capability()}")
    g = torch.Generator().manual_seed(42)
    for t in [int(v) for v in a.threads.split(",") if v]:
        torch.set_num_threads(t)
        print(f"\n{t} thread{'s' if t > 1 else ''}")
        print(f"{'dtype':<8} {'M x K x N':<18} {'torch GFLOP/s':>14}")
        for dt, name in ((torch.float32, "float32"), (torch.float64, "float64")):
            for m, k, n in shapes:
                x = torch.rand(m, k, generator=g, dtype=dt) * 2 - 1
                y = torch.rand(k, n, generator=g, dtype=dt) * 2 - 1
                s = time_case(x, y, samples, target)
                gf = 2.0 * m * k * n / s * 1e-9
                shp = f"{m}x{k}x{n}"
                print(f"{name:<8} {shp:<18} {gf:14.1f}")
                print(f"RESULT matmul_torch {name} {shp} {t} {gf:.3f}", flush=True)


if __name__ == "__main__":
    main()
