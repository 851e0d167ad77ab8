"""catalog.repository: look-ups, Welcome places near a point, counts, writes."""

from __future__ import annotations

import pytest
from catalog_test_helpers import load_catalog
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from catalog.models import Service, ServiceTargetGroup
from catalog.repository import (
    bump_revision,
    count_by_category,
    count_services,
    current_revision,
    get_place,
    get_provider,
    get_service,
    list_places,
    list_providers,
    list_services,
    nearest_places,
    places_in_quartiere,
    save_service,
    set_provider_status,
)

RIFREDI = (43.7955, 11.2445)


def test_get_by_code(session: Session) -> None:
    service = get_service(session, code="nido-legnaia")
    assert service is not None and service.category == "childcare"
    assert get_service(session, code="nope") is None
    place = get_place(session, code="hub-rifredi")
    assert place is not None and place.kind == "hub" and "care_manager" in place.staff_roles
    assert get_provider(session, code="comune").kind == "public_body"  # type: ignore[union-attr]


def test_nearest_places(session: Session) -> None:
    nearby = nearest_places(session, lat=RIFREDI[0], lon=RIFREDI[1])
    assert [n.place.code for n in nearby] == ["hub-rifredi", "point-centro", "point-isolotto"]
    assert [round(n.distance_km, 1) for n in nearby] == [0.6, 3.1, 3.4]
    points = nearest_places(session, lat=RIFREDI[0], lon=RIFREDI[1], kind="point", limit=1)
    assert [n.place.code for n in points] == ["point-centro"]


def test_places_in_quartiere(session: Session) -> None:
    assert [p.code for p in places_in_quartiere(session, quartiere="q5")] == ["hub-rifredi"]
    assert places_in_quartiere(session, quartiere="Q2") == []
    assert len(list_places(session)) == 4


def test_lists_and_counts_show_only_published_services(session: Session) -> None:
    assert count_services(session) == 15
    assert count_services(session, approved_only=False) == 17
    assert count_services(session, category="after_school") == 3
    assert count_services(session, quartiere="Q5", category="home_care") == 1
    page = list_services(session, quartiere="Q5", limit=2)
    assert [s.code for s in page] == ["assistenza-domiciliare-novoli", "babysitter-rifredi"]
    assert count_by_category(session)["after_school"] == 3
    assert [p.code for p in list_providers(session, status="pending")] == ["ditta-attesa"]


def test_save_service_indexes_it_and_bumps_the_revision(engine: Engine) -> None:
    load_catalog(engine)
    with Session(engine) as s:
        before = current_revision(s)
        service = get_service(s, code="nido-legnaia")
        assert service is not None
        service.title = "Nido d'infanzia Legnaia con ludoteca"
        service.target_groups = ["infants"]
        save_service(s, service=service)
        s.commit()
        assert "ludotec" in service.search_title
        groups = s.exec(
            select(ServiceTargetGroup.target_group).where(
                ServiceTargetGroup.service_id == service.id
            )
        ).all()
        assert groups == ["infants"]
        assert current_revision(s) not in ("", before)


def test_revision_changes_on_each_bump(engine: Engine) -> None:
    with Session(engine) as s:
        assert current_revision(s) == ""
        first = bump_revision(s)
        second = bump_revision(s)
        assert first != second and current_revision(s) == second


@pytest.mark.parametrize("code", ["doposcuola-in-attesa", "badanti-sospese"])
def test_unpublished_services_can_still_be_read_by_code(session: Session, code: str) -> None:
    # e.g. for the console; the search never returns them.
    assert isinstance(get_service(session, code=code), Service)


def test_suspending_a_provider_hides_its_services(engine: Engine) -> None:
    from catalog.search import search_services

    load_catalog(engine)
    with Session(engine) as s:
        assert "doposcuola-rifredi" in [
            h.service.code for h in search_services(s, "doposcuola").hits
        ]
        set_provider_status(s, code="coop-girasole", status="suspended")
        s.commit()
        found = [h.service.code for h in search_services(s, "doposcuola", limit=20).hits]
        assert found == []  # all three after-school services are the cooperative's
        assert count_services(s, category="after_school") == 0
        set_provider_status(s, code="coop-girasole", status="approved")
        s.commit()
        assert "doposcuola-rifredi" in [
            h.service.code for h in search_services(s, "doposcuola").hits
        ]
    with pytest.raises(LookupError), Session(engine) as s:
        set_provider_status(s, code="nobody", status="approved")
