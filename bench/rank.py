"""Benchmark of prefkit's Bradley-Terry leaderboard against its peers.

Peers: a plain numpy/scipy fit on aggregated counts refitted per bootstrap
replicate (L-BFGS, warm-started), scikit-learn's LogisticRegression, and
arena-rank when a Python with it installed is given (``--arena-python``;
it is kept out of prefkit's own environment). Every method runs in its own
subprocess so peak memory (max RSS) is its own.

Data: a seeded Arena-scale log (``--battles`` battles, ``--models`` models,
Zipf-like popularity, about 20% ties) and the real LLMFAO crowd votes when
../shared/data is present. Ties count as half a win everywhere.

Run: .venv/bin/python bench/rank.py [--arena-python /tmp/arena-venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from scipy.sparse import csr_matrix, vstack

HERE = Path(__file__).resolve()
LLMFAO = HERE.parents[2] / "shared" / "data" / "llmfao" / "crowd-comparisons.jsonl"
FACTOR = 400 / np.log(10)


# --- data ---------------------------------------------------------------------


def generate(n_battles: int, n_models: int, seed: int) -> dict[str, np.ndarray]:
    """Seeded battles: Zipf popularity, BT outcomes, about 20% ties."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_models + 1) ** 0.8
    popularity /= popularity.sum()
    theta = rng.normal(0.0, 0.6, n_models)
    a = rng.choice(n_models, n_battles, p=popularity)
    b = rng.choice(n_models, n_battles, p=popularity)
    same = a == b
    while same.any():
        b[same] = rng.choice(n_models, same.sum(), p=popularity)
        same = a == b
    p_a = 1.0 / (1.0 + np.exp(theta[b] - theta[a]))
    u = rng.random(n_battles)
    outcome = np.where(rng.random(n_battles) < 0.2, 2, np.where(u < p_a, 0, 1))
    return {"a": a, "b": b, "outcome": outcome, "n_models": np.array(n_models)}


def load_llmfao() -> dict[str, np.ndarray] | None:
    """The LLMFAO crowd votes as encoded arrays, or None when absent."""
    if not LLMFAO.exists():
        return None
    import pandas as pd

    raw = pd.read_json(LLMFAO, lines=True)
    names, codes = np.unique(np.concatenate([raw.left, raw.right]), return_inverse=True)
    n = len(raw)
    outcome = raw.winner.map({"left": 0, "right": 1, "tie": 2}).to_numpy()
    return {
        "a": codes[:n],
        "b": codes[n:],
        "outcome": outcome,
        "n_models": np.array(len(names)),
    }


def as_frame(data: dict[str, np.ndarray]):
    """The arrays as a comparisons table (model names m000, m001, ...)."""
    import pandas as pd

    names = np.array([f"m{k:03d}" for k in range(int(data["n_models"]))])
    labels = np.array(["a", "b", "tie"])
    return pd.DataFrame(
        {
            "model_a": names[data["a"]],
            "model_b": names[data["b"]],
            "winner": pd.Categorical(labels[data["outcome"]], categories=list(labels)),
        }
    )


# --- workers (one per subprocess) ------------------------------------------------


def timed(fn, *args, **kwargs):
    """(result, seconds)."""
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def centred(theta: np.ndarray) -> list[float]:
    """Ratings in points around 0."""
    return ((theta - theta.mean()) * FACTOR).tolist()


def work_prefkit(data, rounds: int) -> dict:
    """prefkit: aggregate (validated), Newton fit, sandwich, batched bootstrap."""
    from prefkit.data import validate_comparisons
    from prefkit.rank import aggregate, bootstrap_params, fit_bt, sandwich_covariance

    df = as_frame(data)
    df, t_valid = timed(validate_comparisons, df)
    agg, t_agg = timed(aggregate, df, validate=False)
    fit, t_fit = timed(fit_bt, agg)
    _, t_sand = timed(sandwich_covariance, fit)
    (_, ok), t_boot = timed(bootstrap_params, fit, rounds, 0)
    return {
        "validate_s": t_valid,
        "aggregate_s": t_agg,
        "fit_s": t_fit,
        "sandwich_s": t_sand,
        "boot_s": t_boot,
        "boot_rounds": rounds,
        "boot_converged": int(ok.sum()),
        "ratings": centred(fit.theta),
    }


def _counts(data):
    """Plain numpy aggregation: unique (a, b, outcome) rows with counts."""
    m = int(data["n_models"])
    key = (data["a"] * m + data["b"]) * 3 + data["outcome"]
    uniq, counts = np.unique(key, return_counts=True)
    pair, outcome = np.divmod(uniq, 3)
    a, b = np.divmod(pair, m)
    y = np.array([1.0, 0.0, 0.5])[outcome]
    return a, b, y, counts.astype(float), m


def _scipy_fit(a, b, y, w, m, x0):
    def objective(theta):
        d = theta[a] - theta[b]
        nll = np.sum(w * (y * np.logaddexp(0, -d) + (1 - y) * np.logaddexp(0, d)))
        r = w * (y - 1 / (1 + np.exp(-d)))
        return nll, -(np.bincount(a, r, m) - np.bincount(b, r, m))

    res = minimize(
        objective,
        x0,
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-9, "ftol": 1e-14, "maxiter": 5000},
    )
    return res.x - res.x.mean()


def work_scipy(data, rounds: int) -> dict:
    """numpy aggregation, scipy L-BFGS fit, one L-BFGS refit per replicate."""
    (a, b, y, w, m), t_agg = timed(_counts, data)
    theta, t_fit = timed(_scipy_fit, a, b, y, w, m, np.zeros(m))
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(rounds):
        draw = rng.multinomial(int(w.sum()), w / w.sum()).astype(float)
        _scipy_fit(a, b, y, draw, m, theta)
    t_boot = time.perf_counter() - start
    return {
        "aggregate_s": t_agg,
        "fit_s": t_fit,
        "boot_s": t_boot,
        "boot_rounds": rounds,
        "ratings": centred(theta),
    }


def _sklearn_fit(a, b, y, w, m):
    """Logistic regression without intercept on +1/-1 model indicators."""
    from sklearn.linear_model import LogisticRegression

    # a tie is one win and one loss of half weight each (the FastChat recipe)
    rows = np.arange(len(a))
    X = csr_matrix(
        (np.r_[np.ones(len(a)), -np.ones(len(a))], (np.r_[rows, rows], np.r_[a, b])),
        shape=(len(a), m),
    )
    tie = y == 0.5
    Xs = vstack([X, X[tie]])
    ys = np.r_[np.where(tie, 1, y), np.zeros(tie.sum())]
    ws = np.r_[np.where(tie, w / 2, w), w[tie] / 2]
    model = LogisticRegression(fit_intercept=False, C=1e8, tol=1e-8, max_iter=1000)
    model.fit(Xs, ys.astype(int), sample_weight=ws)
    coef = model.coef_[0]
    return coef - coef.mean()


def work_sklearn(data, rounds: int) -> dict:
    """scikit-learn LogisticRegression on aggregated rows; refit per replicate."""
    import sklearn.linear_model  # noqa: F401  (imported before the clock starts)

    (a, b, y, w, m), t_agg = timed(_counts, data)
    theta, t_fit = timed(_sklearn_fit, a, b, y, w, m)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(rounds):
        draw = rng.multinomial(int(w.sum()), w / w.sum()).astype(float)
        _sklearn_fit(a, b, y, draw, m)
    t_boot = time.perf_counter() - start
    return {
        "aggregate_s": t_agg,
        "fit_s": t_fit,
        "boot_s": t_boot,
        "boot_rounds": rounds,
        "ratings": centred(theta),
    }


ARENA_SCRIPT = r"""
import json, multiprocessing as mp, resource, sys, time
import numpy as np, pandas as pd
mp.set_start_method("spawn", force=True)  # its default fork mode can deadlock
from arena_rank.models.bradley_terry import BradleyTerry
from arena_rank.utils.data_utils import PairDataset


def clock(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main():
    arrays = np.load(sys.argv[1])
    rounds = int(sys.argv[2])
    names = np.array([f"m{k:03d}" for k in range(int(arrays["n_models"]))])
    labels = np.array(["model_a", "model_b", "tie"])
    df = pd.DataFrame({"model_a": names[arrays["a"]], "model_b": names[arrays["b"]],
                       "winner": labels[arrays["outcome"]]})
    ds, t_agg = clock(PairDataset.from_pandas, df)
    model = BradleyTerry(n_competitors=len(ds.competitors))
    _, t_fit = clock(model.fit, ds)
    _, t_sand = clock(model.compute_ratings_and_cis, ds, ci_method="sandwich")
    t_boot = None
    if rounds:
        other = BradleyTerry(n_competitors=len(ds.competitors))
        other.fit(ds)
        _, t_boot = clock(other.compute_ratings_and_cis, ds, ci_method="bootstrap",
                          num_bootstrap=rounds, n_jobs=2)
    r = np.asarray(model.params["ratings"])[np.argsort(np.asarray(ds.competitors))]
    out = {
        "aggregate_s": t_agg, "fit_s": t_fit, "sandwich_s": t_sand,
        "boot_s": t_boot, "boot_rounds": rounds,
        "ratings": ((r - r.mean()) * 400 / np.log(10)).tolist(),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "workers_peak_mb": (
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        ),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
"""

WORKERS = {"prefkit": work_prefkit, "scipy": work_scipy, "sklearn": work_sklearn}


def run_worker(method: str, path: Path, rounds: int, arena_python: str | None) -> dict:
    """Run one method in a fresh subprocess and return its JSON plus max RSS."""
    if method == "arena-rank":
        script = path.parent / "arena_worker.py"
        script.write_text(ARENA_SCRIPT)
        cmd = [str(arena_python), str(script), str(path), str(rounds)]
    else:
        cmd = [
            sys.executable,
            str(HERE),
            "--worker",
            method,
            "--data",
            str(path),
            "--rounds",
            str(rounds),
        ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        return {"error": lines[-1] if lines else "failed"}
    out: dict = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def fmt(value, unit="s") -> str:
    """A number for the table, or a dash."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    return f"{value:.2f}{unit}" if unit == "s" else f"{value:.0f}"


def report(title: str, results: dict[str, dict], rounds: int) -> None:
    """Print one side-by-side table."""
    ref = np.asarray(results["prefkit"]["ratings"])
    print(f"\n== {title} ==")
    print(
        f"{'method':<11}{'validate':>9}{'aggregate':>10}{'fit':>8}{'sandwich':>10}"
        f"{'bootstrap':>12}{'rounds':>8}{f'per {rounds}':>10}{'peak MB':>9}"
        f"{'max |diff|':>12}"
    )
    for name, r in results.items():
        if "error" in r:
            print(f"{name:<11}  not run: {r['error']}")
            continue
        boot, n = r.get("boot_s"), r.get("boot_rounds") or 0
        per = None if boot is None or not n else boot * rounds / n
        diff = np.abs(np.asarray(r["ratings"]) - ref).max()
        print(
            f"{name:<11}{fmt(r.get('validate_s')):>9}{fmt(r['aggregate_s']):>10}{fmt(r['fit_s']):>8}{fmt(r.get('sandwich_s')):>10}"
            f"{fmt(boot):>12}{n:>8}{fmt(per):>10}{fmt(r['peak_mb'], ''):>9}"
            f"{diff:>12.4f}"
        )
    p, s = results["prefkit"], results.get("scipy", {})
    if "boot_s" in s and s.get("boot_rounds"):
        speedup = (s["boot_s"] * rounds / s["boot_rounds"]) / (
            p["boot_s"] * rounds / p["boot_rounds"]
        )
        print(
            "bootstrap speed-up of prefkit over the scipy refit-per-replicate: "
            f"{speedup:.1f}x (target >= 10x)"
        )
    print(
        "(per-N scales a method's measured rounds to N; peak MB is the max RSS "
        "of the method's own process; arena-rank's bootstrap workers come on top)"
    )


def main() -> None:
    """Parse arguments and run the benchmark (or one worker)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--battles", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument(
        "--rounds", type=int, default=1000, help="prefkit and scipy bootstrap rounds"
    )
    parser.add_argument(
        "--scipy-rounds",
        type=int,
        default=50,
        help="scipy refit rounds (timed, scaled to --rounds)",
    )
    parser.add_argument("--sklearn-rounds", type=int, default=10)
    parser.add_argument(
        "--arena-rounds", type=int, default=0, help="arena-rank bootstrap rounds (slow)"
    )
    parser.add_argument(
        "--arena-python", default=None, help="a Python with arena-rank installed"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        data = dict(np.load(args.data))
        out = WORKERS[args.worker](data, args.rounds)
        out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(out))
        return

    with tempfile.TemporaryDirectory() as tmp:
        sets = [
            (
                f"synthetic: {args.battles:,} battles, {args.models} models, "
                "Zipf popularity, ~20% ties",
                generate(args.battles, args.models, args.seed),
            )
        ]
        real = load_llmfao()
        if real is None:
            print(f"LLMFAO crowd file not found at {LLMFAO}; skipping the real data")
        else:
            sets.append(
                (
                    f"LLMFAO crowd votes: {len(real['a']):,} battles, "
                    f"{int(real['n_models'])} models",
                    real,
                )
            )
        for k, (title, data) in enumerate(sets):
            path = Path(tmp) / f"data{k}.npz"
            np.savez(path, **data)
            results = {
                "prefkit": run_worker("prefkit", path, args.rounds, None),
                "scipy": run_worker("scipy", path, args.scipy_rounds, None),
                "sklearn": run_worker("sklearn", path, args.sklearn_rounds, None),
            }
            if args.arena_python:
                results["arena-rank"] = run_worker(
                    "arena-rank", path, args.arena_rounds, args.arena_python
                )
            else:
                results["arena-rank"] = {
                    "error": "no --arena-python given (install arena-rank apart: "
                    "python -m venv V && V/bin/pip install arena-rank==0.1.1)"
                }
            report(title, results, args.rounds)


if __name__ == "__main__":
    main()
