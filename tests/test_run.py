"""The process supervisor of ``make run``, with real subprocesses (small HTTP servers)."""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.settings import Settings
from devtools.rasa_env import ATOMIC_LOCK_STORE, free_port, lock_store_env, tracker_store_url
from devtools.run import build_services, channels_on, port_in_use, supervise
from devtools.supervisor import Service, StartupError, Supervisor

IGNORES_SIGTERM = """
import http.server, signal, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
http.server.test(HandlerClass=http.server.SimpleHTTPRequestHandler, port=int(sys.argv[1]),
                 bind="127.0.0.1")
"""


def http_service(name: str, tmp_path: Path, *, script: str | None = None) -> Service:
    port = free_port()
    if script is None:
        command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    else:
        command = [sys.executable, "-c", script, str(port)]
    return Service(
        name=name,
        command=command,
        ready_url=f"http://127.0.0.1:{port}/",
        log=tmp_path / f"{name}.log",
        cwd=tmp_path,
        ready_timeout=20.0,
    )


def test_start_wait_ready_and_stop_all(tmp_path: Path) -> None:
    supervisor = Supervisor()
    first, second = http_service("one", tmp_path), http_service("two", tmp_path)
    supervisor.start(first)
    supervisor.start(second)
    supervisor.wait_ready()
    assert first.running and second.running
    supervisor.stop_all(grace=5)
    assert not first.running and not second.running
    assert supervisor.services == []


def test_a_child_dying_at_start_up_is_reported_with_its_log(tmp_path: Path) -> None:
    supervisor = Supervisor()
    broken = Service(
        name="broken",
        command=[sys.executable, "-c", "import sys; print('boom: bad config'); sys.exit(3)"],
        ready_url=f"http://127.0.0.1:{free_port()}/",
        log=tmp_path / "broken.log",
    )
    supervisor.start(broken)
    with pytest.raises(StartupError, match=r"(?s)broken exited with code 3.*boom: bad config"):
        supervisor.wait_ready()
    supervisor.stop_all()


def test_not_ready_in_time(tmp_path: Path) -> None:
    supervisor = Supervisor()
    silent = Service(
        name="silent",
        command=[sys.executable, "-c", "import time; time.sleep(60)"],
        ready_url=f"http://127.0.0.1:{free_port()}/",
        log=tmp_path / "silent.log",
        ready_timeout=1.0,
    )
    supervisor.start(silent)
    with pytest.raises(StartupError, match="not ready after 1 s"):
        supervisor.wait_ready()
    supervisor.stop_all(grace=2)
    assert not silent.running


def test_a_child_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    supervisor = Supervisor()
    stubborn = supervisor.start(http_service("stubborn", tmp_path, script=IGNORES_SIGTERM))
    supervisor.wait_ready()
    started = time.monotonic()
    code = supervisor.stop(stubborn, grace=1.0)
    assert code == -signal.SIGKILL
    assert time.monotonic() - started < 8


def test_supervise_stops_everything_when_one_child_dies(tmp_path: Path) -> None:
    services = [http_service("steady", tmp_path), http_service("fragile", tmp_path)]
    supervisor = Supervisor()
    ready = threading.Event()
    outcome: list[int] = []
    thread = threading.Thread(
        target=lambda: outcome.append(
            supervise(supervisor, services, threading.Event(), on_ready=ready.set)
        )
    )
    thread.start()
    assert ready.wait(30)
    assert services[1].process is not None
    services[1].process.kill()
    thread.join(30)
    assert outcome == [1]
    assert not services[0].running  # the healthy one was stopped, not left behind


def test_supervise_returns_0_on_a_requested_stop(tmp_path: Path) -> None:
    services = [http_service("a", tmp_path), http_service("b", tmp_path)]
    stop = threading.Event()
    ready = threading.Event()
    outcome: list[int] = []
    thread = threading.Thread(
        target=lambda: outcome.append(supervise(Supervisor(), services, stop, on_ready=ready.set))
    )
    thread.start()
    assert ready.wait(30)
    stop.set()  # what the SIGINT/SIGTERM handler of devtools.run does
    thread.join(30)
    assert outcome == [0]
    assert not any(s.running for s in services)


def test_supervise_refuses_a_busy_port(tmp_path: Path) -> None:
    supervisor = Supervisor()
    holder = supervisor.start(http_service("holder", tmp_path))
    supervisor.wait_ready()
    clash = Service(
        name="clash",
        command=[sys.executable, "-c", "pass"],
        ready_url=holder.ready_url,
        log=tmp_path / "clash.log",
    )
    try:
        assert port_in_use(int(holder.ready_url.rsplit(":", 1)[1].strip("/")))
        assert supervise(Supervisor(), [clash], threading.Event()) == 1
        assert clash.process is None
    finally:
        supervisor.stop_all()


def test_services_bind_loopback_with_a_token(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, rasa_url="http://127.0.0.1:5005")
    services = build_services(
        settings, model=tmp_path / "model.tar.gz", token="t0k3n", action_secret="s"
    )
    by_name = {s.name: s for s in services}
    rasa = list(by_name["rasa"].command)
    assert rasa[rasa.index("-i") + 1] == "127.0.0.1"
    assert not any("t0k3n" in part for part in rasa)  # in the environment: `ps` shows argv
    assert by_name["rasa"].env is not None
    assert by_name["rasa"].env["RASA_AUTH_TOKEN"] == "t0k3n"
    assert rasa[rasa.index("-p") + 1] == "5005"
    assert by_name["action server"].env is not None
    assert by_name["action server"].env["SANIC_HOST"] == "127.0.0.1"
    assert by_name["rasa"].env is not None
    assert by_name["rasa"].env["RASA_TELEMETRY_ENABLED"] == "false"
    assert by_name["rasa"].env["HOME"] == str(tmp_path / "rasa-home")
    assert by_name["rasa"].env["RASA_TRACKER_STORE_URL"].endswith("rasa-tracker.db")


def test_channels_follow_the_settings() -> None:
    off = {"telegram_bot_token": SecretStr(""), "whatsapp_access_token": SecretStr("")}
    assert channels_on(Settings(**off)) == ["web chat"]
    telegram = Settings(**{**off, "telegram_bot_token": SecretStr("123:abc")})
    assert channels_on(telegram) == ["web chat", "Telegram"]


def test_store_urls() -> None:
    assert tracker_store_url(Settings(rasa_tracker_db_url="")).startswith("sqlite:///")
    pg = Settings(rasa_tracker_db_url="postgresql+psycopg://u:p@db:5432/rasa")
    assert tracker_store_url(pg) == "postgresql://u:p@db:5432/rasa"
    assert lock_store_env("")["RASA_LOCK_STORE_TYPE"] == "in_memory"
    redis = lock_store_env("redis://:secret@127.0.0.1:6380/3")
    assert redis == {
        "RASA_LOCK_STORE_TYPE": ATOMIC_LOCK_STORE,
        "RASA_LOCK_STORE_HOST": "127.0.0.1",
        "RASA_LOCK_STORE_PORT": "6380",
        "RASA_LOCK_STORE_DB": "3",
        "RASA_LOCK_STORE_PASSWORD": "secret",
    }


def test_rasa_workers_and_tensorflow_threads(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, rasa_workers=2, rasa_tf_threads=1)
    with pytest.raises(StartupError, match="RASA_LOCK_STORE_URL"):
        build_services(settings, model=tmp_path / "model.tar.gz", token="t", action_secret="s")
    redis = settings.model_copy(update={"rasa_lock_store_url": "redis://127.0.0.1:6379/9"})
    rasa = {
        s.name: s for s in build_services(redis, model=tmp_path / "m", token="t", action_secret="s")
    }["rasa"]
    assert rasa.env is not None
    assert rasa.env["SANIC_WORKERS"] == "2"
    assert rasa.env["RASA_LOCK_STORE_TYPE"] == ATOMIC_LOCK_STORE
    assert rasa.env["TF_INTRA_OP_PARALLELISM_THREADS"] == "1"
    assert rasa.env["TF_INTER_OP_PARALLELISM_THREADS"] == "1"
    assert list(rasa.command)[1:4] == ["-m", "nlu.rasa_main", "run"]


def test_sqlite_tracker_store_is_prepared_in_wal_mode(tmp_path: Path) -> None:
    import sqlite3

    from devtools.rasa_env import prepare_sqlite_tracker

    path = tmp_path / "sub" / "rasa-tracker.db"
    prepare_sqlite_tracker(f"sqlite:///{path}")
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    prepare_sqlite_tracker("postgresql://u@db/rasa")  # other databases: left alone
