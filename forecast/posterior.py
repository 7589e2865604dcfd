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


def forecast_table(idata: az.InferenceData, ws: Workspace) -> pd.DataFrame:
    """One row per question.

    Columns: ``id, title, prior, posterior, lo, hi, change, rhat, ess_bulk,
    ess_tail, outcome`` where prior = E[prob_prior], posterior = E[prob]
    (the forecast P(y=1)), lo/hi the 90 % interval of prob, change =
    posterior - prior, rhat/ess_* the diagnostics of ``prob`` for that
    question, outcome the resolution ("yes", "no", "annulled" or "").
    """
    raise NotImplementedError


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
    raise NotImplementedError


def explain(idata: az.InferenceData, ws: Workspace, question: str) -> pd.DataFrame:
    """Each evidence item and cluster reaching ``question``, sorted by influence.

    Columns: ``kind`` ("item" or "cluster"), ``id``, ``cluster``, ``via``,
    ``source``, ``grade``, ``credibility``, ``strength``, ``summary``,
    ``mean, lo, hi`` (contribution to log-odds), ``prob_shift`` (forecast
    minus forecast without it), ``prob_without``. Leave-one-out removes the
    item from its cluster's corroboration (or the whole cluster) draw by draw.
    """
    raise NotImplementedError


def joint(idata: az.InferenceData, a: str, b: str) -> Joint:
    """Joint and conditional probabilities of two questions' outcomes."""
    raise NotImplementedError
