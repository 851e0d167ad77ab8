"""The voucher's QR code: a PNG of the redemption page's URL for this voucher
(``<base>/console/voucher?codice=ABCD2345``), served by the gateway at
``/welfare/qr/<qr_token>.png`` (an unguessable token, not the code) while it is unused.

Provider staff scan it with a phone: the console's redemption page opens (after the
login) with the code filled in, and they press «Riscatta» (a GET never redeems).
The chat sends the image's absolute URL as a Rasa ``image`` reply (Telegram fetches it, the
web chat shows it). Both URLs start with the public base: WELFARE_PUBLIC_URL, else the
origin of TELEGRAM_WEBHOOK_URL, else the local gateway (http://127.0.0.1:GATEWAY_PORT).
"""

from __future__ import annotations

import io
from urllib.parse import urlencode, urlsplit

import qrcode

from core.settings import Settings, get_settings

ROUTE_PREFIX = "/welfare/qr"
REDEEM_PATH = "/console/voucher"  # console.welfare: the "Voucher" section (provider_staff)


def public_base_url(settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    configured = settings.welfare_public_url.strip()
    if configured:
        return configured.rstrip("/")
    if settings.telegram_webhook_url:
        parts = urlsplit(settings.telegram_webhook_url)
        return f"{parts.scheme}://{parts.netloc}"
    return f"http://127.0.0.1:{settings.gateway_port}"


def redeem_url(code: str, settings: Settings | None = None) -> str:
    """The page provider staff open to redeem the voucher ``code`` (what the QR encodes)."""
    return f"{public_base_url(settings)}{REDEEM_PATH}?{urlencode({'codice': code})}"


def qr_png(content: str) -> bytes:
    image = qrcode.make(content, box_size=8, border=2)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def voucher_qr_png(code: str, settings: Settings | None = None) -> bytes:
    return qr_png(redeem_url(code, settings))


def qr_url(qr_token: str, settings: Settings | None = None) -> str:
    return f"{public_base_url(settings)}{ROUTE_PREFIX}/{qr_token}.png"
