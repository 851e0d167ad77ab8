"""catalog.index_stats: vocabulary statistics, typo correction, refresh on change."""

from __future__ import annotations

import pytest
from catalog_test_helpers import load_catalog
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog.index_stats import IndexStats, get_index_stats, typo_budget
from catalog.repository import get_service, save_service
from catalog.search import search_services
from catalog.text import term


def stats_of(rows: list[tuple[str, str]]) -> IndexStats:
    return IndexStats.build("r", rows)


def test_statistics() -> None:
    stats = stats_of([("doposcuol comp", "bambin giochi"), ("nid", "bambin bambin")])
    assert stats.documents == 2
    assert stats.df["bambin"] == 2 and stats.df["nid"] == 1
    assert stats.avg_title == 1.5 and stats.avg_body == 2.0
    assert stats.idf("nid") > stats.idf("bambin") > 0


@pytest.mark.parametrize(("length", "budget"), [(3, 0), (4, 1), (7, 1), (8, 2), (12, 2)])
def test_typo_budget_grows_with_length(length: int, budget: int) -> None:
    assert typo_budget(length) == budget


def test_correct() -> None:
    stats = stats_of([("doposcuol", "psicolog"), ("piscin", "")])
    assert stats.correct("doposcuol") == "doposcuol"  # known
    assert stats.correct("doposcul") == "doposcuol"  # one deletion
    assert stats.correct("psicolg") == "psicolog"
    assert stats.correct("psciolog") == "psicolog"  # transposition counts as one edit
    assert stats.correct("pisc") != "piscin"  # too far for a short word
    assert stats.correct("zzz") is None
    # Synonym words are known even when no service uses them.
    assert stats.correct(term("strizzacervelli") or "") == term("strizzacervelli")


def test_a_real_word_is_not_corrected_into_another_word() -> None:
    stats = stats_of([("mart chiav vogl", "guard assistent")])
    assert stats.correct("mart") == "mart"
    # «marito» is no typo of "Marte" (a synonym phrase may know it: then it is itself)
    assert stats.correct("marit", "marito") in {None, "marit"}
    assert stats.correct("chiam", "chiamano") is None  # nor «chiamano» of «chiavi»
    assert stats.correct("mogl", "moglie") in {None, "mogl"}
    assert stats.correct("chiam") == "chiav"  # without the word typed: as before
    assert stats.correct("guar", "guardi") == "guard"  # two stems of one verb
    assert stats.correct("asistent", "asistenza") == "assistent"  # a real typo


def test_ties_go_to_the_more_frequent_term() -> None:
    stats = stats_of([("aiutanti", ""), ("aiutante", ""), ("aiutante", "")])
    assert stats.correct("aiutantx") == "aiutante"  # both one edit away; "aiutante" is in 2


def test_stats_are_rebuilt_when_the_catalogue_changes(engine: Engine) -> None:
    load_catalog(engine)
    with Session(engine) as s:
        first = get_index_stats(s)
        assert get_index_stats(s) is first  # cached
        assert "ludotec" not in first.df
        assert search_services(s, "ludoteca").hits == []
        service = get_service(s, code="nido-legnaia")
        assert service is not None
        service.description += " Ludoteca il sabato."
        save_service(s, service=service)
        s.commit()
        second = get_index_stats(s)
        assert second is not first and second.df["ludotec"] == 1
        assert [h.service.code for h in search_services(s, "ludoteca").hits] == ["nido-legnaia"]
        assert [h.service.code for h in search_services(s, "ludotecca").hits] == ["nido-legnaia"]
