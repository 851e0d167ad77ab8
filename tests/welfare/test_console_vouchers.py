"""Console: provider staff redeem vouchers (page and JSON API), roles and CSRF; the gateway
serves the QR image while the voucher is unused; migration 0009 matches the model."""

from __future__ import annotations

from io import BytesIO

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from core.migrate import target_metadata
from core.settings import Settings
from staff.roles import Role
from tests.ledger.conftest import NOW, Budget
from tests.welfare.conftest import CONSOLE, MakeStaff, Shop, sign_in
from welfare import web
from welfare.ledger.models import Citizen
from welfare.models import Voucher, VoucherStatus
from welfare.qr import qr_url, redeem_url, voucher_qr_png
from welfare.vouchers import format_voucher_code, issue_voucher


def _voucher(session: Session, budget: Budget, shop: Shop, nonce: str = "n-000001") -> Voucher:
    citizen = session.get(Citizen, budget.citizen_id)
    assert citizen is not None
    voucher, _ = issue_voucher(
        session,
        citizen=citizen,
        conversation_id="f" * 32,
        service_code=shop.service_code,
        nonce=nonce,
        now=NOW,
    )
    session.commit()
    return voucher


def test_redeem_on_the_page(
    client: TestClient, make_staff: MakeStaff, session: Session, budget: Budget, shop: Shop
) -> None:
    voucher = _voucher(session, budget, shop)
    token = sign_in(client, make_staff(Role.provider_staff))
    page = client.get(f"{CONSOLE}/voucher")
    assert page.status_code == 200 and "Riscatta" in page.text
    code = format_voucher_code(voucher.code).lower()
    done = client.post(f"{CONSOLE}/voucher", data={"code": code, "csrf_token": token})
    assert done.status_code == 200 and "Voucher riscattato" in done.text and "120,00 €" in done.text
    again = client.post(f"{CONSOLE}/voucher", data={"code": code, "csrf_token": token})
    assert again.status_code == 409 and "già stato usato" in again.text
    session.expire_all()
    assert session.get(Voucher, voucher.id).status == VoucherStatus.redeemed  # type: ignore[union-attr]


def test_api_same_rules(
    client: TestClient, make_staff: MakeStaff, session: Session, budget: Budget, shop: Shop
) -> None:
    voucher = _voucher(session, budget, shop)
    url = f"{CONSOLE}/voucher/api/riscatta"
    assert client.post(url, json={"code": voucher.code}).status_code == 401
    token = sign_in(client, make_staff(Role.provider_staff, provider_code="ENTE02"))
    assert client.post(url, json={"code": voucher.code}).status_code == 403  # no CSRF header
    other = client.post(url, json={"code": voucher.code}, headers={"X-CSRF-Token": token})
    assert other.status_code == 409 and "non trovato" in other.json()["detail"]
    client.cookies.clear()
    token = sign_in(client, make_staff(Role.provider_staff))
    ok = client.post(url, json={"code": voucher.code}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200
    assert ok.json()["status"] == "redeemed" and ok.json()["covered_cents"] == 12_000


def test_other_roles_refused(
    client: TestClient, make_staff: MakeStaff, session: Session, budget: Budget, shop: Shop
) -> None:
    voucher = _voucher(session, budget, shop)
    token = sign_in(client, make_staff(Role.welfare_officer, Role.care_manager))
    assert client.get(f"{CONSOLE}/voucher").status_code == 403
    refused = client.post(f"{CONSOLE}/voucher", data={"code": voucher.code, "csrf_token": token})
    assert refused.status_code == 403
    session.expire_all()
    assert session.get(Voucher, voucher.id).status == VoucherStatus.issued  # type: ignore[union-attr]


def test_qr_image_served_while_unused(
    engine: Engine, session: Session, budget: Budget, shop: Shop
) -> None:
    voucher = _voucher(session, budget, shop)
    app = FastAPI()
    app.include_router(web.router)
    app.state.welfare_engine = engine
    with TestClient(app) as client:
        image = client.get(f"/welfare/qr/{voucher.qr_token}.png")
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert Image.open(BytesIO(image.content)).size[0] > 100
        assert client.get("/welfare/qr/" + "x" * 32 + ".png").status_code == 404
        assert client.get(f"/welfare/qr/{voucher.code}.png").status_code == 404


def test_migration_matches_the_model(engine: Engine) -> None:
    import welfare.models  # noqa: F401

    assert {"welfare_voucher", "welfare_reimbursement"} <= set(SQLModel.metadata.tables)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, target_metadata())
    ours = [d for d in diffs if "welfare_" in repr(d)]
    assert ours == []


def test_staff_cancel_from_the_citizen_page(
    client: TestClient, make_staff: MakeStaff, session: Session, budget: Budget, shop: Shop
) -> None:
    voucher = _voucher(session, budget, shop)
    citizen = session.get(Citizen, budget.citizen_id)
    assert citizen is not None
    token = sign_in(client, make_staff(Role.welfare_officer))
    page = client.get(f"{CONSOLE}/cittadini/{citizen.public_ref}")
    assert format_voucher_code(voucher.code) in page.text and "da usare" in page.text
    url = f"{CONSOLE}/cittadini/{citizen.public_ref}/voucher/{voucher.id}/annulla"
    done = client.post(url, data={"csrf_token": token})
    assert done.status_code == 303 and done.headers["location"].endswith("voucher_cancelled")
    session.expire_all()
    assert session.get(Voucher, voucher.id).status == VoucherStatus.cancelled  # type: ignore[union-attr]
    again = client.post(url, data={"csrf_token": token})
    assert again.status_code == 200 and "annullato" in again.text
    wrong = client.post(
        f"{CONSOLE}/cittadini/CIT-ZZZZZZ/voucher/{voucher.id}/annulla",
        data={"csrf_token": token},
        headers={"accept": "text/html"},
    )
    assert wrong.status_code == 404


def test_qr_opens_the_redemption_page_with_the_code(
    engine: Engine,
    session: Session,
    budget: Budget,
    shop: Shop,
    client: TestClient,
    make_staff: MakeStaff,
) -> None:
    voucher = _voucher(session, budget, shop)
    public = Settings(_env_file=None, welfare_public_url="https://welcome.example.org/")  # type: ignore[call-arg]
    url = redeem_url(voucher.code, public)
    assert url == f"https://welcome.example.org/console/voucher?codice={voucher.code}"
    assert qr_url(voucher.qr_token, public).startswith("https://welcome.example.org/welfare/qr/")
    hook = Settings(_env_file=None, telegram_webhook_url="https://bot.example.org/telegram/webhook")  # type: ignore[call-arg]
    assert redeem_url("ABCD2345", hook) == "https://bot.example.org/console/voucher?codice=ABCD2345"

    app = FastAPI()
    app.include_router(web.router)
    app.state.welfare_engine = engine
    app.state.welfare_settings = public
    with TestClient(app) as gateway:
        image = gateway.get(f"/welfare/qr/{voucher.qr_token}.png")
    assert image.content == voucher_qr_png(voucher.code, public)  # the PNG of that URL

    # the page the QR opens: the code filled in, nothing redeemed until «Riscatta»
    target = f"{CONSOLE}/voucher?codice={voucher.code}"
    login = client.get(target, headers={"Accept": "text/html"})
    assert login.status_code == 303 and "next=" in login.headers["location"]
    sign_in(client, make_staff(Role.provider_staff))
    page = client.get(target)
    assert page.status_code == 200
    assert f'value="{format_voucher_code(voucher.code)}"' in page.text
    assert "Codice letto dal QR" in page.text
    session.expire_all()
    assert session.get(Voucher, voucher.id).status == VoucherStatus.issued  # type: ignore[union-attr]
    junk = client.get(f"{CONSOLE}/voucher?codice=<script>")
    assert junk.status_code == 200 and "Codice letto dal QR" not in junk.text
