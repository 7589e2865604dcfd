"""``forecast batch``: sweeps and backtests over workspaces, on Dask distributed.

A spec (:mod:`~forecast.batch.spec`) names workspaces and a grid of settings;
each grid point of each workspace is a :class:`~forecast.batch.cells.Cell`,
one seeded run that a Dask worker makes from the workspace's files as
``forecast run`` makes it (:func:`~forecast.batch.cells.run_cell`).
:mod:`~forecast.batch.execute` sends the cells to a cluster, stores each run
in its workspace, caches finished cells and gathers the results table;
:mod:`~forecast.batch.page` and :mod:`~forecast.batch.terminal` show how
each forecast moves across the grid.
"""

from forecast.batch.cells import Cell, run_cell, workspace_files
from forecast.batch.execute import BatchResult, Outcome, cluster, run_batch, run_cells
from forecast.batch.spec import Spec, read_spec

__all__ = [
    "BatchResult",
    "Cell",
    "Outcome",
    "Spec",
    "cluster",
    "read_spec",
    "run_batch",
    "run_cell",
    "run_cells",
    "workspace_files",
]
