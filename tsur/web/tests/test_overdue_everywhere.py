"""«Просрочено» means one thing on every screen: the console's queue, the organisation's queue and
its supervisor's load table, the overview, the wall screen and its map all count the appeals the
register itself calls overdue at that moment (`deadlines.state_at`), whatever the job worker last
wrote into `deadline_state` (it runs every five minutes and may not have run yet)."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from tsur.analytics import live
from tsur.appeals import deadlines
from tsur.appeals.choices import RUNNING_STATUSES, DeadlineState, Status
from tsur.appeals.models import Appeal
from tsur.appeals.tests.factories import AppealFactory
from tsur.core.choices import Role
from tsur.core.tests.factories import OrganisationFactory, user_with_role
from tsur.web import queues

from .conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def register():
    """Five appeals of one organisation, as the moment finds them:

    late     in work, its resolution deadline passed an hour ago; the job has not marked it yet
    silent   assigned, no first response and its first-response deadline passed (the resolution
             deadline still days ahead)
    extended in work, marked overdue by the job, then given a later deadline (and a first
             response): no longer overdue, although the job has not lowered its mark yet
    waiting  waiting for the citizen's reply past its old deadline: the clock stands
    fine     in work, both deadlines ahead"""
    cache.clear()
    now = timezone.now()
    org = OrganisationFactory(name="Водоканал")
    ahead, passed = now + timedelta(days=3), now - timedelta(hours=1)

    def appeal(status, **fields):
        return AppealFactory(organisation=org, status=status, registered_at=now - timedelta(days=5), **fields)

    made = {
        "late": appeal(Status.IN_WORK, resolution_due=passed, first_responded_at=now - timedelta(days=4)),
        "silent": appeal(Status.ASSIGNED, resolution_due=ahead, first_response_due=passed),
        "extended": appeal(
            Status.IN_WORK,
            resolution_due=ahead,
            first_responded_at=now - timedelta(days=4),
            deadline_state=DeadlineState.OVERDUE,
        ),
        "waiting": appeal(Status.CLARIFICATION, resolution_due=passed, paused_since=now - timedelta(days=1)),
        "fine": appeal(Status.IN_WORK, resolution_due=ahead, first_response_due=ahead),
    }
    yield {"now": now, "org": org, **made}
    cache.clear()


def test_the_register_s_own_state_is_late_and_silent(register):
    overdue = {
        name
        for name in ("late", "silent", "extended", "waiting", "fine")
        if register[name].status in RUNNING_STATUSES
        and deadlines.state_at(register[name], register["now"]) == DeadlineState.OVERDUE
    }
    assert overdue == {"late", "silent"}


def test_every_count_of_overdue_appeals_agrees(register):
    now, org = register["now"], register["org"]
    expected = {register["late"].pk, register["silent"].pk}
    operator = user_with_role(Role.OPERATOR)
    supervisor = user_with_role(Role.SUPERVISOR, organisation=org)
    analyst = user_with_role(Role.ANALYST)

    console = Appeal.objects.filter(queues.console_condition("overdue", operator, now))
    assert set(console.values_list("pk", flat=True)) == expected
    assert queues.console_counts(operator, now)["overdue"] == 2

    work = queues.work_queryset(supervisor).filter(queues.work_condition("overdue", supervisor, now))
    assert set(work.values_list("pk", flat=True)) == expected
    assert queues.work_counts(supervisor)["overdue"] == 2
    assert [row["overdue"] for row in queues.load_by_organisation(supervisor)] == [2]

    visible = Appeal.objects.restrict(analyst)
    wall = {c["key"]: c["value"] for c in live.counters(visible, now)}
    assert wall["overdue"] == 2
    assert [o["value"] for o in live.overdue_by_organisation(visible, now)] == [2]

    overview = login(analyst).get("/overview/").content.decode()
    assert '<div class="tile bad"><b>2</b><span>просрочено</span>' in overview


def test_the_deadline_filter_and_the_soon_queue_leave_out_what_is_overdue_now(register):
    now = register["now"]
    register["silent"].deadline_state = DeadlineState.SOON  # marked «истекает» before it passed
    register["silent"].save(update_fields=["deadline_state"])
    soon = Appeal.objects.filter(deadlines.in_state(DeadlineState.SOON, now))
    assert not soon.exists()
    on_time = set(
        Appeal.objects.filter(deadlines.in_state(DeadlineState.OK, now)).values_list("pk", flat=True)
    )
    assert on_time == {register[n].pk for n in ("extended", "waiting", "fine")}
