from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class AppealsConfig(AppConfig):
    name = "tsur.appeals"
    label = "appeals"
    verbose_name = "Обращения"

    def ready(self):
        from tsur.core.models import Building, Organisation, Territory

        from . import deadlines, route_confidence, routing, rubricator, search, understanding
        from .models import ChannelRegulation, RoutingCalibration, RoutingRule, ThematicBlock, Topic

        for model in (Topic, ThematicBlock):  # the intake remembers the rubricator for seconds
            post_save.connect(
                rubricator.remembered.changed, sender=model, dispatch_uid=f"topics-{model.__name__}-save"
            )
            post_delete.connect(
                rubricator.remembered.changed, sender=model, dispatch_uid=f"topics-{model.__name__}-delete"
            )
        for model in (RoutingRule, Organisation, Territory):  # and the routing table
            post_save.connect(routing.changed, sender=model, dispatch_uid=f"routing-{model.__name__}-save")
            post_delete.connect(
                routing.changed, sender=model, dispatch_uid=f"routing-{model.__name__}-delete"
            )
        m2m_changed.connect(
            routing.changed,
            sender=Organisation.territories.through,
            dispatch_uid="routing-served-territories",
        )
        # and what the text model's guesses are resolved to (topics, organisations, districts, streets)
        for model in (Topic, ThematicBlock, Organisation, Territory):
            post_save.connect(
                understanding.reference_changed,
                sender=model,
                dispatch_uid=f"understanding-{model.__name__}-save",
            )
            post_delete.connect(
                understanding.reference_changed,
                sender=model,
                dispatch_uid=f"understanding-{model.__name__}-delete",
            )
        post_save.connect(
            understanding.buildings_changed, sender=Building, dispatch_uid="understanding-Building-save"
        )
        post_delete.connect(
            understanding.buildings_changed, sender=Building, dispatch_uid="understanding-Building-delete"
        )
        # and the houses the console's search found for an address typed
        post_save.connect(search.HOUSES.changed, sender=Building, dispatch_uid="search-Building-save")
        post_delete.connect(search.HOUSES.changed, sender=Building, dispatch_uid="search-Building-delete")
        # and how far intake trusts its own routing
        post_save.connect(
            route_confidence.calibration_changed,
            sender=RoutingCalibration,
            dispatch_uid="routing-calibration-save",
        )
        post_delete.connect(
            route_confidence.calibration_changed,
            sender=RoutingCalibration,
            dispatch_uid="routing-calibration-delete",
        )
        # and the deadlines a region sets per channel
        post_save.connect(
            deadlines.regulations.changed, sender=ChannelRegulation, dispatch_uid="channel-regulation-save"
        )
        post_delete.connect(
            deadlines.regulations.changed, sender=ChannelRegulation, dispatch_uid="channel-regulation-delete"
        )
