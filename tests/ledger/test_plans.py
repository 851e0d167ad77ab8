"""Which source pays: category rules, expiring first, caps, split, uncovered remainder."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import Session

from welfare.ledger.models import SourceKind
from welfare.ledger.payments import place_hold
from welfare.ledger.plans import PaymentPlan, choose_sources

from .conftest import NOW, Budget, make_budget


def _parts(plan: PaymentPlan) -> list[tuple[int, int]]:
    return [(p.account_id, p.amount_cents) for p in plan.parts]


def test_only_sources_allowing_the_category(session: Session, budget: Budget):
    plan = choose_sources(
        session, citizen_id=budget.citizen_id, category="health", amount_cents=3_000, now=NOW
    )
    assert _parts(plan) == [(budget.employer_id, 3_000)]  # the public budget excludes health
    assert plan.parts[0].source_kind == SourceKind.employer
    assert plan.parts[0].label == "Welfare aziendale - Acme S.p.A."


def test_the_source_expiring_first_pays_first(session: Session):
    budget = make_budget(
        session,
        public_expires=NOW + timedelta(days=300),
        employer_expires=NOW + timedelta(days=10),
    )
    plan = choose_sources(
        session, citizen_id=budget.citizen_id, category="childcare", amount_cents=1_000, now=NOW
    )
    assert _parts(plan) == [(budget.employer_id, 1_000)]


def test_split_across_sources_and_the_citizen_pays_the_rest(session: Session, budget: Budget):
    plan = choose_sources(
        session, citizen_id=budget.citizen_id, category="childcare", amount_cents=20_000, now=NOW
    )
    assert _parts(plan) == [(budget.public_id, 10_000), (budget.employer_id, 5_000)]
    assert (plan.covered_cents, plan.uncovered_cents) == (15_000, 5_000)
    text = plan.describe()
    assert "copre 150,00 € su 200,00 €" in text
    assert "Budget pubblico del Comune 100,00 €" in text
    assert "Welfare aziendale - Acme S.p.A. 50,00 €" in text
    assert "Restano a tuo carico 50,00 €" in text


def test_the_max_per_service_caps_a_source_and_the_rest_spills_over(session: Session):
    budget = make_budget(session, public_max=4_000)
    plan = choose_sources(
        session, citizen_id=budget.citizen_id, category="childcare", amount_cents=6_000, now=NOW
    )
    assert _parts(plan) == [(budget.public_id, 4_000), (budget.employer_id, 2_000)]


def test_held_money_and_expired_budgets_are_not_offered(session: Session, budget: Budget):
    first = choose_sources(
        session, citizen_id=budget.citizen_id, category="childcare", amount_cents=10_000, now=NOW
    )
    place_hold(session, plan=first, idempotency_key="all", caused_by="t", now=NOW)
    plan = choose_sources(
        session, citizen_id=budget.citizen_id, category="childcare", amount_cents=1_000, now=NOW
    )
    assert _parts(plan) == [(budget.employer_id, 1_000)]
    much_later = NOW + timedelta(days=365)
    plan = choose_sources(
        session,
        citizen_id=budget.citizen_id,
        category="childcare",
        amount_cents=1_000,
        now=much_later,
    )
    assert plan.parts == () and plan.uncovered_cents == 1_000
    assert plan.describe().startswith("Nessun budget disponibile copre questo servizio")


def test_fully_covered_message(session: Session, budget: Budget):
    plan = choose_sources(
        session, citizen_id=budget.citizen_id, category="childcare", amount_cents=2_550, now=NOW
    )
    assert plan.describe().startswith("Il costo di 25,50 € è coperto interamente dal tuo budget")
    assert "(scade il 25/12/2026)" in plan.describe()


def test_a_plan_survives_a_json_round_trip(session: Session, budget: Budget):
    plan = choose_sources(
        session, citizen_id=budget.citizen_id, category="childcare", amount_cents=12_000, now=NOW
    )
    assert PaymentPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan


def test_zero_amount_needs_no_source(session: Session, budget: Budget):
    plan = choose_sources(
        session, citizen_id=budget.citizen_id, category="childcare", amount_cents=0, now=NOW
    )
    assert plan.parts == () and plan.uncovered_cents == 0
