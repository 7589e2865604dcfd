"""`forecast import`: a forecast log becomes a workspace; bad rows named by file:line."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from forecast.cli import app
from forecast.ledger import open_ledger
from forecast.workspace import load_workspace

ROOT = Path(__file__).resolve().parents[1]
GJP = ROOT / "examples" / "gjp-2011" / "source" / "gjp-yr1-mini-binary.csv.gz"  # shipped copy
runner = CliRunner()

LOG = """\
question,forecaster,probability,date,title,outcome,resolution_date
deal,Ana,0.3,2026-07-01,A deal is signed,yes,2026-08-01
deal,Ana,0.6,2026-07-20,,yes,2026-08-01
deal,Ana,0.95,2026-08-02,,yes,2026-08-01
deal,Ben,0,2026-07-03,,yes,2026-08-01
visit,Ana,0.5,2026-07-02,A visit happens,,
visit,Ben,1,,A visit happens,,
"""


def test_a_small_log_by_hand(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text(LOG)
    ws = tmp_path / "ws"
    result = runner.invoke(app, ["import", str(log), str(ws)])
    assert result.exit_code == 0, result.output
    assert "imported 6 forecasts" in result.output
    assert "2 questions (1 resolved), 2 forecasters, 4 priors" in result.output
    assert "1 earlier forecasts superseded" in result.output
    assert "1 forecasts made after their question resolved" in result.output
    assert "2 probabilities of exactly 0 or 1 set to 0.01 or 0.99" in result.output
    w = load_workspace(ws)
    deal = w.question("deal")
    assert deal.title == "A deal is signed"
    assert (deal.resolution.outcome, str(deal.resolution.date)) == ("yes", "2026-08-01")
    assert w.question("visit").resolution is None
    stated = {(s.analyst, s.target): (s.p, s.kind) for s in w.statements}
    assert stated == {
        ("Ana", "deal"): (0.6, "point"),  # the last one before resolution; 0.95 came after
        ("Ben", "deal"): (0.01, "point"),
        ("Ana", "visit"): (0.5, "point"),
        ("Ben", "visit"): (0.99, "point"),
    }
    assert (ws / "priors/ana.yaml").read_text() == (
        'analyst: "Ana"\npriors:\n'
        '  "deal": {p: 0.6}  # 2026-07-20\n'
        '  "visit": {p: 0.5}  # 2026-07-02\n'
    )
    with open_ledger(ws) as led:
        (res,) = led.resolutions()
    assert (res.question, res.outcome, str(res.date)) == ("deal", "yes", "2026-08-01")
    score = runner.invoke(app, ["score", str(ws), "--json"])
    assert score.exit_code == 0, score.output
    methods = {m["method"]: m for m in json.loads(score.stdout)["methods"]}
    # mean of 0.6 and 0.01 against a yes, by hand
    assert methods["mean"]["brier"] == pytest.approx((1 - 0.305) ** 2)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "deal,Ana,1.3,2026-07-01,A deal,yes,2026-08-01",
            "probability '1.3' must be a number from 0 to 1",
        ),
        ("deal,Ana,0.3,01.07.2026,A deal,yes,2026-08-01", "date '01.07.2026' is not YYYY-MM-DD"),
        ("deal,Ana,0.3,2026-07-01,A deal,maybe,2026-08-01", "outcome 'maybe' must be 1/0, yes/no"),
        ("deal,Ana,0.3,2026-07-01,A deal,no,2026-08-01", "outcome 'no' differs from yes on line 2"),
        ("deal,Ana,0.3,2026-07-01", "4 fields, the header has 7"),
        (",Ana,0.3,2026-07-01,A deal,yes,2026-08-01", "missing question id"),
    ],
)
def test_bad_rows_are_named_by_line_and_nothing_is_written(tmp_path, row, message):
    log = tmp_path / "log.csv"
    log.write_text(LOG.splitlines()[0] + "\n" + LOG.splitlines()[1] + "\n" + row + "\n")
    ws = tmp_path / "ws"
    result = runner.invoke(app, ["import", str(log), str(ws)])
    assert result.exit_code == 2
    assert f"{log}:3: {message}" in result.output
    assert "Traceback" not in result.output
    assert not ws.exists()


def test_missing_columns_and_an_existing_workspace_are_refused(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("question,who,probability\ndeal,Ana,0.3\n")
    result = runner.invoke(app, ["import", str(log), str(tmp_path / "ws")])
    assert result.exit_code == 2 and f"{log}:1: missing column forecaster" in result.output
    (tmp_path / "taken" / "priors").mkdir(parents=True)
    log.write_text(LOG)
    result = runner.invoke(app, ["import", str(log), str(tmp_path / "taken")])
    assert result.exit_code == 2 and "already holds priors/" in result.output


def test_the_gjp_record_keeps_its_question_and_forecaster_counts(tmp_path):
    with gzip.open(GJP, "rt", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    questions = {r["ifp_id"] for r in rows}
    people = {r["user_id"] for r in rows if r["user_id"] != "NULL"}
    pairs = {(r["user_id"], r["ifp_id"]) for r in rows if r["user_id"] != "NULL"}
    outcomes = {r["ifp_id"]: r["outcome"] for r in rows}
    assert (len(questions), len(people)) == (14, 536)  # what the record's README describes
    ws = tmp_path / "gjp"
    result = runner.invoke(app, ["import", str(GJP), str(ws)])
    assert result.exit_code == 0, result.output
    w = load_workspace(ws)
    assert len(w.questions) == len(questions)
    assert len(w.analysts) == len(people)
    assert len(w.statements) == len(pairs)
    for q in w.questions:
        assert q.resolution.outcome == {"1": "yes", "0": "no"}[outcomes[q.id]]
    assert "14 forecasts without a forecaster (empty or NULL): left out" in result.output


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.lists(
        st.lists(
            st.one_of(
                st.sampled_from(["deal", "Ana", "0.3", "1", "0", "-1", "2026-07-01", "9/1/11",
                                 "yes", "NULL", "", "1e400", "nan", "x,y", '"', "\n"]),
                st.text(max_size=6),
            ),
            min_size=0, max_size=8,
        ),
        max_size=6,
    )
)  # fmt: skip
def test_any_log_is_imported_or_refused_cleanly(tmp_path, body):
    import io as _io

    out = _io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["question", "forecaster", "probability", "date", "title", "outcome"])
    writer.writerows(body)
    log = tmp_path / f"log{abs(hash(str(body)))}.csv"
    log.write_text(out.getvalue())
    ws = tmp_path / f"ws{abs(hash(str(body)))}"
    result = runner.invoke(app, ["import", str(log), str(ws)])
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if result.exit_code == 2:
        assert not ws.exists()
    else:
        load_workspace(ws)  # what was written validates
