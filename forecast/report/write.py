"""Write a report folder: ``<folder>/<run-id>/`` with every file, all or nothing.

The folder is built under a hidden temporary name beside its final place
(every file written atomically) and renamed into place at the end, so an
interrupted report leaves no half folder. A report folder that already
exists is never overwritten: the same run gives the same report.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from forecast.io import atomic_write_bytes, atomic_write_text
from forecast.report import figures as fig
from forecast.report.html import render_html
from forecast.report.markdown import render_markdown
from forecast.report.tables import Report

STALE_SECONDS = 3600  # a hidden partial folder older than this was left by a killed report


@dataclass(frozen=True)
class Written:
    """Where a report is, which files it holds, and whether this call wrote it."""

    path: Path
    files: tuple[str, ...]
    created: bool  # False when the folder was already there (left untouched)

    @property
    def html(self) -> Path:
        return self.path / "report.html"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _clean_stale(folder: Path) -> None:
    now = time.time()
    for p in folder.glob(".*.partial"):
        with contextlib.suppress(OSError):
            if p.is_dir() and now - p.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(p, ignore_errors=True)


def _existing(target: Path) -> Written:
    files = tuple(sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()))
    return Written(target, files, created=False)


def _figures(report: Report) -> dict[str, bytes]:
    """The report's figures, cached in its run's folder (``figures/``).

    The previous run's cache is read too: a question whose draws did not
    change keeps its figures without drawing them again.
    """
    if report.trace_path is None:
        return fig.render(report)
    run = report.trace_path.parent
    also = [run.parent / report.previous_run_id / "figures"] if report.previous_run_id else []
    return fig.render(report, cache=run / "figures", also=also)


def _trace_link(report: Report, target: Path) -> str | None:
    """Where the run's trace is, relative to the report folder (absolute if elsewhere)."""
    if report.trace_path is None:
        return None
    trace = report.trace_path.resolve()
    try:
        return Path(os.path.relpath(trace, target.resolve())).as_posix()
    except ValueError:  # another drive
        return str(trace)


def _fill(
    report: Report, tmp: Path, target: Path, figures: Mapping[str, bytes] | None
) -> list[str]:
    figures = _figures(report) if figures is None else figures
    for name, data in figures.items():
        atomic_write_bytes(tmp / name, data)
    atomic_write_text(tmp / "report.html", render_html(report, figures))
    atomic_write_text(tmp / "report.md", render_markdown(report, figures))
    atomic_write_text(tmp / "posteriors.csv", report.forecasts.to_csv(index=False))
    atomic_write_text(tmp / "contributions.csv", report.contributions.to_csv(index=False))
    names = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())
    manifest = {
        **report.manifest,
        "report": {
            "workspace": report.workspace,
            "previous_run": report.previous_run_id,
            "trace": _trace_link(report, target),
            "files": {name: _sha256(tmp / name) for name in names},
        },
    }
    atomic_write_text(tmp / "manifest.json", json.dumps(manifest, indent=2, default=str) + "\n")
    return [*names, "manifest.json"]


def write_report(
    report: Report, folder: str | Path, figures: Mapping[str, bytes] | None = None
) -> Written:
    """Write ``report`` into ``folder/<run-id>/``; leave an existing one untouched.

    ``figures`` are the PNGs from :func:`forecast.report.figures.render`, drawn
    here when not given (cached in the run's folder). The run's trace is not
    copied: ``manifest.json``'s ``report.trace`` says where it is stored.

    Returns
    -------
    Written
        ``created`` is False when that folder already existed.
    """
    folder = Path(folder)
    target = folder / report.run_id
    if target.exists():
        return _existing(target)
    folder.mkdir(parents=True, exist_ok=True)
    _clean_stale(folder)
    tmp = Path(tempfile.mkdtemp(dir=folder, prefix=f".{report.run_id}.", suffix=".partial"))
    try:
        names = _fill(report, tmp, target, figures)
        os.chmod(tmp, 0o755)
        try:
            os.rename(tmp, target)  # atomic; fails if another report got there first
        except OSError:
            if target.exists():
                shutil.rmtree(tmp, ignore_errors=True)
                return _existing(target)
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Written(target, tuple(sorted(names)), created=True)
