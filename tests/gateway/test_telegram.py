"""Telegram end to end against the fake Bot API: the real gateway (uvicorn, PTB, polling)."""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Callable

import pytest
from sqlmodel import Session, select

from bot import wording
from care.models import ConversationFlag
from conversations import repository as repo
from conversations.models import Attachment, Author, Direction, Mode, Status
from tests.fakes.fake_rasa import FakeRasa
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import RunningGateway, accept_consent
from tests.raw_http import declared_body

CHAT = 555001
JPEG = b"\xff\xd8\xff\xe0" + os.urandom(3000)


def _conversation(gateway: RunningGateway, chat: int = CHAT):
    return gateway.wait_until(
        lambda: next((c for c in gateway.conversations() if c.chat_key == str(chat)), None),
        what="the conversation",
    )


def test_commands_are_registered_in_italian(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram
) -> None:
    call, english = fake_telegram.calls("setMyCommands")
    commands = {c["command"]: c["description"] for c in call.params["commands"]}
    assert set(commands) == {
        "start",
        "aiuto",
        "operatore",
        "saldo",
        "avvisi",
        "stop_avvisi",
        "dati",
        "lingua",
    }
    assert commands["operatore"] == "Parla con una persona"
    assert "language_code" not in call.params
    # the same menu, described in English, for users whose Telegram is in English
    assert english.params["language_code"] == "en"
    described = {c["command"]: c["description"] for c in english.params["commands"]}
    assert set(described) == set(commands)
    assert described["operatore"] == "Talk to a person"


def test_first_contact_shows_the_notice_and_nothing_reaches_rasa_before_consent(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    fake_telegram.send_text(CHAT, "cerco un doposcuola")
    notice = fake_telegram.wait_sent(CHAT, "Chi li tiene")
    titles = [b["text"] for row in notice.params["reply_markup"]["inline_keyboard"] for b in row]
    assert titles == ["Accetto", "Non accetto", "🌐 Lingua"]
    fake_telegram.send_text(CHAT, "allora?")
    fake_telegram.wait_sent(CHAT, wording.CONSENT_REMINDER)
    assert fake_rasa.requests == []
    conversation = _conversation(telegram_gateway)
    assert conversation.consent_at is None

    mark = len(fake_telegram.calls())
    fake_telegram.press(CHAT, "Accetto")
    fake_telegram.wait_sent(CHAT, "Grazie", after=mark)
    assert fake_telegram.calls("answerCallbackQuery")
    conversation = _conversation(telegram_gateway)
    assert conversation.consent_at is not None and conversation.consent_at.tzinfo is not None
    assert conversation.consent_version == "2026-11"

    fake_telegram.send_text(CHAT, "cerco un doposcuola")
    fake_telegram.wait_sent(CHAT, "Ho trovato")
    assert fake_rasa.messages() == ["cerco un doposcuola"]
    request = fake_rasa.requests[0]
    assert request["sender"] == conversation.conversation_id
    assert str(CHAT) not in str(request)  # Rasa never sees the chat id


def test_declining_consent(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    fake_telegram.send_text(CHAT, "/start")
    fake_telegram.wait_sent(CHAT, "Accetto")
    fake_telegram.press(CHAT, "Non accetto")
    fake_telegram.wait_sent(CHAT, "senza il tuo consenso")
    assert _conversation(telegram_gateway).consent_declined_at is not None
    assert fake_rasa.requests == []


def test_search_with_buttons_and_paging_by_editing(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    accept_consent(fake_telegram, CHAT)
    assert fake_telegram.calls("sendChatAction") == []  # quick answers need no "typing..."
    fake_rasa.delay = 1.2  # a slow answer: "typing..." while waiting
    fake_telegram.send_text(CHAT, "cerco un doposcuola a Rifredi")
    page_one = fake_telegram.wait_sent(CHAT, "Ho trovato")
    fake_rasa.delay = 0.0
    first_id = page_one.result["message_id"]
    keyboard = page_one.params["reply_markup"]["inline_keyboard"]
    data = [b["callback_data"] for row in keyboard for b in row]
    assert all(len(d.encode()) <= 64 and d.startswith("b:") for d in data)
    (typing,) = fake_telegram.calls("sendChatAction")
    assert typing.params == {"chat_id": CHAT, "action": "typing"} and typing.at < page_one.at

    fake_telegram.press(CHAT, "Altri risultati")
    edit = fake_telegram.wait_for(lambda c: c.method == "editMessageText" and c.status == 200)
    assert edit.params["message_id"] == first_id
    assert fake_rasa.messages()[-1] == "/more_results"  # the payload, resolved server-side
    shown = {m["message_id"]: m for m in fake_telegram.chat_messages(CHAT)}
    assert shown[first_id]["text"].startswith("Altri risultati (3-4 di 4)")

    mark = len(fake_telegram.calls())
    fake_telegram.press(CHAT, "Dettagli 3")
    fake_telegram.wait_sent(CHAT, "Doposcuola:", after=mark)
    assert fake_rasa.messages()[-1] == '/service_details{"service_code":"SRV-0003"}'


def test_unknown_callback_data_gets_a_polite_answer(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    accept_consent(fake_telegram, CHAT)
    before = len(fake_telegram.calls("answerCallbackQuery"))
    for data in ("b:999999:0", "garbage", "/greet"):
        fake_telegram.press_button(CHAT, 1, data)
    call = fake_telegram.wait_sent(CHAT, wording.UNKNOWN_BUTTON)
    assert call.status == 200
    telegram_gateway.wait_until(
        lambda: len(fake_telegram.calls("answerCallbackQuery")) >= before + 3
    )
    assert "/greet" not in fake_rasa.messages()


def test_location_share_reaches_rasa_as_metadata(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    accept_consent(fake_telegram, CHAT)
    fake_telegram.send_location(CHAT, 43.7989, 11.2270)
    fake_telegram.wait_sent(CHAT, "Welcome Point più vicini")
    request = fake_rasa.requests[-1]
    assert request["message"] == "/find_welcome_point"
    assert request["metadata"]["location"] == {"lat": 43.7989, "lon": 11.2270}
    assert request["metadata"]["channel"] == "telegram"


def test_location_request_shows_the_share_button(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram
) -> None:
    accept_consent(fake_telegram, CHAT)
    fake_telegram.send_text(CHAT, "/start")  # after consent: Rasa's greeting
    fake_telegram.wait_sent(CHAT, "Ciao!")
    fake_telegram.send_text(CHAT, "dove sei welcome point")
    fake_telegram.wait_sent(CHAT, "Hai scritto")


def test_photos_and_documents_are_kept_safely(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram, fake_rasa: FakeRasa, tmp_path
) -> None:
    accept_consent(fake_telegram, CHAT)
    fake_telegram.send_photo(CHAT, JPEG)
    fake_telegram.wait_sent(CHAT, "ricevuto la ricevuta")
    request = fake_rasa.requests[-1]
    assert request["message"] == "/request_reimbursement"
    attachment_info = request["metadata"]["attachment"]
    assert attachment_info["mime_type"] == "image/jpeg" and attachment_info["size_bytes"] == len(
        JPEG
    )
    with Session(telegram_gateway.engine) as session:
        (attachment,) = session.exec(select(Attachment)).all()
    path = tmp_path / "var" / "uploads" / attachment.path
    assert path.read_bytes() == JPEG
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "file_" not in attachment.path and path.suffix == ".jpg"

    mark = len(fake_telegram.calls())
    fake_telegram.send_document(
        CHAT, b"MZ\x90\x00" + b"\x00" * 100, "application/pdf", "fattura.pdf"
    )
    fake_telegram.wait_sent(CHAT, "solo foto", after=mark)
    mark = len(fake_telegram.calls())
    fake_telegram.send_photo(CHAT, b"\xff\xd8\xff" + b"\x00" * 300_000)
    fake_telegram.wait_sent(CHAT, "troppo grande", after=mark)
    mark = len(fake_telegram.calls())
    fake_telegram.send_document(
        CHAT, b"%PDF-1.4\n...", "application/pdf", "ricevuta.pdf", caption="rimborso nido"
    )
    fake_telegram.wait_sent(CHAT, "ricevuto", after=mark)
    assert fake_rasa.requests[-1]["message"] == "/request_reimbursement"
    assert fake_rasa.requests[-1]["metadata"]["caption"] == "rimborso nido"


def test_voice_sticker_edits_groups_and_channels_never_crash(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    accept_consent(fake_telegram, CHAT)
    fake_telegram.send_voice(CHAT)
    fake_telegram.wait_sent(CHAT, "messaggi vocali")
    fake_telegram.send_sticker(CHAT)
    fake_telegram.wait_sent(CHAT, "questo tipo di messaggio")
    fake_telegram.edit_text(CHAT, "testo corretto")
    fake_telegram.wait_sent(CHAT, "modificato un messaggio")
    fake_telegram.send_text(-100200, "/aiuto@WelcomeTestBot")
    fake_telegram.wait_sent(-100200, "chat privata")
    fake_telegram.send_text(-100200, "chiacchiere tra vicini")
    fake_telegram.channel_post(-1001234, "notizia del giorno")
    fake_telegram.send_text(CHAT, "ancora qui")
    fake_telegram.wait_sent(CHAT, "Hai scritto: ancora qui")
    assert len(fake_telegram.calls("sendMessage", chat_id=-100200)) == 1
    assert fake_telegram.calls(chat_id=-1001234) == []
    assert fake_rasa.messages() == ["ancora qui"]


def test_bad_input(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    accept_consent(fake_telegram, CHAT)
    fake_telegram.send_text(CHAT, "\x00\x07 \u200b")
    fake_telegram.wait_sent(CHAT, wording.EMPTY_MESSAGE)
    fake_telegram.send_text(CHAT, '/inform{"citizen_id": 7}')
    fake_telegram.wait_sent(CHAT, "Non conosco questo comando")
    long_text = "parola " * 2000  # 14,000 characters
    fake_telegram.send_text(CHAT, long_text)
    fake_telegram.wait_sent(CHAT, "molto lungo")
    fake_telegram.wait_sent(CHAT, "Hai scritto: parola")
    request = fake_rasa.requests[-1]
    assert len(request["message"]) <= 10_000 and request["metadata"]["truncated"] is True
    stored = [m for m in telegram_gateway.messages() if m.direction == Direction.inbound]
    assert any(m.text == long_text.strip() for m in stored)  # kept whole
    assert all(not m["message"].startswith("/inform") for m in fake_rasa.requests)


def test_long_replies_are_split_and_keep_their_buttons_last(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram
) -> None:
    accept_consent(fake_telegram, CHAT)
    mark = len(fake_telegram.calls())
    fake_telegram.send_text(CHAT, "una risposta lungo")
    telegram_gateway.wait_until(
        lambda: (
            len(
                [
                    c
                    for c in fake_telegram.calls("sendMessage", chat_id=CHAT)[mark:]
                    if "parola" in c.params["text"]
                ]
            )
            >= 3
            or len(
                [
                    c
                    for c in fake_telegram.calls()[mark:]
                    if c.method == "sendMessage" and "parola" in c.params["text"]
                ]
            )
            >= 3
        ),
        what="three chunks",
    )
    chunks = [
        c
        for c in fake_telegram.calls()[mark:]
        if c.method == "sendMessage" and "parola" in c.params["text"]
    ]
    assert all(len(c.params["text"]) <= 4096 and c.status == 200 for c in chunks)
    assert " ".join(c.params["text"] for c in chunks).split() == ["parola"] * 1400


@pytest.mark.parametrize(
    ("error_code", "times"),
    [(500, 1), (429, 4)],  # a server error; a 429 outlasting PTB's own three retries
    ids=["500", "429"],
)
def test_a_long_reply_failing_midway_resends_only_the_missing_parts(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram, error_code: int, times: int
) -> None:
    accept_consent(fake_telegram, CHAT)
    mark = len(fake_telegram.calls())
    fake_telegram.fail_next("sendMessage", error_code=error_code, times=times, after=1)
    fake_telegram.send_text(CHAT, "una risposta lungo")

    def parts() -> list:
        return [
            c
            for c in fake_telegram.calls()[mark:]
            if c.method == "sendMessage" and "parola" in c.params.get("text", "")
        ]

    telegram_gateway.wait_until(
        lambda: len([c for c in parts() if c.status == 200]) >= 3,
        timeout=20,
        what="the three parts delivered",
    )
    time.sleep(0.5)  # nothing more may follow
    delivered = [c for c in parts() if c.status == 200]
    refused = [c for c in parts() if c.status != 200]
    assert len(refused) == times and len(delivered) == 3  # the first part went out once
    assert refused[0].params["text"] == delivered[1].params["text"]  # the second part failed
    assert " ".join(c.params["text"] for c in delivered).split() == ["parola"] * 1400
    (reply,) = [m for m in telegram_gateway.messages() if m.text.startswith("parola")]
    assert reply.status == Status.sent and reply.attempts >= 1
    assert reply.data["chunks"] == [c.result["message_id"] for c in delivered]
    assert reply.external_id == str(delivered[-1].result["message_id"])


def test_rate_limits_are_honoured(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram
) -> None:
    accept_consent(fake_telegram, CHAT)
    fake_telegram.fail_next("sendMessage", error_code=429, retry_after=1)
    mark = len(fake_telegram.calls())
    fake_telegram.send_text(CHAT, "ciao")
    sent = fake_telegram.wait_sent(CHAT, "Hai scritto: ciao", after=mark)
    refused = [c for c in fake_telegram.calls("sendMessage")[-5:] if c.status == 429]
    assert refused and sent.at - refused[-1].at >= 1.0


def test_a_blocked_bot_is_recorded_and_nothing_crashes(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram
) -> None:
    accept_consent(fake_telegram, CHAT)
    fake_telegram.block(CHAT)
    fake_telegram.send_text(CHAT, "ciao")
    telegram_gateway.wait_until(
        lambda: _conversation(telegram_gateway).blocked_at is not None, what="blocked"
    )
    failed = [m for m in telegram_gateway.messages() if m.status == Status.failed]
    assert failed and failed[-1].error == "telegram:403"  # channels.telegram.classify
    fake_telegram.unblock(CHAT)
    fake_telegram.send_text(CHAT, "ci sono di nuovo")
    fake_telegram.wait_sent(CHAT, "Hai scritto: ci sono di nuovo")
    assert _conversation(telegram_gateway).blocked_at is None


def test_duplicate_updates_are_handled_once(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    accept_consent(fake_telegram, CHAT)
    update_id = fake_telegram.send_text(CHAT, "una volta sola")
    fake_telegram.wait_sent(CHAT, "Hai scritto: una volta sola")
    fake_telegram.redeliver(update_id)
    fake_telegram.send_text(CHAT, "dopo")
    fake_telegram.wait_sent(CHAT, "Hai scritto: dopo")
    assert fake_rasa.messages().count("una volta sola") == 1


def test_the_offset_moves_only_after_the_update_is_stored(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    accept_consent(fake_telegram, CHAT)
    real = repo.store_inbound
    failures = {"left": 2}

    def flaky(session, *, inbound):  # type: ignore[no-untyped-def]
        if inbound.text == "database giù" and failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("database unavailable")
        return real(session, inbound=inbound)

    monkeypatch.setattr(repo, "store_inbound", flaky)
    update_id = fake_telegram.send_text(CHAT, "database giù")
    fake_telegram.wait_sent(CHAT, "Hai scritto: database giù", timeout=15)
    assert failures["left"] == 0
    assert fake_telegram.state.confirmed_offset <= update_id + 1
    stored = [m for m in telegram_gateway.messages() if m.text == "database giù"]
    assert len(stored) == 1


def test_emergency_before_consent_gets_numbers_and_a_person(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    fake_telegram.send_text(CHAT, "aiuto mio marito mi picchia")
    call = fake_telegram.wait_sent(CHAT, "112")
    assert "1522" in call.params["text"]
    conversation = telegram_gateway.wait_until(
        lambda: (c := _conversation(telegram_gateway)) and c.mode == Mode.human and c,
        what="human mode",
    )
    with Session(telegram_gateway.engine) as session:
        flags = session.exec(select(ConversationFlag)).all()
    assert [(f.kind, f.priority, f.conversation_id) for f in flags] == [
        ("emergency", "top", conversation.conversation_id)
    ]
    assert "violence" in flags[0].reason or flags[0].reason.startswith("safety_net:")
    assert conversation.consent_at is None and fake_rasa.requests == []


def test_human_mode_keeps_messages_for_the_console_and_the_safety_net_still_runs(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    accept_consent(fake_telegram, CHAT)
    fake_telegram.send_text(CHAT, "/operatore")
    fake_telegram.wait_sent(CHAT, "ti metto in contatto")
    assert fake_rasa.messages() == ["/human_handoff"]
    telegram_gateway.wait_until(
        lambda: _conversation(telegram_gateway).mode == Mode.human, what="human"
    )
    fake_telegram.send_text(CHAT, "sono ancora qui")
    telegram_gateway.wait_until(
        lambda: any(
            m.text == "sono ancora qui" and m.status == Status.processed
            for m in telegram_gateway.messages()
        ),
        what="stored for the console",
    )
    assert fake_rasa.messages() == ["/human_handoff"]
    stored = next(m for m in telegram_gateway.messages() if m.text == "sono ancora qui")
    assert stored.data["route"] == "human"
    fake_telegram.send_text(CHAT, "voglio farla finita")
    fake_telegram.wait_sent(CHAT, "112")


def test_rasa_down_then_up(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    accept_consent(fake_telegram, CHAT)
    fake_rasa.stop()
    fake_telegram.send_text(CHAT, "prima domanda")
    fake_telegram.send_text(CHAT, "seconda domanda")
    fake_telegram.wait_sent(CHAT, "momentaneamente non disponibile")
    telegram_gateway.wait_until(
        lambda: sum(m.status == Status.pending for m in telegram_gateway.messages()) == 2,
        what="pending",
    )
    time.sleep(1.0)  # the outbox keeps retrying while Rasa is down
    fake_rasa.start()
    fake_telegram.wait_sent(CHAT, "Hai scritto: seconda domanda", timeout=15)
    assert fake_rasa.messages() == ["prima domanda", "seconda domanda"]  # in order
    notices = [
        c for c in fake_telegram.calls("sendMessage") if "non disponibile" in c.params["text"]
    ]
    assert len(notices) == 2  # one per message, never repeated on retries
    inbound = [
        m
        for m in telegram_gateway.messages()
        if m.direction == Direction.inbound and m.text.endswith("domanda")
    ]
    assert all(m.status == Status.processed and m.attempts >= 1 for m in inbound)


def test_asking_for_a_person_while_rasa_is_down(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    accept_consent(fake_telegram, CHAT)
    fake_rasa.stop()
    fake_telegram.send_text(CHAT, "/operatore")
    fake_telegram.wait_sent(CHAT, wording.HUMAN_MODE_RECEIVED)
    assert _conversation(telegram_gateway).mode == Mode.human


def test_every_message_is_stored_with_its_replies(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram
) -> None:
    accept_consent(fake_telegram, CHAT)
    fake_telegram.send_text(CHAT, "ciao")
    fake_telegram.wait_sent(CHAT, "Hai scritto: ciao")
    conversation = _conversation(telegram_gateway)
    telegram_gateway.wait_until(
        lambda: telegram_gateway.messages(conversation.conversation_id)[-1].status == Status.sent
    )
    history = telegram_gateway.messages(conversation.conversation_id)
    kinds = [(m.direction, m.author, m.status) for m in history]
    assert kinds[-2:] == [
        (Direction.inbound, Author.citizen, Status.processed),
        (Direction.outbound, Author.bot, Status.sent),
    ]
    assert history[-1].reply_to_id == history[-2].id and history[-1].external_id


@pytest.fixture
def webhook_gateway(
    start_gateway: Callable[..., RunningGateway], fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> RunningGateway:
    running = start_gateway(
        telegram_bot_token=fake_telegram.token,
        telegram_api_base_url=fake_telegram.base_url,
        telegram_webhook_url="http://127.0.0.1:1/telegram/webhook",  # replaced below
        telegram_webhook_secret="s3cret-token_1",
        rasa_url=fake_rasa.url,
    )
    fake_telegram.wait_for(lambda c: c.method == "setWebhook", what="setWebhook")
    running.wait_until(lambda: running.app.state.telegram is not None, what="telegram ready")
    fake_telegram.state.webhook = {
        "url": running.url + "/telegram/webhook",
        "secret_token": "s3cret-token_1",
    }
    return running


def test_the_webhook_secret_is_checked_before_the_body_is_read(
    webhook_gateway: RunningGateway, fake_telegram: FakeTelegram
) -> None:
    size = 100_000  # under HTTP_MAX_BODY_BYTES: only the secret check can refuse it unread
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
        with declared_body(
            webhook_gateway.url, "/telegram/webhook", size=size, headers=headers
        ) as call:
            assert call.status_before_body() == 403
    # the control: with the secret the gateway waits for the body, then reads it
    update = {
        "update_id": 424242,
        "message": {
            "message_id": 9,
            "date": 0,
            "text": "ciao",
            "chat": {"id": 778, "type": "private"},
        },
    }
    body = json.dumps(update).encode()
    headers = {
        "X-Telegram-Bot-Api-Secret-Token": "s3cret-token_1",
        "Content-Type": "application/json",
    }
    with declared_body(
        webhook_gateway.url, "/telegram/webhook", size=len(body), headers=headers
    ) as call:
        assert call.status_before_body(wait=1.0) is None
        assert call.send_body(body) == 200


def test_webhook_mode_checks_the_secret_token(
    webhook_gateway: RunningGateway, fake_telegram: FakeTelegram, fake_rasa: FakeRasa
) -> None:
    (call,) = fake_telegram.calls("setWebhook")
    assert call.params["secret_token"] == "s3cret-token_1"
    assert fake_telegram.poll_count == 0  # no polling in webhook mode
    update_id = fake_telegram.send_text(CHAT, "/start")
    fake_telegram.wait_sent(CHAT, "Accetto")
    assert fake_telegram.state.webhook_responses[-1] == 200

    with webhook_gateway.client() as client:
        body = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "text": "ciao",
                "chat": {"id": 777, "type": "private"},
            },
        }
        for headers in (
            {},
            {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
            {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token_2"},
        ):
            assert client.post("/telegram/webhook", json=body, headers=headers).status_code == 403
        good = {
            "X-Telegram-Bot-Api-Secret-Token": "s3cret-token_1",
            "Content-Type": "application/json",
        }
        assert (
            client.post("/telegram/webhook", content=b"{not json", headers=good).status_code == 400
        )
    assert not any(c.chat_key == "777" for c in webhook_gateway.conversations())

    fake_telegram.redeliver(update_id)
    fake_telegram.send_text(CHAT, "accetto")
    fake_telegram.wait_sent(CHAT, "Grazie")
    notices = [c for c in fake_telegram.calls("sendMessage") if "Chi li tiene" in c.params["text"]]
    assert len(notices) == 1
