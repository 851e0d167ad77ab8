"""catalog.fts: the two full-text engines answer the same boolean queries alike."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

from catalog.fts import Match, PostgresBackend, SQLiteBackend, Within, backend_for, in_title
from catalog.models import Service
from catalog.repository import get_service
from catalog.text import term


def t(word: str) -> str:
    return term(word) or word


def test_query_syntax() -> None:
    match = Match((("a", "b"), ("zzqq5",)), ("zzhidden",))
    assert SQLiteBackend().query(match) == '("a" OR "b") AND ("zzqq5") NOT ("zzhidden")'
    assert PostgresBackend().query(match) == "(a | b) & (zzqq5) & !(zzhidden)"
    titled = Match(((in_title("a"),),))
    assert SQLiteBackend().query(titled) == '(search_title : "a")'
    assert PostgresBackend().query(titled) == "(a:A)"


def test_unknown_dialect() -> None:
    with pytest.raises(NotImplementedError):
        backend_for("mysql")


@pytest.mark.parametrize(
    ("groups", "none_of", "expected"),
    [
        ([["zzcafterschool"]], [],
         {"doposcuola-rifredi", "doposcuola-isolotto", "studio-medie-centro"}),
        ([["zzcafterschool"], ["zzqq5"]], [], {"doposcuola-rifredi"}),
        ([["zzcafterschool"]], ["zzqq5"], {"doposcuola-isolotto", "studio-medie-centro"}),
        # "compiti" is in the keywords of one of them: the title side of the index.
        ([["zzcafterschool"], ["^compiti"]], [], {"doposcuola-rifredi"}),
        ([["zza70", "zzaall"], ["zzkfree"]], [],
         {"emporio-piagge", "accoglienza-notturna", "italiano-san-frediano"}),
        ([["zzhidden"]], [], {"doposcuola-in-attesa", "badanti-sospese"}),
    ],
)  # fmt: skip
def test_same_matches_and_counts(
    session: Session, groups: list[list[str]], none_of: list[str], expected: set[str]
) -> None:
    fixed = tuple(
        tuple(in_title(t(g[1:])) if g.startswith("^") else g for g in grp) for grp in groups
    )
    match = Match(fixed, tuple(none_of))
    backend = backend_for(session.get_bind().dialect.name)
    ids = backend.ids(session, match, None, limit=50, ranked=False)
    assert backend.count(session, match, None) == len(ids) == len(expected)
    codes = set(session.exec(select(Service.code).where(col(Service.id).in_(ids))).all())
    assert codes == expected


def test_ranked_puts_title_matches_first(session: Session) -> None:
    backend = backend_for(session.get_bind().dialect.name)
    match = Match(((t("nido"),),))
    ids = backend.ids(session, match, None, limit=5, ranked=True)
    assert ids[0] == get_service(session, code="nido-legnaia").id  # type: ignore[union-attr]


def test_distance_limit(session: Session) -> None:
    backend = backend_for(session.get_bind().dialect.name)
    rifredi = Within(43.7955, 11.2445, 0.5)
    match = Match((("zzpub",),))
    assert backend.count(session, match, rifredi) == 2  # doposcuola-rifredi, babysitter-rifredi
    assert len(backend.ids(session, match, rifredi, limit=10, ranked=True)) == 2
