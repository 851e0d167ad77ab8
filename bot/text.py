"""Text hygiene: sanitising what citizens send and splitting what we send back.

``sanitize`` removes control and invisible formatting characters (keeping newlines and
tabs), normalises to NFC and trims. ``split_message`` cuts a long reply into chunks that fit
a channel's limit without breaking words, URLs or HTML markup: open tags are closed at the
end of a chunk and reopened at the start of the next one.
"""

from __future__ import annotations

import re
import unicodedata

TELEGRAM_LIMIT = 4096
WHATSAPP_TEXT_LIMIT = 4096

# Cc (controls) except \n and \t; Cf (format: zero-width, bidi overrides) except the
# zero-width joiner used inside emoji sequences; Cs/Co/Cn (surrogates, private, unassigned).
_KEEP = {"\n", "\t", "\u200d"}
_DROP_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}


def sanitize(text: str | None) -> str:
    """The text without control characters, in NFC, with normalised line ends, trimmed."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    cleaned = "".join(
        ch for ch in text if ch in _KEEP or unicodedata.category(ch) not in _DROP_CATEGORIES
    )
    cleaned = re.sub(r"[ \t]+\n", "\n", cleaned)
    cleaned = re.sub(r"\n{4,}", "\n\n\n", cleaned)
    return cleaned.strip()


def is_blank(text: str | None) -> bool:
    return not sanitize(text)


def truncate_words(text: str, limit: int) -> tuple[str, bool]:
    """At most ``limit`` characters, cut at a word boundary when possible."""
    if len(text) <= limit:
        return text, False
    cut = text[:limit]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip(), True


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


# --- splitting -------------------------------------------------------------------------

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>")
_ATOM = re.compile(r"<[^<>]*>|&[a-zA-Z#0-9]+;|https?://\S+|\s+|[^\s<&]+|[<&]")
_VOID_TAGS = {"br"}

_Stack = tuple[tuple[str, str], ...]  # open tags: (name, opening tag as written)


def _measure(text: str, by_utf16: bool) -> int:
    return utf16_len(text) if by_utf16 else len(text)


def _closing(stack: _Stack) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def _opening(stack: _Stack) -> str:
    return "".join(tag for _, tag in stack)


def _after(stack: _Stack, atom: str) -> _Stack:
    """The open-tag stack after ``atom``."""
    match = _TAG.fullmatch(atom)
    if not match or match.group(2).lower() in _VOID_TAGS:
        return stack
    name = match.group(2).lower()
    if match.group(1):  # closing tag: pop up to the matching opener
        for j in range(len(stack) - 1, -1, -1):
            if stack[j][0] == name:
                return stack[:j] + stack[j + 1 :]
        return stack
    if match.group(3).rstrip().endswith("/"):
        return stack
    return (*stack, (name, atom))


def _strength(whitespace: str) -> int:
    if "\n\n" in whitespace:
        return 3
    return 2 if "\n" in whitespace else 1


def _hard_cut(atom: str, room: int, by_utf16: bool) -> tuple[str, str]:
    head = ""
    for ch in atom:
        if _measure(head + ch, by_utf16) > room:
            break
        head += ch
    if not head:  # room smaller than one character: take one anyway, never loop
        head = atom[:1]
    return head, atom[len(head) :]


def split_message(text: str, limit: int = TELEGRAM_LIMIT, *, by_utf16: bool = True) -> list[str]:
    """Chunks of at most ``limit`` (UTF-16 units by default, as Telegram counts).

    Prefers paragraph breaks, then line breaks, then spaces, in the second half of a chunk;
    never cuts inside a word, a URL, an HTML tag or an entity unless one alone is longer than
    a chunk. HTML tags open at a cut are closed and reopened in the next chunk.
    """
    if not text:
        return []
    if _measure(text, by_utf16) <= limit:
        return [text]
    atoms = _ATOM.findall(text)
    chunks: list[str] = []
    stack: _Stack = ()
    i = 0
    while i < len(atoms):
        prefix = _opening(stack)
        body, local, j = prefix, stack, i
        breaks: list[tuple[int, int, _Stack, str]] = []  # (atom index, strength, stack, body)
        while j < len(atoms):
            atom = atoms[j]
            following = _after(local, atom)
            if _measure(body + atom + _closing(following), by_utf16) > limit:
                break
            if atom.isspace() and body.strip() != prefix.strip():
                breaks.append((j, _strength(atom), local, body))
            body, local, j = body + atom, following, j + 1
        if j == len(atoms):
            if body.strip() != prefix.strip():
                chunks.append(body.rstrip() + _closing(local))
            break
        if breaks:
            half = limit // 2
            late = [b for b in breaks if _measure(b[3], by_utf16) >= half] or breaks
            index, _, stack, body = max(late, key=lambda b: (b[1], b[0]))
            chunks.append(body.rstrip() + _closing(stack))
            i = index + 1
        elif j > i and body.strip() != prefix.strip():
            chunks.append(body.rstrip() + _closing(local))
            stack, i = local, j
        else:  # one atom longer than a whole chunk (a huge word or URL): cut it
            room = limit - _measure(prefix + _closing(stack), by_utf16)
            head, rest = _hard_cut(atoms[j], room, by_utf16)
            chunks.append(prefix + head + _closing(stack))
            atoms[j] = rest
            i = j
            if not rest:
                i += 1
    return chunks
