"""R-hat and ESS in NumPy (forecast.diagnostics) against ArviZ's, and the run's checks."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
from factory import interval, item, question, workspace

from forecast import diagnostics as dg

RNG = np.random.default_rng(20261123)


def _ar1(chains: int, n: int, k: int, phi: float) -> np.ndarray:
    x = np.zeros((chains, n, k))
    e = RNG.standard_normal((chains, n, k))
    for t in range(1, n):
        x[:, t] = phi * x[:, t - 1] + e[:, t]
    return x


def _with_nan() -> np.ndarray:
    x = RNG.standard_normal((4, 80, 5))
    x[1, 3, 2] = np.nan
    return x


CASES = {
    "independent": RNG.standard_normal((4, 100, 40)),
    "autocorrelated": _ar1(4, 200, 20, 0.9),
    "very autocorrelated": _ar1(4, 300, 8, 0.99),
    "antithetic": _ar1(4, 101, 20, -0.7),  # odd length: the middle draw is left out
    "chains apart": RNG.standard_normal((4, 100, 5)) + np.arange(4)[:, None, None],
    "ties": np.round(RNG.standard_normal((4, 60, 20)), 1),
    "saturated probabilities": 1 / (1 + np.exp(-RNG.normal(30, 5, (4, 100, 10)))),
    "constant": np.ones((4, 50, 3)),
    "one chain": _ar1(1, 100, 5, 0.5),
    "four draws": RNG.standard_normal((2, 4, 6)),
    "seven draws": _ar1(3, 7, 6, 0.6),
    "three values": RNG.integers(0, 3, (4, 100, 8)).astype(float),
    "a nan": _with_nan(),
}


@pytest.mark.parametrize("case", list(CASES))
def test_rhat_and_ess_agree_with_arviz(case):
    import arviz as az

    x = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = az.convert_to_dataset({"v": x})
        want = (
            az.rhat(ds)["v"].values,
            az.ess(ds, method="bulk")["v"].values,
            az.ess(ds, method="tail")["v"].values,
        )
    got = dg.convergence(x)
    for name, w, g, one in zip(
        ("rhat", "bulk", "tail"), want, got, (dg.rhat(x), dg.ess_bulk(x), dg.ess_tail(x)),
        strict=True,
    ):  # fmt: skip
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=0, equal_nan=True, err_msg=name)
        np.testing.assert_array_equal(one, g, err_msg=name)


def test_the_estimators_say_what_they_should():
    """Independent draws: ESS near the number of draws, R-hat near 1; chains apart: R-hat > 1."""
    rhat, bulk, tail = dg.convergence(CASES["independent"])
    assert np.all(np.abs(rhat - 1) < 0.05) and 330 < float(np.median(bulk)) < 470
    assert np.all(bulk > 150) and np.all(tail > 100)
    assert np.all(dg.rhat(CASES["chains apart"]) > 1.5)
    # AR(1) with phi = 0.9: ESS about n (1 - phi) / (1 + phi) = 800 / 19, about 42
    assert 15 < float(np.median(dg.ess_bulk(CASES["autocorrelated"]))) < 100
    rhat, bulk, tail = dg.convergence(CASES["constant"])
    assert np.isnan(rhat).all() and (bulk == 200).all() and (tail == 200).all()


def test_a_forward_run_imports_no_arviz(monkeypatch):
    """Nothing resolved: drawn, checked, stored and tabulated without ArviZ or PyMC."""
    from forecast.inference import sample
    from forecast.posterior import forecast_table

    # out of sys.modules for this test only (monkeypatch puts them back): imported
    # again in the same process, PyMC would register its rewrites a second time
    for name in [m for m in sys.modules if m.split(".")[0] in ("arviz", "pymc")]:
        monkeypatch.delitem(sys.modules, name)
    ws = workspace(
        [question("a"), question("b")],
        statements=[interval("x", "a", 0.6, 0.4, 0.8), interval("x", "b", 0.3, 0.1, 0.5)],
        evidence=[item("E1", "a", 3.0), item("E2", "b", 0.5)],
        draws=300, chains=2,
    )  # fmt: skip
    trace, diag = sample(ws)
    table = forecast_table(trace, ws)
    assert "arviz" not in sys.modules and "pymc" not in sys.modules
    assert diag.method == "forward" and diag.ok
    # the summary holds each question's checks, from the same draws
    rhat, bulk, tail = dg.convergence(np.asarray(trace.posterior["prob"].values))
    np.testing.assert_array_equal(table["rhat"], rhat)
    np.testing.assert_array_equal(table["ess_bulk"], bulk)
    assert diag.max_rhat >= float(rhat.max()) and diag.min_ess_tail <= float(tail.min())
