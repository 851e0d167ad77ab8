"""catalog.importer: validation with file:line reasons, all-or-nothing, idempotent upsert."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from catalog_test_helpers import BAD, GOOD
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from catalog.importer import ImportReport, import_catalog
from catalog.models import Provider, Service, ServiceTargetGroup, WelcomePlace
from catalog.repository import current_revision, get_service
from core.db import session_scope


def run_import(engine: Engine, directory: Path) -> ImportReport:
    with session_scope(engine) as session:
        report = import_catalog(session, directory)
        if not report.ok:
            session.rollback()
    return report


def counts(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as s:
        return (
            s.exec(select(func.count()).select_from(Provider)).one(),
            s.exec(select(func.count()).select_from(WelcomePlace)).one(),
            s.exec(select(func.count()).select_from(Service)).one(),
        )


def copy_good(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(GOOD, target)
    return target


def test_good_files_import_then_rerun_changes_nothing(engine: Engine) -> None:
    first = run_import(engine, GOOD)
    assert first.ok, first.summary()
    assert {k: (c.created, c.updated, c.unchanged) for k, c in first.counts.items()} == {
        "providers.yaml": (5, 0, 0),
        "welcome_places.yaml": (4, 0, 0),
        "services.yaml": (17, 0, 0),
    }
    assert counts(engine) == (5, 4, 17)
    with Session(engine) as s:
        revision = current_revision(s)
        service = get_service(s, code="doposcuola-rifredi")
        assert service is not None and service.provider.code == "coop-girasole"
        assert service.search_title and service.search_body
        assert service.price_unit == ""  # null in the YAML
        groups = s.exec(
            select(ServiceTargetGroup.target_group).where(
                ServiceTargetGroup.service_id == service.id
            )
        ).all()
        assert sorted(groups) == ["children", "families"]
        stamp = service.updated_at

    second = run_import(engine, GOOD)
    assert {k: (c.created, c.updated, c.unchanged) for k, c in second.counts.items()} == {
        "providers.yaml": (0, 0, 5),
        "welcome_places.yaml": (0, 0, 4),
        "services.yaml": (0, 0, 17),
    }
    with Session(engine) as s:
        assert current_revision(s) == revision  # nothing changed: caches stay valid
        assert get_service(s, code="doposcuola-rifredi").updated_at == stamp  # type: ignore[union-attr]


def test_edited_row_is_updated(engine: Engine, tmp_path: Path) -> None:
    folder = copy_good(tmp_path)
    run_import(engine, folder)
    with Session(engine) as s:
        revision = current_revision(s)
    services = folder / "services.yaml"
    text = services.read_text(encoding="utf-8")
    text = text.replace(
        'title: "Doposcuola Il Girasole"', 'title: "Doposcuola e ludoteca Il Girasole"'
    )
    text = text.replace("target_groups: [children, families]", "target_groups: [children]")
    services.write_text(text, encoding="utf-8")

    report = run_import(engine, folder)
    c = report.counts["services.yaml"]
    assert (c.created, c.updated, c.unchanged) == (0, 1, 16)
    with Session(engine) as s:
        service = get_service(s, code="doposcuola-rifredi")
        assert service is not None and service.title == "Doposcuola e ludoteca Il Girasole"
        assert "ludotec" in service.search_title
        groups = s.exec(
            select(ServiceTargetGroup.target_group).where(
                ServiceTargetGroup.service_id == service.id
            )
        ).all()
        assert groups == ["children"]
        assert current_revision(s) != revision


def test_rows_missing_from_the_file_are_kept_and_counted(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    folder = copy_good(tmp_path)
    run_import(sqlite_engine, folder)
    places = folder / "welcome_places.yaml"
    text = places.read_text(encoding="utf-8")
    places.write_text(text[: text.index("- code: point-gavinana")], encoding="utf-8")
    report = run_import(sqlite_engine, folder)
    assert report.counts["welcome_places.yaml"].not_in_file == 1
    assert counts(sqlite_engine)[1] == 4


def expected_issues(path: Path) -> list[tuple[int, str]]:
    """(line, words) for each "# expect: words" marker in a fixture file."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = re.search(r"  # expect: (.+)$", line)
        if match:
            found.append((number, match.group(1).strip()))
    return found


def test_bad_rows_are_reported_with_line_and_reason_and_nothing_is_imported(engine: Engine) -> None:
    report = run_import(engine, BAD)
    assert not report.ok
    services = BAD / "services.yaml"
    expected = expected_issues(services)
    assert len(expected) == 11
    errors = [(e.line, e.reason) for e in report.errors]
    assert all(e.file == str(services) for e in report.errors), report.summary()
    for line, words in expected:
        matching = [reason for at, reason in errors if at == line]
        assert matching, f"no error reported at line {line} ({words}); got {report.summary()}"
        assert any(words in reason for reason in matching), (line, words, matching)
    assert len(errors) == len(expected), report.summary()
    assert str(report.errors[0]).startswith(f"{services}:")
    assert report.summary()[-1] == "11 error(s): nothing imported"
    # The valid providers file and the valid first service were not imported either.
    assert counts(engine) == (0, 0, 0)


def test_an_error_in_one_file_blocks_the_others(sqlite_engine: Engine, tmp_path: Path) -> None:
    folder = copy_good(tmp_path)
    places = folder / "welcome_places.yaml"
    places.write_text(
        places.read_text(encoding="utf-8").replace(
            "staff_roles: [care_manager, tutor]\n", "staff_roles: [chef]\n", 1
        ),
        encoding="utf-8",
    )
    report = run_import(sqlite_engine, folder)
    assert [str(e).split(": ", 1)[1] for e in report.errors] == [
        "staff_roles: unknown staff role(s) ['chef']; known: "
        "['care_manager', 'community_organizer', 'data_analyst', 'hub_manager', 'tutor']"
    ]
    assert counts(sqlite_engine) == (0, 0, 0)


def test_yaml_syntax_error_has_its_line(sqlite_engine: Engine, tmp_path: Path) -> None:
    folder = copy_good(tmp_path)
    providers = folder / "providers.yaml"
    lines = providers.read_text(encoding="utf-8").splitlines()
    lines[5] = "  kind: [public_body"  # line 6: an unclosed flow sequence
    providers.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = run_import(sqlite_engine, folder)
    assert len(report.errors) == 1
    error = report.errors[0]
    assert error.file == str(providers) and "YAML syntax" in error.reason
    assert 6 <= error.line <= 8


def test_duplicate_field_and_not_a_list(sqlite_engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "providers.yaml").write_text(
        "- code: a\n  name: A\n  name: B\n  kind: business\n  adhesion_status: approved\n",
        encoding="utf-8",
    )
    (folder / "welcome_places.yaml").write_text("code: x\nname: y\n", encoding="utf-8")
    report = run_import(sqlite_engine, folder)
    assert sorted(str(e) for e in report.errors) == sorted(
        [f"{folder / 'providers.yaml'}:3: duplicate field 'name'",
         f"{folder / 'welcome_places.yaml'}:1: expected a list of rows"]
    )  # fmt: skip


def test_service_may_reference_a_provider_already_in_the_database(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    run_import(sqlite_engine, GOOD)
    folder = tmp_path / "only-services"
    folder.mkdir()
    shutil.copy(GOOD / "services.yaml", folder / "services.yaml")
    report = run_import(sqlite_engine, folder)
    assert report.ok and report.counts["services.yaml"].unchanged == 17


def test_quartiere_far_from_its_coordinates_is_a_warning(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    folder = copy_good(tmp_path)
    services = folder / "services.yaml"
    text = services.read_text(encoding="utf-8")
    # The Rifredi after-school service declared in Q3 (Gavinana-Galluzzo).
    start = text.index("- code: doposcuola-rifredi")
    row_end = text.index("\n\n", start)
    row = text[start:row_end].replace("quartiere: Q5", "quartiere: Q3")
    services.write_text(text[:start] + row + text[row_end:], encoding="utf-8")
    report = run_import(sqlite_engine, folder)
    assert report.ok
    line = text[:start].count("\n") + 1
    assert [(w.line, "Rifredi (Q5)" in w.reason) for w in report.warnings] == [(line, True)]


def test_empty_folder(sqlite_engine: Engine, tmp_path: Path) -> None:
    report = run_import(sqlite_engine, tmp_path)
    assert not report.ok and "none of providers.yaml" in report.errors[0].reason


@pytest.mark.parametrize("name", ["providers.yaml", "services.yaml", "welcome_places.yaml"])
def test_real_seed_data_validates(name: str) -> None:
    """The project's seed catalogue (data/catalog) passes the importer's checks."""
    from catalog.importer import PlaceRow, ProviderRow, ServiceRow, _validate
    from core.settings import PROJECT_ROOT

    path = PROJECT_ROOT / "data" / "catalog" / name
    if not path.exists():
        pytest.skip(f"{path} not there yet")
    schema = {"providers.yaml": ProviderRow, "services.yaml": ServiceRow}.get(name, PlaceRow)
    issues: list = []
    rows = _validate(path, schema, issues)
    assert not issues, [str(i) for i in issues]
    assert rows


def test_provider_status_change_publishes_or_hides_its_services(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    from catalog.search import search_services

    run_import(sqlite_engine, GOOD)
    only_providers = tmp_path / "providers-only"
    only_providers.mkdir()
    text = (GOOD / "providers.yaml").read_text(encoding="utf-8")
    start = text.index("- code: ditta-attesa")
    text = text[:start] + text[start:].replace(
        "adhesion_status: pending", "adhesion_status: approved", 1
    )
    (only_providers / "providers.yaml").write_text(text, encoding="utf-8")
    report = run_import(sqlite_engine, only_providers)
    assert report.counts["providers.yaml"].updated == 1
    with Session(sqlite_engine) as s:
        found = [h.service.code for h in search_services(s, "doposcuola", limit=20).hits]
    assert "doposcuola-in-attesa" in found
