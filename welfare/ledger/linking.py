"""Linking a chat to a citizen by a one-time code.

A Welcome Point or an employer's welfare office issues a code in the console
(``issue_link_code``) and hands it to the citizen, who types it in the chat
(``redeem_link_code``). Codes are 8 symbols from an alphabet without 0/O/1/I, valid
``LINK_CODE_TTL_HOURS`` (72 h), single use; issuing a new one revokes the citizen's
unused ones. Only an HMAC-SHA256 of the code (keyed with a server-side pepper) is stored.
A conversation may try ``LINK_MAX_FAILED_ATTEMPTS`` wrong codes per
``LINK_ATTEMPT_WINDOW_MINUTES``, counted in the database so every process agrees.

Afterwards a conversation sees only its own citizen: every chat-side read goes through
``citizen_for_conversation`` (or ``require_citizen``) and never takes a citizen id from the
citizen's own words.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from conversations.models import Author, Message
from core.local_secrets import ensure_secrets
from core.settings import Settings, get_settings
from welfare.ledger.codes import ALPHABET, normalise, random_code
from welfare.ledger.errors import LedgerError
from welfare.ledger.models import Citizen, ConversationLink, LinkAttempt, LinkCode

CODE_LENGTH = 8


class LinkOutcome(StrEnum):
    ok = "ok"
    invalid = "invalid"
    expired = "expired"
    already_used = "already_used"
    too_many_attempts = "too_many_attempts"
    issuer_in_chat = "issuer_in_chat"  # separation of duties (docs/security.md)

    @property
    def message(self) -> str:
        """What the chat tells the citizen (Italian)."""
        return OUTCOME_MESSAGES[self]


OUTCOME_MESSAGES = {
    LinkOutcome.ok: "Fatto! La chat è collegata al tuo budget welfare.",
    LinkOutcome.invalid: "Il codice non è corretto. Controlla e riprova.",
    LinkOutcome.expired: "Il codice è scaduto. Chiedi un nuovo codice al Punto Welcome "
    "o all'ufficio welfare della tua azienda.",
    LinkOutcome.already_used: "Questo codice è già stato usato. Chiedi un nuovo codice "
    "al Punto Welcome o all'ufficio welfare della tua azienda.",
    LinkOutcome.too_many_attempts: "Troppi tentativi con codici non validi. Riprova tra un'ora.",
    LinkOutcome.issuer_in_chat: "Questo codice non può collegare questa chat, perché "
    "l'operatore che l'ha creato ti ha scritto qui. Chiedi un nuovo codice a un altro "
    "operatore del Punto Welcome o all'ufficio welfare della tua azienda.",
}


class NotLinked(LedgerError):
    message = "Questa chat non è ancora collegata a un budget welfare. Inserisci il codice " + (
        "che ti hanno dato al Punto Welcome o in azienda."
    )


# --- the pepper and the hash ---------------------------------------------------------------


def _pepper(settings: Settings) -> bytes:
    """LINK_CODE_PEPPER from the settings, else the generated one of VAR_DIR/secrets.env
    (core.local_secrets: created once, migrated from the older secrets/link_code_pepper)."""
    configured = settings.link_code_pepper.get_secret_value()
    if configured:
        return configured.encode()
    return _generated_pepper(settings.var_dir.resolve())


@lru_cache(maxsize=4)
def _generated_pepper(var_dir: Path) -> bytes:
    return ensure_secrets(var_dir, ("LINK_CODE_PEPPER",))["LINK_CODE_PEPPER"].encode()


def hash_code(code: str, *, settings: Settings | None = None) -> str:
    pepper = _pepper(settings or get_settings())
    return hmac.new(pepper, normalise(code).encode(), hashlib.sha256).hexdigest()


def format_code(code: str) -> str:
    """``"ABCD2345"`` -> ``"ABCD-2345"``, easier to read aloud (the dash is optional)."""
    return f"{code[:4]}-{code[4:]}"


# --- issuing and redeeming ---------------------------------------------------------------


def issue_link_code(
    session: Session,
    *,
    citizen_id: int,
    issued_by: str,
    now: datetime,
    ttl: timedelta | None = None,
) -> str:
    """A fresh code for the citizen (shown once, never stored in clear)."""
    settings = get_settings()
    ttl = ttl or timedelta(hours=settings.link_code_ttl_hours)
    session.exec(
        update(LinkCode)
        .where(
            col(LinkCode.citizen_id) == citizen_id,
            col(LinkCode.used_at).is_(None),
            col(LinkCode.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )
    while True:
        code = random_code(CODE_LENGTH)
        digest = hash_code(code, settings=settings)
        taken = session.exec(select(LinkCode.id).where(LinkCode.code_hash == digest)).first()
        if taken is None:
            break
    session.add(
        LinkCode(
            code_hash=digest,
            citizen_id=citizen_id,
            issued_by=issued_by[:80],
            created_at=now,
            expires_at=now + ttl,
        )
    )
    session.flush()
    return code


def _failed_attempts(session: Session, conversation_id: str, since: datetime) -> int:
    return session.exec(
        select(func.count())
        .select_from(LinkAttempt)
        .where(
            LinkAttempt.conversation_id == conversation_id,
            col(LinkAttempt.attempted_at) >= since,
        )
    ).one()


def _fail(
    session: Session, conversation_id: str, now: datetime, outcome: LinkOutcome
) -> LinkOutcome:
    session.add(LinkAttempt(conversation_id=conversation_id, attempted_at=now, outcome=outcome))
    session.flush()
    return outcome


def _issuer_wrote_here(session: Session, issued_by: str, conversation_id: str) -> bool:
    """Whether the staff member who issued the code has written in the conversation from the
    console: who hands out a code must not be the one who links a chat with it."""
    kind, _, ident = issued_by.partition(":")
    if kind != "staff" or not ident.isdigit():
        return False
    wrote = session.exec(
        select(Message.id)
        .where(
            Message.conversation_id == conversation_id,
            Message.author == Author.staff,
            Message.staff_user_id == int(ident),
        )
        .limit(1)
    ).first()
    return wrote is not None


def redeem_link_code(
    session: Session, *, conversation_id: str, code: str, now: datetime
) -> LinkOutcome:
    """Link the conversation to the code's citizen. The caller commits, also on failure
    (failed attempts are recorded for the rate limit). Redeeming the same code again from
    the conversation it linked is ``ok`` (a double tap)."""
    settings = get_settings()
    window = timedelta(minutes=settings.link_attempt_window_minutes)
    if _failed_attempts(session, conversation_id, now - window) >= (
        settings.link_max_failed_attempts
    ):
        return LinkOutcome.too_many_attempts

    typed = normalise(code)
    if len(typed) != CODE_LENGTH or any(ch not in ALPHABET for ch in typed):
        return _fail(session, conversation_id, now, LinkOutcome.invalid)
    digest = hash_code(typed, settings=settings)
    row = session.exec(select(LinkCode).where(LinkCode.code_hash == digest)).first()
    if row is None or not hmac.compare_digest(row.code_hash, digest):
        return _fail(session, conversation_id, now, LinkOutcome.invalid)

    if row.used_at is not None:
        current = _active_link(session, conversation_id)
        if (
            row.used_by_conversation == conversation_id
            and current is not None
            and (current.citizen_id == row.citizen_id)
        ):
            return LinkOutcome.ok
        return _fail(session, conversation_id, now, LinkOutcome.already_used)
    if row.revoked_at is not None or now >= row.expires_at:
        return _fail(session, conversation_id, now, LinkOutcome.expired)
    if _issuer_wrote_here(session, row.issued_by, conversation_id):
        return _fail(session, conversation_id, now, LinkOutcome.issuer_in_chat)

    claimed = session.exec(  # atomic: of two racing redemptions only one wins
        update(LinkCode)
        .where(
            col(LinkCode.id) == row.id,
            col(LinkCode.used_at).is_(None),
            col(LinkCode.revoked_at).is_(None),
        )
        .values(used_at=now, used_by_conversation=conversation_id)
    )
    if claimed.rowcount != 1:
        return _fail(session, conversation_id, now, LinkOutcome.already_used)
    unlink(session, conversation_id=conversation_id, now=now)
    session.add(
        ConversationLink(conversation_id=conversation_id, citizen_id=row.citizen_id, linked_at=now)
    )
    session.flush()
    return LinkOutcome.ok


# --- reading and removing links ------------------------------------------------------------


def _active_link(session: Session, conversation_id: str) -> ConversationLink | None:
    return session.exec(
        select(ConversationLink).where(
            ConversationLink.conversation_id == conversation_id,
            col(ConversationLink.unlinked_at).is_(None),
        )
    ).first()


def unlink(session: Session, *, conversation_id: str, now: datetime) -> bool:
    """End the conversation's link (the citizen asked, or staff did). False if none."""
    result = session.exec(
        update(ConversationLink)
        .where(
            col(ConversationLink.conversation_id) == conversation_id,
            col(ConversationLink.unlinked_at).is_(None),
        )
        .values(unlinked_at=now)
    )
    session.flush()
    return result.rowcount > 0


def unlink_citizen(session: Session, *, citizen_id: int, now: datetime) -> int:
    """End every chat link of a citizen (from the console); returns how many."""
    result = session.exec(
        update(ConversationLink)
        .where(
            col(ConversationLink.citizen_id) == citizen_id,
            col(ConversationLink.unlinked_at).is_(None),
        )
        .values(unlinked_at=now)
    )
    session.flush()
    return result.rowcount


def citizen_for_conversation(session: Session, *, conversation_id: str) -> Citizen | None:
    """The citizen this conversation speaks for, or None if it is not linked."""
    link = _active_link(session, conversation_id)
    return session.get(Citizen, link.citizen_id) if link is not None else None


def require_citizen(session: Session, *, conversation_id: str) -> Citizen:
    """Like ``citizen_for_conversation`` but raises ``NotLinked`` (Italian message)."""
    citizen = citizen_for_conversation(session, conversation_id=conversation_id)
    if citizen is None:
        raise NotLinked(f"conversation {conversation_id[:8]}… is not linked")
    return citizen
