"""Recording a question's resolution: in priors/questions.yaml and in the ledger.

The file is edited under the workspace lock with ruamel.yaml's round-trip mode, so its comments, key
order, quoting, folded text and indentation stay as the team wrote them; the
new text is validated as a workspace before it replaces the file atomically.

A question has no explicit opening date in the data model. It is taken to
have opened on the earliest date the workspace or its ledger shows it in
use: the first run that forecast it, or the earliest evidence item bearing
on it directly. A resolution dated before then is refused.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forecast.errors import UsageError, WorkspaceError
from forecast.formats import parse_iso_date
from forecast.io import atomic_write_text
from forecast.lock import locked
from forecast.workspace import (
    OUTCOMES,
    QUESTIONS_FILE,
    Question,
    Resolution,
    Workspace,
    load_workspace,
)


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


# --- the YAML edit ----------------------------------------------------------------------

# (mapping, sequence, offset) indentations tried, the first that reproduces the file wins
_INDENTS = ((2, 4, 2), (2, 2, 0), (4, 6, 4), (4, 4, 0), (2, 4, 0), (4, 4, 2))


def _yaml(indent: tuple[int, int, int]) -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line
    mapping, sequence, offset = indent
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _best_yaml(text: str) -> Any:
    """The round-trip settings that reproduce ``text`` exactly, else the ones
    that change the fewest lines."""
    import difflib

    best, fewest = None, None
    for indent in _INDENTS:
        yaml = _yaml(indent)
        again = _dump(yaml, yaml.load(text))
        if again == text:
            return yaml
        changed = sum(
            1 for line in difflib.ndiff(text.splitlines(), again.splitlines()) if line[:1] in "+-"
        )
        if fewest is None or changed < fewest:
            best, fewest = yaml, changed
    return best


def _dump(yaml: Any, data: Any) -> str:
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _split_trailing(token: Any) -> tuple[Any, Any]:
    """A key's trailing comment token, split into its end-of-line part (stays)
    and what follows (blank lines, comments before the next item: moves)."""
    value = token.value
    if value.startswith("#"):
        eol, _, rest = value.partition("\n")
        keep = copy.copy(token)
        keep.value = eol + "\n"
        if not rest:
            return keep, None
        moved = copy.copy(token)
        moved.value = "\n" + rest
        return keep, moved
    return None, token


def set_resolution_text(text: str, question: str, resolution: Resolution) -> str:
    """``questions.yaml`` text with ``question``'s resolution set (added or replaced),
    everything else as it was."""
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import YAMLError

    try:
        yaml = _best_yaml(text)
        data = yaml.load(text)
    except YAMLError as exc:  # the loader read it, so this is unexpected: say so plainly
        raise UsageError(f"{QUESTIONS_FILE}: cannot edit it: {exc}") from None
    item = next(
        (q for q in data.get("questions") or () if isinstance(q, dict) and q.get("id") == question),
        None,
    )
    if item is None:
        raise UsageError(f"{QUESTIONS_FILE}: no question {question!r} to resolve")
    new = CommentedMap([("outcome", resolution.outcome), ("date", resolution.date)])
    if resolution.note:
        new["note"] = resolution.note
    old = item.get("resolution")
    if isinstance(old, CommentedMap):
        if old.fa.flow_style():
            new.fa.set_flow_style()
        else:
            last = list(old)[-1] if old else None
            if last in old.ca.items:  # a comment after the old resolution's last line
                new.ca.items[list(new)[-1]] = old.ca.items[last]
        item["resolution"] = new
    elif "resolution" in item:  # an empty 'resolution:' is filled where it stands
        item["resolution"] = new
    else:
        last = list(item)[-1]
        item["resolution"] = new
        # blank lines and comments after the question belong after its new last line
        if last in item.ca.items and item.ca.items[last][2] is not None:
            keep, moved = _split_trailing(item.ca.items[last][2])
            item.ca.items[last][2] = keep
            if moved is not None:
                new.ca.items[list(new)[-1]] = [None, None, moved, None]
    return _dump(yaml, data)


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
        path = root / QUESTIONS_FILE
        text = path.read_bytes().decode("utf-8-sig")
        new_text = set_resolution_text(text, q.id, res)
        try:
            after = load_workspace(root, overrides={QUESTIONS_FILE: new_text.encode()})
        except WorkspaceError as exc:
            raise WorkspaceError([p for p in exc.problems if p.severity == "error"]) from None
        if after.question(q.id).resolution != res:  # pragma: no cover - a bug, not bad input
            raise UsageError(f"{QUESTIONS_FILE}: the edit did not read back as {res}")
        atomic_write_text(path, new_text)
        forced = q.resolution is not None
        ledger.record_resolution(q.id, res.outcome, res.date, res.note, forced=forced)  # type: ignore[arg-type]
    return Resolved(q.id, res, q.resolution, path)


def overdue(ws: Workspace, today: dt.date | None = None) -> list[str]:
    """Warnings for questions past their close date with no resolution."""
    today = today or dt.date.today()
    return [
        f"{QUESTIONS_FILE}:{q.line}: warning: {q.id!r} closed on {q.close_date} and has no "
        f"resolution; record it with `forecast resolve {q.id} yes|no|annulled --date YYYY-MM-DD`"
        for q in ws.questions
        if q.close_date is not None and q.close_date < today and q.resolution is None
    ]
