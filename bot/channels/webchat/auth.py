"""Web-chat identity: a random token kept in the browser's localStorage.

The database keeps only the token's SHA-256 (the chat key), so a leaked database does not
let anyone write into a citizen's conversation.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from fastapi import Header, HTTPException

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def chat_key(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def bearer_token(authorization: str = Header(default="")) -> str:
    """The web-chat token from ``Authorization: Bearer ...`` (401 when missing or malformed)."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not _TOKEN.match(token.strip()):
        raise HTTPException(status_code=401, detail="token mancante o non valido")
    return token.strip()
