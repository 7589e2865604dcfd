"""Sampling partitioned: NUTS on what the outcomes inform, exact NumPy draws for the rest."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from factory import interval, item, question, workspace

from forecast import forward, inference
from forecast.forward import deterministics, free_draws, free_entities
from forecast.inference import sample
from forecast.model import build_model, model_data
from forecast.partition import connected_data
from forecast.workspace import Source

SOURCES = [Source("s", "Fixed", reliability=1.0), Source("g", "Graded", grade="C")]


def summit(resolved: bool, extra=(), **settings):
    """Four questions, one driver, two analysts, a graded source; ``resolved``: two outcomes."""
    return workspace(
        [
            question("a", drivers={"d": 0.8}, outcome="yes" if resolved else None),
            question("b", drivers={"d": -0.6}),
            question("c"),  # nobody states it
            question("e", outcome="no" if resolved else None),
        ],
        statements=[
            interval("x", "a", 0.6, 0.4, 0.8), interval("y", "a", 0.7, 0.5, 0.85),
            interval("x", "b", 0.3, 0.1, 0.5), interval("y", "e", 0.6, 0.3, 0.8),
            interval("x", "d", 0.5, 0.3, 0.7),
        ],
        evidence=[
            item("E1", "b", 2.0, source="g"), item("E2", "a", 3.0, source="g"),
            item("E3", "d", 0.5), item("E4", "c", 4.0, source="g"),
            item("E5", "c", 4.0, source="s", cluster="E4"), item("E6", "e", 3.0, source="g"),
            *extra,
        ],
        sources=SOURCES, drivers=["d"], **settings,
    )  # fmt: skip


def test_a_question_nobody_stated_builds_under_the_pool():
    ws = summit(resolved=True)
    model = build_model(ws)
    assert "unstated" in model.named_vars
    assert model.named_vars_to_dims["unstated"] == ("unstated_target",)
    assert list(model.coords["unstated_target"]) == ["c"]


def test_the_connected_part_is_the_resolved_questions_their_drivers_and_evidence():
    d = model_data(summit(resolved=True))
    sub = connected_data(d)
    assert sub.questions == ("a", "e") and sub.drivers == ("d",)
    assert sub.clusters == ("E2", "E3", "E6")  # not E1 (on b) nor E4 (on c)
    assert sub.sources == ("s", "g") and list(sub.graded) == [False, True]
    assert sorted(sub.targets[t] for t in sub.stmt_target) == ["a", "a", "d", "e"]
    assert list(sub.outcomes) == [1, 0]
    assert connected_data(model_data(summit(resolved=False))) is None


def test_numpy_forward_part_is_the_pymc_models_arithmetic():
    """Given the same free values, the NumPy twin computes every variable as the model does."""
    import pytensor

    d = model_data(summit(resolved=True))
    model = build_model(d)
    free = free_draws(d, seed=3, shape=(1, 5))
    ours = deterministics(d, free)
    rvs = list(model.free_RVs)
    inputs = [rv.type() for rv in rvs]
    outs = [model.named_vars[n] for n in ("prob", "prob_prior", "w", "z", "rho", "theta0")]
    fn = pytensor.function(inputs, outs, givens=list(zip(rvs, inputs, strict=True)))
    for k in range(5):
        values = [np.asarray(ours[rv.name][0, k], dtype=rv.dtype) for rv in rvs]
        for name, got in zip(("prob", "prob_prior", "w", "z", "rho", "theta0"), fn(*values),
                             strict=True):  # fmt: skip
            np.testing.assert_allclose(ours[name][0, k], got, rtol=1e-10, atol=1e-12)
    assert set(ours) >= {rv.name for rv in rvs} | {v.name for v in model.deterministics}


def test_forward_draws_need_no_pymc_and_keep_untouched_draws():
    """Nothing resolved: exact NumPy draws; evidence on one question moves only that one."""
    sys.modules.pop("pymc", None)
    ws = summit(resolved=False, draws=200, chains=2)
    first, diag = sample(ws)
    more = item("E9", "b", 5.0, source="g")
    second, _ = sample(summit(resolved=False, extra=[more], draws=200, chains=2))
    assert diag.method == "forward"
    assert "pymc" not in sys.modules
    np.testing.assert_array_equal(first.posterior["prob_prior"], second.posterior["prob_prior"])
    for q in ("a", "c", "e"):  # b alone got the new item
        np.testing.assert_array_equal(first.posterior["prob"].sel(question=q),
                                      second.posterior["prob"].sel(question=q))  # fmt: skip
    # the new item "for" b raised b in every draw
    assert bool((second.posterior["prob"].sel(question="b")
                 > first.posterior["prob"].sel(question="b")).all())  # fmt: skip


def _entity_by_entity(d, seed, shape, given):
    """Each entity's draws as its own prior, from its own stream, one entity at a time."""
    n = shape[0] * shape[1]
    out = {}
    for name, keys in free_entities(d).items():
        cols = [
            given[(name, key)].reshape(n, 1) if (name, key) in given
            else forward.prior_draws(d, name, [key], forward._stream(seed, name, key), n)
            for key in keys
        ]  # fmt: skip
        values = np.concatenate(cols, axis=1) if cols else np.empty((n, 0))
        out[name] = values.reshape(shape + (len(keys),))
    return out


@pytest.mark.parametrize("pooling", ["hierarchical", "direct"])
def test_free_draws_are_each_entitys_own_stream(pooling):
    """The per-variable parameters computed once give the draws entity-by-entity lookups gave."""
    from forecast.workspace import load_workspace

    if pooling == "hierarchical":
        d = model_data(load_workspace(Path(__file__).resolve().parents[1]))
    else:  # one statement a target, drivers, graded sources, some targets nobody states
        targets = [f"q{i}" for i in range(12)] + ["d1", "d2"]
        ws = workspace(
            [question(t, drivers={"d1": 0.5, "d2": -0.3}) for t in targets[:12]],
            statements=[interval("x", t, 0.3 + 0.03 * i, 0.1, 0.8)
                        for i, t in enumerate(targets) if i % 3],
            evidence=[item(f"E{i}", targets[i % 14], 2.0, source="g" if i % 2 else "h")
                      for i in range(20)],
            sources=[Source("g", "Graded", grade="C"), Source("h", "Other", grade="E")],
            drivers=["d1", "d2"], pooling="direct",
        )  # fmt: skip
        d = model_data(ws)
        assert d.pooling == "direct"
    shape = (2, 7)
    entities = free_entities(d)
    name = "free_prior" if pooling == "direct" else "offset_z"
    given = {(name, entities[name][1]): np.arange(14.0).reshape(shape)}
    ours = free_draws(d, 11, shape, given)
    reference = _entity_by_entity(d, 11, shape, given)
    assert set(ours) == set(reference)
    for key in ours:
        want = reference[key][..., 0] if key in forward.TEAM else reference[key]
        np.testing.assert_array_equal(ours[key], want)
    assert ours[name][..., 1].tolist() == given[(name, entities[name][1])].tolist()
    if pooling == "direct":  # every target drawn around its own stated centre
        assert len(entities["free_prior"]) == 14 and len(entities["reliability"]) == 2


def test_evidence_on_an_open_question_reuses_the_nuts_draws(tmp_path, monkeypatch):
    ws = summit(resolved=True, draws=100, tune=100, chains=2)
    first, diag = sample(ws, cache_dir=tmp_path)
    assert diag.method == "nuts" and len(list(tmp_path.glob("*.npz"))) == 1
    # weights checked for convergence: those with a NUTS-sampled coding error (E2, E3,
    # E6) or an item from the NUTS-sampled graded source g (E1, E2, E4 through E4, E6)
    given = {("coding", "E2"): 0, ("coding", "E3"): 0, ("coding", "E6"): 0,
             ("reliability", "g"): 0, ("offset_mean", ""): 0}  # fmt: skip
    checked = inference._clusters_on_nuts(model_data(ws), given)
    assert checked == ["E1", "E2", "E3", "E4", "E6"]

    def no_nuts(*args, **kwargs):
        raise AssertionError("NUTS ran again")

    monkeypatch.setattr(inference, "_nuts", no_nuts)
    more = item("E9", "b", 5.0, source="g")  # b is open
    second, _ = sample(summit(resolved=True, extra=[more], draws=100, tune=100, chains=2),
                       cache_dir=tmp_path)  # fmt: skip
    np.testing.assert_array_equal(first.posterior["prob_prior"], second.posterior["prob_prior"])
    np.testing.assert_array_equal(first.posterior["prob"].sel(question="a"),
                                  second.posterior["prob"].sel(question="a"))  # fmt: skip
    assert not np.array_equal(first.posterior["prob"].sel(question="b"),
                              second.posterior["prob"].sel(question="b"))  # fmt: skip
    # evidence on a resolved question changes the connected part: NUTS again
    on_resolved = item("E9", "e", 5.0, source="g")
    with pytest.raises(AssertionError, match="NUTS ran again"):
        sample(summit(resolved=True, extra=[on_resolved], draws=100, tune=100, chains=2),
               cache_dir=tmp_path)  # fmt: skip


def test_a_damaged_cache_file_is_sampled_anew(tmp_path):
    ws = summit(resolved=True, draws=50, tune=50, chains=2)
    first, _ = sample(ws, cache_dir=tmp_path)
    (cached,) = tmp_path.glob("*.npz")
    cached.write_bytes(b"not an npz")
    second, _ = sample(ws, cache_dir=tmp_path)
    np.testing.assert_array_equal(first.posterior["prob"], second.posterior["prob"])
    assert cached.read_bytes() != b"not an npz"


def _full_joint(ws):
    """NUTS on the whole model at once, the reference the partition must agree with."""
    import pymc as pm

    s = ws.settings
    with build_model(ws), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pm.sample(draws=s.draws, tune=s.tune, chains=s.chains, cores=1,
                         random_seed=11, target_accept=0.95, progressbar=False,
                         compute_convergence_checks=False)  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("resolved", [False, True])
def test_partitioned_draws_have_the_full_joints_distribution(resolved):
    import arviz as az

    ws = summit(resolved=resolved, draws=1000, tune=1000, chains=4)
    ours, _ = sample(ws)
    full = _full_joint(ws)
    worst = 0.0
    for q in ws.questions:
        a = np.asarray(ours.posterior["prob"].sel(question=q.id))  # (chain, draw)
        b = np.asarray(full.posterior["prob"].sel(question=q.id))
        for stat, prob in (("mean", None), ("quantile", 0.05), ("quantile", 0.95)):
            kw = {"method": stat} | ({"prob": prob} if prob else {})
            se = np.hypot(*(float(az.mcse(az.convert_to_dataset(x), **kw)["x"]) for x in (a, b)))
            if prob is None:
                diff = float(a.mean() - b.mean())
            else:
                diff = float(np.quantile(a, prob) - np.quantile(b, prob))
            worst = max(worst, abs(diff) / se)
    assert worst < 4.0, f"largest z-score {worst:.1f}"
    if resolved:
        # Bayes' rule on exact prior draws (the same workspace, nothing resolved):
        # weighting each draw by its likelihood P(a = yes) P(e = no) gives the
        # posterior means, a reference that involves no MCMC at all
        prior, _ = sample(summit(resolved=False, draws=1000, chains=4))
        pa, pe = (np.asarray(prior.posterior["prob"].sel(question=q)).ravel() for q in "ae")
        weight = pa * (1 - pe)
        weight /= weight.sum()
        for q in ws.questions:
            p = np.asarray(prior.posterior["prob"].sel(question=q.id)).ravel()
            now = np.asarray(ours.posterior["prob"].sel(question=q.id))
            bayes = float(weight @ p)
            se_bayes = float(np.sqrt(np.sum(weight**2 * (p - bayes) ** 2)))
            se_ours = float(az.mcse(az.convert_to_dataset(now), method="mean")["x"])
            assert abs(now.mean() - bayes) < 4 * np.hypot(se_bayes, se_ours), q.id
        # and the outcomes moved what they bear on (e resolved no, from about 73 %)
        e_now = float(ours.posterior["prob"].sel(question="e").mean())
        assert e_now < float(pe.mean()) - 0.05
