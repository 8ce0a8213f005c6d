"""Reference fixtures for gdl's generic ops, made once by PyTorch and committed.

Regenerate (from the project root, after `bash bench/setup-venv.sh`):

    bench/.venv/bin/python tests/ref/gen_ops.py

Writes tests/ref/ops_torch.npz. For every case:
  <case>.in<k>    input k (float64, or int64 for indices/targets)
  <case>.w        random upstream weights; the loss is L = sum(w * out)
  <case>.out      the op's output
  <case>.grad<k>  dL/d(input k), for each float input that requires grad
  <case>.after<k> input k after the call (batch norm's running statistics)
Cases with an integer output (argmax) have no w and no grads.

tests/test_ref.c rebuilds each case with gdl ops: its table of cases mirrors the
list below (same names, same attributes). Keep the two in step.
Dropout is not covered: its mask comes from a different random generator.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
gen = torch.Generator().manual_seed(20240611)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops_torch.npz")


def U(*shape, lo=-1.0, hi=1.0):
    return lo + (hi - lo) * torch.rand(shape, generator=gen)


def I(*shape, n):
    return torch.randint(0, n, shape, generator=gen)


def T(values, dtype=torch.float64):
    return torch.tensor(values, dtype=dtype)


arrays = {}
names = []


def case(name, fn, *inputs, nograd=()):
    """inputs: float tensors (leaves requiring grad unless their index is in
    nograd) and int64 tensors; out = fn(*leaves)."""
    assert name not in names, name
    names.append(name)
    leaves = []
    for k, x in enumerate(inputs):
        arrays[f"{name}.in{k}"] = x.detach().clone().numpy()
        x = x.detach().clone()
        if x.is_floating_point() and k not in nograd:
            x.requires_grad_(True)
        leaves.append(x)
    out = fn(*leaves)
    arrays[f"{name}.out"] = out.detach().numpy().copy()
    if out.is_floating_point():
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


# ---- elementwise binary ops, broadcasting --------------------------------
case("add_same", torch.add, U(3, 4), U(3, 4))
case("add_bcast_row", torch.add, U(2, 3, 4), U(4))
case("add_bcast_both", torch.add, U(3, 1), U(1, 5))
case("add_scalar", torch.add, U(3, 4), U())
case("sub_bcast_mid", torch.sub, U(2, 3, 4), U(3, 1))
case("sub_strided", lambda a, b: a.t() - b, U(4, 3), U(3, 4))
case("mul_same", torch.mul, U(3, 4), U(3, 4))
case("mul_bcast_both", torch.mul, U(2, 1, 4), U(3, 1))
case("div_same", torch.div, U(3, 4), U(3, 4, lo=0.5, hi=2))
case("div_bcast", torch.div, U(3, 4), U(2, 1, 4, lo=0.5, hi=2))
case("div_bcast_num", torch.div, U(4), U(3, 4, lo=-2, hi=-0.5))
case("affine", lambda x: -1.5 * x + 0.25, U(3, 4))

# ---- unary ops ---------------------------------------------------------------
case("exp", torch.exp, U(3, 5, lo=-2, hi=2))
case("log", torch.log, U(3, 5, lo=0.2, hi=3))
case("sqrt", torch.sqrt, U(3, 5, lo=0.2, hi=3))
case("abs", torch.abs, U(3, 5, lo=-2, hi=2))
case("pow_2_5", lambda x: torch.pow(x, 2.5), U(3, 5, lo=0.2, hi=3))
case("pow_neg_1_5", lambda x: torch.pow(x, -1.5), U(3, 5, lo=0.2, hi=3))
case("pow_3_signed", lambda x: torch.pow(x, 3.0), U(3, 5, lo=-2, hi=2))
case("relu", torch.relu, U(3, 5, lo=-2, hi=2))
case("leaky_relu", lambda x: F.leaky_relu(x, 0.2), U(3, 5, lo=-2, hi=2))
case("elu", lambda x: F.elu(x, 1.3), U(3, 5, lo=-2, hi=2))
case("gelu", lambda x: F.gelu(x, approximate="none"), U(3, 5, lo=-3, hi=3))
case("silu", F.silu, U(3, 5, lo=-4, hi=4))
case("sigmoid", torch.sigmoid, U(3, 5, lo=-4, hi=4))
case("tanh", torch.tanh, U(3, 5, lo=-2, hi=2))
case("softplus", F.softplus, U(3, 5, lo=-3, hi=3))
# Far tails: softplus switches to x above 20, sigmoid saturates.
case("softplus_wide", F.softplus, T([[-40.0, -21.0, -19.5, -0.5, 0.0],
                                     [0.5, 19.5, 20.5, 25.0, 40.0]]))
case("sigmoid_wide", torch.sigmoid, T([[-40.0, -21.0, -3.0, 0.0, 3.0, 21.0, 40.0]]))
# Kinks at exactly 0: PyTorch's subgradient choices.
KINK = [[-1.5, -0.0, 0.0, 0.5], [0.0, 2.0, -0.25, 0.0]]
case("relu_at_0", torch.relu, T(KINK))
case("leaky_relu_at_0", lambda x: F.leaky_relu(x, 0.2), T(KINK))
case("elu_at_0", lambda x: F.elu(x, 1.3), T(KINK))
case("abs_at_0", torch.abs, T(KINK))

# ---- matmul and linear ----------------------------------------------------------
case("matmul_2d", torch.matmul, U(3, 4), U(4, 5))
case("matmul_transposed", lambda a, b: a.t() @ b.t(), U(4, 3), U(5, 4))
case("matmul_batched_bcast", torch.matmul, U(2, 1, 3, 4), U(3, 4, 2))
case("matmul_batched_lhs", torch.matmul, U(2, 3, 4), U(4, 2))
case("matmul_vec_mat", torch.matmul, U(4), U(2, 4, 3))
case("matmul_mat_vec", torch.matmul, U(2, 3, 4), U(4))
case("matmul_vec_vec", torch.matmul, U(4), U(4))
case("linear_bias", F.linear, U(2, 3, 4), U(5, 4), U(5))
case("linear_nobias", F.linear, U(2, 3, 4), U(5, 4))
case("linear_1d", F.linear, U(4), U(3, 4), U(3))

# ---- views and copies ------------------------------------------------------------
case("reshape", lambda x: x.reshape(4, -1), U(2, 3, 4))
case("reshape_noncontig", lambda x: x.transpose(1, 2).reshape(4, -1), U(2, 3, 4))
case("flatten", lambda x: torch.flatten(x, 1), U(2, 3, 4))
case("permute", lambda x: x.permute(2, 0, 1), U(2, 3, 4))
case("transpose", lambda x: x.transpose(0, 2), U(2, 3, 4))
case("slice_step2", lambda x: x[:, 1:7:2], U(3, 7))
case("slice_neg_start", lambda x: x[-2:3], U(3, 7))
case("slice_step3_clamped", lambda x: x[:, :, 1:100:3], U(2, 2, 9))
case("expand", lambda x: x.expand(2, 3, 4), U(3, 1))
case("expand_keep", lambda x: x.expand(3, 4), U(1, 4))
case("concat_axis1", lambda a, b: torch.cat([a, b], 1), U(2, 3), U(2, 2))
case("concat_axis0_3", lambda a, b, c: torch.cat([a, b, c], 0), U(1, 3), U(2, 3), U(3, 3))
case("stack_axis1", lambda a, b: torch.stack([a, b], 1), U(2, 3), U(2, 3))
case("stack_axis0", lambda a, b, c: torch.stack([a, b, c], 0), U(2, 3), U(2, 3), U(2, 3))
case("stack_last", lambda a, b: torch.stack([a, b], -1), U(2, 3), U(2, 3))

# ---- reductions -------------------------------------------------------------
X234 = lambda: U(2, 3, 4)
case("sum_axis1", lambda x: x.sum(1), X234())
case("sum_last_keepdim", lambda x: x.sum(-1, keepdim=True), X234())
case("sum_all", torch.sum, X234())
case("sum_transposed", lambda x: x.transpose(0, 2).sum(0), X234())
case("mean_axis1", lambda x: x.mean(1), X234())
case("mean_last_keepdim", lambda x: x.mean(-1, keepdim=True), X234())
case("mean_all", torch.mean, X234())
case("max_axis1", lambda x: x.max(1).values, X234())
case("max_last_keepdim", lambda x: x.max(-1, keepdim=True).values, X234())
case("max_all", torch.max, X234())
case("min_axis0", lambda x: x.min(0).values, X234())
case("min_all", torch.min, X234())
case("min_transposed", lambda x: x.transpose(0, 2).min(0).values, X234())
# argmax: integer output, no gradient; ties go to the first maximum.
case("argmax_axis1", lambda x: x.argmax(1), X234())
case("argmax_all", torch.argmax, X234())
TIES = [[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [0.0, -1.0, 5.0, 5.0]]
case("argmax_ties", lambda x: x.argmax(1), T(TIES))
# max/min over an axis: with ties, PyTorch's values and gradient go to the first
# extremum (documented). Ties in max()/min() over all axes and in scatter amax/amin
# are split evenly by PyTorch, which gdl does not do: not covered.
case("max_axis1_ties", lambda x: x.max(1).values, T(TIES))
case("min_axis0_ties", lambda x: x.min(0).values, T(TIES))
case("softmax_last", lambda x: F.softmax(x, -1), U(2, 3, 4, lo=-2, hi=2))
case("softmax_axis1", lambda x: F.softmax(x, 1), U(2, 3, 4, lo=-2, hi=2))
case("softmax_large", lambda x: F.softmax(x, -1), T([[1000.0, 1001.0, 999.0], [-50.0, 0.0, 50.0]]))
case("log_softmax_last", lambda x: F.log_softmax(x, -1), U(2, 3, 4, lo=-2, hi=2))
case("log_softmax_axis0", lambda x: F.log_softmax(x, 0), U(2, 3, 4, lo=-2, hi=2))

# ---- indexing and scatter -----------------------------------------------------------
case("index_select_axis1", lambda x, i: torch.index_select(x, 1, i), U(4, 5, 3), I(7, n=5))
case("index_select_axis0", lambda x, i: torch.index_select(x, 0, i), U(4, 5, 3), I(6, n=4))
case("gather_axis1", lambda x, i: torch.gather(x, 1, i), U(3, 5, 2), I(3, 4, 2, n=5))
case("gather_axis0", lambda x, i: torch.gather(x, 0, i), U(3, 5, 2), I(4, 5, 2, n=3))
case("embedding", F.embedding, I(2, 4, n=6), U(6, 3))

# scatter along an axis into dim_size rows; rows nobody writes are 0 (torch_scatter's
# rule), i.e. scatter_reduce on zeros with include_self=False.
SCAT_IDX = T([0, 2, 2, 5, 0, 2, 3, 5, 0], torch.int64)  # rows 1 and 4 empty
RED = {"sum": "sum", "mean": "mean", "max": "amax", "min": "amin"}


def scatter(src, idx, axis, dim_size, reduce):
    shape = list(src.shape)
    shape[axis] = dim_size
    view = [1] * src.dim()
    view[axis] = -1
    index = idx.view(view).expand_as(src)
    out = torch.zeros(shape, dtype=src.dtype)
    return out.scatter_reduce(axis, index, src, RED[reduce], include_self=False)


for r in ["sum", "mean", "max", "min"]:
    case(f"scatter_{r}", lambda x, i, r=r: scatter(x, i, 0, 6, r), U(9, 3), SCAT_IDX)
for r in ["sum", "mean", "max", "min"]:
    case(f"scatter_{r}_axis1", lambda x, i, r=r: scatter(x, i, 1, 7, r), U(2, 9, 3), SCAT_IDX)

# ---- normalisation -----------------------------------------------------------
case("layer_norm_affine", lambda x, w, b: F.layer_norm(x, (5,), w, b, 1e-5),
     U(3, 2, 5, lo=-2, hi=2), U(5, lo=0.5, hi=1.5), U(5))
case("layer_norm_plain", lambda x: F.layer_norm(x, (5,), None, None, 1e-5), U(3, 2, 5, lo=-2, hi=2))
case("layer_norm_eps", lambda x, w, b: F.layer_norm(x, (4,), w, b, 0.1),
     U(2, 4, lo=-0.3, hi=0.3), U(4, lo=0.5, hi=1.5), U(4))


def bn(train):
    return lambda x, w, b, rm, rv: F.batch_norm(x, rm, rv, w, b, training=train, momentum=0.1,
                                                eps=1e-5)


BN_STATS = lambda: (U(3, lo=-0.5, hi=0.5), U(3, lo=0.5, hi=1.5))
case("batch_norm_train_4d", bn(True), U(2, 3, 2, 2, lo=-2, hi=2), U(3, lo=0.5, hi=1.5), U(3),
     *BN_STATS(), nograd=(3, 4))
case("batch_norm_train_2d", bn(True), U(5, 3, lo=-2, hi=2), U(3, lo=0.5, hi=1.5), U(3),
     *BN_STATS(), nograd=(3, 4))
case("batch_norm_eval", bn(False), U(2, 3, 2, 2, lo=-2, hi=2), U(3, lo=0.5, hi=1.5), U(3),
     *BN_STATS(), nograd=(3, 4))
case("batch_norm_train_noaffine",
     lambda x, rm, rv: F.batch_norm(x, rm, rv, None, None, training=True, momentum=0.3, eps=1e-3),
     U(4, 3, 3, lo=-2, hi=2), *BN_STATS(), nograd=(1, 2))

# ---- losses -------------------------------------------------------------------
CE_TARGET = T([1, 0, 3, 3, 2, 1], torch.int64)
CE_IGNORED = T([1, -100, 3, 0, -100, 2], torch.int64)
case("cross_entropy", lambda x, t: F.cross_entropy(x, t), U(6, 4, lo=-2, hi=2), CE_TARGET)
case("cross_entropy_smooth", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1),
     U(6, 4, lo=-2, hi=2), CE_TARGET)
case("cross_entropy_ignore", lambda x, t: F.cross_entropy(x, t, ignore_index=-100),
     U(6, 4, lo=-2, hi=2), CE_IGNORED)
case("cross_entropy_ignore_smooth",
     lambda x, t: F.cross_entropy(x, t, ignore_index=-100, label_smoothing=0.1),
     U(6, 4, lo=-2, hi=2), CE_IGNORED)
case("cross_entropy_sum", lambda x, t: F.cross_entropy(x, t, reduction="sum"),
     U(6, 4, lo=-2, hi=2), CE_TARGET)
case("cross_entropy_sum_smooth_ignore",
     lambda x, t: F.cross_entropy(x, t, reduction="sum", label_smoothing=0.1),
     U(6, 4, lo=-2, hi=2), CE_IGNORED)
case("cross_entropy_large", lambda x, t: F.cross_entropy(x, t),
     T([[1000.0, 990.0, 1005.0], [-800.0, -790.0, -805.0]]), T([0, 1], torch.int64))
case("nll_loss", lambda x, t: F.nll_loss(x, t), U(6, 4, lo=-3, hi=0), CE_TARGET)
case("nll_loss_ignore", lambda x, t: F.nll_loss(x, t), U(6, 4, lo=-3, hi=0), CE_IGNORED)
case("nll_loss_sum", lambda x, t: F.nll_loss(x, t, reduction="sum"), U(6, 4, lo=-3, hi=0),
     CE_TARGET)
case("mse_loss", F.mse_loss, U(3, 4), U(3, 4))
case("mse_loss_sum", lambda a, b: F.mse_loss(a, b, reduction="sum"), U(2, 3, 2), U(2, 3, 2))
case("bce_logits", F.binary_cross_entropy_with_logits, U(3, 4, lo=-3, hi=3), U(3, 4, lo=0, hi=1))
case("bce_logits_sum", lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="sum"),
     U(3, 4, lo=-3, hi=3), U(3, 4, lo=0, hi=1))
case("bce_logits_wide", F.binary_cross_entropy_with_logits,
     T([[-60.0, -25.0, -1.0, 0.0, 1.0, 25.0, 60.0]]),
     T([[0.0, 1.0, 0.3, 0.5, 1.0, 0.0, 0.9]]))

np.savez_compressed(OUT, **arrays)
size = os.path.getsize(OUT)
print(f"{OUT}: {len(names)} cases, {len(arrays)} arrays, {size} bytes, torch {torch.__version__}",
      file=sys.stderr)
assert size < 200_000, "fixture too large"
