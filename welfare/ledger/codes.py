"""Random codes people read aloud or type: no 0/O and no 1/I to confuse."""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 symbols: 5 bits each


def random_code(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalise(text: str) -> str:
    """What a person typed to the canonical form: upper case, spaces and dashes dropped."""
    return "".join(ch for ch in text.upper() if ch.isalnum())
