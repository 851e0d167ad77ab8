"""Import the catalogue from YAML (data/catalog/): validate everything, then upsert by code.

``import_catalog(session, directory)`` reads providers.yaml, welcome_places.yaml and
services.yaml. Every row is validated with pydantic; problems are reported as
``file:line: reason`` (lines from the YAML node marks). If any file has an error, nothing
is imported. Otherwise rows are inserted or updated by ``code`` in one transaction: a
re-run changes nothing, an edited row is updated, and the report counts created /
updated / unchanged rows per file. Rows missing from a file are left in the database
(counted as ``not_in_file``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Final, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlmodel import Session, select

from catalog.areas import AREAS, QUARTIERI, haversine_km, in_florence, nearest_area
from catalog.hours import OpeningHours
from catalog.models import (
    AdhesionStatus,
    CostMode,
    PlaceKind,
    Provider,
    ProviderKind,
    Service,
    WelcomePlace,
)
from catalog.repository import (
    bump_revision,
    refresh_service_tags,
    search_columns,
    store_service,
)
from catalog.vocabulary import CATEGORIES, STAFF_ROLES, TARGET_GROUPS
from core.timeutil import utcnow

PROVIDERS_FILE: Final[str] = "providers.yaml"
PLACES_FILE: Final[str] = "welcome_places.yaml"
SERVICES_FILE: Final[str] = "services.yaml"
FILES: Final[tuple[str, ...]] = (PROVIDERS_FILE, PLACES_FILE, SERVICES_FILE)

CODE_PATTERN: Final[str] = r"^[a-z0-9][a-z0-9._-]*$"
# A quartiere is suspicious when the nearest neighbourhood of another quartiere is this much
# closer than the nearest one of the quartiere declared.
QUARTIERE_SLACK_KM: Final[float] = 0.7


# --- row schemas -------------------------------------------------------------------------


def _none_to_empty(value: Any) -> Any:
    return "" if value is None else value


# Optional free text: null in the YAML is stored as "".
Text = Annotated[str, BeforeValidator(_none_to_empty)]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True)

    code: str = Field(min_length=1, max_length=64, pattern=CODE_PATTERN)


class _Located(_Row):
    quartiere: Literal["Q1", "Q2", "Q3", "Q4", "Q5"]
    address: Text = Field(default="", max_length=300)
    lat: float
    lon: float
    opening_hours: Text = Field(default="", max_length=300)

    @field_validator("opening_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        OpeningHours.parse(value)
        return value

    @model_validator(mode="after")
    def _in_florence(self) -> _Located:
        if not in_florence(self.lat, self.lon):
            raise ValueError(f"coordinates {self.lat}, {self.lon} are outside Florence")
        return self


class ProviderRow(_Row):
    name: str = Field(min_length=1, max_length=200)
    kind: ProviderKind
    adhesion_status: AdhesionStatus
    adhesion_date: date | None = None
    description: Text = ""
    email: Text = Field(default="", max_length=200)
    phone: Text = Field(default="", max_length=50)
    website: Text = Field(default="", max_length=300)


class PlaceRow(_Located):
    kind: PlaceKind
    name: str = Field(min_length=1, max_length=200)
    staff_roles: list[str] = Field(default_factory=list)
    phone: Text = Field(default="", max_length=50)
    email: Text = Field(default="", max_length=200)
    description: Text = ""

    @field_validator("staff_roles")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        unknown = [r for r in value if r not in STAFF_ROLES]
        if unknown:
            raise ValueError(f"unknown staff role(s) {unknown}; known: {sorted(STAFF_ROLES)}")
        return value


class ServiceRow(_Located):
    provider: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    description: Text = ""
    category: str
    target_groups: list[str] = Field(default_factory=list)
    age_min: int | None = Field(default=None, ge=0, le=120)
    age_max: int | None = Field(default=None, ge=0, le=120)
    cost_mode: CostMode
    price_cents: int = Field(default=0, ge=0)
    price_unit: Text = Field(default="", max_length=40)
    budget_payable: bool = False
    how_to_access: Text = ""
    contacts: Text = ""
    keywords: list[str] = Field(default_factory=list)

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"unknown category '{value}'")
        return value

    @field_validator("target_groups")
    @classmethod
    def _targets(cls, value: list[str]) -> list[str]:
        unknown = [t for t in value if t not in TARGET_GROUPS]
        if unknown:
            raise ValueError(f"unknown target group(s) {unknown}")
        return value

    @field_validator("contacts", mode="before")
    @classmethod
    def _contacts(cls, value: Any) -> Any:
        return "; ".join(str(v) for v in value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _consistent(self) -> ServiceRow:
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            raise ValueError(f"age_min {self.age_min} is greater than age_max {self.age_max}")
        if self.cost_mode == CostMode.free and self.price_cents > 0:
            raise ValueError(f"cost_mode free with price_cents {self.price_cents} > 0")
        return self


RowT = TypeVar("RowT", bound=BaseModel)
ModelT = TypeVar("ModelT", Provider, WelcomePlace, Service)


# --- reading YAML with line numbers ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Issue:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass(slots=True)
class _Item:
    line: int
    node: yaml.MappingNode
    data: Any


def _read_items(path: Path, issues: list[Issue]) -> list[_Item]:
    """The rows of a YAML file (a list, or a mapping holding one list) with their nodes."""
    name = str(path)
    loader = yaml.SafeLoader(path.read_text(encoding="utf-8"))
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        issues.append(Issue(name, line, f"YAML syntax: {exc.problem or exc}"))
        return []
    finally:
        loader.dispose()
    if root is None:
        return []
    if isinstance(root, yaml.MappingNode) and len(root.value) == 1:
        ((_key, root),) = root.value
        data = next(iter(data.values()))
    if not isinstance(root, yaml.SequenceNode):
        issues.append(Issue(name, root.start_mark.line + 1, "expected a list of rows"))
        return []
    items = []
    for node, value in zip(root.value, data, strict=True):
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.MappingNode):
            issues.append(Issue(name, line, "each row must be a mapping of field: value"))
            continue
        seen: set[str] = set()
        for key, _ in node.value:
            if key.value in seen:
                issues.append(
                    Issue(name, key.start_mark.line + 1, f"duplicate field '{key.value}'")
                )
            seen.add(key.value)
        items.append(_Item(line, node, value))
    return items


def _line_of(item: _Item, loc: Sequence[int | str]) -> int:
    """The line of the field (or list element) a validation error points to."""
    node: yaml.Node = item.node
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if key.value == part:
                    node = value
                    break
            else:
                break
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
        else:
            break
    return node.start_mark.line + 1


def _validate(path: Path, schema: type[RowT], issues: list[Issue]) -> list[tuple[int, RowT]]:
    rows: list[tuple[int, RowT]] = []
    seen: dict[str, int] = {}
    for item in _read_items(path, issues):
        try:
            row = schema.model_validate(item.data)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                loc = [p for p in err["loc"] if isinstance(p, (str, int))]
                field_name = ".".join(str(p) for p in loc)
                message = err["msg"].removeprefix("Value error, ")
                where = f"{field_name}: " if field_name else ""
                issues.append(Issue(str(path), _line_of(item, loc), f"{where}{message}"))
            continue
        code = row.code  # type: ignore[attr-defined]
        if code in seen:
            issues.append(
                Issue(str(path), item.line, f"duplicate code '{code}' (first at line {seen[code]})")
            )
            continue
        seen[code] = item.line
        rows.append((item.line, row))
    return rows


def _quartiere_warning(row: _Located) -> str | None:
    nearest = nearest_area(row.lat, row.lon)
    if nearest.quartiere == row.quartiere:
        return None
    best = haversine_km(row.lat, row.lon, nearest.lat, nearest.lon)
    declared = min(
        haversine_km(row.lat, row.lon, a.lat, a.lon) for a in AREAS if a.quartiere == row.quartiere
    )
    if declared - best <= QUARTIERE_SLACK_KM:
        return None
    return (
        f"warning: quartiere {row.quartiere} ({QUARTIERI[row.quartiere]}) but the coordinates "
        f"are near {nearest.name} ({nearest.quartiere})"
    )


# --- upsert ------------------------------------------------------------------------------


@dataclass(slots=True)
class FileCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    not_in_file: int = 0


@dataclass(slots=True)
class ImportReport:
    counts: dict[str, FileCounts] = field(default_factory=dict)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> list[str]:
        lines = [str(e) for e in self.errors] + [str(w) for w in self.warnings]
        if self.errors:
            lines.append(f"{len(self.errors)} error(s): nothing imported")
            return lines
        for name, c in self.counts.items():
            extra = (
                f", {c.not_in_file} in the database but not in the file (kept)"
                if c.not_in_file
                else ""
            )
            lines.append(
                f"{name}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged{extra}"
            )
        return lines


def _apply(obj: Any, values: dict[str, Any]) -> bool:
    """Set ``values`` on ``obj``; True if anything changed."""
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def _upsert(
    session: Session,
    model: type[ModelT],
    rows: list[dict[str, Any]],
    counts: FileCounts,
    store: Callable[[ModelT], None],
) -> dict[str, ModelT]:
    existing = {obj.code: obj for obj in session.exec(select(model)).all()}
    result: dict[str, ModelT] = {}
    for values in rows:
        obj = existing.get(values["code"])
        if obj is None:
            obj = model(**values)
            counts.created += 1
            store(obj)
        elif _apply(obj, values):
            obj.updated_at = utcnow()
            counts.updated += 1
            store(obj)
        else:
            counts.unchanged += 1
        result[obj.code] = obj
    codes = {v["code"] for v in rows}
    counts.not_in_file = sum(1 for code in existing if code not in codes)
    return result


def _keep_console_decisions(
    session: Session,
    providers: Sequence[tuple[int, ProviderRow]],
    path: Path,
    report: ImportReport,
) -> list[dict[str, Any]]:
    """The provider rows to write: a provider the adhesion commission decided on in the
    console keeps that decision (status and date), with a warning when the file differs."""
    decided = {
        p.code: p
        for p in session.exec(select(Provider).where(Provider.adhesion_source == "console"))
    }
    rows = []
    for line, row in providers:
        data = row.model_dump()
        kept = decided.get(row.code)
        if kept is not None:
            if kept.adhesion_status != row.adhesion_status:
                report.warnings.append(
                    Issue(
                        str(path),
                        line,
                        f"adhesion_status: '{row.adhesion_status}' not applied: the commission "
                        f"decided '{kept.adhesion_status}' in the console on {kept.adhesion_date}",
                    )
                )
            data["adhesion_status"] = kept.adhesion_status
            data["adhesion_date"] = kept.adhesion_date
        rows.append(data)
    return rows


def import_catalog(session: Session, directory: Path) -> ImportReport:
    """Validate the YAML files in ``directory`` and, if all are valid, upsert them.

    Flushes but does not commit: the caller's transaction (e.g. ``session_scope``) decides.
    """
    report = ImportReport()
    paths = {name: directory / name for name in FILES if (directory / name).is_file()}
    if not paths:
        report.errors.append(Issue(str(directory), 0, f"none of {', '.join(FILES)} found"))
        return report

    providers = (
        _validate(paths[PROVIDERS_FILE], ProviderRow, report.errors)
        if PROVIDERS_FILE in paths
        else []
    )
    places = _validate(paths[PLACES_FILE], PlaceRow, report.errors) if PLACES_FILE in paths else []
    services = (
        _validate(paths[SERVICES_FILE], ServiceRow, report.errors) if SERVICES_FILE in paths else []
    )

    # With errors in providers.yaml its codes are not all known: checking the references
    # would only repeat those errors, once per service.
    providers_ok = not any(e.file == str(paths.get(PROVIDERS_FILE)) for e in report.errors)
    known_providers = {row.code for _, row in providers}
    known_providers |= set(session.exec(select(Provider.code)).all())
    for line, row in services:
        if providers_ok and row.provider not in known_providers:
            report.errors.append(
                Issue(
                    str(paths[SERVICES_FILE]), line, f"provider: unknown provider '{row.provider}'"
                )
            )
    for name, located in ((PLACES_FILE, places), (SERVICES_FILE, services)):
        for line, row in located:
            warning = _quartiere_warning(row)
            if warning:
                report.warnings.append(Issue(str(paths[name]), line, warning))
    if report.errors:
        return report

    status_changed: list[Provider] = []
    if PROVIDERS_FILE in paths:
        counts = report.counts.setdefault(PROVIDERS_FILE, FileCounts())
        before = dict(session.exec(select(Provider.code, Provider.adhesion_status)).all())
        rows = _keep_console_decisions(session, providers, paths[PROVIDERS_FILE], report)
        stored = _upsert(session, Provider, rows, counts, session.add)
        session.flush()
        status_changed = [
            p for code, p in stored.items() if code in before and before[code] != p.adhesion_status
        ]
    if PLACES_FILE in paths:
        counts = report.counts.setdefault(PLACES_FILE, FileCounts())
        _upsert(session, WelcomePlace, [r.model_dump() for _, r in places], counts, session.add)
        session.flush()
    if SERVICES_FILE in paths:
        provider_rows = session.exec(select(Provider.code, Provider.id, Provider.adhesion_status))
        provider_ids, approved = {}, set()
        for code, provider_id, status in provider_rows.all():
            provider_ids[code] = provider_id
            if status == AdhesionStatus.approved:
                approved.add(provider_id)
        dumped = [r.model_dump() for _, r in services]
        for data in dumped:
            data["provider_id"] = provider_ids[data.pop("provider")]
        columns = search_columns(dumped, published=[d["provider_id"] in approved for d in dumped])
        values = [
            {**data, "search_title": title, "search_body": body, "search_tags": tags}
            for data, (title, body, tags) in zip(dumped, columns, strict=True)
        ]
        counts = report.counts.setdefault(SERVICES_FILE, FileCounts())
        _upsert(
            session, Service, values, counts, lambda s: store_service(session, service=s) and None
        )

    # Services of a provider whose adhesion changed are (un)published even when they are
    # not in this import.
    for provider in status_changed:
        assert provider.id is not None
        refresh_service_tags(session, provider_id=provider.id)
    if any(c.created or c.updated for c in report.counts.values()):
        bump_revision(session)
    session.flush()
    return report
