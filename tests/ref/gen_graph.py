"""Reference outputs and gradients of PyTorch Geometric's layers for tests/test_graph_ref.c.

Regenerate (from the project root; torch_geometric in the benchmark venv):
    bench/.venv/bin/pip install torch_geometric
    bench/.venv/bin/python tests/ref/gen_graph.py

Writes tests/ref/graph_pyg.npz. Everything is float64. Shared arrays: x [N, F],
edge_index [2, E] (two graphs of a batch, directed edges, no self loops), edge_attr
[E, D], edge_weight [E] (used by the cases named *_w), batch [N], ptr [G+1]. For each case <c>: <c>.param.<name> (PyG's state_dict
names), <c>.R (weights of the loss L = sum(R * out)), <c>.out, <c>.grad_x and
<c>.grad.<name> (dL/dparam). The C test loads the parameters under layers.0.<name>.
"""
import os
import numpy as np
import torch
import torch_geometric
import torch_geometric.nn as gnn

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))

# Two graphs (7 + 5 nodes): random directed edges without self loops, a repeated
# pair in both directions, and one node (index 6) without in-edges.
N0, N1, F, D = 7, 5, 4, 3
rng = np.random.default_rng(1)
edges = []
for (lo, n) in ((0, N0), (N0, N1)):
    for _ in range(2 * n):
        u, v = rng.integers(0, n, 2)
        if u != v and (lo + v) != 6:
            edges.append((lo + u, lo + v))
edges += [(0, 1), (1, 0)]
ei = torch.tensor(np.array(edges).T, dtype=torch.long)
E = ei.shape[1]
x = torch.randn(N0 + N1, F)
edge_attr = torch.randn(E, D)
edge_weight = torch.rand(E) + 0.5
batch = torch.tensor([0] * N0 + [1] * N1)
ptr = torch.tensor([0, N0, N0 + N1])

out = {"x": x, "edge_index": ei, "edge_attr": edge_attr, "edge_weight": edge_weight, "batch": batch,
       "ptr": ptr}


def knn_graph(h, k):
    """Edges j -> i from the k nearest nodes j of every node i (itself included),
    within each graph: torch_cluster's knn as DynamicEdgeConv uses it."""
    src, dst = [], []
    for lo, hi in ((0, N0), (N0, N0 + N1)):
        d = torch.cdist(h[lo:hi], h[lo:hi])
        for i in range(hi - lo):
            for j in torch.argsort(d[i])[:k].tolist():
                src.append(lo + j)
                dst.append(lo + i)
    return torch.tensor([src, dst])


def case(name, module, fwd):
    xx = x.clone().requires_grad_(True)
    y = fwd(module, xx)
    R = torch.randn_like(y)
    (R * y).sum().backward()
    for k, v in module.state_dict().items():
        out[f"{name}.param.{k}"] = v
    out[f"{name}.R"] = R
    out[f"{name}.out"] = y.detach()
    out[f"{name}.grad_x"] = xx.grad
    for k, p in module.named_parameters():
        if p.grad is not None:
            out[f"{name}.grad.{k}"] = p.grad


def mlp(a, b, c=None):
    layers = [torch.nn.Linear(a, b)]
    if c:
        layers += [torch.nn.ReLU(), torch.nn.Linear(b, c)]
    return torch.nn.Sequential(*layers)


case("gcn", gnn.GCNConv(F, 3), lambda m, h: m(h, ei))
# Cases named *_w use edge_weight. (PyG ignores improved=True without edge weights:
# its add_remaining_self_loops drops the fill value when edge_weight is None.)
case("gcn_w", gnn.GCNConv(F, 3), lambda m, h: m(h, ei, edge_weight))
case("gcn_improved_w", gnn.GCNConv(F, 3, improved=True), lambda m, h: m(h, ei, edge_weight))
case("gcn_noloops", gnn.GCNConv(F, 3, add_self_loops=False), lambda m, h: m(h, ei))
case("gat", gnn.GATConv(F, 3, heads=2), lambda m, h: m(h, ei))
case("gat_mean", gnn.GATConv(F, 3, heads=2, concat=False, negative_slope=0.1), lambda m, h: m(h, ei))
case("gatv2", gnn.GATv2Conv(F, 3, heads=2), lambda m, h: m(h, ei))
case("sage_mean", gnn.SAGEConv(F, 3), lambda m, h: m(h, ei))
case("sage_max", gnn.SAGEConv(F, 3, aggr="max"), lambda m, h: m(h, ei))
gin = gnn.GINConv(mlp(F, 5, 3), train_eps=True)
with torch.no_grad():
    gin.eps.fill_(0.3)
case("gin", gin, lambda m, h: m(h, ei))
case("gine", gnn.GINEConv(mlp(F, 5), train_eps=True, edge_dim=D), lambda m, h: m(h, ei, edge_attr))
case("edge_conv", gnn.EdgeConv(mlp(2 * F, 5, 3), aggr="max"), lambda m, h: m(h, ei))
case("edge_conv_mean", gnn.EdgeConv(mlp(2 * F, 5), aggr="mean"), lambda m, h: m(h, ei))
case("dynamic_edge_conv", gnn.EdgeConv(mlp(2 * F, 5, 3), aggr="max"),
     lambda m, h: m(h, knn_graph(h.detach(), 3)))
case("cheb", gnn.ChebConv(F, 3, K=3), lambda m, h: m(h, ei))
case("graph_conv", gnn.GraphConv(F, 3), lambda m, h: m(h, ei))
case("graph_conv_mean", gnn.GraphConv(F, 3, aggr="mean"), lambda m, h: m(h, ei))
case("graph_conv_w", gnn.GraphConv(F, 3), lambda m, h: m(h, ei, edge_weight))
case("cheb_w", gnn.ChebConv(F, 3, K=4), lambda m, h: m(h, ei, edge_weight))
case("transformer", gnn.TransformerConv(F, 3, heads=2, root_weight=False), lambda m, h: m(h, ei))
case("transformer_mean", gnn.TransformerConv(F, 3, heads=2, concat=False, root_weight=False),
     lambda m, h: m(h, ei))
case("add_pool", torch.nn.Module(), lambda m, h: gnn.global_add_pool(h, batch))
case("mean_pool", torch.nn.Module(), lambda m, h: gnn.global_mean_pool(h, batch))
case("max_pool", torch.nn.Module(), lambda m, h: gnn.global_max_pool(h, batch))
case("attention_pool", gnn.aggr.AttentionalAggregation(torch.nn.Linear(F, 1)),
     lambda m, h: m(h, batch))
case("topk_pool", gnn.TopKPooling(F, ratio=0.5), lambda m, h: m(h, ei, batch=batch)[0])
# TopK pooling then a GCN on the pooled graph (the view later layers see).
topk2 = torch.nn.ModuleDict({"pool": gnn.TopKPooling(F, ratio=0.6), "conv": gnn.GCNConv(F, 2)})


def topk_gcn(m, h):
    hp, e2, _, b2, _, _ = m["pool"](h, ei, batch=batch)
    return gnn.global_add_pool(m["conv"](hp, e2), b2)


case("topk_gcn", topk2, topk_gcn)

arrays = {k: np.ascontiguousarray(v.detach().numpy()) for k, v in out.items()}
np.savez_compressed(os.path.join(HERE, "graph_pyg.npz"), **arrays)
print(f"wrote graph_pyg.npz: {len(arrays)} arrays, torch {torch.__version__}, "
      f"torch_geometric {torch_geometric.__version__}")
