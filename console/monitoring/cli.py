"""The monitoring's commands of ``python -m console`` (console.cli parses them, then hands
them here).

    python -m console report --month 2026-11 [--out DIR] [--no-pdf]
    python -m console tracker-index

``report`` writes the month's report (monitoring.report) as
``VAR_DIR/reports/monitoraggio-2026-11.html`` and ``.pdf``; ``tracker-index`` adds to Rasa's
tracker store (RASA_TRACKER_DB_URL) the index the monitoring reads it by, once.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import Engine

from core.db import make_engine
from core.settings import get_settings
from core.timeutil import utcnow
from privacy.retention import tracker_engine_url


def run(args: argparse.Namespace, *, engine: Engine | None = None, out: TextIO) -> int:
    # imported here: the views and WeasyPrint are not needed by the staff commands
    from monitoring.report import write_report
    from monitoring.tracker import ensure_index

    settings = get_settings()
    tracker = make_engine(tracker_engine_url(settings))
    own = engine is None
    database = engine or make_engine(settings.effective_database_url)
    try:
        if args.command == "tracker-index":
            done = ensure_index(tracker)
            print("indice creato" if done else "nessuna tabella events da indicizzare", file=out)
            return 0
        files = write_report(
            database,
            month=args.month,
            out_dir=Path(args.out) if args.out else settings.var_dir / "reports",
            now=utcnow(),
            min_count=settings.monitoring_min_count,
            tracker=tracker,
            pdf=not args.no_pdf,
        )
    except ValueError as problem:
        print(f"errore: {problem}", file=sys.stderr)
        return 1
    finally:
        tracker.dispose()
        if own:
            database.dispose()
    print(files.html, file=out)
    if files.pdf is not None:
        print(files.pdf, file=out)
    return 0
