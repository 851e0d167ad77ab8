"""Console: a citizen's budgets and statement, CSV export, linking codes, unlinking, roles."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from console.welfare import citizens
from core.timeutil import utcnow
from staff.models import AuditLog
from staff.roles import Role
from tests.ledger.conftest import Budget
from tests.welfare.conftest import CONSOLE, MakeStaff, sign_in
from welfare.ledger.linking import LinkOutcome, issue_link_code, redeem_link_code
from welfare.ledger.models import Citizen, LinkCode

HTML = {"accept": "text/html"}


def _ref(session: Session, budget: Budget) -> str:
    citizen = session.get(Citizen, budget.citizen_id)
    assert citizen is not None
    return citizen.public_ref


def test_search_and_statement(
    client: TestClient, make_staff: MakeStaff, session: Session, budget: Budget
) -> None:
    sign_in(client, make_staff(Role.welfare_officer))
    ref = _ref(session, budget)
    found = client.get(f"{CONSOLE}/cittadini", params={"q": "prova"})
    assert found.status_code == 200 and ref in found.text
    assert ref not in client.get(f"{CONSOLE}/cittadini", params={"q": "nessuno"}).text
    page = client.get(f"{CONSOLE}/cittadini/{ref}")
    assert page.status_code == 200
    assert "Budget pubblico del Comune" in page.text and "100,00 €" in page.text
    assert "Welfare aziendale - Acme S.p.A." in page.text and "Accredito" in page.text
    assert client.get(f"{CONSOLE}/cittadini/CIT-ZZZZZZ", headers=HTML).status_code == 404


def test_csv_export(
    client: TestClient, make_staff: MakeStaff, session: Session, budget: Budget
) -> None:
    sign_in(client, make_staff(Role.care_manager))
    ref = _ref(session, budget)
    response = client.get(f"{CONSOLE}/cittadini/{ref}/estratto.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffData;Budget;Movimento")
    assert "100,00" in text and "50,00" in text


def test_link_code_shown_once_then_redeemed_and_unlinked(
    client: TestClient, make_staff: MakeStaff, session: Session, budget: Budget, settings
) -> None:
    token = sign_in(client, make_staff(Role.care_manager))
    ref = _ref(session, budget)
    issued = client.post(f"{CONSOLE}/cittadini/{ref}/codice", data={"csrf_token": token})
    assert issued.status_code == 200
    assert issued.headers["cache-control"] == "no-store"
    code = issued.text.split('id="link-code">')[1].split("<")[0]
    assert len(code) == 9 and code[4] == "-"
    assert code not in client.get(f"{CONSOLE}/cittadini/{ref}").text  # shown once
    session.expire_all()
    stored = session.exec(select(LinkCode).where(LinkCode.citizen_id == budget.citizen_id)).all()
    assert len(stored) == 1 and code.replace("-", "") not in stored[0].code_hash

    outcome = redeem_link_code(session, conversation_id="c" * 32, code=code, now=utcnow())
    session.commit()
    assert outcome == LinkOutcome.ok
    assert "Chat collegate: 1" in client.get(f"{CONSOLE}/cittadini/{ref}").text

    done = client.post(f"{CONSOLE}/cittadini/{ref}/scollega", data={"csrf_token": token})
    assert done.status_code == 303 and done.headers["location"].endswith("msg=unlinked")
    assert "Nessuna chat collegata" in client.get(f"{CONSOLE}/cittadini/{ref}").text
    actions = {a.action for a in session.exec(select(AuditLog)).all()}
    assert {"citizen.link_code", "citizen.unlink"} <= actions


def test_a_new_code_revokes_the_previous_one(
    client: TestClient, make_staff: MakeStaff, session: Session, budget: Budget, settings
) -> None:
    token = sign_in(client, make_staff(Role.welfare_officer))
    ref = _ref(session, budget)
    first = client.post(f"{CONSOLE}/cittadini/{ref}/codice", data={"csrf_token": token})
    client.post(f"{CONSOLE}/cittadini/{ref}/codice", data={"csrf_token": token})
    code = first.text.split('id="link-code">')[1].split("<")[0]
    outcome = redeem_link_code(session, conversation_id="d" * 32, code=code, now=utcnow())
    assert outcome != LinkOutcome.ok


def test_roles_and_csrf(
    client: TestClient, make_staff: MakeStaff, session: Session, budget: Budget, settings
) -> None:
    ref = _ref(session, budget)
    assert client.get(f"{CONSOLE}/cittadini/{ref}").status_code == 401
    token = sign_in(client, make_staff(Role.provider_staff))
    assert client.get(f"{CONSOLE}/cittadini/{ref}").status_code == 403
    assert client.get(f"{CONSOLE}/cittadini/{ref}/estratto.csv").status_code == 403
    refused = client.post(f"{CONSOLE}/cittadini/{ref}/codice", data={"csrf_token": token})
    assert refused.status_code == 403
    client.cookies.clear()
    sign_in(client, make_staff(Role.welfare_officer))
    no_token = client.post(f"{CONSOLE}/cittadini/{ref}/codice", data={"csrf_token": "x"})
    assert no_token.status_code == 403
    assert session.exec(select(LinkCode)).all() == []


# --- who may issue linking codes (docs/security.md): welfare office and Care Managers ------

OUTSIDE = sorted(set(Role) - citizens.ROLES)


def test_the_rule() -> None:
    assert {Role.welfare_officer, Role.care_manager} == citizens.ROLES
    assert Role.hub_staff in OUTSIDE


def _state(session: Session, citizen_id: int) -> tuple[int, int, int]:
    session.expire_all()
    codes = len(session.exec(select(LinkCode).where(LinkCode.citizen_id == citizen_id)).all())
    return (
        codes,
        citizens.active_links(session, citizen_id),
        len(session.exec(select(AuditLog)).all()),
    )


@pytest.mark.parametrize("role", sorted(Role))
def test_who_may_issue_linking_codes(
    client: TestClient,
    make_staff: MakeStaff,
    session: Session,
    budget: Budget,
    settings,
    role: Role,
) -> None:
    """Each role outside the rule: 403 everywhere and no code, link or audit entry changes;
    each role inside: the code is issued (audited) and links a chat."""
    ref = _ref(session, budget)
    code = issue_link_code(session, citizen_id=budget.citizen_id, issued_by="staff:0", now=utcnow())
    session.commit()
    assert redeem_link_code(session, conversation_id="e" * 32, code=code, now=utcnow()) == (
        LinkOutcome.ok
    )
    session.commit()
    token = sign_in(client, make_staff(role))
    codes, links, audit = _state(session, budget.citizen_id)
    assert (codes, links) == (1, 1)
    page = client.get(f"{CONSOLE}/cittadini/{ref}")
    issued = client.post(f"{CONSOLE}/cittadini/{ref}/codice", data={"csrf_token": token})
    if role not in citizens.ROLES:
        assert page.status_code == issued.status_code == 403
        assert client.get(f"{CONSOLE}/cittadini").status_code == 403
        assert client.get(f"{CONSOLE}/cittadini/{ref}/estratto.csv").status_code == 403
        unlink = client.post(f"{CONSOLE}/cittadini/{ref}/scollega", data={"csrf_token": token})
        assert unlink.status_code == 403 and "link-code" not in issued.text
        assert _state(session, budget.citizen_id) == (codes, links, audit)
        return
    assert page.status_code == issued.status_code == 200
    new_code = issued.text.split('id="link-code">')[1].split("<")[0]
    session.expire_all()
    assert redeem_link_code(session, conversation_id="f" * 32, code=new_code, now=utcnow()) == (
        LinkOutcome.ok
    )
    assert _state(session, budget.citizen_id)[1:] == (2, audit + 1)  # two chats; audited
