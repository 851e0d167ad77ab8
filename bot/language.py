"""The language switch, the same on every channel (docs/languages.md).

A citizen asks for it with `/lingua` (Telegram's menu, or typed anywhere), with a word typed
alone («lingua», "language"), or with the 🌐 button under the privacy notice: the gateway
answers with one button per language. A language's own words typed alone («english»,
«italiano»), `/lingua en`, the web chat's control (which sends `/lingua en`) or a tapped
button choose it at once. Nothing else a citizen writes is read here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.commands import ALIASES
from conversations.models import Conversation, Kind, Message
from conversations.outgoing import Button, Outgoing
from core.i18n import gettext, languages

COMMAND = "lingua"
PAYLOAD_PREFIX = "gw:lang:"
ASK_PAYLOAD = "gw:lang"

CHOOSE_LANGUAGE = "In che lingua vuoi che ti scriva? Tocca una lingua."
CHOSEN = {
    # the reply to a choice, in the language chosen (each is a msgid of the catalogues)
    "it": "Va bene, da ora ti scrivo in italiano. Per cambiare lingua scrivi /lingua.",
    "en": "Va bene, da ora ti scrivo in inglese. Per cambiare lingua scrivi /lingua.",
}
SERVICES_IN_ITALIAN = (
    "I nomi e le descrizioni dei servizi restano in italiano. "
    "Per parlare con una persona scrivi /operatore."
)
SWITCH_BUTTON = "🌐 Lingua"


@dataclass(frozen=True)
class Request:
    """What a message asks of the switch: the choice (``language`` None) or a language."""

    language: str | None


def _words(text: str) -> str:
    return " ".join(text.lower().replace(",", " ").replace(".", " ").replace("!", " ").split())


def request_of(message: Message) -> Request | None:
    """The switch request this message makes, if any."""
    config = languages()
    payload = message.payload or ""
    if payload == ASK_PAYLOAD:
        return Request(None)
    if payload.startswith(PAYLOAD_PREFIX):
        code = payload.removeprefix(PAYLOAD_PREFIX)
        return Request(code if code in config.codes else None)
    if message.kind == Kind.command and ALIASES.get(payload, payload) == COMMAND:
        parts = message.text.split()
        argument = parts[1].lower() if len(parts) > 1 else ""
        code = _code_for(argument) if argument else None
        return Request(code)
    if message.kind != Kind.text:
        return None
    words = _words(message.text)
    if words in config.switch_words:
        return Request(None)
    code = _code_for(words)
    return Request(code) if code else None


def _code_for(words: str) -> str | None:
    for language in languages().languages:
        if words == language.code or words in language.words:
            return language.code
    return None


def choice(conversation: Conversation) -> Outgoing:
    """The question with one button per language (each named in its own language)."""
    buttons = [
        Button(language.name, PAYLOAD_PREFIX + language.code) for language in languages().languages
    ]
    return Outgoing(
        text=gettext(conversation.language, CHOOSE_LANGUAGE), buttons=buttons, gateway=True
    )


def chosen(language: str) -> Outgoing:
    """The confirmation, in the language chosen; in another language than Italian, a word on
    the services' own texts, which stay Italian (docs/languages.md)."""
    text = gettext(language, CHOSEN.get(language, CHOSEN["it"]))
    if language != languages().source:
        text = f"{text}\n{gettext(language, SERVICES_IN_ITALIAN)}"
    return Outgoing(text=text, gateway=True)


def switch_button(conversation: Conversation) -> Button:
    """🌐 under the privacy notice: opens the choice before anything else is read."""
    return Button(gettext(conversation.language, SWITCH_BUTTON), ASK_PAYLOAD)


def localized(outgoing: Outgoing, language: str | None) -> Outgoing:
    """The gateway's own words in the conversation's language (the sender calls it on every
    message): the text when it is the gateway's, and any button title the catalogue knows
    (a ✅ in front of a menu's title is kept). Rasa's and staff's texts pass as they are."""
    if language is None or language == languages().source:
        return outgoing
    text = gettext(language, outgoing.text) if outgoing.gateway else outgoing.text
    buttons = [Button(_title(language, b.title), b.payload) for b in outgoing.buttons]
    if text == outgoing.text and buttons == outgoing.buttons:
        return outgoing
    return replace(outgoing, text=text, buttons=buttons)


_CHECK = "✅ "


def _title(language: str, title: str) -> str:
    if title.startswith(_CHECK):
        return _CHECK + gettext(language, title.removeprefix(_CHECK))
    return gettext(language, title)
