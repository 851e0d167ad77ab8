"""Tables of the service catalogue: providers, services, Welcome Hubs/Points, unmet needs.

Naming follows the full-stack-fastapi-template: ``XBase`` holds the fields shared by the
table model ``X`` and the read model ``XPublic``. Enumerations are stored as plain strings
(no database enum types), money as integer cents, timestamps as aware UTC datetimes.

No ``from __future__ import annotations`` here: SQLModel reads relationship annotations
at class creation.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, Relationship, SQLModel

from core.timeutil import UTCDateTime, utcnow


class ProviderKind(StrEnum):
    public_body = "public_body"
    cooperative = "cooperative"
    third_sector = "third_sector"
    business = "business"


class AdhesionStatus(StrEnum):
    """Decided by the providers' adhesion committee; only ``approved`` is published."""

    approved = "approved"
    pending = "pending"
    suspended = "suspended"


class CostMode(StrEnum):
    free = "free"
    co_payment = "co_payment"
    paid = "paid"


class PlaceKind(StrEnum):
    hub = "hub"  # Welcome Hub: full staff, larger premises
    point = "point"  # Welcome Point: a desk in a library, a parish, a community centre


# --- providers ---------------------------------------------------------------------------


class ProviderBase(SQLModel):
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)
    kind: ProviderKind = Field(sa_type=String(20))
    adhesion_status: AdhesionStatus = Field(sa_type=String(20), index=True)
    adhesion_date: date | None = None
    description: str = Field(default="", sa_type=Text)
    email: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=50)
    website: str = Field(default="", max_length=300)


class Provider(ProviderBase, table=True):
    __tablename__ = "provider"

    id: int | None = Field(default=None, primary_key=True)
    # "console" once the adhesion commission decided in the console: the YAML import then
    # keeps that decision and says so (catalog.importer)
    adhesion_source: str = Field(default="yaml", max_length=10)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    services: list["Service"] = Relationship(back_populates="provider")


class ProviderPublic(ProviderBase):
    id: int


# --- services ----------------------------------------------------------------------------


class ServiceBase(SQLModel):
    code: str = Field(max_length=64, unique=True, index=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=Text)
    category: str = Field(max_length=40, index=True, description="catalog.vocabulary slug")
    target_groups: list[str] = Field(default_factory=list, sa_type=JSON)
    age_min: int | None = None
    age_max: int | None = None
    quartiere: str = Field(max_length=2, description="Q1..Q5")
    address: str = Field(default="", max_length=300)
    lat: float
    lon: float
    opening_hours: str = Field(default="", max_length=300)
    cost_mode: CostMode = Field(sa_type=String(20), index=True)
    price_cents: int = 0
    price_unit: str = Field(default="", max_length=40, description="e.g. 'al mese', 'a ora'")
    budget_payable: bool = Field(default=False, description="the welfare budget can pay it")
    how_to_access: str = Field(default="", sa_type=Text)
    contacts: str = Field(default="", sa_type=Text)
    keywords: list[str] = Field(default_factory=list, sa_type=JSON)


class Service(ServiceBase, table=True):
    __tablename__ = "service"
    __table_args__ = (
        Index("ix_service_quartiere_category", "quartiere", "category"),
        Index("ix_service_lat_lon", "lat", "lon"),
    )

    id: int | None = Field(default=None, primary_key=True)
    provider_id: int = Field(foreign_key="provider.id", index=True)
    # Indexed by FTS5 / tsvector: normalised terms (catalog.text) and filter tags (catalog.tags).
    search_title: str = Field(default="", sa_type=Text)
    search_body: str = Field(default="", sa_type=Text)
    search_tags: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    provider: Provider = Relationship(back_populates="services")


class ServicePublic(ServiceBase):
    id: int
    provider_id: int


class ServiceTargetGroup(SQLModel, table=True):
    """One row per (service, target group): lets SQL filter on target groups with an index."""

    __tablename__ = "service_target_group"
    __table_args__ = (Index("ix_service_target_group_target_group", "target_group", "service_id"),)

    service_id: int = Field(
        sa_column=Column(Integer, ForeignKey("service.id", ondelete="CASCADE"), primary_key=True)
    )
    target_group: str = Field(max_length=40, primary_key=True)


# --- Welcome Hubs and Points ---------------------------------------------------------------


class WelcomePlaceBase(SQLModel):
    code: str = Field(max_length=64, unique=True, index=True)
    kind: PlaceKind = Field(sa_type=String(10), index=True)
    name: str = Field(max_length=200)
    quartiere: str = Field(max_length=2, index=True)
    address: str = Field(default="", max_length=300)
    lat: float
    lon: float
    opening_hours: str = Field(default="", max_length=300)
    staff_roles: list[str] = Field(default_factory=list, sa_type=JSON)
    phone: str = Field(default="", max_length=50)
    email: str = Field(default="", max_length=200)
    description: str = Field(default="", sa_type=Text)


class WelcomePlace(WelcomePlaceBase, table=True):
    __tablename__ = "welcome_place"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WelcomePlacePublic(WelcomePlaceBase):
    id: int


# --- analysts' records ---------------------------------------------------------------------


class UnmetNeed(SQLModel, table=True):
    """A request the catalogue could not answer, for the analysts.

    Holds the request text (with e-mail addresses and phone numbers masked) and the
    filters understood from it; never a name, a chat id or a phone number of the citizen.
    """

    __tablename__ = "unmet_need"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(max_length=64, index=True)
    text: str = Field(default="", sa_type=Text)
    category: str | None = Field(default=None, max_length=40, index=True)
    quartiere: str | None = Field(default=None, max_length=2, index=True)
    filters: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class CatalogState(SQLModel, table=True):
    """One row: a random token renewed whenever the catalogue changes (search caches key on it)."""

    __tablename__ = "catalog_state"

    id: int = Field(default=1, primary_key=True)
    revision: str = Field(max_length=32)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
