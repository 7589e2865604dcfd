"""Commands on the track record: resolve, history, score, import.

Heavy libraries load inside the commands, never at import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forecast.cli._app import JsonOpt, WorkspaceArg, WorkspaceOpt, app, friendly, stderr, stdout


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


def _p(x: float) -> str:
    import math

    return "—" if x is None or not math.isfinite(x) else f"{100 * x:.0f}%"


def _s(x: float) -> str:
    import math

    return "—" if x is None or not math.isfinite(x) else f"{x:.3f}"


@app.command()
@friendly
def score(
    workspace: WorkspaceArg = Path("."),
    json_out: JsonOpt = False,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Write the reliability diagram to this PNG file."),
    ] = None,
    top: Annotated[int, typer.Option("--top", help="Analysts to list (best first).")] = 15,
) -> None:
    """Score the resolved questions: Brier and log scores, calibration, decomposition.

    Each question is scored on the last forecast the ledger recorded on or
    before its resolution date with the question still open; beside it each
    analyst's stated prior, their mean, median and extremized mean, and the
    model's pooled prior. Lower scores are better.
    """
    import json

    from forecast.ledger import open_ledger
    from forecast.scoring import scoring_table
    from forecast.workspace import load_workspace

    ws = load_workspace(workspace)
    with open_ledger(ws.root, create=False) as ledger:
        scored = scoring_table(ws, ledger)
    if plot is not None:
        from forecast.io import atomic_write_bytes
        from forecast.report.plots import png
        from forecast.scoring import reliability_diagram

        atomic_write_bytes(plot, png(reliability_diagram(scored)))
    if json_out:
        typer.echo(json.dumps(scored.to_json(), indent=2))
        return
    from rich.table import Table

    out, err = stdout(), stderr()
    q = scored.questions
    if q.empty:
        out.print("No resolved question to score yet (forecast resolve records one).")
    else:
        table = Table(
            title="Resolved questions: the forecast before resolution", title_justify="left"
        )
        # a few analysts get a column each, side by side with the pools, when there is room
        few = len(scored.analysts) <= 4 and out.width >= 100
        names = sorted(set(scored.stated["analyst"])) if few else []
        stated = {(r["question"], r["analyst"]): r["probability"]
                  for r in scored.stated.to_dict("records")}  # fmt: skip
        table.add_column("question\nresolved", overflow="fold")
        for col in ("outcome", "model", "pooled\nprior", "mean", "median", "extr-\nemized",
                    *names, "ana-\nlysts"):  # fmt: skip
            table.add_column(col, justify="right")
        for r in q.to_dict("records"):
            table.add_row(
                f"{r['id']}\n{r['resolved']}", r["outcome"], _p(r["forecast"]),
                _p(r["pooled_prior"]), _p(r["mean"]), _p(r["median"]), _p(r["extremized"]),
                *(_p(stated.get((r["id"], n), float("nan"))) for n in names), str(r["analysts"]),
            )  # fmt: skip
        out.print(table)
        methods = Table(
            title="Scores (lower is better; Brier = MCB - DSC + UNC)", title_justify="left"
        )
        for col in ("method", "n", "Brier", "log", "MCB", "DSC", "UNC"):
            methods.add_column(col, justify="left" if col == "method" else "right")
        for r in scored.methods.to_dict("records"):
            methods.add_row(
                r["name"], str(r["n"]), _s(r["brier"]), _s(r["log"]), _s(r["mcb"]),
                _s(r["dsc"]), _s(r["unc"]),
            )  # fmt: skip
        out.print(methods)
        a = scored.analysts
        if not a.empty:
            people = Table(
                title="Each analyst's own stated priors (most questions first)",
                title_justify="left",
            )
            for col in ("analyst", "questions", "Brier", "log"):
                people.add_column(col, justify="left" if col == "analyst" else "right")
            for r in a.head(top).to_dict("records"):
                people.add_row(r["analyst"], str(r["n"]), _s(r["brier"]), _s(r["log"]))
            out.print(people)
            if len(a) > top:
                out.print(f"... and {len(a) - top} more analysts (--top N, or --json for all)")
    for line in scored.missing:
        err.print(line, style="yellow", markup=False, soft_wrap=True)
    for line in scored.notes:
        err.print(line, markup=False, soft_wrap=True)
    if plot is not None:
        err.print(f"reliability diagram written to {plot}", markup=False, soft_wrap=True)


@app.command()
@friendly
def history(
    question: Annotated[
        str | None, typer.Argument(help="Question id (default: every question).")
    ] = None,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Write a timeline PNG per question into this folder."),
    ] = None,
) -> None:
    """Each forecast run by run: dates, forecast, interval, and what changed.

    A timeline read top to bottom: each run with its pooled prior, forecast
    and 90 % interval, drawn on a 0-100 % strip, and what changed since the
    run before (evidence added +E039 or removed -E012 on the question or its
    drivers, analysts' priors edited, the resolution); the evidence dates
    and the resolutions in between. Read from the ledger; nothing is sampled.
    """
    import json

    from forecast.history import history as histories
    from forecast.ledger import open_ledger
    from forecast.workspace import load_workspace

    ws = load_workspace(workspace)
    if question is not None:
        ws.question(question)
    with open_ledger(ws.root, create=False) as ledger:
        found = histories(ledger, ws, question)
    if plot is not None:
        from forecast.history import timeline
        from forecast.io import atomic_write_bytes
        from forecast.report.plots import png

        for h in found:
            atomic_write_bytes(plot / f"timeline-{h.question}.png", png(timeline(h)))
    if json_out:
        typer.echo(json.dumps({"questions": [h.to_json() for h in found]}, indent=2))
        return
    from forecast.report.terminal import history_view

    out = stdout()
    for i, h in enumerate(found):
        if not h.steps:
            out.print(f"{h.question}: no run recorded yet", markup=False)
            continue
        if i:
            out.print()
        out.print(history_view(h, min(out.width, 80)), soft_wrap=not out.is_terminal)
    if plot is not None:
        stderr().print(f"timelines written to {plot}", markup=False, soft_wrap=True)


@app.command("import")
@friendly
def import_(
    file: Annotated[
        Path, typer.Argument(help="CSV (or .csv.gz): question, forecaster, probability, ...")
    ],
    workspace: WorkspaceArg = Path("."),
) -> None:
    """Start a workspace from a forecast log: questions, one analyst file per
    forecaster, resolutions recorded.

    Columns: question, forecaster, probability (of yes), and optionally date,
    title, outcome (1/0, yes/no, annulled), close_date, resolution_date; the
    public track records' names (ifp_id, user_id, p_yes, fcast_date,
    date_closed, ...) are accepted too. Each forecaster's last forecast made
    before the question resolved becomes their prior. Bad rows are listed as
    file:line and nothing is written.
    """
    from forecast.importer import CLIP, import_log

    done = import_log(file, workspace)
    out = stdout()
    out.print(
        f"imported {done.rows} forecasts from {file}: {done.questions} questions "
        f"({done.resolved} resolved), {done.forecasters} forecasters, {done.statements} priors",
        markup=False, soft_wrap=True,
    )  # fmt: skip
    err = stderr()
    if done.anonymous:
        err.print(f"{done.anonymous} forecasts without a forecaster (empty or NULL): left out",
                  markup=False, soft_wrap=True)  # fmt: skip
    if done.superseded:
        err.print(f"{done.superseded} earlier forecasts superseded by the same forecaster's "
                  "later one", markup=False, soft_wrap=True)  # fmt: skip
    if done.after_resolution:
        err.print(f"{done.after_resolution} forecasts made after their question resolved: "
                  "left out", markup=False, soft_wrap=True)  # fmt: skip
    if done.clipped:
        err.print(f"{done.clipped} probabilities of exactly 0 or 1 set to {CLIP:g} or "
                  f"{1 - CLIP:g} (a prior is never certain)",
                  markup=False, soft_wrap=True)  # fmt: skip
    err.print(f"workspace written to {done.root}; next: forecast score {done.root}",
              markup=False, soft_wrap=True)  # fmt: skip
