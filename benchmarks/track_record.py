"""Time the track-record commands, and what the ledger adds to a run.

In-process: recording one run of the shipped workspace in the ledger (a new
row, and a reused run found already there), the median of ``--repeat``. As
separate processes on a copy of ``examples/gjp-2011`` (536 analysts, 14
questions): ``forecast import`` of the GJP record, ``forecast score`` and
``forecast history``, with ``forecast validate`` of the same workspace as the
baseline (reading 538 files is the floor every command pays).

    python benchmarks/track_record.py [--repeat 20]

Writes nothing outside a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GJP = ROOT / "examples" / "gjp-2011" / "source" / "gjp-yr1-mini-binary.csv.gz"


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def ledger_cost(tmp: Path, repeat: int) -> tuple[float, float]:
    from forecast.ledger import record_run
    from forecast.runs import Run
    from forecast.workspace import load_workspace

    ws_root = tmp / "summit"
    for part in ("priors", "evidence"):
        shutil.copytree(ROOT / part, ws_root / part)
    ws = load_workspace(ws_root)
    forecasts = [
        {"id": q.id, "prior": 0.5, "posterior": 0.5, "lo": 0.1, "hi": 0.9} for q in ws.questions
    ]
    new, again = [], []
    for i in range(repeat):
        manifest = {"run_id": f"r{i}", "created": "2026-07-10T00:00:00+00:00",
                    "diagnostics": {"ok": True}, "forecasts": forecasts}  # fmt: skip
        run = Run(f"r{i}", ws_root, manifest)
        start = time.perf_counter()
        assert record_run(ws, run)
        new.append(time.perf_counter() - start)
        start = time.perf_counter()
        assert not record_run(ws, run)
        again.append(time.perf_counter() - start)
    return statistics.median(new), statistics.median(again)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        new, again = ledger_cost(tmp, args.repeat)
        print(f"ledger: record a new run of the summit workspace  {1000 * new:7.1f} ms")
        print(f"ledger: a reused run, already recorded            {1000 * again:7.1f} ms")
        cli = [sys.executable, "-m", "forecast"]
        gjp = tmp / "gjp"
        t_import = timed([*cli, "import", str(GJP), str(gjp)], env)
        t_validate = timed([*cli, "validate", str(gjp)], env)
        t_score = timed([*cli, "score", str(gjp), "--json"], env)
        t_history = timed([*cli, "history", "-w", str(gjp), "--json"], env)
        t_sr = timed([sys.executable, "-c", "import scoringrules"], env)
        print(f"baseline: forecast validate (GJP, 538 files)      {t_validate:7.2f} s")
        print(f"forecast import (3,227 rows)                      {t_import:7.2f} s")
        print(f"forecast score --json                             {t_score:7.2f} s")
        print(f"  of which python -c 'import scoringrules'        {t_sr:7.2f} s")
        print(f"forecast history --json                           {t_history:7.2f} s")
        ratios = {"import": t_import, "score": t_score, "history": t_history}
        print("ratios to validate: " + ", ".join(
            f"{k} {v / t_validate:.1f}x" for k, v in ratios.items()))  # fmt: skip


if __name__ == "__main__":
    main()
