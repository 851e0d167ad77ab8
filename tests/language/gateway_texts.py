"""Every text the gateway itself writes to a citizen, gathered from the modules that hold
them (the msgids of locale/<code>/LC_MESSAGES/gateway.po). A module that starts writing to
citizens is added here; tests/language/test_catalogues.py then asks for its translations."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

# modules whose UPPER_CASE string constants are texts for citizens
TEXT_MODULES = (
    "bot.wording",
    "bot.language",
    "bot.review_capture",
    "care.handoff_wording",
    "care.sla",
    "broadcast.menu",
    "broadcast.formatting",
    "broadcast.broadcasts",
    "bot.channels.webchat.page_texts",
    "privacy.copy_wording",
)
# constants of those modules that are not texts (payloads, markers, hours, aliases, place
# names), or are gathered below from where they are defined (CATEGORY_LABELS)
NOT_TEXT = {"PREFIX", "CHECK", "DEFAULT_HOURS", "COMMAND", "PAYLOAD_PREFIX", "ASK_PAYLOAD",
            "THUMBS_DOWN_PAYLOAD", "CONFIRM_NONCE", "CUSTOM_TYPE", "ALIASES", "QUARTIERI",
            "CATEGORY_LABELS", "ALLOWED"}  # fmt: skip
# button titles written inline (broadcast/menu.py)
INLINE_TITLES = ("Sì, voglio gli avvisi", "No, grazie", "Scegli i quartieri",
                 "Scegli gli argomenti", "Le mie scelte", "Stop a tutti gli avvisi", "Ho finito",
                 "Tutta la città", "Fatto", "Tutti gli argomenti", "Sì, basta avvisi",
                 "No, continua")  # fmt: skip


def gateway_texts() -> Iterator[tuple[str, str]]:
    """(where, Italian text) for every text."""
    for name in TEXT_MODULES:
        module = importlib.import_module(name)
        for key, value in vars(module).items():
            if not key.isupper() or key in NOT_TEXT:
                continue
            if isinstance(value, str) and any(ch.isalpha() for ch in value):
                yield f"{name}.{key}", value
            elif isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
                for sub, text in value.items():
                    yield f"{name}.{key}[{sub}]", text
            elif key == "CSAT_BUTTONS":
                for _, title in value:
                    yield f"{name}.{key}", title
            elif hasattr(value, "title") and isinstance(value.title, str):
                yield f"{name}.{key}", value.title  # a Button
    for title in INLINE_TITLES:
        yield "broadcast.menu (buttons)", title
    from bot.commands import COMMANDS
    from catalog.vocabulary import CATEGORY_LABELS, COST_LABELS, TARGET_LABELS

    for command in COMMANDS:
        yield f"bot.commands.{command.name}", command.description
    for labels, where in ((CATEGORY_LABELS, "CATEGORY"), (TARGET_LABELS, "TARGET"),
                          (COST_LABELS, "COST")):  # fmt: skip
        for slug, label in labels.items():
            yield f"catalog.vocabulary.{where}_LABELS[{slug}]", label
