"""Telegram-safe formatting: only b, i and http(s) links survive; everything else is text."""

from __future__ import annotations

import pytest

from broadcast.formatting import (
    CAPTION_LIMIT,
    FOOTER,
    compose,
    safe_url,
    sanitize,
    to_whatsapp,
    visible_length,
    visible_text,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ciao", "Ciao"),
        ("<b>Festa</b> al <i>Hub</i>", "<b>Festa</b> al <i>Hub</i>"),
        ("<strong>x</strong><em>y</em>", "<b>x</b><i>y</i>"),
        ("<B>maiuscolo</B>", "<b>maiuscolo</b>"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("<b onclick='x'>a</b>", "&lt;b onclick='x'&gt;a&lt;/b&gt;"),
        ("3 < 5 & 7 > 2", "3 &lt; 5 &amp; 7 &gt; 2"),
        ("<b>aperto", "<b>aperto</b>"),
        ("chiuso</b>", "chiuso&lt;/b&gt;"),
        ("<b><i>x</b></i>", "<b><i>x&lt;/b&gt;</i></b>"),
        ("<b><b>x</b></b>", "<b>&lt;b&gt;x</b>&lt;/b&gt;"),
        (
            '<a href="https://comune.fi.it/a?b=1&c=2">sito</a>',
            '<a href="https://comune.fi.it/a?b=1&amp;c=2">sito</a>',
        ),
        ('<a href="javascript:alert(1)">x</a>', '&lt;a href="javascript:alert(1)"&gt;x&lt;/a&gt;'),
        ("<a href='http://x.it'>x</a>", '<a href="http://x.it">x</a>'),
        (
            '<a href="https://x.it"><a href="https://y.it">y</a></a>',
            '<a href="https://x.it">&lt;a href="https://y.it"&gt;y</a>&lt;/a&gt;',
        ),
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("riga 1\r\nriga 2", "riga 1\nriga 2"),
    ],
)
def test_sanitize(raw: str, expected: str) -> None:
    assert sanitize(raw) == expected


def test_sanitized_output_is_balanced_for_any_input() -> None:
    nasty = "<b><i><a href='https://a.it'>x</b> <i></a> </i> <b"
    out = sanitize(nasty)
    # every tag opened is closed, in order: what Telegram's HTML parser requires
    stack: list[str] = []
    import re

    for closing, name in re.findall(r"<(/?)(b|i|a)[ >]", out):
        if closing:
            assert stack.pop() == name
        else:
            stack.append(name)
    assert stack == []


def test_safe_url() -> None:
    assert safe_url("https://www.comune.fi.it/avvisi") == "https://www.comune.fi.it/avvisi"
    assert safe_url(" http://x.it ") == "http://x.it"
    for bad in ("javascript:alert(1)", "ftp://x.it", "https://x .it", 'https://x.it/"', "www.x.it"):
        assert safe_url(bad) is None


def test_compose_adds_title_footer_and_counts_visible_characters() -> None:
    composed = compose("Festa & merenda", "Sabato <b>alle 16</b>", with_image=False)
    assert composed.telegram_html.startswith("<b>Festa &amp; merenda</b>\n\nSabato <b>alle 16</b>")
    assert FOOTER in composed.telegram_html
    text = visible_text(composed.telegram_html)
    assert text.startswith("Festa & merenda\n\nSabato alle 16")
    assert composed.length == len(text)
    assert compose("t", "x", with_image=True).limit == CAPTION_LIMIT


def test_visible_length_counts_utf16_like_telegram() -> None:
    assert visible_length("🎉") == 2
    assert visible_length("<b>città</b>") == 5


def test_whatsapp_markup() -> None:
    html = sanitize('<b>Festa</b> <i>oggi</i> <a href="https://x.it">iscriviti</a> &')
    assert to_whatsapp(html) == "*Festa* _oggi_ iscriviti (https://x.it) &"
