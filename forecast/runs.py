"""Stored runs: ``<workspace>/.forecast/runs/<run-id>/{trace.nc, manifest.json}``.

The manifest records the seed, the settings, package versions, the content
hash of the input files, the diagnostics and the headline forecasts, so a
run can be reused when nothing changed and compared with the one before it.
A run folder is written beside its final place and renamed into it, so a
half-written run never exists; when another process stores a run under the
same id first, the next free id (`-2`, `-3`, ...) is taken.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecast import __version__
from forecast.errors import RunError

if TYPE_CHECKING:
    import arviz as az

    from forecast.inference import Diagnostics
    from forecast.trace import Trace
    from forecast.workspace import Settings, Workspace

RUNS = Path(".forecast") / "runs"


@dataclass(frozen=True)
class Run:
    run_id: str
    path: Path  # the run's folder
    manifest: dict[str, Any]
    sampled: bool = field(default=False, compare=False)  # sampled now, not reused
    note: str = field(default="", compare=False)  # why it was sampled anew, when that needs saying
    ledger_note: str = field(default="", compare=False)  # why the ledger did not record it

    @cached_property
    def trace(self) -> Trace | az.InferenceData:
        """The run's stored draws and summaries, as :mod:`forecast.posterior` reads them.

        In memory for a run sampled by this process; read from ``trace.nc`` by
        xarray otherwise. Either way no ArviZ is imported (:attr:`idata` does).
        """
        from forecast import trace

        if "idata" in self.__dict__:  # already read as an InferenceData
            return self.__dict__["idata"]
        try:
            return trace.read_trace(self.path / "trace.nc")
        except Exception as exc:  # a damaged trace file: say which, don't crash
            raise RunError(
                f"{self.path / 'trace.nc'}: cannot read the stored trace ({exc})"
            ) from None

    @cached_property
    def idata(self) -> az.InferenceData:
        """The stored trace as an ``arviz.InferenceData`` (ArviZ imported to make it)."""
        from forecast import trace

        held = self.trace  # in memory, or read from trace.nc (a RunError when damaged)
        return held.to_arviz() if isinstance(held, trace.Trace) else held

    @property
    def diagnostics(self) -> Diagnostics:
        from forecast.inference import Diagnostics

        return Diagnostics.from_dict(self.manifest["diagnostics"])

    @property
    def created(self) -> str:
        return str(self.manifest.get("created", ""))


def runs_dir(ws: Workspace) -> Path:
    return Path(ws.root) / RUNS


def settings_dict(settings: Settings) -> dict[str, Any]:
    return asdict(settings)


def run_key(ws: Workspace, settings: Settings) -> str:
    """Identifies a run's inputs: the files' content and every setting."""
    blob = json.dumps(
        {"inputs": ws.content_hash(), "settings": settings_dict(settings), "version": __version__},
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _versions() -> dict[str, str]:
    # read from the installed metadata: importing PyMC to ask would cost seconds
    from importlib import metadata

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "?"

    return {
        "forecast": __version__,
        **{name: version(name) for name in ("pymc", "pytensor", "arviz", "numpy")},
        "python": platform.python_version(),
    }


def save_run(
    ws: Workspace, settings: Settings, idata: Trace | az.InferenceData, diagnostics: Diagnostics
) -> Run:
    """Store a run atomically and return it.

    The trace is stored compact (:mod:`forecast.trace`); the returned run
    holds that compact form, so a run reads the same sampled now or reused.
    """
    from forecast import trace
    from forecast.posterior import forecast_table

    created = dt.datetime.now(dt.UTC)
    key = run_key(ws, settings)
    base_id = f"{created:%Y%m%dT%H%M%S}-{key[:8]}"
    stored = trace.compact(idata, ws)
    table = forecast_table(stored, ws)  # from the stored draws, as a reused run reads them
    manifest = {
        "run_id": base_id,
        "created": created.isoformat(timespec="seconds"),
        "seed": settings.seed,
        "settings": settings_dict(settings),
        "versions": _versions(),
        "input_hash": ws.content_hash(),
        "run_key": key,
        "files": dict(ws.file_hashes),
        "trace_format": trace.FORMAT,
        "diagnostics": diagnostics.to_dict(),
        "forecasts": [
            {
                k: (row[k] if k == "id" else float(row[k]))
                for k in ("id", "prior", "posterior", "lo", "hi")
            }
            for row in table.to_dict("records")
        ],
    }
    run = _store(ws, manifest, lambda tmp: trace.write(stored, tmp / "trace.nc"))
    run.__dict__["trace"] = stored  # already in memory
    return run


def adopt_run(ws: Workspace, manifest: dict[str, Any], trace: bytes) -> Run:
    """Store a run sampled elsewhere (its manifest and ``trace.nc`` bytes) in ``ws``.

    The run is placed as :func:`save_run` places one (staged, then renamed to
    the first free id), so a batch run on another machine is stored exactly
    as ``forecast run`` stores it here.
    """
    manifest = dict(manifest)
    base_id = str(manifest.get("run_id", "")).strip()
    if not base_id or "/" in base_id or base_id.startswith("."):
        raise RunError(f"a run returned by a worker has no usable id ({base_id!r})")
    return _store(ws, manifest, lambda tmp: (tmp / "trace.nc").write_bytes(trace))


def _store(ws: Workspace, manifest: dict[str, Any], write: Callable[[Path], Any]) -> Run:
    """Write a run folder beside its place (``write(folder)`` adds the trace) and
    rename it to the first free id from ``manifest["run_id"]`` on."""
    base_id = manifest["run_id"]
    folder = runs_dir(ws)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder, prefix=f".{base_id}."))
    except OSError as exc:
        raise RunError(f"cannot store the run in {folder}: {exc.strerror or exc}") from None
    try:
        write(tmp)
        os.chmod(tmp, 0o755)
        # The staged folder is renamed to the first free id; a process that took
        # the name meanwhile (the same inputs stored within the same second)
        # makes the rename fail, and the next suffix is tried.
        n = 1
        while True:
            run_id = base_id if n == 1 else f"{base_id}-{n}"
            final = folder / run_id
            if not final.exists():
                manifest["run_id"] = run_id
                text = json.dumps(manifest, indent=2) + "\n"
                (tmp / "manifest.json").write_text(text, encoding="utf-8")
                try:
                    os.rename(tmp, final)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                        raise
            n += 1
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise RunError(f"cannot store the run in {folder}: {exc.strerror or exc}") from None
        raise
    return Run(run_id, final, manifest, sampled=True)


def _read(path: Path) -> Run | None:
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or manifest.get("run_id") != path.name:
            return None
        if not (path / "trace.nc").is_file():
            return None
    except (OSError, ValueError):
        return None
    return Run(path.name, path, manifest)


def list_runs(ws: Workspace) -> list[Run]:
    """Every readable stored run, oldest first (damaged folders are passed over)."""
    folder = runs_dir(ws)
    if not folder.is_dir():
        return []
    found = [_read(p) for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted((r for r in found if r is not None), key=lambda r: (r.created, r.run_id))


def damaged_runs(ws: Workspace, key: str) -> list[str]:
    """Run folders stored for this run key that cannot be read (manifest or trace lost).

    A run id ends with the key's first 8 characters (and ``-N`` when several
    were stored within one second), so a folder is known by its name alone.
    """
    folder = runs_dir(ws)
    if not folder.is_dir():
        return []
    tag = f"-{key[:8]}"
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.is_dir()
        and not p.name.startswith(".")
        and (p.name.endswith(tag) or f"{tag}-" in p.name)
        and _read(p) is None
    )


def find_run(ws: Workspace, key: str) -> Run | None:
    """The latest stored run with this run key."""
    matches = [r for r in list_runs(ws) if r.manifest.get("run_key") == key]
    return matches[-1] if matches else None


def latest_run(ws: Workspace) -> Run | None:
    runs = list_runs(ws)
    return runs[-1] if runs else None


def load_run(ws: Workspace, run_id: str) -> Run:
    path = runs_dir(ws) / run_id
    run = _read(path) if path.is_dir() else None
    if run is None:
        known = ", ".join(r.run_id for r in list_runs(ws)[-5:]) or "none"
        raise RunError(f"no readable run {run_id!r} under {runs_dir(ws)}; latest runs: {known}")
    return run


def previous_run(ws: Workspace, run: Run) -> Run | None:
    """The latest run older than ``run`` (whatever its inputs)."""
    older = [r for r in list_runs(ws) if (r.created, r.run_id) < (run.created, run.run_id)]
    return older[-1] if older else None


# --- pruning ---------------------------------------------------------------------------------
PRUNING = ".pruning"  # suffix of a run folder being deleted (hidden: readers pass it over)


@dataclass(frozen=True)
class Pruning:
    """What ``prune`` keeps, with why, and what it deletes, with the bytes freed."""

    kept: tuple[tuple[str, str], ...]  # (run id, reason), oldest first
    deleted: tuple[tuple[str, int], ...]  # (run id, bytes), oldest first

    @property
    def freed(self) -> int:
        return sum(n for _, n in self.deleted)


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _reported(folder: Path) -> dict[str, str]:
    """Run id -> the report folder (under ``folder``) whose manifest names it."""
    found: dict[str, str] = {}
    if not folder.is_dir():
        return found
    for report in sorted(folder.iterdir()):
        try:
            manifest = json.loads((report / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(manifest, dict) and isinstance(manifest.get("run_id"), str):
            found.setdefault(manifest["run_id"], str(report))
    return found


def plan_prune(
    ws: Workspace,
    *,
    keep: int = 5,
    older_than_days: float | None = None,
    reports: Path | None = None,
    now: dt.datetime | None = None,
) -> Pruning:
    """Which stored runs ``prune`` would delete, and why each other one stays.

    A run stays when it is one of the ``keep`` newest; when it is younger
    than ``older_than_days`` (if given); when a report folder under
    ``reports`` (default: the workspace's report folder) was made from it,
    as the report points at its trace; when it is the run the workspace's
    files and settings would reuse now; or when it is the latest run the
    ledger recorded. Every other readable run is deleted.
    """
    from forecast import ledger

    runs = list_runs(ws)
    now = now or dt.datetime.now(dt.UTC)
    why: dict[str, str] = {}
    for r in runs[::-1][: max(keep, 0)]:
        why.setdefault(r.run_id, "the newest" if keep == 1 else f"one of the {keep} newest")
    current = find_run(ws, run_key(ws, ws.settings))
    if current is not None:
        why.setdefault(current.run_id, "the run the workspace's files and settings reuse")
    reported = _reported(reports if reports is not None else Path(ws.root) / ws.settings.output)
    for run_id, where in reported.items():
        why.setdefault(run_id, f"the report {where} points at its trace")
    if ledger.ledger_path(ws.root).is_file():
        with ledger.open_ledger(ws.root, create=False) as book:
            recorded = [r for r in book.runs() if r.get("kind") == "run"]
        if recorded:
            latest = max(recorded, key=lambda r: str(r.get("created", "")))["run_id"]
            why.setdefault(str(latest), "the latest run in the ledger")
    kept, deleted = [], []
    for r in runs:
        if r.run_id not in why and older_than_days is not None:
            try:
                made = dt.datetime.fromisoformat(r.created)
            except ValueError:
                made = now
            if made.tzinfo is None:
                made = made.replace(tzinfo=dt.UTC)
            if now - made < dt.timedelta(days=older_than_days):
                why[r.run_id] = f"younger than {older_than_days:g} days"
        if r.run_id in why:
            kept.append((r.run_id, why[r.run_id]))
        else:
            deleted.append((r.run_id, _size(r.path)))
    return Pruning(tuple(kept), tuple(deleted))


def prune(ws: Workspace, plan: Pruning) -> None:
    """Delete the runs ``plan`` deletes (call under the workspace lock).

    Each run folder is first renamed to a hidden name, atomically, so a
    reader never sees half a run, then removed; a removal cut short leaves
    only a hidden folder, which the next prune removes.
    """
    folder = runs_dir(ws)
    for leftover in folder.glob(f".*{PRUNING}") if folder.is_dir() else ():
        shutil.rmtree(leftover, ignore_errors=True)
    for run_id, _ in plan.deleted:
        path = folder / run_id
        hidden = folder / f".{run_id}{PRUNING}"
        try:
            os.rename(path, hidden)
        except FileNotFoundError:
            continue  # gone already
        except OSError as exc:
            raise RunError(f"{path}: cannot delete the run: {exc.strerror or exc}") from None
        shutil.rmtree(hidden, ignore_errors=True)
