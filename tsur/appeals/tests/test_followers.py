"""Residents who report a problem already registered join its appeal instead of filing a new one;
the author's private link opens it without an account."""

import pytest
from django.utils import timezone

from tsur.appeals import access, actions
from tsur.appeals.choices import Channel, ConsentSource, EventKind, Status
from tsur.appeals.models import Appeal, Follower
from tsur.appeals.tests.factories import TopicFactory
from tsur.core.choices import Role
from tsur.core.errors import DomainError, InvalidTransition
from tsur.core.tests.factories import OrganisationFactory, UserFactory, user_with_role
from tsur.notify.models import Delivery

pytestmark = pytest.mark.django_db


def register(**kwargs):
    appeal, _ = actions.register(
        channel=Channel.PORTAL,
        text="Во дворе не убран мусор",
        topic=TopicFactory(),
        organisation=OrganisationFactory(email="uk@example.org"),
        author_email="author@example.org",
        personal_data_consent=True,
        **kwargs,
    )
    return appeal


def test_a_resident_joins_an_open_appeal_and_hears_of_its_answer_as_the_author_does():
    appeal = register()
    operator = user_with_role(Role.OPERATOR)

    follower = actions.subscribe(
        appeal,
        operator,
        channel=Channel.HOTLINE,
        name="Пётр",
        phone="+79110000000",
        email="p@example.org",
        personal_data_consent=True,
    )
    actions.subscribe(appeal, None, channel=Channel.PORTAL, email="q@example.org", personal_data_consent=True)
    actions.take(appeal, None)
    actions.answer(appeal, None, text="Мусор вывезен 3 декабря, площадка убрана")

    assert (follower.consent_source, follower.added_by) == (ConsentSource.OPERATOR, operator)
    joined = appeal.events.filter(kind=EventKind.SUBSCRIBED).order_by("pk")
    assert [e.data["followers"] for e in joined] == [1, 2]
    assert all(e.public and "Пётр" not in str(e.data) for e in joined)
    answered = Delivery.objects.filter(payload__kind=EventKind.ANSWERED).values_list("address", flat=True)
    assert sorted(answered) == ["author@example.org", "p@example.org", "q@example.org"]
    appeal.refresh_from_db()
    assert appeal.status == Status.ANSWERED  # joining changes neither status nor deadlines


def test_joining_needs_consent_on_the_portal_and_a_way_to_be_told():
    appeal = register()

    with pytest.raises(DomainError) as refused:
        actions.subscribe(
            appeal, None, channel=Channel.PORTAL, email="q@example.org", personal_data_consent=False
        )
    with pytest.raises(DomainError) as silent:
        actions.subscribe(appeal, None, channel=Channel.PORTAL, personal_data_consent=True)

    assert (refused.value.field, silent.value.field) == ("personal_data_consent", "email")
    assert not Follower.objects.exists()
    assert not appeal.events.filter(kind=EventKind.SUBSCRIBED).exists()


def test_a_resident_with_an_account_joins_once_and_not_their_own_appeal():
    resident = UserFactory(email="r@example.org")
    appeal = register()
    own = register(author=resident)

    first = actions.subscribe(appeal, None, channel=Channel.PORTAL, user=resident, personal_data_consent=True)
    again = actions.subscribe(appeal, None, channel=Channel.PORTAL, user=resident, personal_data_consent=True)
    with pytest.raises(DomainError):
        actions.subscribe(own, None, channel=Channel.PORTAL, user=resident, personal_data_consent=True)

    assert first.pk == again.pk
    assert appeal.events.filter(kind=EventKind.SUBSCRIBED).count() == 1


def test_nobody_joins_a_finished_appeal():
    appeal = register()
    actions.reject(appeal, None, reason="Спам")

    with pytest.raises(InvalidTransition):
        actions.subscribe(
            appeal, None, channel=Channel.PORTAL, email="q@example.org", personal_data_consent=True
        )
    assert not Follower.objects.exists()


def test_when_retention_runs_out_the_followers_lose_their_contacts_but_not_on_the_authors_request():
    appeal = register()
    actions.subscribe(appeal, None, channel=Channel.PORTAL, email="q@example.org", personal_data_consent=True)

    actions.erase_personal_data(appeal, None, reason="Отзыв согласия автором")
    kept = Follower.objects.get().email
    actions.erase_personal_data(appeal, None, reason="Истёк срок хранения", followers=True)

    assert kept == "q@example.org"
    assert list(Follower.objects.values_list("name", "email", "phone")) == [("", "", "")]


def test_the_private_key_is_shown_once_and_only_its_digest_is_stored():
    appeal = register()
    key = appeal.access_key

    stored = Appeal.objects.get(pk=appeal.pk)

    assert access.opens(stored, key)
    assert key not in stored.access_key_hash
    assert not access.opens(stored, key[:-1] + ("A" if key[-1] != "A" else "B"))
    assert not access.opens(stored, "")
    assert not access.opens(stored, "x" * 10_000)
    other = register()
    assert not access.opens(other, key)


def test_the_same_submission_twice_gives_no_key_the_second_time():
    first, created = actions.register(
        channel=Channel.APP,
        external_id="a-1",
        text="Яма на дороге",
        personal_data_consent=True,
        at=timezone.now(),
    )
    again, created_again = actions.register(
        channel=Channel.APP, external_id="a-1", text="Яма на дороге", personal_data_consent=True
    )

    assert (created, created_again) == (True, False)
    assert getattr(again, "access_key", None) is None
    assert access.opens(again, first.access_key)
