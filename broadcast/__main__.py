"""``python -m broadcast worker [--until-idle] [--worker-id ID]``: a delivery worker process
(any number may run beside the gateway's own worker, on PostgreSQL or on the SQLite file).
``python -m broadcast report ID [--csv]``: a broadcast's figures, or its CSV.

Settings come from the environment (DATABASE_URL, TELEGRAM_BOT_TOKEN,
TELEGRAM_API_BASE_URL, BROADCAST_*). SIGTERM/SIGINT stop gracefully (requests in flight
finish, unsent claims are released); SIGKILL is survived by the leases.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys

from core.db import get_engine, session_scope
from core.logs import configure_logging
from core.settings import get_settings


async def _work(args: argparse.Namespace) -> int:
    from broadcast.engine import build_worker

    settings = get_settings()
    worker = build_worker(settings, get_engine(), worker_id=args.worker_id)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.request_stop)
    try:
        await worker.run(until_idle=args.until_idle)
    finally:
        await worker.aclose()
    return 0


def _report(args: argparse.Namespace) -> int:
    from broadcast.report import deliveries_csv, progress

    settings = get_settings()
    with session_scope() as session:
        if args.csv:
            sys.stdout.write(deliveries_csv(session, broadcast_id=args.id, tz=settings.tz))
            return 0
        figures = progress(session, broadcast_id=args.id)
    if figures is None:
        print(f"avviso {args.id} non trovato", file=sys.stderr)
        return 1
    print(json.dumps(figures.as_dict(), ensure_ascii=False, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m broadcast")
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser("worker", help="run a delivery worker")
    worker.add_argument("--until-idle", action="store_true", help="exit when nothing runs")
    worker.add_argument("--worker-id", default=None)
    report = commands.add_parser("report", help="a broadcast's figures")
    report.add_argument("id", type=int)
    report.add_argument("--csv", action="store_true")
    args = parser.parse_args(argv)
    # httpx at WARNING and tokens masked: the Bot API's URLs carry the bot token
    configure_logging(logging.INFO)
    if args.command == "worker":
        return asyncio.run(_work(args))
    return _report(args)


if __name__ == "__main__":
    sys.exit(main())
