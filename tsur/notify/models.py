"""Who is told about what (subscriptions of services such as the ЕДДС) and every delivery with its
state: stored before it is attempted, so nothing is lost while a channel or the worker is down."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tsur.dispatch.choices import ObjectKind, Severity


class ChannelKind(models.TextChoices):
    EMAIL = "email", _("электронная почта")
    WEBHOOK = "webhook", _("веб-хук с подписью")
    TELEGRAM = "telegram", _("бот в мессенджере")


class Topic(models.TextChoices):
    ALARM_RAISED = "alarm_raised", _("тревога на объекте")
    OUTAGE_OPENED = "outage_opened", _("аварийное отключение")
    OUTAGE_ENDED = "outage_ended", _("отключение устранено")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("ожидает отправки")
    SENT = "sent", _("доставлено")
    RETRYING = "retrying", _("повтор после ошибки")
    FAILED = "failed", _("не доставлено")


SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class Subscription(models.Model):
    """A service to tell: by which channel, where, about which events, from which severity and for
    which kinds of objects (none chosen: every kind)."""

    name = models.CharField(_("служба"), max_length=200)
    channel = models.CharField(_("канал"), max_length=16, choices=ChannelKind.choices)
    address = models.CharField(
        _("адрес"), max_length=500, help_text=_("e-mail, URL веб-хука или идентификатор чата")
    )
    secret_env = models.CharField(
        _("переменная окружения с секретом"),
        max_length=64,
        blank=True,
        help_text=_("для веб-хука: имя переменной с ключом подписи (по умолчанию TSUR_WEBHOOK_SECRET)"),
    )
    topics = models.JSONField(_("события"), default=list, help_text=str(Topic.values))
    min_severity = models.CharField(
        _("начиная с важности"), max_length=16, choices=Severity.choices, default=Severity.WARNING
    )
    object_kinds = models.JSONField(
        _("типы объектов"), default=list, blank=True, help_text=str(ObjectKind.values)
    )
    is_active = models.BooleanField(_("действует"), default=True)

    class Meta:
        verbose_name = _("подписка службы")
        verbose_name_plural = _("подписки служб")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.get_channel_display()})"

    def wants(self, topic: str, severity: str, object_kind: str) -> bool:
        return (
            self.is_active
            and topic in self.topics
            and SEVERITY_RANK.get(severity, 0) >= SEVERITY_RANK.get(self.min_severity, 0)
            and (not self.object_kinds or object_kind in self.object_kinds)
        )


class Delivery(models.Model):
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    topic = models.CharField(_("событие"), max_length=32, choices=Topic.choices)
    subject = models.CharField(_("тема"), max_length=300)
    text = models.TextField(_("текст"))
    payload = models.JSONField(_("данные"), default=dict)
    state = models.CharField(
        _("состояние"), max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("попыток"), default=0)
    next_attempt_at = models.DateTimeField(_("следующая попытка"), default=timezone.now)
    last_error = models.CharField(_("последняя ошибка"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("создано"), default=timezone.now)
    sent_at = models.DateTimeField(_("доставлено"), null=True, blank=True)

    class Meta:
        verbose_name = _("доставка оповещения")
        verbose_name_plural = _("доставки оповещений")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="delivery_due")]

    def __str__(self):
        return f"{self.subscription} — {self.subject}"
