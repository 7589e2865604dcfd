"""`forecast report` on a stored run of many questions: time, page size, trace size.

    python benchmarks/report_scale.py [--questions 100] [--items 2000] [--old-code DIR]

Writes a synthetic workspace (``bigworkspace.py``: nothing resolved, so the run
is exact forward draws, 4 chains x 1000 draws), stores one run of it with
``forecast run``, then times, as separate processes:

- the baseline ``python -c "import arviz"`` (the floor of any command that
  reads a trace);
- ``forecast report`` into a new folder, cold: every figure drawn;
- ``forecast report`` into another new folder with the run's figure cache
  filled (what a second report of the same run, or one after a change that
  left most questions alone, pays).

It prints wall and CPU seconds (user + system: on a shared machine the wall
time moves with the load, the CPU time much less), the size of the HTML page,
of the whole report folder and of the stored trace. With ``--old-code DIR``
(a checkout of an earlier version) the same is measured with that code on its
own copy of the workspace (its own run, as the trace format differs): that
costs a few minutes.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bigworkspace import write_workspace  # noqa: E402


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, cpu) seconds of one child process; fails loudly if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def measure(code: Path, ws: Path, label: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(code), "OPENBLAS_NUM_THREADS": "1"}
    forecast = [sys.executable, "-m", "forecast"]
    timed([*forecast, "run", str(ws)], env)
    (run,) = (ws / ".forecast" / "runs").iterdir()
    cold = timed([*forecast, "report", str(ws), "--out", str(ws / "cold")], env)
    warm = timed([*forecast, "report", str(ws), "--out", str(ws / "warm")], env)
    (report,) = (ws / "cold").iterdir()
    return {
        "label": label,
        "cold": cold,
        "warm": warm,
        "html": size(report / "report.html"),
        "folder": size(report),
        "trace": size(run / "trace.nc"),
        "figures": len(list((report / "plots").glob("*.png"))),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--questions", type=int, default=100)
    ap.add_argument("--items", type=int, default=2000)
    ap.add_argument("--old-code", type=Path, help="a checkout of an earlier version to compare")
    args = ap.parse_args()
    code = HERE.parent
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
        timed([sys.executable, "-c", "import arviz"], env)  # warm the file cache once
        floor = timed([sys.executable, "-c", "import arviz"], env)
        rows = []
        for label, where in [("this code", code), ("old code", args.old_code)]:
            if where is None:
                continue
            ws = write_workspace(Path(tmp) / label.replace(" ", "-"), args.questions, args.items)
            rows.append(measure(where.resolve(), ws, label))
            shutil.rmtree(ws / ".forecast", ignore_errors=True)
    print(f"{args.questions} questions, {args.items} evidence items, 4 chains x 1000 draws; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    print(f"baseline `python -c 'import arviz'`: {floor[0]:.2f} s wall, {floor[1]:.2f} s CPU")
    mb = 1e6
    for r in rows:
        print(f"\n{r['label']}:")
        for name in ("cold", "warm"):
            wall, cpu = r[name]
            print(f"  report, {name:<4} {wall:6.2f} s wall ({wall / floor[0]:4.1f}x baseline), "
                  f"{cpu:6.2f} s CPU")  # fmt: skip
        print(f"  figures {r['figures']}, HTML {r['html'] / mb:.2f} MB, report folder "
              f"{r['folder'] / mb:.2f} MB, stored trace {r['trace'] / mb:.2f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
