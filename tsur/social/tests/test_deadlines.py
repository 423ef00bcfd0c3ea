"""The social channel's deadlines: working hours of the production calendar (9 h, 4 h when urgent),
and at most 7 days after an interim answer — the region's rule, changeable in the admin."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tsur.appeals import actions, deadlines
from tsur.appeals.choices import Channel
from tsur.appeals.models import ChannelRegulation
from tsur.core import calendar
from tsur.core.errors import DomainError
from tsur.core.tests.factories import OrganisationFactory

MSK = ZoneInfo("Europe/Moscow")


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        # Tuesday 10:00 + 9 h: the whole working day → Wednesday 10:00
        (datetime(2026, 3, 3, 10, 0, tzinfo=MSK), 9, datetime(2026, 3, 4, 10, 0, tzinfo=MSK)),
        # before the opening: counted from 9:00
        (datetime(2026, 3, 3, 7, 30, tzinfo=MSK), 4, datetime(2026, 3, 3, 13, 0, tzinfo=MSK)),
        # Friday 17:00 + 9 h: 1 h on Friday, 8 on Monday → Monday 17:00
        (datetime(2026, 2, 27, 17, 0, tzinfo=MSK), 9, datetime(2026, 3, 2, 17, 0, tzinfo=MSK)),
        # Friday 6 March 15:00 + 9 h: Monday 9 March is the day off for 8 March → Tuesday 15:00
        (datetime(2026, 3, 6, 15, 0, tzinfo=MSK), 9, datetime(2026, 3, 10, 15, 0, tzinfo=MSK)),
        # a deadline on the close of a day stays on that day
        (datetime(2026, 3, 3, 9, 0, tzinfo=MSK), 9, datetime(2026, 3, 3, 18, 0, tzinfo=MSK)),
        # Saturday night: from Monday's opening
        (datetime(2026, 2, 28, 23, 0, tzinfo=MSK), 4, datetime(2026, 3, 2, 13, 0, tzinfo=MSK)),
    ],
)
def test_working_hours_on_the_production_calendar(start, hours, due):
    assert calendar.add_working_hours(start, hours) == due


def test_working_hours_refuse_naive_and_negative():
    with pytest.raises(ValueError):
        calendar.add_working_hours(datetime(2026, 3, 3, 10, 0), 1)  # noqa: DTZ001
    with pytest.raises(ValueError):
        calendar.add_working_hours(datetime(2026, 3, 3, 10, 0, tzinfo=MSK), -1)


@pytest.mark.django_db
def test_an_incident_is_due_in_9_working_hours_and_an_urgent_one_in_4():
    at = datetime(2026, 3, 3, 16, 0, tzinfo=MSK)  # Tuesday 16:00

    normal, _ = actions.register(channel=Channel.SOCIAL, text="Не вывозят мусор", at=at)
    urgent, _ = actions.register(channel=Channel.SOCIAL, text="Прорвало трубу", priority="high", at=at)
    portal, _ = actions.register(
        channel=Channel.PORTAL, text="Не вывозят мусор", at=at, personal_data_consent=True
    )

    assert normal.first_response_due == datetime(2026, 3, 4, 16, 0, tzinfo=MSK)  # 2 h + 7 h
    assert urgent.first_response_due == datetime(2026, 3, 4, 11, 0, tzinfo=MSK)  # 2 h + 2 h
    assert portal.first_response_due is None  # no topic, no channel rule: as before


@pytest.mark.django_db
def test_the_region_sets_its_own_hours():
    ChannelRegulation.objects.filter(channel=Channel.SOCIAL).update(first_response_hours=2)
    deadlines.regulations.forget()
    at = datetime(2026, 3, 3, 10, 0, tzinfo=MSK)
    appeal, _ = actions.register(channel=Channel.SOCIAL, text="Яма на дороге", at=at)
    assert appeal.first_response_due == datetime(2026, 3, 3, 12, 0, tzinfo=MSK)


@pytest.mark.django_db
def test_after_an_interim_answer_the_work_takes_at_most_7_days():
    at = datetime(2026, 3, 3, 10, 0, tzinfo=MSK)
    appeal, _ = actions.register(channel=Channel.SOCIAL, text="Яма на дороге", at=at)
    actions.assign(appeal, None, organisation=OrganisationFactory(), at=at)
    actions.take(appeal, None, at=at)
    later = at + timedelta(hours=3)

    with pytest.raises(DomainError):
        actions.interim_answer(
            appeal, None, text="Ямочный ремонт в плане", planned_at=later + timedelta(days=8), at=later
        )
    actions.interim_answer(
        appeal, None, text="Ямочный ремонт в плане", planned_at=later + timedelta(days=5), at=later
    )

    appeal.refresh_from_db()
    assert appeal.resolution_due == later + timedelta(days=7)
