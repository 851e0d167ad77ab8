"""The conversation's language: the detector on short chat messages, and the rule that
never flips a conversation on one ambiguous message (conversations/language.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conversations.language import (
    CHOSEN,
    DETECTED,
    Detection,
    LanguageState,
    detect,
    next_state,
)
from core.i18n import languages, load_languages

HERE = Path(__file__).resolve().parent
ENGLISH = yaml.safe_load((HERE / "english_chat.yml").read_text(encoding="utf-8"))["messages"]
ITALIAN = [
    line.strip()[2:]
    for block in yaml.safe_load(
        (HERE.parent / "nlu_fresh" / "in_domain_dev.yml").read_text(encoding="utf-8")
    )["nlu"]
    for line in block["examples"].splitlines()
    if line.strip().startswith("- ")
]


def test_the_check_sets_are_what_the_docs_say() -> None:
    assert len(ENGLISH) == 110 and len(set(ENGLISH)) == 110
    assert len(ITALIAN) >= 300


def test_short_english_and_italian_chat_messages() -> None:
    """The figures of docs/languages.md: almost every message counts for its language, and
    not one counts for the other (what would flip a conversation)."""
    english = [detect(text) for text in ENGLISH]
    italian = [detect(text) for text in ITALIAN]
    english_ok = sum(d.confident and d.language == "en" for d in english)
    italian_ok = sum(d.confident and d.language == "it" for d in italian)
    assert english_ok >= 100, f"{english_ok}/{len(ENGLISH)} English messages recognised"
    assert italian_ok >= 0.95 * len(ITALIAN), f"{italian_ok}/{len(ITALIAN)} Italian ones"
    wrong_en = [
        t for t, d in zip(ENGLISH, english, strict=True) if d.confident and d.language == "it"
    ]
    wrong_it = [
        t for t, d in zip(ITALIAN, italian, strict=True) if d.confident and d.language == "en"
    ]
    assert wrong_en == [] and wrong_it == []


@pytest.mark.parametrize("text", ["ok", "sì", "no", "👍", "  ", "https://example.org/x", "/start"])
def test_too_little_to_tell_never_counts(text: str) -> None:
    assert not detect(text).confident


def test_candidate_languages_are_told_apart_but_not_supported() -> None:
    romanian = detect("bună ziua, caut un medic de familie pentru copilul meu")
    assert romanian.language == "ro" and romanian.confident and not romanian.supported


EN = Detection("en", 0.99, True, True)
IT = Detection("it", 0.99, True, True)
UNSURE_EN = Detection("en", 0.5, False, True)
RO = Detection("ro", 0.99, True, False)
UNDECIDED = LanguageState("it")


def _run(state: LanguageState, *detections: Detection) -> LanguageState:
    for detection in detections:
        state = next_state(state, detection)
    return state


def test_undecided_until_a_confident_message() -> None:
    assert _run(UNDECIDED, UNSURE_EN, RO) == UNDECIDED
    assert _run(UNDECIDED, UNSURE_EN, EN) == LanguageState("en", DETECTED)
    assert _run(UNDECIDED, IT) == LanguageState("it", DETECTED)


def test_one_message_never_flips_a_detected_language() -> None:
    italian = LanguageState("it", DETECTED)
    assert next_state(italian, EN) == LanguageState("it", DETECTED, "en", 1)
    assert _run(italian, EN, EN) == LanguageState("it", DETECTED, "en", 2)
    assert _run(italian, EN, EN, EN) == LanguageState("en", DETECTED)
    assert languages().rule.switch_after == 3


def test_the_run_must_be_consecutive() -> None:
    italian = LanguageState("it", DETECTED)
    # a confident message in the current language breaks the run; ambiguous ones do not
    assert _run(italian, EN, EN, IT, EN, EN) == LanguageState("it", DETECTED, "en", 2)
    assert _run(italian, EN, UNSURE_EN, RO, EN, EN) == LanguageState("en", DETECTED)


def test_a_chosen_language_is_never_changed_by_detection() -> None:
    chosen = LanguageState("it", CHOSEN)
    assert _run(chosen, EN, EN, EN, EN, EN) == chosen


def test_the_languages_file_is_checked(tmp_path: Path) -> None:
    bad = tmp_path / "languages.yml"
    bad.write_text("source: it\nlanguages:\n  - {code: en, name: English}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="source language"):
        load_languages(bad)
    config = languages()
    assert config.codes == ("it", "en")
    assert set(config.detect_also) == {"ro", "sq", "zh", "ar"}
