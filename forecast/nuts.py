"""NUTS on the connected part: nutpie on its compiled log density, or PyMC.

The sampler is nutpie (NUTS in Rust; the adaptation of Stan and PyMC with a
mass matrix learnt from draws and gradients, which settles in fewer tuning
steps) calling the numba kernel of ``forecast.density`` directly, from one
thread per chain and without Python in between. Where nutpie or numba cannot
be imported, ``pm.sample`` samples the PyMC model of the same part instead
(``sampler_name`` says which, and the NUTS cache keys on it). Either way the
draws are a function of the seed alone, whatever the number of cores.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from importlib import metadata

import numpy as np

from forecast.model import ModelData

# progress(done, total, message), as in forecast.inference
Progress = Callable[[int, int, str], None]
NUTS_STATS = ("diverging", "n_steps", "tree_depth")
POLL_SECONDS = 0.25
CENTRED_SLOPES = False


class Unavailable(Exception):
    """nutpie cannot sample here (not installed, or an interface it no longer has)."""


def samplers() -> list[str]:
    """The samplers to try, the preferred first, each as ``"name version, ..."``.

    Versions come from the packages' metadata, so naming them imports nothing.
    """
    pymc = f"pymc {metadata.version('pymc')}"
    try:
        fast = f"nutpie {metadata.version('nutpie')}, numba {metadata.version('numba')}"
    except metadata.PackageNotFoundError:
        return [pymc]
    return [fast, pymc]


def sample(
    sub: ModelData,
    settings,
    sampler: str,
    progress: Progress | None = None,
    cores: int | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Draws of the connected part's free variables, by trace name, and the sampler's stats.

    ``sampler``: one of :func:`samplers`. Each draw array has shape
    ``(chains, draws, ...)``. Raises :class:`Unavailable` when nutpie
    cannot run here (before sampling anything).
    """
    cores = cores or min(settings.chains, os.cpu_count() or 1)
    if sampler.startswith("nutpie"):
        return _nutpie(sub, settings, progress, cores)
    return _pymc(sub, settings, progress, cores)


def _nutpie(sub: ModelData, settings, progress: Progress | None, cores: int):
    if progress:
        progress(0, 1, "loading the compiled model of the resolved part")
    try:
        import nutpie
        import pyarrow

        from forecast import density  # compiles the kernel on first use, then loads it

        lay = density.layout(sub, centred=CENTRED_SLOPES)
        counter = np.zeros(1, dtype=np.int64)
        model = _compiled(lay, counter, settings.seed)
    except (ImportError, AttributeError, TypeError) as exc:
        raise Unavailable(f"{type(exc).__name__}: {exc}") from exc
    total = settings.chains * (settings.tune + settings.draws)
    sampler = nutpie.sample(
        model,
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        cores=cores,
        seed=settings.seed,
        target_accept=settings.target_accept,
        progress_bar=False,
        save_warmup=False,
        return_raw_trace=True,
        blocking=False,
    )
    message = f"NUTS on the resolved part ({lay.ndim} dimensions), {settings.chains} chains"
    while not _finished(sampler):
        if progress:
            progress(min(int(counter[0]), total), total, message)
        time.sleep(POLL_SECONDS)
    draw_batches, stat_batches = sampler.wait().get_arrow_trace()
    if progress:
        progress(total, total, message)

    def column(batch, name):
        return pyarrow.array(batch.column(name))

    x, stats = [], {name: [] for name in NUTS_STATS}
    for draws, st in zip(draw_batches, stat_batches, strict=True):
        tuning = column(st, "tuning").to_numpy(zero_copy_only=False).astype(bool)
        values = column(draws, "x").flatten().to_numpy().reshape(draws.num_rows, lay.ndim)
        x.append(values[~tuning])
        for name, source in zip(NUTS_STATS, ("diverging", "n_steps", "depth"), strict=True):
            stats[name].append(column(st, source).to_numpy(zero_copy_only=False)[~tuning])
    return density.expand(lay, sub, np.stack(x)), {k: np.stack(v) for k, v in stats.items()}


def _finished(sampler) -> bool:
    try:
        return bool(sampler.is_finished)
    except TimeoutError:  # nutpie answers so while its chains hold the state
        return False


def _compiled(lay, counter: np.ndarray, seed: int):
    """nutpie's model of the kernel: its C callbacks and where each chain starts."""
    from nutpie.compile_pymc import CompiledPyMCModel

    from forecast import density_c

    def initial_point(chain_seed) -> np.ndarray:
        # near the prior's centre, jittered as PyMC does; a function of the seeds only
        rng = np.random.default_rng([seed, int(chain_seed or 0)])
        return lay.centre + rng.uniform(-1.0, 1.0, lay.ndim)

    return CompiledPyMCModel(
        dims={"x": ("unconstrained_parameter",)},
        compiled_logp_func=density_c.c_logp,
        compiled_expand_func=density_c.c_expand,
        initial_point_func=initial_point,
        shared_data={"lay": lay, "counter": counter},  # alive while nutpie reads them
        user_data=density_c.user_data(lay, counter),
        n_expanded=lay.ndim,
        shape_info=(["x"], [slice(0, lay.ndim)], [(lay.ndim,)]),
        logp_func=None,
        expand_func=None,
        _n_dim=lay.ndim,
        _shapes={"x": (lay.ndim,)},
        _coords={"unconstrained_parameter": np.arange(lay.ndim)},
    )


def _pymc(sub: ModelData, settings, progress: Progress | None, cores: int):
    """``pm.sample`` on the PyMC model of the connected part (when nutpie is unavailable)."""
    import warnings

    import pymc as pm

    from forecast.children import sampler_context
    from forecast.model import build_model
    from forecast.partition import nuts_var_names

    for name in ("pymc", "pymc.sampling", "pymc.stats", "pytensor"):
        logging.getLogger(name).setLevel(logging.ERROR)
    model = build_model(sub)
    total = settings.chains * (settings.tune + settings.draws)
    done = [0]

    def callback(trace, draw):  # called in this process for every draw of every chain
        done[0] += 1
        if progress and (done[0] % 50 == 0 or done[0] == total):
            phase = "warming up" if draw.tuning else "sampling"
            progress(
                done[0], total, f"NUTS on the resolved part, {settings.chains} chains: {phase}"
            )

    if progress:
        progress(0, total, "compiling the model of the resolved part")
    names = nuts_var_names(sub)
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = pm.sample(
            draws=settings.draws,
            tune=settings.tune,
            chains=settings.chains,
            cores=cores,
            random_seed=settings.seed,
            target_accept=settings.target_accept,
            progressbar=False,
            compute_convergence_checks=False,
            callback=callback if progress else None,
            var_names=names,
            idata_kwargs={"log_likelihood": False},
            mp_ctx=sampler_context(),  # chains exit if this process is killed
        )
    draws = {n: np.asarray(idata.posterior[n].values) for n in names}
    stats = {
        n: np.asarray(idata.sample_stats[n].values) for n in NUTS_STATS if n in idata.sample_stats
    }
    return draws, stats
