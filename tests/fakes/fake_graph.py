"""A faithful fake of the WhatsApp Cloud API (Graph API): a real HTTP server on 127.0.0.1.

Outgoing: ``POST /{version}/{phone_number_id}/messages`` with a Bearer token, validated as
the Cloud API does (text body <= 4096; reply buttons 1-3, title <= 20, id <= 256; lists
<= 10 rows, row title <= 24, description <= 72; interactive body <= 1024), answering
``{"messaging_product": "whatsapp", "contacts": [{"input", "wa_id"}], "messages":
[{"id": "wamid..."}]}``. Errors have the Graph shape ``{"error": {"message", "type",
"code", "error_data": {"messaging_product", "details"}, "fbtrace_id"}}``: 131047 outside
the 24-hour window, 130429 rate limit (HTTP 429 here), 190 bad token.
Media: ``GET /{version}/{media_id}`` -> ``{"url", "mime_type", "sha256", "file_size",
"id", "messaging_product"}`` and the download URL (Bearer token required). Upload: ``POST
/{version}/{phone_number_id}/media`` (multipart/form-data: ``messaging_product=whatsapp``,
``type`` = MIME type, ``file``) -> ``{"id": "<media id>"}``; images JPEG or PNG up to 5 MB,
documents PDF or plain text up to 100 MB (else 400, code 131053 "Media upload error");
``uploads`` records each one. An ``image`` or ``document`` message needs the ``id`` of
uploaded media (else 400, 131053) or a ``link``; its caption at most 1024 characters.

Incoming: ``deliver_text``, ``deliver_button_reply``, ``deliver_location``,
``deliver_image``... POST signed webhook notifications to the gateway, as Meta does.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ACCESS_TOKEN = "EAAG-test-access-token"
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
PHONE_NUMBER_ID = "106540352242922"
VERSION = "v21.0"
WINDOW_SECONDS = 24 * 3600
IMAGE_TYPES = ("image/jpeg", "image/png")
IMAGE_MAX_BYTES = 5 * 1024 * 1024
# documents: among others PDF and plain text, up to 100 MB (no application/json)
DOCUMENT_TYPES = ("application/pdf", "text/plain")
DOCUMENT_MAX_BYTES = 100 * 1024 * 1024
WINDOW_DETAILS = (
    "Message failed to send because more than 24 hours have passed since the customer last "
    "replied to this number."
)


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    """The X-Hub-Signature-256 header Meta sends with a webhook body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Sent:
    body: dict[str, Any]
    status: int
    wamid: str | None
    at: float = field(default_factory=time.monotonic)


class GraphError(Exception):
    def __init__(self, http_status: int, code: int, message: str, details: str = "") -> None:
        super().__init__(message)
        self.http_status = http_status
        self.payload = {
            "error": {
                "message": message,
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": details or message},
                "fbtrace_id": "AbCdEf123",
            }
        }


class FakeGraph:
    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.webhook_url = ""
        self.webhook_responses: list[int] = []
        self.last_user_message: dict[str, float] = {}  # wa_id -> time (the 24-hour window)
        self.media: dict[str, tuple[bytes, str]] = {}
        self.uploads: list[tuple[str, str, int]] = []  # (media id, MIME type, size)
        self.upload_failures: list[GraphError] = []
        self.failures: list[GraphError] = []
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeGraph:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeGraph:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # --- what tests arrange ----------------------------------------------------------------

    def fail_next_rate_limit(self, times: int = 1) -> None:
        error = GraphError(
            429,
            130429,
            "(#130429) Rate limit hit",
            "Message failed to send because there were too many messages sent "
            "from this phone number in a short period of time",
        )
        self.failures.extend([error] * times)

    def close_window(self, wa_id: str) -> None:
        """Pretend the citizen's last message is older than 24 hours."""
        self.last_user_message[wa_id] = time.time() - WINDOW_SECONDS - 60

    # --- incoming: what a citizen does --------------------------------------------------------

    def _notify(self, value: dict[str, Any], secret: str = APP_SECRET) -> int:
        payload = {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "102290129340398",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "15550783881",
                                    "phone_number_id": PHONE_NUMBER_ID,
                                },
                                **value,
                            },
                        }
                    ],
                }
            ],
        }
        return self.post_webhook(json.dumps(payload).encode("utf-8"), sign_with=secret)

    def post_webhook(self, body: bytes, *, sign_with: str | None = APP_SECRET) -> int:
        headers = {"Content-Type": "application/json"}
        if sign_with is not None:
            headers["X-Hub-Signature-256"] = sign(body, sign_with)
        request = urllib.request.Request(
            self.webhook_url, data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        self.webhook_responses.append(status)
        return status

    def _incoming(
        self, wa_id: str, message: dict[str, Any], wamid: str | None = None
    ) -> tuple[int, str]:
        wamid = wamid or f"wamid.IN{next(self._ids):08d}"
        self.last_user_message[wa_id] = time.time()
        value = {
            "contacts": [{"profile": {"name": "Anna"}, "wa_id": wa_id}],
            "messages": [
                {"from": wa_id, "id": wamid, "timestamp": str(int(time.time())), **message}
            ],
        }
        return self._notify(value), wamid

    def deliver_text(self, wa_id: str, text: str, wamid: str | None = None) -> tuple[int, str]:
        return self._incoming(wa_id, {"type": "text", "text": {"body": text}}, wamid)

    def deliver_button_reply(self, wa_id: str, button_id: str, title: str) -> tuple[int, str]:
        interactive = {"type": "button_reply", "button_reply": {"id": button_id, "title": title}}
        return self._incoming(wa_id, {"type": "interactive", "interactive": interactive})

    def deliver_list_reply(self, wa_id: str, row_id: str, title: str) -> tuple[int, str]:
        interactive = {"type": "list_reply", "list_reply": {"id": row_id, "title": title}}
        return self._incoming(wa_id, {"type": "interactive", "interactive": interactive})

    def deliver_location(self, wa_id: str, latitude: float, longitude: float) -> tuple[int, str]:
        location = {"latitude": latitude, "longitude": longitude}
        return self._incoming(wa_id, {"type": "location", "location": location})

    def deliver_image(
        self, wa_id: str, content: bytes, mime_type: str = "image/jpeg", caption: str | None = None
    ) -> tuple[int, str]:
        media_id = f"{next(self._ids):015d}"
        self.media[media_id] = (content, mime_type)
        image: dict[str, Any] = {
            "id": media_id,
            "mime_type": mime_type,
            "sha256": hashlib.sha256(content).hexdigest(),
        }
        if caption:
            image["caption"] = caption
        return self._incoming(wa_id, {"type": "image", "image": image})

    def deliver_audio(self, wa_id: str) -> tuple[int, str]:
        return self._incoming(
            wa_id,
            {"type": "audio", "audio": {"id": "999", "mime_type": "audio/ogg", "voice": True}},
        )

    def deliver_status(
        self, wamid: str, status: str, recipient: str, error_code: int | None = None
    ) -> int:
        item: dict[str, Any] = {
            "id": wamid,
            "status": status,
            "timestamp": str(int(time.time())),
            "recipient_id": recipient,
        }
        if error_code is not None:
            item["errors"] = [
                {
                    "code": error_code,
                    "title": "Re-engagement message",
                    "message": "Re-engagement message",
                    "error_data": {"details": WINDOW_DETAILS},
                }
            ]
        return self._notify({"statuses": [item]})

    # --- what tests inspect ------------------------------------------------------------------

    def messages_to(self, wa_id: str) -> list[dict[str, Any]]:
        with self._cond:
            return [s.body for s in self.sent if s.status == 200 and s.body.get("to") == wa_id]

    def wait_for(
        self, predicate: Callable[[Sent], bool], timeout: float = 10.0, what: str = ""
    ) -> Sent:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for sent in self.sent:
                    if predicate(sent):
                        return sent
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"timed out waiting for {what}; sent: {[s.body for s in self.sent][-8:]}"
                    )
                self._cond.wait(remaining)

    def wait_text(self, wa_id: str, contains: str, timeout: float = 10.0) -> Sent:
        def match(sent: Sent) -> bool:
            body = sent.body
            return (
                sent.status == 200 and body.get("to") == wa_id and contains in _visible_text(body)
            )

        return self.wait_for(match, timeout, what=f"a message containing {contains!r}")

    # --- the protocol ------------------------------------------------------------------------

    def handle_upload(
        self, phone_number_id: str, fields: dict[str, str], file: tuple[bytes, str] | None
    ) -> tuple[int, dict[str, Any]]:
        try:
            if phone_number_id != PHONE_NUMBER_ID:
                raise GraphError(400, 100, "(#100) Invalid parameter")
            if self.upload_failures:
                raise self.upload_failures.pop(0)
            if fields.get("messaging_product") != "whatsapp":
                raise _invalid("The parameter messaging_product is required.")
            if file is None:
                raise _invalid("The parameter file is required.")
            content, mime = file
            mime = fields.get("type") or mime
            if mime in DOCUMENT_TYPES and len(content) <= DOCUMENT_MAX_BYTES:
                pass
            elif mime not in IMAGE_TYPES or len(content) > IMAGE_MAX_BYTES:
                raise GraphError(
                    400,
                    131053,
                    "(#131053) Media upload error",
                    f"Unsupported or too large media: {mime}, {len(content)} bytes",
                )
        except GraphError as exc:
            return exc.http_status, exc.payload
        media_id = f"{next(self._ids):015d}"
        with self._cond:
            self.media[media_id] = (content, mime)
            self.uploads.append((media_id, mime, len(content)))
            self._cond.notify_all()
        return 200, {"id": media_id}

    def handle_send(self, phone_number_id: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            if phone_number_id != PHONE_NUMBER_ID:
                raise GraphError(400, 100, "(#100) Invalid parameter")
            if self.failures:
                raise self.failures.pop(0)
            if body.get("status") == "read":
                return 200, {"success": True}
            _validate(body)
            kind = body.get("type")
            media_id = body.get(kind, {}).get("id") if kind in ("image", "document") else None
            if media_id is not None and str(media_id) not in self.media:
                raise GraphError(400, 131053, "(#131053) Media upload error", "Unknown media id")
            to = str(body["to"])
            if body.get("type") != "template":
                last = self.last_user_message.get(to)
                if last is None or time.time() - last > WINDOW_SECONDS:
                    raise GraphError(
                        400,
                        131047,
                        "(#131047) Re-engagement message",
                        "Message failed to send because more than 24 hours have passed "
                        "since the customer last replied to this number.",
                    )
            wamid = f"wamid.OUT{next(self._ids):08d}"
            result: dict[str, Any] = {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": wamid}],
            }
            if body.get("type") == "template":
                result["messages"][0]["message_status"] = "accepted"
            self._record(Sent(body, 200, wamid))
            return 200, result
        except GraphError as exc:
            self._record(Sent(body, exc.http_status, None))
            return exc.http_status, exc.payload

    def _record(self, sent: Sent) -> None:
        with self._cond:
            self.sent.append(sent)
            self._cond.notify_all()


def _visible_text(body: dict[str, Any]) -> str:
    kind = body.get("type")
    if kind == "text":
        return str(body["text"]["body"])
    if kind == "interactive":
        return str(body["interactive"].get("body", {}).get("text", ""))
    if kind == "template":
        return "template:" + str(body["template"]["name"])
    if kind == "image":
        return str(body["image"].get("caption", ""))
    return ""


def _multipart(content_type: str, raw: bytes) -> tuple[dict[str, str], tuple[bytes, str] | None]:
    """The fields and the ``file`` part (content, its Content-Type) of a multipart body."""
    if not content_type.startswith("multipart/form-data"):
        return {}, None
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    fields: dict[str, str] = {}
    file: tuple[bytes, str] | None = None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        content = part.get_payload(decode=True) or b""
        if name == "file":
            file = (content, part.get_content_type())
        elif isinstance(name, str):
            fields[name] = content.decode("utf-8")
    return fields, file


def _invalid(message: str) -> GraphError:
    return GraphError(400, 100, f"(#100) {message}")


def _validate(body: dict[str, Any]) -> None:
    if body.get("messaging_product") != "whatsapp":
        raise _invalid("The parameter messaging_product is required.")
    if not body.get("to"):
        raise _invalid("The parameter to is required.")
    kind = body.get("type")
    if kind == "text":
        text = body.get("text", {}).get("body", "")
        if not text or len(text) > 4096:
            raise _invalid("Param text['body'] must be between 1 and 4096 characters")
    elif kind == "interactive":
        interactive = body.get("interactive", {})
        text = interactive.get("body", {}).get("text", "")
        if not text or len(text) > 1024:
            raise _invalid(
                "Param interactive['body']['text'] must be between 1 and 1024 characters"
            )
        itype = interactive.get("type")
        action = interactive.get("action", {})
        if itype == "button":
            buttons = action.get("buttons", [])
            if not 1 <= len(buttons) <= 3:
                raise _invalid("Param interactive['action']['buttons'] must have 1-3 items")
            for button in buttons:
                reply = button.get("reply", {})
                if not 1 <= len(reply.get("title", "")) <= 20:
                    raise _invalid(
                        "Button title length invalid. Should be between 1 and 20 characters."
                    )
                if not 1 <= len(reply.get("id", "")) <= 256:
                    raise _invalid("Button id length invalid.")
        elif itype == "list":
            if not 1 <= len(action.get("button", "")) <= 20:
                raise _invalid("Param interactive['action']['button'] must be 1-20 characters")
            rows = [r for s in action.get("sections", []) for r in s.get("rows", [])]
            if not 1 <= len(rows) <= 10:
                raise _invalid("Total row count exceed max allowed count: 10")
            for row in rows:
                if not 1 <= len(row.get("title", "")) <= 24:
                    raise _invalid(
                        "Row title length invalid. Should be between 1 and 24 characters."
                    )
                if len(row.get("description", "")) > 72:
                    raise _invalid("Row description length invalid. Max 72 characters.")
        elif itype == "location_request_message":
            if action.get("name") != "send_location":
                raise _invalid("Param interactive['action']['name'] must be send_location")
        else:
            raise _invalid("Param interactive['type'] is invalid")
    elif kind == "image":
        if not body.get("image", {}).get("link") and not body.get("image", {}).get("id"):
            raise _invalid("Param image must have link or id")
        if len(body["image"].get("caption", "")) > 1024:
            raise _invalid("Param image['caption'] must be at most 1024 characters")
    elif kind == "document":
        document = body.get("document", {})
        if not document.get("link") and not document.get("id"):
            raise _invalid("Param document must have link or id")
        if len(document.get("caption", "")) > 1024:
            raise _invalid("Param document['caption'] must be at most 1024 characters")
    elif kind == "template":
        if not body.get("template", {}).get("name"):
            raise _invalid("Param template['name'] is required")
    else:
        raise _invalid(f"Unsupported message type {kind}")


class _Handler(BaseHTTPRequestHandler):
    owner: FakeGraph
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once, as real servers do

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _reply(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {ACCESS_TOKEN}":
            return True
        error = GraphError(401, 190, "Invalid OAuth access token - Cannot parse access token")
        self._reply(401, error.payload)
        return False

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not self._authorised():
            return
        parts = urllib.parse.urlsplit(self.path).path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == VERSION and parts[2] == "media":
            fields, file = _multipart(self.headers.get("Content-Type", ""), raw)
            self._reply(*self.owner.handle_upload(parts[1], fields, file))
            return
        if len(parts) != 3 or parts[0] != VERSION or parts[2] != "messages":
            self._reply(400, GraphError(400, 100, "(#100) Unknown path components").payload)
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._reply(400, GraphError(400, 100, "(#100) Invalid JSON").payload)
            return
        status, answer = self.owner.handle_send(parts[1], body)
        self._reply(status, answer)

    def do_GET(self) -> None:
        if not self._authorised():
            return
        parts = urllib.parse.urlsplit(self.path).path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "media-download":
            stored = self.owner.media.get(parts[1])
            if stored is None:
                self._reply(404, GraphError(404, 100, "(#100) media not found").payload)
            else:
                self._reply(200, stored[0], stored[1])
            return
        if len(parts) == 2 and parts[0] == VERSION and parts[1] in self.owner.media:
            content, mime = self.owner.media[parts[1]]
            self._reply(
                200,
                {
                    "messaging_product": "whatsapp",
                    "url": f"{self.owner.base_url}/media-download/{parts[1]}",
                    "mime_type": mime,
                    "sha256": hashlib.sha256(content).hexdigest(),
                    "file_size": len(content),
                    "id": parts[1],
                },
            )
            return
        self._reply(404, GraphError(404, 100, "(#100) Unsupported get request").payload)
