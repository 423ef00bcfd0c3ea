"""Deadlines a region sets per channel, over the topic's regulation: a social post must be answered
in working hours, not days. Imported by tsur.appeals.models (Django finds models there)."""

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import Channel


class ChannelRegulation(models.Model):
    """The region's rule for the first reply on one channel, in working hours (4 when urgent), and
    how long the work may take after an interim answer. Where a channel has a rule, the first-response
    deadline is the rule's; the resolution deadline stays the topic's (never past 59-ФЗ), and after an
    interim answer it is no later than `after_interim_days` calendar days."""

    channel = models.CharField(_("канал"), max_length=16, choices=Channel.choices, unique=True)
    first_response_hours = models.PositiveIntegerField(
        _("первый ответ, рабочих часов"), default=9, validators=[MinValueValidator(1)]
    )
    urgent_first_response_hours = models.PositiveIntegerField(
        _("первый ответ при высоком приоритете, рабочих часов"), default=4, validators=[MinValueValidator(1)]
    )
    after_interim_days = models.PositiveIntegerField(
        _("решение после промежуточного ответа, не позже чем через (дней)"),
        default=7,
        validators=[MinValueValidator(1)],
    )
    is_active = models.BooleanField(_("действует"), default=True)

    class Meta:
        verbose_name = _("срок по каналу")
        verbose_name_plural = _("сроки по каналам")
        ordering = ["channel"]

    def __str__(self):
        return f"{self.get_channel_display()}: {self.first_response_hours} ч"
