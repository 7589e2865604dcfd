"""Backtests: `--as-of D` sees only what was known on D, and is scored as a forecast of D."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import write_workspace
from trackfiles import TRACK_FILES
from typer.testing import CliRunner

from forecast.asof import as_of
from forecast.cli import app
from forecast.elicit import LogitNormal, logit
from forecast.ledger import open_ledger
from forecast.workspace import load_workspace

runner = CliRunner()


@pytest.fixture
def ws(tmp_path):
    root = write_workspace(tmp_path / "ws", TRACK_FILES)
    done = runner.invoke(app, ["resolve", "deal", "yes", "--date", "2026-09-01", "-w", str(root)])
    assert done.exit_code == 0, done.output
    return root


def test_the_cut_leaves_out_later_evidence_and_resolutions(ws):
    full = load_workspace(ws)
    cut = as_of(full, dt.date(2026, 7, 5))
    assert [e.id for e in cut.evidence] == ["E001"]  # E002 is dated 2026-07-06
    assert cut.question("deal").resolution is None
    assert as_of(full, dt.date(2026, 9, 1)).question("deal").resolution.outcome == "yes"
    assert cut.content_hash() != full.content_hash()  # a different run, never reused for it


def test_a_backtest_run_is_scored_as_a_forecast_of_its_date(ws):
    result = runner.invoke(app, ["run", str(ws), "--as-of", "2026-07-05"])
    assert result.exit_code == 0, result.output
    with open_ledger(ws) as led:
        (run,) = led.runs()
        row = next(r for r in led.forecasts("deal"))
    assert run["as_of"] == "2026-07-05"
    assert row["outcome"] == ""  # the resolution came later: hidden from the run
    # odds-form Bayes: prior logit(0.3) and one fully reliable item of ratio 3
    sigma = (logit(0.6) - logit(0.1)) / (2 * 1.6448536269514722)
    assert row["forecast"] == pytest.approx(
        LogitNormal(logit(0.3) + 1.0986, sigma).mean(), abs=0.03
    )
    score = runner.invoke(app, ["score", str(ws), "--json"])
    assert score.exit_code == 0, score.output
    (q,) = json.loads(score.stdout)["questions"]
    assert q["run_id"] == run["run_id"]
    assert q["forecast"] == pytest.approx(row["forecast"])
    assert q["brier_forecast"] == pytest.approx((row["forecast"] - 1) ** 2)
    hist = runner.invoke(app, ["history", "deal", "-w", str(ws)])
    assert "2026-07-05 (as of)" in hist.output


def test_a_future_or_malformed_as_of_date_is_refused(ws):
    for bad, message in (("2999-01-01", "is in the future"), ("July", "not a date")):
        result = runner.invoke(app, ["run", str(ws), "--as-of", bad])
        assert result.exit_code == 2 and message in result.output
    assert not (ws / ".forecast" / "runs").exists()
