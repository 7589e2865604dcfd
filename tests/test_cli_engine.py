"""`forecast run / joint / whatif / priors` end to end, in tmp_path."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pytest
from conftest import write_workspace
from typer.testing import CliRunner

from forecast.cli import app
from forecast.elicit import LogitNormal, logit

runner = CliRunner()

# One question, one analyst, one fully reliable source; direct pooling and
# fixed ratios, so every number below has a hand computation.
ODDS_FORM = {
    "priors/questions.yaml": """\
questions:
  - id: deal
    title: A deal is signed
    drivers: {mood: 1.0}
  - id: visit
    title: A visit happens
    drivers: {mood: 0.8}
  - id: strike
    title: A strike happens
    drivers: {mood: -0.9}
drivers:
  - id: mood
    title: The mood
""",
    "priors/ana.yaml": """\
analyst: Ana
priors:
  deal: {p: 0.3, lo: 0.1, hi: 0.6}
  visit: {p: 0.5, lo: 0.3, hi: 0.7}
  strike: {p: 0.2, lo: 0.1, hi: 0.4}
  mood: {p: 0.5, lo: 0.3, hi: 0.7}
""",
    "evidence/sources.csv": "id,name,reliability\nwire,A wire service,1\n",
    "evidence/items.csv": (
        "id,date,bears_on,source,strength,credibility,cluster,summary,citation\n"
        "E001,2026-07-04,deal,wire,3,1,,Talks resumed.,Wire 2026-07-04\n"
    ),
    "forecast.toml": """\
[model]
pooling = "direct"
coding_sd = 0
[sampler]
draws = 2000
chains = 2
seed = 5
""",
}


def snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return write_workspace(tmp_path / "ws", ODDS_FORM)


def prior_of_deal() -> LogitNormal:
    sigma = (logit(0.6) - logit(0.1)) / (2 * 1.6448536269514722)
    return LogitNormal(logit(0.3), sigma)


def test_whatif_moves_the_forecast_as_odds_form_bayes_says_and_writes_nothing(ws):
    before_files = snapshot(ws)
    result = runner.invoke(
        app, ["whatif", str(ws), "--bears-on", "deal", "--strength", "1/4", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in json.loads(result.stdout)["questions"]}
    prior = prior_of_deal()
    # before: the prior times 3 (the stored item); after: times 3, times 1/4
    before = LogitNormal(prior.mu + math.log(3), prior.sigma).mean()
    after = LogitNormal(prior.mu + math.log(3 / 4), prior.sigma).mean()
    assert rows["deal"]["before"] == pytest.approx(before, abs=0.015)
    assert rows["deal"]["after"] == pytest.approx(after, abs=0.015)
    # questions the item does not reach stay where they were (up to draws)
    assert rows["visit"]["after"] == pytest.approx(rows["visit"]["before"], abs=0.02)
    assert snapshot(ws) == before_files  # nothing written, not even a run


def test_whatif_refuses_bad_items_with_file_and_line(ws, tmp_path):
    bad = tmp_path / "hypo.csv"
    bad.write_text("bears_on,strength\ndeal,moderate-for\nnowhere,huge-for\n")
    before_files = snapshot(ws)
    result = runner.invoke(app, ["whatif", str(ws), "--csv", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:3" in result.stderr
    assert "nowhere" in result.stderr and "huge-for" in result.stderr
    assert snapshot(ws) == before_files


def test_run_stores_trace_and_manifest_and_same_seed_gives_same_numbers(ws):
    first = runner.invoke(app, ["run", str(ws), "--draws", "200"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["run", str(ws), "--draws", "200"])
    runs = sorted((ws / ".forecast" / "runs").iterdir())
    assert len(runs) >= 1
    manifests = [json.loads((r / "manifest.json").read_text()) for r in runs]
    for m in manifests:
        assert (ws / ".forecast" / "runs" / m["run_id"] / "trace.nc").is_file()
        assert m["seed"] == 5 and m["settings"]["draws"] == 200
        assert set(m["versions"]) >= {"pymc", "arviz", "forecast", "python"}
        assert m["diagnostics"]["method"] == "forward"
    # the same seed and files: the same numbers, to the last digit
    table = lambda out: [line for line in out.splitlines() if "%" in line]  # noqa: E731
    assert table(first.stdout) == table(second.stdout)
    assert manifests[0]["forecasts"] == manifests[-1]["forecasts"]
    other = runner.invoke(app, ["run", str(ws), "--draws", "200", "--seed", "6"])
    assert table(other.stdout) != table(first.stdout)


def test_joint_follows_the_loadings(ws):
    same = json.loads(
        runner.invoke(app, ["joint", "deal", "visit", "-w", str(ws), "--json"]).stdout
    )
    apart = json.loads(
        runner.invoke(app, ["joint", "deal", "strike", "-w", str(ws), "--json"]).stdout
    )
    assert same["p_ab"] > same["independent"]  # both load positively on the mood
    assert apart["p_ab"] < apart["independent"]  # opposite signs pull apart
    assert same["p_a_given_b"] == pytest.approx(same["p_ab"] / same["p_b"])


def test_joint_unknown_question_is_a_clear_error(ws):
    result = runner.invoke(app, ["joint", "deal", "nope", "-w", str(ws)])
    assert result.exit_code == 2
    assert "unknown question 'nope'" in result.stderr and "deal" in result.stderr


def test_priors_prints_the_fitted_quantiles(ws):
    result = runner.invoke(app, ["priors", str(ws)])
    assert result.exit_code == 0, result.output
    lo, mid, hi = prior_of_deal().quantiles()
    line = next(row for row in result.stdout.splitlines() if " deal " in row)
    assert f"{100 * lo:.1f}%" in line and f"{100 * mid:.1f}%" in line and f"{100 * hi:.1f}%" in line
    # the median is the stated p, and the 90 % interval is as wide on the
    # log-odds scale as the stated one (p is off-centre, so it shifts)
    assert mid == pytest.approx(0.3)
    assert logit(hi) - logit(lo) == pytest.approx(logit(0.6) - logit(0.1))


def test_direct_pooling_with_two_analysts_is_refused(ws):
    (ws / "priors" / "bo.yaml").write_text("priors:\n  deal: {p: 0.5, confidence: low}\n")
    result = runner.invoke(app, ["run", str(ws)])
    assert result.exit_code == 2
    assert "hierarchical" in result.stderr and "Ana" in result.stderr


def test_strict_fails_a_run_that_misses_its_checks(ws):
    result = runner.invoke(app, ["run", str(ws), "--draws", "50", "--chains", "2", "--strict"])
    assert result.exit_code == 1  # 100 draws cannot give an ESS of 400
    assert "effective sample size" in result.stderr


def test_a_damaged_stored_run_is_passed_over_not_a_crash(ws):
    first = runner.invoke(app, ["run", str(ws), "--draws", "100"])
    assert first.exit_code == 0, first.output
    (stored,) = (ws / ".forecast" / "runs").iterdir()
    (stored / "trace.nc").write_bytes(b"not a netcdf file")
    (ws / ".forecast" / "runs" / "junk").mkdir()  # a folder with no manifest at all
    again = runner.invoke(app, ["joint", "deal", "visit", "-w", str(ws), "--draws", "100"])
    assert again.exit_code == 0, again.output
    assert "P(A and B)" in again.stdout
    assert len([p for p in (ws / ".forecast" / "runs").iterdir() if p.name != "junk"]) == 2


def test_joint_of_a_question_with_itself_is_refused_before_sampling(ws):
    # P(A and A) is P(A); the product of two copies of one question's draws
    # (E[p^2], below E[p]) would print a joint below the marginal
    result = runner.invoke(app, ["joint", "deal", "deal", "-w", str(ws)])
    assert result.exit_code == 2
    assert "two different questions" in result.stderr and "'deal' twice" in result.stderr
    assert "Traceback" not in result.output
    assert not (ws / ".forecast").exists()  # nothing sampled, nothing stored
