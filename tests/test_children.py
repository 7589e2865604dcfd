"""Killing `forecast run` takes its sampler processes with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import MINIMAL_FILES, write_workspace

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state) of a live process, None when it is gone or a zombie."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid = text[text.rindex(")") + 2 :].split()[:2]
    return None if state in "ZX" else (int(ppid), state)


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[0] == parent:
                found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_sampler_processes_exit_when_the_main_process_is_killed(tmp_path):
    files = dict(MINIMAL_FILES)  # statements pooled hierarchically: NUTS, 2 chains
    files["forecast.toml"] = files["forecast.toml"].replace('"direct"', '"hierarchical"')
    ws = write_workspace(tmp_path / "ws", files)
    # nutpie samples in threads of the process itself, which die with it; PyMC's
    # sampler, used where nutpie cannot be imported, runs its chains as child
    # processes: a nutpie that fails to import makes the run take that path
    shadow = tmp_path / "shadow" / "nutpie"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text('raise ImportError("nutpie hidden by the test")\n')
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(shadow.parent), str(REPO), os.environ.get("PYTHONPATH", "")]
        ),
    }
    main = subprocess.Popen(
        [sys.executable, "-m", "forecast", "run", str(ws), "--draws", "1000000", "--chains", "2"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300  # compiling the model comes first
        children: list[int] = []
        while len(children) < 2 and time.monotonic() < deadline and main.poll() is None:
            time.sleep(0.5)
            children = _children(main.pid)
        assert len(children) >= 2, "the sampler never started its chains"
        time.sleep(1)  # let the chains settle into sampling
        main.send_signal(signal.SIGKILL)
        main.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_stat(pid) for pid in children):
            time.sleep(0.2)
        left = [pid for pid in children if _stat(pid)]
    finally:
        if main.poll() is None:
            main.kill()
            main.wait()
    for pid in left:  # do not leave them behind when the test fails
        os.kill(pid, signal.SIGKILL)
    assert left == []
