"""Reading the CSV files: ``evidence/sources.csv`` and the evidence files.

Each row is checked against its schema model and the rules across files,
and its problems reported in column order, as a reader meets them.
"""

from __future__ import annotations

from typing import Any

from forecast.formats import CsvRow
from forecast.workspace import rules, schema
from forecast.workspace.fields import strength_ratio
from forecast.workspace.objects import EvidenceItem, Source
from forecast.workspace.problems import RowDocument, check
from forecast.workspace.reading import SOURCES_FILE, Reader

EVIDENCE_COLUMNS = tuple(schema.EvidenceRow.model_fields)
EVIDENCE_REQUIRED = tuple(c for c in EVIDENCE_COLUMNS if c != "cluster")
SOURCE_COLUMNS = tuple(schema.SourceRow.model_fields)
SOURCE_REQUIRED = ("id", "name", "reliability")


class RowFiles:
    """The part of the pass over a workspace that reads its CSV files."""

    read: Reader
    targets: rules.Targets
    source_ids: set[str]
    sources_complete: bool
    context: dict[str, Any]

    # --- evidence/sources.csv ------------------------------------------------------
    def load_sources(self, required: bool) -> list[Source]:
        rel = SOURCES_FILE
        if not self.read.exists(rel):
            if required:
                self.sources_complete = False
                self.read.meet(rel)
                self.read.error(
                    rel,
                    0,
                    "missing: evidence cites sources; list them in "
                    f"{rel} with the columns {','.join(SOURCE_COLUMNS)}",
                )
            return []
        table = self.read.csv(
            rel,
            f"a header {','.join(SOURCE_COLUMNS)} and one source a row",
            SOURCE_REQUIRED,
            ("verified", "refuted"),
        )
        if table is None:
            self.sources_complete = False
            return []
        self.sources_complete = table.complete
        sources: list[Source] = []
        lines: dict[str, int] = {}
        for row in table.rows:
            ident = row.values["id"]
            first = f"line {lines[ident]}" if ident in lines else None
            model, id_ok = self.row(rel, row, schema.SourceRow, "source", first, {})
            if id_ok:
                lines[ident] = row.line
                self.source_ids.add(ident)
            if model is not None:
                grade = model.reliability if isinstance(model.reliability, str) else None
                number = model.reliability if grade is None else None
                sources.append(
                    Source(
                        ident,
                        model.name,
                        grade,
                        number,
                        verified=model.verified,
                        refuted=model.refuted,
                        line=row.line,
                    )
                )
        return sources

    # --- evidence/*.csv ------------------------------------------------------------
    def load_evidence(self, rel: str, seen: dict[str, EvidenceItem]) -> list[EvidenceItem]:
        columns = ",".join(EVIDENCE_COLUMNS)
        table = self.read.csv(
            rel, f"a header {columns} and one item a row", EVIDENCE_REQUIRED, ("cluster",)
        )
        if table is None:
            return []
        items = []
        for row in table.rows:
            v = row.values
            ident = v["id"]
            first = f"{seen[ident].path}:{seen[ident].line}" if ident in seen else None
            refs = rules.evidence_references(
                v, self.targets, self.source_ids, self.sources_complete
            )
            model, _ = self.row(rel, row, schema.EvidenceRow, "evidence", first, refs)
            if model is None:
                continue
            item = EvidenceItem(
                id=ident,
                date=model.date,
                bears_on=model.bears_on,
                source=model.source,
                strength=model.strength,
                ratio=strength_ratio(self.codebook, model.strength),  # type: ignore[arg-type]
                credibility=model.credibility,
                cluster=model.cluster or ident,
                summary=model.summary,
                citation=model.citation,
                path=rel,
                line=row.line,
            )
            seen[ident] = item
            items.append(item)
        return items

    def row(
        self,
        rel: str,
        row: CsvRow,
        model: type[schema.Entry],
        kind: str,
        first: str | None,
        refs: dict[str, str],
    ) -> tuple[Any, bool]:
        """Check one CSV row: the schema's problems and the rules', reported in
        column order. Returns the row's model (None when anything is wrong) and
        whether its id is good (well formed and not seen before)."""
        values = row.values
        checked, found = check(
            model,
            values,
            RowDocument(values, row.line),
            rel,
            context=self.context,
            known=lambda loc: {"what": values["id"]},
        )
        messages = [(f.loc[0] if f.loc else "", f.problem.message) for f in found]
        id_ok = not any(column == "id" for column, _ in messages)
        duplicate = rules.duplicate_id(kind, values["id"], first) if id_ok else None
        if duplicate:
            messages.append(("id", duplicate))
            id_ok = False
        messages += list(refs.items())
        order = list(model.__pydantic_fields__)
        for _, message in sorted(
            messages, key=lambda m: order.index(m[0]) if m[0] in order else -1
        ):
            self.read.error(rel, row.line, message)
        return (checked if not messages else None), id_ok
