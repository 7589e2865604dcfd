"""Simulation-based calibration of the hierarchical pool.

Each round writes random statements into a workspace (log-odds drawn from
Normal(-0.3, 1.5); bare ``{p}`` statements for the first analyst, 90 %
intervals of log-odds sd 0.5 for the others), draws a world from the engine's
own prior given them (each analyst's offset and slope, each statement's
value within its stated spread, hence each question's log-odds ``theta``,
and the outcomes), resolves the first ``--resolved`` questions with the
drawn outcomes, samples the workspace with ``forecast.inference.sample`` and
asks whether the 90 % interval of ``prob`` holds the simulated truth
``sigmoid(theta)``. If the engine is right, about 90 % of intervals do.

    python benchmarks/sbc.py [--rounds 200] [--questions 6] [--analysts 3] [--resolved 3]
                             [--dask [--scheduler tcp://HOST:PORT]]

With ``--dask`` the fits run as cells of ``forecast batch`` (docs/batch.md):
each round's workspace is written as files, sent to a Dask worker (a local
cluster, or the scheduler given) and fitted there by ``forecast run``'s
path; the worlds are drawn here, the same as without it.

Prints the coverage with its binomial standard error (intervals within one
round share the world they were drawn in, so the error is a lower bound).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STATED_SD = 0.5  # log-odds sd of the interval statements


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def _workspace(n_questions, n_analysts, resolved, stated, outcomes, settings):
    """A workspace whose analyst a states log-odds ``stated[a, q]`` on question q."""
    from forecast.workspace import Analyst, Question, Resolution, Settings, Statement, Workspace

    questions = []
    for q in range(n_questions):
        res = Resolution("yes" if outcomes[q] else "no") if q < resolved else None
        questions.append(Question(f"q{q}", f"q{q}", MappingProxyType({}), resolution=res))
    analysts = []
    for a in range(n_analysts):
        rows = []
        for q in range(n_questions):
            m = float(np.clip(stated[a, q], -18.0, 18.0))
            if a == 0:
                rows.append(Statement(f"a{a}", f"q{q}", "point", p=float(_sigmoid(m))))
            else:
                lo, hi = _sigmoid(m - 1.6448536 * STATED_SD), _sigmoid(m + 1.6448536 * STATED_SD)
                rows.append(
                    Statement(
                        f"a{a}",
                        f"q{q}",
                        "interval",
                        p=float(_sigmoid(m)),
                        lo=float(lo),
                        hi=float(hi),
                        level=0.9,
                    )  # fmt: skip
                )
        analysts.append(Analyst(f"a{a}", f"a{a}", tuple(rows)))
    return Workspace(
        root=Path("."),
        questions=tuple(questions),
        drivers=(),
        analysts=tuple(analysts),
        sources=(),
        evidence=(),
        settings=Settings(**settings),
    )


def draw_world(seed: int, n_questions: int, n_analysts: int, resolved: int, settings: dict):
    """Draw statements and a world from the engine's prior: (workspace to fit, theta)."""
    import pymc as pm

    from forecast.model import build_model, model_data

    rng = np.random.default_rng(seed)
    stated = rng.normal(-0.3, 1.5, (n_analysts, n_questions))
    shown = _workspace(n_questions, n_analysts, 0, stated, np.zeros(n_questions), settings)
    data = model_data(shown)
    data = replace(data, resolved=np.arange(resolved), outcomes=np.zeros(resolved, dtype=int))
    names = ["theta", "outcome"] if resolved else ["theta"]
    with build_model(data):
        prior = pm.sample_prior_predictive(draws=1, var_names=names, random_seed=seed)
    theta = prior.prior["theta"].values.reshape(-1)
    outcomes = np.zeros(n_questions, dtype=int)
    if resolved:
        outcomes[:resolved] = prior.prior_predictive["outcome"].values.reshape(-1)
    return _workspace(n_questions, n_analysts, resolved, stated, outcomes, settings), theta


def one_round(seed: int, n_questions: int, n_analysts: int, resolved: int, settings: dict):
    """Draw a world from the prior, fit it, and return (covered per question, diagnostics ok)."""
    from forecast.inference import sample

    ws, theta = draw_world(seed, n_questions, n_analysts, resolved, settings)
    idata, diag = sample(ws)
    prob = idata.posterior["prob"].values.reshape(-1, n_questions)
    lo, hi = np.quantile(prob, [0.05, 0.95], axis=0)
    truth = _sigmoid(theta)
    return (lo <= truth) & (truth <= hi), diag.ok


def dask_rounds(args, settings: dict):
    """The rounds as cells of ``forecast batch``: each world's workspace travels to a
    Dask worker as files and is fitted there as ``forecast run`` fits it; yields
    (covered per question, diagnostics ok) as rounds finish, in any order."""
    from forecast.batch import Cell, cluster, run_cells
    from forecast.batch.execute import default_workers
    from forecast.workspace.writing import workspace_bytes

    cells, truths = [], {}
    for r in range(args.rounds):
        ws, theta = draw_world(args.seed * 100_003 + r, args.questions, args.analysts,
                               args.resolved, settings)  # fmt: skip
        cell = Cell(f"round-{r}", workspace_bytes(ws), values={"round": r})
        cells.append(cell)
        truths[cell.workspace] = _sigmoid(theta)
    with cluster(args.scheduler, default_workers(len(cells))) as client:
        for outcome in run_cells(cells, client):
            if not outcome.ok:
                raise SystemExit(f"{outcome.cell.workspace} failed: {outcome.error}")
            table = outcome.result["table"]
            lo = np.array([row["lo"] for row in table])
            hi = np.array([row["hi"] for row in table])
            truth = truths[outcome.cell.workspace]
            yield (lo <= truth) & (truth <= hi), outcome.result["manifest"]["diagnostics"]["ok"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--questions", type=int, default=6)
    parser.add_argument("--analysts", type=int, default=3)
    parser.add_argument("--resolved", type=int, default=3)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--dask", action="store_true", help="fit on Dask through forecast batch's path"
    )
    parser.add_argument(
        "--scheduler", help="with --dask: a running scheduler (default: a local cluster)"
    )
    args = parser.parse_args()
    if args.scheduler and not args.dask:
        parser.error("--scheduler goes with --dask")
    settings = {"draws": args.draws, "tune": args.tune, "chains": 2, "seed": args.seed}
    if args.dask:
        rounds = dask_rounds(args, settings)
    else:
        rounds = (
            one_round(
                args.seed * 100_003 + r, args.questions, args.analysts, args.resolved, settings
            )  # fmt: skip
            for r in range(args.rounds)
        )
    covered, bad, start = [], 0, time.perf_counter()
    for r, (hit, ok) in enumerate(rounds):
        covered.append(hit)
        bad += not ok
        if (r + 1) % 10 == 0 or r + 1 == args.rounds:
            c = np.concatenate(covered)
            se = np.sqrt(c.mean() * (1 - c.mean()) / c.size)
            open_ = np.concatenate([h[args.resolved :] for h in covered])
            print(
                f"{r + 1} rounds, {c.size} intervals: coverage {c.mean():.3f} +- {se:.3f} "
                f"(open questions {open_.mean():.3f}, resolved "
                f"{np.concatenate([h[: args.resolved] for h in covered]).mean():.3f}); "
                f"{bad} runs failed the checks; {time.perf_counter() - start:.0f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
