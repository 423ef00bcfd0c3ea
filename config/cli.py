"""The `tsur` console command: any management command with the project's settings.

It reads the project's `.env` itself (the file `scripts/up` writes, with SECRET_KEY), so that
`.venv/bin/tsur …` works in a fresh shell as the README writes it; variables already set in the
environment win over the file. `TSUR_ENV_FILE` names another file instead (empty: read none), for a
service manager that keeps its settings elsewhere.
"""

import os
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a dotenv file (comments, blank lines and `export ` allowed; quotes around
    a value are taken off)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load_env(*candidates: Path) -> None:
    """Set, where not set already, the variables of the first `.env` found among `candidates`."""
    for path in candidates:
        if path.is_file():
            for key, value in read_env_file(path).items():
                os.environ.setdefault(key, value)
            return


def main() -> None:
    named = os.environ.get("TSUR_ENV_FILE")
    if named is None:
        load_env(Path.cwd() / ".env", PROJECT / ".env")
    elif named:
        load_env(Path(named))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["tsur", *sys.argv[1:]])


if __name__ == "__main__":
    main()
