"""Write a synthetic workspace of a given size, for the scale benchmarks.

    python benchmarks/generate.py OUT --questions 100 --items 2000
        [--drivers N] [--analysts 6] [--sources N] [--resolved 0.1]
        [--cluster-share 0.2] [--seed 0]

Questions have a simulated true log-odds; analysts state it with their own
noise (intervals, verbal confidences and bare probabilities mixed); the
resolved fraction's outcomes are drawn from it; evidence items point the
way the truth does more often than not. The last question is stated by
nobody, and some questions load on drivers, so every branch of the model is
exercised. The result passes ``forecast validate``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
from pathlib import Path

import numpy as np

WORDS = ("weak", "moderate", "strong", "very-strong")
WORD_SHARE = (0.5, 0.3, 0.15, 0.05)  # most coded items are weak or moderate
GRADES = ("A", "B", "C", "D", "E", "F")
START = dt.date(2026, 7, 1)


def _p(x: float) -> float:
    return min(0.98, max(0.02, 1.0 / (1.0 + math.exp(-x))))


def _statement(rng: np.random.Generator, logodds: float) -> str:
    p = _p(logodds)
    kind = rng.integers(3)
    if kind == 0:
        half = rng.uniform(0.4, 1.5)
        lo, hi = _p(logodds - half), _p(logodds + half)
        if not lo < p < hi:
            return f"{{p: {p:.2f}, confidence: medium}}"
        return f"{{p: {p:.2f}, lo: {lo:.3f}, hi: {hi:.3f}}}"
    if kind == 1:
        return f"{{p: {p:.2f}, confidence: {('low', 'medium', 'high')[rng.integers(3)]}}}"
    return f"{{p: {p:.2f}}}"


def generate(
    out: Path,
    questions: int,
    items: int,
    drivers: int | None = None,
    analysts: int = 6,
    sources: int | None = None,
    resolved: float = 0.1,
    cluster_share: float = 0.2,
    seed: int = 0,
) -> Path:
    """Write the workspace into ``out`` (created) and return it."""
    rng = np.random.default_rng(seed)
    drivers = max(2, questions // 25) if drivers is None else drivers
    sources = max(4, questions // 10) if sources is None else sources
    qids = [f"q{i:04d}" for i in range(questions)]
    dids = [f"driver-{j:03d}" for j in range(drivers)]
    truth = rng.normal(0.0, 1.5, questions)
    driver_truth = rng.normal(0.0, 1.0, drivers)
    n_resolved = int(round(resolved * questions))
    is_resolved = np.zeros(questions, dtype=bool)
    is_resolved[rng.choice(questions - 1, size=min(n_resolved, questions - 1), replace=False)] = (
        True
    )
    (out / "priors").mkdir(parents=True, exist_ok=True)
    (out / "evidence").mkdir(parents=True, exist_ok=True)

    lines = ["questions:"]
    for i, q in enumerate(qids):
        lines += [
            f"  - id: {q}",
            f"    title: Synthetic question {i}",
            "    resolution_criteria: YES if the simulated event happens by the close date.",
            "    close_date: 2026-12-31",
        ]
        k = rng.integers(3) if drivers else 0
        if k:
            chosen = rng.choice(drivers, size=min(k, drivers), replace=False)
            loads = ", ".join(f"{dids[j]}: {rng.choice([-1, 1]) * rng.uniform(0.3, 1.0):.2f}"
                              for j in chosen)  # fmt: skip
            lines.append(f"    drivers: {{{loads}}}")
        if is_resolved[i]:
            outcome = "yes" if rng.random() < _p(truth[i]) else "no"
            lines.append(f"    resolution: {{outcome: {outcome}, date: 2026-09-01}}")
    if drivers:
        lines.append("drivers:")
        for j, d in enumerate(dids):
            lines += [f"  - id: {d}", f"    title: Synthetic driver {j}"]
    (out / "priors" / "questions.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")

    for a in range(analysts):
        bias, noise = rng.normal(0, 0.3), rng.uniform(0.3, 1.0)
        body = [f"analyst: Analyst {a}", "priors:"]
        for i, q in enumerate(qids[:-1]):  # the last question: nobody states it
            if rng.random() < 0.6 or a == i % analysts:
                body.append(f"  {q}: {_statement(rng, truth[i] + bias + rng.normal(0, noise))}")
        for j, d in enumerate(dids):
            if a < 2:
                body.append(f"  {d}: {_statement(rng, driver_truth[j] + rng.normal(0, noise))}")
        (out / "priors" / f"analyst-{a:02d}.yaml").write_text("\n".join(body) + "\n", "utf-8")

    with open(out / "evidence" / "sources.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "reliability", "verified", "refuted"])
        for s in range(sources):
            grade = GRADES[min(5, int(rng.integers(6)))]
            verified, refuted = (rng.integers(0, 20), rng.integers(0, 6)) if s % 2 else ("", "")
            w.writerow([f"src{s:03d}", f"Synthetic source {s}", grade, verified, refuted])

    targets = qids + dids
    target_truth = np.concatenate([truth, driver_truth])
    with open(out / "evidence" / "items.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "date", "bears_on", "source", "strength", "credibility", "cluster",
                    "summary", "citation"])  # fmt: skip
        last: dict[int, tuple[str, str]] = {}  # target -> (cluster, strength) of its last item
        for e in range(items):
            t = int(rng.integers(questions)) if rng.random() < 0.9 or not drivers else \
                questions + int(rng.integers(drivers))  # fmt: skip
            cluster = ""
            if t in last and rng.random() < cluster_share:
                cluster, strength = last[t]
            else:
                agrees = rng.random() < 0.65
                direction = "for" if (target_truth[t] > 0) == agrees else "against"
                word = WORDS[rng.choice(len(WORDS), p=WORD_SHARE)]
                strength = f"{word}-{direction}"
                cluster = f"c{e:06d}" if rng.random() < cluster_share else ""
                if cluster:
                    last[t] = (cluster, strength)
            date = START + dt.timedelta(days=int(rng.integers(60)))
            source = f"src{rng.integers(sources):03d}"
            summary = f"Synthetic report {e} on {targets[t]}"
            row = [f"E{e:06d}", date.isoformat(), targets[t], source, strength]
            w.writerow(row + [int(rng.integers(1, 5)), cluster, summary, f"Synthetic wire, {date}"])
    (out / "forecast.toml").write_text(
        '[model]\npooling = "hierarchical"\ncoding_sd = 0.4\n\n'
        "[sampler]\ndraws = 1000\nchains = 4\nseed = 1\n",
        encoding="utf-8",
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--drivers", type=int, default=None)
    parser.add_argument("--analysts", type=int, default=6)
    parser.add_argument("--sources", type=int, default=None)
    parser.add_argument(
        "--resolved", type=float, default=0.1, help="fraction of questions resolved"
    )
    parser.add_argument("--cluster-share", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    a = parser.parse_args()
    generate(a.out, a.questions, a.items, a.drivers, a.analysts, a.sources, a.resolved,
             a.cluster_share, a.seed)  # fmt: skip
    print(a.out)


if __name__ == "__main__":
    main()
