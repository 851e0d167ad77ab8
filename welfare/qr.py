"""The voucher's QR image: a PNG of ``WELCOME-VOUCHER:<code>``, served by the gateway at
``/welfare/qr/<qr_token>.png`` (an unguessable token, not the code) while it is unused.

The chat sends the absolute URL as a Rasa ``image`` reply (Telegram fetches it, the web chat
shows it): the base is WELFARE_PUBLIC_URL, else the origin of TELEGRAM_WEBHOOK_URL, else
the local gateway (http://127.0.0.1:GATEWAY_PORT).
"""

from __future__ import annotations

import io
import os
from urllib.parse import urlsplit

import qrcode

from welcome.settings import Settings, get_settings

QR_PREFIX = "WELCOME-VOUCHER:"
ROUTE_PREFIX = "/welfare/qr"


def qr_png(code: str) -> bytes:
    image = qrcode.make(f"{QR_PREFIX}{code}", box_size=8, border=2)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def public_base_url(settings: Settings | None = None) -> str:
    configured = os.environ.get("WELFARE_PUBLIC_URL", "").strip()
    if configured:
        return configured.rstrip("/")
    settings = settings or get_settings()
    if settings.telegram_webhook_url:
        parts = urlsplit(settings.telegram_webhook_url)
        return f"{parts.scheme}://{parts.netloc}"
    return f"http://127.0.0.1:{settings.gateway_port}"


def qr_url(qr_token: str, settings: Settings | None = None) -> str:
    return f"{public_base_url(settings)}{ROUTE_PREFIX}/{qr_token}.png"
