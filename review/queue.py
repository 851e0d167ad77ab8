"""The review queue: what goes in (from live turns, a 👎, a Care Manager's mark), what the
reviewer does with it, and what leaves it (erasure and retention purge).

Each function takes a ``Session`` and keyword arguments, flushes, and lets the caller commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from conversations.models import Direction, Kind, Message
from review import masking
from review.models import Reason, ReviewItem, ReviewStatus
from review.tracker import Parsed
from review.vocabulary import OUT_OF_SCOPE, entities, intents

FALLBACK_INTENT = "nlu_fallback"
TWO_STAGE_ACTION = "action_two_stage_fallback"
GIVE_UP_ACTION = "action_default_fallback"
NEXT_TURNS = 6  # messages shown after the reviewed one


class ReviewError(ValueError):
    """A reviewer's request that cannot be done; the message is Italian, for the page."""


def reasons_for(parsed: Parsed, *, threshold: float) -> list[Reason]:
    """Why this turn deserves a look; empty when it does not."""
    reasons: list[Reason] = []
    confidence = parsed.confidence if parsed.confidence is not None else 0.0
    if parsed.intent == FALLBACK_INTENT or confidence < threshold:
        reasons.append(Reason.low_confidence)
    if TWO_STAGE_ACTION in parsed.actions:
        reasons.append(Reason.two_stage)
    if GIVE_UP_ACTION in parsed.actions:
        reasons.append(Reason.not_understood)
    if parsed.intent == OUT_OF_SCOPE:
        reasons.append(Reason.out_of_scope)
    return reasons


def _entities_on(masked: str, original: str, found: Sequence[dict[str, Any]]) -> list[dict]:
    """The model's entities placed on the masked text (those masked away are dropped)."""
    placed: list[dict[str, Any]] = []
    for entity in found:
        start, end = entity.get("start"), entity.get("end")
        if not isinstance(start, int) or not isinstance(end, int) or not entity.get("entity"):
            continue
        words = original[start:end]
        at = masked.find(words) if words else -1
        if at < 0:
            continue
        placed.append(
            {"start": at, "end": at + len(words), "entity": entity["entity"], "value": words}
        )
    return placed


def _item(session: Session, message_id: int) -> ReviewItem | None:
    return session.exec(select(ReviewItem).where(ReviewItem.message_id == message_id)).first()


def add(
    session: Session,
    *,
    message: Message,
    reasons: Iterable[Reason],
    parsed: Parsed | None = None,
) -> ReviewItem:
    """Put the citizen's ``message`` in the queue (or add reasons to its item). A message
    already reviewed goes back to the queue only for a new reason."""
    assert message.id is not None
    wanted = [r.value for r in reasons]
    item = _item(session, message.id)
    if item is None:
        masked = masking.mask(message.text)
        item = ReviewItem(
            conversation_id=message.conversation_id,
            message_id=message.id,
            masked_text=masked,
        )
        if parsed is not None:
            item.intent = parsed.intent
            item.confidence = parsed.confidence
            item.entities = parsed.entities
            item.ranking = parsed.ranking
            item.corrected_entities = _entities_on(masked, message.text, parsed.entities)
        item.corrected_intent = item.intent if item.intent in intents() else ""
    new = [r for r in wanted if r not in item.reasons]
    if new:
        item.reasons = [*item.reasons, *new]
        if item.status == ReviewStatus.discarded:
            item.status = ReviewStatus.pending
    session.add(item)
    session.flush()
    return item


def note_choice(session: Session, *, conversation_id: str, message_id: int, intent: str) -> bool:
    """After "Intendevi...?": the intent of the citizen's next message is their choice."""
    item = session.exec(
        select(ReviewItem)
        .where(
            ReviewItem.conversation_id == conversation_id,
            col(ReviewItem.message_id) < message_id,
            ReviewItem.fallback_choice == "",
        )
        .order_by(col(ReviewItem.message_id).desc())
    ).first()
    if item is None or Reason.two_stage.value not in item.reasons:
        return False
    item.fallback_choice = intent or FALLBACK_INTENT
    session.add(item)
    session.flush()
    return True


def record_turn(
    session: Session, *, message_id: int, parsed: Parsed, threshold: float, typed: bool
) -> ReviewItem | None:
    """One live turn: the choice after a two-stage fallback, and the message's own item
    when it deserves a look (only what the citizen typed: a button is not language)."""
    message = session.get(Message, message_id)
    if message is None:
        return None
    note_choice(
        session,
        conversation_id=message.conversation_id,
        message_id=message_id,
        intent=parsed.intent,
    )
    reasons = reasons_for(parsed, threshold=threshold) if typed and message.text else []
    if not reasons:
        return None
    return add(session, message=message, reasons=reasons, parsed=parsed)


def asked_before(session: Session, *, message_id: int) -> Message | None:
    """The citizen's typed words a message was about: ``message_id`` itself when it is one,
    else the latest one before the answer (the question it replied to, or before it)."""
    marked = session.get(Message, message_id)
    if marked is None:
        return None
    anchor = marked.id if marked.direction == Direction.inbound else marked.reply_to_id
    if anchor is None:
        return None
    return session.exec(
        select(Message)
        .where(
            Message.conversation_id == marked.conversation_id,
            Message.direction == Direction.inbound,
            Message.kind == Kind.text,
            Message.text != "",
            col(Message.id) <= anchor,
        )
        .order_by(col(Message.id).desc())
    ).first()


def add_by_id(
    session: Session, *, message_id: int, reasons: Sequence[Reason], parsed: Parsed | None
) -> ReviewItem | None:
    message = session.get(Message, message_id)
    if message is None:
        return None
    return add(session, message=message, reasons=reasons, parsed=parsed)


class ThumbsDown(StrEnum):
    queued = "queued"  # the request is in the queue (or was, for another reason)
    again = "again"  # this answer had its 👎 already: nothing added
    nothing = "nothing"  # no typed request before the answer: nothing to review


THUMBS_DOWN_MARK = "thumbs_down"  # in the answer's data: the citizen tapped its 👎


def record_thumbs_down(
    session: Session, *, answer_id: int, asked_id: int | None, parsed: Parsed | None
) -> ThumbsDown:
    """A citizen's 👎 under the answer ``answer_id``: the request ``asked_id`` (the typed
    message before it) in the queue, reason ``citizen_thumbs_down``; once per answer."""
    answer = session.get(Message, answer_id)
    if answer is None or answer.direction != Direction.outbound:
        return ThumbsDown.nothing
    if answer.data.get(THUMBS_DOWN_MARK):
        return ThumbsDown.again
    answer.data = {**answer.data, THUMBS_DOWN_MARK: True}
    session.add(answer)
    asked = session.get(Message, asked_id) if asked_id is not None else None
    if asked is None:
        session.flush()
        return ThumbsDown.nothing
    add(session, message=asked, reasons=[Reason.citizen_thumbs_down], parsed=parsed)
    return ThumbsDown.queued


def forget(session: Session, *, message_ids: Sequence[int]) -> int:
    """The items of messages being erased or purged leave the queue. Returns how many."""
    if not message_ids:
        return 0
    result = session.execute(
        delete(ReviewItem).where(col(ReviewItem.message_id).in_(list(message_ids)))
    )
    return int(result.rowcount or 0)


# --- the reviewer -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemView:
    item: ReviewItem
    masked_text: str
    next_turns: list[tuple[str, str]]  # (who, masked text)


def pending(session: Session, *, limit: int = 100) -> list[ReviewItem]:
    return list(
        session.exec(
            select(ReviewItem)
            .where(ReviewItem.status == ReviewStatus.pending)
            .order_by(col(ReviewItem.id))
            .limit(limit)
        )
    )


def counts(session: Session) -> dict[str, int]:
    rows = session.exec(select(ReviewItem.status)).all()
    return {s.value: sum(1 for r in rows if r == s) for s in ReviewStatus}


def view(session: Session, *, item_id: int) -> ItemView | None:
    item = session.get(ReviewItem, item_id)
    if item is None:
        return None
    later = session.exec(
        select(Message)
        .where(
            Message.conversation_id == item.conversation_id,
            col(Message.id) > item.message_id,
        )
        .order_by(col(Message.id))
        .limit(NEXT_TURNS)
    ).all()
    turns = [
        ("Cittadino" if m.direction == Direction.inbound else "Risposta", masking.mask(m.text))
        for m in later
        if m.text
    ]
    return ItemView(item=item, masked_text=item.masked_text, next_turns=turns)


def _open(session: Session, item_id: int) -> ReviewItem:
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise ReviewError("Questo messaggio non è più in revisione.")
    if item.status == ReviewStatus.exported:
        raise ReviewError("Questo esempio è già stato esportato: non si può più cambiare.")
    return item


def decide(
    session: Session,
    *,
    item_id: int,
    verdict: str,
    intent: str = "",
    reviewer_id: int,
    now: datetime,
) -> ReviewItem:
    """``verdict``: "confirm" (with ``intent``, the model's or a correction), "out_of_scope",
    or "discard"."""
    item = _open(session, item_id)
    if verdict == "confirm":
        if intent not in intents():
            raise ReviewError("Scegli l'intento giusto dall'elenco.")
        item.corrected_intent = intent
        item.status = ReviewStatus.accepted
    elif verdict == "out_of_scope":
        item.corrected_intent = OUT_OF_SCOPE
        item.corrected_entities = []
        item.status = ReviewStatus.accepted
    elif verdict == "discard":
        item.status = ReviewStatus.discarded
    else:
        raise ReviewError("Scelta non riconosciuta.")
    item.reviewer_id = reviewer_id
    item.reviewed_at = now
    session.add(item)
    session.flush()
    return item


def locate(text: str, words: str, start: int | None) -> tuple[int, int]:
    """Where ``words`` stand in ``text``: at ``start`` when given and right, else the first
    place they occur."""
    words = words.strip()
    if not words:
        raise ReviewError("Seleziona o scrivi le parole del testo.")
    if start is not None and text[start : start + len(words)] == words:
        return start, start + len(words)
    at = text.find(words)
    if at < 0:
        raise ReviewError("Queste parole non sono nel testo del messaggio.")
    return at, at + len(words)


def add_entity(
    session: Session, *, item_id: int, words: str, start: int | None, kind: str
) -> ReviewItem:
    """Mark ``words`` as an entity of kind ``kind`` (one of the domain's entities)."""
    entity = kind
    item = _open(session, item_id)
    if entity not in entities():
        raise ReviewError("Scegli il tipo di informazione dall'elenco.")
    begin, end = locate(item.masked_text, words, start)
    if masking.PLACEHOLDER.search(item.masked_text[begin:end]):
        raise ReviewError("Un dato nascosto non può essere segnato come informazione.")
    spans = [s for s in item.corrected_entities if s["end"] <= begin or s["start"] >= end]
    spans.append(
        {"start": begin, "end": end, "entity": entity, "value": item.masked_text[begin:end]}
    )
    item.corrected_entities = sorted(spans, key=lambda s: s["start"])
    session.add(item)
    session.flush()
    return item


def remove_entity(session: Session, *, item_id: int, index: int) -> ReviewItem:
    item = _open(session, item_id)
    spans = list(item.corrected_entities)
    if not 0 <= index < len(spans):
        raise ReviewError("Questa informazione non c'è più.")
    del spans[index]
    item.corrected_entities = spans
    session.add(item)
    session.flush()
    return item


def widen_mask(
    session: Session, *, item_id: int, words: str, start: int | None, kind: str
) -> ReviewItem:
    """Hide more of the text: the chosen words become a placeholder; the marked entities
    move with the text, and one that overlapped the hidden words is dropped."""
    item = _open(session, item_id)
    try:
        mask_kind = masking.Kind(kind)
    except ValueError:
        raise ReviewError("Scegli il tipo di dato da nascondere.") from None
    begin, end = locate(item.masked_text, words, start)
    widened = masking.widen(item.masked_text, start=begin, end=end, kind=mask_kind)
    cut_end = widened.start + widened.removed
    shift = widened.added - widened.removed
    spans: list[dict[str, Any]] = []
    for span in item.corrected_entities:
        if span["end"] <= widened.start:
            spans.append(span)
        elif span["start"] >= cut_end:
            spans.append({**span, "start": span["start"] + shift, "end": span["end"] + shift})
    item.masked_text = widened.text
    item.corrected_entities = spans
    session.add(item)
    session.flush()
    return item
