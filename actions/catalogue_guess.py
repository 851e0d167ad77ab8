"""A search the NLU did not see: the catalogue's understanding of a message the model turned
away (out_of_scope) or was unsure of («Intendevi...?»).

Citizens describe what they need in words the model was not trained on («una signora che
stia coi bambini il venerdì sera»). When the citizen's words name a specific kind of
service (``catalog.understanding.named_kind``: «badante», «sfratto», never a general word
such as «casa»), no office of the Comune matches them better (data/offices/), and the
model itself leaned towards welfare, the assistant shows the services of that kind at
once, with the zone, age and cost the words say, instead of a refusal or a question.
"Leaned towards welfare" is either of:

- the model's own first guess, before the out-of-domain decision, was a request about
  services (search, details, enrolment, a bare detail), and the out-of-domain detector is
  not nearly sure it is something else;
- the out-of-domain detector does not find it clearly out of domain, whatever the first
  guess (DIET read «aiuto bollette» as out of scope, the detector as welfare), unless that
  guess is a turn of conversation («sei un robot?», «grazie», «ciao»).

An office wins over the kind of service only when it matches more than one lone word
(``office_wins``).

The thresholds were chosen on the development splits only (tests/nlu_fresh/
search_paraphrases_dev.yml against tests/nlu_fresh/out_of_domain_dev*.yml and
in_domain_dev.yml; docs/nlu-pipeline.md, "Search by paraphrase: the catalogue where the
model said no").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import db_session, latest_text, logger
from actions.search import filter_slots, run_search
from actions.wording import N_, language_of, tr
from catalog.offices import OfficeDataError, scored_office_for
from catalog.search import search_services
from catalog.understanding import named_kind, understand

# The model's first guesses that mean "a request about services".
SEARCH_LIKE = frozenset({"search_service", "inform", "service_details", "book_service"})
GATE_KEY = "intent_gate"  # nlu.intent_gate's parse data (the model's own guess)

GUESS_TEXT = N_("Forse cerchi un servizio come questi.")
GUESS_HELP_TEXT = N_(
    "Se non è quello che cerchi, scrivimelo con altre parole oppure tocca «Parla con un operatore»."
)


# Turns of conversation: a guess of one of these is never overridden by a list of services.
CONVERSATIONAL = frozenset(
    {"greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "help", "emergency"}
)


@dataclass(frozen=True)
class GuessRule:
    """When a turned-away or unclear message is searched anyway."""

    min_confidence: float  # the model's confidence in its search-like first guess
    max_ood: float  # ... and the detector's P(out) must stay under this
    welfare_ood: float  # under this P(out) the detector alone says welfare


# On the development splits (docs/nlu-pipeline.md): the search requests taken by the first
# branch had a search-like guess at 0.33 or more and P(out) at most 0.82; the one
# out-of-domain sentence of 559 it would take («il bonus mobili per la cucina nuova») had
# P(out) 0.89. The second branch: 0.2 until the fifth session of 2026-12-07, then 0.7 with
# the broad lexicon of catalog/synonyms.yaml. DIET turns away plain requests with full
# confidence («chi mi aiuta a scrivere il curriculum?», «non ho niente da mangiare, dove
# posso trovare un pasto caldo?», P(out) 0.53-0.67): at 0.7, 17 of the 23 search requests
# the model turned away in the development and regression sets are listed (12 at 0.2), and
# 5 of 601 out-of-domain sentences (2 at 0.2 with the same lexicon), all near welfare
# («la casa popolare quando me la danno?», «mi fa male la schiena, che medico devo vedere»).
RULE = GuessRule(min_confidence=0.3, max_ood=0.85, welfare_ood=0.7)

# The office's score (catalog.offices.OfficeDirectory.scored_match) from which it is the
# answer rather than the services of a kind the words name.
OFFICE_OVER_KIND = 2


def model_guess(message: dict[str, Any]) -> tuple[str, float, float | None]:
    """(the model's first intent before the gate, its confidence, the detector's P(out) or
    None without a detector); the ranking's first when the gate left nothing."""
    gate = message.get(GATE_KEY) or {}
    intent = str(gate.get("model_intent") or "")
    confidence = float(gate.get("model_confidence") or 0.0)
    if not intent:
        ranking = [
            r
            for r in message.get("intent_ranking") or []
            if r.get("name") not in {"out_of_scope", "nlu_fallback"}
        ]
        if ranking:
            intent = str(ranking[0].get("name"))
            confidence = float(ranking[0].get("confidence") or 0.0)
    ood = gate.get("ood_probability")
    return intent, confidence, float(ood) if ood is not None else None


def leans_to_welfare(message: dict[str, Any], rule: GuessRule = RULE) -> bool:
    intent, confidence, ood = model_guess(message)
    if intent in SEARCH_LIKE and confidence >= rule.min_confidence:
        return ood is None or ood < rule.max_ood
    return ood is not None and ood < rule.welfare_ood and intent not in CONVERSATIONAL


def office_wins(text: str) -> bool:
    """Whether an office of the Comune answers ``text`` better than a kind of service its
    words name: a topic of two or more words («iscrizione scuola», «carta d'identità») or
    two topics. One lone word («scuola», «famiglia») is not enough against a specific word
    of the catalogue: «finita la scuola non fa niente, ci sono centri per lui?» is about
    services, «c'è un consultorio per le famiglie?» too."""
    try:
        scored = scored_office_for(text)
    except OfficeDataError:
        return False
    if scored is None:
        return False
    score, office = scored
    return not office.general and score >= OFFICE_OVER_KIND


def kind_in_words(text: str) -> str | None:
    """The kind of service ``text`` names with a specific word, unless an office of the
    Comune matches it better (``office_wins``: then the office is the answer)."""
    if not text or text.startswith("/"):
        return None  # a button: the citizen already chose
    kind = named_kind(text)
    if kind is None or office_wins(text):
        return None
    return kind


def kind_the_catalogue_finds(text: str) -> str | None:
    """The kind of service the catalogue's own search settles on for ``text``, for a message
    already known to be a request (the citizen said «No» to «Sei in pericolo adesso?», or
    asked for details with no service in view): a specific word (``named_kind``); else, when
    the words also say whom it is for (a group or an age: «il mio babbo ha 88 anni», «per
    ragazzi»), any word of the lexicon, general ones included («non riesce più a
    cucinare»), or the kind the best matches of the words agree on («misurare la pressione
    per mio padre»: health). A general word alone is not enough («lui urla tanto stasera»
    is not a request for a babysitter). None when an office answers it better, when the
    words name nothing, or when the catalogue cannot be read."""
    if not text or text.startswith("/") or office_wins(text):
        return None
    if kind := named_kind(text):
        return kind
    understood = understand(text).filters
    if understood.target_group is None and understood.age is None:
        return None
    try:
        with db_session() as session:
            result = search_services(session, text=text, limit=1)
    except Exception:
        logger.exception("could not read the catalogue for the kind of service")
        return None
    if not result.total:
        return None
    return result.interpreted.category or result.leading_category


def guessed_kind(message: dict[str, Any], rule: GuessRule = RULE) -> str | None:
    """The kind of service to show for this parse, or None (answer as before)."""
    if not leans_to_welfare(message, rule):
        return None
    return kind_in_words(str(message.get("text") or "").strip())


def guessed_search(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    kind: str,
    *,
    text: str | None = None,
    lead: str = "",
    paging: bool = True,
) -> list[dict[str, Any]] | None:
    """The services of ``kind`` for the citizen's words (``text``, by default the latest
    message), with the zone, age, group and cost those words say, and the slots to match
    (so that «Altri risultati» and a refinement continue the search); None, with nothing
    said, when no service matches. ``lead`` (already translated) comes first. Inside
    Rasa's two-stage fallback the slots set here are undone by the citizen's next message
    (the loop's «clarification»): ``paging=False`` leaves out «Altri risultati» there."""
    text = latest_text(tracker) if text is None else text
    lang = language_of(tracker)
    filters = replace(understand(text).filters, category=kind)
    results = CollectingDispatcher()
    events = run_search(results, tracker, offset=0, text=text, filters=filters, paging=paging)
    if not any(e.get("name") == "search_results" and e.get("value") for e in events):
        return None
    logger.info("searched the kind of service the words name (%s)", kind)
    messages = results.messages  # one message: the list with its buttons
    first = "\n".join(part for part in (lead, tr(lang, GUESS_TEXT)) if part)
    messages[0]["text"] = f"{first}\n{messages[0].get('text') or ''}"
    messages[-1]["text"] = f"{messages[-1].get('text') or ''}\n{tr(lang, GUESS_HELP_TEXT)}"
    dispatcher.messages.extend(messages)
    slots = {**filter_slots(filters), "search_text": text}
    return [SlotSet(name, value) for name, value in slots.items()] + events
