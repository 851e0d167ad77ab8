"""bot.rendering: Rasa's REST-channel replies -> channel-neutral replies and directives."""

from __future__ import annotations

from bot.rendering import render_rasa
from conversations.outgoing import Button


def test_text_and_buttons() -> None:
    turn = render_rasa(
        [
            {
                "recipient_id": "c",
                "text": "Scegli:",
                "buttons": [
                    {"title": "Sì", "payload": "/affirm"},
                    {"title": "", "payload": "/x"},
                    {"title": "No"},
                ],
            },
        ]
    )
    assert len(turn.replies) == 1
    assert turn.replies[0].text == "Scegli:"
    assert turn.replies[0].buttons == [Button("Sì", "/affirm")]
    assert turn.handoff is None


def test_page_marks_the_preceding_message() -> None:
    turn = render_rasa(
        [
            {
                "recipient_id": "c",
                "text": "Pagina 2",
                "buttons": [{"title": "Altri", "payload": "/more"}],
            },
            {"recipient_id": "c", "custom": {"type": "page", "page_key": "search_results"}},
        ]
    )
    assert [r.page_key for r in turn.replies] == ["search_results"]


def test_location_request_joins_a_bare_question_or_stands_alone() -> None:
    joined = render_rasa([{"text": "Dove sei?"}, {"custom": {"type": "location_request"}}])
    assert len(joined.replies) == 1 and joined.replies[0].location_request
    alone = render_rasa(
        [
            {"text": "Scegli il quartiere", "buttons": [{"title": "Q1", "payload": "/q1"}]},
            {"custom": {"type": "location_request"}},
        ]
    )
    assert len(alone.replies) == 2 and alone.replies[1].location_request
    assert alone.replies[1].text


def test_handoff_and_its_priority() -> None:
    turn = render_rasa(
        [
            {"text": "Ti passo un operatore"},
            {"custom": {"type": "handoff", "priority": "top", "reason": "emergency"}},
        ]
    )
    assert turn.handoff is not None and turn.handoff.priority == "top"
    odd = render_rasa([{"custom": {"type": "handoff", "priority": "subito"}}])
    assert odd.handoff is not None and odd.handoff.priority == "normal"


def test_images_and_unknown_payloads() -> None:
    turn = render_rasa(
        [
            {"image": "https://example.org/a.png"},
            {"custom": {"type": "carousel"}},
            "not a dict",
            {"text": ""},
        ]
    )  # type: ignore[list-item]
    assert len(turn.replies) == 1 and turn.replies[0].image == "https://example.org/a.png"
