"""The web chat's documents: a file the assistant sent (a copy of the citizen's data),
downloaded by the browser with the chat's own token.

``GET /api/chat/documents/{message_id}``: only an outbound message of the token's own
conversation that carries a document, and only once it counts as sent; anything else is
404, so a guessed id reveals nothing (its sentence in the conversation's language). Never
cached.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from bot import wording
from bot.channels.webchat.auth import bearer_token, chat_key
from bot.gateway import Gateway
from conversations import repository as repo
from conversations.models import Channel, Direction, Status
from conversations.outgoing import Document
from core.i18n import gettext

router = APIRouter()
Token = Annotated[str, Depends(bearer_token)]
DELIVERED = {Status.sent, Status.delivered, Status.read}


@router.get("/api/chat/documents/{message_id:int}")
async def download(request: Request, message_id: int, token: Token) -> Response:
    gateway: Gateway = request.app.state.gateway
    conversation = await gateway.db.run(
        repo.find_conversation, channel=Channel.webchat, chat_key=chat_key(token)
    )
    message = await gateway.db.run(repo.get_message, message_id=message_id)
    not_found = HTTPException(
        404, gettext(conversation.language if conversation else None, wording.DOCUMENT_NOT_FOUND)
    )
    if (
        conversation is None
        or message is None
        or message.conversation_id != conversation.conversation_id
        or message.direction != Direction.outbound
        or message.status not in DELIVERED
        or not (message.data or {}).get("document")
    ):
        raise not_found
    document = Document.from_dict(message.data["document"])
    attachment = await gateway.db.run(
        repo.get_attachment,
        attachment_id=document.attachment_id,
        conversation_id=conversation.conversation_id,
    )
    if attachment is None:
        raise not_found
    try:
        path = gateway.uploads.path_of(attachment.path)
        content = await asyncio.to_thread(path.read_bytes)
    except (OSError, ValueError) as exc:
        raise not_found from exc
    return Response(
        content,
        media_type=document.mime_type,
        headers={
            "Content-Disposition": f'attachment; filename="{document.filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
