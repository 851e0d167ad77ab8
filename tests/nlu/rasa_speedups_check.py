"""Run by tests/nlu/test_rasa_speedups.py with Rasa's Python: Rasa's own validation of
action-server answers, before and after nlu.rasa_speedups, on the same answers."""

from __future__ import annotations

import json
import sys

from rasa.core.actions.action import RemoteAction

ANSWERS = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "quartiere", "value": "Rifredi"}], "responses": []},
    {"events": [{"event": "followup", "name": "action_listen"}], "responses": [{"text": "ok"}]},
    {"events": [{"event": "slot"}], "responses": []},  # a slot event without a name
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": "not a list", "responses": []},
    {"events": [], "responses": ["not an object"]},
    {"events": [{"event": "user", "text": 3}], "responses": []},
]


def outcomes() -> list[str]:
    action = RemoteAction("action_x", None)
    found = []
    for answer in ANSWERS:
        try:
            found.append("ok" if action._validate_action_result(answer) else "false")
        except Exception as error:  # the exception type and message are part of the contract
            found.append(f"{type(error).__name__}: {getattr(error, 'message', error)}")
    return found


if __name__ == "__main__":
    before = outcomes()
    from nlu.rasa_speedups import apply

    applied = apply()
    after = outcomes()
    print(json.dumps({"applied": applied, "before": before, "after": after}))
    sys.exit(0)
