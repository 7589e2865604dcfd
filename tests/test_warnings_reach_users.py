"""What the toolkit passes over, it says: broken links, default priors, damaged runs."""

from __future__ import annotations

import os

import pytest
from conftest import write_workspace
from test_cli_engine import ODDS_FORM
from typer.testing import CliRunner

from forecast.cli import app

runner = CliRunner()


def test_broken_links_in_evidence_are_warned_with_their_path(minimal_workspace):
    ev = minimal_workspace / "evidence"
    os.symlink(ev / "nowhere.csv", ev / "gone.csv")
    os.symlink(ev / "loop-b.csv", ev / "loop-a.csv")
    os.symlink(ev / "loop-a.csv", ev / "loop-b.csv")
    result = runner.invoke(app, ["validate", str(minimal_workspace)])
    assert result.exit_code == 0, result.output  # a warning, not an error
    err = result.stderr
    assert "evidence/gone.csv: warning: symbolic link points to" in err
    assert "nowhere.csv" in err and "which is missing" in err
    for name in ("loop-a.csv", "loop-b.csv"):
        assert f"evidence/{name}: warning: symbolic link is a loop of links" in err
    assert "4 evidence items" in result.stdout  # the real files still load


# one question nobody states a prior on
NO_PRIOR = {
    **ODDS_FORM,
    "priors/questions.yaml": ODDS_FORM["priors/questions.yaml"].replace(
        "drivers:\n  - id: mood",
        "  - id: orphan\n    title: Nobody has a view\ndrivers:\n  - id: mood",
    ),
    "forecast.toml": ODDS_FORM["forecast.toml"].replace("draws = 2000", "draws = 200"),
}


@pytest.fixture(scope="module")
def no_prior(tmp_path_factory):
    return write_workspace(tmp_path_factory.mktemp("noprior") / "ws", NO_PRIOR)


def test_a_question_without_priors_is_said_in_the_report(no_prior):
    result = runner.invoke(app, ["report", str(no_prior)])
    assert result.exit_code == 0, result.output
    assert "priors/questions.yaml:11: warning: no analyst states a prior on 'orphan'" in (
        result.stderr
    )
    (folder,) = (no_prior / "reports").iterdir()
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert 'id="warnings"' in page and "no analyst states a prior on &#39;orphan&#39;" in page
    section = page.split('id="q-orphan"', 1)[1].split("</section>", 1)[0]
    assert "No analyst states a prior on this question: the default prior is used" in section
    other = page.split('id="q-deal"', 1)[1].split("</section>", 1)[0]
    assert "default prior" not in other
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert "No analyst states a prior on this question" in md


def test_a_damaged_stored_run_is_named_when_sampled_anew(tmp_path):
    ws = write_workspace(tmp_path / "ws", NO_PRIOR)
    first = runner.invoke(app, ["joint", "deal", "visit", "-w", str(ws)])
    assert first.exit_code == 0, first.output
    assert "damaged" not in first.stderr
    (stored,) = (ws / ".forecast" / "runs").iterdir()
    (stored / "trace.nc").write_bytes(b"not a netcdf file")
    again = runner.invoke(app, ["report", str(ws), "--no-files"])
    assert again.exit_code == 0, again.output
    assert f"warning: stored run {stored.name} is damaged" in again.stderr
    assert "sampling it anew" in again.stderr
    # a run whose manifest is lost is known by its name (it carries the run key)
    runs = sorted(p for p in (ws / ".forecast" / "runs").iterdir())
    for run in runs:
        (run / "manifest.json").write_text("{not json")
    third = runner.invoke(app, ["explain", "deal", "-w", str(ws)])
    assert third.exit_code == 0, third.output
    assert "is damaged (unreadable manifest or missing trace.nc)" in third.stderr
    assert all(run.name in third.stderr for run in runs)
    fourth = runner.invoke(app, ["explain", "deal", "-w", str(ws)])
    assert "damaged" not in fourth.stderr  # the new run is reused: nothing to say


def test_whatif_on_a_damaged_stored_run_says_so_and_still_answers(tmp_path):
    ws = write_workspace(tmp_path / "ws", NO_PRIOR)
    assert runner.invoke(app, ["run", str(ws)]).exit_code == 0
    (stored,) = (ws / ".forecast" / "runs").iterdir()
    (stored / "trace.nc").write_bytes(b"not a netcdf file")
    result = runner.invoke(app, ["whatif", str(ws), "--bears-on", "deal", "--strength", "2"])
    assert result.exit_code == 0, result.output
    assert f"warning: stored run {stored.name} is damaged" in result.stderr
    assert "deal" in result.stdout
