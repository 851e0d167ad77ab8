#!/usr/bin/env bash
# The whole test suite: lint (ruff, import-linter), then pytest (which trains the Rasa model once, cached in models/).
# PostgreSQL, Redis and Chromium are used when reachable; otherwise their tests are skipped and
# the reason is printed (set WELCOME_REQUIRE_SERVICES=1 to fail instead, as CI does).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
export RASA_TELEMETRY_ENABLED=false

echo "[test] ruff"
.venv/bin/ruff check --quiet .
echo "[test] import-linter (the layered layout, docs/architecture.md)"
.venv/bin/lint-imports --no-cache

echo "[test] pytest"
set +e
# the 25 slowest tests are listed at the end: where CI's time goes
.venv/bin/python -m pytest --durations=25 "$@"
status=$?
set -e
# pytest's exit status decides; 5 (no tests collected) is a failure too.
exit $status
