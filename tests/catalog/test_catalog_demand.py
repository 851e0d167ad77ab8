"""catalog.demand: unmet needs for the analysts, without personal data."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from catalog.demand import MAX_TEXT_CHARS, mask_personal_data, record_unmet_need
from catalog.filters import SearchFilters
from catalog.models import UnmetNeed


def test_record_unmet_need(engine: Engine) -> None:
    with Session(engine) as s:
        need = record_unmet_need(
            s,
            conversation_id="a" * 32,
            text="  piscina per disabili a Rifredi  ",
            filters=SearchFilters(category="disability", quartiere="Q5", near=(43.79, 11.24)),
        )
        need_id = need.id
        s.commit()
    with Session(engine) as s:
        stored = s.exec(select(UnmetNeed)).one()
        assert stored.id == need_id
        assert stored.text == "piscina per disabili a Rifredi"
        assert (stored.category, stored.quartiere) == ("disability", "Q5")
        assert stored.filters == {
            "category": "disability",
            "quartiere": "Q5",
            "near": [43.79, 11.24],
        }
        assert stored.created_at.tzinfo is not None


def test_filters_as_dict_or_none(engine: Engine) -> None:
    with Session(engine) as s:
        a = record_unmet_need(s, conversation_id="c1", text="x", filters={"age": 8})
        b = record_unmet_need(s, conversation_id="c1", text="y", filters=None)
        assert (a.filters, b.filters) == ({"age": 8}, {})


def test_personal_data_is_masked_and_text_is_capped(engine: Engine) -> None:
    text = (
        "sono Mario, scrivetemi a mario.rossi@example.com o chiamate il +39 333 123 4567, "
        "codice fiscale RSSMRA80A01D612X" + " ancora" * 200
    )
    with Session(engine) as s:
        need = record_unmet_need(s, conversation_id="c2", text=text, filters=None)
    assert "@" not in need.text and "333" not in need.text and "RSSMRA" not in need.text
    assert "[email]" in need.text and "[telefono]" in need.text and "[codice fiscale]" in need.text
    assert len(need.text) == MAX_TEXT_CHARS


def test_masking_keeps_ages_and_prices() -> None:
    assert mask_personal_data("bimbo di 8 anni, max 50 euro") == "bimbo di 8 anni, max 50 euro"
