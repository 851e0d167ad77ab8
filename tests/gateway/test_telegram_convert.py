"""bot.channels.telegram.convert: every update kind -> an Inbound (or nothing), no crash."""

from __future__ import annotations

from telegram import Update

from bot.channels.telegram.convert import inbound_from_update
from conversations.models import Kind
from tests.fakes.fake_telegram import FakeTelegram

CHAT = 555001


def _convert(build: object) -> tuple[object, ...]:
    fake = FakeTelegram()
    build(fake)  # type: ignore[operator]
    update = Update.de_json(fake.state.history[-1], None)
    inbound = inbound_from_update(update, bot_id=1, bot_username="WelcomeTestBot")
    return (inbound,)


def test_text_and_commands() -> None:
    (text,) = _convert(lambda f: f.send_text(CHAT, "ciao\x00 a tutti"))
    assert text.kind == Kind.text and text.text == "ciao a tutti"
    assert text.chat_key == str(CHAT) and text.dedupe_key.startswith("tg:1:")
    assert text.dedupe_key.count(":") == 3  # bot, update id, message time
    (command,) = _convert(lambda f: f.send_text(CHAT, "/aiuto@WelcomeTestBot"))
    assert command.kind == Kind.command and command.payload == "aiuto"


def test_location_photo_document() -> None:
    (location,) = _convert(lambda f: f.send_location(CHAT, 43.79, 11.25))
    assert location.kind == Kind.location and location.data["location"] == {
        "lat": 43.79,
        "lon": 11.25,
    }
    (photo,) = _convert(
        lambda f: f.send_photo(CHAT, b"\xff\xd8\xff" + b"x" * 500, caption="ricevuta")
    )
    assert photo.kind == Kind.attachment and photo.text == "ricevuta"
    assert photo.data["file"]["size"] == 503  # the largest size, not the thumbnail
    (document,) = _convert(lambda f: f.send_document(CHAT, b"%PDF-1.4", "application/pdf", "f.pdf"))
    assert document.kind == Kind.attachment and document.data["file"]["type"] == "document"
    assert "f.pdf" not in str(document.data)  # the original name is not kept


def test_voice_sticker_edited_group_channel() -> None:
    (voice,) = _convert(lambda f: f.send_voice(CHAT))
    assert voice.kind == Kind.unsupported and voice.data["voice"]
    (sticker,) = _convert(lambda f: f.send_sticker(CHAT))
    assert sticker.kind == Kind.unsupported and sticker.data["media"] == "sticker"
    (edited,) = _convert(lambda f: f.edit_text(CHAT, "testo corretto"))
    assert edited.kind == Kind.edited and edited.text == "testo corretto"
    (group,) = _convert(lambda f: f.send_text(-100200, "ciao @WelcomeTestBot"))
    assert group.kind == Kind.group and group.is_group and group.data["addressed"]
    (chatter,) = _convert(lambda f: f.send_text(-100200, "ci vediamo stasera"))
    assert not chatter.data["addressed"]
    (post,) = _convert(lambda f: f.channel_post(-1001234, "notizia"))
    assert post is None


def test_button_taps() -> None:
    (tap,) = _convert(lambda f: f.press_button(CHAT, 77, "b:12:0"))
    assert tap.kind == Kind.button and tap.payload == "b:12:0"
    assert tap.data["origin_message_id"] == 77 and tap.data["callback_query_id"]


def test_a_reused_update_id_is_not_taken_for_a_duplicate() -> None:
    fake = FakeTelegram()
    fake.send_text(CHAT, "prima")
    first = dict(fake.state.history[-1])
    later = {**first, "message": {**first["message"], "date": first["message"]["date"] + 8 * 86400}}
    keys = {
        inbound_from_update(Update.de_json(u, None), bot_id=1).dedupe_key  # type: ignore[union-attr]
        for u in (first, dict(first), later)
    }
    assert len(keys) == 2  # a redelivery matches, a new message with an old id does not
