"""Primitives: password hashing (argon2id), password rules, session and CSRF tokens.

Nothing here touches the database or the web framework, and nothing here logs.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256  # argon2 hashes anything, but a megabyte "password" is an attack

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# argon2-cffi's defaults are RFC 9106's second recommendation (argon2id, 64 MiB, t=3, p=4).
_hasher = PasswordHasher()
_dummy_hash: str | None = None


def use_hasher(hasher: PasswordHasher) -> None:
    """Replace the hasher (tests use cheap parameters; production keeps the defaults)."""
    global _hasher, _dummy_hash
    _hasher, _dummy_hash = hasher, None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; never raises for a wrong or malformed hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def burn_verification_time(password: str) -> None:
    """Spend the time of a real verification, so an unknown email answers as slowly as a known
    one (no user enumeration by timing)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
    verify_password(_dummy_hash, password)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def is_valid_email(email: str) -> bool:
    return len(email) <= 254 and bool(_EMAIL.match(email))


def password_problems(password: str, *, email: str) -> list[str]:
    """Why ``password`` is not acceptable, in Italian; empty when it is fine."""
    problems: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"La password deve avere almeno {MIN_PASSWORD_LENGTH} caratteri.")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"La password può avere al massimo {MAX_PASSWORD_LENGTH} caratteri.")
    lowered = password.strip().lower()
    email = normalize_email(email)
    if email and (lowered == email or lowered == email.split("@")[0]):
        problems.append("La password non può essere uguale all'email.")
    if password and len(set(password)) < 4:
        problems.append("La password è troppo semplice: usa caratteri diversi.")
    return problems


def new_token() -> str:
    """A random session token (256 bits), URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database stores instead of the token: the token is random, so SHA-256 suffices."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token_for(session_token: str) -> str:
    """The CSRF token bound to a session: derived from its secret token, so it needs no storage,
    changes with every login and cannot be computed by anyone who lacks the cookie."""
    return hmac.new(session_token.encode(), b"welcome-console-csrf", hashlib.sha256).hexdigest()


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison of two secrets."""
    if not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def temporary_password() -> str:
    """A password an administrator hands over once; the owner must change it at first login."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
    groups = ["".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4)]
    return "-".join(groups)
