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


def stdout() -> Console:
    """Console for results; plain when not a TTY or when NO_COLOR is set."""
    return Console(highlight=False, no_color="NO_COLOR" in os.environ or None)


def stderr() -> Console:
    """Console for progress, warnings and errors."""
    return Console(stderr=True, highlight=False, no_color="NO_COLOR" in os.environ or None)


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
