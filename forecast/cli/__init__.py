"""``forecast`` command line: thin wrappers that parse, call the library, print."""

# Importing a command module registers its commands on ``app``, in the order
# `forecast --help` lists them: the workflow's order.
# isort: off
from forecast.cli import (  # noqa: F401
    workspace_cmds, engine_cmds, report_cmds, track_cmds, runs_cmds, batch_cmds,
)

# isort: on
from forecast.cli._app import app, main

__all__ = ["app", "main"]
