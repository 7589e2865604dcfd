"""Report objects: the forecast table's extra columns, JSON form, joints, formatting."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from test_report_helpers import XSS, explain_frame, report, run, workspace

from forecast.report.explanation import explanation_from_frames
from forecast.report.tables import (
    FORECAST_COLUMNS,
    enrich_forecasts,
    interval,
    pct,
    points,
    report_json,
    shared_driver_pairs,
    short_title,
    shorten,
    strongest_pairs,
)


def test_number_formats():
    assert pct(0.623) == "62%"
    assert pct(0.001) == "<1%" and pct(0.999) == ">99%"
    assert pct(math.nan) == "—"
    assert interval(0.28, 0.91) == "28–91%"
    assert points(0.052) == "+5.2 pts" and points(-0.1) == "-10.0 pts"
    assert points(math.nan, none="new") == "new"
    assert shorten("one two three four", 10) == "one two…"
    assert short_title("US leverage over Israel (Washington can ...)") == "US leverage over Israel"


def test_forecast_table_gains_change_top_evidence_and_flag(tmp_path):
    ws, rep = report(tmp_path)
    f = rep.forecasts
    assert list(f.columns) == FORECAST_COLUMNS
    assert list(f["id"]) == [q.id for q in ws.questions]
    # the synthetic previous run was 8 points lower on the first question
    assert f.loc[0, "since_previous"] == pytest.approx(0.08)
    assert f.loc[2, "since_previous"] == pytest.approx(0.0)
    # the evidence that moved each question most is the largest |prob_shift|
    for row in f.to_dict("records"):
        sub = rep.contributions[rep.contributions["question"] == row["id"]]
        top = sub.loc[sub["prob_shift"].abs().idxmax()]
        assert row["moved_by"] == top["items"]
        assert row["moved_by_shift"] == pytest.approx(top["prob_shift"])
    assert f.loc[0, "moved_by"] == "e1, e2"  # the corroborated cluster
    assert (f["flag"] == "").all() and rep.ok


def test_failed_run_flags_every_question(tmp_path):
    _, rep = report(tmp_path, bad=True)
    assert not rep.ok
    assert len(rep.problems) == 2
    assert all(rep.forecasts["flag"] != "")
    assert any("R-hat" in f for f in rep.forecasts["flag"])


def test_question_without_draw_problems_still_flagged_when_run_failed(tmp_path):
    ws = workspace(tmp_path)
    _, manifest, forecasts, contributions, _ = run(ws)
    out = enrich_forecasts(forecasts, contributions, None, run_ok=False)
    assert list(out["flag"]) == ["run failed checks"] * 3
    assert out["since_previous"].isna().all()


def test_no_previous_run_and_no_evidence(tmp_path):
    ws = workspace(tmp_path)
    _, _, forecasts, contributions, _ = run(ws)
    empty = contributions.iloc[0:0]
    out = enrich_forecasts(forecasts, empty)
    assert (out["moved_by"] == "").all()
    assert out["previous"].isna().all()


def test_report_json_is_exactly_the_documented_shape(tmp_path):
    ws = workspace(tmp_path)
    _, manifest, forecasts, _, _ = run(ws, bad_chain=True)
    data = report_json(forecasts.to_dict("records"), manifest)
    assert set(data) == {"questions", "diagnostics", "run_id"}
    assert data["run_id"] == manifest["run_id"]
    assert data["diagnostics"] == {"divergences": 12, "ok": False}
    keys = ["id", "title", "prior", "posterior", "lo", "hi", "rhat", "ess_bulk", "ess_tail"]
    for q, row in zip(data["questions"], forecasts.to_dict("records"), strict=True):
        assert list(q) == keys
        assert all(isinstance(q[k], float) for k in keys[2:])
        assert q["posterior"] == pytest.approx(row["posterior"])
    assert data["questions"][2]["title"].startswith("A new US aid package " + XSS)
    json.loads(json.dumps(data, allow_nan=False))  # plain JSON numbers, no NaN


def test_pairs_sharing_a_driver(tmp_path):
    ws = workspace(tmp_path)
    pairs = shared_driver_pairs(ws.questions, {"us-leverage": "US leverage over Israel (gloss)"})
    assert [(a.id, b.id, d) for a, b, d in pairs] == [
        ("lebanon-withdrawal", "iran-mou", "US leverage over Israel")
    ]
    idata, *_ = run(ws)
    assert strongest_pairs(idata, pairs, limit=1) == pairs
    assert strongest_pairs(idata, pairs, limit=0) == []


def test_explanation_groups_clusters_and_sorts_by_influence(tmp_path):
    ws = workspace(tmp_path)
    _, _, forecasts, contributions, _ = run(ws)
    qid = "lebanon-withdrawal"
    table = explain_frame(ws, contributions, qid)
    row = forecasts.set_index("id").loc[qid]
    exp = explanation_from_frames(ws.question(qid), table, row, evidence=ws.evidence)
    rows = exp.rows()
    ids = [r["id"] for r in rows]
    # every item reaching the question (direct, corroborated, via the driver) is listed
    assert {"e1", "e2", "e3", "e4"} <= set(ids)
    # the two-item cluster comes first as a cluster row followed by its items
    assert rows[0]["kind"] == "cluster" and rows[0]["n_items"] == 2
    assert [r["depth"] for r in rows[:3]] == [0, 1, 1]
    heads = [r for r in rows if r["depth"] == 0]
    shifts = [abs(r["prob_shift"]) for r in heads]
    assert shifts == sorted(shifts, reverse=True)
    e1 = next(r for r in rows if r["id"] == "e1")
    assert e1["where"] == "evidence/items.csv:2"
    assert e1["grade"] == "B" and e1["credibility"] == 2


def test_explanation_of_a_question_without_evidence(tmp_path):
    ws = workspace(tmp_path)
    _, _, forecasts, _, _ = run(ws)
    row = forecasts.set_index("id").loc["iran-mou"]
    exp = explanation_from_frames(ws.question("iran-mou"), pd.DataFrame(), row)
    assert exp.rows() == []
