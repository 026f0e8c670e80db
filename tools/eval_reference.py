"""Independent NumPy implementation of ProMax's evaluation protocol (method.md §7).

Used to cross-check `promax eval`. Writes embeddings with real signal (truncated SVD of the
train matrix) when asked, then evaluates them in float64:

    python3 tools/eval_reference.py --train trn.npz --test tst.npz --make-emb OUT_DIR --dim 64
    python3 tools/eval_reference.py --train trn.npz --test tst.npz --user-emb U.npy --item-emb I.npy

Prints one JSON object: {"users": n, "recall@5": ..., "ndcg@5": ..., ...}.
"""
import argparse
import json
import os

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import svds


def make_embeddings(train, dim, out_dir):
    u, s, vt = svds(train.astype(np.float64), k=dim, random_state=0)
    root = np.sqrt(s)
    user = (u * root).astype(np.float32)
    item = (vt.T * root).astype(np.float32)
    os.makedirs(out_dir, exist_ok=True)
    np.save(os.path.join(out_dir, "user_emb.npy"), user)
    np.save(os.path.join(out_dir, "item_emb.npy"), item)
    return user, item


def evaluate(user, item, train, test, ks):
    train = train.tocsr()
    test = test.tocsr()
    kmax = max(ks)
    sums = {f"{m}@{k}": 0.0 for m in ("recall", "ndcg") for k in ks}
    users = np.flatnonzero(np.diff(test.indptr) > 0)
    U = user.astype(np.float64)
    I = item.astype(np.float64)
    for start in range(0, len(users), 1024):
        batch = users[start : start + 1024]
        scores = U[batch] @ I.T
        rows = train[batch]
        scores[np.repeat(np.arange(len(batch)), np.diff(rows.indptr)), rows.indices] = -np.inf
        # stable sort on the negated scores: equal scores keep the lower item index first
        order = np.argsort(-scores, axis=1, kind="stable")[:, :kmax]
        for r, u in enumerate(batch):
            truth = set(test.indices[test.indptr[u] : test.indptr[u + 1]].tolist())
            hits = np.array([1.0 if i in truth else 0.0 for i in order[r]])
            for k in ks:
                h = hits[:k]
                sums[f"recall@{k}"] += h.sum() / len(truth)
                disc = 1.0 / np.log2(np.arange(2, k + 2))
                idcg = disc[: min(k, len(truth))].sum()
                sums[f"ndcg@{k}"] += (h * disc).sum() / idcg
    out = {"users": int(len(users))}
    out.update({key: v / len(users) for key, v in sums.items()})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--user-emb")
    ap.add_argument("--item-emb")
    ap.add_argument("--make-emb")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--k", default="5,10,20")
    a = ap.parse_args()
    train = sp.load_npz(a.train)
    test = sp.load_npz(a.test)
    if a.make_emb:
        user, item = make_embeddings(train, a.dim, a.make_emb)
    else:
        user, item = np.load(a.user_emb), np.load(a.item_emb)
    ks = [int(k) for k in a.k.split(",")]
    print(json.dumps(evaluate(user, item, train, test, ks)))


if __name__ == "__main__":
    main()
