"""The Graph API client for WhatsApp: timeouts, retries with backoff, rate limits honoured.

What Graph answered is classified by ``channels.whatsapp.answer`` (the rules shared with the
broadcast worker): rate limits and server or network trouble are retried here a few times,
then raised; every failure is raised as ``channels.outcome.ChannelError``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from channels import whatsapp
from channels.outcome import ChannelError, Result, transport_outcome

log = logging.getLogger(__name__)


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
        last: ChannelError | None = None
        for attempt in range(self.attempts):
            try:
                response = await self._client.request(method, url, **kwargs)
            except httpx.HTTPError as exc:
                last = ChannelError(transport_outcome(exc, "whatsapp"))
                log.warning("graph: %s failed (%s)", method, type(exc).__name__)
            else:
                if response.status_code < 400:
                    return response
                last = ChannelError(whatsapp.answer(response))
                outcome = last.outcome
                if not (outcome.result == Result.rate_limited or outcome.status >= 500):
                    raise last
                log.warning("graph: %s answered %s (%s)", method, outcome.status, last.code)
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

    async def upload_media(self, content: bytes, *, mime_type: str, filename: str) -> str:
        """POST /{phone_number_id}/media (multipart); returns the media id to send."""
        response = await self._request(
            "POST",
            f"{self.base}/{self.phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename, content, mime_type)},
        )
        return str(response.json()["id"])

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
                raise ChannelError(whatsapp.classify(response.status_code, None))
            async for chunk in response.aiter_bytes():
                content.extend(chunk)
                if len(content) > max_bytes:
                    raise MediaTooBig()
        return bytes(content), str(info.get("mime_type") or "")


class MediaTooBig(Exception):
    pass
