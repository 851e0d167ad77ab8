"""Search by paraphrase: natural requests answered with the right kind of service.

    python -m devtools.search_eval [--model models/welcome.tar.gz] [--data FILE] [--misses]

starts Rasa and the action server on the model with the seed catalogue (loopback, temporary
files), sends each request of the paraphrase sets as a new citizen would, and counts a
request as answered when the first results come after at most one question and the first
service listed has the expected category (or one of ``also``).

The one question is answered as a citizen who gave everything in the first message would:
«non importa» to the zone or the age, «no» to «Sei in pericolo adesso?» (the emergency
question of the less sure tier; until the fourth session of 2026-12-07 it got «non
importa» too, which the assistant read as a new, empty search). A question about the kind
of service WITH the catalogue's candidates («Cerchi uno di questi servizi?», since the
fifth session of 2026-12-07: actions.search_form.ActionAskServiceCategory) is answered as
a citizen who knows what they want: by the button of the expected category (or of one of
``also``) if it is offered, which counts as the one question; otherwise it is a miss. The
full question about the kind of service (no candidates: the fixed buttons of
utter_ask_service_category) is a miss (the assistant did not understand what was asked).

Two figures are printed: answered after at most one question (the candidates' button
included), and the strict one of before the candidates, in which any question about the
kind of service is a miss (and «right at once», no question at all).

The sets: tests/nlu_fresh/search_paraphrases_2026_12_07.yml is the headline (written by
someone who saw neither the training data nor the older set's misses);
tests/nlu_fresh/search_paraphrases_2026_12_07b.yml (105 requests, written late on 2026-12-07
by a session that read neither the training data nor the synonyms) is measured once and
never tuned on: the misses of both are never listed;
tests/nlu_fresh/search_paraphrases.yml (2026-12-06) had its misses read and acted on and is
reported as "regression"; tests/nlu_fresh/search_paraphrases_dev.yml (125 requests, 2026-12-07)
was written for the catalogue's vocabulary work and tuned on: development only. Without
``--data`` all are measured, on one stack. ``--no-nlu`` needs no model: every request is
read as search_service with no entity, so the catalogue's own understanding alone finds the
kind of service (the path the search form takes when the NLU gives no category).
``make eval`` prints the figures; tests/nlu/test_search_paraphrases.py asserts a floor on
the regression set with the session's Rasa.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine, text

from core.settings import PROJECT_ROOT

PARAPHRASES = PROJECT_ROOT / "tests" / "nlu_fresh" / "search_paraphrases.yml"  # regression
HEADLINE_PARAPHRASES = PROJECT_ROOT / "tests" / "nlu_fresh" / "search_paraphrases_2026_12_07.yml"
# written on 2026-12-07 by a session that read neither the training data nor the synonyms:
# measured once at the end of that session, never tuned on
FRESH_PARAPHRASES_B = PROJECT_ROOT / "tests" / "nlu_fresh" / "search_paraphrases_2026_12_07b.yml"
# written for issue 12's catalogue work and read while tuning the synonyms: development only
DEV_PARAPHRASES = PROJECT_ROOT / "tests" / "nlu_fresh" / "search_paraphrases_dev.yml"
# 200 requests written on 2026-12-07 (eighth session) by a writer who read neither the
# training data, the catalogue nor its synonyms; its misses guided that session's lexicon
# and rewrites: development only
DEV2_PARAPHRASES = PROJECT_ROOT / "tests" / "nlu_fresh" / "search_paraphrases_dev2.yml"
PARAPHRASE_SETS: dict[str, Path] = {
    "2026-12-07 (headline)": HEADLINE_PARAPHRASES,
    "2026-12-07b (fresh, untuned)": FRESH_PARAPHRASES_B,
    "2026-12-06 (regression)": PARAPHRASES,
    "2026-12-07 dev (tuned on)": DEV_PARAPHRASES,
    "2026-12-07 dev2 (tuned on)": DEV2_PARAPHRASES,
}
# the independent sets: their misses are never listed (nobody reads them)
UNREAD_PARAPHRASES = (HEADLINE_PARAPHRASES, FRESH_PARAPHRASES_B)
SKIP_ANSWER = "non importa"
NOT_IN_DANGER = "no"  # the answer to «Sei in pericolo adesso?» (since 2026-12-07, 4th session)
DETAILS = "/service_details"
OTHER_PAYLOAD = '/inform{"service_category":"other"}'  # «Altro» of the candidates' question

Send = Callable[[str, str], list[dict[str, Any]]]


@dataclass(frozen=True)
class Request:
    text: str
    category: str
    also: tuple[str, ...] = ()

    @property
    def accepted(self) -> set[str]:
        return {self.category, *self.also}


@dataclass
class Outcome:
    request: Request
    got: str | None  # category of the first service listed
    questions: int
    asked: str  # "" | "category" | "danger" | "other" (zone or age)
    reply: str  # the assistant's last words (for the misses report)
    candidates: tuple[str, ...] = ()  # the kinds offered by a question about the kind

    @property
    def ok(self) -> bool:
        return self.got in self.request.accepted and self.questions <= 1

    @property
    def strict(self) -> bool:
        """Answered with no question about the kind of service (the figure before the
        candidates: any such question was a miss)."""
        return self.ok and self.asked != "category"


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def right(self) -> int:
        return sum(o.ok for o in self.outcomes)

    @property
    def share(self) -> float:
        return self.right / self.total if self.total else 0.0

    @property
    def strict_right(self) -> int:
        return sum(o.strict for o in self.outcomes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.total,
            "right_category_after_at_most_one_question": self.right,
            "share": round(self.share, 4),
            "strict_right_no_kind_question": self.strict_right,
            "right_with_no_question": sum(o.ok and o.questions == 0 for o in self.outcomes),
            "asked_the_kind_of_service": sum(o.asked == "category" for o in self.outcomes),
            "asked_the_kind_with_candidates": sum(
                o.asked == "category" and bool(o.candidates) for o in self.outcomes
            ),
            "right_by_a_candidate": sum(o.ok and o.asked == "category" for o in self.outcomes),
            "asked_zone_or_age": sum(o.asked == "other" for o in self.outcomes),
            "asked_whether_in_danger": sum(o.asked == "danger" for o in self.outcomes),
            "no_results": sum(o.got is None for o in self.outcomes),
        }

    def summary(self, *, misses: bool = False) -> str:
        figures = self.as_dict()
        strict = self.strict_right / self.total if self.total else 0.0
        lines = [
            f"search by paraphrase: {self.right}/{self.total} = {self.share:.1%} answered with "
            "the right category after at most one question",
            f"  strict (a question about the kind is a miss, as before the candidates): "
            f"{self.strict_right}/{self.total} = {strict:.1%}",
            f"  right at once (no question): {figures['right_with_no_question']}; asked the "
            f"kind of service: {figures['asked_the_kind_of_service']} (with candidates "
            f"{figures['asked_the_kind_with_candidates']}, the right one chosen "
            f"{figures['right_by_a_candidate']}); asked zone or age: "
            f"{figures['asked_zone_or_age']}; asked whether in danger: "
            f"{figures['asked_whether_in_danger']}; no results: {figures['no_results']}",
        ]
        if misses:
            for o in self.outcomes:
                if not o.ok:
                    first = o.reply.splitlines()[0] if o.reply else ""
                    offered = f", offered {','.join(o.candidates)}" if o.candidates else ""
                    lines.append(
                        f"  MISS «{o.request.text}»: expected {o.request.category}, got "
                        f"{o.got or '-'} (questions {o.questions}, asked {o.asked or '-'}"
                        f"{offered}): {first}"
                    )
        return "\n".join(lines)


def load_requests(path: Path = PARAPHRASES) -> list[Request]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Request(item["text"], item["category"], tuple(item.get("also") or ()))
        for item in data["requests"]
    ]


def _codes(replies: list[dict[str, Any]]) -> list[str]:
    codes = []
    for reply in replies:
        for button in reply.get("buttons") or []:
            payload = str(button.get("payload") or "")
            if payload.startswith(DETAILS + "{"):
                # a service's «Dettagli» button; the «Intendevi...?» question's button of the
                # same intent carries the entities understood, and no service
                code = json.loads(payload[len(DETAILS) :]).get("service_code")
                if code:
                    codes.append(str(code))
    return codes


def _asks_category(replies: list[dict[str, Any]]) -> bool:
    return any(
        '"service_category"' in str(b.get("payload") or "")
        for r in replies
        for b in r.get("buttons") or []
    )


def offered_kinds(replies: list[dict[str, Any]]) -> list[str]:
    """The kinds of service a question with candidates offers, in order; empty for any
    other reply (the full question, without «Altro», offers no candidates)."""
    payloads = [str(b.get("payload") or "") for r in replies for b in r.get("buttons") or []]
    if OTHER_PAYLOAD not in payloads:
        return []
    prefix = '/inform{"service_category":"'
    return [
        p[len(prefix) : -2]
        for p in payloads
        if p.startswith(prefix) and p.endswith('"}') and p != OTHER_PAYLOAD
    ]


def chosen_kind(request: Request, offered: list[str]) -> str | None:
    """The button a citizen who knows what they want taps: the first offered kind that is
    the expected one (or one of ``also``); None when none is."""
    return next((kind for kind in offered if kind in request.accepted), None)


def kind_payload(kind: str) -> str:
    return f'/inform{{"service_category":"{kind}"}}'


def _words(replies: list[dict[str, Any]]) -> str:
    return "\n".join(str(r.get("text") or "") for r in replies)


def _asks_danger(replies: list[dict[str, Any]]) -> bool:
    """«Sei in pericolo adesso?» (action_emergency, tier ask): its buttons Sì / No."""
    from actions.emergency import ASK_BUTTONS

    payloads = {str(b.get("payload") or "") for r in replies for b in r.get("buttons") or []}
    return {b["payload"] for b in ASK_BUTTONS} <= payloads


def converse(send: Send, request: Request, category_of: Callable[[str], str | None]) -> Outcome:
    """One new citizen: the request, then «non importa» to a question about zone or age, or
    «no» to «Sei in pericolo adesso?» (they asked for a service)."""
    sender = uuid.uuid4().hex
    replies = send(sender, request.text)
    questions, asked = 0, ""
    codes = _codes(replies)
    if not codes and _asks_category(replies):
        offered = offered_kinds(replies)
        choice = chosen_kind(request, offered)
        if choice is None:
            return Outcome(request, None, 1, "category", _words(replies), tuple(offered))
        replies = send(sender, kind_payload(choice))
        codes = _codes(replies)
        got = category_of(codes[0]) if codes else None
        return Outcome(request, got, 1, "category", _words(replies), tuple(offered))
    if not codes and _asks_danger(replies):
        questions, asked = 1, "danger"
        replies = send(sender, NOT_IN_DANGER)
        codes = _codes(replies)
    elif not codes and "?" in _words(replies) and any(r.get("buttons") for r in replies):
        questions, asked = 1, "other"
        replies = send(sender, SKIP_ANSWER)
        codes = _codes(replies)
    got = category_of(codes[0]) if codes else None
    return Outcome(request, got, questions, asked, _words(replies))


def category_lookup(database_url: str) -> Callable[[str], str | None]:
    engine = create_engine(database_url)

    def category_of(code: str) -> str | None:
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT category FROM service WHERE code = :code"), {"code": code}
            ).first()
        return str(row[0]) if row else None

    return category_of


def evaluate(send: Send, database_url: str, requests: list[Request] | None = None) -> Report:
    category_of = category_lookup(database_url)
    report = Report()
    for request in requests if requests is not None else load_requests():
        report.outcomes.append(converse(send, request, category_of))
    return report


def measure(model: Path, data: Path = PARAPHRASES) -> Report:
    """Start a stack on ``model`` with the seed catalogue and evaluate ``data``."""
    return measure_sets(model, {str(data): data})[str(data)]


def measure_sets(model: Path, sets: dict[str, Path]) -> dict[str, Report]:
    """One stack on ``model`` with the seed catalogue; a report for each labelled set."""
    from devtools.stack import prepare_catalog_db, start_local_stack

    with tempfile.TemporaryDirectory(prefix="search-eval-") as tmp:
        workdir = Path(tmp)
        database_url = prepare_catalog_db(workdir / "welcome.db")
        stack = start_local_stack(model=model, database_url=database_url, workdir=workdir)
        try:
            return {
                label: evaluate(stack.send, database_url, load_requests(path))
                for label, path in sets.items()
            }
        finally:
            stack.close()


# --- in process: the model's parses, the same actions, no servers -----------------------------

SEARCH_INTENTS = frozenset({"search_service", "inform"})  # rules: reset + search form
LIST_INTENTS = frozenset({"service_details", "book_service"})  # search when a kind is named
Parse = dict[str, Any]  # {"intent": {"name"}, "entities": [{"entity", "value"}]}


def simulate(
    request: Request, parse: Parse, answer: Parse, category_of: Callable[[str], str | None]
) -> Outcome:
    """The turn as Rasa's rules run it (search_service / inform: action_reset_search, then
    the search form; service_details / book_service naming a kind: the list), with the
    actions called in process on the database of DATABASE_URL; ``answer`` is the parse of
    «non importa»."""
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.common import ANY
    from actions.details import ActionBookService, ActionServiceDetails
    from actions.search import run_search
    from actions.search_form import (
        FORM,
        ActionAskServiceCategory,
        ValidateServiceSearchForm,
        reset_search_events,
    )

    slot_names = ["service_category", "target_group", "neighbourhood", "age", "cost_mode"]
    state: dict[str, Any] = {}

    def tracker(latest: Parse, text: str, after: list[dict[str, Any]] = ()) -> Tracker:  # type: ignore[assignment]
        message = {"text": text, **latest}
        events = [{"event": "user", "text": text, "parse_data": message}, *after]
        return Tracker(uuid.uuid4().hex, dict(state), message, events, False, None, {}, "")

    def run(action: Any, t: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        dispatcher = CollectingDispatcher()
        events = asyncio.run(action.run(dispatcher, t, {}))
        return dispatcher.messages, list(events)

    def apply(events: list[dict[str, Any]]) -> None:
        state.update({e["name"]: e["value"] for e in events if e.get("event") == "slot"})

    intent = (parse.get("intent") or {}).get("name")
    entities = [e for e in parse.get("entities") or [] if e.get("entity") in slot_names]
    candidates = {e["entity"]: e["value"] for e in entities}
    state.update(dict.fromkeys([*slot_names, "search_text", "requested_slot"]))
    if intent in LIST_INTENTS and "service_category" in candidates:
        state.update(candidates)
        action = ActionServiceDetails() if intent == "service_details" else ActionBookService()
        messages, events = run(action, tracker(parse, request.text))
        return _outcome(request, messages, events, 0, "", category_of)
    if intent not in SEARCH_INTENTS:
        return Outcome(request, None, 0, "", f"(intent {intent})")
    state.update(candidates)
    apply(reset_search_events(tracker(parse, request.text)))
    after = [{"event": "action", "name": FORM}]
    after += [{"event": "slot", "name": k, "value": v} for k, v in candidates.items()]
    _, events = run(ValidateServiceSearchForm(), tracker(parse, request.text, after))
    apply(events)
    asked = state.get("requested_slot")
    if asked == "service_category":
        # the form's question (action_ask_service_category): with candidates, the citizen
        # taps the expected kind if offered; the form then validates the answer
        messages, _ = run(ActionAskServiceCategory(), tracker(parse, request.text))
        offered = offered_kinds(messages)
        choice = chosen_kind(request, offered)
        if choice is None:
            words = _words(messages) or "(Che tipo di servizio cerchi?)"
            return Outcome(request, None, 1, "category", words, tuple(offered))
        click: Parse = {
            "intent": {"name": "inform"},
            "entities": [{"entity": "service_category", "value": choice}],
        }
        state["service_category"] = choice
        after = [
            {"event": "active_loop", "name": FORM},
            {"event": "slot", "name": "requested_slot", "value": "service_category"},
            {"event": "action", "name": FORM},
            {"event": "slot", "name": "service_category", "value": choice},
        ]
        _, events = run(ValidateServiceSearchForm(), tracker(click, kind_payload(choice), after))
        apply(events)
        if state.get("requested_slot"):  # a second question: not what the form promises
            return Outcome(request, None, 2, "category", "(a second question)", tuple(offered))
        dispatcher = CollectingDispatcher()
        events = run_search(dispatcher, tracker(click, kind_payload(choice)), offset=0)
        outcome = _outcome(request, dispatcher.messages, events, 1, "category", category_of)
        outcome.candidates = tuple(offered)
        return outcome
    questions = 0
    if asked:
        questions = 1
        state[asked] = ANY  # «non importa»
        state["requested_slot"] = None
    dispatcher = CollectingDispatcher()
    events = run_search(dispatcher, tracker(answer if questions else parse, request.text), offset=0)
    return _outcome(
        request, dispatcher.messages, events, questions, "other" if questions else "", category_of
    )


def _outcome(
    request: Request,
    messages: list[dict[str, Any]],
    events: list[dict[str, Any]],
    questions: int,
    asked: str,
    category_of: Callable[[str], str | None],
) -> Outcome:
    codes = _codes(messages)
    got = category_of(codes[0]) if codes else None
    return Outcome(request, got, questions, asked, _words(messages))


def evaluate_parses(
    parses: dict[str, Parse], database_url: str, requests: list[Request] | None = None
) -> Report:
    """``simulate`` every request on saved parses (``parses[text]``; «non importa» too)."""
    category_of = category_lookup(database_url)
    answer = parses.get(SKIP_ANSWER) or {"intent": {"name": "deny"}, "entities": []}
    report = Report()
    for request in requests if requests is not None else load_requests():
        report.outcomes.append(simulate(request, parses[request.text], answer, category_of))
    return report


def catalogue_parses(requests: list[Request]) -> dict[str, Parse]:
    """Every request read as search_service with no entity: only the catalogue's own
    understanding (catalog.understanding, the synonyms) can find the kind of service."""
    return {r.text: {"intent": {"name": "search_service"}, "entities": []} for r in requests}


def measure_catalogue(requests: list[Request]) -> Report:
    """The catalogue path without Rasa, on a temporary copy of the seed catalogue."""
    import os

    from core.db import get_engine
    from core.settings import get_settings
    from devtools.stack import prepare_catalog_db

    with tempfile.TemporaryDirectory(prefix="search-eval-") as tmp:
        database_url = prepare_catalog_db(Path(tmp) / "welcome.db")
        previous = os.environ.get("DATABASE_URL")
        os.environ["DATABASE_URL"] = database_url
        get_settings.cache_clear()
        get_engine.cache_clear()
        try:
            return evaluate_parses(catalogue_parses(requests), database_url, requests)
        finally:
            get_engine().dispose()
            if previous is None:
                os.environ.pop("DATABASE_URL", None)
            else:
                os.environ["DATABASE_URL"] = previous
            get_settings.cache_clear()
            get_engine.cache_clear()


def show_misses(wanted: bool, path: Path) -> bool:
    """Misses are listed on request, never those of the independent sets (the headline and
    the 2026-12-07b one): nobody reads them, so that they stay independent measures."""
    if wanted and path.resolve() in {unread.resolve() for unread in UNREAD_PARAPHRASES}:
        print(f"(the misses of {path.name} are not listed: it stays unread)")
        return False
    return wanted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.search_eval")
    parser.add_argument("--model", type=Path, default=PROJECT_ROOT / "models" / "welcome.tar.gz")
    parser.add_argument("--data", type=Path, help="one set (default: every set of PARAPHRASE_SETS)")
    parser.add_argument(
        "--misses",
        action="store_true",
        help="list every miss, except the independent sets' (they stay unread)",
    )
    parser.add_argument(
        "--parses",
        type=Path,
        help="no servers: the model's parses saved by devtools/rasa_parse_dump.py (run in "
        ".venv-rasa), the actions in process on DATABASE_URL (the seed catalogue)",
    )
    parser.add_argument(
        "--no-nlu",
        action="store_true",
        help="no model: every request read as search_service with no entity, the actions in "
        "process on a temporary seed catalogue (the catalogue's own understanding alone)",
    )
    args = parser.parse_args(argv)
    sets = {str(args.data): args.data} if args.data else PARAPHRASE_SETS
    if args.no_nlu:
        print("\n== Search by paraphrase, catalogue only (python -m devtools.search_eval) ==")
        for label, path in sets.items():
            report = measure_catalogue(load_requests(path))
            print(f"{label}: {report.summary(misses=show_misses(args.misses, path))}")
        return 0
    if args.parses:
        from core.settings import get_settings

        parses = json.loads(args.parses.read_text(encoding="utf-8"))
        print("\n== Search by paraphrase, in process (python -m devtools.search_eval) ==")
        for label, path in sets.items():
            requests = load_requests(path)
            if any(r.text not in parses for r in requests):
                print(f"{label}: skipped, {args.parses} has no parses of {path.name}")
                continue
            database_url = get_settings().effective_database_url
            report = evaluate_parses(parses, database_url, requests)
            print(f"{label}: {report.summary(misses=show_misses(args.misses, path))}")
        return 0
    if not args.model.exists():
        from devtools.train import ensure_model

        args.model = ensure_model().model
    reports = measure_sets(args.model, sets)
    print("\n== Search by paraphrase (python -m devtools.search_eval) ==")
    for label, report in reports.items():
        print(f"{label}: {report.summary(misses=show_misses(args.misses, sets[label]))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
