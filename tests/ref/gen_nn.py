"""Reference fixtures for gdl's nn layer, made once by PyTorch and committed.

Regenerate (from the project root, after `bash bench/setup-venv.sh`):

    bench/.venv/bin/python tests/ref/gen_nn.py

Writes:
  tests/ref/optim_torch.npz   optimiser trajectories (float64) of a tiny model
                              Sequential(Linear(4,3), ReLU, Linear(3,2)) trained on
                              one fixed batch with cross-entropy:
      x [5,4], labels [5] int64     the batch
      init.<param>                  the initial parameters (layers.0.weight, ...)
      <case>.loss [5]               the loss before each step
      <case>.<param> [5, ...]       the parameters after each step (row k: after
                                    step k + 1)
  tests/ref/mlp_torch.safetensors  float32 weights of a PyTorch MLP laid out like
                              tests/ref/mlp_small.ini (784-32-32-10; the module holds
                              its nn.Sequential in `layers`, so the names are
                              layers.1.weight, layers.4.weight, layers.7.weight, ...)
  tests/ref/mlp_io.npz        x [16,1,28,28] float32 and the MLP's eval-mode outputs
                              y [16,10] float32

tests/test_ref_nn.c replays each optimiser case with gdl: its table of cases mirrors
CASES below (same names, same hyper-parameters). Keep the two in step.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = 5

# ---- optimiser trajectories (float64) ----------------------------------------------

torch.manual_seed(20240613)
torch.set_default_dtype(torch.float64)


def tiny():
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


x = torch.rand(5, 4) * 2 - 1
labels = torch.tensor([0, 1, 1, 0, 1], dtype=torch.int64)
init = tiny().state_dict()


def check_hidden(model):
    """Every hidden unit active for some sample, so no gradient is exactly zero (Adam
    would blow a rounding-level gradient up), and no pre-activation near ReLU's kink."""
    with torch.no_grad():
        h = model[0](x)
    assert (h > 0).any(0).all() and (h.abs() > 1e-4).all(), "pick another seed"


# name: (optimiser, keyword arguments); lr 0.1 for SGD, 0.01 for Adam and AdamW.
CASES = {
    "sgd": (torch.optim.SGD, dict(lr=0.1)),
    "sgd_momentum": (torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
    "sgd_nesterov": (torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
    "sgd_wd_momentum": (torch.optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
    "adam": (torch.optim.Adam, dict(lr=0.01)),
    "adam_wd": (torch.optim.Adam, dict(lr=0.01, weight_decay=0.01)),
    "adamw": (torch.optim.AdamW, dict(lr=0.01, weight_decay=0.01)),
}

arrays = {"x": x.numpy(), "labels": labels.numpy()}
for k, v in init.items():
    arrays[f"init.layers.{k}"] = v.numpy().copy()

for name, (cls, kw) in CASES.items():
    model = tiny()
    model.load_state_dict(init)
    opt = cls(model.parameters(), **kw)
    losses, after = [], {k: [] for k in init}
    for step in range(STEPS):
        check_hidden(model)
        opt.zero_grad()
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        for k, v in model.state_dict().items():
            after[k].append(v.numpy().copy())
    arrays[f"{name}.loss"] = np.array(losses)
    for k, v in after.items():
        arrays[f"{name}.layers.{k}"] = np.stack(v)

out = os.path.join(HERE, "optim_torch.npz")
np.savez_compressed(out, **arrays)
print(f"{out}: {len(CASES)} cases, {os.path.getsize(out)} bytes", file=sys.stderr)

# ---- an MLP laid out like tests/ref/mlp_small.ini (float32) ---------------------------

torch.manual_seed(20240613)
torch.set_default_dtype(torch.float32)


class MLP(nn.Module):
    def __init__(self, width=32):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, width), nn.ReLU(), nn.Dropout(0.2),
            nn.Linear(width, width), nn.ReLU(), nn.Dropout(0.2),
            nn.Linear(width, 10))

    def forward(self, x):
        return self.layers(x)


mlp = MLP().eval()
state = {k: v.contiguous() for k, v in mlp.state_dict().items()}
assert sorted(state) == sorted(f"layers.{i}.{p}" for i in (1, 4, 7) for p in ("weight", "bias"))
st = os.path.join(HERE, "mlp_torch.safetensors")
save_file(state, st)
os.chmod(st, 0o644)  # save_file makes it private

xs = torch.rand(16, 1, 28, 28)
with torch.no_grad():
    ys = mlp(xs)
io = os.path.join(HERE, "mlp_io.npz")
np.savez_compressed(io, x=xs.numpy(), y=ys.numpy())

nparams = sum(v.numel() for v in state.values())
print(f"{st}: {nparams} parameters, {os.path.getsize(st)} bytes; "
      f"{io}: {os.path.getsize(io)} bytes; torch {torch.__version__}", file=sys.stderr)
assert os.path.getsize(st) + os.path.getsize(io) < 200_000, "fixtures too large"
