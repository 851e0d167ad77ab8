"""A cap on every request body, before any route reads, parses or authenticates it.

ASGI middleware: a declared ``Content-Length`` over the limit is answered 413 at once
(nothing read); a body without one (chunked) is counted while the route reads it and cut at
the limit with 413. Limits are per path prefix (the longest matching prefix wins), else the
default; ``None`` for a route that caps its own body (the web chat's files, refused in the
conversation's language). Install it with ``app.add_middleware`` (inside Starlette's error
middleware).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from starlette.exceptions import HTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOO_LARGE = "Richiesta troppo grande."


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` past the limit: an HTTPException, so that FastAPI's body
    parsing passes it on (it turns other errors into 400) and the app answers 413."""

    def __init__(self, detail: str = TOO_LARGE) -> None:
        super().__init__(status_code=413, detail=detail)


class BodyLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        default: int,
        routes: Sequence[tuple[str, int | None]] = (),
        detail: str = TOO_LARGE,
    ) -> None:
        self.app = app
        self.default = default
        self.routes = sorted(routes, key=lambda item: len(item[0]), reverse=True)
        self.detail = detail

    def limit_for(self, path: str) -> int | None:
        for prefix, limit in self.routes:
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return limit
        return self.default

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": self.detail}, ensure_ascii=False).encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        if limit is None:  # the route reads its body under its own cap
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = limit + 1
                if declared > limit:
                    await self._refuse(send)
                    return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(self.detail)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(send)
