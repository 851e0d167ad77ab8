"""Migration 0002: the catalogue schema and its full-text index, on both backends."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from core.db import make_engine
from core.migrate import alembic_config, target_metadata, upgrade

CATALOG_TABLES = {
    "provider", "service", "service_target_group", "welcome_place", "unmet_need", "catalog_state",
}  # fmt: skip


def test_tables_and_full_text_index_exist(engine: Engine) -> None:
    names = set(inspect(engine).get_table_names())
    assert names >= CATALOG_TABLES
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert "service_fts" in names
            triggers = conn.execute(
                text(
                    "select name from sqlite_master where type = 'trigger' and tbl_name = 'service'"
                )
            ).scalars()
            assert {"service_fts_ai", "service_fts_ad", "service_fts_au"} <= set(triggers)
        else:
            columns = {c["name"] for c in inspect(engine).get_columns("service")}
            assert "search_vector" in columns
            indexes = {i["name"] for i in inspect(engine).get_indexes("service")}
            assert "ix_service_search_vector" in indexes


def _table_of(diff: tuple) -> str | None:
    """The table an Alembic autogenerate diff is about."""
    kind, *rest = diff
    if kind.endswith("_table"):
        return rest[0].name
    if kind.endswith("_index") or kind.endswith("_constraint"):
        return rest[0].table.name
    if kind.endswith("_fk"):
        return rest[0].parent.name
    return rest[1]  # add/remove_column, modify_*: (kind, schema, table, ...)


def test_models_match_the_migration(engine: Engine) -> None:
    """Autogenerate finds nothing to change in the catalogue tables."""
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), target_metadata())
    flat = [d for item in diffs for d in (item if isinstance(item, list) else [item])]
    assert flat, "compare_metadata sees the FTS tables at least; an empty list means a broken check"
    ours = [d for d in flat if _table_of(d) in CATALOG_TABLES]
    # The generated tsvector column (PostgreSQL) lives only in the migration, on purpose.
    ours = [d for d in ours if "search_vector" not in repr(d)]
    assert ours == []


def test_full_text_index_follows_inserts_updates_deletes(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as conn:
        conn.execute(text(
            "insert into provider (id, code, name, kind, adhesion_status, description, email, "
            "phone, website, created_at, updated_at) values (1, 'p', 'P', 'business', "
            "'approved', '', '', '', '', '2026-01-01', '2026-01-01')"
        ))  # fmt: skip
        conn.execute(text(
            "insert into service (id, code, provider_id, title, description, category, "
            "target_groups, quartiere, address, lat, lon, opening_hours, cost_mode, price_cents, "
            "price_unit, budget_payable, how_to_access, contacts, keywords, search_title, "
            "search_body, search_tags, created_at, updated_at) values (7, 's', 1, 'T', '', "
            "'health', '[]', 'Q1', '', 43.77, 11.25, '', 'free', 0, '', 0, '', '', '[]', 'alfa', "
            "'beta', 'zzpub', '2026-01-01', '2026-01-01')"
        ))  # fmt: skip

        def match(word: str) -> list[int]:
            query = text("select rowid from service_fts where service_fts match :q")
            return list(conn.execute(query, {"q": word}).scalars())

        assert match("alfa") == [7] and match("beta") == [7] and match("zzpub") == [7]
        conn.execute(text("update service set search_title = 'gamma' where id = 7"))
        assert match("alfa") == [] and match("gamma") == [7]
        conn.execute(text("update service set search_tags = 'zzother' where id = 7"))
        assert match("zzpub") == [] and match("zzother") == [7]
        conn.execute(text("delete from service where id = 7"))
        assert match("gamma") == [] and match("beta") == [] and match("zzother") == []


def test_downgrade_to_0001_and_up_again(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine, "0002")
    assert set(inspect(engine).get_table_names()) >= CATALOG_TABLES
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0001")
    names = set(inspect(engine).get_table_names())
    assert not (CATALOG_TABLES | {"service_fts"}) & names
    upgrade(engine, "0002")
    assert "service_fts" in set(inspect(engine).get_table_names())
    engine.dispose()
