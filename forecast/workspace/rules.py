"""Rules across entries and files: ids, references, clusters, coverage.

The schema checks each value on its own; these check what values say about
each other: that ids are unique, that every id named elsewhere exists, that
reports of one event agree, and which questions and drivers nothing informs.
Each rule reports through the :class:`~forecast.workspace.reading.Reader`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from forecast.codebook import DEFAULT_PRIOR_SD
from forecast.errors import Problem
from forecast.formats import SLUG_RE, YNode, listing, suggest
from forecast.workspace.objects import Driver, EvidenceItem, Question
from forecast.workspace.reading import QUESTIONS_FILE, SOURCES_FILE, Reader


class Targets:
    """The ids of questions and drivers (one namespace), as claimed in
    ``questions.yaml``: id -> (kind, line)."""

    def __init__(self) -> None:
        self.ids: dict[str, tuple[str, int]] = {}
        self.complete = True  # False when questions.yaml has an error: ids may be missing

    def __contains__(self, ident: str) -> bool:
        return ident in self.ids

    def drivers(self) -> set[str]:
        return {i for i, (kind, _) in self.ids.items() if kind == "driver"}

    def unknown(self, ident: str) -> bool:
        """True when ``ident`` is surely not a question or driver."""
        return self.complete and ident not in self.ids

    def known(self) -> str:
        return listing(self.ids) or "none"

    def hint(self, ident: str) -> str:
        return suggest(ident, self.ids)


def claim_ids(rel: str, root: YNode, targets: Targets) -> tuple[dict[tuple, str], list[Problem]]:
    """Register every well-formed question and driver id, in file order, so a
    duplicate is reported on the later line whichever list it is in.

    Returns ``(section, index)`` -> the id, for the entries whose id is theirs,
    and the duplicates. A missing or malformed id is left to the schema.
    """
    entries = []
    for section, kind in (("questions", "question"), ("drivers", "driver")):
        node = root.value.get(section)
        if node is not None and node.kind == "seq":
            entries += [
                (item, kind, (section, i))
                for i, item in enumerate(node.value)
                if item.kind == "map"
            ]
    accepted: dict[tuple, str] = {}
    problems: list[Problem] = []
    for item, kind, where in sorted(entries, key=lambda entry: entry[0].line):
        value = item.value.get("id")
        if value is None or value.kind != "scalar" or value.value is None:
            continue
        ident = value.text.strip()
        if not SLUG_RE.fullmatch(ident):
            continue
        line = item.key_lines["id"]
        if ident in targets.ids:
            other, other_line = targets.ids[ident]
            message = (
                f"duplicate id {ident!r}: already the id of the {other} at line {other_line} "
                "(questions and drivers share one set of ids)"
            )
            problems.append(Problem(rel, line, message))
            continue
        targets.ids[ident] = (kind, line)
        accepted[where] = ident
    return accepted, problems


def unknown_loadings(
    rel: str, node: YNode, drivers: set[str], loaded: set[str]
) -> dict[str, Problem]:
    """Loadings (``node``: a question's ``drivers`` mapping) on drivers that do not
    exist: driver -> the problem."""
    loaded.update(node.value)
    bad = {}
    for driver in node.value:
        if driver not in drivers:
            known = listing(sorted(drivers)) or "none (add a 'drivers:' list)"
            bad[driver] = Problem(
                rel,
                node.key_lines[driver],
                f"loading on unknown driver {driver!r}{suggest(driver, drivers)}; "
                f"known drivers: {known}",
            )
    return bad


def unknown_target(rel: str, line: int, target: str, targets: Targets) -> Problem | None:
    """The problem with an analyst's prior on an id that is no question or driver."""
    if not targets.unknown(target):
        return None
    return Problem(
        rel,
        line,
        f"unknown question or driver {target!r}{targets.hint(target)}; "
        f"known ids: {targets.known()}",
    )


def same_analyst(names: dict[str, str], name: str, rel: str) -> str | None:
    """The message when another file already names analyst ``name``, else None."""
    if name in names:
        return f"analyst {name!r} already has a file: {names[name]}; keep one file per analyst"
    names[name] = rel
    return None


def duplicate_id(kind: str, ident: str, first: str | None) -> str | None:
    """The message for a CSV row repeating an id first seen at ``first``."""
    if first is None:
        return None
    where = "; ids are unique across evidence files" if kind == "evidence" else ""
    return f"duplicate {kind} id {ident!r} (first at {first}){where}"


def evidence_references(
    values: Mapping[str, str], targets: Targets, sources: set[str], sources_complete: bool
) -> dict[str, str]:
    """Column -> message for an evidence row naming an unknown target or source."""
    out = {}
    target, source = values["bears_on"], values["source"]
    if target and targets.unknown(target):
        out["bears_on"] = (
            f"bears_on {target!r} is not a known question or driver{targets.hint(target)}; "
            f"known ids: {targets.known()}"
        )
    if source and sources_complete and source not in sources:
        known = listing(sorted(sources)) or "none"
        out["source"] = (
            f"source {source!r} is not in {SOURCES_FILE}{suggest(source, sources)}; "
            f"known sources: {known}"
        )
    return out


def check_clusters(report: Reader, evidence: Iterable[EvidenceItem]) -> None:
    """Reports of one event bear on one target and carry one strength."""
    first: dict[str, EvidenceItem] = {}
    for e in evidence:
        ref = first.setdefault(e.cluster, e)
        if ref is e:
            continue
        where = f"{ref.id} ({ref.path}:{ref.line})"
        if e.bears_on != ref.bears_on:
            report.error(
                e.path,
                e.line,
                f"cluster {e.cluster!r}: {e.id} bears on {e.bears_on!r} but {where} bears on "
                f"{ref.bears_on!r}; reports of one event bear on one question or driver",
            )
        elif not math.isclose(e.ratio, ref.ratio, rel_tol=1e-9):
            report.error(
                e.path,
                e.line,
                f"cluster {e.cluster!r}: {e.id} is coded {e.strength!r} but {where} is coded "
                f"{ref.strength!r}; reports of one event carry one strength (credibility may "
                "differ)",
            )


def check_coverage(
    report: Reader,
    questions: Iterable[Question],
    drivers: Iterable[Driver],
    stated: set[str],
    loaded: set[str],
) -> None:
    """Warn about questions no analyst states a prior on and drivers nothing loads on."""
    for q in questions:
        if q.id not in stated:
            report.warn(
                QUESTIONS_FILE,
                q.line,
                f"no analyst states a prior on {q.id!r}; the default prior is used "
                f"(log-odds Normal(0, {DEFAULT_PRIOR_SD:g}), centred on 50 %)",
            )
    for d in drivers:
        if d.id not in loaded:
            report.warn(
                QUESTIONS_FILE,
                d.line,
                f"no question loads on driver {d.id!r}, so it changes no forecast",
            )
