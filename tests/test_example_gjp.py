"""The shipped GJP example: `forecast score` on real outcomes, checked by hand."""

from __future__ import annotations

import json
import math
import shutil
import statistics
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from forecast.cli import app

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "gjp-2011"
runner = CliRunner()


@pytest.fixture
def gjp(tmp_path: Path) -> Path:
    ws = tmp_path / "gjp-2011"
    shutil.copytree(EXAMPLE, ws, ignore=shutil.ignore_patterns(".forecast"))
    return ws


def test_score_on_the_gjp_example_matches_hand_computation(gjp):
    questions = yaml.safe_load((gjp / "priors/questions.yaml").read_text())["questions"]
    outcome = {q["id"]: 1 if q["resolution"]["outcome"] in (True, "yes") else 0 for q in questions}
    stated: dict[str, list[float]] = {q: [] for q in outcome}
    for path in (gjp / "priors").glob("*.yaml"):
        if path.name == "questions.yaml":
            continue
        for qid, prior in yaml.safe_load(path.read_text())["priors"].items():
            stated[qid].append(prior["p"])
    assert len(outcome) == 14 and sum(len(v) for v in stated.values()) == 3078

    def mean_brier(pool) -> float:
        return statistics.fmean((pool(stated[q]) - y) ** 2 for q, y in outcome.items())

    def extremized(ps: list[float]) -> float:
        z = 2.5 * statistics.fmean(math.log(p / (1 - p)) for p in ps)
        return 1 / (1 + math.exp(-z))

    result = runner.invoke(app, ["score", str(gjp), "--json", "--plot", str(gjp / "rel.png")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    methods = {m["method"]: m for m in data["methods"]}
    assert methods["mean"]["n"] == 14
    assert methods["mean"]["brier"] == pytest.approx(mean_brier(statistics.fmean))
    assert methods["median"]["brier"] == pytest.approx(mean_brier(statistics.median))
    assert methods["extremized"]["brier"] == pytest.approx(mean_brier(extremized))
    # the model has no run recorded before these 2011 resolutions: said, not scored
    assert methods["forecast"]["n"] == 0
    assert "no run was recorded on or before the resolution date" in data["missing"][0]
    # decomposition adds up; the base rate is 3 yes in 14
    m = methods["mean"]
    assert m["brier"] == pytest.approx(m["mcb"] - m["dsc"] + m["unc"])
    assert m["unc"] == pytest.approx((3 / 14) * (11 / 14))
    assert len(data["analysts"]) == 536
    assert (gjp / "rel.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.slow
def test_a_backtest_of_the_gjp_example_is_scored_from_the_ledger(gjp):
    import sqlite3

    run = runner.invoke(
        app, ["run", str(gjp), "--as-of", "2011-09-07", "--draws", "300", "--chains", "2"]
    )
    assert run.exit_code == 0, run.output
    result = runner.invoke(app, ["score", str(gjp), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    conn = sqlite3.connect(gjp / ".forecast" / "ledger.sqlite")
    rows = conn.execute("SELECT question, forecast, prior FROM forecasts").fetchall()
    assert len(rows) == 14 and all(outcome == "" for (outcome,) in
                                   conn.execute("SELECT outcome FROM forecasts"))  # fmt: skip
    truth = {q["id"]: q["y"] for q in data["questions"]}
    methods = {m["method"]: m for m in data["methods"]}
    assert methods["forecast"]["n"] == 14
    assert methods["forecast"]["brier"] == pytest.approx(
        statistics.fmean((p - truth[q]) ** 2 for q, p, _ in rows)
    )
    assert methods["pooled_prior"]["brier"] == pytest.approx(
        statistics.fmean((p - truth[q]) ** 2 for q, _, p in rows)
    )
    assert data["missing"] == []
