"""Workspace -> ``pm.Model``: one vectorised model for every question at once.

Pure: no files, no sampling, no printing. See ``docs/model.md`` for the
statistics; in short, for question q with prior log-odds ``theta0_q``,
evidence clusters c and drivers d:

    theta_q = theta0_q + sum_c w_c [c bears on q] + sum_d B_qd (z_d - m_d)
    z_d     = z0_d + sum_c w_c [c bears on d]
    w_c     = log(rho_c exp(lam_c) + 1 - rho_c)          (Schum's discounting)
    lam_c   = log(L_c) exp(eps_c), eps_c ~ N(-s^2/2, s)   (coding uncertainty)
    rho_c   = 1 - prod_{e in c} (1 - r_{s(e)} k_e)       (corroboration)

``m_d`` is the centre of driver d's stated prior, so a question's prior is
centred where its analysts put it and the driver only adds shared spread.
Under hierarchical pooling a target's prior log-odds is the average of its
analysts' recalibrated statements, ``offset_a + slope_a * logit p``, the
slope part extremized by the analysts' effective number ``n / (1 + (n - 1)
omega)``, with offsets, slopes and the information overlap ``omega`` learned
from resolved questions (``_pooled_priors``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from forecast.codebook import DEFAULT_PRIOR_SD
from forecast.elicit import fit
from forecast.errors import UsageError
from forecast.workspace import Workspace

# Hierarchical pooling recalibrates each analyst's log-odds linearly,
# ``offset_a + slope_a * logit p``, averages them (Turner et al. 2014) and
# extremizes the average by the analysts' effective number.
# Offsets and log-slopes are drawn from team distributions whose centres and
# spreads are learned from resolved questions, so an analyst with little
# record shrinks to the team. With no record they stay near "calibrated":
# the pool is then the mean log-odds, widened by this prior uncertainty.
POOL_PRIORS = {
    "offset_mean_sd": 0.3,  # team offset ~ Normal(0, 0.3): ~7 points at p = 0.5
    "offset_spread_sd": 0.5,  # one analyst's lean ~1 log-odds off the team is plausible
    "log_slope_mean_sd": 0.3,  # team slope within ~0.6-1.6 (> 1: under-confident analysts)
    "log_slope_spread_sd": 0.2,
    # Information overlap of two analysts, omega ~ Beta(4, 1): analysts of one
    # team read much the same news (prior median 0.84). n analysts' average is
    # extremized by n / (1 + (n - 1) omega), their effective number: prior median
    # 1.12 for 3 analysts, 1.19 for many, 95 % below 1.54 and 2.1 (published
    # extremizing factors for crowds are 1.5-2.5). None: the plain average.
    "overlap_beta": (4.0, 1.0),
}
# A bare probability counts, for a driver's centre, as a statement of this spread.
POINT_SD_FOR_CENTRE = 0.5


def corroborated(rho_items: np.ndarray, axis: int = -1) -> np.ndarray:
    """Credibility of a cluster: ``1 - prod(1 - rho_e)`` (NumPy twin of the model's)."""
    return 1.0 - np.prod(1.0 - np.asarray(rho_items, dtype=float), axis=axis)


def schum_weight(rho: np.ndarray | float, lam: np.ndarray | float) -> np.ndarray:
    """Weight on the log-odds of a report of credibility rho and log-ratio lam.

    ``log(rho * exp(lam) + 1 - rho)``: with probability rho the report is what
    it claims (ratio ``exp(lam)``), otherwise it is noise, as likely under yes
    as under no (ratio 1). NumPy twin of the model's.
    """
    return np.log1p(np.asarray(rho, dtype=float) * np.expm1(np.asarray(lam, dtype=float)))


@dataclass(frozen=True)
class ModelData:
    """Plain arrays the model is built from; also what ``posterior`` needs."""

    questions: tuple[str, ...]
    drivers: tuple[str, ...]
    analysts: tuple[str, ...]
    sources: tuple[str, ...]
    evidence: tuple[str, ...]
    clusters: tuple[str, ...]
    pooling: str
    # statements (hierarchical) or the prior of each target (direct)
    stmt_analyst: np.ndarray  # int index into analysts
    stmt_target: np.ndarray  # int index into questions + drivers
    stmt_mu: np.ndarray
    stmt_sigma: np.ndarray
    prior_mu: np.ndarray  # per target (questions then drivers); direct pooling
    prior_sigma: np.ndarray
    driver_centre: np.ndarray  # m_d
    loadings: np.ndarray  # B, (question, driver)
    # sources
    graded: np.ndarray  # bool per source
    beta_a: np.ndarray  # Beta prior + verified counts, graded sources
    beta_b: np.ndarray  # Beta prior + refuted counts, graded sources
    fixed_reliability: np.ndarray  # numeric reliability (nan where graded)
    # evidence
    item_source: np.ndarray  # int index into sources
    item_k: np.ndarray  # credibility multiplier
    item_cluster: np.ndarray  # int index into clusters
    cluster_items: np.ndarray  # (cluster, max size) item indices, padded with len(evidence)
    cluster_log_lr: np.ndarray
    cluster_target: np.ndarray  # int index into questions + drivers
    coding_sd: float
    # resolved questions
    resolved: np.ndarray  # int index into questions
    outcomes: np.ndarray  # 0/1

    @property
    def targets(self) -> tuple[str, ...]:
        return self.questions + self.drivers

    @property
    def observed(self) -> bool:
        """Whether anything is observed (a resolved question), i.e. whether NUTS is needed."""
        return bool(len(self.resolved))


def model_data(ws: Workspace) -> ModelData:
    """Arrays for the model, in workspace order."""
    questions = tuple(q.id for q in ws.questions)
    drivers = tuple(d.id for d in ws.drivers)
    targets = questions + drivers
    t_index = {t: i for i, t in enumerate(targets)}
    analysts = tuple(a.name for a in ws.analysts)
    pooling = ws.settings.pooling

    stmts = [s for s in ws.statements if s.target in t_index]
    fits = [fit(s, ws.codebook) for s in stmts]
    a_index = {a: i for i, a in enumerate(analysts)}
    stmt_analyst = np.array([a_index[s.analyst] for s in stmts], dtype=int)
    stmt_target = np.array([t_index[s.target] for s in stmts], dtype=int)
    stmt_mu = np.array([f.mu for f in fits], dtype=float)
    stmt_sigma = np.array([f.sigma for f in fits], dtype=float)

    prior_mu = np.zeros(len(targets))
    prior_sigma = np.full(len(targets), DEFAULT_PRIOR_SD)
    by_target: dict[int, list[int]] = {}
    for i, t in enumerate(stmt_target):
        by_target.setdefault(int(t), []).append(i)
    if pooling == "direct":
        for t, rows in by_target.items():
            if len(rows) > 1:
                who = ", ".join(sorted({stmts[i].analyst for i in rows}))
                raise UsageError(
                    f'pooling = "direct" takes one analyst\'s prior as it is, but '
                    f"{targets[t]!r} has statements from {who}; use pooling = "
                    f'"hierarchical" in forecast.toml [model], or keep one statement'
                )
            if stmt_sigma[rows[0]] == 0:
                s = stmts[rows[0]]
                raise UsageError(
                    f"{s.path}:{s.line}: {targets[t]}: a bare {{p: {s.p:g}}} has no spread, and "
                    'pooling = "direct" takes the prior as it is; give an interval '
                    "{p, lo, hi} or a confidence {p, confidence: medium}, or use "
                    'pooling = "hierarchical"'
                )
            prior_mu[t], prior_sigma[t] = stmt_mu[rows[0]], stmt_sigma[rows[0]]

    # A driver's centre: the precision-weighted mean of what was stated about it
    # (a bare probability, with no spread, counts as one of spread 0.5).
    driver_centre = np.zeros(len(drivers))
    for j in range(len(drivers)):
        rows = by_target.get(len(questions) + j, [])
        if rows:
            prec = 1.0 / np.maximum(stmt_sigma[rows], POINT_SD_FOR_CENTRE) ** 2
            driver_centre[j] = float(np.sum(prec * stmt_mu[rows]) / np.sum(prec))

    loadings = np.zeros((len(questions), len(drivers)))
    for i, q in enumerate(ws.questions):
        for d, b in q.drivers.items():
            loadings[i, drivers.index(d)] = b

    sources = tuple(s.id for s in ws.sources)
    s_index = {s: i for i, s in enumerate(sources)}
    graded = np.array([s.grade is not None for s in ws.sources], dtype=bool)
    beta_a = np.array(
        [ws.codebook.grades[s.grade][0] + s.verified for s in ws.sources if s.grade is not None]
    )
    beta_b = np.array(
        [ws.codebook.grades[s.grade][1] + s.refuted for s in ws.sources if s.grade is not None]
    )
    fixed = np.array(
        [np.nan if s.reliability is None else s.reliability for s in ws.sources], dtype=float
    )

    evidence = tuple(e.id for e in ws.evidence)
    c_index: dict[str, int] = {}
    for e in ws.evidence:
        c_index.setdefault(e.cluster, len(c_index))
    clusters = list(c_index)
    item_cluster = np.array([c_index[e.cluster] for e in ws.evidence], dtype=int)
    members: list[list[int]] = [[] for _ in clusters]
    for i, c in enumerate(item_cluster):
        members[c].append(i)
    width = max((len(m) for m in members), default=1)
    cluster_items = np.full((len(clusters), width), len(evidence), dtype=int)
    for j, m in enumerate(members):
        cluster_items[j, : len(m)] = m
    first = [ws.evidence[m[0]] for m in members]

    resolved = [i for i, q in enumerate(ws.questions) if q.resolved]
    return ModelData(
        questions=questions,
        drivers=drivers,
        analysts=analysts,
        sources=sources,
        evidence=evidence,
        clusters=tuple(clusters),
        pooling=pooling,
        stmt_analyst=stmt_analyst,
        stmt_target=stmt_target,
        stmt_mu=stmt_mu,
        stmt_sigma=stmt_sigma,
        prior_mu=prior_mu,
        prior_sigma=prior_sigma,
        driver_centre=driver_centre,
        loadings=loadings,
        graded=graded,
        beta_a=beta_a,
        beta_b=beta_b,
        fixed_reliability=fixed,
        item_source=np.array([s_index[e.source] for e in ws.evidence], dtype=int),
        item_k=np.array([ws.codebook.credibility[e.credibility] for e in ws.evidence]),
        item_cluster=item_cluster,
        cluster_items=cluster_items,
        cluster_log_lr=np.array([np.log(e.ratio) for e in first], dtype=float),
        cluster_target=np.array([t_index[e.bears_on] for e in first], dtype=int),
        coding_sd=float(ws.settings.coding_sd),
        resolved=np.array(resolved, dtype=int),
        outcomes=np.array(
            [1 if ws.questions[i].resolution.outcome == "yes" else 0 for i in resolved], dtype=int
        ),
    )


def unstated_targets(d: ModelData) -> np.ndarray:
    """Indices (into questions + drivers) of the targets nobody stated."""
    return np.setdiff1d(np.arange(len(d.targets)), d.stmt_target)


def build_model(ws: Workspace | ModelData):
    """The PyMC model of a workspace (see the module docstring).

    Returns a ``pm.Model`` with named dims ``question``, ``driver``,
    ``analyst``, ``source``, ``evidence``, ``cluster``.
    """
    import pymc as pm
    import pytensor.tensor as pt

    d = ws if isinstance(ws, ModelData) else model_data(ws)
    nq, nd = len(d.questions), len(d.drivers)
    coords = {
        "question": list(d.questions),
        "driver": list(d.drivers),
        "analyst": list(d.analysts),
        "source": list(d.sources),
        "graded_source": [s for s, g in zip(d.sources, d.graded, strict=True) if g],
        "evidence": list(d.evidence),
        "cluster": list(d.clusters),
        "statement": list(range(len(d.stmt_mu))),
        "resolved": [d.questions[i] for i in d.resolved],
        # a dim may not share a variable's name: the variable is ``unstated``
        "unstated_target": [d.targets[i] for i in unstated_targets(d)],
    }
    with pm.Model(coords=coords) as model:
        # --- prior log-odds of questions and drivers --------------------------
        # theta_prior_q = theta0_q + sum_d B_qd (z0_d - m_d): a question's prior
        # is its own part plus its drivers' prior spread, shared across questions.
        B = d.loadings
        if d.pooling == "hierarchical" and len(d.stmt_mu):
            theta0, z0, driver_spread = _pooled_priors(d, nq, nd)
            theta_prior = theta0 + pt.dot(B, driver_spread)
        elif d.pooling == "hierarchical":  # nobody stated anything
            theta0 = pm.Normal("theta0", 0.0, DEFAULT_PRIOR_SD, dims="question")
            z0 = pm.Normal("z_prior", 0.0, DEFAULT_PRIOR_SD, dims="driver")
            theta_prior = theta0 + pt.dot(B, z0 - d.driver_centre)
        else:
            # The stated prior is the question's prior as a whole: its variance is
            # split between the question's own part and its drivers, so the
            # marginal stays what the analyst said (unless the drivers would take
            # more than 3/4 of it; the own part keeps at least half its sd).
            driver_var = (B**2) @ (d.prior_sigma[nq:] ** 2)
            own_var = np.maximum(d.prior_sigma[:nq] ** 2 - driver_var, d.prior_sigma[:nq] ** 2 / 4)
            theta0 = pm.Normal("theta0", d.prior_mu[:nq], np.sqrt(own_var), dims="question")
            z0 = pm.Normal("z_prior", d.prior_mu[nq:], d.prior_sigma[nq:], dims="driver")
            theta_prior = theta0 + pt.dot(B, z0 - d.driver_centre)

        # --- source reliability -----------------------------------------------
        # Beta(a + verified, b + refuted) is exactly the Beta(a, b) prior updated
        # by the track record as Binomial data (conjugacy), so it can be drawn
        # forward without MCMC.
        n_graded = int(d.graded.sum())
        reliability = pt.as_tensor_variable(np.nan_to_num(d.fixed_reliability))
        if n_graded:
            r_free = pm.Beta("reliability_graded", d.beta_a, d.beta_b, dims="graded_source")
            reliability = pt.set_subtensor(reliability[np.flatnonzero(d.graded)], r_free)
        reliability = pm.Deterministic("reliability", reliability, dims="source")

        # --- evidence ---------------------------------------------------------
        if len(d.clusters):
            if d.coding_sd > 0:
                # Coding uncertainty scales the coded log-ratio: the direction a
                # coder gave is kept, the size may be off by a factor exp(eps),
                # and E[lam] is the coded log-ratio (eps has mean -sd^2/2).
                eps = pm.Normal("coding", -(d.coding_sd**2) / 2, d.coding_sd, dims="cluster")
                lam = pm.Deterministic("lam", d.cluster_log_lr * pt.exp(eps), dims="cluster")
            else:
                lam = pm.Deterministic("lam", pt.as_tensor(d.cluster_log_lr), dims="cluster")
            rho_item = pm.Deterministic(
                "rho_item", reliability[d.item_source] * d.item_k, dims="evidence"
            )
            # padding points at a dummy item with credibility 0
            keep = pt.concatenate([1.0 - rho_item, pt.ones(1)])
            rho = pm.Deterministic(
                "rho", 1.0 - pt.prod(keep[d.cluster_items], axis=1), dims="cluster"
            )
            w = pm.Deterministic("w", pt.log1p(rho * pt.expm1(lam)), dims="cluster")
            to_target = np.zeros((nq + nd, len(d.clusters)))
            to_target[d.cluster_target, np.arange(len(d.clusters))] = 1.0
            pushed = pt.dot(to_target, w)
            push_q, push_d = pushed[:nq], pushed[nq:]
        else:
            push_q, push_d = pt.zeros(nq), pt.zeros(nd)

        # --- drivers and outcomes ---------------------------------------------
        pm.Deterministic("z", z0 + push_d, dims="driver")
        theta_prior = pm.Deterministic("theta_prior", theta_prior, dims="question")
        theta = pm.Deterministic("theta", theta_prior + push_q + pt.dot(B, push_d), dims="question")
        pm.Deterministic("prob_prior", pm.math.sigmoid(theta_prior), dims="question")
        pm.Deterministic("prob", pm.math.sigmoid(theta), dims="question")
        if len(d.resolved):
            pm.Bernoulli("outcome", logit_p=theta[d.resolved], observed=d.outcomes, dims="resolved")
    return model


def _pooled_priors(d: ModelData, nq: int, nd: int):
    """Hierarchical pooling: the average of the analysts' recalibrated log-odds.

    Statement i of analyst a on target t is ``L_i ~ Normal(m_i, s_i)`` (its
    logit-normal; ``s_i = 0`` for a bare probability), recalibrated to
    ``offset_a + slope_a * L_i``; a target's prior log-odds is the mean of its
    analysts' offsets plus the mean of their ``slope_a * L_i`` times their
    effective number (``_effective_number``). A target nobody stated gets the default
    ``Normal(0, 1.6)``. Returns ``(theta0, z0, driver_spread)``: the pooled
    prior log-odds of questions and drivers, and each driver's deviation from
    its own centre (the part of its prior spread it shares with the questions
    loading on it).
    """
    import pymc as pm
    import pytensor.tensor as pt

    P = POOL_PRIORS
    nt = nq + nd

    def group(name, centre_sd, spread_sd):
        centre = pm.Normal(f"{name}_mean", 0.0, centre_sd)
        spread = pm.HalfNormal(f"{name}_spread", spread_sd)
        own = pm.Normal(f"{name}_z", 0.0, 1.0, dims="analyst")
        return centre, centre + spread * own

    _, offset = group("offset", P["offset_mean_sd"], P["offset_spread_sd"])
    offset = pm.Deterministic("offset", offset, dims="analyst")
    ls_mean, log_slope = group("log_slope", P["log_slope_mean_sd"], P["log_slope_spread_sd"])
    pm.Deterministic("slope_mean", pt.exp(ls_mean))
    slope = pm.Deterministic("slope", pt.exp(log_slope), dims="analyst")

    a, t = d.stmt_analyst, d.stmt_target
    count = np.bincount(t, minlength=nt)
    weight = 1.0 / count[t]  # each target's statements average
    # the average of n analysts' recalibrated log-odds, times their effective number
    factor = 1.0 if P["overlap_beta"] is None else _effective_number(count, P["overlap_beta"])[t]
    centre = offset[a] + factor * slope[a] * d.stmt_mu
    pooled = pt.inc_subtensor(pt.zeros(nt)[t], centre * weight)
    spread = pt.zeros(nt)
    if np.any(d.stmt_sigma > 0):
        eps = pm.Normal("stated_z", 0.0, 1.0, dims="statement")
        spread = pt.inc_subtensor(spread[t], factor * slope[a] * d.stmt_sigma * eps * weight)
    unstated = unstated_targets(d)
    if len(unstated):
        free = pm.Normal("unstated", 0.0, DEFAULT_PRIOR_SD, dims="unstated_target")
        pooled = pt.set_subtensor(pooled[unstated], 0.0)
        spread = pt.set_subtensor(spread[unstated], free)
    prior = pooled + spread
    theta0 = pm.Deterministic("theta0", prior[:nq], dims="question")
    z0 = pm.Deterministic("z_prior", prior[nq:], dims="driver")
    return theta0, z0, spread[nq:]


def _effective_number(count: np.ndarray, overlap_beta: tuple[float, float]):
    """``n / (1 + (n - 1) omega)`` for each target stated by ``n`` analysts.

    ``omega`` (``info_overlap``) is the share of information two analysts have
    in common: the correlation of what they know. The average of ``n``
    forecasts that each hold a share of the evidence is less extreme than what
    they know together; with equicorrelated information the best linear
    combination is their sum over ``1 + (n - 1) omega``, the mean times the
    effective number of independent analysts. ``omega = 1`` (everyone knows the
    same): the mean; one analyst: exactly their own log-odds.
    """
    import pymc as pm

    omega = pm.Beta("info_overlap", *overlap_beta)
    n = np.maximum(count, 1).astype(float)  # a target nobody stated is replaced later
    return n / (1.0 + (n - 1.0) * omega)


def with_settings(ws: Workspace, **changes) -> Workspace:
    """A copy of ``ws`` whose settings have ``changes`` applied."""
    return replace(ws, settings=replace(ws.settings, **changes))
