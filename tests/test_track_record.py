"""Resolved questions teach the model how far to trust each analyst."""

from __future__ import annotations

import math

import numpy as np
import pytest
from factory import interval, question, workspace

from forecast.elicit import sigmoid
from forecast.inference import sample


@pytest.mark.slow
def test_a_biased_analysts_bias_is_learned_from_the_track_record():
    # 150 resolved questions; "hawk" states every log-odds 1.0 too high,
    # "owl" states them without bias. Both say their sd is 0.3.
    rng = np.random.default_rng(11)
    n, true_bias = 150, 1.0
    truth = rng.normal(0.0, 1.2, n)
    outcomes = rng.random(n) < np.array([sigmoid(t) for t in truth])
    questions, statements = [], []
    for i in range(n):
        qid = f"q{i}"
        questions.append(question(qid, outcome="yes" if outcomes[i] else "no"))
        for name, shift in (("hawk", true_bias), ("owl", 0.0)):
            m = truth[i] + shift + rng.normal(0, 0.3)
            p = sigmoid(m)
            lo, hi = sigmoid(m - 1.645 * 0.3), sigmoid(m + 1.645 * 0.3)
            statements.append(interval(name, qid, p, lo, hi))
    ws = workspace(questions, statements=statements, draws=500, tune=500, chains=2)
    idata, diag = sample(ws)
    assert diag.method == "nuts"
    bias = idata.posterior["bias"]
    hawk = bias.sel(analyst="hawk").values.ravel()
    owl = bias.sel(analyst="owl").values.ravel()
    # right sign, with near certainty; right size, within the sampling noise
    # of 150 binary outcomes
    assert (hawk > 0).mean() > 0.99
    assert 0.6 < hawk.mean() < 1.4
    assert abs(owl.mean()) < 0.4
    assert (hawk - owl).mean() == pytest.approx(true_bias, abs=0.15)
    # the learned bias is removed from the pooled prior: resolved questions'
    # prior log-odds sit near the truth, not near the hawk's statements
    theta0 = idata.posterior["theta_prior"].mean(("chain", "draw")).values
    assert math.sqrt(np.mean((theta0 - truth) ** 2)) < 0.5


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
