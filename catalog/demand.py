"""Unmet needs: requests the catalogue could not answer, kept for the analysts.

Only the request text (with e-mail addresses and phone numbers masked) and the filters
understood from it are stored, never who asked beyond the opaque conversation id.
"""

from __future__ import annotations

import re
from typing import Any, Final

from sqlmodel import Session

from catalog.filters import SearchFilters
from catalog.models import UnmetNeed

MAX_TEXT_CHARS: Final[int] = 500

_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_RE = re.compile(r"(?<![\w])(?:\+|00)?\d[\d\s./-]{6,}\d")
_FISCAL_CODE_RE = re.compile(r"\b[A-Za-z]{6}\d{2}[A-Za-z]\d{2}[A-Za-z]\d{3}[A-Za-z]\b")


def mask_personal_data(text: str) -> str:
    """Replace e-mail addresses, phone numbers and fiscal codes with a placeholder."""
    text = _EMAIL_RE.sub("[email]", text)
    text = _FISCAL_CODE_RE.sub("[codice fiscale]", text)
    return _PHONE_RE.sub("[telefono]", text)


def record_unmet_need(
    session: Session,
    *,
    conversation_id: str,
    text: str,
    filters: SearchFilters | dict[str, Any] | None,
) -> UnmetNeed:
    """Store a request nothing in the catalogue answered; returns the stored row."""
    if isinstance(filters, SearchFilters):
        data = filters.to_dict()
    else:
        data = SearchFilters.from_dict(filters or {}).to_dict()
    need = UnmetNeed(
        conversation_id=conversation_id,
        text=mask_personal_data(text.strip())[:MAX_TEXT_CHARS],
        category=data.get("category"),
        quartiere=data.get("quartiere"),
        filters=data,
    )
    session.add(need)
    session.flush()
    return need
