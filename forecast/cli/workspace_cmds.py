"""Commands: workspace."""

from forecast.cli._app import app  # noqa: F401
