"""Rasa's REST channel, open only to the gateway (runs inside Rasa, Python 3.10).

Rasa's own ``--auth-token`` and JWT guard only the HTTP API, never the channels' webhooks
(RasaHQ/rasa#7489, #2689): the stock ``rest`` channel answers anyone who can reach the port,
under any conversation id, past the gateway's consent gate and limits. This subclass keeps
the same URL (``/webhooks/rest/webhook``) and body and refuses, with 401 and before the message
is handled, every request without ``Authorization: Bearer <RASA_AUTH_TOKEN>`` (the body's size
is capped by SANIC_REQUEST_MAX_SIZE, set by devtools.stack).

credentials.yml::

    nlu.gateway_channel.GatewayRestInput:
      token: ${RASA_AUTH_TOKEN}
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from nlu.internal_auth import HEADER, authorized


class MissingChannelSecret(ValueError):
    """The channel was configured without a secret: Rasa must not start open."""


class GatewayRestInput(RestInput):
    def __init__(self, token: str) -> None:
        if not token:
            raise MissingChannelSecret(
                "nlu.gateway_channel.GatewayRestInput needs `token` (RASA_AUTH_TOKEN)"
            )
        self.token = token

    @classmethod
    def name(cls) -> str:
        return "rest"  # the same URL as Rasa's REST channel

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> GatewayRestInput:
        return cls(str((credentials or {}).get("token") or ""))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.middleware("request")
        async def only_the_gateway(request: Request) -> HTTPResponse | None:
            if authorized(request.headers.get(HEADER), self.token):
                return None
            return response.json({"error": "unauthorized"}, status=401)

        return webhook
