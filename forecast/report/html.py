"""The report as one self-contained HTML page.

Inline CSS, figures embedded as base64 PNG, no script and no reference to
any other host (a Content-Security-Policy says so to the browser too), and
every piece of user text passed through :func:`html.escape`: the page opens
offline, and a summary reading ``<script>...`` shows as text.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import math
from collections.abc import Mapping
from importlib import resources
from typing import Any

from forecast.report import figures as fig
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


def esc(value: Any) -> str:
    """User text, escaped for HTML text and attribute values."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


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


def _img(figures: Mapping[str, bytes], path: str, alt: str, caption: str = "") -> str:
    data = figures.get(path)
    if not data:
        return ""
    b64 = base64.b64encode(data).decode("ascii")
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f'<figure><img src="data:image/png;base64,{b64}" alt="{esc(alt)}">{cap}</figure>'


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


def _strip(prior: float, post: float, lo: float, hi: float) -> str:
    def at(p: float) -> float:
        return 100 * min(max(p, 0.0), 1.0) if math.isfinite(p) else 0.0

    width = max(at(hi) - at(lo), 0.6)
    return (
        '<div class="range" aria-hidden="true">'
        f'<span class="iv" style="left:{at(lo):.1f}%;width:{width:.1f}%"></span>'
        f'<span class="pr" style="left:{at(prior):.1f}%"></span>'
        f'<span class="po" style="left:{at(post):.1f}%"></span></div>'
    )


def _outcome_badge(outcome: str) -> str:
    if outcome in ("yes", "no"):
        return f' <span class="badge {outcome}">resolved {outcome}</span>'
    if outcome == "annulled":
        return ' <span class="badge">annulled</span>'
    return ""


# --- sections ---------------------------------------------------------------
def _header(r: Report) -> str:
    meta = [
        f"<span>Workspace <strong>{esc(r.workspace)}</strong></span>",
        f"<span>Run <code>{esc(r.run_id)}</code></span>",
        f"<span>{esc(when(r.created))}</span>",
    ]
    if r.previous_run_id:
        meta.append(f"<span>compared with run <code>{esc(r.previous_run_id)}</code></span>")
    links = ['<a href="#forecasts">Forecasts</a>']
    links += [
        f'<a href="#{_anchor(q.id)}">{esc(shorten(q.title, 28))}</a>' for q in r.questions[:6]
    ]
    if r.joints:
        links.append('<a href="#joint">Joint forecasts</a>')
    links.append('<a href="#diagnostics">Diagnostics</a>')
    return (
        "<header><h1>Forecast report</h1>"
        f'<div class="meta">{"".join(meta)}</div>'
        f"<nav>{''.join(links)}</nav></header>"
    )


def _banner(r: Report) -> str:
    if r.ok:
        return (
            '<section class="banner ok" id="status"><strong>Diagnostics passed.</strong>'
            f'<span class="small">{esc(r.summary_line())}. Every question\'s R-hat is at '
            f"most {RHAT_MAX} and its effective sample size at least {ESS_MIN}: the "
            "numbers below can be used.</span></section>"
        )
    problems = "".join(f"<li>{esc(p)}</li>" for p in r.problems) or (
        "<li>The sampler's checks failed.</li>"
    )
    return (
        '<section class="banner bad" id="status"><strong>Diagnostics failed: do not use '
        "these numbers yet.</strong>"
        f'<span class="small">{esc(r.summary_line())}.</span><ul>{problems}</ul>'
        '<span class="small">Fix what each line says (more draws or tuning steps in '
        "<code>forecast.toml</code>, or <code>forecast report --draws N</code>), then run "
        "<code>forecast report</code> again. Questions affected are flagged in the table."
        "</span></section>"
    )


def _warnings(r: Report) -> str:
    if not r.warnings:
        return ""
    items = "".join(f"<li><code>{esc(w)}</code></li>" for w in r.warnings)
    n = len(r.warnings)
    return (
        f'<section class="banner warn" id="warnings"><strong>{n} warning{"s" * (n != 1)} '
        "about the workspace files</strong>"
        f'<ul class="small">{items}</ul><span class="small">The forecasts use the files as '
        "they are; <code>forecast validate</code> lists the same lines.</span></section>"
    )


def default_prior_note() -> str:
    from forecast.codebook import DEFAULT_PRIOR_SD

    return (
        "No analyst states a prior on this question: the default prior is used "
        f"(log-odds Normal(0, {DEFAULT_PRIOR_SD:g}), centred on 50 %)."
    )


def _forecast_table(r: Report) -> str:
    rows = []
    for row in r.forecasts.to_dict("records"):
        qid = str(row["id"])
        prior, post = _num(row["prior"]), _num(row["posterior"])
        lo, hi = _num(row["lo"]), _num(row["hi"])
        delta = _num(row["since_previous"])
        since = points(delta, none="new") if r.previous_run_id else "—"
        moved = ""
        if row.get("moved_by"):
            shift = _num(row.get("moved_by_shift"))
            moved = (
                f"{esc(shorten(str(row.get('moved_by_summary') or ''), 60))} "
                f'<span class="qid">{esc(row["moved_by"])}'
                f"{' · ' + esc(points(shift)) if math.isfinite(shift) else ''}</span>"
            )
        flag = str(row.get("flag") or "")
        flag_html = (
            f'<span class="flag-bad">⚠ {esc(flag)}</span>'
            if flag
            else '<span class="flag-ok">✓ ok</span>'
        )
        rows.append(
            "<tr>"
            f'<td><a href="#{_anchor(qid)}">{esc(row["title"])}</a>'
            f"{_outcome_badge(str(row.get('outcome') or ''))}"
            f'<span class="qid">{esc(qid)}</span></td>'
            f'<td class="num" data-label="Prior">{pct(prior)}</td>'
            f'<td class="num forecast" data-label="Forecast">{pct(post)}</td>'
            f'<td class="num" data-label="90 % interval">{interval(lo, hi)}'
            f"{_strip(prior, post, lo, hi)}</td>"
            f'<td class="num {_delta_class(delta)}" data-label="Since previous">{esc(since)}</td>'
            f'<td data-label="Moved most by">{moved}</td>'
            f'<td data-label="Diagnostics">{flag_html}</td></tr>'
        )
    legend = (
        '<p class="small muted">Forecast: the probability the outcome is yes. '
        "Strip: 0–100 %, the shaded band is the 90 % interval, "
        '<span class="legend-inline" style="background:var(--prior)"></span>prior '
        '<span class="legend-inline" style="background:var(--accent)"></span>forecast. '
        "Moved most by: the evidence whose removal would change the forecast most "
        "(leave-one-out).</p>"
    )
    return (
        '<section id="forecasts"><h2>Forecasts</h2><table class="forecasts"><thead><tr>'
        '<th>Question</th><th class="num">Prior</th><th class="num">Forecast</th>'
        '<th class="num">90 % interval</th><th class="num">Since previous</th>'
        "<th>Moved most by</th><th>Diagnostics</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{legend}</section>"
    )


def _evidence_table(r: Report, qid: str) -> str:
    df = r.contributions_for(qid)
    if df.empty:
        return '<p class="muted">No evidence bears on this question yet.</p>'
    rows = []
    for c in df.head(TOP_EVIDENCE).to_dict("records"):
        mean = _num(c.get("mean"))
        via = str(c.get("via") or "")
        load = _num(c.get("loading"))
        times = f" ×{load:g}" if via and math.isfinite(load) and load != 1 else ""
        via_html = f"via {esc(r.driver_name(via))}{times}" if via else "direct"
        shift = _num(c.get("prob_shift"))
        rows.append(
            "<tr>"
            f"<td>{esc(c.get('summary'))}"
            f'<span class="ids">{esc(c.get("items") or c.get("cluster"))}</span></td>'
            f'<td data-label="Source">{esc(c.get("source"))}</td>'
            f'<td class="small" data-label="Reaches it">{via_html}</td>'
            f'<td class="num {_delta_class(mean)}" data-label="Log-odds (90 %)">{logodds(mean)} '
            f'<span class="muted">[{logodds(_num(c.get("lo")))}, {logodds(_num(c.get("hi")))}]'
            "</span></td>"
            f'<td class="num {_delta_class(shift)}" data-label="Δ forecast">{esc(points(shift))}'
            "</td>"
            f'<td class="num" data-label="Without it">{pct(_num(c.get("prob_without")))}</td></tr>'
        )
    more = len(df) - TOP_EVIDENCE
    note = (
        f'<p class="small muted">{more} more cluster{"s" * (more != 1)}: '
        f"<code>forecast explain {esc(qid)}</code> lists every item.</p>"
        if more > 0
        else f'<p class="small muted"><code>forecast explain {esc(qid)}</code> lists every '
        "item with its source grade and credibility.</p>"
    )
    return (
        '<table class="evidence"><thead><tr><th>Evidence (cluster)</th><th>Source</th>'
        '<th>Reaches it</th><th class="num">Log-odds (90 %)</th>'
        '<th class="num">Δ forecast</th><th class="num">Without it</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>{note}"
    )


def _question(r: Report, q: Any, figures: Mapping[str, bytes]) -> str:
    row = r.forecasts.set_index("id").loc[q.id] if q.id in set(r.forecasts["id"]) else None
    facts = [f'<span class="qid" style="display:inline">{esc(q.id)}</span>']
    if q.close_date:
        facts.append(f"closes {esc(q.close_date.isoformat())}")
    if q.drivers:
        names = ", ".join(esc(r.drivers.get(d, d)) for d in q.drivers)
        facts.append(f"loads on {names}")
    summary = ""
    if row is not None:
        summary = (
            f"<p>Prior {pct(_num(row['prior']))} → forecast <strong>"
            f"{pct(_num(row['posterior']))}</strong> (90 %: "
            f"{interval(_num(row['lo']), _num(row['hi']))})"
            + (f' · <span class="flag-bad">⚠ {esc(row["flag"])}</span>' if row["flag"] else "")
            + "</p>"
        )
    if q.id in r.default_prior:
        summary += f'<p class="small warn-note">⚠ {esc(default_prior_note())}</p>'
    res = ""
    if q.resolution is not None:
        note = f" — {esc(q.resolution.note)}" if q.resolution.note else ""
        date = f" on {esc(q.resolution.date.isoformat())}" if q.resolution.date else ""
        res = (
            f'<p class="small">Resolved <strong>{esc(q.resolution.outcome)}</strong>'
            f"{date}{note}</p>"
        )
    criteria = (
        '<div class="criteria"><strong>Resolves yes if:</strong> '
        f"{esc(q.resolution_criteria)}</div>"
        if q.resolution_criteria
        else ""
    )
    return (
        f'<section class="question" id="{_anchor(q.id)}"><h2>{esc(q.title)}'
        f"{_outcome_badge(q.resolution.outcome if q.resolution else '')}</h2>"
        f'<div class="small muted">{" · ".join(facts)}</div>{criteria}{res}{summary}'
        + _img(
            figures,
            fig.prior_path(q.id),
            f"Prior and forecast probability of: {q.title}",
            "Belief before (prior, dashed) and after the evidence (forecast); "
            "shaded: 90 % intervals.",
        )
        + _img(
            figures,
            fig.waterfall_path(q.id),
            f"Evidence waterfall for: {q.title}",
            "Each evidence cluster's push on the log-odds, largest first, from the team's prior "
            "to the forecast; whiskers are 90 % intervals; top axis in probabilities.",
        )
        + "<h3>Evidence that moved it</h3>"
        + _evidence_table(r, q.id)
        + "</section>"
    )


def _joints(r: Report, figures: Mapping[str, bytes]) -> str:
    if not r.joints:
        return ""
    parts = [
        '<section id="joint"><h2>Joint forecasts</h2><p class="small muted">Questions that '
        "load on a common driver move together; these are the probabilities of their "
        "outcomes together, from the same posterior draws.</p>"
    ]
    for j in r.joints:
        x = j.joint
        rows = [
            (f"P(A) — {j.a.title}", pct(x.p_a)),
            (f"P(B) — {j.b.title}", pct(x.p_b)),
            ("P(A and B)", pct(x.p_ab)),
            ("P(A and B) if they were independent", pct(x.independent)),
            ("P(A | B)", pct(x.p_a_given_b)),
            ("P(B | A)", pct(x.p_b_given_a)),
        ]
        body = "".join(f'<tr><td>{esc(k)}</td><td class="num">{v}</td></tr>' for k, v in rows)
        parts.append(
            f"<h3>{esc(shorten(j.a.title, 60))} × {esc(shorten(j.b.title, 60))}</h3>"
            f'<p class="small muted">Shared driver: {esc(j.driver)}</p>'
            + _img(
                figures,
                fig.joint_path(j.a.id, j.b.id),
                f"Joint forecast of {j.a.title} and {j.b.title}",
            )
            + f'<table class="joint-table"><tbody>{body}</tbody></table>'
        )
    parts.append("</section>")
    return "".join(parts)


def _diagnostics(r: Report, figures: Mapping[str, bytes]) -> str:
    rows = []
    for row in r.forecasts.to_dict("records"):
        flag = str(row.get("flag") or "")
        rows.append(
            f'<tr><td>{esc(shorten(str(row["title"]), 80))}<span class="qid">{esc(row["id"])}'
            f"</span></td>"
            f'<td class="num" data-label="R-hat">{_fmt(row.get("rhat"), "{:.3f}")}</td>'
            f'<td class="num" data-label="ESS bulk">{_fmt(row.get("ess_bulk"), "{:.0f}")}</td>'
            f'<td class="num" data-label="ESS tail">{_fmt(row.get("ess_tail"), "{:.0f}")}</td>'
            + (
                f'<td data-label="Status"><span class="flag-bad">⚠ {esc(flag)}</span></td>'
                if flag
                else '<td data-label="Status"><span class="flag-ok">✓ ok</span></td>'
            )
            + "</tr>"
        )
    d = r.diagnostics
    return (
        '<section id="diagnostics"><h2>Diagnostics</h2>'
        f'<p class="small">{esc(r.summary_line())}. A question is flagged when its R-hat '
        f"exceeds {RHAT_MAX} (chains disagree) or its bulk or tail effective sample size is "
        f"below {ESS_MIN} (too few independent draws).</p>"
        '<table class="diagnostics"><thead><tr><th>Question</th><th class="num">R-hat</th>'
        '<th class="num">ESS bulk</th><th class="num">ESS tail</th><th>Status</th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
        + _img(
            figures,
            fig.DIAGNOSTICS,
            "Rank plots of each question's probability, by chain",
            "Rank plots: each chain's draws should spread evenly over the ranks (bars near "
            "the dashed line). A chain piling up at one end has not mixed."
            + (" Divergences: " + esc(d.get("divergences")) + "." if "divergences" in d else ""),
        )
        + "</section>"
    )


def _fmt(x: Any, spec: str) -> str:
    v = _num(x)
    return spec.format(v) if math.isfinite(v) else "—"


def _footer(r: Report) -> str:
    m = r.manifest
    settings = ", ".join(f"{esc(k)}={esc(v)}" for k, v in (m.get("settings") or {}).items())
    versions = ", ".join(f"{esc(k)} {esc(v)}" for k, v in (m.get("versions") or {}).items())
    rows = [
        ("Run", f"<code>{esc(r.run_id)}</code>"),
        ("Created", esc(when(r.created))),
        ("Seed", esc(m.get("seed", ""))),
        ("Settings", settings),
        ("Versions", versions),
        ("Input hash", f"<code>{esc(m.get('input_hash', ''))}</code>"),
        ("Input files", esc(len(m.get("files") or {}))),
    ]
    if r.previous_run_id:
        rows.append(("Previous run", f"<code>{esc(r.previous_run_id)}</code>"))
    body = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows if v)
    return (
        f"<footer><dl>{body}</dl><p>Files beside this page: posteriors.csv, "
        "contributions.csv, trace.nc (ArviZ), manifest.json, report.md.</p></footer>"
    )


def render_html(report: Report, figures: Mapping[str, bytes] | None = None) -> str:
    """The whole page as a string; ``figures`` from :func:`forecast.report.figures.render`."""
    figures = figures or {}
    body = (
        _header(report)
        + "<main>"
        + _banner(report)
        + _warnings(report)
        + _forecast_table(report)
        + "".join(_question(report, q, figures) for q in report.questions)
        + _joints(report, figures)
        + _diagnostics(report, figures)
        + "</main>"
        + _footer(report)
    )
    title = f"Forecast report — {report.workspace} — {report.run_id}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{css()}</style></head>"
        f"<body>{body}</body></html>\n"
    )
