from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "tsur.dispatch"
    label = "dispatch"
    verbose_name = "Диспетчеризация"
