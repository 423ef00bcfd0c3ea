"""Who is told about what (subscriptions of services such as the ЕДДС) and every delivery with its
state: stored before it is attempted, so nothing is lost while a channel or the worker is down.

Notify knows no domain: the apps above compose their notices and hand them here (dispatch in
`tsur.dispatch.notices`, the register in `tsur.appeals.notifications`)."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tsur.core import outbound

from .choices import SEVERITY_RANK, ChannelKind, DeliveryState, Severity, Topic


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
    topics = models.JSONField(
        _("события"),
        default=list,
        help_text=_("коды событий: alarm_raised, outage_opened, outage_ended"),
    )
    min_severity = models.CharField(
        _("начиная с важности"), max_length=16, choices=Severity.choices, default=Severity.WARNING
    )
    object_kinds = models.JSONField(
        _("типы объектов"),
        default=list,
        blank=True,
        help_text=_('коды типов инженерных объектов, например ["boiler_house", "substation"]; пусто — любые'),
    )
    is_active = models.BooleanField(_("действует"), default=True)

    class Meta:
        verbose_name = _("подписка службы")
        verbose_name_plural = _("подписки служб")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.get_channel_display()})"

    def clean(self):
        if self.channel == ChannelKind.WEBHOOK:
            try:
                outbound.check_url(self.address, what="Адрес веб-хука")
            except outbound.BlockedAddress as refusal:
                raise ValidationError({"address": refusal.message}) from None

    def wants(self, topic: str, severity: str, object_kind: str) -> bool:
        return (
            self.is_active
            and topic in self.topics
            and SEVERITY_RANK.get(severity, 0) >= SEVERITY_RANK.get(self.min_severity, 0)
            and (not self.object_kinds or object_kind in self.object_kinds)
        )


class Delivery(models.Model):
    """One notice to one recipient, with where it stands: pending, sent, retrying after an error, or
    given up (what operators look for in the admin). The recipient is a subscription's channel and
    address, or a channel and address of its own (the register writes to an organisation, its
    supervisors or a citizen directly)."""

    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("подписка"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    channel = models.CharField(_("канал"), max_length=16, choices=ChannelKind.choices, blank=True)
    address = models.CharField(_("адрес"), max_length=500, blank=True)
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
        constraints = [
            models.CheckConstraint(
                condition=models.Q(subscription__isnull=False)
                | (~models.Q(channel="") & ~models.Q(address="")),
                name="delivery_has_a_recipient",
            )
        ]

    def __str__(self):
        return f"{self.recipient()} — {self.subject}"

    def target(self) -> tuple[str, str]:
        """The channel and address it goes to: its own, else its subscription's (read at each attempt,
        so a corrected subscription takes effect on the next retry)."""
        if self.address:
            return self.channel, self.address
        return self.subscription.channel, self.subscription.address

    def recipient(self) -> str:
        return str(self.subscription) if self.subscription_id else self.address
