"""The out-of-domain detector (issue 12 point 1): the gate's use of it, and the component.

The decision is nlu/gate_rules.decide (pure, run here in Python 3.11); the classifier is
nlu/ood_model.py inside the Rasa component nlu/ood_detector.py (scikit-learn, Rasa's
environment: tests/nlu/rasa_side_ood.py trains it on data/nlu/ and runs it).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml

from core.settings import PROJECT_ROOT
from devtools.gate_eval import Outcome, config_settings, outcome, redecide
from nlu.gate_rules import ASK, FALLBACK, IMMEDIATE, GateSettings, decide, default_support
from tests.nlu.rasa_side import run_rasa_side

SETTINGS = GateSettings(
    immediate_confidence=0.99,
    ask_confidence=0.2,
    unsupported_confidence=0.7,
    low_confidence_intent="out_of_scope",
    ood_threshold=0.5,
)


def run(text: str, p: float | None, *pairs: tuple[str, float], settings=SETTINGS):
    ranking = [{"name": n, "confidence": c} for n, c in pairs]
    return decide(text, ranking, pairs[0][0], settings, default_support(), ood_probability=p)


def test_a_welfare_intent_the_detector_calls_out_of_domain_is_turned_away() -> None:
    decision = run("che tempo fa domani a prato", 0.8, ("service_details", 0.97))
    assert (decision.intent, decision.tier) == ("out_of_scope", None)
    assert decision.by_detector and decision.changed
    assert decision.as_dict()["ood_probability"] == 0.8


def test_under_the_threshold_or_without_a_detector_nothing_changes() -> None:
    for p in (0.49, None):
        decision = run("cerco un doposcuola", p, ("search_service", 0.97))
        assert decision.intent == "search_service" and not decision.by_detector


def test_threshold_zero_switches_the_detector_off() -> None:
    off = GateSettings(low_confidence_intent="out_of_scope")
    decision = run("metti la sveglia", 1.0, ("forget_me", 0.9), settings=off)
    assert decision.intent == "forget_me" and not decision.by_detector


@pytest.mark.parametrize("intent", ["greet", "goodbye", "thank", "bot_challenge"])
def test_social_intents_are_never_turned_away(intent: str) -> None:
    assert run("ciao", 0.99, (intent, 0.9)).intent == intent


def test_the_fallback_is_left_to_the_two_stage_fallback() -> None:
    ranking = [{"name": "inform", "confidence": 0.45}, {"name": "help", "confidence": 0.4}]
    decision = decide("boh mah", ranking, FALLBACK, SETTINGS, default_support(), 0.9)
    assert decision.intent == FALLBACK and not decision.by_detector


def test_a_model_emergency_is_never_touched_by_the_detector() -> None:
    doubted = run("mi ha picchiata stanotte", 0.9, ("emergency", 0.995))
    assert (doubted.intent, doubted.tier) == ("emergency", IMMEDIATE)
    unsupported = run("chiamate la polizia", 0.9, ("emergency", 0.8))
    assert (unsupported.intent, unsupported.tier) == ("emergency", ASK)
    assert not doubted.by_detector and not unsupported.by_detector


def test_a_word_of_danger_keeps_a_welfare_intent_from_the_detector() -> None:
    decision = run("mio padre è caduto, cercavo un aiuto in casa", 0.9, ("search_service", 0.9))
    assert decision.intent == "search_service" and not decision.by_detector


def test_an_emergency_already_asked_stays_asked() -> None:
    decision = run("mia madre è caduta in bagno", 0.95, ("search_service", 0.6), ("emergency", 0.3))
    assert (decision.intent, decision.tier) == ("emergency", ASK)
    assert not decision.by_detector


def test_a_very_sure_detector_overrides_an_everyday_word_never_a_word_of_danger() -> None:
    sure = replace(SETTINGS, ood_ask_only_threshold=0.9)
    support = default_support()
    everyday = "ho una paura folle dei serpenti, consigli per un documentario?"
    assert support.supports(everyday) and not support.supports_immediate(everyday)
    # off (0) as before: any word of the support list protects the message
    assert run(everyday, 0.95, ("search_service", 0.9)).intent == "search_service"
    turned = run(everyday, 0.95, ("search_service", 0.9), settings=sure)
    assert (turned.intent, turned.tier, turned.by_detector) == ("out_of_scope", None, True)
    assert run(everyday, 0.85, ("search_service", 0.9), settings=sure).intent == "search_service"
    danger = "mi ha picchiata, cerco un centro antiviolenza"
    assert support.supports_immediate(danger)
    assert run(danger, 0.99, ("search_service", 0.9), settings=sure).intent == "search_service"
    # the emergency question comes first: never hidden by the detector
    asked = run(everyday, 0.99, ("search_service", 0.6), ("emergency", 0.3), settings=sure)
    assert (asked.intent, asked.tier) == ("emergency", ASK)


def test_the_shipped_config_lets_only_a_very_sure_detector_past_an_everyday_word() -> None:
    settings = config_settings()
    assert settings.ood_threshold < settings.ood_ask_only_threshold < 1.0
    assert GateSettings.from_config({}).ood_ask_only_threshold == 0.0


def test_the_settings_read_the_threshold_from_the_config() -> None:
    assert GateSettings.from_config({"ood_threshold": 0.45}).ood_threshold == 0.45
    assert GateSettings.from_config({}).ood_threshold == 0.0


def test_config_runs_the_detector_before_the_gate_with_a_threshold() -> None:
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    names = [c["name"] for c in config["pipeline"]]
    detector = names.index("nlu.ood_detector.OodDetector")
    assert names.index("DIETClassifier") < detector < names.index("nlu.intent_gate.IntentGate")
    assert 0.0 < config_settings().ood_threshold < 1.0


def test_the_evaluation_replays_the_recorded_probability() -> None:
    parsed = {
        "intent": {"name": "service_details"},
        "intent_gate": {"model_ranking": [["service_details", 0.97], ["out_of_scope", 0.02]]},
        "ood_detector": {"probability": 0.7},
    }
    text = "che tempo fa domani a prato"
    assert redecide(text, parsed, SETTINGS) == Outcome("out_of_scope", "none", True)
    parsed["ood_detector"] = {"probability": 0.3}
    assert redecide(text, parsed, SETTINGS) == Outcome("service_details", "none", False)
    recorded = {"intent": {"name": "out_of_scope"}, "intent_gate": {"by_detector": True}}
    assert outcome(text, recorded).by_detector


def test_the_rasa_component_trains_stores_loads_and_feeds_the_gate() -> None:
    # needs Rasa's environment but not the trained model: not marked `rasa`, so running it
    # never starts a training of the model (tests/fixtures/rasa.py)
    answer = run_rasa_side("rasa_side_ood.py", timeout=600)
    probability = answer["probability"]
    assert probability["che tempo farà sabato a Prato?"] > 0.5
    assert probability["metti una canzone dei Pink Floyd"] > 0.5
    assert probability["cerco un centro estivo per mia figlia di 9 anni"] < 0.5
    assert probability["quanto mi resta sul budget welfare?"] < 0.5
    assert probability["/greet"] is None  # a button: left alone
    # trained on Italian and English together, with refunds and charges that are not ours
    assert probability["il comune mi ridà i soldi della tari pagata per sbaglio?"] > 0.5
    assert probability["can the comune give back the bin tax I paid by mistake?"] > 0.5
    assert probability["the bank charged me twice for the same coffee"] > 0.5
    assert probability["please cancel the voucher for the swimming course"] < 0.5
    assert probability["how much money is left on my welfare budget?"] < 0.5
    # a sure model emergency stays immediate however out of domain it sounds (an idiom such
    # as «mi uccide dal ridere» only asks since 2026-12-07: tests/nlu/test_gate_idioms.py)
    assert probability["questo comico mi uccide, guardate il suo spettacolo"] > 0.5
    assert answer["gate"] == [
        {"intent": "out_of_scope", "tier": None, "by_detector": True},
        {"intent": "search_service", "tier": None, "by_detector": False},
        {"intent": "emergency", "tier": IMMEDIATE, "by_detector": False},
    ]


def test_the_prototype_trains_on_every_yaml_file_of_both_folders_once(tmp_path) -> None:
    from devtools.ood_prototype import TRAIN_DIRS, training_files

    italian, english = tmp_path / "nlu", tmp_path / "nlu" / "en"
    english.mkdir(parents=True)
    for path in (italian / "a.yml", english / "b.yml", italian / "c.yaml"):
        path.write_text("nlu: []\n", encoding="utf-8")
    (english / "README.md").write_text("# not training data\n", encoding="utf-8")
    files = training_files([italian, english, tmp_path / "nlu_en"])  # nested, and missing
    assert [p.relative_to(tmp_path).as_posix() for p in files] == [
        "nlu/a.yml",
        "nlu/c.yaml",
        "nlu/en/b.yml",
    ]
    assert [d.name for d in TRAIN_DIRS] == ["nlu", "nlu_en"]


def test_the_prototype_scores_every_validation_split_through_the_gate() -> None:
    from devtools.gate_eval import DEV_SETS, OOD_DEV2
    from devtools.ood_prototype import DEV2, dev

    assert DEV2 == OOD_DEV2 and OOD_DEV2 in DEV_SETS  # gate_eval --calibrate-ood uses it too

    splits = {s.name: s for s in dev()}
    sizes = {name: len(s.texts) for name, s in splits.items()}
    assert sizes["dev2 OOD it"] >= 300 and sizes["dev2 OOD en"] >= 60
    assert sizes["dev2 requests it"] >= 150 and sizes["dev2 requests en"] >= 50
    assert sizes["out_of_domain_dev OOD"] >= 160 and sizes["in_domain_dev requests"] >= 350
    requests = splits["in_domain_dev requests"]
    turnable = dict(zip(requests.texts, requests.turnable, strict=True))
    # the gate never lets the detector turn away a greeting, an emergency or a word of danger
    assert turnable["buongiorno a tutti"] is False
    assert turnable["aiuto, mi sta seguendo una macchina da mezz'ora"] is False  # emergency
    assert turnable["mio marito mi ha colpito con la cintura e ho paura che torni"] is False
    assert turnable["ciao assistente"] is False
    ood = splits["dev2 OOD it"]
    assert dict(zip(ood.texts, ood.turnable, strict=True))["metti la sveglia alle 6 e un quarto"]
