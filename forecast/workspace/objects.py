"""The typed, immutable objects a workspace is read into.

Nothing here reads a file: :mod:`forecast.workspace.load` builds these from
the files, after :mod:`forecast.workspace.schema` has checked every field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from forecast.codebook import DEFAULT, DEFAULT_CODING_SD, Codebook
from forecast.errors import Problem

if TYPE_CHECKING:  # pandas is imported lazily: `forecast validate` must start fast
    import pandas as pd

Outcome = Literal["yes", "no", "annulled"]
StatementKind = Literal["interval", "beta", "confidence", "words", "point"]
Pooling = Literal["hierarchical", "direct"]


@dataclass(frozen=True)
class Resolution:
    outcome: Outcome
    date: dt.date | None = None
    note: str = ""


@dataclass(frozen=True)
class Driver:
    """A latent factor several questions load on ("US leverage over Israel")."""

    id: str
    title: str
    line: int = 0


@dataclass(frozen=True)
class Question:
    id: str
    title: str
    resolution_criteria: str = ""
    close_date: dt.date | None = None
    # driver id -> loading B_qd (log-odds of the question per log-odds of the driver)
    drivers: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    resolution: Resolution | None = None
    line: int = 0

    @property
    def resolved(self) -> bool:
        """True when the outcome is known (yes or no; annulled does not count)."""
        return self.resolution is not None and self.resolution.outcome in ("yes", "no")


@dataclass(frozen=True)
class Statement:
    """One analyst's prior on one question or driver, as written.

    Exactly the fields of its ``kind`` are set:
    ``interval``: p, lo, hi, level; ``beta``: a, b; ``confidence``: p, confidence;
    ``words``: word (canonical ICD-203 word), confidence; ``point``: p.
    """

    analyst: str
    target: str  # question or driver id
    kind: StatementKind
    p: float | None = None
    lo: float | None = None
    hi: float | None = None
    level: float | None = None
    a: float | None = None
    b: float | None = None
    confidence: str | None = None
    word: str | None = None
    path: str = ""
    line: int = 0


@dataclass(frozen=True)
class Analyst:
    name: str
    path: str
    statements: tuple[Statement, ...] = ()


@dataclass(frozen=True)
class Source:
    id: str
    name: str
    grade: str | None = None  # Admiralty A-F, or None when reliability is numeric
    reliability: float | None = None  # a fixed number in [0, 1], or None when graded
    verified: int = 0
    refuted: int = 0
    line: int = 0


@dataclass(frozen=True)
class EvidenceItem:
    id: str
    date: dt.date
    bears_on: str  # question or driver id
    source: str  # source id
    strength: str  # as written: a codebook word or a number
    ratio: float  # the likelihood ratio it stands for (> 0)
    credibility: int  # Admiralty information digit 1-6
    cluster: str  # corroboration cluster; defaults to the item's own id
    summary: str = ""
    citation: str = ""
    path: str = ""
    line: int = 0


@dataclass(frozen=True)
class Settings:
    """``forecast.toml``, with defaults for every key."""

    draws: int = 1000
    chains: int = 4
    tune: int = 1000
    seed: int = 20260707
    target_accept: float = 0.9
    pooling: Pooling = "hierarchical"
    coding_sd: float = DEFAULT_CODING_SD
    output: str = "reports"


@dataclass(frozen=True)
class Workspace:
    root: Path
    questions: tuple[Question, ...]
    drivers: tuple[Driver, ...]
    analysts: tuple[Analyst, ...]
    sources: tuple[Source, ...]
    evidence: tuple[EvidenceItem, ...]
    settings: Settings = field(default_factory=Settings)
    codebook: Codebook = DEFAULT
    warnings: tuple[Problem, ...] = ()
    # relative path -> sha256 of the bytes, for every input file read
    file_hashes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    # --- lookups -----------------------------------------------------------
    def question(self, qid: str) -> Question:
        """The question with this id; raises ``UsageError`` naming the known ids."""
        for q in self.questions:
            if q.id == qid:
                return q
        from forecast.errors import UsageError

        known = ", ".join(q.id for q in self.questions) or "none"
        raise UsageError(f"unknown question {qid!r}; known questions: {known}")

    @property
    def statements(self) -> tuple[Statement, ...]:
        return tuple(s for a in self.analysts for s in a.statements)

    def content_hash(self) -> str:
        """One sha256 over every input file's path and bytes (order-free)."""
        import hashlib

        h = hashlib.sha256()
        for path in sorted(self.file_hashes):
            h.update(f"{path}\0{self.file_hashes[path]}\n".encode())
        return h.hexdigest()

    def evidence_frame(self) -> pd.DataFrame:
        """Evidence as a pandas frame, one row an item, with the source's grade."""
        import pandas as pd

        sources = {s.id: s for s in self.sources}
        rows = []
        for e in self.evidence:
            s = sources.get(e.source)
            rows.append(
                {
                    "id": e.id,
                    "date": pd.Timestamp(e.date),
                    "bears_on": e.bears_on,
                    "source": e.source,
                    "source_name": s.name if s else "",
                    "grade": (s.grade if s and s.grade else (f"{s.reliability:g}" if s else "")),
                    "strength": e.strength,
                    "ratio": e.ratio,
                    "credibility": e.credibility,
                    "cluster": e.cluster,
                    "summary": e.summary,
                    "citation": e.citation,
                    "path": e.path,
                    "line": e.line,
                }
            )
        columns = [
            "id", "date", "bears_on", "source", "source_name", "grade", "strength",
            "ratio", "credibility", "cluster", "summary", "citation", "path", "line",
        ]  # fmt: skip
        return pd.DataFrame(rows, columns=columns)
