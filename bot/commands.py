"""The bot's commands (Telegram's menu; typed the same way on every channel)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    name: str
    description: str  # Italian, shown in Telegram's command menu (translated: locale/)
    rasa_message: str  # what Rasa receives (an intent trigger of docs/nlu-contract); "": none


COMMANDS = (
    Command("start", "Inizia a parlare con l'assistente", "/greet"),
    Command("aiuto", "Cosa posso fare per te", "/help"),
    Command("operatore", "Parla con una persona", "/human_handoff"),
    Command("saldo", "Quanto resta del tuo budget welfare", "/check_budget"),
    Command("avvisi", "Ricevi gli avvisi del tuo quartiere", "/subscribe_news"),
    # answered by the gateway itself (broadcast.menu.intercept): every announcement stops
    Command("stop_avvisi", "Non ricevere più avvisi", "/unsubscribe_news"),
    Command("dati", "Ricevi una copia dei tuoi dati", "/request_data_copy"),
    # answered by the gateway itself (bot/language.py): never reaches Rasa
    Command("lingua", "Scegli la lingua (language)", ""),
)
BY_NAME = {command.name: command for command in COMMANDS}

# Aliases some citizens will type.
ALIASES = {"help": "aiuto", "inizio": "start", "umano": "operatore",
           # the English names the English texts give (locale/en)
           "operator": "operatore", "balance": "saldo", "news": "avvisi",
           "stop_news": "stop_avvisi", "data": "dati", "language": "lingua"}  # fmt: skip


def parse_command(text: str) -> str | None:
    """'/aiuto' or '/aiuto@WelcomeBot extra' -> 'aiuto'; anything else -> None."""
    if not text.startswith("/"):
        return None
    head = text[1:].split(maxsplit=1)[0] if len(text) > 1 else ""
    name = head.split("@", 1)[0].lower()
    return ALIASES.get(name, name) if name else None


def lookup(name: str) -> Command | None:
    """The command of a name or of one of its aliases (WhatsApp and the web chat pass the
    name as typed)."""
    return BY_NAME.get(ALIASES.get(name, name))
