"""Demo citizens and the command line."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.db import session_scope
from core.settings import Settings
from core.timeutil import utcnow
from welfare.ledger import __main__ as cli
from welfare.ledger.accounts import balances, get_citizen
from welfare.ledger.codes import ALPHABET
from welfare.ledger.demo import DEMO_FILE, seed_demo
from welfare.ledger.linking import LinkOutcome, redeem_link_code

CATEGORY_SLUGS = {
    "childcare", "babysitting", "after_school", "summer_camp", "home_care", "elderly_day_care",
    "disability", "psychological_support", "health", "housing", "job_search", "training",
    "italian_course", "income_support", "food_aid", "family_counselling", "work_life_balance",
    "sport_leisure",
}  # fmt: skip


def test_seeding_is_idempotent_and_balances_add_up(session: Session):
    now = utcnow()
    first = seed_demo(session, now=now)
    session.commit()
    assert (first.citizens, first.citizens_created) == (6, 6) and first.operations_written > 20
    again = seed_demo(session, now=now)
    session.commit()
    assert (again.citizens_created, again.operations_written) == (0, 0)

    giulia = get_citizen(session, public_ref="CIT-7F3K9Q")
    assert giulia is not None and giulia.id is not None
    shown = {b.label: b for b in balances(session, citizen_id=giulia.id, now=now)}
    public = shown["Budget pubblico del Comune"]
    assert (public.balance_cents, public.held_cents, public.available_cents) == (
        60_000 - 12_000,
        4_500,
        60_000 - 12_000 - 4_500,
    )
    assert shown["Welfare aziendale - Officine Lungarno S.r.l."].available_cents == 50_000 - 8_500

    elena = get_citizen(session, public_ref="CIT-E6NC5R")
    assert elena is not None and elena.id is not None
    every = balances(session, citizen_id=elena.id, now=now, include_expired=True)
    expired = [b for b in every if b.expired]
    assert len(expired) == 1 and expired[0].balance_cents == 0  # written off when seeded


def test_demo_categories_are_catalogue_slugs():
    import yaml

    data = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    used = {c for s in data["sources"] for c in s.get("allowed_categories") or []}
    used |= {
        m["category"]
        for p in data["citizens"]
        for a in p["accounts"]
        for m in a.get("movements", [])
        if "category" in m
    }
    assert used <= CATEGORY_SLUGS
    refs = [p["ref"] for p in data["citizens"]]
    assert all(re.fullmatch(rf"CIT-[{ALPHABET}]{{6}}", ref) for ref in refs), refs


@pytest.fixture
def cli_on(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    @contextmanager
    def scope() -> Iterator[Session]:
        with session_scope(engine) as s:
            yield s

    monkeypatch.setattr(cli, "session_scope", scope)


@pytest.mark.usefixtures("cli_on")
def test_cli(
    engine: Engine, capsys: pytest.CaptureFixture[str], link_settings: Callable[..., Settings]
):
    assert cli.main(["seed-demo"]) == 0
    assert "6 demo citizens (6 new)" in capsys.readouterr().out
    cli.main(["issue-code", "CIT-7F3K9Q"])
    code = capsys.readouterr().out.split()[0]
    with Session(engine) as s:
        assert redeem_link_code(s, conversation_id="c" * 32, code=code, now=utcnow()) == (
            LinkOutcome.ok
        )
    cli.main(["balances", "CIT-7F3K9Q"])
    assert "Budget pubblico del Comune: disponibili 435,00 €" in capsys.readouterr().out
    cli.main(["statement", "CIT-7F3K9Q", "--limit", "2"])
    assert len(capsys.readouterr().out.strip().splitlines()) == 2
    cli.main(["statement", "CIT-7F3K9Q", "--csv"])
    assert capsys.readouterr().out.startswith("Data;Budget;Movimento;Importo (€)")
    cli.main(["expire"])
    assert "0 budget scaduti azzerati" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="CIT-NOPE"):
        cli.main(["balances", "CIT-NOPE"])
