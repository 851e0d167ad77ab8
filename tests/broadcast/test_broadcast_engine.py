"""The delivery engine against the fake Bot API and the fake Graph API (real HTTP): pacing,
429 storms, blocked users, transient errors, cancel mid-run, WhatsApp's window, pictures
(Telegram and WhatsApp) and link buttons."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot import consent as gateway_consent
from broadcast import broadcasts as service
from broadcast import subscriptions as subs
from broadcast.engine import BroadcastWorker, EngineConfig
from broadcast.models import Broadcast, Delivery
from broadcast.report import deliveries_csv, progress
from broadcast.senders import CallbackSender, TelegramSender, WhatsAppSender
from conversations import repository as gateway_repo
from conversations.models import Channel
from core.db import session_scope
from core.settings import Settings
from core.timeutil import utcnow
from tests.broadcast.helpers import (
    TOKEN,
    add_citizen,
    chat_key_of,
    fast_config,
    new_broadcast,
    statuses,
    subscribers,
)
from tests.fakes.fake_graph import ACCESS_TOKEN, PHONE_NUMBER_ID, VERSION, FakeGraph, GraphError
from tests.fakes.fake_telegram_limits import LimitedTelegram


def _worker(engine: Engine, telegram: LimitedTelegram, config: EngineConfig) -> BroadcastWorker:
    sender = TelegramSender(base_url=telegram.base_url, token=TOKEN, timeout=config.send_timeout)
    return BroadcastWorker(engine, config, {"telegram": sender})


async def _run(worker: BroadcastWorker) -> None:
    try:
        await asyncio.wait_for(worker.run(until_idle=True), 60)
    finally:
        await worker.aclose()


def _chats(engine: Engine, conversation_ids: list[str]) -> list[int]:
    return [chat_key_of(engine, cid) for cid in conversation_ids]


async def test_every_subscriber_once_within_the_limits(engine: Engine, tmp_path: Path) -> None:
    """enforce=False: the fake only records, so its timestamps measure our own pacing."""
    recipients = subscribers(engine, 40)
    with LimitedTelegram(global_rate=20, enforce=False) as telegram:
        broadcast_id = new_broadcast(engine, title="Apertura serale")
        await _run(_worker(engine, telegram, fast_config(tmp_path, rates={"telegram": 20.0})))
        received = telegram.received("Apertura serale")
    assert statuses(engine, broadcast_id) == {"sent": 40}
    assert sorted(received) == sorted(_chats(engine, recipients))
    assert set(received.values()) == {1}
    # paced at 20/s; the fake stands for Telegram's 25: on a loaded machine a few requests
    # are held up on their way and bunch up, never beyond the limit
    assert telegram.max_in_window(1.0) <= 25
    # never faster than the pace; how much slower a loaded machine makes it is the
    # broadcast bench's figure (python -m bench broadcast), not a test's
    assert telegram.rate() <= 1.1 * 20
    with Session(engine) as session:
        broadcast = session.get(Broadcast, broadcast_id)
        assert broadcast is not None and broadcast.status == "done"
        assert broadcast.recipients == 40 and broadcast.finished_at is not None
        rows = session.exec(select(Delivery)).all()
    assert all(r.provider_message_id and r.attempts == 1 and r.sent_at for r in rows)
    call = telegram.calls("sendMessage")[0]
    assert call.params["parse_mode"] == "HTML"
    assert call.params["text"].startswith("<b>Apertura serale</b>\n\nSabato alle 16 <b>merenda")


async def test_one_message_per_chat_per_second_across_broadcasts(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    subscribers(sqlite_engine, 12)
    with LimitedTelegram(global_rate=25, enforce=False) as telegram:
        first = new_broadcast(sqlite_engine, title="Primo")
        second = new_broadcast(sqlite_engine, title="Secondo")
        await _run(_worker(sqlite_engine, telegram, fast_config(tmp_path)))
    assert statuses(sqlite_engine, first) == statuses(sqlite_engine, second) == {"sent": 12}
    assert set(telegram.received().values()) == {2}
    assert telegram.min_chat_gap() >= 0.9


async def test_429_storm_pauses_the_whole_sender(sqlite_engine: Engine, tmp_path: Path) -> None:
    recipients = subscribers(sqlite_engine, 20)
    with LimitedTelegram(global_rate=25) as telegram:
        telegram.fail_next("sendMessage", error_code=429, retry_after=1, times=5)
        broadcast_id = new_broadcast(sqlite_engine)
        await _run(_worker(sqlite_engine, telegram, fast_config(tmp_path)))
        calls = telegram.calls("sendMessage")
        received = telegram.received()
    assert statuses(sqlite_engine, broadcast_id) == {"sent": 20}
    assert sorted(received) == sorted(_chats(sqlite_engine, recipients))
    assert set(received.values()) == {1}
    refusals = [c.at for c in calls if c.status == 429]
    assert len(refusals) == 5
    for at in refusals:  # retry_after honoured: nothing leaves during the pause
        during = [c for c in calls if at + 0.2 < c.at < at + 0.95]
        assert during == [], f"{len(during)} requests during a 1 s pause"
    with Session(sqlite_engine) as session:
        rows = session.exec(select(Delivery)).all()
    assert all(r.attempts == 1 for r in rows)  # flow control is not a failed attempt


async def test_blocked_users_are_never_retried(engine: Engine, tmp_path: Path) -> None:
    recipients = subscribers(engine, 8)
    with LimitedTelegram(global_rate=25) as telegram:
        blocked = recipients[:3]
        for chat in _chats(engine, blocked):
            telegram.block(chat)
        broadcast_id = new_broadcast(engine)
        await _run(_worker(engine, telegram, fast_config(tmp_path)))
        calls = telegram.calls("sendMessage")
    assert statuses(engine, broadcast_id) == {"sent": 5, "blocked": 3}
    blocked_chats = set(_chats(engine, blocked))
    assert sum(1 for c in calls if c.params["chat_id"] in blocked_chats) == 3  # one try each
    with Session(engine) as session:
        for cid in blocked:
            conversation = gateway_repo.get_conversation(session, conversation_id=cid)
            assert conversation is not None and conversation.blocked_at is not None
        report = progress(session, broadcast_id=broadcast_id)
    assert report is not None and report.blocked == 3 and report.reasons == {"telegram:403": 3}
    # the next broadcast does not even try them
    with session_scope(engine) as session:
        later = service.create_broadcast(
            session,
            draft=service.Draft("Dopo", "Testo", [], [], utcnow()),
            created_by=None,
            now=utcnow(),
        )
        assert service.start(session, broadcast_id=later.id or 0, now=utcnow()) == 5


async def test_transient_errors_are_retried_with_backoff(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    subscribers(sqlite_engine, 6)
    with LimitedTelegram(global_rate=25) as telegram:
        telegram.fail_next("sendMessage", error_code=500, times=4)
        broadcast_id = new_broadcast(sqlite_engine)
        await _run(_worker(sqlite_engine, telegram, fast_config(tmp_path)))
        received = telegram.received()
    assert statuses(sqlite_engine, broadcast_id) == {"sent": 6}
    assert set(received.values()) == {1} and len(received) == 6
    with Session(sqlite_engine) as session:
        attempts = sorted(r.attempts for r in session.exec(select(Delivery)).all())
    assert sum(attempts) == 10 and max(attempts) >= 2


async def test_too_many_transient_errors_fail(sqlite_engine: Engine, tmp_path: Path) -> None:
    subscribers(sqlite_engine, 1)
    with LimitedTelegram(global_rate=25) as telegram:
        telegram.fail_next("sendMessage", error_code=502, times=50)
        broadcast_id = new_broadcast(sqlite_engine)
        await _run(_worker(sqlite_engine, telegram, fast_config(tmp_path)))
        assert len(telegram.calls("sendMessage")) == 4
    assert statuses(sqlite_engine, broadcast_id) == {"failed": 1}
    with Session(sqlite_engine) as session:
        row = session.exec(select(Delivery)).one()
        assert (row.attempts, row.last_error) == (4, "telegram:502")
        csv = deliveries_csv(session, broadcast_id=broadcast_id, tz=Settings().tz)
    assert csv.splitlines()[1].split(";")[2:5] == ["non riuscito", "4", "telegram:502"]


async def test_cancel_mid_run(engine: Engine, tmp_path: Path) -> None:
    subscribers(engine, 40)
    with LimitedTelegram(global_rate=25) as telegram:
        broadcast_id = new_broadcast(engine)
        worker = _worker(engine, telegram, fast_config(tmp_path, rates={"telegram": 10.0}))
        run = asyncio.create_task(_run(worker))
        await asyncio.to_thread(
            telegram.wait_for, lambda _call: len(telegram.accepted) >= 6, timeout=30
        )
        with session_scope(engine) as session:
            assert service.cancel(session, broadcast_id=broadcast_id, by=7, now=utcnow())
        cancelled_at = time.monotonic()
        await run
        accepted = list(telegram.accepted)
    counts = statuses(engine, broadcast_id)
    assert counts["sent"] == len(accepted) and counts["sent"] < 20
    assert counts["sent"] + counts["cancelled"] == 40
    assert all(a.at < cancelled_at + 0.5 for a in accepted)  # at most the requests in flight
    with Session(engine) as session:
        broadcast = session.get(Broadcast, broadcast_id)
        assert broadcast is not None and broadcast.status == "cancelled"
        assert broadcast.cancelled_by == 7
        report = progress(session, broadcast_id=broadcast_id)
        assert report is not None and report.pending == 0 and report.done_percent == 100
        assert not service.cancel(session, broadcast_id=broadcast_id, by=7, now=utcnow())


async def test_who_left_after_the_start_is_skipped(sqlite_engine: Engine, tmp_path: Path) -> None:
    recipients = subscribers(sqlite_engine, 4)
    broadcast_id = new_broadcast(sqlite_engine)
    with session_scope(sqlite_engine) as session:
        assert service.start(session, broadcast_id=broadcast_id, now=utcnow()) == 4
        subs.stop(session, conversation_id=recipients[0], now=utcnow())
        gateway_consent.withdraw(session, conversation_id=recipients[1], now=utcnow())
    with LimitedTelegram(global_rate=25) as telegram:
        await _run(_worker(sqlite_engine, telegram, fast_config(tmp_path)))
        assert sorted(telegram.received()) == sorted(_chats(sqlite_engine, recipients[2:]))
    with Session(sqlite_engine) as session:
        report = progress(session, broadcast_id=broadcast_id)
    assert report is not None
    assert (report.sent, report.skipped) == (2, 2)
    assert report.reasons == {"unsubscribed": 1, "no-consent": 1}


async def test_scheduled_broadcast_waits_for_its_time(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    subscribers(sqlite_engine, 2)
    broadcast_id = new_broadcast(sqlite_engine, at=utcnow() + timedelta(seconds=1.5))
    with LimitedTelegram(global_rate=25) as telegram:
        worker = _worker(sqlite_engine, telegram, fast_config(tmp_path))
        assert await worker.run_once() == 0
        assert statuses(sqlite_engine, broadcast_id) == {}
        await asyncio.sleep(1.6)
        assert await worker.run_once() == 2
        await worker.aclose()
        assert len(telegram.accepted) == 2
    with Session(sqlite_engine) as session:
        broadcast = session.get(Broadcast, broadcast_id)
        assert broadcast is not None and broadcast.status == "done"


@pytest.fixture
def picture(tmp_path: Path) -> Iterator[str]:
    folder = tmp_path / "broadcasts"
    folder.mkdir()
    Image.new("RGB", (80, 60), (122, 31, 43)).save(folder / "festa.png")
    yield "broadcasts/festa.png"


async def test_picture_uploaded_once_and_link_button(
    sqlite_engine: Engine, tmp_path: Path, picture: str
) -> None:
    subscribers(sqlite_engine, 6)
    broadcast_id = new_broadcast(
        sqlite_engine,
        image_path=picture,
        image_mime="image/png",
        link_url="https://www.comune.fi.it/welcome",
        link_label="Iscriviti",
    )
    with LimitedTelegram(global_rate=25) as telegram:
        await _run(_worker(sqlite_engine, telegram, fast_config(tmp_path, concurrency=1)))
        calls = [c for c in telegram.calls("sendPhoto") if c.status == 200]
    assert statuses(sqlite_engine, broadcast_id) == {"sent": 6}
    assert isinstance(calls[0].params["photo"], dict)  # uploaded once...
    assert calls[0].params["photo"]["content"].startswith(b"\x89PNG")
    assert [c.params["photo"] for c in calls[1:]] == ["AgADsent"] * 5  # ...then by file_id
    assert calls[0].params["caption"].startswith("<b>Festa al Welcome Hub</b>")
    assert calls[0].params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Iscriviti", "url": "https://www.comune.fi.it/welcome"}]]
    }
    with Session(sqlite_engine) as session:
        broadcast = session.get(Broadcast, broadcast_id)
        assert broadcast is not None and broadcast.telegram_file_id == "AgADsent"


async def test_whatsapp_window_template_and_skip(sqlite_engine: Engine, tmp_path: Path) -> None:
    now = utcnow()
    with session_scope(sqlite_engine) as session:
        inside = add_citizen(session, channel=Channel.whatsapp, chat_key="393331111111")
        outside = add_citizen(
            session,
            channel=Channel.whatsapp,
            chat_key="393332222222",
            now=now - timedelta(hours=30),
        )
        for cid in (inside, outside):
            subs.subscribe(session, conversation_id=cid, now=now)
    with FakeGraph() as graph:
        graph.last_user_message["393331111111"] = time.time()
        for template, expected_outside in (("", "skipped"), ("avviso_hub", "sent")):
            broadcast_id = new_broadcast(
                sqlite_engine, title=f"Avviso {template or 'uno'}", link_url="https://x.it"
            )
            sender = WhatsAppSender(
                base_url=graph.base_url,
                version=VERSION,
                phone_number_id=PHONE_NUMBER_ID,
                access_token=ACCESS_TOKEN,
                template_name=template,
            )
            worker = BroadcastWorker(sqlite_engine, fast_config(tmp_path), {"whatsapp": sender})
            await _run(worker)
            with Session(sqlite_engine) as session:
                rows = {
                    r.conversation_id: r
                    for r in session.exec(
                        select(Delivery).where(col(Delivery.broadcast_id) == broadcast_id)
                    )
                }
            assert rows[inside].status == "sent"
            assert rows[outside].status == expected_outside
        texts = graph.messages_to("393331111111")
        templates = graph.messages_to("393332222222")
    assert len(texts) == 2 and texts[0]["type"] == "text"
    assert texts[0]["text"]["body"].startswith("*Avviso uno*\n\nSabato alle 16 *merenda*")
    assert texts[0]["text"]["body"].endswith("Apri il link: https://x.it")
    assert len(templates) == 1 and templates[0]["template"]["name"] == "avviso_hub"
    assert templates[0]["template"]["components"][0]["parameters"][0]["text"] == (
        "Avviso avviso_hub"
    )
    with Session(sqlite_engine) as session:
        first = session.exec(select(Delivery).where(col(Delivery.status) == "skipped")).one()
        assert first.last_error == "whatsapp:window-closed" and first.attempts == 1


async def test_web_chat_through_the_gateway_and_missing_channels(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    with session_scope(sqlite_engine) as session:
        web = add_citizen(session, channel=Channel.webchat)
        wa = add_citizen(session, channel=Channel.whatsapp)
        for cid in (web, wa):
            subs.subscribe(session, conversation_id=cid, now=utcnow())
    delivered: list[tuple[str, str]] = []

    async def send(conversation_id: str, text: str) -> str:
        delivered.append((conversation_id, text))
        return "m-1"

    broadcast_id = new_broadcast(sqlite_engine)
    worker = BroadcastWorker(
        sqlite_engine, fast_config(tmp_path), {"webchat": CallbackSender(send)}
    )
    await _run(worker)
    assert delivered == [(web, delivered[0][1])]
    assert delivered[0][1].startswith("Festa al Welcome Hub\n\nSabato alle 16 merenda")
    with Session(sqlite_engine) as session:
        report = progress(session, broadcast_id=broadcast_id)
    assert report is not None and (report.sent, report.skipped) == (1, 1)
    assert report.reasons == {"whatsapp:no-sender": 1}


async def test_whatsapp_picture_uploaded_once_and_sent_with_its_caption(
    engine: Engine, tmp_path: Path, picture: str
) -> None:
    """Inside the 24-hour window the picture goes as an image message (media uploaded once
    with POST /{phone-number-id}/media, its id reused) with the text as caption; outside,
    the template. A failed upload sends nothing and is retried."""
    now = utcnow()
    inside = [f"39333100000{n}" for n in range(4)]
    with session_scope(engine) as session:
        ids = [add_citizen(session, channel=Channel.whatsapp, chat_key=k) for k in inside]
        ids.append(
            add_citizen(
                session,
                channel=Channel.whatsapp,
                chat_key="393339999999",
                now=now - timedelta(hours=30),
            )
        )
        for cid in ids:
            subs.subscribe(session, conversation_id=cid, now=now)
    broadcast_id = new_broadcast(
        engine,
        title="Mostra",
        image_path=picture,
        image_mime="image/png",
        link_url="https://x.it",
        link_label="Programma",
    )
    with FakeGraph() as graph:
        for key in inside:
            graph.last_user_message[key] = time.time()
        graph.upload_failures.append(
            GraphError(500, 1, "An unknown error occurred")  # the first upload fails
        )
        sender = WhatsAppSender(
            base_url=graph.base_url,
            version=VERSION,
            phone_number_id=PHONE_NUMBER_ID,
            access_token=ACCESS_TOKEN,
            template_name="avviso_hub",
        )
        await _run(BroadcastWorker(engine, fast_config(tmp_path), {"whatsapp": sender}))
        images = [m for key in inside for m in graph.messages_to(key)]
        templates = graph.messages_to("393339999999")
        uploads = list(graph.uploads)
        stored = graph.media[uploads[0][0]] if uploads else None
    assert statuses(engine, broadcast_id) == {"sent": 5}
    assert len(uploads) == 1 and uploads[0][1] == "image/png"
    assert stored is not None and stored[0].startswith(b"\x89PNG")
    assert len(images) == 4 and {m["type"] for m in images} == {"image"}
    assert {m["image"]["id"] for m in images} == {uploads[0][0]}
    caption = images[0]["image"]["caption"]
    assert caption.startswith("*Mostra*\n\nSabato alle 16 *merenda*")
    assert caption.endswith("Programma: https://x.it")
    assert len(templates) == 1 and templates[0]["type"] == "template"
    with Session(engine) as session:
        broadcast = session.get(Broadcast, broadcast_id)
        assert broadcast is not None and broadcast.whatsapp_media_id == uploads[0][0]
        rows = session.exec(select(Delivery).where(col(Delivery.attempts) > 1)).all()
    assert [r.attempts for r in rows] == [2]  # the failed upload: retried, no message left
