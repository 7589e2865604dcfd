"""The JSON Schema editors use, and the docs' field tables, agree with the loader."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from conftest import MINIMAL_FILES, write_workspace
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML
from typer.testing import CliRunner

from forecast.cli import app
from forecast.errors import WorkspaceError
from forecast.workspace import Settings, load_workspace
from forecast.workspace.schema import (
    AnalystFile,
    Driver,
    EvidenceRow,
    Question,
    QuestionsFile,
    Resolution,
    SourceRow,
)
from forecast.workspace.schema_json import ANALYST_SCHEMA, QUESTIONS_SCHEMA, json_schema
from forecast.workspace.settings import SettingsFile

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "workspace.md"


def as_editor_reads(text: str):
    """A YAML file as an editor's YAML 1.2 reader sees it: dates are text."""

    def plain(value):
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, dt.date):
            return value.isoformat()
        return value

    return plain(YAML(typ="safe", pure=True).load(text))


def validator(name: str) -> Draft202012Validator:
    schema = json_schema(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def errors(name: str, text: str) -> list[str]:
    return [e.message for e in validator(name).iter_errors(as_editor_reads(text))]


def shipped_yaml() -> list[Path]:
    files = sorted((REPO / "priors").glob("*.yaml"))
    files += sorted((REPO / "forecast/templates/init/priors").glob("*.yaml"))
    assert len(files) >= 4
    return files


@pytest.mark.parametrize("path", shipped_yaml(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_schema_accepts_the_shipped_files(path):
    name = QUESTIONS_SCHEMA if path.name == "questions.yaml" else ANALYST_SCHEMA
    assert errors(name, path.read_text()) == []


def test_schema_accepts_the_minimal_workspace():
    for rel, text in MINIMAL_FILES.items():
        if rel == "priors/questions.yaml":
            # YAML 1.1 reads `outcome: yes` as true; an editor (YAML 1.2) reads "yes"
            assert errors(QUESTIONS_SCHEMA, text) == []
        elif rel.startswith("priors/"):
            assert errors(ANALYST_SCHEMA, text) == [], rel


# (file, text to replace in the minimal workspace, replacement): each breaks a
# rule of one field, so both the loader and the JSON Schema reject the file
BAD = [
    ("priors/omar.yaml", "p: 0.6", "p: 1.3"),
    ("priors/omar.yaml", "p: 0.6", "p: 0"),
    ("priors/omar.yaml", "p: 0.6", "p: sixty"),
    ("priors/omar.yaml", "confidence: low", "confidence: sure"),
    ("priors/omar.yaml", "{p: 0.6, confidence: low}", "{p: 0.6, lo: 0.4}"),
    ("priors/omar.yaml", "priors:", "prior:"),
    ("priors/dana-levi.yaml", "level: 0.8", "levl: 0.8"),
    ("priors/dana-levi.yaml", "[6, 4]", "[6]"),
    ("priors/dana-levi.yaml", "[6, 4]", "[6, 0]"),
    ("priors/dana-levi.yaml", "us-leverage: likely", "us-leverage: 0.7"),
    ("priors/questions.yaml", "id: lebanon-withdrawal", "id: Lebanon_Withdrawal"),
    ("priors/questions.yaml", "close_date: 2026-10-31", "close-date: 2026-10-31"),
    ("priors/questions.yaml", "    title: Regional escalation\n", ""),
    ("priors/questions.yaml", "us-leverage: 0.8", "us-leverage: high"),
    ("priors/questions.yaml", "outcome: yes", "outcome: maybe"),
    ("priors/questions.yaml", "drivers:\n  - id: us", "driver:\n  - id: us"),
]


@pytest.mark.parametrize(("rel", "old", "new"), BAD, ids=[f"{b[0]}:{b[2]}" for b in BAD])
def test_schema_and_loader_reject_the_same_field_errors(tmp_path, rel, old, new):
    text = MINIMAL_FILES[rel]
    assert old in text
    bad = text.replace(old, new, 1)
    name = QUESTIONS_SCHEMA if rel.endswith("questions.yaml") else ANALYST_SCHEMA
    assert errors(name, bad), f"the JSON Schema accepts {new!r}"
    root = write_workspace(tmp_path, {**MINIMAL_FILES, rel: bad})
    with pytest.raises(WorkspaceError):
        load_workspace(root)


def test_schema_command_writes_the_schemas(tmp_path):
    out = tmp_path / "nested" / "schema"
    result = CliRunner().invoke(app, ["schema", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted([QUESTIONS_SCHEMA, ANALYST_SCHEMA])
    for name in (QUESTIONS_SCHEMA, ANALYST_SCHEMA):
        assert json.loads((out / name).read_text()) == json_schema(name)
        assert str(out / name) in result.stdout


def test_schema_command_on_an_unwritable_place(tmp_path):
    (tmp_path / "file").write_text("x")
    result = CliRunner().invoke(app, ["schema", "--out", str(tmp_path / "file" / "sub")])
    assert result.exit_code == 2
    assert "cannot write" in result.stderr and "Traceback" not in result.output


def test_init_points_editors_at_the_schema(tmp_path):
    assert CliRunner().invoke(app, ["init", str(tmp_path)]).exit_code == 0
    for rel, name in (
        ("priors/questions.yaml", QUESTIONS_SCHEMA),
        ("priors/example-analyst.yaml", ANALYST_SCHEMA),
    ):
        first = (tmp_path / rel).read_text().splitlines()[0]
        match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert match, first
        target = (tmp_path / rel).parent / match.group(1)
        assert target.resolve() == (tmp_path / "schema" / name).resolve()
        assert json.loads(target.read_text()) == json_schema(name)
        assert errors(name, (tmp_path / rel).read_text()) == []


# --- docs/workspace.md's field tables are the schema's -----------------------------------


def table_after(heading: str) -> dict[str, str]:
    """First column -> second column of the first table after ``heading``."""
    text = DOC.read_text()
    start = text.index(heading)
    rows = {}
    for line in text[start:].splitlines()[1:]:
        if line.startswith("| ") and not line.startswith("| ---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0].strip("`")] = cells[1]
        elif rows and not line.startswith("|"):
            break
    rows.pop("key", None), rows.pop("column", None)
    return rows


def required_fields(model) -> dict[str, bool]:
    return {name: info.is_required() for name, info in model.model_fields.items()}


@pytest.mark.parametrize(
    ("heading", "model"),
    [
        ("## `priors/questions.yaml`", QuestionsFile),
        ("Each question:", Question),
        ("## `evidence/*.csv`\n", EvidenceRow),
        ("## `evidence/sources.csv`\n", SourceRow),
    ],
)
def test_doc_field_tables_match_the_schema(heading, model):
    rows = table_after(heading)
    assert list(rows) == list(model.model_fields)
    for name, required in required_fields(model).items():
        if model is EvidenceRow and name in ("summary", "citation"):
            # a CSV column must be in the header, though the value may be empty
            assert rows[name].startswith("yes (may be empty)")
            continue
        assert rows[name].startswith("yes") == required, name


def test_doc_driver_and_resolution_fields_match_the_schema():
    doc = DOC.read_text()
    assert set(Driver.model_fields) == {"id", "title"}
    assert all(required_fields(Driver).values())
    assert "Each driver: `id` (a slug) and `title`, both required." in doc
    assert list(Resolution.model_fields) == ["outcome", "date", "note"]
    assert required_fields(Resolution) == {"outcome": True, "date": False, "note": False}
    assert "`{outcome, date, note}`" in doc and "`date` is optional; `note` is optional" in doc


def test_doc_prior_forms_match_the_schema():
    rows = table_after("`priors` maps question or driver ids")
    forms = {
        "{p, lo, hi, level}": ("interval", "IntervalPrior"),
        "{beta: [a, b]}": ("beta", "BetaPrior"),
        "{p, confidence}": ("confidence", "ConfidencePrior"),
    }
    from forecast.workspace import schema

    for form, (kind, model_name) in forms.items():
        assert rows[form] == kind
        keys = re.findall(r"[a-z]+", form.split(":")[0])
        assert keys == list(getattr(schema, model_name).model_fields)
    assert list(schema.WordsPrior.model_fields) == ["estimate", "confidence"]
    assert schema.WordsPrior.model_fields["confidence"].default == "medium"
    assert schema.IntervalPrior.model_fields["level"].default == 0.9
    assert list(AnalystFile.model_fields) == ["analyst", "priors"]


def test_doc_settings_table_matches_the_schema():
    rows = table_after("| key | default | allowed |")
    keys = [
        f"{section}.{key}"
        for section, info in SettingsFile.model_fields.items()
        if section != "codebook"
        for key in info.annotation.model_fields
    ]
    documented = [k for k in rows if "." in k]
    assert documented == keys
    defaults = Settings()
    for key in keys:
        value = getattr(defaults, key.split(".")[1])
        shown = json.dumps(value)
        assert rows[key].startswith(f"`{shown}`"), (key, rows[key])
    tables = table_after("| table | keys | values |")
    codebook = SettingsFile.model_fields["codebook"].annotation
    assert [t.strip("[]").removeprefix("codebook.") for t in tables] == list(codebook.model_fields)
