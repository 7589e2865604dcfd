"""The workspace lock: one command at a time edits a workspace's files.

Every command that reads a workspace file, checks it and writes it back
(``evidence add``) holds ``<workspace>/.forecast/lock`` from the read to the
rename, so two at once cannot both append to the same old bytes and lose a
row. (``init`` needs none: it only writes fixed files into a folder without a
workspace, and two at once write the same bytes.) The lock is an OS file
lock (``filelock``): it is released when its holder exits, however it exits,
so a killed command never leaves the workspace locked.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from forecast.errors import LockError

LOCK_FILE = Path(".forecast") / "lock"
TIMEOUT_ENV = "FORECAST_LOCK_TIMEOUT"
DEFAULT_TIMEOUT = 60.0  # seconds; an edit holds the lock for about a second

F = TypeVar("F", bound=Callable[..., Any])

# One FileLock object a path in this process, so a nested `workspace_lock`
# (a command that calls another locked function) re-enters instead of waiting on itself.
_locks: dict[str, Any] = {}
_guard = threading.Lock()


def lock_timeout() -> float:
    """Seconds to wait for the lock: $FORECAST_LOCK_TIMEOUT, else 60."""
    raw = os.environ.get(TIMEOUT_ENV, "")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_TIMEOUT
    return value if value >= 0 else DEFAULT_TIMEOUT


@contextlib.contextmanager
def workspace_lock(root: str | Path, timeout: float | None = None) -> Iterator[Path]:
    """Hold the workspace's lock file for the duration of the ``with`` block.

    Raises
    ------
    LockError
        When another process holds it longer than ``timeout`` seconds
        (default :func:`lock_timeout`), or the lock file cannot be created.
    """
    from filelock import FileLock, Timeout

    path = Path(root) / LOCK_FILE
    wait = lock_timeout() if timeout is None else timeout
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LockError(
            f"{path}: cannot create the workspace lock file: {exc.strerror or exc}"
        ) from None
    with _guard:
        lock = _locks.setdefault(str(path.resolve()), FileLock(str(path)))
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise LockError(
            f"{path}: another forecast command has held the workspace lock for {wait:g} s; "
            f"try again when it has finished (wait longer with {TIMEOUT_ENV}=seconds)"
        ) from None
    except OSError as exc:
        raise LockError(f"{path}: cannot lock the workspace: {exc.strerror or exc}") from None
    try:
        yield path
    finally:
        lock.release()


def locked(fn: F) -> F:
    """Run ``fn(root, ...)`` holding the lock of the workspace ``root``.

    A ``root`` that is an existing file is passed through unlocked, for ``fn``
    to report.
    """

    @functools.wraps(fn)
    def wrapper(root: str | Path, *args: Any, **kwargs: Any) -> Any:
        if Path(root).exists() and not Path(root).is_dir():
            return fn(root, *args, **kwargs)
        with workspace_lock(root):
            return fn(root, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
