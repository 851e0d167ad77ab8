"""The generated secrets of an installation: one file, ``VAR_DIR/secrets.env``.

Every secret the assistant generates for itself lives there as a ``NAME=value`` line
(never committed, mode 0600): ``RASA_AUTH_TOKEN``, ``SECRET_KEY``, ``LINK_CODE_PEPPER`` and
``ACTION_SERVER_TOKEN``.
A value set in the environment (or ``.env``) always wins; the file is only the fallback the
set-up (``scripts/setup.sh``, which runs ``python -m core.local_secrets``) and the code
that needs a secret both go through :func:`ensure_secrets`.

``ensure_secrets`` adds the names that are missing and never changes a value that exists:
a new pepper would invalidate every linking code already issued, a new token would lock
out the running Rasa. Installations from before this module kept the pepper in
``VAR_DIR/secrets/link_code_pepper``: its value is moved into ``secrets.env`` (the old file
is removed only after the new one is safely written), never regenerated.

Concurrent callers (gateway, action server, a CLI) are serialised by an exclusive lock on
``VAR_DIR/.secrets.lock``, so two processes starting together cannot generate two values.
Values never reach the logs.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

SECRETS_FILE_NAME = "secrets.env"
LOCK_FILE_NAME = ".secrets.lock"

#: name -> generator of a fresh value
GENERATED: dict[str, Callable[[], str]] = {
    "RASA_AUTH_TOKEN": lambda: secrets.token_urlsafe(32),
    "SECRET_KEY": lambda: secrets.token_urlsafe(48),
    "LINK_CODE_PEPPER": lambda: secrets.token_hex(32),
    "ACTION_SERVER_TOKEN": lambda: secrets.token_urlsafe(32),
}

#: name -> the field of core.settings.Settings it fills when that is empty
SETTING_OF: dict[str, str] = {
    "RASA_AUTH_TOKEN": "rasa_auth_token",
    "SECRET_KEY": "secret_key",
    "LINK_CODE_PEPPER": "link_code_pepper",
    "ACTION_SERVER_TOKEN": "action_server_token",
}

#: name -> where an older installation kept it (relative to VAR_DIR)
LEGACY_FILES: dict[str, Path] = {
    "LINK_CODE_PEPPER": Path("secrets") / "link_code_pepper",
}


class SecretsConflict(RuntimeError):
    """The legacy file and secrets.env hold different values for the same secret."""


def secrets_path(var_dir: Path) -> Path:
    return Path(var_dir) / SECRETS_FILE_NAME


def _parse(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        if sep:
            key = key.strip()
            if key.startswith("export "):
                key = key[len("export ") :].strip()
            values[key] = value.strip().strip("'\"")
    return values


def read_secrets(var_dir: Path) -> dict[str, str]:
    """The ``NAME=value`` pairs of VAR_DIR/secrets.env ({} when the file is absent)."""
    try:
        return _parse(secrets_path(var_dir).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def read_secret(var_dir: Path, name: str) -> str:
    """One value of VAR_DIR/secrets.env, "" when absent (nothing is generated)."""
    return read_secrets(var_dir).get(name, "")


@contextmanager
def _locked(var_dir: Path) -> Iterator[None]:
    var_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(var_dir / LOCK_FILE_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _legacy_value(var_dir: Path, name: str) -> str:
    relative = LEGACY_FILES.get(name)
    if relative is None:
        return ""
    try:
        return (var_dir / relative).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return ""


def _write_atomically(path: Path, original: str, additions: dict[str, str]) -> None:
    """secrets.env = its previous text (untouched) + the new lines; replaced in one rename."""
    text = original
    if text and not text.endswith("\n"):
        text += "\n"
    text += "".join(f"{name}={value}\n" for name, value in additions.items())
    fd, tmp = tempfile.mkstemp(prefix=".secrets-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _remove_legacy(var_dir: Path, name: str) -> None:
    relative = LEGACY_FILES[name]
    (var_dir / relative).unlink(missing_ok=True)
    with suppress(OSError):
        (var_dir / relative).parent.rmdir()  # only when empty


def ensure_secrets(var_dir: Path, names: tuple[str, ...] | None = None) -> dict[str, str]:
    """The values of ``names`` (default: every generated secret) from VAR_DIR/secrets.env,
    after adding those that are missing: migrated from a legacy file when one exists,
    generated otherwise. Existing values are never changed. Safe across processes."""
    var_dir = Path(var_dir)
    wanted = tuple(GENERATED) if names is None else names
    unknown = [name for name in wanted if name not in GENERATED]
    if unknown:
        raise KeyError(f"not a generated secret: {', '.join(unknown)}")
    path = secrets_path(var_dir)
    with _locked(var_dir):
        try:
            original = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            original = ""
        values = _parse(original)
        additions: dict[str, str] = {}
        migrated: list[str] = []
        for name in wanted:
            legacy = _legacy_value(var_dir, name)
            current = values.get(name, "")
            if current:
                if legacy and legacy != current:
                    raise SecretsConflict(
                        f"{name} differs between {path} and {var_dir / LEGACY_FILES[name]}: "
                        "keep the one the issued codes were made with, delete the other"
                    )
                if legacy:
                    migrated.append(name)  # a migration interrupted before the clean-up
                continue
            if legacy:
                additions[name] = legacy
                migrated.append(name)
            else:
                additions[name] = GENERATED[name]()
        if additions:
            _write_atomically(path, original, additions)
            values.update(additions)
        for name in migrated:
            _remove_legacy(var_dir, name)
    return {name: values[name] for name in wanted}


def resolve_secret(configured: str, var_dir: Path, name: str) -> str:
    """``configured`` (the setting) when not empty, else the generated value of ``name``."""
    if configured:
        return configured
    return ensure_secrets(var_dir, (name,))[name]


def main(argv: list[str] | None = None) -> int:
    """``python -m core.local_secrets [VAR_DIR]``: add the missing secrets (set-up).

    A secret set in the environment (or .env) and absent from the file is left alone: a
    generated value would silently take over the day the variable is removed."""
    from core.settings import Settings

    args = sys.argv[1:] if argv is None else argv
    settings = Settings(var_dir=Path(args[0])) if args else Settings()
    stored = read_secrets(settings.var_dir)
    names = tuple(
        name
        for name, field in SETTING_OF.items()
        if name in stored or not getattr(settings, field).get_secret_value()
    )
    moved = [name for name in names if name not in stored and _legacy_value(settings.var_dir, name)]
    ensure_secrets(settings.var_dir, names)
    path = secrets_path(settings.var_dir)
    for name in names:
        if name in moved:
            print(f"[setup] {name} moved into {path} from {LEGACY_FILES[name]} (same value)")
        elif name not in stored:
            print(f"[setup] {name} generated into {path} (never committed)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
