"""What a stored run keeps of its draws, and how it is written.

A run's draws of per-question, per-driver, per-source and per-analyst
quantities are kept whole, as float32 (a probability to about 1e-7
relative, far below anything shown). Quantities with one value per evidence
item, cluster or analyst statement (``lam``, ``rho_item``, ``rho``, ``w``,
``coding``, ``stated_z``) are most of a trace's bulk and are read only
through summaries, so the stored trace keeps, in its ``summary`` group:

- the effects table of :func:`forecast.posterior.effects` (each cluster's and
  each corroborated item's contribution to each question it reaches, with
  the leave-one-out forecast computed from the joint draws), which is all
  ``forecast explain``, the reports and the notebooks read of them;
- each such variable's mean, standard deviation and 5 % / 95 % quantiles;
- each question's R-hat and bulk / tail ESS of its probability, from the
  float64 draws (float32 rounding of a probability within 1e-7 of 0 or 1
  makes ties that would move them).

The file is netCDF-4 with zlib compression and byte shuffling, one group a
netCDF group, written by xarray (h5netcdf) as ArviZ writes an
``InferenceData``: ``arviz.from_netcdf`` reads it. A trace written before
this format (full float64 draws of everything) reads as it always did: every
reader works from draws when they are there.

A run holds its draws in memory as a :class:`Trace` (the groups as
``xarray.Dataset``, the part of ``arviz.InferenceData`` the tables read), so
sampling and storing a run import no ArviZ.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from forecast.posterior import (
    DIAGNOSTICS,
    EFFECT_COLUMNS,
    EFFECT_TEXT,
    INTERVAL,
    SUMMARY,
    effects,
    prob_diagnostics,
)

if TYPE_CHECKING:
    import arviz as az
    import xarray as xr

    from forecast.workspace import Workspace

FORMAT = 2  # manifest "trace_format"; runs stored before it have none (format 1)
PER_ITEM = ("evidence", "cluster", "statement")  # dims whose variables are summarised
CHUNK = 1 << 22  # draws summarised at once (memory: a few copies of this many float64)
STATS = ("mean", "sd", f"q{(1 - INTERVAL) / 2 * 100:02.0f}", f"q{(1 + INTERVAL) / 2 * 100:02.0f}")


class Trace:
    """A run's groups (``posterior``, ``sample_stats``, ``summary``) as ``xarray.Dataset``.

    Read as an ``arviz.InferenceData`` is (``trace.posterior``,
    ``trace.groups()``, ``trace["summary"]``) by :mod:`forecast.posterior`;
    :meth:`to_arviz` gives the ``InferenceData`` for ArviZ's own functions.
    """

    def __init__(self, groups: Mapping[str, xr.Dataset]) -> None:
        self._groups = dict(groups)

    def groups(self) -> list[str]:
        return list(self._groups)

    def __getitem__(self, group: str) -> xr.Dataset:
        return self._groups[group]

    def __getattr__(self, group: str) -> Any:
        try:
            return self.__dict__["_groups"][group]
        except KeyError:
            raise AttributeError(group) from None

    def to_netcdf(self, path: str | Path) -> None:
        """Write every group to ``path`` (see :func:`write`)."""
        write(self, path)

    def to_arviz(self) -> az.InferenceData:
        import arviz as az

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "summary" is not an ArviZ group name
            return az.InferenceData(**self._groups)


def _float32(ds):
    """The dataset with every float64 variable as float32."""
    return ds.map(lambda v: v.astype("float32") if v.dtype == np.float64 else v)


def compact(idata: Trace | az.InferenceData, ws: Workspace) -> Trace:
    """The form a run is stored in (module docstring); ``idata`` is left as it is.

    ``ws`` is the workspace the draws were made from: it says which clusters
    reach which questions.
    """
    import xarray as xr

    post = idata.posterior
    per_item = [v for v in post.data_vars if set(post[v].dims) & set(PER_ITEM)]
    table = effects(idata, ws)
    summary = xr.Dataset(
        {
            f"effect_{c}": ("effect", table[c].to_numpy(dtype=str if c in EFFECT_TEXT else float))
            for c in EFFECT_COLUMNS
        }
    )
    for name, values in zip(DIAGNOSTICS, prob_diagnostics(idata), strict=True):
        summary[f"prob_{name}"] = xr.DataArray(
            values, dims=("question",), coords={"question": post["prob"].coords["question"].values}
        )
    for v in per_item:
        x = post[v]
        flat = np.asarray(x.values, dtype=float).reshape((-1,) + x.shape[2:])
        stats = _stats(flat.reshape(len(flat), -1)).reshape((4, *x.shape[2:]))
        dims = ("stat", *x.dims[2:])
        summary[v] = xr.DataArray(stats, dims=dims, coords={"stat": list(STATS),
                                  **{d: x.coords[d].values for d in x.dims[2:]}})  # fmt: skip
    if SUMMARY in idata.groups():  # summaries made while drawing (streamed_summary)
        for v, var in idata[SUMMARY].data_vars.items():
            if v not in summary and "stat" in var.dims:
                summary[v] = var
    groups = {"posterior": _float32(post.drop_vars(per_item))}
    groups |= {g: idata[g] for g in idata.groups() if g not in ("posterior", SUMMARY)}
    if "sample_stats" in groups:
        groups["sample_stats"] = _float32(groups["sample_stats"])
    return Trace({**groups, SUMMARY: summary})


def _stats(flat: np.ndarray) -> np.ndarray:
    """:data:`STATS` of each column of ``flat`` (draws x items): shape ``(4, items)``."""
    stats = np.empty((4, flat.shape[1]))
    step = max(1, CHUNK // max(len(flat), 1))
    for start in range(0, flat.shape[1], step):  # a copy of a chunk at a time, not all
        rows = np.ascontiguousarray(flat[:, start : start + step].T)  # one row per item
        lo, hi = np.quantile(rows, [(1 - INTERVAL) / 2, (1 + INTERVAL) / 2], axis=1)
        stats[:, start : start + len(rows)] = [rows.mean(axis=1), rows.std(axis=1), lo, hi]
    return stats


def streamed_summary(d, ws: Workspace, free: dict, post: xr.Dataset, keep: list[int]):
    """The per-cluster and per-item part of the stored ``summary``, a chunk of clusters at a time.

    For a run too large to hold every draw of ``coding``, ``lam``, ``rho_item``,
    ``rho`` and ``w`` (:func:`forecast.forward.deterministics` with
    ``per_item=False``): each chunk's draws are made again from the free
    draws, summarised (:data:`STATS`, the effects table) and dropped. ``post``
    holds the other variables (``theta``, ``reliability``). Returns the
    summary dataset and the draws of ``w`` and ``coding`` of the clusters
    ``keep`` (indices), kept whole for the convergence checks.
    """
    import dataclasses

    import pandas as pd
    import xarray as xr

    from forecast.forward import cluster_chunks, cluster_weights

    reliability = np.asarray(post["reliability"].values)
    chains, draws = reliability.shape[:2]
    n = chains * draws
    per = {v: np.empty((4, len(d.clusters))) for v in ("coding", "lam", "rho", "w")}
    per["rho_item"] = np.empty((4, len(d.evidence)))
    if d.coding_sd <= 0:
        del per["coding"]
    kept = {"w": [], "coding": []}
    keep_at = np.asarray(keep, dtype=int)
    by_cluster: dict[str, list] = {}
    for e in ws.evidence:
        by_cluster.setdefault(e.cluster, []).append(e)
    frames = []
    for lo, hi in cluster_chunks(d, (chains, draws)):
        items, lam, rho_item, rho, w = cluster_weights(d, free, reliability, lo, hi)
        parts = {"lam": lam, "rho": rho, "w": w}
        if "coding" in per:
            parts["coding"] = free["coding"][..., lo:hi]
        for v, x in parts.items():
            per[v][:, lo:hi] = _stats(x.reshape(n, -1))
        per["rho_item"][:, items] = _stats(rho_item.reshape(n, -1))
        here = keep_at[(keep_at >= lo) & (keep_at < hi)] - lo
        kept["w"].append(w[..., here])
        if "coding" in per:
            kept["coding"].append(parts["coding"][..., here])
        clusters = list(d.clusters[lo:hi])
        chunk = Trace({"posterior": xr.Dataset({
            "theta": post["theta"],
            "w": (("chain", "draw", "cluster"), w), "lam": (("chain", "draw", "cluster"), lam),
            "rho_item": (("chain", "draw", "evidence"), rho_item),
        }, coords={"cluster": clusters, "evidence": [d.evidence[i] for i in items]})})  # fmt: skip
        mine = dataclasses.replace(
            ws, evidence=tuple(e for c in clusters for e in by_cluster.get(c, ()))
        )
        frames.append(effects(chunk, mine))
        del items, lam, rho_item, rho, w, parts, chunk
    # the order of the whole table: questions in order, then clusters in order
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=EFFECT_COLUMNS)  # fmt: skip
    qpos = {q.id: i for i, q in enumerate(ws.questions)}
    cpos = {c: i for i, c in enumerate(d.clusters)}
    keys = (table["cluster"].map(cpos).to_numpy(), table["question"].map(qpos).to_numpy())
    table = table.iloc[np.lexsort(keys)].reset_index(drop=True)  # stable: a reach's rows stay
    summary = xr.Dataset(
        {
            f"effect_{c}": ("effect", table[c].to_numpy(dtype=str if c in EFFECT_TEXT else float))
            for c in EFFECT_COLUMNS
        }
    )
    dims = {"rho_item": ("evidence", list(d.evidence))}
    for v, stats in per.items():
        dim, coords = dims.get(v, ("cluster", list(d.clusters)))
        summary[v] = xr.DataArray(stats, dims=("stat", dim),
                                  coords={"stat": list(STATS), dim: coords})  # fmt: skip
    joined = {
        v: np.concatenate(parts, axis=-1) if parts else np.empty((chains, draws, 0))
        for v, parts in kept.items() if v in per or v == "w"
    }  # fmt: skip
    return summary, joined


def write(idata: Trace | az.InferenceData, path: str | Path) -> None:
    """Write ``idata`` to ``path`` as netCDF-4, numbers compressed (zlib, shuffled)."""
    mode = "w"
    for group in idata.groups():
        data = idata[group]
        encoding = {
            name: {"zlib": True, "complevel": 4, "shuffle": True}
            for name, var in data.variables.items()
            if var.dtype.kind in "fiub" and var.ndim > 0
        }
        data.to_netcdf(path, mode=mode, group=group, engine="h5netcdf", encoding=encoding)
        mode = "a"


def read_trace(path: str | Path) -> Trace:
    """A stored trace read into memory by xarray alone (no ArviZ), every group."""
    import h5netcdf
    import xarray as xr

    with h5netcdf.File(str(path), "r") as f:
        names = list(f.groups)
    groups = {}
    for name in names:
        with xr.open_dataset(path, group=name, engine="h5netcdf") as ds:
            groups[name] = ds.load()  # into memory once: lazy reads decompress again and again
    return Trace(groups)


def read(path: str | Path) -> az.InferenceData:
    """A stored trace, old format or new, read into memory."""
    import arviz as az

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        idata = az.from_netcdf(str(path))
    for group in idata.groups():  # into memory once: lazy reads decompress again and again
        idata[group].load()
    return idata
