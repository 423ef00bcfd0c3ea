"""A made-up region's export with its own column names and taxonomy, generated, not copied.

Heating is answered by a different company in each district, so the executor can be told only
from the text and the place together.
"""

import csv
import gzip
import random
from pathlib import Path

from django.core.management import call_command

FILLER = "пожалуйста прошу срочно уже давно жители возле дома во дворе на улице опять который день".split()
STREETS = ["Ленина", "Гагарина", "Садовая", "Мира", "Победы"]
DISTRICTS = ["Северный", "Южный"]
CLASSES = {
    "Дороги": (
        "яма выбоина асфальт дорога проезжая часть разбита колея ремонт покрытия".split(),
        "Дорожное управление",
    ),
    "Освещение": ("фонарь не горит освещение темно лампа столб светильник".split(), "Горсвет"),
    "Мусор": ("мусор контейнер вывоз свалка переполнен отходы баки".split(), "Спецавтобаза"),
    "Отопление": ("батарея холодно отопление радиатор тепло стояк температура".split(), None),
    "Детские площадки": (
        "качели горка площадка песочница сломана карусель ограждение".split(),
        "Благоустройство",
    ),
}
HEATING = {"Северный": "Теплосеть Северного района", "Южный": "Теплосеть Южного района"}
COLUMNS = ["номер", "обращение", "рубрика", "исполнитель", "район", "выборка"]


def rows(n: int = 600, seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    result = []
    for i in range(n):
        category = rnd.choice(list(CLASSES))
        words, executor = CLASSES[category]
        district = rnd.choice(DISTRICTS)
        text = rnd.sample(words, 3) + rnd.sample(FILLER, 3)
        rnd.shuffle(text)
        sentence = " ".join(text).capitalize() + f", ул. {rnd.choice(STREETS)}, д. {rnd.randint(1, 60)}"
        split = "train" if i % 10 < 7 else "dev" if i % 10 < 9 else "test"
        result.append(
            {
                "номер": str(1000 + i),
                "обращение": sentence,
                "рубрика": category,
                "исполнитель": executor or HEATING[district],
                "район": district,
                "выборка": split,
            }
        )
    return result


def write(path: Path, n: int = 600, compress: bool = False, delimiter: str = ";") -> Path:
    opener = gzip.open if compress else open
    with opener(path, "wt", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows(n))
    return path


def train(csv_path: Path, out: Path, *extra: str) -> Path:
    """A model of the region's export, by the command a region would use."""
    call_command(
        "nlp_train",
        "--data", str(csv_path),
        "--text-col", "обращение",
        "--target", "рубрика",
        "--target", "исполнитель",
        "--context-col", "район",
        "--split-col", "выборка",
        "--bind", "topic=рубрика",
        "--bind", "organisation=исполнитель",
        "--bind-context", "район=district",
        "--out", str(out),
        *extra,
    )  # fmt: skip
    return out
