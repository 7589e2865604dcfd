"""Sampler processes that exit when the process that started them dies.

PyMC runs each chain in a child process. If the parent is killed (SIGKILL,
the OOM killer), the children would otherwise keep their memory and block on
a pipe nobody reads. :func:`sampler_context` is a multiprocessing context,
passed to ``pm.sample(mp_ctx=...)``, whose processes first arrange to die
with their parent: on Linux through ``prctl(PR_SET_PDEATHSIG, SIGKILL)``,
and everywhere through a watchdog thread that exits when the parent changes.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context as mpc
import os
import signal
import sys
import threading
import time
from multiprocessing.context import BaseContext

PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 0.5


def exit_with_parent() -> None:
    """Make this (child) process exit as soon as its parent is gone."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the watchdog still works
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


class _ExitWithParent:
    def run(self) -> None:
        exit_with_parent()
        super().run()  # type: ignore[misc]


class _ForkProcess(_ExitWithParent, mpc.ForkProcess):
    pass


class _ForkServerProcess(_ExitWithParent, mpc.ForkServerProcess):
    pass


class _SpawnProcess(_ExitWithParent, mpc.SpawnProcess):
    pass


class _ForkContext(mpc.ForkContext):
    Process = _ForkProcess


class _ForkServerContext(mpc.ForkServerContext):
    Process = _ForkServerProcess


class _SpawnContext(mpc.SpawnContext):
    Process = _SpawnProcess


_CONTEXTS = {"fork": _ForkContext, "forkserver": _ForkServerContext, "spawn": _SpawnContext}


def sampler_context(method: str | None = None) -> BaseContext:
    """A multiprocessing context (the default start method, else ``method``)
    whose processes exit when this process dies."""
    method = method or multiprocessing.get_start_method(allow_none=True) or "fork"
    if sys.platform == "win32":
        method = "spawn"
    return _CONTEXTS[method]()
