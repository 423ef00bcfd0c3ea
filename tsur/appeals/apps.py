from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class AppealsConfig(AppConfig):
    name = "tsur.appeals"
    label = "appeals"
    verbose_name = "Обращения"

    def ready(self):
        from .api.serializers import forget_topics
        from .models import ThematicBlock, Topic

        for model in (Topic, ThematicBlock):  # the intake remembers the rubricator for seconds
            post_save.connect(forget_topics, sender=model, dispatch_uid=f"topics-{model.__name__}-save")
            post_delete.connect(forget_topics, sender=model, dispatch_uid=f"topics-{model.__name__}-delete")
