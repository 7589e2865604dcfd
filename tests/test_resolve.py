"""`forecast resolve`: the file keeps its layout, the ledger gets the row, bad input is refused."""

from __future__ import annotations

import datetime as dt
import difflib
import shutil
from pathlib import Path

import pytest
from conftest import MINIMAL_FILES, write_workspace
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from trackfiles import TRACK_FILES
from typer.testing import CliRunner

from forecast.cli import app
from forecast.ledger import open_ledger
from forecast.workspace import load_workspace

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return write_workspace(tmp_path / "ws", TRACK_FILES)


def _resolve(ws: Path, *args: str):
    return runner.invoke(app, ["resolve", *args, "-w", str(ws)])


def test_a_resolution_is_added_with_comments_and_layout_kept(ws):
    result = _resolve(ws, "deal", "yes", "--date", "2026-09-01", "--note", "Signed in Doha")
    assert result.exit_code == 0, result.output
    text = (ws / "priors/questions.yaml").read_text()
    assert text == TRACK_FILES["priors/questions.yaml"].replace(
        "    close_date: 2026-09-30\n",
        "    close_date: 2026-09-30\n"
        '    resolution: {outcome: yes, date: 2026-09-01, note: "Signed in Doha"}\n',
    )
    q = load_workspace(ws).question("deal")
    assert (q.resolution.outcome, q.resolution.date, q.resolution.note) == (
        "yes", dt.date(2026, 9, 1), "Signed in Doha",
    )  # fmt: skip
    with open_ledger(ws) as led:
        (row,) = led.resolutions()
    assert (row.question, row.outcome, row.date, row.note, row.forced) == (
        "deal", "yes", dt.date(2026, 9, 1), "Signed in Doha", False,
    )  # fmt: skip


def test_the_last_question_and_a_no_outcome(ws):
    assert _resolve(ws, "strike", "no", "--date", "2026-08-01").exit_code == 0
    text = (ws / "priors/questions.yaml").read_text()
    assert text.endswith(
        "    close_date: 2026-12-31\n    resolution: {outcome: no, date: 2026-08-01}\n"
    )
    assert load_workspace(ws).question("strike").resolution.outcome == "no"


def test_re_resolution_needs_force_and_is_recorded_as_forced(ws):
    assert _resolve(ws, "deal", "yes", "--date", "2026-09-01").exit_code == 0
    before = (ws / "priors/questions.yaml").read_bytes()
    again = _resolve(ws, "deal", "no", "--date", "2026-09-02")
    assert again.exit_code == 2
    assert "already resolved yes on 2026-09-01" in again.output and "--force" in again.output
    assert "priors/questions.yaml:3:" in again.output  # the question's line
    assert (ws / "priors/questions.yaml").read_bytes() == before
    forced = _resolve(ws, "deal", "annulled", "--date", "2026-09-02", "--force")
    assert forced.exit_code == 0, forced.output
    assert "replaced yes on 2026-09-01" in forced.output
    assert load_workspace(ws).question("deal").resolution.outcome == "annulled"
    text = (ws / "priors/questions.yaml").read_text()
    assert text.count("resolution:") == 1 and "# the visit question" in text
    with open_ledger(ws) as led:
        rows = led.resolutions("deal")
    assert [(r.outcome, r.forced) for r in rows] == [("yes", False), ("annulled", True)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dael", "yes", "--date", "2026-09-01"], "unknown question 'dael'"),
        (["deal", "maybe", "--date", "2026-09-01"], "outcome 'maybe' is not allowed"),
        (["deal", "yes", "--date", "2026-9-1"], "is not a date in the form YYYY-MM-DD"),
        (["deal", "yes", "--date", "2026-07-03"], "before 'deal' opened (2026-07-04"),
        (["deal", "yes", "--date", "2999-01-01"], "is after today"),
    ],
)
def test_bad_resolutions_are_refused_and_nothing_is_written(ws, args, message):
    def files() -> dict[Path, bytes]:  # the workspace's own files, not .forecast/
        return {
            p: p.read_bytes() for p in ws.rglob("*") if p.is_file() and ".forecast" not in p.parts
        }

    before = files()
    result = _resolve(ws, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert files() == before


def test_a_flow_style_resolution_is_replaced_in_flow_style(tmp_path):
    ws = write_workspace(tmp_path / "ws", MINIMAL_FILES)
    result = _resolve(ws, "mou-survives", "no", "--date", "2026-10-05", "--force")
    assert result.exit_code == 0, result.output
    text = (ws / "priors/questions.yaml").read_text()
    old = '    resolution: {outcome: yes, date: 2026-10-02, note: "Both confirmed"}\n'
    assert old in MINIMAL_FILES["priors/questions.yaml"]
    assert text == MINIMAL_FILES["priors/questions.yaml"].replace(
        old, "    resolution: {outcome: no, date: 2026-10-05}\n"
    )


def test_the_shipped_questions_file_changes_only_by_the_resolution(tmp_path):
    ws = tmp_path / "ws"
    for part in ("priors", "evidence"):
        shutil.copytree(ROOT / part, ws / part)
    shutil.copy(ROOT / "forecast.toml", ws / "forecast.toml")
    before = (ws / "priors/questions.yaml").read_text().splitlines(keepends=True)
    result = _resolve(ws, "lebanon-withdrawal", "no", "--date", "2026-11-01", "--note", "none")
    assert result.exit_code == 0, result.output
    after = (ws / "priors/questions.yaml").read_text().splitlines(keepends=True)
    added = [line for line in difflib.ndiff(before, after) if line.startswith(("+ ", "- "))]
    assert added == ['+     resolution: {outcome: no, date: 2026-11-01, note: "none"}\n']


def test_closed_questions_without_resolution_are_named(ws):
    from forecast.resolve import overdue

    found = overdue(load_workspace(ws), today=dt.date(2026, 9, 15))
    assert found == [
        "priors/questions.yaml:9: warning: 'visit' closed on 2026-08-31 and has no "
        "resolution; record it with `forecast resolve visit yes|no|annulled --date YYYY-MM-DD`"
    ]
    assert _resolve(ws, "visit", "no", "--date", "2026-08-30").exit_code == 0
    assert overdue(load_workspace(ws), today=dt.date(2026, 9, 15)) == []


def test_validate_prints_the_warnings(ws):
    result = runner.invoke(app, ["validate", str(ws)])
    assert result.exit_code == 0
    today = dt.date.today()
    for qid, close in (("deal", "2026-09-30"), ("visit", "2026-08-31"), ("strike", "2026-12-31")):
        said = f"'{qid}' closed on {close} and has no resolution" in result.output
        assert said == (dt.date.fromisoformat(close) < today)


def test_an_unindented_list_keeps_its_layout(tmp_path):
    files = dict(TRACK_FILES)
    files["priors/questions.yaml"] = (
        "questions:\n- id: deal\n  title: A deal   # short\n  close_date: 2026-09-30\n"
        "- id: visit\n  title: A visit\n- id: strike\n  title: A strike\n"
    )
    ws = write_workspace(tmp_path / "ws", files)
    assert _resolve(ws, "deal", "no", "--date", "2026-08-01").exit_code == 0
    assert (ws / "priors/questions.yaml").read_text() == (
        "questions:\n- id: deal\n  title: A deal   # short\n  close_date: 2026-09-30\n"
        "  resolution: {outcome: no, date: 2026-08-01}\n"
        "- id: visit\n  title: A visit\n- id: strike\n  title: A strike\n"
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@example(note="null")
@example(note="123")
@example(note="no")
@example(note="# not a comment")
@example(note="a: b, - c [d] {e} 'f' \"g\" & *h !i %j @k `l")
@example(note="2026-08-01")
@given(note=st.text(st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn")), max_size=40))
def test_any_note_reads_back_and_nothing_else_changes(tmp_path, note):
    from forecast.workspace.yamledit import edit_text, resolution_change

    text = TRACK_FILES["priors/questions.yaml"]
    clean = " ".join(note.split())  # as forecast resolve normalises a note
    new = edit_text(text, resolution_change("visit", "yes", dt.date(2026, 8, 1), clean))
    files = {**TRACK_FILES, "priors/questions.yaml": new}
    ws = write_workspace(tmp_path / f"ws{abs(hash(note))}", files)
    resolution = load_workspace(ws).question("visit").resolution
    assert (resolution.outcome, resolution.note) == ("yes", clean)
    kept = [line for line in difflib.ndiff(text.splitlines(), new.splitlines()) if line[:1] == "-"]
    assert kept == []  # only lines added


def test_resolve_waits_for_the_workspace_lock_and_gives_up_clearly(ws, monkeypatch):
    from forecast.lock import workspace_lock

    monkeypatch.setenv("FORECAST_LOCK_TIMEOUT", "0.2")
    before = (ws / "priors/questions.yaml").read_bytes()
    import subprocess
    import sys
    import textwrap

    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from forecast.lock import workspace_lock
            with workspace_lock({str(ws)!r}):
                print("held", flush=True)
                time.sleep(30)
        """)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        result = _resolve(ws, "deal", "yes", "--date", "2026-09-01")
        assert result.exit_code == 2
        assert "held the workspace lock" in result.output
        assert (ws / "priors/questions.yaml").read_bytes() == before
    finally:
        holder.kill()
        holder.wait()
    with workspace_lock(ws, timeout=5):
        pass  # released when its holder died
    assert _resolve(ws, "deal", "yes", "--date", "2026-09-01").exit_code == 0
