"""Generated secrets: one file, VAR_DIR/secrets.env (core.local_secrets).

The pepper of the linking codes used to live in VAR_DIR/secrets/link_code_pepper: an
existing one is moved, never regenerated (a new pepper would invalidate every issued code).
"""

from __future__ import annotations

import hashlib
import hmac
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from console.config import ConsoleConfig
from core import local_secrets
from core.local_secrets import (
    SecretsConflict,
    ensure_secrets,
    read_secrets,
    resolve_secret,
    secrets_path,
)
from core.settings import PROJECT_ROOT, Settings
from welfare.ledger.codes import normalise
from welfare.ledger.linking import hash_code

NAMES = ("RASA_AUTH_TOKEN", "SECRET_KEY", "LINK_CODE_PEPPER", "ACTION_SERVER_TOKEN")


@pytest.fixture(autouse=True)
def _no_secrets_in_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env of the project folder


def legacy_install(var_dir: Path, pepper: str = "ab" * 32) -> str:
    """What scripts/setup.sh and welfare.ledger.linking wrote before: two places."""
    var_dir.mkdir(parents=True, exist_ok=True)
    secrets_path(var_dir).write_text("RASA_AUTH_TOKEN=old-token\nSECRET_KEY=old-key\n")
    (var_dir / "secrets").mkdir()
    (var_dir / "secrets" / "link_code_pepper").write_bytes(pepper.encode())
    return pepper


def test_a_fresh_folder_gets_every_secret_once(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    first = ensure_secrets(var_dir)
    assert set(first) == set(NAMES)
    assert all(len(value) >= 32 for value in first.values())
    assert len(set(first.values())) == len(NAMES)
    assert stat.S_IMODE(secrets_path(var_dir).stat().st_mode) == 0o600
    assert ensure_secrets(var_dir) == first
    assert read_secrets(var_dir) == first
    assert not (var_dir / "secrets").exists()


def test_missing_names_are_appended_and_existing_lines_kept_verbatim(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    original = "# local\nRASA_AUTH_TOKEN=keep-me\nSOMETHING_ELSE='x'\nSECRET_KEY=key"  # no \n
    secrets_path(var_dir).write_text(original)
    values = ensure_secrets(var_dir)
    assert values["RASA_AUTH_TOKEN"] == "keep-me"
    assert values["SECRET_KEY"] == "key"
    text = secrets_path(var_dir).read_text()
    assert text.startswith(original + "\n")
    assert text.count("LINK_CODE_PEPPER=") == 1


def test_an_existing_pepper_is_moved_not_regenerated(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    pepper = legacy_install(var_dir)
    # a code hashed by the old code (HMAC keyed with the file's bytes) before the upgrade
    before = hmac.new(pepper.encode(), normalise("ABCD2345").encode(), hashlib.sha256)

    settings = Settings(var_dir=var_dir)
    assert hash_code("ABCD-2345", settings=settings) == before.hexdigest()

    stored = read_secrets(var_dir)
    assert stored == {
        "RASA_AUTH_TOKEN": "old-token",
        "SECRET_KEY": "old-key",
        "LINK_CODE_PEPPER": pepper,
    }
    assert not (var_dir / "secrets").exists()
    # and after the move, through the settings as every later process reads it
    assert Settings(var_dir=var_dir).link_code_pepper.get_secret_value() == pepper
    assert hash_code("ABCD2345", settings=Settings(var_dir=var_dir)) == before.hexdigest()


def test_the_set_up_command_migrates_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    var_dir = tmp_path / "var"
    pepper = legacy_install(var_dir)
    assert local_secrets.main([str(var_dir)]) == 0
    assert read_secrets(var_dir)["LINK_CODE_PEPPER"] == pepper
    out = capsys.readouterr().out
    assert "LINK_CODE_PEPPER" in out
    assert pepper not in out  # values are never printed
    assert local_secrets.main([str(var_dir)]) == 0
    assert capsys.readouterr().out == ""  # nothing to add the second time


def test_the_set_up_command_leaves_alone_a_secret_set_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINK_CODE_PEPPER", "from-the-environment")
    var_dir = tmp_path / "var"
    local_secrets.main([str(var_dir)])
    assert set(read_secrets(var_dir)) == {"RASA_AUTH_TOKEN", "SECRET_KEY", "ACTION_SERVER_TOKEN"}
    settings = Settings(var_dir=var_dir)
    assert settings.link_code_pepper.get_secret_value() == "from-the-environment"


def test_an_interrupted_migration_finishes(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    pepper = legacy_install(var_dir)
    with secrets_path(var_dir).open("a") as handle:  # written, old file not yet removed
        handle.write(f"LINK_CODE_PEPPER={pepper}\n")
    assert ensure_secrets(var_dir)["LINK_CODE_PEPPER"] == pepper
    assert not (var_dir / "secrets" / "link_code_pepper").exists()


def test_two_different_peppers_are_refused_and_nothing_is_touched(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    legacy_install(var_dir, pepper="cd" * 32)
    with secrets_path(var_dir).open("a") as handle:
        handle.write("LINK_CODE_PEPPER=another\n")
    text = secrets_path(var_dir).read_text()
    with pytest.raises(SecretsConflict) as error:
        ensure_secrets(var_dir)
    assert "cd" * 32 not in str(error.value) and "another" not in str(error.value)
    assert secrets_path(var_dir).read_text() == text
    assert (var_dir / "secrets" / "link_code_pepper").exists()


def test_the_environment_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    var_dir = tmp_path / "var"
    generated = ensure_secrets(var_dir)
    assert (
        Settings(var_dir=var_dir).rasa_auth_token.get_secret_value()
        == (generated["RASA_AUTH_TOKEN"])
    )
    monkeypatch.setenv("RASA_AUTH_TOKEN", "set-by-the-operator")
    assert Settings(var_dir=var_dir).rasa_auth_token.get_secret_value() == "set-by-the-operator"
    assert resolve_secret("set-by-the-operator", var_dir, "RASA_AUTH_TOKEN") == (
        "set-by-the-operator"
    )


def test_settings_read_the_file_of_their_own_var_dir(tmp_path: Path) -> None:
    one, two = ensure_secrets(tmp_path / "one"), ensure_secrets(tmp_path / "two")
    assert Settings(var_dir=tmp_path / "one").secret_key.get_secret_value() == one["SECRET_KEY"]
    assert Settings(var_dir=tmp_path / "two").secret_key.get_secret_value() == two["SECRET_KEY"]
    assert Settings(var_dir=tmp_path / "none").secret_key.get_secret_value() == ""


def test_the_console_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    first = ConsoleConfig.from_settings(Settings(var_dir=var_dir)).secret_key
    again = ConsoleConfig.from_settings(Settings(var_dir=var_dir)).secret_key
    assert first == again == read_secrets(var_dir)["SECRET_KEY"]


def test_processes_starting_together_agree_on_one_value(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    pepper = legacy_install(var_dir)
    secrets_path(var_dir).unlink()  # only the old pepper file: everything else to generate
    script = (
        "import sys; from pathlib import Path; from core.local_secrets import ensure_secrets;"
        "v = ensure_secrets(Path(sys.argv[1]));"
        "print(v['RASA_AUTH_TOKEN'], v['SECRET_KEY'], v['LINK_CODE_PEPPER'])"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(var_dir)],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    outputs = {process.communicate(timeout=60)[0] for process in processes}
    assert all(process.returncode == 0 for process in processes)
    assert len(outputs) == 1
    assert outputs.pop().split()[2] == pepper
    assert secrets_path(var_dir).read_text().count("RASA_AUTH_TOKEN=") == 1
