from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "tsur.dispatch"
    label = "dispatch"
    verbose_name = "Диспетчеризация"

    def ready(self):
        from tsur.appeals.signals import appeal_placed

        from . import receivers

        appeal_placed.connect(receivers.link_to_outages, dispatch_uid="dispatch-outage-links")
