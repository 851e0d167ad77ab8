"""Euro amounts: integer cents inside, Italian formatting outside ("1.234,56 €")."""

from __future__ import annotations

import re

_AMOUNT = re.compile(
    r"^\s*(-)?\s*(\d{1,3}(?:\.\d{3})+|\d+)(?:[,.](\d{1,2}))?\s*(?:€|eur|euro)?\s*$"
)


def format_cents(cents: int, *, thousands: bool = True) -> str:
    """``-123456`` -> ``"-1.234,56"`` (``"-1234,56"`` without thousands separators)."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    whole = f"{euros:,}".replace(",", ".") if thousands else str(euros)
    return f"{sign}{whole},{rest:02d}"


def format_eur(cents: int) -> str:
    """``1250`` -> ``"12,50 €"``."""
    return f"{format_cents(cents)} €"


def parse_eur(text: str) -> int:
    """Italian or plain amounts to cents: "12,50", "12.5", "1.234,56 €", "30" -> 3000.

    Raises ValueError on anything else (no floats are ever involved).
    """
    match = _AMOUNT.match(text.strip().lower())
    if not match:
        raise ValueError(f"not an amount: {text!r}")
    sign, whole, decimals = match.groups()
    cents = int(whole.replace(".", "")) * 100 + int((decimals or "0").ljust(2, "0"))
    return -cents if sign else cents
