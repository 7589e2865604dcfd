"""Stored runs: ``<workspace>/.forecast/runs/<run-id>/{trace.nc, manifest.json}``.

The manifest records the seed, the settings, package versions, the content
hash of the input files and the diagnostics, so a run can be reused when
nothing changed and compared with the one before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import arviz as az


@dataclass(frozen=True)
class Run:
    run_id: str
    path: Path  # the run's folder
    manifest: dict[str, Any]

    @cached_property
    def idata(self) -> az.InferenceData:
        import arviz as az

        return az.from_netcdf(self.path / "trace.nc")
