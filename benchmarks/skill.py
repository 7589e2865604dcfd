"""Out-of-sample skill of the engine's pool against simple pools.

Scores (Brier, log loss; lower is better) on questions whose outcomes the
pools did not see, for

- ``mean``, ``median``: of the forecasters' probabilities;
- ``mean log-odds``: ``sigmoid(mean logit p)``;
- ``extremized``: ``sigmoid(k * mean logit p)``, ``k`` fitted by maximum
  likelihood on the training questions' outcomes;
- ``recalibrated``: a fast prototype in the style of Turner et al. (2014):
  each forecaster's log-odds recalibrated linearly, ``a_j + b_j logit p``,
  shrunk toward a shared ``(a, b)``, averaged; fitted by penalised maximum
  likelihood on the training outcomes;
- ``engine``: what ``forecast run`` forecasts. Each record is built into a
  workspace (one question per question, one bare ``{p}`` statement per
  forecaster and question, one analyst per forecaster), sampled by the
  engine's own ``forecast.inference.sample``, and the forecast is the
  posterior mean of ``prob``. ``engine, track record``: training questions
  carry their outcomes; ``engine, no outcomes``: the same workspace with
  nothing resolved. ``--compare-plain-average`` adds both runs of the pool
  without the extremizing by the analysts' effective number (the plain
  average of the recalibrated statements) and their paired differences.

Records:

(a) ``sim``: simulated forecasters with known bias, under- and
    over-confidence, noise and partial information; each answers a random
    subset of questions (at least three per question). Half the questions
    train, half test. Four independent worlds by default, seeds ``--seed`` to
    ``--seed + 3`` fixed in advance, each with its table, then the paired
    differences pooled over them. Two more pools there know the simulation's
    parameters: ``oracle`` (the best linear predictor of the truth's log-odds
    from the statements, ``oracle()``) and ``debiased, extremized`` (each
    statement's true lean and confidence undone, averaged, extremized by a
    factor fitted on train); the ``oracle`` column is each pool's distance
    from the oracle.
(b) ``pb``: PredictionBook (questions with three or more forecasters; each
    forecaster's last forecast made before the question's deadline and its
    resolution). Temporal split: the ``--pb-train`` questions resolved last
    before ``--pb-cutoff`` train, the ``--pb-test`` resolved first after it
    test.
(c) ``gjp``: the 14 Good Judgment Project year-1 questions (each forecaster's
    last forecast before the question closed). Too few questions to train
    the engine: it runs with no outcomes; ``extremized`` and
    ``recalibrated`` are fitted leaving the scored question out.

Probabilities of exactly 0 or 1 (and anything beyond ``--clip``) are clipped
to ``[clip, 1 - clip]`` before any pool sees them (default 0.01, the bound
most forecasters on these sites use themselves). Paired differences
(pool - baseline, per question) are shown with their standard errors; a
negative difference means the pool scored better.

    python benchmarks/skill.py [--records sim,pb,gjp] [--draws 1000] [--sim-worlds 4]
                               [--oracle-variants] [--compare-plain-average] ...
                               [--dask [--scheduler tcp://HOST:PORT]]

With ``--dask`` the engine's fits of a record run side by side as cells of
``forecast batch`` (docs/batch.md): each workspace is written as files and
fitted on a Dask worker by ``forecast run``'s path. The plain-average
variant changes the engine's own priors in this process, which cannot travel
as files: it is fitted here either way.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "track-records"
sys.path.insert(0, str(ROOT))


def logit(p):
    p = np.asarray(p, dtype=float)
    return np.log(p) - np.log1p(-p)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


@dataclass
class Record:
    """Forecasts in long form and the questions they are about."""

    name: str
    forecasts: pd.DataFrame  # question, forecaster, p (clipped)
    outcomes: pd.Series  # question -> 0/1
    train: list  # question ids whose outcomes a pool may learn from
    test: list  # question ids scored
    note: str = ""
    truth: dict | None = None  # a simulated record's generative parameters


# --- records -----------------------------------------------------------------


def simulated(seed: int, n_train: int, n_test: int, n_forecasters: int, clip: float) -> Record:
    """Forecasters with partial information, bias, miscalibration and noise.

    The truth: ``theta_q = mu + sum_k x_qk`` with 10 independent signals.
    Forecaster j sees each signal with probability ``f_j`` and forms the
    calibrated forecast given what it saw, then distorts it: stated log-odds
    ``c_j * calibrated + b_j + n_j * eps``; ``c_j < 1`` is under-confident,
    ``c_j > 1`` over-confident. Rounded to 0.01 like real statements.
    """
    rng = np.random.default_rng(seed)
    nq, k, mu, total_sd = n_train + n_test, 10, -0.6, 2.2
    x = rng.normal(0.0, total_sd / np.sqrt(k), (nq, k))
    theta = mu + x.sum(1)
    y = (rng.random(nq) < sigmoid(theta)).astype(int)
    f = rng.uniform(0.2, 0.7, n_forecasters)
    c = np.exp(rng.normal(0.0, 0.45, n_forecasters))  # ~0.5 to ~2
    b = rng.normal(0.2, 0.5, n_forecasters)
    noise = rng.uniform(0.2, 1.2, n_forecasters)
    answer = rng.uniform(0.1, 0.5, n_forecasters)
    rows = []
    for q in range(nq):
        who = np.flatnonzero(rng.random(n_forecasters) < answer)
        if len(who) < 3:
            who = rng.choice(n_forecasters, 3, replace=False)
        for j in who:
            seen = rng.random(k) < f[j]
            var_unseen = (total_sd**2 / k) * (~seen).sum()
            calibrated = (mu + x[q, seen].sum()) / np.sqrt(1 + np.pi * var_unseen / 8)
            stated = c[j] * calibrated + b[j] + noise[j] * rng.normal()
            p = np.round(sigmoid(stated), 2)
            rows.append((f"q{q}", f"f{j}", float(np.clip(p, clip, 1 - clip))))
    forecasts = pd.DataFrame(rows, columns=["question", "forecaster", "p"])
    ids = [f"q{q}" for q in range(nq)]
    outcomes = pd.Series(y, index=ids)
    note = (
        f"{nq} questions ({n_train} train, {n_test} test), {n_forecasters} forecasters, "
        f"{len(forecasts)} forecasts; base rate {y.mean():.2f}; seed {seed}"
    )
    truth = {"mu": mu, "sd": total_sd, "signals": k, "f": f, "c": c, "b": b, "noise": noise}
    truth["index"] = {f"f{j}": j for j in range(n_forecasters)}
    return Record("sim", forecasts, outcomes, ids[:n_train], ids[n_train:], note, truth)


def predictionbook(path: Path, cutoff: str, n_train: int, n_test: int, clip: float) -> Record:
    raw = pd.read_csv(path)
    for col in ("timestamp", "open_time", "close_time", "resolve_time"):
        raw[col] = pd.to_datetime(raw[col], utc=True, errors="coerce", format="ISO8601")
    # the deadline: the earlier of the close (when it is a real date after the
    # question opened) and the resolution
    close = raw["close_time"].where(raw["close_time"] >= raw["open_time"], raw["resolve_time"])
    deadline = np.minimum(close.values, raw["resolve_time"].values)
    kept = raw[raw["timestamp"].values <= deadline]
    last = kept.sort_values("timestamp").groupby(["question_id", "user_id"]).tail(1)
    n = last.groupby("question_id")["user_id"].nunique()
    last = last[last["question_id"].isin(n[n >= 3].index)]
    qs = last.groupby("question_id").agg(t=("resolve_time", "first"), y=("outcome", "first"))
    cut = pd.Timestamp(cutoff, tz="UTC")
    train = qs[qs["t"] < cut].sort_values("t").tail(n_train)
    test = qs[qs["t"] >= cut].sort_values("t").head(n_test)
    use = last[last["question_id"].isin(list(train.index) + list(test.index))]
    forecasts = pd.DataFrame(
        {
            "question": "pb" + use["question_id"].astype(str),
            "forecaster": use["user_id"].astype(str),
            "p": use["probability"].clip(clip, 1 - clip).values,
        }
    )
    outcomes = pd.concat([train["y"], test["y"]])
    outcomes.index = "pb" + outcomes.index.astype(str)
    note = (
        f"{len(n[n >= 3])} questions with >= 3 forecasters; train: the {len(train)} resolved "
        f"last before {cutoff} (from {train['t'].min():%Y-%m-%d}), test: the {len(test)} "
        f"resolved first after it (to {test['t'].max():%Y-%m-%d}); "
        f"{forecasts['forecaster'].nunique()} forecasters, {len(forecasts)} forecasts; "
        f"base rate train {train['y'].mean():.2f}, test {test['y'].mean():.2f}; "
        f"{(use['probability'].isin([0, 1])).mean():.1%} of forecasts were exactly 0 or 1"
    )
    return Record(
        "pb",
        forecasts,
        outcomes,
        list("pb" + train.index.astype(str)),
        list("pb" + test.index.astype(str)),
        note,
    )


def gjp(path: Path, clip: float) -> Record:
    raw = pd.read_csv(path)
    raw["fcast_date"] = pd.to_datetime(raw["fcast_date"], format="mixed")
    raw["date_closed"] = pd.to_datetime(raw["date_closed"], format="%m/%d/%y")
    kept = raw[raw["fcast_date"] <= raw["date_closed"]]
    last = kept.sort_values(["fcast_date", "forecast_id"]).groupby(["ifp_id", "user_id"]).tail(1)
    forecasts = pd.DataFrame(
        {
            "question": "gjp" + last["ifp_id"].astype(str),
            "forecaster": "u" + last["user_id"].astype(str),
            "p": last["p_yes"].clip(clip, 1 - clip).values,
        }
    )
    outcomes = last.groupby("ifp_id")["outcome"].first()
    outcomes.index = "gjp" + outcomes.index.astype(str)
    ids = list(outcomes.index)
    note = (
        f"{len(ids)} questions, {forecasts['forecaster'].nunique()} forecasters, "
        f"{len(forecasts)} forecasts; base rate {outcomes.mean():.2f}; "
        f"{(last['p_yes'].isin([0, 1])).mean():.1%} of forecasts were exactly 0 or 1"
    )
    return Record("gjp", forecasts, outcomes, [], ids, note)


# --- simple pools ----------------------------------------------------------------


def simple_pools(rec: Record, questions: list) -> dict[str, np.ndarray]:
    f = rec.forecasts[rec.forecasts["question"].isin(questions)].copy()
    f["l"] = logit(f["p"])
    g = f.groupby("question")
    return {
        "mean": g["p"].mean().reindex(questions).values,
        "median": g["p"].median().reindex(questions).values,
        "mean log-odds": sigmoid(g["l"].mean().reindex(questions).values),
    }


def fit_extremizing(rec: Record, train: list) -> float:

    f = rec.forecasts[rec.forecasts["question"].isin(train)].copy()
    f["l"] = logit(f["p"])
    m = f.groupby("question")["l"].mean().reindex(train).values
    return fit_factor(m, rec.outcomes.reindex(train).values)


def fit_factor(m: np.ndarray, y: np.ndarray) -> float:
    """The factor ``k`` maximising the likelihood of outcomes ``y`` under ``sigmoid(k m)``."""
    from scipy.optimize import minimize_scalar

    def loss(k):
        return -np.sum(y * _log_sigmoid(k * m) + (1 - y) * _log_sigmoid(-k * m))

    return float(minimize_scalar(loss, bounds=(0.1, 10.0), method="bounded").x)


def _log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def fit_recalibrated(rec: Record, train: list, shrink=(0.5, 0.3)):
    """Turner et al. (2014) style: ``logit P = mean_j (a_j + b_j logit p_j)``.

    ``a_j = a + da_j``, ``log b_j = log b + db_j``, with ``da ~ N(0, 0.5)``,
    ``db ~ N(0, 0.3)`` as penalties (forecasters with little record shrink to
    the group); ``(a, b)`` shared and free. Penalised maximum likelihood.
    Returns a function of a list of questions giving probabilities.
    """
    from scipy.optimize import minimize

    names = sorted(rec.forecasts["forecaster"].unique())
    index = {n: i for i, n in enumerate(names)}
    f = rec.forecasts[rec.forecasts["question"].isin(train)]
    qi = pd.Index(train).get_indexer(f["question"])
    fj = f["forecaster"].map(index).values
    lp = logit(f["p"].values)
    count = np.bincount(qi, minlength=len(train)).astype(float)
    y = rec.outcomes.reindex(train).values
    nf = len(names)

    def unpack(x):
        return x[0], x[1], x[2 : 2 + nf], x[2 + nf :]

    def objective(x):
        a, logb, da, db = unpack(x)
        bj = np.exp(logb + db[fj])
        terms = (a + da[fj]) + bj * lp
        eta = np.bincount(qi, terms, minlength=len(train)) / count
        s = sigmoid(eta)
        nll = -np.sum(y * _log_sigmoid(eta) + (1 - y) * _log_sigmoid(-eta))
        pen = 0.5 * np.sum(da**2) / shrink[0] ** 2 + 0.5 * np.sum(db**2) / shrink[1] ** 2
        # gradient
        r = (s - y) / count  # d nll / d eta_q, spread over its forecasts
        rq = r[qi]
        g_a = np.sum(rq)
        g_logb = np.sum(rq * bj * lp)
        g_da = np.bincount(fj, rq, minlength=nf) + da / shrink[0] ** 2
        g_db = np.bincount(fj, rq * bj * lp, minlength=nf) + db / shrink[1] ** 2
        return nll + pen, np.concatenate([[g_a, g_logb], g_da, g_db])

    x0 = np.zeros(2 + 2 * nf)
    x = minimize(objective, x0, jac=True, method="L-BFGS-B").x
    a, logb, da, db = unpack(x)

    def predict(questions: list) -> np.ndarray:
        g = rec.forecasts[rec.forecasts["question"].isin(questions)]
        qi2 = pd.Index(questions).get_indexer(g["question"])
        fj2 = g["forecaster"].map(index).values
        terms = (a + da[fj2]) + np.exp(logb + db[fj2]) * logit(g["p"].values)
        eta = np.bincount(qi2, terms, minlength=len(questions)) / np.bincount(
            qi2, minlength=len(questions)
        )
        return sigmoid(eta)

    predict.params = {"a": float(a), "b": float(np.exp(logb))}
    return predict


# --- what the simulated world's own parameters allow ----------------------------


def _debiased(rec: Record, questions: list) -> pd.DataFrame:
    """Each statement of ``questions`` with the simulation's own distortion undone:
    ``z = (logit p - b_j) / c_j``, the forecaster's calibrated log-odds plus noise of
    sd ``noise_j / c_j`` (and the rounding and clipping of the statement)."""
    t = rec.truth
    f = rec.forecasts[rec.forecasts["question"].isin(questions)].copy()
    j = f["forecaster"].map(t["index"]).values
    f["j"] = j
    f["z"] = (logit(f["p"].values) - t["b"][j]) / t["c"][j]
    return f


def oracle(rec: Record, questions: list, same: tuple[str, ...] = ()) -> np.ndarray:
    """The best forecast the world's generative parameters allow, short of knowing
    which signals each forecaster saw.

    Forecaster j's debiased log-odds divided by the shrinkage of a calibrated
    forecast that misses ``1 - f_j`` of the signals, ``w_j = z_j / s_j``, is
    ``mu + U_j + e_j``: ``U_j`` the sum of the signals j saw (variance
    ``f_j sd^2``, covariance ``f_i f_j sd^2`` between two forecasters and
    ``f_j sd^2`` with the truth), ``e_j`` noise of sd ``noise_j / (c_j s_j)``.
    The truth's log-odds given the ``w`` are taken as the best linear
    predictor's normal (mean and variance), and the forecast is
    ``E[sigmoid(theta)]`` under it (Gauss-Hermite).

    ``same`` names parameters (``b``, ``c``, ``noise``, ``f``) the oracle takes
    as their population average for every forecaster (the geometric mean for
    ``c``): what knowing each forecaster's own value is worth.
    """
    t = dict(rec.truth)
    for name in same:
        centre = np.exp(np.log(t[name]).mean()) if name == "c" else t[name].mean()
        t[name] = np.full_like(t[name], centre)
    rec = Record(rec.name, rec.forecasts, rec.outcomes, rec.train, rec.test, rec.note, t)
    var = t["sd"] ** 2
    f = _debiased(rec, questions)
    nodes, weights = np.polynomial.hermite_e.hermegauss(40)
    weights = weights / weights.sum()
    out = []
    for q in questions:
        g = f[f["question"] == q]
        j = g["j"].values
        fj = t["f"][j]
        s = 1.0 / np.sqrt(1.0 + np.pi * var * (1.0 - fj) / 8.0)
        w = g["z"].values / s
        cov = var * np.outer(fj, fj)
        cov[np.diag_indices_from(cov)] = var * fj + (t["noise"][j] / (t["c"][j] * s)) ** 2
        c = var * fj
        gain = np.linalg.solve(cov, c)
        m = t["mu"] + gain @ (w - t["mu"])
        v = max(var - gain @ c, 0.0)
        out.append(float(weights @ sigmoid(m + np.sqrt(v) * nodes)))
    return np.array(out)


def debiased_mean(rec: Record, questions: list) -> np.ndarray:
    """The mean of the forecasters' log-odds with each one's true lean and
    confidence factor undone (equal weights, no extremizing)."""
    f = _debiased(rec, questions)
    return f.groupby("question")["z"].mean().reindex(questions).values


# --- the engine --------------------------------------------------------------------


def engine_workspace(rec: Record, resolved: bool, settings: dict):
    """The record as a workspace: one bare ``{p}`` statement per forecaster and question."""
    from types import MappingProxyType

    from forecast.workspace import Analyst, Question, Resolution, Settings, Statement, Workspace

    qids = list(rec.train) + list(rec.test)
    train = set(rec.train)
    questions = []
    for q in qids:
        outcome = "yes" if rec.outcomes[q] else "no"
        res = Resolution(outcome) if (resolved and q in train) else None
        questions.append(Question(q, q, drivers=MappingProxyType({}), resolution=res))
    f = rec.forecasts[rec.forecasts["question"].isin(qids)]
    by: dict[str, list[Statement]] = {}
    for q, a, p in zip(f["question"], f["forecaster"], f["p"], strict=True):
        by.setdefault(a, []).append(Statement(analyst=a, target=q, kind="point", p=float(p)))
    return Workspace(
        root=Path("."),
        questions=tuple(questions),
        drivers=(),
        analysts=tuple(Analyst(a, a, tuple(s)) for a, s in by.items()),
        sources=(),
        evidence=(),
        settings=Settings(**settings),
    )


def _engine_info(rec: Record, idata, diag, seconds: float) -> tuple[np.ndarray, dict]:
    prob = idata.posterior["prob"].mean(("chain", "draw"))
    out = prob.sel(question=list(rec.test)).values
    info = {"seconds": seconds, "ok": diag.ok, "divergences": diag.divergences}
    info["max_rhat"], info["min_ess"] = diag.max_rhat, min(diag.min_ess_bulk, diag.min_ess_tail)
    post = idata.posterior
    for name in ("offset_mean", "offset_spread", "slope_mean", "log_slope_spread", "info_overlap"):
        if name in post:
            info[name] = float(post[name].mean())
    return out, info


def engine_pool(rec: Record, resolved: bool, settings: dict) -> tuple[np.ndarray, dict]:
    """The engine's forecast for the test questions (posterior mean of ``prob``)."""
    from forecast.inference import sample

    ws = engine_workspace(rec, resolved, settings)
    start = time.perf_counter()
    idata, diag = sample(ws)
    return _engine_info(rec, idata, diag, time.perf_counter() - start)


def engine_pools_dask(
    rec: Record, runs: list[tuple[str, bool]], settings: dict, scheduler: str | None
) -> dict[str, tuple[np.ndarray, dict]]:
    """The engine's runs as cells of ``forecast batch``, side by side on Dask: each
    workspace travels to a worker as files and is fitted there as ``forecast run``
    fits it; ``seconds`` is the cell's time on its worker."""
    import tempfile

    import arviz as az

    from forecast.batch import Cell, cluster, run_cells
    from forecast.inference import Diagnostics
    from forecast.workspace.writing import workspace_bytes

    cells = [
        Cell(label, workspace_bytes(engine_workspace(rec, resolved, settings)))
        for label, resolved in runs
    ]
    found = {}
    with cluster(scheduler, len(cells)) as client:
        for outcome in run_cells(cells, client):
            if not outcome.ok:
                raise SystemExit(f"{outcome.cell.workspace} failed: {outcome.error}")
            result = outcome.result
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "trace.nc"
                path.write_bytes(result["trace"])
                idata = az.from_netcdf(path).load()
            diag = Diagnostics.from_dict(result["manifest"]["diagnostics"])
            found[outcome.cell.workspace] = _engine_info(rec, idata, diag, result["seconds"])
    return found


# --- scoring -----------------------------------------------------------------------


def scores(p: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Brier and log loss per question; a pool's output is kept within
    [1e-9, 1 - 1e-9] so a certain forecast that fails costs 20.7, not infinity."""
    p = np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    brier = (p - y) ** 2
    log = -(y * np.log(p) + (1 - y) * np.log1p(-p))
    return brier, log


BASELINES = ("mean", "median", "mean log-odds", "extremized")


def table(title: str, y: np.ndarray, pools: dict[str, np.ndarray]) -> str:
    s = {k: scores(v, y) for k, v in pools.items()}
    lines = [
        f"### {title}",
        "",
        f"| pool | Brier | log loss | n = {len(y)} |",
        "| --- | ---: | ---: | --- |",
    ]
    for k, (b, lg) in s.items():
        lines.append(f"| {k} | {b.mean():.4f} | {lg.mean():.4f} | |")
    lines.append("")
    lines.append("Paired differences, pool - baseline (mean +- standard error; < 0: pool better)")
    lines.append("")
    heads = [b for b in (*BASELINES, "oracle") if b in s]
    lines.append("| pool | score | " + " | ".join(heads) + " |")
    lines.append("| --- | --- |" + " ---: |" * len(heads))
    for k in pools:
        if k in BASELINES:
            continue
        for idx, label in ((0, "Brier"), (1, "log")):
            cells = []
            for base in heads:
                if base == k:
                    cells.append("")
                    continue
                d = s[k][idx] - s[base][idx]
                se = d.std(ddof=1) / np.sqrt(len(d))
                cells.append(f"{d.mean():+.4f} +- {se:.4f}")
            lines.append(f"| {k} | {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def evaluate(rec: Record, args, loqo: bool = False) -> tuple[str, dict[str, np.ndarray]]:
    """The record's table and notes, and each pool's forecasts of the test questions."""
    pools = simple_pools(rec, rec.test)
    notes = []
    if loqo:  # leave one question out: fit on the others, score the one
        ext, rcl = [], []
        for q in rec.test:
            others = [o for o in rec.test if o != q]
            k = fit_extremizing(rec, others)
            m = simple_pools(rec, [q])["mean log-odds"]
            ext.append(float(sigmoid(k * logit(m))[0]))
            rcl.append(float(fit_recalibrated(rec, others)([q])[0]))
        pools["extremized"] = np.array(ext)
        pools["recalibrated"] = np.array(rcl)
        notes.append("extremized and recalibrated: fitted leaving the scored question out")
    else:
        k = fit_extremizing(rec, rec.train)
        pools["extremized"] = sigmoid(k * logit(pools["mean log-odds"]))
        notes.append(f"extremizing factor fitted on train: {k:.2f}")
        predict = fit_recalibrated(rec, rec.train)
        pools["recalibrated"] = predict(rec.test)
        notes.append("recalibrated: shared a = {a:.2f}, b = {b:.2f}".format(**predict.params))
    if rec.truth is not None:
        pools["oracle"] = oracle(rec, rec.test)
        kd = fit_factor(debiased_mean(rec, rec.train), rec.outcomes.reindex(rec.train).values)
        pools["debiased, extremized"] = sigmoid(kd * debiased_mean(rec, rec.test))
        if args.oracle_variants:
            for label, same in ORACLE_VARIANTS.items():
                pools[f"oracle, {label}"] = oracle(rec, rec.test, same)
        notes.append(
            "oracle: the best linear predictor of the truth's log-odds from the "
            "statements, with the simulation's own parameters; debiased, extremized: each "
            f"statement's true lean and confidence undone, averaged, times {kd:.2f} "
            "(fitted on train)"
        )
    if not args.no_engine:
        settings = {
            "draws": args.draws,
            "tune": args.tune,
            "chains": args.chains,
            "seed": args.seed,
            "pooling": "hierarchical",
        }
        runs = [("engine, no outcomes", False)]
        if rec.train:
            runs.insert(0, ("engine, track record", True))
        fitted = engine_pools_dask(rec, runs, settings, args.scheduler) if args.dask else {}
        variants = [("", None)]
        if args.compare_plain_average:
            variants.append(("plain-average ", PLAIN_AVERAGE))
        for prefix, priors in variants:
            for label, resolved in runs:
                if priors is None and args.dask:
                    p, info = fitted[label]
                else:
                    with pool_priors(priors):
                        p, info = engine_pool(rec, resolved, settings)
                pools[prefix + label] = p
                extra = ", ".join(
                    f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in info.items()
                )
                notes.append(f"{prefix}{label}: {extra}")
    out = table(f"{rec.name}: {rec.note}", rec.outcomes.reindex(rec.test).values, pools)
    if args.compare_plain_average and not args.no_engine:
        out += "\n\n" + against_plain_average(rec, pools, [label for label, _ in runs])
    return out + "\n\n" + "\n".join(f"- {n}" for n in notes), pools


# ``--oracle-variants``: the oracle with one kind of parameter taken as the
# population's for every forecaster.
ORACLE_VARIANTS = {
    "same lean and confidence": ("b", "c"),
    "same lean": ("b",),
    "same confidence": ("c",),
    "same noise": ("noise",),
    "same share of signals": ("f",),
}


# The pool before the extremizing by the analysts' effective number: the plain
# average of the recalibrated statements (``--compare-plain-average``).
PLAIN_AVERAGE = {"overlap_beta": None}


@contextmanager
def pool_priors(changes: dict | None):
    """``forecast.model.POOL_PRIORS`` with ``changes`` applied, restored after."""
    from forecast.model import POOL_PRIORS

    saved = dict(POOL_PRIORS)
    POOL_PRIORS.update(changes or {})
    try:
        yield
    finally:
        POOL_PRIORS.clear()
        POOL_PRIORS.update(saved)


def against_plain_average(rec: Record, pools: dict[str, np.ndarray], labels: list) -> str:
    """Paired differences, engine - plain-average engine, with the same outcomes."""
    y = rec.outcomes.reindex(rec.test).values
    lines = [
        "The engine against the plain-average engine, same outcomes (mean +- standard "
        "error; < 0: the engine better)",
        "",
        "| pool | Brier | log |",
        "| --- | ---: | ---: |",
    ]
    for label in labels:
        new, old = scores(pools[label], y), scores(pools["plain-average " + label], y)
        cells = []
        for d in (new[0] - old[0], new[1] - old[1]):
            cells.append(f"{d.mean():+.4f} +- {d.std(ddof=1) / np.sqrt(len(d)):.4f}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="sim,pb,gjp", help="comma-separated: sim, pb, gjp")
    parser.add_argument("--pb", type=Path, default=DATA / "predictionbook.csv.gz")
    parser.add_argument("--gjp", type=Path, default=DATA / "gjp-yr1-mini-binary.csv.gz")
    parser.add_argument("--pb-cutoff", default="2016-01-01", help="temporal split date")
    parser.add_argument("--pb-train", type=int, default=600, help="questions before the cutoff")
    parser.add_argument("--pb-test", type=int, default=400, help="questions after the cutoff")
    parser.add_argument("--sim-train", type=int, default=300)
    parser.add_argument("--sim-test", type=int, default=300)
    parser.add_argument("--sim-forecasters", type=int, default=30)
    parser.add_argument(
        "--sim-worlds",
        type=int,
        default=4,
        help="independent simulated worlds, seeds --seed, --seed + 1, ...",
    )
    parser.add_argument("--clip", type=float, default=0.01)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--no-engine", action="store_true", help="simple pools only (fast)")
    parser.add_argument(
        "--oracle-variants",
        action="store_true",
        help="sim: also the oracle with each kind of parameter the same for every forecaster",
    )
    parser.add_argument(
        "--compare-plain-average",
        action="store_true",
        help="also run the engine with the plain average of recalibrated statements "
        "(no extremizing by the effective number) and compare",
    )
    parser.add_argument(
        "--dask", action="store_true", help="fit the engine on Dask through forecast batch's path"
    )
    parser.add_argument(
        "--scheduler", help="with --dask: a running scheduler (default: a local cluster)"
    )
    args = parser.parse_args()
    if args.scheduler and not args.dask:
        parser.error("--scheduler goes with --dask")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    for name in args.records.split(","):
        if name == "sim":
            simulated_worlds(args)
            continue
        start = time.perf_counter()
        if name == "pb":
            rec = predictionbook(args.pb, args.pb_cutoff, args.pb_train, args.pb_test, args.clip)
            out, _ = evaluate(rec, args)
        elif name == "gjp":
            out, _ = evaluate(gjp(args.gjp, args.clip), args, loqo=True)
        else:
            raise SystemExit(f"unknown record {name!r}: use sim, pb or gjp")
        print(out)
        print(f"- {time.perf_counter() - start:.0f} s\n", flush=True)


def simulated_worlds(args) -> None:
    """Each simulated world's table, then the paired differences pooled over the
    worlds (seeds ``--seed`` to ``--seed + --sim-worlds - 1``, fixed in advance:
    one world's 300 test questions cannot resolve differences of 0.001)."""
    ys, found = [], []
    for world in range(args.sim_worlds):
        start = time.perf_counter()
        world_args = argparse.Namespace(**{**vars(args), "seed": args.seed + world})
        rec = simulated(
            world_args.seed, args.sim_train, args.sim_test, args.sim_forecasters, args.clip
        )
        out, pools = evaluate(rec, world_args)
        print(out)
        print(f"- {time.perf_counter() - start:.0f} s\n", flush=True)
        ys.append(rec.outcomes.reindex(rec.test).values)
        found.append(pools)
    if args.sim_worlds > 1:
        seeds = f"seeds {args.seed} to {args.seed + args.sim_worlds - 1}"
        pooled = {k: np.concatenate([p[k] for p in found]) for k in found[0]}
        print(table(f"sim, {args.sim_worlds} worlds pooled ({seeds})", np.concatenate(ys), pooled))
        print(flush=True)


if __name__ == "__main__":
    main()
