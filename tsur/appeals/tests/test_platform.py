"""The platform around the register: settings, the console command, the job queue, numbering, the demo."""

import csv
import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from tsur.appeals import actions, numbering
from tsur.appeals.choices import Channel, CloseReason, Status
from tsur.appeals.models import Appeal, RoutingRule, Topic
from tsur.core.models import Building, Organisation, Territory, User

ROOT = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent


def run(*args, env=None, **kwargs):
    clean = {k: v for k, v in os.environ.items() if k not in {"TSUR_TESTING", "DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        args, cwd=ROOT, env={**clean, **(env or {})}, capture_output=True, text=True, timeout=120, **kwargs
    )


def test_platform_refuses_to_start_without_a_secret_key_when_debug_is_off(tmp_path):
    result = run(str(VENV_BIN / "tsur"), "check", env={"TSUR_VAR_DIR": str(tmp_path)})
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


COLUMNS = [
    "id",
    "text",
    "label",
    "subcategory",
    "city_object",
    "district",
    "municipality",
    "address",
    "latitude",
    "longitude",
    "executor_org",
    "created_at",
    "first_answer_at",
    "final_status",
    "final_status_at",
    "n_answers",
    "answer_text",
    "first_answer_hours",
    "split",
]


def demo_rows():
    """A small export in the shape of the real one (made up, so the test does not depend on the data file)."""
    rows = []
    people = [
        (
            "Невский",
            "муниципальный округ Рыбацкое",
            "СПб ГКУ ЖА Невского района",
            "Благоустройство",
            "Мусор на внутридворовой территории",
            "Двор",
        ),
        (
            "Невский",
            "муниципальный округ Народный",
            "Администрация Невского района",
            "Содержание МКД",
            "Неудовлетворительное состояние парадной",
            "Дом",
        ),
        (
            "Приморский",
            "муниципальный округ №65",
            "Администрация Приморского района",
            "Содержание МКД",
            "Неудовлетворительное состояние парадной",
            "Дом",
        ),
    ]
    statuses = [
        "Завершено: Пользователь удовлетворен решением проблемы",
        "Завершено: Автоматически",
        "Промежуточный ответ",
        "Получен ответ",
        "Рассмотрение",
        "Модерация",
    ]
    for i in range(36):
        district, municipality, executor, label, subcategory, place = people[i % 3]
        status = statuses[i % len(statuses)]
        created = timezone.datetime(2021, 3, 1 + i % 20, 10, 0)
        answered = (
            created + timezone.timedelta(days=3)
            if status != "Модерация" and status != "Рассмотрение"
            else None
        )
        rows.append(
            {
                "id": str(1000 + i),
                "text": f"Проблема номер {i} во дворе",
                "label": label,
                "subcategory": subcategory,
                "city_object": place,
                "district": district,
                "municipality": municipality,
                "address": f"г.Санкт-Петербург, улица Тестовая, дом {i % 7}",
                "latitude": "59.9",
                "longitude": "30.4",
                "executor_org": executor,
                "created_at": created.isoformat(),
                "first_answer_at": answered.isoformat() if answered else "",
                "final_status": status,
                "final_status_at": (created + timezone.timedelta(days=5)).isoformat(),
                "n_answers": "1",
                "answer_text": "Работы выполнены <br> в срок",
                "first_answer_hours": "72.0" if answered else "",
                "split": "train",
            }
        )
    return rows


@pytest.mark.django_db
def test_demo_region_is_built_from_an_export_and_replayed_through_the_actions(tmp_path):
    path = tmp_path / "export.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(demo_rows())
    users_file = tmp_path / "users.txt"

    call_command("load_demo", "--file", str(path), "--all", "--users-file", str(users_file), verbosity=0)

    assert Territory.objects.get(code="spb").children.count() == 2
    assert set(Territory.objects.filter(parent__name="Невский район").values_list("name", flat=True)) == {
        "муниципальный округ Рыбацкое",
        "муниципальный округ Народный",
    }
    housing = Organisation.objects.get(name="СПб ГКУ ЖА Невского района")
    assert housing.parent.name == "Администрация Невского района"
    assert Building.objects.count() == 7
    assert Topic.objects.filter(code__startswith="spb-").count() == 2
    assert RoutingRule.objects.filter(organisation=housing).exists()
    assert Appeal.objects.count() == 36
    # statuses follow the real history
    closed = Appeal.objects.filter(status=Status.CLOSED)
    assert set(closed.values_list("close_reason", flat=True)) == {CloseReason.SATISFIED, CloseReason.AUTO}
    assert Appeal.objects.filter(status=Status.MODERATION).count() == 6
    assert Appeal.objects.filter(status=Status.INTERIM).count() == 6
    appeal = Appeal.objects.get(external_id="1000")
    assert appeal.registered_at == timezone.datetime(
        2021, 3, 1, 10, 0, tzinfo=timezone.get_default_timezone()
    )
    assert list(appeal.events.values_list("kind", flat=True)) == [
        "registered",
        "assigned",
        "taken",
        "answered",
        "closed",
    ]
    assert "<br>" not in appeal.events.get(kind="answered").reason
    # one user per role, with passwords kept for the person starting the demo
    lines = users_file.read_text().splitlines()
    assert [line.split("\t")[0] for line in lines] == [
        "admin",
        "operator",
        "executor",
        "supervisor",
        "analyst",
        "leader",
        "dispatcher",
        "citizen",
    ]
    assert User.objects.get(username="executor").assignments.get().organisation == housing

    # a second run adds nothing
    call_command(
        "load_demo", "--file", str(path), "--limit", "30", "--users-file", str(users_file), verbosity=0
    )
    assert Appeal.objects.count() == 36


@pytest.mark.django_db
def test_without_the_export_the_platform_still_starts_with_the_default_rubricator(tmp_path, capsys):
    call_command("load_demo", "--file", str(tmp_path / "absent.csv.gz"))
    assert "не найден" in capsys.readouterr().out
    assert Topic.objects.filter(code="zhkh-no-heating").exists()
    assert Appeal.objects.count() == 0


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
