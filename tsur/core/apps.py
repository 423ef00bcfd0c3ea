from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class CoreConfig(AppConfig):
    name = "tsur.core"
    label = "core"
    verbose_name = "Справочники и пользователи"

    def ready(self):
        from .api import authentication
        from .models import Organisation, RoleAssignment, Territory, remembered_assignments

        # roles and the paths of their organisations and territories are remembered for seconds
        for model in (RoleAssignment, Organisation, Territory):
            post_save.connect(
                remembered_assignments.changed, sender=model, dispatch_uid=f"scopes-{model.__name__}-save"
            )
            post_delete.connect(
                remembered_assignments.changed, sender=model, dispatch_uid=f"scopes-{model.__name__}-delete"
            )
        authentication.connect()
