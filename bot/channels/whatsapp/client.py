"""The Graph API client for WhatsApp: timeouts, retries with backoff, rate limits honoured.

Errors come back as ``{"error": {"message", "type", "code", "error_data": {"details"},
"fbtrace_id"}}``; the code decides: rate limits (130429, 131056, 80007, 4) and server or
network trouble are retried here a few times, then reported as temporary; 131047 means the
24-hour customer-service window is closed; the rest is permanent.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

log = logging.getLogger(__name__)

RATE_LIMIT_CODES = {4, 80007, 130429, 131056}
WINDOW_CLOSED_CODE = 131047
AUTH_CODES = {0, 190}


class GraphError(Exception):
    def __init__(self, status: int, code: int | None, retry_after: float = 0.0) -> None:
        super().__init__(f"graph:{status}:{code}")
        self.status = status
        self.code = code
        self.retry_after = retry_after

    @property
    def rate_limited(self) -> bool:
        return self.status == 429 or self.code in RATE_LIMIT_CODES

    @property
    def window_closed(self) -> bool:
        return self.code == WINDOW_CLOSED_CODE

    @property
    def temporary(self) -> bool:
        return (
            self.rate_limited
            or self.status >= 500
            or self.status == 0
            or self.status in (401, 403)
            or self.code in AUTH_CODES
        )


class GraphClient:
    def __init__(
        self,
        *,
        base_url: str,
        version: str,
        phone_number_id: str,
        access_token: str,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff_seconds: float = 0.5,
    ) -> None:
        self.base = f"{base_url.rstrip('/')}/{version}"
        self.phone_number_id = phone_number_id
        self.attempts = attempts
        self.backoff = backoff_seconds
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=5.0),
            headers={"Authorization": f"Bearer {access_token}"},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        last: GraphError | None = None
        for attempt in range(self.attempts):
            try:
                response = await self._client.request(method, url, **kwargs)
            except httpx.HTTPError as exc:
                last = GraphError(0, None)
                log.warning("graph: %s failed (%s)", method, type(exc).__name__)
            else:
                if response.status_code < 400:
                    return response
                last = _error(response)
                if not (last.rate_limited or last.status >= 500):
                    raise last
                log.warning("graph: %s answered %s", method, last)
            if attempt + 1 < self.attempts:
                delay = max(last.retry_after, self.backoff * 2**attempt)
                await asyncio.sleep(delay)
        assert last is not None
        raise last

    async def send(self, message: dict[str, Any]) -> str:
        """POST /{phone_number_id}/messages; returns the wamid of the sent message."""
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", **message}
        response = await self._request(
            "POST", f"{self.base}/{self.phone_number_id}/messages", json=body
        )
        data = response.json()
        return str(data["messages"][0]["id"])

    async def mark_read(self, wamid: str, *, typing: bool = False) -> None:
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": wamid,
        }
        if typing:
            body["typing_indicator"] = {"type": "text"}
        await self._request("POST", f"{self.base}/{self.phone_number_id}/messages", json=body)

    async def media(self, media_id: str, *, max_bytes: int) -> tuple[bytes, str]:
        """Download a citizen's media: (content, declared mime type). Raises MediaTooBig."""
        info = (await self._request("GET", f"{self.base}/{media_id}")).json()
        size = info.get("file_size")
        if isinstance(size, int) and size > max_bytes:
            raise MediaTooBig()
        content = bytearray()
        async with self._client.stream("GET", str(info["url"])) as response:
            if response.status_code >= 400:
                raise GraphError(response.status_code, None)
            async for chunk in response.aiter_bytes():
                content.extend(chunk)
                if len(content) > max_bytes:
                    raise MediaTooBig()
        return bytes(content), str(info.get("mime_type") or "")


class MediaTooBig(Exception):
    pass


def _error(response: httpx.Response) -> GraphError:
    code: int | None = None
    try:
        error = response.json().get("error") or {}
        code = int(error.get("code")) if error.get("code") is not None else None
    except (ValueError, AttributeError, TypeError):
        code = None
    retry_after = 0.0
    header = response.headers.get("Retry-After")
    if header:
        try:
            retry_after = float(header)
        except ValueError:
            retry_after = 0.0
    return GraphError(response.status_code, code, retry_after)
