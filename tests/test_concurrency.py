"""Several `forecast` processes on one workspace at once: nothing lost, nothing collides."""

from __future__ import annotations

import csv
import io
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
