"""The PyTorch peer of bench/bench_conv.c: the same cases, float32, on the CPU.

  conv  F.conv2d 64 -> 64, 56 x 56, 3 x 3, padding 1, no bias, batch 8: forward
        alone (no_grad), and forward + backward of sum(conv(x) * r) with the
        gradients of x and of the weight.
  p4    the p4 group convolution of the same size as GrouPy and escnn's regular
        representation compute it: the filter bank [16 * 4, 16 * 4, 3, 3] is built
        from weight [16, 16, 4, 3, 3] by rotating each filter (rot90) and cycling
        its group axis, then one F.conv2d; forward + backward as above (the bank's
        construction is part of the timed step, as it is in those libraries).
  cnn   one training step of configs/fashion_cnn.ini's CNN as an nn.Sequential,
        batch 128, AdamW (lr 2e-3, weight decay 5e-4), cross-entropy.

    bench/.venv/bin/python bench/conv_torch.py [--steps 20] [--threads 1,2]

Lines for scripts:  RESULT <case> torch <threads> <median ms> <GFLOP/s or 0>
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn


def median_ms(fn, steps):
    for _ in range(3):
        fn()
    t = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(t)


def p4_bank(w):
    """w [O, C, 4, k, k] -> [O * 4, C * 4, k, k]: output rotation r sees the filter
    rotated by r with its input group axis shifted by r."""
    rots = []
    for r in range(4):
        wr = torch.rot90(w, r, dims=(-2, -1))
        rots.append(torch.roll(wr, shifts=r, dims=2))
    bank = torch.stack(rots, dim=1)  # [O, 4, C, 4, k, k]
    o, _, c, g, k, _ = bank.shape
    return bank.reshape(o * 4, c * g, k, k)


def fashion_cnn():
    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    return nn.Sequential(*block(1, 32), *block(32, 32), nn.MaxPool2d(2),
                         *block(32, 64), *block(64, 64), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 7 * 7, 256, bias=False),
                         nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.3), nn.Linear(256, 10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", default="1,2")
    a = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.backends.cpu.get_cpu_capability()}, "
          f"oneDNN {torch.backends.mkldnn.is_available()}")
    N, C, S = 8, 64, 56
    flop = 2.0 * C * C * 9 * S * S * N
    g = torch.Generator().manual_seed(3)
    x = (0.1 * torch.randn(N, C, S, S, generator=g)).requires_grad_()
    w = (0.1 * torch.randn(C, C, 3, 3, generator=g)).requires_grad_()
    r = torch.randn(N, C, S, S, generator=g)
    gw = (0.1 * torch.randn(C // 4, C // 4, 4, 3, 3, generator=g)).requires_grad_()

    def conv_fwd():
        with torch.no_grad():
            F.conv2d(x, w, padding=1)

    def conv_fwd_bwd():
        x.grad = w.grad = None
        (F.conv2d(x, w, padding=1) * r).sum().backward()

    def p4_fwd_bwd():
        x.grad = gw.grad = None
        (F.conv2d(x, p4_bank(gw), padding=1) * r).sum().backward()

    model = fashion_cnn()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=5e-4)
    xb = torch.rand(128, 1, 28, 28, generator=g)
    yb = torch.randint(0, 10, (128,), generator=g)

    def cnn_step():
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        opt.zero_grad()

    for t in [int(v) for v in a.threads.split(",") if v]:
        torch.set_num_threads(t)
        f = median_ms(conv_fwd, a.steps)
        fb = median_ms(conv_fwd_bwd, a.steps)
        p4 = median_ms(p4_fwd_bwd, a.steps)
        cnn = median_ms(cnn_step, a.steps)
        print(f"{t} thread{'s' if t > 1 else ' '}: conv fwd {f:.2f} ms ({flop / f * 1e-6:.1f} GFLOP/s), "
              f"conv fwd+bwd {fb:.2f} ms ({3 * flop / fb * 1e-6:.1f} GFLOP/s), p4 fwd+bwd {p4:.2f} ms, "
              f"CNN step {cnn:.2f} ms")
        print(f"RESULT conv_fwd torch {t} {f:.4f} {flop / f * 1e-6:.2f}")
        print(f"RESULT conv_fwd_bwd torch {t} {fb:.4f} {3 * flop / fb * 1e-6:.2f}")
        print(f"RESULT p4_fwd_bwd torch {t} {p4:.4f} {3 * flop / p4 * 1e-6:.2f}")
        print(f"RESULT cnn_step torch {t} {cnn:.4f} 0", flush=True)


if __name__ == "__main__":
    main()
