"""Commands on workspace files: ``validate``, ``init``, ``schema``, ``evidence add``.

None of them needs the model, so none imports pymc, arviz or pandas.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer

from forecast.cli._app import WorkspaceArg, app, friendly, stderr, stdout, warn, warn_workspace
from forecast.errors import UsageError


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


@app.command()
@friendly
def validate(workspace: WorkspaceArg = Path(".")) -> None:
    """Check every workspace file; list all problems as file:line: message.

    Exit status 2 when there is any error; warnings alone do not fail.
    """
    from forecast.resolve import overdue
    from forecast.workspace import load_workspace

    ws = load_workspace(workspace)
    warn_workspace(ws)
    for warning in overdue(ws):  # closed questions still waiting for `forecast resolve`
        warn(warning)
    clusters = len({e.cluster for e in ws.evidence})
    stdout().print(
        f"ok: {_plural(len(ws.questions), 'question')}, {_plural(len(ws.drivers), 'driver')}, "
        f"{_plural(len(ws.analysts), 'analyst')}, {_plural(len(ws.sources), 'source')}, "
        f"{_plural(len(ws.evidence), 'evidence item')} ({_plural(clusters, 'cluster')})",
        markup=False,
        soft_wrap=True,
    )


@app.command()
@friendly
def init(workspace: WorkspaceArg = Path(".")) -> None:
    """Start a new workspace in WORKSPACE: example questions, priors, sources, evidence.

    Every file explains its fields; edit them, then run `forecast validate`.
    Refuses to touch a folder that already holds priors/ or evidence/.
    """
    from forecast.workspace import init_workspace

    written = init_workspace(workspace)
    out = stdout()
    out.print(f"created a workspace in {workspace}:", markup=False)
    for rel in written:
        out.print(f"  {rel}", markup=False)
    out.print(
        "next: edit priors/questions.yaml, then `forecast validate` and `forecast report`",
        markup=False,
    )


@app.command()
@friendly
def schema(
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write the schema files into.")
    ] = Path("schema"),
) -> None:
    """Write JSON Schema for priors/questions.yaml and analyst files, for editors.

    An editor using yaml-language-server (VS Code's YAML extension, ...) then
    checks and completes fields as you type, in files that start with
    `# yaml-language-server: $schema=../schema/questions.schema.json`
    (`forecast init` writes both).
    """
    from forecast.workspace.schema_json import write_schemas

    try:
        written = write_schemas(out)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    for path in written:
        stdout().print(str(path), markup=False, soft_wrap=True)


evidence_app = typer.Typer(
    help="Coded evidence: add items to the evidence CSVs.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)
app.add_typer(evidence_app, name="evidence")


def _interactive() -> bool:
    """Prompt for missing values only when a person is at the keyboard."""
    return sys.stdin.isatty()


# option name -> (column, prompt text); required unless a default applies
_REQUIRED = {
    "--bears-on": ("bears_on", "Question or driver id it bears on"),
    "--source": ("source", "Source id (from evidence/sources.csv)"),
    "--strength": (
        "strength",
        "Strength (e.g. moderate-for, weak-against, neutral, or a ratio such as 3 or 1/4)",
    ),
    "--credibility": ("credibility", "Credibility 1-6 (1 confirmed ... 6 cannot be judged)"),
    "--summary": ("summary", "Summary, in your own words"),
}


@evidence_app.command("add")
@friendly
def evidence_add(
    workspace: WorkspaceArg = Path("."),
    bears_on: Annotated[
        str | None, typer.Option("--bears-on", help="Question or driver id the item bears on.")
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Source id from evidence/sources.csv.")
    ] = None,
    strength: Annotated[
        str | None,
        typer.Option(
            "--strength",
            help="A word (neutral, weak-for, moderate-against, strong-for, very-strong-against, "
            "...) or a likelihood ratio: 3, 0.25, 1/4.",
        ),
    ] = None,
    credibility: Annotated[
        int | None,
        typer.Option("--credibility", help="Admiralty information digit 1-6 (1 confirmed)."),
    ] = None,
    date: Annotated[
        str | None, typer.Option("--date", help="YYYY-MM-DD.", show_default="today")
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option("--cluster", help="Cluster id shared by reports of the same event."),
    ] = None,
    summary: Annotated[
        str | None, typer.Option("--summary", help="What the item says, in your own words.")
    ] = None,
    citation: Annotated[
        str | None, typer.Option("--citation", help="Where it comes from: outlet, title, date.")
    ] = None,
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            help="Evidence CSV in evidence/ to append to (default: the only one, else the "
            "largest, else a new evidence.csv).",
        ),
    ] = None,
) -> None:
    """Append one coded evidence item, after validating the workspace with it.

    Assigns the next free id and prints it. Nothing is written when anything
    is wrong. Prompts for missing values on a terminal.
    """
    from forecast.workspace import add_evidence

    given = {
        "bears_on": bears_on,
        "source": source,
        "strength": strength,
        "credibility": None if credibility is None else str(credibility),
        "summary": summary,
    }
    missing = [opt for opt, (col, _) in _REQUIRED.items() if not (given[col] or "").strip()]
    if missing and not _interactive():
        raise UsageError(
            f"missing {', '.join(missing)}: give them as options (prompts need a terminal)"
        )
    for opt in missing:
        column, text = _REQUIRED[opt]
        given[column] = str(typer.prompt(text, type=int if opt == "--credibility" else str))
    if citation is None and _interactive():
        citation = typer.prompt("Citation (outlet, title, date)", default="", show_default=False)
    values = {
        **{k: v.strip() for k, v in given.items() if v is not None},
        "date": (date or dt.date.today().isoformat()).strip(),
        "cluster": (cluster or "").strip(),
        "citation": (citation or "").strip(),
    }
    new_id, rel = add_evidence(workspace, values, file=file)
    stdout().print(new_id, markup=False)
    stderr().print(f"added {new_id} to {rel}", markup=False, soft_wrap=True)
