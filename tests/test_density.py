"""The compiled log density of the connected part against PyMC's, and the sampler on it."""

from __future__ import annotations

import numpy as np
import pytest
from factory import interval, item, question, workspace

from forecast import density, nuts
from forecast.model import build_model, model_data
from forecast.partition import connected_data
from forecast.workspace import Settings, Source, Statement

SOURCES = [Source("s", "Fixed", reliability=1.0), Source("g", "Graded", grade="C"),
           Source("h", "Graded, with a record", grade="B", verified=3, refuted=1)]  # fmt: skip


def point(analyst: str, target: str, p: float) -> Statement:
    return Statement(analyst=analyst, target=target, kind="point", p=p)


def resolved_part(pooling="hierarchical", statements=None, coding_sd=0.4, **kw):
    """Three resolved questions, two drivers, graded and fixed sources, shared clusters."""
    if statements is None:
        statements = [
            interval("x", "a", 0.6, 0.4, 0.8), interval("y", "a", 0.7, 0.5, 0.85),
            interval("x", "b", 0.3, 0.1, 0.5), interval("y", "e", 0.6, 0.3, 0.8),
            interval("x", "d", 0.5, 0.3, 0.7), point("z", "b", 0.4), point("z", "f", 0.2),
        ]  # fmt: skip
    ws = workspace(
        [
            question("a", drivers={"d": 0.8}, outcome="yes"),
            question("b", drivers={"d": -0.6, "f": 0.5}, outcome="no"),
            question("c", outcome="yes"),  # nobody states it
            question("e"),  # open: not in the connected part
        ],
        statements=statements,
        evidence=[
            item("E1", "b", 2.0, source="g"), item("E2", "a", 3.0, source="g", cluster="C"),
            item("E3", "a", 3.0, source="h", cluster="C", credibility=2),
            item("E4", "a", 3.0, source="s", cluster="C"), item("E5", "d", 0.5, source="h"),
            item("E6", "c", 0.25, source="g", credibility=3), item("E7", "e", 4.0, source="g"),
            item("E8", "f", 2.0, source="s"),
        ],
        sources=SOURCES, drivers=["d", "f"], pooling=pooling, coding_sd=coding_sd, **kw,
    )  # fmt: skip
    return connected_data(model_data(ws))


def _pymc_point(sub, lay, x):
    """``x`` as PyMC's value variables (their transformed names)."""
    out = {}
    for name, part in lay.slices.items():
        trace = lay.names[name]
        value = x[part][0] if name in density.TEAM else x[part]
        if trace == "theta0+z_prior":
            nq = len(sub.questions)
            out["theta0"], out["z_prior"] = x[part][:nq], x[part][nq:]
        elif name in density._LOG:
            out[f"{trace}_log__"] = value
        elif name in density._LOGODDS:
            out[f"{trace}_logodds__"] = value
        else:
            out[trace] = value
    return out


CASES = {
    "pool": {},
    "pool, bare probabilities only": {"statements": [point("x", "a", 0.6), point("y", "b", 0.3),
                                                     point("y", "d", 0.5)]},  # fmt: skip
    "pool, nothing stated": {"statements": []},
    "direct": {"pooling": "direct", "statements": [
        interval("x", "a", 0.6, 0.4, 0.8), interval("x", "b", 0.3, 0.1, 0.5),
        interval("x", "d", 0.5, 0.3, 0.7)]},  # fmt: skip
    "no coding error": {"coding_sd": 0.0},
}


@pytest.mark.parametrize("case", CASES)
def test_log_density_and_gradient_are_pymcs(case):
    """At random points: the same density up to its constant, the same gradient."""
    sub = resolved_part(**CASES[case])
    lay = density.layout(sub)
    model = build_model(sub)
    logp = model.compile_logp(jacobian=True)
    dlogp = model.compile_dlogp(jacobian=True)
    values = model.value_vars
    assert lay.ndim == sum(int(np.prod(model.initial_point()[v.name].shape)) for v in values)
    ours = density.logp_and_grad(lay)
    rng = np.random.default_rng(7)
    offsets = []
    for _ in range(6):
        x = rng.normal(0.0, 1.5, lay.ndim)
        lp, grad = ours(x)
        pt = _pymc_point(sub, lay, x)
        assert set(pt) == {v.name for v in values}
        offsets.append(float(logp(pt)) - lp)
        # PyMC's gradient, in its order of value variables, laid out as ours
        theirs = np.split(dlogp(pt), np.cumsum([np.size(pt[v.name]) for v in values])[:-1])
        by_name = dict(zip([v.name for v in values], theirs, strict=True))
        expected = np.concatenate([by_name[k] for k in pt])
        np.testing.assert_allclose(grad, expected, rtol=1e-9, atol=1e-10)
    # the constant is the priors' normalising constants: the same at every point
    np.testing.assert_allclose(offsets, offsets[0], rtol=0, atol=1e-9)


def test_the_gradient_is_the_slope_of_the_density():
    """A check that needs no PyMC: central differences along random directions."""
    lay = density.layout(resolved_part())
    f = density.logp_and_grad(lay)
    rng = np.random.default_rng(3)
    for _ in range(5):
        x, v = rng.normal(size=lay.ndim), rng.normal(size=lay.ndim)
        h = 1e-5
        slope = (f(x + h * v)[0] - f(x - h * v)[0]) / (2 * h)
        assert slope == pytest.approx(float(f(x)[1] @ v), rel=1e-6, abs=1e-8)


def test_expand_gives_the_models_variables_on_their_own_scale():
    sub = resolved_part()
    lay = density.layout(sub)
    x = np.zeros((2, 3, lay.ndim))
    x[..., lay.slices["reliability"]] = np.log(3.0)  # odds 3: reliability 3/4
    x[..., lay.slices["offset_spread"]] = np.log(0.5)
    out = density.expand(lay, sub, x)
    assert set(out) == set(nuts_names(sub))
    np.testing.assert_allclose(out["reliability_graded"], 0.75)
    np.testing.assert_allclose(out["offset_spread"], 0.5)
    assert out["offset_spread"].shape == (2, 3)  # a team variable: one value a draw
    assert out["unstated"].shape == (2, 3, 1)  # c, nobody stated


def nuts_names(sub):
    from forecast.partition import nuts_var_names

    return nuts_var_names(sub)


def test_nutpie_draws_are_the_seeds_alone_whatever_the_cores():
    sub = resolved_part()
    settings = Settings(draws=100, tune=100, chains=2, seed=4)
    fast = nuts.samplers()[0]
    assert fast.startswith("nutpie")
    one, stats = nuts.sample(sub, settings, fast, cores=1)
    two, _ = nuts.sample(sub, settings, fast, cores=2)
    for k in one:
        np.testing.assert_array_equal(one[k], two[k])
    assert one["coding"].shape == (2, 100, len(sub.clusters))
    assert set(stats) == set(nuts.NUTS_STATS) and stats["n_steps"].shape == (2, 100)
    other, _ = nuts.sample(sub, Settings(draws=100, tune=100, chains=2, seed=5), fast, cores=1)
    assert not np.array_equal(one["coding"], other["coding"])


def test_without_nutpie_pymc_samples_and_its_draws_are_stored_apart(tmp_path, monkeypatch):
    from forecast import inference

    ws_settings = Settings(draws=60, tune=60, chains=2, seed=4)
    sub = resolved_part()
    fast, _ = inference._connected_draws(sub, ws_settings, None, tmp_path / "a", True)

    def unavailable(*args, **kwargs):
        raise nuts.Unavailable("ImportError: no nutpie here")

    monkeypatch.setattr(nuts, "_nutpie", unavailable)
    slow, stats = inference._connected_draws(sub, ws_settings, None, tmp_path / "b", True)
    (a,), (b,) = (list((tmp_path / f).glob("*.npz")) for f in "ab")
    assert a.name != b.name  # the key names the sampler
    # with nutpie's draws stored, they are found first, nutpie or not
    again, _ = inference._connected_draws(sub, ws_settings, None, tmp_path / "a", True)
    np.testing.assert_array_equal(again["coding"], fast["coding"])
    assert set(slow) == set(fast) and slow["coding"].shape == fast["coding"].shape
    assert not np.array_equal(slow["coding"], fast["coding"])
    assert stats["diverging"].shape == (2, 60)


def test_centred_slopes_are_the_same_posterior_in_other_coordinates():
    """Density in sampler coordinates = model density at to_model(y) + log-Jacobian."""
    sub = resolved_part()
    lay = density.layout(sub, centred=True)
    model_f = density.logp_and_grad(lay)
    sampler_f = density.logp_and_grad(lay, sampler=True)
    rng = np.random.default_rng(5)
    n = len(sub.analysts)
    for _ in range(4):
        y = rng.normal(size=lay.ndim)
        x = density.to_model(lay, y)
        spread = np.exp(y[lay.slices["log_slope_spread"]][0])
        np.testing.assert_allclose(
            x[lay.slices["log_slope_z"]],
            (y[lay.slices["log_slope_z"]] - y[lay.slices["log_slope_mean"]][0]) / spread,
        )
        assert sampler_f(y)[0] == pytest.approx(model_f(x)[0] - n * np.log(spread), abs=1e-9)
        v, h = rng.normal(size=lay.ndim), 1e-5
        slope = (sampler_f(y + h * v)[0] - sampler_f(y - h * v)[0]) / (2 * h)
        assert slope == pytest.approx(float(sampler_f(y)[1] @ v), rel=1e-6, abs=1e-8)
