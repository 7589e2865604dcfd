"""The ledger: every run recorded once, nothing lost to a kill or a second writer."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from forecast import ledger as ledger_mod
from forecast.ledger import LedgerError, open_ledger, record_run
from forecast.runs import Run
from forecast.workspace import load_workspace

ROOT = Path(__file__).resolve().parents[1]


def fake_run(run_id: str, created: str, forecasts: dict[str, tuple[float, float]]) -> Run:
    """A stored run's manifest without a trace: the ledger reads only the manifest."""
    manifest = {
        "run_id": run_id,
        "created": created,
        "input_hash": "h" * 64,
        "run_key": "k" * 64,
        "settings": {"seed": 1, "draws": 10},
        "files": {"priors/questions.yaml": "0" * 64},
        "diagnostics": {"ok": True, "method": "forward"},
        "forecasts": [
            {"id": q, "prior": prior, "posterior": post, "lo": post / 2, "hi": (1 + post) / 2}
            for q, (prior, post) in forecasts.items()
        ],
    }
    return Run(run_id, Path("/nonexistent") / run_id, manifest)


def test_a_run_is_recorded_once_with_its_forecasts_statements_and_evidence(minimal_workspace):
    ws = load_workspace(minimal_workspace)
    run = fake_run(
        "r1",
        "2026-07-10T09:00:00+00:00",
        {"lebanon-withdrawal": (0.4, 0.3), "mou-survives": (0.6, 0.7)},
    )
    assert record_run(ws, run) is True
    assert record_run(ws, run) is False  # reused: not a new forecast
    with open_ledger(minimal_workspace) as led:
        runs = led.runs()
        assert [r["run_id"] for r in runs] == ["r1"]
        assert runs[0]["settings"] == {"seed": 1, "draws": 10}
        assert runs[0]["git_commit"] is None  # tmp_path is no git repository
        rows = {r["question"]: r for r in led.forecasts()}
        assert rows["lebanon-withdrawal"]["forecast"] == pytest.approx(0.3)
        assert rows["lebanon-withdrawal"]["prior"] == pytest.approx(0.4)
        assert rows["lebanon-withdrawal"]["hi"] == pytest.approx(0.65)
        assert rows["mou-survives"]["outcome"] == "yes"  # resolved in the inputs
        assert rows["lebanon-withdrawal"]["outcome"] == ""
        stated = {(s["analyst"], s["target"]): s["probability"] for s in led.statements("r1")}
        assert stated[("Dana Levi", "lebanon-withdrawal")] == pytest.approx(0.35)
        assert stated[("Dana Levi", "mou-survives")] == pytest.approx(6 / 10)  # Beta mean
        assert stated[("omar", "lebanon-withdrawal")] == pytest.approx(0.6)
        assert [e["id"] for e in led.evidence("r1")] == ["E001", "E002", "E003", "E004"]
    conn = sqlite3.connect(minimal_workspace / ".forecast" / "ledger.sqlite")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == ledger_mod.SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_runs_made_within_one_second_keep_the_order_they_were_recorded(minimal_workspace):
    # ids sort the other way round from the order the runs were made in
    ws = load_workspace(minimal_workspace)
    same = "2026-07-10T09:00:00+00:00"
    record_run(ws, fake_run("20260710T090000-ffff", same, {"lebanon-withdrawal": (0.4, 0.3)}))
    record_run(ws, fake_run("20260710T090000-0000", same, {"lebanon-withdrawal": (0.4, 0.5)}))
    with open_ledger(minimal_workspace) as led:
        assert [r["run_id"] for r in led.runs()] == [
            "20260710T090000-ffff",
            "20260710T090000-0000",
        ]
        rows = led.forecasts("lebanon-withdrawal")
        assert [r["forecast"] for r in rows] == pytest.approx([0.3, 0.5])  # the later is last


def test_a_ledger_from_the_future_is_refused(minimal_workspace):
    path = minimal_workspace / ".forecast" / "ledger.sqlite"
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(LedgerError, match=r"schema version 99, newer"):
        open_ledger(minimal_workspace)


def test_an_older_ledger_is_migrated_and_keeps_its_rows(minimal_workspace, monkeypatch):
    # a ledger written by the first schema (no as_of column) ...
    ws = load_workspace(minimal_workspace)
    with monkeypatch.context() as m:
        m.setattr(ledger_mod, "MIGRATIONS", ledger_mod.MIGRATIONS[:1])
        m.setattr(ledger_mod, "SCHEMA_VERSION", 1)
        ledger = open_ledger(minimal_workspace)
        assert ledger.conn.execute(
            "INSERT INTO runs (run_id, created, recorded, kind, input_hash, run_key, settings, "
            "diagnostics, ok, files) VALUES ('old', '2026-07-01T00:00:00+00:00', '', 'run', "
            "'', '', '{}', '{}', 1, '{}')"
        )
        ledger.close()
    path = minimal_workspace / ".forecast" / "ledger.sqlite"
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 1
    # ... is brought up to date on open, its rows intact
    record_run(ws, fake_run("new", "2026-07-10T09:00:00+00:00", {"lebanon-withdrawal": (0.4, 0.3)}))
    with open_ledger(minimal_workspace) as led:
        runs = led.runs()
    assert [(r["run_id"], r["as_of"]) for r in runs] == [("old", None), ("new", None)]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == ledger_mod.SCHEMA_VERSION == 2


def test_a_corrupt_ledger_is_a_clear_error_and_no_workspace_file_changes(minimal_workspace):
    from typer.testing import CliRunner

    from forecast.cli import app

    path = minimal_workspace / ".forecast" / "ledger.sqlite"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database, just text" * 200)
    before = {p: p.read_bytes() for p in minimal_workspace.rglob("*") if p.is_file()}
    result = CliRunner().invoke(app, ["run", str(minimal_workspace)])
    assert result.exit_code == 2
    assert "ledger is damaged" in result.output and str(path) in result.output
    assert "mv " in result.output  # says what to do
    assert "Traceback" not in result.output
    after = {p: p.read_bytes() for p in minimal_workspace.rglob("*") if p.is_file()}
    assert after == before


def test_a_locked_ledger_is_a_clear_error(minimal_workspace, monkeypatch):
    ws = load_workspace(minimal_workspace)
    record_run(ws, fake_run("r1", "2026-07-10T09:00:00+00:00", {"lebanon-withdrawal": (0.4, 0.3)}))
    holder = sqlite3.connect(
        minimal_workspace / ".forecast" / "ledger.sqlite", isolation_level=None
    )
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(ledger_mod, "BUSY_TIMEOUT_MS", 200)
    try:
        with pytest.raises(LedgerError, match="locked by another forecast command"):
            record_run(ws, fake_run("r2", "2026-07-11T09:00:00+00:00", {}))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with open_ledger(minimal_workspace) as led:
        assert [r["run_id"] for r in led.runs()] == ["r1"]


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from test_ledger import fake_run
    from forecast.ledger import record_run
    from forecast.workspace import load_workspace

    ws = load_workspace({root!r})
    tag = sys.argv[1]
    for i in range(int(sys.argv[2])):
        created = f"2026-07-10T09:{{i // 60 % 60:02d}}:{{i % 60:02d}}+00:00"
        values = {{"lebanon-withdrawal": (0.4, i / 1e5), "mou-survives": (0.5, 0.5)}}
        run = fake_run(f"{{tag}}-{{i:05d}}", created, values)
        record_run(ws, run)
        print(run.run_id, flush=True)  # only after its transaction committed
    """
)


def _writer(root: Path, tag: str, n: int) -> subprocess.Popen:
    script = WRITER.format(tests=str(ROOT / "tests"), root=str(root))
    return subprocess.Popen(
        [sys.executable, "-c", script, tag, str(n)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


@pytest.mark.parametrize("after", [1, 7, 23])
def test_a_run_killed_mid_write_loses_no_committed_row(minimal_workspace, after):
    proc = _writer(minimal_workspace, "kill", 100_000)
    committed = []
    assert proc.stdout is not None
    while len(committed) < after:
        line = proc.stdout.readline()
        assert line, "the writer stopped early"
        committed.append(line.strip())
    proc.send_signal(signal.SIGKILL)  # mid-way through the next transaction, most likely
    proc.wait()
    committed += [line.strip() for line in proc.stdout.read().splitlines()]
    conn = sqlite3.connect(minimal_workspace / ".forecast" / "ledger.sqlite")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    with open_ledger(minimal_workspace) as led:
        ids = {r["run_id"] for r in led.runs()}
        assert set(committed) <= ids
        # a run is all or nothing: each recorded run has both its forecasts
        per_run = {}
        for row in led.forecasts():
            per_run[row["run_id"]] = per_run.get(row["run_id"], 0) + 1
        assert set(per_run) == ids and set(per_run.values()) == {2}
    # and the ledger takes new rows after the kill
    ws = load_workspace(minimal_workspace)
    assert record_run(ws, fake_run("after-kill", "2026-07-12T00:00:00+00:00", {}))


def test_two_writers_at_once_lose_no_row(minimal_workspace):
    procs = [_writer(minimal_workspace, tag, 40) for tag in ("a", "b")]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    printed = {line for out in outs for line in out.split()}
    assert len(printed) == 80
    with open_ledger(minimal_workspace) as led:
        assert {r["run_id"] for r in led.runs()} == printed


def test_forecast_run_records_a_run_once_and_a_reuse_adds_nothing(tmp_path):
    from conftest import write_workspace
    from trackfiles import TRACK_FILES
    from typer.testing import CliRunner

    from forecast.cli import app

    minimal_workspace = write_workspace(tmp_path / "ws", TRACK_FILES)
    runner = CliRunner()
    first = runner.invoke(app, ["report", str(minimal_workspace), "--no-files", "--json"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["report", str(minimal_workspace), "--no-files", "--json"])
    assert again.exit_code == 0, again.output
    run_id = json.loads(first.stdout)["run_id"]
    assert json.loads(again.stdout)["run_id"] == run_id  # reused
    with open_ledger(minimal_workspace) as led:
        runs = led.runs()
        assert [r["run_id"] for r in runs] == [run_id]
        manifest = json.loads(
            (minimal_workspace / ".forecast" / "runs" / run_id / "manifest.json").read_text()
        )
        by_q = {r["question"]: r for r in led.forecasts()}
        for f in manifest["forecasts"]:
            assert by_q[f["id"]]["forecast"] == pytest.approx(f["posterior"])
            assert by_q[f["id"]]["lo"] == pytest.approx(f["lo"])
        assert runs[0]["input_hash"] == manifest["input_hash"]
