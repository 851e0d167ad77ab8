"""The subscription menu in chat: Italian texts and buttons, and what each button does.

Channel-neutral: every function returns a ``MenuReply`` (text + ``conversations.outgoing.Button``
list, at most 10 buttons so WhatsApp can show them as a list) after applying the change to
the database in the caller's session (the caller commits). The gateway renders it like any
reply: ``Outgoing(text=reply.text, buttons=reply.buttons)``.

Button payloads (all start with ``sub:``; at most 30 bytes):

    sub:menu            the main menu
    sub:on              subscribe, then choose quartieri
    sub:q  / sub:q:p    the quartieri page
    sub:q:Q5            add/remove quartiere Q5 (catalog.areas.QUARTIERI)
    sub:q:all           all of Florence (clears the quartieri)
    sub:i  / sub:i:p2   the interests page (2nd page)
    sub:i:after_school  add/remove an interest (catalog.vocabulary.CATEGORY_LABELS)
    sub:i:all           every topic (clears the interests)
    sub:show            see the current choices
    sub:stop            asks «Vuoi smettere...?» (also «stop avvisi» / /stop_avvisi typed)
    sub:stop:ok         the «Sì» of that question: stop every announcement
    sub:keep            the «No» of that question: nothing changes
    sub:done            close the menu
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from broadcast import subscriptions as subs
from broadcast.models import TopicKind
from catalog.areas import QUARTIERI
from catalog.vocabulary import CATEGORY_LABELS
from conversations.outgoing import Button

PREFIX = "sub:"
INTERESTS_PER_PAGE = 7
CHECK = "✅ "

STOP_WORDS = {
    "stop avvisi",
    "/stop_avvisi",
    "/stopavvisi",
    "basta avvisi",
    "niente avvisi",
    "nessun avviso",
    "disiscrivimi",
    "cancella iscrizione avvisi",
    # the English footer's words (locale/en) and the English command
    "stop news",
    "/stop_news",
    "no more news",
}

INTRO = (
    "Con gli avvisi ricevi le notizie dei Welcome Hub di Firenze: eventi, laboratori, "
    "aperture e scadenze. Scegli tu quartieri e argomenti, e puoi smettere quando vuoi."
)
NEEDS_CONSENT = (
    "Per ricevere gli avvisi devi prima accettare l'informativa sulla privacy. "
    "Scrivi «ciao» per rivederla."
)
SUBSCRIBED = "Fatto: riceverai gli avvisi. Ora scegli i quartieri che ti interessano."
QUARTIERI_HELP = (
    "Scegli i quartieri (tocca per aggiungere o togliere). "
    "Se non ne scegli nessuno ricevi gli avvisi di tutta la città."
)
INTERESTS_HELP = (
    "Scegli gli argomenti (tocca per aggiungere o togliere). "
    "Se non ne scegli nessuno ricevi gli avvisi su tutti gli argomenti."
)
STOPPED = (
    "Non riceverai più avvisi e abbiamo cancellato le tue scelte. "
    "Se cambi idea, scrivi /avvisi e scegli di nuovo quartieri e argomenti."
)
NOT_ACTIVE = "Non ricevi avvisi in questo momento."
NOTHING_TO_STOP = "Non ricevi avvisi in questo momento. Se vuoi riceverli, scrivi /avvisi."
ASK_STOP = (
    "Vuoi smettere di ricevere tutti gli avvisi? Le tue scelte di quartieri e argomenti "
    "verranno cancellate."
)
KEPT = "Va bene: continui a ricevere gli avvisi, non ho cambiato nulla."
CLOSED = "Va bene. Per cambiare le tue scelte scrivi /avvisi."


@dataclass
class MenuReply:
    text: str
    buttons: list[Button] = field(default_factory=list)
    changed: bool = False  # the database was changed (the caller commits)


def is_menu_payload(payload: str | None) -> bool:
    return bool(payload) and str(payload).startswith(PREFIX)


def is_stop_request(text: str) -> bool:
    """A typed request to stop every announcement («stop avvisi», /stop_avvisi,
    /stop_avvisi@NomeDelBot in a Telegram menu...)."""
    words = " ".join(text.lower().replace("!", " ").replace(".", " ").split())
    if words.startswith("/"):
        words = words.split(" ", 1)[0].split("@", 1)[0]
    return words in STOP_WORDS


# --- pages --------------------------------------------------------------------------


def _main(choices: subs.Choices, lead: str = "") -> MenuReply:
    if not choices.active:
        text = f"{lead}\n\n{INTRO}" if lead else INTRO
        return MenuReply(
            text,
            [Button("Sì, voglio gli avvisi", "sub:on"), Button("No, grazie", "sub:done")],
        )
    text = f"Ricevi gli avvisi dei Welcome Hub.\n{choices.describe()}\nCosa vuoi fare?"
    if lead:
        text = f"{lead}\n\n{text}"
    return MenuReply(
        text,
        [
            Button("Scegli i quartieri", "sub:q"),
            Button("Scegli gli argomenti", "sub:i"),
            Button("Le mie scelte", "sub:show"),
            Button("Stop a tutti gli avvisi", "sub:stop"),
            Button("Ho finito", "sub:done"),
        ],
    )


def _quartieri(choices: subs.Choices, lead: str = "") -> MenuReply:
    buttons = [
        Button(f"{CHECK if code in choices.quartieri else ''}{code} {name}", f"sub:q:{code}")
        for code, name in QUARTIERI.items()
    ]
    everywhere = "Tutta la città"
    buttons.append(Button(f"{CHECK if not choices.quartieri else ''}{everywhere}", "sub:q:all"))
    buttons.append(Button("Fatto", "sub:menu"))
    text = QUARTIERI_HELP if not lead else f"{lead}\n\n{QUARTIERI_HELP}"
    return MenuReply(text, buttons)


def _interests(choices: subs.Choices, page: int, lead: str = "") -> MenuReply:
    slugs = list(CATEGORY_LABELS)
    pages = max(1, -(-len(slugs) // INTERESTS_PER_PAGE))
    page = min(max(page, 1), pages)
    start = (page - 1) * INTERESTS_PER_PAGE
    buttons = [
        Button(
            f"{CHECK if slug in choices.interests else ''}{CATEGORY_LABELS[slug]}", f"sub:i:{slug}"
        )
        for slug in slugs[start : start + INTERESTS_PER_PAGE]
    ]
    if pages > 1:
        following = page % pages + 1
        buttons.append(Button(f"Altri argomenti ({following}/{pages})", f"sub:i:p{following}"))
    buttons.append(
        Button(f"{CHECK if not choices.interests else ''}Tutti gli argomenti", "sub:i:all")
    )
    buttons.append(Button("Fatto", "sub:menu"))
    text = INTERESTS_HELP if not lead else f"{lead}\n\n{INTERESTS_HELP}"
    return MenuReply(text, buttons)


def _page_of(slug: str) -> int:
    slugs = list(CATEGORY_LABELS)
    return slugs.index(slug) // INTERESTS_PER_PAGE + 1 if slug in slugs else 1


# --- entry points -----------------------------------------------------------------------


def open_menu(session: Session, *, conversation_id: str) -> MenuReply:
    """The main menu (what /avvisi and the subscribe_news intent show)."""
    if not subs.has_consent(session, conversation_id=conversation_id):
        return MenuReply(NEEDS_CONSENT)
    return _main(subs.choices(session, conversation_id=conversation_id))


def ask_stop(session: Session, *, conversation_id: str) -> MenuReply:
    """«Stop avvisi», /stop_avvisi, sub:stop: ask first (nothing changes yet)."""
    if not _choices(session, conversation_id).active:
        return MenuReply(NOTHING_TO_STOP)
    return MenuReply(
        ASK_STOP,
        [Button("Sì, basta avvisi", "sub:stop:ok"), Button("No, continua", "sub:keep")],
    )


def stop_all(session: Session, *, conversation_id: str, now: datetime) -> MenuReply:
    """Stop everything: the «Sì» of the question (sub:stop:ok), or Rasa's confirmed
    unsubscribe_news."""
    changed = subs.stop(session, conversation_id=conversation_id, now=now)
    return MenuReply(STOPPED if changed else NOTHING_TO_STOP, changed=changed)


def handle(
    session: Session, *, conversation_id: str, payload: str, now: datetime
) -> MenuReply | None:
    """Apply a ``sub:`` button; None when the payload is not the menu's."""
    if not is_menu_payload(payload):
        return None
    parts = payload[len(PREFIX) :].split(":")
    action, arg = parts[0], (parts[1] if len(parts) > 1 else "")
    if action == "stop":
        if arg == "ok":
            return stop_all(session, conversation_id=conversation_id, now=now)
        return ask_stop(session, conversation_id=conversation_id)
    if action == "keep":
        return MenuReply(KEPT)
    if action == "done":
        return MenuReply(CLOSED)
    if not subs.has_consent(session, conversation_id=conversation_id):
        return MenuReply(NEEDS_CONSENT)
    if action == "on":
        subs.subscribe(session, conversation_id=conversation_id, now=now)
        return _with_change(_quartieri(_choices(session, conversation_id), SUBSCRIBED))
    current = _choices(session, conversation_id)
    if not current.active:
        return _main(current, NOT_ACTIVE)
    if action == "show":
        return _main(current, "Le tue scelte:")
    if action == "q":
        return _quartiere(session, conversation_id, arg, now)
    if action == "i":
        return _interest(session, conversation_id, arg, now)
    return _main(current)


def _choices(session: Session, conversation_id: str) -> subs.Choices:
    return subs.choices(session, conversation_id=conversation_id)


def _with_change(reply: MenuReply) -> MenuReply:
    reply.changed = True
    return reply


def _quartiere(session: Session, conversation_id: str, arg: str, now: datetime) -> MenuReply:
    if arg == "all":
        subs.choose_all(session, conversation_id=conversation_id, kind=TopicKind.quartiere, now=now)
        return _with_change(_quartieri(_choices(session, conversation_id), "Tutta la città."))
    if arg in QUARTIERI:
        chosen = subs.toggle(
            session, conversation_id=conversation_id, kind=TopicKind.quartiere, value=arg, now=now
        )
        lead = f"{'Aggiunto' if chosen else 'Tolto'}: {arg} {QUARTIERI[arg]}."
        return _with_change(_quartieri(_choices(session, conversation_id), lead))
    return _quartieri(_choices(session, conversation_id))


def _interest(session: Session, conversation_id: str, arg: str, now: datetime) -> MenuReply:
    if arg == "all":
        subs.choose_all(session, conversation_id=conversation_id, kind=TopicKind.interest, now=now)
        return _with_change(
            _interests(_choices(session, conversation_id), 1, "Tutti gli argomenti.")
        )
    if arg.startswith("p") and arg[1:].isdigit():
        return _interests(_choices(session, conversation_id), int(arg[1:]))
    if arg in CATEGORY_LABELS:
        chosen = subs.toggle(
            session, conversation_id=conversation_id, kind=TopicKind.interest, value=arg, now=now
        )
        lead = f"{'Aggiunto' if chosen else 'Tolto'}: {CATEGORY_LABELS[arg]}."
        return _with_change(_interests(_choices(session, conversation_id), _page_of(arg), lead))
    return _interests(_choices(session, conversation_id), 1)


def intercepts(*, payload: str | None, text: str) -> bool:
    """Whether ``intercept`` may answer this message (the message alone, no database): a
    ``sub:`` button or a typed «stop avvisi»; for anything else it returns None."""
    return is_menu_payload(payload) or is_stop_request(text)


def intercept(
    session: Session, *, conversation_id: str, payload: str | None, text: str, now: datetime
) -> MenuReply | None:
    """What the gateway answers by itself, without Rasa: a ``sub:`` button, or a typed
    «stop avvisi» (asked first). None for anything else (the message goes on to Rasa)."""
    if payload and is_menu_payload(payload):
        return handle(session, conversation_id=conversation_id, payload=payload, now=now)
    if is_stop_request(text):
        return ask_stop(session, conversation_id=conversation_id)
    return None


def for_custom(
    session: Session, *, conversation_id: str, custom: dict[str, object], now: datetime
) -> MenuReply:
    """Rasa's custom payload ``{"type": "subscriptions"}`` (intent subscribe_news, /avvisi):
    the main menu; with ``"action": "stop"`` (intent unsubscribe_news, sent by
    action_unsubscribe_news only once the citizen confirmed): stop everything."""
    if custom.get("action") == "stop":
        return stop_all(session, conversation_id=conversation_id, now=now)
    return open_menu(session, conversation_id=conversation_id)
