import factory
from django.utils import timezone

from tsur.appeals.choices import Channel, DeadlineUnit, Status
from tsur.appeals.models import Appeal, ComplaintTicket, RoutingRule, ThematicBlock, Topic
from tsur.core.tests.factories import OrganisationFactory


class BlockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ThematicBlock

    code = factory.Sequence(lambda n: f"block-{n}")
    name = factory.Sequence(lambda n: f"Блок {n}")


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    block = factory.SubFactory(BlockFactory)
    code = factory.Sequence(lambda n: f"topic-{n}")
    name = factory.Sequence(lambda n: f"Тема {n}")
    first_response_amount = 2
    first_response_unit = DeadlineUnit.WORKING_DAYS
    resolution_amount = 10
    resolution_unit = DeadlineUnit.WORKING_DAYS


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingRule

    organisation = factory.SubFactory(OrganisationFactory)


class AppealFactory(factory.django.DjangoModelFactory):
    """An appeal put straight into a given status: the `given` of a test, not a way to change appeals."""

    class Meta:
        model = Appeal

    number = factory.Sequence(lambda n: f"99-{n:07d}")
    channel = Channel.PORTAL
    text = "Во дворе не убран мусор"
    status = Status.REGISTERED
    registered_at = factory.LazyFunction(timezone.now)
    clock_started_at = factory.SelfAttribute("registered_at")
    topic = factory.SubFactory(TopicFactory)
    organisation = factory.SubFactory(OrganisationFactory)


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ComplaintTicket

    number = factory.Sequence(lambda n: f"УК-{n}")
    text = "Течёт крыша"
    filed_at = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(days=10))
    due_at = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(days=3))
