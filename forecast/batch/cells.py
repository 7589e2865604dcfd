"""One cell of a batch: a workspace's files, settings and a seed, run on a worker.

What travels to a worker is plain data: the workspace's files as bytes
(relative path -> bytes), the settings to change and the ``as_of`` date.
:func:`run_cell` writes the files into a temporary folder on the worker,
reads them with :func:`~forecast.workspace.load_workspace` and runs them
through :func:`~forecast.inference.ensure_run`, the code path of
``forecast run``; what comes back is plain data too: the per-question table,
the stored run's ``manifest.json`` and ``trace.nc`` bytes, and what the cell
cost (seconds, the worker's peak memory).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from forecast import __version__
from forecast.errors import RunError

if TYPE_CHECKING:
    from forecast.workspace import Workspace


@dataclass(frozen=True)
class Cell:
    """One seeded run of one workspace with some settings changed."""

    workspace: str  # the workspace's name in tables (as the spec writes it)
    files: Mapping[str, bytes]  # what travels: relative posix path -> bytes
    settings: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    as_of: dt.date | None = None
    values: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))  # grid point
    root: Path | None = None  # where the run is stored; None: nowhere

    @property
    def key(self) -> str:
        """Content hash of what decides the cell's numbers: the input files, the
        settings changed, the cut-off date and the code's version."""
        blob = json.dumps(
            {
                "files": {p: hashlib.sha256(b).hexdigest() for p, b in sorted(self.files.items())},
                "settings": dict(self.settings),
                "as_of": self.as_of.isoformat() if self.as_of else None,
                "code": code_version(),
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def label(self) -> str:
        """The grid point as ``coding_sd=0.2, seed=1`` (the workspace alone without a grid)."""
        return ", ".join(f"{k}={shown(v)}" for k, v in self.values.items()) or self.workspace


def shown(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else f"{value}"


def code_version() -> str:
    """The versions that decide a run's numbers (read without importing PyMC)."""
    from importlib.metadata import PackageNotFoundError, version

    parts = [f"forecast {__version__}"]
    for name in ("pymc", "pytensor", "numpy"):
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name} ?")
    return "; ".join(parts)


def workspace_files(ws: Workspace) -> dict[str, bytes]:
    """The bytes of every file ``ws`` was read from, checked against the hashes
    taken when it was read (a file edited since would give another run)."""
    from forecast.asof import AS_OF_KEY

    files = {}
    for rel, digest in ws.file_hashes.items():
        if rel == AS_OF_KEY:
            continue
        path = Path(ws.root) / rel
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise RunError(f"{path}: cannot read it: {exc.strerror or exc}") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise RunError(f"{path}: changed while the batch was reading it; run it again")
        files[rel] = data
    return files


def materialise(files: Mapping[str, bytes], root: Path) -> None:
    """Write ``files`` under ``root``; a path that would leave it is refused."""
    for rel, data in files.items():
        parts = PurePosixPath(rel).parts
        if not parts or PurePosixPath(rel).is_absolute() or ".." in parts:
            raise RunError(f"refusing to write {rel!r} outside the cell's folder")
        path = root.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def run_cell(
    files: Mapping[str, bytes], settings: Mapping[str, Any], as_of: str | None
) -> dict[str, Any]:
    """Run one cell here (on a worker): the files in a temporary folder, then
    ``forecast run``'s path (:func:`~forecast.inference.ensure_run`).

    The chains run one after another (``cores=1``): a worker is one thread,
    and the cells are what run side by side. The draws are the same as with
    a process per chain.
    """
    import resource
    import socket
    import tempfile
    import time
    import warnings
    from dataclasses import replace

    from forecast.asof import as_of as cut
    from forecast.inference import ensure_run
    from forecast.posterior import forecast_table
    from forecast.workspace import load_workspace

    # as the command line does: a note about PyTensor's build, not about a forecast
    warnings.filterwarnings(
        "ignore", message="PyTensor could not link to a BLAS installation", category=UserWarning
    )
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="forecast-cell-") as tmp:
        root = Path(tmp)
        materialise(files, root)
        ws = load_workspace(root)
        if as_of:
            ws = cut(ws, dt.date.fromisoformat(as_of))
        run = ensure_run(ws, replace(ws.settings, **settings), reuse=False, cores=1)
        table = forecast_table(run.trace, ws)
        trace = (run.path / "trace.nc").read_bytes()
        manifest = dict(run.manifest)
    return {
        "table": table.to_dict("records"),
        "manifest": manifest,
        "trace": trace,
        "seconds": time.perf_counter() - start,
        # ru_maxrss is in KiB on Linux: the worker process's peak so far
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "host": socket.gethostname(),
        "code": code_version(),
    }
