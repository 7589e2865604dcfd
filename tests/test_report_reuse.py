"""An unchanged `forecast report` reuses its page; any change makes a fresh one.

On one copy of the shipped workspace (small draws), in order: the report is
written; asked again it is reused (the same output as the full path, the
folder untouched, no pandas, ArviZ, matplotlib or PyMC imported) and is byte
for byte what a fresh render gives; then a change to the code, the ledger,
the page's files, the report folder, the evidence, a prior and a resolution
each gives a fresh report.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_report_track import small_copy
from typer.testing import CliRunner

from forecast import ledger
from forecast.cli import app
from forecast.report import reuse

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()
LEFT = "left as it was"
REPLACED = "in place of an earlier report of this run"


def _report(ws: Path, *args: str) -> str:
    result = runner.invoke(app, ["report", str(ws), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _folders(ws: Path) -> list[Path]:
    return sorted(p for p in (ws / "reports").iterdir() if not p.name.startswith("."))


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _key(folder: Path) -> str:
    return json.loads((folder / "manifest.json").read_text())["report"]["key"]


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = small_copy(tmp_path_factory.mktemp("reuse"))
    out = _report(ws)
    assert "(new run)" in out and "Report written to" in out
    return ws


def test_unchanged_report_prints_what_the_full_path_prints(ws, monkeypatch):
    """Table, status, track record line and --json alike, the folder untouched."""
    (folder,) = _folders(ws)
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*")}
    reused = _report(ws)
    assert LEFT in reused and "stored run reused" in reused
    # the same command with the shortcut turned off: the run read, the report built
    monkeypatch.setattr(reuse, "stored_report", lambda *a, **k: None)
    assert _report(ws) == reused
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*")} == before
    full_json = _report(ws, "--json")
    # --no-files: the table alone; --json: the same numbers, read back from posteriors.csv
    monkeypatch.undo()
    table = _report(ws, "--no-files")
    assert table == reused[: reused.index("A report for run")]
    assert _report(ws, "--json") == full_json
    assert json.loads(full_json)["run_id"] == folder.name


def test_unchanged_report_imports_nothing_heavy(ws):
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['forecast', 'report', {str(ws)!r}]\n"
        "try:\n    runpy.run_module('forecast', run_name='__main__')\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "heavy = ('pandas', 'arviz', 'xarray', 'matplotlib', 'pymc', 'scipy', 'numpy')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    path = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True)  # fmt: skip
    assert LEFT in out.stdout
    assert out.stderr.strip().splitlines()[-1] == "[]"


def test_reused_page_is_what_a_fresh_render_gives(ws):
    (folder,) = _folders(ws)
    kept = _files(folder)
    shutil.rmtree(folder)
    out = _report(ws)
    assert "stored run reused" in out and "Report written to" in out
    assert _files(folder) == kept  # every file, manifest and report key included


def test_a_code_change_replaces_the_page(ws, monkeypatch):
    (folder,) = _folders(ws)
    key = _key(folder)
    monkeypatch.setattr(reuse, "code_digest", lambda: "another version of the code")
    assert REPLACED in _report(ws)
    assert _key(folder) != key
    monkeypatch.undo()
    assert REPLACED in _report(ws)
    assert _key(folder) == key and LEFT in _report(ws)


def test_an_edited_or_missing_file_replaces_the_page(ws):
    (folder,) = _folders(ws)
    kept = _files(folder)
    (folder / "report.html").write_bytes(kept["report.html"] + b"<!-- edited -->")
    assert REPLACED in _report(ws)
    assert _files(folder) == kept
    (folder / "posteriors.csv").unlink()
    assert REPLACED in _report(ws)
    assert _files(folder) == kept


def test_a_ledger_change_replaces_the_page(ws):
    """Another run recorded (another seed) adds a point to every timeline: the
    page of the run the files still reuse is drawn again."""
    (folder,) = _folders(ws)
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "(1 run)" in page and "(2 runs)" not in page
    result = runner.invoke(app, ["run", str(ws), "--seed", "7"])
    assert result.exit_code == 0, result.output
    out = _report(ws)
    assert REPLACED in out and "stored run reused" in out
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "(2 runs)" in page and "(1 run)" not in page
    assert LEFT in _report(ws)


def test_another_report_folder_gets_its_own_page(ws, tmp_path):
    out = _report(ws, "-o", str(tmp_path / "elsewhere"))
    assert "Report written to" in out and REPLACED not in out
    (folder,) = _folders(ws)
    assert _key(tmp_path / "elsewhere" / folder.name) != _key(folder)  # it links the trace
    assert LEFT in _report(ws, "-o", str(tmp_path / "elsewhere"))


@pytest.mark.parametrize("change", ["evidence", "prior", "resolution"])
def test_a_workspace_change_makes_a_new_run_and_page(ws, change):
    before = _folders(ws)
    if change == "evidence":
        with open(ws / "evidence" / "summit.csv", "a", encoding="utf-8") as fh:
            fh.write("E900,2026-07-20,mou-in-force,wh,weak-for,2,,A new readout,Test\n")
    elif change == "prior":
        path = ws / "priors" / "dana-levi.yaml"
        text = path.read_text(encoding="utf-8")
        assert "{p: 0.45," in text
        path.write_text(text.replace("{p: 0.45,", "{p: 0.5,"), encoding="utf-8")
    else:
        result = runner.invoke(
            app, ["resolve", "lebanon-withdrawal", "no", "--date", "2026-07-20", "-w", str(ws)]
        )
        assert result.exit_code == 0, result.output
    out = _report(ws)
    assert "(new run)" in out and "Report written to" in out
    (new,) = set(_folders(ws)) - set(before)
    assert LEFT in _report(ws) and _folders(ws) == sorted([*before, new])


def test_report_key_covers_what_the_page_shows(ws, tmp_path):
    from forecast.runs import list_runs, previous_run
    from forecast.workspace import load_workspace

    w = load_workspace(ws)
    runs = list_runs(w)
    run = runs[-1]
    target = ws / "reports" / run.run_id
    key = reuse.report_key(w, run, previous_run(w, run), target)
    assert key == reuse.report_key(w, run, previous_run(w, run), target)
    others = [
        reuse.report_key(w, run, None, target),
        reuse.report_key(w, run, runs[0], target),
        reuse.report_key(w, run, previous_run(w, run), tmp_path / run.run_id),
        reuse.report_key(dataclasses.replace(w, warnings=(*w.warnings, "a.yaml:1: warning: x")),
                         run, previous_run(w, run), target),  # fmt: skip
        reuse.report_key(dataclasses.replace(w, root=tmp_path / "other"), run,
                         previous_run(w, run), target),  # fmt: skip
    ]
    assert len({key, *others}) == len(others) + 1


def test_ledger_digest_moves_with_every_row(tmp_path):
    with ledger.open_ledger(tmp_path / "missing", readonly=True) as book:
        missing = book.digest()
    with ledger.open_ledger(tmp_path / "ws") as book:
        empty = book.digest()
        book.record_resolution("q", "yes", dt.date(2026, 7, 1))
        one = book.digest()
        book.record_resolution("q", "no", dt.date(2026, 7, 2), forced=True)
        two = book.digest()
    assert missing == empty  # both read as no record at all
    assert len({empty, one, two}) == 3


def test_code_digest_moves_with_any_file(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "templates").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "templates" / "page.j2").write_text("<p>{{ x }}</p>\n")
    first = reuse.tree_digest(pkg)
    (pkg / "__pycache__").mkdir()
    (pkg / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"compiled")
    assert reuse.tree_digest(pkg) == first  # compiled files are not the code
    (pkg / "templates" / "page.j2").write_text("<p>{{ x }}!</p>\n")
    assert reuse.tree_digest(pkg) != first


def test_after_an_evidence_change_only_what_it_moved_is_drawn(tmp_path, monkeypatch):
    """The figure cache works across runs: a new item on one question redraws that
    question's plots, the joints and rank plots holding it and the timelines (every
    question's gains a run); the other questions' plots come from the last run's cache."""
    from forecast.report import figures as fig

    ws = small_copy(tmp_path)
    _report(ws)
    drawn: list[str] = []
    real = fig._draw_all
    monkeypatch.setattr(fig, "_draw_all", lambda r, todo, *a: drawn.extend(s.path for s in todo)
                        or real(r, todo, *a))  # fmt: skip
    with open(ws / "evidence" / "summit.csv", "a", encoding="utf-8") as fh:
        fh.write("E900,2026-07-20,lebanon-withdrawal,wh,weak-for,2,,A new readout,Test\n")
    assert "(new run)" in _report(ws)
    per_question = {p for p in drawn if p.startswith(("plots/prior-", "plots/waterfall-"))}
    assert per_question == {fig.prior_path("lebanon-withdrawal"),
                            fig.waterfall_path("lebanon-withdrawal")}  # fmt: skip
    joints = [p for p in drawn if p.startswith("plots/joint-")]
    assert joints and all("lebanon-withdrawal" in p for p in joints)
    assert fig.DIAGNOSTICS in drawn
    assert len([p for p in drawn if p.startswith("plots/timeline-")]) == 6
