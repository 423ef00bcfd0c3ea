from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo region: built from a real export through the other apps' actions, above all of them
    (no app imports it)."""

    name = "tsur.demo"
    label = "demo"
    verbose_name = "Демо-регион"
