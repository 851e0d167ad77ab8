"""The console's sections are plain values listed in console.app.SECTIONS: importing a section
changes nothing global, and the navigation and the audit wording come from the list the
console is built with."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy.engine import Engine

from console import audit, handoff, welfare
from console.app import OWN_SECTIONS, SECTIONS, build_console
from console.navigation import Section
from console.state import ConsoleState
from core.settings import Settings
from staff.roles import Role


def _state(app: FastAPI) -> ConsoleState:
    state: ConsoleState = app.state.console
    return state


def test_sections_bring_their_audit_wording(engine: Engine, console_settings: Settings) -> None:
    state = _state(build_console(console_settings, engine=engine))
    assert [s.key for s in state.sections] == [
        s.key for s in sorted([*OWN_SECTIONS, *SECTIONS], key=lambda s: (s.order, s.label))
    ]
    for section in SECTIONS:
        assert section.audit_labels, section.key
        for action, label in section.audit_labels.items():
            assert state.action_labels[action] == label
    assert state.action_labels["handoff.claim"] == "conversazione presa in carico"
    assert state.action_labels["login"] == audit.CONSOLE_LABELS["login"]


def test_importing_a_section_registers_nothing(engine: Engine, console_settings: Settings) -> None:
    assert handoff.SECTION in SECTIONS  # imported, and listed
    bare = _state(build_console(console_settings, engine=engine, sections=[]))
    assert [s.key for s in bare.sections] == [s.key for s in OWN_SECTIONS]
    assert bare.action_labels == audit.CONSOLE_LABELS
    only = _state(build_console(console_settings, engine=engine, sections=[welfare.VOUCHERS]))
    assert "voucher.redeem" in only.action_labels
    assert "handoff.claim" not in only.action_labels
    assert audit.CONSOLE_LABELS.keys().isdisjoint({"voucher.redeem", "handoff.claim"})


def test_two_sections_with_one_key_or_path_are_refused(
    engine: Engine, console_settings: Settings
) -> None:
    twin = replace(handoff.SECTION, label="Doppione", router=APIRouter(), audit_labels={})
    with pytest.raises(ValueError, match="same key"):
        build_console(console_settings, engine=engine, sections=[handoff.SECTION, twin])
    moved = replace(twin, key="altra", path=welfare.CITIZENS.path)
    with pytest.raises(ValueError, match="same path"):
        build_console(console_settings, engine=engine, sections=[welfare.CITIZENS, moved])


def test_an_action_worded_twice_is_refused(engine: Engine, console_settings: Settings) -> None:
    clash = Section(
        key="altra",
        label="Altra",
        path="/altra",
        roles=frozenset({Role.admin}),
        audit_labels={"handoff.claim": "un'altra parola"},
    )
    with pytest.raises(ValueError, match=r"handoff\.claim"):
        build_console(console_settings, engine=engine, sections=[handoff.SECTION, clash])


@pytest.mark.parametrize(
    ("path", "roles"),
    [("coda", {Role.admin}), ("/coda/", {Role.admin}), ("/coda", set())],
)
def test_a_malformed_section_is_refused(path: str, roles: set[Role]) -> None:
    with pytest.raises(ValueError):
        Section(key="x", label="X", path=path, roles=frozenset(roles), router=APIRouter())
