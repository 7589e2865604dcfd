"""Commands on the track record: resolve, history, score, import.

Heavy libraries load inside the commands, never at import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forecast.cli._app import WorkspaceOpt, app, friendly, stderr, stdout


@app.command()
@friendly
def resolve(
    question: Annotated[str, typer.Argument(help="Question id.")],
    outcome: Annotated[str, typer.Argument(help="yes, no or annulled.", metavar="yes|no|annulled")],
    date: Annotated[
        str, typer.Option("--date", help="The day it resolved, YYYY-MM-DD.", show_default=False)
    ],
    note: Annotated[str, typer.Option("--note", help="What settled it (a source, a date).")] = "",
    force: Annotated[
        bool, typer.Option("--force", help="Replace a resolution already recorded.")
    ] = False,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Record how a question resolved, in priors/questions.yaml and the ledger.

    The file keeps its comments and layout; it is validated before it is
    replaced. Refuses an unknown question, a date before the question opened
    (its first run or earliest evidence) or after today, and a question
    already resolved unless --force.
    """
    from forecast.resolve import resolve as record

    done = record(workspace, question, outcome, date, note=note, force=force)
    res = done.resolution
    stdout().print(f"{done.question}: {res.outcome} on {res.date}", markup=False)
    if done.replaced is not None:
        old = done.replaced
        stderr().print(
            f"replaced {old.outcome}{f' on {old.date}' if old.date else ''}", markup=False
        )
    stderr().print(f"recorded in {done.path} and the ledger", markup=False, soft_wrap=True)
