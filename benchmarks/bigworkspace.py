"""Write a large synthetic workspace: many questions, many evidence items, nothing resolved.

    python benchmarks/bigworkspace.py FOLDER [--questions 100] [--items 2000] [--seed 1]

Questions load on a few shared drivers; three analysts state priors on every
question; items come from a dozen graded sources, a tenth of them in
two-item clusters, a tenth bearing on drivers. With nothing resolved the
model is drawn forward (exact, no NUTS), so a run of the written workspace
takes seconds. Used by ``benchmarks/report_scale.py`` and the tests that
need a report of many questions.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
from pathlib import Path

import numpy as np

STRENGTHS = (
    "weak-for", "moderate-for", "strong-for", "weak-against", "moderate-against", "strong-against",
)  # fmt: skip
WEIGHTS = (0.3, 0.15, 0.05, 0.3, 0.15, 0.05)  # mostly weak evidence, as in real coding
GRADES = "ABCCDDE"
ANALYSTS = ("ana-one", "ben-two", "cat-three")
DRIVERS = ("driver-a", "driver-b", "driver-c", "driver-d")


def write_workspace(
    root: Path, questions: int = 100, items: int = 2000, seed: int = 1, draws: int = 1000,
    chains: int = 4,
) -> Path:  # fmt: skip
    """Write the workspace into ``root`` (created) and return it."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    (root / "priors").mkdir(parents=True, exist_ok=True)
    (root / "evidence").mkdir(parents=True, exist_ok=True)
    qids = [f"q{i:04d}" for i in range(questions)]

    lines = ["questions:"]
    for i, qid in enumerate(qids):
        loads = rng.choice(DRIVERS, size=int(rng.integers(0, 3)), replace=False)
        drivers = ", ".join(f"{d}: {rng.uniform(-0.9, 0.9):.2f}" for d in sorted(loads))
        lines += [
            f"  - id: {qid}",
            f"    title: Synthetic question {i} of {questions}, on whether event {i} happens "
            f"by 31 Dec 2026",
            f"    resolution_criteria: YES if event {i} is reported by two wire services by "
            "31 Dec 2026. Otherwise NO.",
            "    close_date: 2026-12-31",
            f"    drivers: {{{drivers}}}",
        ]
    lines.append("drivers:")
    for d in DRIVERS:
        lines += [f"  - id: {d}", f"    title: Synthetic driver {d}"]
    (root / "priors" / "questions.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")

    for a in ANALYSTS:
        rows = [f"analyst: {a.replace('-', ' ').title()}", "priors:"]
        for qid in [*qids, *DRIVERS]:  # every target stated
            p = float(rng.uniform(0.1, 0.9))
            w = float(rng.uniform(0.08, 0.2))
            rows.append(
                f"  {qid}: {{p: {p:.2f}, lo: {max(p - w, 0.02):.2f}, "
                f"hi: {min(p + w, 0.98):.2f}, level: 0.9}}"
            )
        (root / "priors" / f"{a}.yaml").write_text("\n".join(rows) + "\n", encoding="utf-8")

    sources = [f"src{i:02d}" for i in range(12)]
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(["id", "name", "reliability", "verified", "refuted"])
    for i, s in enumerate(sources):
        out.writerow([s, f"Synthetic source {i}", GRADES[i % len(GRADES)], "", ""])
    (root / "evidence" / "sources.csv").write_text(buf.getvalue(), encoding="utf-8")

    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(["id", "date", "bears_on", "source", "strength", "credibility", "cluster",
                  "summary", "citation"])  # fmt: skip
    start = dt.date(2026, 7, 1)
    n = 0
    while n < items:
        target = str(rng.choice(DRIVERS)) if rng.random() < 0.1 else str(rng.choice(qids))
        size = 2 if rng.random() < 0.1 and n + 2 <= items else 1
        cluster = f"c{n:05d}" if size == 2 else ""
        strength = str(rng.choice(STRENGTHS, p=WEIGHTS))
        for _ in range(size):
            day = start + dt.timedelta(days=int(rng.integers(0, 120)))
            out.writerow([
                f"E{n:05d}", day.isoformat(), target, str(rng.choice(sources)), strength,
                int(rng.integers(2, 6)), cluster,
                f"Synthetic report {n} on {target}: officials said the event is "
                f"{'more' if 'for' in strength else 'less'} likely.",
                f"Synthetic wire story {n}",
            ])  # fmt: skip
            n += 1
    (root / "evidence" / "items.csv").write_text(buf.getvalue(), encoding="utf-8")
    (root / "forecast.toml").write_text(
        f'[model]\npooling = "hierarchical"\n\n[sampler]\ndraws = {draws}\nchains = {chains}\n'
        f"seed = {seed}\n",
        encoding="utf-8",
    )
    return root


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--questions", type=int, default=100)
    ap.add_argument("--items", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    write_workspace(args.folder, args.questions, args.items, args.seed)
    print(f"wrote {args.folder}: {args.questions} questions, {args.items} evidence items")


if __name__ == "__main__":
    main()
