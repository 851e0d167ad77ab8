#!/usr/bin/env python3
"""Tries each measured door of a running ``make run`` and prints what it found.

    .venv/bin/python scripts/probe_doors.py [--gateway http://127.0.0.1:8000]
        [--rasa http://127.0.0.1:5005] [--actions http://127.0.0.1:5055] [--var-dir var]

Only the standard library: it can run from any Python 3 on the host, as a local user
would. Each line says OPEN (the door let the probe through) or closed, with the figure
measured. It writes nothing but a few probe requests (a conversation id starting with
``probe-`` in Rasa's tracker store when Rasa's REST channel is open; web-chat tokens that
never write a message). docs/security.md lists what each door protects.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import stat
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit

RESULTS: list[tuple[bool, str, str]] = []
SOURCE: tuple[str, int] | None = None  # --source: the local address the probe speaks from
STREAMS = 25  # more than the default WEBCHAT_STREAMS_PER_ADDRESS (20)
TOKENS = 70  # more than the default WEBCHAT_SESSIONS_PER_ADDRESS_PER_HOUR (60)
ACTION_BODY = 16 * 1024 * 1024  # more than the default ACTION_SERVER_MAX_BODY_BYTES (8 MiB)


def report(open_: bool, door: str, detail: str) -> None:
    RESULTS.append((open_, door, detail))
    print(f"{'OPEN  ' if open_ else 'closed'}  {door}: {detail}", flush=True)


def request(
    base: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body); status 0 when nothing answered."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port or 80, timeout=timeout, source_address=SOURCE
    )
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    except (OSError, http.client.HTTPException):
        return 0, {}, b""
    finally:
        connection.close()


def declare_big_body(
    base: str, path: str, size: int, content_type: str, headers: dict[str, str] | None = None
) -> tuple[int, bool]:
    """Declares a ``size``-byte body and waits for an answer before sending it: (status,
    whether the server answered without reading anything). A server that waits for the body
    gets it (zeros) and answers after."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port or 80, timeout=5, source_address=SOURCE
    )
    try:
        connection.putrequest("POST", path)
        connection.putheader("Content-Type", content_type)
        connection.putheader("Content-Length", str(size))
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        try:
            return connection.getresponse().status, True
        except TimeoutError:
            pass
        connection.sock.settimeout(30)
        connection.send(b"0" * size)
        return connection.getresponse().status, False
    except (OSError, http.client.HTTPException):
        return 0, False
    finally:
        connection.close()


def probe_var_dir(var_dir: Path) -> None:
    if not var_dir.exists():
        report(False, "var/ permissions", f"{var_dir} does not exist")
        return
    loose = []
    for path in [var_dir, *var_dir.rglob("*")]:
        try:
            mode = path.lstat().st_mode
        except OSError:
            continue
        if stat.S_ISLNK(mode):
            continue
        if mode & 0o077:
            loose.append(f"{path.relative_to(var_dir.parent)} {stat.filemode(mode)}")
    shown = "; ".join(loose[:6]) + (f"; ... ({len(loose)} in all)" if len(loose) > 6 else "")
    report(bool(loose), "var/ readable by other local users", shown or "every entry owner-only")


def probe_command_lines() -> None:
    try:
        listing = subprocess.run(
            ["ps", "-eo", "args"], capture_output=True, text=True, check=False
        ).stdout
    except OSError:
        report(False, "secrets on command lines", "ps not available")
        return
    hits = [line for line in listing.splitlines() if "--auth-token" in line]
    report(
        bool(hits),
        "Rasa token on a command line (ps)",
        f"{len(hits)} process(es) with --auth-token" if hits else "no --auth-token in ps",
    )


def probe_rasa(rasa: str) -> None:
    sender = f"probe-{uuid.uuid4().hex[:12]}"
    body = json.dumps({"sender": sender, "message": "ciao"}).encode()
    status, _, data = request(
        rasa, "POST", "/webhooks/rest/webhook", body, {"Content-Type": "application/json"}, 60
    )
    if status == 0:
        report(False, "Rasa REST channel without a token", "Rasa did not answer")
    else:
        replies = len(json.loads(data)) if status == 200 and data.startswith(b"[") else 0
        report(
            status == 200,
            "Rasa REST channel without a token",
            f"POST /webhooks/rest/webhook -> {status} ({replies} replies)",
        )
    status, _, _ = request(rasa, "GET", "/status")
    report(status == 200, "Rasa HTTP API without a token", f"GET /status -> {status}")


def probe_rasa_with_secret(rasa: str, var_dir: Path) -> None:
    """The control: with the secret of VAR_DIR/secrets.env (as the gateway sends it) Rasa
    answers; so a closed door above is a lock, not a broken Rasa."""
    try:
        lines = (var_dir / "secrets.env").read_text().splitlines()
    except OSError:
        print("info    Rasa with the secret: VAR_DIR/secrets.env not readable", flush=True)
        return
    secret = next((ln.split("=", 1)[1] for ln in lines if ln.startswith("RASA_AUTH_TOKEN=")), "")
    body = json.dumps({"sender": f"probe-{uuid.uuid4().hex[:12]}", "message": "ciao"}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {secret}"}
    status, _, data = request(rasa, "POST", "/webhooks/rest/webhook", body, headers, 60)
    replies = len(json.loads(data)) if status == 200 and data.startswith(b"[") else 0
    print(f"info    Rasa REST channel with the gateway's secret: -> {status} ({replies} replies)")


def probe_actions(actions: str) -> None:
    status, _, data = request(actions, "GET", "/actions")
    count = len(json.loads(data)) if status == 200 and data.startswith(b"[") else 0
    report(
        status == 200,
        "action server /actions without a secret",
        f"-> {status}" + (f" ({count} actions listed)" if count else ""),
    )
    call = {
        "next_action": "action_session_start",
        "sender_id": "probe",
        "tracker": {"sender_id": "probe", "slots": {}, "latest_message": {}, "events": []},
        "domain": {},
        "version": "3.6.21",
    }
    status, _, _ = request(
        actions, "POST", "/webhook", json.dumps(call).encode(), {"Content-Type": "application/json"}
    )
    report(
        status not in (0, 401, 403),
        "action server /webhook without a secret",
        f"-> {status}",
    )
    # more than ACTION_SERVER_MAX_BODY_BYTES (8 MiB): refused unread, or read whole first
    status, unread = declare_big_body(actions, "/webhook", ACTION_BODY, "application/json")
    report(
        not unread,
        f"{ACTION_BODY >> 20} MiB body to the action server /webhook",
        f"-> {status}, " + ("answered before reading it" if unread else "read whole first"),
    )


def probe_gateway(gateway: str) -> None:
    for path in ("/openapi.json", "/docs"):
        status, _, _ = request(gateway, "GET", path)
        report(status == 200, f"gateway {path}", f"-> {status}")

    status, unread = declare_big_body(
        gateway, "/whatsapp/webhook", 2 * 1024 * 1024, "application/json"
    )
    report(
        not unread,
        "2 MiB body to /whatsapp/webhook (no signature)",
        f"-> {status}, " + ("answered before reading it" if unread else "read whole first"),
    )

    # under the 256 KiB cap: only the secret check can refuse it before reading it
    for label, headers in (
        ("no secret", {}),
        ("a wrong secret", {"X-Telegram-Bot-Api-Secret-Token": "probe-wrong-secret"}),
    ):
        status, unread = declare_big_body(
            gateway, "/telegram/webhook", 200_000, "application/json", headers
        )
        report(
            not unread,
            f"200 kB body to /telegram/webhook with {label}",
            f"-> {status}, " + ("answered before reading it" if unread else "read whole first"),
        )

    status, _, data = request(gateway, "POST", "/api/chat/session")
    token = json.loads(data)["token"] if status == 200 else ""
    if token:
        body = json.dumps({"client_id": "probe-000001", "text": "a" * 300_000}).encode()
        status, _, _ = request(
            gateway,
            "POST",
            "/api/chat/messages",
            body,
            {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        report(
            status != 413,
            "300 kB JSON to /api/chat/messages",
            f"-> {status} (413 = refused before parsing)",
        )
    status, unread = declare_big_body(
        gateway, "/console/accesso", 2_000_000, "application/x-www-form-urlencoded"
    )
    report(
        not unread,
        "2 MB login form",
        f"-> {status}, " + ("answered before reading it" if unread else "read whole first"),
    )

    streams = []
    opened = 0
    parts = urlsplit(gateway)
    for _ in range(STREAMS):
        status, _, data = request(gateway, "POST", "/api/chat/session")
        if status != 200:
            break
        stream_token = json.loads(data)["token"]
        connection = http.client.HTTPConnection(
            parts.hostname, parts.port or 80, timeout=5, source_address=SOURCE
        )
        try:
            connection.request(
                "GET", "/api/chat/events", headers={"Authorization": f"Bearer {stream_token}"}
            )
            response = connection.getresponse()
            opened += response.status == 200
        except (OSError, http.client.HTTPException):
            pass
        streams.append(connection)
    for connection in streams:
        connection.close()
    report(opened >= STREAMS, "SSE streams from one address", f"{opened} of {STREAMS} opened")

    status, headers, _ = request(gateway, "GET", "/")
    csp = headers.get("content-security-policy", "")
    frames = headers.get("x-frame-options", "") or ("frame-ancestors" in csp and "csp")
    report(
        not (csp and frames),
        "web chat page headers",
        f"CSP {'present' if csp else 'missing'}, frame protection "
        f"{'present' if frames else 'missing'}",
    )

    created = 0
    for _ in range(TOKENS):
        status, _, _ = request(gateway, "POST", "/api/chat/session")
        created += status == 200
    report(
        created >= TOKENS,
        "web-chat tokens from one address",
        f"{created} of {TOKENS} created at once",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    parser.add_argument("--rasa", default="http://127.0.0.1:5005")
    parser.add_argument("--actions", default="http://127.0.0.1:5055")
    parser.add_argument("--var-dir", default=os.environ.get("VAR_DIR", "var"))
    parser.add_argument(
        "--source", default="", help="local address to speak from, e.g. 127.0.0.2 (fresh limits)"
    )
    args = parser.parse_args()
    global SOURCE
    SOURCE = (args.source, 0) if args.source else None
    probe_var_dir(Path(args.var_dir))
    probe_command_lines()
    probe_rasa(args.rasa.rstrip("/"))
    probe_rasa_with_secret(args.rasa.rstrip("/"), Path(args.var_dir))
    probe_actions(args.actions.rstrip("/"))
    probe_gateway(args.gateway.rstrip("/"))
    opened = sum(1 for open_, _, _ in RESULTS if open_)
    print(f"\n{opened} of {len(RESULTS)} doors open", flush=True)
    return 1 if opened else 0


if __name__ == "__main__":
    raise SystemExit(main())
