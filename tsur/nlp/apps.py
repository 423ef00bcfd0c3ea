from django.apps import AppConfig


class NlpConfig(AppConfig):
    name = "tsur.nlp"
    label = "nlp"
    verbose_name = "Понимание текста"
