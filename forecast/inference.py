"""Sampling, diagnostics, seeds and reuse of stored runs.

NUTS on the part of the model the resolved questions inform, exact forward
draws (NumPy) for the rest; the NUTS draws are cached by the content of that
part. Every run is judged by R-hat, bulk/tail ESS and divergences of the
quantities it reports and of the variables NUTS sampled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from forecast.errors import RunError

if TYPE_CHECKING:
    from forecast.runs import Run
    from forecast.trace import Trace
    from forecast.workspace import Settings, Workspace

RHAT_MAX = 1.01
NUTS_CACHE = Path(".forecast") / "nuts"  # NUTS draws of the resolved part, by content hash
ESS_MIN = 400
# Quantities a report shows; each must pass the checks.
REPORTED = ("prob", "prob_prior", "w", "z")

# progress(done, total, message): called while sampling; the CLI draws the bar
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Diagnostics:
    method: str  # "nuts" or "forward"
    divergences: int
    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    problems: tuple[str, ...] = field(default=())  # each says what failed and what to do

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {**asdict(self), "problems": list(self.problems), "ok": self.ok}

    @classmethod
    def from_dict(cls, data: dict) -> Diagnostics:
        return cls(
            method=str(data["method"]),
            divergences=int(data["divergences"]),
            max_rhat=float(data["max_rhat"]),
            min_ess_bulk=float(data["min_ess_bulk"]),
            min_ess_tail=float(data["min_ess_tail"]),
            problems=tuple(data.get("problems", ())),
        )


def sample(
    ws: Workspace,
    settings: Settings | None = None,
    progress: Progress | None = None,
    cores: int | None = None,
    cache_dir: Path | None = None,
    store: bool = True,
) -> tuple[Trace, Diagnostics]:
    """Draw from the posterior of the model of ``ws``.

    NUTS samples only the part the resolved questions inform
    (``forecast.partition``); everything else is drawn forward, exactly, in
    NumPy, given those draws (``forecast.forward``). With ``cache_dir``, the
    NUTS draws are stored there under the content hash of that part and
    reused, so a change elsewhere (evidence on an open question) samples
    nothing; ``store=False`` reads the cache but writes nothing. Same
    workspace, same settings (seed included) -> identical draws, whatever
    ``cores`` is: NUTS chains run in that many processes (default: one per
    chain, up to the machine's cores), each seeded alike.
    """
    from dataclasses import replace

    from forecast.forward import deterministics, free_draws
    from forecast.model import model_data
    from forecast.partition import connected_data, given_from_trace

    settings = settings or ws.settings
    if settings != ws.settings:
        ws = replace(ws, settings=settings)
    data = model_data(ws)
    sub = connected_data(data)
    shape = (settings.chains, settings.draws)
    stats: dict = {}
    given: dict = {}
    if sub is not None:
        trace, stats = _connected_draws(sub, settings, progress, cache_dir, store, cores)
        given = given_from_trace(sub, trace)
        method = "nuts"
    else:
        if progress:
            progress(0, 1, "drawing forward (nothing resolved: exact draws)")
        method = "forward"
    import xarray as xr

    from forecast.posterior import DIAGNOSTICS, SUMMARY
    from forecast.trace import Trace

    free = free_draws(data, settings.seed, shape, given)
    # per-cluster and per-item draws too large to hold whole are summarised as drawn
    streamed = per_item_bytes(data, shape) > PER_ITEM_BUDGET
    values = deterministics(data, free, per_item=not streamed)
    nuts_vars = _full_names(data, {name for name, _ in given})
    idata = _inference_data(data, values, stats, nuts_vars)
    del values
    on_nuts = _clusters_on_nuts(data, given)
    summary, extra = xr.Dataset(), {}
    if streamed:
        from forecast.trace import streamed_summary

        cpos = {c: i for i, c in enumerate(data.clusters)}
        summary, extra = streamed_summary(
            data, ws, free, idata.posterior, [cpos[c] for c in on_nuts]
        )
    del free
    if progress and sub is None:
        progress(1, 1, "drawn")
    diagnostics, checked = _diagnose(idata, method, clusters=on_nuts, extra=extra)
    if "prob" in checked:  # each question's, as forecast.posterior.prob_diagnostics gives them
        question = idata.posterior["prob"].coords["question"].values
        for k, v in zip(DIAGNOSTICS, checked["prob"], strict=True):
            summary[f"prob_{k}"] = xr.DataArray(v, dims="question", coords={"question": question})
    if summary.data_vars:
        idata = Trace({**{g: idata[g] for g in idata.groups()}, SUMMARY: summary})
    return idata, diagnostics


PER_ITEM_BUDGET = 1 << 30  # bytes of per-cluster and per-item draws held whole, at most


def per_item_bytes(data, shape: tuple[int, int]) -> int:
    """Bytes of the draws of ``coding``, ``lam``, ``rho``, ``w`` and ``rho_item`` (float64)."""
    per_cluster = 4 if data.coding_sd > 0 else 3
    return 8 * shape[0] * shape[1] * (per_cluster * len(data.clusters) + len(data.evidence))


def _clusters_on_nuts(data, given: dict) -> list[str]:
    """Clusters whose weight depends on a NUTS draw (its coding error or a source's reliability).

    Every other cluster's weight is a function of independent exact draws,
    with no convergence to check.
    """
    sources = {data.sources.index(key) for name, key in given if name == "reliability"}
    on_nuts = {key for name, key in given if name == "coding"}
    on_nuts |= {data.clusters[c] for e, c in enumerate(data.item_cluster)
                if data.item_source[e] in sources}  # fmt: skip
    return [c for c in data.clusters if c in on_nuts]


def _full_names(data, entities: set[str]) -> list[str]:
    """Names, in the trace of ``data``'s model, of the free variables in ``entities``."""
    from forecast.partition import model_names

    names = model_names(data)
    return sorted({n for e in entities if e in names for n in names[e].split("+")})


def _inference_data(data, values: dict, stats: dict, nuts_vars: list[str]) -> Trace:
    import xarray as xr

    from forecast.forward import dims
    from forecast.trace import Trace

    entity = dims(data)
    chains, draws = values["prob"].shape[:2]
    base = {"chain": np.arange(chains), "draw": np.arange(draws)}
    variables = {}
    for name, value in values.items():
        if name in entity:
            dim, coords = entity[name]
            variables[name] = xr.DataArray(
                value, dims=("chain", "draw", dim), coords={**base, dim: coords}
            )
        else:
            variables[name] = xr.DataArray(value, dims=("chain", "draw"), coords=base)
    posterior = xr.Dataset(variables)
    posterior.attrs["nuts_vars"] = ",".join(nuts_vars)
    groups = {"posterior": posterior}
    if stats:
        groups["sample_stats"] = xr.Dataset(
            {k: xr.DataArray(v, dims=("chain", "draw"), coords=base) for k, v in stats.items()}
        )
    return Trace(groups)


def _connected_draws(
    sub,
    settings: Settings,
    progress: Progress | None,
    cache_dir: Path | None,
    store: bool,
    cores: int | None = None,
):
    """NUTS draws of the connected part: ``(free variables, sample stats)``, cached.

    The key names the sampler: nutpie where it runs, else PyMC's NUTS (whose
    draws differ, so they are stored apart).
    """
    from forecast import nuts, nuts_cache
    from forecast.partition import content_key

    settings_used = {
        k: getattr(settings, k) for k in ("seed", "draws", "tune", "chains", "target_accept")
    }
    for sampler in nuts.samplers():
        key = content_key(sub, settings_used | {"sampler": sampler}, nuts_cache.engine_version())
        if cache_dir is not None:
            found = nuts_cache.load(cache_dir, key)
            if found is not None:
                if progress:
                    progress(1, 1, "NUTS draws of the resolved part reused (unchanged)")
                return found
        try:
            trace, stats = _nuts(sub, settings, progress, cores, sampler)
        except nuts.Unavailable:
            continue  # the next sampler: PyMC's, always there
        if cache_dir is not None and store:
            nuts_cache.store(cache_dir, key, trace, stats)
        return trace, stats
    raise AssertionError("PyMC's sampler is always available")  # pragma: no cover


def _nuts(sub, settings: Settings, progress: Progress | None, cores: int | None, sampler: str):
    from forecast import nuts

    return nuts.sample(sub, settings, sampler, progress, cores)


def diagnose(idata: Trace, method: str, clusters: list[str] | None = None) -> Diagnostics:
    """R-hat, bulk and tail ESS of every reported quantity; divergences.

    ``clusters``: the clusters whose weights to check (default: all). A
    cluster whose weight involves no NUTS draw is exact and independent:
    nothing to converge, and at scale most of the cost of these checks.
    ``idata``: a :class:`forecast.trace.Trace` or an ``arviz.InferenceData``.
    """
    return _diagnose(idata, method, clusters)[0]


def _diagnose(
    idata: Trace,
    method: str,
    clusters: list[str] | None = None,
    extra: dict[str, np.ndarray] | None = None,
) -> tuple[Diagnostics, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """:func:`diagnose`, and each checked variable's ``(rhat, ess_bulk, ess_tail)``.

    ``extra``: draws ``(chain, draw, k)`` of per-cluster variables the trace
    does not hold (a run summarised as drawn), already cut to ``clusters``.
    """
    from forecast.diagnostics import convergence

    post = idata.posterior
    # the reported quantities, and the free variables NUTS sampled
    sampled = [n for n in str(post.attrs.get("nuts_vars", "")).split(",") if n]
    names = [n for n in dict.fromkeys((*REPORTED, *sampled)) if n in post]
    post = post[names]
    if clusters is not None and "cluster" in post.dims:
        post = post.sel(cluster=list(clusters))
    names = [n for n in names if post[n].size]
    # a constant (fixed ratio, reliability 1) has no spread to diagnose
    varying = [n for n in names if float(post[n].std()) > 0]
    problems: list[str] = []
    divergences = 0
    if "sample_stats" in idata.groups() and "diverging" in idata.sample_stats:
        divergences = int(idata.sample_stats["diverging"].sum())
    checked = {n: convergence(np.asarray(post[n].values)) for n in varying}
    for n, x in (extra or {}).items():
        if n not in post and n in (*REPORTED, *sampled) and x.size and float(x.std()) > 0:
            varying.append(n)
            checked[n] = convergence(x)
    if varying:

        def extreme(i: int, fn) -> float:
            vals = np.concatenate([np.ravel(checked[n][i]) for n in varying])
            vals = vals[np.isfinite(vals)]
            return float(fn(vals)) if vals.size else float("nan")

        max_rhat, min_bulk, min_tail = extreme(0, np.max), extreme(1, np.min), extreme(2, np.min)
    else:
        max_rhat, min_bulk, min_tail = 1.0, float("inf"), float("inf")
    nchains = post.sizes["chain"]
    if nchains < 2 and method == "nuts":
        problems.append("R-hat needs at least 2 chains: run with --chains 4")
    if max_rhat > RHAT_MAX:
        problems.append(
            f"R-hat reaches {max_rhat:.3f} (> {RHAT_MAX}): the chains disagree; "
            "run longer (--draws 4000) and check the model before trusting the numbers"
        )
    if min(min_bulk, min_tail) < ESS_MIN:
        problems.append(
            f"effective sample size falls to {min(min_bulk, min_tail):.0f} (< {ESS_MIN}): "
            "too few independent draws for a stable interval; raise --draws"
        )
    if divergences:
        problems.append(
            f"{divergences} divergent transitions: the sampler missed part of the posterior; "
            "raise target_accept in forecast.toml [sampler] (e.g. 0.95) and look for a prior "
            "that fights the data"
        )
    diagnostics = Diagnostics(method, divergences, max_rhat, min_bulk, min_tail, tuple(problems))
    return diagnostics, checked


def ensure_run(
    ws: Workspace,
    settings: Settings | None = None,
    progress: Progress | None = None,
    reuse: bool = True,
    cores: int | None = None,
    *,
    ledger_optional: bool = False,
) -> Run:
    """The latest stored run for these exact inputs and settings, or a new one.

    Either way the run is recorded in the workspace's ledger (once). A locked
    or damaged ledger raises ``LedgerError`` before any sampling, unless
    ``ledger_optional``: then the run goes on unrecorded and its
    ``ledger_note`` says why. ``cores`` as in :func:`sample`.
    """
    from dataclasses import replace

    from forecast import ledger, runs

    settings = settings or ws.settings
    if not ledger_optional:
        ledger.check_ledger(ws.root)  # a locked or damaged ledger fails before sampling

    def recorded(run: Run, note: str = "") -> Run:
        try:
            ledger.record_run(ws, run)  # once: a reused run is not a new forecast
        except ledger.LedgerError as exc:
            if not ledger_optional:
                raise
            noted = replace(run, note=note or run.note, ledger_note=f"not recorded: {exc}")
        else:
            if not note:
                return run
            noted = replace(run, note=note)
        for held in ("trace", "idata"):  # already in memory
            if held in run.__dict__:
                noted.__dict__[held] = run.__dict__[held]
        return noted

    key = runs.run_key(ws, settings)
    note = ""
    if reuse:
        found = runs.find_run(ws, key)
        if found is not None:
            try:
                found.trace  # noqa: B018 - load it now: a damaged trace means sampling anew
                return recorded(found)
            except RunError as exc:
                note = f"stored run {found.run_id} is damaged ({exc}); sampling it anew"
        elif damaged := runs.damaged_runs(ws, key):
            note = (
                f"stored run {', '.join(damaged)} is damaged (unreadable manifest or missing "
                "trace.nc); sampling it anew"
            )
    idata, diagnostics = sample(ws, settings, progress, cores, cache_dir=Path(ws.root) / NUTS_CACHE)
    run = runs.save_run(ws, settings, idata, diagnostics)
    return recorded(run, note)
