"""The conversation's language is stored on the conversation, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from conversations import language
from conversations import repository as repo
from conversations.inbound import Inbound
from conversations.models import Channel, Kind


def _new_conversation(engine: Engine, chat_key: str = "lang-1") -> str:
    with Session(engine, expire_on_commit=False) as session:
        stored = repo.store_inbound(
            session,
            inbound=Inbound(channel=Channel.webchat, chat_key=chat_key, kind=Kind.text, text="x"),
        )
        session.commit()
        return stored.conversation.conversation_id


def _observe(engine: Engine, conversation_id: str, text: str):
    with Session(engine, expire_on_commit=False) as session:
        conversation = language.observe(
            session, conversation_id=conversation_id, detection=language.detect(text)
        )
        session.commit()
        return conversation


def _read(engine: Engine, conversation_id: str):
    with Session(engine) as session:
        conversation = repo.get_conversation(session, conversation_id=conversation_id)
        assert conversation is not None
        return language.LanguageState.of(conversation)


def test_a_new_conversation_is_italian_and_undecided(engine: Engine) -> None:
    conversation_id = _new_conversation(engine)
    assert _read(engine, conversation_id) == language.LanguageState("it", "", "", 0)


def test_detection_decides_then_needs_a_run_to_switch(engine: Engine) -> None:
    conversation_id = _new_conversation(engine)
    _observe(engine, conversation_id, "hello")  # too short to tell
    assert _read(engine, conversation_id).source == ""
    _observe(engine, conversation_id, "hi, I am looking for an after school club for my son")
    assert _read(engine, conversation_id) == language.LanguageState("en", "detected")
    _observe(engine, conversation_id, "grazie mille, avete anche un corso di italiano?")
    assert _read(engine, conversation_id) == language.LanguageState("en", "detected", "it", 1)
    _observe(engine, conversation_id, "mi serve anche un aiuto per pagare l'affitto")
    _observe(engine, conversation_id, "dove si trova l'ufficio più vicino a casa mia?")
    assert _read(engine, conversation_id) == language.LanguageState("it", "detected")


def test_a_choice_is_stored_and_kept(engine: Engine) -> None:
    conversation_id = _new_conversation(engine)
    with Session(engine) as session:
        language.choose(session, conversation_id=conversation_id, language="en")
        session.commit()
    for text in ("cerco un doposcuola a Rifredi", "quanto mi resta nel budget?", "grazie mille"):
        _observe(engine, conversation_id, text)
    assert _read(engine, conversation_id) == language.LanguageState("en", "chosen")
    with Session(engine) as session, pytest.raises(ValueError, match="unsupported"):
        language.choose(session, conversation_id=conversation_id, language="xx")
