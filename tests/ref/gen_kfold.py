"""Reference folds of scikit-learn's StratifiedKFold(k, shuffle=True, random_state=seed) as
it was up to scikit-learn 0.21 (the version the GIN paper's code ran), for
gdl_stratified_kfold_sklearn in tests/test_graph.c.

    /path/to/venv/bin/python tests/ref/gen_kfold.py   (needs numpy only)

Today's scikit-learn (>= 0.22) makes different folds, so 0.21's procedure is spelled
out here; the random stream is numpy's legacy RandomState, which numpy keeps frozen.
Writes tests/ref/kfold_sklearn.npz: for each case c, y<c> (int64 labels), fold<c>
(int32 test fold of every sample), and k<c>, seed<c> (int64 scalars in 1-element arrays).
"""
import numpy as np


def sklearn021_folds(y, k, seed):
    classes, inverse = np.unique(y, return_inverse=True)
    fold = np.zeros(len(y), dtype=np.int32)
    for c in range(len(classes)):
        members = np.flatnonzero(inverse == c)
        m = max(len(members), k)
        perm = np.arange(m)
        np.random.RandomState(seed).shuffle(perm)  # one KFold per class, each from the int seed
        sizes = np.full(k, m // k)
        sizes[: m % k] += 1
        start = 0
        for f, size in enumerate(sizes):
            run = perm[start:start + size]
            fold[members[run[run < len(members)]]] = f
            start += size
    return fold


def main():
    cases = []
    mutag = np.loadtxt("../shared/data/tu/MUTAG/MUTAG_graph_labels.txt", dtype=np.int64)
    cases.append((np.where(mutag < 0, 0, 1), 10, 0))       # gdl maps MUTAG's -1/1 to 0/1
    rng = np.random.default_rng(5)
    cases.append((rng.permutation(np.repeat([0, 1, 2], [50, 23, 4])), 5, 7))  # a class below k
    cases.append((rng.permutation(np.repeat([0, 1], [1500, 500])), 3, 2**32 - 1))  # past one MT block
    out = {}
    for i, (y, k, seed) in enumerate(cases):
        out[f"y{i}"] = y.astype(np.int64)
        out[f"fold{i}"] = sklearn021_folds(y, k, seed)
        out[f"k{i}"] = np.array([k], dtype=np.int64)
        out[f"seed{i}"] = np.array([seed], dtype=np.int64)
    np.savez("tests/ref/kfold_sklearn.npz", **out)


if __name__ == "__main__":
    main()
