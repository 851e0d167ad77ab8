"""One-time codes: format, hashing, expiry, single use, wrong codes, rate limit, unlink."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from core.settings import Settings
from welfare.ledger.codes import ALPHABET
from welfare.ledger.linking import (
    LinkOutcome,
    NotLinked,
    citizen_for_conversation,
    format_code,
    hash_code,
    issue_link_code,
    redeem_link_code,
    require_citizen,
    unlink,
    unlink_citizen,
)
from welfare.ledger.models import LinkCode

from .conftest import NOW, Budget, make_budget

CONV = "a" * 32
OTHER = "b" * 32


@pytest.fixture(autouse=True)
def _settings(link_settings: Callable[..., Settings]) -> None:
    link_settings()


def _issue(session: Session, budget: Budget, **kw: object) -> str:
    return issue_link_code(
        session, citizen_id=budget.citizen_id, issued_by="staff:point-q5", now=NOW, **kw
    )


def test_codes_are_8_unambiguous_symbols_stored_only_hashed(session: Session, budget: Budget):
    code = _issue(session, budget)
    assert re.fullmatch(rf"[{ALPHABET}]{{8}}", code)
    assert not set("0O1I") & set(ALPHABET)
    stored = session.exec(select(LinkCode)).one()
    assert stored.code_hash == hash_code(code) and code not in stored.code_hash
    assert len(stored.code_hash) == 64
    assert stored.expires_at == NOW + timedelta(hours=72)


def test_the_hash_depends_on_the_pepper(link_settings: Callable[..., Settings]):
    a = hash_code("ABCD2345", settings=link_settings(link_code_pepper="one"))
    b = hash_code("ABCD2345", settings=link_settings(link_code_pepper="two"))
    assert a != b


def test_redeeming_links_the_conversation(session: Session, budget: Budget):
    code = _issue(session, budget)
    typed = format_code(code).lower().replace("-", " - ")  # as a person might type it
    assert redeem_link_code(session, conversation_id=CONV, code=typed, now=NOW) == LinkOutcome.ok
    citizen = citizen_for_conversation(session, conversation_id=CONV)
    assert citizen is not None and citizen.id == budget.citizen_id
    assert citizen_for_conversation(session, conversation_id=OTHER) is None
    # a double tap from the same chat is fine; another chat cannot reuse the code
    assert redeem_link_code(session, conversation_id=CONV, code=code, now=NOW) == LinkOutcome.ok
    outcome = redeem_link_code(session, conversation_id=OTHER, code=code, now=NOW)
    assert outcome == LinkOutcome.already_used
    assert citizen_for_conversation(session, conversation_id=OTHER) is None


def test_expired_code(session: Session, budget: Budget):
    code = _issue(session, budget, ttl=timedelta(hours=1))
    late = NOW + timedelta(hours=1)
    assert redeem_link_code(session, conversation_id=CONV, code=code, now=late) == (
        LinkOutcome.expired
    )
    assert "scaduto" in LinkOutcome.expired.message


def test_a_new_code_revokes_the_unused_one(session: Session, budget: Budget):
    old = _issue(session, budget)
    new = _issue(session, budget)
    assert redeem_link_code(session, conversation_id=CONV, code=old, now=NOW) == (
        LinkOutcome.expired
    )
    assert redeem_link_code(session, conversation_id=CONV, code=new, now=NOW) == LinkOutcome.ok


def test_wrong_codes_are_rate_limited_per_conversation(session: Session, budget: Budget):
    code = _issue(session, budget)
    for wrong in ("ZZZZZZZZ", "short", "ABCD-EFG0", "22222222", "33333333"):
        assert redeem_link_code(session, conversation_id=CONV, code=wrong, now=NOW) == (
            LinkOutcome.invalid
        )
    # the sixth try within the hour is refused, even with the right code
    assert redeem_link_code(session, conversation_id=CONV, code=code, now=NOW) == (
        LinkOutcome.too_many_attempts
    )
    assert citizen_for_conversation(session, conversation_id=CONV) is None
    # other conversations are not affected, and the window passes
    later = NOW + timedelta(minutes=61)
    assert redeem_link_code(session, conversation_id=CONV, code=code, now=later) == LinkOutcome.ok


def test_unlinking(session: Session, budget: Budget):
    code = _issue(session, budget)
    redeem_link_code(session, conversation_id=CONV, code=code, now=NOW)
    assert require_citizen(session, conversation_id=CONV).id == budget.citizen_id
    assert unlink(session, conversation_id=CONV, now=NOW) is True
    assert unlink(session, conversation_id=CONV, now=NOW) is False
    assert citizen_for_conversation(session, conversation_id=CONV) is None
    with pytest.raises(NotLinked):
        require_citizen(session, conversation_id=CONV)
    # linking again needs a new code
    assert redeem_link_code(session, conversation_id=CONV, code=code, now=NOW) == (
        LinkOutcome.already_used
    )
    again = _issue(session, budget)
    assert redeem_link_code(session, conversation_id=CONV, code=again, now=NOW) == LinkOutcome.ok
    assert unlink_citizen(session, citizen_id=budget.citizen_id, now=NOW) == 1
    assert citizen_for_conversation(session, conversation_id=CONV) is None


def test_a_conversation_speaks_for_one_citizen_at_a_time(session: Session, budget: Budget):
    second = make_budget(session, suffix="-2")
    redeem_link_code(session, conversation_id=CONV, code=_issue(session, budget), now=NOW)
    other_code = issue_link_code(
        session, citizen_id=second.citizen_id, issued_by="staff:hr", now=NOW
    )
    assert redeem_link_code(session, conversation_id=CONV, code=other_code, now=NOW) == (
        LinkOutcome.ok
    )
    citizen = citizen_for_conversation(session, conversation_id=CONV)
    assert citizen is not None and citizen.id == second.citizen_id
    session.commit()  # the partial unique index accepted it: one active link
