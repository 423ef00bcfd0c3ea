"""What every benchmark needs: an empty PostgreSQL database of its own, and the commit it measures."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def fresh_database(database_url: str) -> None:
    """Drop and create the database `database_url` names (connecting to `postgres` beside it); a
    SQLite file is removed."""
    if database_url.startswith("sqlite:"):
        path = Path(database_url.split("sqlite://", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        return
    import psycopg

    server, name = database_url.rsplit("/", 1)
    with psycopg.connect(server + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def commit() -> str:
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
