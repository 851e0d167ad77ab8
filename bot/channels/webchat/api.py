"""The web chat's HTTP API and page.

GET  /                      the chat page (plain HTML/CSS/JS, no build step)
GET  /api/chat/languages    the languages of the page's switch (locale/languages.yml), each
                            with the page's own texts in it (page_texts.py)
POST /api/chat/session      a new conversation token (kept in the browser's localStorage)
GET  /api/chat/history      the conversation so far (after=ID for the newer part)
POST /api/chat/messages     a message: text, a button reference, a location or a command
POST /api/chat/files        a photo or PDF (the raw bytes as the body, ?client_id=...; an
                            optional caption in the X-Caption header, percent-encoded UTF-8)
GET  /api/chat/events       server-sent events: new messages, typing, mode and language changes

The errors the page shows (rate limits, refused files) are in the conversation's language
when the token has a conversation, in Italian otherwise (the gateway's catalogue, core.i18n).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel, Field

from bot import safety, wording
from bot.channels.webchat.auth import bearer_token, chat_key, new_token
from bot.channels.webchat.page_texts import page_languages
from bot.channels.webchat.ratelimit import AddressLimits
from bot.gateway import Gateway
from bot.text import sanitize
from bot.views import message_view
from conversations import repository as repo
from conversations.inbound import Inbound
from conversations.models import Channel, Kind
from conversations.uploads import UploadRejected, sniff_mime
from core.i18n import gettext, supported
from core.net import client_address
from core.timeutil import utcnow

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_TEXT = 50_000  # stored whole up to here; the assistant reads the first MESSAGE_MAX_CHARS
MAX_CAPTION = 1024  # as Telegram's and WhatsApp's captions
KEEPALIVE_SECONDS = 15.0

router = APIRouter()
Token = Annotated[str, Depends(bearer_token)]


def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]

_default_limits = AddressLimits.from_values(
    sessions_per_hour=60, emergencies_per_hour=5, uploads_per_hour=60, streams=20
)


def get_limits(request: Request) -> AddressLimits:
    """The per-address limits server.app built from the settings."""
    limits: AddressLimits = getattr(request.app.state, "webchat_limits", None) or _default_limits
    return limits


LimitsDep = Annotated[AddressLimits, Depends(get_limits)]


def address_of(request: Request, limits: AddressLimits) -> str:
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers, limits.trusted_proxies)


async def language_of(gateway: Gateway, key: str) -> str:
    """The language of the token's conversation; Italian when there is none yet."""
    conversation = await gateway.db.run(
        repo.find_conversation, channel=Channel.webchat, chat_key=key
    )
    return supported(conversation.language if conversation is not None else None)


def refusal(status: int, language: str, text: str, **fields: Any) -> HTTPException:
    """An HTTP error whose detail (a text of bot.wording) the page shows as it is."""
    return HTTPException(status_code=status, detail=gettext(language, text).format(**fields))


def _too_many(language: str, text: str, retry_after: int = 60) -> HTTPException:
    refused = refusal(429, language, text)
    refused.headers = {"Retry-After": str(retry_after)}
    return refused


class LocationIn(BaseModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class MessageIn(BaseModel):
    client_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    text: str | None = Field(default=None, max_length=MAX_TEXT)
    button: str | None = Field(default=None, max_length=64)
    location: LocationIn | None = None
    command: str | None = Field(default=None, max_length=32, pattern=r"^[a-z_]+$")


PAGE_TEXTS_SLOT = '<script id="page-texts" type="application/json">[]</script>'


@cache
def _page_html() -> str:
    """index.html with the page's texts in every language inside it (the page switches
    language without asking the server); ``<`` escaped so that no text can end the script."""
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    texts = json.dumps(page_languages(), ensure_ascii=False).replace("<", "\\u003c")
    return html.replace(PAGE_TEXTS_SLOT, PAGE_TEXTS_SLOT.replace("[]", texts))


@router.get("/", include_in_schema=False)
async def page() -> HTMLResponse:
    return HTMLResponse(_page_html())


@router.get("/api/chat/languages")
async def chat_languages() -> dict[str, Any]:
    """The languages of the page's switch (locale/languages.yml), a tap sends `/lingua CODE`;
    each with the page's own texts in that language, which the page shows while the
    conversation is in it."""
    return {"languages": page_languages()}


@router.post("/api/chat/session")
async def new_session(request: Request, limits: LimitsDep) -> dict[str, str]:
    if not await limits.sessions.allow(address_of(request, limits)):
        raise _too_many(supported(None), wording.TOO_MANY_CHATS, 600)
    return {"token": new_token()}


@router.get("/api/chat/history")
async def history(token: Token, gateway: GatewayDep, after: int = 0) -> dict[str, Any]:
    key = chat_key(token)
    conversation = await gateway.db.run(
        repo.find_conversation, channel=Channel.webchat, chat_key=key
    )
    if conversation is None:
        return {"consent": False, "mode": "bot", "language": supported(None), "messages": []}
    messages = await gateway.db.run(
        repo.history, conversation_id=conversation.conversation_id, after_id=after
    )
    return {
        "consent": conversation.has_consent,
        "mode": conversation.mode,
        "language": supported(conversation.language),
        "messages": [message_view(m) for m in messages],
    }


def _inbound(token: str, body: MessageIn) -> Inbound:
    key = chat_key(token)
    common: dict[str, Any] = {
        "channel": Channel.webchat,
        "chat_key": key,
        "dedupe_key": f"web:{key[:24]}:{body.client_id}",
    }
    if body.command:
        return Inbound(kind=Kind.command, text=f"/{body.command}", payload=body.command, **common)
    if body.button:
        return Inbound(kind=Kind.button, payload=body.button, **common)
    if body.location:
        location = {"lat": body.location.lat, "lon": body.location.lon}
        return Inbound(kind=Kind.location, data={"location": location}, **common)
    text = sanitize(body.text)
    if text.startswith("/"):
        name = text[1:].split(maxsplit=1)[0].lower() if len(text) > 1 else ""
        return Inbound(kind=Kind.command, text=text, payload=name, **common)
    return Inbound(kind=Kind.text, text=text, **common)


async def _check_emergency_limit(
    request: Request, limits: AddressLimits, key: str, text: str | None, gateway: Gateway
) -> None:
    """A message the safety net would turn into a top-priority hand-off counts against its
    address: a few conversations per hour, then 429 with the emergency numbers (so that
    free tokens cannot bury real emergencies under fake ones)."""
    if not text or safety.check(text) is None:
        return
    if not await limits.emergencies.allow(address_of(request, limits), key):
        log.warning("web chat: emergency hand-offs per address exceeded; message refused")
        raise _too_many(await language_of(gateway, key), wording.TOO_MANY_EMERGENCIES, 600)


@router.post("/api/chat/messages", status_code=202)
async def post_message(
    token: Token, body: MessageIn, gateway: GatewayDep, request: Request, limits: LimitsDep
) -> dict[str, Any]:
    key = chat_key(token)
    if not await limits.messages.allow(key):
        raise refusal(429, await language_of(gateway, key), wording.TOO_MANY_MESSAGES)
    await _check_emergency_limit(request, limits, key, body.text, gateway)
    stored = await gateway.receive(_inbound(token, body))
    return {"id": stored.message.id, "duplicate": stored.duplicate}


def _caption(header: str | None, language: str) -> str:
    """The caption of an upload (percent-encoded UTF-8 in X-Caption), sanitised; refused with
    422 and a sentence in ``language`` when it cannot be read or is longer than MAX_CAPTION."""
    if not header:
        return ""
    too_long = refusal(422, language, wording.CAPTION_TOO_LONG, limit=MAX_CAPTION)
    if len(header) > MAX_CAPTION * 12:  # "%XX" per byte, up to 4 bytes per character
        raise too_long
    try:
        if header.isascii():
            decoded = unquote(header, errors="strict")
        else:  # raw UTF-8 bytes, which the server read as Latin-1
            decoded = header.encode("latin-1").decode("utf-8")
    except UnicodeError as exc:
        raise refusal(422, language, wording.CAPTION_UNREADABLE) from exc
    caption = sanitize(decoded)
    if len(caption) > MAX_CAPTION:
        raise too_long
    return caption


def _too_big(max_bytes: int, language: str) -> HTTPException:
    mb = max(1, max_bytes // (1024 * 1024))
    return refusal(413, language, wording.FILE_TOO_BIG, mb=mb)


async def _read_capped(request: Request, max_bytes: int, language: str) -> bytes:
    """The body, refused with 413 as soon as it is longer than ``max_bytes``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_big(max_bytes, language)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise _too_big(max_bytes, language)
    return bytes(body)


@router.post("/api/chat/files", status_code=202)
async def post_file(
    token: Token,
    request: Request,
    gateway: GatewayDep,
    limits: LimitsDep,
    client_id: Annotated[str, Query(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    x_caption: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """A photo or PDF from the web chat: the same limits and storage as Telegram's files
    (conversations.uploads), stored with its message before the 202, then on to Rasa like them.
    The caption (what the citizen had written beside it) is the message's text, as on
    Telegram; it travels in a header so that it never appears in an access log."""
    key = chat_key(token)
    conversation = await gateway.db.run(
        repo.find_conversation, channel=Channel.webchat, chat_key=key
    )
    language = supported(conversation.language if conversation is not None else None)
    caption = _caption(x_caption, language)
    if not await limits.messages.allow(key):
        raise refusal(429, language, wording.TOO_MANY_MESSAGES)
    if not await limits.uploads.allow(address_of(request, limits)):
        raise _too_many(language, wording.TOO_MANY_FILES, 600)
    await _check_emergency_limit(request, limits, key, caption, gateway)
    if conversation is None or not conversation.has_consent:
        raise refusal(409, language, wording.FILE_NEEDS_CONSENT)
    uploads = gateway.uploads
    content = await _read_capped(request, uploads.max_bytes, language)
    if not content:
        raise refusal(422, language, wording.FILE_EMPTY)
    if sniff_mime(content) is None:
        log.info("conversation %s: file refused (type)", conversation.conversation_id)
        raise refusal(415, language, wording.FILE_TYPE_NOT_ALLOWED)
    try:
        saved = await asyncio.to_thread(uploads.save, content, now=utcnow())
    except UploadRejected as exc:  # the same checks again, in the one place that stores
        if exc.reason == "too_big":
            raise _too_big(uploads.max_bytes, language) from exc
        raise refusal(415, language, wording.FILE_TYPE_NOT_ALLOWED) from exc
    inbound = Inbound(
        channel=Channel.webchat,
        chat_key=key,
        kind=Kind.attachment,
        text=caption,
        data={"file": {"type": "upload", "size": saved.size_bytes}},
        dedupe_key=f"web:{key[:24]}:{client_id}",
        attachment=saved,
    )
    try:
        stored = await gateway.receive(inbound)
    except BaseException:
        with contextlib.suppress(OSError):
            uploads.path_of(saved.relative_path).unlink()
        raise
    if stored.duplicate:  # a retry of a file already received: keep only the first copy
        with contextlib.suppress(OSError):
            uploads.path_of(saved.relative_path).unlink()
    return {"id": stored.message.id, "duplicate": stored.duplicate}


def _sse(event: str, data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.get("/api/chat/events")
async def events(
    token: Token, gateway: GatewayDep, request: Request, limits: LimitsDep, after: int = 0
) -> StreamingResponse:
    key = chat_key(token)
    address = address_of(request, limits)
    slot = await limits.streams.acquire(address)
    if slot is None:
        raise _too_many(await language_of(gateway, key), wording.TOO_MANY_STREAMS, 30)

    async def stream() -> AsyncIterator[str]:
        try:
            async for chunk in _stream():
                yield chunk
        finally:
            await limits.streams.release(address, slot)

    async def _stream() -> AsyncIterator[str]:
        conversation = None
        last_id = after
        while conversation is None:  # a brand-new chat: wait for its first message
            conversation = await gateway.db.run(
                repo.find_conversation, channel=Channel.webchat, chat_key=key
            )
            if conversation is None:
                yield ": waiting\n\n"
                if await request.is_disconnected():
                    return
                await asyncio.sleep(0.5)
        conversation_id = conversation.conversation_id
        async with gateway.events.subscribe(conversation_id) as queue:
            # the page's texts follow the conversation's language, read once subscribed so
            # that a change is never missed, also after a reconnection
            language = await language_of(gateway, key)
            yield _sse("language", {"language": language})
            # what happened before we subscribed, then live events (no gap, no repeat)
            for message in await gateway.db.run(
                repo.history, conversation_id=conversation_id, after_id=last_id
            ):
                view = message_view(message)
                yield _sse("message", view, view["id"])
                last_id = max(last_id, view["id"])
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield ": keepalive\n\n"
                    continue
                kind = event.get("type")
                if kind == "message":
                    view = event["message"]
                    if view["id"] is None:
                        continue
                    yield _sse("message", view, view["id"])
                elif kind in ("typing", "mode", "language"):
                    yield _sse(kind, {k: v for k, v in event.items() if k != "conversation_id"})

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
