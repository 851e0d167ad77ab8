"""X-Hub-Signature-256: HMAC-SHA256 of the raw request body with the Meta app secret."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Hub-Signature-256"


def sign(body: bytes, app_secret: str) -> str:
    digest = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(body: bytes, header: str | None, app_secret: str) -> bool:
    """True when ``header`` is the signature of ``body`` (constant-time comparison)."""
    if not app_secret or not header:
        return False
    return hmac.compare_digest(
        sign(body, app_secret).encode("ascii"), header.strip().encode("ascii", "replace")
    )
