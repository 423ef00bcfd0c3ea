# Sourced by scripts/up and scripts/test: a .venv in the project root with the project installed.
# Usage: EXTRAS=dev source scripts/setup.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-}"
if [[ -z "$PYTHON" ]]; then
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      PYTHON="$candidate"; break
    fi
  done
fi
[[ -n "$PYTHON" ]] || { echo "Нужен Python 3.11 или новее (apt-get install python3 python3-venv)" >&2; exit 1; }

if [[ ! -x .venv/bin/python ]]; then
  echo "→ создаю .venv ($($PYTHON --version))"
  "$PYTHON" -m venv .venv || { echo "Не удалось создать venv: apt-get install python3-venv" >&2; exit 1; }
fi
# The weekly report is drawn to PDF by WeasyPrint, which needs Debian's pango and a Cyrillic font.
if ! ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0.so.0" || ! fc-list :lang=ru 2>/dev/null | grep -q .; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "→ устанавливаю pango и шрифты для PDF-отчётов (apt-get)"
    pkgs="libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkgs >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkgs >/dev/null; }
  else
    echo "Для PDF-отчётов нужны pango и шрифт с кириллицей: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core" >&2
  fi
fi
extras="${EXTRAS:-}"
stamp=".venv/.tsur-installed${extras:+-$extras}"
want="$(cat pyproject.toml | sha256sum | cut -c1-16)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "→ устанавливаю зависимости${extras:+ ($extras)}"
  log="$(mktemp)"
  if ! { .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip &&
         .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"; } >"$log" 2>&1; then
    grep -v "^WARNING: Location" "$log" >&2 || true   # this machine's pip notes about absent local mirrors
    echo "Установка зависимостей не удалась (см. выше)." >&2
    exit 1
  fi
  rm -f "$log"
  echo "$want" > "$stamp"
fi
# The project's own secret, kept in .env, which `tsur` reads by itself: `.venv/bin/tsur …` works in a
# fresh shell after either README command.
if [[ ! -f .env ]]; then
  (umask 077; echo "SECRET_KEY=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')" > .env)
  echo "→ создан .env с новым SECRET_KEY"
fi
export PATH="$ROOT/.venv/bin:$PATH"
