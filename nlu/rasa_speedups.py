"""Removes measured waste from Rasa 3.6's hot path, without changing what Rasa does.

Applied by ``nlu.rasa_main`` (the way we start ``rasa run``) before Rasa's own ``main``.

- **Action-server answers validated against a schema checked once.** For every custom action
  Rasa calls ``jsonschema.validate(result, RemoteAction.action_response_format_spec())``.
  ``validate`` first checks the *schema* against its meta-schema (draft 2020-12, whose
  ``$dynamicRef`` makes that slow in jsonschema 4.17), then the answer. py-spy on the gateway
  bench put 47 % of Rasa's CPU in that schema check (bench/rasa_turn_bench.py and
  docs/performance.md have the figures). The schema is a constant of Rasa's, so here it is
  checked once and one validator is reused; answers are validated exactly as before
  (``best_match`` of ``iter_errors``, the same message appended on failure).
  Even so, ``iter_errors`` (a generator per keyword and node, and every one of the 23
  ``oneOf`` branches of each event) was 8.5 % of a turn. So the schema is also compiled
  once into plain checks (``_compile_schema``: its seven keywords, each as jsonschema 4.17
  reads it, the type predicates checked against the validator's own at start-up) that only
  say whether an answer is valid. Valid: accepted at once. Invalid, or a check that raises:
  jsonschema runs as before, so a refused answer gets the same error, message and
  exception. A schema with any other keyword keeps jsonschema alone.

- **A new conversation's empty tracker is not "saved".** ``SQLTrackerStore.create_tracker``
  saves the tracker it has just made, which for ``rasa run`` holds no event: the save opened
  a session, counted the stored events and committed nothing. With no event and no event
  broker there is nothing to write, so the save returns at once (issue 18: 4 % of a turn).
- **The domain is turned into JSON once, not for every custom action.** Every call to the
  action server carries ``domain.as_dict()`` (Rasa's own dict, the same object every time:
  ``Domain._data``); aiohttp's ``json.dumps`` wrote those 22 kB again for every action. The
  action endpoint's client session gets a ``json_serialize`` that splices the domain's JSON,
  made once per domain object, into ``json.dumps`` of the rest: the same bytes.
- **RulePolicy remembers which rules fit a conversation state.** Each prediction filters
  every rule key (210 here) against the conversation's states, twice (text, intent), in
  Python. The answer depends only on the states and on the rules, which do not change once
  the model is loaded; it is kept per policy, keyed by the frozen states and the rule table
  (its identity and size), at most a few thousand entries.
- **SQLite connections are kept.** SQLAlchemy 1.4 gives a SQLite file a ``NullPool``: every
  tracker-store session opened a connection and closed it, and closing the last connection
  to a WAL database checkpoints and removes the WAL, every turn. The tracker store's engine
  gets a ``QueuePool`` for a SQLite file, SQLAlchemy 2.0's default; other databases keep
  Rasa's settings.
- **The graph is run without dask's scheduler.** Rasa runs the NLU graph once and the
  policy graph once per predicted action through ``dask.get``, whose ordering and queues
  cost more than some nodes. Here the same nodes are called depth first, each once, with
  the same inputs (a missing input still reaches the node as its name), and
  ``RuntimeError`` still becomes ``GraphRunError``. The nodes are functions of their inputs,
  so the order does not change any output.

Each patch checks that what it replaces is what it expects and otherwise leaves Rasa as it
is, with a warning: a Rasa upgrade cannot silently break validation.
tests/nlu/test_rasa_speedups.py runs each one before and after on the same inputs;
docs/performance.md ("Less waste in a served turn") has the figures.
"""

from __future__ import annotations

import collections
import decimal
import fractions
import logging
import numbers
import re
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

_APPLIED: list[str] = []


Check = Callable[[Any], bool]


def _always(instance: Any) -> bool:
    return True


def _is_integer(instance: Any) -> bool:  # draft 6 and later: 1.0 is an integer
    if isinstance(instance, bool):
        return False
    return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())


def _is_number(instance: Any) -> bool:
    return not isinstance(instance, bool) and isinstance(instance, numbers.Number)


# jsonschema 4.17's draft 2020-12 type checker (jsonschema/_types.py), checked against the
# validator's own is_type at start-up (_types_agree)
_TYPES: dict[str, Check] = {
    "array": lambda instance: isinstance(instance, list),
    "boolean": lambda instance: isinstance(instance, bool),
    "integer": _is_integer,
    "null": lambda instance: instance is None,
    "number": _is_number,
    "object": lambda instance: isinstance(instance, dict),
    "string": lambda instance: isinstance(instance, str),
}
_TYPE_PROBES: tuple[Any, ...] = (
    *(True, False, 0, 1, -7, 2**70, 1.0, -0.0, 1.5, float("nan"), float("inf")),
    *(decimal.Decimal("1"), decimal.Decimal("1.5"), fractions.Fraction(1, 2), 1j),
    *("", "1", b"1", None, [], [1], (), {}, {"a": 1}, set(), object()),
    *(collections.OrderedDict(), collections.UserDict(), collections.UserList(), range(2)),
)


class _Unsupported(Exception):
    """A schema (part) the compiled checks do not reproduce: jsonschema alone is used."""


def _types_agree(is_type: Callable[[Any, str], bool]) -> bool:
    return all(
        _TYPES[name](probe) == bool(is_type(probe, name))
        for name in _TYPES
        for probe in _TYPE_PROBES
    )


def _compile_schema(schema: Any) -> Check:
    """A function telling whether an instance is valid under ``schema``, as
    ``not any(validator.iter_errors(instance))`` of jsonschema 4.17's draft 2020-12
    validator (jsonschema/_validators.py) for the keywords ``type``, ``const`` (a string),
    ``required``, ``properties``, ``patternProperties``, ``items`` (a schema) and
    ``oneOf``; raises ``_Unsupported`` for anything else. It may raise where jsonschema
    would (a key that is not a string under ``patternProperties``)."""
    if type(schema) is not dict or not schema.keys() <= _KEYWORDS:
        raise _Unsupported(repr(schema)[:80])
    checks: list[Check] = []
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not names or not all(isinstance(n, str) and n in _TYPES for n in names):
            raise _Unsupported(f"type {names!r}")
        checks.append(_any_type(tuple(_TYPES[name] for name in names)))
    if "const" in schema:
        if type(schema["const"]) is not str:  # jsonschema's equal() is == for a string
            raise _Unsupported("const")
        checks.append(_const(schema["const"]))
    if "required" in schema:
        required = schema["required"]
        if type(required) is not list or not all(type(n) is str for n in required):
            raise _Unsupported("required")
        checks.append(_required(tuple(required)))
    if "properties" in schema:
        if type(schema["properties"]) is not dict:
            raise _Unsupported("properties")
        compiled = tuple(
            (name, check)
            for name, sub in schema["properties"].items()
            if (check := _compile_schema(sub)) is not _always
        )
        if compiled:
            checks.append(_properties(compiled))
    if "patternProperties" in schema:
        if type(schema["patternProperties"]) is not dict:
            raise _Unsupported("patternProperties")
        patterns = tuple(
            (re.compile(pattern).search, _compile_schema(sub))  # what re.search(pattern, k) uses
            for pattern, sub in schema["patternProperties"].items()
        )
        checks.append(_pattern_properties(patterns))
    if "items" in schema:
        item = _compile_schema(schema["items"])  # a schema; True/False/prefixItems: unsupported
        if item is not _always:
            checks.append(_items(item))
    if "oneOf" in schema:
        if type(schema["oneOf"]) is not list or not schema["oneOf"]:
            raise _Unsupported("oneOf")
        checks.append(_one_of(tuple(_compile_schema(sub) for sub in schema["oneOf"])))
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    return _all_of(tuple(checks))


_KEYWORDS = frozenset(
    {"type", "const", "required", "properties", "patternProperties", "items", "oneOf"}
)


def _any_type(predicates: tuple[Check, ...]) -> Check:
    if len(predicates) == 1:
        return predicates[0]
    return lambda instance: any(predicate(instance) for predicate in predicates)


def _const(value: str) -> Check:
    return lambda instance: instance == value


def _required(names: tuple[str, ...]) -> Check:
    def check(instance: Any) -> bool:
        if not isinstance(instance, dict):
            return True
        for name in names:  # noqa: SIM110 - a loop: no generator per call
            if name not in instance:
                return False
        return True

    return check


def _properties(compiled: tuple[tuple[str, Check], ...]) -> Check:
    def check(instance: Any) -> bool:
        if not isinstance(instance, dict):
            return True
        for name, sub in compiled:  # noqa: SIM110 - a loop: no generator per call
            if name in instance and not sub(instance[name]):
                return False
        return True

    return check


def _pattern_properties(patterns: tuple[tuple[Callable[[str], Any], Check], ...]) -> Check:
    def check(instance: Any) -> bool:
        if not isinstance(instance, dict):
            return True
        for search, sub in patterns:
            for key, value in instance.items():
                if search(key) and not sub(value):
                    return False
        return True

    return check


def _items(item: Check) -> Check:
    def check(instance: Any) -> bool:
        if not isinstance(instance, list):
            return True
        for each in instance:  # noqa: SIM110 - a loop: no generator per call
            if not item(each):
                return False
        return True

    return check


def _one_of(branches: tuple[Check, ...]) -> Check:
    def check(instance: Any) -> bool:
        found = False
        for branch in branches:
            if branch(instance):
                if found:
                    return False  # valid under two: jsonschema's "valid under each of"
                found = True
        return found

    return check


def _all_of(checks: tuple[Check, ...]) -> Check:
    def check(instance: Any) -> bool:
        for each in checks:  # noqa: SIM110 - a loop: no generator per call
            if not each(instance):
                return False
        return True

    return check


def _patch_action_result_validation() -> bool:
    from jsonschema import exceptions, validators
    from rasa.core.actions import action as rasa_action
    from rasa.shared.constants import DOCS_BASE_URL

    remote = rasa_action.RemoteAction
    if not callable(getattr(remote, "_validate_action_result", None)) or not callable(
        getattr(remote, "action_response_format_spec", None)
    ):
        log.warning("rasa_speedups: RemoteAction changed; action validation left as it is")
        return False
    schema = remote.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)  # what jsonschema.validate did on every call
    validator = validator_class(schema)
    fast: Check | None = None
    try:
        if not _types_agree(validator.is_type):
            raise _Unsupported("the validator's types")
        fast = _compile_schema(schema)
    except _Unsupported as unsupported:
        log.warning("rasa_speedups: action answers checked by jsonschema only (%s)", unsupported)

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        if fast is not None:
            try:
                if fast(result):
                    return True
            except Exception:  # jsonschema below decides, and raises as it would have
                pass
        error = exceptions.best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    remote._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    return True


def _patch_empty_tracker_save() -> bool:
    from rasa.core.tracker_store import SQLTrackerStore

    original = getattr(SQLTrackerStore, "save", None)
    if not callable(original) or not callable(getattr(SQLTrackerStore, "stream_events", None)):
        log.warning("rasa_speedups: SQLTrackerStore changed; its save left as it is")
        return False

    async def save(self: Any, tracker: Any) -> None:
        # Rasa's save would stream no event and store islice(events, stored, 0): nothing
        if len(tracker.events) == 0 and getattr(self, "event_broker", None) is None:
            return None
        await original(self, tracker)

    save.__doc__ = original.__doc__
    SQLTrackerStore.save = save  # type: ignore[method-assign]
    return True


class _DomainJson:
    """``json.dumps`` with the domain's JSON made once per domain dict (aiohttp's
    ``json_serialize`` for the action endpoint's client sessions)."""

    KEY = "domain"
    MAX_DOMAINS = 4  # one per loaded model; a new model is a new dict

    def __init__(self) -> None:
        self._cache: dict[int, tuple[dict[str, Any], str]] = {}

    def _domain_json(self, domain: dict[str, Any]) -> str:
        import json

        found = self._cache.get(id(domain))
        if found is not None and found[0] is domain:
            return found[1]
        text = json.dumps(domain)
        if len(self._cache) >= self.MAX_DOMAINS:
            self._cache.clear()
        self._cache[id(domain)] = (domain, text)  # the reference keeps id() unique
        return text

    def dumps(self, payload: Any) -> str:
        import json

        if (
            type(payload) is not dict
            or not payload
            or next(reversed(payload)) != self.KEY
            or type(payload[self.KEY]) is not dict
            or not _is_current_domain(payload[self.KEY])
        ):
            return json.dumps(payload)
        rest = json.dumps({key: value for key, value in payload.items() if key != self.KEY})
        domain = self._domain_json(payload[self.KEY])
        # json.dumps writes a dict as "{" + ", ".join('"key": value') + "}"
        head = "{" if rest == "{}" else rest[:-1] + ", "
        return f'{head}"{self.KEY}": {domain}}}'


_DOMAINS: list[Any] = []  # the Domain objects whose as_dict() may be cached (weak enough: few)


def _is_current_domain(data: dict[str, Any]) -> bool:
    """Only the dict a loaded Domain returns from as_dict() (``Domain._data``) is cached:
    Rasa builds it once when the domain is loaded and never changes it."""
    return any(getattr(domain, "_data", None) is data for domain in _DOMAINS)


def _patch_action_call_json() -> bool:
    import aiohttp
    from rasa.core.actions import action as rasa_action
    from rasa.shared.core.domain import Domain
    from rasa.utils.endpoints import EndpointConfig

    remote = rasa_action.RemoteAction
    original_format = getattr(remote, "_action_call_format", None)
    original_session = getattr(EndpointConfig, "session", None)
    if not callable(original_format) or not callable(original_session):
        log.warning("rasa_speedups: RemoteAction changed; action calls left as they are")
        return False
    probe = Domain.from_dict({})
    if getattr(probe, "_data", None) is None or probe.as_dict() is not probe.as_dict():
        log.warning("rasa_speedups: Domain.as_dict changed; action calls left as they are")
        return False
    serializer = _DomainJson()

    def _action_call_format(self: Any, tracker: Any, domain: Any) -> dict[str, Any]:
        if not any(known is domain for known in _DOMAINS):
            if len(_DOMAINS) >= _DomainJson.MAX_DOMAINS:
                _DOMAINS.pop(0)
            _DOMAINS.append(domain)
        return original_format(self, tracker, domain)

    def session(self: Any) -> Any:
        client = original_session(self)
        client._json_serialize = serializer.dumps
        return client

    if "_json_serialize" not in getattr(aiohttp.ClientSession, "ATTRS", ()):
        log.warning("rasa_speedups: aiohttp changed; action calls left as they are")
        return False
    remote._action_call_format = _action_call_format  # type: ignore[method-assign]
    EndpointConfig.session = session  # type: ignore[method-assign]
    return True


def _patch_rule_keys_cache() -> bool:
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.trackers import DialogueStateTracker

    original = getattr(RulePolicy, "_get_possible_keys", None)
    freeze = getattr(DialogueStateTracker, "freeze_current_state", None)
    if not callable(original) or not callable(freeze):
        log.warning("rasa_speedups: RulePolicy changed; rule matching left as it is")
        return False
    max_entries = 4096

    def _get_possible_keys(self: Any, lookup: dict[str, Any], states: list[Any]) -> set[str]:
        try:
            key = (id(lookup), len(lookup), tuple(freeze(state) for state in states))
            hash(key)
        except TypeError:  # a state value that cannot be frozen: Rasa's way, uncached
            return original(self, lookup, states)
        cache = self.__dict__.setdefault("_welcome_possible_keys", {})
        found = cache.get(key)
        if found is not None and found[0] is lookup:
            return set(found[1])
        keys = original(self, lookup, states)
        if len(cache) >= max_entries:
            cache.clear()
        cache[key] = (lookup, frozenset(keys))  # the reference keeps id() unique
        return set(keys)

    RulePolicy._get_possible_keys = _get_possible_keys  # type: ignore[method-assign]
    return True


def _patch_sqlite_pool() -> bool:
    from rasa.core import tracker_store
    from sqlalchemy import pool
    from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
    from sqlalchemy.engine import make_url

    original = getattr(tracker_store, "create_engine_kwargs", None)
    is_file_db = getattr(SQLiteDialect_pysqlite, "_is_url_file_db", None)
    if not callable(original) or not callable(is_file_db):
        log.warning("rasa_speedups: SQLTrackerStore changed; its connections left as they are")
        return False

    def create_engine_kwargs(url: Any) -> dict[str, Any]:
        kwargs = original(url)
        parsed = make_url(url)
        if kwargs or parsed.get_backend_name() != "sqlite" or not is_file_db(parsed):
            return kwargs
        # SQLAlchemy 2.0's default for a SQLite file; 1.4 opened and closed a connection
        # per session, and closing the last one checkpointed and removed the WAL each time
        return {"poolclass": pool.QueuePool, "connect_args": {"check_same_thread": False}}

    tracker_store.create_engine_kwargs = create_engine_kwargs
    return True


def _patch_graph_runner() -> bool:
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner import dask as rasa_dask
    from rasa.engine.runner.dask import DaskGraphRunner

    runner_log = rasa_dask.logger

    needed = ("run", "_build_dask_graph", "_add_inputs_to_graph")
    if not all(callable(getattr(DaskGraphRunner, name, None)) for name in needed):
        log.warning("rasa_speedups: DaskGraphRunner changed; graph runs left as they are")
        return False
    original_run = DaskGraphRunner.run
    schemas: dict[tuple[int, tuple[str, ...]], tuple[Any, Any]] = {}

    def run(
        self: Any, inputs: dict[str, Any] | None = None, targets: list[str] | None = None
    ) -> dict[str, Any]:
        graph_schema = getattr(self, "_graph_schema", None)
        if graph_schema is None:
            return original_run(self, inputs, targets)
        run_targets = targets if targets else graph_schema.target_names
        key = (id(graph_schema), tuple(run_targets))
        cached = schemas.get(key)
        if cached is None or cached[0] is not graph_schema:
            cached = (graph_schema, graph_schema.minimal_graph_schema(run_targets))
            schemas[key] = cached
        run_graph = self._build_dask_graph(cached[1])
        if inputs:
            self._add_inputs_to_graph(inputs, run_graph)
        if runner_log.isEnabledFor(logging.DEBUG):  # Rasa formats it even when not logged
            runner_log.debug(
                f"Running graph with inputs: {inputs}, targets: {targets} "
                f"and {self._execution_context}."
            )
        try:
            return dict(_get(run_graph, run_targets))
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e

    DaskGraphRunner.run = run  # type: ignore[method-assign]
    return True


def _get(graph: dict[str, Any], targets: list[str]) -> list[Any]:
    """What ``dask.get(graph, targets)`` returns for Rasa's graphs, computed depth first:
    a node is ``(callable, *names of the nodes it needs)``, an input is ``(name, value)``
    (a tuple that is not a task, so its own value)."""
    results: dict[str, Any] = {}

    def compute(name: str) -> Any:
        if name in results:
            return results[name]
        task = graph[name]
        if type(task) is tuple and task and callable(task[0]):
            args = [compute(arg) if _is_key(arg, graph) else arg for arg in task[1:]]
            value = task[0](*args)
        else:
            value = task
        results[name] = value
        return value

    return [compute(target) for target in targets]


def _is_key(arg: Any, graph: dict[str, Any]) -> bool:
    try:
        return arg in graph
    except TypeError:  # unhashable: a literal
        return False


PATCHES = {
    "action-result-validation": _patch_action_result_validation,
    "empty-tracker-save": _patch_empty_tracker_save,
    "action-call-json": _patch_action_call_json,
    "rule-keys-cache": _patch_rule_keys_cache,
    "sqlite-pool": _patch_sqlite_pool,
    "graph-runner": _patch_graph_runner,
}


def apply(only: list[str] | None = None) -> list[str]:
    """Applies every speed-up (or those named in ``only``) once; returns the names of those
    in effect."""
    for name, patch in PATCHES.items():
        if (only is None or name in only) and name not in _APPLIED and patch():
            _APPLIED.append(name)
    return list(_APPLIED)
