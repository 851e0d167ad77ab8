"""The welfare budget at work, end to end: the fake Telegram Bot API, the real gateway (with
its console), the real Rasa and action server, one database.

(a) pay / redeem / cancel: a linked demo citizen opens a budget-payable service, sees price,
    what the budget covers and what is left, taps «Conferma e paga» twice (charged once),
    gets the voucher code and its QR photo; provider staff open the QR's page in the console
    and redeem it (hold captured); a second voucher is cancelled in chat (hold released);
    the ledger's balances move by exactly the redeemed voucher.
(b) reimbursement: the citizen sends a photo, answers the form, confirms twice (one request,
    one number); a welfare officer approves a part in the console (CSRF as the page does);
    the citizen is told on Telegram; «Le mie richieste» shows the outcome; the ledger holds
    the reimbursement entry.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlmodel import Session, col, select

from console.staff import create_staff
from conversations.models import Conversation
from core.db import session_scope
from core.settings import PROJECT_ROOT
from core.timeutil import utcnow
from devtools.rasa_env import APP_PYTHON
from devtools.stack import RasaStack
from staff.roles import Role
from tests.fakes.fake_telegram import Call, FakeTelegram
from tests.gateway.conftest import RunningGateway, accept_consent
from welfare.ledger.accounts import balances
from welfare.ledger.linking import citizen_for_conversation
from welfare.ledger.models import Citizen, EntryKind, LedgerEntry
from welfare.models import Reimbursement, ReimbursementStatus, Voucher, VoucherStatus
from welfare.qr import voucher_qr_png

pytestmark = [pytest.mark.rasa, pytest.mark.slow, pytest.mark.timeout(900)]

CHAT_PAY = 710001
CHAT_REFUND = 710002
JPEG = b"\xff\xd8\xff\xe0" + os.urandom(4000)
PASSWORD = "cavolo nero e ribollita"
SKIP_WORDS = ("Non importa", "Salta", "Ovunque", "Tutte", "Qualsiasi")
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
SENT = ("sendMessage", "editMessageText", "sendPhoto")


@pytest.fixture
def e2e_gateway(
    start_gateway: Callable[..., RunningGateway], rasa_stack: RasaStack, fake_telegram: FakeTelegram
) -> RunningGateway:
    running = start_gateway(
        database_url=rasa_stack.database_url,  # the catalogue the actions read, as in production
        rasa_url=rasa_stack.rasa_url,
        rasa_auth_token=rasa_stack.token,
        action_server_url=rasa_stack.action_url.rsplit("/webhook", 1)[0],
        rasa_timeout_seconds=30.0,
        telegram_bot_token=fake_telegram.token,
        telegram_api_base_url=fake_telegram.base_url,
        secret_key="e2e-console-secret-" + "x" * 32,
    )
    fake_telegram.wait_for(lambda c: c.method == "setMyCommands", what="setMyCommands")
    running.wait_until(lambda: fake_telegram.poll_count > 0, what="polling")
    return running


# --- the citizen on Telegram -------------------------------------------------------------------


@dataclass
class Chat:
    telegram: FakeTelegram
    chat_id: int

    def _replies(self, mark: int, timeout: float = 45.0, settle: float = 1.0) -> list[Call]:
        """The bot's messages after ``mark``, once it has stopped talking for a moment."""
        self.telegram.wait_for(
            lambda c: (
                c.status == 200
                and c.params.get("chat_id") == self.chat_id
                and c.method in SENT
                and self.telegram.state.calls.index(c) >= mark
            ),
            timeout=timeout,
            what="a reply",
        )
        time.sleep(settle)
        return [
            c
            for c in self.telegram.calls()[mark:]
            if c.status == 200 and c.params.get("chat_id") == self.chat_id and c.method in SENT
        ]

    def say(self, text: str) -> list[Call]:
        mark = len(self.telegram.calls())
        self.telegram.send_text(self.chat_id, text)
        return self._replies(mark)

    def tap(self, title: str) -> list[Call]:
        mark = len(self.telegram.calls())
        self.telegram.press(self.chat_id, title)
        return self._replies(mark)

    def photo(self, content: bytes) -> list[Call]:
        mark = len(self.telegram.calls())
        self.telegram.send_photo(self.chat_id, content)
        return self._replies(mark)

    def wait_text(self, needle: str, after: int, timeout: float = 30.0) -> Call:
        return self.telegram.wait_for(
            lambda c: (
                c.status == 200
                and c.params.get("chat_id") == self.chat_id
                and needle in str(c.params.get("text") or c.params.get("caption") or "")
                and self.telegram.state.calls.index(c) >= after
            ),
            timeout=timeout,
            what=needle,
        )


def text_of(calls: list[Call]) -> str:
    return "\n".join(str(c.params.get("text") or "") for c in calls)


def buttons(calls: list[Call]) -> list[str]:
    titles = []
    for call in calls:
        markup = call.params.get("reply_markup") or {}
        titles += [b["text"] for row in markup.get("inline_keyboard", []) for b in row]
    return titles


def conversation_id(gateway: RunningGateway, chat_id: int) -> str:
    return next(c.conversation_id for c in gateway.conversations() if c.chat_key == str(chat_id))


def link(chat: Chat, stack: RasaStack, citizen_ref: str) -> None:
    """A Welcome Point issues a one-time code (the CLI), the citizen types it in chat."""
    issued = subprocess.run(
        [str(APP_PYTHON), "-m", "welfare.ledger", "issue-code", citizen_ref],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": stack.database_url, "PYTHONPATH": str(PROJECT_ROOT)},
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    code = re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", issued.stdout)
    assert code, issued.stdout
    reply = chat.say(f"codice {code.group(1)}")
    assert "saldo" in text_of(reply), text_of(reply)


# --- staff at the console, over HTTP as the browser does -------------------------------------


@dataclass
class Staff:
    base: str
    email: str
    http: httpx.Client = field(init=False)
    csrf: str = ""

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base, timeout=30.0, follow_redirects=False)

    def login(self, next_path: str = "") -> Staff:
        page = self.http.get("/console/accesso")
        token = _TOKEN.search(page.text)
        assert token, page.text
        response = self.http.post(
            "/console/accesso",
            data={
                "email": self.email,
                "password": PASSWORD,
                "csrf_token": token.group(1),
                "next": next_path,
            },
        )
        assert response.status_code == 303, response.text
        home = self.http.get("/console/")
        found = _TOKEN.search(home.text)
        assert found
        self.csrf = found.group(1)
        return self


def make_staff(gateway: RunningGateway, role: Role, provider_code: str | None = None) -> Staff:
    email = f"{role.value}-{uuid.uuid4().hex[:6]}@comune.example.it"
    with session_scope(gateway.engine) as session:
        create_staff(
            session,
            email=email,
            full_name="Persona di prova",
            roles=(role,),
            password=PASSWORD,
            provider_code=provider_code,
        )
    return Staff(gateway.url, email)


def citizen_id_of(gateway: RunningGateway, conversation: str) -> int:
    with Session(gateway.engine) as session:
        citizen = citizen_for_conversation(session, conversation_id=conversation)
        assert citizen is not None and citizen.id is not None
        return citizen.id


def totals(gateway: RunningGateway, citizen_id: int) -> tuple[int, int, int]:
    """(balance, held, available) over the citizen's budgets, in cents."""
    with Session(gateway.engine) as session:
        rows = balances(session, citizen_id=citizen_id, now=utcnow())
    return (
        sum(r.balance_cents for r in rows),
        sum(r.held_cents for r in rows),
        sum(r.available_cents for r in rows),
    )


def entries(gateway: RunningGateway, **where: Any) -> list[LedgerEntry]:
    with Session(gateway.engine) as session:
        query = select(LedgerEntry).order_by(col(LedgerEntry.id))
        for name, value in where.items():
            query = query.where(getattr(LedgerEntry, name) == value)
        return list(session.exec(query).all())


# --- (a) pay, redeem, cancel -------------------------------------------------------------------


def _open_a_payable_service(chat: Chat) -> list[Call]:
    """Search, answer the questions, open results' details until one offers the budget."""
    replies = chat.say("cerco un doposcuola a San Frediano per mio figlio di 8 anni")
    for _ in range(4):
        if any(t.startswith("Dettagli") for t in buttons(replies)):
            break
        skip = next((t for t in buttons(replies) if t.startswith(SKIP_WORDS)), None)
        replies = chat.tap(skip) if skip else chat.say("non importa")
    titles = [t for t in buttons(replies) if t.startswith("Dettagli")]
    assert titles, text_of(replies)
    for title in titles:
        details = chat.tap(title)
        if "Paga con il budget welfare" in buttons(details):
            return details
    raise AssertionError("no budget-payable service among the results")


def test_pay_redeem_and_cancel_with_the_budget(
    e2e_gateway: RunningGateway, fake_telegram: FakeTelegram, rasa_stack: RasaStack
) -> None:
    chat = Chat(fake_telegram, CHAT_PAY)
    accept_consent(fake_telegram, CHAT_PAY)
    link(chat, rasa_stack, "CIT-7F3K9Q")  # Giulia: public budget and employer welfare
    conversation = conversation_id(e2e_gateway, CHAT_PAY)
    citizen = citizen_id_of(e2e_gateway, conversation)
    balance0, held0, available0 = totals(e2e_gateway, citizen)

    _open_a_payable_service(chat)
    quote = chat.tap("Paga con il budget welfare")
    text = text_of(quote)
    assert "Prezzo:" in text and ("coperto interamente" in text or "Il tuo budget copre" in text)
    assert {"Conferma e paga", "No"} <= set(buttons(quote)), text

    # a double tap: two callback queries, one charge
    mark = len(fake_telegram.calls())
    fake_telegram.press(CHAT_PAY, "Conferma e paga")
    fake_telegram.press(CHAT_PAY, "Conferma e paga")
    chat.wait_text("una volta sola", mark, timeout=60)
    calls = chat._replies(mark)
    assert text_of(calls).count("Ecco il tuo voucher") == 2
    with Session(e2e_gateway.engine) as session:
        (voucher,) = session.exec(
            select(Voucher).where(Voucher.conversation_id == conversation)
        ).all()
    assert voucher.status == VoucherStatus.issued
    assert f"{voucher.code[:4]}-{voucher.code[4:]}" in text_of(calls)
    holds = entries(e2e_gateway, hold_ref=voucher.hold_ref, kind=EntryKind.hold)
    assert sum(e.held_cents for e in holds) == voucher.covered_cents > 0
    assert totals(e2e_gateway, citizen) == (
        balance0,
        held0 + voucher.covered_cents,
        available0 - voucher.covered_cents,
    )

    # the QR photo: served by the gateway while unused; it encodes the redemption page
    photos = [c for c in calls if c.method == "sendPhoto"]
    assert photos, "no QR photo"
    source = str(photos[0].result.get("photo_source") or photos[0].params.get("photo"))
    qr_path = urlsplit(source).path
    assert qr_path.startswith("/welfare/qr/") and voucher.code not in qr_path
    image = httpx.get(e2e_gateway.url + qr_path, timeout=10)
    gateway_settings = e2e_gateway.app.state.welfare_settings  # the gateway's own settings
    assert gateway_settings is not None
    assert image.status_code == 200
    assert image.content == voucher_qr_png(voucher.code, gateway_settings)

    # provider staff scan it: the console page with the code filled in, then «Riscatta»
    staff = make_staff(e2e_gateway, Role.provider_staff, provider_code=voucher.provider_code)
    page_path = f"/console/voucher?codice={voucher.code}"
    staff.login(next_path=page_path)
    page = staff.http.get(page_path)
    assert page.status_code == 200 and f"{voucher.code[:4]}-{voucher.code[4:]}" in page.text
    redeemed = staff.http.post(
        "/console/voucher",
        data={"code": f"{voucher.code[:4]}-{voucher.code[4:]}", "csrf_token": staff.csrf},
    )
    assert redeemed.status_code == 200 and "Voucher riscattato" in redeemed.text
    captures = entries(e2e_gateway, hold_ref=voucher.hold_ref, kind=EntryKind.capture)
    assert [(c.amount_cents, c.held_cents) for c in captures] == [
        (-voucher.covered_cents, -voucher.covered_cents)
    ]
    again = staff.http.post(
        "/console/voucher/api/riscatta",
        json={"code": voucher.code},
        headers={"X-CSRF-Token": staff.csrf},
    )
    assert again.status_code == 409 and "già stato usato" in again.json()["detail"]
    assert httpx.get(e2e_gateway.url + qr_path, timeout=10).status_code == 404  # used

    # a second voucher, cancelled in chat before it is used: the hold is released
    quote = chat.tap("Paga con il budget welfare")
    assert "Conferma e paga" in buttons(quote)
    second_calls = chat.tap("Conferma e paga")
    assert "Ecco il tuo voucher" in text_of(second_calls)
    with Session(e2e_gateway.engine) as session:
        second = session.exec(
            select(Voucher).where(Voucher.conversation_id == conversation, Voucher.id != voucher.id)
        ).one()
    asked = chat.tap("Annulla il voucher")  # «Sei sicuro?» first (issue 12)
    assert "Vuoi annullare il voucher" in text_of(asked), text_of(asked)
    assert not entries(e2e_gateway, hold_ref=second.hold_ref, kind=EntryKind.release)
    cancelled = chat.tap("Sì, annulla voucher")
    assert "annullato" in text_of(cancelled)
    releases = entries(e2e_gateway, hold_ref=second.hold_ref, kind=EntryKind.release)
    assert sum(r.held_cents for r in releases) == -second.covered_cents
    with Session(e2e_gateway.engine) as session:
        assert session.get(Voucher, second.id).status == VoucherStatus.cancelled  # type: ignore[union-attr]
        assert session.get(Voucher, voucher.id).status == VoucherStatus.redeemed  # type: ignore[union-attr]

    # in the end only the redeemed voucher is spent
    assert totals(e2e_gateway, citizen) == (
        balance0 - voucher.covered_cents,
        held0,
        available0 - voucher.covered_cents,
    )


# --- (b) reimbursement ---------------------------------------------------------------------------


def test_reimbursement_request_review_and_status(
    e2e_gateway: RunningGateway, fake_telegram: FakeTelegram, rasa_stack: RasaStack
) -> None:
    chat = Chat(fake_telegram, CHAT_REFUND)
    accept_consent(fake_telegram, CHAT_REFUND)
    link(chat, rasa_stack, "CIT-T9DN3W")  # Tommaso: the public budget (childcare allowed)
    conversation = conversation_id(e2e_gateway, CHAT_REFUND)
    citizen = citizen_id_of(e2e_gateway, conversation)
    balance0, held0, available0 = totals(e2e_gateway, citizen)

    # the receipt first: kept, then one question at a time
    replies = chat.photo(JPEG)
    assert "ho salvato la ricevuta" in text_of(replies)
    assert "Quanto hai pagato?" in text_of(replies)
    replies = chat.say("non lo so")
    assert "Non ho capito l'importo" in text_of(replies)  # politely, and asked again
    assert "Quanto hai pagato?" in text_of(replies)
    assert "In che giorno" in text_of(chat.say("45 euro"))
    assert "A chi hai pagato" in text_of(chat.say("ieri"))
    replies = chat.say("coop la mongolfiera")
    assert "Per chi era la spesa?" in text_of(replies)
    summary = chat.tap("Per mio figlio o mia figlia")
    text = text_of(summary)
    for part in ("45,00 €", "Cooperativa Sociale La Mongolfiera", "figlio o figlia", "foto"):
        assert part in text, text
    assert {"Conferma", "Annulla"} <= set(buttons(summary))

    # a double tap on «Conferma»: one request, one number
    mark = len(fake_telegram.calls())
    fake_telegram.press(CHAT_REFUND, "Conferma")
    fake_telegram.press(CHAT_REFUND, "Conferma")
    chat.wait_text("Hai già inviato questa richiesta", mark, timeout=60)
    with Session(e2e_gateway.engine) as session:
        (request,) = session.exec(
            select(Reimbursement).where(Reimbursement.conversation_id == conversation)
        ).all()
    told = text_of(chat._replies(mark))
    assert told.count(request.number) == 2 and "Ho inviato" in told
    assert request.amount_cents == 4500 and request.category == "childcare"
    assert request.attachment_id is not None and request.status == ReimbursementStatus.submitted

    # a welfare officer sees the receipt and approves 30,00 € of the 45,00 €
    officer = make_staff(e2e_gateway, Role.welfare_officer).login()
    page = officer.http.get(f"/console/rimborsi/{request.id}")
    assert page.status_code == 200 and request.number in page.text
    receipt = officer.http.get(f"/console/rimborsi/{request.id}/ricevuta")
    assert receipt.status_code == 200 and receipt.content == JPEG
    token = _TOKEN.search(page.text)
    assert token
    mark = len(fake_telegram.calls())
    refused = officer.http.post(f"/console/rimborsi/{request.id}/approva", data={"amount": "30"})
    assert refused.status_code == 403  # no CSRF token
    approved = officer.http.post(
        f"/console/rimborsi/{request.id}/approva",
        data={"amount": "30,00", "csrf_token": token.group(1)},
    )
    assert approved.status_code == 303, approved.text

    # the citizen is told on Telegram
    notice = chat.wait_text(request.number, mark, timeout=30)
    assert "approvata" in notice.params["text"] and "30,00 €" in notice.params["text"]

    # «Le mie richieste»: request_status shows the outcome
    status = chat.tap("Le mie richieste")
    assert request.number in text_of(status)
    assert "approvata" in text_of(status) and "30,00 € rimborsati" in text_of(status)

    # the ledger: one reimbursement entry of 30,00 €
    refunds = [
        e
        for e in entries(e2e_gateway, kind=EntryKind.reimbursement)
        if e.memo == f"Rimborso {request.number}"
    ]
    assert sum(e.amount_cents for e in refunds) == -3000
    assert totals(e2e_gateway, citizen) == (balance0 - 3000, held0, available0 - 3000)
    with Session(e2e_gateway.engine) as session:
        assert session.get(Citizen, citizen) is not None
        assert session.exec(
            select(Conversation).where(Conversation.conversation_id == conversation)
        ).one()


def test_reimbursement_words_first_annulla_and_an_emergency(
    e2e_gateway: RunningGateway, fake_telegram: FakeTelegram, rasa_stack: RasaStack
) -> None:
    chat = Chat(fake_telegram, CHAT_REFUND + 1)
    accept_consent(fake_telegram, chat.chat_id)

    # not linked yet: how to link, and the linking code is asked
    replies = chat.say("voglio il rimborso della retta del nido")
    assert "collegare questa chat" in text_of(replies), text_of(replies)
    assert "codice" in text_of(replies).lower()
    chat.say("no")
    link(chat, rasa_stack, "CIT-L8ZM2E")
    conversation = conversation_id(e2e_gateway, chat.chat_id)

    # words first: the receipt is asked for; words again are not a receipt
    assert "foto" in text_of(chat.say("voglio il rimborso della retta del nido"))
    replies = chat.say("ce l'ho a casa")
    assert "mi serve la ricevuta" in text_of(replies)
    assert "Quanto hai pagato?" in text_of(chat.photo(JPEG))
    assert "In che giorno" in text_of(chat.say("€ 12,50"))

    # «annulla» stops it: nothing is sent
    assert "ho annullato" in text_of(chat.say("annulla"))
    with Session(e2e_gateway.engine) as session:
        assert not session.exec(
            select(Reimbursement).where(Reimbursement.conversation_id == conversation)
        ).all()

    # an emergency in the middle of the questions is answered as one, at once
    assert "foto" in text_of(chat.say("vorrei chiedere un rimborso"))
    replies = chat.say("mio marito mi picchia, ho paura")
    assert "112" in text_of(replies) and "1522" in text_of(replies)
