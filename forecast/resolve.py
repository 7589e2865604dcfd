"""Recording a question's resolution: in priors/questions.yaml and in the ledger.

The file is edited under the workspace lock by
:func:`forecast.workspace.yamledit.set_resolution` (ruamel.yaml's round-trip
mode), so its comments, key order, quoting, folded text and indentation stay
as the team wrote them; the new text is validated as a workspace before it
replaces the file atomically.

A question has no explicit opening date in the data model. It is taken to
have opened on the earliest date the workspace or its ledger shows it in
use: the first run that forecast it, or the earliest evidence item bearing
on it directly. A resolution dated before then is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forecast.errors import UsageError, WorkspaceError
from forecast.formats import parse_iso_date
from forecast.lock import locked
from forecast.workspace import (
    OUTCOMES,
    QUESTIONS_FILE,
    Question,
    Resolution,
    Workspace,
    load_workspace,
)
from forecast.workspace.yamledit import set_resolution


@dataclass(frozen=True)
class Resolved:
    question: str
    resolution: Resolution
    replaced: Resolution | None  # the resolution it replaced (--force), if any
    path: Path


@dataclass(frozen=True)
class Opened:
    date: dt.date
    why: str  # e.g. "the first run forecasting it (2026-07-10)"


def opened(
    ws: Workspace, question: str, ledger_rows: list[dict[str, Any]] | None = None
) -> Opened | None:
    """When ``question`` opened, as far as the files and the ledger show (see module doc)."""
    candidates: list[Opened] = []
    dates = [e.date for e in ws.evidence if e.bears_on == question]
    if dates:
        first = min(dates)
        ids = ", ".join(e.id for e in ws.evidence if e.bears_on == question and e.date == first)
        candidates.append(Opened(first, f"the earliest evidence bearing on it ({ids})"))
    for row in ledger_rows or ():
        from forecast.scoring import forecast_date

        day = forecast_date(row)
        candidates.append(Opened(day, f"the first run forecasting it ({row['run_id']})"))
        break  # rows are oldest first
    return min(candidates, key=lambda o: o.date) if candidates else None


def check_resolution(
    ws: Workspace,
    question: str,
    outcome: str,
    date: str | dt.date,
    *,
    note: str = "",
    force: bool = False,
    today: dt.date | None = None,
    ledger_rows: list[dict[str, Any]] | None = None,
) -> tuple[Question, Resolution]:
    """The question and the checked resolution; ``UsageError`` saying what is wrong."""
    q = ws.question(question)  # unknown id -> UsageError naming the known ones
    word = outcome.strip().lower()
    if word not in OUTCOMES:
        raise UsageError(f"outcome {outcome!r} is not allowed; use yes, no or annulled")
    day, why = parse_iso_date(date)
    if day is None:
        raise UsageError(f"--date: {why}")
    today = today or dt.date.today()
    if day > today:
        raise UsageError(
            f"--date {day}: is after today ({today}); record a resolution once it is known"
        )
    start = opened(ws, q.id, ledger_rows)
    if start is not None and day < start.date:
        raise UsageError(
            f"--date {day}: is before {q.id!r} opened ({start.date}: {start.why}); "
            "a question resolves after it opens"
        )
    if q.resolution is not None and not force:
        old = q.resolution
        when = f" on {old.date}" if old.date else ""
        raise UsageError(
            f"{QUESTIONS_FILE}:{q.line}: {q.id!r} is already resolved {old.outcome}{when}; "
            "give --force to replace it"
        )
    return q, Resolution(word, day, " ".join(note.split()))


@locked
def resolve(
    root: str | Path,
    question: str,
    outcome: str,
    date: str | dt.date,
    *,
    note: str = "",
    force: bool = False,
    today: dt.date | None = None,
) -> Resolved:
    """Record a resolution in ``priors/questions.yaml`` and in the ledger.

    Holds the workspace lock (:mod:`forecast.lock`) from reading the file to
    replacing it, so a concurrent ``evidence add`` or ``resolve`` waits.

    Raises
    ------
    UsageError
        Unknown question, bad outcome or date, a date before the question
        opened or after today, or a question already resolved without ``force``.
    WorkspaceError
        The workspace (or the edited file) does not validate; nothing written.
    LedgerError
        The ledger is locked or damaged; nothing written.
    LockError
        Another command held the workspace lock too long; nothing written.
    """
    from forecast.ledger import open_ledger

    root = Path(root)
    ws = load_workspace(root)
    with open_ledger(root) as ledger:
        rows = ledger.forecasts(question)
        q, res = check_resolution(
            ws, question, outcome, date, note=note, force=force, today=today, ledger_rows=rows
        )
        try:
            after = set_resolution(
                root, q.id, res.outcome, res.date, res.note, replace=q.resolution is not None
            )
        except WorkspaceError as exc:
            raise WorkspaceError([p for p in exc.problems if p.severity == "error"]) from None
        if after.resolution != res:  # pragma: no cover - a bug, not bad input
            raise UsageError(f"{QUESTIONS_FILE}: the edit did not read back as {res}")
        forced = q.resolution is not None
        ledger.record_resolution(q.id, res.outcome, res.date, res.note, forced=forced)  # type: ignore[arg-type]
    return Resolved(q.id, res, q.resolution, root / QUESTIONS_FILE)


def overdue(ws: Workspace, today: dt.date | None = None) -> list[str]:
    """Warnings for questions past their close date with no resolution."""
    today = today or dt.date.today()
    return [
        f"{QUESTIONS_FILE}:{q.line}: warning: {q.id!r} closed on {q.close_date} and has no "
        f"resolution; record it with `forecast resolve {q.id} yes|no|annulled --date YYYY-MM-DD`"
        for q in ws.questions
        if q.close_date is not None and q.close_date < today and q.resolution is None
    ]
