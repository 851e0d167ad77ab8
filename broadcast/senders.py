"""Sending one announcement to one recipient, per channel, and classifying what happened.

``TelegramSender`` speaks the Bot API over HTTP (httpx; base URL from
TELEGRAM_API_BASE_URL, a fake server in tests): ``sendMessage`` with ``parse_mode=HTML``,
or ``sendPhoto`` (the picture is uploaded once, then its ``file_id`` is reused), with the
link as an inline URL button. ``WhatsAppSender`` speaks the Cloud API: inside the 24-hour
window the text, or the picture (uploaded once to ``/media``, its id reused) with the text
as caption; outside it the approved template (WHATSAPP_TEMPLATE_NAME, one body variable:
the title, no picture), else the delivery is skipped. ``CallbackSender`` wraps a coroutine of the
gateway (used for the web chat, whose messages the gateway stores and pushes itself).

Senders are synchronous: the engine calls ``send`` in the delivery's own thread, which
marks the delivery in flight, sends, and commits the outcome at once (no event-loop hop
between the channel's answer and the commit: the crash window stays as short as it can).
Every sender returns a ``channels.outcome.Outcome``, classified by the rules the gateway
uses too (``channels.telegram``, ``channels.whatsapp``: the 24-hour window, Graph and Bot
API errors); only the engine touches the database.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import httpx

from channels import telegram, whatsapp
from channels.outcome import RETRYABLE, Outcome, Result, transport_outcome
from core.timeutil import utcnow

CAPTION_MAX = 1024  # Cloud API: characters of an image's caption


@dataclass(frozen=True)
class Recipient:
    delivery_id: int
    broadcast_id: int
    conversation_id: str
    channel: str
    chat_key: str  # the channel address: never logged, never stored by the broadcaster
    last_inbound_at: datetime | None = None
    language: str = "it"  # the conversation's: its version of the broadcast when there is one


@dataclass
class Announcement:
    """A broadcast as the senders need it (built once per worker and broadcast)."""

    broadcast_id: int
    title: str
    telegram_html: str
    whatsapp_text: str
    plain_text: str = ""
    link_url: str | None = None
    link_label: str | None = None
    image_path: Path | None = None
    image_mime: str | None = None
    telegram_file_id: str | None = None
    whatsapp_media_id: str | None = None
    image_failed: bool = False  # the channel refused the picture: send without it
    _image: bytes | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def image_bytes(self) -> bytes:
        if self._image is None:
            assert self.image_path is not None
            self._image = self.image_path.read_bytes()
        return self._image

    def remember_upload(self, channel: str, file_id: str) -> None:
        """The picture was uploaded to ``channel`` as ``file_id``: later sends reuse it."""
        if channel == "whatsapp":
            self.whatsapp_media_id = self.whatsapp_media_id or file_id
        else:
            self.telegram_file_id = self.telegram_file_id or file_id


class Sender(Protocol):
    def send(self, recipient: Recipient, announcement: Announcement) -> Outcome: ...

    def close(self) -> None: ...


class TelegramSender:
    def __init__(self, *, base_url: str, token: str, timeout: float = 10.0) -> None:
        self.base = f"{base_url.rstrip('/')}{token}"
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        )

    def close(self) -> None:
        self._client.close()

    def send(self, recipient: Recipient, announcement: Announcement) -> Outcome:
        try:
            chat_id = int(recipient.chat_key)
        except ValueError:
            return Outcome(Result.permanent, error="telegram:bad-chat")
        markup = None
        if announcement.link_url:
            button = {"text": announcement.link_label or "Apri", "url": announcement.link_url}
            markup = {"inline_keyboard": [[button]]}
        try:
            if announcement.image_path is not None:
                response = self._photo(chat_id, announcement, markup)
            else:
                body: dict[str, Any] = {
                    "chat_id": chat_id,
                    "text": announcement.telegram_html,
                    "parse_mode": "HTML",
                    "link_preview_options": {"is_disabled": True},
                }
                if markup:
                    body["reply_markup"] = markup
                response = self._client.post(f"{self.base}/sendMessage", json=body)
        except httpx.HTTPError as exc:
            return transport_outcome(exc, "telegram")
        return telegram.answer(response)

    def _photo(
        self, chat_id: int, announcement: Announcement, markup: dict[str, Any] | None
    ) -> httpx.Response:
        data: dict[str, Any] = {
            "chat_id": str(chat_id),
            "caption": announcement.telegram_html,
            "parse_mode": "HTML",
        }
        if markup:
            data["reply_markup"] = json.dumps(markup)
        if announcement.telegram_file_id:
            data["photo"] = announcement.telegram_file_id
            return self._client.post(f"{self.base}/sendPhoto", data=data)
        suffix = "png" if announcement.image_mime == "image/png" else "jpg"
        files = {
            "photo": (
                f"avviso.{suffix}",
                announcement.image_bytes(),
                announcement.image_mime or "image/jpeg",
            )
        }
        return self._client.post(f"{self.base}/sendPhoto", data=data, files=files)


class WhatsAppSender:
    """The Cloud API. Inside the citizen's 24-hour window: the text, or with a picture an
    ``image`` message whose caption is the text (the picture is uploaded once with ``POST
    /{phone-number-id}/media`` and its media id reused; Meta keeps it 30 days). Outside:
    the approved template (text only), else the delivery is skipped."""

    def __init__(
        self,
        *,
        base_url: str,
        version: str,
        phone_number_id: str,
        access_token: str,
        template_name: str = "",
        template_language: str = "it",
        timeout: float = 10.0,
    ) -> None:
        base = f"{base_url.rstrip('/')}/{version}/{phone_number_id}"
        self.url = f"{base}/messages"
        self.media_url = f"{base}/media"
        self.template_name = template_name
        self.template_language = template_language
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
            headers={"Authorization": f"Bearer {access_token}"},
        )

    def close(self) -> None:
        self._client.close()

    def _message(self, recipient: Recipient, announcement: Announcement) -> dict[str, Any] | None:
        if whatsapp.window_open(recipient.last_inbound_at, utcnow()):
            text = announcement.whatsapp_text
            if announcement.link_url:
                text += f"\n\n{announcement.link_label or 'Link'}: {announcement.link_url}"
            return {"type": "text", "text": {"preview_url": False, "body": text[:4096]}}
        if self.template_name:
            return {
                "type": "template",
                "template": {
                    "name": self.template_name,
                    "language": {"code": self.template_language},
                    "components": [
                        {
                            "type": "body",
                            "parameters": [{"type": "text", "text": announcement.title[:60]}],
                        }
                    ],
                },
            }
        return None

    def send(self, recipient: Recipient, announcement: Announcement) -> Outcome:
        message = self._message(recipient, announcement)
        if message is None:
            return whatsapp.window_closed()
        uploaded: str | None = None
        if message["type"] == "text" and announcement.image_path is not None:
            media = self._media_id(announcement)
            if isinstance(media, Outcome):
                return media  # the picture could not be uploaded: nothing was sent
            media_id, uploaded = media
            if media_id is not None:
                caption = message["text"]["body"]
                if len(caption) > CAPTION_MAX:
                    caption = caption[: CAPTION_MAX - 1].rstrip() + "…"
                message = {"type": "image", "image": {"id": media_id, "caption": caption}}
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": recipient.chat_key,
            **message,
        }
        try:
            response = self._client.post(self.url, json=body)
        except httpx.HTTPError as exc:
            return transport_outcome(exc, "whatsapp")
        outcome = whatsapp.answer(response)
        if uploaded and outcome.result == Result.sent:
            outcome = replace(outcome, file_id=uploaded)  # stored on the broadcast, reused
        return outcome

    def _media_id(self, announcement: Announcement) -> tuple[str | None, str | None] | Outcome:
        """(media id or None: send without the picture, the id if uploaded just now), or the
        Outcome of a failed upload worth retrying. One upload per worker and broadcast: the
        threads of a worker wait for the first one."""
        with announcement._lock:
            if announcement.whatsapp_media_id:
                return announcement.whatsapp_media_id, None
            if announcement.image_failed:
                return None, None
            mime = announcement.image_mime or "image/jpeg"
            suffix = "png" if mime == "image/png" else "jpg"
            try:
                response = self._client.post(
                    self.media_url,
                    data={"messaging_product": "whatsapp", "type": mime},
                    files={"file": (f"avviso.{suffix}", announcement.image_bytes(), mime)},
                )
            except httpx.HTTPError as exc:
                outcome = transport_outcome(exc, "whatsapp-media")
                return replace(outcome, uncertain=False)  # no message left for the citizen
            try:
                payload = response.json()
            except ValueError:
                payload = {}
            media_id = str(payload.get("id") or "") if response.status_code < 400 else ""
            if media_id:
                announcement.whatsapp_media_id = media_id
                return media_id, media_id
            outcome = whatsapp.answer(response)
            if outcome.result in RETRYABLE:
                return replace(outcome, error=outcome.error.replace("whatsapp", "whatsapp-media"))
            # refused for good (type, size...): the announcement goes without its picture
            announcement.image_failed = True
            return None, None


class CallbackSender:
    """Delivers through a coroutine ``(conversation_id, text) -> message id`` of the gateway
    (e.g. the web chat's), run on ``loop`` (by default the loop running when the sender is
    built). Any exception counts as a transient failure."""

    def __init__(
        self,
        send: Callable[[str, str], Awaitable[str]],
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._send = send
        self._loop = loop or asyncio.get_running_loop()
        self._timeout = timeout

    def close(self) -> None:
        return None

    def send(self, recipient: Recipient, announcement: Announcement) -> Outcome:
        text = announcement.plain_text or announcement.whatsapp_text
        if announcement.link_url:
            text += f"\n\n{announcement.link_label or 'Link'}: {announcement.link_url}"
        future = asyncio.run_coroutine_threadsafe(
            self._send(recipient.conversation_id, text), self._loop
        )
        try:
            message_id = future.result(self._timeout)
        except Exception as exc:
            future.cancel()
            return Outcome(Result.transient, error=f"callback:{type(exc).__name__}"[:60])
        return Outcome(Result.sent, message_id=str(message_id))
