"""escnn's p4 group convolution, the peer of the `p4` case of bench/bench_conv.c:
R2Conv from 16 to 16 regular C4 fields (64 -> 64 feature maps), 3 x 3, padding 1,
56 x 56, batch 8, float32, in training mode (escnn expands its filter basis at every
forward, as a training step does); forward + backward of sum(conv(x) * r) with the
gradients of the input and of the weights. Median ms.

    bench/.venv-escnn/bin/python bench/p4_escnn.py [--steps 20] [--threads 1,2]

(escnn pins numpy < 2, so it lives in its own venv: bench/setup-venv.sh --escnn.)
Lines for scripts:  RESULT p4_fwd_bwd escnn <threads> <median ms> 0
"""
import argparse
import statistics
import time

import torch
from escnn import gspaces, nn


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", default="1,2")
    a = ap.parse_args()
    import escnn
    r2 = gspaces.rot2dOnR2(N=4)
    ft = nn.FieldType(r2, 16 * [r2.regular_repr])
    conv = nn.R2Conv(ft, ft, kernel_size=3, padding=1, bias=False)
    conv.train()
    params = sum(p.numel() for p in conv.parameters())
    print(f"escnn {escnn.__version__}, torch {torch.__version__}: R2Conv C4 regular 16 -> 16, 3x3, "
          f"{params} parameters (gdl's p4 layer: {16 * 16 * 4 * 9})")
    g = torch.Generator().manual_seed(3)
    x = (0.1 * torch.randn(8, 64, 56, 56, generator=g)).requires_grad_()
    r = torch.randn(8, 64, 56, 56, generator=g)

    def step():
        x.grad = None
        conv.zero_grad(set_to_none=True)
        (conv(nn.GeometricTensor(x, ft)).tensor * r).sum().backward()

    for t in [int(v) for v in a.threads.split(",") if v]:
        torch.set_num_threads(t)
        for _ in range(3):
            step()
        ts = []
        for _ in range(a.steps):
            t0 = time.perf_counter()
            step()
            ts.append(time.perf_counter() - t0)
        ms = 1e3 * statistics.median(ts)
        print(f"{t} thread{'s' if t > 1 else ' '}: p4 fwd+bwd {ms:.2f} ms")
        print(f"RESULT p4_fwd_bwd escnn {t} {ms:.4f} 0", flush=True)


if __name__ == "__main__":
    main()
