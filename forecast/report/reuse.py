"""Telling cheaply whether a report folder already shows what a fresh report would.

A report is made from the run (its manifest and trace), the run before it
(its forecasts give "Since previous"), the workspace (its files' content,
its warnings, its folder's name), the ledger (the track record and the
timelines), where the folder is (the page links the trace by a relative
path), and the code that renders it (this package's files and the versions
of the libraries that compute, draw and write it). :func:`report_key`
hashes all of them without reading the trace or importing pandas, ArviZ or
matplotlib; :func:`forecast.report.write.write_report` stores the key in the
folder's ``manifest.json`` (``report.key``), with the track record's
summary line.

:func:`stored_report` is ``forecast report``'s shortcut: when the folder of
the run the workspace's files and settings would reuse holds the same key
and its files are as written (``report.files``), the page is byte for byte
what a fresh render would give; it is left as it is, and the forecast table
is read back from its ``posteriors.csv``.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import platform
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecast import __version__
from forecast.report.summary import RunFacts

if TYPE_CHECKING:
    from forecast.runs import Run
    from forecast.workspace import Settings, Workspace

KEY_FORMAT = 1
# Libraries whose version can change a report's bytes: its numbers, plots, PNG, CSV and HTML.
LIBRARIES = (
    "numpy", "pandas", "scipy", "xarray", "h5netcdf", "arviz", "matplotlib",
    "pillow", "jinja2", "markupsafe",
)  # fmt: skip


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tree_digest(folder: Path) -> str:
    """A hash of every file under ``folder`` (names and bytes; compiled files left out)."""
    h = hashlib.sha256()
    files = sorted(
        p for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")
    )  # fmt: skip
    for path in files:
        h.update(f"{path.relative_to(folder).as_posix()}\0".encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


@functools.cache
def code_digest() -> str:
    """This package's files (code, templates, style sheet) and the libraries' versions:
    any edit of the code, not only a new version number, makes a new key."""
    from importlib import metadata

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "-"

    return json.dumps(
        {
            "forecast": __version__,
            "python": platform.python_version(),
            "libraries": {name: version(name) for name in LIBRARIES},
            "package": tree_digest(Path(__file__).resolve().parents[1]),
        },
        sort_keys=True,
    )


def report_key(ws: Workspace, run: Run, previous: Run | None, target: Path) -> str | None:
    """The content hash of everything the report of ``run`` in ``target`` is made from.

    None when the ledger cannot be read: a report that shows why is never reused.
    """
    from forecast.ledger import LedgerError, open_ledger

    try:
        with open_ledger(ws.root, readonly=True) as book:
            ledger = book.digest()
    except LedgerError:
        return None
    trace = run.path / "trace.nc"
    parts = {
        "format": KEY_FORMAT,
        "code": code_digest(),
        "run": [
            run.run_id,
            file_sha256(run.path / "manifest.json"),
            file_sha256(trace) if trace.is_file() else None,
        ],
        "previous": None
        if previous is None
        else [previous.run_id, file_sha256(previous.path / "manifest.json")],
        "workspace": [ws.root.resolve().name, ws.content_hash(), [str(p) for p in ws.warnings]],
        "target": str(Path(target).resolve()),
        "ledger": ledger,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def current(target: Path, key: str | None) -> dict[str, Any] | None:
    """The manifest of the report folder ``target`` when it holds ``key`` and every
    file it lists is as written; else None (no folder, another key, a file edited
    or missing)."""
    if not key:
        return None
    try:
        manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
        report = manifest["report"]
        if report.get("key") != key:
            return None
        files = report["files"]
        if not files or any(file_sha256(target / n) != d for n, d in files.items()):
            return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return manifest


@dataclass(frozen=True)
class StoredReport(RunFacts):
    """A report read back from its folder: what the terminal shows of it."""

    run_id: str
    manifest: Mapping[str, Any]  # the run's
    previous_run_id: str | None
    rows: tuple[Mapping[str, str], ...]  # posteriors.csv, as text
    track: str | None  # the track record's summary line; None when the page has none
    path: Path  # the report folder

    def forecast_rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows]


def stored_report(ws: Workspace, settings: Settings, folder: Path) -> StoredReport | None:
    """The report folder of the stored run ``ws`` and ``settings`` would reuse, when it
    already shows what a fresh report would (module docstring); else None."""
    from forecast import runs

    run = runs.find_run(ws, runs.run_key(ws, settings))
    if run is None:
        return None
    target = Path(folder) / run.run_id
    if not (target / "manifest.json").is_file():
        return None
    manifest = current(target, report_key(ws, run, runs.previous_run(ws, run), target))
    if manifest is None:
        return None
    try:
        with (target / "posteriors.csv").open(encoding="utf-8", newline="") as fh:
            rows = tuple(csv.DictReader(fh))
    except (OSError, ValueError, csv.Error):
        return None
    report = manifest["report"]
    return StoredReport(
        run_id=run.run_id,
        manifest=run.manifest,
        previous_run_id=report.get("previous_run"),
        rows=rows,
        track=report.get("track"),
        path=target,
    )
