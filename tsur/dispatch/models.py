"""Engineering networks under watch: objects, the controllers on them, what they measure."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tsur.core import keys
from tsur.core.models import Building, Organisation, Territory
from tsur.core.scopes import RestrictedQuerySet

from . import policies
from .choices import (
    AlarmState,
    Condition,
    ObjectKind,
    OutageEventKind,
    OutageState,
    RejectReason,
    Service,
    Severity,
)


class EngineeringObjectQuerySet(RestrictedQuerySet):
    """Objects as far as a user's scope reaches, by their owner and their territory
    (tsur.dispatch.policies)."""

    scope_lookups = {"organisation": "owner", "territory": "territory"}
    action_roles = policies.OBJECT_ROLES


class EngineeringObject(models.Model):
    """A boiler house, heat point, pumping station, water main section, substation, lighting cabinet
    or camera: who owns it, where it is, which buildings it serves (an outage reaches them)."""

    code = models.SlugField(_("код"), max_length=64, unique=True)
    name = models.CharField(_("название"), max_length=200)
    kind = models.CharField(_("тип"), max_length=32, choices=ObjectKind.choices)
    owner = models.ForeignKey(
        Organisation,
        verbose_name=_("эксплуатирующая организация"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    territory = models.ForeignKey(
        Territory,
        verbose_name=_("территория"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    address = models.CharField(_("адрес"), max_length=400, blank=True)
    latitude = models.FloatField(_("широта"), null=True, blank=True)
    longitude = models.FloatField(_("долгота"), null=True, blank=True)
    serves = models.ManyToManyField(
        Building, verbose_name=_("обслуживает здания"), blank=True, related_name="+"
    )
    service_radius_m = models.PositiveIntegerField(
        _("радиус обслуживания, м"),
        default=0,
        help_text=_("для уличного освещения и сетей без списка зданий: обращения в этом радиусе"),
    )
    is_active = models.BooleanField(_("действует"), default=True)

    objects = EngineeringObjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("инженерный объект")
        verbose_name_plural = _("инженерные объекты")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Metric(models.Model):
    """Something a controller measures, in one unit, within a physically possible range; readings
    outside it are a broken sensor or a broken payload, not an alarm."""

    code = models.SlugField(_("код"), max_length=32, unique=True)
    name = models.CharField(_("название"), max_length=200)
    unit = models.CharField(_("единица"), max_length=16, help_text=_("«°C», «bar», «m3/h», «V», «flag»"))
    min_value = models.FloatField(_("наименьшее возможное"), null=True, blank=True)
    max_value = models.FloatField(_("наибольшее возможное"), null=True, blank=True)

    class Meta:
        verbose_name = _("показатель")
        verbose_name_plural = _("показатели")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name}, {self.unit}"


class Device(models.Model):
    """An automation controller on an object; it authenticates with its own token (kept as a hash)."""

    code = models.SlugField(_("код"), max_length=64, unique=True)
    object = models.ForeignKey(
        EngineeringObject, verbose_name=_("объект"), on_delete=models.PROTECT, related_name="devices"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    is_active = models.BooleanField(_("действует"), default=True)
    last_seen_at = models.DateTimeField(_("последнее показание"), null=True, blank=True)

    class Meta:
        verbose_name = _("контроллер")
        verbose_name_plural = _("контроллеры")
        ordering = ["code"]

    def __str__(self):
        return self.code

    @classmethod
    def issue(cls, code: str, engineering_object: EngineeringObject) -> tuple["Device", str]:
        token = keys.new_key(24)
        return cls.objects.create(code=code, object=engineering_object, token_hash=keys.digest(token)), token

    @classmethod
    def by_token(cls, token: str) -> "Device | None":
        if not token or len(token) > 200:
            return None
        return cls.objects.filter(token_hash=keys.digest(token), is_active=True).first()


class Reading(models.Model):
    """One measured value. Kept narrow (ids, a float, a time): there are billions of them; on
    PostgreSQL the table is meant to be partitioned by time with old partitions dropped."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+", db_index=False)
    metric = models.ForeignKey(Metric, on_delete=models.PROTECT, related_name="+", db_index=False)
    value = models.FloatField()
    measured_at = models.DateTimeField()
    received_at = models.DateTimeField()

    class Meta:
        verbose_name = _("показание")
        verbose_name_plural = _("показания")
        indexes = [models.Index(fields=["device", "metric", "measured_at"], name="reading_series")]

    def __str__(self):
        return f"{self.device_id}/{self.metric_id} {self.measured_at:%Y-%m-%d %H:%M:%S} {self.value}"


class Rejection(models.Model):
    """Readings refused, counted per hour, reason and device code (as the sender called itself)."""

    hour = models.DateTimeField()
    reason = models.CharField(max_length=32, choices=RejectReason.choices)
    device_code = models.CharField(max_length=64, blank=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("отклонённые показания")
        verbose_name_plural = _("отклонённые показания")
        constraints = [
            models.UniqueConstraint(fields=["hour", "reason", "device_code"], name="rejection_bucket")
        ]

    def __str__(self):
        return f"{self.hour:%Y-%m-%d %H}:00 {self.reason} {self.device_code}: {self.count}"


class AlarmRule(models.Model):
    """When readings mean trouble: a metric above or below a threshold for at least a while, changing
    faster than a threshold per minute, silent for longer than the hold time, or a controller's
    fault flag; for one object or for every object of a kind."""

    name = models.CharField(_("название"), max_length=200)
    metric = models.ForeignKey(
        Metric, verbose_name=_("показатель"), on_delete=models.PROTECT, related_name="+"
    )
    object_kind = models.CharField(
        _("для объектов типа"), max_length=32, choices=ObjectKind.choices, blank=True
    )
    object = models.ForeignKey(
        EngineeringObject,
        verbose_name=_("для объекта"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alarm_rules",
    )
    condition = models.CharField(_("условие"), max_length=16, choices=Condition.choices)
    threshold = models.FloatField(_("порог"), default=0)
    hold_seconds = models.PositiveIntegerField(
        _("держится не меньше, с"), default=0, help_text=_("0 — сразу при первом показании")
    )
    window_seconds = models.PositiveIntegerField(
        _("окно скорости изменения, с"), default=600, help_text=_("для условия «меняется быстрее порога»")
    )
    severity = models.CharField(
        _("важность"), max_length=16, choices=Severity.choices, default=Severity.WARNING
    )
    opens_outage = models.BooleanField(
        _("открывает аварийное отключение"),
        default=False,
        help_text=_("тревога по правилу означает, что обслуживаемые дома остались без услуги"),
    )
    is_active = models.BooleanField(_("действует"), default=True)

    class Meta:
        verbose_name = _("правило тревоги")
        verbose_name_plural = _("правила тревог")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def violated_by(self, value: float) -> bool:
        if self.condition == Condition.ABOVE:
            return value > self.threshold
        if self.condition == Condition.BELOW:
            return value < self.threshold
        if self.condition == Condition.FLAG:
            return value >= 0.5  # a flag: 1 is a fault
        return False  # rate and silence are decided in `alarms`, not by one reading


class Alarm(models.Model):
    """Trouble on an object by one rule: active → acknowledged by a dispatcher → cleared. One open
    alarm per object and rule; repeats update it instead of opening another."""

    object = models.ForeignKey(EngineeringObject, on_delete=models.PROTECT, related_name="alarms")
    rule = models.ForeignKey(AlarmRule, on_delete=models.PROTECT, related_name="alarms")
    severity = models.CharField(_("важность"), max_length=16, choices=Severity.choices)
    state = models.CharField(
        _("состояние"), max_length=16, choices=AlarmState.choices, default=AlarmState.ACTIVE
    )
    value = models.FloatField(_("значение"))
    raised_at = models.DateTimeField(_("возникла"))
    last_seen_at = models.DateTimeField(_("последнее нарушение"))
    repeats = models.PositiveIntegerField(_("повторов"), default=0)
    acknowledged_at = models.DateTimeField(_("квитирована"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cleared_at = models.DateTimeField(_("снята"), null=True, blank=True)
    # back to normal before anybody acknowledged it: stays active until seen, then clears
    normal_since = models.DateTimeField(_("в норме с"), null=True, blank=True)

    class Meta:
        verbose_name = _("тревога")
        verbose_name_plural = _("тревоги")
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["object", "rule"],
                condition=~models.Q(state=AlarmState.CLEARED),
                name="one_open_alarm_per_object_and_rule",
            )
        ]

    def __str__(self):
        return f"{self.rule} — {self.object}"


class AlarmEvent(models.Model):
    """The alarm's timeline: raised, back to normal, acknowledged, cleared (repeats only count)."""

    alarm = models.ForeignKey(Alarm, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16)
    at = models.DateTimeField()
    actor = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    value = models.FloatField(null=True, blank=True)
    note = models.CharField(max_length=400, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)  # when the platform knew

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.alarm_id} {self.kind} {self.at:%Y-%m-%d %H:%M:%S}"


class Outage(models.Model):
    """Buildings left without a service by a failure on an object: the appeals it causes are linked
    to it, answered together and told when it ends. One active outage per object."""

    object = models.ForeignKey(
        EngineeringObject, verbose_name=_("объект"), on_delete=models.PROTECT, related_name="outages"
    )
    alarm = models.ForeignKey(
        Alarm,
        verbose_name=_("тревога"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outages",
    )
    services = models.JSONField(_("услуги"), default=list, help_text=str(Service.choices))
    state = models.CharField(
        _("состояние"), max_length=16, choices=OutageState.choices, default=OutageState.ACTIVE
    )
    started_at = models.DateTimeField(_("началось"))
    expected_end_at = models.DateTimeField(_("плановое восстановление"), null=True, blank=True)
    ended_at = models.DateTimeField(_("закончилось"), null=True, blank=True)
    buildings = models.ManyToManyField(Building, verbose_name=_("здания"), blank=True, related_name="+")
    topics = models.ManyToManyField(
        "appeals.Topic", verbose_name=_("темы обращений"), blank=True, related_name="+"
    )
    radius_m = models.PositiveIntegerField(_("радиус, м"), default=0)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    public_note = models.TextField(_("сообщение жителям"), blank=True)
    opened_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    appeals = models.ManyToManyField(
        "appeals.Appeal", through="OutageAppeal", related_name="outages", verbose_name=_("обращения")
    )

    class Meta:
        verbose_name = _("аварийное отключение")
        verbose_name_plural = _("аварийные отключения")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["object"], condition=models.Q(state="active"), name="one_active_outage_per_object"
            )
        ]

    def __str__(self):
        return f"{self.object} с {self.started_at:%d.%m.%Y %H:%M}"

    def services_display(self) -> str:
        labels = dict(Service.choices)
        return ", ".join(str(labels.get(code, code)) for code in self.services)


class OutageAppeal(models.Model):
    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="links")
    appeal = models.ForeignKey("appeals.Appeal", on_delete=models.CASCADE, related_name="outage_links")
    linked_at = models.DateTimeField(default=timezone.now)
    automatic = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["outage", "appeal"], name="outage_appeal_once")]

    def __str__(self):
        return f"{self.outage_id} ← {self.appeal_id}"


class OutageEvent(models.Model):
    """The outage's timeline: opened (by an alarm or by a dispatcher), an appeal linked to it, an
    interim answer given to all its appeals, ended with the final answer; who did it, when, what
    they wrote and how many appeals were answered or left alone."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("событие"), max_length=16, choices=OutageEventKind.choices)
    at = models.DateTimeField(_("когда"))
    actor = models.ForeignKey(
        "core.User", verbose_name=_("кто"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    appeal = models.ForeignKey(
        "appeals.Appeal",
        verbose_name=_("обращение"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    note = models.TextField(_("текст"), blank=True)
    data = models.JSONField(_("данные"), default=dict, blank=True)

    class Meta:
        verbose_name = _("событие отключения")
        verbose_name_plural = _("события отключений")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.outage_id} {self.kind} {self.at:%Y-%m-%d %H:%M:%S}"
