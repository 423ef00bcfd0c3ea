"""The executor's workspace over HTTP: the organisation's queue with working-time countdowns, the
executor's steps through the actions, another organisation's appeal a 404, a missing right a 403,
the supervisor's load."""

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from tsur.appeals import actions, deadlines
from tsur.appeals.choices import Status
from tsur.appeals.models import Appeal
from tsur.web.templatetags.workspace import countdown

from .conftest import login

pytestmark = pytest.mark.django_db
MOSCOW = ZoneInfo("Europe/Moscow")


def photo(name="done.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_the_queue_shows_the_organisations_appeals_with_the_time_left(region):
    page = login(region["executor"]).get("/work/")

    body = page.content.decode()
    assert page.status_code == 200
    assert region["working"].number in body
    assert region["foreign"].number not in body and region["new"].number not in body
    left = deadlines.countdown(region["working"], timezone.now())
    assert f"{left.working_days} раб. дн." in body
    assert 'class="due ok"' in body
    assert "Нагрузка организации" not in body  # the supervisor's table


def test_a_countdown_counts_working_days_and_passes_into_overdue(region):
    appeal = region["working"]
    # from Friday 27.12.2024 to Thursday 9.01.2025: Saturday 28.12 was worked, 1–8.01 were holidays
    appeal.resolution_due = datetime(2025, 1, 9, 23, 59, tzinfo=MOSCOW)
    friday = datetime(2024, 12, 27, 18, 0, tzinfo=MOSCOW)

    left = deadlines.countdown(appeal, friday)
    late = deadlines.countdown(appeal, appeal.resolution_due + timedelta(days=1))

    assert (left.working_days, left.overdue) == (2, False)  # 28.12 and 9.01
    assert late.overdue and late.working_days == -1


def test_a_missed_first_response_shows_as_overdue_with_the_resolution_still_ahead(region):
    """The queues count an appeal with no first response past its deadline as overdue: its badge says
    so, rather than the days its resolution still has."""
    appeal = region["working"]
    now = timezone.now()
    appeal.first_responded_at = None
    appeal.first_response_due = now - timedelta(hours=2)
    appeal.resolution_due = now + timedelta(days=6)

    badge = countdown(appeal, now)

    assert 'class="due overdue"' in badge and "просрочен первый ответ" in badge
    appeal.first_responded_at = now - timedelta(hours=1)
    assert "просрочен первый ответ" not in countdown(appeal, now)


def test_another_organisations_appeal_is_not_found(region):
    stranger = login(region["stranger"])
    number = region["working"].number

    assert stranger.get(f"/work/appeals/{number}/").status_code == 404
    assert stranger.post(f"/work/appeals/{number}/take/").status_code == 404
    assert Appeal.objects.get(number=number).status == Status.ASSIGNED


def test_an_executor_takes_answers_with_a_photo(region):
    client = login(region["executor"])
    number = region["working"].number
    planned = timezone.localtime() + timedelta(days=2)

    card = client.get(f"/work/appeals/{number}/").content.decode()
    took = client.post(f"/work/appeals/{number}/take/")
    interim = client.post(
        f"/work/appeals/{number}/interim_answer/",
        {
            "interim_answer-text": "Заявка передана бригаде",
            "interim_answer-planned_at": planned.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    answered = client.post(
        f"/work/appeals/{number}/answer/",
        {"answer-text": "Мусор вывезен", "answer-photos": [photo(), photo("after.png")]},
    )

    appeal = Appeal.objects.get(number=number)
    assert "Принять в работу" in card
    assert [r.status_code for r in (took, interim, answered)] == [302, 302, 302]
    assert appeal.status == Status.ANSWERED
    assert appeal.photos.count() == 2
    assert [str(m) for m in get_messages(answered.wsgi_request)][-1] == "Ответ дан."
    assert appeal.events.filter(kind="answered", reason="Мусор вывезен", actor=region["executor"]).exists()


def test_a_photo_that_is_no_image_refuses_the_answer_and_changes_nothing(region):
    client = login(region["executor"])
    appeal = region["working"]
    actions.take(appeal, region["executor"])
    fake = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")

    response = client.post(
        f"/work/appeals/{appeal.number}/answer/", {"answer-text": "Готово", "answer-photos": [fake]}
    )

    appeal.refresh_from_db()
    assert response.status_code == 302
    assert "не является изображением" in [str(m) for m in get_messages(response.wsgi_request)][-1]
    assert (appeal.status, appeal.photos.count()) == (Status.IN_WORK, 0)


def test_an_executor_returns_a_wrong_appeal_to_the_operator(region):
    client = login(region["executor"])
    number = region["working"].number

    response = client.post(
        f"/work/appeals/{number}/redirect/",
        {"redirect-to_operator": "on", "redirect-reason": "Не наш участок"},
    )

    appeal = Appeal.objects.get(number=number)
    assert response.status_code == 302 and response["Location"] == "/work/"  # it left the executor's scope
    assert (appeal.status, appeal.organisation) == (Status.MODERATION, None)


def test_a_missing_right_is_a_403_and_changes_nothing(region):
    client = login(region["executor"])
    appeal = region["working"]
    until = timezone.localtime(appeal.resolution_due + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")

    extend = client.post(
        f"/work/appeals/{appeal.number}/extend/", {"extend-until": until, "extend-reason": "x"}
    )
    console_step = client.post(f"/console/appeals/{appeal.number}/assign/", {})

    assert extend.status_code == 403  # a supervisor extends, not an executor
    assert console_step.status_code == 403
    fresh = Appeal.objects.get(pk=appeal.pk)
    assert (fresh.resolution_due, fresh.extension_reason) == (appeal.resolution_due, "")


def test_the_supervisor_sees_the_organisations_load_and_may_extend(region):
    client = login(region["supervisor"])
    appeal = region["working"]
    until = timezone.localtime(appeal.resolution_due + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")

    page = client.get("/work/").content.decode()
    extend = client.post(
        f"/work/appeals/{appeal.number}/extend/", {"extend-until": until, "extend-reason": "Техника"}
    )

    assert "Нагрузка организации" in page and "ЖА Невского района" in page
    assert extend.status_code == 302
    assert Appeal.objects.get(pk=appeal.pk).extension_reason == "Техника"


def test_an_unknown_step_is_not_found(region):
    client = login(region["executor"])
    assert client.post(f"/work/appeals/{region['working'].number}/reject/").status_code == 404
    assert client.get(f"/work/appeals/{region['working'].number}/take/").status_code == 405


# ------------------------------------------------------------------ the person inside the organisation


def test_taking_an_appeal_puts_it_among_the_executors_own(region):
    client = login(region["executor"])
    number = region["working"].number

    before = client.get("/work/", {"queue": "mine"}).content.decode()
    client.post(f"/work/appeals/{number}/take/")
    after = client.get("/work/", {"queue": "mine"}).content.decode()

    assert number not in before and number in after
    assert Appeal.objects.get(number=number).assignee == region["executor"]


def test_the_supervisor_hands_an_appeal_to_a_colleague_from_the_card(region):
    client = login(region["supervisor"])
    appeal = region["working"]
    actions.take(appeal, region["supervisor"])

    card = client.get(f"/work/appeals/{appeal.number}/").content.decode()
    response = client.post(
        f"/work/appeals/{appeal.number}/reassign/",
        {"reassign-assignee": region["executor"].pk, "reassign-reason": "Ближе к объекту"},
    )

    appeal.refresh_from_db()
    assert "Передать другому сотруднику" in card and f'value="{region["executor"].pk}"' in card
    assert f'value="{region["stranger"].pk}"' not in card  # another organisation's executor
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Обращение передано сотруднику."]
    assert appeal.assignee == region["executor"]
    assert appeal.events.get(kind="reassigned").reason == "Ближе к объекту"


def test_an_executor_may_not_reassign_and_a_stranger_is_refused(region):
    appeal = region["working"]
    actions.take(appeal, region["executor"])

    by_executor = login(region["executor"]).post(
        f"/work/appeals/{appeal.number}/reassign/", {"reassign-assignee": region["supervisor"].pk}
    )
    to_stranger = login(region["supervisor"]).post(
        f"/work/appeals/{appeal.number}/reassign/", {"reassign-assignee": region["stranger"].pk}
    )

    assert by_executor.status_code == 403
    assert "Выберите корректный вариант" in [str(m) for m in get_messages(to_stranger.wsgi_request)][-1]
    assert Appeal.objects.get(pk=appeal.pk).assignee == region["executor"]


def test_the_supervisor_sees_the_load_per_person_and_hands_many_at_once(region):
    client = login(region["supervisor"])
    second, _ = actions.register(
        channel="hotline", text="Сломана скамейка", topic=region["yard"], organisation=region["ours"]
    )
    actions.take(second, region["supervisor"])

    response = client.post(
        "/work/bulk-reassign/",
        {
            "numbers": [region["working"].number, second.number, region["foreign"].number],
            "assignee": region["executor"].pk,
            "back": "/work/?queue=in_work",
        },
    )
    page = client.get("/work/").content.decode()

    assert response["Location"] == "/work/?queue=in_work"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Передано сотруднику {region['executor'].get_username()}: 2 ({region['working'].number}, {second.number}).",
        f"{region['foreign'].number}: не найдено",
    ]
    assert set(Appeal.objects.filter(assignee=region["executor"]).values_list("number", flat=True)) == {
        region["working"].number,
        second.number,
    }
    assert Appeal.objects.get(pk=region["foreign"].pk).assignee is None
    assert "Нагрузка по сотрудникам" in page
    load = page[page.index('id="load-people"') :]
    assert f'<th scope="row">{region["executor"].get_username()}</th><td class="num">2</td>' in load
    assert 'aria-label="Отметить обращение' in page


def test_only_a_supervisor_hands_appeals_out_in_bulk(region):
    response = login(region["executor"]).post(
        "/work/bulk-reassign/", {"numbers": [region["working"].number], "assignee": region["executor"].pk}
    )

    assert response.status_code == 403
    assert Appeal.objects.get(pk=region["working"].pk).assignee is None
