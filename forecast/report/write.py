"""Write a report folder: ``<folder>/<run-id>/`` with every file, all or nothing.

The folder is built under a hidden temporary name beside its final place
(every file written atomically) and renamed into place at the end, so an
interrupted report leaves no half folder. A report folder that already
exists is left as it is; with ``replace``, only when it holds the same
report key (:mod:`forecast.report.reuse`), else a fresh one takes its place.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from forecast.io import atomic_write_bytes, atomic_write_text
from forecast.report import figures as fig
from forecast.report.html import render_html
from forecast.report.markdown import render_markdown
from forecast.report.reuse import current, file_sha256
from forecast.report.tables import Report

STALE_SECONDS = 3600  # a hidden partial folder older than this was left by a killed report


@dataclass(frozen=True)
class Written:
    """Where a report is, which files it holds, and whether this call wrote it."""

    path: Path
    files: tuple[str, ...]
    created: bool  # False when the folder was already there (left untouched)
    replaced: bool = False  # written in place of an older report of the same run

    @property
    def html(self) -> Path:
        return self.path / "report.html"


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
    report: Report, tmp: Path, target: Path, figures: Mapping[str, bytes] | None, key: str | None
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
            "files": {name: file_sha256(tmp / name) for name in names},
            "key": key,  # forecast.report.reuse.report_key: what the report is made from
            "track": report.track.summary_line() if report.track is not None else None,
        },
    }
    atomic_write_text(tmp / "manifest.json", json.dumps(manifest, indent=2, default=str) + "\n")
    return [*names, "manifest.json"]


def write_report(
    report: Report,
    folder: str | Path,
    figures: Mapping[str, bytes] | None = None,
    *,
    key: str | None = None,
    replace: bool = False,
) -> Written:
    """Write ``report`` into ``folder/<run-id>/``.

    ``figures`` are the PNGs from :func:`forecast.report.figures.render`, drawn
    here when not given (cached in the run's folder). The run's trace is not
    copied: ``manifest.json``'s ``report.trace`` says where it is stored, and
    ``report.key`` records ``key`` (:func:`forecast.report.reuse.report_key`).
    An existing folder is left untouched; with ``replace``, only when it holds
    ``key`` with its files as written (a ``None`` key never matches), else the
    fresh folder takes its place.

    Returns
    -------
    Written
        ``created`` is False when the existing folder was left as it was.
    """
    folder = Path(folder)
    target = folder / report.run_id
    if target.exists() and (not replace or current(target, key) is not None):
        return _existing(target)
    folder.mkdir(parents=True, exist_ok=True)
    _clean_stale(folder)
    tmp = Path(tempfile.mkdtemp(dir=folder, prefix=f".{report.run_id}.", suffix=".partial"))
    replaced = False
    try:
        names = _fill(report, tmp, target, figures, key)
        os.chmod(tmp, 0o755)
        if target.exists():
            replaced = _swap_out(target)
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
    return Written(target, tuple(sorted(names)), created=True, replaced=replaced)


def _swap_out(target: Path) -> bool:
    """Move an outdated report folder aside (to a hidden name that
    :func:`_clean_stale` would clear) and delete it; False if it was gone already."""
    aside = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.replaced.partial"
    try:
        os.rename(target, aside)
    except FileNotFoundError:  # another report moved it first
        return False
    shutil.rmtree(aside, ignore_errors=True)
    return True
