"""The PyTorch peer of bench/bench_mlp.c: one training step of an MLP
784-512-512-10 (ReLU, no dropout), batch 256, float32, Adam (defaults, lr 1e-3),
mean cross-entropy. Median wall time per step over --steps steps after --warmup,
per thread count (torch.set_num_threads), with the median of each phase.

zero_grad: PyTorch's default is set_to_none=True (gradients are freed and the
next backward writes them fresh); --zero-grad zeros runs set_to_none=False,
which matches gdl_model_zero_grad (a memset of the gradient slabs); "both" runs
the two one after the other.

    bench/.venv/bin/python bench/mlp_torch.py [--steps 200] [--warmup 20] [--threads 1,2]

Lines for scripts:
    RESULT mlp torch[-zeros] <threads> <median ms/step> <forward> <loss> <backward> <optim> <zero_grad>
"""
import argparse
import statistics
import time

import torch
from torch import nn


def run(threads, steps, warmup, batch, set_to_none):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    lossf = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(7)
    x = torch.rand(batch, 784, generator=g)
    y = torch.randint(0, 10, (batch,), generator=g)
    phases = {k: [] for k in ("total", "forward", "loss", "backward", "optim_step", "zero_grad")}
    now = time.perf_counter
    last = 0.0
    for s in range(-warmup, steps):
        t0 = now()
        logits = model(x)
        t1 = now()
        loss = lossf(logits, y)
        t2 = now()
        loss.backward()
        t3 = now()
        opt.step()
        t4 = now()
        opt.zero_grad(set_to_none=set_to_none)
        t5 = now()
        if s >= 0:
            phases["forward"].append(t1 - t0)
            phases["loss"].append(t2 - t1)
            phases["backward"].append(t3 - t2)
            phases["optim_step"].append(t4 - t3)
            phases["zero_grad"].append(t5 - t4)
            phases["total"].append(t5 - t0)
        last = loss.item() if s == steps - 1 else last
    return {k: 1e3 * statistics.median(v) for k, v in phases.items()}, last


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--zero-grad", choices=("none", "zeros", "both"), default="both",
                    help="none: zero_grad() default (set_to_none=True); zeros: set_to_none=False")
    a = ap.parse_args()
    modes = {"none": [True], "zeros": [False], "both": [True, False]}[a.zero_grad]
    print(f"torch {torch.__version__}, {torch.backends.cpu.get_cpu_capability()}, "
          f"MKL {torch.backends.mkl.is_available()}, oneDNN {torch.backends.mkldnn.is_available()}")
    print(f"MLP 784-512-512-10 (ReLU), batch {a.batch}, float32, Adam lr 1e-3, cross-entropy; "
          f"{a.steps} steps after {a.warmup} warm-up, median ms")
    print(f"{'threads':<8} {'zero_grad':<14} {'total':>9} {'forward':>9} {'loss':>9} {'backward':>9} "
          f"{'optim_step':>10} {'zero_grad':>10} {'loss@end':>10}")
    for set_to_none in modes:
        for t in [int(v) for v in a.threads.split(",") if v]:
            m, last = run(t, a.steps, a.warmup, a.batch, set_to_none)
            label = "set_to_none" if set_to_none else "zeros"
            print(f"{t:<8} {label:<14} {m['total']:9.3f} {m['forward']:9.3f} {m['loss']:9.3f} "
                  f"{m['backward']:9.3f} {m['optim_step']:10.3f} {m['zero_grad']:10.3f} {last:10.4f}")
            name = "torch" if set_to_none else "torch-zeros"
            print(f"RESULT mlp {name} {t} {m['total']:.4f} {m['forward']:.4f} {m['loss']:.4f} "
                  f"{m['backward']:.4f} {m['optim_step']:.4f} {m['zero_grad']:.4f}", flush=True)


if __name__ == "__main__":
    main()
