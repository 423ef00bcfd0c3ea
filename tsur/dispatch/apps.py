import logging

from django.apps import AppConfig

log = logging.getLogger(__name__)


def _link_to_outages(sender, appeal, **kwargs):
    from . import outages

    try:
        outages.link_new_appeal(appeal)
    except Exception:  # the appeal is registered; a missed link can be made from the outage's page
        log.exception("appeal %s could not be checked against active outages", appeal.pk)


class DispatchConfig(AppConfig):
    name = "tsur.dispatch"
    label = "dispatch"
    verbose_name = "Диспетчеризация"

    def ready(self):
        from tsur.appeals.signals import appeal_placed

        appeal_placed.connect(_link_to_outages, dispatch_uid="dispatch-outage-links")
