"""The hand-off round trip on Telegram against the fake Bot API: /operatore, the staff group
notice, a photo shown in the console, the Care Manager's reply, closing, the CSAT tap."""

from __future__ import annotations

import os

from care import handoff_wording as wording
from conversations.models import Mode
from staff.roles import Role
from tests.fakes.fake_telegram import FakeTelegram
from tests.gateway.conftest import accept_consent
from tests.handoff.conftest import Live, StaffClient, make_care_manager
from tests.handoff.fake_rasa_api import FakeRasaApi

CHAT = 555001
GROUP = -1001234567890
JPEG = b"\xff\xd8\xff\xe0" + os.urandom(2000)


def test_round_trip_on_telegram(
    start_live, fake_telegram: FakeTelegram, fake_rasa: FakeRasaApi, people: list
) -> None:
    live: Live = start_live(
        telegram_bot_token=fake_telegram.token, telegram_api_base_url=fake_telegram.base_url
    )
    fake_telegram.wait_for(lambda c: c.method == "setMyCommands", what="setMyCommands")
    # the alert's settings belong to a Care Manager who is also an admin (issue 13)
    cm = StaffClient(live.url, make_care_manager(live.engine, Role.care_manager, Role.admin))
    cm.login()
    people.append(cm)
    settings = cm.post("/impostazioni", {"chat_id": str(GROUP), "enabled": "1"})
    assert settings.status_code == 303
    assert "Il bot Telegram non è configurato" not in cm.http.get("/console/coda/impostazioni").text

    accept_consent(fake_telegram, CHAT)
    fake_telegram.send_text(CHAT, "/operatore")
    fake_telegram.wait_sent(CHAT, "ti metto in contatto")
    fake_telegram.wait_sent(CHAT, "Care Manager")
    notice = fake_telegram.wait_for(
        lambda c: c.method == "sendMessage" and str(c.params.get("chat_id")) == str(GROUP),
        what="the staff group notice",
    )
    assert "Nuova conversazione in coda" in notice.params["text"]
    assert str(CHAT) not in notice.params["text"]
    (handoff,) = live.wait_until(live.handoffs, what="the hand-off")
    cid = handoff.conversation_id
    live.wait_until(lambda: fake_rasa.events_of(cid) == ["pause"], what="paused")

    fake_telegram.send_photo(CHAT, JPEG, caption="la bolletta")
    message = live.wait_until(
        lambda: next((m for m in live.messages(cid) if m.data.get("attachment")), None),
        what="the stored photo",
    )
    attachment_id = message.data["attachment"]["id"]
    assert cm.claim(handoff.id).status_code == 303
    photo = cm.http.get(f"/console/coda/allegati/{attachment_id}")
    assert photo.status_code == 200 and photo.content == JPEG
    assert photo.headers["content-type"] == "image/jpeg"
    assert "la bolletta" in cm.page(handoff.id).text
    assert fake_rasa.messages() == ["/human_handoff"]  # the photo never went to Rasa

    assert cm.reply(handoff.id, "Ricevuta, grazie: la guardo subito.").status_code == 200
    fake_telegram.wait_sent(CHAT, "la guardo subito")

    mark = len(fake_telegram.calls())
    assert cm.close(handoff.id, outcome="resolved").status_code == 303
    fake_telegram.wait_sent(CHAT, wording.CLOSED[:30], after=mark)
    question = fake_telegram.wait_sent(CHAT, wording.CSAT_QUESTION, after=mark)
    titles = [b["text"] for row in question.params["reply_markup"]["inline_keyboard"] for b in row]
    assert titles == [t for _, t in wording.CSAT_BUTTONS]
    fake_telegram.press(CHAT, "😐 Così così")
    fake_telegram.wait_sent(CHAT, wording.CSAT_THANKS[:20])
    live.wait_until(lambda: live.conversation(cid).mode == Mode.bot, what="back to the bot")
    assert [a.score for a in live.csat()] == [2]
    assert fake_rasa.events_of(cid) == ["pause", "resume"]
    assert fake_rasa.ignored == []
