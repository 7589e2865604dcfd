"""Convergence diagnostics in NumPy: rank-normalised split R-hat, bulk and tail ESS.

The same estimators as ArviZ's ``rhat`` (``method="rank"``) and ``ess``
(``method="bulk"`` and ``"tail"``), after Vehtari et al. (2021),
"Rank-normalization, folding, and localization: an improved R-hat for
assessing convergence of MCMC", computed for many quantities at once: a run
checks thousands of them, and importing ArviZ alone costs more than a
forward run's draws. Agreement with ArviZ is tested to 1e-10.

Every function takes draws of shape ``(chain, draw, *shape)`` and returns an
array of ``shape``. Like ArviZ, a quantity with a non-finite draw gets
``nan``; R-hat needs two chains and four draws, ESS four draws; a constant
quantity has no R-hat (``nan``) and an ESS equal to its number of draws.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

CHUNK = 1 << 22  # draws worked on at once (memory: a few arrays of this many float64)
TAIL = (0.05, 0.95)  # the quantiles whose ESS makes the tail ESS


def rhat(draws: np.ndarray) -> np.ndarray:
    """Rank-normalised split R-hat: the larger of the bulk and folded (tail) ones."""
    return _by_chunks(draws, _rhat_rank, min_chains=2)


def ess_bulk(draws: np.ndarray) -> np.ndarray:
    """Bulk effective sample size: ESS of the rank-normalised split chains."""
    return _by_chunks(draws, lambda x: _ess(_z_scale(_split(x))), min_chains=1)


def ess_tail(draws: np.ndarray) -> np.ndarray:
    """Tail effective sample size: the smaller ESS of the 5 % and 95 % quantile indicators."""

    def tail(x: np.ndarray) -> np.ndarray:
        low, high = (_ess(_split(x <= _quantile(x, p)[:, None, None])) for p in TAIL)
        return np.where(high < low, high, low)  # min() of ArviZ: nan where ``low`` is nan

    return _by_chunks(draws, tail, min_chains=1)


def convergence(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rhat, ess_bulk, ess_tail)`` at once, the split chains ranked once for both."""

    def three(x: np.ndarray) -> np.ndarray:
        split = _split(x)
        z = _z_scale(split)
        median = np.median(split.reshape(len(split), -1), axis=1)
        folded = _rhat_plain(_z_scale(np.abs(split - median[:, None, None])))
        bulk = _rhat_plain(z)
        low, high = (_ess(_split(x <= _quantile(x, p)[:, None, None])) for p in TAIL)
        return np.stack([np.where(folded > bulk, folded, bulk), _ess(z),
                         np.where(high < low, high, low)])  # fmt: skip

    out = _by_chunks(draws, three, min_chains=1, rows=3)
    if np.shape(draws)[0] < 2:
        out[0] = np.nan  # R-hat needs two chains
    return out[0], out[1], out[2]


def _by_chunks(draws: np.ndarray, fn, min_chains: int, rows: int = 0) -> np.ndarray:
    """``fn`` on ``(quantity, chain, draw)`` blocks of the draws; invalid quantities -> nan."""
    draws = np.asarray(draws, dtype=float)
    chains, n = draws.shape[:2]
    shape = draws.shape[2:]
    flat = draws.reshape(chains, n, -1)
    k = flat.shape[2]
    lead = (rows,) if rows else ()
    out = np.full(lead + (k,), np.nan)
    if chains < min_chains or n < 4 or k == 0:
        return out.reshape(lead + shape)
    step = max(1, CHUNK // (chains * n))
    for start in range(0, k, step):
        block = np.ascontiguousarray(np.moveaxis(flat[:, :, start : start + step], 2, 0))
        finite = np.isfinite(block).all(axis=(1, 2))
        if finite.any():
            values = np.full(lead + (len(block),), np.nan)
            values[..., finite] = fn(block[finite])
            out[..., start : start + len(block)] = values
    return out.reshape(lead + shape)


def _split(x: np.ndarray) -> np.ndarray:
    """Each chain cut in two halves (the middle draw of an odd length left out)."""
    half = x.shape[2] // 2
    return np.concatenate([x[:, :, :half], x[:, :, -half:]], axis=1)


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..N of each row's values, ties given their average rank."""
    order = np.argsort(x, axis=1)
    values = np.take_along_axis(x, order, axis=1)
    new = np.ones(x.shape, dtype=bool)
    new[:, 1:] = values[:, 1:] != values[:, :-1]
    ranks = np.empty(x.shape)
    n = x.shape[1]
    plain = new.all(axis=1)  # no ties (nearly every row of float draws): rank = place in order
    if plain.any():
        inverse = np.empty((int(plain.sum()), n))
        np.put_along_axis(inverse, order[plain], np.arange(1.0, n + 1.0)[None, :], axis=1)
        ranks[plain] = inverse
    if not plain.all():
        tied = ~plain
        ranks[tied] = _tied_ranks(order[tied], new[tied])
    return ranks


def _tied_ranks(order: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Average ranks from each row's sort ``order`` and where a new value starts in it."""
    n = order.shape[1]
    pos = np.broadcast_to(np.arange(n), order.shape)
    first = np.maximum.accumulate(np.where(new, pos, 0), axis=1)
    end = np.ones(order.shape, dtype=bool)
    end[:, :-1] = new[:, 1:]
    last = np.minimum.accumulate(np.where(end, pos, n - 1)[:, ::-1], axis=1)[:, ::-1]
    ranks = np.empty(order.shape)
    np.put_along_axis(ranks, order, (first + last) / 2.0 + 1.0, axis=1)
    return ranks


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Normal scores of the pooled ranks (Blom's offset 3/8), per quantity."""
    k, m, n = x.shape
    size = m * n
    ranks = _ranks(x.reshape(k, size))
    return ndtri((ranks - 3 / 8) / (size - 2 * (3 / 8) + 1)).reshape(x.shape)


def _rhat_plain(x: np.ndarray) -> np.ndarray:
    n = x.shape[2]
    chain_mean = x.mean(axis=2)
    within = x.var(axis=2, ddof=1).mean(axis=1)
    between = n * chain_mean.var(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):  # a constant: 0 / 0, nan as ArviZ
        return np.sqrt((between / within + n - 1) / n)


def _rhat_rank(x: np.ndarray) -> np.ndarray:
    split = _split(x)
    bulk = _rhat_plain(_z_scale(split))
    median = np.median(split.reshape(len(split), -1), axis=1)
    tail = _rhat_plain(_z_scale(np.abs(split - median[:, None, None])))
    return np.where(tail > bulk, tail, bulk)  # max() of ArviZ: nan where the bulk one is


def _quantile(x: np.ndarray, p: float) -> np.ndarray:
    """Each quantity's ``p`` quantile, R's type 7, with the arithmetic of SciPy's mquantiles."""
    flat = x.reshape(len(x), -1)
    n = flat.shape[1]
    aleph = n * p + (1.0 + p * (1.0 - 1.0 - 1.0))  # alphap = betap = 1, in mquantiles' order
    k = int(np.floor(np.clip(aleph, 1, n - 1)))
    gamma = float(np.clip(aleph - k, 0, 1))
    # the k-th and (k+1)-th smallest values, as a full sort would place them
    part = np.partition(flat, (k - 1, k), axis=1)
    return (1.0 - gamma) * part[:, k - 1] + gamma * part[:, k]


def _autocov(x: np.ndarray) -> np.ndarray:
    """Autocovariance of each chain at every lag (FFT), as ArviZ's ``autocov``."""
    n = x.shape[-1]
    m = _fast_len(2 * n)
    centred = x - x.mean(axis=-1, keepdims=True)
    f = np.fft.rfft(centred, n=m, axis=-1)
    f *= np.conjugate(f)
    return np.fft.irfft(f, n=m, axis=-1)[..., :n] / n


def _fast_len(target: int) -> int:
    from scipy.fft import next_fast_len

    return next_fast_len(target)


def _ess(x: np.ndarray) -> np.ndarray:
    """ESS of ``(quantity, chain, draw)`` draws: Geyer's initial monotone sequence estimator.

    ArviZ's ``_ess`` loop, run for all quantities at once: the positive
    sequence stops, per quantity, at the first pair of autocorrelations whose
    sum is not positive; the monotone sequence is a running minimum of the
    pair sums before it.
    """
    x = np.asarray(x, dtype=float)
    k, m, n = x.shape
    total = m * n
    out = np.empty(k)
    constant = (x.max(axis=(1, 2)) - x.min(axis=(1, 2))) < np.finfo(float).resolution
    out[constant] = total
    idx = np.flatnonzero(~constant)
    if not len(idx):
        return out
    x = x[idx]
    acov = _autocov(x)
    chain_mean = x.mean(axis=2)
    mean_var = acov[:, :, 0].mean(axis=1) * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if m > 1:
        var_plus = var_plus + chain_mean.var(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = 1.0 - (mean_var[:, None] - acov.mean(axis=1)) / var_plus[:, None]  # (quantity, lag)
    r[:, 0] = 1.0
    # pairs (r[2j], r[2j+1]); ArviZ's loop visits j = 1, 2, ... while 2j - 1 < n - 3
    cap = max(0, -(-(n - 2) // 2) - 1)  # the last j it can visit
    npairs = cap + 1
    pairs = np.zeros((len(x), npairs, 2))
    width = min(2 * npairs, n)
    pairs.reshape(len(x), -1)[:, :width] = r[:, :width]
    sums = pairs.sum(axis=2)  # sums[:, 0] = 1 + r[1]
    nonpos = sums <= 0.0
    nonpos[:, cap] = True  # the loop ends at the cap whatever the sum
    stop = np.argmax(nonpos, axis=1)  # J: pairs 1..J visited (0: none)
    j = np.arange(npairs)
    # visited pairs are kept when their sum is >= 0 (pair 0 always)
    keep = (j[None, :] <= stop[:, None]) & ((sums >= 0.0) | (j[None, :] == 0))
    rho = np.where(keep[..., None], pairs, 0.0)
    last_even = pairs[np.arange(len(x)), stop, 0]
    last_even = np.where(stop == 0, 1.0, last_even)
    # "improve estimation": the last visited even lag is kept if positive
    rows = np.flatnonzero(last_even > 0)
    rho[rows, stop[rows], 0] = last_even[rows]
    # initial monotone sequence: pair sums 1..J-1 at most the one before
    psum = rho.sum(axis=2)
    run_min = np.minimum.accumulate(psum, axis=1)
    lower = (j[None, :] >= 1) & (j[None, :] <= stop[:, None] - 1) & (psum > run_min)
    half = np.roll(run_min, 1, axis=1) / 2.0  # the running minimum before pair j, halved
    rho[..., 0] = np.where(lower, half, rho[..., 0])
    rho[..., 1] = np.where(lower, half, rho[..., 1])
    # tau = -1 + 2 * sum(rho[: max_t + 1]) + rho[max_t + 1], with max_t = 2J - 1
    flat = rho.reshape(len(x), -1)
    upto = np.arange(flat.shape[1])[None, :] < (2 * stop)[:, None]
    tau = -1.0 + 2.0 * np.where(upto, flat, 0.0).sum(axis=1) + flat[np.arange(len(x)), 2 * stop]
    tau = np.maximum(tau, 1.0 / np.log10(total))
    ess = total / tau
    ess[np.isnan(flat).any(axis=1)] = np.nan
    out[idx] = ess
    return out
