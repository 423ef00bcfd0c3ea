import factory
from django.utils import timezone

from tsur.core.tests.factories import OrganisationFactory
from tsur.dispatch.choices import AlarmState, Condition, ObjectKind, OutageState, Service, Severity
from tsur.dispatch.models import Alarm, AlarmRule, Device, EngineeringObject, Metric, Outage


class EngineeringObjectFactory(factory.django.DjangoModelFactory):
    """A boiler house unless told otherwise; `serves=[buildings]` sets the buildings it serves."""

    class Meta:
        model = EngineeringObject
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"k{n}")
    name = factory.Sequence(lambda n: f"Котельная №{n}")
    kind = ObjectKind.BOILER_HOUSE
    owner = factory.SubFactory(OrganisationFactory)

    @factory.post_generation
    def serves(self, create, buildings, **kwargs):
        if create and buildings:
            self.serves.set(buildings)


class MetricFactory(factory.django.DjangoModelFactory):
    """The supply temperature unless told otherwise; one per code (the reference's may exist)."""

    class Meta:
        model = Metric
        django_get_or_create = ["code"]

    code = "t_supply"
    name = "Температура подачи"
    unit = "°C"
    min_value = -50
    max_value = 200


class DeviceFactory(factory.django.DjangoModelFactory):
    """A controller issued as the admin issues it; its token is on `device.token`."""

    class Meta:
        model = Device

    code = factory.Sequence(lambda n: f"plc-{n}")
    object = factory.SubFactory(EngineeringObjectFactory)

    @classmethod
    def _create(cls, model_class, code, object, **kwargs):
        device, token = model_class.issue(code, object)
        device.token = token
        return device


class AlarmRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AlarmRule

    name = factory.Sequence(lambda n: f"Правило {n}")
    metric = factory.SubFactory(
        MetricFactory, code="fault", name="Авария контроллера", unit="flag", min_value=0, max_value=1
    )
    condition = Condition.FLAG
    severity = Severity.CRITICAL


class AlarmFactory(factory.django.DjangoModelFactory):
    """An alarm put straight into a given state: the `given` of a test, not a way to raise alarms."""

    class Meta:
        model = Alarm

    object = factory.SubFactory(EngineeringObjectFactory)
    rule = factory.SubFactory(AlarmRuleFactory)
    severity = factory.SelfAttribute("rule.severity")
    state = AlarmState.ACTIVE
    value = 1.0
    raised_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.SelfAttribute("raised_at")


class OutageFactory(factory.django.DjangoModelFactory):
    """An active outage put straight into the database: the `given` of a test."""

    class Meta:
        model = Outage

    object = factory.SubFactory(EngineeringObjectFactory)
    services = factory.LazyFunction(lambda: [Service.HEATING.value, Service.HOT_WATER.value])
    state = OutageState.ACTIVE
    started_at = factory.LazyFunction(timezone.now)
