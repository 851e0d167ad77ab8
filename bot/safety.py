"""The emergency safety net, run by the gateway on every message, in any mode, before consent."""

from __future__ import annotations

import logging

from care.safety import SafetyMatch, detect

log = logging.getLogger(__name__)


def check(text: str) -> SafetyMatch | None:
    """care.safety.detect, never raising (a broken rule must not stop the conversation)."""
    if not text:
        return None
    try:
        return detect(text)
    except Exception:
        log.exception("safety net failed; message not checked")
        return None
