"""Sampling, diagnostics, seeds and reuse of stored runs.

NUTS where the model has observed data (analyst statements under
hierarchical pooling, resolved questions); exact forward draws where it has
none. Every run is judged by R-hat, bulk/tail ESS and divergences.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import arviz as az

    from forecast.runs import Run
    from forecast.workspace import Settings, Workspace

RHAT_MAX = 1.01
ESS_MIN = 400

# progress(done, total, message): called from the sampler; the CLI draws the bar
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


def sample(
    ws: Workspace, settings: Settings | None = None, progress: Progress | None = None
) -> tuple[az.InferenceData, Diagnostics]:
    """Build the model for ``ws`` and draw from its posterior."""
    raise NotImplementedError


def ensure_run(
    ws: Workspace, settings: Settings | None = None, progress: Progress | None = None,
    reuse: bool = True,
) -> Run:
    """The latest stored run for these exact inputs and settings, or a new one."""
    raise NotImplementedError
