"""Running cells on Dask distributed, and a spec's whole batch.

:func:`run_cells` sends cells to a cluster (a ``LocalCluster`` of worker
processes, one thread each, or the scheduler at an address) and yields each
:class:`Outcome` as it finishes; a cell that fails is an outcome with its
error, never an exception. :func:`run_batch` does a spec's work on top of
it: the cells of every workspace and grid point, the ones finished before
taken from the cache, each new run stored in its workspace (under the
workspace lock) and recorded in its ledger as ``forecast run`` records it,
and the results table.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecast.batch.cells import Cell, code_version, run_cell, shown, workspace_files
from forecast.batch.spec import AS_OF, Spec
from forecast.errors import OutputError, Problem, RunError, WorkspaceError

if TYPE_CHECKING:
    import pandas as pd

    from forecast.workspace import Workspace

Progress = Callable[[int, int, str], None]
CACHE = "cells"  # under the output folder: one JSON file per finished cell
# columns of the results table after the grid's own
COLUMNS = (
    "question", "title", "prior", "forecast", "lo", "hi", "rhat", "ess_bulk", "ess_tail",
    "diagnostics_ok", "outcome", "run_id", "seconds", "worker_peak_mib", "status", "error",
    "cell_key",
)  # fmt: skip


@dataclass
class Outcome:
    """What became of one cell."""

    cell: Cell
    result: dict[str, Any] | None = None  # run_cell's answer
    error: str = ""
    run_id: str = ""
    cached: bool = False
    rows: list[dict[str, Any]] = field(default_factory=list)  # the table's rows

    @property
    def ok(self) -> bool:
        return not self.error


# --- the cluster ------------------------------------------------------------------------


def default_workers(cells: int) -> int:
    """One worker a core, never more than there are cells."""
    return max(1, min(cells, os.cpu_count() or 1))


@contextlib.contextmanager
def cluster(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A ``distributed.Client``: of the scheduler at ``scheduler``, or of a
    ``LocalCluster`` of ``workers`` processes, one thread each, with BLAS held
    to one thread (the cells, not the threads of one cell, run side by side)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise RunError(
            "forecast batch needs Dask distributed: pip install 'dask[distributed]'"
        ) from None
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise RunError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    with (
        LocalCluster(
            n_workers=workers or default_workers(1),
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port: never clash with a cluster already running
            silence_logs=logging.ERROR,
            env=env,
        ) as local,
        Client(local) as client,
    ):
        yield client


def run_cells(
    cells: Iterable[Cell],
    client: Any,
    progress: Progress | None = None,
) -> Iterator[Outcome]:
    """Send every cell to ``client``'s cluster; yield each outcome as it finishes."""
    from distributed import as_completed

    cells = list(cells)
    futures = {}
    sent: dict[int, Any] = {}  # a workspace's files travel once, whatever its cells
    for cell in cells:
        if id(cell.files) not in sent:
            (sent[id(cell.files)],) = client.scatter([dict(cell.files)], hash=False)
        future = client.submit(
            run_cell,
            sent[id(cell.files)],
            dict(cell.settings),
            cell.as_of.isoformat() if cell.as_of else None,
            key=f"forecast-cell-{cell.key[:16]}-{id(cell):x}",
            pure=False,
            retries=0,
        )
        futures[future] = cell
    if progress:
        progress(0, len(cells), f"{len(cells)} cells sent to the cluster")
    for done, future in enumerate(as_completed(futures), start=1):
        cell = futures.pop(future)
        try:
            result = future.result()
        except Exception as exc:  # the cell failed on its worker: a row, not the end
            yield Outcome(cell, error=_why(exc))
        else:
            if result.get("code") != code_version():
                yield Outcome(
                    cell,
                    error=f"the worker runs {result.get('code')}, this machine "
                    f"{code_version()}: install the same versions everywhere",
                )
            else:
                yield Outcome(cell, result=result)
        future.release()
        if progress:
            progress(done, len(cells), f"cells: {done} of {len(cells)} done")


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- a spec's batch -----------------------------------------------------------------------


@dataclass(frozen=True)
class BatchResult:
    """The results table (one row a question and cell, one a failed cell) and where
    it was written."""

    frame: pd.DataFrame
    keys: tuple[str, ...]  # the grid's keys, as the spec writes them
    out: Path
    files: tuple[Path, ...]  # written: the table(s), the page
    note: str = ""  # e.g. why there is no Parquet file

    @property
    def cells(self) -> int:
        return int(self.frame["cell"].nunique()) if len(self.frame) else 0

    def count(self, status: str) -> int:
        if not len(self.frame):
            return 0
        return int(self.frame.loc[self.frame["status"] == status, "cell"].nunique())


def load_workspaces(spec: Spec) -> dict[str, Workspace]:
    """Every workspace the spec names, validated; problems name the workspace."""
    from forecast.workspace import load_workspace

    loaded, problems = {}, []
    for written, folder in spec.workspaces:
        try:
            loaded[name(written, folder)] = load_workspace(folder)
        except WorkspaceError as exc:
            problems += [
                Problem(str(Path(folder) / p.path), p.line, p.message, p.severity)
                for p in exc.problems
            ]
    if problems:
        raise WorkspaceError(problems)
    return loaded


def name(written: str, folder: Path) -> str:
    """A workspace's name in tables: as the spec writes it, but a path of dots
    only (``../..``) by the folder's own name."""
    if all(part in (".", "..") for part in Path(written).parts):
        return Path(folder).resolve().name or written
    return written


def spec_cells(spec: Spec, workspaces: Mapping[str, Workspace]) -> list[Cell]:
    """One cell per workspace and grid point, workspace by workspace."""
    cells = []
    for written, ws in workspaces.items():
        files = workspace_files(ws)
        for point in spec.points():
            changes = {**spec.settings, **{k: v for k, v in point.items() if k != AS_OF}}
            cells.append(
                Cell(
                    workspace=written,
                    files=files,
                    settings=changes,
                    as_of=point.get(AS_OF),
                    values=point,
                    root=Path(ws.root),
                )
            )
    return cells


def default_out(spec_path: Path) -> Path:
    return spec_path.parent / f"{spec_path.stem}-results"


def run_batch(
    spec: Spec,
    out: Path | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> BatchResult:
    """Run every cell of ``spec`` not finished before; write the table and the page.

    Raises
    ------
    WorkspaceError
        A workspace the spec names has errors (nothing is run).
    RunError
        The cluster cannot be reached, or the results cannot be written.
    """
    from forecast.asof import as_of as cut

    out = Path(out or spec.out or default_out(spec.path))
    workspaces = load_workspaces(spec)
    cells = spec_cells(spec, workspaces)
    cache = out / CACHE
    try:  # before any cell runs: a run must never be stored and then not noted done
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write the results in {out}: {exc.strerror or exc}") from None
    outcomes: dict[int, Outcome] = {}
    todo = []
    for i, cell in enumerate(cells):
        found = _cached(cache / _cache_name(cell), cell)
        if found is not None:
            outcomes[i] = Outcome(cell, run_id=found["run_id"], cached=True, rows=found["rows"])
        else:
            todo.append(i)
    if progress and len(todo) < len(cells):
        progress(0, len(todo), f"{len(cells) - len(todo)} cells finished before: taken as stored")
    if todo:
        index = {id(cells[i]): i for i in todo}
        workers = default_workers(len(todo))
        if progress:
            where = scheduler or f"a local cluster of {workers} worker{'s' * (workers != 1)}"
            progress(0, len(todo), f"connecting to {where}")
        with cluster(scheduler, workers) as client:
            for outcome in run_cells([cells[i] for i in todo], client, progress):
                i = index[id(outcome.cell)]
                if outcome.ok:
                    ws = workspaces[outcome.cell.workspace]
                    if outcome.cell.as_of:
                        ws = cut(ws, outcome.cell.as_of)
                    try:
                        outcome = _keep(outcome, ws, cache)
                    except Exception as exc:  # e.g. a locked workspace: the cell failed here
                        outcome = Outcome(outcome.cell, error=f"storing the run: {_why(exc)}")
                outcomes[i] = outcome
    frame = results_frame([outcomes[i] for i in range(len(cells))], spec.keys)
    files, note = write_results(frame, spec.keys, out, spec.path)
    return BatchResult(frame, spec.keys, out, tuple(files), note)


def _cache_name(cell: Cell) -> str:
    """The cell's file in the cache: its key, and the workspace its run is stored in
    (two folders holding the same files are two cells)."""
    where = str(Path(cell.root).resolve()) if cell.root else ""
    return hashlib.sha256(f"{cell.key}\0{where}".encode()).hexdigest() + ".json"


def _cached(path: Path, cell: Cell) -> dict[str, Any] | None:
    """The finished cell's record, or None: not there, damaged, or its run no
    longer in its workspace (then the cell runs again)."""
    from forecast.runs import RUNS

    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(found, dict) and isinstance(found.get("rows"), list) and found.get("run_id")
    if ok and cell.root is not None:
        ok = (Path(cell.root) / RUNS / str(found["run_id"]) / "manifest.json").is_file()
    return found if ok else None


def _keep(outcome: Outcome, ws: Workspace, cache: Path) -> Outcome:
    """Store the cell's run in its workspace and ledger, then note the cell done."""
    from forecast import ledger, runs
    from forecast.io import atomic_write_text
    from forecast.lock import workspace_lock

    result = outcome.result or {}
    with workspace_lock(ws.root):
        run = runs.adopt_run(ws, result["manifest"], result["trace"])
        ledger.record_run(ws, run)
    done = replace(outcome, run_id=run.run_id, result={**result, "trace": b""})
    done.rows = _rows(done)
    record = {"run_id": run.run_id, "workspace": outcome.cell.workspace, "rows": done.rows}
    atomic_write_text(cache / _cache_name(outcome.cell), json.dumps(record, indent=1) + "\n")
    return done


def _rows(outcome: Outcome) -> list[dict[str, Any]]:
    """The cell's per-question rows (cached as they are)."""
    result = outcome.result or {}
    diag = (result.get("manifest") or {}).get("diagnostics", {})
    rows = []
    for row in result.get("table", []):
        rows.append(
            {
                "question": row["id"],
                "title": row["title"],
                "prior": row["prior"],
                "forecast": row["posterior"],
                "lo": row["lo"],
                "hi": row["hi"],
                "rhat": row["rhat"],
                "ess_bulk": row["ess_bulk"],
                "ess_tail": row["ess_tail"],
                "diagnostics_ok": bool(diag.get("ok", False)),
                "outcome": row["outcome"],
                "seconds": round(float(result.get("seconds", 0.0)), 3),
                "worker_peak_mib": round(result.get("peak_rss", 0) / 2**20, 1),
            }
        )
    return rows


def results_frame(outcomes: list[Outcome], keys: tuple[str, ...]) -> pd.DataFrame:
    """One row per question and cell; a failed cell is one row with its error."""
    import pandas as pd

    records = []
    for n, outcome in enumerate(outcomes):
        cell = outcome.cell
        head = {"cell": n, "workspace": cell.workspace}
        head |= {k: shown(cell.values[k]) if k == AS_OF else cell.values[k] for k in keys}
        tail = {
            "run_id": outcome.run_id,
            "status": "failed" if outcome.error else ("cached" if outcome.cached else "done"),
            "error": outcome.error,
            "cell_key": cell.key,
        }
        rows = outcome.rows or [{}]
        for row in rows:
            records.append({**head, **dict.fromkeys(COLUMNS), **row, **tail})
    columns = ["cell", "workspace", *keys, *COLUMNS]
    return pd.DataFrame.from_records(records, columns=columns)


def write_results(
    frame: pd.DataFrame, keys: tuple[str, ...], out: Path, spec_path: Path
) -> tuple[list[Path], str]:
    """``results.csv``, ``results.parquet`` when pyarrow is there, and ``batch.html``."""
    from forecast.batch.page import page
    from forecast.io import atomic_write_bytes, atomic_write_text

    written = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "results.csv", frame.to_csv(index=False))
        written.append(out / "results.csv")
        note = ""
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            note = "no Parquet file: pyarrow is not installed (pip install pyarrow); CSV only"
        else:
            import io

            buffer = io.BytesIO()
            frame.to_parquet(buffer, index=False)
            atomic_write_bytes(out / "results.parquet", buffer.getvalue())
            written.append(out / "results.parquet")
        atomic_write_text(out / "batch.html", page(frame, keys, spec_path.name))
        written.append(out / "batch.html")
    except OSError as exc:
        raise RunError(f"cannot write the results in {out}: {exc.strerror or exc}") from None
    return written, note
