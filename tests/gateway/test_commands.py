"""bot.commands: the command menu and how typed commands are read."""

from __future__ import annotations

from bot.commands import COMMANDS, lookup, parse_command


def test_the_menu_is_italian_and_valid_for_telegram() -> None:
    names = [c.name for c in COMMANDS]
    assert names == [
        "start", "aiuto", "operatore", "saldo", "avvisi", "stop_avvisi", "dati", "lingua",
    ]  # fmt: skip
    for command in COMMANDS:
        assert command.name.islower() and 1 <= len(command.name) <= 32
        assert 3 <= len(command.description) <= 256
        # /lingua is the gateway's own (bot/language.py)
        assert command.rasa_message.startswith("/") or command.name == "lingua"


def test_parse_command() -> None:
    assert parse_command("/aiuto") == "aiuto"
    assert parse_command("/Operatore@WelcomeBot subito") == "operatore"
    assert parse_command("/help") == "aiuto"
    assert parse_command("ciao /aiuto") is None
    assert parse_command("/") is None
    assert lookup("saldo") is not None and lookup("inform") is None
