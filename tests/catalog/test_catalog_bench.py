"""bench/: the runner finds the benchmarks; the search benchmark runs end to end (tiny)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import discover
from bench.__main__ import main as bench_main
from bench.search_bench import generate_queries, generate_services
from bench.search_bench import main as search_main


def test_runner_discovers_benchmarks(capsys: pytest.CaptureFixture[str]) -> None:
    assert discover()["search"] == "bench.search_bench"
    assert bench_main(["--list"]) == 0
    assert "search" in capsys.readouterr().out.split()
    with pytest.raises(SystemExit):
        bench_main(["nonexistent"])


def test_generated_catalogue_is_valid_for_the_importer() -> None:
    import random

    from catalog.importer import ServiceRow

    rows = generate_services(50, 5, random.Random(1))
    for row in rows:
        data = {**row, "provider": "p"}
        data.pop("provider_id")
        ServiceRow.model_validate(data)
    queries = generate_queries(40, random.Random(2))
    assert len(queries) == 40 and any(f is not None for _, f in queries)


def test_search_bench_runs_on_sqlite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--services", "300", "--queries", "8", "--backends", "sqlite", "--out", str(tmp_path)]
    assert search_main(args) == 0
    figures = json.loads((tmp_path / "search.json").read_text(encoding="utf-8"))
    assert [f["backend"] for f in figures] == ["SQLite (FTS5)"]
    assert figures[0]["services"] == 300 and figures[0]["p95_ms"] > 0
    assert "p95 / 20 ms target" in capsys.readouterr().out
