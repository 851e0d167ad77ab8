"""English support words for the emergency tiers (data/safety/emergency_support_en.yml).

nlu/gate_rules.py reads every data/safety/emergency_support*.yml (Italian first) and merges
them: an English emergency DIET is unsure of now finds its words of danger and is asked
«Are you in danger now?», while English everyday words never make a page immediate.
"""

from __future__ import annotations

import pytest

from nlu.gate_rules import (
    ASK,
    FALLBACK,
    IMMEDIATE,
    SUPPORT_FILE,
    GateSettings,
    SupportWords,
    decide,
    default_support,
    merge_specs,
    support_files,
)

ENGLISH_FILE = SUPPORT_FILE.with_name("emergency_support_en.yml")
# as config.yml: the question without any support word only when DIET is fairly sure
SETTINGS = GateSettings(
    immediate_confidence=0.99,
    ask_confidence=0.2,
    unsupported_confidence=0.7,
    low_confidence_intent=FALLBACK,
)


def run(text: str, *pairs: tuple[str, float]):
    ranking = [{"name": name, "confidence": conf} for name, conf in pairs]
    return decide(text, ranking, str(ranking[0]["name"]), SETTINGS, default_support())


def test_the_english_file_is_loaded_beside_the_italian_one() -> None:
    files = support_files()
    assert files[0] == SUPPORT_FILE and ENGLISH_FILE in files
    english = SupportWords.from_file(ENGLISH_FILE)
    support = default_support()
    assert set(english.stems) <= set(support.stems)
    assert set(english.ask_stems) <= set(support.ask_stems)
    assert {"stabbed", "unconscious", "kill myself"} <= set(support.stems)
    assert {"scared", "blood", "fell"} <= set(support.ask_stems)
    # the two lists stay apart once merged, as in each file
    assert set(support.stems) & set(support.ask_stems) == set()


def test_files_are_merged_group_by_group() -> None:
    merged = merge_specs(
        [
            {"groups": {"violence": ["picchi"]}, "ask_only": {"medical": ["sangu"]}},
            {"groups": {"violence": ["hit me"], "medical": ["bleeding"]}},
        ]
    )
    assert merged["groups"] == {"violence": ["picchi", "hit me"], "medical": ["bleeding"]}
    assert merged["ask_only"] == {"medical": ["sangu"]}


@pytest.mark.parametrize(
    "text",
    [
        "he punched me and locked me in the bedroom",
        "my flatmate is unconscious and not breathing",
        "i want to kill myself tonight",
        "my husband stabbed my brother",
    ],
)
def test_an_unsure_english_emergency_with_words_of_danger_is_asked(text: str) -> None:
    decision = run(text, ("emergency", 0.45), ("out_of_scope", 0.3))
    assert (decision.intent, decision.tier) == ("emergency", ASK)
    assert decision.supported_immediate
    # emergency second in the ranking, over ask_confidence: asked too
    decision = run(text, ("search_service", 0.6), ("emergency", 0.3))
    assert (decision.intent, decision.tier) == ("emergency", ASK)
    # and a sure model with such a word pages at once
    assert run(text, ("emergency", 0.999), ("out_of_scope", 0.0)).tier == IMMEDIATE


def test_an_unsure_english_emergency_with_an_everyday_word_is_asked() -> None:
    decision = run("i am scared, someone keeps ringing", ("emergency", 0.45), ("inform", 0.3))
    assert (decision.intent, decision.tier) == ("emergency", ASK)
    assert not decision.supported_immediate


@pytest.mark.parametrize(
    "text",
    [
        "i'm scared of spiders",
        "my back hurts after the gym",
        "i'm dying to see the new film",
        "this heat is killing me",
        "i fell asleep on the bus",
        "is there a fire safety course for carers?",
        "where can i buy a smoke alarm",
        "do i need a blood test before the visit?",
        "my cat was sick on the sofa",
        "my parcel is missing since days",
        "my son swallowed a chewing gum, is it bad?",
    ],
)
def test_english_everyday_sentences_are_never_immediate(text: str) -> None:
    decision = run(text, ("emergency", 0.999), ("out_of_scope", 0.0))
    assert decision.tier != IMMEDIATE
    assert not default_support().supports_immediate(text)


def test_plain_pleas_are_not_support_words() -> None:
    support = default_support()
    for text in ("can you help me find a nursery?", "urgent question about my bill", "help"):
        assert not support.supports(text)
        decision = run(text, ("emergency", 0.5), ("search_service", 0.3))
        assert decision.intent == FALLBACK


@pytest.mark.parametrize(
    "text",
    [
        "domani piove a Firenze?",
        "offerta luce e gas più conveniente",
        "c'è qualcuno dietro la chat?",
        "costano dieci euro",
        "cura della cute per anziani",
        "prenotare una visita cardiaca",
        "laboratori per bambini all'Isolotto",
        "controlla il mio saldo",
        "illuminazione pubblica rotta",
        "rumori molesti di notte dal bar",
        "costruzioni abusive nel quartiere",
        "lo stabile comunale di via Canova",
        "il fallimento della ditta",
    ],
)
def test_english_stems_start_no_common_italian_word(text: str) -> None:
    english = SupportWords.from_file(ENGLISH_FILE)
    assert not english.supports(text)
