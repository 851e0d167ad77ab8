"""A child started with die_with_parent ends when its parent is killed (kill -9)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from core.settings import PROJECT_ROOT

PARENT = """
import subprocess, sys
from devtools.procutil import die_with_parent
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                         preexec_fn=die_with_parent if sys.argv[1] == "tied" else None)
print(child.pid, flush=True)
child.wait()
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _orphan_after_parent_kill(mode: str) -> tuple[int, bool]:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, mode],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    return child, _alive(child)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux only")
def test_child_dies_with_killed_parent() -> None:
    _, alive = _orphan_after_parent_kill("tied")
    assert not alive


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux only")
def test_without_it_the_child_outlives_the_parent() -> None:
    """The control: this is the orphaned `rasa train` that die_with_parent prevents."""
    child, alive = _orphan_after_parent_kill("free")
    try:
        assert alive
    finally:
        os.kill(child, signal.SIGKILL)
