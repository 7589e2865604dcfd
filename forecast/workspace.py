"""Read and validate workspace files into typed, immutable objects.

Nothing downstream of this module reads a workspace file. ``load_workspace``
returns a :class:`Workspace` or raises :class:`~forecast.errors.WorkspaceError`
listing every problem found, each as ``path:line: message``.

Paths in problems are relative to the workspace root (as the user typed them
from there); line numbers are 1-based, counting a CSV's header as line 1.
"""

from __future__ import annotations

import csv
import datetime as dt
import errno
import hashlib
import io
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from forecast.codebook import (
    CONFIDENCE_SD,
    CREDIBILITY,
    CREDIBILITY_NAMES,
    DEFAULT,
    DEFAULT_CODING_SD,
    DEFAULT_PRIOR_SD,
    DIRECTIONS,
    GRADES,
    NEUTRAL,
    WORD_SYNONYMS,
    Codebook,
)
from forecast.errors import Problem, UsageError, WorkspaceError
from forecast.formats import (
    ID_RE,
    ID_RULE,
    INTEGER_RE,
    SLUG_RE,
    SLUG_RULE,
    CsvRow,
    YNode,
    decode,
    listing,
    parse_csv,
    parse_iso_date,
    parse_number,
    parse_ratio,
    parse_toml,
    parse_yaml,
    suggest,
    toml_line,
)
from forecast.io import atomic_write_bytes
from forecast.lock import locked

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


# --- file layout ------------------------------------------------------------------------

QUESTIONS_FILE = "priors/questions.yaml"
SOURCES_FILE = "evidence/sources.csv"
SETTINGS_FILE = "forecast.toml"
EVIDENCE_COLUMNS = (
    "id",
    "date",
    "bears_on",
    "source",
    "strength",
    "credibility",
    "cluster",
    "summary",
    "citation",
)
EVIDENCE_REQUIRED = tuple(c for c in EVIDENCE_COLUMNS if c != "cluster")
SOURCE_COLUMNS = ("id", "name", "reliability", "verified", "refuted")
SOURCE_REQUIRED = ("id", "name", "reliability")
OUTCOMES: tuple[Outcome, ...] = ("yes", "no", "annulled")
POOLINGS: tuple[Pooling, ...] = ("hierarchical", "direct")
TOP_KEYS = ("questions", "drivers")
QUESTION_KEYS = ("id", "title", "resolution_criteria", "close_date", "drivers", "resolution")
DRIVER_KEYS = ("id", "title")
RESOLUTION_KEYS = ("outcome", "date", "note")
ANALYST_KEYS = ("analyst", "priors")
STATEMENT_KEYS = ("p", "lo", "hi", "level", "beta", "confidence", "estimate")
DEFAULT_LEVEL = 0.9  # an interval without a level is read as a central 90 % interval
DEFAULT_CONFIDENCE = "medium"  # an estimative word without a confidence
SETTINGS_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "model": ("pooling", "coding_sd"),
        "sampler": ("draws", "chains", "tune", "seed", "target_accept"),
        "report": ("output",),
        "codebook": (
            "strengths",
            "grades",
            "credibility",
            "words",
            "confidence_sd",
            "confidence_levels",
        ),
    }
)


def load_workspace(
    root: str | Path = ".", *, overrides: Mapping[str, bytes] | None = None
) -> Workspace:
    """Read, validate and return the workspace at ``root``.

    Parameters
    ----------
    root
        The workspace folder (holding ``priors/``, ``evidence/``, and
        optionally ``forecast.toml``).
    overrides
        Relative posix path -> bytes to use instead of the file on disk (or
        as an extra file): how ``forecast evidence add`` validates a row
        before writing it.

    Raises
    ------
    WorkspaceError
        Listing every error found, with the warnings. Nothing else is raised,
        whatever the files hold.
    """
    return _Loader(Path(root), dict(overrides or {})).load()


def _number(node: YNode | None) -> float | None:
    """A finite number from a YAML scalar (text such as ``1e-3`` included), or None."""
    if node is None or node.kind != "scalar" or isinstance(node.value, bool):
        return None
    value = node.value
    if isinstance(value, int | float):
        try:
            value = float(value)
        except OverflowError:
            return None
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return parse_number(value)
    return None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite(value: object) -> bool:
    if not _is_number(value):
        return False
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except OverflowError:
        return False


def _fmt(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else repr(value)


def _broken_link(path: Path) -> str:
    """Why a symbolic link that leads to no file is skipped."""
    try:
        path.resolve(strict=True)
        reason = "does not lead to a file"
    except RuntimeError:  # Python 3.11-3.12 raise this on a loop
        reason = "is a loop of links"
    except OSError as exc:
        loop = exc.errno == errno.ELOOP
        reason = (
            "is a loop of links" if loop else f"points to {os.readlink(path)!r}, which is missing"
        )
    return f"symbolic link {reason}: skipped; fix or remove it"


class _Loader:
    """One pass over a workspace's files, collecting every problem."""

    def __init__(self, root: Path, overrides: dict[str, bytes]):
        self.root = root
        self.overrides = overrides
        self.problems: list[Problem] = []
        self.hashes: dict[str, str] = {}
        self.order: dict[str, int] = {}
        self.codebook = DEFAULT
        self.settings = Settings()
        # question and driver ids share one namespace: id -> (kind, line)
        self.targets: dict[str, tuple[str, int]] = {}
        self.targets_complete = True
        self.source_ids: set[str] = set()
        self.sources_complete = True
        # what the files name, read or not: warnings about coverage use these,
        # so a statement or question rejected for an error adds no warning
        self.stated: set[str] = set()
        self.priors_complete = True
        self.loaded: set[str] = set()

    # --- reporting -----------------------------------------------------------------
    def error(self, path: str, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message))

    def warn(self, path: str, line: int, message: str) -> None:
        self.problems.append(Problem(path, line, message, severity="warning"))

    def row_id(self, rel: str, line: int, ident: str, kind: str, first: str | None) -> bool:
        """Check a CSV row's id: present, well formed, not seen before (``first``
        says where it was). Reports what is wrong; True when the id is good."""
        if not ident:
            self.error(rel, line, "missing id")
        elif not ID_RE.fullmatch(ident):
            self.error(rel, line, f"{kind} id {ident!r} is not allowed: use {ID_RULE}")
        elif first is not None:
            where = "; ids are unique across evidence files" if kind == "evidence" else ""
            self.error(rel, line, f"duplicate {kind} id {ident!r} (first at {first}){where}")
        else:
            return True
        return False

    # --- files ---------------------------------------------------------------------
    def exists(self, rel: str) -> bool:
        try:
            return rel in self.overrides or (self.root / rel).is_file()
        except OSError:  # e.g. a folder without read permission: let read() say so
            return True

    def files(self, folder: str, suffix: str) -> list[str]:
        """Files directly in ``folder`` ending in ``suffix`` (hidden files skipped)."""
        found: set[str] = set()
        directory = self.root / folder
        if directory.is_dir():
            try:
                for p in directory.iterdir():
                    if not p.name.endswith(suffix) or p.name.startswith("."):
                        continue
                    if p.is_file():
                        found.add(f"{folder}/{p.name}")
                    elif p.is_symlink():  # dangling, or a loop: is_file() says False
                        self.warn(f"{folder}/{p.name}", 0, _broken_link(p))
            except OSError as exc:
                self.error(folder, 0, f"cannot list the folder: {exc.strerror or exc}")
        prefix = folder + "/"
        found.update(
            k
            for k in self.overrides
            if k.startswith(prefix) and "/" not in k[len(prefix) :] and k.endswith(suffix)
        )
        return sorted(found)

    def read(self, rel: str, expected: str) -> str | None:
        self.order.setdefault(rel, len(self.order))
        if rel in self.overrides:
            data = self.overrides[rel]
        else:
            try:
                data = (self.root / rel).read_bytes()
            except OSError as exc:
                self.error(rel, 0, f"cannot read the file: {exc.strerror or exc}")
                return None
        self.hashes[rel] = hashlib.sha256(data).hexdigest()
        return decode(rel, data, self.problems, expected)

    def read_yaml(self, rel: str, expected: str) -> YNode | None:
        """The file's top-level mapping, or None (the problem already reported)."""
        text = self.read(rel, expected)
        if text is None:
            return None
        before = len(self.problems)
        node = parse_yaml(rel, text, self.problems)
        if node is None:
            if len(self.problems) == before:
                self.error(rel, 1, f"file holds only comments; expected {expected}")
            return None
        if node.kind != "map":
            self.error(rel, node.line, f"expected {expected}, found {node.describe()}")
            return None
        return node

    # --- the whole pass ------------------------------------------------------------
    def load(self) -> Workspace:
        if not self.root.is_dir():
            raise WorkspaceError(
                [
                    Problem(
                        str(self.root),
                        0,
                        "no such folder; a workspace is a folder holding "
                        "priors/questions.yaml and evidence/ (run `forecast init` to start one)",
                    )
                ]
            )
        self.load_settings()
        questions, drivers = self.load_questions()
        analysts = self.load_analysts()
        evidence_files = [f for f in self.files("evidence", ".csv") if f != SOURCES_FILE]
        sources = self.load_sources(required=bool(evidence_files))
        evidence: list[EvidenceItem] = []
        seen: dict[str, EvidenceItem] = {}
        for rel in evidence_files:
            evidence += self.load_evidence(rel, seen)
        self.check_clusters(evidence)
        self.check_coverage(questions, drivers, analysts)

        rank = {path: i for i, path in enumerate(self.order)}
        problems = sorted(self.problems, key=lambda p: (rank.get(p.path, len(rank)), p.line))
        if any(p.severity == "error" for p in problems):
            raise WorkspaceError(problems)
        return Workspace(
            root=self.root,
            questions=tuple(questions),
            drivers=tuple(drivers),
            analysts=tuple(analysts),
            sources=tuple(sources),
            evidence=tuple(evidence),
            settings=self.settings,
            codebook=self.codebook,
            warnings=tuple(problems),
            file_hashes=MappingProxyType(dict(sorted(self.hashes.items()))),
        )

    # --- forecast.toml -------------------------------------------------------------
    def load_settings(self) -> None:
        rel = SETTINGS_FILE
        if not self.exists(rel):
            return
        text = self.read(rel, "TOML settings such as [sampler] draws = 1000 (or delete the file)")
        if text is None:
            return
        parsed = parse_toml(rel, text, self.problems)
        if parsed is None:
            return
        data, lines = parsed
        values: dict[str, object] = {}
        tables: dict[str, dict] = {}
        for section, table in data.items():
            line = toml_line(lines, section)
            if section not in SETTINGS_KEYS:
                self.error(
                    rel,
                    line,
                    f"unknown section [{section}]{suggest(section, SETTINGS_KEYS)}; "
                    f"allowed sections: {listing(f'[{s}]' for s in SETTINGS_KEYS)}",
                )
                continue
            if not isinstance(table, dict):
                self.error(rel, line, f"{section} must be a table [{section}], found {_fmt(table)}")
                continue
            for key, value in table.items():
                kline = toml_line(lines, section, key)
                allowed = SETTINGS_KEYS[section]
                if key not in allowed:
                    self.error(
                        rel,
                        kline,
                        f"unknown key {key!r} in [{section}]{suggest(key, allowed)}; "
                        f"allowed keys: {listing(allowed)}",
                    )
                elif section == "codebook":
                    if not isinstance(value, dict):
                        self.error(
                            rel, kline, f"[codebook.{key}] must be a table, found {_fmt(value)}"
                        )
                    else:
                        tables[key] = self.codebook_table(rel, lines, key, value)
                else:
                    checked = self.setting(rel, kline, key, value)
                    if checked is not None:
                        values[key] = checked
        self.settings = replace(Settings(), **values)  # type: ignore[arg-type]
        self.codebook = DEFAULT.with_overrides(**tables)

    def setting(self, rel: str, line: int, key: str, value: object) -> object | None:
        """The checked value of one ``[model]``/``[sampler]``/``[report]`` key, or None."""
        if key == "pooling":
            if value in POOLINGS:
                return value
            return self.error(
                rel,
                line,
                f"pooling {_fmt(value)} is not allowed; use {listing(repr(p) for p in POOLINGS)}",
            )
        if key == "coding_sd":
            if _finite(value) and value >= 0:  # type: ignore[operator]
                return float(value)  # type: ignore[arg-type]
            return self.error(
                rel,
                line,
                f"coding_sd {_fmt(value)} must be a number >= 0 "
                "(coding uncertainty: the sd of the log of a coded log-ratio's size; 0 takes "
                "the coded ratios as exact)",
            )
        if key in ("draws", "chains", "tune"):
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
            return self.error(rel, line, f"{key} {_fmt(value)} must be a whole number > 0")
        if key == "seed":
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                return value
            return self.error(rel, line, f"seed {_fmt(value)} must be a whole number >= 0")
        if key == "target_accept":
            if _finite(value) and 0 < value < 1:  # type: ignore[operator]
                return float(value)  # type: ignore[arg-type]
            return self.error(
                rel,
                line,
                f"target_accept {_fmt(value)} must be a number "
                "between 0 and 1 (exclusive), e.g. 0.9",
            )
        if key == "output":
            if isinstance(value, str) and value.strip():
                return value.strip()
            return self.error(
                rel, line, f'output {_fmt(value)} must be a folder name, e.g. "reports"'
            )
        return None  # pragma: no cover - keys are checked against SETTINGS_KEYS first

    def codebook_table(self, rel: str, lines: dict, name: str, table: dict) -> dict:
        """The valid entries of one ``[codebook.<name>]`` table (errors reported)."""
        out: dict = {}
        where = f"[codebook.{name}]"
        for key, value in table.items():
            line = toml_line(lines, "codebook", name, key)
            bad = ""
            if name == "strengths":
                word = key.strip().lower()
                if (
                    not re.fullmatch(r"[a-z]+(?:-[a-z]+)*", word)
                    or word == NEUTRAL
                    or (word.rpartition("-")[2] in DIRECTIONS)
                ):
                    bad = (
                        f"{where}: {key!r} is not a strength word (lowercase words joined by "
                        "'-', without -for/-against, e.g. strong)"
                    )
                elif not (_finite(value) and value > 1):
                    bad = (
                        f"{where} {key} = {_fmt(value)}: a strength is a likelihood ratio "
                        "> 1 (its -against form is 1 over it)"
                    )
                else:
                    out[word] = float(value)
            elif name == "grades":
                grade = key.strip().upper()
                ok_pair = (
                    isinstance(value, list)
                    and len(value) == 2
                    and all(_finite(v) and v > 0 for v in value)
                )
                if grade not in GRADES:
                    bad = f"{where}: {key!r} is not an Admiralty grade; use {listing(GRADES)}"
                elif not ok_pair:
                    bad = (
                        f"{where} {key} = {_fmt(value)}: a grade is a Beta prior [a, b] "
                        "of two numbers > 0, e.g. [8, 2]"
                    )
                else:
                    out[grade] = (float(value[0]), float(value[1]))
            elif name == "credibility":
                digit = key.strip()
                if digit not in {str(d) for d in CREDIBILITY}:
                    bad = f"{where}: {key!r} is not a credibility digit; use 1 to 6"
                elif not (_finite(value) and 0 < value <= 1):
                    bad = (
                        f"{where} {key} = {_fmt(value)}: a credibility multiplier is a "
                        "number in (0, 1]"
                    )
                elif digit == "1" and value != 1:
                    bad = (
                        f"{where} 1 = {_fmt(value)}: credibility 1 (confirmed) is always "
                        "exactly 1, never discounted"
                    )
                else:
                    out[int(digit)] = float(value)
            elif name == "words":
                word = " ".join(key.strip().lower().split())
                word = WORD_SYNONYMS.get(word, word)
                ok_band = (
                    isinstance(value, list)
                    and len(value) == 2
                    and all(_finite(v) for v in value)
                    and 0 < value[0] < value[1] < 1
                )
                if not re.fullmatch(r"[a-z]+(?: [a-z]+)*", word):
                    bad = f"{where}: {key!r} is not an estimative word (lowercase words)"
                elif not ok_band:
                    bad = (
                        f"{where} {key!r} = {_fmt(value)}: a word's band is [lo, hi] with "
                        "0 < lo < hi < 1, e.g. [0.55, 0.80]"
                    )
                else:
                    out[word] = (float(value[0]), float(value[1]))
            else:  # confidence_sd, confidence_levels
                level = key.strip().lower()
                if level not in CONFIDENCE_SD:
                    bad = f"{where}: {key!r} is not a confidence; use {listing(CONFIDENCE_SD)}"
                elif name == "confidence_sd" and not (_finite(value) and value > 0):
                    bad = (
                        f"{where} {key} = {_fmt(value)}: a log-odds standard deviation "
                        "is a number > 0"
                    )
                elif name == "confidence_levels" and not (_finite(value) and 0 < value < 1):
                    bad = (
                        f"{where} {key} = {_fmt(value)}: a confidence level is a number "
                        "between 0 and 1 (exclusive)"
                    )
                else:
                    out[level] = float(value)
            if bad:
                self.error(rel, line, bad)
        return out

    # --- priors/questions.yaml -----------------------------------------------------
    def load_questions(self) -> tuple[list[Question], list[Driver]]:
        rel = QUESTIONS_FILE
        if not self.exists(rel):
            self.targets_complete = False
            self.order.setdefault(rel, len(self.order))
            self.error(
                rel,
                0,
                "missing: every workspace needs priors/questions.yaml listing "
                "its questions (run `forecast init` to start one)",
            )
            return [], []
        before = len(self.problems)
        root = self.read_yaml(
            rel, "a mapping with a 'questions:' list and an optional 'drivers:' list"
        )
        if root is None:
            self.targets_complete = False
            return [], []
        self.unknown_keys(rel, root, TOP_KEYS, "top-level key")
        ids = self.claim_ids(rel, root)
        drivers = self.load_drivers(
            rel, root.value.get("drivers"), root.key_lines.get("drivers"), ids
        )
        # claimed driver ids, so a driver rejected for another reason is still known
        driver_ids = {i for i in ids.values() if self.targets[i][0] == "driver"}
        questions: list[Question] = []
        node = root.value.get("questions")
        if node is None or (node.kind == "scalar" and node.value is None):
            self.error(
                rel,
                root.key_lines.get("questions", 1),
                "no questions: add a 'questions:' list with at least one question",
            )
        elif node.kind != "seq":
            self.error(
                rel,
                node.line,
                f"'questions' must be a list of questions (items "
                f"starting with '- id: ...'), found {node.describe()}",
            )
        else:
            for item in node.value:
                q = self.question(rel, item, driver_ids, ids)
                if q is not None:
                    questions.append(q)
            if not node.value:
                self.error(rel, node.line, "no questions: the 'questions' list is empty")
        if len(self.problems) > before and any(
            p.path == rel and p.severity == "error" for p in self.problems[before:]
        ):
            # ids after a broken entry may be missing: do not call them unknown elsewhere
            self.targets_complete = False
        return questions, drivers

    def unknown_keys(self, rel: str, node: YNode, allowed: tuple[str, ...], what: str) -> None:
        for key in node.value:
            if key not in allowed:
                self.error(
                    rel,
                    node.key_lines[key],
                    f"unknown {what} {key!r}{suggest(key, allowed)}; allowed: {listing(allowed)}",
                )

    def text(self, rel: str, node: YNode, key: str, what: str, required: bool) -> str | None:
        """A text field of a mapping, stripped; None (reported if required) when absent."""
        value = node.value.get(key)
        if value is None or (
            value.kind == "scalar" and (value.value is None or not value.text.strip())
        ):
            if required:
                self.error(rel, node.key_lines.get(key, node.line), f"{what}: missing {key}")
            return None
        if value.kind != "scalar":
            self.error(
                rel, node.key_lines[key], f"{what}: {key} must be text, found {value.describe()}"
            )
            return None
        return value.text.strip()

    def new_id(self, rel: str, node: YNode, kind: str) -> str | None:
        """The slug id of a question or driver, registered in the shared namespace."""
        ident = self.text(rel, node, "id", f"this {kind}", required=True)
        if ident is None:
            return None
        line = node.key_lines["id"]
        if not SLUG_RE.fullmatch(ident):
            self.error(rel, line, f"{kind} id {ident!r} is not a slug: use {SLUG_RULE}")
            return None
        if ident in self.targets:
            other, other_line = self.targets[ident]
            self.error(
                rel,
                line,
                f"duplicate id {ident!r}: already the id of the {other} at "
                f"line {other_line} (questions and drivers share one set of ids)",
            )
            return None
        self.targets[ident] = (kind, line)
        return ident

    def claim_ids(self, rel: str, root: YNode) -> dict[int, str]:
        """Check every question and driver id in file order: ``id(item)`` -> its id.

        Done before anything else so a duplicate is reported on the later line,
        whichever list it is in.
        """
        entries = []
        for section, kind in (("questions", "question"), ("drivers", "driver")):
            node = root.value.get(section)
            if node is not None and node.kind == "seq":
                entries += [(item, kind) for item in node.value if item.kind == "map"]
        accepted = {}
        for item, kind in sorted(entries, key=lambda entry: entry[0].line):
            ident = self.new_id(rel, item, kind)
            if ident is not None:
                accepted[id(item)] = ident
        return accepted

    def load_drivers(
        self, rel: str, node: YNode | None, line: int | None, ids: dict[int, str]
    ) -> list[Driver]:
        if node is None or (node.kind == "scalar" and node.value is None):
            return []
        if node.kind != "seq":
            self.error(
                rel,
                line or node.line,
                f"'drivers' must be a list of drivers (items "
                f"'- id: ...' with a title), found {node.describe()}",
            )
            return []
        drivers = []
        for item in node.value:
            if item.kind != "map":
                self.error(
                    rel,
                    item.line,
                    f"a driver must be a mapping with id and title, found {item.describe()}",
                )
                continue
            self.unknown_keys(rel, item, DRIVER_KEYS, "driver key")
            ident = ids.get(id(item))
            title = self.text(rel, item, "title", f"driver {ident or '?'}", required=True)
            if ident and title:
                drivers.append(Driver(ident, title, line=item.line))
        return drivers

    def question(
        self, rel: str, item: YNode, driver_ids: set[str], ids: dict[int, str]
    ) -> Question | None:
        if item.kind != "map":
            self.error(
                rel,
                item.line,
                f"a question must be a mapping with id, title, "
                f"resolution_criteria, close_date, found {item.describe()}",
            )
            return None
        self.unknown_keys(rel, item, QUESTION_KEYS, "question key")
        ident = ids.get(id(item))
        what = f"question {ident or '?'}"
        title = self.text(rel, item, "title", what, required=True)
        criteria = self.text(rel, item, "resolution_criteria", what, required=False)
        if criteria is None and ident:
            self.warn(
                rel,
                item.line,
                f"{what} has no resolution_criteria: say what counts as "
                "yes, so it can be resolved and scored",
            )
        ok = bool(ident and title)
        close_date = None
        if "close_date" in item.value and item.value["close_date"].value is not None:
            close_date, why = parse_iso_date(item.value["close_date"].value)
            if close_date is None:
                ok = False
                self.error(rel, item.key_lines["close_date"], f"close_date: {why}")
        loadings: dict[str, float] = {}
        if "drivers" in item.value:
            ok &= self.loadings(rel, item, driver_ids, loadings)
        resolution = None
        node = item.value.get("resolution")
        if node is not None and not (node.kind == "scalar" and node.value is None):
            resolution = self.resolution(rel, item.key_lines["resolution"], node)
            ok &= resolution is not None
        if not ok:
            return None
        return Question(
            id=ident,  # type: ignore[arg-type]
            title=title,  # type: ignore[arg-type]
            resolution_criteria=criteria or "",
            close_date=close_date,
            drivers=MappingProxyType(loadings),
            resolution=resolution,
            line=item.line,
        )

    def loadings(self, rel: str, item: YNode, driver_ids: set[str], out: dict[str, float]) -> bool:
        node = item.value["drivers"]
        line = item.key_lines["drivers"]
        if node.kind == "scalar" and node.value is None:
            return True
        if node.kind != "map":
            self.error(
                rel,
                line,
                f"drivers must map driver ids to loadings, e.g. "
                f"{{us-leverage: 0.8}}, found {node.describe()}",
            )
            return False
        ok = True
        self.loaded.update(node.value)
        for driver, value in node.value.items():
            kline = node.key_lines[driver]
            loading = _number(value)
            if driver not in driver_ids:
                known = listing(sorted(driver_ids)) or "none (add a 'drivers:' list)"
                self.error(
                    rel,
                    kline,
                    f"loading on unknown driver {driver!r}"
                    f"{suggest(driver, driver_ids)}; known drivers: {known}",
                )
                ok = False
            elif loading is None:
                self.error(
                    rel,
                    kline,
                    f"loading of {driver!r} must be a number (log-odds of "
                    f"the question per log-odds of the driver), found "
                    f"{value.describe()}",
                )
                ok = False
            else:
                out[driver] = loading
        return ok

    def resolution(self, rel: str, line: int, node: YNode) -> Resolution | None:
        if node.kind != "map":
            self.error(
                rel,
                line,
                "resolution must be a mapping {outcome: yes|no|annulled, "
                f"date: YYYY-MM-DD, note: ...}}, found {node.describe()}",
            )
            return None
        self.unknown_keys(rel, node, RESOLUTION_KEYS, "resolution key")
        ok = True
        outcome_node = node.value.get("outcome")
        outcome = None
        if outcome_node is None or outcome_node.value is None:
            self.error(rel, line, "resolution: missing outcome (yes, no or annulled)")
            ok = False
        else:
            raw = outcome_node.value
            # YAML 1.1 reads an unquoted yes/no as a boolean
            word = {True: "yes", False: "no"}.get(raw) if isinstance(raw, bool) else None
            word = word or outcome_node.text.strip().lower()
            if word in OUTCOMES:
                outcome = word
            else:
                ok = False
                self.error(
                    rel,
                    node.key_lines["outcome"],
                    f"resolution outcome "
                    f"{outcome_node.describe()} is not allowed; use yes, no or annulled",
                )
        date = None
        if "date" in node.value and node.value["date"].value is not None:
            date, why = parse_iso_date(node.value["date"].value)
            if date is None:
                ok = False
                self.error(rel, node.key_lines["date"], f"resolution date: {why}")
        note = self.text(rel, node, "note", "resolution", required=False) or ""
        if not ok:
            return None
        return Resolution(outcome=outcome, date=date, note=note)  # type: ignore[arg-type]

    # --- priors/<analyst>.yaml -----------------------------------------------------
    def load_analysts(self) -> list[Analyst]:
        for rel in self.files("priors", ".yml"):
            self.warn(rel, 0, "ignored: analyst files end in .yaml")
        analysts: list[Analyst] = []
        names: dict[str, str] = {}
        for rel in self.files("priors", ".yaml"):
            if rel == QUESTIONS_FILE:
                continue
            root = self.read_yaml(rel, "a mapping with 'analyst:' (optional) and 'priors:'")
            if root is None or not isinstance(root.value.get("priors"), YNode | None):
                self.priors_complete = False
                continue
            self.unknown_keys(rel, root, ANALYST_KEYS, "key")
            name = self.text(rel, root, "analyst", "analyst", required=False)
            name = name or PurePosixPath(rel).stem
            line = root.key_lines.get("analyst", 1)
            if name in names:
                self.error(
                    rel,
                    line,
                    f"analyst {name!r} already has a file: {names[name]}; "
                    "keep one file per analyst",
                )
                continue
            names[name] = rel
            statements = []
            node = root.value.get("priors")
            if node is None:
                self.error(
                    rel, 1, "missing 'priors:': map question or driver ids to this analyst's priors"
                )
            elif node.kind == "scalar" and node.value is None:
                self.warn(rel, root.key_lines["priors"], f"{name} states no priors")
            elif node.kind != "map":
                self.error(
                    rel,
                    root.key_lines["priors"],
                    f"'priors' must map question or driver ids to priors, found {node.describe()}",
                )
            else:
                if not node.value:
                    self.warn(rel, root.key_lines["priors"], f"{name} states no priors")
                self.stated.update(node.value)
                for target, value in node.value.items():
                    s = self.statement(rel, node.key_lines[target], name, target, value)
                    if s is not None:
                        statements.append(s)
            analysts.append(Analyst(name=name, path=rel, statements=tuple(statements)))
        return analysts

    def statement(
        self, rel: str, line: int, analyst: str, target: str, node: YNode
    ) -> Statement | None:
        if self.targets_complete and target not in self.targets:
            known = listing(self.targets) or "none"
            self.error(
                rel,
                line,
                f"unknown question or driver {target!r}"
                f"{suggest(target, self.targets)}; known ids: {known}",
            )
            return None
        base = {"analyst": analyst, "target": target, "path": rel, "line": line}
        forms = (
            "{p, lo, hi[, level]}, {beta: [a, b]}, {p, confidence}, {p}, "
            "{estimate, confidence} or an estimative word"
        )
        if node.kind == "scalar":
            if isinstance(node.value, str):
                word = self.word(rel, line, node)
                if word is None:
                    return None
                return Statement(kind="words", word=word, confidence=DEFAULT_CONFIDENCE, **base)
            self.error(
                rel,
                line,
                f"{target}: {node.describe()} is not a prior; write one of "
                f"{forms}, e.g. {{p: 0.3, confidence: medium}}",
            )
            return None
        if node.kind != "map":
            self.error(rel, line, f"{target}: a prior is one of {forms}, found {node.describe()}")
            return None
        keys = set(node.value)
        unknown = sorted(keys - set(STATEMENT_KEYS))
        if unknown:
            self.error(
                rel,
                line,
                f"{target}: unknown key{'s' * (len(unknown) > 1)} "
                f"{listing(repr(k) for k in unknown)}{suggest(unknown[0], STATEMENT_KEYS)}; "
                f"allowed keys: {listing(STATEMENT_KEYS)}",
            )
            return None
        for kind, form_keys, required in (
            ("beta", {"beta"}, {"beta"}),
            ("words", {"estimate", "confidence"}, {"estimate"}),
            ("interval", {"p", "lo", "hi", "level"}, {"p", "lo", "hi"}),
            ("confidence", {"p", "confidence"}, {"p", "confidence"}),
            ("point", {"p"}, {"p"}),
        ):
            if required <= keys and keys <= form_keys:
                return getattr(self, f"statement_{kind}")(rel, line, target, node, base)
        self.error(
            rel,
            line,
            f"{target}: keys {listing(sorted(keys))} do not make a prior; write one of {forms}",
        )
        return None

    def probability(self, rel: str, target: str, node: YNode, key: str) -> float | None:
        """A probability strictly between 0 and 1 (errors reported)."""
        value = _number(node.value[key])
        line = node.key_lines[key]
        if value is None:
            self.error(
                rel,
                line,
                f"{target}: {key} must be a number between 0 and 1, found "
                f"{node.value[key].describe()}",
            )
            return None
        if not 0 < value < 1:
            self.error(
                rel,
                line,
                f"{target}: {key} = {value:g} must be strictly between 0 and 1 "
                "(nothing is certain)",
            )
            return None
        return value

    def statement_interval(self, rel, line, target, node, base) -> Statement | None:
        p, lo, hi = (self.probability(rel, target, node, k) for k in ("p", "lo", "hi"))
        level = DEFAULT_LEVEL
        if "level" in node.value:
            level = self.probability(rel, target, node, "level")
        if None in (p, lo, hi, level):
            return None
        if lo >= hi:
            self.error(
                rel, node.key_lines["lo"], f"{target}: lo = {lo:g} must be below hi = {hi:g}"
            )
            return None
        if not lo <= p <= hi:
            self.error(
                rel,
                node.key_lines["p"],
                f"{target}: p = {p:g} lies outside its "
                f"interval [{lo:g}, {hi:g}]; it must satisfy lo <= p <= hi",
            )
            return None
        return Statement(kind="interval", p=p, lo=lo, hi=hi, level=level, **base)

    def statement_point(self, rel, line, target, node, base) -> Statement | None:
        p = self.probability(rel, target, node, "p")
        return None if p is None else Statement(kind="point", p=p, **base)

    def statement_beta(self, rel, line, target, node, base) -> Statement | None:
        value = node.value["beta"]
        kline = node.key_lines["beta"]
        pair = [_number(v) for v in value.value] if value.kind == "seq" else []
        if len(pair) != 2 or None in pair:
            self.error(
                rel,
                kline,
                f"{target}: beta must be two numbers [a, b], e.g. [6, 4], found {value.describe()}",
            )
            return None
        a, b = pair
        if a <= 0 or b <= 0:
            self.error(rel, kline, f"{target}: beta [{a:g}, {b:g}] needs a > 0 and b > 0")
            return None
        return Statement(kind="beta", a=a, b=b, **base)

    def confidence(
        self, rel: str, target: str, node: YNode, table: Mapping[str, float]
    ) -> str | None:
        value = node.value["confidence"]
        word = value.text.strip().lower() if value.kind == "scalar" else ""
        if word not in table:
            self.error(
                rel,
                node.key_lines["confidence"],
                f"{target}: confidence {value.describe()} is not allowed; use {listing(table)}",
            )
            return None
        return word

    def statement_confidence(self, rel, line, target, node, base) -> Statement | None:
        p = self.probability(rel, target, node, "p")
        confidence = self.confidence(rel, target, node, self.codebook.confidence_sd)
        if p is None or confidence is None:
            return None
        return Statement(kind="confidence", p=p, confidence=confidence, **base)

    def statement_words(self, rel, line, target, node, base) -> Statement | None:
        word = self.word(rel, node.key_lines["estimate"], node.value["estimate"])
        confidence = DEFAULT_CONFIDENCE
        if "confidence" in node.value:
            confidence = self.confidence(rel, target, node, self.codebook.confidence_levels)
        if word is None or confidence is None:
            return None
        return Statement(kind="words", word=word, confidence=confidence, **base)

    def word(self, rel: str, line: int, node: YNode) -> str | None:
        """The canonical estimative word (synonyms folded), or None (reported)."""
        key = " ".join(node.text.strip().lower().split()) if node.kind == "scalar" else ""
        key = WORD_SYNONYMS.get(key, key)
        if key not in self.codebook.words:
            allowed = list(self.codebook.words) + list(WORD_SYNONYMS)
            self.error(
                rel,
                line,
                f"{node.describe()} is not an estimative word"
                f"{suggest(key, allowed)}; use one of {listing(self.codebook.words)} "
                f"(or an ICD-203 synonym: {listing(WORD_SYNONYMS)})",
            )
            return None
        return key

    # --- evidence/sources.csv ------------------------------------------------------
    def load_sources(self, required: bool) -> list[Source]:
        rel = SOURCES_FILE
        if not self.exists(rel):
            if required:
                self.sources_complete = False
                self.order.setdefault(rel, len(self.order))
                self.error(
                    rel,
                    0,
                    "missing: evidence cites sources; list them in "
                    f"{rel} with the columns {','.join(SOURCE_COLUMNS)}",
                )
            return []
        text = self.read(rel, f"a header {','.join(SOURCE_COLUMNS)} and one source a row")
        table = None
        if text is not None:
            table = parse_csv(rel, text, self.problems, SOURCE_REQUIRED, ("verified", "refuted"))
        if table is None:
            self.sources_complete = False
            return []
        self.sources_complete = table.complete
        sources: list[Source] = []
        lines: dict[str, int] = {}
        for row in table.rows:
            source = self.source(rel, row, lines)
            if source is not None:
                sources.append(source)
        return sources

    def source(self, rel: str, row: CsvRow, lines: dict[str, int]) -> Source | None:
        v, line = row.values, row.line
        ident = v["id"]
        first = f"line {lines[ident]}" if ident in lines else None
        ok = self.row_id(rel, line, ident, "source", first)
        if ok:
            lines[ident] = line
            self.source_ids.add(ident)
        if not v["name"]:
            self.error(rel, line, f"source {ident!r}: missing name")
            ok = False
        grade = reliability = None
        raw = v["reliability"]
        if not raw:
            ok = False
            self.error(
                rel,
                line,
                f"missing reliability: an Admiralty grade ({listing(self.codebook.grades)}) "
                "or a number in [0, 1]",
            )
        elif raw.upper() in self.codebook.grades and len(raw) == 1:
            grade = raw.upper()
        else:
            number = parse_number(raw)
            if number is not None and 0 <= number <= 1:
                reliability = number
            else:
                ok = False
                self.error(
                    rel,
                    line,
                    f"reliability {raw!r} is neither an Admiralty grade "
                    f"({listing(self.codebook.grades)}) nor a number in [0, 1]",
                )
        counts = {}
        for key in ("verified", "refuted"):
            raw = v.get(key, "")
            if not raw:
                counts[key] = 0
            elif INTEGER_RE.fullmatch(raw) and int(raw) >= 0:
                counts[key] = int(raw)
            else:
                ok = False
                self.error(
                    rel,
                    line,
                    f"{key} {raw!r} must be a whole number >= 0 (reports "
                    f"later found true / false), or empty for 0",
                )
        if not ok:
            return None
        return Source(ident, v["name"], grade, reliability, line=line, **counts)

    # --- evidence/*.csv ------------------------------------------------------------
    def load_evidence(self, rel: str, seen: dict[str, EvidenceItem]) -> list[EvidenceItem]:
        text = self.read(rel, f"a header {','.join(EVIDENCE_COLUMNS)} and one item a row")
        if text is None:
            return []
        table = parse_csv(rel, text, self.problems, EVIDENCE_REQUIRED, ("cluster",))
        if table is None:
            return []
        items = []
        for row in table.rows:
            item = self.item(rel, row, seen)
            if item is not None:
                items.append(item)
        return items

    def item(self, rel: str, row: CsvRow, seen: dict[str, EvidenceItem]) -> EvidenceItem | None:
        v, line = row.values, row.line
        ident = v["id"]
        first = f"{seen[ident].path}:{seen[ident].line}" if ident in seen else None
        ok = self.row_id(rel, line, ident, "evidence", first)
        date, why = parse_iso_date(v["date"])
        if date is None:
            self.error(rel, line, f"date: {why}")
            ok = False
        target = v["bears_on"]
        if not target:
            self.error(rel, line, "missing bears_on: the question or driver id it bears on")
            ok = False
        elif self.targets_complete and target not in self.targets:
            self.error(
                rel,
                line,
                f"bears_on {target!r} is not a known question or driver"
                f"{suggest(target, self.targets)}; known ids: "
                f"{listing(self.targets) or 'none'}",
            )
            ok = False
        source = v["source"]
        if not source:
            self.error(rel, line, f"missing source: a source id from {SOURCES_FILE}")
            ok = False
        elif self.sources_complete and source not in self.source_ids:
            known = listing(sorted(self.source_ids)) or "none"
            self.error(
                rel,
                line,
                f"source {source!r} is not in {SOURCES_FILE}"
                f"{suggest(source, self.source_ids)}; known sources: {known}",
            )
            ok = False
        strength = v["strength"]
        ratio = self.strength(rel, line, strength)
        ok &= ratio is not None
        raw = v["credibility"]
        credibility = int(raw) if INTEGER_RE.fullmatch(raw) else None
        if credibility not in CREDIBILITY:
            self.error(
                rel,
                line,
                f"credibility {raw!r} must be a whole number 1-6 ("
                + ", ".join(f"{d} {n}" for d, n in CREDIBILITY_NAMES.items())
                + ")",
            )
            ok = False
        cluster = v.get("cluster", "") or ident
        if not ok:
            return None
        item = EvidenceItem(
            id=ident,
            date=date,
            bears_on=target,
            source=source,
            strength=strength,  # type: ignore[arg-type]
            ratio=ratio,
            credibility=credibility,
            cluster=cluster,
            summary=v["summary"],  # type: ignore[arg-type]
            citation=v["citation"],
            path=rel,
            line=line,
        )
        seen[ident] = item
        return item

    def strength(self, rel: str, line: int, text: str) -> float | None:
        """The likelihood ratio a strength stands for, or None (reported)."""
        words = self.codebook.strength_words()
        if not text:
            self.error(
                rel,
                line,
                f"missing strength: write a word ({listing(words)}) or a "
                "likelihood ratio such as 3, 0.25 or 1/4",
            )
            return None
        ratio = self.codebook.ratio(text)
        if ratio is not None:
            return ratio
        ratio, why = parse_ratio(text)
        if ratio is not None:
            return ratio
        if any(c.isalpha() for c in text) and why == "is not a number":
            self.error(
                rel,
                line,
                f"unknown strength {text!r}{suggest(text.lower(), words)}; "
                f"allowed words: {listing(words)}, or a likelihood ratio such as 3, "
                "0.25 or 1/4",
            )
        else:
            self.error(
                rel,
                line,
                f"strength {text!r} {why}; write a likelihood ratio > 0 such as 3, 0.25 "
                f"or 1/4 (below 1 counts against), or a word ({listing(words)})",
            )
        return None

    # --- across files --------------------------------------------------------------
    def check_clusters(self, evidence: list[EvidenceItem]) -> None:
        first: dict[str, EvidenceItem] = {}
        for e in evidence:
            ref = first.setdefault(e.cluster, e)
            if ref is e:
                continue
            where = f"{ref.id} ({ref.path}:{ref.line})"
            if e.bears_on != ref.bears_on:
                self.error(
                    e.path,
                    e.line,
                    f"cluster {e.cluster!r}: {e.id} bears on "
                    f"{e.bears_on!r} but {where} bears on {ref.bears_on!r}; reports of "
                    "one event bear on one question or driver",
                )
            elif not math.isclose(e.ratio, ref.ratio, rel_tol=1e-9):
                self.error(
                    e.path,
                    e.line,
                    f"cluster {e.cluster!r}: {e.id} is coded "
                    f"{e.strength!r} but {where} is coded {ref.strength!r}; reports of one "
                    "event carry one strength (credibility may differ)",
                )

    def check_coverage(
        self, questions: list[Question], drivers: list[Driver], analysts: list[Analyst]
    ) -> None:
        for q in questions if self.priors_complete else ():
            if q.id not in self.stated:
                self.warn(
                    QUESTIONS_FILE,
                    q.line,
                    f"no analyst states a prior on {q.id!r}; the "
                    f"default prior is used (log-odds Normal(0, {DEFAULT_PRIOR_SD:g}), "
                    "centred on 50 %)",
                )
        for d in drivers if self.targets_complete else ():
            if d.id not in self.loaded:
                self.warn(
                    QUESTIONS_FILE,
                    d.line,
                    f"no question loads on driver {d.id!r}, so it changes no forecast",
                )


# --- writing: a new workspace, a new evidence row ------------------------------------------

_NUMBERED_ID = re.compile(r"(.*?)(\d+)")


def next_evidence_id(ids: Sequence[str]) -> str:
    """The next free evidence id, keeping the pattern in use (``E024`` -> ``E025``).

    The prefix used by most numbered ids wins (ties: the one used last); the
    number is one above its highest, zero-padded to the same width; ``E001``
    when no id is numbered.
    """
    taken = set(ids)
    groups: dict[str, list[tuple[int, int]]] = {}
    last: dict[str, int] = {}
    for order, ident in enumerate(ids):
        match = _NUMBERED_ID.fullmatch(ident)
        if match:
            groups.setdefault(match.group(1), []).append((int(match.group(2)), len(match.group(2))))
            last[match.group(1)] = order
    if not groups:
        prefix, number, width = "E", 1, 3
    else:
        prefix = max(groups, key=lambda p: (len(groups[p]), last[p]))
        number, width = max(groups[prefix])
        number += 1
    while f"{prefix}{number:0{width}d}" in taken:
        number += 1
    return f"{prefix}{number:0{width}d}"


def evidence_file(ws: Workspace, file: str | None = None) -> str:
    """The evidence CSV (relative path) a new row goes to.

    ``file`` names one (``summit.csv`` or ``evidence/summit.csv``; it may be
    new); without it: the only evidence file, else the one with the most
    items, else a new ``evidence/evidence.csv``.
    """
    if file:
        parts = PurePosixPath(Path(file).as_posix()).parts
        if len(parts) == 2 and parts[0] == "evidence":
            parts = parts[1:]
        name = parts[0] if len(parts) == 1 else ""
        rel = f"evidence/{name}"
        if not name.endswith(".csv") or name.startswith(".") or rel == SOURCES_FILE:
            raise UsageError(
                f"--file {file!r}: name an evidence CSV in evidence/, e.g. summit.csv "
                "(not sources.csv)"
            )
        return rel
    counts: dict[str, int] = dict.fromkeys(_Loader(ws.root, {}).files("evidence", ".csv"), 0)
    counts.pop(SOURCES_FILE, None)
    for e in ws.evidence:
        counts[e.path] = counts.get(e.path, 0) + 1
    if not counts:
        return "evidence/evidence.csv"
    return max(sorted(counts), key=lambda rel: counts[rel])


@locked
def add_evidence(
    root: str | Path, values: Mapping[str, str], file: str | None = None
) -> tuple[str, str]:
    """Append one coded item to an evidence CSV, after validating the workspace with it.

    Parameters
    ----------
    root
        The workspace folder.
    values
        Column -> text for ``date, bears_on, source, strength, credibility``
        and optionally ``cluster, summary, citation``; the id is assigned.
    file
        Which evidence CSV (see :func:`evidence_file`).

    Returns
    -------
    (id, path)
        The new item's id and the file it went to (relative to ``root``).

    Raises
    ------
    WorkspaceError, UsageError
        When the workspace, or the workspace with the new row, has an error;
        then no file is touched.
    """
    root = Path(root)
    ws = load_workspace(root)
    rel = evidence_file(ws, file)
    path = root / rel
    try:
        data = path.read_bytes() if path.is_file() else b""
    except OSError as exc:
        raise UsageError(f"cannot read {rel}: {exc.strerror or exc}") from None
    if data.strip():
        text = data.decode("utf-8-sig")  # the loader has checked it decodes
        header = next(csv.reader(io.StringIO(text, newline="")))
        columns = [h.strip().lower() for h in header]
        newline = "\r\n" if b"\r\n" in data else "\n"
        prefix = data if data.endswith((b"\n", b"\r")) else data + newline.encode()
    else:
        columns, newline = list(EVIDENCE_COLUMNS), "\n"
        prefix = _csv_line(columns, newline).encode()
    if values.get("cluster") and "cluster" not in columns:
        raise UsageError(
            f"{rel} has no cluster column: add one to its header, or leave out --cluster"
        )
    new_id = next_evidence_id([e.id for e in ws.evidence])
    row = {**values, "id": new_id}
    line = len(re.findall(r"\r\n|\r|\n", prefix.decode("utf-8-sig"))) + 1
    new = prefix + _csv_line([row.get(c, "") for c in columns], newline).encode()
    try:
        load_workspace(root, overrides={rel: new})
    except WorkspaceError as exc:
        problems = [
            Problem(f"{p.path}:{p.line} (the new row)", 0, p.message, p.severity)
            if (p.path, p.line) == (rel, line)
            else p
            for p in exc.problems
        ]
        raise WorkspaceError(problems) from None
    atomic_write_bytes(path, new)
    return new_id, rel


def _csv_line(values: Sequence[str], newline: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerow(values)
    return out.getvalue()


def init_workspace(root: str | Path) -> list[str]:
    """Copy the starter workspace into ``root``; return the files written.

    Raises
    ------
    UsageError
        When ``root`` already holds ``priors/`` or ``evidence/`` (or any file
        the starter would write): nothing is overwritten.
    """
    from importlib.resources import files

    root = Path(root)
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} is a file, not a folder")
    template = files("forecast").joinpath("templates", "init")
    found = []
    stack = [(template, "")]
    while stack:
        node, rel = stack.pop()
        for child in node.iterdir():
            name = child.name
            if name.startswith(".") or name == "__pycache__":
                continue
            child_rel = f"{rel}{name}"
            if child.is_dir():
                stack.append((child, child_rel + "/"))
            else:
                found.append((child_rel, child))
    taken = [d for d in ("priors", "evidence") if (root / d).exists()]
    taken += [rel for rel, _ in found if "/" not in rel and (root / rel).exists()]
    if taken:
        raise UsageError(
            f"{root} already holds {listing(taken)}; `forecast init` starts a new workspace "
            "and never overwrites one"
        )
    written = []
    for rel, child in sorted(found):
        atomic_write_bytes(root / rel, child.read_bytes())
        written.append(rel)
    return written
