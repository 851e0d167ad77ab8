"""Password hashing, password rules and tokens (no database)."""

from __future__ import annotations

from argon2 import PasswordHasher

from console import security
from console.security import (
    csrf_token_for,
    hash_password,
    needs_rehash,
    new_token,
    password_problems,
    same_secret,
    temporary_password,
    token_hash,
    verify_password,
)


def test_production_hasher_is_argon2id_with_strong_defaults() -> None:
    security.use_hasher(PasswordHasher())  # the conftest's cheap hasher comes back afterwards
    digest = hash_password("una frase abbastanza lunga")
    assert digest.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password(digest, "una frase abbastanza lunga")
    assert not verify_password(digest, "una frase abbastanza lungA")


def test_each_hash_is_salted() -> None:
    assert hash_password("stessa password!") != hash_password("stessa password!")


def test_verify_never_raises_on_garbage() -> None:
    assert verify_password("not a hash", "whatever password") is False
    assert verify_password("", "") is False
    assert needs_rehash("not a hash") is True


def test_weaker_hashes_are_flagged_for_rehash() -> None:
    old = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("password lunga 123")
    security.use_hasher(PasswordHasher())
    assert needs_rehash(old)
    assert verify_password(old, "password lunga 123")  # still accepted, then rehashed at login


def test_password_rules() -> None:
    email = "anna.rossi@comune.example.it"
    assert password_problems("corto", email=email)
    assert password_problems(email, email=email)
    assert password_problems("ANNA.ROSSI@comune.example.it", email=email)
    assert password_problems("aaaaaaaaaaaaaaaa", email=email)  # too few distinct characters
    assert password_problems("x" * 300 + "abcd", email=email)
    assert password_problems("girasoli sul lungarno", email=email) == []
    assert all(isinstance(p, str) and p.endswith(".") for p in password_problems("x", email=email))


def test_tokens_are_random_and_stored_hashed() -> None:
    a, b = new_token(), new_token()
    assert a != b and len(a) >= 43
    assert token_hash(a) != a and len(token_hash(a)) == 64
    assert token_hash(a) == token_hash(a)


def test_csrf_token_is_bound_to_the_session() -> None:
    a, b = new_token(), new_token()
    assert csrf_token_for(a) == csrf_token_for(a)
    assert csrf_token_for(a) != csrf_token_for(b)
    assert same_secret(csrf_token_for(a), csrf_token_for(a))
    assert not same_secret(csrf_token_for(b), csrf_token_for(a))
    assert not same_secret(None, csrf_token_for(a))
    assert not same_secret("", csrf_token_for(a))


def test_temporary_passwords_pass_the_rules() -> None:
    for _ in range(50):
        password = temporary_password()
        assert password_problems(password, email="x@example.org") == []
