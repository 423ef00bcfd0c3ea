from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "tsur.notify"
    label = "notify"
    verbose_name = "Оповещения служб"
