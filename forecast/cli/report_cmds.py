"""Commands: report, explain (what the forecaster reads every day).

Heavy libraries load inside the commands, never at import.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from forecast.cli._app import (
    AsOfOpt,
    ChainsOpt,
    DrawsOpt,
    JsonOpt,
    SamplingProgress,
    SeedOpt,
    StrictOpt,
    WorkspaceArg,
    WorkspaceOpt,
    app,
    cut_to,
    friendly,
    settings_with,
    stderr,
    stdout,
    warn,
    warn_run,
    warn_workspace,
)
from forecast.errors import DiagnosticsError

FreshOpt = Annotated[
    bool,
    typer.Option("--fresh", help="Sample anew even when a stored run has the same inputs."),
]


def _shown(path: Path) -> str:
    """A path as the user would type it from here."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _quiet_libraries() -> None:
    import logging
    import warnings

    logging.getLogger("arviz").setLevel(logging.ERROR)  # e.g. R-hat of a single chain

    warnings.filterwarnings("ignore", category=FutureWarning, module=r"arviz(\..*)?")
    warnings.filterwarnings("ignore", category=UserWarning, module=r"arviz(\..*)?")
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, no GUI toolkit


def _run(
    ws: Any,
    seed: int | None,
    draws: int | None,
    chains: int | None,
    fresh: bool,
    ledger_optional: bool = False,
) -> Any:
    from forecast.inference import ensure_run

    settings = settings_with(ws, seed, draws, chains)
    with SamplingProgress() as progress:
        run = ensure_run(
            ws, settings, progress=progress, reuse=not fresh, ledger_optional=ledger_optional
        )
    warn_run(run)
    return run


def _strict(ok: bool, strict: bool) -> None:
    if strict and not ok:
        raise DiagnosticsError("the run failed its convergence checks (--strict)")


@app.command()
@friendly
def report(
    workspace: WorkspaceArg = Path("."),
    seed: SeedOpt = None,
    draws: DrawsOpt = None,
    chains: ChainsOpt = None,
    json_out: JsonOpt = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Report folder (default: [report] output in forecast.toml, else reports/).",
            show_default=False,
        ),
    ] = None,  # fmt: skip
    no_files: Annotated[
        bool, typer.Option("--no-files", help="Print the table only; write no report files.")
    ] = False,
    fresh: FreshOpt = False,
    strict: StrictOpt = False,
    as_of: AsOfOpt = None,
) -> None:
    """Forecast every question: print the table and write reports/<run-id>/.

    Reuses the stored run when the input files and settings are unchanged,
    else samples a new one. The report folder holds report.html (one
    self-contained page), report.md with its plots, posteriors.csv,
    contributions.csv and manifest.json (which points at the run's stored
    trace). A report folder that already shows what a fresh report would
    (same run, ledger, warnings, options and code) is left as it was, and the
    table is read back from it; else a fresh folder replaces it.
    """
    from forecast.outputs import check_writable, writing_to
    from forecast.workspace import load_workspace

    ws = load_workspace(workspace)
    folder = out if out is not None else Path(ws.root) / ws.settings.output
    if not (json_out or no_files):
        check_writable(folder)  # before sampling, not after
    warn_workspace(ws)
    ws = cut_to(ws, as_of)
    console = stdout()
    if not fresh:
        from forecast.report.reuse import stored_report

        kept = stored_report(ws, settings_with(ws, seed, draws, chains), folder)
        if kept is not None:  # nothing it shows changed: no trace read, nothing drawn
            if json_out:
                from forecast.report.summary import report_json

                typer.echo(json.dumps(report_json(kept.forecast_rows(), kept.manifest)))
            else:
                _summary(console, kept, reused=True, track=kept.track)
                if not no_files:
                    _left_as_it_was(console, kept.run_id, kept.path)
            _strict(kept.ok, strict)
            return
    _quiet_libraries()
    from forecast.posterior import forecast_table
    from forecast.report.reuse import report_key
    from forecast.report.tables import build_report, report_json
    from forecast.report.write import write_report
    from forecast.runs import previous_run

    run = _run(ws, seed, draws, chains, fresh, ledger_optional=True)  # a report goes on
    ok = bool(run.manifest.get("diagnostics", {}).get("ok", False))
    if json_out:
        data = report_json(forecast_table(run.trace, ws).to_dict("records"), run.manifest)
        typer.echo(json.dumps(data))
        _strict(ok, strict)
        return

    previous = previous_run(ws, run)
    # the key before the report reads the ledger: a row added meanwhile makes it stale, not wrong
    key = None if no_files else report_key(ws, run, previous, folder / run.run_id)
    rep = build_report(ws, run, previous, track=True)
    track = rep.track.summary_line() if rep.track is not None else None
    _summary(console, rep, reused=not run.sampled, track=track)
    for problem in rep.track_problems:
        if not problem.startswith("this run is not recorded"):  # warn_run said that one
            warn(f"warning: {problem}")
    if not no_files:
        with writing_to(folder, stored=run.path):
            # a page that says the ledger could not be read is never reused
            written = write_report(rep, folder, key=None if rep.track_problems else key,
                                   replace=True)  # fmt: skip
        where = _shown(written.path)
        if not written.created:
            _left_as_it_was(console, rep.run_id, written.path)
        else:
            again = ", in place of an earlier report of this run" if written.replaced else ""
            console.print(f"Report written to {where}{os.sep}{again} (open {_shown(written.html)})",
                          markup=False, soft_wrap=True)  # fmt: skip
    _strict(ok, strict)


def _summary(console: Any, rep: Any, *, reused: bool, track: str | None) -> None:
    """The forecast table, the run's status and the track record's line."""
    from forecast.report.terminal import forecast_table as table_view
    from forecast.report.terminal import run_status, show

    show(console, table_view(rep, console))
    console.print(run_status(rep, reused=reused))
    if track is not None:
        console.print(f"Track record: {track}", markup=False, soft_wrap=True)


def _left_as_it_was(console: Any, run_id: str, path: Path) -> None:
    console.print(
        f"A report for run {run_id} is already in {_shown(path)}{os.sep}; left as it was "
        "(use --fresh to sample a new run).",
        markup=False, soft_wrap=True,
    )  # fmt: skip


@app.command()
@friendly
def explain(
    question: Annotated[str, typer.Argument(help="Question id (forecast report lists them).")],
    workspace: WorkspaceOpt = Path("."),
    seed: SeedOpt = None,
    draws: DrawsOpt = None,
    chains: ChainsOpt = None,
    json_out: JsonOpt = False,
    fresh: FreshOpt = False,
) -> None:
    """What moved one question: every evidence item and cluster by influence.

    For each: its mean contribution to the log-odds with a 90 % interval, the
    change in the forecast it makes (the forecast without it, leave-one-out),
    its source with the source's grade, its credibility and its coded
    strength, so a reviewer can challenge the coding.
    """
    _quiet_libraries()
    from forecast.report.explanation import build_explanation
    from forecast.report.tables import short_title
    from forecast.report.terminal import explanation, show
    from forecast.workspace import load_workspace

    ws = load_workspace(workspace)
    ws.question(question)  # an unknown id fails before any sampling
    warn_workspace(ws)
    run = _run(ws, seed, draws, chains, fresh)
    ok = bool(run.manifest.get("diagnostics", {}).get("ok", False))
    exp = build_explanation(ws, run.trace, question, run_id=run.run_id, ok=ok)
    if json_out:
        rows = json.loads(exp.table.to_json(orient="records"))
        typer.echo(
            json.dumps(
                {
                    "question": question,
                    "title": exp.question.title,
                    "prior": exp.prior,
                    "posterior": exp.posterior,
                    "lo": exp.lo,
                    "hi": exp.hi,
                    "run_id": run.run_id,
                    "ok": ok,
                    "evidence": rows,
                }
            )
        )
        return
    console = stdout()
    drivers = {d.id: short_title(d.title) for d in ws.drivers}
    show(console, explanation(exp, console, drivers))
    if not ok:
        stderr().print("the run failed its convergence checks: see forecast report",
                       style="red", markup=False)  # fmt: skip
