"""Logs never carry citizens' data or secrets: database errors without their parameters,
the broadcast worker without the Telegram bot token."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core.db import make_engine
from core.logs import MASK, RedactSecrets, ThrottledWarning, redact
from core.settings import PROJECT_ROOT
from tests.broadcast.helpers import TOKEN, new_broadcast, statuses, subscribers
from tests.fakes.fake_telegram_limits import LimitedTelegram

CITIZEN_TEXT = "Mi chiamo Maria Rossi, RSSMRA80A41D612X, e mio marito mi picchia"


def test_a_failing_statement_logs_no_parameters(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(db_url)
    log = logging.getLogger("tests.security")
    try:
        with engine.begin() as connection:
            connection.execute(
                text("CREATE TABLE probe_secret (id INTEGER PRIMARY KEY, body TEXT)")
            )
            connection.execute(text("INSERT INTO probe_secret VALUES (1, 'x')"))
            connection.execute(  # a duplicate key: the error names the statement
                text("INSERT INTO probe_secret (id, body) VALUES (:id, :body)"),
                {"id": 1, "body": CITIZEN_TEXT},
            )
    except DBAPIError:
        log.exception("storing a message failed")
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS probe_secret"))
        engine.dispose()
    assert "storing a message failed" in caplog.text
    assert "INSERT INTO probe_secret" in caplog.text  # the statement is kept, for debugging
    assert "RSSMRA80A41D612X" not in caplog.text
    assert "Maria Rossi" not in caplog.text


def test_redaction_masks_tokens_in_any_record() -> None:
    url = f"POST https://api.telegram.org/bot{TOKEN}/sendMessage"
    assert TOKEN not in redact(url) and MASK in redact(url)
    assert redact("GET /status?token=abcDEF123&x=1") == f"GET /status?token={MASK}&x=1"
    record = logging.LogRecord("httpx", logging.INFO, "", 0, "HTTP Request: %s", (url,), None)
    RedactSecrets().filter(record)
    assert TOKEN not in record.getMessage()


def test_the_broadcast_worker_never_logs_the_bot_token(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    subscribers(engine, 2)
    broadcast_id = new_broadcast(engine, title="Riapertura")
    with LimitedTelegram(global_rate=25) as telegram:
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "VAR_DIR": str(tmp_path / "var"),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": telegram.base_url,
            "WHATSAPP_ACCESS_TOKEN": "",
            "BROADCAST_POLL_SECONDS": "0.1",
        }
        done = subprocess.run(
            [sys.executable, "-m", "broadcast", "worker", "--until-idle"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    assert statuses(engine, broadcast_id) == {"sent": 2}  # it did talk to the Bot API
    assert TOKEN not in done.stderr + done.stdout
    assert TOKEN.split(":")[1] not in done.stderr + done.stdout
    engine.dispose()


def test_a_throttled_warning_is_logged_once_per_period(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("welcome.test.throttled")
    warn = ThrottledWarning(logger, seconds=3600)
    with caplog.at_level(logging.WARNING, logger=logger.name):
        warn("redis down (%s)", "ConnectionError")
        warn("redis down (%s)", "TimeoutError")
    assert [r.getMessage() for r in caplog.records] == ["redis down (ConnectionError)"]
    again = ThrottledWarning(logger, seconds=0)
    with caplog.at_level(logging.WARNING, logger=logger.name):
        again("once")
        again("twice")
    assert [r.getMessage() for r in caplog.records][-2:] == ["once", "twice"]
