"""The action server's body cap (ACTION_SERVER_MAX_BODY_BYTES): a larger call is refused with
413 before its body is read and never reaches an action; Rasa's call for a long conversation
(built by Rasa's own code from our domain) stays well under the default cap.

The action server runs as a process (``python -m server.action_server``) with a probe action
that leaves a file behind when it runs; real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from core.settings import PROJECT_ROOT, Settings
from devtools.rasa_env import RASA_PYTHON
from nlu.internal_auth import bearer
from tests.raw_http import declared_body
from tests.security.test_internal_doors import SECRET, running_action_server

CAP = 64 * 1024
DOMAIN = PROJECT_ROOT / "domain.yml"

PROBE_ACTION = """
from pathlib import Path

from rasa_sdk import Action

MARKS = Path(__file__).parent / "marks"


class ActionProbe(Action):
    def name(self):
        return "action_probe"

    async def run(self, dispatcher, tracker, domain):
        MARKS.mkdir(exist_ok=True)
        (MARKS / tracker.sender_id).write_text("ran")
        return []
"""


@dataclass
class ActionServer:
    url: str
    port: int
    marks: Path

    def call(self, sender: str, padding: int = 0) -> dict[str, object]:
        return {
            "next_action": "action_probe",
            "sender_id": sender,
            "tracker": {
                "sender_id": sender,
                "slots": {"padding": "x" * padding},
                "latest_message": {},
                "events": [],
            },
            "domain": {},
            "version": "3.6.21",
        }


@pytest.fixture
def action_server(tmp_path: Path, sqlite_url: str) -> Iterator[ActionServer]:
    package = tmp_path / "probe_actions"
    package.mkdir()
    (package / "__init__.py").write_text(PROBE_ACTION)
    with running_action_server(
        tmp_path,
        sqlite_url,
        actions="probe_actions",
        env={"ACTION_SERVER_MAX_BODY_BYTES": str(CAP)},
        python_path=(tmp_path,),
    ) as (url, port):
        yield ActionServer(url=url, port=port, marks=package / "marks")


def test_a_call_under_the_cap_runs_the_action(action_server: ActionServer) -> None:
    call = action_server.call("under", padding=CAP - 1024)
    answer = httpx.post(f"{action_server.url}/webhook", json=call, headers=bearer(SECRET))
    assert answer.status_code == 200, answer.text
    assert (action_server.marks / "under").read_text() == "ran"


def test_an_oversized_call_is_refused_and_runs_nothing(action_server: ActionServer) -> None:
    call = action_server.call("over", padding=CAP)
    answer = httpx.post(f"{action_server.url}/webhook", json=call, headers=bearer(SECRET))
    assert answer.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: cut while it is read
        body = json.dumps(action_server.call("chunked", padding=CAP)).encode()
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    chunked = httpx.post(
        f"{action_server.url}/webhook",
        content=chunks(),
        headers={**bearer(SECRET), "Content-Type": "application/json"},
    )
    assert chunked.status_code == 413
    assert not (action_server.marks / "over").exists()
    assert not (action_server.marks / "chunked").exists()


def test_a_declared_oversized_body_is_refused_before_it_is_sent(
    action_server: ActionServer,
) -> None:
    headers = {**bearer(SECRET), "Content-Type": "application/json"}
    with declared_body(action_server.url, "/webhook", size=100_000_000, headers=headers) as call:
        assert call.status_before_body() == 413  # and not one byte of the 100 MB sent


# Rasa's call to the action server for one long conversation, built by Rasa's own code
# (RemoteAction._action_call_format: the tracker's events since the session started, with
# our domain): each citizen turn carries its parse data (intent ranking, tokens, entities),
# the actions and slots it set and the bot's answer with buttons.
PAYLOAD_SIZE = textwrap.dedent(
    """
    import json, sys
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import (
        ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered)
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.load(sys.argv[1])
    turns, chars = int(sys.argv[2]), int(sys.argv[3])
    intents = list(domain.intents)[:10]
    slots = [s.name for s in domain.slots][:3]
    words = ("cerco un aiuto per mia madre anziana che vive da sola a Firenze " * 200)
    events = [ActionExecuted("action_session_start"), SessionStarted(),
              ActionExecuted("action_listen")]
    for turn in range(turns):
        text = words[:chars]
        tokens, start = [], 0
        for word in text.split(" "):
            tokens.append([start, start + len(word)])
            start += len(word) + 1
        ranking = [{"name": name, "confidence": 1.0 / (rank + 2)}
                   for rank, name in enumerate(intents)]
        parse = {"text": text, "intent": ranking[0], "intent_ranking": ranking,
                 "entities": [{"entity": "area", "value": "Quartiere 2", "start": 0,
                               "end": 10, "extractor": "RegexEntityExtractor"}],
                 "text_tokens": tokens,
                 "response_selector": {"all_retrieval_intents": [], "default": {
                     "response": {"responses": None, "confidence": 0.0,
                                  "intent_response_key": None,
                                  "utter_action": "utter_None"},
                     "ranking": []}}}
        events.append(UserUttered(text, parse["intent"], parse["entities"], parse))
        events.append(ActionExecuted("action_search_services", policy="RulePolicy",
                                     confidence=1.0))
        events += [SlotSet(name, f"valore {turn}") for name in slots]
        events.append(BotUttered(
            "Ecco alcuni servizi che possono aiutarti: " + "descrizione del servizio " * 12,
            {"buttons": [{"title": f"Servizio {i}", "payload": f"/scegli{{\\"n\\": {i}}}"}
                         for i in range(5)]}))
        events.append(ActionExecuted("action_listen", policy="RulePolicy", confidence=1.0))
    tracker = DialogueStateTracker.from_events(f"webchat-{'a' * 24}", events, domain.slots)
    call = RemoteAction("action_search_services", None)._action_call_format(tracker, domain)
    print(len(json.dumps(call).encode("utf-8")))
    """
)


def rasa_call_size(turns: int, chars: int) -> int:
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", PAYLOAD_SIZE, str(DOMAIN), str(turns), str(chars)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return int(done.stdout.strip().splitlines()[-1])


def test_a_long_conversation_stays_well_under_the_default_cap() -> None:
    cap = Settings.model_fields["action_server_max_body_bytes"].default
    # 200 citizen turns of 80 characters in one session: a very long real conversation
    long_chat = rasa_call_size(200, 80)
    # 100 turns, each as long as the assistant reads (MESSAGE_MAX_CHARS): far past any real one
    longest = rasa_call_size(100, Settings.model_fields["message_max_chars"].default)
    print(f"Rasa's call: 200 turns x 80 chars {long_chat} B; 100 x 10,000 chars {longest} B")
    assert long_chat * 8 < cap
    assert longest < cap
