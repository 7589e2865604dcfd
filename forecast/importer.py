"""``forecast import``: a forecast log (CSV) becomes a workspace.

One row is one forecast: a question, a forecaster, the probability of yes,
and optionally the date it was made, the question's title, its outcome and
the dates the question closed and resolved. The result is a new workspace:
``priors/questions.yaml`` with every question (and its resolution), one
``priors/<forecaster>.yaml`` per forecaster, and a ``forecast.toml``; the
resolutions are recorded in the ledger too.

Column names are matched case-insensitively, with the spellings of the
public track records accepted as synonyms (see :data:`COLUMNS`); when both
an id column and a ``question`` column are present, ``question`` is the
title (as in the Good Judgment Project release).

The data model holds one prior per forecaster and question, so a forecaster
who forecast a question several times is represented by the last forecast
made on or before the question resolved (later ones are dropped: they could
know the outcome). A probability alone becomes the data model's bare
``{p}`` statement: it claims no spread of its own, and under hierarchical
pooling each analyst's recalibration, learned from the resolved questions,
is all the spread it gets (a made-up ``confidence`` would assert a
certainty the record never stated). The data model keeps
probabilities strictly between 0 and 1, so 0 and 1 are moved to
:data:`CLIP` and ``1 - CLIP``. A row whose forecaster is empty or ``NULL``
cannot be anyone's prior: it is counted and left out.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from forecast.errors import Problem, UsageError, WorkspaceError
from forecast.formats import parse_number

CLIP = 0.01
MAX_PROBLEMS = 100

# canonical column -> accepted header names, in order of preference
COLUMNS: Mapping[str, tuple[str, ...]] = {
    "question": ("question_id", "ifp_id", "question"),
    "forecaster": ("forecaster", "user_id", "user", "analyst"),
    "probability": ("probability", "p_yes", "p"),
    "date": ("date", "fcast_date", "timestamp", "forecast_date"),
    "title": ("title", "question_title", "question"),
    "outcome": ("outcome", "resolution"),
    "close_date": ("close_date", "date_closed", "close_time"),
    "resolved": ("resolution_date", "resolved", "resolve_time", "date_resolved"),
}
REQUIRED = ("question", "forecaster", "probability")

_OUTCOMES = {
    "1": "yes", "1.0": "yes", "yes": "yes", "y": "yes", "true": "yes",
    "0": "no", "0.0": "no", "no": "no", "n": "no", "false": "no",
    "annulled": "annulled", "void": "annulled", "voided": "annulled", "cancelled": "annulled",
}  # fmt: skip
_ANONYMOUS = ("", "null", "na", "n/a", "none")  # no forecaster named
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})")


@dataclass(frozen=True)
class Imported:
    root: Path
    rows: int
    questions: int
    resolved: int
    forecasters: int
    statements: int
    superseded: int  # earlier forecasts replaced by a later one of the same forecaster
    after_resolution: int  # forecasts made after the question resolved: dropped
    clipped: int  # probabilities of exactly 0 or 1 moved inside (0, 1)
    anonymous: int  # forecasts without a forecaster (empty or NULL): left out
    files: tuple[str, ...]


def parse_date(text: str) -> dt.date | None:
    """YYYY-MM-DD, an ISO timestamp (its date), or M/D/YY(YY) as in US records."""
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        pass
    m = _US_DATE.fullmatch(text)
    if m:
        month, day, year = (int(g) for g in m.groups())
        year += 2000 if year < 100 else 0
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None
    return None


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise UsageError(f"{path}: not a readable gzip file ({exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text (byte {exc.start})") from None


@dataclass
class _Question:
    id: str
    raw: str
    line: int
    title: str = ""
    outcome: str = ""
    close_date: dt.date | None = None
    resolved: dt.date | None = None


def import_log(file: str | Path, root: str | Path) -> Imported:
    """Build a new workspace at ``root`` from the forecast log ``file``.

    Raises
    ------
    WorkspaceError
        Listing every bad row as ``file:line: what is wrong``; nothing written.
    UsageError
        Unreadable file, missing columns, or ``root`` already a workspace.
    """
    file, root = Path(file), Path(root)
    name = str(file)
    for part in ("priors", "evidence"):
        if (root / part).exists():
            raise UsageError(
                f"{root} already holds {part}/; `forecast import` starts a new workspace and "
                "never overwrites one (give a new folder)"
            )
    text = _read(file)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise UsageError(f"{name}:1: no header row") from None
    names = [h.strip().lower() for h in header]
    where: dict[str, int] = {}
    for key, options in COLUMNS.items():
        for option in options:
            if option in names and names.index(option) not in where.values():
                where[key] = names.index(option)
                break
    missing = [k for k in REQUIRED if k not in where]
    if missing:
        raise UsageError(
            f"{name}:1: missing column{'s' * (len(missing) > 1)} "
            + ", ".join(f"{k} (or {', '.join(COLUMNS[k][:-1] or COLUMNS[k])})" for k in missing)
            + f"; found {', '.join(header)}"
        )
    problems: list[Problem] = []

    def bad(line: int, message: str) -> None:
        problems.append(Problem(name, line, message))

    questions: dict[str, _Question] = {}
    slugs: dict[str, str] = {}
    # (forecaster, question id) -> (date, line, p)
    latest: dict[tuple[str, str], tuple[dt.date | None, int, float]] = {}
    forecasts: list[tuple[str, str, dt.date | None, int, float]] = []
    rows = clipped = anonymous = 0
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            rows += 1
            if len(values) != len(header):
                bad(line, f"{len(values)} fields, the header has {len(header)}")
                continue
            get = {k: values[i].strip() for k, i in where.items()}
            raw_q, who, raw_p = get["question"], get["forecaster"], get["probability"]
            if not raw_q:
                bad(line, "missing question id")
                continue
            qid = slug(raw_q)
            if not qid:
                bad(line, f"question {raw_q!r} has no letter or digit to make an id from")
                continue
            if slugs.setdefault(qid, raw_q) != raw_q:
                bad(line, f"questions {slugs[qid]!r} and {raw_q!r} make the same id {qid!r}")
                continue
            if who.lower() in _ANONYMOUS:
                anonymous += 1  # cannot be an analyst's prior: counted, left out
                continue
            p = parse_number(raw_p)
            if p is None or not 0 <= p <= 1:
                bad(line, f"probability {raw_p!r} must be a number from 0 to 1 (e.g. 0.25)")
                continue
            if p in (0.0, 1.0):
                clipped += 1
                p = min(max(p, CLIP), 1 - CLIP)
            date = None
            if get.get("date"):
                date = parse_date(get["date"])
                if date is None:
                    bad(line, f"date {get['date']!r} is not YYYY-MM-DD (nor M/D/YY)")
                    continue
            q = questions.get(qid)
            if q is None:
                q = questions[qid] = _Question(qid, raw_q, line)
            ok = True
            for key in ("title", "outcome", "close_date", "resolved"):
                raw = get.get(key, "")
                if not raw:
                    continue
                value: object
                if key == "title":
                    value = " ".join(raw.split())
                elif key == "outcome":
                    value = _OUTCOMES.get(raw.lower())
                    if value is None:
                        bad(line, f"outcome {raw!r} must be 1/0, yes/no or annulled (or empty)")
                        ok = False
                        continue
                else:
                    value = parse_date(raw)
                    if value is None:
                        bad(line, f"{key} {raw!r} is not YYYY-MM-DD (nor M/D/YY)")
                        ok = False
                        continue
                old = getattr(q, key)
                if old in ("", None):
                    setattr(q, key, value)
                elif old != value:
                    bad(line, f"{key} {raw!r} differs from {old} on line {q.line} for {raw_q!r}")
                    ok = False
            if ok:
                forecasts.append((who, qid, date, line, p))
    except csv.Error as exc:
        bad(reader.line_num, f"CSV error: {exc}")
    if problems:
        more = len(problems) - MAX_PROBLEMS
        shown = problems[:MAX_PROBLEMS]
        if more > 0:
            shown.append(Problem(name, 0, f"... and {more} more problems"))
        raise WorkspaceError(shown)
    if not forecasts:
        raise UsageError(f"{name}: no forecast rows under the header")

    superseded = after = 0
    for who, qid, date, line, p in forecasts:
        q = questions[qid]
        resolved = q.resolved or (q.close_date if q.outcome else None)
        if date is not None and resolved is not None and date > resolved:
            after += 1
            continue
        key = (who, qid)
        if key in latest:
            superseded += 1
            old_date = latest[key][0]
            if date is not None and old_date is not None and date < old_date:
                continue  # an earlier forecast listed later: the later one stands
        latest[key] = (date, line, p)

    files = _render(file, questions, latest)
    import tempfile

    from forecast.workspace import load_workspace

    with tempfile.TemporaryDirectory() as empty:  # validate the files before writing any
        load_workspace(empty, overrides={k: v.encode() for k, v in files.items()})

    from forecast.io import atomic_write_text
    from forecast.ledger import open_ledger

    with open_ledger(root) as ledger:  # a locked or damaged ledger stops before any file
        for rel, content in files.items():
            atomic_write_text(root / rel, content)
        for q in questions.values():
            if q.outcome:
                date = q.resolved or q.close_date
                if date is not None:
                    ledger.record_resolution(q.id, q.outcome, date, f"imported from {file.name}")
    forecasters = {who for who, _ in latest}
    return Imported(
        root=root,
        rows=rows,
        questions=len(questions),
        resolved=sum(q.outcome in ("yes", "no") for q in questions.values()),
        forecasters=len(forecasters),
        statements=len(latest),
        superseded=superseded,
        after_resolution=after,
        clipped=clipped,
        anonymous=anonymous,
        files=tuple(files),
    )


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _render(
    file: Path,
    questions: Mapping[str, _Question],
    latest: Mapping[tuple[str, str], tuple[dt.date | None, int, float]],
) -> dict[str, str]:
    out: dict[str, str] = {}
    lines = [
        f"# Imported with `forecast import` from {file.name}.",
        "# One question per question id of the record; titles and outcomes as recorded.",
        "",
        "questions:",
    ]
    for q in questions.values():
        lines.append(f"  - id: {_q(q.id)}")
        lines.append(f"    title: {_q(q.title or q.raw)}")
        criteria = f"As resolved in the imported record {file.name} (question {q.raw})."
        lines.append(f"    resolution_criteria: {_q(criteria)}")
        if q.close_date:
            lines.append(f"    close_date: {q.close_date.isoformat()}")
        if q.outcome:
            date = q.resolved or q.close_date
            parts = [f"outcome: {q.outcome}"] + ([f"date: {date.isoformat()}"] if date else [])
            lines.append("    resolution: {" + ", ".join(parts) + "}")
    out["priors/questions.yaml"] = "\n".join(lines) + "\n"

    by_person: dict[str, list[tuple[str, tuple[dt.date | None, int, float]]]] = {}
    for (who, qid), value in latest.items():
        by_person.setdefault(who, []).append((qid, value))
    taken: set[str] = {"questions"}
    order = {qid: i for i, qid in enumerate(questions)}
    for who in sorted(by_person, key=lambda w: (len(w), w)):
        stem = base = slug(who) or "forecaster"
        n = 1
        while stem in taken:
            n += 1
            stem = f"{base}-{n}"
        taken.add(stem)
        body = [f"analyst: {_q(who)}", "priors:"]
        for qid, (date, _line, p) in sorted(by_person[who], key=lambda x: order[x[0]]):
            when = f"  # {date.isoformat()}" if date else ""
            body.append(f"  {_q(qid)}: {{p: {p:g}}}{when}")
        out[f"priors/{stem}.yaml"] = "\n".join(body) + "\n"
    out["forecast.toml"] = (
        f"# Settings for the workspace imported from {file.name}.\n"
        "[model]\n"
        'pooling = "hierarchical"  # resolved questions teach the model whom to trust\n'
    )
    return out
