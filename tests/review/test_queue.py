"""The review queue's domain: masking, what goes in from a live turn, the reviewer's verdicts,
and what leaves it, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from conversations import repository as repo
from conversations.inbound import Inbound
from conversations.models import Channel, Kind, Message, Status
from core.db import session_scope
from core.timeutil import utcnow
from privacy.retention import erase_conversation, purge
from review import masking, queue
from review.models import Reason, ReviewItem, ReviewStatus
from review.tracker import read_turn
from tests.review.tracker_events import user_event

NOW = utcnow()


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "mi chiamo Mario Rossi, abito in via dei Serragli 12 e il mio numero è 333 123 4567",
            "mi chiamo <nome>, abito in <indirizzo> e il mio numero è <telefono>",
        ),
        ("scrivete a mario.rossi@example.it", "scrivete a <email>"),
        ("iban IT60X0542811101000000123456 grazie", "iban <iban> grazie"),
        ("il codice fiscale è RSSMRA80A01D612X", "il codice fiscale è <codice_fiscale>"),
        ("sono Giulia e cerco aiuto", "sono <nome> e cerco aiuto"),
        ("Ciao Anna! Ecco i servizi", "Ciao <nome>! Ecco i servizi"),
        # what the model needs stays: ages, years, quartieri, lowercase words after "sono"
        (
            "sono disoccupato, ho 45 anni e cerco un doposcuola a Rifredi nel 2026",
            "sono disoccupato, ho 45 anni e cerco un doposcuola a Rifredi nel 2026",
        ),
    ],
)
def test_mask(text: str, masked: str) -> None:
    assert masking.mask(text) == masked


def test_widen_takes_whole_words_and_keeps_punctuation() -> None:
    widened = masking.widen("ciao sono da Rossi, grazie", start=14, end=16, kind=masking.Kind.name)
    assert widened.text == "ciao sono da <nome>, grazie"
    with pytest.raises(ValueError):
        masking.widen("abc", start=2, end=9, kind=masking.Kind.name)


def _message(session: Session, text: str, chat: str = "7001") -> Message:
    stored = repo.store_inbound(
        session,
        inbound=Inbound(channel=Channel.telegram, chat_key=chat, kind=Kind.text, text=text),
    )
    return stored.message


def test_a_live_turn_goes_in_with_what_the_model_understood(engine: Engine) -> None:
    with session_scope(engine) as s:
        first = _message(s, "vorrei una mano per la spesa, sono Anna Bianchi")
        choice = _message(s, "/search_service")
        plain = _message(s, "cerco un doposcuola a Rifredi")
        cid, ids = first.conversation_id, (first.id, choice.id, plain.id)
    assert all(isinstance(i, int) for i in ids)
    first_id, choice_id, plain_id = (int(i) for i in ids)  # type: ignore[arg-type]
    user_event(
        engine,
        sender=cid,
        text="vorrei una mano per la spesa, sono Anna Bianchi",
        message_id=first_id,
        intent="nlu_fallback",
        confidence=0.41,
        entities=[{"entity": "service_category", "start": 23, "end": 28, "value": "spesa"}],
        actions=("action_two_stage_fallback", "action_default_ask_affirmation"),
    )
    user_event(
        engine, sender=cid, text="/search_service", message_id=choice_id,
        intent="search_service", confidence=1.0,
    )  # fmt: skip
    user_event(
        engine, sender=cid, text="cerco un doposcuola a Rifredi", message_id=plain_id,
        intent="search_service", confidence=0.97, actions=("action_search_services",),
    )  # fmt: skip
    parsed = read_turn(engine, sender_id=cid, message_id=first_id)
    assert parsed is not None and parsed.intent == "nlu_fallback"
    assert parsed.actions == ["action_two_stage_fallback", "action_default_ask_affirmation"]
    with session_scope(engine) as s:
        item = queue.record_turn(s, message_id=first_id, parsed=parsed, threshold=0.6, typed=True)
        assert item is not None
        for mid, typed in ((choice_id, False), (plain_id, True)):
            turn = read_turn(engine, sender_id=cid, message_id=mid)
            assert turn is not None
            assert (
                queue.record_turn(s, message_id=mid, parsed=turn, threshold=0.6, typed=typed)
                is None
            )
    with Session(engine) as s:
        items = list(s.exec(select(ReviewItem)))
    assert len(items) == 1
    item = items[0]
    assert item.reasons == [Reason.low_confidence, Reason.two_stage]
    assert (item.intent, item.confidence, item.fallback_choice) == (
        "nlu_fallback",
        0.41,
        "search_service",
    )
    assert item.masked_text == "vorrei una mano per la spesa, sono <nome>"
    assert item.corrected_entities == [
        {"start": 23, "end": 28, "entity": "service_category", "value": "spesa"}
    ]
    assert item.corrected_intent == ""  # nlu_fallback is no label


def test_reviewer_corrects_widens_and_decides(engine: Engine) -> None:
    with session_scope(engine) as s:
        message = _message(s, "devo pagare la mensa di Luca a Novoli")
        item = queue.add(s, message=message, reasons=[Reason.citizen_thumbs_down])
        item_id = int(item.id or 0)
    with session_scope(engine) as s:
        queue.add_entity(s, item_id=item_id, words="Novoli", start=None, kind="neighbourhood")
        queue.add_entity(s, item_id=item_id, words="mensa", start=15, kind="service_category")
        # the reviewer hides the child's name: the spans after it move with the text
        item = queue.widen_mask(s, item_id=item_id, words="Luca", start=None, kind="nome")
        assert item.masked_text == "devo pagare la mensa di <nome> a Novoli"
        assert [(e["start"], e["end"], e["entity"]) for e in item.corrected_entities] == [
            (15, 20, "service_category"),
            (33, 39, "neighbourhood"),
        ]
        with pytest.raises(queue.ReviewError):
            queue.add_entity(s, item_id=item_id, words="Firenze", start=None, kind="neighbourhood")
        with pytest.raises(queue.ReviewError):
            queue.add_entity(s, item_id=item_id, words="<nome>", start=None, kind="neighbourhood")
        with pytest.raises(queue.ReviewError):
            queue.decide(
                s, item_id=item_id, verdict="confirm", intent="nonsense", reviewer_id=1, now=NOW
            )
        queue.decide(
            s, item_id=item_id, verdict="confirm", intent="book_service", reviewer_id=1, now=NOW
        )
    with Session(engine) as s:
        done = s.get(ReviewItem, item_id)
        assert done is not None
        assert (done.status, done.corrected_intent) == (ReviewStatus.accepted, "book_service")


def test_erased_or_purged_messages_leave_the_queue(engine: Engine, tmp_path: Path) -> None:
    with session_scope(engine) as s:
        old = _message(s, "una domanda vecchia", chat="8001")
        old.created_at = NOW - timedelta(days=800)
        old.status = Status.processed  # the purge leaves messages still being worked on
        s.add(old)
        kept = _message(s, "una domanda di oggi", chat="8002")
        queue.add(s, message=old, reasons=[Reason.low_confidence])
        queue.add(s, message=kept, reasons=[Reason.low_confidence])
        kept_id = kept.id
    purge(engine, uploads_root=tmp_path, now=NOW, months=12)
    with Session(engine) as s:
        assert [i.message_id for i in s.exec(select(ReviewItem))] == [kept_id]


def test_an_erased_conversation_leaves_the_queue(engine: Engine, tmp_path: Path) -> None:
    with session_scope(engine) as s:
        erased = _message(s, "una domanda da cancellare", chat="8101")
        kept = _message(s, "una domanda che resta", chat="8102")
        queue.add(s, message=erased, reasons=[Reason.staff_marked])
        queue.add(s, message=kept, reasons=[Reason.staff_marked])
        cid, kept_id = erased.conversation_id, kept.id
    with session_scope(engine) as s:
        erase_conversation(s, conversation_id=cid, uploads_root=tmp_path, now=NOW)
    with Session(engine) as s:
        assert [i.message_id for i in s.exec(select(ReviewItem))] == [kept_id]
