import argparse
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from tsur.demo import generate


class Command(BaseCommand):
    help = (
        "Write N appeals with realistic timelines into the register (the demo region built from the export "
        "first): binary COPY on PostgreSQL, bulk inserts elsewhere."
    )

    def add_arguments(self, parser):
        parser.add_argument("--appeals", type=int, required=True, help="how many appeals to write")
        parser.add_argument("--days", type=int, default=400, help="over how many last days (default 400)")
        parser.add_argument(
            "--seed", type=int, default=0, help="random seed (the same seed, the same register)"
        )
        parser.add_argument("--file", type=Path, default=Path(settings.TSUR["DEMO_DATA"]))
        parser.add_argument(
            "--rebuild-indexes",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="PostgreSQL: drop the secondary indexes and build them at the end (default: when the "
            "register at least doubles, from 50,000 appeals)",
        )

    def handle(self, *args, appeals: int, days: int, seed: int, file: Path, rebuild_indexes, **options):
        if appeals < 1:
            raise CommandError("--appeals must be positive")
        if days < 1:
            raise CommandError("--days must be positive")
        if not file.exists():
            raise CommandError(f"Файл с обращениями не найден: {file} (TSUR_DEMO_DATA или --file)")
        self.stdout.write(f"Справочники из {file} ...")
        generator = generate.Generator(generate.load_region(file), period_days=days, seed=seed)
        with tqdm(total=appeals, desc="Обращения", unit="обр", disable=options["verbosity"] == 0) as bar:
            report = generator.run(appeals, progress=bar.update, rebuild_indexes=rebuild_indexes)
        self.stdout.write(
            f"Записано обращений {report.appeals}, событий {report.events} за {report.seconds:.1f} с: "
            f"{report.rate:,.0f} обращений в секунду; номера {report.first_number} … {report.last_number}"
        )
        self.stdout.write(
            f"Индексы построены заново за {report.index_seconds:.1f} с; всего {report.total_seconds:.1f} с "
            f"({report.appeals / report.total_seconds:,.0f} обращений в секунду с индексами и статистикой)"
        )
        self.stdout.write(
            "Обращения записаны в обход действий: для показателей ситуационного центра выполните "
            "`tsur analytics_rebuild`."
        )
