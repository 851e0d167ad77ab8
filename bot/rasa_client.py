"""The gateway's only way to Rasa: the REST channel, under the opaque conversation id."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from nlu.internal_auth import bearer

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa (or the action server behind it) cannot answer now; retry later."""


class RasaClient:
    def __init__(
        self,
        *,
        rasa_url: str,
        token: str = "",
        action_server_url: str = "",
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.token = token
        # the action server's base URL (Rasa's endpoint setting ends in /webhook)
        self.action_server_url = action_server_url.rstrip("/").removesuffix("/webhook")
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=3.0),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(
        self, *, sender: str, message: str, channel: str, metadata: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Rasa's replies to ``message``; raises RasaUnavailable when it cannot answer.

        The REST channel answers 200 even when a custom action failed because the action
        server was down; an empty answer is therefore checked against the action server.
        """
        # the REST channel's secret (nlu/gateway_channel.py), in a header: never in a URL
        headers = bearer(self.token) if self.token else None
        body = {
            "sender": sender,
            "message": message,
            "input_channel": channel,
            "metadata": metadata,
        }
        try:
            response = await self._client.post(
                f"{self.rasa_url}/webhooks/rest/webhook", json=body, headers=headers
            )
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"rasa:{type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code in (404, 408, 429):
            raise RasaUnavailable(f"rasa:http{response.status_code}")
        if response.status_code >= 400:
            raise RasaUnavailable(f"rasa:http{response.status_code}")
        try:
            replies = response.json()
        except ValueError as exc:
            raise RasaUnavailable("rasa:bad-json") from exc
        if not isinstance(replies, list):
            raise RasaUnavailable("rasa:bad-shape")
        if not replies and not await self.action_server_up():
            raise RasaUnavailable("action-server:down")
        return replies

    async def action_server_up(self) -> bool:
        if not self.action_server_url:
            return True
        try:
            response = await self._client.get(f"{self.action_server_url}/health", timeout=3.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200
