"""Idioms, hyperbole, jokes and games cap the model's emergency at the question.

Issue 12 point 2 (2026-12-07): a sure DIET emergency with a word of danger paged a Care
Manager at once on «mi ammazza di risate quel comico» or «mio padre mi uccide se graffio
la macchina». The ``reported`` list of data/safety/emergency_support*.yml now holds these
figures of speech too: the page becomes the question «Sei in pericolo adesso?» with
112/1522 at once, never less. Real danger told with the same words still pages at once,
through the safety rules or because no such figure is in the message. A safety rule's match
with such a figure only asks too (nlu/gate_rules.py ``rule_tier``; tests/safety/
test_rule_tiers.py), except a threat that hangs on a condition or the long past.
"""

from __future__ import annotations

import pytest

from nlu.gate_rules import (
    ASK,
    EMERGENCY,
    IMMEDIATE,
    GateSettings,
    decide,
    default_support,
    rule_tier,
)
from nlu.safety_rules import detect
from tests.fixtures.rasa import RasaStack

SETTINGS = GateSettings(immediate_confidence=0.99, ask_confidence=0.2)


def tier(text: str) -> tuple[str, str | None]:
    ranking = [
        {"name": EMERGENCY, "confidence": 0.999},
        {"name": "out_of_scope", "confidence": 0.0},
    ]
    decision = decide(text, ranking, EMERGENCY, SETTINGS, default_support())
    return decision.intent, decision.tier


@pytest.mark.parametrize(
    "text",
    [
        # hyperbole
        "mi ammazza di risate quel comico",
        "mi sono ammazzato di risate al cabaret",
        "quel cabarettista ci ha uccisi dalle risate",
        "mi sto ammazzando di straordinari questo mese",
        "ho ammazzato il tempo giocando a solitario",
        # a threat that hangs on a trifle
        "mio padre mi uccide se graffio la macchina",
        "la nonna mi ammazza se non finisco la minestra",
        "mia sorella mi uccide se le macchio il vestito",
        # jokes and games
        "il mio socio mi ha picchiato a briscola ahah",
        "mio cugino mi ha ucciso a fortnite",
        "a scacchi l'ho massacrato e preso a botte",
        # long past, talk about the services
        "mia madre ha avuto un infarto nel 2019, ora sta benissimo",
        "organizziamo una raccolta fondi per le vittime di violenza",
        "my boss will kill me if i am late again",
        # hyperbole, dreams, the radio (2026-12-07, sixth session)
        "prendere la tangenziale alle otto è un suicidio",
        "stanotte ho sognato che mi accoltellavano",
        "per poco non mi veniva un infarto quando ho visto la bolletta",
        "hanno detto alla radio che hanno accoltellato un ragazzo in centro",
    ],
)
def test_a_figure_of_speech_caps_a_sure_emergency_at_the_question(text: str) -> None:
    assert default_support().supports(text)  # a word of danger: the question stays
    assert tier(text) == (EMERGENCY, ASK)


@pytest.mark.parametrize(
    "text",
    [
        "mio marito mi ha picchiata di nuovo e dice che stanotte mi ammazza",
        "mio figlio sta morendo di fame, non mangia da tre giorni",
        "mio figlio non mangia da tre giorni, muore di fame",
        "mi ha colpita con un pugno e sanguino",
        "sto per ammazzarmi, ho le pastiglie in mano",
    ],
)
def test_danger_without_such_a_figure_still_pages_at_once(text: str) -> None:
    assert tier(text) == (EMERGENCY, IMMEDIATE)


@pytest.mark.parametrize(
    "text",
    [
        "mio marito mi ha detto che mi ammazza se lo lascio",
        "il mio ex mi uccide se parlo con la polizia",
    ],
)
def test_a_real_threat_with_the_same_words_pages_through_the_rules(text: str) -> None:
    # the gate only asks («mi ammazza se»), the safety rule pages at once: a conditional
    # threat never lowers a rule's match (RULES_STAY_IMMEDIATE)
    assert tier(text) == (EMERGENCY, ASK)
    assert detect(text) is not None
    assert rule_tier(text, default_support()) == IMMEDIATE


def test_the_figures_never_touch_the_lists_of_danger_words() -> None:
    support = default_support()
    reported = set(support.reported_stems)
    assert {"di risate", "mi uccide se", "a briscola", "kill me if"} <= reported
    assert reported.isdisjoint(support.stems)
    assert reported.isdisjoint(support.ask_stems)
    # left out on purpose: hunger, cold, heat and not waking up are emergencies
    for phrase in ("di fame", "di freddo", "di caldo", "dal sonno", "e una bomba"):
        assert phrase not in reported


@pytest.mark.rasa
def test_a_rule_match_with_a_figure_of_speech_only_asks_inside_rasa(rasa_stack: RasaStack) -> None:
    """The model's IntentGate writes ``rule_tier`` and its SafetyNet gives it to the match:
    the same tier as the gateway's care.safety.tier (issue 12: rules in two tiers)."""
    for text, tier in (
        ("ieri a carte ho preso delle botte incredibili dal nonno", ASK),
        ("fare la spesa alla vigilia di Natale è un suicidio", ASK),
        ("piuttosto che rifare quel colloquio mi butto sotto un treno, ahah", ASK),
        ("voglio uccidermi ahah", ASK),  # self-harm with a joke: at least the question
        ("mio marito mi picchia", IMMEDIATE),
        ("mio marito mi ha detto che mi ammazza se lo lascio", IMMEDIATE),
    ):
        parsed = rasa_stack.parse(text)
        assert parsed["intent"]["name"] == EMERGENCY, text
        assert parsed["safety_net"]["tier"] == tier, text
        assert parsed["intent_gate"]["rule_tier"] == tier, text
