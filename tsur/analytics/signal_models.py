"""A signal of the anomaly detector (tsur.analytics.anomalies): a topic rising in a territory far
above its own baseline, with the appeals behind it and the outage that explains it."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from tsur.appeals.models import Appeal, Topic
from tsur.core.models import Territory
from tsur.dispatch.models import Outage


class Signal(models.Model):
    """More appeals on a topic in a territory within a window than its baseline (the same weekday
    and hours of the previous weeks, scaled by the topic's trend in the region) makes plausible:
    P(X ≥ observed | baseline) below the detector's threshold. Raised once per series and window;
    analysts and the territory's supervisors are told once, when it is raised."""

    topic = models.ForeignKey(Topic, verbose_name=_("тема"), on_delete=models.CASCADE, related_name="+")
    territory = models.ForeignKey(
        Territory, verbose_name=_("территория"), on_delete=models.CASCADE, related_name="+"
    )
    window_start = models.DateTimeField(_("окно: начало"))
    window_end = models.DateTimeField(_("окно: конец"))
    observed = models.PositiveIntegerField(_("поступило"))
    expected = models.FloatField(_("ожидалось"))
    p_value = models.FloatField(_("вероятность случайности"))
    # the counts of the same window in the previous weeks, newest first, and the trend factor
    baseline = models.JSONField(_("база"), default=dict)
    appeals = models.ManyToManyField(Appeal, verbose_name=_("обращения"), blank=True, related_name="+")
    outage = models.ForeignKey(
        Outage,
        verbose_name=_("объясняющее отключение"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    raised_at = models.DateTimeField(_("выявлено"))
    notified = models.PositiveIntegerField(_("оповещено адресатов"), default=0)

    class Meta:
        verbose_name = _("всплеск обращений")
        verbose_name_plural = _("всплески обращений")
        ordering = ["-window_end", "-pk"]
        indexes = [models.Index(fields=["window_end"], name="signal_window_end")]
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "territory", "window_end"], name="signal_once_per_series_window"
            )
        ]

    def __str__(self):
        return f"{self.topic} / {self.territory}: {self.observed} (≈{self.expected:.1f})"
