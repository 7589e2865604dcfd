"""Can the report be written? Asked before sampling, and answered in one line.

A report folder that cannot be created, is not writable, or sits on a full
disk should cost the user one clear message, not the whole sampling time and
a traceback.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from forecast.errors import OutputError


def _error(folder: Path, exc: OSError, stored: Path | None) -> OutputError:
    where = exc.filename if exc.filename else folder
    reason = exc.strerror or str(exc)
    kept = f"; the run is kept in {stored}" if stored is not None else ""
    return OutputError(f"{where}: cannot write the report: {reason}{kept}")


def check_writable(folder: str | Path) -> None:
    """Create ``folder`` if needed and write and remove a probe file in it.

    Raises
    ------
    OutputError
        Naming the path and the system's reason (permission, a full disk, a
        file where a folder should be).
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-probe.")
        try:
            os.write(fd, b"probe\n")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        raise _error(folder, exc, None) from None


@contextlib.contextmanager
def writing_to(folder: str | Path, stored: Path | None = None) -> Iterator[None]:
    """Turn an ``OSError`` while writing into ``folder`` into an ``OutputError``."""
    try:
        yield
    except OSError as exc:
        raise _error(Path(folder), exc, stored) from None
