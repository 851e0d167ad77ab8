"""Sum py-spy raw profiles by function: ``python -m bench.profile FILE... [--top 40]``.

A raw profile (``py-spy record -f raw``, as ``python -m bench gateway --py-spy DIR`` writes)
holds one line per distinct stack, ``frame;frame;...;frame COUNT``, outermost first, each
frame ``function (file:line)``. This prints, for the files together, the share of samples
in which each function is on the stack (inclusive: a function counted once per stack) and
at the top of the stack (self), line numbers dropped; ``--match WORD`` keeps the functions
whose name or file contains WORD.

Samples whose top frame is a thread waiting for work are left out (``IDLE``): py-spy counts
a worker thread blocked on its queue, and the uvloop event loop waiting in native code
(whose top Python frame is ``Runner.run``, or Sanic's ``_run_server_forever``), as active.
The shares are of the rest, whose count is still not the processes' CPU time (a third more
or less in the gateway bench): read shares here and CPU time from the bench.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

_LINE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")
_FRAME_LINE = re.compile(r":\d+\)$")
IDLE = frozenset(
    {
        "_worker (concurrent/futures/thread.py)",  # a pool thread blocked on its queue
        "Runner.run (asyncio/runners.py)",  # uvloop's loop in native code (mostly epoll)
        "_run_server_forever (sanic/server/runners.py)",  # the same in the action server
    }
)


def frame_name(frame: str) -> str:
    """``search (catalog/search.py:120)`` -> ``search (catalog/search.py)``."""
    return _FRAME_LINE.sub(")", frame.strip())


def read_stacks(lines: Iterable[str]) -> Iterable[tuple[list[str], int]]:
    for line in lines:
        found = _LINE.match(line.rstrip("\n"))
        if found:
            frames = [frame_name(f) for f in found["stack"].split(";") if f.strip()]
            yield frames, int(found["count"])


def summarise(paths: Sequence[Path]) -> tuple[int, Counter[str], Counter[str]]:
    """(total samples, inclusive samples by function, self samples by function)."""
    total = 0
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as handle:
            for frames, count in read_stacks(handle):
                if not frames or frames[-1] in IDLE:
                    continue
                total += count
                for name in set(frames):
                    inclusive[name] += count
                own[frames[-1]] += count
    return total, inclusive, own


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--match", default="", help="only functions whose frame contains this")
    args = parser.parse_args(argv)
    total, inclusive, own = summarise(args.files)
    print(f"{total} busy samples in {len(args.files)} file(s)")
    if not total:
        return 0
    for title, counter in (("inclusive", inclusive), ("self", own)):
        print(f"\n{title}:")
        shown = [(n, c) for n, c in counter.most_common() if args.match in n][: args.top]
        for name, count in shown:
            print(f"{100 * count / total:6.1f} % {count:6d}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
