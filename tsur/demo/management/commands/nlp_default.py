import json
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from tsur.nlp.model import FORMAT


class Command(BaseCommand):
    help = (
        "Train the register's default text model from the demo export (topic, sub-topic and executor from "
        "text, kind of place and district)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=Path(settings.TSUR["DEMO_DATA"]))
        parser.add_argument(
            "--out", type=Path, default=Path(settings.TSUR["NLP_MODEL"] or "var/models/default")
        )
        parser.add_argument("--if-missing", action="store_true", help="do nothing when the model exists")

    def handle(self, *args, file: Path, out: Path, if_missing: bool, **options):
        if if_missing and _current_format(out):
            self.stdout.write(f"Модель текста уже есть: {out}")
            return
        if not file.exists():
            self.stdout.write(
                self.style.WARNING(
                    f"Выгрузка для обучения не найдена: {file}. Обращения будут ждать модерации; обучить модель: "
                    "`tsur nlp_default --file ФАЙЛ.csv.gz` или `tsur nlp_train …`."
                )
            )
            return
        self.stdout.write(f"Обучаю модель текста по {file} (на двух ядрах около трёх минут) ...")
        call_command(
            "nlp_train",
            "--data", str(file),
            "--text-col", "text",
            "--target", "label",
            "--target", "subcategory",
            "--target", "executor_org",
            "--context-col", "city_object",
            "--context-col", "district",
            "--split-col", "split",
            "--bind", "category=label",
            "--bind", "topic=subcategory",
            "--bind", "organisation=executor_org",
            "--bind-context", "city_object=place_kind",
            "--bind-context", "district=district",
            "--out", str(out),
            stdout=self.stdout,
            stderr=self.stderr,
        )  # fmt: skip


def _current_format(directory: Path) -> bool:
    """A model exists and this code can read it (an older format is trained again)."""
    try:
        return json.loads((directory / "manifest.json").read_text()).get("format") == FORMAT
    except (OSError, ValueError):
        return False
