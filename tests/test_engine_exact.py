"""The engine against hand computation: Bayes' rule in odds form.

Forward draws (direct pooling, nothing resolved) are exact and cheap, so
most checks here use enough draws to bound Monte Carlo error tightly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from factory import interval, item, question, workspace
from hypothesis import given
from hypothesis import strategies as st

from forecast.elicit import LogitNormal, fit
from forecast.errors import UsageError
from forecast.inference import sample
from forecast.model import build_model, corroborated, model_data, schum_weight
from forecast.posterior import forecast_table, joint
from forecast.workspace import Source

FIXED = {"pooling": "direct", "coding_sd": 0.0}


def draws(idata, name):
    var = idata.posterior[name]
    return np.asarray(var.values).reshape((-1,) + var.shape[2:])


def odds_form(prior: LogitNormal, *ratios: float) -> float:
    """E over the prior of the posterior probability by Bayes' rule in odds form."""
    shifted = LogitNormal(prior.mu + sum(math.log(r) for r in ratios), prior.sigma)
    return shifted.mean()


def mc_error(idata, qi: int) -> float:
    p = draws(idata, "prob")[:, qi]
    return float(p.std() / math.sqrt(len(p)))


def test_direct_pooling_with_fixed_ratios_is_bayes_rule_in_odds_form():
    stmt = interval("ana", "q", 0.3, 0.1, 0.6)
    ws = workspace(
        [question("q")],
        statements=[stmt],
        evidence=[item("E1", "q", 4.0), item("E2", "q", 0.5), item("E3", "q", 3.0)],
        draws=2000, chains=4, **FIXED,
    )  # fmt: skip
    idata, diag = sample(ws)
    assert diag.method == "forward" and diag.ok
    prior = fit(stmt, ws.codebook)
    table = forecast_table(idata, ws).set_index("id")
    expected = odds_form(prior, 4.0, 0.5, 3.0)  # posterior odds = prior odds x 6
    assert abs(table.loc["q", "posterior"] - expected) < 4 * mc_error(idata, 0)
    assert abs(table.loc["q", "prior"] - prior.mean()) < 0.01
    # draw by draw, the log-odds move by exactly log(6)
    shift = draws(idata, "theta")[:, 0] - draws(idata, "theta_prior")[:, 0]
    np.testing.assert_allclose(shift, math.log(6.0), atol=1e-9)


@pytest.mark.parametrize(("r", "L"), [(0.6, 5.0), (0.9, 0.25), (0.3, 30.0), (1.0, 2.0)])
def test_one_report_moves_the_odds_by_r_L_plus_1_minus_r(r, L):
    ws = workspace(
        [question("q")],
        evidence=[item("E1", "q", L)],
        sources=[Source("s", "fixed", reliability=r)],
        draws=50, chains=2, **FIXED,
    )  # fmt: skip
    idata, _ = sample(ws)
    shift = draws(idata, "theta")[:, 0] - draws(idata, "theta_prior")[:, 0]
    np.testing.assert_allclose(shift, math.log(r * L + 1 - r), atol=1e-9)


def test_credibility_digit_multiplies_reliability_and_digit_1_is_exactly_1():
    ws = workspace(
        [question("q")],
        evidence=[item("E1", "q", 10.0, credibility=1), item("E2", "q", 10.0, credibility=4)],
        sources=[Source("s", "fixed", reliability=0.8)],
        draws=20, chains=2, **FIXED,
    )  # fmt: skip
    idata, _ = sample(ws)
    rho = draws(idata, "rho_item")[0]
    k4 = ws.codebook.credibility[4]
    np.testing.assert_allclose(rho, [0.8, 0.8 * k4])
    w = draws(idata, "w")[0]
    r4 = 0.8 * k4
    np.testing.assert_allclose(w, [math.log(0.8 * 10 + 0.2), math.log(r4 * 10 + 1 - r4)])


def test_reliability_zero_changes_nothing():
    ws = workspace(
        [question("q")],
        statements=[interval("ana", "q", 0.7, 0.5, 0.85)],
        evidence=[item("E1", "q", 30.0), item("E2", "q", 1 / 30)],
        sources=[Source("s", "liar", reliability=0.0)],
        draws=500, chains=2, pooling="direct",  # coding uncertainty on: still nothing moves
    )  # fmt: skip
    idata, _ = sample(ws)
    np.testing.assert_array_equal(draws(idata, "theta"), draws(idata, "theta_prior"))


def test_two_reports_in_one_cluster_move_less_than_two_independent_ones():
    r, L = 0.7, 4.0
    src = [Source("s", "fixed", reliability=r)]
    kw = {"draws": 20, "chains": 2, **FIXED}
    clustered = workspace(
        [question("q")],
        evidence=[item("E1", "q", L, cluster="c"), item("E2", "q", L, cluster="c")],
        sources=src, **kw,
    )  # fmt: skip
    apart = workspace(
        [question("q")], evidence=[item("E1", "q", L), item("E2", "q", L)], sources=src, **kw
    )
    one = workspace([question("q")], evidence=[item("E1", "q", L)], sources=src, **kw)

    def shift(ws):
        idata, _ = sample(ws)
        return float(draws(idata, "theta")[0, 0] - draws(idata, "theta_prior")[0, 0])

    rho_c = 1 - (1 - r) ** 2
    assert shift(clustered) == pytest.approx(math.log(rho_c * L + 1 - rho_c))
    assert shift(apart) == pytest.approx(2 * math.log(r * L + 1 - r))
    assert shift(one) < shift(clustered) < shift(apart)


@given(
    rhos=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6),
    log_lr=st.floats(0.0, 6.0),
)
def test_corroboration_never_counts_twice_and_for_never_lowers(rhos, log_lr):
    rho_c = float(corroborated(np.array(rhos)))
    w_cluster = float(schum_weight(rho_c, log_lr))
    w_each = [float(schum_weight(r, log_lr)) for r in rhos]
    assert w_cluster >= -1e-12  # evidence "for" never lowers the odds
    assert w_cluster <= sum(w_each) + 1e-9  # a cluster moves no more than its items apart
    assert w_cluster >= max(w_each) - 1e-9  # ...and no less than its best item
    assert w_cluster <= log_lr + 1e-9  # nor more than one fully reliable report


def test_evidence_for_never_lowers_a_forecast():
    base = workspace(
        [question("q")],
        statements=[interval("ana", "q", 0.4, 0.2, 0.7)],
        draws=1000, chains=2, pooling="direct",
    )  # fmt: skip
    for strength in (1.5, 4.0, 30.0):
        more = workspace(
            base.questions, statements=base.statements,
            evidence=[item("E1", "q", strength)],
            sources=[Source("s", "graded", grade="D")],
            draws=1000, chains=2, pooling="direct",
        )  # fmt: skip
        idata, _ = sample(more)
        shift = draws(idata, "theta")[:, 0] - draws(idata, "theta_prior")[:, 0]
        assert (shift >= 0).all()  # draw by draw, whatever the coding and reliability


def test_direct_pooling_refuses_two_analysts_on_one_question():
    ws = workspace(
        [question("q")],
        statements=[interval("a", "q", 0.3, 0.1, 0.6), interval("b", "q", 0.5, 0.3, 0.7)],
        pooling="direct",
    )
    with pytest.raises(UsageError, match="hierarchical"):
        model_data(ws)


def test_model_has_named_dims_for_everything():
    ws = workspace(
        [question("q", {"d": 0.5})],
        statements=[interval("a", "q", 0.3, 0.1, 0.6), interval("b", "d", 0.5, 0.3, 0.7)],
        evidence=[item("E1", "q", 4.0), item("E2", "d", 2.0)],
        drivers=["d"],
    )
    model = build_model(ws)
    assert set(model.coords) >= {"question", "driver", "analyst", "source", "evidence", "cluster"}
    assert model.named_vars_to_dims["prob"] == ("question",)
    assert model.named_vars_to_dims["w"] == ("cluster",)
    assert model.named_vars_to_dims["offset"] == ("analyst",)
    assert model.named_vars_to_dims["slope"] == ("analyst",)
    assert list(model.coords["analyst"]) == ["a", "b"]


def test_direct_prior_keeps_the_stated_marginal_when_a_driver_is_added():
    stmt = interval("a", "q", 0.3, 0.1, 0.6)
    ws = workspace(
        [question("q", {"d": 0.8})],
        statements=[stmt, interval("a", "d", 0.6, 0.4, 0.8)],
        drivers=["d"], draws=4000, chains=2, pooling="direct",
    )  # fmt: skip
    idata, _ = sample(ws)
    tp = draws(idata, "theta_prior")[:, 0]
    stated = fit(stmt, ws.codebook)
    assert tp.mean() == pytest.approx(stated.mu, abs=0.03)
    assert tp.std() == pytest.approx(stated.sigma, rel=0.03)


@pytest.mark.parametrize(("la", "lb", "sign"), [(0.9, 0.7, 1), (0.9, -0.7, -1)])
def test_shared_driver_correlates_outcomes_in_the_direction_of_the_loadings(la, lb, sign):
    ws = workspace(
        [question("a", {"d": la}), question("b", {"d": lb})],
        statements=[
            interval("x", "a", 0.5, 0.2, 0.8),
            interval("x", "b", 0.5, 0.2, 0.8),
            interval("x", "d", 0.5, 0.2, 0.8),
        ],
        drivers=["d"], draws=4000, chains=2, pooling="direct",
    )  # fmt: skip
    idata, _ = sample(ws)
    j = joint(idata, "a", "b")
    pa, pb = draws(idata, "prob")[:, 0], draws(idata, "prob")[:, 1]
    se = float(np.std((pa - pa.mean()) * (pb - pb.mean())) / math.sqrt(len(pa)))
    assert sign * (j.p_ab - j.independent) > 4 * se
    assert j.p_a_given_b == pytest.approx(j.p_ab / j.p_b)


def test_same_seed_same_numbers_and_another_seed_other_numbers():
    ws = workspace(
        [question("q"), question("r", outcome="yes")],  # a resolved question: NUTS
        statements=[interval("a", "q", 0.3, 0.1, 0.6), interval("b", "q", 0.5, 0.3, 0.7),
                    interval("a", "r", 0.6, 0.4, 0.8)],
        evidence=[item("E1", "q", 4.0)],
        draws=100, tune=100, chains=2,
    )  # fmt: skip
    first, d1 = sample(ws)
    second, _ = sample(ws)
    assert d1.method == "nuts"
    np.testing.assert_array_equal(draws(first, "theta"), draws(second, "theta"))
    other, _ = sample(workspace(ws.questions, ws.statements, ws.evidence, draws=100, tune=100,
                                chains=2, seed=7))  # fmt: skip
    assert not np.array_equal(draws(first, "theta"), draws(other, "theta"))


def test_direct_pooling_refuses_a_bare_probability():
    from forecast.workspace import Statement

    stmt = Statement("a", "q", "point", p=0.3, path="priors/a.yaml", line=3)
    ws = workspace([question("q")], statements=[stmt], pooling="direct")
    with pytest.raises(UsageError, match=r"priors/a.yaml:3: q: a bare \{p: 0.3\} has no spread"):
        model_data(ws)
