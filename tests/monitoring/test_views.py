"""The monitoring aggregations on SQLite and PostgreSQL, against tests/monitoring/data.py
(every expected figure is counted by hand there), and the small-count rule."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from monitoring.tables import Cell, Table, View, visible_cells
from monitoring.views import Context, build_all
from tests.monitoring import data


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    data.seed(engine)
    return engine


def views_of(
    engine: Engine, *, min_count: int = 5, quartiere: str | None = None
) -> dict[str, View]:
    with Session(engine) as session:
        ctx = Context(
            session=session,
            period=data.NOVEMBER,
            now=data.NOW,
            min_count=min_count,
            quartiere=quartiere,
            tracker=engine,
        )
        return {v.key: v for v in build_all(ctx)}


def table(view: View, key: str) -> Table:
    return next(t for t in view.tables if t.key == key)


def shown(t: Table, column: int = 0) -> dict[str, object]:
    """row key -> what a reader sees ("<" when suppressed)."""
    rows = [*t.rows, *([t.total] if t.total else [])]
    return {r.key: ("<" if r.cells[column].suppressed else r.cells[column].value) for r in rows}


def test_use_by_channel_day_and_hour(seeded: Engine) -> None:
    views = views_of(seeded, min_count=2)
    use = views["uso"]
    # 8 Telegram + 3 WhatsApp started in November; the web chat ones in October
    assert shown(table(use, "conversazioni_canale")) == {
        "telegram": 8,
        "whatsapp": 3,
        "webchat": 0,
        "total": 11,
    }
    assert shown(table(use, "messaggi_canale")) == {
        "telegram": 16,
        "whatsapp": 3,
        "webchat": 2,
        "total": 21,
    }
    assert shown(table(use, "messaggi_canale"), 1) == {
        "telegram": 0,
        "whatsapp": 0,
        "webchat": 2,
        "total": 2,
    }
    # 10 Nov 23:30 UTC is 11 Nov 00:30 in Rome; 09:15 UTC is 10:15
    days = {k: v for k, v in shown(table(use, "messaggi_giorno")).items() if v}
    assert days == {"2026-11-05": 16, "2026-11-11": 3, "2026-11-20": 2, "total": 21}
    hours = {k: v for k, v in shown(table(use, "messaggi_ora")).items() if v}
    assert hours == {"10": 16, "00": 3, "16": 2, "total": 21}
    assert shown(table(use, "nuovi_ritorno")) == {"new": 11, "returning": 2, "total": 13}
    assert shown(table(use, "consenso_avvisi")) == {
        "consent_yes": 6,
        "consent_no": "<",  # one person
        "subs_on": 9,
        "subs_off": 2,
    }


def test_care_times_are_medians_and_p90(seeded: Engine) -> None:
    care = views_of(seeded, min_count=2)["assistenza"]
    times = {r.key: [c.value for c in r.cells] for r in table(care, "tempi").rows}
    # waits 1,2,3,4,5,10 -> median 3.5, p90 5; replies 2,3,4,5,6,20 -> 4.5, 6
    assert times["normal"] == [3.5, 5.0, 4.5, 6.0]
    # with the emergency (4 and 5 minutes) added
    assert times["all"] == [4.0, 5.0, 5.0, 6.0]
    assert shown(table(care, "motivi")) == {"emergency": "<", "requested": "<", "total": 7}
    assert shown(table(care, "sla"), 1) == {"top": 0, "high": 0, "normal": "<", "total": "<"}
    # one «Male» is hidden; «Bene» goes too, or 6 - 5 would tell it
    assert shown(table(care, "csat")) == {"3": "<", "2": 0, "1": "<", "total": 6}
    csat = {r.label: r.cells[0].value for r in table(care, "csat").rows}
    assert csat == {"Bene": 5, "Così così": 0, "Male": 1}
    mean = next(f for f in care.figures if f.label.startswith("Soddisfazione"))
    assert mean.current.value == pytest.approx(2.67)


def test_needs_understanding_budget_points_broadcasts(seeded: Engine) -> None:
    views = views_of(seeded, min_count=2)
    needs = views["bisogni"]
    assert shown(table(needs, "richieste_quartiere"))["Q5"] == 8
    assert shown(table(needs, "senza_risultato")) == {
        "after_school": "<",  # hidden with «housing» (1), or 14 - 8 - 5 would tell it
        "childcare": 8,
        "housing": "<",
        "total": 14,
    }
    grid = table(needs, "mappa_bisogni")
    q5 = grid.column_index("Q5")
    assert {r.key: r.cells[q5].value for r in grid.rows} == {
        "housing": 0,
        "after_school": 5,
        "childcare": 6,
    }
    understanding = views["comprensione"]
    two_stage = table(understanding, "fallback_due_passi")
    assert {r.key: r.cells[0].value for r in two_stage.rows} == {
        "understood": 2,
        "again": 0,
        "out_of_scope": 0,
        "left": 1,
    }
    assert shown(two_stage)["left"] == shown(two_stage)["understood"] == "<"
    share = next(f for f in understanding.figures if f.label.startswith("Non capiti"))
    assert share.current.value == 20.0  # 3 of 15 messages
    budget = views["budget"]
    vouchers = table(budget, "voucher_categoria")
    assert [c.value for c in vouchers.rows[0].cells] == [6, 60_000, 5, 50_000, 1, 10_000]
    by_source = table(budget, "voucher_fonte")
    assert [c.value for c in by_source.rows[0].cells] == [6, 60_000, 5, 50_000, 1, 10_000]
    assert [c.value for c in table(budget, "rimborsi_categoria").rows[0].cells] == [
        5,
        10_000,
        4,
        8_000,
        1,
        2_000,
    ]
    # 5 x (1000 - 100) + 1000 (cancelled voucher) + 4 x 20 reimbursed, all expiring 15 Jan
    assert [c.value for c in table(budget, "in_scadenza").rows[0].cells] == [6, 558_000]
    points = table(views["punti"], "appuntamenti")
    assert [c.value for c in points.rows[0].cells] == [6, 1, 1]
    sent = table(views["avvisi"], "avvisi")
    assert [c.value for c in sent.rows[0].cells] == [8, 1, 1]  # T7 stopped after 13 days


def test_quartiere_filter(seeded: Engine) -> None:
    views = views_of(seeded, min_count=2, quartiere="Q1")
    assert shown(table(views["bisogni"], "senza_risultato"))["total"] == 2
    # only T1..T6 are linked to citizens, who live in Q5
    assert shown(table(views["uso"], "messaggi_canale"))["total"] == 0
    assert table(views["punti"], "appuntamenti").rows == []


def _all_cells(views: dict[str, View]) -> Iterator[tuple[str, Cell]]:
    for view in views.values():
        yield from visible_cells(view)


def test_no_view_shows_fewer_than_min_count_people(seeded: Engine) -> None:
    views = views_of(seeded, min_count=5)
    for where, cell in _all_cells(views):
        if not cell.suppressed and cell.value:
            assert cell.people >= 5, where
    # the hand-counted consequences of the rule
    use = views["uso"]
    assert shown(table(use, "messaggi_canale")) == {
        "telegram": 16,
        "whatsapp": "<",
        "webchat": "<",
        "total": 21,
    }
    # WhatsApp alone hidden would be 11 - 8: Telegram goes too
    assert shown(table(use, "conversazioni_canale")) == {
        "telegram": "<",
        "whatsapp": "<",
        "webchat": 0,
        "total": 11,
    }
    grid = table(views["bisogni"], "mappa_bisogni")
    visible = {
        (r.key, c.key): cell.value
        for r in [*grid.rows, grid.total]
        for c, cell in zip(grid.columns, r.cells, strict=True)
        if not cell.suppressed and cell.value
    }
    assert visible == {("childcare", "total"): 8, ("total", "total"): 14}


def test_totals_never_give_back_a_hidden_cell(seeded: Engine) -> None:
    """In every additive column with a visible total, the hidden cells are none, or at least
    two built from at least min_count people together."""
    for view in views_of(seeded, min_count=5).values():
        for t in view.tables:
            if t.total is None:
                continue
            lines = [
                (i, [r.cells[i] for r in t.rows], t.total.cells[i]) for i in range(len(t.columns))
            ]
            if t.chart == "grid":  # rows against their own totals too
                lines += [(-1, r.cells[:-1], r.cells[-1]) for r in t.rows]
            for i, cells, total in lines:
                if total.suppressed or (i >= 0 and not t.columns[i].additive):
                    continue
                hidden = [c for c in cells if c.suppressed]
                assert not hidden or (len(hidden) >= 2 and sum(c.people for c in hidden) >= 5), (
                    view.key,
                    t.key,
                    i,
                )


def test_no_text_or_identifier_reaches_a_view(seeded: Engine) -> None:
    rendered = repr(views_of(seeded, min_count=2))
    for secret in ("testo che non deve", "mario.rossi", "Nome", "Cognome", data.T[0], "CIT-TEST"):
        assert secret not in rendered


def test_tracker_index_is_idempotent(seeded: Engine) -> None:
    from sqlalchemy import inspect

    from monitoring.tracker import TRACKER_INDEX, ensure_index

    assert ensure_index(seeded) and ensure_index(seeded)
    names = {ix["name"] for ix in inspect(seeded).get_indexes("events")}
    assert {TRACKER_INDEX, f"{TRACKER_INDEX}_next"} <= names
