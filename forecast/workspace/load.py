"""One pass over a workspace's files: read, check against the schema, apply the
rules across files, and build the :class:`~forecast.workspace.objects.Workspace`.

Every problem is collected; only at the end, if any is an error, is one
:class:`~forecast.errors.WorkspaceError` raised listing them all, in the
order the files were read and by line within a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

from forecast.codebook import DEFAULT
from forecast.errors import Problem, WorkspaceError
from forecast.formats import YNode
from forecast.workspace import rules, schema
from forecast.workspace.objects import (
    Analyst,
    Driver,
    EvidenceItem,
    Question,
    Resolution,
    Settings,
    Statement,
    Workspace,
)
from forecast.workspace.problems import (
    TomlDocument,
    YamlDocument,
    check,
    salvage,
)
from forecast.workspace.reading import (
    QUESTIONS_FILE,
    SETTINGS_FILE,
    SOURCES_FILE,
    Reader,
    data_of,
)
from forecast.workspace.rows import (
    EVIDENCE_COLUMNS,
    EVIDENCE_REQUIRED,
    SOURCE_COLUMNS,
    SOURCE_REQUIRED,
    RowFiles,
)
from forecast.workspace.settings import SettingsFile

__all__ = ["EVIDENCE_COLUMNS", "EVIDENCE_REQUIRED", "SOURCE_COLUMNS", "SOURCE_REQUIRED"]


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
    return _Pass(Path(root), dict(overrides or {})).load()


class _Pass(RowFiles):
    def __init__(self, root: Path, overrides: dict[str, bytes]):
        self.root = root
        self.read = Reader(root, overrides)
        self.codebook = DEFAULT
        self.settings = Settings()
        self.targets = rules.Targets()
        self.source_ids: set[str] = set()
        self.sources_complete = True
        # what the files name, read or not: warnings about coverage use these,
        # so a statement or question rejected for an error adds no warning
        self.stated: set[str] = set()
        self.priors_complete = True
        self.loaded: set[str] = set()

    @property
    def context(self) -> dict[str, Any]:
        return {"codebook": self.codebook}

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
        evidence_files = [f for f in self.read.files("evidence", ".csv") if f != SOURCES_FILE]
        sources = self.load_sources(required=bool(evidence_files))
        evidence: list[EvidenceItem] = []
        seen: dict[str, EvidenceItem] = {}
        for rel in evidence_files:
            evidence += self.load_evidence(rel, seen)
        rules.check_clusters(self.read, evidence)
        rules.check_coverage(
            self.read,
            questions if self.priors_complete else (),
            drivers if self.targets.complete else (),
            self.stated,
            self.loaded,
        )
        rank = {path: i for i, path in enumerate(self.read.order)}
        problems = sorted(self.read.problems, key=lambda p: (rank.get(p.path, len(rank)), p.line))
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
            file_hashes=MappingProxyType(dict(sorted(self.read.hashes.items()))),
        )

    def report(self, found) -> None:
        self.read.problems.extend(f.problem for f in found)

    # --- forecast.toml -------------------------------------------------------------
    def load_settings(self) -> None:
        rel = SETTINGS_FILE
        if not self.read.exists(rel):
            return
        parsed = self.read.toml(
            rel, "TOML settings such as [sampler] draws = 1000 (or delete the file)"
        )
        if parsed is None:
            return
        data, lines = parsed
        model, found = check(SettingsFile, data, TomlDocument(data, lines), rel)
        self.report(found)
        if model is None:
            model = salvage(SettingsFile, data, found, 3) or SettingsFile()
        self.settings = model.settings()
        self.codebook = DEFAULT.with_overrides(**model.tables())

    # --- priors/questions.yaml -----------------------------------------------------
    def load_questions(self) -> tuple[list[Question], list[Driver]]:
        rel = QUESTIONS_FILE
        if not self.read.exists(rel):
            self.targets.complete = False
            self.read.meet(rel)
            self.read.error(
                rel,
                0,
                "missing: every workspace needs priors/questions.yaml listing "
                "its questions (run `forecast init` to start one)",
            )
            return [], []
        before = len(self.read.problems)
        root = self.read.yaml(
            rel, "a mapping with a 'questions:' list and an optional 'drivers:' list"
        )
        if root is None:
            self.targets.complete = False
            return [], []
        ids, duplicates = rules.claim_ids(rel, root, self.targets)
        data = data_of(root)
        # (order on a line, problem): reported as a reader meets them, entry by entry:
        # unknown top-level keys, ids, then the drivers and the questions
        found_here: list[tuple[tuple, Problem]] = [((1,), p) for p in duplicates]
        # a loading on an unknown driver is reported as such, and not read further
        rejected: set[tuple] = set()
        items = root.value.get("questions")
        items = items.value if items is not None and items.kind == "seq" else []
        rank = {name: i for i, name in enumerate(schema.Question.model_fields)}
        for i, item in enumerate(items):
            node = item.value.get("drivers") if item.kind == "map" else None
            if node is not None and node.kind == "map":
                bad = rules.unknown_loadings(rel, node, self.targets.drivers(), self.loaded)
                keys = list(node.value)
                found_here += [
                    ((3, rank["drivers"], 0, keys.index(driver)), p) for driver, p in bad.items()
                ]
                if bad:
                    rejected.add(("questions", i))
                    loadings = data["questions"][i]["drivers"]
                    for driver in bad:
                        del loadings[driver]
            ident = ids.get(("questions", i))
            criteria = item.value.get("resolution_criteria") if item.kind == "map" else None
            if ident and (
                criteria is None
                or criteria.kind != "scalar"
                or not criteria.text.strip()
                or criteria.value is None
            ):
                message = (
                    f"question {ident} has no resolution_criteria: say what counts as yes, "
                    "so it can be resolved and scored"
                )
                found_here.append(
                    ((3, rank["resolution_criteria"]), Problem(rel, item.line, message, "warning"))
                )

        def known(loc: tuple) -> dict[str, str]:
            kind = {"questions": "question", "drivers": "driver"}.get(loc[0] if loc else "")
            return {"what": f"{kind} {ids.get(loc[:2]) or '?'}"} if kind else {}

        def order(loc: tuple, problem: Problem) -> tuple:
            section = 2 if loc[0] == "drivers" else 3
            if loc[0] not in ("drivers", "questions"):
                return (0,)
            if len(loc) < 3:
                return (section, -2)
            if loc[2] == "id":
                return (1,)
            unknown = problem.message.startswith("unknown")
            if loc[2] not in rank or (unknown and len(loc) == 3):
                return (section, -1)
            return (section, rank[loc[2]], -1 if unknown else 0, *loadings(loc))

        def loadings(loc: tuple) -> tuple:
            """Where a loading comes among its question's loadings."""
            if loc[2] != "drivers" or len(loc) < 4:
                return ()
            node = items[loc[1]].value["drivers"]
            return (list(node.value).index(loc[3]),) if node.kind == "map" else ()

        model, found = check(schema.QuestionsFile, data, YamlDocument(root), rel, known=known)
        found_here += [(order(f.loc, f.problem), f.problem) for f in found]
        found_here.sort(key=lambda entry: (entry[1].line, entry[0]))
        self.read.problems.extend(p for _, p in found_here)
        cut = {f.cut(2) for f in found}
        if model is None:
            model = salvage(schema.QuestionsFile, data, found, 2)
        questions: list[Question] = []
        drivers: list[Driver] = []
        for section, entries in (
            ("questions", model.questions if model else []),
            ("drivers", model.drivers if model else []),
        ):
            nodes = root.value[section].value if entries else []
            kept = [i for i in range(len(nodes)) if (section, i) not in cut]
            for i, entry in zip(kept, entries, strict=True):
                ident = ids.get((section, i))
                if ident is None or (section, i) in rejected:
                    continue
                if section == "drivers":
                    drivers.append(Driver(ident, entry.title, line=nodes[i].line))
                else:
                    questions.append(self.question(ident, entry, nodes[i].line))
        if any(p.path == rel and p.severity == "error" for p in self.read.problems[before:]):
            # ids after a broken entry may be missing: do not call them unknown elsewhere
            self.targets.complete = False
        return questions, drivers

    @staticmethod
    def question(ident: str, entry: schema.Question, line: int) -> Question:
        res = entry.resolution
        return Question(
            id=ident,
            title=entry.title,
            resolution_criteria=entry.resolution_criteria or "",
            close_date=entry.close_date,
            drivers=MappingProxyType(dict(entry.drivers or {})),
            resolution=Resolution(res.outcome, res.date, res.note or "") if res else None,
            line=line,
        )

    # --- priors/<analyst>.yaml -----------------------------------------------------
    def load_analysts(self) -> list[Analyst]:
        for rel in self.read.files("priors", ".yml"):
            self.read.warn(rel, 0, "ignored: analyst files end in .yaml")
        analysts: list[Analyst] = []
        names: dict[str, str] = {}
        for rel in self.read.files("priors", ".yaml"):
            if rel == QUESTIONS_FILE:
                continue
            root = self.read.yaml(rel, "a mapping with 'analyst:' (optional) and 'priors:'")
            if root is None:
                self.priors_complete = False
                continue
            analyst = self.load_analyst(rel, root, names)
            if analyst is not None:
                analysts.append(analyst)
        return analysts

    def load_analyst(self, rel: str, root: YNode, names: dict[str, str]) -> Analyst | None:
        data = data_of(root)
        doc = YamlDocument(root)
        name_node = root.value.get("analyst")
        name = None
        if name_node is not None and name_node.kind == "scalar" and name_node.value is not None:
            name = name_node.text.strip() or None
        name = name or PurePosixPath(rel).stem
        node = root.value.get("priors")
        targets = list(node.value) if node is not None and node.kind == "map" else []
        # (order on a line, problem): as a reader meets them: unknown keys, the
        # name, the priors as a whole, then each prior in turn
        here: list[tuple[tuple, Problem]] = []

        def order(loc: tuple, problem: Problem) -> tuple:
            if loc[0] == "priors" and len(loc) > 1 and loc[1] in targets:
                return (4, targets.index(loc[1]))
            if problem.message.startswith("unknown"):
                return (0,)
            return (1,) if loc[0] == "analyst" else (3,)

        def report(found) -> None:
            here.extend((order(f.loc, f.problem), f.problem) for f in found)
            here.sort(key=lambda entry: (entry[1].line, entry[0]))
            self.read.problems.extend(p for _, p in here)

        clash = rules.same_analyst(names, name, rel)
        if clash:
            here.append(((2,), Problem(rel, root.key_lines.get("analyst", 1), clash)))
            report(check(schema.AnalystFile, {**data, "priors": {}}, doc, rel)[1])
            return None
        if node is not None and (node.kind == "map" and not node.value or node.value is None):
            warning = Problem(rel, root.key_lines["priors"], f"{name} states no priors", "warning")
            here.append(((3,), warning))
            data["priors"] = {}
        self.stated.update(targets)
        for i, target in enumerate(targets):
            problem = rules.unknown_target(rel, node.key_lines[target], target, self.targets)
            if problem is not None:
                here.append(((4, i), problem))
                del data["priors"][target]

        def known(loc: tuple) -> dict[str, str]:
            return {"target": loc[1]} if len(loc) > 1 and loc[0] == "priors" else {}

        model, found = check(schema.AnalystFile, data, doc, rel, context=self.context, known=known)
        report(found)
        if model is None:
            model = salvage(schema.AnalystFile, data, found, 2, context=self.context)
        statements = []
        for target, prior in (model.priors if model else {}).items():
            base = {"analyst": name, "target": target, "path": rel}
            statements.append(_statement(prior, line=node.key_lines[target], **base))
        return Analyst(name=name, path=rel, statements=tuple(statements))


def _statement(prior: Any, **base: Any) -> Statement:
    if isinstance(prior, schema.IntervalPrior):
        return Statement(
            kind="interval", p=prior.p, lo=prior.lo, hi=prior.hi, level=prior.level, **base
        )
    if isinstance(prior, schema.BetaPrior):
        return Statement(kind="beta", a=prior.beta[0], b=prior.beta[1], **base)
    if isinstance(prior, schema.ConfidencePrior):
        return Statement(kind="confidence", p=prior.p, confidence=prior.confidence, **base)
    if isinstance(prior, schema.PointPrior):
        return Statement(kind="point", p=prior.p, **base)
    if isinstance(prior, schema.WordsPrior):
        return Statement(kind="words", word=prior.estimate, confidence=prior.confidence, **base)
    return Statement(kind="words", word=prior, confidence=schema.DEFAULT_CONFIDENCE, **base)
