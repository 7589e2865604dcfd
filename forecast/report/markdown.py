"""The report as Markdown, from ``templates/report.md.j2``, linking the PNG
files written beside it.

The template environment escapes every value it prints so that user text
reads as text in any renderer: HTML characters become entities and
Markdown's own punctuation is backslashed (:func:`md`). Numbers formatted
here and code spans are marked as already safe.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import jinja2
from markupsafe import Markup

from forecast.report import figures as fig
from forecast.report import track
from forecast.report.html import default_prior_note, when
from forecast.report.tables import (
    ESS_MIN,
    RHAT_MAX,
    Report,
    interval,
    logodds,
    pct,
    points,
    shorten,
)

TOP_EVIDENCE = 8
_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")  # the rest is only special where md() never puts text


def md(value: Any) -> str:
    """User text as literal Markdown on one line (also safe inside a table cell)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", text)


def _escaped(value: Any) -> Markup:
    """Every value the template prints, as literal Markdown unless marked safe."""
    return value if isinstance(value, Markup) else Markup(md(value))


def _code(value: Any) -> Markup:
    """A code span (ids, run ids, commands: never user prose)."""
    return Markup(f"`{value}`")


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("forecast.report", "templates"),
        autoescape=True,  # with _escaped as the escaping: template text is never touched
        finalize=_escaped,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["code"] = _code
    env.filters["raw"] = Markup
    return env


def _num(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _n(text: str) -> Markup:
    """A number formatted here ('<1%', '+0.45'): shown as it is."""
    return Markup(text)


def _figure(figures: Mapping[str, bytes], path: str, alt: str) -> dict | None:
    return {"path": path, "alt": alt} if path in figures else None


def _fmt(x: Any, spec: str) -> Markup:
    v = _num(x)
    return _n(spec.format(v) if math.isfinite(v) else "—")


def _track(r: Report, figures: Mapping[str, bytes]) -> dict[str, Any] | None:
    """The track record section (:func:`forecast.report.track.section`)."""
    view = track.section(r.track, r.track_problems)
    if view and view.get("questions"):
        view["figure"] = _figure(figures, track.RELIABILITY, "Reliability diagram")
    return view


def render_markdown(report: Report, figures: Mapping[str, bytes] | None = None) -> str:
    """The whole report as Markdown; image links point at ``figures``' paths."""
    r, figures = report, figures or {}
    rows = {}
    forecasts = []
    for row in r.forecasts.to_dict("records"):
        shift = _num(row.get("moved_by_shift"))
        view = {
            "title": row["title"],
            "outcome": str(row.get("outcome") or ""),
            "prior": _n(pct(_num(row["prior"]))),
            "posterior": _n(pct(_num(row["posterior"]))),
            "interval": _n(interval(_num(row["lo"]), _num(row["hi"]))),
            "since": _n(
                points(_num(row["since_previous"]), none="new") if r.previous_run_id else "—"
            ),
            "moved": row.get("moved_by")
            and {
                "summary": shorten(str(row.get("moved_by_summary") or ""), 60),
                "id": row["moved_by"],
                "shift": _n(points(shift)) if math.isfinite(shift) else "",
            },
            "flag": row.get("flag") or "",
        }
        rows[row["id"]] = view
        forecasts.append(view)
    questions = []
    for q in r.questions:
        evidence = [
            {
                "summary": c.get("summary"),
                "ids": c.get("items") or c.get("cluster"),
                "source": c.get("source"),
                "via": r.driver_name(str(c.get("via"))) if c.get("via") else "",
                "loading": _n(f"{_num(c.get('loading')):g}"),
                "mean": _n(logodds(_num(c.get("mean")))),
                "lo": _n(logodds(_num(c.get("lo")))),
                "hi": _n(logodds(_num(c.get("hi")))),
                "shift": _n(points(_num(c.get("prob_shift")))),
                "without": _n(pct(_num(c.get("prob_without")))),
            }
            for c in r.contributions_for(q.id).head(TOP_EVIDENCE).to_dict("records")
        ]
        questions.append(
            {
                "id": q.id,
                "title": q.title,
                "close_date": q.close_date.isoformat() if q.close_date else "",
                "drivers": [r.drivers.get(d, d) for d in q.drivers],
                "outcome": q.resolution.outcome if q.resolution is not None else "",
                "criteria": q.resolution_criteria,
                "default_prior": q.id in r.default_prior,
                "row": rows.get(q.id),
                "prior_figure": _figure(
                    figures, fig.prior_path(q.id), f"Prior and forecast: {q.title}"
                ),
                "waterfall_figure": _figure(
                    figures, fig.waterfall_path(q.id), f"Evidence waterfall: {q.title}"
                ),
                "timeline_figure": _figure(
                    figures, track.timeline_path(q.id), f"Forecast run by run: {q.title}"
                ),
                "evidence": evidence,
            }
        )
    joints = [
        {
            "a": shorten(j.a.title, 60),
            "b": shorten(j.b.title, 60),
            "driver": j.driver,
            "figure": _figure(
                figures, fig.joint_path(j.a.id, j.b.id), f"Joint: {j.a.title} and {j.b.title}"
            ),
            "p_ab": _n(pct(j.joint.p_ab)),
            "independent": _n(pct(j.joint.independent)),
            "p_a_given_b": _n(pct(j.joint.p_a_given_b)),
            "p_b_given_a": _n(pct(j.joint.p_b_given_a)),
        }
        for j in r.joints
    ]
    diagnostics = [
        {
            "title": shorten(str(row["title"]), 70),
            "rhat": _fmt(row["rhat"], "{:.3f}"),
            "ess_bulk": _fmt(row["ess_bulk"], "{:.0f}"),
            "ess_tail": _fmt(row["ess_tail"], "{:.0f}"),
            "flag": row.get("flag") or "",
        }
        for row in r.forecasts.to_dict("records")
    ]
    m = r.manifest
    view = {
        "forecasts": forecasts,
        "questions": questions,
        "joints": joints,
        "diagnostics": diagnostics,
        "rank_figure": _figure(figures, fig.DIAGNOSTICS, "Rank plots by chain"),
        "overview_figure": _figure(figures, fig.OVERVIEW, "Every question's forecast"),
        "track": _track(r, figures),
    }
    return (
        environment()
        .get_template("report.md.j2")
        .render(
            r=r,
            view=view,
            created=when(r.created),
            default_prior_note=default_prior_note(),
            rhat_max=RHAT_MAX,
            ess_min=ESS_MIN,
            seed=m.get("seed", ""),
            input_hash=str(m.get("input_hash", ""))[:16],
            versions=list((m.get("versions") or {}).items()),
        )
    )
