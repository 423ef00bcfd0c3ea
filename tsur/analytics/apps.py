from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "tsur.analytics"
    label = "analytics"
    verbose_name = _("Аналитика и ситуационный центр")
