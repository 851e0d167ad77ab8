"""``python -m bot``: the gateway (web chat, Telegram, WhatsApp) on GATEWAY_HOST:GATEWAY_PORT."""

from __future__ import annotations

import logging
import sys

import uvicorn

from bot.app import create_app
from catalog.db import get_engine
from welcome.migrate import upgrade
from welcome.settings import get_settings


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("httpx", "httpcore", "telegram.ext.AIORateLimiter"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = get_settings()
    upgrade(get_engine())  # idempotent: the schema is current before anything is accepted
    channels = ["web chat"]
    if settings.telegram_bot_token.get_secret_value():
        channels.append("Telegram")
    if settings.whatsapp_access_token.get_secret_value():
        channels.append("WhatsApp")
    url = f"http://{settings.gateway_host}:{settings.gateway_port}/"
    print(f"WEL.CO.ME gateway: {', '.join(channels)}. Web chat: {url}", flush=True)
    uvicorn.run(
        create_app(settings, engine=get_engine()),
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_level="info",
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
