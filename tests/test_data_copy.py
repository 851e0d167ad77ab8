"""privacy.data_copy, privacy.copy_files, privacy.copy_delivery: a citizen's copy of their own
data (GDPR art. 15 and 20), on SQLite and PostgreSQL.

The world of tests/test_erasure_data.py (two conversations with messages, a photo, a
subscription, a hand-off with a note, a budget with a credit, a reimbursement): the copy of
one holds exactly its data (none of the other's), the JSON parses with its schema, ISO times
with the Europe/Rome offset and cents as integers, the readable copy says it in Italian, the
request is stored once with its deadline and audit line, and the copy's messages are stored
only for the conversation that asked, never for an erased one.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from catalog.hours import ROME
from conversations.models import Attachment, Author, Conversation, Message, Status
from conversations.outgoing import from_row
from conversations.uploads import UploadStore
from core.db import session_scope
from privacy import copy_delivery, copy_files, data_copy
from privacy.retention import erase_conversation
from staff.models import AuditLog
from tests.test_erasure_data import NOW, World, build

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+0[12]:00$")


def rome_time(value: str) -> bool:
    """ISO-8601 with the offset Europe/Rome had at that moment (+01:00 or +02:00)."""
    parsed = datetime.fromisoformat(value)
    return bool(ISO.match(value)) and parsed.utcoffset() == parsed.astimezone(ROME).utcoffset()


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    return build(engine, tmp_path / "uploads", engine)


def _copy(world: World, cid: str | None = None) -> data_copy.DataCopy:
    with Session(world.engine) as session:
        return data_copy.collect(session, conversation_id=cid or world.me, now=NOW)


def test_the_request_is_stored_once_with_deadline_and_audit(world: World) -> None:
    with session_scope(world.engine) as session:
        first = data_copy.request_copy(session, conversation_id=world.me, source="rasa_action")
        again = data_copy.request_copy(session, conversation_id=world.me, source="rasa_action")
    assert again.id == first.id
    assert first.due_at - first.requested_at == timedelta(days=30)
    with Session(world.engine) as session:
        assert [r.id for r in data_copy.open_requests(session)] == [first.id]
        audited = session.exec(
            select(AuditLog).where(col(AuditLog.object_type) == "data_copy_request")
        ).all()
        assert [(a.action, a.object_id, a.actor_id) for a in audited] == [
            ("data_copy.requested", str(first.id), None)
        ]
        # the erasure queue is another list: the copy request is not in it
        assert world.request_id not in {r.id for r in data_copy.open_requests(session)}


def test_the_copy_holds_the_conversations_data_and_no_one_elses(world: World) -> None:
    copy = _copy(world)
    counts = dict(copy.counts())
    assert counts == {
        "Messaggi della chat": 5,
        "Consenso all'informativa privacy": 1,
        "Iscrizione agli avvisi": 1,
        "Appuntamenti ai Welcome Point": 0,
        "Dati anagrafici del budget welfare": 1,
        "Movimenti del budget welfare": 1,
        "Voucher": 0,
        "Richieste di rimborso": 1,
        "Conversazioni con un operatore": 1,
    }
    text = json.dumps(copy_files.as_json(copy), ensure_ascii=False)
    assert "sono Anna" in text and "Anna: sfratto" in text and "Nido Le Coccinelle" in text
    assert "Bruno" not in text  # the other conversation's data
    assert "111111" not in text  # never the chat address


def test_the_json_follows_its_schema(world: World) -> None:
    file = copy_files.json_file(_copy(world))
    assert file.mime_type == "application/json" and file.filename.endswith(".json")
    data = json.loads(file.content)
    assert data["schema"] == "welcome.data-copy" and data["schema_version"] == 1
    assert set(data) == {
        "schema",
        "schema_version",
        "created_at",
        "channel",
        "messages",
        "consent",
        "subscriptions",
        "appointments",
        "citizen",
        "ledger_entries",
        "vouchers",
        "reimbursements",
        "handoffs",
    }
    assert data["created_at"].endswith("+01:00")  # 25 November: winter time
    assert rome_time(data["created_at"])
    assert all(rome_time(m["at"]) for m in data["messages"])
    assert any(m["at"].endswith("+02:00") for m in data["messages"])  # 16 October: summer
    (entry,) = data["ledger_entries"]
    assert entry["amount_cents"] == 50_000 and isinstance(entry["amount_cents"], int)
    (refund,) = data["reimbursements"]
    assert refund["amount_cents"] == 12_000 and refund["paid_on"] == "2026-10-01"
    photo = next(m for m in data["messages"] if "file" in m)
    assert photo["file"]["type"] == "image/jpeg" and photo["from"] == "cittadino"
    (handoff,) = data["handoffs"]
    assert handoff["notes"][0]["text"] == "Anna: sfratto"
    assert data["subscriptions"][0]["topics"] == ["quartiere:Q5"]
    assert data["citizen"][0]["first_name"] == "Anna"


def test_the_readable_copy_is_plain_italian_and_a_pdf(world: World) -> None:
    copy = _copy(world)
    html = copy_files.html_text(copy)
    for words in (
        "La copia dei tuoi dati",
        "Messaggi della chat (5)",
        "Movimenti del budget welfare (1)",
        "500,00 €",  # 50,000 cents
        "120,00 €",
        "sono Anna, abito in via Roma 3",
        "Anna: sfratto",
        "Appuntamenti ai Welcome Point (0)",
        "Nessun dato.",
        "il file non è nella copia",
    ):
        assert words in html, words
    assert "amount_cents" not in html and "Bruno" not in html
    pdf = copy_files.pdf_file(copy)
    assert pdf.content.startswith(b"%PDF-") and pdf.filename.endswith(".pdf")
    assert 2_000 < pdf.size_bytes < 2_000_000


def test_an_erased_conversation_gets_no_copy(world: World) -> None:
    with session_scope(world.engine) as session:
        request = data_copy.request_copy(session, conversation_id=world.me, source="rasa_action")
        erase_conversation(session, conversation_id=world.me, uploads_root=world.uploads, now=NOW)
    with Session(world.engine) as session, pytest.raises(data_copy.ConversationGone):
        copy_delivery.collect_for(session, request_id=request.id, now=NOW)


def _prepared(world: World, tmp_path: Path) -> tuple[copy_delivery.PreparedCopy, list]:
    with session_scope(world.engine) as session:
        data_copy.request_copy(session, conversation_id=world.me, source="rasa_action")
    with Session(world.engine) as session:
        (request,) = data_copy.open_requests(session)
        found, copy = copy_delivery.collect_for(session, request_id=request.id, now=NOW)
    prepared = copy_delivery.prepare(found, copy)
    uploads = UploadStore(tmp_path / "uploads", 1_000_000)
    saved = [
        uploads.keep(
            f.content,
            mime_type=f.mime_type,
            extension=copy_delivery.EXTENSIONS[f.mime_type],
            now=NOW,
        )
        for f in prepared.files
    ]
    return prepared, saved


def test_the_copy_is_stored_as_queued_messages_of_the_same_conversation(
    world: World, tmp_path: Path
) -> None:
    prepared, saved = _prepared(world, tmp_path)
    with session_scope(world.engine) as session:
        rows, behind = copy_delivery.store_copy(
            session, prepared=prepared, saved=saved, staff_user_id=None, now=NOW
        )
        ids = [r.id for r in rows]
    assert behind  # the world has an older reply still queued: these wait behind it
    with Session(world.engine) as session:
        stored = [session.get(Message, i) for i in ids]
        assert all(m is not None and m.conversation_id == world.me for m in stored)
        assert all(m.status == Status.queued and m.author == Author.staff for m in stored if m)
        documents = [from_row(m.text, m.data).document for m in stored if m]
        assert documents[0] is None
        pdf, js = documents[1], documents[2]
        assert pdf is not None and pdf.mime_type == "application/pdf"
        assert js is not None and js.size_bytes == prepared.files[1].size_bytes
        kept = session.get(Attachment, js.attachment_id)
        assert kept is not None and kept.conversation_id == world.me
        assert kept.sha256 == prepared.files[1].sha256
        assert data_copy.open_requests(session) == []
    # a second send of the same request: nothing more is stored
    with session_scope(world.engine) as session, pytest.raises(copy_delivery.RequestGone):
        copy_delivery.store_copy(
            session, prepared=prepared, saved=saved, staff_user_id=None, now=NOW
        )
    with Session(world.engine) as session:
        assert len(session.exec(select(Message).where(col(Message.id).in_(ids))).all()) == 3


def test_a_conversation_erased_after_the_preview_gets_nothing(world: World, tmp_path: Path) -> None:
    prepared, saved = _prepared(world, tmp_path)
    with session_scope(world.engine) as session:
        erase_conversation(session, conversation_id=world.me, uploads_root=world.uploads, now=NOW)
    before = _count_messages(world.engine)
    with session_scope(world.engine) as session, pytest.raises(data_copy.ConversationGone):
        copy_delivery.store_copy(
            session, prepared=prepared, saved=saved, staff_user_id=None, now=NOW
        )
    assert _count_messages(world.engine) == before
    with Session(world.engine) as session:
        assert len(data_copy.open_requests(session)) == 1  # still open: staff mark it by hand
        conversation = session.exec(
            select(Conversation).where(col(Conversation.conversation_id) == world.me)
        ).one()
        assert conversation.chat_key.startswith("purged:")


def _count_messages(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(Message.id)).all())


def test_each_channel_takes_documents_up_to_its_limit() -> None:
    small = copy_files.CopyFile("a.pdf", "application/pdf", b"%PDF-" + b"x" * 10)
    big = copy_files.CopyFile("a.pdf", "application/pdf", b"x" * (50 * 1024 * 1024 + 1))
    copy_delivery.check_channel("telegram", [small])
    with pytest.raises(copy_delivery.CannotSend) as exc:
        copy_delivery.check_channel("telegram", [big])
    assert "50,0 MB" in exc.value.message and "Nulla è stato mandato" in exc.value.message
    assert exc.value.too_big
    copy_delivery.check_channel("whatsapp", [big])  # WhatsApp takes documents up to 100 MB
    with pytest.raises(copy_delivery.CannotSend):
        copy_delivery.check_channel("webchat", [big])
    with pytest.raises(copy_delivery.CannotSend):
        copy_delivery.check_channel("sms", [small])


def _in_english(world: World) -> None:
    from conversations.language import choose

    with session_scope(world.engine) as session:
        choose(session, conversation_id=world.me, language="en")


def test_the_readable_copy_is_in_english_for_an_english_conversation(world: World) -> None:
    """Issue 17: the copy's own words follow the conversation's language; what was written
    (messages, notes, names) stays as it was written, and the JSON does not change."""
    from tests.language.test_catalogues import still_italian

    json_before = copy_files.json_file(_copy(world)).content
    _in_english(world)
    copy = _copy(world)
    assert copy.language == "en"
    html = copy_files.html_text(copy)
    for words in (
        '<html lang="en">',
        "A copy of your data",
        "Chat messages (5)",
        "Payments and changes of the welfare budget (1)",
        "€500.00",  # 50,000 cents
        "sono Anna, abito in via Roma 3",  # what the citizen wrote
        "Anna: sfratto",  # the operator's note
        "Appointments at the Welcome Points (0)",
        "the file is not in the copy",
    ):
        assert words in html, words
    # the copy's own words: the cells hold the data as kept (names of budgets, providers)
    own = re.sub(r"<style>.*?</style>|<td>.*?</td>", "", html, flags=re.DOTALL)
    shown = re.sub(r"<[^>]+>", "\n", own)
    written = {m["text"] for m in copy.sections[0].items} | {"Anna: sfratto"}
    italian = [
        line
        for line in (" ".join(part.split()) for part in shown.split("\n"))
        if line and not any(text and text in line for text in written) and still_italian(line)
    ]
    assert italian == []
    assert copy_files.json_file(copy).content == json_before  # the contract's data
    pdf = copy_files.pdf_file(copy)
    assert pdf.content.startswith(b"%PDF-") and pdf.filename.startswith("welcome-data-copy-")


def test_the_copys_messages_are_in_english_for_an_english_conversation(
    world: World, tmp_path: Path
) -> None:
    _in_english(world)
    prepared, saved = _prepared(world, tmp_path)
    with session_scope(world.engine) as session:
        rows, _ = copy_delivery.store_copy(
            session, prepared=prepared, saved=saved, staff_user_id=None, now=NOW
        )
        texts = [r.text for r in rows]
    assert texts[0].startswith("Here is the copy of your data")
    assert texts[1:] == ["The copy of your data, to read (PDF).",
                         "The same data in a file for computers (JSON)."]  # fmt: skip
