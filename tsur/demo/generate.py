"""`tsur demo_generate --appeals N`: a large register with realistic timelines, fast.

The demo region (territories, organisations, topics, buildings) is built from the export as
`load_demo` builds it; then each generated appeal copies a real appeal of the export (its text,
place, topic, organisation and the hours its answer took), is registered on a day drawn with the
week's and the season's shape and at an hour of the real day, and lives the timeline
tsur.demo.timeline gives it. Appeals and their events are written in batches by tsur.demo.bulk:
binary COPY on PostgreSQL, executemany elsewhere, with no per-row work of the actions (no
notifications, no signals, no webhooks): the history is the past. Registration numbers come from
the register's own counter (tsur.appeals.numbering), so numbering continues after them.
"""

import json
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from tsur.appeals.choices import Status
from tsur.appeals.models import Appeal, AppealEvent, NumberCounter
from tsur.appeals.numbering import SEQUENCE
from tsur.core.choices import Role
from tsur.core.models import Building, User

from . import bulk, events
from . import region as demo
from .days import DAY, HOUR, Days, to_us
from .events import CHANNELS
from .timeline import Batch, Rates, simulate

BATCH = 20_000
SENDERS = 2  # threads sending batches to PostgreSQL, each on its own connection
TABLES = [Appeal._meta.db_table, AppealEvent._meta.db_table]
SEASON = 0.25  # amplitude of the yearly wave, peak in the middle of April (snow melts, potholes)
SEASON_PEAK_DAY = 105
CALENDAR_AHEAD = 500  # days after today: a year of open answers, the reopening and its deadline


@dataclass
class Report:
    appeals: int = 0
    events: int = 0
    seconds: float = 0.0
    first_number: str = ""
    last_number: str = ""
    index_seconds: float = 0.0  # building the indexes again after a large load
    total_seconds: float = 0.0  # everything: writing, indexes, statistics

    @property
    def rate(self) -> float:
        return self.appeals / self.seconds if self.seconds else 0.0


class Source:
    """The export's appeals as arrays, with the demo region's keys of what they name."""

    def __init__(self, region: demo.DemoRegion):
        topics = list(region.topics.values())
        topic_index = {t.pk: i for i, t in enumerate(topics)}
        self.topic_pk = np.array([t.pk for t in topics])
        self.topic_code = [t.code for t in topics]
        self.first_amount = np.array([t.first_response_amount for t in topics])
        self.first_unit = np.array([t.first_response_unit for t in topics], dtype=object)
        self.resolution_amount = np.array([t.resolution_amount for t in topics])
        self.resolution_unit = np.array([t.resolution_unit for t in topics], dtype=object)
        self.priority = [t.priority for t in topics]
        self.organisations = {o.pk: o.name for o in region.organisations.values()}
        self.texts, self.addresses, self.answers, kinds = [], [], [], [""]
        texts, addresses, answers = {}, {}, {}
        rows = []
        for r in region.rows:
            topic = region.topics.get((r["label"], r["subcategory"]))
            organisation = region.organisations.get(r["executor_org"])
            text = demo._plain(r["text"])[:4000]
            if topic is None or organisation is None or not text:
                continue
            address = r["address"].strip()[:400]
            building = region.buildings.get(Building.key_for(address))
            territory = region._territory_of(r)
            answer = demo._plain(r["answer_text"])[:20000]
            kind = demo.PLACE_KINDS.get(r["city_object"], "")
            if kind not in kinds:
                kinds.append(kind)
            rows.append(
                (
                    texts.setdefault(text, len(texts)),
                    addresses.setdefault(address, len(addresses)),
                    topic_index[topic.pk],
                    organisation.pk,
                    territory.pk if territory else -1,
                    building.pk if building else -1,
                    float(r["latitude"]) if r["latitude"] else math.nan,
                    float(r["longitude"]) if r["longitude"] else math.nan,
                    kinds.index(kind),
                    answers.setdefault(answer, len(answers)) if answer else -1,
                    float(r["first_answer_hours"]) if r["first_answer_hours"] else math.nan,
                )
            )
        if not rows:
            raise ValueError("the export has no appeal with a known topic, organisation and text")
        self.texts, self.addresses, self.kinds = bulk.Lasting(texts), bulk.Lasting(addresses), kinds
        self.answers = list(answers) or ["Ответ направлен заявителю."]
        columns = list(zip(*rows, strict=True))
        (self.text, self.address, self.topic, self.organisation, self.territory, self.building) = (
            np.array(c, dtype=np.int64) for c in columns[:6]
        )
        self.latitude, self.longitude = np.array(columns[6]), np.array(columns[7])
        self.kind, self.answer = np.array(columns[8]), np.array(columns[9])
        self.hours = np.array(columns[10])
        created = [demo.DemoRegion._at(region, r["created_at"]) for r in region.rows if r["created_at"]]
        self.hour_weights = np.bincount([c.hour for c in created], minlength=24) + 1.0
        self.weekday_weights = np.bincount([c.weekday() for c in created], minlength=7) + 1.0
        self.organisation_pks = np.array(sorted(self.organisations))
        self.answer = np.where(self.answer < 0, -1, self.answer)

    def __len__(self):
        return len(self.text)


def registration_moments(n: int, days: Days, first: int, now: int, source: Source, rng) -> np.ndarray:
    """n moments between `first` and `now`, sorted: the day by the weekday's and the season's weight,
    the hour as in the real export, the rest uniform."""
    day_first, day_last = days.day_of(np.array([first, now]))
    span = np.arange(day_first, day_last + 1)
    weights = source.weekday_weights[days.weekday[span]] * (
        1 + SEASON * np.cos(2 * np.pi * (days.day_of_year[span] - SEASON_PEAK_DAY) / 365.25)
    )
    day = rng.choice(span, size=n, p=weights / weights.sum())
    hour = rng.choice(24, size=n, p=source.hour_weights / source.hour_weights.sum())
    moments = days.start[day] + hour * HOUR + rng.integers(0, HOUR, size=n)
    # the last day is cut at now, the first at the period's start: draw those again inside
    outside = (moments > now) | (moments < first)
    moments[outside] = rng.integers(first, now, size=int(outside.sum()))
    return np.sort(moments)


def _reserve(n: int, at_us: np.ndarray, days: Days) -> tuple[np.ndarray, list[str]]:
    """Primary keys and registration numbers for n new appeals (in the order of `at_us`)."""
    if connection.vendor == "postgresql":
        table = Appeal._meta.db_table
        keys = _take_from(f"pg_get_serial_sequence('{table}', 'id')", n)
        values = _take_from(f"'{SEQUENCE}'", n)
    else:
        # SQLite has one writer: the batch's transaction holds the counter and the table
        start = (Appeal.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        keys = np.arange(start, start + n)
        counter, _ = NumberCounter.objects.get_or_create(key="appeal")
        NumberCounter.objects.filter(pk=counter.pk).update(value=F("value") + n)
        last = NumberCounter.objects.values_list("value", flat=True).get(pk=counter.pk)
        values = np.arange(last - n + 1, last + 1)
    years = days.year[days.day_of(at_us)] % 100
    return keys, [f"{y:02d}-{v:07d}" for y, v in zip(years.tolist(), values.tolist(), strict=True)]


def _take_from(sequence: str, n: int) -> np.ndarray:
    """n values of a sequence, sorted: a range when nobody else took one meanwhile (the usual case,
    told by the database in one row), the values themselves otherwise."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT min(v), max(v) FROM (SELECT nextval({sequence}) AS v FROM generate_series(1, %s)) s",  # noqa: S608
            [n],
        )
        low, high = cursor.fetchone()
        if high - low + 1 == n:
            return np.arange(low, high + 1, dtype=np.int64)
        cursor.execute(
            f"SELECT nextval({sequence}) FROM generate_series(1, %s)",  # noqa: S608
            [n],
        )
        return np.sort(np.array([r[0] for r in cursor.fetchall()], dtype=np.int64))


class Generator:
    def __init__(
        self,
        region: demo.DemoRegion,
        *,
        period_days: int = 400,
        now=None,
        seed: int = 0,
        rates: Rates | None = None,
    ):
        self.now = to_us(now or timezone.now())
        self.first = self.now - period_days * DAY
        self.source = Source(region)
        self.rng = np.random.default_rng(seed)
        self.rates = rates or Rates()
        zone = settings.TIME_ZONE
        local = timezone.localtime(timezone.now() if now is None else now).date()
        self.days = Days(
            local - timedelta(days=period_days + 2), local + timedelta(days=CALENDAR_AHEAD), zone
        )
        operator = User.objects.filter(assignments__role=Role.OPERATOR, is_active=True).order_by("pk").first()
        self.operator = operator.pk if operator else None
        self.share = settings.TSUR["DEADLINE_WARNING_SHARE"]
        self.pools = events.Pools(self.source)

    def run(self, n: int, progress: Callable[[int], None] = lambda k: None, rebuild_indexes=None) -> Report:
        """Write n appeals. `rebuild_indexes` (PostgreSQL; default: when the register at least
        doubles): drop the tables' secondary indexes first and build them once at the end."""
        report = Report()
        started = time.perf_counter()
        moments = registration_moments(n, self.days, self.first, self.now, self.source, self.rng)
        indexes = []
        if connection.vendor == "postgresql":
            restore_indexes()  # a run stopped before its end left them in the file
            if rebuild_indexes is None:
                rebuild_indexes = n >= max(50_000, Appeal.objects.count())
            if rebuild_indexes:
                indexes = bulk.secondary_indexes(TABLES)
                index_file().parent.mkdir(parents=True, exist_ok=True)
                index_file().write_text(json.dumps(indexes), encoding="utf-8")
                bulk.drop_indexes(indexes)
        # On PostgreSQL, outside a transaction, SENDERS threads send the batches, each on its own
        # connection, while the next one is made: Python and the database work at the same time,
        # and the database's COPY, the slower side, on as many backends.
        overlap = connection.vendor == "postgresql" and not connection.in_atomic_block
        with ThreadPoolExecutor(max_workers=SENDERS) as sender:
            pending: list = []
            for start in range(0, n, BATCH):
                chunk = moments[start : start + BATCH]
                if overlap:
                    made = self._batch(chunk, prepare=True)
                    if len(pending) >= SENDERS:
                        pending.pop(0).result()
                    pending.append(sender.submit(_send, made))
                else:
                    with transaction.atomic():
                        bulk.fast_load()
                        made = self._batch(chunk)
                report.appeals += len(chunk)
                report.events += made.events
                report.first_number = report.first_number or made.first
                report.last_number = made.last
                progress(len(chunk))
            try:
                for sent in pending:
                    sent.result()
            finally:
                if overlap:  # each sender thread's own connection
                    everyone = threading.Barrier(SENDERS, timeout=60)
                    for closed in [sender.submit(_close, everyone) for _ in range(SENDERS)]:
                        closed.result()
        report.seconds = time.perf_counter() - started
        if indexes:
            restore_indexes()
            report.index_seconds = time.perf_counter() - started - report.seconds
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {', '.join(TABLES)}")
        report.total_seconds = time.perf_counter() - started
        return report

    def _batch(self, registered: np.ndarray, prepare: bool = False) -> "Written":
        s, rng, n = self.source, self.rng, len(registered)
        row = rng.integers(0, len(s), size=n)
        topic = s.topic[row]
        wrong = s.organisation_pks[rng.integers(0, len(s.organisation_pks), size=n)]
        wrong = np.where(wrong == s.organisation[row], s.organisation_pks[0], wrong)
        batch = Batch(
            registered=registered,
            first_amount=s.first_amount[topic],
            first_unit=s.first_unit[topic],
            resolution_amount=s.resolution_amount[topic],
            resolution_unit=s.resolution_unit[topic],
            organisation=s.organisation[row],
            wrong_organisation=wrong,
            answer_hours=s.hours[row],
        )
        result = simulate(batch, self.days, self.now, rng, self.rates, self.share)
        keys, numbers = _reserve(n, registered, self.days)
        channel = rng.choice(len(CHANNELS), size=n, p=list(CHANNELS.values()))
        appeal = events.appeal_columns(self, result, row, topic, channel, keys, numbers, registered)
        columns, count = events.event_columns(self, result, row, topic, channel, keys, registered)
        made = Written(count, numbers[0], numbers[-1])
        if prepare:
            made.encoded = [bulk.prepare(Appeal, appeal, n), bulk.prepare(AppealEvent, columns, count)]
        else:
            bulk.write(Appeal, appeal, n)
            bulk.write(AppealEvent, columns, count)
        return made


@dataclass
class Written:
    events: int
    first: str
    last: str
    encoded: list = field(default_factory=list)


def _close(everyone: threading.Barrier) -> None:
    everyone.wait()  # one call in each thread: none returns before all have one
    connection.close()


def _send(made: Written) -> None:
    """In the sender thread: one batch, one transaction, on the thread's own connection."""
    with transaction.atomic():
        bulk.fast_load()
        for encoded in made.encoded:
            bulk.send(encoded)


def index_file() -> Path:
    """Where the definitions of the indexes a large load dropped wait until they are built again
    (one file per database)."""
    name = connection.settings_dict["NAME"]
    return settings.VAR_DIR / f"demo-generate-indexes-{Path(str(name)).name}.json"


def restore_indexes() -> None:
    """Build the indexes a large load dropped (kept in `index_file()` until they are back)."""
    path = index_file()
    if not path.exists():
        return
    bulk.create_indexes([tuple(i) for i in json.loads(path.read_text(encoding="utf-8"))])
    path.unlink()


def load_region(path: Path) -> demo.DemoRegion:
    region = demo.DemoRegion(demo.read_rows(path))
    region.build_reference()
    return region


def status_counts() -> dict[str, int]:
    return {s: Appeal.objects.filter(status=s).count() for s in Status.values}
