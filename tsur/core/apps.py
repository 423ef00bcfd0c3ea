from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tsur.core"
    label = "core"
    verbose_name = "Справочники и пользователи"
