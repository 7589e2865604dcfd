"""Analyst statements -> logit-normal priors on a question's log-odds.

Every kind of statement becomes ``logit(P) ~ Normal(mu, sigma)``:

interval ``{p, lo, hi, level}``
    ``mu = logit(p)``; ``sigma = (logit(hi) - logit(lo)) / (2 z)`` with
    ``z`` the standard-normal quantile at ``(1 + level) / 2``.
Beta ``{beta: [a, b]}``
    matched exactly on the logit scale: if ``P ~ Beta(a, b)`` then
    ``E[logit P] = psi(a) - psi(b)`` and ``Var[logit P] = psi'(a) + psi'(b)``.
probability with a verbal confidence ``{p, confidence}``
    ``mu = logit(p)``, ``sigma`` from the codebook's confidence table.
estimative word with a confidence ``{estimate, confidence}``
    the word's ICD-203 band is read as a central interval whose level is set
    by the confidence; ``mu`` is the band's centre on the logit scale.
bare probability ``{p}``
    ``mu = logit(p)``, ``sigma = 0``: the analyst gave no spread, so under
    hierarchical pooling the statement's scatter is the analyst's noise,
    learned from the record (``docs/model.md``).

``fitted_quantiles`` gives the 5/50/95 % probabilities back to the analyst so
they can check the fit says what they meant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from forecast.codebook import DEFAULT_PRIOR_SD, Codebook
from forecast.workspace import Statement

_STD = NormalDist()


def logit(p: float) -> float:
    return math.log(p) - math.log1p(-p)


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@dataclass(frozen=True)
class LogitNormal:
    """``logit(P) ~ Normal(mu, sigma)``."""

    mu: float
    sigma: float

    def quantile(self, q: float) -> float:
        """The ``q`` quantile of P (the logit is monotone, so quantiles map)."""
        return sigmoid(self.mu + self.sigma * _STD.inv_cdf(q))

    def quantiles(self, qs: tuple[float, ...] = (0.05, 0.5, 0.95)) -> tuple[float, ...]:
        return tuple(self.quantile(q) for q in qs)

    def mean(self, nodes: int = 64) -> float:
        """E[P] by Gauss-Hermite quadrature (exact to ~1e-10 for these sigmas)."""
        import numpy as np

        x, wts = np.polynomial.hermite_e.hermegauss(nodes)
        p = 1.0 / (1.0 + np.exp(-(self.mu + self.sigma * x)))
        return float(np.sum(wts * p) / np.sqrt(2 * np.pi))


DEFAULT_PRIOR = LogitNormal(0.0, DEFAULT_PRIOR_SD)


def _interval_sigma(lo: float, hi: float, level: float) -> float:
    z = _STD.inv_cdf((1.0 + level) / 2.0)
    return (logit(hi) - logit(lo)) / (2.0 * z)


def fit(statement: Statement, codebook: Codebook) -> LogitNormal:
    """The logit-normal a statement stands for.

    The workspace loader has validated the statement, so the fields its kind
    needs are present and in range.
    """
    kind = statement.kind
    if kind == "interval":
        level = statement.level if statement.level is not None else 0.9
        return LogitNormal(logit(statement.p), _interval_sigma(statement.lo, statement.hi, level))
    if kind == "beta":
        from scipy.special import digamma, polygamma

        a, b = statement.a, statement.b
        mu = float(digamma(a) - digamma(b))
        sigma = math.sqrt(float(polygamma(1, a) + polygamma(1, b)))
        return LogitNormal(mu, sigma)
    if kind == "confidence":
        return LogitNormal(logit(statement.p), float(codebook.confidence_sd[statement.confidence]))
    if kind == "point":
        return LogitNormal(logit(statement.p), 0.0)
    if kind == "words":
        lo, hi = codebook.word_band(statement.word)
        level = float(codebook.confidence_levels[statement.confidence or "medium"])
        return LogitNormal((logit(lo) + logit(hi)) / 2.0, _interval_sigma(lo, hi, level))
    raise ValueError(f"unknown statement kind {kind!r}")  # the loader rules this out


def describe(statement: Statement) -> str:
    """The statement as the analyst wrote it, in one short phrase."""
    s = statement
    if s.kind == "interval":
        level = s.level if s.level is not None else 0.9
        return f"p={s.p:g} ({level:.0%} in {s.lo:g}-{s.hi:g})"
    if s.kind == "beta":
        return f"Beta({s.a:g}, {s.b:g})"
    if s.kind == "confidence":
        return f"p={s.p:g}, {s.confidence} confidence"
    if s.kind == "point":
        return f"p={s.p:g}"
    return f"{s.word}, {s.confidence or 'medium'} confidence"
