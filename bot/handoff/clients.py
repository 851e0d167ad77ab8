"""The hand-off's two small HTTP clients: Rasa's tracker API and the staff Telegram group.

Neither logs a message's content or a chat id; both return False (never raise) when the
other side cannot be reached: the service retries from its reconcile loop.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

log = logging.getLogger(__name__)


class RasaTracker:
    """Rasa's HTTP API (``rasa run --enable-api``): pause/resume a conversation, read its slots.

    POST /conversations/{id}/tracker/events {"event": "pause"|"resume"};
    GET  /conversations/{id}/tracker (slots collected by the bot).
    """

    def __init__(
        self,
        *,
        rasa_url: str,
        token: str = "",
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.token = token
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=2.0), transport=transport
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    def _params(self, **extra: str) -> dict[str, str]:
        return {**({"token": self.token} if self.token else {}), **extra}

    def _url(self, conversation_id: str, tail: str) -> str:
        return f"{self.rasa_url}/conversations/{quote(conversation_id, safe='')}/{tail}"

    async def append_event(self, conversation_id: str, event: str) -> bool:
        try:
            response = await self._client.post(
                self._url(conversation_id, "tracker/events"),
                params=self._params(include_events="NONE"),
                json={"event": event},
            )
        except httpx.HTTPError as exc:
            log.warning(
                "rasa: %s of conversation %s failed (%s)",
                event,
                conversation_id,
                type(exc).__name__,
            )
            return False
        if response.status_code >= 300:
            log.warning(
                "rasa: %s of conversation %s refused (HTTP %s)",
                event,
                conversation_id,
                response.status_code,
            )
            return False
        return True

    async def pause(self, conversation_id: str) -> bool:
        return await self.append_event(conversation_id, "pause")

    async def resume(self, conversation_id: str) -> bool:
        return await self.append_event(conversation_id, "resume")

    async def slots(self, conversation_id: str) -> dict[str, Any] | None:
        """The tracker's slots (None when Rasa cannot say)."""
        try:
            response = await self._client.get(
                self._url(conversation_id, "tracker"),
                params=self._params(include_events="NONE"),
            )
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        try:
            slots = response.json().get("slots")
        except ValueError:
            return None
        return slots if isinstance(slots, dict) else None


class StaffTelegram:
    """Posts a short notice (never a citizen's words) to the staff's Telegram group."""

    def __init__(
        self,
        *,
        api_base_url: str,
        token: str,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.api_base_url = api_base_url
        self.token = token
        self._client = httpx.AsyncClient(timeout=timeout, transport=transport)

    @property
    def configured(self) -> bool:
        return bool(self.token and self.api_base_url)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, chat_id: str, text: str) -> bool:
        if not self.configured or not chat_id:
            return False
        try:
            response = await self._client.post(
                f"{self.api_base_url}{self.token}/sendMessage",
                json={"chat_id": chat_id, "text": text, "disable_notification": False},
            )
        except httpx.HTTPError as exc:
            log.warning("staff telegram group: not notified (%s)", type(exc).__name__)
            return False
        if response.status_code != 200:
            log.warning("staff telegram group: not notified (HTTP %s)", response.status_code)
            return False
        return True
