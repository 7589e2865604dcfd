"""The Typer app shared by every command module, and the error boundary.

Commands live in ``forecast/cli/*_cmds.py``; each decorates its functions with
``@app.command()`` and ``@friendly``. Heavy libraries (pymc, arviz,
matplotlib) are imported inside the commands that need them, so
``forecast --help`` and ``forecast validate`` start fast.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from forecast import __version__
from forecast.errors import ForecastError, WorkspaceError

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="forecast",
    help="Bayesian forecasts of diplomatic summit outcomes from analyst priors and coded evidence.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


# User text (titles, summaries, paths) goes through these consoles: no Rich
# markup ("[bold]" stays text), no emoji codes (":100:" in "path:100:" stays
# text), no highlighting. Styles come only from Text objects and style=.
_PLAIN = {"markup": False, "emoji": False, "highlight": False}


def stdout() -> Console:
    """Console for results; plain when not a TTY or when NO_COLOR is set.

    Off a terminal (a pipe, a log file) tables get room instead of the
    80-column default, so ids and titles are not wrapped mid-word.
    """
    wide = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160
    return Console(**_PLAIN, no_color="NO_COLOR" in os.environ or None, width=wide)


def stderr() -> Console:
    """Console for progress, warnings and errors."""
    return Console(stderr=True, **_PLAIN, no_color="NO_COLOR" in os.environ or None)


def warn(message: str) -> None:
    """One warning on stderr, as written (a path or a title holding ``[...]`` is text)."""
    stderr().print(message, style="yellow", soft_wrap=True, markup=False)


def warn_workspace(ws: Any) -> None:
    """The workspace's warnings (``path:line: warning: ...``), as validate lists them."""
    for problem in ws.warnings:
        warn(str(problem))


def warn_run(run: Any) -> None:
    """Say why a stored run was not reused, when that needs saying (a damaged run),
    and why the ledger did not record it (a report goes on without it)."""
    if getattr(run, "note", ""):
        warn(f"warning: {run.note}")
    if getattr(run, "ledger_note", ""):
        warn(f"warning: this run is {run.ledger_note}")


def friendly(fn: F) -> F:
    """Turn a ``ForecastError`` into a message on stderr and its exit status.

    Nothing below the CLI prints or exits; this is the one place that does.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except WorkspaceError as exc:
            err = stderr()
            for problem in exc.problems:
                style = "yellow" if problem.severity == "warning" else "red"
                err.print(str(problem), style=style, markup=False, soft_wrap=True)
            n = sum(p.severity == "error" for p in exc.problems)
            err.print(f"{n} error{'s' * (n != 1)}; nothing was written.", style="red")
            raise typer.Exit(exc.exit_code) from None
        except ForecastError as exc:
            stderr().print(f"error: {exc}", style="red", markup=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"forecast {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Bayesian forecasts of diplomatic summit outcomes from analyst priors and coded evidence."""
    quiet_blas_warning()


def quiet_blas_warning() -> None:
    """Silence PyTensor's "could not link to a BLAS" warning, and only that one.

    It is about PyTensor's build, says nothing about a forecast, and comes on
    some runs only (when a graph is first compiled); every other warning stays.
    """
    import warnings

    warnings.filterwarnings(
        "ignore", message="PyTensor could not link to a BLAS installation", category=UserWarning
    )


# Shared argument types, so every command spells them the same way.
WorkspaceArg = Annotated[
    Path,
    typer.Argument(help="Workspace folder (default: the current folder).", show_default=False),
]
WorkspaceOpt = Annotated[
    Path,
    typer.Option("--workspace", "-w", help="Workspace folder.", show_default="."),
]


def main() -> None:
    """Console-script entry point."""
    app(prog_name="forecast")
    sys.exit(0)


class SamplingProgress:
    """A progress callback for ``forecast.inference``: a Rich bar on a terminal,
    a line per phase otherwise (logs stay readable)."""

    def __init__(self) -> None:
        self.console = stderr()
        self._bar = None
        self._task = None
        self._seen: set[str] = set()

    def __call__(self, done: int, total: int, message: str) -> None:
        if not self.console.is_terminal:
            # chains on several cores interleave their phases: say each once
            if message not in self._seen:
                self._seen.add(message)
                self.console.print(message, markup=False)
            return
        if self._bar is None:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(message, total=total)
        self._bar.update(self._task, completed=done, total=total, description=message)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> SamplingProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def settings_with(ws: Any, seed: int | None, draws: int | None, chains: int | None) -> Any:
    """The workspace's settings with the command-line overrides applied."""
    from dataclasses import replace

    from forecast.errors import UsageError

    changes = {
        k: v for k, v in {"seed": seed, "draws": draws, "chains": chains}.items() if v is not None
    }
    for key, value in changes.items():
        if value < (0 if key == "seed" else 1):
            raise UsageError(f"--{key} {value}: must be {'>= 0' if key == 'seed' else '>= 1'}")
    return replace(ws.settings, **changes)


SeedOpt = Annotated[
    int | None, typer.Option("--seed", help="Random seed (default: forecast.toml, else 20260707).")
]
DrawsOpt = Annotated[
    int | None, typer.Option("--draws", help="Draws per chain (default: forecast.toml, else 1000).")
]
ChainsOpt = Annotated[
    int | None, typer.Option("--chains", help="Chains (default: forecast.toml, else 4).")
]
StrictOpt = Annotated[
    bool, typer.Option("--strict", help="Exit 1 when the run fails its convergence checks.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of a table.")]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Forecast as of this past date (YYYY-MM-DD): later evidence and resolutions are "
        "left out, and the ledger records the run as of that day (a backtest).",
        show_default=False,
    ),
]


def cut_to(ws: Any, as_of: str | None) -> Any:
    """The workspace as it stood on ``--as-of`` (unchanged without it)."""
    if not as_of:
        return ws
    from forecast.asof import as_of as cut
    from forecast.asof import parse_as_of

    return cut(ws, parse_as_of(as_of))
