"""What dispatch does when the register speaks (connected in `DispatchConfig.ready`)."""

import logging

from . import actions

log = logging.getLogger(__name__)


def link_to_outages(sender, appeal, **kwargs) -> None:
    """`appeal_placed`: a new or re-routed appeal may be about an active outage."""
    try:
        actions.link_new_appeal(appeal)
    except Exception:  # the appeal is registered; a missed link can be made from the outage's page
        log.exception("appeal %s could not be checked against active outages", appeal.pk)
