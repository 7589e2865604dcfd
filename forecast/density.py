"""The connected part's log density and its gradient, compiled once by numba.

NUTS needs ``log p(x | outcomes)`` and its gradient at every leapfrog step,
where ``x`` holds the connected part's free variables on the unconstrained
scale PyMC samples them on (log for the pool's spreads, log-odds for the
information overlap and a graded source's reliability). The PyMC model
(``forecast.model.build_model``) is the reference; this is its twin as one
numba kernel with a hand-written gradient, compiled to the machine's cache
once (``cache=True``): a process loads it in a fraction of a second instead
of importing PyMC and compiling a graph. ``tests/test_density.py`` checks
the log density (up to its constant) and the gradient against PyMC's at
random points, under both poolings.

:func:`layout` places each free variable in ``x`` and gathers the arrays the
kernel reads; :func:`expand` maps draws of ``x`` to the model's variables.
nutpie reaches the kernel through the C callbacks of ``forecast.density_c``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from forecast.codebook import DEFAULT_PRIOR_SD
from forecast.forward import TEAM, _direct_sd, free_entities, pooled
from forecast.model import POOL_PRIORS, ModelData, unstated_targets

# Transform of each bounded variable: x -> its value (PyMC's defaults for these priors).
_LOG = ("offset_spread", "log_slope_spread")  # HalfNormal: log
_LOGODDS = ("info_overlap", "reliability")  # Beta: log-odds


# The kernel's data, packed in one int64 and one float64 array (so a C callback
# reaches all of it through one pointer), as named segments in this order.
_INTS = ("team", "sizes", "st_a", "st_t", "free_t", "graded_of", "item_source", "ptr",
         "members", "cluster_target", "resolved")  # fmt: skip
_FLOATS = ("pool", "coding", "st_mu", "st_sigma", "st_n", "free_mu", "free_sd", "shift",
           "loadings", "beta_a", "beta_b", "fixed_rel", "item_k", "log_lr", "outcomes")  # fmt: skip
# "sizes": where each variable starts in x (-1: absent), and counts
_SIZES = ("n_analysts", "at_oz", "at_lz", "at_eps", "at_free", "nq", "nd", "at_rel", "at_cod",
          "centred")  # fmt: skip


@dataclass(frozen=True)
class Layout:
    """Where each free variable of the connected part sits in ``x``, and the kernel's data."""

    slices: dict[str, slice]  # free variable (forward.free_entities name) -> its part of x
    names: dict[str, str]  # free variable -> its name in the model's trace
    ndim: int
    centre: np.ndarray  # prior centre of each coordinate of x (chains start near it)
    ints: np.ndarray  # the _INTS segments, concatenated
    floats: np.ndarray  # the _FLOATS segments, concatenated
    bounds: np.ndarray  # segment k of ints: ints[bounds[k]:bounds[k+1]]; floats after
    centred: bool = False  # sampled in centred log-slopes (to_model)

    def data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.ints, self.floats, self.bounds


def layout(d: ModelData, centred: bool = False) -> Layout:
    """The unconstrained vector of ``d``'s free variables and the arrays the kernel reads.

    ``centred``: the sampler moves each analyst's log-slope itself instead of
    its standardised deviation ``log_slope_z`` (the same posterior, other
    coordinates; see :func:`to_model`).
    """
    from forecast.partition import model_names

    entities = {name: keys for name, keys in free_entities(d).items() if keys}
    slices: dict[str, slice] = {}
    start = 0
    for name, keys in entities.items():
        slices[name] = slice(start, start + len(keys))
        start += len(keys)

    def at(name: str) -> int:  # first index of a variable in x; -1 when absent
        return slices[name].start if name in slices else -1

    nq, nd = len(d.questions), len(d.drivers)
    nt = nq + nd
    is_pooled = pooled(d)
    count = np.bincount(d.stmt_target, minlength=nt).astype(float)
    stmts = np.arange(len(d.stmt_mu) if is_pooled else 0)  # statements are data of the pool

    # targets with a free prior of their own, its Normal, and the centre it is shifted by
    free_t = unstated_targets(d) if is_pooled else np.arange(nt)
    if d.pooling == "direct":
        free_mu, free_sd = d.prior_mu[free_t], _direct_sd(d)[free_t]
    else:
        free_mu, free_sd = np.zeros(len(free_t)), np.full(len(free_t), DEFAULT_PRIOR_SD)
    # a driver's deviation from its centre is what the questions loading on it share
    shift = np.zeros(len(free_t))
    if not is_pooled:
        drivers = free_t >= nq
        shift[drivers] = d.driver_centre[free_t[drivers] - nq]

    # evidence: each cluster's items, as compressed rows
    members = np.argsort(d.item_cluster, kind="stable")
    ptr = np.zeros(len(d.clusters) + 1, dtype=np.int64)
    np.cumsum(np.bincount(d.item_cluster, minlength=len(d.clusters)), out=ptr[1:])
    graded_of = np.full(len(d.sources), -1, dtype=np.int64)
    graded_of[np.flatnonzero(d.graded)] = np.arange(int(d.graded.sum()))

    P = POOL_PRIORS
    overlap = P["overlap_beta"] or (1.0, 1.0)
    coding_mu = -(d.coding_sd**2) / 2
    sizes = {"n_analysts": len(d.analysts) if is_pooled else 0, "nq": nq, "nd": nd,
             "centred": int(centred and is_pooled)}  # fmt: skip
    sizes |= {k: at(v) for k, v in (("at_oz", "offset_z"), ("at_lz", "log_slope_z"),
              ("at_eps", "stated_z"), ("at_free", "free_prior"), ("at_rel", "reliability"),
              ("at_cod", "coding"))}  # fmt: skip
    ints = {
        "team": [at(n) for n in TEAM], "sizes": [sizes[k] for k in _SIZES],
        "st_a": d.stmt_analyst[stmts], "st_t": d.stmt_target[stmts], "free_t": free_t,
        "graded_of": graded_of, "item_source": d.item_source, "ptr": ptr, "members": members,
        "cluster_target": d.cluster_target, "resolved": d.resolved,
    }  # fmt: skip
    floats = {
        "pool": [P["offset_mean_sd"], P["offset_spread_sd"], P["log_slope_mean_sd"],
                 P["log_slope_spread_sd"], overlap[0], overlap[1]],
        "coding": [coding_mu, d.coding_sd], "st_mu": d.stmt_mu[stmts],
        "st_sigma": d.stmt_sigma[stmts], "st_n": count[d.stmt_target[stmts]],
        "free_mu": free_mu, "free_sd": free_sd, "shift": shift, "loadings": d.loadings.ravel(),
        "beta_a": d.beta_a, "beta_b": d.beta_b, "fixed_rel": np.nan_to_num(d.fixed_reliability),
        "item_k": d.item_k, "log_lr": d.cluster_log_lr, "outcomes": d.outcomes,
    }  # fmt: skip
    int_parts = [np.asarray(ints[k], dtype=np.int64).ravel() for k in _INTS]
    float_parts = [np.asarray(floats[k], dtype=np.float64).ravel() for k in _FLOATS]
    bounds = np.concatenate([np.cumsum([0] + [len(a) for a in parts])
                             for parts in (int_parts, float_parts)])  # fmt: skip

    centre = np.zeros(start)
    if "free_prior" in slices:
        centre[slices["free_prior"]] = free_mu
    if "coding" in slices:
        centre[slices["coding"]] = coding_mu
    if "reliability" in slices:
        centre[slices["reliability"]] = np.log(d.beta_a / d.beta_b)  # log-odds of the mean
    return Layout(
        slices, model_names(d), start, centre,
        np.concatenate(int_parts), np.concatenate(float_parts), bounds.astype(np.int64),
        bool(sizes["centred"]),
    )  # fmt: skip


def to_model(lay: Layout, y: np.ndarray) -> np.ndarray:
    """Sampler coordinates to the model's: ``log_slope_z = (log slope - mean) / spread``."""
    if not lay.centred:
        return y
    x = np.array(y, dtype=float)
    mean = y[..., lay.slices["log_slope_mean"]]
    spread = np.exp(y[..., lay.slices["log_slope_spread"]])
    x[..., lay.slices["log_slope_z"]] = (y[..., lay.slices["log_slope_z"]] - mean) / spread
    return x


def expand(lay: Layout, d: ModelData, y: np.ndarray) -> dict[str, np.ndarray]:
    """Draws of ``y`` (shape ``(..., ndim)``) as the model's free variables, by trace name."""
    x = to_model(lay, y)
    out: dict[str, np.ndarray] = {}
    for name, part in lay.slices.items():
        value = x[..., part]
        if name in _LOG:
            value = np.exp(value)
        elif name in _LOGODDS:
            value = 1.0 / (1.0 + np.exp(-value))
        if name in TEAM:
            value = value[..., 0]
        trace_name = lay.names[name]
        if trace_name == "theta0+z_prior":
            nq = len(d.questions)
            out["theta0"], out["z_prior"] = value[..., :nq], value[..., nq:]
        else:
            out[trace_name] = value
    return out


def logp_and_grad(lay: Layout, sampler: bool = False):
    """``f(x) -> (log density, gradient)``: the compiled kernel bound to ``lay``'s data.

    ``sampler``: in the sampler's coordinates (with the log-Jacobian of
    :func:`to_model`), else in the model's.
    """
    ints, floats, bounds = lay.data()
    kernel = _sampler_logp_grad if sampler else _logp_grad

    def f(x: np.ndarray) -> tuple[float, np.ndarray]:
        grad = np.empty(lay.ndim)
        return kernel(np.ascontiguousarray(x, dtype=np.float64), grad, ints, floats,
                      bounds), grad  # fmt: skip

    return f


# compiled on first use, then loaded from numba's cache; nogil: chains run in threads
_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@_jit
def _softplus(v):
    """``log(1 + exp(v))`` without overflow."""
    return v + np.log1p(np.exp(-v)) if v > 0 else np.log1p(np.exp(v))


@_jit
def _segment(block, bounds, k):
    return block[bounds[k] : bounds[k + 1]]


@_jit
def _logp_grad(x, grad, ints, floats, bounds):
    """Log density of ``x`` (up to a constant) and, into ``grad``, its gradient.

    Forward pass as ``build_model`` computes it; then the reverse pass, by
    the chain rule through the same quantities. ``ints``, ``floats`` and
    ``bounds``: :class:`Layout`'s packed data.
    """
    ints_at, floats_at = bounds[: len(_INTS) + 1], bounds[len(_INTS) + 1 :]
    team = _segment(ints, ints_at, 0)
    sizes = _segment(ints, ints_at, 1)
    st_a = _segment(ints, ints_at, 2)
    st_t = _segment(ints, ints_at, 3)
    free_t = _segment(ints, ints_at, 4)
    graded_of = _segment(ints, ints_at, 5)
    item_source = _segment(ints, ints_at, 6)
    ptr = _segment(ints, ints_at, 7)
    members = _segment(ints, ints_at, 8)
    cluster_target = _segment(ints, ints_at, 9)
    resolved = _segment(ints, ints_at, 10)
    pool_sd = _segment(floats, floats_at, 0)
    coding = _segment(floats, floats_at, 1)
    st_mu = _segment(floats, floats_at, 2)
    st_sigma = _segment(floats, floats_at, 3)
    st_n = _segment(floats, floats_at, 4)
    free_mu = _segment(floats, floats_at, 5)
    free_sd = _segment(floats, floats_at, 6)
    shift = _segment(floats, floats_at, 7)
    loadings = _segment(floats, floats_at, 8)
    beta_a = _segment(floats, floats_at, 9)
    beta_b = _segment(floats, floats_at, 10)
    fixed_rel = _segment(floats, floats_at, 11)
    item_k = _segment(floats, floats_at, 12)
    log_lr = _segment(floats, floats_at, 13)
    outcomes = _segment(floats, floats_at, 14)
    n_analysts, at_oz, at_lz, at_eps = sizes[0], sizes[1], sizes[2], sizes[3]
    # sizes[9], centred slopes, is _sampler_logp_grad's
    at_free, nq, nd, at_rel, at_cod = sizes[4], sizes[5], sizes[6], sizes[7], sizes[8]
    cod_mu, cod_sd = coding[0], coding[1]
    B = loadings.reshape((nq, nd))
    nt = nq + nd
    for i in range(x.shape[0]):
        grad[i] = 0.0
    lp = 0.0

    # --- priors of the free variables (with the log-Jacobians of their transforms)
    for i in range(2):  # offset_mean, log_slope_mean: Normal(0, sd)
        j = team[2 * i]
        if j >= 0:
            sd = pool_sd[2 * i]
            lp -= 0.5 * (x[j] / sd) ** 2
            grad[j] -= x[j] / sd**2
        j = team[2 * i + 1]  # the spreads: HalfNormal(sd) on log scale
        if j >= 0:
            sd = pool_sd[2 * i + 1]
            s = np.exp(x[j])
            lp += -0.5 * (s / sd) ** 2 + x[j]
            grad[j] += 1.0 - (s / sd) ** 2
    j_om = team[4]  # info_overlap: Beta(a, b) on log-odds
    omega = 1.0
    if j_om >= 0:
        a, b = pool_sd[4], pool_sd[5]
        lp -= a * _softplus(-x[j_om]) + b * _softplus(x[j_om])
        omega = 1.0 / (1.0 + np.exp(-x[j_om]))
        grad[j_om] += a * (1.0 - omega) - b * omega
    for k in range(n_analysts):
        lp -= 0.5 * (x[at_oz + k] ** 2 + x[at_lz + k] ** 2)
        grad[at_oz + k] -= x[at_oz + k]
        grad[at_lz + k] -= x[at_lz + k]
    n_st = st_mu.shape[0]
    if at_eps >= 0:
        for i in range(n_st):
            lp -= 0.5 * x[at_eps + i] ** 2
            grad[at_eps + i] -= x[at_eps + i]
    for k in range(free_t.shape[0]):
        j = at_free + k
        z = (x[j] - free_mu[k]) / free_sd[k]
        lp -= 0.5 * z * z
        grad[j] -= z / free_sd[k]
    n_graded = beta_a.shape[0]
    if at_rel >= 0:
        for g in range(n_graded):
            j = at_rel + g
            lp -= beta_a[g] * _softplus(-x[j]) + beta_b[g] * _softplus(x[j])
            r = 1.0 / (1.0 + np.exp(-x[j]))
            grad[j] += beta_a[g] * (1.0 - r) - beta_b[g] * r
    nc = log_lr.shape[0]
    if at_cod >= 0:
        for c in range(nc):
            j = at_cod + c
            z = (x[j] - cod_mu) / cod_sd
            lp -= 0.5 * z * z
            grad[j] -= z / cod_sd

    # --- forward: prior log-odds of every target
    total = np.zeros(nt)  # theta0 (questions), z0 (drivers)
    shared = np.zeros(nd)  # each driver's deviation the questions loading on it share
    if n_st:
        om, lm = x[team[0]], x[team[2]]
        os_, ls = np.exp(x[team[1]]), np.exp(x[team[3]])
        for i in range(n_st):
            a, t = st_a[i], st_t[i]
            slope = np.exp(lm + ls * x[at_lz + a])
            n = st_n[i]
            f = n / (1.0 + (n - 1.0) * omega)
            centre = (om + os_ * x[at_oz + a] + f * slope * st_mu[i]) / n
            spread = 0.0
            if at_eps >= 0:
                spread = f * slope * st_sigma[i] * x[at_eps + i] / n
            total[t] += centre + spread
            if t >= nq:
                shared[t - nq] += spread
    for k in range(free_t.shape[0]):
        t = free_t[k]
        total[t] = x[at_free + k]
        if t >= nq:
            shared[t - nq] = x[at_free + k] - shift[k]

    # --- forward: evidence weights, pushed onto their targets
    rel = fixed_rel.copy()
    if at_rel >= 0:
        for s in range(rel.shape[0]):
            if graded_of[s] >= 0:
                rel[s] = 1.0 / (1.0 + np.exp(-x[at_rel + graded_of[s]]))
    push = np.zeros(nt)
    rho = np.empty(nc)
    lam = np.empty(nc)
    em1 = np.empty(nc)  # exp(lam) - 1
    for c in range(nc):
        keep = 1.0
        for p in range(ptr[c], ptr[c + 1]):
            e = members[p]
            keep *= 1.0 - rel[item_source[e]] * item_k[e]
        rho[c] = 1.0 - keep
        lam[c] = log_lr[c] * np.exp(x[at_cod + c]) if at_cod >= 0 else log_lr[c]
        em1[c] = np.expm1(lam[c])
        push[cluster_target[c]] += np.log1p(rho[c] * em1[c])

    # --- likelihood of the outcomes, and its gradient with respect to theta
    g_theta = np.zeros(nq)
    for r in range(resolved.shape[0]):
        q = resolved[r]
        theta = total[q] + push[q]
        for j in range(nd):
            theta += B[q, j] * (shared[j] + push[nq + j])
        if outcomes[r] > 0.5:
            lp -= _softplus(-theta)
        else:
            lp -= _softplus(theta)
        g_theta[q] = outcomes[r] - 1.0 / (1.0 + np.exp(-theta))
    g_driver = np.zeros(nd)  # d log p / d (shared deviation or push) of each driver
    for q in range(nq):
        for j in range(nd):
            g_driver[j] += B[q, j] * g_theta[q]

    # --- reverse: evidence
    g_rel = np.zeros(rel.shape[0])
    widest = 0
    for c in range(nc):
        widest = max(widest, ptr[c + 1] - ptr[c])
    after = np.empty(widest + 1)
    for c in range(nc):
        t = cluster_target[c]
        g_w = g_theta[t] if t < nq else g_driver[t - nq]
        if g_w == 0.0:
            continue
        denom = 1.0 + rho[c] * em1[c]
        if at_cod >= 0:  # d w / d lam * d lam / d eps
            grad[at_cod + c] += g_w * rho[c] * (em1[c] + 1.0) / denom * lam[c]
        if at_rel >= 0:
            g_rho = g_w * em1[c] / denom
            # d rho / d rho_e = the product of the other items' (1 - rho_e'), as the
            # product of those before it times those after it (no division by 1 - rho_e)
            lo, hi = ptr[c], ptr[c + 1]
            after[hi - lo] = 1.0
            for p in range(hi - 1, lo - 1, -1):
                e = members[p]
                after[p - lo] = after[p - lo + 1] * (1.0 - rel[item_source[e]] * item_k[e])
            before = 1.0
            for p in range(lo, hi):
                e = members[p]
                s = item_source[e]
                if graded_of[s] >= 0:
                    g_rel[s] += g_rho * before * after[p - lo + 1] * item_k[e]
                before *= 1.0 - rel[s] * item_k[e]
    if at_rel >= 0:
        for s in range(rel.shape[0]):
            if graded_of[s] >= 0:
                grad[at_rel + graded_of[s]] += g_rel[s] * rel[s] * (1.0 - rel[s])

    # --- reverse: targets' own priors
    for k in range(free_t.shape[0]):
        t = free_t[k]
        grad[at_free + k] += g_theta[t] if t < nq else g_driver[t - nq]
    if n_st:
        om, lm = x[team[0]], x[team[2]]
        os_, ls = np.exp(x[team[1]]), np.exp(x[team[3]])
        g_om = g_os = g_lm = g_ls = g_omega = 0.0
        for i in range(n_st):
            a, t = st_a[i], st_t[i]
            g_centre = g_theta[t] if t < nq else 0.0  # a driver's centre reaches no question
            g_spread = g_theta[t] if t < nq else g_driver[t - nq]
            if g_centre == 0.0 and g_spread == 0.0:
                continue
            slope = np.exp(lm + ls * x[at_lz + a])
            n = st_n[i]
            f = n / (1.0 + (n - 1.0) * omega)
            eps = x[at_eps + i] if at_eps >= 0 else 0.0
            # centre = (offset_a + f slope mu) / n; spread = f slope sigma eps / n
            g_offset = g_centre / n
            g_fslope = (g_centre * st_mu[i] + g_spread * st_sigma[i] * eps) / n
            g_om += g_offset
            g_os += g_offset * x[at_oz + a]
            grad[at_oz + a] += g_offset * os_
            g_log_slope = g_fslope * f * slope
            g_lm += g_log_slope
            g_ls += g_log_slope * x[at_lz + a]
            grad[at_lz + a] += g_log_slope * ls
            g_omega -= g_fslope * slope * n * (n - 1.0) / (1.0 + (n - 1.0) * omega) ** 2
            if at_eps >= 0:
                grad[at_eps + i] += g_spread * f * slope * st_sigma[i] / n
        grad[team[0]] += g_om
        grad[team[1]] += g_os * os_
        grad[team[2]] += g_lm
        grad[team[3]] += g_ls * ls
        if j_om >= 0:
            grad[j_om] += g_omega * omega * (1.0 - omega)
    return lp


@_jit
def _sampler_logp_grad(y, grad, ints, floats, bounds):
    """:func:`_logp_grad` in the sampler's coordinates (centred log-slopes, if so laid out).

    With ``c_a = mean + spread * z_a`` sampled in place of ``z_a``, the density
    gains the log-Jacobian ``-n_analysts * log(spread)``; the gradient follows
    by the chain rule.
    """
    team = _segment(ints, bounds, 0)
    sizes = _segment(ints, bounds, 1)
    n, at_lz = sizes[0], sizes[2]
    if sizes[9] == 0 or n == 0:
        return _logp_grad(y, grad, ints, floats, bounds)
    j_mean, j_spread = team[2], team[3]
    spread = np.exp(y[j_spread])
    x = y.copy()
    for a in range(n):
        x[at_lz + a] = (y[at_lz + a] - y[j_mean]) / spread
    lp = _logp_grad(x, grad, ints, floats, bounds)
    for a in range(n):
        g_z = grad[at_lz + a]
        grad[at_lz + a] = g_z / spread
        grad[j_mean] -= g_z / spread
        grad[j_spread] -= g_z * x[at_lz + a]  # d z / d log(spread) = -z
    grad[j_spread] -= n
    return lp - n * y[j_spread]
