"""Sending a data copy into the conversation that asked for it, through the outbox.

``prepare`` builds the two files (read only; refuses a conversation erased or purged, and a
channel that cannot take them or a file over its limit: ``CannotSend``). ``store_copy`` then,
in the caller's transaction, stores three outbound messages in the same conversation (a
line of explanation, the PDF, the JSON, in the conversation's language), each document kept
as an ``Attachment`` of its message (VAR_DIR/uploads, deleted by retention and erasure with
the conversation's other files), and marks the request done. The rows are queued like
every reply: the gateway sends them at once, and a channel failure leaves them to the
outbox, which retries until sent. Nothing here knows the chat address: the copy can only go
where the request came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from channels.documents import document_limit
from conversations import repository as repo
from conversations.models import Author, Channel, Kind, Message
from conversations.outgoing import Document
from conversations.uploads import SavedFile
from core.i18n import gettext
from privacy.copy_files import CopyFile, build_files
from privacy.copy_wording import CAPTIONS, INTRO_TEXT
from privacy.data_copy import (
    DataCopy,
    collect,
    get_open_request,
    live_conversation,
    mark_done,
)
from privacy.requests import PrivacyRequest

EXTENSIONS = {"application/pdf": "pdf", "application/json": "json"}


class RequestGone(Exception):
    """The request was closed meanwhile (a colleague sent the copy at the same moment)."""


class CannotSend(Exception):
    """The copy cannot go to this conversation's channel; ``message`` says why, in Italian;
    ``too_big`` when a file is over the channel's limit (else the channel takes none)."""

    def __init__(self, message: str, *, too_big: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.too_big = too_big


@dataclass(frozen=True)
class PreparedCopy:
    request: PrivacyRequest
    copy: DataCopy
    files: list[CopyFile]


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",") + " MB"


def check_channel(channel: str, files: list[CopyFile] | None = None) -> None:
    """Raise ``CannotSend`` when ``channel`` takes no documents or a file is over its limit."""
    limit = document_limit(channel)
    if limit is None:
        raise CannotSend(
            "Questo canale non può ricevere documenti: consegna la copia di persona a un "
            "Welcome Point, poi segna la richiesta come evasa."
        )
    for file in files or []:
        if file.size_bytes > limit:
            raise CannotSend(
                f"Il file {file.filename} è di {_mb(file.size_bytes)}: il canale accetta "
                f"al massimo {_mb(limit)}. Nulla è stato mandato: consegna la copia di "
                "persona a un Welcome Point, poi segna la richiesta come evasa.",
                too_big=True,
            )


def collect_for(
    session: Session, *, request_id: int, now: datetime
) -> tuple[PrivacyRequest, DataCopy]:
    """The open request and its copy; raises ``RequestGone`` / ``ConversationGone``."""
    request = get_open_request(session, request_id=request_id)
    if request is None:
        raise RequestGone(request_id)
    return request, collect(session, conversation_id=request.conversation_id, now=now)


def prepare(request: PrivacyRequest, copy: DataCopy) -> PreparedCopy:
    """Build the PDF and the JSON and check them against the channel (slow: WeasyPrint)."""
    check_channel(copy.channel)
    files = build_files(copy)
    check_channel(copy.channel, files)
    return PreparedCopy(request=request, copy=copy, files=files)


def store_copy(
    session: Session,
    *,
    prepared: PreparedCopy,
    saved: list[SavedFile],
    staff_user_id: int | None,
    now: datetime,
) -> tuple[list[Message], bool]:
    """Store the copy's messages (queued) and mark the request done, in ``session``'s
    transaction. Returns the rows and whether an earlier reply is still queued before them.
    Raises ``ConversationGone`` (erased or purged meanwhile) or ``RequestGone``."""
    cid = prepared.request.conversation_id
    conversation = live_conversation(session, conversation_id=cid)
    language = conversation.language  # sent as staff's, so translated here
    intro = gettext(language, INTRO_TEXT)
    items = [repo.OutboundItem(author=Author.staff, kind=Kind.text, text=intro, data={})]
    items += [
        repo.OutboundItem(
            author=Author.staff,
            kind=Kind.attachment,
            text=gettext(language, CAPTIONS[f.mime_type]),
            data={},
        )
        for f in prepared.files
    ]
    rows, behind = repo.store_turn(
        session,
        conversation_id=cid,
        channel=Channel(conversation.channel),
        items=items,
        reply_to_id=None,
        staff_user_id=staff_user_id,
        finish=None,
        now=now,
    )
    for row, file, kept in zip(rows[1:], prepared.files, saved, strict=True):
        assert row.id is not None
        attachment = repo.add_attachment(
            session,
            message_id=row.id,
            conversation_id=cid,
            mime_type=file.mime_type,
            size_bytes=kept.size_bytes,
            sha256=kept.sha256,
            path=kept.relative_path,
            now=now,
        )
        assert attachment.id is not None
        document = Document(attachment.id, file.filename, file.mime_type, kept.size_bytes)
        row.data = {**(row.data or {}), "document": document.as_dict()}
        session.add(row)
    if not mark_done(session, request_id=prepared.request.id, now=now):
        raise RequestGone(prepared.request.id)  # a colleague's copy committed first
    session.flush()
    return rows, behind


def audit_detail(files: list[CopyFile]) -> str:
    """Size and SHA-256 of each file, never the content (two files fit the audit's 200)."""
    return "; ".join(f"{EXTENSIONS[f.mime_type]} {f.size_bytes} B sha256 {f.sha256}" for f in files)
