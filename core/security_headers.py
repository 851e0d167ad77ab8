"""Security headers of the gateway's public pages (the web chat, its API, the voucher QR).

The web chat shares its origin with the staff console: a page of ours framed by another site
(clickjacking) or a script injected into it would act with the console's cookies. Every
response outside the console (which sends its own, console/app.py) gets a strict CSP with
``frame-ancestors 'none'``, X-Frame-Options DENY, nosniff and no referrer; the chat's own
files (/static/webchat) satisfy it (no inline script or style).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PUBLIC_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


class SecurityHeaders:
    """Adds security headers to every HTTP response (those a route set itself win), except
    under ``skip_prefixes``. The console uses it with its own CSP (console/app.py)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        csp: str = PUBLIC_CSP,
        referrer: str = "no-referrer",
        permissions: str = "camera=(), microphone=(), geolocation=(self)",
        skip_prefixes: tuple[str, ...] = (),
        https: bool = False,
    ) -> None:
        self.app = app
        self.skip_prefixes = skip_prefixes
        self.headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", referrer.encode()),
            (b"permissions-policy", permissions.encode()),
        ]
        if https:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    def _skipped(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self.skip_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._skipped(scope.get("path", "")):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self.headers if n not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


# the gateway's public pages: the defaults above
PublicSecurityHeaders = SecurityHeaders
