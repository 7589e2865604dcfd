"""The report as one self-contained HTML page, from ``templates/report.html.j2``.

Inline CSS, figures embedded as base64 PNG, no script and no reference to
any other host (a Content-Security-Policy says so to the browser too). The
template environment escapes every value it prints (autoescaping), so a
summary reading ``<script>...`` shows as text; this module only works out
what to show.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from forecast.report import figures as fig
from forecast.report import track
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

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
TOP_EVIDENCE = 8  # rows of the per-question evidence table
OPEN_UP_TO = 12  # questions whose details show open; past that they start folded


def _escaped(value: Any) -> Any:
    """Every value the template prints: nothing for None and NaN; the rest is
    left to autoescaping (markupsafe escapes quotes too, so text is safe in
    attribute values)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value


@cache
def environment() -> jinja2.Environment:
    """Templates of ``forecast/report/templates``, every printed value escaped."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("forecast.report", "templates"),
        autoescape=True,
        finalize=_escaped,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def css() -> str:
    return resources.files("forecast.report").joinpath("style.css").read_text("utf-8")


def when(iso: str) -> str:
    """An ISO timestamp as '2026-07-12 09:00 UTC' (as given if it does not parse)."""
    try:
        t = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return str(iso)
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC)
    return t.strftime("%Y-%m-%d %H:%M UTC")


def default_prior_note() -> str:
    from forecast.codebook import DEFAULT_PRIOR_SD

    return (
        "No analyst states a prior on this question: the default prior is used "
        f"(log-odds Normal(0, {DEFAULT_PRIOR_SD:g}), centred on 50 %)."
    )


def _figure(figures: Mapping[str, bytes], path: str, alt: str, caption: str = "") -> Any:
    data = figures.get(path)
    if not data:
        return None
    return {"data": base64.b64encode(data).decode("ascii"), "alt": alt, "caption": caption}


def _anchor(qid: str) -> str:
    return "q-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in qid)


def _delta_class(delta: float) -> str:
    if not math.isfinite(delta) or abs(delta) < 0.0005:
        return "muted"
    return "up" if delta > 0 else "down"


def _num(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _strip(prior: float, post: float, lo: float, hi: float) -> dict[str, str]:
    """Positions (in % of the 0-100 % track) of the interval strip's marks."""

    def at(p: float) -> float:
        return 100 * min(max(p, 0.0), 1.0) if math.isfinite(p) else 0.0

    width = max(at(hi) - at(lo), 0.6)
    return {
        "lo": f"{at(lo):.1f}",
        "width": f"{width:.1f}",
        "prior": f"{at(prior):.1f}",
        "post": f"{at(post):.1f}",
    }


def _fmt(x: Any, spec: str) -> str:
    v = _num(x)
    return spec.format(v) if math.isfinite(v) else "—"


# --- what each part of the page shows ----------------------------------------------------


def _forecast_rows(r: Report) -> list[dict[str, Any]]:
    rows = []
    for row in r.forecasts.to_dict("records"):
        prior, post = _num(row["prior"]), _num(row["posterior"])
        lo, hi = _num(row["lo"]), _num(row["hi"])
        delta = _num(row["since_previous"])
        moved = None
        if row.get("moved_by"):
            shift = _num(row.get("moved_by_shift"))
            moved = {
                "summary": shorten(str(row.get("moved_by_summary") or ""), 60),
                "id": row["moved_by"],
                "shift": points(shift) if math.isfinite(shift) else "",
            }
        rows.append(
            {
                "id": str(row["id"]),
                "anchor": _anchor(str(row["id"])),
                "title": row["title"],
                "outcome": str(row.get("outcome") or ""),
                "prior": pct(prior),
                "posterior": pct(post),
                "interval": interval(lo, hi),
                "strip": _strip(prior, post, lo, hi),
                "since": points(delta, none="new") if r.previous_run_id else "—",
                "since_class": _delta_class(delta),
                "moved": moved,
                "flag": str(row.get("flag") or ""),
            }
        )
    return rows


def _evidence(r: Report, qid: str) -> tuple[list[dict[str, Any]], int]:
    df = r.contributions_for(qid)
    rows = []
    for c in df.head(TOP_EVIDENCE).to_dict("records"):
        mean, shift = _num(c.get("mean")), _num(c.get("prob_shift"))
        via = str(c.get("via") or "")
        load = _num(c.get("loading"))
        rows.append(
            {
                "summary": c.get("summary"),
                "ids": c.get("items") or c.get("cluster"),
                "source": c.get("source"),
                "via": r.driver_name(via) if via else "",
                "times": f" ×{load:g}" if via and math.isfinite(load) and load != 1 else "",
                "mean": logodds(mean),
                "mean_class": _delta_class(mean),
                "lo": logodds(_num(c.get("lo"))),
                "hi": logodds(_num(c.get("hi"))),
                "shift": points(shift),
                "shift_class": _delta_class(shift),
                "without": pct(_num(c.get("prob_without"))),
            }
        )
    return rows, len(df) - TOP_EVIDENCE


def _question(r: Report, q: Any, rows: Mapping[str, dict], figures: Mapping[str, bytes]) -> dict:
    evidence, more = _evidence(r, q.id)
    res = q.resolution
    history = r.track.history_of(q.id) if r.track is not None else None
    return {
        "id": q.id,
        "anchor": _anchor(q.id),
        "title": q.title,
        "outcome": res.outcome if res else "",
        "close_date": q.close_date.isoformat() if q.close_date else "",
        "drivers": [r.drivers.get(d, d) for d in q.drivers],
        "criteria": q.resolution_criteria,
        "resolution": res
        and {
            "outcome": res.outcome,
            "date": res.date.isoformat() if res.date else "",
            "note": res.note,
        },
        "row": rows.get(q.id),
        "default_prior": q.id in r.default_prior,
        "prior_figure": _figure(
            figures,
            fig.prior_path(q.id),
            f"Prior and forecast probability of: {q.title}",
            "Belief before (prior, dashed) and after the evidence (forecast); "
            "shaded: 90 % intervals.",
        ),
        "waterfall_figure": _figure(
            figures,
            fig.waterfall_path(q.id),
            f"Evidence waterfall for: {q.title}",
            "Each evidence cluster's push on the log-odds, largest first, from the team's prior "
            "to the forecast; whiskers are 90 % intervals; top axis in probabilities.",
        ),
        "timeline_figure": _figure(
            figures,
            track.timeline_path(q.id),
            f"Forecast run by run for: {q.title}",
            f"The forecast of each recorded run ({_runs(history)}) with its 90 % interval "
            "(shaded), the pooled prior dashed, evidence dates marked along the bottom "
            "(▲ for, ▼ against) and the resolution as a dotted line; "
            f"forecast history {q.id} lists what changed between runs.",
        ),
        "evidence": evidence,
        "more": more,
    }


def _runs(history: Any) -> str:
    n = len(history.steps) if history is not None else 0
    return f"{n} run{'s' * (n != 1)}"


def _track(r: Report, figures: Mapping[str, bytes]) -> dict[str, Any] | None:
    """The track record section (:func:`forecast.report.track.section`), with links."""
    view = track.section(r.track, r.track_problems)
    for q in (view or {}).get("questions", ()):
        q["anchor"] = _anchor(q["id"])
    if view and view.get("questions"):
        view["figure"] = _figure(
            figures,
            track.RELIABILITY,
            "Reliability diagram of the model forecast and the analysts' mean",
            "Reliability (CORP): the isotonic fit of the outcomes on each forecast; on the "
            "dashed diagonal when calibrated. Ticks below the axis are the forecasts. With few "
            "resolved questions read it as a record, not a verdict.",
        )
    return view


def _joints(r: Report, figures: Mapping[str, bytes]) -> list[dict[str, Any]]:
    out = []
    for j in r.joints:
        x = j.joint
        out.append(
            {
                "a": shorten(j.a.title, 60),
                "b": shorten(j.b.title, 60),
                "driver": j.driver,
                "figure": _figure(
                    figures,
                    fig.joint_path(j.a.id, j.b.id),
                    f"Joint forecast of {j.a.title} and {j.b.title}",
                ),
                "rows": [
                    (f"P(A) — {j.a.title}", pct(x.p_a)),
                    (f"P(B) — {j.b.title}", pct(x.p_b)),
                    ("P(A and B)", pct(x.p_ab)),
                    ("P(A and B) if they were independent", pct(x.independent)),
                    ("P(A | B)", pct(x.p_a_given_b)),
                    ("P(B | A)", pct(x.p_b_given_a)),
                ],
            }
        )
    return out


def _trace(r: Report) -> str:
    """The run's trace, as a path from the workspace folder ('' when there is none)."""
    from forecast.runs import RUNS

    if r.trace_path is None:
        return ""
    return (RUNS / r.trace_path.parent.name / r.trace_path.name).as_posix()


def _footer(r: Report) -> list[tuple[str, Any, bool]]:
    """(term, value, shown as code) for the run's facts; empty values left out."""
    m = r.manifest
    rows = [
        ("Run", r.run_id, True),
        ("Created", when(r.created), False),
        ("Seed", m.get("seed", ""), False),
        ("Settings", ", ".join(f"{k}={v}" for k, v in (m.get("settings") or {}).items()), False),
        ("Versions", ", ".join(f"{k} {v}" for k, v in (m.get("versions") or {}).items()), False),
        ("Input hash", m.get("input_hash", ""), True),
        ("Input files", len(m.get("files") or {}), False),
    ]
    if r.previous_run_id:
        rows.append(("Previous run", r.previous_run_id, True))
    return [(term, value, code) for term, value, code in rows if code or str(value)]


def render_html(report: Report, figures: Mapping[str, bytes] | None = None) -> str:
    """The whole page as a string; ``figures`` from :func:`forecast.report.figures.render`."""
    r, figures = report, figures or {}
    forecasts = _forecast_rows(r)
    by_id = {row["id"]: row for row in forecasts}
    d = r.diagnostics
    divergences = (
        f" Divergences: {'' if d.get('divergences') is None else d['divergences']}."
        if "divergences" in d
        else ""
    )
    plotted = fig.plotted_questions(r) if r.idata is not None else []
    view = {
        "open": len(r.questions) <= OPEN_UP_TO,
        "overview_figure": _figure(
            figures,
            fig.OVERVIEW,
            "Every question's prior and forecast with its 90 % interval",
            "Every question, highest forecast on top: dot the forecast, bar its 90 % interval, "
            "ring the team's prior.",
        ),
        "plots_note": (
            f"Plots are drawn for the {len(plotted)} questions that moved most; "
            f"the chart above the forecast table shows every question."
            if len(plotted) < len(r.questions) and r.idata is not None
            else ""
        ),
        "trace": _trace(r),
        "nav": [{"anchor": _anchor(q.id), "text": shorten(q.title, 28)} for q in r.questions[:6]],
        "forecasts": forecasts,
        "questions": [_question(r, q, by_id, figures) for q in r.questions],
        "joints": _joints(r, figures),
        "track": _track(r, figures),
        "diagnostics": [
            {
                "id": row["id"],
                "title": shorten(str(row["title"]), 80),
                "rhat": _fmt(row.get("rhat"), "{:.3f}"),
                "ess_bulk": _fmt(row.get("ess_bulk"), "{:.0f}"),
                "ess_tail": _fmt(row.get("ess_tail"), "{:.0f}"),
                "flag": str(row.get("flag") or ""),
            }
            for row in r.forecasts.to_dict("records")
        ],
        "rank_figure": _figure(
            figures,
            fig.DIAGNOSTICS,
            "Rank plots of each question's probability, by chain",
            "Rank plots: each chain's draws should spread evenly over the ranks (bars near "
            "the dashed line). A chain piling up at one end has not mixed." + divergences,
        ),
        "footer": _footer(r),
    }
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            r=r,
            view=view,
            csp=Markup(CSP),
            css=Markup(css()),  # the package's own style sheet, not user text
            title=f"Forecast report — {r.workspace} — {r.run_id}",
            created=when(r.created),
            default_prior_note=default_prior_note(),
            rhat_max=RHAT_MAX,
            ess_min=ESS_MIN,
        )
    )
