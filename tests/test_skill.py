"""The skill benchmark's oracle pool, against its linear-Gaussian algebra done by hand."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special


@pytest.fixture(scope="module")
def skill():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "skill.py"
    spec = importlib.util.spec_from_file_location("skill_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _record(skill, ps, f, c=None, b=None, noise=None, mu=-0.6, sd=2.2):
    n = len(ps)
    truth = {
        "mu": mu,
        "sd": sd,
        "signals": 10,
        "f": np.asarray(f, dtype=float),
        "c": np.ones(n) if c is None else np.asarray(c, dtype=float),
        "b": np.zeros(n) if b is None else np.asarray(b, dtype=float),
        "noise": np.zeros(n) if noise is None else np.asarray(noise, dtype=float),
        "index": {f"f{j}": j for j in range(n)},
    }
    forecasts = pd.DataFrame({"question": "q0", "forecaster": [f"f{j}" for j in range(n)], "p": ps})
    return skill.Record("sim", forecasts, pd.Series([1], index=["q0"]), [], ["q0"], "", truth)


def _expected_sigmoid(m, v):
    def integrand(x):
        return special.expit(x) * np.exp(-((x - m) ** 2) / (2 * v)) / np.sqrt(2 * np.pi * v)

    return integrate.quad(integrand, m - 12 * np.sqrt(v), m + 12 * np.sqrt(v))[0]


def test_a_forecaster_who_sees_everything_without_noise_is_the_oracle(skill):
    # f = 1: nothing unseen, so the calibrated forecast is the truth's log-odds
    # and the best predictor is the statement itself, with no spread left.
    rec = _record(skill, [0.8], f=[1.0])
    assert skill.oracle(rec, ["q0"])[0] == pytest.approx(0.8, abs=1e-9)


def test_two_half_informed_forecasters_add_up_by_the_overlap_algebra(skill):
    # Each sees half the signals: Var U = sd^2 / 2, Cov(U1, U2) = sd^2 / 4,
    # Cov(theta, U) = sd^2 / 2. Gains g solve [[1/2, 1/4], [1/4, 1/2]] g = [1/2, 1/2]:
    # g = 2/3 each; posterior variance sd^2 (1 - 2 * 2/3 * 1/2) = sd^2 / 3.
    mu, sd = -0.6, 2.2
    ps = [0.7, 0.6]
    # the statements are calibrated forecasts, shrunk by missing half the signals;
    # a lean and confidence factor on top are undone first
    c, b = [1.5, 0.8], [0.3, -0.2]
    shrink = 1.0 / np.sqrt(1.0 + np.pi * sd**2 * 0.5 / 8.0)
    w = (special.logit(ps) - np.array(b)) / np.array(c) / shrink
    m = mu + (2 / 3) * (w.sum() - 2 * mu)
    want = _expected_sigmoid(m, sd**2 / 3)
    rec = _record(skill, ps, f=[0.5, 0.5], c=c, b=b, mu=mu, sd=sd)
    assert skill.oracle(rec, ["q0"])[0] == pytest.approx(want, abs=1e-6)


def test_a_noisy_forecaster_counts_less(skill):
    # Same information, one of them noisy: the pool moves toward the quiet one.
    quiet_yes = _record(skill, [0.8, 0.3], f=[0.5, 0.5], noise=[0.0, 2.0])
    quiet_no = _record(skill, [0.8, 0.3], f=[0.5, 0.5], noise=[2.0, 0.0])
    assert skill.oracle(quiet_yes, ["q0"])[0] > 0.5 > skill.oracle(quiet_no, ["q0"])[0]
