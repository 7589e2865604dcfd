"""Report objects: what a run says, as tidy frames and text, ready to show.

A :class:`Report` gathers everything the terminal, HTML and Markdown views
need from one run: the forecast table (with the change since the previous
run, the evidence that moved each question most and a diagnostics flag),
the contributions, the joint forecasts of questions that share a driver, and
the manifest essentials. Nothing here prints or writes files; the CLI and
:mod:`forecast.report.write` decide how to show it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecast.inference import ESS_MIN, RHAT_MAX
from forecast.report.summary import (  # noqa: F401 - the views import them from here too
    RunFacts,
    _num,
    interval,
    logodds,
    pct,
    points,
    report_json,
    short_title,
    shorten,
)

if TYPE_CHECKING:
    import arviz as az
    import pandas as pd

    from forecast.posterior import Joint
    from forecast.report.track import TrackRecord
    from forecast.runs import Run
    from forecast.workspace import Question, Workspace

MAX_JOINTS = 4  # joint plots in one report: the most tied pairs sharing a driver

FORECAST_COLUMNS = [
    "id", "title", "prior", "posterior", "lo", "hi", "change_from_prior", "rhat", "ess_bulk",
    "ess_tail", "outcome", "previous", "since_previous", "moved_by", "moved_by_summary",
    "moved_by_shift", "flag",
]  # fmt: skip


# --- the report -------------------------------------------------------------
@dataclass(frozen=True)
class JointView:
    """A joint forecast of two questions that load on the same driver."""

    a: Question
    b: Question
    driver: str  # the driver's title
    joint: Joint


@dataclass(frozen=True)
class Report(RunFacts):
    workspace: str  # the workspace folder's name
    run_id: str
    created: str  # ISO UTC, from the run's manifest
    manifest: Mapping[str, Any]
    questions: tuple[Question, ...]
    forecasts: pd.DataFrame  # FORECAST_COLUMNS, one row per question
    contributions: pd.DataFrame  # forecast.posterior.contributions
    joints: tuple[JointView, ...] = ()
    previous_run_id: str | None = None
    drivers: Mapping[str, str] = field(default_factory=dict)  # driver id -> title
    idata: az.InferenceData | None = field(default=None, repr=False, compare=False)
    trace_path: Path | None = None  # the run's stored trace.nc (reports point at it)
    warnings: tuple[str, ...] = ()  # the workspace's warnings, as "path:line: message"
    default_prior: tuple[str, ...] = ()  # questions no analyst states a prior on
    track: TrackRecord | None = field(default=None, repr=False, compare=False)
    track_problems: tuple[str, ...] = ()  # why the ledger could not be read or written

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(qid)

    def driver_name(self, did: str) -> str:
        """A driver's title without its parenthetical gloss, for tight spots."""
        return short_title(self.drivers.get(did, did))

    def forecast_rows(self) -> list[dict[str, Any]]:
        """The forecast table's rows (:data:`FORECAST_COLUMNS`), in question order."""
        return self.forecasts.to_dict("records")

    def contributions_for(self, qid: str) -> pd.DataFrame:
        """The question's contributions, most influential first."""
        df = self.contributions
        if df.empty:
            return df
        sub = df[df["question"] == qid].copy()
        key = sub["prob_shift"].abs() if "prob_shift" in sub else sub["mean"].abs()
        return sub.assign(_k=key.fillna(0)).sort_values("_k", ascending=False).drop(columns="_k")


def question_flag(row: Mapping[str, Any], run_ok: bool = True) -> str:
    """'' when the question's draws pass R-hat/ESS; else what failed, in a few words."""
    issues = []
    rhat = _num(row.get("rhat"))
    if math.isfinite(rhat) and rhat > RHAT_MAX:
        issues.append(f"R-hat {rhat:.2f}")
    ess = min(_num(row.get("ess_bulk")), _num(row.get("ess_tail")))
    if math.isfinite(ess) and ess < ESS_MIN:
        issues.append(f"ESS {ess:.0f}")
    if not issues and not run_ok:
        issues.append("run failed checks")
    return ", ".join(issues)


def enrich_forecasts(
    forecasts: pd.DataFrame,
    contributions: pd.DataFrame,
    previous_manifest: Mapping[str, Any] | None = None,
    run_ok: bool = True,
) -> pd.DataFrame:
    """Add the change since the previous run, the top evidence and the flag.

    ``forecasts`` is :func:`forecast.posterior.forecast_table`;
    ``previous_manifest`` the manifest of the run before (its ``forecasts``
    list gives the earlier posterior of each question, by id).
    """
    import pandas as pd

    df = forecasts.copy()
    before: dict[str, float] = {}
    for f in (previous_manifest or {}).get("forecasts", []) or []:
        if isinstance(f, Mapping) and "id" in f:
            before[str(f["id"])] = _num(f.get("posterior"))
    df["previous"] = [before.get(str(q), math.nan) for q in df["id"]]
    df["since_previous"] = df["posterior"].astype(float) - df["previous"].astype(float)

    moved_by, moved_summary, moved_shift = [], [], []
    for qid in df["id"]:
        sub = contributions[contributions["question"] == qid] if len(contributions) else None
        if sub is None or sub.empty:
            moved_by.append("")
            moved_summary.append("")
            moved_shift.append(math.nan)
            continue
        key = sub["prob_shift"] if "prob_shift" in sub else sub["mean"]
        top = sub.loc[key.abs().fillna(-1).idxmax()]
        moved_by.append(str(top.get("items") or top.get("cluster") or ""))
        moved_summary.append(str(top.get("summary") or ""))
        moved_shift.append(_num(top.get("prob_shift")))
    df["moved_by"] = moved_by
    df["moved_by_summary"] = moved_summary
    df["moved_by_shift"] = moved_shift
    df["flag"] = [question_flag(r, run_ok) for r in df.to_dict("records")]
    for col in FORECAST_COLUMNS:
        if col not in df:
            df[col] = "" if col in ("title", "outcome") else math.nan
    return pd.DataFrame(df[FORECAST_COLUMNS]).reset_index(drop=True)


def shared_driver_pairs(
    questions: Sequence[Question], driver_titles: Mapping[str, str] | None = None
) -> list[tuple[Question, Question, str]]:
    """Pairs of questions loading on a common driver: ``(a, b, driver title)``.

    Each pair once, under the shared driver with the largest product of
    loadings (the one that ties them most), in file order.
    """
    titles = driver_titles or {}
    pairs = []
    for i, a in enumerate(questions):
        for b in questions[i + 1 :]:
            shared = [d for d in a.drivers if d in b.drivers and a.drivers[d] and b.drivers[d]]
            if shared:
                d = max(shared, key=lambda d: abs(a.drivers[d] * b.drivers[d]))
                pairs.append((a, b, short_title(titles.get(d, d))))
    return pairs


def strongest_pairs(
    idata: az.InferenceData,
    pairs: Sequence[tuple[Question, Question, str]],
    limit: int = MAX_JOINTS,
) -> list[tuple[Question, Question, str]]:
    """The ``limit`` pairs whose probabilities co-vary most across draws.

    With many questions on few drivers every pair shares one; the pairs worth
    a plot are those where knowing one outcome says most about the other.
    """
    import numpy as np

    prob = idata.posterior["prob"]
    qs = [str(q) for q in prob.coords["question"].values]
    flat = np.asarray(prob.values).reshape(-1, len(qs))

    def strength(pair: tuple[Question, Question, str]) -> float:
        a, b = flat[:, qs.index(pair[0].id)], flat[:, qs.index(pair[1].id)]
        if a.std() == 0 or b.std() == 0:
            return 0.0
        return abs(float(np.corrcoef(a, b)[0, 1]))

    known = [p for p in pairs if p[0].id in qs and p[1].id in qs]
    ranked = sorted(known, key=strength, reverse=True)[:limit]
    return sorted(ranked, key=known.index)  # back in file order


def assemble_report(
    *,
    workspace: str,
    manifest: Mapping[str, Any],
    questions: Sequence[Question],
    forecasts: pd.DataFrame,
    contributions: pd.DataFrame,
    joints: Sequence[JointView] = (),
    previous_manifest: Mapping[str, Any] | None = None,
    drivers: Mapping[str, str] | None = None,
    idata: az.InferenceData | None = None,
    trace_path: Path | None = None,
    warnings: Sequence[str] = (),
    default_prior: Sequence[str] = (),
    track: TrackRecord | None = None,
    track_problems: Sequence[str] = (),
) -> Report:
    """A :class:`Report` from frames already computed (what tests and notebooks use)."""
    diag = manifest.get("diagnostics", {}) or {}
    run_ok = bool(diag.get("ok", not diag.get("problems")))
    return Report(
        workspace=workspace,
        run_id=str(manifest.get("run_id", "")),
        created=str(manifest.get("created", "")),
        manifest=dict(manifest),
        questions=tuple(questions),
        forecasts=enrich_forecasts(forecasts, contributions, previous_manifest, run_ok),
        contributions=contributions.reset_index(drop=True),
        joints=tuple(joints),
        previous_run_id=(str(previous_manifest["run_id"]) if previous_manifest else None),
        drivers=dict(drivers or {}),
        idata=idata,
        trace_path=trace_path,
        warnings=tuple(warnings),
        default_prior=tuple(default_prior),
        track=track,
        track_problems=tuple(track_problems),
    )


def build_report(
    ws: Workspace, run: Run, previous: Run | None = None, *, track: bool = False
) -> Report:
    """Everything a report shows about ``run`` of ``ws``.

    ``previous`` is the run to compare with (``forecast.runs.previous_run``).
    With ``track`` the report carries the workspace's track record, read from
    its ledger (read-only); a ledger that cannot be read leaves it out, and
    ``track_problems`` says why.
    """
    from forecast import posterior

    idata = run.trace
    forecasts = posterior.forecast_table(idata, ws)
    contribs = posterior.contributions(idata, ws)
    drivers = {d.id: d.title for d in ws.drivers}
    pairs = strongest_pairs(idata, shared_driver_pairs(ws.questions, drivers))
    joints = [JointView(a, b, driver, posterior.joint(idata, a.id, b.id)) for a, b, driver in pairs]
    trace = run.path / "trace.nc"
    stated = {s.target for s in ws.statements}
    record, problems = None, []
    if track:
        from forecast.report.track import read_track_record

        record, unread = read_track_record(ws)
        unrecorded = getattr(run, "ledger_note", "")
        if unrecorded and unread and unread in unrecorded:  # one cause: say it once
            problems.append(f"this run is not recorded, and no track record is shown: {unread}")
        else:
            if unrecorded:
                problems.append(f"this run is {unrecorded}")
            if unread:
                problems.append(f"the track record cannot be read: {unread}")
    return assemble_report(
        workspace=ws.root.resolve().name,
        manifest=run.manifest,
        questions=ws.questions,
        forecasts=forecasts,
        contributions=contribs,
        joints=joints,
        previous_manifest=previous.manifest if previous is not None else None,
        drivers=drivers,
        idata=idata,
        trace_path=trace if trace.exists() else None,
        warnings=[str(p) for p in ws.warnings],
        default_prior=[q.id for q in ws.questions if q.id not in stated],
        track=record,
        track_problems=problems,
    )
