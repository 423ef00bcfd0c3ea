"""`tsur backup` and `tsur restore` (issue 15, item 8): a round trip into a fresh database of the same
engine keeps every row (counts and row checksums compared on both databases) and every media file;
a restore over data needs --force; a damaged archive is refused before anything is touched."""

import contextlib
import io
import os
import tarfile
from pathlib import Path

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connections
from PIL import Image

from tsur.appeals import actions
from tsur.appeals.models import AppealPhoto
from tsur.appeals.tests.factories import RuleFactory, TopicFactory
from tsur.core import backup
from tsur.core.choices import Role
from tsur.core.tests.factories import user_with_role

# PostgreSQL: a database of this run's own, made afresh for the test (several suites may run on one
# server at once: the live database's name and the process keep their restores apart)
RESTORE_PREFIX = "tsur_hb_restore"


def live() -> backup.Database:
    return backup.Database.from_settings()


def census_of(db: backup.Database) -> dict:
    with db.connect() as connection:
        return backup.census(connection.cursor(), db.engine, checksums=True)


@pytest.fixture
def fresh(tmp_path):
    """A URL of an empty database of the live one's engine."""
    db = live()
    if db.engine == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    restore_db = f"{RESTORE_PREFIX}_{db.name}_{os.getpid()}"[:63]
    admin = psycopg.connect(
        dbname="postgres", host=db.host or None, port=db.port or None, user=db.user or None,
        password=db.password or None, autocommit=True,
    )  # fmt: skip
    with contextlib.closing(admin):
        admin.execute(f'DROP DATABASE IF EXISTS "{restore_db}"')
        admin.execute(f'CREATE DATABASE "{restore_db}"')
        auth = f"{db.user}:{db.password}@" if db.password else f"{db.user}@" if db.user else ""
        yield f"postgres://{auth}{db.host or 'localhost'}:{db.port or 5432}/{restore_db}"
        admin.execute(f'DROP DATABASE IF EXISTS "{restore_db}" WITH (FORCE)')


def jpeg(color) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, "JPEG")
    return SimpleUploadedFile("p.jpg", buffer.getvalue(), "image/jpeg")


@pytest.fixture
def register():
    """A small register: topics, a route, users with roles, appeals with events, photos on disk."""
    topic = TopicFactory()
    RuleFactory(topic=topic)
    citizen = user_with_role(Role.CITIZEN)
    for i in range(3):
        actions.register(
            channel="portal", text=f"Яма у дома {i}", topic=topic, author=citizen,
            author_name="Иван", photo_files=[jpeg((i, 2, 3))],
        )  # fmt: skip
    return topic


def media_files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): backup.sha256(p) for p in root.rglob("*") if p.is_file()}


@pytest.mark.django_db(transaction=True)
def test_a_round_trip_keeps_every_row_and_every_file(register, fresh, tmp_path, settings):
    archive = tmp_path / "backup.tar.gz"
    source = census_of(live())
    assert source["tables"]["appeals_appeal"] == 3 and source["tables"]["appeals_appealphoto"] == 3

    call_command("backup", str(archive), "--checksums", stdout=io.StringIO())
    out = io.StringIO()
    call_command(
        "restore", str(archive), f"--database-url={fresh}", f"--media-root={tmp_path / 'm'}", stdout=out
    )

    with tarfile.open(archive) as tar:
        manifest = backup.json.load(tar.extractfile("manifest.json"))
    assert (manifest["tables"], manifest["checksums"]) == (source["tables"], source["checksums"])
    assert census_of(backup.Database.from_settings(fresh)) == source  # counts and row checksums
    assert media_files(tmp_path / "m") == media_files(Path(settings.MEDIA_ROOT))
    assert len(media_files(tmp_path / "m")) == AppealPhoto.objects.count() == 3
    assert "число строк совпало с манифестом" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_restore_over_data_needs_force(register, fresh, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    call_command("backup", str(archive), stdout=io.StringIO())
    restore = ["restore", str(archive), f"--database-url={fresh}", f"--media-root={tmp_path / 'm'}"]
    call_command(*restore, stdout=io.StringIO())

    with pytest.raises(CommandError, match="не пусты.*--force"):
        call_command(*restore, stdout=io.StringIO())
    call_command(*restore, "--force", stdout=io.StringIO())

    assert census_of(backup.Database.from_settings(fresh))["tables"] == census_of(live())["tables"]


@pytest.mark.django_db(transaction=True)
def test_a_damaged_archive_is_refused_and_the_target_left_alone(register, fresh, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    call_command("backup", str(archive), stdout=io.StringIO())
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as tar, tarfile.open(damaged, "w:gz") as out:
        for member in tar.getmembers():
            data = tar.extractfile(member).read()
            if member.name.startswith("database."):
                data = data[:-100] + bytes(100)
            out.addfile(member, io.BytesIO(data))

    with pytest.raises(CommandError, match="Контрольные суммы не совпали"):
        call_command("restore", str(damaged), f"--database-url={fresh}", f"--media-root={tmp_path / 'm'}")

    assert not (tmp_path / "m").exists()
    fresh_db = backup.Database.from_settings(fresh)
    assert fresh_db.engine == "postgresql" or not Path(fresh_db.name).exists()
    if fresh_db.engine == "postgresql":
        assert census_of(fresh_db)["tables"] == {}


def test_the_database_is_read_from_the_live_connections_settings():
    assert live().name == str(connections["default"].settings_dict["NAME"])
