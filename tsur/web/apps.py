from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class WebConfig(AppConfig):
    name = "tsur.web"
    label = "web"
    verbose_name = "Веб-интерфейс"

    def ready(self):
        from tsur.appeals.models import ThematicBlock, Topic
        from tsur.core.models import Organisation, Territory

        from . import options

        for model in (Topic, ThematicBlock, Organisation, Territory):  # the selects' options
            post_save.connect(options.changed, sender=model, dispatch_uid=f"options-{model.__name__}-save")
            post_delete.connect(
                options.changed, sender=model, dispatch_uid=f"options-{model.__name__}-delete"
            )
