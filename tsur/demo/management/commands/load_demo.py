from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from tsur.analytics import facts
from tsur.appeals import actions, rubricator
from tsur.demo import answers
from tsur.demo import region as demo
from tsur.dispatch import simulator
from tsur.notify.models import Subscription

DEMO_CONTROLLERS = 150  # scripts/up runs their simulator: `tsur dispatch_simulate --prefix demo`


class Command(BaseCommand):
    help = "Build the demo region from an export of appeals and replay a sample of them through the actions."

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=Path(settings.TSUR["DEMO_DATA"]))
        parser.add_argument(
            "--limit", type=int, default=3000, help="how many appeals to replay (default 3000)"
        )
        parser.add_argument("--all", action="store_true", help="replay every appeal of the file")
        parser.add_argument("--users-file", type=Path, default=settings.VAR_DIR / "demo-users.txt")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when appeals already exist")
        parser.add_argument(
            "--keep-dates",
            action="store_true",
            help="replay at the export's own dates (by default moved by whole weeks to end this week)",
        )

    def handle(
        self,
        *args,
        file: Path,
        limit: int,
        all: bool,
        users_file: Path,
        if_empty: bool,
        keep_dates: bool,
        **options,
    ):
        if if_empty and demo.already_loaded():
            self.stdout.write("Демо-данные уже загружены.")
            return
        if not file.exists():
            blocks, topics = rubricator.load()
            self.stdout.write(
                self.style.WARNING(
                    f"Файл с обращениями не найден: {file}\n"
                    f"Загружен рубрикатор по умолчанию (блоков {blocks}, тем {topics}). Чтобы загрузить демо-регион, "
                    "положите выгрузку рядом (../shared/data/spb_appeals.csv.gz) или укажите путь: "
                    "TSUR_DEMO_DATA=/путь/к/файлу.csv.gz или `tsur load_demo --file ФАЙЛ`."
                )
            )
            return
        if limit < 1:
            raise CommandError("--limit must be positive")
        region = demo.DemoRegion(demo.read_rows(file))
        self.stdout.write(f"Справочники из {file} ...")
        region.build_reference()
        demo.write_users(users_file, region.users())
        rows = region.sample(None if all else limit)
        if not keep_dates:
            weeks = region.bring_forward(rows).days // 7
            self.stdout.write(f"Даты выгрузки сдвинуты на {weeks} нед.: последние обращения — этой недели")
        with tqdm(total=len(rows), desc="Обращения", unit="обр", disable=options["verbosity"] == 0) as bar:
            region.replay(rows, progress=bar.update)
        counts = actions.mark_deadlines()
        frequency = Counter(
            region.topics[r["label"], r["subcategory"]]
            for r in rows
            if (r["label"], r["subcategory"]) in region.topics
        )
        review = answers.build(frequency)
        fleet = simulator.fleet(DEMO_CONTROLLERS, prefix="demo")
        Subscription.objects.get_or_create(
            name="ЕДДС (демо: письма в var/mail)",
            defaults={
                "channel": "email",
                "address": "edds@demo.localhost",
                "topics": ["alarm_raised", "outage_opened", "outage_ended"],
                "min_severity": "critical",
            },
        )
        self.stdout.write(f"Диспетчеризация: {len(fleet)} объектов с контроллерами у демо-зданий")
        # the replay stores most of the history around the actions: the KPIs' facts from every timeline
        self.stdout.write(f"Показатели: факты по {facts.rebuild()} обращениям")
        r = region.report
        self.stdout.write(
            f"Территорий {r.territories}, организаций {r.organisations}, тем {r.topics}, зданий {r.buildings}, "
            f"правил маршрутизации {r.rules}; обращений {r.appeals} (пропущено {r.skipped}); "
            f"сроки: {counts}; шаблонов ответов {review['templates']}, правил проверки ответов "
            f"{review['rules']}, ответов на проверке {review['in_review']}"
        )
        if r.users:
            self.stdout.write(f"Демо-пользователи записаны в {users_file}")
