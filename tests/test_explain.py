"""`forecast explain QUESTION`: every item and cluster reaching it, by influence."""

from __future__ import annotations

import json

import pytest
from test_report_helpers import shipped_copy
from typer.testing import CliRunner

from forecast.cli import app
from forecast.workspace import load_workspace

runner = CliRunner()
QUESTION = "lebanon-withdrawal"


@pytest.fixture(scope="module")
def ws_path(tmp_path_factory):
    return shipped_copy(tmp_path_factory)


def _reaching(ws, qid):
    """Ids of the items bearing on the question or on a driver it loads on."""
    q = ws.question(qid)
    targets = {qid} | {d for d, b in q.drivers.items() if b}
    return [e.id for e in ws.evidence if e.bears_on in targets]


def test_explain_lists_every_item_with_grade_and_credibility(ws_path):
    result = runner.invoke(app, ["explain", QUESTION, "-w", str(ws_path)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    ws = load_workspace(ws_path)
    items = _reaching(ws, QUESTION)
    assert items
    rows = [line for line in out.splitlines() if line.startswith("|")][2:]
    listed = {cell.strip().lstrip("└ ").split(" ")[0] for line in rows
              for cell in line.split("|")[2:3]}  # fmt: skip
    assert set(items) <= listed
    grades = {s.id: s.grade for s in ws.sources}
    first = next(e for e in ws.evidence if e.id == items[0])
    line = next(r for r in rows if f" {first.id} " in r)
    cells = [c.strip() for c in line.split("|")]
    assert cells[3:7] == [first.source, grades[first.source], str(first.credibility),
                          first.strength]  # fmt: skip
    assert f"evidence/summit.csv:{first.line}" in line
    assert "Δ forecast" in out and "leave-one-out" in out
    assert "&lt;" not in out and "<script>alert(1)</script>" in out  # text, as written


def test_explain_rows_are_sorted_by_influence(ws_path):
    result = runner.invoke(app, ["explain", QUESTION, "-w", str(ws_path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["question"] == QUESTION and 0 < data["posterior"] < 1
    shifts = [abs(r["prob_shift"]) for r in data["evidence"]]
    assert shifts == sorted(shifts, reverse=True)
    ws = load_workspace(ws_path)
    ids = {r["id"] for r in data["evidence"] if r["kind"] == "item"}
    assert ids == set(_reaching(ws, QUESTION))
    for r in data["evidence"]:
        assert r["lo"] <= r["mean"] <= r["hi"]


def test_unknown_question_is_a_usage_error(ws_path):
    result = runner.invoke(app, ["explain", "no-such-question", "-w", str(ws_path)])
    assert result.exit_code == 2
    assert "unknown question 'no-such-question'" in result.stderr
    assert QUESTION in result.stderr  # the known ids are named
