"""Hand-off benchmark: time from a citizen's message to its display in the Care Manager's
console (p50/p95/p99), with 20 simultaneous hand-offs.

The real gateway with the console (server.app.create_app, uvicorn, its own process) runs with a
fake Rasa (tests/handoff/fake_rasa_api.py) on a temporary database. This process plays 20
citizens on the web chat API and 5 Care Managers: each conversation is handed off
("/operatore"), claimed, and watched through the console's websocket, as the conversation
page does. Then every citizen writes every ``--interval`` seconds (with jitter) while the
Care Managers answer now and then, for ``--seconds`` seconds. Latency = websocket arrival
of the message event - just before the citizen's POST. Also measured: the time from
"/operatore" to the queue's "new" event on a Care Manager's queue page.

    python -m bench handoff [--quick] [--seconds 20] [--handoffs 20] [--postgres]
    python -m bench.handoff_bench --seconds 20

Figures are printed and written to bench/out/handoff.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.databases import PostgresUnavailable, temporary_postgres
from devtools.rasa_env import free_port

OUT = Path(__file__).resolve().parent / "out"
PASSWORD = "cavolo nero e ribollita"
CARE_MANAGERS = 5
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Figures:
    database: str
    handoffs: int
    seconds: float
    messages: int = 0
    lost: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    intake_p95_ms: float = 0.0
    replies: int = 0
    reply_p95_ms: float = 0.0
    queue_notice_p95_ms: float = 0.0
    load_before: str = ""
    notes: list[str] = field(default_factory=list)


# --- the gateway, in its own process ----------------------------------------------------------


def _serve(database_url: str, var_dir: str, port: int) -> None:
    import logging

    import uvicorn

    from bot.handoff.service import HandoffConfig
    from console.staff import create_staff
    from core.db import make_engine
    from core.migrate import upgrade
    from core.settings import Settings
    from server.app import create_app
    from staff.roles import Role
    from tests.handoff.fake_rasa_api import FakeRasaApi

    logging.basicConfig(level=logging.WARNING)
    engine = make_engine(database_url)
    upgrade(engine)
    from core.db import session_scope

    with session_scope(engine) as session:
        for n in range(CARE_MANAGERS):
            create_staff(
                session,
                email=f"cm{n}@bench.example.it",
                full_name=f"Care Manager {n}",
                roles=[Role.care_manager],
                password=PASSWORD,
            )
    rasa = FakeRasaApi().start()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        var_dir=Path(var_dir),
        database_url=database_url,
        rasa_url=rasa.url,
        rasa_auth_token="bench",
        action_server_url=rasa.url,
        secret_key="bench-secret-" + "x" * 40,
        outbox_interval_seconds=1.0,
    )
    app = create_app(settings, engine=engine)
    app.state.handoff_config = HandoffConfig(office_fallback="tutti i giorni 00:00-24:00")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# --- the people ------------------------------------------------------------------------------


class CareManager:
    def __init__(self, base: str, n: int) -> None:
        self.http = httpx.AsyncClient(base_url=base, timeout=30.0, follow_redirects=False)
        self.email = f"cm{n}@bench.example.it"
        self.csrf = ""

    async def login(self) -> None:
        page = await self.http.get("/console/accesso")
        token = _TOKEN.search(page.text)
        assert token, "no login form"
        response = await self.http.post(
            "/console/accesso",
            data={"email": self.email, "password": PASSWORD, "csrf_token": token.group(1)},
        )
        assert response.status_code == 303, response.text
        home = await self.http.get("/console/")
        found = _TOKEN.search(home.text)
        assert found
        self.csrf = found.group(1)

    def cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())

    async def claim(self, handoff_id: int) -> None:
        response = await self.http.post(
            f"/console/coda/{handoff_id}/prendi", data={"csrf_token": self.csrf}
        )
        assert response.status_code == 303 and "claimed" in response.headers["location"]

    async def reply(self, handoff_id: int, text: str) -> None:
        response = await self.http.post(
            f"/console/coda/{handoff_id}/rispondi",
            json={"text": text},
            headers={"X-CSRF-Token": self.csrf, "Accept": "application/json"},
        )
        assert response.status_code == 200, response.text


class Citizen:
    def __init__(self, base: str) -> None:
        self.http = httpx.AsyncClient(base_url=base, timeout=30.0)
        self.token = ""

    async def start(self) -> None:
        self.token = (await self.http.post("/api/chat/session")).json()["token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        await self.say("accetto")

    async def say(self, text: str) -> None:
        body = {"client_id": uuid.uuid4().hex, "text": text}
        response = await self.http.post("/api/chat/messages", json=body)
        assert response.status_code == 202, response.text

    async def wait_for(self, contains: str, within: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            history = (await self.http.get("/api/chat/history")).json()["messages"]
            for message in history:
                if message["direction"] == "outbound" and contains in (message["text"] or ""):
                    return message
            await asyncio.sleep(0.1)
        raise TimeoutError(contains)


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def _socket(base: str, cm: CareManager, query: str = "") -> Any:
    from websockets.asyncio.client import connect

    ws = await connect(
        base.replace("http://", "ws://") + "/console/coda/diretta" + query,
        origin=base,  # type: ignore[arg-type]
        additional_headers={"Cookie": cm.cookie()},
        open_timeout=30,
    )
    assert json.loads(await ws.recv())["type"] == "ready"
    return ws


async def _load(base: str, handoffs: int, seconds: float, interval: float, label: str) -> Figures:
    figures = Figures(database=label, handoffs=handoffs, seconds=seconds)
    cms = [CareManager(base, n) for n in range(CARE_MANAGERS)]
    for cm in cms:
        await cm.login()
    watcher = await _socket(base, cms[0])  # a queue page
    notices: dict[int, float] = {}
    citizens = [Citizen(base) for _ in range(handoffs)]
    await asyncio.gather(*(c.start() for c in citizens))
    await asyncio.gather(*(c.wait_for("Grazie") for c in citizens))

    asked: list[float] = []
    for citizen in citizens:
        asked.append(time.monotonic())
        await citizen.say("/operatore")
    ids: list[int] = []
    deadline = time.monotonic() + 60
    while len(ids) < handoffs and time.monotonic() < deadline:
        event = json.loads(await asyncio.wait_for(watcher.recv(), 60))
        if event.get("type") == "queue" and event.get("event") == "new":
            ids.append(int(event["handoff_id"]))
            notices[int(event["handoff_id"])] = time.monotonic()
    await watcher.close()
    if len(ids) < handoffs:
        raise RuntimeError(f"only {len(ids)} hand-offs arrived in the queue")
    # k-th notice against k-th request (the requests are sequential): an order-statistics estimate
    queue_ms = [(n - t) * 1000 for n, t in zip(sorted(notices.values()), asked, strict=False)]
    figures.queue_notice_p95_ms = round(_percentile(queue_ms, 0.95), 1)

    owner = {hid: cms[n % CARE_MANAGERS] for n, hid in enumerate(sorted(ids))}
    for hid, cm in owner.items():
        await cm.claim(hid)
    sockets = [
        await _socket(base, owner[hid], f"?handoff={hid}&after=999999999") for hid in sorted(ids)
    ]

    sent_at: dict[str, float] = {}
    stored_ms: list[float] = []
    arrived: dict[str, float] = {}
    reply_sent: dict[str, float] = {}
    reply_seen: dict[str, float] = {}
    stop = time.monotonic() + seconds

    async def read(ws: Any) -> None:
        try:
            async for raw in ws:
                event = json.loads(raw)
                if event.get("type") != "message":
                    continue
                text = event["message"].get("text") or ""
                now = time.monotonic()
                if text.startswith("bench ") and text not in arrived:
                    arrived[text] = now
                elif text.startswith("risposta ") and text not in reply_seen:
                    reply_seen[text] = now
        except Exception:
            return

    async def citizen_loop(citizen: Citizen, n: int) -> None:
        await asyncio.sleep(random.uniform(0, interval))
        while time.monotonic() < stop:
            text = f"bench {n} {uuid.uuid4().hex[:8]}"
            sent_at[text] = time.monotonic()
            await citizen.say(text)
            stored_ms.append((time.monotonic() - sent_at[text]) * 1000)
            await asyncio.sleep(interval * random.uniform(0.7, 1.3))

    async def care_manager_loop(hid: int) -> None:
        await asyncio.sleep(random.uniform(0, interval * 2))
        while time.monotonic() < stop:
            text = f"risposta {hid} {uuid.uuid4().hex[:8]}"
            reply_sent[text] = time.monotonic()
            await owner[hid].reply(hid, text)
            await asyncio.sleep(interval * 2 * random.uniform(0.7, 1.3))

    readers = [asyncio.create_task(read(ws)) for ws in sockets]
    await asyncio.gather(
        *(citizen_loop(c, n) for n, c in enumerate(citizens)),
        *(care_manager_loop(hid) for hid in sorted(ids)),
    )
    await asyncio.sleep(3.0)  # the last ones in flight
    for ws in sockets:
        await ws.close()
    for task in readers:
        task.cancel()
    latencies = [(arrived[t] - s) * 1000 for t, s in sent_at.items() if t in arrived]
    figures.messages = len(sent_at)
    figures.lost = len(sent_at) - len(latencies)
    if latencies:
        figures.p50_ms = round(statistics.median(latencies), 1)
        figures.p95_ms = round(_percentile(latencies, 0.95), 1)
        figures.p99_ms = round(_percentile(latencies, 0.99), 1)
        figures.max_ms = round(max(latencies), 1)
    figures.intake_p95_ms = round(_percentile(stored_ms, 0.95), 1)
    replies = [(reply_seen[t] - s) * 1000 for t, s in reply_sent.items() if t in reply_seen]
    figures.replies = len(reply_sent)
    figures.reply_p95_ms = round(_percentile(replies, 0.95), 1)
    for client in [*cms, *citizens]:
        await client.http.aclose()
    return figures


def bench_database(
    url: str, label: str, *, handoffs: int, seconds: float, interval: float
) -> Figures:
    port = free_port()
    with tempfile.TemporaryDirectory() as var_dir:
        server = mp.get_context("spawn").Process(
            target=_serve, args=(url, var_dir, port), daemon=True
        )
        server.start()
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or not server.is_alive():
                    raise RuntimeError("the gateway did not start")
                time.sleep(0.2)
            load = os.getloadavg()
            figures = asyncio.run(_load(base, handoffs, seconds, interval, label))
            figures.load_before = " ".join(f"{x:.2f}" for x in load)
            figures.notes.append(
                f"gateway in its own process; {CARE_MANAGERS} Care Managers; citizens write every "
                f"~{interval:g} s, Care Managers answer every ~{2 * interval:g} s"
            )
            return figures
        finally:
            server.terminate()
            server.join(timeout=10)


def _print(figures: Figures) -> None:
    print(
        f"{figures.database}: {figures.handoffs} simultaneous hand-offs, {figures.messages} "
        f"citizen messages in {figures.seconds:g} s, lost {figures.lost}\n"
        f"  message -> console: p50 {figures.p50_ms} ms, p95 {figures.p95_ms} ms, "
        f"p99 {figures.p99_ms} ms, max {figures.max_ms} ms (the web chat's POST, stored "
        f"before it answers: p95 {figures.intake_p95_ms} ms)\n"
        f"  Care Manager reply -> console (sent): p95 {figures.reply_p95_ms} ms "
        f"({figures.replies} replies); /operatore -> queue notice p95 "
        f"{figures.queue_notice_p95_ms} ms\n"
        f"  load average before: {figures.load_before}",
        flush=True,
    )


def _postgres(handoffs: int, seconds: float, interval: float) -> Figures | None:
    try:
        with temporary_postgres("welcome_handoff_bench") as url:
            return bench_database(
                url, "PostgreSQL", handoffs=handoffs, seconds=seconds, interval=interval
            )
    except PostgresUnavailable as error:
        print(f"handoff bench: {error}")
        return None


def add_arguments(parser: argparse._ArgumentGroup | argparse.ArgumentParser) -> None:
    parser.add_argument("--handoffs", type=int, default=None, help="simultaneous hand-offs (20)")
    parser.add_argument("--interval", type=float, default=None, help="seconds between messages")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")


def run(args: Any) -> None:
    """Entry point of the bench runner (``python -m bench``)."""
    quick = bool(getattr(args, "quick", False))
    handoffs = int(getattr(args, "handoffs", None) or 20)
    seconds = float(getattr(args, "seconds", None) or (8.0 if quick else 20.0))
    interval = float(getattr(args, "interval", None) or 2.0)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/handoff.db"
        results.append(
            bench_database(
                url, "SQLite (WAL file)", handoffs=handoffs, seconds=seconds, interval=interval
            )
        )
        _print(results[-1])
    if getattr(args, "postgres", False):
        pg = _postgres(handoffs, seconds, interval)
        if pg is not None:
            results.append(pg)
            _print(pg)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "handoff.json").write_text(json.dumps([asdict(r) for r in results], indent=2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.handoff_bench")
    parser.add_argument("--quick", action="store_true")
    add_arguments(parser)
    run(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
