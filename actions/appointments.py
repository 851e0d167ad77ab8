"""Appointments with a Care Manager at a Welcome Point, by buttons.

- the Welcome Points list (``action_find_welcome_point``) offers "Appuntamento a <posto>"
  for the places with free slots: ``/choose_slot{"place_code"}``;
- ``action_choose_slot``: the free slots as buttons ``/book_slot{"slot_id"}`` (with
  ``appointment_number`` too when moving a booking);
- ``action_book_slot``: books (or moves) it; a slot taken meanwhile is refused by the
  database (``welfare.appointments.SlotTaken``) and other slots are offered;
- ``action_cancel_appointment`` ("annulla appuntamento" or its button): asks first
  (actions/confirmation.py), then cancels;
- ``action_book_appointment`` (intent book_appointment, «vorrei un appuntamento»): the
  Welcome Points with free slots, nearest first when the zone is known, then the slots.
Only this conversation's bookings are ever read or changed. The day before, the gateway
sends a reminder (``server.welfare``).
"""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlmodel import Session, col, select

from actions.common import (
    HANDOFF_BUTTON,
    WELCOME_POINT_BUTTON,
    db_session,
    entity_values,
    local,
    logger,
    now,
)
from actions.confirmation import ask, confirmed, confirmed_target, done
from actions.wording import N_, button, buttons, language_of, short_weekday, tr
from catalog.areas import haversine_km, resolve_area
from catalog.models import WelcomePlace
from welfare.appointments import (
    AppointmentError,
    book,
    cancel,
    free_slots,
    move,
    places_with_free_slots,
)
from welfare.models import Appointment, AppointmentSlot

DB_ERROR_TEXT = N_(
    "Scusa, in questo momento non riesco a gestire gli appuntamenti. Riprova tra poco."
)
NO_SLOTS_TEXT = N_("Al momento non ci sono orari liberi in questo Welcome Point.")
NO_APPOINTMENT_TEXT = N_("Non hai appuntamenti da annullare.")


def _payload(intent: str, **values: str) -> str:
    return f"/{intent}{json.dumps(values, separators=(',', ':'))}"


def _first(tracker: Tracker, entity: str) -> str | None:
    for value in entity_values(tracker, entity):
        if value not in (None, ""):
            return str(value)
    return None


def slot_label(slot: AppointmentSlot, language: str | None = "it") -> str:
    """ "mer 02/12 09:00" / "Wed 02/12 09:00"."""
    start = local(slot.starts_at)
    return f"{short_weekday(start.weekday(), language)} {start:%d/%m %H:%M}"


def appointment_buttons(
    places: list[WelcomePlace], session: Session, language: str | None = "it"
) -> list[dict[str, str]]:
    """ "Appuntamento a <posto>" for the places that have free slots (for the points list)."""
    offered = []
    open_places = places_with_free_slots(
        session, place_codes=[place.code for place in places], now=now()
    )
    for place in places:
        if place.code in open_places:
            offered.append(
                {
                    "title": tr(language, N_("Appuntamento a {place}"), place=place.name),
                    "payload": _payload("choose_slot", place_code=place.code),
                }
            )
    return offered


def _own(session: Session, conversation_id: str, number: str | None) -> Appointment | None:
    query = select(Appointment).where(
        Appointment.conversation_id == conversation_id, col(Appointment.cancelled_at).is_(None)
    )
    if number:
        query = query.where(Appointment.number == number)
    return session.exec(query.order_by(col(Appointment.id).desc())).first()


def _offer(
    dispatcher: CollectingDispatcher,
    session: Session,
    place_code: str,
    moving: str | None,
    language: str | None = "it",
) -> None:
    place = session.exec(select(WelcomePlace).where(WelcomePlace.code == place_code)).first()
    slots = free_slots(session, place_code=place_code, now=now(), limit=6) if place else []
    if not slots:
        dispatcher.utter_message(
            text=tr(language, NO_SLOTS_TEXT), buttons=[button(language, HANDOFF_BUTTON)]
        )
        return
    extra = {"appointment_number": moving} if moving else {}
    offered = [
        {
            "title": slot_label(s, language),
            "payload": _payload("book_slot", slot_id=str(s.id), **extra),
        }
        for s in slots
    ]
    assert place is not None
    dispatcher.utter_message(
        text=tr(language, N_("Scegli un orario al {place}:"), place=place.name), buttons=offered
    )


class ActionChooseSlot(Action):
    def name(self) -> str:
        return "action_choose_slot"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        place_code = _first(tracker, "place_code")
        lang = language_of(tracker)
        if not place_code:
            dispatcher.utter_message(
                text=tr(lang, N_("In quale Welcome Point? Cercalo e tocca «Appuntamento a…».")),
                buttons=[button(lang, WELCOME_POINT_BUTTON)],
            )
            return []
        try:
            with db_session() as session:
                moving = _first(tracker, "appointment_number")
                _offer(dispatcher, session, place_code, moving, lang)
        except Exception:
            logger.exception("action_choose_slot: database error")
            dispatcher.utter_message(
                text=tr(lang, DB_ERROR_TEXT), buttons=[button(lang, HANDOFF_BUTTON)]
            )
        return []


class ActionBookSlot(Action):
    def name(self) -> str:
        return "action_book_slot"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        raw = _first(tracker, "slot_id")
        if not raw or not raw.isdigit():
            return await ActionChooseSlot().run(dispatcher, tracker, domain)
        moving = _first(tracker, "appointment_number")
        conversation_id = tracker.sender_id
        lang = language_of(tracker)
        try:
            with db_session() as session:
                slot = session.get(AppointmentSlot, int(raw))
                place = (
                    session.exec(
                        select(WelcomePlace).where(WelcomePlace.code == slot.place_code)
                    ).first()
                    if slot
                    else None
                )
                try:
                    old = _own(session, conversation_id, moving) if moving else None
                    if old is not None:
                        booking = move(session, appointment=old, slot_id=int(raw), now=now())
                    else:
                        booking = book(
                            session, slot_id=int(raw), conversation_id=conversation_id, now=now()
                        )
                except AppointmentError as refusal:
                    session.rollback()
                    # the refusals' texts are welfare.appointments' (the actions' catalogue)
                    dispatcher.utter_message(text=tr(lang, refusal.message))
                    if slot is not None:
                        _offer(dispatcher, session, slot.place_code, moving, lang)
                    return []
                assert slot is not None
                when, name = slot_label(slot, lang), place.name if place else ""
                number = booking.number
                place_code = slot.place_code
        except Exception:
            logger.exception("action_book_slot: database error")
            dispatcher.utter_message(
                text=tr(lang, DB_ERROR_TEXT), buttons=[button(lang, HANDOFF_BUTTON)]
            )
            return []
        done_text = (
            N_(
                "Fatto: appuntamento spostato per {when} al {place} (numero {number}). "
                "Il giorno prima ti mando un promemoria."
            )
            if moving
            else N_(
                "Fatto: appuntamento prenotato per {when} al {place} (numero {number}). "
                "Il giorno prima ti mando un promemoria."
            )
        )
        dispatcher.utter_message(
            text=tr(lang, done_text, when=when, place=name, number=number),
            buttons=[
                {
                    "title": tr(lang, N_("Sposta")),
                    "payload": _payload(
                        "choose_slot", place_code=place_code, appointment_number=number
                    ),
                },
                {
                    "title": tr(lang, N_("Annulla l'appuntamento")),
                    "payload": _payload("cancel_appointment", appointment_number=number),
                },
            ],
        )
        return []


class ActionCancelAppointment(Action):
    def name(self) -> str:
        return "action_cancel_appointment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        is_confirmed = confirmed(tracker, "cancel_appointment")
        lang = language_of(tracker)
        number = _first(tracker, "appointment_number") or (
            confirmed_target(tracker) if is_confirmed else None
        )
        try:
            with db_session() as session:
                booking = _own(session, tracker.sender_id, number)
                if booking is None:
                    dispatcher.utter_message(text=tr(lang, NO_APPOINTMENT_TEXT))
                    return []
                if not (is_confirmed and confirmed_target(tracker) == booking.number):
                    slot = session.get(AppointmentSlot, booking.slot_id)
                    question = (
                        tr(
                            lang,
                            N_("Vuoi annullare l'appuntamento di {when} (numero {number})?"),
                            when=slot_label(slot, lang),
                            number=booking.number,
                        )
                        if slot
                        else tr(
                            lang,
                            N_("Vuoi annullare l'appuntamento (numero {number})?"),
                            number=booking.number,
                        )
                    )
                    return ask(
                        dispatcher,
                        tracker,
                        kind="cancel_appointment",
                        text=question,
                        yes_title=N_("Sì, annullalo"),
                        intent="cancel_appointment",
                        entities={"appointment_number": booking.number},
                        target=booking.number,
                    )
                try:
                    cancel(session, appointment=booking, now=now())
                except AppointmentError as refusal:
                    dispatcher.utter_message(text=tr(lang, refusal.message))
                    return []
                number = booking.number
        except Exception:
            logger.exception("action_cancel_appointment: database error")
            dispatcher.utter_message(
                text=tr(lang, DB_ERROR_TEXT), buttons=[button(lang, HANDOFF_BUTTON)]
            )
            return []
        dispatcher.utter_message(
            text=tr(lang, N_("Appuntamento {number} annullato."), number=number)
        )
        return [done()]


BOOK_INTRO_TEXT = N_(
    "Un Care Manager ti aiuta di persona in un Welcome Point. "
    "Scegli dove vuoi l'appuntamento: poi ti mostro gli orari liberi."
)
NO_FREE_SLOTS_TEXT = N_(
    "In questo momento non ci sono orari liberi da prenotare in chat. Puoi andare in un "
    "Welcome Point negli orari di apertura, oppure parlare con un operatore qui in chat."
)
MAX_PLACES = 6


def _zone(tracker: Tracker) -> tuple[float, float] | None:
    """Where the citizen is, from the zone named now or before (for the nearest first)."""
    values = [*entity_values(tracker, "neighbourhood"), tracker.get_slot("neighbourhood")]
    for value in values:
        if isinstance(value, str) and value and value != "any":
            area = resolve_area(value)
            if area is not None:
                return area.lat, area.lon
    return None


class ActionBookAppointment(Action):
    """«Vorrei un appuntamento con un care manager»: the Welcome Point first, then the slots
    (``/choose_slot`` -> ``action_choose_slot`` -> ``/book_slot`` -> ``action_book_slot``)."""

    def name(self) -> str:
        return "action_book_appointment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        where = _zone(tracker)
        lang = language_of(tracker)
        try:
            with db_session() as session:
                places = list(session.exec(select(WelcomePlace)).all())
                if where is not None:
                    places.sort(key=lambda p: haversine_km(where[0], where[1], p.lat, p.lon))
                else:
                    places.sort(key=lambda p: (p.quartiere, p.name))
                offered = appointment_buttons(places, session, lang)[:MAX_PLACES]
        except Exception:
            logger.exception("action_book_appointment: database error")
            dispatcher.utter_message(
                text=tr(lang, DB_ERROR_TEXT), buttons=[button(lang, HANDOFF_BUTTON)]
            )
            return []
        if not offered:
            dispatcher.utter_message(
                text=tr(lang, NO_FREE_SLOTS_TEXT),
                buttons=buttons(lang, [WELCOME_POINT_BUTTON, HANDOFF_BUTTON]),
            )
            return []
        dispatcher.utter_message(text=tr(lang, BOOK_INTRO_TEXT), buttons=offered)
        return []
