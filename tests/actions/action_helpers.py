"""Helpers for the action tests: the seed data, trackers built from plain dicts (as
rasa-sdk's own tests do), the real domain.yml, and a runner collecting messages and events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlmodel import Session

from catalog.models import (
    AdhesionStatus,
    CostMode,
    PlaceKind,
    Provider,
    ProviderKind,
    Service,
    WelcomePlace,
)
from catalog.repository import bump_revision, save_service
from core.settings import PROJECT_ROOT
from welfare.ledger.accounts import create_citizen, open_account, upsert_source
from welfare.ledger.linking import issue_link_code, redeem_link_code
from welfare.ledger.models import SourceKind
from welfare.ledger.payments import credit

# Wednesday 25 November 2026, 11:00 in Florence.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
SENDER = "a1" * 16  # Anna's conversation (linked)
OTHER_SENDER = "b2" * 16  # Bruno's conversation (linked)
STRANGER = "c3" * 16  # not linked

DOMAIN: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
SLOT_NAMES = [*DOMAIN["slots"], "requested_slot"]


@dataclass
class Seeded:
    anna_id: int
    bruno_id: int
    fresh_code: str  # an unused linking code of a third citizen, Carla


def _provider(session: Session, code: str, status: AdhesionStatus) -> Provider:
    provider = Provider(
        code=code,
        name=f"Cooperativa {code.title()}",
        kind=ProviderKind.cooperative,
        adhesion_status=status,
        phone="055 000000",
        email=f"{code}@example.org",
    )
    session.add(provider)
    session.flush()
    return provider


def _service(session: Session, provider: Provider, **fields: Any) -> Service:
    defaults: dict[str, Any] = {
        "description": "",
        "target_groups": ["children"],
        "address": "",
        "opening_hours": "",
        "cost_mode": CostMode.free,
        "how_to_access": "",
        "contacts": "",
    }
    assert provider.id is not None
    service = Service(provider_id=provider.id, **{**defaults, **fields})
    return save_service(session, service=service)


def seed_catalog(session: Session) -> None:
    coop = _provider(session, "ponte", AdhesionStatus.approved)
    hidden = _provider(session, "nascosta", AdhesionStatus.pending)
    _service(
        session,
        coop,
        code="DOP-RIF",
        title="Doposcuola Il Ponte",
        description="Aiuto compiti e giochi per bambini delle elementari e delle medie.",
        category="after_school",
        target_groups=["children", "teenagers"],
        age_min=6,
        age_max=13,
        quartiere="Q5",
        address="Via di Rifredi 10",
        lat=43.7985,
        lon=11.2330,
        opening_hours="lun-ven 14:30-18:30",
        cost_mode=CostMode.co_payment,
        price_cents=3000,
        price_unit="al mese",
        budget_payable=True,
        how_to_access="Iscrizione al Welcome Point di Rifredi con l'ISEE.",
        contacts="055 123456, ponte@example.org",
        keywords=["doposcuola", "compiti"],
    )
    for n in range(1, 7):
        _service(
            session,
            coop,
            code=f"DOP-Q5-{n}",
            title=f"Doposcuola di quartiere {n}",
            description="Doposcuola con aiuto compiti.",
            category="after_school",
            age_min=6,
            age_max=14,
            quartiere="Q5",
            address=f"Via Novoli {n}",
            lat=43.795 + n / 1000,
            lon=11.225,
            keywords=["doposcuola"],
        )
    _service(
        session,
        coop,
        code="CE-GAV",
        title="Centro estivo Gavinana",
        description="Giochi, sport e gite in estate.",
        category="summer_camp",
        age_min=6,
        age_max=12,
        quartiere="Q3",
        address="Viale Europa 5",
        lat=43.7530,
        lon=11.2780,
        cost_mode=CostMode.paid,
        price_cents=9000,
        price_unit="a settimana",
        budget_payable=True,
        keywords=["centro estivo"],
    )
    _service(
        session,
        coop,
        code="ITA-Q1",
        title="Corso di italiano per stranieri",
        description="Lezioni di italiano per adulti.",
        category="italian_course",
        target_groups=["migrants"],
        quartiere="Q1",
        address="Via dei Pepi 1",
        lat=43.7700,
        lon=11.2620,
        keywords=["italiano", "corso"],
    )
    _service(
        session,
        hidden,
        code="HIDDEN-1",
        title="Doposcuola non approvato",
        category="after_school",
        quartiere="Q5",
        lat=43.7970,
        lon=11.2300,
        keywords=["doposcuola"],
    )
    session.add_all(
        [
            WelcomePlace(
                code="WP-RIF",
                kind=PlaceKind.point,
                name="Welcome Point Rifredi",
                quartiere="Q5",
                address="Via Carlo Bini 2",
                lat=43.7975,
                lon=11.2310,
                opening_hours="lun-ven 09:00-13:00",
                staff_roles=["care_manager"],
                phone="055 111111",
            ),
            WelcomePlace(
                code="HUB-CEN",
                kind=PlaceKind.hub,
                name="Welcome Hub Centro",
                quartiere="Q1",
                address="Piazza Santa Croce 1",
                lat=43.7686,
                lon=11.2622,
                opening_hours="lun-sab 09:00-19:00",
                staff_roles=["care_manager", "tutor"],
            ),
            WelcomePlace(
                code="WP-ISO",
                kind=PlaceKind.point,
                name="Welcome Point Isolotto",
                quartiere="Q4",
                address="Via dell'Argingrosso 3",
                lat=43.7650,
                lon=11.2150,
                opening_hours="mar gio 15:00-18:00",
                staff_roles=["care_manager"],
            ),
        ]
    )
    bump_revision(session)


def seed_citizens(session: Session) -> Seeded:
    comune = upsert_source(
        session,
        code="comune-2026",
        kind=SourceKind.public,
        name="Budget pubblico del Comune",
        allowed_categories=("childcare", "after_school", "summer_camp"),
    )
    acme = upsert_source(
        session,
        code="acme",
        kind=SourceKind.employer,
        name="Piano welfare Acme",
        employer_name="Acme S.p.A.",
    )
    ids = []
    for first, family, public_cents, employer_cents in (
        ("Anna", "Prova", 32_050, 50_000),
        ("Bruno", "Altro", 99_900, 0),
        ("Carla", "Nuova", 1_000, 0),
    ):
        citizen = create_citizen(session, first_name=first, family_name=family, now=NOW)
        assert citizen.id and comune.id and acme.id
        ids.append(citizen.id)
        pub = open_account(
            session,
            citizen_id=citizen.id,
            source_id=comune.id,
            expires_at=NOW + timedelta(days=20),
        )
        assert pub.id
        credit(
            session,
            account_id=pub.id,
            amount_cents=public_cents,
            idempotency_key=f"seed:{citizen.id}:pub",
            caused_by="test",
            now=NOW - timedelta(days=3),
        )
        if employer_cents:
            emp = open_account(
                session,
                citizen_id=citizen.id,
                source_id=acme.id,
                expires_at=datetime(2027, 6, 30, 21, 59, tzinfo=UTC),
            )
            assert emp.id
            credit(
                session,
                account_id=emp.id,
                amount_cents=employer_cents,
                idempotency_key=f"seed:{citizen.id}:emp",
                caused_by="test",
                now=NOW - timedelta(days=2),
            )
    anna, bruno, carla = ids
    for citizen_id, conversation in ((anna, SENDER), (bruno, OTHER_SENDER)):
        code = issue_link_code(session, citizen_id=citizen_id, issued_by="test", now=NOW)
        redeem_link_code(session, conversation_id=conversation, code=code, now=NOW)
    fresh = issue_link_code(session, citizen_id=carla, issued_by="test", now=NOW)
    return Seeded(anna_id=anna, bruno_id=bruno, fresh_code=fresh)


# --- trackers ---------------------------------------------------------------------------


def make_tracker(
    *,
    intent: str | None = None,
    text: str = "",
    entities: Iterable[dict[str, Any]] = (),
    slots: dict[str, Any] | None = None,
    events: Iterable[dict[str, Any]] = (),
    metadata: dict[str, Any] | None = None,
    active_loop: str | None = None,
    ranking: list[dict[str, Any]] | None = None,
    sender: str = SENDER,
    after_user: Iterable[dict[str, Any]] = (),
) -> Tracker:
    """A tracker whose latest message is ``text`` / ``intent``.

    ``events`` come before the user message, ``after_user`` after it (as when Rasa
    calls a form's validation action with the slot candidates at the end).
    """
    entity_list = [{"entity": e["entity"], "value": e["value"], **e} for e in entities]
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.95} if intent else {},
        "entities": entity_list,
        "intent_ranking": ranking or ([{"name": intent, "confidence": 0.95}] if intent else []),
    }
    all_events = [
        *events,
        {"event": "user", "text": text, "parse_data": latest, "metadata": metadata or {}},
        *after_user,
    ]
    return Tracker.from_dict(
        {
            "sender_id": sender,
            "slots": {**dict.fromkeys(SLOT_NAMES), **(slots or {})},
            "latest_message": latest,
            "events": all_events,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": "action_listen",
        }
    )


def run_action(
    action: Action, tracker: Tracker
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run an action as the action server would; returns (messages, events)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return dispatcher.messages, list(events)


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def button_payloads(messages: list[dict[str, Any]]) -> list[str]:
    return [b["payload"] for m in messages for b in m.get("buttons") or []]


def customs(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["custom"] for m in messages if m.get("custom")]


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


# --- «Sei sicuro?» questions (actions/confirmation.py) ----------------------------------------


def payload_parts(payload: str) -> tuple[str, list[dict[str, Any]]]:
    """``/intent{"entity": "value"}`` -> (intent, entities), as Rasa reads a button."""
    import json

    intent, _, data = payload[1:].partition("{")
    values = json.loads("{" + data) if data else {}
    return intent, [{"entity": k, "value": v} for k, v in values.items()]


def yes_payload(messages: list[dict[str, Any]]) -> str:
    """The «Sì» button of a confirmation question (the one carrying ``confirm_nonce``)."""
    return next(p for p in button_payloads(messages) if "confirm_nonce" in p)


def confirm_with_button(
    action: Action,
    asked: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    sender: str = SENDER,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Tap the «Sì» of the question ``asked`` (the messages and events of the asking run)."""
    messages, events = asked
    intent, entities = payload_parts(yes_payload(messages))
    pending = slot_events(events)["pending_confirmation"]
    tracker = make_tracker(
        intent=intent,
        text=yes_payload(messages),
        entities=entities,
        slots={"pending_confirmation": pending},
        sender=sender,
    )
    return run_action(action, tracker)
