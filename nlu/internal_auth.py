"""The shared secret of the internal doors (gateway -> Rasa, Rasa -> action server).

Standard library only: Rasa's REST channel (nlu/gateway_channel.py, Python 3.10) and the
action server (server/action_server.py, Python 3.11) check the same header the same way.
Each request carries ``Authorization: Bearer <secret>``; the comparison is constant-time;
an empty configured secret refuses everything (fail closed). The secrets come from the
environment of the process (never its command line): RASA_AUTH_TOKEN for Rasa,
ACTION_SERVER_TOKEN for the action server, both generated into VAR_DIR/secrets.env.
"""

from __future__ import annotations

import hmac

HEADER = "Authorization"
RASA_SECRET_ENV = "RASA_AUTH_TOKEN"
ACTION_SECRET_ENV = "ACTION_SERVER_TOKEN"


def bearer(secret: str) -> dict[str, str]:
    """The header that opens an internal door guarded by ``secret``."""
    return {HEADER: f"Bearer {secret}"}


def authorized(header: str | None, secret: str) -> bool:
    """True when ``header`` (the Authorization value) carries ``secret``."""
    if not secret or not header:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), secret.encode("utf-8"))
