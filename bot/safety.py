"""The emergency safety net, run by the gateway on every message, in any mode, before consent."""

from __future__ import annotations

import logging

from care.safety import IMMEDIATE, SafetyMatch, detect
from care.safety import tier as rule_tier

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


def tier(text: str) -> str:
    """The tier of a rule match on ``text`` (care.safety.tier: ``ask`` or ``immediate``),
    never raising: when the support words cannot be read, ``immediate``, as before the tiers."""
    try:
        return rule_tier(text)
    except Exception:
        log.exception("safety net tier failed; the match pages at once")
        return IMMEDIATE
