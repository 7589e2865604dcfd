"""Commands on the stored runs: ``forecast runs prune``.

Heavy libraries load inside the commands, never at import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forecast.cli._app import WorkspaceOpt, app, friendly, stdout

runs_app = typer.Typer(
    help="Stored runs under .forecast/runs/ (forecast runs prune deletes old ones).",
    no_args_is_help=True,
)
app.add_typer(runs_app, name="runs")


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


@runs_app.command()
@friendly
def prune(
    keep: Annotated[
        int, typer.Option("--keep", min=0, help="Keep this many of the newest runs.")
    ] = 5,
    older_than: Annotated[
        float | None,
        typer.Option(
            "--older-than",
            min=0,
            metavar="DAYS",
            help="Delete only runs older than this many days.",
        ),
    ] = None,  # fmt: skip
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be deleted; delete nothing.")
    ] = False,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Delete old stored runs, keeping the ones still in use.

    Kept whatever their age: the --keep newest, the run the workspace's
    files and settings would reuse now, every run a report folder (under the
    workspace's report folder) was made from, since the report points at its
    trace, and the latest run in the ledger. The ledger keeps every run's
    forecasts, so `forecast history` and `forecast score` lose nothing.
    Holds the workspace lock; each run is removed atomically.
    """
    from forecast.lock import workspace_lock
    from forecast.runs import plan_prune
    from forecast.runs import prune as delete
    from forecast.workspace import load_workspace

    ws = load_workspace(workspace)
    with workspace_lock(ws.root):
        plan = plan_prune(ws, keep=keep, older_than_days=older_than)
        if not dry_run:
            delete(ws, plan)
    out = stdout()
    for run_id, why in plan.kept:
        out.print(f"kept     {run_id}  ({why})", markup=False, soft_wrap=True)
    verb = "would delete" if dry_run else "deleted"
    for run_id, size in plan.deleted:
        out.print(f"{verb:<8} {run_id}  ({_mb(size)})", markup=False)
    n = len(plan.deleted)
    out.print(
        f"{'Would delete' if dry_run else 'Deleted'} {n} run{'s' * (n != 1)} "
        f"({_mb(plan.freed)}); kept {len(plan.kept)}.",
        markup=False,
    )
