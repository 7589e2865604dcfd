"""The track record as a report section: scores, calibration and timelines.

:func:`build_track_record` reads the ledger once and returns a
:class:`TrackRecord` holding the score tables (:class:`~forecast.scoring.Scored`)
and each question's history; :meth:`TrackRecord.figures` renders the
reliability diagram and the timelines as PNG bytes keyed by the relative
path a page links them by. Nothing here prints or writes files, and the ledger is only read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from forecast.history import QuestionHistory
    from forecast.ledger import Ledger
    from forecast.scoring import Scored
    from forecast.workspace import Workspace

RELIABILITY = "plots/reliability.png"


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
