from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "tsur.web"
    label = "web"
    verbose_name = "Веб-интерфейс"
