"""Who receives a broadcast, and the composer's live count."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot import consent as gateway_consent
from broadcast import subscriptions as subs
from broadcast.audience import count_audience
from conversations import repository as gateway_repo
from conversations.models import Channel
from core.db import session_scope
from core.timeutil import utcnow
from tests.broadcast.helpers import add_citizen, add_subscriber


def test_audience_matching_and_exclusions(engine: Engine) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        add_subscriber(session)  # no choices: everything, everywhere
        add_subscriber(session, quartieri=["Q5"])
        add_subscriber(session, quartieri=["Q1", "Q5"], interests=["after_school"])
        add_subscriber(session, interests=["housing"], channel=Channel.whatsapp)
        add_subscriber(session, quartieri=["Q2"], interests=["after_school", "housing"])
        add_citizen(session)  # consented, never subscribed
        withdrawn = add_subscriber(session, quartieri=["Q5"])
        gateway_consent.withdraw(session, conversation_id=withdrawn, now=now)
        blocked = add_subscriber(session)
        gateway_repo.mark_blocked(session, conversation_id=blocked, now=now)
        stopped = add_subscriber(session)
        subs.stop(session, conversation_id=stopped, now=now)
        group = gateway_repo.get_or_create_conversation(
            session, channel=Channel.telegram, chat_key="-100200", is_group=True
        )
        gateway_repo.set_consent(
            session, conversation_id=group.conversation_id, version="2026-11", now=now
        )
        subs.subscribe(session, conversation_id=group.conversation_id, now=now)

    with Session(engine) as session:
        assert count_audience(session) == {"telegram": 4, "whatsapp": 1, "total": 5}
        # Q5: the one wanting everything, Q5, Q1+Q5, and the WhatsApp one (no quartiere)
        assert count_audience(session, quartieri=["Q5"]) == {
            "telegram": 3,
            "whatsapp": 1,
            "total": 4,
        }
        assert count_audience(session, interests=["after_school"])["total"] == 4
        assert count_audience(session, quartieri=["Q5"], interests=["after_school"])["total"] == 3
        assert (
            count_audience(session, quartieri=["Q3"], interests=["sport_leisure"])["total"] == 1
        )  # only the one who wants everything
        assert count_audience(session, quartieri=["Q2"], interests=["housing"]) == {
            "telegram": 2,
            "whatsapp": 1,
            "total": 3,
        }

    # writing again unblocks (the gateway clears blocked_at): back in the audience
    with session_scope(engine) as session:
        conversation = gateway_repo.get_conversation(session, conversation_id=blocked)
        assert conversation is not None
        conversation.blocked_at = None
        session.add(conversation)
    with Session(engine) as session:
        assert count_audience(session)["total"] == 6
