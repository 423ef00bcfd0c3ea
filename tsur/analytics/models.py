from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
