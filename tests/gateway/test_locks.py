"""core.locks: one lock per conversation being handled, none left for idle conversations."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable

from bot.gateway import Gateway
from core.locks import KeyedLocks
from tests.fakes.fake_rasa import FakeRasa
from tests.gateway.conftest import RunningGateway


def test_a_key_is_held_by_one_at_a_time_in_order_and_then_forgotten() -> None:
    async def scenario() -> None:
        locks = KeyedLocks()
        order: list[str] = []
        inside = 0

        async def work(key: str, name: str) -> None:
            nonlocal inside
            async with locks.hold(key):
                inside += 1
                assert inside == 1  # never two holders of the same key
                order.append(name)
                await asyncio.sleep(0.01)
                inside -= 1

        first = asyncio.create_task(work("a", "a1"))
        await asyncio.sleep(0)
        assert locks.locked("a") and len(locks) == 1
        await asyncio.gather(first, work("a", "a2"), work("a", "a3"))
        assert order == ["a1", "a2", "a3"]
        assert len(locks) == 0 and not locks.locked("a")

        async def fails() -> None:
            async with locks.hold("b"):
                raise RuntimeError("boom")

        with contextlib.suppress(RuntimeError):
            await fails()
        assert len(locks) == 0  # an error releases and forgets the entry too

    asyncio.run(scenario())


def test_different_keys_do_not_wait_for_each_other() -> None:
    async def scenario() -> None:
        locks = KeyedLocks()
        release = asyncio.Event()

        async def hold_a() -> None:
            async with locks.hold("a"):
                await release.wait()

        task = asyncio.create_task(hold_a())
        await asyncio.sleep(0)
        async with locks.hold("b"):
            assert locks.locked("a") and locks.locked("b") and len(locks) == 2
        release.set()
        await task
        assert len(locks) == 0

    asyncio.run(scenario())


def test_the_gateway_keeps_no_lock_for_conversations_it_is_not_handling(
    start_gateway: Callable[..., RunningGateway], fake_rasa: FakeRasa
) -> None:
    running = start_gateway(rasa_url=fake_rasa.url)
    gateway: Gateway = running.app.state.gateway
    with running.client() as client:
        for _ in range(40):  # forty citizens, each writing once
            token = client.post("/api/chat/session").json()["token"]
            client.post(
                "/api/chat/messages",
                json={"client_id": uuid.uuid4().hex, "command": "start"},
                headers={"Authorization": f"Bearer {token}"},
            )
    running.wait_until(
        lambda: sum(1 for m in running.messages() if m.text.startswith("Benvenuta")) == 40,
        what="forty privacy notices",
    )
    running.call(gateway.drain())
    assert len(running.conversations()) == 40
    assert len(gateway.locks) == 0
