"""Login lockout counts failures per e-mail *and* client address (issue 13): anyone who knows
a staff member's e-mail cannot lock them out from elsewhere; the address behind a trusted
proxy is the forwarded one."""

from __future__ import annotations

from collections.abc import Iterator

from console_helpers import CONSOLE, MakeStaff, form_token, mount_console
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from core.settings import Settings

TOO_MANY = "Troppi tentativi di accesso"


def login_from(client: TestClient, email: str, password: str, **headers: str):  # type: ignore[no-untyped-def]
    page = client.get(f"{CONSOLE}/accesso", headers=headers)
    return client.post(
        f"{CONSOLE}/accesso",
        data={"email": email, "password": password, "csrf_token": form_token(page.text)},
        headers=headers,
    )


def clients(engine: Engine, settings: Settings, *addresses: str) -> Iterator[TestClient]:
    app = mount_console(engine, settings)
    for address in addresses:
        yield TestClient(app, follow_redirects=False, client=(address, 50000))


def test_failures_elsewhere_do_not_lock_a_staff_member_out(
    engine: Engine, console_settings: Settings, make_staff: MakeStaff
) -> None:
    anna = make_staff()
    attacker, office = clients(engine, console_settings, "203.0.113.9", "198.51.100.7")
    with attacker, office:
        for _ in range(6):
            login_from(attacker, anna.email, "password sbagliata")
        blocked = login_from(attacker, anna.email, anna.password)
        assert blocked.status_code == 429 and TOO_MANY in blocked.text  # the attacker is paused
        assert login_from(office, anna.email, anna.password).status_code == 303  # Anna is not


def test_the_forwarded_address_counts_only_behind_a_trusted_proxy(
    engine: Engine, console_settings: Settings, make_staff: MakeStaff
) -> None:
    anna = make_staff()
    proxied = console_settings.model_copy(update={"trusted_proxies": "10.0.0.1"})
    (proxy,) = clients(engine, proxied, "10.0.0.1")
    with proxy:
        for _ in range(6):
            login_from(
                proxy, anna.email, "password sbagliata", **{"X-Forwarded-For": "203.0.113.9"}
            )
        elsewhere = login_from(
            proxy, anna.email, anna.password, **{"X-Forwarded-For": "198.51.100.7"}
        )
        assert elsewhere.status_code == 303
