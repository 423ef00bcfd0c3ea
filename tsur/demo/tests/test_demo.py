"""`tsur load_demo`: the demo region built from an export and replayed through the actions."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from tsur.appeals.choices import CloseReason, EventKind, Status
from tsur.appeals.models import AnswerTemplate, Appeal, AppealEvent, ReviewRule, RoutingRule, Topic
from tsur.core.models import Building, Organisation, Territory, User
from tsur.demo import region as demo
from tsur.dispatch.models import EngineeringObject
from tsur.notify.models import Subscription

from .rows import write_export

TZ = timezone.get_default_timezone()


@pytest.mark.django_db
def test_demo_region_is_built_from_an_export_and_replayed_through_the_actions(tmp_path):
    path = write_export(tmp_path / "export.csv.gz")
    users_file = tmp_path / "users.txt"

    call_command(
        "load_demo",
        "--file",
        str(path),
        "--all",
        "--users-file",
        str(users_file),
        "--keep-dates",
        verbosity=0,
    )

    assert Territory.objects.get(code="spb").children.count() == 2
    assert set(Territory.objects.filter(parent__name="Невский район").values_list("name", flat=True)) == {
        "муниципальный округ Рыбацкое",
        "муниципальный округ Народный",
    }
    housing = Organisation.objects.get(name="СПб ГКУ ЖА Невского района")
    assert housing.parent.name == "Администрация Невского района"
    assert Building.objects.count() == 7
    assert Topic.objects.filter(code__startswith="spb-").count() == 2
    assert RoutingRule.objects.filter(organisation=housing).exists()
    assert Appeal.objects.count() == 36
    # statuses follow the real history
    closed = Appeal.objects.filter(status=Status.CLOSED)
    assert set(closed.values_list("close_reason", flat=True)) == {CloseReason.SATISFIED, CloseReason.AUTO}
    assert Appeal.objects.filter(status=Status.MODERATION).count() == 6
    assert Appeal.objects.filter(status=Status.INTERIM).count() == 6
    appeal = Appeal.objects.get(external_id="1000")
    assert appeal.registered_at == timezone.datetime(
        2021, 3, 1, 10, 0, tzinfo=timezone.get_default_timezone()
    )
    assert list(appeal.events.values_list("kind", flat=True)) == [
        "registered",
        "assigned",
        "taken",
        "answered",
        "closed",
    ]
    assert "<br>" not in appeal.events.get(kind="answered").reason
    # one user per role, with passwords kept for the person starting the demo
    lines = users_file.read_text().splitlines()
    assert [line.split("\t")[0] for line in lines] == [
        "admin",
        "operator",
        "executor",
        "supervisor",
        "analyst",
        "leader",
        "dispatcher",
        "citizen",
    ]
    assert User.objects.get(username="executor").assignments.get().organisation == housing
    # the demo resident filed one appeal in a hundred, the first of the replay among them
    citizen = User.objects.get(username="citizen")
    assert list(Appeal.objects.filter(author=citizen).values_list("author_email", flat=True)) == [
        "citizen@example.org"
    ]
    # the dispatcher's side of the demo: simulated objects near the demo buildings, the ЕДДС subscribed
    assert EngineeringObject.objects.filter(code__startswith="demo-").count() == 150
    assert Subscription.objects.get().address == "edds@demo.localhost"
    # answer review: templates for the frequent topics and for any, the district's administration
    # and the organisations under it reviewed, two of their open appeals waiting (the second flagged)
    assert sorted(AnswerTemplate.objects.values_list("topic__code", flat=True), key=str) == [
        None,
        "spb-001",
        "spb-002",
    ]
    assert ReviewRule.objects.get().organisation == housing.parent
    waiting = [
        a.events.get(kind=EventKind.ANSWER_SUBMITTED)
        for a in Appeal.objects.filter(status=Status.REVIEW).order_by("-registered_at")
    ]
    assert [(e.appeal.organisation, e.actor) for e in waiting] == [(housing.parent, None)] * 2
    assert "замечания устранены" in waiting[0].reason and waiting[0].data["placeholder"] == []
    assert waiting[1].data["placeholder"][0].startswith("Только общие фразы")

    # a second run adds nothing
    call_command(
        "load_demo",
        *("--file", str(path), "--limit", "30", "--users-file", str(users_file), "--keep-dates"),
        verbosity=0,
    )
    assert Appeal.objects.count() == 36
    assert EngineeringObject.objects.count() == 150
    assert Subscription.objects.count() == 1
    assert (AnswerTemplate.objects.count(), ReviewRule.objects.count()) == (3, 1)
    assert Appeal.objects.filter(status=Status.REVIEW).count() == 2


@pytest.mark.django_db
def test_by_default_the_replay_is_brought_forward_to_this_week(tmp_path):
    path = write_export(tmp_path / "export.csv.gz")
    call_command(
        "load_demo", "--file", str(path), "--all", "--users-file", str(tmp_path / "u.txt"), verbosity=0
    )
    now = timezone.now()

    first = Appeal.objects.get(external_id="1000")
    shift = first.registered_at - timezone.datetime(2021, 3, 1, 10, 0, tzinfo=TZ)
    assert shift.days % 7 == 0 and shift.seconds == 0 and shift.days > 0
    assert timezone.localtime(first.registered_at).strftime("%a %H:%M") == "Mon 10:00"
    last = Appeal.objects.order_by("-registered_at").first().registered_at
    assert now - timezone.timedelta(weeks=1) < last <= now
    assert not AppealEvent.objects.filter(at__gt=now).exists()


@pytest.mark.django_db
def test_what_the_export_did_after_now_is_not_replayed(tmp_path):
    """The export's appeals (filed 1–20 March 2021 at 10:00, answered three days later, closed after
    five) replayed as if it were 22 March a year later: moved by 52 weeks. Row 15 (filed 16.03) was
    answered on the 19th; row 18 (filed 19.03) is answered at 10:00 today, but its closing on the 24th
    has not happened; row 19 (filed 20.03) would be answered tomorrow: it is still in work."""
    region = demo.DemoRegion(demo.read_rows(write_export(tmp_path / "export.csv.gz")))
    region.build_reference()
    region.users()
    rows = region.sample(None)
    now = timezone.datetime(2021, 3, 22, 10, 0, tzinfo=TZ) + timezone.timedelta(weeks=52)

    assert region.bring_forward(rows, now=now) == timezone.timedelta(weeks=52)
    region.replay(rows)

    status = dict(
        Appeal.objects.filter(external_id__in=["1015", "1018", "1019"]).values_list("external_id", "status")
    )
    assert status == {"1015": Status.ANSWERED, "1018": Status.ANSWERED, "1019": Status.IN_WORK}
    assert not AppealEvent.objects.filter(at__gt=now).exists()


@pytest.mark.django_db
def test_without_the_export_the_platform_still_starts_with_the_default_rubricator(tmp_path, capsys):
    call_command("load_demo", "--file", str(tmp_path / "absent.csv.gz"))
    assert "не найден" in capsys.readouterr().out
    assert Topic.objects.filter(code="zhkh-no-heating").exists()
    assert Appeal.objects.count() == 0
