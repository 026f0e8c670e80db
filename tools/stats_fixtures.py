"""Computes the SciPy reference values packages/eval/src/stats.test.ts compares with.

Run once (python tools/stats_fixtures.py) and commit the JSON; the tests need no Python.
"""

import json
import pathlib

import numpy as np
import scipy
from scipy import stats

rng = np.random.default_rng(20261206)

# Paired samples shaped like metric values over seeds: small n, the cases SciPy's `wilcoxon`
# treats differently (exact; ties or zeros → permutation for n <= 13; n > 13 with ties →
# asymptotic; n > 50 → asymptotic).
cases = [
    ("3 seeds", [0.1623, 0.1641, 0.1610], [0.1588, 0.1602, 0.1599]),
    ("5 seeds", [0.1623, 0.1641, 0.1610, 0.1655, 0.1630], [0.1588, 0.1602, 0.1599, 0.1660, 0.1611]),
    ("2 seeds", [0.05, 0.07], [0.04, 0.045]),
    ("negative gain", [0.10, 0.11, 0.09, 0.1, 0.105, 0.098], [0.12, 0.118, 0.125, 0.11, 0.13, 0.119]),
    ("ties", [1, 2, 3, 4, 5, 6, 7], [0, 1, 2, 5, 3, 4, 8]),
    ("zeros", [1, 2, 3, 4, 5, 6, 7, 8], [1, 1.5, 3, 3.25, 5.5, 5, 7.5, 9]),
    ("all positive", [2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1.5]),
]
x = rng.normal(0.2, 0.01, 12)
cases.append(("12 random", x.tolist(), (x - rng.normal(0.002, 0.004, 12)).tolist()))
x = rng.normal(0.2, 0.01, 30)
cases.append(("30 random (exact)", x.tolist(), (x - rng.normal(0.001, 0.004, 30)).tolist()))
x = np.round(rng.normal(0, 3, 20))
cases.append(("20 rounded, ties and zeros (asymptotic)", (x + 10).tolist(), [10.0] * 20))
x = rng.normal(0.2, 0.01, 60)
cases.append(("60 random (asymptotic)", x.tolist(), (x - rng.normal(0.0005, 0.004, 60)).tolist()))

out = {"scipy": scipy.__version__, "numpy": np.__version__, "cases": []}
for name, treated, base in cases:
    t = np.asarray(treated, dtype=np.float64)
    b = np.asarray(base, dtype=np.float64)
    d = t - b
    tt = stats.ttest_rel(t, b)
    entry = {
        "name": name,
        "treated": t.tolist(),
        "base": b.tolist(),
        "mean": float(np.mean(t)),
        "std": float(np.std(t, ddof=1)),
        "t": {"statistic": float(tt.statistic), "pvalue": float(tt.pvalue), "df": int(len(d) - 1)},
        "ci95_diff": [float(v) for v in stats.t.interval(0.95, len(d) - 1, loc=d.mean(), scale=stats.sem(d))],
        "ci90_treated": [float(v) for v in stats.t.interval(0.90, len(t) - 1, loc=t.mean(), scale=stats.sem(t))],
    }
    if len(d) >= 3:
        w = stats.wilcoxon(t, b)
        entry["wilcoxon"] = {"statistic": float(w.statistic), "pvalue": float(w.pvalue)}
    out["cases"].append(entry)

out["t_quantiles"] = [
    {"p": p, "df": df, "q": float(stats.t.ppf(p, df))}
    for p in (0.975, 0.95, 0.995, 0.025, 0.6)
    for df in (1, 2, 4, 9, 29, 200)
]
out["t_cdf"] = [
    {"t": t, "df": df, "cdf": float(stats.t.cdf(t, df))}
    for t in (-8.0, -2.5, -0.3, 0.0, 0.7, 1.96, 4.2, 30.0)
    for df in (1, 2, 5, 17, 100)
]
out["normal_sf"] = [{"z": z, "sf": float(stats.norm.sf(z))} for z in (-3.0, -0.5, 0.0, 0.25, 1.0, 1.96, 3.5, 7.0)]

path = pathlib.Path(__file__).resolve().parent.parent / "packages/eval/src/fixtures/scipy-stats.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {path} ({len(out['cases'])} paired cases, scipy {scipy.__version__})")
