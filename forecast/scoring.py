"""Scores against outcomes: Brier and log scores, CORP reliability, Murphy decomposition.

For each resolved question the forecast scored is the last one the ledger
recorded before the question resolved: from a run made on or before the
resolution date (or run ``--as-of`` such a date) whose inputs still had the
question open. Nothing recorded
later counts (no look-ahead); a question with no such run is listed with the
reason. Beside the model's forecast and pooled prior, the same questions are
scored for each analyst's own stated prior and for three simple pools of
them: the mean, the median and the extremized mean.

The scores are the Brier score ``(p - y)^2`` and the log score ``-ln p(y)``
(natural log), both lower is better, in NumPy. The
reliability diagram and the decomposition follow CORP (Dimitriadis, Gneiting
and Jordan 2021): the recalibrated forecast is the isotonic regression of
the outcomes on the forecasts (pool-adjacent-violators, ``scipy``), and

    mean Brier = MCB - DSC + UNC

with MCB (miscalibration, Murphy's "reliability": lower is better) the
score lost to miscalibration, DSC (discrimination, Murphy's "resolution":
higher is better) the score gained over always forecasting the base rate,
and UNC (uncertainty) the base rate's own score.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from forecast.ledger import Ledger
    from forecast.workspace import Workspace

# Extremizing: the mean of the analysts' log-odds multiplied by this factor.
# Averaging forecasters who each hold part of the evidence pulls the pool
# toward 50 %; Satopää et al. (2014, "Combining multiple probability
# predictions using a simple logit model", on Good Judgment Project
# forecasts) found the best factor near 2.5, and Baron et al. (2014) a
# similar one. It is fixed here, not fitted to the outcomes being scored, so
# the extremized mean is scored out of sample like the other pools.
EXTREMIZE = 2.5
# Stated probabilities are kept strictly inside (0, 1) by the data model; a
# pool's log-odds are clipped here so an extremized 0.999 stays finite.
_EPS = 1e-6

METHODS = ("forecast", "pooled_prior", "mean", "median", "extremized")
METHOD_NAMES = {
    "forecast": "model forecast",
    "pooled_prior": "pooled prior (model, before evidence)",
    "mean": "mean of analysts",
    "median": "median of analysts",
    "extremized": f"extremized mean (log-odds x {EXTREMIZE:g})",
}


def brier(p: Sequence[float] | np.ndarray, y: Sequence[int] | np.ndarray) -> np.ndarray:
    """Brier score of each forecast ``p`` of a yes (``y`` = 1) or no (0): (p - y)^2."""
    return (np.asarray(p, dtype=float) - np.asarray(y, dtype=float)) ** 2


def log_score(p: Sequence[float] | np.ndarray, y: Sequence[int] | np.ndarray) -> np.ndarray:
    """Log score of each forecast: -ln(p) for a yes, -ln(1 - p) for a no (inf at a certain miss)."""
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(np.asarray(y, dtype=float) == 1.0, -np.log(p), -np.log1p(-p))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p) - np.log1p(-p)


def pools(probabilities: Sequence[float], factor: float = EXTREMIZE) -> dict[str, float]:
    """The mean, the median and the extremized mean of stated probabilities."""
    p = np.asarray(probabilities, dtype=float)
    if p.size == 0:
        return {"mean": math.nan, "median": math.nan, "extremized": math.nan}
    z = factor * _logit(p).mean()
    return {
        "mean": float(p.mean()),
        "median": float(np.median(p)),
        "extremized": float(1.0 / (1.0 + math.exp(-z))),
    }


def recalibrate(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """CORP: the isotonic (non-decreasing) regression of ``y`` on ``p``, equal
    forecasts pooled first, evaluated at each forecast."""
    from scipy.optimize import isotonic_regression

    values, inverse, counts = np.unique(p, return_inverse=True, return_counts=True)
    means = np.bincount(inverse, weights=y) / counts
    fitted = isotonic_regression(means, weights=counts.astype(float), increasing=True).x
    return np.asarray(fitted)[inverse] if values.size else np.asarray([])


@dataclass(frozen=True)
class Decomposition:
    n: int
    brier: float
    mcb: float  # miscalibration (Murphy's reliability), >= 0, lower is better
    dsc: float  # discrimination (Murphy's resolution), >= 0, higher is better
    unc: float  # uncertainty: the base rate's own Brier score


def decompose(p: Sequence[float] | np.ndarray, y: Sequence[int] | np.ndarray) -> Decomposition:
    """CORP decomposition of the mean Brier score: ``brier = mcb - dsc + unc``."""
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    if p.size == 0:
        return Decomposition(0, math.nan, math.nan, math.nan, math.nan)
    score = float(brier(p, y).mean())
    recal = float(brier(recalibrate(p, y), y).mean())
    unc = float(brier(np.full_like(y, y.mean()), y).mean())
    return Decomposition(int(p.size), score, score - recal, unc - recal, unc)


# --- what to score ----------------------------------------------------------------------


@dataclass(frozen=True)
class Scored:
    """Everything ``forecast score`` shows (frames for tables, text for notes)."""

    questions: pd.DataFrame  # one row per resolved question scored
    methods: pd.DataFrame  # one row per method: n, brier, log, mcb, dsc, unc
    analysts: pd.DataFrame  # one row per analyst: n, brier, log
    stated: pd.DataFrame  # one row per (question, analyst): probability
    missing: tuple[str, ...] = ()  # questions not scored (or scored in part), and why
    extremize: float = EXTREMIZE
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        def clean(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [
                {
                    k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                    for k, v in r.items()
                }
                for r in records
            ]

        return {
            "questions": clean(self.questions.to_dict("records")),
            "methods": clean(self.methods.to_dict("records")),
            "analysts": clean(self.analysts.to_dict("records")),
            "stated": clean(self.stated.to_dict("records")),
            "missing": list(self.missing),
            "extremize": self.extremize,
            "notes": list(self.notes),
        }


def _day(created: str) -> dt.date:
    return dt.datetime.fromisoformat(created).astimezone(dt.UTC).date()


def forecast_date(row: Mapping[str, Any]) -> dt.date:
    """The day a ledger row forecasts from: its as-of date for a backtest, else
    the (UTC) day the run was made."""
    if row.get("as_of"):
        return dt.date.fromisoformat(row["as_of"])
    return _day(row["created"])


def last_before(rows: Sequence[Mapping[str, Any]], date: dt.date) -> Mapping[str, Any] | None:
    """The last ledger row forecasting on or before ``date`` with the question still open."""
    eligible = [r for r in rows if not r["outcome"] and forecast_date(r) <= date]
    return eligible[-1] if eligible else None


def scoring_table(ws: Workspace, ledger: Ledger) -> Scored:
    """Score every resolved question of ``ws`` from what ``ledger`` recorded."""
    import pandas as pd

    from forecast.ledger import stated_probability

    resolved_in_ledger: dict[str, dt.date] = {}
    for r in ledger.resolutions():
        resolved_in_ledger[r.question] = r.date
    qrows, stated_rows, missing = [], [], []
    unrecorded: list[str] = []  # resolved questions no run forecast in time
    notes: list[str] = []
    for q in ws.questions:
        if q.resolution is None:
            continue
        if q.resolution.outcome == "annulled":
            missing.append(f"{q.id}: annulled, not scored")
            continue
        date = q.resolution.date or resolved_in_ledger.get(q.id)
        if date is None:
            missing.append(
                f"{q.id}: the resolution has no date, so no forecast can be shown to "
                "precede it; add one (forecast resolve --force ... --date YYYY-MM-DD)"
            )
            continue
        y = 1 if q.resolution.outcome == "yes" else 0
        row = last_before(ledger.forecasts(q.id), date)
        if row is not None:
            analysts = {
                s["analyst"]: float(s["probability"])
                for s in ledger.statements(row["run_id"])
                if s["target"] == q.id
            }
            basis = f"{row['kind']} {row['run_id']} ({forecast_date(row)})"
            if row["forecast"] is None:
                missing.append(f"{q.id}: the {basis} recorded the analysts, not a model forecast")
        else:
            analysts = {
                s.analyst: stated_probability(s, ws) for s in ws.statements if s.target == q.id
            }
            basis = "files (no run before resolution)"
            unrecorded.append(q.id)
        pool = pools(list(analysts.values()))
        qrows.append(
            {
                "id": q.id,
                "title": q.title,
                "outcome": q.resolution.outcome,
                "y": y,
                "resolved": date.isoformat(),
                "basis": basis,
                "run_id": row["run_id"] if row is not None else None,
                "forecast": _num(row["forecast"]) if row is not None else math.nan,
                "lo": _num(row["lo"]) if row is not None else math.nan,
                "hi": _num(row["hi"]) if row is not None else math.nan,
                "pooled_prior": _num(row["prior"]) if row is not None else math.nan,
                **pool,
                "analysts": len(analysts),
            }
        )
        stated_rows += [
            {"question": q.id, "analyst": a, "probability": p, "y": y} for a, p in analysts.items()
        ]
    if unrecorded:
        missing.append(
            f"no run was recorded on or before the resolution date with the question open "
            f"for {', '.join(unrecorded)}: the model is not scored on "
            f"{'it' if len(unrecorded) == 1 else 'them'}, and the analysts' priors are "
            "taken from the files as they stand"
        )
    questions = pd.DataFrame(
        qrows,
        columns=[
            "id", "title", "outcome", "y", "resolved", "basis", "run_id", "forecast", "lo",
            "hi", "pooled_prior", "mean", "median", "extremized", "analysts",
        ],
    )  # fmt: skip
    stated = pd.DataFrame(stated_rows, columns=["question", "analyst", "probability", "y"])
    for m in METHODS:
        p, y = questions[m].to_numpy(float), questions["y"].to_numpy(float)
        ok = np.isfinite(p)
        questions[f"brier_{m}"] = np.where(ok, brier(np.where(ok, p, 0.5), y), math.nan)
        questions[f"log_{m}"] = np.where(ok, log_score(np.where(ok, p, 0.5), y), math.nan)
    methods = []
    for m in METHODS:
        ok = np.isfinite(questions[m].to_numpy(float))
        d = decompose(questions[m].to_numpy(float)[ok], questions["y"].to_numpy(float)[ok])
        methods.append(
            {
                "method": m,
                "name": METHOD_NAMES[m],
                "n": d.n,
                "brier": d.brier,
                "log": float(questions.loc[ok, f"log_{m}"].mean()) if d.n else math.nan,
                "mcb": d.mcb,
                "dsc": d.dsc,
                "unc": d.unc,
            }
        )
    analysts_rows = []
    if not stated.empty:
        stated["brier"] = brier(stated["probability"].to_numpy(), stated["y"].to_numpy())
        stated["log"] = log_score(stated["probability"].to_numpy(), stated["y"].to_numpy())
        for name, group in stated.groupby("analyst", sort=True):
            analysts_rows.append(
                {
                    "analyst": name,
                    "n": len(group),
                    "brier": float(group["brier"].mean()),
                    "log": float(group["log"].mean()),
                }
            )
    analysts = pd.DataFrame(analysts_rows, columns=["analyst", "n", "brier", "log"])
    if not analysts.empty:
        # most questions first: a perfect score on one question says little
        analysts = analysts.assign(_n=-analysts["n"])
        analysts = (
            analysts.sort_values(["_n", "brier", "analyst"], kind="stable")
            .drop(columns="_n")
            .reset_index(drop=True)
        )
    if not questions.empty and len(ws.analysts) == 1:
        notes.append("one analyst: the mean, median and analyst columns are the same forecast")
    return Scored(
        questions=questions,
        methods=pd.DataFrame(methods),
        analysts=analysts,
        stated=stated,
        missing=tuple(missing),
        notes=tuple(notes),
    )


def _num(x: Any) -> float:
    return math.nan if x is None else float(x)


# --- the reliability diagram ------------------------------------------------------------


def reliability_diagram(scored: Scored, methods: Sequence[str] = ("forecast", "mean")) -> Figure:
    """CORP reliability diagram: each method's recalibrated forecast against its
    forecast (a step line; on the diagonal when calibrated), the forecasts as
    a rug, the decomposition in the legend."""
    from forecast.report.plots import INK, MUTED, POSTERIOR, PRIOR, _figure, _percent_axis, _style

    colours = {
        "forecast": POSTERIOR,
        "pooled_prior": PRIOR,
        "mean": "#b5651d",
        "median": "#6a4c93",
        "extremized": "#2e8b57",
    }
    fig = _figure(5.6, 5.0)
    ax = fig.add_subplot()
    _style(ax)
    ax.plot([0, 1], [0, 1], color=MUTED, linewidth=1, linestyle=(0, (4, 3)), label="calibrated")
    q = scored.questions
    y = q["y"].to_numpy(float) if not q.empty else np.array([])
    shown = 0
    for i, m in enumerate(methods):
        p = q[m].to_numpy(float) if not q.empty else np.array([])
        ok = np.isfinite(p)
        if not ok.any():
            continue
        shown += 1
        order = np.argsort(p[ok], kind="stable")
        xs, fitted = p[ok][order], recalibrate(p[ok], y[ok])[order]
        d = decompose(p[ok], y[ok])
        label = (
            f"{METHOD_NAMES[m]} (n={d.n})\nBrier {d.brier:.3f} = MCB {d.mcb:.3f} "
            f"- DSC {d.dsc:.3f} + UNC {d.unc:.3f}"
        )
        colour = colours.get(m, INK)
        ax.step(xs, fitted, where="post", color=colour, linewidth=2, label=label)
        ax.plot(xs, fitted, "o", color=colour, markersize=3.5)
        ax.plot(xs, np.full_like(xs, -0.03 - 0.025 * i), "|", color=colour, markersize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.03 - 0.025 * len(methods), 1.02)
    _percent_axis(ax, "x")
    _percent_axis(ax, "y")
    ax.set_xlabel("forecast probability", color=INK)
    ax.set_ylabel("observed frequency (isotonic fit, CORP)", color=INK)
    ax.set_title("Reliability", color=INK, loc="left", fontsize=11)
    if shown:
        ax.legend(loc="upper left", fontsize=7, frameon=False)
    else:
        ax.text(0.5, 0.5, "no resolved question with a forecast", ha="center", color=MUTED)
    return fig
