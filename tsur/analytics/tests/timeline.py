"""A small fixed timeline for the KPI tests, built through the register's own action functions with
a controlled clock (every step is given its moment `at`): nine appeals registered in March 2026 and
one in February, in Moscow time, on the production calendar of 2026 (9 March is a holiday).

    A1  org A  T1  reg Mon 02.03 10:00, answered Wed 04.03 10:00, closed «satisfied», rated 5
    A2  A → B  T1  reg Mon 02.03 12:00, redirected to B Tue 03.03 12:00, answered Fri 06.03 12:00
    A3  org A  T2  reg Wed 04.03 09:00, clarification asked Thu 05.03 09:00, the citizen replied
                   Tue 10.03 09:00 (pause of 2 working days), answered Thu 12.03 09:00, rated 2
    A4  org A  T1  reg Thu 05.03 10:00, answered Fri 06.03 10:00, reopened Wed 11.03 10:00,
                   answered again Fri 13.03 10:00, closed automatically Tue 24.03
    A5  org B  T1  reg Mon 02.03 09:00 (due 17.03), interim answer Tue 03.03 09:00, extended
                   Mon 16.03 to 27.03 23:00, answered Thu 26.03 09:00 (on time thanks to it)
    A6  org A  T1  reg Mon 02.03 14:00 (due 17.03), taken, still open on 31.03: overdue now
    A7  org B  T2  reg Tue 03.03 10:00 (due 18.03), answered Thu 19.03 10:00: late
    A8  org B  T2  reg Mon 23.03 10:00 at A7's address, routed by the platform alone: a repeat; no first
                   response by the end of Wed 25.03: overdue now
    A9  —      T1  reg Tue 10.03 10:00 into moderation, rejected
    A0  org A  T1  reg Fri 27.02 10:00, answered: outside March
"""

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from tsur.appeals import actions
from tsur.appeals.choices import Channel, CloseReason
from tsur.appeals.models import RoutingRule
from tsur.appeals.tests.factories import BlockFactory, TopicFactory
from tsur.core.choices import Role
from tsur.core.tests.factories import OrganisationFactory, TerritoryFactory, user_with_role

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 3, 31, 12, 0, tzinfo=MSK)
# planted in every appeal: no analyst may see them anywhere
NAME, PHONE, FLAT = "Пантелеймонова Евлампия", "+7 911 555-43-21", "кв. 517"


def at(day: int, hour: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=MSK)


@dataclass
class Timeline:
    region: object = None
    d1: object = None
    d2: object = None
    org_a: object = None
    org_b: object = None
    t1: object = None
    t2: object = None
    appeals: dict = field(default_factory=dict)
    worker: object = None


def build() -> Timeline:
    tl = Timeline()
    tl.region = TerritoryFactory(name="Регион")
    tl.d1 = TerritoryFactory(name="Северный район", parent=tl.region)
    tl.d2 = TerritoryFactory(name="Южный район", parent=tl.region)
    tl.org_a = OrganisationFactory(name="Администрация Северного района")
    tl.org_b = OrganisationFactory(name="Жилкомсервис")
    tl.t1 = TopicFactory(block=BlockFactory(name="ЖКХ"), name="Уборка двора")
    tl.t2 = TopicFactory(block=BlockFactory(name="Дороги"), name="Ямы")
    # the platform routes T2 in the north to B alone: a rule measured right 99 times in 100
    RoutingRule.objects.create(
        topic=tl.t2, territory=tl.d1, organisation=tl.org_b, measured_precision=0.99, measured_support=200
    )
    worker = user_with_role(Role.EXECUTOR)
    tl.worker = worker

    def file(name, day, hour, *, org, topic, territory, channel=Channel.PORTAL, address=None, month=3, **kw):
        appeal, _ = actions.register(
            channel=channel,
            text=f"Обращение {name}: {NAME}, {PHONE}",
            author_name=NAME,
            author_phone=PHONE,
            address=address or f"ул. Садовая, д. {len(tl.appeals) + 1}, {FLAT}",
            territory=territory,
            topic=topic,
            organisation=org,
            at=at(day, hour, month),
            **kw,
        )
        tl.appeals[name] = appeal
        return appeal

    a0 = file("A0", 27, 10, org=tl.org_a, topic=tl.t1, territory=tl.d1, month=2)
    actions.take(a0, worker, at=at(27, 11, 2))
    actions.answer(a0, worker, text="Двор убран", at=at(2, 9))

    a1 = file("A1", 2, 10, org=tl.org_a, topic=tl.t1, territory=tl.d1)
    actions.take(a1, worker, at=at(2, 11))
    actions.answer(a1, worker, text="Двор убран", at=at(4, 10))
    actions.close(a1, None, how=CloseReason.SATISFIED, at=at(5, 10))
    actions.rate(a1, None, rating=5, at=at(5, 10))

    a2 = file("A2", 2, 12, org=tl.org_a, topic=tl.t1, territory=tl.d1, channel=Channel.HOTLINE)
    actions.redirect(a2, worker, reason="Не наш двор", organisation=tl.org_b, at=at(3, 12))
    actions.take(a2, worker, at=at(3, 13))
    actions.answer(a2, worker, text="Двор убран", at=at(6, 12))

    a3 = file("A3", 4, 9, org=tl.org_a, topic=tl.t2, territory=tl.d2)
    actions.take(a3, worker, at=at(4, 10))
    actions.request_clarification(a3, worker, question="Где именно яма?", at=at(5, 9))
    actions.citizen_reply(a3, None, text="У второго подъезда", at=at(10, 9))
    actions.answer(a3, worker, text="Яма заделана", at=at(12, 9))
    actions.rate(a3, None, rating=2, at=at(13, 9))

    a4 = file("A4", 5, 10, org=tl.org_a, topic=tl.t1, territory=tl.d1, channel=Channel.APP)
    actions.take(a4, worker, at=at(5, 11))
    actions.answer(a4, worker, text="Двор убран", at=at(6, 10))
    actions.reopen(a4, None, reason="Мусор лежит", at=at(11, 10))
    actions.answer(a4, worker, text="Теперь убран", at=at(13, 10))
    actions.close(a4, None, how=CloseReason.AUTO, at=at(24, 10))

    a5 = file("A5", 2, 9, org=tl.org_b, topic=tl.t1, territory=tl.d2)
    actions.take(a5, worker, at=at(2, 10))
    actions.interim_answer(a5, worker, text="Вывезем на неделе", planned_at=at(20, 12), at=at(3, 9))
    actions.extend(a5, None, until=at(27, 23), reason="Нужен подрядчик", at=at(16, 10))
    actions.answer(a5, worker, text="Вывезено", at=at(26, 9))

    a6 = file("A6", 2, 14, org=tl.org_a, topic=tl.t1, territory=tl.d1, channel=Channel.HOTLINE)
    actions.take(a6, worker, at=at(2, 15))

    a7 = file("A7", 3, 10, org=tl.org_b, topic=tl.t2, territory=tl.d1, address="пр. Мира, д. 7")
    actions.take(a7, worker, at=at(3, 11))
    actions.answer(a7, worker, text="Яма заделана", at=at(19, 10))

    file("A8", 23, 10, org=None, topic=tl.t2, territory=tl.d1, address="пр. Мира, д. 7")

    a9 = file("A9", 10, 10, org=None, topic=tl.t1, territory=tl.d1, moderate=True)
    actions.reject(a9, None, reason="Не по существу", at=at(10, 11))
    return tl
