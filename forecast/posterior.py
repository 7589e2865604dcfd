"""InferenceData -> tidy tables: forecasts, contributions, influence, joints.

Every function takes the ArviZ ``InferenceData`` of a run (and the workspace
it came from) and returns a ``pd.DataFrame`` or a small dataclass; nothing
here samples, reads files or prints.

Variables in ``idata.posterior`` (dims after ``chain, draw``), written by
``forecast.model``:

``theta`` (question)        log-odds of each question after all evidence
``prob`` (question)         sigmoid(theta): the probability the outcome is yes
``theta_prior`` (question)  log-odds before any evidence (pooled analyst prior,
                            with the drivers' prior spread)
``prob_prior`` (question)   sigmoid(theta_prior)
``z`` / ``z_prior`` (driver) driver log-odds after / before their evidence
``lam`` (cluster)           coded log likelihood ratio of each cluster
``rho_item`` (evidence)     credibility of each item, reliability x multiplier
``rho`` (cluster)           corroborated credibility 1 - prod(1 - rho_item)
``w`` (cluster)             the cluster's weight on the log-odds of what it bears on
``reliability`` (source)    each source's reliability
``offset``, ``slope`` (analyst)  each analyst's recalibration, hierarchical pooling only
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import arviz as az
    import pandas as pd

    from forecast.workspace import Workspace

INTERVAL = 0.90  # every interval reported is a central 90 % interval
DIAGNOSTICS = ("rhat", "ess_bulk", "ess_tail")  # of each question's prob, per question


@dataclass(frozen=True)
class Joint:
    a: str
    b: str
    p_a: float
    p_b: float
    p_ab: float  # P(A and B) = E[sigmoid(theta_a) * sigmoid(theta_b)]
    p_a_given_b: float
    p_b_given_a: float
    independent: float  # P(A) * P(B), for comparison


def _draws(idata: az.InferenceData, name: str) -> np.ndarray:
    """Draws of a variable flattened over chains: shape (n, ...)."""
    var = idata.posterior[name]
    return np.asarray(var.values).reshape((-1,) + var.shape[2:])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # stable for large |x|


def forecast_table(idata: az.InferenceData, ws: Workspace) -> pd.DataFrame:
    """One row per question.

    Columns: ``id, title, prior, posterior, lo, hi, change_from_prior, rhat,
    ess_bulk, ess_tail, outcome`` where prior = E[prob_prior], posterior =
    E[prob] (the forecast P(y=1)), lo/hi the 90 % interval of prob,
    change_from_prior = posterior - prior (not the change since the previous
    run: reports call that ``since_previous``), rhat/ess_* the diagnostics of ``prob`` for that
    question, outcome the resolution ("yes", "no", "annulled" or "").
    """
    import pandas as pd

    post = idata.posterior
    prob = _draws(idata, "prob")
    prior = _draws(idata, "prob_prior")
    rhat, bulk, tail = prob_diagnostics(idata)
    order = {q: i for i, q in enumerate(post["prob"].coords["question"].values)}
    # every question's interval in one pass (a question's column alone gives the same numbers)
    los, his = np.quantile(prob, [(1 - INTERVAL) / 2, (1 + INTERVAL) / 2], axis=0)
    rows = []
    for q in ws.questions:
        i = order[q.id]
        lo, hi = float(los[i]), float(his[i])
        rows.append(
            {
                "id": q.id,
                "title": q.title,
                "prior": float(prior[:, i].mean()),
                "posterior": float(prob[:, i].mean()),
                "lo": lo,
                "hi": hi,
                "change_from_prior": float(prob[:, i].mean() - prior[:, i].mean()),
                # a constant draw (no uncertainty at all) has nothing to diagnose
                "rhat": float(np.nan_to_num(rhat[i], nan=1.0)),
                "ess_bulk": float(np.nan_to_num(bulk[i], nan=prob.shape[0])),
                "ess_tail": float(np.nan_to_num(tail[i], nan=prob.shape[0])),
                "outcome": q.resolution.outcome if q.resolution else "",
            }
        )
    return pd.DataFrame(rows)


def prob_diagnostics(idata: az.InferenceData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R-hat, bulk ESS and tail ESS of each question's probability, in the trace's order.

    A compact stored trace (:mod:`forecast.trace`) carries them as computed
    from the draws before they were stored as float32.
    """
    from forecast.diagnostics import convergence

    if SUMMARY in idata.groups() and "prob_rhat" in idata[SUMMARY]:
        ds = idata[SUMMARY]
        return tuple(np.asarray(ds[f"prob_{k}"].values) for k in DIAGNOSTICS)  # type: ignore[return-value]
    return convergence(np.asarray(idata.posterior["prob"].values))


@dataclass(frozen=True)
class _Reach:
    """How one cluster reaches one question."""

    question: str
    cluster: str
    via: str  # "" when direct, else the driver id
    loading: float


def _reaches(ws: Workspace) -> list[_Reach]:
    """Each (question, cluster) reach: questions in order, then clusters in order of first item."""
    targets: dict[str, str] = {}
    for e in ws.evidence:
        targets.setdefault(e.cluster, e.bears_on)
    by_target: dict[str, list[tuple[int, str]]] = {}
    for n, (c, t) in enumerate(targets.items()):
        by_target.setdefault(t, []).append((n, c))
    out = []
    for q in ws.questions:
        found = [(n, c, "", 1.0) for n, c in by_target.get(q.id, ())]
        for d, loading in q.drivers.items():
            if loading != 0 and d != q.id:
                found += [(n, c, d, float(loading)) for n, c in by_target.get(d, ())]
        out += [_Reach(q.id, c, via, loading) for _, c, via, loading in sorted(found)]
    return out


EFFECT_COLUMNS = [
    "question", "kind", "id", "cluster", "via", "loading", "mean", "lo", "hi", "prob_without",
    "prob_shift",
]  # fmt: skip
EFFECT_CHUNK = 512  # entities or reaches worked on at once (memory: chunk x draws)
EFFECT_TEXT = ("question", "kind", "id", "cluster", "via")
SUMMARY = "summary"  # the stored trace's group of summaries (see forecast.trace)


def _members(ws: Workspace) -> dict[str, list]:
    members: dict[str, list] = {}
    for e in ws.evidence:
        members.setdefault(e.cluster, []).append(e)
    return members


def _stored_effects(idata: az.InferenceData) -> pd.DataFrame | None:
    """The effects table a compact stored trace carries in place of per-item draws."""
    import pandas as pd

    if "w" in idata.posterior or SUMMARY not in idata.groups():
        return None
    ds = idata[SUMMARY]
    if "effect" not in ds.dims:
        return None
    frame = pd.DataFrame({c: ds[f"effect_{c}"].values for c in EFFECT_COLUMNS})
    for c in EFFECT_TEXT:
        frame[c] = frame[c].astype(str)
    return frame


def effects(idata: az.InferenceData, ws: Workspace) -> pd.DataFrame:
    """Every evidence effect on every question it reaches, from the draws.

    One ``kind == "cluster"`` row per (question, cluster) reach, and for a
    cluster of several items one ``kind == "item"`` row per item (the item
    taken out of its cluster's corroboration). Columns :data:`EFFECT_COLUMNS`:
    ``mean, lo, hi`` of the contribution to the question's log-odds (90 %
    interval), ``prob_without`` the forecast without it, draw by draw, and
    ``prob_shift`` the forecast minus that. These need the joint draws of the
    question and the cluster; a compact stored trace (:mod:`forecast.trace`)
    keeps this table instead of the per-item draws, and it is read back here.
    """
    import pandas as pd

    from forecast.model import corroborated, schum_weight

    stored = _stored_effects(idata)
    if stored is not None:
        return stored
    if "w" not in idata.posterior:
        return pd.DataFrame(columns=EFFECT_COLUMNS)
    post = idata.posterior
    theta = _draws(idata, "theta")
    w = _draws(idata, "w")
    qpos = {q: i for i, q in enumerate(post["theta"].coords["question"].values)}
    cpos = {c: i for i, c in enumerate(post["w"].coords["cluster"].values)}
    epos = {e: i for i, e in enumerate(post["rho_item"].coords["evidence"].values)} if (
        "rho_item" in post) else {}  # fmt: skip
    members = _members(ws)
    # each entity (a cluster, or an item of a cluster of several) once, with the reaches it has
    entities: dict[tuple[str, str, str], list[int]] = {}
    spec: list[tuple[_Reach, str, str]] = []  # (reach, kind, cluster or item id)
    for r in _reaches(ws):
        group = members[r.cluster]
        for kind, ident in [("cluster", r.cluster)] + (
            [("item", e.id) for e in group] if len(group) > 1 else []
        ):
            entities.setdefault((kind, ident, r.cluster), []).append(len(spec))
            spec.append((r, kind, ident))
    several = any(kind == "item" for kind, _, _ in entities)
    lam = _draws(idata, "lam") if several else None
    rho_item = _draws(idata, "rho_item") if several else None
    theta_rows = np.ascontiguousarray(theta.T)  # rows questions, columns draws
    forecast = _sigmoid(theta_rows).mean(axis=1)
    rows: list[tuple | None] = [None] * len(spec)
    keys = list(entities)
    for start in range(0, len(keys), EFFECT_CHUNK):  # an entity's draws, a chunk at a time
        part = keys[start : start + EFFECT_CHUNK]
        # rows are entities, columns draws: quantiles partition contiguous rows
        draws = np.ascontiguousarray(w.T[[cpos[c] for _, _, c in part]])
        for n, (kind, ident, cluster) in enumerate(part):
            if kind == "item":  # the item taken out of its cluster's corroboration
                others = [epos[o.id] for o in members[cluster] if o.id != ident]
                rho_without = corroborated(rho_item[:, others], axis=1)
                draws[n] -= schum_weight(rho_without, lam[:, cpos[cluster]])
        lo, hi = np.quantile(draws, [(1 - INTERVAL) / 2, (1 + INTERVAL) / 2], axis=1)
        mean = draws.mean(axis=1)
        which = [(n, j) for n, key in enumerate(part) for j in entities[key]]
        for at in range(0, len(which), EFFECT_CHUNK):  # the reaches of these entities
            chunk = which[at : at + EFFECT_CHUNK]
            reach = [spec[j][0] for _, j in chunk]
            loading = np.array([r.loading for r in reach])
            contrib = draws[[n for n, _ in chunk]] * loading[:, None]
            q = [qpos[r.question] for r in reach]
            without = _sigmoid(theta_rows[q] - contrib).mean(axis=1)
            for m, ((n, j), r) in enumerate(zip(chunk, reach, strict=True)):
                a, b = r.loading * lo[n], r.loading * hi[n]  # a negative loading swaps them
                rows[j] = (r.question, spec[j][1], spec[j][2], r.cluster, r.via, r.loading,
                           float(r.loading * mean[n]), float(min(a, b)), float(max(a, b)),
                           float(without[m]), float(forecast[q[m]] - without[m]))  # fmt: skip
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


def contributions(idata: az.InferenceData, ws: Workspace) -> pd.DataFrame:
    """One row per (question, cluster) pair where the cluster reaches the question.

    A cluster bearing on a question reaches it with weight w_c; one bearing on
    a driver d reaches each question q loading on d with B_qd * w_c.
    Columns: ``question, cluster, items`` (item ids joined by ", "), ``via``
    ("" for direct, else the driver id), ``loading`` (1 for direct),
    ``mean, lo, hi`` (contribution to the question's log-odds: mean and 90 %
    interval), ``prob_without`` (the forecast with this cluster removed),
    ``prob_shift`` (forecast - prob_without), ``summary`` (first item's
    summary), ``source`` (source ids), sorted by question then |mean| descending.
    """
    import pandas as pd

    columns = [
        "question", "cluster", "items", "via", "loading", "mean", "lo", "hi",
        "prob_without", "prob_shift", "summary", "source",
    ]  # fmt: skip
    table = effects(idata, ws)
    members = _members(ws)
    table = table[(table["kind"] == "cluster") & table["cluster"].isin(list(members))]
    if table.empty:
        return pd.DataFrame(columns=columns)
    group = [members[c] for c in table["cluster"]]
    frame = table.assign(
        items=[", ".join(e.id for e in g) for g in group],
        summary=[g[0].summary for g in group],
        source=[", ".join(dict.fromkeys(e.source for e in g)) for g in group],
    )[columns]
    order = {q.id: n for n, q in enumerate(ws.questions)}
    frame = frame.assign(_q=frame["question"].map(order), _m=-frame["mean"].abs())
    return (
        frame.sort_values(["_q", "_m"], kind="stable")
        .drop(columns=["_q", "_m"])
        .reset_index(drop=True)
    )


def explain(idata: az.InferenceData, ws: Workspace, question: str) -> pd.DataFrame:
    """Each evidence item and cluster reaching ``question``, sorted by influence.

    Columns: ``kind`` ("item" or "cluster"), ``id``, ``cluster``, ``via``,
    ``source``, ``grade``, ``credibility``, ``strength``, ``summary``,
    ``mean, lo, hi`` (contribution to log-odds), ``prob_shift`` (forecast
    minus forecast without it), ``prob_without``. Leave-one-out removes the
    item from its cluster's corroboration (or the whole cluster) draw by draw;
    an item alone in its cluster takes the whole cluster with it.

    Removal reuses the draws: exact when nothing is observed (evidence then
    informs nothing else), a first-order answer when resolved questions let
    evidence inform reliabilities too.
    """
    import pandas as pd

    ws.question(question)  # unknown id -> UsageError naming the known ones
    columns = [
        "kind", "id", "cluster", "via", "source", "grade", "credibility", "strength",
        "summary", "mean", "lo", "hi", "prob_shift", "prob_without",
    ]  # fmt: skip
    table = effects(idata, ws)
    table = table[table["question"] == question]
    if table.empty:
        return pd.DataFrame(columns=columns)
    sources = {s.id: s for s in ws.sources}
    members = _members(ws)
    items = {e.id: e for e in ws.evidence}
    numbers = ("mean", "lo", "hi", "prob_shift", "prob_without")
    rows = []
    for r in table.to_dict("records"):
        group = members.get(r["cluster"])
        if group is None:
            continue  # a cluster the files no longer hold
        if r["kind"] == "cluster" and len(group) == 1:  # the item is the cluster
            r = {**r, "kind": "item", "id": group[0].id}
        item = items.get(r["id"]) if r["kind"] == "item" else None
        if r["kind"] == "item" and item is None:
            continue
        src = sources.get(item.source) if item else None
        rows.append(
            {
                "kind": r["kind"],
                "id": r["id"],
                "cluster": r["cluster"],
                "via": r["via"],
                "source": ", ".join(dict.fromkeys(e.source for e in group))
                if item is None
                else item.source,
                "grade": "" if src is None else (src.grade or f"{src.reliability:g}"),
                "credibility": "" if item is None else item.credibility,
                "strength": group[0].strength,
                "summary": group[0].summary if item is None else item.summary,
                **{k: float(r[k]) for k in numbers},
            }
        )
    frame = pd.DataFrame(rows, columns=columns)
    return frame.reindex(frame["prob_shift"].abs().sort_values(ascending=False).index).reset_index(
        drop=True
    )


def same_question(qid: str) -> str:
    """Why a joint forecast of a question with itself is refused."""
    return (
        f"joint needs two different questions, got {qid!r} twice: P(A and A) is just P(A) "
        f"(forecast report shows it); name a second question"
    )


def joint(idata: az.InferenceData, a: str, b: str) -> Joint:
    """Joint and conditional probabilities of two questions' outcomes.

    Outcomes are independent given the log-odds, so
    P(A and B) = E[sigmoid(theta_A) sigmoid(theta_B)]; shared drivers and
    shared sources make the two factors co-vary.
    """
    from forecast.errors import UsageError

    qs = list(idata.posterior["prob"].coords["question"].values)
    for q in (a, b):
        if q not in qs:
            raise UsageError(f"unknown question {q!r}; known questions: {', '.join(qs)}")
    if a == b:
        raise UsageError(same_question(a))
    prob = _draws(idata, "prob")
    pa, pb = prob[:, qs.index(a)], prob[:, qs.index(b)]
    p_a, p_b, p_ab = float(pa.mean()), float(pb.mean()), float((pa * pb).mean())
    return Joint(a, b, p_a, p_b, p_ab, p_ab / p_b, p_ab / p_a, p_a * p_b)
