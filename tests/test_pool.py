"""Hierarchical pooling: what the pool does with and without a track record."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest

from forecast.elicit import logit, sigmoid
from forecast.inference import sample
from forecast.workspace import Analyst, Question, Resolution, Settings, Statement, Workspace


def point_workspace(stated: np.ndarray, outcomes=None, **settings) -> Workspace:
    """Analyst a states probability ``sigmoid(stated[a, q])`` on question q, bare."""
    n_a, n_q = stated.shape
    questions = tuple(
        Question(
            f"q{q}",
            f"q{q}",
            MappingProxyType({}),
            resolution=None
            if outcomes is None or outcomes[q] is None
            else Resolution("yes" if outcomes[q] else "no"),
        )
        for q in range(n_q)
    )
    analysts = tuple(
        Analyst(
            f"a{a}",
            f"a{a}",
            tuple(
                Statement(f"a{a}", f"q{q}", "point", p=sigmoid(float(stated[a, q])))
                for q in range(n_q)
            ),
        )
        for a in range(n_a)
    )
    return Workspace(Path("."), questions, (), analysts, (), (), Settings(**settings))


def test_without_outcomes_the_pool_is_the_mean_log_odds_times_the_effective_number():
    # three analysts, six open questions: the shipped workspace's shape.
    # Nothing is observed, so the draws are exact (forward).
    stated = logit_matrix([[0.45, 0.7, 0.2, 0.45, 0.1, 0.4], [0.15, 0.5, 0.33, 0.25, 0.3, 0.05],
                           [0.3, 0.6, 0.25, 0.35, 0.2, 0.2]])  # fmt: skip
    idata, diag = sample(point_workspace(stated, draws=2000, chains=2))
    assert diag.method == "forward" and diag.ok
    post = idata.posterior
    theta = post["theta"].values.reshape(-1, 6)
    offset = post["offset"].values.reshape(-1, 3)
    slope = post["slope"].values.reshape(-1, 3)
    rho = post["info_overlap"].values.reshape(-1)
    # draw by draw: the mean offset plus 3 / (1 + 2 rho) times the mean of the
    # analysts' rescaled log-odds
    factor = 3 / (1 + 2 * rho)
    by_hand = offset.mean(1)[:, None] + factor[:, None] * (slope @ stated) / 3
    np.testing.assert_allclose(theta, by_hand, atol=1e-9)
    # rho ~ Beta(4, 1) has CDF rho^4, so its median is 0.5^(1/4) = 0.8409 and
    # the factor's median 3 / (1 + 2 * 0.8409) = 1.1187; between 1 and 3 always
    assert np.median(factor) == pytest.approx(1.1187, abs=0.01)
    assert factor.min() >= 1 and factor.max() <= 3
    # the pooled log-odds are centred near the mean log-odds, extremized a
    # little: the prior offsets are centred on 0, log-slopes on 0
    centre = np.median(theta, 0)
    assert np.all(np.abs(centre) > np.abs(stated.mean(0)))
    # and their distribution is the team prior's, written out here on its own:
    # 200,000 independent draws of the generative model, against the 4,000 drawn
    rng = np.random.default_rng(7)
    n = 200_000
    off = rng.normal(0, 0.3, (n, 1)) + np.abs(rng.normal(0, 0.5, (n, 1))) * rng.normal(0, 1, (n, 3))
    log_slope = rng.normal(0, 0.3, (n, 1)) + np.abs(rng.normal(0, 0.2, (n, 1))) * rng.normal(
        0, 1, (n, 3)
    )
    k = 3 / (1 + 2 * rng.beta(4, 1, n))
    ref = off.mean(1)[:, None] + k[:, None] * (np.exp(log_slope) @ stated) / 3
    for q in range(6):  # medians within 4 Monte Carlo standard errors
        se = np.std(theta[:, q]) * np.sqrt(np.pi / 2 / len(theta))
        assert abs(centre[q] - np.median(ref[:, q])) < 4 * se, q
    for level in (5, 95):
        np.testing.assert_allclose(
            np.percentile(theta, level, 0), np.percentile(ref, level, 0), atol=0.12
        )


def test_one_analyst_is_recalibrated_but_not_extremized():
    stated = logit_matrix([[0.2, 0.9]])
    idata, _ = sample(point_workspace(stated, draws=200, chains=2))
    post = idata.posterior
    theta = post["theta"].values.reshape(-1, 2)
    offset = post["offset"].values.reshape(-1, 1)
    slope = post["slope"].values.reshape(-1, 1)
    np.testing.assert_allclose(theta, offset + slope * stated, atol=1e-9)


@pytest.mark.slow
def test_the_track_record_sets_the_extremizing_not_a_fixed_prior():
    # Under-confident analysts: each states half the true log-odds, plus
    # noise. 300 resolved questions should teach slopes near 2, i.e.
    # extremize the average by about 2 (the prior is centred on 1).
    rng = np.random.default_rng(5)
    n, true_c = 300, 0.5
    truth = rng.normal(-0.5, 2.0, n)
    outcomes = (rng.random(n) < sigmoid_(truth)).astype(int)
    stated = true_c * truth[None, :] + rng.normal(0, 0.3, (3, n))
    idata, diag = sample(point_workspace(stated, list(outcomes), draws=500, tune=500, chains=2))
    assert diag.method == "nuts" and diag.divergences == 0
    # the extremizing of the average: the analysts' slopes, averaged, times
    # the effective number of 3 analysts, 3 / (1 + 2 rho). The priors (slope
    # centred on 1, rho on 0.84) pull it below 2, the record clearly above 1
    post = idata.posterior
    slope = post["slope"].mean("analyst").values.ravel()
    total = slope * 3 / (1 + 2 * post["info_overlap"].values.ravel())
    assert 1.4 < total.mean() < 2.6
    assert (total > 1.15).mean() > 0.95


@pytest.mark.slow
def test_simulation_based_calibration_small():
    # Worlds drawn from the model's own prior; 90 % intervals of prob must
    # hold the simulated truth about 90 % of the time. 16 rounds x 6
    # questions = 96 intervals: binomial sd 0.031, tolerance 3 sd.
    spec = importlib.util.spec_from_file_location(
        "sbc", Path(__file__).resolve().parents[1] / "benchmarks" / "sbc.py"
    )
    sbc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sbc)
    settings = {"draws": 400, "tune": 400, "chains": 2, "seed": 3}
    hits = [sbc.one_round(1000 + r, 6, 3, 3, settings)[0] for r in range(16)]
    coverage = np.concatenate(hits).mean()
    sd = np.sqrt(0.9 * 0.1 / 96)
    assert 0.9 - 3 * sd < coverage < 0.9 + 3 * sd


def logit_matrix(rows) -> np.ndarray:
    return np.array([[logit(p) for p in row] for row in rows])


def sigmoid_(x):
    return 1 / (1 + np.exp(-np.asarray(x)))
