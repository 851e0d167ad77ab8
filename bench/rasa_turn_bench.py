"""REST turn benchmark: p50/p95 of one citizen turn that runs a custom action (the search).

    python -m bench rasa_turn [--turns 200] [--compare]
    python -m bench.rasa_turn_bench --quick

Starts a stack as the test fixture does (the cached model from devtools.train, a temporary
catalogue with the seed imported, the action server and ``rasa run`` on free loopback
ports, a temporary SQLite tracker store), warms it up, then times N turns through the REST
channel (POST /webhooks/rest/webhook), each from a new conversation so that every turn goes
through NLU, the policies and the search action against the catalogue. Also times
/model/parse alone, and the CPU time Rasa's process spent per REST turn. ``--compare`` runs
the same turns a second time on Rasa's plain command line (without nlu.rasa_speedups) and
prints the ratios. Figures go to stdout and bench/out/rasa_turn.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from bench.measure import cpu_seconds, percentile
from devtools.stack import RasaStack, prepare_catalog_db, start_local_stack
from devtools.train import ensure_model

OUT_DIR = Path(__file__).resolve().parent / "out"
QUERIES = [
    "cerco un doposcuola per mio figlio di 8 anni a Rifredi",
    "centro estivo per mia figlia di 7 anni a Novoli",
    "mi serve una badante per mia madre all'Isolotto",
    "cerco un corso di italiano gratuito in centro",
    "c'è un nido a Campo di Marte per un bimbo di 1 anno?",
]


def add_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument("--turns", type=int, default=200, help="timed REST turns (default 200)")
    parser.add_argument(
        "--compare", action="store_true", help="also without nlu.rasa_speedups, with ratios"
    )
    parser.add_argument(
        "--model", type=Path, default=None, help="a trained model (default: devtools.train's)"
    )
    parser.add_argument(
        "--speedups",
        default="",
        help="only these patches of nlu.rasa_speedups, comma-separated (default: all)",
    )


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50), 1),
        "p95_ms": round(percentile(values, 95), 1),
        "p99_ms": round(percentile(values, 99), 1),
        "mean_ms": round(statistics.fmean(values), 1),
    }


def _actions_run(stack: RasaStack, sender: str) -> list[str]:
    events = stack.tracker(sender)["events"]
    return [
        e["name"]
        for e in events
        if e["event"] == "action" and e["name"].startswith(("action_", "validate_"))
    ]


def measure(stack: RasaStack, turns: int) -> dict[str, object]:
    for query in QUERIES:  # warm-up: first-call costs of TensorFlow and the catalogue
        stack.send(uuid.uuid4().hex, query)
    sample = uuid.uuid4().hex
    stack.send(sample, QUERIES[0])
    actions = _actions_run(stack, sample)

    pid = stack.rasa.process.pid if stack.rasa.process is not None else 0
    cpu_before = cpu_seconds(pid)
    rest: list[float] = []
    for i in range(turns):
        started = time.perf_counter()
        replies = stack.send(uuid.uuid4().hex, QUERIES[i % len(QUERIES)])
        rest.append((time.perf_counter() - started) * 1000)
        if not replies:
            raise RuntimeError(f"empty reply for {QUERIES[i % len(QUERIES)]!r}")
    cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / turns
    parse: list[float] = []
    for i in range(turns):
        started = time.perf_counter()
        stack.parse(QUERIES[i % len(QUERIES)])
        parse.append((time.perf_counter() - started) * 1000)
    return {
        "rest_turn": _summary(rest),
        "rasa_cpu_ms_per_turn": round(cpu_ms, 1),
        "model_parse": _summary(parse),
        "actions": actions,
    }


def _one_run(model: Path, turns: int, *, speedups: bool | tuple[str, ...]) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="rasa-turn-bench-") as tmp:
        workdir = Path(tmp)
        database_url = prepare_catalog_db(workdir / "welcome.db")
        started = time.monotonic()
        stack = start_local_stack(
            model=model, database_url=database_url, workdir=workdir, speedups=speedups
        )
        startup_s = time.monotonic() - started
        try:
            figures = measure(stack, turns)
        finally:
            stack.close()
    figures["startup_s"] = round(startup_s, 1)
    return figures


def _print(label: str, figures: dict[str, object], turns: int) -> None:
    print(f"{label}: REST turn with custom action, {turns} turns: {figures['rest_turn']}")
    print(f"{label}: Rasa CPU per turn {figures['rasa_cpu_ms_per_turn']} ms")
    print(f"{label}: /model/parse: {figures['model_parse']}")


def run(args: argparse.Namespace) -> None:
    turns = 50 if getattr(args, "quick", False) else args.turns
    model = getattr(args, "model", None) or ensure_model().model
    load = os.getloadavg()[0]
    names = tuple(n.strip() for n in (getattr(args, "speedups", "") or "").split(",") if n.strip())
    figures = _one_run(model, turns, speedups=names or True)
    _print("as served", figures, turns)
    print(f"actions run by one turn: {figures['actions']}; start-up {figures['startup_s']:.0f} s")
    if getattr(args, "compare", False):
        plain = _one_run(model, turns, speedups=False)
        _print("plain rasa", plain, turns)
        served_turn, plain_turn = figures["rest_turn"], plain["rest_turn"]
        assert isinstance(served_turn, dict) and isinstance(plain_turn, dict)
        ratios = {
            "cpu_per_turn": round(
                float(plain["rasa_cpu_ms_per_turn"]) / float(figures["rasa_cpu_ms_per_turn"]), 2
            ),
            "p50": round(plain_turn["p50_ms"] / served_turn["p50_ms"], 2),
            "p95": round(plain_turn["p95_ms"] / served_turn["p95_ms"], 2),
        }
        print(f"plain rasa / as served (higher = speed-ups help more): {ratios}")
        figures["plain_rasa"] = plain
        figures["ratios_plain_over_served"] = ratios
    print(f"load average at start {load:.1f}, {os.cpu_count()} CPUs")
    figures["load_start"] = load
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "rasa_turn.json").write_text(json.dumps(figures, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rasa_turn_bench")
    parser.add_argument("--quick", action="store_true")
    add_arguments(parser)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
