"""`forecast report` with a report folder it cannot write: one line, exit 2, the run kept."""

from __future__ import annotations

import errno
from pathlib import Path

from conftest import MINIMAL_FILES, write_workspace
from typer.testing import CliRunner

from forecast.cli import app

runner = CliRunner()


def _forward_workspace(root: Path) -> Path:
    """The minimal workspace with nothing observed: exact forward draws, no compiling."""
    files = {k: v for k, v in MINIMAL_FILES.items() if k != "priors/omar.yaml"}
    questions = files["priors/questions.yaml"].splitlines()
    files["priors/questions.yaml"] = "\n".join(q for q in questions if "resolution:" not in q)
    return write_workspace(root, files)


def _stored(ws: Path) -> list[Path]:
    runs = ws / ".forecast" / "runs"
    return sorted(p for p in runs.iterdir() if not p.name.startswith(".")) if runs.is_dir() else []


def test_an_unwritable_report_folder_fails_before_sampling(tmp_path):
    ws = _forward_workspace(tmp_path / "ws")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    # (tests may run as root, for whom no mode bit stops a write: a file in the
    # path stops it for everyone)
    result = runner.invoke(app, ["report", str(ws), "-o", str(blocker / "reports")])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(blocker) in lines[0] and "Not a directory" in lines[0]
    assert "Traceback" not in result.output
    assert _stored(ws) == []  # it stopped before sampling


def test_a_full_disk_while_writing_keeps_the_run_and_says_so(tmp_path, monkeypatch):
    from forecast.report import write

    ws = _forward_workspace(tmp_path / "ws")
    real = write.atomic_write_text

    def full(path, text):
        if Path(path).name == "report.md":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, text)

    monkeypatch.setattr(write, "atomic_write_text", full)
    result = runner.invoke(app, ["report", str(ws)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert "No space left on device" in lines[-1] and "report.md" in lines[-1]
    assert "Traceback" not in result.output
    [run] = _stored(ws)
    assert str(run) in lines[-1]
    assert list((ws / "reports").iterdir()) == []  # no half-written report folder
    monkeypatch.undo()
    again = runner.invoke(app, ["report", str(ws)])  # with room again: reuses the run
    assert again.exit_code == 0, again.output
    assert _stored(ws) == [run]
    assert (ws / "reports" / run.name / "report.html").is_file()
