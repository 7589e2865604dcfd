"""Several `forecast` processes on one workspace at once: nothing lost, nothing collides."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conftest import MINIMAL_FILES, write_workspace

REPO = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return env


def _forecast(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "forecast", *map(str, args)],
        capture_output=True,
        text=True,
        env=env or _env(),
        stdin=subprocess.DEVNULL,
        timeout=600,
    )


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_forty_concurrent_adds_keep_forty_rows_with_their_printed_ids(tmp_path):
    ws = write_workspace(tmp_path / "ws", MINIMAL_FILES)
    before = _rows(ws / "evidence" / "summit.csv")

    def add(i: int) -> tuple[int, subprocess.CompletedProcess]:
        return i, _forecast(
            "evidence", "add", ws, "--bears-on", "lebanon-withdrawal", "--source", "wh",
            "--strength", "weak-for", "--credibility", "2", "--date", "2026-07-08",
            "--summary", f"concurrent item {i}", "--citation", "",
        )  # fmt: skip

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(add, range(40)))
    for _, out in results:
        assert out.returncode == 0, out.stderr
    rows = _rows(ws / "evidence" / "summit.csv")
    added = rows[len(before) :]
    assert rows[: len(before)] == before
    assert len(added) == 40
    assert len({r["id"] for r in rows}) == len(rows)
    by_summary = {r["summary"]: r["id"] for r in added}
    for i, out in results:
        assert by_summary[f"concurrent item {i}"] == out.stdout.strip()


def test_a_lock_held_too_long_is_a_clear_error_not_a_hang(tmp_path):
    from filelock import FileLock

    ws = write_workspace(tmp_path / "ws", MINIMAL_FILES)
    before = (ws / "evidence" / "summit.csv").read_bytes()
    (ws / ".forecast").mkdir()
    with FileLock(str(ws / ".forecast" / "lock")):
        out = _forecast(
            "evidence", "add", ws, "--bears-on", "lebanon-withdrawal", "--source", "wh",
            "--strength", "weak-for", "--credibility", "2", "--summary", "waits",
            env=_env(FORECAST_LOCK_TIMEOUT="0.5"),
        )  # fmt: skip
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert ".forecast/lock" in out.stderr and "0.5 s" in out.stderr
    assert (ws / "evidence" / "summit.csv").read_bytes() == before
    # once it is free, the same command goes through
    out = _forecast(
        "evidence", "add", ws, "--bears-on", "lebanon-withdrawal", "--source", "wh",
        "--strength", "weak-for", "--credibility", "2", "--summary", "goes through",
        env=_env(FORECAST_LOCK_TIMEOUT="0.5"),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert _rows(ws / "evidence" / "summit.csv")[-1]["summary"] == "goes through"


def _forward_workspace(root: Path) -> Path:
    """The minimal workspace with nothing observed: exact forward draws, no compiling."""
    files = {k: v for k, v in MINIMAL_FILES.items() if k != "priors/omar.yaml"}
    questions = files["priors/questions.yaml"].splitlines()
    files["priors/questions.yaml"] = "\n".join(q for q in questions if "resolution:" not in q)
    return write_workspace(root, files)


def test_two_reports_at_once_both_succeed_with_their_own_runs(tmp_path):
    ws = _forward_workspace(tmp_path / "ws")
    for _ in range(2):
        with ThreadPoolExecutor(max_workers=2) as pool:
            outs = list(pool.map(lambda _: _forecast("report", ws, "--fresh", "--no-files"), "ab"))
        for out in outs:
            assert out.returncode == 0, out.stderr
    runs = [p for p in (ws / ".forecast" / "runs").iterdir() if not p.name.startswith(".")]
    assert len(runs) == 4  # every report stored its own run, none overwrote another
    for run in runs:
        manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["run_id"] == run.name
        assert (run / "trace.nc").is_file()
    assert not [p for p in (ws / ".forecast" / "runs").iterdir() if p.name.startswith(".")]


def test_a_run_id_taken_while_storing_moves_to_the_next_id(tmp_path, monkeypatch):
    """Another process renames its run into the same id just before this one does."""
    from forecast import runs
    from forecast.inference import sample
    from forecast.workspace import load_workspace

    ws = load_workspace(_forward_workspace(tmp_path / "ws"))
    idata, diagnostics = sample(ws)
    real = {"rename": os.rename, "replace": os.replace}
    taken: list[Path] = []

    def racing(kind):
        def move(src, dst):
            dst = Path(dst)
            if dst.parent == runs.runs_dir(ws) and not taken:  # the other process wins
                dst.mkdir()
                (dst / "manifest.json").write_text("{}", encoding="utf-8")
                taken.append(dst)
            return real[kind](src, dst)

        return move

    monkeypatch.setattr(os, "rename", racing("rename"))
    monkeypatch.setattr(os, "replace", racing("replace"))
    run = runs.save_run(ws, ws.settings, idata, diagnostics)
    monkeypatch.undo()
    assert taken and run.run_id == f"{taken[0].name}-2"
    assert (taken[0] / "manifest.json").read_text(encoding="utf-8") == "{}"  # left alone
    stored = json.loads((run.path / "manifest.json").read_text(encoding="utf-8"))
    assert stored["run_id"] == run.run_id
    assert runs.load_run(ws, run.run_id).manifest == stored
