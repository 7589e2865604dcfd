"""JSON Schema for the YAML files a forecaster edits, from the schema's models.

Editors that speak JSON Schema (VS Code's YAML extension and others built on
yaml-language-server) check and complete fields as the forecaster types,
when a file starts with a line such as::

    # yaml-language-server: $schema=../schema/questions.schema.json

``forecast init`` writes the schema files and those lines; ``forecast schema``
writes (or refreshes) the files anywhere. The schema describes the files as
YAML 1.2 reads them, as editors do: ``2026-10-31`` and ``yes`` are text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from forecast.io import atomic_write_text
from forecast.workspace.schema import AnalystFile, QuestionsFile

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FOLDER = "schema"  # in a workspace, next to priors/
QUESTIONS_SCHEMA = "questions.schema.json"
ANALYST_SCHEMA = "analyst.schema.json"
# schema file -> (model, title): what each file of priors/ is checked against
SCHEMAS = {
    QUESTIONS_SCHEMA: (QuestionsFile, "forecast: priors/questions.yaml"),
    ANALYST_SCHEMA: (AnalystFile, "forecast: an analyst file, priors/<analyst>.yaml"),
}


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema named ``name`` (a key of :data:`SCHEMAS`), as a dict."""
    model, title = SCHEMAS[name]
    body = model.model_json_schema()
    return {"$schema": DIALECT, "$id": name, **body, "title": title}


def modeline(name: str, folder: str = f"../{SCHEMA_FOLDER}") -> str:
    """The comment that points an editor at schema ``name`` (relative to the YAML file)."""
    return f"# yaml-language-server: $schema={folder}/{name}"


def write_schemas(folder: str | Path) -> list[Path]:
    """Write every schema into ``folder`` (created if need be), atomically;
    return the paths written."""
    folder = Path(folder)
    written = []
    for name in SCHEMAS:
        path = folder / name
        atomic_write_text(path, json.dumps(json_schema(name), indent=2) + "\n")
        written.append(path)
    return written
