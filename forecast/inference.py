"""Sampling, diagnostics, seeds and reuse of stored runs.

NUTS where the model has observed data (analyst statements under
hierarchical pooling, resolved questions); exact forward draws where it has
none. Every run is judged by R-hat, bulk/tail ESS and divergences of the
quantities it reports.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from forecast.errors import RunError

if TYPE_CHECKING:
    import arviz as az

    from forecast.runs import Run
    from forecast.workspace import Settings, Workspace

RHAT_MAX = 1.01
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


def _quiet_pymc() -> None:
    for name in ("pymc", "pymc.sampling", "pymc.stats", "pytensor"):
        logging.getLogger(name).setLevel(logging.ERROR)


def sample(
    ws: Workspace, settings: Settings | None = None, progress: Progress | None = None
) -> tuple[az.InferenceData, Diagnostics]:
    """Build the model for ``ws`` and draw from its posterior.

    Same workspace, same settings (seed included) -> identical draws.
    """
    import warnings

    import pymc as pm

    from forecast.children import sampler_context
    from forecast.model import build_model, model_data

    settings = settings or ws.settings
    if settings != ws.settings:
        from dataclasses import replace

        ws = replace(ws, settings=settings)
    _quiet_pymc()
    data = model_data(ws)
    model = build_model(data)
    if data.observed:
        total = settings.chains * (settings.tune + settings.draws)
        done = [0]

        def callback(trace, draw):  # called in this process for every draw of every chain
            done[0] += 1
            if progress and (done[0] % 50 == 0 or done[0] == total):
                phase = "warming up" if draw.tuning else "sampling"
                progress(done[0], total, f"NUTS, {settings.chains} chains: {phase}")

        if progress:
            progress(0, total, "compiling the model")
        with model, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata = pm.sample(
                draws=settings.draws,
                tune=settings.tune,
                chains=settings.chains,
                cores=min(settings.chains, os.cpu_count() or 1),
                random_seed=settings.seed,
                target_accept=settings.target_accept,
                progressbar=False,
                compute_convergence_checks=False,
                callback=callback if progress else None,
                idata_kwargs={"log_likelihood": False},
                mp_ctx=sampler_context(),  # chains exit if this process is killed
            )
        method = "nuts"
    else:
        if progress:
            progress(0, 1, "drawing forward (nothing observed: exact draws)")
        idata = _forward(model, settings)
        if progress:
            progress(1, 1, "drawn")
        method = "forward"
    return idata, diagnose(idata, method)


def _forward(model, settings: Settings) -> az.InferenceData:
    """Exact independent draws when nothing is observed, shaped as chains."""
    import arviz as az
    import pymc as pm
    import xarray as xr

    names = [v.name for v in model.free_RVs + model.deterministics]
    n = settings.chains * settings.draws
    with model:
        prior = pm.sample_prior_predictive(draws=n, var_names=names, random_seed=settings.seed)
    ds = prior.prior.isel(chain=0, drop=True)
    chained = {}
    for name, var in ds.data_vars.items():
        values = var.values.reshape((settings.chains, settings.draws) + var.shape[1:])
        chained[name] = xr.DataArray(values, dims=("chain", "draw") + var.dims[1:])
    posterior = xr.Dataset(chained)
    coords = {k: v for k, v in ds.coords.items() if k != "draw"}
    coords |= {"chain": range(settings.chains), "draw": range(settings.draws)}
    posterior = posterior.assign_coords(coords)
    posterior.attrs = dict(ds.attrs)
    return az.InferenceData(posterior=posterior)


def diagnose(idata: az.InferenceData, method: str) -> Diagnostics:
    """R-hat, bulk and tail ESS of every reported quantity; divergences."""
    import warnings

    import arviz as az
    import numpy as np

    post = idata.posterior
    names = [n for n in REPORTED if n in post and post[n].size]
    # a constant (fixed ratio, reliability 1) has no spread to diagnose
    varying = [n for n in names if float(post[n].std()) > 0]
    problems: list[str] = []
    divergences = 0
    if "sample_stats" in idata.groups() and "diverging" in idata.sample_stats:
        divergences = int(idata.sample_stats["diverging"].sum())
    if varying:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # constant elements give nan
            rhat = az.rhat(post, var_names=varying)
            bulk = az.ess(post, var_names=varying, method="bulk")
            tail = az.ess(post, var_names=varying, method="tail")

        def extreme(ds, fn):
            vals = [np.asarray(ds[n]).ravel() for n in varying]
            vals = np.concatenate(vals)
            vals = vals[np.isfinite(vals)]
            return float(fn(vals)) if vals.size else float("nan")

        max_rhat = extreme(rhat, np.max)
        min_bulk = extreme(bulk, np.min)
        min_tail = extreme(tail, np.min)
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
    return Diagnostics(method, divergences, max_rhat, min_bulk, min_tail, tuple(problems))


def ensure_run(
    ws: Workspace,
    settings: Settings | None = None,
    progress: Progress | None = None,
    reuse: bool = True,
    *,
    ledger_optional: bool = False,
) -> Run:
    """The latest stored run for these exact inputs and settings, or a new one.

    Either way the run is recorded in the workspace's ledger (once). A locked
    or damaged ledger raises ``LedgerError`` before any sampling, unless
    ``ledger_optional``: then the run goes on unrecorded and its
    ``ledger_note`` says why.
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
        if "idata" in run.__dict__:
            noted.__dict__["idata"] = run.__dict__["idata"]  # already in memory
        return noted

    key = runs.run_key(ws, settings)
    note = ""
    if reuse:
        found = runs.find_run(ws, key)
        if found is not None:
            try:
                found.idata  # noqa: B018 - load it now: a damaged trace means sampling anew
                return recorded(found)
            except RunError as exc:
                note = f"stored run {found.run_id} is damaged ({exc}); sampling it anew"
        elif damaged := runs.damaged_runs(ws, key):
            note = (
                f"stored run {', '.join(damaged)} is damaged (unreadable manifest or missing "
                "trace.nc); sampling it anew"
            )
    idata, diagnostics = sample(ws, settings, progress)
    run = runs.save_run(ws, settings, idata, diagnostics)
    return recorded(run, note)
