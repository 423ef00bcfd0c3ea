"""Appeal notifications are stored deliveries: planned in the action's transaction, sent after it
commits, retried by the sweep, sent once, and visible to operators when they fail."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from tsur.appeals import actions, notifications
from tsur.appeals.choices import Channel, EventKind
from tsur.appeals.models import Appeal
from tsur.appeals.tests.factories import TopicFactory
from tsur.core.tests.factories import OrganisationFactory, UserFactory
from tsur.notify import channels, delivery, tasks
from tsur.notify.choices import ChannelKind, DeliveryState, Topic
from tsur.notify.models import Delivery

pytestmark = pytest.mark.django_db


def register(at=None, email="uk@example.org", **kwargs):
    appeal, _ = actions.register(
        channel=Channel.PORTAL,
        text="Во дворе не убран мусор",
        topic=TopicFactory(),
        organisation=OrganisationFactory(email=email),
        at=at,
        **kwargs,
    )
    return appeal


def test_the_organisation_is_told_of_new_work_by_a_delivery_stored_with_the_appeal():
    # when: registered, the transaction committed, its callbacks not run (the worker is down)
    appeal = register()

    # then
    assigned = appeal.events.get(kind=EventKind.ASSIGNED)
    stored = Delivery.objects.get()
    assert (stored.channel, stored.address, stored.subscription, stored.topic, stored.state) == (
        ChannelKind.EMAIL, "uk@example.org", None, Topic.APPEAL, DeliveryState.PENDING
    )  # fmt: skip
    assert stored.subject == f"Обращение № {appeal.number}: {assigned.get_kind_display()}"
    assert stored.text == f"Обращение № {appeal.number}\nСтатус: Назначено исполнителю\n\n{assigned.reason}"
    assert stored.payload == {"appeal": appeal.number, "event": assigned.pk, "kind": EventKind.ASSIGNED}


def test_a_registration_rolled_back_leaves_no_delivery():
    with pytest.raises(RuntimeError), transaction.atomic():
        register()
        raise RuntimeError("the caller's transaction fails after the registration")

    assert not Appeal.objects.exists() and not Delivery.objects.exists()


def test_it_is_sent_once_after_the_commit_and_the_sweep_sends_nothing_again(
    django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        appeal = register()

    assert Delivery.objects.get().state == DeliveryState.SENT
    assert tasks.retry_due.call_local() == {}
    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["uk@example.org"], f"Обращение № {appeal.number}: Назначено исполнителю")
    ]


def test_a_failed_attempt_is_retried_by_the_sweep_and_sent_exactly_once(
    django_capture_on_commit_callbacks, mailoutbox, monkeypatch
):
    # given: the mail server is down when the appeal is registered
    def refused(*args, **kwargs):
        raise ConnectionRefusedError("SMTP is down")

    real = channels.send_mail
    monkeypatch.setattr(channels, "send_mail", refused)
    with django_capture_on_commit_callbacks(execute=True):
        register()
    waiting = Delivery.objects.get()
    assert (waiting.state, waiting.attempts, waiting.last_error) == (
        DeliveryState.RETRYING, 1, "e-mail: SMTP is down"
    )  # fmt: skip

    # when: it is back, and the sweep runs when the retry is due, then again
    monkeypatch.setattr(channels, "send_mail", real)
    later = timezone.now() + timedelta(minutes=2)
    sent = {pk: delivery.attempt(pk) for pk in delivery.due(now=later)}
    again = {pk: delivery.attempt(pk) for pk in delivery.due(now=later + timedelta(hours=3))}

    # then
    assert (sent, again) == ({waiting.pk: DeliveryState.SENT}, {})
    assert delivery.attempt(waiting.pk) is None
    assert len(mailoutbox) == 1


def test_a_delivery_that_could_not_be_made_is_visible_to_operators(monkeypatch, admin_client):
    def refused(*args, **kwargs):
        raise ConnectionRefusedError("SMTP is down")

    monkeypatch.setattr(channels, "send_mail", refused)
    appeal = register()
    failed = Delivery.objects.get()
    for _ in range(delivery.MAX_ATTEMPTS):
        delivery.attempt(failed.pk)
    failed.refresh_from_db()
    assert (failed.state, failed.attempts) == (DeliveryState.FAILED, delivery.MAX_ATTEMPTS)
    pending = register(email="other@example.org")

    page = admin_client.get(
        "/admin/notify/delivery/", {"state__exact": DeliveryState.FAILED}
    ).content.decode()

    assert "uk@example.org" in page and appeal.number in page and "SMTP is down" in page
    assert "other@example.org" not in page and pending.number not in page


def test_a_replayed_history_notifies_nobody():
    register(at=timezone.now() - timedelta(hours=2))

    assert not Delivery.objects.exists()


def test_the_organisation_hears_of_new_work_the_citizen_of_the_answer_and_taking_it_tells_nobody():
    author = UserFactory(email="citizen@example.org")
    appeal = register(author=author)
    actions.take(appeal, None)
    actions.answer(appeal, None, text="Мусор вывезен")

    assert list(Delivery.objects.order_by("pk").values_list("address", "payload__kind")) == [
        ("uk@example.org", EventKind.ASSIGNED),
        ("citizen@example.org", EventKind.ANSWERED),
    ]


def test_planning_the_intake_s_notification_asks_the_database_nothing(django_assert_num_queries):
    # given: the appeal as the intake holds it, with its organisation loaded
    appeal = Appeal.objects.select_related("organisation").get(pk=register(at=timezone.now()).pk)
    event = appeal.events.get(kind=EventKind.ASSIGNED)
    event.appeal = appeal
    Delivery.objects.all().delete()

    # when / then: only the delivery is written
    with django_assert_num_queries(1):
        notifications.plan([event])
    assert Delivery.objects.get().address == "uk@example.org"
