"""The web chat page's own texts (index.html, chat.js) come from one table,
bot/channels/webchat/page_texts.py, translated by the gateway's catalogues: this walks every
string the page can show and fails when a language lacks one, or has it still in Italian."""

from __future__ import annotations

import re
import string
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.channels.webchat.page_texts import PAGE_TEXTS, page_languages, page_texts
from core.i18n import languages, translated
from tests.language.test_catalogues import still_italian

STATIC = Path(__file__).resolve().parents[2] / "bot" / "channels" / "webchat" / "static"
TARGETS = [code for code in languages().codes if code != languages().source]
# texts of the page that are the same in every language on purpose
SAME_EVERYWHERE = {"WEL.CO.ME", "🌐", "Lingua · Language"}
DIRECTIVES = {"use strict"}
ATTRIBUTES = ("placeholder", "aria-label", "alt", "title")
VOID = frozenset({"meta", "link", "input", "br", "img"})


class _Page(HTMLParser):
    """index.html's keys, the Italian default of each, and any text shown without a key."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []  # (tag, data-text key)
        self.defaults: dict[str, str] = {}
        self.keys: set[str] = set()
        self.unkeyed: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        key = found.get("data-text")
        if key:
            self.keys.add(key)
            self.defaults.setdefault(key, "")
        for name in ATTRIBUTES:
            if found.get(name) is None:
                continue
            own = found.get(f"data-text-{name}")
            if own:
                self.keys.add(own)
                self.defaults[own] = found[name] or ""
            elif found[name] not in SAME_EVERYWHERE:
                self.unkeyed.append(f"<{tag} {name}={found[name]!r}>")
        if tag not in VOID:
            inherited = next((k for _, k in reversed(self.stack) if k), None)
            self.stack.append((tag, key or inherited))

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if self.stack and self.stack[-1][0] in ("script", "style"):
            return
        key = self.stack[-1][1] if self.stack else None
        if key:
            self.defaults[key] += data
        elif text and text not in SAME_EVERYWHERE:
            self.unkeyed.append(text)


def _page() -> _Page:
    parser = _Page()
    parser.feed((STATIC / "index.html").read_text(encoding="utf-8"))
    return parser


def _script() -> str:
    return (STATIC / "chat.js").read_text(encoding="utf-8")


def _script_keys() -> set[str]:
    calls = r'\b(?:t|say)\("(\w+)"|sayDetail\(\w+, "(\w+)"'
    return {a or b for a, b in re.findall(calls, _script())}


def _literals() -> list[str]:
    code = re.sub(r"^\s*//.*$", "", _script(), flags=re.MULTILINE)  # comments
    return [m.group(1) for m in re.finditer(r'"((?:[^"\\\n]|\\.)*)"', code)]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _plain(text: str) -> str:
    return " ".join(re.sub(r"\{(\d+)\}", r"\1", text).split())


def test_every_key_of_the_page_is_in_the_table_and_every_entry_is_used() -> None:
    page, script = _page(), _script_keys()
    assert len(page.keys) >= 14 and len(script) >= 20
    used = page.keys | script
    assert sorted(used - PAGE_TEXTS.keys()) == []  # a key the table lacks
    assert sorted(PAGE_TEXTS.keys() - used) == []  # an entry nothing shows


def test_the_html_defaults_are_the_italian_texts_of_the_table() -> None:
    """Without JavaScript the page is the Italian one: index.html's texts are the table's."""
    page = _page()
    wrong = {
        key: (default, PAGE_TEXTS[key])
        for key, default in page.defaults.items()
        if " ".join(default.split()) != _plain(PAGE_TEXTS[key])
    }
    assert wrong == {}


def test_the_page_writes_no_sentence_of_its_own() -> None:
    """Every text is a key: index.html shows nothing without one, chat.js holds no sentence."""
    assert _page().unkeyed == []
    sentences = [
        literal
        for literal in _literals()
        if literal not in PAGE_TEXTS
        and literal not in DIRECTIVES
        and (still_italian(literal) or re.search(r"[A-Za-zà-ù]{3,} [A-Za-zà-ù]{3,}", literal))
    ]
    assert sentences == []


@pytest.mark.parametrize("code", TARGETS)
def test_every_text_of_the_page_is_translated_and_not_italian(code: str) -> None:
    problems = []
    table = page_texts(code)
    for key, italian in PAGE_TEXTS.items():
        if not translated(code, italian):
            problems.append(f"{key}: missing")
            continue
        text = table[key]
        if _fields(text) != _fields(italian):
            problems.append(f"{key}: fields {_fields(text)} != {_fields(italian)}")
        if text == italian or still_italian(text):
            problems.append(f"{key}: still Italian {text!r} {still_italian(text)}")
    assert problems == []


def test_every_language_gets_the_whole_table() -> None:
    listed = page_languages()
    assert [item["code"] for item in listed] == list(languages().codes)
    for item in listed:
        assert item["dir"] == "ltr" and item["texts"].keys() == PAGE_TEXTS.keys()
    assert page_texts(languages().source) == PAGE_TEXTS


def test_the_checks_can_fail() -> None:
    assert still_italian(PAGE_TEXTS["attach_hint"])
    assert still_italian(PAGE_TEXTS["empty_message"])
    assert re.search(r"[A-Za-zà-ù]{3,} [A-Za-zà-ù]{3,}", "Il file non è partito")
    parser = _Page()
    parser.feed('<p>Ciao</p><p data-text="send">Invia</p><input placeholder="Scrivi qui">')
    assert parser.unkeyed == ["Ciao", "<input placeholder='Scrivi qui'>"]
    assert parser.defaults == {"send": "Invia"}
