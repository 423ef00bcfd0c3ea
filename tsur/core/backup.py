"""One archive holds the whole platform: the database (pg_dump's custom format, or a copy made by
SQLite's online backup API while the platform runs) and the media files, with a manifest of row
counts per table and a checksum of every file in it (docs/operations.md).

The counts (and, on request, a checksum of each table's rows) are read from the very state that is
dumped: on PostgreSQL in a repeatable-read transaction whose snapshot pg_dump is given, on SQLite
from the copy. A restore checks the files against the manifest before touching anything, refuses a
database or media folder that already holds data unless forced, and checks the counts (and the
checksums) of what it restored.
"""

import contextlib
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import dj_database_url
import psycopg
from django.conf import settings
from django.db import connections
from django.utils import timezone

FORMAT = 1
MANIFEST = "manifest.json"
DUMP = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
CHUNK = 1 << 20


class BackupError(Exception):
    """What went wrong, said for the person running the command."""


@dataclass
class Database:
    """A database named by a URL or by the platform's settings, reached without Django's connection
    (a restore may target a database the platform does not use)."""

    engine: str  # "postgresql" or "sqlite"
    name: str
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = ""

    @classmethod
    def from_settings(cls, url: str | None = None) -> "Database":
        # the live connection's settings: under the test runner they name the test database
        config = dj_database_url.parse(url) if url else connections["default"].settings_dict
        engine = config["ENGINE"].rsplit(".", 1)[-1]
        if engine == "sqlite3":
            return cls("sqlite", str(config["NAME"]))
        if engine != "postgresql":
            raise BackupError(f"Резервное копирование не умеет работать с {config['ENGINE']}.")
        return cls(
            "postgresql",
            config["NAME"],
            str(config.get("HOST") or ""),
            str(config.get("PORT") or ""),
            config.get("USER") or "",
            config.get("PASSWORD") or "",
        )

    def connect(self):
        if self.engine == "sqlite":
            return contextlib.closing(sqlite3.connect(self.name))
        return psycopg.connect(
            dbname=self.name, host=self.host or None, port=self.port or None, user=self.user or None,
            password=self.password or None, autocommit=False,
        )  # fmt: skip

    def client_env(self) -> dict[str, str]:
        env = {**os.environ, "PGDATABASE": self.name}
        for key, value in (("PGHOST", self.host), ("PGPORT", self.port), ("PGUSER", self.user)):
            if value:
                env[key] = value
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


# ------------------------------------------------------------------------------------------ reading


def tables(cursor, engine: str) -> list[str]:
    if engine == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return sorted(row[0] for row in cursor.fetchall())


def _quote(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise BackupError(f"Неожиданное имя таблицы: {name!r}")
    return f'"{name}"'


def census(cursor, engine: str, checksums: bool = False) -> dict:
    """Row counts per table and, if asked, a checksum of each table's rows that does not depend on
    their order (the sum of the rows' SHA-256, so nothing has to be sorted)."""
    counts, sums = {}, {}
    for table in tables(cursor, engine):
        if not checksums:
            cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608 - a checked table name
            counts[table] = cursor.fetchone()[0]
            continue
        cursor.execute(f"SELECT * FROM {_quote(table)}")  # noqa: S608 - a checked table name
        total, rows = 0, 0
        while batch := cursor.fetchmany(2000):
            for row in batch:
                total += int.from_bytes(hashlib.sha256(repr(tuple(row)).encode()).digest(), "big")
                rows += 1
        counts[table], sums[table] = rows, f"{total % (1 << 256):064x}"
    return {"tables": counts, **({"checksums": sums} if checksums else {})}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# ------------------------------------------------------------------------------------- PostgreSQL


def pg_binary(name: str, cursor) -> str:
    """pg_dump or pg_restore of the server's major version: Debian's versioned folder, else PATH."""
    cursor.execute("SHOW server_version_num")
    major = int(cursor.fetchone()[0]) // 10000
    candidates = [Path(f"/usr/lib/postgresql/{major}/bin/{name}")]
    if found := shutil.which(name):
        candidates.append(Path(found))
    for candidate in candidates:
        if not candidate.exists():
            continue
        version = subprocess.run(  # noqa: S603 - a client binary found above, no user input
            [candidate, "--version"], capture_output=True, text=True, check=False
        ).stdout
        if (match := re.search(r"(\d+)\.", version)) and int(match.group(1)) == major:
            return str(candidate)
    raise BackupError(
        f"Нужен {name} версии {major}, как у сервера: установите postgresql-client-{major} "
        f"(ищется в /usr/lib/postgresql/{major}/bin и в PATH)."
    )


def _run(command: list[str], env: dict[str, str]) -> None:
    # the binary found by pg_binary, options and paths the platform makes: no shell, no user input
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} завершился с ошибкой:\n{done.stderr.strip()[-2000:]}")


def _dump_postgresql(db: Database, target: Path, checksums: bool) -> dict:
    with db.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        binary = pg_binary("pg_dump", cursor)
        state = census(cursor, "postgresql", checksums)
        # pg_dump sees exactly what was counted: the snapshot stays valid while this transaction is open
        _run(
            [binary, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
             f"--file={target}"],
            db.client_env(),
        )  # fmt: skip
        connection.rollback()
    return state


def _restore_postgresql(db: Database, source: Path, force: bool) -> None:
    with db.connect() as connection, connection.cursor() as cursor:
        binary = pg_binary("pg_restore", cursor)
        if force:
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
            connection.commit()
    _run(
        [binary, "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
         f"--dbname={db.name}", str(source)],
        db.client_env(),
    )  # fmt: skip


# ----------------------------------------------------------------------------------------- SQLite


def _dump_sqlite(db: Database, target: Path, checksums: bool) -> dict:
    with (
        contextlib.closing(sqlite3.connect(db.name)) as live,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        live.backup(copy)  # page by page while the platform keeps writing: a consistent copy
    with contextlib.closing(sqlite3.connect(target)) as copy:
        return census(copy.cursor(), "sqlite", checksums)


def _restore_sqlite(db: Database, source: Path) -> None:
    Path(db.name).parent.mkdir(parents=True, exist_ok=True)
    with (
        contextlib.closing(sqlite3.connect(source)) as copy,
        contextlib.closing(sqlite3.connect(db.name)) as live,
    ):
        copy.backup(live)  # replaces the whole database, under SQLite's own lock


# ---------------------------------------------------------------------------------------- archive


def create(archive: Path, *, url: str | None = None, media_root: Path | None = None, checksums=False) -> dict:
    """Write the database and the media files into `archive`; returns the manifest."""
    db = Database.from_settings(url)
    media_root = Path(media_root or settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(prefix="tsur-backup-") as scratch:
        dump = Path(scratch) / DUMP[db.engine]
        state = (_dump_postgresql if db.engine == "postgresql" else _dump_sqlite)(db, dump, checksums)
        media = sorted(p for p in media_root.rglob("*") if p.is_file()) if media_root.is_dir() else []
        files = {dump.name: sha256(dump)}
        files |= {f"media/{p.relative_to(media_root).as_posix()}": sha256(p) for p in media}
        manifest = {
            "format": FORMAT,
            "created_at": timezone.now().isoformat(),
            "engine": db.engine,
            **state,
            "files": files,
        }
        manifest_path = Path(scratch) / MANIFEST
        manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        partial = archive.with_name(archive.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(manifest_path, MANIFEST)
            tar.add(dump, dump.name)
            for path in media:
                tar.add(path, f"media/{path.relative_to(media_root).as_posix()}")
        partial.replace(archive)  # never a half-written archive under the final name
    return manifest


def _unpack(archive: Path, into: Path) -> dict:
    """Extract the manifest's files (and nothing else) and check each against its checksum."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            manifest = json.load(tar.extractfile(MANIFEST))
            if manifest.get("format") != FORMAT:
                raise BackupError(f"Неизвестный формат архива: {manifest.get('format')!r}.")
            members = {m.name: m for m in tar.getmembers()}
            for name in manifest["files"]:
                member = members.get(name)
                if member is None or not member.isfile():
                    raise BackupError(f"В архиве нет файла {name}, указанного в манифесте.")
                tar.extract(member, into, filter="data")  # no links, no paths outside `into`
    except (tarfile.TarError, KeyError, ValueError, OSError) as error:
        raise BackupError(f"Архив {archive} не читается: {error}") from error
    broken = [name for name, digest in manifest["files"].items() if sha256(into / name) != digest]
    if broken:
        raise BackupError(f"Контрольные суммы не совпали (архив повреждён): {', '.join(broken[:10])}")
    return manifest


def occupied(db: Database, media_root: Path) -> list[str]:
    """What already holds data: tables with rows, and files in the media folder."""
    found = []
    if db.engine == "postgresql" or Path(db.name).exists():
        with db.connect() as connection:
            cursor = connection.cursor()
            found = [f"{t}: {n}" for t, n in census(cursor, db.engine)["tables"].items() if n]
    if media_root.is_dir() and any(p.is_file() for p in media_root.rglob("*")):
        found.append(f"файлы в {media_root}")
    return found


def restore(archive: Path, *, url: str | None = None, media_root: Path | None = None, force=False) -> dict:
    """Restore `archive` into the database and media folder; returns the manifest."""
    db = Database.from_settings(url)
    media_root = Path(media_root or settings.MEDIA_ROOT)
    with tempfile.TemporaryDirectory(prefix="tsur-restore-") as scratch:
        manifest = _unpack(archive, Path(scratch))
        if manifest["engine"] != db.engine:
            raise BackupError(f"Архив сделан с {manifest['engine']}, а восстанавливается в {db.engine}.")
        if not force and (taken := occupied(db, media_root)):
            raise BackupError(
                "База данных или папка файлов не пусты (" + "; ".join(taken[:5]) + "). "
                "Восстановление заменит их содержимое: повторите с --force, если это и нужно."
            )
        dump = Path(scratch) / DUMP[db.engine]
        if db.engine == "postgresql":
            _restore_postgresql(db, dump, force)
        else:
            _restore_sqlite(db, dump)
        media = Path(scratch) / "media"
        if media.is_dir():
            shutil.copytree(media, media_root, dirs_exist_ok=True)
    with db.connect() as connection:
        restored = census(connection.cursor(), db.engine, "checksums" in manifest)
    for key in ("tables", "checksums"):
        if key in manifest and restored[key] != manifest[key]:
            differ = sorted(t for t in manifest[key] if restored[key].get(t) != manifest[key][t])
            raise BackupError(f"После восстановления не совпали {key}: {', '.join(differ[:10])}")
    return manifest
