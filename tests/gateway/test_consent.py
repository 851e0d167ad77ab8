"""bot.consent: the privacy notice and what counts as accepting or declining it."""

from __future__ import annotations

from bot import consent, wording


def test_the_notice_says_who_why_how_long_and_rights() -> None:
    notice = consent.notice()
    for words in ("Chi li tiene", "Perché", "Per quanto tempo", "diritti", "Accetto"):
        assert words in notice.text
    assert [b.payload for b in notice.buttons] == [
        consent.ACCEPT_PAYLOAD,
        consent.DECLINE_PAYLOAD,
        "gw:lang",
    ]
    assert [b.title for b in notice.buttons] == ["Accetto", "Non accetto", "🌐 Lingua"]
    assert consent.notice(reminder=True).text == wording.CONSENT_REMINDER


def test_accepting_by_button_or_by_typing() -> None:
    assert consent.is_accept(payload=consent.ACCEPT_PAYLOAD, text="")
    for typed in ("Accetto", "accetto!", " ACCETTO ", "sì, accetto"):
        assert consent.is_accept(payload=None, text=typed), typed
    for other in ("non accetto", "accetto le condizioni? no", "ciao"):
        assert not consent.is_accept(payload=None, text=other), other


def test_declining() -> None:
    assert consent.is_decline(payload=consent.DECLINE_PAYLOAD, text="")
    assert consent.is_decline(payload=None, text="Non accetto")
    assert not consent.is_decline(payload=None, text="accetto")
