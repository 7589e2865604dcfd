"""`forecast report` end to end on a copy of the shipped workspace (small draws)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from test_report_helpers import XSS, shipped_copy
from typer.testing import CliRunner

from forecast.cli import app

runner = CliRunner()
FILES = ("report.html", "report.md", "posteriors.csv", "contributions.csv", "manifest.json")


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    """The workspace copy and the output of the first `forecast report` on it."""
    ws = shipped_copy(tmp_path_factory)
    result = runner.invoke(app, ["report", str(ws)])
    assert result.exit_code == 0, result.output
    return ws, result


def _run_id(ws):
    runs = sorted((ws / ".forecast" / "runs").iterdir())
    return runs[-1].name


def test_report_prints_the_table_and_writes_every_file(first):
    ws, result = first
    from forecast.workspace import load_workspace

    out = result.stdout
    for q in load_workspace(ws).questions:
        assert q.id in out
    assert "Prior → Forecast" in out and "Moved most by" in out
    # a new run, or the one another test module sampled on this copy first
    assert "(new run)" in out or "(stored run reused: inputs unchanged)" in out
    # 60 draws cannot pass the checks: the table and the status say so
    assert "⚠" in out and "Diagnostics FAILED" in out
    folder = ws / "reports" / _run_id(ws)
    assert f"Report written to {folder}" in out.replace("\n", "")
    for name in FILES:
        assert (folder / name).is_file(), name
    assert list((folder / "plots").glob("waterfall-*.png"))
    # one copy of the trace: the report points at the stored run's, relative to itself
    assert not list(folder.rglob("*.nc"))
    link = json.loads((folder / "manifest.json").read_text())["report"]["trace"]
    assert (folder / link).resolve() == (
        ws / ".forecast" / "runs" / _run_id(ws) / "trace.nc"
    ).resolve()
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "https://" not in page and "http://" not in page
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; a summary with markup" in page
    assert "Diagnostics failed" in page
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert XSS not in md


def test_plain_output_off_a_terminal(first):
    _, result = first
    assert "\x1b[" not in result.stdout  # no colour codes in a pipe
    table = [line for line in result.stdout.splitlines() if line.startswith("|")]
    assert len(table) == 2 + 6  # header, rule, one line a question


def test_second_report_reuses_the_run_and_keeps_the_folder(first):
    ws, _ = first
    folder = ws / "reports" / _run_id(ws)
    before = (folder / "report.html").stat().st_mtime_ns
    result = runner.invoke(app, ["report", str(ws)])
    assert result.exit_code == 0, result.output
    assert "stored run reused" in result.stdout
    assert "already in" in result.stdout and "left as it was" in result.stdout
    assert (folder / "report.html").stat().st_mtime_ns == before
    assert len(list((ws / ".forecast" / "runs").iterdir())) == 1


def test_json_is_the_documented_shape_and_writes_nothing(first, tmp_path):
    ws, _ = first
    out = tmp_path / "elsewhere"
    result = runner.invoke(app, ["report", str(ws), "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"questions", "diagnostics", "run_id"}
    assert data["run_id"] == _run_id(ws)
    assert set(data["diagnostics"]) == {"divergences", "ok"} and data["diagnostics"]["ok"] is False
    assert len(data["questions"]) == 6
    assert set(data["questions"][0]) == {
        "id", "title", "prior", "posterior", "lo", "hi", "rhat", "ess_bulk", "ess_tail",
    }  # fmt: skip
    assert data["questions"][0]["title"].startswith(XSS)
    assert not out.exists()


def test_strict_fails_a_run_that_fails_its_checks(first):
    ws, _ = first
    result = runner.invoke(app, ["report", str(ws), "--strict", "--no-files"])
    assert result.exit_code == 1
    assert "--strict" in result.stderr


def test_out_folder_and_current_folder_default(first, tmp_path, monkeypatch):
    ws, _ = first
    monkeypatch.chdir(ws)
    result = runner.invoke(app, ["report", "-o", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r" / _run_id(ws) / "report.html").is_file()


def test_bad_workspace_exits_2_without_traceback(tmp_path):
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert not (tmp_path / "reports").exists()


def test_cli_import_stays_light():
    code = (
        "import sys, forecast.cli; "
        "print(sorted(m for m in ('arviz', 'matplotlib', 'pymc') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
