"""Which part of the model the outcomes inform, as a model of its own.

Resolved questions are the model's only observed data. A free variable that
neither enters a resolved question's log-odds nor shares a prior with one
that does keeps its prior in the posterior, given everything else; so the
posterior factorises into the *connected* part (sampled by NUTS) and the
rest (drawn forward, exactly, by ``forecast.forward``, given the connected
draws). The connected part is:

- the resolved questions, the drivers they load on, and every statement on
  one of these targets (under the pool, with the team's pool parameters and
  the offsets and slopes of the analysts who made them);
- the evidence clusters bearing on one of these targets, and the sources of
  their items.

:func:`connected_data` returns it as a ``ModelData`` of its own, so
``build_model`` builds its PyMC model, and its content (:func:`content_key`)
identifies the NUTS draws for the cache.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields, replace

import numpy as np

from forecast.forward import TEAM, Key, free_entities
from forecast.model import POOL_PRIORS, ModelData


def connected_data(d: ModelData) -> ModelData | None:
    """The part of ``d`` its resolved questions inform; None when nothing is resolved."""
    if not len(d.resolved):
        return None
    nq = len(d.questions)
    res = np.asarray(d.resolved, dtype=int)
    drivers = np.flatnonzero(np.any(d.loadings[res] != 0, axis=0))
    targets = np.concatenate([res, nq + drivers])
    t_new = {int(t): i for i, t in enumerate(targets)}

    stmts = np.flatnonzero(np.isin(d.stmt_target, targets))
    analysts = np.unique(d.stmt_analyst[stmts])
    a_new = {int(a): i for i, a in enumerate(analysts)}

    clusters = np.flatnonzero(np.isin(d.cluster_target, targets))
    c_new = {int(c): i for i, c in enumerate(clusters)}
    items = np.flatnonzero(np.isin(d.item_cluster, clusters))
    e_new = {int(e): i for i, e in enumerate(items)}
    sources = np.unique(d.item_source[items])
    s_new = {int(s): i for i, s in enumerate(sources)}
    graded_index = np.cumsum(d.graded) - 1  # source -> index among graded sources
    graded_kept = [int(graded_index[s]) for s in sources if d.graded[s]]

    pad = len(d.evidence)
    members = [[e_new[int(e)] for e in d.cluster_items[c] if e != pad] for c in clusters]
    width = max((len(m) for m in members), default=1)
    cluster_items = np.full((len(clusters), width), len(items), dtype=int)
    for j, m in enumerate(members):
        cluster_items[j, : len(m)] = m

    return replace(
        d,
        questions=tuple(d.questions[i] for i in res),
        drivers=tuple(d.drivers[j] for j in drivers),
        analysts=tuple(d.analysts[a] for a in analysts),
        sources=tuple(d.sources[s] for s in sources),
        evidence=tuple(d.evidence[e] for e in items),
        clusters=tuple(d.clusters[c] for c in clusters),
        stmt_analyst=np.array([a_new[int(a)] for a in d.stmt_analyst[stmts]], dtype=int),
        stmt_target=np.array([t_new[int(t)] for t in d.stmt_target[stmts]], dtype=int),
        stmt_mu=d.stmt_mu[stmts],
        stmt_sigma=d.stmt_sigma[stmts],
        prior_mu=d.prior_mu[targets],
        prior_sigma=d.prior_sigma[targets],
        driver_centre=d.driver_centre[drivers],
        loadings=d.loadings[np.ix_(res, drivers)],
        graded=d.graded[sources],
        beta_a=d.beta_a[graded_kept],
        beta_b=d.beta_b[graded_kept],
        fixed_reliability=d.fixed_reliability[sources],
        item_source=np.array([s_new[int(s)] for s in d.item_source[items]], dtype=int),
        item_k=d.item_k[items],
        item_cluster=np.array([c_new[int(c)] for c in d.item_cluster[items]], dtype=int),
        cluster_items=cluster_items,
        cluster_log_lr=d.cluster_log_lr[clusters],
        cluster_target=np.array([t_new[int(t)] for t in d.cluster_target[clusters]], dtype=int),
        resolved=np.arange(len(res), dtype=int),
        outcomes=d.outcomes,
    )


def model_names(sub: ModelData) -> dict[str, str]:
    """Free entity variable -> the name of its variable in ``build_model(sub)``."""
    from forecast.forward import pooled

    names = {name: name for name, keys in free_entities(sub).items() if keys}
    if "reliability" in names:
        names["reliability"] = "reliability_graded"
    if "free_prior" in names:
        names["free_prior"] = "unstated" if pooled(sub) else "theta0+z_prior"
    return names


def given_from_trace(sub: ModelData, posterior) -> dict[Key, np.ndarray]:
    """NUTS draws of the connected model (an xarray Dataset) as ``(variable, id) -> draws``."""
    out: dict[Key, np.ndarray] = {}
    names = model_names(sub)
    for name, keys in free_entities(sub).items():
        if not keys:
            continue
        var = names[name]
        if var == "theta0+z_prior":
            values = np.concatenate(
                [np.asarray(posterior["theta0"]), np.asarray(posterior["z_prior"])], axis=-1
            )
        else:
            values = np.asarray(posterior[var])
        for j, key in enumerate(keys):
            out[(name, key)] = values if name in TEAM else values[..., j]
    return out


def nuts_var_names(sub: ModelData) -> list[str]:
    """The free variables of ``build_model(sub)``, by their names in the model."""
    names: list[str] = []
    for var in model_names(sub).values():
        names.extend(var.split("+"))
    return names


def content_key(sub: ModelData, sampler: dict, version: str) -> str:
    """A hash of everything the connected part's draws depend on."""
    parts: dict = {"sampler": sampler, "version": version, "pool_priors": POOL_PRIORS}
    for f in fields(sub):
        value = getattr(sub, f.name)
        if isinstance(value, np.ndarray):
            value = [str(value.dtype), list(value.shape), value.tobytes().hex()]
        parts[f.name] = value
    blob = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
