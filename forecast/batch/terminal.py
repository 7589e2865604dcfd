"""The batch's summary for the terminal: each forecast's range over the grid."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from forecast.batch.tables import spread
from forecast.report.tables import pct
from forecast.report.terminal import _table

if TYPE_CHECKING:
    from forecast.batch.execute import BatchResult


def summary(result: BatchResult, console: Console) -> Table:
    """One row per workspace and question: lowest and highest forecast over the
    grid, the swing, and the swing each grid key causes alone (in points)."""
    keys = result.keys
    table = _table(console, title=f"Batch: {result.cells} cells", title_justify="left")
    for col in ("workspace", "question", "low", "high", "swing", *keys):
        table.add_column(col, justify="left" if col in ("workspace", "question") else "right")
    for row in spread(result.frame, keys).itertuples(index=False):
        d = row._asdict()
        table.add_row(
            row.workspace, row.question, pct(row.low), pct(row.high),
            f"{100 * row.swing:.1f} pts",
            *(f"{100 * d[f'swing_{k}']:.1f}" for k in keys),
        )  # fmt: skip
    return table
