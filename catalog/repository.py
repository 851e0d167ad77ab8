"""Reading and writing the catalogue: the functions the actions and the importer call.

Every write that changes services goes through :func:`save_service` (or
:func:`insert_services_bulk`), which keeps the normalised search columns and the
target-group rows in step, and is followed by :func:`bump_revision` so that search
caches (vocabulary, document frequencies) are refreshed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, text
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from catalog.areas import haversine_km
from catalog.models import (
    AdhesionStatus,
    CatalogState,
    PlaceKind,
    Provider,
    Service,
    ServiceTargetGroup,
    WelcomePlace,
)
from catalog.tags import service_tags
from catalog.text import terms_many
from catalog.vocabulary import CATEGORY_LABELS, TARGET_LABELS
from core.timeutil import utcnow

_REVISION = text("SELECT revision FROM catalog_state WHERE id = 1")

# --- catalogue revision ------------------------------------------------------------------


def bump_revision(session: Session) -> str:
    """Mark the catalogue as changed; returns the new revision token."""
    token = uuid.uuid4().hex
    state = session.get(CatalogState, 1)
    if state is None:
        session.add(CatalogState(id=1, revision=token))
    else:
        state.revision = token
        state.updated_at = utcnow()
        session.add(state)
    session.flush()
    return token


def current_revision(session: Session) -> str:
    """The revision token, or "" for a catalogue never written through this module."""
    # Plain SQL: this runs before every search, and the ORM select costs three times more.
    token = session.execute(_REVISION).scalar()
    return token or ""


# --- search columns ----------------------------------------------------------------------


def search_sources(data: Mapping[str, Any]) -> tuple[str, str]:
    """The raw texts behind ``search_title`` and ``search_body`` of a service."""
    title = " . ".join(
        [
            str(data.get("title") or ""),
            " . ".join(str(k) for k in data.get("keywords") or []),
            CATEGORY_LABELS.get(str(data.get("category")), ""),
        ]
    )
    body = " . ".join(
        [
            str(data.get("description") or ""),
            " . ".join(TARGET_LABELS.get(str(t), "") for t in data.get("target_groups") or []),
        ]
    )
    return title, body


def search_columns(
    rows: Sequence[Mapping[str, Any]], *, published: Sequence[bool]
) -> list[tuple[str, str, str]]:
    """``(search_title, search_body, search_tags)`` for each service row, in one batch.

    ``published[i]`` says whether the provider of ``rows[i]`` is approved.
    """
    sources = [search_sources(r) for r in rows]
    flat = [text for pair in sources for text in pair]
    normalised = [" ".join(ts) for ts in terms_many(flat)]
    return [
        (normalised[2 * i], normalised[2 * i + 1], service_tags(row, published=pub))
        for i, (row, pub) in enumerate(zip(rows, published, strict=True))
    ]


def _approved_ids(session_or_connection: Session | Connection) -> set[int]:
    query = select(Provider.id).where(Provider.adhesion_status == AdhesionStatus.approved)
    if isinstance(session_or_connection, Session):
        return {i for i in session_or_connection.exec(query).all() if i is not None}
    return set(session_or_connection.execute(query).scalars())


# --- services ----------------------------------------------------------------------------


def get_service(session: Session, *, code: str) -> Service | None:
    return session.exec(select(Service).where(Service.code == code)).first()


def get_provider(session: Session, *, code: str) -> Provider | None:
    return session.exec(select(Provider).where(Provider.code == code)).first()


def _set_target_groups(session: Session, service: Service) -> None:
    assert service.id is not None
    session.execute(
        delete(ServiceTargetGroup).where(col(ServiceTargetGroup.service_id) == service.id)
    )
    for group in dict.fromkeys(service.target_groups):
        session.add(ServiceTargetGroup(service_id=service.id, target_group=group))


def store_service(session: Session, *, service: Service) -> Service:
    """Write ``service`` as it is (search columns already set) and sync its target groups.

    Callers bump the revision once they are done (see :func:`save_service`).
    """
    service.updated_at = utcnow()
    session.add(service)
    session.flush()
    _set_target_groups(session, service)
    session.flush()
    return service


def save_service(session: Session, *, service: Service) -> Service:
    """Insert or update one service: search columns, target groups, catalogue revision."""
    provider = session.get(Provider, service.provider_id)
    published = provider is not None and provider.adhesion_status == AdhesionStatus.approved
    ((service.search_title, service.search_body, service.search_tags),) = search_columns(
        [service.model_dump(warnings=False)], published=[published]
    )
    store_service(session, service=service)
    bump_revision(session)
    return service


def refresh_service_tags(session: Session, *, provider_id: int) -> int:
    """Recompute the filter tags of a provider's services (after its adhesion changed).

    Returns how many services changed.
    """
    provider = session.get(Provider, provider_id)
    published = provider is not None and provider.adhesion_status == AdhesionStatus.approved
    changed = 0
    for service in session.exec(select(Service).where(Service.provider_id == provider_id)).all():
        tags = service_tags(service.model_dump(warnings=False), published=published)
        if tags != service.search_tags:
            service.search_tags = tags
            session.add(service)
            changed += 1
    session.flush()
    return changed


def set_provider_status(session: Session, *, code: str, status: AdhesionStatus | str) -> Provider:
    """Change a provider's adhesion status and (un)publish its services accordingly."""
    provider = get_provider(session, code=code)
    if provider is None:
        raise LookupError(f"no provider {code!r}")
    provider.adhesion_status = AdhesionStatus(status)
    provider.updated_at = utcnow()
    session.add(provider)
    session.flush()
    assert provider.id is not None
    refresh_service_tags(session, provider_id=provider.id)
    bump_revision(session)
    return provider


def insert_services_bulk(
    connection: Connection, *, rows: Sequence[dict[str, Any]], first_id: int
) -> None:
    """Fast insert of many new services (benchmarks, bulk loads): Core, no ORM objects.

    ``rows`` carry every Service column except ``id``, ``search_*`` and timestamps;
    ids are assigned from ``first_id``; providers must exist already. Call
    :func:`bump_revision` afterwards.
    """
    now = utcnow()
    approved = _approved_ids(connection)
    columns = search_columns(rows, published=[r["provider_id"] in approved for r in rows])
    values = []
    targets = []
    for offset, (row, (title, body, tags)) in enumerate(zip(rows, columns, strict=True)):
        service_id = first_id + offset
        values.append(
            {**row, "id": service_id, "search_title": title, "search_body": body,
             "search_tags": tags, "created_at": now, "updated_at": now}
        )  # fmt: skip
        targets.extend(
            {"service_id": service_id, "target_group": g}
            for g in dict.fromkeys(row.get("target_groups") or [])
        )
    connection.execute(insert(Service), values)
    if targets:
        connection.execute(insert(ServiceTargetGroup), targets)


def _service_query(*, category: str | None, quartiere: str | None, approved_only: bool) -> Any:
    query = select(Service)
    if approved_only:
        query = query.join(Provider).where(Provider.adhesion_status == AdhesionStatus.approved)
    if category:
        query = query.where(Service.category == category)
    if quartiere:
        query = query.where(Service.quartiere == quartiere)
    return query


def list_services(
    session: Session,
    *,
    category: str | None = None,
    quartiere: str | None = None,
    approved_only: bool = True,
    limit: int = 50,
    offset: int = 0,
) -> list[Service]:
    query = _service_query(category=category, quartiere=quartiere, approved_only=approved_only)
    return list(session.exec(query.order_by(Service.code).offset(offset).limit(limit)).all())


def count_services(
    session: Session,
    *,
    category: str | None = None,
    quartiere: str | None = None,
    approved_only: bool = True,
) -> int:
    query = _service_query(category=category, quartiere=quartiere, approved_only=approved_only)
    return session.exec(select(func.count()).select_from(query.subquery())).one()


def count_by_category(session: Session, *, approved_only: bool = True) -> dict[str, int]:
    """Published services per category slug (for the console and the analysts)."""
    query = select(Service.category, func.count()).group_by(Service.category)
    if approved_only:
        query = query.join(Provider).where(Provider.adhesion_status == AdhesionStatus.approved)
    return {category: count for category, count in session.exec(query).all()}


def list_providers(session: Session, *, status: str | None = None) -> list[Provider]:
    query = select(Provider).order_by(Provider.code)
    if status:
        query = query.where(Provider.adhesion_status == status)
    return list(session.exec(query).all())


# --- Welcome Hubs and Points ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NearbyPlace:
    place: WelcomePlace
    distance_km: float


def get_place(session: Session, *, code: str) -> WelcomePlace | None:
    return session.exec(select(WelcomePlace).where(WelcomePlace.code == code)).first()


def list_places(session: Session, *, kind: PlaceKind | str | None = None) -> list[WelcomePlace]:
    query = select(WelcomePlace).order_by(WelcomePlace.code)
    if kind:
        query = query.where(WelcomePlace.kind == kind)
    return list(session.exec(query).all())


def nearest_places(
    session: Session,
    *,
    lat: float,
    lon: float,
    kind: PlaceKind | str | None = None,
    limit: int = 3,
) -> list[NearbyPlace]:
    """The Welcome Hubs/Points closest to a point (great-circle distance), nearest first."""
    ranked = sorted(
        (
            NearbyPlace(p, haversine_km(lat, lon, p.lat, p.lon))
            for p in list_places(session, kind=kind)
        ),
        key=lambda n: (n.distance_km, n.place.code),
    )
    return ranked[:limit]


def places_in_quartiere(
    session: Session, *, quartiere: str, kind: PlaceKind | str | None = None
) -> list[WelcomePlace]:
    """Welcome places of a quartiere, hubs first, then by name."""
    query = select(WelcomePlace).where(WelcomePlace.quartiere == quartiere.upper())
    if kind:
        query = query.where(WelcomePlace.kind == kind)
    places = session.exec(query).all()
    return sorted(places, key=lambda p: (p.kind != PlaceKind.hub, p.name, p.code))


def services_by_codes(session: Session, *, codes: Iterable[str]) -> dict[str, Service]:
    wanted = list(codes)
    if not wanted:
        return {}
    rows = session.exec(select(Service).where(col(Service.code).in_(wanted))).all()
    return {s.code: s for s in rows}
