from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "tsur.analytics"
    label = "analytics"
    verbose_name = _("Аналитика и ситуационный центр")

    def ready(self):
        from tsur.appeals import signals

        from . import facts

        signals.events_recorded.connect(facts.events_recorded, dispatch_uid="analytics-facts")
