"""nlu/gate_rules.py: the out-of-domain threshold and the two emergency tiers (no Rasa needed)."""

from __future__ import annotations

import ast
import sys

import pytest

from core.settings import PROJECT_ROOT
from nlu.gate_rules import (
    ASK,
    FALLBACK,
    IMMEDIATE,
    GateSettings,
    SupportWords,
    decide,
    default_support,
)

SETTINGS = GateSettings(
    immediate_confidence=0.8,
    ask_confidence=0.2,
    default_threshold=0.6,
    thresholds={"forget_me": 0.9},
    low_confidence_intent="out_of_scope",
)


def ranking(*pairs: tuple[str, float]) -> list[dict[str, object]]:
    return [{"name": name, "confidence": conf} for name, conf in pairs]


def run(text: str, *pairs: tuple[str, float], current: str | None = None):
    rank = ranking(*pairs)
    return decide(text, rank, current or str(rank[0]["name"]), SETTINGS, default_support())


def test_a_sure_model_with_words_of_danger_is_immediate() -> None:
    decision = run("stanotte mi ha picchiata di nuovo", ("emergency", 0.97), ("inform", 0.01))
    assert (decision.intent, decision.tier) == ("emergency", IMMEDIATE)


@pytest.mark.parametrize(
    "text", ["imposta una sveglia", "spazzatura", "sono attive le strisce blu?", "buca in strada"]
)
def test_a_sure_model_without_words_of_danger_only_asks(text: str) -> None:
    decision = run(text, ("emergency", 0.99), ("out_of_scope", 0.005))
    assert (decision.intent, decision.tier) == ("emergency", ASK)


@pytest.mark.parametrize(
    "text",
    [
        "al telegiornale hanno detto che un uomo ha picchiato la moglie",
        "sto leggendo un romanzo dove lei viene violentata",
        "oggi il sole picchia forte",
        "the news said a man stabbed his wife",
    ],
)
def test_danger_reported_or_figurative_only_asks(text: str) -> None:
    """A word of ``reported`` (news, fiction, research, idioms) caps the model's emergency
    at the question: 112/1522 at once, a person only after «Sì»."""
    decision = run(text, ("emergency", 1.0), ("out_of_scope", 0.0))
    assert (decision.intent, decision.tier) == ("emergency", ASK)


def test_news_about_someone_else_does_not_touch_a_real_page() -> None:
    # «notizie» is not a reported word: «no news of my sister» can be an emergency told
    decision = run(
        "non ho notizie di mia sorella da ieri, il marito la picchia", ("emergency", 0.99)
    )
    assert decision.tier == IMMEDIATE


def test_a_less_sure_model_asks_even_with_words_of_danger() -> None:
    decision = run("ho paura", ("emergency", 0.55), ("help", 0.3))
    assert decision.tier == ASK


def test_emergency_second_with_words_of_danger_asks() -> None:
    decision = run("mia madre è caduta in bagno", ("search_service", 0.6), ("emergency", 0.3))
    assert (decision.intent, decision.tier) == ("emergency", ASK)
    assert decision.changed


def test_emergency_second_without_words_of_danger_is_left_alone() -> None:
    decision = run("cerco un doposcuola", ("search_service", 0.6), ("emergency", 0.3))
    assert decision.intent == "search_service" and decision.tier is None


def test_the_fallback_does_not_hide_a_plausible_emergency() -> None:
    rank = ranking(("nlu_fallback", 0.5), ("emergency", 0.45), ("inform", 0.4))
    decision = decide("mi segue uno", rank, FALLBACK, SETTINGS, default_support())
    assert (decision.intent, decision.tier) == ("emergency", ASK)


def test_under_the_threshold_is_out_of_domain() -> None:
    assert run("boh", ("greet", 0.55), ("thank", 0.2)).intent == "out_of_scope"
    assert run("cancella la sveglia", ("forget_me", 0.85), ("out_of_scope", 0.1)).intent == (
        "out_of_scope"
    )
    assert run("cancellate i miei dati", ("forget_me", 0.95)).intent == "forget_me"


def test_the_decision_records_the_model_ranking() -> None:
    decision = run("mi picchia", ("emergency", 0.9), ("inform", 0.05))
    data = decision.as_dict()
    assert data["model_ranking"] == [["emergency", 0.9], ["inform", 0.05]]
    assert data["tier"] == IMMEDIATE and data["supported"] is True


def test_support_words_match_word_starts_and_phrases() -> None:
    words = SupportWords({"groups": {"a": ["picchi", "mani addosso"]}})
    assert words.supports("Mi PICCHIAVA sempre")
    assert words.supports("mi ha messo le mani addosso")
    assert not words.supports("ripicchi")  # not at a word start


def test_gate_rules_import_only_stdlib_and_yaml() -> None:
    tree = ast.parse((PROJECT_ROOT / "nlu" / "gate_rules.py").read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert {m for m in imported if m not in sys.stdlib_module_names and m != "yaml"} == set()


@pytest.mark.rasa
def test_the_rasa_component_applies_the_decision() -> None:
    from tests.nlu.rasa_side import run_rasa_side

    answer = run_rasa_side("rasa_side_gate.py")
    assert answer == [
        {"intent": "emergency", "tier": ASK},  # sure, but no word of danger
        {"intent": "emergency", "tier": IMMEDIATE},
        {"intent": "emergency", "tier": ASK},  # under the fallback, with a word of danger
        {"intent": "out_of_scope", "tier": None},
        {"intent": "emergency", "tier": None},  # a button: left to Rasa's regex handler
    ]


def test_an_unsure_model_without_words_of_danger_is_out_of_domain() -> None:
    settings = GateSettings(unsupported_confidence=0.7, low_confidence_intent="out_of_scope")
    rank = ranking(("emergency", 0.6), ("service_details", 0.25))
    decision = decide("chi ha inventato la radio?", rank, "emergency", settings, default_support())
    assert (decision.intent, decision.tier) == ("out_of_scope", None)
    sure = decide(
        "chi ha inventato la radio?",
        ranking(("emergency", 0.9), ("inform", 0.05)),
        "emergency",
        settings,
        default_support(),
    )
    assert sure.tier == ASK


@pytest.mark.parametrize(
    "text",
    [
        "ho una paura tremenda dei ragni",
        "mi sono tagliata i capelli cortissimi",
        "ho bruciato la torta di mele",
        "l'amministratore non risponde da una settimana",
        "sto morendo di caldo in ufficio",
        "il telefono sta per morire, dove lo carico",
        "il gatto ha vomitato sul tappeto",
        "domani devo fare gli esami del sangue",
        "sono in strada, arrivo tra cinque minuti",
        "cerco un'agenzia immobiliare in centro",
        "sei bravo a calcio?",
        "il vino va tenuto al freddo?",
        "quell'incrocio è pericoloso di notte",
    ],
)
def test_a_sure_model_on_everyday_or_figurative_words_only_asks(text: str) -> None:
    decision = run(text, ("emergency", 0.999), ("out_of_scope", 0.0005))
    assert (decision.intent, decision.tier) == ("emergency", ASK)
    assert decision.supported_immediate is False


@pytest.mark.parametrize(
    "text",
    [
        "ho paura di lui, stanotte mi ha minacciata",
        "mi taglio le braccia quando sto così",
        "voglio morire, non ce la faccio più",
        "mia madre è caduta e non si muove",
        "c'è puzza di gas in tutto il palazzo",
        "il bambino ha bevuto la candeggina",
        "siamo fuori con i bimbi e non abbiamo dove dormire",
        "mon copain me frappe tous les jours",
        "sono in pericolo, mi ha colpita con la cintura",
    ],
)
def test_a_sure_model_with_words_of_danger_in_phrases_is_immediate(text: str) -> None:
    decision = run(text, ("emergency", 0.999), ("inform", 0.0005))
    assert (decision.intent, decision.tier) == ("emergency", IMMEDIATE)


def test_an_ambiguous_word_still_lets_a_second_emergency_ask() -> None:
    decision = run("ho paura, sento dei rumori", ("out_of_scope", 0.6), ("emergency", 0.3))
    assert (decision.intent, decision.tier) == ("emergency", ASK)
    assert decision.supported and not decision.supported_immediate


def test_ask_only_words_never_make_a_page_immediate() -> None:
    words = SupportWords({"groups": {"a": ["mani addosso"]}, "ask_only": {"a": ["paura"]}})
    assert words.supports("ho paura") and not words.supports_immediate("ho paura")
    assert words.supports_immediate("mi ha messo le mani addosso")
    assert not words.supports("imposta una sveglia")


def test_the_support_file_keeps_its_two_lists_apart() -> None:
    support = default_support()
    assert support.stems and support.ask_stems
    assert set(support.stems) & set(support.ask_stems) == set()
    # the bare ambiguous words are on the question's list only
    for word in ("paura", "tagli", "brucia", "non risponde", "mori", "sangu", "vomit"):
        assert word in support.ask_stems and word not in support.stems
