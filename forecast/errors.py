"""Error types. Everything the user can cause is a ``ForecastError``.

``cli`` turns a ``ForecastError`` into a message on stderr and an exit status
(2 for bad input, 1 for a failed run); nothing below ``cli`` exits or prints.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) in a workspace file.

    ``line`` is 1-based; 0 means the problem concerns the file as a whole.
    """

    path: str
    line: int
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        tag = "warning: " if self.severity == "warning" else ""
        return f"{where}: {tag}{self.message}"


class ForecastError(Exception):
    """Base class for every error the user can cause or act on."""

    exit_code = 2


class WorkspaceError(ForecastError):
    """One or more problems in workspace files, all reported at once."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(ForecastError):
    """A command was called with an argument that does not fit the workspace
    (an unknown question id, a bad option value)."""


class DiagnosticsError(ForecastError):
    """Sampling finished but failed its convergence checks (with ``--strict``)."""

    exit_code = 1


class RunError(ForecastError):
    """Sampling or a stored run could not be used."""

    exit_code = 1


class LockError(ForecastError):
    """The workspace is locked by another command for too long, or cannot be locked."""


class OutputError(ForecastError):
    """An output file or folder cannot be written (permissions, a full disk)."""
