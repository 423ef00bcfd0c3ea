"""How far intake may trust itself to route: the calibration fitted on held-out appeals.
Imported by tsur.appeals.models (Django finds models there)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RoutingCalibration(models.Model):
    """What held-out appeals showed about intake's own routing (`tsur routing_measure`): the weights
    turning what the sources say about an organisation into the probability that it is the right one,
    the precision of routing to the territory's administration when no rule applies, and the figures
    it was measured with. The latest one is used."""

    fitted_at = models.DateTimeField(_("рассчитано"))
    model_version = models.CharField(_("версия модели текста"), max_length=64, blank=True)
    source = models.CharField(_("на чём рассчитано"), max_length=300, blank=True)
    data = models.JSONField(_("данные"), default=dict)

    class Meta:
        verbose_name = _("калибровка маршрутизации")
        verbose_name_plural = _("калибровки маршрутизации")

    def __str__(self):
        return f"{self.fitted_at:%Y-%m-%d %H:%M} ({self.source})"
