"""Command: batch (sweeps and backtests on Dask distributed).

Heavy libraries load inside the command, never at import.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer

from forecast.cli._app import JsonOpt, SamplingProgress, app, friendly, stderr, stdout


@app.command()
@friendly
def batch(
    spec: Annotated[
        Path,
        typer.Argument(help="The batch spec (TOML): workspaces and a grid of settings."),
    ],
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 "
            "(default: a local cluster, one worker process a core).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for the results (default: the spec's out, else SPEC-results "
            "beside the spec).",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a grid of settings (or a backtest) over workspaces, one seeded run a cell.

    Each cell runs as `forecast run` does, on Dask distributed, and is stored
    in its workspace; the results go to one table (results.csv) and a page
    (batch.html). A failed cell is a row with its error (exit status 1 at the
    end); running again skips the cells already finished.
    """
    from forecast.batch.execute import run_batch
    from forecast.batch.spec import read_spec

    parsed = read_spec(spec)
    with SamplingProgress() as progress:
        result = run_batch(parsed, out=out, scheduler=scheduler, progress=progress)
    frame = result.frame
    if as_json:
        payload = {
            "out": str(result.out),
            "files": [str(p) for p in result.files],
            "note": result.note,
            "cells": result.cells,
            "failed": result.count("failed"),
            "rows": [
                {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
                for r in frame.astype(object).to_dict("records")
            ],
        }
        typer.echo(json.dumps(payload, indent=2))
    else:
        from forecast.batch.terminal import summary
        from forecast.report.terminal import show

        show(stdout(), summary(result, stdout()))
    err = stderr()
    err.print(
        f"{result.cells} cells: {result.count('done')} run now, {result.count('cached')} "
        f"finished before, {result.count('failed')} failed",
        markup=False,
    )
    for row in frame[frame["status"] == "failed"].drop_duplicates("cell").itertuples():
        point = ", ".join(f"{k}={getattr(row, k)}" for k in result.keys)
        err.print(f"  failed: {row.workspace} {point}: {row.error}", style="red", markup=False)
    err.print("written: " + ", ".join(str(p) for p in result.files), markup=False, soft_wrap=True)
    if result.note:
        err.print(result.note, style="yellow", markup=False)
    if result.count("failed"):
        raise typer.Exit(1)
