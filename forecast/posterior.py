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
``bias``, ``compression``, ``noise`` (analyst)  hierarchical pooling only
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


def _interval(x: np.ndarray) -> tuple[float, float]:
    lo, hi = np.quantile(x, [(1 - INTERVAL) / 2, (1 + INTERVAL) / 2])
    return float(lo), float(hi)


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
    import warnings

    import arviz as az
    import pandas as pd

    post = idata.posterior
    prob = _draws(idata, "prob")
    prior = _draws(idata, "prob_prior")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a constant question gives nan
        rhat = az.rhat(post, var_names=["prob"])["prob"].values
        bulk = az.ess(post, var_names=["prob"], method="bulk")["prob"].values
        tail = az.ess(post, var_names=["prob"], method="tail")["prob"].values
    order = list(post["prob"].coords["question"].values)
    rows = []
    for q in ws.questions:
        i = order.index(q.id)
        lo, hi = _interval(prob[:, i])
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


@dataclass(frozen=True)
class _Reach:
    """How one cluster reaches one question."""

    question: str
    cluster: str
    via: str  # "" when direct, else the driver id
    loading: float


def _reaches(ws: Workspace) -> list[_Reach]:
    targets = {}
    for e in ws.evidence:
        targets.setdefault(e.cluster, e.bears_on)
    out = []
    for q in ws.questions:
        for c, t in targets.items():
            if t == q.id:
                out.append(_Reach(q.id, c, "", 1.0))
            elif t in q.drivers and q.drivers[t] != 0:
                out.append(_Reach(q.id, c, t, float(q.drivers[t])))
    return out


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
    if "w" not in idata.posterior:
        return pd.DataFrame(columns=columns)
    w = _draws(idata, "w")
    theta = _draws(idata, "theta")
    qs = list(idata.posterior["theta"].coords["question"].values)
    cs = list(idata.posterior["w"].coords["cluster"].values)
    items: dict[str, list] = {}
    for e in ws.evidence:
        items.setdefault(e.cluster, []).append(e)
    rows = []
    for r in _reaches(ws):
        i, j = qs.index(r.question), cs.index(r.cluster)
        contrib = r.loading * w[:, j]
        without = _sigmoid(theta[:, i] - contrib).mean()
        lo, hi = _interval(contrib)
        members = items[r.cluster]
        rows.append(
            {
                "question": r.question,
                "cluster": r.cluster,
                "items": ", ".join(e.id for e in members),
                "via": r.via,
                "loading": r.loading,
                "mean": float(contrib.mean()),
                "lo": lo,
                "hi": hi,
                "prob_without": float(without),
                "prob_shift": float(_sigmoid(theta[:, i]).mean() - without),
                "summary": members[0].summary,
                "source": ", ".join(dict.fromkeys(e.source for e in members)),
            }
        )
    frame = pd.DataFrame(rows, columns=columns)
    if frame.empty:
        return frame
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
    item from its cluster's corroboration (or the whole cluster) draw by draw.

    Removal reuses the draws: exact when nothing is observed (evidence then
    informs nothing else), a first-order answer when resolved questions let
    evidence inform reliabilities too.
    """
    import pandas as pd

    from forecast.model import corroborated, schum_weight

    ws.question(question)  # unknown id -> UsageError naming the known ones
    columns = [
        "kind", "id", "cluster", "via", "source", "grade", "credibility", "strength",
        "summary", "mean", "lo", "hi", "prob_shift", "prob_without",
    ]  # fmt: skip
    reaches = [r for r in _reaches(ws) if r.question == question]
    if not reaches:
        return pd.DataFrame(columns=columns)
    post = idata.posterior
    theta = _draws(idata, "theta")[:, list(post["theta"].coords["question"].values).index(question)]
    forecast = _sigmoid(theta).mean()
    w, lam, rho_item = _draws(idata, "w"), _draws(idata, "lam"), _draws(idata, "rho_item")
    cs = list(post["w"].coords["cluster"].values)
    es = list(post["rho_item"].coords["evidence"].values)
    sources = {s.id: s for s in ws.sources}
    members: dict[str, list] = {}
    for e in ws.evidence:
        members.setdefault(e.cluster, []).append(e)

    def row(kind, ident, item, r, contrib):
        without = _sigmoid(theta - contrib).mean()
        lo, hi = _interval(contrib)
        src = sources.get(item.source) if item else None
        return {
            "kind": kind,
            "id": ident,
            "cluster": r.cluster,
            "via": r.via,
            "source": ", ".join(dict.fromkeys(e.source for e in members[r.cluster]))
            if item is None
            else item.source,
            "grade": "" if src is None else (src.grade or f"{src.reliability:g}"),
            "credibility": "" if item is None else item.credibility,
            "strength": members[r.cluster][0].strength,
            "summary": members[r.cluster][0].summary if item is None else item.summary,
            "mean": float(contrib.mean()),
            "lo": lo,
            "hi": hi,
            "prob_shift": float(forecast - without),
            "prob_without": float(without),
        }

    rows = []
    for r in reaches:
        j = cs.index(r.cluster)
        group = members[r.cluster]
        if len(group) > 1:
            rows.append(row("cluster", r.cluster, None, r, r.loading * w[:, j]))
        for e in group:
            others = [es.index(o.id) for o in group if o.id != e.id]
            rho_without = corroborated(rho_item[:, others], axis=1)  # empty -> 0
            w_without = schum_weight(rho_without, lam[:, j])
            rows.append(row("item", e.id, e, r, r.loading * (w[:, j] - w_without)))
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
