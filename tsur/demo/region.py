"""The demo region, built from a real export of appeals (the «Наш Санкт-Петербург» file by default).

Reference data (territories, organisations, topics, buildings, routing rules) is derived from the
whole file; a sample of appeals is then replayed through the real actions at their real filing and
answer times, so every timeline, deadline and status is what the platform itself would have produced.
"""

import csv
import gzip
import json
import os
import re
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tsur.appeals import actions, rubricator
from tsur.appeals.choices import Channel, CloseReason, DeadlineUnit
from tsur.appeals.models import Appeal, RoutingRule, ThematicBlock, Topic
from tsur.core.choices import OrganisationKind, PlaceKind, Role, TerritoryKind
from tsur.core.errors import DomainError
from tsur.core.models import Building, Organisation, RoleAssignment, Territory, User

BLOCKS_OF_LABELS = Path(__file__).with_name("data") / "spb_blocks.json"
PLACE_KINDS = {
    "Дом": PlaceKind.BUILDING,
    "Двор": PlaceKind.YARD,
    "Улица": PlaceKind.STREET,
    "Территория Санкт-Петербурга": PlaceKind.TERRITORY,
    "Сооружение": PlaceKind.STRUCTURE,
    "Парк, сад, бульвар, сквер": PlaceKind.PARK,
    "Квартира": PlaceKind.APARTMENT,
    "Рекламные или информационные конструкции": PlaceKind.ADVERTISING,
    "Мост": PlaceKind.BRIDGE,
    "Строительная площадка": PlaceKind.CONSTRUCTION_SITE,
    "Кладбище": PlaceKind.CEMETERY,
}
TAG = re.compile(r"<[^>]*>")


@dataclass
class Report:
    territories: int = 0
    organisations: int = 0
    topics: int = 0
    buildings: int = 0
    rules: int = 0
    appeals: int = 0
    skipped: int = 0
    users: dict[str, str] = field(default_factory=dict)


def read_rows(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def genitive(district: str) -> str:
    """«Невский» → «Невского» (how the district appears in organisation names)."""
    for ending in ("ский", "цкий", "ый", "ой", "ий"):
        if district.endswith(ending):
            return district[: -len(ending[-2:])] + "ого"
    return district


def organisation_kind(name: str) -> str:
    lowered = name.lower()
    if lowered.startswith("администрация"):
        return OrganisationKind.MUNICIPAL_ADMINISTRATION
    if "общество с ограниченной" in lowered or lowered.startswith("ооо"):
        return OrganisationKind.MANAGEMENT_COMPANY
    if "гуп" in lowered:
        return OrganisationKind.UTILITY
    if lowered.startswith(("комитет", "служба", "государственная")) or "инспекция" in lowered:
        return OrganisationKind.MINISTRY
    return OrganisationKind.AGENCY


RESIDENT_EVERY = 100


class DemoRegion:
    def __init__(self, rows: list[dict[str, str]], region_name: str = "Санкт-Петербург"):
        self.rows = rows
        self.region_name = region_name
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.report = Report()
        # added to the export's moments (`brought_forward`); the replay's own clock
        self.shift = timedelta(0)
        self.now = timezone.now()

    # ------------------------------------------------------------ reference data

    @transaction.atomic
    def build_reference(self, rule_rows: list[dict[str, str]] | None = None) -> None:
        """Territories, organisations, topics and buildings from every row; routing rules learned
        from `rule_rows` (default: every row; a benchmark gives the train split only)."""
        rubricator.load()
        self._territories()
        self._organisations()
        self._topics()
        self._buildings()
        self._rules(self.rows if rule_rows is None else rule_rows)

    def _territories(self):
        region, _ = Territory.objects.get_or_create(
            code="spb", defaults={"name": self.region_name, "kind": TerritoryKind.REGION}
        )
        self.region = region
        self.districts: dict[str, Territory] = {}
        self.municipalities: dict[tuple[str, str], Territory] = {}
        pairs = sorted({(r["district"], r["municipality"]) for r in self.rows if r["district"]})
        for index, district in enumerate(sorted({d for d, _ in pairs}), start=1):
            self.districts[district], _ = Territory.objects.get_or_create(
                code=f"spb-{index:02d}",
                defaults={"name": f"{district} район", "kind": TerritoryKind.CITY_DISTRICT, "parent": region},
            )
        numbers = Counter()
        for district, municipality in pairs:
            if not municipality:
                continue
            parent = self.districts[district]
            numbers[district] += 1
            self.municipalities[district, municipality], _ = Territory.objects.get_or_create(
                code=f"{parent.code}-{numbers[district]:02d}",
                defaults={"name": municipality, "kind": TerritoryKind.MUNICIPAL_OKRUG, "parent": parent},
            )
        self.report.territories = 1 + len(self.districts) + len(self.municipalities)

    def _organisations(self):
        self.organisations: dict[str, Organisation] = {}
        administrations: dict[str, Organisation] = {}
        names = sorted(
            {r["executor_org"] for r in self.rows if r["executor_org"]},
            key=lambda n: (organisation_kind(n) != OrganisationKind.MUNICIPAL_ADMINISTRATION, n),
        )
        for name in names:
            kind = organisation_kind(name)
            district = next((d for d in self.districts if f"{genitive(d)} район" in name), None)
            parent = (
                administrations.get(district) if kind != OrganisationKind.MUNICIPAL_ADMINISTRATION else None
            )
            organisation, _ = Organisation.objects.get_or_create(
                name=name, defaults={"kind": kind, "parent": parent}
            )
            organisation.territories.add(self.districts[district] if district else self.region)
            if kind == OrganisationKind.MUNICIPAL_ADMINISTRATION and district:
                administrations[district] = organisation
            self.organisations[name] = organisation
        self.report.organisations = len(self.organisations)

    def _topics(self):
        blocks = json.loads(BLOCKS_OF_LABELS.read_text(encoding="utf-8"))
        hours = defaultdict(list)
        for r in self.rows:
            if r["first_answer_hours"]:
                hours[r["label"], r["subcategory"]].append(float(r["first_answer_hours"]))
        self.topics: dict[tuple[str, str], Topic] = {}
        pairs = sorted({(r["label"], r["subcategory"]) for r in self.rows if r["label"] and r["subcategory"]})
        for index, (label, subcategory) in enumerate(pairs, start=1):
            observed = sorted(hours.get((label, subcategory), [])) or [192.0]
            # the regulation that three quarters of the real answers met, in working days
            p75 = observed[int(0.75 * (len(observed) - 1))]
            working_days = max(2, min(20, round(p75 / 24 * 5 / 7)))
            block = ThematicBlock.objects.get(code=blocks.get(label, "prochee"))
            self.topics[label, subcategory], _ = Topic.objects.update_or_create(
                code=f"spb-{index:03d}",
                defaults={
                    "block": block,
                    "name": subcategory[:400],
                    "category": label,
                    "first_response_amount": max(1, working_days // 2),
                    "first_response_unit": DeadlineUnit.WORKING_DAYS,
                    "resolution_amount": working_days,
                    "resolution_unit": DeadlineUnit.WORKING_DAYS,
                },
            )
        self.report.topics = len(self.topics)

    def _territory_of(self, row) -> Territory | None:
        return self.municipalities.get((row["district"], row["municipality"])) or self.districts.get(
            row["district"]
        )

    def _buildings(self):
        existing = set(Building.objects.values_list("address_key", flat=True))
        new = []
        for row in self.rows:
            address = row["address"].strip()
            key = Building.key_for(address)
            territory = self._territory_of(row)
            if not address or key in existing or territory is None:
                continue
            existing.add(key)
            new.append(
                Building(
                    address=address[:400],
                    address_key=key[:400],
                    territory=territory,
                    latitude=float(row["latitude"]) if row["latitude"] else None,
                    longitude=float(row["longitude"]) if row["longitude"] else None,
                    kind=PLACE_KINDS.get(row["city_object"], PlaceKind.OTHER),
                )
            )
        Building.objects.bulk_create(new, batch_size=1000)
        self.buildings = {b.address_key: b for b in Building.objects.select_related("territory")}
        self.report.buildings = len(self.buildings)

    def _rules(self, rows: list[dict[str, str]]):
        """Learn routing rules from who actually answered: per topic and district, and per topic."""
        if RoutingRule.objects.filter(topic__code__startswith="spb-").exists():
            return
        by_district = defaultdict(Counter)
        by_topic = defaultdict(Counter)
        for r in rows:
            key = (r["label"], r["subcategory"])
            if key in self.topics and r["executor_org"]:
                by_district[key, r["district"]][r["executor_org"]] += 1
                by_topic[key][r["executor_org"]] += 1
        rules = []
        for key, counts in by_topic.items():
            name, n = counts.most_common(1)[0]
            if n >= 3 and n / sum(counts.values()) >= 0.5:
                rules.append(
                    RoutingRule(
                        topic=self.topics[key],
                        organisation=self.organisations[name],
                        note=f"по данным: {n} из {sum(counts.values())}",
                    )
                )
        for (key, district), counts in by_district.items():
            name, n = counts.most_common(1)[0]
            if district in self.districts and n >= 3 and n / sum(counts.values()) >= 0.5:
                rules.append(
                    RoutingRule(
                        topic=self.topics[key],
                        territory=self.districts[district],
                        organisation=self.organisations[name],
                        note=f"по данным: {n} из {sum(counts.values())}",
                    )
                )
        RoutingRule.objects.bulk_create(rules)
        self.report.rules = len(rules)

    # ------------------------------------------------------------ users

    def users(self, password: str | None = None) -> dict[str, str]:
        """One demo user per role; returns {username: password} for those created now."""
        housing = self.organisations.get("СПб ГКУ ЖА Невского района") or next(
            iter(self.organisations.values())
        )
        plan = [
            ("admin", Role.ADMINISTRATOR, None, "Администратор"),
            ("operator", Role.OPERATOR, None, "Оператор ЦУР"),
            ("executor", Role.EXECUTOR, housing, "Исполнитель"),
            ("supervisor", Role.SUPERVISOR, housing, "Руководитель"),
            ("analyst", Role.ANALYST, None, "Аналитик"),
            ("leader", Role.LEADERSHIP, None, "Руководство"),
            ("dispatcher", Role.DISPATCHER, None, "Диспетчер"),
            ("citizen", Role.CITIZEN, None, "Житель"),
        ]
        created = {}
        for username, role, organisation, title in plan:
            if User.objects.filter(username=username).exists():
                continue
            secret = password or secrets.token_urlsafe(9)
            user = User.objects.create_user(
                username=username,
                password=secret,
                first_name=title,
                email=f"{username}@example.org",
                is_staff=role == Role.ADMINISTRATOR,
                is_superuser=role == Role.ADMINISTRATOR,
            )
            RoleAssignment.objects.create(user=user, role=role, organisation=organisation)
            created[username] = secret
        self.report.users = created
        return created

    # ------------------------------------------------------------ replay

    def sample(self, limit: int | None) -> list[dict[str, str]]:
        rows = sorted((r for r in self.rows if r["text"].strip()), key=lambda r: r["created_at"])
        if limit is None or limit >= len(rows):
            return rows
        step = len(rows) / limit
        return [rows[int(i * step)] for i in range(limit)]

    def _at(self, value: str) -> datetime | None:
        if not value:
            return None
        return datetime.fromisoformat(value).replace(tzinfo=self.tz) + self.shift

    def bring_forward(self, rows: list[dict[str, str]], now: datetime | None = None) -> timedelta:
        """Move the replay by whole weeks (weekdays and hours stay) so that the last of these appeals
        was filed in the week before `now`: the demo then looks like a region at work today — today's
        figures, the last weeks' reports, appeals still open and overdue — rather than an archive.
        What the export says happened after `now` has not happened yet: it is not replayed."""
        self.now = now or timezone.now()
        created = [self._at(r["created_at"]) for r in rows if r["created_at"]]
        if created:
            weeks = (self.now - max(created)) // timedelta(weeks=1)
            self.shift += timedelta(weeks=weeks)
        return self.shift

    def replay(
        self, rows: Iterable[dict[str, str]], progress: Callable[[int], None] = lambda n: None
    ) -> None:
        # the demo resident («citizen») filed one appeal in RESIDENT_EVERY: «мои обращения» shows them
        resident = User.objects.filter(username="citizen").first()
        for n, row in enumerate(rows):
            try:
                self._replay_one(row, author=resident if n % RESIDENT_EVERY == 0 else None)
                self.report.appeals += 1
            except DomainError:
                self.report.skipped += 1
            progress(1)

    def _replay_one(self, row, author: User | None = None):
        created = self._at(row["created_at"])
        building = self.buildings.get(Building.key_for(row["address"].strip()))
        topic = self.topics.get((row["label"], row["subcategory"]))
        organisation = self.organisations.get(row["executor_org"])
        status = row["final_status"]
        moderation = status == "Модерация" or organisation is None
        appeal, new = actions.register(
            channel=Channel.PORTAL,
            external_id=row["id"],
            text=_plain(row["text"])[:4000],
            address=row["address"][:400],
            building=building,
            territory=self._territory_of(row),
            latitude=float(row["latitude"]) if row["latitude"] else None,
            longitude=float(row["longitude"]) if row["longitude"] else None,
            place_kind=PLACE_KINDS.get(row["city_object"], ""),
            topic=topic,
            organisation=None if moderation else organisation,
            moderate=moderation,
            author=author,
            author_email=author.email if author else "",
            personal_data_consent=True if author else None,
            at=created,
        )
        if not new or moderation:
            return
        answered = self._at(row["first_answer_at"])
        final_at = self._at(row["final_status_at"])
        taken = min(created + timedelta(hours=1), answered or created + timedelta(hours=1), self.now)
        actions.take(appeal, None, at=max(created, taken))
        if answered is None or answered < created or answered > self.now:
            return
        text = _plain(row["answer_text"]) or "Ответ направлен заявителю."
        if status in ("Промежуточный ответ", "Рассмотрение"):
            actions.interim_answer(
                appeal, None, text=text, planned_at=answered + timedelta(days=14), at=answered
            )
            return
        actions.answer(appeal, None, text=text, at=answered)
        how = {
            "Завершено: Пользователь удовлетворен решением проблемы": CloseReason.SATISFIED,
            "Завершено: Автоматически": CloseReason.AUTO,
            "Завершено: Народный контролер подтвердил решение проблемы": CloseReason.CONTROLLER,
        }.get(status)
        if how and final_at and answered <= final_at <= self.now:
            actions.close(appeal, None, how=how, at=final_at)


def _plain(text: str) -> str:
    return TAG.sub(" ", text or "").strip()


def already_loaded() -> bool:
    return Appeal.objects.exists()


def write_users(path: Path, users: dict[str, str]) -> None:
    if not users:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # readable by its owner only, before any password is written into it
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # also when the file was already there
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.writelines(f"{username}\t{password}\n" for username, password in users.items())
