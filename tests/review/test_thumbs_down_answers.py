"""👎 under the assistant's ANSWERS (not only under search results), by the rule written in
bot/review_capture.py: the rule itself (where the 👎 goes, where it never goes, how it gives
way to each channel's limits), then the real gateway on Telegram, WhatsApp and the web chat
(their fake APIs, both databases): the tap puts the citizen's typed request in the queue with
reason citizen_thumbs_down, never reaches Rasa, and works once per answer (a second tap adds
nothing and says so)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.review_capture import (
    THUMBS_DOWN,
    THUMBS_DOWN_AGAIN,
    THUMBS_DOWN_THANKS,
    with_thumbs_down,
)
from conversations import repository as repo
from conversations.inbound import Inbound
from conversations.models import Author, Channel, Direction, Kind, Message, Status
from conversations.outgoing import Button, Outgoing
from core.db import session_scope
from review.models import Reason, ReviewItem
from review.queue import THUMBS_DOWN_MARK, ThumbsDown, record_thumbs_down
from tests.fakes.fake_graph import FakeGraph
from tests.fakes.fake_rasa import FakeRasa
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import RunningGateway, accept_consent
from tests.gateway.test_webchat_api import Chat
from tests.gateway.test_whatsapp import WA, _consent
from tests.review.helpers import check_tapped, on_telegram, on_whatsapp, queued
from tests.review.tracker_events import user_event

REQUEST = "quando apre lo sportello di via Rossi"
ANSWER = "Lo sportello di via Rossi è aperto dal lunedì al venerdì, dalle 9 alle 13."
QUESTION = "sono sicuro di voler cancellare"
HANDOFF = "voglio parlare con qualcuno"
THREE = "cosa posso fare"
YES_NO = [Button("Sì", '/forget_me{"confirm_nonce":"ab12"}'), Button("No", "/deny")]


def _b(count: int) -> list[Button]:
    return [Button(f"Scelta {i}", f"/help{i}") for i in range(count)]


# --- the rule ---------------------------------------------------------------------------------


def _last(outgoings: list[Outgoing], channel: str = "telegram", typed: bool = True) -> list[str]:
    with_thumbs_down(outgoings, channel=channel, typed=typed)
    return [b.title for b in outgoings[-1].buttons]


def test_the_last_message_of_an_answer_to_typed_words_gets_it() -> None:
    first, last = Outgoing(text="Ecco."), Outgoing(text=ANSWER, buttons=_b(1))
    with_thumbs_down([first, last], channel="telegram", typed=True)
    assert first.buttons == [] and last.buttons[-1] == THUMBS_DOWN
    assert _last([Outgoing(text=ANSWER)], "webchat") == [THUMBS_DOWN.title]
    assert _last([Outgoing(text=ANSWER)], "whatsapp") == [THUMBS_DOWN.title]


@pytest.mark.parametrize(
    "outgoing",
    [
        Outgoing(text="Sei in pericolo adesso?", buttons=[Button("Sì", "/emergency")]),
        Outgoing(text="Vuoi davvero?", buttons=list(YES_NO)),
        Outgoing(text="Riepilogo", buttons=[Button("Conferma", "/x"), Button("Annulla", "/deny")]),
        Outgoing(text="Intendevi...?", buttons=[Button("Nessuna di queste", "/out_of_scope")]),
        Outgoing(text="Quale zona?", buttons=[Button("Non importa", "/deny")]),
        Outgoing(text="Chi li tiene", buttons=[Button("Accetto", "gw:a")], gateway=True),
        Outgoing(image="https://example.org/qr.png"),
        Outgoing(text="Dove ti trovi?", location_request=True),
        Outgoing(menu={"type": "subscriptions"}),
    ],
    ids=["danger", "confirm", "summary", "did-you-mean", "form-no", "gateway", "image",
         "location", "menu"],
)  # fmt: skip
def test_never_under_a_question_the_gateway_s_words_or_what_has_no_room(
    outgoing: Outgoing,
) -> None:
    before = list(outgoing.buttons)
    assert _last([outgoing]) == [b.title for b in before]


def test_only_for_typed_words_and_never_twice() -> None:
    assert _last([Outgoing(text=ANSWER)], typed=False) == []
    answer = Outgoing(text=ANSWER)
    with_thumbs_down([answer], channel="telegram", typed=True)
    assert _last([answer]) == [THUMBS_DOWN.title]
    page = Outgoing(text="Ho trovato 2 servizi", buttons=_b(1), page_key="search_results")
    assert _last([page], typed=False)[-1] == THUMBS_DOWN.title  # pages: always


@pytest.mark.parametrize(
    ("channel", "count", "gets_it"),
    [
        ("whatsapp", 2, True),  # 3 reply buttons with it
        ("whatsapp", 3, False),  # a 4th would turn the reply buttons into a list
        ("whatsapp", 4, True),  # a list already: one more row
        ("whatsapp", 9, True),
        ("whatsapp", 10, False),  # a list holds 10 rows
        ("telegram", 9, True),
        ("telegram", 10, False),
        ("webchat", 10, False),
    ],
)
def test_it_gives_way_to_each_channel_s_limits(channel: str, count: int, gets_it: bool) -> None:
    titles = _last([Outgoing(text=ANSWER, buttons=_b(count))], channel)
    assert titles[:count] == [f"Scelta {i}" for i in range(count)]  # the answer's own stay
    assert (THUMBS_DOWN.title in titles) is gets_it
    assert len(titles) == count + gets_it


def test_a_long_whatsapp_answer_without_buttons_gets_none() -> None:
    long = "parola " * 200  # over the 1024 characters of an interactive body
    assert _last([Outgoing(text=long)], "whatsapp") == []
    assert _last([Outgoing(text=long)], "telegram") == [THUMBS_DOWN.title]


# --- the queue, both databases ---------------------------------------------------------------


def _answer(session: Session, asked: Message, text: str) -> Message:
    answer = Message(
        conversation_id=asked.conversation_id, channel=Channel.telegram,
        direction=Direction.outbound, author=Author.bot, text=text, status=Status.sent,
        reply_to_id=asked.id,
    )  # fmt: skip
    session.add(answer)
    session.flush()
    return answer


def test_one_tap_per_answer(engine: Engine) -> None:
    with session_scope(engine) as session:
        inbound = Inbound(channel=Channel.telegram, chat_key="7101", kind=Kind.text, text=REQUEST)
        asked = repo.store_inbound(session, inbound=inbound).message
        answer, other = _answer(session, asked, ANSWER), _answer(session, asked, "Altro.")
        ids = asked.id, answer.id, other.id
    assert None not in ids
    tap = {"asked_id": ids[0], "parsed": None}
    with Session(engine) as session:
        assert record_thumbs_down(session, answer_id=ids[1], **tap) == ThumbsDown.queued
        session.commit()
    with Session(engine) as session:
        assert record_thumbs_down(session, answer_id=ids[1], **tap) == ThumbsDown.again
        assert record_thumbs_down(session, answer_id=ids[0], **tap) == ThumbsDown.nothing
        session.commit()
    with Session(engine) as session:
        item = session.exec(select(ReviewItem)).one()
        assert (item.message_id, item.reasons) == (ids[0], [Reason.citizen_thumbs_down])
        assert session.get(Message, ids[1]).data.get(THUMBS_DOWN_MARK) is True  # type: ignore[union-attr]
        # another answer to the same request: a tap of its own, the item unchanged
        assert record_thumbs_down(session, answer_id=ids[2], **tap) == ThumbsDown.queued
        session.commit()
        assert session.exec(select(ReviewItem)).one().reasons == [Reason.citizen_thumbs_down]


# --- the real gateway on each channel --------------------------------------------------------


def _answering_rasa(fake_rasa: FakeRasa, tracker: Engine) -> None:
    """A plain answer to REQUEST; a confirmation question, a hand-off and three buttons to
    the others (as the actions send them)."""

    def answer(request: dict[str, Any]) -> list[dict[str, Any]]:
        sender, text = request["sender"], str(request["message"])
        user_event(
            tracker, sender=sender, text=text, message_id=request["metadata"]["message_id"],
            intent="find_welcome_point", confidence=0.88,
        )  # fmt: skip
        if text == QUESTION:
            buttons = [b.as_dict() for b in YES_NO]
            return [{"recipient_id": sender, "text": "Sei sicuro?", "buttons": buttons}]
        if text == HANDOFF:
            return [
                {"recipient_id": sender, "text": "Ti passo a una persona del Comune."},
                {"recipient_id": sender, "custom": {"type": "handoff", "reason": "requested"}},
            ]
        if text == THREE:
            buttons = [b.as_dict() for b in _b(3)]
            return [{"recipient_id": sender, "text": "Posso aiutarti così:", "buttons": buttons}]
        return [
            {"recipient_id": sender, "text": "Ecco cosa ho trovato."},
            {"recipient_id": sender, "text": ANSWER},
        ]

    fake_rasa.responder = answer


def test_telegram(
    start_gateway: Callable[..., RunningGateway],
    fake_rasa: FakeRasa,
    fake_telegram: FakeTelegram,
    tracker: tuple[str, Engine],
    db_url: str,
) -> None:
    _answering_rasa(fake_rasa, tracker[1])
    gateway = on_telegram(start_gateway, fake_rasa, fake_telegram, tracker[0], database_url=db_url)
    chat = 650101
    accept_consent(fake_telegram, chat)
    fake_telegram.send_text(chat, REQUEST)
    answer = fake_telegram.wait_sent(chat, ANSWER)
    first = fake_telegram.wait_sent(chat, "Ecco cosa ho trovato")
    keyboard = answer.params["reply_markup"]["inline_keyboard"]
    assert [b["text"] for row in keyboard for b in row] == [THUMBS_DOWN.title]
    assert "reply_markup" not in first.params  # only under the last message of the answer
    mark = len(fake_telegram.calls())
    fake_telegram.press(chat, THUMBS_DOWN.title)
    assert fake_telegram.wait_sent(chat, "Grazie di", after=mark).params["text"] == (
        THUMBS_DOWN_THANKS
    )
    mark = len(fake_telegram.calls())
    fake_telegram.press(chat, THUMBS_DOWN.title)
    assert fake_telegram.wait_sent(chat, "già segnalato", after=mark).params["text"] == (
        THUMBS_DOWN_AGAIN
    )
    check_tapped(gateway, fake_rasa, REQUEST, ("find_welcome_point", 0.88))
    # a confirmation question and a hand-off: no 👎
    for text, reply in ((QUESTION, "Sei sicuro?"), (HANDOFF, "Ti passo")):
        mark = len(fake_telegram.calls())
        fake_telegram.send_text(chat, text)
        sent = fake_telegram.wait_sent(chat, reply, after=mark)
        titles = [
            b["text"]
            for row in (sent.params.get("reply_markup") or {}).get("inline_keyboard", [])
            for b in row
        ]
        assert THUMBS_DOWN.title not in titles
    assert len(queued(gateway)) == 1


def test_web_chat(
    start_gateway: Callable[..., RunningGateway],
    fake_rasa: FakeRasa,
    tracker: tuple[str, Engine],
    db_url: str,
) -> None:
    _answering_rasa(fake_rasa, tracker[1])
    gateway = start_gateway(
        database_url=db_url, rasa_url=fake_rasa.url, rasa_tracker_db_url=tracker[0]
    )
    chat = Chat(gateway)
    chat.consent()
    chat.send(text=REQUEST)
    answer = chat.wait_reply(ANSWER)
    assert [b["title"] for b in answer["buttons"]] == [THUMBS_DOWN.title]
    assert chat.wait_reply("Ecco cosa ho trovato").get("buttons", []) == []
    chat.send(button=answer["buttons"][0]["ref"])
    assert chat.wait_reply("Grazie di avermelo detto")["text"] == THUMBS_DOWN_THANKS
    chat.send(button=answer["buttons"][0]["ref"])
    assert chat.wait_reply("già segnalato")["text"] == THUMBS_DOWN_AGAIN
    check_tapped(gateway, fake_rasa, REQUEST, ("find_welcome_point", 0.88))
    chat.send(text=QUESTION)
    question = chat.wait_reply("Sei sicuro?")
    assert [b["title"] for b in question["buttons"]] == ["Sì", "No"]
    assert len(queued(gateway)) == 1


def test_whatsapp(
    start_gateway: Callable[..., RunningGateway],
    fake_rasa: FakeRasa,
    fake_graph: FakeGraph,
    tracker: tuple[str, Engine],
    db_url: str,
) -> None:
    _answering_rasa(fake_rasa, tracker[1])
    gateway = on_whatsapp(start_gateway, fake_rasa, fake_graph, tracker[0], database_url=db_url)
    _consent(fake_graph)
    fake_graph.deliver_text(WA, REQUEST)
    answer = fake_graph.wait_text(WA, ANSWER).body
    assert answer["interactive"]["type"] == "button"
    buttons = answer["interactive"]["action"]["buttons"]
    assert [b["reply"]["title"] for b in buttons] == [THUMBS_DOWN.title]
    assert fake_graph.wait_text(WA, "Ecco cosa ho trovato").body["type"] == "text"
    thumbs = buttons[0]["reply"]
    fake_graph.deliver_button_reply(WA, thumbs["id"], thumbs["title"])
    fake_graph.wait_text(WA, "Grazie di avermelo detto")
    fake_graph.deliver_button_reply(WA, thumbs["id"], thumbs["title"])
    fake_graph.wait_text(WA, "già segnalato")
    check_tapped(gateway, fake_rasa, REQUEST, ("find_welcome_point", 0.88))
    # three buttons of its own: they stay reply buttons, the 👎 gives way
    fake_graph.deliver_text(WA, THREE)
    three = fake_graph.wait_text(WA, "Posso aiutarti così").body["interactive"]
    assert three["type"] == "button"
    assert [b["reply"]["title"] for b in three["action"]["buttons"]] == [b.title for b in _b(3)]
    assert len(queued(gateway)) == 1
