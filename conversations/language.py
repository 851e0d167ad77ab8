"""The conversation's language: detection and the rule that keeps it (docs/languages.md).

``detect`` asks py3langid (its model ships in the package; nothing is downloaded) which of
the languages of ``locale/languages.yml`` a text is in, and how sure it is. ``next_state``
is the rule, a pure function: a conversation is undecided (and answered in Italian) until a
confident message decides it; once detected, it changes only after ``switch_after``
consecutive confident messages in one other language; a language the citizen chose is never
changed by detection, only by another choice. An ambiguous message (short, unsure, or in a
language we do not speak yet) neither decides, nor counts, nor breaks a run. ``observe`` and
``choose`` apply it to the stored conversation, in the caller's transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlmodel import Session, select

from conversations.models import Conversation
from core.i18n import catalogue, languages, translated

DETECTED = "detected"
CHOSEN = "chosen"

_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_NOISE = re.compile(r"https?://\S+|\S+@\S+|/\S+")  # links, addresses, commands say nothing


@dataclass(frozen=True)
class Detection:
    language: str  # an ISO 639-1 code, "" when the text has too little to tell
    confidence: float
    confident: bool  # sure enough to count (rule.min_confidence, rule.min_letters)
    supported: bool  # a language the assistant speaks


@dataclass(frozen=True)
class LanguageState:
    language: str
    source: str = ""  # "" undecided, "detected", "chosen"
    pending: str = ""
    streak: int = 0

    @classmethod
    def of(cls, conversation: Conversation) -> LanguageState:
        return cls(
            language=conversation.language or languages().source,
            source=conversation.language_source or "",
            pending=conversation.language_pending or "",
            streak=conversation.language_streak or 0,
        )


@cache
def _identifier() -> Any:
    from py3langid.langid import _load_identifier  # the packaged model, loaded once

    config = languages()
    return _load_identifier(norm_probs=True, langs=[*config.codes, *config.detect_also])


def warm_up() -> None:
    """Load the detector's model (about a second) and read every catalogue now, rather than
    on the first citizen's message; a broken catalogue fails the start, not a reply."""
    _identifier()
    for code in languages().codes:
        translated(code, "")
        catalogue(code)


def detect(text: str) -> Detection:
    config = languages()
    cleaned = _NOISE.sub(" ", text or "")
    if len(_LETTERS.findall(cleaned)) < config.rule.min_letters:
        return Detection("", 0.0, False, False)
    language, confidence = _identifier().classify(cleaned.lower())
    language, confidence = str(language), float(confidence)
    return Detection(
        language=language,
        confidence=confidence,
        confident=confidence >= config.rule.min_confidence,
        supported=language in config.codes,
    )


def next_state(state: LanguageState, detection: Detection) -> LanguageState:
    """The rule: what one message changes (the same state when it changes nothing)."""
    if state.source == CHOSEN or not (detection.confident and detection.supported):
        return state
    found = detection.language
    if not state.source:
        return LanguageState(found, DETECTED)
    if found == state.language:
        return LanguageState(state.language, state.source)
    streak = state.streak + 1 if state.pending == found else 1
    if streak >= languages().rule.switch_after:
        return LanguageState(found, DETECTED)
    return LanguageState(state.language, state.source, found, streak)


def _locked(session: Session, conversation_id: str) -> Conversation:
    query = select(Conversation).where(Conversation.conversation_id == conversation_id)
    conversation = session.exec(query.with_for_update()).one()
    return conversation


def _apply(conversation: Conversation, state: LanguageState) -> None:
    conversation.language = state.language
    conversation.language_source = state.source
    conversation.language_pending = state.pending
    conversation.language_streak = state.streak


def observe(session: Session, *, conversation_id: str, detection: Detection) -> Conversation:
    """Apply one message's detection to the stored conversation (read under a row lock)."""
    conversation = _locked(session, conversation_id)
    before = LanguageState.of(conversation)
    after = next_state(before, detection)
    if after != before:
        _apply(conversation, after)
        session.add(conversation)
        session.flush()
    return conversation


def choose(session: Session, *, conversation_id: str, language: str) -> Conversation:
    """The citizen's explicit choice: kept until they choose again."""
    if language not in languages().codes:
        raise ValueError(f"unsupported language {language!r}")
    conversation = _locked(session, conversation_id)
    _apply(conversation, LanguageState(language, CHOSEN))
    session.add(conversation)
    session.flush()
    return conversation
