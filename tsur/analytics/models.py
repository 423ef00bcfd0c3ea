"""What the analytics keep: one fact row per appeal derived from its timeline (tsur.analytics.facts),
the weekly reports archived with their subscribers (tsur.analytics.report), and the spike detector's
signals (signal_models)."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tsur.appeals.choices import Channel, Status
from tsur.appeals.models import Appeal, ThematicBlock, Topic
from tsur.core.models import Organisation, Territory
from tsur.core.scopes import RestrictedQuerySet

# what the KPIs count and the drill-downs select by (kpi.conditions): held by both indexes of a period
COUNTED = [
    "status",
    "resolution_due",
    "first_response_due",
    "first_response_at",
    "answered",
    "answered_on_time",
    "ever_answered",
    "first_response_wsec",
    "resolution_wsec",
    "reopened",
    "redirected",
    "auto_routed",
    "rating",
    "confirmed",
    "repeat",
]


class AppealFactQuerySet(RestrictedQuerySet):
    """Facts as far as a user's scope reaches: a supervisor's organisation (and its subordinates), a
    territory's appeals, the whole region."""

    scope_lookups = {"organisation": "organisation", "territory": "territory"}


class AppealFact(models.Model):
    """One appeal as the KPIs count it: its dimensions and the times and flags read from its
    timeline. Never the truth itself: recomputed from the appeal's events whenever one is written
    (`facts.refresh`), and all at once by `tsur analytics_rebuild`. What depends on the moment of
    reading (overdue now) is not stored: the deadline is, and the query compares it with now."""

    appeal = models.OneToOneField(Appeal, primary_key=True, on_delete=models.CASCADE, related_name="fact")
    registered_at = models.DateTimeField(_("зарегистрировано"))
    channel = models.CharField(_("канал"), max_length=16, choices=Channel.choices)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    territory = models.ForeignKey(
        Territory, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # the municipality: the territory's ancestor right below the region (a district, an urban okrug)
    municipality = models.ForeignKey(
        Territory, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    block = models.ForeignKey(
        ThematicBlock, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    topic = models.ForeignKey(
        Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # the place a repeat is looked for at: "b<building id>", else the address as typed, lower case
    place_key = models.CharField(max_length=200, blank=True)
    status = models.CharField(_("статус"), max_length=16, choices=Status.choices)
    resolution_due = models.DateTimeField(_("срок решения"), null=True, blank=True)
    first_response_due = models.DateTimeField(_("срок первого ответа"), null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)  # the last answer given
    answered = models.BooleanField(default=False)  # the last answer stands (answered or closed)
    answered_on_time = models.BooleanField(default=False)
    ever_answered = models.BooleanField(default=False)
    first_response_wsec = models.PositiveIntegerField(null=True, blank=True)  # working seconds
    resolution_wsec = models.PositiveIntegerField(null=True, blank=True)
    reopened = models.PositiveSmallIntegerField(default=0)
    redirected = models.PositiveSmallIntegerField(default=0)
    auto_routed = models.BooleanField(default=False)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    confirmed = models.BooleanField(default=False)
    repeat = models.BooleanField(default=False)
    refreshed_at = models.DateTimeField()

    objects = AppealFactQuerySet.as_manager()

    class Meta:
        verbose_name = _("показатели обращения")
        verbose_name_plural = _("показатели обращений")
        indexes = [
            # the KPI tables read a period of facts with every column they count (PostgreSQL: an
            # index-only scan of the period)
            models.Index(
                fields=["registered_at"],
                include=["organisation", "municipality", "block", "topic", "channel", *COUNTED],
                name="fact_registered",
            ),
            # an organisation's period with what the drill-down conditions read (kpi.conditions) and
            # the appeal's key: the facts behind a figure of one organisation found by an index-only
            # scan, before any appeal is read (decision 0035: «reopened» at 1,000,000, 12.8 → 4.7 ms)
            models.Index(
                fields=["organisation", "registered_at"],
                include=["appeal", *COUNTED],
                name="fact_org_drill",
            ),
            models.Index(fields=["topic", "place_key", "registered_at"], name="fact_repeat"),
        ]

    def __str__(self):
        return f"{self.appeal_id}"


class ReportState(models.TextChoices):
    MAKING = "making", _("готовится")
    READY = "ready", _("готов")
    FAILED = "failed", _("не удался")


class WeeklyReport(models.Model):
    """The governor's Monday report for one week (Monday to Sunday, the region's time), archived with
    the HTML and the PDF it was made as. Made by the periodic job on Monday morning or on demand; made
    again on demand, it replaces the week's earlier version."""

    week_start = models.DateField(_("неделя с"), unique=True)
    state = models.CharField(
        _("состояние"), max_length=16, choices=ReportState.choices, default=ReportState.MAKING
    )
    requested_at = models.DateTimeField(_("заказан"), default=timezone.now)
    made_at = models.DateTimeField(_("готов"), null=True, blank=True)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("заказал"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("пусто — по расписанию"),
    )
    html = models.TextField(_("HTML"), blank=True)
    pdf = models.FileField(_("PDF"), upload_to="reports/", blank=True)
    pdf_size = models.PositiveIntegerField(_("размер PDF, байт"), default=0)
    mailed_at = models.DateTimeField(_("разослан"), null=True, blank=True)
    error = models.CharField(_("ошибка"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("еженедельный доклад")
        verbose_name_plural = _("еженедельные доклады")
        ordering = ["-week_start"]

    def __str__(self):
        return f"{_('Доклад за неделю с')} {self.week_start:%d.%m.%Y}"

    @property
    def week_end(self):
        """The week's Sunday."""
        return self.week_start + timedelta(days=6)


class ReportSubscription(models.Model):
    """Someone who receives the weekly report by e-mail (a link to it in the archive: the report itself
    stays behind sign-in)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("получатель"), on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("подписан"), default=timezone.now)

    class Meta:
        verbose_name = _("подписка на доклад")
        verbose_name_plural = _("подписки на доклад")

    def __str__(self):
        return str(self.user)


from .signal_models import Signal  # noqa: E402 — the spike detector's model lives with its concept

__all__ = ["AppealFact", "ReportState", "ReportSubscription", "Signal", "WeeklyReport"]
