"""Child processes that do not outlive the Python process that started them."""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """``preexec_fn`` for subprocess: the child gets SIGTERM when its parent dies.

    Without it a ``rasa train`` started by a test session or ``make run`` that is killed
    (kill -9, a CI timeout) keeps training, orphaned, and a second training of the same
    model starts beside it. Linux only (prctl); elsewhere a no-op. The signal is tied to
    the thread that called Popen: call it from a thread that waits for the child.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
