"""Scores: hand-computed Brier and log scores, pools, CORP decomposition, no look-ahead."""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from conftest import write_workspace
from trackfiles import TRACK_FILES
from typer.testing import CliRunner

from forecast.cli import app
from forecast.scoring import (
    EXTREMIZE,
    brier,
    decompose,
    last_before,
    log_score,
    pools,
    recalibrate,
)

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def test_brier_and_log_scores_match_hand_computation():
    p, y = [0.8, 0.3, 0.5], [1, 0, 0]
    assert brier(p, y) == pytest.approx([0.04, 0.09, 0.25])
    assert log_score(p, y) == pytest.approx([-math.log(0.8), -math.log(0.7), -math.log(0.5)])


def test_pools_of_stated_probabilities():
    got = pools([0.2, 0.5, 0.9])
    assert got["mean"] == pytest.approx(1.6 / 3)
    assert got["median"] == pytest.approx(0.5)
    mean_logodds = (math.log(0.2 / 0.8) + 0 + math.log(0.9 / 0.1)) / 3
    assert got["extremized"] == pytest.approx(1 / (1 + math.exp(-EXTREMIZE * mean_logodds)))
    # extremizing pushes away from 50 % and keeps the side
    assert got["extremized"] > 0.5 and pools([0.3, 0.4])["extremized"] < 0.3


def test_corp_decomposition_by_hand():
    # two forecasts, perfectly ordered: recalibrated to 0 and 1
    d = decompose([0.2, 0.8], [0, 1])
    assert d.brier == pytest.approx(0.04)
    assert d.unc == pytest.approx(0.25)  # base rate 1/2: (1/2)^2
    assert d.dsc == pytest.approx(0.25)  # recalibrated forecasts score 0
    assert d.mcb == pytest.approx(0.04)
    # a reversed forecaster: isotonic fit pools both to the base rate, no discrimination
    d = decompose([0.8, 0.2], [0, 1])
    assert d.dsc == pytest.approx(0.0)
    assert d.mcb == pytest.approx(0.64 - 0.25)


def test_recalibration_pools_ties_and_violators():
    p = np.array([0.1, 0.1, 0.4, 0.6, 0.6, 0.9])
    y = np.array([0, 1, 1, 0, 0, 1])
    # ties at 0.1 -> 1/2 (weight 2); 0.4 (1) and 0.6 (0, 0) violate order -> 1/3
    # (weight 3); then 1/2 > 1/3 violates too -> (2 x 1/2 + 3 x 1/3) / 5 = 0.4
    assert recalibrate(p, y) == pytest.approx([0.4, 0.4, 0.4, 0.4, 0.4, 1.0])


def test_decomposition_identity_on_random_forecasts():
    rng = np.random.default_rng(4)
    p = rng.uniform(0.01, 0.99, 300).round(2)
    y = (rng.uniform(size=300) < p**1.5).astype(float)
    d = decompose(p, y)
    assert d.brier == pytest.approx(np.mean((p - y) ** 2))
    assert d.brier == pytest.approx(d.mcb - d.dsc + d.unc)
    assert d.mcb >= -1e-12 and d.dsc >= -1e-12
    assert d.unc == pytest.approx(y.mean() * (1 - y.mean()))


def test_no_look_ahead():
    rows = [
        {"run_id": "a", "created": "2026-07-01T10:00:00+00:00", "outcome": ""},
        {"run_id": "b", "created": "2026-07-05T23:59:00+00:00", "outcome": ""},
        {"run_id": "c", "created": "2026-07-06T00:01:00+00:00", "outcome": ""},
        {"run_id": "d", "created": "2026-07-07T00:00:00+00:00", "outcome": "yes"},
    ]
    assert last_before(rows, dt.date(2026, 7, 5))["run_id"] == "b"
    assert last_before(rows, dt.date(2026, 7, 6))["run_id"] == "c"
    assert last_before(rows, dt.date(2026, 7, 9))["run_id"] == "c"  # d already knew
    assert last_before(rows, dt.date(2026, 6, 30)) is None


def test_score_without_a_run_before_resolution_says_so(tmp_path):
    ws = write_workspace(tmp_path / "ws", TRACK_FILES)
    assert runner.invoke(app, ["resolve", "deal", "yes", "--date", "2026-09-01", "-w", str(ws)])
    result = runner.invoke(app, ["score", str(ws), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (q,) = data["questions"]
    assert q["id"] == "deal" and q["forecast"] is None and q["mean"] == pytest.approx(0.3)
    assert "no run was recorded on or before the resolution date" in data["missing"][0]
    assert "for deal:" in data["missing"][0]
    (ana,) = data["analysts"]
    assert ana["brier"] == pytest.approx(0.49) and ana["log"] == pytest.approx(-math.log(0.3))
    methods = {m["method"]: m for m in data["methods"]}
    assert methods["forecast"]["n"] == 0 and methods["mean"]["brier"] == pytest.approx(0.49)


def _copy_shipped(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    for part in ("priors", "evidence"):
        shutil.copytree(ROOT / part, ws / part)
    shutil.copy(ROOT / "forecast.toml", ws / "forecast.toml")
    return ws


@pytest.mark.slow
def test_two_reports_a_resolution_and_score_agree_with_the_ledger_by_hand(tmp_path):
    ws = _copy_shipped(tmp_path)
    small = ["--draws", "300", "--chains", "2"]
    first = runner.invoke(app, ["report", str(ws), "--no-files", "--json", *small])
    assert first.exit_code == 0, first.output
    added = runner.invoke(
        app,
        [
            "evidence", "add", str(ws), "--bears-on", "lebanon-withdrawal", "--source",
            "wh", "--strength", "moderate-for", "--credibility", "2", "--summary",
            "A withdrawal timetable is floated.", "--citation", "Test wire",
        ],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    second = runner.invoke(app, ["report", str(ws), "--no-files", "--json", *small])
    assert second.exit_code == 0, second.output
    run1, run2 = json.loads(first.stdout)["run_id"], json.loads(second.stdout)["run_id"]
    assert run1 != run2
    today = dt.datetime.now(dt.UTC).date().isoformat()
    for qid, outcome in (("lebanon-withdrawal", "yes"), ("mou-in-force", "no")):
        res = runner.invoke(app, ["resolve", qid, outcome, "--date", today, "-w", str(ws)])
        assert res.exit_code == 0, res.output
    result = runner.invoke(app, ["score", str(ws), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)

    # by hand, from the ledger file itself
    conn = sqlite3.connect(ws / ".forecast" / "ledger.sqlite")
    truth = {"lebanon-withdrawal": 1, "mou-in-force": 0}
    hand, prior_hand, mean_hand = [], [], []
    for qid, y in truth.items():
        run_id, p, prior = conn.execute(
            "SELECT f.run_id, f.forecast, f.prior FROM forecasts f JOIN runs r USING (run_id) "
            "WHERE f.question = ? AND f.outcome = '' ORDER BY r.created DESC, r.rowid DESC "
            "LIMIT 1",
            (qid,),
        ).fetchone()
        assert run_id == run2  # the later of the two runs
        stated = [
            s
            for (s,) in conn.execute(
                "SELECT probability FROM statements WHERE run_id = ? AND target = ?",
                (run_id, qid),
            )
        ]
        assert len(stated) == 3  # the three analysts
        hand.append((p - y) ** 2)
        prior_hand.append((prior - y) ** 2)
        mean_hand.append((sum(stated) / len(stated) - y) ** 2)
    methods = {m["method"]: m for m in data["methods"]}
    assert methods["forecast"]["n"] == 2
    assert methods["forecast"]["brier"] == pytest.approx(sum(hand) / 2, abs=1e-12)
    assert methods["pooled_prior"]["brier"] == pytest.approx(sum(prior_hand) / 2, abs=1e-12)
    assert methods["mean"]["brier"] == pytest.approx(sum(mean_hand) / 2, abs=1e-12)
    assert {q["id"] for q in data["questions"]} == set(truth)
    assert all(q["run_id"] == run2 for q in data["questions"])

    # history shows both runs for the question, and what changed between them
    hist = runner.invoke(app, ["history", "lebanon-withdrawal", "-w", str(ws), "--json"])
    assert hist.exit_code == 0, hist.output
    rows = json.loads(hist.stdout)["questions"][0]["runs"]
    assert [r["run_id"] for r in rows] == [run1, run2]
    assert rows[1]["evidence_added"] == ["E039"]
    text = runner.invoke(app, ["history", "-w", str(ws)])
    assert text.exit_code == 0 and run1 in text.output and run2 in text.output
