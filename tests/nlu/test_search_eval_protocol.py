"""The search-by-paraphrase protocol (devtools/search_eval.py), on scripted replies: which
question gets which answer, and what counts as answered."""

from __future__ import annotations

from typing import Any

from devtools.search_eval import NOT_IN_DANGER, OTHER_PAYLOAD, SKIP_ANSWER, Request, converse

DETAILS = '/service_details{"service_code":"%s"}'
CATEGORY = {"s-home": "home_care", "s-house": "housing"}
DANGER = {
    "text": "Sei in pericolo adesso?",
    "buttons": [{"title": "Sì", "payload": "/emergency"}, {"title": "No", "payload": "/deny"}],
}
ZONE = {"text": "In quale zona?", "buttons": [{"title": "Non importa", "payload": "/deny"}]}


def results(code: str) -> dict[str, Any]:
    return {"text": "Ho trovato 1 servizio:", "buttons": [{"payload": DETAILS % code}]}


def scripted(first: dict[str, Any], answers: dict[str, dict[str, Any]]) -> tuple[Any, list[str]]:
    sent: list[str] = []

    def send(sender: str, text: str) -> list[dict[str, Any]]:
        sent.append(text)
        return [first] if len(sent) == 1 else [answers.get(text, {"text": "?"})]

    return send, sent


def test_the_danger_question_is_answered_no() -> None:
    send, sent = scripted(DANGER, {NOT_IN_DANGER: results("s-home")})
    outcome = converse(send, Request("mia nonna è sola", "home_care"), CATEGORY.get)
    assert sent[1:] == ["no"]
    assert outcome.ok and outcome.questions == 1 and outcome.asked == "danger"


def test_a_zone_question_is_answered_non_importa() -> None:
    send, sent = scripted(ZONE, {SKIP_ANSWER: results("s-house")})
    outcome = converse(send, Request("cerco casa", "housing"), CATEGORY.get)
    assert sent[1:] == ["non importa"]
    assert outcome.ok and outcome.asked == "other"


def test_the_wrong_kind_is_a_miss() -> None:
    send, _ = scripted(results("s-house"), {})
    outcome = converse(send, Request("una badante", "home_care"), CATEGORY.get)
    assert not outcome.ok and outcome.questions == 0


def test_the_independent_sets_misses_are_never_listed() -> None:
    from devtools.search_eval import (
        DEV_PARAPHRASES,
        FRESH_PARAPHRASES_B,
        HEADLINE_PARAPHRASES,
        PARAPHRASE_SETS,
        show_misses,
    )

    assert show_misses(True, DEV_PARAPHRASES)
    assert not show_misses(True, HEADLINE_PARAPHRASES)
    assert not show_misses(True, FRESH_PARAPHRASES_B)
    assert not show_misses(False, DEV_PARAPHRASES)
    assert PARAPHRASE_SETS["2026-12-07b (fresh, untuned)"] == FRESH_PARAPHRASES_B


def kinds_question(*kinds: str, other: bool = True) -> dict[str, Any]:
    buttons = [{"title": k, "payload": f'/inform{{"service_category":"{k}"}}'} for k in kinds]
    if other:
        buttons.append({"title": "Altro", "payload": OTHER_PAYLOAD})
    return {"text": "Cerchi uno di questi servizi?", "buttons": buttons}


def test_a_candidate_of_the_expected_kind_is_tapped() -> None:
    payload = '/inform{"service_category":"home_care"}'
    send, sent = scripted(kinds_question("housing", "home_care"), {payload: results("s-home")})
    outcome = converse(send, Request("una mano per mia madre", "home_care"), CATEGORY.get)
    assert sent[1:] == [payload]
    assert outcome.ok and outcome.questions == 1 and outcome.asked == "category"
    assert not outcome.strict  # the figure of before the candidates counts it a miss
    assert outcome.candidates == ("housing", "home_care")


def test_candidates_without_the_expected_kind_are_a_miss() -> None:
    send, sent = scripted(kinds_question("housing"), {})
    outcome = converse(send, Request("una mano per mia madre", "home_care"), CATEGORY.get)
    assert sent[1:] == [] and not outcome.ok


def test_the_full_question_about_the_kind_is_still_a_miss() -> None:
    """The fixed buttons of utter_ask_service_category (no «Altro») are not candidates."""
    send, sent = scripted(kinds_question("housing", "home_care", other=False), {})
    outcome = converse(send, Request("una mano per mia madre", "home_care"), CATEGORY.get)
    assert sent[1:] == [] and not outcome.ok and outcome.asked == "category"
