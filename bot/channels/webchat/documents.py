"""The web chat's documents: a file the assistant sent (a copy of the citizen's data),
downloaded by the browser with the chat's own token.

``GET /api/chat/documents/{message_id}``: only an outbound message of the token's own
conversation that carries a document, and only once it counts as sent; anything else is
404, so a guessed id reveals nothing. Never cached.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from bot.channels.webchat.auth import bearer_token, chat_key
from bot.gateway import Gateway
from conversations import repository as repo
from conversations.models import Channel, Direction, Status
from conversations.outgoing import Document

router = APIRouter()
Token = Annotated[str, Depends(bearer_token)]
NOT_FOUND = "documento non trovato"
DELIVERED = {Status.sent, Status.delivered, Status.read}


@router.get("/api/chat/documents/{message_id:int}")
async def download(request: Request, message_id: int, token: Token) -> Response:
    gateway: Gateway = request.app.state.gateway
    conversation = await gateway.db.run(
        repo.find_conversation, channel=Channel.webchat, chat_key=chat_key(token)
    )
    message = await gateway.db.run(repo.get_message, message_id=message_id)
    if (
        conversation is None
        or message is None
        or message.conversation_id != conversation.conversation_id
        or message.direction != Direction.outbound
        or message.status not in DELIVERED
        or not (message.data or {}).get("document")
    ):
        raise HTTPException(404, NOT_FOUND)
    document = Document.from_dict(message.data["document"])
    attachment = await gateway.db.run(
        repo.get_attachment,
        attachment_id=document.attachment_id,
        conversation_id=conversation.conversation_id,
    )
    if attachment is None:
        raise HTTPException(404, NOT_FOUND)
    try:
        path = gateway.uploads.path_of(attachment.path)
        content = await asyncio.to_thread(path.read_bytes)
    except (OSError, ValueError) as exc:
        raise HTTPException(404, NOT_FOUND) from exc
    return Response(
        content,
        media_type=document.mime_type,
        headers={
            "Content-Disposition": f'attachment; filename="{document.filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
