"""A faithful fake of the Telegram Bot API: a real HTTP server on 127.0.0.1.

It speaks the documented protocol (https://core.telegram.org/bots/api): requests to
``/bot<token>/<method>`` with parameters as query string, urlencoded or multipart form, or
JSON; answers ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N,
"description": "...", "parameters": {...}}``; files at ``/file/bot<token>/<file_path>``.

Methods: getMe, getUpdates (long polling with offset, limit, timeout; 409 while a webhook
is set, and 409 to a waiting getUpdates overtaken by another one, as Telegram does; the latter
counted in ``poll_conflicts``), setWebhook, deleteWebhook, getWebhookInfo, setMyCommands,
getMyCommands, sendMessage (inline keyboards validated: callback_data 1-64 bytes), editMessageText,
answerCallbackQuery, sendChatAction, sendPhoto, sendDocument (uploaded files kept: their
bytes come back with ``file_content``), getFile.

Tests inject updates as a user would produce them (``send_text``, ``press_button``,
``send_photo``, ...), make the next calls fail (``fail_next``: 429 with retry_after, 5xx),
block a chat (403 "Forbidden: bot was blocked by the user"), and inspect what the bot did
(``calls``, ``wait_for``, ``chat_messages``). With a webhook set, updates are POSTed to it
with the X-Telegram-Bot-Api-Secret-Token header, as Telegram does.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import itertools
import json
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JSON_FIELDS = {
    "reply_markup",
    "commands",
    "allowed_updates",
    "scope",
    "entities",
    "caption_entities",
    "link_preview_options",
    "reply_parameters",
}
INT_FIELDS = {"message_id", "offset", "limit", "timeout", "max_connections"}
TEXT_LIMIT = 4096
WEBHOOK_ATTEMPTS = 5
CAPTION_LIMIT = 1024
DOCUMENT_LIMIT = 50 * 1024 * 1024  # sendDocument: "files of any type of up to 50 MB"
USER = {"id": 555001, "is_bot": False, "first_name": "Anna", "language_code": "it"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    status: int = 200
    result: Any = None


@dataclass
class _Failure:
    status: int
    description: str
    parameters: dict[str, Any] | None = None


@dataclass
class _State:
    updates: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    failures: dict[str, list[_Failure | None]] = field(default_factory=dict)  # None: succeed
    blocked: set[int] = field(default_factory=set)
    commands: list[dict[str, Any]] = field(default_factory=list)
    webhook: dict[str, Any] | None = None
    webhook_responses: list[int] = field(default_factory=list)
    confirmed_offset: int = 0


class TelegramError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


class FakeTelegram:
    def __init__(
        self,
        token: str = "123456:TEST-token_abc",
        bot_id: int = 123456,
        username: str = "WelcomeTestBot",
    ) -> None:
        self.token = token
        self.bot = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "WEL.CO.ME",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.state = _State()
        self._cond = threading.Condition()
        # like Telegram's, update ids do not start from 1 (and differ between fakes)
        self._update_ids = itertools.count(random.randint(10_000_000, 900_000_000))
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        # callback query ids are unique strings across all of Telegram: random here too
        self._query_ids = itertools.count(random.randint(10**15, 9 * 10**17))
        self._closing = False
        self.poll_count = 0
        # a getUpdates that starts while another waits ends the waiting one with 409, as
        # Telegram does ("terminated by other getUpdates request"); counted here
        self.poll_conflicts = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeTelegram:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """For PTB's base_url / TELEGRAM_API_BASE_URL (the token is appended)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # --- what a user does ------------------------------------------------------------------

    def _chat(self, chat_id: int) -> dict[str, Any]:
        if chat_id < 0:
            return {"id": chat_id, "type": "group", "title": "Gruppo di quartiere"}
        return {"id": chat_id, "type": "private", "first_name": "Anna"}

    def _user(self, chat_id: int) -> dict[str, Any]:
        return {**USER, "id": chat_id if chat_id > 0 else USER["id"]}

    def _message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "from": self._user(chat_id),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            **content,
        }

    def add_update(self, update: dict[str, Any]) -> int:
        """Queue an update (``update_id`` is assigned); with a webhook set, POST it there."""
        with self._cond:
            update = {"update_id": next(self._update_ids), **update}
            self.state.updates.append(update)
            self.state.history.append(update)
            self._cond.notify_all()
            webhook = dict(self.state.webhook) if self.state.webhook else None
        if webhook is not None:
            self._post_to_webhook(update, webhook)
        return int(update["update_id"])

    def redeliver(self, update_id: int) -> None:
        """Deliver an update again (Telegram does when it got no 200, or after a restart)."""
        with self._cond:
            original = next(u for u in self.state.history if u["update_id"] == update_id)
            self.state.updates.append(dict(original))
            self._cond.notify_all()
            webhook = dict(self.state.webhook) if self.state.webhook else None
        if webhook is not None:
            self._post_to_webhook(original, webhook)

    def send_text(self, chat_id: int, text: str) -> int:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            length = len(text.split()[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self.add_update({"message": self._message(chat_id, **content)})

    def press_button(self, chat_id: int, message_id: int, data: str) -> int:
        message = self.state.messages.get((chat_id, message_id)) or {
            **self._message(chat_id, text="..."),
            "message_id": message_id,
        }
        query = {
            "id": str(next(self._query_ids)),
            "from": self._user(chat_id),
            "message": message,
            "chat_instance": f"ci-{chat_id}",
            "data": data,
        }
        return self.add_update({"callback_query": query})

    def press(self, chat_id: int, title: str) -> int:
        """Tap the button titled ``title`` on the newest bot message showing it."""
        for (chat, message_id), message in sorted(self.state.messages.items(), reverse=True):
            if chat != chat_id:
                continue
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button.get("text") == title:
                        return self.press_button(chat_id, message_id, button["callback_data"])
        raise AssertionError(f"no button {title!r} in chat {chat_id}")

    def send_location(self, chat_id: int, latitude: float, longitude: float) -> int:
        location = {"latitude": latitude, "longitude": longitude}
        return self.add_update({"message": self._message(chat_id, location=location)})

    def _add_file(self, content: bytes, path: str) -> str:
        file_id = f"AgAD{next(self._file_ids):06d}"
        self.state.files[file_id] = (content, path)
        return file_id

    def send_photo(self, chat_id: int, content: bytes, caption: str | None = None) -> int:
        file_id = self._add_file(content, f"photos/file_{len(self.state.files)}.jpg")
        small = self._add_file(content[:100], f"photos/thumb_{len(self.state.files)}.jpg")
        sizes = [
            {
                "file_id": small,
                "file_unique_id": small + "u",
                "width": 90,
                "height": 90,
                "file_size": min(100, len(content)),
            },
            {
                "file_id": file_id,
                "file_unique_id": file_id + "u",
                "width": 1280,
                "height": 960,
                "file_size": len(content),
            },
        ]
        content_fields: dict[str, Any] = {"photo": sizes}
        if caption:
            content_fields["caption"] = caption
        return self.add_update({"message": self._message(chat_id, **content_fields)})

    def send_document(
        self,
        chat_id: int,
        content: bytes,
        mime_type: str,
        file_name: str,
        caption: str | None = None,
    ) -> int:
        file_id = self._add_file(content, f"documents/{file_name}")
        document = {
            "file_id": file_id,
            "file_unique_id": file_id + "u",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(content),
        }
        fields: dict[str, Any] = {"document": document}
        if caption:
            fields["caption"] = caption
        return self.add_update({"message": self._message(chat_id, **fields)})

    def send_voice(self, chat_id: int) -> int:
        file_id = self._add_file(b"OggS" + b"\0" * 200, "voice/file.oga")
        voice = {
            "file_id": file_id,
            "file_unique_id": file_id + "u",
            "duration": 3,
            "mime_type": "audio/ogg",
            "file_size": 204,
        }
        return self.add_update({"message": self._message(chat_id, voice=voice)})

    def send_sticker(self, chat_id: int) -> int:
        sticker = {
            "file_id": "CAACsticker",
            "file_unique_id": "stick1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return self.add_update({"message": self._message(chat_id, sticker=sticker)})

    def edit_text(self, chat_id: int, text: str) -> int:
        message = self._message(chat_id, text=text, edit_date=int(time.time()))
        return self.add_update({"edited_message": message})

    def channel_post(self, channel_id: int, text: str) -> int:
        post = {
            "message_id": next(self._message_ids),
            "sender_chat": {"id": channel_id, "type": "channel", "title": "Notizie"},
            "chat": {"id": channel_id, "type": "channel", "title": "Notizie"},
            "date": int(time.time()),
            "text": text,
        }
        return self.add_update({"channel_post": post})

    # --- what tests arrange ---------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        error_code: int = 429,
        retry_after: int = 1,
        times: int = 1,
        description: str | None = None,
        after: int = 0,
    ) -> None:
        """The next ``times`` calls of ``method`` fail (429 carries parameters.retry_after);
        with ``after``, only once that many calls of ``method`` have succeeded."""
        if error_code == 429:
            failure = _Failure(
                429,
                description or f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        else:
            failure = _Failure(error_code, description or "Internal Server Error")
        with self._cond:
            queued = self.state.failures.setdefault(method, [])
            queued.extend([None] * after + [failure] * times)

    def block(self, chat_id: int) -> None:
        self.state.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self.state.blocked.discard(chat_id)

    # --- what tests inspect ---------------------------------------------------------------

    def calls(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        with self._cond:
            found = list(self.state.calls)
        return [
            c
            for c in found
            if (method is None or c.method == method)
            and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def wait_for(
        self, predicate: Callable[[Call], bool], *, timeout: float = 10.0, what: str = "call"
    ) -> Call:
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for call in self.state.calls[seen:]:
                    if predicate(call):
                        return call
                seen = len(self.state.calls)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"timed out waiting for {what}; calls: "
                        f"{[(c.method, c.status) for c in self.state.calls][-15:]}"
                    )
                self._cond.wait(remaining)

    def wait_sent(
        self, chat_id: int, contains: str = "", *, timeout: float = 10.0, after: int = 0
    ) -> Call:
        """The first successful sendMessage/editMessageText/sendPhoto to ``chat_id`` (after the
        first ``after`` calls) whose text contains ``contains``."""

        def match(call: Call) -> bool:
            return (
                call.status == 200
                and call.method in ("sendMessage", "editMessageText", "sendPhoto")
                and call.params.get("chat_id") == chat_id
                and contains in str(call.params.get("text") or call.params.get("caption") or "")
                and self.state.calls.index(call) >= after
            )

        return self.wait_for(match, timeout=timeout, what=f"a message containing {contains!r}")

    def chat_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages in a chat, as they look now (after edits), oldest first."""
        with self._cond:
            return [m for (c, _), m in sorted(self.state.messages.items()) if c == chat_id]

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        with self._cond:
            return list(self.state.updates)

    # --- the protocol -----------------------------------------------------------------------

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        call = Call(method, params, time.monotonic())
        try:
            with self._cond:
                failures = self.state.failures.get(method)
                failure = failures.pop(0) if failures else None
                if failure is not None:
                    raise TelegramError(failure.status, failure.description, failure.parameters)
            handler = getattr(self, f"_m_{method.lower()}", None)
            if handler is None:
                raise TelegramError(404, "Not Found")
            result = handler(params)
            body: dict[str, Any] = {"ok": True, "result": result}
            call.result = result
        except TelegramError as exc:
            call.status = exc.status
            body = {"ok": False, "error_code": exc.status, "description": exc.description}
            if exc.parameters:
                body["parameters"] = exc.parameters
        if method != "getUpdates" or call.status != 200 or call.result:
            with self._cond:
                self.state.calls.append(call)
                self._cond.notify_all()
        return call.status, body

    def _m_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot

    def _m_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0, int(params.get("timeout") or 0))
        deadline = time.monotonic() + timeout
        with self._cond:
            self.poll_count += 1
            generation = self.poll_count
            self._cond.notify_all()  # a waiting getUpdates sees it was overtaken
            if self.state.webhook is not None:
                raise TelegramError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            while True:
                if offset:
                    self.state.confirmed_offset = max(self.state.confirmed_offset, offset)
                    self.state.updates = [u for u in self.state.updates if u["update_id"] >= offset]
                if self.poll_count != generation:
                    self.poll_conflicts += 1
                    raise TelegramError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only "
                        "one bot instance is running",
                    )
                ready = self.state.updates[:limit]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0 or self._closing:
                    return [dict(u) for u in ready]
                self._cond.wait(min(remaining, 0.5))

    def _m_setwebhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        if not url:
            self.state.webhook = None
            return True
        secret = params.get("secret_token")
        if secret is not None and not (1 <= len(str(secret)) <= 256):
            raise TelegramError(400, "Bad Request: secret token is invalid")
        self.state.webhook = {"url": url, "secret_token": secret}
        return True

    def _m_deletewebhook(self, params: dict[str, Any]) -> bool:
        self.state.webhook = None
        if str(params.get("drop_pending_updates", "")).lower() == "true":
            self.state.updates.clear()
        return True

    def _m_getwebhookinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        webhook = self.state.webhook or {}
        return {
            "url": webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.state.updates),
        }

    def _m_setmycommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands") or []
        for command in commands:
            name = command.get("command", "")
            if (
                not (1 <= len(name) <= 32)
                or not name.replace("_", "").isalnum()
                or name != name.lower()
            ):
                raise TelegramError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not (1 <= len(command.get("description", "")) <= 256):
                raise TelegramError(400, "Bad Request: command description is empty")
        self.state.commands = commands
        return True

    def _m_getmycommands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.state.commands

    def _chat_id(self, params: dict[str, Any]) -> int:
        try:
            chat_id = int(params["chat_id"])
        except (KeyError, TypeError, ValueError):
            raise TelegramError(400, "Bad Request: chat not found") from None
        if chat_id in self.state.blocked:
            raise TelegramError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    @staticmethod
    def _check_markup(markup: Any) -> None:
        if not markup:
            return
        if not isinstance(markup, dict):
            raise TelegramError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if not button.get("text"):
                    raise TelegramError(
                        400, "Bad Request: text buttons are unallowed in the inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not (1 <= len(str(data).encode("utf-8")) <= 64):
                    raise TelegramError(400, "Bad Request: BUTTON_DATA_INVALID")

    def _store_bot_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        message = {
            "message_id": next(self._message_ids),
            "from": {k: self.bot[k] for k in ("id", "is_bot", "first_name", "username")},
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            **{k: v for k, v in content.items() if v is not None},
        }
        with self._cond:
            self.state.messages[(chat_id, message["message_id"])] = message
        return message

    def _m_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        text = str(params.get("text") or "")
        if not text.strip():
            raise TelegramError(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > TEXT_LIMIT:
            raise TelegramError(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        self._check_markup(markup)
        inline = markup if isinstance(markup, dict) and "inline_keyboard" in markup else None
        return self._store_bot_message(chat_id, text=text, reply_markup=inline)

    def _m_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        message_id = int(params.get("message_id") or 0)
        text = str(params.get("text") or "")
        with self._cond:
            message = self.state.messages.get((chat_id, message_id))
        if message is None:
            raise TelegramError(400, "Bad Request: message to edit not found")
        if not text.strip():
            raise TelegramError(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > TEXT_LIMIT:
            raise TelegramError(400, "Bad Request: MESSAGE_TOO_LONG")
        markup = params.get("reply_markup")
        self._check_markup(markup)
        if message.get("text") == text and message.get("reply_markup") == markup:
            raise TelegramError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        with self._cond:
            message["text"] = text
            message["edit_date"] = int(time.time())
            if markup:
                message["reply_markup"] = markup
            else:
                message.pop("reply_markup", None)
        return message

    def _m_answercallbackquery(self, params: dict[str, Any]) -> bool:
        if not params.get("callback_query_id"):
            raise TelegramError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        return True

    def _m_sendchataction(self, params: dict[str, Any]) -> bool:
        self._chat_id(params)
        if params.get("action") not in (
            "typing",
            "upload_photo",
            "upload_document",
            "find_location",
        ):
            raise TelegramError(400, "Bad Request: wrong parameter action in request")
        return True

    def _m_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        photo = params.get("photo")
        if not photo:
            raise TelegramError(400, "Bad Request: there is no photo in the request")
        caption, markup = self._caption_and_markup(params)
        sizes = [{"file_id": "AgADsent", "file_unique_id": "sent1", "width": 800, "height": 600}]
        return self._store_bot_message(
            chat_id,
            photo=sizes,
            caption=caption,
            reply_markup=markup or None,
            photo_source=str(photo),
        )

    def _caption_and_markup(self, params: dict[str, Any]) -> tuple[Any, Any]:
        caption = params.get("caption")
        if caption and len(str(caption)) > CAPTION_LIMIT:
            raise TelegramError(400, "Bad Request: message caption is too long")
        markup = params.get("reply_markup")
        self._check_markup(markup)
        return caption, markup

    def _m_senddocument(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        document = params.get("document")
        if not document:
            raise TelegramError(400, "Bad Request: there is no document in the request")
        caption, markup = self._caption_and_markup(params)
        if isinstance(document, dict):  # uploaded (multipart/form-data)
            content = document.get("content") or b""
            if len(content) > DOCUMENT_LIMIT:
                raise TelegramError(413, "Request Entity Too Large")
            file_id = self._add_file(content, f"documents/sent_{len(self.state.files)}")
            sent = {
                "file_id": file_id,
                "file_unique_id": file_id + "u",
                "file_name": document.get("filename") or "",
                "file_size": len(content),
            }
        else:  # a file_id or a URL
            sent = {"file_id": str(document), "file_unique_id": str(document) + "u"}
        return self._store_bot_message(
            chat_id, document=sent, caption=caption, reply_markup=markup or None
        )

    def _m_getfile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params.get("file_id") or "")
        stored = self.state.files.get(file_id)
        if stored is None:
            raise TelegramError(400, "Bad Request: invalid file_id")
        content, path = stored
        if len(content) > 20 * 1024 * 1024:
            raise TelegramError(400, "Bad Request: file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": file_id + "u",
            "file_size": len(content),
            "file_path": path,
        }

    def file_content(self, path: str) -> bytes | None:
        for content, file_path in self.state.files.values():
            if file_path == path:
                return content
        return None

    def _post_to_webhook(self, update: dict[str, Any], webhook: dict[str, Any]) -> None:
        """Deliver like Telegram: in order, and again (a few times here) until a 2xx."""
        for attempt in range(WEBHOOK_ATTEMPTS):
            if self._post_once(update, webhook) == 200 or self._closing:
                return
            time.sleep(0.2 * (attempt + 1))

    def _post_once(self, update: dict[str, Any], webhook: dict[str, Any]) -> int:
        request = urllib.request.Request(
            webhook["url"],
            data=json.dumps(update).encode("utf-8"),
            headers={
                "Content-Type": "application/json",
                **(
                    {"X-Telegram-Bot-Api-Secret-Token": webhook["secret_token"]}
                    if webhook.get("secret_token")
                    else {}
                ),
            },
            method="POST",
        )
        status = 0
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            status = 0
        with self._cond:
            self.state.webhook_responses.append(status)
            if status == 200:
                self.state.updates = [
                    u for u in self.state.updates if u["update_id"] != update["update_id"]
                ]
            self._cond.notify_all()
        return status


class _Handler(BaseHTTPRequestHandler):
    owner: FakeTelegram
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once, as real servers do

    def log_message(self, format: str, *args: Any) -> None:  # silence
        return

    def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _route(self) -> tuple[str, str] | None:
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        prefix = f"/bot{self.owner.token}/"
        file_prefix = f"/file/bot{self.owner.token}/"
        if path.startswith(prefix):
            return "method", path[len(prefix) :]
        if path.startswith(file_prefix):
            return "file", path[len(file_prefix) :]
        return None

    def _params(self) -> dict[str, Any]:
        query = urllib.parse.urlsplit(self.path).query
        params: dict[str, Any] = {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type") or ""
        if body and content_type.startswith("application/json"):
            params.update(json.loads(body))
        elif body and content_type.startswith("application/x-www-form-urlencoded"):
            params.update(
                {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode("utf-8")).items()}
            )
        elif body and content_type.startswith("multipart/form-data"):
            message = email.parser.BytesParser(policy=email.policy.default).parsebytes(
                b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
            )
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if part.get_filename():
                    params[name] = {
                        "filename": part.get_filename(),
                        "content": part.get_payload(decode=True),
                    }
                else:
                    params[name] = part.get_content()
        for key in JSON_FIELDS & params.keys():
            if isinstance(params[key], str):
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(params[key])
        for key in INT_FIELDS & params.keys():
            with contextlib.suppress(TypeError, ValueError):
                params[key] = int(params[key])
        if "chat_id" in params:
            with contextlib.suppress(TypeError, ValueError):
                params["chat_id"] = int(params["chat_id"])
        return params

    def do_POST(self) -> None:
        self._dispatch()

    def do_GET(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        route = self._route()
        if route is None:
            self._reply(
                401 if self.path.startswith("/bot") else 404,
                json.dumps(
                    {"ok": False, "error_code": 401, "description": "Unauthorized"}
                ).encode(),
            )
            return
        kind, rest = route
        if kind == "file":
            content = self.owner.file_content(rest)
            if content is None:
                self._reply(
                    404,
                    json.dumps(
                        {"ok": False, "error_code": 404, "description": "Not Found"}
                    ).encode(),
                )
            else:
                self._reply(200, content, "application/octet-stream")
            return
        try:
            params = self._params()
        except (ValueError, UnicodeDecodeError):
            self._reply(
                400,
                json.dumps(
                    {
                        "ok": False,
                        "error_code": 400,
                        "description": "Bad Request: can't parse request",
                    }
                ).encode(),
            )
            return
        status, body = self.owner.handle(rest, params)
        self._reply(status, json.dumps(body).encode("utf-8"))
