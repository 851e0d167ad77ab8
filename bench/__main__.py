"""Bench runner: ``python -m bench [NAME ...] [--quick] [--list] [bench options]``.

Every module ``bench/<name>_bench.py`` is a benchmark: it exposes ``run(args) -> None``
(``args`` an argparse Namespace) and, optionally, ``add_arguments(parser)`` to declare its
own options. Without names, every benchmark runs, in alphabetical order. Figures are
printed and written under bench/out/ (ignored by git).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

BENCH_DIR = Path(__file__).resolve().parent
SUFFIX = "_bench"


def discover() -> dict[str, str]:
    """Benchmark name -> module name, e.g. {"search": "bench.search_bench"}."""
    return {
        path.stem.removesuffix(SUFFIX): f"bench.{path.stem}"
        for path in sorted(BENCH_DIR.glob(f"*{SUFFIX}.py"))
    }


def _load(module_name: str) -> ModuleType:
    module = importlib.import_module(module_name)
    if not callable(getattr(module, "run", None)):
        raise SystemExit(f"{module_name} has no run(args) function")
    return module


def main(argv: Sequence[str] | None = None) -> int:
    benches = discover()
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.split("\n")[0], conflict_handler="resolve"
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"one of: {', '.join(benches)}")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--quick", action="store_true", help="smaller, faster runs")
    args_list = list(sys.argv[1:] if argv is None else argv)
    pre, _ = parser.parse_known_args(args_list)
    if pre.list:
        print("\n".join(benches))
        return 0
    unknown = [n for n in pre.names if n not in benches]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {', '.join(benches)}")
    chosen = pre.names or list(benches)
    modules = {name: _load(benches[name]) for name in chosen}
    for name, module in modules.items():
        add = getattr(module, "add_arguments", None)
        if callable(add):
            add(parser.add_argument_group(name))
    args = parser.parse_args(args_list)
    for name, module in modules.items():
        print(f"== bench {name} ==", flush=True)
        started = time.perf_counter()
        module.run(args)
        print(f"== bench {name}: {time.perf_counter() - started:.1f} s ==\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
