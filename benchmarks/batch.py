"""What a `forecast batch` worker needs: memory and time per cell, and the speed-up.

Each memory figure is the peak resident set (``ru_maxrss``) of a fresh
one-thread worker process of a ``LocalCluster`` after one cell:

- baseline: the worker after importing ``forecast.inference`` and PyMC, no cell;
- the shipped workspace with its own settings (4 chains x 1000 draws; drawn
  forward: nothing is resolved);
- a simulated 100-question workspace (3 analysts, half the questions resolved,
  so NUTS; drawn by ``benchmarks/sbc.py``'s generator), 4 chains x 1000 draws.

Then the throughput: ``--cells`` cells of the shipped workspace (seeds 1, 2,
...) as ``forecast run`` commands one after another (the baseline: what a
team would do without ``forecast batch``), one after another in this warm
process through the function the workers run, and on a ``LocalCluster`` of
``--workers`` processes (cluster start-up included).

    python benchmarks/batch.py [--workers 2] [--cells 6] [--questions 100]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def _idle_peak() -> int:
    import pymc  # noqa: F401

    import forecast.inference  # noqa: F401

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def mib(n: float) -> str:
    return f"{n / 2**20:.0f} MiB"


def one_worker(cell):
    """(worker peak after the cell, the cell's outcome), in a fresh one-worker cluster."""
    from forecast.batch import cluster, run_cells

    with cluster(workers=1) as client:
        (outcome,) = run_cells([cell], client)
    if not outcome.ok:
        raise SystemExit(f"{cell.workspace}: {outcome.error}")
    return outcome.result["peak_rss"], outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cells", type=int, default=6)
    parser.add_argument("--questions", type=int, default=100)
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

    from forecast.batch import Cell, cluster, run_cell, run_cells, workspace_files
    from forecast.batch.cells import materialise
    from forecast.workspace import load_workspace
    from forecast.workspace.writing import workspace_bytes

    with cluster(workers=1) as client:
        idle = client.submit(_idle_peak, pure=False).result()
    print(f"baseline: an idle worker after importing forecast and PyMC: {mib(idle)}", flush=True)

    shipped = load_workspace(ROOT)
    files = workspace_files(shipped)
    peak, outcome = one_worker(Cell("shipped", files))
    r = outcome.result
    print(
        f"shipped workspace (6 questions, forward draws, 4 x 1000): worker peak {mib(peak)} "
        f"(+{mib(peak - idle)} over the baseline); cell {r['seconds']:.1f} s on a cold worker; "
        f"sent {sum(map(len, files.values())) / 1024:.0f} KiB of files, "
        f"got back a {len(r['trace']) / 2**20:.1f} MiB trace",
        flush=True,
    )

    import sbc

    n = args.questions
    settings = {"draws": 1000, "tune": 1000, "chains": 4, "seed": 1}
    ws, _ = sbc.draw_world(7, n, 3, n // 2, settings)
    big = workspace_bytes(ws)
    peak, outcome = one_worker(Cell(f"{n} questions", big))
    r = outcome.result
    print(
        f"simulated workspace ({n} questions, 3 analysts, {n // 2} resolved, NUTS, 4 x 1000): "
        f"worker peak {mib(peak)} (+{mib(peak - idle)} over the baseline); cell "
        f"{r['seconds']:.1f} s on a cold worker; got back a {len(r['trace']) / 2**20:.1f} MiB "
        f"trace",
        flush=True,
    )

    cells = [Cell("shipped", files, {"seed": s}) for s in range(1, args.cells + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "ws"
        materialise(files, copy)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get(
            "PYTHONPATH", "")])}  # fmt: skip
        start = time.perf_counter()
        for cell in cells:
            cmd = [sys.executable, "-m", "forecast", "run", str(copy), "--seed",
                   str(cell.settings["seed"])]  # fmt: skip
            subprocess.run(cmd, env=env, check=True, capture_output=True)
        commands = time.perf_counter() - start
    start = time.perf_counter()
    for cell in cells:
        run_cell(dict(cell.files), dict(cell.settings), None)
    in_process = time.perf_counter() - start
    start = time.perf_counter()
    with cluster(workers=args.workers) as client:
        outcomes = list(run_cells(cells, client))
    spread = time.perf_counter() - start
    assert all(o.ok for o in outcomes)
    seconds = sorted(o.result["seconds"] for o in outcomes)
    print(
        f"{args.cells} cells of the shipped workspace (seeds 1-{args.cells}): "
        f"{args.cells} `forecast run` commands one after another {commands:.1f} s (baseline); "
        f"the same cells one after another in one warm process {in_process:.1f} s; "
        f"on a LocalCluster of {args.workers} workers {spread:.1f} s, start-up included "
        f"(cells {seconds[0]:.1f}-{seconds[-1]:.1f} s each, the first on each worker "
        f"importing PyMC); ratios: commands / cluster {commands / spread:.2f}x, "
        f"one process / cluster {in_process / spread:.2f}x",
        flush=True,
    )


if __name__ == "__main__":
    main()
