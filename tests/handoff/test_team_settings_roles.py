"""The staff Telegram alerts and the team's canned replies are changed by admins only
(issue 13): a Care Manager may read and use canned replies, not redirect the alerts."""

from __future__ import annotations

from staff.roles import Role
from tests.handoff.conftest import Live, StaffClient, make_care_manager

GROUP = -1001234567890


def test_only_admins_change_alerts_and_canned_replies(start_live, people: list) -> None:
    live: Live = start_live()
    cm = StaffClient(live.url, make_care_manager(live.engine)).login()
    boss = StaffClient(live.url, make_care_manager(live.engine, Role.care_manager, Role.admin))
    boss.login()
    people.extend([cm, boss])
    assert cm.post("/impostazioni", {"chat_id": str(GROUP), "enabled": "1"}).status_code == 403
    assert cm.http.get("/console/coda/impostazioni").status_code == 403
    assert cm.post("/risposte", {"code": "/prova", "text": "Ciao"}).status_code == 403
    assert cm.http.get("/console/coda/risposte").status_code == 200  # reading stays open
    assert boss.post("/impostazioni", {"chat_id": str(GROUP), "enabled": "1"}).status_code == 303
    assert (
        boss.post(
            "/risposte", {"code": "/prova", "title": "Prova", "text": "Ciao a te"}
        ).status_code
        == 303
    )
