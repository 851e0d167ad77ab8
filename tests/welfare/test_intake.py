"""The reimbursement intake parsers: amounts in Italian formats to integer cents, dates of
payment in words and numbers (not in the future, not too old), providers matched to the
catalogue, for whom."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.i18n import languages
from tests.actions.action_helpers import seed_catalog
from welfare.intake import (
    CHILD,
    DATE_IN_FUTURE,
    DATE_INVALID,
    DATE_NOT_UNDERSTOOD,
    DATE_TOO_OLD,
    FAMILY,
    SELF,
    IntakeError,
    clean_provider_text,
    intake_path,
    intake_words,
    load_intake_words,
    match_provider,
    parse_amount,
    parse_beneficiary,
    parse_paid_on,
    recorded_relative,
    relative_name,
)

TODAY = date(2026, 11, 25)  # a Wednesday


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("35", 3500),
        ("35 euro", 3500),
        ("35,50 €", 3550),
        ("35,5", 3550),
        ("€ 12", 1200),
        ("€12,30", 1230),
        ("12.50", 1250),
        ("35€", 3500),
        ("EUR 7,05", 705),
        ("1.234,56", 123456),
        ("1.234 euro", 123400),
        ("ho pagato 35 euro", 3500),
        ("35 euro e 50", 3550),
        ("35 € e 5 centesimi", 3505),
        ("  90,00 euro  ", 9000),
        ("la retta era di 280 €", 28000),
    ],
)
def test_amounts(text: str, cents: int) -> None:
    assert parse_amount(text) == cents
    assert isinstance(parse_amount(text), int)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("trentacinque", "Non ho capito l'importo"),
        ("", "Non ho capito l'importo"),
        ("35 o 40", "Non ho capito l'importo"),
        ("12/11", "Non ho capito l'importo"),
        ("0", "più di zero"),
        ("0,00 €", "più di zero"),
        ("25000 euro", "troppo alto"),
        ("35,555", "Non ho capito l'importo"),
        ("9" * 5000, "troppo alto"),  # past Python's int-conversion limit: no crash
        ("9" * 5000 + " euro", "troppo alto"),
        ("€ " + "9" * 5000 + ",50", "troppo alto"),
        ("9" * 5000 + " euro e 50", "troppo alto"),
        ("1" + ".000" * 2000 + " €", "troppo alto"),
    ],
)
def test_amounts_refused_politely(text: str, says: str) -> None:
    with pytest.raises(IntakeError) as refused:
        parse_amount(text)
    assert says in refused.value.message


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("oggi", date(2026, 11, 25)),
        ("ieri", date(2026, 11, 24)),
        ("Ieri mattina", date(2026, 11, 24)),
        ("l'altro ieri", date(2026, 11, 23)),
        ("l’altro ieri", date(2026, 11, 23)),
        ("12/11", date(2026, 11, 12)),
        ("12-11-2026", date(2026, 11, 12)),
        ("3/9/26", date(2026, 9, 3)),
        ("12 novembre", date(2026, 11, 12)),
        ("il 12 novembre", date(2026, 11, 12)),
        ("1 dic 2025", date(2025, 12, 1)),
        ("12 dic. 2025", date(2025, 12, 12)),
        ("30 dicembre", date(2025, 12, 30)),  # no year: the last one, not the coming one
        ("30/12", date(2025, 12, 30)),
        ("lunedì", date(2026, 11, 23)),
        ("mercoledì scorso", date(2026, 11, 18)),  # said on a Wednesday: last week's
        ("questo mercoledì", date(2026, 11, 25)),
        ("3 giorni fa", date(2026, 11, 22)),
        ("ieri l'altro", date(2026, 11, 23)),
        ("il 3 di marzo", date(2026, 3, 3)),
        ("1° novembre", date(2026, 11, 1)),
    ],
)
def test_dates(text: str, day: date) -> None:
    assert parse_paid_on(text, today=TODAY, max_age_days=365) == day


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("boh", "Non ho capito la data"),
        ("26/11/2026", "nel futuro"),
        ("domani", "nel futuro"),  # a day named is refused as in the future, not as unread
        ("lunedì prossimo", "nel futuro"),
        ("31/11", "non esiste"),
        ("1 gennaio 2024", "dal 25 novembre 2025 in poi"),
        ("24/11/2025", "dal 25 novembre 2025 in poi"),
    ],
)
def test_dates_refused_politely(text: str, says: str) -> None:
    with pytest.raises(IntakeError) as refused:
        parse_paid_on(text, today=TODAY, max_age_days=365)
    assert says in refused.value.message


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("yesterday", date(2026, 11, 24)),
        ("Yesterday morning", date(2026, 11, 24)),
        ("last night", date(2026, 11, 24)),
        ("today", date(2026, 11, 25)),
        ("this morning", date(2026, 11, 25)),
        ("the day before yesterday", date(2026, 11, 23)),
        ("3 days ago", date(2026, 11, 22)),
        ("a week ago", date(2026, 11, 18)),
        ("on 3 March", date(2026, 3, 3)),
        ("March 3", date(2026, 3, 3)),
        ("3rd of March", date(2026, 3, 3)),
        ("the 3rd of March", date(2026, 3, 3)),
        ("March 3rd, 2026", date(2026, 3, 3)),
        ("Nov. 2nd", date(2026, 11, 2)),
        ("21st November 2026", date(2026, 11, 21)),
        ("30 December", date(2025, 12, 30)),  # no year: the last one, not the coming one
        ("December 3", date(2025, 12, 3)),
        ("December the 30th", date(2025, 12, 30)),
        ("3 Sept", date(2026, 9, 3)),
        ("last Monday", date(2026, 11, 23)),
        ("on Monday", date(2026, 11, 23)),
        ("last Wednesday", date(2026, 11, 18)),  # said on a Wednesday: last week's
        ("this Wednesday", date(2026, 11, 25)),
        ("12/11", date(2026, 11, 12)),  # day first, as on Italian receipts
    ],
)
def test_dates_in_english(text: str, day: date) -> None:
    assert parse_paid_on(text, today=TODAY, max_age_days=365) == day


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("tomorrow", DATE_IN_FUTURE),
        ("next Monday", DATE_IN_FUTURE),
        ("no idea", DATE_NOT_UNDERSTOOD),
        ("February 30", DATE_INVALID),
        ("1st January 2024", DATE_TOO_OLD),
    ],
)
def test_english_dates_refused_politely(text: str, refused: str) -> None:
    with pytest.raises(IntakeError) as error:
        parse_paid_on(text, today=TODAY, max_age_days=365)
    assert error.value.msgid == refused


def test_the_oldest_day_follows_the_setting() -> None:
    assert parse_paid_on("25/10", today=TODAY, max_age_days=31) == date(2026, 10, 25)
    with pytest.raises(IntakeError):
        parse_paid_on("24/10", today=TODAY, max_age_days=31)


@pytest.mark.parametrize(
    ("text", "who"),
    [
        ("self", SELF),
        ("per me", SELF),
        ("io", SELF),
        ("per mio figlio", CHILD),
        ("mia figlia Sara", CHILD),
        ("il bambino", CHILD),
        ("per mia madre", "familiare (madre)"),
        ("papà", "familiare (papà)"),
        ("un familiare", FAMILY),
        ("family", FAMILY),
        ("il mio babbo", "familiare (papà)"),
        ("mia suocera", "familiare (suocera)"),
    ],
)
def test_beneficiary(text: str, who: str) -> None:
    assert parse_beneficiary(text) == who


@pytest.mark.parametrize(
    ("text", "who"),
    [
        ("for me", SELF),
        ("myself", SELF),
        ("for my son", CHILD),
        ("My daughter Sara", CHILD),
        ("for the kids", CHILD),
        ("for my mother", "familiare (madre)"),
        ("my mum", "familiare (mamma)"),
        ("for my mother-in-law", "familiare (suocera)"),  # not «mother»
        ("my father in law", "familiare (suocero)"),
        ("my grandson", "familiare (nipote)"),  # not «son»
        ("for my dad", "familiare (papà)"),
        ("my husband", "familiare (marito)"),
        ("a family member", FAMILY),
        ("a relative", FAMILY),
    ],
)
def test_beneficiary_in_english(text: str, who: str) -> None:
    """English answers record the same Italian values staff read."""
    assert parse_beneficiary(text) == who


def test_a_recorded_relative_is_named_in_the_citizens_language() -> None:
    assert recorded_relative("familiare (suocera)") == "suocera"
    assert recorded_relative(CHILD) is None and recorded_relative(SELF) is None
    assert relative_name("suocera", "en") == "mother-in-law"
    assert relative_name("papà", "en") == "dad"
    assert relative_name("madre", "it") == "madre"


def test_every_language_has_its_intake_words() -> None:
    """Each language of locale/languages.yml reads dates and whom (locale/<code>/intake.yml)
    and names every relative the request records."""
    recorded = set(
        yaml.safe_load(intake_path("it").read_text(encoding="utf-8"))["beneficiary"]["relatives"]
    )
    for code in languages().codes:
        path = intake_path(code)
        assert path.exists(), f"{path} is missing"
        load_intake_words([(code, path)])  # 12 months, 7 days, lists of words
        if code != languages().source:
            assert set(intake_words().relative_names[code]) == recorded, path


def test_intake_words_errors_name_the_file(tmp_path: Path) -> None:
    it = intake_path("it")
    broken = tmp_path / "intake.yml"
    broken.write_text("paid_on:\n  months:\n    - [gennaio]\n", encoding="utf-8")
    with pytest.raises(ValueError, match=f"{broken}: months: 12 lists"):
        load_intake_words([("xx", broken)])
    clash = tmp_path / "clash.yml"  # «mar» is March in Italian: it cannot be May elsewhere
    clash.write_text(
        it.read_text(encoding="utf-8").replace("[maggio, mag]", "[maggio, mag, mar]"),
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="«mar» already means 3"):
        load_intake_words([("it", clash)])


def test_beneficiary_not_understood() -> None:
    with pytest.raises(IntakeError, match="Per chi era la spesa"):
        parse_beneficiary("boh")


def test_provider_text_is_tidied() -> None:
    assert clean_provider_text("  «Farmacia   Comunale 5».  ") == "Farmacia Comunale 5"
    with pytest.raises(IntakeError):
        clean_provider_text(" ?! ")


def test_providers_matched_to_the_catalogue(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session:
        seed_catalog(session)
        session.commit()
        found = match_provider(session, "cooperativa ponte")
        assert found is not None and found.code == "ponte" and found.name == "Cooperativa Ponte"
        assert match_provider(session, "Cooperativa Ponte") == found
        assert found.category is None  # its services are of several kinds
        assert match_provider(session, "Farmacia Comunale 5") is None
        assert match_provider(session, "cooperativa nascosta") is None  # not approved
        assert match_provider(session, "cooperativa") is None  # nothing distinctive
