"""The platform around the register: settings, the console command, the job queue, numbering."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from tsur.appeals import actions, numbering
from tsur.appeals.choices import Channel

ROOT = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent


def run(*args, env=None, **kwargs):
    clean = {k: v for k, v in os.environ.items() if k not in {"TSUR_TESTING", "DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        args, cwd=ROOT, env={**clean, **(env or {})}, capture_output=True, text=True, timeout=120, **kwargs
    )


def test_platform_refuses_to_start_without_a_secret_key_when_debug_is_off(tmp_path):
    # no .env either: both README commands write one with a key
    result = run(str(VENV_BIN / "tsur"), "check", env={"TSUR_VAR_DIR": str(tmp_path), "TSUR_ENV_FILE": ""})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_console_command_runs_management_commands_with_the_projects_settings(tmp_path):
    result = run(
        str(VENV_BIN / "tsur"),
        "check",
        "--deploy",
        "--fail-level",
        "CRITICAL",
        env={"SECRET_KEY": "k" * 60, "TSUR_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified" in result.stdout + result.stderr


def test_huey_uses_redis_when_redis_url_is_set(tmp_path):
    code = (
        "from django.conf import settings; from huey.contrib.djhuey import HUEY; print(type(HUEY).__name__)"
    )
    env = {"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1", "TSUR_VAR_DIR": str(tmp_path)}
    sqlite = run(sys.executable, "-c", f"import django; django.setup(); {code}", env=env)
    redis = run(
        sys.executable,
        "-c",
        f"import django; django.setup(); {code}",
        env={**env, "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")},
    )
    assert (sqlite.stdout.strip(), redis.stdout.strip()) == ("SqliteHuey", "PriorityRedisHuey"), (
        sqlite.stderr + redis.stderr
    )


def test_periodic_jobs_are_registered():
    from django.utils.module_loading import autodiscover_modules
    from huey.contrib.djhuey import HUEY

    autodiscover_modules("tasks")  # what the job worker does when it starts

    names = {task.__name__ for task in HUEY._registry._periodic_tasks}
    assert {"check_deadlines", "close_unanswered", "check_silence"} <= names


@pytest.mark.django_db(transaction=True)
def test_registration_numbers_are_never_reused():
    at = timezone.now()
    first, _ = actions.register(channel=Channel.HOTLINE, text="Нет света в подъезде", at=at)
    number = first.number
    first.events.all().delete()
    first.delete()
    second, _ = actions.register(channel=Channel.HOTLINE, text="Нет света в подъезде", at=at)
    assert second.number != number
    assert int(second.number.split("-")[1]) == int(number.split("-")[1]) + 1
    assert second.number.startswith(f"{timezone.localtime(at):%y}-")


@pytest.mark.django_db
def test_number_format():
    at = timezone.datetime(2026, 1, 1, 0, 30, tzinfo=timezone.get_default_timezone())
    assert numbering.format_number(42, at) == "26-0000042"


@pytest.mark.django_db
def test_numbers_are_never_issued_twice_across_processes(monkeypatch):
    """On PostgreSQL a process takes numbers in blocks; a process forked from one holding a block
    (or any other process) starts a block of its own."""
    first = [numbering.next_value() for _ in range(numbering.RESERVED // 2)]
    pid, left = numbering._block
    # a forked child: a copy of the parent's memory, and a process id of its own
    monkeypatch.setattr(numbering, "_block", (pid, list(left)))
    monkeypatch.setattr(numbering.os, "getpid", lambda: -1)
    child = [numbering.next_value() for _ in range(numbering.RESERVED * 2)]
    monkeypatch.undo()
    rest = [numbering.next_value() for _ in range(numbering.RESERVED)]
    issued = first + child + rest
    assert len(set(issued)) == len(issued)
    assert first == sorted(first) and child == sorted(child)
    assert min(child) > max(first)


@pytest.mark.django_db
def test_the_register_has_no_index_it_does_not_use():
    """Each index costs every registration: the numbers and intake keys are unique through their
    constraints alone, and building, organisation and an event's appeal are indexed only as the
    first column of the composite indexes (appeals migration 0009, which renames on PostgreSQL)."""
    from django.db import connection

    def single_column(table):
        with connection.cursor() as cursor:
            found = connection.introspection.get_constraints(cursor, table)
        return {
            (tuple(c["columns"]), bool(c["unique"]), name)
            for name, c in found.items()
            if len(c["columns"]) == 1 and (c["index"] or c["unique"]) and not c["primary_key"]
        }

    appeal = single_column("appeals_appeal")
    for column in ("number", "intake_key"):
        assert [unique for (columns, unique, _) in appeal if columns == (column,)] == [True]
    assert {name for (_, unique, name) in appeal if unique} == {
        "appeal_number_unique",
        "appeal_intake_key_unique",
    }
    assert not {c for (c, _, _) in appeal} & {("building_id",), ("organisation_id",)}
    assert ("appeal_id",) not in {c for (c, _, _) in single_column("appeals_appealevent")}
