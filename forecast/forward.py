"""The model's forward part in NumPy: exact draws of what no data inform.

``forecast.model`` builds the joint PyMC model; this module is its NumPy twin,
used for everything NUTS need not touch (see ``docs/model.md``, "How sampling
is partitioned"):

- :func:`free_draws` draws every free variable of the model from its prior,
  except those passed in ``given`` (the NUTS draws of the part the outcomes
  inform). A free variable's draws come from its own random stream, keyed by
  the seed, the variable and the id of what it belongs to (a cluster, a
  source, an analyst's statement on a target), so adding evidence to one
  question leaves every other question's draws as they were.
- :func:`deterministics` computes every reported quantity from the free
  variables, with the same formulas as :func:`forecast.model.build_model`.

Nothing here imports PyMC.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np
from scipy.special import expit

from forecast.codebook import DEFAULT_PRIOR_SD
from forecast.model import POOL_PRIORS, ModelData, unstated_targets

# A free variable's entity: (variable, id). The team's pool parameters have id "".
Key = tuple[str, str]
TEAM = ("offset_mean", "offset_spread", "log_slope_mean", "log_slope_spread", "info_overlap")


def statement_keys(d: ModelData) -> list[str]:
    """One id per statement: ``analyst/target`` (``#n`` appended to a repeat)."""
    seen: dict[str, int] = {}
    keys = []
    for a, t in zip(d.stmt_analyst, d.stmt_target, strict=True):
        key = f"{d.analysts[a]}/{d.targets[t]}"
        seen[key] = seen.get(key, 0) + 1
        keys.append(key if seen[key] == 1 else f"{key}#{seen[key]}")
    return keys


def pooled(d: ModelData) -> bool:
    """Whether the prior is the recalibrating pool (hierarchical, with statements)."""
    return d.pooling == "hierarchical" and len(d.stmt_mu) > 0


def free_entities(d: ModelData) -> dict[str, list[str]]:
    """The free variables of the model of ``d`` and the ids of their entities.

    A target's own prior (a question or driver nobody stated under the pool;
    every target when nobody stated anything or under direct pooling) is
    ``free_prior``.
    """
    out: dict[str, list[str]] = {}
    if pooled(d):
        for name in TEAM:
            if name != "info_overlap" or POOL_PRIORS["overlap_beta"] is not None:
                out[name] = [""]
        out["offset_z"] = list(d.analysts)
        out["log_slope_z"] = list(d.analysts)
        if np.any(d.stmt_sigma > 0):
            out["stated_z"] = statement_keys(d)
        out["free_prior"] = [d.targets[i] for i in unstated_targets(d)]
    else:
        out["free_prior"] = list(d.targets)
    out["reliability"] = [s for s, g in zip(d.sources, d.graded, strict=True) if g]
    if len(d.clusters) and d.coding_sd > 0:
        out["coding"] = list(d.clusters)
    return out


def _stream(seed: int, name: str, key: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}\0{name}\0{key}".encode()).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(digest[:16], "little")))


def _direct_sd(d: ModelData) -> np.ndarray:
    """Prior sd of each target's own part under direct pooling (see build_model)."""
    nq = len(d.questions)
    B = d.loadings
    driver_var = (B**2) @ (d.prior_sigma[nq:] ** 2)
    own_var = np.maximum(d.prior_sigma[:nq] ** 2 - driver_var, d.prior_sigma[:nq] ** 2 / 4)
    return np.concatenate([np.sqrt(own_var), d.prior_sigma[nq:]])


def _prior_parameters(d: ModelData, name: str, keys: list[str]) -> tuple[np.ndarray, ...]:
    """The per-entity parameters of ``name``'s prior for the entities ``keys`` (may be none).

    Computed once per variable: looking each entity up on its own (the target
    index, the direct pooling's prior sd) would cost the number of targets per
    entity, quadratic at scale.
    """
    if name == "free_prior":
        t_index = {t: i for i, t in enumerate(d.targets)}
        t = np.array([t_index[k] for k in keys], dtype=int)
        if d.pooling == "direct":
            return d.prior_mu[t], _direct_sd(d)[t]
        return ()
    if name == "reliability":
        graded = [s for s, g in zip(d.sources, d.graded, strict=True) if g]
        g_index = {s: i for i, s in enumerate(graded)}
        i = np.array([g_index[k] for k in keys], dtype=int)
        return d.beta_a[i], d.beta_b[i]
    return ()


def _draw(
    d: ModelData,
    name: str,
    params: tuple[np.ndarray, ...],
    rng: np.random.Generator,
    size: tuple[int, int],
) -> np.ndarray:
    """Draws of ``name``'s prior, of shape ``size``, entities' parameters ``params``."""
    P = POOL_PRIORS
    if name in ("offset_mean", "log_slope_mean"):
        return rng.normal(0.0, P[f"{name}_sd"], size)
    if name in ("offset_spread", "log_slope_spread"):
        return np.abs(rng.normal(0.0, P[f"{name}_sd"], size))
    if name in ("offset_z", "log_slope_z", "stated_z"):
        return rng.standard_normal(size)
    if name == "info_overlap":
        return rng.beta(*P["overlap_beta"], size)
    if name == "free_prior":
        if params:
            return rng.normal(params[0], params[1], size)
        return rng.normal(0.0, DEFAULT_PRIOR_SD, size)
    if name == "reliability":
        return rng.beta(params[0], params[1], size)
    if name == "coding":
        return rng.normal(-(d.coding_sd**2) / 2, d.coding_sd, size)
    raise KeyError(name)


def prior_draws(
    d: ModelData, name: str, keys: list[str], rng: np.random.Generator, n: int
) -> np.ndarray:
    """``n`` prior draws of ``name`` for the entities ``keys``: shape ``(n, len(keys))``."""
    return _draw(d, name, _prior_parameters(d, name, keys), rng, (n, len(keys)))


def free_draws(
    d: ModelData, seed: int, shape: tuple[int, int], given: Mapping[Key, np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    """Draws of every free variable, shape ``shape + (entities,)`` (team ones: ``shape``).

    ``given`` maps ``(variable, id)`` to draws of shape ``shape`` that are used
    as they are (the NUTS part); every other entity is drawn from its prior,
    from its own stream.
    """
    given = given or {}
    n = shape[0] * shape[1]
    out: dict[str, np.ndarray] = {}
    for name, keys in free_entities(d).items():
        values = np.empty((n, len(keys)))
        params = _prior_parameters(d, name, keys)  # once per variable, sliced per entity
        for j, key in enumerate(keys):
            got = given.get((name, key))
            if got is not None:
                values[:, j] = np.asarray(got, dtype=float).reshape(n)
            else:
                one = tuple(p[j : j + 1] for p in params)
                values[:, j] = _draw(d, name, one, _stream(seed, name, key), (n, 1))[:, 0]
        values = values.reshape(shape + (len(keys),))
        out[name] = values[..., 0] if name in TEAM else values
    return out


SCATTER_CHUNK = 1 << 22  # values summed at once (memory: a sorted copy of this many)


def _scatter_sum(values: np.ndarray, index: np.ndarray, size: int) -> np.ndarray:
    """``out[..., k] = sum of values[..., j] with index[j] == k`` over the last axis.

    Rows (draws) a chunk at a time: the sorted copy of ``values`` the sums need
    would otherwise be as large as ``values``.
    """
    out = np.zeros(values.shape[:-1] + (size,))
    if values.shape[-1] == 0:
        return out
    order = np.argsort(index, kind="stable")
    idx = index[order]
    starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
    rows = values.reshape(-1, values.shape[-1])
    sums = out.reshape(-1, size)
    step = max(1, SCATTER_CHUNK // values.shape[-1])
    at = idx[starts]
    for r in range(0, len(rows), step):
        sums[r : r + step, at] = np.add.reduceat(rows[r : r + step, order], starts, axis=-1)
    return out


CLUSTER_CHUNK = 1 << 23  # draws of one per-cluster quantity worked on at once (64 MB)


def cluster_chunks(d: ModelData, shape: tuple[int, int]) -> list[tuple[int, int]]:
    """Ranges of cluster indices, each about :data:`CLUSTER_CHUNK` draws of a quantity."""
    step = max(1, CLUSTER_CHUNK // (shape[0] * shape[1]))
    return [(lo, min(lo + step, len(d.clusters))) for lo in range(0, len(d.clusters), step)]


def cluster_weights(
    d: ModelData, free: Mapping[str, np.ndarray], reliability: np.ndarray, lo: int, hi: int
) -> tuple[np.ndarray, ...]:
    """``(items, lam, rho_item, rho, w)`` of the clusters ``lo..hi-1`` and their items.

    ``items`` are the indices of those clusters' items (evidence order),
    ``reliability`` every source's draws. All clusters at once give the
    arrays of the whole posterior.
    """
    shape = reliability.shape[:-1]
    items = np.flatnonzero((d.item_cluster >= lo) & (d.item_cluster < hi))
    # in place where a temporary would be as large as the result: at scale these
    # (draws x clusters) arrays are most of a run's memory
    if d.coding_sd > 0:
        lam = np.exp(free["coding"][..., lo:hi])
        lam *= d.cluster_log_lr[lo:hi]
    else:
        lam = np.broadcast_to(d.cluster_log_lr[lo:hi], shape + (hi - lo,)).copy()
    rho_item = reliability[..., d.item_source[items]]
    rho_item *= d.item_k[items]
    # 1 - prod(1 - rho_e) over a cluster's items, as a sum of logs: no padded
    # (cluster x widest cluster) array, which a large cluster would make huge
    logs = np.negative(rho_item)
    with np.errstate(divide="ignore"):  # rho_e = 1 gives log 0 = -inf, exp(-inf) = 0
        np.log1p(logs, out=logs)
    rho = _scatter_sum(logs, d.item_cluster[items] - lo, hi - lo)
    del logs
    np.expm1(rho, out=rho)
    np.negative(rho, out=rho)
    w = np.expm1(lam)
    w *= rho
    np.log1p(w, out=w)
    return items, lam, rho_item, rho, w


def deterministics(
    d: ModelData, free: Mapping[str, np.ndarray], per_item: bool = True
) -> dict[str, np.ndarray]:
    """Every variable of the model's trace from its free variables (NumPy twin of build_model).

    Returns the free variables under the model's names too (``unstated``,
    ``theta0``, ``reliability_graded``, ...), so the result is the whole
    posterior of the model. ``per_item=False`` leaves out the quantities with
    one value per cluster or item (``coding``, ``lam``, ``rho_item``, ``rho``,
    ``w``), working through the clusters a chunk at a time, so their draws are
    never held whole (:func:`cluster_weights` gives them a chunk at a time).
    """
    nq, nd = len(d.questions), len(d.drivers)
    nt = nq + nd
    B = d.loadings
    any_free = next(iter(free.values()))
    shape = any_free.shape[:2]
    out: dict[str, np.ndarray] = {}

    if pooled(d):
        for name in TEAM + ("offset_z", "log_slope_z"):
            if name in free:
                out[name] = free[name]
        offset = (
            free["offset_mean"][..., None] + free["offset_spread"][..., None] * free["offset_z"]
        )
        log_slope = (
            free["log_slope_mean"][..., None]
            + free["log_slope_spread"][..., None] * free["log_slope_z"]
        )
        slope = np.exp(log_slope)
        out["offset"], out["slope"] = offset, slope
        out["slope_mean"] = np.exp(free["log_slope_mean"])
        a, t = d.stmt_analyst, d.stmt_target
        count = np.bincount(t, minlength=nt)
        weight = 1.0 / count[t]
        # the slope part extremized by the analysts' effective number (model._effective_number)
        factor = 1.0
        if "info_overlap" in free:
            n = count[t].astype(float)
            factor = n / (1.0 + (n - 1.0) * free["info_overlap"][..., None])
        centre = (offset[..., a] + factor * slope[..., a] * d.stmt_mu) * weight
        prior = _scatter_sum(centre, t, nt)
        spread = np.zeros(shape + (nt,))
        if "stated_z" in free:
            out["stated_z"] = free["stated_z"]
            spread = _scatter_sum(
                factor * slope[..., a] * d.stmt_sigma * free["stated_z"] * weight, t, nt
            )
        unstated = unstated_targets(d)
        if len(unstated):
            out["unstated"] = free["free_prior"]
            prior[..., unstated] = 0.0
            spread[..., unstated] = free["free_prior"]
        prior = prior + spread
        theta0, z0 = prior[..., :nq], prior[..., nq:]
        theta_prior = theta0 + spread[..., nq:] @ B.T
    else:
        theta0, z0 = free["free_prior"][..., :nq], free["free_prior"][..., nq:]
        theta_prior = theta0 + (z0 - d.driver_centre) @ B.T
    out["theta0"], out["z_prior"] = theta0, z0

    reliability = np.broadcast_to(np.nan_to_num(d.fixed_reliability), shape + (len(d.sources),))
    reliability = np.array(reliability)
    if "reliability" in free and free["reliability"].shape[-1]:
        out["reliability_graded"] = free["reliability"]
        reliability[..., np.flatnonzero(d.graded)] = free["reliability"]
    out["reliability"] = reliability

    if len(d.clusters) and per_item:
        if d.coding_sd > 0:
            out["coding"] = free["coding"]
        _, lam, rho_item, rho, w = cluster_weights(d, free, reliability, 0, len(d.clusters))
        out["lam"], out["rho_item"], out["rho"], out["w"] = lam, rho_item, rho, w
        pushed = _scatter_sum(w, d.cluster_target, nt)
        push_q, push_d = pushed[..., :nq], pushed[..., nq:]
    elif len(d.clusters):  # a chunk of clusters at a time, only their sums kept
        pushed = np.zeros(shape + (nt,))
        for lo, hi in cluster_chunks(d, shape):
            w = cluster_weights(d, free, reliability, lo, hi)[-1]
            pushed += _scatter_sum(w, d.cluster_target[lo:hi], nt)
        push_q, push_d = pushed[..., :nq], pushed[..., nq:]
    else:
        push_q, push_d = np.zeros(shape + (nq,)), np.zeros(shape + (nd,))

    out["z"] = z0 + push_d
    out["theta_prior"] = theta_prior
    theta = theta_prior + push_q + push_d @ B.T
    out["theta"] = theta
    out["prob_prior"] = expit(theta_prior)
    out["prob"] = expit(theta)
    return out


def dims(d: ModelData) -> dict[str, tuple[str, list]]:
    """Each trace variable's entity dim and coords (team-level ones have none)."""
    question, driver = ("question", list(d.questions)), ("driver", list(d.drivers))
    analyst = ("analyst", list(d.analysts))
    graded = [s for s, g in zip(d.sources, d.graded, strict=True) if g]
    cluster = ("cluster", list(d.clusters))
    return {
        "offset_z": analyst,
        "log_slope_z": analyst,
        "offset": analyst,
        "slope": analyst,
        "stated_z": ("statement", list(range(len(d.stmt_mu)))),
        "unstated": ("unstated_target", [d.targets[i] for i in unstated_targets(d)]),
        "reliability_graded": ("graded_source", graded),
        "reliability": ("source", list(d.sources)),
        "coding": cluster,
        "lam": cluster,
        "rho": cluster,
        "w": cluster,
        "rho_item": ("evidence", list(d.evidence)),
        "theta0": question,
        "theta_prior": question,
        "theta": question,
        "prob_prior": question,
        "prob": question,
        "z_prior": driver,
        "z": driver,
    }
