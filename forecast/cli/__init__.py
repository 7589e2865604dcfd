"""``forecast`` command line: thin wrappers that parse, call the library, print."""

from forecast.cli._app import app, main

# Importing a command module registers its commands on ``app``.
from forecast.cli import workspace_cmds  # noqa: E402,F401
from forecast.cli import engine_cmds  # noqa: E402,F401
from forecast.cli import report_cmds  # noqa: E402,F401

__all__ = ["app", "main"]
