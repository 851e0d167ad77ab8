"""What the adhesion forms share: the parsed values with the Italian problem of each field,
and the two ways a text field is read (one line, or free text)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Parsed:
    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def one_line(values: Mapping[str, Any], name: str, limit: int) -> str:
    """The field's words on one line (spaces and line breaks collapsed), cut to ``limit``."""
    value = values.get(name)
    return " ".join(str(value).split())[:limit] if isinstance(value, str) else ""


def free_text(values: Mapping[str, Any], name: str, limit: int) -> str:
    """The field as typed, line breaks kept, cut to ``limit``."""
    value = values.get(name)
    return str(value).strip()[:limit] if isinstance(value, str) else ""
