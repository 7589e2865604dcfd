"""NUTS draws of the resolved part, stored by the content hash of that part.

``<workspace>/.forecast/nuts/<key>.npz`` holds the draws of the connected
model's free variables and the sampler's statistics; ``<key>`` hashes
everything they depend on (``forecast.partition.content_key``), so a file is
never stale: a change to what NUTS sampled gives another key. Each file is
written beside its final name and renamed into it; two processes storing the
same key write the same draws, and a reader sees one whole file or none.
Files are read with ``allow_pickle=False``.
"""

from __future__ import annotations

import os
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np

from forecast import __version__

_POSTERIOR, _STATS = "posterior/", "stats/"


def engine_version() -> str:
    """forecast's and PyMC's versions (without importing PyMC)."""
    try:
        pymc = metadata.version("pymc")
    except metadata.PackageNotFoundError:  # pragma: no cover - pymc is a dependency
        pymc = "?"
    return f"forecast {__version__}, pymc {pymc}"


def path(folder: Path, key: str) -> Path:
    return Path(folder) / f"{key}.npz"


def load(folder: Path, key: str) -> tuple[dict, dict] | None:
    """The stored ``(draws, stats)`` for ``key``, or None (absent or unreadable)."""
    try:
        with np.load(path(folder, key), allow_pickle=False) as npz:
            draws = {k[len(_POSTERIOR) :]: npz[k] for k in npz.files if k.startswith(_POSTERIOR)}
            stats = {k[len(_STATS) :]: npz[k] for k in npz.files if k.startswith(_STATS)}
    except (OSError, ValueError, KeyError, EOFError):
        return None  # absent, or damaged: sampled anew and stored again
    return draws, stats


def store(folder: Path, key: str, draws: dict, stats: dict) -> None:
    """Store ``(draws, stats)`` under ``key`` atomically; a failure to store is not an error."""
    arrays = {_POSTERIOR + k: v for k, v in draws.items()}
    arrays |= {_STATS + k: v for k, v in stats.items()}
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{key[:16]}.", suffix=".npz")
    except OSError:
        return  # a read-only workspace still runs; it only samples again next time
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path(folder, key))
    except OSError:
        Path(tmp).unlink(missing_ok=True)
