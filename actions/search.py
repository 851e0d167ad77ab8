"""Searching the catalogue: a short numbered list, details buttons, paging, honest misses.

The search reads the slots (category, target group, zone, age, cost mode) as filters and
the words of the request as free text (``catalog.search.search_services``). A wish to
spend little («non posso pagare tanto», «economico»: ``catalog.understanding.wants_low_cost``)
ranks the matches from the cheapest; «gratis» filters (cost mode free). When nothing
matches everything, the citizen is told so, gets the nearest alternatives and a Care
Manager on offer, and the unmet need is recorded for the analysts.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    HANDOFF_BUTTON,
    cost_words,
    db_session,
    details_button,
    logger,
    slot_value,
)
from actions.wording import N_, button, label, language_of, tr
from catalog.areas import QUARTIERI, resolve_area
from catalog.demand import record_unmet_need
from catalog.filters import COST_MODES, SearchFilters
from catalog.models import CostMode, Service
from catalog.search import SearchResult, search_services
from catalog.understanding import wants_low_cost
from catalog.vocabulary import CATEGORIES, CATEGORY_LABELS, COST_LABELS, TARGET_LABELS

PAGE_SIZE = 5
LOW_COST_POOL = 60  # matches ranked by cost when the citizen wants to spend little
PAGE_CUSTOM = {"type": "page", "page_key": "search_results"}
MORE_BUTTON = {"title": N_("Altri risultati"), "payload": "/more_results"}
NEW_SEARCH_BUTTON = {"title": N_("Nuova ricerca"), "payload": "/search_service"}

NOTHING_FOUND_TEXT = N_(
    "Non ho trovato servizi nel catalogo per questa richiesta{what}. "
    "Un Care Manager può aiutarti a cercare altre soluzioni: tocca «Parla con un operatore»."
)
NO_SEARCH_TEXT = N_("Non ho una ricerca in corso. Dimmi pure cosa cerchi.")
NO_MORE_TEXT = N_(
    "Non ci sono altri risultati. Puoi fare una nuova ricerca o parlare con un operatore."
)
DB_ERROR_TEXT = N_(
    "Scusa, in questo momento non riesco a cercare nel catalogo. Riprova tra qualche minuto "
    "oppure chiedi a un operatore."
)


def filters_from_slots(tracker: Tracker) -> SearchFilters:
    """The slots as search filters; unknown values and "does not matter" are left out."""
    category = slot_value(tracker, "service_category")
    target = slot_value(tracker, "target_group")
    cost = slot_value(tracker, "cost_mode")
    age_text = slot_value(tracker, "age")
    zone = slot_value(tracker, "neighbourhood")
    area = resolve_area(str(zone)) if zone else None
    age = int(age_text) if isinstance(age_text, str) and age_text.isdigit() else None
    return SearchFilters(
        category=category if category in CATEGORIES else None,
        target_group=target if target in TARGET_LABELS else None,
        quartiere=area.quartiere if area else None,
        area=area.name if area and not area.is_quartiere else None,
        age=age if age is not None and age <= 120 else None,
        cost_mode=cost if cost in COST_MODES else None,
    )


def filter_slots(filters: SearchFilters) -> dict[str, Any]:
    """The slots that hold ``filters`` (the other way round from ``filters_from_slots``)."""
    return {
        "service_category": filters.category,
        "neighbourhood": filters.area or filters.quartiere,
        "age": str(filters.age) if filters.age is not None else None,
        "target_group": filters.target_group,
        "cost_mode": filters.cost_mode,
    }


def describe_filters(filters: SearchFilters, language: str | None = "it") -> str:
    """What was searched, in words: "Doposcuola, per bambini, a Rifredi, 8 anni"."""
    parts = []
    if filters.category:
        parts.append(label(language, CATEGORY_LABELS[filters.category]))
    if filters.target_group:
        target = label(language, TARGET_LABELS[filters.target_group])
        parts.append(tr(language, N_("per {who}"), who=target))
    if filters.area:
        parts.append(tr(language, N_("zona {area}"), area=filters.area))
    elif filters.quartiere:
        parts.append(tr(language, N_("quartiere {name}"), name=QUARTIERI[filters.quartiere]))
    if filters.age is not None:
        if filters.age == 0:
            parts.append(tr(language, N_("meno di 1 anno")))
        else:
            parts.append(tr(language, N_("{age} anni"), age=filters.age))
    if filters.cost_mode:
        parts.append(label(language, COST_LABELS[filters.cost_mode]))
    return ", ".join(parts)


# fields of a catalog.search.Note that are labels of the catalogue's vocabulary
NOTE_LABELS = frozenset({"label", "what", "kinds"})


def note_words(note: str, language: str | None = "it") -> str:
    """A note of the search on how it widened (catalog.search.Note), in ``language``."""
    msgid = getattr(note, "msgid", None)
    if msgid is None or language in (None, "it"):
        return note
    fields: dict[str, Any] = {}
    for name, value in getattr(note, "fields", {}).items():
        if isinstance(value, tuple):
            kinds = [f"«{label(language, v)}»" for v in value]
            fields[name] = (
                kinds[0]
                if len(kinds) == 1
                else tr(
                    language, N_("{items} o {last}"), items=", ".join(kinds[:-1]), last=kinds[-1]
                )
            )
        elif name in NOTE_LABELS and isinstance(value, str):
            fields[name] = label(language, value)
        else:
            fields[name] = value
    return tr(language, msgid, **fields)


def result_line(index: int, service: Service, language: str | None = "it") -> str:
    zone = QUARTIERI.get(service.quartiere, service.quartiere)
    details = [zone, cost_words(service, language)]
    if service.budget_payable:
        details.append(tr(language, N_("si può pagare con il budget welfare")))
    return f"{index}. {service.title}\n   {', '.join(details)}"


def cost_key(service: Service) -> tuple[int, int]:
    """Cheapest first: free, then by price (a share to pay before a full price of the same
    amount), unknown prices last."""
    if service.cost_mode == CostMode.free:
        return (0, 0)
    if service.price_cents:
        return (1, service.price_cents * (1 if service.cost_mode == CostMode.co_payment else 2))
    return (2, 0)


def by_cost(result: SearchResult, *, offset: int, limit: int) -> SearchResult:
    """The page ``offset``..``offset+limit`` of the matches sorted by cost (stable: the
    relevance order stays among services costing the same)."""
    hits = sorted(result.hits, key=lambda hit: cost_key(hit.service))
    result.hits = hits[offset : offset + limit]
    return result


def run_search(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    offset: int,
    text: str | None = None,
    filters: SearchFilters | None = None,
    paging: bool = True,
) -> list[dict[str, Any]]:
    """Search, reply, and remember the page; shared by the first page and the next ones.

    ``text`` replaces the words of the current search (a new request); by default the
    search reads them from the slot ``search_text``. ``filters`` replace the slots' (the
    caller then sets the slots to match, so that the next page finds the same). Without
    ``paging`` there is no «Altri risultati» (the caller's slots would not last)."""
    if filters is None:
        filters = filters_from_slots(tracker)
    lang = language_of(tracker)
    handoff = button(lang, HANDOFF_BUTTON)
    new_search = button(lang, NEW_SEARCH_BUTTON)
    if text is None:
        text = tracker.get_slot("search_text") or ""
    cheap = wants_low_cost(text)
    try:
        with db_session() as session:
            if cheap:
                result: SearchResult = by_cost(
                    search_services(session, text=text, filters=filters, limit=LOW_COST_POOL),
                    offset=offset,
                    limit=PAGE_SIZE,
                )
            else:
                result = search_services(
                    session, text=text, filters=filters, limit=PAGE_SIZE, offset=offset
                )
            missed = offset == 0 and (not result.hits or bool(result.relaxed))
            if missed:
                record_unmet_need(
                    session,
                    conversation_id=tracker.sender_id,
                    text=text,
                    filters=result.interpreted,
                )
            services = [hit.service for hit in result.hits]
            lines = [result_line(offset + i, s, lang) for i, s in enumerate(services, start=1)]
            codes = [s.code for s in services]
    except Exception:
        logger.exception("action_search_services: search failed")
        dispatcher.utter_message(text=tr(lang, DB_ERROR_TEXT), buttons=[handoff])
        return []
    logger.info(
        "search: offset %d, %d hits of %d, missed=%s", offset, len(codes), result.total, missed
    )

    if not codes:
        if offset > 0:
            dispatcher.utter_message(text=tr(lang, NO_MORE_TEXT), buttons=[new_search, handoff])
            return []
        understood = describe_filters(result.interpreted, lang)
        what = f" ({understood})" if understood else ""
        dispatcher.utter_message(
            text=tr(lang, NOTHING_FOUND_TEXT, what=what), buttons=[handoff, new_search]
        )
        return [SlotSet("search_results", None), SlotSet("search_offset", 0)]

    understood = describe_filters(result.interpreted, lang)
    what = f" ({understood})" if understood else ""
    if result.relaxed:
        missed_all = N_(
            "Non ho trovato servizi che corrispondono proprio a tutto quello che cerchi{what}."
        )
        notes = [note_words(note, lang) for note in result.relaxed]
        intro = "\n".join([tr(lang, missed_all, what=what), *notes])
    elif offset == 0:
        if result.total == 1:
            intro = tr(lang, N_("Ho trovato 1 servizio{what}"), what=what)
        else:
            intro = tr(lang, N_("Ho trovato {count} servizi{what}"), count=result.total, what=what)
        cheapest = tr(lang, N_(", dal meno caro")) if cheap and len(codes) > 1 else ""
        if result.total > len(codes):
            intro += tr(lang, N_(". Ecco i primi {count}{cheapest}:"), count=len(codes),
                        cheapest=cheapest)  # fmt: skip
        else:
            intro += f"{cheapest}:"
    else:
        intro = tr(
            lang,
            N_("Altri risultati ({first}-{last} di {total}):"),
            first=offset + 1,
            last=offset + len(codes),
            total=result.total,
        )

    outro = tr(lang, N_("Tocca «Dettagli» per sapere costi, orari e come accedere."))
    if result.relaxed:
        outro += " " + tr(
            lang, N_("Se non va bene nessuno, un Care Manager può aiutarti a trovare altro.")
        )
    buttons = [details_button(offset + i, code, lang) for i, code in enumerate(codes, start=1)]
    if paging and offset + len(codes) < result.total:
        buttons.append(button(lang, MORE_BUTTON))
    if result.relaxed:
        buttons.append(handoff)
    message: dict[str, Any] = {"text": "\n".join([intro, *lines, outro]), "buttons": buttons}
    if offset > 0:
        message["json_message"] = PAGE_CUSTOM
    dispatcher.utter_message(**message)
    return [
        SlotSet("search_results", codes),
        SlotSet("search_offset", offset),
        SlotSet("selected_service", codes[0] if len(codes) == 1 and offset == 0 else None),
    ]


class ActionSearchServices(Action):
    def name(self) -> str:
        return "action_search_services"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        # the search reads the database: off the action server's event loop
        return await asyncio.to_thread(run_search, dispatcher, tracker, offset=0)


class ActionMoreResults(Action):
    """The next page of the last search ("Altri risultati")."""

    def name(self) -> str:
        return "action_more_results"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if not tracker.get_slot("search_results"):
            lang = language_of(tracker)
            dispatcher.utter_message(
                text=tr(lang, NO_SEARCH_TEXT), buttons=[button(lang, NEW_SEARCH_BUTTON)]
            )
            return []
        offset = int(tracker.get_slot("search_offset") or 0) + PAGE_SIZE
        return await asyncio.to_thread(run_search, dispatcher, tracker, offset=offset)
