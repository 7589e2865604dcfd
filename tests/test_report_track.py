"""The track record in `forecast report`: scores, calibration and timelines on the
page, checked against the ledger by hand; nothing resolved; a damaged ledger."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forecast.cli import app
from forecast.report.track import RELIABILITY, timeline_path

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()
Q = "lebanon-withdrawal"


def small_copy(root: Path) -> Path:
    """The shipped workspace with tiny sampler settings (numbers are read back
    from the ledger, never asserted against a sampled value)."""
    ws = root / "ws"
    for part in ("priors", "evidence"):
        shutil.copytree(REPO / part, ws / part)
    toml = [
        line
        for line in (REPO / "forecast.toml").read_text().splitlines()
        if not line.strip().startswith(("draws", "chains", "tune"))
    ]
    text = "\n".join(toml).replace("[sampler]", "[sampler]\ndraws = 60\nchains = 2\ntune = 100")
    (ws / "forecast.toml").write_text(text + "\n")
    return ws


def _report(ws: Path, out: Path, *args: str):
    result = runner.invoke(app, ["report", str(ws), "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    (folder,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    return result, folder


def _section(page: str, anchor: str) -> str:
    found = re.search(rf'<section[^>]*id="{anchor}".*?</section>', page, re.S)
    assert found, anchor
    return found.group(0)


def _alts(html: str) -> list[str]:
    return re.findall(r'<img src="data:image/png;base64,[^"]+" alt="([^"]*)"', html)


@pytest.fixture(scope="module")
def unresolved(tmp_path_factory):
    """A copy with one run recorded and nothing resolved, and its report."""
    ws = small_copy(tmp_path_factory.mktemp("track"))
    result, folder = _report(ws, ws.parent / "out")
    return ws, result, folder


def test_nothing_resolved_is_one_line_and_no_table(unresolved):
    _, result, folder = unresolved
    page = (folder / "report.html").read_text()
    section = _section(page, "track-record")
    assert "No resolved question yet: nothing to score." in section
    assert "<table" not in section and "<img" not in section
    assert not (folder / RELIABILITY).exists()
    assert "Track record: No resolved question yet: nothing to score." in result.stdout
    md = (folder / "report.md").read_text()
    track_md = md.split("## Track record", 1)[1].split("## Diagnostics", 1)[0]
    assert track_md.strip() == "No resolved question yet: nothing to score."
    # the one recorded run draws each question's timeline, in its own section
    question = _section(page, "q-" + Q)
    assert any(a.startswith("Forecast run by run for: ") for a in _alts(question))
    assert (folder / timeline_path(Q)).is_file()
    assert f"]({timeline_path(Q)})" in md


def test_the_track_section_reads_the_ledger_and_never_writes_it(unresolved):
    from forecast.report.track import read_track_record
    from forecast.workspace import load_workspace

    ws, _, _ = unresolved
    path = ws / ".forecast" / "ledger.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every row in the main file
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    track, problem = read_track_record(load_workspace(ws))
    assert problem == "" and track is not None and len(track.histories) == 6
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # nothing was written to the log


def test_a_damaged_ledger_leaves_the_report_written_with_a_warning(unresolved, tmp_path):
    ws0, _, _ = unresolved
    ws = tmp_path / "ws"
    shutil.copytree(ws0, ws, ignore=shutil.ignore_patterns("reports"))
    ledger = ws / ".forecast" / "ledger.sqlite"
    for extra in ledger.parent.glob("ledger.sqlite-*"):
        extra.unlink()
    ledger.write_bytes(b"this is not a database, just text" * 200)
    damaged = ledger.read_bytes()
    result, folder = _report(ws, tmp_path / "out")  # the stored run is reused
    assert "stored run reused" in result.stdout
    assert "ledger is damaged" in result.output and "Traceback" not in result.output
    assert "Track record:" not in result.stdout
    for name in ("report.html", "report.md", "posteriors.csv", "manifest.json"):
        assert (folder / name).is_file(), name
    section = _section((folder / "report.html").read_text(), "track-record")
    assert "The ledger could not be used" in section and "ledger is damaged" in section
    assert "this run is not recorded" in section and "<table" not in section
    assert "**The ledger could not be used**" in (folder / "report.md").read_text()
    assert ledger.read_bytes() == damaged  # left as it was, for the user to move aside


def test_a_locked_ledger_leaves_the_report_written(unresolved, tmp_path, monkeypatch):
    from forecast import ledger as ledger_mod

    ws, _, _ = unresolved
    monkeypatch.setattr(ledger_mod, "BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(ws / ".forecast" / "ledger.sqlite", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another command in the middle of a write
    try:
        result, folder = _report(ws, tmp_path / "out", "--seed", "3")  # a new run to record
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "(new run)" in result.stdout
    assert "this run is not recorded" in result.output and "locked" in result.output
    section = _section((folder / "report.html").read_text(), "track-record")
    assert "The ledger could not be used" in section and "locked" in section
    # the rows written before are still read: the page has the track record
    assert "No resolved question yet: nothing to score." in section
    conn = sqlite3.connect(ws / ".forecast" / "ledger.sqlite")
    assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1  # not this run


@pytest.mark.slow
def test_two_runs_a_resolution_and_the_report_agree_with_the_ledger_by_hand(tmp_path):
    ws = small_copy(tmp_path)
    first = runner.invoke(app, ["report", str(ws), "--no-files"])
    second = runner.invoke(app, ["report", str(ws), "--no-files", "--seed", "2"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    today = dt.datetime.now(dt.UTC).date().isoformat()
    done = runner.invoke(app, ["resolve", Q, "no", "--date", today, "-w", str(ws)])
    assert done.exit_code == 0, done.output
    result, folder = _report(ws, tmp_path / "out")

    # by hand, from the ledger file: the last forecast made on or before the
    # resolution date with the question open in its inputs; (p - y)^2 with y = 0
    conn = sqlite3.connect(ws / ".forecast" / "ledger.sqlite")
    rows = conn.execute(
        "SELECT f.run_id, f.forecast, f.outcome, r.created FROM forecasts f "
        "JOIN runs r USING (run_id) WHERE f.question = ? ORDER BY r.created, r.rowid",
        (Q,),
    ).fetchall()
    assert len(rows) == 3 and [r[2] for r in rows] == ["", "", "no"]
    run_id, p, _, created = [r for r in rows if r[2] == "" and r[3][:10] <= today][-1]
    assert run_id == rows[1][0]  # the second run: the third knew the outcome
    brier = f"{p**2:.3f}"

    page = (folder / "report.html").read_text()
    section = _section(page, "track-record")
    assert f"1 resolved question scored; Brier model {brier}" in section
    resolved = re.search(r'<table class="resolved">.*?</table>', section, re.S).group(0)
    assert f"<strong>{round(100 * p)}%</strong>" in resolved and run_id in resolved
    assert re.search(rf'data-label="Brier">{re.escape(brier)}</td>', resolved)
    scores = re.search(r'<table class="scores">.*?</table>', section, re.S).group(0)
    assert re.search(
        rf"<td>model forecast</td><td[^>]*>1</td><td[^>]*>{re.escape(brier)}</td>", scores
    )
    for term in ("Reliability (MCB)", "Resolution (DSC)", "Uncertainty (UNC)", "Log score"):
        assert term in scores
    for analyst in ("Dana Levi", "Omar Haddad", "Ruth Castellano"):
        assert analyst in section
    assert any(a.startswith("Reliability diagram") for a in _alts(section))
    assert (folder / RELIABILITY).read_bytes().startswith(b"\x89PNG")
    question = _section(page, "q-" + Q)
    assert any(a.startswith("Forecast run by run for: ") for a in _alts(question))
    assert "(3 runs)" in question
    assert (folder / timeline_path(Q)).read_bytes().startswith(b"\x89PNG")
    assert f"Track record: 1 resolved question scored; Brier model {brier}" in result.stdout
    md = (folder / "report.md").read_text()
    assert f"]({RELIABILITY})" in md and f"| {brier} |" in md


def test_a_question_resolved_before_any_run_says_so_on_the_page(tmp_path):
    """No look-ahead: a run made after the outcome was in the files is not a
    forecast of it, and the page says no forecast precedes the resolution."""
    from dataclasses import replace

    from conftest import write_workspace
    from test_ledger import fake_run
    from test_report_helpers import report
    from trackfiles import TRACK_FILES

    from forecast.ledger import open_ledger, record_run
    from forecast.report.html import render_html
    from forecast.report.markdown import render_markdown
    from forecast.report.track import build_track_record, section
    from forecast.workspace import load_workspace

    files = dict(TRACK_FILES)
    files["priors/questions.yaml"] = files["priors/questions.yaml"].replace(
        "    close_date: 2026-08-31\n",
        "    close_date: 2026-08-31\n    resolution: {outcome: no, date: 2026-07-01}\n",
    )
    root = write_workspace(tmp_path / "ws", files)
    ws = load_workspace(root)
    record_run(ws, fake_run("r1", "2026-07-05T09:00:00+00:00", {"visit": (0.4, 0.3)}))
    with open_ledger(root) as led:
        record = build_track_record(ws, led)
    view = section(record)
    (row,) = view["questions"]
    assert (row["id"], row["forecast"], row["brier"]) == ("visit", "", "—")
    assert row["before"] == "no run before resolution"
    methods = {m["name"]: m for m in view["methods"]}
    assert "model forecast" not in methods  # nothing to score it on: left out, and said
    assert methods["mean of analysts"]["brier"] == f"{0.5**2:.3f}"  # Ana's 0.5 on a no
    assert any(n.startswith("not scored") and "model forecast" in n for n in view["notes"])
    assert any("no run was recorded on or before the resolution date" in m for m in view["missing"])
    _, rep = report(tmp_path / "page")
    page = render_html(replace(rep, track=record))
    resolved = re.search(r'<table class="resolved">.*?</table>', page, re.S).group(0)
    assert "no run before resolution" in resolved and 'data-label="Brier">—</td>' in resolved
    assert "| no run before resolution | — |" in render_markdown(replace(rep, track=record))
