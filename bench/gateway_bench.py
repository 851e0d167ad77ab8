"""Gateway load benchmark: N concurrent Telegram users through the real gateway, Rasa and
action server; reply latency (p50/p95/p99) and sustained messages per second.

    python -m bench gateway [--users 60] [--rates 10,25,40,60] [--seconds 20] [--fake-rasa]
        [--model PATH] [--py-spy DIR]
    python -m bench.gateway_bench --quick

Starts the action server and Rasa as the test fixture does (cached model, a temporary
catalogue with the seed imported), a fake Telegram Bot API on 127.0.0.1 (tests/fakes) and
the gateway as its own process (``python -m server``, long polling the fake). Every user first
gives consent (not timed). Then, for each target rate, messages are injected at a steady
pace (open loop) by users who are not waiting for an answer; the latency of a message is
the time from its injection as a Telegram update to the bot's first sendMessage to that
chat. The gateway "breaks" at the first rate where p95 exceeds the target (200 ms) or the
achieved rate falls below 95 % of the target. ``--fake-rasa`` replaces Rasa with the small
scripted fake, to measure the gateway alone. Figures go to stdout and bench/out/gateway.json.
``--py-spy DIR`` samples the gateway and the action server (its Sanic workers included)
during every rate's sending time (``py-spy record -f raw``) into DIR/<process>-<rate>.txt;
``python -m bench.profile DIR/*.txt`` sums such files by function.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.databases import temporary_postgres
from bench.measure import cpu_seconds, percentile
from core.settings import PROJECT_ROOT
from devtools.rasa_env import free_port

OUT_DIR = Path(__file__).resolve().parent / "out"
TARGET_P95_MS = 200.0
TARGET_RATE = 25.0
MESSAGES = [
    "cerco un doposcuola per mio figlio di 8 anni a Rifredi",
    "ciao",
    "dov'è il welcome point più vicino?",
    "centro estivo per mia figlia di 7 anni a Novoli",
    "grazie mille",
    "come funziona?",
]


def add_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument("--users", type=int, default=60, help="concurrent users (default 60)")
    parser.add_argument("--rates", default="10,25,40,60", help="target msg/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per rate")
    parser.add_argument("--fake-rasa", action="store_true", help="the gateway alone")
    parser.add_argument(
        "--rasa-workers", type=int, default=1, help="Rasa worker processes (default 1)"
    )
    parser.add_argument(
        "--tracker",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="Rasa's tracker store: a SQLite file (default) or a throw-away PostgreSQL database",
    )
    parser.add_argument(
        "--lock-store",
        default=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14"),
        help="Redis URL of Rasa's lock store, used when --rasa-workers > 1",
    )
    parser.add_argument(
        "--model", type=Path, default=None, help="a trained model (default: devtools.train's)"
    )
    parser.add_argument(
        "--py-spy",
        dest="py_spy",
        type=Path,
        default=None,
        metavar="DIR",
        help="record py-spy profiles of the gateway and the action server into DIR",
    )


def _tree(pid: int) -> list[int]:
    """The process and its descendants (Rasa forks workers)."""
    found = [pid]
    for child in Path("/proc").glob("[0-9]*/stat"):
        try:
            parts = child.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(parts[1]) in found:
            found.append(int(child.parent.name))
    return found


@dataclass
class Step:
    target: float
    sent: int = 0
    answered: int = 0
    skipped_busy: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    duration_s: float = 0.0
    cpu_percent: dict[str, float] = field(default_factory=dict)
    cpu_ms_per_message: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, float | int]:
        lat = self.latencies_ms
        return {
            "target_msg_s": self.target,
            "achieved_msg_s": round(self.answered / self.duration_s, 1) if self.duration_s else 0,
            "sent": self.sent,
            "answered": self.answered,
            "skipped_busy": self.skipped_busy,
            "p50_ms": round(percentile(lat, 50), 1),
            "p95_ms": round(percentile(lat, 95), 1),
            "p99_ms": round(percentile(lat, 99), 1),
            "max_ms": round(max(lat), 1) if lat else float("nan"),
            "cpu_percent": self.cpu_percent,
            "cpu_ms_per_message": self.cpu_ms_per_message,
        }


class Users:
    """Simulated citizens: each waits for the answer before writing again."""

    def __init__(self, telegram: object, count: int) -> None:
        self.telegram = telegram
        self.chats = [800_000 + i for i in range(count)]
        self.pending: dict[int, float] = {}  # chat -> injection time (monotonic)
        self.lock = threading.Lock()
        self._seen = 0

    def consent_all(self) -> None:
        tg = self.telegram
        for chat in self.chats:
            tg.send_text(chat, "/start")  # type: ignore[attr-defined]
        for chat in self.chats:
            tg.wait_sent(chat, "Accetto", timeout=60)  # type: ignore[attr-defined]
        for chat in self.chats:
            tg.press(chat, "Accetto")  # type: ignore[attr-defined]
        for chat in self.chats:
            tg.wait_sent(chat, "Grazie", timeout=60)  # type: ignore[attr-defined]

    def collect(self, step: Step) -> None:
        """Match the bot's sendMessage calls to waiting users (first reply = latency)."""
        calls = self.telegram.state.calls  # type: ignore[attr-defined]
        with self.lock:
            new = calls[self._seen :]
            self._seen += len(new)
            for call in new:
                if call.method != "sendMessage" or call.status != 200:
                    continue
                chat = call.params.get("chat_id")
                started = self.pending.pop(chat, None)
                if started is not None:
                    step.latencies_ms.append((call.at - started) * 1000)
                    step.answered += 1

    def run_step(
        self,
        target: float,
        seconds: float,
        processes: dict[str, int],
        profile_dir: Path | None = None,
    ) -> Step:
        step = Step(target)
        spies = _start_py_spy(profile_dir, processes, target, seconds) if profile_dir else []
        cpu_before = {name: sum(map(cpu_seconds, _tree(pid))) for name, pid in processes.items()}
        self.collect(Step(0))  # forget what came before
        interval = 1.0 / target
        start = time.monotonic()
        index = 0
        next_at = start
        while time.monotonic() - start < seconds:
            now = time.monotonic()
            if now < next_at:
                self.collect(step)
                time.sleep(min(0.002, next_at - now))
                continue
            next_at += interval
            with self.lock:
                free = [c for c in self.chats if c not in self.pending]
            if not free:
                step.skipped_busy += 1
                continue
            chat = free[index % len(free)]
            text = MESSAGES[index % len(MESSAGES)]
            index += 1
            with self.lock:
                self.pending[chat] = time.monotonic()
            self.telegram.send_text(chat, text)  # type: ignore[attr-defined]
            step.sent += 1
        deadline = time.monotonic() + 10
        while self.pending and time.monotonic() < deadline:  # let the last answers arrive
            self.collect(step)
            time.sleep(0.01)
        step.duration_s = time.monotonic() - start
        used = {
            name: sum(map(cpu_seconds, _tree(pid))) - cpu_before[name]
            for name, pid in processes.items()
        }
        step.cpu_percent = {name: round(100 * cpu / step.duration_s) for name, cpu in used.items()}
        step.cpu_ms_per_message = {
            name: round(1000 * cpu / max(1, step.sent), 1) for name, cpu in used.items()
        }
        with self.lock:
            self.pending.clear()
        for spy in spies:
            try:
                spy.wait(timeout=30)
            except subprocess.TimeoutExpired:
                spy.kill()
        return step


PROFILED = ("gateway", "action server")


def _start_py_spy(
    out: Path, processes: dict[str, int], target: float, seconds: float
) -> list[subprocess.Popen[bytes]]:
    """py-spy sampling each profiled process for the step's sending time (raw stacks)."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out.mkdir(parents=True, exist_ok=True)
    spies = []
    for name in PROFILED:
        if name not in processes:
            continue
        path = out / f"{name.replace(' ', '_')}-{target:g}.txt"
        command = [py_spy, "record", "--subprocesses", "-f", "raw", "-r", "100"]
        command += ["-d", str(int(seconds)), "-p", str(processes[name]), "-o", str(path)]
        spies.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
    return spies


def _rasa_alone(stack: object, turns: int = 30) -> dict[str, float]:
    """Rasa's own REST-turn latency for the bench's messages, one at a time (no gateway)."""
    import uuid

    times: list[float] = []
    for i in range(turns + 5):
        started = time.perf_counter()
        stack.send(uuid.uuid4().hex, MESSAGES[i % len(MESSAGES)])  # type: ignore[attr-defined]
        if i >= 5:  # the first turns warm up TensorFlow and the catalogue
            times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1)}


def _start_gateway(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "server"],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the gateway did not start; see {log}")


def run(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(PROJECT_ROOT))
    from devtools.stack import prepare_catalog_db, start_local_stack
    from devtools.train import ensure_model
    from tests.fakes.fake_rasa import FakeRasa
    from tests.fakes.fake_telegram import FakeTelegram

    quick = getattr(args, "quick", False)
    workers = int(getattr(args, "rasa_workers", 1))
    rates = [10.0, 25.0] if quick else [float(r) for r in str(args.rates).split(",")]
    seconds = 10.0 if quick else float(args.seconds)
    users_count = 30 if quick else int(args.users)
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        database_url = prepare_catalog_db(workdir / "welcome.db")
        processes: dict[str, int] = {}
        rasa_alone: dict[str, float] = {}
        if args.fake_rasa:
            fake = FakeRasa().start()
            stack.callback(fake.stop)
            rasa_url, token, action_url = fake.url, "", fake.url
        else:
            model = getattr(args, "model", None) or ensure_model().model
            tracker_url = ""
            if getattr(args, "tracker", "sqlite") == "postgres":
                tracker_url = stack.enter_context(temporary_postgres("welcome_bench_tracker"))
                tracker_url = tracker_url.replace("postgresql+psycopg://", "postgresql://", 1)
            rasa = start_local_stack(
                model=model,
                database_url=database_url,
                workdir=workdir,
                rasa_workers=workers,
                lock_store_url=str(args.lock_store) if workers > 1 else "",
                tracker_url=tracker_url,
            )
            stack.callback(rasa.close)
            rasa_url, token = rasa.rasa_url, rasa.token
            action_url = rasa.action_url.rsplit("/webhook", 1)[0]
            for service in rasa.supervisor.services:
                if service.process is not None:
                    processes[service.name] = service.process.pid
            rasa_alone = _rasa_alone(rasa)
        telegram = FakeTelegram().start()
        stack.callback(telegram.stop)
        port = free_port()
        gateway = _start_gateway(
            {
                "GATEWAY_PORT": str(port),
                "VAR_DIR": str(workdir / "var"),
                "DATABASE_URL": database_url,
                "RASA_URL": rasa_url,
                "RASA_AUTH_TOKEN": token,
                "ACTION_SERVER_URL": action_url,
                "TELEGRAM_BOT_TOKEN": telegram.token,
                "TELEGRAM_API_BASE_URL": telegram.base_url,
                "WHATSAPP_ACCESS_TOKEN": "",
            },
            port,
            workdir / "gateway.log",
        )
        stack.callback(gateway.wait, 15)
        stack.callback(gateway.terminate)
        processes["gateway"] = gateway.pid
        telegram.wait_for(lambda c: c.method == "setMyCommands", timeout=30)
        users = Users(telegram, users_count)
        users.consent_all()
        warm = min(len(users.chats), 10 * workers)
        for chat in users.chats[:warm]:  # warm-up: first calls of the actions and the model
            telegram.send_text(chat, MESSAGES[0])
        time.sleep(3)
        profile_dir = getattr(args, "py_spy", None)
        steps = [users.run_step(rate, seconds, processes, profile_dir) for rate in rates]
    results = [s.summary() for s in steps]
    breaks = next(
        (
            r
            for r in results
            if r["p95_ms"] > TARGET_P95_MS or r["achieved_msg_s"] < 0.95 * r["target_msg_s"]
        ),
        None,
    )
    mode = (
        "gateway + fake Rasa"
        if args.fake_rasa
        else f"gateway + Rasa ({workers} worker{'s' if workers > 1 else ''}, "
        f"{getattr(args, 'tracker', 'sqlite')} tracker) + action server"
    )
    print(
        f"{mode}, {users_count} Telegram users, {seconds:.0f} s per rate, "
        f"{os.cpu_count()} CPUs, load average {load_start:.1f} at start"
    )
    if rasa_alone:
        print(
            f"Rasa alone (REST turns, one at a time, same messages): p50 "
            f"{rasa_alone['p50_ms']} ms, p95 {rasa_alone['p95_ms']} ms"
        )
    print(f"{'target':>7} {'achieved':>9} {'sent':>5} {'p50':>7} {'p95':>7} {'p99':>7} {'busy':>5}")
    for r in results:
        print(
            f"{r['target_msg_s']:>7.0f} {r['achieved_msg_s']:>9.1f} {r['sent']:>5} "
            f"{r['p50_ms']:>7.1f} {r['p95_ms']:>7.1f} {r['p99_ms']:>7.1f} {r['skipped_busy']:>5}"
            f"  CPU% {r['cpu_percent']}  CPU ms/msg {r['cpu_ms_per_message']}"
        )
    at_target = next((r for r in results if r["target_msg_s"] == TARGET_RATE), None)
    if at_target is not None:
        ok = at_target["p95_ms"] <= TARGET_P95_MS
        print(
            f"target p95 <= {TARGET_P95_MS:.0f} ms at {TARGET_RATE:.0f} msg/s: "
            f"{'met' if ok else 'NOT met'} (p95 {at_target['p95_ms']} ms)"
        )
    print(f"breaks at: {breaks['target_msg_s']:.0f} msg/s" if breaks else "breaks at: not reached")
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "gateway.json").write_text(
        json.dumps(
            {
                "mode": mode,
                "users": users_count,
                "seconds": seconds,
                "load_start": load_start,
                "rasa_alone": rasa_alone,
                "steps": results,
                "breaks_at": breaks["target_msg_s"] if breaks else None,
            },
            indent=2,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.gateway_bench")
    parser.add_argument("--quick", action="store_true")
    add_arguments(parser)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
