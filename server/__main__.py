"""``python -m server``: the gateway (web chat, Telegram, WhatsApp) on GATEWAY_HOST:GATEWAY_PORT.

``python -m server purge [--months N]``: the retention purge once (privacy.retention), for cron
when RETENTION_PURGE_INTERVAL_HOURS is 0; prints the counts.
"""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn

from core.db import get_engine
from core.logs import configure_logging
from core.migrate import upgrade
from core.private_files import restrict_umask, secure_tree
from core.settings import get_settings
from core.timeutil import utcnow
from privacy.retention import purge_with_settings
from server.app import create_app


def purge_command(months: int | None) -> int:
    logging.basicConfig(level=logging.WARNING)
    settings = get_settings()
    if months is not None:
        settings = settings.model_copy(update={"retention_months": months})
    upgrade(get_engine())
    report = purge_with_settings(settings, get_engine(), utcnow())
    print(report.describe(), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    purge = commands.add_parser("purge", help="delete what is older than RETENTION_MONTHS")
    purge.add_argument("--months", type=int, default=None, help="override RETENTION_MONTHS")
    args = parser.parse_args(argv)
    if args.command == "purge":
        if args.months is not None and args.months < 1:
            parser.error("--months must be at least 1")
        return purge_command(args.months)
    return serve()


def serve() -> int:
    configure_logging(logging.INFO)  # httpx quiet, tokens masked (core.logs)
    restrict_umask()  # databases, uploads, logs of this process: owner-only
    settings = get_settings()
    secure_tree(settings.var_dir)  # what an older run left readable by other local users
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
        # uvicorn would believe X-Forwarded-For from 127.0.0.1 (any local user): the client's
        # address comes from TRUSTED_PROXIES only (core.net)
        proxy_headers=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
