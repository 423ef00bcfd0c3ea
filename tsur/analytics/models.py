"""What the analytics keep: one fact row per appeal, derived from its timeline (tsur.analytics.facts)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from tsur.appeals.choices import Channel, Status
from tsur.appeals.models import Appeal, ThematicBlock, Topic
from tsur.core.models import Organisation, Territory
from tsur.core.scopes import RestrictedQuerySet


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
                include=[
                    "organisation",
                    "municipality",
                    "block",
                    "topic",
                    "channel",
                    "status",
                    "resolution_due",
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
                ],
                name="fact_registered",
            ),
            models.Index(fields=["organisation", "registered_at"], name="fact_org_registered"),
            models.Index(fields=["topic", "place_key", "registered_at"], name="fact_repeat"),
        ]

    def __str__(self):
        return f"{self.appeal_id}"


from .signal_models import Signal  # noqa: E402 — the spike detector's model lives with its concept

__all__ = ["AppealFact", "Signal"]
