"""The daily loop at three sizes, in one table measured in one run.

    python benchmarks/run.py [--sizes shipped,100,1000] [--quick] [--timeout 1800]

Sizes: ``shipped`` (the repository's workspace), ``100`` (100 questions,
2,000 evidence items) and ``1000`` (1,000 questions, 50,000 items), the last
two written by ``benchmarks/generate.py`` (10 % resolved). For each, as
separate processes in a temporary copy:

- cold run: ``forecast run`` with empty PyTensor and numba compile caches and nothing stored;
- warm run: ``forecast run`` again, compile cache filled, stored runs removed;
- first report: ``forecast report`` on the stored run;
- report after an evidence change: one evidence row appended on an open question;
- unchanged report: ``forecast report`` again;
- peak memory: the largest summed RSS of the process tree (psutil, polled) over
  the runs and reports;
- trace size: the stored run's ``trace.nc`` (and the cached NUTS draws);
- ESS / s: the run's smallest bulk or tail ESS over the warm run's seconds;
- baselines measured in the same run: ``python -c "import pymc"`` and the
  numpy floor (``benchmarks/floor.py``: a plain vectorised Monte Carlo of the
  same forecasts).

``--quick`` skips the cold runs (using the PyTensor compile cache as it is)
and the 1,000-question size unless named.
Writes nothing outside a temporary folder.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from generate import generate  # noqa: E402

SIZES = {"shipped": None, "100": (100, 2000), "1000": (1000, 50000)}
GiB = 2**30


class Timeout(Exception):
    pass


def measure(cmd: list[str], env: dict, cwd: Path, limit: float) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes, summed over the process tree) of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)  # fmt: skip
    ps = psutil.Process(proc.pid)
    peak = 0
    out = b""
    while proc.poll() is None:
        try:
            rss = ps.memory_info().rss
            for child in ps.children(recursive=True):
                with contextlib.suppress(psutil.Error):  # a child that just exited
                    rss += child.memory_info().rss
            peak = max(peak, rss)
        except psutil.Error:
            pass
        if time.perf_counter() - start > limit:
            for child in ps.children(recursive=True):
                child.kill()
            proc.kill()
            proc.wait()
            raise Timeout(f"{' '.join(cmd[2:])} passed {limit:.0f} s")
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    out = proc.stdout.read() if proc.stdout else b""
    if proc.returncode not in (0, 1):  # 1: diagnostics failed (reported, not fatal here)
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out.decode()[-2000:]}")
    return elapsed, peak


def workspace(size: str, tmp: Path) -> Path:
    ws = tmp / f"ws-{size}"
    if SIZES[size] is None:
        for part in ("priors", "evidence"):
            shutil.copytree(ROOT / part, ws / part)
        shutil.copy(ROOT / "forecast.toml", ws / "forecast.toml")
    else:
        questions, items = SIZES[size]
        generate(ws, questions, items, resolved=0.1, seed=0)
    return ws


def change_evidence(ws: Path) -> None:
    """Append one coded row on an open question (the daily loop's edit)."""
    import yaml

    questions = yaml.safe_load((ws / "priors" / "questions.yaml").read_text())["questions"]
    open_q = next(q["id"] for q in questions if "resolution" not in q)
    with open(ws / "evidence" / "sources.csv", encoding="utf-8") as fh:
        source = next(csv.DictReader(fh))["id"]
    target = next(p for p in sorted((ws / "evidence").glob("*.csv")) if p.name != "sources.csv")
    with open(target, "a", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerow(["EBENCH1", "2026-07-20", open_q, source, "weak-for", 2, "",
                                 "A benchmark's one-line change", "Benchmark"])  # fmt: skip


def run_size(size: str, tmp: Path, base_env: dict, cold: bool, limit: float) -> dict:
    ws = workspace(size, tmp)
    # cold: a compile cache of its own, empty; --quick: the user's, already warm
    env = dict(base_env)
    if cold:  # PyTensor's compiled graphs and numba's compiled kernel (the NUTS density)
        env["PYTENSOR_FLAGS"] = f"base_compiledir={tmp / f'pytensor-{size}'}"
        env["NUMBA_CACHE_DIR"] = str(tmp / f"numba-{size}")
    forecast = [sys.executable, "-m", "forecast"]
    row: dict = {}
    peaks = []
    try:
        row["floor"], _ = measure([sys.executable, str(ROOT / "benchmarks" / "floor.py"), str(ws)],
                                  env, ws, limit)  # fmt: skip
        if cold:
            row["cold"], peak = measure(forecast + ["run", str(ws)], env, ws, limit)
            peaks.append(peak)
            shutil.rmtree(ws / ".forecast")
        row["warm"], peak = measure(forecast + ["run", str(ws)], env, ws, limit)
        peaks.append(peak)
        (run_dir,) = [p for p in (ws / ".forecast" / "runs").iterdir() if p.is_dir()]
        manifest = json.loads((run_dir / "manifest.json").read_text())
        diag = manifest["diagnostics"]
        row["trace_mb"] = (run_dir / "trace.nc").stat().st_size / 1e6
        nuts = list((ws / ".forecast" / "nuts").glob("*.npz"))
        row["nuts_mb"] = sum(p.stat().st_size for p in nuts) / 1e6
        row["ess_per_s"] = min(diag["min_ess_bulk"], diag["min_ess_tail"]) / row["warm"]
        row["diagnostics"] = f"{diag['method']}, {'ok' if diag['ok'] else 'FAILED'}"
        row["max_rhat"] = diag["max_rhat"]
        row["report_first"], peak = measure(forecast + ["report", str(ws)], env, ws, limit)
        peaks.append(peak)
        change_evidence(ws)
        row["report_changed"], peak = measure(forecast + ["report", str(ws)], env, ws, limit)
        peaks.append(peak)
        row["report_same"], peak = measure(forecast + ["report", str(ws)], env, ws, limit)
        peaks.append(peak)
    except Timeout as exc:
        row["note"] = str(exc)
    row["peak_gib"] = max(peaks, default=0) / GiB
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=None, help="comma-separated: shipped,100,1000")
    parser.add_argument("--quick", action="store_true", help="no cold runs; not 1000 unless named")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per command")
    args = parser.parse_args()
    default = "shipped,100" if args.quick else "shipped,100,1000"
    sizes = (args.sizes or default).split(",")
    for s in sizes:
        if s not in SIZES:
            parser.error(f"unknown size {s!r}; choose from {', '.join(SIZES)}")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}  # fmt: skip
    rows = {}
    with tempfile.TemporaryDirectory(prefix="forecast-bench-") as tmp:
        tmp = Path(tmp)
        pymc = statistics.median(
            measure([sys.executable, "-c", "import pymc"], env, tmp, 600)[0] for _ in range(3)
        )
        for size in sizes:
            print(f"measuring {size} ...", file=sys.stderr, flush=True)
            rows[size] = run_size(size, tmp, env, cold=not args.quick, limit=args.timeout)
    print(table(rows, pymc))


def table(rows: dict, pymc: float) -> str:
    def sec(v):
        return f"{v:.1f} s" if v is not None else "-"

    def ratio(a, b):
        return f"{a / b:.2f}x" if a is not None and b else "-"

    lines = [
        ("`python -c 'import pymc'` (baseline)", {s: sec(pymc) for s in rows}),
        ("numpy floor (same forecasts)", {s: sec(r.get("floor")) for s, r in rows.items()}),
        ("`forecast run`, cold", {s: sec(r.get("cold")) for s, r in rows.items()}),
        ("`forecast run`, warm", {s: sec(r.get("warm")) for s, r in rows.items()}),
        ("`forecast report`, first on the run", {s: sec(r.get("report_first"))
                                                 for s, r in rows.items()}),
        ("`forecast report` after a one-line evidence change",
         {s: sec(r.get("report_changed")) for s, r in rows.items()}),
        ("`forecast report`, unchanged", {s: sec(r.get("report_same")) for s, r in rows.items()}),
        ("peak memory (process tree)", {s: f"{r['peak_gib']:.2f} GiB" for s, r in rows.items()}),
        ("trace.nc / cached NUTS draws",
         {s: f"{r.get('trace_mb', 0):.1f} / {r.get('nuts_mb', 0):.1f} MB"
          for s, r in rows.items()}),
        ("ESS per second (warm run)", {s: f"{r['ess_per_s']:.0f}" if "ess_per_s" in r else "-"
                                       for s, r in rows.items()}),
        ("diagnostics (max R-hat)", {s: f"{r.get('diagnostics', '-')} ({r.get('max_rhat', 0):.3f})"
                                     for s, r in rows.items()}),
        ("warm run / import pymc", {s: ratio(r.get("warm"), pymc) for s, r in rows.items()}),
        ("warm run + first report / import pymc",
         {s: ratio((r.get("warm") or 0) + (r.get("report_first") or 0), pymc)
          for s, r in rows.items()}),
        ("report after change / import pymc",
         {s: ratio(r.get("report_changed"), pymc) for s, r in rows.items()}),
        ("unchanged report / import pymc",
         {s: ratio(r.get("report_same"), pymc) for s, r in rows.items()}),
        ("warm run / numpy floor", {s: ratio(r.get("warm"), r.get("floor"))
                                    for s, r in rows.items()}),
    ]  # fmt: skip
    names = {"shipped": "shipped", "100": "100 q / 2,000 items", "1000": "1,000 q / 50,000 items"}
    head = "| measurement | " + " | ".join(names[s] for s in rows) + " |"
    out = [head, "| --- |" + " ---: |" * len(rows)]
    out += [f"| {label} | " + " | ".join(v[s] for s in rows) + " |" for label, v in lines]
    notes = [f"{names[s]}: {r['note']}" for s, r in rows.items() if r.get("note")]
    return "\n".join(out + [""] + notes)


if __name__ == "__main__":
    main()
