"""Tables of a batch's results: how far each forecast moves across the grid."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def finished(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of cells that ran (now or before), not the failed ones."""
    return frame[frame["status"] != "failed"]


def spread(frame: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """One row per workspace and question: the lowest and highest forecast over
    the grid, their difference (``swing``), and for each grid key its own swing:
    the range, over that key's values, of the forecast averaged over the other
    keys (a tornado's bars; the largest says which setting matters most).
    """
    import pandas as pd

    done = finished(frame)
    columns = ["workspace", "question", "title", "cells", "low", "high", "swing"]
    columns += [f"swing_{k}" for k in keys]
    rows = []
    for (ws, qid), group in done.groupby(["workspace", "question"], sort=False):
        forecast = group["forecast"].astype(float)
        row = {
            "workspace": ws,
            "question": qid,
            "title": group["title"].iloc[0],
            "cells": len(group),
            "low": forecast.min(),
            "high": forecast.max(),
            "swing": forecast.max() - forecast.min(),
        }
        for k in keys:
            means = group.groupby(k, sort=False)["forecast"].mean()
            row[f"swing_{k}"] = float(means.max() - means.min())
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)
