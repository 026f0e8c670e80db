"""PyTorch CPU peer of bench/engine-bench.mjs benchmark 4: one LightGCN + ProMax training step
(method.md section 4) at Amazon-book shapes, written the way the reference implementation does
it (torch.sparse.mm propagation, softmax then log(q + 1e-8), F.cross_entropy InfoNCE), followed
by an Adam update. Prints one JSON line: {"step_ms": median, ...}.

    python3 bench/peers/promax_step_torch.py --runs 7 --warmup 2 --data ../shared/data/amazon_book

With --check DIR it instead recomputes, in float64, the loss and gradients of one step whose
inputs the engine dumped into DIR (raw little-endian .bin files) and reports the relative
differences: a cross-check of the engine's whole ProMax graph against PyTorch autograd.
"""

import argparse
import json
import math
import os
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

N_USERS, N_ITEMS, DIM, LAYERS, BATCH = 11000, 9332, 32, 3, 4096
TAU, LAMBDA_REG, LAMBDA_SDR, LAMBDA_S2DR = 0.2, 1e-6, 1.5, 0.05


def load_csr(path):
    z = np.load(path)
    shape = tuple(int(v) for v in z["shape"])
    return z["indptr"].astype(np.int64), z["indices"].astype(np.int64), shape


def random_csr(rows, cols, nnz, rng):
    r = rng.integers(0, rows, nnz)
    c = rng.integers(0, cols, nnz)
    key = np.unique(r * cols + c)
    r, c = key // cols, key % cols
    indptr = np.zeros(rows + 1, dtype=np.int64)
    np.add.at(indptr, r + 1, 1)
    return np.cumsum(indptr), c, (rows, cols)


def norm_adj(indptr, indices, shape):
    """D^-1/2 [[0, R], [R^T, 0]] D^-1/2 as a coalesced sparse COO tensor (LightGCN)."""
    nu, ni = shape
    rows = np.repeat(np.arange(nu), np.diff(indptr))
    cols = indices + nu
    src = np.concatenate([rows, cols])
    dst = np.concatenate([cols, rows])
    deg = np.bincount(src, minlength=nu + ni).astype(np.float64)
    dinv = np.where(deg > 0, 1.0 / np.sqrt(np.maximum(deg, 1)), 0.0)
    vals = (dinv[src] * dinv[dst]).astype(np.float32)
    idx = torch.from_numpy(np.stack([dst, src]))
    return torch.sparse_coo_tensor(idx, torch.from_numpy(vals), (nu + ni, nu + ni), check_invariants=False).coalesce()


def sample_batch(indptr, indices, rng):
    nnz = indices.shape[0]
    k = rng.integers(0, nnz, BATCH)
    users = np.searchsorted(indptr, k, side="right") - 1
    pos = indices[k]
    neg = rng.integers(0, N_ITEMS, BATCH)
    for b in range(BATCH):
        row = indices[indptr[users[b]]:indptr[users[b] + 1]]
        while neg[b] in row:
            neg[b] = rng.integers(0, N_ITEMS)
    return users, pos, neg


def info_nce(x, y):
    x, y = F.normalize(x, dim=1), F.normalize(y, dim=1)
    logits = x @ y.T / TAU
    return F.cross_entropy(logits, torch.arange(x.shape[0]))


def promax_loss(eu, ei, adj, adj_aug, users, pos, neg, ub, ib, prof_users, prof_items, eps):
    """The method.md section 4 loss (eps > 0: -sum p log(q + eps) literally; eps = 0: log_softmax)."""

    def propagate(a):
        x = torch.cat([eu, ei], 0)
        out = 0
        for _ in range(LAYERS):
            x = torch.sparse.mm(a, x)
            out = out + x
        return torch.split(out, [N_USERS, N_ITEMS])

    zu, zi = propagate(adj)
    zu2, zi2 = propagate(adj_aug)
    u = zu[users]
    bpr = F.softplus((u * zi[neg]).sum(1) - (u * zi[pos]).sum(1)).mean()
    reg = LAMBDA_REG * (eu.pow(2).sum() + ei.pow(2).sum())
    with torch.no_grad():
        profile_logits = F.normalize(prof_users, dim=1) @ F.normalize(prof_items, dim=1).T / TAU
        p = torch.softmax(profile_logits, dim=1)
        ent = -(p * torch.log_softmax(profile_logits, dim=1)).sum(1)
        w = torch.clamp(1 - ent / math.log(N_ITEMS), 0.1, 1.0)
    logits = F.normalize(zu[ub], dim=1) @ F.normalize(zi, dim=1).T / TAU
    if eps > 0:
        ce = -(p * torch.log(torch.softmax(logits, dim=1) + eps)).sum(1)
    else:
        ce = -(p * torch.log_softmax(logits, dim=1)).sum(1)
    sdr = LAMBDA_SDR * (w * ce).mean()
    l_u = info_nce(zu[ub], zu2[ub])
    l_i = info_nce(zi[ib], zi2[ib])
    l_ui = 0.5 * (info_nce(zu[users], zi2[pos]) + info_nce(zu2[users], zi[pos]))
    s2dr = LAMBDA_S2DR * (l_u + l_i + l_ui)
    return bpr + reg + sdr + s2dr, {"bpr": bpr, "reg": reg, "sdr": sdr, "s2dr": s2dr}


def check(args):
    torch.set_default_dtype(torch.float64)
    rd = lambda name, t=np.float32: np.fromfile(os.path.join(args.check, f"{name}.bin"), dtype=t)
    trn = load_csr(os.path.join(args.data, "trn_mat.npz"))
    aug = load_csr(os.path.join(args.data, "aug_trn_mat.npz"))
    adj, adj_aug = norm_adj(*trn).double(), norm_adj(*aug).double()
    eu = torch.tensor(rd("user_emb").reshape(N_USERS, DIM), dtype=torch.float64, requires_grad=True)
    ei = torch.tensor(rd("item_emb").reshape(N_ITEMS, DIM), dtype=torch.float64, requires_grad=True)
    idx = [torch.from_numpy(rd(n, np.int32).astype(np.int64)) for n in ("users", "pos", "neg", "ub", "ib")]
    prof_u = torch.tensor(rd("prof_users").reshape(-1, DIM), dtype=torch.float64)
    prof_i = torch.tensor(rd("prof_items").reshape(N_ITEMS, DIM), dtype=torch.float64)
    eps = float(rd("epsilon", np.float64)[0])
    loss, parts = promax_loss(eu, ei, adj, adj_aug, *idx, prof_u, prof_i, eps)
    loss.backward()
    ours = json.loads(open(os.path.join(args.check, "engine.json")).read())
    out = {"epsilon": eps, "loss_torch_f64": loss.item(), "loss_rel_err": abs(ours["loss"] - loss.item()) / abs(loss.item())}
    for k, v in parts.items():
        out[f"{k}_rel_err"] = abs(ours[k] - v.item()) / max(abs(v.item()), 1e-12)
    for name, t in (("user_emb", eu.grad), ("item_emb", ei.grad)):
        g = torch.from_numpy(rd(f"grad_{name}").astype(np.float64)).reshape(t.shape)
        out[f"grad_{name}_rel_err"] = float((g - t).norm() / t.norm())
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--data", default="")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--check", default="")
    args = ap.parse_args()
    if args.check:
        check(args)
        return
    torch.set_num_threads(args.threads)
    torch.manual_seed(2025)
    rng = np.random.default_rng(2025)

    trn_path = os.path.join(args.data, "trn_mat.npz")
    aug_path = os.path.join(args.data, "aug_trn_mat.npz")
    if os.path.exists(trn_path) and os.path.exists(aug_path):
        trn, aug = load_csr(trn_path), load_csr(aug_path)
        source = "real"
    else:
        trn = random_csr(N_USERS, N_ITEMS, 120464, rng)
        aug = random_csr(N_USERS, N_ITEMS, 144663, rng)
        source = "synthetic"
    adj, adj_aug = norm_adj(*trn), norm_adj(*aug)

    user_emb = torch.nn.Parameter(torch.empty(N_USERS, DIM))
    item_emb = torch.nn.Parameter(torch.empty(N_ITEMS, DIM))
    torch.nn.init.xavier_uniform_(user_emb)
    torch.nn.init.xavier_uniform_(item_emb)
    opt = torch.optim.Adam([user_emb, item_emb], lr=1e-3)
    prof_users = torch.randn(N_USERS, DIM)
    prof_items = torch.randn(N_ITEMS, DIM)

    batches = []
    for _ in range(4):
        users, pos, neg = sample_batch(trn[0], trn[1], rng)
        batches.append(
            tuple(torch.from_numpy(v) for v in (users, pos, neg, np.unique(users), np.unique(pos)))
        )

    def step(k):
        users, pos, neg, ub, ib = batches[k % len(batches)]
        loss, _ = promax_loss(
            user_emb, item_emb, adj, adj_aug, users, pos, neg, ub, ib, prof_users[ub], prof_items, 1e-8
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    for k in range(args.warmup):
        step(k)
    times = []
    loss = None
    for k in range(args.runs):
        t = time.perf_counter()
        loss = step(k)
        times.append((time.perf_counter() - t) * 1000)
    print(
        json.dumps(
            {
                "step_ms": statistics.median(times),
                "runs": [round(t, 1) for t in times],
                "threads": torch.get_num_threads(),
                "version": torch.__version__,
                "data": source,
                "last_loss": loss,
            }
        )
    )


if __name__ == "__main__":
    main()
