"""Run by tests/nlu/test_rasa_speedups.py with Rasa's Python: each part of Rasa that
nlu.rasa_speedups replaces, run on the same inputs before and after the patches.

Prints one JSON line: ``applied`` (the patches in effect), ``before`` and ``after`` (one
entry per patch, comparable with ``==``) and ``evidence`` (what shows a patch is at work).
"""

from __future__ import annotations

import asyncio
import decimal
import json
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.tracker_store import SQLTrackerStore
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner import dask as rasa_dask
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(str(ROOT / "domain.yml"))

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


# the action server's real answers (tests/nlu/action_answers.json says how they were taken)
RECORDED = [
    entry["answer"]
    for entry in json.loads((ROOT / "tests/nlu/action_answers.json").read_text())["answers"]
]
_SLOT = {"event": "slot", "name": "quartiere", "value": "Rifredi"}
_ENTITY = {"entity": "age", "value": 8, "start": 0, "end": 1}


def _user_event(**parse_data: Any) -> dict[str, Any]:
    return {"event": "user", "text": "ciao", "parse_data": {"text": "ciao", **parse_data}}


# every keyword of the schema accepting and refusing, and what JSON cannot hold
EDGES: list[Any] = [
    {},
    [],
    None,
    "events",
    {"events": [], "responses": [], "extra": {"anything": [1, 2]}},  # no additionalProperties
    {"events": [{**_SLOT, "extra": True, "timestamp": None, "metadata": None}]},
    {"events": [{"name": "quartiere", "value": "Rifredi"}]},  # no event
    {"events": [{**_SLOT, "event": 3}]},
    {"events": [{**_SLOT, "event": None}]},
    {"events": [{**_SLOT, "timestamp": "ieri"}]},
    {"events": [{**_SLOT, "timestamp": True}]},
    {"events": [{**_SLOT, "timestamp": 1.5}, {**_SLOT, "timestamp": float("nan")}]},
    {"events": [{**_SLOT, "metadata": []}]},
    {"events": [{"event": "slot", "name": "quartiere"}]},  # no value
    {"events": [{"event": "slot", "name": 3, "value": 1}]},
    {"events": [{"event": "slot", "name": "q", "value": None}]},
    {"events": [{"event": "action", "name": "action_listen", "hide_rule_turn": 1}]},
    {"events": [{"event": "action", "name": None, "policy": None, "confidence": None}]},
    {"events": [{"event": "action", "confidence": "high"}]},
    {"events": [{"event": "bot", "text": 3}, {"event": "restart"}, {"event": "rewind"}]},
    {"events": [{"event": "entities", "entities": [_ENTITY]}]},
    {"events": [{"event": "entities"}]},
    {"events": [{"event": "entities", "entities": [{**_ENTITY, "start": 1.0}]}]},
    {"events": [{"event": "entities", "entities": [{**_ENTITY, "start": 1.5}]}]},
    {"events": [{"event": "entities", "entities": [{**_ENTITY, "start": True}]}]},
    {"events": [{"event": "entities", "entities": [{"entity": "age"}]}]},
    {"events": [{"event": "entities", "entities": [{**_ENTITY, "role": 1}]}]},
    {"events": [_user_event(intent={"name": "greet", "confidence": 0.9})]},
    {"events": [_user_event(intent={"name": "greet", "confidence": "0.9"})]},
    {"events": [{"event": "user", "parse_data": "ciao"}]},
    {"events": [_user_event(intent_ranking=[{"name": 1}])]},
    {"events": [_user_event(entities=[_ENTITY, {"entity": "x"}])]},
    {"events": [_user_event(response_selector={"all_retrieval_intents": []})]},
    {"events": [_user_event(response_selector={})]},  # valid under both branches of oneOf
    {"events": [_user_event(response_selector={"faq": {"response": {"confidence": 1}}})]},
    {"events": [_user_event(response_selector={"faq": {"ranking": [{"id": "x"}]}})]},
    {"events": [_user_event(response_selector={"all_retrieval_intents": 3})]},
    {"events": [_user_event(response_selector={"---": 3})]},
    {"events": [_user_event(response_selector={1: {}})]},  # a key re.search cannot read
    {"events": "not a list", "responses": []},
    {"events": [], "responses": ["not an object"]},
    {"events": [], "responses": [{"text": 3, "buttons": "no"}]},
    {"events": ({**_SLOT},), "responses": []},  # a tuple is no JSON array
    {"events": [{**_SLOT, "timestamp": decimal.Decimal("1.5")}]},
    {"events": [{**_SLOT, "event": "slots"}]},
]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*path, index))
    return found


def _mutated(answer: Any, path: tuple[Any, ...], how: Any) -> Any:
    copy = json.loads(json.dumps(answer))
    if not path:
        return how
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    if how is _DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = how
    return copy


_DELETE = object()
_REPLACEMENTS: list[Any] = [
    _DELETE,
    None,
    True,
    0,
    2.0,
    1.5,
    "x",
    "user",
    [],
    [{}],
    {},
    {"event": "slot"},
    {"event": "action"},
]


def mutations(count: int, seed: int = 18) -> list[Any]:
    """Real answers with one value replaced or removed, drawn with a fixed seed."""
    rng = random.Random(seed)
    found = []
    for _ in range(count):
        answer = rng.choice(RECORDED)
        path = rng.choice(_paths(answer))
        how = rng.choice(_REPLACEMENTS)
        if how is _DELETE and (not path or isinstance(path[-1], int)):
            how = None
        found.append(_mutated(answer, path, how))
    return found


# through Rasa's own validation and the patched one (each Rasa call checks the schema too)
VALIDATED = ANSWERS + RECORDED + EDGES + mutations(400)
# the compiled checks alone against jsonschema's verdict: more of them
CHECKED = VALIDATED + mutations(3000, seed=19)


def validation_outcomes() -> list[str]:
    action = RemoteAction("action_x", None)
    found = []
    for answer in VALIDATED:
        try:
            found.append("ok" if action._validate_action_result(answer) else "false")
        except Exception as error:  # the exception type and message are part of the contract
            found.append(f"{type(error).__name__}: {getattr(error, 'message', error)}")
    return found


def compiled_validation() -> dict[str, Any]:
    """The compiled checks alone against jsonschema's verdict on every answer above."""
    from jsonschema import validators

    from nlu.rasa_speedups import _compile_schema

    schema = RemoteAction.action_response_format_spec()
    validator = validators.validator_for(schema)(schema)
    check = _compile_schema(schema)
    agree = disagree = raised_alike = accepted = 0
    for answer in CHECKED:
        try:
            expected: Any = not any(True for _ in validator.iter_errors(answer))
        except Exception as error:
            expected = type(error).__name__
        try:
            verdict: Any = check(answer)
        except Exception as error:
            verdict = type(error).__name__
        if verdict == expected:
            agree += 1
            raised_alike += isinstance(expected, str)
            accepted += verdict is True
        else:
            disagree += 1
    return {
        "answers": len(CHECKED),
        "recorded": len(RECORDED),
        "edges": len(EDGES),
        "agree": agree,
        "disagree": disagree,
        "accepted": accepted,
        "raised_alike": raised_alike,
    }


def _user(text: str, intent: str, entities: list[dict[str, Any]]) -> UserUttered:
    parse = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.93},
        "entities": entities,
        "intent_ranking": [{"name": intent, "confidence": 0.93}],
    }
    return UserUttered(text, parse["intent"], entities, parse, timestamp=1_700_000_000.5)


# one conversation, the same objects before and after (timestamps included)
EVENTS = [
    ActionExecuted("action_session_start", timestamp=1_700_000_000.0),
    ActionExecuted("action_listen", timestamp=1_700_000_000.1),
    _user(
        "cerco un doposcuola a Rifredi, è urgente",
        "search_service",
        [{"entity": "neighbourhood", "value": "Rifredi", "start": 24, "end": 31}],
    ),
    SlotSet("neighbourhood", "Rifredi", timestamp=1_700_000_000.6),
]


async def _stored_rows(store: SQLTrackerStore) -> list[list[Any]]:
    with store.session_scope() as session:
        rows = session.query(store.SQLEvent).order_by(store.SQLEvent.id).all()
        return [
            [row.id, row.sender_id, row.type_name, row.intent_name, row.action_name, row.data]
            for row in rows
        ]


async def tracker_store_outcome() -> tuple[dict[str, Any], dict[str, Any]]:
    """A new conversation as Rasa's processor opens and saves it, a second turn, a tracker
    created with its first action_listen, all read back: rows and trackers."""
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(Path(tmp) / "t.db"))
        statements: list[str] = []
        from sqlalchemy import event

        event.listen(
            store.engine, "before_cursor_execute", lambda *args: statements.append(args[2])
        )
        tracker = await store.get_or_create_tracker("alice", append_action_listen=False)
        on_new_conversation = len(statements)
        tracker.update_with_events(EVENTS[:3], DOMAIN, override_timestamp=False)
        await store.save(tracker)
        tracker = await store.retrieve("alice")
        assert tracker is not None
        tracker.update_with_events(EVENTS[3:], DOMAIN, override_timestamp=False)
        await store.save(tracker)
        other = await store.get_or_create_tracker("bob")
        for event_ in other.events:
            event_.timestamp = 1_700_000_001.0
        await store.save(other)
        alice = await store.retrieve("alice")
        bob = await store.retrieve_full_tracker("bob")
        assert alice is not None and bob is not None
        rows = await _stored_rows(store)
        for row in rows:  # bob's first action_listen was stamped when it was made
            if row[1] == "bob":
                data = json.loads(row[5])
                data["timestamp"] = None
                row[5] = json.dumps(data)
        pool = type(store.engine.pool).__name__
        store.engine.dispose()
    outcome = {
        "rows": rows,
        "alice": [e.as_dict() for e in alice.events],
        "bob": [e.type_name for e in bob.events],
    }
    return outcome, {"statements_on_new_conversation": on_new_conversation, "pool": pool}


async def action_call_bodies() -> list[str]:
    """The bytes Rasa sends to the action server for two custom actions, a payload with a
    "domain" that is not the Domain's, and one where "domain" is not last."""
    from aiohttp import web

    bodies: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        bodies.append((await request.read()).decode())
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        endpoint = EndpointConfig(
            url=f"http://127.0.0.1:{port}/webhook", headers={"Authorization": "Bearer x"}
        )
        tracker = DialogueStateTracker.from_events("alice", EVENTS, DOMAIN.slots)
        nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
        for name in ("action_search_services", "action_search_services", "action_other"):
            await RemoteAction(name, endpoint).run(CollectingOutputChannel(), nlg, tracker, DOMAIN)
        await endpoint.request(json={"next_action": "x", "domain": {"città": "Firenze"}})
        await endpoint.request(json={"domain": DOMAIN.as_dict(), "version": "3"})
        await endpoint.request(json={"domain": DOMAIN.as_dict()})
    finally:
        await runner.cleanup()
    return bodies


EVIDENCE: dict[str, Any] = {"rule_checks": 0, "dask_runs": 0}
_is_rule_applicable = RulePolicy._is_rule_applicable
_dask_get = rasa_dask.dask.get


def _counted_rule_check(self: Any, *args: Any) -> bool:
    EVIDENCE["rule_checks"] += 1
    return _is_rule_applicable(self, *args)


def _counted_dask_get(*args: Any, **kwargs: Any) -> Any:
    EVIDENCE["dask_runs"] += 1
    return _dask_get(*args, **kwargs)


RulePolicy._is_rule_applicable = _counted_rule_check  # type: ignore[method-assign]
rasa_dask.dask.get = _counted_dask_get


def rule_keys_outcomes() -> list[list[str]]:
    """Which rules fit each conversation state, asked twice (the second time from the
    cache), then again after a rule is removed from the table."""
    policy = object.__new__(RulePolicy)
    listen = {"prev_action": {"action_name": "action_listen"}}

    def rule(*states: dict[str, Any]) -> str:
        return json.dumps(list(states), sort_keys=True)

    greet = {**listen, "user": {"intent": "greet"}}
    search = {**listen, "user": {"intent": "search", "entities": ["neighbourhood"]}}
    lookup = {
        rule({}, greet): "utter_greet",
        rule(greet): "utter_greet",
        rule(search, {"prev_action": {"action_name": "service_search_form"}}): "action_listen",
        rule({**search, "active_loop": {"name": "service_search_form"}}): "form",
        rule({**search, "slots": {"age": [1.0]}}): "action_search_services",
        rule({**search, "slots": {"age": "should_not_be_set"}}): "utter_ask_age",
    }
    conversations: list[list[dict[str, Any]]] = [
        [{}, {**listen, "user": {"intent": "greet"}}],
        [{"user": {"intent": "greet"}}],
        [{**listen, "user": {"intent": "search", "entities": ("neighbourhood",)}}],
        [
            {**listen, "user": {"intent": "search", "entities": ("neighbourhood",)}},
            {"prev_action": {"action_name": "service_search_form"}},
        ],
        [{**listen, "user": {"intent": "search", "entities": ("neighbourhood",)}, "slots": {}}],
        [
            {
                **listen,
                "user": {"intent": "search", "entities": ("neighbourhood",)},
                "slots": {"age": (1.0,)},
                "active_loop": {"name": "service_search_form"},
            }
        ],
    ]
    found = []
    for states in conversations:
        found.append(sorted(policy._get_possible_keys(lookup, states)))
    checks_before = EVIDENCE["rule_checks"] = 0
    for states in conversations:  # the same states again
        found.append(sorted(policy._get_possible_keys(lookup, states)))
    EVIDENCE["rule_checks_when_asked_again"] = EVIDENCE["rule_checks"] - checks_before
    lookup.pop(rule(greet))
    for states in conversations:
        found.append(sorted(policy._get_possible_keys(lookup, states)))
    return found


class _Step(GraphComponent):
    """A graph component that records its inputs (Rasa's graph runs the real ones)."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: Any,
        resource: Any,
        execution_context: ExecutionContext,
    ) -> _Step:
        return cls(config)

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def run(self, **inputs: Any) -> Any:
        if self.config.get("fail"):
            raise RuntimeError("stopped")
        return [self.config["name"], sorted((k, repr(v)) for k, v in inputs.items())]


def _node(name: str, needs: dict[str, str], **flags: Any) -> SchemaNode:
    return SchemaNode(
        needs=needs,
        uses=_Step,
        constructor_name="create",
        fn="run",
        config={"name": name, **flags.pop("config", {})},
        eager=True,
        **flags,
    )


def graph_outcomes() -> list[Any]:
    """Rasa's graph runner on a graph shaped like a served model's: inputs (a list, an
    object), shared parents, two targets, one node that fails, an input not given."""
    schema = GraphSchema(
        {
            "tokens": _node("tokens", {"messages": "__message__"}),
            "features": _node("features", {"messages": "tokens"}),
            "domain": _node("domain", {}),
            "classifier": _node("classifier", {"messages": "features", "domain": "domain"}),
            "nlu": _node("nlu", {"messages": "classifier"}, is_target=True),
            "policy": _node("policy", {"tracker": "__tracker__", "domain": "domain"}),
            "core": _node("core", {"a": "policy", "b": "domain"}, is_target=True),
            "broken": _node("broken", {"a": "domain"}, config={"fail": True}),
        }
    )
    found: list[Any] = []
    EVIDENCE["dask_runs"] = 0
    with tempfile.TemporaryDirectory() as tmp:
        runner = DaskGraphRunner(
            schema, LocalModelStorage(Path(tmp)), ExecutionContext(schema, "m")
        )
        inputs = {"__message__": ["ciao"], "__tracker__": ("alice", 3)}
        for targets in (["nlu"], ["core"], None, ["core", "nlu"]):
            found.append(runner.run(inputs=inputs, targets=targets))
        found.append(runner.run(inputs={"__message__": ["solo"]}, targets=["nlu"]))
        for targets, run_inputs in ((["broken"], inputs), (["core"], {})):
            try:
                found.append(runner.run(inputs=run_inputs, targets=targets))
            except (GraphRunError, Exception) as error:
                found.append(f"{type(error).__name__}: {error}")
    return json.loads(json.dumps(found, default=repr))


def outcomes() -> tuple[dict[str, Any], dict[str, Any]]:
    store, store_evidence = asyncio.run(tracker_store_outcome())
    found = {
        "validation": validation_outcomes(),
        "tracker_store": store,
        "action_calls": asyncio.run(action_call_bodies()),
        "rule_keys": rule_keys_outcomes(),
        "graph": graph_outcomes(),
    }
    evidence = {
        **store_evidence,
        "rule_checks_when_asked_again": EVIDENCE["rule_checks_when_asked_again"],
        "dask_runs": EVIDENCE["dask_runs"],
    }
    return found, evidence


if __name__ == "__main__":
    compiled = compiled_validation()
    before, evidence_before = outcomes()
    from nlu.rasa_speedups import apply

    applied = apply()
    after, evidence_after = outcomes()
    print(
        json.dumps(
            {
                "applied": applied,
                "before": before,
                "after": after,
                "evidence": {"before": evidence_before, "after": evidence_after},
                "compiled_validation": compiled,
            }
        )
    )
    sys.exit(0)
