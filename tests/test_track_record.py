"""Resolved questions teach the model how far to trust each analyst."""

from __future__ import annotations

import math

import numpy as np
import pytest
from factory import interval, question, workspace

from forecast.elicit import sigmoid
from forecast.inference import sample


@pytest.mark.slow
def test_a_biased_analysts_lean_is_learned_from_the_track_record():
    # 240 resolved questions, each stated by two of three analysts; "hawk"
    # states every log-odds 1.0 too high, "owl" and "kite" without bias. All
    # say their sd is 0.3.
    rng = np.random.default_rng(11)
    n, true_bias = 240, 1.0
    names = ("hawk", "owl", "kite")
    truth = rng.normal(0.0, 1.2, n)
    outcomes = rng.random(n) < np.array([sigmoid(t) for t in truth])
    questions, statements = [], []
    for i in range(n):
        qid = f"q{i}"
        questions.append(question(qid, outcome="yes" if outcomes[i] else "no"))
        for name in rng.choice(names, 2, replace=False):
            m = truth[i] + (true_bias if name == "hawk" else 0.0) + rng.normal(0, 0.3)
            p = sigmoid(m)
            lo, hi = sigmoid(m - 1.645 * 0.3), sigmoid(m + 1.645 * 0.3)
            statements.append(interval(str(name), qid, p, lo, hi))
    ws = workspace(questions, statements=statements, draws=500, tune=500, chains=2)
    idata, diag = sample(ws)
    assert diag.method == "nuts"
    # The plain mean of the statements sits 1.0 x (share of hawk statements)
    # above the truth, about 0.67 on average; the resolved questions teach the
    # pool to take that lean out.
    stated = np.zeros(n)
    hawk_share = np.zeros(n)
    for i in range(n):
        rows = [s for s in statements if s.target == f"q{i}"]
        stated[i] = np.mean([math.log(s.p / (1 - s.p)) for s in rows])
        hawk_share[i] = np.mean([s.analyst == "hawk" for s in rows])
    assert np.mean(stated - truth) == pytest.approx(true_bias * hawk_share.mean(), abs=0.1)
    prior = idata.posterior["theta_prior"].mean(("chain", "draw")).values
    assert abs(np.mean(prior - truth)) < 0.25
    assert math.sqrt(np.mean((prior - truth) ** 2)) < 0.6
    # and the hawk's own offset leans the right way
    offset = idata.posterior["offset"].mean(("chain", "draw"))
    assert float(offset.sel(analyst="hawk")) < float(offset.sel(analyst="owl"))


@pytest.mark.slow
def test_resolved_questions_teach_which_source_to_trust():
    # "straight" reports the truth (ratio 4 toward the real outcome); "coin"
    # reports a direction at random. Both start as grade C: Beta(6, 4).
    from factory import item

    from forecast.workspace import Source

    rng = np.random.default_rng(3)
    questions, evidence = [], []
    for i in range(60):
        yes = bool(rng.random() < 0.5)
        questions.append(question(f"q{i}", outcome="yes" if yes else "no"))
        evidence.append(item(f"S{i}", f"q{i}", 4.0 if yes else 0.25, source="straight"))
        evidence.append(item(f"C{i}", f"q{i}", 4.0 if rng.random() < 0.5 else 0.25, source="coin"))
    sources = [Source("straight", "Straight", grade="C"), Source("coin", "Coin", grade="C")]
    ws = workspace(questions, evidence=evidence, sources=sources, draws=500, tune=500, chains=2)
    idata, _ = sample(ws)
    r = idata.posterior["reliability"]
    straight = float(r.sel(source="straight").mean())
    coin = float(r.sel(source="coin").mean())
    prior_mean = 6 / (6 + 4)
    assert straight > prior_mean + 0.1
    assert coin < prior_mean - 0.1
