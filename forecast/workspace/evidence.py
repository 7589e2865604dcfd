"""Adding a coded evidence item: the next id, the file it goes to, the row written.

The whole workspace is validated with the new row in place before anything
is written; the row is appended with the file's own line ending and column
order, and the file replaced atomically.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from forecast.errors import Problem, UsageError, WorkspaceError
from forecast.io import atomic_write_bytes
from forecast.lock import locked
from forecast.workspace.load import EVIDENCE_COLUMNS, load_workspace
from forecast.workspace.objects import Workspace
from forecast.workspace.reading import SOURCES_FILE, Reader

_NUMBERED_ID = re.compile(r"(.*?)(\d+)")


def next_evidence_id(ids: Sequence[str]) -> str:
    """The next free evidence id, keeping the pattern in use (``E024`` -> ``E025``).

    The prefix used by most numbered ids wins (ties: the one used last); the
    number is one above its highest, zero-padded to the same width; ``E001``
    when no id is numbered.
    """
    taken = set(ids)
    groups: dict[str, list[tuple[int, int]]] = {}
    last: dict[str, int] = {}
    for order, ident in enumerate(ids):
        match = _NUMBERED_ID.fullmatch(ident)
        if match:
            groups.setdefault(match.group(1), []).append((int(match.group(2)), len(match.group(2))))
            last[match.group(1)] = order
    if not groups:
        prefix, number, width = "E", 1, 3
    else:
        prefix = max(groups, key=lambda p: (len(groups[p]), last[p]))
        number, width = max(groups[prefix])
        number += 1
    while f"{prefix}{number:0{width}d}" in taken:
        number += 1
    return f"{prefix}{number:0{width}d}"


def evidence_file(ws: Workspace, file: str | None = None) -> str:
    """The evidence CSV (relative path) a new row goes to.

    ``file`` names one (``summit.csv`` or ``evidence/summit.csv``; it may be
    new); without it: the only evidence file, else the one with the most
    items, else a new ``evidence/evidence.csv``.
    """
    if file:
        parts = PurePosixPath(Path(file).as_posix()).parts
        if len(parts) == 2 and parts[0] == "evidence":
            parts = parts[1:]
        name = parts[0] if len(parts) == 1 else ""
        rel = f"evidence/{name}"
        if not name.endswith(".csv") or name.startswith(".") or rel == SOURCES_FILE:
            raise UsageError(
                f"--file {file!r}: name an evidence CSV in evidence/, e.g. summit.csv "
                "(not sources.csv)"
            )
        return rel
    counts: dict[str, int] = dict.fromkeys(Reader(ws.root).files("evidence", ".csv"), 0)
    counts.pop(SOURCES_FILE, None)
    for e in ws.evidence:
        counts[e.path] = counts.get(e.path, 0) + 1
    if not counts:
        return "evidence/evidence.csv"
    return max(sorted(counts), key=lambda rel: counts[rel])


@locked
def add_evidence(
    root: str | Path, values: Mapping[str, str], file: str | None = None
) -> tuple[str, str]:
    """Append one coded item to an evidence CSV, after validating the workspace with it.

    Parameters
    ----------
    root
        The workspace folder.
    values
        Column -> text for ``date, bears_on, source, strength, credibility``
        and optionally ``cluster, summary, citation``; the id is assigned.
    file
        Which evidence CSV (see :func:`evidence_file`).

    Returns
    -------
    (id, path)
        The new item's id and the file it went to (relative to ``root``).

    Raises
    ------
    WorkspaceError, UsageError
        When the workspace, or the workspace with the new row, has an error;
        then no file is touched.
    """
    root = Path(root)
    ws = load_workspace(root)
    rel = evidence_file(ws, file)
    path = root / rel
    try:
        data = path.read_bytes() if path.is_file() else b""
    except OSError as exc:
        raise UsageError(f"cannot read {rel}: {exc.strerror or exc}") from None
    if data.strip():
        text = data.decode("utf-8-sig")  # the loader has checked it decodes
        header = next(csv.reader(io.StringIO(text, newline="")))
        columns = [h.strip().lower() for h in header]
        newline = "\r\n" if b"\r\n" in data else "\n"
        prefix = data if data.endswith((b"\n", b"\r")) else data + newline.encode()
    else:
        columns, newline = list(EVIDENCE_COLUMNS), "\n"
        prefix = _csv_line(columns, newline).encode()
    if values.get("cluster") and "cluster" not in columns:
        raise UsageError(
            f"{rel} has no cluster column: add one to its header, or leave out --cluster"
        )
    new_id = next_evidence_id([e.id for e in ws.evidence])
    row = {**values, "id": new_id}
    line = len(re.findall(r"\r\n|\r|\n", prefix.decode("utf-8-sig"))) + 1
    new = prefix + _csv_line([row.get(c, "") for c in columns], newline).encode()
    try:
        load_workspace(root, overrides={rel: new})
    except WorkspaceError as exc:
        problems = [
            Problem(f"{p.path}:{p.line} (the new row)", 0, p.message, p.severity)
            if (p.path, p.line) == (rel, line)
            else p
            for p in exc.problems
        ]
        raise WorkspaceError(problems) from None
    atomic_write_bytes(path, new)
    return new_id, rel


def _csv_line(values: Sequence[str], newline: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerow(values)
    return out.getvalue()
