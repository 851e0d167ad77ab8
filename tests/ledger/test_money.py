import pytest

from welfare.ledger.money import format_cents, format_eur, parse_eur


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "0,00 €"),
        (5, "0,05 €"),
        (1250, "12,50 €"),
        (123456789, "1.234.567,89 €"),
        (-990, "-9,90 €"),
    ],
)
def test_format_eur(cents: int, text: str):
    assert format_eur(cents) == text


def test_format_cents_without_thousands():
    assert format_cents(-123456, thousands=False) == "-1234,56"


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("12,50", 1250),
        ("12.5", 1250),
        ("30", 3000),
        ("1.234,56 €", 123456),
        ("7 euro", 700),
        ("-3,10", -310),
    ],
)
def test_parse_eur(text: str, cents: int):
    assert parse_eur(text) == cents


@pytest.mark.parametrize("text", ["", "abc", "12,345", "1,2,3"])
def test_parse_eur_refuses_nonsense(text: str):
    with pytest.raises(ValueError):
        parse_eur(text)
