"""Reference fixtures for gdl's grid (CNN) ops and a small CNN, made once by PyTorch
and committed.

Regenerate (from the project root, after `bash bench/setup-venv.sh`):

    bench/.venv/bin/python tests/ref/gen_grid.py

Writes:
  tests/ref/grid_torch.npz   float64 op cases (inputs and upstream weights are
                             multiples of 2^-8, which compress well; convolution
                             weights and grid_sample's grids are not). For every case:
      <case>.in<k>     input k
      <case>.w         random upstream weights; the loss is L = sum(w * out)
      <case>.out       the op's output
      <case>.grad<k>   dL/d(input k), for each float input that requires grad
      <case>.after<k>  input k after the call (batch norm's running statistics)
      <case>.indices   max pooling only: PyTorch's return_indices (int64, flat
                       positions in each H x W plane)
  tests/ref/cnn_torch.safetensors  float32 state_dict of a small PyTorch CNN laid
                       out like tests/ref/cnn_small.ini (a module holding its
                       nn.Sequential in `layers`, so the names are gdl's
                       layers.<i>.<name>; num_batches_tracked is saved too, as
                       save_file(model.state_dict()) does, and gdl ignores it)
  tests/ref/cnn_io.npz x [8,1,12,12] float32 and the CNN's eval-mode outputs
                       y [8,10] float32

tests/test_ref_grid.c rebuilds each op case with gdl: its table of cases mirrors
the list below (same names, same attributes). Keep the two in step. gdl's pads
are listed first axis first ({before_0, after_0, before_1, after_1} for axes
-k..-1) while F.pad lists the last axis first: the script converts (fpad below).
Dropout2d is not covered: its mask comes from a different random generator.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file
from torch.func import functional_call

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "grid_torch.npz")

torch.set_default_dtype(torch.float64)
torch.manual_seed(20240620)  # module initialisers (their weights are replaced)
gen = torch.Generator().manual_seed(20240620)


def U(*shape, lo=-1.0, hi=1.0, exact=True):
    """Uniform in [lo, hi); rounded to multiples of 2^-8 when exact (such inputs and
    weights compress well, which keeps the fixture small), else full precision."""
    u = lo + (hi - lo) * torch.rand(shape, generator=gen)
    return torch.round(u * 256) / 256 if exact else u


def P(*shape):
    """Convolution weights and biases at full precision, so that outputs and gradients
    are rounded sums (an accumulation in the wrong precision would show)."""
    return U(*shape, exact=False)


arrays = {}
names = []


def case(name, fn, *inputs, nograd=(), indices=None):
    """inputs: float tensors (leaves requiring grad unless their index is in
    nograd); out = fn(*leaves). indices(*inputs) gives max pooling's indices."""
    assert name not in names, name
    names.append(name)
    leaves = []
    for k, x in enumerate(inputs):
        arrays[f"{name}.in{k}"] = x.detach().clone().numpy()
        x = x.detach().clone()
        if k not in nograd:
            x.requires_grad_(True)
        leaves.append(x)
    out = fn(*leaves)
    arrays[f"{name}.out"] = out.detach().numpy().copy()
    if indices is not None:
        arrays[f"{name}.indices"] = indices(*[x.detach() for x in leaves]).numpy()
    w = U(*out.shape)
    arrays[f"{name}.w"] = w.numpy()
    (w * out).sum().backward()
    for k, x in enumerate(leaves):
        if x.requires_grad:
            g = x.grad if x.grad is not None else torch.zeros_like(x)
            arrays[f"{name}.grad{k}"] = g.numpy()
    for k, x in enumerate(leaves):
        if k in nograd:
            arrays[f"{name}.after{k}"] = x.detach().numpy().copy()


# ---- convolutions: PyTorch's modules, weights passed in ------------------------------

CONV = {(1, False): nn.Conv1d, (2, False): nn.Conv2d, (3, False): nn.Conv3d,
        (1, True): nn.ConvTranspose1d, (2, True): nn.ConvTranspose2d}


def conv(nd, cin, cout, k, transpose=False, bias=True, **kw):
    """out = ConvNd(cin, cout, k, **kw)(x) with weight (and bias) given."""
    m = CONV[nd, transpose](cin, cout, k, bias=bias, **kw)

    def f(x, w, b=None):
        return functional_call(m, {"weight": w, "bias": b} if bias else {"weight": w}, (x,))
    return f


# 1-d
case("conv1d_basic", conv(1, 3, 4, 3), U(2, 3, 9), P(4, 3, 3), P(4))
case("conv1d_stride_pad_dil", conv(1, 3, 4, 3, bias=False, stride=2, padding=2, dilation=2),
     U(2, 3, 11), P(4, 3, 3))
case("conv1d_groups", conv(1, 4, 6, 3, groups=2, padding=1), U(2, 4, 8), P(6, 2, 3), P(6))
case("conv1d_circular", conv(1, 2, 3, 3, padding=2, padding_mode="circular"),
     U(2, 2, 7), P(3, 2, 3), P(3))
# 2-d
case("conv2d_basic", conv(2, 2, 4, 3), U(2, 2, 4, 5), P(4, 2, 3, 3), P(4))
case("conv2d_stride_pad", conv(2, 3, 5, (3, 2), stride=(2, 1), padding=(1, 2)),
     U(1, 3, 5, 5), P(5, 3, 3, 2), P(5))
case("conv2d_dilation", conv(2, 2, 3, 3, dilation=(2, 1), padding=(2, 1)),
     U(1, 2, 6, 5), P(3, 2, 3, 3), P(3))
case("conv2d_stride_dil_nobias", conv(2, 2, 4, (2, 3), bias=False, stride=(1, 3), dilation=(1, 2),
                                      padding=(0, 2)),
     U(1, 2, 5, 11), P(4, 2, 2, 3))
case("conv2d_groups", conv(2, 4, 6, 3, groups=2), U(1, 4, 4, 5), P(6, 2, 3, 3), P(6))
case("conv2d_depthwise", conv(2, 3, 6, 3, groups=3, stride=2, padding=1),
     U(2, 3, 4, 5), P(6, 1, 3, 3), P(6))
case("conv2d_1x1", conv(2, 3, 5, 1, bias=False), U(1, 3, 4, 5), P(5, 3, 1, 1))
case("conv2d_1x1_stride", conv(2, 3, 5, 1, stride=2), U(1, 3, 5, 5), P(5, 3, 1, 1), P(5))
case("conv2d_reflect", conv(2, 2, 3, 3, padding=(2, 1), padding_mode="reflect"),
     U(1, 2, 5, 6), P(3, 2, 3, 3), P(3))
case("conv2d_replicate", conv(2, 2, 3, 3, padding=(1, 2), stride=2, padding_mode="replicate"),
     U(1, 2, 5, 6), P(3, 2, 3, 3), P(3))
case("conv2d_circular", conv(2, 2, 4, (3, 2), padding=(2, 1), padding_mode="circular"),
     U(1, 2, 4, 5), P(4, 2, 3, 2), P(4))
case("conv2d_circular_groups", conv(2, 4, 4, 3, padding=1, groups=2, bias=False,
                                    padding_mode="circular"),
     U(1, 4, 4, 4), P(4, 2, 3, 3))
case("conv2d_transposed_input", lambda x, w, b: F.conv2d(x.transpose(2, 3), w, b, padding=1),
     U(1, 2, 6, 5), P(3, 2, 3, 3), P(3))
case("conv2d_shortcut", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
     U(1, 2, 5, 5), P(3, 2, 3, 3), P(3))
# 3-d
case("conv3d_basic", conv(3, 2, 2, (2, 3, 2), stride=(1, 2, 1), padding=(1, 0, 1)),
     U(1, 2, 3, 5, 4), P(2, 2, 2, 3, 2), P(2))
case("conv3d_groups_dil", conv(3, 4, 4, 2, groups=2, dilation=(2, 1, 1), bias=False),
     U(1, 4, 4, 3, 3), P(4, 2, 2, 2, 2))
case("conv3d_replicate", conv(3, 1, 2, 3, padding=1, padding_mode="replicate"),
     U(1, 1, 3, 4, 3), P(2, 1, 3, 3, 3), P(2))

# transposed: weight [in, out/groups, k...]
case("conv_transpose1d_basic", conv(1, 4, 3, 3, True, stride=2, padding=1, output_padding=1),
     U(2, 4, 5), P(4, 3, 3), P(3))
case("conv_transpose1d_groups_dil", conv(1, 4, 4, 3, True, groups=2, dilation=2, bias=False),
     U(2, 4, 6), P(4, 2, 3))
case("conv_transpose2d_basic", conv(2, 2, 2, 3, True), U(2, 2, 3, 4), P(2, 2, 3, 3), P(2))
case("conv_transpose2d_stride_pad_opad",
     conv(2, 3, 2, (3, 4), True, stride=(2, 3), padding=(1, 0), output_padding=(1, 2)),
     U(1, 3, 3, 3), P(3, 2, 3, 4), P(2))
case("conv_transpose2d_groups_dil",
     conv(2, 6, 3, (3, 2), True, groups=3, dilation=(1, 2), stride=2, padding=1,
          output_padding=(1, 0), bias=False),
     U(1, 6, 3, 4), P(6, 1, 3, 2))
case("conv_transpose2d_opad_dil",
     conv(2, 2, 3, 2, True, stride=1, dilation=3, output_padding=(2, 1)),
     U(1, 2, 3, 3), P(2, 3, 2, 2), P(3))

# ---- padding: gdl's order is first axis first, F.pad's last axis first ----------------


def fpad(pads):
    """gdl {b0, a0, b1, a1, ...} -> F.pad (b_last, a_last, ..., b0, a0)."""
    pairs = [pads[i:i + 2] for i in range(0, len(pads), 2)]
    return tuple(v for p in reversed(pairs) for v in p)


def pad(pads, mode="constant", value=0.0):
    return lambda x: F.pad(x, fpad(pads), mode=mode, value=value if mode == "constant" else None)


case("pad_constant_1d", pad([2, 1], value=0.5), U(2, 3, 5))
case("pad_constant_2d", pad([1, 2, 0, 3], value=-0.75), U(1, 3, 4, 5))
case("pad_constant_3d", pad([0, 1, 2, 0, 1, 1], value=1.25), U(1, 2, 3, 4, 3))
case("pad_reflect_1d", pad([2, 3], "reflect"), U(2, 3, 5))
case("pad_reflect_2d", pad([1, 2, 3, 1], "reflect"), U(1, 3, 4, 5))
case("pad_reflect_max", pad([3, 3, 4, 4], "reflect"), U(1, 2, 4, 5))
case("pad_reflect_3d", pad([1, 0, 2, 1, 0, 2], "reflect"), U(1, 1, 3, 4, 3))
case("pad_replicate_2d", pad([2, 0, 1, 3], "replicate"), U(1, 3, 4, 5))
case("pad_replicate_3d", pad([1, 2, 0, 1, 3, 0], "replicate"), U(1, 1, 3, 4, 3))
case("pad_replicate_unbatched", pad([2, 1], "replicate"), U(3, 5))
case("pad_circular_1d", pad([1, 3], "circular"), U(2, 3, 5))
case("pad_circular_2d", pad([1, 2, 3, 1], "circular"), U(1, 3, 4, 5))
case("pad_circular_full", pad([4, 4, 5, 5], "circular"), U(1, 2, 4, 5))
case("pad_circular_3d", pad([1, 1, 2, 0, 0, 3], "circular"), U(1, 1, 3, 4, 3))
# One trailing axis of a 4-d tensor: F.pad refuses non-constant modes there, so
# the reference pads the same data viewed as 3-d.
case("pad_replicate_last_axis",
     lambda x: F.pad(x.reshape(3, 4, 5), (2, 3), mode="replicate").reshape(1, 3, 4, 10),
     U(1, 3, 4, 5))

# ---- pooling -------------------------------------------------------------------------


def max_pool(k, s=None, p=0):
    return (lambda x: F.max_pool2d(x, k, s, p),
            lambda x: F.max_pool2d(x, k, s, p, return_indices=True)[1])


def mp_case(name, k, s, p, x):
    f, idx = max_pool(k, s, p)
    case(name, f, x, indices=idx)


mp_case("max_pool2d_k2", 2, None, 0, U(2, 2, 6, 7))
mp_case("max_pool2d_k3s2p1", 3, 2, 1, U(2, 2, 7, 6))
mp_case("max_pool2d_k3s1", 3, 1, 0, U(2, 2, 5, 6))
mp_case("max_pool2d_k2s3", 2, 3, 0, U(1, 2, 8, 7))
mp_case("max_pool2d_k4s2p2", 4, 2, 2, U(2, 2, 6, 5))
# Ties (integer values): the first maximum in row-major window order wins.
mp_case("max_pool2d_ties", 3, 2, 1, torch.randint(0, 3, (2, 2, 6, 6), generator=gen).double())
case("avg_pool2d_k2", lambda x: F.avg_pool2d(x, 2), U(1, 3, 6, 7))
case("avg_pool2d_k3s2p1", lambda x: F.avg_pool2d(x, 3, 2, 1), U(1, 3, 7, 6))
case("avg_pool2d_k3s1p1", lambda x: F.avg_pool2d(x, 3, 1, 1), U(1, 2, 5, 6))
case("avg_pool2d_k4s3p2", lambda x: F.avg_pool2d(x, 4, 3, 2), U(1, 2, 7, 8))
case("adaptive_avg_pool2d_down", lambda x: F.adaptive_avg_pool2d(x, (3, 4)), U(1, 3, 7, 9))
case("adaptive_avg_pool2d_up", lambda x: F.adaptive_avg_pool2d(x, (5, 7)), U(2, 2, 3, 4))
case("adaptive_avg_pool2d_1x1", lambda x: F.adaptive_avg_pool2d(x, 1), U(2, 2, 5, 6))
case("adaptive_max_pool2d_down", lambda x: F.adaptive_max_pool2d(x, (3, 4)), U(1, 3, 7, 9))
case("adaptive_max_pool2d_up", lambda x: F.adaptive_max_pool2d(x, (5, 7)), U(2, 2, 3, 4))
case("adaptive_max_pool2d_1x1", lambda x: F.adaptive_max_pool2d(x, 1), U(2, 2, 5, 6))
case("max_pool2d_sliced", lambda x: F.max_pool2d(x[:, :, 1:, ::2], 2), U(2, 2, 7, 9))

# ---- resampling (sizes given; align_corners = False) ------------------------------------


def resize(oh, ow, mode):
    kw = {} if mode == "nearest" else {"align_corners": False}
    return lambda x: F.interpolate(x, size=(oh, ow), mode=mode, **kw)


# 'nearest' reads floor(i * scale) with PyTorch's scale = in / out rounded to float32,
# gdl floor(i * in / out) exactly: the two differ for a few size pairs (26 -> 22:
# output 11 reads 12 in PyTorch, 13 in gdl), never for integer up-scaling. The sizes
# below are not among them.
case("upsample_nearest_x2", resize(6, 8, "nearest"), U(2, 2, 3, 4))
case("upsample_nearest_frac", resize(7, 5, "nearest"), U(2, 2, 3, 4))
case("upsample_nearest_down", resize(3, 4, "nearest"), U(1, 2, 7, 6))
case("upsample_nearest_mixed", resize(9, 2, "nearest"), U(1, 3, 4, 5))
case("upsample_bilinear_x2", resize(6, 8, "bilinear"), U(2, 2, 3, 4))
case("upsample_bilinear_frac", resize(7, 9, "bilinear"), U(1, 2, 3, 4))
case("upsample_bilinear_down", resize(3, 4, "bilinear"), U(1, 2, 7, 6))
case("upsample_bilinear_mixed", resize(8, 3, "bilinear"), U(1, 3, 5, 5))

# ---- grid_sample (bilinear, zeros padding, align_corners = False) ----------------------


def grid_sample(x, g):
    return F.grid_sample(x, g, mode="bilinear", padding_mode="zeros", align_corners=False)


# Grids at full precision: points never land exactly on a pixel (a kink).
case("grid_sample_inside", grid_sample, U(2, 2, 3, 4),
     U(2, 3, 4, 2, lo=-0.9, hi=0.9, exact=False))
case("grid_sample_outside", grid_sample, U(2, 2, 4, 5),
     U(2, 5, 3, 2, lo=-1.4, hi=1.4, exact=False))
case("grid_sample_upsample", grid_sample, U(1, 1, 3, 3),
     U(1, 6, 7, 2, lo=-1.1, hi=1.1, exact=False))

# ---- batch norm on [N, C, H, W] (x, weight, bias, running mean, running var) -------------


def bn(train, momentum=0.1, eps=1e-5):
    return lambda x, w, b, rm, rv: F.batch_norm(x, rm, rv, w, b, training=train,
                                                momentum=momentum, eps=eps)


BN_STATS = lambda c: (U(c, lo=-0.5, hi=0.5), U(c, lo=0.5, hi=1.5))
case("batch_norm2d_train", bn(True), U(2, 3, 3, 3, lo=-2, hi=2), U(3, lo=0.5, hi=1.5), U(3),
     *BN_STATS(3), nograd=(3, 4))
case("batch_norm2d_train_n1", bn(True, 0.3, 1e-3), U(1, 2, 3, 4, lo=-2, hi=2),
     U(2, lo=0.5, hi=1.5), U(2), *BN_STATS(2), nograd=(3, 4))
case("batch_norm2d_eval", bn(False), U(2, 3, 3, 3, lo=-2, hi=2), U(3, lo=0.5, hi=1.5), U(3),
     *BN_STATS(3), nograd=(3, 4))

np.savez_compressed(OUT, **arrays)
size = os.path.getsize(OUT)
print(f"{OUT}: {len(names)} cases, {len(arrays)} arrays, {size} bytes, torch {torch.__version__}",
      file=sys.stderr)
assert size < 200_000, "fixture too large"

# ---- a small CNN laid out like tests/ref/cnn_small.ini (float32) -------------------------

torch.manual_seed(20240620)
torch.set_default_dtype(torch.float32)


class CNN(nn.Module):
    """The layer order of cnn_small.ini: module i is gdl's layer i."""

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1),  # 0 [conv2d]
            nn.BatchNorm2d(4),              # 1 [batch_norm]
            nn.ReLU(),                      # 2 [relu]
            nn.MaxPool2d(2),                # 3 [max_pool2d]
            nn.Conv2d(4, 8, 3),             # 4 [conv2d] ...
            nn.ReLU(),                      # 5 ... activation = relu
            nn.AdaptiveAvgPool2d(1),        # 6 [global_avg_pool] (gdl: [8, 1, 1] -> [8])
            nn.Flatten(),                   # 7 [flatten] (a no-op in gdl)
            nn.Linear(8, 10))               # 8 [linear]

    def forward(self, x):
        return self.layers(x)


cnn = CNN()
with torch.no_grad():  # non-trivial batch-norm parameters and running statistics
    bnl = cnn.layers[1]
    bnl.weight.uniform_(0.5, 1.5)
    bnl.bias.uniform_(-0.5, 0.5)
    bnl.running_mean.uniform_(-0.3, 0.3)
    bnl.running_var.uniform_(0.3, 2.0)
    bnl.num_batches_tracked.fill_(100)
cnn.eval()
state = {k: v.contiguous() for k, v in cnn.state_dict().items()}
want = {f"layers.{i}.{p}" for i in (0, 4, 8) for p in ("weight", "bias")}
want |= {f"layers.1.{p}" for p in ("weight", "bias", "running_mean", "running_var",
                                   "num_batches_tracked")}
assert set(state) == want, sorted(state)
st = os.path.join(HERE, "cnn_torch.safetensors")
save_file(state, st)
os.chmod(st, 0o644)  # save_file makes it private

xs = torch.rand(8, 1, 12, 12) * 2 - 1
with torch.no_grad():
    ys = cnn(xs)
io = os.path.join(HERE, "cnn_io.npz")
np.savez_compressed(io, x=xs.numpy(), y=ys.numpy())

nparams = sum(v.numel() for k, v in state.items() if v.is_floating_point())
print(f"{st}: {nparams} floats, {os.path.getsize(st)} bytes; {io}: {os.path.getsize(io)} bytes",
      file=sys.stderr)
assert os.path.getsize(st) + os.path.getsize(io) < 200_000, "fixtures too large"
