"""Workspaces built in memory, for engine tests that need no files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import MappingProxyType

from forecast.workspace import (
    Analyst,
    Driver,
    EvidenceItem,
    Question,
    Resolution,
    Settings,
    Source,
    Statement,
    Workspace,
)

DAY = dt.date(2026, 7, 4)


def question(qid: str, drivers: dict | None = None, outcome: str | None = None) -> Question:
    return Question(
        id=qid,
        title=f"Question {qid}",
        drivers=MappingProxyType(dict(drivers or {})),
        resolution=Resolution(outcome) if outcome else None,
    )


def item(
    eid: str, bears_on: str, ratio: float, source: str = "s", credibility: int = 1,
    cluster: str | None = None,
) -> EvidenceItem:  # fmt: skip
    return EvidenceItem(
        id=eid, date=DAY, bears_on=bears_on, source=source, strength=f"{ratio:g}", ratio=ratio,
        credibility=credibility, cluster=cluster or eid, summary=f"item {eid}",
    )  # fmt: skip


def interval(analyst: str, target: str, p: float, lo: float, hi: float) -> Statement:
    return Statement(analyst=analyst, target=target, kind="interval", p=p, lo=lo, hi=hi, level=0.9)


def workspace(
    questions, statements=(), evidence=(), sources=None, drivers=(), root: Path | None = None,
    **settings,
) -> Workspace:  # fmt: skip
    """A workspace of these parts; one fully reliable source ``s`` by default."""
    analysts: dict[str, list[Statement]] = {}
    for s in statements:
        analysts.setdefault(s.analyst, []).append(s)
    return Workspace(
        root=root or Path("."),
        questions=tuple(questions),
        drivers=tuple(Driver(d, f"Driver {d}") for d in drivers),
        analysts=tuple(Analyst(a, f"priors/{a}.yaml", tuple(st)) for a, st in analysts.items()),
        sources=tuple(sources if sources is not None else [Source("s", "Source", reliability=1.0)]),
        evidence=tuple(evidence),
        settings=Settings(**settings),
    )
