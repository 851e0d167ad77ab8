"""deploy/ (issue 18): the Compose file is valid and speaks our settings' names.

`docker compose config` needs the Compose plugin, absent here, so the file is validated
against the Compose specification's JSON schema as shipped by check-jsonschema (a dev
dependency, its licence beside the schema), after the ${VAR} interpolation Compose does,
with deploy/env.example and made-up secrets. Then every variable given to one of our
Python 3.11 processes must be a setting of core/settings.py (the settings object reads
them), every variable given to Rasa one that endpoints.yml or credentials.yml expands, and
every `python -m` module must exist: a renamed setting or module breaks this test.
"""

from __future__ import annotations

import configparser
import importlib.util
import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import AliasChoices

from core.settings import PROJECT_ROOT, Settings
from devtools.rasa_env import lock_store_env

DEPLOY = PROJECT_ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
SECRETS = ("POSTGRES_PASSWORD", "SECRET_KEY", "LINK_CODE_PEPPER", "RASA_AUTH_TOKEN")
SECRETS += ("ACTION_SERVER_TOKEN", "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET")
SECRETS += ("WHATSAPP_ACCESS_TOKEN", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN")
# read by rasa-sdk's and Rasa's Sanic, and TensorFlow, not by our settings
NOT_SETTINGS = {"SANIC_HOST"}
RASA_RUNTIME = {"SANIC_WORKERS", "SANIC_REQUEST_MAX_SIZE"}
RASA_RUNTIME |= {"TF_INTRA_OP_PARALLELISM_THREADS", "TF_INTER_OP_PARALLELISM_THREADS"}
_VAR = re.compile(r"\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}")


def setting_names() -> set[str]:
    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {str(choice) for choice in alias.choices}
        else:
            names.add(name.upper())
    return names


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def interpolate(node: Any, env: dict[str, str]) -> Any:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}."""
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(value, env) for value in node]
    if not isinstance(node, str):
        return node

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2) or "", match.group(3) or ""
        value = env.get(name)
        missing = value is None or (op.startswith(":") and value == "")
        if op.endswith("?") and missing:
            raise AssertionError(f"{name} is required: {arg}")
        if op.endswith("-") and missing:
            return arg
        return value or ""

    return _VAR.sub(one, node).replace("$$", "$")


def compose_variables() -> set[str]:
    return {match.group(1) for match in _VAR.finditer(COMPOSE.read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def environment() -> dict[str, str]:
    env = read_env_file(DEPLOY / "env.example")
    env.update({name: f"made-up-{name.lower()}" for name in SECRETS if not env.get(name)})
    return env


@pytest.fixture(scope="module")
def compose(environment: dict[str, str]) -> dict[str, Any]:
    raw = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))  # anchors and << merged
    return interpolate(raw, environment)


def compose_schema() -> dict[str, Any]:
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    assert (vendor / "licenses" / "LICENSE.compose-spec").is_file()
    return json.loads((vendor / "compose-spec.json").read_text(encoding="utf-8"))


def test_the_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []
    # the schema itself can fail: a misspelt key is refused
    broken = {**compose, "services": {**compose["services"], "redis": {"imagee": "redis"}}}
    assert list(validator.iter_errors(broken))


def test_the_topology(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("gateway", "rasa", "actions"):
        assert services[name]["deploy"]["replicas"] == 2, name
    assert {"postgres", "redis", "proxy", "migrate"} <= set(services)
    gateway = services["gateway"]["environment"]
    assert gateway["GATEWAY_REDIS_URL"].startswith("redis://redis:")
    text = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    caddyfile = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    port = gateway["GATEWAY_PORT"]
    assert f"dynamic a gateway {port}" in caddyfile
    assert "flush_interval -1" in caddyfile  # the web chat's SSE stream, sent on at once
    # round robin everywhere: no sticky sessions (cookie, ip_hash, client_ip, header)
    assert set(re.findall(r"lb_policy (\w+)", caddyfile)) == {"round_robin"}
    # the gateways trust X-Forwarded-For from the proxy's fixed address only
    proxy_address = services["proxy"]["networks"]["welcome"]["ipv4_address"]
    assert gateway["TRUSTED_PROXIES"] == proxy_address
    assert f"dynamic a rasa {_port(_rasa_cmd())}" in caddyfile
    assert gateway["RASA_URL"] == "http://proxy:5005"
    assert "dynamic a actions 5055" in caddyfile and "-p" in services["actions"]["command"]


def _rasa_cmd() -> list[str]:
    text = (DEPLOY / "Dockerfile.rasa").read_text(encoding="utf-8")
    found = re.search(r"^CMD (\[.*?\])\s*$", text.replace("\\\n", ""), re.M | re.S)
    assert found
    return json.loads(found.group(1))


def _port(command: list[str]) -> str:
    return command[command.index("-p") + 1]


def _python_module(command: list[str]) -> str | None:
    if "-m" in command:
        return command[command.index("-m") + 1]
    return None


def test_our_processes_get_only_real_setting_names(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    names = setting_names()
    app = [
        n
        for n, s in compose["services"].items()
        if str(s.get("image", "")).startswith("welcome-app")
    ]
    assert set(app) >= {"gateway", "actions", "migrate", "seed"}
    for service in app:
        environment = compose["services"][service]["environment"]
        unknown = set(environment) - names - NOT_SETTINGS
        assert not unknown, f"{service}: not settings of core/settings.py: {sorted(unknown)}"
        for key in list(os.environ):
            if key in names:
                monkeypatch.delenv(key)
        for key, value in environment.items():
            monkeypatch.setenv(key, str(value))
        settings = Settings(_env_file=None)  # type: ignore[call-arg]  # the values parse
        assert settings.effective_database_url.startswith("postgresql+psycopg://welcome:")
        assert settings.secret_key.get_secret_value() == "made-up-secret_key"
        if service == "gateway":
            assert settings.gateway_port == 8000 and settings.gateway_host == "0.0.0.0"
            assert settings.gateway_redis_url and settings.rasa_tracker_db_url
        command = compose["services"][service]["command"]
        module = _python_module(command) or "catalog"
        assert importlib.util.find_spec(module) is not None, (service, module)
    assert importlib.util.find_spec("welfare.ledger") is not None  # the seed's second step


def test_rasa_gets_what_endpoints_and_credentials_expand(compose: dict[str, Any]) -> None:
    expanded = set()
    for name in ("endpoints.yml", "credentials.yml"):
        text = (PROJECT_ROOT / name).read_text(encoding="utf-8")
        body = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
        expanded |= set(re.findall(r"\$\{([A-Z0-9_]+)\}", body))
    environment = compose["services"]["rasa"]["environment"]
    assert expanded - set(environment) == set(), "endpoints.yml needs these"
    assert set(environment) - expanded - RASA_RUNTIME == set(), "unknown to Rasa"
    # the same lock store as a local run with RASA_LOCK_STORE_URL=redis://redis:6379/1
    expected = lock_store_env("redis://redis:6379/1")
    assert {k: environment[k] for k in expected} == expected
    assert environment["RASA_TRACKER_STORE_URL"].startswith("postgresql://")  # psycopg2 there
    module = _python_module(_rasa_cmd())
    assert module == "nlu.rasa_main" and importlib.util.find_spec(module) is not None


def test_the_env_example_holds_no_secret_and_every_variable() -> None:
    example = read_env_file(DEPLOY / "env.example")
    assert {name: example[name] for name in SECRETS if name in example} == dict.fromkeys(
        [n for n in SECRETS if n in example], ""
    )
    assert set(example) == compose_variables()
    for name in ("welcome.env.example", "rasa.env.example"):
        values = read_env_file(DEPLOY / "systemd" / name)
        assert all(values[key] == "" for key in SECRETS if key in values), name
    welcome = read_env_file(DEPLOY / "systemd" / "welcome.env.example")
    assert set(welcome) - setting_names() == set()
    rasa = read_env_file(DEPLOY / "systemd" / "rasa.env.example")
    assert set(lock_store_env("redis://127.0.0.1:6379/1")) <= set(rasa)


def test_the_systemd_units_start_real_modules_with_real_settings() -> None:
    names = setting_names()
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read(unit, encoding="utf-8")
        service = parser["Service"]
        command = service["ExecStart"].split()
        module = _python_module(command)
        assert module is not None and importlib.util.find_spec(module) is not None, unit.name
        if "rasa" in unit.name:
            continue
        assigned = [line.split("=", 1)[0] for line in service.get("Environment", "").split("\n")]
        assert set(filter(None, assigned)) - names - NOT_SETTINGS == set(), unit.name
