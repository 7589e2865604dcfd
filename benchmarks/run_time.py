"""Time `forecast run` on the shipped workspace: cold compile and warm.

Cold: PyTensor's compile cache starts empty (a fresh ``base_compiledir``), as
on a new machine. Warm: the same command again with that cache filled. The
baseline, measured in the same session, is ``python -c "import pymc"`` (the
floor any command that samples pays), so the ratios travel between machines.

    python benchmarks/run_time.py [--repeat 3]

Prints one line per measurement and the ratios; writes nothing outside a
temporary folder.
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


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="warm runs to take the median of")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ws = tmp / "ws"
        for part in ("priors", "evidence"):
            shutil.copytree(ROOT / part, ws / part)
        shutil.copy(ROOT / "forecast.toml", ws / "forecast.toml")
        env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={tmp / 'pytensor'}"}
        forecast = [sys.executable, "-m", "forecast"]

        baseline = statistics.median(
            timed([sys.executable, "-c", "import pymc"], env, ws) for _ in range(args.repeat)
        )
        cold = timed(forecast + ["run"], env, ws)
        warm = statistics.median(timed(forecast + ["run"], env, ws) for _ in range(args.repeat))
        validate = statistics.median(
            timed(forecast + ["validate"], env, ws) for _ in range(args.repeat)
        )
    print(f"baseline  python -c 'import pymc'       {baseline:7.2f} s")
    print(f"validate  forecast validate             {validate:7.2f} s")
    print(f"cold      forecast run (empty cache)     {cold:7.2f} s")
    print(f"warm      forecast run (median of {args.repeat})    {warm:7.2f} s")
    print(f"ratios    cold/warm {cold / warm:.1f}x, warm/baseline {warm / baseline:.1f}x")


if __name__ == "__main__":
    main()
