import factory

from tsur.notify.choices import ChannelKind, Severity, Topic
from tsur.notify.models import Delivery, Subscription


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    name = factory.Sequence(lambda n: f"Служба {n}")
    channel = ChannelKind.EMAIL
    address = factory.Sequence(lambda n: f"service{n}@example.org")
    topics = factory.LazyFunction(lambda: [Topic.ALARM_RAISED.value])
    min_severity = Severity.WARNING


class DeliveryFactory(factory.django.DjangoModelFactory):
    """A delivery to a service's subscription, pending."""

    class Meta:
        model = Delivery

    subscription = factory.SubFactory(SubscriptionFactory)
    topic = Topic.ALARM_RAISED
    subject = "[авария] Котельная №7"
    text = "Авария контроллера"
    payload = factory.LazyFunction(lambda: {"alarm": {"id": 1}})
