"""bot.text: sanitising citizens' text and splitting long replies."""

from __future__ import annotations

import re

from bot.text import TELEGRAM_LIMIT, sanitize, split_message, truncate_words, utf16_len


def test_sanitize_strips_controls_and_invisible_formatting() -> None:
    raw = "  ciao\x00\x07 mondo\u202e!\u200b\r\nseconda\triga\x1b[31m  "
    assert sanitize(raw) == "ciao mondo!\nseconda\triga[31m"


def test_sanitize_keeps_emoji_sequences_and_normalises_accents() -> None:
    family = "👩\u200d👩\u200d👧"
    assert sanitize(f"perche\u0301 {family}") == f"perché {family}"


def test_sanitize_empty_and_whitespace_only() -> None:
    assert sanitize(None) == ""
    assert sanitize(" \n\t\x00 ") == ""


def test_truncate_words_cuts_at_a_word_boundary() -> None:
    text = "uno due tre quattro cinque"
    cut, truncated = truncate_words(text, 12)
    assert truncated and cut == "uno due tre"
    assert truncate_words(text, 100) == (text, False)


def test_split_short_text_is_one_chunk() -> None:
    assert split_message("ciao", 10) == ["ciao"]
    assert split_message("", 10) == []


def test_split_never_breaks_words_and_loses_nothing() -> None:
    text = " ".join(f"parola{i}" for i in range(3000))
    chunks = split_message(text)
    assert len(chunks) > 1
    assert all(utf16_len(c) <= TELEGRAM_LIMIT for c in chunks)
    assert " ".join(chunks).split() == text.split()


def test_split_prefers_paragraphs() -> None:
    paragraph = "frase " * 300  # ~1800 characters
    text = "\n\n".join([paragraph.strip()] * 4)
    chunks = split_message(text, 4096)
    assert all(c.endswith("frase") for c in chunks)
    assert len(chunks) == 2


def test_split_counts_utf16_like_telegram() -> None:
    text = "😀" * 3000  # 6000 UTF-16 units, no spaces: a hard cut is unavoidable
    chunks = split_message(text)
    assert all(utf16_len(c) <= TELEGRAM_LIMIT for c in chunks)
    assert "".join(chunks) == text


def test_split_keeps_urls_whole() -> None:
    url = "https://www.comune.fi.it/pagina/servizi-sociali/" + "a" * 40
    text = ("testo " * 15) + url + " fine"
    chunks = split_message(text, 100)
    assert any(url in c for c in chunks)


def test_split_closes_and_reopens_html_tags() -> None:
    text = "<b>" + "grassetto " * 30 + "</b> e <i>poi</i> fine"
    chunks = split_message(text, 80)
    for chunk in chunks:
        assert len(chunk) <= 80
        assert len(re.findall(r"<b>", chunk)) == len(re.findall(r"</b>", chunk))
        assert "<" not in re.sub(r"</?[bi]>", "", chunk)
    assert chunks[0].startswith("<b>") and chunks[1].startswith("<b>")
