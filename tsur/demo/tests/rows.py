"""A small export in the shape of the real one (made up, so the tests do not depend on the data file)."""

import csv
import gzip
from pathlib import Path

from django.utils import timezone

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


def write_export(path: Path) -> Path:
    """The rows as a gzipped CSV, like ../shared/data/spb_appeals.csv.gz."""
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(demo_rows())
    return path
