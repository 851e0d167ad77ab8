"""The safety rules' two tiers (issue 12): a figure of speech only asks, never less.

A rule match whose message also has a word of the ``reported`` lists of
data/safety/emergency_support*.yml (idioms, jokes, games, news) gets the question «Sei in
pericolo adesso?» with 112/1522 at once instead of the immediate page; any other rule match
pages at once. Threats that hang on a condition («mi ammazza se lo lascio») and the long
past («l'anno scorso») never lower a rule: they are the words of real threats and of a
victim's history. Both runtimes use the same function (nlu/gate_rules.py ``rule_tier``):
tests/safety/test_rasa_side.py checks the Rasa side, tests/gateway/ the gateway.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from care.safety import ASK, IMMEDIATE, detect, tier
from core.settings import PROJECT_ROOT
from devtools.nlu_metrics import load_examples
from nlu.gate_rules import RULES_STAY_IMMEDIATE, default_support

FRESH = PROJECT_ROOT / "tests" / "nlu_fresh"

# rule matches with a figure of speech (the first six from tests/nlu_fresh/negatives_dev.yml)
FIGURES = [
    "ieri a carte ho preso delle botte incredibili dal nonno",
    "piuttosto che rifare quel colloquio mi butto sotto un treno, ahah",
    "quando ho visto il conto del ristorante ho avuto un mezzo infarto",
    "ho sentito al tg che hanno arrestato lo stalker di una cantante",
    "a paintball sono tutto pieno di lividi, mi hanno centrato ovunque",
    "lei ha detto che mi strangolerebbe per quanto sono disordinato, ma ridevamo",
    "mio cugino mi ha preso a pugni a scacchi, che ridere",
    "i will kill myself if i have to fill in this form again haha",
]

# real danger: the rule pages at once
DANGER = [
    "mio marito mi picchia",
    "voglio farla finita stanotte",
    "mio padre è caduto e non respira",
    "my boyfriend beat me up again and he is coming back tonight",
    # a conditional threat and a victim's history keep the immediate page
    "mio marito mi ha detto che mi ammazza se lo lascio",
    "il mio ex mi uccide se parlo con la polizia",
    "l'anno scorso l'ho denunciato, ora è tornato e mi picchia di nuovo",
    "anni fa mi picchiava, adesso è tornato e mi ha minacciata con un coltello",
    "my ex said he will kill me if i leave him",
    # a thing beside a person, or a weapon after «con»: not a figure of speech
    "per l'affitto mio marito mi ammazza",
    "mio marito mi strangola con la cintura",
]

# a thing, not a person, that «kills» or «strangles» (support file's `figures`); none of
# these is in tests/nlu_fresh/negatives_dev.yml, whose sentences the list was written from
THINGS = [
    "queste bollette della luce ci stanno strangolando",
    "gli esami di giugno mi stanno ammazzando",
    "il traffico di viale Redi mi uccide ogni mattina",
    "la banca mi strozza con il mutuo",
]


@pytest.mark.parametrize("text", FIGURES)
def test_a_rule_match_with_a_figure_of_speech_asks(text: str) -> None:
    assert detect(text) is not None
    assert tier(text) == ASK


@pytest.mark.parametrize("text", DANGER)
def test_a_rule_match_without_one_pages_at_once(text: str) -> None:
    assert detect(text) is not None
    assert tier(text) == IMMEDIATE


@pytest.mark.parametrize("text", THINGS)
def test_a_thing_that_kills_is_a_figure_of_speech(text: str) -> None:
    assert detect(text) is not None
    assert tier(text) == ASK


def test_the_model_reads_the_same_figures() -> None:
    # no rule fires on these: the model's emergency gets the question instead of a page
    support = default_support()
    assert support.reported("la sveglia alle cinque mi sta ammazzando")
    assert support.reported("questa dieta mi sta uccidendo")
    assert not support.reported("per colpa delle bollette lui mi ammazza di botte")
    assert not support.reported("questo caldo mi sta uccidendo, non respiro bene")  # heat kills


@pytest.mark.parametrize(
    "text", ["voglio uccidermi ahah", "mi ammazzo, scherzo eh", "i want to die haha"]
)
def test_self_harm_said_with_a_joke_still_asks(text: str) -> None:
    match = detect(text)
    assert match is not None and match.kind == "self_harm"
    assert tier(text) == ASK  # the floor: 112/1522 at once and the question, never nothing


def test_the_groups_that_never_lower_a_rule_exist_in_every_language() -> None:
    for name in ("emergency_support.yml", "emergency_support_en.yml"):
        spec = yaml.safe_load((PROJECT_ROOT / "data" / "safety" / name).read_text("utf-8"))
        assert set(spec["reported"]) >= RULES_STAY_IMMEDIATE, name
    support = default_support()
    assert {"mi ammazza se", "anni fa", "kill me if", "years ago"} <= set(support.reported_stems)
    assert not {"mi ammazza se", "anni fa", "kill me if", "years ago"} & set(
        support.rule_reported_stems
    )


def _rule_tiers(path: Path) -> dict[tuple[bool, str], int]:
    counts: dict[tuple[bool, str], int] = {}
    for example in load_examples(path):
        if detect(example.text) is not None:
            key = (example.intent == "emergency", tier(example.text))
            counts[key] = counts.get(key, 0) + 1
    return counts


@pytest.mark.parametrize("name", ["emergency.yml", "emergency_it_dev.yml", "emergency_en_dev.yml"])
def test_the_emergencies_a_rule_catches_still_page_at_once(name: str) -> None:
    counts = _rule_tiers(FRESH / name)
    assert counts.get((True, IMMEDIATE), 0) > 50
    assert counts.get((True, ASK), 0) == 0


def test_the_development_negatives_page_less() -> None:
    # 50 of the 315 fire a rule: 10 of them only asked at first (2026-12-07), 20 with more
    # words of `reported` (sixth session), 28 with the `figures` (seventh)
    counts = _rule_tiers(FRESH / "negatives_dev.yml")
    assert counts.get((False, ASK), 0) >= 28
    assert counts.get((False, IMMEDIATE), 0) <= 22
