"""End to end with the real Rasa and action server (``rasa_stack``), the real gateway and the
fake Telegram / Graph API servers: consent, a search with buttons and paging, a location
share, a photo, forged webhooks refused, Rasa and the action server down then up (Rasa's
conversations survive its restart in the SQL tracker store)."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from conversations.models import Direction, Mode, Status
from devtools.stack import RasaStack
from devtools.supervisor import Service
from tests.fakes import fake_graph as graph
from tests.fakes.fake_graph import FakeGraph
from tests.fakes.fake_telegram import Call, FakeTelegram
from tests.fixtures.rasa import new_sender
from tests.gateway.conftest import RunningGateway, accept_consent

# the session's Rasa stack may start inside the first test: model loading is slow on a busy machine
pytestmark = [pytest.mark.rasa, pytest.mark.slow, pytest.mark.timeout(900)]

CHAT = 700001
JPEG = b"\xff\xd8\xff\xe0" + os.urandom(4000)
SKIP_WORDS = ("Non importa", "Salta", "Ovunque", "Tutte", "Qualsiasi")


def _action_base(stack: RasaStack) -> str:
    return stack.action_url.rsplit("/webhook", 1)[0]


@pytest.fixture
def e2e_gateway(
    start_gateway: Callable[..., RunningGateway], rasa_stack: RasaStack, fake_telegram: FakeTelegram
) -> RunningGateway:
    running = start_gateway(
        database_url=rasa_stack.database_url,  # the catalogue the actions read, as in production
        rasa_url=rasa_stack.rasa_url,
        rasa_auth_token=rasa_stack.token,
        action_server_url=_action_base(rasa_stack),
        rasa_timeout_seconds=30.0,
        telegram_bot_token=fake_telegram.token,
        telegram_api_base_url=fake_telegram.base_url,
    )
    fake_telegram.wait_for(lambda c: c.method == "setMyCommands", what="setMyCommands")
    running.wait_until(lambda: fake_telegram.poll_count > 0, what="polling")
    return running


def _buttons(call: Call) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


def _last_with_buttons(telegram: FakeTelegram, chat: int, after: int) -> Call | None:
    calls = [
        c
        for c in telegram.calls()[after:]
        if c.status == 200 and c.params.get("chat_id") == chat and _buttons(c)
    ]
    return calls[-1] if calls else None


def _reply_after(telegram: FakeTelegram, chat: int, mark: int, timeout: float = 30.0) -> list[Call]:
    """The bot's messages after ``mark``, once it has stopped talking for a moment."""
    telegram.wait_for(
        lambda c: (
            c.status == 200
            and c.params.get("chat_id") == chat
            and c.method in ("sendMessage", "editMessageText", "sendPhoto")
            and telegram.state.calls.index(c) >= mark
        ),
        timeout=timeout,
        what="a reply",
    )
    time.sleep(1.0)
    return [
        c
        for c in telegram.calls()[mark:]
        if c.status == 200
        and c.params.get("chat_id") == chat
        and c.method in ("sendMessage", "editMessageText", "sendPhoto")
    ]


def test_telegram_with_the_real_assistant(
    e2e_gateway: RunningGateway, fake_telegram: FakeTelegram, rasa_stack: RasaStack
) -> None:
    # consent first: nothing reaches Rasa before it
    accept_consent(fake_telegram, CHAT)
    conversation = next(c for c in e2e_gateway.conversations() if c.chat_key == str(CHAT))
    assert conversation.consent_at is not None
    assert rasa_stack.tracker(conversation.conversation_id)["events"] in ([], None) or not any(
        e.get("event") == "user" for e in rasa_stack.tracker(conversation.conversation_id)["events"]
    )

    # a search: results with "Dettagli" buttons; answer the form's questions with skip buttons
    mark = len(fake_telegram.calls())
    fake_telegram.send_text(CHAT, "cerco un corso di italiano")
    replies = _reply_after(fake_telegram, CHAT, mark)
    for _ in range(4):
        titles = [t for c in replies for t in _buttons(c)]
        if any(t.startswith("Dettagli") for t in titles):
            break
        skip = next((t for t in titles if t.startswith(SKIP_WORDS)), None)
        mark = len(fake_telegram.calls())
        if skip is not None:
            fake_telegram.press(CHAT, skip)
        else:
            fake_telegram.send_text(CHAT, "non importa")
        replies = _reply_after(fake_telegram, CHAT, mark)
    results = _last_with_buttons(fake_telegram, CHAT, 0)
    assert results is not None and any(t.startswith("Dettagli") for t in _buttons(results))
    text = results.params["text"]
    assert "Ho trovato" in text or "Non ho trovato servizi che corrispondono" in text

    # paging edits the results message in place (the seed has 10 Italian courses: 2 pages)
    assert "Altri risultati" in _buttons(results), results.params["text"]
    first_id = results.result["message_id"]
    mark = len(fake_telegram.calls())
    fake_telegram.press(CHAT, "Altri risultati")
    edit = fake_telegram.wait_for(
        lambda c: (
            c.method == "editMessageText"
            and c.status == 200
            and fake_telegram.state.calls.index(c) >= mark
        ),
        timeout=30,
        what="the page edit",
    )
    assert edit.params["message_id"] == first_id
    assert edit.params["text"].startswith("Altri risultati")

    # the details of one result (a button payload with JSON, resolved server-side)
    shown = next(
        m
        for m in fake_telegram.chat_messages(CHAT)
        if m["message_id"] == results.result["message_id"]
    )
    titles = [b["text"] for row in shown["reply_markup"]["inline_keyboard"] for b in row]
    mark = len(fake_telegram.calls())
    fake_telegram.press(CHAT, next(t for t in titles if t.startswith("Dettagli")))
    details = _reply_after(fake_telegram, CHAT, mark)
    assert any("Costo" in c.params.get("text", "") for c in details)

    # a location share: the nearest Welcome Points
    mark = len(fake_telegram.calls())
    fake_telegram.send_location(CHAT, 43.7989, 11.2270)
    near = _reply_after(fake_telegram, CHAT, mark)
    assert any("Welcome Point" in c.params.get("text", "") for c in near)

    # a photo: kept, and the assistant answers about reimbursements
    mark = len(fake_telegram.calls())
    fake_telegram.send_photo(CHAT, JPEG)
    answer = _reply_after(fake_telegram, CHAT, mark)
    assert any("rimborso" in c.params.get("text", "").lower() for c in answer)

    # asking for a person: Rasa's handoff switches the conversation to the console
    mark = len(fake_telegram.calls())
    fake_telegram.send_text(CHAT, "/operatore")
    _reply_after(fake_telegram, CHAT, mark)
    conversation = next(c for c in e2e_gateway.conversations() if c.chat_key == str(CHAT))
    assert conversation.mode == Mode.human

    # Rasa's tracker knows the conversation only by its opaque id
    tracker = json.dumps(rasa_stack.tracker(conversation.conversation_id))
    assert str(CHAT) not in tracker and "Anna" not in tracker


def _stop(stack: RasaStack, name: str) -> Service:
    service = next(s for s in stack.supervisor.services if s.name == name)
    stack.supervisor.stop(service)
    return service


def _start_again(stack: RasaStack, service: Service) -> Service:
    fresh = Service(**{**vars(service), "process": None})
    started = stack.supervisor.start(fresh)
    stack.supervisor.wait_ready(started)
    return started


def test_action_server_then_rasa_down_then_up(
    e2e_gateway: RunningGateway, fake_telegram: FakeTelegram, rasa_stack: RasaStack
) -> None:
    chat = CHAT + 1
    accept_consent(fake_telegram, chat)

    # the action server down: Rasa answers nothing for a custom action; the message waits
    _start_action = _stop(rasa_stack, "action server")
    try:
        mark = len(fake_telegram.calls())
        fake_telegram.send_text(chat, "dov'è il welcome point più vicino?")
        fake_telegram.wait_sent(chat, "momentaneamente non disponibile", after=mark, timeout=30)
    finally:
        _start_again(rasa_stack, _start_action)
    fake_telegram.wait_for(
        lambda c: (
            c.status == 200
            and c.method == "sendMessage"
            and c.params.get("chat_id") == chat
            and "non disponibile" not in str(c.params.get("text"))
            and fake_telegram.state.calls.index(c) > mark
        ),
        timeout=60,
        what="the answer after the action server came back",
    )

    # Rasa itself down, then up (model loading takes a while): a conversation Rasa held before
    # the restart is still there after it (only the SQL tracker store remembers)
    earlier = new_sender()
    rasa_stack.send(earlier, "ciao")
    rasa_stack.supervisor.stop(rasa_stack.rasa)
    try:
        mark = len(fake_telegram.calls())
        fake_telegram.send_text(chat, "ciao")
        fake_telegram.wait_sent(chat, "momentaneamente non disponibile", after=mark, timeout=30)
        pending = [
            m
            for m in e2e_gateway.messages()
            if m.text == "ciao" and m.direction == Direction.inbound
        ]
        assert pending and pending[-1].status == Status.pending
    finally:
        rasa_stack.rasa = _start_again(rasa_stack, rasa_stack.rasa)
    answer = fake_telegram.wait_for(
        lambda c: (
            c.status == 200
            and c.method == "sendMessage"  # not the typing indicator of a slow turn
            and c.params.get("chat_id") == chat
            and fake_telegram.state.calls.index(c) > mark
            and "non disponibile" not in str(c.params.get("text"))
        ),
        timeout=90,
        what="the answer after Rasa came back",
    )
    assert re.search(r"\w", answer.params["text"])
    done = [
        m for m in e2e_gateway.messages() if m.text == "ciao" and m.direction == Direction.inbound
    ]
    assert done[-1].status == Status.processed
    assert _user_texts(rasa_stack, earlier) == ["ciao"]
    rasa_stack.send(earlier, "grazie")
    assert _user_texts(rasa_stack, earlier) == ["ciao", "grazie"]


def _user_texts(stack: RasaStack, sender: str) -> list[str]:
    return [e["text"] for e in stack.tracker(sender)["events"] if e["event"] == "user"]


def test_whatsapp_forged_refused_genuine_answered(
    start_gateway: Callable[..., RunningGateway], rasa_stack: RasaStack, fake_graph: FakeGraph
) -> None:
    running = start_gateway(
        database_url=rasa_stack.database_url,
        rasa_url=rasa_stack.rasa_url,
        action_server_url=_action_base(rasa_stack),
        whatsapp_access_token=graph.ACCESS_TOKEN,
        whatsapp_phone_number_id=graph.PHONE_NUMBER_ID,
        whatsapp_app_secret=graph.APP_SECRET,
        whatsapp_verify_token=graph.VERIFY_TOKEN,
        whatsapp_graph_base_url=fake_graph.base_url,
        whatsapp_api_version=graph.VERSION,
    )
    fake_graph.webhook_url = running.url + "/whatsapp/webhook"
    wa = "393339990001"
    body: dict[str, Any] = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"phone_number_id": graph.PHONE_NUMBER_ID},
                            "messages": [
                                {
                                    "from": wa,
                                    "id": "wamid.FORGED",
                                    "timestamp": "1",
                                    "type": "text",
                                    "text": {"body": "accetto"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    raw = json.dumps(body).encode()
    assert fake_graph.post_webhook(raw, sign_with=None) == 403
    assert fake_graph.post_webhook(raw, sign_with="not-the-app-secret") == 403
    assert not any(c.chat_key == wa for c in running.conversations())

    fake_graph.deliver_text(wa, "ciao")
    fake_graph.wait_text(wa, "Chi li tiene")
    fake_graph.deliver_text(wa, "accetto")
    fake_graph.wait_text(wa, "Grazie")
    fake_graph.deliver_text(wa, "ciao")
    fake_graph.wait_text(wa, "WEL.CO.ME", timeout=30)
