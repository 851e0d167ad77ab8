"""Welcome Hubs and Points: the nearest ones, open now or when they open next.

Where the citizen is comes from a location shared with the latest message (metadata
``{"location": {"lat": .., "lon": ..}}``), else from the neighbourhood they named; when
neither is known the action asks, with the gateway's ``location_request``.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.appointments import appointment_buttons
from actions.common import (
    HANDOFF_BUTTON,
    db_session,
    entity_values,
    hours_description,
    latest_metadata,
    logger,
    map_link,
    now,
    open_status,
    slot_value,
)
from actions.wording import N_, button, language_of, tr
from catalog.areas import QUARTIERI, Area, in_florence, resolve_area
from catalog.models import PlaceKind, WelcomePlace
from catalog.repository import nearest_places

LIMIT = 3
LOCATION_REQUEST = {"type": "location_request"}
ASK_WHERE_TEXT = N_(
    "Per trovarti il Welcome Point più vicino, dimmi in quale zona di Firenze sei "
    "(per esempio «Rifredi») oppure mandami la tua posizione."
)
NONE_TEXT = N_("Scusa, in questo momento non trovo i Welcome Point. Riprova tra poco.")


def shared_location(tracker: Tracker) -> tuple[float, float] | None:
    """(lat, lon) of a location shared with the latest message, if valid."""
    location = latest_metadata(tracker).get("location")
    if not isinstance(location, dict):
        return None
    try:
        lat = float(location.get("lat", location.get("latitude")))
        lon = float(location.get("lon", location.get("longitude")))
    except (TypeError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def named_area(tracker: Tracker) -> Area | None:
    """The neighbourhood named in this message, else the one remembered in the slot."""
    for value in [*entity_values(tracker, "neighbourhood"), slot_value(tracker, "neighbourhood")]:
        if isinstance(value, str) and (area := resolve_area(value)) is not None:
            return area
    return None


def describe_place(
    place: WelcomePlace, distance_km: float | None, index: int, language: str | None = "it"
) -> str:
    lang = language
    kind = "Welcome Hub" if place.kind == PlaceKind.hub else "Welcome Point"
    lines = [f"{index}. {place.name} ({kind})"]
    where = place.address or QUARTIERI.get(place.quartiere, "")
    if distance_km is not None:
        km = f"{distance_km:.1f}"
        km = km.replace(".", ",") if lang in (None, "it") else km
        where += tr(lang, N_(", a circa {km} km"), km=km)
    lines.append(f"   {where}")
    status = open_status(place.opening_hours, now(), lang)
    if status:
        lines.append(f"   {status}")
    if place.opening_hours:
        hours = hours_description(place.opening_hours, lang)
        lines.append("   " + tr(lang, N_("Orari: {hours}"), hours=hours))
    if "care_manager" in (place.staff_roles or []):
        lines.append("   " + tr(lang, N_("Qui trovi un Care Manager.")))
    if place.phone:
        lines.append("   " + tr(lang, N_("Telefono: {phone}"), phone=place.phone))
    lines.append("   " + tr(lang, N_("Mappa: {link}"), link=map_link(place.lat, place.lon)))
    return "\n".join(lines)


class ActionFindWelcomePoint(Action):
    def name(self) -> str:
        return "action_find_welcome_point"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        point = shared_location(tracker)
        lang = language_of(tracker)
        handoff = button(lang, HANDOFF_BUTTON)
        area = None if point else named_area(tracker)
        if point is None and area is None:
            zones = [
                {"title": name, "payload": f'/find_welcome_point{{"neighbourhood":"{code}"}}'}
                for code, name in QUARTIERI.items()
            ]
            dispatcher.utter_message(text=tr(lang, ASK_WHERE_TEXT), buttons=zones)
            dispatcher.utter_message(json_message=LOCATION_REQUEST)
            return []

        lat, lon = point if point else (area.lat, area.lon)  # type: ignore[union-attr]
        try:
            with db_session() as session:
                nearby = nearest_places(session, lat=lat, lon=lon, limit=LIMIT)
                text_blocks = [
                    describe_place(n.place, n.distance_km, i, lang)
                    for i, n in enumerate(nearby, start=1)
                ]
                booking_buttons = appointment_buttons([n.place for n in nearby], session, lang)
        except Exception:
            logger.exception("action_find_welcome_point: database error")
            dispatcher.utter_message(text=tr(lang, NONE_TEXT), buttons=[handoff])
            return []

        if not text_blocks:
            dispatcher.utter_message(text=tr(lang, NONE_TEXT), buttons=[handoff])
            return []
        if point:
            intro = tr(lang, N_("Ecco i Welcome Point più vicini a te:"))
            if not in_florence(lat, lon):
                outside = N_(
                    "Sei fuori Firenze: ecco i Welcome Point più vicini alla tua posizione:"
                )
                intro = tr(lang, outside)
        else:
            near = area.name  # type: ignore[union-attr]
            intro = tr(lang, N_("Ecco i Welcome Point più vicini a {place}:"), place=near)
        footer = tr(lang, N_("Al Welcome Point un Care Manager ti aiuta di persona."))
        dispatcher.utter_message(
            text="\n".join([intro, *text_blocks, footer]),
            buttons=[*booking_buttons, handoff],
        )
        return []
