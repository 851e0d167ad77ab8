#!/usr/bin/env bash
# Creates or refreshes whatever is missing, idempotently, and fast when nothing changed:
#   .venv       Python 3.11: gateway, action server, catalogue, tests (requirements/app.lock)
#   .venv-rasa  Python 3.10: Rasa Open Source 3.6.21 (requirements/rasa.lock)
#   var/        local data: SQLite database, uploads, generated secrets
# Usage: scripts/setup.sh [app|rasa|all]   (default: all)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
what="${1:-all}"

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }

# python_of VERSION: prints a python executable of that minor version, or nothing.
python_of() {
  local want="$1" var="PYTHON${1/./}" candidate
  local candidates=()
  [ -n "${!var:-}" ] && candidates+=("${!var}")
  if command -v pyenv >/dev/null 2>&1; then
    for v in $(pyenv versions --bare 2>/dev/null | grep -E "^${want//./\\.}\.[0-9]+$" | sort -t. -k3 -n -r); do
      candidates+=("$(pyenv root)/versions/$v/bin/python$want")
    done
  fi
  for d in "$HOME/.pyenv/versions"/"$want".*; do
    [ -x "$d/bin/python$want" ] && candidates+=("$d/bin/python$want")
  done
  candidates+=("python$want" "python3")
  for candidate in "${candidates[@]}"; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$want'.split('.'))))" 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
}

stamp_of() {  # hash of the lock file and the interpreter version
  { cat "$1"; "$2" -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1
}

ensure_app_env() {
  local py lock=requirements/app.lock stamp
  py="$(python_of 3.11)"
  [ -n "$py" ] || die "Python 3.11 not found. Install it (e.g. 'pyenv install 3.11' or your system's python3.11 package) or set PYTHON311=/path/to/python3.11."
  stamp="$(stamp_of "$lock" "$py")$(sha256sum pyproject.toml | cut -c1-16)"
  if [ -f .venv/.welcome-stamp ] && [ "$(cat .venv/.welcome-stamp)" = "$stamp" ]; then
    return 0
  fi
  say "preparing .venv (Python 3.11, the app) from $lock"
  [ -x .venv/bin/python ] || "$py" -m venv .venv
  local uv_pin
  uv_pin="$(grep -E '^uv==' "$lock" | head -1)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "${uv_pin:-uv}"
  .venv/bin/uv pip sync --quiet --python .venv/bin/python "$lock"
  .venv/bin/uv pip install --quiet --python .venv/bin/python --no-deps -e .
  echo "$stamp" > .venv/.welcome-stamp
}

ensure_rasa_env() {
  local py lock=requirements/rasa.lock stamp
  py="$(python_of 3.10)"
  [ -n "$py" ] || die "Python 3.10 not found: Rasa Open Source 3.6 needs it. Install it with 'pyenv install 3.10.13' (or 'uv python install 3.10'), or set PYTHON310=/path/to/python3.10."
  stamp="$(stamp_of "$lock" "$py")"
  if [ -f .venv-rasa/.welcome-stamp ] && [ "$(cat .venv-rasa/.welcome-stamp)" = "$stamp" ]; then
    return 0
  fi
  say "preparing .venv-rasa (Python 3.10, Rasa 3.6.21) from $lock: about a minute the first time"
  [ -x .venv-rasa/bin/python ] || .venv/bin/uv venv --quiet --python "$py" .venv-rasa
  .venv/bin/uv pip sync --quiet --python .venv-rasa/bin/python "$lock"
  echo "$stamp" > .venv-rasa/.welcome-stamp
}

ensure_var() {
  # owner-only (0700): conversations, uploads and logs of citizens live there (docs/security.md)
  (umask 077 && mkdir -p var/uploads var/log var/rasa-home)
  chmod 700 var var/uploads var/log var/rasa-home
  # generated secrets: one file, VAR_DIR/secrets.env (core/local_secrets.py), never committed;
  # Python only when a name is missing or the older var/secrets/link_code_pepper is still there
  local vd="${VAR_DIR:-var}" name missing=""
  for name in RASA_AUTH_TOKEN SECRET_KEY LINK_CODE_PEPPER; do
    [ -n "${!name:-}" ] && continue
    grep -q "^$name=." "$vd/secrets.env" 2>/dev/null || missing=1
  done
  if [ -n "$missing" ] || [ -e "$vd/secrets/link_code_pepper" ]; then
    .venv/bin/python -m core.local_secrets
  fi
}

# WeasyPrint (the PDF of the monthly monitoring report) draws text with Pango, a system
# library. Present: nothing to do. Missing: installed with apt-get when we are root on
# Debian/Ubuntu; else a warning (everything else works; `report --no-pdf` writes the HTML).
ensure_pdf_libs() {
  local libs="libpango-1.0.so.0 libpangoft2-1.0.so.0" lib missing=""
  for lib in $libs; do
    ldconfig -p 2>/dev/null | grep -q "$lib" || missing="$missing $lib"
  done
  [ -z "$missing" ] && return 0
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    say "installing Pango for the PDF report (apt-get install libpango-1.0-0 libpangoft2-1.0-0)"
    apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
      fonts-dejavu-core >/dev/null
  else
    printf '\033[1;33m[setup] %s\033[0m\n' "Pango is missing:$missing. The monthly report's PDF needs it: apt-get install libpango-1.0-0 libpangoft2-1.0-0 (brew install pango on macOS)." >&2
  fi
}

case "$what" in
  app) ensure_app_env; ensure_pdf_libs; ensure_var ;;
  rasa) ensure_app_env; ensure_rasa_env ;;
  all) ensure_app_env; ensure_pdf_libs; ensure_rasa_env; ensure_var ;;
  *) die "unknown target '$what' (app, rasa or all)" ;;
esac
