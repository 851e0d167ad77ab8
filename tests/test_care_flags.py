from sqlalchemy.engine import Engine
from sqlmodel import Session

from care.flags import open_flags, raise_flag
from care.models import FlagKind, FlagPriority


def test_flags_are_deduplicated_and_sorted_by_priority(engine: Engine) -> None:
    with Session(engine) as session:
        raise_flag(
            session,
            conversation_id="c1",
            kind=FlagKind.handoff,
            priority=FlagPriority.normal,
            source="test",
        )
        first = raise_flag(
            session,
            conversation_id="c2",
            kind=FlagKind.emergency,
            priority=FlagPriority.top,
            source="safety_net",
            reason="violence",
        )
        again = raise_flag(
            session,
            conversation_id="c2",
            kind=FlagKind.emergency,
            priority=FlagPriority.top,
            source="rasa_action",
        )
        session.commit()
        assert again.id == first.id
        flags = open_flags(session)
        assert [f.conversation_id for f in flags] == ["c2", "c1"]
        assert flags[0].created_at.tzinfo is not None
