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
extras="${EXTRAS:-}"
stamp=".venv/.tsur-installed${extras:+-$extras}"
want="$(cat pyproject.toml | sha256sum | cut -c1-16)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "→ устанавливаю зависимости${extras:+ ($extras)}"
  # (grep drops the notes this machine's pip configuration prints about absent local mirrors)
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}" 2>&1 \
    | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import django, rest_framework, huey" || { echo "Установка зависимостей не удалась" >&2; exit 1; }
  echo "$want" > "$stamp"
fi
export PATH="$ROOT/.venv/bin:$PATH"
