"""The batch's HTML page: each question's forecast across the grid, as a heat map.

One self-contained page, as the report is: inline CSS, no script, no other
host (the report's Content-Security-Policy), every value escaped by the
template environment (``templates/batch.html.j2``). For each workspace a
table has a row per question and a column per grid point, each cell
coloured by its forecast (red below 50 %, blue above), then the lowest to
highest forecast; below it, the swing each grid key causes alone (a tornado
drawn as bars).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from forecast.batch.tables import spread
from forecast.report.html import CSP, css, environment
from forecast.report.tables import pct, shorten

if TYPE_CHECKING:
    import pandas as pd

LOW, MID, HIGH = (178, 24, 43), (247, 247, 247), (33, 102, 172)  # 0 %, 50 %, 100 %


def colour(p: float) -> tuple[str, str]:
    """Background and text colour of a forecast ``p`` on a red-white-blue scale."""
    if not math.isfinite(p):
        return "#ffffff", "#1d2430"
    t = min(max(p, 0.0), 1.0)
    end, f = (LOW, 1 - 2 * t) if t < 0.5 else (HIGH, 2 * t - 1)
    rgb = [round(m + (e - m) * f) for m, e in zip(MID, end, strict=True)]
    return "#{:02x}{:02x}{:02x}".format(*rgb), ("#ffffff" if f > 0.55 else "#1d2430")


def _points(p: float) -> str:
    return f"{100 * p:.1f} pts" if math.isfinite(p) else ""


def view(frame: pd.DataFrame, keys: tuple[str, ...]) -> dict[str, Any]:
    """What the template shows, worked out here."""
    done = frame[frame["status"] != "failed"]
    failed = frame[frame["status"] == "failed"].drop_duplicates("cell")
    spreads = spread(frame, keys)
    workspaces = []
    for ws, rows in frame.groupby("workspace", sort=False):
        cells = rows.drop_duplicates("cell")
        header = [{"key": k, "vals": [str(v) for v in cells[k]]} for k in keys] or [
            {"key": "cell", "vals": ["as set" for _ in range(len(cells))]}
        ]
        by_question = done[done["workspace"] == ws]
        questions = []
        for _, s in spreads[spreads["workspace"] == ws].iterrows():
            got = by_question[by_question["question"] == s["question"]].set_index("cell")
            heat = []
            for cell, status in zip(cells["cell"], cells["status"], strict=True):
                if cell in got.index:
                    r = got.loc[cell]
                    bg, fg = colour(float(r["forecast"]))
                    heat.append({
                        "text": pct(r["forecast"]),
                        "title": f"90 %: {pct(r['lo'])} – {pct(r['hi'])}"
                        + ("" if r["diagnostics_ok"] else "; diagnostics failed"),
                        "style": f"background:{bg};color:{fg}",
                        "flag": not bool(r["diagnostics_ok"]),
                    })  # fmt: skip
                else:
                    heat.append({"text": "failed" if status == "failed" else "–", "title": "",
                                 "style": "", "flag": False})  # fmt: skip
            swing_max = max([s[f"swing_{k}"] for k in keys] + [1e-12])
            bars = [
                {
                    "key": k,
                    "text": _points(s[f"swing_{k}"]),
                    "width": f"{100 * s[f'swing_{k}'] / swing_max:.0f}",
                }
                for k in keys
            ]
            questions.append({
                "id": s["question"], "title": shorten(str(s["title"]), 90), "heat": heat,
                "range": f"{pct(s['low'])} – {pct(s['high'])}", "swing": _points(s["swing"]),
                "bars": bars,
            })  # fmt: skip
        workspaces.append({"name": ws, "header": header, "questions": questions})
    return {
        "workspaces": workspaces,
        "failed": [
            {
                "workspace": r["workspace"],
                "point": ", ".join(f"{k}={r[k]}" for k in keys),
                "error": r["error"],
            }
            for _, r in failed.iterrows()
        ],  # fmt: skip
        "cells": int(frame["cell"].nunique()) if len(frame) else 0,
        "done": int(done["cell"].nunique()) if len(done) else 0,
        "keys": list(keys),
    }


def page(frame: pd.DataFrame, keys: tuple[str, ...], spec_name: str) -> str:
    """The page as HTML text."""
    template = environment().get_template("batch.html.j2")
    return template.render(
        v=view(frame, keys),
        spec=spec_name,
        created=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        csp=CSP,
        css=Markup(css()),  # the package's own style sheet, not user text
        title=f"Batch {spec_name}",
    )
