"""PyTorch Geometric side of bench/bench_graph.c (same models, sizes and timing):
GCN and GAT full-batch training on Cora for 200 epochs, torch.sparse.mm (CSR) on an
ogbn-arxiv-sized random graph, and NeighborLoader sampling when pyg-lib or
torch-sparse is installed. Prints "RESULT <what> <threads> <value>".
    bench/.venv/bin/python bench/graph_pyg.py [--threads 1,2] [--quick]"""
import argparse
import time

import numpy as np
import torch
import torch.nn.functional as Fn
import torch_geometric.nn as gnn
from torch_geometric.data import Data

ap = argparse.ArgumentParser()
ap.add_argument("--threads", default="1,2")
ap.add_argument("--quick", action="store_true")
a = ap.parse_args()

z = np.load("../shared/data/planetoid/cora.npz")
x = torch.from_numpy(z["x"])
x = x / x.sum(1, keepdim=True).clamp(min=1)
ei = torch.from_numpy(z["edge_index"])
y = torch.from_numpy(z["y"])
train_mask = torch.from_numpy(z["train_mask"])


class GCN(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.c1, s.c2 = gnn.GCNConv(1433, 16, cached=True), gnn.GCNConv(16, 7, cached=True)

    def forward(s, x, ei):
        x = Fn.dropout(x, 0.5, s.training)
        x = Fn.relu(s.c1(x, ei))
        x = Fn.dropout(x, 0.5, s.training)
        return s.c2(x, ei)


class GAT(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.c1 = gnn.GATConv(1433, 8, heads=8, dropout=0.6)
        s.c2 = gnn.GATConv(64, 7, heads=1, concat=False, dropout=0.6)

    def forward(s, x, ei):
        x = Fn.dropout(x, 0.6, s.training)
        x = Fn.elu(s.c1(x, ei))
        x = Fn.dropout(x, 0.6, s.training)
        return s.c2(x, ei)


def train(model, lr, epochs):
    torch.manual_seed(1)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=5e-4)
    model.train()
    for e in range(epochs + 5):
        if e == 5:
            t0 = time.perf_counter()
        opt.zero_grad()
        loss = Fn.cross_entropy(model(x, ei)[train_mask], y[train_mask])
        loss.backward()
        opt.step()
    return time.perf_counter() - t0


N, E, F = 169343, 1166243, 128
g = torch.Generator().manual_seed(42)
src = torch.randint(0, N, (E,), generator=g)
dst = torch.randint(0, N, (E,), generator=g)
feat = torch.randn(N, F, generator=g)
# out = A x with A[v, u] = 1 per edge u -> v: a CSR by destination
A = torch.sparse_coo_tensor(torch.stack([dst, src]), torch.ones(E), (N, N)).coalesce().to_sparse_csr()

for t in [int(v) for v in a.threads.split(",")]:
    torch.set_num_threads(t)
    ep = 50 if a.quick else 200
    tg = train(GCN(), 0.01, ep) * 200 / ep
    ta = train(GAT(), 0.005, ep) * 200 / ep
    print(f"PyG GCN Cora 200 epochs, {t} threads: {tg:.3f} s\nPyG GAT Cora 200 epochs, {t} threads: {ta:.3f} s")
    print(f"RESULT gcn_cora_200 {t} {tg:.4f}\nRESULT gat_cora_200 {t} {ta:.4f}")
    ts = []
    for i in range((5 if a.quick else 15) + 2):
        t0 = time.perf_counter()
        torch.sparse.mm(A, feat)
        if i >= 2:
            ts.append(time.perf_counter() - t0)
    ms = 1e3 * float(np.median(ts))
    print(f"torch.sparse.mm (CSR, arxiv size, F=128), {t} threads: {ms:.2f} ms")
    print(f"RESULT spmm_ms {t} {ms:.3f}")
    try:
        from torch_geometric.loader import NeighborLoader
        data = Data(x=feat, edge_index=torch.stack([src, dst]), num_nodes=N)
        loader = NeighborLoader(data, num_neighbors=[10, 10], batch_size=1024, shuffle=True)
        nb = 10 if a.quick else 40
        t0 = time.perf_counter()
        for i, b in enumerate(loader):
            if i + 1 == nb:
                break
        dt = time.perf_counter() - t0
        print(f"PyG NeighborLoader [10, 10], batch 1024, {t} threads: {nb * 1024 / dt:.0f} seeds/s")
        print(f"RESULT sample_seeds_per_s {t} {nb * 1024 / dt:.1f}")
    except Exception as ex:  # needs pyg-lib or torch-sparse
        print(f"PyG NeighborLoader unavailable: {type(ex).__name__}: {str(ex).splitlines()[0][:120]}")
