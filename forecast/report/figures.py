"""Every figure of a report, rendered once as PNG and named by its file path.

The HTML page embeds the bytes, the Markdown page links the files; both look
them up by the same relative path (``plots/prior-<question>.png`` ...).

A report of many questions stays light: past :data:`PLOT_ALL` questions,
the per-question plots are drawn for the :data:`PLOTTED` questions that
moved most (since the previous run, else from their prior) and one overview
chart shows every forecast. Figures are cached as PNG files named by the
content hash of what they are drawn from (the draws, the titles, the plotting
code), so a figure whose inputs did not change is never drawn twice; many
figures are drawn in parallel, by forked worker processes.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from forecast.io import atomic_write_bytes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from forecast.report.tables import Report

DIAGNOSTICS = "plots/diagnostics.png"
OVERVIEW = "plots/forecasts.png"
DPI = 120  # the page shows figures at their pixel size: 8.4 in wide fills its column
PLOT_ALL = 12  # up to this many questions, every question gets its plots
PLOTTED = 8  # past it, the questions that moved most get them
PARALLEL_FROM = 12  # figures to draw before worker processes pay for themselves
WORKERS = 4  # at most, and never more than the machine's cores


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "x"


def prior_path(qid: str) -> str:
    return f"plots/prior-{_slug(qid)}.png"


def waterfall_path(qid: str) -> str:
    return f"plots/waterfall-{_slug(qid)}.png"


def joint_path(a: str, b: str) -> str:
    return f"plots/joint-{_slug(a)}--{_slug(b)}.png"


@dataclass(frozen=True)
class Spec:
    """One figure to draw: its file path, its kind and what it is of."""

    path: str
    kind: str  # "prior", "waterfall", "joint", "diagnostics", "overview", "timeline", "reliability"
    of: tuple[str, ...] = ()  # question ids


def plotted_questions(report: Report) -> list[str]:
    """Ids of the questions that get their own plots, in file order.

    Every question when there are at most :data:`PLOT_ALL`; else the
    :data:`PLOTTED` that moved most since the previous run (or, for a first
    run, from their prior to their forecast).
    """
    ids = [q.id for q in report.questions]
    if report.idata is None:
        return []
    known = set(report.idata.posterior["prob"].coords["question"].values)
    ids = [q for q in ids if q in known]
    if len(ids) <= PLOT_ALL:
        return ids
    rows = report.forecasts.set_index("id")
    column = "since_previous" if report.previous_run_id else "change_from_prior"

    def moved(qid: str) -> float:
        v = float(rows.loc[qid, column]) if qid in rows.index else math.nan
        if not math.isfinite(v) and column == "since_previous":  # new since that run
            v = float(rows.loc[qid, "change_from_prior"]) if qid in rows.index else math.nan
        return abs(v) if math.isfinite(v) else 0.0

    top = set(sorted(ids, key=moved, reverse=True)[:PLOTTED])
    return [q for q in ids if q in top]


def _track_specs(report: Report) -> list[Spec]:
    """The track record's figures: the reliability diagram once anything resolved,
    and the timeline of each question with recorded runs (past :data:`PLOT_ALL`
    questions, of the questions that get plots)."""
    from forecast.report.track import RELIABILITY, timeline_path

    track = report.track
    if track is None:
        return []
    out = [Spec(RELIABILITY, "reliability")] if track.resolved else []
    ids = {q.id for q in report.questions}
    if len(ids) > PLOT_ALL and report.idata is not None:
        ids = set(plotted_questions(report))
    out += [
        Spec(timeline_path(h.question), "timeline", (h.question,))
        for h in track.histories
        if h.steps and h.question in ids
    ]
    return out


def specs(report: Report) -> list[Spec]:
    """Every figure the report shows, in page order (only the track record's
    without a trace)."""
    if report.idata is None:
        return _track_specs(report)
    out = _track_specs(report)
    if len(report.questions) > PLOT_ALL:
        out.append(Spec(OVERVIEW, "overview"))
    for qid in plotted_questions(report):
        out.append(Spec(prior_path(qid), "prior", (qid,)))
        if not report.contributions_for(qid).empty:  # else a waterfall only repeats the prior
            out.append(Spec(waterfall_path(qid), "waterfall", (qid,)))
    for j in report.joints:
        out.append(Spec(joint_path(j.a.id, j.b.id), "joint", (j.a.id, j.b.id)))
    if report.idata.posterior.sizes.get("chain", 1) > 1:  # rank plots compare chains
        out.append(Spec(DIAGNOSTICS, "diagnostics"))
    return out


# --- drawing ------------------------------------------------------------------------------
def draw(report: Report, spec: Spec) -> Figure:
    """The matplotlib figure of ``spec``."""
    from forecast.report import plots

    idata = report.idata
    if spec.kind == "prior":
        return plots.prior_posterior(idata, report.question(spec.of[0]))
    if spec.kind == "waterfall":
        short = {d: report.driver_name(d) for d in report.drivers}
        q = report.question(spec.of[0])
        return plots.waterfall(idata, report.contributions, q, drivers=short)
    if spec.kind == "joint":
        j = next(j for j in report.joints if (j.a.id, j.b.id) == spec.of)
        return plots.joint(idata, j.a, j.b, j.joint, driver=j.driver)
    if spec.kind == "diagnostics":
        return plots.diagnostics(idata, report.questions, rhat=_rhat(report))
    if spec.kind == "overview":
        return plots.overview(report.forecasts)
    if spec.kind == "timeline":
        from forecast.history import timeline

        return timeline(report.track.history_of(spec.of[0]))
    if spec.kind == "reliability":
        from forecast.scoring import reliability_diagram

        return reliability_diagram(report.track.scored)
    raise ValueError(f"unknown figure kind {spec.kind!r}")


def _rhat(report: Report) -> dict[str, float]:
    return {str(r["id"]): float(r["rhat"]) for r in report.forecasts.to_dict("records")}


@functools.cache
def _code_digest() -> bytes:
    """The plotting code itself: a change to it redraws every figure."""
    here = Path(__file__).parent
    h = hashlib.sha256()
    for name in ("plots.py", "figures.py", "track.py"):
        h.update((here / name).read_bytes())
    return h.digest()


DRAWN_FROM = ("prob", "prob_prior", "theta", "theta_prior")  # a question's draws in its plots


def question_draws(report: Report) -> dict[str, bytes]:
    """Each question's draws of :data:`DRAWN_FROM`, as bytes to hash."""
    post = report.idata.posterior
    qs = [str(q) for q in post["prob"].coords["question"].values]
    parts: dict[str, list[bytes]] = {q: [] for q in qs}
    for var in DRAWN_FROM:
        if var not in post:
            continue
        x = np.asarray(post[var].transpose(..., "question").values, dtype=np.float64)
        x = x.reshape(-1, len(qs))
        for i, q in enumerate(qs):
            parts[q].append(np.ascontiguousarray(x[:, i]).tobytes())
    return {q: b"".join(p) for q, p in parts.items()}


def key(report: Report, spec: Spec, dpi: int = DPI, draws: dict[str, bytes] | None = None) -> str:
    """Content hash of everything ``spec``'s figure is drawn from.

    ``draws`` is :func:`question_draws` of the report (worked out when not given).
    """
    h = hashlib.sha256(_code_digest())
    h.update(repr((spec, dpi)).encode())
    if spec.kind == "timeline":  # drawn from the ledger's history alone
        h.update(_fingerprint(report.track.history_of(spec.of[0])))
        return h.hexdigest()
    if spec.kind == "reliability":
        h.update(_fingerprint(report.track.scored))
        return h.hexdigest()
    draws = question_draws(report) if draws is None else draws
    questions = spec.of or tuple(q.id for q in report.questions)
    for qid in questions:
        q = report.question(qid)
        h.update(repr((q.id, q.title, q.resolution)).encode())
        h.update(draws.get(qid, b""))
    if spec.kind == "waterfall":
        rows = report.contributions_for(spec.of[0])
        h.update(rows.to_csv(index=False).encode())
        h.update(repr(sorted((d, report.driver_name(d)) for d in report.drivers)).encode())
    if spec.kind == "joint":
        j = next(j for j in report.joints if (j.a.id, j.b.id) == spec.of)
        h.update(repr((j.driver, j.joint)).encode())
    if spec.kind in ("overview", "diagnostics"):
        h.update(report.forecasts.to_csv(index=False).encode())
    return h.hexdigest()


def _fingerprint(value: Any) -> bytes:
    """Bytes that change whenever ``value`` does (frames whole, not their cut repr)."""
    import dataclasses

    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return value.to_csv().encode()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return b"|".join(_fingerprint(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, list | tuple):
        return b"[" + b",".join(_fingerprint(v) for v in value) + b"]"
    return repr(value).encode()


_FORKED: Report | None = None  # the report a forked worker draws from (inherited, not pickled)


def _draw_many(todo: Sequence[tuple[Spec, int]]) -> list[bytes]:
    from forecast.report import plots

    report = _FORKED
    assert report is not None
    return [plots.png(draw(report, spec), dpi) for spec, dpi in todo]


def _chunks(items: Sequence[Any], n: int) -> list[Sequence[Any]]:
    return [items[i::n] for i in range(n)]


def _draw_all(report: Report, todo: list[Spec], dpi: int, workers: int | None) -> list[bytes]:
    """PNG bytes of ``todo``, in order: in worker processes when there are many."""
    global _FORKED
    from forecast.report import plots

    if workers is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        workers = min(WORKERS, cores) if len(todo) >= PARALLEL_FROM else 1
    workers = max(1, min(workers, len(todo)))
    if workers == 1 or not hasattr(os, "fork"):
        return [plots.png(draw(report, spec), dpi) for spec in todo]
    import multiprocessing

    parts = _chunks([(s, dpi) for s in todo], workers)
    _FORKED = report
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            drawn = pool.map(_draw_many, parts)
    finally:
        _FORKED = None
    out: dict[str, bytes] = {}
    for part, pngs in zip(parts, drawn, strict=True):
        out.update({s.path: png for (s, _), png in zip(part, pngs, strict=True)})
    return [out[s.path] for s in todo]


def render(
    report: Report,
    dpi: int = DPI,
    *,
    cache: Path | None = None,
    also: Iterable[Path] = (),
    workers: int | None = None,
) -> dict[str, bytes]:
    """PNG bytes of every figure the report shows, keyed by relative path.

    ``cache`` is a folder of earlier figures named by content hash (a run's
    ``figures/``): a figure found there, or in one of the ``also`` folders,
    is read instead of drawn, and every figure drawn is stored there.
    ``workers`` processes draw (default: up to :data:`WORKERS` when there
    are many figures). Only the track record's figures when the report
    carries no trace (``report.idata`` is None).
    """
    wanted = specs(report)
    keys = {}
    if cache is not None and wanted:
        draws = question_draws(report) if report.idata is not None else {}
        keys = {s.path: key(report, s, dpi, draws) for s in wanted}
    out: dict[str, bytes] = {}
    todo = []
    for s in wanted:
        found = _cached(keys.get(s.path), [cache, *also] if cache is not None else [])
        if found is not None:
            out[s.path] = found
        else:
            todo.append(s)
    for s, png in zip(todo, _draw_all(report, todo, dpi, workers), strict=True):
        out[s.path] = png
        if cache is not None:
            with contextlib.suppress(OSError):  # a cache that cannot be written is no cache
                cache.mkdir(parents=True, exist_ok=True)
                atomic_write_bytes(cache / f"{keys[s.path]}.png", png)
    return {s.path: out[s.path] for s in wanted}


def _cached(digest: str | None, folders: Sequence[Path | None]) -> bytes | None:
    if digest is None:
        return None
    for folder in folders:
        if folder is None:
            continue
        with contextlib.suppress(OSError):
            data = (folder / f"{digest}.png").read_bytes()
            if data.startswith(b"\x89PNG\r\n\x1a\n"):
                return data
    return None
