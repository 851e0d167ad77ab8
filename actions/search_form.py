"""The search form: ask only what is missing and would change the results, at most one
question before the first results.

Before asking anything, the citizen's own words go through the catalogue's understanding
(``catalog.search.search_services``: category by synonyms and typo correction, zone, age,
target group, cost), which fills the slots the NLU left empty: «mia mamma ha 84 anni ...
qualcuno che l'aiuti in casa ... a gavinana» is home care for the elderly in Q3, age 84.
The same probe of the catalogue tells whether a question would change the results:

- the kind of service, when neither the NLU nor the catalogue understood one and the
  words find nothing, or services of several kinds ("per mia madre" is not enough). The
  question (``action_ask_service_category``) offers the kinds the catalogue has evidence
  for (``catalog.search.category_candidates``: at most 3, best first, e.g. home care,
  centres for the elderly, leisure for "per mia madre") and «Altro»; a kind tapped lists
  its services at once. With no evidence, or after «Altro», the buttons of
  ``utter_ask_service_category`` offer the main kinds. Words typed instead go to the
  full-text search;
- the zone, when none is known and the matches are more than a page, in several quartieri;
- the age, when the category depends on it (nido, babysitter, doposcuola, centro estivo)
  and the matches are more than a page, with different age limits.
When the catalogue cannot be read, the form asks as before (category, zone, age).

"salta", "non importa", "no" (or the "Non importa" button, which sends ``/deny``)
skip a question: the slot takes the value ``any`` and the search ignores it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    ANY,
    db_session,
    entity_values,
    fold,
    intent_of,
    is_skip,
    latest_text,
    logger,
    parse_age,
    slot_value,
)
from actions.search import PAGE_SIZE, filter_slots, filters_from_slots
from actions.wording import N_, button, label, language_of, tr
from catalog.areas import find_area_mention, resolve_area
from catalog.filters import SearchFilters
from catalog.search import category_candidates, search_services
from catalog.synonyms import is_general_word
from catalog.vocabulary import CATEGORIES, CATEGORY_LABELS, TARGET_GROUPS

FORM = "service_search_form"
FORM_SLOTS = ("service_category", "neighbourhood", "age")
MAX_QUESTIONS = 1
PROBE_SIZE = 30  # matches looked at to decide whether a question would change the results
AGE_BOUND_CATEGORIES = frozenset({"childcare", "babysitting", "after_school", "summer_camp"})
COST_MODES = frozenset({"free", "co_payment", "paid"})

# The question about the kind of service with the catalogue's candidates (at most 3,
# catalog.search.category_candidates) and «Altro», which shows the full question.
OTHER = "other"  # the value «Altro» sends: no kind of service, the full question follows
CANDIDATES_TEXT = N_(
    "Cerchi uno di questi servizi? Scegli qui sotto oppure scrivilo con parole tue."
)
CANDIDATE_TEXT = N_("Cerchi questo servizio? Toccalo qui sotto oppure scrivilo con parole tue.")
OTHER_BUTTON = {"title": N_("Altro"), "payload": f'/inform{{"service_category":"{OTHER}"}}'}
FULL_QUESTION = "utter_ask_service_category"  # domain.yml: the main kinds, «Non importa»

# Intents whose message can be an answer to the form's question; any other intent is a
# change of topic, which the form must not swallow (the rules answer it).
ANSWER_INTENTS = frozenset({"inform", "deny", "search_service", "nlu_fallback", "affirm"})

# What a new search forgets unless the new request says it again. The zone is kept:
# people usually search where they live.
RESET_ON_NEW_SEARCH = ("service_category", "target_group", "age", "cost_mode")


def asked_in_this_form(tracker: Tracker) -> list[str]:
    """Slots the form has asked for since it was activated (the current one included)."""
    events = tracker.events
    start = None
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if event.get("event") == "active_loop":
            start = index if event.get("name") == FORM else None
            break
    if start is None:
        return []  # being activated now
    asked: list[str] = []
    for event in events[start:]:
        if event.get("event") == "slot" and event.get("name") == "requested_slot":
            value = event.get("value")
            if value and value not in asked:
                asked.append(value)
    return asked


def _candidates(tracker: Tracker) -> set[str]:
    """Slots Rasa extracted from this message (the trailing SlotSet events)."""
    return set(tracker.slots_to_validate())


def category_from_general_word(tracker: Tracker) -> bool:
    """The NLU took this message's kind of service from a general word only («casa» in
    «qualcuno che l'aiuti in casa», «lavoro»: catalog.synonyms.is_general_word), before any
    question: the catalogue's understanding of the whole message decides instead (it counts
    a general word only when nothing more specific is said). Values the NLU could not map
    onto a category (a typo: «asistenza») are not a specific word."""
    if "service_category" not in _candidates(tracker) or asked_in_this_form(tracker):
        return False
    text = str(tracker.latest_message.get("text") or "")
    spans = [  # a value the NLU could not map («asistenza», a typo) names nothing
        text[int(e.get("start") or 0) : int(e.get("end") or 0)]
        for e in tracker.latest_message.get("entities") or []
        if e.get("entity") == "service_category" and e.get("value") in CATEGORIES
    ]
    return bool(spans) and all(span and is_general_word(span) for span in spans)


@dataclass(frozen=True)
class Probe:
    """What the catalogue makes of the request so far (text + slots)."""

    interpreted: SearchFilters  # filters given and understood from the words
    total: int  # services that match
    searchable: bool  # the words (or the filters) give the search something to look for
    quartieri: int  # distinct quartieri among the first PROBE_SIZE matches
    age_limits: int  # distinct (age_min, age_max) among them
    relaxed: bool  # nothing matched everything: the search already widened
    kinds: int = 1  # distinct categories on the first page of results


def search_words(tracker: Tracker) -> str:
    return tracker.get_slot("search_text") or latest_text(tracker)


def probe_catalogue(text: str, filters: SearchFilters) -> Probe | None:
    """One search of the catalogue, as the results will be searched; None when unreadable."""
    try:
        with db_session() as session:
            result = search_services(session, text=text, filters=filters, limit=PROBE_SIZE)
            services = [hit.service for hit in result.hits]
            quartieri = len({s.quartiere for s in services})
            ages = len({(s.age_min, s.age_max) for s in services})
            kinds = len({s.category for s in services[:PAGE_SIZE]})
            if result.leading_category is not None:
                kinds = 1  # the best matches agree on one kind of service
    except Exception:
        logger.exception("search form: could not probe the catalogue")
        return None
    searchable = bool(result.terms) or result.interpreted.category is not None
    relaxed = bool(result.relaxed)
    return Probe(result.interpreted, result.total, searchable, quartieri, ages, relaxed, kinds)


# Tests replace this with a stub.
probe: Callable[[str, SearchFilters], Probe | None] = probe_catalogue


def understood_slots(tracker: Tracker, found: Probe | None) -> dict[str, Any]:
    """Slot values the catalogue understood in the citizen's words, for the empty slots."""
    if found is None:
        return {}
    return {
        slot: value
        for slot, value in filter_slots(found.interpreted).items()
        if value is not None and tracker.get_slot(slot) is None
    }


def useful_questions(tracker: Tracker, found: Probe | None = None) -> list[str]:
    """The slots still missing that would change the results, most useful first."""
    category = tracker.get_slot("service_category")
    zone = tracker.get_slot("neighbourhood")
    age = tracker.get_slot("age")
    if found is None:  # the catalogue cannot tell: ask as before
        wanted = [] if category else ["service_category"]
        if not zone:
            wanted.append("neighbourhood")
        if category in AGE_BOUND_CATEGORIES and not age:
            wanted.append("age")
        return wanted
    wanted = []
    understood = found.interpreted.category is not None
    # without a kind of service, words that find nothing or a mix of kinds: ask it
    unclear = not understood and (not found.searchable or found.kinds > 1)
    if not category and (unclear or found.total == 0):
        wanted.append("service_category")
    several_pages = found.total > PAGE_SIZE and not found.relaxed
    if not zone and several_pages and found.quartieri > 1:
        wanted.append("neighbourhood")
    effective = category if category in CATEGORIES else found.interpreted.category
    if effective in AGE_BOUND_CATEGORIES and not age and several_pages and found.age_limits > 1:
        wanted.append("age")
    return wanted


# The probes of the form's run in progress, by (words, filters). rasa-sdk asks
# ``required_slots`` three times in one run (extraction, validation, the next slot) and the
# run probes once before; without slots changed in between, all four searched the same.
# The words and filters are the key, so a slot set during the run probes again. Each run
# (one request, one asyncio task) has its own; outside a run nothing is kept.
_run_probes: ContextVar[dict[tuple[str, SearchFilters], Probe | None] | None] = ContextVar(
    "search_form_run_probes", default=None
)


def probe_now(tracker: Tracker) -> Probe | None:
    text, filters = search_words(tracker), filters_from_slots(tracker)
    probes = _run_probes.get()
    if probes is None:
        return probe(text, filters)
    key = (text, filters)
    if key not in probes:
        probes[key] = probe(text, filters)
    return probes[key]


class ValidateServiceSearchForm(FormValidationAction):
    def name(self) -> str:
        return "validate_service_search_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        token = _run_probes.set({})
        try:
            return await self._run(dispatcher, tracker, domain)
        finally:
            _run_probes.reset(token)

    async def _run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        # "anzi, cerco un nido": a new request in the middle of the questions starts over
        # (the form's extraction would otherwise mix it with the previous answers)
        reset: list[dict[str, Any]] = []
        if intent_of(tracker) == "search_service" and asked_in_this_form(tracker):
            reset = [
                e for e in reset_search_events(tracker) if e["name"] not in _candidates(tracker)
            ]
            tracker.slots.update({e["name"]: e["value"] for e in reset})
        understood: list[dict[str, Any]] = []
        general = category_from_general_word(tracker)
        if general:
            tracker.slots["service_category"] = None  # validate_service_category keeps it so
        if not asked_in_this_form(tracker) or reset:
            # before the first question: what the catalogue understands in the words
            found = probe_now(tracker)
            values = {
                slot: value
                for slot, value in understood_slots(tracker, found).items()
                if slot not in _candidates(tracker) or (general and slot == "service_category")
            }
            understood = [SlotSet(slot, value) for slot, value in values.items()]
            tracker.slots.update(values)
            if values:
                logger.info("search form: the catalogue understood %s", ",".join(sorted(values)))
        return reset + understood + await super().run(dispatcher, tracker, domain)

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        asked = asked_in_this_form(tracker)
        wanted = useful_questions(tracker, probe_now(tracker))
        # slots already filled are listed so that their values get validated; the form
        # only ever asks for the missing ones
        filled = [s for s in FORM_SLOTS if tracker.get_slot(s) is not None]
        pending = [s for s in asked if s in wanted]  # asked, not (validly) answered yet
        new = [s for s in wanted if s not in asked][: max(MAX_QUESTIONS - len(asked), 0)]
        return list(dict.fromkeys(filled + pending + new))

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any] | None:
        """Always say which slot comes next (None: search now), also when the list above
        happens to equal the domain's."""
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        missing = next((s for s in required if tracker.slots.get(s) is None), None)
        return SlotSet("requested_slot", missing)

    # --- extraction: short answers the NLU may not annotate ------------------------------

    @staticmethod
    def _answering(tracker: Tracker, slot: str) -> bool:
        return tracker.get_slot("requested_slot") == slot and not tracker.get_slot(slot)

    @staticmethod
    def _skipped(tracker: Tracker) -> bool:
        intent = intent_of(tracker)
        if intent == "deny":
            return True
        return intent in ANSWER_INTENTS | {"out_of_scope"} and is_skip(latest_text(tracker))

    async def extract_service_category(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not self._answering(tracker, "service_category"):
            return {}
        if self._skipped(tracker):
            return {"service_category": ANY}
        if intent_of(tracker) in ANSWER_INTENTS and latest_text(tracker):
            # words the NLU could not map onto a category: the full-text search reads them
            # (validate_service_category adds them to the search text)
            return {"service_category": ANY}
        return {}

    async def extract_neighbourhood(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not self._answering(tracker, "neighbourhood"):
            return {}
        if self._skipped(tracker):
            return {"neighbourhood": ANY}
        if intent_of(tracker) not in ANSWER_INTENTS:
            return {}
        text = latest_text(tracker)
        area = resolve_area(text) if len(text) <= 30 else None
        if area is None:
            mention = find_area_mention(fold(text))
            area = mention.area if mention else None
        return {"neighbourhood": area.name} if area else {}

    async def extract_age(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not self._answering(tracker, "age"):
            return {}
        if self._skipped(tracker):
            return {"age": ANY}
        if intent_of(tracker) not in ANSWER_INTENTS:
            return {}
        age = parse_age(latest_text(tracker))
        return {"age": str(age)} if age is not None else {}

    # --- validation ----------------------------------------------------------------------

    def validate_service_category(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if category_from_general_word(tracker):  # what the catalogue understood, or nothing
            return {"service_category": tracker.get_slot("service_category")}
        if slot_value in CATEGORIES:
            return {"service_category": slot_value}
        if slot_value != ANY:
            return {"service_category": None}
        text = latest_text(tracker)
        if text and not self._skipped(tracker):
            previous = tracker.get_slot("search_text") or ""
            return {"service_category": ANY, "search_text": f"{previous} {text}".strip()}
        return {"service_category": ANY}

    def validate_neighbourhood(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value == ANY:
            return {"neighbourhood": ANY}
        area = resolve_area(str(slot_value))
        if area is None:
            unknown = N_(
                "Non conosco questa zona. Prova con il nome del quartiere, per esempio "
                "«Rifredi», «Isolotto» o «Campo di Marte»."
            )
            dispatcher.utter_message(text=tr(language_of(tracker), unknown))
            return {"neighbourhood": None}
        return {"neighbourhood": area.quartiere if area.is_quartiere else area.name}

    def validate_age(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value == ANY:
            return {"age": ANY}
        age = parse_age(str(slot_value))
        child_service = tracker.get_slot("service_category") in AGE_BOUND_CATEGORIES
        if age is None or (child_service and age > 25):
            only_years = N_(
                "Scrivi solo gli anni del bambino o della bambina, con un numero: per esempio 8."
            )
            dispatcher.utter_message(text=tr(language_of(tracker), only_years))
            return {"age": None}
        return {"age": str(age)}


def category_button(category: str, language: str | None = "it") -> dict[str, str]:
    """A kind of service as an answer: its label in the catalogue's vocabulary."""
    return {
        "title": label(language, CATEGORY_LABELS[category]),
        "payload": f'/inform{{"service_category":"{category}"}}',
    }


def kind_candidates(tracker: Tracker) -> list[str]:
    """The kinds of service the catalogue has evidence for in the request so far (its
    words and the slots), best first; empty without evidence or when «Altro» was chosen."""
    if OTHER in entity_values(tracker, "service_category"):
        return []
    try:
        with db_session() as session:
            result = search_services(
                session,
                text=search_words(tracker),
                filters=filters_from_slots(tracker),
                limit=PROBE_SIZE,
            )
            return category_candidates(session, result)
    except Exception:
        logger.exception("search form: could not read the candidates in the catalogue")
        return []


class ActionAskServiceCategory(Action):
    """The form's question about the kind of service (Rasa calls ``action_ask_<slot>``
    when the domain declares it). With the catalogue's candidates: «Cerchi uno di questi
    servizi?», a button for each and «Altro»; a candidate chosen lists its services at
    once (the form asks nothing more). Without candidates, or after «Altro»: the full
    question of the domain (``utter_ask_service_category``), as before."""

    def name(self) -> str:
        return "action_ask_service_category"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        kinds = kind_candidates(tracker)
        if not kinds:
            dispatcher.utter_message(response=FULL_QUESTION)
            return []
        language = language_of(tracker)
        logger.info("search form: the kind of service among %s", ",".join(kinds))
        question = CANDIDATES_TEXT if len(kinds) > 1 else CANDIDATE_TEXT
        buttons = [category_button(c, language) for c in kinds]
        buttons.append(button(language, OTHER_BUTTON))
        dispatcher.utter_message(text=tr(language, question), buttons=buttons)
        return []


def reset_search_events(tracker: Tracker) -> list[dict[str, Any]]:
    """A new request: forget the details of the previous search it does not repeat."""
    mentioned = {e.get("entity") for e in tracker.latest_message.get("entities") or []}
    events = [SlotSet(slot, None) for slot in RESET_ON_NEW_SEARCH if slot not in mentioned]
    # a value the NLU could not map onto the vocabulary would block the form's question
    for slot, allowed in (("service_category", CATEGORIES), ("target_group", TARGET_GROUPS)):
        value = tracker.get_slot(slot)
        if slot in mentioned and value is not None and value not in allowed:
            events.append(SlotSet(slot, None))
    if "cost_mode" in mentioned and tracker.get_slot("cost_mode") not in COST_MODES:
        events.append(SlotSet("cost_mode", None))
    if "neighbourhood" in mentioned and slot_value(tracker, "neighbourhood"):
        area = resolve_area(str(tracker.get_slot("neighbourhood")))
        if area is None:
            events.append(SlotSet("neighbourhood", None))
    return [
        *events,
        SlotSet("search_text", latest_text(tracker) or None),
        SlotSet("search_offset", 0),
        SlotSet("search_results", None),
        SlotSet("selected_service", None),
    ]


class ActionResetSearch(Action):
    """Runs before the search form on a new request (see ``reset_search_events``)."""

    def name(self) -> str:
        return "action_reset_search"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return reset_search_events(tracker)
