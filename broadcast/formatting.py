"""Telegram-safe formatting of an announcement: a tiny HTML subset, everything else escaped.

Staff write plain text and may use ``<b>``, ``<i>`` (``<strong>``/``<em>`` are accepted as
the same) and ``<a href="https://...">``. ``sanitize`` keeps exactly those tags (properly
nested, closed at the end, links only http/https) and escapes every other ``<``, ``>`` and
``&``, so the result is valid for Telegram's ``parse_mode=HTML`` and safe to show in the
console's preview. ``to_whatsapp`` turns the same text into WhatsApp's markup
(*bold*, _italic_, "text (url)").
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from core.i18n import gettext

ALLOWED = {"b": "b", "strong": "b", "i": "i", "em": "i"}
TEXT_LIMIT = 4096  # Telegram, visible characters of a message
CAPTION_LIMIT = 1024  # Telegram, visible characters of a photo's caption
FOOTER = "Per non ricevere più avvisi scrivi «stop avvisi»."

_TAG = re.compile(
    r"""<(?P<close>/)?\s*(?P<name>[a-zA-Z]+)\s*"""
    r"""(?:\s+href\s*=\s*(?:"(?P<dq>[^"<>]*)"|'(?P<sq>[^'<>]*)'))?\s*>"""
)
_URL = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)


def safe_url(url: str) -> str | None:
    """The URL if it is an absolute http(s) URL without spaces or quotes, else None."""
    url = url.strip()
    return url if _URL.match(url) and len(url) <= 500 else None


def sanitize(text: str) -> str:
    """Staff's text -> Telegram HTML with only b, i and a (http/https) tags."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    while pos < len(text):
        lt = text.find("<", pos)
        if lt < 0:
            out.append(_escape(text[pos:]))
            break
        out.append(_escape(text[pos:lt]))
        match = _TAG.match(text, lt)
        tag = _accept(match, stack) if match else None
        if tag is None:
            out.append("&lt;")
            pos = lt + 1
            continue
        out.append(tag)
        assert match is not None
        pos = match.end()
    out.extend(f"</{name}>" for name in reversed(stack))
    return "".join(out)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _accept(match: re.Match[str], stack: list[str]) -> str | None:
    """The normalised tag to emit (updating the open-tag stack), or None to escape it."""
    raw = match.group("name").lower()
    closing = bool(match.group("close"))
    href = match.group("dq") if match.group("dq") is not None else match.group("sq")
    name = "a" if raw == "a" else ALLOWED.get(raw)
    if name is None:
        return None
    if closing:
        if href is not None or not stack or stack[-1] != name:
            return None
        stack.pop()
        return f"</{name}>"
    if name == "a":
        url = safe_url(html.unescape(href or ""))
        if url is None or "a" in stack:
            return None
        stack.append("a")
        return f'<a href="{html.escape(url, quote=True)}">'
    if href is not None or name in stack:
        return None
    stack.append(name)
    return f"<{name}>"


_ANY_TAG = re.compile(r"</?(?:b|i|a)(?: href=\"[^\"]*\")?>")


def visible_text(sanitized: str) -> str:
    """What a citizen reads (tags dropped, entities decoded)."""
    return html.unescape(_ANY_TAG.sub("", sanitized))


def visible_length(sanitized: str) -> int:
    """Length as Telegram counts it (UTF-16 code units of the visible text)."""
    return len(visible_text(sanitized).encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Composed:
    """The announcement as each channel gets it."""

    telegram_html: str
    whatsapp_text: str
    length: int  # Telegram's count of the whole message
    limit: int


def message_html(title: str, body: str, language: str | None = None) -> str:
    """Title in bold, the sanitised body, the footer saying how to stop (in ``language``)."""
    parts = [f"<b>{_escape(title.strip())}</b>"] if title.strip() else []
    if body.strip():
        parts.append(body.strip())
    parts.append(f"<i>{_escape(gettext(language, FOOTER))}</i>")
    return "\n\n".join(parts)


def compose(
    title: str, raw_body: str, *, with_image: bool, language: str | None = None
) -> Composed:
    html_text = message_html(title, sanitize(raw_body), language)
    return Composed(
        telegram_html=html_text,
        whatsapp_text=to_whatsapp(html_text),
        length=visible_length(html_text),
        limit=CAPTION_LIMIT if with_image else TEXT_LIMIT,
    )


_WA_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.DOTALL)


def to_whatsapp(sanitized: str) -> str:
    """Telegram HTML -> WhatsApp text: *bold*, _italic_, links as "text (url)"."""

    def link(match: re.Match[str]) -> str:
        url = html.unescape(match.group(1))
        label = match.group(2)
        plain = html.unescape(_ANY_TAG.sub("", label)).strip()
        return url if not plain or plain == url else f"{label} ({url})"

    text = _WA_LINK.sub(link, sanitized)
    text = re.sub(r"</?b>", "*", text)
    text = re.sub(r"</?i>", "_", text)
    return html.unescape(_ANY_TAG.sub("", text))
