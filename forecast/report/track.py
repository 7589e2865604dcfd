"""The track record as a report section: scores, calibration and timelines.

:func:`build_track_record` reads the ledger once and returns a
:class:`TrackRecord` holding the score tables (:class:`~forecast.scoring.Scored`)
and each question's history; :meth:`TrackRecord.figures` renders the
reliability diagram and the timelines as PNG bytes keyed by the relative
path a page links them by. Nothing here prints or writes files, and the ledger is only read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forecast.history import QuestionHistory
    from forecast.ledger import Ledger
    from forecast.scoring import Scored
    from forecast.workspace import Workspace

RELIABILITY = "plots/reliability.png"
TOP_ANALYSTS = 12  # analysts a report lists (forecast score lists every one)


def timeline_path(qid: str) -> str:
    return f"plots/timeline-{re.sub(r'[^A-Za-z0-9._-]+', '-', qid).strip('-.') or 'x'}.png"


@dataclass(frozen=True)
class TrackRecord:
    scored: Scored
    histories: tuple[QuestionHistory, ...]

    @property
    def resolved(self) -> int:
        return len(self.scored.questions)

    def history_of(self, qid: str) -> QuestionHistory | None:
        return next((h for h in self.histories if h.question == qid), None)

    def summary_line(self) -> str:
        """One line for a terminal or a page header."""
        if not self.resolved:
            return "No resolved question yet: nothing to score."
        methods = {m["method"]: m for m in self.scored.methods.to_dict("records")}
        parts = [
            f"{name} {methods[m]['brier']:.3f}"
            for m, name in (("forecast", "model"), ("mean", "mean"), ("median", "median"))
            if methods[m]["n"]
        ]
        n = self.resolved
        return f"{n} resolved question{'s' * (n != 1)} scored; Brier " + ", ".join(parts)

    def figures(self, dpi: int = 110) -> dict[str, bytes]:
        """PNG bytes of the reliability diagram (when anything resolved) and of
        each question's timeline (when it has a recorded run)."""
        from forecast.history import timeline
        from forecast.report.plots import png
        from forecast.scoring import reliability_diagram

        out: dict[str, bytes] = {}
        if self.resolved:
            out[RELIABILITY] = png(reliability_diagram(self.scored), dpi)
        for h in self.histories:
            if h.steps:
                out[timeline_path(h.question)] = png(timeline(h), dpi)
        return out


def build_track_record(ws: Workspace, ledger: Ledger) -> TrackRecord:
    """Scores and histories of every question of ``ws`` from ``ledger``."""
    from forecast.history import history
    from forecast.scoring import scoring_table

    return TrackRecord(scoring_table(ws, ledger), tuple(history(ledger, ws)))


def read_track_record(ws: Workspace) -> tuple[TrackRecord | None, str]:
    """The track record of ``ws`` read from its ledger, opened read-only, and
    ``""``; or ``None`` and why, when the ledger is locked, damaged or of
    another schema version (a report shows that and goes on)."""
    from forecast.ledger import LedgerError, open_ledger

    try:
        with open_ledger(ws.root, readonly=True) as ledger:
            return build_track_record(ws, ledger), ""
    except LedgerError as exc:
        return None, str(exc)


def _three(x: Any) -> str:
    v = math.nan if x is None else float(x)
    return f"{v:.3f}" if math.isfinite(v) else "—"


def section(
    record: TrackRecord | None, problems: Sequence[str] = (), top: int = TOP_ANALYSTS
) -> dict[str, Any] | None:
    """What the report's track record section shows, as text (the HTML and
    Markdown templates lay it out): None when there is nothing to say."""
    from forecast.report.tables import interval, pct

    if record is None and not problems:
        return None
    view: dict[str, Any] = {"problems": list(problems), "available": record is not None}
    if record is None:
        return view
    s = record.scored
    view.update(
        summary=record.summary_line(),
        resolved=record.resolved,
        missing=list(s.missing),
        notes=list(s.notes),
    )
    if not record.resolved:
        return view
    methods = s.methods.to_dict("records")
    view["methods"] = [
        {"name": m["name"], "n": m["n"],
         **{k: _three(m[k]) for k in ("brier", "log", "mcb", "dsc", "unc")}}
        for m in methods if m["n"]
    ]  # fmt: skip
    unscored = [m["name"] for m in methods if not m["n"]]
    if unscored:  # e.g. no analyst stated a prior on the questions resolved
        view["notes"].append(f"not scored, having no forecast of a resolved question: "
                             f"{', '.join(unscored)}")  # fmt: skip
    view["analysts"] = [
        {"name": a["analyst"], "n": a["n"], "brier": _three(a["brier"]), "log": _three(a["log"])}
        for a in s.analysts.head(top).to_dict("records")
    ]
    view["more_analysts"] = max(len(s.analysts) - top, 0)
    rows = []
    for q in s.questions.to_dict("records"):
        p = math.nan if q["forecast"] is None else float(q["forecast"])
        shown = math.isfinite(p)
        rows.append(
            {
                "id": str(q["id"]),
                "title": str(q["title"]),
                "outcome": q["outcome"],
                "resolved": q["resolved"],
                "forecast": pct(p) if shown else "",
                "interval": interval(q["lo"], q["hi"]) if shown else "",
                "basis": q["basis"],
                "before": ""
                if shown
                else (
                    "no run before resolution"
                    if q["run_id"] is None
                    else "no model forecast before resolution"
                ),
                "brier": _three(q["brier_forecast"]),
            }
        )
    view["questions"] = rows
    return view
