"""The report as Markdown, linking the PNG files written beside it.

User text is escaped so that it reads as text in any renderer: HTML
characters become entities and Markdown's own punctuation is backslashed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from forecast.report import figures as fig
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


def _num(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _table(header: list[str], rows: list[list[str]], align: str) -> list[str]:
    sep = ["---:" if a == "r" else "---" for a in align]
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _image(figures: Mapping[str, bytes], path: str, alt: str) -> list[str]:
    if path not in figures:
        return []
    # alt text is user text too; brackets would end it early
    return [f"![{md(alt)}]({path})", ""]


def render_markdown(report: Report, figures: Mapping[str, bytes] | None = None) -> str:
    """The whole report as Markdown; image links point at ``figures``' paths."""
    r = report
    figures = figures or {}
    out = [
        "# Forecast report",
        "",
        f"Workspace **{md(r.workspace)}** · run `{r.run_id}` · {md(when(r.created))}"
        + (f" · compared with run `{r.previous_run_id}`" if r.previous_run_id else ""),
        "",
    ]
    if r.ok:
        out += [
            f"> **Diagnostics passed.** {md(r.summary_line())}. Every question's R-hat is at "
            f"most {RHAT_MAX} and its effective sample size at least {ESS_MIN}.",
            "",
        ]
    else:
        out += [
            "> **Diagnostics failed: do not use these numbers yet.** " + md(r.summary_line()),
            ">",
        ]
        out += [f"> - {md(p)}" for p in r.problems] or ["> - The sampler's checks failed."]
        out += [
            ">",
            "> Fix what each line says (more draws or tuning steps in `forecast.toml`, or "
            "`forecast report --draws N`), then run `forecast report` again.",
            "",
        ]

    if r.warnings:
        out += ["**Warnings about the workspace files:**", ""]
        out += [f"- {md(w)}" for w in r.warnings] + [""]
    out += ["## Forecasts", ""]
    rows = []
    for row in r.forecasts.to_dict("records"):
        delta = _num(row["since_previous"])
        since = points(delta, none="new") if r.previous_run_id else "—"
        moved = ""
        if row.get("moved_by"):
            shift = _num(row.get("moved_by_shift"))
            moved = (
                f"{md(shorten(str(row.get('moved_by_summary') or ''), 60))} ({md(row['moved_by'])}"
            )
            moved += f", {points(shift)})" if math.isfinite(shift) else ")"
        outcome = str(row.get("outcome") or "")
        title = md(row["title"]) + (f" *(resolved {outcome})*" if outcome in ("yes", "no") else "")
        rows.append(
            [
                title,
                pct(_num(row["prior"])),
                f"**{pct(_num(row['posterior']))}**",
                interval(_num(row["lo"]), _num(row["hi"])),
                since,
                moved,
                ("⚠ " + md(row["flag"])) if row.get("flag") else "ok",
            ]
        )
    out += _table(
        ["Question", "Prior", "Forecast", "90 % interval", "Since previous", "Moved most by",
         "Diagnostics"],
        rows,
        "lrrrrll",
    )  # fmt: skip
    out.append("")

    for q in r.questions:
        out += [f"## {md(q.title)}", ""]
        facts = [f"`{q.id}`"]
        if q.close_date:
            facts.append(f"closes {q.close_date.isoformat()}")
        if q.drivers:
            facts.append("loads on " + ", ".join(md(r.drivers.get(d, d)) for d in q.drivers))
        if q.resolution is not None:
            facts.append(f"resolved **{md(q.resolution.outcome)}**")
        out += [" · ".join(facts), ""]
        if q.resolution_criteria:
            out += [f"**Resolves yes if:** {md(q.resolution_criteria)}", ""]
        if q.id in r.default_prior:
            out += [f"⚠ {md(default_prior_note())}", ""]
        sel = r.forecasts[r.forecasts["id"] == q.id]
        if len(sel):
            row = sel.iloc[0]
            out += [
                f"Prior {pct(_num(row['prior']))} → forecast **{pct(_num(row['posterior']))}** "
                f"(90 %: {interval(_num(row['lo']), _num(row['hi']))})"
                + (f" · ⚠ {md(row['flag'])}" if row["flag"] else ""),
                "",
            ]
        out += _image(figures, fig.prior_path(q.id), f"Prior and forecast: {q.title}")
        out += _image(figures, fig.waterfall_path(q.id), f"Evidence waterfall: {q.title}")
        df = r.contributions_for(q.id)
        if df.empty:
            out += ["No evidence bears on this question yet.", ""]
            continue
        out += ["### Evidence that moved it", ""]
        rows = []
        for c in df.head(TOP_EVIDENCE).to_dict("records"):
            via = str(c.get("via") or "")
            rows.append(
                [
                    f"{md(c.get('summary'))} ({md(c.get('items') or c.get('cluster'))})",
                    md(c.get("source")),
                    f"via {md(r.driver_name(via))} ×{_num(c.get('loading')):g}"
                    if via
                    else "direct",
                    f"{logodds(_num(c.get('mean')))} [{logodds(_num(c.get('lo')))}, "
                    f"{logodds(_num(c.get('hi')))}]",
                    points(_num(c.get("prob_shift"))),
                    pct(_num(c.get("prob_without"))),
                ]
            )
        out += _table(
            ["Evidence (cluster)", "Source", "Reaches it", "Log-odds (90 %)", "Δ forecast",
             "Without it"],
            rows,
            "lllrrr",
        )  # fmt: skip
        out += ["", f"`forecast explain {q.id}` lists every item.", ""]

    if r.joints:
        out += ["## Joint forecasts", ""]
        for j in r.joints:
            x = j.joint
            out += [f"### {md(shorten(j.a.title, 60))} × {md(shorten(j.b.title, 60))}", ""]
            out += [f"Shared driver: {md(j.driver)}", ""]
            out += _image(
                figures, fig.joint_path(j.a.id, j.b.id), f"Joint: {j.a.title} and {j.b.title}"
            )
            out += _table(
                ["", "Probability"],
                [
                    ["P(A and B)", pct(x.p_ab)],
                    ["if independent", pct(x.independent)],
                    ["P(A | B)", pct(x.p_a_given_b)],
                    ["P(B | A)", pct(x.p_b_given_a)],
                ],
                "lr",
            )
            out.append("")

    out += ["## Diagnostics", "", md(r.summary_line()) + ".", ""]
    rows = [
        [
            md(shorten(str(row["title"]), 70)),
            f"{_num(row['rhat']):.3f}" if math.isfinite(_num(row["rhat"])) else "—",
            f"{_num(row['ess_bulk']):.0f}" if math.isfinite(_num(row["ess_bulk"])) else "—",
            f"{_num(row['ess_tail']):.0f}" if math.isfinite(_num(row["ess_tail"])) else "—",
            ("⚠ " + md(row["flag"])) if row.get("flag") else "ok",
        ]
        for row in r.forecasts.to_dict("records")
    ]
    out += _table(["Question", "R-hat", "ESS bulk", "ESS tail", "Status"], rows, "lrrrl")
    out.append("")
    out += _image(figures, fig.DIAGNOSTICS, "Rank plots by chain")
    m = r.manifest
    out += [
        "---",
        "",
        f"Run `{r.run_id}` · seed {md(m.get('seed', ''))} · input hash "
        f"`{str(m.get('input_hash', ''))[:16]}` · "
        + ", ".join(f"{md(k)} {md(v)}" for k, v in (m.get("versions") or {}).items()),
        "",
    ]
    return "\n".join(out)
