"""Subscriptions in chat: consent first, choose quartieri and interests with buttons, see
the choices, stop everything with one tap or two words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from broadcast import menu
from broadcast import subscriptions as subs
from broadcast.models import SubscriptionTopic, TopicKind
from catalog.vocabulary import CATEGORY_LABELS
from conversations.models import Channel
from core.db import session_scope
from core.timeutil import utcnow
from tests.broadcast.helpers import add_citizen


def _tap(engine: Engine, conversation_id: str, payload: str) -> menu.MenuReply:
    with session_scope(engine) as session:
        reply = menu.handle(session, conversation_id=conversation_id, payload=payload, now=utcnow())
    assert reply is not None
    return reply


def _payloads(reply: menu.MenuReply) -> list[str]:
    return [b.payload for b in reply.buttons]


def _titles(reply: menu.MenuReply) -> list[str]:
    return [b.title for b in reply.buttons]


def test_the_whole_flow(engine: Engine) -> None:
    with session_scope(engine) as session:
        cid = add_citizen(session, channel=Channel.whatsapp)
        first = menu.open_menu(session, conversation_id=cid)
    assert "Welcome Hub" in first.text
    assert _payloads(first) == ["sub:on", "sub:done"]

    subscribed = _tap(engine, cid, "sub:on")
    assert subscribed.changed and subscribed.text.startswith("Fatto: riceverai gli avvisi")
    assert "sub:q:Q5" in _payloads(subscribed)
    assert "✅ Tutta la città" in _titles(subscribed)  # nothing chosen = all of Florence

    added = _tap(engine, cid, "sub:q:Q5")
    assert added.text.startswith("Aggiunto: Q5 Rifredi.")
    assert "✅ Q5 Rifredi" in _titles(added) and "Tutta la città" in _titles(added)
    _tap(engine, cid, "sub:q:Q1")
    removed = _tap(engine, cid, "sub:q:Q1")
    assert removed.text.startswith("Tolto: Q1 Centro Storico.")

    page1 = _tap(engine, cid, "sub:i")
    assert "sub:i:childcare" in _payloads(page1) and "sub:i:p2" in _payloads(page1)
    page2 = _tap(engine, cid, "sub:i:p2")
    assert "sub:i:after_school" not in _payloads(page2)
    chosen = _tap(engine, cid, "sub:i:after_school")
    assert "✅ Doposcuola" in _titles(chosen)  # back on the page holding the choice

    with Session(engine) as session:
        choices = subs.choices(session, conversation_id=cid)
    assert choices == subs.Choices(True, ("Q5",), ("after_school",))

    shown = _tap(engine, cid, "sub:show")
    assert "Quartieri: Q5 Rifredi." in shown.text and "Argomenti: Doposcuola." in shown.text
    assert "sub:stop" in _payloads(shown)

    asked = _tap(engine, cid, "sub:stop")  # «Sei sicuro?» first: nothing changes yet
    assert asked.text == menu.ASK_STOP and not asked.changed
    assert _payloads(asked) == ["sub:stop:ok", "sub:keep"]
    kept = _tap(engine, cid, "sub:keep")
    assert "non ho cambiato nulla" in kept.text and not kept.changed
    with Session(engine) as session:
        assert subs.choices(session, conversation_id=cid) == subs.Choices(
            True, ("Q5",), ("after_school",)
        )
    stopped = _tap(engine, cid, "sub:stop:ok")
    assert stopped.text.startswith("Non riceverai più avvisi")
    with Session(engine) as session:
        assert subs.choices(session, conversation_id=cid) == subs.NOT_SUBSCRIBED
        # stopping forgets the choices (interests can be sensitive)
        assert session.exec(select(SubscriptionTopic)).all() == []
        subscription = subs.get_subscription(session, conversation_id=cid)
        assert subscription is not None and subscription.stopped_at is not None
    again = _tap(engine, cid, "sub:stop")
    assert again.text.startswith("Non ricevi avvisi") and not again.changed
    again = _tap(engine, cid, "sub:stop:ok")
    assert again.text.startswith("Non ricevi avvisi") and not again.changed
    # old buttons after stopping do not resubscribe
    assert _payloads(_tap(engine, cid, "sub:q:Q3")) == ["sub:on", "sub:done"]


def test_no_consent_no_subscription(sqlite_engine: Engine) -> None:
    with session_scope(sqlite_engine) as session:
        cid = add_citizen(session, consent=False)
        assert menu.open_menu(session, conversation_id=cid).text == menu.NEEDS_CONSENT
        assert menu.handle(session, conversation_id=cid, payload="sub:on", now=utcnow()).text == (
            menu.NEEDS_CONSENT
        )
        with pytest.raises(subs.NoConsent):
            subs.subscribe(session, conversation_id=cid, now=utcnow())
        assert subs.get_subscription(session, conversation_id=cid) is None


def test_all_choices_and_unknown_values(sqlite_engine: Engine) -> None:
    now = utcnow()
    with session_scope(sqlite_engine) as session:
        cid = add_citizen(session)
        subs.set_choices(
            session, conversation_id=cid, quartieri=["Q2", "Q3"], interests=["housing"], now=now
        )
        assert (
            subs.toggle(session, conversation_id=cid, kind=TopicKind.quartiere, value="Q9", now=now)
            is None
        )
        with pytest.raises(ValueError):
            subs.set_choices(session, conversation_id=cid, quartieri=["Q9"], interests=[], now=now)
    reply = _tap(sqlite_engine, cid, "sub:q:all")
    assert "✅ Tutta la città" in _titles(reply)
    _tap(sqlite_engine, cid, "sub:i:all")
    with Session(sqlite_engine) as session:
        assert subs.choices(session, conversation_id=cid) == subs.Choices(True, (), ())
    assert menu.handle(Session(sqlite_engine), conversation_id=cid, payload="x:y", now=now) is None


def test_buttons_fit_every_channel(sqlite_engine: Engine) -> None:
    """At most 10 buttons (a WhatsApp list), payloads well under Telegram's 64 bytes."""
    with session_scope(sqlite_engine) as session:
        cid = add_citizen(session)
    pages = [_tap(sqlite_engine, cid, "sub:on"), _tap(sqlite_engine, cid, "sub:menu")]
    pages += [_tap(sqlite_engine, cid, f"sub:i:p{n}") for n in (1, 2, 3)]
    seen: set[str] = set()
    for page in pages:
        assert 1 <= len(page.buttons) <= 10
        for button in page.buttons:
            assert len(button.payload.encode()) <= 64 and len(button.title) <= 60
            seen.add(button.payload)
    assert {f"sub:i:{slug}" for slug in CATEGORY_LABELS} <= seen  # every interest reachable


@pytest.mark.parametrize(
    ("text", "stop"),
    [
        ("stop avvisi", True),
        ("STOP AVVISI!", True),
        ("/stop_avvisi", True),
        ("basta avvisi", True),
        ("stop", False),
        ("avvisi", False),
        ("voglio fermare", False),
    ],
)
def test_stop_words(text: str, stop: bool) -> None:
    assert menu.is_stop_request(text) is stop


def test_stop_all_by_words(sqlite_engine: Engine) -> None:
    later = utcnow() + timedelta(seconds=1)
    with session_scope(sqlite_engine) as session:
        cid = add_citizen(session)
        subs.set_choices(session, conversation_id=cid, quartieri=["Q1"], interests=[], now=utcnow())
        reply = menu.stop_all(session, conversation_id=cid, now=later)
        assert reply.changed and reply.buttons == []
        assert not subs.choices(session, conversation_id=cid).active
