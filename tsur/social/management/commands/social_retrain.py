"""`tsur social_retrain [--simulated N] [--out DIR]`: the triage model from the moderators'
decisions (plus N posts of the simulated feed with their known labels), measured on held-out groups
and written with its figures (docs/social.md)."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tsur.social import learning, triage


class Command(BaseCommand):
    help = "Обучить модель разбора публикаций на решениях модераторов (и смоделированной ленте)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--simulated", type=int, default=0, help="добавить N публикаций смоделированной ленты"
        )
        parser.add_argument("--out", default="", help="каталог модели (по умолчанию SOCIAL['TRIAGE_MODEL'])")
        parser.add_argument("--if-missing", action="store_true", help="только если модели ещё нет")

    def handle(self, *args, simulated, out, if_missing, **options):
        if if_missing and (Path(out or settings.SOCIAL["TRIAGE_MODEL"]) / "pipeline.joblib").exists():
            return
        examples = learning.moderated()
        if simulated:
            data = Path(settings.TSUR["DEMO_DATA"])
            if not data.exists():
                raise CommandError(f"Смоделированной ленте нужна выгрузка обращений: файл не найден: {data}")
            examples += learning.simulated(simulated)
        if not examples:
            raise CommandError(
                "Нет решений модераторов; добавьте --simulated N, чтобы начать со смоделированной ленты."
            )
        directory = Path(out or settings.SOCIAL["TRIAGE_MODEL"])
        try:
            model = learning.retrain(examples, directory, progress=self.stdout.write)
        except ValueError as error:
            raise CommandError(str(error)) from error
        triage.forget_model()
        self.stdout.write(json.dumps(model.manifest["held_out"], ensure_ascii=False, indent=2))
        self.stdout.write(f"модель записана в {directory}")
