"""A workspace built in memory, written back as the files it would be read from.

:func:`workspace_bytes` turns a :class:`~forecast.workspace.objects.Workspace`
(built by a simulation or a benchmark, say) into ``relative path -> bytes``:
``priors/questions.yaml``, one ``priors/<analyst>.yaml`` per analyst, the
evidence and sources CSV files and ``forecast.toml`` (analyst files are
named so that reading them in name order keeps the analysts' order).
Reading those files
with :func:`~forecast.workspace.load_workspace` gives the same questions,
statements, evidence, sources and settings: every number is written with
``repr``, which reads back to the same float. This is how such a workspace
travels to a batch worker as files, never as Python objects.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict

from forecast.codebook import DEFAULT
from forecast.workspace.objects import Settings, Statement, Workspace
from forecast.workspace.reading import QUESTIONS_FILE, SETTINGS_FILE, SOURCES_FILE
from forecast.workspace.rows import EVIDENCE_COLUMNS, SOURCE_COLUMNS

EVIDENCE_FILE = "evidence/evidence.csv"


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _n(x: float) -> str:
    return repr(float(x))


def _statement(s: Statement) -> str:
    if s.kind == "interval":
        return f"{{p: {_n(s.p)}, lo: {_n(s.lo)}, hi: {_n(s.hi)}, level: {_n(s.level)}}}"
    if s.kind == "beta":
        return f"{{beta: [{_n(s.a)}, {_n(s.b)}]}}"
    if s.kind == "confidence":
        return f"{{p: {_n(s.p)}, confidence: {s.confidence}}}"
    if s.kind == "words":
        return f"{{estimate: {s.word}, confidence: {s.confidence}}}"
    return f"{{p: {_n(s.p)}}}"


def _questions(ws: Workspace) -> str:
    lines = ["questions:"]
    for q in ws.questions:
        lines.append(f"  - id: {_q(q.id)}")
        lines.append(f"    title: {_q(q.title)}")
        if q.resolution_criteria:
            lines.append(f"    resolution_criteria: {_q(q.resolution_criteria)}")
        if q.close_date:
            lines.append(f"    close_date: {q.close_date.isoformat()}")
        if q.drivers:
            loads = ", ".join(f"{_q(d)}: {_n(b)}" for d, b in q.drivers.items())
            lines.append(f"    drivers: {{{loads}}}")
        if q.resolution is not None:
            r = q.resolution
            parts = [f"outcome: {r.outcome}"]
            parts += [f"date: {r.date.isoformat()}"] if r.date else []
            parts += [f"note: {_q(r.note)}"] if r.note else []
            lines.append("    resolution: {" + ", ".join(parts) + "}")
    if ws.drivers:
        lines.append("drivers:")
        for d in ws.drivers:
            lines.append(f"  - id: {_q(d.id)}")
            lines.append(f"    title: {_q(d.title)}")
    return "\n".join(lines) + "\n"


def _csv(columns: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _settings(settings: Settings) -> str:
    values = asdict(settings)
    model = {k: values[k] for k in ("pooling", "coding_sd")}
    sampler = {k: values[k] for k in ("draws", "chains", "tune", "seed", "target_accept")}
    lines = ["[model]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in model.items()]
    lines += ["", "[sampler]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in sampler.items()]
    lines += ["", "[report]", f"output = {json.dumps(values['output'])}"]
    return "\n".join(lines) + "\n"


def workspace_bytes(ws: Workspace) -> dict[str, bytes]:
    """The files ``ws`` would be read from (relative posix path -> bytes).

    Raises
    ------
    ValueError
        When ``ws`` overrides the codebook: those tables are not written.
    """
    if ws.codebook != DEFAULT:
        raise ValueError("a workspace with codebook overrides cannot be written back")
    files = {QUESTIONS_FILE: _questions(ws), SETTINGS_FILE: _settings(ws.settings)}
    stems: list[str] = []
    for analyst in ws.analysts:
        stem = base = re.sub(r"[^a-z0-9]+", "-", analyst.name.lower()).strip("-") or "analyst"
        n = 1
        while stem in stems or stem == "questions":
            n += 1
            stem = f"{base}-{n}"
        stems.append(stem)
    if stems != sorted(stems):  # files are read in name order: keep the analysts' order
        width = len(str(len(stems)))
        stems = [f"{i:0{width}d}-{stem}" for i, stem in enumerate(stems)]
    for analyst, stem in zip(ws.analysts, stems, strict=True):
        body = [f"analyst: {_q(analyst.name)}", "priors:"]
        body += [f"  {_q(s.target)}: {_statement(s)}" for s in analyst.statements]
        files[f"priors/{stem}.yaml"] = "\n".join(body) + "\n"
    if ws.sources:
        rows = [
            {
                "id": s.id,
                "name": s.name,
                "reliability": s.grade if s.grade else _n(s.reliability),
                "verified": str(s.verified),
                "refuted": str(s.refuted),
            }
            for s in ws.sources
        ]
        files[SOURCES_FILE] = _csv(SOURCE_COLUMNS, rows)
    if ws.evidence:
        rows = [
            {
                "id": e.id, "date": e.date.isoformat(), "bears_on": e.bears_on,
                "source": e.source, "strength": e.strength, "credibility": str(e.credibility),
                "cluster": "" if e.cluster == e.id else e.cluster, "summary": e.summary,
                "citation": e.citation,
            }
            for e in ws.evidence
        ]  # fmt: skip
        files[EVIDENCE_FILE] = _csv(EVIDENCE_COLUMNS, rows)
    return {rel: text.encode("utf-8") for rel, text in files.items()}
