from django.apps import AppConfig


class AppealsConfig(AppConfig):
    name = "tsur.appeals"
    label = "appeals"
    verbose_name = "Обращения"
