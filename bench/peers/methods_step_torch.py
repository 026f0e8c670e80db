"""PyTorch CPU peers of bench/methods-bench.mjs: one LightGCN training step (forward, backward,
Adam) with RLMRec-Con, RLMRec-Gen, ProEx or KAR (adapted) at Amazon-book shapes with 1536-d
profiles, written from shared/docs/baselines.md the way the released code computes them
(RLMRec-Con and ProEx project every row at every step as released; KAR's adaptor runs on the
batch rows, as the plug-in of §4.2 specifies). With --rows batch, RLMRec-Con projects only the
batch's distinct positive ∪ negative items and ProEx only the batch's distinct users and items
(baselines.md §3.5: identical values and gradients, the restriction the TypeScript methods use), so
the two implementations can also be compared doing the same work. Profiles are synthetic Gaussian
constants (timing only). Prints one JSON line {"method": ..., "step_ms": median wall,
"step_cpu_ms": median process CPU time (all threads), ...}.

    python3 bench/peers/methods_step_torch.py --method rlmrec-con --runs 3 --warmup 1 --data DIR [--rows batch]
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from promax_step_torch import BATCH, N_ITEMS, N_USERS, load_csr, norm_adj, random_csr, sample_batch  # noqa: E402

D_PROF, DIM = 1536, 32


def mlp(d_in, d_out):
    net = nn.Sequential(nn.Linear(d_in, (d_in + d_out) // 2), nn.LeakyReLU(), nn.Linear((d_in + d_out) // 2, d_out))
    for m in net:
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
    return net


def lightgcn(eu, ei, adj, layers, include0):
    x = torch.cat([eu, ei], 0)
    outs = [x] if include0 else []
    for _ in range(layers):
        x = torch.sparse.mm(adj, x)
        outs.append(x)
    z = torch.stack(outs).sum(0)
    return z[:N_USERS], z[N_USERS:]


def bpr(u, i, j):
    return F.softplus((u * j).sum(1) - (u * i).sum(1)).mean()


def cal_infonce(v1, v2, v_all, tau):
    v1 = v1 / torch.sqrt(1e-8 + (v1 * v1).sum(1, keepdim=True))
    v2 = v2 / torch.sqrt(1e-8 + (v2 * v2).sum(1, keepdim=True))
    v_all = v_all / torch.sqrt(1e-8 + (v_all * v_all).sum(1, keepdim=True))
    pos = (v1 * v2).sum(1) / tau
    neg = torch.logsumexp(v1 @ v_all.T / tau, 1)
    return (neg - pos).sum()


def ssl_con(x, y, tau):
    x, y = F.normalize(x, dim=1), F.normalize(y, dim=1)
    num = torch.exp((x * y).sum(1) / tau)
    den = torch.exp(x @ y.T / tau).sum(1) + 1e-8
    return -torch.log(num / den + 1e-8).mean()


def uni(x, tau=0.2):
    x = F.normalize(x, dim=1)
    s = x @ x.T / tau
    return -torch.log(torch.exp(torch.diag(s)) / torch.exp(s).sum(1) + 1e-5).mean()


class Hea(nn.Module):
    """KAR's hybrid-expert adaptor (2 shared + 6 specific experts, [128, d], ReLU after each layer)."""

    def __init__(self, d_in, d_out, shared=2, specific=6, hidden=128):
        super().__init__()
        ex = lambda: nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, d_out), nn.ReLU())  # noqa: E731
        self.shared = nn.ModuleList([ex() for _ in range(shared)])
        self.user = nn.ModuleList([ex() for _ in range(specific)])
        self.item = nn.ModuleList([ex() for _ in range(specific)])
        self.gate_u = nn.Linear(d_in, shared + specific)
        self.gate_i = nn.Linear(d_in, shared + specific)

    def forward(self, x, tower):
        experts = list(self.shared) + list(self.user if tower == "user" else self.item)
        gate = torch.softmax((self.gate_u if tower == "user" else self.gate_i)(x), 1)
        outs = torch.stack([e(x) for e in experts], 1)
        return (outs * gate.unsqueeze(2)).sum(1)


def gemm_ceiling(args):
    """The machine's fp32 GEMM rate at the methods' dominant shape ([4096, 1536] @ [1536, 1024]):
    the ceiling any exact implementation of these steps works under. GFLOP per wall second and per
    process-CPU second (the latter is the work rate, less sensitive to other load)."""
    a, b = torch.randn(4096, D_PROF), torch.randn(D_PROF, 1024)
    flop = 2 * 4096 * D_PROF * 1024
    for _ in range(args.warmup + 1):
        a @ b
    times, cpu = [], []
    for _ in range(max(args.runs, 5)):
        t0, c0 = time.perf_counter(), time.process_time()
        a @ b
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    print(json.dumps({"method": "gemm", "shape": [4096, D_PROF, 1024],
                      "gflops_wall": round(flop / statistics.median(times) / 1e9, 1),
                      "gflops_per_cpu_s": round(flop / statistics.median(cpu) / 1e9, 1),
                      "threads": args.threads, "torch": torch.__version__}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", required=True, choices=["rlmrec-con", "rlmrec-gen", "proex", "kar", "gemm"])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--data", default="")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--rows", choices=["all", "batch"], default="all")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(2025)
    if args.method == "gemm":
        return gemm_ceiling(args)
    rng = np.random.default_rng(2025)
    trn_path = os.path.join(args.data, "trn_mat.npz")
    trn = load_csr(trn_path) if os.path.exists(trn_path) else random_csr(N_USERS, N_ITEMS, 120464, rng)
    adj = norm_adj(*trn)
    eu = nn.Parameter(nn.init.xavier_uniform_(torch.empty(N_USERS, DIM)))
    ei = nn.Parameter(nn.init.xavier_uniform_(torch.empty(N_ITEMS, DIM)))
    su, si = torch.randn(N_USERS, D_PROF), torch.randn(N_ITEMS, D_PROF)
    m = args.method
    params = [eu, ei]
    if m == "rlmrec-con":
        f = mlp(D_PROF, DIM)
        params += list(f.parameters())
    elif m == "rlmrec-gen":
        dec = mlp(DIM, D_PROF)
        token = nn.Parameter(torch.zeros(1, DIM))
        params += list(dec.parameters()) + [token]
        s_all = torch.cat([su, si], 0)
    elif m == "proex":
        f = mlp(D_PROF, DIM)
        params += list(f.parameters())
        sus = [torch.randn(N_USERS, D_PROF) for _ in range(3)] + [su]
        sis = [torch.randn(N_ITEMS, D_PROF) for _ in range(3)] + [si]
    else:
        hea = Hea(D_PROF, DIM)
        params += list(hea.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    reg = 1e-6

    def step(users, pos, neg):
        opt.zero_grad()
        l2 = sum((p * p).sum() for p in params) * reg
        if m == "rlmrec-con":  # lightgcn_plus.py: layers 0..L on the graph, MLP on every row
            zu, zi = lightgcn(eu, ei, adj, 3, True)
            pu = f(su)
            if args.rows == "batch":  # f on the batch's distinct items only (the user denominator needs every user)
                rows, at = torch.unique(torch.cat([pos, neg]), return_inverse=True)
                pr = f(si[rows])
                pi_pos, pi_neg = pr[at[: pos.shape[0]]], pr[at[pos.shape[0]:]]
            else:
                pi = f(si)
                pi_pos, pi_neg = pi[pos], pi[neg]
            kd = (cal_infonce(zu[users], pu[users], pu, 0.2) + cal_infonce(zi[pos], pi_pos, pi_pos, 0.2)
                  + cal_infonce(zi[neg], pi_neg, pi_neg, 0.2)) / users.shape[0]
            loss = bpr(zu[users], zi[pos], zi[neg]) + l2 + 1e-2 * kd
        elif m == "rlmrec-gen":  # lightgcn_gene.py: mask 15% of all nodes, BPR on the masked forward
            n = N_USERS + N_ITEMS
            seeds = torch.from_numpy(rng.choice(n, int(n * 0.15), replace=False))
            e = torch.cat([eu, ei], 0).clone()
            e[seeds] = token
            zu, zi = lightgcn(e[:N_USERS], e[N_USERS:], adj, 2, True)
            z = torch.cat([zu, zi], 0)
            recon = ssl_con(dec(z[seeds]), s_all[seeds], 0.5)
            loss = bpr(zu[users], zi[pos], zi[neg]) + l2 + 0.1 * recon
        elif m == "proex":  # lightgcn_proex.py: 4 profiles through f on every row, E = 3 environments
            zu, zi = lightgcn(eu, ei, adj, 3, False)
            ub, ib = torch.unique(users), torch.unique(pos)
            if args.rows == "batch":  # f on the batch's distinct users and pos ∪ neg items only (§3.5)
                urows, u_at = torch.unique(users, return_inverse=True)
                irows, i_at = torch.unique(torch.cat([pos, neg]), return_inverse=True)
                pus, pis = [f(x[urows]) for x in sus], [f(x[irows]) for x in sis]
                u_at, p_at, n_at = u_at, i_at[: pos.shape[0]], i_at[pos.shape[0]:]
                ub, ib = torch.arange(urows.shape[0]), torch.searchsorted(irows, ib)
            else:
                pus, pis = [f(x) for x in sus], [f(x) for x in sis]
                u_at, p_at, n_at = users, pos, neg
            ex = sum(uni(p[ub]) + uni(q[ib]) for p, q in zip(pus, pis))
            losses = []
            for _ in range(3):
                beta = torch.distributions.Dirichlet(torch.full((4,), 0.1)).sample()
                mu = sum(b * p for b, p in zip(beta, pus))
                mi = sum(b * q for b, q in zip(beta, pis))
                losses.append(bpr(zu[users] + mu[u_at], zi[pos] + mi[p_at], zi[neg] + mi[n_at]))
            ls = torch.stack(losses)
            loss = ls.sum() + 10 * ls.var() + 0.4 * ex + l2
        else:  # KAR (adapted): HEA on the batch rows, BPR over z + a
            zu, zi = lightgcn(eu, ei, adj, 3, False)
            loss = bpr(zu[users] + hea(su[users], "user"), zi[pos] + hea(si[pos], "item"), zi[neg] + hea(si[neg], "item")) + l2
        loss.backward()
        opt.step()

    batches = [tuple(torch.from_numpy(v) for v in sample_batch(trn[0], trn[1], rng)) for _ in range(2)]
    for k in range(args.warmup):
        step(*batches[k % 2])
    times, cpu = [], []
    for k in range(args.runs):
        t0, c0 = time.perf_counter(), time.process_time()
        step(*batches[k % 2])
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    print(json.dumps({"method": m, "rows": args.rows, "step_ms": round(statistics.median(times), 1),
                      "step_cpu_ms": round(statistics.median(cpu), 1), "runs": args.runs,
                      "threads": args.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
